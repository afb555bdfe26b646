package main

import (
	"bytes"
	"context"
	"io"
	"log/slog"
	"net"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/pbudget/pbudget/internal/actor"
	"github.com/pbudget/pbudget/internal/app"
	"github.com/pbudget/pbudget/internal/config"
	"github.com/pbudget/pbudget/internal/payment"
	"github.com/pbudget/pbudget/internal/postgres"
	"github.com/pbudget/pbudget/internal/provider"
	"github.com/pbudget/pbudget/internal/secret"
	"github.com/pbudget/pbudget/internal/webhook"
	"github.com/pbudget/pbudget/internal/webhook/outbox"
)

func TestServeRefusesToStartWithoutEncryptionKeys(t *testing.T) {
	t.Parallel()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	require.NoError(t, err)
	cfg, err := config.Load(env(map[string]string{"DATABASE_URL": "postgres://nowhere/db", "PB_JWT_PUBLIC_KEY_FILE": "/k.pem"}))
	require.NoError(t, err)
	err = serve(context.Background(), cfg, slog.New(slog.NewJSONHandler(io.Discard, nil)), ln, nil)
	require.ErrorContains(t, err, "PB_SECRET_KEYS is not set")
	cfg.SecretKeys = "k1:short"
	ln, err = net.Listen("tcp", "127.0.0.1:0")
	require.NoError(t, err)
	err = serve(context.Background(), cfg, slog.New(slog.NewJSONHandler(io.Discard, nil)), ln, nil)
	require.ErrorContains(t, err, "PB_SECRET_KEYS")
	require.NotContains(t, err.Error(), "short", "no key material in errors")
}

func newKey(t *testing.T, id string) string {
	var out bytes.Buffer
	require.NoError(t, run(context.Background(), []string{"secret-key", "--id", id}, env(nil), &out))
	pair := strings.TrimSpace(out.String())
	require.True(t, strings.HasPrefix(pair, id+":"))
	return pair
}

// Rotation, step 2 of the secret package's procedure: values sealed with the old key are sealed
// again with the new one, and then open without the old key.
func TestRotateKeysReEncryptsUnderTheCurrentKey(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	vars := freshDB(t)
	dsn := vars["DATABASE_URL"]
	oldKey, newKey := newKey(t, "old"), newKey(t, "new")
	require.NoError(t, run(ctx, []string{"migrate"}, env(vars), io.Discard))
	db, err := postgres.Open(ctx, dsn, 2, slog.New(slog.NewJSONHandler(io.Discard, nil)))
	require.NoError(t, err)
	defer db.Close()
	oldRing, err := secret.ParseKeyRing(oldKey)
	require.NoError(t, err)
	svc, err := app.BuildOffline(db, app.PaymentOptions{Keys: oldRing})
	require.NoError(t, err)
	c, err := svc.Councils.Ensure(ctx, "rotate", "Rotate")
	require.NoError(t, err)
	a := actor.Actor{Subject: "a", CouncilID: c.ID, Roles: []actor.Role{actor.CouncilAdmin, actor.Finance}}
	p, err := svc.Providers.Create(ctx, a, provider.Provider{Name: "ISF Ltd", Type: provider.ISFProvider, ContractBasis: "framework", Active: true})
	require.NoError(t, err)
	acct := secret.NewBankAccount("601613", "31926819", "ISF LTD")
	_, err = svc.Payments.SetDetails(ctx, a, payment.DetailsOwner{ProviderID: &p.ID}, payment.DetailsInput{Bank: &acct, Reason: "letter"})
	require.NoError(t, err)
	// A webhook subscription whose secret was rotated: its current and previous signing secrets are
	// both sealed, and both are re-sealed.
	sub, err := svc.Webhooks.Create(ctx, a, outbox.CreateInput{URL: "https://93.184.215.14/hooks", EventTypes: []webhook.EventType{webhook.EventTypes[0]}})
	require.NoError(t, err)
	first := sub.Secret.Reveal()
	sub, err = svc.Webhooks.RotateSecret(ctx, a, sub.ID, sub.Version)
	require.NoError(t, err)
	second := sub.Secret.Reveal()

	var out bytes.Buffer
	vars["PB_SECRET_KEYS"] = newKey + "," + oldKey
	getenv := env(vars)
	require.NoError(t, run(ctx, []string{"rotate-keys"}, getenv, &out))
	require.Contains(t, out.String(), "re-encrypted 3 values under key new", "the bank details and the two webhook secrets")
	require.Contains(t, out.String(), "key new seals 3 values")
	require.NotContains(t, out.String(), "key old")
	out.Reset()
	require.NoError(t, run(ctx, []string{"rotate-keys"}, getenv, &out))
	require.Contains(t, out.String(), "re-encrypted 0 values", "nothing left under the old key")

	newRing, err := secret.ParseKeyRing(newKey)
	require.NoError(t, err)
	svc, err = app.BuildOffline(db, app.PaymentOptions{Keys: newRing})
	require.NoError(t, err)
	b := actor.Actor{Subject: "b", CouncilID: c.ID, Roles: []actor.Role{actor.Finance}}
	v, err := svc.Payments.ConfirmDetails(ctx, b, payment.DetailsOwner{ProviderID: &p.ID}, payment.DetailsInput{Bank: &acct})
	require.NoError(t, err, "the re-encrypted details open with the new key alone")
	require.Equal(t, "****6819", v.Confirmed.MaskedNumber)

	stored, err := svc.Webhooks.Get(ctx, a, sub.ID)
	require.NoError(t, err)
	for sealed, want := range map[string]string{string(stored.SecretSealed): second, string(stored.PreviousSecretSealed): first} {
		id, err := secret.KeyID([]byte(sealed))
		require.NoError(t, err)
		require.Equal(t, "new", id)
		plain, err := newRing.Open([]byte(sealed), secret.Binding{CouncilID: c.ID, RecordID: sub.ID, Purpose: secret.PurposeWebhookSecret})
		require.NoError(t, err, "the re-sealed webhook secrets open with the new key alone")
		require.Equal(t, want, string(plain), "the same secret: receivers verify as before")
	}
}
