package outbox

import (
	"crypto/hmac"
	"crypto/sha256"
	"encoding/base32"
	"fmt"
	"log/slog"
	"strconv"
	"strings"
	"time"

	"github.com/claimsd/claimsd/calendar"
	"github.com/claimsd/claimsd/caseref"
	"github.com/claimsd/claimsd/classifier"
	"github.com/claimsd/claimsd/message"
	"github.com/claimsd/claimsd/store"
	"github.com/claimsd/claimsd/templates"
)

// Purposes of outgoing mail.
const PurposeAck = "ack"

// Settings are what the Responder needs of the configuration.
type Settings struct {
	Acknowledge bool
	From        message.Address
	// VERP gives every mail its own envelope sender (DOMAIN §6), signed
	// with Key so that a forged bounce cannot mark a case.
	VERP         bool
	Key          []byte
	IDs          caseref.MessageIDs
	Location     *time.Location
	Templates    *templates.Set
	Organization string
	PrivacyURL   string
	AnswerDays   func(category string) int
	Limits       Limits
	// Staff who get deadline mail: reminders go to a case's assignee,
	// else TeamAddress, else every specialist; escalations and digests to
	// every supervisor.
	Specialists []message.Address
	Supervisors []message.Address
	TeamAddress string
	// CloseAfter, when set, is announced in customer reminders: the case
	// closes that long after the reminder without a reply.
	CloseAfter time.Duration
	// Staff configures trusting and acting on staff mail.
	Staff StaffSettings
}

// Responder decides and queues claimsd's automatic answers to committed
// messages, and links bounces to the mail they are about. It runs inside
// intake's write transaction, so an acknowledgement is queued in the same
// commit as the case it acknowledges.
type Responder struct {
	set Settings
	log *slog.Logger
}

// NewResponder returns a Responder.
func NewResponder(set Settings, log *slog.Logger) *Responder {
	if set.Location == nil {
		set.Location = time.UTC
	}
	return &Responder{set: set, log: log}
}

// Incoming is one committed message as the Responder sees it.
type Incoming struct {
	// Case is the message's case (nil when unfiled). The Responder may
	// change it; the caller stores it afterwards.
	Case    *store.Case
	NewCase bool
	// Message is about to be stored; the Responder sets its Answer.
	Message *store.Message
	Parsed  *message.Parsed
	Now     time.Time
}

// Outcome tells intake what the Responder did.
type Outcome struct {
	// Queued is true when a mail was queued for the sender.
	Queued bool
}

// Respond handles one committed message.
func (r *Responder) Respond(tx *store.Tx, in Incoming) (Outcome, error) {
	m := in.Message
	if classifier.Kind(m.Kind) == classifier.KindBounce {
		return r.bounce(tx, in)
	}
	if classifier.Kind(m.Kind) == classifier.KindStaff && in.Case != nil {
		return r.staffMail(tx, in)
	}
	if classifier.Kind(m.Kind) == classifier.KindOwn && in.Case != nil && r.set.Staff.SentFolder != "" &&
		m.Source.Mailbox == r.set.Staff.SentFolder {
		return r.sharedMailboxAnswer(tx, in)
	}
	if in.Case == nil {
		m.Answer = "no case: nothing to acknowledge"
		if k := classifier.Kind(m.Kind); k != classifier.KindCustomer {
			m.Answer = DecideAck(AckInput{Enabled: true, Kind: k, KindReason: m.KindReason}, r.set.Limits).Reason
		}
		return Outcome{}, nil
	}
	c := in.Case
	if in.NewCase && classifier.Kind(m.Kind) == classifier.KindCustomer {
		if err := r.assign(tx, c, m, in.Now); err != nil {
			return Outcome{}, fmt.Errorf("assign %s: %w", c.ID, err)
		}
	}
	recipient := c.Customer
	since := in.Now.Add(-r.set.Limits.Window)
	toRecipient, err := tx.AutoMailsTo(recipient, since)
	if err != nil {
		return Outcome{}, err
	}
	forCase, err := recentForCase(tx, c.ID, since)
	if err != nil {
		return Outcome{}, err
	}
	v := DecideAck(AckInput{
		Enabled:           r.set.Acknowledge,
		Kind:              classifier.Kind(m.Kind),
		KindReason:        m.KindReason,
		NewCase:           in.NewCase,
		ThreadedBy:        m.ThreadedBy,
		Recipient:         recipient,
		RecentToRecipient: toRecipient,
		RecentForCase:     forCase,
		Age:               in.Now.Sub(c.ReceivedAt),
	}, r.set.Limits)
	if !v.Send && !v.Capped {
		m.Answer = v.Reason
		return Outcome{}, nil
	}
	it, err := r.ack(tx, c, in)
	if err != nil {
		return Outcome{}, fmt.Errorf("acknowledge %s: %w", c.ID, err)
	}
	if v.Capped {
		it.Status, it.SuppressedReason = store.OutboxSuppressed, v.Reason
	}
	if err := tx.AddOutbox(it); err != nil {
		return Outcome{}, err
	}
	if v.Capped {
		m.Answer = fmt.Sprintf("acknowledgement %d suppressed: %s", it.ID, v.Reason)
		c.Events = append(c.Events, store.Event{At: in.Now, What: "ack_suppressed", Note: v.Reason})
		r.log.Warn("acknowledgement suppressed", "case", c.ID, "outbox_id", it.ID, "reason", v.Reason)
		return Outcome{}, nil
	}
	c.AckOutboxID = it.ID
	m.Answer = fmt.Sprintf("acknowledgement %d queued (%s)", it.ID, it.Language)
	c.Events = append(c.Events, store.Event{At: in.Now, What: "ack_queued", Note: fmt.Sprintf("outbox %d, legal answer due %s", it.ID, c.LegalDue)})
	return Outcome{Queued: true}, nil
}

func recentForCase(tx *store.Tx, caseID string, since time.Time) (int, error) {
	items, err := tx.OutboxOfCase(caseID)
	n := 0
	for _, it := range items {
		if it.AutoSubmitted != "" && it.Status != store.OutboxSuppressed && !it.QueuedAt.Before(since) {
			n++
		}
	}
	return n, err
}

// ack composes the acknowledgement of case c, fixing its id, Message-ID
// and every header now.
func (r *Responder) ack(tx *store.Tx, c *store.Case, in Incoming) (*store.OutboxItem, error) {
	m, p := in.Message, in.Parsed
	lang := c.Language
	due, err := calendar.ParseDate(c.LegalDue)
	if err != nil {
		return nil, fmt.Errorf("legal due of the case: %w", err)
	}
	needs := NeedsOf(m.Text, m.Attachments)
	data := templates.AckData{
		CaseID:              c.ID,
		CustomerName:        c.CustomerName,
		Subject:             c.Subject,
		ReceivedAt:          c.ReceivedAt.In(r.set.Location),
		LegalDue:            due.Start(r.set.Location),
		AnswerDays:          r.set.AnswerDays(c.Category),
		NeedProofOfPurchase: needs.ProofOfPurchase,
		NeedPhotos:          needs.Photos,
		NeedOrderNumber:     needs.OrderNumber,
		Organization:        r.set.Organization,
		PrivacyURL:          r.set.PrivacyURL,
		ReplyAddress:        r.set.From.Addr,
	}
	body, used, err := r.set.Templates.Ack(lang, data)
	if err != nil {
		return nil, err
	}
	it, err := r.customerItem(tx, c, PurposeAck, used, in.Now)
	if err != nil {
		return nil, err
	}
	it.InReplyTo, it.References = References(m.MessageID, m.InReplyTo, m.References)
	it.AutoSubmitted, it.Text, it.HTML = "auto-replied", body.Text, body.HTML
	it.ThreadIndex = r.threadIndex(c, p, in.Now)
	return it, nil
}

// newItem starts an outgoing mail queued now: its id and the Message-ID
// and envelope sender derived from it are fixed here, once. c is the case
// it belongs to (nil for a digest).
func (r *Responder) newItem(tx *store.Tx, c *store.Case, purpose string, to message.Address, now time.Time) (*store.OutboxItem, error) {
	id, err := tx.NextOutboxID()
	if err != nil {
		return nil, err
	}
	it := &store.OutboxItem{
		ID: id, Purpose: purpose, Status: store.OutboxQueued,
		MessageID: fmt.Sprintf("claimsd.%s.%d@%s", purpose, id, r.set.IDs.Domain),
		From:      r.set.From, To: to, EnvelopeFrom: r.envelopeFrom(id),
		Date: now, QueuedAt: now, NextAttemptAt: now,
	}
	if c != nil {
		it.CaseID, it.MessageID = c.ID, r.set.IDs.New(c.ID, "o"+strconv.FormatUint(id, 10))
	}
	return it, nil
}

// customerItem starts a mail to case c's customer in lang: their subject
// with the case tag, and the Outlook topic.
func (r *Responder) customerItem(tx *store.Tx, c *store.Case, purpose, lang string, now time.Time) (*store.OutboxItem, error) {
	it, err := r.newItem(tx, c, purpose, message.Address{Name: c.CustomerName, Addr: c.Customer}, now)
	if err != nil {
		return nil, err
	}
	fallback := "Reklamacja"
	if lang == "en" {
		fallback = "Your complaint"
	}
	it.Subject, it.ThreadTopic, it.Language = ReplySubject(c.Subject, caseref.Tag(c.ID), fallback), ThreadTopic(c.Subject), lang
	return it, nil
}

// threadIndex continues the customer's Outlook conversation index when
// their mail had one, else starts one for the case (DOMAIN §5: without
// Thread-Index Outlook does not group).
func (r *Responder) threadIndex(c *store.Case, p *message.Parsed, now time.Time) string {
	parent := ""
	if p != nil && p.Header != nil {
		parent = strings.TrimSpace(p.Header.Get("Thread-Index"))
	}
	if parent != "" {
		if ti, err := ReplyThreadIndex(parent, now); err == nil {
			return ti
		}
	}
	// The GUID comes from domain and case id, so two installations
	// numbering cases alike never merge conversations in one inbox.
	ti, err := ReplyThreadIndex(NewThreadIndex(r.set.IDs.Domain+"/"+c.ID, c.ReceivedAt), now)
	if err != nil {
		return ""
	}
	return ti
}

var verpB32 = base32.StdEncoding.WithPadding(base32.NoPadding)

func (r *Responder) verpMAC(id uint64) string {
	h := hmac.New(sha256.New, r.set.Key)
	fmt.Fprintf(h, "verp.%d", id)
	return strings.ToLower(verpB32.EncodeToString(h.Sum(nil)[:5]))
}

// envelopeFrom is the SMTP MAIL FROM of outbox item id: with VERP
// local+b-ID-MAC@domain, so the bounce's recipient names the item.
func (r *Responder) envelopeFrom(id uint64) string {
	from := r.set.From.Addr
	if !r.set.VERP {
		return from
	}
	local, domain, ok := strings.Cut(from, "@")
	if !ok {
		return from
	}
	return fmt.Sprintf("%s+b-%d-%s@%s", local, id, r.verpMAC(id), domain)
}

// verpItem returns the outbox item a VERP address of ours names.
func (r *Responder) verpItem(addr string) (uint64, bool) {
	local, domain, ok := strings.Cut(strings.ToLower(addr), "@")
	fromLocal, fromDomain, _ := strings.Cut(r.set.From.Addr, "@")
	if !ok || domain != fromDomain {
		return 0, false
	}
	rest, ok := strings.CutPrefix(local, fromLocal+"+b-")
	if !ok {
		return 0, false
	}
	idStr, mac, ok := strings.Cut(rest, "-")
	if !ok {
		return 0, false
	}
	id, err := strconv.ParseUint(idStr, 10, 64)
	if err != nil || !hmac.Equal([]byte(mac), []byte(r.verpMAC(id))) {
		return 0, false
	}
	return id, true
}

// bounce links a delivery failure report to the mail it is about (VERP
// address first, then the Message-ID it quotes, then its references),
// marks that mail bounced and its customer unreachable. A bounce is never
// answered.
func (r *Responder) bounce(tx *store.Tx, in Incoming) (Outcome, error) {
	m, p := in.Message, in.Parsed
	it, how, err := r.bouncedItem(tx, p)
	if err != nil {
		return Outcome{}, err
	}
	if it == nil {
		m.Answer = "bounce for no mail of ours found; not answered"
		return Outcome{}, nil
	}
	failed, detail := bounceDetail(p)
	var out Outcome
	c := in.Case
	if !failed {
		m.Answer = fmt.Sprintf("delivery delay report for outbox %d (%s): %s; not answered", it.ID, how, detail)
		if c != nil && c.ID == it.CaseID {
			c.Events = append(c.Events, store.Event{At: in.Now, What: "mail_delayed", Note: fmt.Sprintf("outbox %d: %s", it.ID, detail)})
		}
		return out, nil
	}
	old := *it
	it.Status, it.BouncedAt, it.BounceDetail = store.OutboxBounced, in.Now, detail
	if err := tx.UpdateOutbox(&old, it); err != nil {
		return Outcome{}, err
	}
	m.Answer = fmt.Sprintf("bounce of outbox %d (%s): %s; not answered", it.ID, how, detail)
	if c != nil && c.ID == it.CaseID {
		markUnreachable(c, in.Now, fmt.Sprintf("outbox %d to %s bounced: %s", it.ID, it.To.Addr, detail))
	}
	r.log.Warn("mail bounced", "outbox_id", it.ID, "case", it.CaseID, "matched_by", how, "detail", detail)
	return out, nil
}

func markUnreachable(c *store.Case, at time.Time, note string) {
	c.CustomerUnreachable, c.UnreachableNote = true, note
	c.Events = append(c.Events, store.Event{At: at, What: "customer_unreachable", Note: note})
}

// BounceCase returns the case of the mail a bounce is about, for a bounce
// that threading could not place (one that quotes nothing of the
// original, found by its VERP address).
func (r *Responder) BounceCase(tx *store.Tx, p *message.Parsed) (caseID, note string, err error) {
	it, how, err := r.bouncedItem(tx, p)
	if err != nil || it == nil || it.CaseID == "" {
		return "", "", err
	}
	// The item may outlive its case (erased on request): file nothing then.
	if _, ok, err := tx.Case(it.CaseID); err != nil || !ok {
		return "", "", err
	}
	return it.CaseID, fmt.Sprintf("bounce of outbox %d (%s)", it.ID, how), nil
}

func (r *Responder) bouncedItem(tx *store.Tx, p *message.Parsed) (*store.OutboxItem, string, error) {
	if p == nil {
		return nil, "", nil
	}
	var addrs []string
	for _, a := range p.To {
		addrs = append(addrs, a.Addr)
	}
	if p.Header != nil {
		for _, k := range []string{"Delivered-To", "X-Original-To", "Envelope-To"} {
			addrs = append(addrs, p.Header.Values(k)...)
		}
	}
	for _, a := range addrs {
		if id, ok := r.verpItem(strings.Trim(strings.TrimSpace(a), "<>")); ok {
			it, found, err := tx.Outbox(id)
			if err != nil || found {
				return &it, "verp", err
			}
		}
	}
	ids := append([]string{p.EnclosedMessageID}, p.InReplyTo...)
	ids = append(ids, p.References...)
	for _, id := range ids {
		it, found, err := tx.OutboxByMessageID(id)
		if err != nil {
			return nil, "", err
		}
		if found {
			return &it, "message_id", nil
		}
	}
	return nil, "", nil
}

// bounceDetail says whether a report is a failure (a DSN with a failed
// recipient, or a non-standard bounce) or only a delay, and summarises it.
func bounceDetail(p *message.Parsed) (failed bool, detail string) {
	if len(p.DeliveryStatus) == 0 {
		return true, "non-standard bounce: " + SafeHeaderText(p.Subject, 120)
	}
	var parts []string
	for _, rs := range p.DeliveryStatus {
		if rs.Action == "failed" || strings.HasPrefix(rs.Status, "5") {
			failed = true
		}
		s := strings.TrimSpace(rs.Recipient + " " + rs.Action + " " + rs.Status)
		if rs.Diagnostic != "" {
			s += " (" + rs.Diagnostic + ")"
		}
		parts = append(parts, s)
	}
	return failed, strings.Join(parts, "; ")
}
