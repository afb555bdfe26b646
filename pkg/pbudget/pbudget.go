// Package pbudget is the Go client of the pbudget API for integrators: council front ends, ISF
// providers' systems and scripts. It wraps the client that oapi-codegen generates from
// openapi.yaml (package client) and adds what every integration otherwise writes by hand:
//
//   - authentication: a fixed bearer token ([WithBearerToken]) or a [TokenSource] asked before
//     every request, such as [NewRefreshingTokenSource], which caches a token until shortly before
//     it expires and fetches a new one after a 401;
//   - errors: every problem+json response (and any other 4xx or 5xx) comes back as a [*Problem]
//     error with the status, type, title, detail, request id and field errors, for [errors.As]
//     and [errors.Is];
//   - lists: [All] and [AllOf] iterate over every item of a list operation, following
//     next_page_token page after page (Go 1.23 range-over-func);
//   - safe retries: creating POSTs (the operations that declare Idempotency-Key) get a key when
//     the caller gave none, and are retried with the same key, with exponential backoff and
//     jitter, after a network error, a 409 idempotency-key-in-flight or a 500/502/503/504; GETs
//     are retried the same way; PATCH, PUT and POSTs without a key are never retried;
//   - optimistic concurrency: [ETag], [IfMatch] and [IfMatchVersion] carry a resource's version
//     into the If-Match header that PATCHes and actions require.
//
// Every generated operation is available on [Client], typed: c.CreatePersonWithResponse returns
// the created person in JSON201, or a *Problem error. The helpers are written against the
// generated code's shapes, not its operations, so they keep working when the API grows.
package pbudget

import (
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"strings"
	"time"

	"github.com/pbudget/pbudget/pkg/client"
)

// Client is the generated client with typed responses, sending through this package's transport.
type Client struct {
	*client.ClientWithResponses
}

// Option configures New.
type Option func(*config) error

type config struct {
	httpClient client.HttpRequestDoer
	tokens     TokenSource
	retry      RetryPolicy
	userAgent  string
	editors    []client.RequestEditorFn
}

// RetryPolicy says how often and how patiently a retryable request is tried again.
type RetryPolicy struct {
	// MaxAttempts counts the first try: 1 never retries.
	MaxAttempts int
	// BaseDelay is the delay before the first retry; each further retry doubles it, up to
	// MaxDelay. The client waits between half the delay and the whole of it (jitter), or what a
	// Retry-After header asks when that is longer (still at most MaxDelay).
	BaseDelay time.Duration
	MaxDelay  time.Duration
}

// DefaultRetryPolicy is four attempts, 200 ms, 400 ms and 800 ms apart (before jitter).
var DefaultRetryPolicy = RetryPolicy{MaxAttempts: 4, BaseDelay: 200 * time.Millisecond, MaxDelay: 5 * time.Second}

// WithBearerToken authenticates every request with a fixed token.
func WithBearerToken(token string) Option {
	return func(c *config) error {
		if token == "" {
			return errors.New("pbudget: empty bearer token")
		}
		c.tokens = staticToken(token)
		return nil
	}
}

// WithTokenSource authenticates every request with a token from ts, asked before each attempt.
func WithTokenSource(ts TokenSource) Option {
	return func(c *config) error {
		if ts == nil {
			return errors.New("pbudget: nil token source")
		}
		c.tokens = ts
		return nil
	}
}

// WithHTTPClient sends requests through doer (an *http.Client with the caller's timeouts, TLS or
// proxy settings) instead of a plain http.Client.
func WithHTTPClient(doer client.HttpRequestDoer) Option {
	return func(c *config) error {
		if doer == nil {
			return errors.New("pbudget: nil HTTP client")
		}
		c.httpClient = doer
		return nil
	}
}

// WithRetryPolicy replaces DefaultRetryPolicy.
func WithRetryPolicy(p RetryPolicy) Option {
	return func(c *config) error {
		if p.MaxAttempts < 1 || p.BaseDelay < 0 || p.MaxDelay < p.BaseDelay {
			return fmt.Errorf("pbudget: retry policy needs MaxAttempts ≥ 1 and 0 ≤ BaseDelay ≤ MaxDelay, got %+v", p)
		}
		c.retry = p
		return nil
	}
}

// WithUserAgent names the integration in the User-Agent header (the council sees it in its logs).
func WithUserAgent(ua string) Option {
	return func(c *config) error {
		c.userAgent = ua
		return nil
	}
}

// WithRequestEditor runs fn on every request before it is sent, as the generated client's own
// WithRequestEditorFn does.
func WithRequestEditor(fn client.RequestEditorFn) Option {
	return func(c *config) error {
		c.editors = append(c.editors, fn)
		return nil
	}
}

// New returns a client of the pbudget service at server, such as "https://pbudget.example.org"
// (a path prefix, such as "https://gateway.example.org/pbudget", is kept).
func New(server string, opts ...Option) (*Client, error) {
	u, err := url.Parse(server)
	if err != nil || u.Scheme == "" || u.Host == "" {
		return nil, fmt.Errorf("pbudget: server must be an absolute URL, got %q", server)
	}
	cfg := config{retry: DefaultRetryPolicy, userAgent: "pbudget-go"}
	for _, o := range opts {
		if err := o(&cfg); err != nil {
			return nil, err
		}
	}
	idx, err := specOperations()
	if err != nil {
		return nil, err
	}
	if cfg.httpClient == nil {
		cfg.httpClient = &http.Client{}
	}
	d := &transport{
		next: cfg.httpClient, tokens: cfg.tokens, retry: cfg.retry, userAgent: cfg.userAgent,
		ops: idx, prefix: strings.TrimSuffix(u.Path, "/"), sleep: sleepCtx,
	}
	copts := []client.ClientOption{client.WithHTTPClient(d)}
	for _, e := range cfg.editors {
		copts = append(copts, client.WithRequestEditorFn(e))
	}
	c, err := client.NewClientWithResponses(server, copts...)
	if err != nil {
		return nil, err
	}
	return &Client{ClientWithResponses: c}, nil
}
