package store

import (
	"bytes"
	"encoding/binary"
	"time"

	"github.com/claimsd/claimsd/message"
)

// Outbox item statuses.
const (
	OutboxQueued     = "queued"     // waiting for its first or next attempt
	OutboxSending    = "sending"    // an attempt started and its outcome is not recorded yet
	OutboxSent       = "sent"       // the SMTP server accepted it
	OutboxFailed     = "failed"     // refused permanently (5xx), or temporary failures for too long
	OutboxBounced    = "bounced"    // accepted, then a delivery status notification came back
	OutboxSuppressed = "suppressed" // never sent: a safety rule stopped it (SuppressedReason)
)

// OutboxItem is one outgoing mail, fixed when it is queued: the sender
// builds the same message, with the same Message-ID and Date, however many
// attempts it takes.
type OutboxItem struct {
	ID      uint64 `json:"id"`
	CaseID  string `json:"case_id,omitempty"`
	Purpose string `json:"purpose"` // ack, ...
	Status  string `json:"status"`
	// MessageID is without angle brackets.
	MessageID string          `json:"message_id"`
	From      message.Address `json:"from"`
	To        message.Address `json:"to"`
	// ReplyTo, when set, is where replies go (the claims address on
	// mails to staff).
	ReplyTo      message.Address `json:"reply_to,omitzero"`
	EnvelopeFrom string          `json:"envelope_from"` // SMTP MAIL FROM (VERP address, or From)
	Subject      string          `json:"subject"`
	InReplyTo    string          `json:"in_reply_to,omitempty"`
	References   []string        `json:"references,omitempty"`
	ThreadIndex  string          `json:"thread_index,omitempty"`
	ThreadTopic  string          `json:"thread_topic,omitempty"`
	// AutoSubmitted is the Auto-Submitted value (RFC 3834): auto-replied
	// or auto-generated; empty for mail a person wrote.
	AutoSubmitted string `json:"auto_submitted,omitempty"`
	Language      string `json:"language,omitempty"`
	Text          string `json:"text"`
	// Attachments are files of the store's attachment blobs, attached
	// as they are (a relayed answer keeps the specialist's attachments).
	Attachments []OutboxAttachment `json:"attachments,omitempty"`
	HTML        string             `json:"html,omitempty"`
	Date        time.Time          `json:"date"`
	QueuedAt    time.Time          `json:"queued_at"`

	Attempts      int       `json:"attempts"`
	LastAttemptAt time.Time `json:"last_attempt_at,omitzero"`
	NextAttemptAt time.Time `json:"next_attempt_at,omitzero"`
	LastError     string    `json:"last_error,omitempty"`
	SentAt        time.Time `json:"sent_at,omitzero"`
	// Resends counts attempts made after an attempt whose outcome was
	// never recorded (the process died between the server's accept and
	// the commit): the recipient may hold that mail twice, with the same
	// Message-ID.
	Resends          int    `json:"resends,omitempty"`
	SuppressedReason string `json:"suppressed_reason,omitempty"`
	// RetriedAt is when an operator last asked for a retry.
	RetriedAt    time.Time `json:"retried_at,omitzero"`
	BouncedAt    time.Time `json:"bounced_at,omitzero"`
	BounceDetail string    `json:"bounce_detail,omitempty"`
}

// OutboxAttachment is one attached file: a blob of the store by its
// SHA-256, with the name and type it is sent under.
type OutboxAttachment struct {
	Name        string `json:"name"`
	ContentType string `json:"content_type"`
	SHA256      string `json:"sha256"`
	Path        string `json:"path"` // the blob's file when queued
}

// Pending reports whether the sender still has to deliver the item.
func (it *OutboxItem) Pending() bool {
	return it.Status == OutboxQueued || it.Status == OutboxSending
}

// RetryFrom is when the item's current period of retries began: its
// queueing, or the operator's last retry.
func (it *OutboxItem) RetryFrom() time.Time {
	if it.RetriedAt.After(it.QueuedAt) {
		return it.RetriedAt
	}
	return it.QueuedAt
}

// AddOutbox stores a new item with its indexes, assigning it an id unless
// it has one from NextOutboxID.
func (t *Tx) AddOutbox(it *OutboxItem) error {
	if it.ID == 0 {
		seq, err := t.NextOutboxID()
		if err != nil {
			return err
		}
		it.ID = seq
	}
	return t.UpdateOutbox(nil, it)
}

// UpdateOutbox stores it, whose stored version the caller read as old
// (nil for a new item), moving the indexes from old to it.
func (t *Tx) UpdateOutbox(old, it *OutboxItem) error {
	key := u64(it.ID)
	if old == nil || old.Status != it.Status {
		// Failures are counted as they happen, so that metrics need no
		// walk over the outbox.
		counter := map[string]string{OutboxFailed: CountMailFailed, OutboxBounced: CountMailBounced, OutboxSuppressed: CountMailSuppressed}[it.Status]
		if counter != "" {
			if err := t.Inc(counter, 1); err != nil {
				return err
			}
		}
	}
	due := t.b(bOutboxDue)
	if old != nil && old.Pending() {
		if err := due.Delete(dueKey(old.NextAttemptAt, old.ID)); err != nil {
			return err
		}
	}
	if it.Pending() {
		if err := due.Put(dueKey(it.NextAttemptAt, it.ID), nil); err != nil {
			return err
		}
	}
	// Automatic mail counts for the rate caps unless a safety rule
	// stopped it; the index holds only what counts, so a cap check counts
	// keys without reading items.
	counts := func(i *OutboxItem) bool {
		return i != nil && i.AutoSubmitted != "" && i.To.Addr != "" && i.Status != OutboxSuppressed
	}
	if counts(it) && !counts(old) {
		k := join(keyPart(it.To.Addr), u64(uint64(max(it.QueuedAt.UnixNano(), 0))))
		if err := t.b(bAutoMail).Put(append(k, key...), nil); err != nil {
			return err
		}
	}
	if old == nil {
		if it.MessageID != "" {
			if err := t.b(bOutboxMsgID).Put(keyPart(it.MessageID), key); err != nil {
				return err
			}
		}
		if it.CaseID != "" {
			if err := t.b(bOutboxCase).Put(join([]byte(it.CaseID), key), nil); err != nil {
				return err
			}
		}
	}
	return putJSON(t.b(bOutbox), key, it)
}

func dueKey(at time.Time, id uint64) []byte {
	k := u64(uint64(max(at.UnixNano(), 0)))
	return binary.BigEndian.AppendUint64(k, id)
}

// Outbox returns an item by id.
func (t *Tx) Outbox(id uint64) (OutboxItem, bool, error) {
	var it OutboxItem
	ok, err := getJSON(t.b(bOutbox), u64(id), &it)
	return it, ok, err
}

// OutboxByMessageID returns the item whose Message-ID is id.
func (t *Tx) OutboxByMessageID(id string) (OutboxItem, bool, error) {
	if id == "" {
		return OutboxItem{}, false, nil
	}
	v := t.b(bOutboxMsgID).Get(keyPart(id))
	if v == nil {
		return OutboxItem{}, false, nil
	}
	return t.Outbox(binary.BigEndian.Uint64(v))
}

// DueOutbox returns up to limit pending items whose next attempt is at or
// before now, earliest first, and the time of the earliest pending item
// not yet due (zero when there is none).
func (t *Tx) DueOutbox(now time.Time, limit int) ([]OutboxItem, time.Time, error) {
	var out []OutboxItem
	c := t.b(bOutboxDue).Cursor()
	for k, _ := c.First(); k != nil; k, _ = c.Next() {
		at := time.Unix(0, int64(binary.BigEndian.Uint64(k)))
		if at.After(now) {
			return out, at, nil
		}
		if len(out) >= limit {
			return out, at, nil
		}
		it, ok, err := t.Outbox(binary.BigEndian.Uint64(k[8:]))
		if err != nil {
			return nil, time.Time{}, err
		}
		if ok {
			out = append(out, it)
		}
	}
	return out, time.Time{}, nil
}

// OutboxOfCase returns a case's outgoing mail, oldest first.
func (t *Tx) OutboxOfCase(caseID string) ([]OutboxItem, error) {
	prefix := append([]byte(caseID), 0)
	var out []OutboxItem
	c := t.b(bOutboxCase).Cursor()
	for k, _ := c.Seek(prefix); k != nil && bytes.HasPrefix(k, prefix); k, _ = c.Next() {
		it, ok, err := t.Outbox(binary.BigEndian.Uint64(k[len(prefix):]))
		if err != nil {
			return nil, err
		}
		if ok {
			out = append(out, it)
		}
	}
	return out, nil
}

// OutboxFilter selects items for ListOutbox.
type OutboxFilter struct {
	Status string // "" for all
}

// ListOutbox returns items in queueing order.
func (t *Tx) ListOutbox(f OutboxFilter) ([]OutboxItem, error) {
	var out []OutboxItem
	err := t.b(bOutbox).ForEach(func(k, _ []byte) error {
		it, ok, err := t.Outbox(binary.BigEndian.Uint64(k))
		if err != nil || !ok {
			return err
		}
		if f.Status == "" || it.Status == f.Status {
			out = append(out, it)
		}
		return nil
	})
	return out, err
}

// AutoMailsTo counts the automatic mails queued for addr at or after
// since, suppressed ones excluded: the per-recipient cap reads it.
func (t *Tx) AutoMailsTo(addr string, since time.Time) (int, error) {
	prefix := append(keyPart(addr), 0)
	from := append(bytes.Clone(prefix), u64(uint64(max(since.UnixNano(), 0)))...)
	n := 0
	c := t.b(bAutoMail).Cursor()
	for k, _ := c.Seek(from); k != nil && bytes.HasPrefix(k, prefix); k, _ = c.Next() {
		n++
	}
	return n, nil
}

// NextOutboxID allocates the id of an item about to be queued, so its
// Message-ID can carry it.
func (t *Tx) NextOutboxID() (uint64, error) { return t.b(bOutbox).NextSequence() }
