package classifier

import (
	"strings"
	"unicode"
	"unicode/utf8"

	"golang.org/x/text/unicode/norm"
)

// Bounds of the text the classifier reads. A complaint says what it is
// about in its first lines; a 20 MB pasted log must cost no more than a
// short mail.
const (
	// scanBytes is how much of the body is looked at.
	scanBytes = 8 << 10
	// maxTokenBytes: a longer "word" is a URL, a base64 blob or a pasted
	// key, never a keyword; it is skipped.
	maxTokenBytes = 48
	// minCleanLetters: when stripping quotes and signatures leaves fewer
	// letters than this, the message is a bare forward and the quoted text
	// is the customer's after all.
	minCleanLetters = 20
)

// token is one normalised word and where it came from, so that a reason can
// quote the customer's own spelling ("przesyłka", not "przesylka").
type token struct {
	s          string // normalised: lower case, no diacritics
	start, end int32  // byte offsets in the source text
}

// tokenize splits src into normalised words: letters and digits, lower
// case, diacritics stripped (ą→a, ł→l, ż→z, ä→a, ß→ss, é→e ...), so that
// "PRZESYŁKA", "przesyłka" and "przesylka" are the same word and the rules
// need not list both spellings. Everything else separates words, so
// "don't" is "don" "t" both in the text and in a rule.
//
// It allocates the normalised text once and slices the words out of it.
func tokenize(src string) []token {
	buf := make([]byte, 0, len(src))
	// Offsets are collected first and turned into strings once buf is
	// final, because appending may move buf.
	spans := make([]span, 0, len(src)/6+1)
	ns, start := -1, -1 // the current word in buf and in src; -1 between words
	for i := 0; i < len(src); {
		c := src[i]
		if c < utf8.RuneSelf { // fast path: ASCII
			if lc := asciiWord[c]; lc != 0 {
				if ns < 0 {
					ns, start = len(buf), i
				}
				buf = append(buf, lc)
			} else if ns >= 0 {
				spans, buf = endWord(spans, buf, span{int32(ns), int32(len(buf)), int32(start), int32(i)})
				ns = -1
			}
			i++
			continue
		}
		r, size := utf8.DecodeRuneInString(src[i:])
		switch {
		case 0xC0 <= r && r <= 0x24F && r != 0xD7 && r != 0xF7,
			// Latin letters with diacritics: the common case, decided
			// without Unicode tables.
			unicode.IsLetter(r) || unicode.IsDigit(r):
			if ns < 0 {
				ns, start = len(buf), i
			}
			buf = appendFolded(buf, r)
		case unicode.Is(unicode.Mn, r):
			// A combining accent (text typed on a Mac arrives decomposed,
			// "a" + U+0328): part of the word, dropped like any accent.
		default:
			if ns >= 0 {
				spans, buf = endWord(spans, buf, span{int32(ns), int32(len(buf)), int32(start), int32(i)})
				ns = -1
			}
		}
		i += size
	}
	if ns >= 0 {
		spans, buf = endWord(spans, buf, span{int32(ns), int32(len(buf)), int32(start), int32(len(src))})
	}
	norm := string(buf)
	toks := make([]token, len(spans))
	for i, sp := range spans {
		toks[i] = token{s: norm[sp.ns:sp.ne], start: sp.start, end: sp.end}
	}
	return toks
}

// span is a word during tokenize: where it is in the normalised buffer and
// in the source.
type span struct{ ns, ne, start, end int32 }

// endWord keeps a finished word, or drops it from buf when it is too long
// to be one.
func endWord(spans []span, buf []byte, sp span) ([]span, []byte) {
	if sp.ne-sp.ns > maxTokenBytes {
		return spans, buf[:sp.ns]
	}
	return append(spans, sp), buf
}

// asciiWord maps an ASCII byte to itself lower-cased when it is a letter or
// a digit, and to 0 when it separates words. A constant string is a
// read-only table.
const asciiWord = "\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x000123456789\x00\x00\x00\x00\x00\x00\x00abcdefghijklmnopqrstuvwxyz\x00\x00\x00\x00\x00\x00abcdefghijklmnopqrstuvwxyz\x00\x00\x00\x00\x00"

// appendFolded appends r lower-cased and without diacritics. The letters
// Polish and German customers type are mapped directly (ł and ß have no
// Unicode decomposition, so they must be); any other letter goes through
// its compatibility decomposition with the combining marks dropped, which
// is what norm.NFKD followed by runes.Remove(unicode.Mn) does to a whole
// string (the tests check that both agree), without allocating.
func appendFolded(dst []byte, r rune) []byte {
	r = unicode.ToLower(r)
	switch r {
	case 'ą', 'ä', 'á', 'à', 'â':
		return append(dst, 'a')
	case 'ć', 'č', 'ç':
		return append(dst, 'c')
	case 'ę', 'é', 'è', 'ê', 'ě':
		return append(dst, 'e')
	case 'ł':
		return append(dst, 'l')
	case 'ń':
		return append(dst, 'n')
	case 'ó', 'ö', 'ô':
		return append(dst, 'o')
	case 'ś', 'š':
		return append(dst, 's')
	case 'ź', 'ż', 'ž':
		return append(dst, 'z')
	case 'ü', 'ú', 'ů':
		return append(dst, 'u')
	case 'ß':
		return append(dst, 's', 's')
	case 'đ':
		return append(dst, 'd')
	case 'ø':
		return append(dst, 'o')
	case 'æ':
		return append(dst, 'a', 'e')
	case 'œ':
		return append(dst, 'o', 'e')
	}
	var enc [utf8.UTFMax]byte
	n := utf8.EncodeRune(enc[:], r)
	d := norm.NFKD.Properties(enc[:n]).Decomposition()
	if d == nil {
		return append(dst, enc[:n]...)
	}
	for _, dr := range string(d) {
		if unicode.Is(unicode.Mn, dr) {
			continue
		}
		if dr < utf8.RuneSelf {
			if 'A' <= dr && dr <= 'Z' {
				dr += 'a' - 'A'
			}
			dst = append(dst, byte(dr))
			continue
		}
		dst = utf8.AppendRune(dst, unicode.ToLower(dr))
	}
	return dst
}

// lowerSameLength lower-cases s rune by rune, keeping a rune as it is when
// its lower case has another UTF-8 length, so that byte offsets in the
// result are offsets in s. (strings.ToLower does not promise that, and is
// slower on non-ASCII text.)
func lowerSameLength(s string) string {
	var b []byte
	for i := 0; i < len(s); {
		c := s[i]
		if c < utf8.RuneSelf {
			if 'A' <= c && c <= 'Z' {
				if b == nil {
					b = []byte(s)
				}
				b[i] = c + 'a' - 'A'
			}
			i++
			continue
		}
		r, size := utf8.DecodeRuneInString(s[i:])
		if lr := unicode.ToLower(r); lr != r && utf8.RuneLen(lr) == size {
			if b == nil {
				b = []byte(s)
			}
			utf8.EncodeRune(b[i:], lr)
		}
		i += size
	}
	if b == nil {
		return s
	}
	return string(b)
}

// headText returns the first n bytes of s, cut at a rune boundary.
func headText(s string, n int) string {
	if len(s) <= n {
		return s
	}
	for n > 0 && !utf8.RuneStart(s[n]) {
		n--
	}
	return s[:n]
}

// cleanText returns what the customer wrote in this message: the first
// scanBytes of text without quoted lines ("> ..."), without the signature
// ("-- " line) and without the quoted original below a reply header
// ("-----Original Message-----", "On ... wrote:", "W dniu ... napisał(a):",
// "Am ... schrieb ...:", an Outlook "From:/Sent:" block). Quoted text is
// usually our own acknowledgement, whose words ("reklamacja", "zwrot",
// "14 dni") would otherwise vote in every case. When too little is left the
// message is a bare forward and the whole (bounded) text is used.
func cleanText(text string) string {
	text = headText(text, scanBytes)
	var b strings.Builder
	b.Grow(len(text))
	prevStart := -1 // where the previous kept line starts in b
	rest := text
	for rest != "" {
		line := rest
		if i := strings.IndexByte(rest, '\n'); i >= 0 {
			line, rest = rest[:i+1], rest[i+1:]
		} else {
			rest = ""
		}
		trimmed := strings.TrimSpace(line)
		if strings.HasPrefix(trimmed, ">") {
			continue
		}
		if line == "-- \n" || line == "-- \r\n" || line == "-- " || trimmed == "--" {
			break
		}
		if isQuoteHeader(trimmed, rest) {
			// A wrapped attribution ("W dniu pon., 12 lis 2026 o 10:00 Jan
			// <jan@example.net>" / "napisał(a):") starts on the line before.
			if prevStart >= 0 && !startsAttribution(trimmed) && startsAttribution(b.String()[prevStart:]) {
				s := b.String()[:prevStart]
				b.Reset()
				b.WriteString(s)
			}
			break
		}
		if trimmed != "" {
			prevStart = b.Len()
		}
		b.WriteString(line)
	}
	out := b.String()
	letters := 0
	for _, r := range out {
		if unicode.IsLetter(r) {
			letters++
			if letters >= minCleanLetters {
				return out
			}
		}
	}
	return text
}

// isQuoteHeader reports whether the (trimmed) line starts the quoted
// original of a reply; rest is the text after it, for Outlook's header
// block, which is recognised by a Sent/Date line right below From.
func isQuoteHeader(line, rest string) bool {
	if line == "" {
		return false
	}
	// Most lines are none of these: decide that without lower-casing.
	switch line[0] {
	case '-', 'F', 'f', 'O', 'o', 'V', 'v':
	default:
		if line[len(line)-1] != ':' {
			return false
		}
	}
	lower := strings.ToLower(line)
	if strings.HasPrefix(lower, "-----") {
		switch strings.Trim(lower, "- \t") {
		case "original message", "oryginalna wiadomość", "wiadomość oryginalna",
			"ursprüngliche nachricht", "originalnachricht", "forwarded message",
			"wiadomość przekazana dalej", "weitergeleitete nachricht":
			return true
		}
		return false
	}
	if strings.HasSuffix(lower, ":") {
		for _, s := range []string{"wrote:", "napisał(a):", "napisał:", "napisała:", "pisze:", "schrieb:"} {
			if strings.HasSuffix(lower, s) {
				return true
			}
		}
		if strings.HasPrefix(lower, "am ") && strings.Contains(lower, " schrieb ") {
			return true
		}
	}
	for _, p := range []string{"from:", "od:", "von:"} {
		if !strings.HasPrefix(lower, p) {
			continue
		}
		for range 4 {
			next := rest
			if i := strings.IndexByte(rest, '\n'); i >= 0 {
				next, rest = rest[:i], rest[i+1:]
			} else {
				rest = ""
			}
			n := strings.ToLower(strings.TrimSpace(next))
			for _, q := range []string{"sent:", "wysłano:", "wysłane:", "gesendet:", "date:", "data:", "datum:"} {
				if strings.HasPrefix(n, q) {
					return true
				}
			}
		}
	}
	return false
}

// startsAttribution reports whether line opens a reply attribution that a
// mail client wrapped onto two lines.
func startsAttribution(line string) bool {
	lower := strings.ToLower(strings.TrimSpace(line))
	for _, p := range []string{"on ", "w dniu ", "dnia ", "am "} {
		if strings.HasPrefix(lower, p) {
			return true
		}
	}
	return false
}
