package main

import (
	"bytes"
	"context"
	"embed"
	"fmt"
	"io"
	"log/slog"
	"os"
	"path"
	"path/filepath"
	"sort"
	"strings"
	"sync"
	"time"

	"github.com/claimsd/claimsd/config"
	"github.com/claimsd/claimsd/intake"
	"github.com/claimsd/claimsd/internal/devmail"
	"github.com/claimsd/claimsd/message"
	"github.com/claimsd/claimsd/outbox"
	"github.com/claimsd/claimsd/store"
)

// samples are complaints written for the demo: Polish and English, a
// reply with References, Outlook replies without them ("RE:", "Odp:"), a
// Windows-1250 message, an out-of-office, a bounce and a stranger trying
// to write into someone else's case with a copied tag.
//
//go:embed samples/*.eml
var samples embed.FS

const (
	demoUser     = "reklamacje@sklep.example"
	demoPassword = "demo-password"
	demoPassEnv  = "CLAIMSD_DEMO_IMAP_PASSWORD"
)

func (c *cli) demo(args []string) error {
	fs := c.flags("demo")
	serve := fs.Bool("serve", false, "keep the servers and the daemon running, and print how to connect a mail client")
	verbose := fs.Bool("v", false, "show the daemon's log")
	if err := parseFlags(fs, args); err != nil {
		return err
	}
	level := slog.LevelWarn
	if *verbose {
		level = slog.LevelDebug
	}
	log := slog.New(slog.NewTextHandler(c.stderr, &slog.HandlerOptions{Level: level}))

	dir, err := os.MkdirTemp("", "claimsd-demo-")
	if err != nil {
		return err
	}
	if !*serve {
		defer os.RemoveAll(dir)
	}
	imapSrv, err := devmail.StartIMAP(log, demoUser, demoPassword)
	if err != nil {
		return fmt.Errorf("start demo IMAP server: %w", err)
	}
	defer imapSrv.Close()
	smtpSink, err := devmail.StartSMTPSink(log)
	if err != nil {
		return fmt.Errorf("start demo SMTP sink: %w", err)
	}
	defer smtpSink.Close()

	cfgPath := filepath.Join(dir, "claimsd.yaml")
	cfg, err := writeDemoConfig(cfgPath, dir, imapSrv.Addr, smtpSink.Addr)
	if err != nil {
		return err
	}
	fmt.Fprintf(c.stdout, "claimsd demo\n  IMAP server   %s (in-process, user %s)\n  SMTP sink     %s\n  data dir      %s\n\n", imapSrv.Addr, demoUser, smtpSink.Addr, dir)

	ctx, cancel := context.WithCancel(c.ctx)
	defer cancel()
	names, err := sampleNames()
	if err != nil {
		return err
	}
	// The demo's clock starts just after the last sample was written, so
	// what is due when does not depend on the day the demo runs; later it
	// jumps forward to show reminders, escalation and the digest.
	clock := &demoClock{}
	for _, name := range names {
		raw, err := samples.ReadFile(path.Join("samples", name))
		if err != nil {
			return err
		}
		if t := sampleDate(raw).Add(5 * time.Minute); t.After(clock.now()) {
			clock.set(t)
		}
	}
	d, err := openDaemon(cfg, log, clock.now)
	if err != nil {
		return err
	}
	defer d.Close()
	served := make(chan error, 1)
	go func() { served <- d.serve(ctx) }()

	for _, name := range names {
		raw, err := samples.ReadFile(path.Join("samples", name))
		if err != nil {
			return err
		}
		before := d.intake.Stats()
		if err := imapSrv.Append("INBOX", raw, sampleDate(raw)); err != nil {
			return fmt.Errorf("append %s: %w", name, err)
		}
		fmt.Fprintf(c.stdout, "-> appended %s to INBOX\n", name)
		if err := waitCommitted(ctx, d, before, 10*time.Second); err != nil {
			return fmt.Errorf("%s: %w", name, err)
		}
	}
	fmt.Fprintln(c.stdout)
	if err := printDemoOutcome(c.stdout, d.db); err != nil {
		return err
	}
	if err := waitOutboxDrained(ctx, d.db, 10*time.Second); err != nil {
		return err
	}
	seen := len(smtpSink.Messages())
	printDemoMail(c.stdout, smtpSink.Messages())

	// Time travel: what the deadlines do while nobody answers.
	weekly, err := d.newWeeklyReport()
	if err != nil {
		return err
	}
	if weekly != nil {
		// Starts the weekly report's clock, as a first start does.
		if _, err := weekly.tick(ctx, clock.now()); err != nil {
			return err
		}
	}
	for _, step := range []struct{ at, what string }{
		{"2026-11-26T12:00:00+01:00", "a day later: first-answer reminders and service levels missed"},
		{"2026-12-04T08:30:00+01:00", "a working day before the legal deadlines: escalation and the morning digest"},
		{"2026-12-10T08:30:00+01:00", "the legal deadlines have passed: the digest lists them as overdue"},
	} {
		t, _ := time.Parse(time.RFC3339, step.at)
		clock.set(t)
		ts, _, err := d.scheduler.Tick(t)
		if err != nil {
			return err
		}
		if weekly != nil {
			// The daemon's job sleeps in real time; the demo's clock jumps.
			if _, err := weekly.tick(ctx, t); err != nil {
				return err
			}
		}
		if err := waitOutboxDrained(ctx, d.db, 10*time.Second); err != nil {
			return err
		}
		msgs := smtpSink.Messages()
		fmt.Fprintf(c.stdout, "\n=== %s (%s): %d events, %d digests, %d mails\n", t.In(cfg.Location).Format("Mon 2006-01-02 15:04"), step.what, ts.Events, ts.Digests, len(msgs)-seen)
		for _, m := range msgs[seen:] {
			p, err := message.Parse(bytes.NewReader(m.Data), nil)
			if err != nil {
				continue
			}
			fmt.Fprintf(c.stdout, "  to %-28s %s\n", strings.Join(m.To, ", "), p.Subject)
		}
		seen = len(msgs)
	}
	// The newest digest and the first weekly report, as the supervisor
	// reads them.
	var digest, weeklyMail *message.Parsed
	for _, m := range smtpSink.Messages() {
		p, err := message.Parse(bytes.NewReader(m.Data), nil)
		if err != nil {
			continue
		}
		// The outbox knows why it sent each mail.
		var it store.OutboxItem
		if err := d.db.View(func(tx *store.Tx) (err error) {
			it, _, err = tx.OutboxByMessageID(p.MessageID)
			return err
		}); err != nil {
			return err
		}
		switch {
		case it.Purpose == outbox.PurposeDigest:
			digest = p
		case it.Purpose == outbox.PurposeReport && weeklyMail == nil:
			weeklyMail = p // the first: the week the samples arrived in
		}
	}
	for _, shown := range []struct {
		title string
		p     *message.Parsed
		lines int
	}{{"The last digest", digest, 60}, {"The first weekly report", weeklyMail, 30}} {
		if shown.p == nil {
			continue
		}
		fmt.Fprintf(c.stdout, "\n%s: %s\n", shown.title, shown.p.Subject)
		for _, a := range shown.p.Attachments {
			fmt.Fprintf(c.stdout, "  attachment %s (%s, %d bytes)\n", a.Name, a.ContentType, a.Size)
		}
		lines := strings.Split(strings.TrimSpace(shown.p.Text), "\n")
		for i, l := range lines {
			if i == shown.lines {
				fmt.Fprintf(c.stdout, "  | ... (%d more lines)\n", len(lines)-i)
				break
			}
			fmt.Fprintf(c.stdout, "  | %s\n", l)
		}
	}
	if !*serve {
		cancel()
		return <-served
	}
	fmt.Fprintf(c.stdout, `
Serving until Ctrl-C. Point a mail client at the demo:
  IMAP  %s  user %s  password %s  (plain text, loopback only)
  SMTP  %s  (accepts anything, delivers nowhere)
New mail appended to INBOX is ingested within a second (IDLE). In another shell:
  claimsd --config %s cases list
  claimsd --config %s cases show CLM-2026-000001
  claimsd --config %s outbox list
`, imapSrv.Addr, demoUser, demoPassword, smtpSink.Addr, cfgPath, cfgPath, cfgPath)
	err = <-served
	fmt.Fprintf(c.stdout, "demo data kept in %s\n", dir)
	return err
}

func sampleNames() ([]string, error) {
	entries, err := samples.ReadDir("samples")
	if err != nil {
		return nil, err
	}
	var names []string
	for _, e := range entries {
		names = append(names, e.Name())
	}
	sort.Strings(names)
	return names, nil
}

// writeDemoConfig writes a real configuration file, so that the demo runs
// the same loading and validation as production and the printed CLI
// commands work against it.
func writeDemoConfig(cfgPath, dir, imapAddr, smtpAddr string) (*config.Config, error) {
	imapHost, imapPort, _ := strings.Cut(imapAddr, ":")
	smtpHost, smtpPort, _ := strings.Cut(smtpAddr, ":")
	yaml := fmt.Sprintf(`# Written by claimsd demo.
data_dir: %q
timezone: Europe/Warsaw
case_prefix: CLM
claims_address: %s
imap:
  host: %s
  port: %s
  security: none
  username: %s
  password_file: %q
  mailbox: INBOX
  idle: true
  poll_interval: 5s
smtp:
  host: %s
  port: %s
  security: none
  from: "Dział Reklamacji <%s>"
  verp: true
organization:
  name: "Sklep Przykład sp. z o.o."
  privacy_url: https://sklep.example/prywatnosc
staff:
  - {name: Anna Nowak, email: anna@sklep.example, role: specialist}
  - {name: Piotr Wiśniewski, email: piotr@sklep.example, role: supervisor}
`, dir, demoUser, imapHost, imapPort, demoUser, filepath.Join(dir, "imap-password"), smtpHost, smtpPort, demoUser)
	if err := os.WriteFile(filepath.Join(dir, "imap-password"), []byte(demoPassword+"\n"), 0o600); err != nil {
		return nil, err
	}
	if err := os.WriteFile(cfgPath, []byte(yaml), 0o600); err != nil {
		return nil, err
	}
	cfg, err := config.Load(cfgPath)
	if err != nil {
		return nil, fmt.Errorf("demo configuration: %w", err)
	}
	return cfg, nil
}

// waitCommitted waits until the daemon has taken one more message.
func waitCommitted(ctx context.Context, d *daemon, before intake.Stats, timeout time.Duration) error {
	deadline := time.After(timeout)
	tick := time.NewTicker(20 * time.Millisecond)
	defer tick.Stop()
	for {
		if d.intake.Stats().Seen() > before.Seen() {
			return nil
		}
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-deadline:
			return fmt.Errorf("not ingested within %s", timeout)
		case <-tick.C:
		}
	}
}

func printDemoOutcome(w io.Writer, db *store.DB) error {
	r := storeReader{db: db}
	ctx := context.Background()
	var cases []store.Case
	err := r.EachCase(ctx, store.CaseFilter{}, func(c store.Case) error {
		cases = append(cases, c)
		return nil
	})
	if err != nil {
		return err
	}
	fmt.Fprintf(w, "%d cases:\n", len(cases))
	if err := printCases(w, cases); err != nil {
		return err
	}
	for _, cs := range cases {
		v, err := r.ShowCase(ctx, cs.ID)
		if err != nil {
			return err
		}
		fmt.Fprintf(w, "\n%s %q\n", cs.ID, cs.Subject)
		if cl := cs.Classification; cl != nil {
			// What the classifier decided, and why.
			fmt.Fprintf(w, "  classified: category %s, remedy %s, priority %s, language %s\n", cs.Category, cs.Remedy, cs.Priority, cs.Language)
			fmt.Fprintf(w, "       category because %s\n", clip(cl.Category.Reason, 100))
		}
		for _, m := range v.MessageList {
			fmt.Fprintf(w, "  #%d %-9s %-14s %s", m.Seq, m.Kind, m.ThreadedBy, clip(m.Subject, 50))
			if m.ThreadNote != "" {
				fmt.Fprintf(w, "  (%s)", clip(m.ThreadNote, 70))
			}
			fmt.Fprintln(w)
			for _, a := range m.Attachments {
				fmt.Fprintf(w, "       attachment %s, %s, %d bytes\n", a.Name, a.ContentType, a.Size)
			}
			fmt.Fprintf(w, "       | %s\n", clip(m.Text, 90))
		}
	}
	unfiled, err := r.ListMessages(ctx, store.MessageFilter{Unfiled: true})
	if err != nil {
		return err
	}
	fmt.Fprintf(w, "\nmessages kept without a case: %d\n", len(unfiled))
	for _, m := range unfiled {
		fmt.Fprintf(w, "  #%d %-9s %s (%s: %s)\n", m.Seq, m.Kind, clip(m.Subject, 50), m.KindReason, m.ThreadNote)
	}
	return nil
}

// sampleDate is when a sample "arrived": the Date it was written with, so
// that case ids and threading windows do not depend on the day the demo
// runs.
func sampleDate(raw []byte) time.Time {
	if p, err := message.Parse(bytes.NewReader(raw), nil); err == nil && !p.Date.IsZero() {
		return p.Date
	}
	return time.Now()
}

// waitOutboxDrained waits until the sender has handled every queued mail.
func waitOutboxDrained(ctx context.Context, db *store.DB, timeout time.Duration) error {
	deadline := time.Now().Add(timeout)
	for {
		pending := 0
		err := db.View(func(tx *store.Tx) error {
			items, err := tx.ListOutbox(store.OutboxFilter{})
			for _, it := range items {
				if it.Pending() {
					pending++
				}
			}
			return err
		})
		if err != nil || pending == 0 {
			return err
		}
		if time.Now().After(deadline) {
			return fmt.Errorf("%d mails still in the outbox after %s", pending, timeout)
		}
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-time.After(20 * time.Millisecond):
		}
	}
}

// printDemoMail shows what the SMTP server received: who got what, and
// the first lines of each acknowledgement.
func printDemoMail(w io.Writer, msgs []devmail.SinkMessage) {
	fmt.Fprintf(w, "\nSMTP server received %d mails:\n", len(msgs))
	for _, m := range msgs {
		p, err := message.Parse(bytes.NewReader(m.Data), nil)
		if err != nil {
			fmt.Fprintf(w, "  to %v: unreadable: %v\n", m.To, err)
			continue
		}
		fmt.Fprintf(w, "\n  envelope %s -> %s\n  Subject: %s\n  In-Reply-To: %s\n  Auto-Submitted: %s\n",
			m.From, strings.Join(m.To, ", "), p.Subject, strings.Join(p.InReplyTo, " "), p.Header.Get("Auto-Submitted"))
		lines := strings.Split(strings.TrimSpace(p.Text), "\n")
		for _, l := range lines[:min(len(lines), 8)] {
			fmt.Fprintf(w, "  | %s\n", l)
		}
		if len(lines) > 8 {
			fmt.Fprintf(w, "  | ... (%d more lines)\n", len(lines)-8)
		}
	}
}

// demoClock is the demo's settable clock.
type demoClock struct {
	mu sync.Mutex
	t  time.Time
}

func (c *demoClock) now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.t
}

func (c *demoClock) set(t time.Time) {
	c.mu.Lock()
	c.t = t
	c.mu.Unlock()
}
