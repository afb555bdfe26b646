package dpfinance

import (
	"context"

	"github.com/google/uuid"

	"github.com/pbudget/pbudget/internal/actor"
	"github.com/pbudget/pbudget/internal/audit"
	"github.com/pbudget/pbudget/internal/date"
	"github.com/pbudget/pbudget/internal/recovery"
)

// RunReturned implements payment.Recoveries: the bank returned the payments of agreements from a
// paid run, so the offsets the run took from them were not recovered after all. Each recovery's
// recovered total drops by what paying the run credited it (recovery.ReturnOffset), at most what
// its returned lines took, in the transaction that records the return, with the figures in the
// audit trail: the lines' offset, the run's credit not yet reversed, and the amount reversed.
// The returned lines are no longer live, so a later run takes the offset again, at most once per
// (recovery, cycle) (the live lines' unique key), over the cycles the recovery has left.
func (s *Service) RunReturned(ctx context.Context, a actor.Actor, councilID, runID uuid.UUID, agreements []uuid.UUID, on date.Date) error {
	if len(agreements) == 0 {
		return nil
	}
	offs, err := s.d.Store.ReturnedOffsets(ctx, councilID, runID, agreements)
	if err != nil {
		return err
	}
	for _, o := range offs {
		r, err := s.d.Store.GetRecovery(ctx, councilID, o.RecoveryID, true)
		if err != nil {
			return err
		}
		// The return takes back what paying the run credited, not the line's offset: the part of
		// the offset that met money recovered another way (or written off) was never credited.
		next, back := recovery.ReturnOffset(r.State, min(o.Amount, o.Credited))
		if back == 0 {
			continue
		}
		before := r.State
		r.State, r.UpdatedAt, r.Version = next, s.stamp(), r.Version+1
		if err := s.d.Store.UpdateRecovery(ctx, r); err != nil {
			return err
		}
		if err := s.d.Store.ReverseOffsetCredit(ctx, councilID, r.ID, runID, back, r.UpdatedAt); err != nil {
			return err
		}
		if err := s.d.Audit.Record(ctx, a, audit.Event{Action: "recovery.offset_returned", EntityType: "recovery", EntityID: r.ID,
			ChangedFields: []string{"recovered", "status"}, Reason: "the bank returned the payment the offset was taken from",
			Details: map[string]any{"run_id": runID.String(), "agreement_id": r.AgreementID.String(), "on": on.String(),
				"offset_pence": o.Amount, "credited_pence": o.Credited, "amount_pence": back, "from": string(before.State), "to": string(next.State),
				"recovered_pence": next.Recovered, "written_off_pence": next.WrittenOff, "outstanding_pence": next.Outstanding()}}); err != nil {
			return err
		}
	}
	return nil
}
