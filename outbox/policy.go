package outbox

import (
	"fmt"
	"regexp"
	"strings"
	"time"

	"github.com/claimsd/claimsd/classifier"
	"github.com/claimsd/claimsd/message"
)

// Limits cap automatic mail (DOMAIN §4: other helpdesks cap at e.g. 10 per
// 3 h per customer): even if every other rule failed, a loop or a mail
// bomb could not make claimsd send more than this.
type Limits struct {
	MaxPerRecipient int
	MaxPerCase      int
	Window          time.Duration
	// MaxAge: complaints received longer ago than this get no
	// acknowledgement (a first start on a mailbox with months of mail
	// must not answer all of it); 0 means no limit.
	MaxAge time.Duration
}

// AckInput is what the decision to acknowledge a message looks at.
type AckInput struct {
	Enabled    bool // acknowledgements are turned on
	Kind       classifier.Kind
	KindReason string
	// NewCase is true when the message opened a case. A message that
	// joined a case (a reply in the thread) is never acknowledged again.
	NewCase    bool
	ThreadedBy string
	Recipient  string
	// Automatic mails queued (not suppressed) within the window, to the
	// recipient and for the case.
	RecentToRecipient int
	RecentForCase     int
	// Age is how long ago the complaint was received; MaxAge in Limits.
	Age time.Duration
}

// Verdict is the outcome of DecideAck.
type Verdict struct {
	Send bool
	// Capped is true when a rate cap stopped a mail that would otherwise
	// have gone out: it is kept in the outbox as suppressed, so the stop
	// is visible in `outbox list`.
	Capped bool
	Reason string
}

// DecideAck says whether a committed message gets an acknowledgement, and
// why (or why not). It is pure; every "no" has a reason that is recorded on
// the message.
func DecideAck(in AckInput, l Limits) Verdict {
	switch {
	case !in.Enabled:
		return Verdict{Reason: "acknowledgements are turned off (auto_mail.acknowledge)"}
	case in.Kind != classifier.KindCustomer:
		// RFC 3834 §2: never answer automatic mail, bounces, lists, our
		// own mail; staff mail is not a complaint.
		return Verdict{Reason: fmt.Sprintf("no acknowledgement to %s mail (%s)", in.Kind, in.KindReason)}
	case !in.NewCase:
		return Verdict{Reason: fmt.Sprintf("joined an existing case (%s); a case is acknowledged once", in.ThreadedBy)}
	case in.Recipient == "":
		return Verdict{Reason: "no address to answer"}
	case l.MaxAge > 0 && in.Age > l.MaxAge:
		return Verdict{Reason: fmt.Sprintf("received %s ago, more than %s (auto_mail.max_age)", in.Age.Round(time.Minute), l.MaxAge)}
	case in.RecentToRecipient >= l.MaxPerRecipient:
		return Verdict{Capped: true, Reason: fmt.Sprintf("rate cap: %d automatic mails to %s within %s (auto_mail.max_per_recipient)",
			in.RecentToRecipient, in.Recipient, l.Window)}
	case in.RecentForCase >= l.MaxPerCase:
		return Verdict{Capped: true, Reason: fmt.Sprintf("rate cap: %d automatic mails for the case within %s (auto_mail.max_per_case)",
			in.RecentForCase, l.Window)}
	}
	return Verdict{Send: true, Reason: "new complaint"}
}

// replyPrefix matches the reply and forward prefixes of DOMAIN §5 at the
// start of a subject, with Outlook's "Re[2]:" counters.
var replyPrefix = regexp.MustCompile(`(?i)^\s*(re|res|aw|sv|antw|odp|r|rif|ref|vs|fwd|fw|pd|wg|tr|rv|enc|vb|i)(\[\d+\]|\(\d+\))?\s*:\s*`)

// caseTag matches a case tag of any prefix, e.g. [CLM-2026-000123].
var caseTag = regexp.MustCompile(`(?i)\s*\[[a-z0-9]{2,10}-\d{4}-\d+\]`)

// stripReplyPrefixes removes leading reply and forward prefixes.
func stripReplyPrefixes(s string) string {
	for range 20 {
		loc := replyPrefix.FindStringIndex(s)
		if loc == nil {
			break
		}
		s = s[loc[1]:]
	}
	return strings.TrimSpace(s)
}

// ReplySubject is the subject of our answer in a case: the customer's
// subject (so their client threads it) with the case tag after it (Gmail
// threads on the subject text before a trailing tag), behind one "Re:".
// fallback is used when the customer's subject is empty.
func ReplySubject(customerSubject, tag, fallback string) string {
	base := stripReplyPrefixes(SafeHeaderText(customerSubject, maxSubject))
	// Tags of other cases go: a subject naming two cases would thread by
	// whichever a later reader finds first.
	base = stripReplyPrefixes(strings.TrimSpace(caseTag.ReplaceAllStringFunc(base, func(t string) string {
		if strings.EqualFold(strings.TrimSpace(t), tag) {
			return t
		}
		return ""
	})))
	if base == "" {
		base = fallback
	}
	if !strings.Contains(strings.ToUpper(base), strings.ToUpper(tag)) {
		base += " " + tag
	}
	return "Re: " + base
}

// maxSubject bounds the subject we write; a customer's subject can be
// longer than any client shows.
const maxSubject = 250

// ThreadTopic is the Thread-Topic Outlook expects: the subject without
// prefixes.
func ThreadTopic(customerSubject string) string {
	return stripReplyPrefixes(SafeHeaderText(customerSubject, maxSubject))
}

// References builds the threading headers of a reply to a message with id,
// inReplyTo and refs (RFC 5322 §3.6.4): In-Reply-To is the parent's id;
// References the parent's References (or else its In-Reply-To) plus the
// parent's id. Ids that could carry anything but an id are dropped.
func References(id string, inReplyTo, refs []string) (string, []string) {
	var chain []string
	switch {
	case len(refs) > 0:
		chain = append(chain, refs...)
	case len(inReplyTo) == 1:
		chain = append(chain, inReplyTo...)
	}
	if id != "" {
		chain = append(chain, id)
	}
	out := chain[:0:0]
	for _, r := range chain {
		if ValidMessageID(r) {
			out = append(out, r)
		}
	}
	if !ValidMessageID(id) {
		id = ""
	}
	return id, out
}

// Needs is what an acknowledgement asks the customer to send.
type Needs struct {
	ProofOfPurchase, Photos, OrderNumber bool
}

// Words near which a run of digits is an order number, and words that
// mention a proof of purchase; matched in lower case. Plain string search:
// this runs for every new complaint, inside the intake commit.
var (
	orderWords = []string{"zamówieni", "zamowieni", "order", "nr", "numer", "no.", "#"}
	proofWords = []string{"paragon", "faktur", "rachun", "dowód zakupu", "dowodu zakupu", "dowod zakupu", "receipt", "invoice"}
)

// hasOrderNumber reports whether an order word is followed, within a few
// characters, by a number of at least four digits (optionally after a
// short letter prefix: "ZAM-12345").
func hasOrderNumber(lower string) bool {
	for _, w := range orderWords {
		for rest := lower; ; {
			i := strings.Index(rest, w)
			if i < 0 {
				break
			}
			rest = rest[i+len(w):]
			window := rest[:min(len(rest), 30)]
			run := 0
			for j := 0; j < len(window); j++ {
				if window[j] >= '0' && window[j] <= '9' {
					if run++; run >= 4 {
						return true
					}
				} else {
					run = 0
				}
			}
		}
	}
	return false
}

func mentionsProof(lower string) bool {
	for _, w := range proofWords {
		if strings.Contains(lower, w) {
			return true
		}
	}
	return false
}

// NeedsOf guesses from a complaint what it lacks: photos of the defect
// (no image attached), an order number (none written), a proof of purchase
// (no PDF or image attached and none mentioned). A wrong guess costs one
// line of the acknowledgement, so the rules stay simple.
func NeedsOf(text string, atts []message.Attachment) Needs {
	var images, docs int
	for _, a := range atts {
		switch {
		case strings.HasPrefix(a.ContentType, "image/") && !(a.Inline && a.Size < 20<<10):
			// small inline images are logos in signatures
			images++
		case a.ContentType == "application/pdf":
			docs++
		}
	}
	lower := strings.ToLower(text[:min(len(text), 16<<10)])
	return Needs{
		Photos:          images == 0,
		OrderNumber:     !hasOrderNumber(lower),
		ProofOfPurchase: docs == 0 && images == 0 && !mentionsProof(lower),
	}
}
