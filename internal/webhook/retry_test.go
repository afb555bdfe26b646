package webhook

import (
	"errors"
	"net/http"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
)

func half() float64 { return 0.5 } // no jitter: the factor is 1 + j×(2×0.5 − 1)

func TestClassifyStatuses(t *testing.T) {
	t.Parallel()
	for status, want := range map[int]Class{
		200: Success, 201: Success, 202: Success, 204: Success, 299: Success,
		410: Gone,
		429: Throttled, 502: Throttled, 503: Throttled, 504: Throttled,
		0: Failure, 100: Failure, 199: Failure, 300: Failure, 301: Failure, 302: Failure, 304: Failure, 307: Failure,
		400: Failure, 401: Failure, 403: Failure, 404: Failure, 408: Failure, 409: Failure, 413: Failure,
		500: Failure, 501: Failure,
	} {
		require.Equal(t, want, Classify(status), status)
	}
}

func TestNextAttempt(t *testing.T) {
	t.Parallel()
	now := time.Date(2026, 5, 20, 12, 0, 0, 0, time.UTC)
	header := func(retryAfter string) http.Header { h := http.Header{}; h.Set("Retry-After", retryAfter); return h }
	tests := []struct {
		name     string
		attempts int
		a        Attempt
		outcome  Outcome
		in       time.Duration // the next attempt, from now, for Retry
	}{
		{"delivered", 1, Attempt{Status: 204}, Delivered, 0},
		{"gone disables the endpoint", 3, Attempt{Status: 410}, Disable, 0},
		{"the first failure waits 5 seconds", 1, Attempt{Status: 500}, Retry, 5 * time.Second},
		{"the second 5 minutes", 2, Attempt{Status: 500}, Retry, 5 * time.Minute},
		{"the ninth 24 hours", 9, Attempt{Status: 404}, Retry, 24 * time.Hour},
		{"the tenth gives up", 10, Attempt{Status: 500}, GiveUp, 0},
		{"no answer is a failure", 1, Attempt{Err: errors.New("connection refused")}, Retry, 5 * time.Second},
		{"an error wins over a status", 1, Attempt{Status: 200, Err: errors.New("reading the answer")}, Retry, 5 * time.Second},
		{"a redirect is a failure", 4, Attempt{Status: 302}, Retry, 2 * time.Hour},
		{"Retry-After in seconds, longer than the schedule", 1, Attempt{Status: 429, Header: header("120")}, Retry, 2 * time.Minute},
		{"Retry-After shorter than the schedule: the schedule", 3, Attempt{Status: 503, Header: header("60")}, Retry, 30 * time.Minute},
		{"Retry-After as an HTTP date", 1, Attempt{Status: 503, Header: header("Wed, 20 May 2026 13:00:00 GMT")}, Retry, time.Hour},
		{"Retry-After past the cap is capped at 24 hours", 1, Attempt{Status: 503, Header: header("864000")}, Retry, 24 * time.Hour},
		{"Retry-After unreadable: the schedule", 1, Attempt{Status: 503, Header: header("soon")}, Retry, 5 * time.Second},
		{"Retry-After on the last attempt does not extend the schedule", 10, Attempt{Status: 503, Header: header("60")}, GiveUp, 0},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			d := DefaultPolicy().Next(tt.attempts, tt.a, now, half)
			require.Equal(t, tt.outcome, d.Outcome)
			if tt.outcome == Retry {
				require.Equal(t, now.Add(tt.in), d.At)
			}
		})
	}
}

func TestJitterStaysWithinItsFraction(t *testing.T) {
	t.Parallel()
	now := time.Now()
	p := DefaultPolicy()
	low := p.Next(4, Attempt{Status: 500}, now, func() float64 { return 0 })
	high := p.Next(4, Attempt{Status: 500}, now, func() float64 { return 0.999999 })
	require.Equal(t, now.Add(108*time.Minute), low.At, "2 hours − 10%")
	require.WithinDuration(t, now.Add(132*time.Minute), high.At, time.Second, "2 hours + 10%")
}

func TestRetryAfter(t *testing.T) {
	t.Parallel()
	now := time.Date(2026, 5, 20, 12, 0, 0, 0, time.UTC)
	for v, want := range map[string]time.Duration{
		"0": 0, "30": 30 * time.Second, " 30 ": 30 * time.Second,
		"Wed, 20 May 2026 12:00:30 GMT":     30 * time.Second,
		"Wed, 20 May 2026 11:00:00 GMT":     0, // in the past
		"Wednesday, 20-May-26 12:01:00 GMT": time.Minute,
	} {
		h := http.Header{}
		h.Set("Retry-After", v)
		got, ok := RetryAfter(h, now)
		require.True(t, ok, v)
		require.Equal(t, want, got, v)
	}
	for _, v := range []string{"", "-1", "1.5", "soon", "99999999999999999999"} {
		h := http.Header{}
		h.Set("Retry-After", v)
		_, ok := RetryAfter(h, now)
		require.False(t, ok, v)
	}
	_, ok := RetryAfter(nil, now)
	require.False(t, ok)
}
