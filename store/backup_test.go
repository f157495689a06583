package store

import (
	"archive/tar"
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/claimsd/claimsd/message"
	"github.com/claimsd/claimsd/privacy"
	bolt "go.etcd.io/bbolt"
)

// fixture is a store with one of everything a backup must carry: a case
// with an inline raw message and one kept as a file with an attachment,
// an unfiled and an unparsable message, pending and sent mail.
type fixture struct {
	db         *DB
	dir        string
	caseID     string
	raws       map[string][]byte // Message-ID -> raw bytes
	bigSHA     string            // the raw file
	attachSHA  string
	pendingID  uint64
	inlineSeq  uint64
	attachment []byte
}

func newFixture(t *testing.T) *fixture {
	t.Helper()
	db, dir := openTest(t)
	f := &fixture{db: db, dir: dir, caseID: "CLM-2026-000001", raws: map[string][]byte{}}
	t0 := time.Date(2026, 11, 23, 9, 0, 0, 0, time.UTC)
	small := []byte("From: jan@example.net\r\nMessage-ID: <small@x>\r\nSubject: Pęknięty ekran\r\n\r\nEkran pękł.\r\n")
	big := append([]byte("From: jan@example.net\r\nMessage-ID: <big@x>\r\nSubject: zdjęcia\r\n\r\n"), bytes.Repeat([]byte("zdjęcie "), InlineRawLimit/8+10)...)
	f.raws["small@x"], f.raws["big@x"] = small, big
	size, sha, err := db.RawFiles().Put(bytes.NewReader(big))
	if err != nil {
		t.Fatal(err)
	}
	f.bigSHA = sha
	f.attachment = bytes.Repeat([]byte{0xff, 0xd8, 1, 2}, 1000)
	asize, asha, err := db.Attachments().Put(bytes.NewReader(f.attachment))
	if err != nil {
		t.Fatal(err)
	}
	f.attachSHA = asha
	sum := func(b []byte) string { s := sha256.Sum256(b); return hex.EncodeToString(s[:]) }
	mustUpdate(t, db, func(tx *Tx) error {
		c := &Case{ID: f.caseID, Status: StatusOpen, Customer: "jan@example.net", NormSubject: "pęknięty ekran", CreatedAt: t0, ReceivedAt: t0,
			LegalDue: "2026-12-07", FirstAnswerDue: t0.Add(8 * time.Hour), NextDueAt: t0.Add(6 * time.Hour)}
		if err := tx.PutCase(c); err != nil {
			return err
		}
		m1 := &Message{CaseID: f.caseID, MessageID: "small@x", RawSHA256: sum(small), RawSize: int64(len(small)),
			Source: Source{"INBOX", 1, 1}, Attachments: []message.Attachment{}}
		if err := tx.AddMessage(m1, small); err != nil {
			return err
		}
		f.inlineSeq = m1.Seq
		m2 := &Message{CaseID: f.caseID, MessageID: "big@x", RawSHA256: sha, RawSize: size, RawInFile: true, Source: Source{"INBOX", 1, 2},
			Attachments: []message.Attachment{{Name: "foto.jpg", ContentType: "image/jpeg", Size: asize, SHA256: asha}}}
		if err := tx.AddMessage(m2, nil); err != nil {
			return err
		}
		auto := []byte("From: mailer-daemon@x\r\n\r\nbounce\r\n")
		if err := tx.AddMessage(&Message{MessageID: "auto@x", RawSHA256: sum(auto), RawSize: int64(len(auto)), Kind: "bounce"}, auto); err != nil {
			return err
		}
		bad := []byte("\x00\x01 not mail")
		if err := tx.AddMessage(&Message{CaseID: f.caseID, RawSHA256: sum(bad), RawSize: int64(len(bad)), ParseError: "no header"}, bad); err != nil {
			return err
		}
		pending := &OutboxItem{CaseID: f.caseID, Purpose: "ack", Status: OutboxQueued, MessageID: "CLM-2026-000001.o1.mac@x",
			To: message.Address{Addr: "jan@example.net"}, QueuedAt: t0, NextAttemptAt: t0}
		if err := tx.AddOutbox(pending); err != nil {
			return err
		}
		f.pendingID = pending.ID
		sent := &OutboxItem{CaseID: f.caseID, Purpose: "assign", Status: OutboxSent, MessageID: "CLM-2026-000001.o2.mac@x", QueuedAt: t0, SentAt: t0}
		return tx.AddOutbox(sent)
	})
	return f
}

// backup writes the fixture's backup into memory.
func (f *fixture) backup(t *testing.T) []byte {
	t.Helper()
	var buf bytes.Buffer
	if _, err := f.db.Backup(&buf); err != nil {
		t.Fatal(err)
	}
	return buf.Bytes()
}

// rawOf reads a message's raw bytes back from a store, inline or file.
func rawOf(t *testing.T, db *DB, m Message) []byte {
	t.Helper()
	if !m.RawInFile {
		var raw []byte
		db.View(func(tx *Tx) error { raw = tx.Raw(m.Seq); return nil })
		return raw
	}
	raw, err := os.ReadFile(db.RawFiles().Path(m.RawSHA256))
	if err != nil {
		t.Fatal(err)
	}
	return raw
}

func TestBackupRestoreVerify(t *testing.T) {
	f := newFixture(t)
	if r, err := f.db.Verify(); err != nil || !r.OK() {
		t.Fatalf("the fixture does not verify: %v %+v", err, r)
	}
	var buf bytes.Buffer
	info, err := f.db.Backup(&buf)
	if err != nil {
		t.Fatal(err)
	}
	if info.Schema != SchemaVersion || info.RawFiles != 1 || info.Attachments != 1 || info.DBBytes == 0 {
		t.Errorf("backup info %+v", info)
	}
	target := filepath.Join(t.TempDir(), "restored")
	res, err := Restore(bytes.NewReader(buf.Bytes()), target, RestoreOptions{})
	if err != nil {
		t.Fatal(err)
	}
	r := res.Report
	if !r.OK() || r.Cases != 1 || r.Messages != 4 || r.OutboxItems != 2 || r.RawInline != 3 || r.RawFiles != 1 || r.Attachments != 1 || len(r.Notes) != 0 {
		t.Errorf("report of the restored store: %+v", r)
	}
	db, err := Open(target, Options{ReadOnly: true})
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	if !bytes.Equal(db.MessageIDKey(), f.db.MessageIDKey()) {
		t.Error("the Message-ID key was not restored")
	}
	var msgs []Message
	db.View(func(tx *Tx) error { msgs, err = tx.CaseMessages(f.caseID); return err })
	if err != nil || len(msgs) != 3 {
		t.Fatalf("restored case messages: %d, %v", len(msgs), err)
	}
	for _, m := range msgs {
		if want, ok := f.raws[m.MessageID]; ok && !bytes.Equal(rawOf(t, db, m), want) {
			t.Errorf("message %s: raw bytes differ after restore", m.MessageID)
		}
	}
	if got, err := os.ReadFile(db.Attachments().Path(f.attachSHA)); err != nil || !bytes.Equal(got, f.attachment) {
		t.Errorf("attachment after restore: %v", err)
	}
	if r, err := Verify(target); err != nil || !r.OK() {
		t.Errorf("Verify(dir) of the restored store: %v %+v", err, r)
	}
}

// TestVerifyFindsDamage: each kind of damage is reported, naming what is
// wrong; missing attachments are only a note.
func TestVerifyFindsDamage(t *testing.T) {
	tests := []struct {
		name   string
		damage func(t *testing.T, f *fixture)
		want   string // in a problem; "" means none, note in a note
		note   string
	}{
		{"raw file missing", func(t *testing.T, f *fixture) { os.Remove(f.db.RawFiles().Path(f.bigSHA)) }, "raw message raw/", ""},
		{"raw file cut short", func(t *testing.T, f *fixture) { os.Truncate(f.db.RawFiles().Path(f.bigSHA), 100) }, "100 bytes, the record says", ""},
		{"raw file altered", func(t *testing.T, f *fixture) { flipByte(t, f.db.RawFiles().Path(f.bigSHA)) }, ".eml: content does not match its SHA-256", ""},
		{"inline raw altered", func(t *testing.T, f *fixture) {
			f.bolt(t, func(tx *bolt.Tx) error {
				raw := bytes.Clone(tx.Bucket(bRaw).Get(u64(f.inlineSeq)))
				raw[0] ^= 1
				return tx.Bucket(bRaw).Put(u64(f.inlineSeq), raw)
			})
		}, "raw message does not match its SHA-256", ""},
		{"status index entry lost", func(t *testing.T, f *fixture) {
			f.bolt(t, func(tx *bolt.Tx) error {
				k, _ := tx.Bucket(bStatus).Cursor().First()
				return tx.Bucket(bStatus).Delete(k)
			})
		}, "index idx_status lacks the entry of case CLM-2026-000001", ""},
		{"stale customer entry", func(t *testing.T, f *fixture) {
			f.bolt(t, func(tx *bolt.Tx) error {
				return tx.Bucket(bCustomer).Put(join([]byte("ewa@x"), []byte("CLM-2026-000009")), nil)
			})
		}, "index idx_customer holds 2 entries, the records need 1", ""},
		{"pending mail not in the due index", func(t *testing.T, f *fixture) {
			f.bolt(t, func(tx *bolt.Tx) error {
				c := tx.Bucket(bOutboxDue).Cursor()
				k, _ := c.First()
				return tx.Bucket(bOutboxDue).Delete(k)
			})
		}, "index idx_outbox_due lacks the entry of outbox item 1", ""},
		{"message of a vanished case", func(t *testing.T, f *fixture) {
			f.bolt(t, func(tx *bolt.Tx) error { return tx.Bucket(bCases).Delete([]byte(f.caseID)) })
		}, "belongs to case CLM-2026-000001, which does not exist", ""},
		{"Message-ID key lost", func(t *testing.T, f *fixture) {
			f.bolt(t, func(tx *bolt.Tx) error { return tx.Bucket(bMeta).Delete(keySecret) })
		}, "the key that signs Message-IDs is missing", ""},
		{"attachment file missing", func(t *testing.T, f *fixture) { os.Remove(f.db.Attachments().Path(f.attachSHA)) }, "", "1 attachment files missing"},
		{"raw file nobody refers to", func(t *testing.T, f *fixture) {
			if _, _, err := f.db.RawFiles().Put(strings.NewReader("left by a crash")); err != nil {
				t.Fatal(err)
			}
		}, "", "1 raw message files are referred to by no message"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			f := newFixture(t)
			tt.damage(t, f)
			r, err := f.db.Verify()
			if err != nil {
				t.Fatal(err)
			}
			if tt.want == "" && !r.OK() {
				t.Errorf("problems %q, want none", r.Problems)
			}
			if tt.want != "" && !strings.Contains(strings.Join(r.Problems, "\n"), tt.want) {
				t.Errorf("problems %q, want one with %q", r.Problems, tt.want)
			}
			if tt.note != "" && !strings.Contains(strings.Join(r.Notes, "\n"), tt.note) {
				t.Errorf("notes %q, want one with %q", r.Notes, tt.note)
			}
		})
	}
}

// bolt changes the fixture's file below the store's API, as damage would.
func (f *fixture) bolt(t *testing.T, fn func(*bolt.Tx) error) {
	t.Helper()
	if err := f.db.bolt.Update(fn); err != nil {
		t.Fatal(err)
	}
}

func flipByte(t *testing.T, path string) {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	b[len(b)/2] ^= 1
	if err := os.WriteFile(path, b, 0o600); err != nil {
		t.Fatal(err)
	}
}

// TestBackupOfDamagedStore: a raw file missing at backup time is named in
// the error, the archive is still written, and a restore takes it only
// when told to ignore problems.
func TestBackupOfDamagedStore(t *testing.T) {
	f := newFixture(t)
	os.Remove(f.db.RawFiles().Path(f.bigSHA))
	var buf bytes.Buffer
	info, err := f.db.Backup(&buf)
	if !errors.Is(err, ErrBackupIncomplete) || !strings.Contains(err.Error(), "raw/"+f.bigSHA[:2]+"/"+f.bigSHA+".eml: missing") {
		t.Fatalf("backup error %v", err)
	}
	if info.RawFiles != 0 || len(info.RawProblems) != 1 {
		t.Errorf("info %+v", info)
	}
	target := filepath.Join(t.TempDir(), "data")
	if _, err := Restore(bytes.NewReader(buf.Bytes()), target, RestoreOptions{}); err == nil || !strings.Contains(err.Error(), "does not verify") {
		t.Fatalf("restore of an incomplete backup: %v", err)
	}
	if _, err := os.Stat(target); !errors.Is(err, os.ErrNotExist) {
		t.Errorf("refused restore left %s: %v", target, err)
	}
	res, err := Restore(bytes.NewReader(buf.Bytes()), target, RestoreOptions{IgnoreProblems: true})
	if err != nil || res.Report.OK() {
		t.Fatalf("restore ignoring problems: %v, report %+v", err, res.Report)
	}
}

// TestRestoreRefuses: a restore that cannot be right changes nothing and
// leaves no temporary directory behind.
func TestRestoreRefuses(t *testing.T) {
	f := newFixture(t)
	good := f.backup(t)
	tests := []struct {
		name    string
		archive func() []byte
		prepare func(t *testing.T, dataDir string) // the target before the restore
		opts    RestoreOptions
		want    string
	}{
		{"target not empty", func() []byte { return good }, writeMarker, RestoreOptions{}, "is not empty; restore --force"},
		{"target in use", func() []byte { return good }, func(t *testing.T, dir string) {
			db, err := Open(dir, Options{})
			if err != nil {
				t.Fatal(err)
			}
			t.Cleanup(func() { db.Close() })
		}, RestoreOptions{Force: true}, ErrLocked.Error()},
		{"cut short", func() []byte { return good[:len(good)/2] }, nil, RestoreOptions{}, "unexpected EOF"},
		{"manifest missing", func() []byte { return withoutManifest(t, good) }, nil, RestoreOptions{}, "cut short"},
		{"not a backup", func() []byte { return tarOf(t, map[string]string{"etc/passwd": "root"}) }, nil, RestoreOptions{}, "not a claimsd backup"},
		{"path outside the data dir", func() []byte { return tarOf(t, map[string]string{"claimsd.db": "x", "../evil": "x"}) }, nil, RestoreOptions{}, `unexpected entry "../evil"`},
		{"newer schema", func() []byte { return newerSchemaBackup(t) }, nil, RestoreOptions{}, "newer than this claimsd understands"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			parent := t.TempDir()
			target := filepath.Join(parent, "data")
			if tt.prepare != nil {
				tt.prepare(t, target)
			}
			before := listDir(t, parent)
			_, err := Restore(bytes.NewReader(tt.archive()), target, tt.opts)
			if err == nil || !strings.Contains(err.Error(), tt.want) {
				t.Fatalf("restore error %v, want %q", err, tt.want)
			}
			if after := listDir(t, parent); after != before {
				t.Errorf("refused restore changed the parent dir:\nbefore %s\nafter  %s", before, after)
			}
		})
	}
}

func TestRestoreForceMovesOldDataAside(t *testing.T) {
	f := newFixture(t)
	target := filepath.Join(t.TempDir(), "data")
	writeMarker(t, target)
	res, err := Restore(bytes.NewReader(f.backup(t)), target, RestoreOptions{Force: true})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := os.Stat(filepath.Join(res.MovedAside, "marker")); err != nil {
		t.Errorf("old contents not kept aside: %v", err)
	}
	if _, err := os.Stat(filepath.Join(target, "marker")); !errors.Is(err, os.ErrNotExist) {
		t.Errorf("old contents still in the data dir: %v", err)
	}
	if r, err := Verify(target); err != nil || !r.OK() {
		t.Errorf("restored store: %v %+v", err, r)
	}
}

func writeMarker(t *testing.T, dir string) {
	t.Helper()
	if err := os.MkdirAll(dir, 0o750); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(dir, "marker"), []byte("old"), 0o600); err != nil {
		t.Fatal(err)
	}
}

func listDir(t *testing.T, dir string) string {
	t.Helper()
	var names []string
	filepath.WalkDir(dir, func(p string, _ os.DirEntry, err error) error {
		names = append(names, strings.TrimPrefix(p, dir))
		return err
	})
	return strings.Join(names, " ")
}

func tarOf(t *testing.T, files map[string]string) []byte {
	t.Helper()
	var buf bytes.Buffer
	tw := tar.NewWriter(&buf)
	for _, name := range []string{"etc/passwd", "claimsd.db", "../evil"} {
		if body, ok := files[name]; ok {
			tw.WriteHeader(&tar.Header{Typeflag: tar.TypeReg, Name: name, Size: int64(len(body)), Mode: 0o600})
			tw.Write([]byte(body))
		}
	}
	tw.Close()
	return buf.Bytes()
}

// withoutManifest rewrites a backup without its last entry, as a copy
// cut exactly between two entries would be.
func withoutManifest(t *testing.T, archive []byte) []byte {
	t.Helper()
	var buf bytes.Buffer
	tr, tw := tar.NewReader(bytes.NewReader(archive)), tar.NewWriter(&buf)
	for {
		hdr, err := tr.Next()
		if err == io.EOF {
			break
		}
		if err != nil {
			t.Fatal(err)
		}
		if hdr.Name == manifestName {
			continue
		}
		tw.WriteHeader(hdr)
		io.Copy(tw, tr)
	}
	tw.Close()
	return buf.Bytes()
}

func newerSchemaBackup(t *testing.T) []byte {
	t.Helper()
	f := newFixture(t)
	f.bolt(t, func(tx *bolt.Tx) error { return tx.Bucket(bMeta).Put(keySchema, u64(SchemaVersion+1)) })
	return f.backup(t)
}

// TestBackupWhileWriting: backups taken while cases are committed
// restore to stores that verify and hold every case committed before
// the backup began.
func TestBackupWhileWriting(t *testing.T) {
	db, _ := openTest(t)
	var committed atomic.Int64
	stop := make(chan struct{})
	var wg sync.WaitGroup
	wg.Add(1)
	go func() {
		defer wg.Done()
		// Every fifth message is over the inline limit, so raw files are
		// written while backups run; 150 messages bound the disk used.
		for i := 1; i <= 150; i++ {
			select {
			case <-stop:
				return
			default:
			}
			body := "short"
			if i%5 == 0 {
				body = strings.Repeat("x", InlineRawLimit)
			}
			raw := fmt.Appendf(nil, "Message-ID: <m%d@x>\r\n\r\n%s\r\n", i, body)
			size, sha := int64(len(raw)), fmt.Sprintf("%x", sha256.Sum256(raw))
			inline := raw
			if len(raw) > InlineRawLimit {
				if _, _, err := db.RawFiles().Put(bytes.NewReader(raw)); err != nil {
					t.Error(err)
					return
				}
				inline = nil
			}
			err := db.Update(func(tx *Tx) error {
				id := fmt.Sprintf("CLM-2026-%06d", i)
				if err := tx.PutCase(&Case{ID: id, Status: StatusOpen, CreatedAt: time.Now()}); err != nil {
					return err
				}
				m := &Message{CaseID: id, MessageID: fmt.Sprintf("m%d@x", i), RawSHA256: sha, RawSize: size, RawInFile: inline == nil}
				return tx.AddMessage(m, inline)
			})
			if err != nil {
				t.Error(err)
				return
			}
			committed.Store(int64(i))
		}
	}()
	for round := range 3 {
		for committed.Load() < int64(20*(round+1)) {
			time.Sleep(time.Millisecond)
		}
		before := committed.Load()
		var buf bytes.Buffer
		if _, err := db.Backup(&buf); err != nil {
			t.Fatal(err)
		}
		target := filepath.Join(t.TempDir(), "data")
		res, err := Restore(&buf, target, RestoreOptions{})
		if err != nil {
			t.Fatalf("round %d: %v", round, err)
		}
		if res.Report.Cases < int(before) {
			t.Errorf("round %d: %d cases restored, %d were committed before the backup", round, res.Report.Cases, before)
		}
		if res.Report.RawFiles == 0 {
			t.Errorf("round %d: no raw file in the backup", round)
		}
	}
	close(stop)
	wg.Wait()
}

func TestGauges(t *testing.T) {
	db, _ := openTest(t)
	t0 := time.Date(2026, 11, 23, 9, 0, 0, 0, time.UTC)
	cases := []Case{
		{ID: "CLM-2026-000001", Status: StatusOpen, LegalDue: "2026-12-07", FirstAnswerDue: t0.Add(8 * time.Hour)},
		{ID: "CLM-2026-000002", Status: StatusOpen, LegalDue: "2026-12-01", FirstAnswerDue: t0.Add(2 * time.Hour)},
		{ID: "CLM-2026-000003", Status: StatusWaiting, LegalDue: "2026-11-30"},
		{ID: "CLM-2026-000004", Status: StatusResolved, LegalDue: "2026-11-20"},
		{ID: "CLM-2026-000005", Status: StatusOpen, LegalDue: "2026-11-25", FirstAnswerDue: t0.Add(time.Hour), FirstAnsweredAt: t0},
	}
	mustUpdate(t, db, func(tx *Tx) error {
		for i := range cases {
			cases[i].CreatedAt = t0
			if err := tx.PutCase(&cases[i]); err != nil {
				return err
			}
		}
		items := []OutboxItem{
			{Status: OutboxQueued, QueuedAt: t0, NextAttemptAt: t0.Add(time.Hour), Attempts: 2, LastError: "421 try later"},
			{Status: OutboxQueued, QueuedAt: t0.Add(-time.Hour), NextAttemptAt: t0.Add(3 * time.Hour)}, // queued to go later
			{Status: OutboxSending, QueuedAt: t0.Add(30 * time.Minute), NextAttemptAt: t0.Add(31 * time.Minute), Attempts: 1},
			{Status: OutboxSent, QueuedAt: t0.Add(-48 * time.Hour)},
			{Status: OutboxFailed, QueuedAt: t0.Add(-48 * time.Hour)},
		}
		for i := range items {
			if err := tx.AddOutbox(&items[i]); err != nil {
				return err
			}
		}
		return tx.Inc(CountKindPrefix+"customer", 4)
	})
	var g Gauges
	err := db.View(func(tx *Tx) (err error) {
		g, err = tx.Gauges("2026-12-01", t0.Add(2*time.Hour))
		return err
	})
	if err != nil {
		t.Fatal(err)
	}
	if fmt.Sprint(g.CasesByStatus) != "map[open:3 resolved:1 waiting:1]" {
		t.Errorf("by status %v", g.CasesByStatus)
	}
	// Legal: 000002 (12-01), 000003 (11-30, waiting counts), 000005
	// (11-25); 000004 is closed. First answer: 000002 only (000005 is
	// answered, 000001 not due yet).
	if g.LegalOverdue != 3 || g.FirstAnswerOverdue != 1 {
		t.Errorf("overdue legal %d first answer %d, want 3 and 1", g.LegalOverdue, g.FirstAnswerOverdue)
	}
	w := g.Outbox
	if fmt.Sprint(w.Pending) != "map[queued:2 sending:1]" || w.Retrying != 1 || w.OldestID != 1 || !w.OldestSince.Equal(t0) {
		t.Errorf("outbox %+v", w)
	}
	if g.Counters["kind_customer"] != 4 || g.Bytes == 0 {
		t.Errorf("counters %v bytes %d", g.Counters, g.Bytes)
	}
}

// TestVerifyAcceptsSpoolNames: raw files named by the hash intake's spool
// used to compute (its first InlineRawLimit+1 bytes counted twice) verify
// and back up, with a note.
func TestVerifyAcceptsSpoolNames(t *testing.T) {
	db, _ := openTest(t)
	raw := bytes.Repeat([]byte("0123456789abcdef"), InlineRawLimit/16+100)
	h := sha256.New()
	h.Write(raw[:InlineRawLimit+1])
	h.Write(raw)
	name := hex.EncodeToString(h.Sum(nil))
	f, err := os.CreateTemp(db.TempDir(), "raw-*")
	if err != nil {
		t.Fatal(err)
	}
	f.Write(raw)
	if err := db.RawFiles().Adopt(f, name); err != nil {
		t.Fatal(err)
	}
	mustUpdate(t, db, func(tx *Tx) error {
		return tx.AddMessage(&Message{MessageID: "old@x", RawSHA256: name, RawSize: int64(len(raw)), RawInFile: true}, nil)
	})
	r, err := db.Verify()
	if err != nil || !r.OK() || !strings.Contains(strings.Join(r.Notes, "\n"), "1 raw message files are named by the hash intake's spool computed") {
		t.Fatalf("verify: %v %+v", err, r)
	}
	var buf bytes.Buffer
	if info, err := db.Backup(&buf); err != nil || info.RawFiles != 1 {
		t.Fatalf("backup: %v %+v", err, info)
	}
	if _, err := Restore(&buf, filepath.Join(t.TempDir(), "data"), RestoreOptions{}); err != nil {
		t.Fatal(err)
	}
}

// TestBackupDir: without a daemon a store of an older schema can be
// backed up (and restored, to be migrated at the next start); with one,
// BackupDir and Verify say the store is in use.
func TestBackupDir(t *testing.T) {
	f := newFixture(t)
	if _, err := BackupDir(f.dir, io.Discard); !errors.Is(err, ErrLocked) {
		t.Errorf("BackupDir of a store in use: %v", err)
	}
	if _, err := Verify(f.dir); !errors.Is(err, ErrLocked) {
		t.Errorf("Verify of a store in use: %v", err)
	}
	f.bolt(t, func(tx *bolt.Tx) error { return tx.Bucket(bMeta).Put(keySchema, u64(SchemaVersion-1)) })
	f.db.Close()
	var buf bytes.Buffer
	info, err := BackupDir(f.dir, &buf)
	if err != nil || info.Schema != SchemaVersion-1 {
		t.Fatalf("BackupDir: %v %+v", err, info)
	}
	res, err := Restore(&buf, filepath.Join(t.TempDir(), "data"), RestoreOptions{})
	if err != nil || !res.Report.OK() || !strings.Contains(strings.Join(res.Report.Notes, "\n"), "migrates the store") {
		t.Fatalf("restore of an older schema: %v %+v", err, res.Report)
	}
}

// TestVerifyAfterErasureAndRetention: a store whose personal data was
// erased or purged (raw messages and attachments gone, messages
// redacted) still verifies.
func TestVerifyAfterErasureAndRetention(t *testing.T) {
	f := newFixture(t)
	warsaw, _ := time.LoadLocation("Europe/Warsaw")
	closed := time.Date(2018, 3, 1, 12, 0, 0, 0, warsaw)
	mustUpdate(t, f.db, func(tx *Tx) error {
		c, _, err := tx.Case(f.caseID)
		if err != nil {
			return err
		}
		old := c
		c.Status, c.ClosedAt, c.LegalAnsweredAt = StatusResolved, closed, closed
		c.CreatedAt, c.ReceivedAt = closed.AddDate(0, 0, -10), closed.AddDate(0, 0, -10)
		return tx.UpdateCase(&old, &c)
	})
	rules := privacy.Rules{Years: 6, Location: warsaw}
	now := time.Date(2026, 11, 30, 9, 0, 0, 0, warsaw)
	if _, err := f.db.Retention(RetentionOptions{Now: now, Rules: rules}); err != nil {
		t.Fatal(err)
	}
	if _, err := os.Stat(f.db.RawFiles().Path(f.bigSHA)); !errors.Is(err, os.ErrNotExist) {
		t.Fatalf("retention kept the raw file (%v): the test needs a purged store", err)
	}
	if r, err := f.db.Verify(); err != nil || !r.OK() {
		t.Errorf("after retention: %v %q", err, r.Problems)
	}
	// Erasure of a person whose case was closed lately: kept, restricted,
	// its raw mail gone.
	g := newFixture(t)
	mustUpdate(t, g.db, func(tx *Tx) error {
		c, _, err := tx.Case(g.caseID)
		if err != nil {
			return err
		}
		old := c
		c.Status, c.ClosedAt, c.LegalAnsweredAt = StatusResolved, now.AddDate(0, 0, -3), now.AddDate(0, 0, -3)
		return tx.UpdateCase(&old, &c)
	})
	if _, err := g.db.Erase("jan@example.net", EraseOptions{Now: now, Rules: rules}); err != nil {
		t.Fatal(err)
	}
	if _, err := os.Stat(g.db.RawFiles().Path(g.bigSHA)); !errors.Is(err, os.ErrNotExist) {
		t.Fatalf("erasure kept the raw file (%v): the test needs an erased store", err)
	}
	if r, err := g.db.Verify(); err != nil || !r.OK() {
		t.Errorf("after erasure: %v %q", err, r.Problems)
	}
	var buf bytes.Buffer
	if _, err := f.db.Backup(&buf); err != nil {
		t.Fatal(err)
	}
	if _, err := Restore(&buf, filepath.Join(t.TempDir(), "data"), RestoreOptions{}); err != nil {
		t.Fatal(err)
	}
}
