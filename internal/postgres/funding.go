package postgres

import (
	"context"
	"time"

	"github.com/google/uuid"

	"github.com/pbudget/pbudget/internal/funding"
	"github.com/pbudget/pbudget/internal/page"
)

type fundingRow struct {
	CouncilID             uuid.UUID `gorm:"primaryKey"`
	ID                    uuid.UUID `gorm:"primaryKey"`
	PersonID              uuid.UUID
	BudgetID              uuid.UUID
	Status                string
	RequestedAnnualPence  int64
	IndicativeAnnualPence int64
	AssessmentID          *uuid.UUID
	ApprovedAnnualPence   *int64
	Reason                string
	RequestedBy           string
	RequestedAt           time.Time
	Decision              *string
	DecisionReason        *string
	DecidedBy             *string
	DecidedAt             *time.Time
	Version               int
	UpdatedAt             time.Time `gorm:"autoUpdateTime:false"`
}

func (fundingRow) TableName() string { return "funding_requests" }

func fundingRowOf(r funding.Request) fundingRow {
	return fundingRow{
		CouncilID: r.CouncilID, ID: r.ID, PersonID: r.PersonID, BudgetID: r.BudgetID, Status: string(r.Status),
		RequestedAnnualPence: r.RequestedAnnual, IndicativeAnnualPence: r.IndicativeAnnual, ApprovedAnnualPence: r.ApprovedAnnual,
		AssessmentID: r.AssessmentID, Reason: r.Reason, RequestedBy: r.RequestedBy, RequestedAt: r.RequestedAt, Decision: (*string)(r.Decision),
		DecisionReason: r.DecisionReason, DecidedBy: r.DecidedBy, DecidedAt: r.DecidedAt, Version: r.Version, UpdatedAt: r.UpdatedAt,
	}
}

func (r fundingRow) domain() (funding.Request, error) {
	return funding.Request{
		CouncilID: r.CouncilID, ID: r.ID, PersonID: r.PersonID, BudgetID: r.BudgetID, Status: funding.Status(r.Status),
		RequestedAnnual: r.RequestedAnnualPence, IndicativeAnnual: r.IndicativeAnnualPence, ApprovedAnnual: r.ApprovedAnnualPence,
		AssessmentID: r.AssessmentID, Reason: r.Reason, RequestedBy: r.RequestedBy, RequestedAt: r.RequestedAt.UTC(), Decision: (*funding.Decision)(r.Decision),
		DecisionReason: r.DecisionReason, DecidedBy: r.DecidedBy, DecidedAt: utcPtr(r.DecidedAt), Version: r.Version,
		UpdatedAt: r.UpdatedAt.UTC(),
	}, nil
}

var fundingConstraints = map[string]error{"funding_requests_one_pending": funding.ErrPendingExists}

// FundingStore implements funding.Store.
type FundingStore struct{ db *DB }

// NewFundingStore returns a FundingStore.
func NewFundingStore(db *DB) *FundingStore { return &FundingStore{db: db} }

// Insert implements funding.Store.
func (s *FundingStore) Insert(ctx context.Context, r funding.Request) error {
	row := fundingRowOf(r)
	return translate(s.db.conn(ctx).Create(&row).Error, fundingConstraints)
}

// Get implements funding.Store.
func (s *FundingStore) Get(ctx context.Context, councilID, id uuid.UUID, forUpdate bool) (funding.Request, error) {
	r, err := takeOne[fundingRow](s.db.conn(ctx), forUpdate, "council_id = ? AND id = ?", uuidArg(councilID), uuidArg(id))
	if err != nil {
		return funding.Request{}, err
	}
	return r.domain()
}

// Update implements funding.Store.
func (s *FundingStore) Update(ctx context.Context, r funding.Request) error {
	row := fundingRowOf(r)
	res := s.db.conn(ctx).Model(&fundingRow{}).
		Where("council_id = ? AND id = ? AND version = ?", uuidArg(r.CouncilID), uuidArg(r.ID), r.Version-1).
		Select("status", "approved_annual_pence", "decision", "decision_reason", "decided_by", "decided_at", "version", "updated_at").
		Updates(&row)
	return versioned(res.Error, res.RowsAffected, fundingConstraints)
}

// List implements funding.Store.
func (s *FundingStore) List(ctx context.Context, councilID uuid.UUID, f funding.Filter, p page.Request) ([]funding.Request, error) {
	q := s.db.conn(ctx).Where("council_id = ?", uuidArg(councilID))
	if f.Status != "" {
		q = q.Where("status = ?", string(f.Status))
	}
	if f.PersonID != nil {
		q = q.Where("person_id = ?", uuidArg(*f.PersonID))
	}
	var rows []fundingRow
	if err := paginate(q, "requested_at", p).Find(&rows).Error; err != nil {
		return nil, translate(err, nil)
	}
	return mapRows(rows, fundingRow.domain)
}
