package reliability

import (
	"bytes"
	"context"
	"fmt"
	"net/smtp"
	"sync"
	"testing"
	"time"

	"github.com/claimsd/claimsd/internal/mailtest"
	"github.com/emersion/go-imap/v2"
)

// Partner is a program on the other side of a mail loop: it reads a
// user's INBOX and sends mail in return through Postfix. Start one with
// StartListEcho or StartAutoResponder; it stops when the test ends, or
// after max mails.
type Partner struct {
	mu   sync.Mutex
	sent int
	errs []error
}

// Sent is how many mails the partner has sent.
func (p *Partner) Sent() int {
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.sent
}

// Errs returns what went wrong reading or sending.
func (p *Partner) Errs() []error {
	p.mu.Lock()
	defer p.mu.Unlock()
	return append([]error(nil), p.errs...)
}

func (p *Partner) note(err error) {
	p.mu.Lock()
	defer p.mu.Unlock()
	if err == nil {
		p.sent++
	} else if len(p.errs) < 10 {
		p.errs = append(p.errs, err)
	}
}

// StartListEcho runs a mailing list at user (its mailbox on d): every mail
// that reaches it is sent again, unchanged but for the list's headers
// (List-Id, List-Post, Precedence: list), to every member, from the
// list's bounce address, as list servers do. max bounds what it sends.
func StartListEcho(t testing.TB, d *mailtest.Dovecot, p *mailtest.Postfix, user, pass string, members []string, max int) *Partner {
	t.Helper()
	partner := &Partner{}
	listID := "<reklamacje-lista." + Domain + ">"
	followInbox(t, d.Addr, user, pass, func(raw []byte) {
		if partner.Sent() >= max*len(members) {
			return
		}
		var b bytes.Buffer
		fmt.Fprintf(&b, "List-Id: Lista klientów %s\r\nList-Post: <mailto:%s>\r\nList-Unsubscribe: <mailto:%s?subject=unsubscribe>\r\nPrecedence: list\r\n", listID, user, user)
		b.Write(raw)
		for _, m := range members {
			partner.note(smtp.SendMail(p.SMTPAddr, nil, "lista-bounces@"+Domain, []string{m}, b.Bytes()))
		}
	})
	return partner
}

// StartAutoResponder runs the most careless auto-responder there is at
// user: it answers every mail it gets with a new subject ("Zgłoszenie #N
// przyjęte"), without Auto-Submitted, Precedence, In-Reply-To or
// References, so nothing but the other side's rate caps can stop a loop.
// max bounds what it sends.
func StartAutoResponder(t testing.TB, d *mailtest.Dovecot, p *mailtest.Postfix, user, pass string, max int) *Partner {
	t.Helper()
	partner := &Partner{}
	n := 0
	followInbox(t, d.Addr, user, pass, func(raw []byte) {
		if partner.Sent() >= max {
			return
		}
		from := returnAddress(raw)
		if from == "" {
			return
		}
		n++
		reply := fmt.Sprintf("From: Biuro Obsługi <%s>\r\nTo: <%s>\r\nSubject: Zgłoszenie #%d przyjęte\r\nMessage-ID: <ticket-%d-%d@%s>\r\nDate: %s\r\n"+
			"MIME-Version: 1.0\r\nContent-Type: text/plain; charset=utf-8\r\n\r\nDziękujemy, Pana zgłoszenie ma numer %d. Proszę o cierpliwość.\r\n",
			user, from, n, n, time.Now().UnixNano(), Domain, time.Now().Format(time.RFC1123Z), n)
		partner.note(smtp.SendMail(p.SMTPAddr, nil, user, []string{from}, []byte(reply)))
	})
	return partner
}

// returnAddress is where a reply goes: Reply-To, else From.
func returnAddress(raw []byte) string {
	h := headerOf(raw)
	if h == nil {
		return ""
	}
	for _, field := range []string{"Reply-To", "From"} {
		if list, err := h.AddressList(field); err == nil && len(list) > 0 {
			return list[0].Address
		}
	}
	return ""
}

// followInbox follows user's INBOX from the test's start and calls fn with each
// new message, in order, until the test ends.
func followInbox(t testing.TB, addr, user, pass string, fn func(raw []byte)) {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	t.Cleanup(func() { cancel(); <-done })
	c := dialIMAP(t, addr, user, pass)
	if _, err := c.Select("INBOX", nil).Wait(); err != nil {
		t.Fatalf("reliability: select INBOX of %s: %v", user, err)
	}
	go func() {
		defer close(done)
		defer c.Close()
		var last imap.UID
		for ctx.Err() == nil {
			msgs, err := c.Fetch(imap.UIDSet{{Start: last + 1, Stop: 0}}, &imap.FetchOptions{
				UID: true, BodySection: []*imap.FetchItemBodySection{{Peek: true}},
			}).Collect()
			if err != nil {
				return // the server went away; the test will say why
			}
			for _, m := range msgs {
				if m.UID <= last {
					continue // "n:*" matches the highest UID even below n
				}
				last = m.UID
				for _, sec := range m.BodySection {
					fn(sec.Bytes)
				}
			}
			select {
			case <-ctx.Done():
			case <-time.After(200 * time.Millisecond):
			}
			_ = c.Noop().Wait()
		}
	}()
}
