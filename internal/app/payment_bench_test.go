package app_test

import (
	"bytes"
	"context"
	"crypto"
	"crypto/ed25519"
	"crypto/rand"
	"encoding/json"
	"fmt"
	"net/http"
	"net/http/httptest"
	"os"
	"strconv"
	"testing"
	"time"

	"github.com/google/uuid"
	"github.com/labstack/echo/v4"
	"github.com/stretchr/testify/require"

	"github.com/pbudget/pbudget/internal/actor"
	"github.com/pbudget/pbudget/internal/app"
	"github.com/pbudget/pbudget/internal/auth"
	"github.com/pbudget/pbudget/internal/council"
	"github.com/pbudget/pbudget/internal/date"
	"github.com/pbudget/pbudget/internal/postgres"
	"github.com/pbudget/pbudget/internal/testdb"
)

// benchClient calls the whole HTTP stack in process.
type benchClient struct {
	tb  testing.TB
	e   *echo.Echo
	key ed25519.PrivateKey
}

func (c benchClient) token(council, subject string) string {
	tok, err := auth.Mint(c.key, auth.MintOptions{Subject: subject, Council: council, Roles: []string{"finance"}, Issuer: "pbudget",
		Audience: "pbudget-api", TTL: time.Hour})
	require.NoError(c.tb, err)
	return tok
}

func (c benchClient) do(method, path, token string, body any, hdr ...string) (int, http.Header, map[string]any) {
	var raw []byte
	if body != nil {
		raw, _ = json.Marshal(body)
	}
	req := httptest.NewRequest(method, path, bytes.NewReader(raw))
	if body != nil {
		req.Header.Set("Content-Type", "application/json")
	}
	req.Header.Set("Authorization", "Bearer "+token)
	for i := 0; i+1 < len(hdr); i += 2 {
		req.Header.Set(hdr[i], hdr[i+1])
	}
	rec := httptest.NewRecorder()
	c.e.ServeHTTP(rec, req)
	var out map[string]any
	_ = json.Unmarshal(rec.Body.Bytes(), &out)
	return rec.Code, rec.Header(), out
}

// counts is the council's rows in the payment tables.
func paymentCounts(tb testing.TB, db *postgres.DB, councilID uuid.UUID) map[string]int64 {
	out := map[string]int64{}
	for _, table := range []string{"payment_runs", "payment_lines", "payment_files", "payment_overpayments", "audit_events", "idempotency_keys"} {
		var n int64
		require.NoError(tb, db.SQL().QueryRow("SELECT count(*) FROM "+table+" WHERE council_id = $1", councilID).Scan(&n))
		out[table] = n
	}
	return out
}

// BenchmarkPaymentRun10000 is the benchmark: a payment run for PAYRUN_N (default 10,000)
// agreements — 8/10 direct payments to bank accounts, 1/10 to prepaid cards, 1/10 ISFs with 20
// providers; a third each four-weekly, two-weekly and monthly — seven months into their life, every
// earlier cycle paid by a catch-up run. Through the whole HTTP stack, it times the build (POST to
// draft, in batches of 2,000 agreements), the approval and the export, then replays the request and
// the export and checks that no row is added. Run:
//
//	go test -run X -bench PaymentRun -benchtime 1x ./internal/app/
func BenchmarkPaymentRun10000(b *testing.B) {
	n := 10_000
	if v, err := strconv.Atoi(os.Getenv("PAYRUN_N")); err == nil {
		n = v
	}
	ctx := context.Background()
	db := testdb.DB(b)
	pub, priv, err := ed25519.GenerateKey(rand.Reader)
	require.NoError(b, err)
	v, err := auth.NewVerifier(ctx, auth.VerifierConfig{PublicKeys: []crypto.PublicKey{pub}, Issuer: "pbudget", Audience: "pbudget-api"})
	require.NoError(b, err)
	clk := &testClock{}
	keys := newKeys(b)
	e, _, err := app.New(app.Options{DB: db, Verifier: v, Log: testdb.Logger(), Now: clk.Now,
		Background: ctx, Payments: app.PaymentOptions{Keys: keys}})
	require.NoError(b, err)
	svc := app.Build(db, testdb.Logger(), clk.Now, insertOnlyQueue(b), app.PaymentOptions{Keys: keys})
	c := benchClient{tb: b, e: e, key: priv}
	for range b.N {
		b.StopTimer()
		clk.Set(date.Of(2026, 10, 26))
		cl, err := svc.Councils.Ensure(ctx, "bench-"+uuid.NewString()[:8], "Bench")
		require.NoError(b, err)
		admin := actor.Actor{Subject: "bench", CouncilID: cl.ID, Roles: []actor.Role{actor.CouncilAdmin}}
		_, err = svc.Settings.Update(ctx, admin, 1, nil, func(st *council.Settings) {
			st.Originator = &council.Originator{ServiceUserNumber: "123456", SortCode: "401276", AccountNumber: "41234567", AccountName: "BENCH COUNCIL"}
		})
		require.NoError(b, err)
		providers := insertProviders(b, db, cl.ID, 20)
		specs := make([]seedAgreement, n)
		for i := range specs {
			specs[i] = seedAgreement{Start: date.Of(2026, 4, 6), Frequency: []string{"four_weekly", "two_weekly", "monthly"}[i%3], Basis: "net",
				Annual: int64(900_000 + (i%500)*1_000)}
			switch i % 10 {
			case 8:
				specs[i].Card = true
			case 9:
				specs[i].Provider = &providers[(i/10)%len(providers)]
			}
		}
		start := time.Now()
		insertAgreements(b, db, keys, cl.ID, specs)
		setup := time.Since(start)
		creator, approver := c.token(cl.Code, "finance-a"), c.token(cl.Code, "finance-b")
		run := func(pay string, label string) (map[string]any, [3]time.Duration) {
			var d [3]time.Duration
			t0 := time.Now()
			status, h, _ := c.do(http.MethodPost, "/v1/payment-runs", creator, map[string]any{"pay_date": pay}, "Idempotency-Key", label+cl.Code)
			require.Equal(b, http.StatusAccepted, status)
			loc := h.Get("Location")
			var r map[string]any
			for {
				_, _, r = c.do(http.MethodGet, loc, creator, nil)
				require.Nil(b, r["build_error"])
				if r["status"] != "building" {
					break
				}
				time.Sleep(10 * time.Millisecond)
			}
			d[0] = time.Since(t0)
			t1 := time.Now()
			status, _, r = c.do(http.MethodPost, loc+"/approve", approver, nil, "If-Match", fmt.Sprintf(`"%v"`, r["version"]), "Idempotency-Key", uuid.NewString())
			require.Equal(b, http.StatusOK, status, r)
			d[1] = time.Since(t1)
			t2 := time.Now()
			status, _, r = c.do(http.MethodPost, loc+"/export", approver, nil, "If-Match", fmt.Sprintf(`"%v"`, r["version"]), "Idempotency-Key", "export-"+label+cl.Code)
			require.Equal(b, http.StatusOK, status, r)
			d[2] = time.Since(t2)
			return r, d
		}
		catchUp, cd := run("2026-11-02", "catch-up")
		status, _, _ := c.do(http.MethodPost, "/v1/payment-runs/"+catchUp["id"].(string)+"/mark-paid", approver, map[string]any{},
			"If-Match", fmt.Sprintf(`"%v"`, catchUp["version"]), "Idempotency-Key", uuid.NewString())
		require.Equal(b, http.StatusOK, status)
		history := paymentCounts(b, db, cl.ID)["payment_lines"]

		clk.Set(date.Of(2026, 11, 23))
		b.StartTimer()
		r, d := run("2026-11-30", "next")
		b.StopTimer()
		totals := r["totals"].(map[string]any)
		files := r["files"].([]any)
		var exported float64
		for _, f := range files {
			if f := f.(map[string]any); f["kind"] != "isf_remittance" {
				exported += f["total_pence"].(float64)
			}
		}
		require.Equal(b, totals["total_pence"], exported, "the files add up to the run")

		// Replays: the same request and the same export again add no row.
		before := paymentCounts(b, db, cl.ID)
		t0 := time.Now()
		status, h, _ := c.do(http.MethodPost, "/v1/payment-runs", creator, map[string]any{"pay_date": "2026-11-30"}, "Idempotency-Key", "next"+cl.Code)
		require.Equal(b, http.StatusAccepted, status)
		require.Equal(b, "true", h.Get("Idempotent-Replayed"))
		replay := time.Since(t0)
		t0 = time.Now()
		// The export replayed under its key (a client that lost the answer): the stored answer.
		status, h, again := c.do(http.MethodPost, "/v1/payment-runs/"+r["id"].(string)+"/export", approver, nil, "If-Match",
			fmt.Sprintf(`"%v"`, int(r["version"].(float64))-1), "Idempotency-Key", "export-next"+cl.Code)
		require.Equal(b, http.StatusOK, status)
		require.Equal(b, "true", h.Get("Idempotent-Replayed"))
		reexport := time.Since(t0)
		runID := uuid.MustParse(r["id"].(string))
		require.NoError(b, svc.Payments.BuildRun(ctx, cl.ID, runID), "building an exported run again does nothing")
		after := paymentCounts(b, db, cl.ID)
		require.Equal(b, before, after, "replays add no rows")
		require.Equal(b, len(files), len(again["files"].([]any)))

		total := d[0] + d[1] + d[2]
		b.ReportMetric(total.Seconds(), "s/run")
		b.ReportMetric(d[0].Seconds(), "s/build")
		fmt.Printf("payment run: %d agreements (%d lines of history), setup %s\n", n, history, setup.Round(time.Millisecond))
		fmt.Printf("  catch-up run (pay 2026-11-02): %d lines; build %s, approve %s, export %s\n", int(catchUp["totals"].(map[string]any)["line_count"].(float64)),
			cd[0].Round(time.Millisecond), cd[1].Round(time.Millisecond), cd[2].Round(time.Millisecond))
		fmt.Printf("  next run (pay 2026-11-30): %v lines, %v agreements paid, £%.2f, %d files\n", totals["line_count"], totals["agreement_count"],
			totals["total_pence"].(float64)/100, len(files))
		fmt.Printf("  build %s, approve %s, export %s: %s end to end\n", d[0].Round(time.Millisecond), d[1].Round(time.Millisecond),
			d[2].Round(time.Millisecond), total.Round(time.Millisecond))
		fmt.Printf("  replayed request %s, re-export %s, build again: no new rows (%d runs, %d lines, %d files)\n", replay.Round(time.Millisecond),
			reexport.Round(time.Millisecond), after["payment_runs"], after["payment_lines"], after["payment_files"])
		b.StartTimer()
	}
}
