// Package workday is a calendar of working days: Monday to Friday less a configured list of bank
// holidays. BACS processes on working days only, so a payment run's processing day is counted in
// them (internal/bacs).
//
// The list is configuration, because bank holidays are announced by royal proclamation and now
// and then moved or added (a coronation, a jubilee). EnglandAndWales is the default: the England
// and Wales bank holidays of 2025 to 2028. Source: GOV.UK, "UK bank holidays",
// https://www.gov.uk/bank-holidays (also served as https://www.gov.uk/bank-holidays.json,
// division "england-and-wales"), which lists 2025–2027; the 2028 dates follow the same statutory
// pattern (Banking and Financial Dealings Act 1971, schedule 1, with the usual substitute days)
// and must be checked against GOV.UK when it publishes them. A calendar knows how far its list
// goes and refuses to count past it rather than treat an unknown holiday as a working day.
package workday

import (
	"fmt"
	"sort"
	"strings"
	"time"

	"github.com/pbudget/pbudget/internal/apperr"
	"github.com/pbudget/pbudget/internal/date"
)

// EnglandAndWalesHolidays are the England and Wales bank holidays 2025–2028 (see the package
// documentation for the source).
var EnglandAndWalesHolidays = []string{
	// 2025
	"2025-01-01", // New Year's Day
	"2025-04-18", // Good Friday
	"2025-04-21", // Easter Monday
	"2025-05-05", // Early May bank holiday
	"2025-05-26", // Spring bank holiday
	"2025-08-25", // Summer bank holiday
	"2025-12-25", // Christmas Day
	"2025-12-26", // Boxing Day
	// 2026
	"2026-01-01", // New Year's Day
	"2026-04-03", // Good Friday
	"2026-04-06", // Easter Monday
	"2026-05-04", // Early May bank holiday
	"2026-05-25", // Spring bank holiday
	"2026-08-31", // Summer bank holiday
	"2026-12-25", // Christmas Day
	"2026-12-28", // Boxing Day (substitute day)
	// 2027
	"2027-01-01", // New Year's Day
	"2027-03-26", // Good Friday
	"2027-03-29", // Easter Monday
	"2027-05-03", // Early May bank holiday
	"2027-05-31", // Spring bank holiday
	"2027-08-30", // Summer bank holiday
	"2027-12-27", // Christmas Day (substitute day)
	"2027-12-28", // Boxing Day (substitute day)
	// 2028 (by the statutory pattern; confirm against GOV.UK)
	"2028-01-03", // New Year's Day (substitute day)
	"2028-04-14", // Good Friday
	"2028-04-17", // Easter Monday
	"2028-05-01", // Early May bank holiday
	"2028-05-29", // Spring bank holiday
	"2028-08-28", // Summer bank holiday
	"2028-12-25", // Christmas Day
	"2028-12-26", // Boxing Day
}

// Calendar is a set of bank holidays known from From to Until (inclusive, whole years of the
// list). The zero Calendar knows no day.
type Calendar struct {
	holidays    map[date.Date]bool
	From, Until date.Date
}

// New returns the calendar of holidays, covering the whole years from the first holiday's to the
// last's.
func New(holidays []date.Date) (Calendar, error) {
	if len(holidays) == 0 {
		return Calendar{}, ErrNoHolidays
	}
	sorted := append([]date.Date(nil), holidays...)
	sort.Slice(sorted, func(i, j int) bool { return sorted[i].Before(sorted[j]) })
	c := Calendar{holidays: make(map[date.Date]bool, len(sorted)),
		From:  date.Of(sorted[0].Year(), time.January, 1),
		Until: date.Of(sorted[len(sorted)-1].Year(), time.December, 31)}
	for _, h := range sorted {
		if weekend(h) {
			return Calendar{}, ErrNoHolidays.WithMessage("%s is a %s: a bank holiday on a weekend has a substitute weekday; list that", h, h.Time().Weekday())
		}
		c.holidays[h] = true
	}
	return c, nil
}

// Parse reads a configured list: ISO dates separated by commas, spaces or new lines.
func Parse(list string) (Calendar, error) {
	var days []date.Date
	for _, s := range strings.FieldsFunc(list, func(r rune) bool { return r == ',' || r == ' ' || r == '\n' || r == '\t' }) {
		d, err := date.Parse(s)
		if err != nil {
			return Calendar{}, ErrNoHolidays.WithMessage("bank holidays: %v", err)
		}
		days = append(days, d)
	}
	return New(days)
}

// EnglandAndWales is the default calendar, 2025–2028.
func EnglandAndWales() Calendar {
	c, err := Parse(strings.Join(EnglandAndWalesHolidays, ","))
	if err != nil {
		panic(err) // unreachable: the list is tested
	}
	return c
}

// ErrNoHolidays is a calendar that cannot be built from its configuration.
var ErrNoHolidays = apperr.New(apperr.Invalid, "bank-holidays-invalid", "the bank holidays are a list of weekday ISO dates")

// ErrBeyondCalendar is a day past the years the bank holidays are known for.
var ErrBeyondCalendar = apperr.New(apperr.RuleViolation, "bank-holidays-unknown",
	"the bank holidays are not configured for the date: add the year's bank holidays to the configuration")

func weekend(d date.Date) bool {
	wd := d.Time().Weekday()
	return wd == time.Saturday || wd == time.Sunday
}

// Knows reports whether the calendar's list covers d.
func (c Calendar) Knows(d date.Date) bool { return !d.Before(c.From) && !d.After(c.Until) }

// IsWorkingDay reports whether d is a weekday and not a bank holiday.
func (c Calendar) IsWorkingDay(d date.Date) (bool, error) {
	if !c.Knows(d) {
		return false, ErrBeyondCalendar.WithMessage("bank holidays are configured for %s to %s, not %s", c.From, c.Until, d)
	}
	return !weekend(d) && !c.holidays[d], nil
}

// AddWorkingDays returns the n-th working day after d (n ≥ 1); d itself need not be one. So a run
// approved on a Friday with n = 3 processes on Wednesday, or Thursday over a bank-holiday Monday.
func (c Calendar) AddWorkingDays(d date.Date, n int) (date.Date, error) {
	if n < 1 {
		return date.Date{}, fmt.Errorf("workday: AddWorkingDays by %d", n)
	}
	for n > 0 {
		d = d.AddDays(1)
		ok, err := c.IsWorkingDay(d)
		if err != nil {
			return date.Date{}, err
		}
		if ok {
			n--
		}
	}
	return d, nil
}

// WorkingDaysBetween counts the working days in (from, to]: how many working days after from
// to is.
func (c Calendar) WorkingDaysBetween(from, to date.Date) (int, error) {
	n := 0
	for d := from.AddDays(1); !d.After(to); d = d.AddDays(1) {
		ok, err := c.IsWorkingDay(d)
		if err != nil {
			return 0, err
		}
		if ok {
			n++
		}
	}
	return n, nil
}
