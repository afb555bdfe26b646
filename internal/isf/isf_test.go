package isf

import (
	"fmt"
	"testing"
	"time"

	"github.com/google/uuid"
	"github.com/stretchr/testify/require"
	"pgregory.net/rapid"

	"github.com/pbudget/pbudget/internal/apperr"
	"github.com/pbudget/pbudget/internal/date"
	"github.com/pbudget/pbudget/internal/plan"
)

func d(y, m, day int) date.Date { return date.Of(y, time.Month(m), day) }

var (
	start    = d(2026, 4, 15)
	homeCare = uuid.NewSHA1(uuid.Nil, []byte("home care"))
	dayOut   = uuid.NewSHA1(uuid.Nil, []byte("day out"))
	settings = DefaultSettings()
)

func q(s string) plan.Quantity {
	v, ok := plan.ParseQuantity(s)
	if !ok {
		panic(s)
	}
	return v
}

func TestStatementPeriodsAreCalendarMonthsOrQuartersFromTheStart(t *testing.T) {
	t.Parallel()
	require.Equal(t, []Period{{d(2026, 4, 15), d(2026, 5, 1)}, {d(2026, 5, 1), d(2026, 6, 1)}, {d(2026, 6, 1), d(2026, 7, 1)}},
		Periods(start, nil, Monthly, d(2026, 7, 1)))
	require.Len(t, Periods(start, nil, Monthly, d(2026, 6, 30)), 2, "June has not ended on its last day")
	require.Equal(t, []Period{{d(2026, 4, 15), d(2026, 7, 1)}, {d(2026, 7, 1), d(2026, 10, 1)}}, Periods(start, nil, Quarterly, d(2026, 12, 31)))
	end := d(2026, 8, 10)
	require.Equal(t, []Period{{d(2026, 4, 15), d(2026, 7, 1)}, {d(2026, 7, 1), d(2026, 8, 10)}}, Periods(start, &end, Quarterly, d(2030, 1, 1)))
}

func TestAStatementIsOverdueTheDayAfterItsDueDays(t *testing.T) {
	t.Parallel()
	// April's part-month ends 30 April; due 14 days later, 14 May.
	require.Empty(t, settings.Overdue(start, nil, Monthly, nil, d(2026, 5, 14)))
	require.Equal(t, []Period{{d(2026, 4, 15), d(2026, 5, 1)}}, settings.Overdue(start, nil, Monthly, nil, d(2026, 5, 15)))
	filed := []Period{{d(2026, 4, 15), d(2026, 5, 1)}}
	require.Empty(t, settings.Overdue(start, nil, Monthly, filed, d(2026, 5, 15)))
	require.Equal(t, []Period{{d(2026, 5, 1), d(2026, 6, 1)}}, settings.Overdue(start, nil, Monthly, filed, d(2026, 6, 15)))
	require.Empty(t, settings.Overdue(start, nil, Quarterly, nil, d(2026, 7, 14)))
	require.Len(t, settings.Overdue(start, nil, Quarterly, nil, d(2026, 7, 15)), 1)
}

// april is a good first statement: £1,500 from the council, £200 from the person, 20.5 hours at
// £22.40 and one day out at £45.
func april() Statement {
	return Statement{Period: Period{d(2026, 4, 15), d(2026, 5, 1)}, FromCouncil: 150_000, FromPerson: 20_000,
		Lines:   []Line{{homeCare, q("20.5"), 2_240, 45_920}, {dayOut, q("1"), 4_500, 4_500}},
		Closing: 119_580}
}

func checkInput(prev *Statement) CheckInput {
	return CheckInput{Start: start, Frequency: Monthly, Previous: prev, PlanLines: []uuid.UUID{homeCare, dayOut}}
}

func TestAGoodStatementPassesAndTheNextChainsFromIt(t *testing.T) {
	t.Parallel()
	a := april()
	require.NoError(t, Check(a, checkInput(nil)))
	may := Statement{Period: Period{d(2026, 5, 1), d(2026, 6, 1)}, Opening: a.Closing, FromCouncil: 150_000,
		Lines: []Line{{homeCare, q("60"), 2_240, 134_400}}, Closing: 135_180}
	require.NoError(t, Check(may, checkInput(&a)))
}

func TestAStatementThatBreaksARuleIsRefusedNamingIt(t *testing.T) {
	t.Parallel()
	a := april()
	tests := []struct {
		name   string
		prev   *Statement
		change func(*Statement)
		rule   error
		field  string
	}{
		{"the first opening is not the ISF's opening", nil, func(s *Statement) { s.Opening, s.Closing = 1, s.Closing+1 }, ErrChain, "/opening_balance_pence"},
		{"an opening a penny off the previous closing", &a, func(s *Statement) {
			*s = Statement{Period: Period{d(2026, 5, 1), d(2026, 6, 1)}, Opening: a.Closing + 1, Closing: a.Closing + 1}
		}, ErrChain, "/opening_balance_pence"},
		{"a gap after the previous period", &a, func(s *Statement) {
			*s = Statement{Period: Period{d(2026, 6, 1), d(2026, 7, 1)}, Opening: a.Closing, Closing: a.Closing}
		}, ErrChain, "/period_start"},
		{"a period that is not a statement period", nil, func(s *Statement) { s.Period.End = d(2026, 5, 15) }, ErrPeriod, "/period_end"},
		{"a closing balance a penny out", nil, func(s *Statement) { s.Closing++ }, ErrArithmetic, "/closing_balance_pence"},
		{"another ISF's plan line", nil, func(s *Statement) { s.Lines[1].PlanLineID = uuid.New() }, ErrLine, "/lines/1/plan_line_id"},
		{"units × rate is not the amount", nil, func(s *Statement) { s.Lines[0].Amount++; s.Closing-- }, ErrLine, "/lines/0/amount_pence"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			s := april()
			s.Lines = append([]Line(nil), s.Lines...)
			tt.change(&s)
			err := Check(s, checkInput(tt.prev))
			require.ErrorIs(t, err, tt.rule)
			require.Equal(t, apperr.RuleViolation, apperr.KindOf(err))
			var ae *apperr.Error
			require.ErrorAs(t, err, &ae)
			require.Equal(t, tt.field, ae.Fields[0].Field)
		})
	}
}

func TestUnitsTimesRateRoundsToTheNearestPennyHalvesUp(t *testing.T) {
	t.Parallel()
	tests := []struct {
		units string
		rate  int64
		want  int64
	}{
		{"1", 2_240, 2_240}, {"0.5", 2_241, 1_121}, {"0.25", 2_242, 561}, {"0.25", 2_238, 560}, {"7.33", 1_999, 14_653},
	}
	for _, tt := range tests {
		require.Equal(t, tt.want, Line{Units: q(tt.units), Rate: tt.rate}.Expected(), "%s × %d", tt.units, tt.rate)
	}
}

func TestMalformedFiguresAreAValidationError(t *testing.T) {
	t.Parallel()
	s := april()
	s.FromCouncil = -1
	s.Lines = []Line{{homeCare, 0, -1, -1}}
	var ae *apperr.Error
	require.ErrorAs(t, Check(s, checkInput(nil)), &ae)
	require.Equal(t, apperr.Invalid, ae.Kind)
	require.Len(t, ae.Fields, 4)
}

// Invariant 18: a history built by chaining passes; changing any opening breaks the chain there.
func TestStatementsChain(t *testing.T) {
	t.Parallel()
	rapid.Check(t, func(t *rapid.T) {
		var prev *Statement
		var history []Statement
		day := start
		for i := range rapid.IntRange(1, 14).Draw(t, "months") {
			p := PeriodOf(start, nil, Monthly, day)
			s := Statement{Period: p, FromCouncil: rapid.Int64Range(0, 300_000).Draw(t, fmt.Sprint("council", i)),
				FromPerson: rapid.Int64Range(0, 50_000).Draw(t, fmt.Sprint("person", i))}
			if prev != nil {
				s.Opening = prev.Closing
			}
			for j := range rapid.IntRange(0, 3).Draw(t, fmt.Sprint("lines", i)) {
				l := Line{PlanLineID: homeCare, Units: plan.Quantity(rapid.Int64Range(1, 10_000).Draw(t, fmt.Sprint("units", i, j))),
					Rate: rapid.Int64Range(0, 5_000).Draw(t, fmt.Sprint("rate", i, j))}
				l.Amount = l.Expected()
				s.Lines = append(s.Lines, l)
			}
			s.Closing = s.Opening + s.FromCouncil + s.FromPerson - s.Spent()
			require.NoError(t, Check(s, checkInput(prev)))
			history = append(history, s)
			prev, day = &history[len(history)-1], p.End
		}
		i := rapid.IntRange(1, max(1, len(history)-1)).Draw(t, "broken")
		if i < len(history) {
			s := history[i]
			s.Opening += rapid.SampledFrom([]int64{-1, 1, 1000}).Draw(t, "delta")
			require.ErrorIs(t, Check(s, checkInput(&history[i-1])), ErrChain)
		}
	})
}

func TestABalanceAboveFourWeeksIsFlaggedWhenHeldLongerThanTwelveWeeks(t *testing.T) {
	t.Parallel()
	weekly := int64(35_000) // threshold 4 × £350 = £1,400
	at := func(last date.Date, closing int64) Statement {
		return Statement{Period: Period{last.AddDays(-27), last.AddDays(1)}, Closing: closing}
	}
	first := d(2026, 5, 31)
	tests := []struct {
		name    string
		history []Statement
		held    int // -1: not flagged
	}{
		{"at the threshold is not above it", []Statement{at(first, 140_000), at(first.AddDays(90), 140_000)}, -1},
		{"above it for exactly 12 weeks", []Statement{at(first, 140_001), at(first.AddDays(84), 140_001)}, -1},
		{"above it for 12 weeks and a day", []Statement{at(first, 140_001), at(first.AddDays(85), 140_001)}, 85},
		{"a dip below restarts the count", []Statement{at(first, 200_000), at(first.AddDays(50), 100_000), at(first.AddDays(100), 200_000), at(first.AddDays(150), 200_000)}, -1},
		{"below at the latest statement", []Statement{at(first, 200_000), at(first.AddDays(100), 100_000)}, -1},
		{"no statements", nil, -1},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			f := settings.SurplusFlag(tt.history, weekly)
			if tt.held < 0 {
				require.Nil(t, f)
				return
			}
			require.NotNil(t, f)
			require.Equal(t, tt.held, f.HeldDays)
			require.Equal(t, int64(140_000), f.Threshold)
			require.Equal(t, int64(1), f.Excess)
			require.Equal(t, first, f.Since)
		})
	}
}
