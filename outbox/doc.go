// Package outbox owns every mail claimsd sends: deciding whether an
// automatic mail may go out (loop and rate safety), composing it
// (threading headers, the case tag, headers that stop auto-responders),
// queueing it in the store in the same transaction as the case change that
// causes it, and delivering it over SMTP with backoff.
package outbox
