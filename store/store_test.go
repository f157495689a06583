package store

import (
	"errors"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	bolt "go.etcd.io/bbolt"
)

func openTest(t *testing.T) (*DB, string) {
	t.Helper()
	dir := t.TempDir()
	db, err := Open(dir, Options{})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Close() })
	return db, dir
}

func TestCaseIDsNeverReused(t *testing.T) {
	db, _ := openTest(t)
	var got []string
	for _, year := range []int{2026, 2026, 2027, 2026} {
		err := db.Update(func(tx *Tx) error {
			id, err := tx.NextCaseID("CLM", year)
			got = append(got, id)
			return err
		})
		if err != nil {
			t.Fatal(err)
		}
	}
	want := []string{"CLM-2026-000001", "CLM-2026-000002", "CLM-2027-000001", "CLM-2026-000003"}
	if !slices.Equal(got, want) {
		t.Fatalf("ids = %q, want %q", got, want)
	}
}

func TestStatusAndCustomerIndexesFollowChanges(t *testing.T) {
	db, _ := openTest(t)
	t0 := time.Date(2026, 11, 23, 9, 0, 0, 0, time.UTC)
	mustUpdate(t, db, func(tx *Tx) error {
		for i, cust := range []string{"a@x", "b@x", "a@x"} {
			c := &Case{ID: "CLM-2026-00000" + string(rune('1'+i)), Status: StatusOpen, Customer: cust, CreatedAt: t0.Add(time.Duration(i) * time.Hour)}
			if err := tx.PutCase(c); err != nil {
				return err
			}
		}
		return nil
	})
	mustUpdate(t, db, func(tx *Tx) error {
		c, _, err := tx.Case("CLM-2026-000002")
		if err != nil {
			return err
		}
		c.Status, c.Customer = StatusResolved, "c@x"
		return tx.PutCase(&c)
	})
	db.View(func(tx *Tx) error {
		open, _ := tx.ListCases(CaseFilter{Status: StatusOpen})
		if ids := caseIDs(open); !slices.Equal(ids, []string{"CLM-2026-000001", "CLM-2026-000003"}) {
			t.Errorf("open = %q", ids)
		}
		resolved, _ := tx.ListCases(CaseFilter{Status: StatusResolved})
		if ids := caseIDs(resolved); !slices.Equal(ids, []string{"CLM-2026-000002"}) {
			t.Errorf("resolved = %q", ids)
		}
		all, _ := tx.ListCases(CaseFilter{})
		if len(all) != 3 {
			t.Errorf("all = %d", len(all))
		}
		if cs, _ := tx.CasesOfCustomer("b@x"); len(cs) != 0 {
			t.Errorf("b@x still has %d cases after the customer changed", len(cs))
		}
		if cs, _ := tx.CasesOfCustomer("a@x"); len(cs) != 2 {
			t.Errorf("a@x has %d cases, want 2", len(cs))
		}
		return nil
	})
}

func caseIDs(cs []Case) []string {
	var out []string
	for _, c := range cs {
		out = append(out, c.ID)
	}
	return out
}

func mustUpdate(t *testing.T, db *DB, fn func(*Tx) error) {
	t.Helper()
	if err := db.Update(fn); err != nil {
		t.Fatal(err)
	}
}

func TestMessagesAndIndexes(t *testing.T) {
	db, _ := openTest(t)
	src := Source{Mailbox: "INBOX", UIDValidity: 7, UID: 42}
	mustUpdate(t, db, func(tx *Tx) error {
		if err := tx.AddMessage(&Message{CaseID: "CLM-2026-000001", MessageID: "a@x", RawSHA256: "aa", Source: src}, nil); err != nil {
			return err
		}
		return tx.AddMessage(&Message{MessageID: "b@x", RawSHA256: "bb", ParseError: "bad"}, nil)
	})
	db.View(func(tx *Tx) error {
		if seq, ok := tx.MessageSeqByID("a@x"); !ok || seq != 1 {
			t.Errorf("by id = %d %v", seq, ok)
		}
		if seq, ok := tx.MessageSeqByRawHash("bb"); !ok || seq != 2 {
			t.Errorf("by hash = %d %v", seq, ok)
		}
		if seq, ok := tx.MessageSeqBySource(src); !ok || seq != 1 {
			t.Errorf("by source = %d %v", seq, ok)
		}
		msgs, _ := tx.CaseMessages("CLM-2026-000001")
		if len(msgs) != 1 || msgs[0].MessageID != "a@x" {
			t.Errorf("case messages = %+v", msgs)
		}
		unfiled, _ := tx.ListMessages(MessageFilter{Unfiled: true})
		failed, _ := tx.ListMessages(MessageFilter{ParseFailed: true})
		if len(unfiled) != 1 || len(failed) != 1 || unfiled[0].MessageID != "b@x" {
			t.Errorf("unfiled %d failed %d", len(unfiled), len(failed))
		}
		return nil
	})
}

func TestPendingMarks(t *testing.T) {
	db, _ := openTest(t)
	mustUpdate(t, db, func(tx *Tx) error {
		for _, m := range []struct{ uv, uid uint32 }{{1, 5}, {1, 6}, {2, 1}, {1, 300}} {
			if err := tx.AddPendingMark("INBOX", m.uv, m.uid); err != nil {
				return err
			}
		}
		return tx.AddPendingMark("Other", 1, 9)
	})
	pending := func(uv uint32) (uids []uint32) {
		db.View(func(tx *Tx) error { uids = tx.PendingMarks("INBOX", uv); return nil })
		return uids
	}
	if got := pending(1); !slices.Equal(got, []uint32{5, 6, 300}) {
		t.Fatalf("pending(1) = %v", got)
	}
	mustUpdate(t, db, func(tx *Tx) error { return tx.DropPendingMarks("INBOX", 1, []uint32{6}) })
	if got := pending(1); !slices.Equal(got, []uint32{5, 300}) {
		t.Fatalf("after done: %v", got)
	}
	// A new UIDVALIDITY voids every mark of the old one.
	mustUpdate(t, db, func(tx *Tx) error { return tx.DropPendingMarks("INBOX", 2, nil) })
	if got := pending(1); len(got) != 0 {
		t.Fatalf("old uidvalidity marks left: %v", got)
	}
	if got := pending(2); !slices.Equal(got, []uint32{1}) {
		t.Fatalf("pending(2) = %v", got)
	}
	db.View(func(tx *Tx) error {
		if got := tx.PendingMarks("Other", 1); !slices.Equal(got, []uint32{9}) {
			t.Errorf("other mailbox touched: %v", got)
		}
		return nil
	})
}

func TestReadOnlyWhileLockedAndSecretKept(t *testing.T) {
	db, dir := openTest(t)
	key := db.MessageIDKey()
	if len(key) != 32 {
		t.Fatalf("key len %d", len(key))
	}
	_, err := Open(dir, Options{ReadOnly: true, Timeout: 100 * time.Millisecond})
	if !errors.Is(err, ErrLocked) {
		t.Fatalf("read-only open while locked: %v, want ErrLocked", err)
	}
	db.Close()
	ro, err := Open(dir, Options{ReadOnly: true})
	if err != nil {
		t.Fatal(err)
	}
	if !slices.Equal(ro.MessageIDKey(), key) {
		t.Error("message id key changed across opens")
	}
	ro.Close()
}

func TestRefusesNewerSchema(t *testing.T) {
	db, dir := openTest(t)
	db.Close()
	bdb, err := bolt.Open(dir+"/claimsd.db", 0o600, nil)
	if err != nil {
		t.Fatal(err)
	}
	bdb.Update(func(tx *bolt.Tx) error { return tx.Bucket(bMeta).Put(keySchema, u64(SchemaVersion+1)) })
	bdb.Close()
	_, err = Open(dir, Options{})
	if err == nil || !strings.Contains(err.Error(), "newer") {
		t.Fatalf("open newer schema: %v", err)
	}
}

func TestBlobsContentAddressed(t *testing.T) {
	db, _ := openTest(t)
	b := db.Attachments()
	n, sum, err := b.Put(strings.NewReader("hello"))
	if err != nil {
		t.Fatal(err)
	}
	if n != 5 || sum != "2cf24dba5fb0a30e26e83b2ac5b9e29e1b161e5c1fa7425e73043362938b9824" {
		t.Fatalf("Put = %d %s", n, sum)
	}
	if _, _, err := b.Put(strings.NewReader("hello")); err != nil {
		t.Fatal("second put of the same content:", err)
	}
	data, err := os.ReadFile(b.Path(sum))
	if err != nil || string(data) != "hello" {
		t.Fatalf("read back %q %v", data, err)
	}
	left, _ := os.ReadDir(db.TempDir())
	if len(left) != 0 {
		t.Errorf("temp files left: %d", len(left))
	}
}

func TestOpenClearsTempLeftByACrash(t *testing.T) {
	db, dir := openTest(t)
	orphan := filepath.Join(db.TempDir(), "raw-123")
	if err := os.WriteFile(orphan, []byte("half a message"), 0o600); err != nil {
		t.Fatal(err)
	}
	db.Close()
	ro, err := Open(dir, Options{ReadOnly: true})
	if err != nil {
		t.Fatal(err)
	}
	ro.Close()
	if _, err := os.Stat(orphan); err != nil {
		t.Fatal("a read-only open touched tmp/:", err)
	}
	db, err = Open(dir, Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	if _, err := os.Stat(orphan); !errors.Is(err, os.ErrNotExist) {
		t.Fatalf("orphan temp file survived the daemon's open: %v", err)
	}
}

func TestNewStoreNeedsNoMigration(t *testing.T) {
	db, _ := openTest(t)
	db.View(func(tx *Tx) error {
		if tx.Value(DeadlinesFillPending) != nil {
			t.Error("a new store is marked as needing the deadline fill of an upgrade")
		}
		return nil
	})
}

// TestMigratesFromSchema1: a store of the intake release (schema 1) gets
// the deadline indexes of its cases and is marked for the deadline fill.
func TestMigratesFromSchema1(t *testing.T) {
	db, dir := openTest(t)
	c := &Case{ID: "CLM-2026-000001", Status: StatusOpen, Customer: "a@x", LegalDue: "2026-12-07"}
	mustUpdate(t, db, func(tx *Tx) error { return tx.PutCase(c) })
	db.Close()
	// Back to schema 1: no deadline index, no pending mark.
	bdb, err := bolt.Open(dir+"/claimsd.db", 0o600, nil)
	if err != nil {
		t.Fatal(err)
	}
	bdb.Update(func(tx *bolt.Tx) error {
		tx.DeleteBucket(bLegalDue)
		return tx.Bucket(bMeta).Put(keySchema, u64(1))
	})
	bdb.Close()
	db, err = Open(dir, Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	db.View(func(tx *Tx) error {
		if tx.Value(DeadlinesFillPending) == nil {
			t.Error("migrated store not marked for the deadline fill")
		}
		if cs, _ := tx.OpenCasesLegalDueBy("2026-12-31"); len(cs) != 1 {
			t.Errorf("legal due index after migration: %d cases", len(cs))
		}
		return nil
	})
}

// TestForEachCase walks every case once, in id order, and stops at fn's
// error.
func TestForEachCase(t *testing.T) {
	db, err := Open(t.TempDir(), Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	err = db.Update(func(tx *Tx) error {
		for _, id := range []string{"CLM-2026-000002", "CLM-2026-000001", "CLM-2026-000003"} {
			if err := tx.PutCase(&Case{ID: id, Status: StatusOpen}); err != nil {
				return err
			}
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	var seen []string
	stop := errors.New("stop")
	db.View(func(tx *Tx) error {
		if err := tx.ForEachCase(func(c Case) error { seen = append(seen, c.ID); return nil }); err != nil {
			t.Error(err)
		}
		n := 0
		if err := tx.ForEachCase(func(Case) error { n++; return stop }); !errors.Is(err, stop) || n != 1 {
			t.Errorf("stop: err %v after %d", err, n)
		}
		return nil
	})
	if strings.Join(seen, ",") != "CLM-2026-000001,CLM-2026-000002,CLM-2026-000003" {
		t.Errorf("seen %v", seen)
	}
}

// TestOutboxFailureCounters: entering failed, bounced or suppressed counts
// once per entry, so metrics read counters instead of the outbox.
func TestOutboxFailureCounters(t *testing.T) {
	db, err := Open(t.TempDir(), Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	step := func(to string) {
		t.Helper()
		err := db.Update(func(tx *Tx) error {
			it, ok, err := tx.Outbox(1)
			if err != nil {
				return err
			}
			if !ok {
				return tx.AddOutbox(&OutboxItem{ID: 1, Status: to})
			}
			old := it
			it.Status = to
			return tx.UpdateOutbox(&old, &it)
		})
		if err != nil {
			t.Fatal(err)
		}
	}
	for _, s := range []string{OutboxQueued, OutboxSending, OutboxFailed, OutboxFailed, OutboxQueued, OutboxSending, OutboxFailed, OutboxBounced} {
		step(s)
	}
	var c map[string]uint64
	db.View(func(tx *Tx) error { c = tx.Counters(); return nil })
	if c[CountMailFailed] != 2 || c[CountMailBounced] != 1 || c[CountMailSuppressed] != 0 {
		t.Errorf("counters %v", c)
	}
}
