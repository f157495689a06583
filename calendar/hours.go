package calendar

import (
	"errors"
	"fmt"
	"strconv"
	"strings"
	"time"
)

// Hours are the working hours of every working day, in the calendar's zone
// (wall clock). Service levels ("first staff answer within 8 business
// hours") count only this time.
//
// A working day is a date whose weekday is in Weekdays and that is neither
// a statutory holiday (built-in or configured extra) nor a closure day.
// Weekdays decide on their own which days of the week count: unlike
// IsBusinessDay, a Saturday or a Sunday listed in Weekdays is a working
// day, because a team that answers mail on Saturdays owes its service
// level on Saturdays too.
type Hours struct {
	// Start and End are wall-clock times since local midnight, e.g. 8h and
	// 16h; 0 <= Start < End <= 24h. A period never crosses midnight: night
	// shifts are not modelled.
	Start, End time.Duration
	// Weekdays are the working days of the week; nil means Monday to
	// Friday. A non-nil empty slice means none and is invalid. Duplicates
	// are harmless.
	Weekdays []time.Weekday
}

// horizonDays bounds every day-by-day loop: ten years. Service levels are
// hours or days, so a span this long only comes from a configuration
// without working days or a corrupt duration, and must not spin for ever.
const horizonDays = 10*365 + 3

// weekdayNames are the configuration's weekday spellings, three letters
// each, in time.Weekday order; a constant rather than a slice so that no
// package-level variable exists to be changed.
const weekdayNames = "sunmontuewedthufrisat"

// weekdayList is weekdayNames for error messages, in the order people read
// a week.
const weekdayList = "mon, tue, wed, thu, fri, sat, sun"

// ParseHours parses working hours from the configuration: start and end as
// HH:MM in 24-hour form ("08:00", "16:00"; end may be "24:00"), weekdays as
// 3-letter English names, case-insensitive ("mon", "Tue"). No weekdays
// (nil or empty) means Monday to Friday, the default of Hours. The result
// is validated.
func ParseHours(start, end string, weekdays []string) (Hours, error) {
	var h Hours
	var err error
	if h.Start, err = parseClock(start); err != nil {
		return Hours{}, fmt.Errorf("calendar: working hours start %q: %w", start, err)
	}
	if h.End, err = parseClock(end); err != nil {
		return Hours{}, fmt.Errorf("calendar: working hours end %q: %w", end, err)
	}
	if len(weekdays) > 0 {
		h.Weekdays = make([]time.Weekday, 0, len(weekdays))
		for _, name := range weekdays {
			wd, ok := parseWeekday(name)
			if !ok {
				return Hours{}, fmt.Errorf("calendar: working weekday %q: want one of %s", name, weekdayList)
			}
			h.Weekdays = append(h.Weekdays, wd)
		}
	}
	if err := h.Validate(); err != nil {
		return Hours{}, err
	}
	return h, nil
}

// parseClock parses H:MM or HH:MM between 00:00 and 24:00. Written by hand
// rather than with time.Parse, which has no 24:00, the only way to say
// "until midnight".
func parseClock(s string) (time.Duration, error) {
	errForm := errors.New("want HH:MM between 00:00 and 24:00, e.g. 08:00")
	hh, mm, ok := strings.Cut(strings.TrimSpace(s), ":")
	if !ok || len(hh) < 1 || len(hh) > 2 || len(mm) != 2 {
		return 0, errForm
	}
	h, errH := strconv.Atoi(hh)
	m, errM := strconv.Atoi(mm)
	// Atoi accepts signs; a digit check keeps "+8:00" and "-1:00" out.
	if errH != nil || errM != nil || hh[0] < '0' || hh[0] > '9' || mm[0] < '0' || mm[0] > '9' ||
		h > 24 || m > 59 || (h == 24 && m != 0) {
		return 0, errForm
	}
	return time.Duration(h)*time.Hour + time.Duration(m)*time.Minute, nil
}

func parseWeekday(s string) (time.Weekday, bool) {
	s = strings.ToLower(strings.TrimSpace(s))
	for wd := time.Sunday; wd <= time.Saturday; wd++ {
		if s == weekdayNames[3*wd:3*wd+3] {
			return wd, true
		}
	}
	return 0, false
}

// formatClock writes d since midnight as HH:MM (seconds, if any, are
// dropped: messages only).
func formatClock(d time.Duration) string {
	return fmt.Sprintf("%02d:%02d", int(d/time.Hour), int(d%time.Hour/time.Minute))
}

// Validate reports whether h can be used: 0 <= Start < End <= 24h and at
// least one valid weekday (or nil Weekdays). The working-time methods treat
// an invalid h as having no working time at all, so validate at
// configuration time.
func (h Hours) Validate() error {
	switch {
	case h.Start < 0 || h.Start >= 24*time.Hour:
		return fmt.Errorf("calendar: working hours start %v: want a time of day from 00:00 to 23:59", h.Start)
	case h.End <= 0 || h.End > 24*time.Hour:
		return fmt.Errorf("calendar: working hours end %v: want a time of day from 00:01 to 24:00", h.End)
	case h.Start >= h.End:
		return fmt.Errorf("calendar: working hours %s-%s: start must be before end (periods past midnight are not supported)",
			formatClock(h.Start), formatClock(h.End))
	case h.Weekdays != nil && len(h.Weekdays) == 0:
		return fmt.Errorf("calendar: working hours list no weekday: list at least one of %s, or none for Monday to Friday", weekdayList)
	}
	for _, wd := range h.Weekdays {
		if wd < time.Sunday || wd > time.Saturday {
			return fmt.Errorf("calendar: working weekday %d: want time.Sunday (0) to time.Saturday (6)", int(wd))
		}
	}
	return nil
}

// schedule is Hours checked and reduced to what the loops need: the
// weekdays as a bit set, so that a lookup per day costs no slice scan.
type schedule struct {
	start, end time.Duration
	days       uint8 // bit i set: time.Weekday(i) is a working weekday
}

// schedule returns h's schedule; ok is false when h is invalid.
func (h Hours) schedule() (s schedule, ok bool) {
	if h.Validate() != nil {
		return schedule{}, false
	}
	s = schedule{start: h.Start, end: h.End}
	if h.Weekdays == nil {
		s.days = 1<<time.Monday | 1<<time.Tuesday | 1<<time.Wednesday | 1<<time.Thursday | 1<<time.Friday
	}
	for _, wd := range h.Weekdays {
		s.days |= 1 << wd
	}
	return s, true
}

// isWorkingDay reports whether d is a working day of s in c: a listed
// weekday, no statutory holiday, no closure day.
func (c *Calendar) isWorkingDay(d Date, s schedule) bool {
	if s.days&(1<<d.Weekday()) == 0 {
		return false
	}
	if _, holiday := c.Holiday(d); holiday {
		return false
	}
	_, closed := c.closed[d]
	return !closed
}

// period returns the working period of date d in c's zone, [start, end).
// Both ends are built from d's wall clock with time.Date, never by adding
// 24h to a previous day, so they stay at 08:00 and 16:00 local on the days
// daylight saving time starts or ends. Working time is elapsed time
// between the two instants: a period that contains a DST jump (only
// possible with hours around 02:00-03:00) is an hour shorter or longer.
func (c *Calendar) period(d Date, s schedule) (start, end time.Time) {
	return wallClock(d, s.start, c.loc), wallClock(d, s.end, c.loc)
}

// wallClock returns the instant at off since midnight on d in loc, on the
// wall clock; off == 24h is the next midnight.
func wallClock(d Date, off time.Duration, loc *time.Location) time.Time {
	return time.Date(d.Year, d.Month, d.Day,
		int(off/time.Hour), int(off%time.Hour/time.Minute), int(off%time.Minute/time.Second), int(off%time.Second), loc)
}

// never is what AddWorkingTime returns when no answer exists within the
// horizon: far enough to read as "not due", and still a year every
// database and RFC 3339 can hold in any zone.
func never(loc *time.Location) time.Time {
	return time.Date(9999, time.December, 31, 0, 0, 0, 0, time.UTC).In(loc)
}

// IsWorkingTime reports whether t falls within working hours of a working
// day, judged on t's wall clock in the calendar's zone. A period includes
// its start and excludes its end: at 16:00 sharp the day's work is over.
func (c *Calendar) IsWorkingTime(t time.Time, h Hours) bool {
	s, ok := h.schedule()
	if !ok {
		return false
	}
	t = t.In(c.loc)
	d := DateOf(t, c.loc)
	if !c.isWorkingDay(d, s) {
		return false
	}
	start, end := c.period(d, s)
	return !t.Before(start) && t.Before(end)
}

// AddWorkingTime returns the instant when d of working time has passed
// after from, in the calendar's zone.
//
// If from is outside working hours, counting starts at the next working
// period's start. When d ends exactly at the end of a period, the result is
// that end (Friday 15:00 + 1h is Friday 16:00, not Monday 08:00): a
// deadline met by 16:00 is met. d == 0 returns from moved forward to the
// next working instant, or from itself if it is inside working hours;
// negative d counts as 0.
//
// It takes at most one step per calendar day and looks ten years ahead at
// most. If d of working time does not fit in that horizon (h is invalid or
// has no working day, or d is absurd), it returns 9999-12-31T00:00:00Z in
// the calendar's zone: "never due" rather than a loop that does not end.
func (c *Calendar) AddWorkingTime(from time.Time, d time.Duration, h Hours) time.Time {
	s, ok := h.schedule()
	if !ok {
		return never(c.loc)
	}
	d = max(d, 0)
	from = from.In(c.loc)
	day := DateOf(from, c.loc)
	for range horizonDays + 1 {
		if c.isWorkingDay(day, s) {
			start, end := c.period(day, s)
			if start.Before(from) {
				start = from
			}
			// The period is empty when from is past it (or, with hours
			// inside a DST gap, when the zone has no such wall time).
			if end.After(start) {
				avail := end.Sub(start)
				if d <= avail {
					return start.Add(d)
				}
				d -= avail
			}
		}
		day = day.AddDays(1)
	}
	return never(c.loc)
}

// WorkingTimeBetween returns the working time between a and b: the part of
// [a, b) inside working periods; 0 if b <= a or h is invalid. For any from
// and d >= 0 whose result is not the far-future "never",
// WorkingTimeBetween(from, AddWorkingTime(from, d, h), h) == d.
//
// Like AddWorkingTime it looks at most ten years past a: time beyond that
// is not counted, so a "never" deadline costs no more than a real one.
func (c *Calendar) WorkingTimeBetween(a, b time.Time, h Hours) time.Duration {
	s, ok := h.schedule()
	if !ok || !b.After(a) {
		return 0
	}
	a, b = a.In(c.loc), b.In(c.loc)
	first := DateOf(a, c.loc)
	last := DateOf(b, c.loc)
	if limit := first.AddDays(horizonDays); last.After(limit) {
		last = limit
	}
	var total time.Duration
	for day := first; !day.After(last); day = day.AddDays(1) {
		if !c.isWorkingDay(day, s) {
			continue
		}
		start, end := c.period(day, s)
		if start.Before(a) {
			start = a
		}
		if end.After(b) {
			end = b
		}
		if end.After(start) {
			total += end.Sub(start)
		}
	}
	return total
}
