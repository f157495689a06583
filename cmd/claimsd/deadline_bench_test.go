package main

import (
	"bytes"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/claimsd/claimsd/config"
	"github.com/claimsd/claimsd/internal/benchdata"
	"github.com/claimsd/claimsd/internal/devmail"
	"github.com/claimsd/claimsd/store"
)

// BenchmarkDaemonRSS1M runs the real binary's `run --once --now T` over a
// store of 1,000,000 cases (CLAIMSD_BENCH_CASES changes it) of which
// 1,000 are due, and reports the process's peak RSS and the run's time.
// Run: TMPDIR=/var/tmp go test -run '^$' -bench DaemonRSS1M -benchtime 2x -timeout 60m ./cmd/claimsd
func BenchmarkDaemonRSS1M(b *testing.B) {
	n := 1_000_000
	if v, err := strconv.Atoi(os.Getenv("CLAIMSD_BENCH_CASES")); err == nil && v > 0 {
		n = v
	}
	const user, pass = "claims@example.test", "pw"
	imapSrv, err := devmail.StartIMAP(nil, user, pass)
	if err != nil {
		b.Fatal(err)
	}
	defer imapSrv.Close()
	host, port := splitHostPort(b, imapSrv.Addr)
	dir := b.TempDir()
	cfgPath := writeConfig(b, dir, host, port, user, pass)
	cfg, err := config.Load(cfgPath)
	if err != nil {
		b.Fatal(err)
	}
	cal, err := newCalendar(cfg)
	if err != nil {
		b.Fatal(err)
	}
	policy, err := newPolicy(cfg, cal)
	if err != nil {
		b.Fatal(err)
	}
	now := time.Date(2026, 12, 3, 10, 0, 0, 0, cfg.Location)
	db, err := store.Open(cfg.DataDir, store.Options{})
	if err != nil {
		b.Fatal(err)
	}
	if err := benchdata.FillCases(db, policy, n, 1000, now); err != nil {
		b.Fatal(err)
	}
	db.Close()
	copyData(b, cfg.DBPath(), filepath.Join(dir, "pristine.db"))
	bin := buildBinary(b)
	var peak, peakAnon int64
	var runDur time.Duration
	round := 0
	for b.Loop() {
		// Every round starts from the same store, with the same 1,000
		// cases due.
		b.StopTimer()
		copyData(b, filepath.Join(dir, "pristine.db"), cfg.DBPath())
		b.StartTimer()
		at := now
		round++
		cmd := exec.Command(bin, "--config", cfgPath, "run", "--once", "--now", at.Format(time.RFC3339))
		var out bytes.Buffer
		cmd.Stdout, cmd.Stderr = &out, &out
		start := time.Now()
		if err := cmd.Start(); err != nil {
			b.Fatal(err)
		}
		// VmHWM counts the database's pages mapped by bbolt, which the
		// kernel can drop at any time; RssAnon is the process's own
		// memory (Go heap, stacks). Both are sampled.
		hwm := make(chan [2]int64, 1)
		go func() {
			var last, anon int64
			for {
				kb, ok := procHWM(cmd.Process.Pid)
				if !ok {
					hwm <- [2]int64{last << 10, anon << 10}
					return
				}
				last = kb
				anon = max(anon, procField(cmd.Process.Pid, "RssAnon:"))
				time.Sleep(5 * time.Millisecond)
			}
		}()
		err := cmd.Wait()
		runDur += time.Since(start)
		got := <-hwm
		rss := got[0]
		peakAnon = max(peakAnon, got[1])
		if err != nil || !strings.Contains(out.String(), "deadlines: ") {
			b.Fatalf("run --once: %v\n%s", err, out.String())
		}
		b.Logf("round %d: %s", round, strings.TrimSpace(out.String()))
		peak = max(peak, rss)
	}
	b.ReportMetric(float64(n), "cases")
	b.ReportMetric(float64(peak)/(1<<20), "peak-RSS-MB")
	b.ReportMetric(float64(peakAnon)/(1<<20), "peak-anon-RSS-MB")
	b.ReportMetric(runDur.Seconds()*1000/float64(b.N), "run-once-ms")
}

func splitHostPort(b *testing.B, addr string) (string, int) {
	b.Helper()
	host, p, _ := strings.Cut(addr, ":")
	port, err := strconv.Atoi(p)
	if err != nil {
		b.Fatal(err)
	}
	return host, port
}

// procField reads one kB field of /proc/PID/status (0 if absent).
func procField(pid int, field string) int64 {
	data, err := os.ReadFile("/proc/" + strconv.Itoa(pid) + "/status")
	if err != nil {
		return 0
	}
	for _, line := range strings.Split(string(data), "\n") {
		if v, ok := strings.CutPrefix(line, field); ok {
			kb, _ := strconv.ParseInt(strings.TrimSuffix(strings.TrimSpace(v), " kB"), 10, 64)
			return kb
		}
	}
	return 0
}

func copyData(b *testing.B, from, to string) {
	b.Helper()
	data, err := os.ReadFile(from)
	if err != nil {
		b.Fatal(err)
	}
	if err := os.WriteFile(to, data, 0o600); err != nil {
		b.Fatal(err)
	}
}
