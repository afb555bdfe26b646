package httpapi_test

import (
	"net/http"
	"sync"
	"testing"

	"github.com/google/uuid"
	"github.com/stretchr/testify/require"

	"github.com/pbudget/pbudget/api"
)

// Money is recovered once: two payments recorded at the same time for the whole outstanding
// amount record one; the other is refused as more than is outstanding.
func TestConcurrentRecordsOfARecoveryRecordTheMoneyOnce(t *testing.T) {
	t.Parallel()
	b, _ := payBundle(t, "2026-04-01")
	_, au := b.concludedAudit(500_000, nil)
	r := b.recovery(map[string]any{"audit_id": au.Id, "basis": "surplus", "amount_pence": 20_000, "method": "card_recoup",
		"reason": "The balance is above the eight weeks of payments the account may keep."})
	require.Equal(t, http.StatusCreated, r.Status, string(r.Body))
	var rc api.Recovery
	r.decode(t, &rc)
	b.recoveryAction(rc.Id, map[string]any{"action": "notify"})
	statuses := make([]int, 4)
	var wg sync.WaitGroup
	for i := range statuses {
		wg.Add(1)
		go func() {
			defer wg.Done()
			rr := b.do(http.MethodPost, "/v1/recoveries/"+rc.Id.String()+"/actions", b.token("finance"),
				map[string]any{"action": "record", "amount_pence": 20_000}, "Idempotency-Key", uuid.NewString())
			statuses[i] = rr.Status
		}()
	}
	wg.Wait()
	ok := 0
	for _, s := range statuses {
		switch s {
		case http.StatusOK:
			ok++
		case http.StatusUnprocessableEntity, http.StatusConflict:
		default:
			t.Fatalf("unexpected status %d", s)
		}
	}
	require.Equal(t, 1, ok, "%v", statuses)
	r = b.do(http.MethodGet, "/v1/recoveries/"+rc.Id.String(), b.token("finance"), nil)
	r.decode(t, &rc)
	require.Equal(t, int64(20_000), rc.RecoveredPence)
	require.Equal(t, "recovered", string(rc.Status))
}

// Two statements filed at the same time for the same period: one is kept, the other refused,
// so that no two statements chain from the same closing balance.
func TestConcurrentStatementsForOnePeriodKeepOne(t *testing.T) {
	t.Parallel()
	b, _ := payBundle(t, "2026-07-01")
	prov := b.provider("isf_provider")
	f := b.agreements(agreementSpec{start: "2026-04-06", isf: &prov})
	tok := b.providerToken(prov)
	path := "/v1/isf-agreements/" + f.isf.Id.String() + "/statements"
	statuses := make([]int, 4)
	var wg sync.WaitGroup
	for i := range statuses {
		wg.Add(1)
		go func() {
			defer wg.Done()
			statuses[i] = b.do(http.MethodPost, path, tok, isfStatement("2026-04-06", "2026-05-01", 0, 60_000, f.plan.Lines[1].Id, "4", 30_000, 30_000)).Status
		}()
	}
	wg.Wait()
	created := 0
	for _, s := range statuses {
		if s == http.StatusCreated {
			created++
		} else {
			require.Equal(t, http.StatusConflict, s)
		}
	}
	require.Equal(t, 1, created, "%v", statuses)
}
