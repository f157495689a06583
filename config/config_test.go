package config

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"
	"time"
)

// TestDefaults checks every default on the smallest valid configuration.
func TestDefaults(t *testing.T) {
	c := mustParse(t, render(nil))
	checks := []struct {
		key       string
		got, want any
	}{
		{"data_dir", c.DataDir, "/var/lib/claimsd"},
		{"timezone", c.Timezone, "Europe/Warsaw"},
		{"case_prefix", c.CasePrefix, "CLM"},
		{"log.level", c.Log.Level, "info"},
		{"log.format", c.Log.Format, "text"},
		{"imap.port", c.IMAP.Port, 993},
		{"imap.security", c.IMAP.Security, "tls"},
		{"imap.tls_insecure_skip_verify", c.IMAP.TLSInsecureSkipVerify, false},
		{"imap.mailbox", c.IMAP.Mailbox, "INBOX"},
		{"imap.idle", c.IMAP.UseIDLE(), true},
		{"imap.poll_interval", c.IMAP.PollInterval.Duration, 60 * time.Second},
		{"imap.processed_keyword", c.IMAP.ProcessedKeyword, "$ClaimsdProcessed"},
		{"imap.move_to", c.IMAP.MoveTo, ""},
		{"imap.password", c.IMAP.Password, "imap-Secret-123"},
		{"smtp.host", c.SMTP.Host, ""},
		{"staff", len(c.Staff), 0},
		{"threading.subject_window", c.Threading.SubjectWindow.Duration, 720 * time.Hour},
	}
	for _, ch := range checks {
		if !reflect.DeepEqual(ch.got, ch.want) {
			t.Errorf("%s = %v, want %v", ch.key, ch.got, ch.want)
		}
	}
	if c.Location == nil || c.Location.String() != "Europe/Warsaw" {
		t.Errorf("Location = %v, want Europe/Warsaw", c.Location)
	}
	if c.IMAP.IDLE == nil || !*c.IMAP.IDLE {
		t.Errorf("IMAP.IDLE not defaulted to true")
	}
}

// TestPortDefaults checks the port defaults for each security mode.
func TestPortDefaults(t *testing.T) {
	imap := map[string]int{"tls": 993, "starttls": 143, "none": 143, "TLS": 993}
	for sec, want := range imap {
		c := mustParse(t, render(map[string]string{"imap.host": "localhost", "imap.security": sec}))
		if c.IMAP.Port != want || c.IMAP.Security != strings.ToLower(sec) {
			t.Errorf("imap security %s: port %d security %q, want %d", sec, c.IMAP.Port, c.IMAP.Security, want)
		}
	}
	smtp := map[string]int{"": 587, "starttls": 587, "tls": 465, "none": 25}
	for sec, want := range smtp {
		over := map[string]string{"smtp.host": "localhost", "smtp.from": "reklamacje@example.com"}
		if sec != "" {
			over["smtp.security"] = sec
		}
		c := mustParse(t, render(over))
		if c.SMTP.Port != want {
			t.Errorf("smtp security %q: port %d, want %d", sec, c.SMTP.Port, want)
		}
		if sec == "" && c.SMTP.Security != "starttls" {
			t.Errorf("smtp security default %q, want starttls", c.SMTP.Security)
		}
	}
	c := mustParse(t, render(map[string]string{"imap.port": "1993", "imap.idle": "false", "imap.poll_interval": "5s"}))
	if c.IMAP.Port != 1993 || c.IMAP.UseIDLE() || c.IMAP.PollInterval.Duration != 5*time.Second {
		t.Errorf("explicit values not kept: %v", c.IMAP)
	}
}

// TestUseIDLE checks UseIDLE on an unset, true and false IDLE.
func TestUseIDLE(t *testing.T) {
	yes, no := true, false
	if !(IMAP{}).UseIDLE() || !(IMAP{IDLE: &yes}).UseIDLE() || (IMAP{IDLE: &no}).UseIDLE() {
		t.Errorf("UseIDLE wrong")
	}
}

// TestNormalisation checks that addresses and enumerations are stored in
// their canonical forms.
func TestNormalisation(t *testing.T) {
	c := mustParse(t, render(map[string]string{
		"claims_address": "Reklamacje@Example.COM",
		"own_addresses":  "\n  - BOK@example.com\n  - <Noreply@Example.com>",
		"log.level":      "DEBUG",
		"log.format":     "JSON",
		"timezone":       "UTC",
		"staff":          "\n  - name: ' Anna Nowak '\n    email: Anna.Nowak@Example.com\n    role: Supervisor",
	}))
	if c.ClaimsAddress != "reklamacje@example.com" {
		t.Errorf("ClaimsAddress = %q", c.ClaimsAddress)
	}
	if !reflect.DeepEqual(c.OwnAddresses, []string{"bok@example.com", "noreply@example.com"}) {
		t.Errorf("OwnAddresses = %q", c.OwnAddresses)
	}
	if c.Log.Level != "debug" || c.Log.Format != "json" {
		t.Errorf("Log = %+v", c.Log)
	}
	if c.Location != time.UTC {
		t.Errorf("Location = %v, want UTC", c.Location)
	}
	want := Staff{Name: "Anna Nowak", Email: "anna.nowak@example.com", Role: RoleSupervisor}
	if len(c.Staff) != 1 || c.Staff[0] != want {
		t.Errorf("Staff = %+v, want [%+v]", c.Staff, want)
	}
}

// TestSecretFromEnv checks that password_env is resolved through env.
func TestSecretFromEnv(t *testing.T) {
	c := mustParse(t, render(map[string]string{
		"smtp.host": "smtp.example.com", "smtp.username": "u", "smtp.password_env": "CLAIMSD_SMTP_PASSWORD", "smtp.from": "reklamacje@example.com",
	}))
	if c.IMAP.Password != "imap-Secret-123" || c.SMTP.Password != "smtp-Secret-456" {
		t.Errorf("passwords %q %q", c.IMAP.Password, c.SMTP.Password)
	}
	if c.IMAP.PasswordEnv != "CLAIMSD_IMAP_PASSWORD" {
		t.Errorf("PasswordEnv = %q", c.IMAP.PasswordEnv)
	}
}

// TestSecretFromFile checks that password_file is read and its trailing
// newline removed, while inner and leading spaces are kept.
func TestSecretFromFile(t *testing.T) {
	tests := map[string]string{
		"plain":       "plain",
		"nl\n":        "nl",
		"crlf\r\n":    "crlf",
		"many\n\n":    "many",
		" spaced  \n": " spaced  ",
	}
	for content, want := range tests {
		files := map[string]string{"/run/secrets/imap": content}
		c, err := Parse([]byte(render(map[string]string{"imap.password_env": del, "imap.password_file": "/run/secrets/imap"})),
			testEnv(nil), testFiles(files))
		if err != nil {
			t.Fatalf("content %q: %v", content, err)
		}
		if c.IMAP.Password != want {
			t.Errorf("content %q: password %q, want %q", content, c.IMAP.Password, want)
		}
		if c.IMAP.PasswordFile != "/run/secrets/imap" {
			t.Errorf("PasswordFile = %q", c.IMAP.PasswordFile)
		}
	}
}

// TestParseNilFuncs checks that nil env and readFile fall back to the
// process environment and file system.
func TestParseNilFuncs(t *testing.T) {
	t.Setenv("CLAIMSD_TEST_NIL_ENV", "from-process-env")
	dir := t.TempDir()
	pwFile := filepath.Join(dir, "smtp.pass")
	if err := os.WriteFile(pwFile, []byte("from-file\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	c, err := Parse([]byte(render(map[string]string{
		"imap.password_env":  "CLAIMSD_TEST_NIL_ENV",
		"smtp.host":          "smtp.example.com",
		"smtp.username":      "u",
		"smtp.password_file": pwFile,
		"smtp.from":          "reklamacje@example.com",
	})), nil, nil)
	if err != nil {
		t.Fatal(err)
	}
	if c.IMAP.Password != "from-process-env" || c.SMTP.Password != "from-file" {
		t.Errorf("passwords %q %q", c.IMAP.Password, c.SMTP.Password)
	}
}

// TestParseRelativeDataDir checks that Parse resolves a relative data_dir
// against the current directory.
func TestParseRelativeDataDir(t *testing.T) {
	wd, err := os.Getwd()
	if err != nil {
		t.Fatal(err)
	}
	c := mustParse(t, render(map[string]string{"data_dir": "state/../data"}))
	if want := filepath.Join(wd, "data"); c.DataDir != want {
		t.Errorf("DataDir = %q, want %q", c.DataDir, want)
	}
	if c.DBPath() != filepath.Join(wd, "data", "claimsd.db") || c.SocketPath() != filepath.Join(wd, "data", "claimsd.sock") {
		t.Errorf("DBPath %q SocketPath %q", c.DBPath(), c.SocketPath())
	}
}

// TestLoad checks Load with a real file: relative data_dir and
// password_file are resolved against the file's directory.
func TestLoad(t *testing.T) {
	dir := t.TempDir()
	if err := os.WriteFile(filepath.Join(dir, "imap.pass"), []byte("file-Secret-789\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	path := filepath.Join(dir, "claimsd.yaml")
	yaml := render(map[string]string{"data_dir": "data", "imap.password_env": del, "imap.password_file": "imap.pass"})
	if err := os.WriteFile(path, []byte(yaml), 0o600); err != nil {
		t.Fatal(err)
	}
	c, err := Load(path)
	if err != nil {
		t.Fatal(err)
	}
	if c.DataDir != filepath.Join(dir, "data") {
		t.Errorf("DataDir = %q, want %q", c.DataDir, filepath.Join(dir, "data"))
	}
	if c.IMAP.Password != "file-Secret-789" || c.IMAP.PasswordFile != filepath.Join(dir, "imap.pass") {
		t.Errorf("password %q from %q", c.IMAP.Password, c.IMAP.PasswordFile)
	}
	if c.DBPath() != filepath.Join(dir, "data", "claimsd.db") {
		t.Errorf("DBPath = %q", c.DBPath())
	}
	if c.SocketPath() != filepath.Join(dir, "data", "claimsd.sock") {
		t.Errorf("SocketPath = %q", c.SocketPath())
	}
}

// TestLoadErrors checks that Load names the file in its errors.
func TestLoadErrors(t *testing.T) {
	t.Setenv("CLAIMSD_IMAP_PASSWORD", "imap-Secret-123")
	dir := t.TempDir()
	missing := filepath.Join(dir, "missing.yaml")
	if _, err := Load(missing); err == nil || !errors.Is(err, os.ErrNotExist) || !strings.Contains(err.Error(), missing) {
		t.Errorf("Load(missing) = %v", err)
	}
	path := filepath.Join(dir, "bad.yaml")
	if err := os.WriteFile(path, []byte(render(map[string]string{"log.level": "loud"})), 0o600); err != nil {
		t.Fatal(err)
	}
	_, err := Load(path)
	var ve *ValidationError
	if !errors.As(err, &ve) || ve.File != path {
		t.Fatalf("Load error %v, want *ValidationError for %s", err, path)
	}
	want := "config " + path + `: log.level: "loud" is not a log level; fix: use debug, info, warn or error`
	if err.Error() != want {
		t.Errorf("error\n got %q\nwant %q", err.Error(), want)
	}
}

// TestLoadExampleFromDisk checks Load on example.yaml with the passwords in
// the process environment.
func TestLoadExampleFromDisk(t *testing.T) {
	t.Setenv("CLAIMSD_IMAP_PASSWORD", "imap-Secret-123")
	t.Setenv("CLAIMSD_SMTP_PASSWORD", "smtp-Secret-456")
	c, err := Load("example.yaml")
	if err != nil {
		t.Fatal(err)
	}
	if c.DataDir != "/var/lib/claimsd" {
		t.Errorf("DataDir = %q", c.DataDir)
	}
}

// TestIsStaffAndOwnAddress checks address lookups with display names and
// any case.
func TestIsStaffAndOwnAddress(t *testing.T) {
	c := mustParse(t, render(map[string]string{
		"own_addresses":     "\n  - bok@example.com",
		"smtp.host":         "smtp.example.com",
		"smtp.username":     "u",
		"smtp.password_env": "CLAIMSD_SMTP_PASSWORD",
		"smtp.from":         `"Dział Reklamacji <NoReply@Example.com>"`,
		"staff":             "\n  - name: Anna Nowak\n    email: anna.nowak@example.com\n    role: specialist\n  - name: Piotr Wiśniewski\n    email: piotr@example.com\n    role: supervisor",
	}))
	s, ok := c.IsStaff(`"Nowak, Anna" <Anna.Nowak@EXAMPLE.com>`)
	if !ok || s.Name != "Anna Nowak" || s.Role != RoleSpecialist {
		t.Errorf("IsStaff(Anna) = %+v, %v", s, ok)
	}
	if s, ok := c.IsStaff(" PIOTR@example.com "); !ok || s.Role != RoleSupervisor {
		t.Errorf("IsStaff(Piotr) = %+v, %v", s, ok)
	}
	for _, a := range []string{"klient@example.net", "", "reklamacje@example.com", "not an address"} {
		if _, ok := c.IsStaff(a); ok {
			t.Errorf("IsStaff(%q) = true", a)
		}
	}
	for _, a := range []string{"reklamacje@example.com", "REKLAMACJE@example.com", "Reklamacje <reklamacje@example.com>", "bok@example.com", "noreply@example.com", "Dział <noreply@example.com>"} {
		if !c.IsOwnAddress(a) {
			t.Errorf("IsOwnAddress(%q) = false", a)
		}
	}
	for _, a := range []string{"", "anna.nowak@example.com", "klient@example.net", "reklamacje@example.net"} {
		if c.IsOwnAddress(a) {
			t.Errorf("IsOwnAddress(%q) = true", a)
		}
	}
}

// TestStringNeverShowsPasswords checks String, and fmt's verbs on the
// config and its sections, for the resolved passwords.
func TestStringNeverShowsPasswords(t *testing.T) {
	const imapPW, smtpPW = "Imap-Very-Secret-Value", "Smtp-Very-Secret-Value"
	env := func(name string) (string, bool) {
		switch name {
		case "CLAIMSD_IMAP_PASSWORD":
			return imapPW, true
		case "CLAIMSD_SMTP_PASSWORD":
			return smtpPW, true
		}
		return "", false
	}
	c, err := Parse(Example(), env, nil)
	if err != nil {
		t.Fatal(err)
	}
	if c.IMAP.Password != imapPW || c.SMTP.Password != smtpPW {
		t.Fatalf("passwords not resolved")
	}
	outputs := map[string]string{
		"String":       c.String(),
		"%v *Config":   fmt.Sprintf("%v", c),
		"%+v Config":   fmt.Sprintf("%+v", *c),
		"%#v Config":   fmt.Sprintf("%#v", *c),
		"%v IMAP":      fmt.Sprintf("%v", c.IMAP),
		"%+v SMTP":     fmt.Sprintf("%+v", c.SMTP),
		"%#v IMAP":     fmt.Sprintf("%#v", c.IMAP),
		"%s &SMTP":     fmt.Sprintf("%s", &c.SMTP),
		"%v []section": fmt.Sprint([]any{c.IMAP, c.SMTP}),
	}
	for name, out := range outputs {
		if strings.Contains(out, imapPW) || strings.Contains(out, smtpPW) {
			t.Errorf("%s shows a password:\n%s", name, out)
		}
	}
	s := c.String()
	for _, want := range []string{"data_dir: /var/lib/claimsd", "password_env: CLAIMSD_IMAP_PASSWORD", "subject_window: 720h", "poll_interval: 1m", "idle: true"} {
		if !strings.Contains(s, want) {
			t.Errorf("String() lacks %q:\n%s", want, s)
		}
	}
	if strings.Contains(s, "password:") || strings.Contains(s, "location") {
		t.Errorf("String() has a password or location key:\n%s", s)
	}
	if !strings.Contains(outputs["%v IMAP"], "Password:REDACTED") || !strings.Contains(outputs["%v IMAP"], "IDLE:true") {
		t.Errorf("IMAP.String() = %s", outputs["%v IMAP"])
	}
}

// TestStringRoundTrip checks that String's YAML parses back to the same
// configuration.
func TestStringRoundTrip(t *testing.T) {
	c, err := Parse(Example(), testEnv(nil), nil)
	if err != nil {
		t.Fatal(err)
	}
	again, err := Parse([]byte(c.String()), testEnv(nil), nil)
	if err != nil {
		t.Fatalf("String() does not parse back: %v\n%s", err, c)
	}
	if !reflect.DeepEqual(c, again) {
		t.Errorf("round trip differs:\n%s\n%s", c, again)
	}
}

// TestSectionStringsListEveryField checks that the redacting String methods
// of IMAP and SMTP print every field, so new fields are not forgotten.
func TestSectionStringsListEveryField(t *testing.T) {
	for _, v := range []any{IMAP{}, SMTP{}} {
		s := fmt.Sprint(v)
		rt := reflect.TypeOf(v)
		for i := 0; i < rt.NumField(); i++ {
			if !strings.Contains(s, rt.Field(i).Name+":") {
				t.Errorf("%s.String() lacks %s: %s", rt.Name(), rt.Field(i).Name, s)
			}
		}
	}
}

// TestValidationErrorFormat checks the Error forms of Problem and
// ValidationError.
func TestValidationErrorFormat(t *testing.T) {
	p := Problem{Key: "imap.port", Line: 4, Message: "bad", Fix: "do this"}
	if got := p.Error(); got != "imap.port: bad (line 4); fix: do this" {
		t.Errorf("Problem.Error() = %q", got)
	}
	h := Problem{Key: "imap.hots", Line: 3, Message: "unknown key", Hint: "did you mean host?"}
	if got := h.Error(); got != "imap.hots: unknown key (line 3); did you mean host?" {
		t.Errorf("Problem.Error() = %q", got)
	}
	ve := &ValidationError{File: "/etc/claimsd.yaml", Problems: []Problem{p, h}}
	want := "config /etc/claimsd.yaml: 2 problems:\n\timap.port: bad (line 4); fix: do this\n\timap.hots: unknown key (line 3); did you mean host?"
	if ve.Error() != want {
		t.Errorf("ValidationError.Error() =\n%s\nwant\n%s", ve.Error(), want)
	}
	if (&ValidationError{}).Error() != "config: invalid configuration" {
		t.Errorf("empty ValidationError = %q", (&ValidationError{}).Error())
	}
}
