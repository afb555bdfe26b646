package httpapi_test

import (
	"net/http"
	"testing"

	"github.com/google/uuid"
	"github.com/stretchr/testify/require"

	"github.com/pbudget/pbudget/api"
)

// Every payment POST accepts an Idempotency-Key (API.md convention 8), and the money-moving ones
// (approving, exporting, marking paid and recording returns of a run; approving a one-off) refuse
// to run without one: a client that lost the answer to an export retries with the same key and
// gets the first answer, not a 412 it cannot tell from someone else's change.
func TestPaymentActionsTakeAnIdempotencyKeyAndMoneyMovingOnesRequireIt(t *testing.T) {
	t.Parallel()
	b, _ := payBundle(t, "2026-04-20")
	f := b.agreements(agreementSpec{start: "2026-05-04"})
	g := b.agreements(agreementSpec{start: "2026-05-04"})
	run := b.createRun("2026-05-04")
	runPath := "/v1/payment-runs/" + run.Id.String()

	// An action replayed with its key gets the first answer again and changes nothing more.
	replayed := func(path, token string, body any, version int) *resp {
		t.Helper()
		key := uuid.NewString()
		first := b.do(http.MethodPost, path, token, body, "If-Match", etagOf(version), "Idempotency-Key", key)
		require.Equal(t, http.StatusOK, first.Status, path+": "+string(first.Body))
		before := b.counts()
		again := b.do(http.MethodPost, path, token, body, "If-Match", etagOf(version), "Idempotency-Key", key)
		require.Equal(t, http.StatusOK, again.Status, path+" replayed: "+string(again.Body))
		require.Equal(t, "true", again.Header.Get("Idempotent-Replayed"), path)
		require.JSONEq(t, string(first.Body), string(again.Body), path)
		require.Equal(t, before, b.counts(), path+": a replay changes nothing")
		return first
	}
	version := func(r *resp) int {
		var out struct {
			Version int `json:"version"`
		}
		r.decode(t, &out)
		return out.Version
	}

	// Holding and releasing a line: a key is accepted, not required.
	lines := b.lines(&run.Id, "agreement_id="+g.dp.Id.String())
	require.Len(t, lines, 1)
	r := replayed(runPath+"/lines/"+lines[0].Id.String()+"/hold", b.financeA(), map[string]any{"reason": "query"}, run.Version)
	r = b.do(http.MethodPost, runPath+"/lines/"+lines[0].Id.String()+"/release", b.financeA(), map[string]any{"reason": "answered"},
		"If-Match", etagOf(version(r)))
	require.Equal(t, http.StatusOK, r.Status, "without a key: "+string(r.Body))
	v := version(r)

	// The money-moving actions: 400 without a key, changing nothing.
	for _, action := range []string{"approve", "export", "mark-paid", "returns"} {
		before := b.counts()
		var body any
		switch action {
		case "mark-paid":
			body = map[string]any{}
		case "returns":
			body = map[string]any{"returned": []any{map[string]any{"payment_line_id": lines[0].Id, "reason": "account closed"}}}
		}
		r := b.do(http.MethodPost, runPath+"/"+action, b.financeB(), body, "If-Match", etagOf(v))
		require.Equal(t, http.StatusBadRequest, r.Status, action+" without Idempotency-Key: "+string(r.Body))
		require.Contains(t, string(r.Body), "Idempotency-Key", action)
		require.Equal(t, before, b.counts(), action)
	}
	v = version(replayed(runPath+"/approve", b.financeB(), nil, v))
	v = version(replayed(runPath+"/export", b.financeB(), nil, v))
	r = replayed(runPath+"/mark-paid", b.financeB(), map[string]any{}, v)
	var paid api.PaymentRun
	r.decode(t, &paid)
	require.Equal(t, api.PaymentRunStatus("paid"), paid.Status)

	// Cancelling a draft: accepted.
	draft := b.createRun("2026-06-01")
	replayed("/v1/payment-runs/"+draft.Id.String()+"/cancel", b.financeA(), map[string]any{"reason": "wrong date"}, draft.Version)

	// Suspending and resuming an agreement: accepted.
	ag := "/v1/direct-payment-agreements/" + f.dp.Id.String()
	cur := b.do(http.MethodGet, ag, b.token("finance"), nil)
	require.Equal(t, http.StatusOK, cur.Status)
	r = replayed(ag+"/suspend", b.token("practitioner"), map[string]any{"from_date": "2026-07-01", "reason": "in hospital"}, version(cur))
	replayed(ag+"/resume", b.token("practitioner"), map[string]any{"resume_date": "2026-07-15", "reason": "home again"}, version(r))

	// Confirming changed details: accepted (the action takes no If-Match).
	details := ag + "/payment-details"
	changed := map[string]any{"bank_account": map[string]any{"sort_code": "200000", "account_number": "55779911", "account_name": "A N Other"}}
	b.setDetails(details, changed, false)
	key := uuid.NewString()
	check := map[string]any{"bank_account": map[string]any{"sort_code": "200000", "account_number": "55779911"}}
	r = b.do(http.MethodPost, details+"/confirm", b.financeB(), check, "Idempotency-Key", key)
	require.Equal(t, http.StatusOK, r.Status, string(r.Body))
	again := b.do(http.MethodPost, details+"/confirm", b.financeB(), check, "Idempotency-Key", key)
	require.Equal(t, http.StatusOK, again.Status, string(again.Body))
	require.Equal(t, "true", again.Header.Get("Idempotent-Replayed"))

	// Approving a one-off pays money: required.
	r = b.do(http.MethodPost, "/v1/one-off-payments", b.financeA(), map[string]any{"agreement_id": f.dp.Id, "amount_pence": 2_500, "reason": "a new chair"},
		"Idempotency-Key", uuid.NewString())
	require.Equal(t, http.StatusCreated, r.Status, string(r.Body))
	var o api.OneOffPayment
	r.decode(t, &o)
	r = b.do(http.MethodPost, "/v1/one-off-payments/"+o.Id.String()+"/approve", b.financeB(), nil, "If-Match", etagOf(o.Version))
	require.Equal(t, http.StatusBadRequest, r.Status, "a one-off approved without Idempotency-Key: "+string(r.Body))
	replayed("/v1/one-off-payments/"+o.Id.String()+"/approve", b.financeB(), nil, o.Version)
}
