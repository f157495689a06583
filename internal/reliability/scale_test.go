package reliability_test

import (
	"context"
	"fmt"
	"math/rand/v2"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/claimsd/claimsd/config"
	"github.com/claimsd/claimsd/deadline"
	"github.com/claimsd/claimsd/internal/benchdata"
	"github.com/claimsd/claimsd/internal/mailtest"
	"github.com/claimsd/claimsd/internal/reliability"
	"github.com/claimsd/claimsd/mailbox"
	"github.com/claimsd/claimsd/store"
)

// scale: a backlog of waiting mail against the raw fetch of the same
// mailbox, and a store of many cases: the deadline tick, `cases list`,
// memory.
func (s *suite) scale(t *testing.T) {
	d := mailtest.StartDovecot(t, reliability.StackUsers()...)
	t.Run("Backlog", func(t *testing.T) { s.backlog(t, d) })
	t.Run("Store", func(t *testing.T) { s.bigStore(t, d) })
}

var summaryRe = regexp.MustCompile(`fetched (\d+), committed (\d+), new cases (\d+)`)

func (s *suite) backlog(t *testing.T, d *mailtest.Dovecot) {
	n := sizes.Backlog
	sc := fmt.Sprintf("scale: backlog of %d", n)
	r := rand.New(rand.NewPCG(1, 2))
	raws := make([][]byte, n)
	for i := range raws {
		raws[i] = mailtest.Complaint(i, r)
	}
	// Received now, so that intake also writes their acknowledgements.
	d.DeliverMaildir(t, reliability.ClaimsUser, "INBOX", raws, time.Now())
	dir := t.TempDir()
	cfg := reliability.Config{DataDir: filepath.Join(dir, "data"), IMAPPort: d.IMAPPort,
		IMAPUser: reliability.ClaimsUser, IMAPPassword: reliability.ClaimsPass, LogLevel: "warn"}.Write(t, dir)
	opts := mailbox.Options{Host: "127.0.0.1", Port: d.IMAPPort, Security: mailbox.SecurityNone,
		Username: reliability.ClaimsUser, Password: reliability.ClaimsPass}
	ctx := context.Background()
	// Warm Dovecot's index and the page cache once, so neither side pays.
	if _, _, err := mailbox.FetchAllRaw(ctx, opts); err != nil {
		t.Fatal(err)
	}
	start := time.Now()
	got, _, err := mailbox.FetchAllRaw(ctx, opts)
	rawDur := time.Since(start)
	if err != nil || got != n {
		t.Fatalf("raw fetch: %d of %d, %v", got, n, err)
	}
	run := reliability.MustExec(t, s.bin, cfg, "run", "--once")
	m := summaryRe.FindStringSubmatch(run.Stdout)
	committed := 0
	if m != nil {
		committed, _ = strconv.Atoi(m[2])
	}
	s.report.Check(t, sc, "committed by `run --once`", committed, fmt.Sprint(n), committed == n)
	rawRate, rate := float64(n)/rawDur.Seconds(), float64(n)/run.Took.Seconds()
	caveat := ""
	if raceEnabled {
		caveat = " (raw fetch in a -race test binary: slowed)"
	}
	s.report.Note(sc, "intake rate, `run --once` with acknowledgements (msg/s)", rate, "≥ 1,000", rate >= 1000)
	s.report.Note(sc, "raw UID FETCH 1:* BODY.PEEK[] (msg/s)"+caveat, rawRate, "", true)
	s.report.Note(sc, "intake / raw fetch", rate/rawRate, "", true)
	s.report.Check(t, sc, "`run --once`: peak memory", mem(run), fmt.Sprintf("anon ≤ %d MB", maxAnon>>20), run.PeakAnon <= maxAnon)
	list, bytes := reliability.ExecCounting(t, s.bin, cfg, "cases", "list")
	s.report.Note(sc, fmt.Sprintf("`cases list` of %d cases: time, memory", n), fmt.Sprintf("%v, %s (%d KB printed)", list.Took.Round(time.Millisecond), mem(list), bytes>>10), "", true)
}

func (s *suite) bigStore(t *testing.T, d *mailtest.Dovecot) {
	n, due := sizes.Cases, sizes.CasesDue
	sc := fmt.Sprintf("scale: store of %d cases", n)
	dir := t.TempDir()
	// An empty mailbox: only the store is measured.
	cfgPath := reliability.Config{DataDir: filepath.Join(dir, "data"), IMAPPort: d.IMAPPort,
		IMAPUser: reliability.JanUser, IMAPPassword: reliability.JanPass, LogLevel: "warn"}.Write(t, dir)
	cfg, err := config.Load(cfgPath)
	if err != nil {
		t.Fatal(err)
	}
	// claimsd's default deadlines, as the daemon builds them from cfg.
	policy := deadline.DefaultPolicy(cfg.Location)
	for _, b := range cfg.Reminders.LegalBefore {
		policy.LegalBefore = append(policy.LegalBefore, b.Duration)
	}
	for _, b := range cfg.Reminders.FirstAnswerBefore {
		policy.FirstAnswerBefore = append(policy.FirstAnswerBefore, b.Duration)
	}
	policy.CustomerAfter = cfg.Reminders.CustomerAfter.Duration
	// A Thursday in early December, far from holidays, so the due count is
	// the same whatever day the suite runs, and years ahead of the real
	// clock, so the daemon measured below has nothing due while it lists.
	now := time.Date(2036, 12, 4, 10, 0, 0, 0, cfg.Location)
	db, err := store.Open(cfg.DataDir, store.Options{})
	if err != nil {
		t.Fatal(err)
	}
	start := time.Now()
	if err := benchdata.FillCases(db, policy, n, due, now); err != nil {
		db.Close()
		t.Fatal(err)
	}
	db.Close()
	s.report.Note(sc, "filling the store", time.Since(start).Round(100*time.Millisecond), "", true)

	run := reliability.MustExec(t, s.bin, cfgPath, "run", "--once", "--now", now.Format(time.RFC3339))
	var casesDue, events int
	if m := regexp.MustCompile(`deadlines: (\d+) cases due, (\d+) events`).FindStringSubmatch(run.Stdout); m != nil {
		casesDue, _ = strconv.Atoi(m[1])
		events, _ = strconv.Atoi(m[2])
	}
	s.report.Check(t, sc, "cases the tick found due", fmt.Sprintf("%d (%d events)", casesDue, events), fmt.Sprint(due), casesDue == due)
	s.report.Note(sc, "`run --once` with the tick: time", run.Took.Round(time.Millisecond), "≤ 1s", run.Took <= time.Second)
	s.report.Check(t, sc, "`run --once` with the tick: peak memory", mem(run), fmt.Sprintf("anon ≤ %d MB", maxAnon>>20), run.PeakAnon <= maxAnon)
	s.listings(t, sc, cfgPath, "", now)
	// The same listings through a running daemon, which holds the store
	// and answers over its control socket. The daemon keeps the real
	// clock, years before the store's dates: nothing is due while it
	// lists.
	if time.Now().Before(now) {
		daemonCfg := reliability.Config{DataDir: cfg.DataDir, IMAPPort: d.IMAPPort,
			IMAPUser: reliability.JanUser, IMAPPassword: reliability.JanPass}.Write(t, t.TempDir())
		daemon := reliability.StartDaemon(t, s.bin, daemonCfg)
		s.listings(t, sc, daemonCfg, " through the daemon", now)
		daemon.Stop()
		rss, anon := daemon.PeakRSS()
		s.report.Check(t, sc, "the daemon serving them: peak memory", mem(reliability.Run{PeakRSS: rss, PeakAnon: anon}),
			fmt.Sprintf("anon ≤ %d MB", maxAnon>>20), anon <= maxAnon)
	} else {
		s.report.Note(sc, "`cases list` through the daemon", "not measured: the clock is past the store's dates", "", true)
	}
	rep := reliability.Exec(t, s.bin, cfgPath, "report")
	if rep.Err != nil && strings.Contains(rep.Stderr, "not implemented") {
		s.report.Note(sc, "`report` time", "not implemented yet", "", true)
	} else {
		s.report.Note(sc, "`report`: exit, time, memory", fmt.Sprintf("%s, %v, %s", clip(exitText(rep.Err)+" "+firstLine(rep.Stderr), 40), rep.Took.Round(time.Millisecond), mem(rep)), "", true)
	}
}

// listings runs `cases list` over the big store: the overdue cases (from
// the deadline index), and every case as a table and as JSON, which must
// stream in bounded memory whatever the store's size. how says whether a
// daemon answers.
func (s *suite) listings(t *testing.T, sc, cfgPath, how string, now time.Time) {
	for _, cmd := range []struct {
		what    string
		args    []string
		bounded bool
	}{
		{"`cases list --overdue`", []string{"cases", "list", "--overdue", "--now", now.Format(time.RFC3339)}, false},
		{"`cases list` (all)", []string{"cases", "list"}, true},
		{"`cases list --json` (all)", []string{"cases", "list", "--json"}, true},
	} {
		r, bytes := reliability.ExecCounting(t, s.bin, cfgPath, cmd.args...)
		what := cmd.what + how
		if r.Err != nil {
			s.report.Check(t, sc, what, clip(firstLine(r.Stderr), 60), "works", false)
			continue
		}
		s.report.Note(sc, what+": time", fmt.Sprintf("%v (%d KB printed)", r.Took.Round(time.Millisecond), bytes>>10), "", true)
		if cmd.bounded {
			s.report.Check(t, sc, what+": peak memory", mem(r), fmt.Sprintf("anon ≤ %d MB", maxAnon>>20), r.PeakAnon <= maxAnon)
		} else {
			s.report.Note(sc, what+": peak memory", mem(r), "", true)
		}
	}
}
