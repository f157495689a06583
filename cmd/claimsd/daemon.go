package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/mail"
	"os"
	"slices"
	"strings"
	"time"

	"github.com/claimsd/claimsd/calendar"
	"github.com/claimsd/claimsd/caseref"
	"github.com/claimsd/claimsd/classifier"
	"github.com/claimsd/claimsd/config"
	"github.com/claimsd/claimsd/deadline"
	"github.com/claimsd/claimsd/intake"
	"github.com/claimsd/claimsd/mailbox"
	"github.com/claimsd/claimsd/message"
	"github.com/claimsd/claimsd/outbox"
	"github.com/claimsd/claimsd/staff"
	"github.com/claimsd/claimsd/store"
	"github.com/claimsd/claimsd/templates"
	"github.com/emersion/go-imap/v2"
	"github.com/robfig/cron/v3"
)

// daemon is the wired claims desk: store, intake pipeline, mailbox
// watcher, and the outbox's sender.
type daemon struct {
	cfg     *config.Config
	log     *slog.Logger
	db      *store.DB
	intake  *intake.Intake
	watcher *mailbox.Watcher
	// sentWatcher reads the Sent folder when specialists answer from the
	// shared mailbox (answering.shared_mailbox); nil otherwise.
	sentWatcher *mailbox.Watcher
	// sender is nil when smtp.host is empty: mail then waits in the
	// outbox.
	sender    *outbox.Sender
	scheduler *deadline.Scheduler
	// learner classifies new cases and learns from corrections and from
	// `classifier train`.
	learner *classifier.Learner
	policy  deadline.Policy
	now     func() time.Time
	// background are further jobs serve runs beside the watcher (metrics,
	// weekly report, retention); each returns when ctx ends.
	background []func(context.Context) error
	// healthChecks are run by /healthz; each error names what fails.
	healthChecks []func(now time.Time) error
}

// addressBook answers the classifier's who-is-who from the configuration.
type addressBook struct{ cfg *config.Config }

func (a addressBook) IsStaff(addr string) bool { _, ok := a.cfg.IsStaff(addr); return ok }
func (a addressBook) IsOwn(addr string) bool   { return a.cfg.IsOwnAddress(addr) }

func newLogger(c config.Log, w io.Writer) *slog.Logger {
	var level slog.Level
	if err := level.UnmarshalText([]byte(c.Level)); err != nil {
		level = slog.LevelInfo
	}
	opts := &slog.HandlerOptions{Level: level}
	if c.Format == "json" {
		return slog.New(slog.NewJSONHandler(w, opts))
	}
	return slog.New(slog.NewTextHandler(w, opts))
}

// mailboxOptions are the watcher's options; tokens, for imap.auth
// xoauth2, gives the access tokens it logs in with.
func mailboxOptions(c config.IMAP, tokens mailbox.TokenSource) mailbox.Options {
	return mailbox.Options{
		Host:               c.Host,
		Port:               c.Port,
		Security:           mailbox.Security(c.Security),
		InsecureSkipVerify: c.TLSInsecureSkipVerify,
		Username:           c.Username,
		Password:           c.Password,
		Tokens:             tokens,
		Mailbox:            c.Mailbox,
		IDLE:               c.UseIDLE(),
		PollInterval:       c.PollInterval.Duration,
		ProcessedKeyword:   c.ProcessedKeyword,
		MoveTo:             c.MoveTo,
	}
}

// openDaemon opens the store and wires intake to the mailbox. now is the
// clock.
func openDaemon(cfg *config.Config, log *slog.Logger, now func() time.Time) (*daemon, error) {
	db, err := store.Open(cfg.DataDir, store.Options{})
	if errors.Is(err, store.ErrLocked) {
		return nil, fmt.Errorf("%w: is claimsd already running with data_dir %s?", err, cfg.DataDir)
	}
	if err != nil {
		return nil, err
	}
	cal, err := newCalendar(cfg)
	if err != nil {
		db.Close()
		return nil, err
	}
	tpl, err := templates.Load(cfg.Templates.Dir, cfg.Templates.DefaultLanguage)
	if err != nil {
		db.Close()
		return nil, fmt.Errorf("templates (templates.dir, templates.default_language): %w", err)
	}
	policy, err := newPolicy(cfg, cal)
	if err != nil {
		db.Close()
		return nil, err
	}
	if err := fillDeadlines(db, policy, now(), log); err != nil {
		db.Close()
		return nil, err
	}
	learner, err := newLearner(cfg, db)
	if err != nil {
		db.Close()
		return nil, err
	}
	sentFolder, err := findSentFolder(cfg, log)
	if err != nil {
		db.Close()
		return nil, err
	}
	from := senderAddress(cfg)
	ids := caseref.MessageIDs{Key: db.MessageIDKey(), Domain: domainOf(cfg.ClaimsAddress)}
	resp := outbox.NewResponder(outbox.Settings{
		Acknowledge:  cfg.AutoMail.UseAcknowledge(),
		From:         from,
		VERP:         cfg.SMTP.VERP,
		Key:          db.MessageIDKey(),
		IDs:          ids,
		Location:     cfg.Location,
		Templates:    tpl,
		Organization: cfg.Organization.Name,
		PrivacyURL:   cfg.Organization.PrivacyURL,
		AnswerDays:   cfg.Deadlines.DaysFor,
		Limits: outbox.Limits{
			MaxPerRecipient: cfg.AutoMail.MaxPerRecipient,
			MaxPerCase:      cfg.AutoMail.MaxPerCase,
			Window:          cfg.AutoMail.Window.Duration,
			MaxAge:          cfg.AutoMail.MaxAge.Duration,
		},
		Specialists: staffWithRole(cfg, config.RoleSpecialist),
		Supervisors: staffWithRole(cfg, config.RoleSupervisor),
		TeamAddress: cfg.Reminders.TeamAddress,
		CloseAfter:  cfg.Reminders.CloseAfter.Duration,
		Staff: outbox.StaffSettings{
			Auth: staff.AuthPolicy{
				AuthservIDs:            cfg.StaffAuth.AuthservIDs,
				Domains:                cfg.StaffAuth.Domains,
				Methods:                cfg.StaffAuth.Methods,
				AllowMissingAuthservID: cfg.StaffAuth.AllowMissingAuthservID,
				TrustedMailboxes:       cfg.StaffAuth.TrustedMailboxes,
			},
			Members:    staffMembers(cfg),
			Rules:      assignRules(cfg),
			Relay:      cfg.Answering.UseRelay(),
			Copy:       cfg.Answering.UseCopy(),
			Deadlines:  policy,
			BlobPath:   db.Attachments().Path,
			SentFolder: sentFolder,
			Trainer:    learner,
		},
	}, log)
	d := &daemon{cfg: cfg, log: log, db: db, policy: policy, now: now, learner: learner}
	creds, err := newCredentials(cfg, db, resp, d.wakeSender, log.With("component", "oauth2"), now)
	if err != nil {
		db.Close()
		return nil, err
	}
	d.healthChecks = append(d.healthChecks, creds.checks()...)
	if cfg.SMTP.Host != "" {
		d.sender = outbox.NewSender(db, outbox.NewSMTP(smtpConfig(cfg.SMTP, creds.smtpTokens())), outbox.SenderConfig{
			RetryInitial: cfg.Outbox.RetryInitial.Duration,
			RetryMax:     cfg.Outbox.RetryMax.Duration,
			GiveUpAfter:  cfg.Outbox.GiveUpAfter.Duration,
		}, log.With("component", "outbox"), now)
	}
	schedCfg := deadline.SchedulerConfig{DigestWhenEmpty: cfg.Escalation.DigestWhenEmpty, Queued: d.wakeSender}
	if spec := *cfg.Escalation.DigestSchedule; spec != "" {
		sched, err := cron.ParseStandard("CRON_TZ=" + cfg.Location.String() + " " + spec)
		if err != nil {
			db.Close()
			return nil, fmt.Errorf("escalation.digest_schedule: %w", err)
		}
		schedCfg.Digest = sched
	}
	d.scheduler = deadline.NewScheduler(db, policy, resp, schedCfg, log.With("component", "deadline"), now)
	set := intake.Settings{
		CasePrefix:      cfg.CasePrefix,
		Location:        cfg.Location,
		SubjectWindow:   cfg.Threading.SubjectWindow.Duration,
		Addresses:       addressBook{cfg},
		MessageIDDomain: domainOf(cfg.ClaimsAddress),
		Deadlines:       policy,
		Responder:       resp,
		ReopenWithin:    cfg.Answering.ReopenWithin.Duration,
		Classifier:      learner,
		Changed: func() {
			d.wakeSender()
			d.scheduler.Wake()
		},
	}
	d.intake = intake.New(db, set, log, now)
	d.watcher = mailbox.NewWatcher(mailboxOptions(cfg.IMAP, creds.imapTokens()), d.intake, log.With("mailbox", cfg.IMAP.Mailbox))
	if sentFolder != "" {
		// Its own intake: an Intake belongs to one watcher's goroutine.
		opts := mailboxOptions(cfg.IMAP, creds.imapTokens())
		opts.Mailbox, opts.MoveTo = sentFolder, ""
		d.sentWatcher = mailbox.NewWatcher(opts, intake.New(db, set, log, now), log.With("mailbox", sentFolder))
	}
	for _, wire := range []func() error{d.wireOps, d.wireReports, d.wireRetention} {
		if err := wire(); err != nil {
			db.Close()
			return nil, err
		}
	}
	return d, nil
}

// fillDeadlines gives open cases from a store of an older schema their
// deadlines and schedule, once after the migration to schema 3: cases
// without a legal due date (schema 1) or a first-answer clock (schema 2).
func fillDeadlines(db *store.DB, p deadline.Policy, now time.Time, log *slog.Logger) error {
	n := 0
	err := db.Update(func(tx *store.Tx) error {
		if tx.Value(store.DeadlinesFillPending) == nil {
			return nil
		}
		var cases []store.Case
		for _, status := range []string{store.StatusOpen, store.StatusWaiting} {
			cs, err := tx.ListCases(store.CaseFilter{Status: status})
			if err != nil {
				return err
			}
			cases = append(cases, cs...)
		}
		for _, c := range cases {
			if c.LegalDue != "" && !c.FirstAnswerStart.IsZero() {
				continue
			}
			old := c
			if c.LegalDue == "" {
				c.LegalDue = p.Calendar.LegalDue(c.ReceivedAt, p.AnswerDays(c.Category)).String()
			}
			if c.Priority == "" {
				c.Priority = deadline.DefaultPriority
			}
			// Cases from before service levels are not held to one:
			// the clock is marked started, with no deadline.
			c.FirstAnswerStart = c.ReceivedAt
			c.NextDueAt = p.Next(c, now)
			if err := tx.UpdateCase(&old, &c); err != nil {
				return err
			}
			n++
		}
		return tx.DeleteValue(store.DeadlinesFillPending)
	})
	if err != nil {
		return fmt.Errorf("fill in deadlines: %w", err)
	}
	if n > 0 {
		log.Info("deadlines filled in for cases from an older release", "cases", n)
	}
	return nil
}

// newPolicy builds the deadline policy from the configuration.
func newPolicy(cfg *config.Config, cal *calendar.Calendar) (deadline.Policy, error) {
	hours, err := calendar.ParseHours(cfg.WorkingHours.Start, cfg.WorkingHours.End, cfg.WorkingHours.Days)
	if err != nil {
		return deadline.Policy{}, fmt.Errorf("working_hours: %w", err)
	}
	durations := func(ds []config.Duration) []time.Duration {
		out := make([]time.Duration, len(ds))
		for i, d := range ds {
			out[i] = d.Duration
		}
		return out
	}
	return deadline.Policy{
		Calendar:           cal,
		Hours:              hours,
		AnswerDays:         cfg.Deadlines.DaysFor,
		FirstAnswer:        cfg.ServiceLevel.FirstAnswerFor,
		LegalBefore:        durations(cfg.Reminders.LegalBefore),
		FirstAnswerBefore:  durations(cfg.Reminders.FirstAnswerBefore),
		AtRiskBusinessDays: *cfg.Escalation.AtRiskBusinessDays,
		CustomerAfter:      cfg.Reminders.CustomerAfter.Duration,
		CloseAfter:         cfg.Reminders.CloseAfter.Duration,
	}, nil
}

// staffMembers are the staff with their teams, for assignment and #assign.
func staffMembers(cfg *config.Config) []staff.Member {
	var out []staff.Member
	for _, s := range cfg.Staff {
		m := staff.Member{Name: s.Name, Email: s.Email}
		for _, t := range cfg.Assignment.Teams {
			if slices.Contains(t.Members, s.Email) {
				m.Teams = append(m.Teams, t.Name)
			}
		}
		out = append(out, m)
	}
	return out
}

func assignRules(cfg *config.Config) []staff.Rule {
	var out []staff.Rule
	for _, r := range cfg.Assignment.Rules {
		out = append(out, staff.Rule{Category: r.Category, Language: r.Language, CustomerDomain: r.CustomerDomain,
			Assignee: r.Assignee, Team: r.Team})
	}
	return out
}

func staffWithRole(cfg *config.Config, role string) []message.Address {
	var out []message.Address
	for _, s := range cfg.Staff {
		if s.Role == role {
			out = append(out, message.Address{Name: s.Name, Addr: s.Email})
		}
	}
	return out
}

// wakeSender wakes the sender, if there is one.
func (d *daemon) wakeSender() {
	if d.sender != nil {
		d.sender.Wake()
	}
}

// newLearner builds the classifier: the rules (classifier.rules_file or
// the built-in ones) and the model trained so far, from the store.
func newLearner(cfg *config.Config, db *store.DB) (*classifier.Learner, error) {
	rules, err := loadRules(cfg)
	if err != nil {
		return nil, err
	}
	var data []byte
	if err := db.View(func(tx *store.Tx) error { data = tx.Value(outbox.ModelKey); return nil }); err != nil {
		return nil, err
	}
	var model *classifier.Model
	if data != nil {
		if model, err = classifier.UnmarshalModel(data); err != nil {
			return nil, fmt.Errorf("classifier model in the store: %w", err)
		}
	}
	return classifier.NewLearner(rules, model), nil
}

// loadRules reads classifier.rules_file, or the built-in rules.
func loadRules(cfg *config.Config) (*classifier.Rules, error) {
	if cfg.Classifier.RulesFile == "" {
		return classifier.DefaultRules()
	}
	data, err := os.ReadFile(cfg.Classifier.RulesFile)
	if err != nil {
		return nil, fmt.Errorf("classifier.rules_file: %w", err)
	}
	r, err := classifier.LoadRules(data)
	if err != nil {
		return nil, fmt.Errorf("classifier.rules_file %s: %w", cfg.Classifier.RulesFile, err)
	}
	return r, nil
}

// findSentFolder names the Sent folder to read when specialists answer
// from the shared mailbox: answering.sent_folder, else the folder with the
// \Sent attribute.
func findSentFolder(cfg *config.Config, log *slog.Logger) (string, error) {
	if !cfg.Answering.SharedMailbox {
		return "", nil
	}
	if cfg.Answering.SentFolder != "" {
		return cfg.Answering.SentFolder, nil
	}
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	name, err := mailbox.FindSpecialUse(ctx, mailboxOptions(cfg.IMAP, startupTokens(cfg.IMAP, log)), imap.MailboxAttrSent)
	if err != nil {
		return "", fmt.Errorf("answering.shared_mailbox: find the Sent folder: %w (set answering.sent_folder to skip the lookup)", err)
	}
	if name == "" {
		return "", errors.New("answering.shared_mailbox: the server marks no folder \\Sent; fix: set answering.sent_folder")
	}
	log.Info("shared mailbox: reading answers from the Sent folder", "folder", name)
	return name, nil
}

// newCalendar builds the business calendar from the deadlines section.
func newCalendar(cfg *config.Config) (*calendar.Calendar, error) {
	parse := func(key string, ds []string) ([]calendar.Date, error) {
		out := make([]calendar.Date, 0, len(ds))
		for i, s := range ds {
			d, err := calendar.ParseDate(s)
			if err != nil {
				return nil, fmt.Errorf("%s[%d]: %w", key, i, err)
			}
			out = append(out, d)
		}
		return out, nil
	}
	extra, err := parse("deadlines.extra_holidays", cfg.Deadlines.ExtraHolidays)
	if err != nil {
		return nil, err
	}
	closed, err := parse("deadlines.closed_days", cfg.Deadlines.ClosedDays)
	if err != nil {
		return nil, err
	}
	return calendar.New(cfg.Location, extra, closed), nil
}

// senderAddress is the From of outgoing mail: smtp.from, else the claims
// address.
func senderAddress(cfg *config.Config) message.Address {
	if a, err := mail.ParseAddress(cfg.SMTP.From); err == nil {
		return message.Address{Name: a.Name, Addr: strings.ToLower(a.Address)}
	}
	return message.Address{Addr: cfg.ClaimsAddress}
}

// smtpConfig is the transport's configuration; tokens, for smtp.auth
// xoauth2, gives the access tokens it logs in with.
func smtpConfig(c config.SMTP, tokens outbox.TokenSource) outbox.SMTPConfig {
	return outbox.SMTPConfig{
		Host:               c.Host,
		Port:               c.Port,
		Security:           c.Security,
		InsecureSkipVerify: c.TLSInsecureSkipVerify,
		Username:           c.Username,
		Password:           c.Password,
		Tokens:             tokens,
	}
}

func (d *daemon) Close() error { return d.db.Close() }

// serve runs the daemon until ctx ends: the control socket for the CLI
// and the mailbox watcher.
func (d *daemon) serve(ctx context.Context) error {
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	ctl, err := startControl(d.cfg.SocketPath(), storeReader{db: d.db, watcher: d.watcher, sender: d.sender, daemon: d}, d.log)
	if err != nil {
		return err
	}
	defer ctl.Close()
	d.log.Info("claimsd running", "version", versionString(), "data_dir", d.cfg.DataDir,
		"imap", fmt.Sprintf("%s:%d", d.cfg.IMAP.Host, d.cfg.IMAP.Port), "socket", d.cfg.SocketPath())
	schedDone := make(chan error, 1)
	go func() { schedDone <- d.scheduler.Run(ctx) }()
	senderDone := make(chan error, 1)
	if d.sender != nil {
		go func() { senderDone <- d.sender.Run(ctx) }()
	} else {
		senderDone <- nil
		d.log.Warn("smtp.host is empty: acknowledgements are queued in the outbox but not sent")
	}
	bgDone := make(chan error, len(d.background))
	for _, job := range d.background {
		go func() { bgDone <- job(ctx) }()
	}
	sentDone := make(chan error, 1)
	if d.sentWatcher != nil {
		go func() { sentDone <- d.sentWatcher.Run(ctx) }()
	} else {
		sentDone <- nil
	}
	err = d.watcher.Run(ctx)
	cancel()
	if serr := <-sentDone; serr != nil && err == nil {
		err = serr
	}
	if serr := <-senderDone; serr != nil && err == nil {
		err = serr
	}
	if serr := <-schedDone; serr != nil && err == nil {
		err = serr
	}
	for range d.background {
		if berr := <-bgDone; berr != nil && err == nil {
			err = berr
		}
	}
	d.log.Info("claimsd stopped")
	return err
}

func domainOf(addr string) string {
	if i := strings.LastIndexByte(addr, '@'); i >= 0 {
		return addr[i+1:]
	}
	return "claimsd.invalid"
}
