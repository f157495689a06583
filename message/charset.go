package message

import (
	"bytes"
	"fmt"
	"io"
	"strings"
	"unicode/utf8"

	"github.com/emersion/go-message/charset"
	"golang.org/x/text/encoding/charmap"
)

// polishLetters are the letters that only Central European charsets carry;
// their count tells windows-1250 from ISO-8859-2 when the label is missing
// or wrong.
const polishLetters = "ąćęłńśźżĄĆĘŁŃŚŹŻ"

// normalizeCharsetLabel lower-cases a charset label and drops quotes and an
// RFC 2231 section 5 language suffix ("utf-8*pl").
func normalizeCharsetLabel(label string) string {
	label = strings.ToLower(strings.Trim(strings.TrimSpace(label), `"'`))
	// `charset="charset=us-ascii"` is seen in the wild.
	if i := strings.LastIndexByte(label, '='); i >= 0 {
		label = strings.Trim(label[i+1:], `"'`)
	}
	if i := strings.IndexByte(label, '*'); i >= 0 {
		label = label[:i]
	}
	return strings.TrimSpace(label)
}

// isUTF8Label reports whether label names UTF-8 or one of its subsets, for
// which the bytes only need validating.
func isUTF8Label(label string) bool {
	switch label {
	case "", "utf-8", "utf8", "us-ascii", "ascii", "ansi_x3.4-1968", "iso646-us":
		return true
	}
	return false
}

// decodeCharset converts b from the named charset to valid UTF-8. When the
// charset is unknown it falls back to guessing (see guessDecode) and returns
// an error describing the unknown label; the string is usable either way.
func decodeCharset(label string, b []byte) (string, error) {
	label = normalizeCharsetLabel(label)
	if isUTF8Label(label) {
		if utf8.Valid(b) {
			return string(b), nil
		}
		s, _ := guessDecode(b)
		return s, nil
	}
	if isUTF7Label(label) {
		return decodeUTF7(b), nil
	}
	r, err := charset.Reader(label, bytes.NewReader(b))
	if err != nil {
		s, guess := guessDecode(b)
		return s, fmt.Errorf("unknown charset %.40q, decoded as %s: %w", label, guess, err)
	}
	out, err := io.ReadAll(r)
	if err != nil {
		// x/text decoders do not fail on bad input; be safe anyway.
		s, guess := guessDecode(b)
		return s, fmt.Errorf("charset %.40q: %w (decoded as %s)", label, err, guess)
	}
	return strings.ToValidUTF8(string(out), "\uFFFD"), nil
}

// guessDecode turns bytes of unknown charset into valid UTF-8 and names the
// charset it chose. Valid UTF-8 is kept; text that is mostly UTF-8 with a few
// broken bytes is repaired; anything else is 8-bit legacy text, and for a
// Polish and English mailbox the likely candidates are windows-1250 and
// ISO-8859-2, told apart by which yields more Polish letters and fewer
// control or undefined characters.
func guessDecode(b []byte) (string, string) {
	if utf8.Valid(b) {
		return string(b), "utf-8"
	}
	if mostlyUTF8(b) {
		return strings.ToValidUTF8(string(b), "\uFFFD"), "utf-8 (repaired)"
	}
	cp, _ := charmap.Windows1250.NewDecoder().Bytes(b)
	l2, _ := charmap.ISO8859_2.NewDecoder().Bytes(b)
	if legacyScore(l2) > legacyScore(cp) {
		return strings.ToValidUTF8(string(l2), "\uFFFD"), "iso-8859-2"
	}
	return strings.ToValidUTF8(string(cp), "\uFFFD"), "windows-1250"
}

// mostlyUTF8 reports whether b holds more well-formed multi-byte UTF-8
// sequences than stray bytes, i.e. is UTF-8 with some damage rather than a
// legacy 8-bit charset (whose text rarely forms valid sequences).
func mostlyUTF8(b []byte) bool {
	var good, bad int
	for len(b) > 0 {
		r, n := utf8.DecodeRune(b)
		switch {
		case r == utf8.RuneError && n == 1:
			bad++
		case n > 1:
			good++
		}
		b = b[n:]
	}
	return good > bad
}

// legacyScore rates a candidate decoding: Polish letters count for it,
// C1 controls and replacement characters against it.
func legacyScore(b []byte) int {
	score := 0
	for _, r := range string(b) {
		switch {
		case strings.ContainsRune(polishLetters, r):
			score++
		case r == utf8.RuneError, r >= 0x80 && r <= 0x9f:
			score -= 2
		}
	}
	return score
}

// validText returns s as valid UTF-8, guessing the charset of stray 8-bit
// bytes (headers sent raw in a legacy charset, RFC 6532 aside).
func validText(s string) string {
	if utf8.ValidString(s) {
		return s
	}
	out, _ := guessDecode([]byte(s))
	return out
}
