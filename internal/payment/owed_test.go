package payment

import (
	"math/big"
	"testing"
	"time"

	"github.com/google/uuid"
	"github.com/stretchr/testify/require"
	"pgregory.net/rapid"

	"github.com/pbudget/pbudget/internal/apperr"
	"github.com/pbudget/pbudget/internal/date"
)

func dp(y int, m time.Month, day int) *date.Date { v := date.Of(y, m, day); return &v }

// fourWeekly is an agreement on the calendar anchored on 6 April 2026 (cycle 0 is 6 April – 3 May).
var fourWeekly = Cadence{FourWeekly, d(2026, 4, 6)}

func agreement(basis Basis, annual, council int64, start date.Date, end *date.Date) Agreement {
	return Agreement{ID: uuid.New(), Frequency: FourWeekly, Basis: basis,
		Periods: []Period{{start, end}}, Amounts: []Amount{{start, annual, council}}}
}

func TestPerCycleIsTheAnnualFigureOverCyclesAYear(t *testing.T) {
	t.Parallel()
	a := agreement(Net, 1_300_000, 1_000_000, d(2026, 4, 6), nil)
	require.Equal(t, int64(76_923), a.PerCycle(a.Amounts[0]), "net: £10,000 ÷ 13 = 769.230… → £769.23")
	a.Basis = Gross
	require.Equal(t, int64(100_000), a.PerCycle(a.Amounts[0]), "gross: £13,000 ÷ 13")
	a.Frequency = TwoWeekly
	require.Equal(t, int64(50_000), a.PerCycle(a.Amounts[0]))
	a.Frequency = Monthly
	require.Equal(t, int64(108_333), a.PerCycle(a.Amounts[0]), "£13,000 ÷ 12 = 1,083.333…")
	a.Amounts[0].Annual = 18 // 1.5p a month rounds up
	require.Equal(t, int64(2), a.PerCycle(a.Amounts[0]))
}

func TestProRataAtTheEdgesOfACycle(t *testing.T) {
	t.Parallel()
	c := fourWeekly.Cycle(0) // 6 April – 3 May 2026, 28 days
	tests := []struct {
		name   string
		start  date.Date
		end    *date.Date
		days   int
		amount int64
	}{
		{"starting on the cycle's first day: the whole cycle", d(2026, 4, 6), nil, 28, 2_800},
		{"starting on its second day: 27 days", d(2026, 4, 7), nil, 27, 2_700},
		{"starting on its last day: 1 day", d(2026, 5, 3), nil, 1, 100},
		{"starting the day after it: not owed", d(2026, 5, 4), nil, 0, 0},
		{"ending the day after its last day: the whole cycle", d(2026, 1, 1), dp(2026, 5, 4), 28, 2_800},
		{"ending on its last day: 27 days", d(2026, 1, 1), dp(2026, 5, 3), 27, 2_700},
		{"ending the day after its first day: 1 day", d(2026, 1, 1), dp(2026, 4, 7), 1, 100},
		{"ending on its first day: not owed", d(2026, 1, 1), dp(2026, 4, 6), 0, 0},
		{"one day in the middle", d(2026, 4, 20), dp(2026, 4, 21), 1, 100},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			a := agreement(Gross, 36_400, 0, tt.start, tt.end) // £28 a cycle: £1 a day
			o := a.Owed(c)
			require.Equal(t, tt.days, o.DaysOwed)
			require.Equal(t, tt.amount, o.Amount)
		})
	}
}

func TestProRataRoundsHalvesUp(t *testing.T) {
	t.Parallel()
	c := fourWeekly.Cycle(0)
	tests := []struct {
		perCycleAnnual int64 // × 13: the per-cycle amount is annual ÷ 13
		start          date.Date
		amount         int64
	}{
		{13, d(2026, 4, 20), 1},    // 1p × 14/28 = 0.5 → 1
		{39, d(2026, 4, 20), 2},    // 3p × 14/28 = 1.5 → 2
		{13, d(2026, 4, 21), 0},    // 1p × 13/28 = 0.46 → 0
		{1300, d(2026, 4, 27), 25}, // 100p × 7/28 = 25
		{1300, d(2026, 4, 28), 21}, // 100p × 6/28 = 21.43 → 21
		{1300, d(2026, 4, 14), 71}, // 100p × 20/28 = 71.43 → 71
		{1300, d(2026, 4, 12), 79}, // 100p × 22/28 = 78.57 → 79
	}
	for _, tt := range tests {
		a := agreement(Gross, tt.perCycleAnnual, 0, tt.start, nil)
		require.Equal(t, tt.amount, a.Owed(c).Amount, "annual %d from %s", tt.perCycleAnnual, tt.start)
	}
}

func TestSuspensionWithAndWithoutBackPay(t *testing.T) {
	t.Parallel()
	c := fourWeekly.Cycle(1) // 4 May – 31 May 2026
	tests := []struct {
		name   string
		s      Suspension
		owed   int
		amount int64
	}{
		{"10 days suspended, no back pay", Suspension{d(2026, 5, 10), dp(2026, 5, 20), false}, 18, 1_800},
		{"10 days suspended, resumed with back pay", Suspension{d(2026, 5, 10), dp(2026, 5, 20), true}, 28, 2_800},
		{"suspended from the cycle's first day, still suspended", Suspension{d(2026, 5, 4), nil, false}, 0, 0},
		{"suspended from its last day", Suspension{d(2026, 5, 31), nil, false}, 27, 2_700},
		{"resumed on its first day", Suspension{d(2026, 4, 1), dp(2026, 5, 4), false}, 28, 2_800},
		{"resumed on its last day", Suspension{d(2026, 4, 1), dp(2026, 5, 31), false}, 1, 100},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			a := agreement(Gross, 36_400, 0, d(2026, 1, 1), nil)
			a.Suspensions = []Suspension{tt.s}
			o := a.Owed(c)
			require.Equal(t, 28, o.DaysInForce)
			require.Equal(t, tt.owed, o.DaysOwed)
			require.Equal(t, tt.amount, o.Amount)
		})
	}
}

func TestACycleSplitByARevisionRoundsOnce(t *testing.T) {
	t.Parallel()
	c := fourWeekly.Cycle(0)
	a := agreement(Gross, 1_300, 0, d(2026, 4, 6), nil) // £1.00 a cycle
	a.Amounts = append(a.Amounts, Amount{d(2026, 4, 20), 2_600, 0})
	o := a.Owed(c)
	require.Equal(t, int64(150), o.Amount, "14 days at £1 + 14 days at £2 over 28")
	require.Equal(t, []Piece{{d(2026, 4, 6), d(2026, 4, 20), 100, 50}, {d(2026, 4, 20), d(2026, 5, 4), 200, 100}}, o.Pieces)

	// 1p a cycle in both halves: each half alone would round 0.5p up to 1p and owe 2p for a 1p
	// cycle; rounded once, the cycle owes 1p and the pieces share it.
	a = agreement(Gross, 13, 0, d(2026, 4, 6), nil)
	a.Amounts = append(a.Amounts, Amount{d(2026, 4, 20), 14, 0}) // still 1p a cycle (14 ÷ 13 → 1)
	o = a.Owed(c)
	require.Equal(t, int64(1), o.Amount)
	require.Equal(t, int64(1), o.Pieces[0].Amount+o.Pieces[1].Amount)
}

func TestMonthlyProRataUsesTheMonthsDays(t *testing.T) {
	t.Parallel()
	k := Cadence{Monthly, d(2026, 1, 31)}
	feb := k.CycleOf(d(2026, 2, 28)) // 28 February – 30 March: 31 days
	require.Equal(t, 31, feb.Days())
	jan := k.CycleOf(d(2026, 2, 27)) // 31 January – 27 February: 28 days
	require.Equal(t, 28, jan.Days())
	a := Agreement{ID: uuid.New(), Frequency: Monthly, Basis: Gross,
		Periods: []Period{{d(2026, 2, 14), nil}}, Amounts: []Amount{{d(2026, 2, 14), 12 * 2_800, 0}}}
	require.Equal(t, int64(1_400), a.Owed(jan).Amount, "14 of 28 days of £28")
	require.Equal(t, int64(2_800), a.Owed(feb).Amount)
}

func TestValidateNamesTheField(t *testing.T) {
	t.Parallel()
	a := agreement(Net, 100, 50, d(2026, 4, 6), dp(2026, 4, 6))
	a.Amounts[0].From = d(2026, 4, 7)
	a.Suspensions = []Suspension{{d(2026, 5, 1), dp(2026, 4, 1), false}}
	var e *apperr.Error
	require.ErrorAs(t, a.Validate(), &e)
	var fields []string
	for _, f := range e.Fields {
		fields = append(fields, f.Field)
	}
	require.Equal(t, []string{"/periods/0/end", "/suspensions/0/to", "/amounts/0/from"}, fields)
	a = agreement("monthly", 100, 200, d(2026, 4, 6), nil)
	a.Frequency = "weekly"
	require.ErrorAs(t, a.Validate(), &e)
	require.Len(t, e.Fields, 3, "frequency, basis, council share")
}

// For any agreement and cycle: the pieces add up to the cycle, the cycle is within half a penny of
// the exact pro rata figure, and a year of whole four-weekly cycles is 13 per-cycle amounts.
func TestOwedIsTheExactProRataRoundedOnce(t *testing.T) {
	t.Parallel()
	rapid.Check(t, func(t *rapid.T) {
		cal := genCalendar(t)
		a := genStory(t, cal, d(2026, 1, 1)).final
		k, _ := cal.Cadence(a.Frequency)
		for _, c := range k.CyclesBetween(a.Periods[0].Start, endOr(a.Periods[len(a.Periods)-1].End)) {
			o := a.Owed(c)
			var sum int64
			exact := new(big.Rat)
			for _, p := range o.Pieces {
				sum += p.Amount
				exact.Add(exact, big.NewRat(p.PerCycle*int64(p.Days()), int64(c.Days())))
			}
			if sum != o.Amount {
				t.Fatalf("pieces of %s add up to %d, not %d", c, sum, o.Amount)
			}
			diff := new(big.Rat).Sub(big.NewRat(o.Amount, 1), exact)
			if diff.Abs(diff).Cmp(big.NewRat(1, 2)) > 0 {
				t.Fatalf("%s owes %d, exact %s", c, o.Amount, exact.FloatString(3))
			}
		}
	})
	a := agreement(Net, 1_000_000, 777_777, fourWeekly.Anchor, nil)
	var year int64
	for _, c := range fourWeekly.CyclesBetween(fourWeekly.Anchor, fourWeekly.Anchor.AddDays(13*28)) {
		year += a.Owed(c).Amount
	}
	require.Equal(t, 13*a.PerCycle(a.Amounts[0]), year)
}
