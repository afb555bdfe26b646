package plan

import (
	"math/rand/v2"
	"testing"

	"github.com/google/uuid"
	"github.com/stretchr/testify/require"

	"github.com/pbudget/pbudget/internal/council"
	"github.com/pbudget/pbudget/internal/date"
	"github.com/pbudget/pbudget/internal/money"
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

func TestAPersonPayingNearlyEverythingNeverLeavesTheCouncilANegativeShare(t *testing.T) {
	t.Parallel()
	// Split by annual cost, £266.26 a week gave the ISF option £19.50 of a £19.49 week.
	lines := []Line{
		{Option: DirectPayment, Annual: 867_461}, {Option: CouncilManaged, Annual: 415_777}, {Option: ISF, Annual: 101_380},
	}
	personAnnual, personWeekly := int64(1_384_618-10), int64(26_626)
	tot := Sum(lines, &personAnnual, &personWeekly)
	require.Equal(t, int64(26_627), tot.Weekly)
	for _, o := range tot.Options {
		require.GreaterOrEqual(t, *o.CouncilWeekly, int64(0), o.Option)
		require.LessOrEqual(t, *o.PersonWeekly, o.Weekly, o.Option)
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
		planWeekly := money.WeeklyFromAnnual(planAnnual)
		personAnnual := rng.Int64N(planAnnual + 1)
		personWeekly := rng.Int64N(planWeekly + 1)
		if i%4 == 0 { // people paying (nearly) the whole cost: where rounding pennies bite
			personWeekly = max(0, planWeekly-rng.Int64N(3))
			personAnnual = max(0, planAnnual-rng.Int64N(60))
		}
		tot := Sum(lines, &personAnnual, &personWeekly)
		var a, w, pa, pw int64
		for _, o := range tot.Options {
			a, w, pa, pw = a+o.Annual, w+o.Weekly, pa+*o.PersonAnnual, pw+*o.PersonWeekly
			require.Equal(t, o.Annual, *o.PersonAnnual+*o.CouncilAnnual, "case %d", i)
			require.Equal(t, o.Weekly, *o.PersonWeekly+*o.CouncilWeekly, "case %d", i)
			for _, v := range []int64{*o.PersonAnnual, *o.PersonWeekly, *o.CouncilAnnual, *o.CouncilWeekly} {
				require.GreaterOrEqual(t, v, int64(0), "case %d: no share is negative", i)
			}
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
	if category == "care_home_respite" || category == "child_short_break" {
		l.Unit, l.Quantity = "night", Quantity(days*100) // a stay of days nights
	}
	l.Annual, l.Weekly = Cost(l, yearStart, yearEnd)
	return l
}

// recurring is a stay of nights every period, from from to to.
func recurring(category string, nights int, f Frequency, from, to date.Date) Line {
	l := Line{Category: category, UnitCost: 100, Unit: "night", Quantity: Quantity(nights * 100), Frequency: f,
		Option: DirectPayment, Start: from, End: to}
	l.Annual, l.Weekly = Cost(l, yearStart, yearEnd)
	return l
}

func with(l Line, change func(*Line)) Line { change(&l); return l }

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
	lastYear := yearStart.AddDays(-20) // the previous budget year's last days
	tests := []struct {
		name   string
		person person.Type
		lines  []Line
		want   string // rule code, "" for none
		prior  []Line // lines of the person's other approved plans
	}{
		{"a plan exactly at the ceiling", person.Adult, []Line{{Category: "home_care", Option: CouncilManaged, Start: day, End: day.AddDays(1), Annual: 1_000_000}}, "", nil},
		{"a penny over the ceiling", person.Adult, []Line{{Category: "home_care", Option: CouncilManaged, Start: day, End: day.AddDays(1), Annual: 1_000_001}}, "plan-over-budget", nil},
		{"direct payment for healthcare", person.Adult, []Line{line("nursing_care", DirectPayment, day, 5)}, "direct-payment-excluded-category", nil},
		{"healthcare the council manages", person.Adult, []Line{line("nursing_care", CouncilManaged, day, 5)}, "", nil},
		{"a spouse as PA without a reason", person.Adult, []Line{pa(spouse, nil)}, "family-personal-assistant-not-necessary", nil},
		{"a spouse as PA, recorded as necessary", person.Adult, []Line{pa(spouse, reason("only carer who speaks BSL"))}, "", nil},
		{"a sibling in the household without a reason", person.Adult, []Line{pa(sibling, nil)}, "family-personal-assistant-not-necessary", nil},
		{"a sibling living elsewhere", person.Adult, []Line{pa(brotherAway, nil)}, "", nil},
		{"a care-home stay of 4 weeks", person.Adult, []Line{line("care_home_respite", DirectPayment, day, 28)}, "", nil},
		{"a care-home stay of 4 weeks and a day", person.Adult, []Line{line("care_home_respite", DirectPayment, day, 29)}, "direct-payment-care-home-stay-too-long", nil},
		{"two stays 27 days apart add up to exactly 4 weeks", person.Adult, []Line{line("care_home_respite", DirectPayment, day, 14), line("care_home_respite", DirectPayment, day.AddDays(14+27), 14)}, "", nil},
		{"two stays 27 days apart add up to 4 weeks and a day", person.Adult, []Line{line("care_home_respite", DirectPayment, day, 14), line("care_home_respite", DirectPayment, day.AddDays(14+27), 15)}, "direct-payment-care-home-stay-too-long", nil},
		{"90 nights dated as one day", person.Adult, []Line{with(line("care_home_respite", DirectPayment, day, 1), func(l *Line) { l.Quantity = 9_000 })}, "residential-stay-dates", nil},
		{"90 nights dated as 90 days", person.Adult, []Line{with(line("care_home_respite", DirectPayment, day, 90), func(l *Line) { l.Quantity = 9_000 })}, "direct-payment-care-home-stay-too-long", nil},
		{"a stay costed by the hour", person.Adult, []Line{with(line("care_home_respite", DirectPayment, day, 5), func(l *Line) { l.Unit = "hour" })}, "residential-stay-unit", nil},
		{"four weeks costed by the week", person.Adult, []Line{with(line("care_home_respite", DirectPayment, day, 28), func(l *Line) { l.Unit, l.Quantity = "week", 400 })}, "", nil},
		{"four weeks and a bit costed by the week", person.Adult, []Line{with(line("care_home_respite", DirectPayment, day, 35), func(l *Line) { l.Unit, l.Quantity = "week", 410 })}, "direct-payment-care-home-stay-too-long", nil},
		{"two nights every week all year add up", person.Adult, []Line{recurring("care_home_respite", 2, PerWeek, day, yearEnd)}, "direct-payment-care-home-stay-too-long", nil},
		{"a week every 8 weeks stays apart", person.Adult, []Line{recurring("care_home_respite", 7, Per4Weeks, day, day.AddDays(29)), recurring("care_home_respite", 7, Per4Weeks, day.AddDays(56), day.AddDays(57))}, "", nil},
		{"last year's stay 10 days before counts", person.Adult, []Line{line("care_home_respite", DirectPayment, yearStart, 10)}, "direct-payment-care-home-stay-too-long",
			[]Line{line("care_home_respite", DirectPayment, lastYear.AddDays(-10), 20)}},
		{"last year's stay a month before does not", person.Adult, []Line{line("care_home_respite", DirectPayment, yearStart.AddDays(40), 10)}, "",
			[]Line{line("care_home_respite", DirectPayment, lastYear.AddDays(-10), 20)}},
		{"an earlier plan's long stay alone is not this plan's fault", person.Adult, []Line{line("home_care", DirectPayment, day, 5)}, "",
			[]Line{line("care_home_respite", DirectPayment, lastYear.AddDays(-60), 50)}},
		{"two stays 28 days apart are two", person.Adult, []Line{line("care_home_respite", DirectPayment, day, 28), line("care_home_respite", DirectPayment, day.AddDays(28+28), 28)}, "", nil},
		{"a long stay the council manages", person.Adult, []Line{line("care_home_respite", CouncilManaged, day, 60)}, "", nil},
		{"a child's short break of 4 weeks", person.Child, []Line{line("child_short_break", DirectPayment, day, 28)}, "", nil},
		{"a child's short break of 4 weeks and a day", person.Child, []Line{line("child_short_break", DirectPayment, day, 29)}, "child-short-break-period-too-long", nil},
		{"120 days of short breaks in 12 months", person.Child, breaks(day, 120), "", nil},
		{"121 days of short breaks in 12 months", person.Child, breaks(day, 121), "child-short-breaks-over-120-days", nil},
		{"a child's 200 days in a care home", person.Child, []Line{line("care_home_respite", DirectPayment, day, 200)}, "child-short-break-period-too-long", nil},
		{"a child's care-home nights count toward the 120", person.Child, append(breaks(day, 100), line("care_home_respite", DirectPayment, day.AddDays(200), 21)), "child-short-breaks-over-120-days", nil},
		{"a child's three nights every week all year", person.Child, []Line{recurring("child_short_break", 3, PerWeek, yearStart, yearEnd)}, "child-short-breaks-over-120-days", nil},
		{"a child's two nights every week all year", person.Child, []Line{recurring("child_short_break", 2, PerWeek, yearStart, yearEnd)}, "", nil},
		{"nine nights every 4 weeks all year and 3 more make 120", person.Child, []Line{recurring("child_short_break", 9, Per4Weeks, yearStart, yearEnd), line("child_short_break", DirectPayment, yearStart.AddDays(100), 3)}, "", nil},
		{"nine nights every 4 weeks all year and 4 more make 121", person.Child, []Line{recurring("child_short_break", 9, Per4Weeks, yearStart, yearEnd), line("child_short_break", DirectPayment, yearStart.AddDays(100), 4)}, "child-short-breaks-over-120-days", nil},
		{"60 nights every week", person.Adult, []Line{recurring("care_home_respite", 60, PerWeek, day, day.AddDays(7))}, "residential-stay-dates", nil},
		{"a week and a half dated over 11 nights", person.Adult, []Line{with(line("care_home_respite", DirectPayment, day, 11), func(l *Line) { l.Unit, l.Quantity = "week", 150 })}, "", nil},
		{"a week and a half dated over 10 nights", person.Adult, []Line{with(line("care_home_respite", DirectPayment, day, 10), func(l *Line) { l.Unit, l.Quantity = "week", 150 })}, "residential-stay-dates", nil},
		{"last year's short breaks count toward the 120", person.Child, breaks(yearStart.AddDays(10), 60), "child-short-breaks-over-120-days",
			breaks(yearStart.AddDays(-200), 61)},
		{"a spouse on a home-care line without a reason", person.Adult, []Line{with(line("home_care", DirectPayment, day, 10), func(l *Line) { l.PersonalAssistantID = &spouse })}, "family-personal-assistant-not-necessary", nil},
		{"a spouse with a blank reason", person.Adult, []Line{pa(spouse, reason("  "))}, "family-personal-assistant-not-necessary", nil},
		{"an ISF line with no provider", person.Adult, []Line{line("home_care", ISF, day, 5)}, "isf-provider-required", nil},
		{"an ISF line with a care agency", person.Adult, []Line{withProvider(line("home_care", ISF, day, 5), agency)}, "isf-provider-required", nil},
		{"an ISF line with an ISF provider", person.Adult, []Line{withProvider(line("home_care", ISF, day, 5), isfProvider)}, "", nil},
		{"a line starting before the budget", person.Adult, []Line{line("home_care", CouncilManaged, yearStart.AddDays(-1), 5)}, "line-outside-budget-period", nil},
		{"a line ending with the budget", person.Adult, []Line{line("home_care", CouncilManaged, yearEnd.AddDays(-5), 5)}, "", nil},
		{"a line ending after the budget", person.Adult, []Line{line("home_care", CouncilManaged, yearEnd.AddDays(-5), 6)}, "line-outside-budget-period", nil},
		{"an unknown category", person.Adult, []Line{line("space_travel", CouncilManaged, day, 5)}, "unknown-service-category", nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			f := facts(tt.person)
			f.Prior = tt.prior
			err := Check(tt.lines, f)
			if tt.want == "" {
				require.NoError(t, err)
				return
			}
			require.Error(t, err)
			require.Contains(t, err.Error(), tt.want)
		})
	}
}

func TestMonthlyStaysFallOnTheMonthsLastDayWhenItIsShorter(t *testing.T) {
	t.Parallel()
	l := recurring("child_short_break", 5, PerMonth, date.Of(2027, 1, 31), date.Of(2027, 4, 30))
	var starts []string
	for _, iv := range occupied(l, 0, 365) {
		starts = append(starts, iv.from.String())
	}
	require.Equal(t, []string{"2027-01-31", "2027-02-28", "2027-03-31"}, starts)
	// 28 nights from 30 January, 28 February and 30 March: three separate 28-night breaks.
	l = recurring("child_short_break", 28, PerMonth, date.Of(2027, 1, 30), date.Of(2027, 4, 27))
	f := facts(person.Child)
	f.BudgetStart, f.BudgetEnd = date.Of(2026, 11, 1), date.Of(2027, 11, 1)
	require.NoError(t, Check([]Line{l}, f))
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
