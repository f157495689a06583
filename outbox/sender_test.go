package outbox

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/claimsd/claimsd/internal/devmail"
	"github.com/claimsd/claimsd/message"
	"github.com/claimsd/claimsd/store"
)

var discard = slog.New(slog.NewTextHandler(io.Discard, nil))

// clock is a settable test clock.
type clock struct {
	mu sync.Mutex
	t  time.Time
}

func (c *clock) now() time.Time          { c.mu.Lock(); defer c.mu.Unlock(); return c.t }
func (c *clock) advance(d time.Duration) { c.mu.Lock(); c.t = c.t.Add(d); c.mu.Unlock() }

// scripted is a Transport whose answers the test sets per attempt.
type scripted struct {
	mu      sync.Mutex
	answers []error // consumed one per delivered item; nil when exhausted
	got     []store.OutboxItem
}

func (s *scripted) Deliver(_ context.Context, items []store.OutboxItem) []error {
	s.mu.Lock()
	defer s.mu.Unlock()
	errs := make([]error, len(items))
	for i, it := range items {
		s.got = append(s.got, it)
		if len(s.answers) > 0 {
			errs[i], s.answers = s.answers[0], s.answers[1:]
		}
	}
	return errs
}

type tempErr struct{ msg string }

func (e tempErr) Error() string   { return e.msg }
func (e tempErr) Temporary() bool { return true }

func openDB(t *testing.T) *store.DB {
	t.Helper()
	db, err := store.Open(t.TempDir(), store.Options{})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Close() })
	return db
}

func queue(t *testing.T, db *store.DB, now time.Time, n int) {
	t.Helper()
	err := db.Update(func(tx *store.Tx) error {
		c := &store.Case{ID: "CLM-2026-000001", Status: store.StatusOpen, Customer: "jan@example.net", CreatedAt: now}
		if err := tx.PutCase(c); err != nil {
			return err
		}
		for i := range n {
			it := &store.OutboxItem{CaseID: c.ID, Purpose: PurposeAck, Status: store.OutboxQueued,
				MessageID: fmt.Sprintf("CLM-2026-000001.o%d.x@sklep.example", i+1),
				From:      message.Address{Addr: "reklamacje@sklep.example"}, To: message.Address{Addr: "jan@example.net"},
				Subject: "Re: test", AutoSubmitted: "auto-replied", Text: "hello", Date: now, QueuedAt: now, NextAttemptAt: now}
			if err := tx.AddOutbox(it); err != nil {
				return err
			}
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
}

func item(t *testing.T, db *store.DB, id uint64) store.OutboxItem {
	t.Helper()
	var it store.OutboxItem
	db.View(func(tx *store.Tx) error {
		it, _, _ = tx.Outbox(id)
		return nil
	})
	return it
}

func TestSenderBacksOffOnTemporaryFailures(t *testing.T) {
	db := openDB(t)
	clk := &clock{t: time.Date(2026, 11, 29, 8, 0, 0, 0, time.UTC)}
	queue(t, db, clk.now(), 1)
	tr := &scripted{answers: []error{tempErr{"451 try later"}, tempErr{"dial: connection refused"}, tempErr{"451"}}}
	s := NewSender(db, tr, SenderConfig{RetryInitial: 30 * time.Second, RetryMax: 90 * time.Second, GiveUpAfter: time.Hour}, discard, clk.now)
	ctx := context.Background()
	var waits []time.Duration
	for range 4 {
		d, next, err := s.RunOnce(ctx)
		if err != nil {
			t.Fatal(err)
		}
		if d.Sent == 1 {
			break
		}
		waits = append(waits, next.Sub(clk.now()))
		// Nothing is due before the backoff ends.
		if d2, _, _ := s.RunOnce(ctx); d2 != (Delivered{}) {
			t.Fatalf("sent again before the backoff: %+v", d2)
		}
		clk.advance(next.Sub(clk.now()))
	}
	want := []time.Duration{30 * time.Second, 60 * time.Second, 90 * time.Second}
	if fmt.Sprint(waits) != fmt.Sprint(want) {
		t.Errorf("waits %v, want %v", waits, want)
	}
	it := item(t, db, 1)
	if it.Status != store.OutboxSent || it.Attempts != 4 || it.Resends != 0 || it.LastError != "" {
		t.Errorf("item %+v", it)
	}
	if len(tr.got) != 4 || tr.got[0].MessageID != tr.got[3].MessageID {
		t.Errorf("attempts %d", len(tr.got))
	}
}

func TestSenderGivesUpAfterConfiguredTime(t *testing.T) {
	db := openDB(t)
	clk := &clock{t: time.Date(2026, 11, 29, 8, 0, 0, 0, time.UTC)}
	queue(t, db, clk.now(), 1)
	tr := &scripted{answers: []error{tempErr{"451"}, tempErr{"451"}}}
	s := NewSender(db, tr, SenderConfig{RetryInitial: time.Minute, RetryMax: time.Hour, GiveUpAfter: 90 * time.Second}, discard, clk.now)
	s.RunOnce(context.Background())
	clk.advance(2 * time.Minute)
	d, _, _ := s.RunOnce(context.Background())
	if it := item(t, db, 1); d.Failed != 1 || it.Status != store.OutboxFailed {
		t.Fatalf("after give-up: %+v %+v", d, it)
	}
	var c store.Case
	db.View(func(tx *store.Tx) error { c, _, _ = tx.Case("CLM-2026-000001"); return nil })
	if len(c.Events) != 1 || c.Events[0].What != "mail_failed" || c.CustomerUnreachable {
		t.Errorf("case after a give-up: %+v", c)
	}
}

func TestSenderRecordsPermanentFailureOnCase(t *testing.T) {
	db := openDB(t)
	clk := &clock{t: time.Date(2026, 11, 29, 8, 0, 0, 0, time.UTC)}
	queue(t, db, clk.now(), 2)
	tr := &scripted{answers: []error{errors.New("550 5.1.1 no such user"), nil}}
	s := NewSender(db, tr, SenderConfig{}, discard, clk.now)
	d, next, err := s.RunOnce(context.Background())
	if err != nil || d.Failed != 1 || d.Sent != 1 || !next.IsZero() {
		t.Fatalf("RunOnce = %+v %v %v", d, next, err)
	}
	var c store.Case
	db.View(func(tx *store.Tx) error { c, _, _ = tx.Case("CLM-2026-000001"); return nil })
	if !c.CustomerUnreachable || !strings.Contains(c.UnreachableNote, "550") {
		t.Errorf("case %+v", c)
	}
	// Retry makes it due again; a sent item cannot be retried.
	err = db.Update(func(tx *store.Tx) error {
		if _, err := Retry(tx, 2, clk.now()); err == nil {
			t.Error("retry of a sent item accepted")
		}
		_, err := Retry(tx, 1, clk.now())
		return err
	})
	if err != nil {
		t.Fatal(err)
	}
	if d, _, _ := s.RunOnce(context.Background()); d.Sent != 1 {
		t.Errorf("after retry: %+v", d)
	}
}

// TestSenderResendsAfterCrashWithSameMessageID: the attempt is committed
// before sending and the outcome after; a crash between leaves the item in
// "sending", and the next sender sends it again with the same Message-ID
// and counts the resend.
func TestSenderResendsAfterCrashWithSameMessageID(t *testing.T) {
	dir := t.TempDir()
	db, err := store.Open(dir, store.Options{})
	if err != nil {
		t.Fatal(err)
	}
	clk := &clock{t: time.Date(2026, 11, 29, 8, 0, 0, 0, time.UTC)}
	queue(t, db, clk.now(), 1)
	s := NewSender(db, &scripted{}, SenderConfig{}, discard, clk.now)
	items, _, err := s.claim() // the attempt is committed; the "process" dies before recording
	if err != nil || len(items) != 1 {
		t.Fatal(items, err)
	}
	db.Close()

	db, err = store.Open(dir, store.Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	tr := &scripted{}
	s = NewSender(db, tr, SenderConfig{RetryInitial: time.Hour}, discard, clk.now)
	if err := s.Recover(); err != nil {
		t.Fatal(err)
	}
	d, _, err := s.RunOnce(context.Background())
	if err != nil || d.Sent != 1 {
		t.Fatalf("after restart: %+v %v", d, err)
	}
	it := item(t, db, 1)
	if it.Resends != 1 || it.Attempts != 2 || tr.got[0].MessageID != items[0].MessageID {
		t.Errorf("item %+v", it)
	}
}

// TestSenderThroughGoSMTPWithRestart delivers through the real SMTP
// transport to an in-process go-smtp server that goes away mid-queue and
// comes back on the same port.
func TestSenderThroughGoSMTPWithRestart(t *testing.T) {
	db := openDB(t)
	clk := &clock{t: time.Date(2026, 11, 29, 8, 0, 0, 0, time.UTC)}
	queue(t, db, clk.now(), 3)
	sink, err := devmail.StartSMTPSink(discard)
	if err != nil {
		t.Fatal(err)
	}
	host, port := splitAddr(t, sink.Addr)
	tr := NewSMTP(SMTPConfig{Host: host, Port: port, Security: "none", Timeout: 5 * time.Second})
	s := NewSender(db, tr, SenderConfig{RetryInitial: time.Second}, discard, clk.now)
	if d, _, err := s.RunOnce(context.Background()); err != nil || d.Sent != 3 {
		t.Fatalf("first round %+v %v", d, err)
	}
	sink.Close()
	queue(t, db, clk.now(), 2) // items 4, 5 (case is rewritten, harmless)
	d, next, err := s.RunOnce(context.Background())
	if err != nil || d.Retry != 2 || next.IsZero() {
		t.Fatalf("with the server down: %+v next %v err %v", d, next, err)
	}
	// The same port again; the kernel may hold it for a moment.
	var sink2 *devmail.SMTPSink
	for deadline := time.Now().Add(5 * time.Second); ; time.Sleep(50 * time.Millisecond) {
		if sink2, err = devmail.StartSMTPSinkAt(sink.Addr, discard); err == nil || time.Now().After(deadline) {
			break
		}
	}
	if err != nil {
		t.Fatalf("restart the server on %s: %v", sink.Addr, err)
	}
	defer sink2.Close()
	clk.advance(time.Second)
	if d, _, err := s.RunOnce(context.Background()); err != nil || d.Sent != 2 {
		t.Fatalf("after restart %+v %v", d, err)
	}
	msgs := append(sink.Messages(), sink2.Messages()...)
	if len(msgs) != 5 {
		t.Fatalf("server got %d messages, want 5", len(msgs))
	}
	for _, m := range msgs {
		if !strings.Contains(string(m.Data), "Auto-Submitted: auto-replied") || m.From != "reklamacje@sklep.example" {
			t.Errorf("message from %s:\n%s", m.From, m.Data)
		}
	}
}

func splitAddr(t *testing.T, addr string) (string, int) {
	t.Helper()
	host, p, err := net.SplitHostPort(addr)
	if err != nil {
		t.Fatal(err)
	}
	var port int
	fmt.Sscan(p, &port)
	return host, port
}
