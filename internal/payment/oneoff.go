package payment

import (
	"context"
	"strings"

	"github.com/google/uuid"

	"github.com/pbudget/pbudget/internal/actor"
	"github.com/pbudget/pbudget/internal/apperr"
	"github.com/pbudget/pbudget/internal/audit"
	"github.com/pbudget/pbudget/internal/date"
	"github.com/pbudget/pbudget/internal/money"
	"github.com/pbudget/pbudget/internal/page"
	"github.com/pbudget/pbudget/internal/plan"
)

// OneOffInput asks for a one-off payment: a plan line's one-off cost, or an ad hoc amount.
type OneOffInput struct {
	AgreementID uuid.UUID
	PlanLineID  *uuid.UUID
	Amount      *int64
	Due         *date.Date
	Reason      string
}

// Errors of one-off payments.
var (
	ErrOneOffInput = apperr.Validation(apperr.FieldError{Field: "/amount_pence", In: "body", Code: "one_of",
		Message: "send exactly one of plan_line_id and amount_pence"})
	ErrOneOffLine = apperr.New(apperr.RuleViolation, "one-off-line-not-payable",
		"a plan line's one-off is a `once` line of the agreement's plan and option, for an agreement paid one_off (a cycle agreement's annual amount already includes its plan's one-off lines)")
	ErrOneOffTaken = apperr.New(apperr.Conflict, "one-off-line-already-requested", "this plan line's one-off has already been asked for")
	ErrOneOffState = apperr.New(apperr.Conflict, "one-off-not-requested", "only a requested one-off payment can be approved")
	ErrOneOffSelf  = apperr.New(apperr.RuleViolation, "one-off-self-approval",
		"segregation of duties: a one-off payment is approved by a user other than the one who asked for it")
	ErrAgreementNotFound = apperr.New(apperr.RuleViolation, "agreement-not-found", "agreement_id names no direct-payment or ISF agreement of this council")
)

// CreateOneOff records a one-off payment: a plan line's one-off (approved by the plan's sign-off)
// or an ad hoc amount awaiting approval by a second user.
func (s *Service) CreateOneOff(ctx context.Context, a actor.Actor, in OneOffInput) (OneOffRecord, error) {
	if (in.PlanLineID == nil) == (in.Amount == nil) {
		return OneOffRecord{}, ErrOneOffInput
	}
	var out OneOffRecord
	err := s.tx.WithinTx(ctx, func(ctx context.Context) error {
		r, err := s.store.GetAgreement(ctx, a.CouncilID, in.AgreementID, "", true)
		if apperr.KindOf(err) == apperr.NotFound {
			return ErrAgreementNotFound
		}
		if err != nil {
			return err
		}
		o := OneOffRecord{CouncilID: a.CouncilID, ID: uuid.Must(uuid.NewV7()), AgreementID: r.ID, AgreementKind: r.Kind,
			PlanLineID: in.PlanLineID, Reason: strings.TrimSpace(in.Reason), Due: in.Due, Status: OneOffRequested,
			RequestedBy: a.Subject, RequestedAt: s.timestamp(), Version: 1}
		if in.Amount != nil {
			o.Amount = *in.Amount
		} else {
			if o.Amount, err = s.lineOneOff(ctx, a, r, *in.PlanLineID); err != nil {
				return err
			}
			now := o.RequestedAt
			o.Status, o.ApprovedAt = OneOffApproved, &now // the plan's sign-off approved the line
		}
		if err := s.store.InsertOneOff(ctx, o); err != nil {
			return err
		}
		out = o
		return s.audit.Record(ctx, a, audit.Event{Action: "one_off_payment.requested", EntityType: "one_off_payment", EntityID: o.ID, Reason: o.Reason,
			Details: map[string]any{"agreement_id": r.ID.String(), "amount_pence": o.Amount, "status": string(o.Status), "plan_line_id": idString(o.PlanLineID)}})
	})
	return out, err
}

// lineOneOff is what a plan line's one-off pays: the line's cost, net of the person's share in the
// same proportion as the agreement's amount is of its option's cost.
func (s *Service) lineOneOff(ctx context.Context, a actor.Actor, r AgreementRecord, lineID uuid.UUID) (int64, error) {
	if r.Frequency.HasCycles() {
		return 0, ErrOneOffLine
	}
	v, err := s.plans.Get(ctx, a, r.PlanID)
	if err != nil {
		return 0, err
	}
	option := plan.DirectPayment
	if r.Kind == ISFKind {
		option = plan.ISF
	}
	var optionAnnual int64
	for _, t := range v.Totals.Options {
		if t.Option == option {
			optionAnnual = t.Annual
		}
	}
	for _, l := range v.Plan.Lines {
		if l.ID != lineID {
			continue
		}
		if l.Frequency != plan.Once || l.Option != option || (r.ProviderID != nil && (l.ProviderID == nil || *l.ProviderID != *r.ProviderID)) || optionAnnual == 0 {
			return 0, ErrOneOffLine
		}
		amount := money.DivRound(l.Annual*r.Annual, optionAnnual)
		if amount <= 0 {
			return 0, ErrOneOffLine
		}
		return amount, nil
	}
	return 0, ErrOneOffLine
}

func idString(id *uuid.UUID) string {
	if id == nil {
		return ""
	}
	return id.String()
}

// ApproveOneOff approves an ad hoc one-off payment: a user other than the one who asked for it.
func (s *Service) ApproveOneOff(ctx context.Context, a actor.Actor, id uuid.UUID, version int) (OneOffRecord, error) {
	var out OneOffRecord
	err := s.tx.WithinTx(ctx, func(ctx context.Context) error {
		o, err := s.store.GetOneOff(ctx, a.CouncilID, id, true)
		if err != nil {
			return err
		}
		if o.Version != version {
			return apperr.ErrVersionMismatch
		}
		if o.Status != OneOffRequested {
			return ErrOneOffState
		}
		if o.RequestedBy == a.Subject {
			return ErrOneOffSelf
		}
		now := s.timestamp()
		o.Status, o.ApprovedBy, o.ApprovedAt, o.Version = OneOffApproved, &a.Subject, &now, o.Version+1
		if err := s.store.UpdateOneOff(ctx, o); err != nil {
			return err
		}
		out = o
		return s.audit.Record(ctx, a, audit.Event{Action: "one_off_payment.approved", EntityType: "one_off_payment", EntityID: o.ID,
			ChangedFields: []string{"status"}, Details: map[string]any{"amount_pence": o.Amount, "requested_by": o.RequestedBy}})
	})
	return out, err
}

// GetOneOff returns one one-off payment.
func (s *Service) GetOneOff(ctx context.Context, a actor.Actor, id uuid.UUID) (OneOffRecord, error) {
	return s.store.GetOneOff(ctx, a.CouncilID, id, false)
}

// ListOneOffs returns a page of one-off payments.
func (s *Service) ListOneOffs(ctx context.Context, a actor.Actor, status OneOffStatus, agreementID *uuid.UUID, p page.Request) ([]OneOffRecord, error) {
	return s.store.ListOneOffs(ctx, a.CouncilID, status, agreementID, p)
}
