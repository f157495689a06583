package main

import (
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// TestCLI checks exit codes and messages of the command line that need no
// mail server.
func TestCLI(t *testing.T) {
	dir := t.TempDir()
	good := writeConfig(t, dir, "127.0.0.1", 1143, "claims@example.test", "pw")
	bad := filepath.Join(dir, "bad.yaml")
	os.WriteFile(bad, []byte("data_dir: "+dir+"\nclaims_address: reklamacje@example.com\nimap:\n  host: imap.example.com\n  security: none\n  username: u\n  pasword_env: X\n"), 0o600)
	remote := filepath.Join(dir, "remote.yaml")
	os.WriteFile(remote, []byte("data_dir: "+dir+"\nclaims_address: reklamacje@example.com\nimap:\n  host: imap.example.com\n  security: none\n  username: u\n  password_env: CLAIMSD_TEST_UNSET_VARIABLE\n"), 0o600)
	tests := []struct {
		name     string
		args     []string
		code     int
		contains string // in stdout or stderr
	}{
		{"version", []string{"version"}, 0, "claimsd "},
		{"no command", nil, 2, "Usage"},
		{"unknown command", []string{"frobnicate"}, 2, `unknown command "frobnicate"`},
		{"no config", []string{"cases", "list"}, 2, "pass --config FILE or set CLAIMSD_CONFIG"},
		{"config check ok", []string{"--config", good, "config", "check"}, 0, "ok"},
		{"config check after the command", []string{"config", "check", "--config", good}, 0, "ok"},
		{"config check names key and fix", []string{"--config", bad, "config", "check"}, 1, "imap.pasword_env: unknown key (line 7); did you mean password_env?"},
		{"security none refused for a remote host", []string{"--config", remote, "config", "check"}, 1, "imap.security: none means no encryption"},
		{"all problems at once", []string{"--config", remote, "config", "check"}, 1, "imap.password_env: environment variable CLAIMSD_TEST_UNSET_VARIABLE is not set; fix: export it or use imap.password_file"},
		{"config example parses", []string{"config", "example"}, 0, "claims_address:"},
		{"--now needs --once", []string{"--config", good, "run", "--now", "2026-11-30T08:00:00+01:00"}, 2, "--now needs --once"},
		{"bad --now", []string{"--config", good, "run", "--once", "--now", "tomorrow"}, 2, "want RFC 3339"},
		{"cases before any run", []string{"cases", "list", "--config", good}, 1, "no store"},
		{"cases show without id", []string{"--config", good, "cases", "show"}, 2, "want a case id"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Setenv("CLAIMSD_CONFIG", "")
			out, errOut, code := runCLI(t, context.Background(), tt.args...)
			if code != tt.code || !strings.Contains(out+errOut, tt.contains) {
				t.Errorf("exit %d, want %d; want %q in\nstdout: %s\nstderr: %s", code, tt.code, tt.contains, out, errOut)
			}
		})
	}
}
