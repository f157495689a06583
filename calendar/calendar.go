package calendar

import "time"

// nameExtraHoliday names a configured extra statutory day off; the
// configuration gives only its date.
const nameExtraHoliday = "Dodatkowy dzień wolny od pracy"

// DefaultAnswerDays is the statutory time to answer a consumer's complaint:
// 14 days of receiving it (ustawa o prawach konsumenta, art. 7a ust. 1).
const DefaultAnswerDays = 14

// Calendar is the business calendar of one shop: its time zone, the Polish
// statutory holidays, the configured extra statutory days off and the
// company's closure days. It is immutable after New, so one value may be
// shared by every goroutine without locking.
type Calendar struct {
	loc    *time.Location
	extra  map[Date]struct{}
	closed map[Date]struct{}
}

// New returns the calendar for loc (nil means UTC; a shop in Poland passes
// Europe/Warsaw, DOMAIN §2).
//
// extraHolidays are one-off statutory days off that the law may add, as
// 2018-11-12 was: like the built-in holidays they move the legal deadline
// (KC art. 115).
//
// closedDays are the company's own closure days: not statutory, so they
// never extend the legal deadline, but they are not business days.
//
// Zero dates in either list are ignored; the lists are copied.
func New(loc *time.Location, extraHolidays, closedDays []Date) *Calendar {
	if loc == nil {
		loc = time.UTC
	}
	return &Calendar{
		loc:    loc,
		extra:  dateSet(extraHolidays),
		closed: dateSet(closedDays),
	}
}

// dateSet normalises ds into a set, so that lookups with normalised dates
// find them.
func dateSet(ds []Date) map[Date]struct{} {
	set := make(map[Date]struct{}, len(ds))
	for _, d := range ds {
		if !d.IsZero() {
			set[d.AddDays(0)] = struct{}{}
		}
	}
	return set
}

// Location returns the calendar's time zone.
func (c *Calendar) Location() *time.Location { return c.loc }

// Holiday returns the name of the statutory holiday on d: a built-in Polish
// holiday or a configured extra one. Closure days are not holidays.
func (c *Calendar) Holiday(d Date) (name string, ok bool) {
	if name, ok := statutoryHoliday(d); ok {
		return name, true
	}
	if _, ok := c.extra[d]; ok {
		return nameExtraHoliday, true
	}
	return "", false
}

// IsDayOff reports whether d is a Saturday, a Sunday or a statutory holiday:
// the days on which a deadline may not end (KC art. 115: "dzień uznany
// ustawowo za wolny od pracy lub sobota"; Sundays are days off by the
// ustawa o dniach wolnych od pracy, art. 1 pkt 1).
func (c *Calendar) IsDayOff(d Date) bool {
	switch d.Weekday() {
	case time.Saturday, time.Sunday:
		return true
	}
	_, ok := c.Holiday(d)
	return ok
}

// IsBusinessDay reports whether the company works on d: Monday to Friday,
// not a statutory holiday and not a closure day.
func (c *Calendar) IsBusinessDay(d Date) bool {
	if c.IsDayOff(d) {
		return false
	}
	_, closed := c.closed[d]
	return !closed
}

// AddBusinessDays returns the n-th business day after d; d itself is not
// counted, whether or not it is a business day. n <= 0 returns d.
func (c *Calendar) AddBusinessDays(d Date, n int) Date {
	for n > 0 {
		d = d.AddDays(1)
		if c.IsBusinessDay(d) {
			n--
		}
	}
	return d
}

// LegalDue returns the last day on which the answer to a complaint received
// at instant received may be given, for a deadline of days calendar days
// (DefaultAnswerDays for a consumer complaint; sector rules may set other
// numbers, DOMAIN §1).
//
// The day of receipt is not counted (KC art. 111 §2): day 1 is the next
// date in c's zone, so the deadline is the date of received plus days. If
// that falls on a Saturday or a statutory day off (a Sunday or a holiday,
// including the configured extra ones) it moves to the next day that is
// neither (KC art. 115). Closure days do not move it: the law does not know
// them.
//
// days == 0 means "due on the day of receipt" and returns that date as is,
// without the art. 115 shift (there is no running period to extend).
// Negative days are treated as 0. It never panics.
func (c *Calendar) LegalDue(received time.Time, days int) Date {
	due := DateOf(received, c.loc)
	if days <= 0 {
		return due
	}
	due = due.AddDays(days)
	// Bounded: at most a weekend plus a run of holidays (24-26 December
	// followed by a weekend is the longest, five days).
	for c.IsDayOff(due) {
		due = due.AddDays(1)
	}
	return due
}
