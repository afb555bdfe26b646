package pbudget

import (
	"context"
	"errors"
	"sync"
	"time"
)

// TokenSource gives the bearer token for a request. It is asked before every attempt, so it may
// cache a token and refresh it when it expires.
type TokenSource interface {
	Token(ctx context.Context) (string, error)
}

// TokenSourceFunc adapts a function to TokenSource. With golang.org/x/oauth2:
//
//	pbudget.TokenSourceFunc(func(context.Context) (string, error) {
//		t, err := ts.Token() // an oauth2.TokenSource, which refreshes by itself
//		if err != nil {
//			return "", err
//		}
//		return t.AccessToken, nil
//	})
type TokenSourceFunc func(ctx context.Context) (string, error)

// Token calls f.
func (f TokenSourceFunc) Token(ctx context.Context) (string, error) { return f(ctx) }

type staticToken string

func (s staticToken) Token(context.Context) (string, error) { return string(s), nil }

// invalidator is a token source that can drop its cached token after a 401.
type invalidator interface{ Invalidate() }

// RefreshingTokenSource caches the token of a fetch function (a call to the council's identity
// provider, say) until Leeway before it expires, and fetches a new one then, or after the
// service has refused the cached one with a 401 (the client then tries the request once more).
// Concurrent requests share one fetch.
type RefreshingTokenSource struct {
	fetch  func(ctx context.Context) (token string, expiry time.Time, err error)
	leeway time.Duration
	now    func() time.Time

	mu     sync.Mutex
	token  string
	expiry time.Time
}

// NewRefreshingTokenSource returns a source that fetches tokens with fetch, refreshing them a
// minute before they expire. A zero expiry means the token does not expire (it is still fetched
// again after a 401).
func NewRefreshingTokenSource(fetch func(ctx context.Context) (token string, expiry time.Time, err error)) *RefreshingTokenSource {
	return &RefreshingTokenSource{fetch: fetch, leeway: time.Minute, now: time.Now}
}

// Token returns the cached token, or fetches one.
func (r *RefreshingTokenSource) Token(ctx context.Context) (string, error) {
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.token != "" && (r.expiry.IsZero() || r.now().Before(r.expiry.Add(-r.leeway))) {
		return r.token, nil
	}
	tok, exp, err := r.fetch(ctx)
	if err != nil {
		return "", err
	}
	if tok == "" {
		return "", errors.New("the token source returned an empty token")
	}
	r.token, r.expiry = tok, exp
	return tok, nil
}

// Invalidate drops the cached token, so that the next request fetches a new one.
func (r *RefreshingTokenSource) Invalidate() {
	r.mu.Lock()
	r.token = ""
	r.mu.Unlock()
}
