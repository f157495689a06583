package reliability_test

import (
	"flag"
	"os"
	"strings"
	"testing"
	"time"

	"github.com/claimsd/claimsd/internal/reliability"
)

// suiteSizes are the numbers that make the short and the long suite.
type suiteSizes struct {
	Name            string
	CrashRounds     int
	CrashComplaints int
	CrashKills      int // per round
	OutageMessages  int
	Backlog         int // messages waiting in the mailbox for the scale scenario
	Cases           int // cases in the scale scenario's store
	CasesDue        int // of them due at the tick
	FuzzTime        time.Duration
	BigMessageMB    int
	Parts           int
}

var (
	reportFile = flag.String("reliability.report", "", "also write the table of figures to this file (Markdown)")
	fuzzTime   = flag.Duration("reliability.fuzztime", 0, "run each fuzzer this long with the corpus as seeds (default: none in the short suite, 30s in the long one)")
)

// suite is what the scenarios share: the binary under test and the table.
type suite struct {
	bin    string
	report *reliability.Report
}

// TestReliability is the reliability suite: the real claimsd binary
// against real Dovecot and Postfix on loopback, through crashes, server
// outages, a full or read-only disk, hostile mail, mail loops and large
// volumes. It prints one table of figures at the end and fails on any
// loss, any duplicate case and any crash. `go test ./...` runs the short
// form; `go test -tags reliability` (make reliability) the long one.
func TestReliability(t *testing.T) {
	s := &suite{bin: reliability.Build(t), report: &reliability.Report{}}
	start := time.Now()
	t.Cleanup(func() {
		s.report.Note("suite", "size / wall time", sizes.Name+" / "+time.Since(start).Round(time.Second).String(), "", true)
		var b strings.Builder
		if err := s.report.Write(&b); err != nil {
			t.Error(err)
		}
		missed, failed := s.report.Missed()
		t.Logf("reliability suite (%s): %d goals missed, %d of them failures\n%s", sizes.Name, missed, failed, b.String())
		if *reportFile != "" {
			if err := os.WriteFile(*reportFile, []byte(b.String()), 0o644); err != nil {
				t.Error(err)
			}
		}
	})
	t.Run("Crash", s.crash)
	t.Run("Outage", s.outage)
	t.Run("Disk", s.disk)
	t.Run("Hostile", s.hostile)
	t.Run("Loops", s.loops)
	t.Run("Scale", s.scale)
}
