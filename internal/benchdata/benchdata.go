// Package benchdata fills stores with many cases for benchmarks that
// need realistic sizes (a million cases), shared by the deadline and the
// daemon benchmarks.
package benchdata

import (
	"fmt"
	"time"

	"github.com/claimsd/claimsd/classifier"
	"github.com/claimsd/claimsd/deadline"
	"github.com/claimsd/claimsd/store"
)

// FillCases writes n open cases into db, of which the first due have an
// event due at now (received 13 days before: the 24h legal reminder) and
// the rest were received at now (nothing due for hours).
func FillCases(db *store.DB, p deadline.Policy, n, due int, now time.Time) error {
	const batch = 20_000
	for start := 0; start < n; start += batch {
		err := db.Update(func(tx *store.Tx) error {
			for i := start; i < min(start+batch, n); i++ {
				c := store.Case{ID: fmt.Sprintf("CLM-2026-%07d", i+1), Status: store.StatusOpen,
					Customer: fmt.Sprintf("c%d@example.net", i), Subject: "Reklamacja", CreatedAt: now}
				received := now
				if i < due {
					received = now.Add(-13 * 24 * time.Hour)
				}
				c.ReceivedAt = received
				p.Track(&c, classifier.KindCustomer, received, true)
				if i < due {
					c.FirstAnsweredAt = received
				}
				c.NextDueAt = p.Next(c, now.Add(-time.Minute))
				if err := tx.UpdateCase(nil, &c); err != nil {
					return err
				}
			}
			return nil
		})
		if err != nil {
			return fmt.Errorf("fill cases from %d: %w", start, err)
		}
	}
	return nil
}
