package store

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"testing"
	"time"
)

// TestEachCase: each filter lists its cases in the order EachCase
// documents, ListCases and the paged DB.EachCase list the same, and an
// error from fn stops each of them at once.
func TestEachCase(t *testing.T) {
	db, _ := openTest(t)
	t0 := time.Date(2026, 11, 23, 9, 0, 0, 0, time.UTC)
	// Ids in arrival order, except that 000004 (received in 2026) was
	// opened after 2027's first case, and 000002 has the earliest
	// creation time, as a case restored from elsewhere might.
	cases := []Case{
		{ID: "CLM-2026-000001", Status: StatusOpen, CreatedAt: t0.Add(1 * time.Hour), LegalDue: "2026-12-07"},
		{ID: "CLM-2026-000002", Status: StatusResolved, CreatedAt: t0},
		{ID: "CLM-2026-000003", Status: StatusOpen, CreatedAt: t0.Add(2 * time.Hour), LegalDue: "2026-12-04"},
		{ID: "CLM-2026-000004", Status: StatusOpen, CreatedAt: t0.Add(4 * time.Hour), LegalDue: "2026-12-31"},
		{ID: "CLM-2027-000001", Status: StatusOpen, CreatedAt: t0.Add(3 * time.Hour), LegalDue: "2026-12-04"},
	}
	mustUpdate(t, db, func(tx *Tx) error {
		for i := len(cases) - 1; i >= 0; i-- {
			if err := tx.UpdateCase(nil, &cases[i]); err != nil {
				return err
			}
		}
		return nil
	})
	tests := []struct {
		name   string
		filter CaseFilter
		want   []string
	}{
		{"all, by id", CaseFilter{}, []string{"CLM-2026-000001", "CLM-2026-000002", "CLM-2026-000003", "CLM-2026-000004", "CLM-2027-000001"}},
		{"a status, by creation time", CaseFilter{Status: StatusOpen}, []string{"CLM-2026-000001", "CLM-2026-000003", "CLM-2027-000001", "CLM-2026-000004"}},
		{"a status with one case", CaseFilter{Status: StatusResolved}, []string{"CLM-2026-000002"}},
		{"a status with none", CaseFilter{Status: StatusWaiting}, nil},
		{"a deadline, by legal due date", CaseFilter{LegalDueBy: "2026-12-07"}, []string{"CLM-2026-000003", "CLM-2027-000001", "CLM-2026-000001"}},
	}
	stop := errors.New("stop")
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var viaTx, listed []string
			err := db.View(func(tx *Tx) error {
				if err := tx.EachCase(tt.filter, func(c Case) error { viaTx = append(viaTx, c.ID); return nil }); err != nil {
					return err
				}
				cs, err := tx.ListCases(tt.filter)
				listed = caseIDs(cs)
				return err
			})
			if err != nil {
				t.Fatal(err)
			}
			var viaDB []string
			if err := db.EachCase(context.Background(), tt.filter, func(c Case) error { viaDB = append(viaDB, c.ID); return nil }); err != nil {
				t.Fatal(err)
			}
			for what, got := range map[string][]string{"Tx.EachCase": viaTx, "ListCases": listed, "DB.EachCase": viaDB} {
				if !slices.Equal(got, tt.want) {
					t.Errorf("%s: %q, want %q", what, got, tt.want)
				}
			}
			if len(tt.want) == 0 {
				return
			}
			n := 0
			db.View(func(tx *Tx) error {
				if err := tx.EachCase(tt.filter, func(Case) error { n++; return stop }); !errors.Is(err, stop) || n != 1 {
					t.Errorf("Tx.EachCase after fn's error: err %v after %d cases, want stop after 1", err, n)
				}
				return nil
			})
			n = 0
			if err := db.EachCase(context.Background(), tt.filter, func(Case) error { n++; return stop }); !errors.Is(err, stop) || n != 1 {
				t.Errorf("DB.EachCase after fn's error: err %v after %d cases, want stop after 1", err, n)
			}
		})
	}
}

// TestDBEachCasePages: a listing longer than a page calls fn with no
// transaction open, so the store can change under it; each case that
// stays is listed once, in order, as it was when its page was read; an
// error from fn or the end of ctx stops it.
func TestDBEachCasePages(t *testing.T) {
	db, _ := openTest(t)
	t0 := time.Date(2026, 11, 23, 9, 0, 0, 0, time.UTC)
	const n = 2*casesPage + 500
	var all, open []string
	mustUpdate(t, db, func(tx *Tx) error {
		for i := range n {
			c := Case{ID: fmt.Sprintf("CLM-2026-%06d", i+1), Status: StatusOpen, CreatedAt: t0.Add(time.Duration(i) * time.Second)}
			if i%3 == 2 {
				c.Status = StatusResolved
			} else {
				open = append(open, c.ID)
			}
			all = append(all, c.ID)
			if err := tx.UpdateCase(nil, &c); err != nil {
				return err
			}
		}
		return nil
	})
	tests := []struct {
		name   string
		filter CaseFilter
		want   []string
	}{
		{"all", CaseFilter{}, all},
		{"open", CaseFilter{Status: StatusOpen}, open},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			last := tt.want[len(tt.want)-1]
			var got []string
			err := db.EachCase(context.Background(), tt.filter, func(c Case) error {
				if open := db.bolt.Stats().OpenTxN; open != 0 {
					return fmt.Errorf("fn called with %d read transactions open", open)
				}
				if len(got) == 0 {
					// The listing's last case, two pages on, changes now.
					if err := db.Update(func(tx *Tx) error {
						c, _, err := tx.Case(last)
						if err != nil {
							return err
						}
						c.Subject = "changed while listed"
						return tx.PutCase(&c)
					}); err != nil {
						return err
					}
				}
				if c.ID == last && c.Subject != "changed while listed" {
					t.Errorf("%s listed as before the change", c.ID)
				}
				got = append(got, c.ID)
				return nil
			})
			if err != nil {
				t.Fatal(err)
			}
			if !slices.Equal(got, tt.want) {
				t.Errorf("listed %d cases (%q ... %q), want %d", len(got), got[:min(3, len(got))], got[max(0, len(got)-3):], len(tt.want))
			}

			stop := errors.New("stop")
			calls := 0
			err = db.EachCase(context.Background(), tt.filter, func(Case) error {
				if calls++; calls == casesPage+10 {
					return stop
				}
				return nil
			})
			if !errors.Is(err, stop) || calls != casesPage+10 {
				t.Errorf("after fn's error: err %v after %d cases, want stop after %d", err, calls, casesPage+10)
			}

			ctx, cancel := context.WithCancel(context.Background())
			calls = 0
			err = db.EachCase(ctx, tt.filter, func(Case) error {
				calls++
				cancel()
				return nil
			})
			if !errors.Is(err, context.Canceled) || calls != casesPage {
				t.Errorf("after ctx ended: err %v after %d cases, want context.Canceled after the first page (%d)", err, calls, casesPage)
			}
		})
	}
}
