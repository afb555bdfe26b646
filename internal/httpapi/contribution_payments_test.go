package httpapi_test

import (
	"net/http"
	"net/url"
	"strings"
	"testing"

	"github.com/google/uuid"
	"github.com/stretchr/testify/require"

	"github.com/pbudget/pbudget/api"
	"github.com/pbudget/pbudget/internal/auth"
)

// recordPaidToCouncil posts a contribution paid to the council under key.
func (b *bundle) recordPaidToCouncil(path, token, key string, body map[string]any) *resp {
	b.t.Helper()
	return b.do(http.MethodPost, path+"/contribution-payments", token, body, "Idempotency-Key", key)
}

// shortfallOf reconciles the audit again and returns it with its contribution_shortfall finding's
// amount (0 without one).
func (b *bundle) reconcileShortfall(au api.Audit) (api.Audit, int64) {
	b.t.Helper()
	au = b.mustAct(au, map[string]any{"action": "reconcile"})
	for _, f := range au.Findings {
		if f.Type == "contribution_shortfall" {
			return au, f.AmountPence
		}
	}
	return au, 0
}

// A gross direct payment's person pays the contribution invoices to the council, not into the
// account: finance records each payment, which goes on the ledger as a memo (the balance does
// not move) and settles the audit's contribution shortfall, invoice by invoice, while the
// account's own money (opening + council payments + contributions into the account − spending)
// still adds up to the closing balance. A replay records nothing more; a net account, bad input
// and the provider and person roles are refused, changing nothing.
func TestAGrossContributionPaidToTheCouncilSettlesTheAuditShortfallWithoutMovingTheBalance(t *testing.T) {
	t.Parallel()
	b, c := payBundle(t, "2026-04-01")
	b.rateTable("2025-04-06", 11_250)
	f := b.agreements(agreementSpec{start: "2026-04-06", basis: "gross",
		assess: func(personID string) { b.financial(personID, contributionOf("2026-04-01", 2_500)) }}) // £100 a cycle
	path := b.accountPath(f.dp.Id)
	for _, day := range []string{"2026-04-06", "2026-05-04", "2026-06-01"} {
		b.pay(b.createRun(day))
	}
	require.Len(t, b.ledger(path, "kind=contribution_due"), 3, "three cycles paid, three invoices")

	c.Set("2026-06-30")
	balance := b.balance(path, "2026-06-30").BalancePence
	require.Equal(t, int64(180_000), balance, "the council's three payments")
	b.scheduleAudits()
	as := b.auditsOf(f.dp.Id, "due")
	require.Len(t, as, 1)
	au := b.mustAct(as[0], map[string]any{"action": "request_evidence", "items": []any{map[string]any{"kind": "bank_statement", "description": "the statements"}}})
	au = b.mustAct(au, map[string]any{"action": "receive_evidence"})
	au, short := b.reconcileShortfall(au)
	require.Equal(t, int64(30_000), short, "three invoices unpaid")

	// Provider and person roles may not record one; another council's finance gets a 404.
	body := map[string]any{"amount_pence": 10_000, "received_on": "2026-04-20", "reference": "DEB-000001", "note": "paid by card on the phone"}
	provider := b.tokenWith(auth.MintOptions{Council: b.council.Code, Subject: "provider-staff", Roles: []string{"provider"}, Provider: uuid.NewString()})
	for _, tok := range []string{provider, b.personToken(f.dp.PersonId), b.token("practitioner"), b.token("auditor")} {
		r := b.recordPaidToCouncil(path, tok, uuid.NewString(), body)
		require.Equal(t, http.StatusForbidden, r.Status, string(r.Body))
	}
	r := b.recordPaidToCouncil(path, b.otherToken("finance"), uuid.NewString(), body)
	require.Equal(t, http.StatusNotFound, r.Status, string(r.Body))

	// Bad input: a problem naming the field, nothing recorded.
	bad := []struct {
		name, field string
		body        map[string]any
		status      int
	}{
		{"a zero amount", "amount_pence", map[string]any{"amount_pence": 0, "received_on": "2026-04-20", "reference": "DEB-1"}, http.StatusBadRequest},
		{"a negative amount", "amount_pence", map[string]any{"amount_pence": -100, "received_on": "2026-04-20", "reference": "DEB-1"}, http.StatusBadRequest},
		{"received tomorrow", "received_on", map[string]any{"amount_pence": 100, "received_on": "2026-07-01", "reference": "DEB-1"}, http.StatusBadRequest},
		{"no reference", "reference", map[string]any{"amount_pence": 100, "received_on": "2026-04-20"}, http.StatusBadRequest},
		{"a blank reference", "reference", map[string]any{"amount_pence": 100, "received_on": "2026-04-20", "reference": "   "}, http.StatusBadRequest},
		{"no date", "received_on", map[string]any{"amount_pence": 100, "reference": "DEB-1"}, http.StatusBadRequest},
	}
	for _, tt := range bad {
		r := b.recordPaidToCouncil(path, b.financeA(), uuid.NewString(), tt.body)
		require.Equal(t, tt.status, r.Status, "%s: %s", tt.name, r.Body)
		require.Contains(t, string(r.Body), tt.field, tt.name)
	}
	// Without an Idempotency-Key: 400.
	r = b.do(http.MethodPost, path+"/contribution-payments", b.financeA(), body)
	require.Equal(t, http.StatusBadRequest, r.Status, string(r.Body))
	require.Contains(t, string(r.Body), "Idempotency-Key")
	require.Empty(t, b.ledger(path, "kind=contribution_paid_to_council"), "nothing was recorded")

	// Two invoices paid: one short. The first is replayed with its key: it records nothing more.
	key := uuid.NewString()
	r = b.recordPaidToCouncil(path, b.financeA(), key, body)
	require.Equal(t, http.StatusCreated, r.Status, string(r.Body))
	var first api.LedgerEntry
	r.decode(t, &first)
	require.Equal(t, api.LedgerEntryKind("contribution_paid_to_council"), first.Kind)
	require.Equal(t, int64(10_000), first.AmountPence)
	require.Equal(t, int64(0), first.BalanceEffectPence, "the money is the council's, not the account's")
	require.Equal(t, "contribution_payment", first.SourceKind)
	require.Equal(t, "2026-04-20", first.EntryDate.String())
	require.Equal(t, "DEB-000001", *first.Reference)
	require.Contains(t, first.Reason, "paid by card on the phone")
	r = b.recordPaidToCouncil(path, b.financeA(), key, body)
	require.Equal(t, http.StatusCreated, r.Status, string(r.Body))
	require.Equal(t, "true", r.Header.Get("Idempotent-Replayed"))
	r = b.recordPaidToCouncil(path, b.financeA(), key, map[string]any{"amount_pence": 99, "received_on": "2026-04-20", "reference": "DEB-000001"})
	require.Equal(t, http.StatusUnprocessableEntity, r.Status, string(r.Body))
	require.Equal(t, "urn:pbudget:problem:idempotency-key-reused", r.problem(t).Type)
	r = b.recordPaidToCouncil(path, b.financeB(), uuid.NewString(), map[string]any{"amount_pence": 10_000, "received_on": "2026-05-18", "reference": "DEB-000002"})
	require.Equal(t, http.StatusCreated, r.Status, string(r.Body))
	// The same debtors payment under another key, however capitalised: a conflict, nothing recorded.
	r = b.recordPaidToCouncil(path, b.financeB(), uuid.NewString(), body)
	require.Equal(t, http.StatusConflict, r.Status, string(r.Body))
	require.Equal(t, "urn:pbudget:problem:contribution-payment-reference-taken", r.problem(t).Type)
	r = b.recordPaidToCouncil(path, b.financeB(), uuid.NewString(), map[string]any{"amount_pence": 10_000, "received_on": "2026-04-20", "reference": "deb-000001"})
	require.Equal(t, http.StatusConflict, r.Status, string(r.Body))
	require.Len(t, b.ledger(path, "kind=contribution_paid_to_council"), 2, "the replay and the second recording added nothing")
	require.Equal(t, balance, b.balance(path, "2026-06-30").BalancePence, "the balance is unchanged")
	au, short = b.reconcileShortfall(au)
	require.Equal(t, int64(10_000), short, "one invoice unpaid")
	rec := au.Reconciliation.MustGet()
	require.Equal(t, int64(20_000), stepValue(t, rec, "contributions_paid_to_council"))
	require.Equal(t, int64(0), stepValue(t, rec, "contributions_received"), "nothing was paid into the account")
	require.Equal(t, int64(10_000), stepValue(t, rec, "contribution_shortfall"))
	require.Equal(t, stepValue(t, rec, "opening_balance")+stepValue(t, rec, "council_payments")+stepValue(t, rec, "contributions_received")+
		stepValue(t, rec, "other_money_in")-stepValue(t, rec, "spending")-stepValue(t, rec, "other_money_out"),
		stepValue(t, rec, "expected_closing_balance"), "the account's money adds up without the payments to the council")
	require.Equal(t, int64(180_000), stepValue(t, rec, "expected_closing_balance"))

	// The third: no shortfall, and still the same balance.
	r = b.recordPaidToCouncil(path, b.financeA(), uuid.NewString(), map[string]any{"amount_pence": 10_000, "received_on": "2026-06-15", "reference": "DEB-000003"})
	require.Equal(t, http.StatusCreated, r.Status, string(r.Body))
	au, short = b.reconcileShortfall(au)
	require.Zero(t, short, "no contribution_shortfall finding: %v", au.Findings)
	rec = au.Reconciliation.MustGet()
	require.Equal(t, int64(0), stepValue(t, rec, "contribution_shortfall"))
	require.Equal(t, int64(180_000), stepValue(t, rec, "expected_closing_balance"))
	require.Equal(t, balance, b.balance(path, "2026-06-30").BalancePence, "the balance is unchanged")

	// Each payment is in the audit trail with its figures.
	q := url.Values{"action": {"ledger_entry.contribution_paid_to_council"}, "entity_type": {"ledger_entry"}}
	r = b.do(http.MethodGet, "/v1/audit-events?"+q.Encode(), b.token("auditor"), nil)
	require.Equal(t, http.StatusOK, r.Status, string(r.Body))
	var events api.AuditEventList
	r.decode(t, &events)
	require.Len(t, events.Items, 3)
	require.Contains(t, string(r.Body), `"reference":"DEB-000002"`)
	require.Contains(t, string(r.Body), `"amount_pence":10000`)

	// The person sees the payments on their own ledger (the response is checked against the spec).
	r = b.do(http.MethodGet, strings.Replace(path, "/v1/", "/v1/me/", 1)+"/ledger", b.personToken(f.dp.PersonId), nil)
	require.Equal(t, http.StatusOK, r.Status, string(r.Body))
	var mine api.MyLedger
	r.decode(t, &mine)
	paid := 0
	for _, e := range mine.Items {
		if e.Kind == api.MyLedgerKind("contribution_paid_to_council") {
			paid++
			require.Zero(t, e.BalanceEffectPence)
		}
	}
	require.Equal(t, 3, paid, "the person's ledger shows the three payments to the council")
}

// A net direct payment's person pays into the account (the statement import records it): a
// contribution paid to the council is refused for its account, and nothing is recorded.
func TestAContributionPaidToTheCouncilIsRefusedForANetAccount(t *testing.T) {
	t.Parallel()
	b, _ := payBundle(t, "2026-04-01")
	b.rateTable("2025-04-06", 11_250)
	f := b.agreements(agreementSpec{start: "2026-04-06", basis: "net",
		assess: func(personID string) { b.financial(personID, contributionOf("2026-04-01", 2_500)) }})
	path := b.accountPath(f.dp.Id)
	r := b.recordPaidToCouncil(path, b.financeA(), uuid.NewString(), map[string]any{"amount_pence": 10_000, "received_on": "2026-04-01", "reference": "DEB-9"})
	require.Equal(t, http.StatusUnprocessableEntity, r.Status, string(r.Body))
	require.Equal(t, "urn:pbudget:problem:contribution-payment-not-gross", r.problem(t).Type)
	require.Empty(t, b.ledger(path, "kind=contribution_paid_to_council"))
	r = b.recordPaidToCouncil("/v1/direct-payment-accounts/"+uuid.NewString(), b.financeA(), uuid.NewString(), map[string]any{"amount_pence": 10_000, "received_on": "2026-04-01", "reference": "DEB-9"})
	require.Equal(t, http.StatusNotFound, r.Status, string(r.Body))
}
