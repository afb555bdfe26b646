package httpapi_test

import (
	"net/http"
	"testing"

	"github.com/google/uuid"
	"github.com/stretchr/testify/require"

	"github.com/pbudget/pbudget/api"
)

// TestJourneyInThePersonsRole follows a person through the council's portal, as far as the
// service goes today: they read their agreed budget and why each figure is what it is (the RAS
// points and steps, the financial assessment's steps, the council's and their own part), their
// plan, their agreement and its schedule (a payment held, with the reason, then paid), their
// agreed-budget letter, ask for a part of their budget to be managed another way, read when their
// next review is due and ask for one now. Statement upload, flag answers, audit evidence and
// recovery disputes are the DP-account and audit issues' routes, not merged here yet (see
// docs/domain.md, "Not built yet").
func TestJourneyInThePersonsRole(t *testing.T) {
	t.Parallel()
	b, _ := payBundle(t, "2026-04-20")
	b.rateTable("2025-04-06", 11_250)
	p, pb := b.pricedBudget()
	plan, tag := b.planWith(pb, lineBody("personal_assistant", "direct_payment", 1_500, "10", pb),
		lineBody("home_care", "council_managed", 2_500, "5", pb))
	b.approve(plan, b.submit(plan, tag))
	start := "2026-05-04"
	r := b.do(http.MethodPost, "/v1/direct-payment-agreements", b.token("finance"), map[string]any{"plan_id": plan.Id, "recipient": "person",
		"account_type": "separate_bank_account", "payment_basis": "net", "frequency": "four_weekly", "start_date": start})
	require.Equal(t, http.StatusCreated, r.Status, string(r.Body))
	var dp api.DirectPaymentAgreement
	r.decode(t, &dp)
	r = b.do(http.MethodPatch, "/v1/direct-payment-agreements/"+dp.Id.String(), b.token("practitioner"), map[string]any{"signed_date": start},
		"If-Match", etagOf(dp.Version))
	require.Equal(t, http.StatusOK, r.Status, string(r.Body))
	b.setDetails("/v1/direct-payment-agreements/"+dp.Id.String()+"/payment-details", bankAccount(), true)
	me := b.personToken(p.Id)

	// Who am I acting for?
	require.Equal(t, map[uuid.UUID]string{p.Id: "self"}, b.actingFor(me))

	// 1. The agreed budget and its reasons.
	r = b.do(http.MethodGet, "/v1/me/people/"+p.Id.String()+"/personal-budgets", me, nil)
	require.Equal(t, http.StatusOK, r.Status, string(r.Body))
	var budgets api.MyBudgetList
	r.decode(t, &budgets)
	require.Len(t, budgets.Items, 1)
	mb := budgets.Items[0]
	require.Equal(t, api.BudgetStatus("agreed"), mb.Status)
	require.Equal(t, int64(1_820_000), mb.IndicativeAnnualPence)
	require.Equal(t, mb.AnnualCostPence, mb.CouncilAnnualPence.MustGet()+mb.PersonAnnualPence.MustGet(), "council + person = cost")
	require.Equal(t, int64(19_660), mb.PersonWeeklyPence.MustGet(), "the worked example's charge")
	require.NotEmpty(t, mb.Ras.Steps)
	require.NotEmpty(t, mb.Ras.PointsByDomain)
	require.True(t, mb.Contribution.Assessed)
	require.NotEmpty(t, mb.Contribution.AssessmentSteps, "the financial assessment's steps, in words")
	for _, s := range append(mb.Contribution.AssessmentSteps, mb.Ras.Steps...) {
		require.NotEmpty(t, s.Detail, "every step says what it did: %s", s.Step)
	}
	require.NotEmpty(t, mb.History)
	require.NotContains(t, string(r.Body), "user-", "no staff identity reaches the person")

	// 2. The plan and the agreement.
	r = b.do(http.MethodGet, "/v1/me/personal-budgets/"+pb.Id.String()+"/support-plans", me, nil)
	require.Equal(t, http.StatusOK, r.Status, string(r.Body))
	var plans api.MyPlanList
	r.decode(t, &plans)
	require.Len(t, plans.Items, 1)
	require.Len(t, plans.Items[0].Lines, 2)
	require.Equal(t, "staying at home with my cat", *plans.Items[0].WhatIsImportant)
	var ags api.MyAgreementList
	b.do(http.MethodGet, "/v1/me/people/"+p.Id.String()+"/agreements", me, nil).decode(t, &ags)
	require.Len(t, ags.Items, 1)
	require.Equal(t, dp.Id, ags.Items[0].Id)
	require.Equal(t, api.MyAgreementPaymentBasis("net"), ags.Items[0].PaymentBasis)
	require.True(t, ags.Items[0].Consented.IsNull(), "the person receives it: no consent to give")

	// 3. The schedule: the first payment is held with a reason, then released and paid.
	run := b.createRun(start)
	line := agreementLines(b.lines(&run.Id, ""), dp.Id)[0]
	r = b.do(http.MethodPost, "/v1/payment-runs/"+run.Id.String()+"/lines/"+line.Id.String()+"/hold", b.financeA(),
		map[string]any{"reason": "we are checking the new bank account"}, "If-Match", etagOf(run.Version))
	require.Equal(t, http.StatusOK, r.Status, string(r.Body))
	schedule := func() api.MySchedule {
		r := b.do(http.MethodGet, "/v1/me/agreements/"+dp.Id.String()+"/schedule", me, nil)
		require.Equal(t, http.StatusOK, r.Status, string(r.Body))
		require.NotContains(t, string(r.Body), "finance-", "no staff identity reaches the person")
		var s api.MySchedule
		r.decode(t, &s)
		return s
	}
	s := schedule()
	require.NotEmpty(t, s.Cycles)
	require.Equal(t, line.AmountPence, s.Cycles[0].OwedPence)
	require.Len(t, s.Payments, 1)
	require.True(t, s.Payments[0].Held)
	require.Equal(t, "we are checking the new bank account", s.Payments[0].HoldReason.MustGet())
	require.Equal(t, line.AmountPence, s.Cycles[0].HeldPence)

	// 4. The agreed-budget letter.
	r = b.do(http.MethodGet, "/v1/me/personal-budgets/"+pb.Id.String()+"/letters/agreed", me, nil)
	require.Equal(t, http.StatusOK, r.Status, string(r.Body))
	require.Contains(t, string(r.Body), "Your agreed personal budget")

	// 5. Ask for the council-managed home care to be a direct payment.
	r = b.do(http.MethodPost, "/v1/me/management-change-requests", me, map[string]any{"plan_id": plan.Id, "plan_line_id": plan.Lines[1].Id,
		"requested_option": "direct_payment", "reason": "I would like to choose my own carers"}, "Idempotency-Key", uuid.NewString())
	require.Equal(t, http.StatusCreated, r.Status, string(r.Body))
	var open api.ManagementChangeRequestList
	b.do(http.MethodGet, "/v1/management-change-requests?status=open&person_id="+p.Id.String(), b.token("practitioner"), nil).decode(t, &open)
	require.Len(t, open.Items, 1)

	// 6. The next review, and a request for one now.
	r = b.do(http.MethodGet, "/v1/me/people/"+p.Id.String()+"/reviews", me, nil)
	require.Equal(t, http.StatusOK, r.Status, string(r.Body))
	var rv api.MyReviews
	r.decode(t, &rv)
	require.Empty(t, rv.History)
	r = b.do(http.MethodPost, "/v1/me/people/"+p.Id.String()+"/review-requests", me,
		map[string]any{"reason": "request", "note": "my needs have changed"}, "Idempotency-Key", uuid.NewString())
	require.Equal(t, http.StatusCreated, r.Status, string(r.Body))
	r.decode(t, &rv)
	require.Len(t, rv.OpenRequests, 1)
	require.Equal(t, "unplanned", string(rv.Next.MustGet().Rule), "the request brings the review forward")
	require.NotContains(t, string(r.Body), "user-", "no staff identity reaches the person")

	// Every read was recorded with the person as actor.
	b.flushAccess()
	var recs api.AccessRecordList
	b.do(http.MethodGet, "/v1/access-records?person_id="+p.Id.String()+"&actor=citizen-"+p.Id.String()[:8], b.token("auditor"), nil).decode(t, &recs)
	require.NotEmpty(t, recs.Items)
	for _, rec := range recs.Items {
		require.Equal(t, p.Id, *rec.Actor.PersonId)
	}
}
