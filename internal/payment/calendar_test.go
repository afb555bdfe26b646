package payment

import (
	"testing"
	"time"

	"github.com/stretchr/testify/require"
	"pgregory.net/rapid"

	"github.com/pbudget/pbudget/internal/apperr"
	"github.com/pbudget/pbudget/internal/date"
)

func d(y int, m time.Month, day int) date.Date { return date.Of(y, m, day) }

func TestFourWeeklyCyclesCountFromTheAnchorBothWays(t *testing.T) {
	t.Parallel()
	k := Cadence{FourWeekly, d(2026, 4, 6)}
	tests := []struct {
		name       string
		day        date.Date
		index      int
		start, end date.Date
	}{
		{"the anchor starts cycle 0", d(2026, 4, 6), 0, d(2026, 4, 6), d(2026, 5, 4)},
		{"the last day of cycle 0", d(2026, 5, 3), 0, d(2026, 4, 6), d(2026, 5, 4)},
		{"the first day of cycle 1", d(2026, 5, 4), 1, d(2026, 5, 4), d(2026, 6, 1)},
		{"the day before the anchor is cycle -1", d(2026, 4, 5), -1, d(2026, 3, 9), d(2026, 4, 6)},
		{"the first day of cycle -1", d(2026, 3, 9), -1, d(2026, 3, 9), d(2026, 4, 6)},
		{"the day before that is cycle -2", d(2026, 3, 8), -2, d(2026, 2, 9), d(2026, 3, 9)},
		{"a year on is cycle 13", d(2027, 4, 5), 13, d(2027, 4, 5), d(2027, 5, 3)},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			c := k.CycleOf(tt.day)
			require.Equal(t, Cycle{tt.index, tt.start, tt.end}, c)
			require.Equal(t, 28, c.Days())
		})
	}
}

func TestTwoWeeklyCyclesAreFourteenDays(t *testing.T) {
	t.Parallel()
	k := Cadence{TwoWeekly, d(2026, 4, 6)}
	require.Equal(t, Cycle{0, d(2026, 4, 6), d(2026, 4, 20)}, k.CycleOf(d(2026, 4, 19)))
	require.Equal(t, Cycle{1, d(2026, 4, 20), d(2026, 5, 4)}, k.CycleOf(d(2026, 4, 20)))
	require.Equal(t, Cycle{-1, d(2026, 3, 23), d(2026, 4, 6)}, k.CycleOf(d(2026, 4, 5)))
}

func TestMonthlyCyclesClampToShortMonths(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name   string
		anchor date.Date
		starts []date.Date // cycles 0, 1, 2, …
	}{
		{"an anchor on the 31st takes each month's last day when shorter", d(2026, 1, 31),
			[]date.Date{d(2026, 1, 31), d(2026, 2, 28), d(2026, 3, 31), d(2026, 4, 30), d(2026, 5, 31)}},
		{"29 February in a leap year", d(2028, 1, 31),
			[]date.Date{d(2028, 1, 31), d(2028, 2, 29), d(2028, 3, 31)}},
		{"an anchor on the 30th", d(2026, 1, 30),
			[]date.Date{d(2026, 1, 30), d(2026, 2, 28), d(2026, 3, 30)}},
		{"an anchor on the 29th in a common year", d(2027, 1, 29),
			[]date.Date{d(2027, 1, 29), d(2027, 2, 28), d(2027, 3, 29)}},
		{"an anchor on the 1st is the calendar month", d(2026, 4, 1),
			[]date.Date{d(2026, 4, 1), d(2026, 5, 1), d(2026, 6, 1)}},
		{"across a year end", d(2026, 11, 30),
			[]date.Date{d(2026, 11, 30), d(2026, 12, 30), d(2027, 1, 30), d(2027, 2, 28)}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			k := Cadence{Monthly, tt.anchor}
			for i := 0; i+1 < len(tt.starts); i++ {
				c := k.Cycle(i)
				require.Equal(t, tt.starts[i], c.Start, "cycle %d", i)
				require.Equal(t, tt.starts[i+1], c.End, "cycle %d", i)
				require.Equal(t, c, k.CycleOf(c.Start), "first day of cycle %d", i)
				require.Equal(t, c, k.CycleOf(c.End.AddDays(-1)), "last day of cycle %d", i)
			}
		})
	}
}

func TestMonthlyCyclesBeforeTheAnchor(t *testing.T) {
	t.Parallel()
	k := Cadence{Monthly, d(2026, 3, 31)}
	require.Equal(t, Cycle{-1, d(2026, 2, 28), d(2026, 3, 31)}, k.CycleOf(d(2026, 3, 30)))
	require.Equal(t, Cycle{-2, d(2026, 1, 31), d(2026, 2, 28)}, k.CycleOf(d(2026, 2, 27)))
	require.Equal(t, Cycle{-15, d(2024, 12, 31), d(2025, 1, 31)}, k.CycleOf(d(2025, 1, 1)))
	require.Equal(t, d(2024, 2, 29), k.Cycle(-25).Start, "leap February before the anchor")
}

func TestCyclesBetweenListsEveryCycleWithADayInTheSpan(t *testing.T) {
	t.Parallel()
	k := Cadence{FourWeekly, d(2026, 4, 6)}
	got := k.CyclesBetween(d(2026, 5, 3), d(2026, 6, 2))
	require.Equal(t, []Cycle{
		{0, d(2026, 4, 6), d(2026, 5, 4)},
		{1, d(2026, 5, 4), d(2026, 6, 1)},
		{2, d(2026, 6, 1), d(2026, 6, 29)},
	}, got)
	require.Len(t, k.CyclesBetween(d(2026, 5, 4), d(2026, 6, 1)), 1, "the end is exclusive")
	require.Empty(t, k.CyclesBetween(d(2026, 5, 4), d(2026, 5, 4)))
}

func TestCalendarValidateNamesTheField(t *testing.T) {
	t.Parallel()
	c := DefaultCalendar(d(2026, 4, 6))
	require.NoError(t, c.Validate())
	c.LeadDays, c.ProcessingDays = -1, 2
	var e *apperr.Error
	require.ErrorAs(t, c.Validate(), &e)
	require.Len(t, e.Fields, 2)
	require.Equal(t, "/lead_days", e.Fields[0].Field)
	require.Equal(t, "/processing_days", e.Fields[1].Field)
	_, err := c.Cadence("one_off")
	require.ErrorIs(t, err, ErrFrequency)
}

// Every day is in exactly one cycle, and cycles tile time without gaps.
func TestCyclesTileTime(t *testing.T) {
	t.Parallel()
	rapid.Check(t, func(t *rapid.T) {
		f := rapid.SampledFrom([]Frequency{FourWeekly, TwoWeekly, Monthly}).Draw(t, "frequency")
		anchor := date.Of(2020, 1, 1).AddDays(rapid.IntRange(0, 3650).Draw(t, "anchor"))
		day := date.Of(2015, 1, 1).AddDays(rapid.IntRange(0, 7300).Draw(t, "day"))
		k := Cadence{f, anchor}
		c := k.CycleOf(day)
		if !c.Contains(day) {
			t.Fatalf("%s not in its cycle %s", day, c)
		}
		next := k.Cycle(c.Index + 1)
		if !next.Start.Equal(c.End) || k.Cycle(c.Index-1).End != c.Start {
			t.Fatalf("cycles around %s do not meet", c)
		}
		if n := c.Days(); (f == FourWeekly && n != 28) || (f == TwoWeekly && n != 14) || (f == Monthly && (n < 28 || n > 31)) {
			t.Fatalf("%s cycle %s has %d days", f, c, n)
		}
		if f == Monthly && c.Start.Day() != min(anchor.Day(), daysInMonth(c.Start.Year(), c.Start.Month())) {
			t.Fatalf("monthly cycle %s does not start on the anchor's day %d", c, anchor.Day())
		}
	})
}
