package auth

import (
	"crypto"
	"crypto/ed25519"
	"crypto/rsa"
	"errors"
	"fmt"
	"slices"
	"time"

	"github.com/golang-jwt/jwt/v5"
	"github.com/google/uuid"

	"github.com/pbudget/pbudget/internal/actor"
)

// ErrProviderRequired refuses to mint a provider token without a provider: its bearer would be
// provider staff of no provider, a token that verification refuses anyway.
var ErrProviderRequired = errors.New("a token with the provider role needs a provider (the provider's UUID)")

// ErrPersonRequired refuses to mint a person token without a person, and ErrPersonOnly a person
// claim on a token without the person role or with a staff role beside it: a citizen's token is
// never also a member of staff's.
var (
	ErrPersonRequired = errors.New("a token with the person role needs a person (the person's UUID in the council)")
	ErrPersonOnly     = errors.New("a person claim goes with the person role alone (no staff or provider role, no provider)")
)

// Claims are the claims of a pbudget token (API.md, "Operating interface").
type Claims struct {
	jwt.RegisteredClaims
	Council  string   `json:"council"`
	Roles    []string `json:"roles"`
	Provider string   `json:"provider,omitempty"`
	Person   string   `json:"person,omitempty"`
}

// MintOptions describe a development or test token.
type MintOptions struct {
	Subject  string
	Council  string
	Roles    []string
	Provider string
	Person   string // the person role's person id
	Issuer   string
	Audience string
	TTL      time.Duration
	Now      time.Time // zero means time.Now()
}

// Mint signs a token with key (EdDSA for Ed25519, RS256 for RSA) and sets `kid` to KeyID of its
// public key. A token with the provider role must name its provider (ErrProviderRequired).
func Mint(key crypto.Signer, o MintOptions) (string, error) {
	if slices.Contains(o.Roles, string(actor.Provider)) && o.Provider == "" {
		return "", ErrProviderRequired
	}
	if o.Provider != "" {
		if _, err := uuid.Parse(o.Provider); err != nil {
			return "", fmt.Errorf("the provider must be a UUID")
		}
	}
	isPerson := slices.Contains(o.Roles, string(actor.Person))
	if isPerson && o.Person == "" {
		return "", ErrPersonRequired
	}
	if o.Person != "" {
		if !isPerson || len(o.Roles) != 1 || o.Provider != "" {
			return "", ErrPersonOnly
		}
		if _, err := uuid.Parse(o.Person); err != nil {
			return "", fmt.Errorf("the person must be a UUID")
		}
	}
	var method jwt.SigningMethod
	switch key.(type) {
	case ed25519.PrivateKey:
		method = jwt.SigningMethodEdDSA
	case *rsa.PrivateKey:
		method = jwt.SigningMethodRS256
	default:
		return "", fmt.Errorf("unsupported key type %T", key)
	}
	now := o.Now
	if now.IsZero() {
		now = time.Now()
	}
	if o.TTL <= 0 {
		o.TTL = time.Hour
	}
	claims := Claims{
		RegisteredClaims: jwt.RegisteredClaims{
			Subject:   o.Subject,
			Issuer:    o.Issuer,
			Audience:  jwt.ClaimStrings{o.Audience},
			IssuedAt:  jwt.NewNumericDate(now),
			ExpiresAt: jwt.NewNumericDate(now.Add(o.TTL)),
		},
		Council:  o.Council,
		Roles:    o.Roles,
		Provider: o.Provider,
		Person:   o.Person,
	}
	t := jwt.NewWithClaims(method, claims)
	kid, err := KeyID(key.Public())
	if err != nil {
		return "", err
	}
	t.Header["kid"] = kid
	return t.SignedString(key)
}
