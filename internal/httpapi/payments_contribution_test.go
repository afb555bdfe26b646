package httpapi_test

import (
	"net/http"
	"testing"

	"github.com/google/uuid"
	"github.com/stretchr/testify/require"

	"github.com/pbudget/pbudget/api"
)

// contributionOf is a financial assessment that charges a person born in 1990 weekly pence a
// week: income of the MIG (£112.50 under the table of rateTable("2025-04-06", 11_250)) plus
// weekly, no capital, a 100% taper.
func contributionOf(effective string, weekly int64) map[string]any {
	return map[string]any{
		"kind": "full", "effective_date": effective, "household": "single",
		"income":  []any{map[string]any{"type": "other_benefit", "weekly_pence": 11_250 + weekly}},
		"capital": []any{},
	}
}

// amountsOf are an agreement's amount history, from its schedule.
func (b *bundle) amountsOf(kind string, id uuid.UUID) []api.AgreementAmount {
	b.t.Helper()
	return b.schedule(kind, id, "").Amounts
}

// A financial assessment completed after cycles were paid, effective from a day before them, with
// a lower contribution: the net direct payment and the ISF are repriced from its effective date
// by the completion itself (the reason names the assessment), and the next run pays what the paid
// cycles now owe more as adjustments; a gross direct payment is left alone.
func TestABackdatedLowerContributionIsPaidByAdjustmentInTheNextRun(t *testing.T) {
	t.Parallel()
	b, clk := payBundle(t, "2026-04-01")
	b.rateTable("2025-04-06", 11_250)
	isf := b.provider("isf_provider")
	b.setDetails("/v1/providers/"+isf.Id.String()+"/bank-details", bankAccount(), true)
	assess := func(personID string) { b.financial(personID, contributionOf("2026-04-01", 5_000)) } // £50 a week
	// £150 a week by direct payment and £150 by ISF: the person's £50 is split £25 and £25, so each
	// pays £7,800 − £1,300 = £6,500 a year, £500 a four-week cycle.
	net := b.agreements(agreementSpec{start: "2026-04-06", basis: "net", isf: &isf, isfQty: "2", assess: assess})
	gross := b.agreements(agreementSpec{start: "2026-04-06", assess: assess}) // £7,800 a year whatever the contribution: £600
	require.Equal(t, int64(650_000), net.dp.AnnualAmountPence)
	require.Equal(t, int64(650_000), net.isf.AnnualAmountPence)
	require.Equal(t, int64(780_000), gross.dp.AnnualAmountPence)
	b.pay(b.createRun("2026-05-04")) // the cycles of 6 April and 4 May

	clk.Set("2026-05-10")
	lower := b.financial(net.budget.PersonId.String(), contributionOf("2026-04-20", 2_500)) // £25 a week from 20 April
	b.financial(gross.budget.PersonId.String(), contributionOf("2026-04-20", 2_500))

	for _, a := range []struct {
		kind string
		id   uuid.UUID
	}{{"direct-payment-agreements", net.dp.Id}, {"isf-agreements", net.isf.Id}} {
		amounts := b.amountsOf(a.kind, a.id)
		require.Len(t, amounts, 2, a.kind)
		require.Equal(t, "2026-04-20", amounts[1].EffectiveFrom.Format("2006-01-02"))
		require.Equal(t, int64(715_000), amounts[1].AnnualPence, "£7,800 − £650 a year")
		require.Equal(t, int64(55_000), amounts[1].PerCyclePence)
		require.Contains(t, amounts[1].Reason, lower.Id.String(), "the reason names the assessment")
	}
	require.Len(t, b.amountsOf("direct-payment-agreements", gross.dp.Id), 1, "a gross direct payment pays the whole cost whatever the contribution")
	ev := b.lastEvent(net.dp.Id.String(), "direct_payment_agreement.repriced")
	require.Equal(t, lower.Id.String(), ev["financial_assessment_id"])

	june := b.createRun("2026-06-01")
	lines := b.lines(&june.Id, "")
	want := []lineView{{"cycle", "2026-06-01", 55_000}, {"adjustment", "2026-04-06", 2_500}, {"adjustment", "2026-05-04", 5_000}}
	require.Equal(t, want, linesOf(onlyAgreement(lines, net.dp.Id.String())),
		"the cycle of 6 April owes 14 days at £500 and 14 at £550: £525, £500 was paid; the cycle of 4 May owes £550")
	require.Equal(t, want, linesOf(onlyAgreement(lines, net.isf.Id.String())))
	require.Equal(t, []lineView{{"cycle", "2026-06-01", 60_000}}, linesOf(onlyAgreement(lines, gross.dp.Id.String())))
	b.pay(june)

	s := b.schedule("direct-payment-agreements", net.dp.Id, "2026-06-01")
	var owed, paid int64
	for _, c := range s.Cycles {
		owed, paid = owed+c.OwedPence, paid+c.PaidPence
		require.Equal(t, int64(0), c.OutstandingPence)
	}
	require.Equal(t, int64(52_500+55_000+55_000), owed)
	require.Equal(t, owed, paid, "paid exactly what is owed, each cycle once")
}

// A higher contribution backdated over paid cycles: the adjustments are negative, offset against
// the next cycle, and what is left is carried forward from run to run; no run pays a negative
// amount.
func TestABackdatedHigherContributionIsOffsetAndCarriedForwardNeverPaidNegative(t *testing.T) {
	t.Parallel()
	b, clk := payBundle(t, "2026-04-01")
	b.rateTable("2025-04-06", 11_250)
	f := b.agreements(agreementSpec{start: "2026-04-06", basis: "net",
		assess: func(personID string) { b.financial(personID, contributionOf("2026-04-01", 2_500)) }}) // £25 a week
	require.Equal(t, int64(650_000), f.dp.AnnualAmountPence, "£7,800 − £1,300 a year: £500 a cycle")
	other := b.agreements(agreementSpec{start: "2026-04-06"}) // another recipient in the same runs: £600 a cycle
	b.pay(b.createRun("2026-05-04"))

	clk.Set("2026-05-10")
	higher := b.financial(f.budget.PersonId.String(), contributionOf("2026-04-06", 14_000)) // £140 a week from the start
	amounts := b.amountsOf("direct-payment-agreements", f.dp.Id)
	require.Len(t, amounts, 2)
	require.Equal(t, "2026-04-06", amounts[1].EffectiveFrom.Format("2006-01-02"))
	require.Equal(t, int64(52_000), amounts[1].AnnualPence, "£7,800 − £7,280 a year")
	require.Equal(t, int64(4_000), amounts[1].PerCyclePence)
	require.Contains(t, amounts[1].Reason, higher.Id.String())

	june := b.createRun("2026-06-01")
	lines := b.lines(&june.Id, "")
	require.Equal(t, []lineView{{"cycle", "2026-06-01", 4_000}, {"adjustment", "2026-04-06", -46_000}, {"adjustment", "2026-05-04", -46_000},
		{"carried", "", 88_000}}, linesOf(onlyAgreement(lines, f.dp.Id.String())),
		"£500 was paid for cycles that owe £40: the £920 is offset against June's £40 and the rest carried forward")
	require.Equal(t, int64(60_000), june.Totals.TotalPence, "the run pays the other recipient only")
	require.Equal(t, 1, june.Totals.AgreementCount)
	for _, p := range b.runPayments(june) {
		require.Positive(t, p, "no payment is negative")
	}
	b.pay(june)

	july := b.createRun("2026-06-29")
	lines = b.lines(&july.Id, "")
	require.Equal(t, []lineView{{"cycle", "2026-06-29", 4_000}, {"carried", "", -88_000}, {"carried", "", 84_000}},
		linesOf(onlyAgreement(lines, f.dp.Id.String())), "brought forward, offset against the cycle, the rest carried on")
	require.Equal(t, int64(60_000), july.Totals.TotalPence)
	require.Equal(t, []lineView{{"cycle", "2026-06-29", 60_000}}, linesOf(onlyAgreement(lines, other.dp.Id.String())))
}

// runPayments is each agreement's net in a run: the sum of its lines.
func (b *bundle) runPayments(run api.PaymentRun) map[string]int64 {
	b.t.Helper()
	out := map[string]int64{}
	for _, l := range b.lines(&run.Id, "") {
		out[l.AgreementId.String()] += l.AmountPence
	}
	for id, net := range out {
		if net == 0 {
			delete(out, id) // paid nothing: not a payment
		}
	}
	return out
}

// Uprating recalculates contributions in batches: each batch reprices the net agreements of the
// budgets it recomposed, from the new table's first day, in its own transaction.
func TestAnUpratingBatchRepricesTheNetAgreementsOfTheBudgetsItChanges(t *testing.T) {
	t.Parallel()
	b, clk := payBundle(t, "2026-04-01")
	b.rateTable("2025-04-06", 11_250)
	f := b.agreements(agreementSpec{start: "2026-04-06", basis: "net",
		assess: func(personID string) { b.financial(personID, contributionOf("2026-04-01", 5_000)) }}) // £50 a week: £400 a cycle
	require.Equal(t, int64(520_000), f.dp.AnnualAmountPence)
	b.pay(b.createRun("2026-05-04"))

	clk.Set("2026-05-10")
	uprated := b.rateTable("2026-04-20", 11_700) // a £4.50 higher MIG from 20 April: £45.50 a week
	r := b.do(http.MethodPost, "/v1/rate-tables/"+uprated.Id.String()+"/uprate", b.token("finance"), nil)
	require.Equal(t, http.StatusAccepted, r.Status, string(r.Body))
	require.Equal(t, 1, b.finishedJob(r.Header.Get("Location")).Changed)

	amounts := b.amountsOf("direct-payment-agreements", f.dp.Id)
	require.Len(t, amounts, 2)
	require.Equal(t, "2026-04-20", amounts[1].EffectiveFrom.Format("2006-01-02"))
	require.Equal(t, int64(543_400), amounts[1].AnnualPence, "£7,800 − £2,366 a year")
	require.Contains(t, amounts[1].Reason, "financial assessment")

	june := b.createRun("2026-06-01")
	require.Equal(t, []lineView{{"cycle", "2026-06-01", 41_800}, {"adjustment", "2026-04-06", 900}, {"adjustment", "2026-05-04", 1_800}},
		linesOf(onlyAgreement(b.lines(&june.Id, ""), f.dp.Id.String())))
}
