package intake

import (
	"testing"

	"github.com/claimsd/claimsd/internal/mailtest"
	"github.com/claimsd/claimsd/store"
)

// TestCorpusIngests pushes every corpus message through intake into a
// real store: none may panic, stall or be lost, and each is kept raw
// byte for byte.
func TestCorpusIngests(t *testing.T) {
	corpus := mailtest.CorpusMessages(t)
	if len(corpus) < 100 {
		t.Fatalf("only %d corpus messages found", len(corpus))
	}
	raws := make([]string, len(corpus))
	for i, m := range corpus {
		raws[i] = string(m.Raw)
	}
	in, db := newIntake(t)
	uids := deliver(t, in, 1, 1, raws...)
	if len(uids) != len(raws) {
		t.Fatalf("%d of %d committed", len(uids), len(raws))
	}
	st := in.Stats()
	if st.Committed+st.Duplicates != len(raws) {
		t.Fatalf("stats %+v do not account for %d messages", st, len(raws))
	}
	got := messagesByUID(t, db)
	for i, raw := range raws {
		m, ok := got[uint32(i+1)]
		if !ok {
			continue // a duplicate of an earlier corpus file: recorded as a source of that one
		}
		db.View(func(tx *store.Tx) error {
			if kept := tx.Raw(m.Seq); string(kept) != raw {
				t.Errorf("%s: raw not kept byte for byte (%d of %d bytes)", corpus[i].Name, len(kept), len(raw))
			}
			return nil
		})
	}
	t.Logf("%d corpus messages: %d stored, %d duplicates, %d did not parse (kept raw), %d cases, %d unfiled, kinds %v",
		len(raws), st.Committed, st.Duplicates, st.ParseFailed, st.NewCases, st.Unfiled, st.ByKind)
}
