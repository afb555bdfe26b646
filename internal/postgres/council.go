package postgres

import (
	"context"
	"time"

	"github.com/google/uuid"
	"gorm.io/gorm/clause"

	"github.com/pbudget/pbudget/internal/council"
)

type councilRow struct {
	ID            uuid.UUID
	Code          string
	Name          string
	CreatedAt     time.Time
	RetiredAt     *time.Time
	RetiredReason *string
}

func (councilRow) TableName() string { return "councils" }

func (r councilRow) domain() council.Council {
	c := council.Council{ID: r.ID, Code: r.Code, Name: r.Name, CreatedAt: r.CreatedAt, RetiredAt: r.RetiredAt}
	if r.RetiredReason != nil {
		c.RetiredReason = *r.RetiredReason
	}
	return c
}

// CouncilStore implements council.Store.
type CouncilStore struct{ db *DB }

// NewCouncilStore returns a CouncilStore.
func NewCouncilStore(db *DB) *CouncilStore { return &CouncilStore{db: db} }

// CouncilByCode implements council.Store.
func (s *CouncilStore) CouncilByCode(ctx context.Context, code string, forUpdate bool) (council.Council, error) {
	r, err := takeOne[councilRow](s.db.conn(ctx), forUpdate, "code = ?", code)
	return r.domain(), err
}

// EnsureCouncil implements council.Store.
func (s *CouncilStore) EnsureCouncil(ctx context.Context, c council.Council) (council.Council, error) {
	row := councilRow{ID: c.ID, Code: c.Code, Name: c.Name}
	if err := s.db.conn(ctx).Clauses(clause.OnConflict{DoNothing: true}).Omit("created_at", "retired_at", "retired_reason").Create(&row).Error; err != nil {
		return council.Council{}, translate(err, nil)
	}
	return s.CouncilByCode(ctx, c.Code, false)
}

// ListCouncils implements council.Store.
func (s *CouncilStore) ListCouncils(ctx context.Context) ([]council.Council, error) {
	var rows []councilRow
	if err := s.db.conn(ctx).Order("code").Find(&rows).Error; err != nil {
		return nil, translate(err, nil)
	}
	out := make([]council.Council, len(rows))
	for i, r := range rows {
		out[i] = r.domain()
	}
	return out, nil
}

// RetireCouncil implements council.Store.
func (s *CouncilStore) RetireCouncil(ctx context.Context, id uuid.UUID, at time.Time, reason string) error {
	err := s.db.conn(ctx).Model(&councilRow{}).Where("id = ? AND retired_at IS NULL", uuidArg(id)).
		Updates(map[string]any{"retired_at": at, "retired_reason": reason}).Error
	return translate(err, nil)
}
