package postgres

import (
	"context"
	"encoding/json"
	"strconv"
	"time"

	"github.com/google/uuid"

	"github.com/pbudget/pbudget/internal/apperr"
	"github.com/pbudget/pbudget/internal/budget"
	"github.com/pbudget/pbudget/internal/charging"
	"github.com/pbudget/pbudget/internal/date"
	"github.com/pbudget/pbudget/internal/money"
	"github.com/pbudget/pbudget/internal/page"
)

type budgetRow struct {
	CouncilID uuid.UUID `gorm:"primaryKey"`
	ID        uuid.UUID `gorm:"primaryKey"`
	PersonID  uuid.UUID
	Kind      string
	Status    string
	StartDate date.Date
	EndDate   *date.Date
	Version   int
	CreatedAt time.Time `gorm:"autoCreateTime:false"`
	UpdatedAt time.Time `gorm:"autoUpdateTime:false"`
}

func (budgetRow) TableName() string { return "personal_budgets" }

type budgetVersionRow struct {
	CouncilID             uuid.UUID `gorm:"primaryKey"`
	ID                    uuid.UUID `gorm:"primaryKey"`
	BudgetID              uuid.UUID
	PersonID              uuid.UUID
	Number                int
	Status                string
	Change                string
	Reason                string
	AssessmentID          *uuid.UUID
	RASVersionID          *uuid.UUID `gorm:"column:ras_version_id"`
	RASVersionNumber      *int       `gorm:"column:ras_version_number"`
	FundingRequestID      *uuid.UUID
	IndicativeAnnualPence int64
	CeilingAnnualPence    int64
	FinalAnnualPence      *int64
	PlanID                *uuid.UUID
	DifferenceReason      *string
	AnnualCostPence       int64
	WeeklyCostPence       int64
	PersonWeeklyPence     *int64
	CouncilWeeklyPence    *int64
	PersonAnnualPence     *int64
	CouncilAnnualPence    *int64
	FinancialAssessmentID *uuid.UUID
	RateTableID           *uuid.UUID
	ContributionSteps     []byte `gorm:"type:jsonb"`
	Points                *int
	PointsByDomain        []byte    `gorm:"type:jsonb"`
	Calculation           []byte    `gorm:"type:jsonb"`
	CreatedAt             time.Time `gorm:"autoCreateTime:false"`
	CreatedBy             string
}

func (budgetVersionRow) TableName() string { return "personal_budget_versions" }

func budgetVersionRowOf(v budget.Version) (budgetVersionRow, error) {
	pbd, err := json.Marshal(nonNilMap(v.PointsByDomain))
	if err != nil {
		return budgetVersionRow{}, err
	}
	steps := v.Calculation
	if steps == nil {
		steps = []money.Step{}
	}
	calc, err := json.Marshal(steps)
	if err != nil {
		return budgetVersionRow{}, err
	}
	csteps, err := json.Marshal(nonNilSlice(v.ContributionSteps))
	if err != nil {
		return budgetVersionRow{}, err
	}
	return budgetVersionRow{
		CouncilID: v.CouncilID, ID: v.ID, BudgetID: v.BudgetID, PersonID: v.PersonID, Number: v.Number,
		Status: string(v.Status), Change: string(v.Change), Reason: v.Reason, AssessmentID: v.AssessmentID,
		RASVersionID: v.RASVersionID, RASVersionNumber: v.RASVersionNumber, FundingRequestID: v.FundingRequestID,
		IndicativeAnnualPence: v.IndicativeAnnual, CeilingAnnualPence: v.CeilingAnnual, Points: v.Points,
		PointsByDomain: pbd, Calculation: calc, CreatedAt: v.CreatedAt, CreatedBy: v.CreatedBy,
		FinalAnnualPence: v.FinalAnnual, PlanID: v.PlanID, DifferenceReason: v.DifferenceReason,
		AnnualCostPence: v.AnnualCost, WeeklyCostPence: v.WeeklyCost, PersonWeeklyPence: v.PersonWeekly,
		CouncilWeeklyPence: v.CouncilWeekly, PersonAnnualPence: v.PersonAnnual, CouncilAnnualPence: v.CouncilAnnual,
		FinancialAssessmentID: v.FinancialAssessmentID, RateTableID: v.RateTableID, ContributionSteps: csteps,
	}, nil
}

func (r budgetVersionRow) domain() (budget.Version, error) {
	v := budget.Version{
		CouncilID: r.CouncilID, ID: r.ID, BudgetID: r.BudgetID, PersonID: r.PersonID, Number: r.Number,
		Status: budget.Status(r.Status), Change: budget.Change(r.Change), Reason: r.Reason, AssessmentID: r.AssessmentID,
		RASVersionID: r.RASVersionID, RASVersionNumber: r.RASVersionNumber, FundingRequestID: r.FundingRequestID,
		IndicativeAnnual: r.IndicativeAnnualPence, CeilingAnnual: r.CeilingAnnualPence, Points: r.Points,
		CreatedAt: r.CreatedAt.UTC(), CreatedBy: r.CreatedBy,
		FinalAnnual: r.FinalAnnualPence, PlanID: r.PlanID, DifferenceReason: r.DifferenceReason,
		Split: budget.Split{
			AnnualCost: r.AnnualCostPence, WeeklyCost: r.WeeklyCostPence, PersonWeekly: r.PersonWeeklyPence,
			CouncilWeekly: r.CouncilWeeklyPence, PersonAnnual: r.PersonAnnualPence, CouncilAnnual: r.CouncilAnnualPence,
			FinancialAssessmentID: r.FinancialAssessmentID, RateTableID: r.RateTableID,
		},
	}
	if err := json.Unmarshal(r.PointsByDomain, &v.PointsByDomain); err != nil {
		return budget.Version{}, err
	}
	if err := json.Unmarshal(r.ContributionSteps, &v.ContributionSteps); err != nil {
		return budget.Version{}, err
	}
	return v, json.Unmarshal(r.Calculation, &v.Calculation)
}

// BudgetStore implements budget.Store.
type BudgetStore struct{ db *DB }

// NewBudgetStore returns a BudgetStore.
func NewBudgetStore(db *DB) *BudgetStore { return &BudgetStore{db: db} }

var budgetConstraints = map[string]error{
	"personal_budgets_open_key": apperr.New(apperr.Conflict, "budget-open",
		"the person already has an open budget of this kind"),
}

// Open implements budget.Store.
func (s *BudgetStore) Open(ctx context.Context, councilID, personID uuid.UUID, kind budget.Kind, forUpdate bool) (budget.Budget, error) {
	return s.one(ctx, forUpdate, "council_id = ? AND person_id = ? AND kind = ? AND status <> 'ended'",
		uuidArg(councilID), uuidArg(personID), string(kind))
}

// Get implements budget.Store.
func (s *BudgetStore) Get(ctx context.Context, councilID, id uuid.UUID, forUpdate bool) (budget.Budget, error) {
	return s.one(ctx, forUpdate, "council_id = ? AND id = ?", uuidArg(councilID), uuidArg(id))
}

func (s *BudgetStore) one(ctx context.Context, forUpdate bool, where string, args ...any) (budget.Budget, error) {
	r, err := takeOne[budgetRow](s.db.conn(ctx), forUpdate, where, args...)
	if err != nil {
		return budget.Budget{}, err
	}
	out, err := s.withHistory(ctx, []budgetRow{r})
	if err != nil {
		return budget.Budget{}, err
	}
	return out[0], nil
}

// withHistory loads the versions of the budgets in one query.
func (s *BudgetStore) withHistory(ctx context.Context, rows []budgetRow) ([]budget.Budget, error) {
	if len(rows) == 0 {
		return nil, nil
	}
	ids := make([]uuid.UUID, len(rows))
	for i, r := range rows {
		ids[i] = r.ID
	}
	vrows, err := childrenOf[budgetVersionRow](s.db.conn(ctx), rows[0].CouncilID, "budget_id", ids, "budget_id, number")
	if err != nil {
		return nil, err
	}
	byBudget := map[uuid.UUID][]budget.Version{}
	for _, vr := range vrows {
		v, err := vr.domain()
		if err != nil {
			return nil, translate(err, nil)
		}
		byBudget[v.BudgetID] = append(byBudget[v.BudgetID], v)
	}
	out := make([]budget.Budget, len(rows))
	for i, r := range rows {
		b := budget.Budget{
			CouncilID: r.CouncilID, ID: r.ID, PersonID: r.PersonID, Kind: budget.Kind(r.Kind), Status: budget.Status(r.Status),
			StartDate: r.StartDate, EndDate: r.EndDate, Version: r.Version, CreatedAt: r.CreatedAt.UTC(), UpdatedAt: r.UpdatedAt.UTC(),
			History: byBudget[r.ID],
		}
		if n := len(b.History); n > 0 {
			b.Current = b.History[n-1]
		}
		out[i] = b
	}
	return out, nil
}

func budgetRowOf(b budget.Budget) budgetRow {
	return budgetRow{
		CouncilID: b.CouncilID, ID: b.ID, PersonID: b.PersonID, Kind: string(b.Kind), Status: string(b.Status),
		StartDate: b.StartDate, EndDate: b.EndDate, Version: b.Version, CreatedAt: b.CreatedAt, UpdatedAt: b.UpdatedAt,
	}
}

// Insert implements budget.Store.
func (s *BudgetStore) Insert(ctx context.Context, b budget.Budget) error {
	row := budgetRowOf(b)
	return translate(s.db.conn(ctx).Create(&row).Error, budgetConstraints)
}

// Update implements budget.Store.
func (s *BudgetStore) Update(ctx context.Context, b budget.Budget) error {
	row := budgetRowOf(b)
	res := s.db.conn(ctx).Model(&budgetRow{}).
		Where("council_id = ? AND id = ? AND version = ?", uuidArg(b.CouncilID), uuidArg(b.ID), b.Version-1).
		Select("status", "end_date", "version", "updated_at").Updates(&row)
	return versioned(res.Error, res.RowsAffected, budgetConstraints)
}

// InsertVersion implements budget.Store.
func (s *BudgetStore) InsertVersion(ctx context.Context, v budget.Version) error {
	row, err := budgetVersionRowOf(v)
	if err != nil {
		return err
	}
	return translate(s.db.conn(ctx).Create(&row).Error, nil)
}

// OpenMany implements budget.Store: the budgets locked in the order of personIDs, and the current
// version of each (its highest number, on the (council_id, budget_id, number) key), each an index
// probe whatever the statistics say (see lockedByID).
func (s *BudgetStore) OpenMany(ctx context.Context, councilID uuid.UUID, personIDs []uuid.UUID, kind budget.Kind) ([]budget.Budget, error) {
	var rows []budgetRow
	err := s.db.conn(ctx).Raw(`SELECT b.* FROM unnest(?::uuid[]) AS k(person_key) CROSS JOIN LATERAL (
			SELECT * FROM personal_budgets WHERE council_id = ? AND person_id = k.person_key AND kind = ? AND status <> 'ended'
			FOR UPDATE) b`, uuidArray(personIDs), uuidArg(councilID), string(kind)).Scan(&rows).Error
	if err != nil || len(rows) == 0 {
		return nil, translate(err, nil)
	}
	ids := make([]uuid.UUID, len(rows))
	for i, r := range rows {
		ids[i] = r.ID
	}
	var vrows []budgetVersionRow
	err = s.db.conn(ctx).Raw(`SELECT v.* FROM unnest(?::uuid[]) AS k(budget_key) CROSS JOIN LATERAL (
			SELECT * FROM personal_budget_versions v WHERE v.council_id = ? AND v.budget_id = k.budget_key
			ORDER BY v.number DESC LIMIT 1) v`, uuidArray(ids), uuidArg(councilID)).Scan(&vrows).Error
	if err != nil {
		return nil, translate(err, nil)
	}
	current := make(map[uuid.UUID]budget.Version, len(vrows))
	for _, vr := range vrows {
		v, err := vr.domain()
		if err != nil {
			return nil, translate(err, nil)
		}
		current[v.BudgetID] = v
	}
	out := make([]budget.Budget, len(rows))
	for i, r := range rows {
		out[i] = budget.Budget{
			CouncilID: r.CouncilID, ID: r.ID, PersonID: r.PersonID, Kind: budget.Kind(r.Kind), Status: budget.Status(r.Status),
			StartDate: r.StartDate, EndDate: r.EndDate, Version: r.Version, CreatedAt: r.CreatedAt.UTC(), UpdatedAt: r.UpdatedAt.UTC(),
			Current: current[r.ID],
		}
	}
	return out, nil
}

// UpdateMany implements budget.Store in one statement, a TID scan of the rows (see lockedByID).
func (s *BudgetStore) UpdateMany(ctx context.Context, bs []budget.Budget) error {
	if len(bs) == 0 {
		return nil
	}
	ids, versions, statuses, ends, updated := make([]uuid.UUID, len(bs)), make([]*string, len(bs)), make([]*string, len(bs)),
		make([]*string, len(bs)), make([]*string, len(bs))
	for i, b := range bs {
		version, status, at := strconv.Itoa(b.Version), string(b.Status), b.UpdatedAt.Format(time.RFC3339Nano)
		ids[i], versions[i], statuses[i], updated[i] = b.ID, &version, &status, &at
		if b.EndDate != nil {
			end := b.EndDate.String()
			ends[i] = &end
		}
	}
	res := s.db.conn(ctx).Exec(`UPDATE personal_budgets b
		   SET status = u.status, end_date = u.end_date::date, version = u.version::int, updated_at = u.updated_at::timestamptz
		  FROM unnest(?::uuid[], ?::text[], ?::text[], ?::text[], ?::text[]) AS u(id, version, status, end_date, updated_at)
		 WHERE b.ctid = ANY(ARRAY(`+lockedByID("personal_budgets")+`)) AND b.id = u.id AND b.version = u.version::int - 1`,
		uuidArray(ids), textArrayParam(versions), textArrayParam(statuses), textArrayParam(ends), textArrayParam(updated),
		uuidArray(ids), uuidArg(bs[0].CouncilID))
	if res.Error != nil {
		return translate(res.Error, budgetConstraints)
	}
	if res.RowsAffected != int64(len(bs)) {
		return apperr.ErrVersionMismatch
	}
	return nil
}

// InsertVersions implements budget.Store with multi-row inserts.
func (s *BudgetStore) InsertVersions(ctx context.Context, vs []budget.Version) error {
	if len(vs) == 0 {
		return nil
	}
	rows := make([]budgetVersionRow, len(vs))
	for i, v := range vs {
		var err error
		if rows[i], err = budgetVersionRowOf(v); err != nil {
			return err
		}
	}
	return translate(insertAll(ctx, s.db.conn(ctx), rows), nil)
}

// List implements budget.Store.
func (s *BudgetStore) List(ctx context.Context, councilID uuid.UUID, f budget.Filter, p page.Request) ([]budget.Budget, error) {
	q := s.db.conn(ctx).Where("council_id = ?", uuidArg(councilID))
	if f.PersonID != nil {
		q = q.Where("person_id = ?", uuidArg(*f.PersonID))
	}
	if f.Status != "" {
		q = q.Where("status = ?", string(f.Status))
	}
	var rows []budgetRow
	if err := paginate(q, "created_at", p).Find(&rows).Error; err != nil {
		return nil, translate(err, nil)
	}
	return s.withHistory(ctx, rows)
}

// ListVersions implements budget.Store.
func (s *BudgetStore) ListVersions(ctx context.Context, councilID, personID uuid.UUID, p page.Request) ([]budget.Version, error) {
	q := s.db.conn(ctx).Where("council_id = ? AND person_id = ?", uuidArg(councilID), uuidArg(personID))
	var rows []budgetVersionRow
	if err := paginate(q, "created_at", p).Find(&rows).Error; err != nil {
		return nil, translate(err, nil)
	}
	return mapRows(rows, budgetVersionRow.domain)
}

// CurrentContribution implements budget.Store.
func (s *BudgetStore) CurrentContribution(ctx context.Context, councilID, personID uuid.UUID) (*charging.Contribution, error) {
	var rows []struct {
		ID                        uuid.UUID
		RateTableID               uuid.UUID
		FullCost                  bool
		AssessedWeeklyChargePence int64
		Result                    []byte
	}
	err := s.db.conn(ctx).Raw(`SELECT id, rate_table_id, full_cost, assessed_weekly_charge_pence, result
		FROM financial_assessments WHERE council_id = ? AND person_id = ? AND status = 'completed'`,
		uuidArg(councilID), uuidArg(personID)).Scan(&rows).Error
	if err != nil || len(rows) == 0 {
		return nil, translate(err, nil)
	}
	var res charging.Result
	if err := json.Unmarshal(rows[0].Result, &res); err != nil {
		return nil, translate(err, nil)
	}
	r := rows[0]
	return &charging.Contribution{FinancialAssessmentID: r.ID, RateTableID: r.RateTableID, FullCost: r.FullCost,
		Assessed: r.AssessedWeeklyChargePence, Minimum: res.MinimumCharge}, nil
}

func nonNilMap[V any](m map[string]V) map[string]V {
	if m == nil {
		return map[string]V{}
	}
	return m
}
