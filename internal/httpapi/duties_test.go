package httpapi_test

import (
	"encoding/json"
	"net/http"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/pbudget/pbudget/api"
	"github.com/pbudget/pbudget/internal/auth"
)

// TestTheSubmitterCannotSignOffTheirOwnPlan: segregation of duties, on by default. A user who
// holds both roles submits a plan; signing it off themselves is refused and changes nothing;
// another approver may. With the council's setting off, they may sign off what they submitted.
func TestTheSubmitterCannotSignOffTheirOwnPlan(t *testing.T) {
	t.Parallel()
	b := setup(t)
	b.activeRAS("needs", 72_800)
	b.rateTable("2025-04-06", 11_250)
	alice := b.reader("alice", "practitioner", "approver", "panel")
	approve := func(plan api.SupportPlan, tok, tag string) *resp {
		return b.do(http.MethodPost, "/v1/support-plans/"+plan.Id.String()+"/approve", tok,
			map[string]any{"checks": allChecks, "difference_reason": "the plan costs what the person chose"}, "If-Match", tag)
	}
	submit := func(plan api.SupportPlan, tok, tag string) string {
		r := b.do(http.MethodPost, "/v1/support-plans/"+plan.Id.String()+"/submit", tok, nil, "If-Match", tag)
		require.Equal(t, http.StatusOK, r.Status, string(r.Body))
		var sp api.SupportPlan
		r.decode(t, &sp)
		require.Equal(t, "alice", sp.SubmittedBy.MustGet(), "the plan names its submitter")
		return r.Header.Get("ETag")
	}

	_, pb := b.pricedBudget()
	plan, tag := b.planWith(pb, lineBody("home_care", "council_managed", 2_500, "5", pb))
	tag = submit(plan, alice, tag)
	before := b.counts()
	r := approve(plan, alice, tag)
	require.Equal(t, http.StatusUnprocessableEntity, r.Status, string(r.Body))
	require.Equal(t, "urn:pbudget:problem:approver-is-submitter", r.problem(t).Type)
	require.Equal(t, before, b.counts(), "a refused sign-off changes nothing")
	r = approve(plan, b.token("approver"), tag)
	require.Equal(t, http.StatusOK, r.Status, string(r.Body))

	// Above the delegated limit the panel signs off: the same rule holds for the panel.
	admin := b.token("council_admin")
	r = b.do(http.MethodPatch, "/v1/council/settings", admin, map[string]any{"approver_limit_annual_pence": 100_000}, "If-Match", `"1"`)
	require.Equal(t, http.StatusOK, r.Status, string(r.Body))
	var st api.CouncilSettings
	r.decode(t, &st)
	require.True(t, st.ApproverMustDifferFromSubmitter, "on by default")
	_, pb2 := b.pricedBudget()
	big, tag := b.planWith(pb2, lineBody("home_care", "council_managed", 2_500, "5", pb2))
	tag = submit(big, alice, tag)
	r = approve(big, alice, tag)
	require.Equal(t, "urn:pbudget:problem:approver-is-submitter", r.problem(t).Type, "alice holds the panel role too")
	r = approve(big, b.token("panel"), tag)
	require.Equal(t, http.StatusOK, r.Status, string(r.Body))

	// Returned and resubmitted by someone else, the plan is no longer alice's submission.
	_, pb3 := b.pricedBudget()
	third, tag := b.planWith(pb3, lineBody("home_care", "council_managed", 2_500, "5", pb3))
	tag = submit(third, alice, tag)
	r = b.do(http.MethodPost, "/v1/support-plans/"+third.Id.String()+"/return", b.token("approver"), map[string]any{"reason": "add a contingency"}, "If-Match", tag)
	require.Equal(t, http.StatusOK, r.Status, string(r.Body))
	var returned api.SupportPlan
	r.decode(t, &returned)
	require.True(t, returned.SubmittedBy.IsNull(), "a returned plan is a draft again")
	tag = b.submit(third, r.Header.Get("ETag"))
	r = approve(third, alice, tag)
	require.Equal(t, http.StatusOK, r.Status, string(r.Body))

	// The council may turn the rule off (audited); then alice signs off her own submission.
	r = b.do(http.MethodPatch, "/v1/council/settings", admin, map[string]any{"approver_must_differ_from_submitter": false}, "If-Match", `"2"`)
	require.Equal(t, http.StatusOK, r.Status, string(r.Body))
	r.decode(t, &st)
	require.False(t, st.ApproverMustDifferFromSubmitter)
	_, pb4 := b.pricedBudget()
	own, tag := b.planWith(pb4, lineBody("home_care", "council_managed", 2_500, "5", pb4))
	tag = submit(own, alice, tag)
	r = approve(own, alice, tag)
	require.Equal(t, http.StatusOK, r.Status, string(r.Body))

	var events api.AuditEventList
	b.do(http.MethodGet, "/v1/audit-events?action=council_settings.updated", b.token("auditor"), nil).decode(t, &events)
	require.Len(t, events.Items, 2)
	require.Equal(t, []string{"approver_must_differ_from_submitter"}, events.Items[1].ChangedFields)
	b.do(http.MethodGet, "/v1/audit-events?action=support_plan.approved&entity_id="+own.Id.String(), b.token("auditor"), nil).decode(t, &events)
	require.Equal(t, false, events.Items[0].Details["approver_must_differ_from_submitter"], "the sign-off records the rule in force")
}

// TestTheRequesterCannotDecideTheirOwnFundingRequest: the panel route follows the same setting.
func TestTheRequesterCannotDecideTheirOwnFundingRequest(t *testing.T) {
	t.Parallel()
	b := setup(t)
	b.activeRAS("needs", 10_000)
	bob := b.reader("bob", "practitioner", "panel")
	ask := func() api.FundingRequest {
		p := b.newPerson(nil)
		as := b.assess(p.Id.String(), with(needsFacts("nutrition", "habitable_home"), "type", "needs", "ras_answers", map[string]string{"q1": "lots", "q2": "some"}), nil)
		r := b.do(http.MethodPost, "/v1/funding-requests", bob, map[string]any{"budget_id": as.BudgetId.MustGet(), "requested_annual_pence": 300_000, "reason": "nights"})
		require.Equal(t, http.StatusCreated, r.Status, string(r.Body))
		var fr api.FundingRequest
		r.decode(t, &fr)
		return fr
	}
	decide := func(fr api.FundingRequest, tok string) *resp {
		return b.do(http.MethodPost, "/v1/funding-requests/"+fr.Id.String()+"/decide", tok, map[string]any{"decision": "approve", "reason": "agreed"}, "If-Match", `"1"`)
	}
	fr := ask()
	before := b.counts()
	r := decide(fr, bob)
	require.Equal(t, http.StatusUnprocessableEntity, r.Status, string(r.Body))
	require.Equal(t, "urn:pbudget:problem:decider-is-requester", r.problem(t).Type)
	require.Equal(t, before, b.counts())
	require.Equal(t, http.StatusOK, decide(fr, b.token("panel")).Status)

	r = b.do(http.MethodPatch, "/v1/council/settings", b.token("council_admin"), map[string]any{"approver_must_differ_from_submitter": false}, "If-Match", `"1"`)
	require.Equal(t, http.StatusOK, r.Status, string(r.Body))
	require.Equal(t, http.StatusOK, decide(ask(), bob).Status, "with the setting off")
}

// TestProviderStaffSeeOnlyWhatTheirLinesNeed: the provider view of a budget carries their lines
// and their cost, never the financial assessment, the contribution or the budget's other
// amounts; the whole budget and financial assessments are out of their reach.
func TestProviderStaffSeeOnlyWhatTheirLinesNeed(t *testing.T) {
	t.Parallel()
	b := setup(t)
	b.activeRAS("needs", 72_800)
	b.rateTable("2025-04-06", 11_250)
	isf, agency := b.provider("isf_provider"), b.provider("care_agency")
	p, pb := b.pricedBudget()
	plan, tag := b.planWith(pb,
		lineBody("day_service", "isf", 7_500, "1", pb, "provider_id", isf.Id),
		lineBody("home_care", "council_managed", 2_500, "5", pb, "provider_id", agency.Id),
		lineBody("personal_assistant", "direct_payment", 1_500, "10", pb))
	b.approve(plan, b.submit(plan, tag))
	staff := b.tokenWith(auth.MintOptions{Council: b.council.Code, Subject: "isf-staff", Roles: []string{"provider"}, Provider: isf.Id.String()})

	r := b.do(http.MethodGet, "/v1/personal-budgets/"+pb.Id.String()+"/provider-view", staff, nil)
	require.Equal(t, http.StatusOK, r.Status, string(r.Body))
	require.NotEmpty(t, r.Header.Get("ETag"))
	var view api.ProviderBudget
	r.decode(t, &view)
	require.Equal(t, isf.Id, view.ProviderId)
	require.Equal(t, plan.Id, view.PlanId)
	require.Len(t, view.Lines, 1)
	require.Equal(t, isf.Id, view.Lines[0].ProviderId.MustGet())
	require.Equal(t, view.Lines[0].AnnualCostPence, view.AnnualCostPence, "the cost of their lines only")
	require.Equal(t, int64(390_000), view.AnnualCostPence, "£75 a week")
	var raw map[string]any
	require.NoError(t, json.Unmarshal(r.Body, &raw))
	for _, hidden := range []string{"current", "history", "person_weekly_pence", "person_annual_pence", "council_annual_pence",
		"financial_assessment_id", "calculation", "ceiling_annual_pence", "indicative_annual_pence"} {
		require.NotContains(t, raw, hidden)
	}

	require.Equal(t, http.StatusForbidden, b.do(http.MethodGet, "/v1/personal-budgets/"+pb.Id.String(), staff, nil).Status,
		"the whole budget is for council staff")
	var fas api.FinancialAssessmentList
	b.do(http.MethodGet, "/v1/people/"+p.Id.String()+"/financial-assessments", b.token("finance"), nil).decode(t, &fas)
	require.Len(t, fas.Items, 1)
	require.Equal(t, http.StatusNotFound, b.do(http.MethodGet, "/v1/financial-assessments/"+fas.Items[0].Id.String(), staff, nil).Status)
	require.Equal(t, http.StatusNotFound, b.do(http.MethodGet, "/v1/people/"+p.Id.String()+"/financial-assessments", staff, nil).Status)

	// The plan, to provider staff: their lines, totals of their lines without the person's share,
	// no ceiling.
	var seen api.SupportPlan
	r = b.do(http.MethodGet, "/v1/support-plans/"+plan.Id.String(), staff, nil)
	require.Equal(t, http.StatusOK, r.Status, string(r.Body))
	r.decode(t, &seen)
	require.Len(t, seen.Lines, 1)
	require.Equal(t, int64(390_000), seen.AnnualCostPence)
	require.True(t, seen.CeilingAnnualPence.IsNull())
	require.Len(t, seen.Totals, 1)
	require.True(t, seen.Totals[0].PersonAnnualPence.IsNull(), "no contribution shown to a provider")
	var whole api.SupportPlan
	b.do(http.MethodGet, "/v1/support-plans/"+plan.Id.String(), b.token("practitioner"), nil).decode(t, &whole)
	require.Len(t, whole.Totals, 3)
	require.False(t, whole.Totals[0].PersonAnnualPence.IsNull(), "council staff see the split")
	require.False(t, whole.CeilingAnnualPence.IsNull())

	// Another provider, or a budget they hold nothing in, is a 404.
	other := b.tokenWith(auth.MintOptions{Council: b.council.Code, Subject: "other-staff", Roles: []string{"provider"}, Provider: b.provider("day_service").Id.String()})
	require.Equal(t, http.StatusNotFound, b.do(http.MethodGet, "/v1/personal-budgets/"+pb.Id.String()+"/provider-view", other, nil).Status)
	require.Equal(t, http.StatusForbidden, b.do(http.MethodGet, "/v1/personal-budgets/"+pb.Id.String()+"/provider-view", b.token("practitioner"), nil).Status)
}

func TestAProviderTokenNeedsItsProvider(t *testing.T) {
	t.Parallel()
	b := setup(t)
	_, err := auth.Mint(b.key, auth.MintOptions{Council: b.council.Code, Subject: "s", Roles: []string{"provider"}, Issuer: issuer, Audience: audience})
	require.ErrorIs(t, err, auth.ErrProviderRequired, "refused at minting")
	_, err = auth.Mint(b.key, auth.MintOptions{Council: b.council.Code, Subject: "s", Roles: []string{"provider"}, Provider: "acme", Issuer: issuer, Audience: audience})
	require.Error(t, err, "a provider is a UUID")
}
