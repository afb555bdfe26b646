package dpaudit

import (
	"encoding/json"
	"fmt"
	"math/big"
	"testing"

	"github.com/stretchr/testify/require"
	"pgregory.net/rapid"

	"github.com/pbudget/pbudget/internal/account"
	"github.com/pbudget/pbudget/internal/apperr"
	"github.com/pbudget/pbudget/internal/date"
	"github.com/pbudget/pbudget/internal/golden"
)

// aYear is a four-weekly direct payment of £1,400 (£350 a week) for 13 cycles, the person's
// contribution of £80 a cycle paid in for 12 of them, and a year's spending.
func aYear() ReconcileInput {
	p := Period{d(2026, 4, 6), d(2027, 4, 5)}
	in := ReconcileInput{Period: p, Opening: account.Opening{Date: p.Start}}
	for k := range 13 {
		day := p.Start.AddDays(28 * k)
		in.Entries = append(in.Entries,
			account.Entry{Kind: account.CouncilPayment, Date: day, Amount: 140_000},
			account.Entry{Kind: account.ContributionDue, Date: day, Amount: 8_000},
			account.Entry{Kind: account.Spend, Date: day.AddDays(3), Amount: 120_000})
		if k != 5 {
			in.Entries = append(in.Entries, account.Entry{Kind: account.ContributionReceived, Date: day.AddDays(1), Amount: 8_000})
		}
	}
	in.Entries = append(in.Entries,
		account.Entry{Kind: account.Refund, Date: d(2026, 9, 1), Amount: 2_500},
		account.Entry{Kind: account.Adjustment, Date: d(2026, 10, 1), Amount: -1_000, Reason: "bank charge"},
		account.Entry{Kind: account.Recovery, Date: d(2026, 11, 1), Amount: 5_000})
	closing := int64(348_000)
	in.StatementClosing = &closing
	return in
}

func TestAYearIsReconciledStepByStep(t *testing.T) {
	t.Parallel()
	r, err := ReconcilePeriod(aYear())
	require.NoError(t, err)
	require.Equal(t, int64(0), r.Opening)
	require.Equal(t, int64(1_820_000), r.CouncilPayments)
	require.Equal(t, int64(96_000), r.ContributionsReceived)
	require.Equal(t, int64(1_560_000), r.Spending)
	require.Equal(t, int64(2_500), r.OtherIn)
	require.Equal(t, int64(6_000), r.OtherOut)
	require.Equal(t, int64(352_500), r.ExpectedClosing)
	require.Equal(t, int64(-4_500), r.Unexplained)
	require.Equal(t, int64(104_000), r.ContributionsDue)
	require.Equal(t, int64(8_000), r.ContributionShortfall)
	require.Equal(t, int64(348_000), r.Closing(), "the statement's figure is the money there")
	out, err := json.MarshalIndent(r.Steps, "", "  ")
	require.NoError(t, err)
	golden.Check(t, "reconciliation.golden.json", out)
}

func TestWithoutAStatementNothingIsUnexplainedAndTheLedgerIsTheClosing(t *testing.T) {
	t.Parallel()
	in := aYear()
	in.StatementClosing = nil
	r, err := ReconcilePeriod(in)
	require.NoError(t, err)
	require.Zero(t, r.Unexplained)
	require.Equal(t, r.ExpectedClosing, r.Closing())
	for _, s := range r.Steps {
		require.NotEqual(t, StepStatementClosing, s.Step)
		require.NotEqual(t, StepUnexplained, s.Step)
	}
}

// Invariant 15: opening + in − out = expected closing to the penny, which is the ledger's balance
// at the period's last day; the unexplained difference is exactly statement − expected.
func TestTheReconciliationAddsUpToThePenny(t *testing.T) {
	t.Parallel()
	rapid.Check(t, func(t *rapid.T) {
		open := account.Opening{Date: d(2026, 1, 1), Amount: rapid.Int64Range(-1_000_000, 10_000_000).Draw(t, "opening")}
		var entries []account.Entry
		for i := range rapid.IntRange(0, 80).Draw(t, "entries") {
			k := rapid.SampledFrom(account.Kinds).Draw(t, fmt.Sprint("kind", i))
			e := account.Entry{Kind: k, Date: open.Date.AddDays(rapid.IntRange(0, 800).Draw(t, fmt.Sprint("day", i))),
				Amount: rapid.Int64Range(1, account.MaxAmount).Draw(t, fmt.Sprint("amount", i)), Reason: "r"}
			if k == account.Adjustment && rapid.Bool().Draw(t, fmt.Sprint("neg", i)) {
				e.Amount = -e.Amount
			}
			entries = append(entries, e)
		}
		start := open.Date.AddDays(rapid.IntRange(0, 400).Draw(t, "start"))
		p := Period{start, start.AddDays(rapid.IntRange(1, 400).Draw(t, "days"))}
		var stated *int64
		if rapid.Bool().Draw(t, "stated") {
			v := rapid.Int64Range(-account.MaxAmount, account.MaxAmount).Draw(t, "statement")
			stated = &v
		}
		r, err := ReconcilePeriod(ReconcileInput{Period: p, Opening: open, Entries: entries, StatementClosing: stated})
		require.NoError(t, err)
		require.Equal(t, r.ExpectedClosing, r.Opening+r.CouncilPayments+r.ContributionsReceived+r.OtherIn-r.Spending-r.OtherOut)
		bal, err := account.Balance(open, entries, p.Last())
		require.NoError(t, err)
		require.Equal(t, bal, r.ExpectedClosing)
		if stated != nil {
			require.Equal(t, *stated-r.ExpectedClosing, r.Unexplained)
		}
		require.Equal(t, r.ContributionsDue-r.ContributionsReceived-r.ContributionsPaidToCouncil, r.ContributionShortfall-r.ContributionExcess)
		require.GreaterOrEqual(t, r.ContributionShortfall, int64(0))
		require.GreaterOrEqual(t, r.ContributionExcess, int64(0))
	})
}

// A gross payment's invoices paid to the council settle the contributions due (no shortfall when
// all are paid) but are not the account's money: the expected closing and the money in are the
// same with them or without them.
func TestContributionsPaidToTheCouncilSettleTheShortfallButAreNotTheAccountsMoney(t *testing.T) {
	t.Parallel()
	open := account.Opening{Date: d(2026, 4, 1)}
	base := []account.Entry{
		{Kind: account.CouncilPayment, Date: d(2026, 4, 6), Amount: 60_000},
		{Kind: account.ContributionDue, Date: d(2026, 4, 6), Amount: 10_000},
		{Kind: account.CouncilPayment, Date: d(2026, 5, 4), Amount: 60_000},
		{Kind: account.ContributionDue, Date: d(2026, 5, 4), Amount: 10_000},
		{Kind: account.CouncilPayment, Date: d(2026, 6, 1), Amount: 60_000},
		{Kind: account.ContributionDue, Date: d(2026, 6, 1), Amount: 10_000},
		{Kind: account.Spend, Date: d(2026, 6, 10), Amount: 25_000},
	}
	paid := func(on date.Date, amount int64) account.Entry {
		return account.Entry{Kind: account.ContributionPaidToCouncil, Date: on, Amount: amount}
	}
	p := Period{d(2026, 4, 6), d(2026, 6, 29)}
	tests := []struct {
		name                     string
		payments                 []account.Entry
		toCouncil, short, excess int64
	}{
		{"no invoice paid", nil, 0, 30_000, 0},
		{"two invoices paid", []account.Entry{paid(d(2026, 4, 20), 10_000), paid(d(2026, 5, 18), 10_000)}, 20_000, 10_000, 0},
		{"all three paid", []account.Entry{paid(d(2026, 4, 20), 10_000), paid(d(2026, 5, 18), 10_000), paid(d(2026, 6, 15), 10_000)}, 30_000, 0, 0},
		{"a penny short", []account.Entry{paid(d(2026, 6, 15), 29_999)}, 29_999, 1, 0},
		{"a penny over", []account.Entry{paid(d(2026, 6, 15), 30_001)}, 30_001, 0, 1},
		{"paid after the period: not counted", []account.Entry{paid(d(2026, 6, 29), 30_000)}, 0, 30_000, 0},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			r, err := ReconcilePeriod(ReconcileInput{Period: p, Opening: open, Entries: append(append([]account.Entry{}, base...), tt.payments...)})
			require.NoError(t, err)
			require.Equal(t, []int64{tt.toCouncil, tt.short, tt.excess}, []int64{r.ContributionsPaidToCouncil, r.ContributionShortfall, r.ContributionExcess})
			require.Zero(t, r.ContributionsReceived, "nothing was paid into the account")
			require.Equal(t, int64(180_000), r.CouncilPayments)
			require.Equal(t, int64(155_000), r.ExpectedClosing, "the money in the account: the council's payments less the spending")
			var sawStep bool
			for _, s := range r.Steps {
				sawStep = sawStep || s.Step == StepContributionsToCouncil
			}
			require.Equal(t, tt.toCouncil > 0, sawStep)
			fs := Findings(FindingsInput{Period: p, Reconciliation: r})
			var shortfall int64
			for _, f := range fs {
				if f.Type == ContributionShortfall {
					shortfall = f.Amount
				}
			}
			require.Equal(t, tt.short, shortfall)
		})
	}
}

func TestTheSurplusAtItsEdges(t *testing.T) {
	t.Parallel()
	weekly := int64(35_000) // £350 a week: 8 weeks' contingency is £2,800
	tests := []struct {
		name                    string
		closing                 int64
		liabilities             []Liability
		person, council         int64 // paid in over the period
		surplus, pshare, cshare int64
	}{
		{"contingency exactly met", 280_000, nil, 96_000, 1_820_000, 0, 0, 0},
		{"a penny over the contingency", 280_001, nil, 96_000, 1_820_000, 1, 0, 1},
		{"below the contingency", 100_000, nil, 96_000, 1_820_000, 0, 0, 0},
		{"an overdrawn account", -5_000, nil, 96_000, 1_820_000, 0, 0, 0},
		{"£1,000 over, shared by what was paid in", 380_000, nil, 96_000, 1_820_000, 100_000, 5_010, 94_990},
		{"an evidenced liability is deducted", 380_000, []Liability{{"agency invoice", 60_000, true}}, 96_000, 1_820_000, 40_000, 2_004, 37_996},
		{"an unevidenced liability is not", 380_000, []Liability{{"wages said to be owed", 60_000, false}}, 96_000, 1_820_000, 100_000, 5_010, 94_990},
		{"liabilities beyond the balance", 380_000, []Liability{{"invoice", 200_000, true}}, 96_000, 1_820_000, 0, 0, 0},
		{"no payments in the period", 380_000, nil, 0, 0, 100_000, 0, 100_000},
		{"only the person paid in", 380_000, nil, 50_000, 0, 100_000, 100_000, 0},
		{"a gross payment: no contributions in the account", 380_000, nil, 0, 1_820_000, 100_000, 0, 100_000},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			s, err := ComputeSurplus(SurplusInput{Closing: tt.closing, Liabilities: tt.liabilities, WeeklyPayment: weekly,
				ContingencyWeeks: 8, ContributionsReceived: tt.person, CouncilPayments: tt.council})
			require.NoError(t, err)
			require.Equal(t, []int64{tt.surplus, tt.pshare, tt.cshare}, []int64{s.Surplus, s.PersonShare, s.CouncilShare})
			require.Equal(t, int64(280_000), s.Contingency)
			require.Len(t, s.Steps, 6)
		})
	}
}

func TestASurplusInputOutOfRangeIsRefused(t *testing.T) {
	t.Parallel()
	_, err := ComputeSurplus(SurplusInput{Liabilities: []Liability{{"x", 0, true}}, WeeklyPayment: -1, ContingencyWeeks: 53, CouncilPayments: -1})
	var ae *apperr.Error
	require.ErrorAs(t, err, &ae)
	require.Len(t, ae.Fields, 4)
}

// Invariant 16: surplus = max(0, closing − liabilities − contingency) ≥ 0, and the council's and
// the person's shares add up to it, the person's being their exact proportion rounded down.
func TestTheSurplusIsNeverNegativeAndItsSharesAddUp(t *testing.T) {
	t.Parallel()
	rapid.Check(t, func(t *rapid.T) {
		in := SurplusInput{
			Closing:               rapid.Int64Range(-account.MaxAmount, account.MaxAmount).Draw(t, "closing"),
			WeeklyPayment:         rapid.Int64Range(0, 10_000_000).Draw(t, "weekly"),
			ContingencyWeeks:      rapid.IntRange(0, 52).Draw(t, "weeks"),
			ContributionsReceived: rapid.Int64Range(0, account.MaxAmount).Draw(t, "person_in"),
			CouncilPayments:       rapid.Int64Range(0, account.MaxAmount).Draw(t, "council_in"),
		}
		var evidenced int64
		for i := range rapid.IntRange(0, 4).Draw(t, "liabilities") {
			l := Liability{"l", rapid.Int64Range(1, 10_000_000).Draw(t, fmt.Sprint("liability", i)), rapid.Bool().Draw(t, fmt.Sprint("evidenced", i))}
			if l.Evidenced {
				evidenced += l.Amount
			}
			in.Liabilities = append(in.Liabilities, l)
		}
		s, err := ComputeSurplus(in)
		require.NoError(t, err)
		require.GreaterOrEqual(t, s.Surplus, int64(0))
		require.Equal(t, max(0, in.Closing-evidenced-int64(in.ContingencyWeeks)*in.WeeklyPayment), s.Surplus)
		require.Equal(t, s.Surplus, s.PersonShare+s.CouncilShare)
		require.GreaterOrEqual(t, s.PersonShare, int64(0))
		require.GreaterOrEqual(t, s.CouncilShare, int64(0))
		if total := in.ContributionsReceived + in.CouncilPayments; total > 0 {
			exact := new(big.Int).Mul(big.NewInt(s.Surplus), big.NewInt(in.ContributionsReceived))
			exact.Quo(exact, big.NewInt(total))
			require.Equal(t, exact.Int64(), s.PersonShare, "the person's exact proportion, rounded down")
		}
	})
}
