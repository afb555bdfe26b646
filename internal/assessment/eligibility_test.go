package assessment

import (
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/pbudget/pbudget/internal/apperr"
	"github.com/pbudget/pbudget/internal/ras"
)

func yes() *bool { v := true; return &v }
func no() *bool  { v := false; return &v }

// adult returns complete adult facts in which the listed outcomes cannot be achieved for reason.
func adult(impairment, wellbeing *bool, reason Reason, unable ...string) Facts {
	f := Facts{ImpairmentOrIllness: impairment, SignificantWellbeingImpact: wellbeing}
	for _, o := range AdultOutcomes {
		rec := OutcomeRecord{Outcome: o, Reasons: []Reason{}}
		for _, u := range unable {
			if u == o {
				rec.Unable, rec.Reasons = true, []Reason{reason}
			}
		}
		f.Outcomes = append(f.Outcomes, rec)
	}
	return f
}

func carer(care, health, wellbeing *bool, reason Reason, unable ...string) Facts {
	id := "0193a5c4-0000-7000-8000-000000000001"
	f := Facts{CaredForPersonID: &id, ProvidesNecessaryCare: care, CarerHealthAtRisk: health, SignificantWellbeingImpact: wellbeing}
	for _, o := range CarerOutcomes {
		rec := OutcomeRecord{Outcome: o, Reasons: []Reason{}}
		for _, u := range unable {
			if u == o {
				rec.Unable, rec.Reasons = true, []Reason{reason}
			}
		}
		f.CarerOutcomes = append(f.CarerOutcomes, rec)
	}
	return f
}

func TestAdultEligibilityNeedsImpairmentTwoOutcomesAndSignificantImpact(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name     string
		facts    Facts
		eligible bool
		failed   string // the condition that fails, when not eligible
	}{
		{"needs assistance, two outcomes", adult(yes(), yes(), NeedsAssistance, "nutrition", "personal_hygiene"), true, ""},
		{"pain, distress or anxiety, two outcomes", adult(yes(), yes(), PainDistressAnxiety, "toilet_needs", "being_clothed"), true, ""},
		{"endangers health or safety, two outcomes", adult(yes(), yes(), EndangersHealthSafety, "home_safety", "habitable_home"), true, ""},
		{"takes significantly longer, two outcomes", adult(yes(), yes(), TakesSignificantlyLong, "relationships", "caring_for_child"), true, ""},
		{"all ten outcomes", adult(yes(), yes(), NeedsAssistance, AdultOutcomes...), true, ""},
		{"one outcome is not enough", adult(yes(), yes(), NeedsAssistance, "nutrition"), false, "outcomes_unachievable"},
		{"no outcome", adult(yes(), yes(), NeedsAssistance), false, "outcomes_unachievable"},
		{"no impairment or illness", adult(no(), yes(), NeedsAssistance, "nutrition", "personal_hygiene"), false, "impairment_or_illness"},
		{"no significant impact on wellbeing", adult(yes(), no(), NeedsAssistance, "nutrition", "personal_hygiene"), false, "significant_wellbeing_impact"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			require.NoError(t, CheckFacts(ras.Needs, tt.facts))
			require.NoError(t, Incomplete(ras.Needs, tt.facts))
			r := Decide(ras.Needs, tt.facts)
			require.Equal(t, tt.eligible, r.Eligible)
			require.Equal(t, AdultRule, r.Rule)
			for _, c := range r.Conditions {
				require.Equal(t, c.Condition != tt.failed, c.Held, c.Condition)
			}
		})
	}
}

func TestAnOutcomeMarkedAchievableDoesNotCount(t *testing.T) {
	t.Parallel()
	f := adult(yes(), yes(), NeedsAssistance, "nutrition")
	f.Outcomes[1] = OutcomeRecord{Outcome: "personal_hygiene", Unable: false, Reasons: []Reason{}}
	r := Decide(ras.Needs, f)
	require.False(t, r.Eligible)
	require.Equal(t, []string{"nutrition"}, r.OutcomesCounted)
}

func TestCarerEligibilityNeedsNecessaryCareHealthOrOneOutcomeAndImpact(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name     string
		facts    Facts
		eligible bool
		failed   string
	}{
		{"health at risk and no outcome", carer(yes(), yes(), yes(), NeedsAssistance), true, ""},
		{"one outcome for needing assistance", carer(yes(), no(), yes(), NeedsAssistance, "caring_for_others"), true, ""},
		{"one outcome for pain or distress", carer(yes(), no(), yes(), PainDistressAnxiety, "recreational_activities"), true, ""},
		{"one outcome that endangers health or safety", carer(yes(), no(), yes(), EndangersHealthSafety, "habitable_home"), true, ""},
		{"neither health nor any outcome", carer(yes(), no(), yes(), NeedsAssistance), false, "health_or_outcome"},
		{"care that is not necessary", carer(no(), yes(), yes(), NeedsAssistance, "nutrition"), false, "provides_necessary_care"},
		{"no significant impact on wellbeing", carer(yes(), yes(), no(), NeedsAssistance, "nutrition"), false, "significant_wellbeing_impact"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			require.NoError(t, CheckFacts(ras.Carer, tt.facts))
			require.NoError(t, Incomplete(ras.Carer, tt.facts))
			r := Decide(ras.Carer, tt.facts)
			require.Equal(t, tt.eligible, r.Eligible, r.Summary)
			for _, c := range r.Conditions {
				require.Equal(t, c.Condition != tt.failed, c.Held, c.Condition)
			}
		})
	}
}

func TestTakingSignificantlyLongerIsNotACarerReason(t *testing.T) {
	t.Parallel()
	f := carer(yes(), no(), yes(), TakesSignificantlyLong, "nutrition")
	err := CheckFacts(ras.Carer, f)
	require.ErrorIs(t, err, ErrCarerReason)
	require.Equal(t, "/carer_outcomes/3/reasons", err.(*apperr.Error).Fields[0].Field)
	// Even if it reached the rules, it would not count.
	r := Decide(ras.Carer, f)
	require.False(t, r.Eligible)
	require.Empty(t, r.OutcomesCounted)
	// For adults it is one of the four reasons.
	require.NoError(t, CheckFacts(ras.Needs, adult(yes(), yes(), TakesSignificantlyLong, "nutrition")))
}

func TestChildIsInNeedWhenAnyOfTheThreeTestsHolds(t *testing.T) {
	t.Parallel()
	for _, tt := range []struct {
		name                         string
		unlikely, impaired, disabled *bool
		inNeed                       bool
	}{
		{"unlikely to achieve a reasonable standard", yes(), no(), no(), true},
		{"development significantly impaired", no(), yes(), no(), true},
		{"disabled", no(), no(), yes(), true},
		{"none", no(), no(), no(), false},
	} {
		f := Facts{ChildUnlikelyToAchieve: tt.unlikely, ChildImpaired: tt.impaired, ChildDisabled: tt.disabled}
		require.NoError(t, Incomplete(ras.Child, f))
		r := Decide(ras.Child, f)
		require.Equal(t, tt.inNeed, r.Eligible, tt.name)
		require.Equal(t, ChildRule, r.Rule)
	}
}

func TestFactsOfAnotherAssessmentTypeAreRefused(t *testing.T) {
	t.Parallel()
	f := adult(yes(), yes(), NeedsAssistance, "nutrition", "personal_hygiene")
	f.CarerHealthAtRisk = yes()
	f.ChildDisabled = no()
	err := CheckFacts(ras.Needs, f)
	require.ErrorIs(t, err, ErrFieldNotForType)
	require.Len(t, err.(*apperr.Error).Fields, 2)
	require.ErrorIs(t, CheckFacts(ras.Child, adult(yes(), nil, NeedsAssistance)), ErrFieldNotForType)
}

func TestOutcomeRecordsMustBeConsistent(t *testing.T) {
	t.Parallel()
	dup := adult(yes(), yes(), NeedsAssistance)
	dup.Outcomes = append(dup.Outcomes, OutcomeRecord{Outcome: "nutrition", Reasons: []Reason{}})
	require.ErrorIs(t, CheckFacts(ras.Needs, dup), ErrDuplicateOutcome)

	noReason := adult(yes(), yes(), NeedsAssistance)
	noReason.Outcomes[0].Unable = true
	require.ErrorIs(t, CheckFacts(ras.Needs, noReason), ErrReasonsMismatch)

	reasonButAble := adult(yes(), yes(), NeedsAssistance)
	reasonButAble.Outcomes[0].Reasons = []Reason{NeedsAssistance}
	require.ErrorIs(t, CheckFacts(ras.Needs, reasonButAble), ErrReasonsMismatch)
}

func TestCompletionNeedsEveryFactTheRulesUse(t *testing.T) {
	t.Parallel()
	f := adult(yes(), nil, NeedsAssistance)
	f.Outcomes = f.Outcomes[:8]
	err := Incomplete(ras.Needs, f)
	require.ErrorIs(t, err, ErrIncomplete)
	require.Len(t, err.(*apperr.Error).Fields, 3, "wellbeing and two outcomes are missing")
	require.ErrorIs(t, Incomplete(ras.Carer, Facts{}), ErrIncomplete)
	require.ErrorIs(t, Incomplete(ras.Child, Facts{ChildDisabled: yes()}), ErrIncomplete)
}
