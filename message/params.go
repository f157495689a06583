package message

import (
	"sort"
	"strconv"
	"strings"
)

// Bounds on parameter parsing so a hostile header stays cheap.
const (
	maxParams        = 64
	maxParamSections = 64
)

// headerValue is a parsed Content-Type or Content-Disposition field: the
// lower-cased leading token and the parameters, names lower-cased, values
// decoded to UTF-8.
type headerValue struct {
	value  string
	params params
}

// param returns the value of the named parameter, "" when absent.
func (hv headerValue) param(name string) string {
	for _, p := range hv.params {
		if p.name == name {
			return p.value
		}
	}
	return ""
}

// params are parameters with distinct names in the order first set. A
// header value has a few, so a slice is cheaper than a map.
type params []rawParam

// set sets the value of the named parameter.
func (ps *params) set(name, value string) {
	for i := range *ps {
		if (*ps)[i].name == name {
			(*ps)[i].value = value
			return
		}
	}
	*ps = append(*ps, rawParam{name: name, value: value})
}

// has reports whether the named parameter is set.
func (ps params) has(name string) bool {
	for _, p := range ps {
		if p.name == name {
			return true
		}
	}
	return false
}

// rawParam is one parameter as written, before RFC 2231 reassembly.
type rawParam struct {
	name, value string
}

// parseHeaderValue parses `token *(";" name=value)` leniently: missing
// semicolons, unquoted values with spaces or tspecials, unterminated quotes,
// duplicate names (first wins), RFC 2231 extended and continued parameters
// in any charset (the standard library only knows UTF-8 and Latin-1), and
// RFC 2047 encoded-words inside values, which many mailers send although
// RFC 2047 section 5 forbids them there.
func parseHeaderValue(v string) headerValue {
	v = strings.TrimSpace(v)
	if v == "" {
		// No field (Content-Disposition mostly is absent).
		return headerValue{}
	}
	end := strings.IndexAny(v, "; \t")
	if end < 0 {
		end = len(v)
	}
	hv := headerValue{value: strings.ToLower(v[:end])}
	hv.params = assembleParams(splitParams(v[end:]))
	return hv
}

// splitParams tokenizes the parameter list after the leading token.
func splitParams(s string) []rawParam {
	// Each parameter has an "=", so this is about the right size.
	out := make([]rawParam, 0, min(strings.Count(s, "="), maxParams))
	for len(out) < maxParams {
		s = strings.TrimLeft(s, "; \t\r\n")
		if s == "" {
			break
		}
		eq := strings.IndexAny(s, "=;")
		if eq < 0 || s[eq] == ';' {
			// A token without "=" is junk; skip to the next separator.
			if eq < 0 {
				break
			}
			s = s[eq:]
			continue
		}
		name := strings.ToLower(strings.TrimSpace(s[:eq]))
		var value string
		value, s = paramValue(strings.TrimLeft(s[eq+1:], " \t"))
		if name != "" {
			out = append(out, rawParam{name: name, value: value})
		}
	}
	return out
}

// paramValue reads one value (quoted-string or token, RFC 2045 section 5.1)
// and returns it with the unparsed rest.
func paramValue(s string) (string, string) {
	if strings.HasPrefix(s, `"`) {
		return quotedValue(s[1:])
	}
	end := strings.IndexByte(s, ';')
	if end < 0 {
		end = len(s)
	}
	value, rest := s[:end], s[end:]
	// "text/plain charset=utf-8 format=flowed": a space followed by
	// name= starts the next parameter even without a semicolon.
	if i := nextParamStart(value); i >= 0 {
		value, rest = value[:i], value[i:]+rest
	}
	return strings.TrimSpace(value), rest
}

// quotedValue reads a quoted-string body (after the opening quote),
// honouring backslash escapes; an unterminated quote runs to the end.
func quotedValue(s string) (string, string) {
	if i := strings.IndexAny(s, `"\`); i >= 0 && s[i] == '"' {
		// No escapes: the value is a substring.
		rest := s[i+1:]
		if j := strings.IndexByte(rest, ';'); j >= 0 {
			rest = rest[j:]
		} else {
			rest = ""
		}
		return s[:i], rest
	}
	var b strings.Builder
	for i := 0; i < len(s); i++ {
		switch c := s[i]; c {
		case '\\':
			if i+1 < len(s) {
				i++
				b.WriteByte(s[i])
			}
		case '"':
			rest := s[i+1:]
			if j := strings.IndexByte(rest, ';'); j >= 0 {
				rest = rest[j:]
			} else {
				rest = ""
			}
			return b.String(), rest
		default:
			b.WriteByte(c)
		}
	}
	return b.String(), ""
}

// nextParamStart returns the index of whitespace followed by `name=` inside
// an unquoted value, or -1.
func nextParamStart(v string) int {
	for i := 0; i < len(v); i++ {
		if v[i] != ' ' && v[i] != '\t' {
			continue
		}
		j := i + 1
		for j < len(v) && isParamNameChar(v[j]) {
			j++
		}
		if j > i+1 && j < len(v) && v[j] == '=' {
			return i
		}
	}
	return -1
}

func isParamNameChar(c byte) bool {
	return c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || c == '-' || c == '_' || c == '*' || c == '.'
}

// paramSection is one piece of an RFC 2231 section 3 continuation.
type paramSection struct {
	value   string
	encoded bool
}

// assembleParams applies RFC 2231: "name*" is an extended value
// (charset'language'percent-encoded), "name*0", "name*1*"... are sections
// joined in order. Extended forms win over a plain "name" of the same name.
func assembleParams(raw []rawParam) params {
	// Plain parameters go straight to out (the first of a name wins);
	// the RFC 2231 forms, rare, are collected apart and override them.
	// out reuses raw's array: it never gets ahead of the entry read.
	out := params(raw[:0])
	var ext map[string]string
	var sections map[string]map[int]paramSection
	for _, p := range raw {
		star := strings.IndexByte(p.name, '*')
		if star < 0 {
			if !out.has(p.name) {
				out = append(out, rawParam{name: p.name, value: decodeParamText(p.value)})
			}
			continue
		}
		base, suffix := p.name[:star], p.name[star+1:]
		if suffix == "" {
			if ext == nil {
				ext = map[string]string{}
			}
			setFirst(ext, base, p.value)
			continue
		}
		enc := strings.HasSuffix(suffix, "*")
		n, err := strconv.Atoi(strings.TrimSuffix(suffix, "*"))
		if err != nil || n < 0 || n >= maxParamSections {
			continue
		}
		if sections == nil {
			sections = map[string]map[int]paramSection{}
		}
		if sections[base] == nil {
			sections[base] = map[int]paramSection{}
		}
		if _, dup := sections[base][n]; !dup {
			sections[base][n] = paramSection{value: p.value, encoded: enc}
		}
	}
	if sections == nil && ext == nil {
		return out
	}
	for name, secs := range sections {
		if v, ok := joinSections(secs); ok {
			out.set(name, v)
		}
	}
	for name, v := range ext {
		out.set(name, decodeExtValue(v))
	}
	return out
}

func setFirst(m map[string]string, k, v string) {
	if _, ok := m[k]; !ok {
		m[k] = v
	}
}

// joinSections concatenates RFC 2231 sections 0..n (stopping at the first
// gap); the charset named in an encoded section 0 applies to all encoded
// sections (RFC 2231 section 4.1).
func joinSections(secs map[int]paramSection) (string, bool) {
	keys := make([]int, 0, len(secs))
	for k := range secs {
		keys = append(keys, k)
	}
	sort.Ints(keys)
	var label string
	var buf []byte
	anyEncoded, joined := false, 0
	for i, k := range keys {
		if k != i {
			break
		}
		joined++
		s := secs[k]
		if !s.encoded {
			buf = append(buf, s.value...)
			continue
		}
		anyEncoded = true
		v := s.value
		if k == 0 {
			label, v = splitExtCharset(v)
		}
		buf = append(buf, percentDecode(v)...)
	}
	if joined == 0 {
		return "", false
	}
	if !anyEncoded {
		return decodeParamText(string(buf)), true
	}
	s, _ := decodeCharset(label, buf)
	return s, true
}

// decodeExtValue decodes an RFC 2231 section 4 extended value.
func decodeExtValue(v string) string {
	label, rest := splitExtCharset(v)
	s, _ := decodeCharset(label, percentDecode(rest))
	return s
}

// splitExtCharset splits "charset'language'value"; without the two quotes
// the whole string is the value (lenient) and the charset is UTF-8.
func splitExtCharset(v string) (string, string) {
	i := strings.IndexByte(v, '\'')
	if i < 0 {
		return "utf-8", v
	}
	j := strings.IndexByte(v[i+1:], '\'')
	if j < 0 {
		return "utf-8", v
	}
	return v[:i], v[i+1+j+1:]
}

// percentDecode decodes %XX escapes; malformed escapes stay literal.
func percentDecode(s string) []byte {
	out := make([]byte, 0, len(s))
	for i := 0; i < len(s); i++ {
		if s[i] == '%' && i+2 < len(s) && isHex(s[i+1]) && isHex(s[i+2]) {
			out = append(out, unhex(s[i+1])<<4|unhex(s[i+2]))
			i += 2
			continue
		}
		out = append(out, s[i])
	}
	return out
}

// decodeParamText decodes a plain parameter value: RFC 2047 words if any,
// and stray 8-bit bytes made valid UTF-8.
func decodeParamText(v string) string {
	s, _ := decodeWords(v)
	return s
}
