package httpapi_test

import (
	"bytes"
	"encoding/json"
	"net/http"
	"testing"

	"github.com/google/uuid"
	"github.com/stretchr/testify/require"

	"github.com/pbudget/pbudget/api"
)

// agreementLines returns a run's lines for one agreement.
func agreementLines(lines []api.PaymentLine, agreement uuid.UUID) []api.PaymentLine {
	var out []api.PaymentLine
	for _, l := range lines {
		if l.AgreementId == agreement {
			out = append(out, l)
		}
	}
	return out
}

// TestFamilyTopUpsAreShownButNeverCountedOrPaid: a parent's top-up of a direct-payment line, and
// a line a relative pays in full, are recorded with who pays and how much and shown on the plan
// (staff and the person's view), and change nothing the council pays: the plan's cost and shares,
// the ceiling (a top-up far above it does not stop sign-off), the agreement's amount and the
// payment run's lines are those of an identical plan without top-ups. The audit trail names the
// field, never the payer.
func TestFamilyTopUpsAreShownButNeverCountedOrPaid(t *testing.T) {
	t.Parallel()
	b, _ := payBundle(t, "2026-04-20")
	plain := b.agreements(agreementSpec{start: "2026-05-04"})
	topped := b.agreements(agreementSpec{start: "2026-05-04", topUps: []map[string]any{
		{"plan_line_id": "dp", "description": "Two more hours a week", "payer": "parent", "payer_name": "Dee Taylor", "annual_pence": 156_000},
		{"description": "Saturday riding lessons", "payer": "relative", "payer_name": "Aunt Jo", "annual_pence": 5_000_000},
	}})

	require.Equal(t, plain.plan.AnnualCostPence, topped.plan.AnnualCostPence)
	require.Equal(t, plain.plan.Totals, topped.plan.Totals)
	require.Len(t, topped.plan.TopUps, 2)
	require.Equal(t, int64(5_156_000), topped.plan.TopUpsAnnualPence)
	require.Equal(t, topped.plan.Lines[0].Id, topped.plan.TopUps[0].PlanLineId.MustGet())
	require.True(t, topped.plan.TopUps[1].PlanLineId.IsNull())
	require.Greater(t, topped.plan.AnnualCostPence+topped.plan.TopUpsAnnualPence, topped.plan.CeilingAnnualPence.MustGet(),
		"with its top-ups the plan is far above the ceiling, and it was signed off within it")
	require.Equal(t, plain.dp.AnnualAmountPence, topped.dp.AnnualAmountPence)
	require.Equal(t, plain.dp.AmountPerPaymentPence, topped.dp.AmountPerPaymentPence)
	pbPlain, pbTopped := b.budget(plain.budget.Id.String()), b.budget(topped.budget.Id.String())
	require.Equal(t, pbPlain.Current.FinalAnnualPence, pbTopped.Current.FinalAnnualPence, "the agreed budget")

	run := b.createRun("2026-05-04")
	lines := b.lines(&run.Id, "")
	a, c := agreementLines(lines, plain.dp.Id), agreementLines(lines, topped.dp.Id)
	require.Len(t, a, 1)
	require.Len(t, c, 1)
	require.Equal(t, a[0].AmountPence, c[0].AmountPence, "the payment run pays the same")

	// The person's view shows them, with who pays.
	r := b.do(http.MethodGet, "/v1/me/support-plans/"+topped.plan.Id.String(), b.personToken(topped.budget.PersonId), nil)
	require.Equal(t, http.StatusOK, r.Status, string(r.Body))
	var mine api.MyPlan
	r.decode(t, &mine)
	require.Equal(t, topped.plan.AnnualCostPence, mine.AnnualCostPence)
	require.Equal(t, int64(5_156_000), mine.TopUpsAnnualPence)
	require.Equal(t, "Dee Taylor", mine.TopUps[0].PayerName)
	require.Equal(t, api.TopUpPayer("parent"), mine.TopUps[0].Payer)
	require.Equal(t, api.MyPlanApprovedByRole("approver"), mine.ApprovedByRole.MustGet())
	require.NotContains(t, string(r.Body), "user-approver", "staff are named by role only")

	// A revision keeps them, on its own lines; removing the line removes its top-up.
	r = b.do(http.MethodPost, "/v1/support-plans/"+topped.plan.Id.String()+"/revise", b.token("practitioner"), nil, "If-Match", topped.planTag)
	require.Equal(t, http.StatusCreated, r.Status, string(r.Body))
	var rev api.SupportPlan
	r.decode(t, &rev)
	require.Len(t, rev.TopUps, 2)
	require.Equal(t, rev.Lines[0].Id, rev.TopUps[0].PlanLineId.MustGet())
	r = b.do(http.MethodDelete, "/v1/support-plans/"+rev.Id.String()+"/lines/"+rev.Lines[0].Id.String(), b.token("practitioner"), nil,
		"If-Match", r.Header.Get("ETag"))
	require.Equal(t, http.StatusOK, r.Status, string(r.Body))
	r.decode(t, &rev)
	require.Len(t, rev.TopUps, 1)
	r = b.do(http.MethodDelete, "/v1/support-plans/"+rev.Id.String()+"/top-ups/"+rev.TopUps[0].Id.String(), b.token("practitioner"), nil,
		"If-Match", r.Header.Get("ETag"))
	require.Equal(t, http.StatusOK, r.Status, string(r.Body))
	r.decode(t, &rev)
	require.Empty(t, rev.TopUps)

	// Rules: a line of another plan, a blank payer, an approved plan.
	before := b.counts()
	for _, tc := range []struct {
		body map[string]any
		want string
	}{
		{map[string]any{"plan_line_id": plain.plan.Lines[0].Id, "description": "x", "payer": "parent", "payer_name": "D", "annual_pence": 1}, "top-up-line-not-in-plan"},
		{map[string]any{"description": "x", "payer": "parent", "payer_name": "  ", "annual_pence": 1}, "validation"},
	} {
		r = b.do(http.MethodPost, "/v1/support-plans/"+rev.Id.String()+"/top-ups", b.token("practitioner"), tc.body, "If-Match", r.Header.Get("ETag"))
		require.Equal(t, "urn:pbudget:problem:"+tc.want, r.problem(t).Type, string(r.Body))
	}
	r = b.do(http.MethodPost, "/v1/support-plans/"+plain.plan.Id.String()+"/top-ups", b.token("practitioner"),
		map[string]any{"description": "x", "payer": "parent", "payer_name": "D", "annual_pence": 1}, "If-Match", plain.planTag)
	require.Equal(t, "urn:pbudget:problem:plan-not-draft", r.problem(t).Type)
	require.Equal(t, before, b.counts(), "refusals change nothing")

	var events api.AuditEventList
	b.do(http.MethodGet, "/v1/audit-events?entity_type=support_plan&entity_id="+topped.plan.Id.String(), b.token("auditor"), nil).decode(t, &events)
	found := false
	for _, e := range events.Items {
		if e.Action == "support_plan.top_up_added" {
			found = true
			raw, err := json.Marshal(e.Details)
			require.NoError(t, err)
			require.NotContains(t, string(raw), "Dee", "the payer's name is not in the trail")
		}
	}
	require.True(t, found)
}

// TestAPersonAsksToChangeHowAPartOfTheBudgetIsManaged: the person (here their authorised person)
// asks for a council-managed line to become a direct payment; the request waits in the
// practitioners' work list; one open request per line; a decline needs a reason the person then
// reads; a later request is answered with the plan revision that makes the change. Another
// person's holder cannot ask about the plan. Every change is in the audit trail with the holder
// as actor.
func TestAPersonAsksToChangeHowAPartOfTheBudgetIsManaged(t *testing.T) {
	t.Parallel()
	b, _ := payBundle(t, "2026-04-20")
	var ap api.Person
	f := b.agreements(agreementSpec{start: "2026-05-04", extraLines: nil, recipient: "authorised_person",
		recipientFor: func(p uuid.UUID) uuid.UUID {
			ap = b.newPerson(map[string]any{"given_name": "Carol"})
			b.relate(ap.Id, p, "authorised_person_for", "", "2026-01-01")
			return ap.Id
		}})
	// A second line, council-managed, through a revision signed off now.
	r := b.do(http.MethodPost, "/v1/support-plans/"+f.plan.Id.String()+"/revise", b.token("practitioner"), nil, "If-Match", f.planTag)
	require.Equal(t, http.StatusCreated, r.Status, string(r.Body))
	var plan api.SupportPlan
	r.decode(t, &plan)
	r = b.do(http.MethodPost, "/v1/support-plans/"+plan.Id.String()+"/lines", b.token("practitioner"),
		lineBody("home_care", "council_managed", 2_000, "2", f.budget), "If-Match", r.Header.Get("ETag"))
	require.Equal(t, http.StatusCreated, r.Status, string(r.Body))
	r.decode(t, &plan)
	tag := b.approve(plan, b.submit(plan, r.Header.Get("ETag")))
	homeCare := plan.Lines[1].Id

	carol := b.personToken(ap.Id)
	ask := func(tok string, body map[string]any) *resp {
		return b.do(http.MethodPost, "/v1/me/management-change-requests", tok, body, "Idempotency-Key", uuid.NewString())
	}
	body := map[string]any{"plan_id": plan.Id, "plan_line_id": homeCare, "requested_option": "direct_payment", "reason": "Bob wants to employ his own PA"}
	r = ask(carol, body)
	require.Equal(t, http.StatusCreated, r.Status, string(r.Body))
	var req api.ManagementChangeRequest
	r.decode(t, &req)
	require.Equal(t, api.ManagementChangeRequestStatus("open"), req.Status)
	require.Equal(t, "council_managed", string(req.CurrentOption.MustGet()))
	require.Equal(t, api.ManagementChangeRequestRequestedByBasis("authorised_person"), req.RequestedByBasis)

	before := b.counts()
	r = ask(carol, body)
	require.Equal(t, "urn:pbudget:problem:management-change-request-open", r.problem(t).Type)
	r = ask(carol, with(body, "requested_option", "council_managed", "plan_line_id", homeCare))
	require.Equal(t, "urn:pbudget:problem:management-option-unchanged", r.problem(t).Type)
	r = ask(carol, with(body, "plan_id", f.plan.Id))
	require.Equal(t, "urn:pbudget:problem:plan-not-approved", r.problem(t).Type, "the superseded plan")
	stranger := b.agreements(agreementSpec{start: "2026-05-04"})
	before = b.counts()
	r = ask(b.personToken(stranger.budget.PersonId), body)
	require.Equal(t, "urn:pbudget:problem:plan-not-found", r.problem(t).Type, "another person's plan is as if it did not exist")
	require.Equal(t, before, b.counts())

	// The practitioners' work list; a decline needs a reason.
	var open api.ManagementChangeRequestList
	b.do(http.MethodGet, "/v1/management-change-requests?status=open", b.token("practitioner"), nil).decode(t, &open)
	require.Len(t, open.Items, 1)
	answer := func(id uuid.UUID, version int, body map[string]any) *resp {
		return b.do(http.MethodPost, "/v1/management-change-requests/"+id.String()+"/answer", b.token("practitioner"), body, "If-Match", etagOf(version))
	}
	r = answer(req.Id, req.Version, map[string]any{"outcome": "declined"})
	require.Equal(t, "urn:pbudget:problem:answer-reason-required", r.problem(t).Type)
	r = answer(req.Id, req.Version, map[string]any{"outcome": "plan_revised", "revision_plan_id": f.plan.Id})
	require.Equal(t, "urn:pbudget:problem:revision-plan-invalid", r.problem(t).Type, "an earlier plan is no revision of it")
	r = answer(req.Id, req.Version, map[string]any{"outcome": "declined", "reason": "The agency contract runs until March; ask again then"})
	require.Equal(t, http.StatusOK, r.Status, string(r.Body))
	r = answer(req.Id, req.Version+1, map[string]any{"outcome": "declined", "reason": "again"})
	require.Equal(t, "urn:pbudget:problem:management-change-request-answered", r.problem(t).Type)

	var mine api.ManagementChangeRequestList
	r = b.do(http.MethodGet, "/v1/me/people/"+f.budget.PersonId.String()+"/management-change-requests", carol, nil)
	require.Equal(t, http.StatusOK, r.Status, string(r.Body))
	r.decode(t, &mine)
	require.Len(t, mine.Items, 1)
	require.Equal(t, api.ManagementChangeRequestStatus("declined"), mine.Items[0].Status)
	require.Equal(t, "The agency contract runs until March; ask again then", mine.Items[0].AnswerReason.MustGet())
	require.NotContains(t, string(r.Body), "user-practitioner", "staff are not named to the person")

	// Asked again, and answered with the revision that makes the change.
	r = ask(carol, body)
	require.Equal(t, http.StatusCreated, r.Status, string(r.Body))
	r.decode(t, &req)
	r = b.do(http.MethodPost, "/v1/support-plans/"+plan.Id.String()+"/revise", b.token("practitioner"), nil, "If-Match", tag)
	require.Equal(t, http.StatusCreated, r.Status, string(r.Body))
	var revision api.SupportPlan
	r.decode(t, &revision)
	r = answer(req.Id, req.Version, map[string]any{"outcome": "plan_revised", "revision_plan_id": revision.Id})
	require.Equal(t, http.StatusOK, r.Status, string(r.Body))
	r.decode(t, &req)
	require.Equal(t, revision.Id, req.RevisionPlanId.MustGet())

	var events api.AuditEventList
	b.do(http.MethodGet, "/v1/audit-events?entity_id="+req.Id.String(), b.token("auditor"), nil).decode(t, &events)
	require.Len(t, events.Items, 2)
	require.Equal(t, "management_change_request.created", events.Items[0].Action)
	require.Equal(t, ap.Id, *events.Items[0].Actor.PersonId, "the holder is the actor")
	require.Equal(t, []string{"person"}, events.Items[0].Actor.Roles)
	require.Equal(t, "management_change_request.answered", events.Items[1].Action)
}

// TestANomineeWithdrawsAndGivesConsent: only the nominee who receives the direct payment gives or
// withdraws consent; while it is withdrawn the agreement is blocked and a run pays it nothing;
// given again, the next run pays the cycles missed.
func TestANomineeWithdrawsAndGivesConsent(t *testing.T) {
	t.Parallel()
	b, _ := payBundle(t, "2026-04-20")
	var nominee api.Person
	f := b.agreements(agreementSpec{start: "2026-05-04", recipient: "nominee", recipientFor: func(p uuid.UUID) uuid.UUID {
		nominee = b.newPerson(map[string]any{"given_name": "Nina"})
		b.relate(nominee.Id, p, "nominee_for", "", "2026-01-01")
		return nominee.Id
	}})
	nina, self := b.personToken(nominee.Id), b.personToken(f.budget.PersonId)
	path := "/v1/me/direct-payment-agreements/" + f.dp.Id.String() + "/consent"

	before := b.counts()
	r := b.do(http.MethodPost, path, self, map[string]any{"consented": false, "reason": "I want to manage it myself"}, "If-Match", etagOf(f.dp.Version))
	require.Equal(t, http.StatusForbidden, r.Status, "only the recipient consents")
	require.Equal(t, "urn:pbudget:problem:not-the-recipient", r.problem(t).Type)
	r = b.do(http.MethodPost, path, b.personToken(uuid.New()), map[string]any{"consented": false, "reason": "x"}, "If-Match", etagOf(f.dp.Version))
	require.Equal(t, http.StatusNotFound, r.Status)
	r = b.do(http.MethodPost, path, nina, map[string]any{"consented": false, "reason": "x"}, "If-Match", etagOf(f.dp.Version+5))
	require.Equal(t, http.StatusPreconditionFailed, r.Status)
	require.Equal(t, before, b.counts())

	r = b.do(http.MethodPost, path, nina, map[string]any{"consented": false, "reason": "I can no longer manage the account"}, "If-Match", etagOf(f.dp.Version))
	require.Equal(t, http.StatusOK, r.Status, string(r.Body))
	var ag api.MyAgreement
	r.decode(t, &ag)
	require.False(t, ag.Consented.MustGet())
	require.Equal(t, "I can no longer manage the account", ag.ConsentReason.MustGet())
	s := b.schedule("direct-payment-agreements", f.dp.Id, "")
	require.Equal(t, "the nominee or authorised person who receives it has withdrawn consent", s.Agreement.BlockedReason.MustGet())
	run := b.createRun("2026-05-04")
	require.Empty(t, agreementLines(b.lines(&run.Id, ""), f.dp.Id), "nothing is paid while consent is withdrawn")
	r, _ = b.runAction(run, "cancel", b.financeA(), map[string]any{"reason": "consent withdrawn"})
	require.Equal(t, http.StatusOK, r.Status, string(r.Body))

	r = b.do(http.MethodPost, path, nina, map[string]any{"consented": true, "reason": "I can manage it again"}, "If-Match", etagOf(ag.Version))
	require.Equal(t, http.StatusOK, r.Status, string(r.Body))
	r.decode(t, &ag)
	require.True(t, ag.Consented.MustGet())
	run = b.createRun("2026-05-04")
	require.Len(t, agreementLines(b.lines(&run.Id, ""), f.dp.Id), 1, "paid again")

	var events api.AuditEventList
	b.do(http.MethodGet, "/v1/audit-events?entity_id="+f.dp.Id.String(), b.token("auditor"), nil).decode(t, &events)
	var actions []string
	for _, e := range events.Items {
		actions = append(actions, e.Action)
		if e.Action == "direct_payment_agreement.consent_withdrawn" {
			require.Equal(t, nominee.Id, *e.Actor.PersonId)
		}
	}
	require.Contains(t, actions, "direct_payment_agreement.consent_withdrawn")
	require.Contains(t, actions, "direct_payment_agreement.consent_given")
}

// TestBudgetLettersSayTheFiguresAndTheirReasonsInPlainEnglish: the indicative and the agreed
// budget letters, as PDF, for staff and for the person: the figures, the council's and the
// person's parts, the family top-ups, the same bytes each time; the agreed letter does not exist
// before a plan is agreed; another person's budget is a 404 to the person role.
func TestBudgetLettersSayTheFiguresAndTheirReasonsInPlainEnglish(t *testing.T) {
	t.Parallel()
	b, _ := payBundle(t, "2026-04-20")
	b.rateTable("2025-04-06", 11_250)
	p, pb := b.pricedBudget()
	letter := func(tok, path string) *resp {
		r := b.do(http.MethodGet, path, tok, nil)
		return r
	}
	staff := "/v1/personal-budgets/" + pb.Id.String() + "/letters/"
	mine := "/v1/me/personal-budgets/" + pb.Id.String() + "/letters/"
	tok := b.personToken(p.Id)

	r := letter(b.token("practitioner"), staff+"indicative")
	require.Equal(t, http.StatusOK, r.Status, string(r.Body))
	require.Equal(t, "application/pdf", r.Header.Get("Content-Type"))
	require.True(t, bytes.HasPrefix(r.Body, []byte("%PDF-")))
	for _, s := range []string{"Your indicative personal budget", "not a fixed amount", "How we worked it out", "Total points"} {
		require.Contains(t, string(r.Body), s)
	}
	again := letter(tok, mine+"indicative")
	require.Equal(t, http.StatusOK, again.Status)
	require.Equal(t, r.Body, again.Body, "the same record, the same letter, for staff and the person")
	r = letter(tok, mine+"agreed")
	require.Equal(t, "urn:pbudget:problem:budget-not-agreed", r.problem(t).Type)

	plan, tag := b.planWith(pb, lineBody("personal_assistant", "direct_payment", 1_500, "10", pb),
		lineBody("home_care", "council_managed", 2_500, "5", pb))
	r = b.do(http.MethodPost, "/v1/support-plans/"+plan.Id.String()+"/top-ups", b.token("practitioner"),
		map[string]any{"description": "Swimming on Saturdays", "payer": "parent", "payer_name": "Dee Taylor", "annual_pence": 52_000}, "If-Match", tag)
	require.Equal(t, http.StatusCreated, r.Status, string(r.Body))
	b.approve(plan, b.submit(plan, r.Header.Get("ETag")))
	r = letter(tok, mine+"agreed")
	require.Equal(t, http.StatusOK, r.Status, string(r.Body))
	for _, s := range []string{"Your agreed personal budget", "The council pays a year", "You pay a year", "You pay a week",
		"How your budget is managed", "Paid on top by your family or others", "Swimming on Saturdays", "Dee Taylor", "Your indicative budget was"} {
		require.Contains(t, string(r.Body), s)
	}
	require.Equal(t, r.Body, letter(b.token("auditor"), staff+"agreed").Body)

	other := b.agreements(agreementSpec{start: "2026-05-04"})
	r = letter(b.personToken(other.budget.PersonId), mine+"indicative")
	require.Equal(t, http.StatusNotFound, r.Status)
	b.flushAccess()
	var recs api.AccessRecordList
	b.do(http.MethodGet, "/v1/access-records?person_id="+p.Id.String(), b.token("auditor"), nil).decode(t, &recs)
	ops := map[string]bool{}
	for _, rec := range recs.Items {
		ops[rec.Operation] = true
	}
	require.True(t, ops["getMyBudgetLetter"] && ops["getBudgetLetter"], "a letter is a read of the person's budget: %v", ops)
}
