package recovery

import (
	"fmt"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
	"pgregory.net/rapid"

	"github.com/pbudget/pbudget/internal/apperr"
	"github.com/pbudget/pbudget/internal/date"
	"github.com/pbudget/pbudget/internal/reason"
)

func d(y, m, day int) date.Date { return date.Of(y, time.Month(m), day) }

const why = "The balance is £1,000 above the eight weeks' contingency the council allows."

func proposal() Proposal {
	return Proposal{Basis: Surplus, Amount: 94_990, CouncilShare: 94_990, PersonExcess: 5_010, Excess: Refund,
		Reason: why, Method: Offset, Cycles: 3}
}

func TestAProposalRecoversTheCouncilsShareOnlyWithAWrittenReason(t *testing.T) {
	t.Parallel()
	p, err := Propose(proposal())
	require.NoError(t, err)
	require.Equal(t, why, p.Reason)
	tests := []struct {
		name   string
		change func(*Proposal)
		err    error  // a rule
		field  string // or a malformed field
	}{
		{"without a reason (the judicial review)", func(p *Proposal) { p.Reason = "" }, reason.ErrRequired, "/reason"},
		{"with a token reason", func(p *Proposal) { p.Reason = "surplus" }, reason.ErrRequired, "/reason"},
		{"a penny more than the council's share", func(p *Proposal) { p.Amount = p.CouncilShare + 1 }, ErrCouncilShareOnly, ""},
		{"the person's excess without saying what happens to it", func(p *Proposal) { p.Excess = "" }, nil, "/excess"},
		{"an excess treatment with no excess", func(p *Proposal) { p.PersonExcess = 0 }, nil, "/excess"},
		{"nothing to recover", func(p *Proposal) { p.Amount = 0 }, nil, "/amount_pence"},
		{"an unknown basis", func(p *Proposal) { p.Basis = "fine" }, nil, "/basis"},
		{"an offset over no cycles", func(p *Proposal) { p.Cycles = 0 }, nil, "/cycles"},
		{"an offset over 27 cycles", func(p *Proposal) { p.Cycles = MaxCycles + 1 }, nil, "/cycles"},
		{"cycles on an invoice", func(p *Proposal) { p.Method = Invoice }, nil, "/cycles"},
		{"an unknown method", func(p *Proposal) { p.Method = "bailiffs"; p.Cycles = 0 }, nil, "/method"},
		{"a card recoup from a bank account", func(p *Proposal) { p.Method, p.Cycles = CardRecoup, 0 }, ErrCardRecoup, ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			p := proposal()
			tt.change(&p)
			_, err := Propose(p)
			require.Error(t, err)
			if tt.err != nil {
				require.ErrorIs(t, err, tt.err)
				require.Equal(t, apperr.RuleViolation, apperr.KindOf(err))
				return
			}
			var ae *apperr.Error
			require.ErrorAs(t, err, &ae)
			require.Equal(t, apperr.Invalid, ae.Kind)
			require.Equal(t, tt.field, ae.Fields[0].Field)
		})
	}
	p = proposal()
	p.Method, p.Cycles, p.CardAccount = CardRecoup, 0, true
	_, err = Propose(p)
	require.NoError(t, err, "a card recoup from a card")
	p = proposal()
	p.Amount = p.CouncilShare - 1
	_, err = Propose(p)
	require.NoError(t, err, "less than the council's share may be recovered")
}

func TestOffsetsAtTheirEdges(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name      string
		amount    int64
		cycles    int
		payments  []int64
		want      []int64
		remainder int64
	}{
		{"equal instalments, odd pennies first", 10_000, 3, []int64{140_000, 140_000, 140_000}, []int64{3_334, 3_333, 3_333}, 0},
		{"one cycle", 10_000, 1, []int64{140_000}, []int64{10_000}, 0},
		{"exactly a cycle's payment", 140_000, 1, []int64{140_000}, []int64{140_000}, 0},
		{"a penny more than a cycle: spills over", 140_001, 2, []int64{140_000, 140_000}, []int64{70_001, 70_000}, 0},
		{"an offset larger than a cycle's payment spills to the next", 100_000, 2, []int64{20_000, 140_000}, []int64{20_000, 80_000}, 0},
		{"a suspended cycle pays nothing and takes nothing", 30_000, 3, []int64{140_000, 0, 140_000}, []int64{10_000, 0, 20_000}, 0},
		{"payments too small: a stated remainder", 100_000, 2, []int64{20_000, 30_000}, []int64{20_000, 30_000}, 50_000},
		{"never beyond the N cycles notified", 100_000, 2, []int64{20_000, 30_000, 140_000}, []int64{20_000, 30_000}, 50_000},
		{"fewer cycles known than notified", 90_000, 3, []int64{140_000}, []int64{30_000}, 60_000},
		{"an ended agreement: no payments at all", 90_000, 3, nil, []int64{}, 90_000},
		{"nothing to offset", 0, 2, []int64{5, 5}, []int64{0, 0}, 0},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			got, err := PlanOffsets(tt.amount, tt.cycles, tt.payments)
			require.NoError(t, err)
			require.Equal(t, Offsets{PerCycle: tt.want, Remainder: tt.remainder}, got)
		})
	}
	_, err := PlanOffsets(1, 1, []int64{-1})
	require.Error(t, err)
	_, err = PlanOffsets(1, 0, nil)
	require.Error(t, err)
}

// Invariant 17: offsets never make a payment negative (0 ≤ offset ≤ payment), never go beyond
// the N cycles, and add up with the remainder to the amount; the remainder is left only when the
// payments could not take more (every cycle from the first shortfall on gave all it had).
func TestOffsetsNeverMakeAPaymentNegativeAndAddUp(t *testing.T) {
	t.Parallel()
	rapid.Check(t, func(t *rapid.T) {
		amount := rapid.Int64Range(0, 10_000_000).Draw(t, "amount")
		cycles := rapid.IntRange(1, MaxCycles).Draw(t, "cycles")
		payments := rapid.SliceOfN(rapid.Int64Range(0, 500_000), 0, 30).Draw(t, "payments")
		got, err := PlanOffsets(amount, cycles, payments)
		require.NoError(t, err)
		require.Len(t, got.PerCycle, min(cycles, len(payments)))
		sum := got.Remainder
		for i, o := range got.PerCycle {
			require.GreaterOrEqual(t, o, int64(0))
			require.LessOrEqual(t, o, payments[i], "cycle %d: payment %d − offset %d < 0", i, payments[i], o)
			sum += o
		}
		require.Equal(t, amount, sum)
		require.GreaterOrEqual(t, got.Remainder, int64(0))
		if got.Remainder > 0 && len(payments) >= cycles {
			// A remainder with all N cycles known: the last cycle gave everything it had.
			require.Equal(t, payments[cycles-1], got.PerCycle[cycles-1])
		}
	})
}

func TestAnInvoiceIsDueFourteenDaysAfterNotice(t *testing.T) {
	t.Parallel()
	require.Equal(t, d(2026, 9, 15), InvoiceDue(d(2026, 9, 1)))
}

func Example() {
	o, _ := PlanOffsets(100_000, 3, []int64{20_000, 140_000, 140_000})
	fmt.Println(o.PerCycle, o.Remainder)
	// Output: [20000 46667 33333] 0
}
