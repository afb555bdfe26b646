// Package secret keeps special personal data that must be stored but never shown: recipients'
// bank details and prepaid-card references (DOMAIN.md section 11, "Recipients and files"). It
// encrypts at rest with AES-256-GCM from the standard library, binds each ciphertext to its
// council, record and purpose, and wraps plain values in a type that cannot be printed, logged
// or marshalled by accident.
//
// # Keys and rotation
//
// A KeyRing holds named 32-byte keys from configuration (ParseKeyRing: "id:base64,id:base64",
// the first is current). New values are sealed with the current key; any key of the ring opens
// what it sealed, because each ciphertext names its key. To rotate:
//
//  1. generate a key (32 random bytes, base64) and put it first in the configuration, keeping the
//     old one after it; deploy: new values use the new key, old ones still open;
//  2. re-encrypt in the background: for each stored value that NeedsRotation, Rotate it (open
//     with the old key, seal with the current one) and save it, in small batches, each row
//     updated only if it still holds the ciphertext read (optimistic, so a concurrent change
//     wins);
//  3. when no stored value names the old key (count them by KeyID), remove it from the
//     configuration and deploy; then destroy it.
//
// Nonces are 12 random bytes from crypto/rand per seal: safe for far more values than a council
// holds under one key (NIST SP 800-38D bounds random nonces at 2^32 seals per key).
//
// # Binding
//
// The associated data of every seal is the format version, the key id, the council id, the
// record id and a purpose ("bank_account", "card_reference"): a ciphertext copied to another
// council's row, another record, or another column does not open.
package secret

import (
	"crypto/aes"
	"crypto/cipher"
	"crypto/rand"
	"encoding/base64"
	"fmt"
	"regexp"
	"strings"

	"github.com/google/uuid"

	"github.com/pbudget/pbudget/internal/apperr"
)

// KeySize is the size of an AES-256 key.
const KeySize = 32

const (
	version   = 1
	nonceSize = 12
	adLabel   = "pbudget/secret"
)

var keyID = regexp.MustCompile(`^[A-Za-z0-9._-]{1,32}$`)

// KeyRing is the set of keys values are sealed and opened with.
type KeyRing struct {
	current string
	aeads   map[string]cipher.AEAD
}

// Errors of the key ring. Opening never says more than ErrOpen: why a value does not open (wrong
// key, other binding, tampering) is not the caller's to learn.
var (
	ErrKeys       = apperr.New(apperr.Internal, "secret-keys-invalid", "the encryption keys are misconfigured")
	ErrUnknownKey = apperr.New(apperr.Internal, "secret-key-unknown", "the value was sealed with a key that is no longer configured")
	ErrOpen       = apperr.New(apperr.Internal, "secret-open-failed", "the value does not open with its key and binding")
)

// NewKeyRing returns a ring of keys (id → 32 bytes) sealing with current.
func NewKeyRing(current string, keys map[string][]byte) (*KeyRing, error) {
	r := &KeyRing{current: current, aeads: map[string]cipher.AEAD{}}
	for id, k := range keys {
		if !keyID.MatchString(id) {
			return nil, ErrKeys.WithMessage("key id %q: use 1 to 32 letters, digits, . _ -", id)
		}
		if len(k) != KeySize {
			return nil, ErrKeys.WithMessage("key %q has %d bytes, want %d", id, len(k), KeySize)
		}
		block, err := aes.NewCipher(k)
		if err != nil {
			return nil, ErrKeys.Wrap(err)
		}
		aead, err := cipher.NewGCM(block)
		if err != nil {
			return nil, ErrKeys.Wrap(err)
		}
		r.aeads[id] = aead
	}
	if _, ok := r.aeads[current]; !ok {
		return nil, ErrKeys.WithMessage("the current key %q is not in the ring", current)
	}
	return r, nil
}

// ParseKeyRing reads a ring from configuration: comma-separated "id:key" pairs, each key 32 bytes
// in standard base64, the first pair the current key. Errors never include key material.
func ParseKeyRing(spec string) (*KeyRing, error) {
	keys := map[string][]byte{}
	current := ""
	for i, pair := range strings.Split(spec, ",") {
		id, b64, ok := strings.Cut(strings.TrimSpace(pair), ":")
		if !ok {
			return nil, ErrKeys.WithMessage("key %d: want id:base64", i+1)
		}
		if _, dup := keys[id]; dup {
			return nil, ErrKeys.WithMessage("key id %q appears twice", id)
		}
		k, err := base64.StdEncoding.DecodeString(b64)
		if err != nil {
			return nil, ErrKeys.WithMessage("key %q is not standard base64", id)
		}
		keys[id] = k
		if i == 0 {
			current = id
		}
	}
	return NewKeyRing(current, keys)
}

// Current is the id of the key new values are sealed with.
func (r *KeyRing) Current() string { return r.current }

// Binding is what a ciphertext belongs to: its council, its record and what it is.
type Binding struct {
	CouncilID uuid.UUID
	RecordID  uuid.UUID
	Purpose   string // "bank_account", "card_reference", …
}

// Purposes of the values this service keeps.
const (
	PurposeBankAccount   = "bank_account"
	PurposeCardReference = "card_reference"
	PurposeExportFile    = "export_file"
	PurposeWebhookSecret = "webhook_secret"
)

func (b Binding) ad(header []byte) []byte {
	ad := append([]byte(adLabel), 0)
	ad = append(ad, header...)
	ad = append(ad, b.CouncilID[:]...)
	ad = append(ad, b.RecordID[:]...)
	return append(ad, b.Purpose...)
}

func header(id string) []byte { return append([]byte{version, byte(len(id))}, id...) }

// Seal encrypts plain under the current key, bound to b. The result is
// version (1) | key id length (1) | key id | nonce (12) | ciphertext and tag.
func (r *KeyRing) Seal(plain []byte, b Binding) ([]byte, error) {
	if b.Purpose == "" {
		return nil, ErrKeys.WithMessage("a binding names its purpose")
	}
	h := header(r.current)
	nonce := make([]byte, nonceSize)
	if _, err := rand.Read(nonce); err != nil {
		return nil, ErrKeys.Wrap(err)
	}
	out := append(append(make([]byte, 0, len(h)+nonceSize+len(plain)+16), h...), nonce...)
	return r.aeads[r.current].Seal(out, nonce, plain, b.ad(h)), nil
}

// KeyID names the key sealed was sealed with.
func KeyID(sealed []byte) (string, error) {
	if len(sealed) < 2 || sealed[0] != version || len(sealed) < 2+int(sealed[1])+nonceSize {
		return "", ErrOpen
	}
	return string(sealed[2 : 2+int(sealed[1])]), nil
}

// Open decrypts sealed, which must have been sealed by a key of the ring with the same binding.
func (r *KeyRing) Open(sealed []byte, b Binding) ([]byte, error) {
	id, err := KeyID(sealed)
	if err != nil {
		return nil, err
	}
	aead, ok := r.aeads[id]
	if !ok {
		return nil, ErrUnknownKey.WithMessage("the value was sealed with key %q, which is not configured", id)
	}
	h := sealed[:2+len(id)]
	nonce := sealed[len(h) : len(h)+nonceSize]
	plain, err := aead.Open(nil, nonce, sealed[len(h)+nonceSize:], b.ad(h))
	if err != nil {
		return nil, ErrOpen
	}
	return plain, nil
}

// NeedsRotation reports whether sealed was sealed with a key other than the current one.
func (r *KeyRing) NeedsRotation(sealed []byte) bool {
	id, err := KeyID(sealed)
	return err != nil || id != r.current
}

// Rotate re-seals sealed under the current key, with the same binding.
func (r *KeyRing) Rotate(sealed []byte, b Binding) ([]byte, error) {
	plain, err := r.Open(sealed, b)
	if err != nil {
		return nil, err
	}
	defer clear(plain)
	return r.Seal(plain, b)
}

// SealValue seals a Value's plain text.
func (r *KeyRing) SealValue(v Value, b Binding) ([]byte, error) { return r.Seal([]byte(v.Reveal()), b) }

// OpenValue opens a sealed value into a Value that shows only its last four characters.
func (r *KeyRing) OpenValue(sealed []byte, b Binding) (Value, error) {
	plain, err := r.Open(sealed, b)
	if err != nil {
		return Value{}, err
	}
	return Last4(string(plain)), nil
}

// String describes the ring without key material.
func (r *KeyRing) String() string {
	return fmt.Sprintf("secret.KeyRing(current %s, %d keys)", r.current, len(r.aeads))
}
