package cld

import (
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/pbudget/pbudget/internal/date"
)

var d = date.MustParse

func TestQuartersAreFinancialYearQuartersDueAMonthAfter(t *testing.T) {
	t.Parallel()
	tests := []struct {
		q                       Quarter
		start, last, due, label string
	}{
		{Quarter{2025, 1}, "2025-04-01", "2025-06-30", "2025-07-31", "2025/26 Q1"},
		{Quarter{2025, 2}, "2025-07-01", "2025-09-30", "2025-10-31", "2025/26 Q2"},
		{Quarter{2025, 3}, "2025-10-01", "2025-12-31", "2026-01-31", "2025/26 Q3"},
		{Quarter{2025, 4}, "2026-01-01", "2026-03-31", "2026-04-30", "2025/26 Q4"},
		{Quarter{2099, 4}, "2100-01-01", "2100-03-31", "2100-04-30", "2099/00 Q4"},
	}
	for _, tt := range tests {
		require.Equal(t, tt.start, tt.q.Start().String(), tt.q.String())
		require.Equal(t, tt.last, tt.q.Last().String(), tt.q.String())
		require.Equal(t, tt.due, tt.q.Due().String(), tt.q.String())
		require.Equal(t, tt.label, tt.q.Label())
		require.Equal(t, tt.q, QuarterOf(tt.q.Start()))
		require.Equal(t, tt.q, QuarterOf(tt.q.Last()))
		require.Equal(t, tt.q.End(), tt.q.Next().Start())
		require.True(t, tt.q.Contains(tt.q.Last()))
		require.False(t, tt.q.Contains(tt.q.End()))
	}
	require.Equal(t, Quarter{2025, 4}, QuarterOf(d("2026-03-31")))
	require.Equal(t, Quarter{2026, 1}, QuarterOf(d("2026-04-01")))
}

func TestParseQuarter(t *testing.T) {
	t.Parallel()
	q, err := ParseQuarter("2025-Q3")
	require.NoError(t, err)
	require.Equal(t, Quarter{2025, 3}, q)
	require.Equal(t, "2025-Q3", q.String())
	for _, bad := range []string{"", "2025-Q0", "2025-Q5", "2025-Q12", "2025Q1", "25-Q1", "1999-Q1", "2025-q1", "+025-Q1", "2025-Q1 "} {
		_, err := ParseQuarter(bad)
		require.ErrorIs(t, err, ErrQuarter, "%q", bad)
	}
}
