package payment

import (
	"context"

	"github.com/google/uuid"

	"github.com/pbudget/pbudget/internal/actor"
	"github.com/pbudget/pbudget/internal/page"
	"github.com/pbudget/pbudget/internal/plan"
)

// Commitments is the council-managed spend a budget's approved plan commits, per provider: what
// finance matches providers' invoices against (council-managed lines are not paid by runs).
type Commitments struct {
	BudgetID      uuid.UUID
	PersonID      uuid.UUID  // whose budget it is (for the access record of the read)
	PlanID        *uuid.UUID // nil when the budget has no approved plan
	Annual        int64
	Weekly        int64
	CouncilAnnual *int64
	PersonAnnual  *int64
	Providers     []ProviderCommitment
}

// ProviderCommitment is what the plan commits with one provider (nil: lines without a provider).
type ProviderCommitment struct {
	ProviderID *uuid.UUID
	Lines      int
	Annual     int64
	Weekly     int64
}

// Commitments returns the budget's committed council-managed spend per provider.
func (s *Service) Commitments(ctx context.Context, a actor.Actor, budgetID uuid.UUID) (Commitments, error) {
	b, err := s.budgets.Get(ctx, a, budgetID)
	if err != nil {
		return Commitments{}, err
	}
	out := Commitments{BudgetID: budgetID, PersonID: b.PersonID}
	approved, err := s.plans.List(ctx, a, plan.Filter{BudgetID: &budgetID, Status: plan.Approved}, page.Request{Size: 1})
	if err != nil || len(approved) == 0 {
		return out, err
	}
	v := approved[0]
	out.PlanID = &v.ID
	for _, t := range v.Totals.Options {
		if t.Option == plan.CouncilManaged {
			out.Annual, out.Weekly, out.CouncilAnnual, out.PersonAnnual = t.Annual, t.Weekly, t.CouncilAnnual, t.PersonAnnual
		}
	}
	index := map[uuid.UUID]int{}
	none := -1
	for _, l := range v.Plan.Lines {
		if l.Option != plan.CouncilManaged {
			continue
		}
		var at int
		var ok bool
		if l.ProviderID == nil {
			at, ok = none, none >= 0
		} else {
			at, ok = index[*l.ProviderID]
		}
		if !ok {
			out.Providers = append(out.Providers, ProviderCommitment{ProviderID: l.ProviderID})
			at = len(out.Providers) - 1
			if l.ProviderID == nil {
				none = at
			} else {
				index[*l.ProviderID] = at
			}
		}
		c := &out.Providers[at]
		c.Lines, c.Annual, c.Weekly = c.Lines+1, c.Annual+l.Annual, c.Weekly+l.Weekly
	}
	return out, nil
}
