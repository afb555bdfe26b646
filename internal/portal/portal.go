// Package portal is the person's own view (the person role): what a person, or the authorised
// person, nominee or parent who acts for them, may read and do through a council's portal. Every
// read and change starts from one rule, person.Service's reach check (a single query predicate:
// the holder is the person, or holds a current relationship to them), so that a record of anyone
// else is apperr.ErrNotFound, as another council's is. What it returns never names staff.
package portal

import (
	"context"
	"time"

	"github.com/google/uuid"

	"github.com/pbudget/pbudget/internal/accounts"
	"github.com/pbudget/pbudget/internal/actor"
	"github.com/pbudget/pbudget/internal/apperr"
	"github.com/pbudget/pbudget/internal/audit"
	"github.com/pbudget/pbudget/internal/budget"
	"github.com/pbudget/pbudget/internal/charging"
	"github.com/pbudget/pbudget/internal/date"
	"github.com/pbudget/pbudget/internal/dpfinance"
	"github.com/pbudget/pbudget/internal/money"
	"github.com/pbudget/pbudget/internal/page"
	"github.com/pbudget/pbudget/internal/payment"
	"github.com/pbudget/pbudget/internal/person"
	"github.com/pbudget/pbudget/internal/plan"
	"github.com/pbudget/pbudget/internal/reviews"
	"github.com/pbudget/pbudget/internal/txn"
)

// Agreement is a direct-payment or ISF agreement as the person sees it.
type Agreement struct {
	ID                uuid.UUID
	Kind              payment.AgreementKind
	PersonID          uuid.UUID
	BudgetID          uuid.UUID
	PlanID            uuid.UUID
	Frequency         string
	Basis             string
	Start             date.Date
	End               *date.Date
	EndReason         *string
	Signed            *date.Date
	Annual            int64
	Recipient         string // person, authorised_person, nominee; provider for an ISF
	RecipientPersonID *uuid.UUID
	Consented         *bool
	ConsentReason     *string
	AccountType       *string
	ProviderName      *string
	SuspendedNow      bool
	Version           int
	CreatedAt         time.Time
}

// PerPayment is the amount of each payment.
func (g Agreement) PerPayment() int64 {
	return plan.DPAgreement{Annual: g.Annual, Frequency: g.Frequency}.PerPayment()
}

// Store is what the portal reads and writes of its own.
type Store interface {
	// Agreements returns the person's direct-payment and ISF agreements, oldest first.
	Agreements(ctx context.Context, councilID, personID uuid.UUID, today date.Date) ([]Agreement, error)
	// Agreement returns one agreement of either kind.
	Agreement(ctx context.Context, councilID, id uuid.UUID, today date.Date, forUpdate bool) (Agreement, error)
	RequestStore
}

// Service is the person's view.
type Service struct {
	people   *person.Service
	budgets  *budget.Service
	charging *charging.Service
	plans    *plan.Service
	payments *payment.Service
	reviews  *reviews.Service
	accounts *accounts.Service
	finance  *dpfinance.Service
	store    Store
	// accountStore keeps the answers to flags.
	accountStore AccountStore
	audit        audit.Recorder
	tx           txn.Transactor
	now          func() time.Time
}

// NewService returns a Service.
func NewService(people *person.Service, budgets *budget.Service, ch *charging.Service, plans *plan.Service, payments *payment.Service,
	store Store, auditor audit.Recorder, tx txn.Transactor, now func() time.Time) *Service {
	return &Service{people: people, budgets: budgets, charging: ch, plans: plans, payments: payments, store: store, audit: auditor, tx: tx, now: now}
}

func (s *Service) today() date.Date { return date.Today(s.now()) }

// only refuses anyone but a person-role actor: the portal's routes are theirs alone (the
// contract's roles say so too; this keeps a mistake in the spec from opening them).
func only(a actor.Actor) error {
	if !a.IsPerson() {
		return apperr.ErrNotFound
	}
	return nil
}

// Me returns the people the holder acts for today, themselves first.
func (s *Service) Me(ctx context.Context, a actor.Actor) ([]person.Acting, error) {
	if err := only(a); err != nil {
		return nil, err
	}
	return s.people.ActingFor(ctx, a)
}

// BudgetView is a budget with the financial assessment's own steps.
type BudgetView struct {
	budget.Budget
	AssessmentSteps []money.Step
}

func (s *Service) budgetView(ctx context.Context, a actor.Actor, b budget.Budget) (BudgetView, error) {
	v := BudgetView{Budget: b}
	if id := b.Current.FinancialAssessmentID; id != nil {
		fa, err := s.charging.GetAssessment(ctx, a, *id)
		if err != nil {
			return BudgetView{}, err
		}
		if fa.Result != nil {
			v.AssessmentSteps = fa.Result.Steps
		}
	}
	return v, nil
}

// Budgets returns a page of the person's budgets.
func (s *Service) Budgets(ctx context.Context, a actor.Actor, personID uuid.UUID, p page.Request) ([]BudgetView, error) {
	if err := only(a); err != nil {
		return nil, err
	}
	if err := s.people.CheckReach(ctx, a, personID); err != nil {
		return nil, err
	}
	list, err := s.budgets.List(ctx, a, budget.Filter{PersonID: &personID}, p)
	if err != nil {
		return nil, err
	}
	out := make([]BudgetView, len(list))
	for i, b := range list {
		if out[i], err = s.budgetView(ctx, a, b); err != nil {
			return nil, err
		}
	}
	return out, nil
}

// Budget returns one budget.
func (s *Service) Budget(ctx context.Context, a actor.Actor, id uuid.UUID) (BudgetView, error) {
	if err := only(a); err != nil {
		return BudgetView{}, err
	}
	if err := s.people.CheckBudgetReach(ctx, a, id); err != nil {
		return BudgetView{}, err
	}
	b, err := s.budgets.Get(ctx, a, id)
	if err != nil {
		return BudgetView{}, err
	}
	return s.budgetView(ctx, a, b)
}

// Plans returns a page of a budget's plans.
func (s *Service) Plans(ctx context.Context, a actor.Actor, budgetID uuid.UUID, p page.Request) ([]plan.View, error) {
	if err := only(a); err != nil {
		return nil, err
	}
	if err := s.people.CheckBudgetReach(ctx, a, budgetID); err != nil {
		return nil, err
	}
	return s.plans.List(ctx, a, plan.Filter{BudgetID: &budgetID}, p)
}

// Plan returns one plan.
func (s *Service) Plan(ctx context.Context, a actor.Actor, id uuid.UUID) (plan.View, error) {
	if err := only(a); err != nil {
		return plan.View{}, err
	}
	if err := s.people.CheckPlanReach(ctx, a, id); err != nil {
		return plan.View{}, err
	}
	return s.plans.Get(ctx, a, id)
}

// Agreements returns the person's agreements.
func (s *Service) Agreements(ctx context.Context, a actor.Actor, personID uuid.UUID) ([]Agreement, error) {
	if err := only(a); err != nil {
		return nil, err
	}
	if err := s.people.CheckReach(ctx, a, personID); err != nil {
		return nil, err
	}
	return s.store.Agreements(ctx, a.CouncilID, personID, s.today())
}

// agreement returns an agreement of a person the holder acts for.
func (s *Service) agreement(ctx context.Context, a actor.Actor, id uuid.UUID, forUpdate bool) (Agreement, error) {
	if err := only(a); err != nil {
		return Agreement{}, err
	}
	g, err := s.store.Agreement(ctx, a.CouncilID, id, s.today(), forUpdate)
	if err != nil {
		return Agreement{}, err
	}
	if err := s.people.CheckReach(ctx, a, g.PersonID); err != nil {
		return Agreement{}, err
	}
	return g, nil
}

// ScheduleView is an agreement's schedule and the lines runs have made for it.
type ScheduleView struct {
	Agreement Agreement
	Schedule  payment.ScheduleView
	Lines     []payment.StoredLine
}

// maxLines bounds the payment lines a schedule shows.
const maxLines = 1000

// Schedule returns an agreement's schedule with its payment lines.
func (s *Service) Schedule(ctx context.Context, a actor.Actor, id uuid.UUID, through *date.Date) (ScheduleView, error) {
	g, err := s.agreement(ctx, a, id, false)
	if err != nil {
		return ScheduleView{}, err
	}
	v, err := s.payments.Schedule(ctx, a, g.Kind, id, through)
	if err != nil {
		return ScheduleView{}, err
	}
	out := ScheduleView{Agreement: g, Schedule: v}
	var after *page.Cursor
	for len(out.Lines) < maxLines {
		lines, err := s.payments.ListLines(ctx, a, payment.LineFilter{AgreementID: &id}, page.Request{Size: page.MaxSize, After: after})
		if err != nil {
			return ScheduleView{}, err
		}
		if len(lines) > page.MaxSize {
			lines = lines[:page.MaxSize]
			c := lines[len(lines)-1].PageCursor()
			after = &c
		} else {
			after = nil
		}
		out.Lines = append(out.Lines, lines...)
		if after == nil {
			break
		}
	}
	if len(out.Lines) > maxLines {
		out.Lines = out.Lines[len(out.Lines)-maxLines:]
	}
	return out, nil
}
