package dpfinance

import (
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/pbudget/pbudget/internal/date"
	"github.com/pbudget/pbudget/internal/recovery"
)

// An earlier ISF surplus recovery claims, of a later statement's balance, its amount less what
// was written off and less the offsets of runs paid for cycles starting by the statement's period
// end (the council paid the ISF less by them); money it recovered otherwise still counts, so the
// same excess is never asked twice; never below zero.
func TestAnEarlierISFRecoveryClaimsWhatIsStillInTheBalance(t *testing.T) {
	t.Parallel()
	end := date.MustParse("2026-06-30")
	offset := func(cycle string, amount int64, state, run string) OffsetTaken {
		return OffsetTaken{CycleStart: date.MustParse(cycle), Amount: amount, State: state, RunStatus: run}
	}
	rec := func(amount, recovered, writtenOff int64) Recovery {
		return Recovery{State: recovery.Recovery{Amount: amount, Recovered: recovered, WrittenOff: writtenOff}}
	}
	for _, tt := range []struct {
		name  string
		r     Recovery
		taken []OffsetTaken
		want  int64
	}{
		{"nothing recovered yet", rec(30_000, 0, 0), nil, 30_000},
		{"recovered in full after the period, by offsets", rec(30_000, 30_000, 0),
			[]OffsetTaken{offset("2026-07-06", 15_000, "live", "paid"), offset("2026-08-03", 15_000, "live", "paid")}, 30_000},
		{"an offset for a cycle starting on the period's last day", rec(30_000, 15_000, 0),
			[]OffsetTaken{offset("2026-06-30", 15_000, "live", "paid")}, 15_000},
		{"offsets before the period end, one of a run not paid, one returned", rec(30_000, 10_000, 0),
			[]OffsetTaken{offset("2026-05-04", 10_000, "live", "paid"), offset("2026-06-01", 10_000, "live", "approved"),
				offset("2026-06-01", 10_000, "returned", "paid")}, 20_000},
		{"recovered by invoice before the period end: still claimed", rec(30_000, 30_000, 0), nil, 30_000},
		{"part written off", rec(30_000, 0, 10_000), nil, 20_000},
		{"written off and offset", rec(30_000, 20_000, 10_000), []OffsetTaken{offset("2026-05-04", 20_000, "live", "paid")}, 0},
	} {
		require.Equal(t, tt.want, stillInBalance(tt.r, tt.taken, end), tt.name)
	}
}
