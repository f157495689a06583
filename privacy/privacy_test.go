package privacy

import (
	"strings"
	"testing"
	"time"

	"github.com/claimsd/claimsd/classifier"
)

func warsaw(t *testing.T) *time.Location {
	t.Helper()
	loc, err := time.LoadLocation("Europe/Warsaw")
	if err != nil {
		t.Fatal(err)
	}
	return loc
}

func TestPurgeAt(t *testing.T) {
	loc := warsaw(t)
	at := func(s string) time.Time {
		v, err := time.ParseInLocation("2006-01-02 15:04", s, loc)
		if err != nil {
			t.Fatal(err)
		}
		return v
	}
	tests := []struct {
		name  string
		years int
		c     CaseState
		want  string // date in Warsaw; "" for never
	}{
		{"consumer claim: end of the closing year plus 6", 6, CaseState{ClosedAt: at("2026-03-02 10:00")}, "2033-01-01"},
		{"business claim: plus 3", 3, CaseState{ClosedAt: at("2026-03-02 10:00")}, "2030-01-01"},
		{"closed on the last evening of the year", 6, CaseState{ClosedAt: at("2026-12-31 23:30")}, "2033-01-01"},
		// 00:30 on 1 January in Warsaw is still 31 December in UTC: the
		// configured zone's year counts.
		{"closed just after midnight on New Year", 6, CaseState{ClosedAt: at("2027-01-01 00:30")}, "2034-01-01"},
		{"no closing time recorded: the last message counts", 6, CaseState{LastActivity: at("2020-05-05 12:00")}, "2027-01-01"},
		{"billing, invoices outlive a short limitation period", 3, CaseState{ClosedAt: at("2026-03-02 10:00"), Billing: true}, "2032-01-01"},
		{"billing, limitation period longer than the invoices'", 6, CaseState{ClosedAt: at("2026-03-02 10:00"), Billing: true}, "2033-01-01"},
		{"open case: never due", 6, CaseState{Open: true, ClosedAt: at("2020-01-01 10:00")}, ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r := Rules{Years: tt.years, Location: loc}
			got := r.PurgeAt(tt.c)
			if tt.want == "" {
				if !got.IsZero() {
					t.Errorf("PurgeAt = %v, want never", got)
				}
				return
			}
			if s := got.In(loc).Format("2006-01-02 15:04"); s != tt.want+" 00:00" {
				t.Errorf("PurgeAt = %s, want %s 00:00", s, tt.want)
			}
			if r.DueForPurge(tt.c, got.Add(-time.Second)) || !r.DueForPurge(tt.c, got) {
				t.Errorf("DueForPurge does not switch at %v", got)
			}
		})
	}
}

func TestOnErasure(t *testing.T) {
	loc := warsaw(t)
	r := Rules{Years: 6, Location: loc}
	now := time.Date(2027, 5, 10, 12, 0, 0, 0, loc)
	tests := []struct {
		name string
		c    CaseState
		want Treatment
		why  string
	}{
		{"open case is held", CaseState{Open: true}, Hold, "still open"},
		{"closed last year: restricted", CaseState{ClosedAt: time.Date(2026, 3, 1, 0, 0, 0, 0, loc)}, Restrict, "until 2033-01-01"},
		{"closed in 2021: restricted until the end of 2027", CaseState{ClosedAt: time.Date(2021, 1, 1, 1, 0, 0, 0, loc)}, Restrict, "until 2028-01-01"},
		{"closed at the end of 2020: period over on 1 January", CaseState{ClosedAt: time.Date(2020, 12, 31, 23, 0, 0, 0, loc)}, Anonymise, "ended on 2027-01-01"},
		{"long closed: anonymised", CaseState{ClosedAt: time.Date(2012, 6, 1, 0, 0, 0, 0, loc)}, Anonymise, "ended on 2019-01-01"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			d := r.OnErasure(tt.c, now)
			if d.Treatment != tt.want || !strings.Contains(d.Why, tt.why) {
				t.Errorf("OnErasure = %v (%s), want %v with %q", d.Treatment, d.Why, tt.want, tt.why)
			}
			if (d.Treatment == Restrict) != !d.Until.IsZero() {
				t.Errorf("Until = %v for %v", d.Until, d.Treatment)
			}
		})
	}
	short := Rules{Years: 3, Location: loc}
	if d := short.OnErasure(CaseState{ClosedAt: time.Date(2023, 6, 1, 0, 0, 0, 0, loc), Billing: true}, now); d.Treatment != Restrict || !strings.Contains(d.Why, "invoices are kept 5 tax years") {
		t.Errorf("billing case past its limitation period but within the invoice period: %v (%s)", d.Treatment, d.Why)
	}
}

func TestKeepFact(t *testing.T) {
	tests := []struct {
		kind                string
		restrict, anonymise bool
	}{
		{classifier.FactOrderNumber, true, false},
		{classifier.FactInvoiceNumber, true, false},
		{classifier.FactSerialNumber, true, false},
		{classifier.FactProduct, true, true},
		{classifier.FactPurchaseDate, true, true},
		{classifier.FactAmount, true, true},
		{"phone_number", false, false}, // a kind this release does not know is not kept
	}
	for _, tt := range tests {
		if got := KeepFact(tt.kind, Restrict); got != tt.restrict {
			t.Errorf("KeepFact(%s, restrict) = %v", tt.kind, got)
		}
		if got := KeepFact(tt.kind, Anonymise); got != tt.anonymise {
			t.Errorf("KeepFact(%s, anonymise) = %v", tt.kind, got)
		}
		if !KeepFact(tt.kind, Hold) {
			t.Errorf("KeepFact(%s, hold) = false", tt.kind)
		}
	}
	for _, tt := range []struct {
		category string
		facts    []string
		want     bool
	}{
		{"billing", nil, true},
		{"repair", []string{classifier.FactInvoiceNumber}, true},
		{"repair", []string{classifier.FactOrderNumber}, false},
	} {
		if got := IsBilling(tt.category, tt.facts); got != tt.want {
			t.Errorf("IsBilling(%s, %v) = %v", tt.category, tt.facts, got)
		}
	}
}

func TestSubjectHashAndPseudonym(t *testing.T) {
	key := []byte("0123456789abcdef0123456789abcdef")
	h := SubjectHash(key, " Jan.Kowalski@Example.PL ")
	if h != SubjectHash(key, "jan.kowalski@example.pl") {
		t.Error("the hash depends on case or spaces")
	}
	if h == SubjectHash([]byte("another key"), "jan.kowalski@example.pl") {
		t.Error("the hash does not depend on the key")
	}
	if len(h) != 64 || strings.Contains(h, "kowalski") {
		t.Errorf("hash %q", h)
	}
	p := Pseudonym(h)
	if p != "restricted-"+h[:16]+"@erased.invalid" || !IsPseudonym(p) || IsPseudonym("jan@example.pl") {
		t.Errorf("pseudonym %q", p)
	}
}

func TestRedactor(t *testing.T) {
	r := NewRedactor("[X]", "Jan.Kowalski@example.PL", "Jan Kowalski", "Łucja O'Brien", "Jo", "", "  ")
	tests := []struct{ in, want string }{
		{"From: Jan Kowalski <jan.kowalski@example.pl>", "From: [X] <[X]>"},
		{"JAN.KOWALSKI@EXAMPLE.PL wrote", "[X] wrote"},
		{"jan  kowalski", "jan  kowalski"}, // names are matched as written, spaces normalised only in the needle
		{"Dear ŁUCJA O'BRIEN,", "Dear [X],"},
		{"<p>Łucja O&#39;Brien</p>", "<p>[X]</p>"},                                                        // as HTML writes it
		{`{"name":"Jan Kowalski \u003cjan.kowalski@example.pl\u003e"}`, `{"name":"[X] \u003c[X]\u003e"}`}, // as JSON writes it
		{"Jolanta and Joanna", "Jolanta and Joanna"},                                                      // too short a name is not redacted
		{"nothing here", "nothing here"},
	}
	for _, tt := range tests {
		if got := r.String(tt.in); got != tt.want {
			t.Errorf("String(%q) = %q, want %q", tt.in, got, tt.want)
		}
		if got := r.Mentions([]byte(tt.in)); got != (tt.in != tt.want) {
			t.Errorf("Mentions(%q) = %v", tt.in, got)
		}
	}
	// An ASCII address alone takes the fast path of Mentions.
	ascii := NewRedactor("[X]", "jan@example.pl")
	for in, want := range map[string]bool{"JAN@Example.PL": true, "Zażółć: jan@example.pl.": true, "jan@example": false, "": false} {
		if got := ascii.Mentions([]byte(in)); got != want {
			t.Errorf("ASCII Mentions(%q) = %v", in, got)
		}
	}
	if empty := NewRedactor("[X]", ""); empty.Mentions([]byte("anything")) || empty.String("a") != "a" {
		t.Error("an empty redactor changes text")
	}
}
