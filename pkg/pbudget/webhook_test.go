package pbudget_test

import (
	"net/http"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/pbudget/pbudget/pkg/pbudget"
)

// The Standard Webhooks test vector that the specification's reference libraries (Go, Python,
// JavaScript, Java, C#, PHP, Ruby) all check.
const (
	vectorSecret    = "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw"
	vectorID        = "msg_p5jXN8AQM9LWM0D4loKWxJek"
	vectorTimestamp = 1614265330
	vectorBody      = `{"test": 2432232314}`
	vectorSignature = "v1,g0hM9SsE+OTPJTGt/tmIKtSyZlE3uFJELVlNIOLJ1OE="
)

func vectorHeader(sig string) http.Header {
	h := http.Header{}
	h.Set("webhook-id", vectorID)
	h.Set("webhook-timestamp", "1614265330")
	h.Set("webhook-signature", sig)
	return h
}

func TestVerifyWebhookAcceptsTheSpecificationsVector(t *testing.T) {
	t.Parallel()
	at := time.Unix(vectorTimestamp, 0)
	tests := []struct {
		name   string
		secret string
		header http.Header
		body   string
		now    time.Time
		want   error
	}{
		{"the vector", vectorSecret, vectorHeader(vectorSignature), vectorBody, at, nil},
		{"a rotation: one of two signatures matches", vectorSecret, vectorHeader("v1,Ceo5qEr07ixe2NLpvHk3FH9bwy/WavXrAFQ/9tdO6mc= " + vectorSignature), vectorBody, at, nil},
		{"an asymmetric signature is skipped, the symmetric one matches", vectorSecret, vectorHeader("v1a,aGVsbG8= " + vectorSignature), vectorBody, at, nil},
		{"five minutes late", vectorSecret, vectorHeader(vectorSignature), vectorBody, at.Add(5 * time.Minute), nil},
		{"five minutes early", vectorSecret, vectorHeader(vectorSignature), vectorBody, at.Add(-5 * time.Minute), nil},
		{"a second more than five minutes late", vectorSecret, vectorHeader(vectorSignature), vectorBody, at.Add(5*time.Minute + time.Second), pbudget.ErrWebhookTimestamp},
		{"from the future", vectorSecret, vectorHeader(vectorSignature), vectorBody, at.Add(-5*time.Minute - time.Second), pbudget.ErrWebhookTimestamp},
		{"a changed body", vectorSecret, vectorHeader(vectorSignature), `{"test": 2432232315}`, at, pbudget.ErrWebhookSignature},
		{"re-encoded JSON", vectorSecret, vectorHeader(vectorSignature), `{"test":2432232314}`, at, pbudget.ErrWebhookSignature},
		{"another secret", "whsec_" + "AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA", vectorHeader(vectorSignature), vectorBody, at, pbudget.ErrWebhookSignature},
		{"an unknown version only", vectorSecret, vectorHeader("v2," + vectorSignature[3:]), vectorBody, at, pbudget.ErrWebhookSignature},
		{"no signature", vectorSecret, vectorHeader(""), vectorBody, at, pbudget.ErrWebhookHeaders},
		{"a secret that is not base64", "whsec_not base64!", vectorHeader(vectorSignature), vectorBody, at, pbudget.ErrWebhookSecret},
		{"an empty secret", "whsec_", vectorHeader(vectorSignature), vectorBody, at, pbudget.ErrWebhookSecret},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			err := pbudget.VerifyWebhookAt(tt.secret, tt.header, []byte(tt.body), tt.now, pbudget.DefaultWebhookTolerance)
			if tt.want == nil {
				require.NoError(t, err)
			} else {
				require.ErrorIs(t, err, tt.want)
			}
		})
	}

	h := vectorHeader(vectorSignature)
	h.Set("webhook-timestamp", "soon")
	require.ErrorIs(t, pbudget.VerifyWebhookAt(vectorSecret, h, []byte(vectorBody), at, time.Minute), pbudget.ErrWebhookHeaders)
	h = vectorHeader(vectorSignature)
	h.Del("webhook-id")
	require.ErrorIs(t, pbudget.VerifyWebhookAt(vectorSecret, h, []byte(vectorBody), at, time.Minute), pbudget.ErrWebhookHeaders)
}

func TestVerifyWebhookUsesTheClock(t *testing.T) {
	t.Parallel()
	// The vector was signed in 2021: today it is a replay.
	require.ErrorIs(t, pbudget.VerifyWebhook(vectorSecret, vectorHeader(vectorSignature), []byte(vectorBody)), pbudget.ErrWebhookTimestamp)
	_, err := pbudget.ParseWebhook(vectorSecret, vectorHeader(vectorSignature), []byte(vectorBody))
	require.ErrorIs(t, err, pbudget.ErrWebhookTimestamp)
}
