// Package intake owns the path of one message from the mailbox to the
// store: spool the raw bytes, parse, decide the kind, thread into a case and
// commit the message, its case change and the mailbox cursor together. It
// is the mailbox.Sink of the daemon. Threading itself (thread.go) is a pure
// function over a Lookup.
package intake

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"os"
	"runtime"
	"sync"
	"time"

	"github.com/claimsd/claimsd/caseref"
	"github.com/claimsd/claimsd/classifier"
	"github.com/claimsd/claimsd/deadline"
	"github.com/claimsd/claimsd/mailbox"
	"github.com/claimsd/claimsd/message"
	"github.com/claimsd/claimsd/outbox"
	"github.com/claimsd/claimsd/store"
)

// Settings are the parts of the configuration intake uses.
type Settings struct {
	CasePrefix    string
	Location      *time.Location
	SubjectWindow time.Duration
	// Addresses tells staff and our own addresses apart.
	Addresses classifier.Addresses
	// MessageIDDomain is the domain of the Message-IDs we mint (the claims
	// address's domain).
	MessageIDDomain string
	// Deadlines keeps a case's deadlines as messages arrive; nil uses
	// the legal defaults (14 days, Polish holidays, 08-16 Mon-Fri).
	Deadlines Tracker
	// Responder answers committed messages inside the same transaction
	// (acknowledgements, bounce handling); nil answers nothing.
	Responder Responder
	// Classifier gives a new case its category, remedy, priority and
	// language (classifier.Learner); nil leaves them to the specialists.
	Classifier Classifier
	// ReopenWithin: a customer's mail to a case closed longer ago opens a
	// new case linked to it; 0 always reopens.
	ReopenWithin time.Duration
	// Changed is called after a commit that opened cases or queued mail
	// (the sender's and the scheduler's Wake); nil for none.
	Changed func()
}

// Classifier classifies a new case's first message.
type Classifier interface {
	Classify(in classifier.Input) classifier.Result
}

// Tracker keeps a case's deadlines (deadline.Policy): it is called for
// every message that opens or joins a case, before the case is stored.
type Tracker interface {
	Track(c *store.Case, kind classifier.Kind, at time.Time, newCase bool)
}

// Responder decides claimsd's automatic answers. It is called for every
// new message inside the commit, after threading and before the case and
// message are stored, and may change both.
type Responder interface {
	Respond(tx *store.Tx, in outbox.Incoming) (outbox.Outcome, error)
	// BounceCase finds the case of the mail a bounce is about when
	// threading could not.
	BounceCase(tx *store.Tx, p *message.Parsed) (caseID, note string, err error)
}

// Intake turns fetched messages into committed cases.
type Intake struct {
	db    *store.DB
	set   Settings
	log   *slog.Logger
	now   func() time.Time
	rules ThreadRules

	// Parsing runs beside fetching on every core, and groups of messages
	// commit in the background, one after the other in delivery order,
	// while the next group is fetched. Only the watcher's goroutine
	// touches cur, queue, committed and failed.
	sem       chan struct{}
	cur       *group   // group being filled
	queue     []*group // launched groups, oldest first, not yet collected
	committed []uint32 // UIDs of collected groups since the last Flush
	failed    error    // first commit error since the last Flush

	mu    sync.Mutex // guards stats
	stats Stats
}

// Grouping limits: a group commits in one transaction (one fsync); the
// byte cap and the queue depth bound the raw bytes held in memory to
// about (maxQueued+1) * groupMaxBytes.
const (
	groupMaxMessages = 64
	groupMaxBytes    = 8 << 20
	maxQueued        = 2
)

// group is a run of delivered messages committed in one transaction.
type group struct {
	msgs  []*spooled
	bytes int
	prev  *group        // the group launched before; commits first
	done  chan struct{} // closed when committed or failed
	err   error
	uids  []uint32
}

// Stats counts what this Intake did since it was made.
type Stats struct {
	Committed   int            // new messages stored
	NewCases    int            // cases opened
	Duplicates  int            // messages already held (same Message-ID or bytes)
	ParseFailed int            // stored raw, with the parse error
	Unfiled     int            // kept without a case
	Queued      int            // outgoing mails queued
	ByKind      map[string]int // new messages by kind
}

// Seen is how many fetched messages were taken, new or duplicate.
func (s Stats) Seen() int { return s.Committed + s.Duplicates }

// New returns an Intake writing to db. now is the clock (tests and
// `run --once --now` pass a fixed one).
func New(db *store.DB, set Settings, log *slog.Logger, now func() time.Time) *Intake {
	if set.Location == nil {
		set.Location = time.UTC
	}
	if set.Deadlines == nil {
		set.Deadlines = deadline.DefaultPolicy(set.Location)
	}
	ids := caseref.MessageIDs{Key: db.MessageIDKey(), Domain: set.MessageIDDomain}
	return &Intake{
		db:  db,
		set: set,
		log: log,
		now: now,
		rules: ThreadRules{
			Tags:          caseref.NewTagMatcher(set.CasePrefix),
			OurIDs:        ids,
			SubjectWindow: set.SubjectWindow,
			IsStaff:       set.Addresses.IsStaff,
		},
		sem:   make(chan struct{}, runtime.GOMAXPROCS(0)),
		stats: Stats{ByKind: map[string]int{}},
	}
}

// Stats returns a copy of the counts so far.
func (in *Intake) Stats() Stats {
	in.mu.Lock()
	defer in.mu.Unlock()
	s := in.stats
	s.ByKind = make(map[string]int, len(in.stats.ByKind))
	for k, v := range in.stats.ByKind {
		s.ByKind[k] = v
	}
	return s
}

// spooled is one delivered message waiting for Flush.
type spooled struct {
	src     store.Source
	date    time.Time
	raw     []byte   // whole message when small
	file    *os.File // whole message when large; nil otherwise
	sha     string
	size    int64
	done    chan struct{}
	parsed  *message.Parsed
	parseEr error
	// storeErr is set when writing an attachment or reading the spool
	// failed: a fault of the disk, not of the message, so its group must
	// fail and be delivered again rather than commit it as unparsable.
	storeErr error
}

// Cursor implements mailbox.Sink.
func (in *Intake) Cursor(_ context.Context, mbox string) (mailbox.Cursor, error) {
	var c store.Cursor
	err := in.db.View(func(tx *store.Tx) (err error) {
		c, err = tx.Cursor(mbox)
		return err
	})
	return mailbox.Cursor{UIDValidity: c.UIDValidity, LastUID: c.LastUID}, err
}

// ResetCursor implements mailbox.Sink: a new UIDVALIDITY voids every
// stored UID; deduplication by Message-ID and raw hash keeps the refetched
// messages from doubling.
func (in *Intake) ResetCursor(_ context.Context, mbox string, uidValidity uint32) error {
	return in.db.Update(func(tx *store.Tx) error {
		if err := tx.PutCursor(mbox, store.Cursor{UIDValidity: uidValidity}); err != nil {
			return err
		}
		return tx.DropPendingMarks(mbox, uidValidity, nil)
	})
}

// PendingMarks implements mailbox.Sink.
func (in *Intake) PendingMarks(_ context.Context, mbox string, uidValidity uint32) ([]uint32, error) {
	var uids []uint32
	err := in.db.View(func(tx *store.Tx) error {
		uids = tx.PendingMarks(mbox, uidValidity)
		return nil
	})
	return uids, err
}

// MarksDone implements mailbox.Sink.
func (in *Intake) MarksDone(_ context.Context, mbox string, uidValidity uint32, uids []uint32) error {
	return in.db.Update(func(tx *store.Tx) error { return tx.DropPendingMarks(mbox, uidValidity, uids) })
}

// Deliver implements mailbox.Sink: it spools the raw bytes (in memory up
// to store.InlineRawLimit, else to a temp file, so a 50 MB message costs
// no 50 MB of RAM), starts parsing beside the fetch, and launches the
// commit of a full group in the background.
func (in *Intake) Deliver(ctx context.Context, f mailbox.Fetched) error {
	if in.failed != nil {
		return in.fail()
	}
	s := &spooled{
		src:  store.Source{Mailbox: f.Mailbox, UIDValidity: f.UIDValidity, UID: f.UID},
		date: f.InternalDate,
		done: make(chan struct{}),
	}
	if err := in.spool(s, f.Body); err != nil {
		return fmt.Errorf("spool uid %d: %w", f.UID, err)
	}
	select {
	case in.sem <- struct{}{}:
	case <-ctx.Done():
		s.close()
		return ctx.Err()
	}
	go func() {
		defer func() { <-in.sem; close(s.done) }()
		s.parsed, s.parseEr = in.parse(s)
	}()
	if in.cur == nil {
		in.cur = &group{}
	}
	in.cur.msgs = append(in.cur.msgs, s)
	in.cur.bytes += len(s.raw)
	if len(in.cur.msgs) >= groupMaxMessages || in.cur.bytes >= groupMaxBytes {
		in.launch()
	}
	return nil
}

// launch starts committing the current group after the groups before it,
// first waiting for the oldest when too many are queued.
func (in *Intake) launch() {
	g := in.cur
	in.cur = nil
	for len(in.queue) >= maxQueued {
		in.collect()
	}
	if in.failed != nil {
		// An earlier group failed: committing this one would move the
		// cursor past messages that are not stored. Drop it; the next
		// call reports the failure and the watcher delivers it again.
		for _, s := range g.msgs {
			<-s.done
			s.close()
		}
		return
	}
	if n := len(in.queue); n > 0 {
		g.prev = in.queue[n-1]
	}
	g.done = make(chan struct{})
	in.queue = append(in.queue, g)
	go in.commitGroup(g)
}

// collect waits for the oldest launched group and takes its outcome.
func (in *Intake) collect() {
	g := in.queue[0]
	in.queue = in.queue[1:]
	<-g.done
	if g.err != nil {
		if in.failed == nil {
			in.failed = g.err
		}
		return
	}
	in.committed = append(in.committed, g.uids...)
}

// fail returns the pending error after waiting out every launched group
// and dropping what was not committed: the watcher reconnects and
// delivers those messages again.
func (in *Intake) fail() error {
	if in.cur != nil {
		for _, s := range in.cur.msgs {
			<-s.done
			s.close()
		}
		in.cur = nil
	}
	for len(in.queue) > 0 {
		in.collect()
	}
	err := in.failed
	in.failed, in.committed = nil, nil
	return err
}

func (in *Intake) spool(s *spooled, body io.Reader) error {
	h := sha256.New()
	var buf bytes.Buffer
	n, err := io.Copy(io.MultiWriter(&buf, h), io.LimitReader(body, store.InlineRawLimit+1))
	if err != nil {
		return err
	}
	if n <= store.InlineRawLimit {
		s.raw, s.size, s.sha = buf.Bytes(), n, hex.EncodeToString(h.Sum(nil))
		return nil
	}
	f, err := os.CreateTemp(in.db.TempDir(), "raw-*")
	if err != nil {
		return err
	}
	// The head is already in h: only the file gets it again.
	if _, err := f.Write(buf.Bytes()); err != nil {
		f.Close()
		os.Remove(f.Name())
		return err
	}
	more, err := io.Copy(io.MultiWriter(f, h), body)
	if err != nil {
		f.Close()
		os.Remove(f.Name())
		return err
	}
	s.file, s.size, s.sha = f, n+more, hex.EncodeToString(h.Sum(nil))
	return nil
}

// parse reads the spooled message. Attachments go straight to their
// content-addressed files; a failure to write one, or to read the spool
// file, is noted in s.storeErr.
func (in *Intake) parse(s *spooled) (*message.Parsed, error) {
	var r io.Reader = bytes.NewReader(s.raw)
	if s.file != nil {
		r = &storeErrReader{r: io.NewSectionReader(s.file, 0, s.size), s: s}
	}
	return message.Parse(r, storeErrSink{blobs: in.db.Attachments(), s: s})
}

// storeErrSink records the first failure to store an attachment.
type storeErrSink struct {
	blobs *store.Blobs
	s     *spooled
}

func (k storeErrSink) Put(r io.Reader) (int64, string, error) {
	n, sum, err := k.blobs.Put(r)
	if err != nil && k.s.storeErr == nil {
		k.s.storeErr = fmt.Errorf("store attachment: %w", err)
	}
	return n, sum, err
}

// storeErrReader records the first failure to read the spool file.
type storeErrReader struct {
	r io.Reader
	s *spooled
}

func (k *storeErrReader) Read(p []byte) (int, error) {
	n, err := k.r.Read(p)
	if err != nil && err != io.EOF && k.s.storeErr == nil {
		k.s.storeErr = fmt.Errorf("read spooled message: %w", err)
	}
	return n, err
}

// close removes a spooled message's temp file, if it still has one.
func (s *spooled) close() {
	if s.file != nil {
		s.file.Close()
		os.Remove(s.file.Name())
		s.file = nil
	}
}

// Flush implements mailbox.Sink: it commits the group being filled, waits
// for every group launched before it, and returns the UIDs committed
// since the last Flush. Groups commit strictly in delivery order, so a
// reply delivered after its original threads onto it, and a failed group
// stops every later one: the cursor never passes an uncommitted message.
func (in *Intake) Flush(ctx context.Context) ([]uint32, error) {
	if in.cur != nil && in.failed == nil {
		in.launch()
	}
	for len(in.queue) > 0 {
		in.collect()
	}
	if in.failed != nil {
		return nil, in.fail()
	}
	uids := in.committed
	in.committed = nil
	return uids, nil
}

// errEarlierGroup stops a group whose predecessor failed to commit.
var errEarlierGroup = errors.New("an earlier group of messages failed to commit")

// commitGroup runs in its own goroutine: it waits for the group before it
// and for its messages' parses, then commits them in one transaction.
func (in *Intake) commitGroup(g *group) {
	defer close(g.done)
	defer func() {
		for _, s := range g.msgs {
			s.close()
		}
	}()
	for _, s := range g.msgs {
		<-s.done
	}
	if g.prev != nil {
		<-g.prev.done
		if g.prev.err != nil {
			g.err = errEarlierGroup
			return
		}
	}
	for _, s := range g.msgs {
		if s.storeErr != nil {
			g.err = fmt.Errorf("uid %d: %w", s.src.UID, s.storeErr)
			return
		}
	}
	// Large raw messages become files before the commit that refers to
	// them; a crash in between leaves an orphan file, never a dangling
	// reference.
	raws := in.db.RawFiles()
	for _, s := range g.msgs {
		if s.file != nil {
			if err := raws.Adopt(s.file, s.sha); err != nil {
				g.err = fmt.Errorf("store raw uid %d: %w", s.src.UID, err)
				return
			}
			s.file = nil
		}
	}
	var batch Stats
	now := in.now()
	g.err = in.db.Update(func(tx *store.Tx) error {
		g.uids = g.uids[:0]
		batch = Stats{ByKind: map[string]int{}}
		for _, s := range g.msgs {
			if err := in.commitOne(tx, s, now, &batch); err != nil {
				return fmt.Errorf("commit uid %d: %w", s.src.UID, err)
			}
			g.uids = append(g.uids, s.src.UID)
		}
		return recordGroup(tx, g.msgs, batch)
	})
	if g.err != nil {
		g.uids = nil
		return
	}
	if batch.Queued+batch.NewCases > 0 && in.set.Changed != nil {
		in.set.Changed()
	}
	in.mu.Lock()
	in.stats.Committed += batch.Committed
	in.stats.NewCases += batch.NewCases
	in.stats.Duplicates += batch.Duplicates
	in.stats.ParseFailed += batch.ParseFailed
	in.stats.Unfiled += batch.Unfiled
	in.stats.Queued += batch.Queued
	for k, v := range batch.ByKind {
		in.stats.ByKind[k] += v
	}
	in.mu.Unlock()
}

func (in *Intake) commitOne(tx *store.Tx, s *spooled, now time.Time, st *Stats) error {
	// Already committed under this very UID (a crash fell between the
	// commit and the mark): only the mark is missing.
	if _, ok := tx.MessageSeqBySource(s.src); ok {
		return nil
	}
	p := s.parsed
	if p == nil {
		p = &message.Parsed{}
	}
	if seq, dup := in.duplicateOf(tx, p.MessageID, s.sha); dup {
		in.log.Info("duplicate message", "uid", s.src.UID, "message_id", p.MessageID, "same_as_seq", seq)
		st.Duplicates++
		return tx.AddSource(s.src, seq)
	}
	received := s.date
	if received.IsZero() {
		received = now
	}
	m := &store.Message{
		MessageID:   p.MessageID,
		InReplyTo:   p.InReplyTo,
		References:  p.References,
		From:        p.From.Addr,
		FromName:    p.From.Name,
		ReplyTo:     p.ReplyTo,
		To:          p.To,
		Cc:          p.Cc,
		Subject:     p.Subject,
		Date:        p.Date,
		ReceivedAt:  received,
		IngestedAt:  now,
		Text:        p.NewText,
		Quoted:      p.Quoted,
		FromHTML:    p.FromHTML,
		Attachments: p.Attachments,
		RawSHA256:   s.sha,
		RawSize:     s.size,
		RawInFile:   s.raw == nil,
		Source:      s.src,
		Problems:    p.Problems,
	}
	if m.Text == "" {
		m.Text, m.Quoted = p.Text, ""
	}
	if m.Attachments == nil {
		m.Attachments = []message.Attachment{}
	}
	if s.parseEr != nil {
		m.ParseError = s.parseEr.Error()
		st.ParseFailed++
		in.log.Warn("message did not parse; stored raw", "uid", s.src.UID, "sha256", s.sha, "err", s.parseEr)
	}
	kind, why := classifier.KindOf(p, in.set.Addresses, func(id string) bool {
		_, ok := in.rules.OurIDs.CaseOf(id)
		return ok
	})
	m.Kind, m.KindReason = string(kind), why
	norm := message.NormalizeSubject(p.Subject)
	d, err := Thread(ThreadInput{
		From:              p.From.Addr,
		Kind:              kind,
		MessageID:         p.MessageID,
		InReplyTo:         p.InReplyTo,
		References:        p.References,
		EnclosedMessageID: p.EnclosedMessageID,
		Subject:           p.Subject,
		NormSubject:       norm,
		ReceivedAt:        received,
	}, in.rules, txLookup{tx})
	if err != nil {
		return fmt.Errorf("thread: %w", err)
	}
	m.ThreadedBy, m.ThreadNote = string(d.By), d.Note
	if d.By == ByNone && kind == classifier.KindBounce && in.set.Responder != nil {
		// A bounce that quotes nothing of ours may still name the mail by
		// its VERP address.
		id, note, err := in.set.Responder.BounceCase(tx, p)
		if err != nil {
			return fmt.Errorf("bounce case: %w", err)
		}
		if id != "" {
			d = Decision{CaseID: id, By: ByVERP, Note: note}
			m.ThreadedBy, m.ThreadNote = string(d.By), d.Note
		}
	}
	var c, old *store.Case
	var linkedTo string
	if d.CaseID != "" {
		cs, ok, err := tx.Case(d.CaseID)
		if err != nil {
			return err
		}
		if !ok {
			return fmt.Errorf("threaded into missing case %s", d.CaseID)
		}
		if cs.MergedInto != "" {
			// #merge: mail of a merged case goes to the one it joined.
			if t, ok, err := tx.Case(cs.MergedInto); err != nil {
				return err
			} else if ok {
				m.ThreadNote += "; merged into " + t.ID
				cs = t
			}
		}
		erased := cs.Restricted || !cs.PurgedAt.IsZero()
		switch {
		case erased && kind != classifier.KindStaff:
			// The customer's data was erased or purged: the case keeps
			// only a pseudonym, so mail about it opens a new case (with
			// the sender's address, to be answered), linked to it.
			linkedTo, d = cs.ID, Decision{By: ByNewCase, Note: "follows up " + cs.ID + ", whose personal data was erased"}
			m.ThreadedBy, m.ThreadNote = string(d.By), d.Note
		case kind == classifier.KindCustomer && store.IsClosingStatus(cs.Status) && in.set.ReopenWithin > 0 &&
			received.Sub(cs.ClosedAt) > in.set.ReopenWithin:
			// Closed long ago: a new case, linked, rather than reopening.
			linkedTo, d = cs.ID, Decision{By: ByNewCase, Note: "follows up " + cs.ID + ", closed " + cs.ClosedAt.Format(time.DateOnly)}
			m.ThreadedBy, m.ThreadNote = string(d.By), d.Note
		default:
			prev := cs
			old, c = &prev, &cs
			c.Messages++
			if received.After(c.LastMessageAt) {
				c.LastMessageAt = received
			}
		}
	}
	newCase := false
	if d.By == ByNewCase {
		if p.From.Addr == "" {
			// A complaint nobody can be answered about is kept, not
			// opened as a case.
			m.ThreadedBy, m.ThreadNote = string(ByNone), "no sender address"
		} else {
			id, err := tx.NextCaseID(in.set.CasePrefix, received.In(in.set.Location).Year())
			if err != nil {
				return err
			}
			c = &store.Case{
				ID: id, Status: store.StatusOpen, Customer: p.From.Addr, CustomerName: p.From.Name,
				Subject: p.Subject, NormSubject: norm, CreatedAt: now, ReceivedAt: received,
				LastMessageAt: received, Messages: 1, LinkedTo: linkedTo,
			}
			c.Language, _, _ = classifier.Language(m.Text)
			if in.set.Classifier != nil {
				classify(c, in.set.Classifier.Classify(classifier.Input{Subject: p.Subject, Text: m.Text, Attachments: m.Attachments}))
			}
			newCase = true
			st.NewCases++
		}
	}
	if c != nil {
		m.CaseID = c.ID
		in.set.Deadlines.Track(c, kind, received, newCase)
	}
	if in.set.Responder != nil {
		out, err := in.set.Responder.Respond(tx, outbox.Incoming{Case: c, NewCase: newCase, Message: m, Parsed: p, Now: now})
		if err != nil {
			return fmt.Errorf("respond: %w", err)
		}
		if out.Queued {
			st.Queued++
		}
	}
	if c != nil {
		if err := tx.UpdateCase(old, c); err != nil {
			return err
		}
	}
	if m.CaseID == "" {
		st.Unfiled++
	}
	if err := tx.AddMessage(m, s.raw); err != nil {
		return err
	}
	st.Committed++
	st.ByKind[m.Kind]++
	in.log.Debug("message threaded", "uid", s.src.UID, "case", m.CaseID, "kind", m.Kind, "threaded_by", m.ThreadedBy)
	return nil
}

// recordGroup moves the cursors past a committed group, remembers its
// UIDs as marks still to be set on the server, and adds its counts, once
// per group rather than once per message.
func recordGroup(tx *store.Tx, msgs []*spooled, st Stats) error {
	cursors := map[string]store.Cursor{}
	for _, s := range msgs {
		c, seen := cursors[s.src.Mailbox]
		if !seen {
			var err error
			if c, err = tx.Cursor(s.src.Mailbox); err != nil {
				return err
			}
		}
		switch {
		case c.UIDValidity != s.src.UIDValidity:
			c = store.Cursor{UIDValidity: s.src.UIDValidity, LastUID: s.src.UID}
		case s.src.UID > c.LastUID:
			c.LastUID = s.src.UID
		}
		cursors[s.src.Mailbox] = c
		if err := tx.AddPendingMark(s.src.Mailbox, s.src.UIDValidity, s.src.UID); err != nil {
			return err
		}
	}
	for mbox, c := range cursors {
		if err := tx.PutCursor(mbox, c); err != nil {
			return err
		}
	}
	counts := map[string]int{
		store.CountIngested:    st.Committed,
		store.CountDuplicates:  st.Duplicates,
		store.CountParseFailed: st.ParseFailed,
		store.CountCases:       st.NewCases,
		store.CountUnfiled:     st.Unfiled,
		store.CountQueued:      st.Queued,
	}
	for kind, n := range st.ByKind {
		counts[store.CountKindPrefix+kind] = n
	}
	for name, n := range counts {
		if n == 0 {
			continue
		}
		if err := tx.Inc(name, uint64(n)); err != nil {
			return err
		}
	}
	return nil
}

// duplicateOf finds a message already held: by Message-ID, or by the hash
// of the raw bytes (messages without a Message-ID, or a resend of the same
// bytes).
func (in *Intake) duplicateOf(tx *store.Tx, messageID, sha string) (uint64, bool) {
	if seq, ok := tx.MessageSeqByID(messageID); ok {
		return seq, true
	}
	return tx.MessageSeqByRawHash(sha)
}

// txLookup answers threading from an open transaction, so decisions see
// the messages committed earlier in the same group.
type txLookup struct{ tx *store.Tx }

func summary(c store.Case) CaseSummary {
	return CaseSummary{ID: c.ID, Customer: c.Customer, Open: store.IsOpenStatus(c.Status), NormSubject: c.NormSubject, LastMessageAt: c.LastMessageAt}
}

func (l txLookup) CaseOfMessageID(id string) (string, bool, error) {
	seq, ok := l.tx.MessageSeqByID(id)
	if !ok {
		return "", false, nil
	}
	m, ok, err := l.tx.Message(seq)
	if err != nil || !ok || m.CaseID == "" {
		return "", false, err
	}
	return m.CaseID, true, nil
}

func (l txLookup) Case(id string) (CaseSummary, bool, error) {
	c, ok, err := l.tx.Case(id)
	return summary(c), ok, err
}

func (l txLookup) CasesWithSubject(addr, norm string) ([]CaseSummary, error) {
	cases, err := l.tx.CasesOfCustomerWithSubject(addr, norm)
	out := make([]CaseSummary, len(cases))
	for i, c := range cases {
		out[i] = summary(c)
	}
	return out, err
}

// classify records a classification on a new case, before its deadlines
// are set: the category chooses the legal period, category and priority
// the first-answer time.
func classify(c *store.Case, r classifier.Result) {
	c.Category, c.Remedy, c.Priority = r.Category.Value, r.Remedy.Value, r.Priority.Value
	if r.Language.Value != "" {
		c.Language = r.Language.Value
	}
	d := func(x classifier.Decision) store.ClassDecision {
		return store.ClassDecision{Value: x.Value, Confidence: x.Confidence, Reason: x.Reason}
	}
	c.Classification = &store.Classification{Category: d(r.Category), Remedy: d(r.Remedy), Priority: d(r.Priority), Language: d(r.Language)}
	for _, f := range r.Facts {
		c.Classification.Facts = append(c.Classification.Facts, store.CaseFact{Kind: f.Kind, Value: f.Value, Reason: f.Reason})
	}
}
