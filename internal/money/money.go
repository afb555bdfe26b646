// Package money holds the rounding rules of amounts in integer pence. There is no floating point
// anywhere in pbudget: amounts are int64 pence, and every division rounds by the rules here.
package money

import "fmt"

// WeeksPerYear is the convention by which annual and weekly amounts are converted: an annual
// amount is 52 weekly amounts, as in English social care charging.
const WeeksPerYear = 52

// DivRound divides a by b (b > 0), rounding to the nearest integer with halves away from zero.
func DivRound(a, b int64) int64 {
	if b <= 0 {
		panic("money: DivRound by a non-positive divisor")
	}
	if a < 0 {
		return -DivRound(-a, b)
	}
	return (a + b/2) / b
}

// WeeklyFromAnnual converts an annual amount to a weekly one: annual ÷ 52, to the nearest penny,
// halves up. (Converting back, ×52, may differ from the annual amount by up to 26p.)
func WeeklyFromAnnual(annual int64) int64 { return DivRound(annual, WeeksPerYear) }

// AnnualFromWeekly converts a weekly amount to an annual one, exactly: weekly × 52.
func AnnualFromWeekly(weekly int64) int64 { return weekly * WeeksPerYear }

// Format renders pence as pounds for people to read ("£1,234.56"); never for calculation.
func Format(pence int64) string {
	sign := ""
	if pence < 0 {
		sign, pence = "-", -pence
	}
	pounds, p := pence/100, pence%100
	s := fmt.Sprintf("%d", pounds)
	for i := len(s) - 3; i > 0; i -= 3 {
		s = s[:i] + "," + s[i:]
	}
	return fmt.Sprintf("%s£%s.%02d", sign, s, p)
}

// Step is one line of a calculation shown to people: a stable name, the words, and the value
// (pence for money, or points) when it has one.
type Step struct {
	Step   string `json:"step"`
	Detail string `json:"detail"`
	Value  *int64 `json:"value,omitempty"`
}

// NewStep returns a step with a value.
func NewStep(name string, value int64, detail string) Step {
	return Step{Step: name, Detail: detail, Value: &value}
}
