package httpapi_test

import (
	"crypto/ed25519"
	"crypto/rand"
	"crypto/rsa"
	"encoding/base64"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/golang-jwt/jwt/v5"
	"github.com/stretchr/testify/require"

	"github.com/pbudget/pbudget/internal/auth"
)

func TestAuthenticationMatrix(t *testing.T) {
	t.Parallel()
	b := setup(t)
	good := b.token("practitioner")
	_, otherKey, _ := ed25519.GenerateKey(rand.Reader)
	rsaKey, err := rsa.GenerateKey(rand.Reader, 2048)
	require.NoError(t, err)
	claims := func(mod func(jwt.MapClaims)) jwt.MapClaims {
		c := jwt.MapClaims{
			"sub": "u1", "council": b.council.Code, "roles": []string{"practitioner"},
			"iss": issuer, "aud": audience, "exp": time.Now().Add(time.Hour).Unix(), "iat": time.Now().Unix(),
		}
		if mod != nil {
			mod(c)
		}
		return c
	}
	sign := func(method jwt.SigningMethod, key any, c jwt.MapClaims) string {
		s, err := jwt.NewWithClaims(method, c).SignedString(key)
		require.NoError(t, err)
		return s
	}
	b64 := base64.RawURLEncoding.EncodeToString
	parts := strings.Split(good, ".")
	pub := b.key.Public().(ed25519.PublicKey)

	tests := []struct {
		name   string
		header string // Authorization
		code   string
	}{
		{"no token", "", "missing-token"},
		{"not a bearer scheme", "Basic dXNlcjpwYXNz", "missing-token"},
		{"empty bearer", "Bearer ", "missing-token"},
		{"garbage", "Bearer not.a.jwt", "invalid-token"},
		{"alg none", "Bearer " + b64([]byte(`{"alg":"none","typ":"JWT"}`)) + "." + parts[1] + ".", "invalid-token"},
		{"HS256 keyed with the public key", "Bearer " + sign(jwt.SigningMethodHS256, []byte(pub), claims(nil)), "invalid-token"},
		{"RS256 when only EdDSA is configured", "Bearer " + sign(jwt.SigningMethodRS256, rsaKey, claims(nil)), "invalid-token"},
		{"signed by an unknown key", "Bearer " + sign(jwt.SigningMethodEdDSA, otherKey, claims(nil)), "invalid-token"},
		{"tampered payload", "Bearer " + parts[0] + "." + b64([]byte(`{"sub":"x","council":"`+b.council.Code+`","roles":["council_admin"]}`)) + "." + parts[2], "invalid-token"},
		{"wrong issuer", "Bearer " + sign(jwt.SigningMethodEdDSA, b.key, claims(func(c jwt.MapClaims) { c["iss"] = "someone-else" })), "invalid-token"},
		{"wrong audience", "Bearer " + sign(jwt.SigningMethodEdDSA, b.key, claims(func(c jwt.MapClaims) { c["aud"] = "other-api" })), "invalid-token"},
		{"expired", "Bearer " + sign(jwt.SigningMethodEdDSA, b.key, claims(func(c jwt.MapClaims) { c["exp"] = time.Now().Add(-time.Hour).Unix() })), "invalid-token"},
		{"no exp", "Bearer " + sign(jwt.SigningMethodEdDSA, b.key, claims(func(c jwt.MapClaims) { delete(c, "exp") })), "invalid-token"},
		{"issued in the future", "Bearer " + sign(jwt.SigningMethodEdDSA, b.key, claims(func(c jwt.MapClaims) { c["iat"] = time.Now().Add(time.Hour).Unix() })), "invalid-token"},
		{"no sub", "Bearer " + sign(jwt.SigningMethodEdDSA, b.key, claims(func(c jwt.MapClaims) { delete(c, "sub") })), "invalid-token"},
		{"unknown council", "Bearer " + sign(jwt.SigningMethodEdDSA, b.key, claims(func(c jwt.MapClaims) { c["council"] = "atlantis" })), "invalid-token"},
		{"provider role without provider claim", "Bearer " + sign(jwt.SigningMethodEdDSA, b.key, claims(func(c jwt.MapClaims) { c["roles"] = []string{"provider"} })), "invalid-token"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var hdr []string
			if tt.header != "" {
				hdr = []string{"Authorization", tt.header}
			}
			r := b.do(http.MethodGet, "/v1/people", "", nil, hdr...)
			require.Equal(t, http.StatusUnauthorized, r.Status, string(r.Body))
			require.Equal(t, "urn:pbudget:problem:"+tt.code, r.problem(t).Type)
			require.True(t, strings.HasPrefix(r.Header.Get("WWW-Authenticate"), `Bearer realm="pbudget"`))
		})
	}

	ok := b.do(http.MethodGet, "/v1/people", good, nil)
	require.Equal(t, http.StatusOK, ok.Status)
}

func TestPublicOperationsNeedNoToken(t *testing.T) {
	t.Parallel()
	b := setup(t)
	for _, path := range []string{"/healthz", "/readyz", "/openapi.yaml", "/docs", "/docs/redoc.standalone.js"} {
		r := b.do(http.MethodGet, path, "", nil)
		require.Equal(t, http.StatusOK, r.Status, path)
	}
	require.Equal(t, http.StatusNotFound, b.do(http.MethodGet, "/metrics", "", nil).Status, "metrics have their own listener")
}

func TestRolesDecideWhoMayCallEachOperation(t *testing.T) {
	t.Parallel()
	b := setup(t)
	p := b.newPerson(nil)
	person := map[string]any{"given_name": "A", "family_name": "B", "date_of_birth": "1970-01-01", "person_type": "adult"}
	tests := []struct {
		name   string
		method string
		path   string
		body   any
		roles  []string
		want   int
	}{
		{"finance cannot record people", "POST", "/v1/people", person, []string{"finance"}, 403},
		{"approver cannot change people", "PATCH", "/v1/people/" + p.Id.String(), map[string]any{"family_name": "C"}, []string{"approver"}, 403},
		{"auditor reads people", "GET", "/v1/people/" + p.Id.String(), nil, []string{"auditor"}, 200},
		{"panel reads people", "GET", "/v1/people", nil, []string{"panel"}, 200},
		{"council_admin does not read people", "GET", "/v1/people", nil, []string{"council_admin"}, 403},
		{"provider staff list only the people they serve", "GET", "/v1/people", nil, []string{"provider"}, 200},
		{"provider staff do not read the audit trail", "GET", "/v1/audit-events", nil, []string{"provider"}, 403},
		{"practitioner cannot read the audit trail", "GET", "/v1/audit-events", nil, []string{"practitioner"}, 403},
		{"auditor reads the audit trail", "GET", "/v1/audit-events", nil, []string{"auditor"}, 200},
		{"council_admin reads the audit trail", "GET", "/v1/audit-events", nil, []string{"council_admin"}, 200},
		{"unknown roles count for nothing", "GET", "/v1/people", nil, []string{"superuser"}, 403},
		{"any one listed role is enough", "POST", "/v1/people", person, []string{"finance", "practitioner"}, 201},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			o := auth.MintOptions{Council: b.council.Code, Roles: tt.roles}
			if len(tt.roles) == 1 && tt.roles[0] == "provider" {
				o.Provider = newID()
			}
			before := b.counts()
			r := b.do(tt.method, tt.path, b.tokenWith(o), tt.body, "If-Match", `"1"`)
			require.Equal(t, tt.want, r.Status, string(r.Body))
			if tt.want == http.StatusForbidden {
				require.Equal(t, "urn:pbudget:problem:forbidden", r.problem(t).Type)
				require.Equal(t, before, b.counts())
			}
		})
	}
}
