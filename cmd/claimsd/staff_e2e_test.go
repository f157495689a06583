package main

import (
	"encoding/json"
	"fmt"
	"net/smtp"
	"strings"
	"testing"
	"time"

	"github.com/claimsd/claimsd/internal/mailtest"
	"github.com/claimsd/claimsd/message"
	"github.com/claimsd/claimsd/store"
	"github.com/emersion/go-imap/v2"
	"github.com/emersion/go-imap/v2/imapclient"
)

// TestSpecialistWorksFromMail: a new case is assigned and mailed to the
// specialist; her reply with commands reaches the customer without the
// commands; a forged staff mail from outside changes nothing; her direct
// answer with the claims address in copy is recorded, not sent again; a
// mistyped command is reported to her and applies nothing.
func TestSpecialistWorksFromMail(t *testing.T) {
	const (
		annaUser, annaPass = "anna@example.test", "anna-pw"
		custUser, custPass = "jan@klient.test", "jan-pw"
	)
	d, p := mailtest.StartMailStack(t, stackDomain,
		mailtest.User{Name: claimsUser, Password: claimsPass}, mailtest.User{Name: annaUser, Password: annaPass},
		mailtest.User{Name: custUser, Password: custPass})
	cfg := writeStackConfig(t, t.TempDir(), d, p.SubmissionPort, fmt.Sprintf(`staff:
  - {name: Anna Nowak, email: %s, role: specialist}
staff_auth:
  authserv_ids: [%s]
  domains: [%s]
assignment:
  teams: [{name: obsluga, members: [%s]}]
  rules: [{team: obsluga}]
`, annaUser, p.AuthservID, stackDomain, annaUser))
	startDaemon(t, cfg)
	submit := func(user, pass string, to []string, raw string) {
		t.Helper()
		if err := smtp.SendMail(p.SubmissionAddr, smtp.PlainAuth("", user, pass, "127.0.0.1"), user, to, []byte(raw)); err != nil {
			t.Fatalf("submit as %s: %v", user, err)
		}
	}
	mailFrom := func(from, to, cc, subject, inReplyTo, body string) string {
		h := fmt.Sprintf("From: %s\r\nTo: %s\r\n", from, to)
		if cc != "" {
			h += "Cc: " + cc + "\r\n"
		}
		if inReplyTo != "" {
			h += "In-Reply-To: <" + inReplyTo + ">\r\n"
		}
		return h + fmt.Sprintf("Subject: %s\r\nMessage-ID: <%d@example.test>\r\nDate: %s\r\nMIME-Version: 1.0\r\nContent-Type: text/plain; charset=utf-8\r\nContent-Transfer-Encoding: 8bit\r\n\r\n%s\r\n",
			subject, time.Now().UnixNano(), time.Now().Format(time.RFC1123Z), body)
	}
	inbox := func(user, pass string, n int, what string) []*message.Parsed {
		t.Helper()
		var got []*message.Parsed
		waitFor(t, 30*time.Second, what, func() bool {
			got = mailboxMessages(t, d, user, pass)
			return len(got) >= n
		})
		return got
	}
	caseNow := func() caseView {
		t.Helper()
		var v caseView
		out := mustCLI(t, "--config", cfg, "cases", "show", "CLM-2026-000001", "--json")
		if err := jsonUnmarshal(out, &v); err != nil {
			t.Fatal(err)
		}
		return v
	}

	// 1. The complaint is assigned; Anna gets it.
	sendSMTP(t, p.SMTPAddr, custUser, []string{claimsUser}, complaint("Jan Kowalski <"+custUser+">", "Pęknięty ekran",
		"c1@klient.test", "Ekran pękł po tygodniu. Proszę o naprawę."))
	assignment := inbox(annaUser, annaPass, 1, "the assignment mail")[0]
	if !strings.Contains(assignment.Subject, "[CLM-2026-000001]") || len(assignment.ReplyTo) == 0 || assignment.ReplyTo[0].Addr != claimsUser ||
		!strings.Contains(assignment.Text, "Ekran pękł po tygodniu") {
		t.Fatalf("assignment mail: subject %q reply-to %v\n%s", assignment.Subject, assignment.ReplyTo, assignment.Text)
	}
	inbox(custUser, custPass, 1, "the acknowledgement")

	// 2. Anna replies to it: commands, then the answer.
	submit(annaUser, annaPass, []string{claimsUser}, mailFrom("Anna Nowak <"+annaUser+">", claimsUser, "", "Re: "+assignment.Subject, assignment.MessageID,
		"#status waiting\r\n#decision accepted\r\n\r\nDzień dobry, prosimy o zdjęcie pękniętego ekranu.\r\nAnna Nowak"))
	got := inbox(custUser, custPass, 2, "the relayed answer")
	answer := got[1]
	if !strings.Contains(answer.Text, "prosimy o zdjęcie") || strings.Contains(answer.Text, "#status") ||
		answer.From.Addr != claimsUser || !strings.Contains(answer.From.Name, "Anna Nowak") ||
		answer.Subject != "Re: Pęknięty ekran [CLM-2026-000001]" || strings.Join(answer.InReplyTo, "") != "c1@klient.test" {
		t.Errorf("relayed answer: from %v subject %q in-reply-to %v\n%s", answer.From, answer.Subject, answer.InReplyTo, answer.Text)
	}
	v := caseNow()
	if v.Status != store.StatusWaiting || v.Decision != "accepted" || v.Assignee != annaUser || v.FirstAnsweredAt.IsZero() || v.LegalAnsweredAt.IsZero() {
		t.Errorf("case after the answer: status %s decision %s assignee %s answered %v legal %v", v.Status, v.Decision, v.Assignee, v.FirstAnsweredAt, v.LegalAnsweredAt)
	}

	// 3. A forger writes as Anna from outside, with a made-up
	// Authentication-Results header claiming our server's id.
	forged := mailFrom("Anna Nowak <"+annaUser+">", claimsUser, "", "Re: Pęknięty ekran [CLM-2026-000001]", "",
		"#status resolved\r\n\r\nSprawa zamknięta, zwrot na konto 00 1111.")
	forged = fmt.Sprintf("Authentication-Results: %s; dkim=pass header.d=%s; dmarc=pass header.from=%s\r\n", p.AuthservID, stackDomain, stackDomain) + forged
	sendSMTP(t, p.SMTPAddr, "mallory@evil.test", []string{claimsUser}, forged)
	waitFor(t, 30*time.Second, "the forged mail in the case", func() bool { return len(caseNow().MessageList) >= 3 })
	v = caseNow()
	last := v.MessageList[len(v.MessageList)-1]
	if v.Status != store.StatusWaiting || !strings.HasPrefix(last.Answer, "security:") {
		t.Errorf("after the forged mail: status %s, answer %q", v.Status, last.Answer)
	}

	// 4. Anna answers Jan directly, the claims address in copy.
	submit(annaUser, annaPass, []string{custUser, claimsUser}, mailFrom("Anna Nowak <"+annaUser+">", custUser, claimsUser,
		"Re: Pęknięty ekran [CLM-2026-000001]", "c1@klient.test", "Dziękujemy za zdjęcia, wymienimy ekran."))
	waitFor(t, 30*time.Second, "the copy in the case", func() bool { return len(caseNow().MessageList) >= 4 })
	if a := caseNow().MessageList[3].Answer; !strings.Contains(a, "claims address in copy") {
		t.Errorf("copy mode answer %q", a)
	}

	// 5. A mistyped command: reported to Anna, nothing applied.
	submit(annaUser, annaPass, []string{claimsUser}, mailFrom("Anna Nowak <"+annaUser+">", claimsUser, "",
		"Re: Pęknięty ekran [CLM-2026-000001]", "", "#stauts resolved\r\n\r\nZamykamy."))
	annas := inbox(annaUser, annaPass, 2, "the command error")
	if e := annas[len(annas)-1]; !strings.Contains(e.Text, "#stauts") {
		t.Errorf("command error mail:\n%s", e.Text)
	}
	if v := caseNow(); v.Status != store.StatusWaiting {
		t.Errorf("a refused command changed the status to %s", v.Status)
	}
	p.WaitQueueEmpty(t, 10*time.Second)
	// Jan: the acknowledgement, the relayed answer, Anna's direct mail.
	if n := len(mailboxMessages(t, d, custUser, custPass)); n != 3 {
		t.Errorf("customer has %d mails, want 3", n)
	}
}

func jsonUnmarshal(s string, v any) error { return json.Unmarshal([]byte(s), v) }

// TestSharedMailboxAnswer: a specialist answers from the claims mailbox
// itself; the client files the answer in Sent (found by its \Sent
// attribute), and claimsd records it as the case's answer. claimsd's own
// acknowledgement filed there too is recognised and is no answer.
func TestSharedMailboxAnswer(t *testing.T) {
	const custUser, custPass = "jan@klient.test", "jan-pw"
	d, p := mailtest.StartMailStack(t, stackDomain,
		mailtest.User{Name: claimsUser, Password: claimsPass}, mailtest.User{Name: custUser, Password: custPass})
	cfg := writeStackConfig(t, t.TempDir(), d, p.SubmissionPort, "answering:\n  shared_mailbox: true\n")
	sendSMTP(t, p.SMTPAddr, custUser, []string{claimsUser}, complaint("Jan <"+custUser+">", "Zepsuta pralka", "w1@klient.test", "Pralka nie wiruje."))
	waitFor(t, 10*time.Second, "the complaint in the claims mailbox", func() bool { return len(mailboxMessages(t, d, claimsUser, claimsPass)) == 1 })
	mustCLI(t, "--config", cfg, "run", "--once")
	p.WaitQueueEmpty(t, 10*time.Second)

	// The specialist's client sends the answer and files it in Sent; a
	// server like Gmail files claimsd's acknowledgement there as well.
	answer := fmt.Sprintf("From: Dział Reklamacji <%s>\r\nTo: %s\r\nSubject: Re: Zepsuta pralka [CLM-2026-000001]\r\nMessage-ID: <shared-1@example.test>\r\nIn-Reply-To: <w1@klient.test>\r\nDate: %s\r\nContent-Type: text/plain; charset=utf-8\r\n\r\nWyślemy serwisanta w czwartek.\r\n",
		claimsUser, custUser, time.Now().Format(time.RFC1123Z))
	if n := len(mailboxMessages(t, d, custUser, custPass)); n != 1 {
		t.Fatalf("customer has %d mails before the answer, want the acknowledgement", n)
	}
	sendSMTP(t, p.SMTPAddr, claimsUser, []string{custUser}, answer)
	c, err := imapclient.DialInsecure(d.Addr, nil)
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	if err := c.Login(claimsUser, claimsPass).Wait(); err != nil {
		t.Fatal(err)
	}
	ackRaw := rawOfFirst(t, d, custUser, custPass)
	for _, raw := range [][]byte{ackRaw, []byte(answer)} {
		cmd := c.Append("Sent", int64(len(raw)), nil)
		cmd.Write(raw)
		cmd.Close()
		if _, err := cmd.Wait(); err != nil {
			t.Fatal(err)
		}
	}
	out := mustCLI(t, "--config", cfg, "run", "--once")
	if !strings.Contains(out, "sent folder: fetched 2") {
		t.Fatalf("run: %s", out)
	}
	var v caseView
	if err := jsonUnmarshal(mustCLI(t, "--config", cfg, "cases", "show", "CLM-2026-000001", "--json"), &v); err != nil {
		t.Fatal(err)
	}
	if v.FirstAnsweredAt.IsZero() || len(v.MessageList) != 3 {
		t.Fatalf("case: answered %v, %d messages", v.FirstAnsweredAt, len(v.MessageList))
	}
	answers := []string{v.MessageList[1].Answer, v.MessageList[2].Answer}
	if !strings.Contains(strings.Join(answers, "|"), "our own mail (outbox 1) seen in Sent") ||
		!strings.Contains(strings.Join(answers, "|"), "answer sent from the shared mailbox; recorded") {
		t.Errorf("answers %q", answers)
	}
}

// rawOfFirst returns the raw bytes of the first message in user's INBOX.
func rawOfFirst(t *testing.T, d *mailtest.Dovecot, user, pass string) []byte {
	t.Helper()
	c, err := imapclient.DialInsecure(d.Addr, nil)
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	if err := c.Login(user, pass).Wait(); err != nil {
		t.Fatal(err)
	}
	if _, err := c.Select("INBOX", &imap.SelectOptions{ReadOnly: true}).Wait(); err != nil {
		t.Fatal(err)
	}
	msgs, err := c.Fetch(imap.SeqSetNum(1), &imap.FetchOptions{BodySection: []*imap.FetchItemBodySection{{Peek: true}}}).Collect()
	if err != nil || len(msgs) != 1 || len(msgs[0].BodySection) != 1 {
		t.Fatalf("fetch: %v", err)
	}
	return msgs[0].BodySection[0].Bytes
}
