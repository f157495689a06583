package main

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"image/png"
	"io"
	"log/slog"
	"mime"
	"net"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	gomessage "github.com/emersion/go-message"
	"github.com/xuri/excelize/v2"

	"github.com/claimsd/claimsd/calendar"
	"github.com/claimsd/claimsd/config"
	"github.com/claimsd/claimsd/deadline"
	"github.com/claimsd/claimsd/internal/benchdata"
	"github.com/claimsd/claimsd/internal/devmail"
	"github.com/claimsd/claimsd/report"
	"github.com/claimsd/claimsd/store"
)

// The report fixture is five cases around the week of Monday 2 to Sunday
// 8 March 2026 (Europe/Warsaw, working hours 08:00-16:00 Monday to
// Friday); reportMonday is the Monday after it, 07:00, when the weekly
// report of that week is due.
func reportMonday() time.Time { return time.Date(2026, 3, 9, 7, 0, 0, 0, mustWarsaw()) }

func mustWarsaw() *time.Location {
	loc, err := time.LoadLocation("Europe/Warsaw")
	if err != nil {
		panic(err)
	}
	return loc
}

// writeReportFixture stores the fixture's cases in the store of dataDir.
func writeReportFixture(t *testing.T, dataDir string) {
	t.Helper()
	loc := mustWarsaw()
	at := func(month time.Month, day, hour int) time.Time {
		return time.Date(2026, month, day, hour, 0, 0, 0, loc)
	}
	serial := func(v string) *store.Classification {
		return &store.Classification{Facts: []store.CaseFact{{Kind: "serial_number", Value: v}}}
	}
	const anna = "anna@sklep.example"
	cases := []store.Case{
		// 1: Monday 09:00, answered 11:00 (2 working hours), due 13:00.
		{ID: "CLM-2026-000001", Status: store.StatusOpen, Category: "transport_damage", Remedy: "replacement", Assignee: anna,
			ReceivedAt: at(3, 2, 9), LegalDue: "2026-03-16", FirstAnswerDue: at(3, 2, 13), FirstAnsweredAt: at(3, 2, 11),
			Classification: serial("SN77")},
		// 2: Tuesday 10:00, answered Wednesday 09:00 (6 + 1 = 7 working
		// hours, due Wednesday 10:00), resolved Thursday.
		{ID: "CLM-2026-000002", Status: store.StatusResolved, Category: "non_conformity", Remedy: "refund", Assignee: anna,
			ReceivedAt: at(3, 3, 10), LegalDue: "2026-03-17", FirstAnswerDue: at(3, 4, 10), FirstAnsweredAt: at(3, 4, 9),
			ClosedAt: at(3, 5, 12), LegalAnsweredAt: at(3, 5, 12), Classification: serial("sn77")},
		// 3: from February, legal date Monday 2 March passed unanswered.
		{ID: "CLM-2026-000003", Status: store.StatusOpen, Category: "guarantee", Remedy: "repair",
			ReceivedAt: at(2, 16, 10), LegalDue: "2026-03-02", FirstAnswerDue: at(2, 17, 10)},
		// 4: Friday 15:00, first answer due Monday 9 March.
		{ID: "CLM-2026-000004", Status: store.StatusOpen, Category: "transport_damage", Remedy: "refund",
			ReceivedAt: at(3, 6, 15), LegalDue: "2026-03-20", FirstAnswerDue: at(3, 9, 11)},
		// 5: from February, rejected Wednesday 4 March, before its legal
		// date (6 March); its first answer: Friday 20 February 09:00 to
		// Wednesday 4 March 10:00 = 7 + 40 + 8 + 8 + 2 = 65 working hours.
		{ID: "CLM-2026-000005", Status: store.StatusRejected, Category: "billing", Assignee: anna,
			ReceivedAt: at(2, 20, 9), LegalDue: "2026-03-06", ClosedAt: at(3, 4, 10), LegalAnsweredAt: at(3, 4, 10)},
	}
	db, err := store.Open(dataDir, store.Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	err = db.Update(func(tx *store.Tx) error {
		for i := range cases {
			cases[i].CreatedAt = cases[i].ReceivedAt
			cases[i].Customer = fmt.Sprintf("klient%d@example.net", i+1)
			if err := tx.PutCase(&cases[i]); err != nil {
				return err
			}
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
}

// checkFixtureFigures compares the figures of the fixture's week, made on
// reportMonday, with the hand-computed ones.
func checkFixtureFigures(t *testing.T, f report.Figures) {
	t.Helper()
	got := fmt.Sprintf("%s..%s opened %d closed %d legal %+v first %+v times %+v open %d overdue %d ages %v repeats %d",
		f.From, f.To, f.Opened, f.Closed, f.Legal, f.FirstAnswer, f.TimeToFirstAnswer, f.Backlog.Open, f.Backlog.LegalOverdue, f.Backlog.Ages, len(f.RepeatDefects))
	// Opened: 1 2 4. Closed: 2 5. Legal dates in the week: 3 (missed), 5
	// (met). First-answer deadlines in it: 1 and 2, both met. First
	// answers in it: 2, 7 and 65 hours: median rank 2, p90 rank 3.
	// Open at 9 March 00:00: 1 (7 days), 3 (21 days, overdue), 4 (3).
	want := "2026-03-02..2026-03-08 opened 3 closed 2 legal {Due:2 Met:1 Missed:1 Pending:0 OnTime:0.5} " +
		"first {Due:2 Met:2 Missed:0 Pending:0 OnTime:1} times {Answered:3 MedianHours:7 P90Hours:65} " +
		"open 3 overdue 1 ages [{0-3 1} {4-7 1} {8-14 0} {15-30 1} {31+ 0}] repeats 1"
	if got != want {
		t.Errorf("figures:\n got %s\nwant %s", got, want)
	}
}

// checkFixtureWorkbook checks the summary sheet of a workbook of the
// fixture's week.
func checkFixtureWorkbook(t *testing.T, data []byte, lang string) {
	t.Helper()
	x, err := excelize.OpenReader(bytes.NewReader(data))
	if err != nil {
		t.Fatal(err)
	}
	defer x.Close()
	sheet := report.LabelsFor(lang).Summary
	for id, want := range map[string]string{
		"opened": "3", "closed": "2", "legal_due": "2", "legal_on_time": "0.5", "first_answer_on_time": "1",
		"answered": "3", "median_hours": "7", "p90_hours": "65", "open": "3", "legal_overdue": "1", "repeat_defects": "1",
	} {
		got, err := x.GetCellValue(sheet, report.SummaryCell(id), excelize.Options{RawCellValue: true})
		if err != nil || got != want {
			t.Errorf("workbook %s!%s (%s) = %q, %v; want %q", sheet, report.SummaryCell(id), id, got, err, want)
		}
	}
}

// TestReportCommand runs `claimsd report` on the fixture with no daemon:
// the CLI reads the store itself.
func TestReportCommand(t *testing.T) {
	dir := t.TempDir()
	cfg := writeConfig(t, dir, "127.0.0.1", 1143, "claims@example.test", "pw")
	writeReportFixture(t, filepath.Join(dir, "data"))
	now := reportMonday().Format(time.RFC3339)

	var f report.Figures
	if err := json.Unmarshal([]byte(mustCLI(t, "--config", cfg, "report", "--format", "json", "--now", now)), &f); err != nil {
		t.Fatal(err)
	}
	checkFixtureFigures(t, f)

	text := mustCLI(t, "--config", cfg, "report", "--now", now)
	for _, want := range []string{"Raport reklamacji 2026-03-02 – 2026-03-08", "Nowe sprawy                             3",
		"Anna Nowak <anna@sklep.example>", "numer seryjny  SN77"} {
		if !strings.Contains(text, want) {
			t.Errorf("text report lacks %q:\n%s", want, text)
		}
	}
	if text := mustCLI(t, "--config", cfg, "report", "--now", now, "--lang", "en", "--from", "2026-03-02", "--to", "2026-03-08"); !strings.Contains(text, "Cases opened                          3") {
		t.Errorf("English text report:\n%s", text)
	}
	if csv := mustCLI(t, "--config", cfg, "report", "--now", now, "--format", "csv"); !strings.Contains(csv, "summary,,,opened,3\n") ||
		!strings.Contains(csv, "by_specialist,anna@sklep.example,Anna Nowak,opened,2\n") {
		t.Errorf("csv report:\n%s", csv)
	}
	// --from alone runs to the day of --now: the week so far plus Monday.
	var g report.Figures
	json.Unmarshal([]byte(mustCLI(t, "--config", cfg, "report", "--format", "json", "--now", now, "--from", "2026-03-06")), &g)
	if g.From.String() != "2026-03-06" || g.To.String() != "2026-03-09" || g.Opened != 1 || !g.AsOf.Equal(reportMonday()) {
		t.Errorf("--from alone: %s..%s as of %v, opened %d", g.From, g.To, g.AsOf, g.Opened)
	}

	out := filepath.Join(dir, "raport.xlsx")
	if stdout := mustCLI(t, "--config", cfg, "report", "--now", now, "--format", "xlsx", "--out", out); stdout != "" {
		t.Errorf("xlsx to a file printed %q", stdout)
	}
	data, err := os.ReadFile(out)
	if err != nil {
		t.Fatal(err)
	}
	checkFixtureWorkbook(t, data, "pl")
	if leftovers, _ := filepath.Glob(filepath.Join(dir, ".raport.xlsx.*")); len(leftovers) > 0 {
		t.Errorf("temporary files left: %v", leftovers)
	}
}

func TestReportCommandErrors(t *testing.T) {
	dir := t.TempDir()
	cfg := writeConfig(t, dir, "127.0.0.1", 1143, "claims@example.test", "pw")
	writeReportFixture(t, filepath.Join(dir, "data"))
	tests := []struct {
		args     []string
		code     int
		contains string
	}{
		{[]string{"--format", "pdf"}, 2, `--format "pdf": want text, csv, xlsx or json`},
		{[]string{"--to", "2026-03-08"}, 2, "--to needs --from"},
		{[]string{"--from", "2026-3-2"}, 2, `--from "2026-3-2": want YYYY-MM-DD`},
		{[]string{"--from", "2026-03-08", "--to", "2026-03-02"}, 2, "ends (2026-03-02) before it starts (2026-03-08)"},
		{[]string{"--now", "Monday"}, 2, "want RFC 3339"},
		{[]string{"2026-03-02"}, 2, "unexpected argument"},
		{[]string{"--lang", "de"}, 2, `--lang "de": want pl or en`},
		{[]string{"--format", "csv", "--out", filepath.Join(dir, "no-such-dir", "r.csv")}, 1, "--out"},
	}
	for _, tt := range tests {
		stdout, stderr, code := runCLI(t, context.Background(), append([]string{"--config", cfg, "report"}, tt.args...)...)
		if code != tt.code || !strings.Contains(stderr, tt.contains) {
			t.Errorf("report %v: exit %d, want %d; want %q in\nstdout: %s\nstderr: %s", tt.args, code, tt.code, tt.contains, stdout, stderr)
		}
	}
}

// weeklyTest is a weekly report job over a real store with a clock the
// test sets.
type weeklyTest struct {
	t   *testing.T
	db  *store.DB
	d   *daemon
	now time.Time
}

func newWeeklyTest(t *testing.T, schedule string) *weeklyTest {
	t.Helper()
	dir := t.TempDir()
	cfgPath := writeConfig(t, dir, "127.0.0.1", 1143, "claims@example.test", "pw")
	data, _ := os.ReadFile(cfgPath)
	extra := "  - {name: Piotr Wiśniewski, email: piotr@sklep.example, role: supervisor}\nreports:\n  weekly_schedule: \"" + schedule + "\"\n"
	if err := os.WriteFile(cfgPath, append(data, extra...), 0o600); err != nil {
		t.Fatal(err)
	}
	writeReportFixture(t, filepath.Join(dir, "data"))
	cfg, err := config.Load(cfgPath)
	if err != nil {
		t.Fatal(err)
	}
	wt := &weeklyTest{t: t}
	d, err := openDaemon(cfg, slog.New(slog.NewTextHandler(io.Discard, nil)), func() time.Time { return wt.now })
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { d.Close() })
	wt.d, wt.db = d, d.db
	return wt
}

// job is the weekly report job as wireReports makes it, as after a
// restart.
func (wt *weeklyTest) job() *weeklyReport {
	wt.t.Helper()
	w, err := wt.d.newWeeklyReport()
	if err != nil || w == nil {
		wt.t.Fatalf("newWeeklyReport: %v, %v", w, err)
	}
	return w
}

// reports lists the weeks of the queued report mails, in order.
func (wt *weeklyTest) reports() []string {
	wt.t.Helper()
	var out []string
	wt.db.View(func(tx *store.Tx) error {
		items, err := tx.ListOutbox(store.OutboxFilter{})
		for _, it := range items {
			if it.Purpose == "report" {
				out = append(out, it.Subject+" -> "+it.To.Addr)
			}
		}
		return err
	})
	return out
}

// TestWeeklyReportSchedule drives the weekly job's tick through a first
// start, a due slot, a restart, a long downtime and a daily schedule.
func TestWeeklyReportSchedule(t *testing.T) {
	wt := newWeeklyTest(t, "0 7 * * 1")
	tick := func(at time.Time) time.Time {
		t.Helper()
		wt.now = at
		next, err := wt.job().tick(context.Background(), at)
		if err != nil {
			t.Fatal(err)
		}
		return next
	}
	week := func(n int) string {
		from := time.Date(2026, 3, 2+7*n, 0, 0, 0, 0, mustWarsaw())
		return fmt.Sprintf("Raport reklamacji: %s – %s -> piotr@sklep.example", datePLForTest(from), datePLForTest(from.AddDate(0, 0, 6)))
	}

	// First start on Thursday 5 March: the clock starts, nothing is sent.
	if next := tick(time.Date(2026, 3, 5, 12, 0, 0, 0, mustWarsaw())); !next.Equal(reportMonday()) || len(wt.reports()) != 0 {
		t.Fatalf("first start: next %v, reports %q", next, wt.reports())
	}
	// Monday 07:00:30: the week of 2-8 March.
	next := tick(reportMonday().Add(30 * time.Second))
	if got := wt.reports(); len(got) != 1 || got[0] != week(0) || !next.Equal(reportMonday().AddDate(0, 0, 7)) {
		t.Fatalf("at the slot: %q, next %v", got, next)
	}
	// A restart the same morning sends nothing again.
	tick(reportMonday().Add(10 * time.Minute))
	if got := wt.reports(); len(got) != 1 {
		t.Fatalf("after a restart: %q", got)
	}
	// Down from Sunday 15 to Wednesday 25 March: the weeks of 9-15 and
	// 16-22 March, one mail each, oldest first.
	tick(time.Date(2026, 3, 25, 9, 0, 0, 0, mustWarsaw()))
	if got := wt.reports(); len(got) != 3 || got[1] != week(1) || got[2] != week(2) {
		t.Fatalf("after a downtime: %q", got)
	}
	var rec reportSlot
	wt.db.View(func(tx *store.Tx) error {
		rec, _, _ = readSlot(tx)
		return nil
	})
	if !rec.Slot.Equal(time.Date(2026, 3, 23, 7, 0, 0, 0, mustWarsaw())) || rec.From.String() != "2026-03-16" {
		t.Errorf("record %+v", rec)
	}
}

// TestWeeklyReportDailySchedule: a schedule with a slot every day mails
// each week once.
func TestWeeklyReportDailySchedule(t *testing.T) {
	wt := newWeeklyTest(t, "0 7 * * *")
	w := wt.job()
	for day := 5; day <= 17; day++ {
		at := time.Date(2026, 3, day, 7, 5, 0, 0, mustWarsaw())
		if _, err := w.tick(context.Background(), at); err != nil {
			t.Fatal(err)
		}
	}
	// Started on the 5th; the weeks of 2-8 and 9-15 March, each at its
	// first slot (the 9th and the 16th).
	if got := wt.reports(); len(got) != 2 {
		t.Errorf("reports: %q", got)
	}
}

// TestWeeklyReportCatchUpBound: after months down only the last
// maxCatchUp weeks are mailed.
func TestWeeklyReportCatchUpBound(t *testing.T) {
	wt := newWeeklyTest(t, "0 7 * * 1")
	w := wt.job()
	w.tick(context.Background(), time.Date(2026, 1, 1, 12, 0, 0, 0, mustWarsaw()))
	if _, err := w.tick(context.Background(), time.Date(2026, 6, 1, 12, 0, 0, 0, mustWarsaw())); err != nil {
		t.Fatal(err)
	}
	if got := wt.reports(); len(got) != maxCatchUp || !strings.Contains(got[maxCatchUp-1], "25 maja 2026 r. – 31 maja 2026 r.") {
		t.Errorf("reports after months down:\n%s", strings.Join(got, "\n"))
	}
}

func datePLForTest(t time.Time) string {
	months := []string{"stycznia", "lutego", "marca", "kwietnia", "maja", "czerwca", "lipca", "sierpnia", "września", "października", "listopada", "grudnia"}
	return fmt.Sprintf("%d %s %d r.", t.Day(), months[t.Month()-1], t.Year())
}

// TestWeeklyReportEndToEnd runs the daemon on the fixture store against
// in-process IMAP and SMTP servers, its clock just past Monday 07:00 and
// last week's report already sent: the report of 2-8 March arrives at
// the SMTP server as text, HTML with the chart inline and the workbook
// attached, and `claimsd report`, answered by the daemon over its socket,
// gives the figures the CLI computed alone.
func TestWeeklyReportEndToEnd(t *testing.T) {
	imapSrv, err := devmail.StartIMAP(nil, "reklamacje@sklep.example", "imap-pw")
	if err != nil {
		t.Fatal(err)
	}
	defer imapSrv.Close()
	sink, err := devmail.StartSMTPSink(nil)
	if err != nil {
		t.Fatal(err)
	}
	defer sink.Close()
	dir := t.TempDir()
	imapHost, imapPort, _ := net.SplitHostPort(imapSrv.Addr)
	smtpHost, smtpPort, _ := net.SplitHostPort(sink.Addr)
	pw := filepath.Join(dir, "pw")
	os.WriteFile(pw, []byte("imap-pw\n"), 0o600)
	cfgPath := filepath.Join(dir, "claimsd.yaml")
	os.WriteFile(cfgPath, []byte(fmt.Sprintf(`data_dir: %s
timezone: Europe/Warsaw
claims_address: reklamacje@sklep.example
log: {level: info}
imap: {host: %s, port: %s, security: none, username: reklamacje@sklep.example, password_file: %s}
smtp: {host: %s, port: %s, security: none, from: "Dział Reklamacji <reklamacje@sklep.example>"}
organization: {name: Sklep Testowy}
staff:
  - {name: Anna Nowak, email: anna@sklep.example, role: specialist}
  - {name: Piotr Wiśniewski, email: piotr@sklep.example, role: supervisor}
`, filepath.Join(dir, "data"), imapHost, imapPort, pw, smtpHost, smtpPort)), 0o600)
	writeReportFixture(t, filepath.Join(dir, "data"))
	// The daemon ran last week and mailed the report of 23 February - 1
	// March at Monday 2 March 07:00.
	db, err := store.Open(filepath.Join(dir, "data"), store.Options{})
	if err != nil {
		t.Fatal(err)
	}
	rec, _ := json.Marshal(reportSlot{Slot: reportMonday().AddDate(0, 0, -7), From: calendar.Date{Year: 2026, Month: 2, Day: 23}})
	db.Update(func(tx *store.Tx) error { return tx.PutValue(keyReportLast, rec) })
	db.Close()
	now := reportMonday().Format(time.RFC3339)
	local := mustCLI(t, "--config", cfgPath, "report", "--format", "json", "--now", now)
	localText := mustCLI(t, "--config", cfgPath, "report", "--now", now)

	cfg, err := config.Load(cfgPath)
	if err != nil {
		t.Fatal(err)
	}
	var logBuf bytes.Buffer
	var logMu sync.Mutex
	clock := reportMonday().Add(30 * time.Second)
	d, err := openDaemon(cfg, slog.New(slog.NewTextHandler(lockedWriter{&logMu, &logBuf}, nil)), func() time.Time { return clock })
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	served := make(chan error, 1)
	go func() { served <- d.serve(ctx) }()
	defer func() {
		cancel()
		if err := <-served; err != nil {
			t.Errorf("serve: %v", err)
		}
		d.Close()
		if t.Failed() {
			logMu.Lock()
			t.Logf("daemon log:\n%s", logBuf.String())
			logMu.Unlock()
		}
	}()

	var mail devmail.SinkMessage
	deadline := time.Now().Add(30 * time.Second)
	for {
		if msgs := sink.Messages(); len(msgs) > 0 {
			mail = msgs[0]
			break
		}
		if time.Now().After(deadline) {
			t.Fatal("no report mail reached the SMTP server")
		}
		time.Sleep(50 * time.Millisecond)
	}
	if strings.Join(mail.To, ",") != "piotr@sklep.example" {
		t.Errorf("report mail to %v", mail.To)
	}
	e, err := gomessage.Read(bytes.NewReader(mail.Data))
	if err != nil {
		t.Fatal(err)
	}
	if subj, err := new(mime.WordDecoder).DecodeHeader(e.Header.Get("Subject")); err != nil || subj != "Raport reklamacji: 2 marca 2026 r. – 8 marca 2026 r." {
		t.Errorf("subject %q", subj)
	}
	var text, html, cid string
	var pngData, xlsxData []byte
	var walk func(e *gomessage.Entity)
	walk = func(e *gomessage.Entity) {
		mt, _, _ := e.Header.ContentType()
		if mr := e.MultipartReader(); mr != nil {
			for {
				p, err := mr.NextPart()
				if err == io.EOF {
					return
				}
				if err != nil {
					t.Fatal(err)
				}
				walk(p)
			}
		}
		body, err := io.ReadAll(e.Body)
		if err != nil {
			t.Fatal(err)
		}
		switch mt {
		case "text/plain":
			text = string(body)
		case "text/html":
			html = string(body)
		case "image/png":
			pngData, cid = body, strings.Trim(e.Header.Get("Content-Id"), "<>")
		case "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet":
			xlsxData = body
		}
	}
	walk(e)
	if !strings.Contains(text, "Nowe sprawy: 3") || !strings.Contains(text, "Dzień dobry, Piotr Wiśniewski,") {
		t.Errorf("text part:\n%s", text)
	}
	if cid == "" || !strings.Contains(html, `src="cid:`+cid+`"`) {
		t.Errorf("HTML does not show the chart %q:\n%s", cid, html)
	}
	if _, err := png.Decode(bytes.NewReader(pngData)); err != nil {
		t.Errorf("chart: %v", err)
	}
	checkFixtureWorkbook(t, xlsxData, "pl")

	// The CLI now asks the daemon, which holds the store.
	if viaDaemon := mustCLI(t, "--config", cfgPath, "report", "--format", "json", "--now", now); viaDaemon != local {
		t.Errorf("figures through the daemon differ:\n%s\nalone:\n%s", viaDaemon, local)
	}
	if viaDaemon := mustCLI(t, "--config", cfgPath, "report", "--now", now); viaDaemon != localText {
		t.Errorf("text report through the daemon differs:\n%s\nalone:\n%s", viaDaemon, localText)
	}
}

// TestReportProgressOnlyOnTerminal: the progress bar never writes to a
// pipe or a buffer, so scripts and tests see clean output.
func TestReportProgressOnlyOnTerminal(t *testing.T) {
	r, w, err := os.Pipe()
	if err != nil {
		t.Fatal(err)
	}
	defer r.Close()
	var buf bytes.Buffer
	for _, stderr := range []io.Writer{&buf, w} {
		p := (&cli{stderr: stderr}).progress(3)
		p.step(1, "computing figures")
		p.tick()()
		p.step(2, "writing")
		p.done()
	}
	w.Close()
	if piped, _ := io.ReadAll(r); buf.Len() > 0 || len(piped) > 0 {
		t.Errorf("progress written off a terminal: %q %q", buf.String(), piped)
	}
}

// BenchmarkComputeReport reads a store of 100,000 cases and makes a
// week's figures, as `claimsd report` and the weekly mail do.
func BenchmarkComputeReport(b *testing.B) {
	db, err := store.Open(b.TempDir(), store.Options{})
	if err != nil {
		b.Fatal(err)
	}
	defer db.Close()
	p := deadline.DefaultPolicy(mustWarsaw())
	if err := benchdata.FillCases(db, p, 100_000, 1_000, reportMonday()); err != nil {
		b.Fatal(err)
	}
	set := report.Settings{Calendar: p.Calendar, Hours: p.Hours}
	week := report.LastFullWeek(reportMonday(), mustWarsaw())
	b.ReportAllocs()
	for b.Loop() {
		if _, err := computeReport(db, set, week, reportMonday()); err != nil {
			b.Fatal(err)
		}
	}
}
