package auth

import (
	"context"
	"crypto"
	"crypto/ed25519"
	"crypto/rand"
	"crypto/rsa"
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"path/filepath"
	"sync"
	"testing"
	"time"

	"github.com/MicahParks/jwkset"
	"github.com/stretchr/testify/require"

	"github.com/pbudget/pbudget/internal/actor"
)

func mint(t *testing.T, key crypto.Signer, mod func(*MintOptions)) string {
	t.Helper()
	o := MintOptions{Subject: "u1", Council: "demo", Roles: []string{"practitioner"}, Issuer: "pbudget", Audience: "pbudget-api", TTL: time.Hour}
	if mod != nil {
		mod(&o)
	}
	tok, err := Mint(key, o)
	require.NoError(t, err)
	return tok
}

func TestKeygenTokenAndVerifyRoundTrip(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	privPath, pubPath, err := WriteKeyPair(dir)
	require.NoError(t, err)
	_, _, err = WriteKeyPair(dir)
	require.Error(t, err, "an existing key pair is never overwritten")

	priv, err := LoadPrivateKey(privPath)
	require.NoError(t, err)
	pubs, err := LoadPublicKeys(pubPath)
	require.NoError(t, err)
	v, err := NewVerifier(context.Background(), VerifierConfig{PublicKeys: pubs, Issuer: "pbudget", Audience: "pbudget-api"})
	require.NoError(t, err)

	provider := "0193a5c4-0000-7000-8000-000000000001"
	id, err := v.Verify(mint(t, priv, func(o *MintOptions) {
		o.Roles = []string{"provider", "made-up-role"}
		o.Provider = provider
	}))
	require.NoError(t, err)
	require.Equal(t, "u1", id.Subject)
	require.Equal(t, "demo", id.Council)
	require.Equal(t, []actor.Role{actor.Provider}, id.Roles, "roles of other systems are ignored")
	require.Equal(t, provider, id.ProviderID.String())
}

func TestRSAKeysVerifyWithRS256(t *testing.T) {
	t.Parallel()
	key, err := rsa.GenerateKey(rand.Reader, 2048)
	require.NoError(t, err)
	v, err := NewVerifier(context.Background(), VerifierConfig{PublicKeys: []crypto.PublicKey{&key.PublicKey}, Issuer: "pbudget", Audience: "pbudget-api"})
	require.NoError(t, err)
	_, err = v.Verify(mint(t, key, nil))
	require.NoError(t, err)

	// Configured algorithms win over the key type: EdDSA only refuses an RS256 token.
	strict, err := NewVerifier(context.Background(), VerifierConfig{PublicKeys: []crypto.PublicKey{&key.PublicKey}, Issuer: "pbudget", Audience: "pbudget-api", Algorithms: []string{"EdDSA"}})
	require.NoError(t, err)
	_, err = strict.Verify(mint(t, key, nil))
	require.ErrorIs(t, err, ErrInvalidToken)
}

func TestKeyRotationWithTwoTrustedKeysUsesKid(t *testing.T) {
	t.Parallel()
	_, oldKey, _ := ed25519.GenerateKey(rand.Reader)
	_, newKey, _ := ed25519.GenerateKey(rand.Reader)
	_, unknown, _ := ed25519.GenerateKey(rand.Reader)
	v, err := NewVerifier(context.Background(), VerifierConfig{
		PublicKeys: []crypto.PublicKey{oldKey.Public(), newKey.Public()}, Issuer: "pbudget", Audience: "pbudget-api",
	})
	require.NoError(t, err)
	_, err = v.Verify(mint(t, oldKey, nil))
	require.NoError(t, err)
	_, err = v.Verify(mint(t, newKey, nil))
	require.NoError(t, err)
	_, err = v.Verify(mint(t, unknown, nil))
	require.ErrorIs(t, err, ErrInvalidToken)
}

func TestJWKSKeysAreFetchedCachedAndRefreshedForUnknownKid(t *testing.T) {
	t.Parallel()
	_, first, _ := ed25519.GenerateKey(rand.Reader)
	_, second, _ := ed25519.GenerateKey(rand.Reader)
	var mu sync.Mutex
	published := []ed25519.PrivateKey{first}
	fetches := 0
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		mu.Lock()
		defer mu.Unlock()
		fetches++
		store := jwkset.NewMemoryStorage()
		for _, k := range published {
			kid, _ := KeyID(k.Public())
			jwk, err := jwkset.NewJWKFromKey(k.Public(), jwkset.JWKOptions{Metadata: jwkset.JWKMetadataOptions{KID: kid}})
			require.NoError(t, err)
			require.NoError(t, store.KeyWrite(r.Context(), jwk))
		}
		raw, err := store.JSONPublic(r.Context())
		require.NoError(t, err)
		w.Header().Set("Content-Type", "application/json")
		_ = json.NewEncoder(w).Encode(json.RawMessage(raw))
	}))
	defer srv.Close()

	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	v, err := NewVerifier(ctx, VerifierConfig{JWKSURL: srv.URL, Issuer: "pbudget", Audience: "pbudget-api"})
	require.NoError(t, err)
	_, err = v.Verify(mint(t, first, nil))
	require.NoError(t, err)

	// The issuer rotates: a token with the new kid makes the verifier fetch the set again.
	mu.Lock()
	published = append(published, second)
	mu.Unlock()
	_, err = v.Verify(mint(t, second, nil))
	require.NoError(t, err)
	mu.Lock()
	require.GreaterOrEqual(t, fetches, 2)
	mu.Unlock()
}

func TestVerifiedTokensAreCachedOnlyUntilExpiry(t *testing.T) {
	t.Parallel()
	c := newTokenCache(2)
	now := time.Now()
	c.put("a", Identity{Subject: "a", ExpiresAt: now.Add(time.Minute)})
	_, ok := c.get("a", now)
	require.True(t, ok)
	_, ok = c.get("a", now.Add(2*time.Minute))
	require.False(t, ok, "an expired token is verified again (and refused)")
	c.put("b", Identity{ExpiresAt: now.Add(time.Minute)})
	c.put("c", Identity{ExpiresAt: now.Add(time.Minute)})
	c.put("d", Identity{ExpiresAt: now.Add(time.Minute)})
	require.LessOrEqual(t, len(c.items), 2, "the cache is bounded")
}

func TestLoadPublicKeysRejectsWhatItCannotUse(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	_, err := LoadPublicKeys(filepath.Join(dir, "missing.pem"))
	require.Error(t, err)
	_, err = NewVerifier(context.Background(), VerifierConfig{})
	require.Error(t, err)
}
