package main

// Data protection commands (GDPR; package privacy decides, store applies):
//
//	claimsd gdpr export EMAIL [--out FILE]      everything held about a person, one zip
//	claimsd gdpr erase EMAIL [--dry-run]        erase or restrict it, leaving an audit record
//	claimsd gdpr retention [--dry-run]          purge closed cases past their retention period
//	claimsd gdpr audit                          the audit records of erasures and retention runs
//
// Export and the dry runs work while the daemon runs (over its control
// socket). Erasure and a retention run by hand do not: they end by
// rewriting the database file (store.Compact), which must not be in use,
// and the daemon's components share one open store without a way to pause
// them all. They refuse, saying to stop the daemon first. The daemon runs
// the retention job itself on retention.schedule, without the rewrite.

import (
	"archive/zip"
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"net/url"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/claimsd/claimsd/config"
	"github.com/claimsd/claimsd/privacy"
	"github.com/claimsd/claimsd/store"
	"github.com/robfig/cron/v3"
)

// exportTrailer carries the outcome of an export streamed by the daemon:
// an archive cut short by an error must not pass for a whole one.
const exportTrailer = "X-Claimsd-Export"

// wireRetention schedules the retention job (retention.schedule).
func (d *daemon) wireRetention() error {
	spec := *d.cfg.Retention.Schedule
	if spec == "" {
		return nil
	}
	sched, err := cron.ParseStandard("CRON_TZ=" + d.cfg.Location.String() + " " + spec)
	if err != nil {
		return fmt.Errorf("retention.schedule: %w", err)
	}
	d.background = append(d.background, func(ctx context.Context) error {
		d.runRetention(ctx, sched)
		return nil
	})
	return nil
}

// runRetention purges due personal data at each scheduled time until ctx
// ends. A run missed while the daemon was down is made up by the next
// one: what is due stays due. The daemon shares its store with intake, so
// it cannot rewrite the file: purged bytes stay in freed pages until bbolt
// reuses them (claimsd gdpr retention, run with the daemon stopped, also
// compacts).
func (d *daemon) runRetention(ctx context.Context, sched cron.Schedule) {
	log := d.log.With("component", "retention")
	for {
		wait := time.NewTimer(sched.Next(d.now()).Sub(d.now()))
		select {
		case <-ctx.Done():
			wait.Stop()
			return
		case <-wait.C:
		}
		rep, err := d.db.Retention(store.RetentionOptions{Now: d.now(), Rules: retentionRules(d.cfg), IsStaff: staffOrOwn(d.cfg)})
		if err != nil {
			log.Error("retention run failed; the next run retries", "err", err)
			continue
		}
		if len(rep.Cases)+rep.Unfiled+rep.OtherMail == 0 {
			log.Debug("retention: nothing due")
			continue
		}
		log.Info("retention: personal data purged", "cases", len(rep.Cases), "unfiled_messages", rep.Unfiled,
			"other_mail", rep.OtherMail, "files_removed", rep.Counts.Files, "audit", rep.AuditID)
	}
}

func retentionRules(cfg *config.Config) privacy.Rules {
	return privacy.Rules{Years: cfg.Retention.Years, Location: cfg.Location}
}

// staffOrOwn tells the addresses whose mail stays attributed in a kept
// case: staff and claimsd's own.
func staffOrOwn(cfg *config.Config) func(string) bool {
	return func(addr string) bool {
		_, staff := cfg.IsStaff(addr)
		return staff || cfg.IsOwnAddress(addr)
	}
}

func (c *cli) gdpr(args []string) error {
	if len(args) == 0 {
		return usageErr("gdpr: want export, erase, retention or audit")
	}
	switch args[0] {
	case "export":
		return c.gdprExport(args[1:])
	case "erase":
		return c.gdprErase(args[1:])
	case "retention":
		return c.gdprRetention(args[1:])
	case "audit":
		return c.gdprAudit(args[1:])
	}
	return usageErr("gdpr: unknown subcommand %q (want export, erase, retention or audit)", args[0])
}

// gdprTarget is where a gdpr command runs: the store itself, or the
// running daemon over its socket (db nil).
type gdprTarget struct {
	cfg    *config.Config
	db     *store.DB
	socket string
}

func (g gdprTarget) Close() {
	if g.db != nil {
		g.db.Close()
	}
}

// openGDPR opens the store (for writing when write is set), or finds the
// daemon that holds it. Like openReader, it gives a starting daemon a few
// seconds to answer on its socket.
func (c *cli) openGDPR(write bool) (gdprTarget, error) {
	cfg, err := c.loadConfig()
	if err != nil {
		return gdprTarget{}, err
	}
	g := gdprTarget{cfg: cfg, socket: cfg.SocketPath()}
	if _, err := os.Stat(cfg.DBPath()); err != nil {
		return g, fmt.Errorf("no store in %s yet: run claimsd run first", cfg.DataDir)
	}
	deadline := time.Now().Add(5 * time.Second)
	for {
		if conn, err := net.DialTimeout("unix", g.socket, time.Second); err == nil {
			conn.Close()
			return g, nil
		}
		g.db, err = store.Open(cfg.DataDir, store.Options{ReadOnly: !write, Timeout: 100 * time.Millisecond})
		switch {
		case err == nil:
			return g, nil
		case !errors.Is(err, store.ErrLocked):
			return g, err
		case time.Now().After(deadline):
			return g, fmt.Errorf("%w, and its control socket %s does not answer: is the daemon stuck?", err, g.socket)
		}
		select {
		case <-c.ctx.Done():
			return g, c.ctx.Err()
		case <-time.After(100 * time.Millisecond):
		}
	}
}

// openGDPRAt is openGDPR for writing, for erase and retention, with the
// time they decide at from --now (nowFlag).
func (c *cli) openGDPRAt(now string) (gdprTarget, time.Time, error) {
	at, err := nowFlag(now)
	if err != nil {
		return gdprTarget{}, at, err
	}
	g, err := c.openGDPR(true)
	return g, at, err
}

// errDaemonRunning explains why erasure and retention by hand need the
// daemon stopped.
func errDaemonRunning(cfg *config.Config, what string) error {
	return fmt.Errorf("%s rewrites the database file %s, which the running daemon holds open; "+
		"stop the daemon (systemctl stop claimsd), run this again, then start it (systemctl start claimsd). "+
		"Mail arriving meanwhile waits on the IMAP server. --dry-run works while the daemon runs", what, cfg.DBPath())
}

// subjectArg takes the e-mail address before or after the flags.
func subjectArg(fs *flag.FlagSet, args []string) (string, error) {
	return oneArg(fs, args, "address", "the person's e-mail address, e.g. claimsd "+fs.Name()+" jan.kowalski@example.pl")
}

// nowFlag parses --now (RFC 3339), defaulting to the clock.
func nowFlag(v string) (time.Time, error) {
	if v == "" {
		return time.Now(), nil
	}
	t, err := time.Parse(time.RFC3339, v)
	if err != nil {
		return t, usageErr("--now %q: want RFC 3339, e.g. 2033-01-02T08:00:00+01:00", v)
	}
	return t, nil
}

// checkNotOurs refuses addresses that are not a data subject's: staff
// (employees' data is another matter) and claimsd's own.
func checkNotOurs(cfg *config.Config, addr string) error {
	if s, ok := cfg.IsStaff(addr); ok {
		return fmt.Errorf("%s is a staff address (staff: %s): erasing it would strip every case they answered; an employee's data is not handled by this command", addr, s.Name)
	}
	if cfg.IsOwnAddress(addr) {
		return fmt.Errorf("%s is one of claimsd's own addresses (claims_address, own_addresses, smtp.from)", addr)
	}
	return nil
}

func (c *cli) gdprExport(args []string) error {
	fs := c.flags("gdpr export")
	out := fs.String("out", "", "the archive to write (default gdpr-export-TIME.zip in the current directory)")
	addr, err := subjectArg(fs, args)
	if err != nil {
		return err
	}
	g, err := c.openGDPR(false)
	if err != nil {
		return err
	}
	defer g.Close()
	path := *out
	if path == "" {
		path = "gdpr-export-" + time.Now().Format("20060102-150405") + ".zip"
	}
	if err := checkOutside(path, g.cfg.DataDir); err != nil {
		return err
	}
	if _, err := os.Stat(path); err == nil {
		return usageErr("--out %s exists; choose another name (an export is never overwritten)", path)
	}
	var idx exportIndex
	err = writeFileAtomically(path, func(w io.Writer) error {
		if g.db != nil {
			s, err := g.db.Subject(addr)
			if err != nil {
				return err
			}
			idx, err = writeExport(w, g.db, s, time.Now(), g.cfg)
			return err
		}
		idx, err = g.exportFromDaemon(c.ctx, addr, w)
		return err
	})
	if err != nil {
		return fmt.Errorf("gdpr export: %w", err)
	}
	fmt.Fprintf(c.stdout, "%s: %d cases, %d messages, %d attachments, %d mails sent, %d other records naming the address (listed, not included); %d files\n",
		path, len(idx.Cases), len(idx.Messages), idx.attachments(), len(idx.Outbox), len(idx.Mentions), len(idx.Files))
	return nil
}

// checkOutside refuses to write an export into the data directory: it
// would become part of the store's data (and of its backups) and outlive
// an erasure.
func checkOutside(path, dataDir string) error {
	abs, err := filepath.Abs(path)
	if err != nil {
		return err
	}
	data, err := filepath.Abs(dataDir)
	if err != nil {
		return err
	}
	if rel, err := filepath.Rel(data, abs); err == nil && rel != ".." && !strings.HasPrefix(rel, ".."+string(filepath.Separator)) {
		return usageErr("--out %s is inside data_dir %s: the archive would become part of the store's data and its backups; write it elsewhere", path, dataDir)
	}
	return nil
}

// exportFromDaemon receives the archive the daemon writes and the index
// in its trailer.
func (g gdprTarget) exportFromDaemon(ctx context.Context, addr string, w io.Writer) (exportIndex, error) {
	var out struct {
		Index exportIndex `json:"index"`
		Error string      `json:"error"`
	}
	err := streamFromDaemon(ctx, g.socket, "/v1/gdpr/export?"+url.Values{"email": {addr}}.Encode(), exportTrailer, "export", w, &out)
	if err != nil {
		return exportIndex{}, err
	}
	if out.Error != "" {
		return exportIndex{}, fmt.Errorf("the daemon: %s", out.Error)
	}
	return out.Index, nil
}

func (c *cli) gdprErase(args []string) error {
	fs := c.flags("gdpr erase")
	dry := fs.Bool("dry-run", false, "say what would be erased, restricted and kept; change nothing")
	now := fs.String("now", "", "the time to decide at (RFC 3339; default now)")
	asJSON := fs.Bool("json", false, "print JSON")
	addr, err := subjectArg(fs, args)
	if err != nil {
		return err
	}
	g, at, err := c.openGDPRAt(*now)
	if err != nil {
		return err
	}
	defer g.Close()
	if err := checkNotOurs(g.cfg, addr); err != nil {
		return fmt.Errorf("gdpr erase: %w", err)
	}
	var rep *store.ErasureReport
	switch {
	case g.db != nil:
		rep, err = g.db.Erase(addr, store.EraseOptions{Now: at, Rules: retentionRules(g.cfg), IsStaff: staffOrOwn(g.cfg), DryRun: *dry, Compact: !*dry})
	case *dry:
		rep = &store.ErasureReport{}
		err = askLong(c.ctx, g.socket, "/v1/gdpr/erase?"+url.Values{"email": {addr}, "now": {at.Format(time.RFC3339)}}.Encode(), rep)
	default:
		return fmt.Errorf("gdpr erase: %w", errDaemonRunning(g.cfg, "erasure"))
	}
	var open *store.OpenCasesError
	if err != nil && !errors.As(err, &open) {
		return fmt.Errorf("gdpr erase: %w", err)
	}
	if open == nil {
		// The daemon answers a dry run with the report alone.
		var held []store.CaseErasure
		for _, cs := range rep.Cases {
			if cs.Treatment == privacy.Hold.String() {
				held = append(held, cs)
			}
		}
		if len(held) > 0 {
			open = &store.OpenCasesError{Cases: held}
			err = open
		}
	}
	if *asJSON {
		if perr := c.printJSON(rep); perr != nil {
			return perr
		}
	} else {
		printErasure(c.stdout, rep, g.cfg)
	}
	if open != nil {
		return fmt.Errorf("gdpr erase: %w; close them first (claimsd cases status ID resolved|rejected), then erase", err)
	}
	return nil
}

func (c *cli) gdprRetention(args []string) error {
	fs := c.flags("gdpr retention")
	dry := fs.Bool("dry-run", false, "list what is due; change nothing")
	now := fs.String("now", "", "the time to judge at (RFC 3339; default now)")
	asJSON := fs.Bool("json", false, "print JSON")
	if err := parseFlags(fs, args); err != nil {
		return err
	}
	if fs.NArg() > 0 {
		return usageErr("gdpr retention: no arguments, got %q", fs.Arg(0))
	}
	g, at, err := c.openGDPRAt(*now)
	if err != nil {
		return err
	}
	defer g.Close()
	var rep *store.RetentionReport
	switch {
	case g.db != nil:
		rep, err = g.db.Retention(store.RetentionOptions{Now: at, Rules: retentionRules(g.cfg), IsStaff: staffOrOwn(g.cfg), DryRun: *dry, Compact: !*dry})
	case *dry:
		rep = &store.RetentionReport{}
		err = askLong(c.ctx, g.socket, "/v1/gdpr/retention?"+url.Values{"now": {at.Format(time.RFC3339)}}.Encode(), rep)
	default:
		return fmt.Errorf("gdpr retention: the daemon runs this job itself on retention.schedule; by hand, %w", errDaemonRunning(g.cfg, "it"))
	}
	if err != nil {
		return fmt.Errorf("gdpr retention: %w", err)
	}
	if *asJSON {
		return c.printJSON(rep)
	}
	printRetention(c.stdout, rep, g.cfg)
	return nil
}

func (c *cli) gdprAudit(args []string) error {
	fs := c.flags("gdpr audit")
	asJSON := fs.Bool("json", false, "print JSON")
	if err := parseFlags(fs, args); err != nil {
		return err
	}
	g, err := c.openGDPR(false)
	if err != nil {
		return err
	}
	defer g.Close()
	var log []store.AuditRecord
	if g.db != nil {
		err = g.db.View(func(tx *store.Tx) error {
			log, err = tx.AuditLog()
			return err
		})
	} else {
		err = askLong(c.ctx, g.socket, "/v1/gdpr/audit", &log)
	}
	if err != nil {
		return fmt.Errorf("gdpr audit: %w", err)
	}
	if log == nil {
		log = []store.AuditRecord{}
	}
	if *asJSON {
		return c.printJSON(log)
	}
	tw := tabwriter.NewWriter(c.stdout, 0, 4, 2, ' ', 0)
	fmt.Fprintln(tw, "ID\tAT\tACTION\tSUBJECT\tRESTRICTED\tANONYMISED\tMESSAGES\tFILES")
	for _, r := range log {
		subject := "-"
		if r.SubjectHash != "" {
			subject = r.SubjectHash[:16] + "…"
		}
		fmt.Fprintf(tw, "%d\t%s\t%s\t%s\t%d\t%d\t%d\t%d\n", r.ID, r.At.In(g.cfg.Location).Format("2006-01-02 15:04"), r.Action, subject,
			len(r.Restricted), len(r.Anonymised), r.Counts.Messages+r.Counts.MessagesRedacted, r.Counts.Files)
	}
	return tw.Flush()
}

func printErasure(w io.Writer, rep *store.ErasureReport, cfg *config.Config) {
	verb := func(done, would string) string {
		if rep.DryRun {
			return would
		}
		return done
	}
	head := verb("erasure done", "erasure planned (dry run)")
	if !rep.DryRun && rep.AuditID == 0 {
		head = "erasure refused; nothing was changed. It would do this"
	}
	if rep.SubjectHash != "" {
		head += fmt.Sprintf(" for subject %s… (a keyed hash; the address itself is not recorded)", rep.SubjectHash[:16])
	}
	fmt.Fprintln(w, head)
	for _, e := range rep.Earlier {
		fmt.Fprintf(w, "  erased before: %s (audit %d)\n", e.At.In(cfg.Location).Format("2006-01-02 15:04"), e.ID)
	}
	if len(rep.Cases) == 0 {
		fmt.Fprintln(w, "  no cases with this customer")
	}
	tw := tabwriter.NewWriter(w, 0, 4, 2, ' ', 0)
	for _, cs := range rep.Cases {
		state := cs.Status
		if !cs.ClosedAt.IsZero() {
			state += ", closed " + cs.ClosedAt.In(cfg.Location).Format(time.DateOnly)
		}
		fmt.Fprintf(tw, "  %s\t%s\t%s: %s\n", cs.ID, state, cs.Treatment, cs.Why)
	}
	tw.Flush()
	n := rep.Counts
	fmt.Fprintf(w, "  messages: %d %s of personal data, %d of other people's %s (the address and name replaced)\n",
		n.Messages, verb("stripped", "to strip"), n.MessagesRedacted, verb("redacted", "to redact"))
	fmt.Fprintf(w, "  outgoing mail: %d %s of bodies (%d still queued, %s), %d naming the person %s\n",
		n.Outbox, verb("stripped", "to strip"), n.OutboxCancelled, verb("cancelled", "to cancel"), n.OutboxRedacted, verb("redacted", "to redact"))
	if n.CasesRedacted > 0 {
		fmt.Fprintf(w, "  other cases whose notes named the person: %d\n", n.CasesRedacted)
	}
	fmt.Fprintf(w, "  index entries derived from the address %s: %d; raw messages %s from the database: %d\n",
		verb("removed", "to remove"), n.IndexKeys, verb("removed", "to remove"), n.RawInline)
	fmt.Fprintf(w, "  files %s: %d; kept because other mail refers to them: %d\n", verb("deleted", "to delete"), n.Files, n.FilesShared)
	if c := rep.Compaction; c != nil {
		fmt.Fprintf(w, "  database rewritten: %s -> %s; the old file was overwritten and removed\n", byteSize(c.Before), byteSize(c.After))
	}
	if rep.AuditID != 0 {
		fmt.Fprintf(w, "  audit record %d\n", rep.AuditID)
	}
	if len(rep.StillOnServer) > 0 {
		fmt.Fprintf(w, "still on the IMAP server (claimsd never deletes mail there; delete these with a mail client or the server's tools):\n")
		for _, s := range rep.StillOnServer {
			fmt.Fprintf(w, "  %s uidvalidity %d uid %d\n", s.Mailbox, s.UIDValidity, s.UID)
		}
		if cfg.IMAP.MoveTo != "" {
			fmt.Fprintf(w, "  (processed mail was moved to %s: look there, the UIDs above are from the folder it was read from)\n", cfg.IMAP.MoveTo)
		}
	}
}

func printRetention(w io.Writer, rep *store.RetentionReport, cfg *config.Config) {
	verb := "purged"
	if rep.DryRun {
		verb = "due (dry run)"
	}
	fmt.Fprintf(w, "retention (retention.years %d): %d cases %s, %d messages outside cases, %d mails outside cases\n",
		cfg.Retention.Years, len(rep.Cases), verb, rep.Unfiled, rep.OtherMail)
	for _, cs := range rep.Cases {
		fmt.Fprintf(w, "  %s  closed %s, due %s\n", cs.ID, cs.ClosedAt.In(cfg.Location).Format(time.DateOnly), cs.PurgeAt.In(cfg.Location).Format(time.DateOnly))
	}
	n := rep.Counts
	fmt.Fprintf(w, "  messages stripped %d, mails stripped %d (cancelled %d), raw messages removed from the database %d, files deleted %d (kept, shared: %d)\n",
		n.Messages, n.Outbox, n.OutboxCancelled, n.RawInline, n.Files, n.FilesShared)
	if c := rep.Compaction; c != nil {
		fmt.Fprintf(w, "  database rewritten: %s -> %s\n", byteSize(c.Before), byteSize(c.After))
	}
	if rep.AuditID != 0 {
		fmt.Fprintf(w, "  audit record %d\n", rep.AuditID)
	}
}

// registerGDPR adds the daemon's data protection routes: the export
// (streamed, outcome in a trailer) and the dry runs, which run in a
// transaction that is rolled back.
func registerGDPR(mux *http.ServeMux, r storeReader, log *slog.Logger) {
	log = log.With("component", "gdpr")
	replyJSON := func(w http.ResponseWriter, v any, err error) {
		var bad *store.OpenCasesError
		switch {
		case err == nil, errors.As(err, &bad):
			w.Header().Set("Content-Type", "application/json")
			json.NewEncoder(w).Encode(v)
		default:
			log.Error("gdpr request failed", "err", err)
			http.Error(w, err.Error(), http.StatusInternalServerError)
		}
	}
	// dryRun serves a dry run decided at the query's now (RFC 3339),
	// else at the daemon's clock.
	dryRun := func(run func(req *http.Request, now time.Time) (any, error)) http.HandlerFunc {
		return func(w http.ResponseWriter, req *http.Request) {
			now := r.daemon.now()
			if v := req.URL.Query().Get("now"); v != "" {
				var err error
				if now, err = time.Parse(time.RFC3339, v); err != nil {
					http.Error(w, "bad now", http.StatusBadRequest)
					return
				}
			}
			v, err := run(req, now)
			replyJSON(w, v, err)
		}
	}
	mux.HandleFunc("GET /v1/gdpr/export", func(w http.ResponseWriter, req *http.Request) {
		s, err := r.db.Subject(req.URL.Query().Get("email"))
		if err != nil {
			http.Error(w, err.Error(), http.StatusBadRequest)
			return
		}
		w.Header().Set("Content-Type", "application/zip")
		w.Header().Set("Trailer", exportTrailer)
		var out struct {
			Index exportIndex `json:"index"`
			Error string      `json:"error,omitempty"`
		}
		out.Index, err = writeExport(w, r.db, s, r.daemon.now(), r.daemon.cfg)
		if err != nil {
			out.Error = err.Error()
			log.Error("export failed", "err", err)
		} else {
			// The count, never the address: logs are no place for it.
			log.Info("export sent", "cases", len(out.Index.Cases), "messages", len(out.Index.Messages))
		}
		data, _ := json.Marshal(out)
		w.Header().Set(exportTrailer, string(data))
	})
	mux.HandleFunc("GET /v1/gdpr/erase", dryRun(func(req *http.Request, now time.Time) (any, error) {
		cfg := r.daemon.cfg
		return r.db.Erase(req.URL.Query().Get("email"), store.EraseOptions{Now: now, Rules: retentionRules(cfg), IsStaff: staffOrOwn(cfg), DryRun: true})
	}))
	mux.HandleFunc("GET /v1/gdpr/retention", dryRun(func(_ *http.Request, now time.Time) (any, error) {
		cfg := r.daemon.cfg
		return r.db.Retention(store.RetentionOptions{Now: now, Rules: retentionRules(cfg), IsStaff: staffOrOwn(cfg), DryRun: true})
	}))
	mux.HandleFunc("GET /v1/gdpr/audit", func(w http.ResponseWriter, req *http.Request) {
		var log []store.AuditRecord
		err := r.db.View(func(tx *store.Tx) (err error) {
			log, err = tx.AuditLog()
			return err
		})
		replyJSON(w, log, err)
	})
}

// exportIndex is index.json of an export: what the archive holds, for
// machines.
type exportIndex struct {
	Format      string    `json:"format"`
	GeneratedAt time.Time `json:"generated_at"`
	Address     string    `json:"address"`
	// Pseudonym is what the person's restricted cases carry since an
	// earlier erasure.
	Pseudonym string          `json:"pseudonym,omitempty"`
	Names     []string        `json:"names"`
	Retention string          `json:"retention"`
	Cases     []exportCase    `json:"cases"`
	Messages  []exportMessage `json:"messages"`
	Outbox    []exportMail    `json:"outbox"`
	Events    []exportEvent   `json:"events"`
	// Mentions are records that name the address but belong to other
	// people: listed, their content left out (GDPR art. 15(4)).
	Mentions []exportMention     `json:"mentions"`
	Erasures []store.AuditRecord `json:"erasures,omitempty"`
	Files    []string            `json:"files"`
}

func (x exportIndex) attachments() int {
	n := 0
	for _, m := range x.Messages {
		n += len(m.Attachments)
	}
	return n
}

type exportCase struct {
	ID         string    `json:"id"`
	Status     string    `json:"status"`
	Restricted bool      `json:"restricted,omitempty"`
	Purged     bool      `json:"purged,omitempty"`
	ReceivedAt time.Time `json:"received_at"`
	ClosedAt   time.Time `json:"closed_at,omitzero"`
	Subject    string    `json:"subject"`
	Category   string    `json:"category,omitempty"`
	Decision   string    `json:"decision,omitempty"`
	Record     string    `json:"record"`
}

type exportMessage struct {
	Seq         uint64       `json:"seq"`
	CaseID      string       `json:"case_id,omitempty"`
	Role        string       `json:"role"`
	ReceivedAt  time.Time    `json:"received_at"`
	From        string       `json:"from"`
	Subject     string       `json:"subject"`
	Record      string       `json:"record"`
	Text        string       `json:"text"`
	Raw         string       `json:"raw,omitempty"`
	RawMissing  string       `json:"raw_missing,omitempty"`
	Attachments []exportFile `json:"attachments,omitempty"`
}

type exportFile struct {
	Name        string `json:"name"`
	ContentType string `json:"content_type"`
	Size        int64  `json:"size"`
	SHA256      string `json:"sha256"`
	Path        string `json:"path,omitempty"`
	Missing     string `json:"missing,omitempty"`
}

type exportMail struct {
	ID      uint64    `json:"id"`
	CaseID  string    `json:"case_id,omitempty"`
	Role    string    `json:"role"`
	Purpose string    `json:"purpose"`
	Status  string    `json:"status"`
	To      string    `json:"to"`
	Subject string    `json:"subject"`
	Date    time.Time `json:"date"`
	Record  string    `json:"record"`
	Text    string    `json:"text,omitempty"`
	HTML    string    `json:"html,omitempty"`
}

type exportEvent struct {
	CaseID string    `json:"case_id"`
	At     time.Time `json:"at"`
	What   string    `json:"what"`
	Note   string    `json:"note,omitempty"`
}

type exportMention struct {
	Kind   string    `json:"kind"` // message | outbox | case
	ID     string    `json:"id"`
	CaseID string    `json:"case_id,omitempty"`
	At     time.Time `json:"at,omitzero"`
}

// exportWriter writes the archive's entries and remembers their names.
type exportWriter struct {
	zw    *zip.Writer
	at    time.Time
	files []string
}

func (x *exportWriter) create(name string) (io.Writer, error) {
	x.files = append(x.files, name)
	return x.zw.CreateHeader(&zip.FileHeader{Name: name, Method: zip.Deflate, Modified: x.at})
}

func (x *exportWriter) bytes(name string, data []byte) error {
	w, err := x.create(name)
	if err == nil {
		_, err = w.Write(data)
	}
	return err
}

func (x *exportWriter) json(name string, v any) error {
	data, err := json.MarshalIndent(v, "", "  ")
	if err != nil {
		return err
	}
	return x.bytes(name, append(data, '\n'))
}

func (x *exportWriter) copy(name string, r io.Reader) error {
	w, err := x.create(name)
	if err == nil {
		_, err = io.Copy(w, r)
	}
	return err
}

// writeExport writes everything held about s as a zip to w: index.json,
// summary.txt, and per record its stored form (JSON), its text, the raw
// message as received (.eml) and the attachments.
func writeExport(w io.Writer, db *store.DB, s *store.Subject, now time.Time, cfg *config.Config) (exportIndex, error) {
	x := &exportWriter{zw: zip.NewWriter(w), at: now}
	idx := exportIndex{Format: "claimsd-gdpr-export/1", GeneratedAt: now, Address: s.Address, Pseudonym: s.Pseudonym,
		Names: s.Names, Erasures: s.Erasures, Cases: []exportCase{}, Messages: []exportMessage{}, Outbox: []exportMail{},
		Events: []exportEvent{}, Mentions: []exportMention{},
		Retention: fmt.Sprintf("raw messages, attachments and texts of a case are kept until 1 January after %d years from the end of the year it was closed in (invoices: %d tax years), then removed; figures stay", cfg.Retention.Years, privacy.InvoiceYears)}
	if idx.Names == nil {
		idx.Names = []string{}
	}
	for _, c := range s.Cases {
		rec := "cases/" + c.ID + ".json"
		if err := x.json(rec, c); err != nil {
			return idx, err
		}
		idx.Cases = append(idx.Cases, exportCase{ID: c.ID, Status: c.Status, Restricted: c.Restricted, Purged: !c.PurgedAt.IsZero(),
			ReceivedAt: c.ReceivedAt, ClosedAt: c.ClosedAt, Subject: c.Subject, Category: c.Category, Decision: c.Decision, Record: rec})
		for _, e := range c.Events {
			idx.Events = append(idx.Events, exportEvent{CaseID: c.ID, At: e.At, What: e.What, Note: e.Note})
		}
	}
	for _, m := range s.Messages {
		if m.Role == store.RoleMentioned {
			idx.Mentions = append(idx.Mentions, exportMention{Kind: "message", ID: strconv.FormatUint(m.Seq, 10), CaseID: m.CaseID, At: m.ReceivedAt})
			continue
		}
		e, err := exportMessageFiles(x, db, m)
		if err != nil {
			return idx, err
		}
		idx.Messages = append(idx.Messages, e)
	}
	for _, it := range s.Outbox {
		if it.Role == store.RoleMentioned {
			idx.Mentions = append(idx.Mentions, exportMention{Kind: "outbox", ID: strconv.FormatUint(it.ID, 10), CaseID: it.CaseID, At: it.QueuedAt})
			continue
		}
		base := fmt.Sprintf("outbox/%06d", it.ID)
		e := exportMail{ID: it.ID, CaseID: it.CaseID, Role: it.Role, Purpose: it.Purpose, Status: it.Status, To: it.To.Addr,
			Subject: it.Subject, Date: it.Date, Record: base + ".json"}
		if err := x.json(e.Record, it.OutboxItem); err != nil {
			return idx, err
		}
		if it.Text != "" {
			e.Text = base + ".txt"
			if err := x.bytes(e.Text, []byte(it.Text)); err != nil {
				return idx, err
			}
		}
		if it.HTML != "" {
			e.HTML = base + ".html"
			if err := x.bytes(e.HTML, []byte(it.HTML)); err != nil {
				return idx, err
			}
		}
		idx.Outbox = append(idx.Outbox, e)
	}
	for _, id := range s.MentionedIn {
		idx.Mentions = append(idx.Mentions, exportMention{Kind: "case", ID: id})
	}
	idx.Files = append(slices.Clone(x.files), "index.json", "summary.txt")
	if err := x.bytes("summary.txt", []byte(exportSummary(idx, cfg))); err != nil {
		return idx, err
	}
	if err := x.json("index.json", idx); err != nil {
		return idx, err
	}
	return idx, x.zw.Close()
}

func exportMessageFiles(x *exportWriter, db *store.DB, m store.SubjectMessage) (exportMessage, error) {
	base := fmt.Sprintf("messages/%06d", m.Seq)
	e := exportMessage{Seq: m.Seq, CaseID: m.CaseID, Role: m.Role, ReceivedAt: m.ReceivedAt, From: m.From, Subject: m.Subject,
		Record: base + ".json", Text: base + ".txt"}
	if err := x.json(e.Record, m.Message); err != nil {
		return e, err
	}
	text := m.Text
	if m.Quoted != "" {
		text += "\n\n" + m.Quoted
	}
	if err := x.bytes(e.Text, []byte(text)); err != nil {
		return e, err
	}
	raw, err := db.RawMessage(m.Message)
	switch {
	case err == nil:
		e.Raw = base + ".eml"
		err = x.copy(e.Raw, raw)
		raw.Close()
		if err != nil {
			return e, err
		}
	case errors.Is(err, store.ErrNotFound) && m.Redacted != "":
		e.RawMissing = "removed (" + m.Redacted + ")"
	case errors.Is(err, store.ErrNotFound):
		e.RawMissing = "missing from the store"
	default:
		return e, err
	}
	for i, a := range m.Attachments {
		f := exportFile{Name: a.Name, ContentType: a.ContentType, Size: a.Size, SHA256: a.SHA256}
		file, err := os.Open(db.Attachments().Path(a.SHA256))
		if err != nil {
			// Attachment files are a cache of the raw message, which
			// the archive holds.
			f.Missing = "file missing; it is inside the raw message"
			e.Attachments = append(e.Attachments, f)
			continue
		}
		f.Path = fmt.Sprintf("attachments/%06d-%d-%s", m.Seq, i+1, safeName(a.Name))
		err = x.copy(f.Path, file)
		file.Close()
		if err != nil {
			return e, err
		}
		e.Attachments = append(e.Attachments, f)
	}
	return e, nil
}

// safeName keeps a file name readable and harmless inside an archive.
func safeName(name string) string {
	var b strings.Builder
	for _, r := range name {
		switch {
		case r >= 'a' && r <= 'z', r >= 'A' && r <= 'Z', r >= '0' && r <= '9', r == '.', r == '-', r == '_':
			b.WriteRune(r)
		default:
			b.WriteByte('_')
		}
	}
	s := strings.Trim(b.String(), ".")
	if s == "" {
		s = "attachment"
	}
	if len(s) > 80 {
		s = s[len(s)-80:]
	}
	return s
}

// exportSummary is summary.txt: the archive for a person to read.
func exportSummary(idx exportIndex, cfg *config.Config) string {
	var b strings.Builder
	org := cfg.Organization.Name
	if org == "" {
		org = "the claims desk"
	}
	loc := cfg.Location
	fmt.Fprintf(&b, "Personal data held by %s about %s\nExported %s\n\n", org, idx.Address, idx.GeneratedAt.In(loc).Format("2006-01-02 15:04 MST"))
	if len(idx.Names) > 0 {
		fmt.Fprintf(&b, "Names used with this address: %s\n\n", strings.Join(idx.Names, ", "))
	}
	fmt.Fprintf(&b, "Cases (%d):\n", len(idx.Cases))
	for _, c := range idx.Cases {
		state := c.Status
		switch {
		case c.Purged:
			state += ", personal data removed at the end of its retention period"
		case c.Restricted:
			state += ", restricted after an erasure request: kept only for legal claims"
		}
		closed := ""
		if !c.ClosedAt.IsZero() {
			closed = ", closed " + c.ClosedAt.In(loc).Format(time.DateOnly)
		}
		fmt.Fprintf(&b, "  %s  received %s%s  %s  %q\n", c.ID, c.ReceivedAt.In(loc).Format(time.DateOnly), closed, state, c.Subject)
	}
	roles := map[string]int{}
	for _, m := range idx.Messages {
		roles[m.Role]++
	}
	fmt.Fprintf(&b, "\nMessages (%d): %d in these cases, %d written by you in other cases or outside cases, %d sent or copied to you in other cases\n",
		len(idx.Messages), roles[store.RoleCustomer], roles[store.RoleAuthor], roles[store.RoleRecipient])
	fmt.Fprintf(&b, "Attachments: %d\nMail we sent or queued about these cases or to you: %d\n", idx.attachments(), len(idx.Outbox))
	if len(idx.Mentions) > 0 {
		fmt.Fprintf(&b, "Other records naming your address: %d, listed in index.json without their content, which belongs to other people.\n", len(idx.Mentions))
	}
	for _, e := range idx.Erasures {
		fmt.Fprintf(&b, "Erasure carried out on %s.\n", e.At.In(loc).Format(time.DateOnly))
	}
	fmt.Fprintf(&b, "\nHow long it is kept: %s.\n", idx.Retention)
	b.WriteString("\nIn this archive: index.json (everything, machine-readable); cases/ (each case as stored, with its history);\n" +
		"messages/ (.eml as received, .txt the text as read, .json as stored); attachments/; outbox/ (mail we sent).\n")
	return b.String()
}
