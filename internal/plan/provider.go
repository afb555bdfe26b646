package plan

import (
	"context"

	"github.com/google/uuid"

	"github.com/pbudget/pbudget/internal/actor"
	"github.com/pbudget/pbudget/internal/apperr"
	"github.com/pbudget/pbudget/internal/budget"
	"github.com/pbudget/pbudget/internal/page"
)

// LinesOf returns the lines the provider delivers.
func LinesOf(lines []Line, providerID uuid.UUID) []Line {
	var own []Line
	for _, l := range lines {
		if l.ProviderID != nil && *l.ProviderID == providerID {
			own = append(own, l)
		}
	}
	return own
}

// ProviderBudget is what a provider's staff see of a budget: its dates and status, and their own
// lines of its approved plan with their cost. Never the financial assessment, the person's
// contribution, or the budget's other amounts and history (least privilege).
type ProviderBudget struct {
	Budget     budget.Budget // for its identity, dates, status and version only
	ProviderID uuid.UUID
	PlanID     uuid.UUID
	Lines      []Line
	Annual     int64 // Σ Lines
	Weekly     int64
}

// ProviderBudget returns the provider's view of a budget for provider staff: a 404 unless the
// budget's approved plan gives their provider an ISF agreement or a line (the same reach as their
// other reads).
func (s *Service) ProviderBudget(ctx context.Context, a actor.Actor, budgetID uuid.UUID) (ProviderBudget, error) {
	if a.ProviderID == nil {
		return ProviderBudget{}, apperr.ErrNotFound
	}
	provider := *a.ProviderID
	// The reach rule is the people store's, for this provider whatever other roles the token has.
	staff := a
	staff.Roles = []actor.Role{actor.Provider}
	if err := s.reach.CheckBudgetReach(ctx, staff, budgetID); err != nil {
		return ProviderBudget{}, err
	}
	b, err := s.budgets.Get(ctx, a, budgetID)
	if err != nil {
		return ProviderBudget{}, err
	}
	approved, err := s.store.ListPlans(ctx, a.CouncilID, Filter{BudgetID: &b.ID, Status: Approved}, page.Request{Size: 1})
	if err != nil {
		return ProviderBudget{}, err
	}
	if len(approved) == 0 {
		return ProviderBudget{}, apperr.ErrNotFound // approved meanwhile superseded: no reach left
	}
	p := approved[0]
	own := LinesOf(p.Lines, provider)
	t := Sum(own, nil, nil)
	return ProviderBudget{Budget: b, ProviderID: provider, PlanID: p.ID, Lines: own, Annual: t.Annual, Weekly: t.Weekly}, nil
}
