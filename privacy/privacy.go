// Package privacy owns claimsd's data-protection decisions (GDPR, in
// Poland RODO; DOMAIN §3), as pure functions over values: when the personal
// data of a closed case is due for purging (the limitation period rounded
// to year end, longer for invoices), what an erasure request does to each
// case (hold it while it is handled, restrict it while a legal claim is
// possible, anonymise it after), which facts a kept case keeps, the keyed
// hash that lets a repeated request be matched without keeping the address,
// the pseudonym a restricted case carries, and redaction of an address and
// a name in text. The store applies these decisions; nothing here does I/O.
package privacy

import (
	"crypto/hmac"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"strings"
	"time"

	"github.com/claimsd/claimsd/classifier"
)

// InvoiceYears is how long invoices and their corrections are kept: five
// years from the end of the tax year (Ordynacja podatkowa art. 86 §1, VAT
// act art. 112). The tax year is taken to be the calendar year.
const InvoiceYears = 5

// Treatment is what happens to a case's personal data.
type Treatment int

const (
	// Hold: the case is still being handled, so its data is still
	// needed for the purpose it was collected for, and the law obliges us
	// to answer the complaint (art. 17(1)(a) does not apply yet, art.
	// 17(3)(b)). An erasure request waits until the case is closed.
	Hold Treatment = iota
	// Restrict: a legal claim about the case is still possible (the
	// limitation period, or the invoice period, has not ended), so what a
	// claim needs is kept (art. 17(3)(e)) and its processing restricted
	// (art. 18): the customer is replaced by a pseudonym, texts, raw mail
	// and attachments are removed.
	Restrict
	// Anonymise: nothing justifies keeping personal data any more; the
	// case keeps only figures (dates, category, decision, product) for
	// reports.
	Anonymise
)

func (t Treatment) String() string {
	switch t {
	case Hold:
		return "hold"
	case Restrict:
		return "restrict"
	case Anonymise:
		return "anonymise"
	}
	return fmt.Sprintf("treatment(%d)", int(t))
}

// CaseState is what the rules need to know of a case.
type CaseState struct {
	// Open is true while the case expects work (open, waiting, or a
	// status this release does not know).
	Open bool
	// ClosedAt is when the case got its current closing status. Cases
	// closed by a release that did not record it have it zero;
	// LastActivity (its last message) stands in then.
	ClosedAt     time.Time
	LastActivity time.Time
	// Billing is true when the case is about invoices (category billing,
	// or an invoice number among its facts): invoices are kept
	// InvoiceYears tax years, however short the limitation period.
	Billing bool
}

// Rules are the retention settings (config retention).
type Rules struct {
	// Years is the limitation period counted from the end of the year a
	// case was closed in: 6 for consumer claims, 3 for business ones (KC
	// art. 118).
	Years int
	// Location is the zone whose calendar years count.
	Location *time.Location
}

// closedYear is the calendar year the case was closed in.
func (r Rules) closedYear(c CaseState) int {
	at := c.ClosedAt
	if at.IsZero() {
		at = c.LastActivity
	}
	return at.In(r.loc()).Year()
}

func (r Rules) loc() *time.Location {
	if r.Location == nil {
		return time.UTC
	}
	return r.Location
}

func (r Rules) newYear(year int) time.Time { return time.Date(year, 1, 1, 0, 0, 0, 0, r.loc()) }

// PurgeAt is when the personal data of a closed case is due for purging:
// 1 January after the limitation period, counted from the end of the year
// it was closed in (a case closed in year Y: 1 January of Y+Years+1), or,
// for a billing case, after InvoiceYears tax years if that is later. Zero
// for an open case, which is never due.
func (r Rules) PurgeAt(c CaseState) time.Time {
	if c.Open {
		return time.Time{}
	}
	y := r.closedYear(c)
	years := r.Years
	if c.Billing && InvoiceYears > years {
		years = InvoiceYears
	}
	return r.newYear(y + years + 1)
}

// DueForPurge reports whether a closed case's raw mail, attachments and
// texts must be purged at now.
func (r Rules) DueForPurge(c CaseState, now time.Time) bool {
	return !c.Open && !now.Before(r.PurgeAt(c))
}

// Decision is what an erasure request does to one case, and why, in words
// an operator can pass on.
type Decision struct {
	Treatment Treatment
	// Until is when a restricted case will be anonymised by the retention
	// job; zero otherwise.
	Until time.Time
	Why   string
}

// OnErasure decides what an erasure request made at now does to a case of
// the person.
func (r Rules) OnErasure(c CaseState, now time.Time) Decision {
	if c.Open {
		return Decision{Treatment: Hold, Why: "still open: the complaint must be answered, which needs the address; close it first"}
	}
	at := r.PurgeAt(c)
	if !now.Before(at) {
		return Decision{Treatment: Anonymise, Why: "its retention period ended on " + at.Format(time.DateOnly)}
	}
	why := fmt.Sprintf("kept for legal claims until %s (limitation period of %d years from the end of %d)", at.Format(time.DateOnly), r.Years, r.closedYear(c))
	if c.Billing && InvoiceYears > r.Years {
		why = fmt.Sprintf("kept until %s: invoices are kept %d tax years from the end of %d", at.Format(time.DateOnly), InvoiceYears, r.closedYear(c))
	}
	return Decision{Treatment: Restrict, Until: at, Why: why}
}

// KeepFact reports whether a fact found in a complaint (classifier fact
// kinds) stays on a case treated with t. A restricted case keeps what a
// legal claim needs to identify the sale and what was claimed; an
// anonymised one only what describes the product and money, which cannot
// lead back to the person (order, invoice and serial numbers can, through
// the shop's records).
func KeepFact(kind string, t Treatment) bool {
	switch t {
	case Hold:
		return true
	case Restrict:
		switch kind {
		case classifier.FactOrderNumber, classifier.FactInvoiceNumber, classifier.FactSerialNumber,
			classifier.FactProduct, classifier.FactPurchaseDate, classifier.FactAmount:
			return true
		}
	case Anonymise:
		switch kind {
		case classifier.FactProduct, classifier.FactPurchaseDate, classifier.FactAmount:
			return true
		}
	}
	return false
}

// IsBilling reports whether a case with this category and these fact kinds
// is about invoices.
func IsBilling(category string, factKinds []string) bool {
	if category == classifier.CatBilling {
		return true
	}
	for _, k := range factKinds {
		if k == classifier.FactInvoiceNumber {
			return true
		}
	}
	return false
}

// NormaliseAddress is the form an address is compared and hashed in: the
// store keeps customers' addresses lower-case.
func NormaliseAddress(addr string) string { return strings.ToLower(strings.TrimSpace(addr)) }

// SubjectHash is the keyed hash (HMAC-SHA256 under the store's own key) of
// a person's address. The audit record of an erasure keeps it instead of
// the address: a later request for the same address can be matched, but
// nobody without the key can test guesses against the log.
func SubjectHash(key []byte, addr string) string {
	m := hmac.New(sha256.New, key)
	m.Write([]byte("claimsd gdpr subject v1\x00"))
	m.Write([]byte(NormaliseAddress(addr)))
	return hex.EncodeToString(m.Sum(nil))
}

// PseudonymDomain is the domain of pseudonyms; .invalid (RFC 2606 §2)
// never resolves, so mail addressed to a pseudonym can never be delivered.
const PseudonymDomain = "erased.invalid"

// ErasedAddress replaces the person's address in other people's records
// (a message they were copied on); ErasedText replaces their address and
// names in text. Neither links back to the person.
const (
	ErasedAddress = "erased@" + PseudonymDomain
	ErasedText    = "[erased]"
)

// Pseudonym is the customer a restricted case carries instead of the
// person's address: the same for every case of the person (so a later
// access request still finds them), and shows as restricted wherever
// cases are listed.
func Pseudonym(subjectHash string) string {
	return "restricted-" + subjectHash[:min(16, len(subjectHash))] + "@" + PseudonymDomain
}

// IsPseudonym reports whether addr is a pseudonym.
func IsPseudonym(addr string) bool {
	return strings.HasPrefix(addr, "restricted-") && strings.HasSuffix(addr, "@"+PseudonymDomain)
}
