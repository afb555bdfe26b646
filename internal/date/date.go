// Package date is a calendar date without a time of day or zone, for effective dates, dates of
// birth and periods. Periods are [start, end) with end exclusive.
package date

import (
	"database/sql/driver"
	"fmt"
	"time"
	_ "time/tzdata" // Europe/London must resolve in minimal containers too
)

// Date counts days from 1970-01-01, so that comparison and day arithmetic are integer operations.
type Date struct{ days int32 }

const layout = "2006-01-02"

// Of returns the date y-m-d, normalising overflow as time.Date does.
func Of(y int, m time.Month, d int) Date {
	return FromTime(time.Date(y, m, d, 0, 0, 0, 0, time.UTC))
}

// FromTime returns the calendar date of t in t's location.
func FromTime(t time.Time) Date {
	y, m, d := t.Date()
	u := time.Date(y, m, d, 0, 0, 0, 0, time.UTC)
	return Date{days: int32(u.Unix() / 86400)}
}

// Parse reads an ISO 8601 date (2026-04-06).
func Parse(s string) (Date, error) {
	t, err := time.Parse(layout, s)
	if err != nil {
		return Date{}, fmt.Errorf("date %q: want YYYY-MM-DD", s)
	}
	return FromTime(t), nil
}

// London is the zone in which English councils' days begin and end.
var London = mustLoad("Europe/London")

func mustLoad(name string) *time.Location {
	loc, err := time.LoadLocation(name)
	if err != nil {
		panic(err) // unreachable: time/tzdata is embedded
	}
	return loc
}

// Today returns the date in England at instant now.
func Today(now time.Time) Date { return FromTime(now.In(London)) }

// Start returns the instant day d begins in England.
func (d Date) Start() time.Time { return time.Date(d.Year(), d.Month(), d.Day(), 0, 0, 0, 0, London) }

// Time returns midnight UTC of d.
func (d Date) Time() time.Time { return time.Unix(int64(d.days)*86400, 0).UTC() }

// String renders ISO 8601.
func (d Date) String() string { return d.Time().Format(layout) }

// Long renders d as a letter writes it: "6 April 2026".
func (d Date) Long() string { return d.Time().Format("2 January 2006") }

// AddDays returns d plus n days.
func (d Date) AddDays(n int) Date { return Date{days: d.days + int32(n)} }

// AddDate adds years, months and days as time.AddDate does (31 January + 1 month = 3 March).
func (d Date) AddDate(years, months, days int) Date {
	return FromTime(d.Time().AddDate(years, months, days))
}

// DaysSince returns d − o in days.
func (d Date) DaysSince(o Date) int { return int(d.days - o.days) }

// Before, After and Equal compare dates.
func (d Date) Before(o Date) bool { return d.days < o.days }

// After reports whether d is later than o.
func (d Date) After(o Date) bool { return d.days > o.days }

// Equal reports whether d and o are the same day.
func (d Date) Equal(o Date) bool { return d.days == o.days }

// Compare returns -1, 0 or +1.
func (d Date) Compare(o Date) int {
	switch {
	case d.days < o.days:
		return -1
	case d.days > o.days:
		return 1
	}
	return 0
}

// Later returns the later of d and o.
func Later(d, o Date) Date {
	if o.days > d.days {
		return o
	}
	return d
}

// Year, Month and Day return the parts of d.
func (d Date) Year() int { return d.Time().Year() }

// Month returns the month of d.
func (d Date) Month() time.Month { return d.Time().Month() }

// Day returns the day of the month of d.
func (d Date) Day() int { return d.Time().Day() }

// AgeOn returns the age in whole years of someone born on d, on day on. Someone born on 29
// February has a birthday on 1 March in common years, as in English law.
func (d Date) AgeOn(on Date) int {
	age := on.Year() - d.Year()
	birthday := Of(on.Year(), d.Month(), d.Day()) // 29 Feb normalises to 1 Mar in a common year
	if on.Before(birthday) {
		age--
	}
	return age
}

// Scan implements sql.Scanner for a PostgreSQL date.
func (d *Date) Scan(src any) error {
	switch v := src.(type) {
	case time.Time:
		*d = Date{days: int32(time.Date(v.Year(), v.Month(), v.Day(), 0, 0, 0, 0, time.UTC).Unix() / 86400)}
		return nil
	case string:
		p, err := Parse(v)
		*d = p
		return err
	case []byte:
		p, err := Parse(string(v))
		*d = p
		return err
	}
	return fmt.Errorf("date: cannot scan %T", src)
}

// Value implements driver.Valuer.
func (d Date) Value() (driver.Value, error) { return d.String(), nil }

// AddMonths returns d plus n calendar months, kept within the target month: when that month is
// shorter, the result is its last day (31 August + 6 months = 28 or 29 February; 29 February +
// 12 months = 28 February). Use it for "at most N months after" limits, where AddDate's
// normalisation would carry the date past the limit (31 August + 6 months would be 2 or 3 March).
func (d Date) AddMonths(n int) Date {
	t := d.Time()
	y, m := t.Year(), int(t.Month())-1+n
	y += m / 12
	if m %= 12; m < 0 {
		m += 12
		y--
	}
	last := time.Date(y, time.Month(m+2), 0, 0, 0, 0, 0, time.UTC).Day() // day 0 of the next month
	return Of(y, time.Month(m+1), min(t.Day(), last))
}

// MustParse is Parse for dates written in code (tests, fixed tables): it panics on a bad date.
func MustParse(s string) Date {
	d, err := Parse(s)
	if err != nil {
		panic(err)
	}
	return d
}
