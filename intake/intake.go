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
	"fmt"
	"io"
	"log/slog"
	"os"
	"runtime"
	"sync"
	"time"

	"github.com/claimsd/claimsd/caseref"
	"github.com/claimsd/claimsd/classifier"
	"github.com/claimsd/claimsd/mailbox"
	"github.com/claimsd/claimsd/message"
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
}

// Intake turns fetched messages into committed cases.
type Intake struct {
	db    *store.DB
	set   Settings
	log   *slog.Logger
	now   func() time.Time
	rules ThreadRules

	// parsing runs beside fetching; Flush commits in delivery order.
	sem     chan struct{}
	pending []*spooled
	mu      sync.Mutex // guards stats
	stats   Stats
}

// Stats counts what this Intake did since it was made.
type Stats struct {
	Committed   int            // new messages stored
	NewCases    int            // cases opened
	Duplicates  int            // messages already held (same Message-ID or bytes)
	ParseFailed int            // stored raw, with the parse error
	Unfiled     int            // kept without a case
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
// no 50 MB of RAM) and starts parsing beside the fetch.
func (in *Intake) Deliver(ctx context.Context, f mailbox.Fetched) error {
	s := &spooled{
		src:  store.Source{Mailbox: f.Mailbox, UIDValidity: f.UIDValidity, UID: f.UID},
		date: f.InternalDate,
		done: make(chan struct{}),
	}
	if err := in.spool(s, f.Body); err != nil {
		return fmt.Errorf("spool uid %d: %w", f.UID, err)
	}
	in.pending = append(in.pending, s)
	select {
	case in.sem <- struct{}{}:
	case <-ctx.Done():
		close(s.done)
		return ctx.Err()
	}
	go func() {
		defer func() { <-in.sem; close(s.done) }()
		s.parsed, s.parseEr = in.parse(s)
	}()
	return nil
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
	w := io.MultiWriter(f, h)
	if _, err := w.Write(buf.Bytes()); err != nil {
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
// content-addressed files.
func (in *Intake) parse(s *spooled) (*message.Parsed, error) {
	var r io.Reader
	if s.file != nil {
		r = io.NewSectionReader(s.file, 0, s.size)
	} else {
		r = bytes.NewReader(s.raw)
	}
	return message.Parse(r, in.db.Attachments())
}

func (in *Intake) discard() {
	for _, s := range in.pending {
		<-s.done
		if s.file != nil {
			s.file.Close()
			os.Remove(s.file.Name())
		}
	}
	in.pending = nil
}

// Flush implements mailbox.Sink: one write transaction commits every
// pending message in delivery order, so a reply delivered after its
// original in the same group threads onto it.
func (in *Intake) Flush(ctx context.Context) ([]uint32, error) {
	defer in.discard()
	if len(in.pending) == 0 {
		return nil, nil
	}
	for _, s := range in.pending {
		select {
		case <-s.done:
		case <-ctx.Done():
			return nil, ctx.Err()
		}
	}
	// Large raw messages become files before the commit that refers to
	// them; a crash in between leaves an orphan file, never a dangling
	// reference.
	raws := in.db.RawFiles()
	for _, s := range in.pending {
		if s.file != nil {
			if err := raws.Adopt(s.file, s.sha); err != nil {
				return nil, fmt.Errorf("store raw uid %d: %w", s.src.UID, err)
			}
			s.file = nil
		}
	}
	var uids []uint32
	var batch Stats
	now := in.now()
	err := in.db.Update(func(tx *store.Tx) error {
		uids = uids[:0]
		batch = Stats{ByKind: map[string]int{}}
		for _, s := range in.pending {
			if err := in.commitOne(tx, s, now, &batch); err != nil {
				return fmt.Errorf("commit uid %d: %w", s.src.UID, err)
			}
			uids = append(uids, s.src.UID)
		}
		return nil
	})
	if err != nil {
		return nil, err
	}
	in.mu.Lock()
	in.stats.Committed += batch.Committed
	in.stats.NewCases += batch.NewCases
	in.stats.Duplicates += batch.Duplicates
	in.stats.ParseFailed += batch.ParseFailed
	in.stats.Unfiled += batch.Unfiled
	for k, v := range batch.ByKind {
		in.stats.ByKind[k] += v
	}
	in.mu.Unlock()
	return uids, nil
}

func (in *Intake) commitOne(tx *store.Tx, s *spooled, now time.Time, st *Stats) error {
	advance := func() error {
		c, err := tx.Cursor(s.src.Mailbox)
		if err != nil {
			return err
		}
		if c.UIDValidity == s.src.UIDValidity && s.src.UID > c.LastUID {
			c.LastUID = s.src.UID
		} else if c.UIDValidity != s.src.UIDValidity {
			c = store.Cursor{UIDValidity: s.src.UIDValidity, LastUID: s.src.UID}
		}
		if err := tx.PutCursor(s.src.Mailbox, c); err != nil {
			return err
		}
		return tx.AddPendingMark(s.src.Mailbox, s.src.UIDValidity, s.src.UID)
	}
	// Already committed under this very UID (a crash fell between the
	// commit and the mark): only the mark is missing.
	if _, ok := tx.MessageSeqBySource(s.src); ok {
		return advance()
	}
	p := s.parsed
	if p == nil {
		p = &message.Parsed{}
	}
	if seq, dup := in.duplicateOf(tx, p.MessageID, s.sha); dup {
		in.log.Info("duplicate message", "uid", s.src.UID, "message_id", p.MessageID, "same_as_seq", seq)
		st.Duplicates++
		if err := tx.AddSource(s.src, seq); err != nil {
			return err
		}
		if err := tx.Inc(store.CountDuplicates, 1); err != nil {
			return err
		}
		return advance()
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
		if err := tx.Inc(store.CountParseFailed, 1); err != nil {
			return err
		}
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
	switch {
	case d.By == ByNewCase:
		if p.From.Addr == "" {
			// A complaint nobody can be answered about is kept, not
			// opened as a case.
			m.ThreadedBy, m.ThreadNote = string(ByNone), "no sender address"
			break
		}
		id, err := tx.NextCaseID(in.set.CasePrefix, received.In(in.set.Location).Year())
		if err != nil {
			return err
		}
		c := &store.Case{
			ID: id, Status: store.StatusOpen, Customer: p.From.Addr, CustomerName: p.From.Name,
			Subject: p.Subject, NormSubject: norm, CreatedAt: now, ReceivedAt: received,
			LastMessageAt: received, Messages: 1,
		}
		if err := tx.PutCase(c); err != nil {
			return err
		}
		m.CaseID = id
		st.NewCases++
		if err := tx.Inc(store.CountCases, 1); err != nil {
			return err
		}
	case d.CaseID != "":
		c, ok, err := tx.Case(d.CaseID)
		if err != nil {
			return err
		}
		if !ok {
			return fmt.Errorf("threaded into missing case %s", d.CaseID)
		}
		c.Messages++
		if received.After(c.LastMessageAt) {
			c.LastMessageAt = received
		}
		if err := tx.PutCase(&c); err != nil {
			return err
		}
		m.CaseID = c.ID
	}
	if m.CaseID == "" {
		st.Unfiled++
		if err := tx.Inc(store.CountUnfiled, 1); err != nil {
			return err
		}
	}
	if s.raw != nil {
		if err := tx.PutRaw(s.sha, s.raw); err != nil {
			return err
		}
	}
	if err := tx.AddMessage(m); err != nil {
		return err
	}
	st.Committed++
	st.ByKind[m.Kind]++
	for _, name := range []string{store.CountIngested, store.CountKindPrefix + m.Kind} {
		if err := tx.Inc(name, 1); err != nil {
			return err
		}
	}
	in.log.Debug("message committed", "uid", s.src.UID, "case", m.CaseID, "kind", m.Kind, "threaded_by", m.ThreadedBy)
	return advance()
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
