package httpapi_test

import (
	"fmt"
	"net/http"
	"strconv"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/pbudget/pbudget/api"
	"github.com/pbudget/pbudget/internal/auth"
)

var allChecks = map[string]any{
	"specific_and_personal": true, "clear_and_detailed": true, "legal": true, "person_in_control": true,
	"meets_assessed_needs": true, "risks_managed": true, "within_budget": true, "healthy_safe_well": true,
	"management_option_chosen": true, "contingency_plan": true,
}

func (b *bundle) provider(kind string) api.Provider {
	b.t.Helper()
	r := b.do(http.MethodPost, "/v1/providers", b.token("council_admin"), map[string]any{"name": kind + " Ltd", "type": kind, "contract_basis": "framework"})
	require.Equal(b.t, http.StatusCreated, r.Status, string(r.Body))
	var p api.Provider
	r.decode(b.t, &p)
	return p
}

// pricedBudget gives a new person (born 1995) an indicative budget of £18,200 a year and the
// worked example's financial assessment (£196.60 a week); it returns the person and budget.
func (b *bundle) pricedBudget() (api.Person, api.PersonalBudget) {
	b.t.Helper()
	p := b.newPerson(map[string]any{"date_of_birth": "1995-03-01"})
	id := b.budgetOf350(p.Id.String())
	b.financial(p.Id.String(), workedExample("2025-06-01"))
	return p, b.budget(id)
}

func lineBody(category, option string, unitCost int64, qty string, pb api.PersonalBudget, extra ...any) map[string]any {
	start := pb.StartDate.Time
	return with(map[string]any{
		"category": category, "description": category, "unit_cost_pence": unitCost, "unit": "hour", "quantity": qty,
		"frequency": "per_week", "start_date": start.Format("2006-01-02"), "end_date": start.AddDate(1, 0, 0).Format("2006-01-02"),
		"management_option": option, "meets_needs": []string{"personal_hygiene"},
	}, extra...)
}

// planWith creates a draft plan for the budget with the lines and returns it with its ETag.
func (b *bundle) planWith(pb api.PersonalBudget, lines ...map[string]any) (api.SupportPlan, string) {
	b.t.Helper()
	tok := b.token("practitioner")
	r := b.do(http.MethodPost, "/v1/personal-budgets/"+pb.Id.String()+"/support-plans", tok, map[string]any{
		"what_is_important": "staying at home with my cat", "staying_in_control": "my sister is the emergency contact",
		"outcomes": []any{map[string]any{"description": "wash and dress every morning", "assessed_needs": []string{"personal_hygiene"}}},
	})
	require.Equal(b.t, http.StatusCreated, r.Status, string(r.Body))
	var plan api.SupportPlan
	r.decode(b.t, &plan)
	tag := r.Header.Get("ETag")
	for _, l := range lines {
		r = b.do(http.MethodPost, "/v1/support-plans/"+plan.Id.String()+"/lines", tok, l, "If-Match", tag)
		require.Equal(b.t, http.StatusCreated, r.Status, string(r.Body))
		r.decode(b.t, &plan)
		tag = r.Header.Get("ETag")
	}
	return plan, tag
}

func (b *bundle) submit(plan api.SupportPlan, tag string) string {
	b.t.Helper()
	r := b.do(http.MethodPost, "/v1/support-plans/"+plan.Id.String()+"/submit", b.token("practitioner"), nil, "If-Match", tag)
	require.Equal(b.t, http.StatusOK, r.Status, string(r.Body))
	return r.Header.Get("ETag")
}

// approve signs a submitted plan off and returns its ETag.
func (b *bundle) approve(plan api.SupportPlan, tag string) string {
	b.t.Helper()
	r := b.do(http.MethodPost, "/v1/support-plans/"+plan.Id.String()+"/approve", b.token("approver"),
		map[string]any{"checks": allChecks, "difference_reason": "the plan costs what the person chose"}, "If-Match", tag)
	require.Equal(b.t, http.StatusOK, r.Status, string(r.Body))
	return r.Header.Get("ETag")
}

func TestJourneyToAnAgreedMixedBudget(t *testing.T) {
	t.Parallel()
	b := setup(t)
	b.activeRAS("needs", 72_800)
	b.rateTable("2025-04-06", 11_250)
	isf := b.provider("isf_provider")
	p, pb := b.pricedBudget()
	require.Equal(t, int64(19_660), pb.Current.PersonWeeklyPence.MustGet())

	plan, tag := b.planWith(pb,
		lineBody("personal_assistant", "direct_payment", 1_500, "10", pb),
		lineBody("home_care", "council_managed", 2_500, "5", pb),
		lineBody("day_service", "isf", 7_500, "1", pb, "provider_id", isf.Id),
	)
	require.Equal(t, int64(1_820_000), plan.AnnualCostPence)
	require.Equal(t, int64(35_000), plan.WeeklyCostPence)
	require.Equal(t, api.SupportPlanManagementMode("mixed"), plan.ManagementMode)
	require.Len(t, plan.Totals, 3)
	var annual, weekly, person, council int64
	for _, o := range plan.Totals {
		annual, weekly = annual+o.AnnualCostPence, weekly+o.WeeklyCostPence
		person, council = person+o.PersonWeeklyPence.MustGet(), council+o.CouncilWeeklyPence.MustGet()
		require.Equal(t, o.WeeklyCostPence, o.PersonWeeklyPence.MustGet()+o.CouncilWeeklyPence.MustGet())
	}
	require.Equal(t, plan.AnnualCostPence, annual, "options reconcile to the plan exactly")
	require.Equal(t, plan.WeeklyCostPence, weekly)
	require.Equal(t, int64(19_660), person, "the person's £196.60 is apportioned across the options")
	require.Equal(t, int64(15_340), council)
	require.Equal(t, int64(8_426), plan.Totals[0].PersonWeeklyPence.MustGet(), "direct payment: 780/1820 of £196.60, largest remainder")

	tag = b.submit(plan, tag)
	r := b.do(http.MethodPost, "/v1/support-plans/"+plan.Id.String()+"/approve", b.token("approver"), map[string]any{"checks": allChecks}, "If-Match", tag)
	require.Equal(t, http.StatusOK, r.Status, string(r.Body))
	r.decode(t, &plan)
	require.Equal(t, api.PlanStatus("approved"), plan.Status)
	require.True(t, plan.SignOffChecks.MustGet().ContingencyPlan)

	agreed := b.budget(pb.Id.String())
	require.Equal(t, api.BudgetStatus("agreed"), agreed.Status)
	v := agreed.Current
	require.Equal(t, api.BudgetChange("plan_agreed"), v.Change)
	require.Equal(t, int64(1_820_000), v.FinalAnnualPence.MustGet(), "the final budget is the signed-off plan's cost")
	require.Equal(t, plan.Id, v.PlanId.MustGet())
	require.Equal(t, int64(1_820_000), v.AnnualCostPence)
	require.Equal(t, int64(19_660), v.PersonWeeklyPence.MustGet())
	require.Equal(t, int64(15_340), v.CouncilWeeklyPence.MustGet())
	require.Equal(t, v.AnnualCostPence, v.PersonAnnualPence.MustGet()+v.CouncilAnnualPence.MustGet())

	// The direct-payment and ISF agreements follow the plan.
	r = b.do(http.MethodPost, "/v1/direct-payment-agreements", b.token("finance"), map[string]any{
		"plan_id": plan.Id, "recipient": "person", "account_type": "prepaid_card", "payment_basis": "net", "frequency": "four_weekly",
		"start_date":  pb.StartDate.Time.Format("2006-01-02"),
		"pa_evidence": map[string]any{"employers_liability_insurance_expiry": "2027-01-31", "dbs_check_date": "2026-10-01", "payroll_provider": "Payroll Co"}})
	require.Equal(t, http.StatusCreated, r.Status, string(r.Body))
	var dp api.DirectPaymentAgreement
	r.decode(t, &dp)
	require.Equal(t, plan.Totals[0].CouncilAnnualPence.MustGet(), dp.AnnualAmountPence, "net: the council's share of the direct-payment lines")
	require.Equal(t, (dp.AnnualAmountPence*2+13)/26, dp.AmountPerPaymentPence, "four-weekly: annual ÷ 13, rounded")
	require.True(t, dp.SignedDate.IsNull())

	r = b.do(http.MethodPost, "/v1/isf-agreements", b.token("finance"), map[string]any{
		"plan_id": plan.Id, "provider_id": isf.Id, "payment_frequency": "four_weekly", "statement_frequency": "monthly",
		"start_date": pb.StartDate.Time.Format("2006-01-02")})
	require.Equal(t, http.StatusCreated, r.Status, string(r.Body))
	var isfAg api.ISFAgreement
	r.decode(t, &isfAg)
	require.Equal(t, plan.Totals[2].CouncilAnnualPence.MustGet(), isfAg.AnnualAmountPence)

	unsigned := b.do(http.MethodGet, "/v1/direct-payment-agreements?unsigned=true", b.token("practitioner"), nil)
	var dl api.DirectPaymentAgreementList
	unsigned.decode(t, &dl)
	require.Len(t, dl.Items, 1, "the work list of agreements missing a signature")
	expiring := b.do(http.MethodGet, "/v1/direct-payment-agreements?pa_evidence_expiring_before=2027-02-01", b.token("practitioner"), nil)
	expiring.decode(t, &dl)
	require.Len(t, dl.Items, 1, "employer's liability insurance runs out before then")
	r = b.do(http.MethodPatch, "/v1/direct-payment-agreements/"+dp.Id.String(), b.token("practitioner"), map[string]any{"signed_date": "2026-12-01"}, "If-Match", `"1"`)
	require.Equal(t, http.StatusOK, r.Status)
	b.do(http.MethodGet, "/v1/direct-payment-agreements?unsigned=true", b.token("practitioner"), nil).decode(t, &dl)
	require.Empty(t, dl.Items)
	_ = p
}

func TestDelegatedLimitMatrix(t *testing.T) {
	t.Parallel()
	b := setup(t)
	b.activeRAS("needs", 72_800)
	b.rateTable("2025-04-06", 11_250)
	admin := b.token("council_admin")
	setLimit := func(pence int64) {
		r := b.do(http.MethodGet, "/v1/council/settings", admin, nil)
		r = b.do(http.MethodPatch, "/v1/council/settings", admin, map[string]any{"approver_limit_annual_pence": pence}, "If-Match", r.Header.Get("ETag"))
		require.Equal(t, http.StatusOK, r.Status, string(r.Body))
	}
	tests := []struct {
		name  string
		limit int64
		roles []string
		want  int
	}{
		{"approver under the limit", 1_820_001, []string{"approver"}, 200},
		{"approver at the limit", 1_820_000, []string{"approver"}, 200},
		{"approver a penny over the limit", 1_819_999, []string{"approver"}, 403},
		{"panel over the limit", 1_819_999, []string{"panel"}, 200},
	}
	for _, tt := range tests {
		_, pb := b.pricedBudget()
		plan, tag := b.planWith(pb, lineBody("home_care", "council_managed", 3_500, "10", pb))
		require.Equal(t, int64(1_820_000), plan.AnnualCostPence)
		tag = b.submit(plan, tag)
		setLimit(tt.limit)
		var list api.SupportPlanList
		b.do(http.MethodGet, "/v1/support-plans?status=submitted&over_approver_limit="+fmt.Sprint(tt.want == 403 || tt.roles[0] == "panel"), b.token("approver"), nil).decode(t, &list)
		require.NotEmpty(t, list.Items, "%s: the plan is on the right work list", tt.name)
		r := b.do(http.MethodPost, "/v1/support-plans/"+plan.Id.String()+"/approve", b.token(tt.roles...), map[string]any{"checks": allChecks}, "If-Match", tag)
		require.Equal(t, tt.want, r.Status, "%s: %s", tt.name, r.Body)
		if tt.want == 403 {
			require.Equal(t, "urn:pbudget:problem:over-delegated-limit", r.problem(t).Type)
			require.Equal(t, api.BudgetStatus("indicative"), b.budget(pb.Id.String()).Status, "nothing changed")
		}
	}
}

func TestTwoApprovalsAtOnceAgreeTheBudgetOnce(t *testing.T) {
	t.Parallel()
	b := setup(t)
	b.activeRAS("needs", 72_800)
	b.rateTable("2025-04-06", 11_250)
	_, pb := b.pricedBudget()
	plan, tag := b.planWith(pb, lineBody("home_care", "council_managed", 3_500, "10", pb))
	tag = b.submit(plan, tag)
	statuses := make(chan int, 2)
	for range 2 {
		go func() {
			statuses <- b.do(http.MethodPost, "/v1/support-plans/"+plan.Id.String()+"/approve", b.token("approver"), map[string]any{"checks": allChecks}, "If-Match", tag).Status
		}()
	}
	got := []int{<-statuses, <-statuses}
	require.ElementsMatch(t, []int{200, 412}, got, "exactly one succeeds; the other sees the plan has moved on")
	agreedVersions := 0
	for _, v := range b.budget(pb.Id.String()).History {
		if v.Change == "plan_agreed" {
			agreedVersions++
		}
	}
	require.Equal(t, 1, agreedVersions)
}

func TestSignOffWorkflowReturnReviseAndChecks(t *testing.T) {
	t.Parallel()
	b := setup(t)
	b.activeRAS("needs", 72_800)
	b.rateTable("2025-04-06", 11_250)
	_, pb := b.pricedBudget()
	plan, tag := b.planWith(pb, lineBody("home_care", "council_managed", 3_000, "10", pb))
	require.Equal(t, int64(1_560_000), plan.AnnualCostPence)
	tag = b.submit(plan, tag)

	notAll := with(allChecks, "risks_managed", false)
	r := b.do(http.MethodPost, "/v1/support-plans/"+plan.Id.String()+"/approve", b.token("approver"), map[string]any{"checks": notAll, "difference_reason": "x"}, "If-Match", tag)
	require.Equal(t, "urn:pbudget:problem:sign-off-checks-failed", r.problem(t).Type)
	r = b.do(http.MethodPost, "/v1/support-plans/"+plan.Id.String()+"/approve", b.token("approver"), map[string]any{"checks": allChecks}, "If-Match", tag)
	require.Equal(t, "urn:pbudget:problem:difference-reason-required", r.problem(t).Type, "£15,600 is not the indicative £18,200")

	r = b.do(http.MethodPost, "/v1/support-plans/"+plan.Id.String()+"/return", b.token("approver"), map[string]any{"reason": "add the night-time support"}, "If-Match", tag)
	require.Equal(t, http.StatusOK, r.Status)
	r.decode(t, &plan)
	require.Equal(t, api.PlanStatus("draft"), plan.Status)
	require.Equal(t, "add the night-time support", plan.ReturnedReason.MustGet())
	var returned api.SupportPlanList
	b.do(http.MethodGet, "/v1/support-plans?status=draft", b.token("practitioner"), nil).decode(t, &returned)
	require.Len(t, returned.Items, 1)

	tag = b.submit(plan, r.Header.Get("ETag"))
	r = b.do(http.MethodPost, "/v1/support-plans/"+plan.Id.String()+"/approve", b.token("approver"),
		map[string]any{"checks": allChecks, "difference_reason": "the person chose a cheaper agency"}, "If-Match", tag)
	require.Equal(t, http.StatusOK, r.Status, string(r.Body))
	v := b.budget(pb.Id.String()).Current
	require.Equal(t, int64(1_560_000), v.FinalAnnualPence.MustGet())
	require.Equal(t, int64(1_820_000), v.IndicativeAnnualPence, "the indicative figure is kept beside the final one")
	require.Equal(t, "the person chose a cheaper agency", v.DifferenceReason.MustGet())

	// Approved plans are immutable; a revision is a new plan that goes through the same steps.
	r = b.do(http.MethodPost, "/v1/support-plans/"+plan.Id.String()+"/lines", b.token("practitioner"), lineBody("home_care", "council_managed", 1, "1", pb), "If-Match", r.Header.Get("ETag"))
	require.Equal(t, "urn:pbudget:problem:plan-not-draft", r.problem(t).Type)
	approvedTag := fmt.Sprintf(`"%d"`, plan.Version+2)
	r = b.do(http.MethodPost, "/v1/support-plans/"+plan.Id.String()+"/revise", b.token("practitioner"), nil, "If-Match", approvedTag)
	require.Equal(t, http.StatusCreated, r.Status, string(r.Body))
	var revision api.SupportPlan
	r.decode(t, &revision)
	require.Equal(t, 2, revision.Number)
	require.Equal(t, plan.Id, revision.RevisesId.MustGet())
	require.Len(t, revision.Lines, 1)
	b.approve(revision, b.submit(revision, r.Header.Get("ETag")))
	var old api.SupportPlan
	b.do(http.MethodGet, "/v1/support-plans/"+plan.Id.String(), b.token("auditor"), nil).decode(t, &old)
	require.Equal(t, api.PlanStatus("superseded"), old.Status)
}

func TestPlanRulesAreRefusedAsTheyAreWritten(t *testing.T) {
	t.Parallel()
	b := setup(t)
	b.activeRAS("needs", 72_800)
	b.rateTable("2025-04-06", 11_250)
	p, pb := b.pricedBudget()
	plan, tag := b.planWith(pb)
	tok := b.token("practitioner")
	path := "/v1/support-plans/" + plan.Id.String() + "/lines"

	over := b.do(http.MethodPost, path, tok, lineBody("home_care", "council_managed", 3_500, "10.01", pb), "If-Match", tag)
	require.Equal(t, http.StatusUnprocessableEntity, over.Status)
	require.Equal(t, "urn:pbudget:problem:plan-over-budget", over.problem(t).Type)
	excluded := b.do(http.MethodPost, path, tok, lineBody("housing_costs", "direct_payment", 100, "1", pb), "If-Match", tag)
	require.Equal(t, "urn:pbudget:problem:direct-payment-excluded-category", excluded.problem(t).Type)
	isf := b.do(http.MethodPost, path, tok, lineBody("day_service", "isf", 100, "1", pb), "If-Match", tag)
	require.Equal(t, "urn:pbudget:problem:isf-provider-required", isf.problem(t).Type)

	wife := b.newPerson(map[string]any{"given_name": "Wife"})
	r := b.do(http.MethodPost, "/v1/people/"+p.Id.String()+"/relationships", tok, map[string]any{"kind": "same_household_member", "related_person_id": wife.Id, "family_relation": "spouse"})
	require.Equal(t, http.StatusCreated, r.Status)
	before := b.counts()
	family := b.do(http.MethodPost, path, tok, lineBody("personal_assistant", "direct_payment", 1_500, "10", pb, "personal_assistant_id", wife.Id), "If-Match", tag)
	require.Equal(t, "urn:pbudget:problem:family-personal-assistant-not-necessary", family.problem(t).Type)
	require.Equal(t, before, b.counts(), "a refused line changes nothing")
	ok := b.do(http.MethodPost, path, tok, lineBody("personal_assistant", "direct_payment", 1_500, "10", pb, "personal_assistant_id", wife.Id,
		"necessity_reason", "she is the only person he lets help him wash"), "If-Match", tag)
	require.Equal(t, http.StatusCreated, ok.Status, string(ok.Body))

	r = b.do(http.MethodPost, "/v1/support-plans/"+plan.Id.String()+"/submit", tok, nil, "If-Match", tag)
	require.Equal(t, http.StatusPreconditionFailed, r.Status, "the line changed the plan's version")
	empty, emptyTag := b.planWith(b.budgetOfNewPerson())
	r = b.do(http.MethodPost, "/v1/support-plans/"+empty.Id.String()+"/submit", tok, nil, "If-Match", emptyTag)
	require.Equal(t, "urn:pbudget:problem:plan-has-no-lines", r.problem(t).Type)
}

func (b *bundle) budgetOfNewPerson() api.PersonalBudget {
	p := b.newPerson(map[string]any{"date_of_birth": "1990-01-01"})
	return b.budget(b.budgetOf350(p.Id.String()))
}

func TestProvidersSeeOnlyThePeopleTheyServe(t *testing.T) {
	t.Parallel()
	b := setup(t)
	b.activeRAS("needs", 72_800)
	b.rateTable("2025-04-06", 11_250)
	provA, provB := b.provider("isf_provider"), b.provider("care_agency")
	x, budgetX := b.pricedBudget()
	y, budgetY := b.pricedBudget()
	planX, tagX := b.planWith(budgetX,
		lineBody("day_service", "isf", 7_500, "1", budgetX, "provider_id", provA.Id),
		lineBody("home_care", "council_managed", 2_500, "5", budgetX))
	tagX = b.approve(planX, b.submit(planX, tagX))
	r := b.do(http.MethodPost, "/v1/isf-agreements", b.token("finance"), map[string]any{"plan_id": planX.Id, "provider_id": provA.Id,
		"payment_frequency": "monthly", "statement_frequency": "monthly", "start_date": budgetX.StartDate.Time.Format("2006-01-02")})
	require.Equal(t, http.StatusCreated, r.Status, string(r.Body))
	var isfAg api.ISFAgreement
	r.decode(t, &isfAg)
	planY, tagY := b.planWith(budgetY, lineBody("home_care", "council_managed", 2_500, "5", budgetY, "provider_id", provB.Id))

	tokA := b.tokenWith(auth.MintOptions{Council: b.council.Code, Roles: []string{"provider"}, Provider: provA.Id.String(), Subject: "staff-a"})
	tokB := b.tokenWith(auth.MintOptions{Council: b.council.Code, Roles: []string{"provider"}, Provider: provB.Id.String(), Subject: "staff-b"})
	type route struct {
		name     string
		path     string
		a, bStat int
	}
	check := func(when string, routes []route) {
		t.Helper()
		for _, rt := range routes {
			require.Equal(t, rt.a, b.do(http.MethodGet, rt.path, tokA, nil).Status, "%s: provider A: %s", when, rt.name)
			require.Equal(t, rt.bStat, b.do(http.MethodGet, rt.path, tokB, nil).Status, "%s: provider B: %s", when, rt.name)
		}
	}
	check("B named only in a draft", []route{
		{"person X", "/v1/people/" + x.Id.String(), 200, 404},
		{"person Y", "/v1/people/" + y.Id.String(), 404, 404},
		{"budget X", "/v1/personal-budgets/" + budgetX.Id.String() + "/provider-view", 200, 404},
		{"budget Y", "/v1/personal-budgets/" + budgetY.Id.String() + "/provider-view", 404, 404},
		{"plan X", "/v1/support-plans/" + planX.Id.String(), 200, 404},
		{"plan Y", "/v1/support-plans/" + planY.Id.String(), 404, 404},
		{"plans of budget X", "/v1/personal-budgets/" + budgetX.Id.String() + "/support-plans", 200, 404},
		{"plans of budget Y", "/v1/personal-budgets/" + budgetY.Id.String() + "/support-plans", 404, 404},
		{"ISF agreement", "/v1/isf-agreements/" + isfAg.Id.String(), 200, 404},
	})
	b.approve(planY, b.submit(planY, tagY))
	check("Y's plan signed off", []route{
		{"person Y", "/v1/people/" + y.Id.String(), 404, 200},
		{"budget Y", "/v1/personal-budgets/" + budgetY.Id.String() + "/provider-view", 404, 200},
		{"plan Y", "/v1/support-plans/" + planY.Id.String(), 404, 200},
		{"plans of budget Y", "/v1/personal-budgets/" + budgetY.Id.String() + "/support-plans", 404, 200},
	})
	var people api.PersonList
	b.do(http.MethodGet, "/v1/people", tokA, nil).decode(t, &people)
	require.Len(t, people.Items, 1)
	require.Equal(t, x.Id, people.Items[0].Id)
	var agreements api.ISFAgreementList
	b.do(http.MethodGet, "/v1/isf-agreements", tokB, nil).decode(t, &agreements)
	require.Empty(t, agreements.Items)
	var seen api.SupportPlan
	b.do(http.MethodGet, "/v1/support-plans/"+planX.Id.String(), tokA, nil).decode(t, &seen)
	require.Len(t, seen.Lines, 1, "provider staff see only their own lines")
	require.Equal(t, http.StatusForbidden, b.do(http.MethodGet, "/v1/assessments", tokA, nil).Status)
	require.Equal(t, http.StatusForbidden, b.do(http.MethodGet, "/v1/direct-payment-agreements", tokA, nil).Status)

	// A revision that moves X's day service to the council ends A's reach, ISF agreement or not.
	r = b.do(http.MethodPost, "/v1/support-plans/"+planX.Id.String()+"/revise", b.token("practitioner"), nil, "If-Match", tagX)
	require.Equal(t, http.StatusCreated, r.Status, string(r.Body))
	var revision api.SupportPlan
	r.decode(t, &revision)
	r = b.do(http.MethodPut, "/v1/support-plans/"+revision.Id.String()+"/lines/"+revision.Lines[0].Id.String(), b.token("practitioner"),
		lineBody("day_service", "council_managed", 7_500, "1", budgetX), "If-Match", r.Header.Get("ETag"))
	require.Equal(t, http.StatusOK, r.Status, string(r.Body))
	b.approve(revision, b.submit(revision, r.Header.Get("ETag")))
	check("A's lines revised away", []route{
		{"person X", "/v1/people/" + x.Id.String(), 404, 404},
		{"budget X", "/v1/personal-budgets/" + budgetX.Id.String() + "/provider-view", 404, 404},
		{"old plan X", "/v1/support-plans/" + planX.Id.String(), 404, 404},
		{"revised plan X", "/v1/support-plans/" + revision.Id.String(), 404, 404},
		{"plans of budget X", "/v1/personal-budgets/" + budgetX.Id.String() + "/support-plans", 404, 404},
		{"their own ISF agreement, as history", "/v1/isf-agreements/" + isfAg.Id.String(), 200, 404},
	})
	b.do(http.MethodGet, "/v1/people", tokA, nil).decode(t, &people)
	require.Empty(t, people.Items)
}

func TestAFreshPlanSupersedesTheApprovedOneAndOldPlansTakeNoAgreements(t *testing.T) {
	t.Parallel()
	b := setup(t)
	b.activeRAS("needs", 72_800)
	b.rateTable("2025-04-06", 11_250)
	isf := b.provider("isf_provider")
	_, pb := b.pricedBudget()
	first, tag := b.planWith(pb, lineBody("day_service", "isf", 7_500, "1", pb, "provider_id", isf.Id))
	b.approve(first, b.submit(first, tag))
	second, tag := b.planWith(pb, lineBody("home_care", "council_managed", 3_000, "10", pb))
	b.approve(second, b.submit(second, tag))

	var plans api.SupportPlanList
	b.do(http.MethodGet, "/v1/personal-budgets/"+pb.Id.String()+"/support-plans", b.token("practitioner"), nil).decode(t, &plans)
	var approved []string
	for _, p := range plans.Items {
		if p.Status == "approved" {
			approved = append(approved, p.Id.String())
		}
	}
	require.Equal(t, []string{second.Id.String()}, approved, "one approved plan a budget")
	var old api.SupportPlan
	b.do(http.MethodGet, "/v1/support-plans/"+first.Id.String(), b.token("auditor"), nil).decode(t, &old)
	require.Equal(t, api.PlanStatus("superseded"), old.Status)
	require.Equal(t, second.Id, b.budget(pb.Id.String()).Current.PlanId.MustGet())

	before := b.counts()
	r := b.do(http.MethodPost, "/v1/isf-agreements", b.token("finance"), map[string]any{"plan_id": first.Id, "provider_id": isf.Id,
		"payment_frequency": "monthly", "statement_frequency": "monthly", "start_date": pb.StartDate.Time.Format("2006-01-02")})
	require.Equal(t, http.StatusConflict, r.Status, string(r.Body))
	require.Equal(t, "urn:pbudget:problem:plan-not-approved", r.problem(t).Type)
	require.Equal(t, before, b.counts())
}

func TestAPlanHasOneDirectPaymentAgreement(t *testing.T) {
	t.Parallel()
	b := setup(t)
	b.activeRAS("needs", 72_800)
	b.rateTable("2025-04-06", 11_250)
	_, pb := b.pricedBudget()
	plan, tag := b.planWith(pb, lineBody("personal_assistant", "direct_payment", 3_500, "10", pb))
	b.approve(plan, b.submit(plan, tag))
	body := map[string]any{"plan_id": plan.Id, "recipient": "person", "account_type": "prepaid_card", "payment_basis": "net",
		"frequency": "four_weekly", "start_date": pb.StartDate.Time.Format("2006-01-02")}
	r := b.do(http.MethodPost, "/v1/direct-payment-agreements", b.token("finance"), body)
	require.Equal(t, http.StatusCreated, r.Status, string(r.Body))
	before := b.counts()
	r = b.do(http.MethodPost, "/v1/direct-payment-agreements", b.token("finance"), with(body, "frequency", "monthly"))
	require.Equal(t, http.StatusConflict, r.Status, string(r.Body))
	require.Equal(t, "urn:pbudget:problem:direct-payment-agreement-exists", r.problem(t).Type)
	require.Equal(t, before, b.counts(), "a second agreement would pay twice")
}

func TestAPersonalAssistantMustBeAPersonOfThisCouncil(t *testing.T) {
	t.Parallel()
	b := setup(t)
	b.activeRAS("needs", 72_800)
	b.rateTable("2025-04-06", 11_250)
	p, pb := b.pricedBudget()
	plan, tag := b.planWith(pb)
	path := "/v1/support-plans/" + plan.Id.String() + "/lines"
	stranger := b.do(http.MethodPost, "/v1/people", b.otherToken("practitioner"), map[string]any{
		"given_name": "Other", "family_name": "Council", "date_of_birth": "1980-01-01", "person_type": "adult"})
	require.Equal(t, http.StatusCreated, stranger.Status, string(stranger.Body))
	var other api.Person
	stranger.decode(t, &other)
	before := b.counts()
	for name, id := range map[string]string{"nobody": newID(), "another council's person": other.Id.String(), "the person": p.Id.String()} {
		r := b.do(http.MethodPost, path, b.token("practitioner"), lineBody("personal_assistant", "direct_payment", 1_500, "10", pb,
			"personal_assistant_id", id), "If-Match", tag)
		require.Equal(t, http.StatusUnprocessableEntity, r.Status, "%s: %s", name, r.Body)
		pr := r.problem(t)
		require.Contains(t, []string{"urn:pbudget:problem:personal-assistant-not-found", "urn:pbudget:problem:personal-assistant-is-the-person"}, pr.Type, name)
	}
	require.Equal(t, before, b.counts())
}

func TestTheFirstSettingsChangeIsVersionTwoAndRacesLoseCleanly(t *testing.T) {
	t.Parallel()
	b := setup(t)
	admin := b.token("council_admin")
	r := b.do(http.MethodGet, "/v1/council/settings", admin, nil)
	require.Equal(t, `"1"`, r.Header.Get("ETag"), "the defaults")
	results := make(chan int, 6)
	for i := range 6 {
		go func() {
			results <- b.do(http.MethodPatch, "/v1/council/settings", admin, map[string]any{"approver_limit_annual_pence": 5_000_000 + i}, "If-Match", `"1"`).Status
		}()
	}
	counts := map[int]int{}
	for range 6 {
		counts[<-results]++
	}
	require.Equal(t, map[int]int{http.StatusOK: 1, http.StatusPreconditionFailed: 5}, counts, "one first change wins; the rest are stale")
	r = b.do(http.MethodGet, "/v1/council/settings", admin, nil)
	require.Equal(t, `"2"`, r.Header.Get("ETag"))
	r = b.do(http.MethodPatch, "/v1/council/settings", admin, map[string]any{"approver_limit_annual_pence": 1}, "If-Match", `"1"`)
	require.Equal(t, http.StatusPreconditionFailed, r.Status, "the defaults' ETag cannot overwrite the stored settings")
}

func TestAnAuthorisedPersonMustBeRecordedAndConsent(t *testing.T) {
	t.Parallel()
	b := setup(t)
	b.activeRAS("needs", 72_800)
	b.rateTable("2025-04-06", 11_250)
	p, pb := b.pricedBudget()
	plan, tag := b.planWith(pb, lineBody("personal_assistant", "direct_payment", 3_500, "10", pb))
	b.approve(plan, b.submit(plan, tag))
	daughter := b.newPerson(map[string]any{"given_name": "Daughter"})
	body := map[string]any{"plan_id": plan.Id, "recipient": "authorised_person", "recipient_person_id": daughter.Id, "recipient_consented": true,
		"account_type": "managed_account", "payment_basis": "gross", "frequency": "monthly", "start_date": pb.StartDate.Time.Format("2006-01-02")}
	r := b.do(http.MethodPost, "/v1/direct-payment-agreements", b.token("finance"), body)
	require.Equal(t, "urn:pbudget:problem:direct-payment-recipient-invalid", r.problem(t).Type, "no relationship says she is the authorised person")
	rel := b.do(http.MethodPost, "/v1/people/"+daughter.Id.String()+"/relationships", b.token("practitioner"),
		map[string]any{"kind": "authorised_person_for", "related_person_id": p.Id, "family_relation": "child"})
	require.Equal(t, http.StatusCreated, rel.Status)
	r = b.do(http.MethodPost, "/v1/direct-payment-agreements", b.token("finance"), with(body, "recipient_consented", false))
	require.Equal(t, http.StatusUnprocessableEntity, r.Status, "she must consent")
	r = b.do(http.MethodPost, "/v1/direct-payment-agreements", b.token("finance"), body)
	require.Equal(t, http.StatusCreated, r.Status, string(r.Body))
	var dp api.DirectPaymentAgreement
	r.decode(t, &dp)
	require.Equal(t, int64(1_820_000), dp.AnnualAmountPence, "gross: the whole direct-payment cost")
	require.Equal(t, int64(151_667), dp.AmountPerPaymentPence, "monthly: £18,200 ÷ 12, rounded")
}

// stay is a one-off direct-payment care-home stay of nights, fromDay days into the budget.
func stay(pb api.PersonalBudget, fromDay, nights int) map[string]any {
	s := pb.StartDate.Time.AddDate(0, 0, fromDay)
	return with(lineBody("care_home_respite", "direct_payment", 10_000, strconv.Itoa(nights), pb),
		"unit", "night", "frequency", "once",
		"start_date", s.Format("2006-01-02"), "end_date", s.AddDate(0, 0, nights).Format("2006-01-02"))
}

func TestStaysOfEarlierPlansCountButNotPastTheirBudgetsEnd(t *testing.T) {
	t.Parallel()
	b := setup(t)
	b.activeRAS("needs", 72_800)
	b.rateTable("2025-04-06", 11_250)
	p := b.newPerson(map[string]any{"date_of_birth": "1990-01-01"})
	eligible := with(needsFacts("nutrition", "habitable_home"), "type", "needs", "ras_answers", map[string]string{"q1": "lots", "q2": "some"})
	first := b.assess(p.Id.String(), eligible, nil)
	pb1 := b.budget(first.BudgetId.MustGet().String())
	plan1, tag := b.planWith(pb1, stay(pb1, 200, 14))
	b.approve(plan1, b.submit(plan1, tag))

	re := b.assess(p.Id.String(), with(needsFacts("nutrition"), "type", "reassessment", "reassesses_id", first.Id),
		map[string]any{"change_reason": "needs met by reablement"})
	require.False(t, re.Eligibility.MustGet().Eligible)
	require.Equal(t, api.BudgetStatus("ended"), b.budget(pb1.Id.String()).Status)
	again := b.assess(p.Id.String(), eligible, nil)
	pb2 := b.budget(again.BudgetId.MustGet().String())
	require.NotEqual(t, pb1.Id, pb2.Id)
	plan2, tag2 := b.planWith(pb2)
	r := b.do(http.MethodPost, "/v1/support-plans/"+plan2.Id.String()+"/lines", b.token("practitioner"), stay(pb2, 224, 20), "If-Match", tag2)
	require.Equal(t, http.StatusCreated, r.Status, "the ended budget's stay on day 200 will never happen: %s", r.Body)
}

func TestStaysOfThePersonsOtherBudgetsCountTowardsTheFourWeeks(t *testing.T) {
	t.Parallel()
	b := setup(t)
	b.activeRAS("needs", 72_800)
	b.activeRAS("carer", 200_000)
	b.rateTable("2025-04-06", 11_250)
	p, needs := b.pricedBudget()
	// The same person cares for someone too, and has a carer's budget with a care-home stay.
	cared := b.newPerson(nil)
	outcomes := carerOutcomesAchieved()
	as := b.assess(p.Id.String(), map[string]any{
		"type": "carer", "cared_for_person_id": cared.Id, "provides_necessary_care": true, "carer_health_at_risk": true,
		"significant_wellbeing_impact": true, "carer_outcomes": outcomes, "ras_answers": map[string]string{"q1": "some", "q2": "none"},
	}, nil)
	carerBudget := b.budget(as.BudgetId.MustGet().String())
	carerPlan, tag := b.planWith(carerBudget, stay(carerBudget, 10, 14))
	b.approve(carerPlan, b.submit(carerPlan, tag))

	plan, tag := b.planWith(needs)
	path := "/v1/support-plans/" + plan.Id.String() + "/lines"
	r := b.do(http.MethodPost, path, b.token("practitioner"), stay(needs, 30, 15), "If-Match", tag)
	require.Equal(t, http.StatusUnprocessableEntity, r.Status, string(r.Body))
	pr := r.problem(t)
	require.Equal(t, "urn:pbudget:problem:direct-payment-care-home-stay-too-long", pr.Type)
	require.Contains(t, *pr.Detail, "29 days", "14 nights and 15 nights six days apart are one period")
	r = b.do(http.MethodPost, path, b.token("practitioner"), stay(needs, 30, 14), "If-Match", tag)
	require.Equal(t, http.StatusCreated, r.Status, string(r.Body))
}

// A sign-off changes the plan's row, not its lines: the lines it read under the plan's lock are
// the ones it signs off, so they are not deleted and written again (the same row versions after
// the approval), while a change of a line on a draft does write them. The approved plan's figures
// (shown from the budget the approval agreed) are the figures a later read composes.
func TestASignOffLeavesThePlansLinesAsTheyWere(t *testing.T) {
	t.Parallel()
	b := setup(t)
	b.activeRAS("needs", 72_800)
	b.rateTable("2025-04-06", 11_250)
	_, pb := b.pricedBudget()
	plan, tag := b.planWith(pb, lineBody("home_care", "council_managed", 2_500, "5", pb),
		lineBody("personal_assistant", "direct_payment", 1_500, "10", pb))
	versions := func() string {
		var v string
		require.NoError(t, b.db.SQL().QueryRow(`SELECT string_agg(id::text || ':' || xmin::text, ',' ORDER BY position)
			FROM plan_lines WHERE council_id = $1 AND plan_id = $2`, b.council.ID, plan.Id).Scan(&v))
		return v
	}
	drafted := versions()
	r := b.do(http.MethodPatch, "/v1/support-plans/"+plan.Id.String(), b.token("practitioner"),
		map[string]any{"what_to_change": "more time outdoors"}, "If-Match", tag)
	require.Equal(t, http.StatusOK, r.Status, string(r.Body))
	require.Equal(t, drafted, versions(), "a change of the plan's parts leaves its lines alone")
	tag = b.submit(plan, r.Header.Get("ETag"))
	require.Equal(t, drafted, versions(), "submitting leaves the lines alone")

	r = b.do(http.MethodPost, "/v1/support-plans/"+plan.Id.String()+"/approve", b.token("approver"),
		map[string]any{"checks": allChecks, "difference_reason": "the plan costs what the person chose"}, "If-Match", tag)
	require.Equal(t, http.StatusOK, r.Status, string(r.Body))
	require.Equal(t, drafted, versions(), "signing off leaves the lines alone")
	var approved, read api.SupportPlan
	r.decode(t, &approved)
	g := b.do(http.MethodGet, "/v1/support-plans/"+plan.Id.String(), b.token("practitioner"), nil)
	require.Equal(t, http.StatusOK, g.Status, string(g.Body))
	g.decode(t, &read)
	require.Equal(t, read.Totals, approved.Totals, "the sign-off's figures are those a read composes")
	require.Equal(t, read.AnnualCostPence, approved.AnnualCostPence)

	// A revision's draft: replacing a line writes the lines.
	r = b.do(http.MethodPost, "/v1/support-plans/"+plan.Id.String()+"/revise", b.token("practitioner"), nil, "If-Match", r.Header.Get("ETag"))
	require.Equal(t, http.StatusCreated, r.Status, string(r.Body))
	var draft api.SupportPlan
	r.decode(t, &draft)
	plan = draft
	revised := versions()
	r = b.do(http.MethodPut, "/v1/support-plans/"+draft.Id.String()+"/lines/"+draft.Lines[0].Id.String(), b.token("practitioner"),
		lineBody("home_care", "council_managed", 2_500, "6", pb), "If-Match", r.Header.Get("ETag"))
	require.Equal(t, http.StatusOK, r.Status, string(r.Body))
	require.NotEqual(t, revised, versions(), "a changed line is written")
}
