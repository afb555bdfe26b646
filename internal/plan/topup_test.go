package plan_test

import (
	"testing"

	"github.com/google/uuid"
	"github.com/stretchr/testify/require"
	"pgregory.net/rapid"

	"github.com/pbudget/pbudget/internal/charging"
	"github.com/pbudget/pbudget/internal/date"
	"github.com/pbudget/pbudget/internal/dpaudit"
	"github.com/pbudget/pbudget/internal/payment"
	"github.com/pbudget/pbudget/internal/plan"
	"github.com/pbudget/pbudget/internal/provider"
	"github.com/pbudget/pbudget/internal/recovery"
)

var (
	start = date.Of(2026, 4, 6)
	end   = start.AddDate(1, 0, 0)
)

func genLine(t *rapid.T, providers []uuid.UUID) plan.Line {
	freqs := []plan.Frequency{plan.PerWeek, plan.Per4Weeks, plan.PerMonth, plan.PerYear, plan.Once}
	opts := []plan.Option{plan.DirectPayment, plan.CouncilManaged, plan.ISF}
	l := plan.Line{ID: uuid.New(), Category: "personal_assistant", Unit: plan.Unit("hour"),
		UnitCost: rapid.Int64Range(0, 50_000).Draw(t, "unit_cost"), Quantity: plan.Quantity(rapid.Int64Range(0, 4_000).Draw(t, "quantity")),
		Frequency: rapid.SampledFrom(freqs).Draw(t, "frequency"), Option: rapid.SampledFrom(opts).Draw(t, "option")}
	l.Start = start.AddDays(rapid.IntRange(0, 300).Draw(t, "start"))
	l.End = l.Start.AddDays(rapid.IntRange(1, 400).Draw(t, "days"))
	if l.Option == plan.ISF {
		p := rapid.SampledFrom(providers).Draw(t, "provider")
		l.ProviderID = &p
	}
	l.Annual, l.Weekly = plan.Cost(l, start, end)
	return l
}

func genTopUps(t *rapid.T, lines []plan.Line) []plan.TopUp {
	n := rapid.IntRange(1, 6).Draw(t, "top_ups")
	out := make([]plan.TopUp, n)
	for i := range out {
		out[i] = plan.TopUp{ID: uuid.New(), Description: "extra hours", PayerName: "a relative",
			Payer:  rapid.SampledFrom([]plan.Payer{plan.PayerPerson, plan.PayerParent, plan.PayerRelative, plan.PayerOther}).Draw(t, "payer"),
			Annual: rapid.Int64Range(1, 10_000_000_00).Draw(t, "annual")}
		if rapid.Bool().Draw(t, "of_a_line") {
			id := lines[rapid.IntRange(0, len(lines)-1).Draw(t, "line")].ID
			out[i].LineID = &id
		}
	}
	return out
}

// TestTopUpsChangeNoFigureOfTheBudget: for any plan, any contribution and any family top-ups,
// the council's share and the person's (per management option), the plan's cost, the ceiling and
// approver-limit checks, what each agreement pays a year and a cycle (net and gross, every
// frequency), what an audit's contingency holds back (and so what a surplus recovery takes),
// and what each recovery (a surplus's council share, a misspend's council share) takes from each
// cycle's payment by offset, are the same with the top-ups as without them.
func TestTopUpsChangeNoFigureOfTheBudget(t *testing.T) {
	t.Parallel()
	rapid.Check(t, func(t *rapid.T) {
		providers := []uuid.UUID{uuid.New(), uuid.New()}
		lines := make([]plan.Line, rapid.IntRange(1, 8).Draw(t, "lines"))
		for i := range lines {
			lines[i] = genLine(t, providers)
		}
		var c *charging.Contribution
		if rapid.Bool().Draw(t, "assessed") {
			c = &charging.Contribution{FinancialAssessmentID: uuid.New(), RateTableID: uuid.New(), FullCost: rapid.Bool().Draw(t, "full_cost"),
				Assessed: rapid.Int64Range(0, 200_000).Draw(t, "charge"), Minimum: rapid.Int64Range(0, 500).Draw(t, "minimum")}
		}
		ceiling := rapid.Int64Range(0, 10_000_000).Draw(t, "ceiling")
		limit := rapid.Int64Range(0, 10_000_000).Draw(t, "approver_limit")
		without := plan.Plan{ID: uuid.New(), Lines: lines}
		with := without
		with.TopUps = genTopUps(t, lines)
		require.Positive(t, plan.TopUpsAnnual(with.TopUps))

		a, b := plan.Figures(without, c, ceiling, limit), plan.Figures(with, c, ceiling, limit)
		require.Equal(t, a.Totals, b.Totals, "the plan's cost and each option's council and person shares")
		require.Equal(t, a.OverApproverLim, b.OverApproverLim, "the approver-limit check")
		require.Equal(t, *a.Ceiling, *b.Ceiling)
		require.Equal(t, a.Totals.Annual > ceiling, b.Totals.Annual > ceiling, "the ceiling check")
		f := plan.Facts{BudgetStart: start, BudgetEnd: end, Ceiling: ceiling,
			Categories: map[string]plan.Category{"personal_assistant": {Key: "personal_assistant", Name: "Personal assistant", DPAllowed: true}},
			Providers: map[uuid.UUID]provider.Provider{providers[0]: {ID: providers[0], Type: provider.ISFProvider, Active: true},
				providers[1]: {ID: providers[1], Type: provider.ISFProvider, Active: true}}}
		errA, errB := plan.Check(without.Lines, f), plan.Check(with.Lines, f)
		require.Equal(t, errA == nil, errB == nil, "the plan rules, the ceiling among them")

		for _, basis := range []string{"net", "gross"} {
			dpA, errA := plan.DPAnnual(a, basis)
			dpB, errB := plan.DPAnnual(b, basis)
			require.Equal(t, errA, errB)
			require.Equal(t, dpA, dpB, "a direct payment's annual amount, %s", basis)
			for _, freq := range []payment.Frequency{payment.FourWeekly, payment.TwoWeekly, payment.Monthly} {
				ag := payment.Agreement{Frequency: freq, Basis: payment.Basis(basis)}
				require.Equal(t, ag.PerCycle(payment.Amount{Annual: dpA, CouncilAnnual: dpA}), ag.PerCycle(payment.Amount{Annual: dpB, CouncilAnnual: dpB}),
					"a payment run's cycle amount")
			}
			closing := rapid.Int64Range(0, 5_000_000).Draw(t, "closing")
			surplus := func(annual int64) dpaudit.Surplus {
				weekly := payment.Agreement{Frequency: payment.FourWeekly, Basis: payment.Basis(basis)}.PerCycle(payment.Amount{Annual: annual, CouncilAnnual: annual}) / 4
				s, err := dpaudit.ComputeSurplus(dpaudit.SurplusInput{Closing: closing, WeeklyPayment: weekly, ContingencyWeeks: 8,
					CouncilPayments: annual, ContributionsReceived: 0})
				require.NoError(t, err)
				return s
			}
			sA, sB := surplus(dpA), surplus(dpB)
			require.Equal(t, sA.CouncilShare, sB.CouncilShare, "what a surplus recovery takes")
			// The recoveries themselves: a surplus recovery of the council's share, and a misspend's
			// council share, each by offset against the agreement's cycles, take the same from the
			// same payments, and what the offsets cannot take is the same.
			cycles := rapid.IntRange(1, recovery.MaxCycles).Draw(t, "cycles")
			misspend := rapid.Int64Range(1, 5_000_000).Draw(t, "misspend")
			personIn := rapid.Int64Range(0, 2_000_000).Draw(t, "contributions_received")
			recoveries := func(annual int64, s dpaudit.Surplus) []any {
				per := payment.Agreement{Frequency: payment.FourWeekly, Basis: payment.Basis(basis)}.PerCycle(payment.Amount{Annual: annual, CouncilAnnual: annual})
				payments := make([]int64, cycles)
				for i := range payments {
					payments[i] = per
				}
				_, misspendCouncil := dpaudit.Shares(misspend, personIn, annual)
				var out []any
				for _, rc := range []struct {
					basis  recovery.Basis
					amount int64
				}{{recovery.Surplus, s.CouncilShare}, {recovery.Misspend, misspendCouncil}} {
					if rc.amount <= 0 {
						out = append(out, "nothing to recover")
						continue
					}
					p, err := recovery.Propose(recovery.Proposal{Basis: rc.basis, Amount: rc.amount, CouncilShare: rc.amount,
						Reason: "the audit found money unspent or misspent", Method: recovery.Offset, Cycles: cycles})
					require.NoError(t, err)
					o, err := recovery.PlanOffsets(p.Amount, p.Cycles, payments)
					require.NoError(t, err)
					out = append(out, p.Amount, o.PerCycle, o.Remainder)
				}
				return out
			}
			require.Equal(t, recoveries(dpA, sA), recoveries(dpB, sB), "what each recovery takes, cycle by cycle")
		}
		for _, p := range providers {
			isA, errA := plan.ISFAnnual(a, p)
			isB, errB := plan.ISFAnnual(b, p)
			require.Equal(t, errA, errB)
			require.Equal(t, isA, isB, "an ISF's annual amount")
		}
	})
}
