package devmail

import (
	"bytes"
	"log/slog"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/emersion/go-imap/v2"
	"github.com/emersion/go-imap/v2/imapclient"
	"github.com/emersion/go-sasl"
	"github.com/emersion/go-smtp"
)

// testLogger logs through t until the test ends; servers may still log
// from their goroutines after that, which t.Log would panic on.
func testLogger(t *testing.T) *slog.Logger {
	w := &testWriter{t: t}
	t.Cleanup(func() {
		w.mu.Lock()
		w.done = true
		w.mu.Unlock()
	})
	return slog.New(slog.NewTextHandler(w, &slog.HandlerOptions{Level: slog.LevelDebug}))
}

type testWriter struct {
	t    *testing.T
	mu   sync.Mutex
	done bool
}

func (w *testWriter) Write(p []byte) (int, error) {
	w.mu.Lock()
	defer w.mu.Unlock()
	if !w.done {
		w.t.Log(strings.TrimSuffix(string(p), "\n"))
	}
	return len(p), nil
}

func TestIMAPServer(t *testing.T) {
	srv, err := StartIMAP(testLogger(t), "user", "secret", "Archive")
	if err != nil {
		t.Fatal(err)
	}
	defer srv.Close()

	date := time.Date(2024, 3, 1, 9, 30, 0, 0, time.UTC)
	raw := []byte("From: a@example.com\r\nSubject: hi\r\n\r\nbody\r\n")
	if err := srv.Append("INBOX", raw, date); err != nil {
		t.Fatal(err)
	}
	if err := srv.Append("Nope", raw, date); err == nil {
		t.Error("Append to a missing mailbox succeeded")
	}

	c, err := imapclient.DialInsecure(srv.Addr, nil)
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	if err := c.Login("user", "secret").Wait(); err != nil {
		t.Fatal(err)
	}
	if !c.Caps().Has(imap.CapIdle) || !c.Caps().Has(imap.CapMove) {
		t.Errorf("caps = %v, want IDLE and MOVE", c.Caps())
	}
	for _, mbox := range []string{"INBOX", "Archive"} {
		if _, err := c.Status(mbox, &imap.StatusOptions{NumMessages: true}).Wait(); err != nil {
			t.Errorf("STATUS %s: %v", mbox, err)
		}
	}
	if _, err := c.Select("INBOX", nil).Wait(); err != nil {
		t.Fatal(err)
	}
	msgs, err := c.Fetch(imap.SeqSetNum(1), &imap.FetchOptions{
		InternalDate: true,
		BodySection:  []*imap.FetchItemBodySection{{Peek: true}},
	}).Collect()
	if err != nil {
		t.Fatal(err)
	}
	if len(msgs) != 1 {
		t.Fatalf("got %d messages, want 1", len(msgs))
	}
	if got := msgs[0].FindBodySection(&imap.FetchItemBodySection{}); !bytes.Equal(got, raw) {
		t.Errorf("body = %q, want %q", got, raw)
	}
	if !msgs[0].InternalDate.Equal(date) {
		t.Errorf("internal date = %v, want %v", msgs[0].InternalDate, date)
	}

	if n := srv.DropConnections(); n != 1 {
		t.Errorf("DropConnections = %d, want 1", n)
	}
	if err := c.Noop().Wait(); err == nil {
		t.Error("NOOP on a dropped connection succeeded")
	}
	// The server keeps accepting after a drop.
	c2, err := imapclient.DialInsecure(srv.Addr, nil)
	if err != nil {
		t.Fatal(err)
	}
	defer c2.Close()
	if err := c2.Login("user", "secret").Wait(); err != nil {
		t.Fatal(err)
	}
	if err := c2.Login("user", "wrong").Wait(); err == nil {
		t.Error("second LOGIN succeeded")
	}
}

func TestIMAPIdleAnnouncesAppend(t *testing.T) {
	srv, err := StartIMAP(testLogger(t), "user", "secret")
	if err != nil {
		t.Fatal(err)
	}
	defer srv.Close()

	exists := make(chan uint32, 10)
	c, err := imapclient.DialInsecure(srv.Addr, &imapclient.Options{
		UnilateralDataHandler: &imapclient.UnilateralDataHandler{
			Mailbox: func(d *imapclient.UnilateralDataMailbox) {
				if d.NumMessages != nil {
					exists <- *d.NumMessages
				}
			},
		},
	})
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	if err := c.Login("user", "secret").Wait(); err != nil {
		t.Fatal(err)
	}
	if _, err := c.Select("INBOX", nil).Wait(); err != nil {
		t.Fatal(err)
	}
	// Appended before IDLE starts: imapmemserver alone would not
	// announce this one.
	if err := srv.Append("INBOX", []byte("Subject: 1\r\n\r\n1\r\n"), time.Time{}); err != nil {
		t.Fatal(err)
	}
	idle, err := c.Idle()
	if err != nil {
		t.Fatal(err)
	}
	select {
	case n := <-exists:
		if n != 1 {
			t.Errorf("EXISTS %d, want 1", n)
		}
	case <-time.After(10 * time.Second):
		t.Fatal("no EXISTS during IDLE")
	}
	if err := idle.Close(); err != nil {
		t.Fatal(err)
	}
	if err := idle.Wait(); err != nil {
		t.Fatal(err)
	}
}

func TestSMTPSink(t *testing.T) {
	sink, err := StartSMTPSink(testLogger(t))
	if err != nil {
		t.Fatal(err)
	}
	defer sink.Close()

	tests := []struct {
		name string
		auth sasl.Client
	}{
		{"with auth", sasl.NewPlainClient("", "anyone", "anything")},
		{"without auth", nil},
	}
	for i, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			body := "Subject: test\r\n\r\nhello " + tt.name + "\r\n"
			to := []string{"claims@example.com", "copy@example.com"}
			// smtp.SendMail insists on STARTTLS, which a loopback sink
			// does not offer.
			c, err := smtp.Dial(sink.Addr)
			if err != nil {
				t.Fatal(err)
			}
			defer c.Close()
			if tt.auth != nil {
				if err := c.Auth(tt.auth); err != nil {
					t.Fatal(err)
				}
			}
			if err := c.SendMail("sender@example.com", to, strings.NewReader(body)); err != nil {
				t.Fatal(err)
			}
			if err := c.Quit(); err != nil {
				t.Fatal(err)
			}
			msgs := sink.Messages()
			if len(msgs) != i+1 {
				t.Fatalf("got %d messages, want %d", len(msgs), i+1)
			}
			m := msgs[i]
			if m.From != "sender@example.com" || strings.Join(m.To, ",") != strings.Join(to, ",") {
				t.Errorf("envelope = %q -> %q", m.From, m.To)
			}
			if string(m.Data) != body {
				t.Errorf("data = %q, want %q", m.Data, body)
			}
			if m.At.IsZero() {
				t.Error("At not set")
			}
			// The copy must not alias the sink's own record.
			m.Data[0] = 'X'
			if sink.Messages()[i].Data[0] == 'X' {
				t.Error("Messages returned shared memory")
			}
		})
	}
}

// Close must not leave Serve running or fail on idle connections.
func TestSMTPSinkClose(t *testing.T) {
	sink, err := StartSMTPSink(nil)
	if err != nil {
		t.Fatal(err)
	}
	c, err := smtp.Dial(sink.Addr)
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	if err := sink.Close(); err != nil {
		t.Fatal(err)
	}
	if err := c.Noop(); err == nil {
		t.Error("NOOP after Close succeeded")
	}
}
