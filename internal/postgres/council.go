package postgres

import (
	"context"
	"time"

	"github.com/google/uuid"
	"gorm.io/gorm/clause"

	"github.com/pbudget/pbudget/internal/council"
)

type councilRow struct {
	ID        uuid.UUID
	Code      string
	Name      string
	CreatedAt time.Time
}

func (councilRow) TableName() string { return "councils" }

func (r councilRow) domain() council.Council {
	return council.Council{ID: r.ID, Code: r.Code, Name: r.Name, CreatedAt: r.CreatedAt}
}

// CouncilStore implements council.Store.
type CouncilStore struct{ db *DB }

// NewCouncilStore returns a CouncilStore.
func NewCouncilStore(db *DB) *CouncilStore { return &CouncilStore{db: db} }

// CouncilByCode implements council.Store.
func (s *CouncilStore) CouncilByCode(ctx context.Context, code string) (council.Council, error) {
	var r councilRow
	err := s.db.conn(ctx).Where("code = ?", code).Take(&r).Error
	return r.domain(), translate(err, nil)
}

// EnsureCouncil implements council.Store.
func (s *CouncilStore) EnsureCouncil(ctx context.Context, c council.Council) (council.Council, error) {
	row := councilRow{ID: c.ID, Code: c.Code, Name: c.Name}
	if err := s.db.conn(ctx).Clauses(clause.OnConflict{DoNothing: true}).Omit("created_at").Create(&row).Error; err != nil {
		return council.Council{}, translate(err, nil)
	}
	return s.CouncilByCode(ctx, c.Code)
}
