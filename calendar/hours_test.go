package calendar

import (
	"slices"
	"strings"
	"testing"
	"time"
)

// officeHours() are the default working hours of the examples: 08:00-16:00,
// Monday to Friday. A function, not a variable: no shared test state.
func officeHours() Hours { return Hours{Start: 8 * time.Hour, End: 16 * time.Hour} }

func hours(t testing.TB, start, end string, days ...string) Hours {
	t.Helper()
	h, err := ParseHours(start, end, days)
	if err != nil {
		t.Fatal(err)
	}
	return h
}

func TestParseHours(t *testing.T) {
	tests := []struct {
		start, end string
		days       []string
		want       Hours
		err        string // part of the error; "" means success
	}{
		{"08:00", "16:00", nil, officeHours(), ""},
		{"08:00", "16:00", []string{}, officeHours(), ""},
		{"8:30", "24:00", []string{"Mon", "TUE", " sat "}, Hours{8*time.Hour + 30*time.Minute, 24 * time.Hour,
			[]time.Weekday{time.Monday, time.Tuesday, time.Saturday}}, ""},
		{"00:00", "23:59", []string{"sun", "sun"}, Hours{0, 23*time.Hour + 59*time.Minute, []time.Weekday{time.Sunday, time.Sunday}}, ""},
		{"25:00", "16:00", nil, Hours{}, `start "25:00": want HH:MM between 00:00 and 24:00`},
		{"08:00", "24:30", nil, Hours{}, `end "24:30": want HH:MM`},
		{"08:60", "16:00", nil, Hours{}, "want HH:MM"},
		{"8", "16:00", nil, Hours{}, "want HH:MM"},
		{"", "16:00", nil, Hours{}, "want HH:MM"},
		{"+8:00", "16:00", nil, Hours{}, "want HH:MM"},
		{"08:00", "-1:00", nil, Hours{}, "want HH:MM"},
		{"08:00", "16:00:00", nil, Hours{}, "want HH:MM"},
		{"16:00", "08:00", nil, Hours{}, "16:00-08:00: start must be before end"},
		{"08:00", "08:00", nil, Hours{}, "start must be before end"},
		{"24:00", "24:00", nil, Hours{}, "want a time of day from 00:00 to 23:59"},
		{"08:00", "16:00", []string{"mon", "mo"}, Hours{}, `weekday "mo": want one of mon, tue, wed, thu, fri, sat, sun`},
		{"08:00", "16:00", []string{"monday"}, Hours{}, "want one of mon"},
		{"08:00", "16:00", []string{""}, Hours{}, "want one of mon"},
	}
	for _, tt := range tests {
		got, err := ParseHours(tt.start, tt.end, tt.days)
		switch {
		case tt.err == "" && err != nil:
			t.Errorf("ParseHours(%q, %q, %q): %v", tt.start, tt.end, tt.days, err)
		case tt.err != "" && (err == nil || !strings.Contains(err.Error(), tt.err)):
			t.Errorf("ParseHours(%q, %q, %q) error %v, want one containing %q", tt.start, tt.end, tt.days, err, tt.err)
		case got.Start != tt.want.Start || got.End != tt.want.End || !slices.Equal(got.Weekdays, tt.want.Weekdays) ||
			(got.Weekdays == nil) != (tt.want.Weekdays == nil):
			t.Errorf("ParseHours(%q, %q, %q) = %+v, want %+v", tt.start, tt.end, tt.days, got, tt.want)
		}
	}
}

func TestHoursValidate(t *testing.T) {
	tests := []struct {
		h   Hours
		err string // "" means valid
	}{
		{officeHours(), ""},
		{Hours{0, 24 * time.Hour, []time.Weekday{time.Sunday}}, ""},
		{Hours{}, "end 0s: want a time of day from 00:01 to 24:00"},
		{Hours{-time.Hour, 16 * time.Hour, nil}, "start -1h0m0s"},
		{Hours{8 * time.Hour, 25 * time.Hour, nil}, "end 25h0m0s"},
		{Hours{8 * time.Hour, 16 * time.Hour, []time.Weekday{}}, "list no weekday"},
		{Hours{8 * time.Hour, 16 * time.Hour, []time.Weekday{time.Monday, 7}}, "weekday 7"},
	}
	for _, tt := range tests {
		err := tt.h.Validate()
		if (err == nil) != (tt.err == "") || (err != nil && !strings.Contains(err.Error(), tt.err)) {
			t.Errorf("%+v.Validate() = %v, want %q", tt.h, err, tt.err)
		}
	}
}

func TestIsWorkingTime(t *testing.T) {
	loc := warsaw(t)
	plain := New(loc, nil, nil)
	closed := New(loc, nil, []Date{{2026, time.January, 15}})
	tests := []struct {
		c    *Calendar
		h    Hours
		at   string
		want bool
	}{
		{plain, officeHours(), "2026-01-14T08:00:00+01:00", true}, // the start belongs to the period
		{plain, officeHours(), "2026-01-14T07:59:59+01:00", false},
		{plain, officeHours(), "2026-01-14T15:59:59+01:00", true},
		{plain, officeHours(), "2026-01-14T16:00:00+01:00", false}, // the end does not
		{plain, officeHours(), "2026-01-14T07:30:00Z", true},       // 08:30 in Warsaw
		{plain, officeHours(), "2026-07-14T06:30:00Z", true},       // 08:30 CEST
		{plain, officeHours(), "2026-07-14T14:30:00Z", false},      // 16:30 CEST
		{plain, officeHours(), "2026-01-10T10:00:00+01:00", false}, // Saturday
		{plain, officeHours(), "2026-01-06T10:00:00+01:00", false}, // Epiphany
		{plain, officeHours(), "2025-12-24T10:00:00+01:00", false}, // Christmas Eve, a holiday from 2025
		{closed, officeHours(), "2026-01-15T10:00:00+01:00", false},
		{plain, hours(t, "08:00", "16:00", "mon", "tue", "wed", "thu", "fri", "sat"), "2026-01-10T10:00:00+01:00", true},
		{plain, hours(t, "08:00", "16:00", "sun"), "2026-01-11T10:00:00+01:00", true},                       // listed Sunday works
		{plain, hours(t, "08:00", "16:00", "sun"), "2026-04-05T10:00:00+02:00", false},                      // Easter Sunday does not
		{plain, hours(t, "00:00", "24:00"), "2026-01-09T23:30:00Z", false},                                  // Saturday 00:30 in Warsaw
		{plain, hours(t, "00:00", "24:00"), "2026-01-08T23:30:00Z", true},                                   // Friday 00:30
		{plain, Hours{8 * time.Hour, 16 * time.Hour, []time.Weekday{}}, "2026-01-14T10:00:00+01:00", false}, // invalid
	}
	for _, tt := range tests {
		if got := tt.c.IsWorkingTime(instant(t, tt.at), tt.h); got != tt.want {
			t.Errorf("IsWorkingTime(%s, %+v) = %v, want %v", tt.at, tt.h, got, tt.want)
		}
	}
}

// addCases are shared by TestAddWorkingTime and the inverse-property test.
type addCase struct {
	name string
	c    *Calendar
	h    Hours
	from string // RFC 3339
	d    time.Duration
	want string // RFC 3339 in Europe/Warsaw: the offset is checked too
}

func addCases(t testing.TB) []addCase {
	loc := warsaw(t)
	plain := New(loc, nil, nil)
	closures := New(loc, []Date{{2026, time.January, 16}}, []Date{{2026, time.January, 15}})
	monSat := hours(t, "08:00", "16:00", "mon", "tue", "wed", "thu", "fri", "sat")
	everyDay := hours(t, "08:00", "16:00", "mon", "tue", "wed", "thu", "fri", "sat", "sun")
	allDay := hours(t, "00:00", "24:00")
	allDayEveryDay := hours(t, "00:00", "24:00", "mon", "tue", "wed", "thu", "fri", "sat", "sun")
	return []addCase{
		{"within a day", plain, officeHours(), "2026-01-14T09:00:00+01:00", 3*time.Hour + 30*time.Minute, "2026-01-14T12:30:00+01:00"},
		{"ends at closing time", plain, officeHours(), "2026-01-14T15:00:00+01:00", time.Hour, "2026-01-14T16:00:00+01:00"},
		{"crossing to the next day", plain, officeHours(), "2026-01-14T14:00:00+01:00", 4 * time.Hour, "2026-01-15T10:00:00+01:00"},
		{"Friday 15:00 + 2h", plain, officeHours(), "2026-01-09T15:00:00+01:00", 2 * time.Hour, "2026-01-12T09:00:00+01:00"},
		{"Saturday night", plain, officeHours(), "2026-01-10T23:00:00+01:00", time.Hour, "2026-01-12T09:00:00+01:00"},
		{"over Easter Monday 2026", plain, officeHours(), "2026-04-03T15:00:00+02:00", 2 * time.Hour, "2026-04-07T09:00:00+02:00"},
		{"over 24-26 Dec 2025 and a weekend", plain, officeHours(), "2025-12-23T15:00:00+01:00", 4 * time.Hour, "2025-12-29T11:00:00+01:00"},
		{"over New Year", plain, officeHours(), "2025-12-31T15:00:00+01:00", 2 * time.Hour, "2026-01-02T09:00:00+01:00"},
		{"evening before the May long weekend", plain, officeHours(), "2026-04-30T17:30:00+02:00", time.Hour, "2026-05-04T09:00:00+02:00"},
		{"across DST start", plain, officeHours(), "2026-03-27T15:00:00+01:00", 3 * time.Hour, "2026-03-30T10:00:00+02:00"},
		{"across DST end", plain, officeHours(), "2026-10-23T15:00:00+02:00", 3 * time.Hour, "2026-10-26T10:00:00+01:00"},
		{"on the DST start day itself", plain, everyDay, "2026-03-28T15:00:00+01:00", 2 * time.Hour, "2026-03-29T09:00:00+02:00"},
		{"on the DST end day itself", plain, everyDay, "2026-10-24T15:00:00+02:00", 2 * time.Hour, "2026-10-25T09:00:00+01:00"},
		{"the DST start day lasts 23 elapsed hours", plain, allDayEveryDay, "2026-03-29T00:00:00+01:00", 3 * time.Hour, "2026-03-29T04:00:00+02:00"},
		{"closure day and extra holiday skipped", closures, officeHours(), "2026-01-14T14:00:00+01:00", 4 * time.Hour, "2026-01-19T10:00:00+01:00"},
		{"Monday to Saturday", plain, monSat, "2026-01-09T15:00:00+01:00", 2 * time.Hour, "2026-01-10T09:00:00+01:00"},
		{"Monday to Saturday, Sunday skipped", plain, monSat, "2026-01-10T15:00:00+01:00", 2 * time.Hour, "2026-01-12T09:00:00+01:00"},
		{"d=0 inside hours", plain, officeHours(), "2026-01-14T10:17:00+01:00", 0, "2026-01-14T10:17:00+01:00"},
		{"d=0 at opening", plain, officeHours(), "2026-01-14T08:00:00+01:00", 0, "2026-01-14T08:00:00+01:00"},
		{"d=0 before opening", plain, officeHours(), "2026-01-14T06:00:00+01:00", 0, "2026-01-14T08:00:00+01:00"},
		{"d=0 at closing", plain, officeHours(), "2026-01-14T16:00:00+01:00", 0, "2026-01-15T08:00:00+01:00"},
		{"d=0 on Friday evening", plain, officeHours(), "2026-01-09T19:00:00+01:00", 0, "2026-01-12T08:00:00+01:00"},
		{"negative d counts as 0", plain, officeHours(), "2026-01-09T19:00:00+01:00", -time.Hour, "2026-01-12T08:00:00+01:00"},
		{"23:30 UTC is already Friday in Warsaw", plain, officeHours(), "2026-01-08T23:30:00Z", time.Hour, "2026-01-09T09:00:00+01:00"},
		{"23:30 UTC on Friday is Saturday in Warsaw", plain, allDay, "2026-01-09T23:30:00Z", time.Hour, "2026-01-12T01:00:00+01:00"},
		{"from in another zone", plain, officeHours(), "2026-01-14T03:00:00-05:00", time.Hour, "2026-01-14T10:00:00+01:00"},
		{"200 working hours over Epiphany", plain, officeHours(), "2026-01-05T08:00:00+01:00", 200 * time.Hour, "2026-02-09T16:00:00+01:00"},
	}
}

func TestAddWorkingTime(t *testing.T) {
	loc := warsaw(t)
	for _, tt := range addCases(t) {
		got := tt.c.AddWorkingTime(instant(t, tt.from), tt.d, tt.h)
		if got.Format(time.RFC3339Nano) != tt.want || got.Location().String() != loc.String() {
			t.Errorf("%s: AddWorkingTime(%s, %v) = %s (%v), want %s", tt.name, tt.from, tt.d, got.Format(time.RFC3339), got.Weekday(), tt.want)
		}
	}
}

func TestAddWorkingTimeNever(t *testing.T) {
	loc := warsaw(t)
	c := New(loc, nil, nil)
	from := instant(t, "2026-01-14T10:00:00+01:00")
	want := instant(t, "9999-12-31T00:00:00Z")
	tests := []struct {
		name string
		h    Hours
		d    time.Duration
	}{
		{"no weekday", Hours{8 * time.Hour, 16 * time.Hour, []time.Weekday{}}, time.Hour},
		{"no weekday, d=0", Hours{8 * time.Hour, 16 * time.Hour, []time.Weekday{}}, 0},
		{"end before start", Hours{16 * time.Hour, 8 * time.Hour, nil}, time.Hour},
		{"more than ten years of work", officeHours(), 30000 * time.Hour},
	}
	for _, tt := range tests {
		got := c.AddWorkingTime(from, tt.d, tt.h)
		if !got.Equal(want) || got.Location().String() != loc.String() {
			t.Errorf("%s: AddWorkingTime = %v, want %v in %v", tt.name, got, want, loc)
		}
	}
	// The horizon must not cut off real work: a year is well inside it.
	year := c.AddWorkingTime(from, 2000*time.Hour, officeHours())
	if year.Year() != 2027 {
		t.Errorf("2000 working hours from %v = %v, want a date in 2027", from, year)
	}
}

func TestWorkingTimeBetween(t *testing.T) {
	loc := warsaw(t)
	plain := New(loc, nil, nil)
	allDayEveryDay := hours(t, "00:00", "24:00", "mon", "tue", "wed", "thu", "fri", "sat", "sun")
	tests := []struct {
		name string
		h    Hours
		a, b string
		want time.Duration
	}{
		{"b before a", officeHours(), "2026-01-14T12:00:00+01:00", "2026-01-14T10:00:00+01:00", 0},
		{"b equals a", officeHours(), "2026-01-14T12:00:00+01:00", "2026-01-14T12:00:00+01:00", 0},
		{"within a day", officeHours(), "2026-01-14T09:15:00+01:00", "2026-01-14T12:00:00+01:00", 2*time.Hour + 45*time.Minute},
		{"outside hours", officeHours(), "2026-01-14T16:00:00+01:00", "2026-01-15T08:00:00+01:00", 0},
		{"over a weekend", officeHours(), "2026-01-09T14:00:00+01:00", "2026-01-12T10:00:00+01:00", 4 * time.Hour},
		{"week with Epiphany", officeHours(), "2026-01-05T00:00:00+01:00", "2026-01-12T00:00:00+01:00", 32 * time.Hour},
		{"Christmas week 2025", officeHours(), "2025-12-22T00:00:00+01:00", "2025-12-29T00:00:00+01:00", 16 * time.Hour},
		{"week of DST start", officeHours(), "2026-03-23T00:00:00+01:00", "2026-03-30T00:00:00+02:00", 40 * time.Hour},
		{"DST start day is 23 elapsed hours", allDayEveryDay, "2026-03-29T00:00:00+01:00", "2026-03-30T00:00:00+02:00", 23 * time.Hour},
		{"DST end day is 25 elapsed hours", allDayEveryDay, "2026-10-25T00:00:00+02:00", "2026-10-26T00:00:00+01:00", 25 * time.Hour},
		{"ends in other zones", officeHours(), "2026-01-14T06:00:00Z", "2026-01-14T10:00:00-05:00", 8 * time.Hour},
		{"invalid hours", Hours{}, "2026-01-14T00:00:00+01:00", "2026-01-15T00:00:00+01:00", 0},
	}
	for _, tt := range tests {
		if got := plain.WorkingTimeBetween(instant(t, tt.a), instant(t, tt.b), tt.h); got != tt.want {
			t.Errorf("%s: WorkingTimeBetween(%s, %s) = %v, want %v", tt.name, tt.a, tt.b, got, tt.want)
		}
	}
	// The far-future "never" costs ten years of steps, not eight thousand.
	far := plain.AddWorkingTime(instant(t, "2026-01-14T10:00:00+01:00"), time.Hour, Hours{Weekdays: []time.Weekday{}})
	got := plain.WorkingTimeBetween(instant(t, "2026-01-01T00:00:00+01:00"), far, officeHours())
	if got < 9*250*8*time.Hour || got > 11*260*8*time.Hour {
		t.Errorf("WorkingTimeBetween(2026, never) = %v, want about ten years of working time", got)
	}
}

// TestAddWorkingTimeInverse checks WorkingTimeBetween(from, AddWorkingTime(from, d), h) == d
// for the table and for a sweep of instants over more than a year (both DST
// changes, Easter, Christmas, a year end), inside and outside working hours
// alike: time outside them counts for nothing either way.
func TestAddWorkingTimeInverse(t *testing.T) {
	for _, tt := range addCases(t) {
		from := instant(t, tt.from)
		to := tt.c.AddWorkingTime(from, tt.d, tt.h)
		if got := tt.c.WorkingTimeBetween(from, to, tt.h); got != max(tt.d, 0) {
			t.Errorf("%s: WorkingTimeBetween(%s, %s) = %v, want %v", tt.name, tt.from, to.Format(time.RFC3339), got, tt.d)
		}
	}
	loc := warsaw(t)
	c := New(loc, []Date{{2026, time.June, 5}}, []Date{{2026, time.August, 14}})
	configs := []Hours{
		officeHours(),
		hours(t, "07:30", "15:30", "mon", "tue", "wed", "thu", "fri", "sat"),
		hours(t, "00:00", "24:00", "sun", "mon"),
		hours(t, "01:00", "04:00", "sat", "sun"), // spans the DST jumps
	}
	durations := []time.Duration{0, time.Minute, time.Hour, 8 * time.Hour, 13*time.Hour + 27*time.Minute, 45 * time.Hour}
	end := instant(t, "2027-01-10T00:00:00Z")
	for _, h := range configs {
		for from := instant(t, "2025-12-01T00:00:00Z"); from.Before(end); from = from.Add(3*time.Hour + 17*time.Minute) {
			for _, d := range durations {
				to := c.AddWorkingTime(from, d, h)
				if got := c.WorkingTimeBetween(from, to, h); got != d {
					t.Fatalf("%+v: WorkingTimeBetween(%v, AddWorkingTime(+%v) = %v) = %v", h, from.In(loc), d, to, got)
				}
				if d > 0 && !c.IsWorkingTime(to.Add(-time.Nanosecond), h) {
					t.Fatalf("%+v: AddWorkingTime(%v, %v) = %v does not end working time", h, from.In(loc), d, to)
				}
				if d == 0 && !c.IsWorkingTime(to, h) {
					t.Fatalf("%+v: AddWorkingTime(%v, 0) = %v is not working time", h, from.In(loc), to)
				}
			}
		}
	}
}

func BenchmarkAddWorkingTime(b *testing.B) {
	c := New(warsaw(b), nil, []Date{{2026, time.January, 7}})
	tests := []struct {
		name string
		from string
		d    time.Duration
		want string
	}{
		// Friday afternoon: the answer is due on Monday.
		{"8h", "2026-01-09T15:00:00+01:00", 8 * time.Hour, "2026-01-12T15:00:00+01:00"},
		// Five weeks with Epiphany and a closure day.
		{"200h", "2026-01-05T08:00:00+01:00", 200 * time.Hour, "2026-02-10T16:00:00+01:00"},
	}
	for _, tt := range tests {
		b.Run(tt.name, func(b *testing.B) {
			from, want := instant(b, tt.from), instant(b, tt.want)
			b.ReportAllocs()
			for b.Loop() {
				if got := c.AddWorkingTime(from, tt.d, officeHours()); !got.Equal(want) {
					b.Fatalf("AddWorkingTime = %v, want %v", got, want)
				}
			}
		})
	}
}
