package webhook

import (
	"bytes"
	"context"
	"io"
	"net"
	"net/http"
	"time"
)

// UserAgent identifies pbudget's deliveries.
const UserAgent = "pbudget-webhooks/1"

// maxResponseBody is how much of an answer is read: the body is not used, but reading a little of
// it lets the connection be reused.
const maxResponseBody = 64 << 10

// NewClient returns the HTTP client deliveries use: connections only to addresses the guard
// allows (checked at connect time), no proxy (a proxy would connect on our behalf, unchecked), no
// redirects (a 3xx is a failed attempt: the subscriber updates its URL), and the policy's timeout.
func NewClient(g Guard, p Policy) *http.Client {
	dialer := &net.Dialer{Timeout: p.Timeout, Control: g.Control}
	return &http.Client{
		Timeout: p.Timeout,
		Transport: &http.Transport{
			Proxy:                 nil,
			DialContext:           dialer.DialContext,
			ForceAttemptHTTP2:     true,
			TLSHandshakeTimeout:   p.Timeout,
			ResponseHeaderTimeout: p.Timeout,
			MaxIdleConnsPerHost:   2,
			IdleConnTimeout:       90 * time.Second,
		},
		CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse },
	}
}

// Deliver makes one attempt to deliver body, signed, as message id, to endpoint, at now. The URL
// is checked again first (a subscription's host may since resolve elsewhere).
func Deliver(ctx context.Context, c *http.Client, g Guard, s Signer, endpoint, id string, now time.Time, body []byte) Attempt {
	u, err := g.CheckURL(ctx, endpoint)
	if err != nil {
		return Attempt{Err: err}
	}
	h, err := s.Headers(id, now, body)
	if err != nil {
		return Attempt{Err: err}
	}
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, u.String(), bytes.NewReader(body))
	if err != nil {
		return Attempt{Err: err}
	}
	for k, v := range h {
		req.Header[k] = v
	}
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("User-Agent", UserAgent)
	resp, err := c.Do(req)
	if err != nil {
		return Attempt{Err: err}
	}
	defer resp.Body.Close()
	_, _ = io.Copy(io.Discard, io.LimitReader(resp.Body, maxResponseBody))
	return Attempt{Status: resp.StatusCode, Header: resp.Header}
}
