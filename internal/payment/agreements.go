package payment

import (
	"context"
	"strings"

	"github.com/google/uuid"

	"github.com/pbudget/pbudget/internal/actor"
	"github.com/pbudget/pbudget/internal/apperr"
	"github.com/pbudget/pbudget/internal/audit"
	"github.com/pbudget/pbudget/internal/date"
	"github.com/pbudget/pbudget/internal/page"
	"github.com/pbudget/pbudget/internal/plan"
)

// ScheduleView is an agreement's schedule: its cycles up to Through with what each owes and what
// runs have taken, its suspensions and its amount history.
type ScheduleView struct {
	Agreement   AgreementRecord
	Calendar    Calendar
	Through     date.Date
	Cycles      []CycleStatus
	Suspensions []SuspensionRecord
	Amounts     []AmountRecord
}

// maxScheduleAhead bounds how far ahead a schedule is computed.
const maxScheduleAhead = 731

// agreement reads an agreement for the actor: provider staff reach only their own ISF agreements.
func (s *Service) agreement(ctx context.Context, a actor.Actor, kind AgreementKind, id uuid.UUID, forUpdate bool) (AgreementRecord, error) {
	r, err := s.store.GetAgreement(ctx, a.CouncilID, id, kind, forUpdate)
	if err != nil {
		return AgreementRecord{}, err
	}
	if a.IsProviderOnly() && (r.ProviderID == nil || *r.ProviderID != *a.ProviderID) {
		return AgreementRecord{}, apperr.ErrNotFound
	}
	return r, nil
}

// Schedule returns the agreement's schedule through the given day (default: today plus the
// council's lead days).
func (s *Service) Schedule(ctx context.Context, a actor.Actor, kind AgreementKind, id uuid.UUID, through *date.Date) (ScheduleView, error) {
	r, err := s.agreement(ctx, a, kind, id, false)
	if err != nil {
		return ScheduleView{}, err
	}
	cal, _, err := s.calendar(ctx, a.CouncilID)
	if err != nil {
		return ScheduleView{}, err
	}
	today := s.today()
	v := ScheduleView{Agreement: r, Calendar: cal, Through: later(today, r.Start).AddDays(cal.LeadDays)}
	if through != nil {
		if through.After(today.AddDays(maxScheduleAhead)) {
			return ScheduleView{}, ErrThrough
		}
		v.Through = *through
	}
	ids := []uuid.UUID{r.ID}
	amounts, err := s.store.Amounts(ctx, a.CouncilID, ids)
	if err != nil {
		return ScheduleView{}, err
	}
	susp, err := s.store.Suspensions(ctx, a.CouncilID, ids)
	if err != nil {
		return ScheduleView{}, err
	}
	taken, err := s.store.TakenLines(ctx, a.CouncilID, ids)
	if err != nil {
		return ScheduleView{}, err
	}
	v.Amounts, v.Suspensions = amounts[r.ID], susp[r.ID]
	var k Cadence
	if r.Frequency.HasCycles() {
		if k, err = cal.Cadence(r.Frequency); err != nil {
			return ScheduleView{}, err
		}
	}
	v.Cycles, err = Schedule(k, agreementOf(r, v.Amounts, v.Suspensions), v.Through, taken[r.ID])
	return v, err
}

// ListAgreements returns a page of agreements, for the payment work lists.
func (s *Service) ListAgreements(ctx context.Context, a actor.Actor, f AgreementFilter, p page.Request) ([]AgreementRecord, error) {
	f.Today = s.today()
	return s.store.ListAgreements(ctx, a.CouncilID, f, p)
}

// change runs fn on the agreement, locked, at version, in one transaction with its audit event;
// the agreement's version goes up.
func (s *Service) change(ctx context.Context, a actor.Actor, kind AgreementKind, id uuid.UUID, version int,
	fn func(ctx context.Context, r *AgreementRecord) (audit.Event, error)) (AgreementRecord, error) {
	var out AgreementRecord
	err := s.tx.WithinTx(ctx, func(ctx context.Context) error {
		r, err := s.agreement(ctx, a, kind, id, true)
		if err != nil {
			return err
		}
		if r.Version != version {
			return apperr.ErrVersionMismatch
		}
		ev, err := fn(ctx, &r)
		if err != nil {
			return err
		}
		r.Version++
		if err := s.store.BumpAgreement(ctx, r); err != nil {
			return err
		}
		out = r
		ev.EntityType, ev.EntityID = entityType(kind), r.ID
		return s.audit.Record(ctx, a, ev)
	})
	if err == nil {
		out.SuspendedNow = false
		if susp, err2 := s.store.Suspensions(ctx, a.CouncilID, []uuid.UUID{out.ID}); err2 == nil {
			out.SuspendedNow = agreementOf(out, nil, susp[out.ID]).SuspendedOn(s.today())
		}
	}
	return out, err
}

func entityType(kind AgreementKind) string {
	if kind == ISFKind {
		return "isf_agreement"
	}
	return "direct_payment_agreement"
}

// Suspend stops the agreement's cycles from from, with a reason.
func (s *Service) Suspend(ctx context.Context, a actor.Actor, kind AgreementKind, id uuid.UUID, version int, from date.Date, reason string) (AgreementRecord, error) {
	reason = strings.TrimSpace(reason)
	return s.change(ctx, a, kind, id, version, func(ctx context.Context, r *AgreementRecord) (audit.Event, error) {
		if from.Before(r.Start) || (r.End != nil && !from.Before(*r.End)) {
			return audit.Event{}, ErrSuspensionOverlaps.WithMessage("the suspension must start on or after %s, the agreement's start, and before its end", r.Start)
		}
		susp, err := s.store.Suspensions(ctx, a.CouncilID, []uuid.UUID{r.ID})
		if err != nil {
			return audit.Event{}, err
		}
		for _, x := range susp[r.ID] {
			if x.Resume == nil {
				return audit.Event{}, ErrAlreadySuspended
			}
			if from.Before(*x.Resume) {
				return audit.Event{}, ErrSuspensionOverlaps.WithMessage("an earlier suspension lasts until %s: a new one starts on or after it", *x.Resume)
			}
		}
		rec := SuspensionRecord{ID: uuid.Must(uuid.NewV7()), AgreementID: r.ID, From: from, Reason: reason, SuspendedBy: a.Subject, SuspendedAt: s.timestamp()}
		if err := s.store.InsertSuspension(ctx, a.CouncilID, kind, rec); err != nil {
			return audit.Event{}, err
		}
		return audit.Event{Action: entityType(kind) + ".suspended", ChangedFields: []string{"suspensions"}, Reason: reason,
			Details: map[string]any{"suspension_id": rec.ID.String(), "from_date": from.String()}}, nil
	})
}

// Resume ends the agreement's open suspension: payments start again on resume, and the
// suspended days are owed only when backPay.
func (s *Service) Resume(ctx context.Context, a actor.Actor, kind AgreementKind, id uuid.UUID, version int, resume date.Date, backPay bool, reason string) (AgreementRecord, error) {
	reason = strings.TrimSpace(reason)
	return s.change(ctx, a, kind, id, version, func(ctx context.Context, r *AgreementRecord) (audit.Event, error) {
		susp, err := s.store.Suspensions(ctx, a.CouncilID, []uuid.UUID{r.ID})
		if err != nil {
			return audit.Event{}, err
		}
		var open *SuspensionRecord
		for i := range susp[r.ID] {
			if susp[r.ID][i].Resume == nil {
				open = &susp[r.ID][i]
			}
		}
		if open == nil {
			return audit.Event{}, ErrNotSuspended
		}
		if !resume.After(open.From) {
			return audit.Event{}, ErrResumeDate.WithMessage("the suspension began on %s: payments resume after it", open.From)
		}
		now := s.timestamp()
		open.Resume, open.BackPay, open.ResumeReason, open.ResumedBy, open.ResumedAt = &resume, backPay, &reason, &a.Subject, &now
		if err := s.store.ResumeSuspension(ctx, a.CouncilID, *open); err != nil {
			return audit.Event{}, err
		}
		return audit.Event{Action: entityType(kind) + ".resumed", ChangedFields: []string{"suspensions"}, Reason: reason,
			Details: map[string]any{"suspension_id": open.ID.String(), "from_date": open.From.String(), "resume_date": resume.String(),
				"back_pay": backPay, "suspended_days": resume.DaysSince(open.From)}}, nil
	})
}

// End ends the agreement on end (exclusive), with a reason. The last cycle is prorated; what was
// paid for later days is adjusted by the next run, or recorded as an overpayment.
func (s *Service) End(ctx context.Context, a actor.Actor, kind AgreementKind, id uuid.UUID, version int, end date.Date, reason string) (AgreementRecord, error) {
	reason = strings.TrimSpace(reason)
	return s.change(ctx, a, kind, id, version, func(ctx context.Context, r *AgreementRecord) (audit.Event, error) {
		if r.End != nil {
			return audit.Event{}, ErrAgreementEnded
		}
		if !end.After(r.Start) {
			return audit.Event{}, ErrEndDate.WithMessage("the agreement started on %s: it ends after that", r.Start)
		}
		susp, err := s.store.Suspensions(ctx, a.CouncilID, []uuid.UUID{r.ID})
		if err != nil {
			return audit.Event{}, err
		}
		for _, x := range susp[r.ID] {
			if !end.After(x.From) {
				return audit.Event{}, ErrEndDate.WithMessage("a suspension starts on %s: the agreement ends after that", x.From)
			}
		}
		r.End, r.EndReason = &end, &reason
		if err := s.store.EndAgreement(ctx, *r, a.Subject, s.timestamp()); err != nil {
			return audit.Event{}, err
		}
		return audit.Event{Action: entityType(kind) + ".ended", ChangedFields: []string{"end_date", "end_reason"}, Reason: reason,
			Details: map[string]any{"end_date": end.String(), "start_date": r.Start.String()}}, nil
	})
}

// Reprice moves the agreement onto its budget's approved plan and pays that plan's amount from
// from: the way a revised plan or a backdated contribution reaches the payments. Paid cycles are
// adjusted by the next run.
func (s *Service) Reprice(ctx context.Context, a actor.Actor, kind AgreementKind, id uuid.UUID, version int, from date.Date, reason string) (AgreementRecord, error) {
	reason = strings.TrimSpace(reason)
	return s.change(ctx, a, kind, id, version, func(ctx context.Context, r *AgreementRecord) (audit.Event, error) {
		if from.Before(r.Start) || (r.End != nil && !from.Before(*r.End)) {
			return audit.Event{}, ErrEffectiveFrom.WithMessage("the agreement is in force from %s: a new amount applies from then, before any end", r.Start)
		}
		approved, err := s.plans.List(ctx, a, plan.Filter{BudgetID: &r.BudgetID, Status: plan.Approved}, page.Request{Size: 1})
		if err != nil {
			return audit.Event{}, err
		}
		if len(approved) == 0 {
			return audit.Event{}, ErrNoApprovedPlan
		}
		v := approved[0]
		var annual int64
		if kind == ISFKind {
			annual, err = plan.ISFAnnual(v, *r.ProviderID)
		} else {
			annual, err = plan.DPAnnual(v, string(r.Basis))
		}
		if err != nil {
			return audit.Event{}, err
		}
		before, beforePlan := r.Annual, r.PlanID
		r.PlanID, r.Annual, r.PlanApproved = v.ID, annual, true
		if err := s.store.RepriceAgreement(ctx, *r); err != nil {
			return audit.Event{}, err
		}
		am := AmountRecord{ID: uuid.Must(uuid.NewV7()), AgreementID: r.ID, EffectiveFrom: from, Annual: annual, PlanID: v.ID,
			Reason: reason, RecordedBy: a.Subject, RecordedAt: s.timestamp()}
		if err := s.store.InsertAmount(ctx, a.CouncilID, kind, am); err != nil {
			return audit.Event{}, err
		}
		return audit.Event{Action: entityType(kind) + ".repriced", ChangedFields: []string{"plan_id", "annual_amount_pence"}, Reason: reason,
			Details: map[string]any{"effective_from": from.String(), "previous_annual_pence": before, "annual_pence": annual,
				"per_cycle_pence":  Agreement{Frequency: r.Frequency, Basis: r.Basis}.PerCycle(Amount{Annual: annual, CouncilAnnual: annual}),
				"previous_plan_id": beforePlan.String(), "plan_id": v.ID.String()}}, nil
	})
}
