package reliability

import (
	"bytes"
	"net/mail"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/emersion/go-imap/v2"
	"github.com/emersion/go-imap/v2/imapclient"
)

// Mail is one message of a mailbox as a test reads it: its header and
// flags.
type Mail struct {
	UID    uint32
	Header mail.Header
	Flags  []imap.Flag
}

// MessageID returns the Message-ID without angle brackets.
func (m Mail) MessageID() string { return trimAngles(m.Header.Get("Message-Id")) }

// InReplyTo returns the first In-Reply-To id without angle brackets.
func (m Mail) InReplyTo() string {
	f := strings.Fields(m.Header.Get("In-Reply-To"))
	if len(f) == 0 {
		return ""
	}
	return trimAngles(f[0])
}

// Automatic reports whether the mail says it was sent automatically
// (RFC 3834 Auto-Submitted other than "no").
func (m Mail) Automatic() bool {
	v := strings.ToLower(strings.TrimSpace(m.Header.Get("Auto-Submitted")))
	return v != "" && v != "no"
}

// Has reports whether the mail carries flag.
func (m Mail) Has(flag string) bool {
	return slices.ContainsFunc(m.Flags, func(f imap.Flag) bool { return strings.EqualFold(string(f), flag) })
}

func trimAngles(s string) string {
	return strings.TrimSuffix(strings.TrimPrefix(strings.TrimSpace(s), "<"), ">")
}

// Mailbox reads the header and flags of every message in a user's mailbox
// (INBOX when mailbox is ""), read-only.
func Mailbox(t testing.TB, addr, user, pass, mailbox string) []Mail {
	t.Helper()
	if mailbox == "" {
		mailbox = "INBOX"
	}
	c := dialIMAP(t, addr, user, pass)
	defer c.Close()
	sel, err := c.Select(mailbox, &imap.SelectOptions{ReadOnly: true}).Wait()
	if err != nil {
		t.Fatalf("reliability: examine %s of %s: %v", mailbox, user, err)
	}
	if sel.NumMessages == 0 {
		return nil
	}
	msgs, err := c.Fetch(imap.SeqSet{imap.SeqRange{Start: 1, Stop: 0}}, &imap.FetchOptions{
		UID:         true,
		Flags:       true,
		BodySection: []*imap.FetchItemBodySection{{Specifier: imap.PartSpecifierHeader, Peek: true}},
	}).Collect()
	if err != nil {
		t.Fatalf("reliability: fetch headers of %s of %s: %v", mailbox, user, err)
	}
	out := make([]Mail, 0, len(msgs))
	for _, m := range msgs {
		var raw []byte
		for _, sec := range m.BodySection {
			raw = sec.Bytes
		}
		msg, err := mail.ReadMessage(bytes.NewReader(append(raw, "\r\n"...)))
		if err != nil {
			t.Fatalf("reliability: header of uid %d in %s of %s: %v", m.UID, mailbox, user, err)
		}
		out = append(out, Mail{UID: uint32(m.UID), Header: msg.Header, Flags: m.Flags})
	}
	return out
}

// Count returns how many messages a user's INBOX holds.
func Count(t testing.TB, addr, user, pass string) int {
	t.Helper()
	c := dialIMAP(t, addr, user, pass)
	defer c.Close()
	st, err := c.Status("INBOX", &imap.StatusOptions{NumMessages: true}).Wait()
	if err != nil {
		t.Fatalf("reliability: status of %s: %v", user, err)
	}
	return int(*st.NumMessages)
}

// Unmarked counts the messages of a user's INBOX without keyword (the
// keyword claimsd sets once a message is committed).
func Unmarked(t testing.TB, addr, user, pass, keyword string) int {
	t.Helper()
	c := dialIMAP(t, addr, user, pass)
	defer c.Close()
	if _, err := c.Select("INBOX", &imap.SelectOptions{ReadOnly: true}).Wait(); err != nil {
		t.Fatalf("reliability: examine INBOX of %s: %v", user, err)
	}
	data, err := c.UIDSearch(&imap.SearchCriteria{NotFlag: []imap.Flag{imap.Flag(keyword)}}, nil).Wait()
	if err != nil {
		t.Fatalf("reliability: search unmarked in %s: %v", user, err)
	}
	return len(data.AllUIDs())
}

func dialIMAP(t testing.TB, addr, user, pass string) *imapclient.Client {
	t.Helper()
	var c *imapclient.Client
	var err error
	// A server just restarted may refuse for a moment.
	for deadline := time.Now().Add(10 * time.Second); ; {
		if c, err = imapclient.DialInsecure(addr, nil); err == nil {
			if err = c.Login(user, pass).Wait(); err == nil {
				return c
			}
			c.Close()
		}
		if time.Now().After(deadline) {
			t.Fatalf("reliability: IMAP login to %s as %s: %v", addr, user, err)
		}
		time.Sleep(100 * time.Millisecond)
	}
}

// headerOf parses the header of a raw message; nil when it does not parse.
func headerOf(raw []byte) mail.Header {
	msg, err := mail.ReadMessage(bytes.NewReader(raw))
	if err != nil {
		return nil
	}
	return msg.Header
}
