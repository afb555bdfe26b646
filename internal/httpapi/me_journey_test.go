package httpapi_test

import (
	"bytes"
	"net/http"
	"testing"

	"github.com/google/uuid"
	"github.com/stretchr/testify/require"

	"github.com/pbudget/pbudget/api"
)

// TestJourneyInThePersonsRole follows a person through the council's portal: they read their
// agreed budget and why each figure is what it is (the RAS points and steps, the financial
// assessment's steps, the council's and their own part), their plan, their agreement and its
// schedule (a payment held, with the reason, then paid into their account), upload their bank
// statement (the staff's import, into their own account), read the ledger and answer a flag on a
// line in their own words, receive the audit's request for evidence and send it, read the audit's
// outcome and its letter, dispute the recovery that follows (it pauses), read their agreed-budget
// letter, ask for a part of their budget to be managed another way, and ask for a review.
func TestJourneyInThePersonsRole(t *testing.T) {
	t.Parallel()
	b, clock := payBundle(t, "2026-04-20")
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

	// Released and paid: the payment is in their account's ledger.
	r = b.do(http.MethodGet, "/v1/payment-runs/"+run.Id.String(), b.financeA(), nil)
	r.decode(t, &run)
	r = b.do(http.MethodPost, "/v1/payment-runs/"+run.Id.String()+"/lines/"+line.Id.String()+"/release", b.financeA(),
		map[string]any{"reason": "the bank account is confirmed"}, "If-Match", etagOf(run.Version))
	require.Equal(t, http.StatusOK, r.Status, string(r.Body))
	r.decode(t, &run)
	b.pay(run)
	require.False(t, schedule().Payments[0].Held)
	var accts api.MyAccountList
	b.do(http.MethodGet, "/v1/me/people/"+p.Id.String()+"/direct-payment-accounts", me, nil).decode(t, &accts)
	require.Len(t, accts.Items, 1)
	acct := accts.Items[0].Id
	base := "/v1/me/direct-payment-accounts/" + acct.String()

	// 4. They upload their bank statement: a payment to an agency and one at a betting shop, both
	// flagged for the council (the plan names no agency), and answer the agency's flag.
	r = b.myImport(me, acct, "bank", "date,description,amount\n2026-05-10,LUCKY BETS,-50.00\n2026-05-12,CITY CARE AGENCY,-100.00\n")
	require.Equal(t, http.StatusCreated, r.Status, string(r.Body))
	var st api.MyStatement
	r.decode(t, &st)
	require.Equal(t, 2, st.NewLines)
	require.Equal(t, 2, st.FlaggedLines)
	var ledger api.MyLedger
	b.do(http.MethodGet, base+"/ledger?kind=spend", me, nil).decode(t, &ledger)
	require.Len(t, ledger.Items, 2)
	var flags api.MyFlagList
	b.do(http.MethodGet, base+"/flags?open=true", me, nil).decode(t, &flags)
	require.Len(t, flags.Items, 2)
	bets, agency := flags.Items[0], flags.Items[1]
	require.Equal(t, "CITY CARE AGENCY", agency.Description)
	r = b.do(http.MethodPost, base+"/flags/"+agency.Id.String()+"/answers", me,
		map[string]any{"explanation": "The agency sent a carer while my personal assistant was on holiday, as my plan allows."},
		"Idempotency-Key", uuid.NewString())
	require.Equal(t, http.StatusCreated, r.Status, string(r.Body))
	// The auditor reads the answer with the flag before deciding.
	var staffFlags api.StatementFlagList
	r = b.do(http.MethodGet, "/v1/direct-payment-accounts/"+acct.String()+"/flags?status=open", b.token("auditor"), nil)
	require.Equal(t, http.StatusOK, r.Status, string(r.Body))
	r.decode(t, &staffFlags)
	answered := map[uuid.UUID][]api.StatementFlagAnswer{}
	for _, f := range staffFlags.Items {
		answered[f.Id] = f.Answers
	}
	require.Len(t, answered[agency.Id], 1)
	require.Equal(t, "The agency sent a carer while my personal assistant was on holiday, as my plan allows.", answered[agency.Id][0].Explanation)
	require.Equal(t, "self", string(answered[agency.Id][0].AnsweredByBasis))
	require.Equal(t, p.Id, answered[agency.Id][0].AnsweredByPersonId)
	require.Empty(t, answered[bets.Id], "the betting shop's flag has no answer")
	// The council decides: the agency accepted, the betting shop a misspend.
	for id, res := range map[uuid.UUID]string{agency.Id: "accepted", bets.Id: "misspend"} {
		r = b.do(http.MethodPost, "/v1/direct-payment-accounts/"+acct.String()+"/flags/"+id.String()+"/resolve", b.token("auditor"),
			map[string]any{"resolution": res, "note": "decided at the audit"})
		require.Equal(t, http.StatusOK, r.Status, string(r.Body))
		var resolved api.StatementFlag
		r.decode(t, &resolved)
		require.Len(t, resolved.Answers, len(answered[id]), "the resolved flag keeps its answers")
	}

	// 5. Twelve weeks after the first payment, the audit asks for evidence; they send it.
	b.pay(b.createRun("2026-06-01"))
	b.pay(b.createRun("2026-06-29"))
	clock.Set("2026-07-28")
	require.Equal(t, 1, b.scheduleAudits())
	au := b.mustAct(b.auditsOf(dp.Id, "due")[0], map[string]any{"action": "request_evidence", "items": []any{
		map[string]any{"kind": "receipt", "description": "the agency's receipt for 12 May"}}})
	var audits api.MyAuditList
	r = b.do(http.MethodGet, "/v1/me/people/"+p.Id.String()+"/audits", me, nil)
	require.Equal(t, http.StatusOK, r.Status, string(r.Body))
	r.decode(t, &audits)
	require.Len(t, audits.Items, 1)
	mine := audits.Items[0]
	require.Equal(t, api.MyAuditState("evidence_requested"), mine.State)
	require.Equal(t, "2026-08-25", mine.EvidenceDue.MustGet().String(), "28 days to send it")
	require.Len(t, mine.EvidenceRequested, 1)
	require.Equal(t, "the agency's receipt for 12 May", mine.EvidenceRequested[0].Description)
	require.Equal(t, acct, mine.AccountId)
	require.False(t, mine.LetterAvailable)
	r = b.do(http.MethodPost, base+"/evidence", me, map[string]any{"audit_id": au.Id, "statement_line_id": agency.StatementLineId,
		"kind": "receipt", "reference": "portal/uploads/agency-receipt-0512.pdf", "sha256": sha256Hex("agency receipt"), "document_date": "2026-05-12"},
		"Idempotency-Key", uuid.NewString())
	require.Equal(t, http.StatusCreated, r.Status, string(r.Body))
	b.do(http.MethodGet, "/v1/me/audits/"+au.Id.String(), me, nil).decode(t, &mine)
	require.Len(t, mine.EvidenceSent, 1)

	// The auditor receives it, reconciles at the statement's balance, and concludes: the betting
	// shop's £50 is recovered.
	var bal api.MyBalance
	b.do(http.MethodGet, base+"/balance?at="+au.PeriodEnd.Time.AddDate(0, 0, -1).Format("2006-01-02"), me, nil).decode(t, &bal)
	au = b.mustAct(au, map[string]any{"action": "receive_evidence"})
	au = b.mustAct(au, map[string]any{"action": "reconcile", "statement_closing_pence": bal.BalancePence})
	require.Equal(t, int64(5_000), au.MisspendCouncilSharePence)
	reason := "£50 was spent at a betting shop, which a direct payment may not pay for."
	au = b.mustAct(au, map[string]any{"action": "conclude", "outcome": map[string]any{"kind": "recovery", "reason": reason}})
	r = b.recovery(map[string]any{"audit_id": au.Id, "basis": "misspend", "amount_pence": 5_000, "method": "invoice", "reason": reason})
	require.Equal(t, http.StatusCreated, r.Status, string(r.Body))
	var rc api.Recovery
	r.decode(t, &rc)
	b.recoveryAction(rc.Id, map[string]any{"action": "notify"})
	b.do(http.MethodGet, "/v1/me/audits/"+au.Id.String(), me, nil).decode(t, &mine)
	require.Equal(t, api.AuditOutcomeKind("recovery"), mine.Outcome.MustGet().Kind)
	require.Equal(t, reason, mine.Outcome.MustGet().Reason)
	require.NotEmpty(t, mine.Reconciliation, "the reconciliation, step by step")
	require.True(t, mine.LetterAvailable)
	r = b.do(http.MethodGet, "/v1/me/audits/"+au.Id.String()+"/letter", me, nil)
	require.Equal(t, http.StatusOK, r.Status, string(r.Body))
	require.True(t, bytes.HasPrefix(r.Body, []byte("%PDF")))

	// 6. They dispute the recovery with their grounds: it pauses, as for a dispute staff record.
	var myRecs api.MyRecoveryList
	r = b.do(http.MethodGet, "/v1/me/people/"+p.Id.String()+"/recoveries", me, nil)
	require.Equal(t, http.StatusOK, r.Status, string(r.Body))
	r.decode(t, &myRecs)
	require.Len(t, myRecs.Items, 1)
	mr := myRecs.Items[0]
	require.Equal(t, int64(5_000), mr.AmountPence)
	require.Equal(t, reason, mr.Reason)
	require.Equal(t, "2026-08-11", mr.InvoiceDue.MustGet().String(), "an invoice, due in 14 days")
	require.True(t, mr.CanDispute)
	require.Contains(t, mr.HowToDispute, "dispute")
	r = b.do(http.MethodPost, "/v1/me/recoveries/"+rc.Id.String()+"/dispute", me,
		map[string]any{"grounds": "The shop sells the lottery tickets and the groceries I buy there; the receipt shows groceries."},
		"Idempotency-Key", uuid.NewString())
	require.Equal(t, http.StatusOK, r.Status, string(r.Body))
	r.decode(t, &mr)
	require.Equal(t, api.MyRecoveryStatus("disputed"), mr.Status)
	require.False(t, mr.CanDispute)
	var staff api.Recovery
	b.do(http.MethodGet, "/v1/recoveries/"+rc.Id.String(), b.token("auditor"), nil).decode(t, &staff)
	require.Equal(t, api.RecoveryStatus("disputed"), staff.Status, "the council sees the dispute")
	require.Contains(t, staff.Grounds.MustGet(), "groceries")

	// 7. The agreed-budget letter.
	r = b.do(http.MethodGet, "/v1/me/personal-budgets/"+pb.Id.String()+"/letters/agreed", me, nil)
	require.Equal(t, http.StatusOK, r.Status, string(r.Body))
	require.Contains(t, string(r.Body), "Your agreed personal budget")

	// 8. Ask for the council-managed home care to be a direct payment.
	r = b.do(http.MethodPost, "/v1/me/management-change-requests", me, map[string]any{"plan_id": plan.Id, "plan_line_id": plan.Lines[1].Id,
		"requested_option": "direct_payment", "reason": "I would like to choose my own carers"}, "Idempotency-Key", uuid.NewString())
	require.Equal(t, http.StatusCreated, r.Status, string(r.Body))
	var open api.ManagementChangeRequestList
	b.do(http.MethodGet, "/v1/management-change-requests?status=open&person_id="+p.Id.String(), b.token("practitioner"), nil).decode(t, &open)
	require.Len(t, open.Items, 1)

	// 9. The next review, and a request for one now.
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
	require.Equal(t, "request", string(rv.OpenRequests[0].Reason))
	next := rv.Next.MustGet()
	require.False(t, next.DueDate.After(clock.Now().AddDate(0, 1, 0)),
		"the next review is due within a month (%s, %s): brought forward by the request, or already due", next.DueDate, next.Rule)
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
