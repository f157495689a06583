package outbox

import (
	"cmp"
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/claimsd/claimsd/calendar"
	"github.com/claimsd/claimsd/caseref"
	"github.com/claimsd/claimsd/deadline"
	"github.com/claimsd/claimsd/message"
	"github.com/claimsd/claimsd/store"
	"github.com/claimsd/claimsd/templates"
)

// Purposes of the deadline mails.
const (
	PurposeReminder         = "reminder"
	PurposeEscalation       = "escalation"
	PurposeDigest           = "digest"
	PurposeCustomerReminder = "customer_reminder"
	PurposeCloseNotice      = "close_notice"
)

// Notify implements deadline.Notifier: it queues the mail an event calls
// for, in the scheduler's transaction. Overdue events send nothing at once;
// the digest reports them.
func (r *Responder) Notify(tx *store.Tx, c *store.Case, ev deadline.Event, now time.Time) error {
	lang := r.set.Templates.DefaultLanguage()
	switch ev.Kind {
	case deadline.RemindLegal, deadline.RemindFirstAnswer:
		which := "legal"
		if ev.Kind == deadline.RemindFirstAnswer {
			which = "first_answer"
		}
		for _, to := range r.reminderRecipients(c) {
			body, _, err := r.set.Templates.Reminder(lang, templates.ReminderData{
				RecipientName: to.Name, Case: r.caseLine(*c, ""), Deadline: which,
				DueAt: ev.DueAt.In(r.set.Location), Organization: r.set.Organization,
			})
			if err != nil {
				return err
			}
			if err := r.queueStaff(tx, c, PurposeReminder, to, body, lang, now); err != nil {
				return err
			}
		}
	case deadline.EscalateAtRisk:
		for _, to := range r.supervisors() {
			body, _, err := r.set.Templates.Escalation(lang, templates.EscalationData{
				Case: r.caseLine(*c, reasonText(lang, deadline.ReasonLegalAtRisk)), Organization: r.set.Organization,
			})
			if err != nil {
				return err
			}
			if err := r.queueStaff(tx, c, PurposeEscalation, to, body, lang, now); err != nil {
				return err
			}
		}
	case deadline.RemindCustomer, deadline.CloseForSilence:
		return r.customerNotice(tx, c, ev, now)
	}
	return nil
}

// reminderRecipients: the assignee, else the team address, else every
// specialist.
func (r *Responder) reminderRecipients(c *store.Case) []message.Address {
	switch {
	case strings.Contains(c.Assignee, "@"):
		for _, s := range r.set.Specialists {
			if s.Addr == c.Assignee {
				return []message.Address{s}
			}
		}
		return []message.Address{{Addr: c.Assignee}}
	case r.set.TeamAddress != "":
		return []message.Address{{Addr: r.set.TeamAddress}}
	case len(r.set.Specialists) > 0:
		return r.set.Specialists
	}
	return r.supervisors()
}

// supervisors, else the team address: an escalation never goes nowhere
// when someone is configured.
func (r *Responder) supervisors() []message.Address {
	if len(r.set.Supervisors) > 0 {
		return r.set.Supervisors
	}
	if r.set.TeamAddress != "" {
		return []message.Address{{Addr: r.set.TeamAddress}}
	}
	return nil
}

// caseLine is a case as staff mails show it.
func (r *Responder) caseLine(c store.Case, reason string) templates.CaseLine {
	loc := r.set.Location
	l := templates.CaseLine{
		CaseID: c.ID, Customer: c.Customer, CustomerName: c.CustomerName, Subject: c.Subject,
		Assignee: c.Assignee, Status: c.Status, ReceivedAt: c.ReceivedAt.In(loc),
		Overdue: c.LegalOverdue || c.FirstAnswerOverdue, Reason: reason,
	}
	if d, err := calendar.ParseDate(c.LegalDue); err == nil {
		l.LegalDue = d.Start(loc)
	}
	if c.FirstAnsweredAt.IsZero() && !c.FirstAnswerDue.IsZero() {
		l.FirstAnswerDue = c.FirstAnswerDue.In(loc)
	}
	return l
}

// queueStaff queues an automatic mail to a staff member about case c
// (nil for a digest).
func (r *Responder) queueStaff(tx *store.Tx, c *store.Case, purpose string, to message.Address, body templates.Rendered, lang string, now time.Time) error {
	it, err := r.staffItem(tx, c, purpose, to, body, lang, now)
	if err != nil {
		return err
	}
	return r.addStaffItem(tx, c, it, now)
}

// staffItem builds (but does not queue) a mail to staff.
func (r *Responder) staffItem(tx *store.Tx, c *store.Case, purpose string, to message.Address, body templates.Rendered, lang string, now time.Time) (*store.OutboxItem, error) {
	it, err := r.newItem(tx, c, purpose, to, now)
	if err != nil {
		return nil, err
	}
	subject := body.Subject
	if subject == "" {
		subject = purpose
		if c != nil {
			subject += " " + caseref.Tag(c.ID)
		}
	}
	it.Subject, it.AutoSubmitted, it.Language = SafeHeaderText(subject, 400), "auto-generated", lang
	it.Text, it.HTML = body.Text, body.HTML
	return it, nil
}

func (r *Responder) addStaffItem(tx *store.Tx, c *store.Case, it *store.OutboxItem, now time.Time) error {
	if err := tx.AddOutbox(it); err != nil {
		return err
	}
	if c != nil {
		c.Events = append(c.Events, store.Event{At: now, What: it.Purpose + "_queued", Note: fmt.Sprintf("outbox %d to %s", it.ID, it.To.Addr)})
	}
	return nil
}

// customerNotice queues the reminder to a customer we wait for, or the
// notice that the case is closed, in the customer's thread and under the
// same rate caps as acknowledgements.
func (r *Responder) customerNotice(tx *store.Tx, c *store.Case, ev deadline.Event, now time.Time) error {
	lang, purpose := c.Language, PurposeCustomerReminder
	var body templates.Rendered
	var used string
	var err error
	if ev.Kind == deadline.RemindCustomer {
		d := templates.CustomerReminderData{CaseID: c.ID, CustomerName: c.CustomerName, Subject: c.Subject,
			WaitingSince: c.WaitingSince.In(r.set.Location), Organization: r.set.Organization, ReplyAddress: r.set.From.Addr}
		if r.set.CloseAfter > 0 {
			d.CloseOn = now.Add(r.set.CloseAfter).In(r.set.Location)
		}
		body, used, err = r.set.Templates.CustomerReminder(lang, d)
	} else {
		purpose = PurposeCloseNotice
		body, used, err = r.set.Templates.CloseNotice(lang, templates.CloseNoticeData{CaseID: c.ID, CustomerName: c.CustomerName,
			Subject: c.Subject, Organization: r.set.Organization, ReplyAddress: r.set.From.Addr})
	}
	if err != nil {
		return err
	}
	it, err := r.customerItem(tx, c, purpose, used, now)
	if err != nil {
		return err
	}
	it.AutoSubmitted, it.Text, it.HTML = "auto-generated", body.Text, body.HTML
	// In the thread of our last mail to the customer.
	if prev := lastCustomerMail(tx, c); prev != nil {
		it.InReplyTo, it.References = References(prev.MessageID, nil, prev.References)
	}
	since := now.Add(-r.set.Limits.Window)
	if n, err := tx.AutoMailsTo(c.Customer, since); err != nil {
		return err
	} else if n >= r.set.Limits.MaxPerRecipient || c.CustomerUnreachable {
		it.Status = store.OutboxSuppressed
		it.SuppressedReason = fmt.Sprintf("rate cap: %d automatic mails to %s within %s (auto_mail.max_per_recipient)", n, c.Customer, r.set.Limits.Window)
		if c.CustomerUnreachable {
			it.SuppressedReason = "customer unreachable: " + c.UnreachableNote
		}
	}
	if err := tx.AddOutbox(it); err != nil {
		return err
	}
	c.Events = append(c.Events, store.Event{At: now, What: purpose + "_" + it.Status, Note: fmt.Sprintf("outbox %d", it.ID)})
	return nil
}

// lastCustomerMail is the newest mail we queued to the case's customer.
func lastCustomerMail(tx *store.Tx, c *store.Case) *store.OutboxItem {
	items, err := tx.OutboxOfCase(c.ID)
	if err != nil {
		return nil
	}
	for i := len(items) - 1; i >= 0; i-- {
		if items[i].To.Addr == c.Customer && items[i].Status != store.OutboxSuppressed {
			return &items[i]
		}
	}
	return nil
}

// Digest implements deadline.Notifier: one mail per supervisor, cases
// grouped by assignee (unassigned first), overdue first within a group.
func (r *Responder) Digest(tx *store.Tx, d deadline.Digest, now time.Time) error {
	lang := r.set.Templates.DefaultLanguage()
	data := templates.DigestData{At: now.In(r.set.Location), Organization: r.set.Organization}
	groups := map[string][]templates.CaseLine{}
	for _, dc := range d.Cases {
		line := r.caseLine(dc.Case, reasonText(lang, dc.Reason))
		line.Overdue = dc.Overdue
		if dc.Overdue {
			data.Overdue++
		} else {
			data.AtRisk++
		}
		groups[dc.Case.Assignee] = append(groups[dc.Case.Assignee], line)
	}
	for assignee, lines := range groups {
		slices.SortStableFunc(lines, func(a, b templates.CaseLine) int {
			if a.Overdue != b.Overdue {
				if a.Overdue {
					return -1
				}
				return 1
			}
			return cmp.Compare(a.CaseID, b.CaseID)
		})
		data.Groups = append(data.Groups, templates.DigestGroup{Assignee: assignee, Cases: lines})
	}
	slices.SortFunc(data.Groups, func(a, b templates.DigestGroup) int { return cmp.Compare(a.Assignee, b.Assignee) })
	body, used, err := r.set.Templates.Digest(lang, data)
	if err != nil {
		return err
	}
	for _, to := range r.supervisors() {
		if err := r.queueStaff(tx, nil, PurposeDigest, to, body, used, now); err != nil {
			return err
		}
	}
	return nil
}

// reasonText words a digest reason in the staff's language.
func reasonText(lang string, r deadline.Reason) string {
	pl := map[deadline.Reason]string{
		deadline.ReasonLegalOverdue:       "termin ustawowy minął",
		deadline.ReasonLegalAtRisk:        "termin ustawowy zagrożony, sprawa niezamknięta",
		deadline.ReasonFirstAnswerOverdue: "brak pierwszej odpowiedzi w terminie",
	}
	en := map[deadline.Reason]string{
		deadline.ReasonLegalOverdue:       "legal deadline passed",
		deadline.ReasonLegalAtRisk:        "legal deadline at risk, case not closed",
		deadline.ReasonFirstAnswerOverdue: "first answer overdue",
	}
	if lang == "pl" {
		return pl[r]
	}
	if t, ok := en[r]; ok {
		return t
	}
	return string(r)
}
