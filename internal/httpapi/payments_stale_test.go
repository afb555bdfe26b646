package httpapi_test

import (
	"context"
	"net/http"
	"testing"
	"time"

	"github.com/google/uuid"
	"github.com/stretchr/testify/require"

	"github.com/pbudget/pbudget/api"
)

// A run is built from its agreements as they were; a suspension, an ending, a revised plan or a
// change of bank details recorded after the build makes its lines for that agreement wrong. Approval
// and export refuse such a run (409 payment-run-stale, naming each agreement and why) and change
// nothing; holding the agreement's lines (a later run pays it from what is true then), or cancelling
// the run and creating it again, lets the rest through.
func TestARunThatWentStaleAfterItsBuildIsNeitherApprovedNorExported(t *testing.T) {
	t.Parallel()
	b, _ := payBundle(t, "2026-04-20")
	suspended := b.agreements(agreementSpec{start: "2026-05-04"})
	ended := b.agreements(agreementSpec{start: "2026-05-04"})
	revised := b.agreements(agreementSpec{start: "2026-05-04"})
	newDetails := b.agreements(agreementSpec{start: "2026-05-04"})
	late := b.agreements(agreementSpec{start: "2026-05-04"}) // suspended after approval
	fine := b.agreements(agreementSpec{start: "2026-05-04"})
	run := b.createRun("2026-05-04")
	require.Equal(t, int64(6*60_000), run.Totals.TotalPence)

	// After the build: a suspension, an ending, a revised plan approved, new bank details pending.
	prac := b.token("practitioner")
	b.mustAgreementAction(suspended.dp.Id, suspended.dp.Version, "suspend", prac, map[string]any{"from_date": "2026-05-04", "reason": "in hospital"})
	b.mustAgreementAction(ended.dp.Id, ended.dp.Version, "end", prac, map[string]any{"end_date": "2026-05-18", "reason": "moved away"})
	r := b.do(http.MethodPost, "/v1/support-plans/"+revised.plan.Id.String()+"/revise", prac, nil, "If-Match", revised.planTag)
	require.Equal(t, http.StatusCreated, r.Status, string(r.Body))
	var plan api.SupportPlan
	r.decode(t, &plan)
	b.approve(plan, b.submit(plan, r.Header.Get("ETag")))
	b.setDetails("/v1/direct-payment-agreements/"+newDetails.dp.Id.String()+"/payment-details", bankAccount(), false)

	before := b.counts()
	r, _ = b.runAction(run, "approve", b.financeB(), nil)
	require.Equal(t, http.StatusConflict, r.Status, string(r.Body))
	p := r.problem(t)
	require.Equal(t, "urn:pbudget:problem:payment-run-stale", p.Type)
	for _, id := range []string{suspended.dp.Id.String(), ended.dp.Id.String(), revised.dp.Id.String(), newDetails.dp.Id.String()} {
		require.Contains(t, *p.Detail, id, "each stale agreement is named")
	}
	require.NotContains(t, *p.Detail, fine.dp.Id.String())
	require.NotContains(t, *p.Detail, late.dp.Id.String())
	require.Contains(t, *p.Detail, "awaits a second user's confirmation")
	require.Contains(t, *p.Detail, "no longer the approved one")
	require.Equal(t, before, b.counts(), "a refused approval changes nothing")

	// Holding the stale agreements' lines lets the run through.
	for _, f := range []payFixture{suspended, ended, revised, newDetails} {
		l := b.lines(&run.Id, "agreement_id="+f.dp.Id.String())
		require.Len(t, l, 1)
		r, run = b.runAction(run, "lines/"+l[0].Id.String()+"/hold", b.financeA(), map[string]any{"reason": "changed after the build"})
		require.Equal(t, http.StatusOK, r.Status, string(r.Body))
	}
	r, run = b.runAction(run, "approve", b.financeB(), nil)
	require.Equal(t, http.StatusOK, r.Status, string(r.Body))
	require.Equal(t, int64(2*60_000), run.Totals.TotalPence)

	// A change after approval: the export is refused the same way.
	b.mustAgreementAction(late.dp.Id, late.dp.Version, "suspend", prac, map[string]any{"from_date": "2026-05-04", "reason": "in hospital"})
	before = b.counts()
	r, _ = b.runAction(run, "export", b.financeB(), nil)
	require.Equal(t, http.StatusConflict, r.Status, string(r.Body))
	p = r.problem(t)
	require.Equal(t, "urn:pbudget:problem:payment-run-stale", p.Type)
	require.Contains(t, *p.Detail, late.dp.Id.String())
	require.Equal(t, before, b.counts(), "a refused export changes nothing")
	l := b.lines(&run.Id, "agreement_id="+late.dp.Id.String())
	r, run = b.runAction(run, "lines/"+l[0].Id.String()+"/hold", b.financeA(), map[string]any{"reason": "suspended after approval"})
	require.Equal(t, http.StatusOK, r.Status, string(r.Body))
	r, run = b.runAction(run, "export", b.financeB(), nil)
	require.Equal(t, http.StatusOK, r.Status, string(r.Body))
	require.Equal(t, int64(60_000), run.Totals.TotalPence, "only the agreement nothing happened to")
	require.Len(t, run.Files, 1)
	require.Equal(t, int64(60_000), run.Files[0].TotalPence)
}

// The stale check reads the agreements without locking them: while another run's build holds its
// agreements' row locks (FOR NO KEY UPDATE, as LockCandidates takes them), approving and exporting
// this run neither wait for it nor make it wait. The test watches pg_stat_activity for a request waiting
// on the build's locks rather than timing anything.
func TestApprovingAndExportingARunLockNoAgreement(t *testing.T) {
	t.Parallel()
	b, _ := payBundle(t, "2026-04-20")
	b.agreements(agreementSpec{start: "2026-05-04"})
	provider := b.provider("isf_provider")
	b.agreements(agreementSpec{start: "2026-05-04", isf: &provider})
	b.setDetails("/v1/providers/"+provider.Id.String()+"/bank-details", bankAccount(), true)
	run := b.createRun("2026-05-04")
	require.Equal(t, 3, run.Totals.AgreementCount)
	ctx := context.Background()
	build, err := b.db.SQL().BeginTx(ctx, nil)
	require.NoError(t, err)
	defer build.Rollback() //nolint:errcheck // the test's own lock holder
	var holder int
	require.NoError(t, build.QueryRowContext(ctx, `SELECT pg_backend_pid()`).Scan(&holder))
	for _, table := range []string{"direct_payment_agreements", "isf_agreements"} {
		_, err = build.ExecContext(ctx, `SELECT 1 FROM `+table+` WHERE council_id = $1 FOR NO KEY UPDATE`, b.council.ID)
		require.NoError(t, err)
	}
	done := make(chan []*resp, 1)
	go func() { // no assertions here: the main goroutine checks the answers
		var out []*resp
		v := run.Version
		for _, action := range []string{"approve", "export"} {
			r := b.do(http.MethodPost, "/v1/payment-runs/"+run.Id.String()+"/"+action, b.financeB(), nil, "If-Match", etagOf(v),
				"Idempotency-Key", uuid.NewString())
			out = append(out, r)
			v++
		}
		done <- out
	}()
	for {
		select {
		case answers := <-done:
			for _, r := range answers {
				require.Equal(t, http.StatusOK, r.Status, string(r.Body))
			}
			var exported api.PaymentRun
			answers[1].decode(t, &exported)
			require.Equal(t, api.PaymentRunStatus("exported"), exported.Status)
			return
		default:
		}
		var waiting int
		require.NoError(t, b.db.SQL().QueryRowContext(ctx, `SELECT count(*) FROM pg_stat_activity WHERE $1 = ANY (pg_blocking_pids(pid))`,
			holder).Scan(&waiting))
		if waiting > 0 {
			require.NoError(t, build.Rollback())
			<-done
			t.Fatal("approving or exporting waited for a lock that another run's build holds on its agreements")
		}
		time.Sleep(5 * time.Millisecond)
	}
}
