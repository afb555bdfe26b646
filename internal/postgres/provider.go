package postgres

import (
	"context"
	"time"

	"github.com/google/uuid"

	"github.com/pbudget/pbudget/internal/page"
	"github.com/pbudget/pbudget/internal/provider"
)

type providerRow struct {
	CouncilID     uuid.UUID `gorm:"primaryKey"`
	ID            uuid.UUID `gorm:"primaryKey"`
	Name          string
	Type          string
	ContractBasis string
	ContactEmail  *string
	ContactPhone  *string
	Active        bool
	Version       int
	CreatedAt     time.Time `gorm:"autoCreateTime:false"`
	UpdatedAt     time.Time `gorm:"autoUpdateTime:false"`
}

func (providerRow) TableName() string { return "providers" }

func (r providerRow) domain() (provider.Provider, error) {
	return provider.Provider{CouncilID: r.CouncilID, ID: r.ID, Name: r.Name, Type: provider.Type(r.Type), ContractBasis: r.ContractBasis,
		ContactEmail: r.ContactEmail, ContactPhone: r.ContactPhone, Active: r.Active, Version: r.Version,
		CreatedAt: r.CreatedAt.UTC(), UpdatedAt: r.UpdatedAt.UTC()}, nil
}

func providerRowOf(p provider.Provider) providerRow {
	return providerRow{CouncilID: p.CouncilID, ID: p.ID, Name: p.Name, Type: string(p.Type), ContractBasis: p.ContractBasis,
		ContactEmail: p.ContactEmail, ContactPhone: p.ContactPhone, Active: p.Active, Version: p.Version, CreatedAt: p.CreatedAt, UpdatedAt: p.UpdatedAt}
}

// ProviderStore implements provider.Store.
type ProviderStore struct{ db *DB }

// NewProviderStore returns a ProviderStore.
func NewProviderStore(db *DB) *ProviderStore { return &ProviderStore{db: db} }

// InsertProvider implements provider.Store.
func (s *ProviderStore) InsertProvider(ctx context.Context, p provider.Provider) error {
	row := providerRowOf(p)
	return translate(s.db.conn(ctx).Create(&row).Error, nil)
}

// GetProvider implements provider.Store.
func (s *ProviderStore) GetProvider(ctx context.Context, councilID, id uuid.UUID, forUpdate bool) (provider.Provider, error) {
	r, err := takeOne[providerRow](s.db.conn(ctx), forUpdate, "council_id = ? AND id = ?", uuidArg(councilID), uuidArg(id))
	if err != nil {
		return provider.Provider{}, err
	}
	return r.domain()
}

// UpdateProvider implements provider.Store.
func (s *ProviderStore) UpdateProvider(ctx context.Context, p provider.Provider) error {
	row := providerRowOf(p)
	res := s.db.conn(ctx).Model(&providerRow{}).Where("council_id = ? AND id = ? AND version = ?", uuidArg(p.CouncilID), uuidArg(p.ID), p.Version-1).
		Select("name", "contract_basis", "contact_email", "contact_phone", "active", "version", "updated_at").Updates(&row)
	return versioned(res.Error, res.RowsAffected, nil)
}

// ListProviders implements provider.Store.
func (s *ProviderStore) ListProviders(ctx context.Context, councilID uuid.UUID, t provider.Type, p page.Request) ([]provider.Provider, error) {
	q := s.db.conn(ctx).Where("council_id = ?", uuidArg(councilID))
	if t != "" {
		q = q.Where("type = ?", string(t))
	}
	var rows []providerRow
	if err := paginate(q, "created_at", p).Find(&rows).Error; err != nil {
		return nil, translate(err, nil)
	}
	return mapRows(rows, providerRow.domain)
}
