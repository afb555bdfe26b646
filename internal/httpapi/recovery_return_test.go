package httpapi_test

import (
	"net/http"
	"testing"

	"github.com/google/uuid"
	"github.com/stretchr/testify/require"

	"github.com/pbudget/pbudget/api"
)

// A bank return of a payment that carried a recovery's offset reverses the offset: the money was
// kept back from a payment that never arrived. The recovery is outstanding again (recovered →
// notified), the audit trail says so with the figures, replaying the return changes nothing, and
// the next run takes the offset again — once for its cycle — and recovers it.
func TestABankReturnOfAPaymentThatCarriedAnOffsetReversesTheOffset(t *testing.T) {
	t.Parallel()
	b, _ := payBundle(t, "2026-04-01")
	f, au := b.concludedAudit(500_000, nil)
	r := b.recovery(map[string]any{"audit_id": au.Id, "basis": "surplus", "amount_pence": 30_000, "method": "offset", "cycles": 1,
		"reason": "The balance is above the eight weeks of payments the account may keep."})
	require.Equal(t, http.StatusCreated, r.Status, string(r.Body))
	var rc api.Recovery
	r.decode(t, &rc)
	b.recoveryAction(rc.Id, map[string]any{"action": "notify"})
	get := func() api.Recovery {
		var out api.Recovery
		r := b.do(http.MethodGet, "/v1/recoveries/"+rc.Id.String(), b.token("finance"), nil)
		require.Equal(t, http.StatusOK, r.Status, string(r.Body))
		r.decode(t, &out)
		return out
	}

	run := b.pay(b.createRun("2026-06-29"))
	rc = get()
	require.Equal(t, "recovered", string(rc.Status))
	require.Equal(t, int64(30_000), rc.RecoveredPence)

	// The bank returns the payment; the return replayed under its key is the first response.
	lines := b.lines(&run.Id, "agreement_id="+f.dp.Id.String())
	body := map[string]any{"returned": []any{map[string]any{"payment_line_id": lines[0].Id, "reason": "ARUCS 0: account closed"}}}
	key := uuid.NewString()
	for range 2 {
		r = b.do(http.MethodPost, "/v1/payment-runs/"+run.Id.String()+"/returns", b.financeA(), body, "If-Match", etagOf(run.Version), "Idempotency-Key", key)
		require.Equal(t, http.StatusOK, r.Status, string(r.Body))
	}
	rc = get()
	require.Equal(t, "notified", string(rc.Status), "outstanding again, so runs take it again")
	require.Equal(t, int64(0), rc.RecoveredPence)
	require.Equal(t, int64(30_000), rc.OutstandingPence)
	require.Equal(t, []int64{30_000}, rc.PlannedOffsets)
	var events api.AuditEventList
	r = b.do(http.MethodGet, "/v1/audit-events?entity_type=recovery&entity_id="+rc.Id.String(), b.token("auditor"), nil)
	require.Equal(t, http.StatusOK, r.Status, string(r.Body))
	r.decode(t, &events)
	var returned []map[string]any
	for _, e := range events.Items {
		if e.Action == "recovery.offset_returned" {
			returned = append(returned, e.Details)
		}
	}
	require.Len(t, returned, 1, "reversed once")
	require.EqualValues(t, 30_000, returned[0]["amount_pence"])
	require.EqualValues(t, 30_000, returned[0]["outstanding_pence"])
	require.Equal(t, "recovered", returned[0]["from"])
	require.Equal(t, "notified", returned[0]["to"])
	require.Equal(t, run.Id.String(), returned[0]["run_id"])

	// New card details confirmed, the next run pays the returned cycle again and the next, and
	// takes the offset once, against its latest cycle.
	b.setDetails("/v1/direct-payment-agreements/"+f.dp.Id.String()+"/payment-details",
		map[string]any{"prepaid_card": map[string]any{"card_account_reference": "CARD-" + uuid.NewString()[:8]}}, true)
	next := b.createRun("2026-07-27")
	var offsets []api.PaymentLine
	for _, l := range b.lines(&next.Id, "agreement_id="+f.dp.Id.String()) {
		if l.Kind == "recovery" {
			offsets = append(offsets, l)
		}
	}
	require.Len(t, offsets, 1)
	require.Equal(t, int64(-30_000), offsets[0].AmountPence)
	b.pay(next)
	rc = get()
	require.Equal(t, "recovered", string(rc.Status))
	require.Equal(t, int64(30_000), rc.RecoveredPence)
	live := map[string]int{}
	for _, o := range rc.Offsets {
		if o.State == "live" {
			live[o.CycleStart.String()]++
		}
	}
	require.Equal(t, map[string]int{"2026-07-27": 1}, live, "one live offset, for the new cycle; the returned one is kept as returned")
	require.Len(t, rc.Offsets, 2)
	// A third run takes nothing more.
	third := b.createRun("2026-08-24")
	for _, l := range b.lines(&third.Id, "agreement_id="+f.dp.Id.String()) {
		require.NotEqual(t, "recovery", string(l.Kind))
	}
}
