package store

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/binary"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/claimsd/claimsd/caseref"
	bolt "go.etcd.io/bbolt"
)

// Tx is a read or write transaction. Values it returns are copies and
// stay valid after the transaction ends.
type Tx struct{ tx *bolt.Tx }

// Update runs fn in one write transaction: everything fn writes commits
// together, or nothing does.
func (db *DB) Update(fn func(*Tx) error) error {
	return db.bolt.Update(func(tx *bolt.Tx) error { return fn(&Tx{tx}) })
}

// View runs fn in a read transaction.
func (db *DB) View(fn func(*Tx) error) error {
	return db.bolt.View(func(tx *bolt.Tx) error { return fn(&Tx{tx}) })
}

func (t *Tx) b(name []byte) *bolt.Bucket { return t.tx.Bucket(name) }

// Case returns a case by id.
func (t *Tx) Case(id string) (Case, bool, error) {
	var c Case
	ok, err := getJSON(t.b(bCases), []byte(id), &c)
	return c, ok, err
}

// PutCase stores c, keeping the status and customer indexes in step with
// the version stored before.
func (t *Tx) PutCase(c *Case) error {
	old, existed, err := t.Case(c.ID)
	if err != nil {
		return err
	}
	if !existed {
		return t.UpdateCase(nil, c)
	}
	return t.UpdateCase(&old, c)
}

// UpdateCase stores c, whose stored version the caller has already read as
// old (nil for a new case), and moves the indexes from old to c.
func (t *Tx) UpdateCase(old, c *Case) error {
	existed := old != nil
	if !existed {
		old = &Case{}
	}
	// An index key that did not change is not written again: a Put of
	// the same key still dirties its page, and a scheduler tick updates
	// cases spread over the whole tree.
	st := t.b(bStatus)
	statusMoved := !existed || old.Status != c.Status || !old.CreatedAt.Equal(c.CreatedAt)
	if existed && statusMoved {
		if err := st.Delete(statusKey(old.Status, old.CreatedAt, old.ID)); err != nil {
			return err
		}
	}
	if statusMoved {
		if err := st.Put(statusKey(c.Status, c.CreatedAt, c.ID), nil); err != nil {
			return err
		}
	}
	cu, cs := t.b(bCustomer), t.b(bCustSubject)
	customerMoved := !existed || old.Customer != c.Customer || old.NormSubject != c.NormSubject
	if existed && customerMoved {
		if err := cu.Delete(join(keyPart(old.Customer), []byte(old.ID))); err != nil {
			return err
		}
		if err := cs.Delete(join(keyPart(old.Customer), keyPart(old.NormSubject), []byte(old.ID))); err != nil {
			return err
		}
	}
	if c.Customer != "" && customerMoved {
		if err := cu.Put(join(keyPart(c.Customer), []byte(c.ID)), nil); err != nil {
			return err
		}
		if err := cs.Put(join(keyPart(c.Customer), keyPart(c.NormSubject), []byte(c.ID)), nil); err != nil {
			return err
		}
	}
	if err := t.moveDueKeys(old, c, existed); err != nil {
		return err
	}
	return putJSON(t.b(bCases), []byte(c.ID), c)
}

// dueKeys are a case's entries in the time-ordered indexes the scheduler
// and `cases list --overdue` read: when to look at it next, its legal due
// date while open and not yet answered, its first-answer deadline while
// unanswered.
func dueKeys(c *Case) map[string][]byte {
	keys := map[string][]byte{}
	if !c.NextDueAt.IsZero() {
		keys[string(bDue)] = append(u64(uint64(max(c.NextDueAt.UnixNano(), 0))), c.ID...)
	}
	if IsOpenStatus(c.Status) && c.LegalDue != "" && c.LegalAnsweredAt.IsZero() {
		keys[string(bLegalDue)] = join([]byte(c.LegalDue), []byte(c.ID))
	}
	if IsOpenStatus(c.Status) && c.FirstAnsweredAt.IsZero() && !c.FirstAnswerDue.IsZero() {
		keys[string(bFirstDue)] = append(u64(uint64(max(c.FirstAnswerDue.UnixNano(), 0))), c.ID...)
	}
	return keys
}

func (t *Tx) moveDueKeys(old, c *Case, existed bool) error {
	now := dueKeys(c)
	if existed {
		for bucket, k := range dueKeys(old) {
			if bytes.Equal(now[bucket], k) {
				continue
			}
			if err := t.b([]byte(bucket)).Delete(k); err != nil {
				return err
			}
		}
	}
	for bucket, k := range now {
		if err := t.b([]byte(bucket)).Put(k, nil); err != nil {
			return err
		}
	}
	return nil
}

// CasesDueBy returns up to limit cases whose NextDueAt is at or before
// now, earliest first, and the NextDueAt of the first case not returned
// (zero when none): the scheduler's tick costs in proportion to the cases
// due, not to all cases.
func (t *Tx) CasesDueBy(now time.Time, limit int) ([]Case, time.Time, error) {
	var out []Case
	c := t.b(bDue).Cursor()
	for k, _ := c.First(); k != nil; k, _ = c.Next() {
		at := time.Unix(0, int64(binary.BigEndian.Uint64(k)))
		if at.After(now) || len(out) >= limit {
			return out, at, nil
		}
		cs, ok, err := t.Case(string(k[8:]))
		if err != nil {
			return nil, time.Time{}, err
		}
		if ok {
			out = append(out, cs)
		}
	}
	return out, time.Time{}, nil
}

// OpenCasesLegalDueBy returns the open cases whose legal due date is on or
// before date (YYYY-MM-DD), earliest first.
func (t *Tx) OpenCasesLegalDueBy(date string) ([]Case, error) {
	var out []Case
	c := t.b(bLegalDue).Cursor()
	for k, _ := c.First(); k != nil; k, _ = c.Next() {
		d, id, _ := bytes.Cut(k, []byte{0})
		if string(d) > date {
			break
		}
		cs, ok, err := t.Case(string(id))
		if err != nil {
			return nil, err
		}
		if ok {
			out = append(out, cs)
		}
	}
	return out, nil
}

// OpenCasesFirstAnswerDueBy returns the open, unanswered cases whose
// first-answer deadline is at or before at, earliest first.
func (t *Tx) OpenCasesFirstAnswerDueBy(at time.Time) ([]Case, error) {
	var out []Case
	c := t.b(bFirstDue).Cursor()
	for k, _ := c.First(); k != nil; k, _ = c.Next() {
		if time.Unix(0, int64(binary.BigEndian.Uint64(k))).After(at) {
			break
		}
		cs, ok, err := t.Case(string(k[8:]))
		if err != nil {
			return nil, err
		}
		if ok {
			out = append(out, cs)
		}
	}
	return out, nil
}

func (t *Tx) casesByDeadline(f CaseFilter) ([]Case, error) {
	var out []Case
	if f.LegalDueBy != "" {
		cs, err := t.OpenCasesLegalDueBy(f.LegalDueBy)
		if err != nil {
			return nil, err
		}
		out = cs
	}
	if !f.FirstAnswerDueBy.IsZero() {
		cs, err := t.OpenCasesFirstAnswerDueBy(f.FirstAnswerDueBy)
		if err != nil {
			return nil, err
		}
		for _, c := range cs {
			if !slices.ContainsFunc(out, func(o Case) bool { return o.ID == c.ID }) {
				out = append(out, c)
			}
		}
	}
	if f.Status != "" {
		out = slices.DeleteFunc(out, func(c Case) bool { return c.Status != f.Status })
	}
	slices.SortStableFunc(out, func(a, b Case) int {
		if c := strings.Compare(a.LegalDue, b.LegalDue); c != 0 {
			return c
		}
		return strings.Compare(a.ID, b.ID)
	})
	return out, nil
}

// keyPart is a value as it goes into an index key. Values from mail
// (Message-IDs, addresses, subjects) can be as long as a header line, and
// bbolt refuses keys over 32 KB: one hostile message must not make its
// commit fail forever. Long values are indexed by their SHA-256, which
// keeps equality lookups exact. Values with a NUL byte are hashed too, as
// NUL separates key parts.
func keyPart(v string) []byte {
	if len(v) <= maxKeyPart && !strings.Contains(v, "\x00") {
		return []byte(v)
	}
	sum := sha256.Sum256([]byte(v))
	return append([]byte("\x01sha256:"), hex.EncodeToString(sum[:])...)
}

const maxKeyPart = 512

func statusKey(status string, created time.Time, id string) []byte {
	return join([]byte(status), u64(uint64(created.UnixNano())), []byte(id))
}

// NextCaseID allocates the next case id of year. Numbers are never reused:
// the per-year sequence only grows, even when cases are later erased.
func (t *Tx) NextCaseID(prefix string, year int) (string, error) {
	meta := t.b(bMeta)
	key := fmt.Appendf(nil, "case_seq/%s/%04d", prefix, year)
	var n uint64
	if v := meta.Get(key); v != nil {
		n = binary.BigEndian.Uint64(v)
	}
	n++
	if err := meta.Put(key, u64(n)); err != nil {
		return "", err
	}
	return caseref.Format(prefix, year, n), nil
}

// CasesOfCustomer returns the cases whose customer is addr.
func (t *Tx) CasesOfCustomer(addr string) ([]Case, error) {
	return t.casesUnder(bCustomer, append(keyPart(addr), 0))
}

// CasesOfCustomerWithSubject returns the cases of customer addr whose
// normalised subject is norm, reading only those cases.
func (t *Tx) CasesOfCustomerWithSubject(addr, norm string) ([]Case, error) {
	return t.casesUnder(bCustSubject, append(join(keyPart(addr), keyPart(norm)), 0))
}

// casesUnder reads the cases whose ids end the index keys under prefix.
func (t *Tx) casesUnder(bucket, prefix []byte) ([]Case, error) {
	var out []Case
	c := t.b(bucket).Cursor()
	for k, _ := c.Seek(prefix); k != nil && bytes.HasPrefix(k, prefix); k, _ = c.Next() {
		cs, ok, err := t.Case(string(k[len(prefix):]))
		if err != nil {
			return nil, err
		}
		if ok {
			out = append(out, cs)
		}
	}
	return out, nil
}

// AddMessage assigns m a sequence number and stores it with its indexes,
// and raw, the whole message, when it is kept inline (nil otherwise).
// Raw messages are keyed by sequence number, not by hash: appending to the
// end of a B+tree dirties far fewer pages per commit than inserting large
// values at random places.
func (t *Tx) AddMessage(m *Message, raw []byte) error {
	msgs := t.b(bMessages)
	seq, err := msgs.NextSequence()
	if err != nil {
		return err
	}
	m.Seq = seq
	key := u64(seq)
	if raw != nil {
		if err := t.b(bRaw).Put(key, raw); err != nil {
			return err
		}
	}
	if m.MessageID != "" {
		if err := t.b(bMsgID).Put(keyPart(m.MessageID), key); err != nil {
			return err
		}
	}
	if m.RawSHA256 != "" {
		if err := t.b(bRawHash).Put([]byte(m.RawSHA256), key); err != nil {
			return err
		}
	}
	if m.Source.Mailbox != "" {
		if err := t.b(bSource).Put(sourceKey(m.Source), key); err != nil {
			return err
		}
	}
	if m.CaseID != "" {
		if err := t.b(bCaseMsgs).Put(join([]byte(m.CaseID), key), nil); err != nil {
			return err
		}
	} else if err := t.b(bUnfiled).Put(key, nil); err != nil {
		return err
	}
	if m.ParseError != "" {
		if err := t.b(bFailed).Put(key, nil); err != nil {
			return err
		}
	}
	return putJSON(msgs, key, m)
}

func sourceKey(s Source) []byte {
	k := append([]byte(s.Mailbox), 0)
	k = binary.BigEndian.AppendUint32(k, s.UIDValidity)
	return binary.BigEndian.AppendUint32(k, s.UID)
}

func (t *Tx) seqIn(bucket []byte, key string) (uint64, bool) {
	if key == "" {
		return 0, false
	}
	v := t.b(bucket).Get([]byte(key))
	if v == nil {
		return 0, false
	}
	return binary.BigEndian.Uint64(v), true
}

// MessageSeqByID returns the stored message with Message-ID id.
func (t *Tx) MessageSeqByID(id string) (uint64, bool) {
	if id == "" {
		return 0, false
	}
	return t.seqIn(bMsgID, string(keyPart(id)))
}

// MessageSeqByRawHash returns the stored message whose raw bytes hash to h.
func (t *Tx) MessageSeqByRawHash(h string) (uint64, bool) { return t.seqIn(bRawHash, h) }

// MessageSeqBySource returns the message read from s, if it was committed.
func (t *Tx) MessageSeqBySource(s Source) (uint64, bool) {
	v := t.b(bSource).Get(sourceKey(s))
	if v == nil {
		return 0, false
	}
	return binary.BigEndian.Uint64(v), true
}

// AddSource records that the message seq was also read from s (a
// duplicate delivery), so the same UID is recognised if fetched again.
func (t *Tx) AddSource(s Source, seq uint64) error {
	return t.b(bSource).Put(sourceKey(s), u64(seq))
}

// Message returns a message by sequence number.
func (t *Tx) Message(seq uint64) (Message, bool, error) {
	var m Message
	ok, err := getJSON(t.b(bMessages), u64(seq), &m)
	return m, ok, err
}

// CaseMessages returns the messages of a case in arrival order.
func (t *Tx) CaseMessages(caseID string) ([]Message, error) {
	prefix := append([]byte(caseID), 0)
	var out []Message
	c := t.b(bCaseMsgs).Cursor()
	for k, _ := c.Seek(prefix); k != nil && bytes.HasPrefix(k, prefix); k, _ = c.Next() {
		m, ok, err := t.Message(binary.BigEndian.Uint64(k[len(prefix):]))
		if err != nil {
			return nil, err
		}
		if ok {
			out = append(out, m)
		}
	}
	return out, nil
}

// CaseFilter selects cases for EachCase and ListCases.
type CaseFilter struct {
	Status string // "" for all
	// LegalDueBy (YYYY-MM-DD) selects open cases whose legal due date is
	// on or before it; FirstAnswerDueBy open, unanswered cases whose
	// first-answer deadline is at or before it. Either or both: the union,
	// read from the deadline indexes.
	LegalDueBy       string
	FirstAnswerDueBy time.Time
}

func (f CaseFilter) byDeadline() bool { return f.LegalDueBy != "" || !f.FirstAnswerDueBy.IsZero() }

// ListCases returns the cases EachCase gives, in its order, all at once:
// for callers that want few cases (a status, a deadline) or a small store.
// A listing of the whole store reads them with DB.EachCase.
func (t *Tx) ListCases(f CaseFilter) ([]Case, error) {
	var out []Case
	if err := t.EachCase(f, func(c Case) error { out = append(out, c); return nil }); err != nil {
		return nil, err
	}
	return out, nil
}

// EachCase calls fn with the cases f selects, decoding one at a time, so
// that a listing of the whole store holds one case rather than all of
// them. An error from fn stops the walk and is returned. The order:
//   - without a filter, id order: by case prefix, then the year the
//     complaint was received (the id's year), then number, which is the
//     order the cases were opened within one prefix and year (numbers are
//     six digits: past 999,999 cases in a year the seven-digit ones sort
//     among the earlier ones);
//   - with a status, the status index's: creation time, then id;
//   - with a deadline, legal due date, then id (a deadline selects few
//     cases: they are read from its index, then sorted).
func (t *Tx) EachCase(f CaseFilter, fn func(Case) error) error {
	if f.byDeadline() {
		cases, err := t.casesByDeadline(f)
		if err != nil {
			return err
		}
		for _, c := range cases {
			if err := fn(c); err != nil {
				return err
			}
		}
		return nil
	}
	return t.eachCaseAfter(f, nil, func(_ []byte, c Case) error { return fn(c) })
}

// eachCaseAfter is EachCase without a deadline, from just after the key
// after (nil: from the first) of the bucket it walks: the cases by id,
// or the status index. fn gets each case's key too, for a later walk to
// resume after it.
func (t *Tx) eachCaseAfter(f CaseFilter, after []byte, fn func(key []byte, c Case) error) error {
	bucket, prefix := bCases, []byte(nil)
	if f.Status != "" {
		bucket, prefix = bStatus, append([]byte(f.Status), 0)
	}
	cur := t.b(bucket).Cursor()
	k, v := cur.Seek(prefix)
	if after != nil {
		if k, v = cur.Seek(after); bytes.Equal(k, after) {
			k, v = cur.Next()
		}
	}
	for ; k != nil && bytes.HasPrefix(k, prefix); k, v = cur.Next() {
		var c Case
		if f.Status == "" {
			if err := json.Unmarshal(v, &c); err != nil {
				return fmt.Errorf("decode case %s: %w", k, err)
			}
		} else {
			// status NUL created(8) NUL id
			found, ok, err := t.Case(string(k[len(prefix)+9:]))
			if err != nil {
				return err
			}
			if !ok {
				continue
			}
			c = found
		}
		if err := fn(k, c); err != nil {
			return err
		}
	}
	return nil
}

// casesPage is how many cases DB.EachCase reads in one transaction.
const casesPage = 1000

// EachCase calls fn with the cases f selects, in Tx.EachCase's order. It
// reads them casesPage at a time, each page in a read transaction of its
// own, and calls fn between transactions: a listing of the whole store
// holds one page, and a slow reader of it (a pager, a client of the
// control socket) keeps no transaction open, which would hold up every
// commit that must grow the file (bbolt remaps it only when no reader is
// open) and keep the pages freed meanwhile from being reused. A case
// changed while the listing runs is listed as it was when its page was
// read, and at most once; one added may or may not be listed. An error
// from fn, or ctx ending, stops the listing and is returned.
func (db *DB) EachCase(ctx context.Context, f CaseFilter, fn func(Case) error) error {
	if f.byDeadline() {
		var cases []Case
		err := db.View(func(tx *Tx) (err error) {
			cases, err = tx.casesByDeadline(f)
			return err
		})
		if err != nil {
			return err
		}
		for _, c := range cases {
			if err := fn(c); err != nil {
				return err
			}
		}
		return nil
	}
	pageFull := errors.New("page full")
	page := make([]Case, 0, casesPage)
	var after []byte
	for {
		if err := ctx.Err(); err != nil {
			return err
		}
		page = page[:0]
		err := db.View(func(tx *Tx) error {
			return tx.eachCaseAfter(f, after, func(k []byte, c Case) error {
				page = append(page, c)
				if len(page) == casesPage {
					after = bytes.Clone(k) // bbolt's keys live only as long as the transaction
					return pageFull
				}
				return nil
			})
		})
		if err != nil && !errors.Is(err, pageFull) {
			return err
		}
		for _, c := range page {
			if err := fn(c); err != nil {
				return err
			}
		}
		if len(page) < casesPage {
			return nil
		}
	}
}

// ForEachCase calls fn with every case in id order (EachCase without a
// filter), decoding one at a time, so that whole-store reads (reports)
// hold one case rather than all of them. An error from fn stops the walk
// and is returned.
func (t *Tx) ForEachCase(fn func(Case) error) error { return t.EachCase(CaseFilter{}, fn) }

// MessageFilter selects messages kept outside cases.
type MessageFilter struct {
	Unfiled     bool // messages that belong to no case
	ParseFailed bool // messages that did not parse
}

// ListMessages returns the messages selected by f in arrival order.
func (t *Tx) ListMessages(f MessageFilter) ([]Message, error) {
	bucket := bUnfiled
	if f.ParseFailed {
		bucket = bFailed
	}
	var out []Message
	err := t.b(bucket).ForEach(func(k, _ []byte) error {
		m, ok, err := t.Message(binary.BigEndian.Uint64(k))
		if ok {
			out = append(out, m)
		}
		return err
	})
	return out, err
}

// Raw returns the inline raw message of message seq (a copy), nil when it
// is kept as a file (Message.RawInFile).
func (t *Tx) Raw(seq uint64) []byte {
	return bytes.Clone(t.b(bRaw).Get(u64(seq)))
}

// Cursor is where following a mailbox resumes.
type Cursor struct {
	UIDValidity uint32 `json:"uidvalidity"`
	LastUID     uint32 `json:"last_uid"`
}

// Cursor returns the stored cursor of mailbox (zero when never read).
func (t *Tx) Cursor(mailbox string) (Cursor, error) {
	var c Cursor
	_, err := getJSON(t.b(bCursors), []byte(mailbox), &c)
	return c, err
}

// PutCursor stores the cursor of mailbox.
func (t *Tx) PutCursor(mailbox string, c Cursor) error {
	return putJSON(t.b(bCursors), []byte(mailbox), c)
}

// AddPendingMark records that uid is committed but not yet marked on the
// server.
func (t *Tx) AddPendingMark(mailbox string, uidValidity, uid uint32) error {
	return t.b(bPendingMarks).Put(sourceKey(Source{mailbox, uidValidity, uid}), nil)
}

// PendingMarks lists the UIDs of mailbox/uidValidity still to be marked.
func (t *Tx) PendingMarks(mailbox string, uidValidity uint32) []uint32 {
	prefix := binary.BigEndian.AppendUint32(append([]byte(mailbox), 0), uidValidity)
	var uids []uint32
	c := t.b(bPendingMarks).Cursor()
	for k, _ := c.Seek(prefix); k != nil && bytes.HasPrefix(k, prefix); k, _ = c.Next() {
		uids = append(uids, binary.BigEndian.Uint32(k[len(prefix):]))
	}
	return uids
}

// DropPendingMarks forgets marks of mailbox: for uidValidity only the given
// uids; with uids nil, every mark of every other UIDVALIDITY (void after a
// change).
func (t *Tx) DropPendingMarks(mailbox string, uidValidity uint32, uids []uint32) error {
	b := t.b(bPendingMarks)
	if uids != nil {
		for _, uid := range uids {
			if err := b.Delete(sourceKey(Source{mailbox, uidValidity, uid})); err != nil {
				return err
			}
		}
		return nil
	}
	prefix := append([]byte(mailbox), 0)
	var stale [][]byte
	c := b.Cursor()
	for k, _ := c.Seek(prefix); k != nil && bytes.HasPrefix(k, prefix); k, _ = c.Next() {
		if binary.BigEndian.Uint32(k[len(prefix):]) != uidValidity {
			stale = append(stale, bytes.Clone(k))
		}
	}
	for _, k := range stale {
		if err := b.Delete(k); err != nil {
			return err
		}
	}
	return nil
}

// Inc adds n to a counter.
func (t *Tx) Inc(name string, n uint64) error {
	b := t.b(bCounters)
	var v uint64
	if old := b.Get([]byte(name)); old != nil {
		v = binary.BigEndian.Uint64(old)
	}
	return b.Put([]byte(name), u64(v+n))
}

// Counters returns every counter.
func (t *Tx) Counters() map[string]uint64 {
	out := map[string]uint64{}
	t.b(bCounters).ForEach(func(k, v []byte) error {
		out[string(k)] = binary.BigEndian.Uint64(v)
		return nil
	})
	return out
}

// Value returns a small named value stored with PutValue (nil if none).
func (t *Tx) Value(name string) []byte { return bytes.Clone(t.b(bMetaKV).Get([]byte(name))) }

// PutValue stores a small named value.
func (t *Tx) PutValue(name string, v []byte) error { return t.b(bMetaKV).Put([]byte(name), v) }

// DeleteValue removes a named value.
func (t *Tx) DeleteValue(name string) error { return t.b(bMetaKV).Delete([]byte(name)) }
