package account

import (
	"fmt"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
	"pgregory.net/rapid"

	"github.com/pbudget/pbudget/internal/apperr"
	"github.com/pbudget/pbudget/internal/date"
)

func d(y, m, day int) date.Date { return date.Of(y, time.Month(m), day) }

func TestEachKindMovesMoneyItsWay(t *testing.T) {
	t.Parallel()
	day := d(2026, 4, 6)
	tests := []struct {
		e    Entry
		want int64
	}{
		{Entry{Kind: CouncilPayment, Date: day, Amount: 100}, 100},
		{Entry{Kind: ContributionReceived, Date: day, Amount: 100}, 100},
		{Entry{Kind: Refund, Date: day, Amount: 100}, 100},
		{Entry{Kind: Spend, Date: day, Amount: 100}, -100},
		{Entry{Kind: Recovery, Date: day, Amount: 100}, -100},
		{Entry{Kind: ContributionDue, Date: day, Amount: 100}, 0},
		{Entry{Kind: ContributionPaidToCouncil, Date: day, Amount: 100}, 0},
		{Entry{Kind: Adjustment, Date: day, Amount: -100, Reason: "bank charge refunded twice"}, -100},
		{Entry{Kind: Adjustment, Date: day, Amount: 100, Reason: "bank charge refunded"}, 100},
	}
	for _, tt := range tests {
		t.Run(fmt.Sprintf("%s %d", tt.e.Kind, tt.e.Amount), func(t *testing.T) {
			t.Parallel()
			require.NoError(t, tt.e.Validate("/entry"))
			require.Equal(t, tt.want, tt.e.Signed())
		})
	}
}

func TestAnEntryOutsideItsRulesIsRefusedNamingTheField(t *testing.T) {
	t.Parallel()
	day := d(2026, 4, 6)
	tests := []struct {
		name, field string
		e           Entry
	}{
		{"an unknown kind", "/e/kind", Entry{Kind: "gift", Date: day, Amount: 1}},
		{"a zero spend", "/e/amount_pence", Entry{Kind: Spend, Date: day}},
		{"a negative spend (the kind gives the direction)", "/e/amount_pence", Entry{Kind: Spend, Date: day, Amount: -1}},
		{"a payment over £1bn", "/e/amount_pence", Entry{Kind: CouncilPayment, Date: day, Amount: MaxAmount + 1}},
		{"a zero adjustment", "/e/amount_pence", Entry{Kind: Adjustment, Date: day, Reason: "x"}},
		{"an adjustment without a reason", "/e/reason", Entry{Kind: Adjustment, Date: day, Amount: 5}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			var ae *apperr.Error
			require.ErrorAs(t, tt.e.Validate("/e"), &ae)
			require.Equal(t, tt.field, ae.Fields[0].Field)
		})
	}
	require.NoError(t, Entry{Kind: CouncilPayment, Date: day, Amount: MaxAmount}.Validate("/e"), "£1bn exactly is allowed")
}

func TestBalanceAtADateCountsEntriesUpToAndIncludingThatDay(t *testing.T) {
	t.Parallel()
	open := Opening{Date: d(2026, 4, 1), Amount: 5_000}
	entries := []Entry{
		{Kind: CouncilPayment, Date: d(2026, 4, 6), Amount: 100_000},
		{Kind: ContributionDue, Date: d(2026, 4, 6), Amount: 2_000},
		{Kind: ContributionReceived, Date: d(2026, 4, 7), Amount: 2_000},
		{Kind: Spend, Date: d(2026, 4, 10), Amount: 30_000},
		{Kind: Refund, Date: d(2026, 4, 12), Amount: 1_500},
		{Kind: Recovery, Date: d(2026, 4, 20), Amount: 10_000},
	}
	tests := []struct {
		at   date.Date
		want int64
	}{
		{d(2026, 3, 31), 5_000},
		{d(2026, 4, 5), 5_000},
		{d(2026, 4, 6), 105_000},
		{d(2026, 4, 7), 107_000},
		{d(2026, 4, 9), 107_000},
		{d(2026, 4, 10), 77_000},
		{d(2026, 4, 12), 78_500},
		{d(2026, 4, 20), 68_500},
		{d(2027, 1, 1), 68_500},
	}
	for _, tt := range tests {
		got, err := Balance(open, entries, tt.at)
		require.NoError(t, err)
		require.Equal(t, tt.want, got, "at %s", tt.at)
	}
	_, err := Balance(open, append(entries, Entry{Kind: Spend, Date: d(2026, 3, 31), Amount: 1}), d(2026, 5, 1))
	require.ErrorIs(t, err, ErrBeforeOpening)
}

func genEntry(t *rapid.T, open date.Date, label string) Entry {
	kind := rapid.SampledFrom(Kinds).Draw(t, label+"_kind")
	e := Entry{Kind: kind, Date: open.AddDays(rapid.IntRange(0, 400).Draw(t, label+"_day")),
		Amount: rapid.Int64Range(1, MaxAmount).Draw(t, label+"_amount")}
	if kind == Adjustment {
		e.Reason = "correction"
		if rapid.Bool().Draw(t, label+"_negative") {
			e.Amount = -e.Amount
		}
	}
	return e
}

// Invariant 15: the balance is the opening balance plus Σ entries to the penny, in any order, and
// a period's totals add up: closing = opening + in − out.
func TestBalanceIsTheOpeningPlusTheSumOfEntriesInAnyOrder(t *testing.T) {
	t.Parallel()
	rapid.Check(t, func(t *rapid.T) {
		open := Opening{Date: d(2026, 4, 1), Amount: rapid.Int64Range(-MaxAmount, MaxAmount).Draw(t, "opening")}
		n := rapid.IntRange(0, 60).Draw(t, "entries")
		entries := make([]Entry, n)
		for i := range entries {
			entries[i] = genEntry(t, open.Date, fmt.Sprint(i))
		}
		at := open.Date.AddDays(rapid.IntRange(-5, 420).Draw(t, "at"))
		want := open.Amount
		for _, e := range entries {
			if !e.Date.After(at) {
				switch e.Kind {
				case CouncilPayment, ContributionReceived, Refund:
					want += e.Amount
				case Spend, Recovery:
					want -= e.Amount
				case Adjustment:
					want += e.Amount
				}
			}
		}
		got, err := Balance(open, entries, at)
		require.NoError(t, err)
		require.Equal(t, want, got)
		shuffled := rapid.Permutation(entries).Draw(t, "shuffled")
		again, err := Balance(open, shuffled, at)
		require.NoError(t, err)
		require.Equal(t, got, again)

		from := open.Date.AddDays(rapid.IntRange(0, 200).Draw(t, "from"))
		to := from.AddDays(rapid.IntRange(1, 220).Draw(t, "length"))
		tot, err := Sum(open, entries, from, to)
		require.NoError(t, err)
		require.Equal(t, tot.Closing, tot.Opening+tot.In()-tot.Out())
		closing, err := Balance(open, entries, to.AddDays(-1))
		require.NoError(t, err)
		require.Equal(t, closing, tot.Closing)
	})
}
