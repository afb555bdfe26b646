package webhook

import (
	"crypto/rand"
	"encoding/base64"
	"encoding/hex"
	"fmt"
	"net/http"
	"strconv"
	"strings"
	"time"

	"github.com/google/uuid"
	standardwebhooks "github.com/standard-webhooks/standard-webhooks/libraries/go"

	"github.com/pbudget/pbudget/internal/apperr"
)

// The headers of a delivery (Standard Webhooks).
const (
	HeaderID        = standardwebhooks.HeaderWebhookID
	HeaderTimestamp = standardwebhooks.HeaderWebhookTimestamp
	HeaderSignature = standardwebhooks.HeaderWebhookSignature
)

// SecretPrefix begins every signing secret.
const SecretPrefix = "whsec_"

// Secret sizes: the specification asks for at least 24 random bytes; 64 is the most accepted.
const (
	minSecretBytes = 24
	maxSecretBytes = 64
	newSecretBytes = 32
)

// ErrSecret is a signing secret that is not whsec_ and the base64 of 24 to 64 bytes.
var ErrSecret = apperr.New(apperr.Invalid, "webhook-secret-invalid",
	"a webhook secret is whsec_ followed by the base64 of 24 to 64 random bytes")

// Secret is a subscription's signing key. It never prints: String and Format show only its
// fingerprint, so a secret logged by mistake stays secret.
type Secret struct {
	key []byte
}

// GenerateSecret returns a new random secret.
func GenerateSecret() (Secret, error) {
	key := make([]byte, newSecretBytes)
	if _, err := rand.Read(key); err != nil {
		return Secret{}, fmt.Errorf("webhook: generating a secret: %w", err)
	}
	return Secret{key: key}, nil
}

// ParseSecret reads a whsec_ secret.
func ParseSecret(s string) (Secret, error) {
	raw, ok := strings.CutPrefix(s, SecretPrefix)
	if !ok {
		return Secret{}, ErrSecret
	}
	key, err := base64.StdEncoding.DecodeString(raw)
	if err != nil || len(key) < minSecretBytes || len(key) > maxSecretBytes {
		return Secret{}, ErrSecret
	}
	return Secret{key: key}, nil
}

// Reveal returns the secret in its whsec_ form: to show once to the subscriber when it is made,
// and to store encrypted (internal/secret).
func (s Secret) Reveal() string { return SecretPrefix + base64.StdEncoding.EncodeToString(s.key) }

// String hides the secret.
func (s Secret) String() string { return "whsec_…(hidden)" }

// Format hides the secret from every fmt verb.
func (s Secret) Format(f fmt.State, _ rune) { _, _ = f.Write([]byte(s.String())) }

// Signer signs deliveries with a subscription's current secret and, during a rotation, the
// previous ones, so that receivers holding either verify.
type Signer struct {
	secrets []Secret
}

// NewSigner returns a signer with the current secret first.
func NewSigner(current Secret, previous ...Secret) Signer {
	return Signer{secrets: append([]Secret{current}, previous...)}
}

// Sign returns the webhook-signature value for message id sent at at: "v1,<sig>" per secret,
// space-separated, current first.
func (s Signer) Sign(id string, at time.Time, body []byte) (string, error) {
	if len(s.secrets) == 0 {
		return "", fmt.Errorf("webhook: a signer needs a secret")
	}
	if err := checkMessageID(id); err != nil {
		return "", err
	}
	sigs := make([]string, 0, len(s.secrets))
	for _, secret := range s.secrets {
		if len(secret.key) == 0 {
			return "", fmt.Errorf("webhook: an empty secret")
		}
		wh, err := standardwebhooks.NewWebhookRaw(secret.key)
		if err != nil {
			return "", err
		}
		sig, err := wh.Sign(id, at, body)
		if err != nil {
			return "", err
		}
		sigs = append(sigs, sig)
	}
	return strings.Join(sigs, " "), nil
}

// Headers returns the three Standard Webhooks headers of a delivery attempt made at at.
func (s Signer) Headers(id string, at time.Time, body []byte) (http.Header, error) {
	sig, err := s.Sign(id, at, body)
	if err != nil {
		return nil, err
	}
	h := http.Header{}
	h.Set(HeaderID, id)
	h.Set(HeaderTimestamp, strconv.FormatInt(at.Unix(), 10))
	h.Set(HeaderSignature, sig)
	return h, nil
}

// MessageID is the webhook-id of the delivery of outbox event eventID: "msg_" and the id's hex,
// the same for every attempt and replay, so that the receiver can drop repeats.
func MessageID(eventID uuid.UUID) string { return "msg_" + hex.EncodeToString(eventID[:]) }

// checkMessageID refuses ids that could blur the signed content "id.timestamp.body" (the
// specification: ids must not contain a full stop) or break a header.
func checkMessageID(id string) error {
	if id == "" || len(id) > 128 || strings.ContainsAny(id, ". \t\r\n,") {
		return fmt.Errorf("webhook: message id %q is empty, too long or contains a full stop, space or comma", id)
	}
	return nil
}
