package pbudget_test

import (
	"context"
	"crypto"
	"crypto/ed25519"
	"crypto/rand"
	"encoding/hex"
	"fmt"
	"net/http"
	"net/http/httptest"
	"os"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/pbudget/pbudget/internal/app"
	"github.com/pbudget/pbudget/internal/auth"
	"github.com/pbudget/pbudget/internal/council"
	"github.com/pbudget/pbudget/internal/postgres"
	"github.com/pbudget/pbudget/internal/testdb"
	"github.com/pbudget/pbudget/pkg/pbudget"
)

// The client is tested against the whole service, on this test binary's own database, over real
// HTTP on loopback. The examples read PBUDGET_URL and PBUDGET_TOKEN, as an integration would.

const examplesCouncil = "examples"

var server struct {
	srv  *httptest.Server
	key  ed25519.PrivateKey
	once sync.Once
	h    http.Handler
	db   *postgres.DB
	err  error
}

func TestMain(m *testing.M) {
	_, key, err := ed25519.GenerateKey(rand.Reader)
	if err != nil {
		panic(err)
	}
	server.key = key
	// The service is built on the first request: the database exists only once testdb.Run has
	// created it, and the examples need the URL and token before they run.
	server.srv = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		server.once.Do(build)
		if server.err != nil {
			http.Error(w, server.err.Error(), http.StatusInternalServerError)
			return
		}
		server.h.ServeHTTP(w, r)
	}))
	_ = os.Setenv("PBUDGET_URL", server.srv.URL)
	_ = os.Setenv("PBUDGET_TOKEN", mint(examplesCouncil, "", "practitioner", "finance"))
	code := testdb.Run(m)
	server.srv.Close()
	os.Exit(code)
}

func build() {
	ctx := context.Background()
	db, err := postgres.Open(ctx, testdb.DSN(), 10, testdb.Logger())
	if err != nil {
		server.err = err
		return
	}
	v, err := auth.NewVerifier(ctx, auth.VerifierConfig{
		PublicKeys: []crypto.PublicKey{server.key.Public()}, Issuer: "pbudget", Audience: "pbudget-api",
	})
	if err != nil {
		server.err = err
		return
	}
	e, _, err := app.New(app.Options{DB: db, Verifier: v, Log: testdb.Logger()})
	if err != nil {
		server.err = err
		return
	}
	if _, err := council.NewService(postgres.NewCouncilStore(db)).Ensure(ctx, examplesCouncil, "Examples Council"); err != nil {
		server.err = err
		return
	}
	server.h, server.db = e, db
}

func mint(councilCode, provider string, roles ...string) string {
	tok, err := auth.Mint(server.key, auth.MintOptions{
		Subject: "client-test", Council: councilCode, Roles: roles, Provider: provider,
		Issuer: "pbudget", Audience: "pbudget-api", TTL: time.Hour,
	})
	if err != nil {
		panic(err)
	}
	return tok
}

// tenant is a fresh council of one test, so that tests run in parallel without seeing each other.
type tenant struct {
	t    *testing.T
	code string
}

func newTenant(t *testing.T) tenant {
	t.Helper()
	// A request builds the service, so that the council store below has its database.
	resp, err := http.Get(server.srv.URL + "/healthz")
	require.NoError(t, err)
	_ = resp.Body.Close()
	require.NoError(t, server.err)
	var b [6]byte
	_, _ = rand.Read(b[:])
	code := "c-" + hex.EncodeToString(b[:])
	_, err = council.NewService(postgres.NewCouncilStore(server.db)).Ensure(context.Background(), code, "Client Test Council")
	require.NoError(t, err)
	return tenant{t: t, code: code}
}

func (tn tenant) token(roles ...string) string { return mint(tn.code, "", roles...) }

// client returns a pbudget client of the tenant with roles, with quick retries.
func (tn tenant) client(roles []string, opts ...pbudget.Option) *pbudget.Client {
	tn.t.Helper()
	opts = append([]pbudget.Option{
		pbudget.WithBearerToken(tn.token(roles...)),
		pbudget.WithRetryPolicy(pbudget.RetryPolicy{MaxAttempts: 4, BaseDelay: time.Millisecond, MaxDelay: 5 * time.Millisecond}),
	}, opts...)
	c, err := pbudget.New(server.srv.URL, opts...)
	require.NoError(tn.t, err)
	return c
}

// attempt is one request as it left the client.
type attempt struct {
	Method, Path, Key, Auth string
}

// wire sends the client's requests to the server and records them; fault, when set, may answer
// an attempt itself (fake) or throw the server's answer away and fail the attempt (drop), as a
// connection lost after the server committed would.
type wire struct {
	mu       sync.Mutex
	attempts []attempt
	fake     func(n int, r *http.Request) *http.Response
	drop     func(n int, r *http.Request) bool
}

func (w *wire) Do(r *http.Request) (*http.Response, error) {
	w.mu.Lock()
	n := len(w.attempts)
	w.attempts = append(w.attempts, attempt{r.Method, r.URL.Path, r.Header.Get("Idempotency-Key"), r.Header.Get("Authorization")})
	w.mu.Unlock()
	if w.fake != nil {
		if resp := w.fake(n, r); resp != nil {
			return resp, nil
		}
	}
	resp, err := http.DefaultClient.Do(r)
	if err == nil && w.drop != nil && w.drop(n, r) {
		_ = resp.Body.Close()
		return nil, fmt.Errorf("connection reset after attempt %d", n+1)
	}
	return resp, err
}

func (w *wire) seen() []attempt {
	w.mu.Lock()
	defer w.mu.Unlock()
	return append([]attempt(nil), w.attempts...)
}
