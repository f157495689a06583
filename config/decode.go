package config

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"reflect"
	"strings"

	"go.yaml.in/yaml/v3"
)

// decoded is the result of checking the YAML tree against Config's schema.
type decoded struct {
	// problems are unknown keys, duplicate keys and values of the wrong type.
	problems []Problem
	// present holds the dotted paths of keys given a non-null value.
	present map[string]bool
}

// decode turns YAML into a Config. It first walks the YAML tree against the
// schema of Config to report every unknown key, duplicate key and value of
// the wrong type by its dotted path and line; only when that finds nothing
// is the document decoded, with yaml's KnownFields as a second guard.
func decode(data []byte) (*Config, map[string]bool, []Problem) {
	var doc yaml.Node
	dec := yaml.NewDecoder(bytes.NewReader(data))
	err := dec.Decode(&doc)
	if errors.Is(err, io.EOF) {
		return &Config{}, map[string]bool{}, nil
	}
	if err != nil {
		return nil, nil, []Problem{{
			Message: "invalid YAML: " + err.Error(),
			Fix:     "check the indentation (spaces, not tabs) and quote values that contain \": \", \" #\" or start with a special character",
		}}
	}
	var extra yaml.Node
	if err := dec.Decode(&extra); !errors.Is(err, io.EOF) {
		return nil, nil, []Problem{{
			Line:    extra.Line,
			Message: "the file holds more than one YAML document",
			Fix:     "remove the \"---\" separator and everything after it, or merge the documents into one",
		}}
	}

	d := &decoded{present: map[string]bool{}}
	root := &doc
	if root.Kind == yaml.DocumentNode && len(root.Content) > 0 {
		root = root.Content[0]
	}
	d.value("", root, reflect.TypeFor[Config]())
	if len(d.problems) > 0 {
		return nil, nil, d.problems
	}

	cfg := &Config{}
	strict := yaml.NewDecoder(bytes.NewReader(data))
	strict.KnownFields(true)
	if err := strict.Decode(cfg); err != nil && !errors.Is(err, io.EOF) {
		return nil, nil, []Problem{{
			Message: "cannot decode: " + err.Error(),
			Fix:     "correct the keys and values named above",
		}}
	}
	return cfg, d.present, nil
}

// add records a decoding problem.
func (d *decoded) add(p Problem) { d.problems = append(d.problems, p) }

// resolve follows YAML aliases to the node they refer to.
func resolve(n *yaml.Node) *yaml.Node {
	for i := 0; n != nil && n.Kind == yaml.AliasNode && i < 100; i++ {
		n = n.Alias
	}
	return n
}

// isNull reports whether n is an empty or null value.
func isNull(n *yaml.Node) bool {
	return n == nil || n.Kind == 0 || (n.Kind == yaml.ScalarNode && n.Tag == "!!null")
}

// isLeaf reports whether values of t are decoded as one YAML value rather
// than as a mapping or list of keys that the walker descends into.
func isLeaf(t reflect.Type) bool {
	if reflect.PointerTo(t).Implements(reflect.TypeFor[yaml.Unmarshaler]()) {
		return true
	}
	return t.Kind() != reflect.Struct && t.Kind() != reflect.Slice
}

// childPath joins a parent path and a key with a dot.
func childPath(parent, key string) string {
	if parent == "" {
		return key
	}
	return parent + "." + key
}

// kindName describes the kind of a YAML node for messages.
func kindName(n *yaml.Node) string {
	switch n.Kind {
	case yaml.MappingNode:
		return "a mapping of keys"
	case yaml.SequenceNode:
		return "a list"
	default:
		return "a single value"
	}
}

// value checks node n against type t at the given path.
func (d *decoded) value(path string, n *yaml.Node, t reflect.Type) {
	n = resolve(n)
	if isNull(n) {
		return
	}
	if path != "" {
		d.present[path] = true
	}
	switch {
	case isLeaf(t):
		d.leaf(path, n, t)
	case t.Kind() == reflect.Struct:
		if n.Kind != yaml.MappingNode {
			msg := "must be a mapping of keys, not " + kindName(n)
			fix := fmt.Sprintf("put the keys of %s on the lines below it, indented", path)
			if path == "" {
				msg = "the configuration " + msg
				fix = "start the file with keys such as data_dir:, claims_address: and imap:"
			}
			d.add(Problem{Key: path, Line: n.Line, Message: msg, Fix: fix})
			return
		}
		d.mapping(path, n, t)
	case t.Kind() == reflect.Slice:
		if n.Kind != yaml.SequenceNode {
			d.add(Problem{Key: path, Line: n.Line,
				Message: "expected a list, not " + kindName(n),
				Fix:     "write each entry on its own line starting with \"- \""})
			return
		}
		for i, item := range n.Content {
			itemPath := fmt.Sprintf("%s[%d]", path, i)
			if isNull(resolve(item)) {
				d.add(Problem{Key: itemPath, Line: item.Line,
					Message: "is an empty entry",
					Fix:     "fill it in or remove its \"-\" line"})
				continue
			}
			d.value(itemPath, item, t.Elem())
		}
	}
}

// leaf checks that a single value decodes into type t.
func (d *decoded) leaf(path string, n *yaml.Node, t reflect.Type) {
	isDuration := t == reflect.TypeFor[Duration]()
	if n.Kind != yaml.ScalarNode {
		d.add(Problem{Key: path, Line: n.Line,
			Message: "expected a single value, not " + kindName(n),
			Fix:     "write the value on the same line as the key, e.g. " + exampleValue(t)})
		return
	}
	err := n.Decode(reflect.New(t).Interface())
	if err == nil {
		return
	}
	var typeErr *yaml.TypeError
	switch {
	case isDuration:
		d.add(Problem{Key: path, Line: n.Line, Message: err.Error(),
			Fix: "write a number with a unit (s, m, h or d), e.g. 60s, 5m, 720h or 30d"})
	case errors.As(err, &typeErr) && n.Style&(yaml.DoubleQuotedStyle|yaml.SingleQuotedStyle) != 0:
		d.add(Problem{Key: path, Line: n.Line,
			Message: fmt.Sprintf("%q is quoted text, not %s", n.Value, typeName(t)),
			Fix:     "remove the quotes, e.g. " + exampleValue(t)})
	case errors.As(err, &typeErr):
		d.add(Problem{Key: path, Line: n.Line,
			Message: fmt.Sprintf("%q is not %s", n.Value, typeName(t)),
			Fix:     "write " + typeName(t) + ", e.g. " + exampleValue(t)})
	default:
		d.add(Problem{Key: path, Line: n.Line, Message: err.Error(),
			Fix: "write " + typeName(t) + ", e.g. " + exampleValue(t)})
	}
}

// typeName describes a leaf type for messages.
func typeName(t reflect.Type) string {
	if t.Kind() == reflect.Pointer {
		t = t.Elem()
	}
	switch t.Kind() {
	case reflect.Int:
		return "a whole number"
	case reflect.Bool:
		return "true or false"
	}
	return "text"
}

// exampleValue gives an example of a valid value of a leaf type.
func exampleValue(t reflect.Type) string {
	if t.Kind() == reflect.Pointer {
		t = t.Elem()
	}
	switch t.Kind() {
	case reflect.Int:
		return "993"
	case reflect.Bool:
		return "true"
	}
	if t == reflect.TypeFor[Duration]() {
		return "60s"
	}
	return "\"text\""
}

// mapping checks the keys of mapping node n against struct type t.
func (d *decoded) mapping(path string, n *yaml.Node, t reflect.Type) {
	names, types := fieldsOf(t)
	seen := map[string]int{}
	for i := 0; i+1 < len(n.Content); i += 2 {
		k, v := n.Content[i], n.Content[i+1]
		if k.Kind == yaml.ScalarNode && k.Tag == "!!merge" {
			d.merge(path, v, t)
			continue
		}
		if k.Kind != yaml.ScalarNode {
			d.add(Problem{Key: path, Line: k.Line,
				Message: "a key must be a plain name, not " + kindName(k),
				Fix:     "write keys as name: value"})
			continue
		}
		name := k.Value
		key := childPath(path, name)
		if first, dup := seen[name]; dup {
			d.add(Problem{Key: key, Line: k.Line,
				Message: fmt.Sprintf("is defined twice, first on line %d", first),
				Fix:     "keep only one of them"})
			continue
		}
		seen[name] = k.Line
		ft, ok := types[name]
		if !ok {
			d.add(unknownKey(path, name, k.Line, names))
			continue
		}
		d.value(key, v, ft)
	}
}

// merge checks the target of a YAML merge key ("<<: *anchor").
func (d *decoded) merge(path string, v *yaml.Node, t reflect.Type) {
	v = resolve(v)
	switch {
	case v != nil && v.Kind == yaml.MappingNode:
		d.mapping(path, v, t)
	case v != nil && v.Kind == yaml.SequenceNode:
		for _, item := range v.Content {
			d.merge(path, item, t)
		}
	default:
		line := 0
		if v != nil {
			line = v.Line
		}
		d.add(Problem{Key: childPath(path, "<<"), Line: line,
			Message: "a merge key must refer to a mapping",
			Fix:     "use <<: *anchor where the anchor names a mapping"})
	}
}

// fieldsOf lists the YAML keys of struct type t in declaration order, with
// the type of each.
func fieldsOf(t reflect.Type) ([]string, map[string]reflect.Type) {
	var names []string
	types := map[string]reflect.Type{}
	for i := 0; i < t.NumField(); i++ {
		f := t.Field(i)
		if !f.IsExported() {
			continue
		}
		tag := f.Tag.Get("yaml")
		if tag == "-" {
			continue
		}
		name, _, _ := strings.Cut(tag, ",")
		if name == "" {
			name = strings.ToLower(f.Name)
		}
		names = append(names, name)
		types[name] = f.Type
	}
	return names, types
}

// unknownKey builds the problem for a key that Config does not have,
// suggesting the closest known key when one is near. The value is never
// shown: it might be a secret.
func unknownKey(path, name string, line int, known []string) Problem {
	key := childPath(path, name)
	if isPasswordKey(name) && contains(known, "password_env") {
		return Problem{Key: key, Line: line,
			Message: "passwords may not be written in the configuration file",
			Fix: fmt.Sprintf("remove %s; secrets come from %s (the name of an environment variable holding the password) or %s (a file containing only the password)",
				key, childPath(path, "password_env"), childPath(path, "password_file"))}
	}
	if s := suggest(name, known); s != "" {
		return Problem{Key: key, Line: line, Message: "unknown key", Hint: "did you mean " + s + "?"}
	}
	where := "here"
	if path == "" {
		where = "at the top level"
	} else {
		where = "in " + path
	}
	return Problem{Key: key, Line: line, Message: "unknown key",
		Fix: fmt.Sprintf("remove it or correct the spelling; the keys allowed %s are %s", where, strings.Join(known, ", "))}
}

// isPasswordKey reports whether a key looks like an attempt to write a
// password inline.
func isPasswordKey(name string) bool {
	switch strings.ToLower(name) {
	case "password", "pass", "passwd", "pwd", "secret":
		return true
	}
	return false
}

// contains reports whether list holds s.
func contains(list []string, s string) bool {
	for _, v := range list {
		if v == s {
			return true
		}
	}
	return false
}

// suggest returns the known key closest to name, or "" when none is close
// enough to be a likely typo. A few common synonyms are also recognised.
func suggest(name string, known []string) string {
	norm := strings.ToLower(strings.ReplaceAll(name, "-", "_"))
	if s := synonym(norm); s != "" && contains(known, s) {
		return s
	}
	best, bestDist := "", 0
	for _, k := range known {
		dist := editDistance(norm, k)
		if best == "" || dist < bestDist {
			best, bestDist = k, dist
		}
	}
	limit := len(norm) / 3
	if limit < 1 {
		limit = 1
	}
	if limit > 3 {
		limit = 3
	}
	if best == "" || bestDist > limit {
		return ""
	}
	return best
}

// synonym maps common alternative names to the key claimsd uses.
func synonym(name string) string {
	switch name {
	case "user", "login", "user_name":
		return "username"
	case "tz", "zone":
		return "timezone"
	case "ssl", "tls", "encryption", "secure":
		return "security"
	case "insecure", "insecure_skip_verify", "skip_verify":
		return "tls_insecure_skip_verify"
	case "folder", "inbox":
		return "mailbox"
	case "interval", "poll":
		return "poll_interval"
	case "keyword", "flag":
		return "processed_keyword"
	case "sender", "from_address":
		return "from"
	case "address", "email_address", "mail":
		return "email"
	case "dir", "data", "datadir", "data_directory":
		return "data_dir"
	case "prefix":
		return "case_prefix"
	case "aliases":
		return "own_addresses"
	}
	return ""
}

// editDistance is the optimal string alignment distance between a and b:
// insertions, deletions, substitutions and swaps of adjacent bytes.
func editDistance(a, b string) int {
	prev2 := make([]int, len(b)+1)
	prev := make([]int, len(b)+1)
	cur := make([]int, len(b)+1)
	for j := range prev {
		prev[j] = j
	}
	for i := 1; i <= len(a); i++ {
		cur[0] = i
		for j := 1; j <= len(b); j++ {
			cost := 1
			if a[i-1] == b[j-1] {
				cost = 0
			}
			cur[j] = min(prev[j]+1, cur[j-1]+1, prev[j-1]+cost)
			if i > 1 && j > 1 && a[i-1] == b[j-2] && a[i-2] == b[j-1] {
				cur[j] = min(cur[j], prev2[j-2]+1)
			}
		}
		prev2, prev, cur = prev, cur, prev2
	}
	return prev[len(b)]
}
