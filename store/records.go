package store

import (
	"time"

	"github.com/claimsd/claimsd/message"
)

// Case statuses. Later releases add the specialists' statuses; an unknown
// status read from a newer file is kept as it is.
const (
	StatusOpen     = "open"
	StatusWaiting  = "waiting"
	StatusResolved = "resolved"
	StatusRejected = "rejected"
)

// IsOpenStatus reports whether a case in status s still expects work.
func IsOpenStatus(s string) bool { return s == StatusOpen || s == StatusWaiting }

// IsClosingStatus reports whether status s answers the complaint (the
// legal deadline is met).
func IsClosingStatus(s string) bool { return s == StatusResolved || s == StatusRejected }

// Case is one complaint, warranty claim or return.
type Case struct {
	ID           string `json:"id"`
	Status       string `json:"status"`
	Customer     string `json:"customer"` // address, lower-case
	CustomerName string `json:"customer_name,omitempty"`
	Subject      string `json:"subject"`
	// NormSubject is Subject normalised for subject threading.
	NormSubject string    `json:"norm_subject"`
	CreatedAt   time.Time `json:"created_at"`
	// ReceivedAt is the IMAP INTERNALDATE of the first message: the moment
	// the legal answer period starts.
	ReceivedAt    time.Time `json:"received_at"`
	LastMessageAt time.Time `json:"last_message_at"`
	Messages      int       `json:"messages"`
	Category      string    `json:"category"`
	Assignee      string    `json:"assignee"`
	Language      string    `json:"language,omitempty"`
	// LegalDue is the date (YYYY-MM-DD in the configured zone) by which
	// the law wants an answer; the acknowledgement promises it.
	LegalDue string `json:"legal_due,omitempty"`
	// AckOutboxID is the acknowledgement queued for the case (0: none).
	AckOutboxID uint64 `json:"ack_outbox_id,omitempty"`
	// CustomerUnreachable is set when mail to the customer bounced;
	// UnreachableNote says which mail and why.
	CustomerUnreachable bool   `json:"customer_unreachable,omitempty"`
	UnreachableNote     string `json:"unreachable_note,omitempty"`
	// Events is the case's history of automatic decisions (acknowledged,
	// suppressed, bounced, reminded, escalated), oldest first.
	Events []Event `json:"events,omitempty"`

	// Priority is urgent, high or normal; Remedy what the customer asks
	// for; Decision the answer's decision (accepted, rejected, partial).
	Priority string `json:"priority,omitempty"`
	Remedy   string `json:"remedy,omitempty"`
	Decision string `json:"decision,omitempty"`
	// MergedInto names the case this one was merged into (#merge); mail
	// threaded here goes there. LinkedTo names the closed case a new one
	// follows up.
	MergedInto string `json:"merged_into,omitempty"`
	LinkedTo   string `json:"linked_to,omitempty"`
	// The first-answer service level, in working time: the clock started
	// (or resumed) at FirstAnswerStart with FirstAnswerBudget left, and
	// ends at FirstAnswerDue. While the case waits for the customer the
	// clock is paused: FirstAnswerDue is zero and the budget is kept.
	FirstAnswerStart  time.Time     `json:"first_answer_start,omitzero"`
	FirstAnswerBudget time.Duration `json:"first_answer_budget,omitempty"`
	FirstAnswerDue    time.Time     `json:"first_answer_due,omitzero"`
	// FirstAnsweredAt is when staff first answered; it meets the service
	// level.
	FirstAnsweredAt time.Time `json:"first_answered_at,omitzero"`
	// WaitingSince is when the case began waiting for the customer.
	WaitingSince time.Time `json:"waiting_since,omitzero"`
	// ClosedAt is when the case got its current closing status;
	// LegalAnsweredAt when it first got one, which met the legal deadline
	// for good (a reopened case is a follow-up).
	ClosedAt        time.Time `json:"closed_at,omitzero"`
	LegalAnsweredAt time.Time `json:"legal_answered_at,omitzero"`
	// Overdue flags, set when a deadline passes unmet.
	LegalOverdue       bool `json:"legal_overdue,omitempty"`
	FirstAnswerOverdue bool `json:"first_answer_overdue,omitempty"`
	// Done records the reminders and escalations already made, by key, so
	// each happens at most once.
	Done map[string]time.Time `json:"done,omitempty"`
	// NextDueAt is when the scheduler must next look at the case (zero:
	// never); indexed by time.
	NextDueAt time.Time `json:"next_due_at,omitzero"`
	// Classification says why category, remedy, priority and language
	// are what they are, and the facts found in the complaint.
	Classification *Classification `json:"classification,omitempty"`

	// Restricted is set when the customer asked for erasure while a
	// legal claim about the case was still possible (GDPR art. 17(3)(e)
	// and 18; package privacy): the customer is a pseudonym, texts, raw
	// mail and attachments are gone, and the case may serve only that
	// claim. Lists and reports show it as restricted; the classifier
	// never learns from it.
	Restricted bool `json:"restricted,omitempty"`
	// PurgedAt is when the case's personal data was removed for good (its
	// retention period ended): only figures remain (dates, category,
	// remedy, decision, product), so reports still count it.
	PurgedAt time.Time `json:"purged_at,omitzero"`
}

// Classification is the classifier's result for a case, kept with its
// reasons so a specialist can see why.
type Classification struct {
	Category ClassDecision `json:"category"`
	Remedy   ClassDecision `json:"remedy"`
	Priority ClassDecision `json:"priority"`
	Language ClassDecision `json:"language"`
	Facts    []CaseFact    `json:"facts,omitempty"`
}

// ClassDecision is one classified value.
type ClassDecision struct {
	Value      string  `json:"value"`
	Confidence float64 `json:"confidence"`
	Reason     string  `json:"reason"`
}

// CaseFact is a fact found in the complaint (order number, amount...).
type CaseFact struct {
	Kind   string `json:"kind"`
	Value  string `json:"value"`
	Reason string `json:"reason,omitempty"`
}

// Event is one entry of a case's history.
type Event struct {
	At   time.Time `json:"at"`
	What string    `json:"what"`
	Note string    `json:"note,omitempty"`
}

// Source says where a message was read from.
type Source struct {
	Mailbox     string `json:"mailbox"`
	UIDValidity uint32 `json:"uidvalidity"`
	UID         uint32 `json:"uid"`
}

// Message is one stored message.
type Message struct {
	Seq        uint64            `json:"seq"`
	CaseID     string            `json:"case_id,omitempty"`
	MessageID  string            `json:"message_id"`
	InReplyTo  []string          `json:"in_reply_to,omitempty"`
	References []string          `json:"references,omitempty"`
	From       string            `json:"from"`
	FromName   string            `json:"from_name,omitempty"`
	ReplyTo    []message.Address `json:"reply_to,omitempty"`
	To         []message.Address `json:"to,omitempty"`
	Cc         []message.Address `json:"cc,omitempty"`
	Subject    string            `json:"subject"`
	Date       time.Time         `json:"date"`
	ReceivedAt time.Time         `json:"received_at"`
	IngestedAt time.Time         `json:"ingested_at"`
	Kind       string            `json:"kind"`
	KindReason string            `json:"kind_reason"`
	ThreadedBy string            `json:"threaded_by"`
	ThreadNote string            `json:"thread_note,omitempty"`
	// Text is what the author wrote in this message; Quoted the history
	// below it.
	Text        string               `json:"text"`
	Quoted      string               `json:"quoted,omitempty"`
	FromHTML    bool                 `json:"from_html,omitempty"`
	Attachments []message.Attachment `json:"attachments"`
	RawSHA256   string               `json:"raw_sha256"`
	RawSize     int64                `json:"raw_size"`
	// RawInFile is true when the raw message is a file under raw/ rather
	// than a value in the database.
	RawInFile  bool     `json:"raw_in_file,omitempty"`
	Source     Source   `json:"source"`
	ParseError string   `json:"parse_error,omitempty"`
	Problems   []string `json:"problems,omitempty"`
	// Answer says what claimsd did automatically about this message: the
	// acknowledgement it queued, or why it sent none.
	Answer string `json:"answer,omitempty"`
	// Redacted says why personal data was taken out of the message
	// (RedactedErasure, RedactedRetention) and RedactedAt when: its raw
	// message is gone, and the other fields hold what was kept.
	Redacted   string    `json:"redacted,omitempty"`
	RedactedAt time.Time `json:"redacted_at,omitzero"`
}

// Counter names kept in the store.
const (
	CountIngested    = "ingested"
	CountDuplicates  = "duplicates"
	CountParseFailed = "parse_failed"
	CountCases       = "cases_created"
	CountUnfiled     = "unfiled"
	CountQueued      = "mail_queued"
	CountSecurity    = "security_events"
	CountKindPrefix  = "kind_"
	// CountMailFailed, CountMailBounced and CountMailSuppressed count
	// outgoing mails each time one enters that status (a retried mail that
	// fails again counts again).
	CountMailFailed     = "mail_failed"
	CountMailBounced    = "mail_bounced"
	CountMailSuppressed = "mail_suppressed"
)
