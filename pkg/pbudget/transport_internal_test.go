package pbudget

import (
	"net/http"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
)

func TestBackoffDoublesWithJitterUpToTheCap(t *testing.T) {
	tr := &transport{retry: RetryPolicy{MaxAttempts: 8, BaseDelay: 100 * time.Millisecond, MaxDelay: time.Second}}
	tests := []struct {
		attempt int
		full    time.Duration
	}{
		{1, 100 * time.Millisecond}, {2, 200 * time.Millisecond}, {3, 400 * time.Millisecond},
		{4, 800 * time.Millisecond}, {5, time.Second}, {7, time.Second},
	}
	for _, tt := range tests {
		for range 200 {
			d := tr.backoff(tt.attempt, nil)
			require.GreaterOrEqual(t, d, tt.full/2, "attempt %d", tt.attempt)
			require.LessOrEqual(t, d, tt.full, "attempt %d", tt.attempt)
		}
	}
}

func TestBackoffHonoursALongerRetryAfterUpToTheCap(t *testing.T) {
	tr := &transport{retry: RetryPolicy{MaxAttempts: 4, BaseDelay: 10 * time.Millisecond, MaxDelay: 3 * time.Second}}
	require.Equal(t, 2*time.Second, tr.backoff(1, http.Header{"Retry-After": {"2"}}))
	require.Equal(t, 3*time.Second, tr.backoff(1, http.Header{"Retry-After": {"120"}}), "never longer than MaxDelay")
	require.LessOrEqual(t, tr.backoff(1, http.Header{"Retry-After": {"soon"}}), 10*time.Millisecond)
}

func TestTheEmbeddedSpecSaysWhichPOSTsTakeAnIdempotencyKey(t *testing.T) {
	idx, err := specOperations()
	require.NoError(t, err)
	tests := []struct {
		method, path string
		keyed        bool
	}{
		{"POST", "/v1/people", true},
		{"POST", "/v1/people/7d3f0d0e-3c3b-4a55-9d3c-0f5b7a1e2b3c/assessments", true},
		{"POST", "/v1/direct-payment-agreements", true},
		{"POST", "/v1/support-plans/7d3f0d0e-3c3b-4a55-9d3c-0f5b7a1e2b3c/submit", true},
		{"POST", "/v1/assessments/7d3f0d0e-3c3b-4a55-9d3c-0f5b7a1e2b3c/complete", true},
		{"GET", "/v1/people", false},
		{"POST", "/v1/people/x/y/z", false},
		{"POST", "/v1/people//assessments", false},
	}
	for _, tt := range tests {
		require.Equal(t, tt.keyed, idx.declaresIdempotencyKey(tt.method, tt.path), "%s %s", tt.method, tt.path)
	}
}

func TestLiteralSegmentsWinOverParameters(t *testing.T) {
	idx, err := indexSpec([]byte(`{"paths":{
		"/v1/things/{id}":{"post":{"parameters":[{"$ref":"#/components/parameters/Key"}]}},
		"/v1/things/search":{"post":{}}},
		"components":{"parameters":{"Key":{"name":"Idempotency-Key","in":"header"}}}}`))
	require.NoError(t, err)
	require.True(t, idx.declaresIdempotencyKey("POST", "/v1/things/42"))
	require.False(t, idx.declaresIdempotencyKey("POST", "/v1/things/search"))
}
