package plan

import (
	"fmt"
	"slices"
	"sort"
	"strings"

	"github.com/google/uuid"

	"github.com/pbudget/pbudget/internal/apperr"
	"github.com/pbudget/pbudget/internal/council"
	"github.com/pbudget/pbudget/internal/date"
	"github.com/pbudget/pbudget/internal/money"
	"github.com/pbudget/pbudget/internal/person"
	"github.com/pbudget/pbudget/internal/provider"
)

// CategoryRule names the direct-payment rule a category's lines follow.
type CategoryRule string

// The category rules.
const (
	NoRule            CategoryRule = "none"
	PersonalAssistant CategoryRule = "personal_assistant"
	CareHomeStay      CategoryRule = "care_home_stay"
	ChildShortBreak   CategoryRule = "child_residential_short_break"
)

// Category is an entry of the council's service catalogue.
type Category struct {
	Key            string
	Name           string
	CLDServiceType string
	DPAllowed      bool
	Rule           CategoryRule
}

// FamilyTie is how a personal assistant is related to the person, from the relationships recorded.
type FamilyTie struct {
	Relation      person.FamilyRelation // "" when none is recorded
	SameHousehold bool
}

// Restricted reports whether direct payments may pay this person only when the council records it
// as necessary: a spouse, civil partner or partner, or a close relative living in the same household
// (Care and Support (Direct Payments) Regulations 2014, reg 3).
func (f FamilyTie) Restricted() bool {
	switch f.Relation {
	case "spouse", "civil_partner", "partner":
		return true
	case "parent", "child", "sibling", "grandparent", "grandchild", "other_relative":
		return f.SameHousehold
	}
	return false
}

// Facts are what the rules need besides the lines.
type Facts struct {
	PersonType  person.Type
	BudgetStart date.Date
	BudgetEnd   date.Date // exclusive
	Ceiling     int64     // annual pence: the indicative amount or the panel's
	Categories  map[string]Category
	Providers   map[uuid.UUID]provider.Provider
	Family      map[uuid.UUID]FamilyTie // by personal assistant
	Settings    council.Settings
	// Prior are the direct-payment lines of the person's other approved plans (earlier budget
	// years, other budgets) that end within 12 months before this budget's start: the care-home
	// and short-break limits run over any 12 months, not one plan.
	Prior []Line
}

// The plan rules, each a 422 naming the rule.
var (
	ErrUnknownCategory = apperr.New(apperr.RuleViolation, "unknown-service-category", "the line's category is not in the council's catalogue")
	ErrProvider        = apperr.New(apperr.RuleViolation, "provider-invalid", "provider_id names no active provider of this council")
	ErrOutsidePeriod   = apperr.New(apperr.RuleViolation, "line-outside-budget-period",
		"a line runs within the budget's year: start on or after its start, end on or before its end, after its own start")
	ErrISFProvider = apperr.New(apperr.RuleViolation, "isf-provider-required",
		"an Individual Service Fund line names an ISF provider, which holds the money")
	ErrDPExcluded = apperr.New(apperr.RuleViolation, "direct-payment-excluded-category",
		"a direct payment cannot buy this category (healthcare, housing, the council's own services, gambling and the like)")
	ErrFamilyPA = apperr.New(apperr.RuleViolation, "family-personal-assistant-not-necessary",
		"a direct payment pays a spouse, partner or close relative in the same household only when the council records why it is necessary (necessity_reason)")
	ErrCareHomeStay = apperr.New(apperr.RuleViolation, "direct-payment-care-home-stay-too-long",
		"direct payments fund care-home stays of at most four consecutive weeks in 12 months")
	ErrChildShortBreakPeriod = apperr.New(apperr.RuleViolation, "child-short-break-period-too-long",
		"a child's residential short breaks by direct payment last at most four weeks in one period")
	ErrChildShortBreakYear = apperr.New(apperr.RuleViolation, "child-short-breaks-over-120-days",
		"a child's residential short breaks by direct payment total at most 120 days in any 12 months")
	ErrStayUnit = apperr.New(apperr.RuleViolation, "residential-stay-unit",
		"a stay paid by direct payment is costed by the night, the day or the week, so that its length is known")
	ErrStayDates = apperr.New(apperr.RuleViolation, "residential-stay-dates",
		"a stay's dates cover the nights it pays for: a one-off stay's end_date is at least start_date plus its nights, and a recurring stay's nights fit between its occurrences")
	ErrOverCeiling = apperr.New(apperr.RuleViolation, "plan-over-budget",
		"the plan costs more than the budget's ceiling (the indicative amount or the panel's approved amount): ask the funding panel")
)

func violation(rule *apperr.Error, lines []int, msg string) error {
	e := *rule
	if msg != "" {
		e.Message = msg
	}
	for _, i := range lines {
		e.Fields = append(e.Fields, apperr.FieldError{Field: fmt.Sprintf("/lines/%d", i), In: "body", Code: rule.Code, Message: e.Message})
	}
	return &e
}

// Check applies every rule to the lines, in order, and returns the first broken, naming the lines.
func Check(lines []Line, f Facts) error {
	for i, l := range lines {
		cat, ok := f.Categories[l.Category]
		if !ok {
			return violation(ErrUnknownCategory, []int{i}, "")
		}
		if l.ProviderID != nil {
			if p, ok := f.Providers[*l.ProviderID]; !ok || !p.Active {
				return violation(ErrProvider, []int{i}, "")
			}
		}
		if !l.End.After(l.Start) || l.Start.Before(f.BudgetStart) || l.End.After(f.BudgetEnd) {
			return violation(ErrOutsidePeriod, []int{i}, fmt.Sprintf("%s: the budget's year is %s to %s", ErrOutsidePeriod.Message, f.BudgetStart, f.BudgetEnd))
		}
		if l.Option == ISF && (l.ProviderID == nil || f.Providers[*l.ProviderID].Type != provider.ISFProvider) {
			return violation(ErrISFProvider, []int{i}, "")
		}
		if l.Option != DirectPayment {
			continue
		}
		if !cat.DPAllowed {
			return violation(ErrDPExcluded, []int{i}, "")
		}
		// Whatever the category says, a direct payment paying a named family member follows reg 3.
		if l.PersonalAssistantID != nil && f.Family[*l.PersonalAssistantID].Restricted() &&
			(l.NecessityReason == nil || strings.TrimSpace(*l.NecessityReason) == "") {
			return violation(ErrFamilyPA, []int{i}, "")
		}
		if cat.Rule.residential() {
			n, ok := nightsEach(l)
			if !ok {
				return violation(ErrStayUnit, []int{i}, "")
			}
			if l.Frequency == Once && l.End.DaysSince(l.Start) < n {
				return violation(ErrStayDates, []int{i}, fmt.Sprintf("%s: the line pays for %d nights from %s, but ends on %s",
					ErrStayDates.Message, n, l.Start, l.End))
			}
			if p, recurs := period[l.Frequency]; recurs && n > p {
				return violation(ErrStayDates, []int{i}, fmt.Sprintf("a recurring stay's nights fit between its occurrences: %d nights %s is more than %d days apart",
					n, l.Frequency, p))
			}
		}
	}
	stays := residentialStays(lines, f)
	if f.PersonType == person.Child {
		// A child's stays in a care home are residential short breaks too.
		if err := checkPeriods(stays, 1, f.Settings.ChildShortBreakMaxPerPeriod, ErrChildShortBreakPeriod); err != nil {
			return err
		}
		if err := checkYearTotal(stays, f.Settings.ChildShortBreakMaxPer12Month, ErrChildShortBreakYear); err != nil {
			return err
		}
	} else if err := checkPeriods(stays, f.Settings.CareHomeJoinGapDays, f.Settings.CareHomeMaxDays, ErrCareHomeStay); err != nil {
		return err
	}
	var total int64
	for _, l := range lines {
		total += l.Annual
	}
	if total > f.Ceiling {
		return violation(ErrOverCeiling, nil, fmt.Sprintf("the plan costs %s a year, more than the budget's ceiling of %s: ask the funding panel",
			money.Format(total), money.Format(f.Ceiling)))
	}
	return nil
}

// residential reports whether a category's lines are stays in residential accommodation.
func (r CategoryRule) residential() bool { return r == CareHomeStay || r == ChildShortBreak }

// nightsEach is how many nights (days) each occurrence of a stay line pays for: its quantity of
// nights or days, or of weeks × 7, a part-night counting whole.
func nightsEach(l Line) (int, bool) {
	switch l.Unit {
	case "night", "day":
		return int((int64(l.Quantity) + 99) / 100), true
	case "week":
		return int((int64(l.Quantity)*7 + 99) / 100), true
	}
	return 0, false
}

// period is the shortest time between a recurring line's occurrences, in days.
var period = map[Frequency]int{PerWeek: 7, Per4Weeks: 28, PerMonth: 28, PerYear: 365}

// interval is days [from, to) a stay line pays for; line is its index, −1 for a prior plan's line.
type interval struct {
	from, to date.Date
	line     int
}

// occurrence returns the k-th start of a recurring line. Monthly ones fall on the start's day of
// the month, or the month's last day when it is shorter (31 January, 28 February, 31 March).
func occurrence(l Line, k int) date.Date {
	switch l.Frequency {
	case PerWeek:
		return l.Start.AddDays(7 * k)
	case Per4Weeks:
		return l.Start.AddDays(28 * k)
	case PerMonth:
		first := date.Of(l.Start.Year(), l.Start.Month(), 1).AddDate(0, k, 0)
		last := first.AddDate(0, 1, 0).AddDays(-1)
		return first.AddDays(min(l.Start.Day(), last.Day()) - 1)
	}
	return l.Start.AddDate(k, 0, 0)
}

// occupied is the days a stay line pays for: a one-off stay from its start for its nights; a
// recurring one, its nights at each occurrence within its dates, as many occurrences as its cost
// pays for (52 a week over a year of yearDays, not a 53rd on the year's last day). Nothing runs
// past the line's end.
func occupied(l Line, idx, yearDays int) []interval {
	n, ok := nightsEach(l)
	if !ok || n == 0 || !l.End.After(l.Start) {
		return nil
	}
	if l.Frequency == Once {
		return []interval{{l.Start, minDate(l.Start.AddDays(n), l.End), idx}}
	}
	if yearDays <= 0 {
		yearDays = 365
	}
	paid := (timesAYear[l.Frequency]*int64(l.End.DaysSince(l.Start)) + int64(yearDays) - 1) / int64(yearDays)
	var out []interval
	for k := 0; int64(k) < paid; k++ {
		t := occurrence(l, k)
		if !t.Before(l.End) {
			break
		}
		out = append(out, interval{t, minDate(t.AddDays(n), l.End), idx})
	}
	return out
}

// block is days of stays without a night between them, or stays joined into one period.
type block struct {
	from, to date.Date
	days     int
	lines    []int // the plan's lines involved; prior lines are not named
}

func (b *block) add(lines ...int) {
	for _, i := range lines {
		if i >= 0 && !slices.Contains(b.lines, i) {
			b.lines = append(b.lines, i)
		}
	}
}

// residentialStays are the direct-payment stays of the plan's lines and the prior lines, as
// blocks of consecutive days, in order. A day paid twice counts once.
func residentialStays(lines []Line, f Facts) []block {
	var all []interval
	for i, l := range lines {
		if l.Option == DirectPayment && f.Categories[l.Category].Rule.residential() {
			all = append(all, occupied(l, i, f.BudgetEnd.DaysSince(f.BudgetStart))...)
		}
	}
	for _, l := range f.Prior { // their own budget years are taken as 365 days
		if l.Option == DirectPayment && f.Categories[l.Category].Rule.residential() {
			all = append(all, occupied(l, -1, 365)...)
		}
	}
	sort.Slice(all, func(a, b int) bool { return all[a].from.Before(all[b].from) })
	var out []block
	for _, iv := range all {
		if n := len(out); n > 0 && !iv.from.After(out[n-1].to) {
			last := &out[n-1]
			last.to = maxDate(last.to, iv.to)
			last.days = last.to.DaysSince(last.from)
			last.add(iv.line)
			continue
		}
		b := block{from: iv.from, to: iv.to, days: iv.to.DaysSince(iv.from)}
		b.add(iv.line)
		out = append(out, b)
	}
	return out
}

// checkPeriods refuses a period of stays longer than maxDays, where stays less than gap days
// apart are added together into one period (reg 7 of the 2014 Direct Payments Regulations: the
// nights are added, not the days between). Periods of prior plans alone are not this plan's fault.
func checkPeriods(stays []block, gap, maxDays int, err *apperr.Error) error {
	var periods []block
	for _, s := range stays {
		if n := len(periods); n > 0 && s.from.DaysSince(periods[n-1].to) < gap {
			last := &periods[n-1]
			last.to, last.days = s.to, last.days+s.days
			last.add(s.lines...)
			continue
		}
		periods = append(periods, s)
	}
	for _, p := range periods {
		if p.days > maxDays && len(p.lines) > 0 {
			return violation(err, p.lines, fmt.Sprintf("%s: %d days from %s, the most is %d", err.Message, p.days, p.from, maxDays))
		}
	}
	return nil
}

// checkYearTotal refuses more than maxDays of stays in any 12 months. The busiest 12 months begin
// on a stay's first day or end on a stay's last, so those windows are the ones counted.
func checkYearTotal(stays []block, maxDays int, err *apperr.Error) error {
	var windows [][2]date.Date
	for _, s := range stays {
		windows = append(windows, [2]date.Date{s.from, s.from.AddDate(1, 0, 0)}, [2]date.Date{s.to.AddDate(-1, 0, 0), s.to})
	}
	for _, w := range windows {
		from, to := w[0], w[1]
		window := block{from: from}
		for _, s := range stays {
			if overlap := minDate(s.to, to).DaysSince(maxDate(s.from, from)); overlap > 0 {
				window.days += overlap
				window.add(s.lines...)
			}
		}
		if window.days > maxDays && len(window.lines) > 0 {
			return violation(err, window.lines, fmt.Sprintf("%s: %d days in the 12 months from %s, the most is %d", err.Message, window.days, from, maxDays))
		}
	}
	return nil
}
