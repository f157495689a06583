package store

import (
	"bytes"
	"encoding/binary"
	"encoding/json"
	"fmt"
	"time"
)

// Gauges are the figures the metrics endpoint reads at each scrape, all
// from one read transaction. They come from indexes, never from reading
// every case: the count by status walks the status index's keys (no case
// record is read), the overdue counts walk the deadline indexes only up to
// the bound, and the outbox figures read only the pending mail.
type Gauges struct {
	// CasesByStatus counts every case by status.
	CasesByStatus map[string]int
	// LegalOverdue counts open cases not yet answered whose legal due
	// date is on or before the legalDueBy given to Gauges;
	// FirstAnswerOverdue the open, unanswered cases whose first-answer
	// deadline is at or before firstAnswerDueBy.
	LegalOverdue       int
	FirstAnswerOverdue int
	Outbox             OutboxWaiting
	// Counters are the counters intake and the outbox keep (Inc).
	Counters map[string]uint64
	// Bytes is the size of the database file as of this transaction.
	Bytes int64
}

// Gauges reads the metrics' figures. legalDueBy is a date (YYYY-MM-DD):
// with yesterday's date it counts the cases whose legal deadline has
// passed, as `cases list --overdue` does.
func (t *Tx) Gauges(legalDueBy string, firstAnswerDueBy time.Time) (Gauges, error) {
	g := Gauges{CasesByStatus: map[string]int{}, Counters: t.Counters(), Bytes: t.tx.Size()}
	// Status keys are status 0 created(8) id: counting needs the keys
	// only, which sit in the index's own small pages.
	c := t.b(bStatus).Cursor()
	for k, _ := c.First(); k != nil; k, _ = c.Next() {
		status, _, ok := bytes.Cut(k, []byte{0})
		if !ok {
			return g, fmt.Errorf("index %s: malformed key %q", bStatus, k)
		}
		g.CasesByStatus[string(status)]++
	}
	c = t.b(bLegalDue).Cursor()
	for k, _ := c.First(); k != nil; k, _ = c.Next() {
		if d, _, _ := bytes.Cut(k, []byte{0}); string(d) > legalDueBy {
			break
		}
		g.LegalOverdue++
	}
	bound := uint64(max(firstAnswerDueBy.UnixNano(), 0))
	c = t.b(bFirstDue).Cursor()
	for k, _ := c.First(); k != nil && len(k) >= 8 && binary.BigEndian.Uint64(k) <= bound; k, _ = c.Next() {
		g.FirstAnswerOverdue++
	}
	var err error
	g.Outbox, err = t.OutboxWaiting()
	return g, err
}

// OutboxWaiting describes the mail the sender still has to deliver.
type OutboxWaiting struct {
	// Pending counts the pending items by status (queued, sending).
	Pending map[string]int
	// Retrying counts pending items whose last attempt failed.
	Retrying int
	// OldestID is the pending item that has waited longest to be sent,
	// waiting since OldestSince (zero when nothing is pending).
	OldestID    uint64
	OldestSince time.Time
}

// OutboxWaiting reads the pending items (through the due index, so its
// cost grows with the mail waiting, not with all mail ever sent).
//
// An item waits from the moment it was due: its queueing or an operator's
// retry (RetryFrom), or, for an item queued to go later and not tried yet,
// its first attempt time. Retries do not restart the wait: mail refused
// with 4xx for an hour has waited an hour.
func (t *Tx) OutboxWaiting() (OutboxWaiting, error) {
	w := OutboxWaiting{Pending: map[string]int{OutboxQueued: 0, OutboxSending: 0}}
	c := t.b(bOutboxDue).Cursor()
	for k, _ := c.First(); k != nil; k, _ = c.Next() {
		if len(k) != 16 {
			return w, fmt.Errorf("index %s: malformed key %x", bOutboxDue, k)
		}
		id := binary.BigEndian.Uint64(k[8:])
		v := t.b(bOutbox).Get(k[8:])
		if v == nil {
			return w, fmt.Errorf("index %s names outbox item %d, which does not exist", bOutboxDue, id)
		}
		// Only the delivery fields: the text and HTML are not copied.
		var it struct {
			Status        string    `json:"status"`
			Attempts      int       `json:"attempts"`
			LastError     string    `json:"last_error"`
			QueuedAt      time.Time `json:"queued_at"`
			RetriedAt     time.Time `json:"retried_at"`
			NextAttemptAt time.Time `json:"next_attempt_at"`
		}
		if err := json.Unmarshal(v, &it); err != nil {
			return w, fmt.Errorf("decode outbox item %d: %w", id, err)
		}
		w.Pending[it.Status]++
		if it.LastError != "" {
			w.Retrying++
		}
		full := OutboxItem{QueuedAt: it.QueuedAt, RetriedAt: it.RetriedAt}
		since := full.RetryFrom()
		if it.Attempts == 0 && it.NextAttemptAt.After(since) {
			since = it.NextAttemptAt
		}
		if w.OldestSince.IsZero() || since.Before(w.OldestSince) {
			w.OldestID, w.OldestSince = id, since
		}
	}
	return w, nil
}
