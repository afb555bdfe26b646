package plan

import (
	"math/rand/v2"
	"testing"

	"github.com/google/uuid"
	"github.com/stretchr/testify/require"

	"github.com/pbudget/pbudget/internal/council"
	"github.com/pbudget/pbudget/internal/date"
	"github.com/pbudget/pbudget/internal/person"
	"github.com/pbudget/pbudget/internal/provider"
)

var (
	yearStart = date.Of(2026, 4, 1)
	yearEnd   = date.Of(2027, 4, 1) // 365 days
)

func q(s string) Quantity {
	v, ok := ParseQuantity(s)
	if !ok {
		panic(s)
	}
	return v
}

func TestQuantitiesAreExactDecimals(t *testing.T) {
	t.Parallel()
	for in, want := range map[string]Quantity{"10": 1000, "10.5": 1050, "0.25": 25, "7.05": 705, "9999.99": 999999} {
		got, ok := ParseQuantity(in)
		require.True(t, ok, in)
		require.Equal(t, want, got, in)
	}
	for _, bad := range []string{"", ".5", "1.", "1.234", "-1", "12345", "1e3", "1,5"} {
		_, ok := ParseQuantity(bad)
		require.False(t, ok, bad)
	}
	require.Equal(t, "10.5", Quantity(1050).String())
	require.Equal(t, "7.05", Quantity(705).String())
	require.Equal(t, "3", Quantity(300).String())
}

func TestLineCostsByFrequencyAndPeriod(t *testing.T) {
	t.Parallel()
	full := func(cost int64, qty string, f Frequency) Line {
		return Line{UnitCost: cost, Quantity: q(qty), Frequency: f, Start: yearStart, End: yearEnd}
	}
	tests := []struct {
		name           string
		line           Line
		annual, weekly int64
	}{
		{"10.5 hours a week at £23.50", full(2350, "10.5", PerWeek), 1_283_100, 24_675},
		{"a session every four weeks", full(6000, "1", Per4Weeks), 78_000, 1_500},
		{"a monthly fee", full(12_345, "1", PerMonth), 148_140, 2_849},
		{"a yearly membership", full(5_200, "1", PerYear), 5_200, 100},
		{"a one-off purchase", full(99_999, "1", Once), 99_999, 1_923},
		{"a quarter of an hour a week at 99p", full(99, "0.25", PerWeek), 1_287, 25},
		{"half the year, prorated", Line{UnitCost: 10_000, Quantity: q("1"), Frequency: PerWeek, Start: yearStart, End: yearStart.AddDays(183)}, 260_712, 5_014},
		{"a one-off is not prorated", Line{UnitCost: 10_000, Quantity: q("1"), Frequency: Once, Start: yearStart, End: yearStart.AddDays(1)}, 10_000, 192},
	}
	for _, tt := range tests {
		annual, weekly := Cost(tt.line, yearStart, yearEnd)
		require.Equal(t, tt.annual, annual, tt.name)
		require.Equal(t, tt.weekly, weekly, tt.name)
	}
}

func TestApportionAddsUpExactlyAndFairly(t *testing.T) {
	t.Parallel()
	require.Equal(t, []int64{34, 33, 33}, Apportion(100, []int64{1, 1, 1}))
	require.Equal(t, []int64{0, 0}, Apportion(0, []int64{5, 7}))
	require.Equal(t, []int64{7, 0}, Apportion(7, []int64{0, 0}))
	rng := rand.New(rand.NewPCG(5, 5))
	for range 10_000 {
		n := 1 + rng.IntN(4)
		w := make([]int64, n)
		var sum int64
		for i := range w {
			w[i] = rng.Int64N(5_000_000)
			sum += w[i]
		}
		total := rng.Int64N(2_000_000)
		parts := Apportion(total, w)
		var got int64
		for i, p := range parts {
			got += p
			if sum > 0 {
				exact := float64(total) * float64(w[i]) / float64(sum) // only to check the bound
				require.InDelta(t, exact, float64(p), 1.0)
			}
		}
		require.Equal(t, total, got)
	}
}

// TestMixedTotalsReconcileForRandomPlans: options add up to the plan exactly, weekly and annually,
// and each option's person and council shares add up to it.
func TestMixedTotalsReconcileForRandomPlans(t *testing.T) {
	t.Parallel()
	rng := rand.New(rand.NewPCG(11, 24))
	for i := range 5_000 {
		var lines []Line
		for range 1 + rng.IntN(8) {
			l := Line{UnitCost: rng.Int64N(100_000), Quantity: Quantity(1 + rng.Int64N(4000)),
				Frequency: []Frequency{PerWeek, Per4Weeks, PerMonth, PerYear, Once}[rng.IntN(5)], Option: Options[rng.IntN(3)]}
			l.Start = yearStart.AddDays(rng.IntN(300))
			l.End = l.Start.AddDays(1 + rng.IntN(yearEnd.DaysSince(l.Start)))
			l.Annual, l.Weekly = Cost(l, yearStart, yearEnd)
			lines = append(lines, l)
		}
		var planAnnual int64
		for _, l := range lines {
			planAnnual += l.Annual
		}
		personAnnual := rng.Int64N(planAnnual + 1)
		personWeekly := rng.Int64N(planAnnual/52 + 1)
		tot := Sum(lines, &personAnnual, &personWeekly)
		var a, w, pa, pw int64
		for _, o := range tot.Options {
			a, w, pa, pw = a+o.Annual, w+o.Weekly, pa+*o.PersonAnnual, pw+*o.PersonWeekly
			require.Equal(t, o.Annual, *o.PersonAnnual+*o.CouncilAnnual, "case %d", i)
			require.Equal(t, o.Weekly, *o.PersonWeekly+*o.CouncilWeekly, "case %d", i)
		}
		require.Equal(t, tot.Annual, a, "case %d annual", i)
		require.Equal(t, tot.Weekly, w, "case %d weekly", i)
		require.Equal(t, personAnnual, pa, "case %d", i)
		require.Equal(t, personWeekly, pw, "case %d", i)
		if len(tot.Options) > 1 {
			require.Equal(t, "mixed", tot.Mode)
		}
	}
}

var (
	isfProvider = provider.Provider{ID: uuid.New(), Type: provider.ISFProvider, Active: true}
	agency      = provider.Provider{ID: uuid.New(), Type: provider.CareAgency, Active: true}
	spouse      = uuid.New()
	sibling     = uuid.New()
	brotherAway = uuid.New()
)

func facts(t person.Type) Facts {
	cats := map[string]Category{}
	for _, c := range DefaultCategories() {
		cats[c.Key] = c
	}
	return Facts{
		PersonType: t, BudgetStart: yearStart, BudgetEnd: yearEnd, Ceiling: 1_000_000, Categories: cats,
		Providers: map[uuid.UUID]provider.Provider{isfProvider.ID: isfProvider, agency.ID: agency},
		Family: map[uuid.UUID]FamilyTie{
			spouse:      {Relation: "spouse"},
			sibling:     {Relation: "sibling", SameHousehold: true},
			brotherAway: {Relation: "sibling"},
		},
		Settings: council.DefaultSettings(uuid.New()),
	}
}

func line(category string, option Option, from date.Date, days int) Line {
	l := Line{Category: category, UnitCost: 100, Quantity: 100, Frequency: Once, Option: option, Start: from, End: from.AddDays(days)}
	l.Annual, l.Weekly = Cost(l, yearStart, yearEnd)
	return l
}

func reason(s string) *string { return &s }

func TestEachPlanRuleAtItsEdge(t *testing.T) {
	t.Parallel()
	day := yearStart.AddDays(30)
	pa := func(who uuid.UUID, why *string) Line {
		l := line("personal_assistant", DirectPayment, day, 10)
		l.PersonalAssistantID, l.NecessityReason = &who, why
		return l
	}
	withProvider := func(l Line, p provider.Provider) Line { l.ProviderID = &p.ID; return l }
	tests := []struct {
		name   string
		person person.Type
		lines  []Line
		want   string // rule code, "" for none
	}{
		{"a plan exactly at the ceiling", person.Adult, []Line{{Category: "home_care", Option: CouncilManaged, Start: day, End: day.AddDays(1), Annual: 1_000_000}}, ""},
		{"a penny over the ceiling", person.Adult, []Line{{Category: "home_care", Option: CouncilManaged, Start: day, End: day.AddDays(1), Annual: 1_000_001}}, "plan-over-budget"},
		{"direct payment for healthcare", person.Adult, []Line{line("nursing_care", DirectPayment, day, 5)}, "direct-payment-excluded-category"},
		{"healthcare the council manages", person.Adult, []Line{line("nursing_care", CouncilManaged, day, 5)}, ""},
		{"a spouse as PA without a reason", person.Adult, []Line{pa(spouse, nil)}, "family-personal-assistant-not-necessary"},
		{"a spouse as PA, recorded as necessary", person.Adult, []Line{pa(spouse, reason("only carer who speaks BSL"))}, ""},
		{"a sibling in the household without a reason", person.Adult, []Line{pa(sibling, nil)}, "family-personal-assistant-not-necessary"},
		{"a sibling living elsewhere", person.Adult, []Line{pa(brotherAway, nil)}, ""},
		{"a care-home stay of 4 weeks", person.Adult, []Line{line("care_home_respite", DirectPayment, day, 28)}, ""},
		{"a care-home stay of 4 weeks and a day", person.Adult, []Line{line("care_home_respite", DirectPayment, day, 29)}, "direct-payment-care-home-stay-too-long"},
		{"two stays 27 days apart are one", person.Adult, []Line{line("care_home_respite", DirectPayment, day, 14), line("care_home_respite", DirectPayment, day.AddDays(14+27), 14)}, "direct-payment-care-home-stay-too-long"},
		{"two stays 28 days apart are two", person.Adult, []Line{line("care_home_respite", DirectPayment, day, 28), line("care_home_respite", DirectPayment, day.AddDays(28+28), 28)}, ""},
		{"a long stay the council manages", person.Adult, []Line{line("care_home_respite", CouncilManaged, day, 60)}, ""},
		{"a child's short break of 4 weeks", person.Child, []Line{line("child_short_break", DirectPayment, day, 28)}, ""},
		{"a child's short break of 4 weeks and a day", person.Child, []Line{line("child_short_break", DirectPayment, day, 29)}, "child-short-break-period-too-long"},
		{"120 days of short breaks in 12 months", person.Child, breaks(day, 120), ""},
		{"121 days of short breaks in 12 months", person.Child, breaks(day, 121), "child-short-breaks-over-120-days"},
		{"an ISF line with no provider", person.Adult, []Line{line("home_care", ISF, day, 5)}, "isf-provider-required"},
		{"an ISF line with a care agency", person.Adult, []Line{withProvider(line("home_care", ISF, day, 5), agency)}, "isf-provider-required"},
		{"an ISF line with an ISF provider", person.Adult, []Line{withProvider(line("home_care", ISF, day, 5), isfProvider)}, ""},
		{"a line starting before the budget", person.Adult, []Line{line("home_care", CouncilManaged, yearStart.AddDays(-1), 5)}, "line-outside-budget-period"},
		{"a line ending with the budget", person.Adult, []Line{line("home_care", CouncilManaged, yearEnd.AddDays(-5), 5)}, ""},
		{"a line ending after the budget", person.Adult, []Line{line("home_care", CouncilManaged, yearEnd.AddDays(-5), 6)}, "line-outside-budget-period"},
		{"an unknown category", person.Adult, []Line{line("space_travel", CouncilManaged, day, 5)}, "unknown-service-category"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			err := Check(tt.lines, facts(tt.person))
			if tt.want == "" {
				require.NoError(t, err)
				return
			}
			require.Error(t, err)
			require.Contains(t, err.Error(), tt.want)
		})
	}
}

// breaks returns 4-week (or shorter) short breaks, a week apart, totalling days.
func breaks(from date.Date, days int) []Line {
	var out []Line
	for days > 0 {
		n := min(days, 28)
		out = append(out, line("child_short_break", DirectPayment, from, n))
		from = from.AddDays(n + 7)
		days -= n
	}
	return out
}
