package webhook

import (
	"context"
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/pbudget/pbudget/pkg/pbudget"
)

// receiver is a subscriber's endpoint on loopback that verifies every delivery as an integrator
// would, with the client's verifier, and answers from a script.
type receiver struct {
	secret  string
	answers []int // the status of each request in turn; 204 once they run out
	mu      sync.Mutex
	now     time.Time // the receiver's clock: the simulated time of the attempt, zero for the real one
	got     []delivery
}

type delivery struct {
	id, timestamp string
	event         pbudget.WebhookEvent
}

func (rc *receiver) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	body, err := io.ReadAll(r.Body)
	if err != nil {
		http.Error(w, err.Error(), http.StatusBadRequest)
		return
	}
	rc.mu.Lock()
	defer rc.mu.Unlock()
	var event pbudget.WebhookEvent
	if rc.now.IsZero() {
		event, err = pbudget.ParseWebhook(rc.secret, r.Header, body)
	} else if err = pbudget.VerifyWebhookAt(rc.secret, r.Header, body, rc.now, pbudget.DefaultWebhookTolerance); err == nil {
		err = json.Unmarshal(body, &event)
	}
	if err != nil {
		http.Error(w, err.Error(), http.StatusBadRequest)
		return
	}
	rc.got = append(rc.got, delivery{r.Header.Get("webhook-id"), r.Header.Get("webhook-timestamp"), event})
	status := http.StatusNoContent
	if n := len(rc.got); n <= len(rc.answers) {
		status = rc.answers[n-1]
	}
	if status == http.StatusServiceUnavailable {
		w.Header().Set("Retry-After", "120")
	}
	w.WriteHeader(status)
}

func setup(t *testing.T, answers ...int) (*receiver, *httptest.Server, Signer, []byte) {
	t.Helper()
	secret, err := GenerateSecret()
	require.NoError(t, err)
	rc := &receiver{secret: secret.Reveal(), answers: answers}
	srv := httptest.NewServer(rc)
	t.Cleanup(srv.Close)
	p, err := NewPayload(PlanApproved, planID, "demo", at, "https://pbudget.example.gov.uk", "/v1/support-plans/"+planID.String())
	require.NoError(t, err)
	body, err := p.Marshal()
	require.NoError(t, err)
	return rc, srv, NewSigner(secret), body
}

var tests = Guard{AllowLoopback: true} // receivers listen on loopback

func TestADeliveryIsVerifiedByTheClientsVerifier(t *testing.T) {
	t.Parallel()
	rc, srv, signer, body := setup(t)
	policy := DefaultPolicy()
	a := Deliver(context.Background(), NewClient(tests, policy), tests, signer, srv.URL+"/hook", MessageID(planID), time.Now(), body)
	require.NoError(t, a.Err)
	require.Equal(t, http.StatusNoContent, a.Status)
	require.Equal(t, Delivered, policy.Next(1, a, time.Now(), half).Outcome)

	require.Len(t, rc.got, 1)
	e := rc.got[0].event
	require.Equal(t, "support_plan.approved", e.Type)
	require.Equal(t, planID.String(), e.Data.ID)
	require.Equal(t, "support_plan", e.Data.Object)
	require.Equal(t, "demo", e.Data.Council)
	require.Equal(t, "https://pbudget.example.gov.uk/v1/support-plans/"+planID.String(), e.Data.Links.Self)
	require.True(t, at.Truncate(time.Microsecond).Equal(e.Timestamp))
}

// The worker's loop, without its waits: attempt, decide, and attempt again at the decided time.
func deliverUntilDone(t *testing.T, rc *receiver, srv *httptest.Server, signer Signer, body []byte) (int, Decision) {
	t.Helper()
	policy := DefaultPolicy()
	client := NewClient(tests, policy)
	now := time.Now()
	for attempts := 1; ; attempts++ {
		rc.mu.Lock()
		rc.now = now // the receiver's clock moves with the attempts, so its timestamp check passes
		rc.mu.Unlock()
		a := Deliver(context.Background(), client, tests, signer, srv.URL+"/hook", MessageID(planID), now, body)
		d := policy.Next(attempts, a, now, half)
		if d.Outcome != Retry {
			return attempts, d
		}
		require.True(t, d.At.After(now))
		now = d.At
	}
}

func TestAReceiverThatFailsThreeTimesGetsTheEventEachTimeThenItStops(t *testing.T) {
	t.Parallel()
	rc, srv, signer, body := setup(t, http.StatusInternalServerError, http.StatusServiceUnavailable, http.StatusBadGateway)
	attempts, last := deliverUntilDone(t, rc, srv, signer, body)
	require.Equal(t, Delivered, last.Outcome)
	require.Equal(t, 4, attempts)
	require.Len(t, rc.got, 4, "once per attempt, and no more after the success")
	for _, g := range rc.got {
		require.Equal(t, MessageID(planID), g.id, "every attempt carries the same webhook-id")
		require.Equal(t, planID.String(), g.event.Data.ID)
	}
	require.NotEqual(t, rc.got[0].timestamp, rc.got[1].timestamp, "each attempt is signed at its own time")
}

func TestAnEndpointThatAnswersGoneIsDisabled(t *testing.T) {
	t.Parallel()
	rc, srv, signer, body := setup(t, http.StatusInternalServerError, http.StatusGone)
	attempts, last := deliverUntilDone(t, rc, srv, signer, body)
	require.Equal(t, Disable, last.Outcome)
	require.Equal(t, 2, attempts)
	require.Len(t, rc.got, 2)
}

func TestAReceiverThatNeverAcceptsIsGivenUpAfterTheSchedule(t *testing.T) {
	t.Parallel()
	fails := make([]int, 20)
	for i := range fails {
		fails[i] = http.StatusInternalServerError
	}
	rc, srv, signer, body := setup(t, fails...)
	attempts, last := deliverUntilDone(t, rc, srv, signer, body)
	require.Equal(t, GiveUp, last.Outcome)
	require.Equal(t, 10, attempts)
	require.Len(t, rc.got, 10)
}

func TestRetryAfterFromTheReceiverIsHonoured(t *testing.T) {
	t.Parallel()
	_, srv, signer, body := setup(t, http.StatusServiceUnavailable)
	now := time.Now()
	a := Deliver(context.Background(), NewClient(tests, DefaultPolicy()), tests, signer, srv.URL, MessageID(planID), now, body)
	require.Equal(t, http.StatusServiceUnavailable, a.Status)
	d := DefaultPolicy().Next(1, a, now, half)
	require.Equal(t, Retry, d.Outcome)
	require.Equal(t, now.Add(2*time.Minute), d.At)
}

func TestRedirectsAreNotFollowed(t *testing.T) {
	t.Parallel()
	var followed atomic.Bool
	mux := http.NewServeMux()
	mux.HandleFunc("/old", func(w http.ResponseWriter, r *http.Request) {
		http.Redirect(w, r, "/new", http.StatusTemporaryRedirect)
	})
	mux.HandleFunc("/new", func(http.ResponseWriter, *http.Request) { followed.Store(true) })
	srv := httptest.NewServer(mux)
	defer srv.Close()
	secret, _ := GenerateSecret()
	a := Deliver(context.Background(), NewClient(tests, DefaultPolicy()), tests, NewSigner(secret), srv.URL+"/old", MessageID(planID), time.Now(), []byte(`{}`))
	require.Equal(t, http.StatusTemporaryRedirect, a.Status)
	require.False(t, followed.Load())
	require.Equal(t, Retry, DefaultPolicy().Next(1, a, time.Now(), half).Outcome)
}

func TestWithoutTheTestOptionLoopbackIsRefusedBeforeAndAtConnectTime(t *testing.T) {
	t.Parallel()
	rc, srv, signer, body := setup(t)
	production := Guard{}
	a := Deliver(context.Background(), NewClient(production, DefaultPolicy()), production, signer, srv.URL, MessageID(planID), time.Now(), body)
	require.True(t, IsRefused(a.Err), "the URL check refuses http to loopback: %v", a.Err)

	// Past the URL check (as a name that resolved elsewhere a moment before would be), the dialler
	// still refuses the address it is about to connect to.
	resp, err := NewClient(production, DefaultPolicy()).Get(srv.URL)
	if resp != nil {
		resp.Body.Close()
	}
	require.True(t, IsRefused(err), "connect-time refusal: %v", err)
	require.Empty(t, rc.got, "nothing reached the receiver")
}

func TestATimeoutIsAFailedAttempt(t *testing.T) {
	t.Parallel()
	release := make(chan struct{})
	srv := httptest.NewServer(http.HandlerFunc(func(http.ResponseWriter, *http.Request) { <-release }))
	defer srv.Close()
	defer close(release)
	p := DefaultPolicy()
	p.Timeout = 100 * time.Millisecond
	secret, _ := GenerateSecret()
	a := Deliver(context.Background(), NewClient(tests, p), tests, NewSigner(secret), srv.URL, MessageID(planID), time.Now(), []byte(`{}`))
	require.Error(t, a.Err)
	require.Equal(t, Retry, p.Next(1, a, time.Now(), half).Outcome)
}
