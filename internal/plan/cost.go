// Package plan is the care and support plan (Care Act ss24–25): its seven parts, its costed lines
// and how each is managed (direct payment, council-managed, Individual Service Fund), the rules a
// plan must keep, its sign-off within delegated limits, and the agreements that follow it.
package plan

import (
	"math/big"
	"sort"
	"strconv"
	"strings"

	"github.com/google/uuid"

	"github.com/pbudget/pbudget/internal/date"
	"github.com/pbudget/pbudget/internal/money"
)

// Unit is what a line's unit cost is for.
type Unit string

// Frequency is how often a line's quantity recurs.
type Frequency string

// The frequencies.
const (
	PerWeek   Frequency = "per_week"
	Per4Weeks Frequency = "per_4_weeks"
	PerMonth  Frequency = "per_month"
	PerYear   Frequency = "per_year"
	Once      Frequency = "once"
)

// Option is how a line's money is managed.
type Option string

// The management options.
const (
	DirectPayment  Option = "direct_payment"
	CouncilManaged Option = "council_managed"
	ISF            Option = "isf"
)

// Options lists the options in the order totals are shown.
var Options = []Option{DirectPayment, CouncilManaged, ISF}

// Quantity is a quantity in hundredths ("10.5" is 1050): exact, never a float.
type Quantity int64

// ParseQuantity reads a decimal with up to two places.
func ParseQuantity(s string) (Quantity, bool) {
	whole, frac, hasFrac := strings.Cut(s, ".")
	if whole == "" || len(whole) > 4 || (hasFrac && (frac == "" || len(frac) > 2)) {
		return 0, false
	}
	w, err := strconv.ParseInt(whole, 10, 64)
	if err != nil || w < 0 {
		return 0, false
	}
	f := int64(0)
	if hasFrac {
		if len(frac) == 1 {
			frac += "0"
		}
		if f, err = strconv.ParseInt(frac, 10, 64); err != nil || f < 0 {
			return 0, false
		}
	}
	return Quantity(w*100 + f), true
}

// String renders the quantity without trailing zeros ("10.5", "3").
func (q Quantity) String() string {
	s := strconv.FormatInt(int64(q)/100, 10)
	if f := int64(q) % 100; f != 0 {
		s += strings.TrimRight("."+strconv.FormatInt(100+f, 10)[1:], "0")
	}
	return s
}

// Line is one costed line of a plan.
type Line struct {
	ID                  uuid.UUID
	Category            string
	Description         string
	ProviderID          *uuid.UUID
	UnitCost            int64 // pence
	Unit                Unit
	Quantity            Quantity
	Frequency           Frequency
	Start, End          date.Date // [Start, End)
	MeetsNeeds          []string
	Option              Option
	PersonalAssistantID *uuid.UUID
	NecessityReason     *string
	Annual              int64 // pence, see Cost
	Weekly              int64
}

var timesAYear = map[Frequency]int64{PerWeek: 52, Per4Weeks: 13, PerMonth: 12, PerYear: 1, Once: 1}

// Cost is a line's annual and weekly cost within a budget year [start, end):
//
//	full year = unit cost × quantity × times a year (52, 13, 12 or 1), to the nearest penny (halves up)
//	annual    = full year × days the line runs in the budget year ÷ days in the budget year, to the
//	            nearest penny; a one-off line costs its full amount, without proration
//	weekly    = annual ÷ 52, to the nearest penny
func Cost(l Line, start, end date.Date) (annual, weekly int64) {
	full := money.DivRound(l.UnitCost*int64(l.Quantity)*timesAYear[l.Frequency], 100)
	if l.Frequency == Once {
		annual = full
	} else {
		from, to := maxDate(l.Start, start), minDate(l.End, end)
		days := max(0, to.DaysSince(from))
		annual = money.DivRound(full*int64(days), int64(end.DaysSince(start)))
	}
	return annual, money.WeeklyFromAnnual(annual)
}

func maxDate(a, b date.Date) date.Date {
	if a.After(b) {
		return a
	}
	return b
}

func minDate(a, b date.Date) date.Date {
	if a.Before(b) {
		return a
	}
	return b
}

// OptionTotal is one management option's share of a plan.
type OptionTotal struct {
	Option        Option
	Annual        int64
	Weekly        int64
	PersonAnnual  *int64
	PersonWeekly  *int64
	CouncilAnnual *int64
	CouncilWeekly *int64
}

// Totals are a plan's costs, overall and by option.
type Totals struct {
	Annual  int64
	Weekly  int64
	Mode    string // none, direct_payment, council_managed, isf or mixed
	Options []OptionTotal
}

// Sum totals lines. The plan's annual cost is the sum of its lines' and its weekly cost is that
// ÷ 52 to the nearest penny (as for every budget). An option's annual cost is the sum of its lines'
// and its weekly cost the plan's weekly cost apportioned by annual cost, so that the options add
// up to the plan exactly. The person's contribution (annual and weekly, nil when not assessed) is
// apportioned across the options in proportion to their cost (annual by annual, weekly by weekly),
// by the largest remainder, so that its parts add up to it and no part exceeds its option's cost;
// the council pays the rest of each option, never less than nothing.
func Sum(lines []Line, personAnnual, personWeekly *int64) Totals {
	var t Totals
	byOption := map[Option]int64{}
	for _, l := range lines {
		t.Annual += l.Annual
		byOption[l.Option] += l.Annual
	}
	t.Weekly = money.WeeklyFromAnnual(t.Annual)
	var used []Option
	var weights []int64
	for _, o := range Options {
		if _, ok := byOption[o]; ok {
			used = append(used, o)
			weights = append(weights, byOption[o])
		}
	}
	switch len(used) {
	case 0:
		t.Mode = "none"
	case 1:
		t.Mode = string(used[0])
	default:
		t.Mode = "mixed"
	}
	weekly := Apportion(t.Weekly, weights)
	var pa, pw []int64
	if personAnnual != nil && personWeekly != nil {
		// Weekly by the options' weekly amounts, not their annual ones: with the same weights as
		// its whole, no part of the person's week can exceed the option's week by a rounding penny.
		pa, pw = Apportion(*personAnnual, weights), Apportion(*personWeekly, weekly)
	}
	for i, o := range used {
		ot := OptionTotal{Option: o, Annual: weights[i], Weekly: weekly[i]}
		if pa != nil {
			ca, cw := ot.Annual-pa[i], ot.Weekly-pw[i]
			ot.PersonAnnual, ot.PersonWeekly, ot.CouncilAnnual, ot.CouncilWeekly = &pa[i], &pw[i], &ca, &cw
		}
		t.Options = append(t.Options, ot)
	}
	return t
}

// Apportion splits total in proportion to weights by the largest remainder: the parts are whole
// pence, add up to total exactly, and no part is more than a penny from its exact share. With no
// weight at all, everything goes to the first part.
func Apportion(total int64, weights []int64) []int64 {
	parts := make([]int64, len(weights))
	if len(weights) == 0 {
		return parts
	}
	var sum int64
	for _, w := range weights {
		sum += w
	}
	if sum == 0 {
		parts[0] = total
		return parts
	}
	type rem struct {
		i int
		r *big.Int
	}
	rems := make([]rem, len(weights))
	given := int64(0)
	bigSum := big.NewInt(sum)
	for i, w := range weights {
		q, r := new(big.Int).QuoRem(new(big.Int).Mul(big.NewInt(total), big.NewInt(w)), bigSum, new(big.Int))
		parts[i] = q.Int64()
		given += parts[i]
		rems[i] = rem{i, r}
	}
	sort.SliceStable(rems, func(a, b int) bool { return rems[a].r.Cmp(rems[b].r) > 0 })
	for k := int64(0); k < total-given; k++ {
		parts[rems[k].i]++
	}
	return parts
}
