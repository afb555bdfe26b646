package httpapi_test

import (
	"bytes"
	"context"
	"crypto"
	"crypto/ed25519"
	"crypto/rand"
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"regexp"
	"strings"
	"testing"

	"github.com/getkin/kin-openapi/openapi3"
	"github.com/labstack/echo/v4"
	"github.com/stretchr/testify/require"

	"github.com/pbudget/pbudget"
	"github.com/pbudget/pbudget/api"
	"github.com/pbudget/pbudget/internal/app"
	"github.com/pbudget/pbudget/internal/auth"
	"github.com/pbudget/pbudget/internal/postgres"
	"github.com/pbudget/pbudget/internal/testdb"
)

func TestReadyWhenTheDatabaseIsMigrated(t *testing.T) {
	t.Parallel()
	b := setup(t)
	r := b.do(http.MethodGet, "/readyz", "", nil)
	require.Equal(t, http.StatusOK, r.Status)
	var ready api.Ready
	r.decode(t, &ready)
	target, err := postgres.TargetVersion()
	require.NoError(t, err)
	require.Equal(t, target, ready.SchemaVersion)
	require.Equal(t, http.StatusOK, b.do(http.MethodGet, "/healthz", "", nil).Status)
}

func TestNotReadyWhileMigrationsArePending(t *testing.T) {
	t.Parallel()
	setup(t) // for the spec router
	ctx := context.Background()
	name, err := testdb.Create(ctx)
	require.NoError(t, err)
	t.Cleanup(func() { _ = testdb.Drop(context.Background(), name) })
	db, err := postgres.Open(ctx, testdb.RuntimeURL(name), 2, testdb.Logger())
	require.NoError(t, err)
	t.Cleanup(func() { db.Close() })
	e := newApp(t, db)

	rec := httptest.NewRecorder()
	e.ServeHTTP(rec, httptest.NewRequest(http.MethodGet, "/readyz", nil))
	r := &resp{Status: rec.Code, Header: rec.Header(), Body: rec.Body.Bytes()}
	checkAgainstSpec(t, http.MethodGet, "/readyz", nil, r)
	require.Equal(t, http.StatusServiceUnavailable, r.Status)
	require.Equal(t, "urn:pbudget:problem:unavailable", r.problem(t).Type)
}

func newApp(t *testing.T, db *postgres.DB) http.Handler {
	t.Helper()
	pub, _, _ := ed25519.GenerateKey(rand.Reader)
	v, err := auth.NewVerifier(context.Background(), auth.VerifierConfig{PublicKeys: []crypto.PublicKey{pub}, Issuer: issuer, Audience: audience})
	require.NoError(t, err)
	e, _, err := app.New(app.Options{DB: db, Verifier: v, Log: testdb.Logger()})
	require.NoError(t, err)
	return e
}

func TestTheServedContractIsTheEmbeddedSpec(t *testing.T) {
	t.Parallel()
	b := setup(t)
	r := b.do(http.MethodGet, "/openapi.yaml", "", nil)
	require.Equal(t, "application/yaml", r.Header.Get("Content-Type"))
	require.Equal(t, pbudget.OpenAPI, r.Body, "the repository's file, byte for byte")
	file, err := os.ReadFile("../../openapi.yaml")
	require.NoError(t, err)
	require.Equal(t, file, r.Body)
	doc, err := openapi3.NewLoader().LoadFromData(r.Body)
	require.NoError(t, err)
	require.NoError(t, doc.Validate(context.Background()))
	require.Equal(t, shared.spec.Paths.Len(), doc.Paths.Len())
	require.NotNil(t, doc.Paths.Find("/v1/people/{person_id}").Patch)
}

func TestDocsPageCarriesTheContractAndJourneyAndLoadsOnlyFromThisService(t *testing.T) {
	t.Parallel()
	b := setup(t)
	page := b.do(http.MethodGet, "/docs", "", nil)
	require.Equal(t, "text/html", page.Header.Get("Content-Type"))
	body := string(page.Body) // checked without require.Contains, which would print the whole page
	require.True(t, strings.Contains(body, `<script src="/docs/redoc.standalone.js">`))
	require.True(t, strings.Contains(body, `<script id="pbudget-spec" type="application/json">{`), "the contract, in the page")
	require.True(t, strings.Contains(body, `"openapi":"3.0.3"`))
	require.True(t, strings.Contains(body, `# A front end's journey`), "the journey, in the spec's description")
	require.False(t, regexp.MustCompile(`(src|href)="(https?:)?//`).MatchString(body), "no CDN")
	csp := page.Header.Get("Content-Security-Policy")
	require.Contains(t, csp, "default-src 'none'")
	require.Regexp(t, `script-src 'self' 'sha256-[A-Za-z0-9+/]+=*';`, csp, "only this service's script, and the one inline init by its hash")

	script := b.do(http.MethodGet, "/docs/redoc.standalone.js", "", nil)
	require.Equal(t, "text/javascript", script.Header.Get("Content-Type"))
	require.Greater(t, len(script.Body), 500_000)
}

func TestMetricsCountRequestsByRouteAndReportThePool(t *testing.T) {
	t.Parallel()
	b := setup(t)
	b.newPerson(nil)
	rec := httptest.NewRecorder()
	app.MetricsHandler(shared.reg).ServeHTTP(rec, httptest.NewRequest(http.MethodGet, "/metrics", nil))
	require.Equal(t, http.StatusOK, rec.Code)
	body := rec.Body.String()
	require.Contains(t, body, `pbudget_http_requests_total{method="POST",route="/v1/people",status="201"}`)
	require.Contains(t, body, `pbudget_http_request_duration_seconds_bucket{method="POST",route="/v1/people"`)
	require.Contains(t, body, `go_sql_open_connections{db_name="pbudget"}`)
	require.NotContains(t, body, "Alex", "no personal data in metrics")
}

func TestAPanicBecomesA500WithoutInternals(t *testing.T) {
	t.Parallel()
	setup(t)
	e, _, err := app.New(app.Options{DB: testdb.DB(t), Verifier: mustVerifier(t), Log: testdb.Logger()})
	require.NoError(t, err)
	// A route outside the contract, only to make a handler panic behind the real middleware.
	e.GET("/boom", func(echo.Context) error { panic("NHS 9434765919 leaked") })
	rec := httptest.NewRecorder()
	e.ServeHTTP(rec, httptest.NewRequest(http.MethodGet, "/boom", nil))
	require.Equal(t, http.StatusInternalServerError, rec.Code)
	require.Equal(t, "application/problem+json", rec.Header().Get("Content-Type"))
	require.NotContains(t, rec.Body.String(), "9434765919")
	var v any
	require.NoError(t, json.Unmarshal(rec.Body.Bytes(), &v))
	require.NoError(t, shared.spec.Components.Schemas["Problem"].Value.VisitJSON(v))
	require.Equal(t, "urn:pbudget:problem:internal", v.(map[string]any)["type"])
}

func mustVerifier(t *testing.T) *auth.Verifier {
	t.Helper()
	pub, _, _ := ed25519.GenerateKey(rand.Reader)
	v, err := auth.NewVerifier(context.Background(), auth.VerifierConfig{PublicKeys: []crypto.PublicKey{pub}, Issuer: issuer, Audience: audience})
	require.NoError(t, err)
	return v
}

func TestAnOversizedChunkedBodyIsRefused(t *testing.T) {
	t.Parallel()
	b := setup(t)
	before := b.counts()
	body := `{"given_name":"` + strings.Repeat("a", 2<<20) + `","family_name":"B","date_of_birth":"1970-01-01","person_type":"adult"}`
	req := httptest.NewRequest(http.MethodPost, "/v1/people", io.NopCloser(bytes.NewReader([]byte(body))))
	req.ContentLength = -1 // chunked: the size is found out while reading
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("Authorization", "Bearer "+b.token("practitioner"))
	rec := httptest.NewRecorder()
	b.e.ServeHTTP(rec, req)
	r := &resp{Status: rec.Code, Header: rec.Header(), Body: rec.Body.Bytes()}
	checkAgainstSpec(t, http.MethodPost, "/v1/people", nil, r)
	require.Equal(t, http.StatusRequestEntityTooLarge, r.Status)
	require.Equal(t, before, b.counts())
	var p map[string]any
	require.NoError(t, json.Unmarshal(r.Body, &p))
}

func TestACallerThatHangsUpGetsNoAnswerAndNoErrorLog(t *testing.T) {
	t.Parallel()
	b := setup(t)
	p := b.newPerson(nil)
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	req := httptest.NewRequest(http.MethodGet, "/v1/people/"+p.Id.String(), nil).WithContext(ctx)
	req.Header.Set("Authorization", "Bearer "+b.token("practitioner"))
	rec := httptest.NewRecorder()
	b.e.ServeHTTP(rec, req)
	require.Empty(t, rec.Body.String(), "nothing is rendered for a caller that has gone")
}
