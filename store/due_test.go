package store

import (
	"slices"
	"testing"
	"time"
)

func TestDueIndexesFollowCases(t *testing.T) {
	db, _ := openTest(t)
	t0 := time.Date(2026, 11, 23, 9, 0, 0, 0, time.UTC)
	mustUpdate(t, db, func(tx *Tx) error {
		for i, id := range []string{"CLM-2026-000001", "CLM-2026-000002", "CLM-2026-000003"} {
			c := &Case{ID: id, Status: StatusOpen, CreatedAt: t0, LegalDue: []string{"2026-12-07", "2026-12-01", "2026-12-09"}[i],
				NextDueAt: t0.Add(time.Duration(3-i) * time.Hour), FirstAnswerDue: t0.Add(time.Duration(i+1) * time.Hour)}
			if err := tx.PutCase(c); err != nil {
				return err
			}
		}
		return nil
	})
	ids := func(cs []Case) []string { return caseIDs(cs) }
	db.View(func(tx *Tx) error {
		due, next, _ := tx.CasesDueBy(t0.Add(2*time.Hour), 10)
		if got := ids(due); !slices.Equal(got, []string{"CLM-2026-000003", "CLM-2026-000002"}) || !next.Equal(t0.Add(3*time.Hour)) {
			t.Errorf("due %v next %v", got, next)
		}
		legal, _ := tx.OpenCasesLegalDueBy("2026-12-07")
		if got := ids(legal); !slices.Equal(got, []string{"CLM-2026-000002", "CLM-2026-000001"}) {
			t.Errorf("legal due by 12-07: %v", got)
		}
		first, _ := tx.OpenCasesFirstAnswerDueBy(t0.Add(2 * time.Hour))
		if got := ids(first); !slices.Equal(got, []string{"CLM-2026-000001", "CLM-2026-000002"}) {
			t.Errorf("first answer due: %v", got)
		}
		return nil
	})
	// Closing a case, answering one and rescheduling one move the keys.
	mustUpdate(t, db, func(tx *Tx) error {
		c, _, _ := tx.Case("CLM-2026-000002")
		c.Status, c.NextDueAt = StatusResolved, time.Time{}
		if err := tx.PutCase(&c); err != nil {
			return err
		}
		c, _, _ = tx.Case("CLM-2026-000001")
		c.FirstAnsweredAt, c.NextDueAt = t0, t0.Add(10*time.Hour)
		return tx.PutCase(&c)
	})
	db.View(func(tx *Tx) error {
		due, _, _ := tx.CasesDueBy(t0.Add(24*time.Hour), 10)
		if got := ids(due); !slices.Equal(got, []string{"CLM-2026-000003", "CLM-2026-000001"}) {
			t.Errorf("due after changes %v", got)
		}
		legal, _ := tx.OpenCasesLegalDueBy("2026-12-31")
		if got := ids(legal); !slices.Equal(got, []string{"CLM-2026-000001", "CLM-2026-000003"}) {
			t.Errorf("legal after close %v", got)
		}
		first, _ := tx.OpenCasesFirstAnswerDueBy(t0.Add(24 * time.Hour))
		if got := ids(first); !slices.Equal(got, []string{"CLM-2026-000003"}) {
			t.Errorf("first answer after answer %v", got)
		}
		return nil
	})
}
