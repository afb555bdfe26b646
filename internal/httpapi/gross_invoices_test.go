package httpapi_test

import (
	"net/http"
	"testing"

	"github.com/google/uuid"
	"github.com/stretchr/testify/require"

	"github.com/pbudget/pbudget/api"
)

// accountPath is the path of a direct-payment agreement's account.
func (b *bundle) accountPath(agreement uuid.UUID) string {
	b.t.Helper()
	r := b.do(http.MethodGet, "/v1/direct-payment-agreements/"+agreement.String()+"/account", b.token("finance"), nil)
	require.Equal(b.t, http.StatusOK, r.Status, string(r.Body))
	var acct api.DirectPaymentAccount
	r.decode(b.t, &acct)
	return "/v1/direct-payment-accounts/" + acct.Id.String()
}

// A gross direct payment pays the whole cost and invoices the person's contribution: each cycle a
// run pays posts one invoice (a contribution_due memo, which moves no money) to the account's
// ledger, pro rata like the payment; replaying the paid step invoices nothing more; a returned
// cycle's invoice is reversed, and the later run paying it again invoices it once more, so each
// cycle paid is owed once; and an audit over unpaid invoices finds the shortfall.
func TestAGrossDirectPaymentInvoicesTheContributionOncePerCyclePaid(t *testing.T) {
	t.Parallel()
	b, c := payBundle(t, "2026-04-01")
	b.rateTable("2025-04-06", 11_250)
	f := b.agreements(agreementSpec{start: "2026-04-06", basis: "gross",
		assess: func(personID string) { b.financial(personID, contributionOf("2026-04-01", 2_500)) }}) // £25 a week: £1,300 a year
	require.Equal(t, int64(780_000), f.dp.AnnualAmountPence, "gross: the whole cost")
	path := b.accountPath(f.dp.Id)

	// The first run pays the cycle of 6 April; its mark-paid replayed with the same key is the
	// first response, and posts nothing more.
	run := b.createRun("2026-04-06")
	r, run := b.runAction(run, "approve", b.financeB(), nil)
	require.Equal(t, http.StatusOK, r.Status, string(r.Body))
	r, run = b.runAction(run, "export", b.financeB(), nil)
	require.Equal(t, http.StatusOK, r.Status, string(r.Body))
	key := uuid.NewString()
	for range 2 {
		r = b.do(http.MethodPost, "/v1/payment-runs/"+run.Id.String()+"/mark-paid", b.financeB(), map[string]any{},
			"If-Match", etagOf(run.Version), "Idempotency-Key", key)
		require.Equal(t, http.StatusOK, r.Status, string(r.Body))
	}
	var paid api.PaymentRun
	r.decode(t, &paid)
	// Marking it paid again under a new key is refused: it is paid.
	r, _ = b.runAction(paid, "mark-paid", b.financeB(), map[string]any{})
	require.Equal(t, http.StatusConflict, r.Status, string(r.Body))
	invoices := b.ledger(path, "kind=contribution_due")
	require.Len(t, invoices, 1)
	require.Equal(t, int64(10_000), invoices[0].AmountPence, "£1,300 a year is £100 a four-week cycle")
	require.Equal(t, int64(0), invoices[0].BalanceEffectPence, "an invoice is owed to the council: it is not money in the account")
	require.Equal(t, "contribution_invoice", invoices[0].SourceKind)
	require.Equal(t, "2026-04-06", invoices[0].EntryDate.String())
	require.Contains(t, invoices[0].Reason, "the person's share of 130000 pence a year of the 780000 paid", "the figures the invoice used")

	// The second run's payment comes back from the bank; the third pays that cycle again and the
	// next: the cycle of 4 May is invoiced once.
	second := b.pay(b.createRun("2026-05-04"))
	lines := b.lines(&second.Id, "agreement_id="+f.dp.Id.String())
	r, _ = b.runAction(second, "returns", b.financeA(), map[string]any{"returned": []any{
		map[string]any{"payment_line_id": lines[0].Id, "reason": "ARUCS 0: account closed"}}})
	require.Equal(t, http.StatusOK, r.Status, string(r.Body))
	// The council never funded the returned cycle: its invoice is reversed (a negative memo, once
	// however often the return is recorded), so an unpaid cycle leaves nothing owed.
	r, _ = b.runAction(second, "returns", b.financeA(), map[string]any{"returned": []any{
		map[string]any{"payment_line_id": lines[0].Id, "reason": "ARUCS 0: account closed"}}})
	require.NotEqual(t, http.StatusOK, r.Status, "a payment is returned once")
	invoices = b.ledger(path, "kind=contribution_due")
	require.Len(t, invoices, 3, "6 April and 4 May invoiced, 4 May reversed")
	owed := map[string]int64{}
	var reversals []api.LedgerEntry
	for _, e := range invoices {
		require.Equal(t, int64(0), e.BalanceEffectPence)
		if e.SourceKind == "contribution_invoice_reversal" {
			reversals = append(reversals, e)
			continue
		}
		owed[e.EntryDate.String()] += e.AmountPence
	}
	require.Len(t, reversals, 1)
	require.Equal(t, int64(-10_000), reversals[0].AmountPence)
	require.Equal(t, "2026-05-04", reversals[0].EntryDate.String(), "dated the cycle's start, as the return came before it")
	require.Contains(t, reversals[0].Reason, "cycle from 2026-05-04")
	var total int64
	for _, e := range invoices {
		total += e.AmountPence
	}
	require.Equal(t, int64(10_000), total, "only the cycle of 6 April is owed")

	// A later run pays the returned cycle again, and the next: 4 May is invoiced afresh, once.
	b.setDetails("/v1/direct-payment-agreements/"+f.dp.Id.String()+"/payment-details", bankAccount(), true)
	b.pay(b.createRun("2026-06-01"))
	invoices = b.ledger(path, "kind=contribution_due")
	require.Len(t, invoices, 5, "invoices of 6 April, 4 May (twice: paid twice) and 1 June; one reversal")
	owed = map[string]int64{}
	count := map[string]int{}
	for _, e := range invoices {
		owed[e.EntryDate.String()] += e.AmountPence
		if e.SourceKind == "contribution_invoice" {
			count[e.EntryDate.String()]++
			require.Equal(t, int64(10_000), e.AmountPence)
		}
	}
	require.Equal(t, map[string]int64{"2026-04-06": 10_000, "2026-05-04": 10_000, "2026-06-01": 10_000}, owed,
		"each cycle paid is owed once")
	require.Equal(t, map[string]int{"2026-04-06": 1, "2026-05-04": 2, "2026-06-01": 1}, count)
	var payments int64
	for _, e := range b.ledger(path, "") {
		payments += e.BalanceEffectPence
	}
	require.Equal(t, int64(180_000), payments, "the balance is the council's three payments: the invoices are not in it")

	// The audit of the first 12 weeks: £300 invoiced, nothing received — a contribution shortfall.
	c.Set("2026-06-30")
	b.scheduleAudits()
	as := b.auditsOf(f.dp.Id, "due")
	require.Len(t, as, 1)
	au := b.mustAct(as[0], map[string]any{"action": "request_evidence", "items": []any{map[string]any{"kind": "bank_statement", "description": "the statements"}}})
	au = b.mustAct(au, map[string]any{"action": "receive_evidence"})
	au = b.mustAct(au, map[string]any{"action": "reconcile"})
	rec := au.Reconciliation.MustGet()
	require.Equal(t, int64(30_000), stepValue(t, rec, "contributions_due"))
	require.Equal(t, int64(0), stepValue(t, rec, "contributions_received"))
	require.Equal(t, int64(30_000), stepValue(t, rec, "contribution_shortfall"))
	var shortfall *api.AuditFinding
	for i := range au.Findings {
		if au.Findings[i].Type == "contribution_shortfall" {
			shortfall = &au.Findings[i]
		}
	}
	require.NotNil(t, shortfall, "findings: %v", au.Findings)
	require.Equal(t, int64(30_000), shortfall.AmountPence)
}

// A gross direct payment whose person pays nothing is invoiced nothing.
func TestAGrossDirectPaymentWithoutAContributionIsInvoicedNothing(t *testing.T) {
	t.Parallel()
	b, _ := payBundle(t, "2026-04-01")
	f := b.agreements(agreementSpec{start: "2026-04-06", basis: "gross"})
	b.pay(b.createRun("2026-05-04"))
	require.Empty(t, b.ledger(b.accountPath(f.dp.Id), "kind=contribution_due"))
}
