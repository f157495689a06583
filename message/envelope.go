package message

import (
	netmail "net/mail"
	"strings"
	"time"
	"unicode"
	"unicode/utf8"

	"github.com/emersion/go-message/mail"
)

// Bounds on identifier lists: References grows with every reply, and a
// hostile one could hold thousands of ids.
const (
	maxReferences = 100
	maxIDLength   = 998 // RFC 5322 section 2.1.1 line limit
	maxAddresses  = 1000
)

// parseMsgIDs extracts message identifiers (RFC 5322 section 3.6.4) from a
// Message-ID, In-Reply-To or References value, leniently: comments are
// dropped, whitespace inside an id (from bad folding) is removed, and when
// no angle brackets are used at all, bare tokens are accepted (all of them
// if there is only one, else only those with an "@", so that old-style
// "In-Reply-To: message from Jan of Monday" yields nothing). Ids are never
// RFC 2047-decoded: they are opaque.
func parseMsgIDs(v string) []string {
	v = stripComments(v)
	var ids []string
	if strings.Contains(v, "<") {
		ids = angleIDs(v)
	} else {
		ids = bareIDs(v)
	}
	return dedupe(ids)
}

// angleIDs returns the contents of each <...> in v; an unterminated "<"
// runs to the next whitespace.
func angleIDs(v string) []string {
	var ids []string
	for {
		i := strings.IndexByte(v, '<')
		if i < 0 {
			return ids
		}
		v = v[i+1:]
		j := strings.IndexByte(v, '>')
		var id string
		if j < 0 {
			id, _, _ = strings.Cut(strings.TrimLeft(v, " \t"), " ")
			v = ""
		} else {
			id, v = v[:j], v[j+1:]
		}
		if id = cleanID(id); id != "" {
			ids = append(ids, id)
		}
	}
}

// bareIDs splits an id list written without angle brackets.
func bareIDs(v string) []string {
	tokens := strings.FieldsFunc(v, func(r rune) bool {
		return r == ',' || r == ';' || r == ' ' || r == '\t'
	})
	var ids []string
	for _, t := range tokens {
		if id := cleanID(t); id != "" && (len(tokens) == 1 || strings.Contains(id, "@")) {
			ids = append(ids, id)
		}
	}
	return ids
}

// cleanID removes whitespace and stray brackets or quotes from an id and
// rejects absurd ones.
func cleanID(id string) string {
	id = joinFields(id, "")
	id = strings.Trim(id, `<>"'`)
	if id == "" || len(id) > maxIDLength {
		return ""
	}
	return validText(id)
}

// joinFields is strings.Join(strings.Fields(s), sep) for sep "" or " ",
// returning s itself, without allocating, when that would not change it:
// no white space (Unicode's, as strings.Fields has it) other than single
// spaces between words when sep is " ".
func joinFields(s, sep string) string {
	prevSpace := true // at the start, a space would be leading
	for _, r := range s {
		isSpace := unicode.IsSpace(r)
		if isSpace && (r != ' ' || sep != " " || prevSpace) {
			return strings.Join(strings.Fields(s), sep)
		}
		prevSpace = isSpace
	}
	if prevSpace && s != "" {
		return strings.Join(strings.Fields(s), sep) // trailing space
	}
	return s
}

// stripComments removes RFC 5322 section 3.2.2 comments "(...)", nested,
// outside quoted strings.
func stripComments(v string) string {
	if !strings.Contains(v, "(") {
		return v
	}
	var b strings.Builder
	depth, quoted := 0, false
	for i := 0; i < len(v); i++ {
		c := v[i]
		switch {
		case depth > 0 && c == '\\':
			i++
		case depth > 0 && c == '(':
			depth++
		case depth > 0 && c == ')':
			depth--
			if depth == 0 {
				b.WriteByte(' ')
			}
		case depth > 0:
		case c == '"':
			quoted = !quoted
			b.WriteByte(c)
		case c == '(' && !quoted:
			depth = 1
		default:
			b.WriteByte(c)
		}
	}
	return b.String()
}

func dedupe(ids []string) []string {
	if len(ids) < 2 {
		return ids
	}
	seen := make(map[string]bool, len(ids))
	out := ids[:0]
	for _, id := range ids {
		if !seen[id] {
			seen[id] = true
			out = append(out, id)
		}
	}
	return out
}

// trimReferences keeps the first id (the thread root) and the most recent
// ones, as RFC 5322 section 3.6.4 suggests when shortening References.
func trimReferences(ids []string) []string {
	if len(ids) <= maxReferences {
		return ids
	}
	out := append([]string{ids[0]}, ids[len(ids)-maxReferences+1:]...)
	return out
}

// parseAddressList parses From/To/Cc-style values. go-message's parser
// (net/mail underneath) is tried first; when it rejects the value (unquoted
// commas or dots in names, unknown charsets, "Name" addr without brackets,
// name-only entries) a lenient splitter takes over and ok is false.
func parseAddressList(v string) ([]Address, bool) {
	if strings.TrimSpace(v) == "" {
		return nil, true
	}
	// net/mail rejects raw 8-bit names; give it valid UTF-8 (RFC 6532)
	// unless encoded-words are present, whose raw bytes must stay as
	// they are for their declared charset.
	if !strings.Contains(v, "=?") {
		v = validText(v)
	}
	if list, err := mail.ParseAddressList(v); err == nil {
		return convertAddresses(list), true
	}
	return lenientAddresses(v), false
}

// convertAddresses maps net/mail results to Address, decoding encoded-words
// that net/mail leaves alone inside quoted names.
func convertAddresses(list []*netmail.Address) []Address {
	out := make([]Address, 0, len(list))
	for _, a := range list {
		if len(out) == maxAddresses {
			break
		}
		out = append(out, Address{Name: cleanName(a.Name), Addr: cleanAddr(a.Address)})
	}
	return out
}

// cleanName decodes leftover encoded-words and trims quotes and spaces.
func cleanName(name string) string {
	name, _ = decodeWords(name)
	name = strings.TrimSpace(strings.Trim(strings.TrimSpace(name), `"'`))
	return joinFields(stripControls(name), " ")
}

// cleanAddr lower-cases an address and removes a "mailto:" prefix and
// stray brackets.
func cleanAddr(addr string) string {
	addr = strings.TrimSpace(strings.Trim(strings.TrimSpace(addr), "<>\"'"))
	if len(addr) > 7 && strings.EqualFold(addr[:7], "mailto:") {
		addr = addr[7:]
	}
	return strings.ToLower(joinFields(validText(addr), ""))
}

// lenientAddresses splits v on commas and semicolons outside quotes, angle
// brackets and comments; a piece without any address is glued to the next
// one ("Kowalski, Jan <jan@x.pl>"). Group names ("team: a@x, b@y;") are
// dropped.
func lenientAddresses(v string) []Address {
	var out []Address
	var carry []string // name pieces waiting for their address
	for _, piece := range splitAddressPieces(v) {
		piece = dropGroupName(piece)
		if strings.TrimSpace(piece) == "" {
			continue
		}
		if !strings.ContainsAny(piece, "@<") {
			carry = append(carry, piece)
			continue
		}
		if len(carry) > 0 {
			piece = strings.Join(append(carry, piece), ", ")
			carry = carry[:0]
		}
		for _, a := range lenientPiece(piece) {
			if len(out) < maxAddresses {
				out = append(out, a)
			}
		}
	}
	if len(carry) > 0 && len(out) < maxAddresses {
		// Only a name, no address (e.g. "From: Whomever").
		if name := cleanName(stripComments(strings.Join(carry, ", "))); name != "" {
			out = append(out, Address{Name: name})
		}
	}
	return out
}

// splitAddressPieces splits on top-level "," and ";".
func splitAddressPieces(v string) []string {
	var pieces []string
	quoted, angle, depth, start := false, false, 0, 0
	for i := 0; i < len(v); i++ {
		switch c := v[i]; {
		case c == '\\' && (quoted || depth > 0):
			i++
		case c == '"' && depth == 0:
			quoted = !quoted
		case quoted:
		case c == '(':
			depth++
		case c == ')' && depth > 0:
			depth--
		case depth > 0:
		case c == '<':
			angle = true
		case c == '>':
			angle = false
		case (c == ',' || c == ';') && !angle:
			pieces = append(pieces, v[start:i])
			start = i + 1
		}
	}
	return append(pieces, v[start:])
}

// dropGroupName removes an RFC 5322 section 3.4 group display name
// ("undisclosed-recipients:") in front of a piece.
func dropGroupName(piece string) string {
	colon := strings.IndexByte(piece, ':')
	if colon < 0 {
		return piece
	}
	before := piece[:colon]
	if strings.ContainsAny(before, "<@\"") {
		return piece
	}
	return piece[colon+1:]
}

// lenientPiece reads one piece: usually one address, but a list of bare
// addresses separated by spaces only ("a@x b@y") gives several.
func lenientPiece(piece string) []Address {
	if !strings.Contains(piece, "<") {
		var bare []Address
		fields := strings.Fields(stripComments(piece))
		for _, f := range fields {
			if strings.Contains(f, "@") {
				bare = append(bare, Address{Addr: cleanAddr(f)})
			}
		}
		if len(bare) > 1 && len(bare) == len(fields) {
			return bare
		}
	}
	if a, ok := lenientAddress(piece); ok {
		return []Address{a}
	}
	return nil
}

// lenientAddress reads one "Name <addr>", "addr (Name)" or "addr" piece.
func lenientAddress(piece string) (Address, bool) {
	if lt := strings.IndexByte(piece, '<'); lt >= 0 {
		addr := piece[lt+1:]
		if gt := strings.IndexByte(addr, '>'); gt >= 0 {
			addr = addr[:gt]
		}
		name := piece[:lt]
		if strings.TrimSpace(name) == "" {
			name = commentText(piece)
		}
		return Address{Name: cleanName(stripComments(name)), Addr: cleanAddr(stripComments(addr))}, true
	}
	var addr string
	var rest []string
	for _, f := range strings.Fields(stripComments(piece)) {
		if addr == "" && strings.Contains(f, "@") {
			addr = f
			continue
		}
		rest = append(rest, f)
	}
	if addr == "" {
		return Address{}, false
	}
	name := strings.Join(rest, " ")
	if name == "" {
		name = commentText(piece)
	}
	return Address{Name: cleanName(name), Addr: cleanAddr(addr)}, true
}

// commentText returns the text of the first top-level comment in s, which
// old mailers use for the display name ("jan@x.pl (Jan Kowalski)").
func commentText(s string) string {
	i := strings.IndexByte(s, '(')
	if i < 0 {
		return ""
	}
	j := strings.LastIndexByte(s, ')')
	if j <= i {
		return s[i+1:]
	}
	return s[i+1 : j]
}

// stripControls removes C0 controls (tabs become spaces) and DEL.
func stripControls(s string) string {
	if strings.IndexFunc(s, isControl) < 0 {
		return s
	}
	return strings.Map(func(r rune) rune {
		switch {
		case r == '\t':
			return ' '
		case isControl(r):
			return -1
		}
		return r
	}, s)
}

func isControl(r rune) bool { return r < 0x20 || r == 0x7f }

// returnPath reads a Return-Path value (RFC 5321 section 4.4): "<>" is the
// null reverse-path of bounces.
func returnPath(v string) (addr string, null bool) {
	v = strings.TrimSpace(stripComments(v))
	if v == "" {
		return "", false
	}
	inner := v
	if i := strings.IndexByte(v, '<'); i >= 0 {
		inner = v[i+1:]
		if j := strings.IndexByte(inner, '>'); j >= 0 {
			inner = inner[:j]
		}
	}
	inner = strings.TrimSpace(inner)
	if inner == "" {
		return "", true
	}
	return cleanAddr(inner), false
}

// dateLayouts are tried after net/mail.ParseDate (RFC 5322 section 3.3,
// including obsolete zones) fails. They cover what mailers and scripts
// actually send: no weekday, no seconds, two-digit years, long month
// names, ISO 8601, asctime, named or colon zones, and no zone at all
// (taken as UTC).
var dateLayouts = []string{
	"2 Jan 2006 15:04:05 -0700",
	"2 Jan 2006 15:04:05 -07:00",
	"2 Jan 2006 15:04:05 MST",
	"2 Jan 2006 15:04:05 -0700 MST",
	"2 Jan 2006 15:04 -0700",
	"2 Jan 2006 15:04 MST",
	"2 Jan 2006 15:04:05",
	"2 Jan 2006 15:04",
	"2 Jan 06 15:04:05 -0700",
	"2 Jan 06 15:04:05 MST",
	"2 Jan 06 15:04 -0700",
	"2 January 2006 15:04:05 -0700",
	"2 January 2006 15:04:05 MST",
	"2 January 2006 15:04:05",
	"Jan 2 2006 15:04:05 -0700",
	"Jan 2 15:04:05 2006",
	"Jan 2 15:04:05 MST 2006",
	"Jan 2 15:04:05 -0700 2006",
	"2006-01-02T15:04:05Z07:00",
	"2006-01-02T15:04:05",
	"2006-01-02 15:04:05 -0700",
	"2006-01-02 15:04:05 MST",
	"2006-01-02 15:04:05",
	"2006-01-02 15:04",
	"2.1.2006 15:04:05 -0700",
	"2.1.2006 15:04:05",
	"2.1.2006 15:04",
	"2 Jan 2006",
	"2006-01-02",
}

// rfc5322Date is the usual RFC 5322 section 3.3 date-time.
const rfc5322Date = "Mon, 2 Jan 2006 15:04:05 -0700"

// parseDate parses a Date value leniently; ok is false when nothing fits.
func parseDate(v string) (time.Time, bool) {
	v = strings.TrimSpace(v)
	if v == "" {
		return time.Time{}, false
	}
	// Nearly every mailer writes this layout. net/mail.ParseDate would
	// try 24 layouts without a weekday first (each failure allocating an
	// error) and then this one on the same string: it cuts the value
	// after the zone, the only "+" or "-" in a date this layout accepts.
	if t, err := time.Parse(rfc5322Date, v); err == nil {
		return t, true
	}
	if t, err := netmail.ParseDate(v); err == nil {
		return t, true
	}
	c := cleanDate(v)
	for _, layout := range dateLayouts {
		if t, err := time.Parse(layout, c); err == nil {
			return t, true
		}
	}
	return time.Time{}, false
}

// cleanDate drops comments, a leading weekday (even a misspelt one),
// commas, "at", and doubled spaces, and upper-cases "ut"/"gmt"/"z" zones,
// so the layouts above can match.
func cleanDate(v string) string {
	if len(v) > 200 || !utf8.ValidString(v) {
		v = strings.ToValidUTF8(truncateString(v, 200), "")
	}
	v = strings.ReplaceAll(stripComments(v), ",", " ")
	fields := strings.Fields(v)
	if len(fields) > 0 && isWord(fields[0]) && !isMonth(fields[0]) {
		fields = fields[1:]
	}
	out := fields[:0]
	for _, f := range fields {
		switch strings.ToLower(f) {
		case "at", "um", "o":
			continue
		case "ut", "gmt", "utc", "z":
			f = "+0000"
		}
		out = append(out, normalizeMonth(f))
	}
	return strings.Join(out, " ")
}

// isWord reports whether s is letters only (a weekday name).
func isWord(s string) bool {
	if s == "" {
		return false
	}
	for _, r := range s {
		if !(r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z' || r == '.') {
			return false
		}
	}
	return true
}

var monthNames = []string{"jan", "feb", "mar", "apr", "may", "jun", "jul", "aug", "sep", "oct", "nov", "dec"}

func isMonth(s string) bool {
	s = strings.ToLower(s)
	for _, m := range monthNames {
		if strings.HasPrefix(s, m) {
			return true
		}
	}
	return false
}

// normalizeMonth title-cases an English month name ("JAN" -> "Jan") since
// time.Parse matches names case-sensitively.
func normalizeMonth(f string) string {
	if !isWord(f) || !isMonth(f) {
		return f
	}
	lower := strings.ToLower(strings.TrimSuffix(f, "."))
	if len(lower) <= 3 {
		return strings.ToUpper(lower[:1]) + lower[1:]
	}
	for _, full := range []string{"january", "february", "march", "april", "june", "july", "august", "september", "october", "november", "december"} {
		if lower == full {
			return strings.ToUpper(lower[:1]) + lower[1:]
		}
	}
	return strings.ToUpper(lower[:1]) + lower[1:3]
}

// truncateString cuts s to at most n bytes without splitting a rune.
func truncateString(s string, n int) string {
	if len(s) <= n {
		return s
	}
	for n > 0 && !utf8.RuneStart(s[n]) {
		n--
	}
	return s[:n]
}
