// Package page implements cursor pagination: opaque page tokens that carry the position after the
// last item of a page, ordered by (time, id), and bound to the filters they were issued for.
package page

import (
	"crypto/sha256"
	"encoding/base64"
	"encoding/binary"
	"encoding/json"
	"time"

	"github.com/google/uuid"

	"github.com/pbudget/pbudget/internal/apperr"
)

// DefaultSize and MaxSize bound page sizes (API.md convention 6).
const (
	DefaultSize = 50
	MaxSize     = 200
)

// Cursor is the position after which the next page starts.
type Cursor struct {
	Time time.Time
	ID   uuid.UUID
}

// Request is a page request after decoding.
type Request struct {
	Size  int
	After *Cursor // nil for the first page
}

// ErrBadToken is returned for a page token that cannot be decoded or that belongs to other filters.
var ErrBadToken = apperr.Validation(apperr.FieldError{
	Field: "page_token", In: "query", Code: "invalid_page_token",
	Message: "the page token is invalid, or was issued for other filters",
})

type token struct {
	T int64     `json:"t"` // unix microseconds
	I uuid.UUID `json:"i"`
	F uint32    `json:"f"` // filter fingerprint
}

// Fingerprint condenses the filters of a list into a number carried in its tokens.
func Fingerprint(filters ...string) uint32 {
	h := sha256.New()
	for _, f := range filters {
		h.Write([]byte(f))
		h.Write([]byte{0})
	}
	return binary.BigEndian.Uint32(h.Sum(nil))
}

// Parse turns the page_size and page_token parameters into a Request.
func Parse(size *int, tok *string, fingerprint uint32) (Request, error) {
	r := Request{Size: DefaultSize}
	if size != nil {
		r.Size = min(max(*size, 1), MaxSize)
	}
	if tok == nil || *tok == "" {
		return r, nil
	}
	raw, err := base64.RawURLEncoding.DecodeString(*tok)
	if err != nil {
		return Request{}, ErrBadToken
	}
	var t token
	if err := json.Unmarshal(raw, &t); err != nil || t.F != fingerprint || t.I == uuid.Nil {
		return Request{}, ErrBadToken
	}
	r.After = &Cursor{Time: time.UnixMicro(t.T).UTC(), ID: t.I}
	return r, nil
}

// Result trims items fetched with limit Size+1 to one page and returns the token of the next page,
// or nil on the last page. key gives the cursor of an item.
func Result[T any](items []T, r Request, fingerprint uint32, key func(T) Cursor) ([]T, *string) {
	if len(items) <= r.Size {
		return items, nil
	}
	items = items[:r.Size]
	c := key(items[len(items)-1])
	raw, _ := json.Marshal(token{T: c.Time.UnixMicro(), I: c.ID, F: fingerprint})
	s := base64.RawURLEncoding.EncodeToString(raw)
	return items, &s
}
