package assessment

import (
	"fmt"
	"slices"

	"github.com/pbudget/pbudget/internal/apperr"
	"github.com/pbudget/pbudget/internal/ras"
)

// Rules the recorded facts must keep, checked whenever a draft is written.
var (
	ErrFieldNotForType = apperr.New(apperr.RuleViolation, "field-not-for-assessment-type",
		"a field that belongs to another type of assessment was given")
	ErrDuplicateOutcome = apperr.New(apperr.RuleViolation, "duplicate-outcome", "an outcome is recorded more than once")
	ErrReasonsMismatch  = apperr.New(apperr.RuleViolation, "outcome-reasons-mismatch",
		"an outcome the person cannot achieve needs at least one reason, and one they can achieve has none")
	ErrCarerReason = apperr.New(apperr.RuleViolation, "carer-reason-not-allowed",
		"for carers, taking significantly longer is not a reason an outcome cannot be achieved (SI 2015/313 reg 3(3))")
	ErrIncomplete = apperr.New(apperr.RuleViolation, "assessment-incomplete",
		"the assessment lacks facts the eligibility decision needs")
)

func ruleError(rule *apperr.Error, fields apperr.Fields) error {
	e := *rule
	e.Fields = fields
	return &e
}

// CheckFacts enforces the rules of recorded facts for an assessment of basis.
func CheckFacts(basis ras.AssessmentType, f Facts) error {
	var foreign apperr.Fields
	not := func(set bool, field string) {
		if set {
			foreign.Add("/"+field, "not_for_type", field+" does not belong to a "+string(basis)+" assessment")
		}
	}
	needsOrCarer := basis == ras.Needs || basis == ras.Carer
	not(basis != ras.Needs && f.ImpairmentOrIllness != nil, "impairment_or_illness")
	not(basis != ras.Needs && len(f.Outcomes) > 0, "outcomes")
	not(!needsOrCarer && f.SignificantWellbeingImpact != nil, "significant_wellbeing_impact")
	not(basis != ras.Carer && f.CaredForPersonID != nil, "cared_for_person_id")
	not(basis != ras.Carer && f.ProvidesNecessaryCare != nil, "provides_necessary_care")
	not(basis != ras.Carer && f.CarerHealthAtRisk != nil, "carer_health_at_risk")
	not(basis != ras.Carer && len(f.CarerOutcomes) > 0, "carer_outcomes")
	not(basis != ras.Child && f.ChildUnlikelyToAchieve != nil, "child_unlikely_to_achieve_reasonable_standard")
	not(basis != ras.Child && f.ChildImpaired != nil, "child_development_significantly_impaired")
	not(basis != ras.Child && f.ChildDisabled != nil, "child_disabled")
	if len(foreign) > 0 {
		return ruleError(ErrFieldNotForType, foreign)
	}
	for _, list := range []struct {
		field   string
		records []OutcomeRecord
		carer   bool
	}{{"outcomes", f.Outcomes, false}, {"carer_outcomes", f.CarerOutcomes, true}} {
		if err := checkRecords(list.field, list.records, list.carer); err != nil {
			return err
		}
	}
	return nil
}

func checkRecords(field string, records []OutcomeRecord, carer bool) error {
	var dup, mismatch, carerReason apperr.Fields
	seen := map[string]bool{}
	for i, r := range records {
		at := fmt.Sprintf("/%s/%d", field, i)
		if seen[r.Outcome] {
			dup.Add(at+"/outcome", "duplicate", r.Outcome+" is recorded more than once")
		}
		seen[r.Outcome] = true
		if r.Unable != (len(r.Reasons) > 0) {
			mismatch.Add(at+"/reasons", "reasons_mismatch", "give reasons exactly when unable is true")
		}
		if carer && slices.Contains(r.Reasons, TakesSignificantlyLong) {
			carerReason.Add(at+"/reasons", "carer_reason", "takes_significantly_longer does not apply to carers")
		}
	}
	switch {
	case len(carerReason) > 0:
		return ruleError(ErrCarerReason, carerReason)
	case len(dup) > 0:
		return ruleError(ErrDuplicateOutcome, dup)
	case len(mismatch) > 0:
		return ruleError(ErrReasonsMismatch, mismatch)
	}
	return nil
}

// Incomplete reports what an assessment of basis still lacks before eligibility can be decided.
func Incomplete(basis ras.AssessmentType, f Facts) error {
	if missing := Blockers(basis, f); len(missing) > 0 {
		return ruleError(ErrIncomplete, missing)
	}
	return nil
}

// Blockers lists the facts an assessment of basis still lacks before it can be completed.
func Blockers(basis ras.AssessmentType, f Facts) apperr.Fields {
	var missing apperr.Fields
	need := func(set bool, field string) {
		if !set {
			missing.Add("/"+field, "required_to_complete", field+" must be recorded before completion")
		}
	}
	needOutcomes := func(field string, records []OutcomeRecord, all []string) {
		for _, o := range all {
			if !slices.ContainsFunc(records, func(r OutcomeRecord) bool { return r.Outcome == o }) {
				missing.Add("/"+field, "required_to_complete", "outcome "+o+" must be recorded before completion")
			}
		}
	}
	switch basis {
	case ras.Needs:
		need(f.ImpairmentOrIllness != nil, "impairment_or_illness")
		need(f.SignificantWellbeingImpact != nil, "significant_wellbeing_impact")
		needOutcomes("outcomes", f.Outcomes, AdultOutcomes)
	case ras.Carer:
		need(f.CaredForPersonID != nil, "cared_for_person_id")
		need(f.ProvidesNecessaryCare != nil, "provides_necessary_care")
		need(f.CarerHealthAtRisk != nil, "carer_health_at_risk")
		need(f.SignificantWellbeingImpact != nil, "significant_wellbeing_impact")
		needOutcomes("carer_outcomes", f.CarerOutcomes, CarerOutcomes)
	case ras.Child:
		need(f.ChildUnlikelyToAchieve != nil, "child_unlikely_to_achieve_reasonable_standard")
		need(f.ChildImpaired != nil, "child_development_significantly_impaired")
		need(f.ChildDisabled != nil, "child_disabled")
	}
	return missing
}
