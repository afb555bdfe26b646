package httpapi_test

import (
	"bytes"
	"context"
	"crypto"
	"crypto/ed25519"
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"net/http"
	"net/http/httptest"
	"os"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/getkin/kin-openapi/openapi3"
	"github.com/getkin/kin-openapi/openapi3filter"
	"github.com/getkin/kin-openapi/routers"
	"github.com/getkin/kin-openapi/routers/gorillamux"
	"github.com/google/uuid"
	"github.com/labstack/echo/v4"
	"github.com/prometheus/client_golang/prometheus"
	"github.com/stretchr/testify/require"

	"github.com/pbudget/pbudget/api"
	"github.com/pbudget/pbudget/internal/access"
	"github.com/pbudget/pbudget/internal/app"
	"github.com/pbudget/pbudget/internal/auth"
	"github.com/pbudget/pbudget/internal/council"
	"github.com/pbudget/pbudget/internal/httpapi"
	"github.com/pbudget/pbudget/internal/jobs"
	"github.com/pbudget/pbudget/internal/postgres"
	"github.com/pbudget/pbudget/internal/secret"
	"github.com/pbudget/pbudget/internal/testdb"
	"github.com/pbudget/pbudget/internal/webhook"
	"github.com/pbudget/pbudget/internal/webhook/outbox"
)

func TestMain(m *testing.M) {
	// The docs page and its script are text; kin-openapi knows only text/plain by default.
	openapi3filter.RegisterBodyDecoder("text/html", openapi3filter.PlainBodyDecoder)
	openapi3filter.RegisterBodyDecoder("text/javascript", openapi3filter.PlainBodyDecoder)
	openapi3filter.RegisterBodyDecoder("application/yaml", openapi3filter.PlainBodyDecoder)
	openapi3filter.RegisterBodyDecoder("text/csv", openapi3filter.PlainBodyDecoder)
	openapi3filter.RegisterBodyDecoder("application/pdf", openapi3filter.FileBodyDecoder)
	os.Exit(testdb.Run(m))
}

const (
	issuer   = "pbudget"
	audience = "pbudget-api"
)

// shared is built once per test binary: the whole service on the test database.
var shared struct {
	once   sync.Once
	err    error
	e      *echo.Echo
	db     *postgres.DB
	reg    *prometheus.Registry
	key    ed25519.PrivateKey
	spec   *openapi3.T
	router routers.Router
	access *access.Writer
}

// bundle is what one test works with: the service, and two fresh councils of its own so that
// tests can run in parallel on one database without seeing each other's rows.
type bundle struct {
	t       testing.TB
	e       *echo.Echo
	db      *postgres.DB
	key     ed25519.PrivateKey
	council council.Council // "ours"
	other   council.Council // another tenant
	access  *access.Writer  // the server's access-record writer
	clock   *clock          // the server's clock, when the test set one (payBundle)
}

func setup(t testing.TB) *bundle {
	t.Helper()
	shared.once.Do(func() {
		db := testdb.DB(t)
		pub, priv, err := ed25519.GenerateKey(rand.Reader)
		if err != nil {
			shared.err = err
			return
		}
		v, err := auth.NewVerifier(context.Background(), auth.VerifierConfig{
			PublicKeys: []crypto.PublicKey{pub}, Issuer: issuer, Audience: audience,
		})
		if err != nil {
			shared.err = err
			return
		}
		shared.access = app.NewAccessWriter(db, testdb.Logger())
		go shared.access.Run(context.Background())
		// The one queue that works the test database's jobs (payBundle's servers only insert them).
		q, err := jobs.New(db.SQL(), testdb.Logger(), jobs.Config{PollInterval: 100 * time.Millisecond})
		if err != nil {
			shared.err = err
			return
		}
		e, reg, err := app.New(app.Options{DB: db, Verifier: v, Log: testdb.Logger(), Background: context.Background(), Access: shared.access,
			Jobs: q, Payments: app.PaymentOptions{Keys: testKeys(), BatchSize: 3}, Webhooks: testWebhooks()})
		if err != nil {
			shared.err = err
			return
		}
		spec, err := httpapi.Spec()
		if err != nil {
			shared.err = err
			return
		}
		spec.Servers = openapi3.Servers{{URL: "http://example.com"}}
		router, err := gorillamux.NewRouter(spec)
		shared.e, shared.db, shared.reg, shared.key, shared.spec, shared.router, shared.err = e, db, reg, priv, spec, router, err
	})
	require.NoError(t, shared.err)
	ctx := context.Background()
	councils := council.NewService(postgres.NewCouncilStore(shared.db))
	ours, err := councils.Ensure(ctx, randomCode(), "Test Council")
	require.NoError(t, err)
	other, err := councils.Ensure(ctx, randomCode(), "Other Council")
	require.NoError(t, err)
	return &bundle{t: t, e: shared.e, db: shared.db, key: shared.key, council: ours, other: other, access: shared.access}
}

// testWebhooks delivers to receivers on loopback (tests only), with the schedule's ten attempts
// and no waits between them.
func testWebhooks() outbox.Options {
	p := webhook.DefaultPolicy()
	for i := range p.Schedule {
		p.Schedule[i] = 0
	}
	p.Jitter, p.MaxRetryAfter, p.Timeout = 0, 0, 5*time.Second
	return outbox.Options{APIBase: "https://pbudget.example.gov.uk", Policy: &p, Guard: webhook.Guard{AllowLoopback: true}}
}

// testKeys is the key ring of this test binary, the same for every server it starts (the shared
// queue opens what a payBundle's server sealed: webhook secrets): never a key committed to the
// repository.
func testKeys() *secret.KeyRing {
	keysOnce.Do(func() {
		key := make([]byte, secret.KeySize)
		if _, err := rand.Read(key); err != nil {
			panic(err)
		}
		ring, err := secret.NewKeyRing("test", map[string][]byte{"test": key})
		if err != nil {
			panic(err)
		}
		keyRing = ring
	})
	return keyRing
}

var (
	keysOnce sync.Once
	keyRing  *secret.KeyRing
)

func randomCode() string {
	var b [6]byte
	_, _ = rand.Read(b[:])
	return "t-" + hex.EncodeToString(b[:])
}

// token mints a token of our council with roles.
func (b *bundle) token(roles ...string) string {
	return b.tokenWith(auth.MintOptions{Council: b.council.Code, Roles: roles})
}

// otherToken mints a token of the other council with roles.
func (b *bundle) otherToken(roles ...string) string {
	return b.tokenWith(auth.MintOptions{Council: b.other.Code, Roles: roles})
}

func (b *bundle) tokenWith(o auth.MintOptions) string {
	b.t.Helper()
	if o.Subject == "" {
		o.Subject = "user-" + strings.Join(o.Roles, "-")
	}
	if o.Issuer == "" {
		o.Issuer = issuer
	}
	if o.Audience == "" {
		o.Audience = audience
	}
	if o.TTL == 0 {
		o.TTL = time.Hour
	}
	tok, err := auth.Mint(b.key, o)
	require.NoError(b.t, err)
	return tok
}

// resp is a recorded response.
type resp struct {
	Status int
	Header http.Header
	Body   []byte
}

func (r *resp) decode(t testing.TB, v any) {
	t.Helper()
	require.NoError(t, json.Unmarshal(r.Body, v), string(r.Body))
}

func (r *resp) problem(t testing.TB) api.Problem {
	t.Helper()
	var p api.Problem
	r.decode(t, &p)
	return p
}

// do sends a request through the whole server and checks the response against openapi.yaml.
// body is nil (no body), a string or []byte (sent as is), or a value sent as JSON. hdr lists
// header name and value pairs; a Content-Type there replaces application/json.
func (b *bundle) do(method, path, token string, body any, hdr ...string) *resp {
	b.t.Helper()
	var raw []byte
	switch v := body.(type) {
	case nil:
	case string:
		raw = []byte(v)
	case []byte:
		raw = v
	default:
		var err error
		raw, err = json.Marshal(v)
		require.NoError(b.t, err)
	}
	req := httptest.NewRequest(method, path, bytes.NewReader(raw))
	if body != nil {
		req.Header.Set("Content-Type", "application/json")
	}
	if token != "" {
		req.Header.Set("Authorization", "Bearer "+token)
	}
	for i := 0; i+1 < len(hdr); i += 2 {
		req.Header.Set(hdr[i], hdr[i+1])
	}
	rec := httptest.NewRecorder()
	b.e.ServeHTTP(rec, req)
	r := &resp{Status: rec.Code, Header: rec.Header(), Body: rec.Body.Bytes()}
	checkAgainstSpec(b.t, method, path, raw, r)
	return r
}

// checkAgainstSpec fails the test when the response is outside the contract.
func checkAgainstSpec(t testing.TB, method, path string, reqBody []byte, r *resp) {
	t.Helper()
	require.NoError(t, specError(method, path, reqBody, r))
}

// specError validates a response with kin-openapi: its status must be declared for the operation,
// and its headers and body must match; router-level answers must be problems.
func specError(method, path string, reqBody []byte, r *resp) error {
	if r.Header.Get("X-Request-Id") == "" {
		return fmt.Errorf("no X-Request-Id")
	}
	if r.Status >= 400 && r.Header.Get("Content-Type") != "application/problem+json" {
		return fmt.Errorf("error %d as %q, want application/problem+json", r.Status, r.Header.Get("Content-Type"))
	}
	req := httptest.NewRequest(method, path, bytes.NewReader(reqBody))
	route, params, err := shared.router.FindRoute(req)
	if err != nil {
		// Not an operation of the contract: only the router's 404 and 405 problems may come back.
		if r.Status != http.StatusNotFound && r.Status != http.StatusMethodNotAllowed {
			return fmt.Errorf("%s %s is outside the contract but answered %d", method, path, r.Status)
		}
		if allow := r.Header.Get("Allow"); r.Status == http.StatusMethodNotAllowed && (allow == "" || strings.Contains(allow, "OPTIONS") || strings.Contains(allow, "HEAD")) {
			return fmt.Errorf("%s %s: Allow %q must list the answered methods only", method, path, allow)
		}
		if method == http.MethodHead {
			if len(r.Body) != 0 {
				return fmt.Errorf("HEAD %s answered with a body", path)
			}
			return nil
		}
		var v any
		if err := json.Unmarshal(r.Body, &v); err != nil {
			return err
		}
		return shared.spec.Components.Schemas["Problem"].Value.VisitJSON(v)
	}
	in := &openapi3filter.ResponseValidationInput{
		RequestValidationInput: &openapi3filter.RequestValidationInput{
			Request: req, PathParams: params, Route: route,
			Options: &openapi3filter.Options{AuthenticationFunc: openapi3filter.NoopAuthenticationFunc},
		},
		Status: r.Status, Header: r.Header,
		Options: &openapi3filter.Options{IncludeResponseStatus: true},
	}
	in.SetBodyBytes(r.Body)
	if err := openapi3filter.ValidateResponse(context.Background(), in); err != nil {
		return fmt.Errorf("%s %s → %d %s: %w", method, path, r.Status, truncate(r.Body), err)
	}
	return nil
}

func truncate(b []byte) string {
	if len(b) > 500 {
		return string(b[:500]) + "…"
	}
	return string(b)
}

// flushAccess writes every access record queued so far, so that a test sees the reads it made.
func (b *bundle) flushAccess() {
	b.t.Helper()
	require.NoError(b.t, b.access.Flush(context.Background()))
}

// counts returns how many rows of each tenant table belong to the council, to prove that a
// rejected request changed nothing. The access records of earlier reads are written first.
func (b *bundle) counts() map[string]int64 {
	b.t.Helper()
	b.flushAccess()
	out := map[string]int64{}
	for _, table := range []string{"people", "relationships", "audit_events", "idempotency_keys", "assessments",
		"personal_budget_versions", "financial_assessments", "support_plans", "plan_lines", "funding_requests",
		"access_records",
		"payment_agreement_amounts", "payment_suspensions", "payment_one_offs", "payment_recipient_details", "payment_runs",
		"payment_lines", "payment_overpayments", "payment_files", "management_change_requests", "plan_top_ups",
		"direct_payment_accounts", "ledger_entries", "statements", "statement_lines", "statement_flags", "evidence_items", "statement_uploads"} {
		var n int64
		require.NoError(b.t, b.db.SQL().QueryRow("SELECT count(*) FROM "+table+" WHERE council_id = $1", b.council.ID).Scan(&n))
		out[table] = n
	}
	return out
}

// newPerson creates a person through the API and returns it.
func (b *bundle) newPerson(fields map[string]any) api.Person {
	b.t.Helper()
	body := map[string]any{
		"given_name": "Alex", "family_name": "Taylor", "date_of_birth": "1980-05-17", "person_type": "adult",
	}
	for k, v := range fields {
		body[k] = v
	}
	r := b.do(http.MethodPost, "/v1/people", b.token("practitioner"), body)
	require.Equal(b.t, http.StatusCreated, r.Status, string(r.Body))
	var p api.Person
	r.decode(b.t, &p)
	return p
}

func newID() string { return uuid.NewString() }
