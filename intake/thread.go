package intake

import (
	"slices"
	"time"

	"github.com/claimsd/claimsd/caseref"
	"github.com/claimsd/claimsd/classifier"
)

// ThreadedBy names the rule that placed a message (DOMAIN §5; the layers
// are tried in this order).
type ThreadedBy string

const (
	ByOurMessageID ThreadedBy = "our_message_id" // In-Reply-To/References holds an id we minted
	ByReferences   ThreadedBy = "references"     // ... or the id of a message already in a case
	BySubjectTag   ThreadedBy = "subject_tag"    // [CLM-2026-000123] from the customer or staff
	BySubject      ThreadedBy = "subject"        // same normalised subject, same sender, open case, recent
	ByNewCase      ThreadedBy = "new_case"
	ByNone         ThreadedBy = "unfiled" // automatic mail that matches no case opens none
	ByVERP         ThreadedBy = "verp"    // a bounce addressed to the VERP sender of one of our mails
)

// CaseSummary is what threading needs to know of a case.
type CaseSummary struct {
	ID            string
	Customer      string
	Open          bool
	NormSubject   string
	LastMessageAt time.Time
}

// Lookup answers threading's questions from the store.
type Lookup interface {
	// CaseOfMessageID returns the case holding the message with id.
	CaseOfMessageID(id string) (caseID string, ok bool, err error)
	Case(id string) (CaseSummary, bool, error)
	// CasesWithSubject returns the cases of customer addr whose
	// normalised subject is norm.
	CasesWithSubject(addr, norm string) ([]CaseSummary, error)
}

// ThreadInput is one message as threading sees it.
type ThreadInput struct {
	From       string // lower-case address
	Kind       classifier.Kind
	MessageID  string
	InReplyTo  []string
	References []string
	// EnclosedMessageID is the original's id inside a bounce.
	EnclosedMessageID string
	Subject           string
	NormSubject       string
	ReceivedAt        time.Time
}

// ThreadRules are the settings threading depends on.
type ThreadRules struct {
	Tags          caseref.TagMatcher
	OurIDs        caseref.MessageIDs
	SubjectWindow time.Duration
	IsStaff       func(addr string) bool
}

// Decision is where a message goes and why.
type Decision struct {
	CaseID string // "" for a new case or none
	By     ThreadedBy
	Note   string
}

// Thread decides which case a message belongs to. It reads only through
// look and changes nothing.
func Thread(in ThreadInput, r ThreadRules, look Lookup) (Decision, error) {
	// Most specific first: the newest reference is the direct parent
	// (RFC 5322 §3.6.4), so In-Reply-To, then References from the end.
	refs := make([]string, 0, len(in.InReplyTo)+len(in.References)+1)
	refs = append(refs, in.InReplyTo...)
	for _, ref := range slices.Backward(in.References) {
		refs = append(refs, ref)
	}
	if in.EnclosedMessageID != "" {
		refs = append(refs, in.EnclosedMessageID)
	}
	// 1. ids we minted carry their case, signed: they thread even when the
	// customer's client dropped everything else.
	for _, ref := range refs {
		if id, ok := r.OurIDs.CaseOf(ref); ok {
			if _, exists, err := look.Case(id); err != nil {
				return Decision{}, err
			} else if exists {
				return Decision{CaseID: id, By: ByOurMessageID, Note: "references " + ref}, nil
			}
		}
	}
	// 2. any message we already hold.
	for _, ref := range refs {
		id, ok, err := look.CaseOfMessageID(ref)
		if err != nil {
			return Decision{}, err
		}
		if ok {
			return Decision{CaseID: id, By: ByReferences, Note: "references " + ref}, nil
		}
	}
	var note string
	// 3. a case tag, but only from the case's customer or staff: anyone
	// else could otherwise write into someone else's case (DOMAIN §5).
	for _, id := range r.Tags.Find(in.Subject) {
		c, ok, err := look.Case(id)
		if err != nil {
			return Decision{}, err
		}
		if !ok {
			note = "tag " + id + " names no case"
			continue
		}
		if c.Customer == in.From || (r.IsStaff != nil && r.IsStaff(in.From)) {
			return Decision{CaseID: id, By: BySubjectTag, Note: "tag " + id}, nil
		}
		note = "tag " + id + " ignored: sender is neither the case's customer nor staff"
	}
	// 4. a customer writing again about the same thing, without any
	// reference: Outlook "Odp:" replies often lack References.
	if in.Kind == classifier.KindCustomer && in.NormSubject != "" && in.From != "" {
		cases, err := look.CasesWithSubject(in.From, in.NormSubject)
		if err != nil {
			return Decision{}, err
		}
		var best *CaseSummary
		for i, c := range cases {
			if !c.Open {
				continue
			}
			if r.SubjectWindow > 0 && in.ReceivedAt.Sub(c.LastMessageAt) > r.SubjectWindow {
				continue
			}
			if best == nil || c.LastMessageAt.After(best.LastMessageAt) {
				best = &cases[i]
			}
		}
		if best != nil {
			return Decision{CaseID: best.ID, By: BySubject, Note: joinNote(note, "subject \""+in.NormSubject+"\"")}, nil
		}
	}
	if in.Kind == classifier.KindCustomer {
		return Decision{By: ByNewCase, Note: note}, nil
	}
	return Decision{By: ByNone, Note: joinNote(note, string(in.Kind)+" mail matching no case")}, nil
}

func joinNote(a, b string) string {
	if a == "" {
		return b
	}
	return a + "; " + b
}
