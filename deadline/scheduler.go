package deadline

import (
	"context"
	"fmt"
	"log/slog"
	"time"

	"github.com/claimsd/claimsd/calendar"
	"github.com/claimsd/claimsd/store"
)

// Notifier turns events into mail, inside the scheduler's transaction (the
// outbox implements it). It may change c (events, status).
type Notifier interface {
	Notify(tx *store.Tx, c *store.Case, ev Event, now time.Time) error
	Digest(tx *store.Tx, d Digest, now time.Time) error
}

// DigestSchedule says when digests are due (robfig/cron's Schedule).
type DigestSchedule interface {
	Next(time.Time) time.Time
}

// DigestCase is one case in a digest, with why it is listed.
type DigestCase struct {
	Case    store.Case
	Overdue bool
	Reason  Reason
}

// Reason is why a case is in a digest; the mail words it.
type Reason string

// Reasons of a digest entry.
const (
	ReasonLegalOverdue       Reason = "legal_overdue"
	ReasonLegalAtRisk        Reason = "legal_at_risk"
	ReasonFirstAnswerOverdue Reason = "first_answer_overdue"
)

// Digest is the supervisors' report of overdue and at-risk cases.
type Digest struct {
	At    time.Time
	Cases []DigestCase
}

// Scheduler applies due events. A tick reads only the cases whose next
// event is due, through the store's time-ordered index.
type Scheduler struct {
	db     *store.DB
	p      Policy
	n      Notifier
	log    *slog.Logger
	now    func() time.Time
	digest DigestSchedule // nil: no digest
	// DigestWhenEmpty sends a digest with nothing in it.
	digestWhenEmpty bool
	// Queued is called after a tick that queued mail (the sender's Wake).
	queued func()
	wake   chan struct{}
}

// SchedulerConfig wires a Scheduler.
type SchedulerConfig struct {
	Digest          DigestSchedule
	DigestWhenEmpty bool
	Queued          func()
}

// NewScheduler returns a Scheduler.
func NewScheduler(db *store.DB, p Policy, n Notifier, cfg SchedulerConfig, log *slog.Logger, now func() time.Time) *Scheduler {
	return &Scheduler{db: db, p: p, n: n, log: log, now: now, digest: cfg.Digest, digestWhenEmpty: cfg.DigestWhenEmpty,
		queued: cfg.Queued, wake: make(chan struct{}, 1)}
}

// Wake tells the scheduler that cases changed (a new case may be due
// before it planned to look again). It never blocks.
func (s *Scheduler) Wake() {
	select {
	case s.wake <- struct{}{}:
	default:
	}
}

// TickStats counts what one tick did.
type TickStats struct {
	Cases   int // cases looked at
	Events  int // events applied
	Digests int // digests sent (0 or 1)
}

// tickBatch bounds the cases one transaction handles.
const tickBatch = 500

const keyDigestLast = "digest_last"

// Tick applies everything due at now and returns when the next thing is
// due (zero: nothing scheduled).
func (s *Scheduler) Tick(now time.Time) (TickStats, time.Time, error) {
	var st TickStats
	var next time.Time
	for {
		var n int
		err := s.db.Update(func(tx *store.Tx) error {
			cases, after, err := tx.CasesDueBy(now, tickBatch)
			if err != nil {
				return err
			}
			n, next = len(cases), after
			for i := range cases {
				applied, err := s.apply(tx, &cases[i], now)
				if err != nil {
					return fmt.Errorf("case %s: %w", cases[i].ID, err)
				}
				st.Events += applied
			}
			return nil
		})
		if err != nil {
			return st, time.Time{}, err
		}
		st.Cases += n
		if n < tickBatch {
			break
		}
	}
	sent, nextDigest, err := s.runDigest(now)
	if err != nil {
		return st, time.Time{}, err
	}
	st.Digests = sent
	if !nextDigest.IsZero() && (next.IsZero() || nextDigest.Before(next)) {
		next = nextDigest
	}
	if st.Events+st.Digests > 0 && s.queued != nil {
		s.queued()
	}
	return st, next, nil
}

// apply runs c's due events and reschedules it.
func (s *Scheduler) apply(tx *store.Tx, c *store.Case, now time.Time) (int, error) {
	old := *c
	due, _ := s.p.Due(*c, now)
	if c.Done == nil && len(due) > 0 {
		c.Done = map[string]time.Time{}
	}
	for i, ev := range due {
		c.Done[ev.Key] = now
		if stale(due, i, now) {
			// The daemon was down or the clock jumped: a reminder whose
			// deadline has passed, or that a later one replaces, helps
			// nobody. The overdue flag and the digest say what matters.
			c.Events = append(c.Events, store.Event{At: now, What: string(ev.Kind) + "_skipped", Note: "late: " + describe(ev, s.p.Calendar.Location())})
			continue
		}
		switch ev.Kind {
		case LegalOverdue:
			c.LegalOverdue = true
		case FirstAnswerOverdue:
			c.FirstAnswerOverdue = true
		case CloseForSilence:
			s.p.SetStatus(c, store.StatusResolved, now)
		}
		c.Events = append(c.Events, store.Event{At: now, What: string(ev.Kind), Note: describe(ev, s.p.Calendar.Location())})
		if err := s.n.Notify(tx, c, ev, now); err != nil {
			return 0, fmt.Errorf("%s: %w", ev.Kind, err)
		}
		s.log.Info("deadline event", "case", c.ID, "event", ev.Kind, "due_at", ev.DueAt)
	}
	c.NextDueAt = s.p.Next(*c, now)
	if c.NextDueAt.Equal(now) {
		// Every due event was just applied; nothing new can be due at now.
		_, c.NextDueAt = s.p.Due(*c, now)
	}
	return len(due), tx.UpdateCase(&old, c)
}

// stale reports whether due[i] is a mail not worth sending at now: a
// reminder or an at-risk escalation whose deadline has passed (the digest
// reports overdue cases; without this a first start on a mailbox full of
// old mail would escalate every old complaint), or a reminder that a later
// one of the same kind replaces.
func stale(due []Event, i int, now time.Time) bool {
	ev := due[i]
	if ev.Kind != RemindLegal && ev.Kind != RemindFirstAnswer && ev.Kind != EscalateAtRisk {
		return false
	}
	if !ev.DueAt.After(now) {
		return true
	}
	if ev.Kind == EscalateAtRisk {
		return false
	}
	for _, later := range due[i+1:] {
		if later.Kind == ev.Kind {
			return true
		}
	}
	return false
}

func describe(ev Event, loc *time.Location) string {
	if ev.DueAt.IsZero() {
		return ""
	}
	return "deadline " + ev.DueAt.In(loc).Format("2006-01-02 15:04")
}

// runDigest sends the digest when a scheduled time has come since the
// last one (several missed slots, e.g. while the daemon was down, make
// one digest). The first run only starts the clock.
func (s *Scheduler) runDigest(now time.Time) (int, time.Time, error) {
	if s.digest == nil {
		return 0, time.Time{}, nil
	}
	sent := 0
	var next time.Time
	err := s.db.Update(func(tx *store.Tx) error {
		var last time.Time
		if v := tx.Value(keyDigestLast); v != nil {
			if err := last.UnmarshalText(v); err != nil {
				return fmt.Errorf("read %s: %w", keyDigestLast, err)
			}
		} else {
			last = now
			b, _ := now.MarshalText()
			if err := tx.PutValue(keyDigestLast, b); err != nil {
				return err
			}
		}
		slot := s.digest.Next(last)
		if slot.After(now) {
			next = slot
			return nil
		}
		d, err := s.collect(tx, now)
		if err != nil {
			return err
		}
		if len(d.Cases) > 0 || s.digestWhenEmpty {
			if err := s.n.Digest(tx, d, now); err != nil {
				return err
			}
			sent = 1
		}
		s.log.Info("digest", "cases", len(d.Cases), "sent", sent == 1)
		b, _ := now.MarshalText()
		next = s.digest.Next(now)
		return tx.PutValue(keyDigestLast, b)
	})
	return sent, next, err
}

// collect lists overdue and at-risk cases from the indexes: open cases
// whose legal date is before the at-risk horizon, and open unanswered
// cases past their first-answer deadline.
func (s *Scheduler) collect(tx *store.Tx, now time.Time) (Digest, error) {
	loc := s.p.Calendar.Location()
	today := calendar.DateOf(now, loc)
	horizon := s.p.Calendar.AddBusinessDays(today, s.p.AtRiskBusinessDays)
	d := Digest{At: now}
	seen := map[string]bool{}
	legal, err := tx.OpenCasesLegalDueBy(horizon.String())
	if err != nil {
		return d, err
	}
	for _, c := range legal {
		seen[c.ID] = true
		if c.LegalDue < today.String() {
			d.Cases = append(d.Cases, DigestCase{Case: c, Overdue: true, Reason: ReasonLegalOverdue})
		} else {
			d.Cases = append(d.Cases, DigestCase{Case: c, Reason: ReasonLegalAtRisk})
		}
	}
	first, err := tx.OpenCasesFirstAnswerDueBy(now)
	if err != nil {
		return d, err
	}
	for _, c := range first {
		if seen[c.ID] {
			continue
		}
		d.Cases = append(d.Cases, DigestCase{Case: c, Overdue: true, Reason: ReasonFirstAnswerOverdue})
	}
	return d, nil
}

// Run ticks until ctx ends, sleeping until the next due event or digest,
// or until woken.
func (s *Scheduler) Run(ctx context.Context) error {
	for {
		_, next, err := s.Tick(s.now())
		wait := time.Hour
		switch {
		case err != nil:
			s.log.Error("deadline tick failed", "err", err)
			wait = time.Minute
		case !next.IsZero():
			wait = min(max(next.Sub(s.now()), 0), time.Hour)
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
