package money

import (
	"testing"

	"github.com/stretchr/testify/require"
)

func TestWeeklyFromAnnualRoundsHalfUp(t *testing.T) {
	t.Parallel()
	tests := []struct{ annual, weekly int64 }{
		{0, 0},
		{52, 1},
		{50_000, 962}, // £500 a year: 961.538… → £9.62
		{26, 1},       // exactly half a penny rounds up
		{25, 0},
		{600_000, 11538}, // £6,000: 11 538.46…
		{1820_000, 35000},
	}
	for _, tt := range tests {
		require.Equal(t, tt.weekly, WeeklyFromAnnual(tt.annual), "annual %d", tt.annual)
	}
	require.Equal(t, int64(1820_000), AnnualFromWeekly(35000))
}

func TestDivRoundIsSymmetricAroundZero(t *testing.T) {
	t.Parallel()
	require.Equal(t, int64(-1), DivRound(-26, 52))
	require.Equal(t, int64(3), DivRound(5, 2))
	require.Panics(t, func() { DivRound(1, 0) })
}

func TestFormatIsForPeople(t *testing.T) {
	t.Parallel()
	require.Equal(t, "£1,234.56", Format(123456))
	require.Equal(t, "£0.05", Format(5))
	require.Equal(t, "-£196.60", Format(-19660))
	require.Equal(t, "£1,000,000.00", Format(100_000_000))
}
