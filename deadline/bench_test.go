package deadline_test

import (
	"io"
	"log/slog"
	"os"
	"strconv"
	"testing"
	"time"

	"github.com/claimsd/claimsd/deadline"
	"github.com/claimsd/claimsd/internal/benchdata"
	"github.com/claimsd/claimsd/store"
)

// countingNotifier counts events; the bench measures the scheduler and
// the store, not mail composition.
type countingNotifier struct{ events, digests int }

func (n *countingNotifier) Notify(*store.Tx, *store.Case, deadline.Event, time.Time) error {
	n.events++
	return nil
}
func (n *countingNotifier) Digest(*store.Tx, deadline.Digest, time.Time) error {
	n.digests++
	return nil
}

// benchPolicy reminds 72h and 24h before the legal deadline.
func benchPolicy() deadline.Policy {
	warsaw, _ := time.LoadLocation("Europe/Warsaw")
	p := deadline.DefaultPolicy(warsaw)
	p.LegalBefore = []time.Duration{72 * time.Hour, 24 * time.Hour}
	return p
}

// benchCases is how many cases BenchmarkTick puts in the store; set
// CLAIMSD_BENCH_CASES to change it (the figure is 1,000,000).
func benchCases() int {
	if n, err := strconv.Atoi(os.Getenv("CLAIMSD_BENCH_CASES")); err == nil && n > 0 {
		return n
	}
	return 1_000_000
}

// fillStore writes n open cases, due of them due at now, and returns the
// data dir.
func fillStore(b *testing.B, n, due int, now time.Time) string {
	b.Helper()
	dir := b.TempDir()
	db, err := store.Open(dir, store.Options{})
	if err != nil {
		b.Fatal(err)
	}
	defer db.Close()
	if err := benchdata.FillCases(db, benchPolicy(), n, due, now); err != nil {
		b.Fatal(err)
	}
	return dir
}

// BenchmarkTick: one scheduler tick over a store of 1,000,000 cases of
// which 1,000 are due, against a full scan of every case deciding the
// same, in the same run.
// Run: TMPDIR=/var/tmp go test -run '^$' -bench Tick -benchtime 5x ./deadline
func BenchmarkTick(b *testing.B) {
	n, due := benchCases(), 1000
	now := time.Date(2026, 12, 3, 10, 0, 0, 0, time.FixedZone("CET", 3600))
	dir := fillStore(b, n, due, now)
	log := slog.New(slog.NewTextHandler(io.Discard, nil))
	var tickDur, scanDur time.Duration
	var found int
	b.ResetTimer()
	for b.Loop() {
		b.StopTimer()
		// Each round starts from the same store: copy it.
		round := b.TempDir()
		copyFile(b, dir+"/claimsd.db", round+"/claimsd.db")
		db, err := store.Open(round, store.Options{})
		if err != nil {
			b.Fatal(err)
		}
		p := benchPolicy()
		// Full scan baseline: every case read and decided.
		start := time.Now()
		found = 0
		db.View(func(tx *store.Tx) error {
			cases, err := tx.ListCases(store.CaseFilter{})
			for _, c := range cases {
				if d, _ := p.Due(c, now); len(d) > 0 {
					found++
				}
			}
			return err
		})
		scanDur += time.Since(start)
		n := &countingNotifier{}
		s := deadline.NewScheduler(db, p, n, deadline.SchedulerConfig{}, log, func() time.Time { return now })
		b.StartTimer()
		start = time.Now()
		st, _, err := s.Tick(now)
		tickDur += time.Since(start)
		b.StopTimer()
		if err != nil || st.Cases != due || found != due {
			b.Fatalf("tick %+v (scan found %d): %v", st, found, err)
		}
		db.Close()
		b.StartTimer()
	}
	rounds := float64(b.N)
	b.ReportMetric(float64(n), "cases")
	b.ReportMetric(tickDur.Seconds()*1000/rounds, "tick-ms")
	b.ReportMetric(scanDur.Seconds()*1000/rounds, "full-scan-ms")
	b.ReportMetric(scanDur.Seconds()/tickDur.Seconds(), "scan/tick")
}

func copyFile(b *testing.B, from, to string) {
	b.Helper()
	data, err := os.ReadFile(from)
	if err != nil {
		b.Fatal(err)
	}
	if err := os.WriteFile(to, data, 0o600); err != nil {
		b.Fatal(err)
	}
}
