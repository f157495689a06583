package main

import (
	"bytes"
	"context"
	"encoding/base64"
	"fmt"
	"io"
	"log/slog"
	"math/rand/v2"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/claimsd/claimsd/config"
	"github.com/claimsd/claimsd/internal/mailtest"
	"github.com/claimsd/claimsd/mailbox"
	"github.com/emersion/go-imap/v2/imapclient"
)

func benchConfig(b *testing.B, d *mailtest.Dovecot, user, pass string) *config.Config {
	b.Helper()
	dir := b.TempDir()
	p := writeConfig(b, dir, "127.0.0.1", d.IMAPPort, user, pass)
	cfg, err := config.Load(p)
	if err != nil {
		b.Fatal(err)
	}
	return cfg
}

// BenchmarkIntakeVsRawFetch measures `run --once` over 10,000 waiting
// messages against a bare `UID FETCH 1:* BODY.PEEK[]` of the same mailbox
// by the same client in the same run; the ratio is the figure that counts.
// Run: go test -run '^$' -bench IntakeVsRawFetch -benchtime 3x ./cmd/claimsd
func BenchmarkIntakeVsRawFetch(b *testing.B) {
	const user, pass, n = "claims@example.test", "pw", 10000
	d := mailtest.StartDovecot(b, mailtest.User{Name: user, Password: pass})
	r := rand.New(rand.NewPCG(1, 2))
	raws := make([][]byte, n)
	var total int
	for i := range raws {
		raws[i] = mailtest.Complaint(i, r)
		total += len(raws[i])
	}
	// Received now, so that intake also writes their acknowledgements
	// (complaints older than auto_mail.max_age get none).
	d.DeliverMaildir(b, user, "INBOX", raws, time.Now())
	log := slog.New(slog.NewTextHandler(io.Discard, nil))
	ctx := context.Background()
	// Warm Dovecot's index and the page cache once, so neither side pays for it.
	if _, _, err := mailbox.FetchAllRaw(ctx, mailboxOptions(benchConfig(b, d, user, pass).IMAP, nil)); err != nil {
		b.Fatal(err)
	}
	var rawDur, intakeDur time.Duration
	b.ResetTimer()
	for b.Loop() {
		cfg := benchConfig(b, d, user, pass)
		start := time.Now()
		got, _, err := mailbox.FetchAllRaw(ctx, mailboxOptions(cfg.IMAP, nil))
		rawDur += time.Since(start)
		if err != nil || got != n {
			b.Fatalf("raw fetch: %d messages, %v", got, err)
		}
		dm, err := openDaemon(cfg, log, time.Now)
		if err != nil {
			b.Fatal(err)
		}
		start = time.Now()
		st, err := dm.watcher.RunOnce(ctx)
		intakeDur += time.Since(start)
		dm.Close()
		if err != nil || st.Committed != n {
			b.Fatalf("intake: %+v, %v", st, err)
		}
	}
	rounds := float64(b.N)
	rawRate := n * rounds / rawDur.Seconds()
	intakeRate := n * rounds / intakeDur.Seconds()
	b.ReportMetric(rawRate, "raw-msg/s")
	b.ReportMetric(intakeRate, "intake-msg/s")
	b.ReportMetric(intakeRate/rawRate, "intake/raw")
	b.ReportMetric(float64(total)/n, "bytes/msg")
}

// BenchmarkPeakRSS50MB runs the real binary's `run --once` on a mailbox
// holding one message with a 50 MB attachment and reports the process's
// peak resident set size.
// Run: go test -run '^$' -bench PeakRSS50MB -benchtime 1x ./cmd/claimsd
func BenchmarkPeakRSS50MB(b *testing.B) {
	const user, pass = "claims@example.test", "pw"
	d := mailtest.StartDovecot(b, mailtest.User{Name: user, Password: pass})
	att := make([]byte, 50<<20)
	rand.NewChaCha8([32]byte{3, 4}).Read(att)
	var msg bytes.Buffer
	msg.WriteString("From: Jan Kowalski <jan@example.net>\r\nTo: reklamacje@sklep.example\r\nSubject: Film z usterki\r\nMessage-ID: <big@example.net>\r\nDate: Mon, 23 Nov 2026 09:14:02 +0100\r\nMIME-Version: 1.0\r\nContent-Type: multipart/mixed; boundary=b\r\n\r\n--b\r\nContent-Type: text/plain; charset=utf-8\r\n\r\nW załączniku film pokazujący usterkę.\r\n--b\r\nContent-Type: video/mp4\r\nContent-Disposition: attachment; filename=usterka.mp4\r\nContent-Transfer-Encoding: base64\r\n\r\n")
	enc := base64.StdEncoding.EncodeToString(att)
	for len(enc) > 76 {
		msg.WriteString(enc[:76] + "\r\n")
		enc = enc[76:]
	}
	msg.WriteString(enc + "\r\n--b--\r\n")
	d.DeliverMaildir(b, user, "INBOX", [][]byte{msg.Bytes()}, time.Now())
	bin := filepath.Join(b.TempDir(), "claimsd")
	if out, err := exec.Command("go", "build", "-o", bin, ".").CombinedOutput(); err != nil {
		b.Fatalf("build: %v\n%s", err, out)
	}
	var peak int64
	for b.Loop() {
		dir := b.TempDir()
		cfgPath := writeConfig(b, dir, "127.0.0.1", d.IMAPPort, user, pass)
		cmd := exec.Command(bin, "--config", cfgPath, "run", "--once")
		var out bytes.Buffer
		cmd.Stdout, cmd.Stderr = &out, &out
		if err := cmd.Start(); err != nil {
			b.Fatal(err)
		}
		// rusage's ru_maxrss would also count this test process, whose
		// memory the child shares between fork and exec; VmHWM in /proc
		// is the peak of the claimsd image alone. It only grows, so the
		// last reading is the peak up to the final 5 ms.
		hwm := make(chan int64, 1)
		go func() {
			var last int64
			for {
				if kb, ok := procHWM(cmd.Process.Pid); ok {
					last = kb
				} else {
					hwm <- last << 10
					return
				}
				time.Sleep(5 * time.Millisecond)
			}
		}()
		err := cmd.Wait()
		rss := <-hwm
		if err != nil || !strings.Contains(out.String(), "committed 1") {
			b.Fatalf("run --once: %v\n%s", err, out.String())
		}
		peak = max(peak, rss)
	}
	b.ReportMetric(float64(peak)/(1<<20), "peak-RSS-MB")
	b.ReportMetric(float64(msg.Len())/(1<<20), "message-MB")
}

// procHWM reads the peak resident set size (VmHWM, in kB) of a running
// process; ok is false once it has exited.
func procHWM(pid int) (kb int64, ok bool) {
	data, err := os.ReadFile(fmt.Sprintf("/proc/%d/status", pid))
	if err != nil {
		return 0, false
	}
	for _, line := range strings.Split(string(data), "\n") {
		if v, found := strings.CutPrefix(line, "VmHWM:"); found {
			fmt.Sscan(strings.TrimSuffix(strings.TrimSpace(v), " kB"), &kb)
			return kb, !strings.Contains(string(data), "State:\tZ")
		}
	}
	return 0, false
}

// BenchmarkIdleLatency appends messages over IMAP to Dovecot while the
// daemon IDLEs and measures from the APPEND's completion to the case's
// commit.
// Run: go test -run '^$' -bench IdleLatency -benchtime 200x ./cmd/claimsd
func BenchmarkIdleLatency(b *testing.B) {
	const user, pass = "claims@example.test", "pw"
	d := mailtest.StartDovecot(b, mailtest.User{Name: user, Password: pass})
	cfg := benchConfig(b, d, user, pass)
	log := slog.New(slog.NewTextHandler(io.Discard, nil))
	dm, err := openDaemon(cfg, log, time.Now)
	if err != nil {
		b.Fatal(err)
	}
	defer dm.Close()
	ctx, cancel := context.WithCancel(context.Background())
	served := make(chan error, 1)
	go func() { served <- dm.watcher.Run(ctx) }()
	defer func() { cancel(); <-served }()

	c, err := imapclient.DialInsecure(d.Addr, nil)
	if err != nil {
		b.Fatal(err)
	}
	defer c.Close()
	if err := c.Login(user, pass).Wait(); err != nil {
		b.Fatal(err)
	}
	// Let the watcher reach IDLE before the first measurement.
	for !dm.watcher.State().Connected {
		time.Sleep(10 * time.Millisecond)
	}
	time.Sleep(200 * time.Millisecond)
	r := rand.New(rand.NewPCG(5, 6))
	var lat []time.Duration
	i := 0
	for b.Loop() {
		raw := mailtest.Complaint(i, r)
		i++
		before := dm.intake.Stats().Seen()
		cmd := c.Append("INBOX", int64(len(raw)), nil)
		cmd.Write(raw)
		cmd.Close()
		if _, err := cmd.Wait(); err != nil {
			b.Fatal(err)
		}
		start := time.Now()
		for dm.intake.Stats().Seen() == before {
			if time.Since(start) > 30*time.Second {
				b.Fatal("message not committed within 30s")
			}
			time.Sleep(200 * time.Microsecond)
		}
		lat = append(lat, time.Since(start))
	}
	slices.Sort(lat)
	q := func(p float64) float64 { return float64(lat[int(p*float64(len(lat)-1))].Microseconds()) / 1000 }
	b.ReportMetric(q(0.5), "p50-ms")
	b.ReportMetric(q(0.99), "p99-ms")
	b.ReportMetric(float64(lat[len(lat)-1].Microseconds())/1000, "max-ms")
}
