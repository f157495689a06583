package message

import (
	"encoding/base64"
	"strings"
)

// Bounds for the lenient encoded-word scanner. RFC 2047 section 2 caps an
// encoded-word at 75 characters; real mailers exceed that, so allow more,
// but keep a bound so a header full of unterminated "=?" stays linear.
const (
	maxCharsetLabel  = 75
	maxEncodedWordIn = 4096
)

// encodedWord is one decoded RFC 2047 encoded-word: its charset and the raw
// bytes of its text, not yet converted to UTF-8.
type encodedWord struct {
	charset string
	data    []byte
}

// decodeWords decodes the RFC 2047 encoded-words in an unstructured header
// value (Subject, display names, non-standard quoted parameters) leniently:
//
//   - whitespace between adjacent encoded-words is dropped (RFC 2047 section
//     6.2), and adjacent words in the same charset are joined before charset
//     conversion, so a multi-byte character split across two words by a
//     careless encoder comes out whole;
//   - words glued to surrounding text, lower-case "q"/"b", missing base64
//     padding and spaces inside Q text are accepted;
//   - unknown charsets are guessed (see guessDecode); raw 8-bit text outside
//     encoded-words is made valid UTF-8 the same way.
//
// The returned problem is "" unless a charset was unknown.
func decodeWords(s string) (string, string) {
	if !strings.Contains(s, "=?") {
		return validText(s), ""
	}
	d := wordDecoder{}
	rest := s
	for rest != "" {
		i := strings.Index(rest, "=?")
		if i < 0 {
			d.literal(rest)
			break
		}
		w, n, ok := parseEncodedWord(rest[i:])
		if !ok {
			d.literal(rest[:i+2])
			rest = rest[i+2:]
			continue
		}
		d.word(rest[:i], w)
		rest = rest[i+n:]
	}
	d.flush()
	return d.result(), d.problem
}

// wordDecoder accumulates decodeWords output; pending holds adjacent
// encoded-words of one charset awaiting conversion.
type wordDecoder struct {
	out        strings.Builder
	first      string // the output while it is one piece (often all of it)
	pieces     int
	lit        strings.Builder
	pending    encodedWord
	hasPending bool
	problem    string
}

// literal queues text that is not part of an encoded-word.
func (d *wordDecoder) literal(s string) {
	d.lit.WriteString(s)
}

// word adds an encoded-word preceded by the literal text before it.
func (d *wordDecoder) word(before string, w encodedWord) {
	d.lit.WriteString(before)
	if d.hasPending && strings.Trim(d.lit.String(), " \t\r\n") == "" {
		// Adjacent encoded-words: the whitespace between them is not
		// displayed (RFC 2047 section 6.2).
		d.lit.Reset()
		if strings.EqualFold(d.pending.charset, w.charset) {
			d.pending.data = append(d.pending.data, w.data...)
			return
		}
	}
	d.flush()
	d.pending, d.hasPending = w, true
}

// flush converts the pending encoded-words and writes queued literal text.
func (d *wordDecoder) flush() {
	if d.hasPending {
		s, err := decodeCharset(d.pending.charset, d.pending.data)
		if err != nil && d.problem == "" {
			d.problem = err.Error()
		}
		d.emit(s)
		d.pending, d.hasPending = encodedWord{}, false
	}
	if d.lit.Len() > 0 {
		d.emit(validText(d.lit.String()))
		d.lit.Reset()
	}
}

// emit appends s to the output, which is only copied into d.out once it
// has more than one piece.
func (d *wordDecoder) emit(s string) {
	switch d.pieces {
	case 0:
		d.first = s
	case 1:
		d.out.Grow(len(d.first) + len(s))
		d.out.WriteString(d.first)
		d.out.WriteString(s)
	default:
		d.out.WriteString(s)
	}
	d.pieces++
}

// result returns the output.
func (d *wordDecoder) result() string {
	if d.pieces < 2 {
		return d.first
	}
	return d.out.String()
}

// parseEncodedWord parses "=?charset?enc?text?=" at the start of s and
// returns the word and the number of bytes it spans.
func parseEncodedWord(s string) (encodedWord, int, bool) {
	rest := s[2:]
	q := strings.IndexByte(rest, '?')
	if q <= 0 || q > maxCharsetLabel || len(rest) < q+3 || rest[q+2] != '?' {
		return encodedWord{}, 0, false
	}
	label, enc := rest[:q], rest[q+1]
	text := rest[q+3:]
	if len(text) > maxEncodedWordIn {
		text = text[:maxEncodedWordIn]
	}
	end := strings.Index(text, "?=")
	if end < 0 {
		return encodedWord{}, 0, false
	}
	text = text[:end]
	var data []byte
	switch enc {
	case 'Q', 'q':
		data = decodeQ(text)
	case 'B', 'b':
		data = decodeB(text)
	default:
		return encodedWord{}, 0, false
	}
	return encodedWord{charset: label, data: data}, 2 + q + 3 + end + 2, true
}

// decodeQ decodes RFC 2047 section 4.2 "Q" text; malformed escapes are kept
// literally.
func decodeQ(s string) []byte {
	out := make([]byte, 0, len(s))
	for i := 0; i < len(s); i++ {
		c := s[i]
		switch {
		case c == '_':
			out = append(out, ' ')
		case c == '=' && i+2 < len(s) && isHex(s[i+1]) && isHex(s[i+2]):
			out = append(out, unhex(s[i+1])<<4|unhex(s[i+2]))
			i += 2
		default:
			out = append(out, c)
		}
	}
	return out
}

// decodeB decodes RFC 2047 section 4.1 "B" text leniently: characters
// outside the base64 alphabet are ignored, missing padding is tolerated, and
// padding in the middle (two encodings glued together) starts a new chunk.
// A lone trailing character (6 bits, no whole byte) is dropped.
func decodeB(s string) []byte {
	out := make([]byte, 0, len(s)*3/4)
	chunk := make([]byte, 0, len(s))
	for i := 0; i <= len(s); i++ {
		if i < len(s) && isBase64Char(s[i]) {
			chunk = append(chunk, s[i])
			continue
		}
		if i < len(s) && s[i] != '=' {
			continue
		}
		out = appendBase64Chunk(out, chunk)
		chunk = chunk[:0]
	}
	return out
}

// appendBase64Chunk decodes unpadded base64 and appends it to out.
func appendBase64Chunk(out, chunk []byte) []byte {
	if len(chunk)%4 == 1 {
		chunk = chunk[:len(chunk)-1]
	}
	if len(chunk) == 0 {
		return out
	}
	buf := make([]byte, base64.RawStdEncoding.DecodedLen(len(chunk)))
	n, _ := base64.RawStdEncoding.Decode(buf, chunk)
	return append(out, buf[:n]...)
}

// isBase64Char reports whether c is in the base64 alphabet (padding
// excluded), RFC 4648 section 4.
func isBase64Char(c byte) bool {
	return c >= 'A' && c <= 'Z' || c >= 'a' && c <= 'z' || c >= '0' && c <= '9' || c == '+' || c == '/'
}

func isHex(c byte) bool {
	return c >= '0' && c <= '9' || c >= 'a' && c <= 'f' || c >= 'A' && c <= 'F'
}

func unhex(c byte) byte {
	switch {
	case c >= '0' && c <= '9':
		return c - '0'
	case c >= 'a' && c <= 'f':
		return c - 'a' + 10
	default:
		return c - 'A' + 10
	}
}
