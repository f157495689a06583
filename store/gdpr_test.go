package store

import (
	"bytes"
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"mime/quotedprintable"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/claimsd/claimsd/message"
	"github.com/claimsd/claimsd/privacy"
)

// The person whose data the tests erase, and what only they wrote.
const (
	janAddr  = "jan.kowalski@example.pl"
	janName  = "Jan Kowalski"
	janWords = "Zygzakowaty czajnik Pumeks eksplodował w kuchni"
	ewaAddr  = "ewa.zielinska@example.com"
	ewaWords = "Odkurzacz Wichura gubi kółko"
	annaAddr = "anna@sklep.example" // staff
)

var warsawLoc = func() *time.Location {
	loc, err := time.LoadLocation("Europe/Warsaw")
	if err != nil {
		panic(err)
	}
	return loc
}()

func day(y int, m time.Month, d int) time.Time { return time.Date(y, m, d, 10, 0, 0, 0, warsawLoc) }

// rawMail is a complaint as it arrives: the body quoted-printable and the
// attachment base64, so the test can look for the encoded forms too.
func rawMail(from, to, cc, subject, msgID, text string, attachment []byte) []byte {
	var b bytes.Buffer
	fmt.Fprintf(&b, "From: %s\r\nTo: %s\r\n", from, to)
	if cc != "" {
		fmt.Fprintf(&b, "Cc: %s\r\n", cc)
	}
	fmt.Fprintf(&b, "Subject: %s\r\nMessage-ID: <%s>\r\nMIME-Version: 1.0\r\nContent-Type: multipart/mixed; boundary=XX\r\n\r\n", subject, msgID)
	b.WriteString("--XX\r\nContent-Type: text/plain; charset=utf-8\r\nContent-Transfer-Encoding: quoted-printable\r\n\r\n")
	qp := quotedprintable.NewWriter(&b)
	qp.Write([]byte(text))
	qp.Close()
	if attachment != nil {
		b.WriteString("\r\n--XX\r\nContent-Type: image/jpeg; name=paragon.jpg\r\nContent-Transfer-Encoding: base64\r\n\r\n")
		b.WriteString(base64.StdEncoding.EncodeToString(attachment))
	}
	b.WriteString("\r\n--XX--\r\n")
	return b.Bytes()
}

type gdprFixture struct {
	t   *testing.T
	db  *DB
	dir string
	// shared is an attachment both Jan's and Ewa's complaints carry (the
	// shop's printed receipt template, say).
	shared []byte
}

func newGDPRFixture(t *testing.T) *gdprFixture {
	dir := t.TempDir()
	db, err := Open(dir, Options{})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Close() })
	return &gdprFixture{t: t, db: db, dir: dir, shared: bytes.Repeat([]byte("RECEIPT-TEMPLATE "), 300)}
}

// message stores a message with its raw bytes (as a file when bigFile)
// and its attachment.
func (f *gdprFixture) message(m Message, raw []byte, bigFile bool, attachment []byte) Message {
	f.t.Helper()
	if attachment != nil {
		n, sha, err := f.db.Attachments().Put(bytes.NewReader(attachment))
		if err != nil {
			f.t.Fatal(err)
		}
		m.Attachments = []message.Attachment{{Name: "paragon.jpg", ContentType: "image/jpeg", Size: n, SHA256: sha}}
	}
	m.RawSHA256, m.RawSize = sha(raw), int64(len(raw))
	inline := raw
	if bigFile {
		if _, _, err := f.db.RawFiles().Put(bytes.NewReader(raw)); err != nil {
			f.t.Fatal(err)
		}
		m.RawInFile, inline = true, nil
	}
	if m.Attachments == nil {
		m.Attachments = []message.Attachment{}
	}
	err := f.db.Update(func(tx *Tx) error { return tx.AddMessage(&m, inline) })
	if err != nil {
		f.t.Fatal(err)
	}
	return m
}

func (f *gdprFixture) putCase(c Case) {
	f.t.Helper()
	if err := f.db.Update(func(tx *Tx) error { return tx.PutCase(&c) }); err != nil {
		f.t.Fatal(err)
	}
}

func (f *gdprFixture) outbox(it OutboxItem) {
	f.t.Helper()
	if err := f.db.Update(func(tx *Tx) error { return tx.AddOutbox(&it) }); err != nil {
		f.t.Fatal(err)
	}
}

// fill builds a store with Jan's cases (one closed last year, one closed
// long ago), Ewa's open case that Jan is copied on and that carries the
// same attachment, Jan's message in Ewa's case, a bounce about mail to
// Jan, and a digest naming him.
func (f *gdprFixture) fill() {
	big := bytes.Repeat([]byte("Szczegóły zamówienia i zdjęcia. "), InlineRawLimit/16)
	f.putCase(Case{ID: "CLM-2026-000001", Status: StatusResolved, Customer: janAddr, CustomerName: janName,
		Subject: "Reklamacja: " + janWords, NormSubject: "reklamacja: " + strings.ToLower(janWords),
		CreatedAt: day(2026, 2, 2), ReceivedAt: day(2026, 2, 2), LastMessageAt: day(2026, 2, 20), Messages: 2,
		Category: "repair", Remedy: "repair", Decision: "accepted", ClosedAt: day(2026, 3, 2), LegalAnsweredAt: day(2026, 3, 2),
		LegalDue: "2026-02-16", UnreachableNote: "mail to " + janAddr + " bounced",
		Events: []Event{{At: day(2026, 2, 2), What: "ack_queued", Note: "outbox 1 to " + janAddr}},
		Classification: &Classification{
			Category: ClassDecision{Value: "repair", Confidence: 0.8, Reason: "rule repair: czajnik Pumeks"},
			Facts: []CaseFact{
				{Kind: "order_number", Value: "ZAM-7781", Reason: "pattern order_number: \"zamówienie ZAM-7781\""},
				{Kind: "invoice_number", Value: "FV/2026/02/118"},
				{Kind: "serial_number", Value: "SN-PUM-0099"},
				{Kind: "product", Value: "czajnik KT-2000"},
				{Kind: "amount", Value: "249.00 PLN"},
			}}})
	f.message(Message{CaseID: "CLM-2026-000001", MessageID: "CAF1=jan.kowalski.1@mail.example.pl", From: janAddr, FromName: janName,
		To: []message.Address{{Addr: "reklamacje@sklep.example"}}, Subject: "Reklamacja: " + janWords, Date: day(2026, 2, 2),
		ReceivedAt: day(2026, 2, 2), Kind: "customer", ThreadedBy: "new_case", Text: janWords + ". Pozdrawiam, " + janName,
		Source: Source{"INBOX", 7, 1}},
		rawMail(janName+" <"+janAddr+">", "reklamacje@sklep.example", "", "Reklamacja", "CAF1=jan.kowalski.1@mail.example.pl", janWords+". Pozdrawiam, "+janName, f.shared),
		false, f.shared)
	f.message(Message{CaseID: "CLM-2026-000001", MessageID: "answer-1@sklep.example", From: annaAddr, FromName: "Anna Nowak",
		To: []message.Address{{Name: janName, Addr: janAddr}}, Subject: "Re: Reklamacja", Date: day(2026, 2, 20),
		ReceivedAt: day(2026, 2, 20), Kind: "staff", ThreadedBy: "references", Text: "Szanowny Panie Kowalski, naprawimy czajnik.",
		Quoted: "> " + janWords, Source: Source{"INBOX", 7, 2}},
		rawMail("Anna Nowak <"+annaAddr+">", janName+" <"+janAddr+">", "", "Re: Reklamacja", "answer-1@sklep.example", "Szanowny Panie Kowalski, naprawimy czajnik.\n> "+janWords, nil),
		false, nil)
	f.outbox(OutboxItem{CaseID: "CLM-2026-000001", Purpose: "ack", Status: OutboxSent, MessageID: "CLM-2026-000001.o1.mac@sklep.example",
		From: message.Address{Addr: "reklamacje@sklep.example"}, To: message.Address{Name: janName, Addr: janAddr},
		Subject: "Re: Reklamacja: " + janWords, Text: "Dzień dobry " + janName + ", otrzymaliśmy: " + janWords,
		HTML: "<p>Dzień dobry " + janName + "</p>", AutoSubmitted: "auto-replied", Date: day(2026, 2, 2), QueuedAt: day(2026, 2, 2), SentAt: day(2026, 2, 2)})

	f.putCase(Case{ID: "CLM-2019-000004", Status: StatusRejected, Customer: janAddr, CustomerName: janName,
		Subject: "Stary toster " + janWords, NormSubject: "stary toster", CreatedAt: day(2019, 5, 2), ReceivedAt: day(2019, 5, 2),
		LastMessageAt: day(2019, 5, 2), Messages: 1, Category: "guarantee", Decision: "rejected", ClosedAt: day(2019, 6, 1),
		Classification: &Classification{Facts: []CaseFact{{Kind: "serial_number", Value: "SN-OLD-1"}, {Kind: "product", Value: "toster T1"}}}})
	f.message(Message{CaseID: "CLM-2019-000004", MessageID: "old-1@mail.example.pl", From: janAddr, FromName: janName,
		Subject: "Stary toster", ReceivedAt: day(2019, 5, 2), Kind: "customer", ThreadedBy: "new_case", Text: "Toster: " + janWords},
		append(rawMail(janName+" <"+janAddr+">", "reklamacje@sklep.example", "", "Stary toster", "old-1@mail.example.pl", "Toster: "+janWords, nil), big...),
		true, nil)

	// Ewa's case: open, her complaint carries the shared attachment and
	// has Jan in copy; Jan then writes into it himself.
	f.putCase(Case{ID: "CLM-2026-000002", Status: StatusOpen, Customer: ewaAddr, CustomerName: "Ewa Zielińska",
		Subject: "Odkurzacz", NormSubject: "odkurzacz", CreatedAt: day(2026, 4, 1), ReceivedAt: day(2026, 4, 1), LastMessageAt: day(2026, 4, 3), Messages: 3})
	f.message(Message{CaseID: "CLM-2026-000002", MessageID: "ewa-1@example.com", From: ewaAddr, FromName: "Ewa Zielińska",
		Cc: []message.Address{{Name: janName, Addr: janAddr}}, Subject: "Odkurzacz", ReceivedAt: day(2026, 4, 1), Kind: "customer",
		ThreadedBy: "new_case", Text: ewaWords + ". Sąsiad " + janName + " ma to samo."},
		rawMail("Ewa <"+ewaAddr+">", "reklamacje@sklep.example", janName+" <"+janAddr+">", "Odkurzacz", "ewa-1@example.com", ewaWords, f.shared),
		false, f.shared)
	f.message(Message{CaseID: "CLM-2026-000002", MessageID: "ewa-2@example.com", From: ewaAddr, Subject: "Re: Odkurzacz",
		ReceivedAt: day(2026, 4, 2), Kind: "customer", ThreadedBy: "references", Text: ewaWords + " (zdjęcie)"},
		rawMail("Ewa <"+ewaAddr+">", "reklamacje@sklep.example", "", "Re: Odkurzacz", "ewa-2@example.com", ewaWords+" (zdjęcie)", nil),
		false, nil)
	f.message(Message{CaseID: "CLM-2026-000002", MessageID: "jan-in-ewa@mail.example.pl", From: janAddr, FromName: janName,
		Subject: "Re: Odkurzacz", ReceivedAt: day(2026, 4, 3), Kind: "customer", ThreadedBy: "references", Text: "Potwierdzam. " + janWords},
		rawMail(janName+" <"+janAddr+">", "reklamacje@sklep.example", "", "Re: Odkurzacz", "jan-in-ewa@mail.example.pl", "Potwierdzam. "+janWords, nil),
		false, nil)

	// A bounce about mail to Jan, kept outside cases.
	f.message(Message{MessageID: "bounce-1@mx.example.pl", From: "mailer-daemon@mx.example.pl", Subject: "Undelivered Mail",
		ReceivedAt: day(2026, 2, 3), IngestedAt: day(2026, 2, 3), Kind: "bounce", ThreadedBy: "none", Text: "<" + janAddr + ">: mailbox full"},
		rawMail("MAILER-DAEMON <mailer-daemon@mx.example.pl>", "reklamacje@sklep.example", "", "Undelivered Mail", "bounce-1@mx.example.pl", "<"+janAddr+">: mailbox full", nil),
		false, nil)
	// A digest to the supervisor naming him among others; pending mail
	// counts for the rate cap.
	f.outbox(OutboxItem{Purpose: "digest", Status: OutboxSent, MessageID: "digest-1@sklep.example",
		From: message.Address{Addr: "reklamacje@sklep.example"}, To: message.Address{Addr: "piotr@sklep.example"},
		Subject: "Reklamacje: 2 po terminie", Text: "CLM-2026-000001 " + janName + " <" + janAddr + ">\nCLM-2026-000002 Ewa Zielińska",
		AutoSubmitted: "auto-generated", Date: day(2026, 2, 25), QueuedAt: day(2026, 2, 25), SentAt: day(2026, 2, 25)})
}

// grepDataDir returns every place under dir where one of needles occurs,
// ignoring case.
func grepDataDir(t *testing.T, dir string, needles ...string) []string {
	t.Helper()
	var hits []string
	err := filepath.WalkDir(dir, func(path string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() {
			return err
		}
		data, err := os.ReadFile(path)
		if err != nil {
			return err
		}
		lower := bytes.ToLower(data)
		for _, n := range needles {
			if i := bytes.Index(lower, bytes.ToLower([]byte(n))); i >= 0 {
				rel, _ := filepath.Rel(dir, path)
				hits = append(hits, fmt.Sprintf("%s: %q at %d", rel, n, i))
			}
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	return hits
}

// janTraces are Jan's address, name and words, also in the encodings his
// raw mail used.
func janTraces() []string {
	var qp bytes.Buffer
	w := quotedprintable.NewWriter(&qp)
	w.Write([]byte(janWords))
	w.Close()
	return []string{janAddr, janName, "Kowalski", "Pumeks", janWords, qp.String(),
		base64.StdEncoding.EncodeToString([]byte(janWords)), base64.StdEncoding.EncodeToString([]byte(janAddr))}
}

func TestSubjectFindsEverything(t *testing.T) {
	f := newGDPRFixture(t)
	f.fill()
	s, err := f.db.Subject(" Jan.Kowalski@Example.PL ")
	if err != nil {
		t.Fatal(err)
	}
	var cases []string
	for _, c := range s.Cases {
		cases = append(cases, c.ID)
	}
	if strings.Join(cases, " ") != "CLM-2019-000004 CLM-2026-000001" {
		t.Errorf("cases %v", cases)
	}
	roles := map[string]int{}
	for _, m := range s.Messages {
		roles[m.Role]++
	}
	if roles[RoleCustomer] != 3 || roles[RoleAuthor] != 1 || roles[RoleRecipient] != 1 || roles[RoleMentioned] != 1 {
		t.Errorf("message roles %v", roles)
	}
	var outRoles []string
	for _, it := range s.Outbox {
		outRoles = append(outRoles, it.Purpose+"/"+it.Role)
	}
	if strings.Join(outRoles, " ") != "ack/customer digest/mentioned" {
		t.Errorf("outbox %v", outRoles)
	}
	if !slices.Equal(s.Names, []string{janName}) || s.Pseudonym != "" || len(s.Erasures) != 0 {
		t.Errorf("names %v, pseudonym %q, erasures %v", s.Names, s.Pseudonym, s.Erasures)
	}
	for _, m := range s.Messages {
		if m.Role != RoleCustomer || m.CaseID != "CLM-2019-000004" {
			continue
		}
		r, err := f.db.RawMessage(m.Message)
		if err != nil {
			t.Fatal(err)
		}
		raw, _ := io.ReadAll(r)
		r.Close()
		if !bytes.Contains(raw, []byte("Stary toster")) || int64(len(raw)) != m.RawSize {
			t.Errorf("raw message from its file: %d bytes", len(raw))
		}
	}
	if _, err := f.db.Subject("Jan <jan@x>"); err == nil || !strings.Contains(err.Error(), "fix: give the plain address") {
		t.Errorf("bad address: %v", err)
	}
}

// TestEraseLeavesNoTrace is the test: after an erasure no bytes of
// the person's address, name or words remain in the database file or
// anywhere in the data directory, while what the retention rules keep is
// kept, the other customer's data is intact, and a file shared with her
// stays.
func TestEraseLeavesNoTrace(t *testing.T) {
	f := newGDPRFixture(t)
	f.fill()
	if hits := grepDataDir(t, f.dir, janTraces()...); len(hits) < 8 {
		t.Fatalf("the fixture should hold Jan's traces everywhere, found only %v", hits)
	}
	rules := privacy.Rules{Years: 6, Location: warsawLoc}
	now := day(2027, 5, 10)
	isStaff := func(a string) bool { return a == annaAddr }

	dry, err := f.db.Erase(janAddr, EraseOptions{Now: now, Rules: rules, IsStaff: isStaff, DryRun: true})
	if err != nil {
		t.Fatal(err)
	}
	if len(grepDataDir(t, f.dir, janAddr)) == 0 {
		t.Fatal("the dry run erased")
	}

	rep, err := f.db.Erase(janAddr, EraseOptions{Now: now, Rules: rules, IsStaff: isStaff, Compact: true})
	if err != nil {
		t.Fatal(err)
	}
	treat := map[string]string{}
	for _, c := range rep.Cases {
		treat[c.ID] = c.Treatment
	}
	if treat["CLM-2026-000001"] != "restrict" || treat["CLM-2019-000004"] != "anonymise" || len(treat) != 2 {
		t.Errorf("treatments %v", rep.Cases)
	}
	want := PurgeCounts{Messages: 4, MessagesRedacted: 2, Outbox: 1, OutboxRedacted: 1, RawInline: 5,
		Files: 1, FilesShared: 1, IndexKeys: 2 + 2 + 1 + 1}
	// Index keys: customer and customer+subject of both cases; the rate
	// cap of the acknowledgement; the Message-ID built from his address
	// (CAF1=jan.kowalski.1@...; jan-in-ewa@... does not embed it).
	if rep.Counts != want {
		t.Errorf("counts\n got %+v\nwant %+v", rep.Counts, want)
	}
	dry.Counts.IndexKeys, want.IndexKeys = 0, 0
	if dry.Counts.Files != want.Files || dry.Counts.FilesShared != want.FilesShared || dry.Counts.Messages != want.Messages {
		t.Errorf("dry run counted %+v, the erasure %+v", dry.Counts, rep.Counts)
	}
	if rep.Compaction == nil || rep.Compaction.After >= rep.Compaction.Before {
		t.Errorf("compaction %+v", rep.Compaction)
	}
	if len(rep.StillOnServer) != 2 || rep.StillOnServer[0] != (Source{"INBOX", 7, 1}) {
		t.Errorf("still on server: %v", rep.StillOnServer)
	}

	if hits := grepDataDir(t, f.dir, janTraces()...); len(hits) > 0 {
		t.Errorf("Jan's data remains:\n%s", strings.Join(hits, "\n"))
	}
	// The erased store is consistent: the records and indexes that stay
	// agree (claimsd verify).
	if vr, err := f.db.Verify(); err != nil || len(vr.Problems) > 0 {
		t.Errorf("the erased store does not verify: %v %v", err, vr.Problems)
	}

	// Kept: what a legal claim needs, under the pseudonym.
	key := f.subjectKey()
	pseudonym := privacy.Pseudonym(privacy.SubjectHash(key, janAddr))
	err = f.db.View(func(tx *Tx) error {
		c, _, err := tx.Case("CLM-2026-000001")
		if err != nil {
			return err
		}
		if !c.Restricted || c.Customer != pseudonym || c.CustomerName != "" || c.Subject != "" || c.Category != "repair" ||
			c.Decision != "accepted" || !c.ClosedAt.Equal(day(2026, 3, 2)) || !c.ReceivedAt.Equal(day(2026, 2, 2)) || c.Messages != 2 {
			t.Errorf("restricted case: %+v", c)
		}
		var facts []string
		for _, fa := range c.Classification.Facts {
			facts = append(facts, fa.Kind+"="+fa.Value+fa.Reason)
		}
		if strings.Join(facts, " ") != "order_number=ZAM-7781 invoice_number=FV/2026/02/118 serial_number=SN-PUM-0099 product=czajnik KT-2000 amount=249.00 PLN" {
			t.Errorf("restricted facts: %v", facts)
		}
		if last := c.Events[len(c.Events)-1]; last.What != "gdpr_restricted" || !strings.Contains(last.Note, "until 2033-01-01") {
			t.Errorf("event %+v", last)
		}
		msgs, err := tx.CaseMessages(c.ID)
		if err != nil {
			return err
		}
		if len(msgs) != 2 || msgs[0].From != pseudonym || msgs[0].Text != "" || len(msgs[0].Attachments) != 0 || msgs[0].Redacted != RedactedErasure ||
			msgs[1].From != annaAddr || msgs[1].Kind != "staff" || !msgs[1].ReceivedAt.Equal(day(2026, 2, 20)) || tx.Raw(msgs[1].Seq) != nil {
			t.Errorf("restricted messages: %+v", msgs)
		}
		old, _, err := tx.Case("CLM-2019-000004")
		if err != nil {
			return err
		}
		if old.Customer != "" || old.PurgedAt.IsZero() || old.Restricted || old.Decision != "rejected" ||
			len(old.Classification.Facts) != 1 || old.Classification.Facts[0].Value != "toster T1" {
			t.Errorf("anonymised case: %+v", old)
		}
		if cs, _ := tx.CasesOfCustomer(janAddr); len(cs) != 0 {
			t.Errorf("the customer index still finds %d cases", len(cs))
		}
		if n, _ := tx.AutoMailsTo(janAddr, time.Time{}); n != 0 {
			t.Errorf("rate cap index still counts %d mails to him", n)
		}
		// Intake still knows the erased mail: offered again, it is a
		// duplicate, not a new case.
		if _, ok := tx.MessageSeqBySource(Source{"INBOX", 7, 1}); !ok {
			t.Error("source index forgot the erased message")
		}
		if _, ok := tx.MessageSeqByID("CAF1=jan.kowalski.1@mail.example.pl"); ok {
			t.Error("a Message-ID made of his address is still indexed")
		}

		// Ewa's case: her words, her attachment and her other raw message
		// are intact; Jan is out of the copy list and her text.
		ewa, err := tx.CaseMessages("CLM-2026-000002")
		if err != nil {
			return err
		}
		if ewa[0].Text != ewaWords+". Sąsiad [erased] ma to samo." || ewa[0].Cc[0] != (message.Address{Addr: privacy.ErasedAddress}) ||
			len(ewa[0].Attachments) != 1 || tx.Raw(ewa[0].Seq) != nil {
			t.Errorf("Ewa's message naming Jan: %+v", ewa[0])
		}
		if raw := tx.Raw(ewa[1].Seq); !bytes.Contains(raw, []byte("Re: Odkurzacz")) || ewa[1].Redacted != "" {
			t.Errorf("Ewa's other message lost its raw copy")
		}
		if ewa[2].From != privacy.ErasedAddress || ewa[2].Text != "" {
			t.Errorf("Jan's message in Ewa's case: %+v", ewa[2])
		}
		log, err := tx.AuditLog()
		if err != nil {
			return err
		}
		if len(log) != 1 || log[0].ID != rep.AuditID || log[0].SubjectHash != rep.SubjectHash || log[0].Action != "erasure" || log[0].Counts != rep.Counts ||
			!slices.Equal(log[0].Restricted, []string{"CLM-2026-000001"}) || !slices.Equal(log[0].Anonymised, []string{"CLM-2019-000004"}) {
			t.Errorf("audit %+v", log)
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := os.Stat(f.db.Attachments().Path(sha(f.shared))); err != nil {
		t.Errorf("the attachment Ewa shares is gone: %v", err)
	}
	for _, n := range []string{ewaAddr, ewaWords, "Zielińska"} {
		if len(grepDataDir(t, filepath.Join(f.dir, "claimsd.db"), n)) == 0 {
			t.Errorf("Ewa's %q is gone from the store", n)
		}
	}

	// A second request for the same address is matched to the first;
	// his right of access still finds the restricted case.
	again, err := f.db.Erase(strings.ToUpper(janAddr), EraseOptions{Now: now.Add(time.Hour), Rules: rules, IsStaff: isStaff, Compact: true})
	if err != nil {
		t.Fatal(err)
	}
	if len(again.Earlier) != 1 || again.Earlier[0].ID != rep.AuditID || again.Counts.Messages != 0 || again.Counts.Files != 0 {
		t.Errorf("second erasure: %+v", again)
	}
	s, err := f.db.Subject(janAddr)
	if err != nil {
		t.Fatal(err)
	}
	if s.Pseudonym != pseudonym || len(s.Cases) != 1 || s.Cases[0].ID != "CLM-2026-000001" || len(s.Erasures) != 2 {
		t.Errorf("access after erasure: pseudonym %q, %d cases, %d erasures", s.Pseudonym, len(s.Cases), len(s.Erasures))
	}
	if hits := grepDataDir(t, f.dir, janTraces()...); len(hits) > 0 {
		t.Errorf("after the second erasure:\n%s", strings.Join(hits, "\n"))
	}
}

func (f *gdprFixture) subjectKey() []byte {
	f.t.Helper()
	var key []byte
	if err := f.db.View(func(tx *Tx) error {
		var err error
		key, err = tx.subjectKey(false)
		return err
	}); err != nil || key == nil {
		f.t.Fatalf("subject key: %v", err)
	}
	return key
}

func sha(b []byte) string {
	sum := sha256.Sum256(b)
	return hex.EncodeToString(sum[:])
}

// TestEraseRefusesOpenCases: while a case of the person is open nothing
// changes, and the error names the case.
func TestEraseRefusesOpenCases(t *testing.T) {
	f := newGDPRFixture(t)
	f.fill()
	f.putCase(Case{ID: "CLM-2027-000001", Status: StatusWaiting, Customer: janAddr, CreatedAt: day(2027, 5, 1), ReceivedAt: day(2027, 5, 1)})
	before, err := os.ReadFile(filepath.Join(f.dir, "claimsd.db"))
	if err != nil {
		t.Fatal(err)
	}
	rep, err := f.db.Erase(janAddr, EraseOptions{Now: day(2027, 5, 10), Rules: privacy.Rules{Years: 6, Location: warsawLoc}, Compact: true})
	var open *OpenCasesError
	if !errors.As(err, &open) || len(open.Cases) != 1 || open.Cases[0].ID != "CLM-2027-000001" || !strings.Contains(err.Error(), "CLM-2027-000001 (waiting)") {
		t.Fatalf("err %v", err)
	}
	if rep == nil || len(rep.Cases) != 3 {
		t.Errorf("the refusal should still say what would happen: %+v", rep)
	}
	after, _ := os.ReadFile(filepath.Join(f.dir, "claimsd.db"))
	if !bytes.Equal(before, after) {
		t.Error("a refused erasure changed the store")
	}
}

// TestFreedPagesKeepDeletedBytes shows why erasure compacts: bbolt leaves
// a deleted value in a freed page of the file, and only a rewrite removes
// it.
func TestFreedPagesKeepDeletedBytes(t *testing.T) {
	f := newGDPRFixture(t)
	const secret = "secret-complaint-text-0451"
	put := func(fn func(*Tx) error) {
		if err := f.db.Update(fn); err != nil {
			t.Fatal(err)
		}
	}
	put(func(tx *Tx) error { return tx.PutValue("x", []byte(strings.Repeat(secret, 200))) })
	put(func(tx *Tx) error {
		if err := tx.PutValue("y", []byte("other")); err != nil {
			return err
		}
		return tx.DeleteValue("x")
	})
	path := filepath.Join(f.dir, "claimsd.db")
	if len(grepDataDir(t, path, secret)) == 0 {
		t.Fatal("bbolt overwrote the freed page; this test no longer shows the trap")
	}
	if _, err := f.db.Compact(); err != nil {
		t.Fatal(err)
	}
	if hits := grepDataDir(t, path, secret); len(hits) > 0 {
		t.Errorf("after Compact: %v", hits)
	}
	// The store goes on with the new file, sequences included.
	err := f.db.Update(func(tx *Tx) error {
		if string(tx.Value("y")) != "other" {
			t.Error("lost a value")
		}
		return tx.AddMessage(&Message{Subject: "after"}, []byte("raw"))
	})
	if err != nil {
		t.Fatal(err)
	}
}

func TestRetention(t *testing.T) {
	f := newGDPRFixture(t)
	f.fill()
	// Ewa's case closes in 2026; Jan's 2019 case is due on 2026-01-01,
	// the 2026 one on 2033-01-01.
	rules := privacy.Rules{Years: 6, Location: warsawLoc}
	now := day(2027, 1, 2)
	dry, err := f.db.Retention(RetentionOptions{Now: now, Rules: rules, DryRun: true})
	if err != nil {
		t.Fatal(err)
	}
	if len(dry.Cases) != 1 || dry.Cases[0].ID != "CLM-2019-000004" || !dry.Cases[0].PurgeAt.Equal(time.Date(2026, 1, 1, 0, 0, 0, 0, warsawLoc)) || dry.Counts.Files != 1 {
		t.Fatalf("dry run: %+v", dry)
	}
	bigRaw := ""
	f.db.View(func(tx *Tx) error {
		msgs, _ := tx.CaseMessages("CLM-2019-000004")
		bigRaw = f.db.RawFiles().Path(msgs[0].RawSHA256)
		return nil
	})
	if _, err := os.Stat(bigRaw); err != nil {
		t.Fatalf("the dry run removed a file: %v", err)
	}

	rep, err := f.db.Retention(RetentionOptions{Now: now, Rules: rules, Compact: true})
	if err != nil {
		t.Fatal(err)
	}
	if len(rep.Cases) != 1 || rep.Counts.Messages != 1 || rep.Counts.Files != 1 || rep.Unfiled != 0 || rep.AuditID == 0 || rep.Compaction == nil {
		t.Errorf("retention: %+v", rep)
	}
	if _, err := os.Stat(bigRaw); !errors.Is(err, os.ErrNotExist) {
		t.Errorf("raw file of the purged case: %v", err)
	}
	err = f.db.View(func(tx *Tx) error {
		c, _, _ := tx.Case("CLM-2019-000004")
		last := c.Events[len(c.Events)-1]
		if c.PurgedAt.IsZero() || c.Customer != "" || c.Category != "guarantee" || c.Decision != "rejected" ||
			!c.ClosedAt.Equal(day(2019, 6, 1)) || last.What != "retention_purged" || !strings.Contains(last.Note, "2026-01-01") {
			t.Errorf("purged case: %+v", c)
		}
		// Reports still count it.
		if cs, _ := tx.ListCases(CaseFilter{Status: StatusRejected}); len(cs) != 1 {
			t.Errorf("rejected cases listed: %d", len(cs))
		}
		if c, _, _ := tx.Case("CLM-2026-000001"); c.PurgedAt.IsZero() == false || c.Customer != janAddr {
			t.Errorf("a case within its period was purged: %+v", c)
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	if vr, err := f.db.Verify(); err != nil || len(vr.Problems) > 0 {
		t.Errorf("the purged store does not verify: %v %v", err, vr.Problems)
	}
	if hits := grepDataDir(t, f.dir, "Stary toster", "Toster: "+janWords); len(hits) > 0 {
		t.Errorf("purged text remains: %v", hits)
	}

	// Years later the bounce outside cases and the digest go too, and a
	// run with nothing due writes no audit record.
	later, err := f.db.Retention(RetentionOptions{Now: day(2033, 1, 2), Rules: rules, Compact: true})
	if err != nil {
		t.Fatal(err)
	}
	if len(later.Cases) != 1 || later.Cases[0].ID != "CLM-2026-000001" || later.Unfiled != 1 || later.OtherMail != 1 {
		t.Errorf("2033: %+v", later)
	}
	again, err := f.db.Retention(RetentionOptions{Now: day(2033, 1, 3), Rules: rules})
	if err != nil {
		t.Fatal(err)
	}
	if len(again.Cases) != 0 || again.AuditID != 0 || again.Unfiled != 0 {
		t.Errorf("a second run purged again: %+v", again)
	}
	// Ewa's case is open: untouched whatever the year.
	if hits := grepDataDir(t, filepath.Join(f.dir, "claimsd.db"), ewaWords); len(hits) == 0 {
		t.Error("the open case lost its text")
	}
	if hits := grepDataDir(t, f.dir, janTraces()...); len(hits) != 0 {
		// Jan's message in Ewa's open case and her copy to him remain:
		// they belong to her case.
		for _, h := range hits {
			if !strings.Contains(h, "claimsd.db") {
				t.Errorf("outside the store: %s", h)
			}
		}
	}
}

// BenchmarkEraseCompact: one person's erasure in a store of 20,000 cases
// with two messages each (inline raw mail of about 2 KB): the scan of
// every message and mail, the rewrite and the file's replacement. This
// is how long the daemon stays stopped.
func BenchmarkEraseCompact(b *testing.B) {
	const cases = 20000
	dir := b.TempDir()
	db, err := Open(dir, Options{})
	if err != nil {
		b.Fatal(err)
	}
	defer db.Close()
	body := strings.Repeat("Czajnik przecieka, proszę o wymianę na nowy egzemplarz. ", 35)
	fill := func(from, to int) {
		err := db.Update(func(tx *Tx) error {
			for i := from; i < to; i++ {
				addr := fmt.Sprintf("klient%d@example.pl", i)
				c := &Case{ID: fmt.Sprintf("CLM-2026-%06d", i), Status: StatusResolved, Customer: addr, Subject: "Czajnik",
					CreatedAt: day(2026, 1, 1).Add(time.Duration(i) * time.Minute), ClosedAt: day(2026, 3, 1), Messages: 2}
				if err := tx.PutCase(c); err != nil {
					return err
				}
				for j := range 2 {
					raw := []byte("From: " + addr + "\r\nSubject: Czajnik\r\n\r\n" + body)
					m := &Message{CaseID: c.ID, From: addr, Subject: "Czajnik", Text: body, Kind: "customer",
						MessageID: fmt.Sprintf("m%d.%d@example.pl", i, j), RawSHA256: sha(raw), RawSize: int64(len(raw))}
					if err := tx.AddMessage(m, raw); err != nil {
						return err
					}
				}
			}
			return nil
		})
		if err != nil {
			b.Fatal(err)
		}
	}
	for i := 0; i < cases; i += 2000 {
		fill(i, i+2000)
	}
	rules := privacy.Rules{Years: 6, Location: warsawLoc}
	b.ResetTimer()
	for i := range b.N {
		rep, err := db.Erase(fmt.Sprintf("klient%d@example.pl", i%cases), EraseOptions{Now: day(2027, 5, 1), Rules: rules, Compact: true})
		if err != nil {
			b.Fatal(err)
		}
		if rep.Counts.Messages != 2 {
			b.Fatalf("erased %d messages", rep.Counts.Messages)
		}
		b.ReportMetric(float64(rep.Compaction.After)/(1<<20), "MB-after")
	}
}

// TestPendingFilesAfterACrash: files whose last reference a committed run
// removed are deleted by the next run if the process died before it
// could, and a file something refers to again is kept.
func TestPendingFilesAfterACrash(t *testing.T) {
	f := newGDPRFixture(t)
	f.fill()
	_, orphan, err := f.db.Attachments().Put(strings.NewReader("left behind by a crash"))
	if err != nil {
		t.Fatal(err)
	}
	err = f.db.Update(func(tx *Tx) error {
		return tx.PutValue(pendingBlobs, []byte(`[{"kind":"attachment","sha256":"`+orphan+`"},{"kind":"attachment","sha256":"`+sha(f.shared)+`"}]`))
	})
	if err != nil {
		t.Fatal(err)
	}
	rep, err := f.db.Retention(RetentionOptions{Now: day(2025, 6, 1), Rules: privacy.Rules{Years: 6, Location: warsawLoc}}) // nothing due yet
	if err != nil {
		t.Fatal(err)
	}
	if rep.Counts.Files != 1 || rep.Counts.FilesShared != 1 {
		t.Errorf("counts %+v", rep.Counts)
	}
	if _, err := os.Stat(f.db.Attachments().Path(orphan)); !errors.Is(err, os.ErrNotExist) {
		t.Errorf("orphan: %v", err)
	}
	if _, err := os.Stat(f.db.Attachments().Path(sha(f.shared))); err != nil {
		t.Errorf("shared attachment: %v", err)
	}
	f.db.View(func(tx *Tx) error {
		if v := tx.Value(pendingBlobs); v != nil {
			t.Errorf("the queue is left: %s", v)
		}
		return nil
	})
}
