package message

import (
	"strings"
	"unicode/utf16"
)

// isUTF7Label reports whether label names UTF-7, which Outlook 2000 used
// for headers and which golang.org/x/text does not provide.
func isUTF7Label(label string) bool {
	switch label {
	case "utf-7", "utf7", "unicode-1-1-utf-7", "csunicode11utf7", "x-unicode-2-0-utf-7":
		return true
	}
	return false
}

// decodeUTF7 decodes RFC 2152 UTF-7: "+" starts a run of modified base64
// (no padding) carrying UTF-16BE, ended by any non-base64 character; a "-"
// ending the run is absorbed, and "+-" is a literal "+". Broken runs give
// U+FFFD instead of failing.
func decodeUTF7(b []byte) string {
	var out strings.Builder
	for i := 0; i < len(b); i++ {
		if b[i] != '+' {
			out.WriteByte(b[i])
			continue
		}
		j := i + 1
		for j < len(b) && isBase64Char(b[j]) {
			j++
		}
		if j == i+1 {
			// "+-" is "+"; a lone "+" is kept as written.
			out.WriteByte('+')
			if j < len(b) && b[j] == '-' {
				i = j
			}
			continue
		}
		out.WriteString(string(utf16.Decode(utf7Units(b[i+1 : j]))))
		i = j - 1
		if j < len(b) && b[j] == '-' {
			i = j
		}
	}
	return validText(out.String())
}

// utf7Units turns modified base64 into UTF-16 code units; leftover bits
// (at most 15, all zero in valid input) are dropped.
func utf7Units(s []byte) []uint16 {
	var units []uint16
	var acc uint32
	bits := 0
	for _, c := range s {
		acc = acc<<6 | uint32(base64Value(c))
		bits += 6
		if bits >= 16 {
			bits -= 16
			units = append(units, uint16(acc>>uint(bits)))
			acc &= 1<<uint(bits) - 1
		}
	}
	return units
}

// base64Value is the 6-bit value of a base64 alphabet character.
func base64Value(c byte) byte {
	switch {
	case c >= 'A' && c <= 'Z':
		return c - 'A'
	case c >= 'a' && c <= 'z':
		return c - 'a' + 26
	case c >= '0' && c <= '9':
		return c - '0' + 52
	case c == '+':
		return 62
	default:
		return 63
	}
}
