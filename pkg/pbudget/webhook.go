package pbudget

import (
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"strconv"
	"time"

	standardwebhooks "github.com/standard-webhooks/standard-webhooks/libraries/go"
)

// pbudget's webhooks follow the Standard Webhooks specification (www.standardwebhooks.com): each
// delivery is a POST whose webhook-id, webhook-timestamp and webhook-signature headers sign its
// body with the subscription's whsec_ secret. Verify every delivery before trusting it, on the
// bytes received (never re-encoded JSON), then use webhook-id to drop repeats: a delivery that
// timed out is sent again with the same id.
//
//	func receive(w http.ResponseWriter, r *http.Request) {
//		body, _ := io.ReadAll(io.LimitReader(r.Body, 1<<20))
//		event, err := pbudget.ParseWebhook(secret, r.Header, body)
//		if err != nil {
//			http.Error(w, "bad signature", http.StatusBadRequest)
//			return
//		}
//		// event.Data.Links.Self is the record to GET; answer 2xx quickly, work afterwards.
//	}

// Webhook verification errors, for errors.Is.
var (
	ErrWebhookSecret    = errors.New("pbudget: the webhook secret is not whsec_ and base64")
	ErrWebhookHeaders   = errors.New("pbudget: webhook-id, webhook-timestamp or webhook-signature is missing or malformed")
	ErrWebhookSignature = errors.New("pbudget: no webhook signature matches the secret")
	ErrWebhookTimestamp = errors.New("pbudget: the webhook timestamp is too far from now (a replay?)")
)

// DefaultWebhookTolerance is how far webhook-timestamp may be from the receiver's clock.
const DefaultWebhookTolerance = 5 * time.Minute

// VerifyWebhook checks a delivery's signature with secret (whsec_…) and that its timestamp is
// within DefaultWebhookTolerance of now. During a secret rotation the delivery carries one
// signature per secret: any one matching is enough.
func VerifyWebhook(secret string, header http.Header, body []byte) error {
	return VerifyWebhookAt(secret, header, body, time.Now(), DefaultWebhookTolerance)
}

// VerifyWebhookAt is VerifyWebhook with the clock and tolerance given.
func VerifyWebhookAt(secret string, header http.Header, body []byte, now time.Time, tolerance time.Duration) error {
	wh, err := standardwebhooks.NewWebhook(secret)
	if err != nil || len(secret) <= len("whsec_") {
		return ErrWebhookSecret
	}
	// The library's own timestamp check reads the system clock with a fixed tolerance, so the
	// signature is checked by it and the timestamp here.
	switch err := wh.VerifyIgnoringTimestamp(body, header); {
	case errors.Is(err, standardwebhooks.ErrRequiredHeaders), errors.Is(err, standardwebhooks.ErrInvalidHeaders):
		return ErrWebhookHeaders
	case errors.Is(err, standardwebhooks.ErrNoMatchingSignature):
		return ErrWebhookSignature
	case err != nil:
		return fmt.Errorf("%w: %v", ErrWebhookSignature, err)
	}
	ts, err := strconv.ParseInt(header.Get(standardwebhooks.HeaderWebhookTimestamp), 10, 64)
	if err != nil {
		return ErrWebhookHeaders
	}
	if d := now.Sub(time.Unix(ts, 0)); d > tolerance || d < -tolerance {
		return ErrWebhookTimestamp
	}
	return nil
}

// WebhookEvent is a delivery's body: which record changed, never what it holds. GET
// Data.Links.Self with your own credentials to read it.
type WebhookEvent struct {
	Type      string    `json:"type"` // e.g. support_plan.approved
	Timestamp time.Time `json:"timestamp"`
	Data      struct {
		ID      string `json:"id"`
		Object  string `json:"object"`  // the record's kind, e.g. support_plan
		Council string `json:"council"` // the council's code
		Links   struct {
			Self string `json:"self"`
		} `json:"links"`
	} `json:"data"`
}

// ParseWebhook verifies a delivery (VerifyWebhook) and decodes its body.
func ParseWebhook(secret string, header http.Header, body []byte) (WebhookEvent, error) {
	var e WebhookEvent
	if err := VerifyWebhook(secret, header, body); err != nil {
		return e, err
	}
	if err := json.Unmarshal(body, &e); err != nil {
		return e, fmt.Errorf("pbudget: decoding a webhook: %w", err)
	}
	return e, nil
}
