package message

import (
	"bytes"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/claimsd/claimsd/internal/mailtest"
	"time"
	"unicode/utf8"
)

// checkInvariants asserts what Parse guarantees for any input: bounded
// output and valid UTF-8 text.
func checkInvariants(tb testing.TB, name string, p *Parsed) {
	tb.Helper()
	if p == nil {
		tb.Fatalf("%s: nil Parsed", name)
	}
	if len(p.Text) > maxTextBytes {
		tb.Errorf("%s: Text is %d bytes, cap is %d", name, len(p.Text), maxTextBytes)
	}
	if len(p.Attachments) > maxParts {
		tb.Errorf("%s: %d attachments, cap is %d", name, len(p.Attachments), maxParts)
	}
	if len(p.Problems) > maxProblems+1 {
		tb.Errorf("%s: %d problems, cap is %d+1", name, len(p.Problems), maxProblems)
	}
	if len(p.References) > maxReferences {
		tb.Errorf("%s: %d references, cap is %d", name, len(p.References), maxReferences)
	}
	for field, s := range map[string]string{
		"Text": p.Text, "NewText": p.NewText, "Quoted": p.Quoted, "Subject": p.Subject,
		"From.Name": p.From.Name, "From.Addr": p.From.Addr, "MessageID": p.MessageID,
	} {
		if !utf8.ValidString(s) {
			tb.Errorf("%s: %s is not valid UTF-8: %q", name, field, s)
		}
	}
	if len(p.NewText)+len(p.Quoted) > len(p.Text) {
		tb.Errorf("%s: NewText+Quoted (%d) longer than Text (%d)", name, len(p.NewText)+len(p.Quoted), len(p.Text))
	}
	for _, a := range p.Attachments {
		if a.Name == "" || len(a.SHA256) != 64 || a.Size < 0 {
			tb.Errorf("%s: bad attachment %+v", name, a)
		}
	}
}

// fuzzSeeds are small messages exercising the main paths.
var fuzzSeeds = []string{
	"From: a@b\r\nSubject: hi\r\n\r\nbody\r\n",
	"Subject: =?iso-8859-2?Q?Za=BF=F3=B3=E6?=\r\nContent-Type: text/plain; charset=windows-1250\r\n\r\n\xb9\x9c\r\n",
	"Content-Type: multipart/mixed; boundary=x\r\n\r\n--x\r\nContent-Type: text/html\r\n\r\n<p>a</p>\r\n--x\r\nContent-Type: image/png\r\nContent-Transfer-Encoding: base64\r\n\r\niVBORw0KGgo=\r\n--x--\r\n",
	"Content-Type: multipart/report; report-type=delivery-status; boundary=b\r\n\r\n--b\r\n\r\nfailed\r\n--b\r\nContent-Type: text/rfc822-headers\r\n\r\nMessage-ID: <x@y>\r\n\r\n--b--\r\n",
	"Content-Type: multipart/alternative; boundary=a\r\n\r\n--a\r\nContent-Type: multipart/related; boundary=b\r\n\r\n--b\r\n\r\nx\r\n--b--\r\n--a--\r\n",
	"\x00\xff garbage",
	"",
}

// FuzzParse checks that Parse never panics and keeps its output bounded.
// It is seeded with small messages and, when present, the corpus.
func FuzzParse(f *testing.F) {
	for _, s := range fuzzSeeds {
		f.Add([]byte(s))
	}
	if corpus, err := mailtest.FindCorpus(); err == nil {
		for _, pattern := range []string{"enmime/*.raw", "mikel-mail/*.eml", "mail-parser/*.eml"} {
			files, _ := filepath.Glob(filepath.Join(corpus, pattern))
			for _, file := range files {
				if b, err := os.ReadFile(file); err == nil && len(b) < 64<<10 {
					f.Add(b)
				}
			}
		}
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		p, err := Parse(bytes.NewReader(data), hashSink{})
		if errors.Is(err, ErrInternal) {
			t.Fatalf("parser panicked: %v", err)
		}
		checkInvariants(t, "fuzz", p)
		// Decoding may grow plain text (a legacy 8-bit byte becomes up to
		// 3 bytes of UTF-8) but text cannot come from nowhere.
		if !p.FromHTML && len(p.Text) > 3*len(data)+16 {
			t.Errorf("Text %d bytes from %d input bytes", len(p.Text), len(data))
		}
	})
}

// FuzzNormalizeSubject checks that NormalizeSubject never panics and is
// idempotent.
func FuzzNormalizeSubject(f *testing.F) {
	for _, s := range []string{
		"Odp: PD: Re[2]: Pęknięty ekran [CLM-2026-000123]",
		"RE: [EXTERNAL] Fwd: Zażółć gęślą jaźń",
		"I need help", "Re：x", "[a][b]", "re re: re:", "İ", "\xff\xfe",
		"Re: [CLM-2026-000001]", "RE^3: (fwd)", " \t ",
	} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		once := NormalizeSubject(s)
		if twice := NormalizeSubject(once); twice != once {
			t.Errorf("not idempotent: %q -> %q -> %q", s, once, twice)
		}
		if !utf8.ValidString(once) {
			t.Errorf("invalid UTF-8 from %q: %q", s, once)
		}
	})
}

// FuzzSplitReply checks that SplitReply never panics and only returns
// lines of its input.
func FuzzSplitReply(f *testing.F) {
	for _, s := range []string{
		"Thanks\n\nOn Mon, 1 Jan 2026, Jan <j@x> wrote:\n> hi\n",
		"Dziękuję\nW dniu 1.01.2026 Jan\nnapisał(a):\n> a",
		"a\n---------- Forwarded message ---------\nFrom: x\n",
		"x\n________________________________\nOd: y\nWysłane: z\nDo: q\n",
	} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		newText, quoted := SplitReply(s)
		if len(newText)+len(quoted) > len(s)+1 {
			t.Errorf("output longer than input: %d+%d > %d", len(newText), len(quoted), len(s))
		}
	})
}

// TestHostileInputsStayFast feeds inputs shaped to trigger quadratic
// behaviour (long prefix chains, name pieces without addresses, many
// unterminated encoded-words, header blocks that look like Outlook's).
// Each must finish far below the limit; a quadratic regression takes
// minutes on these sizes.
func TestHostileInputsStayFast(t *testing.T) {
	if testing.Short() {
		t.Skip("large inputs")
	}
	const limit = 20 * time.Second
	cases := map[string]func(){
		"subject prefix chain":  func() { NormalizeSubject(strings.Repeat("Re: [x] ", 100000) + "Fwd: tail") },
		"subject trailing tags": func() { NormalizeSubject("x" + strings.Repeat(" [a]", 200000)) },
		"address name pieces":   func() { parseAddressList(strings.Repeat("a, ", 200000)) },
		"message": func() {
			raw := "From: " + strings.Repeat("a; ", 100000) + "\r\nSubject: " + strings.Repeat("=?a?q?", 50000) +
				"\r\nTo: " + strings.Repeat("(", 100000) + "\r\n\r\n" + strings.Repeat("From: x\n", 100000) + strings.Repeat("-", 1<<20)
			Parse(strings.NewReader(raw), hashSink{})
		},
		"reply": func() { SplitReply(strings.Repeat("On 1 Mar 2026 x\nwrote:\n", 100000)) },
	}
	for name, f := range cases {
		start := time.Now()
		f()
		if d := time.Since(start); d > limit {
			t.Errorf("%s took %v", name, d)
		} else {
			t.Logf("%s: %v", name, d)
		}
	}
}
