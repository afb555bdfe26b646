package workday

import (
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/pbudget/pbudget/internal/date"
)

func d(y int, m time.Month, day int) date.Date { return date.Of(y, m, day) }

// easter is Easter Sunday of year y by the anonymous Gregorian algorithm (Meeus/Jones/Butcher).
func easter(y int) date.Date {
	a, b, c := y%19, y/100, y%100
	dd, e := b/4, b%4
	f := (b + 8) / 25
	g := (b - f + 1) / 3
	h := (19*a + b - dd - g + 15) % 30
	i, k := c/4, c%4
	l := (32 + 2*e + 2*i - h - k) % 7
	m := (a + 11*h + 22*l) / 451
	return d(y, time.Month((h+l-7*m+114)/31), (h+l-7*m+114)%31+1)
}

func firstMonday(y int, m time.Month) date.Date {
	x := d(y, m, 1)
	for x.Time().Weekday() != time.Monday {
		x = x.AddDays(1)
	}
	return x
}

func lastMonday(y int, m time.Month) date.Date {
	x := d(y, m+1, 1).AddDays(-1)
	for x.Time().Weekday() != time.Monday {
		x = x.AddDays(-1)
	}
	return x
}

// substitute moves a holiday on a weekend to the next weekday not already taken.
func substitute(x date.Date, taken map[date.Date]bool) date.Date {
	for x.Time().Weekday() == time.Saturday || x.Time().Weekday() == time.Sunday || taken[x] {
		x = x.AddDays(1)
	}
	return x
}

// The shipped list is checked against the rules rather than copied twice: New Year's Day, Good
// Friday, Easter Monday, the first and last Mondays of May, the last Monday of August, Christmas
// and Boxing Day, each moved to the next free weekday when on a weekend.
func TestTheDefaultListFollowsTheStatutoryPattern(t *testing.T) {
	t.Parallel()
	var want []string
	for y := 2025; y <= 2028; y++ {
		taken := map[date.Date]bool{}
		add := func(x date.Date) {
			x = substitute(x, taken)
			taken[x] = true
			want = append(want, x.String())
		}
		add(d(y, 1, 1))
		add(easter(y).AddDays(-2))
		add(easter(y).AddDays(1))
		add(firstMonday(y, time.May))
		add(lastMonday(y, time.May))
		add(lastMonday(y, time.August))
		add(d(y, 12, 25))
		add(d(y, 12, 26))
	}
	require.Equal(t, want, EnglandAndWalesHolidays)
	c := EnglandAndWales()
	require.Equal(t, d(2025, 1, 1), c.From)
	require.Equal(t, d(2028, 12, 31), c.Until)
}

func TestAddWorkingDaysSkipsWeekendsAndBankHolidays(t *testing.T) {
	t.Parallel()
	c := EnglandAndWales()
	tests := []struct {
		name     string
		from     date.Date
		n        int
		want     date.Date
		within   int // working days between from and want
		holidays bool
	}{
		{"Monday + 3 is Thursday", d(2026, 6, 1), 3, d(2026, 6, 4), 3, false},
		{"Friday + 3 is Wednesday", d(2026, 6, 5), 3, d(2026, 6, 10), 3, false},
		{"Saturday + 3 is Wednesday", d(2026, 6, 6), 3, d(2026, 6, 10), 3, false},
		{"over Easter 2026: Thursday 2 April + 3 is Thursday 9 April", d(2026, 4, 2), 3, d(2026, 4, 9), 3, true},
		{"over the spring bank holiday: Friday 22 May + 3 is Thursday 28 May", d(2026, 5, 22), 3, d(2026, 5, 28), 3, true},
		{"over Christmas 2026 and its substitute day", d(2026, 12, 23), 3, d(2026, 12, 30), 3, true},
		{"into the New Year's substitute day of 2028", d(2027, 12, 30), 2, d(2028, 1, 4), 2, true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			got, err := c.AddWorkingDays(tt.from, tt.n)
			require.NoError(t, err)
			require.Equal(t, tt.want, got)
			n, err := c.WorkingDaysBetween(tt.from, got)
			require.NoError(t, err)
			require.Equal(t, tt.within, n)
			n, err = c.WorkingDaysBetween(tt.from, got.AddDays(-1))
			require.NoError(t, err)
			require.Equal(t, tt.within-1, n, "one day earlier is one working day short")
		})
	}
	ok, err := c.IsWorkingDay(d(2026, 12, 28))
	require.NoError(t, err)
	require.False(t, ok, "Boxing Day's substitute")
}

func TestACalendarRefusesDaysPastItsList(t *testing.T) {
	t.Parallel()
	c := EnglandAndWales()
	_, err := c.AddWorkingDays(d(2028, 12, 29), 3)
	require.ErrorIs(t, err, ErrBeyondCalendar)
	_, err = c.IsWorkingDay(d(2024, 12, 31))
	require.ErrorIs(t, err, ErrBeyondCalendar)
	_, err = Calendar{}.IsWorkingDay(d(2026, 1, 5))
	require.ErrorIs(t, err, ErrBeyondCalendar, "the zero calendar knows no day")
}

func TestParseReadsAConfiguredList(t *testing.T) {
	t.Parallel()
	c, err := Parse("2029-01-01, 2029-03-30\n2029-04-02")
	require.NoError(t, err)
	ok, err := c.IsWorkingDay(d(2029, 3, 30))
	require.NoError(t, err)
	require.False(t, ok)
	_, err = Parse("2029-01-01,2029-13-01")
	require.ErrorIs(t, err, ErrNoHolidays)
	_, err = Parse("2028-01-01") // a Saturday
	require.ErrorContains(t, err, "Saturday")
	_, err = Parse("")
	require.ErrorIs(t, err, ErrNoHolidays)
}
