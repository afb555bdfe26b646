package main

import (
	"bufio"
	"bytes"
	"context"
	"database/sql"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/pbudget/pbudget/internal/auth"
	"github.com/pbudget/pbudget/internal/config"
	"github.com/pbudget/pbudget/internal/testdb"
)

func TestMain(m *testing.M) { os.Exit(testdb.Run(m)) }

// freshDB returns the environment of a new, empty database dropped at the end of the test: the
// owner role as PB_MIGRATE_DATABASE_URL and the runtime role as DATABASE_URL, as in production.
func freshDB(t *testing.T) map[string]string {
	t.Helper()
	name, err := testdb.Create(context.Background())
	require.NoError(t, err)
	t.Cleanup(func() { _ = testdb.Drop(context.Background(), name) })
	return map[string]string{"PB_MIGRATE_DATABASE_URL": testdb.OwnerURL(name), "DATABASE_URL": testdb.RuntimeURL(name),
		"PB_SECRET_KEYS": testSecretKey(t)}
}

// testSecretKey is a fresh PB_SECRET_KEYS, as pbudget secret-key prints one.
func testSecretKey(t *testing.T) string {
	t.Helper()
	var key bytes.Buffer
	require.NoError(t, run(context.Background(), []string{"secret-key", "--id", "test"}, env(nil), &key))
	return strings.TrimSpace(key.String())
}

func env(m map[string]string) func(string) string { return func(k string) string { return m[k] } }

func TestSubcommandsKeygenTokenMigrateAndSeed(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	vars := freshDB(t)
	dsn := vars["DATABASE_URL"]
	getenv := env(vars)
	ctx := context.Background()
	var out bytes.Buffer

	require.NoError(t, run(ctx, []string{"keygen", "--out", dir}, getenv, &out))
	require.FileExists(t, filepath.Join(dir, "jwt-private.pem"))
	info, err := os.Stat(filepath.Join(dir, "jwt-private.pem"))
	require.NoError(t, err)
	require.Equal(t, os.FileMode(0o600), info.Mode().Perm())

	out.Reset()
	require.NoError(t, run(ctx, []string{"token", "--key", filepath.Join(dir, "jwt-private.pem"), "--council", "demo",
		"--roles", "practitioner,finance", "--sub", "alice", "--ttl", "10m"}, getenv, &out))
	keys, err := auth.LoadPublicKeys(filepath.Join(dir, "jwt-public.pem"))
	require.NoError(t, err)
	v, err := auth.NewVerifier(ctx, auth.VerifierConfig{PublicKeys: keys, Issuer: "pbudget", Audience: "pbudget-api"})
	require.NoError(t, err)
	id, err := v.Verify(strings.TrimSpace(out.String()))
	require.NoError(t, err)
	require.Equal(t, "alice", id.Subject)
	require.Len(t, id.Roles, 2)

	require.Error(t, run(ctx, []string{"token", "--key", filepath.Join(dir, "jwt-private.pem"), "--council", "demo", "--roles", "root"}, getenv, io.Discard))
	require.NoError(t, run(ctx, []string{"migrate"}, getenv, io.Discard))
	require.NoError(t, run(ctx, []string{"migrate"}, getenv, io.Discard), "migrating again re-applies the grants")
	require.NoError(t, run(ctx, []string{"seed"}, getenv, io.Discard), "the runtime role may seed")
	require.NoError(t, run(ctx, []string{"seed"}, getenv, io.Discard), "seeding twice is harmless")
	db, err := sql.Open("pgx", dsn)
	require.NoError(t, err)
	defer db.Close()
	var active int
	require.NoError(t, db.QueryRow(`SELECT count(*) FROM ras_versions r JOIN councils c ON c.id = r.council_id
		WHERE c.code = 'demo' AND r.status = 'active'`).Scan(&active))
	require.Equal(t, 3, active, "a RAS version in force for needs, carer and child assessments, once")
	var tables int
	require.NoError(t, db.QueryRow(`SELECT count(*) FROM rate_tables r JOIN councils c ON c.id = r.council_id
		WHERE c.code = 'demo' AND r.valid_from = '2025-04-06'`).Scan(&tables))
	require.Equal(t, 1, tables, "the England 2025/26 rate table, once")
	require.Error(t, run(ctx, []string{"frobnicate"}, getenv, io.Discard))
	require.Error(t, run(ctx, []string{"migrate"}, env(nil), io.Discard), "DATABASE_URL is required")
}

// TestServeFinishesInFlightRequestsOnShutdown starts the real server, begins a request, asks the
// server to stop while the request's body is still arriving, and expects the request to complete.
func TestServeFinishesInFlightRequestsOnShutdown(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	_, pubPath, err := auth.WriteKeyPair(dir)
	require.NoError(t, err)
	priv, err := auth.LoadPrivateKey(filepath.Join(dir, "jwt-private.pem"))
	require.NoError(t, err)
	vars := freshDB(t)
	vars["PB_JWT_PUBLIC_KEY_FILE"], vars["PB_SHUTDOWN_TIMEOUT"] = pubPath, "10s"
	cfg, err := config.Load(env(vars))
	require.NoError(t, err)

	// serve migrates; seed the council afterwards through the same subcommand as make run.
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	require.NoError(t, err)
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- serve(ctx, cfg, slog.New(slog.NewJSONHandler(io.Discard, nil)), ln, nil) }()
	addr := ln.Addr().String()
	require.Eventually(t, func() bool {
		resp, err := http.Get("http://" + addr + "/readyz")
		if err != nil {
			return false
		}
		resp.Body.Close()
		return resp.StatusCode == http.StatusOK
	}, 90*time.Second, 50*time.Millisecond)
	require.NoError(t, run(context.Background(), []string{"seed"}, env(vars), io.Discard))

	token, err := auth.Mint(priv, auth.MintOptions{Subject: "u", Council: "demo", Roles: []string{"practitioner"}, Issuer: "pbudget", Audience: "pbudget-api", TTL: time.Hour})
	require.NoError(t, err)
	body := `{"given_name":"Grace","family_name":"Ful","date_of_birth":"1970-01-01","person_type":"adult"}`
	conn, err := net.Dial("tcp", addr)
	require.NoError(t, err)
	defer conn.Close()
	fmt.Fprintf(conn, "POST /v1/people HTTP/1.1\r\nHost: %s\r\nAuthorization: Bearer %s\r\nContent-Type: application/json\r\nContent-Length: %d\r\n\r\n%s",
		addr, token, len(body), body[:10])
	time.Sleep(200 * time.Millisecond) // the server is now reading the body

	cancel() // SIGTERM
	time.Sleep(200 * time.Millisecond)
	_, err = conn.Write([]byte(body[10:]))
	require.NoError(t, err)
	resp, err := http.ReadResponse(bufio.NewReader(conn), nil)
	require.NoError(t, err)
	require.Equal(t, http.StatusCreated, resp.StatusCode, "the in-flight request completes")
	resp.Body.Close()

	require.NoError(t, <-done)
	_, err = net.DialTimeout("tcp", addr, time.Second)
	require.Error(t, err, "no new connections after shutdown")
}

// TestServeRefusesARoleThatCouldAlterTheAuditTrail: with DATABASE_URL alone, naming a superuser
// (or the tables' owner), serve migrates and then refuses to start, saying what to do; with
// PB_ALLOW_SINGLE_DB_ROLE=true it serves and warns. With two roles it serves without a warning.
func TestServeRefusesARoleThatCouldAlterTheAuditTrail(t *testing.T) {
	t.Parallel()
	_, pubPath, err := auth.WriteKeyPair(t.TempDir())
	require.NoError(t, err)
	name, err := testdb.Create(context.Background())
	require.NoError(t, err)
	t.Cleanup(func() { _ = testdb.Drop(context.Background(), name) })
	single := map[string]string{"DATABASE_URL": testdb.WithDatabase(testdb.AdminURL(), name), "PB_JWT_PUBLIC_KEY_FILE": pubPath,
		"PB_SECRET_KEYS": testSecretKey(t)}

	cfg, err := config.Load(env(single))
	require.NoError(t, err)
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	require.NoError(t, err)
	err = serve(context.Background(), cfg, slog.New(slog.NewJSONHandler(io.Discard, nil)), ln, nil)
	require.ErrorContains(t, err, "could alter the audit trail (it is a superuser)")
	require.ErrorContains(t, err, "PB_MIGRATE_DATABASE_URL")

	single["PB_ALLOW_SINGLE_DB_ROLE"] = "true"
	warned := serveAndStop(t, single)
	require.Contains(t, warned, `"level":"WARN","msg":"the audit trail is protected only by triggers`)
	require.Contains(t, warned, `"level":"WARN","msg":"PB_PUBLIC_URL is not set`, "webhook links need the public root")

	vars := freshDB(t)
	vars["PB_JWT_PUBLIC_KEY_FILE"] = pubPath
	vars["PB_PUBLIC_URL"] = "https://pbudget.example.gov.uk"
	require.NotContains(t, serveAndStop(t, vars), `"level":"WARN"`)

	// Migrated by the owner in a release step, served by the runtime role alone: the serving
	// process never holds the owner's password.
	delete(vars, "PB_MIGRATE_DATABASE_URL")
	logs := serveAndStop(t, vars)
	require.NotContains(t, logs, `"level":"WARN"`)
	require.Contains(t, logs, `"msg":"serving"`)
}

// serveAndStop runs serve with vars until it is ready (or has failed), stops it and returns what
// it logged.
func serveAndStop(t *testing.T, vars map[string]string) string {
	t.Helper()
	cfg, err := config.Load(env(vars))
	require.NoError(t, err)
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	require.NoError(t, err)
	var logs lockedBuffer
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- serve(ctx, cfg, slog.New(slog.NewJSONHandler(&logs, nil)), ln, nil) }()
	require.Eventually(t, func() bool {
		select {
		case err := <-done:
			done <- err
			return true
		default:
		}
		resp, err := http.Get("http://" + ln.Addr().String() + "/readyz")
		if err != nil {
			return false
		}
		resp.Body.Close()
		return resp.StatusCode == http.StatusOK
	}, 90*time.Second, 50*time.Millisecond)
	cancel()
	require.NoError(t, <-done)
	return logs.String()
}

func TestTokenRefusesTheProviderRoleWithoutAProvider(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	getenv := env(nil)
	require.NoError(t, run(context.Background(), []string{"keygen", "--out", dir}, getenv, io.Discard))
	key := filepath.Join(dir, "jwt-private.pem")
	err := run(context.Background(), []string{"token", "--key", key, "--council", "demo", "--roles", "provider"}, getenv, io.Discard)
	require.ErrorContains(t, err, "--provider")
	require.NoError(t, run(context.Background(), []string{"token", "--key", key, "--council", "demo", "--roles", "provider",
		"--provider", "0193a5c4-0000-7000-8000-000000000001"}, getenv, io.Discard))
}

func TestTokenRefusesThePersonRoleWithoutAPersonAndAPersonWithoutTheRole(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	getenv := env(nil)
	require.NoError(t, run(context.Background(), []string{"keygen", "--out", dir}, getenv, io.Discard))
	key := filepath.Join(dir, "jwt-private.pem")
	id := "0193a5c4-0000-7000-8000-000000000002"
	for _, args := range [][]string{
		{"--roles", "person"},
		{"--roles", "practitioner", "--person", id},
		{"--roles", "person,practitioner", "--person", id},
	} {
		err := run(context.Background(), append([]string{"token", "--key", key, "--council", "demo"}, args...), getenv, io.Discard)
		require.ErrorContains(t, err, "--person", "%v", args)
	}
	require.NoError(t, run(context.Background(), []string{"token", "--key", key, "--council", "demo", "--roles", "person",
		"--person", id}, getenv, io.Discard))
}

// TestServeWritesTheLastReadsAccessRecordsOnShutdown: access records are written in batches;
// when serve stops, those still waiting are written before it returns.
func TestServeWritesTheLastReadsAccessRecordsOnShutdown(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	_, pubPath, err := auth.WriteKeyPair(dir)
	require.NoError(t, err)
	priv, err := auth.LoadPrivateKey(filepath.Join(dir, "jwt-private.pem"))
	require.NoError(t, err)
	vars := freshDB(t)
	dsn := vars["DATABASE_URL"]
	vars["PB_JWT_PUBLIC_KEY_FILE"] = pubPath
	cfg, err := config.Load(env(vars))
	require.NoError(t, err)
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	require.NoError(t, err)
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- serve(ctx, cfg, slog.New(slog.NewJSONHandler(io.Discard, nil)), ln, nil) }()
	base := "http://" + ln.Addr().String()
	require.Eventually(t, func() bool {
		resp, err := http.Get(base + "/readyz")
		if err != nil {
			return false
		}
		resp.Body.Close()
		return resp.StatusCode == http.StatusOK
	}, 90*time.Second, 50*time.Millisecond)
	require.NoError(t, run(context.Background(), []string{"seed"}, env(vars), io.Discard))
	token, err := auth.Mint(priv, auth.MintOptions{Subject: "u", Council: "demo", Roles: []string{"practitioner"}, Issuer: "pbudget", Audience: "pbudget-api", TTL: time.Hour})
	require.NoError(t, err)
	call := func(method, path, body string) *http.Response {
		req, err := http.NewRequest(method, base+path, strings.NewReader(body))
		require.NoError(t, err)
		req.Header.Set("Authorization", "Bearer "+token)
		if body != "" {
			req.Header.Set("Content-Type", "application/json")
		}
		resp, err := http.DefaultClient.Do(req)
		require.NoError(t, err)
		return resp
	}
	resp := call(http.MethodPost, "/v1/people", `{"given_name":"Ada","family_name":"Byron","date_of_birth":"1970-01-01","person_type":"adult"}`)
	require.Equal(t, http.StatusCreated, resp.StatusCode)
	loc := resp.Header.Get("Location")
	resp.Body.Close()
	const reads = 50
	for range reads {
		resp := call(http.MethodGet, loc, "")
		require.Equal(t, http.StatusOK, resp.StatusCode)
		resp.Body.Close()
	}
	cancel()
	require.NoError(t, <-done)

	db, err := sql.Open("pgx", dsn)
	require.NoError(t, err)
	defer db.Close()
	var n int
	require.NoError(t, db.QueryRow(`SELECT count(*) FROM access_records WHERE operation = 'getPerson'`).Scan(&n))
	require.Equal(t, reads, n, "every read answered has its access record")
}
