// Package mailbox owns the IMAP side of intake: connecting (TLS verified by
// default), logging in, following one mailbox by UID across reconnects and
// UIDVALIDITY changes, waiting for new mail with IDLE or polling, and marking
// messages processed once the caller has committed them. It never deletes
// mail. It knows nothing of cases: it hands raw messages to a Sink.
package mailbox

import (
	"context"
	"io"
	"time"
)

// Security is how the connection is protected.
type Security string

const (
	SecurityTLS      Security = "tls"      // implicit TLS, usually port 993
	SecuritySTARTTLS Security = "starttls" // plain connect, then STARTTLS (required)
	SecurityNone     Security = "none"     // plain text; config allows it only for loopback hosts
)

// Options configure one watched mailbox. The password arrives resolved;
// it is never logged.
type Options struct {
	Host     string
	Port     int // 0 means 993 for tls, else 143
	Security Security
	// InsecureSkipVerify disables TLS certificate checks (config allows it
	// only for loopback hosts, for test servers with self-signed certs).
	InsecureSkipVerify bool
	Username           string
	Password           string
	// Tokens, when set, logs in with SASL XOAUTH2 (Gmail, Microsoft 365)
	// and an access token from it instead of Password.
	Tokens  TokenSource
	Mailbox string // e.g. "INBOX" (the default)
	IDLE    bool   // use IDLE when the server offers it
	// PollInterval is how often to look for new mail when IDLE is off or
	// missing; 0 means DefaultPollInterval.
	PollInterval time.Duration
	// ProcessedKeyword is set on a message after it is committed
	// (default "$ClaimsdProcessed"). It must be an IMAP atom.
	ProcessedKeyword string
	// MoveTo, when set, moves a committed message to this mailbox after
	// the keyword is set: with MOVE, or COPY and a UID EXPUNGE of just
	// that message when the server has UIDPLUS; without either the
	// message stays, keyword set. The mailbox must exist.
	MoveTo string
	// BatchSize caps how many messages one FETCH asks for; 0 means 500.
	BatchSize int
	// FlushEvery is how many delivered messages the watcher lets a sink
	// hold before it asks for a Flush; 0 means DefaultFlushEvery.
	FlushEvery int
}

// Fetched is one message as the server holds it. Body streams the raw
// RFC 5322 bytes; it is valid only during the Deliver call.
type Fetched struct {
	Mailbox      string
	UIDValidity  uint32
	UID          uint32
	InternalDate time.Time
	Size         int64
	Body         io.Reader
}

// Cursor is where following a mailbox resumes.
type Cursor struct {
	UIDValidity uint32
	LastUID     uint32 // highest UID committed; fetch resumes at LastUID+1
}

// Sink receives messages. Deliver takes one message (reading Body before
// it returns) and may hold it; Flush makes every message delivered so far
// durable, in delivery order, moves the cursor past them and returns their
// UIDs. Only UIDs returned by Flush are marked processed on the server. The
// watcher calls Flush every Options.FlushEvery messages and at the end of each fetch,
// so the sink can commit a group in one transaction. An error from either
// stops the batch; the watcher reconnects and retries after a backoff, so the
// sink must be idempotent for a message it already committed.
//
// After a Deliver or Flush error the watcher calls nothing else in that
// cycle: messages delivered but not flushed are delivered again after the
// reconnect, so a sink must tolerate seeing a held UID twice. Deliver and
// Flush get a context that stays live when the watcher is told to stop:
// the message in hand is finished and flushed before it returns. All
// methods are called from one goroutine at a time.
type Sink interface {
	Cursor(ctx context.Context, mailbox string) (Cursor, error)
	// ResetCursor is called when the server's UIDVALIDITY differs from the
	// stored one: every stored UID is void, fetching restarts from UID 1
	// and the sink's own deduplication keeps messages from doubling.
	ResetCursor(ctx context.Context, mailbox string, uidValidity uint32) error
	Deliver(ctx context.Context, m Fetched) error
	Flush(ctx context.Context) (committed []uint32, err error)
	// PendingMarks lists UIDs committed but not yet marked on the server
	// (a crash can fall between the two); MarksDone forgets them.
	PendingMarks(ctx context.Context, mailbox string, uidValidity uint32) ([]uint32, error)
	MarksDone(ctx context.Context, mailbox string, uidValidity uint32, uids []uint32) error
}

// DefaultFlushEvery is larger than the default FETCH window, so a sink
// that commits in the background (as intake does) is asked to wait only
// once per window.
const DefaultFlushEvery = 1024
