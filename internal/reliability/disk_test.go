package reliability_test

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/claimsd/claimsd/internal/mailtest"
	"github.com/claimsd/claimsd/internal/reliability"
	"github.com/claimsd/claimsd/store"
)

// mountTmpfs mounts a tmpfs of size at dir and unmounts it when the test
// ends. It needs root (CI runs as root: chmod cannot make anything
// read-only for root, a file system of our own can); without root it
// skips, or fails when $CI is set.
func mountTmpfs(t *testing.T, dir, size string) {
	t.Helper()
	if os.Geteuid() != 0 {
		if os.Getenv("CI") != "" {
			t.Fatal("the disk scenarios mount a tmpfs and need root; CI runs as root, so this fails")
		}
		t.Skip("the disk scenarios mount a tmpfs: run as root")
	}
	if err := os.MkdirAll(dir, 0o755); err != nil {
		t.Fatal(err)
	}
	if out, err := exec.Command("mount", "-t", "tmpfs", "-o", "size="+size+",mode=0750", "tmpfs", dir).CombinedOutput(); err != nil {
		t.Fatalf("mount -t tmpfs at %s: %v: %s (the disk scenarios need it; fix: run as root where mount works)", dir, err, out)
	}
	t.Cleanup(func() {
		if out, err := exec.Command("umount", dir).CombinedOutput(); err != nil {
			// Busy: a process of the test still holds a file. Detach it
			// so the temp dir can go; the kernel frees it at last close.
			t.Logf("umount %s: %v: %s; detaching", dir, err, out)
			_ = exec.Command("umount", "-l", dir).Run()
		}
	})
}

func remount(t *testing.T, dir, mode string) {
	t.Helper()
	if out, err := exec.Command("mount", "-o", "remount,"+mode, dir).CombinedOutput(); err != nil {
		t.Fatalf("mount -o remount,%s %s: %v: %s", mode, dir, err, out)
	}
}

// fill writes a file into dir until the file system is full and returns
// its path.
func fill(t *testing.T, dir string) string {
	t.Helper()
	p := filepath.Join(dir, "filler")
	f, err := os.Create(p)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	chunk := make([]byte, 64<<10)
	for {
		if _, err := f.Write(chunk); err != nil {
			if errors.Is(err, syscall.ENOSPC) {
				break
			}
			t.Fatal(err)
		}
	}
	// Whatever partial page is left.
	small := make([]byte, 512)
	for {
		if _, err := f.Write(small); err != nil {
			break
		}
	}
	return p
}

// disk: the data directory full, then read-only. Intake must stop
// cleanly (no loss, nothing marked that is not committed, no message
// stored as unparsable because a file could not be written), say so, and
// resume when the disk is usable again.
func (s *suite) disk(t *testing.T) {
	d := mailtest.StartDovecot(t, reliability.StackUsers()...)
	dir := t.TempDir()
	data := filepath.Join(dir, "data")
	mountTmpfs(t, data, "16m")
	health := freeAddr(t)
	cfg := reliability.Config{DataDir: data, IMAPPort: d.IMAPPort,
		IMAPUser: reliability.ClaimsUser, IMAPPassword: reliability.ClaimsPass,
		Extra: "metrics:\n  listen: " + health + "\n"}.Write(t, dir)
	unmarked := func() int {
		return reliability.Unmarked(t, d.Addr, reliability.ClaimsUser, reliability.ClaimsPass, reliability.ProcessedKeyword)
	}
	var all []reliability.Complaint

	t.Run("Full", func(t *testing.T) {
		const sc = "disk: data directory full"
		dm := reliability.StartDaemon(t, s.bin, cfg)
		before := complaints(0, 50, "f")
		all = append(all, before...)
		d.DeliverMaildir(t, reliability.ClaimsUser, "INBOX", reliability.Raws(before), time.Now())
		if _, ok := casesCreated(t, s.bin, cfg, len(all), time.Minute); !ok {
			t.Fatal("complaints before the disk filled not taken within a minute")
		}
		filler := fill(t, data)
		during := complaints(50, 100, "f")
		all = append(all, during...)
		// One at a time: small commits may still fit in pages bbolt has
		// free while a new attachment file does not.
		for _, c := range during {
			d.DeliverMaildir(t, reliability.ClaimsUser, "INBOX", [][]byte{c.Raw}, time.Now())
			time.Sleep(20 * time.Millisecond)
		}
		time.Sleep(3 * time.Second) // several failed cycles
		st := reliability.ReadStats(t, s.bin, cfg)
		exited, exitErr := dm.Exited()
		s.report.Check(t, sc, "daemon still running", !exited, "true", !exited)
		if exited {
			t.Fatalf("the daemon exited on a full disk: %v\n%s", exitErr, dm.LogTail(20))
		}
		committed := int(st.Counters[store.CountCases]) - len(before)
		left := unmarked()
		s.report.Note(sc, "complaints committed while full (bbolt reuses free pages)", fmt.Sprintf("%d of %d", committed, len(during)), "", true)
		s.report.Check(t, sc, "complaints left unprocessed on the server", left, fmt.Sprint(len(during)-committed), left == len(during)-committed)
		lastErr := ""
		if st.Mailbox != nil {
			lastErr = st.Mailbox.LastError
		}
		said := strings.Contains(lastErr, "no space left on device")
		s.report.Check(t, sc, "`claimsd stats` imap_last_error says so", clip(lastErr, 60), "no space left on device", said)
		logged := strings.Contains(dm.Log(), "level=ERROR") && strings.Contains(dm.Log(), "no space left on device")
		s.report.Check(t, sc, "logged at ERROR", logged, "true", logged)
		s.healthz(t, sc, health, false, "no space left on device")

		if err := os.Remove(filler); err != nil {
			t.Fatal(err)
		}
		took, ok := casesCreated(t, s.bin, cfg, len(all), time.Minute)
		_, _ = reliability.Poll(context.Background(), 15*time.Second, func() bool { return unmarked() == 0 })
		left = unmarked()
		s.report.Note(sc, "space back → all committed", took.Round(100*time.Millisecond), "< 20s", ok && took < 20*time.Second)
		s.healthz(t, sc+", space back", health, true, "")
		s.report.Check(t, sc, "mails left unmarked after recovery", left, "0", left == 0)
		dm.Stop()
		a := reliability.AuditStore(t, data, all)
		s.checkAudit(t, sc, a)
		s.report.Check(t, sc, "stored as unparsable (a disk error is not the message's fault)", a.ParseFailed, "0", a.ParseFailed == 0)
		s.report.Check(t, sc, "attachment or raw files missing", a.MissingFiles, "0", a.MissingFiles == 0)
	})

	t.Run("ReadOnly", func(t *testing.T) {
		const sc = "disk: data directory read-only"
		// Linux refuses to remount a file system read-only while a
		// process holds a file on it open for writing (EBUSY), so the
		// daemon meets a read-only data directory when it starts, as
		// after a reboot that mounted the disk read-only.
		remount(t, data, "ro")
		more := complaints(150, 50, "f")
		all = append(all, more...)
		d.DeliverMaildir(t, reliability.ClaimsUser, "INBOX", reliability.Raws(more), time.Now())
		run := reliability.Exec(t, s.bin, cfg, "run")
		refused := run.Err != nil && strings.Contains(run.Stderr, "read-only file system")
		s.report.Check(t, sc, "`claimsd run` refuses to start, saying why", clip(firstLine(run.Stderr), 70), "exit 1: read-only file system", refused)
		left := unmarked()
		s.report.Check(t, sc, "complaints left unprocessed on the server", left, fmt.Sprint(len(more)), left == len(more))
		stats := reliability.Exec(t, s.bin, cfg, "stats")
		s.report.Check(t, sc, "`claimsd stats` still reads the store", stats.Err == nil, "true", stats.Err == nil)

		remount(t, data, "rw")
		dm := reliability.StartDaemon(t, s.bin, cfg)
		took, ok := casesCreated(t, s.bin, cfg, len(all), time.Minute)
		_, _ = reliability.Poll(context.Background(), 15*time.Second, func() bool { return unmarked() == 0 })
		left = unmarked()
		dm.Stop()
		s.report.Note(sc, "writable again → all committed (daemon started)", took.Round(100*time.Millisecond), "< 10s", ok && took < 10*time.Second)
		s.report.Check(t, sc, "mails left unmarked after recovery", left, "0", left == 0)
		a := reliability.AuditStore(t, data, all)
		s.checkAudit(t, sc, a)
	})
}

func clip(s string, n int) string {
	s = strings.Join(strings.Fields(s), " ")
	if r := []rune(s); len(r) > n {
		return string(r[:n-1]) + "…"
	}
	return s
}

func firstLine(s string) string {
	line, _, _ := strings.Cut(strings.TrimSpace(s), "\n")
	return line
}

// healthz polls the daemon's /healthz (metrics.listen at addr) for up to
// ten seconds until it answers as wanted: 200, or 503 naming want.
func (s *suite) healthz(t *testing.T, sc, addr string, healthy bool, want string) {
	t.Helper()
	var code int
	var body string
	_, _ = reliability.Poll(context.Background(), 10*time.Second, func() bool {
		code, body = 0, ""
		resp, err := http.Get("http://" + addr + "/healthz")
		if err != nil {
			body = err.Error()
			return false
		}
		defer resp.Body.Close()
		b, _ := io.ReadAll(resp.Body)
		code, body = resp.StatusCode, string(b)
		if healthy {
			return code == http.StatusOK
		}
		return code == http.StatusServiceUnavailable && strings.Contains(body, want)
	})
	goal, met := "200", code == http.StatusOK
	if !healthy {
		goal, met = "503 naming "+want, code == http.StatusServiceUnavailable && strings.Contains(body, want)
	}
	s.report.Check(t, sc, "/healthz", fmt.Sprintf("%d %s", code, clip(body, 60)), goal, met)
}

// freeAddr returns a loopback address with a port free a moment ago.
func freeAddr(t *testing.T) string {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	return ln.Addr().String()
}
