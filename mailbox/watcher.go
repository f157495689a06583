package mailbox

import (
	"context"
	"errors"
	"log/slog"
	"math/rand/v2"
	"sync"
	"sync/atomic"
	"time"
)

// Reconnect backoff and IDLE safety net.
const (
	backoffMin  = time.Second
	backoffMax  = 5 * time.Minute
	idleRecheck = 5 * time.Minute
	// minCycleGap spaces cycles once two in a row found nothing to do, so
	// a server that keeps announcing changes that are not new mail cannot
	// make the watcher spin. One empty cycle is common (a server repeating
	// EXISTS after our own commands) and must not delay the next mail.
	minCycleGap = time.Second
)

// Stats counts what one fetch cycle (or RunOnce) did.
type Stats struct {
	Fetched   int // messages handed to Sink.Deliver
	Committed int // UIDs Sink.Flush returned
	Marked    int // UIDs marked processed on the server, pending ones included
	// UIDValidityChanged is set when the server's UIDVALIDITY differed
	// from the stored non-zero one, so the cursor was reset.
	UIDValidityChanged bool
}

func (s *Stats) add(o Stats) {
	s.Fetched += o.Fetched
	s.Committed += o.Committed
	s.Marked += o.Marked
	s.UIDValidityChanged = s.UIDValidityChanged || o.UIDValidityChanged
}

// State is the watcher's connection health, for /healthz-like reporting.
type State struct {
	Connected   bool      `json:"connected"`            // logged in with the mailbox selected
	LastSuccess time.Time `json:"last_success"`         // end of the last fetch cycle that succeeded
	LastError   string    `json:"last_error,omitempty"` // why the last attempt failed; empty after a success
	UIDValidity uint32    `json:"uid_validity"`         // of the mailbox as last selected
}

// Watcher follows one mailbox and hands its new mail to a Sink. Its
// methods other than State must not run concurrently: the Sink is not
// expected to be safe for that.
type Watcher struct {
	opts Options
	sink Sink
	log  *slog.Logger

	// Timings, fixed by NewWatcher; tests in this package shorten them.
	dialTimeout time.Duration
	cmdTimeout  time.Duration
	backoffMin  time.Duration
	backoffMax  time.Duration
	idleRecheck time.Duration
	minCycleGap time.Duration

	noMoveLogged    atomic.Bool
	noKeywordLogged atomic.Bool

	mu    sync.Mutex
	state State
}

// NewWatcher returns a watcher for opts.Mailbox (default INBOX). Zero
// fields of opts take the defaults documented on Options. log should
// already name the mailbox; a nil log discards.
func NewWatcher(opts Options, sink Sink, log *slog.Logger) *Watcher {
	opts = opts.withDefaults()
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	return &Watcher{
		opts:        opts,
		sink:        sink,
		log:         log,
		dialTimeout: defaultDialTimeout,
		cmdTimeout:  defaultCmdTimeout,
		backoffMin:  backoffMin,
		backoffMax:  backoffMax,
		idleRecheck: idleRecheck,
		minCycleGap: minCycleGap,
	}
}

// State reports connection health. It is safe to call at any time.
func (w *Watcher) State() State {
	w.mu.Lock()
	defer w.mu.Unlock()
	return w.state
}

func (w *Watcher) setConnected(connected bool, uidValidity uint32) {
	w.mu.Lock()
	defer w.mu.Unlock()
	w.state.Connected = connected
	if uidValidity != 0 {
		w.state.UIDValidity = uidValidity
	}
}

func (w *Watcher) setSuccess() {
	w.mu.Lock()
	defer w.mu.Unlock()
	w.state.LastSuccess = time.Now()
	w.state.LastError = ""
}

func (w *Watcher) setError(err error) {
	w.mu.Lock()
	defer w.mu.Unlock()
	w.state.LastError = err.Error()
}

// RunOnce connects, processes all mail waiting now, marks it, logs out and
// returns. A cancelled ctx stops it after the message being delivered;
// what was delivered is flushed first.
func (w *Watcher) RunOnce(ctx context.Context) (Stats, error) {
	if err := w.opts.validate(); err != nil {
		return Stats{}, err
	}
	st, _, err := w.session(ctx, false)
	if err != nil && ctx.Err() == nil {
		w.setError(err)
	}
	return st, err
}

// Run follows the mailbox until ctx is done: it processes waiting mail,
// then waits with IDLE (when Options.IDLE is set and the server offers it)
// or polls every PollInterval. Any failure, the Sink's included, drops the
// connection and reconnects after an exponential backoff (1s doubling to
// 5 min, with jitter, reset once a cycle succeeds). Run returns nil when
// ctx is cancelled, after finishing the message being delivered and
// flushing the sink; it returns an error only for options no retry can
// fix.
func (w *Watcher) Run(ctx context.Context) error {
	if err := w.opts.validate(); err != nil {
		return err
	}
	delay := w.backoffMin
	for {
		_, succeeded, err := w.session(ctx, true)
		if ctx.Err() != nil {
			return nil
		}
		if err == nil {
			err = errors.New("session ended") // unreachable: sessions end in an error
		}
		w.setError(err)
		if succeeded {
			delay = w.backoffMin
		}
		wait := jitter(delay)
		level := slog.LevelWarn
		var se *sinkError
		if errors.As(err, &se) {
			level = slog.LevelError // the sink failing is not the network's fault
		}
		w.log.Log(ctx, level, "mailbox cycle failed; reconnecting", "err", err, "retry_in", wait.Round(time.Millisecond))
		t := time.NewTimer(wait)
		select {
		case <-ctx.Done():
			t.Stop()
			return nil
		case <-t.C:
		}
		delay = min(2*delay, w.backoffMax)
	}
}

// jitter spreads reconnects over [d/2, d], so many watchers (or a server
// restart) do not synchronise them.
func jitter(d time.Duration) time.Duration {
	if d <= 1 {
		return d
	}
	return d/2 + rand.N(d/2+1)
}

// session connects and runs fetch cycles: one, then logs out, or (follow)
// until an error or ctx ends it. succeeded reports whether at least one
// cycle completed.
func (w *Watcher) session(ctx context.Context, follow bool) (total Stats, succeeded bool, err error) {
	s, err := w.open(ctx)
	if err != nil {
		return total, false, err
	}
	empty := 0 // consecutive cycles that found nothing to do
	for {
		start := time.Now()
		st, err := s.cycle(ctx)
		total.add(st)
		if err != nil {
			s.close(false)
			return total, succeeded, err
		}
		succeeded = true
		w.setSuccess()
		if !follow {
			s.close(true)
			return total, true, nil
		}
		level := slog.LevelDebug
		if st.Fetched > 0 || st.Marked > 0 {
			level = slog.LevelInfo
		}
		w.log.Log(ctx, level, "mailbox cycle done", "fetched", st.Fetched, "committed", st.Committed, "marked", st.Marked)

		if err := s.wait(ctx); err != nil {
			s.close(false)
			return total, true, err
		}
		empty++
		if st.Fetched > 0 || st.Marked > 0 {
			empty = 0
		}
		var gap time.Duration
		if empty >= 2 {
			gap = w.minCycleGap - time.Since(start)
		}
		if err := sleepCtx(ctx, gap); err != nil {
			s.close(false)
			return total, true, err
		}
	}
}

// sleepCtx waits d (nothing if d <= 0) or until ctx is done.
func sleepCtx(ctx context.Context, d time.Duration) error {
	if d <= 0 {
		return ctx.Err()
	}
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-ctx.Done():
		return ctx.Err()
	case <-t.C:
		return nil
	}
}

// sinkError marks failures of the Sink, which Run logs at error level.
type sinkError struct {
	op  string
	err error
}

func (e *sinkError) Error() string { return e.op + ": " + e.err.Error() }
func (e *sinkError) Unwrap() error { return e.err }
