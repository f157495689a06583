package main

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"mime"
	"net/smtp"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/claimsd/claimsd/internal/mailtest"
	"github.com/claimsd/claimsd/message"
	"github.com/claimsd/claimsd/store"
	"github.com/emersion/go-imap/v2"
	"github.com/emersion/go-imap/v2/imapclient"
)

// The mail stack of these tests: Dovecot holds the mailboxes, Postfix
// delivers into it by LMTP and takes claimsd's mail on its submission
// port (SASL through Dovecot), so an acknowledgement is read from the
// customer's own mailbox.
const (
	stackDomain = "example.test"
	claimsUser  = "claims@example.test"
	claimsPass  = "claims-pw"
	janUser     = "jan@example.test"
	janPass     = "jan-pw"
)

// writeStackConfig writes a configuration reading claims@ from d and
// sending through p's submission port as claims@, with VERP.
func writeStackConfig(t testing.TB, dir string, d *mailtest.Dovecot, smtpPort int, extra string) string {
	t.Helper()
	pw := filepath.Join(dir, "password")
	if err := os.WriteFile(pw, []byte(claimsPass+"\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	cfg := fmt.Sprintf(`data_dir: %s
timezone: Europe/Warsaw
claims_address: %s
log: {level: info}
imap:
  host: 127.0.0.1
  port: %d
  security: none
  username: %s
  password_file: %s
  poll_interval: 5s
smtp:
  host: 127.0.0.1
  port: %d
  security: none
  username: %s
  password_file: %s
  from: "Dział Reklamacji <%s>"
  verp: true
organization:
  name: Sklep Testowy
outbox:
  retry_initial: 1s
%s`, filepath.Join(dir, "data"), claimsUser, d.IMAPPort, claimsUser, pw, smtpPort, claimsUser, pw, claimsUser, extra)
	p := filepath.Join(dir, "claimsd.yaml")
	if err := os.WriteFile(p, []byte(cfg), 0o600); err != nil {
		t.Fatal(err)
	}
	return p
}

// startDaemon runs `claimsd run` in-process until the test ends.
func startDaemon(t testing.TB, cfg string) {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	var out, errOut bytes.Buffer
	go func() {
		defer close(done)
		if code := run(ctx, []string{"--config", cfg, "run"}, &out, &errOut); code != 0 {
			t.Errorf("daemon exit %d: %s", code, errOut.String())
		}
	}()
	t.Cleanup(func() {
		cancel()
		select {
		case <-done:
		case <-time.After(15 * time.Second):
			t.Error("daemon did not stop")
		}
		if t.Failed() {
			t.Logf("daemon log:\n%s", errOut.String())
		}
	})
}

// sendSMTP submits raw to Postfix's plain port, as another mail server
// would deliver it.
func sendSMTP(t testing.TB, addr, from string, to []string, raw string) {
	t.Helper()
	if err := smtp.SendMail(addr, nil, from, to, []byte(raw)); err != nil {
		t.Fatalf("send to %v: %v", to, err)
	}
}

// mailboxMessages reads every message of user's INBOX, parsed.
func mailboxMessages(t testing.TB, d *mailtest.Dovecot, user, pass string) []*message.Parsed {
	t.Helper()
	c, err := imapclient.DialInsecure(d.Addr, nil)
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	if err := c.Login(user, pass).Wait(); err != nil {
		t.Fatal(err)
	}
	sel, err := c.Select("INBOX", &imap.SelectOptions{ReadOnly: true}).Wait()
	if err != nil {
		t.Fatal(err)
	}
	if sel.NumMessages == 0 {
		return nil
	}
	bufs, err := c.Fetch(imap.SeqSet{imap.SeqRange{Start: 1, Stop: 0}}, &imap.FetchOptions{
		BodySection: []*imap.FetchItemBodySection{{Peek: true}},
	}).Collect()
	if err != nil {
		t.Fatal(err)
	}
	var out []*message.Parsed
	for _, b := range bufs {
		for _, sec := range b.BodySection {
			p, err := message.Parse(bytes.NewReader(sec.Bytes), nil)
			if err != nil {
				t.Fatalf("parse message %d of %s: %v", b.SeqNum, user, err)
			}
			out = append(out, p)
		}
	}
	return out
}

// waitFor polls cond until it holds or the timeout passes.
func waitFor(t testing.TB, timeout time.Duration, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(timeout)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out after %s waiting for %s", timeout, what)
		}
		time.Sleep(50 * time.Millisecond)
	}
}

func listOutbox(t testing.TB, cfg string) []store.OutboxItem {
	t.Helper()
	var stdout, stderr bytes.Buffer
	code := run(context.Background(), []string{"--config", cfg, "outbox", "list", "--json"}, &stdout, &stderr)
	out, errOut := stdout.String(), stderr.String()
	if code != 0 {
		t.Fatalf("outbox list: %d %s", code, errOut)
	}
	var items []store.OutboxItem
	if err := json.Unmarshal([]byte(out), &items); err != nil {
		t.Fatal(err)
	}
	return items
}

// complaint is a mail as a client writes it: the subject RFC 2047-encoded,
// the body 8-bit UTF-8.
func complaint(from, subject, id, body string) string {
	return fmt.Sprintf("From: %s\r\nTo: %s\r\nSubject: %s\r\nMessage-ID: <%s>\r\nDate: %s\r\nMIME-Version: 1.0\r\nContent-Type: text/plain; charset=utf-8\r\nContent-Transfer-Encoding: 8bit\r\n\r\n%s\r\n",
		from, claimsUser, mime.QEncoding.Encode("utf-8", subject), id, time.Now().Format(time.RFC1123Z), body)
}

// TestAcknowledgementReachesCustomer: a complaint sent to the claims
// address through Postfix is acknowledged once, in the customer's own
// mailbox, threaded under their message; their reply gets no second one.
func TestAcknowledgementReachesCustomer(t *testing.T) {
	d, p := mailtest.StartMailStack(t, stackDomain,
		mailtest.User{Name: claimsUser, Password: claimsPass}, mailtest.User{Name: janUser, Password: janPass})
	cfg := writeStackConfig(t, t.TempDir(), d, p.SubmissionPort, "")
	startDaemon(t, cfg)

	sendSMTP(t, p.SMTPAddr, janUser, []string{claimsUser}, complaint("Jan Kowalski <"+janUser+">", "Pęknięty ekran",
		"c1@example.test", "Dzień dobry, ekran telefonu pękł po tygodniu. Proszę o naprawę."))
	var got []*message.Parsed
	t.Cleanup(func() {
		if t.Failed() {
			t.Logf("postfix log:\n%s\ndovecot log:\n%s", p.LogTail(30), d.LogTail(30))
		}
	})
	waitFor(t, 30*time.Second, "the acknowledgement in jan's INBOX", func() bool {
		got = mailboxMessages(t, d, janUser, janPass)
		return len(got) > 0
	})
	ack := got[0]
	h := ack.Header
	checks := map[string]bool{
		"subject":                  ack.Subject == "Re: Pęknięty ekran [CLM-2026-000001]",
		"In-Reply-To":              strings.Join(ack.InReplyTo, " ") == "c1@example.test",
		"References":               strings.Join(ack.References, " ") == "c1@example.test",
		"Auto-Submitted":           h.Get("Auto-Submitted") == "auto-replied",
		"X-Auto-Response-Suppress": h.Get("X-Auto-Response-Suppress") == "All",
		"loop header":              h.Get("X-Claimsd-Loop") != "",
		"Thread-Index":             h.Get("Thread-Index") != "",
		"our Message-ID":           strings.HasPrefix(ack.MessageID, "CLM-2026-000001."),
		"VERP return path":         strings.HasPrefix(ack.ReturnPath, "claims+b-1-"),
		"case number in text":      strings.Contains(ack.Text, "CLM-2026-000001"),
		"polish":                   strings.Contains(ack.Text, "Dzień dobry"),
	}
	for what, ok := range checks {
		if !ok {
			t.Errorf("acknowledgement: %s wrong; header %v, return path %q\n%s", what, h, ack.ReturnPath, ack.Text)
		}
	}
	cases := listCases(t, cfg)
	if len(cases) != 1 || cases[0].LegalDue == "" || !strings.Contains(ack.Text, dueWords(t, cases[0].LegalDue)) {
		t.Fatalf("cases %+v", cases)
	}

	// Jan replies from his mail client: the reply joins the case and
	// gets no acknowledgement of its own.
	sendSMTP(t, p.SMTPAddr, janUser, []string{claimsUser}, strings.Replace(complaint(janUser, "Re: "+ack.Subject, "c2@example.test",
		"W załączeniu paragon."), "MIME-Version", "In-Reply-To: <"+ack.MessageID+">\r\nMIME-Version", 1))
	waitFor(t, 30*time.Second, "the reply in the case", func() bool {
		cs := listCases(t, cfg)
		return len(cs) == 1 && cs[0].Messages == 2
	})
	time.Sleep(time.Second)
	if items := listOutbox(t, cfg); len(items) != 1 || items[0].Status != store.OutboxSent {
		t.Errorf("outbox after the reply: %+v", items)
	}
	if n := len(mailboxMessages(t, d, janUser, janPass)); n != 1 {
		t.Errorf("jan has %d mails, want the one acknowledgement", n)
	}
}

// dueWords is how the Polish template writes a YYYY-MM-DD date.
func dueWords(t testing.TB, date string) string {
	t.Helper()
	d, err := time.Parse(time.DateOnly, date)
	if err != nil {
		t.Fatal(err)
	}
	months := []string{"stycznia", "lutego", "marca", "kwietnia", "maja", "czerwca", "lipca", "sierpnia", "września", "października", "listopada", "grudnia"}
	return fmt.Sprintf("%d %s %d", d.Day(), months[d.Month()-1], d.Year())
}

// TestVacationResponderLoopStops puts a real Sieve vacation responder on
// the customer's mailbox. Our acknowledgement must not trigger it, and its
// reply to a human mail from the claims address must not be answered: at
// most one automatic mail each way.
func TestVacationResponderLoopStops(t *testing.T) {
	d, p := mailtest.StartMailStack(t, stackDomain,
		mailtest.User{Name: claimsUser, Password: claimsPass}, mailtest.User{Name: janUser, Password: janPass})
	d.SetVacation(t, janUser, "Urlop", "Jestem na urlopie do poniedziałku.")
	cfg := writeStackConfig(t, t.TempDir(), d, p.SubmissionPort, "")
	startDaemon(t, cfg)

	sendSMTP(t, p.SMTPAddr, janUser, []string{claimsUser}, complaint(janUser, "Zepsuty czajnik", "k1@example.test", "Czajnik przecieka, proszę o wymianę."))
	waitFor(t, 30*time.Second, "the acknowledgement", func() bool { return len(mailboxMessages(t, d, janUser, janPass)) >= 1 })
	// A person at the claims desk writes to Jan outside claimsd: his
	// vacation answers that one.
	sendSMTP(t, p.SMTPAddr, claimsUser, []string{janUser}, fmt.Sprintf("From: %s\r\nTo: %s\r\nSubject: Pytanie o czajnik\r\nMessage-ID: <human1@example.test>\r\nDate: %s\r\n\r\nCzy czajnik był używany z filtrem?\r\n",
		claimsUser, janUser, time.Now().Format(time.RFC1123Z)))
	waitFor(t, 30*time.Second, "the vacation reply in the claims mailbox", func() bool {
		for _, m := range mailboxMessages(t, d, claimsUser, claimsPass) {
			if m.Header.Get("Auto-Submitted") != "" {
				return true
			}
		}
		return false
	})
	// Give a loop time to start, then count.
	time.Sleep(3 * time.Second)
	p.WaitQueueEmpty(t, 10*time.Second)
	autoToJan, autoToClaims := 0, 0
	for _, m := range mailboxMessages(t, d, janUser, janPass) {
		if v := m.Header.Get("Auto-Submitted"); v != "" && v != "no" {
			autoToJan++
		}
	}
	for _, m := range mailboxMessages(t, d, claimsUser, claimsPass) {
		if v := m.Header.Get("Auto-Submitted"); v != "" && v != "no" {
			autoToClaims++
		}
	}
	if autoToJan != 1 || autoToClaims != 1 {
		t.Errorf("automatic mails: %d to the customer, %d to the claims desk; want 1 and 1", autoToJan, autoToClaims)
	}
	if items := listOutbox(t, cfg); len(items) != 1 {
		t.Errorf("outbox holds %d mails, want the one acknowledgement: %+v", len(items), items)
	}
}

// TestPostfixBounceMarksCustomerUnreachable: the acknowledgement to an
// address that does not exist is accepted by submission and bounced by
// Postfix; the DSN, addressed to the VERP sender, comes back into the
// claims mailbox, is linked to the mail and marks the case. Nobody answers
// the bounce.
func TestPostfixBounceMarksCustomerUnreachable(t *testing.T) {
	d, p := mailtest.StartMailStack(t, stackDomain, mailtest.User{Name: claimsUser, Password: claimsPass})
	cfg := writeStackConfig(t, t.TempDir(), d, p.SubmissionPort, "")
	startDaemon(t, cfg)
	sendSMTP(t, p.SMTPAddr, "ghost@example.test", []string{claimsUser}, complaint("ghost@example.test", "Nie działa", "g1@example.test", "Pralka nie działa."))
	var cs []store.Case
	waitFor(t, 60*time.Second, "the case to be marked unreachable", func() bool {
		cs = listCases(t, cfg)
		return len(cs) == 1 && cs[0].CustomerUnreachable
	})
	if !strings.Contains(cs[0].UnreachableNote, "ghost@example.test") {
		t.Errorf("note %q", cs[0].UnreachableNote)
	}
	items := listOutbox(t, cfg)
	if len(items) != 1 || items[0].Status != store.OutboxBounced || !strings.HasPrefix(items[0].BounceDetail, "ghost@example.test failed 5.") {
		t.Fatalf("outbox %+v", items)
	}
	var shown caseView
	if err := json.Unmarshal([]byte(mustCLI(t, "--config", cfg, "cases", "show", cs[0].ID, "--json")), &shown); err != nil {
		t.Fatal(err)
	}
	if n := len(shown.MessageList); n != 2 || shown.MessageList[1].Kind != "bounce" {
		t.Errorf("case messages %d", n)
	}
	time.Sleep(time.Second)
	if n := len(listOutbox(t, cfg)); n != 1 {
		t.Errorf("%d outbox items: the bounce was answered", n)
	}
}

// TestRecipientRefusedAtRCPT: a server that refuses the recipient at once
// (550) makes the mail failed and the customer unreachable.
func TestRecipientRefusedAtRCPT(t *testing.T) {
	d, p := mailtest.StartMailStack(t, stackDomain, mailtest.User{Name: claimsUser, Password: claimsPass})
	dir := t.TempDir()
	cfg := writeStackConfig(t, dir, d, p.SMTPPort, "")
	// The plain port takes no AUTH: send without a login.
	raw, _ := os.ReadFile(cfg)
	noAuth := strings.Replace(string(raw), "  username: "+claimsUser+"\n  password_file: "+filepath.Join(dir, "password")+"\n  from:", "  from:", 1)
	os.WriteFile(cfg, []byte(noAuth), 0o600)
	startDaemon(t, cfg)
	sendSMTP(t, p.SMTPAddr, "ghost@example.test", []string{claimsUser}, complaint("ghost@example.test", "Nie działa", "g2@example.test", "Pralka nie działa."))
	waitFor(t, 30*time.Second, "the refusal", func() bool {
		items := listOutbox(t, cfg)
		return len(items) == 1 && items[0].Status == store.OutboxFailed
	})
	if cs := listCases(t, cfg); !cs[0].CustomerUnreachable || !strings.Contains(cs[0].UnreachableNote, "550") {
		t.Errorf("case %+v", cs[0])
	}
}
