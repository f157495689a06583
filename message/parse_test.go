package message

import (
	"bytes"
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"errors"
	"io"
	"runtime"
	"strings"
	"testing"
	"time"

	"golang.org/x/text/encoding/charmap"
)

const pangram = "Zażółć gęślą jaźń"

// Parts of a delivery status notification (RFC 3464) used below. The line
// break before a boundary belongs to the boundary (RFC 2046 section 5.1.1).
const (
	dsnStatus  = "Reporting-MTA: dns; mx.example.com\n\nFinal-Recipient: rfc822; nobody@example.org\nAction: failed\nStatus: 5.1.1"
	dsnHeaders = "From: obsluga@example.com\nMessage-ID:\n <CLM-2026-000123.1@claimsd.example.com>\nSubject: Re: reklamacja\n"
)

// crlf turns a readable test message into wire form.
func crlf(s string) string {
	return strings.ReplaceAll(s, "\n", "\r\n")
}

// encode converts UTF-8 to a legacy charset for test input.
func encode(t testing.TB, cm *charmap.Charmap, s string) string {
	t.Helper()
	out, err := cm.NewEncoder().String(s)
	if err != nil {
		t.Fatalf("encode %q: %v", s, err)
	}
	return out
}

// qEncode builds an RFC 2047 Q encoded-word from raw bytes.
func qEncode(charset, raw string) string {
	var b strings.Builder
	for i := 0; i < len(raw); i++ {
		c := raw[i]
		switch {
		case c == ' ':
			b.WriteByte('_')
		case c >= 0x80 || c == '=' || c == '?' || c == '_':
			b.WriteString("=" + strings.ToUpper(hex.EncodeToString([]byte{c})))
		default:
			b.WriteByte(c)
		}
	}
	return "=?" + charset + "?Q?" + b.String() + "?="
}

func sha(b []byte) string {
	s := sha256.Sum256(b)
	return hex.EncodeToString(s[:])
}

func hasProblem(p *Parsed, substr string) bool {
	for _, pr := range p.Problems {
		if strings.Contains(pr, substr) {
			return true
		}
	}
	return false
}

// parseCase is one table row: a message and what must come out of it.
type parseCase struct {
	name        string
	raw         string
	wantErr     bool
	subject     string
	from        Address
	text        string // exact Text, when set
	textHas     []string
	fromHTML    bool
	attachments []Attachment // Name, ContentType, Inline, Size compared; SHA256 when set
	problemHas  []string
	noProblems  bool
	check       func(t *testing.T, p *Parsed, sink *memSink)
}

func parseCases(t *testing.T) []parseCase {
	l2 := func(s string) string { return encode(t, charmap.ISO8859_2, s) }
	cp := func(s string) string { return encode(t, charmap.Windows1250, s) }
	pdf := []byte("%PDF-1.4 fake pdf \x00\x01\x02")
	png := []byte("\x89PNG\r\n\x1a\nfake")
	return []parseCase{
		{
			name: "iso-8859-2 body and Q subject",
			raw: crlf("From: " + qEncode("iso-8859-2", l2("Paweł Żółw")) + " <Pawel@Example.PL>\n" +
				"To: obsluga@example.com\n" +
				"Subject: " + qEncode("iso-8859-2", l2(pangram)) + "\n" +
				"Message-ID: <a1@example.pl>\n" +
				"Date: Tue, 3 Mar 2026 10:15:00 +0100\n" +
				"MIME-Version: 1.0\n" +
				"Content-Type: text/plain; charset=ISO-8859-2\n" +
				"Content-Transfer-Encoding: 8bit\n\n" +
				l2(pangram) + "\n"),
			subject:    pangram,
			from:       Address{Name: "Paweł Żółw", Addr: "pawel@example.pl"},
			text:       pangram,
			noProblems: true,
			check: func(t *testing.T, p *Parsed, _ *memSink) {
				want := time.Date(2026, 3, 3, 10, 15, 0, 0, time.FixedZone("", 3600))
				if !p.Date.Equal(want) {
					t.Errorf("Date = %v, want %v", p.Date, want)
				}
				if p.MessageID != "a1@example.pl" || p.MediaType != "text/plain" {
					t.Errorf("MessageID %q MediaType %q", p.MessageID, p.MediaType)
				}
				if got := p.Header.Get("Subject"); got != pangram {
					t.Errorf("Header Subject = %q", got)
				}
			},
		},
		{
			name: "windows-1250 quoted-printable body and B subject",
			raw: crlf("From: jan@example.pl\n" +
				"Subject: =?windows-1250?B?" + base64.StdEncoding.EncodeToString([]byte(cp(pangram))) + "?=\n" +
				"Content-Type: text/plain; charset=\"windows-1250\"\n" +
				"Content-Transfer-Encoding: quoted-printable\n\n" +
				"Zg=B3aszam reklamacj=EA: p=EAkni=EAty ekran.=\n =9Cwietnie.\n"),
			subject:    pangram,
			from:       Address{Addr: "jan@example.pl"},
			text:       "Zgłaszam reklamację: pęknięty ekran. świetnie.",
			noProblems: true,
		},
		{
			name: "UTF-8 subject split mid-character across encoded-words",
			// "ż" is C5 BC; the encoder cut between the two bytes.
			raw: crlf("Subject: =?UTF-8?B?WmHF?= =?UTF-8?B?vMOzxYLEhw==?= =?utf-8?q?_g=C4=99=C5=9Bl=C4=85?=\n" +
				"\nx\n"),
			subject: "Zażółć gęślą",
		},
		{
			name: "mixed charsets and glued encoded-words in subject",
			raw:  crlf("Subject: Re:" + qEncode("iso-8859-2", l2("Zażółć")) + " " + qEncode("windows-1250", cp("gęślą")) + " jaźń\n\nx\n"),
			// Whitespace between adjacent encoded-words is dropped
			// (RFC 2047 section 6.2).
			subject: "Re:Zażółćgęślą jaźń",
		},
		{
			name: "unknown charset is guessed and reported",
			raw: crlf("Subject: " + qEncode("x-polish", cp("Pęknięty")) + "\n" +
				"Content-Type: text/plain; charset=x-polish\n\n" + cp("Ekran jest pęknięty, proszę o naprawę.") + "\n"),
			subject:    "Pęknięty",
			text:       "Ekran jest pęknięty, proszę o naprawę.",
			problemHas: []string{`unknown charset "x-polish"`},
		},
		{
			name:       "8-bit text without charset is guessed",
			raw:        "Subject: " + l2("Gęś") + "\r\n\r\n" + l2("Zepsuła się żarówka, świeci słabo.") + "\r\n",
			subject:    "Gęś",
			text:       "Zepsuła się żarówka, świeci słabo.",
			problemHas: []string{"not valid us-ascii"},
		},
		{
			name: "HTML only",
			raw: crlf("Subject: html\nContent-Type: text/html; charset=utf-8\n\n" +
				"<html><head><style>p{color:red}</style></head><body><p>Dzień dobry,</p>" +
				"<p>drukarka <b>nie działa</b> &amp; piszczy.</p><table><tr><td>Model</td><td>X100</td></tr></table></body></html>\n"),
			fromHTML: true,
			textHas:  []string{"Dzień dobry,", "drukarka nie działa & piszczy.", "Model X100"},
			check: func(t *testing.T, p *Parsed, _ *memSink) {
				if strings.ContainsAny(p.Text, "<>") || strings.Contains(p.Text, "color") {
					t.Errorf("markup left in Text: %q", p.Text)
				}
			},
		},
		{
			name: "HTML with charset only in meta tag",
			raw: "Content-Type: text/html\r\n\r\n<html><head><meta http-equiv=\"Content-Type\" content=\"text/html; charset=iso-8859-2\"></head><body>" +
				l2(pangram) + "</body></html>\r\n",
			fromHTML: true,
			text:     pangram,
		},
		{
			name: "alternative prefers plain text",
			raw: crlf("Content-Type: multipart/alternative; boundary=\"alt\"\n\n" +
				"--alt\nContent-Type: text/plain; charset=utf-8\n\nTekst zwykły.\n" +
				"--alt\nContent-Type: text/html; charset=utf-8\n\n<p>Tekst <b>HTML</b>.</p>\n" +
				"--alt--\n"),
			text:       "Tekst zwykły.",
			noProblems: true,
		},
		{
			name: "RFC 2231 and encoded-word file names",
			raw: crlf("Content-Type: multipart/mixed; boundary=b\n\n" +
				"--b\nContent-Type: text/plain\n\nW załączeniu.\n" +
				"--b\nContent-Type: application/pdf\nContent-Disposition: attachment;\n filename*=iso-8859-2''" + "%B3%F3d%BC.pdf\nContent-Transfer-Encoding: base64\n\n" +
				base64.StdEncoding.EncodeToString(pdf) + "\n" +
				"--b\nContent-Type: application/pdf\nContent-Disposition: attachment;\n filename*0*=utf-8''Za%C5%BC;\n filename*1*=%C3%B3%C5%82%C4%87;\n filename*2=\".pdf\"\n\n" +
				string(pdf) + "\n" +
				"--b\nContent-Type: image/png; name=\"=?utf-8?B?" + base64.StdEncoding.EncodeToString([]byte("zdjęcie.png")) + "?=\"\nContent-Transfer-Encoding: base64\n\n" +
				base64.StdEncoding.EncodeToString(png) + "\n" +
				"--b\nContent-Type: application/octet-stream\nContent-Disposition: attachment; filename=\"..\\\\..\\\\windows\\\\evil.exe\"\n\nMZ\n" +
				"--b--\n"),
			text: "W załączeniu.",
			attachments: []Attachment{
				{Name: "łódź.pdf", ContentType: "application/pdf", Size: int64(len(pdf)), SHA256: sha(pdf)},
				{Name: "Zażółć.pdf", ContentType: "application/pdf", Size: int64(len(pdf)), SHA256: sha(pdf)},
				{Name: "zdjęcie.png", ContentType: "image/png", Size: int64(len(png)), SHA256: sha(png)},
				{Name: "evil.exe", ContentType: "application/octet-stream", Size: 2},
			},
			noProblems: true,
			check: func(t *testing.T, p *Parsed, sink *memSink) {
				if got := sink.get(sha(pdf)); !bytes.Equal(got, pdf) {
					t.Errorf("sink holds %q for the PDF", got)
				}
			},
		},
		{
			name: "nested multiparts with inline image and forwarded message",
			raw: crlf("Content-Type: multipart/mixed; boundary=outer\n\n" +
				"preamble is ignored\n" +
				"--outer\nContent-Type: multipart/alternative; boundary=alt\n\n" +
				"--alt\nContent-Type: text/plain; charset=utf-8\n\nOpis usterki.\n" +
				"--alt\nContent-Type: multipart/related; boundary=rel\n\n" +
				"--rel\nContent-Type: text/html; charset=utf-8\n\n<p>Opis <img src=\"cid:img1\"></p>\n" +
				"--rel\nContent-Type: image/png\nContent-ID: <img1>\nContent-Transfer-Encoding: base64\n\n" +
				base64.StdEncoding.EncodeToString(png) + "\n" +
				"--rel--\n" +
				"--alt--\n" +
				"--outer\nContent-Type: message/rfc822\n\nFrom: a@b\nSubject: earlier\n\nold text\n" +
				"--outer\nContent-Type: application/pdf; name=faktura.pdf\n\n%PDF\n" +
				"--outer--\nepilogue is ignored\n"),
			text: "Opis usterki.",
			attachments: []Attachment{
				{Name: "part-1.2.2.png", ContentType: "image/png", Inline: true, Size: int64(len(png))},
				{Name: "forwarded.eml", ContentType: "message/rfc822", Size: int64(len("From: a@b\r\nSubject: earlier\r\n\r\nold text"))},
				{Name: "faktura.pdf", ContentType: "application/pdf", Size: 4},
			},
			noProblems: true,
		},
		{
			name: "delivery status notification with enclosed headers",
			raw: crlf("Return-Path: <>\n" +
				"From: Mail Delivery System <MAILER-DAEMON@mx.example.com>\n" +
				"Subject: Undelivered Mail Returned to Sender\n" +
				"Content-Type: multipart/report; report-type=Delivery-Status; boundary=\"dsn\"\n\n" +
				"--dsn\nContent-Description: Notification\nContent-Type: text/plain\n\nYour message could not be delivered.\n" +
				"--dsn\nContent-Type: message/delivery-status\n\n" + dsnStatus + "\n" +
				"--dsn\nContent-Type: text/rfc822-headers\n\n" + dsnHeaders + "\n" +
				"--dsn--\n"),
			from: Address{Name: "Mail Delivery System", Addr: "mailer-daemon@mx.example.com"},
			text: "Your message could not be delivered.",
			attachments: []Attachment{
				{Name: "delivery-status.txt", ContentType: "message/delivery-status", Size: int64(len(crlf(dsnStatus)))},
				{Name: "headers.txt", ContentType: "text/rfc822-headers", Size: int64(len(crlf(dsnHeaders)))},
			},
			check: func(t *testing.T, p *Parsed, _ *memSink) {
				if !p.NullSender || p.ReturnPath != "" {
					t.Errorf("NullSender %v ReturnPath %q", p.NullSender, p.ReturnPath)
				}
				if p.MediaType != "multipart/report" || p.ReportType != "delivery-status" {
					t.Errorf("MediaType %q ReportType %q", p.MediaType, p.ReportType)
				}
				if p.EnclosedMessageID != "CLM-2026-000123.1@claimsd.example.com" {
					t.Errorf("EnclosedMessageID %q", p.EnclosedMessageID)
				}
			},
		},
		{
			name: "delivery status notification with enclosed message",
			raw: crlf("Return-Path: <bounces@example.net>\n" +
				"Content-Type: multipart/report; report-type=delivery-status; boundary=r\n\n" +
				"--r\n\nbounced\n" +
				"--r\nContent-Type: message/rfc822\nContent-Disposition: inline\n\nMessage-Id: <orig@example.com>\nSubject: x\n\nbody\n" +
				"--r--\n"),
			text: "bounced",
			check: func(t *testing.T, p *Parsed, _ *memSink) {
				if p.EnclosedMessageID != "orig@example.com" || p.NullSender || p.ReturnPath != "bounces@example.net" {
					t.Errorf("EnclosedMessageID %q NullSender %v ReturnPath %q", p.EnclosedMessageID, p.NullSender, p.ReturnPath)
				}
				if len(p.Attachments) != 1 || p.Attachments[0].Name != "forwarded.eml" || !p.Attachments[0].Inline {
					t.Errorf("attachments %+v", p.Attachments)
				}
			},
		},
		{
			name:       "missing Message-ID",
			raw:        crlf("From: a@example.com\nSubject: bez id\n\nTreść\n"),
			subject:    "bez id",
			text:       "Treść",
			noProblems: true,
			check: func(t *testing.T, p *Parsed, _ *memSink) {
				if p.MessageID != "" || p.InReplyTo != nil || p.References != nil {
					t.Errorf("MessageID %q InReplyTo %q References %q", p.MessageID, p.InReplyTo, p.References)
				}
			},
		},
		{
			name: "lenient ids, dates and addresses",
			raw: crlf("From Jan@example.pl Tue Mar  3 10:15:00 2026\n" +
				"Message-ID: abc.123@example.pl (generated)\n" +
				"In-Reply-To: <first@example.pl> (Jan's message of Monday)\n" +
				"References: <root@example.pl> <first@\n example.pl>\n" +
				"\t<first@example.pl>\n" +
				"Date: 3 Mar 2026 10:15 CET\n" +
				"From: Kowalski, Jan <Jan.Kowalski@Example.PL>\n" +
				"Reply-To: \"=?utf-8?Q?Biuro_Pomocy?=\" <pomoc@example.pl>\n" +
				"To: a@example.com, \"B, C\" <bc@example.com>\n" +
				"Cc: undisclosed-recipients:;\n" +
				"\nok\n"),
			from: Address{Name: "Kowalski, Jan", Addr: "jan.kowalski@example.pl"},
			text: "ok",
			check: func(t *testing.T, p *Parsed, _ *memSink) {
				if p.MessageID != "abc.123@example.pl" {
					t.Errorf("MessageID %q", p.MessageID)
				}
				if strings.Join(p.InReplyTo, ",") != "first@example.pl" {
					t.Errorf("InReplyTo %q", p.InReplyTo)
				}
				if strings.Join(p.References, ",") != "root@example.pl,first@example.pl" {
					t.Errorf("References %q", p.References)
				}
				if p.Date.IsZero() || p.Date.Day() != 3 || p.Date.Hour() != 10 {
					t.Errorf("Date %v", p.Date)
				}
				if len(p.ReplyTo) != 1 || p.ReplyTo[0] != (Address{Name: "Biuro Pomocy", Addr: "pomoc@example.pl"}) {
					t.Errorf("ReplyTo %+v", p.ReplyTo)
				}
				if len(p.To) != 2 || p.To[1] != (Address{Name: "B, C", Addr: "bc@example.com"}) {
					t.Errorf("To %+v", p.To)
				}
				if len(p.Cc) != 0 {
					t.Errorf("Cc %+v", p.Cc)
				}
			},
		},
		{
			name:       "unparseable date",
			raw:        crlf("Date: sometime soon\n\nx\n"),
			problemHas: []string{"unparseable Date"},
			check: func(t *testing.T, p *Parsed, _ *memSink) {
				if !p.Date.IsZero() {
					t.Errorf("Date %v, want zero", p.Date)
				}
			},
		},
		{
			name: "bad base64 keeps what decodes",
			raw: crlf("Content-Type: multipart/mixed; boundary=b\n\n--b\n\ntext\n" +
				"--b\nContent-Type: application/octet-stream; name=a.bin\nContent-Transfer-Encoding: base64\n\n" +
				"QUJD\nRE!VG\nR0hJ====SUpL\n--b--\n"),
			text:       "text",
			problemHas: []string{"outside the base64 alphabet", "decoding stopped"},
			check: func(t *testing.T, p *Parsed, sink *memSink) {
				if len(p.Attachments) != 1 {
					t.Fatalf("attachments %+v", p.Attachments)
				}
				if got := string(sink.get(p.Attachments[0].SHA256)); got != "ABCDEFGHI" {
					t.Errorf("decoded %q, want ABCDEFGHI", got)
				}
			},
		},
		{
			name: "plain text labelled base64",
			raw: crlf("Content-Type: text/plain; charset=utf-8\nContent-Transfer-Encoding: base64\n\n" +
				"To nie jest base64, tylko zwykły tekst.\nDruga linia tekstu.\n"),
			text:       "To nie jest base64, tylko zwykły tekst.\nDruga linia tekstu.",
			problemHas: []string{"declared base64 is not"},
		},
		{
			name: "format=flowed is unwrapped",
			raw: crlf("Content-Type: text/plain; charset=utf-8; format=flowed\n\n" +
				"To jest długa linia, \nktóra była zawinięta.\n>> cytat \n>> dalej\n-- \nJan\n"),
			text: "To jest długa linia, która była zawinięta.\n>> cytat dalej\n-- \nJan",
		},
		{
			name: "reply split by Parse",
			raw: crlf("Subject: Odp: Re: reklamacja\nContent-Type: text/plain; charset=utf-8\n\n" +
				"Nadal nie działa.\n\nW dniu 2.03.2026 o 09:00, Obsługa <obsluga@example.com> pisze:\n> Prosimy o zdjęcie.\n"),
			check: func(t *testing.T, p *Parsed, _ *memSink) {
				if p.NewText != "Nadal nie działa." {
					t.Errorf("NewText %q", p.NewText)
				}
				if !strings.HasPrefix(p.Quoted, "W dniu 2.03.2026") {
					t.Errorf("Quoted %q", p.Quoted)
				}
			},
		},
		{
			name: "unknown transfer encoding and invalid content type",
			raw: crlf("Content-Type: multipart/mixed; boundary=b\n\n" +
				"--b\nContent-Type: text/plain>\n\nfirst\n" +
				"--b\nContent-Type: text/plain\nContent-Transfer-Encoding: x-weird\n\nsecond\n--b--\n"),
			text:       "first\n\nsecond",
			problemHas: []string{"invalid Content-Type", "unknown Content-Transfer-Encoding"},
		},
		{
			name:       "multipart without boundary is read as text",
			raw:        crlf("Content-Type: multipart/mixed\n\nJust text.\n"),
			text:       "Just text.",
			problemHas: []string{"without boundary"},
		},
		{
			name:       "wrong boundary keeps the body as text",
			raw:        crlf("Content-Type: multipart/mixed; boundary=nope\n\n--other\nContent-Type: text/plain\n\nhidden\n--other--\n"),
			textHas:    []string{"hidden"},
			problemHas: []string{"yielded no part"},
		},
		{
			name:       "truncated multipart",
			raw:        crlf("Content-Type: multipart/mixed; boundary=b\n\n--b\nContent-Type: text/plain\n\nbeginning of the te"),
			text:       "beginning of the te",
			problemHas: []string{"closing boundary"},
		},
		{
			name:       "header without blank line",
			raw:        crlf("Subject: s\nThis line starts the body.\nSecond line.\n"),
			subject:    "s",
			text:       "This line starts the body.\nSecond line.",
			problemHas: []string{"without a blank line"},
		},
		{
			name:    "garbage input",
			raw:     "\x00\x01\x02 this is not a message\n\xff\xfe",
			wantErr: true,
		},
		{
			name:    "empty input",
			raw:     "",
			text:    "",
			subject: "",
		},
	}
}

func TestParse(t *testing.T) {
	for _, tc := range parseCases(t) {
		t.Run(tc.name, func(t *testing.T) {
			sink := newMemSink()
			p, err := Parse(strings.NewReader(tc.raw), sink)
			if p == nil {
				t.Fatal("nil Parsed")
			}
			if (err != nil) != tc.wantErr {
				t.Fatalf("err = %v, wantErr %v", err, tc.wantErr)
			}
			checkInvariants(t, tc.name, p)
			if tc.subject != "" && p.Subject != tc.subject {
				t.Errorf("Subject = %q, want %q", p.Subject, tc.subject)
			}
			if tc.from != (Address{}) && p.From != tc.from {
				t.Errorf("From = %+v, want %+v", p.From, tc.from)
			}
			if tc.text != "" && p.Text != tc.text {
				t.Errorf("Text = %q, want %q", p.Text, tc.text)
			}
			for _, s := range tc.textHas {
				if !strings.Contains(p.Text, s) {
					t.Errorf("Text %q lacks %q", p.Text, s)
				}
			}
			if p.FromHTML != tc.fromHTML {
				t.Errorf("FromHTML = %v, want %v", p.FromHTML, tc.fromHTML)
			}
			checkAttachments(t, p, tc.attachments)
			for _, s := range tc.problemHas {
				if !hasProblem(p, s) {
					t.Errorf("no problem mentioning %q in %q", s, p.Problems)
				}
			}
			if tc.noProblems && len(p.Problems) > 0 {
				t.Errorf("unexpected problems %q", p.Problems)
			}
			if tc.check != nil {
				tc.check(t, p, sink)
			}
		})
	}
}

// checkAttachments compares attachments when the case lists any.
func checkAttachments(t *testing.T, p *Parsed, want []Attachment) {
	t.Helper()
	if want == nil {
		return
	}
	if len(p.Attachments) != len(want) {
		t.Fatalf("attachments = %+v, want %d", p.Attachments, len(want))
	}
	for i, w := range want {
		g := p.Attachments[i]
		if g.Name != w.Name || g.ContentType != w.ContentType || g.Inline != w.Inline || g.Size != w.Size {
			t.Errorf("attachment %d = %+v, want %+v", i, g, w)
		}
		if w.SHA256 != "" && g.SHA256 != w.SHA256 {
			t.Errorf("attachment %d sha %s, want %s", i, g.SHA256, w.SHA256)
		}
	}
}

func TestParseHeaderErrorKeepsFields(t *testing.T) {
	raw := "Subject: =?utf-8?Q?Zg=C5=82oszenie?=\r\nMessage-ID: <x@y>\r\nX-Big: " + strings.Repeat("a", maxHeaderBytes) + "\r\n\r\nbody"
	p, err := Parse(strings.NewReader(raw), nil)
	if err == nil {
		t.Fatal("want error for a header over the limit")
	}
	if !errors.Is(err, errHeaderTooBig) {
		t.Errorf("err = %v, want errHeaderTooBig in chain", err)
	}
	if p.Subject != "Zgłoszenie" || p.MessageID != "x@y" {
		t.Errorf("partial header lost: Subject %q MessageID %q", p.Subject, p.MessageID)
	}
}

func TestParseSinkFailure(t *testing.T) {
	raw := crlf("Content-Type: multipart/mixed; boundary=b\n\n--b\n\ntext\n--b\nContent-Type: image/png\n\nPNG\n--b--\n")
	p, err := Parse(strings.NewReader(raw), failSink{})
	if !errors.Is(err, errSinkFull) {
		t.Fatalf("err = %v, want errSinkFull", err)
	}
	if p.Text != "text" {
		t.Errorf("Text %q", p.Text)
	}
}

func TestParseRecoversPanic(t *testing.T) {
	raw := crlf("Subject: s\nContent-Type: image/png\n\nPNG\n")
	p, err := Parse(strings.NewReader(raw), panicSink{})
	if !errors.Is(err, ErrInternal) || !strings.Contains(err.Error(), "sink bug") {
		t.Fatalf("err = %v, want ErrInternal", err)
	}
	if p == nil || p.Subject != "s" {
		t.Errorf("Parsed %+v", p)
	}
}

// failingReader returns some bytes, then an I/O error.
type failingReader struct {
	data []byte
	err  error
}

func (f *failingReader) Read(p []byte) (int, error) {
	if len(f.data) == 0 {
		return 0, f.err
	}
	n := copy(p, f.data)
	f.data = f.data[n:]
	return n, nil
}

func TestParseReaderFailure(t *testing.T) {
	ioErr := errors.New("connection reset")
	r := &failingReader{data: []byte("Subject: s\r\n\r\npartial bo"), err: ioErr}
	p, err := Parse(r, nil)
	if !errors.Is(err, ioErr) {
		t.Fatalf("err = %v, want the reader's error", err)
	}
	if p.Subject != "s" {
		t.Errorf("Subject %q", p.Subject)
	}
}

func TestParseNilSinkHashes(t *testing.T) {
	raw := crlf("Content-Type: application/pdf\nContent-Disposition: attachment; filename=a.pdf\n\n%PDF\n")
	p, err := Parse(strings.NewReader(raw), nil)
	if err != nil {
		t.Fatal(err)
	}
	if len(p.Attachments) != 1 || p.Attachments[0].SHA256 != sha([]byte("%PDF\r\n")) {
		t.Errorf("attachments %+v", p.Attachments)
	}
}

func TestParseLimits(t *testing.T) {
	t.Run("parts", func(t *testing.T) {
		var b strings.Builder
		b.WriteString("Content-Type: multipart/mixed; boundary=b\r\n\r\n")
		for i := 0; i < maxParts+50; i++ {
			b.WriteString("--b\r\nContent-Type: image/gif\r\n\r\nGIF\r\n")
		}
		b.WriteString("--b--\r\n")
		p, err := Parse(strings.NewReader(b.String()), hashSink{})
		if err != nil {
			t.Fatal(err)
		}
		if len(p.Attachments) != maxParts-1 || !hasProblem(p, "more than 1000 MIME parts") {
			t.Errorf("%d attachments, problems %q", len(p.Attachments), p.Problems)
		}
	})
	t.Run("depth", func(t *testing.T) {
		var b strings.Builder
		const levels = 40
		for i := 0; i < levels; i++ {
			b.WriteString("Content-Type: multipart/mixed; boundary=b" + strings.Repeat("x", i) + "\r\n\r\n--b" + strings.Repeat("x", i) + "\r\n")
		}
		b.WriteString("Content-Type: text/plain\r\n\r\ndeep\r\n")
		for i := levels - 1; i >= 0; i-- {
			b.WriteString("--b" + strings.Repeat("x", i) + "--\r\n")
		}
		p, err := Parse(strings.NewReader(b.String()), hashSink{})
		if err != nil {
			t.Fatal(err)
		}
		if p.Text != "" || !hasProblem(p, "nesting deeper than 30") {
			t.Errorf("Text %q problems %q", p.Text, p.Problems)
		}
	})
	t.Run("text", func(t *testing.T) {
		line := strings.Repeat("ą", 40) + "\r\n"
		body := strings.Repeat(line, 3*maxTextBytes/len(line))
		p, err := Parse(strings.NewReader("Content-Type: text/plain; charset=utf-8\r\n\r\n"+body), nil)
		if err != nil {
			t.Fatal(err)
		}
		if len(p.Text) > maxTextBytes || len(p.Text) < maxTextBytes/2 || !hasProblem(p, "bytes dropped") {
			t.Errorf("Text %d bytes, problems %q", len(p.Text), p.Problems)
		}
	})
	t.Run("problems", func(t *testing.T) {
		var b strings.Builder
		b.WriteString("Content-Type: multipart/mixed; boundary=b\r\n\r\n")
		for i := 0; i < 3*maxProblems; i++ {
			b.WriteString("--b\r\nContent-Type: text/plain; charset=x-nonsense\r\n\r\nx\r\n")
		}
		b.WriteString("--b--\r\n")
		p, _ := Parse(strings.NewReader(b.String()), nil)
		if len(p.Problems) != maxProblems+1 || !strings.Contains(p.Problems[maxProblems], "more problems not listed") {
			t.Errorf("%d problems, last %q", len(p.Problems), p.Problems[len(p.Problems)-1])
		}
	})
}

// bigAttachment generates, without allocating, a message whose only
// attachment decodes to size bytes of base64 data.
type bigAttachment struct {
	head, tail string
	lines      int // base64 lines still to produce
	pos        int
	stage      int
}

// b64Line is 76 characters of base64 (57 bytes) plus CRLF.
const b64Line = "QUJDREVGR0hJSktMTU5PUFFSU1RVVldYWVphYmNkZWZnaGlqa2xtbm9wcXJzdHV2d3h5ejAxMjM0\r\n"

func newBigAttachment(size int) *bigAttachment {
	return &bigAttachment{
		head: "Subject: big\r\nContent-Type: multipart/mixed; boundary=b\r\n\r\n--b\r\n\r\nsee attachment\r\n" +
			"--b\r\nContent-Type: video/mp4\r\nContent-Disposition: attachment; filename=film.mp4\r\nContent-Transfer-Encoding: base64\r\n\r\n",
		tail:  "--b--\r\n",
		lines: size / 57,
	}
}

func (g *bigAttachment) Read(p []byte) (int, error) {
	n := 0
	for n < len(p) {
		var src string
		switch {
		case g.stage == 0:
			src = g.head
		case g.stage == 1 && g.lines > 0:
			src = b64Line
		case g.stage == 1:
			g.stage, g.pos = 2, 0
			continue
		case g.stage == 2:
			src = g.tail
		default:
			if n == 0 {
				return 0, io.EOF
			}
			return n, nil
		}
		c := copy(p[n:], src[g.pos:])
		n += c
		g.pos += c
		if g.pos == len(src) {
			g.pos = 0
			if g.stage == 1 {
				g.lines--
			} else {
				g.stage++
			}
		}
	}
	return n, nil
}

// runtimeMem samples the allocator.
type runtimeMem struct{ totalAlloc uint64 }

func (m *runtimeMem) read() {
	var s runtime.MemStats
	runtime.ReadMemStats(&s)
	m.totalAlloc = s.TotalAlloc
}

// TestParseStreamsAttachments checks that a 50 MB attachment goes to the
// sink without being held in memory: total allocation during Parse must
// stay far below the attachment size.
func TestParseStreamsAttachments(t *testing.T) {
	const size = 50 << 20
	var before, after runtimeMem
	before.read()
	p, err := Parse(newBigAttachment(size), hashSink{})
	after.read()
	if err != nil {
		t.Fatal(err)
	}
	if len(p.Attachments) != 1 || p.Attachments[0].Size != int64(size/57*57) || p.Text != "see attachment" {
		t.Fatalf("attachments %+v text %q", p.Attachments, p.Text)
	}
	allocated := after.totalAlloc - before.totalAlloc
	t.Logf("allocated %d KiB while parsing a %d MiB attachment", allocated>>10, size>>20)
	if allocated > 8<<20 {
		t.Errorf("allocated %d bytes for a %d byte attachment; not streaming", allocated, size)
	}
}

func TestParseSloppyFromIsNotMbox(t *testing.T) {
	p, err := Parse(strings.NewReader("From : Jan <jan@example.pl>\r\nSubject: s\r\n\r\nx"), nil)
	if err != nil || p.From.Addr != "jan@example.pl" {
		t.Errorf("From %+v err %v", p.From, err)
	}
}
