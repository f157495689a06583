package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/mail"
	"strings"
	"time"

	"github.com/claimsd/claimsd/calendar"
	"github.com/claimsd/claimsd/caseref"
	"github.com/claimsd/claimsd/config"
	"github.com/claimsd/claimsd/intake"
	"github.com/claimsd/claimsd/mailbox"
	"github.com/claimsd/claimsd/message"
	"github.com/claimsd/claimsd/outbox"
	"github.com/claimsd/claimsd/store"
	"github.com/claimsd/claimsd/templates"
)

// daemon is the wired claims desk: store, intake pipeline, mailbox
// watcher, and the outbox's sender.
type daemon struct {
	cfg     *config.Config
	log     *slog.Logger
	db      *store.DB
	intake  *intake.Intake
	watcher *mailbox.Watcher
	// sender is nil when smtp.host is empty: mail then waits in the
	// outbox.
	sender *outbox.Sender
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

func mailboxOptions(c config.IMAP) mailbox.Options {
	return mailbox.Options{
		Host:               c.Host,
		Port:               c.Port,
		Security:           mailbox.Security(c.Security),
		InsecureSkipVerify: c.TLSInsecureSkipVerify,
		Username:           c.Username,
		Password:           c.Password,
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
	if err := fillLegalDue(db, cal, cfg.Deadlines.DaysFor, log); err != nil {
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
		},
	}, log)
	d := &daemon{cfg: cfg, log: log, db: db}
	if cfg.SMTP.Host != "" {
		d.sender = outbox.NewSender(db, outbox.NewSMTP(smtpConfig(cfg.SMTP)), outbox.SenderConfig{
			RetryInitial: cfg.Outbox.RetryInitial.Duration,
			RetryMax:     cfg.Outbox.RetryMax.Duration,
			GiveUpAfter:  cfg.Outbox.GiveUpAfter.Duration,
		}, log.With("component", "outbox"), now)
	}
	set := intake.Settings{
		CasePrefix:      cfg.CasePrefix,
		Location:        cfg.Location,
		SubjectWindow:   cfg.Threading.SubjectWindow.Duration,
		Addresses:       addressBook{cfg},
		MessageIDDomain: domainOf(cfg.ClaimsAddress),
		Calendar:        cal,
		AnswerDays:      cfg.Deadlines.DaysFor,
		Responder:       resp,
	}
	if d.sender != nil {
		set.Queued = d.sender.Wake
	}
	d.intake = intake.New(db, set, log, now)
	d.watcher = mailbox.NewWatcher(mailboxOptions(cfg.IMAP), d.intake, log.With("mailbox", cfg.IMAP.Mailbox))
	return d, nil
}

// fillLegalDue gives cases from a store of schema 1 (before deadlines
// existed) their legal answer date, once.
func fillLegalDue(db *store.DB, cal *calendar.Calendar, days func(string) int, log *slog.Logger) error {
	n := 0
	err := db.Update(func(tx *store.Tx) error {
		cases, err := tx.ListCases(store.CaseFilter{})
		if err != nil {
			return err
		}
		for _, c := range cases {
			if c.LegalDue != "" {
				continue
			}
			old := c
			c.LegalDue = cal.LegalDue(c.ReceivedAt, days(c.Category)).String()
			if err := tx.UpdateCase(&old, &c); err != nil {
				return err
			}
			n++
		}
		return nil
	})
	if err != nil {
		return fmt.Errorf("fill in legal due dates: %w", err)
	}
	if n > 0 {
		log.Info("legal answer dates filled in for cases from an older release", "cases", n)
	}
	return nil
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

func smtpConfig(c config.SMTP) outbox.SMTPConfig {
	return outbox.SMTPConfig{
		Host:               c.Host,
		Port:               c.Port,
		Security:           c.Security,
		InsecureSkipVerify: c.TLSInsecureSkipVerify,
		Username:           c.Username,
		Password:           c.Password,
	}
}

func (d *daemon) Close() error { return d.db.Close() }

// serve runs the daemon until ctx ends: the control socket for the CLI
// and the mailbox watcher.
func (d *daemon) serve(ctx context.Context) error {
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	ctl, err := startControl(d.cfg.SocketPath(), storeReader{db: d.db, watcher: d.watcher, sender: d.sender}, d.log)
	if err != nil {
		return err
	}
	defer ctl.Close()
	d.log.Info("claimsd running", "version", versionString(), "data_dir", d.cfg.DataDir,
		"imap", fmt.Sprintf("%s:%d", d.cfg.IMAP.Host, d.cfg.IMAP.Port), "socket", d.cfg.SocketPath())
	senderDone := make(chan error, 1)
	if d.sender != nil {
		go func() { senderDone <- d.sender.Run(ctx) }()
	} else {
		senderDone <- nil
		d.log.Warn("smtp.host is empty: acknowledgements are queued in the outbox but not sent")
	}
	err = d.watcher.Run(ctx)
	cancel()
	if serr := <-senderDone; serr != nil && err == nil {
		err = serr
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
