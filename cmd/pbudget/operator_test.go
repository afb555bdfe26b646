package main

import (
	"bytes"
	"context"
	"encoding/json"
	"io"
	"log/slog"
	"net"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/pbudget/pbudget/internal/app"
	"github.com/pbudget/pbudget/internal/auth"
	"github.com/pbudget/pbudget/internal/buildinfo"
	"github.com/pbudget/pbudget/internal/config"
	"github.com/pbudget/pbudget/internal/council"
	"github.com/pbudget/pbudget/internal/postgres"
	"github.com/pbudget/pbudget/internal/testdb"
)

// pb runs the binary's entry point and returns what it printed; the test fails unless it succeeds.
func pb(t *testing.T, getenv func(string) string, args ...string) string {
	t.Helper()
	var out bytes.Buffer
	require.NoError(t, run(context.Background(), args, getenv, &out), "pbudget %s: %s", strings.Join(args, " "), out.String())
	return out.String()
}

const alphaConfig = `# Alpha's own configuration.
council: alpha

rate_tables:
  - name: Alpha 2026/27
    valid_from: 2026-04-06
    capital: { lower_pence: 1425000, upper_pence: 2325000 }
    tariff_step_pence: 25000
    tariff_weekly_pence_per_step: 100
    mig:
      base:
        - { household: single, age_band: age_25_to_pension_credit_age, weekly_pence: 11700 }
    minimum_weekly_charge_pence: 0
    taper_percent: 100

ras_versions:
  - assessment_type: needs
    name: Alpha adult RAS
    status: active
    questionnaire:
      domains:
        - key: care
          title: Personal care
          questions:
            - key: washing
              text: Washing
              options:
                - { key: none, label: No help, points: 0 }
                - { key: all, label: Help with everything, points: 20 }
    model: { kind: points, pence_per_point: 50000 }

service_categories:
  - { key: alpha_befriending, name: Befriending, cld_service_type: long_term_community, dp_allowed: true, rule: none }
`

// TestCouncilsCreatedWithTheCLISeeOnlyTheirOwnData creates two councils with pbudget council create,
// loads a configuration file into one with pbudget load, mints each a token with pbudget token,
// and shows through the HTTP server that each token sees only its council's configuration and
// people; then retires one, whose token is refused from then on.
func TestCouncilsCreatedWithTheCLISeeOnlyTheirOwnData(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	vars := freshDB(t)
	dsn := vars["DATABASE_URL"]
	getenv := env(vars)
	pb(t, getenv, "migrate")

	out := pb(t, getenv, "council", "create", "--code", "alpha", "--name", "Alpha Council", "--actor", "ops:sam")
	require.Contains(t, out, `council alpha "Alpha Council" created`)
	require.Contains(t, out, `rate table from 2025-04-06 "England 2025/26 (DHSC defaults)": created`)
	require.Contains(t, out, "approver limit £49,000.00 a year")
	require.Contains(t, out, "the 14 default categories")
	out = pb(t, getenv, "council", "create", "--code", "alpha", "--name", "Alpha Council")
	require.Contains(t, out, `council alpha "Alpha Council" exists`)
	require.Contains(t, out, "nothing changed")
	require.Error(t, run(context.Background(), []string{"council", "create", "--code", "alpha", "--name", "Another"}, getenv, io.Discard),
		"a code is one council")
	pb(t, getenv, "council", "create", "--code", "beta", "--name", "Beta Council")

	cfgFile := filepath.Join(dir, "alpha.yaml")
	require.NoError(t, os.WriteFile(cfgFile, []byte(alphaConfig), 0o600))
	require.Error(t, run(context.Background(), []string{"load", "--council", "beta", cfgFile}, getenv, io.Discard),
		"alpha's file names alpha")
	out = pb(t, getenv, "load", "--council", "alpha", "--actor", "ops:sam", cfgFile)
	require.Contains(t, out, `alpha.yaml:5: rate table from 2026-04-06 "Alpha 2026/27": created`)
	require.Contains(t, out, `alpha.yaml:17: needs RAS version "Alpha adult RAS": created and activated`)
	require.Contains(t, out, "3 change(s)")
	out = pb(t, getenv, "load", "--council", "alpha", dir)
	require.Contains(t, out, "nothing changed")

	pb(t, getenv, "keygen", "--out", dir)
	token := func(code string) string {
		return strings.TrimSpace(pb(t, getenv, "token", "--key", filepath.Join(dir, "jwt-private.pem"), "--council", code,
			"--roles", "practitioner,council_admin,finance"))
	}
	alpha, beta := token("alpha"), token("beta")

	// The whole service over HTTP, on a clock the test can move past the council cache.
	db, err := postgres.Open(context.Background(), dsn, 4, testdb.Logger())
	require.NoError(t, err)
	defer db.Close()
	keys, err := auth.LoadPublicKeys(filepath.Join(dir, "jwt-public.pem"))
	require.NoError(t, err)
	v, err := auth.NewVerifier(context.Background(), auth.VerifierConfig{PublicKeys: keys, Issuer: "pbudget", Audience: "pbudget-api"})
	require.NoError(t, err)
	var skew atomic.Int64
	now := func() time.Time { return time.Now().Add(time.Duration(skew.Load())) }
	handler, _, err := app.New(app.Options{DB: db, Verifier: v, Log: testdb.Logger(), Now: now})
	require.NoError(t, err)
	srv := httptest.NewServer(handler)
	defer srv.Close()
	call := func(method, path, tok string, body any) (int, map[string]any) {
		t.Helper()
		var r io.Reader
		if body != nil {
			raw, err := json.Marshal(body)
			require.NoError(t, err)
			r = bytes.NewReader(raw)
		}
		req, err := http.NewRequest(method, srv.URL+path, r)
		require.NoError(t, err)
		req.Header.Set("Authorization", "Bearer "+tok)
		if body != nil {
			req.Header.Set("Content-Type", "application/json")
		}
		resp, err := http.DefaultClient.Do(req)
		require.NoError(t, err)
		defer resp.Body.Close()
		var out map[string]any
		require.NoError(t, json.NewDecoder(resp.Body).Decode(&out))
		return resp.StatusCode, out
	}
	names := func(tok, path, field string) []string {
		t.Helper()
		status, body := call(http.MethodGet, path, tok, nil)
		require.Equal(t, http.StatusOK, status, "%v", body)
		var out []string
		for _, it := range body["items"].([]any) {
			out = append(out, it.(map[string]any)[field].(string))
		}
		return out
	}
	require.Equal(t, []string{"Alpha adult RAS"}, names(alpha, "/v1/ras-versions", "name"))
	require.Empty(t, names(beta, "/v1/ras-versions", "name"), "beta has no RAS version: alpha's file went to alpha only")
	require.Equal(t, []string{"England 2025/26 (DHSC defaults)", "Alpha 2026/27"}, names(alpha, "/v1/rate-tables", "name"))
	require.Equal(t, []string{"England 2025/26 (DHSC defaults)"}, names(beta, "/v1/rate-tables", "name"))
	require.Contains(t, names(alpha, "/v1/service-categories", "key"), "alpha_befriending")
	require.NotContains(t, names(beta, "/v1/service-categories", "key"), "alpha_befriending")
	require.Len(t, names(beta, "/v1/service-categories", "key"), 14, "beta has the default catalogue")

	status, person := call(http.MethodPost, "/v1/people", alpha,
		map[string]any{"given_name": "Ada", "family_name": "Alpha", "date_of_birth": "1950-05-05", "person_type": "adult"})
	require.Equal(t, http.StatusCreated, status, "%v", person)
	require.Equal(t, []string{"Alpha"}, names(alpha, "/v1/people", "family_name"))
	require.Empty(t, names(beta, "/v1/people", "family_name"))
	status, _ = call(http.MethodGet, "/v1/people/"+person["id"].(string), beta, nil)
	require.Equal(t, http.StatusNotFound, status, "another council's person is a 404")

	// Retiring beta: listed as retired, its token refused once the instance's cache has expired.
	out = pb(t, getenv, "council", "retire", "--code", "beta", "--reason", "moved to another supplier")
	require.Contains(t, out, `council beta "Beta Council" retired`)
	require.Error(t, run(context.Background(), []string{"council", "retire", "--code", "beta", "--reason", "again"}, getenv, io.Discard))
	require.Error(t, run(context.Background(), []string{"council", "create", "--code", "beta", "--name", "Beta Council"}, getenv, io.Discard),
		"a retired council's code is not reused")
	require.Error(t, run(context.Background(), []string{"load", "--council", "beta", cfgFile}, getenv, io.Discard))
	list := pb(t, getenv, "council", "list")
	require.Contains(t, list, "alpha")
	require.NotContains(t, list, "beta", "a retired council is not listed as active")
	require.Contains(t, pb(t, getenv, "council", "list", "--all"), "retired")
	require.Contains(t, pb(t, getenv, "council", "list", "--all"), "moved to another supplier")

	skew.Store(int64(council.CacheTTL + time.Second))
	status, problem := call(http.MethodGet, "/v1/people", beta, nil)
	require.Equal(t, http.StatusUnauthorized, status)
	require.Equal(t, "urn:pbudget:problem:invalid-token", problem["type"])
	require.Contains(t, problem["detail"], "retired")
	status, _ = call(http.MethodGet, "/v1/people", alpha, nil)
	require.Equal(t, http.StatusOK, status, "the other council carries on")

	var events int
	require.NoError(t, db.SQL().QueryRow(`SELECT count(*) FROM audit_events a JOIN councils c ON c.id = a.council_id
		WHERE c.code = 'beta' AND a.action = 'council.retired' AND a.reason = 'moved to another supplier'`).Scan(&events))
	require.Equal(t, 1, events, "the retirement and its reason are in the council's own audit trail")
	require.NoError(t, db.SQL().QueryRow(`SELECT count(*) FROM audit_events a JOIN councils c ON c.id = a.council_id
		WHERE c.code = 'alpha' AND a.actor_subject = 'ops:sam'`).Scan(&events))
	require.Equal(t, 7, events, "council.created, the national table, and the load's five events (three created, one activated, the load), as the operator")
}

// TestMetricsAreServedOnTheirOwnListenerAndHealthcheckAsksReadyz starts serve with a metrics
// listener: /metrics answers there without a token, with the pool, build and HTTP metrics, and is
// no part of the API; pbudget healthcheck succeeds against the server and fails without one.
func TestMetricsAreServedOnTheirOwnListenerAndHealthcheckAsksReadyz(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	_, pubPath, err := auth.WriteKeyPair(dir)
	require.NoError(t, err)
	vars := freshDB(t)
	vars["PB_JWT_PUBLIC_KEY_FILE"] = pubPath
	cfg, err := config.Load(env(vars))
	require.NoError(t, err)
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	require.NoError(t, err)
	metricsLn, err := net.Listen("tcp", "127.0.0.1:0")
	require.NoError(t, err)
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- serve(ctx, cfg, slog.New(slog.NewJSONHandler(io.Discard, nil)), ln, metricsLn) }()
	addr := ln.Addr().String()
	getenv := env(map[string]string{"PB_LISTEN_ADDR": addr})
	require.Eventually(t, func() bool {
		return run(context.Background(), []string{"healthcheck", "--timeout", "1s"}, getenv, io.Discard) == nil
	}, 90*time.Second, 50*time.Millisecond, "healthcheck passes once the server is ready")
	require.Contains(t, pb(t, getenv, "healthcheck"), `"status":"ready"`)

	resp, err := http.Get("http://" + addr + "/v1/people")
	require.NoError(t, err)
	resp.Body.Close()
	resp, err = http.Get("http://" + addr + "/metrics")
	require.NoError(t, err)
	resp.Body.Close()
	require.Equal(t, http.StatusNotFound, resp.StatusCode, "no metrics on the API's port")

	resp, err = http.Get("http://" + metricsLn.Addr().String() + "/metrics")
	require.NoError(t, err)
	raw, err := io.ReadAll(resp.Body)
	resp.Body.Close()
	require.NoError(t, err)
	require.Equal(t, http.StatusOK, resp.StatusCode)
	body := string(raw)
	b := buildinfo.Get()
	require.Contains(t, body, `pbudget_build_info{commit="`+b.Commit+`",go_version="`+b.GoVersion+`",version="`+b.Version+`"} 1`)
	require.Contains(t, body, `go_sql_open_connections{db_name="pbudget"}`)
	require.Contains(t, body, `go_sql_wait_count_total{db_name="pbudget"}`)
	require.Contains(t, body, "pbudget_db_pool_max_connections ")
	require.Contains(t, body, "pbudget_db_pool_waits_total ")
	require.Contains(t, body, "pbudget_db_transaction_round_trips_total ")
	require.Contains(t, body, `pbudget_http_requests_total{method="GET",route="/v1/people",status="401"} 1`)
	require.Contains(t, body, `pbudget_http_requests_total{method="GET",route="/readyz",status="200"}`)

	cancel()
	require.NoError(t, <-done)
	require.Error(t, run(context.Background(), []string{"healthcheck", "--timeout", "1s"}, getenv, io.Discard), "nothing answers")
}

func TestHealthcheckReachesAServerListeningOnEveryInterfaceOverLoopback(t *testing.T) {
	t.Parallel()
	for addr, want := range map[string]string{
		":8080":          "http://127.0.0.1:8080/readyz",
		"0.0.0.0:8080":   "http://127.0.0.1:8080/readyz",
		"[::]:8080":      "http://[::1]:8080/readyz",
		"127.0.0.1:9999": "http://127.0.0.1:9999/readyz",
		"10.1.2.3:80":    "http://10.1.2.3:80/readyz",
	} {
		got, err := readyURL(addr)
		require.NoError(t, err)
		require.Equal(t, want, got, addr)
	}
	_, err := readyURL("8080")
	require.Error(t, err)
}

func TestVersionPrintsTheBuild(t *testing.T) {
	t.Parallel()
	for _, arg := range []string{"version", "--version"} {
		var out bytes.Buffer
		// The version needs no configuration: it works even when the environment is wrong.
		require.NoError(t, run(context.Background(), []string{arg}, env(map[string]string{"PB_LOG_LEVEL": "loud"}), &out))
		require.Equal(t, buildinfo.Get().String()+"\n", out.String())
		require.True(t, strings.HasPrefix(out.String(), "pbudget "), out.String())
	}
}
