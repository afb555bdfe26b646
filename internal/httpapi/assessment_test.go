package httpapi_test

import (
	"context"
	"fmt"
	"net/http"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/pbudget/pbudget/api"
)

// questionnaire scores 0–25 points: q1 (0, 10, 20) and q2 (0, 5).
func questionnaire() map[string]any {
	return map[string]any{"domains": []any{
		map[string]any{"key": "care", "title": "Personal care", "questions": []any{
			map[string]any{"key": "q1", "text": "Washing and dressing", "options": []any{
				map[string]any{"key": "none", "label": "No help", "points": 0},
				map[string]any{"key": "some", "label": "Some help", "points": 10},
				map[string]any{"key": "lots", "label": "A lot of help", "points": 20}}}}},
		map[string]any{"key": "home", "title": "Home", "questions": []any{
			map[string]any{"key": "q2", "text": "Meals", "options": []any{
				map[string]any{"key": "none", "label": "No help", "points": 0},
				map[string]any{"key": "some", "label": "Some help", "points": 5}}}}},
	}}
}

// activeRAS creates and activates a points-model RAS version for an assessment type.
func (b *bundle) activeRAS(assessmentType string, pencePerPoint int64) api.RASVersion {
	b.t.Helper()
	admin := b.token("council_admin")
	r := b.do(http.MethodPost, "/v1/ras-versions", admin, map[string]any{
		"assessment_type": assessmentType, "name": "Test RAS", "questionnaire": questionnaire(),
		"model": map[string]any{"kind": "points", "pence_per_point": pencePerPoint},
	})
	require.Equal(b.t, http.StatusCreated, r.Status, string(r.Body))
	var v api.RASVersion
	r.decode(b.t, &v)
	r = b.do(http.MethodPost, "/v1/ras-versions/"+v.Id.String()+"/activate", admin, nil, "If-Match", r.Header.Get("ETag"))
	require.Equal(b.t, http.StatusOK, r.Status, string(r.Body))
	r.decode(b.t, &v)
	return v
}

// needsFacts records an adult who cannot achieve the listed outcomes because they need assistance.
func needsFacts(unable ...string) map[string]any {
	outcomes := []any{}
	for _, o := range []string{"nutrition", "personal_hygiene", "toilet_needs", "being_clothed", "home_safety",
		"habitable_home", "relationships", "work_training_education_volunteering", "community_facilities", "caring_for_child"} {
		rec := map[string]any{"outcome": o, "unable": false}
		for _, u := range unable {
			if u == o {
				rec = map[string]any{"outcome": o, "unable": true, "reasons": []string{"needs_assistance"}}
			}
		}
		outcomes = append(outcomes, rec)
	}
	return map[string]any{"impairment_or_illness": true, "significant_wellbeing_impact": true, "outcomes": outcomes}
}

// assess creates an assessment and completes it, returning the completed assessment.
func (b *bundle) assess(personID string, body, completion map[string]any) api.Assessment {
	b.t.Helper()
	tok := b.token("practitioner")
	r := b.do(http.MethodPost, "/v1/people/"+personID+"/assessments", tok, body)
	require.Equal(b.t, http.StatusCreated, r.Status, string(r.Body))
	var as api.Assessment
	r.decode(b.t, &as)
	if completion == nil {
		completion = map[string]any{}
	}
	r = b.do(http.MethodPost, "/v1/assessments/"+as.Id.String()+"/complete", tok, completion, "If-Match", r.Header.Get("ETag"))
	require.Equal(b.t, http.StatusOK, r.Status, string(r.Body))
	r.decode(b.t, &as)
	return as
}

func with(m map[string]any, kv ...any) map[string]any {
	out := map[string]any{}
	for k, v := range m {
		out[k] = v
	}
	for i := 0; i+1 < len(kv); i += 2 {
		out[kv[i].(string)] = kv[i+1]
	}
	return out
}

func (b *bundle) budget(id string) api.PersonalBudget {
	b.t.Helper()
	r := b.do(http.MethodGet, "/v1/personal-budgets/"+id, b.token("finance"), nil)
	require.Equal(b.t, http.StatusOK, r.Status, string(r.Body))
	var pb api.PersonalBudget
	r.decode(b.t, &pb)
	return pb
}

func TestJourneyFromPersonToPanelDecision(t *testing.T) {
	t.Parallel()
	b := setup(t)
	rasV := b.activeRAS("needs", 10_000) // £100 a point
	p := b.newPerson(nil)

	as := b.assess(p.Id.String(), with(needsFacts("nutrition", "personal_hygiene", "being_clothed"),
		"type", "needs", "ras_answers", map[string]string{"q1": "lots", "q2": "some"}), nil)
	el := as.Eligibility.MustGet()
	require.True(t, el.Eligible)
	require.ElementsMatch(t, []string{"nutrition", "personal_hygiene", "being_clothed"}, el.OutcomesCounted)
	require.Len(t, el.Conditions, 3)

	pb := b.budget(as.BudgetId.MustGet().String())
	require.Equal(t, api.BudgetStatus("indicative"), pb.Status)
	require.Equal(t, int64(250_000), pb.Current.IndicativeAnnualPence, "25 points × £100")
	require.Equal(t, int64(4_808), pb.Current.IndicativeWeeklyPence, "£2,500 ÷ 52 = £48.076… → £48.08")
	require.Equal(t, rasV.Id, pb.Current.RasVersionId.MustGet())
	require.Equal(t, 25, pb.Current.Points.MustGet())
	require.Equal(t, map[string]int{"care": 20, "home": 5}, pb.Current.PointsByDomain)
	require.NotEmpty(t, pb.Current.Calculation)

	// The practitioner asks the panel for more; the panel approves a different amount.
	r := b.do(http.MethodPost, "/v1/funding-requests", b.token("practitioner"), map[string]any{
		"budget_id": pb.Id, "requested_annual_pence": 400_000, "reason": "overnight support not scored by the RAS"})
	require.Equal(t, http.StatusCreated, r.Status, string(r.Body))
	var fr api.FundingRequest
	r.decode(t, &fr)
	require.Equal(t, api.FundingStatus("pending"), fr.Status)
	require.Equal(t, int64(250_000), fr.IndicativeAnnualPence)

	queue := b.do(http.MethodGet, "/v1/funding-requests?status=pending", b.token("panel"), nil)
	var q api.FundingRequestList
	queue.decode(t, &q)
	require.Len(t, q.Items, 1)
	require.Equal(t, 0, q.Items[0].DaysWaiting)

	r = b.do(http.MethodPost, "/v1/funding-requests/"+fr.Id.String()+"/decide", b.token("panel"),
		map[string]any{"decision": "approve_different", "approved_annual_pence": 350_000, "reason": "two nights, not three"},
		"If-Match", r.Header.Get("ETag"))
	require.Equal(t, http.StatusOK, r.Status, string(r.Body))
	r.decode(t, &fr)
	require.Equal(t, api.FundingStatus("approved"), fr.Status)
	require.Equal(t, int64(350_000), fr.ApprovedAnnualPence.MustGet())
	require.Equal(t, 0, fr.DaysToDecision.MustGet())

	pb = b.budget(pb.Id.String())
	require.Len(t, pb.History, 2)
	require.Equal(t, int64(250_000), pb.Current.IndicativeAnnualPence, "the indicative figure is untouched")
	require.Equal(t, int64(350_000), pb.Current.CeilingAnnualPence, "the approved amount is the ceiling for planning")
	require.Equal(t, api.BudgetChange("ceiling_raised"), pb.Current.Change)
	require.Equal(t, fr.Id, pb.Current.FundingRequestId.MustGet())

	versions := b.do(http.MethodGet, "/v1/people/"+p.Id.String()+"/personal-budgets", b.token("auditor"), nil)
	var vl api.BudgetVersionList
	versions.decode(t, &vl)
	require.Len(t, vl.Items, 2)
	require.Equal(t, "funding panel: two nights, not three", vl.Items[1].Reason)

	// Every decision is in the audit trail, with the RAS version used.
	ev := b.do(http.MethodGet, "/v1/audit-events?entity_id="+as.Id.String()+"&action=assessment.completed", b.token("auditor"), nil)
	var events api.AuditEventList
	ev.decode(t, &events)
	require.Len(t, events.Items, 1)
	require.Equal(t, rasV.Id.String(), events.Items[0].Details["ras_version_id"])
	issued := b.do(http.MethodGet, "/v1/audit-events?entity_id="+pb.Id.String(), b.token("auditor"), nil)
	issued.decode(t, &events)
	require.Equal(t, []string{"personal_budget.issued", "personal_budget.ceiling_raised"}, []string{events.Items[0].Action, events.Items[1].Action})
	require.Equal(t, rasV.Id.String(), events.Items[0].Details["ras_version_id"])
	decided := b.do(http.MethodGet, "/v1/audit-events?entity_id="+fr.Id.String()+"&action=funding_request.decided", b.token("auditor"), nil)
	decided.decode(t, &events)
	require.Equal(t, "two nights, not three", events.Items[0].Reason.MustGet())
}

func TestCompletionExplainsIneligibilityAndIssuesNoBudget(t *testing.T) {
	t.Parallel()
	b := setup(t)
	b.activeRAS("needs", 10_000)
	p := b.newPerson(nil)
	as := b.assess(p.Id.String(), with(needsFacts("nutrition"), "type", "needs", "ras_answers", map[string]string{"q1": "lots", "q2": "some"}), nil)
	el := as.Eligibility.MustGet()
	require.False(t, el.Eligible)
	require.Contains(t, el.Summary, "outcomes_unachievable")
	require.True(t, as.BudgetId.IsNull())
	require.Contains(t, *as.NoBudgetReason, "not eligible")
}

func TestOverridingEligibilityNeedsAReasonAndIsKeptBesideTheComputedResult(t *testing.T) {
	t.Parallel()
	b := setup(t)
	p := b.newPerson(nil)
	tok := b.token("practitioner")
	r := b.do(http.MethodPost, "/v1/people/"+p.Id.String()+"/assessments", tok, with(needsFacts("nutrition"), "type", "needs"))
	var as api.Assessment
	r.decode(t, &as)
	path := "/v1/assessments/" + as.Id.String() + "/complete"

	noReason := b.do(http.MethodPost, path, tok, map[string]any{"override": map[string]any{"eligible": true}}, "If-Match", `"1"`)
	require.Equal(t, http.StatusBadRequest, noReason.Status)
	agrees := b.do(http.MethodPost, path, tok, map[string]any{"override": map[string]any{"eligible": false, "reason": "x"}}, "If-Match", `"1"`)
	require.Equal(t, http.StatusUnprocessableEntity, agrees.Status)
	require.Equal(t, "urn:pbudget:problem:override-agrees-with-computed", agrees.problem(t).Type)

	done := b.do(http.MethodPost, path, tok, map[string]any{"override": map[string]any{"eligible": true, "reason": "fluctuating needs seen over six weeks"}}, "If-Match", `"1"`)
	require.Equal(t, http.StatusOK, done.Status, string(done.Body))
	done.decode(t, &as)
	el := as.Eligibility.MustGet()
	require.True(t, el.Eligible)
	require.False(t, el.ComputedEligible)
	require.True(t, el.Overridden)
	require.Equal(t, "fluctuating needs seen over six weeks", *el.OverrideReason)

	ev := b.do(http.MethodGet, "/v1/audit-events?entity_id="+as.Id.String()+"&action=assessment.completed", b.token("auditor"), nil)
	var events api.AuditEventList
	ev.decode(t, &events)
	require.Equal(t, "fluctuating needs seen over six weeks", events.Items[0].Reason.MustGet())
	require.Equal(t, true, events.Items[0].Details["overridden"])
	require.Equal(t, false, events.Items[0].Details["computed_eligible"])
}

func TestCarerAssessmentRefusesTakingSignificantlyLonger(t *testing.T) {
	t.Parallel()
	b := setup(t)
	carer, cared := b.newPerson(nil), b.newPerson(nil)
	tok := b.token("practitioner")
	before := b.counts()
	r := b.do(http.MethodPost, "/v1/people/"+carer.Id.String()+"/assessments", tok, map[string]any{
		"type": "carer", "cared_for_person_id": cared.Id,
		"carer_outcomes": []any{map[string]any{"outcome": "nutrition", "unable": true, "reasons": []string{"takes_significantly_longer"}}},
	})
	require.Equal(t, http.StatusUnprocessableEntity, r.Status)
	prob := r.problem(t)
	require.Equal(t, "urn:pbudget:problem:carer-reason-not-allowed", prob.Type)
	require.Equal(t, "/carer_outcomes/0/reasons", (*prob.Errors)[0].Field)
	require.Equal(t, before, b.counts())
}

// carerOutcomesAchieved records every one of the eight carer outcomes as achievable.
func carerOutcomesAchieved() []any {
	outcomes := []any{}
	for _, o := range []string{"caring_for_child", "caring_for_others", "habitable_home", "nutrition", "relationships",
		"work_training_education_volunteering", "community_facilities", "recreational_activities"} {
		outcomes = append(outcomes, map[string]any{"outcome": o, "unable": false})
	}
	return outcomes
}

func TestCarerEligibleThroughHealthAtRiskGetsACarerBudget(t *testing.T) {
	t.Parallel()
	b := setup(t)
	b.activeRAS("carer", 2_000)
	carer, cared := b.newPerson(nil), b.newPerson(nil)
	outcomes := carerOutcomesAchieved()
	as := b.assess(carer.Id.String(), map[string]any{
		"type": "carer", "cared_for_person_id": cared.Id, "provides_necessary_care": true, "carer_health_at_risk": true,
		"significant_wellbeing_impact": true, "carer_outcomes": outcomes, "ras_answers": map[string]string{"q1": "some", "q2": "none"},
	}, nil)
	require.True(t, as.Eligibility.MustGet().Eligible)
	pb := b.budget(as.BudgetId.MustGet().String())
	require.Equal(t, api.BudgetKind("carer"), pb.Kind)
	require.Equal(t, int64(20_000), pb.Current.IndicativeAnnualPence)
}

func TestAssessmentTypeMustFitThePerson(t *testing.T) {
	t.Parallel()
	b := setup(t)
	child := b.newPerson(map[string]any{"date_of_birth": "2016-02-01", "person_type": "child"})
	adult := b.newPerson(nil)
	tok := b.token("practitioner")
	r := b.do(http.MethodPost, "/v1/people/"+child.Id.String()+"/assessments", tok, map[string]any{"type": "needs"})
	require.Equal(t, "urn:pbudget:problem:assessment-type-for-person", r.problem(t).Type)
	r = b.do(http.MethodPost, "/v1/people/"+adult.Id.String()+"/assessments", tok, map[string]any{"type": "child"})
	require.Equal(t, "urn:pbudget:problem:assessment-type-for-person", r.problem(t).Type)
	r = b.do(http.MethodPost, "/v1/people/"+adult.Id.String()+"/assessments", tok, map[string]any{"type": "needs", "child_disabled": true})
	require.Equal(t, "urn:pbudget:problem:field-not-for-assessment-type", r.problem(t).Type)
	r = b.do(http.MethodPost, "/v1/people/"+adult.Id.String()+"/assessments", tok, map[string]any{"type": "needs", "shoe_size": 9})
	require.Equal(t, http.StatusBadRequest, r.Status, "unknown fields are refused")

	as := b.assess(child.Id.String(), map[string]any{"type": "child", "child_unlikely_to_achieve_reasonable_standard": false,
		"child_development_significantly_impaired": false, "child_disabled": true}, nil)
	require.True(t, as.Eligibility.MustGet().Eligible)
	require.Contains(t, as.Eligibility.MustGet().Rule, "Children Act 1989")
}

func TestCompletedAssessmentsAreImmutable(t *testing.T) {
	t.Parallel()
	b := setup(t)
	p := b.newPerson(nil)
	as := b.assess(p.Id.String(), with(needsFacts("nutrition", "toilet_needs"), "type", "needs"), nil)
	require.Contains(t, *as.NoBudgetReason, "no RAS answers")
	etag := fmt.Sprintf(`"%d"`, as.Version)
	tok := b.token("practitioner")
	for _, call := range []struct {
		method, path string
		body         any
	}{
		{http.MethodPatch, "/v1/assessments/" + as.Id.String(), map[string]any{"notes": "changed"}},
		{http.MethodPost, "/v1/assessments/" + as.Id.String() + "/complete", map[string]any{}},
		{http.MethodPost, "/v1/assessments/" + as.Id.String() + "/cancel", map[string]any{"reason": "x"}},
	} {
		r := b.do(call.method, call.path, tok, call.body, "If-Match", etag)
		require.Equal(t, http.StatusConflict, r.Status, call.path)
		require.Equal(t, "urn:pbudget:problem:assessment-not-draft", r.problem(t).Type)
	}
}

func TestIncompleteAssessmentCannotBeCompleted(t *testing.T) {
	t.Parallel()
	b := setup(t)
	p := b.newPerson(nil)
	tok := b.token("practitioner")
	r := b.do(http.MethodPost, "/v1/people/"+p.Id.String()+"/assessments", tok, map[string]any{"type": "needs", "impairment_or_illness": true})
	var as api.Assessment
	r.decode(t, &as)
	before := b.counts()
	r = b.do(http.MethodPost, "/v1/assessments/"+as.Id.String()+"/complete", tok, map[string]any{}, "If-Match", `"1"`)
	require.Equal(t, http.StatusUnprocessableEntity, r.Status)
	require.Equal(t, "urn:pbudget:problem:assessment-incomplete", r.problem(t).Type)
	require.Len(t, *r.problem(t).Errors, 11, "wellbeing and the ten outcomes")
	require.Equal(t, before, b.counts())

	// Drafts are edited with If-Match, then completed.
	r = b.do(http.MethodPatch, "/v1/assessments/"+as.Id.String(), tok, needsFacts("nutrition", "habitable_home"), "If-Match", `"1"`)
	require.Equal(t, http.StatusOK, r.Status, string(r.Body))
	r = b.do(http.MethodPost, "/v1/assessments/"+as.Id.String()+"/complete", tok, map[string]any{}, "If-Match", `"2"`)
	require.Equal(t, http.StatusOK, r.Status)
}

func TestRASAnswersWithoutAnActiveVersionOrThatDoNotFitAreRefused(t *testing.T) {
	t.Parallel()
	b := setup(t)
	p := b.newPerson(nil)
	tok := b.token("practitioner")
	body := with(needsFacts("nutrition", "habitable_home"), "type", "needs", "ras_answers", map[string]string{"q1": "lots", "q2": "some"})
	r := b.do(http.MethodPost, "/v1/people/"+p.Id.String()+"/assessments", tok, body)
	var as api.Assessment
	r.decode(t, &as)
	r = b.do(http.MethodPost, "/v1/assessments/"+as.Id.String()+"/complete", tok, map[string]any{}, "If-Match", `"1"`)
	require.Equal(t, "urn:pbudget:problem:no-active-ras-version", r.problem(t).Type)

	b.activeRAS("needs", 10_000)
	r = b.do(http.MethodPatch, "/v1/assessments/"+as.Id.String(), tok, map[string]any{"ras_answers": map[string]string{"q1": "plenty"}}, "If-Match", `"1"`)
	require.Equal(t, http.StatusOK, r.Status)
	r = b.do(http.MethodPost, "/v1/assessments/"+as.Id.String()+"/complete", tok, map[string]any{}, "If-Match", `"2"`)
	require.Equal(t, http.StatusUnprocessableEntity, r.Status)
	require.Equal(t, "urn:pbudget:problem:ras-answers-invalid", r.problem(t).Type)
}

func TestRASVersionLifeCycle(t *testing.T) {
	t.Parallel()
	b := setup(t)
	admin := b.token("council_admin")
	first := b.activeRAS("needs", 10_000)
	require.Equal(t, 1, first.Number)
	require.Equal(t, 25, first.MaxPoints)

	// An active version is immutable.
	r := b.do(http.MethodPatch, "/v1/ras-versions/"+first.Id.String(), admin, map[string]any{"name": "edited"}, "If-Match", fmt.Sprintf(`"%d"`, first.Version))
	require.Equal(t, http.StatusConflict, r.Status)
	require.Equal(t, "urn:pbudget:problem:ras-version-not-draft", r.problem(t).Type)
	_, err := b.db.SQL().ExecContext(context.Background(), `UPDATE ras_versions SET model = '{}' WHERE council_id = $1 AND id = $2`, b.council.ID, first.Id)
	require.ErrorContains(t, err, "immutable", "the database refuses it too")

	// A person assessed under version 1 keeps that figure after version 2 is activated.
	p := b.newPerson(nil)
	answers := map[string]string{"q1": "some", "q2": "some"}
	as1 := b.assess(p.Id.String(), with(needsFacts("nutrition", "habitable_home"), "type", "needs", "ras_answers", answers), nil)
	second := b.activeRAS("needs", 20_000)
	require.Equal(t, 2, second.Number)
	r = b.do(http.MethodGet, "/v1/ras-versions/"+first.Id.String(), admin, nil)
	r.decode(t, &first)
	require.Equal(t, api.RASStatus("retired"), first.Status)

	pb1 := b.budget(as1.BudgetId.MustGet().String())
	require.Equal(t, int64(150_000), pb1.Current.IndicativeAnnualPence, "15 points × £100 under version 1")
	require.Equal(t, 1, pb1.Current.RasVersionNumber.MustGet())

	q := b.newPerson(nil)
	as2 := b.assess(q.Id.String(), with(needsFacts("nutrition", "habitable_home"), "type", "needs", "ras_answers", answers), nil)
	pb2 := b.budget(as2.BudgetId.MustGet().String())
	require.Equal(t, int64(300_000), pb2.Current.IndicativeAnnualPence, "the same answers: 15 points × £200 under version 2")

	// Drafts can be changed; bad definitions are refused; retiring leaves no version in force.
	r = b.do(http.MethodPost, "/v1/ras-versions", admin, map[string]any{
		"assessment_type": "needs", "name": "Bands", "questionnaire": questionnaire(),
		"model": map[string]any{"kind": "bands", "bands": []any{map[string]any{"min_points": 0, "max_points": 20, "annual_pence": 0}}},
	})
	require.Equal(t, http.StatusUnprocessableEntity, r.Status)
	require.Equal(t, "urn:pbudget:problem:ras-definition-invalid", r.problem(t).Type)
	r = b.do(http.MethodPost, "/v1/ras-versions/"+second.Id.String()+"/retire", admin, nil, "If-Match", fmt.Sprintf(`"%d"`, second.Version))
	require.Equal(t, http.StatusOK, r.Status)
	list := b.do(http.MethodGet, "/v1/ras-versions?assessment_type=needs&status=active", b.token("practitioner"), nil)
	var l api.RASVersionList
	list.decode(t, &l)
	require.Empty(t, l.Items)
}

func TestReducingABudgetNeedsAReassessmentWithAReason(t *testing.T) {
	t.Parallel()
	b := setup(t)
	b.activeRAS("needs", 10_000)
	p := b.newPerson(nil)
	high := map[string]string{"q1": "lots", "q2": "some"}
	low := map[string]string{"q1": "some", "q2": "none"}
	first := b.assess(p.Id.String(), with(needsFacts("nutrition", "habitable_home"), "type", "needs", "ras_answers", high), nil)
	budgetID := first.BudgetId.MustGet().String()
	tok := b.token("practitioner")

	// A new needs assessment may not lower the budget.
	r := b.do(http.MethodPost, "/v1/people/"+p.Id.String()+"/assessments", tok, with(needsFacts("nutrition", "habitable_home"), "type", "needs", "ras_answers", low))
	var second api.Assessment
	r.decode(t, &second)
	before := b.counts()
	r = b.do(http.MethodPost, "/v1/assessments/"+second.Id.String()+"/complete", tok, map[string]any{}, "If-Match", `"1"`)
	require.Equal(t, http.StatusUnprocessableEntity, r.Status)
	require.Equal(t, "urn:pbudget:problem:budget-reduction-needs-reassessment", r.problem(t).Type)
	require.Equal(t, before, b.counts(), "the failed completion left the draft and the budget as they were")

	// A reassessment may, with a reason.
	r = b.do(http.MethodPost, "/v1/people/"+p.Id.String()+"/assessments", tok, with(needsFacts("nutrition", "habitable_home"),
		"type", "reassessment", "reassesses_id", first.Id, "ras_answers", low))
	require.Equal(t, http.StatusCreated, r.Status, string(r.Body))
	var re api.Assessment
	r.decode(t, &re)
	require.Equal(t, api.AssessmentBasis("needs"), re.Basis)
	r = b.do(http.MethodPost, "/v1/assessments/"+re.Id.String()+"/complete", tok, map[string]any{}, "If-Match", `"1"`)
	require.Equal(t, "urn:pbudget:problem:budget-reduction-needs-reason", r.problem(t).Type)
	r = b.do(http.MethodPost, "/v1/assessments/"+re.Id.String()+"/complete", tok, map[string]any{"change_reason": "recovered mobility after surgery"}, "If-Match", `"1"`)
	require.Equal(t, http.StatusOK, r.Status, string(r.Body))

	pb := b.budget(budgetID)
	require.Len(t, pb.History, 2)
	require.Equal(t, int64(250_000), pb.History[0].IndicativeAnnualPence, "the first indicative figure is kept as it was issued")
	require.Equal(t, int64(100_000), pb.Current.IndicativeAnnualPence)
	require.Equal(t, api.BudgetChange("reassessed"), pb.Current.Change)
	require.Equal(t, "recovered mobility after surgery", pb.Current.Reason)

	vr := b.do(http.MethodGet, "/v1/people/"+p.Id.String()+"/personal-budgets", tok, nil)
	var versions api.BudgetVersionList
	vr.decode(t, &versions)
	require.Equal(t, []string{"indicative budget from a completed assessment", "recovered mobility after surgery"},
		[]string{versions.Items[0].Reason, versions.Items[1].Reason})

	_, err := b.db.SQL().ExecContext(context.Background(), `UPDATE personal_budget_versions SET indicative_annual_pence = 1 WHERE council_id = $1`, b.council.ID)
	require.ErrorContains(t, err, "permission denied for table personal_budget_versions", "issued versions cannot be rewritten by the service")
	_, err = ownerDB(t).ExecContext(context.Background(), `UPDATE personal_budget_versions SET indicative_annual_pence = 1 WHERE council_id = $1`, b.council.ID)
	require.ErrorContains(t, err, "append-only", "nor by the owner while the trigger stands")
}

func TestAReassessmentThatFindsNoEligibilityEndsTheBudget(t *testing.T) {
	t.Parallel()
	b := setup(t)
	b.activeRAS("needs", 10_000)
	p := b.newPerson(nil)
	first := b.assess(p.Id.String(), with(needsFacts("nutrition", "habitable_home"), "type", "needs", "ras_answers", map[string]string{"q1": "lots", "q2": "some"}), nil)
	re := b.assess(p.Id.String(), with(needsFacts("nutrition"), "type", "reassessment", "reassesses_id", first.Id),
		map[string]any{"change_reason": "needs met by reablement"})
	require.False(t, re.Eligibility.MustGet().Eligible)
	pb := b.budget(first.BudgetId.MustGet().String())
	require.Equal(t, api.BudgetStatus("ended"), pb.Status)
	require.Equal(t, "needs met by reablement", pb.Current.Reason)
	require.False(t, pb.EndDate.IsNull())
}

func TestFundingPanelRules(t *testing.T) {
	t.Parallel()
	b := setup(t)
	b.activeRAS("needs", 10_000)
	p := b.newPerson(nil)
	as := b.assess(p.Id.String(), with(needsFacts("nutrition", "habitable_home"), "type", "needs", "ras_answers", map[string]string{"q1": "lots", "q2": "some"}), nil)
	budgetID := as.BudgetId.MustGet()
	tok := b.token("practitioner")

	notAbove := b.do(http.MethodPost, "/v1/funding-requests", tok, map[string]any{"budget_id": budgetID, "requested_annual_pence": 250_000, "reason": "x"})
	require.Equal(t, "urn:pbudget:problem:request-not-above-ceiling", notAbove.problem(t).Type)
	foreign := b.do(http.MethodPost, "/v1/funding-requests", b.otherToken("practitioner"), map[string]any{"budget_id": budgetID, "requested_annual_pence": 300_000, "reason": "x"})
	require.Equal(t, "urn:pbudget:problem:budget-not-found", foreign.problem(t).Type)

	r := b.do(http.MethodPost, "/v1/funding-requests", tok, map[string]any{"budget_id": budgetID, "requested_annual_pence": 250_001, "reason": "a penny more"})
	require.Equal(t, http.StatusCreated, r.Status)
	var fr api.FundingRequest
	r.decode(t, &fr)
	dup := b.do(http.MethodPost, "/v1/funding-requests", tok, map[string]any{"budget_id": budgetID, "requested_annual_pence": 300_000, "reason": "again"})
	require.Equal(t, http.StatusConflict, dup.Status)
	require.Equal(t, "urn:pbudget:problem:funding-request-pending", dup.problem(t).Type)

	decide := "/v1/funding-requests/" + fr.Id.String() + "/decide"
	practitioner := b.do(http.MethodPost, decide, tok, map[string]any{"decision": "approve", "reason": "x"}, "If-Match", `"1"`)
	require.Equal(t, http.StatusForbidden, practitioner.Status, "a practitioner cannot decide")
	panel := b.token("panel")
	for _, bad := range []struct {
		body map[string]any
		want string
	}{
		{map[string]any{"decision": "approve_different", "reason": "x"}, "approved-amount-required"},
		{map[string]any{"decision": "approve_different", "approved_annual_pence": 250_000, "reason": "x"}, "approved-not-above-indicative"},
		{map[string]any{"decision": "decline", "approved_annual_pence": 300_000, "reason": "x"}, "approved-amount-not-allowed"},
	} {
		r := b.do(http.MethodPost, decide, panel, bad.body, "If-Match", `"1"`)
		require.Equal(t, "urn:pbudget:problem:"+bad.want, r.problem(t).Type)
	}
	r = b.do(http.MethodPost, decide, panel, map[string]any{"decision": "decline", "reason": "needs are met within the indicative budget"}, "If-Match", `"1"`)
	require.Equal(t, http.StatusOK, r.Status)
	r.decode(t, &fr)
	require.Equal(t, api.FundingStatus("declined"), fr.Status)
	require.True(t, fr.ApprovedAnnualPence.IsNull())
	again := b.do(http.MethodPost, decide, panel, map[string]any{"decision": "approve", "reason": "x"}, "If-Match", `"2"`)
	require.Equal(t, "urn:pbudget:problem:funding-request-decided", again.problem(t).Type)
	require.Len(t, b.budget(budgetID.String()).History, 1, "a decline changes no budget")
}

func TestWorkListsFilterByStatusAndPractitionerAndStayInTheCouncil(t *testing.T) {
	t.Parallel()
	b := setup(t)
	p := b.newPerson(nil)
	tok := b.token("practitioner")
	for _, who := range []string{"alice", "bob", "alice"} {
		r := b.do(http.MethodPost, "/v1/people/"+p.Id.String()+"/assessments", tok, map[string]any{"type": "needs", "practitioner": who})
		require.Equal(t, http.StatusCreated, r.Status)
	}
	r := b.do(http.MethodGet, "/v1/assessments?status=draft&practitioner=alice", b.token("approver"), nil)
	var l api.AssessmentList
	r.decode(t, &l)
	require.Len(t, l.Items, 2)
	require.True(t, l.Items[0].CreatedAt.Before(l.Items[1].CreatedAt) || l.Items[0].CreatedAt.Equal(l.Items[1].CreatedAt))

	r = b.do(http.MethodGet, "/v1/people/"+p.Id.String()+"/assessments", tok, nil)
	r.decode(t, &l)
	require.Len(t, l.Items, 3)

	other := b.do(http.MethodGet, "/v1/assessments", b.otherToken("practitioner"), nil)
	other.decode(t, &l)
	require.Empty(t, l.Items)
	require.Equal(t, http.StatusNotFound, b.do(http.MethodGet, "/v1/people/"+p.Id.String()+"/assessments", b.otherToken("practitioner"), nil).Status)
}

func TestAnotherCouncilCannotSeeAssessmentsBudgetsRASOrFunding(t *testing.T) {
	t.Parallel()
	b := setup(t)
	rasV := b.activeRAS("needs", 10_000)
	p := b.newPerson(nil)
	as := b.assess(p.Id.String(), with(needsFacts("nutrition", "habitable_home"), "type", "needs", "ras_answers", map[string]string{"q1": "lots", "q2": "some"}), nil)
	r := b.do(http.MethodPost, "/v1/funding-requests", b.token("practitioner"), map[string]any{"budget_id": as.BudgetId.MustGet(), "requested_annual_pence": 300_000, "reason": "x"})
	var fr api.FundingRequest
	r.decode(t, &fr)
	other := b.otherToken("practitioner", "panel", "council_admin", "auditor")
	for _, path := range []string{
		"/v1/assessments/" + as.Id.String(),
		"/v1/personal-budgets/" + as.BudgetId.MustGet().String(),
		"/v1/ras-versions/" + rasV.Id.String(),
		"/v1/funding-requests/" + fr.Id.String(),
		"/v1/people/" + p.Id.String() + "/personal-budgets",
	} {
		require.Equal(t, http.StatusNotFound, b.do(http.MethodGet, path, other, nil).Status, path)
	}
	decide := b.do(http.MethodPost, "/v1/funding-requests/"+fr.Id.String()+"/decide", other, map[string]any{"decision": "approve", "reason": "x"}, "If-Match", `"1"`)
	require.Equal(t, http.StatusNotFound, decide.Status)
	complete := b.do(http.MethodPost, "/v1/assessments/"+as.Id.String()+"/complete", other, map[string]any{}, "If-Match", `"1"`)
	require.Equal(t, http.StatusNotFound, complete.Status)
	var l api.PersonalBudgetList
	b.do(http.MethodGet, "/v1/personal-budgets", other, nil).decode(t, &l)
	require.Empty(t, l.Items)
}

func TestOnlyCouncilAdminsManageRASVersions(t *testing.T) {
	t.Parallel()
	b := setup(t)
	r := b.do(http.MethodPost, "/v1/ras-versions", b.token("practitioner", "panel"), map[string]any{
		"assessment_type": "needs", "name": "x", "questionnaire": questionnaire(), "model": map[string]any{"kind": "points", "pence_per_point": 1}})
	require.Equal(t, http.StatusForbidden, r.Status)
	require.Equal(t, http.StatusOK, b.do(http.MethodGet, "/v1/ras-versions", b.token("practitioner"), nil).Status)
}

func TestTheCeilingNeverFallsWithoutAReassessment(t *testing.T) {
	t.Parallel()
	b := setup(t)
	b.activeRAS("needs", 10_000)
	p := b.newPerson(nil)
	as := b.assess(p.Id.String(), with(needsFacts("nutrition", "habitable_home"), "type", "needs", "ras_answers", map[string]string{"q1": "lots", "q2": "some"}), nil)
	budgetID := as.BudgetId.MustGet()
	tok, panel := b.token("practitioner"), b.token("panel")

	r := b.do(http.MethodPost, "/v1/funding-requests", tok, map[string]any{"budget_id": budgetID, "requested_annual_pence": 500_000, "reason": "first"})
	var fr api.FundingRequest
	r.decode(t, &fr)
	r = b.do(http.MethodPost, "/v1/funding-requests/"+fr.Id.String()+"/decide", panel, map[string]any{"decision": "approve", "reason": "agreed"}, "If-Match", `"1"`)
	require.Equal(t, http.StatusOK, r.Status)
	require.Equal(t, int64(500_000), b.budget(budgetID.String()).Current.CeilingAnnualPence, "a plain approval gives what was asked")
	require.Equal(t, api.BudgetStatus("indicative"), b.budget(budgetID.String()).Status)

	lower := b.do(http.MethodPost, "/v1/funding-requests", tok, map[string]any{"budget_id": budgetID, "requested_annual_pence": 300_000, "reason": "second"})
	require.Equal(t, http.StatusUnprocessableEntity, lower.Status)
	require.Equal(t, "urn:pbudget:problem:request-not-above-ceiling", lower.problem(t).Type)
}

func TestAPendingRequestLapsesWhenTheBudgetIsReassessed(t *testing.T) {
	t.Parallel()
	b := setup(t)
	b.activeRAS("needs", 10_000)
	p := b.newPerson(nil)
	first := b.assess(p.Id.String(), with(needsFacts("nutrition", "habitable_home"), "type", "needs", "ras_answers", map[string]string{"q1": "lots", "q2": "some"}), nil)
	r := b.do(http.MethodPost, "/v1/funding-requests", b.token("practitioner"), map[string]any{"budget_id": first.BudgetId.MustGet(), "requested_annual_pence": 400_000, "reason": "x"})
	var fr api.FundingRequest
	r.decode(t, &fr)
	b.assess(p.Id.String(), with(needsFacts("nutrition", "habitable_home"), "type", "reassessment", "reassesses_id", first.Id,
		"ras_answers", map[string]string{"q1": "some", "q2": "none"}), map[string]any{"change_reason": "improved"})
	r = b.do(http.MethodPost, "/v1/funding-requests/"+fr.Id.String()+"/decide", b.token("panel"), map[string]any{"decision": "approve", "reason": "x"}, "If-Match", `"1"`)
	require.Equal(t, http.StatusConflict, r.Status)
	require.Equal(t, "urn:pbudget:problem:budget-changed-since-request", r.problem(t).Type)
}

func TestBlankReasonsAreRefused(t *testing.T) {
	t.Parallel()
	b := setup(t)
	b.activeRAS("needs", 10_000)
	p := b.newPerson(nil)
	as := b.assess(p.Id.String(), with(needsFacts("nutrition", "habitable_home"), "type", "needs", "ras_answers", map[string]string{"q1": "lots", "q2": "some"}), nil)
	before := b.counts()
	r := b.do(http.MethodPost, "/v1/funding-requests", b.token("practitioner"), map[string]any{"budget_id": as.BudgetId.MustGet(), "requested_annual_pence": 400_000, "reason": "   "})
	require.Equal(t, http.StatusBadRequest, r.Status)
	require.Equal(t, before, b.counts())

	r = b.do(http.MethodPost, "/v1/people/"+p.Id.String()+"/assessments", b.token("practitioner"), with(needsFacts("nutrition"), "type", "needs"))
	var draft api.Assessment
	r.decode(t, &draft)
	r = b.do(http.MethodPost, "/v1/assessments/"+draft.Id.String()+"/complete", b.token("practitioner"),
		map[string]any{"override": map[string]any{"eligible": true, "reason": "  "}}, "If-Match", `"1"`)
	require.Equal(t, http.StatusBadRequest, r.Status, "an override needs a real reason")
}

func TestACarerCaresForAnAdult(t *testing.T) {
	t.Parallel()
	b := setup(t)
	parent := b.newPerson(nil)
	child := b.newPerson(map[string]any{"date_of_birth": "2017-01-01", "person_type": "child"})
	r := b.do(http.MethodPost, "/v1/people/"+parent.Id.String()+"/assessments", b.token("practitioner"), map[string]any{"type": "carer", "cared_for_person_id": child.Id})
	require.Equal(t, http.StatusUnprocessableEntity, r.Status)
	require.Equal(t, "urn:pbudget:problem:cared-for-person-invalid", r.problem(t).Type)
}

func TestConcurrentCompletionsForOnePersonTakeTurns(t *testing.T) {
	t.Parallel()
	b := setup(t)
	b.activeRAS("needs", 10_000)
	p := b.newPerson(nil)
	tok := b.token("practitioner")
	var ids []string
	for range 2 {
		r := b.do(http.MethodPost, "/v1/people/"+p.Id.String()+"/assessments", tok, with(needsFacts("nutrition", "habitable_home"),
			"type", "needs", "ras_answers", map[string]string{"q1": "lots", "q2": "some"}))
		var as api.Assessment
		r.decode(t, &as)
		ids = append(ids, as.Id.String())
	}
	statuses := make(chan int, 2)
	for _, id := range ids {
		go func() {
			r := b.do(http.MethodPost, "/v1/assessments/"+id+"/complete", tok, map[string]any{}, "If-Match", `"1"`)
			statuses <- r.Status
		}()
	}
	require.Equal(t, http.StatusOK, <-statuses)
	require.Equal(t, http.StatusOK, <-statuses)
	var l api.PersonalBudgetList
	b.do(http.MethodGet, "/v1/personal-budgets?person_id="+p.Id.String(), tok, nil).decode(t, &l)
	require.Len(t, l.Items, 1, "one budget")
	require.Len(t, l.Items[0].History, 2, "with a version from each completion")
}

func TestConcurrentActivationsLeaveOneVersionActive(t *testing.T) {
	t.Parallel()
	b := setup(t)
	admin := b.token("council_admin")
	var drafts []api.RASVersion
	for range 2 {
		r := b.do(http.MethodPost, "/v1/ras-versions", admin, map[string]any{"assessment_type": "needs", "name": "x",
			"questionnaire": questionnaire(), "model": map[string]any{"kind": "points", "pence_per_point": 100}})
		var v api.RASVersion
		r.decode(t, &v)
		drafts = append(drafts, v)
	}
	done := make(chan int, 2)
	for _, v := range drafts {
		go func() {
			r := b.do(http.MethodPost, "/v1/ras-versions/"+v.Id.String()+"/activate", admin, nil, "If-Match", `"1"`)
			if r.Status != http.StatusOK {
				t.Logf("activation: %d %s", r.Status, r.Body)
			}
			done <- r.Status
		}()
	}
	require.Equal(t, http.StatusOK, <-done)
	require.Equal(t, http.StatusOK, <-done)
	var l api.RASVersionList
	b.do(http.MethodGet, "/v1/ras-versions?status=active", admin, nil).decode(t, &l)
	require.Len(t, l.Items, 1)
}
