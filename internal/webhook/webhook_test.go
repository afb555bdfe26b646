package webhook

import (
	"encoding/json"
	"fmt"
	"regexp"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/google/uuid"
	"github.com/stretchr/testify/require"

	"github.com/pbudget/pbudget/internal/golden"
	"github.com/pbudget/pbudget/pkg/pbudget"
)

func TestEventTypesAreDottedLowerSnakeAndDistinct(t *testing.T) {
	t.Parallel()
	pattern := regexp.MustCompile(`^[a-z][a-z_]*\.[a-z][a-z_]*$`)
	seen := map[EventType]bool{}
	for _, e := range EventTypes {
		require.Regexp(t, pattern, string(e))
		require.False(t, seen[e], "%s listed twice", e)
		seen[e] = true
		require.True(t, e.Valid())
	}
	for _, e := range ProviderEventTypes {
		require.True(t, seen[e], "a provider event %s is an event", e)
	}
	require.Len(t, EventTypes, 18)
	require.False(t, EventType("person.deleted").Valid())
	require.Equal(t, "support_plan", PlanApproved.Object())
}

var (
	planID = uuid.MustParse("0190a5c4-7b1e-7c3d-8e2f-3a4b5c6d7e8f")
	at     = time.Date(2026, 5, 20, 14, 30, 15, 123456789, time.UTC)
)

func TestThinPayload(t *testing.T) {
	t.Parallel()
	p, err := NewPayload(PlanApproved, planID, "demo", at, "https://pbudget.example.gov.uk/", "/v1/support-plans/"+planID.String())
	require.NoError(t, err)
	body, err := p.Marshal()
	require.NoError(t, err)
	golden.Check(t, "payload.json", append(body, '\n'))

	// Only identifiers leave the service: the payload's keys are these and no others.
	var keys map[string]any
	require.NoError(t, json.Unmarshal(body, &keys))
	require.ElementsMatch(t, []string{"type", "timestamp", "data"}, mapKeys(keys))
	require.ElementsMatch(t, []string{"id", "object", "council", "links"}, mapKeys(keys["data"].(map[string]any)))
	require.ElementsMatch(t, []string{"self"}, mapKeys(keys["data"].(map[string]any)["links"].(map[string]any)))

	for name, build := range map[string]func() (Payload, error){
		"an unknown type": func() (Payload, error) {
			return NewPayload("plan.deleted", planID, "demo", at, "https://x.example", "/v1/support-plans/"+planID.String())
		},
		"no record": func() (Payload, error) {
			return NewPayload(PlanApproved, uuid.Nil, "demo", at, "https://x.example", "/v1/support-plans/")
		},
		"no council": func() (Payload, error) {
			return NewPayload(PlanApproved, planID, "", at, "https://x.example", "/v1/support-plans/"+planID.String())
		},
		"a relative API base": func() (Payload, error) {
			return NewPayload(PlanApproved, planID, "demo", at, "/api", "/v1/support-plans/"+planID.String())
		},
		"a query in the link": func() (Payload, error) {
			return NewPayload(PlanApproved, planID, "demo", at, "https://x.example", "/v1/support-plans/"+planID.String()+"?name=Sam")
		},
		"a link outside /v1/": func() (Payload, error) {
			return NewPayload(PlanApproved, planID, "demo", at, "https://x.example", "/admin/"+planID.String())
		},
		"a link to another id": func() (Payload, error) {
			return NewPayload(PlanApproved, planID, "demo", at, "https://x.example", "/v1/support-plans/"+uuid.NewString())
		},
	} {
		_, err := build()
		require.Error(t, err, name)
	}
}

func mapKeys(m map[string]any) []string {
	var out []string
	for k := range m {
		out = append(out, k)
	}
	return out
}

// The Standard Webhooks test vector (see pkg/pbudget's tests).
const (
	vectorSecret    = "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw"
	vectorID        = "msg_p5jXN8AQM9LWM0D4loKWxJek"
	vectorBody      = `{"test": 2432232314}`
	vectorSignature = "v1,g0hM9SsE+OTPJTGt/tmIKtSyZlE3uFJELVlNIOLJ1OE="
)

func TestSignerReproducesTheSpecificationsVector(t *testing.T) {
	t.Parallel()
	secret, err := ParseSecret(vectorSecret)
	require.NoError(t, err)
	h, err := NewSigner(secret).Headers(vectorID, time.Unix(1614265330, 0), []byte(vectorBody))
	require.NoError(t, err)
	require.Equal(t, vectorID, h.Get("webhook-id"))
	require.Equal(t, "1614265330", h.Get("webhook-timestamp"))
	require.Equal(t, vectorSignature, h.Get("webhook-signature"))
}

func TestRotationSignsWithBothSecretsAndEitherVerifies(t *testing.T) {
	t.Parallel()
	current, err := GenerateSecret()
	require.NoError(t, err)
	previous, err := GenerateSecret()
	require.NoError(t, err)
	body := []byte(`{"type":"support_plan.approved"}`)
	now := time.Now()
	h, err := NewSigner(current, previous).Headers(MessageID(planID), now, body)
	require.NoError(t, err)
	sigs := strings.Fields(h.Get(HeaderSignature))
	require.Len(t, sigs, 2)
	for _, s := range []Secret{current, previous} {
		require.NoError(t, pbudget.VerifyWebhookAt(s.Reveal(), h, body, now, time.Minute), "a receiver holding either secret verifies")
	}
	other, err := GenerateSecret()
	require.NoError(t, err)
	require.ErrorIs(t, pbudget.VerifyWebhookAt(other.Reveal(), h, body, now, time.Minute), pbudget.ErrWebhookSignature)
}

func TestSecrets(t *testing.T) {
	t.Parallel()
	s, err := GenerateSecret()
	require.NoError(t, err)
	back, err := ParseSecret(s.Reveal())
	require.NoError(t, err)
	require.Equal(t, s.Reveal(), back.Reveal())
	require.True(t, strings.HasPrefix(s.Reveal(), "whsec_"))
	for _, verb := range []string{"%v", "%s", "%+v", "%#v", "%q", "%x"} {
		require.NotContains(t, fmt.Sprintf(verb, s), s.Reveal()[6:], "%s prints the secret", verb)
		require.NotContains(t, fmt.Sprintf(verb, struct{ S Secret }{s}), s.Reveal()[6:], "%s prints a struct's secret", verb)
	}

	b64 := func(n int) string { return strings.Repeat("A", (n+2)/3*4) } // base64 of n zero bytes when n%3 == 0
	for _, bad := range []string{"", "whsec_", "MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw", "whsec_not base64", "whsec_" + b64(21), "whsec_" + b64(66)} {
		_, err := ParseSecret(bad)
		require.ErrorIs(t, err, ErrSecret, "%q", bad)
	}
	for _, good := range []string{"whsec_" + b64(24), "whsec_" + b64(63)} {
		_, err := ParseSecret(good)
		require.NoError(t, err, good)
	}
}

func TestMessageIDsAreStableAndSafeToSign(t *testing.T) {
	t.Parallel()
	id := MessageID(planID)
	require.Equal(t, "msg_0190a5c47b1e7c3d8e2f3a4b5c6d7e8f", id)
	require.Equal(t, id, MessageID(planID), "every attempt and replay carries the same id")
	require.NoError(t, checkMessageID(id))
	s, _ := GenerateSecret()
	for _, bad := range []string{"", "msg.1", "msg 1", "msg,1", strings.Repeat("m", 129)} {
		_, err := NewSigner(s).Sign(bad, at, nil)
		require.Error(t, err, "%q", bad)
	}
	_, err := Signer{}.Sign(id, at, nil)
	require.Error(t, err, "a signer without a secret")
}

func TestDefaultScheduleSpansAboutThreeDays(t *testing.T) {
	t.Parallel()
	p := DefaultPolicy()
	var total time.Duration
	for _, d := range p.Schedule {
		total += d
	}
	require.Equal(t, 75*time.Hour+35*time.Minute+5*time.Second, total, "the specification's example: 75:35:05 from the first attempt to the tenth")
	require.True(t, slices.IsSorted(p.Schedule), "the backoff only grows")
	require.Len(t, p.Schedule, 9, "ten attempts")
}
