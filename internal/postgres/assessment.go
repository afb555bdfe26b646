package postgres

import (
	"context"
	"encoding/json"
	"time"

	"github.com/google/uuid"

	"github.com/pbudget/pbudget/internal/assessment"
	"github.com/pbudget/pbudget/internal/page"
	"github.com/pbudget/pbudget/internal/ras"
)

type assessmentRow struct {
	CouncilID                  uuid.UUID `gorm:"primaryKey"`
	ID                         uuid.UUID `gorm:"primaryKey"`
	PersonID                   uuid.UUID
	Type                       string
	Basis                      string
	ReassessesID               *uuid.UUID
	Status                     string
	Practitioner               string
	ImpairmentOrIllness        *bool
	SignificantWellbeingImpact *bool
	Outcomes                   []byte `gorm:"type:jsonb"`
	CaredForPersonID           *uuid.UUID
	ProvidesNecessaryCare      *bool
	CarerHealthAtRisk          *bool
	CarerOutcomes              []byte `gorm:"type:jsonb"`
	ChildUnlikelyToAchieve     *bool
	ChildImpaired              *bool
	ChildDisabled              *bool
	Notes                      string
	RASAnswers                 []byte `gorm:"column:ras_answers;type:jsonb"`
	Eligibility                []byte `gorm:"type:jsonb"`
	Eligible                   *bool
	BudgetID                   *uuid.UUID
	BudgetVersionID            *uuid.UUID
	NoBudgetReason             string
	CompletedAt                *time.Time
	CompletedBy                *string
	CancelledAt                *time.Time
	CancelReason               *string
	Version                    int
	CreatedAt                  time.Time `gorm:"autoCreateTime:false"`
	UpdatedAt                  time.Time `gorm:"autoUpdateTime:false"`
}

func (assessmentRow) TableName() string { return "assessments" }

func assessmentRowOf(a assessment.Assessment) (assessmentRow, error) {
	f := a.Facts
	r := assessmentRow{
		CouncilID: a.CouncilID, ID: a.ID, PersonID: a.PersonID, Type: string(a.Type), Basis: string(a.Basis),
		ReassessesID: a.ReassessesID, Status: string(a.Status), Practitioner: f.Practitioner,
		ImpairmentOrIllness: f.ImpairmentOrIllness, SignificantWellbeingImpact: f.SignificantWellbeingImpact,
		ProvidesNecessaryCare: f.ProvidesNecessaryCare, CarerHealthAtRisk: f.CarerHealthAtRisk,
		ChildUnlikelyToAchieve: f.ChildUnlikelyToAchieve, ChildImpaired: f.ChildImpaired, ChildDisabled: f.ChildDisabled,
		Notes: f.Notes, BudgetID: a.BudgetID, BudgetVersionID: a.BudgetVersionID, NoBudgetReason: a.NoBudgetReason,
		CompletedAt: a.CompletedAt, CompletedBy: a.CompletedBy, CancelledAt: a.CancelledAt, CancelReason: a.CancelReason,
		Version: a.Version, CreatedAt: a.CreatedAt, UpdatedAt: a.UpdatedAt,
	}
	if f.CaredForPersonID != nil {
		id, err := uuid.Parse(*f.CaredForPersonID)
		if err != nil {
			return assessmentRow{}, err
		}
		r.CaredForPersonID = &id
	}
	var err error
	if r.Outcomes, err = json.Marshal(nonNilSlice(f.Outcomes)); err != nil {
		return assessmentRow{}, err
	}
	if r.CarerOutcomes, err = json.Marshal(nonNilSlice(f.CarerOutcomes)); err != nil {
		return assessmentRow{}, err
	}
	if r.RASAnswers, err = json.Marshal(nonNilMap(f.RASAnswers)); err != nil {
		return assessmentRow{}, err
	}
	if a.Eligibility != nil {
		if r.Eligibility, err = json.Marshal(a.Eligibility); err != nil {
			return assessmentRow{}, err
		}
		r.Eligible = &a.Eligibility.Eligible
	}
	return r, nil
}

func (r assessmentRow) domain() (assessment.Assessment, error) {
	a := assessment.Assessment{
		CouncilID: r.CouncilID, ID: r.ID, PersonID: r.PersonID, Type: assessment.Type(r.Type), Basis: ras.AssessmentType(r.Basis),
		ReassessesID: r.ReassessesID, Status: assessment.Status(r.Status), BudgetID: r.BudgetID, BudgetVersionID: r.BudgetVersionID,
		NoBudgetReason: r.NoBudgetReason, CompletedAt: utcPtr(r.CompletedAt), CompletedBy: r.CompletedBy,
		CancelledAt: utcPtr(r.CancelledAt), CancelReason: r.CancelReason, Version: r.Version,
		CreatedAt: r.CreatedAt.UTC(), UpdatedAt: r.UpdatedAt.UTC(),
		Facts: assessment.Facts{
			Practitioner: r.Practitioner, ImpairmentOrIllness: r.ImpairmentOrIllness,
			SignificantWellbeingImpact: r.SignificantWellbeingImpact, ProvidesNecessaryCare: r.ProvidesNecessaryCare,
			CarerHealthAtRisk: r.CarerHealthAtRisk, ChildUnlikelyToAchieve: r.ChildUnlikelyToAchieve,
			ChildImpaired: r.ChildImpaired, ChildDisabled: r.ChildDisabled, Notes: r.Notes,
		},
	}
	if r.CaredForPersonID != nil {
		s := r.CaredForPersonID.String()
		a.Facts.CaredForPersonID = &s
	}
	for _, j := range []struct {
		raw []byte
		dst any
	}{{r.Outcomes, &a.Facts.Outcomes}, {r.CarerOutcomes, &a.Facts.CarerOutcomes}, {r.RASAnswers, &a.Facts.RASAnswers}} {
		if err := json.Unmarshal(j.raw, j.dst); err != nil {
			return assessment.Assessment{}, err
		}
	}
	if r.Eligibility != nil {
		a.Eligibility = &assessment.Result{}
		if err := json.Unmarshal(r.Eligibility, a.Eligibility); err != nil {
			return assessment.Assessment{}, err
		}
	}
	return a, nil
}

// AssessmentStore implements assessment.Store.
type AssessmentStore struct{ db *DB }

// NewAssessmentStore returns an AssessmentStore.
func NewAssessmentStore(db *DB) *AssessmentStore { return &AssessmentStore{db: db} }

// Insert implements assessment.Store.
func (s *AssessmentStore) Insert(ctx context.Context, a assessment.Assessment) error {
	row, err := assessmentRowOf(a)
	if err != nil {
		return err
	}
	return translate(s.db.conn(ctx).Create(&row).Error, nil)
}

// Get implements assessment.Store.
func (s *AssessmentStore) Get(ctx context.Context, councilID, id uuid.UUID, forUpdate bool) (assessment.Assessment, error) {
	r, err := takeOne[assessmentRow](s.db.conn(ctx), forUpdate, "council_id = ? AND id = ?", uuidArg(councilID), uuidArg(id))
	if err != nil {
		return assessment.Assessment{}, err
	}
	a, err := r.domain()
	return a, translate(err, nil)
}

// Update implements assessment.Store.
func (s *AssessmentStore) Update(ctx context.Context, a assessment.Assessment) error {
	row, err := assessmentRowOf(a)
	if err != nil {
		return err
	}
	res := s.db.conn(ctx).Model(&assessmentRow{}).
		Where("council_id = ? AND id = ? AND version = ?", uuidArg(a.CouncilID), uuidArg(a.ID), a.Version-1).
		Select("status", "practitioner", "impairment_or_illness", "significant_wellbeing_impact", "outcomes",
			"cared_for_person_id", "provides_necessary_care", "carer_health_at_risk", "carer_outcomes",
			"child_unlikely_to_achieve", "child_impaired", "child_disabled", "notes", "ras_answers", "eligibility",
			"eligible", "budget_id", "budget_version_id", "no_budget_reason", "completed_at", "completed_by",
			"cancelled_at", "cancel_reason", "version", "updated_at").
		Updates(&row)
	return versioned(res.Error, res.RowsAffected, nil)
}

// List implements assessment.Store.
func (s *AssessmentStore) List(ctx context.Context, councilID uuid.UUID, personID *uuid.UUID, f assessment.Filter, p page.Request) ([]assessment.Assessment, error) {
	q := s.db.conn(ctx).Where("council_id = ?", uuidArg(councilID))
	if personID != nil {
		q = q.Where("person_id = ?", uuidArg(*personID))
	}
	if f.Status != "" {
		q = q.Where("status = ?", string(f.Status))
	}
	if f.Practitioner != "" {
		q = q.Where("practitioner = ?", f.Practitioner)
	}
	if f.Type != "" {
		q = q.Where("type = ?", string(f.Type))
	}
	var rows []assessmentRow
	if err := paginate(q, "created_at", p).Find(&rows).Error; err != nil {
		return nil, translate(err, nil)
	}
	return mapRows(rows, assessmentRow.domain)
}

func nonNilSlice[T any](s []T) []T {
	if s == nil {
		return []T{}
	}
	return s
}
