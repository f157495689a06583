package config

import (
	"strings"
	"testing"
)

// TestDecodeProblems checks unknown keys (with suggestions), inline
// passwords, duplicate keys, wrong value types and malformed YAML: each is
// reported with its key path and line.
func TestDecodeProblems(t *testing.T) {
	tests := []struct {
		name    string
		yaml    string
		want    []string
		notWant string
	}{
		{
			name: "misspelt nested key, as in the docs",
			yaml: `data_dir: /var/lib/claimsd
claims_address: reklamacje@example.com
imap:
  host: imap.example.com
  port: 993
  username: reklamacje@example.com
  pasword_env: CLAIMSD_IMAP_PASSWORD
`,
			want: []string{"imap.pasword_env: unknown key (line 7); did you mean password_env?"},
		},
		{
			name: "misspelt top-level key",
			yaml: "data_dri: /var/lib/claimsd\n",
			want: []string{"data_dri: unknown key (line 1); did you mean data_dir?"},
		},
		{
			name: "hyphen instead of underscore",
			yaml: "case-prefix: CLM\n",
			want: []string{"case-prefix: unknown key (line 1); did you mean case_prefix?"},
		},
		{
			name: "swapped letters",
			yaml: "imap:\n  idel: false\n",
			want: []string{"imap.idel: unknown key (line 2); did you mean idle?"},
		},
		{
			name: "synonym",
			yaml: "imap:\n  user: reklamacje@example.com\n  folder: INBOX\ntz: UTC\n",
			want: []string{
				"imap.user: unknown key (line 2); did you mean username?",
				"imap.folder: unknown key (line 3); did you mean mailbox?",
				"tz: unknown key (line 4); did you mean timezone?",
			},
		},
		{
			name: "misspelt key in a list entry",
			yaml: "staff:\n  - name: Anna\n    email: anna@example.com\n  - name: Piotr\n    emial: piotr@example.com\n",
			want: []string{"staff[1].emial: unknown key (line 5); did you mean email?"},
		},
		{
			name: "unknown key without a near match",
			yaml: "imap:\n  colour: blue\n",
			want: []string{"imap.colour: unknown key (line 2); fix: remove it or correct the spelling; the keys allowed in imap are host, port, security, tls_insecure_skip_verify, username, auth, password_env, password_file, oauth2, mailbox, idle, poll_interval, processed_keyword, move_to"},
		},
		{
			name: "unknown top-level key without a near match",
			yaml: "webhooks: []\n",
			want: []string{"webhooks: unknown key (line 1); fix: remove it or correct the spelling; the keys allowed at the top level are data_dir, timezone, case_prefix, claims_address, own_addresses, log, imap, smtp, staff, threading"},
		},
		{
			name: "location is not a key",
			yaml: "location: Europe/Warsaw\n",
			want: []string{"location: unknown key (line 1)"},
		},
		{
			name:    "inline IMAP password",
			yaml:    "imap:\n  host: imap.example.com\n  password: Hunter2-Inline\n",
			want:    []string{"imap.password: passwords may not be written in the configuration file (line 3); fix: remove imap.password; secrets come from imap.password_env (the name of an environment variable holding the password) or imap.password_file (a file containing only the password)"},
			notWant: "Hunter2-Inline",
		},
		{
			name:    "inline SMTP password",
			yaml:    "smtp:\n  passwd: Hunter2-Inline\n",
			want:    []string{"smtp.passwd: passwords may not be written in the configuration file (line 2); fix: remove smtp.passwd; secrets come from smtp.password_env"},
			notWant: "Hunter2-Inline",
		},
		{
			name:    "unknown key value is never shown",
			yaml:    "imap:\n  pasword_env: Hunter2-Inline\n",
			want:    []string{"imap.pasword_env: unknown key (line 2); did you mean password_env?"},
			notWant: "Hunter2-Inline",
		},
		{
			name: "all unknown keys at once",
			yaml: "dta_dir: x\nimap:\n  hots: x\n  prot: 1\n",
			want: []string{"dta_dir: unknown key (line 1)", "imap.hots: unknown key (line 3); did you mean host?", "imap.prot: unknown key (line 4); did you mean port?"},
		},
		{
			name: "duplicate key",
			yaml: "imap:\n  host: a.example.com\n  host: b.example.com\n",
			want: []string{"imap.host: is defined twice, first on line 2 (line 3); fix: keep only one of them"},
		},
		{
			name: "port is not a number",
			yaml: "imap:\n  port: imaps\n",
			want: []string{`imap.port: "imaps" is not a whole number (line 2); fix: write a whole number, e.g. 993`},
		},
		{
			name: "quoted port",
			yaml: "imap:\n  port: \"993\"\n  idle: 'false'\n",
			want: []string{
				`imap.port: "993" is quoted text, not a whole number (line 2); fix: remove the quotes, e.g. 993`,
				`imap.idle: "false" is quoted text, not true or false (line 3); fix: remove the quotes, e.g. true`,
			},
		},
		{
			name: "idle is not a bool",
			yaml: "imap:\n  idle: sometimes\n",
			want: []string{`imap.idle: "sometimes" is not true or false (line 2); fix: write true or false`},
		},
		{
			name: "duration without unit",
			yaml: "imap:\n  poll_interval: 60\n",
			want: []string{`imap.poll_interval: "60" is not a duration: missing unit (line 2); fix: write a number with a unit (s, m, h or d), e.g. 60s, 5m, 720h or 30d`},
		},
		{
			name: "duration nonsense",
			yaml: "threading:\n  subject_window: a month\n",
			want: []string{`threading.subject_window: "a month" is not a duration (line 2); fix: write a number with a unit`},
		},
		{
			name: "duration as a list",
			yaml: "threading:\n  subject_window: [1h]\n",
			want: []string{"threading.subject_window: expected a single value, not a list (line 2); fix: write the value on the same line as the key, e.g. 60s"},
		},
		{
			name: "string given a mapping",
			yaml: "data_dir:\n  path: /var/lib/claimsd\n",
			want: []string{"data_dir: expected a single value, not a mapping of keys (line 2); fix: write the value on the same line as the key"},
		},
		{
			name: "section given a value",
			yaml: "imap: imap.example.com\n",
			want: []string{"imap: must be a mapping of keys, not a single value (line 1); fix: put the keys of imap on the lines below it, indented"},
		},
		{
			name: "list given a value",
			yaml: "own_addresses: bok@example.com\n",
			want: []string{`own_addresses: expected a list, not a single value (line 1); fix: write each entry on its own line starting with "- "`},
		},
		{
			name: "list given a mapping",
			yaml: "staff:\n  name: Anna\n",
			want: []string{`staff: expected a list, not a mapping of keys (line 2); fix: write each entry on its own line starting with "- "`},
		},
		{
			name: "empty list entry",
			yaml: "own_addresses:\n  - bok@example.com\n  -\n",
			want: []string{`own_addresses[1]: is an empty entry (line 3); fix: fill it in or remove its "-" line`},
		},
		{
			name: "root is a list",
			yaml: "- data_dir: /x\n",
			want: []string{"the configuration must be a mapping of keys, not a list (line 1); fix: start the file with keys such as data_dir:, claims_address: and imap:"},
		},
		{
			name: "tab indentation",
			yaml: "imap:\n\thost: x\n",
			want: []string{"invalid YAML: yaml: line 2: found character that cannot start any token; fix: check the indentation (spaces, not tabs)"},
		},
		{
			name: "two documents",
			yaml: "data_dir: /a\n---\ndata_dir: /b\n",
			want: []string{`the file holds more than one YAML document (line 2); fix: remove the "---" separator`},
		},
		{
			name: "unknown key inside a merged mapping",
			yaml: "imap:\n  <<: {hots: x}\n",
			want: []string{"imap.hots: unknown key (line 2); did you mean host?"},
		},
		{
			name: "merge of a value",
			yaml: "imap:\n  <<: 5\n",
			want: []string{"imap.<<: a merge key must refer to a mapping (line 2); fix: use <<: *anchor where the anchor names a mapping"},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := Parse([]byte(tt.yaml), testEnv(nil), testFiles(nil))
			if err == nil {
				t.Fatalf("Parse succeeded")
			}
			for _, w := range tt.want {
				if !strings.Contains(err.Error(), w) {
					t.Errorf("error does not contain\n  %s\ngot:\n  %v", w, err)
				}
			}
			if tt.notWant != "" && strings.Contains(err.Error(), tt.notWant) {
				t.Errorf("error shows %q: %v", tt.notWant, err)
			}
			if n := len(problemsOf(t, err)); n != len(tt.want) {
				t.Errorf("%d problems, want %d (decode problems stop before validation):\n%v", n, len(tt.want), err)
			}
		})
	}
}

// TestDecodeAnchorsAndMerge checks that YAML anchors, aliases and merge keys
// work in a valid configuration.
func TestDecodeAnchorsAndMerge(t *testing.T) {
	c := mustParse(t, `
data_dir: /var/lib/claimsd
claims_address: &claims reklamacje@example.com
imap: &server
  host: localhost
  security: none
  username: *claims
  password_env: CLAIMSD_IMAP_PASSWORD
smtp:
  <<: *server
  password_env: CLAIMSD_SMTP_PASSWORD
  from: *claims
`)
	if c.SMTP.Host != "localhost" || c.SMTP.Username != "reklamacje@example.com" || c.SMTP.Port != 25 {
		t.Errorf("merged smtp = %v", c.SMTP)
	}
	if c.SMTP.Password != "smtp-Secret-456" {
		t.Errorf("smtp password not overridden by the explicit key")
	}
}

// TestEmptyDocument checks that an empty file is reported by the
// validation of required keys, not as a YAML error.
func TestEmptyDocument(t *testing.T) {
	for _, doc := range []string{"", "# nothing\n", "---\n", "~\n"} {
		_, err := Parse([]byte(doc), testEnv(nil), testFiles(nil))
		if err == nil || !strings.Contains(err.Error(), "data_dir: is required") {
			t.Errorf("Parse(%q) = %v, want data_dir required", doc, err)
		}
	}
}

// TestSuggest checks the closest-key suggestions directly.
func TestSuggest(t *testing.T) {
	known := []string{"host", "port", "security", "username", "password_env", "password_file", "mailbox", "idle", "poll_interval"}
	tests := map[string]string{
		"pasword_env":   "password_env",
		"password_fiel": "password_file",
		"Host":          "host",
		"prot":          "port",
		"securty":       "security",
		"pollinterval":  "poll_interval",
		"login":         "username",
		"xyz":           "",
		"banana":        "",
		"ho":            "",
	}
	for name, want := range tests {
		if got := suggest(name, known); got != want {
			t.Errorf("suggest(%q) = %q, want %q", name, got, want)
		}
	}
}

// TestEditDistance checks the distance function.
func TestEditDistance(t *testing.T) {
	tests := []struct {
		a, b string
		want int
	}{
		{"", "", 0}, {"abc", "", 3}, {"", "abc", 3}, {"host", "host", 0},
		{"hsot", "host", 1}, {"pasword", "password", 1}, {"kitten", "sitting", 3},
	}
	for _, tt := range tests {
		if got := editDistance(tt.a, tt.b); got != tt.want {
			t.Errorf("editDistance(%q, %q) = %d, want %d", tt.a, tt.b, got, tt.want)
		}
	}
}
