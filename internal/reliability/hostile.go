package reliability

import (
	"bytes"
	"encoding/base64"
	"fmt"
	"math/rand/v2"
	"strings"
)

// Hostile is one message built to hurt a mail parser or what comes after
// it.
type Hostile struct {
	Name      string
	MessageID string
	Raw       []byte
}

const hostileHeader = "From: %s\r\nTo: claims@example.test\r\nSubject: %s\r\nMessage-ID: <%s>\r\nDate: Mon, 23 Nov 2026 09:14:02 +0100\r\nMIME-Version: 1.0\r\n"

// BigMessage is a complaint with an attachment of mb MiB of random bytes,
// base64-encoded (so the message is a third larger).
func BigMessage(mb int) Hostile {
	att := make([]byte, mb<<20)
	rand.NewChaCha8([32]byte{3, 4}).Read(att)
	var b bytes.Buffer
	id := fmt.Sprintf("big-%dmb@example.net", mb)
	fmt.Fprintf(&b, hostileHeader, "Jan Kowalski <jan+big@example.test>", "Film z usterki", id)
	b.WriteString("Content-Type: multipart/mixed; boundary=b\r\n\r\n--b\r\nContent-Type: text/plain; charset=utf-8\r\n\r\nW załączniku film pokazujący usterkę.\r\n" +
		"--b\r\nContent-Type: video/mp4\r\nContent-Disposition: attachment; filename=usterka.mp4\r\nContent-Transfer-Encoding: base64\r\n\r\n")
	enc := base64.StdEncoding.EncodeToString(att)
	for len(enc) > 76 {
		b.WriteString(enc[:76] + "\r\n")
		enc = enc[76:]
	}
	b.WriteString(enc + "\r\n--b--\r\n")
	return Hostile{Name: fmt.Sprintf("%d MB attachment", mb), MessageID: id, Raw: b.Bytes()}
}

// HostileMessages returns the parser-hostile messages of the suite: many
// parts, deep nesting, megabyte header lines, header injection through
// names and subjects, attachment names that are paths. Each has its own
// sender and Message-ID.
func HostileMessages(parts int) []Hostile {
	var out []Hostile
	add := func(name, from, subject, id, rest string) {
		out = append(out, Hostile{Name: name, MessageID: id, Raw: []byte(fmt.Sprintf(hostileHeader, from, subject, id) + rest)})
	}

	var many strings.Builder
	many.WriteString("Content-Type: multipart/mixed; boundary=p\r\n\r\n--p\r\nContent-Type: text/plain; charset=utf-8\r\n\r\nZdjęcia w załącznikach.\r\n")
	for i := range parts {
		fmt.Fprintf(&many, "--p\r\nContent-Type: image/png\r\nContent-Disposition: attachment; filename=\"img%05d.png\"\r\nContent-Transfer-Encoding: base64\r\n\r\niVBORw0KGgo%05d\r\n", i, i)
	}
	many.WriteString("--p--\r\n")
	add(fmt.Sprintf("%d MIME parts", parts), "Jan <jan+parts@example.test>", "Dużo zdjęć", "parts@example.net", many.String())

	const depth = 5000
	var nest strings.Builder
	nest.WriteString("Content-Type: multipart/mixed; boundary=n0\r\n\r\n")
	for i := range depth {
		fmt.Fprintf(&nest, "--n%d\r\nContent-Type: multipart/mixed; boundary=n%d\r\n\r\n", i, i+1)
	}
	fmt.Fprintf(&nest, "--n%d\r\nContent-Type: text/plain\r\n\r\nNa samym dnie.\r\n", depth)
	for i := depth; i >= 0; i-- {
		fmt.Fprintf(&nest, "--n%d--\r\n", i)
	}
	add(fmt.Sprintf("multiparts nested %d deep", depth), "Jan <jan+nested@example.test>", "Zagnieżdżone", "nested@example.net", nest.String())

	// 1 MB lines (10^6 bytes) fit under the parser's 1 MiB header cap;
	// the last header is over it.
	long := strings.Repeat("Reklamacja ", 1_000_000/11)
	add("1 MB Subject line", "Jan <jan+longsubject@example.test>", long, "longsubject@example.net",
		"Content-Type: text/plain\r\n\r\nTemat jest długi.\r\n")
	add("1 MB header line and 1 MB body line", "Jan <jan+longheader@example.test>", "Długi nagłówek", "longheader@example.net",
		"X-Padding: "+strings.Repeat("x", 1_000_000)+"\r\nContent-Type: text/plain\r\n\r\n"+strings.Repeat("y", 1_000_000)+"\r\n")
	add("header over 1 MiB", "Jan <jan+hugeheader@example.test>", "Ogromny nagłówek", "hugeheader@example.net",
		"X-Padding: "+strings.Repeat("x", 1<<20)+"\r\nContent-Type: text/plain\r\n\r\nTreść.\r\n")
	add("100,000 header fields", "Jan <jan+fields@example.test>", "Dużo nagłówków", "fields@example.net",
		strings.Repeat("X-A: 1\r\n", 100_000)+"Content-Type: text/plain\r\n\r\nTreść.\r\n")

	// Header injection: line breaks smuggled in through encoded words
	// of the display name and the subject, which the acknowledgement
	// quotes in its To and Subject.
	add("header injection through the sender's name", "=?UTF-8?Q?Jan=0D=0ABcc:_victim@evil.example=0D=0AX-Injected:_1?= <jan+inj1@example.test>",
		"Reklamacja", "inj1@example.net", "Content-Type: text/plain\r\n\r\nProszę o zwrot.\r\n")
	add("header injection through the subject", "Jan <jan+inj2@example.test>",
		"=?UTF-8?Q?Reklamacja=0D=0ABcc:_victim@evil.example=0D=0AX-Injected:_1=0D=0A=0D=0Afake_body?=",
		"inj2@example.net", "Content-Type: text/plain\r\n\r\nProszę o zwrot.\r\n")
	add("header injection through a bare CR in the subject", "Jan <jan+inj3@example.test>",
		"Reklamacja\rBcc: victim@evil.example", "inj3@example.net", "Content-Type: text/plain\r\n\r\nProszę o zwrot.\r\n")

	var paths strings.Builder
	paths.WriteString("Content-Type: multipart/mixed; boundary=a\r\n\r\n--a\r\nContent-Type: text/plain; charset=utf-8\r\n\r\nDokumenty w załącznikach.\r\n")
	for i, name := range AttackNames {
		fmt.Fprintf(&paths, "--a\r\nContent-Type: application/octet-stream\r\nContent-Disposition: attachment; %s\r\nContent-Transfer-Encoding: base64\r\n\r\n%s\r\n",
			name, base64.StdEncoding.EncodeToString([]byte(fmt.Sprintf("%s payload %d", AttackMarker, i))))
	}
	paths.WriteString("--a--\r\n")
	add("attachment names that are paths", "Jan <jan+paths@example.test>", "Załączniki", "paths@example.net", paths.String())
	return out
}

// AttackMarker is the file name every path attack in AttackNames aims to
// create; a test looks for it outside the data directory.
const AttackMarker = "claimsd-reliability-escaped"

// AttackNames are Content-Disposition parameters naming files outside
// any folder they might be written to.
var AttackNames = []string{
	`filename="../../../../../../tmp/` + AttackMarker + `"`,
	`filename="/tmp/` + AttackMarker + `"`,
	`filename="..\\..\\..\\..\\` + AttackMarker + `.dll"`,
	`filename*=utf-8''..%2F..%2F..%2F..%2Ftmp%2F` + AttackMarker,
	`filename="` + AttackMarker + `%00.pdf"`,
	`filename="./` + strings.Repeat("a/", 300) + AttackMarker + `"`,
}
