package message

import (
	"bytes"
	"errors"
	"io"
	"regexp"
	"slices"
	"strings"
	"unicode/utf8"

	"github.com/k3a/html2text"
)

// readCapped reads at most limit bytes of r into buf (reusing its
// capacity; data may alias it) and discards the rest, returning how much
// was dropped. A read error ends reading; the bytes before it are kept.
// It is readCappedBuffer without the bytes.Buffer growing from 512 bytes
// for every part, for readers whose output does not depend on the sizes
// they are read with (see readCappedBuffer).
func readCapped(buf []byte, r io.Reader, limit int64) (data []byte, dropped int64, err error) {
	if limit < 0 {
		limit = 0
	}
	data = buf[:0]
	for int64(len(data)) < limit {
		if len(data) == cap(data) {
			data = slices.Grow(data, bytes.MinRead)
		}
		room := data[len(data):cap(data)]
		if rest := limit - int64(len(data)); int64(len(room)) > rest {
			room = room[:rest]
		}
		n, rerr := r.Read(room)
		data = data[:len(data)+n]
		if rerr == nil {
			continue
		}
		if int64(len(data)) == limit {
			// io.CopyN reports success once it has all it asked for;
			// the error, if it persists, comes from the discarding.
			break
		}
		if errors.Is(rerr, io.EOF) {
			return data, 0, nil
		}
		return data, 0, rerr
	}
	dropped, err = io.Copy(io.Discard, r)
	return data, dropped, err
}

// readCappedBuffer is readCapped through a fresh bytes.Buffer. The base64
// decoder's output on corrupt input (two encodings glued together)
// depends on the sizes it is read with, so base64 text is still read with
// exactly the sizes bytes.Buffer asks for.
func readCappedBuffer(r io.Reader, limit int64) (data []byte, dropped int64, err error) {
	var buf bytes.Buffer
	if limit < 0 {
		limit = 0
	}
	_, err = io.CopyN(&buf, r, limit)
	if errors.Is(err, io.EOF) {
		return buf.Bytes(), 0, nil
	}
	if err != nil {
		return buf.Bytes(), 0, err
	}
	dropped, err = io.Copy(io.Discard, r)
	return buf.Bytes(), dropped, err
}

// stopAtError turns a decoding error into a clean end of data, so the sink
// stores what decoded (bad base64 keeps its good prefix); the error is kept
// for a Problem. Failures of the caller's reader are caught separately by
// sourceReader. What is read is also written to tee, when set.
//
// It implements io.WriterTo so that a sink's io.Copy uses buf instead of
// allocating its own 32 KiB buffer for every attachment; buf has the size
// io.Copy would use, so the decoders are read with the same sizes.
type stopAtError struct {
	r   io.Reader
	err error
	tee *prefixBuffer
	buf []byte
}

func (s *stopAtError) Read(p []byte) (int, error) {
	if s.err != nil {
		return 0, io.EOF
	}
	n, err := s.r.Read(p)
	if n > 0 && s.tee != nil {
		s.tee.Write(p[:n])
	}
	if err != nil && !errors.Is(err, io.EOF) {
		s.err = err
		return n, io.EOF
	}
	return n, err
}

// errInvalidWrite is io's error for a Writer reporting an impossible count.
var errInvalidWrite = errors.New("invalid write result")

// WriteTo writes the data to w as io.Copy would with Read.
func (s *stopAtError) WriteTo(w io.Writer) (written int64, err error) {
	buf := s.buf
	if len(buf) == 0 {
		buf = make([]byte, copyBufferSize)
	}
	for {
		nr, rerr := s.Read(buf)
		if nr > 0 {
			nw, werr := w.Write(buf[:nr])
			if nw < 0 || nr < nw {
				nw = 0
				if werr == nil {
					werr = errInvalidWrite
				}
			}
			written += int64(nw)
			if werr != nil {
				return written, werr
			}
			if nr != nw {
				return written, io.ErrShortWrite
			}
		}
		if rerr != nil {
			if rerr != io.EOF {
				err = rerr
			}
			return written, err
		}
	}
}

// base64Filter passes only base64 alphabet characters and padding:
// RFC 2045 section 6.8 says other characters "are to be ignored", while
// Go's decoder rejects them. It counts the non-whitespace ones it drops
// and pads a truncated final quantum so its bytes are not lost.
type base64Filter struct {
	r       io.Reader
	invalid int
	quantum int
	pad     string
	eof     bool
}

func (f *base64Filter) Read(p []byte) (int, error) {
	for {
		if f.pad != "" {
			n := copy(p, f.pad)
			f.pad = f.pad[n:]
			return n, nil
		}
		if f.eof || len(p) == 0 {
			return 0, io.EOF
		}
		n, err := f.r.Read(p)
		k := f.filter(p[:n])
		if errors.Is(err, io.EOF) {
			f.eof = true
			f.pad = [4]string{"", "", "==", "="}[f.quantum]
			f.quantum = 0
			err = nil
		}
		if k > 0 || err != nil {
			return k, err
		}
	}
}

// filter compacts b in place to its base64 characters and returns their
// count.
func (f *base64Filter) filter(b []byte) int {
	k, invalid := 0, 0
	for _, c := range b {
		switch {
		case isBase64Char(c) || c == '=':
			b[k] = c
			k++
		case c == ' ' || c == '\t' || c == '\r' || c == '\n':
		default:
			invalid++
		}
	}
	f.invalid += invalid
	f.quantum = (f.quantum + k) % 4
	return k
}

// looksLikeBase64 reports whether encoded text has the shape of base64:
// lines without inner spaces. Plain prose fails this on most lines.
func looksLikeBase64(b []byte) bool {
	lines, spaced := 0, 0
	for len(b) > 0 {
		line := b
		if i := bytes.IndexByte(b, '\n'); i >= 0 {
			line, b = b[:i], b[i+1:]
		} else {
			b = nil
		}
		line = bytes.TrimSpace(line)
		if len(line) == 0 {
			continue
		}
		lines++
		if bytes.ContainsAny(line, " \t") {
			spaced++
		}
	}
	return spaced*2 <= lines
}

// prefixBuffer keeps the first limit bytes written to it, until stopped.
type prefixBuffer struct {
	buf     []byte
	limit   int
	stopped bool
}

func (b *prefixBuffer) Write(p []byte) (int, error) {
	if !b.stopped && len(b.buf) < b.limit {
		n := min(len(p), b.limit-len(b.buf))
		b.buf = append(b.buf, p[:n]...)
	}
	return len(p), nil
}

// stop releases the buffer and ignores further writes.
func (b *prefixBuffer) stop() {
	b.stopped = true
	b.buf = nil
}

// normalizeCTE maps a Content-Transfer-Encoding value (RFC 2045 section 6)
// to "", "quoted-printable" or "base64", accepting the misspellings seen in
// the wild; known is false for anything else (x-uuencode, garbage).
func normalizeCTE(v string) (cte string, known bool) {
	v = strings.ToLower(strings.Trim(strings.TrimSpace(v), `"'`))
	if strings.HasPrefix(v, "quoted") {
		return "quoted-printable", true
	}
	if i := strings.IndexAny(v, "; \t("); i >= 0 {
		v = v[:i]
	}
	switch v {
	case "", "7bit", "8bit", "binary", "7-bit", "8-bit", "7bits", "8bits", "plain", "text", "none", "identity":
		return "", true
	case "base64", "base-64", "b64":
		return "base64", true
	case "qp":
		return "quoted-printable", true
	}
	return v, false
}

// sanitizeFilename keeps the last path element of a file name (no "../" or
// "C:\" games), without control characters, at most 255 bytes.
func sanitizeFilename(name string) string {
	name = validText(name)
	if i := strings.LastIndexAny(name, `/\`); i >= 0 {
		name = name[i+1:]
	}
	name = strings.TrimSpace(stripControls(name))
	if name == "." || name == ".." {
		return ""
	}
	return truncateString(name, 255)
}

// defaultNames name unnamed parts whose type says what they are.
var defaultNames = map[string]string{
	"message/rfc822":                   "forwarded.eml",
	"message/global":                   "forwarded.eml",
	"text/rfc822-headers":              "headers.txt",
	"message/global-headers":           "headers.txt",
	"message/delivery-status":          "delivery-status.txt",
	"message/global-delivery-status":   "delivery-status.txt",
	"message/disposition-notification": "disposition-notification.txt",
	"text/calendar":                    "invite.ics",
}

// extensions give unnamed parts a useful suffix.
var extensions = map[string]string{
	"application/ms-tnef":           ".dat",
	"application/msword":            ".doc",
	"application/pdf":               ".pdf",
	"application/pgp-signature":     ".asc",
	"application/pkcs7-mime":        ".p7m",
	"application/pkcs7-signature":   ".p7s",
	"application/vnd.ms-excel":      ".xls",
	"application/x-pkcs7-signature": ".p7s",
	"application/zip":               ".zip",
	"audio/mpeg":                    ".mp3",
	"image/bmp":                     ".bmp",
	"image/gif":                     ".gif",
	"image/heic":                    ".heic",
	"image/jpeg":                    ".jpg",
	"image/jpg":                     ".jpg",
	"image/pjpeg":                   ".jpg",
	"image/png":                     ".png",
	"image/tiff":                    ".tif",
	"image/webp":                    ".webp",
	"text/csv":                      ".csv",
	"text/html":                     ".html",
	"text/plain":                    ".txt",
	"video/mp4":                     ".mp4",
	"application/vnd.openxmlformats-officedocument.spreadsheetml.sheet":       ".xlsx",
	"application/vnd.openxmlformats-officedocument.wordprocessingml.document": ".docx",
}

// defaultName names an attachment that came without a file name.
func defaultName(mediaType, path string) string {
	if n, ok := defaultNames[mediaType]; ok {
		return n
	}
	ext, ok := extensions[mediaType]
	if !ok {
		ext = ".bin"
	}
	if path == "" {
		path = "1"
	}
	return "part-" + path + ext
}

// metaCharset finds <meta charset="x"> or <meta http-equiv content="...;
// charset=x"> (HTML Living Standard, "determining the character encoding").
var metaCharset = regexp.MustCompile(`(?i)<meta[^>]{0,200}?charset\s*=\s*["']?\s*([a-z0-9_.:\-]{1,40})`)

// sniffHTMLCharset returns the charset declared inside an HTML document.
func sniffHTMLCharset(data []byte) string {
	if len(data) > 4096 {
		data = data[:4096]
	}
	m := metaCharset.FindSubmatch(data)
	if m == nil {
		return ""
	}
	return string(m[1])
}

// finishText chooses the body (plain text preferred, HTML converted when
// there is none), tidies it and splits off quoted history.
func (w *walker) finishText(c content) {
	text := joinTexts(c.plain)
	if strings.TrimSpace(text) == "" && len(c.html) > 0 {
		text = tidyConverted(htmlToText(strings.Join(c.html, "\n")))
		w.p.FromHTML = true
	}
	text = trimOuterBlank(cleanText(text))
	if len(text) > maxTextBytes {
		text = truncateString(text, maxTextBytes)
	}
	w.p.Text = text
	w.p.NewText, w.p.Quoted = SplitReply(text)
}

// joinTexts joins several plain parts (e.g. body and a list footer).
func joinTexts(texts []string) string {
	kept := make([]string, 0, len(texts))
	for _, t := range texts {
		if t = strings.TrimRight(t, "\r\n"); strings.TrimSpace(t) != "" {
			kept = append(kept, t)
		}
	}
	return strings.Join(kept, "\n\n")
}

// htmlToText converts an HTML body with html2text, after marking table
// cells and rows (Outlook lays mail out in tables) so their text does not
// run together. Links keep their text, with the address after it ("order
// 123 <https://...>"): the text is often the part a person wrote.
func htmlToText(h string) string {
	h = cellEnd.ReplaceAllString(h, " $0")
	h = rowEnd.ReplaceAllString(h, "<br>$0")
	return html2text.HTML2TextWithOptions(h, html2text.WithUnixLineBreaks(),
		html2text.WithListSupport(), html2text.WithLinksInnerText())
}

var (
	cellEnd = regexp.MustCompile(`(?i)</t[dh]\s*>`)
	rowEnd  = regexp.MustCompile(`(?i)</tr\s*>`)
)

// tidyConverted trims the lines of text converted from HTML (indentation
// there is an artefact of the markup) and squeezes runs of blank lines.
func tidyConverted(s string) string {
	lines := strings.Split(s, "\n")
	out := lines[:0]
	blank := 0
	for _, l := range lines {
		l = strings.TrimSpace(l)
		if l == "" {
			blank++
			if blank > 1 {
				continue
			}
		} else {
			blank = 0
		}
		out = append(out, l)
	}
	return strings.Join(out, "\n")
}

// trimOuterBlank removes leading blank lines (keeping the indentation of
// the first real line) and trailing white space.
func trimOuterBlank(s string) string {
	s = strings.TrimRight(s, " \t\n")
	for {
		i := strings.IndexByte(s, '\n')
		if i < 0 || strings.TrimSpace(s[:i]) != "" {
			return s
		}
		s = s[i+1:]
	}
}

// cleanText normalizes line ends to "\n", removes control characters other
// than tab and newline (NUL in a database column helps nobody) and makes
// the text valid UTF-8.
func cleanText(s string) string {
	hasCR, hasControl := scanControls(s)
	if !hasControl && utf8.ValidString(s) {
		// The usual case (CRLF or LF text): only the line ends change,
		// and the per-rune pass below would change nothing.
		if hasCR {
			s = strings.ReplaceAll(s, "\r\n", "\n")
			s = strings.ReplaceAll(s, "\r", "\n")
		}
		return s
	}
	return cleanTextSlow(s)
}

// cleanTextSlow is cleanText for any input, rune by rune; the fast path
// above must give the same result (tested).
func cleanTextSlow(s string) string {
	s = strings.ReplaceAll(s, "\r\n", "\n")
	s = strings.ReplaceAll(s, "\r", "\n")
	s = strings.Map(func(r rune) rune {
		if r == '\n' || r == '\t' || !isControl(r) {
			return r
		}
		return -1
	}, s)
	return strings.ToValidUTF8(s, "\uFFFD")
}

// crlfToLF turns CRLF and then lone CR into LF in place, as cleanText
// does, and returns the shortened b.
func crlfToLF(b []byte) []byte {
	i := bytes.IndexByte(b, '\r')
	if i < 0 {
		return b
	}
	w := i // b[:w] is done
	for i < len(b) {
		// b[i] is CR.
		b[w] = '\n'
		w++
		i++
		if i < len(b) && b[i] == '\n' {
			i++
		}
		j := bytes.IndexByte(b[i:], '\r')
		if j < 0 {
			j = len(b) - i
		}
		w += copy(b[w:], b[i:i+j])
		i += j
	}
	return b[:w]
}

// scanControls reports whether s holds CR, and whether it holds another
// control character that cleanText removes. Checking bytes is enough, as
// every byte of a multi-byte UTF-8 sequence is 0x80 or above.
func scanControls(s string) (hasCR, hasControl bool) {
	const ones, highs = 0x0101010101010101, 0x8080808080808080
	for i := 0; i < len(s); {
		if i+8 <= len(s) {
			// Skip eight bytes at once when none is below 0x20 or is
			// 0x7f (the usual case between line ends); these tests have
			// false positives, which the byte loop sorts out, but no
			// false negatives.
			x := uint64(s[i]) | uint64(s[i+1])<<8 | uint64(s[i+2])<<16 | uint64(s[i+3])<<24 |
				uint64(s[i+4])<<32 | uint64(s[i+5])<<40 | uint64(s[i+6])<<48 | uint64(s[i+7])<<56
			below20 := (x - 0x20*ones) & ^x & highs
			del := x ^ 0x7f*ones
			is7f := (del - ones) & ^del & highs
			if below20|is7f == 0 {
				i += 8
				continue
			}
		}
		for end := min(i+8, len(s)); i < end; i++ {
			switch c := s[i]; {
			case c == '\r':
				hasCR = true
			case c < 0x20 && c != '\t' && c != '\n' || c == 0x7f:
				hasControl = true
			}
		}
	}
	return hasCR, hasControl
}

// unflow undoes RFC 3676 format=flowed: a line ending in a space continues
// on the next line of the same quote depth (section 4.2); a leading space
// is stuffing (section 4.4); with delsp=yes the trailing space itself is
// removed (section 4.5). The signature separator "-- " is never flowed.
func unflow(s string, delsp bool) string {
	s = strings.ReplaceAll(s, "\r\n", "\n")
	var out []string
	var cur strings.Builder
	curDepth, open := 0, false
	emit := func() {
		line := cur.String()
		if curDepth > 0 {
			line = strings.Repeat(">", curDepth) + " " + line
		}
		out = append(out, line)
		cur.Reset()
		open = false
	}
	for _, line := range strings.Split(s, "\n") {
		depth := len(line) - len(strings.TrimLeft(line, ">"))
		text := strings.TrimPrefix(line[depth:], " ")
		if open && depth != curDepth {
			emit()
		}
		curDepth = depth
		flowed := text != "-- " && strings.HasSuffix(text, " ")
		if flowed && delsp {
			text = text[:len(text)-1]
		}
		cur.WriteString(text)
		open = true
		if !flowed {
			emit()
		}
	}
	if open {
		emit()
	}
	return strings.Join(out, "\n")
}
