package intake

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/claimsd/claimsd/store"
)

// corpusDir finds the shared corpus of real-world messages from other
// projects' test suites, beside the repository.
func corpusDir(t *testing.T) string {
	t.Helper()
	dir, err := os.Getwd()
	if err != nil {
		t.Fatal(err)
	}
	for {
		if _, err := os.Stat(filepath.Join(dir, "go.mod")); err == nil {
			break
		}
		parent := filepath.Dir(dir)
		if parent == dir {
			t.Fatal("go.mod not found above the test directory")
		}
		dir = parent
	}
	corpus := filepath.Join(dir, "..", "shared", "corpus")
	if _, err := os.Stat(corpus); err != nil {
		if os.Getenv("CI") != "" {
			t.Fatalf("corpus %s is required in CI: %v", corpus, err)
		}
		t.Skipf("corpus %s not present: %v", corpus, err)
	}
	return corpus
}

// TestCorpusIngests pushes every corpus message through intake into a
// real store: none may panic, stall or be lost, and each is kept raw
// byte for byte.
func TestCorpusIngests(t *testing.T) {
	corpus := corpusDir(t)
	var raws []string
	var names []string
	filepath.WalkDir(corpus, func(p string, d os.DirEntry, err error) error {
		if err != nil || d.IsDir() {
			return err
		}
		if ext := filepath.Ext(p); ext != ".eml" && ext != ".raw" {
			return nil
		}
		data, err := os.ReadFile(p)
		if err != nil {
			return err
		}
		raws = append(raws, string(data))
		names = append(names, strings.TrimPrefix(p, corpus+"/"))
		return nil
	})
	if len(raws) < 100 {
		t.Fatalf("only %d corpus messages found in %s", len(raws), corpus)
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
			if kept := tx.Raw(m.RawSHA256); string(kept) != raw {
				t.Errorf("%s: raw not kept byte for byte (%d of %d bytes)", names[i], len(kept), len(raw))
			}
			return nil
		})
	}
	t.Logf("%d corpus messages: %d stored, %d duplicates, %d did not parse (kept raw), %d cases, %d unfiled, kinds %v",
		len(raws), st.Committed, st.Duplicates, st.ParseFailed, st.NewCases, st.Unfiled, st.ByKind)
}
