package outbox

import (
	"bytes"
	"net/mail"
	"strings"
	"testing"
	"time"

	"github.com/claimsd/claimsd/message"
	"github.com/claimsd/claimsd/store"
)

// FuzzRenderHeaders: whatever a customer puts in the fields that reach
// our headers (subject, name, the ids they referenced, Outlook's
// Thread-Index), the rendered mail has exactly the headers we write.
func FuzzRenderHeaders(f *testing.F) {
	f.Add("Pęknięty ekran", "Jan Kowalski", "a@b", "AQHZ3k1Xr8m0p0ZxQUSyQ0f2vJ8b1Q==")
	f.Add("Hello\r\nBcc: evil@example.com", "Eve\r\nX-Evil: 1", "a@b>\r\nBcc: x@y", "\r\n")
	f.Add(strings.Repeat("ą", 600), "\x00\x7f", "", "")
	f.Fuzz(func(t *testing.T, subject, name, ref, threadIndex string) {
		ti, err := ReplyThreadIndex(threadIndex, time.Date(2026, 11, 29, 8, 0, 0, 0, time.UTC))
		if err != nil {
			ti = ""
		}
		irt, refs := References(ref, nil, []string{ref})
		it := &store.OutboxItem{
			ID: 1, MessageID: "CLM-2026-000001.o1.abc@sklep.example",
			From:        message.Address{Name: "Reklamacje", Addr: "reklamacje@sklep.example"},
			To:          message.Address{Name: name, Addr: "jan@example.net"},
			Subject:     ReplySubject(subject, "[CLM-2026-000001]", "Reklamacja"),
			InReplyTo:   irt,
			References:  refs,
			ThreadIndex: ti,
			ThreadTopic: ThreadTopic(subject),
			Text:        "x", AutoSubmitted: "auto-replied",
			Date: time.Date(2026, 11, 29, 8, 0, 0, 0, time.UTC),
		}
		raw, err := Render(it)
		if err != nil {
			return // refused is safe
		}
		m, err := mail.ReadMessage(bytes.NewReader(raw))
		if err != nil {
			t.Fatalf("rendered mail does not parse: %v\n%s", err, raw)
		}
		allowed := map[string]bool{"From": true, "To": true, "Subject": true, "Date": true, "Message-Id": true,
			"In-Reply-To": true, "References": true, "Thread-Index": true, "Thread-Topic": true, "Auto-Submitted": true,
			"X-Auto-Response-Suppress": true, "X-Claimsd-Loop": true, "Mime-Version": true, "Content-Type": true,
			"Content-Transfer-Encoding": true, "Content-Language": true}
		for k, v := range m.Header {
			if !allowed[k] {
				t.Fatalf("unexpected header %s: %q\n%s", k, v, raw)
			}
			if len(v) != 1 {
				t.Fatalf("header %s %d times\n%s", k, len(v), raw)
			}
		}
	})
}
