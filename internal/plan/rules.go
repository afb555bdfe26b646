package plan

import (
	"fmt"
	"sort"

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
		if cat.Rule == PersonalAssistant && l.PersonalAssistantID != nil && f.Family[*l.PersonalAssistantID].Restricted() &&
			(l.NecessityReason == nil || *l.NecessityReason == "") {
			return violation(ErrFamilyPA, []int{i}, "")
		}
	}
	if err := checkStays(lines, f, CareHomeStay, f.Settings.CareHomeJoinGapDays, f.Settings.CareHomeMaxDays, ErrCareHomeStay); err != nil && f.PersonType == person.Adult {
		return err
	}
	if f.PersonType == person.Child {
		if err := checkStays(lines, f, ChildShortBreak, 1, f.Settings.ChildShortBreakMaxPerPeriod, ErrChildShortBreakPeriod); err != nil {
			return err
		}
		if err := checkYearTotal(lines, f, ChildShortBreak, f.Settings.ChildShortBreakMaxPer12Month, ErrChildShortBreakYear); err != nil {
			return err
		}
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

type stay struct {
	from, to date.Date // [from, to)
	lines    []int
}

// stays are the direct-payment lines of a rule as periods, joined when less than gap days apart.
func stays(lines []Line, f Facts, rule CategoryRule, gap int) []stay {
	var out []stay
	for i, l := range lines {
		if l.Option == DirectPayment && f.Categories[l.Category].Rule == rule {
			out = append(out, stay{l.Start, l.End, []int{i}})
		}
	}
	sort.Slice(out, func(a, b int) bool { return out[a].from.Before(out[b].from) })
	var joined []stay
	for _, s := range out {
		if n := len(joined); n > 0 && s.from.DaysSince(joined[n-1].to) < gap {
			last := &joined[n-1]
			last.to = maxDate(last.to, s.to)
			last.lines = append(last.lines, s.lines...)
			continue
		}
		joined = append(joined, s)
	}
	return joined
}

// checkStays refuses a joined period longer than maxDays.
func checkStays(lines []Line, f Facts, rule CategoryRule, gap, maxDays int, err *apperr.Error) error {
	for _, s := range stays(lines, f, rule, gap) {
		if days := s.to.DaysSince(s.from); days > maxDays {
			return violation(err, s.lines, fmt.Sprintf("%s: %d days from %s, the most is %d", err.Message, days, s.from, maxDays))
		}
	}
	return nil
}

// checkYearTotal refuses more than maxDays of stays in any 12 months: it counts, for each stay's
// first day, the days of stays within the year that begins then.
func checkYearTotal(lines []Line, f Facts, rule CategoryRule, maxDays int, err *apperr.Error) error {
	all := stays(lines, f, rule, 0)
	for _, start := range all {
		from, to := start.from, start.from.AddDate(1, 0, 0)
		days, involved := 0, []int{}
		for _, s := range all {
			if overlap := minDate(s.to, to).DaysSince(maxDate(s.from, from)); overlap > 0 {
				days += overlap
				involved = append(involved, s.lines...)
			}
		}
		if days > maxDays {
			return violation(err, involved, fmt.Sprintf("%s: %d days in the 12 months from %s, the most is %d", err.Message, days, from, maxDays))
		}
	}
	return nil
}
