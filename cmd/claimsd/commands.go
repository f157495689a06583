package main

import (
	"bufio"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"net"
	"os"
	"sort"
	"strconv"
	"strings"
	"text/tabwriter"
	"time"
	"unicode/utf8"

	"github.com/claimsd/claimsd/calendar"
	"github.com/claimsd/claimsd/config"
	"github.com/claimsd/claimsd/store"
	"github.com/claimsd/claimsd/templates"
)

func (c *cli) loadConfig() (*config.Config, error) {
	if c.configPath == "" {
		return nil, usageErr("no configuration: pass --config FILE or set CLAIMSD_CONFIG (claimsd config example prints one)")
	}
	return config.Load(c.configPath)
}

// flags returns a command's flag set. It accepts --config too, so that
// `claimsd cases list --config FILE` works as well as the global form.
func (c *cli) flags(name string) *flag.FlagSet {
	fs := flag.NewFlagSet(name, flag.ContinueOnError)
	fs.SetOutput(c.stderr)
	fs.StringVar(&c.configPath, "config", c.configPath, "configuration file (or CLAIMSD_CONFIG)")
	return fs
}

func parseFlags(fs *flag.FlagSet, args []string) error {
	if err := fs.Parse(args); err != nil {
		return exitError{code: 2, err: err}
	}
	return nil
}

// oneArg parses args with fs and returns the command's one positional
// argument, which may stand before or after the flags. noun names it when
// more than one is given; want says what to give when none is.
func oneArg(fs *flag.FlagSet, args []string, noun, want string) (string, error) {
	var arg string
	if len(args) > 0 && !strings.HasPrefix(args[0], "-") {
		arg, args = args[0], args[1:]
	}
	if err := parseFlags(fs, args); err != nil {
		return "", err
	}
	rest := fs.Args()
	if arg == "" && len(rest) > 0 {
		arg, rest = rest[0], rest[1:]
	}
	if len(rest) > 0 {
		return "", usageErr("%s: one %s, not %q too", fs.Name(), noun, rest[0])
	}
	if arg == "" {
		return "", usageErr("%s: want %s", fs.Name(), want)
	}
	return arg, nil
}

func (c *cli) run(args []string) error {
	fs := c.flags("run")
	once := fs.Bool("once", false, "process all mail waiting now, then exit")
	nowFlag := fs.String("now", "", "with --once: the time to act as (RFC 3339)")
	if err := parseFlags(fs, args); err != nil {
		return err
	}
	cfg, err := c.loadConfig()
	if err != nil {
		return err
	}
	now := time.Now
	if *nowFlag != "" {
		if !*once {
			return usageErr("--now needs --once")
		}
		t, err := time.Parse(time.RFC3339, *nowFlag)
		if err != nil {
			return usageErr("--now %q: want RFC 3339, e.g. 2026-11-30T08:00:00+01:00", *nowFlag)
		}
		now = func() time.Time { return t }
	}
	log := newLogger(cfg.Log, c.stderr)
	d, err := openDaemon(cfg, log, now)
	if err != nil {
		return err
	}
	defer d.Close()
	if !*once {
		return d.serve(c.ctx)
	}
	// A mailbox that cannot be read does not stop the deadlines and the
	// outbox: reminders and the mail about a refused credential still go
	// out. Its error is returned at the end.
	st, mailErr := d.watcher.RunOnce(c.ctx)
	if mailErr != nil {
		mailErr = fmt.Errorf("run once: %w", mailErr)
	} else if d.sentWatcher != nil {
		sent, err := d.sentWatcher.RunOnce(c.ctx)
		if err != nil {
			mailErr = fmt.Errorf("run once (Sent folder): %w", err)
		}
		fmt.Fprintf(c.stdout, "sent folder: fetched %d\n", sent.Fetched)
	}
	is := d.intake.Stats()
	fmt.Fprintf(c.stdout, "fetched %d, committed %d, new cases %d, duplicates %d, unparsable %d, unfiled %d, marked %d, mails queued %d\n",
		st.Fetched, is.Committed, is.NewCases, is.Duplicates, is.ParseFailed, is.Unfiled, st.Marked, is.Queued)
	ts, _, err := d.scheduler.Tick(now())
	if err != nil {
		return fmt.Errorf("deadlines: %w", err)
	}
	fmt.Fprintf(c.stdout, "deadlines: %d cases due, %d events, %d digests\n", ts.Cases, ts.Events, ts.Digests)
	weekly, err := d.newWeeklyReport()
	if err != nil {
		return err
	}
	if weekly != nil {
		if _, err := weekly.tick(c.ctx, now()); err != nil {
			return fmt.Errorf("weekly report: %w", err)
		}
	}
	if d.sender == nil {
		return mailErr
	}
	if err := d.sender.Recover(); err != nil {
		return fmt.Errorf("outbox: %w", err)
	}
	sent, _, err := d.sender.RunOnce(c.ctx)
	fmt.Fprintf(c.stdout, "mails sent %d, to retry %d, failed %d\n", sent.Sent, sent.Retry, sent.Failed)
	if err != nil {
		return fmt.Errorf("outbox: %w", err)
	}
	return mailErr
}

// openReader asks the running daemon, or reads the file itself when no
// daemon runs. A daemon that holds the file but does not answer yet may be
// starting (it opens the store before its socket), so the socket is tried
// again for a few seconds before giving up.
func (c *cli) openReader() (reader, func(), error) {
	cfg, err := c.loadConfig()
	if err != nil {
		return nil, nil, err
	}
	deadline := time.Now().Add(5 * time.Second)
	for {
		if conn, err := net.DialTimeout("unix", cfg.SocketPath(), time.Second); err == nil {
			conn.Close()
			return dialControl(cfg.SocketPath()), func() {}, nil
		}
		db, err := store.Open(cfg.DataDir, store.Options{ReadOnly: true, Timeout: 100 * time.Millisecond})
		switch {
		case err == nil:
			return storeReader{db: db}, func() { db.Close() }, nil
		case errors.Is(err, os.ErrNotExist):
			return nil, nil, fmt.Errorf("no store in %s yet: run claimsd run first", cfg.DataDir)
		case !errors.Is(err, store.ErrLocked):
			return nil, nil, err
		case time.Now().After(deadline):
			return nil, nil, fmt.Errorf("%w, and its control socket %s does not answer: is the daemon stuck?", err, cfg.SocketPath())
		}
		select {
		case <-c.ctx.Done():
			return nil, nil, c.ctx.Err()
		case <-time.After(100 * time.Millisecond):
		}
	}
}

func (c *cli) printJSON(v any) error {
	enc := json.NewEncoder(c.stdout)
	enc.SetIndent("", "  ")
	return enc.Encode(v)
}

func (c *cli) cases(args []string) error {
	if len(args) == 0 {
		return usageErr("cases: want list, show or status")
	}
	switch args[0] {
	case "list":
		fs := c.flags("cases list")
		status := fs.String("status", "", "only cases in this status (open, waiting, resolved, rejected)")
		overdue := fs.Bool("overdue", false, "only open cases past their legal or first-answer deadline")
		dueBefore := fs.String("due-before", "", "only open cases whose legal deadline is on or before this date or time (YYYY-MM-DD or RFC 3339)")
		nowFlag := fs.String("now", "", "with --overdue: the time to judge at (RFC 3339; default now)")
		asJSON := fs.Bool("json", false, "print JSON")
		if err := parseFlags(fs, args[1:]); err != nil {
			return err
		}
		f, err := c.deadlineFilter(*status, *overdue, *dueBefore, *nowFlag)
		if err != nil {
			return err
		}
		r, done, err := c.openReader()
		if err != nil {
			return err
		}
		defer done()
		return c.listCases(r, f, *asJSON)
	case "show":
		fs := c.flags("cases show")
		asJSON := fs.Bool("json", false, "print JSON")
		id, err := oneArg(fs, args[1:], "case id", "a case id")
		if err != nil {
			return err
		}
		r, done, err := c.openReader()
		if err != nil {
			return err
		}
		defer done()
		v, err := r.ShowCase(c.ctx, strings.ToUpper(id))
		if err != nil {
			return err
		}
		inZone(&v.Case, c.zone())
		if *asJSON {
			return c.printJSON(v)
		}
		printCase(c.stdout, v)
		return nil
	case "status":
		if len(args) != 3 {
			return usageErr("cases status: want a case id and a status, e.g. cases status CLM-2026-000001 waiting")
		}
		to := strings.ToLower(args[2])
		if !store.IsOpenStatus(to) && !store.IsClosingStatus(to) {
			return usageErr("cases status: %q is not a status (want open, waiting, resolved or rejected)", args[2])
		}
		cs, err := c.setStatus(strings.ToUpper(args[1]), to)
		if err != nil {
			return err
		}
		fmt.Fprintf(c.stdout, "%s is %s\n", cs.ID, cs.Status)
		return nil
	}
	return usageErr("cases: unknown subcommand %q (want list, show or status)", args[0])
}

func (c *cli) messages(args []string) error {
	if len(args) == 0 || args[0] != "list" {
		return usageErr("messages: want list")
	}
	fs := c.flags("messages list")
	unfiled := fs.Bool("unfiled", false, "messages kept without a case (the default)")
	failed := fs.Bool("failed", false, "messages that did not parse (kept raw)")
	asJSON := fs.Bool("json", false, "print JSON")
	if err := parseFlags(fs, args[1:]); err != nil {
		return err
	}
	r, done, err := c.openReader()
	if err != nil {
		return err
	}
	defer done()
	msgs, err := r.ListMessages(c.ctx, store.MessageFilter{Unfiled: *unfiled || !*failed, ParseFailed: *failed})
	if err != nil {
		return err
	}
	if msgs == nil {
		msgs = []store.Message{}
	}
	if *asJSON {
		return c.printJSON(msgs)
	}
	tw := tabwriter.NewWriter(c.stdout, 0, 4, 2, ' ', 0)
	fmt.Fprintln(tw, "SEQ\tRECEIVED\tKIND\tFROM\tSUBJECT\tWHY")
	for _, m := range msgs {
		why := m.ThreadNote
		if m.ParseError != "" {
			why = m.ParseError
		}
		fmt.Fprintf(tw, "%d\t%s\t%s\t%s\t%s\t%s\n", m.Seq, m.ReceivedAt.Format("2006-01-02 15:04"), m.Kind, m.From, clip(m.Subject, 50), clip(why, 60))
	}
	return tw.Flush()
}

func (c *cli) stats(args []string) error {
	fs := c.flags("stats")
	asJSON := fs.Bool("json", false, "print JSON")
	if err := parseFlags(fs, args); err != nil {
		return err
	}
	r, done, err := c.openReader()
	if err != nil {
		return err
	}
	defer done()
	v, err := r.Stats(c.ctx)
	if err != nil {
		return err
	}
	if *asJSON {
		return c.printJSON(v)
	}
	names := make([]string, 0, len(v.Counters))
	for k := range v.Counters {
		names = append(names, k)
	}
	sort.Strings(names)
	for _, k := range names {
		fmt.Fprintf(c.stdout, "%-24s %d\n", k, v.Counters[k])
	}
	if v.Mailbox != nil {
		fmt.Fprintf(c.stdout, "%-24s %v\n%-24s %s\n", "imap_connected", v.Mailbox.Connected, "imap_last_success", v.Mailbox.LastSuccess.Format(time.RFC3339))
		if v.Mailbox.LastError != "" {
			fmt.Fprintf(c.stdout, "%-24s %s\n", "imap_last_error", v.Mailbox.LastError)
		}
	}
	return nil
}

func (c *cli) config(args []string) error {
	if len(args) == 0 {
		return usageErr("config: want check or example")
	}
	switch args[0] {
	case "example":
		_, err := c.stdout.Write(config.Example())
		return err
	case "check":
		if err := parseFlags(c.flags("config check"), args[1:]); err != nil {
			return err
		}
		cfg, err := c.loadConfig()
		if err != nil {
			return err
		}
		// Templates are rendered with sample data when loaded, so a broken
		// override fails here and not when the first complaint arrives.
		tpl, err := templates.Load(cfg.Templates.Dir, cfg.Templates.DefaultLanguage)
		if err != nil {
			return fmt.Errorf("templates (templates.dir %q): %w", cfg.Templates.Dir, err)
		}
		if _, err := newCalendar(cfg); err != nil {
			return err
		}
		if _, err := loadRules(cfg); err != nil {
			return err
		}
		fmt.Fprintf(c.stdout, "%s: ok (templates: %s)\n%s", c.configPath, strings.Join(tpl.Languages(), ", "), cfg)
		return nil
	}
	return usageErr("config: unknown subcommand %q (want check or example)", args[0])
}

// deadlineFilter turns the deadline flags of `cases list` into a filter
// answered from the store's deadline indexes.
func (c *cli) deadlineFilter(status string, overdue bool, dueBefore, nowFlag string) (store.CaseFilter, error) {
	f := store.CaseFilter{Status: status}
	loc := c.zone()
	now := time.Now()
	if nowFlag != "" {
		t, err := time.Parse(time.RFC3339, nowFlag)
		if err != nil {
			return f, usageErr("--now %q: want RFC 3339, e.g. 2026-11-30T08:00:00+01:00", nowFlag)
		}
		now = t
	}
	if overdue {
		// Overdue: the legal due date is over (before today), or the
		// first answer is late.
		f.LegalDueBy = calendar.DateOf(now, loc).AddDays(-1).String()
		f.FirstAnswerDueBy = now
	}
	if dueBefore != "" {
		d, err := calendar.ParseDate(dueBefore)
		if err != nil {
			t, terr := time.Parse(time.RFC3339, dueBefore)
			if terr != nil {
				return f, usageErr("--due-before %q: want YYYY-MM-DD or RFC 3339", dueBefore)
			}
			d = calendar.DateOf(t, loc)
		}
		if f.LegalDueBy == "" || d.String() < f.LegalDueBy {
			f.LegalDueBy = d.String()
		}
	}
	return f, nil
}

// zone is the configured time zone, for showing times to people.
func (c *cli) zone() *time.Location {
	if cfg, err := c.loadConfig(); err == nil && cfg.Location != nil {
		return cfg.Location
	}
	return time.Local
}

// inZone shows a case's times in loc; legal_due is already a date there.
func inZone(cs *store.Case, loc *time.Location) {
	cs.ReceivedAt = cs.ReceivedAt.In(loc)
	cs.CreatedAt = cs.CreatedAt.In(loc)
	cs.LastMessageAt = cs.LastMessageAt.In(loc)
}

// listCases prints the cases of f as r gives them, as a table or as
// JSON, holding one block of the table (or one case) whatever the number
// of cases. A listing that fails part way keeps what it printed, and a
// JSON array stays unclosed then, so that it does not parse as complete.
func (c *cli) listCases(r reader, f store.CaseFilter, asJSON bool) error {
	out := bufio.NewWriterSize(c.stdout, 64<<10)
	var p casePrinter = newCaseTable(out)
	if asJSON {
		p = &caseJSON{w: out}
	}
	loc := c.zone()
	err := r.EachCase(c.ctx, f, func(cs store.Case) error {
		inZone(&cs, loc)
		return p.Add(cs)
	})
	if err == nil {
		err = p.Close()
	}
	if ferr := out.Flush(); err == nil {
		err = ferr
	}
	return err
}

// casePrinter prints a listing of cases as it is read.
type casePrinter interface {
	Add(store.Case) error
	Close() error // after the last case
}

// caseJSON prints cases as the JSON array printJSON makes of a slice of
// them, with the same indentation, one element at a time.
type caseJSON struct {
	w io.Writer
	n int
}

func (j *caseJSON) Add(cs store.Case) error {
	data, err := json.MarshalIndent(cs, "  ", "  ")
	if err != nil {
		return fmt.Errorf("encode case %s: %w", cs.ID, err)
	}
	sep := ",\n  "
	if j.n == 0 {
		sep = "[\n  "
	}
	j.n++
	if _, err := io.WriteString(j.w, sep); err != nil {
		return err
	}
	_, err = j.w.Write(data)
	return err
}

func (j *caseJSON) Close() error {
	end := "\n]\n"
	if j.n == 0 {
		end = "[]\n"
	}
	_, err := io.WriteString(j.w, end)
	return err
}

// caseTableBlock is how many rows caseTable holds before printing them.
const caseTableBlock = 1000

// caseTablePadding is the space between columns.
const caseTablePadding = 2

// caseTable prints cases as the `cases list` table: the columns of
// text/tabwriter (each as wide as its widest cell, plus two spaces). A
// tabwriter holds every row until it is flushed, to size the columns;
// caseTable prints every caseTableBlock rows, sizing the columns by the
// rows so far, so a column only widens, from the block where a wider
// cell first appears. A table of one block is the tabwriter's.
type caseTable struct {
	w      io.Writer
	widths []int      // of each column but the last, in runes, padding included
	rows   [][]string // not yet printed
	line   []byte
}

func newCaseTable(w io.Writer) *caseTable {
	header := []string{"ID", "STATUS", "RECEIVED", "LEGAL DUE", "MSGS", "CUSTOMER", "SUBJECT"}
	return &caseTable{w: w, widths: make([]int, len(header)-1), rows: [][]string{header}}
}

func (t *caseTable) Add(cs store.Case) error {
	due := cs.LegalDue
	if cs.LegalOverdue {
		due += " OVERDUE"
	}
	if cs.FirstAnswerOverdue && cs.FirstAnsweredAt.IsZero() {
		due += " (no first answer)"
	}
	if cs.CustomerUnreachable {
		due += " (unreachable)"
	}
	status := cs.Status
	switch {
	case !cs.PurgedAt.IsZero():
		status += " (purged)"
	case cs.Restricted:
		status += " (restricted)"
	}
	t.rows = append(t.rows, []string{cs.ID, status, cs.ReceivedAt.Format("2006-01-02 15:04"), due,
		strconv.Itoa(cs.Messages), cs.Customer, clip(cs.Subject, 60)})
	if len(t.rows) < caseTableBlock {
		return nil
	}
	return t.print()
}

func (t *caseTable) Close() error { return t.print() }

// print prints the rows held and forgets them.
func (t *caseTable) print() error {
	for _, row := range t.rows {
		for i, cell := range row[:len(t.widths)] {
			t.widths[i] = max(t.widths[i], utf8.RuneCountInString(cell)+caseTablePadding)
		}
	}
	for _, row := range t.rows {
		t.line = t.line[:0]
		for i, cell := range row[:len(t.widths)] {
			t.line = append(t.line, cell...)
			for range t.widths[i] - utf8.RuneCountInString(cell) {
				t.line = append(t.line, ' ')
			}
		}
		t.line = append(append(t.line, row[len(t.widths)]...), '\n')
		if _, err := t.w.Write(t.line); err != nil {
			return err
		}
	}
	t.rows = t.rows[:0]
	return nil
}

// printCases prints cases as `cases list` does.
func printCases(w io.Writer, cases []store.Case) error {
	t := newCaseTable(w)
	for _, cs := range cases {
		if err := t.Add(cs); err != nil {
			return err
		}
	}
	return t.Close()
}

func printCase(w io.Writer, v caseView) {
	fmt.Fprintf(w, "%s  %s\n  customer: %s <%s>\n  subject:  %s\n  received: %s\n  legal answer due: %s\n  language: %s\n  messages: %d\n",
		v.ID, v.Status, v.CustomerName, v.Customer, v.Subject, v.ReceivedAt.Format(time.RFC3339), v.LegalDue, v.Language, len(v.MessageList))
	if v.CustomerUnreachable {
		fmt.Fprintf(w, "  CUSTOMER UNREACHABLE: %s\n", v.UnreachableNote)
	}
	if v.Restricted {
		fmt.Fprintf(w, "  RESTRICTED: the customer's personal data was erased on request (GDPR); what a legal claim needs is kept\n")
	}
	if !v.PurgedAt.IsZero() {
		fmt.Fprintf(w, "  PURGED %s: personal data removed at the end of the retention period\n", v.PurgedAt.Format(time.DateOnly))
	}
	for _, e := range v.Events {
		fmt.Fprintf(w, "  event %s %s: %s\n", e.At.Format("2006-01-02 15:04:05"), e.What, e.Note)
	}
	for _, m := range v.MessageList {
		fmt.Fprintf(w, "\n  --- #%d %s  %s <%s>\n      kind: %s (%s)\n      threaded_by: %s", m.Seq, m.ReceivedAt.Format("2006-01-02 15:04"), m.FromName, m.From, m.Kind, m.KindReason, m.ThreadedBy)
		if m.ThreadNote != "" {
			fmt.Fprintf(w, " (%s)", m.ThreadNote)
		}
		fmt.Fprintf(w, "\n      subject: %s\n", m.Subject)
		if m.Answer != "" {
			fmt.Fprintf(w, "      answer: %s\n", m.Answer)
		}
		for _, a := range m.Attachments {
			fmt.Fprintf(w, "      attachment: %s (%s, %d bytes, sha256 %s)\n", a.Name, a.ContentType, a.Size, a.SHA256[:min(12, len(a.SHA256))])
		}
		if m.ParseError != "" {
			fmt.Fprintf(w, "      parse error: %s\n", m.ParseError)
		}
		for _, line := range strings.Split(strings.TrimSpace(m.Text), "\n") {
			fmt.Fprintf(w, "      | %s\n", line)
		}
	}
}

func clip(s string, n int) string {
	s = strings.Join(strings.Fields(s), " ")
	if r := []rune(s); len(r) > n {
		return string(r[:n-1]) + "…"
	}
	return s
}
