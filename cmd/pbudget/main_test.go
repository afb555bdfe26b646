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

// freshDB returns the URL of a new, empty database dropped at the end of the test.
func freshDB(t *testing.T) string {
	t.Helper()
	name, err := testdb.Create(context.Background())
	require.NoError(t, err)
	t.Cleanup(func() { _ = testdb.Drop(context.Background(), name) })
	return testdb.WithDatabase(testdb.AdminURL(), name)
}

func env(m map[string]string) func(string) string { return func(k string) string { return m[k] } }

func TestSubcommandsKeygenTokenMigrateAndSeed(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	dsn := freshDB(t)
	getenv := env(map[string]string{"DATABASE_URL": dsn})
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
	require.NoError(t, run(ctx, []string{"seed"}, getenv, io.Discard))
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
	dsn := freshDB(t)
	var key bytes.Buffer
	require.NoError(t, run(context.Background(), []string{"secret-key", "--id", "test"}, env(nil), &key))
	cfg, err := config.Load(env(map[string]string{"DATABASE_URL": dsn, "PB_JWT_PUBLIC_KEY_FILE": pubPath, "PB_SHUTDOWN_TIMEOUT": "10s",
		"PB_SECRET_KEYS": strings.TrimSpace(key.String())}))
	require.NoError(t, err)

	// serve migrates; seed the council afterwards through the same subcommand as make run.
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	require.NoError(t, err)
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- serve(ctx, cfg, slog.New(slog.NewJSONHandler(io.Discard, nil)), ln) }()
	addr := ln.Addr().String()
	require.Eventually(t, func() bool {
		resp, err := http.Get("http://" + addr + "/readyz")
		if err != nil {
			return false
		}
		resp.Body.Close()
		return resp.StatusCode == http.StatusOK
	}, 20*time.Second, 50*time.Millisecond)
	require.NoError(t, run(context.Background(), []string{"seed"}, env(map[string]string{"DATABASE_URL": dsn}), io.Discard))

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
