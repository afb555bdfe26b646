// Package council is the tenant: every record belongs to one council, and every token names one.
package council

import (
	"context"
	"regexp"
	"sync"
	"time"

	"github.com/google/uuid"

	"github.com/pbudget/pbudget/internal/apperr"
)

// Council is a local authority running pbudget.
type Council struct {
	ID        uuid.UUID
	Code      string
	Name      string
	CreatedAt time.Time
}

// Store keeps councils.
type Store interface {
	CouncilByCode(ctx context.Context, code string) (Council, error)
	// EnsureCouncil creates the council unless one with its code exists, and returns the stored one.
	EnsureCouncil(ctx context.Context, c Council) (Council, error)
}

var codeRE = regexp.MustCompile(`^[a-z0-9][a-z0-9-]{1,31}$`)

// ErrBadCode is returned for a code that is not 2–32 lower-case letters, digits and hyphens.
var ErrBadCode = apperr.New(apperr.Invalid, "council-code", "a council code is 2 to 32 lower-case letters, digits and hyphens")

// Service resolves councils. Councils are never renamed or removed while the service runs, so a
// council once found is remembered.
type Service struct {
	store  Store
	byCode sync.Map // code → Council
}

// NewService returns a Service.
func NewService(store Store) *Service { return &Service{store: store} }

// ByCode returns the council with code, apperr.ErrNotFound when there is none.
func (s *Service) ByCode(ctx context.Context, code string) (Council, error) {
	if c, ok := s.byCode.Load(code); ok {
		return c.(Council), nil
	}
	if !codeRE.MatchString(code) {
		return Council{}, apperr.ErrNotFound
	}
	c, err := s.store.CouncilByCode(ctx, code)
	if err != nil {
		return Council{}, err
	}
	s.byCode.Store(code, c)
	return c, nil
}

// Ensure creates a council with code and name unless it exists.
func (s *Service) Ensure(ctx context.Context, code, name string) (Council, error) {
	if !codeRE.MatchString(code) {
		return Council{}, ErrBadCode
	}
	return s.store.EnsureCouncil(ctx, Council{ID: uuid.Must(uuid.NewV7()), Code: code, Name: name})
}
