package charging

import (
	"testing"

	"github.com/stretchr/testify/require"
	"pgregory.net/rapid"

	"github.com/pbudget/pbudget/internal/apperr"
	"github.com/pbudget/pbudget/internal/date"
	"github.com/pbudget/pbudget/internal/money"
)

// everyRow is the 2025/26 table with a base rate for every household and age band and every
// premium, so that any person can be assessed with it. The rows the national table lacks carry
// made-up test figures, not the circular's.
func everyRow() RateTable {
	t := England2025()
	t.MIG.Base = nil
	rates := map[Household][3]int64{Single: {8_915, 11_250, 23_000}, Couple: {8_800, 8_800, 17_500}, LoneParent: {11_250, 11_250, 23_000}}
	for h, r := range rates {
		for i, band := range []AgeBand{Age18to24, Age25ToPensionAge, PensionCreditAge} {
			t.MIG.Base = append(t.MIG.Base, MIGBase{Household: h, AgeBand: band, Weekly: r[i]})
		}
	}
	t.MIG.CarerPremium, t.MIG.DependentChild = pence(4_900), pence(10_300)
	return t
}

func TestTheTaperRoundsDownOrToTheNearestPennyAtTheHalfpenny(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name             string
		available        int64
		percent          int
		down, nearestPen int64
	}{
		{"half a penny", 1, 50, 0, 1},
		{"a penny and a half", 3, 50, 1, 2},
		{"£0.995", 199, 50, 99, 100},
		{"just under half a penny", 1, 49, 0, 0},
		{"just over half a penny", 1, 51, 0, 1},
		{"99.99p", 101, 99, 99, 100},
		{"a whole amount at 100%", 19_660, 100, 19_660, 19_660},
		{"a whole amount at 50%", 19_660, 50, 9_830, 9_830},
		{"nothing available", 0, 50, 0, 0},
		{"a negative available income", -5_000, 50, 0, 0},
		{"no taper", 12_345, 0, 0, 0},
	}
	for _, tt := range tests {
		require.Equal(t, tt.down, Taper(tt.available, tt.percent, RoundDown), tt.name+", down")
		require.Equal(t, tt.nearestPen, Taper(tt.available, tt.percent, RoundNearest), tt.name+", nearest")
	}
}

func TestTheTablesRoundingIsUsedAndShownInTheSteps(t *testing.T) {
	t.Parallel()
	f := workedExample()
	f.Income = []IncomeItem{{Type: "other_benefit", Weekly: 42_001}} // available £196.61
	table := england2025()
	table.TaperPercent = 50
	r, err := Calculate(Full, f, aged(30), table)
	require.NoError(t, err)
	require.Equal(t, int64(19_661), r.Available)
	require.Equal(t, int64(9_830), r.Assessed, "£98.305 rounded down")
	require.Equal(t, RoundDown, r.Rounding)
	require.Contains(t, step(t, r, "taper").Detail, "rounded down")

	table.Rounding = RoundNearest
	r, err = Calculate(Full, f, aged(30), table)
	require.NoError(t, err)
	require.Equal(t, int64(9_831), r.Assessed, "£98.305 to the nearest penny, halves up")
	require.Equal(t, RoundNearest, r.Rounding)
	require.Contains(t, step(t, r, "taper").Detail, "nearest penny")

	table.Rounding = ""
	r, err = Calculate(Full, f, aged(30), table)
	require.NoError(t, err)
	require.Equal(t, int64(9_830), r.Assessed, "a table without a rounding rounds down")

	table.Rounding = "up"
	err = ValidateTable(table)
	require.ErrorIs(t, err, ErrInvalidTable)
	require.Equal(t, "/rounding", err.(*apperr.Error).Fields[0].Field)
}

func step(t *testing.T, r Result, name string) money.Step {
	t.Helper()
	for _, s := range r.Steps {
		if s.Step == name {
			return s
		}
	}
	t.Fatalf("no step %q in %v", name, r.Steps)
	return money.Step{}
}

func TestAPartialDisregardIsDisregardedIncomeNotAnAllowance(t *testing.T) {
	t.Parallel()
	f := workedExample()
	f.Income = append(f.Income, IncomeItem{Type: "attendance_allowance", Weekly: 11_040, Disregarded: 3_690,
		DisregardReason: "the night-care part: no night care is provided"})
	require.NoError(t, ValidateFacts(f))
	r, err := Calculate(Full, f, aged(30), england2025())
	require.NoError(t, err)
	require.Equal(t, int64(42_000+11_040-3_690), r.IncomeCounted)
	require.Equal(t, int64(3_690), r.IncomeDisregarded)
	require.Equal(t, int64(0), r.Other, "not an allowance")
	require.Equal(t, int64(19_660+7_350), r.Available)
	s := step(t, r, "income_disregarded")
	require.Equal(t, int64(3_690), *s.Value)
	require.Contains(t, s.Detail, "no night care is provided")
	for _, st := range r.Steps {
		require.NotEqual(t, "other_allowances", st.Step)
	}

	whole := workedExample()
	whole.Income = []IncomeItem{{Type: "pip_daily_living", Weekly: 11_040, Disregarded: 11_040, DisregardReason: "no night care"}}
	require.NoError(t, ValidateFacts(whole), "the whole item may be disregarded")
	r, err = Calculate(Full, whole, aged(30), england2025())
	require.NoError(t, err)
	require.Equal(t, int64(0), r.IncomeCounted)
}

func TestPartialDisregardsAndOverridesAreRefusedWhenInconsistent(t *testing.T) {
	t.Parallel()
	item := func(typ string, weekly, dis int64, reason string) Facts {
		f := workedExample()
		f.Income = append(f.Income, IncomeItem{Type: typ, Weekly: weekly, Disregarded: dis, DisregardReason: reason})
		return f
	}
	override := workedExample()
	override.PensionAgeOverride = pb(true)
	reason := workedExample()
	reason.PensionAgeOverrideReason = "a reason"
	tests := []struct {
		name  string
		f     Facts
		want  error
		field string
		code  string
	}{
		{"a penny more than the item", item("attendance_allowance", 11_040, 11_041, "night care"), ErrDisregardInvalid, "/income/1/disregarded_pence", "exceeds_item"},
		{"without its reason", item("attendance_allowance", 11_040, 100, ""), ErrDisregardInvalid, "/income/1/disregard_reason", "required"},
		{"a reason without a disregard", item("attendance_allowance", 11_040, 0, "night care"), ErrDisregardInvalid, "/income/1/disregard_reason", "without_disregard"},
		{"of income disregarded in full", item("earnings", 11_040, 100, "why"), ErrDisregardInvalid, "/income/1/disregarded_pence", "disregarded_in_full"},
		{"an override without its reason", override, ErrPensionAgeOverride, "/pension_credit_age_override_reason", "required"},
		{"a reason without an override", reason, ErrPensionAgeOverride, "/pension_credit_age_override_reason", "without_override"},
	}
	for _, tt := range tests {
		err := ValidateFacts(tt.f)
		require.ErrorIs(t, err, tt.want, tt.name)
		fe := err.(*apperr.Error).Fields[0]
		require.Equal(t, tt.field, fe.Field, tt.name)
		require.Equal(t, tt.code, fe.Code, tt.name)
	}
}

func TestTheMIGRowFollowsTheDateOfBirthUnlessOverriddenWithAReason(t *testing.T) {
	t.Parallel()
	f := workedExample()
	f.DisabilityPremium, f.EnhancedDisabilityPremium = false, false

	// Born 6 April 1960: pension credit age (66 years and 1 month) on 6 May 2026.
	dob := date.Of(1960, 4, 6)
	f.EffectiveDate = date.Of(2026, 5, 5)
	r, err := Calculate(Full, f, dob, everyRow())
	require.NoError(t, err)
	require.Equal(t, int64(11_250), r.MIG, "the day before: 25 to pension credit age")
	require.Equal(t, &PensionAge{QualifyingDate: "2026-05-06", ByDateOfBirth: false, Reached: false}, r.PensionAge)

	f.EffectiveDate = date.Of(2026, 5, 6)
	r, err = Calculate(Full, f, dob, everyRow())
	require.NoError(t, err)
	require.Equal(t, int64(23_000), r.MIG, "the day of: pension credit age")
	require.Contains(t, step(t, r, "pension_credit_age").Detail, "2026-05-06")

	// A 75-year-old is at pension credit age whatever anyone sends: no flag decides it now.
	f.EffectiveDate = date.Of(2025, 6, 1)
	_, err = Calculate(Full, f, date.Of(1950, 1, 1), England2025())
	require.ErrorIs(t, err, ErrMIGRateMissing, "the national table has no pension age row: refused, not guessed")
	r, err = Calculate(Full, f, date.Of(1950, 1, 1), everyRow())
	require.NoError(t, err)
	require.Equal(t, int64(23_000), r.MIG)

	f.PensionAgeOverride, f.PensionAgeOverrideReason = pb(false), "date of birth under verification with DWP"
	r, err = Calculate(Full, f, date.Of(1950, 1, 1), everyRow())
	require.NoError(t, err)
	require.Equal(t, int64(11_250), r.MIG, "the override decides, and says why")
	require.Equal(t, &PensionAge{QualifyingDate: "2010-01-01", ByDateOfBirth: true, Reached: false, Overridden: true,
		OverrideReason: "date of birth under verification with DWP"}, r.PensionAge)
	require.Contains(t, step(t, r, "pension_credit_age").Detail, "under verification")
}

// TestIncomeLeftAfterTheChargeNeverFallsBelowTheMIG checks, whatever the rounding, taper,
// minimum charge, partial disregards, household, age and override: the income left after the
// charge never falls below the MIG with housing, DRE and other allowances (a person already
// below it pays nothing), the charge is never negative nor above the cost, the parts of income
// add up to the whole, and rounding to the nearest penny adds at most a penny to rounding down.
func TestIncomeLeftAfterTheChargeNeverFallsBelowTheMIG(t *testing.T) {
	t.Parallel()
	types := []string{"state_pension", "occupational_pension", "attendance_allowance", "pip_daily_living", "pip_mobility", "earnings", "other_benefit"}
	rapid.Check(t, func(t *rapid.T) {
		table := everyRow()
		table.TaperPercent = rapid.IntRange(0, 100).Draw(t, "taper")
		table.Rounding = rapid.SampledFrom([]Rounding{RoundDown, RoundNearest}).Draw(t, "rounding")
		table.MinimumCharge = rapid.Int64Range(0, 1_000).Draw(t, "minimum")
		effective := date.Of(2025, 6, 1).AddDays(rapid.IntRange(0, 3_650).Draw(t, "effective"))
		dob := effective.AddDays(-rapid.IntRange(18*366, 100*366).Draw(t, "age_days"))
		f := Facts{
			EffectiveDate:     effective,
			Household:         rapid.SampledFrom([]Household{Single, Couple, LoneParent}).Draw(t, "household"),
			DisabilityPremium: rapid.Bool().Draw(t, "dp"), EnhancedDisabilityPremium: rapid.Bool().Draw(t, "edp"),
			CarerPremium: rapid.Bool().Draw(t, "carer"), DependentChildren: rapid.IntRange(0, 4).Draw(t, "children"),
			HousingCosts: rapid.Int64Range(0, 40_000).Draw(t, "housing"), DREMethod: "individual",
			DRE:             []WeeklyItem{{"dre", rapid.Int64Range(0, 10_000).Draw(t, "dre")}},
			OtherAllowances: []WeeklyItem{{"other", rapid.Int64Range(0, 5_000).Draw(t, "other")}},
			Capital:         []CapitalItem{{Type: "savings", Value: rapid.Int64Range(0, 3_000_000).Draw(t, "savings")}},
		}
		var total int64
		for range rapid.IntRange(0, 6).Draw(t, "items") {
			in := IncomeItem{Type: rapid.SampledFrom(types).Draw(t, "type"), Weekly: rapid.Int64Range(0, 200_000).Draw(t, "weekly")}
			if !disregarded[in.Type] && rapid.Bool().Draw(t, "partial") {
				in.Disregarded = rapid.Int64Range(0, in.Weekly).Draw(t, "disregarded")
				if in.Disregarded > 0 {
					in.DisregardReason = "night care not provided"
				}
			}
			total += in.Weekly
			f.Income = append(f.Income, in)
		}
		if rapid.Bool().Draw(t, "override") {
			f.PensionAgeOverride, f.PensionAgeOverrideReason = pb(rapid.Bool().Draw(t, "reached")), "evidence seen"
		}
		require.NoError(t, ValidateFacts(f))
		r, err := Calculate(Full, f, dob, table)
		require.NoError(t, err)
		cost := rapid.Int64Range(0, 300_000).Draw(t, "cost")
		charge, _ := Charge(r.FullCost, r.Assessed, r.MinimumCharge, cost)
		require.GreaterOrEqual(t, charge, int64(0))
		require.LessOrEqual(t, charge, cost, "the charge never exceeds the cost")
		if r.FullCost {
			return // capital above the upper limit: the person pays the cost, whatever their income
		}
		require.Equal(t, total, r.IncomeCounted+r.IncomeDisregarded, "counted + disregarded = the income")
		income := r.IncomeCounted + r.Tariff
		protected := r.MIG + r.Housing + r.DRE + r.Other
		require.GreaterOrEqual(t, income-charge, min(income, protected), "income left after the charge")
		if income <= protected {
			require.Zero(t, charge, "a person at or below the MIG pays nothing")
		}
		down, nearest := Taper(r.Available, r.TaperPercent, RoundDown), Taper(r.Available, r.TaperPercent, RoundNearest)
		require.Contains(t, []int64{down, down + 1}, nearest)
	})
}
