package mailtest

import (
	"bytes"
	"encoding/base64"
	"fmt"
	"math/rand/v2"
	"strings"
)

var complaintLines = []string{
	"Dzień dobry, kupiłem u Państwa pralkę Amica WX-%d i po dwóch tygodniach przestała wirować.",
	"Zamówienie nr 2026/11/%05d, faktura FV/2026/11/%04d, numer seryjny SN%08d.",
	"Proszę o naprawę w ramach rękojmi albo wymianę urządzenia na nowe, wolne od wad.",
	"Urządzenie wydaje głośny dźwięk przy wirowaniu i wyświetla błąd E%02d, instrukcja nie pomaga.",
	"Załączam zdjęcia i dowód zakupu. Proszę o informację, czy mam odesłać sprzęt kurierem.",
	"Hello, the item I ordered arrived damaged and the box was crushed; order %d.",
	"I would like a replacement or a refund, whichever is quicker for you. Thank you.",
	"Pozdrawiam serdecznie, z poważaniem, Jan Kowalski, tel. 600 %03d %03d.",
}

// Complaint is a realistic complaint of about 5 KB: headers like a real
// client's, a plain and an HTML part, every tenth with a small attachment.
func Complaint(i int, r *rand.Rand) []byte {
	var text strings.Builder
	for text.Len() < 1800 {
		line := complaintLines[r.IntN(len(complaintLines))]
		if n := strings.Count(line, "%"); n > 0 {
			args := make([]any, n)
			for k := range args {
				args[k] = r.IntN(100000)
			}
			line = fmt.Sprintf(line, args...)
		}
		text.WriteString(line + "\r\n")
	}
	var b bytes.Buffer
	fmt.Fprintf(&b, "Return-Path: <klient%d@example.pl>\r\nReceived: from mx.example.pl (mx.example.pl [192.0.2.%d]) by imap.sklep.example with ESMTPS id %x; Mon, 23 Nov 2026 09:14:02 +0100\r\n", i%500, i%250, r.Uint64())
	fmt.Fprintf(&b, "From: =?UTF-8?Q?Klient_=C5=81=C3=B3d=C5=BA_%d?= <klient%d@example.pl>\r\nTo: reklamacje@sklep.example\r\n", i, i%500)
	fmt.Fprintf(&b, "Subject: =?UTF-8?Q?Reklamacja_nr_%d_-_pralka_nie_wiruje?=\r\nDate: Mon, 23 Nov 2026 09:14:02 +0100\r\nMessage-ID: <bench-%d-%x@example.pl>\r\n", i, i, r.Uint64())
	if i%3 == 1 {
		fmt.Fprintf(&b, "In-Reply-To: <bench-%d-x@example.pl>\r\n", i-1)
	}
	b.WriteString("MIME-Version: 1.0\r\nContent-Type: multipart/mixed; boundary=\"outer\"\r\n\r\n--outer\r\nContent-Type: multipart/alternative; boundary=\"alt\"\r\n\r\n")
	fmt.Fprintf(&b, "--alt\r\nContent-Type: text/plain; charset=utf-8\r\nContent-Transfer-Encoding: 8bit\r\n\r\n%s\r\n", text.String())
	fmt.Fprintf(&b, "--alt\r\nContent-Type: text/html; charset=utf-8\r\n\r\n<html><body><p>%s</p></body></html>\r\n--alt--\r\n", strings.ReplaceAll(text.String(), "\r\n", "<br>\r\n"))
	if i%10 == 0 {
		att := make([]byte, 600)
		for k := range att {
			att[k] = byte(r.Uint32())
		}
		fmt.Fprintf(&b, "--outer\r\nContent-Type: image/jpeg\r\nContent-Disposition: attachment; filename=\"zdjecie%d.jpg\"\r\nContent-Transfer-Encoding: base64\r\n\r\n%s\r\n", i, base64.StdEncoding.EncodeToString(att))
	}
	b.WriteString("--outer--\r\n")
	return b.Bytes()
}
