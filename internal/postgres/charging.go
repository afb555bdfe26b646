package postgres

import (
	"context"
	"encoding/json"
	"errors"
	"time"

	"github.com/google/uuid"

	"github.com/pbudget/pbudget/internal/apperr"
	"github.com/pbudget/pbudget/internal/charging"
	"github.com/pbudget/pbudget/internal/date"
	"github.com/pbudget/pbudget/internal/page"
)

type rateTableRow struct {
	CouncilID                   uuid.UUID `gorm:"primaryKey"`
	ID                          uuid.UUID `gorm:"primaryKey"`
	Name                        string
	ValidFrom                   date.Date
	CapitalLowerPence           int64
	CapitalUpperPence           int64
	HomeCapitalLowerPence       *int64
	HomeCapitalUpperPence       *int64
	TariffStepPence             int64
	TariffPerStepPence          int64
	MIG                         []byte `gorm:"column:mig;type:jsonb"`
	DREFlatWeeklyPence          *int64 `gorm:"column:dre_flat_weekly_pence"`
	MinimumWeeklyChargePence    int64
	TaperPercent                int
	Rounding                    string
	PersonalExpensesWeeklyPence *int64
	Version                     int
	CreatedAt                   time.Time `gorm:"autoCreateTime:false"`
	UpdatedAt                   time.Time `gorm:"autoUpdateTime:false"`
}

func (rateTableRow) TableName() string { return "rate_tables" }

func rateTableRowOf(t charging.RateTable) (rateTableRow, error) {
	mig, err := json.Marshal(t.MIG)
	if err != nil {
		return rateTableRow{}, err
	}
	r := rateTableRow{
		CouncilID: t.CouncilID, ID: t.ID, Name: t.Name, ValidFrom: t.ValidFrom, CapitalLowerPence: t.Capital.Lower,
		CapitalUpperPence: t.Capital.Upper, TariffStepPence: t.TariffStep, TariffPerStepPence: t.TariffPerStep, MIG: mig,
		DREFlatWeeklyPence: t.DREFlat, MinimumWeeklyChargePence: t.MinimumCharge, TaperPercent: t.TaperPercent, Rounding: string(t.Rounding),
		PersonalExpensesWeeklyPence: t.PersonalExpenses, Version: t.Version, CreatedAt: t.CreatedAt, UpdatedAt: t.UpdatedAt,
	}
	if c := t.CareAtHomeCapital; c != nil {
		r.HomeCapitalLowerPence, r.HomeCapitalUpperPence = &c.Lower, &c.Upper
	}
	return r, nil
}

func (r rateTableRow) domain() (charging.RateTable, error) {
	t := charging.RateTable{
		CouncilID: r.CouncilID, ID: r.ID, Name: r.Name, ValidFrom: r.ValidFrom,
		Capital:    charging.CapitalLimits{Lower: r.CapitalLowerPence, Upper: r.CapitalUpperPence},
		TariffStep: r.TariffStepPence, TariffPerStep: r.TariffPerStepPence, DREFlat: r.DREFlatWeeklyPence,
		MinimumCharge: r.MinimumWeeklyChargePence, TaperPercent: r.TaperPercent, Rounding: charging.Rounding(r.Rounding),
		PersonalExpenses: r.PersonalExpensesWeeklyPence,
		Version:          r.Version, CreatedAt: r.CreatedAt.UTC(), UpdatedAt: r.UpdatedAt.UTC(),
	}
	if r.HomeCapitalLowerPence != nil && r.HomeCapitalUpperPence != nil {
		t.CareAtHomeCapital = &charging.CapitalLimits{Lower: *r.HomeCapitalLowerPence, Upper: *r.HomeCapitalUpperPence}
	}
	return t, json.Unmarshal(r.MIG, &t.MIG)
}

type financialRow struct {
	CouncilID                      uuid.UUID `gorm:"primaryKey"`
	ID                             uuid.UUID `gorm:"primaryKey"`
	PersonID                       uuid.UUID
	Kind                           string
	Status                         string
	EffectiveDate                  date.Date
	Household                      *string
	PensionCreditAgeReached        *bool // what the completion used
	PensionCreditAgeOverride       *bool
	PensionCreditAgeOverrideReason *string
	DisabilityPremium              bool
	EnhancedDisabilityPremium      bool
	CarerPremium                   bool
	DependentChildren              int
	Income                         []byte `gorm:"type:jsonb"`
	Capital                        []byte `gorm:"type:jsonb"`
	HousingCostsWeeklyPence        int64
	DREMethod                      string `gorm:"column:dre_method"`
	DRE                            []byte `gorm:"column:dre;type:jsonb"`
	OtherAllowances                []byte `gorm:"type:jsonb"`
	LightTouchReason               string
	Notes                          string
	Result                         []byte `gorm:"type:jsonb"`
	RateTableID                    *uuid.UUID
	RateTableValidFrom             *date.Date
	AssessedWeeklyChargePence      *int64
	FullCost                       *bool
	SupersedesID                   *uuid.UUID
	ChangeReason                   *string
	CompletedAt                    *time.Time
	CompletedBy                    *string
	Version                        int
	CreatedAt                      time.Time `gorm:"autoCreateTime:false"`
	UpdatedAt                      time.Time `gorm:"autoUpdateTime:false"`
}

func (financialRow) TableName() string { return "financial_assessments" }

func financialRowOf(a charging.Assessment) (financialRow, error) {
	f := a.Facts
	r := financialRow{
		CouncilID: a.CouncilID, ID: a.ID, PersonID: a.PersonID, Kind: string(a.Kind), Status: string(a.Status),
		EffectiveDate: f.EffectiveDate, Household: nonEmpty(string(f.Household)),
		PensionCreditAgeOverride: f.PensionAgeOverride, PensionCreditAgeOverrideReason: nonEmpty(f.PensionAgeOverrideReason),
		DisabilityPremium: f.DisabilityPremium, EnhancedDisabilityPremium: f.EnhancedDisabilityPremium, CarerPremium: f.CarerPremium,
		DependentChildren: f.DependentChildren, HousingCostsWeeklyPence: f.HousingCosts, DREMethod: f.DREMethod,
		LightTouchReason: f.LightTouchReason, Notes: f.Notes, SupersedesID: a.SupersedesID, ChangeReason: nonEmpty(a.ChangeReason),
		CompletedAt: a.CompletedAt, CompletedBy: a.CompletedBy, Version: a.Version, CreatedAt: a.CreatedAt, UpdatedAt: a.UpdatedAt,
	}
	if r.DREMethod == "" {
		r.DREMethod = "individual"
	}
	var err error
	for _, j := range []struct {
		dst *[]byte
		v   any
	}{{&r.Income, nonNilSlice(f.Income)}, {&r.Capital, nonNilSlice(f.Capital)}, {&r.DRE, nonNilSlice(f.DRE)}, {&r.OtherAllowances, nonNilSlice(f.OtherAllowances)}} {
		if *j.dst, err = json.Marshal(j.v); err != nil {
			return financialRow{}, err
		}
	}
	if res := a.Result; res != nil {
		if r.Result, err = json.Marshal(res); err != nil {
			return financialRow{}, err
		}
		r.RateTableID, r.AssessedWeeklyChargePence, r.FullCost = &res.RateTableID, &res.Assessed, &res.FullCost
		if pa := res.PensionAge; pa != nil {
			r.PensionCreditAgeReached = &pa.Reached
		}
		if a.RateTable != nil {
			r.RateTableValidFrom = &a.RateTable.ValidFrom
		}
	}
	return r, nil
}

func (r financialRow) domain() (charging.Assessment, error) {
	a := charging.Assessment{
		CouncilID: r.CouncilID, ID: r.ID, PersonID: r.PersonID, Kind: charging.Kind(r.Kind), Status: charging.Status(r.Status),
		SupersedesID: r.SupersedesID, ChangeReason: deref(r.ChangeReason), CompletedAt: utcPtr(r.CompletedAt), CompletedBy: r.CompletedBy,
		Version: r.Version, CreatedAt: r.CreatedAt.UTC(), UpdatedAt: r.UpdatedAt.UTC(),
		Facts: charging.Facts{
			EffectiveDate: r.EffectiveDate, Household: charging.Household(deref(r.Household)),
			PensionAgeOverride: r.PensionCreditAgeOverride, PensionAgeOverrideReason: deref(r.PensionCreditAgeOverrideReason),
			DisabilityPremium: r.DisabilityPremium, EnhancedDisabilityPremium: r.EnhancedDisabilityPremium, CarerPremium: r.CarerPremium,
			DependentChildren: r.DependentChildren, HousingCosts: r.HousingCostsWeeklyPence, DREMethod: r.DREMethod,
			LightTouchReason: r.LightTouchReason, Notes: r.Notes,
		},
	}
	for _, j := range []struct {
		raw []byte
		dst any
	}{{r.Income, &a.Facts.Income}, {r.Capital, &a.Facts.Capital}, {r.DRE, &a.Facts.DRE}, {r.OtherAllowances, &a.Facts.OtherAllowances}} {
		if err := json.Unmarshal(j.raw, j.dst); err != nil {
			return charging.Assessment{}, err
		}
	}
	if r.Result != nil {
		a.Result = &charging.Result{}
		if err := json.Unmarshal(r.Result, a.Result); err != nil {
			return charging.Assessment{}, err
		}
	}
	return a, nil
}

type jobRow struct {
	CouncilID   uuid.UUID `gorm:"primaryKey"`
	ID          uuid.UUID `gorm:"primaryKey"`
	RateTableID uuid.UUID
	Status      string
	Total       int
	Processed   int
	Changed     int
	RequestedBy string
	RequestedAt time.Time
	StartedAt   *time.Time
	FinishedAt  *time.Time
	Error       *string
	ClaimToken  *uuid.UUID
	LeaseUntil  *time.Time
	StartsOn    date.Date `gorm:"->"` // the table's valid_from, read with the job
}

func (jobRow) TableName() string { return "uprating_jobs" }

func (r jobRow) domain() (charging.Job, error) {
	return charging.Job{
		CouncilID: r.CouncilID, ID: r.ID, RateTableID: r.RateTableID, Status: charging.JobStatus(r.Status), Total: r.Total,
		Processed: r.Processed, Changed: r.Changed, RequestedBy: r.RequestedBy, RequestedAt: r.RequestedAt.UTC(),
		StartedAt: utcPtr(r.StartedAt), FinishedAt: utcPtr(r.FinishedAt), Error: r.Error, ClaimToken: r.ClaimToken,
		StartsOn: r.StartsOn,
	}, nil
}

type changeRow struct {
	CouncilID                 uuid.UUID `gorm:"primaryKey"`
	ID                        uuid.UUID `gorm:"primaryKey"`
	JobID                     uuid.UUID
	PersonID                  uuid.UUID
	PreviousAssessmentID      uuid.UUID
	NewAssessmentID           *uuid.UUID
	PreviousWeeklyChargePence int64
	NewWeeklyChargePence      *int64
	BudgetID                  *uuid.UUID
	Error                     *string
	CreatedAt                 time.Time `gorm:"autoCreateTime:false"`
}

func (changeRow) TableName() string { return "uprating_changes" }

func (r changeRow) domain() (charging.Change, error) {
	return charging.Change{
		CouncilID: r.CouncilID, ID: r.ID, JobID: r.JobID, PersonID: r.PersonID, PreviousAssessmentID: r.PreviousAssessmentID,
		NewAssessmentID: r.NewAssessmentID, PreviousWeekly: r.PreviousWeeklyChargePence, NewWeekly: r.NewWeeklyChargePence,
		BudgetID: r.BudgetID, Error: r.Error, CreatedAt: r.CreatedAt.UTC(),
	}, nil
}

// ChargingStore implements charging.Store.
type ChargingStore struct{ db *DB }

// NewChargingStore returns a ChargingStore.
func NewChargingStore(db *DB) *ChargingStore { return &ChargingStore{db: db} }

var chargingConstraints = map[string]error{
	"rate_tables_council_id_valid_from_key": charging.ErrTableDate,
	"uprating_jobs_one_open":                charging.ErrJobOpen,
}

// InsertTable implements charging.Store.
func (s *ChargingStore) InsertTable(ctx context.Context, t charging.RateTable) error {
	row, err := rateTableRowOf(t)
	if err != nil {
		return err
	}
	return translate(s.db.conn(ctx).Create(&row).Error, chargingConstraints)
}

// GetTable implements charging.Store.
func (s *ChargingStore) GetTable(ctx context.Context, councilID, id uuid.UUID, forUpdate bool) (charging.RateTable, error) {
	r, err := takeOne[rateTableRow](s.db.conn(ctx), forUpdate, "council_id = ? AND id = ?", uuidArg(councilID), uuidArg(id))
	if err != nil {
		return charging.RateTable{}, err
	}
	t, err := r.domain()
	return t, translate(err, nil)
}

// UpdateTable implements charging.Store.
func (s *ChargingStore) UpdateTable(ctx context.Context, t charging.RateTable) error {
	row, err := rateTableRowOf(t)
	if err != nil {
		return err
	}
	res := s.db.conn(ctx).Model(&rateTableRow{}).
		Where("council_id = ? AND id = ? AND version = ?", uuidArg(t.CouncilID), uuidArg(t.ID), t.Version-1).
		Select("*").Omit("council_id", "id", "created_at").Updates(&row)
	return versioned(res.Error, res.RowsAffected, chargingConstraints)
}

// ListTables implements charging.Store.
func (s *ChargingStore) ListTables(ctx context.Context, councilID uuid.UUID, inForceOn *date.Date, p page.Request) ([]charging.RateTable, error) {
	var rows []rateTableRow
	if inForceOn != nil {
		t, err := s.TableInForce(ctx, councilID, *inForceOn)
		if errors.Is(err, apperr.ErrNotFound) {
			return nil, nil
		}
		if err != nil {
			return nil, err
		}
		return []charging.RateTable{t}, nil
	}
	q := s.db.conn(ctx).Where("council_id = ?", uuidArg(councilID))
	if p.After != nil {
		q = q.Where("(valid_from, id) > (?, ?)", date.FromTime(p.After.Time), p.After.ID)
	}
	if err := q.Order("valid_from, id").Limit(p.Size + 1).Find(&rows).Error; err != nil {
		return nil, translate(err, nil)
	}
	return mapRows(rows, rateTableRow.domain)
}

// TableInForce implements charging.Store.
func (s *ChargingStore) TableInForce(ctx context.Context, councilID uuid.UUID, on date.Date) (charging.RateTable, error) {
	var r rateTableRow
	err := s.db.conn(ctx).Where("council_id = ? AND valid_from <= ?", uuidArg(councilID), on).
		Order("valid_from DESC").Take(&r).Error
	if err != nil {
		return charging.RateTable{}, translate(err, nil)
	}
	t, err := r.domain()
	return t, translate(err, nil)
}

var financialConstraints = map[string]error{
	"financial_assessments_current_key": apperr.New(apperr.Conflict, "financial-assessment-current-exists",
		"another financial assessment of this person was completed at the same time; retry"),
}

// InsertAssessment implements charging.Store.
func (s *ChargingStore) InsertAssessment(ctx context.Context, a charging.Assessment) error {
	row, err := financialRowOf(a)
	if err != nil {
		return err
	}
	return translate(s.db.conn(ctx).Create(&row).Error, financialConstraints)
}

// GetAssessment implements charging.Store.
func (s *ChargingStore) GetAssessment(ctx context.Context, councilID, id uuid.UUID, forUpdate bool) (charging.Assessment, error) {
	return s.oneAssessment(ctx, forUpdate, "council_id = ? AND id = ?", uuidArg(councilID), uuidArg(id))
}

// CurrentAssessment implements charging.Store.
func (s *ChargingStore) CurrentAssessment(ctx context.Context, councilID, personID uuid.UUID, forUpdate bool) (charging.Assessment, error) {
	return s.oneAssessment(ctx, forUpdate, "council_id = ? AND person_id = ? AND status = 'completed'", uuidArg(councilID), uuidArg(personID))
}

func (s *ChargingStore) oneAssessment(ctx context.Context, forUpdate bool, where string, args ...any) (charging.Assessment, error) {
	r, err := takeOne[financialRow](s.db.conn(ctx), forUpdate, where, args...)
	if err != nil {
		return charging.Assessment{}, err
	}
	a, err := r.domain()
	return a, translate(err, nil)
}

// UpdateAssessment implements charging.Store.
func (s *ChargingStore) UpdateAssessment(ctx context.Context, a charging.Assessment) error {
	row, err := financialRowOf(a)
	if err != nil {
		return err
	}
	q := s.db.conn(ctx).Model(&financialRow{}).
		Where("council_id = ? AND id = ? AND version = ?", uuidArg(a.CouncilID), uuidArg(a.ID), a.Version-1)
	cols := []string{"status", "effective_date", "household", "pension_credit_age_reached", "pension_credit_age_override",
		"pension_credit_age_override_reason", "disability_premium",
		"enhanced_disability_premium", "carer_premium", "dependent_children", "income", "capital",
		"housing_costs_weekly_pence", "dre_method", "dre", "other_allowances", "light_touch_reason", "notes", "result",
		"rate_table_id", "assessed_weekly_charge_pence", "full_cost", "supersedes_id", "change_reason", "completed_at",
		"completed_by", "version", "updated_at"}
	if a.RateTable != nil {
		cols = append(cols, "rate_table_valid_from")
	}
	res := q.Select(cols).Updates(&row)
	return versioned(res.Error, res.RowsAffected, financialConstraints)
}

// ListAssessments implements charging.Store.
func (s *ChargingStore) ListAssessments(ctx context.Context, councilID, personID uuid.UUID, p page.Request) ([]charging.Assessment, error) {
	var rows []financialRow
	q := s.db.conn(ctx).Where("council_id = ? AND person_id = ?", uuidArg(councilID), uuidArg(personID))
	if err := paginate(q, "created_at", p).Find(&rows).Error; err != nil {
		return nil, translate(err, nil)
	}
	return mapRows(rows, financialRow.domain)
}

// InsertJob implements charging.Store.
func (s *ChargingStore) InsertJob(ctx context.Context, j charging.Job) error {
	row := jobRow{CouncilID: j.CouncilID, ID: j.ID, RateTableID: j.RateTableID, Status: string(j.Status),
		RequestedBy: j.RequestedBy, RequestedAt: j.RequestedAt}
	return translate(s.db.conn(ctx).Create(&row).Error, chargingConstraints)
}

// GetJob implements charging.Store.
func (s *ChargingStore) GetJob(ctx context.Context, councilID, id uuid.UUID) (charging.Job, error) {
	var r jobRow
	err := s.db.conn(ctx).Select(`uprating_jobs.*, (SELECT valid_from FROM rate_tables t
			WHERE t.council_id = uprating_jobs.council_id AND t.id = uprating_jobs.rate_table_id) AS starts_on`).
		Where("council_id = ? AND id = ?", uuidArg(councilID), uuidArg(id)).Take(&r).Error
	if err != nil {
		return charging.Job{}, translate(err, nil)
	}
	return r.domain()
}

// ClaimJob implements charging.Store: SKIP LOCKED lets instances claim different jobs at once.
func (s *ChargingStore) ClaimJob(ctx context.Context, now time.Time, today date.Date, lease time.Duration) (*charging.Job, error) {
	token := uuid.New()
	var rows []jobRow
	err := s.db.conn(ctx).Raw(`UPDATE uprating_jobs SET status = 'running', claim_token = ?, lease_until = ?
		WHERE (council_id, id) = (
			SELECT j.council_id, j.id FROM uprating_jobs j
			  JOIN rate_tables t ON t.council_id = j.council_id AND t.id = j.rate_table_id
			 WHERE (j.status = 'queued' AND t.valid_from <= ?) OR (j.status = 'running' AND j.lease_until < ?)
			 ORDER BY j.requested_at LIMIT 1 FOR UPDATE OF j SKIP LOCKED)
		RETURNING *, (SELECT valid_from FROM rate_tables t WHERE t.council_id = uprating_jobs.council_id
			AND t.id = uprating_jobs.rate_table_id) AS starts_on`, token, now.Add(lease), today, now).Scan(&rows).Error
	if err != nil || len(rows) == 0 {
		return nil, translate(err, nil)
	}
	j, err := rows[0].domain()
	return &j, err
}

// SaveJob implements charging.Store; a lease of 0 releases the claim.
func (s *ChargingStore) SaveJob(ctx context.Context, j charging.Job, lease time.Duration) error {
	updates := map[string]any{
		"status": string(j.Status), "total": j.Total, "processed": j.Processed, "changed": j.Changed,
		"started_at": j.StartedAt, "finished_at": j.FinishedAt, "error": j.Error,
	}
	if lease > 0 {
		updates["lease_until"] = time.Now().Add(lease)
	} else {
		updates["lease_until"], updates["claim_token"] = nil, nil
	}
	res := s.db.conn(ctx).Model(&jobRow{}).
		Where("council_id = ? AND id = ? AND claim_token = ?", uuidArg(j.CouncilID), uuidArg(j.ID), j.ClaimToken).Updates(updates)
	if res.Error != nil {
		return translate(res.Error, nil)
	}
	if res.RowsAffected == 0 {
		return apperr.New(apperr.Conflict, "uprating-claim-lost", "another instance has taken over the job")
	}
	return nil
}

const affectedWhere = `council_id = ? AND status = 'completed' AND kind = 'full' AND rate_table_valid_from < ?
	AND NOT EXISTS (SELECT 1 FROM uprating_changes c WHERE c.council_id = financial_assessments.council_id
		AND c.job_id = ? AND c.previous_assessment_id = financial_assessments.id)`

// Affected implements charging.Store.
func (s *ChargingStore) Affected(ctx context.Context, councilID uuid.UUID, validFrom date.Date, jobID uuid.UUID, limit int) ([]uuid.UUID, error) {
	var ids []uuid.UUID
	err := s.db.conn(ctx).Model(&financialRow{}).Where(affectedWhere, uuidArg(councilID), validFrom, uuidArg(jobID)).
		Order("id").Limit(limit).Pluck("id", &ids).Error
	return ids, translate(err, nil)
}

// CountAffected implements charging.Store.
func (s *ChargingStore) CountAffected(ctx context.Context, councilID uuid.UUID, validFrom date.Date, jobID uuid.UUID) (int, error) {
	var n int64
	err := s.db.conn(ctx).Model(&financialRow{}).Where(affectedWhere, uuidArg(councilID), validFrom, uuidArg(jobID)).Count(&n).Error
	return int(n), translate(err, nil)
}

// InsertChange implements charging.Store.
func (s *ChargingStore) InsertChange(ctx context.Context, c charging.Change) error {
	row := changeRow{CouncilID: c.CouncilID, ID: c.ID, JobID: c.JobID, PersonID: c.PersonID, PreviousAssessmentID: c.PreviousAssessmentID,
		NewAssessmentID: c.NewAssessmentID, PreviousWeeklyChargePence: c.PreviousWeekly, NewWeeklyChargePence: c.NewWeekly,
		BudgetID: c.BudgetID, Error: c.Error, CreatedAt: c.CreatedAt}
	return translate(s.db.conn(ctx).Create(&row).Error, nil)
}

// ListChanges implements charging.Store.
func (s *ChargingStore) ListChanges(ctx context.Context, councilID, jobID uuid.UUID, changedOnly bool, p page.Request) ([]charging.Change, error) {
	q := s.db.conn(ctx).Where("council_id = ? AND job_id = ?", uuidArg(councilID), uuidArg(jobID))
	if changedOnly {
		q = q.Where("new_weekly_charge_pence IS DISTINCT FROM previous_weekly_charge_pence")
	}
	var rows []changeRow
	if err := paginate(q, "created_at", p).Find(&rows).Error; err != nil {
		return nil, translate(err, nil)
	}
	return mapRows(rows, changeRow.domain)
}
