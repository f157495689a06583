package privacy

import (
	"bytes"
	"encoding/json"
	"html"
	"regexp"
	"slices"
	"strings"
	"unicode"
	"unicode/utf8"
)

// minNameRunes: names shorter than this are not redacted on their own; a
// two-letter "name" would cut through every word that contains it.
const minNameRunes = 3

// Redactor finds and replaces a person's address and names in text,
// ignoring case, also in the forms they take inside HTML and JSON (the
// outbox keeps HTML bodies; records are stored as JSON).
type Redactor struct {
	re *regexp.Regexp // nil: nothing to find
	// lower are the literals re matches, lower-cased, when all of them
	// are ASCII: Mentions scans whole stores, and lower-casing ASCII then
	// searching literals is many times faster than a case-insensitive
	// regular expression. nil: Mentions uses re.
	lower [][]byte
	with  string
}

// NewRedactor returns a Redactor replacing address and names with with.
// Empty and too short names are skipped.
func NewRedactor(with, address string, names ...string) Redactor {
	var needles []string
	if a := NormaliseAddress(address); a != "" {
		needles = append(needles, a)
	}
	for _, n := range names {
		n = strings.Join(strings.Fields(n), " ")
		if utf8.RuneCountInString(n) < minNameRunes || !strings.ContainsFunc(n, unicode.IsLetter) {
			continue
		}
		needles = append(needles, n)
	}
	var alts []string
	for _, n := range needles {
		for _, v := range []string{n, html.EscapeString(n)} {
			alts = append(alts, v)
			if j, err := json.Marshal(v); err == nil {
				alts = append(alts, string(j[1:len(j)-1]))
			}
		}
	}
	if len(alts) == 0 {
		return Redactor{with: with}
	}
	// Longest first: the address must go whole before a name inside it.
	slices.SortFunc(alts, func(a, b string) int { return len(b) - len(a) })
	alts = slices.Compact(alts)
	r := Redactor{with: with}
	quoted := make([]string, len(alts))
	ascii := true
	for i, a := range alts {
		quoted[i] = regexp.QuoteMeta(a)
		r.lower = append(r.lower, asciiLower(nil, []byte(a)))
		ascii = ascii && isASCII(a)
	}
	if !ascii {
		r.lower = nil
	}
	r.re = regexp.MustCompile("(?i)(?:" + strings.Join(quoted, "|") + ")")
	return r
}

// String returns s with every occurrence replaced.
func (r Redactor) String(s string) string {
	if r.re == nil || s == "" {
		return s
	}
	return r.re.ReplaceAllLiteralString(s, r.with)
}

// Strings redacts each of ss in place and returns it.
func (r Redactor) Strings(ss []string) []string {
	for i := range ss {
		ss[i] = r.String(ss[i])
	}
	return ss
}

// Mentions reports whether b (text, HTML or a JSON record) holds the
// address or a name.
func (r Redactor) Mentions(b []byte) bool {
	if r.re == nil {
		return false
	}
	if r.lower == nil {
		return r.re.Match(b)
	}
	// Bytes of multi-byte UTF-8 sequences are never ASCII, so lowering
	// only ASCII letters finds every ASCII needle.
	lb := asciiLower(make([]byte, 0, len(b)), b)
	for _, l := range r.lower {
		if bytes.Contains(lb, l) {
			return true
		}
	}
	return false
}

func asciiLower(dst, b []byte) []byte {
	for _, c := range b {
		if 'A' <= c && c <= 'Z' {
			c += 'a' - 'A'
		}
		dst = append(dst, c)
	}
	return dst
}

func isASCII(s string) bool {
	for i := 0; i < len(s); i++ {
		if s[i] >= utf8.RuneSelf {
			return false
		}
	}
	return true
}
