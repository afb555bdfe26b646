package httpapi_test

import (
	"net/http"
	"testing"

	"github.com/google/uuid"
	"github.com/stretchr/testify/require"

	"github.com/pbudget/pbudget/api"
)

// isfStatementWithPerson is isfStatement with the person's contribution paid into the ISF.
func isfStatementWithPerson(start, end string, opening, fromCouncil, fromPerson int64, line uuid.UUID, closing int64) map[string]any {
	body := isfStatement(start, end, opening, fromCouncil, line, "1", 7_500, closing)
	body["received_from_person_pence"] = fromPerson
	return body
}

// A flagged ISF balance is recovered through the API: only from the ISF's latest statement when
// Dorset's rule flags it, only the council's share of the excess (the person's contribution share
// is theirs), with a written reason, once per statement; by offset, the next payment run for the
// ISF takes it.
func TestAFlaggedISFBalanceIsRecoveredOnceAndItsOffsetIsInTheNextRun(t *testing.T) {
	t.Parallel()
	b, _ := payBundle(t, "2026-08-10")
	prov := b.provider("isf_provider")
	f := b.agreements(agreementSpec{start: "2026-04-01", isf: &prov}) // £75 a week: the threshold is £300
	isfLine := f.plan.Lines[1].Id
	tok := b.providerToken(prov)
	path := "/v1/isf-agreements/" + f.isf.Id.String() + "/statements"
	months := []string{"2026-04-01", "2026-05-01", "2026-06-01", "2026-07-01", "2026-08-01"}
	var sts []api.ISFStatement
	file := func(i int, open int64) int64 {
		closing := open + 40_000 + 10_000 - 7_500 // £400 from the council, £100 from the person, £75 spent
		r := b.do(http.MethodPost, path, tok, isfStatementWithPerson(months[i], months[i+1], open, 40_000, 10_000, isfLine, closing))
		require.Equal(t, http.StatusCreated, r.Status, string(r.Body))
		var st api.ISFStatement
		r.decode(t, &st)
		sts = append(sts, st)
		return closing
	}
	open := int64(0)
	for i := range 3 {
		open = file(i, open)
	}
	why := "The provider has held more than four weeks of the ISF for more than twelve weeks (Dorset's rule)."
	body := func(st api.ISFStatement, kv ...any) map[string]any {
		return with(map[string]any{"basis": "isf_surplus", "isf_statement_id": st.Id, "amount_pence": 40_000, "method": "offset", "cycles": 2,
			"excess": "refund", "reason": why}, kv...)
	}
	refused := func(want int, problem string, req map[string]any, tokens ...string) {
		t.Helper()
		tk := b.token("finance")
		if len(tokens) > 0 {
			tk = tokens[0]
		}
		before := b.counts()
		r := b.do(http.MethodPost, "/v1/recoveries", tk, req, "Idempotency-Key", uuid.NewString())
		require.Equal(t, want, r.Status, string(r.Body))
		if problem != "" {
			require.Equal(t, "urn:pbudget:problem:"+problem, r.problem(t).Type)
		}
		require.Equal(t, before, b.counts(), "nothing written")
	}
	// Above £300 from 30 April to 30 June: 61 days, not more than 12 weeks — not flagged.
	refused(http.StatusUnprocessableEntity, "recovery-isf-statement-not-flagged", body(sts[2]))

	open = file(3, open) // through 31 July: 92 days, flagged
	require.Equal(t, int64(170_000), open)
	// Only the latest statement states the balance to recover from.
	refused(http.StatusUnprocessableEntity, "recovery-isf-statement-not-flagged", body(sts[2]))
	// A written reason is required.
	for _, blank := range []string{"", "   "} {
		refused(http.StatusUnprocessableEntity, "reason-required", body(sts[3], "reason", blank))
	}
	// The excess is £1,700 − £300 = £1,400; the person paid in £400 of the £2,000 received, so £280
	// of it is theirs and £1,120 the council's: more is refused.
	refused(http.StatusUnprocessableEntity, "recovery-council-share-only", body(sts[3], "amount_pence", 112_001))
	// The person's share needs its treatment; a card recoup needs a card; the source is the statement alone.
	refused(http.StatusBadRequest, "validation", without(body(sts[3]), "excess"))
	refused(http.StatusUnprocessableEntity, "recovery-card-recoup-needs-card", body(sts[3], "method", "card_recoup", "cycles", 0))
	refused(http.StatusUnprocessableEntity, "recovery-source", without(body(sts[3]), "isf_statement_id"))
	// Provider staff never raise one; an unknown statement is a 404.
	refused(http.StatusForbidden, "", body(sts[3]), tok)
	refused(http.StatusNotFound, "", body(sts[3], "isf_statement_id", uuid.New()))

	r := b.recovery(body(sts[3]))
	require.Equal(t, http.StatusCreated, r.Status, string(r.Body))
	var rc api.Recovery
	r.decode(t, &rc)
	require.Equal(t, "isf_surplus", string(rc.Basis))
	require.Equal(t, "isf", string(rc.AgreementType))
	require.Equal(t, f.isf.Id, rc.AgreementId)
	require.Equal(t, sts[3].Id, rc.IsfStatementId.MustGet())
	require.Equal(t, int64(112_000), rc.CouncilSharePence)
	require.Equal(t, int64(28_000), rc.PersonExcessPence)
	require.Equal(t, int64(40_000), rc.AmountPence)

	// One recovery per flagged statement: refused by the service, and by the database's unique key
	// whatever races past it.
	refused(http.StatusConflict, "recovery-source-taken", body(sts[3], "amount_pence", 1_000))
	_, err := b.db.SQL().Exec(`INSERT INTO recoveries (council_id, id, isf_agreement_id, person_id, isf_statement_id, basis, amount_pence,
		    council_share_pence, person_excess_pence, reason, method, status, created_by, created_at, updated_at, version)
		SELECT council_id, gen_random_uuid(), isf_agreement_id, person_id, isf_statement_id, basis, 1, council_share_pence, person_excess_pence,
		    reason, 'invoice', 'proposed', created_by, created_at, updated_at, 1 FROM recoveries WHERE id = $1`, rc.Id)
	require.ErrorContains(t, err, "recoveries_isf_statement_key")

	// The audit event carries the figures used.
	var events api.AuditEventList
	ev := b.do(http.MethodGet, "/v1/audit-events?entity_id="+rc.Id.String()+"&action=recovery.proposed", b.token("auditor"), nil)
	require.Equal(t, http.StatusOK, ev.Status, string(ev.Body))
	ev.decode(t, &events)
	require.Len(t, events.Items, 1)
	d := events.Items[0].Details
	require.EqualValues(t, 30_000, d["threshold_pence"])
	require.EqualValues(t, 140_000, d["excess_pence"])
	require.EqualValues(t, 170_000, d["closing_pence"])
	require.EqualValues(t, 40_000, d["from_person_pence"])
	require.EqualValues(t, 160_000, d["from_council_pence"])
	require.EqualValues(t, 112_000, d["council_share_pence"])
	require.Equal(t, sts[3].Id.String(), d["isf_statement_id"])

	// Notified, its offset is in the next run for the ISF: an instalment of £200 a run (within the
	// cycle's £300 payment), recovered when the run is paid; the second run takes the rest.
	b.recoveryAction(rc.Id, map[string]any{"action": "notify"})
	b.setDetails("/v1/providers/"+prov.Id.String()+"/bank-details",
		map[string]any{"bank_account": map[string]any{"sort_code": "601613", "account_number": "31926819", "account_name": "Provider Ltd"}}, true)
	for i, day := range []string{"2026-08-10", "2026-08-24"} {
		run := b.createRun(day)
		var offsets []int64
		for _, l := range b.lines(&run.Id, "agreement_id="+f.isf.Id.String()) {
			if l.Kind == "recovery" {
				offsets = append(offsets, l.AmountPence)
			}
		}
		require.Equal(t, []int64{-20_000}, offsets, "run %d", i)
		b.pay(run)
		r = b.do(http.MethodGet, "/v1/recoveries/"+rc.Id.String(), b.token("finance"), nil)
		r.decode(t, &rc)
		require.Equal(t, int64(20_000*(i+1)), rc.RecoveredPence)
	}
	require.Equal(t, "recovered", string(rc.Status))
}
