package message

import (
	"bytes"
	"encoding/base64"
	"mime/quotedprintable"
	"strings"
	"testing"
)

// complaintText is the kind of message claimsd receives: a Polish
// complaint replying to the helpdesk, with Outlook-style quoted history.
const complaintText = `Dzień dobry,

zwracam się z reklamacją dotyczącą pralki Amica WA-1234 kupionej 12 stycznia 2026 r.
w Państwa sklepie internetowym (zamówienie nr 2026/01/004567). Po trzech tygodniach
użytkowania urządzenie przestało odwirowywać pranie, a podczas pracy słychać głośne
stukanie. Wyświetlacz pokazuje błąd E21. Zgodnie z instrukcją sprawdziłem filtr pompy
i wąż odpływowy – oba są czyste i drożne.

Proszę o naprawę lub wymianę urządzenia na nowe. W załączeniu przesyłam zdjęcie
wyświetlacza oraz skan paragonu. Jestem dostępny pod numerem 600 123 456 w dni
robocze od 8:00 do 16:00.

Z poważaniem
Paweł Żółkiewski
ul. Gęślowa 15/3, 90-001 Łódź

-----Wiadomość oryginalna-----
Od: Dział Reklamacji <reklamacje@example.com>
Wysłano: poniedziałek, 2 marca 2026 09:14
Do: Paweł Żółkiewski <pawel@example.pl>
Temat: RE: Reklamacja pralki [CLM-2026-000123]

Dzień dobry,

dziękujemy za zgłoszenie. Prosimy o przesłanie zdjęcia tabliczki znamionowej
oraz dowodu zakupu, abyśmy mogli rozpatrzyć reklamację.

Pozdrawiamy
Dział Reklamacji
`

// complaintMessage builds a ~5 KB multipart/mixed message: alternative
// plain (quoted-printable) and HTML, plus a small JPEG.
func complaintMessage() []byte {
	var qp bytes.Buffer
	w := quotedprintable.NewWriter(&qp)
	w.Write([]byte(strings.ReplaceAll(complaintText, "\n", "\r\n")))
	w.Close()
	html := "<html><body><p>" + strings.ReplaceAll(strings.SplitN(complaintText, "-----", 2)[0], "\n\n", "</p><p>") + "</p></body></html>"
	var htmlQP bytes.Buffer
	w = quotedprintable.NewWriter(&htmlQP)
	w.Write([]byte(html))
	w.Close()
	jpeg := base64.StdEncoding.EncodeToString(bytes.Repeat([]byte{0xff, 0xd8, 0xff, 0xe0, 0x10, 0x4a}, 120))
	var b strings.Builder
	b.WriteString("Return-Path: <pawel@example.pl>\r\n" +
		"From: =?utf-8?Q?Pawe=C5=82_=C5=BB=C3=B3=C5=82kiewski?= <pawel@example.pl>\r\n" +
		"To: Dział Reklamacji <reklamacje@example.com>\r\n" +
		"Subject: =?utf-8?Q?Odp:_RE:_Reklamacja_pralki_[CLM-2026-000123]?=\r\n" +
		"Date: Tue, 3 Mar 2026 10:15:42 +0100\r\n" +
		"Message-ID: <AM0PR01MB1234ABCD@example.pl>\r\n" +
		"In-Reply-To: <CLM-2026-000123.2@claimsd.example.com>\r\n" +
		"References: <CLM-2026-000123.1@claimsd.example.com> <CLM-2026-000123.2@claimsd.example.com>\r\n" +
		"MIME-Version: 1.0\r\n" +
		"Content-Type: multipart/mixed; boundary=\"_004_mixed_\"\r\n\r\n" +
		"--_004_mixed_\r\nContent-Type: multipart/alternative; boundary=\"_000_alt_\"\r\n\r\n" +
		"--_000_alt_\r\nContent-Type: text/plain; charset=\"utf-8\"\r\nContent-Transfer-Encoding: quoted-printable\r\n\r\n")
	b.Write(qp.Bytes())
	b.WriteString("\r\n--_000_alt_\r\nContent-Type: text/html; charset=\"utf-8\"\r\nContent-Transfer-Encoding: quoted-printable\r\n\r\n")
	b.Write(htmlQP.Bytes())
	b.WriteString("\r\n--_000_alt_--\r\n\r\n--_004_mixed_\r\nContent-Type: image/jpeg; name=\"wy=?utf-8?Q?=C5=9Bwietlacz?=.jpg\"\r\n" +
		"Content-Disposition: attachment; filename*=utf-8''wy%C5%9Bwietlacz.jpg\r\nContent-Transfer-Encoding: base64\r\n\r\n")
	for len(jpeg) > 76 {
		b.WriteString(jpeg[:76] + "\r\n")
		jpeg = jpeg[76:]
	}
	b.WriteString(jpeg + "\r\n--_004_mixed_--\r\n")
	return []byte(b.String())
}

func TestComplaintMessage(t *testing.T) {
	raw := complaintMessage()
	p, err := Parse(bytes.NewReader(raw), hashSink{})
	if err != nil {
		t.Fatal(err)
	}
	if len(raw) < 4<<10 || len(raw) > 7<<10 {
		t.Errorf("benchmark message is %d bytes, want about 5 KB", len(raw))
	}
	if NormalizeSubject(p.Subject) != "reklamacja pralki" || !strings.HasSuffix(p.NewText, "90-001 Łódź") ||
		!strings.HasPrefix(p.Quoted, "-----Wiadomość oryginalna-----") || len(p.Attachments) != 1 ||
		p.Attachments[0].Name != "wyświetlacz.jpg" || len(p.Problems) != 0 {
		t.Errorf("unexpected parse: subject %q attachments %+v problems %q\nnew %q", p.Subject, p.Attachments, p.Problems, p.NewText)
	}
}

func BenchmarkParse(b *testing.B) {
	raw := complaintMessage()
	b.SetBytes(int64(len(raw)))
	b.ReportAllocs()
	for b.Loop() {
		if _, err := Parse(bytes.NewReader(raw), hashSink{}); err != nil {
			b.Fatal(err)
		}
	}
}

func BenchmarkSplitReply(b *testing.B) {
	b.SetBytes(int64(len(complaintText)))
	b.ReportAllocs()
	for b.Loop() {
		SplitReply(complaintText)
	}
}
