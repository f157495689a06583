package outbox

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"time"

	"github.com/claimsd/claimsd/store"
)

// Transport delivers mail; SMTP is the real one. Deliver returns one error
// per item, nil for accepted.
type Transport interface {
	Deliver(ctx context.Context, items []store.OutboxItem) []error
}

// SenderConfig tunes the Sender.
type SenderConfig struct {
	RetryInitial time.Duration // wait after the first temporary failure
	RetryMax     time.Duration // cap of the doubling wait
	GiveUpAfter  time.Duration // temporary failures this long after queueing fail the mail
	// Batch is how many items one attempt commit claims; default 10. A
	// crash re-sends at most the items of one batch that the server had
	// already accepted: smaller means fewer duplicates after a crash, at
	// the cost of a commit per batch (10 measured no slower than 50).
	Batch int
}

// Sender delivers queued mail in the background. Before each attempt it
// commits the attempt (status sending, next attempt time) and after it the
// outcome, so a crash in between is recognised: the item is sent again,
// with the same Message-ID, and counted as a resend.
type Sender struct {
	db   *store.DB
	tr   Transport
	cfg  SenderConfig
	log  *slog.Logger
	now  func() time.Time
	wake chan struct{}
}

// NewSender returns a Sender.
func NewSender(db *store.DB, tr Transport, cfg SenderConfig, log *slog.Logger, now func() time.Time) *Sender {
	if cfg.Batch <= 0 {
		cfg.Batch = 10
	}
	if cfg.RetryInitial <= 0 {
		cfg.RetryInitial = 30 * time.Second
	}
	if cfg.RetryMax < cfg.RetryInitial {
		cfg.RetryMax = cfg.RetryInitial
	}
	return &Sender{db: db, tr: tr, cfg: cfg, log: log, now: now, wake: make(chan struct{}, 1)}
}

// Wake tells the sender that new mail was queued. It never blocks.
func (s *Sender) Wake() {
	select {
	case s.wake <- struct{}{}:
	default:
	}
}

// Run delivers until ctx ends. Items left in "sending" by a crash are due
// at once.
func (s *Sender) Run(ctx context.Context) error {
	if err := s.Recover(); err != nil {
		return err
	}
	for {
		_, next, err := s.RunOnce(ctx)
		if ctx.Err() != nil {
			return nil
		}
		wait := time.Minute
		switch {
		case err != nil:
			s.log.Error("outbox: delivery round failed", "err", err)
			wait = s.cfg.RetryInitial
		case !next.IsZero():
			wait = max(next.Sub(s.now()), 0)
			if wait == 0 {
				continue
			}
		}
		t := time.NewTimer(wait)
		select {
		case <-ctx.Done():
			t.Stop()
			return nil
		case <-s.wake:
		case <-t.C:
		}
		t.Stop()
	}
}

// Recover makes items whose last attempt has no recorded outcome due now.
func (s *Sender) Recover() error {
	now := s.now()
	return s.db.Update(func(tx *store.Tx) error {
		items, err := tx.ListOutbox(store.OutboxFilter{Status: store.OutboxSending})
		if err != nil {
			return err
		}
		for _, it := range items {
			old := it
			it.NextAttemptAt = now
			if err := tx.UpdateOutbox(&old, &it); err != nil {
				return err
			}
		}
		if len(items) > 0 {
			s.log.Warn("outbox: mail whose delivery was interrupted will be sent again with the same Message-ID", "items", len(items))
		}
		return nil
	})
}

// Delivered counts one round's outcomes.
type Delivered struct {
	Sent, Retry, Failed int
}

// RunOnce delivers the items due now, one batch at a time, and returns
// what happened and when the next pending item is due (zero: none).
func (s *Sender) RunOnce(ctx context.Context) (Delivered, time.Time, error) {
	var total Delivered
	for {
		items, next, err := s.claim()
		if err != nil || len(items) == 0 {
			return total, next, err
		}
		errs := s.tr.Deliver(ctx, items)
		d, err := s.record(items, errs)
		total.Sent += d.Sent
		total.Retry += d.Retry
		total.Failed += d.Failed
		if err != nil {
			return total, time.Time{}, err
		}
		if ctx.Err() != nil {
			return total, time.Time{}, ctx.Err()
		}
	}
}

// claim commits the attempt of the due items before any is sent.
func (s *Sender) claim() ([]store.OutboxItem, time.Time, error) {
	now := s.now()
	var items []store.OutboxItem
	var next time.Time
	err := s.db.Update(func(tx *store.Tx) error {
		due, n, err := tx.DueOutbox(now, s.cfg.Batch)
		if err != nil {
			return err
		}
		items, next = due[:0], n
		for _, it := range due {
			old := it
			if it.Status == store.OutboxSending {
				// The previous attempt's outcome was never recorded.
				it.Resends++
			}
			it.Status = store.OutboxSending
			it.Attempts++
			it.LastAttemptAt = now
			it.NextAttemptAt = now.Add(s.backoff(it.Attempts))
			if err := tx.UpdateOutbox(&old, &it); err != nil {
				return err
			}
			items = append(items, it)
		}
		return nil
	})
	if err != nil {
		return nil, time.Time{}, fmt.Errorf("claim due mail: %w", err)
	}
	return items, next, nil
}

// backoff is the wait before attempt n+1 after n attempts: RetryInitial
// doubled per further attempt, capped at RetryMax.
func (s *Sender) backoff(attempts int) time.Duration {
	d := s.cfg.RetryInitial
	for i := 1; i < attempts && d < s.cfg.RetryMax; i++ {
		d *= 2
	}
	return min(d, s.cfg.RetryMax)
}

// record commits the outcome of one batch.
func (s *Sender) record(items []store.OutboxItem, errs []error) (Delivered, error) {
	now := s.now()
	var d Delivered
	err := s.db.Update(func(tx *store.Tx) error {
		d = Delivered{}
		for i := range items {
			var sendErr error
			if i < len(errs) {
				sendErr = errs[i]
			} else {
				sendErr = errors.New("transport returned no result")
			}
			if err := s.outcome(tx, items[i], sendErr, now, &d); err != nil {
				return err
			}
		}
		return nil
	})
	if err != nil {
		return d, fmt.Errorf("record delivery outcome: %w", err)
	}
	return d, nil
}

func (s *Sender) outcome(tx *store.Tx, it store.OutboxItem, sendErr error, now time.Time, d *Delivered) error {
	old := it
	log := s.log.With("outbox_id", it.ID, "case", it.CaseID, "attempt", it.Attempts)
	switch {
	case sendErr == nil:
		it.Status, it.SentAt, it.LastError = store.OutboxSent, now, ""
		d.Sent++
		log.Info("mail sent", "purpose", it.Purpose, "message_id", it.MessageID)
	case Temporary(sendErr) || IsConfigError(sendErr):
		// A configuration problem (credentials, certificate) is ours, not
		// the customer's: keep retrying while someone fixes it.
		it.LastError = sendErr.Error()
		if now.Sub(it.RetryFrom()) >= s.cfg.GiveUpAfter && s.cfg.GiveUpAfter > 0 {
			it.Status = store.OutboxFailed
			d.Failed++
			log.Error("mail failed: temporary failures for too long", "err", sendErr, "queued_at", it.QueuedAt)
			if err := s.noteOnCase(tx, it, now, "mail_failed", fmt.Sprintf("outbox %d not delivered since %s: %v", it.ID, it.QueuedAt.Format(time.RFC3339), sendErr), false); err != nil {
				return err
			}
			break
		}
		it.Status = store.OutboxQueued
		d.Retry++
		level := slog.LevelWarn
		if IsConfigError(sendErr) {
			level = slog.LevelError
		}
		log.Log(context.Background(), level, "mail not sent; will retry", "err", sendErr, "next_attempt_at", it.NextAttemptAt)
	default:
		it.Status, it.LastError = store.OutboxFailed, sendErr.Error()
		d.Failed++
		log.Warn("mail refused permanently", "err", sendErr)
		if err := s.noteOnCase(tx, it, now, "mail_failed", fmt.Sprintf("outbox %d to %s refused: %v", it.ID, it.To.Addr, sendErr), true); err != nil {
			return err
		}
	}
	return tx.UpdateOutbox(&old, &it)
}

// noteOnCase records a delivery failure on the item's case; a permanent
// refusal of the customer's address makes the customer unreachable.
func (s *Sender) noteOnCase(tx *store.Tx, it store.OutboxItem, now time.Time, what, note string, unreachable bool) error {
	if it.CaseID == "" {
		return nil
	}
	c, ok, err := tx.Case(it.CaseID)
	if err != nil || !ok {
		return err
	}
	old := c
	c.Events = append(c.Events, store.Event{At: now, What: what, Note: note})
	if unreachable && it.To.Addr == c.Customer {
		c.CustomerUnreachable, c.UnreachableNote = true, note
	}
	return tx.UpdateCase(&old, &c)
}

// Retry makes a failed, bounced or waiting item due now, for
// `claimsd outbox retry`. A sent item is not sent again.
func Retry(tx *store.Tx, id uint64, now time.Time) (store.OutboxItem, error) {
	it, ok, err := tx.Outbox(id)
	if err != nil {
		return it, err
	}
	if !ok {
		return it, fmt.Errorf("outbox item %d: %w", id, store.ErrNotFound)
	}
	switch it.Status {
	case store.OutboxSent:
		return it, fmt.Errorf("outbox item %d was already sent at %s", id, it.SentAt.Format(time.RFC3339))
	case store.OutboxSending:
		return it, fmt.Errorf("outbox item %d is being sent right now", id)
	}
	old := it
	// A retried item gets a fresh give-up period.
	it.Status, it.NextAttemptAt, it.SuppressedReason, it.RetriedAt = store.OutboxQueued, now, "", now
	return it, tx.UpdateOutbox(&old, &it)
}
