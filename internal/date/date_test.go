package date

import (
	"testing"
	"time"

	"github.com/stretchr/testify/require"
)

func TestParseAndStringRoundTrip(t *testing.T) {
	t.Parallel()
	for _, s := range []string{"1970-01-01", "2026-04-06", "1900-02-28", "2024-02-29", "1969-12-31"} {
		d, err := Parse(s)
		require.NoError(t, err)
		require.Equal(t, s, d.String())
	}
	_, err := Parse("2026-02-30")
	require.Error(t, err)
}

func TestDayArithmetic(t *testing.T) {
	t.Parallel()
	d := Of(2026, 4, 6)
	require.Equal(t, "2026-05-04", d.AddDays(28).String())
	require.Equal(t, 28, d.AddDays(28).DaysSince(d))
	require.Equal(t, "2027-04-06", d.AddDate(1, 0, 0).String())
	require.True(t, d.Before(d.AddDays(1)))
	require.Equal(t, 0, d.Compare(Of(2026, 4, 6)))
}

func TestAgeOnCountsWholeYears(t *testing.T) {
	t.Parallel()
	tests := []struct {
		born, on string
		want     int
	}{
		{"2008-11-24", "2026-11-23", 17},
		{"2008-11-24", "2026-11-24", 18},
		{"2008-02-29", "2026-02-28", 17}, // leapling: birthday is 1 March in a common year
		{"2008-02-29", "2026-03-01", 18},
		{"2008-02-29", "2028-02-29", 20},
	}
	for _, tt := range tests {
		require.Equal(t, tt.want, must(Parse(tt.born)).AgeOn(must(Parse(tt.on))), "%s on %s", tt.born, tt.on)
	}
}

func TestTodayIsTheDateInEngland(t *testing.T) {
	t.Parallel()
	// 23:30 UTC on 30 June is already 1 July in British Summer Time.
	require.Equal(t, "2026-07-01", Today(time.Date(2026, 6, 30, 23, 30, 0, 0, time.UTC)).String())
	require.Equal(t, "2026-12-30", Today(time.Date(2026, 12, 30, 23, 30, 0, 0, time.UTC)).String())
}

func TestScanAcceptsDriverValues(t *testing.T) {
	t.Parallel()
	var d Date
	require.NoError(t, d.Scan(time.Date(2026, 4, 6, 0, 0, 0, 0, time.UTC)))
	require.Equal(t, "2026-04-06", d.String())
	require.NoError(t, d.Scan("2025-04-06"))
	require.Equal(t, "2025-04-06", d.String())
	require.Error(t, d.Scan(42))
}

func must(d Date, err error) Date {
	if err != nil {
		panic(err)
	}
	return d
}

func TestLongIsHowALetterWritesADate(t *testing.T) {
	t.Parallel()
	require.Equal(t, "6 April 2026", Of(2026, 4, 6).Long())
	require.Equal(t, "29 February 2028", Of(2028, 2, 29).Long())
}

func TestAddMonthsStaysWithinTheTargetMonth(t *testing.T) {
	t.Parallel()
	tests := []struct {
		from   string
		months int
		want   string
	}{
		{"2026-01-15", 1, "2026-02-15"},
		{"2025-08-31", 6, "2026-02-28"},  // not 3 March
		{"2023-08-31", 6, "2024-02-29"},  // a leap year's February
		{"2024-02-29", 12, "2025-02-28"}, // not 1 March
		{"2024-02-29", 48, "2028-02-29"},
		{"2026-03-31", 1, "2026-04-30"},
		{"2026-12-31", 2, "2027-02-28"},
		{"2026-03-31", -1, "2026-02-28"},
		{"2026-01-31", -13, "2024-12-31"},
		{"2026-05-10", 0, "2026-05-10"},
	}
	for _, tt := range tests {
		require.Equal(t, tt.want, must(Parse(tt.from)).AddMonths(tt.months).String(), "%s + %d months", tt.from, tt.months)
	}
}

func TestMustParsePanicsOnABadDate(t *testing.T) {
	t.Parallel()
	require.Equal(t, "2026-02-28", MustParse("2026-02-28").String())
	require.Panics(t, func() { MustParse("2026-02-30") })
}
