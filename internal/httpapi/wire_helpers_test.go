package httpapi_test

import (
	"io"
	"net/http"
	"net/http/httptest"
	"sync"
	"time"

	"github.com/google/uuid"
	"github.com/stretchr/testify/require"

	"github.com/pbudget/pbudget/api"
	"github.com/pbudget/pbudget/internal/date"
)

// receiver is a webhook endpoint on loopback that keeps what it receives and answers 204.
type receiver struct {
	*httptest.Server
	mu      sync.Mutex
	bodies  [][]byte
	headers []http.Header
}

func (b *bundle) webhookReceiver() *receiver {
	r := &receiver{}
	r.Server = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, req *http.Request) {
		body, _ := io.ReadAll(req.Body)
		r.mu.Lock()
		r.bodies, r.headers = append(r.bodies, body), append(r.headers, req.Header.Clone())
		r.mu.Unlock()
		w.WriteHeader(http.StatusNoContent)
	}))
	b.t.Cleanup(r.Close)
	return r
}

func (r *receiver) received() ([][]byte, []http.Header) {
	r.mu.Lock()
	defer r.mu.Unlock()
	return append([][]byte(nil), r.bodies...), append([]http.Header(nil), r.headers...)
}

// today is the server's day (its clock's, for a payBundle).
func (b *bundle) today() string {
	now := time.Now()
	if b.clock != nil {
		now = b.clock.Now()
	}
	return date.Today(now).String()
}

// settledDelivery waits for the subscription's first delivery to be settled (delivered or given
// up) and returns its id.
func (b *bundle) settledDelivery(sub uuid.UUID) uuid.UUID {
	b.t.Helper()
	var id uuid.UUID
	require.Eventually(b.t, func() bool {
		var list api.WebhookDeliveryList
		r := b.do(http.MethodGet, "/v1/webhook-subscriptions/"+sub.String()+"/deliveries", b.token("council_admin"), nil)
		if r.Status != http.StatusOK {
			return false
		}
		r.decode(b.t, &list)
		for _, d := range list.Items {
			if d.Status != api.WebhookDeliveryStatusPending {
				id = d.Id
				return true
			}
		}
		return false
	}, 60*time.Second, 50*time.Millisecond, "no delivery settled")
	return id
}
