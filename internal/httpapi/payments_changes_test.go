package httpapi_test

import (
	"net/http"
	"strings"
	"testing"

	"github.com/google/uuid"
	"github.com/stretchr/testify/require"

	"github.com/pbudget/pbudget/api"
)

type lineView struct {
	kind   string
	cycle  string
	amount int64
}

func linesOf(lines []api.PaymentLine) []lineView {
	out := make([]lineView, len(lines))
	for i, l := range lines {
		out[i] = lineView{kind: string(l.Kind), amount: l.AmountPence}
		if c, err := l.CycleStart.Get(); err == nil {
			out[i].cycle = c.Format("2006-01-02")
		}
	}
	return out
}

// agreementAction posts an action on a direct-payment agreement at version and returns the
// response and the agreement.
func (b *bundle) agreementAction(id uuid.UUID, version int, action, token string, body map[string]any) (*resp, api.PaymentAgreement) {
	b.t.Helper()
	r := b.do(http.MethodPost, "/v1/direct-payment-agreements/"+id.String()+"/"+action, token, body, "If-Match", etagOf(version))
	var out api.PaymentAgreement
	if r.Status == http.StatusOK {
		r.decode(b.t, &out)
		require.Equal(b.t, etagOf(out.Version), r.Header.Get("ETag"))
	}
	return r, out
}

func (b *bundle) mustAgreementAction(id uuid.UUID, version int, action, token string, body map[string]any) api.PaymentAgreement {
	b.t.Helper()
	r, out := b.agreementAction(id, version, action, token, body)
	require.Equal(b.t, http.StatusOK, r.Status, string(r.Body))
	return out
}

// A suspension after a cycle was paid, a resumption without back pay (or with it), and an ending:
// adjustment lines in later runs, never a second payment of a cycle; money paid for days after the
// end, with nothing left to offset it against, is recorded as an overpayment to recover.
func TestSuspensionsAndEndingsAfterPaymentAreAdjustedAndOverpaymentsRecorded(t *testing.T) {
	t.Parallel()
	b, _ := payBundle(t, "2026-04-01")
	f := b.agreements(agreementSpec{start: "2026-04-06"})
	g := b.agreements(agreementSpec{start: "2026-04-06"}) // resumed with back pay
	b.pay(b.createRun("2026-04-06"))                      // the cycle of 6 April: £600 each

	fa := b.mustAgreementAction(f.dp.Id, f.dp.Version, "suspend", b.token("practitioner"), map[string]any{"from_date": "2026-04-20", "reason": " in hospital "})
	ga := b.mustAgreementAction(g.dp.Id, g.dp.Version, "suspend", b.token("finance"), map[string]any{"from_date": "2026-04-20", "reason": "in hospital"})
	r, _ := b.agreementAction(f.dp.Id, fa.Version, "suspend", b.token("finance"), map[string]any{"from_date": "2026-04-27", "reason": "again"})
	require.Equal(t, http.StatusConflict, r.Status)
	require.Equal(t, "urn:pbudget:problem:agreement-already-suspended", r.problem(t).Type)

	skipped := b.createRun("2026-04-27") // both suspended on the pay date
	require.Equal(t, 0, skipped.Totals.LineCount)
	require.Equal(t, 2, skipped.Totals.SkippedCount)
	r, _ = b.runAction(skipped, "cancel", b.financeA(), map[string]any{"reason": "nothing to pay"})
	require.Equal(t, http.StatusOK, r.Status, string(r.Body))

	r, _ = b.agreementAction(f.dp.Id, fa.Version, "resume", b.token("finance"), map[string]any{"resume_date": "2026-04-20", "reason": "home"})
	require.Equal(t, http.StatusUnprocessableEntity, r.Status, "payments resume after the suspension's first day")
	require.Equal(t, "urn:pbudget:problem:resume-date-not-after-suspension", r.problem(t).Type)
	fa = b.mustAgreementAction(f.dp.Id, fa.Version, "resume", b.token("finance"), map[string]any{"resume_date": "2026-05-04", "reason": "home"})
	b.mustAgreementAction(g.dp.Id, ga.Version, "resume", b.token("finance"), map[string]any{"resume_date": "2026-05-04", "back_pay": true, "reason": "support kept up"})

	may := b.createRun("2026-05-04")
	lines := b.lines(&may.Id, "")
	require.Equal(t, []lineView{{"cycle", "2026-05-04", 60_000}, {"adjustment", "2026-04-06", -30_000}}, linesOf(onlyAgreement(lines, f.dp.Id.String())),
		"14 of the cycle's 28 days were suspended without back pay: the paid cycle is adjusted, not paid again")
	require.Equal(t, []lineView{{"cycle", "2026-05-04", 60_000}}, linesOf(onlyAgreement(lines, g.dp.Id.String())), "back pay: nothing to adjust")
	require.Equal(t, int64(90_000), may.Totals.TotalPence)
	s := b.schedule("direct-payment-agreements", f.dp.Id, "2026-05-04")
	c := s.Cycles[0]
	require.Equal(t, 14, c.DaysOwed)
	require.Equal(t, int64(30_000), c.OwedPence)
	require.Equal(t, int64(60_000), c.PaidPence)
	require.Equal(t, int64(-30_000), c.PendingPence)
	require.Equal(t, int64(-30_000), c.AdjustedPence)
	require.Equal(t, int64(0), c.OutstandingPence)
	require.Len(t, s.Suspensions, 1)
	require.Equal(t, "in hospital", s.Suspensions[0].Reason, "trimmed")
	b.pay(may)

	fa = b.mustAgreementAction(f.dp.Id, fa.Version, "end", b.token("practitioner"), map[string]any{"end_date": "2026-05-18", "reason": "moved to a care home"})
	require.Equal(t, "2026-05-18", fa.EndDate.MustGet().Format("2006-01-02"))
	r, _ = b.agreementAction(f.dp.Id, fa.Version, "end", b.token("practitioner"), map[string]any{"end_date": "2026-05-25", "reason": "again"})
	require.Equal(t, http.StatusConflict, r.Status)
	require.Equal(t, "urn:pbudget:problem:agreement-already-ended", r.problem(t).Type)

	june := b.createRun("2026-06-01")
	lines = b.lines(&june.Id, "")
	require.Equal(t, []lineView{{"adjustment", "2026-05-04", -30_000}, {"overpayment", "", 30_000}}, linesOf(onlyAgreement(lines, f.dp.Id.String())),
		"paid for the 14 days after the end, with nothing to offset it: an overpayment, and no payment")
	require.Equal(t, []lineView{{"cycle", "2026-06-01", 60_000}}, linesOf(onlyAgreement(lines, g.dp.Id.String())))
	require.Equal(t, int64(60_000), june.Totals.TotalPence)
	require.Equal(t, 1, june.Totals.AgreementCount, "the ended agreement is paid nothing")
	b.pay(june)

	var over api.OverpaymentList
	r = b.do(http.MethodGet, "/v1/payment-overpayments?agreement_id="+f.dp.Id.String(), b.token("auditor"), nil)
	require.Equal(t, http.StatusOK, r.Status)
	r.decode(t, &over)
	require.Len(t, over.Items, 1)
	require.Equal(t, int64(30_000), over.Items[0].AmountPence)
	require.Equal(t, june.Id, over.Items[0].RunId)
	require.Contains(t, over.Items[0].Reason, "overpayment to recover")

	// Paid over all runs: £600 + £300 + £0 = the £600 owed for the days in force + £300 overpaid.
	var paid int64
	for _, l := range b.lines(nil, "agreement_id="+f.dp.Id.String()) {
		if l.State == "live" {
			paid += l.AmountPence
		}
	}
	s = b.schedule("direct-payment-agreements", f.dp.Id, "2026-06-01")
	var owed int64
	for _, c := range s.Cycles {
		owed += c.OwedPence
	}
	require.Equal(t, int64(60_000), owed)
	require.Equal(t, owed+over.Items[0].AmountPence, paid)
}

// A revised plan stops payments until the agreement is repriced onto it; then the cycles already
// paid are adjusted from the effective date, and later cycles pay the new amount.
func TestARevisedPlanIsPaidFromItsEffectiveDateByAdjustment(t *testing.T) {
	t.Parallel()
	b, _ := payBundle(t, "2026-04-01")
	f := b.agreements(agreementSpec{start: "2026-04-06"})
	b.pay(b.createRun("2026-05-04")) // 6 April and 4 May, £600 each

	tok := b.token("practitioner")
	r := b.do(http.MethodPost, "/v1/support-plans/"+f.plan.Id.String()+"/revise", tok, nil, "If-Match", f.planTag)
	require.Equal(t, http.StatusCreated, r.Status, string(r.Body))
	var revised api.SupportPlan
	r.decode(t, &revised)
	r = b.do(http.MethodPut, "/v1/support-plans/"+revised.Id.String()+"/lines/"+revised.Lines[0].Id.String(), tok,
		lineBody("personal_assistant", "direct_payment", 1_500, "20", f.budget), "If-Match", r.Header.Get("ETag"))
	require.Equal(t, http.StatusOK, r.Status, string(r.Body))
	r.decode(t, &revised)
	b.approve(revised, b.submit(revised, r.Header.Get("ETag")))

	var list api.PaymentAgreementList
	b.do(http.MethodGet, "/v1/payment-agreements?agreement_type=direct_payment", b.token("finance"), nil).decode(t, &list)
	require.Len(t, list.Items, 1)
	require.False(t, list.Items[0].PlanIsApproved)
	require.Contains(t, list.Items[0].BlockedReason.MustGet(), "reprice")
	blocked := b.createRun("2026-06-01")
	require.Equal(t, 0, blocked.Totals.LineCount, "a run never pays an agreement whose plan is no longer the approved one")
	require.Equal(t, 1, blocked.Totals.SkippedCount)
	r, _ = b.runAction(blocked, "cancel", b.financeA(), map[string]any{"reason": "reprice first"})
	require.Equal(t, http.StatusOK, r.Status)

	r, _ = b.agreementAction(f.dp.Id, list.Items[0].Version, "reprice", b.token("finance"), map[string]any{"effective_from": "2026-04-05", "reason": "before the start"})
	require.Equal(t, http.StatusUnprocessableEntity, r.Status)
	require.Equal(t, "urn:pbudget:problem:amount-effective-date-invalid", r.problem(t).Type)
	a := b.mustAgreementAction(f.dp.Id, list.Items[0].Version, "reprice", b.token("finance"),
		map[string]any{"effective_from": "2026-05-18", "reason": "revised plan: 20 hours a week"})
	require.True(t, a.PlanIsApproved)
	require.Equal(t, revised.Id, a.PlanId)
	require.Equal(t, int64(1_560_000), a.AnnualAmountPence)

	june := b.createRun("2026-06-01")
	require.Equal(t, []lineView{{"cycle", "2026-06-01", 120_000}, {"adjustment", "2026-05-04", 30_000}}, linesOf(b.lines(&june.Id, "")),
		"the cycle of 4 May: 14 days at £600 a cycle and 14 at £1,200 owe £900, £600 was paid")
	s := b.schedule("direct-payment-agreements", f.dp.Id, "2026-06-01")
	require.Len(t, s.Amounts, 2)
	require.Len(t, s.Cycles[1].Pieces, 2, "the split cycle shows both amounts")
	require.Equal(t, int64(90_000), s.Cycles[1].OwedPence)
}

// One-off payments: an ad hoc amount approved by a second user, and a plan line's one-off cost for
// an agreement paid one-off; each is paid once, by the next run.
func TestOneOffPaymentsArePaidOnceByTheNextRun(t *testing.T) {
	t.Parallel()
	b, _ := payBundle(t, "2026-04-01")
	f := b.agreements(agreementSpec{start: "2026-04-06"})
	body := map[string]any{"agreement_id": f.dp.Id, "amount_pence": 25_000, "reason": "replacement hoist battery"}
	before := b.counts()
	r := b.do(http.MethodPost, "/v1/one-off-payments", b.financeA(), body)
	require.Equal(t, http.StatusBadRequest, r.Status, "Idempotency-Key is mandatory on money-moving POSTs")
	require.Equal(t, "Idempotency-Key", (*r.problem(t).Errors)[0].Field)
	require.Equal(t, before, b.counts())
	r = b.do(http.MethodPost, "/v1/one-off-payments", b.financeA(), body, "Idempotency-Key", uuid.NewString())
	require.Equal(t, http.StatusCreated, r.Status, string(r.Body))
	var o api.OneOffPayment
	r.decode(t, &o)
	require.Equal(t, api.OneOffStatus("requested"), o.Status)

	empty := b.createRun("2026-04-06")
	require.Equal(t, []lineView{{"cycle", "2026-04-06", 60_000}}, linesOf(b.lines(&empty.Id, "")), "not approved: not paid")
	r, _ = b.runAction(empty, "cancel", b.financeA(), map[string]any{"reason": "the one-off is not approved yet"})
	require.Equal(t, http.StatusOK, r.Status)

	r = b.do(http.MethodPost, "/v1/one-off-payments/"+o.Id.String()+"/approve", b.financeA(), nil, "If-Match", etagOf(o.Version), "Idempotency-Key", uuid.NewString())
	require.Equal(t, http.StatusUnprocessableEntity, r.Status)
	require.Equal(t, "urn:pbudget:problem:one-off-self-approval", r.problem(t).Type)
	r = b.do(http.MethodPost, "/v1/one-off-payments/"+o.Id.String()+"/approve", b.financeB(), nil, "If-Match", etagOf(o.Version), "Idempotency-Key", uuid.NewString())
	require.Equal(t, http.StatusOK, r.Status, string(r.Body))
	r.decode(t, &o)
	require.Equal(t, "finance-b", o.ApprovedBy.MustGet())

	r = b.do(http.MethodPost, "/v1/one-off-payments", b.financeA(), map[string]any{"agreement_id": f.dp.Id, "plan_line_id": f.plan.Lines[0].Id,
		"reason": "the plan's line"}, "Idempotency-Key", uuid.NewString())
	require.Equal(t, http.StatusUnprocessableEntity, r.Status, "a cycle agreement's annual amount already pays its plan lines")
	require.Equal(t, "urn:pbudget:problem:one-off-line-not-payable", r.problem(t).Type)

	run := b.createRun("2026-04-06")
	require.Equal(t, []lineView{{"cycle", "2026-04-06", 60_000}, {"one_off", "", 25_000}}, linesOf(b.lines(&run.Id, "")))
	r = b.do(http.MethodGet, "/v1/one-off-payments/"+o.Id.String(), b.token("practitioner"), nil)
	r.decode(t, &o)
	require.Equal(t, run.Id, o.PaidInRunId.MustGet())
	next := b.createRun("2026-04-06")
	require.Zero(t, next.Totals.LineCount, "paid once")

	// A yearly short break paid one-off: the plan line's cost, approved by the plan's sign-off.
	g := b.agreements(agreementSpec{start: "2026-04-06", frequency: "one_off", extraLines: []map[string]any{
		with(lineBody("carer_break", "direct_payment", 45_000, "1", f.budget), "unit", "one_off", "frequency", "once")}})
	var once api.PlanLine
	for _, l := range g.plan.Lines {
		if l.Frequency == "once" {
			once = l
		}
	}
	r = b.do(http.MethodPost, "/v1/one-off-payments", b.financeA(), map[string]any{"agreement_id": g.dp.Id, "plan_line_id": once.Id,
		"reason": "summer short break"}, "Idempotency-Key", uuid.NewString())
	require.Equal(t, http.StatusCreated, r.Status, string(r.Body))
	r.decode(t, &o)
	require.Equal(t, api.OneOffStatus("approved"), o.Status)
	require.True(t, o.ApprovedBy.IsNull(), "approved by the plan's sign-off")
	require.Equal(t, int64(45_000), o.AmountPence)
	r = b.do(http.MethodPost, "/v1/one-off-payments", b.financeA(), map[string]any{"agreement_id": g.dp.Id, "plan_line_id": once.Id,
		"reason": "again"}, "Idempotency-Key", uuid.NewString())
	require.Equal(t, http.StatusConflict, r.Status)
	require.Equal(t, "urn:pbudget:problem:one-off-line-already-requested", r.problem(t).Type)
	short := b.createRun("2026-04-06")
	require.Equal(t, []lineView{{"one_off", "", 45_000}}, linesOf(b.lines(&short.Id, "agreement_id="+g.dp.Id.String())), "no cycles: the one-off only")
}

// A payment the bank returns becomes unpaid again, with the reason; the recipient's later payments
// are held until new details are set and confirmed.
func TestAReturnedPaymentIsUnpaidAgainAndHeldUntilNewDetails(t *testing.T) {
	t.Parallel()
	b, _ := payBundle(t, "2026-04-01")
	f := b.agreements(agreementSpec{start: "2026-04-06"})
	run := b.createRun("2026-04-06")
	line := b.lines(&run.Id, "")[0]
	r, run := b.runAction(run, "approve", b.financeB(), nil)
	require.Equal(t, http.StatusOK, r.Status)
	r, run = b.runAction(run, "export", b.financeB(), nil)
	require.Equal(t, http.StatusOK, r.Status)
	r, run = b.runAction(run, "mark-paid", b.financeB(), map[string]any{"returned": []any{map[string]any{"payment_line_id": line.Id, "reason": "ARUCS 0: account closed"}}})
	require.Equal(t, http.StatusOK, r.Status, string(r.Body))
	require.Equal(t, 1, run.Totals.ReturnedLineCount)
	require.Equal(t, int64(60_000), run.Totals.ReturnedPence)
	returned := b.lines(&run.Id, "")[0]
	require.Equal(t, api.PaymentLineState("returned"), returned.State)
	require.Equal(t, "ARUCS 0: account closed", returned.ReturnReason.MustGet())
	r, _ = b.runAction(run, "returns", b.financeB(), map[string]any{"returned": []any{map[string]any{"payment_line_id": line.Id, "reason": "twice"}}})
	require.Equal(t, http.StatusUnprocessableEntity, r.Status, "a payment comes back once")

	again := b.createRun("2026-04-06")
	l := b.lines(&again.Id, "")
	require.Equal(t, []lineView{{"cycle", "2026-04-06", 60_000}}, linesOf(l), "unpaid again: a later run takes it")
	require.Equal(t, "the bank returned the last payment: set and confirm new details", l[0].HoldReason.MustGet())
	b.setDetails("/v1/direct-payment-agreements/"+f.dp.Id.String()+"/payment-details", bankAccount(), true)
	r, again = b.runAction(again, "lines/"+l[0].Id.String()+"/release", b.financeA(), map[string]any{"reason": "new account confirmed"})
	require.Equal(t, http.StatusOK, r.Status, string(r.Body))
	require.Equal(t, int64(60_000), b.pay(again).Totals.TotalPence)
}

// A prepaid-card recipient is loaded through the card file, with its card reference.
func TestPrepaidCardsAreLoadedThroughTheCardFile(t *testing.T) {
	t.Parallel()
	b, _ := payBundle(t, "2026-04-01")
	f := b.agreements(agreementSpec{start: "2026-04-06", accountType: "prepaid_card"})
	r := b.do(http.MethodGet, "/v1/direct-payment-agreements/"+f.dp.Id.String()+"/payment-details", b.token("auditor"), nil)
	require.Equal(t, http.StatusOK, r.Status)
	var d api.RecipientDetails
	r.decode(t, &d)
	require.Equal(t, api.MaskedDetailsKind("prepaid_card"), d.Confirmed.MustGet().Kind)
	require.True(t, strings.HasPrefix(d.Confirmed.MustGet().AccountNumber, "****"))
	r = b.do(http.MethodPut, "/v1/direct-payment-agreements/"+f.dp.Id.String()+"/payment-details", b.financeA(), with(bankAccount(), "reason", "x"))
	require.Equal(t, http.StatusUnprocessableEntity, r.Status, "a card agreement takes a card")
	require.Equal(t, "urn:pbudget:problem:payment-details-kind-mismatch", r.problem(t).Type)

	run := b.pay(b.createRun("2026-04-06"))
	require.Len(t, run.Files, 1)
	require.Equal(t, api.PaymentFileKind("card_loads"), run.Files[0].Kind)
	require.Equal(t, run.Totals.TotalPence, run.Files[0].TotalPence)
	body := string(b.fileBytes(run.Files[0].Id, b.token("finance")).Body)
	require.True(t, strings.HasPrefix(body, "card_account_reference,amount,reference\r\nCARD-"), body)
	require.Contains(t, body, ",600.00,PB-00001-")
}

// An anchor cannot move once a cycle of its frequency has been taken: cycles are identified by
// their start.
func TestAPaymentAnchorCannotMoveOnceUsed(t *testing.T) {
	t.Parallel()
	b, _ := payBundle(t, "2026-04-01")
	admin := b.token("council_admin")
	patch := func(body map[string]any) *resp {
		s := b.do(http.MethodGet, "/v1/council/settings", admin, nil)
		return b.do(http.MethodPatch, "/v1/council/settings", admin, body, "If-Match", s.Header.Get("ETag"))
	}
	r := patch(map[string]any{"payment_four_weekly_anchor": "2026-04-13"})
	require.Equal(t, http.StatusOK, r.Status, "no cycle taken yet")
	b.agreements(agreementSpec{start: "2026-04-13"})
	b.createRun("2026-04-13")
	before := b.counts()
	r = patch(map[string]any{"payment_four_weekly_anchor": "2026-04-06"})
	require.Equal(t, http.StatusUnprocessableEntity, r.Status)
	require.Equal(t, "urn:pbudget:problem:payment-anchor-in-use", r.problem(t).Type)
	require.Equal(t, before, b.counts())
	r = patch(map[string]any{"payment_monthly_anchor": "2026-04-01", "payment_processing_days": 5})
	require.Equal(t, http.StatusOK, r.Status, "no monthly cycle is taken")
	var st api.CouncilSettings
	r.decode(t, &st)
	require.Equal(t, 5, st.PaymentProcessingDays)
	require.Equal(t, "TEST COUNCIL DP", st.BacsOriginator.MustGet().AccountName)
}

// The council-managed part of a budget is not paid by runs: finance sees what the approved plan
// commits with each provider, to match invoices.
func TestCommitmentsShowCouncilManagedSpendPerProvider(t *testing.T) {
	t.Parallel()
	b, _ := payBundle(t, "2026-04-01")
	agency := b.provider("care_agency")
	pb := b.budgetOfNewPerson()
	r := b.do(http.MethodGet, "/v1/personal-budgets/"+pb.Id.String()+"/commitments", b.token("finance"), nil)
	require.Equal(t, http.StatusOK, r.Status)
	var c api.BudgetCommitments
	r.decode(t, &c)
	require.True(t, c.PlanId.IsNull(), "no approved plan yet")
	plan, tag := b.planWith(pb,
		lineBody("home_care", "council_managed", 2_500, "5", pb, "provider_id", agency.Id),
		lineBody("home_care", "council_managed", 2_500, "2", pb, "provider_id", agency.Id),
		lineBody("transport", "council_managed", 1_000, "2", pb),
		lineBody("personal_assistant", "direct_payment", 1_500, "10", pb))
	b.approve(plan, b.submit(plan, tag))
	r = b.do(http.MethodGet, "/v1/personal-budgets/"+pb.Id.String()+"/commitments", b.token("practitioner"), nil)
	require.Equal(t, http.StatusOK, r.Status)
	r.decode(t, &c)
	require.Equal(t, plan.Id, c.PlanId.MustGet())
	require.Len(t, c.Providers, 2)
	require.Equal(t, agency.Id, c.Providers[0].ProviderId.MustGet())
	require.Equal(t, 2, c.Providers[0].LineCount)
	require.Equal(t, int64(2_500*7*52), c.Providers[0].AnnualPence)
	require.True(t, c.Providers[1].ProviderId.IsNull())
	require.Equal(t, int64(1_000*2*52), c.Providers[1].AnnualPence)
	require.Equal(t, c.Providers[0].AnnualPence+c.Providers[1].AnnualPence, c.AnnualPence)
}
