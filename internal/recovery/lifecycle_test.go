package recovery

import (
	"fmt"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/pbudget/pbudget/internal/apperr"
	"github.com/pbudget/pbudget/internal/reason"
)

var states = []State{Proposed, Notified, Disputed, PartRecovered, Recovered, WrittenOff}
var kinds = []EventKind{Notify, Dispute, Resume, Record, WriteOff}

func goodEvent(k EventKind) Event {
	return Event{Kind: k, On: d(2026, 9, 1), Amount: 1_000, Grounds: "I had paid the agency's invoice already",
		Reason: "The invoice was paid after the period ended, so the money is owed.", ByFinance: true}
}

func TestOnlyTheRecoveryTransitionsOfTheTableAreAllowed(t *testing.T) {
	t.Parallel()
	for _, from := range states {
		for _, k := range kinds {
			t.Run(fmt.Sprintf("%s %s", from, k), func(t *testing.T) {
				t.Parallel()
				allowed := false
				for _, tr := range Transitions {
					allowed = allowed || (tr.From == from && tr.On == k)
				}
				r := Recovery{State: from, Method: Offset, Amount: 10_000}
				got, err := Apply(r, goodEvent(k))
				if !allowed {
					require.ErrorIs(t, err, ErrState)
					require.Equal(t, apperr.Conflict, apperr.KindOf(err))
					require.Equal(t, r, got)
					return
				}
				require.NoError(t, err)
			})
		}
	}
}

func TestARecoveryFromNoticeToRecoveredWithADisputeOnTheWay(t *testing.T) {
	t.Parallel()
	r := Recovery{State: Proposed, Method: Invoice, Amount: 10_000}
	r, err := Apply(r, Event{Kind: Notify, On: d(2026, 9, 1)})
	require.NoError(t, err)
	require.Equal(t, Notified, r.State)
	require.Equal(t, d(2026, 9, 15), r.InvoiceDue)

	r, err = Apply(r, Event{Kind: Record, Amount: 4_000})
	require.NoError(t, err)
	require.Equal(t, PartRecovered, r.State)
	require.Equal(t, int64(6_000), r.Outstanding())

	_, err = Apply(r, Event{Kind: Dispute, Grounds: "   "})
	require.Error(t, err, "a dispute records the person's grounds")
	r, err = Apply(r, Event{Kind: Dispute, Grounds: "I  was told I could keep it"})
	require.NoError(t, err)
	require.Equal(t, Disputed, r.State)
	require.Equal(t, "I was told I could keep it", r.Grounds)
	_, err = Apply(r, Event{Kind: Record, Amount: 1})
	require.ErrorIs(t, err, ErrState, "a disputed recovery is paused")

	_, err = Apply(r, Event{Kind: Resume, Reason: "no"})
	require.ErrorIs(t, err, reason.ErrRequired)
	r, err = Apply(r, Event{Kind: Resume, Reason: "The letter of 1 June said the surplus would be recovered."})
	require.NoError(t, err)
	require.Equal(t, PartRecovered, r.State, "back where it was: some was recovered before the dispute")

	_, err = Apply(r, Event{Kind: Record, Amount: 6_001})
	require.ErrorIs(t, err, ErrOverRecovery)
	r, err = Apply(r, Event{Kind: Record, Amount: 6_000})
	require.NoError(t, err)
	require.Equal(t, Recovered, r.State)
	require.Zero(t, r.Outstanding())
}

func TestOnlyFinanceWritesOffWithAReasonAndOnlyWhatIsLeft(t *testing.T) {
	t.Parallel()
	r := Recovery{State: PartRecovered, Method: Offset, Amount: 10_000, Recovered: 3_000}
	require.True(t, r.TakesOffsets())
	_, err := Apply(r, Event{Kind: WriteOff, Reason: "The person has died and the estate has no funds."})
	require.ErrorIs(t, err, ErrFinanceOnly)
	_, err = Apply(r, Event{Kind: WriteOff, ByFinance: true})
	require.ErrorIs(t, err, reason.ErrRequired)
	r, err = Apply(r, Event{Kind: WriteOff, ByFinance: true, Reason: "The person has died and the estate has no funds."})
	require.NoError(t, err)
	require.Equal(t, WrittenOff, r.State)
	require.Equal(t, int64(7_000), r.WrittenOff)
	require.Zero(t, r.Outstanding())
	require.False(t, r.TakesOffsets())
}

func TestOffsetsAreTakenOnlyWhileNotifiedAndNotDisputed(t *testing.T) {
	t.Parallel()
	for _, s := range states {
		r := Recovery{State: s, Method: Offset, Amount: 10_000}
		require.Equal(t, s == Notified || s == PartRecovered, r.TakesOffsets(), s)
	}
	require.False(t, Recovery{State: Notified, Method: Invoice, Amount: 1}.TakesOffsets())
}
