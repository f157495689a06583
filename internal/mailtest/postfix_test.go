package mailtest

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"mime"
	"mime/multipart"
	"net"
	"net/mail"
	netsmtp "net/smtp"
	"os"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/emersion/go-imap/v2"
	"github.com/emersion/go-sasl"
	"github.com/emersion/go-smtp"
)

const stackDomain = "example.test"

var (
	claims   = User{"claims@example.test", "claims-pw"}
	customer = User{"customer@example.test", "customer-pw"}
	someone  = User{"someone@example.test", "someone-pw"}
	robot    = User{"robot@example.test", "robot-pw"}
	jan      = User{"jan@example.test", "jan-pw"}
)

// Postfix relays a few mails in well under a second; generous for a
// loaded 2-core CI machine.
const deliveryTimeout = 15 * time.Second

// plainMail is a message as a mail client would write it.
func plainMail(from, to, subject, msgID string, extra ...string) []byte {
	var b strings.Builder
	fmt.Fprintf(&b, "From: %s\r\nTo: %s\r\nSubject: %s\r\nMessage-ID: %s\r\n", from, to, subject, msgID)
	b.WriteString("Date: " + time.Now().Format(time.RFC1123Z) + "\r\n")
	for _, h := range extra {
		b.WriteString(h + "\r\n")
	}
	b.WriteString("MIME-Version: 1.0\r\nContent-Type: text/plain; charset=utf-8\r\n\r\n")
	b.WriteString("The parcel arrived damaged.\r\n")
	return []byte(b.String())
}

// dialSMTP connects and says EHLO; with auth it authenticates too.
func dialSMTP(t testing.TB, addr string, auth *User) *smtp.Client {
	t.Helper()
	c, err := smtp.Dial(addr)
	if err != nil {
		t.Fatalf("dial %s: %v", addr, err)
	}
	t.Cleanup(func() { c.Close() })
	if err := c.Hello("client.example.test"); err != nil {
		t.Fatalf("EHLO %s: %v", addr, err)
	}
	if auth != nil {
		if err := c.Auth(sasl.NewPlainClient("", auth.Name, auth.Password)); err != nil {
			t.Fatalf("AUTH PLAIN %s at %s: %v", auth.Name, addr, err)
		}
	}
	return c
}

// send sends one message over c and fails the test unless it is accepted.
func send(t testing.TB, c *smtp.Client, from string, to []string, raw []byte) {
	t.Helper()
	if err := trySend(c, from, to, raw); err != nil {
		t.Fatalf("sending from %s to %v: %v", from, to, err)
	}
}

func trySend(c *smtp.Client, from string, to []string, raw []byte) error {
	if err := c.Mail(from, nil); err != nil {
		return fmt.Errorf("MAIL FROM: %w", err)
	}
	for _, rcpt := range to {
		if err := c.Rcpt(rcpt, nil); err != nil {
			return fmt.Errorf("RCPT TO:<%s>: %w", rcpt, err)
		}
	}
	w, err := c.Data()
	if err != nil {
		return fmt.Errorf("DATA: %w", err)
	}
	if _, err := w.Write(raw); err != nil {
		return err
	}
	return w.Close()
}

// inbox returns every message in user's INBOX, oldest first, fetched over
// IMAP.
func inbox(t *testing.T, d *Dovecot, u User) []*mail.Message {
	t.Helper()
	c := login(t, d, u.Name, u.Password)
	defer c.Logout()
	if sel := selectBox(t, c, "INBOX"); sel.NumMessages == 0 {
		return nil
	}
	var all imap.SeqSet
	all.AddRange(1, 0)
	section := &imap.FetchItemBodySection{Peek: true}
	bufs, err := c.Fetch(all, &imap.FetchOptions{BodySection: []*imap.FetchItemBodySection{section}}).Collect()
	if err != nil {
		t.Fatalf("fetch %s's INBOX: %v", u.Name, err)
	}
	var msgs []*mail.Message
	for _, buf := range bufs {
		m, err := mail.ReadMessage(bytes.NewReader(buf.FindBodySection(section)))
		if err != nil {
			t.Fatalf("message %d in %s's INBOX: %v", buf.SeqNum, u.Name, err)
		}
		msgs = append(msgs, m)
	}
	return msgs
}

// smtpCode returns the reply code of an SMTP error, 0 for other errors.
func smtpCode(err error) int {
	var se *smtp.SMTPError
	if errors.As(err, &se) {
		return se.Code
	}
	return 0
}

// One stack for the delivery paths; each subtest uses mailboxes of its own
// or looks only at the messages it caused.
func TestMailStack(t *testing.T) {
	t0 := time.Now()
	d, p := StartMailStack(t, stackDomain, claims, customer, someone, robot, jan)
	t.Logf("StartMailStack: %v (SMTP %s, submission %s, IMAP %s, LMTP %s)", time.Since(t0), p.SMTPAddr, p.SubmissionAddr, d.Addr, d.LMTPAddr)

	t.Run("SubmissionWithAuth", func(t *testing.T) {
		// Without AUTH, or with a wrong password, submission takes nothing.
		c := dialSMTP(t, p.SubmissionAddr, nil)
		if ok, _ := c.Extension("AUTH"); !ok {
			t.Errorf("submission port does not offer AUTH")
		}
		if !c.SupportsAuth("PLAIN") || !c.SupportsAuth("LOGIN") {
			t.Errorf("submission port lacks AUTH PLAIN or LOGIN")
		}
		if err := trySend(c, claims.Name, []string{customer.Name}, plainMail(claims.Name, customer.Name, "no auth", "<noauth@example.test>")); smtpCode(err)/100 != 5 {
			t.Errorf("submission without AUTH: %v, want a 5xx", err)
		}
		c.Close()
		c = dialSMTP(t, p.SubmissionAddr, nil)
		if err := c.Auth(sasl.NewPlainClient("", claims.Name, "wrong")); smtpCode(err) != 535 {
			t.Errorf("AUTH with a wrong password: %v, want 535", err)
		}
		c.Close()

		c = dialSMTP(t, p.SubmissionAddr, &claims)
		send(t, c, "claims+b-7@example.test", []string{customer.Name},
			plainMail("Claims desk <claims@example.test>", customer.Name, "Your complaint 7", "<ack-7@example.test>"))
		c.Quit()
		p.WaitQueueEmpty(t, deliveryTimeout)

		msgs := inbox(t, d, customer)
		if len(msgs) != 1 {
			t.Fatalf("customer's INBOX has %d messages, want 1\n%s", len(msgs), p.LogTail(10))
		}
		m := msgs[0]
		if got := m.Header.Get("Subject"); got != "Your complaint 7" {
			t.Errorf("Subject %q", got)
		}
		// Dovecot's LMTP records the envelope sender.
		if got := m.Header.Get("Return-Path"); got != "<claims+b-7@example.test>" {
			t.Errorf("Return-Path %q, want <claims+b-7@example.test>", got)
		}
	})

	t.Run("UnknownRecipientRefusedAtRCPT", func(t *testing.T) {
		c := dialSMTP(t, p.SMTPAddr, nil)
		if err := c.Mail("someone@example.test", nil); err != nil {
			t.Fatal(err)
		}
		err := c.Rcpt("ghost@example.test", nil)
		if code := smtpCode(err); code/100 != 5 {
			t.Errorf("RCPT TO:<ghost@example.test> on the SMTP port: %v, want a 5xx", err)
		} else {
			t.Logf("RCPT TO:<ghost@example.test>: %v", err)
		}
		// Users, with or without a +detail, are accepted.
		for _, rcpt := range []string{customer.Name, "claims+b-42@example.test"} {
			if err := c.Rcpt(rcpt, nil); err != nil {
				t.Errorf("RCPT TO:<%s>: %v", rcpt, err)
			}
		}
		if err := c.Reset(); err != nil {
			t.Error(err)
		}
	})

	// Go's net/smtp asks for SMTPUTF8 whenever the server offers it, and
	// Dovecot's LMTP does not offer it: the stack must not bounce such
	// mail (Postfix does not offer SMTPUTF8 either).
	t.Run("UTF8HeadersByNetSMTP", func(t *testing.T) {
		raw := "From: Klient <someone@example.test>\r\nTo: Jan <jan@example.test>\r\nSubject: Pęknięty ekran, żółw\r\n" +
			"Message-ID: <utf8-1@example.test>\r\nMIME-Version: 1.0\r\nContent-Type: text/plain; charset=utf-8\r\nContent-Transfer-Encoding: 8bit\r\n\r\nZażółć gęślą jaźń.\r\n"
		if err := netsmtp.SendMail(p.SMTPAddr, nil, someone.Name, []string{jan.Name}, []byte(raw)); err != nil {
			t.Fatal(err)
		}
		if err := netsmtp.SendMail(p.SubmissionAddr, netsmtp.PlainAuth("", claims.Name, claims.Password, p.Host), "claims+b-9@example.test", []string{jan.Name}, []byte(raw)); err != nil {
			t.Fatal(err)
		}
		p.WaitQueueEmpty(t, deliveryTimeout)
		msgs := inbox(t, d, jan)
		if len(msgs) != 2 {
			t.Fatalf("jan's INBOX has %d messages, want 2\n%s", len(msgs), p.LogTail(10))
		}
		for _, m := range msgs {
			if got := m.Header.Get("Subject"); got != "Pęknięty ekran, żółw" {
				t.Errorf("Subject %q", got)
			}
		}
	})

	t.Run("Bounce", func(t *testing.T) {
		before := len(inbox(t, d, claims))
		c := dialSMTP(t, p.SubmissionAddr, &claims)
		// Accepted: submission leaves unknown recipients to the bounce.
		send(t, c, "claims+b-7@example.test", []string{"ghost@example.test"},
			plainMail("Claims desk <claims@example.test>", "ghost@example.test", "Your complaint 7", "<ack-7-ghost@example.test>"))
		c.Quit()
		p.WaitQueueEmpty(t, deliveryTimeout)

		msgs := inbox(t, d, claims)
		if len(msgs) != before+1 {
			t.Fatalf("claims's INBOX has %d messages, want %d (one bounce)\n%s", len(msgs), before+1, p.LogTail(10))
		}
		m := msgs[before]
		for h, want := range map[string]string{
			"Return-Path":  "<>",
			"To":           "claims+b-7@example.test",
			"Delivered-To": "claims+b-7@example.test",
		} {
			if got := m.Header.Get(h); !strings.Contains(got, want) {
				t.Errorf("bounce's %s: %q, want %q", h, got, want)
			}
		}
		if from := m.Header.Get("From"); !strings.Contains(from, "MAILER-DAEMON@") {
			t.Errorf("bounce's From: %q, want MAILER-DAEMON", from)
		}
		mediaType, params, err := mime.ParseMediaType(m.Header.Get("Content-Type"))
		if err != nil || mediaType != "multipart/report" || params["report-type"] != "delivery-status" {
			t.Fatalf("bounce's Content-Type: %q (%v), want multipart/report; report-type=delivery-status", m.Header.Get("Content-Type"), err)
		}
		parts := map[string]string{}
		mr := multipart.NewReader(m.Body, params["boundary"])
		for {
			part, err := mr.NextPart()
			if err == io.EOF {
				break
			}
			if err != nil {
				t.Fatalf("bounce's parts: %v", err)
			}
			ct, _, _ := mime.ParseMediaType(part.Header.Get("Content-Type"))
			body, _ := io.ReadAll(part)
			parts[ct] = string(body)
		}
		status := parts["message/delivery-status"]
		for _, want := range []string{"Final-Recipient: rfc822; ghost@example.test", "Action: failed", "Status: 5.1.1"} {
			if !strings.Contains(status, want) {
				t.Errorf("delivery status lacks %q:\n%s", want, status)
			}
		}
		if orig := parts["message/rfc822"] + parts["text/rfc822-headers"]; !strings.Contains(orig, "Message-ID: <ack-7-ghost@example.test>") {
			t.Errorf("the bounce does not carry the original's Message-ID; parts: %v", parts)
		}
	})

	t.Run("Vacation", func(t *testing.T) {
		d.SetVacation(t, customer.Name, "Out of office", "I am away until Monday.\nYour \"complaint\" will be read then.")
		inCustomer := len(inbox(t, d, customer))

		c := dialSMTP(t, p.SMTPAddr, nil)
		send(t, c, someone.Name, []string{customer.Name}, plainMail(someone.Name, customer.Name, "Where is my refund?", "<refund-1@example.test>"))
		// An auto-reply gets none (RFC 3834): no loops between robots.
		send(t, c, robot.Name, []string{customer.Name}, plainMail(robot.Name, customer.Name, "Automatic reply: ticket opened", "<robot-1@example.test>", "Auto-Submitted: auto-replied"))
		c.Quit()
		// Dovecot sends a reply before it finishes the delivery, so an
		// empty queue means no reply is still on its way; and a second
		// more, in case.
		p.WaitQueueEmpty(t, deliveryTimeout)
		time.Sleep(time.Second)
		p.WaitQueueEmpty(t, deliveryTimeout)

		if n := len(inbox(t, d, customer)); n != inCustomer+2 {
			t.Errorf("customer's INBOX has %d messages, want %d: vacation keeps the mail", n, inCustomer+2)
		}
		replies := inbox(t, d, someone)
		if len(replies) != 1 {
			t.Fatalf("someone's INBOX has %d messages, want 1 vacation reply\n%s\n%s", len(replies), p.LogTail(10), d.LogTail(10))
		}
		r := replies[0]
		for h, want := range map[string]string{
			"Auto-Submitted": "auto-replied",
			"Subject":        "Out of office",
			"From":           customer.Name,
			"To":             someone.Name,
			"In-Reply-To":    "<refund-1@example.test>",
			"Return-Path":    "<>",
		} {
			if got := r.Header.Get(h); !strings.Contains(got, want) {
				t.Errorf("vacation reply's %s: %q, want %q", h, got, want)
			}
		}
		body, _ := io.ReadAll(r.Body)
		if !strings.Contains(string(body), `Your "complaint" will be read then.`) {
			t.Errorf("vacation reply's body: %q", body)
		}
		if msgs := inbox(t, d, robot); len(msgs) != 0 {
			t.Errorf("the auto-submitted mail got %d replies: %v", len(msgs), msgs[0].Header)
		}
		// And not by chance: Pigeonhole says why (Dovecot 2.3's wording).
		logText, _ := os.ReadFile(d.LogPath)
		if want := "discarding vacation response to auto-submitted message from <robot@example.test>"; !strings.Contains(string(logText), want) {
			t.Errorf("Dovecot's log lacks %q:\n%s", want, d.LogTail(10))
		}
	})
}

// Outages: Dovecot down means Postfix queues and retries; Postfix down means
// connections are refused. Nothing is lost.
func TestPostfixStopStart(t *testing.T) {
	d, p := StartMailStack(t, stackDomain, claims, customer)

	d.Stop(t)
	c := dialSMTP(t, p.SMTPAddr, nil)
	send(t, c, claims.Name, []string{customer.Name}, plainMail(claims.Name, customer.Name, "queued", "<queued-1@example.test>"))
	c.Quit()
	deadline := time.Now().Add(deliveryTimeout)
	for !strings.Contains(p.Queue(t), "Connection refused") {
		if time.Now().After(deadline) {
			t.Fatalf("the mail was not deferred with Dovecot down:\n%s\n%s", p.Queue(t), p.LogTail(10))
		}
		time.Sleep(20 * time.Millisecond)
	}

	t0 := time.Now()
	p.Stop(t)
	t.Logf("Postfix Stop: %v", time.Since(t0))
	for _, addr := range []string{p.SMTPAddr, p.SubmissionAddr} {
		conn, err := net.DialTimeout("tcp", addr, time.Second)
		if err == nil {
			conn.Close()
			t.Errorf("%s accepts connections with Postfix stopped", addr)
		} else if !errors.Is(err, syscall.ECONNREFUSED) {
			t.Errorf("dial %s with Postfix stopped: %v, want connection refused", addr, err)
		}
	}
	if q := p.Queue(t); !strings.Contains(q, "<queued-1@example.test>") && !strings.Contains(q, customer.Name) {
		t.Errorf("the queued mail is not in the queue of the stopped Postfix:\n%s", q)
	}
	p.Stop(t) // idempotent

	t0 = time.Now()
	d.Start(t)
	p.Start(t)
	t.Logf("Postfix Start: %v", time.Since(t0))
	c = dialSMTP(t, p.SubmissionAddr, &claims)
	send(t, c, claims.Name, []string{customer.Name}, plainMail(claims.Name, customer.Name, "after restart", "<restart-1@example.test>"))
	c.Quit()
	p.WaitQueueEmpty(t, deliveryTimeout)
	t.Logf("queued mail delivered %v after the restart", time.Since(t0))
	var subjects []string
	for _, m := range inbox(t, d, customer) {
		subjects = append(subjects, m.Header.Get("Subject"))
	}
	if strings.Join(subjects, ",") != "queued,after restart" && strings.Join(subjects, ",") != "after restart,queued" {
		t.Errorf("customer's INBOX: %q, want the queued mail and the one after the restart", subjects)
	}

	logText, err := os.ReadFile(p.LogPath)
	if err != nil {
		t.Fatal(err)
	}
	for _, line := range strings.Split(string(logText), "\n") {
		if strings.Contains(line, "fatal:") || strings.Contains(line, "panic:") || strings.Contains(line, "error:") {
			t.Errorf("Postfix logged: %s", line)
		}
	}
}

// Without Postfix a developer's test skips with the install command, and
// CI's fails with it.
func TestStartMailStackWithoutPostfix(t *testing.T) {
	t.Setenv("PATH", t.TempDir())
	saved := binaryDirs
	binaryDirs = []string{t.TempDir()}
	t.Cleanup(func() { binaryDirs = saved })

	for _, ci := range []string{"", "true"} {
		t.Setenv("CI", ci)
		r := &recorder{TB: t}
		done := make(chan struct{})
		go func() {
			defer close(done)
			StartMailStack(r, stackDomain, claims)
		}()
		<-done
		got, other := r.skip, r.fatal
		if ci != "" {
			got, other = r.fatal, r.skip
		}
		if !strings.Contains(got, MailStackInstallHint) || other != "" {
			t.Errorf("CI=%q: skip %q, fatal %q; want the install command in the %s", ci, r.skip, r.fatal, map[bool]string{true: "fatal", false: "skip"}[ci != ""])
		}
	}
}

func TestSieveString(t *testing.T) {
	for in, want := range map[string]string{
		`plain`:           `"plain"`,
		`say "hi"`:        `"say \"hi\""`,
		`C:\dir`:          `"C:\\dir"`,
		"two\nlines":      "\"two\r\nlines\"",
		"crlf\r\nalready": "\"crlf\r\nalready\"",
	} {
		if got := sieveString(in); got != want {
			t.Errorf("sieveString(%q) = %q, want %q", in, got, want)
		}
	}
}

// BenchmarkPostfixDelivery measures SMTP -> Postfix -> LMTP -> Dovecot
// INBOX over one reused SMTP connection: ns/op is the time Postfix takes
// to accept a message, msg/s the end-to-end rate until the last is in the
// INBOX.
func BenchmarkPostfixDelivery(b *testing.B) {
	d, p := StartMailStack(b, stackDomain, claims, customer)
	c := dialSMTP(b, p.SMTPAddr, nil)
	raw := testMessage(1, 5000)
	b.SetBytes(int64(len(raw)))
	b.ReportAllocs()
	t0 := time.Now()
	n := 0
	for b.Loop() {
		send(b, c, claims.Name, []string{customer.Name}, raw)
		n++
	}
	p.WaitQueueEmpty(b, time.Minute)
	el := time.Since(t0)
	c.Quit()
	st := d.Doveadm(b, "-f", "flow", "mailbox", "status", "-u", customer.Name, "messages", "INBOX")
	if !strings.HasSuffix(strings.TrimSpace(st), fmt.Sprintf(" messages=%d", n)) {
		b.Fatalf("customer's INBOX: %q, want %d messages", st, n)
	}
	b.ReportMetric(float64(n)/el.Seconds(), "msg/s")
}

// A port taken by another server between probing and binding is noticed
// (StartMailStack then retries with fresh ports), even when the intruder
// greets like an SMTP server.
func TestPostfixStartNoticesPortTaken(t *testing.T) {
	_, p := StartMailStack(t, stackDomain, claims)
	p.Stop(t)
	l, err := net.Listen("tcp", p.SubmissionAddr)
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	go func() {
		for {
			conn, err := l.Accept()
			if err != nil {
				return
			}
			conn.Write([]byte("220 mx.example.test ESMTP Postfix\r\n"))
			conn.Close()
		}
	}()
	if err := p.start(); !errors.Is(err, errAddrInUse) {
		t.Fatalf("start on a taken port: %v, want errAddrInUse", err)
	}
	l.Close()
	p.Start(t)
	c := dialSMTP(t, p.SubmissionAddr, &claims)
	c.Quit()
}
