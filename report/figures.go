// Package report owns the report figures of the claims desk and their
// rendering: how many cases were opened and closed in a period, how many
// legal and first-answer deadlines were met, how long first answers took in
// working hours, the backlog by age, breakdowns by category, remedy,
// product and specialist, and defects that come back (the same product or
// serial number in several cases). A Builder makes the figures out of
// cases given one at a time, holding only what the figures need, so that
// a report over the whole store does not hold the store; Compute does the
// same over a slice. Text, CSV, JSON, XLSX and Chart render the result.
// Reading the store and mailing the report belong to the callers
// (cmd/claimsd, outbox).
package report

import (
	"cmp"
	"errors"
	"fmt"
	"math"
	"slices"
	"strings"
	"time"

	"github.com/claimsd/claimsd/calendar"
	"github.com/claimsd/claimsd/classifier"
	"github.com/claimsd/claimsd/store"
)

// Case is what the figures need of a case.
type Case struct {
	ID       string
	Status   string
	Category string
	Remedy   string
	Assignee string
	// MergedInto is set on a case merged into another: a duplicate, left
	// out of every figure.
	MergedInto string
	ReceivedAt time.Time
	// ClosedAt is when the case got its current closing status (zero
	// while it is open).
	ClosedAt time.Time
	// LegalDue is the statutory answer date; LegalAnsweredAt when the
	// case first got a closing status or an answer with a decision.
	LegalDue        calendar.Date
	LegalAnsweredAt time.Time
	// FirstAnswerDue is the first-answer deadline after any pauses (zero
	// while paused, or for a case held to none); FirstAnsweredAt the
	// first staff answer.
	FirstAnswerDue  time.Time
	FirstAnsweredAt time.Time
	// Products and Serials are the classifier's facts of those kinds
	// (product names, SKU, EAN and model codes; serial numbers).
	Products []string
	Serials  []string
}

// FromStore takes what the figures need from a stored case.
func FromStore(c store.Case) Case {
	v := Case{
		ID: c.ID, Status: c.Status, Category: c.Category, Remedy: c.Remedy, Assignee: c.Assignee,
		MergedInto: c.MergedInto, ReceivedAt: c.ReceivedAt, ClosedAt: c.ClosedAt,
		LegalAnsweredAt: c.LegalAnsweredAt, FirstAnswerDue: c.FirstAnswerDue, FirstAnsweredAt: c.FirstAnsweredAt,
	}
	if d, err := calendar.ParseDate(c.LegalDue); err == nil {
		v.LegalDue = d
	}
	if c.Classification != nil {
		for _, f := range c.Classification.Facts {
			switch f.Kind {
			case classifier.FactProduct:
				v.Products = append(v.Products, f.Value)
			case classifier.FactSerialNumber:
				v.Serials = append(v.Serials, f.Value)
			}
		}
	}
	return v
}

// Period is a span of whole days in the configured zone, both ends
// included.
type Period struct {
	From, To calendar.Date
}

// maxPeriodDays bounds a period: ten years is every report anyone asks for,
// and a typo such as 20260-01-01 should fail rather than loop.
const maxPeriodDays = 3660

// Check reports whether p is a period a report can be made of.
func (p Period) Check() error {
	switch {
	case p.From.IsZero() || p.To.IsZero():
		return errors.New("the period needs both a first and a last day")
	case p.To.Before(p.From):
		return fmt.Errorf("the period ends (%s) before it starts (%s)", p.To, p.From)
	case p.From.AddDays(maxPeriodDays).Before(p.To):
		return fmt.Errorf("the period %s to %s is longer than %d days", p.From, p.To, maxPeriodDays)
	}
	return nil
}

// Bounds returns the period as instants in loc: [start, end), end being
// midnight after the last day.
func (p Period) Bounds(loc *time.Location) (start, end time.Time) {
	return p.From.Start(loc), p.To.AddDays(1).Start(loc)
}

// String is "2026-03-02 – 2026-03-08".
func (p Period) String() string { return p.From.String() + " – " + p.To.String() }

// LastFullWeek is the last Monday-to-Sunday week in loc that ended before
// t: on Monday 9 March 2026 (any hour) it is 2–8 March; on Sunday 8 March
// it is 23 February – 1 March, since that Sunday's week is not over.
func LastFullWeek(t time.Time, loc *time.Location) Period {
	d := calendar.DateOf(t, loc)
	monday := d.AddDays(-((int(d.Weekday()) + 6) % 7))
	return Period{From: monday.AddDays(-7), To: monday.AddDays(-1)}
}

// Settings are what Compute needs besides the cases.
type Settings struct {
	// Calendar (required) gives the zone, holidays and closure days;
	// Hours the working hours the time to first answer is counted in.
	Calendar *calendar.Calendar
	Hours    calendar.Hours
	// Names are the display names of specialists by the value cases
	// carry as assignee (their address); others are shown as they are.
	Names map[string]string
}

// Figures are the report of one period. Counts refer to the period unless
// named otherwise; the backlog is taken at AsOf.
type Figures struct {
	From calendar.Date `json:"from"`
	To   calendar.Date `json:"to"`
	// AsOf is the end of the period, or the moment the report was made
	// when that is earlier (a report of the running week).
	AsOf time.Time `json:"as_of"`
	// Opened: cases received in the period; Closed: cases that got their
	// current closing status in it.
	Opened int `json:"opened"`
	Closed int `json:"closed"`
	// Legal: the legal deadlines (due dates) that fell in the period;
	// FirstAnswer: the first-answer deadlines that fell in it.
	Legal       Deadlines `json:"legal"`
	FirstAnswer Deadlines `json:"first_answer"`
	// TimeToFirstAnswer: working time from receipt to the first answer of
	// the cases first answered in the period.
	TimeToFirstAnswer AnswerTimes `json:"time_to_first_answer"`
	Backlog           Backlog     `json:"backlog"`
	ByCategory        []Row       `json:"by_category"`
	ByRemedy          []Row       `json:"by_remedy"`
	ByProduct         []Row       `json:"by_product"`
	BySpecialist      []Row       `json:"by_specialist"`
	// RepeatDefects are products and serial numbers named in more than
	// one case, at least one of them received in the period.
	RepeatDefects []Repeat `json:"repeat_defects"`
	// Merged counts the merged cases left out (duplicates of others).
	Merged int `json:"merged_excluded"`
}

// Deadlines counts the deadlines of one kind that fell in the period.
type Deadlines struct {
	Due int `json:"due"`
	// Met: answered by the deadline. Missed: answered later, or not
	// answered when it passed. Pending: not answered yet and not passed
	// at AsOf (only in a report of the running week).
	Met     int `json:"met"`
	Missed  int `json:"missed"`
	Pending int `json:"pending"`
	// OnTime is Met / (Met + Missed), rounded to 4 decimals; 0 when
	// nothing was decided (Met + Missed == 0).
	OnTime float64 `json:"on_time_ratio"`
}

// Decided is how many of the deadlines are met or missed.
func (d Deadlines) Decided() int { return d.Met + d.Missed }

// AnswerTimes summarises times to first answer, in working hours rounded
// to 2 decimals. Percentiles are nearest-rank: the p-th of n sorted values
// is the one at rank ceil(p/100 × n), so every figure is a real case's.
type AnswerTimes struct {
	Answered    int     `json:"answered"`
	MedianHours float64 `json:"median_hours"`
	P90Hours    float64 `json:"p90_hours"`
}

// Backlog is the cases open at AsOf.
type Backlog struct {
	Open int `json:"open"`
	// LegalOverdue: of them, past their legal due date.
	LegalOverdue int `json:"legal_overdue"`
	// Ages: by calendar days since receipt, youngest first.
	Ages []AgeBucket `json:"ages"`
}

// AgeBucket is the open cases of an age range.
type AgeBucket struct {
	// Days is the range, "0-3" or "31+".
	Days  string `json:"days"`
	Count int    `json:"count"`
}

// ageRange is one bucket of the backlog's ages, in calendar days; max < 0
// has no upper bound.
type ageRange struct {
	label    string
	min, max int
}

// ageRanges are the backlog's buckets: the legal answer period is 14 days,
// so the third holds the cases nearing it and the later ones late cases.
func ageRanges() []ageRange {
	return []ageRange{{"0-3", 0, 3}, {"4-7", 4, 7}, {"8-14", 8, 14}, {"15-30", 15, 30}, {"31+", 31, -1}}
}

// Row is one value of a breakdown (a category, a specialist...). Key ""
// means none (uncategorised, unassigned, no product named).
type Row struct {
	Key string `json:"key"`
	// Name is the specialist's name when known.
	Name              string  `json:"name,omitempty"`
	Opened            int     `json:"opened"`
	Closed            int     `json:"closed"`
	Open              int     `json:"open"`
	LegalMet          int     `json:"legal_met"`
	LegalMissed       int     `json:"legal_missed"`
	FirstAnswerMet    int     `json:"first_answer_met"`
	FirstAnswerMissed int     `json:"first_answer_missed"`
	Answered          int     `json:"answered"`
	MedianHours       float64 `json:"median_first_answer_hours"`
}

// Repeat is a product or serial number named in several cases.
type Repeat struct {
	// Kind is "product" (names, SKU, EAN and model codes) or
	// "serial_number".
	Kind string `json:"kind"`
	// Value as first written; values are matched ignoring case and
	// spacing.
	Value string `json:"value"`
	// Cases are every case naming it, oldest first; InPeriod how many of
	// them were received in the period.
	Cases    []string `json:"cases"`
	InPeriod int      `json:"in_period"`
}

// Kinds of Repeat.
const (
	RepeatProduct = classifier.FactProduct
	RepeatSerial  = classifier.FactSerialNumber
)

// caseFacts is what one case contributes to the figures, decided once.
type caseFacts struct {
	opened   bool // received in the period
	closed   bool // closed in the period
	open     bool // open at AsOf
	legal    outcome
	first    outcome
	answered bool          // first answered in the period
	took     time.Duration // working time to that answer
}

// contributes reports whether the case counts anywhere in the period's
// figures (the breakdowns leave out the others).
func (cf caseFacts) contributes() bool {
	return cf.opened || cf.closed || cf.open || cf.legal != notInPeriod || cf.first != notInPeriod || cf.answered
}

// outcome is a deadline's fate in the report.
type outcome int

const (
	notInPeriod outcome = iota
	met
	missed
	pending
)

// Builder makes the figures of one period out of cases given one at a
// time, so that a report over the whole store holds what the figures need
// rather than every case: counters, the times to first answer of the cases
// answered in the period, the breakdown rows of the cases that count in it
// and, for repeat defects, the case ids of every product and serial number
// named up to the period's end. The order the cases come in matters only
// to how a breakdown key is spelt (as first written).
type Builder struct {
	set              Settings
	loc              *time.Location
	start, end, asOf time.Time
	today            calendar.Date // the date of asOf
	f                Figures
	times            []time.Duration
	ageRanges        []ageRange
	ages             []AgeBucket // the open cases by ageRanges
	byCategory       breakdown
	byRemedy         breakdown
	byProduct        breakdown
	bySpecialist     breakdown
	repeats          map[repeatKey]*repeatGroup
}

// NewBuilder starts the figures of period p seen at now.
//
// A case reopened after AsOf counts as open at AsOf (cases keep their
// current closing time, not the history of their statuses).
func NewBuilder(p Period, set Settings, now time.Time) *Builder {
	loc := set.Calendar.Location()
	start, end := p.Bounds(loc)
	asOf := end
	if now.Before(end) {
		asOf = now
	}
	b := &Builder{
		set: set, loc: loc, start: start, end: end, asOf: asOf, today: calendar.DateOf(asOf, loc),
		f:            Figures{From: p.From, To: p.To, AsOf: asOf.In(loc)},
		ageRanges:    ageRanges(),
		byCategory:   newBreakdown(nil),
		byRemedy:     newBreakdown(nil),
		byProduct:    newBreakdown(nil),
		bySpecialist: newBreakdown(set.Names),
		repeats:      map[repeatKey]*repeatGroup{},
	}
	for _, r := range b.ageRanges {
		b.ages = append(b.ages, AgeBucket{Days: r.label})
	}
	return b
}

// Add counts case c in the figures. Of c it keeps at most the spellings
// of its breakdown keys when they are new and, when it names a product or
// serial number, its id and time of receipt (for repeat defects).
func (b *Builder) Add(c Case) { b.add(&c) }

// add is Add without copying c, which it neither changes nor keeps.
func (b *Builder) add(c *Case) {
	if c.MergedInto != "" {
		if !c.ReceivedAt.Before(b.start) && c.ReceivedAt.Before(b.end) {
			b.f.Merged++
		}
		return
	}
	cf := judge(c, b.start, b.end, b.asOf, b.set)
	if cf.opened {
		b.f.Opened++
	}
	if cf.closed {
		b.f.Closed++
	}
	count(&b.f.Legal, cf.legal)
	count(&b.f.FirstAnswer, cf.first)
	if cf.answered {
		b.times = append(b.times, cf.took)
	}
	if cf.open {
		b.f.Backlog.Open++
		if !c.LegalDue.IsZero() && c.LegalDue.Before(b.today) {
			b.f.Backlog.LegalOverdue++
		}
		b.countAge(c.ReceivedAt)
	}
	if cf.contributes() {
		b.byCategory.add(cf, c.Category)
		b.byRemedy.add(cf, c.Remedy)
		b.byProduct.add(cf, distinct(c.Products)...)
		b.bySpecialist.add(cf, c.Assignee)
	}
	if len(c.Products)+len(c.Serials) > 0 && c.ReceivedAt.Before(b.end) {
		b.addNamed(c)
	}
}

// Figures returns the figures of the cases added so far. The builder can
// take more cases afterwards.
func (b *Builder) Figures() Figures {
	f := b.f
	f.Legal.OnTime, f.FirstAnswer.OnTime = ratio(f.Legal), ratio(f.FirstAnswer)
	f.TimeToFirstAnswer = summarise(b.times)
	f.Backlog.Ages = slices.Clone(b.ages)
	f.ByCategory = b.byCategory.rows()
	f.ByRemedy = b.byRemedy.rows()
	f.ByProduct = b.byProduct.rows()
	f.BySpecialist = b.bySpecialist.rows()
	f.RepeatDefects = b.repeatRows()
	return f
}

// Compute makes the figures of period p from cases at now. It is pure: the
// same cases, period, settings and now give the same figures.
func Compute(cases []Case, p Period, set Settings, now time.Time) Figures {
	b := NewBuilder(p, set, now)
	for i := range cases {
		b.add(&cases[i])
	}
	return b.Figures()
}

// judge decides what case c contributes to the period [start, end) seen
// at asOf.
func judge(c *Case, start, end, asOf time.Time, set Settings) caseFacts {
	loc := set.Calendar.Location()
	in := func(t time.Time) bool { return !t.IsZero() && !t.Before(start) && t.Before(end) }
	cf := caseFacts{opened: in(c.ReceivedAt), closed: in(c.ClosedAt) && store.IsClosingStatus(c.Status)}
	cf.open = !c.ReceivedAt.After(asOf) &&
		(store.IsOpenStatus(c.Status) || c.ClosedAt.After(asOf))
	if !c.LegalDue.IsZero() {
		// The legal deadline runs to the end of its due date (DOMAIN §1).
		due := c.LegalDue.End(loc)
		if in(due) {
			cf.legal = decide(c.LegalAnsweredAt, due, asOf)
		}
	}
	answer := firstAnswer(c)
	if in(c.FirstAnswerDue) {
		cf.first = decide(answer, c.FirstAnswerDue, asOf)
	}
	if in(answer) && !answer.After(asOf) {
		cf.answered = true
		cf.took = set.Calendar.WorkingTimeBetween(c.ReceivedAt, answer, set.Hours)
	}
	return cf
}

// firstAnswer is the case's first answer: the first staff answer, or the
// legal answer (a closing status) when that came first or alone, since a
// case closed without a mail of ours was answered too.
func firstAnswer(c *Case) time.Time {
	a, b := c.FirstAnsweredAt, c.LegalAnsweredAt
	switch {
	case a.IsZero():
		return b
	case b.IsZero() || a.Before(b):
		return a
	}
	return b
}

// decide is the outcome of a deadline due at due for an answer at
// answered (zero: none yet), seen at asOf.
func decide(answered, due, asOf time.Time) outcome {
	switch {
	case !answered.IsZero() && !answered.After(asOf):
		if answered.After(due) {
			return missed
		}
		return met
	case due.Before(asOf):
		return missed
	}
	return pending
}

func count(d *Deadlines, o outcome) {
	switch o {
	case met:
		d.Met++
	case missed:
		d.Missed++
	case pending:
		d.Pending++
	default:
		return
	}
	d.Due++
}

func ratio(d Deadlines) float64 {
	if d.Decided() == 0 {
		return 0
	}
	return math.Round(float64(d.Met)/float64(d.Decided())*10000) / 10000
}

// summarise gives the nearest-rank median and 90th percentile of ts.
func summarise(ts []time.Duration) AnswerTimes {
	if len(ts) == 0 {
		return AnswerTimes{}
	}
	ts = slices.Clone(ts)
	slices.Sort(ts)
	return AnswerTimes{Answered: len(ts), MedianHours: hours(rank(ts, 50)), P90Hours: hours(rank(ts, 90))}
}

// rank is the nearest-rank p-th percentile of sorted ts.
func rank(ts []time.Duration, p int) time.Duration {
	r := (p*len(ts) + 99) / 100 // ceil(p/100 × n), 1-based
	return ts[max(r, 1)-1]
}

func hours(d time.Duration) float64 { return math.Round(d.Hours()*100) / 100 }

// countAge puts an open case received at received in its age bucket:
// calendar days from the date of receipt to the date of AsOf, as the law
// counts days.
func (b *Builder) countAge(received time.Time) {
	age := daysBetween(calendar.DateOf(received, b.loc), b.today)
	for i, r := range b.ageRanges {
		if age >= r.min && (r.max < 0 || age <= r.max) {
			b.ages[i].Count++
			return
		}
	}
}

// daysBetween counts calendar days from a to b.
func daysBetween(a, b calendar.Date) int {
	return int(b.Start(time.UTC).Sub(a.Start(time.UTC)) / (24 * time.Hour))
}

// breakdown groups the contributions of the cases that count in the
// period by their keys (a case with several products counts for each).
// Keys are matched ignoring case and spacing and shown as first written.
type breakdown struct {
	// names are the display names of keys (specialists), nil for none.
	names  map[string]string
	groups map[string]*breakdownGroup // by normalised key
	order  []string                   // normalised keys as first met
}

// breakdownGroup is one key's row and the times to first answer of its
// cases first answered in the period, for the row's median.
type breakdownGroup struct {
	row   Row
	times []time.Duration
}

func newBreakdown(names map[string]string) breakdown {
	return breakdown{names: names, groups: map[string]*breakdownGroup{}}
}

// add counts cf, a case that counts in the period, in the rows of its
// keys; a case without any (no product named) in the row of none.
func (bd *breakdown) add(cf caseFacts, keys ...string) {
	if len(keys) == 0 {
		keys = []string{""}
	}
	for _, k := range keys {
		nk := normalise(k)
		g := bd.groups[nk]
		if g == nil {
			g = &breakdownGroup{row: Row{Key: strings.Join(strings.Fields(k), " "), Name: bd.names[k]}}
			bd.groups[nk] = g
			bd.order = append(bd.order, nk)
		}
		r := &g.row
		r.Opened += b2i(cf.opened)
		r.Closed += b2i(cf.closed)
		r.Open += b2i(cf.open)
		r.LegalMet += b2i(cf.legal == met)
		r.LegalMissed += b2i(cf.legal == missed)
		r.FirstAnswerMet += b2i(cf.first == met)
		r.FirstAnswerMissed += b2i(cf.first == missed)
		if cf.answered {
			r.Answered++
			g.times = append(g.times, cf.took)
		}
	}
}

// rows are the breakdown's rows ordered by cases opened, then open, then
// key, with the row of no key last.
func (bd *breakdown) rows() []Row {
	out := []Row{}
	for _, k := range bd.order {
		g := bd.groups[k]
		row := g.row
		row.MedianHours = summarise(g.times).MedianHours
		out = append(out, row)
	}
	slices.SortStableFunc(out, func(a, b Row) int {
		if (a.Key == "") != (b.Key == "") {
			return b2i(a.Key == "") - b2i(b.Key == "")
		}
		return cmp.Or(cmp.Compare(b.Opened, a.Opened), cmp.Compare(b.Open, a.Open), cmp.Compare(a.Key, b.Key))
	})
	return out
}

// repeatKey is a product or serial number as matched: its Repeat kind and
// its normalised value.
type repeatKey struct{ kind, value string }

// repeatGroup is the cases received by the period's end that name one
// product or serial number. A key named once costs its first case and no
// list, since most products and serial numbers never come back.
type repeatGroup struct {
	value  string    // as written by the oldest case
	oldest namedCase // the case that comes first in Repeat.Cases
	// more are the other cases in the order added, nil while there are
	// none.
	more     []namedCase
	inPeriod int // of all, how many were received in the period
}

// namedCase is what a repeat group keeps of a case: what orders it in
// Repeat.Cases.
type namedCase struct {
	id       string
	received time.Time
}

// compare orders cases oldest first, then by id. Cases it finds equal
// (the same id, which a store never repeats) list the same; of them the
// first added gives a repeat's spelling, as a stable sort would.
func (a namedCase) compare(b namedCase) int {
	return cmp.Or(a.received.Compare(b.received), cmp.Compare(a.id, b.id))
}

// addNamed counts c, received before the period's end, with every product
// and serial number it names.
func (b *Builder) addNamed(c *Case) {
	nc := namedCase{id: c.ID, received: c.ReceivedAt}
	inPeriod := !c.ReceivedAt.Before(b.start)
	for _, kv := range [...]struct {
		kind   string
		values []string
	}{{RepeatProduct, c.Products}, {RepeatSerial, c.Serials}} {
		for _, v := range distinct(kv.values) {
			value := strings.Join(strings.Fields(v), " ")
			k := repeatKey{kv.kind, strings.ToLower(value)} // normalise(v)
			switch g := b.repeats[k]; {
			case g == nil:
				b.repeats[k] = &repeatGroup{value: value, oldest: nc, inPeriod: b2i(inPeriod)}
			case nc.compare(g.oldest) < 0:
				g.more = append(g.more, g.oldest)
				g.value, g.oldest = value, nc
				g.inPeriod += b2i(inPeriod)
			default:
				g.more = append(g.more, nc)
				g.inPeriod += b2i(inPeriod)
			}
		}
	}
}

// repeatRows are the products and serial numbers named in more than one
// case, at least one of them received in the period. Cases are listed
// oldest first; groups by number of cases, most first.
func (b *Builder) repeatRows() []Repeat {
	out := []Repeat{}
	for k, g := range b.repeats {
		if len(g.more) == 0 || g.inPeriod == 0 {
			continue
		}
		named := append([]namedCase{g.oldest}, g.more...)
		slices.SortFunc(named, namedCase.compare)
		ids := make([]string, len(named))
		for i, nc := range named {
			ids[i] = nc.id
		}
		out = append(out, Repeat{Kind: k.kind, Value: g.value, Cases: ids, InPeriod: g.inPeriod})
	}
	// Kind and normalised value tell every group apart, so the order
	// does not depend on the map's.
	slices.SortFunc(out, func(a, b Repeat) int {
		return cmp.Or(cmp.Compare(len(b.Cases), len(a.Cases)), cmp.Compare(a.Kind, b.Kind), cmp.Compare(normalise(a.Value), normalise(b.Value)))
	})
	return out
}

// distinct returns vs without values equal after normalise, first
// spelling kept.
func distinct(vs []string) []string {
	var out []string
	seen := map[string]bool{}
	for _, v := range vs {
		n := normalise(v)
		if n == "" || seen[n] {
			continue
		}
		seen[n] = true
		out = append(out, v)
	}
	return out
}

// normalise is how keys are compared: lower case, runs of white space as
// one space.
func normalise(s string) string {
	return strings.ToLower(strings.Join(strings.Fields(s), " "))
}

func b2i(b bool) int {
	if b {
		return 1
	}
	return 0
}
