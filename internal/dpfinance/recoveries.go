package dpfinance

import (
	"context"

	"github.com/google/uuid"

	"github.com/pbudget/pbudget/internal/actor"
	"github.com/pbudget/pbudget/internal/apperr"
	"github.com/pbudget/pbudget/internal/audit"
	"github.com/pbudget/pbudget/internal/date"
	"github.com/pbudget/pbudget/internal/dpaudit"
	"github.com/pbudget/pbudget/internal/page"
	"github.com/pbudget/pbudget/internal/payment"
	"github.com/pbudget/pbudget/internal/recovery"
)

// The errors of a recovery's source.
var (
	ErrSource = apperr.New(apperr.RuleViolation, "recovery-source",
		"a surplus or misspend recovery names its audit (audit_id), an overpayment recovery its overpayment (overpayment_id), an ISF surplus recovery its flagged statement (isf_statement_id), and nothing else")
	ErrSourceState = apperr.New(apperr.Conflict, "recovery-source-state",
		"money is recovered from a concluded audit whose outcome is recovery")
	ErrSourceTaken = apperr.New(apperr.Conflict, "recovery-source-taken",
		"the overpayment or the ISF statement has a recovery already (one not written off)")
	ErrISFNotFlagged = apperr.New(apperr.RuleViolation, "recovery-isf-statement-not-flagged",
		"an ISF surplus is recovered from the ISF's latest live statement when its balance is flagged for recovery")
)

// RecoveryInput is a proposed recovery.
type RecoveryInput struct {
	AuditID        *uuid.UUID
	OverpaymentID  *uuid.UUID
	ISFStatementID *uuid.UUID
	Basis          recovery.Basis
	Amount         int64
	Excess         recovery.Excess
	Reason         string
	Method         recovery.Method
	Cycles         int
}

// CreateRecovery proposes a recovery: the council's share is worked out from its source (an
// audit's surplus or misspend, less what earlier recoveries of the same audit and basis ask; an
// overpayment; or a flagged ISF statement, see isfSurplus), and recovery.Propose checks the rest
// (invariant 17).
func (s *Service) CreateRecovery(ctx context.Context, a actor.Actor, in RecoveryInput) (Recovery, error) {
	var out Recovery
	err := s.d.Tx.WithinTx(ctx, func(ctx context.Context) error {
		r := Recovery{CouncilID: a.CouncilID, ID: uuid.Must(uuid.NewV7()), AgreementKind: payment.DirectPaymentKind, CreatedBy: a.Subject,
			CreatedAt: s.stamp(), Version: 1}
		p := recovery.Proposal{Basis: in.Basis, Amount: in.Amount, Excess: in.Excess, Reason: in.Reason, Method: in.Method, Cycles: in.Cycles}
		var figures map[string]any // an ISF surplus's figures, for the audit event
		switch in.Basis {
		case recovery.Surplus, recovery.Misspend:
			if in.AuditID == nil || in.OverpaymentID != nil || in.ISFStatementID != nil {
				return ErrSource
			}
			au, err := s.d.Store.GetAudit(ctx, a.CouncilID, *in.AuditID, true)
			if err != nil {
				return err
			}
			if (au.State != dpaudit.Concluded && au.State != dpaudit.Closed) || au.Outcome == nil || au.Outcome.Kind != dpaudit.RecoveryOutcome {
				return ErrSourceState.WithMessage("the audit is %s: money is recovered from a concluded audit whose outcome is recovery", au.State)
			}
			r.AgreementID, r.PersonID, r.AuditID = au.AgreementID, au.PersonID, &au.ID
			if in.Basis == recovery.Surplus {
				if au.Surplus != nil {
					p.CouncilShare, p.PersonExcess = au.Surplus.CouncilShare, au.Surplus.PersonShare
				}
			} else {
				p.CouncilShare = au.MisspendCouncil
			}
			earlier, err := s.d.Store.ListRecoveries(ctx, a.CouncilID, &au.AgreementID, "", page.Request{})
			if err != nil {
				return err
			}
			for _, e := range earlier {
				if e.AuditID != nil && *e.AuditID == au.ID && e.Proposal.Basis == in.Basis {
					p.CouncilShare = max(0, p.CouncilShare-(e.Proposal.Amount-e.State.WrittenOff))
					p.PersonExcess = 0 // its treatment was decided with the first recovery
				}
			}
		case recovery.OverpaymentEnded:
			if in.OverpaymentID == nil || in.AuditID != nil || in.ISFStatementID != nil {
				return ErrSource
			}
			o, err := s.d.Store.Overpayment(ctx, a.CouncilID, *in.OverpaymentID)
			if err != nil {
				return err
			}
			r.AgreementID, r.AgreementKind, r.PersonID, r.OverpaymentID = o.AgreementID, o.AgreementKind, o.PersonID, &o.ID
			p.CouncilShare = o.Amount
		case recovery.ISFSurplus:
			if in.ISFStatementID == nil || in.AuditID != nil || in.OverpaymentID != nil {
				return ErrSource
			}
			src, err := s.isfSurplus(ctx, a.CouncilID, *in.ISFStatementID)
			if err != nil {
				return err
			}
			r.AgreementID, r.AgreementKind, r.PersonID, r.ISFStatementID = src.agreement.ID, payment.ISFKind, src.agreement.PersonID, &src.statement.ID
			p.CouncilShare, p.PersonExcess = src.councilShare, src.personShare
			figures = src.figures()
		default:
			// recovery.Propose names the field.
		}
		if r.AgreementKind == payment.DirectPaymentKind && r.AgreementID != uuid.Nil {
			ag, err := s.d.Store.DPAgreement(ctx, a.CouncilID, r.AgreementID, false)
			if err != nil {
				return err
			}
			p.CardAccount = ag.AccountType == "prepaid_card"
		}
		checked, err := recovery.Propose(p)
		if err != nil {
			return err
		}
		r.Proposal = checked
		r.State = recovery.Recovery{State: recovery.Proposed, Method: checked.Method, Amount: checked.Amount}
		r.UpdatedAt = r.CreatedAt
		if err := s.d.Store.InsertRecovery(ctx, r); err != nil {
			return err
		}
		out = r
		d := map[string]any{"agreement_id": r.AgreementID.String(), "basis": string(checked.Basis), "amount_pence": checked.Amount,
			"council_share_pence": checked.CouncilShare, "person_excess_pence": checked.PersonExcess, "excess": string(checked.Excess),
			"method": string(checked.Method), "cycles": checked.Cycles}
		if r.AuditID != nil {
			d["audit_id"] = r.AuditID.String()
		}
		if r.OverpaymentID != nil {
			d["overpayment_id"] = r.OverpaymentID.String()
		}
		for k, v := range figures {
			d[k] = v
		}
		return s.d.Audit.Record(ctx, a, audit.Event{Action: "recovery.proposed", EntityType: "recovery", EntityID: r.ID,
			ChangedFields: []string{"basis", "amount", "method", "reason"}, Reason: checked.Reason, Details: d})
	})
	return out, err
}

// GetRecovery returns a recovery with the offsets runs took.
func (s *Service) GetRecovery(ctx context.Context, a actor.Actor, id uuid.UUID) (Recovery, []OffsetTaken, error) {
	r, err := s.d.Store.GetRecovery(ctx, a.CouncilID, id, false)
	if err != nil {
		return Recovery{}, nil, err
	}
	m, err := s.d.Store.OffsetsTaken(ctx, a.CouncilID, []uuid.UUID{id})
	return r, m[id], err
}

// ListRecoveries lists recoveries, newest first.
func (s *Service) ListRecoveries(ctx context.Context, a actor.Actor, agreementID *uuid.UUID, status string, p page.Request) ([]Recovery, map[uuid.UUID][]OffsetTaken, error) {
	rs, err := s.d.Store.ListRecoveries(ctx, a.CouncilID, agreementID, status, p)
	if err != nil {
		return nil, nil, err
	}
	ids := make([]uuid.UUID, len(rs))
	for i := range rs {
		ids[i] = rs[i].ID
	}
	m, err := s.d.Store.OffsetsTaken(ctx, a.CouncilID, ids)
	return rs, m, err
}

// ActOnRecovery applies a step of the recovery's life (recovery.Apply) and records it with its figures.
func (s *Service) ActOnRecovery(ctx context.Context, a actor.Actor, id uuid.UUID, ev recovery.Event) (Recovery, []OffsetTaken, error) {
	var out Recovery
	err := s.d.Tx.WithinTx(ctx, func(ctx context.Context) error {
		r, err := s.d.Store.GetRecovery(ctx, a.CouncilID, id, true)
		if err != nil {
			return err
		}
		if ev.On == (date.Date{}) {
			ev.On = s.today()
		}
		if ev.On.After(s.today()) {
			return apperr.Validation(apperr.FieldError{Field: "/on", In: "body", Code: "in_future", Message: "the day cannot be after today"})
		}
		ev.ByFinance = a.Has(actor.Finance)
		next, err := recovery.Apply(r.State, ev)
		if err != nil {
			return err
		}
		before := r.State
		r.State = next
		if ev.Kind == recovery.WriteOff {
			why := ev.Reason
			r.WriteOffReason = &why
		}
		r.UpdatedAt, r.Version = s.stamp(), r.Version+1
		if err := s.d.Store.UpdateRecovery(ctx, r); err != nil {
			return err
		}
		if ev.Kind == recovery.Record && r.AgreementKind == payment.DirectPaymentKind {
			// Money taken back from the account: the ledger shows it (offsets are smaller council
			// payments, entered when their run is paid).
			if err := s.d.Store.PostRecovery(ctx, r, uuid.Must(uuid.NewV7()), ev.On, ev.Amount, a.Subject, r.UpdatedAt); err != nil {
				return err
			}
		}
		out = r
		return s.d.Audit.Record(ctx, a, audit.Event{Action: "recovery." + string(ev.Kind), EntityType: "recovery", EntityID: r.ID,
			ChangedFields: []string{"status"}, Reason: ev.Reason,
			Details: map[string]any{"from": string(before.State), "to": string(next.State), "on": ev.On.String(), "amount_pence": ev.Amount,
				"recovered_pence": next.Recovered, "written_off_pence": next.WrittenOff, "outstanding_pence": next.Outstanding()}})
	})
	if err != nil {
		return Recovery{}, nil, err
	}
	m, err := s.d.Store.OffsetsTaken(ctx, a.CouncilID, []uuid.UUID{id})
	return out, m[id], err
}

// Offsets implements payment.Recoveries: for each agreement, its recoveries by offset taking now,
// with what is left after the offsets unpaid runs have taken and the cycles still to come.
func (s *Service) Offsets(ctx context.Context, councilID uuid.UUID, agreements []uuid.UUID) (map[uuid.UUID][]payment.RecoveryOffset, error) {
	rs, err := s.d.Store.OffsetRecoveries(ctx, councilID, agreements)
	if err != nil || len(rs) == 0 {
		return nil, err
	}
	ids := make([]uuid.UUID, len(rs))
	for i := range rs {
		ids[i] = rs[i].ID
	}
	taken, err := s.d.Store.OffsetsTaken(ctx, councilID, ids)
	if err != nil {
		return nil, err
	}
	out := map[uuid.UUID][]payment.RecoveryOffset{}
	for _, r := range rs {
		if !r.State.TakesOffsets() {
			continue
		}
		left, cycles := r.State.Outstanding(), r.Proposal.Cycles
		for _, t := range taken[r.ID] {
			if t.State != string(payment.Live) {
				continue
			}
			cycles--
			if t.RunStatus != string(payment.PaidRun) {
				left -= t.Amount
			}
		}
		out[r.AgreementID] = append(out[r.AgreementID], payment.RecoveryOffset{RecoveryID: r.ID, Left: left, CyclesLeft: cycles})
	}
	return out, nil
}

// RunPaid implements payment.Recoveries: the offsets a run took are money recovered once the run
// is paid, in the transaction that marks it paid, up to what each recovery has outstanding then
// (money recorded or written off since the run was built is not recovered twice). What it
// credits each recovery is recorded per (recovery, run), for a bank return to reverse.
func (s *Service) RunPaid(ctx context.Context, a actor.Actor, councilID, runID uuid.UUID, paidOn date.Date) error {
	offs, err := s.d.Store.RunOffsets(ctx, councilID, runID)
	if err != nil {
		return err
	}
	for id, amount := range offs {
		r, err := s.d.Store.GetRecovery(ctx, councilID, id, true)
		if err != nil {
			return err
		}
		amount = min(amount, r.State.Outstanding())
		if amount <= 0 {
			continue
		}
		// Recorded whatever the recovery's state now: the run kept the money back when it was
		// built (a dispute since pauses the offsets to come, not the ones taken).
		before := r.State
		next := r.State
		next.Recovered += amount
		switch {
		case next.Outstanding() == 0:
			next.State = recovery.Recovered
		case next.State == recovery.Notified:
			next.State = recovery.PartRecovered
		}
		r.State, r.UpdatedAt, r.Version = next, s.stamp(), r.Version+1
		if err := s.d.Store.UpdateRecovery(ctx, r); err != nil {
			return err
		}
		// What this run credited, which is all a bank return of its payment may take back.
		if err := s.d.Store.CreditOffset(ctx, councilID, id, runID, amount, r.UpdatedAt); err != nil {
			return err
		}
		if err := s.d.Audit.Record(ctx, a, audit.Event{Action: "recovery.offset_recovered", EntityType: "recovery", EntityID: r.ID,
			ChangedFields: []string{"recovered", "status"},
			Details: map[string]any{"run_id": runID.String(), "amount_pence": amount, "from": string(before.State), "to": string(next.State),
				"recovered_pence": next.Recovered, "outstanding_pence": next.Outstanding()}}); err != nil {
			return err
		}
	}
	return nil
}

// PlannedOffsets are an offset recovery's instalments still to come, were each cycle to take its
// instalment in full.
func PlannedOffsets(r Recovery, taken []OffsetTaken) []int64 {
	if r.Proposal.Method != recovery.Offset {
		return []int64{}
	}
	left, cycles := r.State.Outstanding(), r.Proposal.Cycles
	for _, t := range taken {
		if t.State == string(payment.Live) {
			cycles--
			if t.RunStatus != string(payment.PaidRun) {
				left -= t.Amount
			}
		}
	}
	if cycles <= 0 || left <= 0 {
		return []int64{}
	}
	pays := make([]int64, cycles)
	for i := range pays {
		pays[i] = left
	}
	o, err := recovery.PlanOffsets(left, cycles, pays)
	if err != nil {
		return []int64{}
	}
	return o.PerCycle
}
