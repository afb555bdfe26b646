package charging

import (
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/pbudget/pbudget/internal/date"
)

func pb(v bool) *bool { return &v }

// england2025 is the national England 2025/26 table of DOMAIN.md section 3.
func england2025() RateTable { return England2025() }

// aged is a date of birth that makes a person age years old on the worked example's effective
// date, 1 June 2025.
func aged(age int) date.Date { return date.Of(2025-age, 1, 1) }

// workedExample is the invented person of DOMAIN.md section 3.
func workedExample() Facts {
	return Facts{
		EffectiveDate: date.Of(2025, 6, 1), Household: Single,
		DisabilityPremium: true, EnhancedDisabilityPremium: true,
		Income:       []IncomeItem{{Type: "other_benefit", Weekly: 42_000}},
		Capital:      []CapitalItem{{Type: "savings", Value: 1_610_000}},
		HousingCosts: 2_500, DREMethod: "individual", DRE: []WeeklyItem{{"extra heating", 2_000}},
	}
}

func TestTheWorkedExampleToThePenny(t *testing.T) {
	t.Parallel()
	r, err := Calculate(Full, workedExample(), aged(30), england2025())
	require.NoError(t, err)
	require.Equal(t, int64(800), r.Tariff, "1,850/250 = 7.4 → £8.00")
	require.Equal(t, int64(18_640), r.MIG, "112.50 + 49.65 + 24.25")
	require.Len(t, r.MIGParts, 3)
	require.Equal(t, int64(19_660), r.Available, "420 + 8 − 186.40 − 25 − 20")
	require.Equal(t, int64(19_660), r.Assessed)
	charge, _ := Charge(r.FullCost, r.Assessed, r.MinimumCharge, 35_000)
	require.Equal(t, int64(19_660), charge, "min(196.60, 350)")
	require.Equal(t, int64(15_340), 35_000-charge, "the council pays £153.40 a week")
}

func TestTariffAndFullCostAtTheCapitalLimits(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name     string
		capital  int64
		tariff   int64
		fullCost bool
	}{
		{"nothing", 0, 0, false},
		{"exactly the lower limit", 1_425_000, 0, false},
		{"a penny above the lower limit", 1_425_001, 100, false},
		{"one whole step above", 1_450_000, 100, false},
		{"a step and a penny", 1_450_001, 200, false},
		{"exactly the upper limit", 2_325_000, 3_600, false},
		{"a penny above the upper limit", 2_325_001, 0, true},
	}
	for _, tt := range tests {
		f := workedExample()
		f.Capital = []CapitalItem{{Type: "savings", Value: tt.capital}}
		r, err := Calculate(Full, f, aged(30), england2025())
		require.NoError(t, err)
		require.Equal(t, tt.tariff, r.Tariff, tt.name)
		require.Equal(t, tt.fullCost, r.FullCost, tt.name)
	}
}

func TestTheMainHomeIsNotCountedForCareAtHome(t *testing.T) {
	t.Parallel()
	f := workedExample()
	f.Capital = append(f.Capital, CapitalItem{Type: "main_home", Value: 30_000_000})
	r, err := Calculate(Full, f, aged(30), england2025())
	require.NoError(t, err)
	require.Equal(t, int64(1_610_000), r.CapitalCounted)
	require.False(t, r.FullCost)
}

func TestCareAtHomeLimitsReplaceTheDefaultsWhenSet(t *testing.T) {
	t.Parallel()
	table := england2025()
	table.CareAtHomeCapital = &CapitalLimits{Lower: 1_700_000, Upper: 3_000_000}
	r, err := Calculate(Full, workedExample(), aged(30), table)
	require.NoError(t, err)
	require.Equal(t, int64(0), r.Tariff, "£16,100 is under the higher lower limit")
}

func TestChargeIsCappedAtTheCostAndDroppedBelowTheMinimum(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name     string
		fullCost bool
		assessed int64
		minimum  int64
		cost     int64
		want     int64
	}{
		{"below the cost", false, 19_660, 0, 35_000, 19_660},
		{"capped at the cost", false, 50_000, 0, 35_000, 35_000},
		{"exactly the cost", false, 35_000, 0, 35_000, 35_000},
		{"full cost", true, 0, 0, 35_000, 35_000},
		{"a penny under the minimum charge", false, 124, 125, 35_000, 0},
		{"exactly the minimum charge", false, 125, 125, 35_000, 125},
		{"nothing to pay", false, 0, 125, 35_000, 0},
	}
	for _, tt := range tests {
		got, steps := Charge(tt.fullCost, tt.assessed, tt.minimum, tt.cost)
		require.Equal(t, tt.want, got, tt.name)
		require.NotEmpty(t, steps)
	}
}

func TestIncomeDisregardsEarningsAndMobilityComponents(t *testing.T) {
	t.Parallel()
	f := workedExample()
	f.Income = append(f.Income, IncomeItem{Type: "earnings", Weekly: 10_000}, IncomeItem{Type: "pip_mobility", Weekly: 7_000},
		IncomeItem{Type: "dla_mobility", Weekly: 2_000}, IncomeItem{Type: "pip_daily_living", Weekly: 1_000})
	r, err := Calculate(Full, f, aged(30), england2025())
	require.NoError(t, err)
	require.Equal(t, int64(43_000), r.IncomeCounted)
	require.Equal(t, int64(19_000), r.IncomeDisregarded)
}

func TestTaperFlatDREAndMissingRates(t *testing.T) {
	t.Parallel()
	table := england2025()
	table.TaperPercent = 50
	r, err := Calculate(Full, workedExample(), aged(30), table)
	require.NoError(t, err)
	require.Equal(t, int64(9_830), r.Assessed, "half of £196.60")

	flat := workedExample()
	flat.DREMethod = "flat"
	_, err = Calculate(Full, flat, aged(30), england2025())
	require.ErrorIs(t, err, ErrFlatDRENotSet)
	table.DREFlat = pence(1_085)
	r, err = Calculate(Full, flat, aged(30), table)
	require.NoError(t, err)
	require.Equal(t, int64(1_085), r.DRE, "Reading's £10.85 flat allowance")

	_, err = Calculate(Full, workedExample(), aged(70), england2025())
	require.ErrorIs(t, err, ErrMIGRateMissing, "the 2025/26 pension-age rate must be loaded from the circular")

	_, err = Calculate(Full, workedExample(), aged(17), england2025())
	require.ErrorIs(t, err, ErrAdultsOnly)

	young := workedExample()
	r, err = Calculate(Full, young, aged(24), england2025())
	require.NoError(t, err)
	require.Equal(t, int64(8_915+4_965+2_425), r.MIG, "18–24 base rate")
}

func TestLightTouchAssessments(t *testing.T) {
	t.Parallel()
	r, err := Calculate(LightTouchFullCost, Facts{}, aged(40), england2025())
	require.NoError(t, err)
	require.True(t, r.FullCost)
	charge, _ := Charge(r.FullCost, r.Assessed, r.MinimumCharge, 35_000)
	require.Equal(t, int64(35_000), charge)

	r, err = Calculate(LightTouchNil, Facts{}, aged(40), england2025())
	require.NoError(t, err)
	charge, _ = Charge(r.FullCost, r.Assessed, r.MinimumCharge, 35_000)
	require.Equal(t, int64(0), charge)
}
