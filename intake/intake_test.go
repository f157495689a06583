package intake

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"io"
	"log/slog"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/claimsd/claimsd/mailbox"
	"github.com/claimsd/claimsd/store"
)

type staffBook struct{}

func (staffBook) IsStaff(a string) bool { return a == "anna@sklep.example" }
func (staffBook) IsOwn(a string) bool   { return a == "reklamacje@sklep.example" }

var t0 = time.Date(2026, 11, 23, 9, 0, 0, 0, time.UTC)

func newIntake(t testing.TB) (*Intake, *store.DB) {
	t.Helper()
	db, err := store.Open(t.TempDir(), store.Options{})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Close() })
	warsaw, err := time.LoadLocation("Europe/Warsaw")
	if err != nil {
		t.Fatal(err)
	}
	in := New(db, Settings{
		CasePrefix: "CLM", Location: warsaw, SubjectWindow: 30 * 24 * time.Hour,
		Addresses: staffBook{}, MessageIDDomain: "sklep.example",
	}, slog.New(slog.NewTextHandler(io.Discard, nil)), func() time.Time { return t0 })
	return in, db
}

func mail(from, subject, msgID string, extra ...string) string {
	var b strings.Builder
	fmt.Fprintf(&b, "From: %s\r\nTo: reklamacje@sklep.example\r\nSubject: %s\r\nDate: Mon, 23 Nov 2026 09:14:02 +0100\r\n", from, subject)
	if msgID != "" {
		fmt.Fprintf(&b, "Message-ID: <%s>\r\n", msgID)
	}
	for _, h := range extra {
		b.WriteString(h + "\r\n")
	}
	b.WriteString("Content-Type: text/plain; charset=utf-8\r\n\r\nDzień dobry, proszę o naprawę.\r\n")
	return b.String()
}

// deliver hands raws to the intake as UIDs from..., then flushes once.
func deliver(t *testing.T, in *Intake, uidValidity, firstUID uint32, raws ...string) []uint32 {
	t.Helper()
	ctx := context.Background()
	for i, raw := range raws {
		err := in.Deliver(ctx, mailbox.Fetched{Mailbox: "INBOX", UIDValidity: uidValidity, UID: firstUID + uint32(i),
			InternalDate: t0.Add(time.Duration(i) * time.Minute), Size: int64(len(raw)), Body: strings.NewReader(raw)})
		if err != nil {
			t.Fatal(err)
		}
	}
	uids, err := in.Flush(ctx)
	if err != nil {
		t.Fatal(err)
	}
	return uids
}

func messagesByUID(t *testing.T, db *store.DB) map[uint32]store.Message {
	t.Helper()
	out := map[uint32]store.Message{}
	db.View(func(tx *store.Tx) error {
		cases, _ := tx.ListCases(store.CaseFilter{})
		for _, c := range cases {
			msgs, _ := tx.CaseMessages(c.ID)
			for _, m := range msgs {
				out[m.Source.UID] = m
			}
		}
		unfiled, _ := tx.ListMessages(store.MessageFilter{Unfiled: true})
		for _, m := range unfiled {
			out[m.Source.UID] = m
		}
		return nil
	})
	return out
}

func TestIntakeThreadsAGroupInOrder(t *testing.T) {
	in, db := newIntake(t)
	uids := deliver(t, in, 1, 1,
		mail("Jan Kowalski <jan@example.net>", "Reklamacja: pęknięty ekran", "orig@example.net", "Reply-To: Jan <jan.private@example.net>"),
		mail("jan@example.net", "Re: Reklamacja: pęknięty ekran", "r1@example.net", "In-Reply-To: <orig@example.net>", "References: <orig@example.net>"),
		mail("jan@example.net", "Odp: Reklamacja: pęknięty ekran", "r2@example.net"),
		mail("emily@example.org", "Broken blender", "e1@example.org"),
		mail("intruder@example.com", "Re: [CLM-2026-000001] pay me", "x1@example.com"),
		mail("jan@example.net", "Automatic reply: Re: x [CLM-2026-000001]", "ooo@example.net", "Auto-Submitted: auto-replied"),
		mail("mailer-daemon@mx.example", "Undelivered Mail Returned to Sender", "dsn@mx.example", "Auto-Submitted: auto-replied"),
		mail("Anna Nowak <anna@sklep.example>", "[CLM-2026-000002] sprawdzone", "staff1@sklep.example"),
	)
	if !slices.Equal(uids, []uint32{1, 2, 3, 4, 5, 6, 7, 8}) {
		t.Fatalf("committed uids %v", uids)
	}
	got := messagesByUID(t, db)
	want := map[uint32]struct{ caseID, kind, by string }{
		1: {"CLM-2026-000001", "customer", "new_case"},
		2: {"CLM-2026-000001", "customer", "references"},
		3: {"CLM-2026-000001", "customer", "subject"},
		4: {"CLM-2026-000002", "customer", "new_case"},
		5: {"CLM-2026-000003", "customer", "new_case"},
		6: {"CLM-2026-000001", "auto_reply", "subject_tag"},
		7: {"", "bounce", "unfiled"},
		8: {"CLM-2026-000002", "staff", "subject_tag"},
	}
	for uid, w := range want {
		m := got[uid]
		if m.CaseID != w.caseID || m.Kind != w.kind || m.ThreadedBy != w.by {
			t.Errorf("uid %d: case %q kind %s by %s (%s); want %q %s %s", uid, m.CaseID, m.Kind, m.ThreadedBy, m.ThreadNote, w.caseID, w.kind, w.by)
		}
	}
	if rt := got[1].ReplyTo; len(rt) != 1 || rt[0].Addr != "jan.private@example.net" {
		t.Errorf("Reply-To not recorded: %+v", rt)
	}
	db.View(func(tx *store.Tx) error {
		c, _, _ := tx.Case("CLM-2026-000001")
		if c.Messages != 4 || c.Customer != "jan@example.net" || c.CustomerName != "Jan Kowalski" || !c.ReceivedAt.Equal(t0) {
			t.Errorf("case 1 = %+v", c)
		}
		cur, _ := tx.Cursor("INBOX")
		if cur != (store.Cursor{UIDValidity: 1, LastUID: 8}) {
			t.Errorf("cursor %+v", cur)
		}
		if marks := tx.PendingMarks("INBOX", 1); len(marks) != 8 {
			t.Errorf("pending marks %v", marks)
		}
		return nil
	})
	if s := in.Stats(); s.Committed != 8 || s.NewCases != 3 || s.Unfiled != 1 {
		t.Errorf("stats %+v", s)
	}
}

func TestIntakeDeduplicates(t *testing.T) {
	in, db := newIntake(t)
	a := mail("jan@example.net", "Reklamacja", "a@example.net")
	noID := mail("jan@example.net", "Bez identyfikatora", "")
	deliver(t, in, 1, 1, a, noID)
	// The same UIDs again (a crash fell between commit and mark), the
	// same message under a new UID (delivered twice), and everything
	// again after a UIDVALIDITY change.
	deliver(t, in, 1, 1, a, noID)
	deliver(t, in, 1, 3, a)
	deliver(t, in, 2, 1, a, noID)
	var n int
	db.View(func(tx *store.Tx) error {
		unfiled, _ := tx.ListMessages(store.MessageFilter{Unfiled: true})
		cases, _ := tx.ListCases(store.CaseFilter{})
		for _, c := range cases {
			msgs, _ := tx.CaseMessages(c.ID)
			n += len(msgs)
		}
		n += len(unfiled)
		if len(cases) != 2 {
			t.Errorf("%d cases, want 2", len(cases))
		}
		if c := tx.Counters()[store.CountDuplicates]; c != 3 {
			t.Errorf("duplicates counter %d, want 3", c)
		}
		return nil
	})
	if n != 2 {
		t.Fatalf("%d messages stored, want 2", n)
	}
}

func TestIntakeKeepsWhatDoesNotParse(t *testing.T) {
	in, db := newIntake(t)
	garbage := "this is not a header\r\n\x00\x01\x02 at all\r\n"
	deliver(t, in, 1, 1, garbage)
	got := messagesByUID(t, db)
	m, ok := got[1]
	if !ok {
		t.Fatal("unparsable message not stored")
	}
	db.View(func(tx *store.Tx) error {
		if raw := tx.Raw(m.Seq); string(raw) != garbage {
			t.Errorf("raw not kept byte for byte: %q", raw)
		}
		if c := tx.Counters()[store.CountParseFailed]; c != 1 {
			t.Errorf("parse_failed counter %d, want 1", c)
		}
		failed, _ := tx.ListMessages(store.MessageFilter{ParseFailed: true})
		if len(failed) != 1 || failed[0].Seq != m.Seq {
			t.Errorf("not listed as failed: %+v", failed)
		}
		return nil
	})
	if m.ParseError == "" || in.Stats().ParseFailed != 1 {
		t.Errorf("parse failure not recorded: %q, stats %+v", m.ParseError, in.Stats())
	}
	// No sender can be read: kept, but opens no case nobody could answer.
	if m.CaseID != "" || m.ThreadedBy != string(ByNone) {
		t.Errorf("case %q threaded %s", m.CaseID, m.ThreadedBy)
	}
}

func TestIntakeLargeMessageGoesToFile(t *testing.T) {
	in, db := newIntake(t)
	body := strings.Repeat("Lorem ipsum dolor sit amet, zażółć gęślą jaźń.\r\n", (store.InlineRawLimit/40)+100)
	raw := mail("jan@example.net", "Long", "long@example.net") + body
	deliver(t, in, 1, 1, raw)
	m := messagesByUID(t, db)[1]
	if !m.RawInFile || m.RawSize != int64(len(raw)) {
		t.Fatalf("raw in file %v size %d", m.RawInFile, m.RawSize)
	}
	data, err := os.ReadFile(db.RawFiles().Path(m.RawSHA256))
	if err != nil || string(data) != raw {
		t.Fatalf("raw file: %v (len %d)", err, len(data))
	}
	// Content-addressed: the name is the hash of exactly these bytes.
	if sum := sha256.Sum256([]byte(raw)); m.RawSHA256 != hex.EncodeToString(sum[:]) {
		t.Errorf("raw file named %s, but its SHA-256 is %x", m.RawSHA256, sum)
	}
	left, _ := os.ReadDir(db.TempDir())
	if len(left) != 0 {
		t.Errorf("%d temp files left", len(left))
	}
}

func TestIntakeHugeHeaderValuesDoNotBlockCommits(t *testing.T) {
	in, db := newIntake(t)
	longID := strings.Repeat("x", 40<<10) + "@example.net"
	longSubject := strings.Repeat("Reklamacja ", 10<<10)
	raw := mail("jan@example.net", longSubject, longID)
	deliver(t, in, 1, 1, raw)
	deliver(t, in, 1, 2, raw) // the same message again: a duplicate
	reply := mail("jan@example.net", "Re: "+longSubject, "reply@example.net", "In-Reply-To: <"+longID+">")
	deliver(t, in, 1, 3, reply)
	got := messagesByUID(t, db)
	if got[1].CaseID == "" || got[3].CaseID != got[1].CaseID {
		t.Fatalf("case %q, reply case %q by %s", got[1].CaseID, got[3].CaseID, got[3].ThreadedBy)
	}
	if s := in.Stats(); s.Duplicates != 1 || s.Committed != 2 {
		t.Fatalf("stats %+v", s)
	}
}

// TestIntakeCommitFailureStopsLaterGroups breaks the raw-file directory
// (as a failing disk would) under the second group: the first group
// stays committed, nothing after the failure is, the cursor does not pass
// it, and after the repair the redelivered messages commit.
func TestIntakeCommitFailureStopsLaterGroups(t *testing.T) {
	in, db := newIntake(t)
	ctx := context.Background()
	big := mail("big@example.net", "Film", "big@example.net") + strings.Repeat("x", store.InlineRawLimit+1)
	msgs := make([]string, 0, groupMaxMessages+10)
	for i := range groupMaxMessages {
		msgs = append(msgs, mail(fmt.Sprintf("c%d@example.net", i), "Reklamacja", fmt.Sprintf("m%d@example.net", i)))
	}
	msgs = append(msgs, big)
	for i := range 9 {
		msgs = append(msgs, mail(fmt.Sprintf("d%d@example.net", i), "Reklamacja", fmt.Sprintf("n%d@example.net", i)))
	}
	rawDir := filepath.Join(db.DataDir(), "raw")
	if err := os.RemoveAll(rawDir); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(rawDir, []byte("not a directory"), 0o600); err != nil {
		t.Fatal(err)
	}
	var err error
	for i, raw := range msgs {
		err = in.Deliver(ctx, mailbox.Fetched{Mailbox: "INBOX", UIDValidity: 1, UID: uint32(i + 1), Body: strings.NewReader(raw)})
		if err != nil {
			break
		}
	}
	if err == nil {
		_, err = in.Flush(ctx)
	}
	if err == nil {
		t.Fatal("no error although raw files cannot be stored")
	}
	cursor := func() store.Cursor {
		var c store.Cursor
		db.View(func(tx *store.Tx) (err error) { c, err = tx.Cursor("INBOX"); return err })
		return c
	}
	if c := cursor(); c.LastUID != groupMaxMessages {
		t.Fatalf("cursor after the failure at uid %d: %+v", groupMaxMessages+1, c)
	}
	if n := len(messagesByUID(t, db)); n != groupMaxMessages {
		t.Fatalf("%d messages stored, want the first group's %d", n, groupMaxMessages)
	}
	// Repair and redeliver from the cursor, as the watcher does.
	os.Remove(rawDir)
	uids := deliver(t, in, 1, groupMaxMessages+1, msgs[groupMaxMessages:]...)
	if len(uids) != 10 || cursor().LastUID != uint32(len(msgs)) {
		t.Fatalf("after repair: committed %v, cursor %+v", uids, cursor())
	}
}
