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
	StartsOn    date.Date `gorm:"->"` // the table's valid_from, read with the job
}

func (jobRow) TableName() string { return "uprating_jobs" }

func (r jobRow) domain() (charging.Job, error) {
	return charging.Job{
		CouncilID: r.CouncilID, ID: r.ID, RateTableID: r.RateTableID, Status: charging.JobStatus(r.Status), Total: r.Total,
		Processed: r.Processed, Changed: r.Changed, RequestedBy: r.RequestedBy, RequestedAt: r.RequestedAt.UTC(),
		StartedAt: utcPtr(r.StartedAt), FinishedAt: utcPtr(r.FinishedAt), Error: r.Error, StartsOn: r.StartsOn,
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

// StartJob implements charging.UpratingStore.
func (s *ChargingStore) StartJob(ctx context.Context, councilID, id uuid.UUID, at time.Time, remaining int) error {
	return s.updateJob(ctx, councilID, id, `status = 'running', started_at = coalesce(started_at, ?), total = processed + ?`, at, remaining)
}

// AddProgress implements charging.UpratingStore. Assessments completed meanwhile under an older
// table join the job (processed may pass the first count); superseded ones leave it.
func (s *ChargingStore) AddProgress(ctx context.Context, councilID, id uuid.UUID, p charging.Progress) error {
	return s.updateJob(ctx, councilID, id, `processed = processed + ?, changed = changed + ?,
		total = greatest(total - ?, processed + ?)`, p.Processed, p.Changed, p.Skipped, p.Processed)
}

// FinishJob implements charging.UpratingStore.
func (s *ChargingStore) FinishJob(ctx context.Context, councilID, id uuid.UUID, status charging.JobStatus, at time.Time, message *string) error {
	set := `status = ?, finished_at = ?, error = ?`
	if status == charging.Done {
		set += `, total = processed` // nothing is left
	}
	return s.updateJob(ctx, councilID, id, set, string(status), at, message)
}

func (s *ChargingStore) updateJob(ctx context.Context, councilID, id uuid.UUID, set string, args ...any) error {
	args = append(args, uuidArg(councilID), uuidArg(id))
	res := s.db.conn(ctx).Exec(`UPDATE uprating_jobs SET `+set+` WHERE council_id = ? AND id = ?`, args...)
	if res.Error != nil {
		return translate(res.Error, nil)
	}
	if res.RowsAffected == 0 {
		return apperr.ErrNotFound
	}
	return nil
}

// candidatesFrom is the job's candidates: current full assessments under an older table (the
// partial index financial_assessments_uprating_idx, in its order), less those the job reported it
// could not recalculate (those it recalculated are superseded, so no longer current). The few
// error lines are read once a query, on their own partial index, and hashed; the subquery is not
// correlated so that it can be. An anti-join with all the job's report lines was planned as a
// nested loop over them for every candidate: time growing with the square of the job's progress.
const candidatesFrom = `FROM financial_assessments fa
	WHERE fa.council_id = ? AND fa.status = 'completed' AND fa.kind = 'full' AND fa.rate_table_valid_from < ?
	  AND fa.id NOT IN (SELECT c.previous_assessment_id FROM uprating_changes c
		WHERE c.council_id = ? AND c.job_id = ? AND c.error IS NOT NULL)`

// Candidates implements charging.UpratingStore: a keyset walk on (rate_table_valid_from, id), so a
// batch never reads the rows that earlier batches superseded.
func (s *ChargingStore) Candidates(ctx context.Context, councilID uuid.UUID, validFrom date.Date, jobID uuid.UUID, after *charging.Candidate, limit int) ([]charging.Candidate, error) {
	query := `SELECT fa.id, fa.person_id, fa.rate_table_valid_from ` + candidatesFrom
	args := []any{uuidArg(councilID), validFrom, uuidArg(councilID), uuidArg(jobID)}
	if after != nil {
		query += ` AND (fa.rate_table_valid_from, fa.id) > (?, ?)`
		args = append(args, after.TableValidFrom, uuidArg(after.ID))
	}
	query += ` ORDER BY fa.rate_table_valid_from, fa.id LIMIT ?`
	var rows []struct {
		ID                 uuid.UUID
		PersonID           uuid.UUID
		RateTableValidFrom date.Date
	}
	if err := s.db.conn(ctx).Raw(query, append(args, limit)...).Scan(&rows).Error; err != nil {
		return nil, translate(err, nil)
	}
	out := make([]charging.Candidate, len(rows))
	for i, r := range rows {
		out[i] = charging.Candidate{ID: r.ID, PersonID: r.PersonID, TableValidFrom: r.RateTableValidFrom}
	}
	return out, nil
}

// CountCandidates implements charging.UpratingStore.
func (s *ChargingStore) CountCandidates(ctx context.Context, councilID uuid.UUID, validFrom date.Date, jobID uuid.UUID) (int, error) {
	var n int64
	err := s.db.conn(ctx).Raw(`SELECT count(*) `+candidatesFrom, uuidArg(councilID), validFrom, uuidArg(councilID), uuidArg(jobID)).Scan(&n).Error
	return int(n), translate(err, nil)
}

// LockCurrent implements charging.UpratingStore: a primary-key probe an id (see lockedByID); the
// status is checked on the locked rows.
func (s *ChargingStore) LockCurrent(ctx context.Context, councilID uuid.UUID, ids []uuid.UUID) ([]charging.Assessment, error) {
	var rows []financialRow
	err := s.db.conn(ctx).Raw(`SELECT fa.* FROM unnest(?::uuid[]) AS k(key_id) CROSS JOIN LATERAL (
			SELECT * FROM financial_assessments WHERE council_id = ? AND id = k.key_id FOR UPDATE) fa`,
		uuidArray(ids), uuidArg(councilID)).Scan(&rows).Error
	if err != nil {
		return nil, translate(err, nil)
	}
	current := rows[:0]
	for _, r := range rows {
		if r.Status == string(charging.Completed) {
			current = append(current, r)
		}
	}
	return mapRows(current, financialRow.domain)
}

// Supersede implements charging.UpratingStore: a TID scan of the rows (see lockedByID).
func (s *ChargingStore) Supersede(ctx context.Context, councilID uuid.UUID, ids []uuid.UUID, at time.Time) error {
	if len(ids) == 0 {
		return nil
	}
	res := s.db.conn(ctx).Exec(`UPDATE financial_assessments SET status = 'superseded', version = version + 1, updated_at = ?
		 WHERE ctid = ANY(ARRAY(`+lockedByID("financial_assessments")+`)) AND status = 'completed'`,
		at, uuidArray(ids), uuidArg(councilID))
	if res.Error != nil {
		return translate(res.Error, financialConstraints)
	}
	if res.RowsAffected != int64(len(ids)) {
		return apperr.ErrVersionMismatch
	}
	return nil
}

// InsertAssessments implements charging.UpratingStore.
func (s *ChargingStore) InsertAssessments(ctx context.Context, as []charging.Assessment) error {
	if len(as) == 0 {
		return nil
	}
	rows := make([]financialRow, len(as))
	for i, a := range as {
		var err error
		if rows[i], err = financialRowOf(a); err != nil {
			return err
		}
	}
	return translate(insertAll(ctx, s.db.conn(ctx), rows), financialConstraints)
}

// InsertChanges implements charging.UpratingStore.
func (s *ChargingStore) InsertChanges(ctx context.Context, cs []charging.Change) error {
	if len(cs) == 0 {
		return nil
	}
	rows := make([]changeRow, len(cs))
	for i, c := range cs {
		rows[i] = changeRow{CouncilID: c.CouncilID, ID: c.ID, JobID: c.JobID, PersonID: c.PersonID, PreviousAssessmentID: c.PreviousAssessmentID,
			NewAssessmentID: c.NewAssessmentID, PreviousWeeklyChargePence: c.PreviousWeekly, NewWeeklyChargePence: c.NewWeekly,
			BudgetID: c.BudgetID, Error: c.Error, CreatedAt: c.CreatedAt}
	}
	return translate(insertAll(ctx, s.db.conn(ctx), rows), nil)
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
