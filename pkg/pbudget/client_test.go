package pbudget_test

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/pbudget/pbudget/pkg/client"
	"github.com/pbudget/pbudget/pkg/pbudget"
)

func person(given string) client.PersonCreate {
	return client.PersonCreate{GivenName: given, FamilyName: "Okafor", DateOfBirth: pbudget.Date(1961, time.February, 28), PersonType: client.PersonTypeAdult}
}

func countPeople(t *testing.T, c *pbudget.Client) int {
	t.Helper()
	n := 0
	for _, err := range pbudget.All[client.Person](context.Background(), c.ListPeopleWithResponse, nil) {
		require.NoError(t, err)
		n++
	}
	return n
}

func problemResponse(status int, typ string) *http.Response {
	body := fmt.Sprintf(`{"type":%q,"title":"test","status":%d}`, typ, status)
	return &http.Response{StatusCode: status, Header: http.Header{"Content-Type": {"application/problem+json"}},
		Body: io.NopCloser(bytes.NewBufferString(body))}
}

func TestACreateWhoseAnswerIsLostIsRetriedWithTheSameKeyAndCreatesOnce(t *testing.T) {
	t.Parallel()
	tn := newTenant(t)
	w := &wire{drop: func(n int, r *http.Request) bool { return n == 0 }} // the server commits; the answer is lost
	c := tn.client([]string{"practitioner"}, pbudget.WithHTTPClient(w))

	r, err := c.CreatePersonWithResponse(context.Background(), nil, person("Sam"))
	require.NoError(t, err)
	require.NotNil(t, r.JSON201)
	require.True(t, pbudget.Replayed(r.HTTPResponse), "the retry got the first attempt's stored answer")

	seen := w.seen()
	require.Len(t, seen, 2)
	require.NotEmpty(t, seen[0].Key, "a creating POST gets an Idempotency-Key")
	require.Equal(t, seen[0].Key, seen[1].Key, "the retry carries the same key")
	require.Equal(t, 1, countPeople(t, tn.client([]string{"practitioner"})), "one person, not two")
}

func TestACallersOwnIdempotencyKeyIsKept(t *testing.T) {
	t.Parallel()
	tn := newTenant(t)
	w := &wire{}
	c := tn.client([]string{"practitioner"}, pbudget.WithHTTPClient(w))
	key := "import-row-17"
	first, err := c.CreatePersonWithResponse(context.Background(), &client.CreatePersonParams{IdempotencyKey: &key}, person("Sam"))
	require.NoError(t, err)
	again, err := c.CreatePersonWithResponse(context.Background(), &client.CreatePersonParams{IdempotencyKey: &key}, person("Sam"))
	require.NoError(t, err)
	require.Equal(t, first.JSON201.Id, again.JSON201.Id, "running the import again creates nobody new")
	require.Equal(t, []string{key, key}, []string{w.seen()[0].Key, w.seen()[1].Key})
}

func TestRetriesFollowServerErrorsAndInFlightConflictsThenStop(t *testing.T) {
	t.Parallel()
	tn := newTenant(t)
	tests := []struct {
		name     string
		fake     func(n int) *http.Response
		attempts int
		wantErr  error
	}{
		{"503 then the server", func(n int) *http.Response {
			if n == 0 {
				return problemResponse(503, "urn:pbudget:problem:unavailable")
			}
			return nil
		}, 2, nil},
		{"409 in flight twice then the server", func(n int) *http.Response {
			if n < 2 {
				return problemResponse(409, "urn:pbudget:problem:idempotency-key-in-flight")
			}
			return nil
		}, 3, nil},
		{"500 every time: four attempts, then the problem", func(int) *http.Response {
			return problemResponse(500, "urn:pbudget:problem:internal")
		}, 4, &pbudget.Problem{Status: 500}},
		{"a state conflict is not retried", func(int) *http.Response {
			return problemResponse(409, "urn:pbudget:problem:plan-not-draft")
		}, 1, &pbudget.Problem{Type: "urn:pbudget:problem:plan-not-draft"}},
		{"a 502 from a proxy, not problem+json", func(int) *http.Response {
			return &http.Response{StatusCode: 502, Header: http.Header{"Content-Type": {"text/html"}}, Body: io.NopCloser(bytes.NewBufferString("<h1>bad gateway</h1>"))}
		}, 4, &pbudget.Problem{Status: 502, Type: "about:blank"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			w := &wire{fake: func(n int, _ *http.Request) *http.Response { return tt.fake(n) }}
			c := tn.client([]string{"practitioner"}, pbudget.WithHTTPClient(w))
			_, err := c.CreatePersonWithResponse(context.Background(), nil, person("Retry"))
			seen := w.seen()
			require.Len(t, seen, tt.attempts)
			for _, a := range seen {
				require.Equal(t, seen[0].Key, a.Key)
			}
			if tt.wantErr == nil {
				require.NoError(t, err)
				return
			}
			require.ErrorIs(t, err, tt.wantErr)
		})
	}
}

// TestRequestsWithoutAKeyAreNeverRetried: a PATCH carries no Idempotency-Key (every POST of the
// contract declares one), so the client sends it once whatever happens to the answer.
func TestRequestsWithoutAKeyAreNeverRetried(t *testing.T) {
	t.Parallel()
	tn := newTenant(t)
	setup := tn.client([]string{"practitioner"})
	created, err := setup.CreatePersonWithResponse(context.Background(), nil, person("Once"))
	require.NoError(t, err)
	id, etag := created.JSON201.Id, pbudget.ETag(created.HTTPResponse)

	w := &wire{drop: func(int, *http.Request) bool { return true }}
	c := tn.client([]string{"practitioner"}, pbudget.WithHTTPClient(w))
	name := "Changed"
	_, err = c.UpdatePersonWithResponse(context.Background(), id, nil, client.PersonPatch{GivenName: &name}, pbudget.IfMatch(etag))
	require.Error(t, err)
	require.Len(t, w.seen(), 1, "a PATCH is sent once")

}

func TestProblemsAreErrorsWithStatusTypeFieldsAndRequestID(t *testing.T) {
	t.Parallel()
	tn := newTenant(t)
	c := tn.client([]string{"practitioner"})
	bad := person("Sam")
	nhs := "943 476 5918" // the check digit is 9
	bad.NhsNumber = &nhs
	_, err := c.CreatePersonWithResponse(context.Background(), nil, bad)

	var p *pbudget.Problem
	require.ErrorAs(t, err, &p)
	require.Equal(t, http.StatusBadRequest, p.Status)
	require.Equal(t, "urn:pbudget:problem:validation", p.Type)
	require.Equal(t, "validation", p.Code())
	require.NotEmpty(t, p.Title)
	require.NotEmpty(t, p.RequestID, "the id to quote to the council")
	require.Equal(t, p.Header.Get("X-Request-Id"), p.RequestID)
	fe, ok := p.FieldError("/nhs_number")
	require.True(t, ok, "%+v", p.Errors)
	require.Equal(t, "nhs_number_check_digit", fe.Code)
	require.ErrorIs(t, err, pbudget.ErrValidation)
	require.Contains(t, err.Error(), "/nhs_number")

	other := newTenant(t).client([]string{"practitioner"})
	_, err = other.GetPersonWithResponse(context.Background(), created(t, c, "Mine"))
	require.ErrorIs(t, err, pbudget.ErrNotFound, "another council's person is a 404")

	_, err = tn.client([]string{"auditor"}).CreatePersonWithResponse(context.Background(), nil, person("Sam"))
	require.ErrorIs(t, err, pbudget.ErrForbidden)
}

func created(t *testing.T, c *pbudget.Client, given string) client.PersonId {
	t.Helper()
	r, err := c.CreatePersonWithResponse(context.Background(), nil, person(given))
	require.NoError(t, err)
	return r.JSON201.Id
}

func TestAllFollowsNextPageTokenToTheLastPage(t *testing.T) {
	t.Parallel()
	tn := newTenant(t)
	w := &wire{}
	c := tn.client([]string{"practitioner"}, pbudget.WithHTTPClient(w))
	var want []string
	for i := range 5 {
		name := fmt.Sprintf("P%d", i)
		created(t, c, name)
		want = append(want, name)
	}
	size := 2
	params := &client.ListPeopleParams{PageSize: &size}
	before := len(w.seen())
	var got []string
	for p, err := range pbudget.All[client.Person](context.Background(), c.ListPeopleWithResponse, params) {
		require.NoError(t, err)
		got = append(got, p.GivenName)
	}
	require.Equal(t, want, got, "every person once, in creation order")
	require.Len(t, w.seen()[before:], 3, "pages of 2, 2 and 1")
	require.Nil(t, params.PageToken, "the caller's params are left as they were")

	before = len(w.seen())
	for range pbudget.All[client.Person](context.Background(), c.ListPeopleWithResponse, params) {
		break
	}
	require.Len(t, w.seen()[before:], 1, "stopping early fetches no more pages")
}

func TestAllOfListsUnderAParentAndRejectsTheWrongItemType(t *testing.T) {
	t.Parallel()
	tn := newTenant(t)
	w := &wire{}
	c := tn.client([]string{"practitioner"}, pbudget.WithHTTPClient(w))
	id := created(t, c, "Parent")
	n := 0
	for _, err := range pbudget.AllOf[client.Assessment](context.Background(), c.ListPersonAssessmentsWithResponse, id, nil) {
		require.NoError(t, err)
		n++
	}
	require.Zero(t, n)

	before := len(w.seen())
	for _, err := range pbudget.All[client.Assessment](context.Background(), c.ListPeopleWithResponse, nil) {
		require.ErrorContains(t, err, "lists client.Person, not client.Assessment")
	}
	require.Len(t, w.seen(), before, "a wrong item type sends nothing")
}

func TestIfMatchFromTheETagGuardsAgainstLostUpdates(t *testing.T) {
	t.Parallel()
	tn := newTenant(t)
	c := tn.client([]string{"practitioner"})
	ctx := context.Background()
	r, err := c.GetPersonWithResponse(ctx, created(t, c, "Sam"))
	require.NoError(t, err)
	id, etag := r.JSON200.Id, pbudget.ETag(r.HTTPResponse)
	require.Equal(t, pbudget.VersionETag(r.JSON200.Version), etag)

	name := "Samuel"
	u, err := c.UpdatePersonWithResponse(ctx, id, nil, client.PersonPatch{GivenName: &name}, pbudget.IfMatch(etag))
	require.NoError(t, err)
	require.Equal(t, "Samuel", u.JSON200.GivenName)

	_, err = c.UpdatePersonWithResponse(ctx, id, nil, client.PersonPatch{GivenName: &name}, pbudget.IfMatch(etag))
	require.ErrorIs(t, err, pbudget.ErrPreconditionFailed, "someone changed it since")
	_, err = c.UpdatePersonWithResponse(ctx, id, nil, client.PersonPatch{GivenName: &name})
	require.ErrorIs(t, err, pbudget.ErrPreconditionRequired)
	_, err = c.UpdatePersonWithResponse(ctx, id, nil, client.PersonPatch{GivenName: &name}, pbudget.IfMatchVersion(u.JSON200.Version))
	require.NoError(t, err)
}

func TestARefreshingTokenSourceRefreshesNearExpiryAndAfterA401(t *testing.T) {
	t.Parallel()
	tn := newTenant(t)
	fetches := 0
	expiry := time.Now().Add(30 * time.Second) // within the minute's leeway: refreshed every time
	src := pbudget.NewRefreshingTokenSource(func(context.Context) (string, time.Time, error) {
		fetches++
		return tn.token("practitioner"), expiry, nil
	})
	w := &wire{}
	c, err := pbudget.New(server.srv.URL, pbudget.WithTokenSource(src), pbudget.WithHTTPClient(w))
	require.NoError(t, err)
	ctx := context.Background()
	for range 2 {
		_, err := c.ListPeopleWithResponse(ctx, nil)
		require.NoError(t, err)
	}
	require.Equal(t, 2, fetches, "a token about to expire is not used")

	expiry = time.Now().Add(time.Hour)
	for range 3 {
		_, err := c.ListPeopleWithResponse(ctx, nil)
		require.NoError(t, err)
	}
	require.Equal(t, 3, fetches, "a fresh token is cached")

	// The service refuses the cached token (revoked, say): the client fetches another and tries once more.
	stale := 0
	revoked := pbudget.NewRefreshingTokenSource(func(context.Context) (string, time.Time, error) {
		stale++
		if stale == 1 {
			return "revoked", time.Time{}, nil
		}
		return tn.token("practitioner"), time.Time{}, nil
	})
	w = &wire{}
	c, err = pbudget.New(server.srv.URL, pbudget.WithTokenSource(revoked), pbudget.WithHTTPClient(w))
	require.NoError(t, err)
	_, err = c.CreatePersonWithResponse(ctx, nil, person("After401"))
	require.NoError(t, err)
	seen := w.seen()
	require.Len(t, seen, 2)
	require.Equal(t, "Bearer revoked", seen[0].Auth)
	require.NotEqual(t, seen[0].Auth, seen[1].Auth)

	failing := pbudget.TokenSourceFunc(func(context.Context) (string, error) { return "", errors.New("identity provider down") })
	w = &wire{}
	c, err = pbudget.New(server.srv.URL, pbudget.WithTokenSource(failing), pbudget.WithHTTPClient(w))
	require.NoError(t, err)
	_, err = c.ListPeopleWithResponse(ctx, nil)
	var te *pbudget.TokenError
	require.ErrorAs(t, err, &te)
	require.Empty(t, w.seen(), "no request without a token")
}
