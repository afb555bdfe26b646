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

// offsetRecovery is a notified £300 recovery by offset over one cycle from a concluded audit's
// surplus, with a getter of its current state.
func (b *bundle) offsetRecovery() (payFixture, api.Recovery, func() api.Recovery) {
	b.t.Helper()
	f, au := b.concludedAudit(500_000, nil)
	r := b.recovery(map[string]any{"audit_id": au.Id, "basis": "surplus", "amount_pence": 30_000, "method": "offset", "cycles": 1,
		"reason": "The balance is above the eight weeks of payments the account may keep."})
	require.Equal(b.t, http.StatusCreated, r.Status, string(r.Body))
	var rc api.Recovery
	r.decode(b.t, &rc)
	rc = b.recoveryAction(rc.Id, map[string]any{"action": "notify"})
	get := func() api.Recovery {
		b.t.Helper()
		var out api.Recovery
		r := b.do(http.MethodGet, "/v1/recoveries/"+rc.Id.String(), b.token("finance"), nil)
		require.Equal(b.t, http.StatusOK, r.Status, string(r.Body))
		r.decode(b.t, &out)
		return out
	}
	return f, rc, get
}

// returnAgreement records the bank's return of the agreement's payment from a paid run.
func (b *bundle) returnAgreement(run api.PaymentRun, agreementID uuid.UUID) {
	b.t.Helper()
	lines := b.lines(&run.Id, "agreement_id="+agreementID.String())
	body := map[string]any{"returned": []any{map[string]any{"payment_line_id": lines[0].Id, "reason": "ARUCS 0: account closed"}}}
	r := b.do(http.MethodPost, "/v1/payment-runs/"+run.Id.String()+"/returns", b.financeA(), body, "If-Match", etagOf(run.Version), "Idempotency-Key", uuid.NewString())
	require.Equal(b.t, http.StatusOK, r.Status, string(r.Body))
}

// recoveryEvents are the details of a recovery's audit events of an action.
func (b *bundle) recoveryEvents(id uuid.UUID, action string) []map[string]any {
	b.t.Helper()
	var events api.AuditEventList
	r := b.do(http.MethodGet, "/v1/audit-events?entity_type=recovery&entity_id="+id.String(), b.token("auditor"), nil)
	require.Equal(b.t, http.StatusOK, r.Status, string(r.Body))
	r.decode(b.t, &events)
	var out []map[string]any
	for _, e := range events.Items {
		if e.Action == action {
			out = append(out, e.Details)
		}
	}
	return out
}

// A return takes back what paying the run credited, not the line's offset: a £300 offset taken by
// a draft run, then £200 received by cheque, credits £100 when the run is paid (all that was
// outstanding); the bank's return reverses that £100, so the cheque stays recovered, £100 is
// outstanding, and the next run keeps back £100, not £300 (the person does not pay £200 twice).
func TestABankReturnReversesOnlyWhatThePaidRunCreditedNotMoneyRecordedAnotherWay(t *testing.T) {
	t.Parallel()
	b, _ := payBundle(t, "2026-04-01")
	f, rc, get := b.offsetRecovery()

	run := b.createRun("2026-06-29")
	var offset int64
	for _, l := range b.lines(&run.Id, "agreement_id="+f.dp.Id.String()) {
		if l.Kind == "recovery" {
			offset += l.AmountPence
		}
	}
	require.Equal(t, int64(-30_000), offset, "the draft run keeps back the whole £300")
	rc = b.recoveryAction(rc.Id, map[string]any{"action": "record", "amount_pence": 20_000})
	require.Equal(t, "part_recovered", string(rc.Status))
	run = b.pay(run)
	rc = get()
	require.Equal(t, "recovered", string(rc.Status))
	require.Equal(t, int64(30_000), rc.RecoveredPence)
	credited := b.recoveryEvents(rc.Id, "recovery.offset_recovered")
	require.Len(t, credited, 1)
	require.EqualValues(t, 10_000, credited[0]["amount_pence"], "only what was outstanding is credited")

	b.returnAgreement(run, f.dp.Id)
	rc = get()
	require.Equal(t, "part_recovered", string(rc.Status), "the cheque stays recovered")
	require.Equal(t, int64(20_000), rc.RecoveredPence)
	require.Equal(t, int64(10_000), rc.OutstandingPence)
	require.Equal(t, []int64{10_000}, rc.PlannedOffsets)
	returned := b.recoveryEvents(rc.Id, "recovery.offset_returned")
	require.Len(t, returned, 1)
	require.EqualValues(t, 30_000, returned[0]["offset_pence"], "the line's offset")
	require.EqualValues(t, 10_000, returned[0]["credited_pence"], "what paying the run credited")
	require.EqualValues(t, 10_000, returned[0]["amount_pence"], "the credit reversed, not the offset")
	require.EqualValues(t, 20_000, returned[0]["recovered_pence"])
	require.EqualValues(t, 10_000, returned[0]["outstanding_pence"])
	require.Equal(t, "recovered", returned[0]["from"])
	require.Equal(t, "part_recovered", returned[0]["to"])

	// The next run keeps back the £100 outstanding, and paying it recovers the rest.
	b.setDetails("/v1/direct-payment-agreements/"+f.dp.Id.String()+"/payment-details",
		map[string]any{"prepaid_card": map[string]any{"card_account_reference": "CARD-" + uuid.NewString()[:8]}}, true)
	next := b.createRun("2026-07-27")
	offset = 0
	for _, l := range b.lines(&next.Id, "agreement_id="+f.dp.Id.String()) {
		if l.Kind == "recovery" {
			offset += l.AmountPence
		}
	}
	require.Equal(t, int64(-10_000), offset, "£100 kept back, not £300")
	b.pay(next)
	rc = get()
	require.Equal(t, "recovered", string(rc.Status))
	require.Equal(t, int64(30_000), rc.RecoveredPence)
}

// A recovery written off between the run's build and its payment: paying the run credits nothing
// (nothing was outstanding), so the bank's return of the payment moves nothing either — the £200
// really recovered by cheque stays recovered, and only the £100 written off stays written off.
func TestABankReturnOfARunThatCreditedNothingLeavesRecoveredMoneyAlone(t *testing.T) {
	t.Parallel()
	b, _ := payBundle(t, "2026-04-01")
	f, rc, get := b.offsetRecovery()

	run := b.createRun("2026-06-29")
	rc = b.recoveryAction(rc.Id, map[string]any{"action": "record", "amount_pence": 20_000})
	rc = b.recoveryAction(rc.Id, map[string]any{"action": "write_off", "reason": "The person has died and the estate holds nothing."})
	require.Equal(t, "written_off", string(rc.Status))
	require.Equal(t, int64(10_000), rc.WrittenOffPence)
	run = b.pay(run)
	rc = get()
	require.Equal(t, int64(20_000), rc.RecoveredPence)
	require.Empty(t, b.recoveryEvents(rc.Id, "recovery.offset_recovered"), "nothing outstanding, nothing credited")

	b.returnAgreement(run, f.dp.Id)
	rc = get()
	require.Equal(t, "written_off", string(rc.Status))
	require.Equal(t, int64(20_000), rc.RecoveredPence, "the cheque's money stays recovered")
	require.Equal(t, int64(10_000), rc.WrittenOffPence)
	require.Equal(t, int64(0), rc.OutstandingPence)
	require.Empty(t, b.recoveryEvents(rc.Id, "recovery.offset_returned"), "nothing to reverse")
}
