package templates

import (
	"errors"
	"fmt"
	"time"
)

// The mail servers a CredentialData may be about.
const (
	ServerIMAP = "imap" // reading the claims mailbox
	ServerSMTP = "smtp" // sending mail
)

// CredentialData tells supervisors that a mail server's provider no longer
// accepts claimsd's OAuth2 credential (the refresh token was revoked or
// expired, or the application's client secret expired), what stops until
// someone authorises claimsd again, and how.
type CredentialData struct {
	Server   string    // ServerIMAP or ServerSMTP
	Account  string    // the login, e.g. reklamacje@example.com
	Provider string    // google or microsoft, named in the text; "" for another
	Since    time.Time // when it was first refused, in the configured zone
	// Reason is what the provider said, on one line, e.g. "invalid_grant:
	// AADSTS70000: The provided grant has expired…"; may be empty.
	Reason string
	// RefreshTokenFile is where the new refresh token goes; "" names the
	// configuration key instead.
	RefreshTokenFile string
	Organization     string
}

// Credential renders the mail to supervisors that d.Server refuses
// claimsd's credential since d.Since.
func (s *Set) Credential(lang string, d CredentialData) (Rendered, string, error) {
	switch {
	case d.Server != ServerIMAP && d.Server != ServerSMTP:
		return Rendered{}, "", fmt.Errorf("templates: credential: Server %q is neither %q nor %q", d.Server, ServerIMAP, ServerSMTP)
	case d.Account == "":
		return Rendered{}, "", errors.New("templates: credential: empty Account")
	case d.Since.IsZero():
		return Rendered{}, "", errors.New("templates: credential: zero Since")
	}
	return s.render(lang, nameCredential, d)
}

// credentialSamples are the data the credential templates are checked
// with at Load: each server, every optional field set and none.
func credentialSamples() []any {
	full := CredentialData{
		Server:           ServerIMAP,
		Account:          "reklamacje@example.com",
		Provider:         "microsoft",
		Since:            time.Date(2025, time.October, 30, 9, 5, 0, 0, time.UTC),
		Reason:           "invalid_grant: AADSTS70000: The provided grant has expired due to it being revoked.",
		RefreshTokenFile: "/var/lib/claimsd/imap-refresh-token",
		Organization:     "Sklep sp. z o.o.",
	}
	smtp := full
	smtp.Server, smtp.Provider, smtp.RefreshTokenFile = ServerSMTP, "google", "/var/lib/claimsd/smtp-refresh-token"
	return []any{
		full, smtp,
		CredentialData{Server: ServerIMAP, Account: full.Account, Since: full.Since},
		CredentialData{Server: ServerSMTP, Account: full.Account, Since: full.Since},
	}
}
