package outbox

import (
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/claimsd/claimsd/caseref"
	"github.com/claimsd/claimsd/classifier"
	"github.com/claimsd/claimsd/deadline"
	"github.com/claimsd/claimsd/message"
	"github.com/claimsd/claimsd/staff"
	"github.com/claimsd/claimsd/store"
	"github.com/claimsd/claimsd/templates"
)

// Purposes of mail about staff work.
const (
	PurposeAnswer       = "answer"        // a specialist's answer relayed to the customer
	PurposeAssignment   = "assignment"    // a new case to its specialist
	PurposeCommandError = "command_error" // what in a staff mail was not understood
)

// StaffSettings configure how staff mail is trusted and acted on.
type StaffSettings struct {
	Auth    staff.AuthPolicy
	Members []staff.Member
	Rules   []staff.Rule
	// Relay sends specialists' answers to customers; Copy records those
	// sent to them directly with the claims address in copy.
	Relay, Copy bool
	// Deadlines records answers and status changes on the case's clocks.
	Deadlines deadline.Policy
	// BlobPath is the file of an attachment blob.
	BlobPath func(sha256 string) string
	// Trainer learns from specialists' #category and #remedy
	// corrections (classifier.Learner); nil learns nothing.
	Trainer Trainer
	// SentFolder is the claims mailbox's Sent folder when specialists
	// answer from the shared mailbox ("" otherwise): our own mail read
	// from there is an answer.
	SentFolder string
}

// sharedMailboxAnswer records an answer a specialist sent from the claims
// mailbox itself, read back from its Sent folder. claimsd's own mail
// (a server such as Gmail files submitted mail in Sent too) is recognised
// by its outbox item and is not an answer.
func (r *Responder) sharedMailboxAnswer(tx *store.Tx, in Incoming) (Outcome, error) {
	m, c := in.Message, in.Case
	if it, ok, err := tx.OutboxByMessageID(m.MessageID); err != nil {
		return Outcome{}, err
	} else if ok {
		m.Answer = fmt.Sprintf("our own mail (outbox %d) seen in %s", it.ID, r.set.Staff.SentFolder)
		return Outcome{}, nil
	}
	if !addressedTo(in.Parsed, c.Customer) {
		m.Answer = "sent from the shared mailbox, not to the customer; recorded"
		return Outcome{}, nil
	}
	r.set.Staff.Deadlines.Answered(c, m.ReceivedAt, false)
	m.Answer = "answer sent from the shared mailbox; recorded"
	c.Events = append(c.Events, store.Event{At: in.Now, What: "answer_recorded", Note: "sent from the shared mailbox"})
	return Outcome{}, nil
}

// Trainer learns from a correction and returns the model to store.
type Trainer interface {
	Train(space, label string, in classifier.Input) ([]byte, error)
}

// ModelKey is where the store keeps the trained classifier model.
const ModelKey = "classifier_model"

// learn trains the classifier on a specialist's correction of case c,
// from its first message, and stores the model in the same transaction.
func (r *Responder) learn(tx *store.Tx, c *store.Case, space, label string) error {
	if r.set.Staff.Trainer == nil || c.Restricted || !c.PurgedAt.IsZero() {
		// An erased customer's case is restricted: no further processing,
		// training included (GDPR art. 18).
		return nil
	}
	msgs, err := tx.CaseMessages(c.ID)
	if err != nil || len(msgs) == 0 {
		return err
	}
	data, err := r.set.Staff.Trainer.Train(space, label, classifier.Input{Subject: c.Subject, Text: msgs[0].Text, Attachments: msgs[0].Attachments})
	if err != nil {
		return err
	}
	return tx.PutValue(ModelKey, data)
}

// staffMail handles an authentic or forged staff mail in case c: commands
// first, all or nothing, then the answer (relayed, or recorded when the
// customer got it directly with us in copy), unless it is a #note.
func (r *Responder) staffMail(tx *store.Tx, in Incoming) (Outcome, error) {
	m, p, c := in.Message, in.Parsed, in.Case
	var header = p.Header
	v := staff.Authenticate(header, m.From, m.Source.Mailbox, r.set.Staff.Auth)
	if !v.Authentic {
		// A forged staff mail changes nothing, and the forger is told
		// nothing (not even the real staff address).
		m.Answer = "security: staff mail not authenticated (" + v.Reason + "); no effect"
		c.Events = append(c.Events, store.Event{At: in.Now, What: "security_unauthenticated_staff_mail",
			Note: fmt.Sprintf("message %s from %s: %s", m.MessageID, m.From, v.Reason)})
		r.log.Warn("security: unauthenticated staff mail ignored", "case", c.ID, "from", m.From, "reason", v.Reason)
		return Outcome{}, tx.Inc(store.CountSecurity, 1)
	}
	cmds := staff.ParseCommands(m.Text)
	plan, problems := r.planCommands(tx, c, cmds.Commands)
	problems = append(cmds.Errors, problems...)
	if len(problems) > 0 {
		m.Answer = "commands refused, nothing applied: " + strings.Join(problems, "; ")
		return r.commandError(tx, c, m, problems, in.Now)
	}
	var out Outcome
	for _, apply := range plan {
		if err := apply(tx, c, in.Now); err != nil {
			return out, err
		}
		out.Queued = true
	}
	applied := commandNames(cmds.Commands)
	body := strings.TrimSpace(cmds.Body)
	switch {
	case cmds.Note:
		m.Answer = "internal note" + applied
		c.Events = append(c.Events, store.Event{At: in.Now, What: "note", Note: "by " + m.From})
	case addressedTo(p, c.Customer) && !r.set.Staff.Copy:
		// The customer has it already: never relay it a second time.
		m.Answer = "sent to the customer directly; not recorded as the answer (answering.copy is off)" + applied
	case addressedTo(p, c.Customer):
		// Copy mode: the customer got it from the specialist directly.
		r.set.Staff.Deadlines.Answered(c, in.Now, c.Decision != "" && hasCommand(cmds.Commands, "decision"))
		m.Answer = "answer sent by the specialist directly (claims address in copy); recorded" + applied
		c.Events = append(c.Events, store.Event{At: in.Now, What: "answer_recorded", Note: "by " + m.From})
	case body != "" && r.set.Staff.Relay:
		it, err := r.relay(tx, c, m, body, in.Now)
		if err != nil {
			return out, err
		}
		r.set.Staff.Deadlines.Answered(c, in.Now, hasCommand(cmds.Commands, "decision"))
		m.Answer = fmt.Sprintf("answer relayed to the customer as outbox %d", it.ID) + applied
		c.Events = append(c.Events, store.Event{At: in.Now, What: "answer_relayed", Note: fmt.Sprintf("outbox %d, by %s", it.ID, m.From)})
		out.Queued = true
	case body != "":
		m.Answer = "staff mail recorded (answering.relay is off)" + applied
	default:
		m.Answer = "commands applied" + applied
	}
	return out, nil
}

func commandNames(cmds []staff.Command) string {
	if len(cmds) == 0 {
		return ""
	}
	var names []string
	for _, c := range cmds {
		names = append(names, "#"+c.Name+" "+c.Arg)
	}
	return "; commands: " + strings.Join(names, ", ")
}

func hasCommand(cmds []staff.Command, name string) bool {
	return slices.ContainsFunc(cmds, func(c staff.Command) bool { return c.Name == name })
}

// addressedTo reports whether the mail went to addr too (To or Cc).
func addressedTo(p *message.Parsed, addr string) bool {
	for _, a := range append(slices.Clone(p.To), p.Cc...) {
		if a.Addr == addr {
			return true
		}
	}
	return false
}

// change is one checked command, applied only when every command of the
// mail checked out.
type change func(tx *store.Tx, c *store.Case, now time.Time) error

// planCommands checks every command against the case and the staff
// before anything changes (nothing half-applied), and returns the changes.
func (r *Responder) planCommands(tx *store.Tx, c *store.Case, cmds []staff.Command) ([]change, []string) {
	var plan []change
	var problems []string
	d := r.set.Staff.Deadlines
	for _, cmd := range cmds {
		arg := cmd.Arg
		switch cmd.Name {
		case "status":
			plan = append(plan, func(_ *store.Tx, c *store.Case, now time.Time) error {
				d.SetStatus(c, arg, now)
				c.Events = append(c.Events, store.Event{At: now, What: "status_" + arg, Note: "by command"})
				return nil
			})
		case "decision":
			plan = append(plan, func(_ *store.Tx, c *store.Case, now time.Time) error {
				c.Decision = arg
				c.Events = append(c.Events, store.Event{At: now, What: "decision_" + arg})
				return nil
			})
		case "category":
			plan = append(plan, func(tx *store.Tx, c *store.Case, now time.Time) error {
				d.Recategorise(c, arg, now)
				c.Events = append(c.Events, store.Event{At: now, What: "category", Note: arg})
				return r.learn(tx, c, "category", arg)
			})
		case "remedy", "priority":
			name := cmd.Name
			plan = append(plan, func(tx *store.Tx, c *store.Case, now time.Time) error {
				c.Events = append(c.Events, store.Event{At: now, What: name, Note: arg})
				if name == "priority" {
					c.Priority = arg
					return nil
				}
				c.Remedy = arg
				return r.learn(tx, c, "remedy", arg)
			})
		case "assign":
			member, err := staff.Resolve(arg, r.set.Staff.Members)
			if err != nil {
				problems = append(problems, fmt.Sprintf("line %d: #assign %s: %v", cmd.Line, arg, err))
				continue
			}
			plan = append(plan, func(tx *store.Tx, c *store.Case, now time.Time) error {
				c.Assignee = member.Email
				c.Events = append(c.Events, store.Event{At: now, What: "assigned", Note: member.Email + " by command"})
				var first *store.Message
				if msgs, err := tx.CaseMessages(c.ID); err == nil && len(msgs) > 0 {
					first = &msgs[0]
				}
				return r.queueAssignment(tx, c, first, message.Address{Name: member.Name, Addr: member.Email}, "assigned by command", now)
			})
		case "merge":
			target := strings.ToUpper(arg)
			if target == c.ID {
				problems = append(problems, fmt.Sprintf("line %d: #merge %s: a case cannot be merged into itself", cmd.Line, arg))
				continue
			}
			if _, ok, err := tx.Case(target); err != nil || !ok {
				problems = append(problems, fmt.Sprintf("line %d: #merge %s: no such case", cmd.Line, arg))
				continue
			}
			plan = append(plan, func(tx *store.Tx, c *store.Case, now time.Time) error {
				t, _, err := tx.Case(target)
				if err != nil {
					return err
				}
				old := t
				t.Events = append(t.Events, store.Event{At: now, What: "merged_from", Note: c.ID})
				if err := tx.UpdateCase(&old, &t); err != nil {
					return err
				}
				c.MergedInto = target
				d.SetStatus(c, store.StatusResolved, now)
				c.Events = append(c.Events, store.Event{At: now, What: "merged_into", Note: target})
				return nil
			})
		}
	}
	return plan, problems
}

// relay queues a specialist's answer to the customer, from the claims
// address under the specialist's name, in the customer's thread, with the
// specialist's attachments.
func (r *Responder) relay(tx *store.Tx, c *store.Case, m *store.Message, body string, now time.Time) (*store.OutboxItem, error) {
	it, err := r.customerItem(tx, c, PurposeAnswer, c.Language, now)
	if err != nil {
		return nil, err
	}
	name := m.FromName
	if name == "" {
		name = m.From
	}
	if r.set.Organization != "" {
		name += " (" + r.set.Organization + ")"
	}
	it.From.Name, it.Text = name, body
	if last := lastFromCustomer(tx, c); last != nil {
		it.InReplyTo, it.References = References(last.MessageID, last.InReplyTo, last.References)
	}
	for _, a := range m.Attachments {
		if a.Inline || r.set.Staff.BlobPath == nil {
			continue
		}
		it.Attachments = append(it.Attachments, store.OutboxAttachment{Name: a.Name, ContentType: a.ContentType, SHA256: a.SHA256, Path: r.set.Staff.BlobPath(a.SHA256)})
	}
	return it, tx.AddOutbox(it)
}

// lastFromCustomer is the newest message of the case from its customer.
func lastFromCustomer(tx *store.Tx, c *store.Case) *store.Message {
	msgs, err := tx.CaseMessages(c.ID)
	if err != nil {
		return nil
	}
	for i := len(msgs) - 1; i >= 0; i-- {
		if msgs[i].From == c.Customer {
			return &msgs[i]
		}
	}
	return nil
}

// commandError tells the specialist what was not understood.
func (r *Responder) commandError(tx *store.Tx, c *store.Case, m *store.Message, problems []string, now time.Time) (Outcome, error) {
	lang := r.set.Templates.DefaultLanguage()
	intro := "Nie zrozumieliśmy poleceń w Państwa wiadomości; niczego nie zmieniono ani nie wysłano klientowi:"
	fix := "Prosimy poprawić polecenia i wysłać wiadomość ponownie."
	if lang == "en" {
		intro = "Some commands in your mail were not understood; nothing was changed or sent to the customer:"
		fix = "Please correct the commands and send the mail again."
	}
	body := templates.Rendered{
		Subject: "Re: " + SafeHeaderText(m.Subject, 200),
		Text:    intro + "\n\n- " + strings.Join(problems, "\n- ") + "\n\n" + fix + "\n",
	}
	if !strings.Contains(body.Subject, caseref.Tag(c.ID)) {
		body.Subject += " " + caseref.Tag(c.ID)
	}
	to := message.Address{Name: m.FromName, Addr: m.From}
	if err := r.queueStaff(tx, c, PurposeCommandError, to, body, lang, now); err != nil {
		return Outcome{}, err
	}
	return Outcome{Queued: true}, nil
}

// assign gives a new case its specialist by the rules and mails them.
func (r *Responder) assign(tx *store.Tx, c *store.Case, m *store.Message, now time.Time) error {
	if len(r.set.Staff.Rules) == 0 {
		return nil
	}
	last := func(team string) string { return string(tx.Value("assign_last/" + team)) }
	d := staff.Assign(staff.Facts{Category: c.Category, Language: c.Language, Customer: c.Customer}, r.set.Staff.Rules, r.set.Staff.Members, last)
	c.Events = append(c.Events, store.Event{At: now, What: "assignment", Note: d.Reason})
	if d.Assignee == "" {
		// Left to the team: the team address gets the case to take.
		if r.set.TeamAddress == "" {
			return nil
		}
		return r.queueAssignment(tx, c, m, message.Address{Addr: r.set.TeamAddress}, d.Reason, now)
	}
	if d.Team != "" {
		if err := tx.PutValue("assign_last/"+d.Team, []byte(d.Assignee)); err != nil {
			return err
		}
	}
	c.Assignee = d.Assignee
	to := message.Address{Addr: d.Assignee}
	for _, mem := range r.set.Staff.Members {
		if mem.Email == d.Assignee {
			to.Name = mem.Name
		}
	}
	return r.queueAssignment(tx, c, m, to, d.Reason, now)
}

// queueAssignment mails case c to its specialist: the complaint (first,
// its first message; nil if none), its
// attachments, deadlines, and how to answer; replies go to the claims
// address and carry the case tag.
func (r *Responder) queueAssignment(tx *store.Tx, c *store.Case, first *store.Message, to message.Address, reason string, now time.Time) error {
	lang := r.set.Templates.DefaultLanguage()
	d := templates.AssignmentData{
		RecipientName: to.Name, Case: r.caseLine(*c, ""), Category: c.Category, Remedy: c.Remedy,
		Priority: c.Priority, Language: c.Language, Reason: reason, ClaimsAddress: r.set.From.Addr,
		Organization: r.set.Organization,
	}
	var atts []store.OutboxAttachment
	if first != nil {
		d.Text = first.Text
		for _, a := range first.Attachments {
			d.Attachments = append(d.Attachments, fmt.Sprintf("%s (%d KB)", a.Name, (a.Size+1023)/1024))
			if !a.Inline && r.set.Staff.BlobPath != nil {
				atts = append(atts, store.OutboxAttachment{Name: a.Name, ContentType: a.ContentType, SHA256: a.SHA256, Path: r.set.Staff.BlobPath(a.SHA256)})
			}
		}
	}
	body, used, err := r.set.Templates.Assignment(lang, d)
	if err != nil {
		return fmt.Errorf("assignment mail: %w", err)
	}
	it, err := r.staffItem(tx, c, PurposeAssignment, to, body, used, now)
	if err != nil {
		return err
	}
	// Replies go to the claims address, so the specialist's answer comes
	// back through intake; the complaint's attachments come along.
	it.ReplyTo, it.Attachments = r.set.From, atts
	return r.addStaffItem(tx, c, it, now)
}
