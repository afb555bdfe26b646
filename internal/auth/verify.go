// Package auth verifies bearer JWTs (golang-jwt v5) against configured public keys or a JWKS URL,
// and mints development tokens. Allowed algorithms come from configuration, never from the token.
package auth

import (
	"context"
	"crypto"
	"crypto/ed25519"
	"crypto/rsa"
	"errors"
	"fmt"
	"net/http"
	"slices"
	"sync"
	"time"

	"github.com/MicahParks/keyfunc/v3"
	"github.com/golang-jwt/jwt/v5"
	"github.com/google/uuid"
	"golang.org/x/time/rate"

	"github.com/pbudget/pbudget/internal/actor"
	"github.com/pbudget/pbudget/internal/apperr"
)

// ErrInvalidToken is the error of every token that fails verification; its message says why in
// terms safe to show.
var ErrInvalidToken = apperr.New(apperr.Unauthenticated, "invalid-token", "the bearer token is invalid")

// ErrMissingToken is returned when the request has no bearer token.
var ErrMissingToken = apperr.New(apperr.Unauthenticated, "missing-token", "send a bearer token in the Authorization header")

// VerifierConfig configures a Verifier. Exactly one of PublicKeys and JWKSURL is used.
type VerifierConfig struct {
	PublicKeys []crypto.PublicKey
	JWKSURL    string
	HTTPClient *http.Client // for the JWKS; nil means a client with a 10 s timeout
	Issuer     string
	Audience   string
	Algorithms []string // empty: EdDSA and/or RS256, after the configured keys
	Leeway     time.Duration
}

// Identity is what a verified token says about its bearer.
type Identity struct {
	Subject    string
	Council    string
	Roles      []actor.Role
	ProviderID *uuid.UUID
	PersonID   *uuid.UUID // the person role's person
	ExpiresAt  time.Time
}

// Verifier checks tokens. It is safe for concurrent use.
type Verifier struct {
	parser  *jwt.Parser
	keyfunc jwt.Keyfunc
	cache   *tokenCache
}

// NewVerifier builds a verifier. With a JWKS URL, the key set is fetched now and refreshed every
// 15 minutes and when a token names an unknown kid (at most every 30 seconds) until ctx ends.
func NewVerifier(ctx context.Context, c VerifierConfig) (*Verifier, error) {
	algs := c.Algorithms
	var kf jwt.Keyfunc
	switch {
	case c.JWKSURL != "":
		client := c.HTTPClient
		if client == nil {
			client = &http.Client{Timeout: 10 * time.Second}
		}
		// An unknown kid refreshes the set at most every 30 s, and a request waits at most a second
		// for that: tokens with made-up kids cannot hold off a real key rotation for long.
		k, err := keyfunc.NewDefaultOverrideCtx(ctx, []string{c.JWKSURL}, keyfunc.Override{
			Client: client, RefreshInterval: 15 * time.Minute,
			RefreshUnknownKID: rate.NewLimiter(rate.Every(30*time.Second), 1), RateLimitWaitMax: time.Second,
		})
		if err != nil {
			return nil, fmt.Errorf("JWKS %s: %w", c.JWKSURL, err)
		}
		kf = k.KeyfuncCtx(ctx)
		if len(algs) == 0 {
			algs = []string{"EdDSA", "RS256"}
		}
	case len(c.PublicKeys) > 0:
		byKID := make(map[string]crypto.PublicKey, len(c.PublicKeys))
		for _, k := range c.PublicKeys {
			kid, err := KeyID(k)
			if err != nil {
				return nil, err
			}
			byKID[kid] = k
		}
		if len(algs) == 0 {
			algs = defaultAlgorithms(c.PublicKeys)
		}
		kf = func(t *jwt.Token) (any, error) {
			kid, _ := t.Header["kid"].(string)
			if kid == "" {
				if len(c.PublicKeys) == 1 {
					return c.PublicKeys[0], nil
				}
				set := jwt.VerificationKeySet{}
				for _, k := range c.PublicKeys {
					set.Keys = append(set.Keys, k)
				}
				return set, nil
			}
			k, ok := byKID[kid]
			if !ok {
				return nil, fmt.Errorf("unknown kid")
			}
			return k, nil
		}
	default:
		return nil, errors.New("no public key and no JWKS URL configured")
	}
	leeway := c.Leeway
	if leeway == 0 {
		leeway = 30 * time.Second
	}
	return &Verifier{
		parser: jwt.NewParser(
			jwt.WithValidMethods(algs),
			jwt.WithExpirationRequired(),
			jwt.WithIssuer(c.Issuer),
			jwt.WithAudience(c.Audience),
			jwt.WithLeeway(leeway),
			jwt.WithIssuedAt(),
		),
		keyfunc: kf,
		cache:   newTokenCache(10000),
	}, nil
}

func defaultAlgorithms(keys []crypto.PublicKey) []string {
	var ed, rs bool
	for _, k := range keys {
		switch k.(type) {
		case ed25519.PublicKey:
			ed = true
		case *rsa.PublicKey:
			rs = true
		}
	}
	var algs []string
	if ed {
		algs = append(algs, "EdDSA")
	}
	if rs {
		algs = append(algs, "RS256")
	}
	return algs
}

// Verify checks the signature, algorithm, expiry, issuer and audience of raw and the shape of its
// claims. A token verified once is remembered until it expires.
func (v *Verifier) Verify(raw string) (Identity, error) {
	now := time.Now()
	if id, ok := v.cache.get(raw, now); ok {
		return id, nil
	}
	var claims Claims
	_, err := v.parser.ParseWithClaims(raw, &claims, v.keyfunc)
	if err != nil {
		return Identity{}, ErrInvalidToken.WithMessage("the bearer token is invalid: %s", reason(err)).Wrap(err)
	}
	id, err := identityOf(claims)
	if err != nil {
		return Identity{}, err
	}
	v.cache.put(raw, id)
	return id, nil
}

func identityOf(c Claims) (Identity, error) {
	if c.Subject == "" {
		return Identity{}, ErrInvalidToken.WithMessage("the bearer token has no sub claim")
	}
	if c.Council == "" {
		return Identity{}, ErrInvalidToken.WithMessage("the bearer token has no council claim")
	}
	id := Identity{Subject: c.Subject, Council: c.Council, ExpiresAt: c.ExpiresAt.Time}
	for _, r := range c.Roles {
		// Roles of other systems may share the token; only ours count.
		if role := actor.Role(r); role.Valid() {
			id.Roles = append(id.Roles, role)
		}
	}
	if c.Provider != "" {
		p, err := uuid.Parse(c.Provider)
		if err != nil {
			return Identity{}, ErrInvalidToken.WithMessage("the provider claim is not a UUID")
		}
		id.ProviderID = &p
	}
	for _, r := range id.Roles {
		if r == actor.Provider && id.ProviderID == nil {
			return Identity{}, ErrInvalidToken.WithMessage("a provider token needs a provider claim")
		}
	}
	if c.Person != "" {
		p, err := uuid.Parse(c.Person)
		if err != nil {
			return Identity{}, ErrInvalidToken.WithMessage("the person claim is not a UUID")
		}
		id.PersonID = &p
	}
	// The person role and its claim go together, and alone: a token that mixed a citizen with
	// staff would let staff routes see a person's reach, or a person reach staff routes.
	isPerson := slices.Contains(id.Roles, actor.Person)
	if isPerson != (id.PersonID != nil) {
		return Identity{}, ErrInvalidToken.WithMessage("the person role and the person claim go together")
	}
	if isPerson && (len(id.Roles) != 1 || id.ProviderID != nil) {
		return Identity{}, ErrInvalidToken.WithMessage("a person token carries the person role alone")
	}
	return id, nil
}

// reason turns a golang-jwt error into words safe for the caller.
func reason(err error) string {
	switch {
	case errors.Is(err, jwt.ErrTokenMalformed):
		return "malformed"
	case errors.Is(err, jwt.ErrTokenExpired):
		return "expired"
	case errors.Is(err, jwt.ErrTokenNotValidYet), errors.Is(err, jwt.ErrTokenUsedBeforeIssued):
		return "not valid yet"
	case errors.Is(err, jwt.ErrTokenRequiredClaimMissing):
		return "a required claim is missing"
	case errors.Is(err, jwt.ErrTokenInvalidIssuer):
		return "wrong issuer"
	case errors.Is(err, jwt.ErrTokenInvalidAudience):
		return "wrong audience"
	case errors.Is(err, jwt.ErrTokenSignatureInvalid):
		return "bad signature or algorithm"
	case errors.Is(err, jwt.ErrTokenUnverifiable):
		return "unverifiable (algorithm not allowed or key unknown)"
	}
	return "rejected"
}

// tokenCache remembers verified tokens until they expire, so that a client reusing its token
// does not pay for a signature check on every request.
type tokenCache struct {
	mu    sync.Mutex
	max   int
	items map[string]Identity
}

func newTokenCache(max int) *tokenCache {
	return &tokenCache{max: max, items: make(map[string]Identity)}
}

func (c *tokenCache) get(raw string, now time.Time) (Identity, bool) {
	c.mu.Lock()
	defer c.mu.Unlock()
	id, ok := c.items[raw]
	if !ok {
		return Identity{}, false
	}
	if !now.Before(id.ExpiresAt) {
		delete(c.items, raw)
		return Identity{}, false
	}
	return id, true
}

func (c *tokenCache) put(raw string, id Identity) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if len(c.items) >= c.max {
		now := time.Now()
		for k, v := range c.items {
			if !now.Before(v.ExpiresAt) {
				delete(c.items, k)
			}
		}
		if len(c.items) >= c.max {
			clear(c.items)
		}
	}
	c.items[raw] = id
}
