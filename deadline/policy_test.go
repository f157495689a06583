package deadline

import (
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/claimsd/claimsd/calendar"
	"github.com/claimsd/claimsd/classifier"
	"github.com/claimsd/claimsd/store"
)

var warsaw = func() *time.Location {
	l, err := time.LoadLocation("Europe/Warsaw")
	if err != nil {
		panic(err)
	}
	return l
}()

func at(s string) time.Time {
	t, err := time.ParseInLocation("2006-01-02 15:04", s, warsaw)
	if err != nil {
		panic(err)
	}
	return t
}

func testPolicy() Policy {
	hours, err := calendar.ParseHours("08:00", "16:00", nil)
	if err != nil {
		panic(err)
	}
	return Policy{
		Calendar:   calendar.New(warsaw, nil, []calendar.Date{{Year: 2026, Month: 12, Day: 31}}),
		Hours:      hours,
		AnswerDays: func(string) int { return 14 },
		FirstAnswer: func(_, p string) time.Duration {
			return map[string]time.Duration{"urgent": 2 * time.Hour}[p] + 8*time.Hour*btoi(p != "urgent")
		},
		LegalBefore:        []time.Duration{72 * time.Hour, 24 * time.Hour},
		FirstAnswerBefore:  []time.Duration{2 * time.Hour},
		AtRiskBusinessDays: 1,
		CustomerAfter:      7 * 24 * time.Hour,
		CloseAfter:         7 * 24 * time.Hour,
	}
}

func btoi(b bool) time.Duration {
	if b {
		return 1
	}
	return 0
}

func newCase(p Policy, received time.Time) store.Case {
	c := store.Case{ID: "CLM-2026-000001", Status: store.StatusOpen, ReceivedAt: received}
	p.Track(&c, classifier.KindCustomer, received, true)
	return c
}

func schedule(p Policy, c store.Case) string {
	var b strings.Builder
	for _, ev := range p.Events(c) {
		fmt.Fprintf(&b, "%s %s\n", ev.At.In(warsaw).Format("2006-01-02 15:04"), ev.Kind)
	}
	return b.String()
}

func TestScheduleOfNewCases(t *testing.T) {
	p := testPolicy()
	tests := []struct {
		name     string
		received string
		want     string
	}{
		{"monday morning", "2026-11-23 10:00", `
2026-11-23 16:00 remind_first_answer
2026-11-24 10:00 first_answer_overdue
2026-12-04 08:00 escalate_at_risk
2026-12-05 00:00 remind_legal
2026-12-07 00:00 remind_legal
2026-12-08 00:00 legal_overdue
`},
		// Saturday 26 Dec (a holiday) at night: the legal day 14 is a
		// Saturday, so the deadline is Monday 2027-01-11; the service
		// level waits for Monday 28 Dec.
		{"holiday Saturday night", "2026-12-26 22:30", `
2026-12-28 14:00 remind_first_answer
2026-12-28 16:00 first_answer_overdue
2027-01-08 08:00 escalate_at_risk
2027-01-09 00:00 remind_legal
2027-01-11 00:00 remind_legal
2027-01-12 00:00 legal_overdue
`},
		// Easter: received Thursday 2026-04-02 (Good Friday is a working
		// day in Poland); day 14 is 2026-04-16.
		{"before Easter", "2026-04-02 15:00", `
2026-04-03 13:00 remind_first_answer
2026-04-03 15:00 first_answer_overdue
2026-04-14 00:00 remind_legal
2026-04-15 08:00 escalate_at_risk
2026-04-16 00:00 remind_legal
2026-04-17 00:00 legal_overdue
`},
		// DST ends 2026-10-25, inside the legal period: dates stay dates.
		{"across DST end", "2026-10-15 12:00", `
2026-10-16 10:00 remind_first_answer
2026-10-16 12:00 first_answer_overdue
2026-10-27 00:00 remind_legal
2026-10-28 08:00 escalate_at_risk
2026-10-29 00:00 remind_legal
2026-10-30 00:00 legal_overdue
`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c := newCase(p, at(tt.received))
			if got := "\n" + schedule(p, c); got != tt.want {
				t.Errorf("legal due %s, schedule:%s\nwant:%s", c.LegalDue, got, tt.want)
			}
		})
	}
}

func TestDueAndDone(t *testing.T) {
	p := testPolicy()
	c := newCase(p, at("2026-11-23 10:00"))
	if !c.NextDueAt.Equal(at("2026-11-23 16:00")) {
		t.Fatalf("next due %v", c.NextDueAt)
	}
	due, next := p.Due(c, at("2026-11-24 12:00"))
	if len(due) != 2 || due[0].Kind != RemindFirstAnswer || due[1].Kind != FirstAnswerOverdue || !next.Equal(at("2026-12-04 08:00")) {
		t.Fatalf("due %+v next %v", due, next)
	}
	c.Done = map[string]time.Time{due[0].Key: time.Time{}, due[1].Key: time.Time{}}
	if due, _ := p.Due(c, at("2026-11-24 12:00")); len(due) != 0 {
		t.Errorf("done events due again: %+v", due)
	}
}

func TestStaffAnswerMeetsFirstAnswer(t *testing.T) {
	p := testPolicy()
	c := newCase(p, at("2026-11-23 10:00"))
	p.Answered(&c, at("2026-11-23 11:00"), false)
	for _, ev := range p.Events(c) {
		if ev.Kind == RemindFirstAnswer || ev.Kind == FirstAnswerOverdue {
			t.Errorf("answered case still has %s", ev.Kind)
		}
	}
	if !c.NextDueAt.Equal(at("2026-12-04 08:00")) {
		t.Errorf("next due %v", c.NextDueAt)
	}
}

func TestWaitingPausesServiceLevelNotLegal(t *testing.T) {
	p := testPolicy()
	c := newCase(p, at("2026-11-23 10:00")) // first answer due 11-24 10:00
	p.SetStatus(&c, store.StatusWaiting, at("2026-11-23 14:00"))
	if !c.FirstAnswerDue.IsZero() || c.FirstAnswerBudget != 4*time.Hour {
		t.Fatalf("paused: due %v budget %v", c.FirstAnswerDue, c.FirstAnswerBudget)
	}
	got := schedule(p, c)
	for _, want := range []string{"2026-11-30 14:00 remind_customer", "2026-12-07 14:00 close_for_silence", "2026-12-08 00:00 legal_overdue"} {
		if !strings.Contains(got, want) {
			t.Errorf("waiting schedule lacks %q:\n%s", want, got)
		}
	}
	if strings.Contains(got, "first_answer") {
		t.Errorf("paused clock still scheduled:\n%s", got)
	}
	// The customer writes on Friday 15:00: 1h today, 3h on Monday.
	p.Track(&c, classifier.KindCustomer, at("2026-11-27 15:00"), false)
	if c.Status != store.StatusOpen || !c.FirstAnswerDue.Equal(at("2026-11-30 11:00")) {
		t.Errorf("resumed: status %s due %v", c.Status, c.FirstAnswerDue)
	}
}

func TestClosedCaseHasNoEvents(t *testing.T) {
	p := testPolicy()
	c := newCase(p, at("2026-11-23 10:00"))
	p.SetStatus(&c, store.StatusResolved, at("2026-11-25 10:00"))
	if evs := p.Events(c); len(evs) != 0 || !c.NextDueAt.IsZero() || c.ClosedAt.IsZero() {
		t.Errorf("closed case: events %v next %v closed %v", evs, c.NextDueAt, c.ClosedAt)
	}
}

func TestUrgentPriorityAndClosureDay(t *testing.T) {
	p := testPolicy()
	c := store.Case{ID: "CLM-2026-000009", Status: store.StatusOpen, Priority: "urgent"}
	// 2026-12-30 15:00 + 2h: 31 Dec is a closure day, 1 Jan a holiday,
	// then the weekend: Monday 2027-01-04 09:00.
	p.Track(&c, classifier.KindCustomer, at("2026-12-30 15:00"), true)
	if !c.FirstAnswerDue.Equal(at("2027-01-04 09:00")) {
		t.Errorf("urgent first answer due %v", c.FirstAnswerDue.In(warsaw))
	}
}

func TestCustomerReplyReopensClosedCase(t *testing.T) {
	p := testPolicy()
	c := newCase(p, at("2026-11-23 10:00"))
	p.SetStatus(&c, store.StatusResolved, at("2026-11-25 10:00"))
	p.Track(&c, classifier.KindCustomer, at("2026-11-30 09:00"), false)
	if c.Status != store.StatusOpen || !c.ClosedAt.IsZero() || c.Events[len(c.Events)-1].What != "reopened" {
		t.Errorf("after a reply: status %s closed %v events %v", c.Status, c.ClosedAt, c.Events)
	}
	for _, ev := range p.Events(c) {
		if ev.Kind == RemindLegal || ev.Kind == LegalOverdue || ev.Kind == EscalateAtRisk {
			t.Errorf("a reopened case answered in time has %s again", ev.Kind)
		}
	}
	// An automatic reply does not reopen it.
	p.SetStatus(&c, store.StatusResolved, at("2026-12-01 10:00"))
	p.Track(&c, classifier.KindAutoReply, at("2026-12-01 11:00"), false)
	if c.Status != store.StatusResolved {
		t.Errorf("an auto-reply reopened the case")
	}
}
