package intake

import (
	"context"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/claimsd/claimsd/mailbox"
	"github.com/claimsd/claimsd/store"
)

const ourAR = "Authentication-Results: mx.sklep.example; dkim=pass header.d=sklep.example; dmarc=pass header.from=sklep.example"

// staffMail is a mail from Anna into case 1 with the given headers and body.
func staffMail(n int, headers []string, body string) string {
	var b strings.Builder
	for _, h := range headers {
		b.WriteString(h + "\r\n")
	}
	fmt.Fprintf(&b, "From: Anna Nowak <anna@sklep.example>\r\nTo: reklamacje@sklep.example\r\nSubject: Re: Pęknięty ekran [CLM-2026-000001]\r\nMessage-ID: <staff%d@sklep.example>\r\nDate: Mon, 23 Nov 2026 11:00:00 +0100\r\nContent-Type: text/plain; charset=utf-8\r\n\r\n%s\r\n", n, body)
	return b.String()
}

// TestForgedStaffMailHasNoEffect: each forged variant of a staff command
// mail leaves the case as it was, sends nothing and is recorded.
func TestForgedStaffMailHasNoEffect(t *testing.T) {
	tests := []struct {
		name    string
		headers []string
		body    string
	}{
		{"no Authentication-Results", nil, "#status resolved\r\n\r\nZamykamy."},
		{"wrong authserv-id", []string{"Authentication-Results: mx.sklep.example.evil; dmarc=pass header.from=sklep.example"}, "#status resolved"},
		{"dmarc=fail from our server", []string{"Authentication-Results: mx.sklep.example; dmarc=fail header.from=sklep.example"}, "#status resolved"},
		// Our server's header is the topmost; a pass injected below it by
		// the sender does not count.
		{"customer-injected header below ours", []string{"Authentication-Results: mx.sklep.example; dmarc=fail header.from=sklep.example", ourAR}, "#status resolved"},
		{"pass for another domain", []string{"Authentication-Results: mx.sklep.example; dkim=pass header.d=evil.example"}, "#status resolved"},
		// A forwarded message carries a valid header inside its body.
		{"valid header only inside the body", nil, "#status resolved\r\n\r\n---------- Forwarded message ----------\r\n" + ourAR + "\r\nFrom: anna@sklep.example"},
	}
	for i, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			in, db, _ := newAckIntake(t, false)
			deliver(t, in, 1, 1, mail("Jan <jan@example.net>", "Pęknięty ekran", "orig@example.net"))
			before := caseByID(t, db, "CLM-2026-000001")
			deliver(t, in, 1, 2, staffMail(i, tt.headers, tt.body))
			after := caseByID(t, db, "CLM-2026-000001")
			if after.Status != before.Status || !after.FirstAnsweredAt.IsZero() || len(outboxItems(t, db)) != 1 {
				t.Errorf("forged mail had an effect: status %s, answered %v, %d outbox items", after.Status, after.FirstAnsweredAt, len(outboxItems(t, db)))
			}
			if ev := after.Events[len(after.Events)-1]; ev.What != "security_unauthenticated_staff_mail" {
				t.Errorf("last event %+v", ev)
			}
			if m := messagesByUID(t, db)[2]; !strings.HasPrefix(m.Answer, "security:") {
				t.Errorf("answer %q", m.Answer)
			}
		})
	}
}

// TestStaffCommands: authentic command mails, valid and not.
func TestStaffCommands(t *testing.T) {
	tests := []struct {
		name   string
		body   string
		check  func(c store.Case) bool
		queued []string // purposes of the mails it queues (after the acknowledgement)
		answer string
	}{
		{"status and decision with an answer", "#status waiting\r\n#decision accepted\r\n\r\nProsimy o zdjęcie.",
			func(c store.Case) bool {
				return c.Status == "waiting" && c.Decision == "accepted" && !c.FirstAnsweredAt.IsZero() && !c.LegalAnsweredAt.IsZero()
			}, []string{"answer"}, "answer relayed"},
		{"note stays internal", "#note\r\n\r\nKlient dzwonił, czeka na kuriera.",
			func(c store.Case) bool { return c.Status == "open" && c.FirstAnsweredAt.IsZero() }, nil, "internal note"},
		{"assign by name without diacritics", "#assign Piotr Wisniewski",
			func(c store.Case) bool { return c.Assignee == "piotr@sklep.example" }, []string{"assignment"}, "commands applied"},
		{"category recomputes nothing wrong", "#category transport_damage\r\n#priority urgent",
			func(c store.Case) bool {
				return c.Category == "transport_damage" && c.Priority == "urgent" && c.LegalDue == "2026-12-07"
			}, nil, "commands applied"},
		{"typo applies nothing", "#stauts resolved\r\n#decision accepted\r\n\r\nZamykamy.",
			func(c store.Case) bool { return c.Status == "open" && c.Decision == "" }, []string{"command_error"}, "commands refused"},
		{"unknown assignee applies nothing", "#status resolved\r\n#assign Zenon",
			func(c store.Case) bool { return c.Status == "open" && c.Assignee == "" }, []string{"command_error"}, "commands refused"},
		{"merge into a missing case", "#merge CLM-2026-000099",
			func(c store.Case) bool { return c.MergedInto == "" }, []string{"command_error"}, "no such case"},
		{"hash further down is text", "Dzień dobry,\r\n#status resolved to nie polecenie.",
			func(c store.Case) bool { return c.Status == "open" }, []string{"answer"}, "answer relayed"},
	}
	for i, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			in, db, _ := newAckIntake(t, false)
			deliver(t, in, 1, 1, mail("Jan <jan@example.net>", "Pęknięty ekran", "orig@example.net"))
			deliver(t, in, 1, 2, staffMail(i, []string{ourAR}, tt.body))
			c := caseByID(t, db, "CLM-2026-000001")
			if !tt.check(c) {
				t.Errorf("case after %q: %+v", tt.body, c)
			}
			var purposes []string
			for _, it := range outboxItems(t, db)[1:] {
				purposes = append(purposes, it.Purpose)
				if it.Purpose == "answer" && (strings.HasPrefix(strings.TrimSpace(it.Text), "#") || it.To.Addr != "jan@example.net") {
					t.Errorf("relayed answer to %s:\n%s", it.To.Addr, it.Text)
				}
			}
			if strings.Join(purposes, ",") != strings.Join(tt.queued, ",") {
				t.Errorf("queued %v, want %v", purposes, tt.queued)
			}
			if m := messagesByUID(t, db)[2]; !strings.Contains(m.Answer, tt.answer) {
				t.Errorf("answer %q, want %q", m.Answer, tt.answer)
			}
		})
	}
}

// TestStaffOutOfOfficeChangesNothing and reopening: an automatic reply
// from staff changes nothing; a customer's reply to a case closed long
// ago opens a linked case.
func TestStaffOutOfOfficeAndLateReply(t *testing.T) {
	in, db, _ := newAckIntake(t, false)
	deliver(t, in, 1, 1, mail("Jan <jan@example.net>", "Pęknięty ekran", "orig@example.net"))
	deliver(t, in, 1, 2, staffMail(1, []string{ourAR, "Auto-Submitted: auto-replied"}, "#status resolved\r\nJestem na urlopie."))
	if c := caseByID(t, db, "CLM-2026-000001"); c.Status != "open" {
		t.Errorf("out-of-office changed the status to %s", c.Status)
	}
	deliver(t, in, 1, 3, staffMail(2, []string{ourAR}, "#status resolved\r\n#decision rejected\r\n\r\nReklamacja odrzucona."))
	if c := caseByID(t, db, "CLM-2026-000001"); c.Status != "resolved" || c.LegalAnsweredAt.IsZero() {
		t.Fatalf("after closing: %+v", c)
	}
	// 40 days later the customer replies to our answer.
	late := strings.Replace(mail("jan@example.net", "Re: Pęknięty ekran [CLM-2026-000001]", "late@example.net"),
		"Date: Mon, 23 Nov 2026", "Date: Sat, 02 Jan 2027", 1)
	in.now = func() time.Time { return t0.Add(40 * 24 * time.Hour) }
	deliverAt(t, in, 1, 4, t0.Add(40*24*time.Hour), late)
	c := caseByID(t, db, "CLM-2027-000001") // received in 2027
	if c.LinkedTo != "CLM-2026-000001" || c.Status != "open" {
		t.Errorf("late reply: %+v", c)
	}
	if old := caseByID(t, db, "CLM-2026-000001"); old.Status != "resolved" {
		t.Errorf("the old case was reopened: %s", old.Status)
	}
}

// deliverAt hands one raw message to the intake with INTERNALDATE at.
func deliverAt(t *testing.T, in *Intake, uidValidity, uid uint32, at time.Time, raw string) {
	t.Helper()
	ctx := context.Background()
	if err := in.Deliver(ctx, mailbox.Fetched{Mailbox: "INBOX", UIDValidity: uidValidity, UID: uid,
		InternalDate: at, Size: int64(len(raw)), Body: strings.NewReader(raw)}); err != nil {
		t.Fatal(err)
	}
	if _, err := in.Flush(ctx); err != nil {
		t.Fatal(err)
	}
}

// TestReplyToErasedCaseOpensNewCase: once a customer's data was erased
// (the case restricted to a pseudonym), their reply does not reopen it but
// opens a new case, with their address, linked to the old one.
func TestReplyToErasedCaseOpensNewCase(t *testing.T) {
	in, db, _ := newAckIntake(t, false)
	deliver(t, in, 1, 1, mail("Jan <jan@example.net>", "Pęknięty ekran", "orig@example.net"))
	err := db.Update(func(tx *store.Tx) error {
		c, _, err := tx.Case("CLM-2026-000001")
		if err != nil {
			return err
		}
		old := c
		c.Status, c.ClosedAt, c.Restricted = store.StatusResolved, t0.Add(time.Hour), true
		c.Customer, c.CustomerName = "restricted-abc@erased.invalid", ""
		return tx.UpdateCase(&old, &c)
	})
	if err != nil {
		t.Fatal(err)
	}
	// A reply that references the first mail threads into the case
	// whoever sends it (a tag alone from an address the case no longer
	// holds would open a new case anyway).
	deliver(t, in, 1, 2, mail("jan@example.net", "Re: Pęknięty ekran [CLM-2026-000001]", "late@example.net", "In-Reply-To: <orig@example.net>"))
	c := caseByID(t, db, "CLM-2026-000002")
	if c.LinkedTo != "CLM-2026-000001" || c.Customer != "jan@example.net" || c.Status != "open" {
		t.Errorf("reply to an erased case: %+v", c)
	}
	if old := caseByID(t, db, "CLM-2026-000001"); old.Status != store.StatusResolved || old.Messages != 1 {
		t.Errorf("the erased case changed: status %s, %d messages", old.Status, old.Messages)
	}
}
