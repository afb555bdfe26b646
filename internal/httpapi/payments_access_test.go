package httpapi_test

import (
	"net/http"
	"testing"

	"github.com/google/uuid"
	"github.com/stretchr/testify/require"

	"github.com/pbudget/pbudget/api"
	"github.com/pbudget/pbudget/internal/auth"
)

// paidFixture is a council with a DP and an ISF agreement, an exported run and its files.
type paidFixture struct {
	f        payFixture
	provider api.Provider
	run      api.PaymentRun
	line     api.PaymentLine
	oneOff   api.OneOffPayment
	files    map[string]uuid.UUID
}

func (b *bundle) paidFixture() paidFixture {
	b.t.Helper()
	prov := b.provider("isf_provider")
	f := b.agreements(agreementSpec{start: "2026-04-06", isf: &prov})
	b.setDetails("/v1/providers/"+prov.Id.String()+"/bank-details", bankAccount(), true)
	r := b.do(http.MethodPost, "/v1/one-off-payments", b.financeA(), map[string]any{"agreement_id": f.dp.Id, "amount_pence": 100, "reason": "x"},
		"Idempotency-Key", uuid.NewString())
	require.Equal(b.t, http.StatusCreated, r.Status, string(r.Body))
	var o api.OneOffPayment
	r.decode(b.t, &o)
	run := b.createRun("2026-04-06")
	line := b.lines(&run.Id, "")[0]
	r, run = b.runAction(run, "approve", b.financeB(), nil)
	require.Equal(b.t, http.StatusOK, r.Status)
	r, run = b.runAction(run, "export", b.financeB(), nil)
	require.Equal(b.t, http.StatusOK, r.Status, string(r.Body))
	files := map[string]uuid.UUID{}
	for _, file := range run.Files {
		files[string(file.Kind)] = file.Id
	}
	return paidFixture{f: f, provider: prov, run: run, line: line, oneOff: o, files: files}
}

// Another council's payments are a 404 on every path, reads and changes alike, and change nothing.
func TestAnotherCouncilsPaymentsAreNotFound(t *testing.T) {
	t.Parallel()
	b, _ := payBundle(t, "2026-04-01")
	p := b.paidFixture()
	dp, isf, run := p.f.dp.Id.String(), p.f.isf.Id.String(), p.run.Id.String()
	fin := b.otherToken("finance", "practitioner", "auditor")
	reason := map[string]any{"reason": "x"}
	tests := []struct {
		method, path string
		body         any
		hdr          []string
	}{
		{http.MethodGet, "/v1/direct-payment-agreements/" + dp + "/schedule", nil, nil},
		{http.MethodGet, "/v1/isf-agreements/" + isf + "/schedule", nil, nil},
		{http.MethodPost, "/v1/direct-payment-agreements/" + dp + "/suspend", map[string]any{"from_date": "2026-05-01", "reason": "x"}, []string{"If-Match", `"1"`}},
		{http.MethodPost, "/v1/isf-agreements/" + isf + "/end", map[string]any{"end_date": "2026-05-01", "reason": "x"}, []string{"If-Match", `"1"`}},
		{http.MethodPost, "/v1/isf-agreements/" + isf + "/reprice", map[string]any{"effective_from": "2026-05-01", "reason": "x"}, []string{"If-Match", `"1"`}},
		{http.MethodPatch, "/v1/isf-agreements/" + isf, map[string]any{"signed_date": "2026-05-01"}, []string{"If-Match", `"1"`}},
		{http.MethodGet, "/v1/direct-payment-agreements/" + dp + "/payment-details", nil, nil},
		{http.MethodPut, "/v1/direct-payment-agreements/" + dp + "/payment-details", with(bankAccount(), "reason", "x"), nil},
		{http.MethodPost, "/v1/providers/" + p.provider.Id.String() + "/bank-details/confirm", map[string]any{"bank_account": map[string]any{"sort_code": "309634", "account_number": "12345678"}}, nil},
		{http.MethodGet, "/v1/payment-runs/" + run, nil, nil},
		{http.MethodGet, "/v1/payment-runs/" + run + "/lines", nil, nil},
		{http.MethodPost, "/v1/payment-runs/" + run + "/lines/" + p.line.Id.String() + "/hold", reason, []string{"If-Match", `"1"`}},
		{http.MethodPost, "/v1/payment-runs/" + run + "/mark-paid", map[string]any{}, []string{"If-Match", etagOf(p.run.Version), "Idempotency-Key", uuid.NewString()}},
		{http.MethodPost, "/v1/payment-runs/" + run + "/cancel", reason, []string{"If-Match", `"1"`}},
		{http.MethodGet, "/v1/payment-files/" + p.files["bacs_standard18"].String(), nil, nil},
		{http.MethodGet, "/v1/one-off-payments/" + p.oneOff.Id.String(), nil, nil},
		{http.MethodPost, "/v1/one-off-payments/" + p.oneOff.Id.String() + "/approve", nil, []string{"If-Match", `"1"`, "Idempotency-Key", uuid.NewString()}},
		{http.MethodGet, "/v1/personal-budgets/" + p.f.budget.Id.String() + "/commitments", nil, nil},
	}
	before := b.counts()
	for _, tt := range tests {
		r := b.do(tt.method, tt.path, fin, tt.body, tt.hdr...)
		require.Equal(t, http.StatusNotFound, r.Status, "%s %s: %s", tt.method, tt.path, r.Body)
	}
	r := b.do(http.MethodPost, "/v1/one-off-payments", fin, map[string]any{"agreement_id": dp, "amount_pence": 100, "reason": "x"}, "Idempotency-Key", uuid.NewString())
	require.Equal(t, http.StatusUnprocessableEntity, r.Status)
	require.Equal(t, "urn:pbudget:problem:agreement-not-found", r.problem(t).Type)
	for _, list := range []string{"/v1/payment-runs", "/v1/payment-lines", "/v1/payment-files", "/v1/payment-agreements", "/v1/one-off-payments",
		"/v1/payment-overpayments"} {
		r := b.do(http.MethodGet, list, fin, nil)
		require.Equal(t, http.StatusOK, r.Status)
		require.JSONEq(t, `{"items":[]}`, string(r.Body), list)
	}
	require.Equal(t, before, b.counts())
}

// Provider staff see their own ISF agreements' schedules and their own remittances, and nothing
// else of payments: another provider's is a 404, and the operations that are not theirs a 403.
func TestProvidersSeeTheirOwnSchedulesAndRemittancesOnly(t *testing.T) {
	t.Parallel()
	b, _ := payBundle(t, "2026-04-01")
	p := b.paidFixture()
	other := b.provider("isf_provider")
	mine := b.tokenWith(auth.MintOptions{Council: b.council.Code, Roles: []string{"provider"}, Provider: p.provider.Id.String()})
	theirs := b.tokenWith(auth.MintOptions{Council: b.council.Code, Roles: []string{"provider"}, Provider: other.Id.String()})

	r := b.do(http.MethodGet, "/v1/isf-agreements/"+p.f.isf.Id.String()+"/schedule", mine, nil)
	require.Equal(t, http.StatusOK, r.Status, string(r.Body))
	r = b.do(http.MethodGet, "/v1/isf-agreements/"+p.f.isf.Id.String()+"/schedule", theirs, nil)
	require.Equal(t, http.StatusNotFound, r.Status)

	var files api.PaymentFileList
	b.do(http.MethodGet, "/v1/payment-files", mine, nil).decode(t, &files)
	require.Len(t, files.Items, 1, "their remittance only, never the BACS file")
	require.Equal(t, p.files["isf_remittance"], files.Items[0].Id)
	r = b.fileBytes(p.files["isf_remittance"], mine)
	require.Equal(t, http.StatusOK, r.Status)
	require.Equal(t, http.StatusNotFound, b.fileBytes(p.files["isf_remittance"], theirs).Status)
	require.Equal(t, http.StatusNotFound, b.fileBytes(p.files["bacs_standard18"], mine).Status, "bank details are not theirs")
	b.do(http.MethodGet, "/v1/payment-files?provider_id="+p.provider.Id.String(), theirs, nil).decode(t, &files)
	require.Empty(t, files.Items)

	for _, path := range []string{"/v1/direct-payment-agreements/" + p.f.dp.Id.String() + "/schedule", "/v1/payment-runs/" + p.run.Id.String(),
		"/v1/payment-runs/" + p.run.Id.String() + "/lines", "/v1/providers/" + p.provider.Id.String() + "/bank-details", "/v1/payment-agreements"} {
		r := b.do(http.MethodGet, path, mine, nil)
		require.Equal(t, http.StatusForbidden, r.Status, path)
	}
}

// Bad input gets a problem naming the field and the rule, and changes nothing.
func TestBadPaymentInputIsRefusedAndChangesNothing(t *testing.T) {
	t.Parallel()
	b, _ := payBundle(t, "2026-04-01")
	p := b.paidFixture()
	dp, run := p.f.dp.Id.String(), p.run.Id.String()
	fin := b.token("finance")
	tests := []struct {
		name         string
		method, path string
		body         any
		hdr          []string
		status       int
		problem      string
	}{
		{"a run without Idempotency-Key", http.MethodPost, "/v1/payment-runs", map[string]any{"pay_date": "2026-05-04"}, nil, 400, "validation"},
		{"a run without a pay date", http.MethodPost, "/v1/payment-runs", map[string]any{}, []string{"Idempotency-Key", uuid.NewString()}, 400, "validation"},
		{"a run for 2028", http.MethodPost, "/v1/payment-runs", map[string]any{"pay_date": "2028-01-01"}, []string{"Idempotency-Key", uuid.NewString()}, 422,
			"payment-run-pay-date-out-of-range"},
		{"an unknown field", http.MethodPost, "/v1/payment-runs", map[string]any{"pay_date": "2026-05-04", "lead_days": 3}, []string{"Idempotency-Key", uuid.NewString()}, 400, "validation"},
		{"a schedule years ahead", http.MethodGet, "/v1/direct-payment-agreements/" + dp + "/schedule?through=2030-01-01", nil, nil, 400, "validation"},
		{"a suspension without a reason", http.MethodPost, "/v1/direct-payment-agreements/" + dp + "/suspend", map[string]any{"from_date": "2026-05-01", "reason": " "},
			[]string{"If-Match", etagOf(p.f.dp.Version)}, 400, "validation"},
		{"a suspension before the start", http.MethodPost, "/v1/direct-payment-agreements/" + dp + "/suspend", map[string]any{"from_date": "2026-04-01", "reason": "x"},
			[]string{"If-Match", etagOf(p.f.dp.Version)}, 422, "suspension-overlaps"},
		{"a suspension without If-Match", http.MethodPost, "/v1/direct-payment-agreements/" + dp + "/suspend", map[string]any{"from_date": "2026-05-01", "reason": "x"},
			nil, 428, "if-match-required"},
		{"a stale If-Match", http.MethodPost, "/v1/direct-payment-agreements/" + dp + "/end", map[string]any{"end_date": "2026-05-01", "reason": "x"},
			[]string{"If-Match", `"1"`}, 412, "version-mismatch"},
		{"an end before the start", http.MethodPost, "/v1/direct-payment-agreements/" + dp + "/end", map[string]any{"end_date": "2026-04-06", "reason": "x"},
			[]string{"If-Match", etagOf(p.f.dp.Version)}, 422, "end-date-not-after-start"},
		{"a resume when not suspended", http.MethodPost, "/v1/direct-payment-agreements/" + dp + "/resume", map[string]any{"resume_date": "2026-05-01", "reason": "x"},
			[]string{"If-Match", etagOf(p.f.dp.Version)}, 409, "agreement-not-suspended"},
		{"a sort code of 5 digits", http.MethodPut, "/v1/direct-payment-agreements/" + dp + "/payment-details",
			map[string]any{"bank_account": map[string]any{"sort_code": "30963", "account_number": "12345678", "account_name": "A"}, "reason": "x"}, nil, 400, "validation"},
		{"an account name BACS cannot carry", http.MethodPut, "/v1/direct-payment-agreements/" + dp + "/payment-details",
			map[string]any{"bank_account": map[string]any{"sort_code": "309634", "account_number": "12345678", "account_name": "O'Brien"}, "reason": "x"}, nil, 400, "validation"},
		{"both a bank account and a card", http.MethodPut, "/v1/direct-payment-agreements/" + dp + "/payment-details",
			with(with(bankAccount(), "prepaid_card", map[string]any{"card_account_reference": "C1"}), "reason", "x"), nil, 400, "validation"},
		{"neither", http.MethodPut, "/v1/direct-payment-agreements/" + dp + "/payment-details", map[string]any{"reason": "x"}, nil, 400, "validation"},
		{"confirming with nothing pending", http.MethodPost, "/v1/direct-payment-agreements/" + dp + "/payment-details/confirm", map[string]any{"bank_account": map[string]any{
			"sort_code": "309634", "account_number": "12345678"}}, nil, 409, "payment-details-not-pending"},
		{"bank details for a care agency", http.MethodPut, "/v1/providers/" + b.provider("care_agency").Id.String() + "/bank-details", with(bankAccount(), "reason", "x"),
			nil, 422, "provider-not-isf"},
		{"a one-off of nothing", http.MethodPost, "/v1/one-off-payments", map[string]any{"agreement_id": dp, "amount_pence": 0, "reason": "x"},
			[]string{"Idempotency-Key", uuid.NewString()}, 400, "validation"},
		{"a one-off with a line and an amount", http.MethodPost, "/v1/one-off-payments", map[string]any{"agreement_id": dp, "amount_pence": 5,
			"plan_line_id": p.f.plan.Lines[0].Id, "reason": "x"}, []string{"Idempotency-Key", uuid.NewString()}, 400, "validation"},
		{"approving an exported run", http.MethodPost, "/v1/payment-runs/" + run + "/approve", nil, []string{"If-Match", etagOf(p.run.Version), "Idempotency-Key", uuid.NewString()}, 409, "payment-run-not-draft"},
		{"cancelling an exported run", http.MethodPost, "/v1/payment-runs/" + run + "/cancel", map[string]any{"reason": "x"}, []string{"If-Match", etagOf(p.run.Version)},
			409, "payment-run-not-cancellable"},
		{"holding a line of an exported run", http.MethodPost, "/v1/payment-runs/" + run + "/lines/" + p.line.Id.String() + "/hold", map[string]any{"reason": "x"},
			[]string{"If-Match", etagOf(p.run.Version)}, 409, "payment-run-not-open"},
		{"returning a line of another run", http.MethodPost, "/v1/payment-runs/" + run + "/mark-paid", map[string]any{"returned": []any{
			map[string]any{"payment_line_id": uuid.NewString(), "reason": "x"}}}, []string{"If-Match", etagOf(p.run.Version), "Idempotency-Key", uuid.NewString()}, 400, "validation"},
		{"a return without a reason", http.MethodPost, "/v1/payment-runs/" + run + "/mark-paid", map[string]any{"returned": []any{
			map[string]any{"payment_line_id": p.line.Id}}}, []string{"If-Match", etagOf(p.run.Version), "Idempotency-Key", uuid.NewString()}, 400, "validation"},
		{"a line of another run", http.MethodPost, "/v1/payment-runs/" + uuid.NewString() + "/lines/" + p.line.Id.String() + "/hold", map[string]any{"reason": "x"},
			[]string{"If-Match", `"1"`}, 404, "not-found"},
		{"a lead time too long", http.MethodPatch, "/v1/council/settings", map[string]any{"payment_lead_days": 57}, []string{"If-Match", `"2"`}, 400, "validation"},
		{"processing in 2 working days", http.MethodPatch, "/v1/council/settings", map[string]any{"payment_processing_days": 2}, []string{"If-Match", `"2"`}, 400, "validation"},
		{"a run list with a bad status", http.MethodGet, "/v1/payment-runs?status=sent", nil, nil, 400, "validation"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			before := b.counts()
			tok := fin
			if tt.method == http.MethodPatch {
				tok = b.token("council_admin")
			}
			r := b.do(tt.method, tt.path, tok, tt.body, tt.hdr...)
			require.Equal(t, tt.status, r.Status, string(r.Body))
			pr := r.problem(t)
			require.Equal(t, "urn:pbudget:problem:"+tt.problem, pr.Type)
			if tt.status == 400 {
				require.NotEmpty(t, *pr.Errors, "the field at fault is named")
			}
			require.Equal(t, before, b.counts())
		})
	}
}

// The work lists: agreements in force never paid, suspended, with details awaiting confirmation;
// runs awaiting approval; held lines; one-offs awaiting approval.
func TestPaymentWorkLists(t *testing.T) {
	t.Parallel()
	b, clk := payBundle(t, "2026-04-01")
	paid := b.agreements(agreementSpec{start: "2026-04-06"})
	never := b.agreements(agreementSpec{start: "2026-04-06", unsigned: true})
	b.pay(b.createRun("2026-04-06"))
	clk.Set("2026-04-10")
	fin := b.token("finance")
	ids := func(path string) []string {
		var list api.PaymentAgreementList
		r := b.do(http.MethodGet, path, fin, nil)
		require.Equal(t, http.StatusOK, r.Status, string(r.Body))
		r.decode(t, &list)
		var out []string
		for _, a := range list.Items {
			out = append(out, a.Id.String())
		}
		return out
	}
	require.Equal(t, []string{never.dp.Id.String()}, ids("/v1/payment-agreements?never_paid=true"), "in force, not signed, never paid")
	require.Empty(t, ids("/v1/payment-agreements?suspended=true"))
	b.mustAgreementAction(paid.dp.Id, paid.dp.Version, "suspend", fin, map[string]any{"from_date": "2026-04-08", "reason": "respite"})
	require.Equal(t, []string{paid.dp.Id.String()}, ids("/v1/payment-agreements?suspended=true"))
	require.Len(t, ids("/v1/payment-agreements?page_size=1"), 1, "paged")

	draft := b.createRun("2026-05-04")
	var runs api.PaymentRunList
	b.do(http.MethodGet, "/v1/payment-runs?status=draft", fin, nil).decode(t, &runs)
	require.Len(t, runs.Items, 1)
	require.Equal(t, draft.Id, runs.Items[0].Id)
	b.do(http.MethodGet, "/v1/payment-runs?status=paid&pay_date=2026-04-06", fin, nil).decode(t, &runs)
	require.Len(t, runs.Items, 1)

	r := b.do(http.MethodPost, "/v1/one-off-payments", b.financeA(), map[string]any{"agreement_id": paid.dp.Id, "amount_pence": 500, "reason": "x"},
		"Idempotency-Key", uuid.NewString())
	require.Equal(t, http.StatusCreated, r.Status)
	var oneOffs api.OneOffPaymentList
	b.do(http.MethodGet, "/v1/one-off-payments?status=requested", fin, nil).decode(t, &oneOffs)
	require.Len(t, oneOffs.Items, 1)
	b.do(http.MethodGet, "/v1/one-off-payments?status=approved", fin, nil).decode(t, &oneOffs)
	require.Empty(t, oneOffs.Items)
}
