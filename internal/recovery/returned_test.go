package recovery

import (
	"testing"

	"github.com/stretchr/testify/require"
)

func TestAReturnedOffsetIsNoLongerRecoveredAndTheStateFollowsTheMoney(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		name         string
		in           Recovery
		amount       int64
		want         Recovery
		back         int64
		outstandsFor int64
	}{
		{"all of it back: notified again", Recovery{State: Recovered, Method: Offset, Amount: 30_000, Recovered: 30_000}, 30_000,
			Recovery{State: Notified, Method: Offset, Amount: 30_000}, 30_000, 30_000},
		{"part of it back: part recovered", Recovery{State: Recovered, Method: Offset, Amount: 30_000, Recovered: 30_000}, 29_999,
			Recovery{State: PartRecovered, Method: Offset, Amount: 30_000, Recovered: 1}, 29_999, 29_999},
		{"part recovered to nothing: notified", Recovery{State: PartRecovered, Method: Offset, Amount: 30_000, Recovered: 10_000}, 10_000,
			Recovery{State: Notified, Method: Offset, Amount: 30_000}, 10_000, 30_000},
		{"never more than was recovered", Recovery{State: PartRecovered, Method: Offset, Amount: 30_000, Recovered: 10_000}, 10_001,
			Recovery{State: Notified, Method: Offset, Amount: 30_000}, 10_000, 30_000},
		{"a disputed recovery stays paused", Recovery{State: Disputed, Method: Offset, Amount: 30_000, Recovered: 10_000}, 5_000,
			Recovery{State: Disputed, Method: Offset, Amount: 30_000, Recovered: 5_000}, 5_000, 25_000},
		{"a written-off recovery writes the returned amount off too", Recovery{State: WrittenOff, Method: Offset, Amount: 30_000, Recovered: 10_000, WrittenOff: 20_000}, 10_000,
			Recovery{State: WrittenOff, Method: Offset, Amount: 30_000, WrittenOff: 30_000}, 10_000, 0},
		{"nothing recovered: nothing to undo", Recovery{State: Notified, Method: Offset, Amount: 30_000}, 10_000,
			Recovery{State: Notified, Method: Offset, Amount: 30_000}, 0, 30_000},
		{"nothing returned: nothing to undo", Recovery{State: PartRecovered, Method: Offset, Amount: 30_000, Recovered: 10_000}, 0,
			Recovery{State: PartRecovered, Method: Offset, Amount: 30_000, Recovered: 10_000}, 0, 20_000},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			got, back := ReturnOffset(tc.in, tc.amount)
			require.Equal(t, tc.want, got)
			require.Equal(t, tc.back, back)
			require.Equal(t, tc.outstandsFor, got.Outstanding())
			require.Equal(t, got.State == Recovered, got.Recovered == got.Amount, "recovered exactly when all of it is")
		})
	}
}
