package main

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/robfig/cron/v3"
	"github.com/schollz/progressbar/v3"
	"golang.org/x/term"

	"github.com/claimsd/claimsd/calendar"
	"github.com/claimsd/claimsd/caseref"
	"github.com/claimsd/claimsd/config"
	"github.com/claimsd/claimsd/message"
	"github.com/claimsd/claimsd/outbox"
	"github.com/claimsd/claimsd/report"
	"github.com/claimsd/claimsd/store"
	"github.com/claimsd/claimsd/templates"
)

// Report formats of `claimsd report`.
const (
	formatText = "text"
	formatCSV  = "csv"
	formatXLSX = "xlsx"
	formatJSON = "json"
)

func (c *cli) report(args []string) error {
	fs := c.flags("report")
	fromFlag := fs.String("from", "", "first day of the period, YYYY-MM-DD (default: Monday of the last full week)")
	toFlag := fs.String("to", "", "last day of the period, included, YYYY-MM-DD (default: the Sunday of the last full week, or today with --from)")
	format := fs.String("format", formatText, "text, csv, xlsx or json")
	out := fs.String("out", "", "write the report to FILE instead of standard output")
	lang := fs.String("lang", "", "language of the text and xlsx reports: pl or en (default: templates.default_language)")
	nowFlag := fs.String("now", "", "the time to report at (RFC 3339; default now)")
	if err := parseFlags(fs, args); err != nil {
		return err
	}
	if fs.NArg() > 0 {
		return usageErr("report: unexpected argument %q (the period is given with --from and --to)", fs.Arg(0))
	}
	switch *format {
	case formatText, formatCSV, formatXLSX, formatJSON:
	default:
		return usageErr("report: --format %q: want text, csv, xlsx or json", *format)
	}
	if *lang != "" && *lang != "pl" && *lang != "en" {
		return usageErr("report: --lang %q: want pl or en", *lang)
	}
	if *format == formatXLSX && *out == "" && isTerminal(c.stdout) {
		return usageErr("report: --format xlsx writes a workbook: give --out FILE (or redirect standard output)")
	}
	cfg, err := c.loadConfig()
	if err != nil {
		return err
	}
	now := time.Now()
	if *nowFlag != "" {
		if now, err = time.Parse(time.RFC3339, *nowFlag); err != nil {
			return usageErr("report: --now %q: want RFC 3339, e.g. 2026-03-09T07:00:00+01:00", *nowFlag)
		}
	}
	p, err := reportPeriod(*fromFlag, *toFlag, now, cfg.Location)
	if err != nil {
		return err
	}
	if *lang == "" {
		*lang = cfg.Templates.DefaultLanguage
	}
	steps := 2 // figures, rendering
	if *format == formatXLSX {
		steps = 1 + len(report.XLSXSheets(report.LabelsFor(*lang))) + 1
	}
	bar := c.progress(steps)
	defer bar.done()

	bar.step(1, "computing figures")
	f, err := c.reportFigures(cfg, p, now, bar)
	if err != nil {
		return err
	}
	return writeOutput(*out, c.stdout, func(w io.Writer) error {
		l := report.LabelsFor(*lang)
		switch *format {
		case formatCSV:
			bar.step(2, "writing csv")
			return report.CSV(w, f)
		case formatJSON:
			bar.step(2, "writing json")
			return report.JSON(w, f)
		case formatXLSX:
			return report.XLSX(w, f, l, func(step, _ int, what string) { bar.step(1+step, what) })
		}
		bar.step(2, "writing text")
		return report.Text(w, f, l)
	})
}

// reportPeriod reads --from and --to: both empty is the last full week
// before now; --from alone runs to today.
func reportPeriod(from, to string, now time.Time, loc *time.Location) (report.Period, error) {
	if from == "" && to == "" {
		return report.LastFullWeek(now, loc), nil
	}
	if from == "" {
		return report.Period{}, usageErr("report: --to needs --from (without both, the report is of the last full week)")
	}
	var p report.Period
	var err error
	if p.From, err = calendar.ParseDate(from); err != nil {
		return p, usageErr("report: --from %q: want YYYY-MM-DD, e.g. 2026-03-02", from)
	}
	p.To = calendar.DateOf(now, loc)
	if to != "" {
		if p.To, err = calendar.ParseDate(to); err != nil {
			return p, usageErr("report: --to %q: want YYYY-MM-DD, e.g. 2026-03-08", to)
		}
	}
	if err := p.Check(); err != nil {
		return p, usageErr("report: --from %s --to %s: %v", p.From, p.To, err)
	}
	return p, nil
}

// reportFigures asks the running daemon for the figures (it holds the
// store, and computes them with its configuration), or computes them from
// the store opened read-only when no daemon runs, with the same code.
func (c *cli) reportFigures(cfg *config.Config, p report.Period, now time.Time, bar *reportProgress) (report.Figures, error) {
	r, done, err := c.openReader()
	if err != nil {
		return report.Figures{}, err
	}
	defer done()
	stop := bar.tick()
	defer stop()
	if sr, ok := r.(storeReader); ok {
		set, err := reportSettings(cfg)
		if err != nil {
			return report.Figures{}, err
		}
		return computeReport(sr.db, set, p, now)
	}
	f, err := askReport(c.ctx, cfg.SocketPath(), p, now)
	// JSON kept the offset but not the zone's name, which the text shows.
	f.AsOf = f.AsOf.In(cfg.Location)
	return f, err
}

// askReport gets the figures from the daemon (GET /v1/report). Reading
// every case of a big store takes a while: askLong sets no client
// timeout, only ctx ends it.
func askReport(ctx context.Context, socket string, p report.Period, now time.Time) (report.Figures, error) {
	q := url.Values{"from": {p.From.String()}, "to": {p.To.String()}, "now": {now.Format(time.RFC3339Nano)}}
	var f report.Figures
	if err := askLong(ctx, socket, "/v1/report?"+q.Encode(), &f); err != nil {
		return report.Figures{}, err
	}
	return f, nil
}

// serveReport computes report figures for the CLI (GET
// /v1/report?from=&to=&now=).
func (r storeReader) serveReport(w http.ResponseWriter, req *http.Request) {
	q := req.URL.Query()
	var p report.Period
	var err error
	now := time.Now()
	p.From, err = calendar.ParseDate(q.Get("from"))
	if err == nil {
		p.To, err = calendar.ParseDate(q.Get("to"))
	}
	if err == nil {
		err = p.Check()
	}
	if err == nil && q.Get("now") != "" {
		now, err = time.Parse(time.RFC3339Nano, q.Get("now"))
	}
	if err != nil {
		http.Error(w, "report: "+err.Error(), http.StatusBadRequest)
		return
	}
	f, err := computeReport(r.db, r.daemon.reportSettings(), p, now)
	if err != nil {
		r.daemon.log.Error("report failed", "err", err)
		http.Error(w, err.Error(), http.StatusInternalServerError)
		return
	}
	w.Header().Set("Content-Type", "application/json")
	json.NewEncoder(w).Encode(f)
}

// computeReport computes the figures of p in one walk over every case,
// counting each as it is read rather than holding the store.
func computeReport(db *store.DB, set report.Settings, p report.Period, now time.Time) (report.Figures, error) {
	b := report.NewBuilder(p, set, now)
	err := db.View(func(tx *store.Tx) error {
		return tx.ForEachCase(func(c store.Case) error {
			b.Add(report.FromStore(c))
			return nil
		})
	})
	if err != nil {
		return report.Figures{}, fmt.Errorf("read cases for the report: %w", err)
	}
	return b.Figures(), nil
}

// reportSettings are the figures' settings from the configuration, for
// the CLI without a daemon.
func reportSettings(cfg *config.Config) (report.Settings, error) {
	cal, err := newCalendar(cfg)
	if err != nil {
		return report.Settings{}, err
	}
	p, err := newPolicy(cfg, cal)
	if err != nil {
		return report.Settings{}, err
	}
	return report.Settings{Calendar: p.Calendar, Hours: p.Hours, Names: staffNames(cfg)}, nil
}

// reportSettings are the daemon's settings for the figures.
func (d *daemon) reportSettings() report.Settings {
	return report.Settings{Calendar: d.policy.Calendar, Hours: d.policy.Hours, Names: staffNames(d.cfg)}
}

func staffNames(cfg *config.Config) map[string]string {
	names := make(map[string]string, len(cfg.Staff))
	for _, s := range cfg.Staff {
		names[s.Email] = s.Name
	}
	return names
}

// writeOutput runs write on the file path, replacing it only once the
// whole report is written (a failed report leaves no half file), or on
// stdout when path is "".
func writeOutput(path string, stdout io.Writer, write func(io.Writer) error) error {
	if path == "" {
		return write(stdout)
	}
	tmp, err := os.CreateTemp(filepath.Dir(path), "."+filepath.Base(path)+".*")
	if err != nil {
		return fmt.Errorf("--out %s: %w", path, err)
	}
	defer os.Remove(tmp.Name()) // no-op after the rename
	if err := write(tmp); err != nil {
		tmp.Close()
		return err
	}
	if err := tmp.Close(); err != nil {
		return fmt.Errorf("--out %s: %w", path, err)
	}
	if err := os.Rename(tmp.Name(), path); err != nil {
		return fmt.Errorf("--out %s: %w", path, err)
	}
	return nil
}

// isTerminal reports whether w is a terminal.
func isTerminal(w io.Writer) bool {
	f, ok := w.(*os.File)
	return ok && term.IsTerminal(int(f.Fd()))
}

// reportProgress is the progress bar of a report on a terminal; its
// methods do nothing when stderr is not one (pipes, cron, tests).
type reportProgress struct {
	bar *progressbar.ProgressBar
}

// progress returns the bar for steps steps, shown only when stderr is a
// terminal.
func (c *cli) progress(steps int) *reportProgress {
	if !isTerminal(c.stderr) {
		return &reportProgress{}
	}
	return &reportProgress{bar: progressbar.NewOptions(steps,
		progressbar.OptionSetWriter(c.stderr),
		progressbar.OptionSetDescription("report"),
		progressbar.OptionSetElapsedTime(true),
		progressbar.OptionSetPredictTime(false),
		progressbar.OptionShowCount(),
		progressbar.OptionClearOnFinish(),
		progressbar.OptionSetRenderBlankState(true),
	)}
}

// step shows step n (from 1) as started, described by what.
func (p *reportProgress) step(n int, what string) {
	if p.bar == nil {
		return
	}
	p.bar.Describe("report: " + what)
	_ = p.bar.Set(n - 1)
}

// tick redraws the bar (its elapsed time) while a step with no steps of
// its own runs, until the returned stop is called.
func (p *reportProgress) tick() (stop func()) {
	if p.bar == nil {
		return func() {}
	}
	quit := make(chan struct{})
	stopped := make(chan struct{})
	go func() {
		defer close(stopped)
		t := time.NewTicker(200 * time.Millisecond)
		defer t.Stop()
		for {
			select {
			case <-quit:
				return
			case <-t.C:
				_ = p.bar.Add(0)
			}
		}
	}()
	return func() { close(quit); <-stopped }
}

func (p *reportProgress) done() {
	if p.bar != nil {
		_ = p.bar.Finish()
	}
}

// keyReportLast is the store value recording the weekly report's last
// slot (reportSlot, JSON).
const keyReportLast = "report_weekly_last"

// reportSlot is the weekly report's record: the last schedule slot
// handled and the first day of the last week mailed.
type reportSlot struct {
	Slot time.Time     `json:"slot"`
	From calendar.Date `json:"from,omitzero"`
}

// maxCatchUp bounds how many missed weeks are mailed after a long
// downtime; older ones are left to `claimsd report`.
const maxCatchUp = 8

// weeklyReport mails the report of the last full week to the supervisors
// on reports.weekly_schedule.
type weeklyReport struct {
	db       *store.DB
	schedule cron.Schedule
	mailer   *outbox.Responder
	to       []message.Address
	set      report.Settings
	lang     string
	now      func() time.Time
	log      *slog.Logger
	queued   func()
}

// wireReports schedules the weekly report mail (reports.weekly_schedule).
func (d *daemon) wireReports() error {
	w, err := d.newWeeklyReport()
	if err != nil || w == nil {
		return err
	}
	d.background = append(d.background, w.run)
	return nil
}

// newWeeklyReport makes the weekly report job, or nil when the schedule is
// off or no one would get the mail.
func (d *daemon) newWeeklyReport() (*weeklyReport, error) {
	cfg := d.cfg
	spec := ""
	if cfg.Reports.WeeklySchedule != nil {
		spec = *cfg.Reports.WeeklySchedule
	}
	if spec == "" {
		return nil, nil
	}
	sched, err := cron.ParseStandard("CRON_TZ=" + cfg.Location.String() + " " + spec)
	if err != nil {
		return nil, fmt.Errorf("reports.weekly_schedule: %w", err)
	}
	to := reportRecipients(cfg)
	if len(to) == 0 {
		d.log.Warn("reports.weekly_schedule is set but no one gets the report: add a staff member with role supervisor, or reports.recipients")
		return nil, nil
	}
	tpl, err := templates.Load(cfg.Templates.Dir, cfg.Templates.DefaultLanguage)
	if err != nil {
		return nil, fmt.Errorf("templates (templates.dir, templates.default_language): %w", err)
	}
	mailer := outbox.NewResponder(outbox.Settings{
		From:         senderAddress(cfg),
		VERP:         cfg.SMTP.VERP,
		Key:          d.db.MessageIDKey(),
		IDs:          caseref.MessageIDs{Key: d.db.MessageIDKey(), Domain: domainOf(cfg.ClaimsAddress)},
		Location:     cfg.Location,
		Templates:    tpl,
		Organization: cfg.Organization.Name,
	}, d.log)
	return &weeklyReport{
		db: d.db, schedule: sched, mailer: mailer, to: to, set: d.reportSettings(),
		lang: tpl.DefaultLanguage(), now: d.now, log: d.log.With("component", "report"), queued: d.wakeSender,
	}, nil
}

// reportRecipients are reports.recipients (with their staff names), else
// every supervisor.
func reportRecipients(cfg *config.Config) []message.Address {
	if len(cfg.Reports.Recipients) == 0 {
		return staffWithRole(cfg, config.RoleSupervisor)
	}
	var out []message.Address
	for _, r := range cfg.Reports.Recipients {
		a := message.Address{Addr: strings.ToLower(r)}
		if s, ok := cfg.IsStaff(r); ok {
			a = message.Address{Name: s.Name, Addr: s.Email}
		}
		out = append(out, a)
	}
	return out
}

// run sends the weekly report whenever a slot of the schedule has come,
// until ctx ends.
func (w *weeklyReport) run(ctx context.Context) error {
	for {
		next, err := w.tick(ctx, w.now())
		wait := time.Hour
		switch {
		case err != nil:
			w.log.Error("weekly report failed; trying again in 5 minutes", "err", err)
			wait = 5 * time.Minute
		case !next.IsZero():
			// At most an hour: a clock that jumps is noticed.
			wait = min(max(next.Sub(w.now()), 0), time.Hour)
		}
		t := time.NewTimer(wait)
		select {
		case <-ctx.Done():
			t.Stop()
			return nil
		case <-t.C:
		}
	}
}

// tick queues the report of every week whose slot has come since the
// recorded one, oldest first, and returns the next slot. Like the
// escalation digest's, the first run only starts the clock. The record
// moves in the transaction that queues each week's mail, so a crash or a
// restart neither skips nor repeats a week; a week is mailed once however
// many slots fall in it (a daily schedule mails each week once).
func (w *weeklyReport) tick(ctx context.Context, now time.Time) (time.Time, error) {
	last, ok, err := w.record()
	if err != nil {
		return time.Time{}, err
	}
	if !ok {
		w.log.Info("weekly report scheduled; the first is due at the next slot", "slot", w.schedule.Next(now))
		// Weeks that ended before the first start are not mailed.
		return w.schedule.Next(now), w.put(nil, reportSlot{Slot: now, From: report.LastFullWeek(now, w.set.Calendar.Location()).From})
	}
	type due struct {
		slot   time.Time
		period report.Period
	}
	var weeks []due
	loc := w.set.Calendar.Location()
	slot := last.Slot
	for s := w.schedule.Next(last.Slot); !s.IsZero() && !s.After(now); s = w.schedule.Next(s) {
		slot = s
		p := report.LastFullWeek(s, loc)
		if !p.From.After(last.From) || len(weeks) > 0 && weeks[len(weeks)-1].period == p {
			continue
		}
		weeks = append(weeks, due{s, p})
	}
	if len(weeks) > maxCatchUp {
		skipped := weeks[:len(weeks)-maxCatchUp]
		w.log.Warn("weekly reports of weeks missed while claimsd was down are not mailed; make them with claimsd report",
			"weeks", len(skipped), "from", skipped[0].period.From, "to", skipped[len(skipped)-1].period.To)
		weeks = weeks[len(weeks)-maxCatchUp:]
	}
	for _, wk := range weeks {
		if err := ctx.Err(); err != nil {
			return time.Time{}, nil
		}
		if err := w.send(wk.slot, wk.period, now, last); err != nil {
			return time.Time{}, fmt.Errorf("weekly report %s: %w", wk.period, err)
		}
		last = reportSlot{Slot: wk.slot, From: wk.period.From}
	}
	if slot.After(last.Slot) {
		// Slots of weeks already mailed (a daily schedule).
		last.Slot = slot
		if err := w.put(nil, last); err != nil {
			return time.Time{}, err
		}
	}
	return w.schedule.Next(last.Slot), nil
}

// send computes the week's report, stores its files and queues the mails
// with the new record, unless the record changed since prev was read.
func (w *weeklyReport) send(slot time.Time, p report.Period, now time.Time, prev reportSlot) error {
	f, err := computeReport(w.db, w.set, p, now)
	if err != nil {
		return err
	}
	files, err := outbox.StoreReportFiles(w.db, f, w.lang)
	if err != nil {
		return err
	}
	var ids []uint64
	err = w.db.Update(func(tx *store.Tx) error {
		cur, _, err := readSlot(tx)
		if err != nil {
			return err
		}
		if !cur.Slot.Equal(prev.Slot) || cur.From != prev.From {
			return fmt.Errorf("the weekly report record changed to %v under us", cur)
		}
		if ids, err = w.mailer.QueueReport(tx, f, files, w.to, now); err != nil {
			return err
		}
		return w.put(tx, reportSlot{Slot: slot, From: p.From})
	})
	if err != nil {
		return err
	}
	w.log.Info("weekly report queued", "from", p.From, "to", p.To, "opened", f.Opened, "closed", f.Closed,
		"open", f.Backlog.Open, "mails", len(ids), "slot", slot)
	if w.queued != nil {
		w.queued()
	}
	return nil
}

// record reads the weekly report's record; ok is false before the first
// run.
func (w *weeklyReport) record() (s reportSlot, ok bool, err error) {
	err = w.db.View(func(tx *store.Tx) error {
		s, ok, err = readSlot(tx)
		return err
	})
	return s, ok, err
}

func readSlot(tx *store.Tx) (reportSlot, bool, error) {
	v := tx.Value(keyReportLast)
	if v == nil {
		return reportSlot{}, false, nil
	}
	var s reportSlot
	if err := json.Unmarshal(v, &s); err != nil {
		return reportSlot{}, false, fmt.Errorf("read %s: %w", keyReportLast, err)
	}
	return s, true, nil
}

// put writes the record, in tx or in a transaction of its own.
func (w *weeklyReport) put(tx *store.Tx, s reportSlot) error {
	data, err := json.Marshal(s)
	if err != nil {
		return err
	}
	if tx != nil {
		return tx.PutValue(keyReportLast, data)
	}
	return w.db.Update(func(tx *store.Tx) error { return tx.PutValue(keyReportLast, data) })
}
