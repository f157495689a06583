package calendar

import (
	"strings"
	"testing"
	"time"
	_ "time/tzdata" // the tests must not depend on the machine's zoneinfo
)

func warsaw(t testing.TB) *time.Location {
	t.Helper()
	loc, err := time.LoadLocation("Europe/Warsaw")
	if err != nil {
		t.Fatal(err)
	}
	return loc
}

func date(t testing.TB, s string) Date {
	t.Helper()
	d, err := ParseDate(s)
	if err != nil {
		t.Fatal(err)
	}
	return d
}

func instant(t testing.TB, s string) time.Time {
	t.Helper()
	v, err := time.Parse(time.RFC3339, s)
	if err != nil {
		t.Fatal(err)
	}
	return v
}

func TestParseDate(t *testing.T) {
	tests := []struct {
		in   string
		want Date
		ok   bool
	}{
		{"2026-01-31", Date{2026, time.January, 31}, true},
		{"2024-02-29", Date{2024, time.February, 29}, true},
		{"2025-02-29", Date{}, false},
		{"2026-02-30", Date{}, false},
		{"2026-1-31", Date{}, false},
		{"31.01.2026", Date{}, false},
		{"2026-01-31T00:00:00Z", Date{}, false},
		{"", Date{}, false},
	}
	for _, tt := range tests {
		got, err := ParseDate(tt.in)
		if (err == nil) != tt.ok || got != tt.want {
			t.Errorf("ParseDate(%q) = %v, %v; want %v, ok %v", tt.in, got, err, tt.want, tt.ok)
		}
		if err != nil && !strings.Contains(err.Error(), "YYYY-MM-DD") {
			t.Errorf("ParseDate(%q) error %q does not name the expected form", tt.in, err)
		}
		if tt.ok && got.String() != tt.in {
			t.Errorf("ParseDate(%q).String() = %q", tt.in, got.String())
		}
	}
}

func TestDateText(t *testing.T) {
	var d Date
	if err := d.UnmarshalText([]byte("2025-12-24")); err != nil || d != (Date{2025, time.December, 24}) {
		t.Fatalf("UnmarshalText = %v, %v", d, err)
	}
	b, _ := d.MarshalText()
	if string(b) != "2025-12-24" {
		t.Fatalf("MarshalText = %q", b)
	}
	if err := d.UnmarshalText([]byte("24.12.2025")); err == nil {
		t.Fatal("UnmarshalText accepted 24.12.2025")
	}
}

func TestDateArithmetic(t *testing.T) {
	tests := []struct {
		d    string
		n    int
		want string
		wd   time.Weekday // of want
	}{
		{"2025-12-31", 1, "2026-01-01", time.Thursday},
		{"2024-02-28", 1, "2024-02-29", time.Thursday},
		{"2025-02-28", 1, "2025-03-01", time.Saturday},
		{"2026-03-29", 1, "2026-03-30", time.Monday}, // DST day does not matter to dates
		{"2026-10-25", 1, "2026-10-26", time.Monday},
		{"2026-01-01", -1, "2025-12-31", time.Wednesday},
		{"2025-12-12", 14, "2025-12-26", time.Friday},
		{"2026-01-01", 365, "2027-01-01", time.Friday},
		{"2026-01-01", 0, "2026-01-01", time.Thursday},
	}
	for _, tt := range tests {
		got := date(t, tt.d).AddDays(tt.n)
		if got.String() != tt.want || got.Weekday() != tt.wd {
			t.Errorf("%s.AddDays(%d) = %s (%v), want %s (%v)", tt.d, tt.n, got, got.Weekday(), tt.want, tt.wd)
		}
	}
	if got := (Date{2026, time.January, 32}).AddDays(0); got != (Date{2026, time.February, 1}) {
		t.Errorf("AddDays(0) does not normalise: %v", got)
	}
}

func TestDateCompare(t *testing.T) {
	tests := []struct {
		a, b string
		want int
	}{
		{"2026-01-01", "2026-01-01", 0},
		{"2025-12-31", "2026-01-01", -1},
		{"2026-02-01", "2026-01-31", 1},
		{"2026-01-02", "2026-01-01", 1},
	}
	for _, tt := range tests {
		a, b := date(t, tt.a), date(t, tt.b)
		if got := a.Compare(b); got != tt.want {
			t.Errorf("%s.Compare(%s) = %d, want %d", a, b, got, tt.want)
		}
		if a.Before(b) != (tt.want < 0) || a.After(b) != (tt.want > 0) {
			t.Errorf("%s Before/After %s disagree with Compare", a, b)
		}
	}
	if !(Date{}).IsZero() || date(t, "2026-01-01").IsZero() {
		t.Error("IsZero")
	}
}

func TestDateOf(t *testing.T) {
	loc := warsaw(t)
	tests := []struct {
		at   string
		loc  *time.Location
		want string
	}{
		{"2026-01-08T23:30:00Z", loc, "2026-01-09"}, // 00:30 CET
		{"2026-01-08T23:30:00Z", time.UTC, "2026-01-08"},
		{"2026-01-08T23:30:00Z", nil, "2026-01-08"},
		{"2026-03-28T23:30:00Z", loc, "2026-03-29"}, // 00:30 CET, DST starts at 02:00
		{"2026-03-29T00:30:00Z", loc, "2026-03-29"}, // 01:30 CET
		{"2026-03-29T01:30:00Z", loc, "2026-03-29"}, // 03:30 CEST (02:30 does not exist)
		{"2026-03-29T21:59:59Z", loc, "2026-03-29"}, // 23:59:59 CEST
		{"2026-03-29T22:00:00Z", loc, "2026-03-30"},
		{"2026-10-25T00:30:00Z", loc, "2026-10-25"}, // 02:30 CEST, the first one
		{"2026-10-25T01:30:00Z", loc, "2026-10-25"}, // 02:30 CET, the second one
		{"2026-10-25T22:59:59Z", loc, "2026-10-25"}, // 23:59:59 CET
		{"2026-10-25T23:00:00Z", loc, "2026-10-26"},
	}
	for _, tt := range tests {
		if got := DateOf(instant(t, tt.at), tt.loc).String(); got != tt.want {
			t.Errorf("DateOf(%s, %v) = %s, want %s", tt.at, tt.loc, got, tt.want)
		}
	}
}

func TestStartEnd(t *testing.T) {
	loc := warsaw(t)
	tests := []struct {
		d     string
		start string // UTC
		long  time.Duration
	}{
		{"2026-01-15", "2026-01-14T23:00:00Z", 24 * time.Hour},
		{"2026-07-15", "2026-07-14T22:00:00Z", 24 * time.Hour},
		{"2026-03-29", "2026-03-28T23:00:00Z", 23 * time.Hour}, // DST starts
		{"2026-10-25", "2026-10-24T22:00:00Z", 25 * time.Hour}, // DST ends
	}
	for _, tt := range tests {
		d := date(t, tt.d)
		start, end := d.Start(loc), d.End(loc)
		if !start.Equal(instant(t, tt.start)) {
			t.Errorf("%s.Start = %v, want %s", d, start.UTC(), tt.start)
		}
		if got := end.Sub(start) + time.Nanosecond; got != tt.long {
			t.Errorf("%s lasts %v, want %v", d, got, tt.long)
		}
		if DateOf(end, loc) != d || DateOf(end.Add(time.Nanosecond), loc) != d.AddDays(1) || DateOf(start, loc) != d {
			t.Errorf("%s: Start %v / End %v are not the edges of the day", d, start, end)
		}
	}
	if got := date(t, "2026-01-15").End(nil); !got.Equal(instant(t, "2026-01-16T00:00:00Z").Add(-time.Nanosecond)) {
		t.Errorf("End(nil) = %v", got)
	}
}

func TestEaster(t *testing.T) {
	// Western (Gregorian) Easter Sundays, 2000-2030.
	known := map[int]string{
		2000: "04-23", 2001: "04-15", 2002: "03-31", 2003: "04-20", 2004: "04-11",
		2005: "03-27", 2006: "04-16", 2007: "04-08", 2008: "03-23", 2009: "04-12",
		2010: "04-04", 2011: "04-24", 2012: "04-08", 2013: "03-31", 2014: "04-20",
		2015: "04-05", 2016: "03-27", 2017: "04-16", 2018: "04-01", 2019: "04-21",
		2020: "04-12", 2021: "04-04", 2022: "04-17", 2023: "04-09", 2024: "03-31",
		2025: "04-20", 2026: "04-05", 2027: "03-28", 2028: "04-16", 2029: "04-01",
		2030: "04-21",
		// The extremes of the Gregorian range: 22 March and 25 April.
		1818: "03-22", 2285: "03-22", 1943: "04-25", 2038: "04-25",
	}
	for year, md := range known {
		want := date(t, time.Date(year, 1, 1, 0, 0, 0, 0, time.UTC).Format("2006-")+md)
		if got := Easter(year); got != want {
			t.Errorf("Easter(%d) = %s, want %s", year, got, want)
		}
	}
	for year := 1583; year <= 4099; year++ {
		e := Easter(year)
		lo, hi := Date{year, time.March, 22}, Date{year, time.April, 25}
		if e.Weekday() != time.Sunday || e.Before(lo) || e.After(hi) {
			t.Fatalf("Easter(%d) = %s (%v): not a Sunday in 22 March..25 April", year, e, e.Weekday())
		}
	}
}

func TestMovableHolidays(t *testing.T) {
	// DOMAIN §2 table.
	tests := []struct {
		year                             int
		easter, pentecost, corpusChristi string
	}{
		{2025, "2025-04-20", "2025-06-08", "2025-06-19"},
		{2026, "2026-04-05", "2026-05-24", "2026-06-04"},
		{2027, "2027-03-28", "2027-05-16", "2027-05-27"},
		{2028, "2028-04-16", "2028-06-04", "2028-06-15"},
	}
	c := New(time.UTC, nil, nil)
	for _, tt := range tests {
		e := Easter(tt.year)
		checks := []struct {
			d    string
			name string
			wd   time.Weekday
		}{
			{tt.easter, nameEaster, time.Sunday},
			{e.AddDays(1).String(), nameEasterMonday, time.Monday},
			{tt.pentecost, namePentecost, time.Sunday},
			{tt.corpusChristi, nameCorpusChrist, time.Thursday},
		}
		for _, ch := range checks {
			d := date(t, ch.d)
			name, ok := c.Holiday(d)
			if !ok || name != ch.name || d.Weekday() != ch.wd {
				t.Errorf("%d: Holiday(%s) = %q, %v (%v); want %q on a %v", tt.year, d, name, ok, d.Weekday(), ch.name, ch.wd)
			}
		}
		// The day before Easter and after Corpus Christi are not holidays.
		for _, d := range []Date{e.AddDays(-1), date(t, tt.corpusChristi).AddDays(1)} {
			if name, ok := c.Holiday(d); ok {
				t.Errorf("Holiday(%s) = %q, want none", d, name)
			}
		}
	}
}

func TestPolishHolidays(t *testing.T) {
	tests := []struct {
		year    int
		count   int
		has     []string
		hasNot  []string
		firstMD string
	}{
		{2010, 12, []string{"2010-01-01", "2010-04-04", "2010-04-05"}, []string{"2010-01-06", "2010-12-24"}, "01-01"},
		{2011, 13, []string{"2011-01-06"}, []string{"2011-12-24"}, "01-01"},
		{2018, 14, []string{"2018-11-11", "2018-11-12", "2018-04-01", "2018-04-02"}, []string{"2018-12-24"}, "01-01"},
		{2019, 13, nil, []string{"2019-11-12"}, "01-01"},
		{2024, 13, []string{"2024-03-31", "2024-04-01", "2024-05-19", "2024-05-30"}, []string{"2024-12-24"}, "01-01"},
		{2025, 14, []string{"2025-12-24", "2025-12-25", "2025-12-26", "2025-06-19"}, nil, "01-01"},
		{2026, 14, []string{"2026-01-06", "2026-12-24", "2026-06-04"}, nil, "01-01"},
	}
	for _, tt := range tests {
		hs := PolishHolidays(tt.year)
		if len(hs) != tt.count {
			t.Errorf("PolishHolidays(%d): %d days, want %d: %v", tt.year, len(hs), tt.count, hs)
		}
		set := map[string]bool{}
		for i, h := range hs {
			set[h.Date.String()] = true
			if h.Name == "" || h.Date.Year != tt.year {
				t.Errorf("PolishHolidays(%d)[%d] = %+v", tt.year, i, h)
			}
			if i > 0 && !hs[i-1].Date.Before(h.Date) {
				t.Errorf("PolishHolidays(%d) not sorted or has duplicates at %d: %v", tt.year, i, hs)
			}
			// The list and the per-day lookup must agree.
			if name, ok := statutoryHoliday(h.Date); !ok || name != h.Name {
				t.Errorf("statutoryHoliday(%s) = %q, %v; list says %q", h.Date, name, ok, h.Name)
			}
		}
		for _, s := range tt.has {
			if !set[s] {
				t.Errorf("PolishHolidays(%d) lacks %s", tt.year, s)
			}
		}
		for _, s := range tt.hasNot {
			if set[s] {
				t.Errorf("PolishHolidays(%d) has %s", tt.year, s)
			}
		}
		if len(hs) > 0 && hs[0].Date.String()[5:] != tt.firstMD {
			t.Errorf("PolishHolidays(%d) starts with %s", tt.year, hs[0].Date)
		}
	}
	if hs := PolishHolidays(2025); hs[len(hs)-1].Name != "Drugi dzień Bożego Narodzenia" || hs[len(hs)-2].Name != "Boże Narodzenie" {
		t.Errorf("names: %v", hs[len(hs)-2:])
	}
}

// TestHolidayLookupMatchesList checks every day of many years: the per-day
// lookup used by LegalDue finds exactly the days PolishHolidays lists.
func TestHolidayLookupMatchesList(t *testing.T) {
	c := New(time.UTC, nil, nil)
	for year := 2000; year <= 2100; year++ {
		listed := map[Date]string{}
		for _, h := range PolishHolidays(year) {
			listed[h.Date] = h.Name
		}
		for d := (Date{year, time.January, 1}); d.Year == year; d = d.AddDays(1) {
			name, ok := c.Holiday(d)
			if want, listedOK := listed[d]; ok != listedOK || name != want {
				t.Fatalf("Holiday(%s) = %q, %v; PolishHolidays says %q, %v", d, name, ok, want, listedOK)
			}
		}
	}
}

func TestLegalDue(t *testing.T) {
	loc := warsaw(t)
	plain := New(loc, nil, nil)
	extra := New(loc, []Date{{2026, time.January, 23}}, nil)
	closed := New(loc, nil, []Date{{2026, time.January, 23}, {2025, time.December, 29}})
	utc := New(time.UTC, nil, nil)
	// Received at noon Warsaw time unless the case is about the zone.
	noon := func(d string) string { return d + "T12:00:00+01:00" }
	tests := []struct {
		name     string
		c        *Calendar
		received string
		days     int
		want     string
	}{
		{"DOMAIN example: day 14 is 26 Dec, then a weekend", plain, noon("2025-12-12"), 14, "2025-12-29"},
		{"ordinary weekday", plain, noon("2026-01-13"), 14, "2026-01-27"},
		{"across the year end onto New Year", plain, noon("2025-12-18"), 14, "2026-01-02"},
		{"Christmas Eve is a holiday from 2025", plain, noon("2025-12-10"), 14, "2025-12-29"},
		{"Christmas Eve was a workday in 2024", plain, noon("2024-12-10"), 14, "2024-12-24"},
		{"Saturday moves to Monday", plain, noon("2026-01-03"), 14, "2026-01-19"},
		{"Sunday moves to Monday", plain, noon("2026-01-04"), 14, "2026-01-19"},
		{"Saturday then Sunday then holiday Monday (11 Nov 2024)", plain, noon("2024-10-26"), 14, "2024-11-12"},
		{"Easter Saturday, Sunday, Monday", plain, noon("2026-03-21"), 14, "2026-04-07"},
		{"on Easter Sunday", plain, noon("2026-03-22"), 14, "2026-04-07"},
		{"on Easter Monday", plain, "2025-04-07T12:00:00+02:00", 14, "2025-04-22"},
		{"on Corpus Christi (Thursday)", plain, "2026-05-21T12:00:00+02:00", 14, "2026-06-05"},
		{"on the one-off 2018-11-12", plain, noon("2018-10-29"), 14, "2018-11-13"},
		{"Epiphany", plain, noon("2025-12-23"), 14, "2026-01-07"},
		{"23:30 UTC is already the next day in Warsaw", plain, "2026-01-08T23:30:00Z", 14, "2026-01-23"},
		{"the same instant on a UTC calendar", utc, "2026-01-08T23:30:00Z", 14, "2026-01-22"},
		{"22:59 UTC is still the same day in Warsaw", plain, "2026-01-08T22:59:59Z", 14, "2026-01-22"},
		{"DST start, 00:30 CET", plain, "2026-03-28T23:30:00Z", 14, "2026-04-13"},
		{"DST start, 01:30 CET", plain, "2026-03-29T00:30:00Z", 14, "2026-04-13"},
		{"DST start, 03:30 CEST (02:30 does not exist)", plain, "2026-03-29T01:30:00Z", 14, "2026-04-13"},
		{"DST start, the day before", plain, "2026-03-28T22:59:00Z", 14, "2026-04-13"},
		{"DST start, 30 days", plain, "2026-03-29T00:30:00Z", 30, "2026-04-28"},
		{"DST end, first 02:30 CEST", plain, "2026-10-25T00:30:00Z", 14, "2026-11-09"},
		{"DST end, second 02:30 CET", plain, "2026-10-25T01:30:00Z", 14, "2026-11-09"},
		{"DST end, 23:30 CET", plain, "2026-10-25T22:30:00Z", 13, "2026-11-09"},
		{"DST end, 00:30 CET next day", plain, "2026-10-25T23:30:00Z", 13, "2026-11-09"},
		{"DST end, 23:30 CET, 10 days", plain, "2026-10-25T22:30:00Z", 10, "2026-11-04"},
		{"DST end, 00:30 CET next day, 10 days", plain, "2026-10-25T23:30:00Z", 10, "2026-11-05"},
		{"extra statutory holiday moves it", extra, "2026-01-08T23:30:00Z", 14, "2026-01-26"},
		{"closure day does not move it", closed, "2026-01-08T23:30:00Z", 14, "2026-01-23"},
		{"closure day after a holiday does not move it", closed, noon("2025-12-12"), 14, "2025-12-29"},
		{"30 days", plain, noon("2025-12-12"), 30, "2026-01-12"},
		{"21 days", plain, noon("2025-12-12"), 21, "2026-01-02"},
		{"1 day onto a Saturday", plain, noon("2026-01-09"), 1, "2026-01-12"},
		{"0 days: the date of receipt, even a Saturday", plain, noon("2025-12-13"), 0, "2025-12-13"},
		{"negative days count as 0", plain, noon("2025-12-13"), -5, "2025-12-13"},
		{"0 days, zone still applies", plain, "2026-01-08T23:30:00Z", 0, "2026-01-09"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := tt.c.LegalDue(instant(t, tt.received), tt.days)
			if got.String() != tt.want {
				t.Errorf("LegalDue(%s, %d) = %s (%v), want %s", tt.received, tt.days, got, got.Weekday(), tt.want)
			}
			if tt.days > 0 && tt.c.IsDayOff(got) {
				t.Errorf("LegalDue(%s, %d) = %s is a day off", tt.received, tt.days, got)
			}
		})
	}
}

func TestDays(t *testing.T) {
	c := New(warsaw(t), []Date{{2026, time.January, 23}}, []Date{{2026, time.January, 7}, {}})
	tests := []struct {
		d        string
		dayOff   bool
		business bool
		holiday  string
	}{
		{"2026-01-05", false, true, ""},
		{"2026-01-06", true, false, "Święto Trzech Króli"},
		{"2026-01-07", false, false, ""}, // closure day: not statutory
		{"2026-01-10", true, false, ""},  // Saturday
		{"2026-01-11", true, false, ""},  // Sunday
		{"2026-01-23", true, false, nameExtraHoliday},
		{"2026-05-03", true, false, "Święto Narodowe Trzeciego Maja"}, // also a Sunday
		{"2026-12-24", true, false, "Wigilia Bożego Narodzenia"},
	}
	for _, tt := range tests {
		d := date(t, tt.d)
		name, ok := c.Holiday(d)
		if c.IsDayOff(d) != tt.dayOff || c.IsBusinessDay(d) != tt.business || name != tt.holiday || ok != (tt.holiday != "") {
			t.Errorf("%s: IsDayOff %v, IsBusinessDay %v, Holiday %q; want %v, %v, %q",
				d, c.IsDayOff(d), c.IsBusinessDay(d), name, tt.dayOff, tt.business, tt.holiday)
		}
	}
	if c.Location().String() != "Europe/Warsaw" || New(nil, nil, nil).Location() != time.UTC {
		t.Error("Location")
	}
}

func TestNewCopiesAndNormalises(t *testing.T) {
	extra := []Date{{2026, time.January, 32}} // 2026-02-01 written unnormalised
	c := New(time.UTC, extra, nil)
	extra[0] = Date{2026, time.March, 3}
	if _, ok := c.Holiday(Date{2026, time.February, 1}); !ok {
		t.Error("extra holiday not normalised")
	}
	if _, ok := c.Holiday(Date{2026, time.March, 3}); ok {
		t.Error("New did not copy its input")
	}
}

func TestAddBusinessDays(t *testing.T) {
	c := New(warsaw(t), nil, []Date{{2026, time.January, 8}})
	tests := []struct {
		name string
		from string
		n    int
		want string
	}{
		{"zero", "2026-01-02", 0, "2026-01-02"},
		{"negative", "2026-01-02", -3, "2026-01-02"},
		{"within a week", "2026-01-12", 3, "2026-01-15"},
		{"across a weekend", "2026-01-02", 1, "2026-01-05"},
		{"across a weekend and Epiphany", "2026-01-02", 2, "2026-01-07"},
		{"across a closure day", "2026-01-07", 1, "2026-01-09"},
		{"weekend, holiday and closure day", "2026-01-02", 3, "2026-01-09"},
		{"from a Saturday", "2026-01-03", 1, "2026-01-05"},
		{"over Christmas 2025", "2025-12-23", 1, "2025-12-29"},
		{"ten", "2026-01-02", 10, "2026-01-20"},
	}
	for _, tt := range tests {
		if got := c.AddBusinessDays(date(t, tt.from), tt.n); got.String() != tt.want {
			t.Errorf("%s: AddBusinessDays(%s, %d) = %s, want %s", tt.name, tt.from, tt.n, got, tt.want)
		}
	}
}

func BenchmarkLegalDue(b *testing.B) {
	c := New(warsaw(b), []Date{{2026, time.January, 23}}, []Date{{2026, time.January, 7}})
	// The DOMAIN example: three days of moving (26 Dec, Saturday, Sunday).
	received := instant(b, "2025-12-12T12:00:00+01:00")
	b.ReportAllocs()
	for b.Loop() {
		if c.LegalDue(received, 14) != (Date{2025, time.December, 29}) {
			b.Fatal("wrong date")
		}
	}
}

func BenchmarkPolishHolidays(b *testing.B) {
	b.ReportAllocs()
	for b.Loop() {
		_ = PolishHolidays(2026)
	}
}
