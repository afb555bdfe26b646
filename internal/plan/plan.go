package plan

import (
	"context"
	"errors"
	"strings"
	"time"

	"github.com/google/uuid"

	"github.com/pbudget/pbudget/internal/actor"
	"github.com/pbudget/pbudget/internal/apperr"
	"github.com/pbudget/pbudget/internal/audit"
	"github.com/pbudget/pbudget/internal/budget"
	"github.com/pbudget/pbudget/internal/charging"
	"github.com/pbudget/pbudget/internal/council"
	"github.com/pbudget/pbudget/internal/date"
	"github.com/pbudget/pbudget/internal/page"
	"github.com/pbudget/pbudget/internal/person"
	"github.com/pbudget/pbudget/internal/provider"
	"github.com/pbudget/pbudget/internal/txn"
)

// Status is draft, submitted, approved or superseded (by an approved revision).
type Status string

// The plan statuses.
const (
	Draft      Status = "draft"
	Submitted  Status = "submitted"
	Approved   Status = "approved"
	Superseded Status = "superseded"
)

// Outcome is an outcome the plan pursues, linked to the assessed needs it answers.
type Outcome struct {
	Description   string   `json:"description"`
	AssessedNeeds []string `json:"assessed_needs"`
}

// Parts are the seven parts of a plan; part 5 (spending) is the lines.
type Parts struct {
	WhatIsImportant      string
	WhatToChange         string
	InformationAndAdvice string
	ArrangingSupport     string
	ManagingSupport      string
	StayingInControl     string
	Outcomes             []Outcome
}

// Checks are the approver's sign-off checks (DOMAIN.md section 5).
type Checks struct {
	SpecificAndPersonal    bool `json:"specific_and_personal"`
	ClearAndDetailed       bool `json:"clear_and_detailed"`
	Legal                  bool `json:"legal"`
	PersonInControl        bool `json:"person_in_control"`
	MeetsAssessedNeeds     bool `json:"meets_assessed_needs"`
	RisksManaged           bool `json:"risks_managed"`
	WithinBudget           bool `json:"within_budget"`
	HealthySafeWell        bool `json:"healthy_safe_well"`
	ManagementOptionChosen bool `json:"management_option_chosen"`
	ContingencyPlan        bool `json:"contingency_plan"`
}

func (c Checks) failed() []string {
	var out []string
	for _, f := range []struct {
		ok   bool
		name string
	}{
		{c.SpecificAndPersonal, "specific_and_personal"}, {c.ClearAndDetailed, "clear_and_detailed"}, {c.Legal, "legal"},
		{c.PersonInControl, "person_in_control"}, {c.MeetsAssessedNeeds, "meets_assessed_needs"}, {c.RisksManaged, "risks_managed"},
		{c.WithinBudget, "within_budget"}, {c.HealthySafeWell, "healthy_safe_well"},
		{c.ManagementOptionChosen, "management_option_chosen"}, {c.ContingencyPlan, "contingency_plan"},
	} {
		if !f.ok {
			out = append(out, f.name)
		}
	}
	return out
}

// Plan is a care and support plan of a budget.
type Plan struct {
	CouncilID      uuid.UUID
	ID             uuid.UUID
	BudgetID       uuid.UUID
	PersonID       uuid.UUID
	Number         int
	Status         Status
	RevisesID      *uuid.UUID
	Parts          Parts
	Lines          []Line
	TopUps         []TopUp // paid by third parties outside the budget: nothing that sizes or pays the budget reads them
	AnnualCost     int64   // stored for the work lists
	SubmittedAt    *time.Time
	SubmittedBy    *string // the sub of the submitter; nil for drafts and plans submitted before it was kept
	ReturnedReason *string
	ApprovedAt     *time.Time
	ApprovedBy     *string
	Checks         *Checks
	Version        int
	CreatedAt      time.Time
	UpdatedAt      time.Time
}

// Cursor is the page position of a plan.
func (p Plan) Cursor() page.Cursor { return page.Cursor{Time: p.CreatedAt, ID: p.ID} }

// View is a plan as a reader sees it: totals, the ceiling, whether it is over the approver limit.
// Provider staff see their own lines, totals of those lines without the person's share, and no
// ceiling (nil).
type View struct {
	Plan
	Totals          Totals
	Ceiling         *int64
	OverApproverLim bool
}

// Errors of the plan life cycle.
var (
	ErrNotDraft          = apperr.New(apperr.Conflict, "plan-not-draft", "only a draft plan can be changed or submitted")
	ErrNotSubmitted      = apperr.New(apperr.Conflict, "plan-not-submitted", "only a submitted plan can be approved or returned")
	ErrNotApproved       = apperr.New(apperr.Conflict, "plan-not-approved", "only an approved plan can be revised or managed")
	ErrOpenPlan          = apperr.New(apperr.Conflict, "plan-in-progress", "the budget already has a plan in draft or awaiting sign-off")
	ErrNoLines           = apperr.New(apperr.RuleViolation, "plan-has-no-lines", "a plan says how the budget is spent: add at least one line")
	ErrChecksFailed      = apperr.New(apperr.RuleViolation, "sign-off-checks-failed", "every sign-off check must hold to approve; return the plan instead")
	ErrOverLimit         = apperr.New(apperr.Forbidden, "over-delegated-limit", "the plan costs more a year than an approver may sign off: the panel signs it off")
	ErrLineNotFound      = apperr.New(apperr.NotFound, "not-found", "no such line in this plan")
	ErrBudgetNotOpen     = apperr.New(apperr.Conflict, "budget-ended", "the budget has ended")
	ErrApprovedMeanwhile = apperr.New(apperr.Conflict, "plan-approved-meanwhile",
		"another plan of this budget was approved at the same moment: reload and revise it")
	ErrPAUnknown = apperr.New(apperr.RuleViolation, "personal-assistant-not-found",
		"personal_assistant_id names no person of this council: record the personal assistant as a person first")
	ErrPAIsPerson = apperr.New(apperr.RuleViolation, "personal-assistant-is-the-person",
		"the person cannot be their own personal assistant")
)

// Filter narrows the work lists.
type Filter struct {
	BudgetID   *uuid.UUID
	ProviderID *uuid.UUID // approved plans in which the provider holds an ISF or a line
	Status     Status
	OverLimit  *bool
	LimitPence int64
}

// Store keeps plans, the catalogue and agreements.
type Store interface {
	NextNumber(ctx context.Context, councilID, budgetID uuid.UUID) (int, error)
	InsertPlan(ctx context.Context, p Plan) error
	GetPlan(ctx context.Context, councilID, id uuid.UUID, forUpdate bool) (Plan, error)
	// UpdatePlan writes the plan and replaces its lines, if the stored version is p.Version − 1.
	UpdatePlan(ctx context.Context, p Plan) error
	ListPlans(ctx context.Context, councilID uuid.UUID, f Filter, p page.Request) ([]Plan, error)
	// PriorLines returns the direct-payment lines ending after since of the person's approved
	// plans of budgets other than budgetID.
	PriorLines(ctx context.Context, councilID, personID, budgetID uuid.UUID, since date.Date) ([]Line, error)

	Categories(ctx context.Context, councilID uuid.UUID) (map[string]Category, error)
	InsertCategory(ctx context.Context, councilID uuid.UUID, c Category) error

	AgreementStore
}

// Budgets is what plans need of budgets.
type Budgets interface {
	Get(ctx context.Context, a actor.Actor, id uuid.UUID) (budget.Budget, error)
	AgreePlan(ctx context.Context, a actor.Actor, budgetID uuid.UUID, ag budget.Agreement) (budget.Budget, error)
	ContributionFor(ctx context.Context, a actor.Actor, personID uuid.UUID) (*charging.Contribution, error)
}

// People is what plans need of people.
type People interface {
	GetPerson(ctx context.Context, councilID, id uuid.UUID, forUpdate bool) (person.Person, error)
	ListRelationships(ctx context.Context, councilID, personID uuid.UUID, includeEnded bool, p page.Request) ([]person.Relationship, error)
}

// Reach hides from provider staff the budgets and plans in which they hold nothing.
type Reach interface {
	CheckBudgetReach(ctx context.Context, a actor.Actor, budgetID uuid.UUID) error
	CheckPlanReach(ctx context.Context, a actor.Actor, planID uuid.UUID) error
}

// Providers reads providers.
type Providers interface {
	GetProvider(ctx context.Context, councilID, id uuid.UUID, forUpdate bool) (provider.Provider, error)
}

// Settings reads the council's settings.
type Settings interface {
	Get(ctx context.Context, councilID uuid.UUID) (council.Settings, error)
}

// Service is the plan use cases.
type Service struct {
	store     Store
	budgets   Budgets
	people    People
	reach     Reach
	providers Providers
	settings  Settings
	audit     audit.Recorder
	tx        txn.Transactor
	now       func() time.Time
}

// Deps are the Service's collaborators.
type Deps struct {
	Store     Store
	Budgets   Budgets
	People    People
	Reach     Reach
	Providers Providers
	Settings  Settings
	Audit     audit.Recorder
	Tx        txn.Transactor
	Now       func() time.Time
}

// NewService returns a Service.
func NewService(d Deps) *Service {
	return &Service{store: d.Store, budgets: d.Budgets, people: d.People, reach: d.Reach, providers: d.Providers,
		settings: d.Settings, audit: d.Audit, tx: d.Tx, now: d.Now}
}

func (s *Service) timestamp() time.Time { return s.now().UTC().Truncate(time.Microsecond) }

// Create starts a draft plan for an open budget.
func (s *Service) Create(ctx context.Context, a actor.Actor, budgetID uuid.UUID, parts Parts) (View, error) {
	var out View
	err := s.tx.WithinTx(ctx, func(ctx context.Context) error {
		b, err := s.budgets.Get(ctx, a, budgetID)
		if err != nil {
			return err
		}
		if b.Status == budget.Ended {
			return ErrBudgetNotOpen
		}
		n, err := s.store.NextNumber(ctx, a.CouncilID, budgetID)
		if err != nil {
			return err
		}
		now := s.timestamp()
		p := Plan{CouncilID: a.CouncilID, ID: uuid.Must(uuid.NewV7()), BudgetID: budgetID, PersonID: b.PersonID, Number: n,
			Status: Draft, Parts: parts, Version: 1, CreatedAt: now, UpdatedAt: now}
		if err := s.store.InsertPlan(ctx, p); err != nil {
			return err
		}
		if out, err = s.view(ctx, a, p, &b); err != nil {
			return err
		}
		return s.audit.Record(ctx, a, audit.Event{Action: "support_plan.created", EntityType: "support_plan", EntityID: p.ID,
			ChangedFields: partNames(parts), Details: map[string]any{"budget_id": budgetID.String(), "number": n}})
	})
	return out, err
}

// Get returns a plan; provider staff see it only when they serve the person, and only their lines.
func (s *Service) Get(ctx context.Context, a actor.Actor, id uuid.UUID) (View, error) {
	p, err := s.store.GetPlan(ctx, a.CouncilID, id, false)
	if err != nil {
		return View{}, err
	}
	if err := s.reach.CheckPlanReach(ctx, a, p.ID); err != nil {
		return View{}, err
	}
	return s.view(ctx, a, p, nil)
}

// List returns a page of plans with their totals.
func (s *Service) List(ctx context.Context, a actor.Actor, f Filter, pr page.Request) ([]View, error) {
	if f.BudgetID != nil {
		b, err := s.budgets.Get(ctx, a, *f.BudgetID)
		if err != nil {
			return nil, err
		}
		if err := s.reach.CheckBudgetReach(ctx, a, b.ID); err != nil {
			return nil, err
		}
	}
	if a.IsProviderOnly() {
		f.ProviderID = a.ProviderID // only the approved plans in which they hold something
	}
	st, err := s.settings.Get(ctx, a.CouncilID)
	if err != nil {
		return nil, err
	}
	f.LimitPence = st.ApproverLimitAnnual
	plans, err := s.store.ListPlans(ctx, a.CouncilID, f, pr)
	if err != nil {
		return nil, err
	}
	out := make([]View, len(plans))
	for i, p := range plans {
		if out[i], err = s.viewWith(ctx, a, p, nil, st, nil); err != nil {
			return nil, err
		}
	}
	return out, nil
}

// view adds totals (with the person's contribution) and the budget's ceiling; provider staff see
// only their own lines, though the totals remain the plan's.
func (s *Service) view(ctx context.Context, a actor.Actor, p Plan, b *budget.Budget) (View, error) {
	st, err := s.settings.Get(ctx, a.CouncilID)
	if err != nil {
		return View{}, err
	}
	return s.viewWith(ctx, a, p, b, st, nil)
}

// Figures is what a plan costs and who pays: the totals per management option with the
// person's and the council's shares (from the contribution c, nil before a financial
// assessment), the budget's ceiling, and whether the cost is over the approver's limit. Only the
// plan's lines count: its top-ups are a third party's money (TestTopUpsChangeNoFigureOfTheBudget).
func Figures(p Plan, c *charging.Contribution, ceiling, approverLimit int64) View {
	return figures(p, budget.Compose(total(p), c), ceiling, approverLimit)
}

func total(p Plan) int64 {
	var t int64
	for _, l := range p.Lines {
		t += l.Annual
	}
	return t
}

// figures is Figures with the split of the plan's cost already composed.
func figures(p Plan, split budget.Split, ceiling, approverLimit int64) View {
	return View{Plan: p, Totals: Sum(p.Lines, split.PersonAnnual, split.PersonWeekly), Ceiling: &ceiling,
		OverApproverLim: split.AnnualCost > approverLimit}
}

// viewWith is view with the council's settings already read (once for a whole list), and the
// split of the plan's cost when the command has just composed it (plan approval: the budget
// agreed on the plan's cost with the person's current contribution), else composed here.
func (s *Service) viewWith(ctx context.Context, a actor.Actor, p Plan, b *budget.Budget, st council.Settings, split *budget.Split) (View, error) {
	if b == nil {
		got, err := s.budgets.Get(ctx, a, p.BudgetID)
		if err != nil {
			return View{}, err
		}
		b = &got
	}
	if split == nil || split.AnnualCost != total(p) {
		c, err := s.budgets.ContributionFor(ctx, a, p.PersonID)
		if err != nil {
			return View{}, err
		}
		if b.Kind != budget.CareAndSupport {
			c = nil
		}
		composed := budget.Compose(total(p), c)
		split = &composed
	}
	v := figures(p, *split, b.Current.CeilingAnnual, st.ApproverLimitAnnual)
	if a.IsProviderOnly() {
		// Least privilege: what their lines need, not the person's contribution or the budget's
		// other amounts.
		own := LinesOf(p.Lines, *a.ProviderID)
		v.Lines, v.Totals, v.Ceiling, v.TopUps = own, Sum(own, nil, nil), nil, nil // a family's top-ups are not the provider's
	}
	return v, nil
}

// UpdateParts changes a draft's parts at version.
func (s *Service) UpdateParts(ctx context.Context, a actor.Actor, id uuid.UUID, version int, changed []string, change func(*Parts)) (View, error) {
	return s.draftChange(ctx, a, id, version, func(ctx context.Context, p *Plan) (audit.Event, error) {
		change(&p.Parts)
		return audit.Event{Action: "support_plan.updated", ChangedFields: changed}, nil
	})
}

// LineInput is a line as the caller describes it.
type LineInput = Line

// AddLine adds a line to a draft at version, checking the plan's rules.
func (s *Service) AddLine(ctx context.Context, a actor.Actor, id uuid.UUID, version int, l LineInput) (View, uuid.UUID, error) {
	l.ID = uuid.Must(uuid.NewV7())
	v, err := s.draftChange(ctx, a, id, version, func(ctx context.Context, p *Plan) (audit.Event, error) {
		p.Lines = append(p.Lines, l)
		return s.checked(ctx, a, p, audit.Event{Action: "support_plan.line_added", ChangedFields: []string{"lines"},
			Details: map[string]any{"line_id": l.ID.String(), "management_option": string(l.Option), "category": l.Category}})
	})
	return v, l.ID, err
}

// ReplaceLine replaces a line of a draft at version.
func (s *Service) ReplaceLine(ctx context.Context, a actor.Actor, id, lineID uuid.UUID, version int, l LineInput) (View, error) {
	return s.draftChange(ctx, a, id, version, func(ctx context.Context, p *Plan) (audit.Event, error) {
		i := indexOf(p.Lines, lineID)
		if i < 0 {
			return audit.Event{}, ErrLineNotFound
		}
		l.ID = lineID
		p.Lines[i] = l
		return s.checked(ctx, a, p, audit.Event{Action: "support_plan.line_replaced", ChangedFields: []string{"lines"},
			Details: map[string]any{"line_id": lineID.String(), "management_option": string(l.Option), "category": l.Category}})
	})
}

// RemoveLine removes a line of a draft at version.
func (s *Service) RemoveLine(ctx context.Context, a actor.Actor, id, lineID uuid.UUID, version int) (View, error) {
	return s.draftChange(ctx, a, id, version, func(ctx context.Context, p *Plan) (audit.Event, error) {
		i := indexOf(p.Lines, lineID)
		if i < 0 {
			return audit.Event{}, ErrLineNotFound
		}
		p.Lines = append(p.Lines[:i], p.Lines[i+1:]...)
		p.TopUps = withoutLine(p.TopUps, lineID) // a top-up of a line goes with it
		return s.checked(ctx, a, p, audit.Event{Action: "support_plan.line_removed", ChangedFields: []string{"lines"},
			Details: map[string]any{"line_id": lineID.String()}})
	})
}

func indexOf(lines []Line, id uuid.UUID) int {
	for i, l := range lines {
		if l.ID == id {
			return i
		}
	}
	return -1
}

// Submit sends a draft for sign-off.
func (s *Service) Submit(ctx context.Context, a actor.Actor, id uuid.UUID, version int) (View, error) {
	return s.draftChange(ctx, a, id, version, func(ctx context.Context, p *Plan) (audit.Event, error) {
		if len(p.Lines) == 0 {
			return audit.Event{}, ErrNoLines
		}
		now, by := s.timestamp(), a.Subject
		p.Status, p.SubmittedAt, p.SubmittedBy = Submitted, &now, &by
		return s.checked(ctx, a, p, audit.Event{Action: "support_plan.submitted", ChangedFields: []string{"status"}})
	})
}

// Return sends a submitted plan back to draft with a reason.
func (s *Service) Return(ctx context.Context, a actor.Actor, id uuid.UUID, version int, reason string) (View, error) {
	reason = strings.TrimSpace(reason)
	return s.change(ctx, a, id, version, func(ctx context.Context, p *Plan) (audit.Event, error) {
		if p.Status != Submitted {
			return audit.Event{}, ErrNotSubmitted
		}
		p.Status, p.ReturnedReason, p.SubmittedAt, p.SubmittedBy = Draft, &reason, nil, nil
		return audit.Event{Action: "support_plan.returned", ChangedFields: []string{"status"}, Reason: reason}, nil
	})
}

// ErrSelfApproval refuses a sign-off by the plan's submitter (segregation of duties).
var ErrSelfApproval = apperr.New(apperr.RuleViolation, "approver-is-submitter",
	"the user who submitted this plan cannot sign it off (council setting approver_must_differ_from_submitter): another approver must")

// Approval is an approver's sign-off.
type Approval struct {
	Checks           Checks
	DifferenceReason string
	Notes            string
}

// Approve signs a submitted plan off: someone other than its submitter (unless the council has
// turned segregation of duties off), every check must hold, an approver may sign off only within
// the council's delegated limit (above it, the panel), the rules must still hold, and the budget
// becomes agreed on the plan's cost. The budget's approved plan (the one revised, or any other)
// is superseded.
func (s *Service) Approve(ctx context.Context, a actor.Actor, id uuid.UUID, version int, ap Approval) (View, error) {
	return s.changeWith(ctx, a, id, version, func(ctx context.Context, p *Plan) (audit.Event, *budget.Budget, error) {
		if p.Status != Submitted {
			return audit.Event{}, nil, ErrNotSubmitted
		}
		st, err := s.settings.Get(ctx, a.CouncilID)
		if err != nil {
			return audit.Event{}, nil, err
		}
		if st.ApproverMustDifferFromSubmitter && p.SubmittedBy != nil && *p.SubmittedBy == a.Subject {
			return audit.Event{}, nil, ErrSelfApproval
		}
		if failed := ap.Checks.failed(); len(failed) > 0 {
			return audit.Event{}, nil, ErrChecksFailed.WithMessage("these sign-off checks do not hold: %s; return the plan instead", strings.Join(failed, ", "))
		}
		if _, err := s.checked(ctx, a, p, audit.Event{}); err != nil {
			return audit.Event{}, nil, err
		}
		cost := p.AnnualCost
		if cost > st.ApproverLimitAnnual && !a.Has(actor.Panel) {
			return audit.Event{}, nil, ErrOverLimit
		}
		// The budget's approved plan, revised or replaced, gives way: one approved plan a budget.
		current, err := s.store.ListPlans(ctx, a.CouncilID, Filter{BudgetID: &p.BudgetID, Status: Approved}, page.Request{Size: page.MaxSize})
		if err != nil {
			return audit.Event{}, nil, err
		}
		var superseded []string
		for _, c := range current {
			prev, err := s.store.GetPlan(ctx, a.CouncilID, c.ID, true)
			if err != nil {
				return audit.Event{}, nil, err
			}
			if prev.Status != Approved {
				continue
			}
			prev.Status, prev.Version, prev.UpdatedAt = Superseded, prev.Version+1, s.timestamp()
			if err := s.store.UpdatePlan(ctx, prev); err != nil {
				return audit.Event{}, nil, err
			}
			superseded = append(superseded, prev.ID.String())
		}
		agreed, err := s.budgets.AgreePlan(ctx, a, p.BudgetID, budget.Agreement{
			PlanID: p.ID, FinalAnnual: cost, DifferenceReason: strings.TrimSpace(ap.DifferenceReason),
		})
		if err != nil {
			return audit.Event{}, nil, err
		}
		now := s.timestamp()
		checks := ap.Checks
		p.Status, p.ApprovedAt, p.ApprovedBy, p.Checks, p.ReturnedReason = Approved, &now, &a.Subject, &checks, nil
		role := "approver"
		if cost > st.ApproverLimitAnnual {
			role = "panel"
		}
		return audit.Event{Action: "support_plan.approved", ChangedFields: []string{"status", "sign_off_checks"},
			Reason: strings.TrimSpace(ap.DifferenceReason),
			Details: map[string]any{"annual_cost_pence": cost, "approver_limit_annual_pence": st.ApproverLimitAnnual, "signed_off_as": role,
				"checks": checks, "notes_recorded": ap.Notes != "", "superseded_plan_ids": superseded,
				"approver_must_differ_from_submitter": st.ApproverMustDifferFromSubmitter}}, &agreed, nil
	})
}

// Revise starts a new draft from an approved plan, with the same parts and lines.
func (s *Service) Revise(ctx context.Context, a actor.Actor, id uuid.UUID, version int) (View, error) {
	var out View
	err := s.tx.WithinTx(ctx, func(ctx context.Context) error {
		p, err := s.store.GetPlan(ctx, a.CouncilID, id, true)
		if err != nil {
			return err
		}
		if p.Version != version {
			return apperr.ErrVersionMismatch
		}
		if p.Status != Approved {
			return ErrNotApproved
		}
		n, err := s.store.NextNumber(ctx, a.CouncilID, p.BudgetID)
		if err != nil {
			return err
		}
		now := s.timestamp()
		next := Plan{CouncilID: a.CouncilID, ID: uuid.Must(uuid.NewV7()), BudgetID: p.BudgetID, PersonID: p.PersonID, Number: n,
			Status: Draft, RevisesID: &p.ID, Parts: p.Parts, AnnualCost: p.AnnualCost, Version: 1, CreatedAt: now, UpdatedAt: now}
		newID := map[uuid.UUID]uuid.UUID{}
		for _, l := range p.Lines {
			old := l.ID
			l.ID = uuid.Must(uuid.NewV7())
			newID[old] = l.ID
			next.Lines = append(next.Lines, l)
		}
		for _, t := range p.TopUps {
			t.ID, t.PlanID = uuid.Must(uuid.NewV7()), next.ID
			if t.LineID != nil {
				id := newID[*t.LineID]
				t.LineID = &id
			}
			next.TopUps = append(next.TopUps, t)
		}
		if err := s.store.InsertPlan(ctx, next); err != nil {
			return err
		}
		if out, err = s.view(ctx, a, next, nil); err != nil {
			return err
		}
		return s.audit.Record(ctx, a, audit.Event{Action: "support_plan.revision_started", EntityType: "support_plan", EntityID: next.ID,
			Details: map[string]any{"revises_id": p.ID.String(), "number": n}})
	})
	return out, err
}

// draftChange is change for drafts only.
func (s *Service) draftChange(ctx context.Context, a actor.Actor, id uuid.UUID, version int, fn func(context.Context, *Plan) (audit.Event, error)) (View, error) {
	return s.change(ctx, a, id, version, func(ctx context.Context, p *Plan) (audit.Event, error) {
		if p.Status != Draft {
			return audit.Event{}, ErrNotDraft
		}
		return fn(ctx, p)
	})
}

// change loads a plan for update at version, applies fn, stores and audits it.
func (s *Service) change(ctx context.Context, a actor.Actor, id uuid.UUID, version int, fn func(context.Context, *Plan) (audit.Event, error)) (View, error) {
	return s.changeWith(ctx, a, id, version, func(ctx context.Context, p *Plan) (audit.Event, *budget.Budget, error) {
		ev, err := fn(ctx, p)
		return ev, nil, err
	})
}

// changeWith is change for a command that also changes the plan's budget (approval): fn returns
// the budget as it left it, which the plan's view shows without reading it again.
func (s *Service) changeWith(ctx context.Context, a actor.Actor, id uuid.UUID, version int, fn func(context.Context, *Plan) (audit.Event, *budget.Budget, error)) (View, error) {
	var out View
	err := s.tx.WithinTx(ctx, func(ctx context.Context) error {
		p, err := s.store.GetPlan(ctx, a.CouncilID, id, true)
		if err != nil {
			return err
		}
		if p.Version != version {
			return apperr.ErrVersionMismatch
		}
		ev, b, err := fn(ctx, &p)
		if err != nil {
			return err
		}
		p.Version, p.UpdatedAt = p.Version+1, s.timestamp()
		if err := s.store.UpdatePlan(ctx, p); err != nil {
			return err
		}
		if b == nil {
			out, err = s.view(ctx, a, p, nil)
		} else {
			var st council.Settings
			if st, err = s.settings.Get(ctx, a.CouncilID); err == nil {
				out, err = s.viewWith(ctx, a, p, b, st, &b.Current.Split)
			}
		}
		if err != nil {
			return err
		}
		ev.EntityType, ev.EntityID = "support_plan", p.ID
		return s.audit.Record(ctx, a, ev)
	})
	return out, err
}

// checked costs the plan's lines within its budget's year and applies the plan rules.
func (s *Service) checked(ctx context.Context, a actor.Actor, p *Plan, ev audit.Event) (audit.Event, error) {
	b, err := s.budgets.Get(ctx, a, p.BudgetID)
	if err != nil {
		return audit.Event{}, err
	}
	if b.Status == budget.Ended {
		return audit.Event{}, ErrBudgetNotOpen
	}
	f, err := s.facts(ctx, a, b, p.Lines)
	if err != nil {
		return audit.Event{}, err
	}
	p.AnnualCost = 0
	for i := range p.Lines {
		p.Lines[i].Annual, p.Lines[i].Weekly = Cost(p.Lines[i], f.BudgetStart, f.BudgetEnd)
		p.AnnualCost += p.Lines[i].Annual
	}
	if err := Check(p.Lines, f); err != nil {
		return audit.Event{}, err
	}
	return ev, nil
}

// facts gathers what the rules need: the person, the budget's year and ceiling, the catalogue,
// the providers named, the family ties of the personal assistants named, the council's settings.
func (s *Service) facts(ctx context.Context, a actor.Actor, b budget.Budget, lines []Line) (Facts, error) {
	pe, err := s.people.GetPerson(ctx, a.CouncilID, b.PersonID, false)
	if err != nil {
		return Facts{}, err
	}
	cats, err := s.store.Categories(ctx, a.CouncilID)
	if err != nil {
		return Facts{}, err
	}
	st, err := s.settings.Get(ctx, a.CouncilID)
	if err != nil {
		return Facts{}, err
	}
	f := Facts{PersonType: pe.Type, BudgetStart: b.StartDate, BudgetEnd: b.StartDate.AddDate(1, 0, 0), Ceiling: b.Current.CeilingAnnual,
		Categories: cats, Providers: map[uuid.UUID]provider.Provider{}, Family: map[uuid.UUID]FamilyTie{}, Settings: st}
	// The care-home and short-break limits run over any 12 months: the person's other approved
	// plans' direct-payment lines of the year before this budget count too.
	if f.Prior, err = s.store.PriorLines(ctx, a.CouncilID, b.PersonID, b.ID, b.StartDate.AddDate(-1, 0, 0)); err != nil {
		return Facts{}, err
	}
	var rels []person.Relationship
	for i, l := range lines {
		if l.PersonalAssistantID != nil {
			if *l.PersonalAssistantID == b.PersonID {
				return Facts{}, violation(ErrPAIsPerson, []int{i}, "")
			}
			if _, err := s.people.GetPerson(ctx, a.CouncilID, *l.PersonalAssistantID, false); errors.Is(err, apperr.ErrNotFound) {
				return Facts{}, violation(ErrPAUnknown, []int{i}, "")
			} else if err != nil {
				return Facts{}, err
			}
		}
		if l.ProviderID != nil {
			if _, seen := f.Providers[*l.ProviderID]; !seen {
				p, err := s.providers.GetProvider(ctx, a.CouncilID, *l.ProviderID, false)
				if err != nil && !errors.Is(err, apperr.ErrNotFound) {
					return Facts{}, err
				}
				if err == nil {
					f.Providers[p.ID] = p
				}
			}
		}
		if l.PersonalAssistantID != nil && rels == nil {
			if rels, err = s.people.ListRelationships(ctx, a.CouncilID, b.PersonID, false, page.Request{Size: page.MaxSize}); err != nil {
				return Facts{}, err
			}
		}
	}
	for _, r := range rels {
		other := r.RelatedPersonID
		if other == b.PersonID {
			other = r.PersonID
		}
		tie := f.Family[other]
		if r.FamilyRelation != nil && *r.FamilyRelation != "not_related" {
			tie.Relation = *r.FamilyRelation
		}
		if r.Kind == person.SameHousehold {
			tie.SameHousehold = true
		}
		f.Family[other] = tie
	}
	return f, nil
}

func partNames(p Parts) []string {
	var out []string
	for _, x := range []struct {
		set  bool
		name string
	}{
		{p.WhatIsImportant != "", "what_is_important"}, {p.WhatToChange != "", "what_to_change"},
		{p.InformationAndAdvice != "", "information_and_advice"}, {p.ArrangingSupport != "", "arranging_support"},
		{p.ManagingSupport != "", "managing_support"}, {p.StayingInControl != "", "staying_in_control"},
		{len(p.Outcomes) > 0, "outcomes"},
	} {
		if x.set {
			out = append(out, x.name)
		}
	}
	return out
}
