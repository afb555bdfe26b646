package charging

import (
	"context"
	"errors"
	"log/slog"
	"strings"
	"time"

	"github.com/google/uuid"

	"github.com/pbudget/pbudget/internal/actor"
	"github.com/pbudget/pbudget/internal/apperr"
	"github.com/pbudget/pbudget/internal/audit"
	"github.com/pbudget/pbudget/internal/date"
	"github.com/pbudget/pbudget/internal/money"
	"github.com/pbudget/pbudget/internal/page"
	"github.com/pbudget/pbudget/internal/person"
	"github.com/pbudget/pbudget/internal/txn"
)

// Status is draft, completed (the person's current assessment) or superseded.
type Status string

// The statuses of a financial assessment.
const (
	Draft      Status = "draft"
	Completed  Status = "completed"
	Superseded Status = "superseded"
)

// Assessment is a financial assessment of a person.
type Assessment struct {
	CouncilID    uuid.UUID
	ID           uuid.UUID
	PersonID     uuid.UUID
	Kind         Kind
	Status       Status
	Facts        Facts
	Result       *Result
	PensionAge   *PensionAge // of a draft, derived when read; a completed one's is its Result's (not stored)
	RateTable    *RateTable  // the table of Result, for the store
	SupersedesID *uuid.UUID
	ChangeReason string
	CompletedAt  *time.Time
	CompletedBy  *string
	budgetID     *uuid.UUID // the budget the completion recomposed (not stored)
	Version      int
	CreatedAt    time.Time
	UpdatedAt    time.Time
}

// Cursor is the page position of an assessment.
func (a Assessment) Cursor() page.Cursor { return page.Cursor{Time: a.CreatedAt, ID: a.ID} }

// Cursor is the page position of a rate table: by valid_from.
func (t RateTable) Cursor() page.Cursor { return page.Cursor{Time: t.ValidFrom.Time(), ID: t.ID} }

// Errors of rate tables and assessments.
var (
	ErrTableInForce = apperr.New(apperr.Conflict, "rate-table-in-force",
		"the rate table is in force and immutable; make a new table to correct it")
	ErrTableDate = apperr.New(apperr.Conflict, "rate-table-date-taken", "the council already has a rate table from this date")
	ErrNoTable   = apperr.New(apperr.RuleViolation, "no-rate-table-in-force",
		"the council has no rate table in force on the effective date")
	ErrNotDraft = apperr.New(apperr.Conflict, "financial-assessment-not-draft",
		"only a draft financial assessment can be changed or completed")
	ErrIncomplete = apperr.New(apperr.RuleViolation, "financial-assessment-incomplete",
		"the financial assessment lacks facts the calculation needs")
	ErrEffectiveInFuture = apperr.New(apperr.RuleViolation, "effective-date-in-future",
		"completing changes the person's budget now: complete the assessment on or after its effective date")
	ErrInvalidTable = apperr.New(apperr.RuleViolation, "rate-table-invalid", "the rate table is inconsistent")
	ErrJobOpen      = apperr.New(apperr.Conflict, "uprating-job-open", "an uprating job for this rate table is already queued or running")
)

// Applied is what a budget became with a contribution.
type Applied struct {
	BudgetID     uuid.UUID
	WeeklyCost   int64
	WeeklyCharge int64
	Steps        []money.Step
}

// Budgets recomposes the person's budget with a contribution; nil when they have no open budget.
type Budgets interface {
	ApplyContribution(ctx context.Context, a actor.Actor, personID uuid.UUID, c Contribution, reason string) (*Applied, error)
	// ApplyContributions does the same for many people in one go (uprating), keyed by person;
	// people without an open budget are not in the map.
	ApplyContributions(ctx context.Context, a actor.Actor, cs map[uuid.UUID]Contribution, reason string) (map[uuid.UUID]Applied, error)
}

// People reads the people assessed.
type People interface {
	GetPerson(ctx context.Context, councilID, id uuid.UUID, forUpdate bool) (person.Person, error)
	// GetPeople reads the people of ids that exist, in the order of ids (the order of their locks).
	GetPeople(ctx context.Context, councilID uuid.UUID, ids []uuid.UUID, forUpdate bool) ([]person.Person, error)
}

// Store keeps rate tables, financial assessments and uprating jobs.
type Store interface {
	InsertTable(ctx context.Context, t RateTable) error
	GetTable(ctx context.Context, councilID, id uuid.UUID, forUpdate bool) (RateTable, error)
	UpdateTable(ctx context.Context, t RateTable) error
	ListTables(ctx context.Context, councilID uuid.UUID, inForceOn *date.Date, p page.Request) ([]RateTable, error)
	// TableInForce returns the table with the latest valid_from not after on, apperr.ErrNotFound if none.
	TableInForce(ctx context.Context, councilID uuid.UUID, on date.Date) (RateTable, error)

	InsertAssessment(ctx context.Context, a Assessment) error
	GetAssessment(ctx context.Context, councilID, id uuid.UUID, forUpdate bool) (Assessment, error)
	UpdateAssessment(ctx context.Context, a Assessment) error
	ListAssessments(ctx context.Context, councilID, personID uuid.UUID, p page.Request) ([]Assessment, error)
	// CurrentAssessment returns the person's completed assessment, apperr.ErrNotFound if none.
	CurrentAssessment(ctx context.Context, councilID, personID uuid.UUID, forUpdate bool) (Assessment, error)

	UpratingStore
}

// Service is the charging use cases.
type Service struct {
	store   Store
	people  People
	budgets Budgets
	audit   audit.Recorder
	tx      txn.Transactor
	jobs    Enqueuer
	now     func() time.Time
	log     *slog.Logger
	batches UpratingBatches
}

// NewService returns a Service; jobs queues its background work.
func NewService(store Store, people People, budgets Budgets, auditor audit.Recorder, tx txn.Transactor, jobs Enqueuer, now func() time.Time, log *slog.Logger) *Service {
	return &Service{store: store, people: people, budgets: budgets, audit: auditor, tx: tx, jobs: jobs, now: now, log: log, batches: defaultBatches}
}

func (s *Service) timestamp() time.Time { return s.now().UTC().Truncate(time.Microsecond) }

// ValidateTable checks a table's internal consistency.
func ValidateTable(t RateTable) error {
	var bad apperr.Fields
	if t.Capital.Lower > t.Capital.Upper {
		bad.Add("/capital/lower_pence", "range", "the lower capital limit must not exceed the upper")
	}
	if !t.Rounding.Valid() {
		bad.Add("/rounding", "enum", "rounding is down or nearest")
	}
	if c := t.CareAtHomeCapital; c != nil && c.Lower > c.Upper {
		bad.Add("/care_at_home_capital/lower_pence", "range", "the lower capital limit must not exceed the upper")
	}
	seen := map[[2]string]bool{}
	for i, b := range t.MIG.Base {
		k := [2]string{string(b.Household), string(b.AgeBand)}
		if seen[k] {
			bad.Add("/mig/base/"+itoa(i), "duplicate", "one base rate per household and age band")
		}
		seen[k] = true
	}
	if len(bad) > 0 {
		e := *ErrInvalidTable
		e.Fields = bad
		return &e
	}
	return nil
}

func itoa(i int) string {
	if i < 10 {
		return string(rune('0' + i))
	}
	return itoa(i/10) + string(rune('0'+i%10))
}

// CreateTable adds a rate table.
func (s *Service) CreateTable(ctx context.Context, a actor.Actor, t RateTable) (RateTable, error) {
	t.Name = strings.TrimSpace(t.Name)
	if t.Rounding == "" {
		t.Rounding = RoundDown
	}
	if err := ValidateTable(t); err != nil {
		return RateTable{}, err
	}
	now := s.timestamp()
	t.CouncilID, t.ID, t.Version, t.CreatedAt, t.UpdatedAt = a.CouncilID, uuid.Must(uuid.NewV7()), 1, now, now
	err := s.tx.WithinTx(ctx, func(ctx context.Context) error {
		if err := s.store.InsertTable(ctx, t); err != nil {
			return err
		}
		return s.audit.Record(ctx, a, audit.Event{
			Action: "rate_table.created", EntityType: "rate_table", EntityID: t.ID,
			ChangedFields: []string{"rates"}, Details: map[string]any{"valid_from": t.ValidFrom.String(), "name": t.Name, "rounding": string(t.Rounding),
				"backdated": t.ValidFrom.Before(date.Today(s.now()))},
		})
	})
	return t, err
}

// UpdateTable changes a table not yet in force, at version.
func (s *Service) UpdateTable(ctx context.Context, a actor.Actor, id uuid.UUID, version int, change func(*RateTable)) (RateTable, error) {
	var out RateTable
	err := s.tx.WithinTx(ctx, func(ctx context.Context) error {
		t, err := s.store.GetTable(ctx, a.CouncilID, id, true)
		if err != nil {
			return err
		}
		if t.Version != version {
			return apperr.ErrVersionMismatch
		}
		today := date.Today(s.now())
		if t.InForce(today) {
			return ErrTableInForce
		}
		change(&t)
		t.Name = strings.TrimSpace(t.Name)
		if err := ValidateTable(t); err != nil {
			return err
		}
		if t.InForce(today) {
			return ErrTableInForce.WithMessage("a table cannot be brought into force retrospectively; valid_from must be after today")
		}
		t.Version, t.UpdatedAt = t.Version+1, s.timestamp()
		if err := s.store.UpdateTable(ctx, t); err != nil {
			return err
		}
		out = t
		return s.audit.Record(ctx, a, audit.Event{
			Action: "rate_table.updated", EntityType: "rate_table", EntityID: t.ID, ChangedFields: []string{"rates"},
			Details: map[string]any{"valid_from": t.ValidFrom.String(), "version": t.Version, "rounding": string(t.Rounding)},
		})
	})
	return out, err
}

// GetTable returns one table.
func (s *Service) GetTable(ctx context.Context, a actor.Actor, id uuid.UUID) (RateTable, error) {
	return s.store.GetTable(ctx, a.CouncilID, id, false)
}

// ListTables returns a page of tables by valid_from, or only the one in force on a date.
func (s *Service) ListTables(ctx context.Context, a actor.Actor, inForceOn *date.Date, p page.Request) ([]RateTable, error) {
	return s.store.ListTables(ctx, a.CouncilID, inForceOn, p)
}

// Today is the date in England, for in_force.
func (s *Service) Today() date.Date { return date.Today(s.now()) }

// normalised trims the reasons of f (the schema says so) and checks the rules of its facts.
func normalised(f *Facts) error {
	f.PensionAgeOverrideReason = strings.TrimSpace(f.PensionAgeOverrideReason)
	for i := range f.Income {
		f.Income[i].DisregardReason = strings.TrimSpace(f.Income[i].DisregardReason)
	}
	return ValidateFacts(*f)
}

// overrideDetails adds the audit details of a pension age override, when there is one.
func overrideDetails(details map[string]any, f Facts) map[string]any {
	if f.PensionAgeOverride != nil {
		details["pension_credit_age_override"] = *f.PensionAgeOverride
		details["pension_credit_age_override_reason"] = f.PensionAgeOverrideReason
	}
	return details
}

// withPensionAge derives a draft's pension age facts from its person's date of birth now, so that
// a corrected date of birth shows at once; a completed assessment keeps those its result used.
func withPensionAge(as *Assessment, p person.Person) {
	if as.Status == Draft {
		pa := PensionAgeOf(p.DateOfBirth, as.Facts)
		as.PensionAge = &pa
	} else if as.Result != nil {
		as.PensionAge = as.Result.PensionAge
	}
}

// CreateAssessment starts a draft financial assessment of a person.
func (s *Service) CreateAssessment(ctx context.Context, a actor.Actor, personID uuid.UUID, kind Kind, f Facts) (Assessment, error) {
	if err := normalised(&f); err != nil {
		return Assessment{}, err
	}
	var out Assessment
	err := s.tx.WithinTx(ctx, func(ctx context.Context) error {
		p, err := s.people.GetPerson(ctx, a.CouncilID, personID, false)
		if err != nil {
			return err
		}
		now := s.timestamp()
		out = Assessment{CouncilID: a.CouncilID, ID: uuid.Must(uuid.NewV7()), PersonID: personID, Kind: kind, Status: Draft,
			Facts: f, Version: 1, CreatedAt: now, UpdatedAt: now}
		if err := s.store.InsertAssessment(ctx, out); err != nil {
			return err
		}
		withPensionAge(&out, p)
		return s.audit.Record(ctx, a, audit.Event{
			Action: "financial_assessment.created", EntityType: "financial_assessment", EntityID: out.ID,
			ChangedFields: factNames(f), Details: overrideDetails(map[string]any{"kind": string(kind), "person_id": personID.String()}, f),
		})
	})
	return out, err
}

// GetAssessment returns one assessment. A financial assessment is never within a provider's
// reach: provider staff get apperr.ErrNotFound, as for another council's record.
func (s *Service) GetAssessment(ctx context.Context, a actor.Actor, id uuid.UUID) (Assessment, error) {
	if a.IsProviderOnly() {
		return Assessment{}, apperr.ErrNotFound
	}
	as, err := s.store.GetAssessment(ctx, a.CouncilID, id, false)
	if err != nil {
		return Assessment{}, err
	}
	var p person.Person
	if as.Status == Draft {
		if p, err = s.people.GetPerson(ctx, a.CouncilID, as.PersonID, false); err != nil {
			return Assessment{}, err
		}
	}
	withPensionAge(&as, p)
	return as, nil
}

// ListAssessments returns a page of a person's assessments; provider staff get
// apperr.ErrNotFound.
func (s *Service) ListAssessments(ctx context.Context, a actor.Actor, personID uuid.UUID, p page.Request) ([]Assessment, error) {
	if a.IsProviderOnly() {
		return nil, apperr.ErrNotFound
	}
	who, err := s.people.GetPerson(ctx, a.CouncilID, personID, false)
	if err != nil {
		return nil, err
	}
	list, err := s.store.ListAssessments(ctx, a.CouncilID, personID, p)
	for i := range list {
		withPensionAge(&list[i], who)
	}
	return list, err
}

// UpdateAssessment changes a draft at version with change.
func (s *Service) UpdateAssessment(ctx context.Context, a actor.Actor, id uuid.UUID, version int, changed []string, change func(*Facts)) (Assessment, error) {
	var out Assessment
	err := s.tx.WithinTx(ctx, func(ctx context.Context) error {
		as, err := s.draftForUpdate(ctx, a, id, version)
		if err != nil {
			return err
		}
		change(&as.Facts)
		if err := normalised(&as.Facts); err != nil {
			return err
		}
		p, err := s.people.GetPerson(ctx, a.CouncilID, as.PersonID, false)
		if err != nil {
			return err
		}
		as.Version, as.UpdatedAt = as.Version+1, s.timestamp()
		if err := s.store.UpdateAssessment(ctx, as); err != nil {
			return err
		}
		withPensionAge(&as, p)
		out = as
		return s.audit.Record(ctx, a, audit.Event{
			Action: "financial_assessment.updated", EntityType: "financial_assessment", EntityID: as.ID, ChangedFields: changed,
			Details: overrideDetails(map[string]any{}, as.Facts),
		})
	})
	return out, err
}

// draftForUpdate loads a draft assessment, locked, at version.
func (s *Service) draftForUpdate(ctx context.Context, a actor.Actor, id uuid.UUID, version int) (Assessment, error) {
	as, err := s.store.GetAssessment(ctx, a.CouncilID, id, true)
	switch {
	case err != nil:
		return Assessment{}, err
	case as.Version != version:
		return Assessment{}, apperr.ErrVersionMismatch
	case as.Status != Draft:
		return Assessment{}, ErrNotDraft
	}
	return as, nil
}

// incomplete reports what a full assessment still lacks.
func incomplete(kind Kind, f Facts) error {
	var missing apperr.Fields
	if kind == Full {
		if f.Household == "" {
			missing.Add("/household", "required_to_complete", "household must be recorded before completion")
		}
	} else if strings.TrimSpace(f.LightTouchReason) == "" {
		missing.Add("/light_touch_reason", "required_to_complete", "a light-touch assessment records its reason")
	}
	if len(missing) > 0 {
		e := *ErrIncomplete
		e.Fields = missing
		return &e
	}
	return nil
}

// CompleteAssessment computes the contribution with the table in force on the effective date,
// supersedes the person's earlier assessment and recomposes their open budget: one transaction.
func (s *Service) CompleteAssessment(ctx context.Context, a actor.Actor, id uuid.UUID, version int) (Assessment, error) {
	var out Assessment
	err := s.tx.WithinTx(ctx, func(ctx context.Context) error {
		as, err := s.draftForUpdate(ctx, a, id, version)
		if err != nil {
			return err
		}
		if err := incomplete(as.Kind, as.Facts); err != nil {
			return err
		}
		if as.Facts.EffectiveDate.After(date.Today(s.now())) {
			e := *ErrEffectiveInFuture
			var f apperr.Fields
			f.Add("/effective_date", "not_after_today", "effective_date "+as.Facts.EffectiveDate.String()+" is after today")
			e.Fields = f
			return &e
		}
		p, err := s.people.GetPerson(ctx, a.CouncilID, as.PersonID, true) // one completion per person at a time
		if err != nil {
			return err
		}
		out, err = s.complete(ctx, a, as, p, "")
		return err
	})
	return out, err
}

// complete finishes as (a draft, or a recalculation) for person p: calculation, supersession,
// budget, store, audit. Call it in a transaction. The uprating batch (recalculateBatch) does the
// same for many people with calculate, contributionOf and completed.
func (s *Service) complete(ctx context.Context, a actor.Actor, as Assessment, p person.Person, reason string) (Assessment, error) {
	table, err := s.tableInForce(ctx, a.CouncilID, as.Facts.EffectiveDate)
	if err != nil {
		return Assessment{}, err
	}
	res, err := calculate(as, p, table)
	if err != nil {
		return Assessment{}, err
	}
	prev, err := s.store.CurrentAssessment(ctx, a.CouncilID, as.PersonID, true)
	switch {
	case err == nil:
		prev.Status, prev.Version, prev.UpdatedAt = Superseded, prev.Version+1, s.timestamp()
		if err := s.store.UpdateAssessment(ctx, prev); err != nil {
			return Assessment{}, err
		}
		as.SupersedesID = &prev.ID
	case !errors.Is(err, apperr.ErrNotFound):
		return Assessment{}, err
	}
	budgetReason := reason
	if budgetReason == "" {
		budgetReason = "financial assessment completed"
	}
	applied, err := s.budgets.ApplyContribution(ctx, a, as.PersonID, contributionOf(as, table, res), budgetReason)
	if err != nil {
		return Assessment{}, err
	}
	isNew := as.Version == 0 // a recalculation: a new row
	as, ev := completed(a, as, res, table, applied, reason, s.timestamp())
	if isNew {
		err = s.store.InsertAssessment(ctx, as)
	} else {
		err = s.store.UpdateAssessment(ctx, as)
	}
	if err != nil {
		return Assessment{}, err
	}
	return as, s.audit.Record(ctx, a, ev)
}

// tableInForce is the council's rate table in force on a date, ErrNoTable when none is.
func (s *Service) tableInForce(ctx context.Context, councilID uuid.UUID, on date.Date) (RateTable, error) {
	table, err := s.store.TableInForce(ctx, councilID, on)
	if errors.Is(err, apperr.ErrNotFound) {
		return RateTable{}, ErrNoTable
	}
	return table, err
}

// calculate works out as's contribution for person p with table, the one in force on its
// effective date.
func calculate(as Assessment, p person.Person, table RateTable) (Result, error) {
	return Calculate(as.Kind, as.Facts, p.DateOfBirth, table)
}

// contributionOf is what the budget takes of assessment as's result.
func contributionOf(as Assessment, table RateTable, res Result) Contribution {
	return Contribution{FinancialAssessmentID: as.ID, RateTableID: table.ID, FullCost: res.FullCost, Assessed: res.Assessed, Minimum: res.MinimumCharge,
		EffectiveFrom: as.Facts.EffectiveDate}
}

// completed returns as completed at now with res under table and the budget it recomposed
// (applied; nil when the person has no open budget), with its audit event. A recalculation (as
// not yet stored, version 0) gives its reason. The caller stores both.
func completed(a actor.Actor, as Assessment, res Result, table RateTable, applied *Applied, reason string, now time.Time) (Assessment, audit.Event) {
	// The figures of the decision, and how the MIG's age row was chosen (not the date of birth).
	details := map[string]any{"rate_table_id": table.ID.String(), "rate_table_valid_from": table.ValidFrom.String(), "kind": string(as.Kind),
		"mig_weekly_pence": res.MIG, "available_weekly_pence": res.Available, "income_disregarded_weekly_pence": res.IncomeDisregarded,
		"taper_percent": res.TaperPercent, "taper_rounding": string(res.Rounding), "assessed_weekly_charge_pence": res.Assessed,
		"full_cost": res.FullCost}
	if pa := res.PensionAge; pa != nil {
		details["pension_credit_age_reached"], details["pension_credit_age_by_date_of_birth"] = pa.Reached, pa.ByDateOfBirth
		if pa.Overridden {
			details["pension_credit_age_override_reason"] = pa.OverrideReason
		}
	}
	if applied != nil {
		res.WeeklyCost, res.WeeklyCharge = &applied.WeeklyCost, &applied.WeeklyCharge
		res.Steps = append(res.Steps, applied.Steps...)
		details["budget_id"] = applied.BudgetID.String()
		as.budgetID = &applied.BudgetID
	} else {
		res.Steps = append(res.Steps, money.NewStep("cap_at_cost", res.Assessed,
			"no open care and support budget yet: the charge is capped at its weekly cost when one is issued"))
	}
	if as.SupersedesID != nil {
		details["supersedes_id"] = as.SupersedesID.String()
	}
	as.Status, as.Result, as.RateTable, as.CompletedAt, as.CompletedBy, as.ChangeReason = Completed, &res, &table, &now, &a.Subject, reason
	as.PensionAge = res.PensionAge
	if as.Version == 0 {
		as.Version, as.CreatedAt, as.UpdatedAt = 1, now, now
	} else {
		as.Version, as.UpdatedAt = as.Version+1, now
	}
	action := "financial_assessment.completed"
	if as.ChangeReason != "" {
		action = "financial_assessment.recalculated"
	}
	return as, audit.Event{
		Action: action, EntityType: "financial_assessment", EntityID: as.ID, ChangedFields: []string{"status", "result"},
		Reason: as.ChangeReason, Details: details,
	}
}

func factNames(f Facts) []string {
	names := []string{"effective_date"}
	add := func(set bool, n string) {
		if set {
			names = append(names, n)
		}
	}
	add(f.Household != "", "household")
	add(f.PensionAgeOverride != nil, "pension_credit_age_override")
	add(f.PensionAgeOverrideReason != "", "pension_credit_age_override_reason")
	add(len(f.Income) > 0, "income")
	add(len(f.Capital) > 0, "capital")
	add(f.HousingCosts > 0, "housing_costs_weekly_pence")
	add(len(f.DRE) > 0, "dre")
	add(len(f.OtherAllowances) > 0, "other_allowances")
	add(f.LightTouchReason != "", "light_touch_reason")
	add(f.Notes != "", "notes")
	return names
}
