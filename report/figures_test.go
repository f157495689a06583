package report

import (
	"encoding/json"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/claimsd/claimsd/calendar"
	"github.com/claimsd/claimsd/store"
)

func warsaw(t testing.TB) *time.Location {
	t.Helper()
	loc, err := time.LoadLocation("Europe/Warsaw")
	if err != nil {
		t.Fatal(err)
	}
	return loc
}

// settings are working hours 08:00-16:00 Monday to Friday in Warsaw, no
// holiday in the fixture's weeks.
func settings(t testing.TB) Settings {
	t.Helper()
	hours, err := calendar.ParseHours("08:00", "16:00", nil)
	if err != nil {
		t.Fatal(err)
	}
	return Settings{
		Calendar: calendar.New(warsaw(t), nil, nil),
		Hours:    hours,
		Names:    map[string]string{"anna@example.com": "Anna Nowak"},
	}
}

// week is the fixture's period: Monday 2 to Sunday 8 March 2026.
var week = Period{From: calendar.Date{Year: 2026, Month: time.March, Day: 2}, To: calendar.Date{Year: 2026, Month: time.March, Day: 8}}

func date(s string) calendar.Date {
	d, err := calendar.ParseDate(s)
	if err != nil {
		panic(err)
	}
	return d
}

// fixture is a desk's cases around the week of 2-8 March 2026, as the
// deadline policy stored them: legal due dates 14 days after receipt moved
// past weekends, first-answer deadlines 4 working hours (transport damage)
// or 8 after receipt. The letters name them in the expected figures.
func fixture(t testing.TB) []Case {
	loc := warsaw(t)
	at := func(month time.Month, day, hour, minute int) time.Time {
		return time.Date(2026, month, day, hour, minute, 0, 0, loc)
	}
	const anna, piotr = "anna@example.com", "piotr@example.com"
	return []Case{
		// Z: an old case with the serial number that comes back.
		{ID: "CLM-2025-000090", Status: store.StatusResolved, Category: "non_conformity", Remedy: "repair", Assignee: anna,
			ReceivedAt: time.Date(2025, 12, 1, 10, 0, 0, 0, loc), LegalDue: date("2025-12-15"),
			ClosedAt: time.Date(2025, 12, 10, 9, 0, 0, 0, loc), LegalAnsweredAt: time.Date(2025, 12, 10, 9, 0, 0, 0, loc),
			FirstAnswerDue: time.Date(2025, 12, 2, 10, 0, 0, 0, loc), FirstAnsweredAt: time.Date(2025, 12, 1, 12, 0, 0, 0, loc),
			Serials: []string{"sn1000"}},
		// A: Monday 09:00, answered 11:30 within its 4 hours (13:00).
		{ID: "CLM-2026-000001", Status: store.StatusOpen, Category: "transport_damage", Remedy: "replacement", Assignee: anna,
			ReceivedAt: at(3, 2, 9, 0), LegalDue: date("2026-03-16"),
			FirstAnswerDue: at(3, 2, 13, 0), FirstAnsweredAt: at(3, 2, 11, 30),
			Products: []string{"Pralka X100"}, Serials: []string{"SN1000"}},
		// B: Tuesday 15:00, due Wednesday 11:00, answered Thursday 09:00,
		// resolved Friday.
		{ID: "CLM-2026-000002", Status: store.StatusResolved, Category: "transport_damage", Remedy: "refund", Assignee: piotr,
			ReceivedAt: at(3, 3, 15, 0), LegalDue: date("2026-03-17"),
			FirstAnswerDue: at(3, 4, 11, 0), FirstAnsweredAt: at(3, 5, 9, 0),
			ClosedAt: at(3, 6, 10, 0), LegalAnsweredAt: at(3, 6, 10, 0),
			Products: []string{"pralka  x100", "SKU-555"}},
		// C: from February, legal due Wednesday 4 March, resolved that day.
		{ID: "CLM-2026-000003", Status: store.StatusResolved, Category: "non_conformity", Remedy: "repair", Assignee: anna,
			ReceivedAt: at(2, 18, 10, 0), LegalDue: date("2026-03-04"),
			FirstAnswerDue: at(2, 19, 10, 0), FirstAnsweredAt: at(2, 19, 9, 0),
			ClosedAt: at(3, 4, 15, 0), LegalAnsweredAt: at(3, 4, 15, 0)},
		// D: unassigned, legal due Monday 2 March, never answered.
		{ID: "CLM-2026-000004", Status: store.StatusOpen, Category: "non_conformity", Remedy: "refund",
			ReceivedAt: at(2, 16, 12, 0), LegalDue: date("2026-03-02"), FirstAnswerDue: at(2, 17, 12, 0)},
		// E: legal due Friday 6 March, rejected on Saturday: one day late.
		{ID: "CLM-2026-000005", Status: store.StatusRejected, Category: "guarantee", Remedy: "repair", Assignee: anna,
			ReceivedAt: at(2, 20, 9, 0), LegalDue: date("2026-03-06"),
			FirstAnswerDue: at(2, 23, 9, 0), FirstAnsweredAt: at(2, 20, 10, 0),
			ClosedAt: at(3, 7, 10, 0), LegalAnsweredAt: at(3, 7, 10, 0)},
		// F: uncategorised, Friday 14:00, first answer due Monday 14:00.
		{ID: "CLM-2026-000006", Status: store.StatusOpen,
			ReceivedAt: at(3, 6, 14, 0), LegalDue: date("2026-03-20"), FirstAnswerDue: at(3, 9, 14, 0)},
		// G: Saturday, waiting for the customer: first-answer clock paused.
		{ID: "CLM-2026-000007", Status: store.StatusWaiting, Category: "transport_damage", Remedy: "replacement", Assignee: anna,
			ReceivedAt: at(3, 7, 10, 0), LegalDue: date("2026-03-23"), Serials: []string{"SN1000"}},
		// H: Thursday 08:30, resolved at 10:00 without a mail of ours:
		// the closing is its first answer, within 4 hours (12:30).
		{ID: "CLM-2026-000008", Status: store.StatusResolved, Category: "transport_damage", Remedy: "replacement", Assignee: anna,
			ReceivedAt: at(3, 5, 8, 30), LegalDue: date("2026-03-19"), FirstAnswerDue: at(3, 5, 12, 30),
			ClosedAt: at(3, 5, 10, 0), LegalAnsweredAt: at(3, 5, 10, 0),
			Products: []string{"SKU-555"}},
		// I: merged into A: a duplicate, left out.
		{ID: "CLM-2026-000009", Status: store.StatusResolved, MergedInto: "CLM-2026-000001", Category: "transport_damage",
			ReceivedAt: at(3, 4, 10, 0), LegalDue: date("2026-03-18"), ClosedAt: at(3, 4, 11, 0), LegalAnsweredAt: at(3, 4, 11, 0),
			Serials: []string{"SN1000"}},
		// J: Sunday 23:30, the period's last half hour.
		{ID: "CLM-2026-000010", Status: store.StatusOpen, Category: "billing",
			ReceivedAt: at(3, 8, 23, 30), LegalDue: date("2026-03-23"), FirstAnswerDue: at(3, 9, 16, 0)},
		// K: Monday 9 March, after the period.
		{ID: "CLM-2026-000011", Status: store.StatusOpen, Category: "billing",
			ReceivedAt: at(3, 9, 8, 0), LegalDue: date("2026-03-23"), FirstAnswerDue: at(3, 9, 16, 0),
			Serials: []string{"SN1000"}},
		// L: Friday 10:00, first answer due 14:00, none.
		{ID: "CLM-2026-000012", Status: store.StatusOpen, Category: "transport_damage", Remedy: "refund", Assignee: piotr,
			ReceivedAt: at(3, 6, 10, 0), LegalDue: date("2026-03-20"), FirstAnswerDue: at(3, 6, 14, 0)},
		// M: Wednesday 11:00, first answer due Thursday 11:00, answered and
		// resolved only on Monday 9 March 09:00, after the period.
		{ID: "CLM-2026-000013", Status: store.StatusResolved, Category: "repair", Remedy: "repair", Assignee: anna,
			ReceivedAt: at(3, 4, 11, 0), LegalDue: date("2026-03-18"), FirstAnswerDue: at(3, 5, 11, 0),
			FirstAnsweredAt: at(3, 9, 9, 0), ClosedAt: at(3, 9, 9, 0), LegalAnsweredAt: at(3, 9, 9, 0)},
	}
}

// fixtureFigures are the figures of the fixture's week made on Monday 9
// March at 07:00, worked out by hand.
func fixtureFigures(t testing.TB) Figures {
	return Figures{
		From: week.From, To: week.To,
		// The period ended before the report was made.
		AsOf: time.Date(2026, 3, 9, 0, 0, 0, 0, warsaw(t)),
		// Received 2-8 March: A B F G H J L M = 8 (I merged, K after).
		Opened: 8,
		// Closing status in the period: C (4th) H (5th) B (6th) E (7th)
		// = 4; M closed on the 9th.
		Closed: 4,
		// Legal dates in the period: D (2nd, unanswered), C (4th, answered
		// that day), E (6th, answered the 7th): met 1, missed 2, 1/3.
		Legal: Deadlines{Due: 3, Met: 1, Missed: 2, OnTime: 0.3333},
		// First-answer deadlines in the period: A 2nd 13:00 (answer 11:30
		// met), B 4th 11:00 (answer 5th 09:00 missed), H 5th 12:30
		// (closed 10:00 met), M 5th 11:00 (answer on the 9th: missed),
		// L 6th 14:00 (none: missed); F and J fall on the 9th, G is
		// paused. Met 2 of 5 = 0.4.
		FirstAnswer: Deadlines{Due: 5, Met: 2, Missed: 3, OnTime: 0.4},
		// First answers in the period, working time from receipt:
		// H 08:30-10:00 = 1.5 h; A 09:00-11:30 = 2.5 h;
		// B Tue 15:00-16:00 1 h + Wed 8 h + Thu 08:00-09:00 1 h = 10 h.
		// Sorted 1.5 2.5 10: median rank ceil(0.5×3) = 2 -> 2.5,
		// p90 rank ceil(0.9×3) = 3 -> 10.
		TimeToFirstAnswer: AnswerTimes{Answered: 3, MedianHours: 2.5, P90Hours: 10},
		// Open at 9 March 00:00: A (7 days), D (16 Feb: 12 + 9 = 21
		// days, past its legal date), F (3), G (2), J (1), L (3) and M
		// (5; closed after the period) = 7.
		Backlog: Backlog{Open: 7, LegalOverdue: 1, Ages: []AgeBucket{
			{"0-3", 4}, // F G J L
			{"4-7", 2}, // A M
			{"8-14", 0},
			{"15-30", 1}, // D
			{"31+", 0},
		}},
		ByCategory: []Row{
			// A B G H L: opened 5; closed B H; open A G L; first answer
			// met A H, missed B L; answered A 2.5 B 10 H 1.5 -> median 2.5.
			{Key: "transport_damage", Opened: 5, Closed: 2, Open: 3, FirstAnswerMet: 2, FirstAnswerMissed: 2, Answered: 3, MedianHours: 2.5},
			// J (K contributes nothing).
			{Key: "billing", Opened: 1, Open: 1},
			// M.
			{Key: "repair", Opened: 1, Open: 1, FirstAnswerMissed: 1},
			// C closed and met; D open and missed (Z nothing).
			{Key: "non_conformity", Closed: 1, Open: 1, LegalMet: 1, LegalMissed: 1},
			// E.
			{Key: "guarantee", Closed: 1, LegalMissed: 1},
			// F, last as the row of none.
			{Key: "", Opened: 1, Open: 1},
		},
		ByRemedy: []Row{
			// A G H: answered A 2.5, H 1.5 -> median rank 1 = 1.5.
			{Key: "replacement", Opened: 3, Closed: 1, Open: 2, FirstAnswerMet: 2, Answered: 2, MedianHours: 1.5},
			// B D L.
			{Key: "refund", Opened: 2, Closed: 1, Open: 2, LegalMissed: 1, FirstAnswerMissed: 2, Answered: 1, MedianHours: 10},
			// C E M (Z nothing).
			{Key: "repair", Opened: 1, Closed: 2, Open: 1, LegalMet: 1, LegalMissed: 1, FirstAnswerMissed: 1},
			// F J.
			{Key: "", Opened: 2, Open: 2},
		},
		ByProduct: []Row{
			// A and B ("pralka  x100" is the same product): answered
			// 2.5 and 10 -> median 2.5.
			{Key: "Pralka X100", Opened: 2, Closed: 1, Open: 1, FirstAnswerMet: 1, FirstAnswerMissed: 1, Answered: 2, MedianHours: 2.5},
			// B and H: answered 10 and 1.5 -> median 1.5.
			{Key: "SKU-555", Opened: 2, Closed: 2, FirstAnswerMet: 1, FirstAnswerMissed: 1, Answered: 2, MedianHours: 1.5},
			// C D E F G J L M: opened F G J L M, closed C E, open D F G J
			// L M, legal met C, missed D E, first answer missed L M.
			{Key: "", Opened: 5, Closed: 2, Open: 6, LegalMet: 1, LegalMissed: 2, FirstAnswerMissed: 2},
		},
		BySpecialist: []Row{
			// A C E G H M: answered A 2.5, H 1.5 -> median 1.5.
			{Key: "anna@example.com", Name: "Anna Nowak", Opened: 4, Closed: 3, Open: 3, LegalMet: 1, LegalMissed: 1,
				FirstAnswerMet: 2, FirstAnswerMissed: 1, Answered: 2, MedianHours: 1.5},
			// B L.
			{Key: "piotr@example.com", Opened: 2, Closed: 1, Open: 1, FirstAnswerMissed: 2, Answered: 1, MedianHours: 10},
			// D F J unassigned.
			{Key: "", Opened: 2, Open: 3, LegalMissed: 1},
		},
		RepeatDefects: []Repeat{
			// Z (December) A and G; I is merged, K after the period.
			{Kind: RepeatSerial, Value: "sn1000", Cases: []string{"CLM-2025-000090", "CLM-2026-000001", "CLM-2026-000007"}, InPeriod: 2},
			{Kind: RepeatProduct, Value: "Pralka X100", Cases: []string{"CLM-2026-000001", "CLM-2026-000002"}, InPeriod: 2},
			{Kind: RepeatProduct, Value: "SKU-555", Cases: []string{"CLM-2026-000002", "CLM-2026-000008"}, InPeriod: 2},
		},
		Merged: 1, // I
	}
}

// same compares figures through their JSON, which shows a difference
// readably.
func same(t *testing.T, name string, got, want any) {
	t.Helper()
	g, _ := json.MarshalIndent(got, "", "  ")
	w, _ := json.MarshalIndent(want, "", "  ")
	if string(g) != string(w) {
		t.Errorf("%s:\n--- got\n%s\n--- want\n%s", name, g, w)
	}
}

func TestComputeFixture(t *testing.T) {
	now := time.Date(2026, 3, 9, 7, 0, 0, 0, warsaw(t))
	same(t, "figures", Compute(fixture(t), week, settings(t), now), fixtureFigures(t))
}

// TestComputeCases checks one rule each, on a case or two.
func TestComputeCases(t *testing.T) {
	loc := warsaw(t)
	at := func(day, hour, minute int) time.Time { return time.Date(2026, 3, day, hour, minute, 0, 0, loc) }
	type check func(t *testing.T, f Figures)
	tests := []struct {
		name   string
		cases  []Case
		period Period // zero: the fixture's week
		now    time.Time
		check  check
	}{
		{
			name: "a deadline not passed in the running week is pending",
			// Thursday noon: due Friday, unanswered.
			cases: []Case{{ID: "a", Status: store.StatusOpen, ReceivedAt: at(2, 9, 0), LegalDue: date("2026-03-06"), FirstAnswerDue: at(5, 15, 0)}},
			now:   at(5, 12, 0),
			check: func(t *testing.T, f Figures) {
				same(t, "legal", f.Legal, Deadlines{Due: 1, Pending: 1})
				same(t, "first answer", f.FirstAnswer, Deadlines{Due: 1, Pending: 1})
				if !f.AsOf.Equal(at(5, 12, 0)) || f.Backlog.Open != 1 {
					t.Errorf("as of %v, open %d", f.AsOf, f.Backlog.Open)
				}
			},
		},
		{
			name: "a reopened case is open, not closed, and met its legal deadline",
			cases: []Case{{ID: "a", Status: store.StatusOpen, ReceivedAt: at(2, 9, 0), LegalDue: date("2026-03-06"),
				LegalAnsweredAt: at(4, 10, 0)}},
			now: at(9, 7, 0),
			check: func(t *testing.T, f Figures) {
				if f.Closed != 0 || f.Backlog.Open != 1 || f.Legal.Met != 1 || f.Legal.OnTime != 1 {
					t.Errorf("closed %d open %d legal %+v", f.Closed, f.Backlog.Open, f.Legal)
				}
			},
		},
		{
			name: "an answer on the due date's last minute is on time, a minute later is not",
			cases: []Case{
				{ID: "a", Status: store.StatusResolved, ReceivedAt: at(1, 9, 0), LegalDue: date("2026-03-03"), LegalAnsweredAt: at(3, 23, 59), ClosedAt: at(3, 23, 59)},
				{ID: "b", Status: store.StatusResolved, ReceivedAt: at(1, 9, 0), LegalDue: date("2026-03-03"), LegalAnsweredAt: at(4, 0, 0), ClosedAt: at(4, 0, 0)},
			},
			now: at(9, 7, 0),
			check: func(t *testing.T, f Figures) {
				same(t, "legal", f.Legal, Deadlines{Due: 2, Met: 1, Missed: 1, OnTime: 0.5})
			},
		},
		{
			name: "nearest-rank percentiles of ten answers",
			// Answers 1 to 10 working hours after Monday 08:00 (10 h is
			// Tuesday 10:00): median rank 5, p90 rank 9.
			cases: func() []Case {
				var cs []Case
				for h := 1; h <= 10; h++ {
					answer := at(2, 8+h, 0)
					if h > 8 {
						answer = at(3, h, 0)
					}
					cs = append(cs, Case{ID: fmt.Sprint(h), Status: store.StatusOpen, ReceivedAt: at(2, 8, 0), FirstAnsweredAt: answer})
				}
				return cs
			}(),
			now: at(9, 7, 0),
			check: func(t *testing.T, f Figures) {
				same(t, "times", f.TimeToFirstAnswer, AnswerTimes{Answered: 10, MedianHours: 5, P90Hours: 9})
			},
		},
		{
			name: "working time skips the weekend and nights",
			// Friday 15:00 to Monday 09:00: 1 h + 1 h.
			cases:  []Case{{ID: "a", Status: store.StatusOpen, ReceivedAt: at(6, 15, 0), FirstAnsweredAt: at(9, 9, 0)}},
			period: Period{From: date("2026-03-09"), To: date("2026-03-15")}, // the week of the answer
			now:    at(16, 7, 0),
			check: func(t *testing.T, f Figures) {
				if f.TimeToFirstAnswer.MedianHours != 2 {
					t.Errorf("times %+v", f.TimeToFirstAnswer)
				}
			},
		},
		{
			name:  "an empty store gives zeros and every age bucket",
			cases: nil,
			now:   at(9, 7, 0),
			check: func(t *testing.T, f Figures) {
				if f.Opened != 0 || f.Legal.OnTime != 0 || len(f.Backlog.Ages) != 5 || f.ByCategory == nil || f.RepeatDefects == nil {
					t.Errorf("%+v", f)
				}
			},
		},
		{
			name: "one case names a product twice: one repeat is no repeat",
			cases: []Case{{ID: "a", Status: store.StatusOpen, ReceivedAt: at(2, 9, 0), Products: []string{"X1", "x1"}},
				{ID: "b", Status: store.StatusOpen, ReceivedAt: at(3, 9, 0), Products: []string{"Y2"}}},
			now: at(9, 7, 0),
			check: func(t *testing.T, f Figures) {
				if len(f.RepeatDefects) != 0 || len(f.ByProduct) != 2 || f.ByProduct[0].Opened != 1 {
					t.Errorf("repeats %+v products %+v", f.RepeatDefects, f.ByProduct)
				}
			},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			p := tt.period
			if p == (Period{}) {
				p = week
			}
			tt.check(t, Compute(tt.cases, p, settings(t), tt.now))
		})
	}
}

func TestComputeIsPure(t *testing.T) {
	cases := fixture(t)
	before, _ := json.Marshal(cases)
	now := time.Date(2026, 3, 9, 7, 0, 0, 0, warsaw(t))
	a := Compute(cases, week, settings(t), now)
	b := Compute(cases, week, settings(t), now)
	same(t, "second run", b, a)
	if after, _ := json.Marshal(cases); string(after) != string(before) {
		t.Error("Compute changed its input")
	}
}

func TestLastFullWeek(t *testing.T) {
	loc := warsaw(t)
	tests := []struct {
		at   time.Time
		want string
	}{
		{time.Date(2026, 3, 9, 7, 0, 0, 0, loc), "2026-03-02 – 2026-03-08"},        // Monday morning
		{time.Date(2026, 3, 9, 0, 0, 0, 0, loc), "2026-03-02 – 2026-03-08"},        // Monday midnight
		{time.Date(2026, 3, 8, 23, 59, 0, 0, loc), "2026-02-23 – 2026-03-01"},      // Sunday night: that week is not over
		{time.Date(2026, 3, 8, 23, 30, 0, 0, time.UTC), "2026-03-02 – 2026-03-08"}, // already Monday in Warsaw
		{time.Date(2026, 1, 1, 12, 0, 0, 0, loc), "2025-12-22 – 2025-12-28"},       // across the year
	}
	for _, tt := range tests {
		if got := LastFullWeek(tt.at, loc).String(); got != tt.want {
			t.Errorf("LastFullWeek(%v) = %s, want %s", tt.at, got, tt.want)
		}
	}
}

func TestPeriodCheck(t *testing.T) {
	tests := []struct {
		p    Period
		want string
	}{
		{week, ""},
		{Period{From: week.From, To: week.From}, ""},
		{Period{From: week.To, To: week.From}, "ends (2026-03-02) before it starts (2026-03-08)"},
		{Period{To: week.To}, "needs both"},
		{Period{From: date("2000-01-01"), To: date("2026-01-01")}, "longer than"},
	}
	for _, tt := range tests {
		err := tt.p.Check()
		if (err == nil) != (tt.want == "") || err != nil && !strings.Contains(err.Error(), tt.want) {
			t.Errorf("%+v: %v, want %q", tt.p, err, tt.want)
		}
	}
}

func TestFromStore(t *testing.T) {
	c := FromStore(store.Case{ID: "CLM-2026-000001", Status: "open", LegalDue: "2026-03-16",
		Classification: &store.Classification{Facts: []store.CaseFact{
			{Kind: "product", Value: "Pralka X100"}, {Kind: "serial_number", Value: "SN1"}, {Kind: "amount", Value: "10.00 PLN"},
		}}})
	if c.LegalDue != date("2026-03-16") || strings.Join(c.Products, ",") != "Pralka X100" || strings.Join(c.Serials, ",") != "SN1" {
		t.Errorf("%+v", c)
	}
	if c := FromStore(store.Case{LegalDue: "garbage"}); !c.LegalDue.IsZero() {
		t.Errorf("bad legal due read as %v", c.LegalDue)
	}
}

// BenchmarkCompute makes the figures of a week out of 100,000 cases
// received over two years, a tenth of them with a product or serial
// number.
func BenchmarkCompute(b *testing.B) {
	loc := warsaw(b)
	set := settings(b)
	start := time.Date(2024, 3, 9, 9, 0, 0, 0, loc)
	cases := make([]Case, 100_000)
	for i := range cases {
		received := start.Add(time.Duration(i) * 10 * time.Minute)
		c := Case{ID: fmt.Sprintf("CLM-%07d", i), Status: store.StatusResolved, Category: []string{"repair", "billing", "guarantee"}[i%3],
			Assignee: fmt.Sprintf("s%d@example.com", i%7), ReceivedAt: received, LegalDue: calendar.DateOf(received.AddDate(0, 0, 14), loc),
			FirstAnswerDue: received.Add(8 * time.Hour), FirstAnsweredAt: received.Add(time.Duration(i%20) * time.Hour),
			ClosedAt: received.AddDate(0, 0, 5), LegalAnsweredAt: received.AddDate(0, 0, 5)}
		if i%10 == 0 {
			c.Serials = []string{fmt.Sprintf("SN%d", i%500)}
		}
		if i%5000 == 0 {
			c.Status, c.ClosedAt = store.StatusOpen, time.Time{}
		}
		cases[i] = c
	}
	now := time.Date(2026, 3, 9, 7, 0, 0, 0, loc)
	b.ReportAllocs()
	for b.Loop() {
		Compute(cases, week, set, now)
	}
}

// TestBuilderAnyOrder feeds the fixture's cases to a Builder in several
// orders, as a store walk may give them: the figures are the fixture's in
// every one but for how breakdown keys are spelt (as first written: the
// fixture writes a product two ways), repeat defects listing their cases
// oldest first and spelt as the oldest case wrote them.
func TestBuilderAnyOrder(t *testing.T) {
	now := time.Date(2026, 3, 9, 7, 0, 0, 0, warsaw(t))
	cases := fixture(t)
	orders := map[string]func(i int) int{
		"given":    func(i int) int { return i },
		"reversed": func(i int) int { return len(cases) - 1 - i },
		"rotated":  func(i int) int { return (i + len(cases)/2) % len(cases) },
	}
	lowerKeys := func(f Figures) Figures {
		for _, rows := range [][]Row{f.ByCategory, f.ByRemedy, f.ByProduct, f.BySpecialist} {
			for i := range rows {
				rows[i].Key = strings.ToLower(rows[i].Key)
			}
		}
		return f
	}
	for name, at := range orders {
		t.Run(name, func(t *testing.T) {
			b := NewBuilder(week, settings(t), now)
			for i := range cases {
				b.Add(cases[at(i)])
			}
			same(t, "figures", lowerKeys(b.Figures()), lowerKeys(fixtureFigures(t)))
		})
	}
}

// TestBuilderRepeatSpelling checks that a repeat defect is spelt as its
// oldest case wrote it and lists a case received before the period, even
// when that case comes last.
func TestBuilderRepeatSpelling(t *testing.T) {
	loc := warsaw(t)
	at := func(day, hour int) time.Time { return time.Date(2026, 3, day, hour, 0, 0, 0, loc) }
	b := NewBuilder(week, settings(t), at(9, 7))
	b.Add(Case{ID: "c", Status: store.StatusOpen, ReceivedAt: at(4, 9), Serials: []string{"sn  77"}})
	b.Add(Case{ID: "b", Status: store.StatusOpen, ReceivedAt: at(4, 9), Serials: []string{"Sn 77"}})
	b.Add(Case{ID: "late", Status: store.StatusOpen, ReceivedAt: at(10, 9), Serials: []string{"SN 77"}})
	b.Add(Case{ID: "a", Status: store.StatusOpen, ReceivedAt: at(1, 9), Serials: []string{"SN  77"}})
	same(t, "repeats", b.Figures().RepeatDefects, []Repeat{{Kind: RepeatSerial, Value: "SN 77", Cases: []string{"a", "b", "c"}, InPeriod: 2}})
}
