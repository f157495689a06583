package main

import (
	"bytes"
	"context"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/claimsd/claimsd/store"
)

// TestBackupTakenWhileIntakeRuns: backups taken through the control
// socket while complaints keep arriving restore to stores that verify and
// hold every case committed before the backup started, each message with
// its raw bytes exactly as the mailbox had them (small ones inside the
// database, large ones as files, attachments included).
func TestBackupTakenWhileIntakeRuns(t *testing.T) {
	srv := startOpsServers(t)
	dir := t.TempDir()
	cfg := opsConfig(t, dir, srv, "")
	startDaemon(t, cfg)

	// Intake runs all along: every fourth complaint is over the inline
	// limit (a raw file and an attachment file).
	var mu sync.Mutex
	sent := map[string][]byte{} // Message-ID -> raw
	ctx, stopMail := context.WithCancel(context.Background())
	mailDone := make(chan struct{})
	go func() {
		defer close(mailDone)
		for i := 1; i <= 160 && ctx.Err() == nil; i++ {
			size := 0
			if i%4 == 0 {
				size = 200 << 10
			}
			raw := opsComplaint(i, size, "")
			mu.Lock()
			sent[fmt.Sprintf("ops-%d@example.net", i)] = raw
			mu.Unlock()
			if err := srv.imap.Append("INBOX", raw, time.Time{}); err != nil {
				t.Error(err)
				return
			}
			time.Sleep(2 * time.Millisecond)
		}
	}()
	defer func() {
		stopMail()
		<-mailDone
	}()

	type taken struct {
		file  string
		cases []store.Case // committed before the backup started
	}
	var backups []taken
	for round, min := range []int{10, 40, 80} {
		waitFor(t, 60*time.Second, fmt.Sprintf("%d cases", min), func() bool {
			// Until the daemon has created its store the CLI finds none.
			out, _, code := runCLI(t, context.Background(), "--config", cfg, "cases", "list", "--json")
			return code == 0 && strings.Count(out, `"id":`) >= min
		})
		before := listCases(t, cfg)
		file := filepath.Join(dir, fmt.Sprintf("backup-%d.tar", round))
		if round == 2 {
			file += ".gz"
		}
		out := mustCLI(t, "--config", cfg, "backup", file)
		if !strings.Contains(out, "backup "+file+": schema") {
			t.Errorf("backup said: %s", out)
		}
		backups = append(backups, taken{file, before})
	}
	stopMail()
	<-mailDone

	// The live store verifies through the daemon, and a restore into it
	// is refused while the daemon holds it.
	if out := mustCLI(t, "--config", cfg, "verify"); !strings.HasSuffix(out, "ok\n") {
		t.Errorf("verify of the live store:\n%s", out)
	}
	if _, errOut, code := runCLI(t, context.Background(), "--config", cfg, "restore", "--force", backups[0].file); code != 1 || !strings.Contains(errOut, "in use") {
		t.Errorf("restore over the running daemon's store: exit %d: %s", code, errOut)
	}

	for i, b := range backups {
		if out := mustCLI(t, "--config", cfg, "verify", "--backup", b.file); !strings.HasSuffix(out, "ok\n") {
			t.Errorf("verify --backup %s:\n%s", b.file, out)
		}
		rdir := filepath.Join(t.TempDir(), fmt.Sprintf("restore-%d", i))
		if err := os.MkdirAll(rdir, 0o700); err != nil {
			t.Fatal(err)
		}
		rcfg := opsConfig(t, rdir, srv, "")
		if out := mustCLI(t, "--config", rcfg, "restore", b.file); !strings.Contains(out, "restored "+b.file) {
			t.Errorf("restore said: %s", out)
		}
		if out := mustCLI(t, "--config", rcfg, "verify"); !strings.HasSuffix(out, "ok\n") {
			t.Errorf("verify of restore %d:\n%s", i, out)
		}
		checkRestored(t, filepath.Join(rdir, "data"), b.cases, func(id string) []byte {
			mu.Lock()
			defer mu.Unlock()
			return sent[id]
		})
	}
	// A restore over a store that is there needs --force.
	rcfg := opsConfig(t, filepath.Join(t.TempDir()), srv, "")
	mustCLI(t, "--config", rcfg, "restore", backups[0].file)
	if _, errOut, code := runCLI(t, context.Background(), "--config", rcfg, "restore", backups[1].file); code != 1 || !strings.Contains(errOut, "--force") {
		t.Errorf("restore over a store: exit %d: %s", code, errOut)
	}
	if out := mustCLI(t, "--config", rcfg, "restore", "--force", backups[1].file); !strings.Contains(out, "previous data_dir is in") {
		t.Errorf("restore --force said: %s", out)
	}
}

// checkRestored opens a restored store and checks that every case of
// want is there with its messages, each raw message byte for byte the
// mail sent (sentRaw by Message-ID), large ones with their attachment.
func checkRestored(t *testing.T, dataDir string, want []store.Case, sentRaw func(messageID string) []byte) {
	t.Helper()
	db, err := store.Open(dataDir, store.Options{ReadOnly: true})
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	files, attachments := 0, 0
	for _, c := range want {
		var msgs []store.Message
		var raws [][]byte
		err := db.View(func(tx *store.Tx) error {
			got, ok, err := tx.Case(c.ID)
			if err != nil || !ok {
				return fmt.Errorf("case %s committed before the backup is not restored (%v)", c.ID, err)
			}
			if got.Messages < c.Messages {
				return fmt.Errorf("case %s: %d messages restored, %d before the backup", c.ID, got.Messages, c.Messages)
			}
			if msgs, err = tx.CaseMessages(c.ID); err != nil {
				return err
			}
			for _, m := range msgs {
				raws = append(raws, tx.Raw(m.Seq))
			}
			return nil
		})
		if err != nil {
			t.Error(err)
			continue
		}
		for i, m := range msgs {
			raw := raws[i]
			if m.RawInFile {
				files++
				if raw, err = os.ReadFile(db.RawFiles().Path(m.RawSHA256)); err != nil {
					t.Errorf("case %s message %s: %v", c.ID, m.MessageID, err)
					continue
				}
			}
			if !bytes.Equal(raw, sentRaw(m.MessageID)) {
				t.Errorf("case %s message %s: %d raw bytes restored differ from the %d sent", c.ID, m.MessageID, len(raw), len(sentRaw(m.MessageID)))
			}
			for _, a := range m.Attachments {
				attachments++
				if st, err := os.Stat(db.Attachments().Path(a.SHA256)); err != nil || st.Size() != a.Size {
					t.Errorf("case %s attachment %s: %v", c.ID, a.Name, err)
				}
			}
		}
	}
	if files == 0 || attachments == 0 {
		t.Errorf("%d raw files and %d attachments checked: the backup was meant to carry both", files, attachments)
	}
}

// TestOpsCommandLine: usage errors and refusals of backup, restore and
// verify that need no daemon.
func TestOpsCommandLine(t *testing.T) {
	dir := t.TempDir()
	cfg := writeConfig(t, dir, "127.0.0.1", 1143, "claims@example.test", "pw")
	notBackup := filepath.Join(dir, "not-a-backup.tar")
	os.WriteFile(notBackup, []byte("hello"), 0o600)
	tests := []struct {
		name     string
		args     []string
		code     int
		contains string
	}{
		{"backup without a file", []string{"--config", cfg, "backup"}, 2, "backup: want the file to write"},
		{"backup of two files", []string{"--config", cfg, "backup", "a.tar", "b.tar"}, 2, `one file, not "b.tar" too`},
		{"backup before any run", []string{"--config", cfg, "backup", filepath.Join(dir, "b.tar")}, 1, "no such file"},
		{"restore without a file", []string{"--config", cfg, "restore", "--force"}, 2, "restore: want the backup file"},
		{"restore of something else", []string{"--config", cfg, "restore", notBackup}, 1, "restore " + notBackup},
		{"verify with a stray argument", []string{"--config", cfg, "verify", "x.tar"}, 2, "a backup file goes after --backup"},
		{"verify before any run", []string{"--config", cfg, "verify"}, 1, "no such file"},
		{"verify of something else", []string{"--config", cfg, "verify", "--backup", notBackup}, 1, "verify " + notBackup},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			out, errOut, code := runCLI(t, context.Background(), tt.args...)
			if code != tt.code || !strings.Contains(out+errOut, tt.contains) {
				t.Errorf("exit %d, want %d; want %q in\nstdout: %s\nstderr: %s", code, tt.code, tt.contains, out, errOut)
			}
		})
	}
	// Nothing refused left a file behind: no backup, no temporary file,
	// no half-restored data_dir.
	var names []string
	entries, _ := os.ReadDir(dir)
	for _, e := range entries {
		names = append(names, e.Name())
	}
	if got := strings.Join(names, " "); got != "claimsd.yaml imap-password not-a-backup.tar" {
		t.Errorf("after the refusals the directory holds %s", got)
	}
}
