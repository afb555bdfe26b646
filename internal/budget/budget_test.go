package budget

import (
	"math/rand/v2"
	"testing"

	"github.com/google/uuid"
	"github.com/stretchr/testify/require"

	"github.com/pbudget/pbudget/internal/charging"
)

func TestComposeSplitsTheWorkedExample(t *testing.T) {
	t.Parallel()
	s := Compose(1_820_000, &charging.Contribution{FinancialAssessmentID: uuid.New(), RateTableID: uuid.New(), Assessed: 19_660})
	require.Equal(t, int64(35_000), s.WeeklyCost)
	require.Equal(t, int64(19_660), *s.PersonWeekly)
	require.Equal(t, int64(15_340), *s.CouncilWeekly)
	require.Equal(t, int64(1_022_320), *s.PersonAnnual, "£196.60 × 52")
	require.Equal(t, int64(797_680), *s.CouncilAnnual)
}

func TestComposeWithoutAnAssessmentLeavesTheSplitOpen(t *testing.T) {
	t.Parallel()
	s := Compose(250_000, nil)
	require.Equal(t, int64(4_808), s.WeeklyCost)
	require.Nil(t, s.PersonWeekly)
	require.Nil(t, s.CouncilAnnual)
}

func TestFullCostNeverMakesTheCouncilsShareNegative(t *testing.T) {
	t.Parallel()
	// £100.01 a year: 192.33p a week rounds to 192p; 52 weeks would be 9,984p, under the cost.
	// £100.13 a year: 192.56p rounds up to 193p; 52 weeks would be 10,036p, over it: capped.
	s := Compose(10_013, &charging.Contribution{FullCost: true})
	require.Equal(t, int64(193), *s.PersonWeekly)
	require.Equal(t, int64(0), *s.CouncilWeekly)
	require.Equal(t, int64(10_013), *s.PersonAnnual, "capped at the annual cost")
	require.Equal(t, int64(0), *s.CouncilAnnual)
}

func TestFullCostLeavesTheCouncilNoRoundingToPay(t *testing.T) {
	t.Parallel()
	// £100.01 a year is 192p a week; 52 weeks of it is 9,984p, 17p short of the cost. A person paying
	// the whole weekly cost pays the whole annual cost: the council pays nothing, not 17p.
	for _, c := range []*charging.Contribution{{FullCost: true}, {Assessed: 500}} {
		s := Compose(10_001, c)
		require.Equal(t, int64(192), *s.PersonWeekly)
		require.Equal(t, int64(10_001), *s.PersonAnnual)
		require.Equal(t, int64(0), *s.CouncilAnnual)
	}
}

func TestAPersonAssessedToPayNothingPaysNothingOfATinyBudget(t *testing.T) {
	t.Parallel()
	// 20p a year is 0p a week: paying "the whole weekly cost" of nothing is not paying the year.
	s := Compose(20, &charging.Contribution{Assessed: 0})
	require.Zero(t, *s.PersonAnnual)
	require.Equal(t, int64(20), *s.CouncilAnnual)
	full := Compose(20, &charging.Contribution{FullCost: true})
	require.Equal(t, int64(20), *full.PersonAnnual, "a full-cost payer pays it")
}

// TestCostIsCouncilPlusPersonForRandomBudgets is the property of DOMAIN.md invariant 2 over random
// costs and contributions.
func TestCostIsCouncilPlusPersonForRandomBudgets(t *testing.T) {
	t.Parallel()
	rng := rand.New(rand.NewPCG(4, 2))
	for i := range 50_000 {
		annual := rng.Int64N(10_000_000)
		c := &charging.Contribution{FullCost: rng.IntN(10) == 0, Assessed: rng.Int64N(300_000), Minimum: rng.Int64N(300)}
		s := Compose(annual, c)
		require.Equal(t, s.WeeklyCost, *s.PersonWeekly+*s.CouncilWeekly, "case %d weekly", i)
		require.Equal(t, s.AnnualCost, *s.PersonAnnual+*s.CouncilAnnual, "case %d annual", i)
		for _, v := range []int64{s.WeeklyCost, *s.PersonWeekly, *s.CouncilWeekly, *s.PersonAnnual, *s.CouncilAnnual} {
			require.GreaterOrEqual(t, v, int64(0), "case %d", i)
		}
		require.LessOrEqual(t, *s.PersonWeekly, s.WeeklyCost, "case %d: person ≤ cost", i)
		if *s.CouncilWeekly == 0 && *s.PersonWeekly > 0 || c.FullCost {
			require.Zero(t, *s.CouncilAnnual, "case %d: a person paying the whole cost leaves the council nothing a year", i)
		}
		if !c.FullCost && c.Assessed == 0 {
			require.Zero(t, *s.PersonAnnual, "case %d: assessed to pay nothing", i)
		}
	}
}
