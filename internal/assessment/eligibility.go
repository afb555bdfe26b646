package assessment

import (
	"fmt"
	"strings"

	"github.com/pbudget/pbudget/internal/ras"
)

// Reason is why an outcome cannot be achieved (reg 2(3) of SI 2015/313).
type Reason string

// The four reasons. Carers have only the first three (reg 3(3)).
const (
	NeedsAssistance        Reason = "needs_assistance"
	PainDistressAnxiety    Reason = "significant_pain_distress_anxiety"
	EndangersHealthSafety  Reason = "endangers_health_or_safety"
	TakesSignificantlyLong Reason = "takes_significantly_longer"
)

// AdultOutcomes are the ten outcomes of reg 2(2).
var AdultOutcomes = []string{
	"nutrition", "personal_hygiene", "toilet_needs", "being_clothed", "home_safety", "habitable_home",
	"relationships", "work_training_education_volunteering", "community_facilities", "caring_for_child",
}

// CarerOutcomes are the eight outcomes of reg 3(2)(b).
var CarerOutcomes = []string{
	"caring_for_child", "caring_for_others", "habitable_home", "nutrition", "relationships",
	"work_training_education_volunteering", "community_facilities", "recreational_activities",
}

// OutcomeRecord is what the practitioner recorded about one outcome.
type OutcomeRecord struct {
	Outcome string   `json:"outcome"`
	Unable  bool     `json:"unable"`
	Reasons []Reason `json:"reasons"`
	Notes   string   `json:"notes,omitempty"`
}

// Facts are what an assessment records. Pointers are unanswered while nil.
type Facts struct {
	Practitioner string

	// needs (reg 2)
	ImpairmentOrIllness        *bool
	SignificantWellbeingImpact *bool // needs and carer
	Outcomes                   []OutcomeRecord

	// carer (reg 3)
	CaredForPersonID      *string
	ProvidesNecessaryCare *bool
	CarerHealthAtRisk     *bool
	CarerOutcomes         []OutcomeRecord

	// child (Children Act 1989 s17(10))
	ChildUnlikelyToAchieve *bool
	ChildImpaired          *bool
	ChildDisabled          *bool

	Notes      string
	RASAnswers map[string]string
}

// Condition is one legal condition and whether it held.
type Condition struct {
	Condition string `json:"condition"`
	Held      bool   `json:"held"`
	Detail    string `json:"detail"`
}

// Result is an eligibility decision with its reasons.
type Result struct {
	Eligible        bool        `json:"eligible"`
	Computed        bool        `json:"computed_eligible"`
	Rule            string      `json:"rule"`
	Conditions      []Condition `json:"conditions"`
	OutcomesCounted []string    `json:"outcomes_counted"`
	Summary         string      `json:"summary"`
	Overridden      bool        `json:"overridden"`
	OverrideReason  string      `json:"override_reason,omitempty"`
}

// The rules, as cited in results.
const (
	AdultRule = "Care and Support (Eligibility Criteria) Regulations 2015 (SI 2015/313) reg 2"
	CarerRule = "Care and Support (Eligibility Criteria) Regulations 2015 (SI 2015/313) reg 3"
	ChildRule = "Children Act 1989 s17(10)"
)

// Decide applies the rules of basis to complete facts (see Incomplete).
//
// An adult is eligible when the needs arise from an impairment or illness, the adult cannot
// achieve two or more of the ten outcomes (each for at least one of the four reasons), and as a
// consequence there is or is likely to be a significant impact on wellbeing. A carer is eligible
// when the needs arise from providing necessary care, the carer's health is at risk or the carer
// cannot achieve any one of the eight outcomes (for one of three reasons: taking significantly
// longer does not count), and there is a significant impact on wellbeing. A child is in need when
// any of the three tests of s17(10) holds.
func Decide(basis ras.AssessmentType, f Facts) Result {
	var r Result
	switch basis {
	case ras.Needs:
		r.Rule = AdultRule
		r.OutcomesCounted = counted(f.Outcomes, adultReason)
		n := len(r.OutcomesCounted)
		r.Conditions = []Condition{
			{"impairment_or_illness", *f.ImpairmentOrIllness, yesNo(*f.ImpairmentOrIllness,
				"the needs arise from a physical or mental impairment or illness",
				"the needs do not arise from a physical or mental impairment or illness")},
			{"outcomes_unachievable", n >= 2, fmt.Sprintf("%d of the 10 outcomes cannot be achieved%s; two or more are needed", n, listed(r.OutcomesCounted))},
			wellbeing(*f.SignificantWellbeingImpact),
		}
	case ras.Carer:
		r.Rule = CarerRule
		r.OutcomesCounted = counted(f.CarerOutcomes, carerReason)
		n := len(r.OutcomesCounted)
		held := *f.CarerHealthAtRisk || n >= 1
		detail := fmt.Sprintf("%d of the 8 carer outcomes cannot be achieved%s", n, listed(r.OutcomesCounted))
		if *f.CarerHealthAtRisk {
			detail = "the carer's physical or mental health is, or is at risk of, deteriorating; " + detail
		} else {
			detail = "the carer's health is not at risk; " + detail
		}
		r.Conditions = []Condition{
			{"provides_necessary_care", *f.ProvidesNecessaryCare, yesNo(*f.ProvidesNecessaryCare,
				"the needs arise from providing necessary care to an adult",
				"the needs do not arise from providing necessary care to an adult")},
			{"health_or_outcome", held, detail + "; either is enough"},
			wellbeing(*f.SignificantWellbeingImpact),
		}
	case ras.Child:
		r.Rule = ChildRule
		tests := []struct {
			held bool
			what string
		}{
			{*f.ChildUnlikelyToAchieve, "unlikely to achieve or maintain a reasonable standard of health or development without services"},
			{*f.ChildImpaired, "health or development likely to be significantly impaired without services"},
			{*f.ChildDisabled, "disabled"},
		}
		var held []string
		for _, t := range tests {
			if t.held {
				held = append(held, t.what)
			}
		}
		detail := "none of the three tests holds"
		if len(held) > 0 {
			detail = "the child is " + strings.Join(held, "; and ")
		}
		r.Conditions = []Condition{{"child_in_need", len(held) > 0, detail}}
		r.OutcomesCounted = []string{}
	}
	r.Eligible = true
	var failed []string
	for _, c := range r.Conditions {
		if !c.Held {
			r.Eligible = false
			failed = append(failed, c.Condition)
		}
	}
	r.Computed = r.Eligible
	if r.Eligible {
		r.Summary = "eligible: every condition of " + r.Rule + " holds"
	} else {
		r.Summary = "not eligible under " + r.Rule + ": " + strings.Join(failed, ", ") + " not met"
	}
	return r
}

func wellbeing(held bool) Condition {
	return Condition{"significant_wellbeing_impact", held, yesNo(held,
		"as a consequence there is, or is likely to be, a significant impact on wellbeing",
		"there is no significant impact on wellbeing")}
}

func adultReason(r Reason) bool {
	return r == NeedsAssistance || r == PainDistressAnxiety || r == EndangersHealthSafety || r == TakesSignificantlyLong
}

func carerReason(r Reason) bool { return adultReason(r) && r != TakesSignificantlyLong }

// counted lists the outcomes recorded as unachievable for at least one valid reason.
func counted(records []OutcomeRecord, valid func(Reason) bool) []string {
	out := []string{}
	for _, rec := range records {
		if !rec.Unable {
			continue
		}
		for _, reason := range rec.Reasons {
			if valid(reason) {
				out = append(out, rec.Outcome)
				break
			}
		}
	}
	return out
}

func listed(outcomes []string) string {
	if len(outcomes) == 0 {
		return ""
	}
	return " (" + strings.Join(outcomes, ", ") + ")"
}

func yesNo(held bool, yes, no string) string {
	if held {
		return yes
	}
	return no
}
