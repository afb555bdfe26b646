package postgres

import (
	"context"
	"encoding/json"
	"time"

	"github.com/google/uuid"

	"github.com/pbudget/pbudget/internal/apperr"
	"github.com/pbudget/pbudget/internal/page"
	"github.com/pbudget/pbudget/internal/ras"
)

type rasRow struct {
	CouncilID      uuid.UUID `gorm:"primaryKey"`
	ID             uuid.UUID `gorm:"primaryKey"`
	AssessmentType string
	Number         int
	Name           string
	Status         string
	Questionnaire  []byte `gorm:"type:jsonb"`
	Model          []byte `gorm:"type:jsonb"`
	ActivatedAt    *time.Time
	RetiredAt      *time.Time
	Version        int
	CreatedAt      time.Time
	UpdatedAt      time.Time
}

func (rasRow) TableName() string { return "ras_versions" }

func rasRowOf(v ras.Version) (rasRow, error) {
	q, err := json.Marshal(v.Questionnaire)
	if err != nil {
		return rasRow{}, err
	}
	m, err := json.Marshal(v.Model)
	if err != nil {
		return rasRow{}, err
	}
	return rasRow{
		CouncilID: v.CouncilID, ID: v.ID, AssessmentType: string(v.AssessmentType), Number: v.Number, Name: v.Name,
		Status: string(v.Status), Questionnaire: q, Model: m, ActivatedAt: v.ActivatedAt, RetiredAt: v.RetiredAt,
		Version: v.Version, CreatedAt: v.CreatedAt, UpdatedAt: v.UpdatedAt,
	}, nil
}

func (r rasRow) domain() (ras.Version, error) {
	v := ras.Version{
		CouncilID: r.CouncilID, ID: r.ID, AssessmentType: ras.AssessmentType(r.AssessmentType), Number: r.Number,
		Name: r.Name, Status: ras.Status(r.Status), ActivatedAt: utcPtr(r.ActivatedAt), RetiredAt: utcPtr(r.RetiredAt),
		Version: r.Version, CreatedAt: r.CreatedAt.UTC(), UpdatedAt: r.UpdatedAt.UTC(),
	}
	if err := json.Unmarshal(r.Questionnaire, &v.Questionnaire); err != nil {
		return ras.Version{}, err
	}
	return v, json.Unmarshal(r.Model, &v.Model)
}

// RASStore implements ras.Store.
type RASStore struct{ db *DB }

// NewRASStore returns a RASStore.
func NewRASStore(db *DB) *RASStore { return &RASStore{db: db} }

// Lock implements ras.Store with a transaction-scoped advisory lock per council and type.
func (s *RASStore) Lock(ctx context.Context, councilID uuid.UUID, t ras.AssessmentType) error {
	return translate(s.db.conn(ctx).Exec(`SELECT pg_advisory_xact_lock(hashtextextended(?, 0))`,
		"ras:"+councilID.String()+":"+string(t)).Error, nil)
}

// NextNumber implements ras.Store.
func (s *RASStore) NextNumber(ctx context.Context, councilID uuid.UUID, t ras.AssessmentType) (int, error) {
	var n int
	err := s.db.conn(ctx).Raw(`SELECT coalesce(max(number), 0) + 1 FROM ras_versions WHERE council_id = ? AND assessment_type = ?`,
		uuidArg(councilID), string(t)).Scan(&n).Error
	return n, translate(err, nil)
}

// Insert implements ras.Store.
func (s *RASStore) Insert(ctx context.Context, v ras.Version) error {
	row, err := rasRowOf(v)
	if err != nil {
		return err
	}
	return translate(s.db.conn(ctx).Create(&row).Error, nil)
}

// Get implements ras.Store.
func (s *RASStore) Get(ctx context.Context, councilID, id uuid.UUID, forUpdate bool) (ras.Version, error) {
	return s.one(ctx, forUpdate, "council_id = ? AND id = ?", uuidArg(councilID), uuidArg(id))
}

// Active implements ras.Store.
func (s *RASStore) Active(ctx context.Context, councilID uuid.UUID, t ras.AssessmentType, forUpdate bool) (ras.Version, error) {
	return s.one(ctx, forUpdate, "council_id = ? AND assessment_type = ? AND status = 'active'", uuidArg(councilID), string(t))
}

func (s *RASStore) one(ctx context.Context, forUpdate bool, where string, args ...any) (ras.Version, error) {
	r, err := takeOne[rasRow](s.db.conn(ctx), forUpdate, where, args...)
	if err != nil {
		return ras.Version{}, err
	}
	v, err := r.domain()
	return v, translate(err, nil)
}

// Update implements ras.Store: it writes v if the stored version is v.Version − 1.
func (s *RASStore) Update(ctx context.Context, v ras.Version) error {
	row, err := rasRowOf(v)
	if err != nil {
		return err
	}
	res := s.db.conn(ctx).Model(&rasRow{}).
		Where("council_id = ? AND id = ? AND version = ?", uuidArg(v.CouncilID), uuidArg(v.ID), v.Version-1).
		Select("name", "status", "questionnaire", "model", "activated_at", "retired_at", "version", "updated_at").
		Updates(&row)
	return versioned(res.Error, res.RowsAffected, rasConstraints)
}

var rasConstraints = map[string]error{
	"ras_versions_one_active": apperr.New(apperr.Conflict, "ras-version-active-exists", "another version of this type is already active"),
}

// List implements ras.Store.
func (s *RASStore) List(ctx context.Context, councilID uuid.UUID, f ras.Filter, p page.Request) ([]ras.Version, error) {
	q := s.db.conn(ctx).Where("council_id = ?", uuidArg(councilID))
	if f.AssessmentType != "" {
		q = q.Where("assessment_type = ?", string(f.AssessmentType))
	}
	if f.Status != "" {
		q = q.Where("status = ?", string(f.Status))
	}
	var rows []rasRow
	if err := paginate(q, "created_at", p).Find(&rows).Error; err != nil {
		return nil, translate(err, nil)
	}
	return mapRows(rows, rasRow.domain)
}

// versioned turns the result of an optimistic update into an error: none changed means the
// version moved on.
func versioned(err error, affected int64, byConstraint map[string]error) error {
	if err != nil {
		return translate(err, byConstraint)
	}
	if affected == 0 {
		return apperr.ErrVersionMismatch
	}
	return nil
}

// mapRows converts rows to domain values, stopping at the first error.
func mapRows[R, D any](rows []R, conv func(R) (D, error)) ([]D, error) {
	out := make([]D, len(rows))
	for i, r := range rows {
		d, err := conv(r)
		if err != nil {
			return nil, translate(err, nil)
		}
		out[i] = d
	}
	return out, nil
}

func utcPtr(t *time.Time) *time.Time {
	if t == nil {
		return nil
	}
	u := t.UTC()
	return &u
}
