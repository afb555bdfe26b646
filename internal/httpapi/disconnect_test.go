package httpapi_test

import (
	"bytes"
	"context"
	"crypto"
	"encoding/json"
	"fmt"
	"log/slog"
	"math/rand/v2"
	"net/http"
	"net/http/httptest"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/pbudget/pbudget/api"
	"github.com/pbudget/pbudget/internal/app"
	"github.com/pbudget/pbudget/internal/auth"
	"github.com/pbudget/pbudget/internal/postgres"
	"github.com/pbudget/pbudget/internal/testdb"
)

// logSink keeps every log line of a server, for tests that assert on what was logged.
type logSink struct {
	mu        sync.Mutex
	lines     []map[string]any
	byRequest map[string]map[string]any // the "request" line of each request id
	err       error
}

// Write takes one JSON line, as slog's JSON handler writes them.
func (s *logSink) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	var line map[string]any
	if err := json.Unmarshal(p, &line); err != nil {
		s.err = fmt.Errorf("log line %q: %w", p, err)
		return len(p), nil
	}
	s.lines = append(s.lines, line)
	if id, ok := line["request_id"].(string); ok && line["msg"] == "request" {
		if s.byRequest == nil {
			s.byRequest = map[string]map[string]any{}
		}
		s.byRequest[id] = line
	}
	return len(p), nil
}

// request returns the log line of the request with id.
func (s *logSink) request(t testing.TB, id string) map[string]any {
	t.Helper()
	s.mu.Lock()
	defer s.mu.Unlock()
	l, ok := s.byRequest[id]
	require.True(t, ok, "request %s is logged", id)
	return l
}

// all returns the log lines written so far.
func (s *logSink) all(t testing.TB) []map[string]any {
	t.Helper()
	s.mu.Lock()
	defer s.mu.Unlock()
	require.NoError(t, s.err)
	return append([]map[string]any(nil), s.lines...)
}

// loggedBundle is b with a server of its own (same database, as the runtime role) whose every log
// line, the database layer's included, goes to the returned sink.
func loggedBundle(t *testing.T, b *bundle) *logSink {
	t.Helper()
	sink := &logSink{}
	log := slog.New(slog.NewJSONHandler(sink, &slog.HandlerOptions{Level: slog.LevelDebug}))
	ctx := context.Background()
	db, err := postgres.Open(ctx, testdb.DSN(), 8, log)
	require.NoError(t, err)
	t.Cleanup(func() { db.Close() })
	v, err := auth.NewVerifier(ctx, auth.VerifierConfig{PublicKeys: []crypto.PublicKey{b.key.Public()}, Issuer: issuer, Audience: audience})
	require.NoError(t, err)
	e, _, err := app.New(app.Options{DB: db, Verifier: v, Log: log})
	require.NoError(t, err)
	b.e = e
	return sink
}

// abandon sends a request whose client goes away after delay (at once when delay is 0, only once
// the response is complete when it is negative), as a client closing its connection does to the
// request's context. Nobody reads the response: the server's log says what became of it.
func (b *bundle) abandon(delay time.Duration, method, path, token string, body any, hdr ...string) {
	b.t.Helper()
	raw, err := json.Marshal(body)
	require.NoError(b.t, err)
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	switch {
	case delay == 0:
		cancel()
	case delay > 0:
		timer := time.AfterFunc(delay, cancel)
		defer timer.Stop()
	}
	req := httptest.NewRequest(method, path, bytes.NewReader(raw)).WithContext(ctx)
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("Authorization", "Bearer "+token)
	for i := 0; i+1 < len(hdr); i += 2 {
		req.Header.Set(hdr[i], hdr[i+1])
	}
	b.e.ServeHTTP(httptest.NewRecorder(), req)
}

// eventsOf counts the audit events a request wrote.
func (b *bundle) eventsOf(requestID string) int {
	b.t.Helper()
	var n int
	require.NoError(b.t, b.db.SQL().QueryRow(`SELECT count(*) FROM audit_events WHERE council_id = $1 AND request_id = $2`,
		b.council.ID, requestID).Scan(&n))
	return n
}

// stored reports whether a response is stored under the idempotency key of subject.
func (b *bundle) stored(subject, key string) bool {
	b.t.Helper()
	var n int
	require.NoError(b.t, b.db.SQL().QueryRow(`SELECT count(*) FROM idempotency_keys WHERE council_id = $1 AND actor_subject = $2 AND key = $3`,
		b.council.ID, subject, key).Scan(&n))
	return n == 1
}

// abandoned is one write whose client went away, to be retried with its key.
type abandoned struct {
	method, path, token, subject string
	body                         any
	hdr                          []string
	// changed reports whether the write's change is in the database (the person exists, the plan
	// is approved, the assessment is completed).
	changed func() bool
	// count counts the rows or events that exactly one such write makes.
	count func() int
}

// disconnects drives writes whose clients go away at random points and retries each with its key.
type disconnects struct {
	b        *bundle
	log      *logSink
	rnd      *rand.Rand
	typical  time.Duration // the longest a write took when nobody went away
	outcomes map[string]int
	events   int // audit events of one write, learnt from the first that committed
}

// run abandons w after a delay chosen by iteration i and checks that it changed everything or
// nothing, then retries it and checks that the retry replays it or makes it, once.
func (d *disconnects) run(i int, w abandoned) {
	b := d.b
	b.t.Helper()
	var delay time.Duration
	switch i % 8 {
	case 0:
		delay = 0 // gone before the request starts
	case 1:
		delay = -1 // gone once the response is written
	default: // gone somewhere in between
		delay = time.Duration(d.rnd.Int64N(int64(d.typical)*3/2)) + time.Microsecond
	}
	key := fmt.Sprintf("disconnect-%s-%d", randomCode(), i)
	reqID := "abandoned-" + key
	hdr := append([]string{"Idempotency-Key", key, "X-Request-Id", reqID}, w.hdr...)
	start := time.Now()
	b.abandon(delay, w.method, w.path, w.token, w.body, hdr...)
	if delay < 0 {
		d.typical = max(d.typical, time.Since(start))
	}
	line := d.log.request(b.t, reqID)
	status := int(line["status"].(float64))
	require.Contains(b.t, []int{499, 200, 201}, status, "abandoned after %s: %v", delay, line)
	if status == 499 {
		require.Equal(b.t, "INFO", line["level"])
		require.Equal(b.t, true, line["client_closed"], "logged as a disconnect, with its request id: %v", line)
	} else {
		require.Nil(b.t, line["client_closed"])
	}

	// Whole or nothing: the change, its audit events and its stored response together, exactly
	// when the server answered a success.
	committed := b.stored(w.subject, key)
	require.Equal(b.t, status != 499, committed, "a success answered is a success committed (abandoned after %s)", delay)
	events := b.eventsOf(reqID)
	require.Equal(b.t, committed, w.changed(), "the change is made exactly when its response is stored (abandoned after %s)", delay)
	require.Equal(b.t, committed, events > 0, "the change's audit events are written exactly when it is (abandoned after %s)", delay)
	if committed {
		if d.events == 0 {
			d.events = events
		}
		require.Equal(b.t, d.events, events, "every audit event of the change, or none")
		require.Equal(b.t, 1, w.count())
		d.outcomes["committed"]++
	} else {
		require.Equal(b.t, 0, w.count())
		d.outcomes["rolled back"]++
	}
	if status == 499 {
		d.outcomes["client closed"]++
	}

	// The retry: a replay of what committed, or the write made now; once either way.
	retryID := "retry-" + key
	var r *resp
	for try := 0; ; try++ {
		hdr := append([]string{"Idempotency-Key", key, "X-Request-Id", retryID}, w.hdr...)
		r = b.do(w.method, w.path, w.token, w.body, hdr...)
		// The abandoned request's session may still hold the key's lock for a moment.
		if r.Status != http.StatusConflict || r.problem(b.t).Type != "urn:pbudget:problem:idempotency-key-in-flight" || try == 500 {
			break
		}
		time.Sleep(10 * time.Millisecond)
	}
	require.Contains(b.t, []int{200, 201}, r.Status, string(r.Body))
	if committed {
		require.Equal(b.t, "true", r.Header.Get("Idempotent-Replayed"), "a retry of what committed replays it")
		require.Zero(b.t, b.eventsOf(retryID))
	} else {
		require.Empty(b.t, r.Header.Get("Idempotent-Replayed"))
		if d.events == 0 {
			d.events = b.eventsOf(retryID)
		}
		require.Equal(b.t, d.events, b.eventsOf(retryID))
	}
	require.True(b.t, w.changed())
	require.Equal(b.t, 1, w.count(), "no duplicate")
}

// TestAClientThatGoesAwayChangesNothingHalfWay cancels the requests of a create, a plan approval
// and an assessment completion, each with an Idempotency-Key, at random points (before they
// start, during, and after the response), then retries each with its key. Every write committed
// whole (change, audit events, stored response) or not at all; each retry replayed what committed
// or made it once; no request was logged as a server error, and every disconnect was logged, as
// such, at info with its request id.
func TestAClientThatGoesAwayChangesNothingHalfWay(t *testing.T) {
	t.Parallel()
	b := setup(t)
	sink := loggedBundle(t, b)
	b.activeRAS("needs", 72_800)
	b.rateTable("2025-04-06", 11_250)

	drive := func(t *testing.T, name string, n int, next func(b *bundle, d *disconnects, i int) abandoned) {
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			sb := *b
			sb.t = t
			d := &disconnects{b: &sb, log: sink, rnd: rand.New(rand.NewPCG(uint64(time.Now().UnixNano()), 8)), typical: 20 * time.Millisecond, outcomes: map[string]int{}}
			for i := range n {
				d.run(i, next(&sb, d, i))
			}
			t.Logf("%s: %d writes: %v; a write takes up to %s", name, n, d.outcomes, d.typical)
			require.Positive(t, d.outcomes["committed"])
			require.Positive(t, d.outcomes["rolled back"])
			require.Equal(t, d.outcomes["rolled back"], d.outcomes["client closed"])
		})
	}
	t.Run("writes", func(t *testing.T) {
		drive(t, "create a person", 48, func(b *bundle, d *disconnects, i int) abandoned {
			family := "Gone" + randomCode()
			count := func() int {
				var n int
				require.NoError(b.t, b.db.SQL().QueryRow(`SELECT count(*) FROM people WHERE council_id = $1 AND family_name = $2`, b.council.ID, family).Scan(&n))
				return n
			}
			return abandoned{method: http.MethodPost, path: "/v1/people", token: b.token("practitioner"), subject: "user-practitioner",
				body:    map[string]any{"given_name": "Ada", "family_name": family, "date_of_birth": "1980-05-17", "person_type": "adult"},
				changed: func() bool { return count() > 0 }, count: count}
		})
		_, pb := b.pricedBudget()
		drive(t, "approve a plan", 24, func(b *bundle, d *disconnects, i int) abandoned {
			plan, tag := b.planWith(pb, lineBody("personal_assistant", "direct_payment", 1_500, "10", pb))
			tag = b.submit(plan, tag)
			status := func() string {
				var s string
				require.NoError(b.t, b.db.SQL().QueryRow(`SELECT status FROM support_plans WHERE council_id = $1 AND id = $2`, b.council.ID, plan.Id).Scan(&s))
				return s
			}
			approvals := func() int {
				var n int
				require.NoError(b.t, b.db.SQL().QueryRow(`SELECT count(*) FROM audit_events WHERE council_id = $1 AND entity_id = $2 AND action = 'support_plan.approved'`,
					b.council.ID, plan.Id).Scan(&n))
				return n
			}
			return abandoned{method: http.MethodPost, path: "/v1/support-plans/" + plan.Id.String() + "/approve", token: b.token("approver"), subject: "user-approver",
				body: map[string]any{"checks": allChecks, "difference_reason": "the plan costs what the person chose"}, hdr: []string{"If-Match", tag},
				changed: func() bool { return status() == "approved" }, count: approvals}
		})
		drive(t, "complete an assessment", 32, func(b *bundle, d *disconnects, i int) abandoned {
			p := b.newPerson(nil)
			r := b.do(http.MethodPost, "/v1/people/"+p.Id.String()+"/assessments", b.token("practitioner"),
				with(needsFacts("nutrition", "habitable_home"), "type", "needs", "ras_answers", map[string]string{"q1": "lots", "q2": "some"}))
			require.Equal(b.t, http.StatusCreated, r.Status, string(r.Body))
			var as api.Assessment
			r.decode(b.t, &as)
			budgets := func() int {
				var n int
				require.NoError(b.t, b.db.SQL().QueryRow(`SELECT count(*) FROM personal_budgets WHERE council_id = $1 AND person_id = $2`, b.council.ID, p.Id).Scan(&n))
				return n
			}
			return abandoned{method: http.MethodPost, path: "/v1/assessments/" + as.Id.String() + "/complete", token: b.token("practitioner"), subject: "user-practitioner",
				body: map[string]any{}, hdr: []string{"If-Match", r.Header.Get("ETag")},
				changed: func() bool { return budgets() > 0 }, count: budgets}
		})
	})

	for _, l := range sink.all(t) {
		require.NotEqual(t, "ERROR", l["level"], "nothing is logged as an error: %v", l)
		require.NotEqual(t, float64(500), l["status"], "no 500: %v", l)
	}
}
