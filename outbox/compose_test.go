package outbox

import (
	"bytes"
	"encoding/json"
	"errors"
	"flag"
	"io"
	"mime"
	"mime/multipart"
	netmail "net/mail"
	"net/textproto"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/claimsd/claimsd/message"
	"github.com/claimsd/claimsd/store"
)

var updateGolden = flag.Bool("update", false, "rewrite golden files in testdata")

// ackItem is a full acknowledgement: Polish subject, threading headers,
// Thread-Index and an HTML part.
func ackItem() *store.OutboxItem {
	warsaw := time.FixedZone("CET", 3600)
	return &store.OutboxItem{
		ID:           123,
		CaseID:       "CLM-2026-000123",
		Purpose:      "ack",
		MessageID:    "CLM-2026-000123.o123.k3j9@reklamacje.sklep.example",
		From:         message.Address{Name: "Dział Reklamacji Sklep Przykład", Addr: "reklamacje@sklep.example"},
		To:           message.Address{Name: "Jan Kowalski", Addr: "jan.kowalski@example.pl"},
		EnvelopeFrom: "bounce+123.abcd@sklep.example",
		Subject:      "Re: Pęknięty ekran [CLM-2026-000123]",
		InReplyTo:    "CAF4t+Zq=x9@mail.gmail.com",
		References: []string{
			"0100018e2f9a1b2c-7d4e5f60-1a2b-4c3d-9e8f-abcdef012345-000000@eu-west-1.amazonses.com",
			"CAF4t+Zq=x9@mail.gmail.com",
		},
		ThreadIndex:   "AdQc2DN7rLoS3hgnE/O76rpFzxN/EwAddF4A",
		ThreadTopic:   "Pęknięty ekran",
		AutoSubmitted: "auto-replied",
		Language:      "pl",
		Text:          "Dzień dobry,\n\nprzyjęliśmy reklamację CLM-2026-000123.\nOdpowiemy w ciągu 14 dni.\n",
		HTML:          "<p>Dzień dobry,</p>\n<p>przyjęliśmy reklamację <b>CLM-2026-000123</b>.</p>\n",
		Date:          time.Date(2026, time.March, 2, 9, 30, 0, 0, warsaw),
	}
}

func TestRenderGolden(t *testing.T) {
	got, err := Render(ackItem())
	if err != nil {
		t.Fatal(err)
	}
	path := filepath.Join("testdata", "ack.eml.golden")
	if *updateGolden {
		if err := os.WriteFile(path, got, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	want, err := os.ReadFile(path)
	if err != nil {
		t.Fatalf("%v (run with -update to create it)", err)
	}
	if !bytes.Equal(got, want) {
		t.Errorf("rendered message differs from %s (run with -update to accept):\n%s", path, got)
	}
}

// TestRenderParses reads the rendered acknowledgement back the way a
// recipient would.
func TestRenderParses(t *testing.T) {
	it := ackItem()
	m := renderAndParse(t, it)
	dec := new(mime.WordDecoder)
	for name, want := range map[string]string{
		"Subject":                  it.Subject,
		"Thread-Topic":             it.ThreadTopic,
		"Message-Id":               "<" + it.MessageID + ">",
		"In-Reply-To":              "<" + it.InReplyTo + ">",
		"References":               "<" + it.References[0] + "> <" + it.References[1] + ">",
		"Thread-Index":             it.ThreadIndex,
		"Auto-Submitted":           "auto-replied",
		"X-Auto-Response-Suppress": "All",
		"X-Claimsd-Loop":           it.From.Addr,
		"Content-Language":         "pl",
	} {
		got, err := dec.DecodeHeader(m.Header.Get(name))
		if err != nil || got != want {
			t.Errorf("%s = %q (%v), want %q", name, got, err, want)
		}
	}
	from, err := m.Header.AddressList("From")
	if err != nil || len(from) != 1 || from[0].Name != it.From.Name || from[0].Address != it.From.Addr {
		t.Errorf("From = %v (%v)", from, err)
	}
	if d, err := m.Header.Date(); err != nil || !d.Equal(it.Date) {
		t.Errorf("Date = %v (%v), want %v", d, err, it.Date)
	}
	text, html := readAlternative(t, m)
	if text != strings.ReplaceAll(it.Text, "\n", "\r\n") || html != strings.ReplaceAll(it.HTML, "\n", "\r\n") {
		t.Errorf("parts:\n%q\n%q", text, html)
	}
}

func renderAndParse(t *testing.T, it *store.OutboxItem) *netmail.Message {
	t.Helper()
	raw, err := Render(it)
	if err != nil {
		t.Fatal(err)
	}
	m, err := netmail.ReadMessage(bytes.NewReader(raw))
	if err != nil {
		t.Fatalf("rendered message does not parse: %v\n%s", err, raw)
	}
	return m
}

// readAlternative returns the decoded text/plain and text/html parts.
func readAlternative(t *testing.T, m *netmail.Message) (text, html string) {
	t.Helper()
	mt, params, err := mime.ParseMediaType(m.Header.Get("Content-Type"))
	if err != nil || mt != "multipart/alternative" {
		t.Fatalf("Content-Type %q (%v)", m.Header.Get("Content-Type"), err)
	}
	r := multipart.NewReader(m.Body, params["boundary"])
	for {
		p, err := r.NextPart() // decodes quoted-printable
		if errors.Is(err, io.EOF) {
			return text, html
		}
		if err != nil {
			t.Fatal(err)
		}
		b, err := io.ReadAll(p)
		if err != nil {
			t.Fatal(err)
		}
		switch ct := p.Header.Get("Content-Type"); ct {
		case "text/plain; charset=UTF-8":
			text = string(b)
		case "text/html; charset=UTF-8":
			html = string(b)
		default:
			t.Errorf("unexpected part %q", ct)
		}
	}
}

func TestRenderTextOnly(t *testing.T) {
	it := ackItem()
	it.HTML = ""
	m := renderAndParse(t, it)
	if ct := m.Header.Get("Content-Type"); ct != "text/plain; charset=UTF-8" {
		t.Errorf("Content-Type %q", ct)
	}
	if cte := m.Header.Get("Content-Transfer-Encoding"); cte != "quoted-printable" {
		t.Errorf("Content-Transfer-Encoding %q", cte)
	}
}

// TestComposeHeaderInjection: nothing from customer data may add a header.
func TestComposeHeaderInjection(t *testing.T) {
	tests := []struct {
		name string
		edit func(*store.OutboxItem)
	}{
		{"subject CRLF", func(it *store.OutboxItem) { it.Subject = "Hello\r\nBcc: evil@example.com" }},
		{"subject LF", func(it *store.OutboxItem) { it.Subject = "Hi\nX-Evil: 1" }},
		{"subject CR", func(it *store.OutboxItem) { it.Subject = "Hi\rX-Evil: 1" }},
		{"subject NEL and LS", func(it *store.OutboxItem) { it.Subject = "Hi\u0085X-Evil: 1\u2028Bcc: evil@example.com" }},
		{"subject non-ASCII with CRLF", func(it *store.OutboxItem) { it.Subject = "Zażółć\r\nBcc: evil@example.com" }},
		{"to name CRLF", func(it *store.OutboxItem) { it.To.Name = "Jan\r\nBcc: evil@example.com" }},
		{"from name CRLF", func(it *store.OutboxItem) { it.From.Name = "Sklep\r\nX-Evil: 1" }},
		{"thread topic CRLF", func(it *store.OutboxItem) { it.ThreadTopic = "Ekran\r\nBcc: evil@example.com" }},
		{"in-reply-to CRLF", func(it *store.OutboxItem) { it.InReplyTo = "a@b>\r\nBcc: x@y" }},
		{"reference CRLF", func(it *store.OutboxItem) {
			it.References = []string{"ok@example.com", "a@b>\r\nBcc: x@y", "c@d\nX-Evil: 1"}
		}},
		{"thread index CRLF", func(it *store.OutboxItem) { it.ThreadIndex = "AdQc2DN7rLoS3hgnE/O76rpFzxN/Ew==\r\nBcc: x@y" }},
		{"language CRLF", func(it *store.OutboxItem) { it.Language = "pl\r\nBcc: x@y" }},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			it := ackItem()
			tt.edit(it)
			m := renderAndParse(t, it)
			if n := len(m.Header["Subject"]); n != 1 {
				t.Errorf("%d Subject headers", n)
			}
			for _, h := range []string{"Bcc", "X-Evil", "Cc"} {
				if v, ok := m.Header[h]; ok {
					t.Errorf("injected header %s: %q", h, v)
				}
			}
			if to, err := m.Header.AddressList("To"); err != nil || len(to) != 1 || to[0].Address != it.To.Addr {
				t.Errorf("To = %v (%v)", to, err)
			}
		})
	}
}

func TestComposeDropsInvalidIDs(t *testing.T) {
	it := ackItem()
	it.InReplyTo = "a@b>\r\nBcc: x@y"
	it.References = []string{"first@example.com", "no-at-sign", "sp ace@example.com", "<br@ckets>", "last@example.com"}
	m := renderAndParse(t, it)
	if v, ok := m.Header["In-Reply-To"]; ok {
		t.Errorf("In-Reply-To written: %q", v)
	}
	if got := m.Header.Get("References"); got != "<first@example.com> <last@example.com>" {
		t.Errorf("References = %q", got)
	}
}

// TestComposeNeverEncodesIDs: Exchange drops RFC 2047-encoded ids, so
// they are written as they are, however long.
func TestComposeNeverEncodesIDs(t *testing.T) {
	long := strings.Repeat("x", 300) + "@" + strings.Repeat("d", 150) + ".example"
	it := ackItem()
	it.InReplyTo = long
	it.References = []string{"root@example.com", long, "tail-" + long}
	raw, err := Render(it)
	if err != nil {
		t.Fatal(err)
	}
	m, err := netmail.ReadMessage(bytes.NewReader(raw))
	if err != nil {
		t.Fatal(err)
	}
	tests := []struct{ header, want string }{
		{"In-Reply-To", "<" + long + ">"},
		{"References", "<root@example.com> <" + long + "> <tail-" + long + ">"},
	}
	for _, tt := range tests {
		got := m.Header.Get(tt.header)
		if got != tt.want || strings.Contains(got, "=?") {
			t.Errorf("%s = %q, want %q", tt.header, got, tt.want)
		}
	}
	for _, line := range headerLines(raw) {
		if len(line) > headerLineMax {
			t.Errorf("line of %d characters: %.60q...", len(line), line)
		}
	}
}

// headerLines returns the header section of raw, line by line.
func headerLines(raw []byte) []string {
	head, _, _ := bytes.Cut(raw, []byte("\r\n\r\n"))
	return strings.Split(string(head), "\r\n")
}

func TestComposeFoldsReferences(t *testing.T) {
	it := ackItem()
	it.References = nil
	for i := range 30 {
		it.References = append(it.References, strings.Repeat("r", 20)+string(rune('a'+i%26))+string(rune('a'+i/26))+"@example.com")
	}
	raw, err := Render(it)
	if err != nil {
		t.Fatal(err)
	}
	for _, line := range headerLines(raw) {
		if len(line) > headerFoldWidth {
			t.Errorf("line of %d characters: %q", len(line), line)
		}
	}
	m, err := netmail.ReadMessage(bytes.NewReader(raw))
	if err != nil {
		t.Fatal(err)
	}
	ids := strings.Fields(m.Header.Get("References"))
	if len(ids) != referencesMax || ids[0] != "<"+it.References[0]+">" || ids[len(ids)-1] != "<"+it.References[29]+">" {
		t.Errorf("kept %d ids: %v", len(ids), ids)
	}
}

func TestTrimReferences(t *testing.T) {
	var many []string
	for i := range 25 {
		many = append(many, string(rune('a'+i))+"@x")
	}
	tests := []struct {
		name string
		in   []string
		want []string
	}{
		{"nil", nil, []string{}},
		{"duplicates", []string{"a@x", "b@x", "a@x"}, []string{"a@x", "b@x"}},
		{"invalid dropped", []string{"a@x", "bad", "b@x"}, []string{"a@x", "b@x"}},
		{"first and latest kept", many, append([]string{"a@x"}, many[6:]...)},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := trimReferences(tt.in)
			if strings.Join(got, " ") != strings.Join(tt.want, " ") || len(got) != len(tt.want) {
				t.Errorf("got %v, want %v", got, tt.want)
			}
		})
	}
}

// TestComposeKeepsCaseTag: the subject a caller builds from a customer's
// subject cut to 250 characters, plus "Re: " and the tag, is not cut again.
func TestComposeKeepsCaseTag(t *testing.T) {
	it := ackItem()
	it.Subject = "Re: " + SafeHeaderText(strings.Repeat("ż", 400), 250) + " [CLM-2026-000123]"
	it.ThreadTopic = SafeHeaderText(strings.Repeat("ż", 400), 250)
	it.References = nil // an id longer than a line is the one line allowed to be long
	raw, err := Render(it)
	if err != nil {
		t.Fatal(err)
	}
	for _, line := range headerLines(raw) {
		if len(line) > headerFoldWidth {
			t.Errorf("line of %d characters: %q", len(line), line)
		}
	}
	m := renderAndParse(t, it)
	dec := new(mime.WordDecoder)
	for name, want := range map[string]string{"Subject": it.Subject, "Thread-Topic": it.ThreadTopic} {
		if got, err := dec.DecodeHeader(m.Header.Get(name)); err != nil || got != want {
			t.Errorf("%s = %q (%v), want %q", name, got, err, want)
		}
	}
}

func TestComposeAutoSubmitted(t *testing.T) {
	tests := []struct {
		value string
		auto  bool
	}{
		{"auto-replied", true},
		{"auto-generated", true},
		{"", false},
		{"no", false},
	}
	for _, tt := range tests {
		t.Run(tt.value, func(t *testing.T) {
			it := ackItem()
			it.AutoSubmitted = tt.value
			m := renderAndParse(t, it)
			for _, h := range []string{"Auto-Submitted", "X-Auto-Response-Suppress", "X-Claimsd-Loop"} {
				if _, ok := m.Header[textproto.CanonicalMIMEHeaderKey(h)]; ok != tt.auto {
					t.Errorf("%s present = %v, want %v", h, ok, tt.auto)
				}
			}
			if tt.auto && m.Header.Get("Auto-Submitted") != tt.value {
				t.Errorf("Auto-Submitted = %q", m.Header.Get("Auto-Submitted"))
			}
		})
	}
}

func TestRenderDeterministic(t *testing.T) {
	a, err := Render(ackItem())
	if err != nil {
		t.Fatal(err)
	}
	for range 20 {
		b, err := Render(ackItem())
		if err != nil {
			t.Fatal(err)
		}
		if !bytes.Equal(a, b) {
			t.Fatalf("two renders differ:\n%s\n---\n%s", a, b)
		}
	}
	// The sender reads the item back from the store for every attempt.
	js, err := json.Marshal(ackItem())
	if err != nil {
		t.Fatal(err)
	}
	var stored store.OutboxItem
	if err := json.Unmarshal(js, &stored); err != nil {
		t.Fatal(err)
	}
	if b, err := Render(&stored); err != nil || !bytes.Equal(a, b) {
		t.Errorf("the item read back from JSON renders differently (%v):\n%s", err, b)
	}
	m, err := Compose(ackItem())
	if err != nil {
		t.Fatal(err)
	}
	var w1, w2 bytes.Buffer
	if _, err := m.WriteTo(&w1); err != nil {
		t.Fatal(err)
	}
	if _, err := m.WriteTo(&w2); err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(w1.Bytes(), a) || !bytes.Equal(w2.Bytes(), a) {
		t.Error("writing one composed message twice differs from Render")
	}
}

func TestComposeRejects(t *testing.T) {
	tests := []struct {
		name      string
		edit      func(*store.OutboxItem)
		recipient bool // the error is the recipient's (permanent), not ours
	}{
		{"bad To", func(it *store.OutboxItem) { it.To.Addr = "jan@example.pl\r\nBcc: x@y" }, true},
		{"To with a name", func(it *store.OutboxItem) { it.To.Addr = "Jan <jan@example.pl>" }, true},
		{"empty To", func(it *store.OutboxItem) { it.To.Addr = "" }, true},
		{"bad From", func(it *store.OutboxItem) { it.From.Addr = "not an address" }, false},
		{"bad envelope sender", func(it *store.OutboxItem) { it.EnvelopeFrom = "x@y\r\n" }, false},
		{"bad Message-ID", func(it *store.OutboxItem) { it.MessageID = "no-at-sign" }, false},
		{"no Date", func(it *store.OutboxItem) { it.Date = time.Time{} }, false},
		{"bad Auto-Submitted", func(it *store.OutboxItem) { it.AutoSubmitted = "auto-replied\r\nBcc: x@y" }, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			it := ackItem()
			tt.edit(it)
			_, err := Compose(it)
			if err == nil {
				t.Fatal("composed")
			}
			if errors.Is(err, errBadRecipient) != tt.recipient {
				t.Errorf("recipient error = %v: %v", !tt.recipient, err)
			}
		})
	}
}

func TestComposeEnvelopeSender(t *testing.T) {
	tests := []struct {
		envelope, want string
	}{
		{"bounce+1.ab@sklep.example", "bounce+1.ab@sklep.example"},
		{"", "reklamacje@sklep.example"},
	}
	for _, tt := range tests {
		it := ackItem()
		it.EnvelopeFrom = tt.envelope
		m, err := Compose(it)
		if err != nil {
			t.Fatal(err)
		}
		if got, err := m.GetSender(false); err != nil || got != "<"+tt.want+">" {
			t.Errorf("envelope %q: sender %q (%v), want %q", tt.envelope, got, err, tt.want)
		}
	}
}

func TestSafeHeaderText(t *testing.T) {
	tests := []struct {
		in   string
		max  int
		want string
	}{
		{"Hello\r\nBcc: evil@example.com", 250, "Hello Bcc: evil@example.com"},
		{"Hi\nX-Evil: 1", 250, "Hi X-Evil: 1"},
		{"folded\r\n  header", 250, "folded header"},
		{"a \r\n\t b", 250, "a b"},
		{"tab\there", 250, "tab here"},
		{"nul\x00del\x7fnel\u0085ls\u2028ps\u2029end", 250, "nul del nel ls ps end"},
		{"  \r\n trimmed \n ", 250, "trimmed"},
		{"two  spaces kept", 250, "two  spaces kept"},
		{"Pęknięty ekran", 250, "Pęknięty ekran"},
		{"Pęknięty ekran", 4, "Pękn"},
		{"cut before space x", 11, "cut before"},
		{"bad \xff utf8", 250, "bad \uFFFD utf8"},
		{strings.Repeat("x", 2000), 0, strings.Repeat("x", headerLineMax)},
		{strings.Repeat("x", 2000), 5000, strings.Repeat("x", headerLineMax)},
		{"", 10, ""},
	}
	for _, tt := range tests {
		if got := SafeHeaderText(tt.in, tt.max); got != tt.want {
			t.Errorf("SafeHeaderText(%q, %d) = %q, want %q", tt.in, tt.max, got, tt.want)
		}
	}
}

func TestValidMessageID(t *testing.T) {
	tests := []struct {
		id string
		ok bool
	}{
		{"CAF4t+Zq=x9@mail.gmail.com", true},
		{"a@b", true},
		{"x.y!#$%&'*+/=?^_`{|}~-@[127.0.0.1]", true},
		{"", false},
		{"@b", false},
		{"a@", false},
		{"no-at-sign", false},
		{"a b@c", false},
		{"a@b>\r\nBcc: x@y", false},
		{"<a@b>", false},
		{"a\t@b", false},
		{"zażółć@example.com", false},
		{"a@b\x7f", false},
		{strings.Repeat("a", messageIDMax-2) + "@b", true},
		{strings.Repeat("a", messageIDMax-1) + "@b", false},
	}
	for _, tt := range tests {
		if got := ValidMessageID(tt.id); got != tt.ok {
			t.Errorf("ValidMessageID(%q) = %v, want %v", tt.id, got, tt.ok)
		}
	}
}

func TestIsLanguageTag(t *testing.T) {
	tests := []struct {
		tag string
		ok  bool
	}{
		{"pl", true}, {"en-GB", true}, {"zh-Hant-TW", true}, {"", false},
		{"pl-", false}, {"1pl", false}, {"pl_PL", false}, {"pl\r\nX: y", false}, {"toolongsubtag", false},
	}
	for _, tt := range tests {
		if got := isLanguageTag(tt.tag); got != tt.ok {
			t.Errorf("isLanguageTag(%q) = %v, want %v", tt.tag, got, tt.ok)
		}
	}
}
