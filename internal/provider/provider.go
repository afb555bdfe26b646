// Package provider holds the council's providers: care agencies, Individual Service Fund
// providers and day services, whose staff see only the people they serve.
package provider

import (
	"context"
	"strings"
	"time"

	"github.com/google/uuid"

	"github.com/pbudget/pbudget/internal/actor"
	"github.com/pbudget/pbudget/internal/apperr"
	"github.com/pbudget/pbudget/internal/audit"
	"github.com/pbudget/pbudget/internal/page"
	"github.com/pbudget/pbudget/internal/txn"
)

// Type is care agency, ISF provider or day service.
type Type string

// The provider types.
const (
	CareAgency  Type = "care_agency"
	ISFProvider Type = "isf_provider"
	DayService  Type = "day_service"
)

// Provider is an organisation that delivers or holds support.
type Provider struct {
	CouncilID     uuid.UUID
	ID            uuid.UUID
	Name          string
	Type          Type
	ContractBasis string // framework or spot
	ContactEmail  *string
	ContactPhone  *string
	Active        bool
	Version       int
	CreatedAt     time.Time
	UpdatedAt     time.Time
}

// Cursor is the page position of a provider.
func (p Provider) Cursor() page.Cursor { return page.Cursor{Time: p.CreatedAt, ID: p.ID} }

// Store keeps providers.
type Store interface {
	InsertProvider(ctx context.Context, p Provider) error
	GetProvider(ctx context.Context, councilID, id uuid.UUID, forUpdate bool) (Provider, error)
	UpdateProvider(ctx context.Context, p Provider) error
	ListProviders(ctx context.Context, councilID uuid.UUID, t Type, p page.Request) ([]Provider, error)
}

// Service manages providers.
type Service struct {
	store Store
	audit audit.Recorder
	tx    txn.Transactor
	now   func() time.Time
}

// NewService returns a Service.
func NewService(store Store, auditor audit.Recorder, tx txn.Transactor, now func() time.Time) *Service {
	return &Service{store: store, audit: auditor, tx: tx, now: now}
}

// Create records a provider.
func (s *Service) Create(ctx context.Context, a actor.Actor, p Provider) (Provider, error) {
	now := s.now().UTC().Truncate(time.Microsecond)
	p.CouncilID, p.ID, p.Name, p.Active, p.Version, p.CreatedAt, p.UpdatedAt = a.CouncilID, uuid.Must(uuid.NewV7()), strings.TrimSpace(p.Name), true, 1, now, now
	err := s.tx.WithinTx(ctx, func(ctx context.Context) error {
		if err := s.store.InsertProvider(ctx, p); err != nil {
			return err
		}
		return s.audit.Record(ctx, a, audit.Event{Action: "provider.created", EntityType: "provider", EntityID: p.ID,
			ChangedFields: []string{"name", "type", "contract_basis"}, Details: map[string]any{"type": string(p.Type)}})
	})
	return p, err
}

// Get returns a provider. Provider staff may read only their own organisation.
func (s *Service) Get(ctx context.Context, a actor.Actor, id uuid.UUID) (Provider, error) {
	if a.IsProviderOnly() && *a.ProviderID != id {
		return Provider{}, apperr.ErrNotFound
	}
	return s.store.GetProvider(ctx, a.CouncilID, id, false)
}

// List returns a page of providers.
func (s *Service) List(ctx context.Context, a actor.Actor, t Type, p page.Request) ([]Provider, error) {
	return s.store.ListProviders(ctx, a.CouncilID, t, p)
}

// Update changes a provider at version.
func (s *Service) Update(ctx context.Context, a actor.Actor, id uuid.UUID, version int, changed []string, change func(*Provider)) (Provider, error) {
	var out Provider
	err := s.tx.WithinTx(ctx, func(ctx context.Context) error {
		p, err := s.store.GetProvider(ctx, a.CouncilID, id, true)
		if err != nil {
			return err
		}
		if p.Version != version {
			return apperr.ErrVersionMismatch
		}
		change(&p)
		p.Name = strings.TrimSpace(p.Name)
		p.Version, p.UpdatedAt = p.Version+1, s.now().UTC().Truncate(time.Microsecond)
		if err := s.store.UpdateProvider(ctx, p); err != nil {
			return err
		}
		out = p
		return s.audit.Record(ctx, a, audit.Event{Action: "provider.updated", EntityType: "provider", EntityID: p.ID, ChangedFields: changed})
	})
	return out, err
}
