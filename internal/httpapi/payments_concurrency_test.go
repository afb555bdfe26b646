package httpapi_test

import (
	"bytes"
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"sync"
	"testing"

	"github.com/google/uuid"
	"github.com/stretchr/testify/require"
)

// send is do without assertions, for goroutines (require must fail in the test's own goroutine);
// the caller checks the responses against the contract afterwards.
func (b *bundle) send(method, path, token string, body any, hdr ...string) (*resp, []byte) {
	raw, _ := json.Marshal(body)
	req := httptest.NewRequest(method, path, bytes.NewReader(raw))
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("Authorization", "Bearer "+token)
	for i := 0; i+1 < len(hdr); i += 2 {
		req.Header.Set(hdr[i], hdr[i+1])
	}
	rec := httptest.NewRecorder()
	b.e.ServeHTTP(rec, req)
	return &resp{Status: rec.Code, Header: rec.Header(), Body: rec.Body.Bytes()}, raw
}

// livePerCycle counts the council's live cycle lines by (agreement, cycle start), from the table.
func (b *bundle) livePerCycle() map[string]int {
	b.t.Helper()
	rows, err := b.db.SQL().Query(`SELECT agreement_id::text || ' ' || cycle_start::text, count(*) FROM payment_lines
		WHERE council_id = $1 AND kind = 'cycle' AND state = 'live' GROUP BY 1`, b.council.ID)
	require.NoError(b.t, err)
	defer rows.Close()
	out := map[string]int{}
	for rows.Next() {
		var k string
		var n int
		require.NoError(b.t, rows.Scan(&k, &n))
		out[k] = n
	}
	require.NoError(b.t, rows.Err())
	return out
}

// The concurrency proof, through HTTP on the real database: two runs for the same pay date
// created at once, and one run request replayed 20 times at once, pay each cycle once.
func TestConcurrentRunsAndReplaysPayEachCycleOnce(t *testing.T) {
	t.Parallel()
	b, _ := payBundle(t, "2026-04-20")
	var ids []uuid.UUID
	for range 4 {
		ids = append(ids, b.agreements(agreementSpec{start: "2026-04-06"}).dp.Id) // two cycles each by 4 May + 7
	}
	want := 2 * len(ids)

	// Two runs for the same pay date, asked for at once under different keys: both are created and
	// built at the same time, and the database lets only one take each line.
	var wg sync.WaitGroup
	two := make([]*resp, 2)
	bodies := make([][]byte, 2)
	for i := range two {
		wg.Add(1)
		go func() {
			defer wg.Done()
			two[i], bodies[i] = b.send(http.MethodPost, "/v1/payment-runs", b.financeA(), map[string]any{"pay_date": "2026-05-04"},
				"Idempotency-Key", uuid.NewString())
		}()
	}
	wg.Wait()
	var total int64
	for i, r := range two {
		checkAgainstSpec(t, http.MethodPost, "/v1/payment-runs", bodies[i], r)
		require.Equal(t, http.StatusAccepted, r.Status, string(r.Body))
		run := b.builtRun(r.Header.Get("Location"))
		total += run.Totals.TotalPence
	}
	perCycle := b.livePerCycle()
	require.Len(t, perCycle, want, "every cycle taken")
	for k, n := range perCycle {
		require.Equal(t, 1, n, "cycle %s taken once", k)
	}
	require.Equal(t, int64(want)*60_000, total, "the two runs together pay each cycle once")

	// The same request 20 times at once: one run, the others replay it or are told it is in flight.
	before := b.counts()
	key := uuid.NewString()
	replies := make([]*resp, 20)
	reqs := make([][]byte, 20)
	for i := range replies {
		wg.Add(1)
		go func() {
			defer wg.Done()
			replies[i], reqs[i] = b.send(http.MethodPost, "/v1/payment-runs", b.financeA(), map[string]any{"pay_date": "2026-06-01"}, "Idempotency-Key", key)
		}()
	}
	wg.Wait()
	locations := map[string]bool{}
	for i, r := range replies {
		checkAgainstSpec(t, http.MethodPost, "/v1/payment-runs", reqs[i], r)
		switch r.Status {
		case http.StatusAccepted:
			locations[r.Header.Get("Location")] = true
		case http.StatusConflict:
			require.Equal(t, "urn:pbudget:problem:idempotency-key-in-flight", r.problem(t).Type)
		default:
			t.Fatalf("reply %d: %d %s", i, r.Status, r.Body)
		}
	}
	require.Len(t, locations, 1, "every accepted reply names the same run")
	for loc := range locations {
		b.builtRun(loc)
	}
	after := b.counts()
	require.Equal(t, before["payment_runs"]+1, after["payment_runs"], "one run for 20 requests")
	require.Equal(t, before["idempotency_keys"]+1, after["idempotency_keys"])
	perCycle = b.livePerCycle()
	require.Len(t, perCycle, want+len(ids), "the June run took the next cycle of each agreement")
	for k, n := range perCycle {
		require.Equal(t, 1, n, "cycle %s taken once", k)
	}
	// Replayed again afterwards: the stored answer, nothing new.
	r := b.do(http.MethodPost, "/v1/payment-runs", b.financeA(), map[string]any{"pay_date": "2026-06-01"}, "Idempotency-Key", key)
	require.Equal(t, http.StatusAccepted, r.Status)
	require.Equal(t, "true", r.Header.Get("Idempotent-Replayed"))
	require.Equal(t, after, b.counts())
}
