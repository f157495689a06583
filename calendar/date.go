// Package calendar owns the business calendar: the Polish statutory public
// holidays for any year, one-off extra holidays and company closure days from
// the configuration, and the legal answer deadline for a complaint (DOMAIN §1
// and §2). Every function is pure: the time zone is passed in, nothing reads
// the clock or the machine's local zone, and a Calendar never changes after
// New, so it is safe for concurrent use.
package calendar

import (
	"cmp"
	"fmt"
	"time"
)

// Date is a civil date with no time zone. Deadlines are dates, not
// instants: the law counts days in the shop's zone (DOMAIN §2), so an
// instant becomes a Date only through DateOf with an explicit zone.
//
// The zero Date is "no date". Dates made by DateOf, ParseDate and AddDays
// are normalised; a literal such as Date{2026, 2, 30} is not, and compares
// and looks up as written.
type Date struct {
	Year  int
	Month time.Month
	Day   int
}

// dateLayout is ISO 8601 calendar date form, the form used in the
// configuration and in logs.
const dateLayout = "2006-01-02"

// DateOf returns the date of t in loc. A nil loc means UTC (time.Time.In
// would panic on nil; a missing zone must not crash intake).
func DateOf(t time.Time, loc *time.Location) Date {
	if loc == nil {
		loc = time.UTC
	}
	y, m, d := t.In(loc).Date()
	return Date{y, m, d}
}

// ParseDate parses s in the form YYYY-MM-DD, e.g. "2026-01-31". It rejects
// dates that do not exist (2026-02-30).
func ParseDate(s string) (Date, error) {
	t, err := time.Parse(dateLayout, s)
	if err != nil {
		return Date{}, fmt.Errorf("calendar: date %q: want the form YYYY-MM-DD, e.g. 2026-01-31", s)
	}
	y, m, d := t.Date()
	return Date{y, m, d}, nil
}

// String returns d in the form YYYY-MM-DD.
func (d Date) String() string {
	// Formatted by hand rather than through time.Format: no allocation of
	// a time.Time, and an unnormalised Date prints as written.
	return fmt.Sprintf("%04d-%02d-%02d", d.Year, int(d.Month), d.Day)
}

// MarshalText implements encoding.TextMarshaler (YYYY-MM-DD), so a Date can
// be used directly in YAML and JSON.
func (d Date) MarshalText() ([]byte, error) {
	return []byte(d.String()), nil
}

// UnmarshalText implements encoding.TextUnmarshaler with ParseDate.
func (d *Date) UnmarshalText(b []byte) error {
	v, err := ParseDate(string(b))
	if err != nil {
		return err
	}
	*d = v
	return nil
}

// utcNoon is d at noon UTC. Day arithmetic is done in UTC, which has no
// daylight saving time, so adding 24h steps always moves exactly one date.
func (d Date) utcNoon() time.Time {
	return time.Date(d.Year, d.Month, d.Day, 12, 0, 0, 0, time.UTC)
}

// AddDays returns the date n calendar days after d (before it for n < 0).
// The result is normalised: Date{2026, 1, 32}.AddDays(0) is 2026-02-01.
func (d Date) AddDays(n int) Date {
	y, m, dd := time.Date(d.Year, d.Month, d.Day+n, 12, 0, 0, 0, time.UTC).Date()
	return Date{y, m, dd}
}

// Weekday returns the day of the week of d.
func (d Date) Weekday() time.Weekday {
	return d.utcNoon().Weekday()
}

// Compare returns -1 if d is before o, 0 if they are the same date and +1
// if d is after o.
func (d Date) Compare(o Date) int {
	if c := cmp.Compare(d.Year, o.Year); c != 0 {
		return c
	}
	if c := cmp.Compare(d.Month, o.Month); c != 0 {
		return c
	}
	return cmp.Compare(d.Day, o.Day)
}

// Before reports whether d is before o.
func (d Date) Before(o Date) bool { return d.Compare(o) < 0 }

// After reports whether d is after o.
func (d Date) After(o Date) bool { return d.Compare(o) > 0 }

// IsZero reports whether d is the zero Date (no date).
func (d Date) IsZero() bool { return d == Date{} }

// Start returns midnight at the start of d in loc (nil means UTC). Where a
// zone skips midnight itself, time.Date normalises to the first instant of
// the day that exists.
func (d Date) Start(loc *time.Location) time.Time {
	if loc == nil {
		loc = time.UTC
	}
	return time.Date(d.Year, d.Month, d.Day, 0, 0, 0, 0, loc)
}

// End returns the last instant of d in loc (nil means UTC): the start of the
// next day minus one nanosecond. It is computed from the next day's start,
// not as Start+24h, because a day in a zone with daylight saving time can
// last 23 or 25 hours (in Europe/Warsaw: the last Sundays of March and
// October), and a deadline must run to the real end of its day.
func (d Date) End(loc *time.Location) time.Time {
	return d.AddDays(1).Start(loc).Add(-time.Nanosecond)
}
