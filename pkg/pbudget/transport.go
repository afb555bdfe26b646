package pbudget

import (
	"context"
	"errors"
	"io"
	"math/rand/v2"
	"net/http"
	"strconv"
	"strings"
	"time"

	"github.com/google/uuid"

	"github.com/pbudget/pbudget/pkg/client"
)

// IdempotencyKeyHeader is the header that makes a creating POST safe to retry.
const IdempotencyKeyHeader = "Idempotency-Key"

// inFlightType is the problem the server answers while a request with the same key still runs.
const inFlightType = "urn:pbudget:problem:idempotency-key-in-flight"

// maxErrorBody bounds how much of an error response is read.
const maxErrorBody = 1 << 20

// transport is the client.HttpRequestDoer under the generated client: it authenticates, keys
// creating POSTs, retries what is safe to retry and turns error responses into *Problem.
type transport struct {
	next      client.HttpRequestDoer
	tokens    TokenSource
	retry     RetryPolicy
	userAgent string
	ops       *operationIndex
	prefix    string // the server URL's path, before the API's paths
	sleep     func(ctx context.Context, d time.Duration) error
}

func (t *transport) Do(req *http.Request) (*http.Response, error) {
	ctx := req.Context()
	if t.userAgent != "" && req.Header.Get("User-Agent") == "" {
		req.Header.Set("User-Agent", t.userAgent)
	}
	keyed := false
	if req.Method == http.MethodPost && t.ops.declaresIdempotencyKey(req.Method, strings.TrimPrefix(req.URL.Path, t.prefix)) {
		if req.Header.Get(IdempotencyKeyHeader) == "" {
			req.Header.Set(IdempotencyKeyHeader, uuid.NewString())
		}
		keyed = true
	}
	rewindable := req.Body == nil || req.Body == http.NoBody || req.GetBody != nil
	retryable := rewindable && (keyed || req.Method == http.MethodGet || req.Method == http.MethodHead || req.Method == http.MethodOptions)
	_, refreshable := t.tokens.(invalidator)
	// Authentication is refused before anything happens, so one more try after a 401 with a
	// fresh token is safe for any request whose body can be sent again.
	reauth := rewindable && refreshable

	sent := false
	for attempt := 1; ; attempt++ {
		if sent && req.GetBody != nil {
			body, err := req.GetBody()
			if err != nil {
				return nil, err
			}
			req.Body = body
		}
		if err := t.authenticate(ctx, req); err != nil {
			return nil, err
		}
		resp, err := t.next.Do(req)
		sent = true
		more := retryable && attempt < t.retry.MaxAttempts
		if err != nil {
			if ctx.Err() != nil || !more {
				return nil, err
			}
			if err := t.sleep(ctx, t.backoff(attempt, nil)); err != nil {
				return nil, err
			}
			continue
		}
		if resp.StatusCode < 400 {
			return resp, nil
		}
		p := readProblem(resp)
		if resp.StatusCode == http.StatusUnauthorized && reauth {
			reauth = false
			t.tokens.(invalidator).Invalidate()
			attempt-- // a refreshed token is not a retry
			continue
		}
		if more && retryableProblem(p) {
			if err := t.sleep(ctx, t.backoff(attempt, resp.Header)); err != nil {
				return nil, err
			}
			continue
		}
		return nil, p
	}
}

func (t *transport) authenticate(ctx context.Context, req *http.Request) error {
	if t.tokens == nil {
		return nil
	}
	tok, err := t.tokens.Token(ctx)
	if err != nil {
		return &TokenError{Err: err}
	}
	req.Header.Set("Authorization", "Bearer "+tok)
	return nil
}

// retryableProblem: the server failed or was unavailable, or another request with the same key is
// still running. Every other problem would be answered the same way again.
func retryableProblem(p *Problem) bool {
	switch p.Status {
	case http.StatusInternalServerError, http.StatusBadGateway, http.StatusServiceUnavailable, http.StatusGatewayTimeout:
		return true
	case http.StatusConflict:
		return p.Type == inFlightType
	}
	return false
}

// backoff is the wait before retry number attempt: BaseDelay doubled each time up to MaxDelay,
// with jitter (between half and all of it), or a longer Retry-After, capped at MaxDelay.
func (t *transport) backoff(attempt int, h http.Header) time.Duration {
	d := t.retry.BaseDelay
	for i := 1; i < attempt && d < t.retry.MaxDelay; i++ {
		d *= 2
	}
	d = min(d, t.retry.MaxDelay)
	if d > 0 {
		d = d/2 + rand.N(d/2+1)
	}
	if h != nil {
		if secs, err := strconv.Atoi(h.Get("Retry-After")); err == nil && secs > 0 {
			d = max(d, min(time.Duration(secs)*time.Second, t.retry.MaxDelay))
		}
	}
	return d
}

func sleepCtx(ctx context.Context, d time.Duration) error {
	if d <= 0 {
		return ctx.Err()
	}
	timer := time.NewTimer(d)
	defer timer.Stop()
	select {
	case <-ctx.Done():
		return ctx.Err()
	case <-timer.C:
		return nil
	}
}

// TokenError is returned when the token source fails; no request was sent.
type TokenError struct{ Err error }

func (e *TokenError) Error() string { return "pbudget: token source: " + e.Err.Error() }
func (e *TokenError) Unwrap() error { return e.Err }

// drain lets the connection be reused.
func drain(resp *http.Response) {
	_, _ = io.Copy(io.Discard, io.LimitReader(resp.Body, maxErrorBody))
	_ = resp.Body.Close()
}

var _ client.HttpRequestDoer = (*transport)(nil)

// errNoOperations is returned when the embedded spec cannot be read (a broken build).
var errNoOperations = errors.New("pbudget: the generated client carries no readable spec")
