package main

import (
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/claimsd/claimsd/message"
	"github.com/claimsd/claimsd/store"
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
		{"cases show with two ids", []string{"--config", good, "cases", "show", "--json", "CLM-2026-000001", "CLM-2026-000002"}, 2, `one case id, not "CLM-2026-000002" too`},
		{"outbox without subcommand", []string{"--config", good, "outbox"}, 2, "want list, show or retry"},
		{"outbox retry without number", []string{"--config", good, "outbox", "retry", "abc"}, 2, "want an outbox item number"},
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

// TestOutboxRetryWithoutDaemon: with no daemon running, `outbox retry`
// changes the store itself and `outbox list` shows the item due again;
// a sent item is refused.
func TestOutboxRetryWithoutDaemon(t *testing.T) {
	dir := t.TempDir()
	cfg := writeConfig(t, dir, "127.0.0.1", 1143, "claims@example.test", "pw")
	db, err := store.Open(filepath.Join(dir, "data"), store.Options{})
	if err != nil {
		t.Fatal(err)
	}
	now := time.Now()
	err = db.Update(func(tx *store.Tx) error {
		for _, status := range []string{store.OutboxFailed, store.OutboxSent} {
			it := &store.OutboxItem{Purpose: "ack", Status: status, MessageID: status + "@x", To: message.Address{Addr: "jan@example.net"},
				From: message.Address{Addr: "claims@example.test"}, Subject: "Re: x", Text: "x", Date: now, QueuedAt: now, LastError: "550 no such user"}
			if err := tx.AddOutbox(it); err != nil {
				return err
			}
		}
		return nil
	})
	db.Close()
	if err != nil {
		t.Fatal(err)
	}
	if out := mustCLI(t, "--config", cfg, "outbox", "list"); !strings.Contains(out, "failed") || !strings.Contains(out, "550 no such user") {
		t.Errorf("outbox list:\n%s", out)
	}
	if out := mustCLI(t, "--config", cfg, "outbox", "retry", "1"); !strings.Contains(out, "outbox 1 to jan@example.net queued") {
		t.Errorf("retry: %s", out)
	}
	if out := mustCLI(t, "--config", cfg, "outbox", "list", "--status", "queued"); !strings.Contains(out, "jan@example.net") {
		t.Errorf("after retry:\n%s", out)
	}
	if _, errOut, code := runCLI(t, context.Background(), "--config", cfg, "outbox", "retry", "2"); code != 1 || !strings.Contains(errOut, "already sent") {
		t.Errorf("retry of a sent mail: exit %d, %s", code, errOut)
	}
	if out := mustCLI(t, "--config", cfg, "outbox", "show", "1"); !strings.Contains(out, "Message-ID: <failed@x>") {
		t.Errorf("show:\n%s", out)
	}
}
