// Package deadline owns what is due when for a case: the legal answer
// deadline, the first-answer service level counted in working time (paused
// while the case waits for the customer), the reminders before them, the
// escalation when they are at risk or missed, and the scheduler that acts
// at the right moment, found through the store's time-ordered index.
// Decisions (Policy) are pure functions over a case and a time; the
// Scheduler is the adapter that applies them in store transactions.
package deadline

import (
	"fmt"
	"slices"
	"time"

	"github.com/claimsd/claimsd/calendar"
	"github.com/claimsd/claimsd/classifier"
	"github.com/claimsd/claimsd/store"
)

// Policy is the deadline configuration.
type Policy struct {
	Calendar *calendar.Calendar
	Hours    calendar.Hours
	// AnswerDays is the legal answer period of a category (calendar days).
	AnswerDays func(category string) int
	// FirstAnswer is the first-answer service level of a case's category
	// and priority (working time).
	FirstAnswer func(category, priority string) time.Duration
	// LegalBefore: remind the specialist this long (calendar time) before
	// the legal deadline ends.
	LegalBefore []time.Duration
	// FirstAnswerBefore: remind this much working time before the
	// first-answer deadline.
	FirstAnswerBefore []time.Duration
	// AtRiskBusinessDays: escalate at the start of the working day this
	// many business days before the legal due date if the case is not
	// closed by then.
	AtRiskBusinessDays int
	// CustomerAfter: remind a customer we wait for after this long (0:
	// never). CloseAfter: close the case this long after that (0: never).
	CustomerAfter, CloseAfter time.Duration
}

// DefaultPolicy is the legal minimum: 14 days, Polish holidays, working
// hours 08:00-16:00 Monday to Friday, a first answer within 8 working
// hours, no reminders.
func DefaultPolicy(loc *time.Location) Policy {
	hours, _ := calendar.ParseHours("08:00", "16:00", nil)
	return Policy{
		Calendar:           calendar.New(loc, nil, nil),
		Hours:              hours,
		AnswerDays:         func(string) int { return calendar.DefaultAnswerDays },
		FirstAnswer:        func(string, string) time.Duration { return 8 * time.Hour },
		AtRiskBusinessDays: 1,
	}
}

// DefaultPriority is the priority of a case until the classifier or a
// specialist sets one.
const DefaultPriority = "normal"

// Track updates c's deadlines for a message that opened it (newCase) or
// joined it, received at at.
func (p Policy) Track(c *store.Case, kind classifier.Kind, at time.Time, newCase bool) {
	switch {
	case newCase:
		// The legal period runs from receipt (IMAP INTERNALDATE) in the
		// configured zone (DOMAIN §1).
		c.LegalDue = p.Calendar.LegalDue(at, p.AnswerDays(c.Category)).String()
		if c.Priority == "" {
			c.Priority = DefaultPriority
		}
		c.FirstAnswerStart, c.FirstAnswerBudget = at, p.FirstAnswer(c.Category, c.Priority)
		c.FirstAnswerDue = p.Calendar.AddWorkingTime(at, c.FirstAnswerBudget, p.Hours)
	case kind == classifier.KindCustomer && c.Status == store.StatusWaiting:
		// The customer wrote: the case is ours again, and a paused
		// service-level clock runs on.
		p.SetStatus(c, store.StatusOpen, at)
	case kind == classifier.KindCustomer && store.IsClosingStatus(c.Status):
		// A reply to a closed case reopens it (the close notice says
		// so); the legal deadline stays met by the earlier answer.
		p.SetStatus(c, store.StatusOpen, at)
		c.Events = append(c.Events, store.Event{At: at, What: "reopened", Note: "the customer wrote"})
	}
	c.NextDueAt = p.Next(*c, at)
}

// Answered records an answer to the customer at at (relayed, or sent
// with the claims address in copy): it meets the first-answer deadline,
// and with a decision it is the legal answer (DOMAIN §1).
func (p Policy) Answered(c *store.Case, at time.Time, decision bool) {
	if c.FirstAnsweredAt.IsZero() {
		c.FirstAnsweredAt = at
	}
	if decision && c.LegalAnsweredAt.IsZero() {
		c.LegalAnsweredAt = at
	}
	c.NextDueAt = p.Next(*c, at)
}

// Recategorise sets c's category: its legal period may differ (answer
// days per category), counted from the same receipt.
func (p Policy) Recategorise(c *store.Case, category string, at time.Time) {
	c.Category = category
	c.LegalDue = p.Calendar.LegalDue(c.ReceivedAt, p.AnswerDays(category)).String()
	c.NextDueAt = p.Next(*c, at)
}

// SetStatus moves c to status at time at: waiting pauses the first-answer
// clock (the working time left is kept), open resumes it, a closing status
// meets the legal deadline and ends every reminder.
func (p Policy) SetStatus(c *store.Case, status string, at time.Time) {
	answered := !c.FirstAnsweredAt.IsZero()
	switch {
	case status == store.StatusWaiting && c.Status != store.StatusWaiting:
		if !answered && !c.FirstAnswerDue.IsZero() {
			c.FirstAnswerBudget = p.Calendar.WorkingTimeBetween(at, c.FirstAnswerDue, p.Hours)
			c.FirstAnswerDue = time.Time{}
		}
		c.WaitingSince = at
	case status == store.StatusOpen && c.Status == store.StatusWaiting:
		if !answered && c.FirstAnswerDue.IsZero() {
			c.FirstAnswerStart = at
			c.FirstAnswerDue = p.Calendar.AddWorkingTime(at, c.FirstAnswerBudget, p.Hours)
		}
		c.WaitingSince = time.Time{}
	case store.IsClosingStatus(status) && !store.IsClosingStatus(c.Status):
		c.ClosedAt = at
		if c.LegalAnsweredAt.IsZero() {
			c.LegalAnsweredAt = at
		}
		c.WaitingSince = time.Time{}
	case status == store.StatusOpen && store.IsClosingStatus(c.Status):
		// Reopened: the legal deadline was met by the closing answer.
		c.ClosedAt = time.Time{}
	}
	c.Status = status
	c.NextDueAt = p.Next(*c, at)
}

// Kind is what an event does.
type Kind string

// Events of a case's schedule.
const (
	RemindLegal        Kind = "remind_legal"         // the specialist: legal deadline ahead
	RemindFirstAnswer  Kind = "remind_first_answer"  // the specialist: first-answer deadline ahead
	EscalateAtRisk     Kind = "escalate_at_risk"     // the supervisors, at once: legal deadline at risk
	LegalOverdue       Kind = "legal_overdue"        // the legal deadline passed unmet
	FirstAnswerOverdue Kind = "first_answer_overdue" // the first-answer deadline passed unmet
	RemindCustomer     Kind = "remind_customer"      // the customer: we are waiting for you
	CloseForSilence    Kind = "close_for_silence"    // no reply: close with a notice
)

// Event is one scheduled step of a case.
type Event struct {
	// Key identifies the event among the case's Done entries; it carries
	// the start of the period it belongs to, so a resumed clock or a new
	// waiting period has new reminders.
	Key  string
	Kind Kind
	At   time.Time
	// DueAt is the deadline the event is about (zero for customer events).
	DueAt time.Time
}

// LegalDueEnd is the last instant of the legal due date.
func (p Policy) LegalDueEnd(c store.Case) (time.Time, bool) {
	d, err := calendar.ParseDate(c.LegalDue)
	if err != nil {
		return time.Time{}, false
	}
	return d.End(p.Calendar.Location()), true
}

// Events lists c's schedule in time order: what is still to happen given
// its state, done or not. A closed case has none.
func (p Policy) Events(c store.Case) []Event {
	if !store.IsOpenStatus(c.Status) {
		return nil
	}
	var evs []Event
	if end, ok := p.LegalDueEnd(c); ok && c.LegalAnsweredAt.IsZero() {
		// Reminders count back from midnight after the due date, so "24h
		// before" is the start of the due date.
		after := end.Add(time.Nanosecond)
		for _, before := range p.LegalBefore {
			evs = append(evs, Event{Key: fmt.Sprintf("%s/%s", RemindLegal, before), Kind: RemindLegal, At: after.Add(-before), DueAt: end})
		}
		evs = append(evs,
			Event{Key: string(EscalateAtRisk), Kind: EscalateAtRisk, At: p.atRisk(c), DueAt: end},
			Event{Key: string(LegalOverdue), Kind: LegalOverdue, At: after, DueAt: end})
	}
	if c.FirstAnsweredAt.IsZero() && !c.FirstAnswerDue.IsZero() {
		start := c.FirstAnswerStart.Unix()
		for _, before := range p.FirstAnswerBefore {
			if before >= c.FirstAnswerBudget {
				continue
			}
			at := p.Calendar.AddWorkingTime(c.FirstAnswerStart, c.FirstAnswerBudget-before, p.Hours)
			evs = append(evs, Event{Key: fmt.Sprintf("%s/%s/%d", RemindFirstAnswer, before, start), Kind: RemindFirstAnswer, At: at, DueAt: c.FirstAnswerDue})
		}
		evs = append(evs, Event{Key: fmt.Sprintf("%s/%d", FirstAnswerOverdue, start), Kind: FirstAnswerOverdue, At: c.FirstAnswerDue, DueAt: c.FirstAnswerDue})
	}
	if c.Status == store.StatusWaiting && !c.WaitingSince.IsZero() && p.CustomerAfter > 0 {
		since := c.WaitingSince.Unix()
		remind := c.WaitingSince.Add(p.CustomerAfter)
		evs = append(evs, Event{Key: fmt.Sprintf("%s/%d", RemindCustomer, since), Kind: RemindCustomer, At: remind})
		if p.CloseAfter > 0 {
			evs = append(evs, Event{Key: fmt.Sprintf("%s/%d", CloseForSilence, since), Kind: CloseForSilence, At: remind.Add(p.CloseAfter)})
		}
	}
	slices.SortStableFunc(evs, func(a, b Event) int { return a.At.Compare(b.At) })
	return evs
}

// atRisk is the start of working hours on the working day
// AtRiskBusinessDays business days before the legal due date.
func (p Policy) atRisk(c store.Case) time.Time {
	d, err := calendar.ParseDate(c.LegalDue)
	if err != nil {
		return time.Time{}
	}
	for n := 0; n < p.AtRiskBusinessDays; {
		d = d.AddDays(-1)
		if p.Calendar.IsBusinessDay(d) {
			n++
		}
	}
	return d.Start(p.Calendar.Location()).Add(p.Hours.Start)
}

// Due returns c's events that are due at now and not done yet, oldest
// first, and when the next one falls (zero: none).
func (p Policy) Due(c store.Case, now time.Time) (due []Event, next time.Time) {
	for _, ev := range p.Events(c) {
		if _, done := c.Done[ev.Key]; done {
			continue
		}
		if !ev.At.After(now) {
			due = append(due, ev)
			continue
		}
		return due, ev.At
	}
	return due, time.Time{}
}

// Next is when the scheduler must look at c after now.
func (p Policy) Next(c store.Case, now time.Time) time.Time {
	due, next := p.Due(c, now)
	if len(due) > 0 {
		return now
	}
	return next
}
