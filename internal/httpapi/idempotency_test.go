package httpapi_test

import (
	"context"
	"net/http"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/pbudget/pbudget/internal/auth"
	"github.com/pbudget/pbudget/internal/idempotency"
	"github.com/pbudget/pbudget/internal/postgres"
)

func TestIdempotentReplayReturnsTheFirstResponseAndCreatesOneRow(t *testing.T) {
	t.Parallel()
	b := setup(t)
	tok := b.token("practitioner")
	body := map[string]any{"given_name": "Idem", "family_name": "Potent", "date_of_birth": "1970-01-01", "person_type": "adult"}
	before := b.counts()

	first := b.do(http.MethodPost, "/v1/people", tok, body, "Idempotency-Key", "key-0001-abc")
	require.Equal(t, http.StatusCreated, first.Status)
	require.Empty(t, first.Header.Get("Idempotent-Replayed"))
	second := b.do(http.MethodPost, "/v1/people", tok, body, "Idempotency-Key", "key-0001-abc")
	require.Equal(t, http.StatusCreated, second.Status)
	require.Equal(t, "true", second.Header.Get("Idempotent-Replayed"))
	require.JSONEq(t, string(first.Body), string(second.Body))
	require.Equal(t, first.Header.Get("Location"), second.Header.Get("Location"))
	require.Equal(t, first.Header.Get("ETag"), second.Header.Get("ETag"))

	after := b.counts()
	require.Equal(t, before["people"]+1, after["people"])
	require.Equal(t, before["audit_events"]+1, after["audit_events"])
	require.Equal(t, before["idempotency_keys"]+1, after["idempotency_keys"])

	body["family_name"] = "Different"
	reused := b.do(http.MethodPost, "/v1/people", tok, body, "Idempotency-Key", "key-0001-abc")
	require.Equal(t, http.StatusUnprocessableEntity, reused.Status)
	require.Equal(t, "urn:pbudget:problem:idempotency-key-reused", reused.problem(t).Type)
	require.Equal(t, after, b.counts())
}

func TestIdempotencyKeysAreScopedToTheCaller(t *testing.T) {
	t.Parallel()
	b := setup(t)
	body := map[string]any{"given_name": "A", "family_name": "B", "date_of_birth": "1970-01-01", "person_type": "adult"}
	one := b.tokenWith(auth.MintOptions{Council: b.council.Code, Roles: []string{"practitioner"}, Subject: "alice"})
	two := b.tokenWith(auth.MintOptions{Council: b.council.Code, Roles: []string{"practitioner"}, Subject: "bob"})
	r1 := b.do(http.MethodPost, "/v1/people", one, body, "Idempotency-Key", "shared-key-1")
	r2 := b.do(http.MethodPost, "/v1/people", two, body, "Idempotency-Key", "shared-key-1")
	require.Equal(t, http.StatusCreated, r1.Status)
	require.Equal(t, http.StatusCreated, r2.Status)
	require.Empty(t, r2.Header.Get("Idempotent-Replayed"))
	require.NotEqual(t, r1.Header.Get("Location"), r2.Header.Get("Location"))
}

func TestAFailedRequestDoesNotUseUpItsIdempotencyKey(t *testing.T) {
	t.Parallel()
	b := setup(t)
	tok := b.token("practitioner")
	bad := b.do(http.MethodPost, "/v1/people", tok, map[string]any{"given_name": "A", "family_name": "B", "date_of_birth": "1970-01-01", "person_type": "child"}, "Idempotency-Key", "retry-after-fix")
	require.Equal(t, http.StatusUnprocessableEntity, bad.Status)
	fixed := b.do(http.MethodPost, "/v1/people", tok, map[string]any{"given_name": "A", "family_name": "B", "date_of_birth": "1970-01-01", "person_type": "adult"}, "Idempotency-Key", "retry-after-fix")
	require.Equal(t, http.StatusCreated, fixed.Status)
	require.Empty(t, fixed.Header.Get("Idempotent-Replayed"))
}

func TestARequestWhoseKeyIsInFlightGetsAConflict(t *testing.T) {
	t.Parallel()
	b := setup(t)
	ctx := context.Background()
	// Hold the key's lock as a first request still running would.
	conn, err := b.db.SQL().Conn(ctx)
	require.NoError(t, err)
	defer conn.Close()
	_, err = conn.ExecContext(ctx, `SELECT pg_advisory_lock(hashtextextended($1, 0))`,
		postgres.LockName(idempotency.Key{CouncilID: b.council.ID, Subject: "user-practitioner", Key: "in-flight-key"}))
	require.NoError(t, err)

	before := b.counts()
	r := b.do(http.MethodPost, "/v1/people", b.token("practitioner"),
		map[string]any{"given_name": "A", "family_name": "B", "date_of_birth": "1970-01-01", "person_type": "adult"},
		"Idempotency-Key", "in-flight-key")
	require.Equal(t, http.StatusConflict, r.Status)
	require.Equal(t, "urn:pbudget:problem:idempotency-key-in-flight", r.problem(t).Type)
	require.Equal(t, before, b.counts())

	_, err = conn.ExecContext(ctx, `SELECT pg_advisory_unlock_all()`)
	require.NoError(t, err)
	r = b.do(http.MethodPost, "/v1/people", b.token("practitioner"),
		map[string]any{"given_name": "A", "family_name": "B", "date_of_birth": "1970-01-01", "person_type": "adult"},
		"Idempotency-Key", "in-flight-key")
	require.Equal(t, http.StatusCreated, r.Status)
}

func TestARetryThatReencodesTheSameJSONIsAReplay(t *testing.T) {
	t.Parallel()
	b := setup(t)
	tok := b.token("practitioner")
	first := b.do(http.MethodPost, "/v1/people", tok, `{"given_name":"A","family_name":"B","date_of_birth":"1970-01-01","person_type":"adult"}`, "Idempotency-Key", "reencoded-1")
	require.Equal(t, http.StatusCreated, first.Status)
	again := b.do(http.MethodPost, "/v1/people", tok, "{\n  \"person_type\": \"adult\", \"family_name\": \"B\",\n  \"given_name\": \"A\", \"date_of_birth\": \"1970-01-01\"\n}", "Idempotency-Key", "reencoded-1")
	require.Equal(t, http.StatusCreated, again.Status)
	require.Equal(t, "true", again.Header.Get("Idempotent-Replayed"))
	require.Equal(t, first.Header.Get("Location"), again.Header.Get("Location"))
}
