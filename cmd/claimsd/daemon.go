package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"strings"
	"time"

	"github.com/claimsd/claimsd/config"
	"github.com/claimsd/claimsd/intake"
	"github.com/claimsd/claimsd/mailbox"
	"github.com/claimsd/claimsd/store"
)

// daemon is the wired intake: store, intake pipeline and mailbox watcher.
type daemon struct {
	cfg     *config.Config
	log     *slog.Logger
	db      *store.DB
	intake  *intake.Intake
	watcher *mailbox.Watcher
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
	in := intake.New(db, intake.Settings{
		CasePrefix:      cfg.CasePrefix,
		Location:        cfg.Location,
		SubjectWindow:   cfg.Threading.SubjectWindow.Duration,
		Addresses:       addressBook{cfg},
		MessageIDDomain: domainOf(cfg.ClaimsAddress),
	}, log, now)
	return &daemon{
		cfg:     cfg,
		log:     log,
		db:      db,
		intake:  in,
		watcher: mailbox.NewWatcher(mailboxOptions(cfg.IMAP), in, log.With("mailbox", cfg.IMAP.Mailbox)),
	}, nil
}

func (d *daemon) Close() error { return d.db.Close() }

// serve runs the daemon until ctx ends: the control socket for the CLI
// and the mailbox watcher.
func (d *daemon) serve(ctx context.Context) error {
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	ctl, err := startControl(d.cfg.SocketPath(), storeReader{db: d.db, watcher: d.watcher}, d.log)
	if err != nil {
		return err
	}
	defer ctl.Close()
	d.log.Info("claimsd running", "version", versionString(), "data_dir", d.cfg.DataDir,
		"imap", fmt.Sprintf("%s:%d", d.cfg.IMAP.Host, d.cfg.IMAP.Port), "socket", d.cfg.SocketPath())
	err = d.watcher.Run(ctx)
	d.log.Info("claimsd stopped")
	return err
}

func domainOf(addr string) string {
	if i := strings.LastIndexByte(addr, '@'); i >= 0 {
		return addr[i+1:]
	}
	return "claimsd.invalid"
}
