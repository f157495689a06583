package mailbox

import (
	"context"
	"errors"
	"fmt"
	"io"
	"math"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/emersion/go-imap/v2"
	"github.com/emersion/go-imap/v2/imapclient"
)

// markChunk caps the UIDs of one STORE or MOVE, keeping command lines
// short for servers with line limits.
const markChunk = 500

// session is one connection with the mailbox selected.
type session struct {
	w           *Watcher
	cn          *conn
	guard       *stopGuard
	uidValidity uint32
	// wake receives a token when the server reports a new message count
	// (EXISTS); see open.
	wake chan struct{}
}

// open connects, logs in and selects the mailbox.
func (w *Watcher) open(ctx context.Context) (*session, error) {
	s := &session{w: w, wake: make(chan struct{}, 1)}
	// Any EXISTS wakes the watcher, not only a growing count: go-imap
	// hands expunges that answer our own commands (MOVE's fallback) to
	// those commands, not to this handler, so "grew" cannot be computed
	// reliably, and a needless wake costs one UID SEARCH. Servers send
	// EXISTS only when the count changes.
	h := &imapclient.UnilateralDataHandler{
		Mailbox: func(d *imapclient.UnilateralDataMailbox) {
			if d.NumMessages != nil {
				select {
				case s.wake <- struct{}{}:
				default: // a wake is already pending
				}
			}
		},
	}
	cn, err := dial(ctx, &w.opts, w.dialTimeout, h)
	if err != nil {
		return nil, err
	}
	s.cn = cn
	s.guard = newStopGuard(ctx, cn.kill)

	var data *imap.SelectData
	err = cn.within(w.cmdTimeout, func() (err error) {
		data, err = cn.c.Select(w.opts.Mailbox, nil).Wait()
		return err
	})
	if err != nil {
		s.close(false)
		return nil, fmt.Errorf("select %q: %w", w.opts.Mailbox, err)
	}
	if data.UIDValidity == 0 {
		s.close(false)
		return nil, fmt.Errorf("select %q: server sent no UIDVALIDITY", w.opts.Mailbox)
	}
	s.uidValidity = data.UIDValidity
	if !canKeep(data.PermanentFlags, imap.Flag(w.opts.ProcessedKeyword)) && !w.noKeywordLogged.Swap(true) {
		w.log.Warn("server does not list the processed keyword as permanent; marks may not stick",
			"keyword", w.opts.ProcessedKeyword, "permanent_flags", data.PermanentFlags)
	}
	w.setConnected(true, s.uidValidity)
	return s, nil
}

// canKeep reports whether PERMANENTFLAGS allow storing kw. A server that
// sent no PERMANENTFLAGS allows all flags (RFC 3501 section 7.1).
func canKeep(permanent []imap.Flag, kw imap.Flag) bool {
	if permanent == nil {
		return true
	}
	for _, f := range permanent {
		if f == imap.FlagWildcard || strings.EqualFold(string(f), string(kw)) {
			return true
		}
	}
	return false
}

// close ends the session; logout is polite, used when nothing failed.
func (s *session) close(logout bool) {
	s.guard.release()
	s.cn.close(logout)
	s.w.setConnected(false, 0)
}

// cycle checks the cursor against UIDVALIDITY, marks what an earlier run
// committed but could not mark, then fetches, delivers, flushes and marks
// everything new.
func (s *session) cycle(ctx context.Context) (Stats, error) {
	var st Stats
	w, mbox := s.w, s.w.opts.Mailbox
	cur, err := w.sink.Cursor(ctx, mbox)
	if err != nil {
		return st, &sinkError{"read cursor", err}
	}
	if cur.UIDValidity != s.uidValidity {
		if cur.UIDValidity != 0 {
			st.UIDValidityChanged = true
			w.log.Warn("UIDVALIDITY changed: stored UIDs are void, fetching the whole mailbox again",
				"stored", cur.UIDValidity, "server", s.uidValidity)
		}
		if err := w.sink.ResetCursor(ctx, mbox, s.uidValidity); err != nil {
			return st, &sinkError{"reset cursor", err}
		}
		cur = Cursor{UIDValidity: s.uidValidity}
	}

	pending, err := w.sink.PendingMarks(ctx, mbox, s.uidValidity)
	if err != nil {
		return st, &sinkError{"read pending marks", err}
	}
	if err := s.markProcessed(ctx, pending, &st); err != nil {
		return st, err
	}
	return st, s.fetchNew(ctx, cur.LastUID, &st)
}

// fetchNew delivers every message above last, in UID order, one window of
// BatchSize UIDs per FETCH, marking each window once its FETCH is over.
func (s *session) fetchNew(ctx context.Context, last uint32, st *Stats) error {
	if last == math.MaxUint32 {
		return nil
	}
	var uids []imap.UID
	err := s.cn.within(s.w.cmdTimeout, func() error {
		crit := &imap.SearchCriteria{UID: []imap.UIDSet{{{Start: imap.UID(last + 1), Stop: 0}}}}
		data, err := s.cn.c.UIDSearch(crit, nil).Wait()
		if err != nil {
			return err
		}
		uids = data.AllUIDs()
		return nil
	})
	if err != nil {
		return connCtxErr(ctx, fmt.Errorf("search uid %d:*: %w", last+1, err))
	}
	// "n:*" always matches the highest UID, even one below n.
	uids = slices.DeleteFunc(uids, func(u imap.UID) bool { return uint32(u) <= last })
	slices.Sort(uids)
	uids = slices.Compact(uids)

	for len(uids) > 0 {
		n := min(len(uids), s.w.opts.BatchSize)
		committed, err := s.fetchWindow(ctx, uids[:n], last, st)
		if err != nil {
			// What was committed stays in the sink's pending marks for
			// the next session.
			return err
		}
		if err := s.markProcessed(ctx, committed, st); err != nil {
			return err
		}
		uids = uids[n:]
	}
	return nil
}

// maxFetchPasses bounds how often a window's bodyless UIDs are asked for
// again; see fetchWindow.
const maxFetchPasses = 3

// window is one batch of UIDs being fetched and delivered.
type window struct {
	uids      []imap.UID // requested, ascending
	last      uint32     // cursor: UIDs up to here are done
	delivered map[uint32]bool
	held      int // delivered since the last Flush
	next      int // index in uids of the UID expected next
	// gap is set once a requested UID was skipped or answered without its
	// body. Skipping is normal for a message expunged meanwhile, but a
	// Flush moves the cursor past every delivered UID, so after a gap only
	// a window that completed may be flushed: else a message never
	// delivered could be passed over for good.
	gap       bool
	committed []uint32 // UIDs Flush returned that this window delivered
}

// fetchWindow fetches uids and streams each body into Sink.Deliver,
// flushing every opts.FlushEvery messages (until a gap) and at the end. It
// returns the UIDs Flush committed that this window delivered.
//
// go-imap matches FETCH responses to a UID FETCH by UID, so an unsolicited
// flag update for a requested UID (another client set \Seen or \Deleted)
// takes that UID's place: the response arrives without a body and the real
// one, if any, is dropped. Such UIDs are asked for again, in a FETCH of
// their own, before the window is flushed.
//
// Nothing is marked here: the FETCH stays open while bodies stream, and a
// STORE sent meanwhile would wait behind FETCH data that only we consume
// (go-imap parses responses on one goroutine and blocks on each literal
// until it is read), besides RFC 9051 5.5 forbidding the ambiguity.
func (s *session) fetchWindow(ctx context.Context, uids []imap.UID, last uint32, st *Stats) ([]uint32, error) {
	win := &window{uids: uids, last: last, delivered: make(map[uint32]bool, len(uids))}
	pass := uids
	for attempt := 1; ; attempt++ {
		bodyless, stopped, fetchErr, abort := s.fetchPass(ctx, win, pass, st)
		switch {
		case abort != nil:
			return win.committed, abort
		case stopped || ctx.Err() != nil:
			// Keep what was delivered, unless that could skip a message.
			if !win.gap {
				if err := s.flush(ctx, win, st); err != nil {
					return win.committed, err
				}
			}
			return win.committed, ctx.Err()
		case fetchErr != nil:
			if !win.gap {
				// The delivered messages are whole and a prefix of the
				// window: keep them even though the FETCH broke off.
				if err := s.flush(ctx, win, st); err != nil {
					return win.committed, err
				}
			}
			return win.committed, fmt.Errorf("fetch uids %v: %w", imap.UIDSetNum(pass...), fetchErr)
		case len(bodyless) == 0:
			if err := s.flush(ctx, win, st); err != nil {
				return win.committed, err
			}
			return win.committed, nil
		case attempt == maxFetchPasses:
			return win.committed, fmt.Errorf("fetch uids %v: still answered without a body after %d tries", imap.UIDSetNum(bodyless...), attempt)
		}
		s.w.log.Debug("asking again for messages answered without a body", "uids", imap.UIDSetNum(bodyless...).String())
		pass = bodyless
	}
}

// fetchPass runs one UID FETCH over uids. It returns the requested UIDs
// answered without a body; stopped when ctx was cancelled; fetchErr when
// the FETCH failed; abort for failures after which nothing may be
// flushed.
func (s *session) fetchPass(ctx context.Context, win *window, uids []imap.UID, st *Stats) (bodyless []imap.UID, stopped bool, fetchErr, abort error) {
	w := s.w
	cmd := s.cn.c.Fetch(imap.UIDSetNum(uids...), &imap.FetchOptions{
		UID:          true,
		InternalDate: true,
		RFC822Size:   true,
		BodySection:  []*imap.FetchItemBodySection{{Peek: true}},
	})
	for {
		stopWatch := s.cn.watchdog(w.cmdTimeout)
		msg := cmd.Next()
		stopWatch()
		if msg == nil {
			break
		}
		f, body := readHead(msg)
		if f.UID <= win.last || win.delivered[f.UID] {
			continue // not asked for, or without a UID to track it by
		}
		win.see(f.UID, body != nil)
		if body == nil {
			bodyless = append(bodyless, imap.UID(f.UID))
			continue
		}
		f.Mailbox, f.UIDValidity = w.opts.Mailbox, s.uidValidity
		if f.Size == 0 {
			f.Size = body.Size()
		}
		br := &bodyReader{r: body, size: body.Size()}
		f.Body = br

		if ctx.Err() != nil || !s.guard.hold() {
			stopped = true
			break
		}
		// The delivery in hand is finished even when ctx is cancelled
		// meanwhile; the stop guard holds the connection open for it.
		derr := w.sink.Deliver(context.WithoutCancel(ctx), f)
		// ctx is checked too: the guard learns of cancellation on another
		// goroutine, maybe only after this delivery.
		stopping := s.guard.unhold() || ctx.Err() != nil
		if br.err != nil {
			// The connection broke in the middle of the body: the sink
			// may have noticed (its error then only repeats this one) or
			// not; either way the message is incomplete, and it is the
			// network's failure, not the sink's.
			abort = fmt.Errorf("fetch uid %d: read body: %w", f.UID, br.err)
			break
		}
		if derr != nil {
			abort = &sinkError{fmt.Sprintf("deliver uid %d", f.UID), derr}
			break
		}
		st.Fetched++
		win.held++
		win.delivered[f.UID] = true
		if stopping {
			stopped = true
			break
		}
		if win.held >= s.w.opts.FlushEvery && !win.gap {
			if abort = s.flush(ctx, win, st); abort != nil {
				break
			}
		}
	}
	if abort != nil || stopped {
		// Draining the rest of the window would download it; dropping the
		// connection ends the FETCH at once.
		s.cn.kill()
	}
	// Always consume the command, or go-imap's reader stalls.
	if err := cmd.Close(); err != nil {
		fetchErr = connCtxErr(ctx, err)
	}
	return bodyless, stopped, fetchErr, abort
}

// see notes a response for a requested uid, in server order.
func (win *window) see(uid uint32, withBody bool) {
	if !withBody {
		win.gap = true
	}
	if win.next < len(win.uids) && uint32(win.uids[win.next]) == uid {
		win.next++
		return
	}
	win.gap = true
	i, _ := slices.BinarySearch(win.uids, imap.UID(uid))
	win.next = i + 1
}

// flush commits what the sink holds and notes the committed UIDs.
func (s *session) flush(ctx context.Context, win *window, st *Stats) error {
	if win.held == 0 {
		return nil
	}
	got, err := s.w.sink.Flush(context.WithoutCancel(ctx))
	if err != nil {
		return &sinkError{"flush", err}
	}
	st.Committed += len(got)
	win.held = 0
	for _, uid := range got {
		// A sink still holding messages from an aborted earlier session
		// may return their UIDs too; those may belong to another
		// UIDVALIDITY, so only this window's are marked.
		if win.delivered[uid] {
			win.committed = append(win.committed, uid)
		}
	}
	return nil
}

// readHead reads a FETCH response up to the body literal. Items after the
// literal cannot be read before it is consumed; servers send UID,
// INTERNALDATE and RFC822.SIZE first in practice, and go-imap relies on
// the UID coming first to route the response at all.
func readHead(msg *imapclient.FetchMessageData) (Fetched, imap.LiteralReader) {
	var f Fetched
	for {
		switch it := msg.Next().(type) {
		case nil:
			return f, nil
		case imapclient.FetchItemDataUID:
			f.UID = uint32(it.UID)
		case imapclient.FetchItemDataInternalDate:
			f.InternalDate = it.Time
		case imapclient.FetchItemDataRFC822Size:
			f.Size = it.Size
		case imapclient.FetchItemDataBodySection:
			return f, it.Literal
		}
	}
}

// bodyReader remembers a read failure the sink might swallow: a message
// cut short by a broken connection must not be flushed as if whole. That
// includes an end of stream before the literal's announced size: go-imap
// (v2.0.0-beta.8) reports a connection closed in the middle of a literal
// as the literal's normal end, io.EOF, so the sink would see a truncated
// message as complete; it is reported as io.ErrUnexpectedEOF instead.
type bodyReader struct {
	r    io.Reader
	size int64 // announced by the server
	read int64
	err  error
}

func (b *bodyReader) Read(p []byte) (int, error) {
	n, err := b.r.Read(p)
	b.read += int64(n)
	if err == io.EOF && b.read < b.size {
		err = fmt.Errorf("%w: connection ended after %d of %d bytes", io.ErrUnexpectedEOF, b.read, b.size)
	}
	if err != nil && err != io.EOF && b.err == nil {
		b.err = err
	}
	return n, err
}

// markProcessed sets the processed keyword on uids, moves them to MoveTo
// when set, then tells the sink the marks are done.
func (s *session) markProcessed(ctx context.Context, uids []uint32, st *Stats) error {
	if len(uids) == 0 {
		return nil
	}
	w := s.w
	uids = slices.Clone(uids)
	slices.Sort(uids)
	uids = slices.Compact(uids)
	move := w.opts.MoveTo != "" && s.canMove()

	for chunk := range slices.Chunk(uids, markChunk) {
		var set imap.UIDSet
		for _, uid := range chunk {
			set.AddNum(imap.UID(uid))
		}
		err := s.cn.within(w.cmdTimeout, func() error {
			return s.cn.c.Store(set, &imap.StoreFlags{
				Op:     imap.StoreFlagsAdd,
				Silent: true,
				Flags:  []imap.Flag{imap.Flag(w.opts.ProcessedKeyword)},
			}, nil).Close()
		})
		if err != nil {
			return connCtxErr(ctx, fmt.Errorf("mark uids %v: %w", set, err))
		}
		if move {
			if err := s.move(set); err != nil {
				return connCtxErr(ctx, fmt.Errorf("move uids %v to %q: %w", set, w.opts.MoveTo, err))
			}
		}
	}
	if err := w.sink.MarksDone(ctx, w.opts.Mailbox, s.uidValidity, uids); err != nil {
		return &sinkError{"forget pending marks", err}
	}
	st.Marked += len(uids)
	return nil
}

// move moves set to MoveTo with MOVE, or else with UID COPY, STORE
// \Deleted and UID EXPUNGE (canMove checked UIDPLUS), each step waiting
// for the one before. Client.Move's own fallback sends the three at once:
// when the COPY fails (MoveTo missing, quota) the originals are expunged
// anyway and the mail is lost.
func (s *session) move(set imap.UIDSet) error {
	c, dest, d := s.cn.c, s.w.opts.MoveTo, s.w.cmdTimeout
	if s.cn.caps.Has(imap.CapMove) {
		return s.cn.within(d, func() error {
			_, err := c.Move(set, dest).Wait()
			return err
		})
	}
	if err := s.cn.within(d, func() error { _, err := c.Copy(set, dest).Wait(); return err }); err != nil {
		return fmt.Errorf("copy: %w", err)
	}
	err := s.cn.within(d, func() error {
		return c.Store(set, &imap.StoreFlags{Op: imap.StoreFlagsAdd, Silent: true, Flags: []imap.Flag{imap.FlagDeleted}}, nil).Close()
	})
	if err != nil {
		return fmt.Errorf("flag deleted: %w", err)
	}
	if err := s.cn.within(d, func() error { return c.UIDExpunge(set).Close() }); err != nil {
		return fmt.Errorf("expunge: %w", err)
	}
	return nil
}

// canMove reports whether messages can be moved without touching others:
// by MOVE, or by COPY and a UID EXPUNGE limited to them (UIDPLUS). A plain
// EXPUNGE would also remove whatever else carries \Deleted, so without
// either the messages keep only the keyword.
func (s *session) canMove() bool {
	if s.cn.caps.Has(imap.CapMove) || s.cn.caps.Has(imap.CapUIDPlus) {
		return true
	}
	if !s.w.noMoveLogged.Swap(true) {
		s.w.log.Warn("server offers neither MOVE nor UIDPLUS; processed mail stays in place with its keyword",
			"move_to", s.w.opts.MoveTo)
	}
	return false
}

// wait returns when there may be new mail: at once if the server already
// announced some, else after IDLE reports it (re-checking every
// idleRecheck as a safety net) or after PollInterval.
func (s *session) wait(ctx context.Context) error {
	select {
	case <-s.wake:
		return nil
	default:
	}
	if s.w.opts.IDLE && s.cn.caps.Has(imap.CapIdle) {
		return s.idle(ctx, s.w.idleRecheck)
	}
	return s.poll(ctx, s.w.opts.PollInterval)
}

func (s *session) idle(ctx context.Context, recheck time.Duration) error {
	var cmd *imapclient.IdleCommand
	err := s.cn.within(s.w.cmdTimeout, func() (err error) {
		cmd, err = s.cn.c.Idle()
		return err
	})
	if err != nil {
		return connCtxErr(ctx, fmt.Errorf("start idle: %w", err))
	}
	if held := s.guard.hold(); held {
		defer s.guard.unhold()
		t := time.NewTimer(recheck)
		defer t.Stop()
		select {
		case <-s.wake:
		case <-t.C:
		case <-ctx.Done():
		case <-s.cn.c.Closed():
			cmd.Close() // releases the IDLE goroutine; the error is known
			return connCtxErr(ctx, errors.New("idle: server closed the connection"))
		}
	}
	timeout := s.w.cmdTimeout
	if ctx.Err() != nil {
		timeout = logoutTimeout // shutting down: be polite, briefly
	}
	err = s.cn.within(timeout, func() error {
		if err := cmd.Close(); err != nil {
			return err
		}
		return cmd.Wait()
	})
	if err != nil {
		return connCtxErr(ctx, fmt.Errorf("idle: %w", err))
	}
	return ctx.Err()
}

func (s *session) poll(ctx context.Context, every time.Duration) error {
	t := time.NewTimer(every)
	defer t.Stop()
	select {
	case <-s.wake:
	case <-t.C:
	case <-ctx.Done():
		return ctx.Err()
	case <-s.cn.c.Closed():
		return connCtxErr(ctx, errors.New("server closed the connection"))
	}
	return nil
}

// stopGuard turns cancellation of the caller's context into closing the
// connection, the only way to interrupt a go-imap command, except while
// the session holds it: during Sink.Deliver, since shutting down must not
// cut a delivery short, and during IDLE, which ends more politely with
// DONE. The session then watches ctx itself and the connection is closed
// when the hold ends.
type stopGuard struct {
	kill    func()
	release func() bool // unregisters from the context

	mu       sync.Mutex
	held     bool
	stopping bool
}

func newStopGuard(ctx context.Context, kill func()) *stopGuard {
	g := &stopGuard{kill: kill}
	g.release = context.AfterFunc(ctx, g.stop)
	return g
}

func (g *stopGuard) stop() {
	g.mu.Lock()
	defer g.mu.Unlock()
	g.stopping = true
	if !g.held {
		g.kill()
	}
}

// hold defers closing on cancellation until unhold; it reports false
// (and holds nothing) if the session is already stopping.
func (g *stopGuard) hold() bool {
	g.mu.Lock()
	defer g.mu.Unlock()
	if g.stopping {
		return false
	}
	g.held = true
	return true
}

// unhold ends a hold and reports whether the session is stopping; if so
// the connection is closed by the time it returns.
func (g *stopGuard) unhold() (stopping bool) {
	g.mu.Lock()
	defer g.mu.Unlock()
	g.held = false
	if g.stopping {
		g.kill()
	}
	return g.stopping
}
