package calendar

import (
	"slices"
	"time"
)

// Holiday is a statutory public holiday: a day off by law.
type Holiday struct {
	Date Date
	Name string // in Polish, as the law names it, e.g. "Boże Narodzenie"
}

// Years from which holidays added by later amendments to the ustawa z dnia
// 18 stycznia 1951 r. o dniach wolnych od pracy apply. Earlier history
// (before 1990 the list was different again) is not modelled: claimsd only
// computes deadlines for current complaints.
const (
	// Trzech Króli: ustawa z dnia 24 września 2010 r., in force 2011.
	epiphanyFrom = 2011
	// Wigilia: ustawa z dnia 6 grudnia 2024 r., in force 2025.
	christmasEveFrom = 2025
)

// oneOffYear is the year of the one-off day off on 12 November 2018
// (ustawa z dnia 9 listopada 2018 r. o ustanowieniu dnia 12 listopada
// 2018 r. dniem wolnym od pracy: the 100th anniversary of independence).
const oneOffYear = 2018

// Names of the movable holidays, counted from Easter Sunday (DOMAIN §2).
const (
	nameEaster       = "Wielkanoc"
	nameEasterMonday = "Poniedziałek Wielkanocny"
	namePentecost    = "Zielone Świątki"
	nameCorpusChrist = "Boże Ciało"
	nameOneOff2018   = "Dzień wolny – 100. rocznica odzyskania niepodległości"
)

// Offsets of the movable holidays from Easter Sunday.
const (
	easterMondayOffset  = 1
	pentecostOffset     = 49 // the seventh Sunday after Easter
	corpusChristiOffset = 60 // the Thursday after Trinity Sunday
)

// Easter returns the Gregorian Easter Sunday of year, by the anonymous
// Gregorian algorithm (Meeus/Jones/Butcher), valid for every year of the
// Gregorian calendar (from 1583).
func Easter(year int) Date {
	a := year % 19
	b := year / 100
	c := year % 100
	d := b / 4
	e := b % 4
	f := (b + 8) / 25
	g := (b - f + 1) / 3
	h := (19*a + b - d - g + 15) % 30
	i := c / 4
	k := c % 4
	l := (32 + 2*e + 2*i - h - k) % 7
	m := (a + 11*h + 22*l) / 451
	month := (h + l - 7*m + 114) / 31
	day := (h+l-7*m+114)%31 + 1
	return Date{year, time.Month(month), day}
}

// fixedHoliday returns the name of the fixed-date statutory holiday on
// month/day in year, if there is one (ustawa o dniach wolnych od pracy,
// art. 1). A switch rather than a table: no allocation, no shared state.
func fixedHoliday(year int, month time.Month, day int) (string, bool) {
	switch month {
	case time.January:
		switch {
		case day == 1:
			return "Nowy Rok", true
		case day == 6 && year >= epiphanyFrom:
			return "Święto Trzech Króli", true
		}
	case time.May:
		switch day {
		case 1:
			return "Święto Państwowe", true
		case 3:
			return "Święto Narodowe Trzeciego Maja", true
		}
	case time.August:
		if day == 15 {
			return "Wniebowzięcie Najświętszej Maryi Panny", true
		}
	case time.November:
		switch {
		case day == 1:
			return "Wszystkich Świętych", true
		case day == 11:
			return "Narodowe Święto Niepodległości", true
		case day == 12 && year == oneOffYear:
			return nameOneOff2018, true
		}
	case time.December:
		switch {
		case day == 24 && year >= christmasEveFrom:
			return "Wigilia Bożego Narodzenia", true
		case day == 25:
			return "Boże Narodzenie", true
		case day == 26:
			return "Drugi dzień Bożego Narodzenia", true
		}
	}
	return "", false
}

// movableHoliday returns the name of the Easter-based holiday on d, if any.
func movableHoliday(d Date) (string, bool) {
	// Movable holidays fall between 22 March (earliest Easter) and 24 June
	// (latest Corpus Christi): skip the Easter computation outside.
	if d.Month < time.March || d.Month > time.June {
		return "", false
	}
	e := Easter(d.Year)
	// Days from Easter Sunday, by day-of-year arithmetic on a fixed year
	// layout: both dates are in the same year and within March..June, where
	// only February's length (already past) differs between years.
	off := dayOfYearMarToJun(d.Month, d.Day) - dayOfYearMarToJun(e.Month, e.Day)
	switch off {
	case 0:
		return nameEaster, true
	case easterMondayOffset:
		return nameEasterMonday, true
	case pentecostOffset:
		return namePentecost, true
	case corpusChristiOffset:
		return nameCorpusChrist, true
	}
	return "", false
}

// dayOfYearMarToJun numbers the days of March to June consecutively, for
// differences between two such dates of the same year.
func dayOfYearMarToJun(m time.Month, day int) int {
	switch m {
	case time.March:
		return day
	case time.April:
		return 31 + day
	case time.May:
		return 31 + 30 + day
	default: // June
		return 31 + 30 + 31 + day
	}
}

// statutoryHoliday returns the name of the statutory holiday on d, if any,
// without any configured extras.
func statutoryHoliday(d Date) (string, bool) {
	if name, ok := fixedHoliday(d.Year, d.Month, d.Day); ok {
		return name, true
	}
	return movableHoliday(d)
}

// PolishHolidays returns the statutory public holidays of year in date
// order: the fixed ones, Easter Sunday and Monday, Pentecost (Zielone
// Świątki, E+49), Corpus Christi (Boże Ciało, E+60) and the one-off
// 2018-11-12. Every Sunday is a day off too, but only the two holiday
// Sundays (Easter and Pentecost) are listed.
func PolishHolidays(year int) []Holiday {
	fixed := []struct {
		m time.Month
		d int
	}{
		{time.January, 1}, {time.January, 6}, {time.May, 1}, {time.May, 3},
		{time.August, 15}, {time.November, 1}, {time.November, 11}, {time.November, 12},
		{time.December, 24}, {time.December, 25}, {time.December, 26},
	}
	hs := make([]Holiday, 0, 15)
	for _, f := range fixed {
		if name, ok := fixedHoliday(year, f.m, f.d); ok {
			hs = append(hs, Holiday{Date{year, f.m, f.d}, name})
		}
	}
	e := Easter(year)
	hs = append(hs,
		Holiday{e, nameEaster},
		Holiday{e.AddDays(easterMondayOffset), nameEasterMonday},
		Holiday{e.AddDays(pentecostOffset), namePentecost},
		Holiday{e.AddDays(corpusChristiOffset), nameCorpusChrist},
	)
	slices.SortFunc(hs, func(a, b Holiday) int { return a.Date.Compare(b.Date) })
	return hs
}
