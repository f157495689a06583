package main

import (
	"io"
	"log/slog"
	"testing"
	"time"

	"github.com/claimsd/claimsd/deadline"
	"github.com/claimsd/claimsd/store"
)

// TestFillDeadlinesAfterUpgrade: cases from a store of an older schema get
// their legal due date and a schedule once, without a first-answer
// deadline they were never held to; a fresh store is left alone.
func TestFillDeadlinesAfterUpgrade(t *testing.T) {
	db, err := store.Open(t.TempDir(), store.Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	warsaw, _ := time.LoadLocation("Europe/Warsaw")
	received := time.Date(2026, 11, 23, 10, 0, 0, 0, warsaw)
	old := store.Case{ID: "CLM-2026-000001", Status: store.StatusOpen, Customer: "jan@example.net", ReceivedAt: received, CreatedAt: received}
	err = db.Update(func(tx *store.Tx) error {
		if err := tx.PutCase(&old); err != nil {
			return err
		}
		return tx.PutValue(store.DeadlinesFillPending, []byte("1"))
	})
	if err != nil {
		t.Fatal(err)
	}
	p := deadline.DefaultPolicy(warsaw)
	log := slog.New(slog.NewTextHandler(io.Discard, nil))
	if err := fillDeadlines(db, p, received.Add(time.Hour), log); err != nil {
		t.Fatal(err)
	}
	var c store.Case
	db.View(func(tx *store.Tx) error {
		c, _, _ = tx.Case(old.ID)
		if tx.Value(store.DeadlinesFillPending) != nil {
			t.Error("pending flag kept")
		}
		return nil
	})
	if c.LegalDue != "2026-12-07" || !c.FirstAnswerDue.IsZero() || c.NextDueAt.IsZero() || c.Priority != "normal" {
		t.Errorf("filled case: legal %q first answer %v next %v priority %q", c.LegalDue, c.FirstAnswerDue, c.NextDueAt, c.Priority)
	}
}
