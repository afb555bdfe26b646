// Package council is the tenant: every record belongs to one council, and every token names one.
package council

import (
	"context"
	"errors"
	"regexp"
	"strings"
	"sync"
	"time"

	"github.com/google/uuid"

	"github.com/pbudget/pbudget/internal/actor"
	"github.com/pbudget/pbudget/internal/apperr"
	"github.com/pbudget/pbudget/internal/audit"
	"github.com/pbudget/pbudget/internal/txn"
)

// Council is a local authority running pbudget.
type Council struct {
	ID            uuid.UUID
	Code          string
	Name          string
	CreatedAt     time.Time
	RetiredAt     *time.Time // set once the council has left the service
	RetiredReason string
}

// Retired reports whether the council has left the service.
func (c Council) Retired() bool { return c.RetiredAt != nil }

// Store keeps councils.
type Store interface {
	// CouncilByCode returns the council with code, retired or not; apperr.ErrNotFound when none.
	CouncilByCode(ctx context.Context, code string, forUpdate bool) (Council, error)
	// EnsureCouncil creates the council unless one with its code exists, and returns the stored one.
	EnsureCouncil(ctx context.Context, c Council) (Council, error)
	// ListCouncils returns every council, retired ones too, by code.
	ListCouncils(ctx context.Context) ([]Council, error)
	// RetireCouncil records the council's retirement.
	RetireCouncil(ctx context.Context, id uuid.UUID, at time.Time, reason string) error
}

var codeRE = regexp.MustCompile(`^[a-z0-9][a-z0-9-]{1,31}$`)

// Errors of councils.
var (
	// ErrBadCode is returned for a code that is not 2–32 lower-case letters, digits and hyphens.
	ErrBadCode = apperr.New(apperr.Invalid, "council-code", "a council code is 2 to 32 lower-case letters, digits and hyphens")
	ErrBadName = apperr.New(apperr.Invalid, "council-name", "a council's name is 1 to 200 characters")
	// ErrRetired is returned for a council that has left the service: its records are kept, but
	// nothing more is done for it.
	ErrRetired = apperr.New(apperr.Conflict, "council-retired", "the council has been retired from this service")
	// ErrOtherName is returned when a council is created again under another name.
	ErrOtherName = apperr.New(apperr.Conflict, "council-exists", "a council with this code exists under another name")
	ErrNoReason  = apperr.New(apperr.Invalid, "reason-required", "give a reason of 1 to 500 characters")
)

// CacheTTL is how long a council once read is remembered by ByCode: a retirement reaches every
// running instance within it.
const CacheTTL = 30 * time.Second

type cached struct {
	c     Council
	until time.Time
}

// Service resolves the councils of tokens, remembering each for CacheTTL.
type Service struct {
	store  Store
	now    func() time.Time
	byCode sync.Map // code → cached
}

// NewService returns a Service on the wall clock.
func NewService(store Store) *Service { return NewServiceAt(store, time.Now) }

// NewServiceAt returns a Service whose remembered councils expire by now.
func NewServiceAt(store Store, now func() time.Time) *Service {
	return &Service{store: store, now: now}
}

// ByCode returns the council with code: apperr.ErrNotFound when there is none, ErrRetired when it
// has been retired.
func (s *Service) ByCode(ctx context.Context, code string) (Council, error) {
	now := s.now()
	if v, ok := s.byCode.Load(code); ok && now.Before(v.(cached).until) {
		return active(v.(cached).c)
	}
	if !codeRE.MatchString(code) {
		return Council{}, apperr.ErrNotFound
	}
	c, err := s.store.CouncilByCode(ctx, code, false)
	if err != nil {
		return Council{}, err
	}
	s.byCode.Store(code, cached{c: c, until: now.Add(CacheTTL)})
	return active(c)
}

func active(c Council) (Council, error) {
	if c.Retired() {
		return Council{}, ErrRetired
	}
	return c, nil
}

// Ensure creates a council with code and name unless it exists.
func (s *Service) Ensure(ctx context.Context, code, name string) (Council, error) {
	if !codeRE.MatchString(code) {
		return Council{}, ErrBadCode
	}
	return s.store.EnsureCouncil(ctx, Council{ID: uuid.Must(uuid.NewV7()), Code: code, Name: name})
}

// Registry is the operator's view of councils (pbudget council create, list, retire): creating
// and retiring one is audited in the council's own trail.
type Registry struct {
	store Store
	audit audit.Recorder
	tx    txn.Transactor
	now   func() time.Time
}

// NewRegistry returns a Registry.
func NewRegistry(store Store, auditor audit.Recorder, tx txn.Transactor, now func() time.Time) *Registry {
	return &Registry{store: store, audit: auditor, tx: tx, now: now}
}

// Operator is the actor of an operator's command on council c: subject names the operator (or
// system:…), with the council administrator's role.
func Operator(subject string, c Council) actor.Actor {
	return actor.Actor{Subject: subject, CouncilID: c.ID, CouncilCode: c.Code, Roles: []actor.Role{actor.CouncilAdmin}}
}

// Create creates the council unless it exists, and reports whether it did. A council of the same
// code under another name is ErrOtherName, a retired one ErrRetired: codes are never reused.
func (r *Registry) Create(ctx context.Context, operator, code, name string) (Council, bool, error) {
	name = strings.TrimSpace(name)
	if !codeRE.MatchString(code) {
		return Council{}, false, ErrBadCode
	}
	if n := len([]rune(name)); n < 1 || n > 200 {
		return Council{}, false, ErrBadName
	}
	var out Council
	created := false
	err := r.tx.WithinTx(ctx, func(ctx context.Context) error {
		want := Council{ID: uuid.Must(uuid.NewV7()), Code: code, Name: name}
		c, err := r.store.EnsureCouncil(ctx, want)
		if err != nil {
			return err
		}
		out = c
		switch {
		case c.Retired():
			return ErrRetired.WithMessage("council %s was retired on %s (%s); a retired council's code is not reused",
				code, c.RetiredAt.UTC().Format(time.DateOnly), c.RetiredReason)
		case c.Name != name:
			return ErrOtherName.WithMessage("council %s exists as %q; it is not renamed", code, c.Name)
		case c.ID != want.ID:
			return nil // it was there already
		}
		created = true
		return r.audit.Record(ctx, Operator(operator, c), audit.Event{
			Action: "council.created", EntityType: "council", EntityID: c.ID, ChangedFields: []string{"code", "name"},
			Details: map[string]any{"code": c.Code},
		})
	})
	return out, created, err
}

// Find returns the council with code, retired or not.
func (r *Registry) Find(ctx context.Context, code string) (Council, error) {
	if !codeRE.MatchString(code) {
		return Council{}, ErrBadCode
	}
	return r.store.CouncilByCode(ctx, code, false)
}

// List returns every council by code, retired ones too.
func (r *Registry) List(ctx context.Context) ([]Council, error) { return r.store.ListCouncils(ctx) }

// Retire takes the council out of service, for reason: its tokens are refused from then on (by
// every instance within CacheTTL) and it is listed as retired. Nothing is deleted.
func (r *Registry) Retire(ctx context.Context, operator, code, reason string) (Council, error) {
	reason = strings.TrimSpace(reason)
	if n := len([]rune(reason)); n < 1 || n > 500 {
		return Council{}, ErrNoReason
	}
	if !codeRE.MatchString(code) {
		return Council{}, ErrBadCode
	}
	var out Council
	err := r.tx.WithinTx(ctx, func(ctx context.Context) error {
		c, err := r.store.CouncilByCode(ctx, code, true)
		if err != nil {
			return err
		}
		if c.Retired() {
			return ErrRetired.WithMessage("council %s was already retired on %s", code, c.RetiredAt.UTC().Format(time.DateOnly))
		}
		at := r.now().UTC().Truncate(time.Microsecond)
		if err := r.store.RetireCouncil(ctx, c.ID, at, reason); err != nil {
			return err
		}
		c.RetiredAt, c.RetiredReason = &at, reason
		out = c
		return r.audit.Record(ctx, Operator(operator, c), audit.Event{
			Action: "council.retired", EntityType: "council", EntityID: c.ID, ChangedFields: []string{"retired_at"},
			Reason: reason, Details: map[string]any{"code": c.Code},
		})
	})
	if errors.Is(err, apperr.ErrNotFound) {
		return Council{}, apperr.ErrNotFound.WithMessage("no council has the code %s", code)
	}
	return out, err
}
