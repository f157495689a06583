package main

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"log/slog"
	"mime"
	"net"
	"net/mail"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/claimsd/claimsd/config"
	"github.com/claimsd/claimsd/internal/oauthtest"
	"github.com/claimsd/claimsd/oauthtoken"
	"github.com/claimsd/claimsd/outbox"
	"github.com/claimsd/claimsd/store"
)

// oauthSetup is a claims desk that logs in to IMAP and SMTP with XOAUTH2,
// each server with its own provider: IMAP's rotates refresh tokens (as
// Microsoft does), SMTP's does not (as Google).
type oauthSetup struct {
	imapTokens, smtpTokens *oauthtest.TokenServer
	imap                   *oauthtest.IMAPServer
	smtp                   *oauthtest.SMTPServer
	imapRefresh            string // the refresh token files
	smtpRefresh            string
	cfg                    *config.Config
}

const (
	oauthUser       = "reklamacje@sklep.example"
	oauthSupervisor = "piotr@sklep.example"
)

func startOAuthSetup(t *testing.T) *oauthSetup {
	t.Helper()
	dir := t.TempDir()
	s := &oauthSetup{
		imapTokens:  oauthtest.NewTokenServer(t, "claimsd-imap", "imap-Client-Secret"),
		smtpTokens:  oauthtest.NewTokenServer(t, "claimsd-smtp", "smtp-Client-Secret"),
		imapRefresh: filepath.Join(dir, "imap-refresh-token"),
		smtpRefresh: filepath.Join(dir, "smtp-refresh-token"),
	}
	s.imapTokens.SetRotate(true)
	s.imap = oauthtest.StartIMAP(t, oauthUser, s.imapTokens)
	s.smtp = oauthtest.StartSMTP(t, oauthUser, s.smtpTokens)
	writeSecret(t, s.imapRefresh, s.imapTokens.Grant())
	writeSecret(t, s.smtpRefresh, s.smtpTokens.Grant())
	writeSecret(t, filepath.Join(dir, "imap-client-secret"), "imap-Client-Secret")
	writeSecret(t, filepath.Join(dir, "smtp-client-secret"), "smtp-Client-Secret")
	imapHost, imapPort, _ := net.SplitHostPort(s.imap.Addr)
	smtpHost, smtpPort, _ := net.SplitHostPort(s.smtp.Addr)
	yaml := fmt.Sprintf(`data_dir: data
claims_address: %[1]s
imap:
  host: %[2]s
  port: %[3]s
  security: none
  username: %[1]s
  auth: xoauth2
  oauth2:
    token_url: %[4]s
    scopes: [https://outlook.office.com/IMAP.AccessAsUser.All, offline_access]
    client_id: claimsd-imap
    client_secret_file: imap-client-secret
    refresh_token_file: imap-refresh-token
smtp:
  host: %[5]s
  port: %[6]s
  security: none
  username: %[1]s
  auth: xoauth2
  oauth2:
    token_url: %[7]s
    client_id: claimsd-smtp
    client_secret_file: smtp-client-secret
    refresh_token_file: smtp-refresh-token
  from: "Dział Reklamacji <%[1]s>"
outbox:
  retry_initial: 1s
staff:
  - {name: Anna Nowak, email: anna@sklep.example, role: specialist}
  - {name: Piotr Wiśniewski, email: %[8]s, role: supervisor}
`, oauthUser, imapHost, imapPort, s.imapTokens.URL, smtpHost, smtpPort, s.smtpTokens.URL, oauthSupervisor)
	path := filepath.Join(dir, "claimsd.yaml")
	writeSecret(t, path, yaml)
	cfg, err := config.Load(path)
	if err != nil {
		t.Fatal(err)
	}
	s.cfg = cfg
	return s
}

func writeSecret(t *testing.T, path, content string) {
	t.Helper()
	if err := os.WriteFile(path, []byte(content+"\n"), 0o600); err != nil {
		t.Fatal(err)
	}
}

func (s *oauthSetup) open(t *testing.T) *daemon {
	t.Helper()
	d, err := openDaemon(s.cfg, slog.New(slog.NewTextHandler(io.Discard, nil)), time.Now)
	if err != nil {
		t.Fatal(err)
	}
	return d
}

// credentialFailures runs the daemon's health checks and returns the
// failures about OAuth2 credentials (the others, such as the mailbox
// check, judge a watcher that runs only once here).
func credentialFailures(d *daemon) []string {
	var out []string
	for _, check := range d.healthChecks {
		if err := check(time.Now()); err != nil && strings.Contains(err.Error(), ".oauth2:") {
			out = append(out, err.Error())
		}
	}
	return out
}

// credentialMails lists the queued or sent mails about refused
// credentials.
func credentialMails(t *testing.T, d *daemon) []store.OutboxItem {
	t.Helper()
	var out []store.OutboxItem
	err := d.db.View(func(tx *store.Tx) error {
		items, err := tx.ListOutbox(store.OutboxFilter{})
		for _, it := range items {
			if it.Purpose == outbox.PurposeCredential {
				out = append(out, it)
			}
		}
		return err
	})
	if err != nil {
		t.Fatal(err)
	}
	return out
}

// decodedSubject is the Subject of a raw message, RFC 2047 words decoded.
func decodedSubject(t *testing.T, raw []byte) string {
	t.Helper()
	m, err := mail.ReadMessage(bytes.NewReader(raw))
	if err != nil {
		t.Fatal(err)
	}
	subject, err := new(mime.WordDecoder).DecodeHeader(m.Header.Get("Subject"))
	if err != nil {
		t.Fatal(err)
	}
	return subject
}

func fileToken(t *testing.T, path string) string {
	t.Helper()
	data, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	return strings.TrimSpace(string(data))
}

// TestOAuth2CredentialRefused runs the daemon's mailbox watcher and sender
// against in-process IMAP and SMTP servers that take only XOAUTH2: mail is
// read and sent with access tokens and IMAP's rotated refresh token is
// saved; a revoked IMAP grant shows in the health checks and gets the
// supervisor exactly one mail across retries and a restart, delivered
// through SMTP; a new grant written to the file ends the episode without a
// restart, and a second revocation is a second mail. A revoked SMTP grant
// gets its own mail, which waits in the outbox.
func TestOAuth2CredentialRefused(t *testing.T) {
	ctx := context.Background()
	s := startOAuthSetup(t)
	s.imap.Append(t, []byte("From: Jan Kowalski <jan@example.net>\r\nTo: "+oauthUser+"\r\nSubject: Reklamacja\r\n"+
		"Message-ID: <oauth-1@example.net>\r\nDate: "+time.Now().Format(time.RFC1123Z)+"\r\n\r\nEkran pękł po tygodniu.\r\n"), time.Now())
	d := s.open(t)
	defer func() { d.Close() }()

	runIMAP := func(wantRefused bool) {
		t.Helper()
		_, err := d.watcher.RunOnce(ctx)
		if wantRefused != (err != nil) || oauthtoken.Refused(err) != wantRefused {
			t.Fatalf("RunOnce: %v (Refused %v), want refused %v", err, oauthtoken.Refused(err), wantRefused)
		}
	}
	wantCredentialMails := func(n int) {
		t.Helper()
		if got := len(credentialMails(t, d)); got != n {
			t.Fatalf("%d credential mails queued, want %d", got, n)
		}
	}

	// Logging in with fresh tokens; IMAP's rotated refresh token is saved.
	runIMAP(false)
	if got, want := fileToken(t, s.imapRefresh), s.imapTokens.RefreshToken(); got != want {
		t.Errorf("refresh token file holds %q, want the rotated %q", got, want)
	}
	if s.imap.Logins() != 1 || s.imapTokens.LastScope() != "https://outlook.office.com/IMAP.AccessAsUser.All offline_access" {
		t.Errorf("%d logins, scope %q", s.imap.Logins(), s.imapTokens.LastScope())
	}
	if sent, _, err := d.sender.RunOnce(ctx); err != nil || sent.Sent != 1 || len(s.smtp.Messages()) != 1 {
		t.Fatalf("sending the acknowledgement: %+v, %v; server got %d", sent, err, len(s.smtp.Messages()))
	}
	if f := credentialFailures(d); len(f) != 0 {
		t.Errorf("health fails with working credentials: %q", f)
	}

	// The IMAP grant is revoked: one mail however often it is retried.
	s.imapTokens.Revoke()
	for range 3 {
		runIMAP(true)
	}
	wantCredentialMails(1)
	f := credentialFailures(d)
	if len(f) != 1 || !strings.Contains(f[0], "imap.oauth2: the provider refuses claimsd's credential for "+oauthUser) ||
		!strings.Contains(f[0], "invalid_grant: "+oauthtest.Revoked) || !strings.Contains(f[0], s.imapRefresh) {
		t.Errorf("health failures %q", f)
	}

	// A restart remembers both the problem and the mail.
	d.Close()
	d = s.open(t)
	if f := credentialFailures(d); len(f) != 1 {
		t.Errorf("after a restart, before any attempt: health failures %q", f)
	}
	runIMAP(true)
	wantCredentialMails(1)

	// The mail goes out through SMTP, whose credential works.
	if sent, _, err := d.sender.RunOnce(ctx); err != nil || sent.Sent != 1 {
		t.Fatalf("sending the credential mail: %+v, %v", sent, err)
	}
	msgs := s.smtp.Messages()
	last := msgs[len(msgs)-1]
	if subject := decodedSubject(t, last.Data); !slices.Equal(last.To, []string{oauthSupervisor}) ||
		subject != "claimsd nie może odczytać skrzynki reklamacji: autoryzacja wygasła lub została cofnięta" {
		t.Errorf("credential mail to %v, subject %q", last.To, subject)
	}

	// A new grant written to the file: the next attempt works, no restart.
	writeSecret(t, s.imapRefresh, s.imapTokens.Grant())
	runIMAP(false)
	if f := credentialFailures(d); len(f) != 0 {
		t.Errorf("health still fails after the new grant: %q", f)
	}
	// Revoked again: a new episode, a new mail.
	s.imapTokens.Revoke()
	runIMAP(true)
	runIMAP(true)
	wantCredentialMails(2)

	// The SMTP grant is revoked: its own mail, which cannot go out and
	// waits, and says so; retries add none.
	s.smtpTokens.Revoke()
	for range 2 {
		if _, _, err := d.sender.RunOnce(ctx); err != nil {
			t.Fatal(err)
		}
	}
	mails := credentialMails(t, d)
	if len(mails) != 3 {
		t.Fatalf("%d credential mails, want 3", len(mails))
	}
	smtpMail := mails[2]
	if smtpMail.Status == store.OutboxFailed || smtpMail.Status == store.OutboxSent ||
		!strings.Contains(smtpMail.Text, "Ta wiadomość\nrównież tam czeka") || !strings.Contains(smtpMail.Subject, "nie może wysyłać poczty") {
		t.Errorf("SMTP credential mail %s: %q\n%s", smtpMail.Status, smtpMail.Subject, smtpMail.Text)
	}
	if f := credentialFailures(d); len(f) != 2 || !strings.HasPrefix(f[1], "smtp.oauth2: ") {
		t.Errorf("health failures %q, want imap and smtp", f)
	}
}
