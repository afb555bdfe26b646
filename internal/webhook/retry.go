package webhook

import (
	"net/http"
	"strconv"
	"strings"
	"time"
)

// Class is what an attempt's answer means.
type Class string

// The classes (Standard Webhooks, "Delivery success and failure").
const (
	Success   Class = "success"   // 2xx
	Gone      Class = "gone"      // 410: the receiver wants no more: disable the endpoint
	Throttled Class = "throttled" // 429, 502, 503, 504: the receiver is under load; retried, later if it says so
	Failure   Class = "failure"   // anything else: 3xx (redirects are not followed), 4xx, 5xx, timeouts, refused connections
)

// Classify returns the class of an HTTP status (0: no answer).
func Classify(status int) Class {
	switch {
	case status >= 200 && status <= 299:
		return Success
	case status == http.StatusGone:
		return Gone
	case status == http.StatusTooManyRequests, status == http.StatusBadGateway, status == http.StatusServiceUnavailable,
		status == http.StatusGatewayTimeout:
		return Throttled
	}
	return Failure
}

// Outcome is what to do after an attempt.
type Outcome string

// The outcomes.
const (
	Delivered Outcome = "delivered" // stop: the receiver has it
	Retry     Outcome = "retry"     // try again at Decision.At
	Disable   Outcome = "disable"   // stop, and disable the endpoint (410): no further events are sent to it
	GiveUp    Outcome = "give_up"   // stop: the schedule is exhausted; the message can be replayed by hand
)

// Policy is the delivery policy: the retry schedule, jitter, how far a Retry-After may push an
// attempt, and each attempt's timeout.
type Policy struct {
	// Schedule[i] is the delay after the (i+1)th failed attempt; after the last, the message is
	// given up.
	Schedule []time.Duration
	// Jitter spreads each delay by up to ± this fraction, so that endpoints that failed together
	// are not retried together.
	Jitter float64
	// MaxRetryAfter caps the delay a receiver's Retry-After may ask for.
	MaxRetryAfter time.Duration
	// Timeout bounds each attempt (connection, request and response).
	Timeout time.Duration
}

// DefaultPolicy is the Standard Webhooks example schedule: an attempt at once, then after 5
// seconds, 5 minutes, 30 minutes, 2, 5, 10, 14, 20 and 24 hours — 10 attempts over 75 hours 35
// minutes, about three days — with ±10% jitter, Retry-After honoured up to 24 hours, and a
// 15-second timeout (the specification recommends 15 to 30).
func DefaultPolicy() Policy {
	return Policy{
		Schedule: []time.Duration{5 * time.Second, 5 * time.Minute, 30 * time.Minute, 2 * time.Hour, 5 * time.Hour,
			10 * time.Hour, 14 * time.Hour, 20 * time.Hour, 24 * time.Hour},
		Jitter: 0.1, MaxRetryAfter: 24 * time.Hour, Timeout: 15 * time.Second,
	}
}

// Attempt is the result of one delivery attempt.
type Attempt struct {
	Status int         // the HTTP status; 0 when there was no answer
	Header http.Header // the answer's headers (Retry-After)
	Err    error       // why there was no answer: timeout, refused, a forbidden address …
}

// Decision is what to do after an attempt.
type Decision struct {
	Outcome Outcome
	Class   Class
	At      time.Time // the next attempt, for Retry
}

// Next decides after the attempts-th attempt (1 for the first), made at now; random returns a
// number in [0, 1) for the jitter (math/rand/v2's Float64; tests pass a fixed one). The delay is
// the schedule's, jittered, or the receiver's Retry-After (capped) when that is longer: an attempt
// never comes sooner than the receiver asked, nor sooner than the schedule says.
func (p Policy) Next(attempts int, a Attempt, now time.Time, random func() float64) Decision {
	class := Failure
	if a.Err == nil {
		class = Classify(a.Status)
	}
	switch class {
	case Success:
		return Decision{Outcome: Delivered, Class: class}
	case Gone:
		return Decision{Outcome: Disable, Class: class}
	}
	if attempts < 1 || attempts > len(p.Schedule) {
		return Decision{Outcome: GiveUp, Class: class}
	}
	delay := p.Schedule[attempts-1]
	if p.Jitter > 0 {
		delay = time.Duration(float64(delay) * (1 + p.Jitter*(2*random()-1)))
	}
	if after, ok := RetryAfter(a.Header, now); ok {
		delay = max(delay, min(after, p.MaxRetryAfter))
	}
	return Decision{Outcome: Retry, Class: class, At: now.Add(delay)}
}

// RetryAfter reads a Retry-After header, seconds or an HTTP date, as a delay from now; false
// when there is none or it cannot be read. A date in the past is no delay.
func RetryAfter(h http.Header, now time.Time) (time.Duration, bool) {
	v := strings.TrimSpace(h.Get("Retry-After"))
	if v == "" {
		return 0, false
	}
	if secs, err := strconv.ParseInt(v, 10, 64); err == nil {
		if secs < 0 {
			return 0, false
		}
		return time.Duration(min(secs, int64(time.Duration(1<<62)/time.Second))) * time.Second, true
	}
	at, err := http.ParseTime(v)
	if err != nil {
		return 0, false
	}
	return max(0, at.Sub(now)), true
}
