package intake

import (
	"fmt"
	"io"
	"log/slog"
	"strings"
	"testing"
	"time"

	"github.com/claimsd/claimsd/caseref"
	"github.com/claimsd/claimsd/classifier"
	"github.com/claimsd/claimsd/deadline"
	"github.com/claimsd/claimsd/message"
	"github.com/claimsd/claimsd/outbox"
	"github.com/claimsd/claimsd/staff"
	"github.com/claimsd/claimsd/store"
	"github.com/claimsd/claimsd/templates"
)

// newAckIntake is an intake wired to the real Responder, as the daemon
// wires it.
func newAckIntake(t testing.TB, verp bool) (*Intake, *store.DB, *outbox.Responder) {
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
	tpl, err := templates.Load("", "pl")
	if err != nil {
		t.Fatal(err)
	}
	log := slog.New(slog.NewTextHandler(io.Discard, nil))
	days := func(string) int { return 14 }
	rules, err := classifier.DefaultRules()
	if err != nil {
		t.Fatal(err)
	}
	learner := classifier.NewLearner(rules, nil)
	resp := outbox.NewResponder(outbox.Settings{
		Acknowledge: true,
		From:        message.Address{Name: "Reklamacje", Addr: "reklamacje@sklep.example"},
		VERP:        verp,
		Key:         db.MessageIDKey(),
		IDs:         caseref.MessageIDs{Key: db.MessageIDKey(), Domain: "sklep.example"},
		Location:    warsaw,
		Templates:   tpl,
		AnswerDays:  days,
		Limits:      outbox.Limits{MaxPerRecipient: 5, MaxPerCase: 3, Window: 24 * time.Hour},
		Staff: outbox.StaffSettings{
			Auth:      staff.AuthPolicy{AuthservIDs: []string{"mx.sklep.example"}, Domains: []string{"sklep.example"}},
			Members:   []staff.Member{{Name: "Anna Nowak", Email: "anna@sklep.example"}, {Name: "Piotr Wiśniewski", Email: "piotr@sklep.example"}},
			Relay:     true,
			Copy:      true,
			Trainer:   learner,
			Deadlines: deadline.DefaultPolicy(warsaw),
		},
	}, log)
	in := New(db, Settings{
		CasePrefix: "CLM", Location: warsaw, SubjectWindow: 30 * 24 * time.Hour,
		Addresses: staffBook{}, MessageIDDomain: "sklep.example",
		Deadlines: deadline.DefaultPolicy(warsaw), Responder: resp, ReopenWithin: 30 * 24 * time.Hour,
		Classifier: learner,
	}, log, func() time.Time { return t0 })
	return in, db, resp
}

func outboxItems(t *testing.T, db *store.DB) []store.OutboxItem {
	t.Helper()
	var items []store.OutboxItem
	if err := db.View(func(tx *store.Tx) (err error) {
		items, err = tx.ListOutbox(store.OutboxFilter{})
		return err
	}); err != nil {
		t.Fatal(err)
	}
	return items
}

func caseByID(t *testing.T, db *store.DB, id string) store.Case {
	t.Helper()
	var c store.Case
	db.View(func(tx *store.Tx) error {
		var ok bool
		c, ok, _ = tx.Case(id)
		if !ok {
			t.Fatalf("no case %s", id)
		}
		return nil
	})
	return c
}

func TestAcknowledgeOncePerCaseAndNeverAutomaticMail(t *testing.T) {
	in, db, _ := newAckIntake(t, false)
	deliver(t, in, 1, 1,
		mail("Jan Kowalski <jan@example.net>", "Pęknięty ekran", "orig@example.net", "Thread-Index: AQHZ3k1Xr8m0p0ZxQUSyQ0f2vJ8b1Q=="),
		mail("jan@example.net", "Re: Pęknięty ekran", "r1@example.net", "In-Reply-To: <orig@example.net>", "References: <orig@example.net>"),
		mail("jan@example.net", "Automatic reply: Pęknięty ekran", "ooo@example.net", "Auto-Submitted: auto-replied"),
		mail("news@shop.example", "Promocja", "n1@shop.example", "List-Id: <promo.shop.example>"),
		mail("Anna Nowak <anna@sklep.example>", "Nowa sprawa", "staff1@sklep.example"),
	)
	items := outboxItems(t, db)
	if len(items) != 1 {
		t.Fatalf("%d outbox items, want 1 acknowledgement: %+v", len(items), items)
	}
	it := items[0]
	c := caseByID(t, db, "CLM-2026-000001")
	// Received 2026-11-23 (Monday) 10:00 in Warsaw: day 14 is Monday 2026-12-07.
	if c.LegalDue != "2026-12-07" || c.AckOutboxID != it.ID || c.Language != "pl" {
		t.Errorf("case legal_due %q ack %d language %q", c.LegalDue, c.AckOutboxID, c.Language)
	}
	checks := map[string]bool{
		"status queued":        it.Status == store.OutboxQueued,
		"to the customer":      it.To.Addr == "jan@example.net",
		"subject keeps theirs": it.Subject == "Re: Pęknięty ekran [CLM-2026-000001]",
		"in-reply-to":          it.InReplyTo == "orig@example.net",
		"references":           strings.Join(it.References, " ") == "orig@example.net",
		"auto-replied":         it.AutoSubmitted == "auto-replied",
		"our message id":       strings.HasPrefix(it.MessageID, "CLM-2026-000001.o1.") && strings.HasSuffix(it.MessageID, "@sklep.example"),
		"thread index extends": it.ThreadIndex != "" && strings.HasPrefix(it.ThreadIndex, "AQHZ3k1Xr8m0p0ZxQUSyQ0f2vJ8b1"),
		"polish text":          strings.Contains(it.Text, "CLM-2026-000001") && strings.Contains(it.Text, "7 grudnia 2026"),
		"html part":            strings.Contains(it.HTML, "CLM-2026-000001"),
		"envelope = from":      it.EnvelopeFrom == "reklamacje@sklep.example",
	}
	for what, ok := range checks {
		if !ok {
			t.Errorf("%s: %+v", what, it)
		}
	}
	answers := map[uint32]string{}
	for uid, m := range messagesByUID(t, db) {
		answers[uid] = m.Answer
	}
	want := map[uint32]string{
		1: "acknowledgement 1 queued (pl)",
		2: "joined an existing case",
		3: "no acknowledgement to auto_reply mail",
		4: "no acknowledgement to bulk mail",
		5: "no acknowledgement to staff mail",
	}
	for uid, w := range want {
		if !strings.Contains(answers[uid], w) {
			t.Errorf("uid %d answer %q, want %q", uid, answers[uid], w)
		}
	}
	if st := in.Stats(); st.Queued != 1 {
		t.Errorf("stats queued %d", st.Queued)
	}
}

func TestAcknowledgementLanguageFollowsCustomer(t *testing.T) {
	in, db, _ := newAckIntake(t, false)
	en := strings.Replace(mail("Emily <emily@example.org>", "Broken blender", "e1@example.org"),
		"Dzień dobry, proszę o naprawę.", "Hello, my blender stopped working after two days. Please repair or replace it.", 1)
	deliver(t, in, 1, 1, en)
	items := outboxItems(t, db)
	if len(items) != 1 || items[0].Language != "en" || !strings.Contains(items[0].Text, "CLM-2026-000001") {
		t.Fatalf("items %+v", items)
	}
}

func TestRateCapSuppressesAndRecords(t *testing.T) {
	in, db, _ := newAckIntake(t, false)
	var raws []string
	for i := range 7 {
		raws = append(raws, mail("flood@example.net", fmt.Sprintf("Complaint number %d", i), fmt.Sprintf("f%d@example.net", i)))
	}
	deliver(t, in, 1, 1, raws...)
	var queued, suppressed int
	for _, it := range outboxItems(t, db) {
		switch it.Status {
		case store.OutboxQueued:
			queued++
		case store.OutboxSuppressed:
			suppressed++
			if !strings.Contains(it.SuppressedReason, "max_per_recipient") {
				t.Errorf("reason %q", it.SuppressedReason)
			}
		}
	}
	if queued != 5 || suppressed != 2 {
		t.Errorf("queued %d suppressed %d, want 5 and 2", queued, suppressed)
	}
	c := caseByID(t, db, "CLM-2026-000007")
	if c.AckOutboxID != 0 || len(c.Events) == 0 || c.Events[0].What != "ack_suppressed" {
		t.Errorf("capped case: %+v", c)
	}
}

func bounceFor(to, enclosedID string) string {
	var b strings.Builder
	fmt.Fprintf(&b, "Return-Path: <>\r\nFrom: MAILER-DAEMON@mx.sklep.example (Mail Delivery System)\r\nTo: %s\r\n", to)
	b.WriteString("Subject: Undelivered Mail Returned to Sender\r\nAuto-Submitted: auto-replied\r\nMessage-ID: <dsn1@mx.sklep.example>\r\n")
	b.WriteString("MIME-Version: 1.0\r\nContent-Type: multipart/report; report-type=delivery-status; boundary=\"B\"\r\n\r\n")
	b.WriteString("--B\r\nContent-Type: text/plain\r\n\r\nYour message could not be delivered.\r\n")
	b.WriteString("--B\r\nContent-Type: message/delivery-status\r\n\r\nReporting-MTA: dns; mx.sklep.example\r\n\r\n")
	b.WriteString("Final-Recipient: rfc822; jan@example.net\r\nAction: failed\r\nStatus: 5.1.1\r\nDiagnostic-Code: smtp; 550 5.1.1 no such user\r\n")
	if enclosedID != "" {
		fmt.Fprintf(&b, "--B\r\nContent-Type: text/rfc822-headers\r\n\r\nMessage-ID: <%s>\r\nSubject: x\r\n", enclosedID)
	}
	b.WriteString("--B--\r\n")
	return b.String()
}

func TestBounceMarksCaseUnreachable(t *testing.T) {
	for _, tt := range []struct {
		name       string
		verp       bool
		enclosed   bool
		threadedBy string
	}{
		{"enclosed message id", false, true, string(ByOurMessageID)},
		{"verp only", true, false, string(ByVERP)},
	} {
		t.Run(tt.name, func(t *testing.T) {
			in, db, _ := newAckIntake(t, tt.verp)
			deliver(t, in, 1, 1, mail("Jan <jan@example.net>", "Pęknięty ekran", "orig@example.net"))
			ack := outboxItems(t, db)[0]
			enclosed := ""
			if tt.enclosed {
				enclosed = ack.MessageID
			}
			deliver(t, in, 1, 2, bounceFor(ack.EnvelopeFrom, enclosed))
			it := outboxItems(t, db)[0]
			if it.Status != store.OutboxBounced || !strings.Contains(it.BounceDetail, "5.1.1") {
				t.Errorf("item after bounce: %+v", it)
			}
			c := caseByID(t, db, "CLM-2026-000001")
			if !c.CustomerUnreachable || c.Messages != 2 {
				t.Errorf("case after bounce: unreachable %v messages %d", c.CustomerUnreachable, c.Messages)
			}
			m := messagesByUID(t, db)[2]
			if m.ThreadedBy != tt.threadedBy || !strings.Contains(m.Answer, "not answered") {
				t.Errorf("bounce threaded by %q, answer %q", m.ThreadedBy, m.Answer)
			}
			if n := len(outboxItems(t, db)); n != 1 {
				t.Errorf("%d outbox items after the bounce, want 1", n)
			}
		})
	}
}

func TestForgedVERPIsIgnored(t *testing.T) {
	in, db, _ := newAckIntake(t, true)
	deliver(t, in, 1, 1, mail("Jan <jan@example.net>", "Pęknięty ekran", "orig@example.net"))
	deliver(t, in, 1, 2, bounceFor("reklamacje+b-1-aaaaaaaa@sklep.example", ""))
	if it := outboxItems(t, db)[0]; it.Status != store.OutboxQueued {
		t.Errorf("a forged VERP address changed the item: %+v", it)
	}
	if c := caseByID(t, db, "CLM-2026-000001"); c.CustomerUnreachable {
		t.Error("a forged VERP address made the customer unreachable")
	}
}
