package config

import (
	"errors"
	"io/fs"
	"maps"
	"slices"
	"strings"
	"testing"
)

// baseKeys is the smallest valid configuration, as dotted key -> raw YAML
// value.
func baseKeys() map[string]string {
	return map[string]string{
		"data_dir":          "/var/lib/claimsd",
		"claims_address":    "reklamacje@example.com",
		"imap.host":         "imap.example.com",
		"imap.username":     "reklamacje@example.com",
		"imap.password_env": "CLAIMSD_IMAP_PASSWORD",
	}
}

// del marks a key to remove from baseKeys in render.
const del = "\x00delete"

// render writes baseKeys with the overrides applied as YAML. Keys with one
// dot are put in their section; a value of del removes the key. Values are
// raw YAML, so lists can be given as "\n  - a".
func render(over map[string]string) string {
	keys := baseKeys()
	for k, v := range over {
		if v == del {
			delete(keys, k)
		} else {
			keys[k] = v
		}
	}
	sections := map[string][]string{}
	var b strings.Builder
	for _, k := range slices.Sorted(maps.Keys(keys)) {
		section, sub, nested := strings.Cut(k, ".")
		if nested {
			sections[section] = append(sections[section], "  "+sub+": "+keys[k]+"\n")
			continue
		}
		b.WriteString(k + ": " + keys[k] + "\n")
	}
	for _, s := range slices.Sorted(maps.Keys(sections)) {
		b.WriteString(s + ":\n")
		for _, line := range sections[s] {
			b.WriteString(line)
		}
	}
	return b.String()
}

// testEnv is an environment with the passwords used by the tests.
func testEnv(extra map[string]string) func(string) (string, bool) {
	env := map[string]string{
		"CLAIMSD_IMAP_PASSWORD": "imap-Secret-123",
		"CLAIMSD_SMTP_PASSWORD": "smtp-Secret-456",
	}
	maps.Copy(env, extra)
	return func(name string) (string, bool) {
		v, ok := env[name]
		return v, ok
	}
}

// testFiles reads files from a map; missing files are fs.ErrNotExist.
func testFiles(files map[string]string) func(string) ([]byte, error) {
	return func(name string) ([]byte, error) {
		v, ok := files[name]
		if !ok {
			return nil, &fs.PathError{Op: "open", Path: name, Err: fs.ErrNotExist}
		}
		return []byte(v), nil
	}
}

// mustParse parses YAML that must be valid.
func mustParse(t *testing.T, yaml string) *Config {
	t.Helper()
	c, err := Parse([]byte(yaml), testEnv(nil), testFiles(nil))
	if err != nil {
		t.Fatalf("Parse:\n%s\nerror: %v", yaml, err)
	}
	return c
}

// problemsOf returns the problems in a *ValidationError, failing otherwise.
func problemsOf(t *testing.T, err error) []Problem {
	t.Helper()
	var ve *ValidationError
	if !errors.As(err, &ve) {
		t.Fatalf("error %v (%T) is not a *ValidationError", err, err)
	}
	return ve.Problems
}
