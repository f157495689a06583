package staff

import (
	"errors"
	"fmt"
	"net/textproto"
	"strings"
)

// AuthPolicy says which evidence makes a staff mail authentic. The zero
// value trusts nothing: every mail is refused until the receiving server's
// authserv-id (or a trusted folder) and the company domains are configured.
type AuthPolicy struct {
	// AuthservIDs are the authserv-ids of OUR receiving server(s), e.g.
	// "mx.sklep.example", compared case-insensitively (RFC 8601 §2.5).
	// Only Authentication-Results fields carrying one of them count:
	// anybody can write the field with any other id (RFC 8601 §7.1).
	AuthservIDs []string
	// Domains are the company domains. The From address must be in one of
	// them (exactly: list subdomains that send staff mail separately) and
	// the pass must be for it (aligned).
	Domains []string
	// Methods says which results count: "dmarc" (RFC 7489) and "dkim"
	// (RFC 6376). Nil means both; an empty non-nil slice means none, so
	// only TrustedMailboxes can make a mail authentic. Other methods (spf,
	// arc, compauth...) are ignored: none of them vouches for the From
	// domain on its own.
	Methods []string
	// AllowMissingAuthservID accepts the topmost Authentication-Results
	// field without an authserv-id, which is how Microsoft 365 (Exchange
	// Online Protection) writes it. Risk: unless the receiving server adds
	// such a field to every message (or strips incoming ones, RFC 8601 §5),
	// a sender can forge one and, arriving at a server that adds none, have
	// it be the topmost. Enable it only behind Microsoft 365.
	AllowMissingAuthservID bool
	// TrustedMailboxes are IMAP folders whose mail counts as authentic:
	// a trusted path, to which the mail server routes only internal mail
	// (e.g. a transport rule for mail submitted by authenticated users).
	// Compared case-insensitively.
	TrustedMailboxes []string
}

// Verdict is Authenticate's answer and why, for logs and for the reply that
// tells a specialist their commands were ignored.
type Verdict struct {
	Authentic bool
	// Reason, e.g. "dmarc=pass for sklep.example by mx.sklep.example",
	// "no Authentication-Results from a trusted authserv-id",
	// "dmarc=fail for sklep.example by mx.sklep.example",
	// "From domain evil.example is not a company domain".
	Reason string
}

// Result is one resinfo of an Authentication-Results field (RFC 8601
// §2.2): a method, its result and its properties.
type Result struct {
	// Method and Result are lower-case, e.g. "dkim" and "pass"; a method
	// version ("dkim/1") is dropped.
	Method, Result string
	// Props holds the properties by lower-case "ptype.property" key, e.g.
	// "header.from", "header.d", "header.i", "smtp.mailfrom", plus
	// "reason" and the bare keys Microsoft 365 writes ("action"). Values
	// are as written, unquoted; the first of duplicate keys is kept.
	Props map[string]string
}

// Authenticate decides whether a mail claiming to be from the staff address
// from is authentic. header is the mail's top-level header; its values are
// in order of appearance, so header.Values("Authentication-Results")[0] is
// the topmost, the one added last, by our receiving server (RFC 5322 §3.6
// prepends trace fields; RFC 8601 §2 treats A-R alike). Fields inside a
// forwarded message or an attachment are not in header and never count.
// arrivedIn is the IMAP folder the mail was read from.
//
// The rules, in order:
//  1. From's domain must be one of p.Domains, whatever else is true.
//  2. Mail read from one of p.TrustedMailboxes is authentic.
//  3. Otherwise exactly one Authentication-Results field decides: the
//     topmost one whose authserv-id is in p.AuthservIDs or, with
//     p.AllowMissingAuthservID, the topmost field when it has no id. Any
//     field below it is ignored, even one with our id: our server adds one
//     field on top of what arrived, so a field with our id further down was
//     written by someone before the mail reached us (RFC 8601 §7.1).
//  4. In that field, a dmarc=fail vetoes (the domain owner's policy says
//     the From domain was not authenticated); otherwise a dmarc=pass with
//     header.from equal to From's domain, or a dkim=pass whose header.d
//     (or, without header.d, the domain of header.i) is a company domain
//     aligned with From's domain, makes the mail authentic. Alignment is
//     DMARC's relaxed alignment (RFC 7489 §3.1.1): From's domain equals
//     the signing domain or is a subdomain of it.
//
// No evidence means not authentic; an unreadable deciding field too.
func Authenticate(header textproto.MIMEHeader, from, arrivedIn string, p AuthPolicy) Verdict {
	fromDomain := ""
	if strings.Contains(from, "@") {
		fromDomain = addrDomain(from)
	}
	if fromDomain == "" {
		return Verdict{Reason: fmt.Sprintf("From address %q has no domain", from)}
	}
	if !containsFold(p.Domains, fromDomain) {
		return Verdict{Reason: fmt.Sprintf("From domain %s is not a company domain", fromDomain)}
	}
	for _, m := range p.TrustedMailboxes {
		if m != "" && strings.EqualFold(m, arrivedIn) {
			return Verdict{Authentic: true, Reason: "arrived in trusted folder " + arrivedIn}
		}
	}

	for i, v := range header.Values("Authentication-Results") {
		id, results, err := ParseAuthResults(v)
		var by string
		switch {
		case id != "" && containsFold(p.AuthservIDs, id):
			by = id
		case id == "" && i == 0 && p.AllowMissingAuthservID:
			by = "the topmost Authentication-Results without authserv-id"
		default:
			// Not ours: written by the sender or a server on the way.
			continue
		}
		if err != nil {
			return Verdict{Reason: fmt.Sprintf("unreadable Authentication-Results by %s: %v", by, err)}
		}
		return judge(results, fromDomain, by, p)
	}
	return Verdict{Reason: "no Authentication-Results from a trusted authserv-id"}
}

// judge applies rule 4 of Authenticate to the results of the deciding field.
func judge(results []Result, fromDomain, by string, p AuthPolicy) Verdict {
	useDMARC, useDKIM := p.Methods == nil, p.Methods == nil
	for _, m := range p.Methods {
		switch strings.ToLower(strings.TrimSpace(m)) {
		case "dmarc":
			useDMARC = true
		case "dkim":
			useDKIM = true
		}
	}
	if useDMARC {
		for _, r := range results {
			if r.Method == "dmarc" && r.Result == "fail" {
				return Verdict{Reason: fmt.Sprintf("dmarc=fail for %s by %s", fromDomain, by)}
			}
		}
	}
	for _, r := range results {
		if r.Result != "pass" {
			continue
		}
		switch {
		case r.Method == "dmarc" && useDMARC:
			if d := addrDomain(r.Props["header.from"]); d == fromDomain {
				return Verdict{Authentic: true, Reason: fmt.Sprintf("dmarc=pass for %s by %s", fromDomain, by)}
			}
		case r.Method == "dkim" && useDKIM:
			d, ok := r.Props["header.d"]
			if !ok {
				d = r.Props["header.i"]
			}
			d = addrDomain(d)
			if d != "" && containsFold(p.Domains, d) && (fromDomain == d || strings.HasSuffix(fromDomain, "."+d)) {
				return Verdict{Authentic: true, Reason: fmt.Sprintf("dkim=pass for %s (header.d=%s) by %s", fromDomain, d, by)}
			}
		}
	}
	var methods []string
	if useDMARC {
		methods = append(methods, "dmarc")
	}
	if useDKIM {
		methods = append(methods, "dkim")
	}
	if len(methods) == 0 {
		return Verdict{Reason: "no authentication method is enabled"}
	}
	return Verdict{Reason: fmt.Sprintf("no %s=pass aligned with %s by %s", strings.Join(methods, " or "), fromDomain, by)}
}

// addrDomain returns the lower-case domain of an address ("a@b.example",
// "Name <a@b.example>", "@b.example" as in DKIM's header.i) or of a bare
// domain, without a trailing root dot; "" when there is none.
func addrDomain(s string) string {
	s = strings.TrimSpace(s)
	if i := strings.LastIndexByte(s, '<'); i >= 0 {
		s = s[i+1:]
		if j := strings.IndexByte(s, '>'); j >= 0 {
			s = s[:j]
		}
	}
	if i := strings.LastIndexByte(s, '@'); i >= 0 {
		s = s[i+1:]
	}
	s = strings.TrimSuffix(strings.ToLower(strings.TrimSpace(s)), ".")
	if strings.ContainsAny(s, " \t\"<>()@;,") {
		return ""
	}
	return s
}

func containsFold(list []string, s string) bool {
	for _, x := range list {
		if strings.EqualFold(strings.TrimSuffix(strings.TrimSpace(x), "."), s) {
			return true
		}
	}
	return false
}

// ParseAuthResults parses the value of one Authentication-Results field
// (RFC 8601 §2.2):
//
//	authres-payload = [CFWS] authserv-id [ CFWS authres-version ]
//	                  ( no-result / 1*resinfo ) [CFWS] CRLF
//	no-result       = [CFWS] ";" [CFWS] "none"
//	resinfo         = [CFWS] ";" methodspec [ CFWS reasonspec ]
//	                  [ CFWS 1*propspec ]
//	methodspec      = [CFWS] method [CFWS] "=" [CFWS] result
//	propspec        = ptype [CFWS] "." [CFWS] property [CFWS] "=" pvalue
//
// It returns the authserv-id ("" when the value starts with a methodspec,
// as Microsoft 365 writes it) and the results ("none" gives none). Comments
// (nested, RFC 5322 §3.2.2) are dropped, so semicolons inside them do not
// split; quoted strings are unquoted. Keywords are case-insensitive and
// returned lower-case. Beyond the grammar it accepts what real servers
// write: properties without a ptype (Microsoft's "action=none"), words
// that are not properties (skipped), empty resinfos (a trailing ";").
// On error the authserv-id is still returned when it could be read, so a
// caller can tell that a field of its own server is unreadable.
func ParseAuthResults(v string) (authservID string, results []Result, err error) {
	toks, err := lexAuthRes(v)
	if err != nil {
		return leadingID(v), nil, err
	}
	segs := splitSemi(toks)
	first := segs[0]
	if isMethodspec(first) {
		// Microsoft 365: no authserv-id, the first resinfo comes first.
	} else {
		if len(first) == 0 || (first[0].kind != tWord && first[0].kind != tQuoted) || !printable(first[0].text) {
			return "", nil, errors.New("missing or bad authserv-id")
		}
		authservID = first[0].text
		switch {
		case len(first) == 1:
		case len(first) == 2 && first[1].kind == tWord && isDigits(first[1].text):
			// authres-version; only version 1 exists (RFC 8601 §2.2).
		default:
			return authservID, nil, errors.New("unexpected text after authserv-id")
		}
		segs = segs[1:]
		if len(segs) == 0 {
			return authservID, nil, errors.New("no results")
		}
	}
	for _, seg := range segs {
		if len(seg) == 0 {
			continue
		}
		if len(seg) == 1 && seg[0].kind == tWord && strings.EqualFold(seg[0].text, "none") {
			continue
		}
		r, err := parseResinfo(seg)
		if err != nil {
			return authservID, nil, err
		}
		results = append(results, r)
	}
	return authservID, results, nil
}

// leadingID reads the authserv-id of a value the lexer rejected, from the
// text before its first ';' when that text is a plain word.
func leadingID(v string) string {
	head, _, _ := strings.Cut(v, ";")
	f := strings.Fields(head)
	if len(f) == 0 || strings.ContainsAny(f[0], "()\"=/") || !printable(f[0]) {
		return ""
	}
	return f[0]
}

type tokKind uint8

const (
	tWord   tokKind = iota // a run of characters that are not specials
	tQuoted                // a quoted-string, unquoted
	tSemi                  // ;
	tEq                    // =
	tSlash                 // /
)

type token struct {
	kind tokKind
	text string
	// glued: no whitespace or comment between this token and the previous
	// one, so "john"@example.com or abc/def== can be put together again.
	glued bool
}

// lexAuthRes splits v into tokens, dropping comments and whitespace.
// '.' and '@' are word characters: "header.from" and "a@b.example" are one
// word each.
func lexAuthRes(v string) ([]token, error) {
	var toks []token
	sep := true
	for i := 0; i < len(v); {
		c := v[i]
		switch c {
		case ' ', '\t', '\r', '\n':
			sep = true
			i++
		case '(':
			// Comments nest and may hold quoted-pairs (RFC 5322 §3.2.2).
			depth := 0
		comment:
			for ; i < len(v); i++ {
				switch v[i] {
				case '\\':
					i++
				case '(':
					depth++
				case ')':
					depth--
					if depth == 0 {
						break comment
					}
				}
			}
			if depth != 0 {
				return nil, errors.New("unterminated comment")
			}
			i++
			sep = true
		case ')':
			return nil, errors.New("unbalanced ')'")
		case '"':
			var b strings.Builder
			i++
			closed := false
			for i < len(v) {
				ch := v[i]
				i++
				if ch == '\\' && i < len(v) {
					b.WriteByte(v[i])
					i++
					continue
				}
				if ch == '"' {
					closed = true
					break
				}
				b.WriteByte(ch)
			}
			if !closed {
				return nil, errors.New("unterminated quoted string")
			}
			toks = append(toks, token{kind: tQuoted, text: b.String(), glued: !sep})
			sep = false
		case ';', '=', '/':
			k := tSemi
			if c == '=' {
				k = tEq
			} else if c == '/' {
				k = tSlash
			}
			toks = append(toks, token{kind: k, text: v[i : i+1], glued: !sep})
			sep = false
			i++
		default:
			j := i
			for j < len(v) && !strings.ContainsRune(" \t\r\n()\";=/", rune(v[j])) {
				j++
			}
			toks = append(toks, token{kind: tWord, text: v[i:j], glued: !sep})
			sep = false
			i = j
		}
	}
	return toks, nil
}

// splitSemi splits tokens at ';'; there is always at least one segment.
func splitSemi(toks []token) [][]token {
	segs := [][]token{nil}
	for _, t := range toks {
		if t.kind == tSemi {
			segs = append(segs, nil)
			continue
		}
		segs[len(segs)-1] = append(segs[len(segs)-1], t)
	}
	return segs
}

// isMethodspec reports whether seg starts with method [ "/" version ] "=".
func isMethodspec(seg []token) bool {
	if len(seg) < 2 || seg[0].kind != tWord {
		return false
	}
	if seg[1].kind == tEq {
		return true
	}
	return len(seg) >= 4 && seg[1].kind == tSlash && seg[2].kind == tWord && seg[3].kind == tEq
}

func parseResinfo(seg []token) (Result, error) {
	if !isMethodspec(seg) {
		return Result{}, fmt.Errorf("want method=result, got %q", seg[0].text)
	}
	method := seg[0].text
	j := 2
	if seg[1].kind == tSlash {
		j = 4
	}
	if !isKeyword(method) {
		return Result{}, fmt.Errorf("bad method %q", method)
	}
	if j >= len(seg) || seg[j].kind != tWord || !isKeyword(seg[j].text) {
		return Result{}, fmt.Errorf("%s: missing or bad result", method)
	}
	r := Result{Method: strings.ToLower(method), Result: strings.ToLower(seg[j].text), Props: map[string]string{}}
	for j++; j < len(seg); {
		if seg[j].kind != tWord || j+1 >= len(seg) || seg[j+1].kind != tEq {
			j++ // not a property: tolerate, as Microsoft's free text
			continue
		}
		key := strings.ToLower(seg[j].text)
		j += 2
		var val strings.Builder
		// pvalue may follow CFWS, unless that next word is itself a key.
		if j < len(seg) && (seg[j].kind == tWord || seg[j].kind == tQuoted) &&
			(seg[j].glued || j+1 >= len(seg) || seg[j+1].kind != tEq) {
			val.WriteString(seg[j].text)
			for j++; j < len(seg) && seg[j].glued && seg[j].kind != tSemi; j++ {
				val.WriteString(seg[j].text)
			}
		}
		if _, dup := r.Props[key]; !dup {
			r.Props[key] = val.String()
		}
	}
	return r, nil
}

// isKeyword: RFC 8601 Keyword (RFC 5321 Ldh-str) plus '_' seen in practice.
func isKeyword(s string) bool {
	if s == "" {
		return false
	}
	for i := 0; i < len(s); i++ {
		c := s[i]
		if !(c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || c == '-' || c == '_') {
			return false
		}
	}
	return true
}

func isDigits(s string) bool {
	if s == "" {
		return false
	}
	for i := 0; i < len(s); i++ {
		if s[i] < '0' || s[i] > '9' {
			return false
		}
	}
	return true
}

// printable: non-empty and free of controls, so that an authserv-id can be
// logged and compared (UTF-8 is allowed for internationalized names,
// RFC 8616).
func printable(s string) bool {
	if s == "" {
		return false
	}
	for i := 0; i < len(s); i++ {
		if s[i] < 0x20 || s[i] == 0x7f {
			return false
		}
	}
	return true
}
