package payment

import (
	"bytes"
	"context"
	"fmt"
	"slices"

	"github.com/google/uuid"

	"github.com/pbudget/pbudget/internal/actor"
	"github.com/pbudget/pbudget/internal/audit"
	"github.com/pbudget/pbudget/internal/charging"
	"github.com/pbudget/pbudget/internal/date"
	"github.com/pbudget/pbudget/internal/plan"
)

// RepriceForContributions reaches the payments with changed contributions, keyed by the budget
// each one recomposed: every agreement that pays the council's share of its budget's approved
// plan — a net direct payment, an ISF — is repriced from the contribution's effective date (or
// its own start, when later) with the plan's council share under the new contribution, naming the
// financial assessment in the reason. A gross direct payment pays the whole cost whatever the
// person contributes (they are invoiced for their part) and is left alone; so is an agreement
// that ended before the date, or whose amount would not change, and one whose plan is no longer
// the approved one (it is repriced onto the new plan by hand, as runs say). Cycles already paid
// are adjusted by the next run: a lower contribution pays the difference, a higher one is offset
// against later payments and carried forward, never paid as a negative amount.
//
// It runs in the caller's transaction (the financial assessment's completion, or an uprating
// batch), after the budgets were recomposed; it locks the agreements, in id order, as a run's
// build does.
func (s *Service) RepriceForContributions(ctx context.Context, a actor.Actor, changes map[uuid.UUID]charging.Contribution, reason string) error {
	if len(changes) == 0 {
		return nil
	}
	budgetIDs := make([]uuid.UUID, 0, len(changes))
	for id := range changes {
		budgetIDs = append(budgetIDs, id)
	}
	slices.SortFunc(budgetIDs, func(x, y uuid.UUID) int { return bytes.Compare(x[:], y[:]) })
	return s.tx.WithinTx(ctx, func(ctx context.Context) error {
		agreements, err := s.store.LockApprovedAgreements(ctx, a.CouncilID, budgetIDs)
		if err != nil {
			return err
		}
		var due []AgreementRecord
		for _, r := range agreements {
			if r.Kind == DirectPaymentKind && r.Basis != Net {
				continue
			}
			c := changes[r.BudgetID]
			if r.End != nil && !later(c.EffectiveFrom, r.Start).Before(*r.End) {
				continue
			}
			due = append(due, r)
		}
		if len(due) == 0 {
			return nil
		}
		ids := make([]uuid.UUID, len(due))
		for i, r := range due {
			ids[i] = r.ID
		}
		history, err := s.store.Amounts(ctx, a.CouncilID, ids)
		if err != nil {
			return err
		}
		plans := map[uuid.UUID]plan.View{}
		now := s.timestamp()
		var events []audit.Event
		for _, r := range due {
			c := changes[r.BudgetID]
			from := later(c.EffectiveFrom, r.Start)
			v, ok := plans[r.PlanID]
			if !ok {
				if v, err = s.plans.Get(ctx, a, r.PlanID); err != nil {
					return err
				}
				plans[r.PlanID] = v
			}
			annual, ok := councilShare(v.Plan, c, r)
			if !ok || !amountChangesFrom(amountsInForce(history[r.ID]), from, annual) {
				continue
			}
			why := fmt.Sprintf("%s: financial assessment %s changed the person's contribution from %s", reason, c.FinancialAssessmentID, c.EffectiveFrom)
			before := r.Annual
			r.Annual = annual
			if err := s.store.SetAnnual(ctx, r); err != nil {
				return err
			}
			am := AmountRecord{ID: uuid.Must(uuid.NewV7()), AgreementID: r.ID, EffectiveFrom: from, Annual: annual, PlanID: r.PlanID,
				Reason: why, RecordedBy: a.Subject, RecordedAt: now}
			if err := s.store.InsertAmount(ctx, a.CouncilID, r.Kind, am); err != nil {
				return err
			}
			r.Version++
			if err := s.store.BumpAgreement(ctx, r); err != nil {
				return err
			}
			events = append(events, audit.Event{Action: entityType(r.Kind) + ".repriced", EntityType: entityType(r.Kind), EntityID: r.ID,
				ChangedFields: []string{"annual_amount_pence"}, Reason: why,
				Details: map[string]any{"effective_from": from.String(), "previous_annual_pence": before, "annual_pence": annual,
					"per_cycle_pence": Agreement{Frequency: r.Frequency, Basis: r.Basis}.PerCycle(Amount{Annual: annual, CouncilAnnual: annual}),
					"plan_id":         r.PlanID.String(), "cause": "contribution",
					"financial_assessment_id": c.FinancialAssessmentID.String()}})
		}
		if len(events) == 0 {
			return nil
		}
		return s.audit.RecordAll(ctx, a, events)
	})
}

// councilShare is what agreement r pays a year of plan p with the contribution c: the council's
// share of the direct-payment option (net), or the provider's part of the ISF option's; false
// when the plan has no lines for it (an approved plan never changes, so an agreement made on it
// always has them).
func councilShare(p plan.Plan, c charging.Contribution, r AgreementRecord) (int64, bool) {
	fig := plan.Figures(p, &c, 0, 0)
	if r.Kind == ISFKind {
		return plan.ISFShare(fig, *r.ProviderID)
	}
	return plan.DPShare(fig, string(Net))
}

// amountChangesFrom reports whether paying annual from from changes any amount in force on or
// after it (ms in order of From, as amountsInForce gives them).
func amountChangesFrom(ms []Amount, from date.Date, annual int64) bool {
	for i, m := range ms {
		end := forever
		if i+1 < len(ms) {
			end = ms[i+1].From
		}
		if end.After(from) && m.Annual != annual {
			return true
		}
	}
	return len(ms) == 0
}
