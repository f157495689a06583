package outbox

import (
	"time"

	"github.com/claimsd/claimsd/store"
	"github.com/claimsd/claimsd/templates"
)

// PurposeCredential is the mail telling supervisors that a mail server
// refuses claimsd's OAuth2 credential.
const PurposeCredential = "credential"

// CredentialProblem is a mail provider refusing claimsd's OAuth2
// credential for one server.
type CredentialProblem struct {
	Server   string // templates.ServerIMAP or templates.ServerSMTP
	Account  string // the login
	Provider string // google, microsoft or ""
	Since    time.Time
	// Reason is what the provider said, on one line; no secrets.
	Reason           string
	RefreshTokenFile string
}

// NotifyCredential queues, in tx, the mail about p to every supervisor
// (else the team address) and returns how many it queued. Sending it once
// per failure is the caller's business. A mail about SMTP waits in the
// outbox until sending works again, as its text says.
func (r *Responder) NotifyCredential(tx *store.Tx, p CredentialProblem, now time.Time) (int, error) {
	lang := r.set.Templates.DefaultLanguage()
	body, used, err := r.set.Templates.Credential(lang, templates.CredentialData{
		Server: p.Server, Account: p.Account, Provider: p.Provider, Since: p.Since.In(r.set.Location),
		Reason: p.Reason, RefreshTokenFile: p.RefreshTokenFile, Organization: r.set.Organization,
	})
	if err != nil {
		return 0, err
	}
	to := r.supervisors()
	for _, a := range to {
		if err := r.queueStaff(tx, nil, PurposeCredential, a, body, used, now); err != nil {
			return 0, err
		}
	}
	return len(to), nil
}
