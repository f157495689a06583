package store

// Data protection mechanics: finding everything held about a person,
// erasing it on request, and purging closed cases whose retention period
// has ended. What is kept, restricted or removed is decided by package
// privacy; this file finds every place personal data lives and applies
// the decision:
//
//   - cases: customer address and name, subject (and the customer and
//     customer+subject index keys derived from them), event notes, the
//     unreachable note, classification reasons and facts;
//   - messages: addresses and names in From/To/Cc/Reply-To, subject,
//     text, quoted text, notes, problems, Message-ID/References (and the
//     Message-ID index key when it embeds the address), the raw message
//     (a value in bucket raw, or a file under raw/), attachments (files
//     under attachments/, shared by content with other mail);
//   - outbox items: recipient, subject, bodies, thread headers, error
//     texts, attachments, and the rate-cap index keyed by recipient.
//
// The raw-hash and source indexes are kept on purpose: they hold no
// personal data (a SHA-256 of a whole message, a mailbox and UID), and they
// make intake recognise an erased message as a duplicate if the server
// ever offers it again, instead of ingesting it anew.
//
// bbolt never overwrites in place: a deleted or replaced value stays in a
// freed page of the file until that page is reused. Erasure therefore ends
// by rewriting the store into a new file (Compact) and overwriting the old
// one before it is released.

import (
	"bytes"
	"crypto/rand"
	"encoding/binary"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"time"

	"github.com/claimsd/claimsd/message"
	"github.com/claimsd/claimsd/privacy"
	bolt "go.etcd.io/bbolt"
)

var (
	// bAudit is created by the first erasure or retention run; stores
	// from before this release simply lack it.
	bAudit = []byte("gdpr_audit") // id(8) -> JSON AuditRecord

	keySubjectKey = []byte("gdpr_subject_key") // in bMeta: the key of privacy.SubjectHash
)

// Values of Message.Redacted.
const (
	RedactedErasure   = "erasure"
	RedactedRetention = "retention"
)

// Names of meta_kv values of the retention job.
const (
	// retentionUnfiledNext and retentionOutboxNext are where the
	// retention job resumes over messages outside cases and outbox items
	// outside cases: both grow in time order, so each run reads only what
	// it has not judged yet.
	retentionUnfiledNext = "retention_unfiled_next"
	retentionOutboxNext  = "retention_outbox_next"
	// pendingBlobs lists blob files whose last reference a committed run
	// removed and that are still to be deleted (a crash between the
	// commit and the deletion must not leave them forever).
	pendingBlobs = "gdpr_pending_blobs"
)

// Roles a record plays for a person (Subject).
const (
	RoleCustomer  = "customer"  // in one of their cases
	RoleAuthor    = "author"    // they wrote it, in another case or outside cases
	RoleRecipient = "recipient" // addressed or copied to them
	RoleMentioned = "mentioned" // names their address somewhere else
)

// AuditRecord is the trace of one erasure or retention run. It names no
// person: an erasure keeps the keyed hash of the address (privacy.SubjectHash),
// so a repeated request can be matched.
type AuditRecord struct {
	ID          uint64      `json:"id"`
	At          time.Time   `json:"at"`
	Action      string      `json:"action"` // erasure | retention
	SubjectHash string      `json:"subject_hash,omitempty"`
	Restricted  []string    `json:"restricted,omitempty"` // case ids
	Anonymised  []string    `json:"anonymised,omitempty"` // case ids
	Counts      PurgeCounts `json:"counts"`
}

// PurgeCounts say what a run removed.
type PurgeCounts struct {
	// Messages stripped of personal data (raw, text, attachments,
	// addresses); MessagesRedacted: other people's messages in which the
	// person's address or name was replaced and the raw copy removed.
	Messages         int `json:"messages"`
	MessagesRedacted int `json:"messages_redacted"`
	// Outbox items stripped of their bodies; OutboxCancelled of those
	// were still queued and will not be sent; OutboxRedacted: other mail
	// (digests) naming the person.
	Outbox          int `json:"outbox"`
	OutboxCancelled int `json:"outbox_cancelled"`
	OutboxRedacted  int `json:"outbox_redacted"`
	// CasesRedacted: other cases whose notes named the person.
	CasesRedacted int `json:"cases_redacted"`
	// IndexKeys removed that were derived from an address (customer,
	// customer+subject, rate caps, Message-IDs embedding the address).
	IndexKeys int `json:"index_keys"`
	// RawInline: raw messages removed from the database.
	RawInline int `json:"raw_inline"`
	// Files removed (raw messages and attachments); FilesShared were
	// kept because other mail still refers to them.
	Files       int `json:"files"`
	FilesShared int `json:"files_shared"`
}

// Subject is everything the store holds about one person.
type Subject struct {
	Address string `json:"address"`
	// Pseudonym is the customer of the person's restricted cases, set
	// when an earlier erasure left any.
	Pseudonym string `json:"pseudonym,omitempty"`
	// Names are the display names found with the address.
	Names    []string         `json:"names,omitempty"`
	Cases    []Case           `json:"cases"`
	Messages []SubjectMessage `json:"messages"`
	Outbox   []SubjectOutbox  `json:"outbox"`
	// MentionedIn are other cases whose records name the address.
	MentionedIn []string `json:"mentioned_in,omitempty"`
	// Erasures are earlier erasures of the same address.
	Erasures []AuditRecord `json:"erasures,omitempty"`

	hash string
}

// SubjectMessage is a message held about a person and why.
type SubjectMessage struct {
	Message
	Role string `json:"role"`
}

// SubjectOutbox is an outgoing mail held about a person and why.
type SubjectOutbox struct {
	OutboxItem
	Role string `json:"role"`
}

// Subject finds everything held about the person with address addr: the
// cases they are the customer of (under their address, or under their
// pseudonym after an earlier erasure), those cases' messages and mail,
// and every other message and mail that names the address. It reads every
// message and outbox item once.
func (db *DB) Subject(addr string) (*Subject, error) {
	addr, err := checkSubjectAddress(addr)
	if err != nil {
		return nil, err
	}
	var s *Subject
	err = db.View(func(tx *Tx) error {
		key, err := tx.subjectKey(false)
		if err != nil {
			return err
		}
		s, err = tx.subject(addr, key)
		return err
	})
	return s, err
}

func checkSubjectAddress(addr string) (string, error) {
	a := privacy.NormaliseAddress(addr)
	at := strings.LastIndexByte(a, '@')
	if at <= 0 || at == len(a)-1 || strings.ContainsAny(a, " <>,;\"") {
		return "", fmt.Errorf("%q is not an e-mail address; fix: give the plain address, e.g. jan.kowalski@example.pl", addr)
	}
	if privacy.IsPseudonym(a) || strings.HasSuffix(a, "@"+privacy.PseudonymDomain) {
		return "", fmt.Errorf("%q is a pseudonym claimsd made: give the person's real address", addr)
	}
	return a, nil
}

// subjectKey returns the key of privacy.SubjectHash, creating it when
// create is set (nil when there is none yet).
func (t *Tx) subjectKey(create bool) ([]byte, error) {
	meta := t.b(bMeta)
	if k := meta.Get(keySubjectKey); k != nil {
		return bytes.Clone(k), nil
	}
	if !create {
		return nil, nil
	}
	k := make([]byte, 32)
	if _, err := rand.Read(k); err != nil {
		return nil, fmt.Errorf("generate subject key: %w", err)
	}
	return k, meta.Put(keySubjectKey, k)
}

func (t *Tx) subject(addr string, key []byte) (*Subject, error) {
	s := &Subject{Address: addr, Cases: []Case{}, Messages: []SubjectMessage{}, Outbox: []SubjectOutbox{}}
	customers := []string{addr}
	if key != nil {
		s.hash = privacy.SubjectHash(key, addr)
		customers = append(customers, privacy.Pseudonym(s.hash))
	}
	theirs := map[string]bool{}
	for _, a := range customers {
		cs, err := t.CasesOfCustomer(a)
		if err != nil {
			return nil, err
		}
		for _, c := range cs {
			if !theirs[c.ID] {
				theirs[c.ID] = true
				s.Cases = append(s.Cases, c)
			}
			if a != addr {
				s.Pseudonym = a
			}
		}
	}
	slices.SortFunc(s.Cases, func(a, b Case) int { return a.CreatedAt.Compare(b.CreatedAt) })
	names := map[string]bool{}
	addName := func(n string) {
		if n = strings.TrimSpace(n); n != "" && !names[n] {
			names[n] = true
			s.Names = append(s.Names, n)
		}
	}
	seenMsg := map[uint64]bool{}
	seenOut := map[uint64]bool{}
	for _, c := range s.Cases {
		if c.Customer == addr {
			addName(c.CustomerName)
		}
		msgs, err := t.CaseMessages(c.ID)
		if err != nil {
			return nil, err
		}
		for _, m := range msgs {
			seenMsg[m.Seq] = true
			s.Messages = append(s.Messages, SubjectMessage{m, RoleCustomer})
		}
		items, err := t.OutboxOfCase(c.ID)
		if err != nil {
			return nil, err
		}
		for _, it := range items {
			seenOut[it.ID] = true
			s.Outbox = append(s.Outbox, SubjectOutbox{it, RoleCustomer})
		}
	}
	// Everything else is found by the address in the stored record;
	// there is no index by content, and a request is rare enough to read
	// everything once.
	find := privacy.NewRedactor("", addr)
	err := t.b(bMessages).ForEach(func(k, v []byte) error {
		if seenMsg[binary.BigEndian.Uint64(k)] || !find.Mentions(v) {
			return nil
		}
		var m Message
		if err := json.Unmarshal(v, &m); err != nil {
			return fmt.Errorf("decode message %d: %w", binary.BigEndian.Uint64(k), err)
		}
		s.Messages = append(s.Messages, SubjectMessage{m, messageRole(&m, addr)})
		return nil
	})
	if err != nil {
		return nil, err
	}
	err = t.b(bOutbox).ForEach(func(k, v []byte) error {
		if seenOut[binary.BigEndian.Uint64(k)] || !find.Mentions(v) {
			return nil
		}
		var it OutboxItem
		if err := json.Unmarshal(v, &it); err != nil {
			return fmt.Errorf("decode outbox item %d: %w", binary.BigEndian.Uint64(k), err)
		}
		role := RoleMentioned
		if strings.EqualFold(it.To.Addr, addr) {
			role = RoleRecipient
		}
		s.Outbox = append(s.Outbox, SubjectOutbox{it, role})
		return nil
	})
	if err != nil {
		return nil, err
	}
	err = t.b(bCases).ForEach(func(k, v []byte) error {
		if !theirs[string(k)] && find.Mentions(v) {
			s.MentionedIn = append(s.MentionedIn, string(k))
		}
		return nil
	})
	if err != nil {
		return nil, err
	}
	for _, m := range s.Messages {
		if strings.EqualFold(m.From, addr) {
			addName(m.FromName)
		}
		for _, a := range slices.Concat(m.To, m.Cc, m.ReplyTo) {
			if strings.EqualFold(a.Addr, addr) {
				addName(a.Name)
			}
		}
	}
	for _, it := range s.Outbox {
		if strings.EqualFold(it.To.Addr, addr) {
			addName(it.To.Name)
		}
	}
	if s.hash != "" {
		log, err := t.AuditLog()
		if err != nil {
			return nil, err
		}
		for _, r := range log {
			if r.SubjectHash == s.hash {
				s.Erasures = append(s.Erasures, r)
			}
		}
	}
	return s, nil
}

func messageRole(m *Message, addr string) string {
	if strings.EqualFold(m.From, addr) {
		return RoleAuthor
	}
	for _, a := range slices.Concat(m.To, m.Cc, m.ReplyTo) {
		if strings.EqualFold(a.Addr, addr) {
			return RoleRecipient
		}
	}
	return RoleMentioned
}

// AuditLog returns every erasure and retention record, oldest first.
func (t *Tx) AuditLog() ([]AuditRecord, error) {
	b := t.b(bAudit)
	if b == nil {
		return nil, nil
	}
	var out []AuditRecord
	err := b.ForEach(func(k, v []byte) error {
		var r AuditRecord
		if err := json.Unmarshal(v, &r); err != nil {
			return fmt.Errorf("decode audit record %d: %w", binary.BigEndian.Uint64(k), err)
		}
		out = append(out, r)
		return nil
	})
	return out, err
}

// newAudit reserves the next audit record id.
func (t *Tx) newAudit(action string, at time.Time) (*AuditRecord, error) {
	b, err := t.tx.CreateBucketIfNotExists(bAudit)
	if err != nil {
		return nil, fmt.Errorf("create audit bucket: %w", err)
	}
	id, err := b.NextSequence()
	if err != nil {
		return nil, err
	}
	return &AuditRecord{ID: id, At: at, Action: action}, nil
}

func (t *Tx) putAudit(r *AuditRecord) error { return putJSON(t.b(bAudit), u64(r.ID), r) }

// RawMessage opens the raw message of m: from the database when it is
// kept inline, else its file. ErrNotFound when it was purged.
func (db *DB) RawMessage(m Message) (io.ReadCloser, error) {
	if m.Redacted != "" {
		return nil, fmt.Errorf("raw message %d (removed: %s): %w", m.Seq, m.Redacted, ErrNotFound)
	}
	if m.RawInFile {
		f, err := os.Open(db.RawFiles().Path(m.RawSHA256))
		if errors.Is(err, os.ErrNotExist) {
			return nil, fmt.Errorf("raw message %d: %w", m.Seq, ErrNotFound)
		}
		return f, err
	}
	var raw []byte
	if err := db.View(func(tx *Tx) error { raw = tx.Raw(m.Seq); return nil }); err != nil {
		return nil, err
	}
	if raw == nil {
		return nil, fmt.Errorf("raw message %d: %w", m.Seq, ErrNotFound)
	}
	return io.NopCloser(bytes.NewReader(raw)), nil
}

// EraseOptions configure Erase.
type EraseOptions struct {
	Now   time.Time
	Rules privacy.Rules
	// IsStaff tells staff and our own addresses: as authors of messages
	// in a kept case they stay (who answered is part of the evidence).
	// nil: nobody.
	IsStaff func(addr string) bool
	// DryRun computes everything and changes nothing.
	DryRun bool
	// Compact rewrites the file afterwards; the caller must be the only
	// user of the DB (Compact).
	Compact bool
}

// CaseErasure is what an erasure does to one case.
type CaseErasure struct {
	ID        string    `json:"id"`
	Status    string    `json:"status"`
	ClosedAt  time.Time `json:"closed_at,omitzero"`
	Treatment string    `json:"treatment"` // hold | restrict | anonymise
	Until     time.Time `json:"until,omitzero"`
	Why       string    `json:"why"`
}

// ErasureReport says what Erase did (or would do).
type ErasureReport struct {
	SubjectHash string        `json:"subject_hash,omitempty"`
	DryRun      bool          `json:"dry_run,omitempty"`
	Earlier     []AuditRecord `json:"earlier_erasures,omitempty"`
	Cases       []CaseErasure `json:"cases"`
	Counts      PurgeCounts   `json:"counts"`
	// StillOnServer are where the erased messages were read from: claimsd
	// never deletes mail on the IMAP server.
	StillOnServer []Source    `json:"still_on_server,omitempty"`
	AuditID       uint64      `json:"audit_id,omitempty"`
	Compaction    *Compaction `json:"compaction,omitempty"`
}

// Compaction says how the file shrank when it was rewritten.
type Compaction struct {
	Before int64 `json:"before"`
	After  int64 `json:"after"`
}

// OpenCasesError refuses an erasure while cases of the person are open.
type OpenCasesError struct{ Cases []CaseErasure }

func (e *OpenCasesError) Error() string {
	ids := make([]string, len(e.Cases))
	for i, c := range e.Cases {
		ids[i] = c.ID + " (" + c.Status + ")"
	}
	return fmt.Sprintf("still open: %s; the complaint must be answered, which needs the address (GDPR art. 17(3)(b)); nothing was changed", strings.Join(ids, ", "))
}

// errDryRun rolls back a dry run's transaction.
var errDryRun = errors.New("dry run")

// Erase erases or restricts everything held about the person with
// address addr, as package privacy decides per case, in one transaction,
// with an audit record naming only the keyed hash of the address. Cases
// still open are held: then nothing changes and the error is an
// *OpenCasesError. Afterwards the blob files no longer referenced are
// deleted and, with Compact, the file is rewritten so no freed page keeps
// the erased bytes.
func (db *DB) Erase(addr string, o EraseOptions) (*ErasureReport, error) {
	addr, err := checkSubjectAddress(addr)
	if err != nil {
		return nil, err
	}
	var rep *ErasureReport
	rolledBack, err := db.commitPurge(o.DryRun, func(tx *Tx) (*PurgeCounts, bool, error) {
		var err error
		if rep, err = tx.erase(addr, o); err != nil {
			return nil, false, err
		}
		return &rep.Counts, false, nil
	})
	if rolledBack {
		rep.AuditID = 0 // rolled back with the rest
		return rep, nil
	}
	if err != nil {
		return rep, err
	}
	rep.Compaction, err = db.release(&rep.Counts, rep.AuditID, o.Compact, "erased")
	return rep, err
}

func (t *Tx) erase(addr string, o EraseOptions) (*ErasureReport, error) {
	firstKey := t.b(bMeta).Get(keySubjectKey) == nil
	key, err := t.subjectKey(true)
	if err != nil {
		return nil, err
	}
	s, err := t.subject(addr, key)
	if err != nil {
		return nil, err
	}
	rep := &ErasureReport{SubjectHash: s.hash, DryRun: o.DryRun, Earlier: s.Erasures, Cases: []CaseErasure{}}
	if o.DryRun && firstKey {
		rep.SubjectHash = "" // the key is made by the first real erasure
	}
	audit, err := t.newAudit("erasure", o.Now)
	if err != nil {
		return nil, err
	}
	audit.SubjectHash = s.hash
	p := newPurge(t, o.Now, RedactedErasure, o.IsStaff, &rep.Counts)
	red := privacy.NewRedactor(privacy.ErasedText, addr, s.Names...)
	pseudonym := privacy.Pseudonym(s.hash)
	var open []CaseErasure
	treat := map[string]privacy.Treatment{}
	for _, c := range s.Cases {
		d := o.Rules.OnErasure(caseState(&c), o.Now)
		ce := CaseErasure{ID: c.ID, Status: c.Status, ClosedAt: c.ClosedAt, Treatment: d.Treatment.String(), Until: d.Until, Why: d.Why}
		rep.Cases = append(rep.Cases, ce)
		treat[c.ID] = d.Treatment
		switch d.Treatment {
		case privacy.Hold:
			open = append(open, ce)
			continue
		case privacy.Restrict:
			audit.Restricted = append(audit.Restricted, c.ID)
		case privacy.Anonymise:
			audit.Anonymised = append(audit.Anonymised, c.ID)
		}
		who := person{addr: c.Customer, alias: pseudonym, red: red}
		if d.Treatment == privacy.Anonymise {
			who.alias = ""
		}
		note := fmt.Sprintf("erasure requested (audit %d): %s", audit.ID, d.Why)
		if err := p.purgeCase(c, d.Treatment, who, note); err != nil {
			return nil, err
		}
	}
	// The person's traces outside their own cases.
	elsewhere := person{addr: addr, alias: privacy.ErasedAddress, red: red}
	for _, sm := range s.Messages {
		if sm.Role == RoleCustomer {
			continue // done with its case (or held with it)
		}
		m := sm.Message
		if sm.Role == RoleAuthor {
			err = p.stripMessage(&m, elsewhere)
		} else {
			err = p.redactMessage(&m, elsewhere)
		}
		if err != nil {
			return nil, err
		}
	}
	for _, so := range s.Outbox {
		if so.Role == RoleCustomer {
			continue
		}
		it := so.OutboxItem
		if so.Role == RoleRecipient {
			err = p.stripOutbox(&it, elsewhere)
		} else {
			err = p.redactOutbox(&it, elsewhere)
		}
		if err != nil {
			return nil, err
		}
	}
	for _, id := range s.MentionedIn {
		if err := p.redactCase(id, red); err != nil {
			return nil, err
		}
	}
	// Rate-cap keys of mail to the person that no record refers to any
	// more (the index is never pruned).
	n, err := deletePrefix(t.b(bAutoMail), append(keyPart(addr), 0))
	if err != nil {
		return nil, err
	}
	rep.Counts.IndexKeys += n
	for _, sm := range s.Messages {
		if sm.Source.Mailbox != "" && (sm.Role == RoleAuthor || sm.Role == RoleCustomer && treat[sm.CaseID] != privacy.Hold) {
			rep.StillOnServer = append(rep.StillOnServer, sm.Source)
		}
	}
	if err := p.queueBlobs(); err != nil {
		return nil, err
	}
	if len(open) > 0 {
		if firstKey {
			rep.SubjectHash = "" // its key is rolled back with the rest
		}
		return rep, &OpenCasesError{Cases: open}
	}
	audit.Counts = rep.Counts
	rep.AuditID = audit.ID
	return rep, t.putAudit(audit)
}

// caseState is what package privacy needs to know of c.
func caseState(c *Case) privacy.CaseState {
	var kinds []string
	if c.Classification != nil {
		for _, f := range c.Classification.Facts {
			kinds = append(kinds, f.Kind)
		}
	}
	last := c.LastMessageAt
	if c.CreatedAt.After(last) {
		// A case cannot have been closed before it existed here (old
		// mail imported late has an old last message).
		last = c.CreatedAt
	}
	return privacy.CaseState{
		Open:         !IsClosingStatus(c.Status),
		ClosedAt:     c.ClosedAt,
		LastActivity: last,
		Billing:      privacy.IsBilling(c.Category, kinds),
	}
}

// person is whose data a purge removes.
type person struct {
	addr  string           // their address as stored ("" when unknown)
	alias string           // what it becomes in address fields: a pseudonym, a placeholder, or ""
	red   privacy.Redactor // their address and names in text
}

// embeddedIn reports whether a Message-ID carries the address (some
// clients build ids from it): such an id is itself personal data.
func (w person) embeddedIn(id string) bool {
	if w.addr == "" || id == "" {
		return false
	}
	l := strings.ToLower(id)
	if strings.Contains(l, strings.ToLower(w.addr)) {
		return true
	}
	local, _, _ := strings.Cut(strings.ToLower(w.addr), "@")
	return len(local) >= 3 && strings.Contains(l, local)
}

// purge applies removals within one transaction and collects the blob
// files that may have lost their last reference.
type purge struct {
	tx      *Tx
	at      time.Time
	reason  string
	isStaff func(string) bool
	counts  *PurgeCounts
	attach  map[string]bool // attachment hashes taken out of a record
	raws    map[string]bool // raw file hashes taken out of a record
}

func newPurge(t *Tx, at time.Time, reason string, isStaff func(string) bool, counts *PurgeCounts) *purge {
	if isStaff == nil {
		isStaff = func(string) bool { return false }
	}
	return &purge{tx: t, at: at, reason: reason, isStaff: isStaff, counts: counts, attach: map[string]bool{}, raws: map[string]bool{}}
}

// purgeCase treats case c and all its messages and mail: restricted cases
// keep what a legal claim needs under a pseudonym, anonymised ones only
// figures.
func (p *purge) purgeCase(c Case, t privacy.Treatment, who person, note string) error {
	old := c
	c.Customer = who.alias
	c.CustomerName = ""
	c.Subject, c.NormSubject = "", ""
	c.UnreachableNote = ""
	for i := range c.Events {
		c.Events[i].Note = who.red.String(c.Events[i].Note)
	}
	if cl := c.Classification; cl != nil {
		// Reasons quote the customer's words; values stay.
		for _, d := range []*ClassDecision{&cl.Category, &cl.Remedy, &cl.Priority, &cl.Language} {
			d.Reason = ""
		}
		var facts []CaseFact
		for _, f := range cl.Facts {
			if privacy.KeepFact(f.Kind, t) {
				facts = append(facts, CaseFact{Kind: f.Kind, Value: who.red.String(f.Value)})
			}
		}
		cl.Facts = facts
	}
	what := "gdpr_restricted"
	switch t {
	case privacy.Restrict:
		c.Restricted = true
	case privacy.Anonymise:
		c.PurgedAt = p.at
		what = "gdpr_anonymised"
		if p.reason == RedactedRetention {
			what = "retention_purged"
		}
	}
	c.Events = append(c.Events, Event{At: p.at, What: what, Note: note})
	if old.Customer != c.Customer {
		p.counts.IndexKeys += 2 // customer and customer+subject
	}
	if err := p.tx.UpdateCase(&old, &c); err != nil {
		return fmt.Errorf("update case %s: %w", c.ID, err)
	}
	msgs, err := p.tx.CaseMessages(c.ID)
	if err != nil {
		return err
	}
	for _, m := range msgs {
		if err := p.stripMessage(&m, who); err != nil {
			return err
		}
	}
	items, err := p.tx.OutboxOfCase(c.ID)
	if err != nil {
		return err
	}
	for _, it := range items {
		if err := p.stripOutbox(&it, who); err != nil {
			return err
		}
	}
	return nil
}

// stripMessage removes a message's personal data: raw message,
// attachments, texts and addresses. What stays: kind, dates, how it was
// threaded, the author when it is staff (who answered is evidence) or the
// person's alias, and the index entries by which intake recognises the
// message if it is offered again (raw hash, source, a Message-ID that
// does not embed the address).
func (p *purge) stripMessage(m *Message, who person) error {
	if err := p.dropRaw(m); err != nil {
		return err
	}
	switch {
	case who.addr != "" && strings.EqualFold(m.From, who.addr):
		m.From, m.FromName = who.alias, ""
	case p.isStaff(m.From):
	default:
		m.From, m.FromName = "", ""
	}
	m.ReplyTo, m.To, m.Cc = nil, nil, nil
	m.Subject, m.Text, m.Quoted = "", "", ""
	m.ThreadNote = ""
	m.KindReason = who.red.String(m.KindReason)
	m.Answer = who.red.String(m.Answer)
	if m.ParseError != "" {
		m.ParseError = "did not parse"
	}
	m.Problems = nil
	m.InReplyTo, m.References = nil, nil
	if err := p.dropMessageID(m, who); err != nil {
		return err
	}
	for _, a := range m.Attachments {
		p.attach[a.SHA256] = true
	}
	m.Attachments = []message.Attachment{}
	return p.putMessage(m, &p.counts.Messages)
}

// redactMessage takes the person out of someone else's message: their
// address and name are replaced wherever they occur, and the raw message
// (whose headers carry them) is removed; the author's text and
// attachments stay.
func (p *purge) redactMessage(m *Message, who person) error {
	if err := p.dropRaw(m); err != nil {
		return err
	}
	r := who.red
	addrs := func(as []message.Address) []message.Address {
		for i := range as {
			if strings.EqualFold(as[i].Addr, who.addr) {
				as[i] = message.Address{Addr: who.alias}
			} else {
				as[i].Name, as[i].Addr = r.String(as[i].Name), r.String(as[i].Addr)
			}
		}
		return as
	}
	m.To, m.Cc, m.ReplyTo = addrs(m.To), addrs(m.Cc), addrs(m.ReplyTo)
	m.From, m.FromName = r.String(m.From), r.String(m.FromName)
	m.Subject, m.Text, m.Quoted = r.String(m.Subject), r.String(m.Text), r.String(m.Quoted)
	m.ThreadNote, m.KindReason, m.Answer, m.ParseError = r.String(m.ThreadNote), r.String(m.KindReason), r.String(m.Answer), r.String(m.ParseError)
	m.Problems = r.Strings(m.Problems)
	m.InReplyTo, m.References = r.Strings(m.InReplyTo), r.Strings(m.References)
	for i := range m.Attachments {
		m.Attachments[i].Name = r.String(m.Attachments[i].Name)
	}
	if err := p.dropMessageID(m, who); err != nil {
		return err
	}
	return p.putMessage(m, &p.counts.MessagesRedacted)
}

// putMessage stores m if the purge changed it, and counts it in n.
func (p *purge) putMessage(m *Message, n *int) error {
	if m.Redacted == "" {
		m.Redacted, m.RedactedAt = p.reason, p.at
	}
	data, err := json.Marshal(m)
	if err != nil {
		return fmt.Errorf("encode message %d: %w", m.Seq, err)
	}
	b := p.tx.b(bMessages)
	if bytes.Equal(b.Get(u64(m.Seq)), data) {
		return nil // purged before: nothing left to take
	}
	*n++
	return b.Put(u64(m.Seq), data)
}

// dropRaw removes the raw message: inline values at once, files once the
// transaction has committed and nothing else refers to them. The record
// forgets the hash (it describes a raw message the store no longer has);
// the raw-hash index keeps it, so the same bytes offered again are
// recognised as a duplicate.
func (p *purge) dropRaw(m *Message) error {
	defer func() { m.RawSHA256, m.RawInFile = "", false }()
	if m.RawInFile {
		p.raws[m.RawSHA256] = true
		return nil
	}
	b := p.tx.b(bRaw)
	if b.Get(u64(m.Seq)) == nil {
		return nil
	}
	p.counts.RawInline++
	return b.Delete(u64(m.Seq))
}

// dropMessageID forgets a Message-ID that embeds the person's address,
// with its index key.
func (p *purge) dropMessageID(m *Message, who person) error {
	if !who.embeddedIn(m.MessageID) {
		return nil
	}
	idx := p.tx.b(bMsgID)
	k := keyPart(m.MessageID)
	if v := idx.Get(k); v != nil && binary.BigEndian.Uint64(v) == m.Seq {
		if err := idx.Delete(k); err != nil {
			return err
		}
		p.counts.IndexKeys++
	}
	m.MessageID = ""
	return nil
}

// stripOutbox removes an outgoing mail's bodies, thread headers and
// attachments; a mail still queued is cancelled. Its id, purpose, status
// and times stay: when we answered is evidence.
func (p *purge) stripOutbox(it *OutboxItem, who person) error {
	old := *it
	switch {
	case who.addr != "" && strings.EqualFold(it.To.Addr, who.addr):
		it.To = message.Address{Addr: who.alias}
	case p.isStaff(it.To.Addr):
	default:
		it.To = message.Address{Addr: who.red.String(it.To.Addr)}
	}
	it.Subject, it.Text, it.HTML = "", "", ""
	it.ThreadTopic, it.ThreadIndex, it.InReplyTo, it.References = "", "", "", nil
	for _, a := range it.Attachments {
		p.attach[a.SHA256] = true
	}
	it.Attachments = nil
	it.LastError, it.BounceDetail = who.red.String(it.LastError), who.red.String(it.BounceDetail)
	it.SuppressedReason = who.red.String(it.SuppressedReason)
	if it.Pending() {
		it.Status = OutboxSuppressed
		it.SuppressedReason = "personal data removed (" + p.reason + ") before it was sent"
		it.NextAttemptAt = time.Time{}
		p.counts.OutboxCancelled++
	}
	return p.putOutbox(&old, it, &p.counts.Outbox)
}

// redactOutbox replaces the person's address and name in a mail about
// other things (a digest listing their case).
func (p *purge) redactOutbox(it *OutboxItem, who person) error {
	old := *it
	r := who.red
	it.To.Name, it.To.Addr = r.String(it.To.Name), r.String(it.To.Addr)
	it.Subject, it.Text, it.HTML, it.ThreadTopic = r.String(it.Subject), r.String(it.Text), r.String(it.HTML), r.String(it.ThreadTopic)
	it.LastError, it.BounceDetail, it.SuppressedReason = r.String(it.LastError), r.String(it.BounceDetail), r.String(it.SuppressedReason)
	it.References = r.Strings(it.References)
	it.InReplyTo = r.String(it.InReplyTo)
	return p.putOutbox(&old, it, &p.counts.OutboxRedacted)
}

// putOutbox stores it over old if the purge changed it, counting it in n,
// and keeps the due and rate-cap indexes right (UpdateOutbox only ever
// adds rate-cap keys).
func (p *purge) putOutbox(old, it *OutboxItem, n *int) error {
	key := u64(it.ID)
	if old.Pending() && !it.Pending() {
		if err := p.tx.b(bOutboxDue).Delete(dueKey(old.NextAttemptAt, old.ID)); err != nil {
			return err
		}
	}
	if old.To.Addr != it.To.Addr && old.To.Addr != "" {
		k := append(join(keyPart(old.To.Addr), u64(uint64(max(old.QueuedAt.UnixNano(), 0)))), key...)
		b := p.tx.b(bAutoMail)
		if b.Get(k) != nil {
			if err := b.Delete(k); err != nil {
				return err
			}
			p.counts.IndexKeys++
		}
	}
	data, err := json.Marshal(it)
	if err != nil {
		return fmt.Errorf("encode outbox item %d: %w", it.ID, err)
	}
	b := p.tx.b(bOutbox)
	if bytes.Equal(b.Get(key), data) {
		return nil
	}
	*n++
	return b.Put(key, data)
}

// redactCase replaces the person's address and names in another case's
// notes and texts.
func (p *purge) redactCase(id string, r privacy.Redactor) error {
	c, ok, err := p.tx.Case(id)
	if err != nil || !ok {
		return err
	}
	old, _, err := p.tx.Case(id) // a copy that shares no slices with c
	if err != nil {
		return err
	}
	c.Subject = r.String(c.Subject)
	c.NormSubject = message.NormalizeSubject(c.Subject)
	c.CustomerName = r.String(c.CustomerName)
	c.UnreachableNote = r.String(c.UnreachableNote)
	for i := range c.Events {
		c.Events[i].Note = r.String(c.Events[i].Note)
	}
	if cl := c.Classification; cl != nil {
		for _, d := range []*ClassDecision{&cl.Category, &cl.Remedy, &cl.Priority, &cl.Language} {
			d.Reason = r.String(d.Reason)
		}
		for i := range cl.Facts {
			cl.Facts[i].Value, cl.Facts[i].Reason = r.String(cl.Facts[i].Value), r.String(cl.Facts[i].Reason)
		}
	}
	a, _ := json.Marshal(old)
	b, _ := json.Marshal(c)
	if bytes.Equal(a, b) {
		return nil
	}
	p.counts.CasesRedacted++
	return p.tx.UpdateCase(&old, &c)
}

func deletePrefix(b *bolt.Bucket, prefix []byte) (int, error) {
	var keys [][]byte
	c := b.Cursor()
	for k, _ := c.Seek(prefix); k != nil && bytes.HasPrefix(k, prefix); k, _ = c.Next() {
		keys = append(keys, bytes.Clone(k))
	}
	for _, k := range keys {
		if err := b.Delete(k); err != nil {
			return 0, err
		}
	}
	return len(keys), nil
}

// pendingBlob names a blob file: kind "raw" or "attachment", and its hash.
type pendingBlob struct {
	Kind   string `json:"kind"`
	SHA256 string `json:"sha256"`
}

// pendingList reads the blob files queued for deletion (queueBlobs).
func (t *Tx) pendingList() ([]pendingBlob, error) {
	var refs []pendingBlob
	if v := t.Value(pendingBlobs); v != nil {
		if err := json.Unmarshal(v, &refs); err != nil {
			return nil, fmt.Errorf("decode pending blob deletions: %w", err)
		}
	}
	return refs, nil
}

// queueBlobs records the files this purge took references from, in the
// same transaction, so that their deletion survives a crash after the
// commit (finish deletes them).
func (p *purge) queueBlobs() error {
	if len(p.attach)+len(p.raws) == 0 {
		return nil
	}
	refs, err := p.tx.pendingList()
	if err != nil {
		return err
	}
	for _, set := range []struct {
		kind string
		m    map[string]bool
	}{{"raw", p.raws}, {"attachment", p.attach}} {
		for sha := range set.m {
			if sha != "" && !slices.Contains(refs, pendingBlob{set.kind, sha}) {
				refs = append(refs, pendingBlob{set.kind, sha})
			}
		}
	}
	slices.SortFunc(refs, func(a, b pendingBlob) int { return strings.Compare(a.Kind+a.SHA256, b.Kind+b.SHA256) })
	data, err := json.Marshal(refs)
	if err != nil {
		return err
	}
	return p.tx.PutValue(pendingBlobs, data)
}

// unreferenced splits the pending blob files into those no record refers
// to any more and those still shared with other mail. Attachments are
// content-addressed: the same file may belong to another customer's
// message or to a mail we relayed.
func (t *Tx) unreferenced() (gone, shared []pendingBlob, err error) {
	refs, err := t.pendingList()
	if err != nil || len(refs) == 0 {
		return nil, nil, err
	}
	used := make([]bool, len(refs))
	needles := make([][]byte, len(refs))
	for i, r := range refs {
		if r.Kind == "raw" {
			needles[i] = []byte(`"raw_sha256":"` + r.SHA256 + `"`)
		} else {
			needles[i] = []byte(`"sha256":"` + r.SHA256 + `"`)
		}
	}
	scan := func(bucket []byte, rawToo bool) error {
		return t.b(bucket).ForEach(func(_, v []byte) error {
			for i, r := range refs {
				if used[i] || (r.Kind == "raw" && (!rawToo || !bytes.Contains(v, []byte(`"raw_in_file":true`)))) {
					continue
				}
				if bytes.Contains(v, needles[i]) {
					used[i] = true
				}
			}
			return nil
		})
	}
	if err := scan(bMessages, true); err != nil {
		return nil, nil, err
	}
	if err := scan(bOutbox, false); err != nil {
		return nil, nil, err
	}
	for i, r := range refs {
		if used[i] {
			shared = append(shared, r)
		} else {
			gone = append(gone, r)
		}
	}
	return gone, shared, nil
}

// finish deletes the queued blob files nothing refers to any more, then
// forgets the queue and adds the files to audit record auditID (if any).
// Run after the purge committed; a crash in between leaves the queue for
// the next run.
//
// In the daemon, intake may commit a new message with the same
// attachment between the reference check and the deletion; its
// attachment file is then missing, which readers already allow for
// (attachment files are a cache of the raw message).
func (db *DB) finish(counts *PurgeCounts, auditID uint64) error {
	var gone, shared []pendingBlob
	err := db.View(func(tx *Tx) error {
		var err error
		gone, shared, err = tx.unreferenced()
		return err
	})
	if err != nil {
		return err
	}
	for _, r := range gone {
		path := db.Attachments().Path(r.SHA256)
		if r.Kind == "raw" {
			path = db.RawFiles().Path(r.SHA256)
		}
		if err := os.Remove(path); err != nil && !errors.Is(err, os.ErrNotExist) {
			return fmt.Errorf("remove %s file: %w", r.Kind, err)
		}
		counts.Files++
	}
	counts.FilesShared += len(shared)
	if len(gone)+len(shared) == 0 {
		return nil
	}
	return db.Update(func(tx *Tx) error {
		if b := tx.b(bAudit); b != nil && auditID != 0 {
			var r AuditRecord
			ok, err := getJSON(b, u64(auditID), &r)
			if err != nil {
				return err
			}
			if ok {
				r.Counts.Files, r.Counts.FilesShared = counts.Files, counts.FilesShared
				if err := tx.putAudit(&r); err != nil {
					return err
				}
			}
		}
		return tx.DeleteValue(pendingBlobs)
	})
}

// countFiles counts, for a dry run, the files finish would delete and
// keep, and ends the transaction with errDryRun: the reference check must
// see the plan's changes, which the rollback then drops.
func (t *Tx) countFiles(counts *PurgeCounts) error {
	gone, shared, err := t.unreferenced()
	if err != nil {
		return err
	}
	counts.Files, counts.FilesShared = len(gone), len(shared)
	return errDryRun
}

// commitPurge runs step in write transactions until it reports that
// nothing more is due; step returns the counts of its report. A dry run
// is one transaction: with the plan's changes in place, the files finish
// would delete and keep are counted (countFiles), then everything is
// rolled back, the audit record too, and rolledBack is true.
func (db *DB) commitPurge(dryRun bool, step func(*Tx) (counts *PurgeCounts, more bool, err error)) (rolledBack bool, err error) {
	for {
		more := false
		err := db.Update(func(tx *Tx) error {
			counts, m, err := step(tx)
			if err != nil {
				return err
			}
			if dryRun {
				return tx.countFiles(counts)
			}
			more = m
			return nil
		})
		if errors.Is(err, errDryRun) {
			return true, nil
		}
		if err != nil || !more {
			return false, err
		}
	}
}

// release follows a committed purge: it deletes the blob files nothing
// refers to any more (finish) and, with compact, rewrites the store
// (Compact). done says in errors what the purge did ("erased", "purged"):
// it stands either way.
func (db *DB) release(counts *PurgeCounts, auditID uint64, compact bool, done string) (*Compaction, error) {
	if err := db.finish(counts, auditID); err != nil {
		return nil, fmt.Errorf("%s, but deleting its files failed (the next erasure or retention run retries): %w", done, err)
	}
	if !compact {
		return nil, nil
	}
	c, err := db.Compact()
	if err != nil {
		return nil, fmt.Errorf("%s, but compacting the store failed (the %s bytes may remain in freed pages until it succeeds; run it again): %w", done, done, err)
	}
	return c, nil
}

// RetentionOptions configure Retention.
type RetentionOptions struct {
	Now     time.Time
	Rules   privacy.Rules
	IsStaff func(addr string) bool
	DryRun  bool
	// Compact rewrites the file afterwards; the caller must be the only
	// user of the DB. The daemon cannot (it shares the DB with intake):
	// its runs leave the removed bytes in freed pages until bbolt reuses
	// them.
	Compact bool
}

// RetentionCase is one case whose personal data a retention run purged.
type RetentionCase struct {
	ID       string    `json:"id"`
	ClosedAt time.Time `json:"closed_at,omitzero"`
	PurgeAt  time.Time `json:"purge_at"`
}

// RetentionReport says what Retention did (or would do).
type RetentionReport struct {
	DryRun bool            `json:"dry_run,omitempty"`
	Cases  []RetentionCase `json:"cases"`
	// Unfiled messages (outside cases) and mail outside cases (digests)
	// purged.
	Unfiled    int         `json:"unfiled"`
	OtherMail  int         `json:"other_mail"`
	Counts     PurgeCounts `json:"counts"`
	AuditID    uint64      `json:"audit_id,omitempty"`
	Compaction *Compaction `json:"compaction,omitempty"`
}

// retentionBatch bounds the cases purged in one transaction, so that a
// first run over years of old cases does not hold intake back for long.
const retentionBatch = 200

// Retention purges the personal data of closed cases whose retention
// period has ended (privacy.Rules.DueForPurge: the case keeps its figures,
// loses its customer, texts, raw mail, attachments and mail bodies, and
// records an event), and of messages and mail outside cases received as
// long ago. Each run adds one audit record when it purged anything.
func (db *DB) Retention(o RetentionOptions) (*RetentionReport, error) {
	rep := &RetentionReport{DryRun: o.DryRun, Cases: []RetentionCase{}}
	var audit *AuditRecord
	rolledBack, err := db.commitPurge(o.DryRun, func(tx *Tx) (*PurgeCounts, bool, error) {
		limit := retentionBatch
		if o.DryRun {
			limit = 0 // one transaction, rolled back
		}
		more, err := tx.retention(o, rep, limit, &audit)
		return &rep.Counts, more, err
	})
	if rolledBack {
		rep.AuditID = 0 // rolled back with the rest
		return rep, nil
	}
	if err != nil {
		return rep, err
	}
	rep.Compaction, err = db.release(&rep.Counts, rep.AuditID, o.Compact, "purged")
	return rep, err
}

// retention purges up to limit due cases (0: all) and everything due
// outside cases, and reports whether due cases are left.
func (t *Tx) retention(o RetentionOptions, rep *RetentionReport, limit int, audit **AuditRecord) (more bool, err error) {
	loc := o.Rules.Location
	if loc == nil {
		loc = time.UTC
	}
	// A case closed in year Y is due from 1 January Y+Years+1 at the
	// earliest, and was created no later than it was closed: only cases
	// created before 1 January of (this year - Years) can be due, and the
	// status index is ordered by creation.
	cutoff := time.Date(o.Now.In(loc).Year()-o.Rules.Years, 1, 1, 0, 0, 0, 0, loc)
	var due []Case
	for _, status := range []string{StatusResolved, StatusRejected} {
		prefix := append([]byte(status), 0)
		c := t.b(bStatus).Cursor()
		for k, _ := c.Seek(prefix); k != nil && bytes.HasPrefix(k, prefix); k, _ = c.Next() {
			if int64(binary.BigEndian.Uint64(k[len(prefix):])) >= cutoff.UnixNano() {
				break
			}
			id := k[len(prefix)+9:] // status 0 created(8) 0 id
			v := t.b(bCases).Get(id)
			if v == nil || bytes.Contains(v, []byte(`"purged_at":`)) {
				continue // gone, or purged by an earlier run
			}
			var cs Case
			if err := json.Unmarshal(v, &cs); err != nil {
				return false, fmt.Errorf("decode case %s: %w", id, err)
			}
			if o.Rules.DueForPurge(caseState(&cs), o.Now) {
				due = append(due, cs)
			}
		}
	}
	slices.SortFunc(due, func(a, b Case) int { return strings.Compare(a.ID, b.ID) })
	if limit > 0 && len(due) > limit {
		due, more = due[:limit], true
	}
	p := newPurge(t, o.Now, RedactedRetention, o.IsStaff, &rep.Counts)
	reserve := func() error {
		if *audit == nil {
			*audit, err = t.newAudit("retention", o.Now)
		}
		return err
	}
	if len(due) > 0 {
		if err := reserve(); err != nil {
			return false, err
		}
	}
	for _, c := range due {
		a := *audit
		at := o.Rules.PurgeAt(caseState(&c))
		rep.Cases = append(rep.Cases, RetentionCase{ID: c.ID, ClosedAt: c.ClosedAt, PurgeAt: at})
		a.Anonymised = append(a.Anonymised, c.ID)
		who := person{addr: c.Customer, red: privacy.NewRedactor(privacy.ErasedText, c.Customer, c.CustomerName)}
		note := fmt.Sprintf("retention period ended on %s (audit %d): raw mail, attachments, texts and the customer removed; figures kept", at.Format(time.DateOnly), a.ID)
		if err := p.purgeCase(c, privacy.Anonymise, who, note); err != nil {
			return false, err
		}
	}
	if err := t.retainUnfiled(o, p, rep); err != nil {
		return false, err
	}
	if err := t.retainOtherMail(o, p, rep); err != nil {
		return false, err
	}
	if err := p.queueBlobs(); err != nil {
		return false, err
	}
	if *audit == nil && rep.Unfiled == 0 && rep.OtherMail == 0 {
		return more, nil // nothing purged: no audit record
	}
	if err := reserve(); err != nil {
		return false, err
	}
	a := *audit
	a.Counts = rep.Counts
	rep.AuditID = a.ID
	return more, t.putAudit(a)
}

// retainUnfiled purges messages kept outside cases (bounces, automatic
// replies, mail from nobody) once as long has passed since they arrived
// as since a case's closing. They arrive in sequence order, so the run
// resumes where the last one stopped and stops at the first not due.
func (t *Tx) retainUnfiled(o RetentionOptions, p *purge, rep *RetentionReport) error {
	start := t.resumeAt(retentionUnfiledNext)
	next := start
	c := t.b(bUnfiled).Cursor()
	for k, _ := c.Seek(u64(start)); k != nil; k, _ = c.Next() {
		seq := binary.BigEndian.Uint64(k)
		m, ok, err := t.Message(seq)
		if err != nil {
			return err
		}
		if ok && m.Redacted == "" {
			if !o.Rules.DueForPurge(privacy.CaseState{ClosedAt: m.IngestedAt, LastActivity: m.ReceivedAt}, o.Now) {
				break
			}
			who := person{addr: m.From, red: privacy.NewRedactor(privacy.ErasedText, m.From, m.FromName)}
			if err := p.stripMessage(&m, who); err != nil {
				return err
			}
			rep.Unfiled++
		}
		next = seq + 1
	}
	if next == start {
		return nil
	}
	return t.PutValue(retentionUnfiledNext, u64(next))
}

// resumeAt reads where the retention pass that keeps its place in the
// value name resumes: the key after the last one it judged (0 at first).
func (t *Tx) resumeAt(name string) uint64 {
	if v := t.Value(name); len(v) == 8 {
		return binary.BigEndian.Uint64(v)
	}
	return 0
}

// retainOtherMail purges the bodies of mail that belongs to no case
// (digests listing customers and subjects) as retainUnfiled does for
// messages. Mail still to be sent stops the run.
func (t *Tx) retainOtherMail(o RetentionOptions, p *purge, rep *RetentionReport) error {
	start := t.resumeAt(retentionOutboxNext)
	next := start
	c := t.b(bOutbox).Cursor()
	for k, v := c.Seek(u64(start)); k != nil; k, v = c.Next() {
		var it OutboxItem
		if err := json.Unmarshal(v, &it); err != nil {
			return fmt.Errorf("decode outbox item %d: %w", binary.BigEndian.Uint64(k), err)
		}
		if it.CaseID == "" {
			if it.Pending() || !o.Rules.DueForPurge(privacy.CaseState{ClosedAt: it.QueuedAt}, o.Now) {
				break
			}
			if it.Text != "" || it.HTML != "" || len(it.Attachments) > 0 {
				if err := p.stripOutbox(&it, person{}); err != nil {
					return err
				}
				rep.OtherMail++
			}
		}
		next = it.ID + 1
	}
	if next == start {
		return nil
	}
	return t.PutValue(retentionOutboxNext, u64(next))
}

// Compact rewrites the store into a new file that holds only live data
// and puts it in place of the old one; the DB goes on with the new file.
// bbolt never overwrites in place, so values deleted or replaced stay in
// freed pages until reused: after an erasure only a rewrite removes them.
// tx.WriteTo or a file copy would not do: they copy freed pages too.
//
// The old file is overwritten with zeros before it is released, so that a
// process that was waiting for its lock (a daemon started meanwhile) finds
// no database there, and the erased bytes do not linger in the disk blocks
// it held (on file systems that write in place).
//
// The caller must be the only user of db: no transaction may run, and the
// daemon must be stopped.
func (db *DB) Compact() (*Compaction, error) {
	if db.bolt.IsReadOnly() {
		return nil, errors.New("compact: the store is open read-only")
	}
	path := db.bolt.Path()
	st, err := os.Stat(path)
	if err != nil {
		return nil, fmt.Errorf("compact: %w", err)
	}
	res := &Compaction{Before: st.Size()}
	tmp := filepath.Join(db.TempDir(), "compact.db")
	if err := os.Remove(tmp); err != nil && !errors.Is(err, os.ErrNotExist) {
		return nil, fmt.Errorf("compact: remove stale copy: %w", err)
	}
	opts := &bolt.Options{Timeout: time.Second, FreelistType: bolt.FreelistMapType}
	dst, err := bolt.Open(tmp, 0o600, opts)
	if err != nil {
		return nil, fmt.Errorf("compact: create copy: %w", err)
	}
	// A commit every 8 MB bounds the memory the copy takes.
	if err := bolt.Compact(dst, db.bolt, 8<<20); err != nil {
		dst.Close()
		os.Remove(tmp)
		return nil, fmt.Errorf("compact: copy: %w", err)
	}
	if err := dst.Close(); err != nil {
		os.Remove(tmp)
		return nil, fmt.Errorf("compact: close copy: %w", err)
	}
	old, err := os.OpenFile(path, os.O_WRONLY, 0)
	if err != nil {
		os.Remove(tmp)
		return nil, fmt.Errorf("compact: %w", err)
	}
	defer old.Close()
	if err := os.Rename(tmp, path); err != nil {
		os.Remove(tmp)
		return nil, fmt.Errorf("compact: replace the store: %w", err)
	}
	if err := SyncDir(filepath.Dir(path)); err != nil {
		return nil, fmt.Errorf("compact: %w", err)
	}
	// Lock the new file before the old one is let go.
	nb, err := bolt.Open(path, 0o600, opts)
	if err != nil {
		db.bolt.Close()
		return nil, fmt.Errorf("compact: the store was replaced but could not be opened again: %w", err)
	}
	if err := zeroFile(old, st.Size()); err != nil {
		nb.Close()
		db.bolt.Close()
		return nil, fmt.Errorf("compact: overwrite the old file: %w", err)
	}
	if err := db.bolt.Close(); err != nil {
		nb.Close()
		return nil, fmt.Errorf("compact: close the old file: %w", err)
	}
	db.bolt = nb
	if st, err := os.Stat(path); err == nil {
		res.After = st.Size()
	}
	return res, nil
}

func zeroFile(f *os.File, size int64) error {
	zeros := make([]byte, 1<<20)
	for off := int64(0); off < size; off += int64(len(zeros)) {
		n := min(int64(len(zeros)), size-off)
		if _, err := f.WriteAt(zeros[:n], off); err != nil {
			return err
		}
	}
	return f.Sync()
}
