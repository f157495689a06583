package main

import (
	"errors"
	"fmt"
	"os"
	"strconv"
	"text/tabwriter"
	"time"

	"github.com/claimsd/claimsd/deadline"
	"github.com/claimsd/claimsd/outbox"
	"github.com/claimsd/claimsd/store"
)

func (c *cli) outbox(args []string) error {
	if len(args) == 0 {
		return usageErr("outbox: want list, show or retry")
	}
	switch args[0] {
	case "list":
		fs := c.flags("outbox list")
		status := fs.String("status", "", "only items in this status (queued, sending, sent, failed, bounced, suppressed)")
		asJSON := fs.Bool("json", false, "print JSON")
		if err := parseFlags(fs, args[1:]); err != nil {
			return err
		}
		r, done, err := c.openReader()
		if err != nil {
			return err
		}
		defer done()
		items, err := r.ListOutbox(c.ctx, store.OutboxFilter{Status: *status})
		if err != nil {
			return err
		}
		if items == nil {
			items = []store.OutboxItem{}
		}
		if *asJSON {
			return c.printJSON(items)
		}
		tw := tabwriter.NewWriter(c.stdout, 0, 4, 2, ' ', 0)
		fmt.Fprintln(tw, "ID\tSTATUS\tCASE\tPURPOSE\tTO\tATTEMPTS\tQUEUED\tNOTE")
		for _, it := range items {
			note := it.LastError
			switch it.Status {
			case store.OutboxSuppressed:
				note = it.SuppressedReason
			case store.OutboxBounced:
				note = it.BounceDetail
			case store.OutboxQueued, store.OutboxSending:
				if !it.NextAttemptAt.IsZero() && it.Attempts > 0 {
					note = "next attempt " + it.NextAttemptAt.Format("2006-01-02 15:04:05") + "; " + note
				}
			}
			fmt.Fprintf(tw, "%d\t%s\t%s\t%s\t%s\t%d\t%s\t%s\n", it.ID, it.Status, it.CaseID, it.Purpose, it.To.Addr,
				it.Attempts, it.QueuedAt.Format("2006-01-02 15:04"), clip(note, 70))
		}
		return tw.Flush()
	case "show":
		id, err := c.outboxID("outbox show", args[1:])
		if err != nil {
			return err
		}
		r, done, err := c.openReader()
		if err != nil {
			return err
		}
		defer done()
		it, err := r.OutboxItem(c.ctx, id)
		if err != nil {
			return err
		}
		raw, err := outbox.Render(&it)
		if err != nil {
			return err
		}
		fmt.Fprintf(c.stdout, "# outbox %d: %s, %d attempts, envelope sender %s\n", it.ID, it.Status, it.Attempts, it.EnvelopeFrom)
		_, err = c.stdout.Write(raw)
		return err
	case "retry":
		id, err := c.outboxID("outbox retry", args[1:])
		if err != nil {
			return err
		}
		it, err := c.retryOutbox(id)
		if err != nil {
			return err
		}
		fmt.Fprintf(c.stdout, "outbox %d to %s queued for delivery now\n", it.ID, it.To.Addr)
		return nil
	}
	return usageErr("outbox: unknown subcommand %q (want list, show or retry)", args[0])
}

func (c *cli) outboxID(name string, args []string) (uint64, error) {
	fs := c.flags(name)
	var idArg string
	if len(args) > 0 && args[0] != "" && args[0][0] != '-' {
		idArg, args = args[0], args[1:]
	}
	if err := parseFlags(fs, args); err != nil {
		return 0, err
	}
	if idArg == "" && fs.NArg() > 0 {
		idArg = fs.Arg(0)
	}
	id, err := strconv.ParseUint(idArg, 10, 64)
	if err != nil || id == 0 {
		return 0, usageErr("%s: want an outbox item number, e.g. %s 12", name, name)
	}
	return id, nil
}

// retryOutbox asks the running daemon to retry (it holds the store), or
// changes the store itself when no daemon runs.
func (c *cli) retryOutbox(id uint64) (store.OutboxItem, error) {
	cfg, err := c.loadConfig()
	if err != nil {
		return store.OutboxItem{}, err
	}
	if s, ok := c.daemonSocket(cfg.SocketPath()); ok {
		return s.RetryOutbox(c.ctx, id)
	}
	db, err := store.Open(cfg.DataDir, store.Options{Timeout: 500 * time.Millisecond})
	if errors.Is(err, store.ErrLocked) {
		return store.OutboxItem{}, fmt.Errorf("%w, and its control socket %s does not answer", err, cfg.SocketPath())
	}
	if err != nil {
		return store.OutboxItem{}, err
	}
	defer db.Close()
	var it store.OutboxItem
	err = db.Update(func(tx *store.Tx) (err error) {
		it, err = outbox.Retry(tx, id, time.Now())
		return err
	})
	if err == nil {
		fmt.Fprintln(c.stderr, "claimsd is not running: the mail is sent when it starts")
	}
	return it, err
}

func (c *cli) daemonSocket(path string) (socketReader, bool) {
	if _, err := os.Stat(path); err != nil {
		return socketReader{}, false
	}
	s := dialControl(path)
	if _, err := s.Stats(c.ctx); err != nil {
		return socketReader{}, false
	}
	return s, true
}

// setStatus changes a case's status through the running daemon, or in the
// store itself when no daemon runs; the deadline policy pauses, resumes or
// ends the case's clocks.
func (c *cli) setStatus(id, status string) (store.Case, error) {
	cfg, err := c.loadConfig()
	if err != nil {
		return store.Case{}, err
	}
	if s, ok := c.daemonSocket(cfg.SocketPath()); ok {
		return s.SetStatus(c.ctx, id, status)
	}
	cal, err := newCalendar(cfg)
	if err != nil {
		return store.Case{}, err
	}
	policy, err := newPolicy(cfg, cal)
	if err != nil {
		return store.Case{}, err
	}
	db, err := store.Open(cfg.DataDir, store.Options{Timeout: 500 * time.Millisecond})
	if err != nil {
		return store.Case{}, err
	}
	defer db.Close()
	return setCaseStatus(db, policy, id, status, time.Now())
}

// setCaseStatus applies a status change in one transaction.
func setCaseStatus(db *store.DB, p deadline.Policy, id, status string, now time.Time) (cs store.Case, err error) {
	err = db.Update(func(tx *store.Tx) error {
		c, ok, err := tx.Case(id)
		if err != nil {
			return err
		}
		if !ok {
			return fmt.Errorf("case %s: %w", id, store.ErrNotFound)
		}
		old := c
		p.SetStatus(&c, status, now)
		c.Events = append(c.Events, store.Event{At: now, What: "status_" + status, Note: "by the command line"})
		cs = c
		return tx.UpdateCase(&old, &c)
	})
	return cs, err
}
