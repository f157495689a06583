package main

import (
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/claimsd/claimsd/internal/mailtest"
)

// TestDeadlinesTimeTravel ingests a complaint from Dovecot, then steps
// `run --once --now` twice a day over 16 days and reads what reached the
// specialist's, the supervisor's and the customer's own mailboxes.
func TestDeadlinesTimeTravel(t *testing.T) {
	const (
		annaUser, annaPass   = "anna@example.test", "anna-pw"
		piotrUser, piotrPass = "piotr@example.test", "piotr-pw"
	)
	d, p := mailtest.StartMailStack(t, stackDomain,
		mailtest.User{Name: claimsUser, Password: claimsPass}, mailtest.User{Name: janUser, Password: janPass},
		mailtest.User{Name: annaUser, Password: annaPass}, mailtest.User{Name: piotrUser, Password: piotrPass})
	cfg := writeStackConfig(t, t.TempDir(), d, p.SubmissionPort, fmt.Sprintf(`staff:
  - {name: Anna Nowak, email: %s, role: specialist}
  - {name: Piotr Wiśniewski, email: %s, role: supervisor}
`, annaUser, piotrUser))
	warsaw, _ := time.LoadLocation("Europe/Warsaw")
	received := time.Date(2026, 11, 23, 10, 0, 0, 0, warsaw) // Monday; legal due Monday 2026-12-07
	d.DeliverMaildir(t, claimsUser, "INBOX", [][]byte{[]byte(complaint("Jan Kowalski <"+janUser+">", "Zepsuty czajnik",
		"kettle@example.test", "Dzień dobry, czajnik przecieka. Proszę o wymianę."))}, received)

	var steps []time.Time
	for day := range 16 {
		base := time.Date(2026, 11, 23+day, 0, 0, 0, 0, warsaw)
		steps = append(steps, base.Add(8*time.Hour+30*time.Minute), base.Add(17*time.Hour))
	}
	steps = append(steps, steps[len(steps)-1]) // the same moment twice sends nothing twice
	for _, at := range steps {
		out := mustCLI(t, "--config", cfg, "run", "--once", "--now", at.Format(time.RFC3339))
		if !strings.Contains(out, "failed 0") {
			t.Fatalf("run at %s: %s", at, out)
		}
	}
	p.WaitQueueEmpty(t, 30*time.Second)

	subjects := func(user, pass string) []string {
		var out []string
		ids := map[string]bool{}
		for _, m := range mailboxMessages(t, d, user, pass) {
			if ids[m.MessageID] {
				t.Errorf("%s got %s twice", user, m.MessageID)
			}
			ids[m.MessageID] = true
			out = append(out, m.Subject)
		}
		return out
	}
	jan := subjects(janUser, janPass)
	if len(jan) != 1 || jan[0] != "Re: Zepsuty czajnik [CLM-2026-000001]" {
		t.Errorf("customer's mailbox: %q", jan)
	}
	anna := subjects(annaUser, annaPass)
	wantAnna := []string{
		"[CLM-2026-000001] Przypomnienie: pierwsza odpowiedź do 24 listopada 2026 r., godz. 10:00",
		"[CLM-2026-000001] Przypomnienie: termin odpowiedzi 7 grudnia 2026 r.",
		"[CLM-2026-000001] Przypomnienie: termin odpowiedzi 7 grudnia 2026 r.",
	}
	if strings.Join(anna, "\n") != strings.Join(wantAnna, "\n") {
		t.Errorf("specialist's mailbox:\n%s\nwant:\n%s", strings.Join(anna, "\n"), strings.Join(wantAnna, "\n"))
	}
	piotr := subjects(piotrUser, piotrPass)
	var escalations, digests int
	digestDays := map[string]bool{}
	var reports []string
	for _, s := range piotr {
		switch {
		case strings.HasPrefix(s, "Raport reklamacji: "):
			reports = append(reports, s)
		case strings.Contains(s, "Eskalacja: termin ustawowy 7 grudnia 2026 r."):
			escalations++
		case strings.HasPrefix(s, "Reklamacje: "):
			digests++
			day := s[strings.LastIndex(s, "("):]
			if digestDays[day] {
				t.Errorf("two digests on %s", day)
			}
			digestDays[day] = true
		default:
			t.Errorf("supervisor got %q", s)
		}
	}
	// Digests on the weekday mornings from the first overdue (25 Nov)
	// to the last step (8 Dec): 10.
	if escalations != 1 || digests != 10 {
		t.Errorf("supervisor: %d escalations, %d digests; want 1 and 10:\n%s", escalations, digests, strings.Join(piotr, "\n"))
	}
	// The weekly report of each week that ended on a Monday 07:00 slot
	// the runs passed, once (`run --once` sends it too).
	wantReports := "Raport reklamacji: 23 listopada 2026 r. – 29 listopada 2026 r.\nRaport reklamacji: 30 listopada 2026 r. – 6 grudnia 2026 r."
	if strings.Join(reports, "\n") != wantReports {
		t.Errorf("weekly reports:\n%s\nwant:\n%s", strings.Join(reports, "\n"), wantReports)
	}
	if !strings.Contains(strings.Join(piotr, "\n"), "Reklamacje: 1 po terminie, 0 zagrożonych (8 grudnia 2026 r.)") {
		t.Errorf("last digest does not report the case overdue:\n%s", strings.Join(piotr, "\n"))
	}

	// The index answers the overdue question.
	out := mustCLI(t, "--config", cfg, "cases", "list", "--overdue", "--now", "2026-12-08T09:00:00+01:00")
	if !strings.Contains(out, "CLM-2026-000001") || !strings.Contains(out, "2026-12-07 OVERDUE") {
		t.Errorf("cases list --overdue:\n%s", out)
	}
	if out := mustCLI(t, "--config", cfg, "cases", "list", "--due-before", "2026-12-06"); strings.Contains(out, "CLM-2026-000001") {
		t.Errorf("cases list --due-before 2026-12-06 lists a case due 12-07:\n%s", out)
	}
}

// TestWaitingCaseRemindsCustomer: a case set to waiting gets a customer
// reminder after reminders.customer_after and is closed with a notice
// after close_after; the paused first-answer clock sends no reminder.
func TestWaitingCaseRemindsCustomer(t *testing.T) {
	d, p := mailtest.StartMailStack(t, stackDomain,
		mailtest.User{Name: claimsUser, Password: claimsPass}, mailtest.User{Name: janUser, Password: janPass})
	cfg := writeStackConfig(t, t.TempDir(), d, p.SubmissionPort, `reminders:
  customer_after: 3d
  close_after: 4d
  team_address: claims-team@example.test
`)
	warsaw, _ := time.LoadLocation("Europe/Warsaw")
	received := time.Date(2026, 11, 23, 10, 0, 0, 0, warsaw)
	d.DeliverMaildir(t, claimsUser, "INBOX", [][]byte{[]byte(complaint(janUser, "Pralka", "wash@example.test", "Pralka nie wiruje."))}, received)
	mustCLI(t, "--config", cfg, "run", "--once", "--now", received.Add(time.Minute).Format(time.RFC3339))
	mustCLI(t, "--config", cfg, "cases", "status", "CLM-2026-000001", "waiting")
	// cases status uses the real clock; step from now on.
	now := time.Now()
	for _, after := range []time.Duration{time.Hour, 3*24*time.Hour + time.Hour, 7*24*time.Hour + 2*time.Hour} {
		mustCLI(t, "--config", cfg, "run", "--once", "--now", now.Add(after).Format(time.RFC3339))
	}
	p.WaitQueueEmpty(t, 30*time.Second)
	var got []string
	for _, m := range mailboxMessages(t, d, janUser, janPass) {
		got = append(got, m.Subject+" | "+m.Header.Get("Auto-Submitted"))
	}
	if len(got) != 3 {
		t.Fatalf("customer's mailbox:\n%s", strings.Join(got, "\n"))
	}
	cs := listCases(t, cfg)
	if cs[0].Status != "resolved" {
		t.Errorf("case after close_after: %s", cs[0].Status)
	}
}
