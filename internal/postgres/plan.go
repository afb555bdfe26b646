package postgres

import (
	"context"
	"encoding/json"
	"reflect"
	"time"

	"github.com/google/uuid"

	"github.com/pbudget/pbudget/internal/apperr"
	"github.com/pbudget/pbudget/internal/date"
	"github.com/pbudget/pbudget/internal/page"
	"github.com/pbudget/pbudget/internal/plan"
)

type planRow struct {
	CouncilID            uuid.UUID `gorm:"primaryKey"`
	ID                   uuid.UUID `gorm:"primaryKey"`
	BudgetID             uuid.UUID
	PersonID             uuid.UUID
	Number               int
	Status               string
	RevisesID            *uuid.UUID
	WhatIsImportant      string
	WhatToChange         string
	InformationAndAdvice string
	ArrangingSupport     string
	ManagingSupport      string
	StayingInControl     string
	Outcomes             []byte `gorm:"type:jsonb"`
	AnnualCostPence      int64
	SubmittedAt          *time.Time
	SubmittedBy          *string
	ReturnedReason       *string
	ApprovedAt           *time.Time
	ApprovedBy           *string
	SignOffChecks        []byte `gorm:"type:jsonb"`
	Version              int
	CreatedAt            time.Time `gorm:"autoCreateTime:false"`
	UpdatedAt            time.Time `gorm:"autoUpdateTime:false"`
}

func (planRow) TableName() string { return "support_plans" }

type lineRow struct {
	CouncilID           uuid.UUID `gorm:"primaryKey"`
	ID                  uuid.UUID `gorm:"primaryKey"`
	PlanID              uuid.UUID
	Position            int
	Category            string
	Description         string
	ProviderID          *uuid.UUID
	UnitCostPence       int64
	Unit                string
	QuantityHundredths  int64
	Frequency           string
	StartDate           date.Date
	EndDate             date.Date
	MeetsNeeds          []byte `gorm:"type:jsonb"`
	ManagementOption    string
	PersonalAssistantID *uuid.UUID
	NecessityReason     *string
	AnnualCostPence     int64
	WeeklyCostPence     int64
}

func (lineRow) TableName() string { return "plan_lines" }

func planRowOf(p plan.Plan) (planRow, []lineRow, error) {
	outcomes, err := json.Marshal(nonNilSlice(p.Parts.Outcomes))
	if err != nil {
		return planRow{}, nil, err
	}
	r := planRow{
		CouncilID: p.CouncilID, ID: p.ID, BudgetID: p.BudgetID, PersonID: p.PersonID, Number: p.Number, Status: string(p.Status),
		RevisesID: p.RevisesID, WhatIsImportant: p.Parts.WhatIsImportant, WhatToChange: p.Parts.WhatToChange,
		InformationAndAdvice: p.Parts.InformationAndAdvice, ArrangingSupport: p.Parts.ArrangingSupport,
		ManagingSupport: p.Parts.ManagingSupport, StayingInControl: p.Parts.StayingInControl, Outcomes: outcomes,
		AnnualCostPence: p.AnnualCost, SubmittedAt: p.SubmittedAt, SubmittedBy: p.SubmittedBy, ReturnedReason: p.ReturnedReason, ApprovedAt: p.ApprovedAt,
		ApprovedBy: p.ApprovedBy, Version: p.Version, CreatedAt: p.CreatedAt, UpdatedAt: p.UpdatedAt,
	}
	if p.Checks != nil {
		if r.SignOffChecks, err = json.Marshal(p.Checks); err != nil {
			return planRow{}, nil, err
		}
	}
	lines := make([]lineRow, len(p.Lines))
	for i, l := range p.Lines {
		needs, err := json.Marshal(nonNilSlice(l.MeetsNeeds))
		if err != nil {
			return planRow{}, nil, err
		}
		lines[i] = lineRow{CouncilID: p.CouncilID, ID: l.ID, PlanID: p.ID, Position: i, Category: l.Category, Description: l.Description,
			ProviderID: l.ProviderID, UnitCostPence: l.UnitCost, Unit: string(l.Unit), QuantityHundredths: int64(l.Quantity),
			Frequency: string(l.Frequency), StartDate: l.Start, EndDate: l.End, MeetsNeeds: needs, ManagementOption: string(l.Option),
			PersonalAssistantID: l.PersonalAssistantID, NecessityReason: l.NecessityReason, AnnualCostPence: l.Annual, WeeklyCostPence: l.Weekly}
	}
	return r, lines, nil
}

func (r planRow) domain(lines []lineRow) (plan.Plan, error) {
	p := plan.Plan{
		CouncilID: r.CouncilID, ID: r.ID, BudgetID: r.BudgetID, PersonID: r.PersonID, Number: r.Number, Status: plan.Status(r.Status),
		RevisesID: r.RevisesID, AnnualCost: r.AnnualCostPence, SubmittedAt: utcPtr(r.SubmittedAt), SubmittedBy: r.SubmittedBy, ReturnedReason: r.ReturnedReason,
		ApprovedAt: utcPtr(r.ApprovedAt), ApprovedBy: r.ApprovedBy, Version: r.Version, CreatedAt: r.CreatedAt.UTC(), UpdatedAt: r.UpdatedAt.UTC(),
		Parts: plan.Parts{WhatIsImportant: r.WhatIsImportant, WhatToChange: r.WhatToChange, InformationAndAdvice: r.InformationAndAdvice,
			ArrangingSupport: r.ArrangingSupport, ManagingSupport: r.ManagingSupport, StayingInControl: r.StayingInControl},
	}
	if err := json.Unmarshal(r.Outcomes, &p.Parts.Outcomes); err != nil {
		return plan.Plan{}, err
	}
	if r.SignOffChecks != nil {
		p.Checks = &plan.Checks{}
		if err := json.Unmarshal(r.SignOffChecks, p.Checks); err != nil {
			return plan.Plan{}, err
		}
	}
	for _, l := range lines {
		line := plan.Line{ID: l.ID, Category: l.Category, Description: l.Description, ProviderID: l.ProviderID, UnitCost: l.UnitCostPence,
			Unit: plan.Unit(l.Unit), Quantity: plan.Quantity(l.QuantityHundredths), Frequency: plan.Frequency(l.Frequency),
			Start: l.StartDate, End: l.EndDate, Option: plan.Option(l.ManagementOption), PersonalAssistantID: l.PersonalAssistantID,
			NecessityReason: l.NecessityReason, Annual: l.AnnualCostPence, Weekly: l.WeeklyCostPence}
		if err := json.Unmarshal(l.MeetsNeeds, &line.MeetsNeeds); err != nil {
			return plan.Plan{}, err
		}
		p.Lines = append(p.Lines, line)
	}
	return p, nil
}

// PlanStore implements plan.Store.
type PlanStore struct{ db *DB }

// NewPlanStore returns a PlanStore.
func NewPlanStore(db *DB) *PlanStore { return &PlanStore{db: db} }

var planConstraints = map[string]error{"support_plans_open_key": plan.ErrOpenPlan, "support_plans_one_approved_key": plan.ErrApprovedMeanwhile}

// NextNumber implements plan.Store; the budget's row lock (taken by the caller's budget read for
// update, or here) keeps numbers unique.
func (s *PlanStore) NextNumber(ctx context.Context, councilID, budgetID uuid.UUID) (int, error) {
	if err := s.db.conn(ctx).Exec(`SELECT 1 FROM personal_budgets WHERE council_id = ? AND id = ? FOR UPDATE`,
		uuidArg(councilID), uuidArg(budgetID)).Error; err != nil {
		return 0, translate(err, nil)
	}
	var n int
	err := s.db.conn(ctx).Raw(`SELECT coalesce(max(number), 0) + 1 FROM support_plans WHERE council_id = ? AND budget_id = ?`,
		uuidArg(councilID), uuidArg(budgetID)).Scan(&n).Error
	return n, translate(err, nil)
}

// PriorLines implements plan.Store. A line of a budget that ended is cut at the budget's end:
// stays planned after it will never be paid.
func (s *PlanStore) PriorLines(ctx context.Context, councilID, personID, budgetID uuid.UUID, since date.Date) ([]plan.Line, error) {
	var rows []struct {
		ID                 uuid.UUID
		Category, Unit     string
		QuantityHundredths int64
		Frequency          string
		StartDate, EndDate date.Date
		ManagementOption   string
		BudgetEnd          *date.Date
	}
	err := s.db.conn(ctx).Raw(`SELECT l.id, l.category, l.unit, l.quantity_hundredths, l.frequency, l.start_date, l.end_date,
		       l.management_option, b.end_date AS budget_end
		  FROM plan_lines l
		  JOIN support_plans p ON p.council_id = l.council_id AND p.id = l.plan_id
		  JOIN personal_budgets b ON b.council_id = p.council_id AND b.id = p.budget_id
		 WHERE p.council_id = ? AND p.person_id = ? AND p.status = 'approved' AND p.budget_id <> ?
		   AND l.management_option = 'direct_payment' AND l.end_date > ?
		 ORDER BY l.start_date`, uuidArg(councilID), uuidArg(personID), uuidArg(budgetID), since).Scan(&rows).Error
	if err != nil {
		return nil, translate(err, nil)
	}
	out := make([]plan.Line, 0, len(rows))
	for _, r := range rows {
		l := plan.Line{ID: r.ID, Category: r.Category, Unit: plan.Unit(r.Unit), Quantity: plan.Quantity(r.QuantityHundredths),
			Frequency: plan.Frequency(r.Frequency), Start: r.StartDate, End: r.EndDate, Option: plan.Option(r.ManagementOption)}
		if r.BudgetEnd != nil && r.BudgetEnd.Before(l.End) {
			l.End = *r.BudgetEnd
		}
		if l.End.After(l.Start) {
			out = append(out, l)
		}
	}
	return out, nil
}

// InsertPlan implements plan.Store.
func (s *PlanStore) InsertPlan(ctx context.Context, p plan.Plan) error {
	row, lines, err := planRowOf(p)
	if err != nil {
		return err
	}
	if err := s.db.conn(ctx).Create(&row).Error; err != nil {
		return translate(err, planConstraints)
	}
	if len(lines) > 0 {
		if err := s.db.conn(ctx).Create(&lines).Error; err != nil {
			return translate(err, nil)
		}
	}
	return s.writeTopUps(ctx, p, false)
}

// GetPlan implements plan.Store.
func (s *PlanStore) GetPlan(ctx context.Context, councilID, id uuid.UUID, forUpdate bool) (plan.Plan, error) {
	r, err := takeOne[planRow](s.db.conn(ctx), forUpdate, "council_id = ? AND id = ?", uuidArg(councilID), uuidArg(id))
	if err != nil {
		return plan.Plan{}, err
	}
	plans, err := s.withLines(ctx, []planRow{r})
	if err != nil {
		return plan.Plan{}, err
	}
	if forUpdate {
		rememberChildren(ctx, plans[0])
	}
	return plans[0], nil
}

// planChildren are a plan's lines and top-ups as the transaction last read or wrote them, while
// it holds the plan's lock: a change that leaves them as they were (a sign-off, a submission, a
// change of the plan's parts) writes the plan's row alone instead of replacing every line.
type planChildren struct {
	lines  []plan.Line
	topUps []plan.TopUp
}

type planChildrenKey struct{ council, plan uuid.UUID }

func rememberChildren(ctx context.Context, p plan.Plan) {
	memoPut(ctx, planChildrenKey{p.CouncilID, p.ID}, planChildren{
		lines: append([]plan.Line(nil), p.Lines...), topUps: append([]plan.TopUp(nil), p.TopUps...)})
}

func (s *PlanStore) withLines(ctx context.Context, rows []planRow) ([]plan.Plan, error) {
	if len(rows) == 0 {
		return nil, nil
	}
	ids := make([]uuid.UUID, len(rows))
	for i, r := range rows {
		ids[i] = r.ID
	}
	lines, err := childrenOf[lineRow](s.db.conn(ctx), rows[0].CouncilID, "plan_id", ids, "plan_id, position")
	if err != nil {
		return nil, err
	}
	tops, err := childrenOf[topUpRow](s.db.conn(ctx), rows[0].CouncilID, "plan_id", ids, "plan_id, position")
	if err != nil {
		return nil, err
	}
	topsByPlan := map[uuid.UUID][]plan.TopUp{}
	for _, t := range tops {
		topsByPlan[t.PlanID] = append(topsByPlan[t.PlanID], t.domain())
	}
	byPlan := map[uuid.UUID][]lineRow{}
	for _, l := range lines {
		byPlan[l.PlanID] = append(byPlan[l.PlanID], l)
	}
	out := make([]plan.Plan, len(rows))
	for i, r := range rows {
		p, err := r.domain(byPlan[r.ID])
		if err != nil {
			return nil, translate(err, nil)
		}
		p.TopUps = topsByPlan[r.ID]
		out[i] = p
	}
	return out, nil
}

// topUpRows are the plan's top-ups, positioned in order.
func topUpRows(p plan.Plan) []topUpRow {
	rows := make([]topUpRow, len(p.TopUps))
	for i, t := range p.TopUps {
		rows[i] = topUpRow{CouncilID: p.CouncilID, ID: t.ID, PlanID: p.ID, PlanLineID: t.LineID, Position: i, Description: t.Description,
			Payer: string(t.Payer), PayerName: t.PayerName, AnnualPence: t.Annual, CreatedAt: t.CreatedAt, CreatedBy: t.CreatedBy}
	}
	return rows
}

// UpdatePlan implements plan.Store.
func (s *PlanStore) UpdatePlan(ctx context.Context, p plan.Plan) error {
	row, lines, err := planRowOf(p)
	if err != nil {
		return err
	}
	res := s.db.conn(ctx).Model(&planRow{}).Where("council_id = ? AND id = ? AND version = ?", uuidArg(p.CouncilID), uuidArg(p.ID), p.Version-1).
		Select("status", "what_is_important", "what_to_change", "information_and_advice", "arranging_support", "managing_support",
			"staying_in_control", "outcomes", "annual_cost_pence", "submitted_at", "submitted_by", "returned_reason", "approved_at", "approved_by",
			"sign_off_checks", "version", "updated_at").Updates(&row)
	if err := versioned(res.Error, res.RowsAffected, planConstraints); err != nil {
		return err
	}
	before, known := memoGet[planChildren](ctx, planChildrenKey{p.CouncilID, p.ID})
	memoDrop(ctx, planChildrenKey{p.CouncilID, p.ID})
	if !known || !reflect.DeepEqual(before.lines, nonNilLines(p.Lines)) {
		if err := s.db.conn(ctx).Where("council_id = ? AND plan_id = ?", uuidArg(p.CouncilID), uuidArg(p.ID)).Delete(&lineRow{}).Error; err != nil {
			return translate(err, nil)
		}
		if len(lines) > 0 {
			if err := s.db.conn(ctx).Create(&lines).Error; err != nil {
				return translate(err, nil)
			}
		}
	}
	if !known || !reflect.DeepEqual(before.topUps, nonNilTopUps(p.TopUps)) {
		if err := s.writeTopUps(ctx, p, true); err != nil {
			return err
		}
	}
	rememberChildren(ctx, p)
	return nil
}

// nonNilLines and nonNilTopUps are as rememberChildren keeps them (a copy of none is nil).
func nonNilLines(l []plan.Line) []plan.Line {
	if len(l) == 0 {
		return nil
	}
	return l
}

func nonNilTopUps(t []plan.TopUp) []plan.TopUp {
	if len(t) == 0 {
		return nil
	}
	return t
}

// writeTopUps replaces (or, for a new plan, inserts) the plan's top-ups. Plans without any, the
// common case, cost one statement on a change and none on an insert.
func (s *PlanStore) writeTopUps(ctx context.Context, p plan.Plan, replace bool) error {
	if replace {
		if err := s.db.conn(ctx).Where("council_id = ? AND plan_id = ?", uuidArg(p.CouncilID), uuidArg(p.ID)).Delete(&topUpRow{}).Error; err != nil {
			return translate(err, nil)
		}
	}
	if rows := topUpRows(p); len(rows) > 0 {
		return translate(s.db.conn(ctx).Create(&rows).Error, nil)
	}
	return nil
}

// ListPlans implements plan.Store.
func (s *PlanStore) ListPlans(ctx context.Context, councilID uuid.UUID, f plan.Filter, p page.Request) ([]plan.Plan, error) {
	q := s.db.conn(ctx).Where("council_id = ?", uuidArg(councilID))
	if f.BudgetID != nil {
		q = q.Where("budget_id = ?", uuidArg(*f.BudgetID))
	}
	if f.Status != "" {
		q = q.Where("status = ?", string(f.Status))
	}
	if f.ProviderID != nil {
		q = q.Where(providerReachSQL("support_plans.council_id", "sp.id", "support_plans.id"), uuidArg(*f.ProviderID), uuidArg(*f.ProviderID))
	}
	if f.OverLimit != nil {
		if *f.OverLimit {
			q = q.Where("annual_cost_pence > ?", f.LimitPence)
		} else {
			q = q.Where("annual_cost_pence <= ?", f.LimitPence)
		}
	}
	var rows []planRow
	if err := paginate(q, "created_at", p).Find(&rows).Error; err != nil {
		return nil, translate(err, nil)
	}
	return s.withLines(ctx, rows)
}

type categoryRow struct {
	CouncilID      uuid.UUID `gorm:"primaryKey"`
	Key            string    `gorm:"primaryKey"`
	Name           string
	CLDServiceType string `gorm:"column:cld_service_type"`
	DPAllowed      bool   `gorm:"column:dp_allowed"`
	Rule           string
}

func (categoryRow) TableName() string { return "service_categories" }

// Categories implements plan.Store: the default catalogue, with the council's own entries added
// or put in place of defaults of the same key.
func (s *PlanStore) Categories(ctx context.Context, councilID uuid.UUID) (map[string]plan.Category, error) {
	out := map[string]plan.Category{}
	for _, c := range plan.DefaultCategories() {
		out[c.Key] = c
	}
	var rows []categoryRow
	if err := s.db.conn(ctx).Where("council_id = ?", uuidArg(councilID)).Find(&rows).Error; err != nil {
		return nil, translate(err, nil)
	}
	for _, r := range rows {
		out[r.Key] = plan.Category{Key: r.Key, Name: r.Name, CLDServiceType: r.CLDServiceType, DPAllowed: r.DPAllowed, Rule: plan.CategoryRule(r.Rule)}
	}
	return out, nil
}

// InsertCategory implements plan.Store.
func (s *PlanStore) InsertCategory(ctx context.Context, councilID uuid.UUID, c plan.Category) error {
	row := categoryRow{CouncilID: councilID, Key: c.Key, Name: c.Name, CLDServiceType: c.CLDServiceType, DPAllowed: c.DPAllowed, Rule: string(c.Rule)}
	return translate(s.db.conn(ctx).Create(&row).Error, map[string]error{
		"service_categories_pkey": apperr.New(apperr.Conflict, "service-category-exists", "the catalogue already has a category with this key"),
	})
}

type dpRow struct {
	CouncilID          uuid.UUID `gorm:"primaryKey"`
	ID                 uuid.UUID `gorm:"primaryKey"`
	PlanID             uuid.UUID
	BudgetID           uuid.UUID
	PersonID           uuid.UUID
	Recipient          string
	RecipientPersonID  *uuid.UUID
	RecipientConsented bool
	AccountType        string
	PaymentBasis       string
	Frequency          string
	StartDate          date.Date
	SignedDate         *date.Date
	InsuranceExpiry    *date.Date
	DBSCheckDate       *date.Date `gorm:"column:dbs_check_date"`
	PayrollProvider    string
	AnnualAmountPence  int64
	EndDate            *date.Date `gorm:"->"` // written by the payment store, which ends agreements
	EndReason          *string    `gorm:"->"`
	Version            int
	CreatedAt          time.Time `gorm:"autoCreateTime:false"`
	UpdatedAt          time.Time `gorm:"autoUpdateTime:false"`
}

func (dpRow) TableName() string { return "direct_payment_agreements" }

func dpRowOf(d plan.DPAgreement) dpRow {
	return dpRow{CouncilID: d.CouncilID, ID: d.ID, PlanID: d.PlanID, BudgetID: d.BudgetID, PersonID: d.PersonID, Recipient: d.Recipient,
		RecipientPersonID: d.RecipientPersonID, RecipientConsented: d.Consented, AccountType: d.AccountType, PaymentBasis: d.Basis,
		Frequency: d.Frequency, StartDate: d.StartDate, SignedDate: d.SignedDate, InsuranceExpiry: d.Evidence.InsuranceExpiry,
		DBSCheckDate: d.Evidence.DBSCheckDate, PayrollProvider: d.Evidence.PayrollProvider, AnnualAmountPence: d.Annual,
		Version: d.Version, CreatedAt: d.CreatedAt, UpdatedAt: d.UpdatedAt}
}

func (r dpRow) domain() (plan.DPAgreement, error) {
	return plan.DPAgreement{CouncilID: r.CouncilID, ID: r.ID, PlanID: r.PlanID, BudgetID: r.BudgetID, PersonID: r.PersonID, Recipient: r.Recipient,
		RecipientPersonID: r.RecipientPersonID, Consented: r.RecipientConsented, AccountType: r.AccountType, Basis: r.PaymentBasis,
		Frequency: r.Frequency, StartDate: r.StartDate, SignedDate: r.SignedDate,
		Evidence: plan.PAEvidence{InsuranceExpiry: r.InsuranceExpiry, DBSCheckDate: r.DBSCheckDate, PayrollProvider: r.PayrollProvider},
		Annual:   r.AnnualAmountPence, EndDate: r.EndDate, EndReason: r.EndReason, Version: r.Version, CreatedAt: r.CreatedAt.UTC(), UpdatedAt: r.UpdatedAt.UTC()}, nil
}

// InsertDP implements plan.AgreementStore, with the agreement's first amount (payment_agreement_amounts).
func (s *PlanStore) InsertDP(ctx context.Context, d plan.DPAgreement) error {
	row := dpRowOf(d)
	err := translate(s.db.conn(ctx).Create(&row).Error, map[string]error{
		"direct_payment_agreements_plan_key": apperr.New(apperr.Conflict, "direct-payment-agreement-exists",
			"this plan already has a direct-payment agreement: change that one (PATCH) rather than make another"),
	})
	if err != nil {
		return err
	}
	return insertFirstAmount(ctx, s.db, "dp_agreement_id", d.CouncilID, d.ID, d.StartDate, d.Annual, d.PlanID, d.CreatedAt)
}

// insertFirstAmount records what a new agreement pays a year from its start: the amount history
// that payment runs read starts here.
func insertFirstAmount(ctx context.Context, db *DB, column string, councilID, id uuid.UUID, start date.Date, annual int64, planID uuid.UUID, at time.Time) error {
	return translate(db.conn(ctx).Exec(`INSERT INTO payment_agreement_amounts
		(council_id, id, `+column+`, effective_from, annual_pence, plan_id, reason, recorded_by, recorded_at)
		VALUES ( ?, ?, ?, ?, ?, ?, 'agreement created', 'system:agreement', ?)`,
		uuidArg(councilID), uuidArg(uuid.Must(uuid.NewV7())), uuidArg(id), start, annual, uuidArg(planID), at).Error, nil)
}

// GetDP implements plan.AgreementStore.
func (s *PlanStore) GetDP(ctx context.Context, councilID, id uuid.UUID, forUpdate bool) (plan.DPAgreement, error) {
	r, err := takeOne[dpRow](s.db.conn(ctx), forUpdate, "council_id = ? AND id = ?", uuidArg(councilID), uuidArg(id))
	if err != nil {
		return plan.DPAgreement{}, err
	}
	return r.domain()
}

// UpdateDP implements plan.AgreementStore.
func (s *PlanStore) UpdateDP(ctx context.Context, d plan.DPAgreement) error {
	row := dpRowOf(d)
	res := s.db.conn(ctx).Model(&dpRow{}).Where("council_id = ? AND id = ? AND version = ?", uuidArg(d.CouncilID), uuidArg(d.ID), d.Version-1).
		Select("account_type", "signed_date", "insurance_expiry", "dbs_check_date", "payroll_provider", "version", "updated_at").Updates(&row)
	return versioned(res.Error, res.RowsAffected, nil)
}

// ListDP implements plan.AgreementStore.
func (s *PlanStore) ListDP(ctx context.Context, councilID uuid.UUID, f plan.DPFilter, p page.Request) ([]plan.DPAgreement, error) {
	q := s.db.conn(ctx).Where("council_id = ?", uuidArg(councilID))
	if f.Unsigned {
		q = q.Where("signed_date IS NULL")
	}
	if f.EvidenceBefore != nil {
		// A DBS check is treated as due for renewal three years after it was made.
		q = q.Where("(insurance_expiry < ? OR dbs_check_date < ?)", *f.EvidenceBefore, f.EvidenceBefore.AddDate(-3, 0, 0))
	}
	if f.PersonID != nil {
		q = q.Where("person_id = ?", uuidArg(*f.PersonID))
	}
	var rows []dpRow
	if err := paginate(q, "created_at", p).Find(&rows).Error; err != nil {
		return nil, translate(err, nil)
	}
	return mapRows(rows, dpRow.domain)
}

type isfRow struct {
	CouncilID          uuid.UUID `gorm:"primaryKey"`
	ID                 uuid.UUID `gorm:"primaryKey"`
	PlanID             uuid.UUID
	BudgetID           uuid.UUID
	PersonID           uuid.UUID
	ProviderID         uuid.UUID
	AnnualAmountPence  int64
	PaymentFrequency   string
	StatementFrequency string
	StartDate          date.Date
	SignedDate         *date.Date
	EndDate            *date.Date `gorm:"->"` // written by the payment store, which ends agreements
	EndReason          *string    `gorm:"->"`
	Version            int
	CreatedAt          time.Time `gorm:"autoCreateTime:false"`
}

func (isfRow) TableName() string { return "isf_agreements" }

func (r isfRow) domain() (plan.ISFAgreement, error) {
	return plan.ISFAgreement{CouncilID: r.CouncilID, ID: r.ID, PlanID: r.PlanID, BudgetID: r.BudgetID, PersonID: r.PersonID,
		ProviderID: r.ProviderID, Annual: r.AnnualAmountPence, PaymentFrequency: r.PaymentFrequency,
		StatementFrequency: r.StatementFrequency, StartDate: r.StartDate, SignedDate: r.SignedDate, EndDate: r.EndDate, EndReason: r.EndReason,
		Version: r.Version, CreatedAt: r.CreatedAt.UTC()}, nil
}

// InsertISF implements plan.AgreementStore.
func (s *PlanStore) InsertISF(ctx context.Context, i plan.ISFAgreement) error {
	row := isfRow{CouncilID: i.CouncilID, ID: i.ID, PlanID: i.PlanID, BudgetID: i.BudgetID, PersonID: i.PersonID, ProviderID: i.ProviderID,
		AnnualAmountPence: i.Annual, PaymentFrequency: i.PaymentFrequency, StatementFrequency: i.StatementFrequency,
		StartDate: i.StartDate, SignedDate: i.SignedDate, Version: i.Version, CreatedAt: i.CreatedAt}
	err := translate(s.db.conn(ctx).Create(&row).Error, map[string]error{
		"isf_agreements_council_id_plan_id_provider_id_key": apperr.New(apperr.Conflict, "isf-agreement-exists",
			"this plan already has an ISF agreement with this provider"),
	})
	if err != nil {
		return err
	}
	return insertFirstAmount(ctx, s.db, "isf_agreement_id", i.CouncilID, i.ID, i.StartDate, i.Annual, i.PlanID, i.CreatedAt)
}

// GetISFForUpdate implements plan.AgreementStore.
func (s *PlanStore) GetISFForUpdate(ctx context.Context, councilID, id uuid.UUID) (plan.ISFAgreement, error) {
	r, err := takeOne[isfRow](s.db.conn(ctx), true, "council_id = ? AND id = ?", uuidArg(councilID), uuidArg(id))
	if err != nil {
		return plan.ISFAgreement{}, err
	}
	return r.domain()
}

// UpdateISF implements plan.AgreementStore.
func (s *PlanStore) UpdateISF(ctx context.Context, i plan.ISFAgreement) error {
	res := s.db.conn(ctx).Model(&isfRow{}).Where("council_id = ? AND id = ? AND version = ?", uuidArg(i.CouncilID), uuidArg(i.ID), i.Version-1).
		Updates(map[string]any{"signed_date": i.SignedDate, "version": i.Version})
	return versioned(res.Error, res.RowsAffected, nil)
}

// GetISF implements plan.AgreementStore.
func (s *PlanStore) GetISF(ctx context.Context, councilID, id uuid.UUID) (plan.ISFAgreement, error) {
	var r isfRow
	if err := s.db.conn(ctx).Where("council_id = ? AND id = ?", uuidArg(councilID), uuidArg(id)).Take(&r).Error; err != nil {
		return plan.ISFAgreement{}, translate(err, nil)
	}
	return r.domain()
}

// ListISF implements plan.AgreementStore.
func (s *PlanStore) ListISF(ctx context.Context, councilID uuid.UUID, providerID *uuid.UUID, p page.Request) ([]plan.ISFAgreement, error) {
	q := s.db.conn(ctx).Where("council_id = ?", uuidArg(councilID))
	if providerID != nil {
		q = q.Where("provider_id = ?", uuidArg(*providerID))
	}
	var rows []isfRow
	if err := paginate(q, "created_at", p).Find(&rows).Error; err != nil {
		return nil, translate(err, nil)
	}
	return mapRows(rows, isfRow.domain)
}
