package plan

import (
	"context"
	"strings"
	"time"

	"github.com/google/uuid"

	"github.com/pbudget/pbudget/internal/actor"
	"github.com/pbudget/pbudget/internal/apperr"
	"github.com/pbudget/pbudget/internal/audit"
	"github.com/pbudget/pbudget/internal/money"
)

// Payer is who pays a family top-up.
type Payer string

// The payers.
const (
	PayerPerson   Payer = "person"
	PayerParent   Payer = "parent"
	PayerRelative Payer = "relative"
	PayerOther    Payer = "other"
)

// TopUp is a family top-up: a plan line, or a part of one, that a named third party pays outside
// the council's budget (a parent paying for extra hours, say). It is recorded and shown with the
// plan, and nothing that sizes or pays the budget reads it: the council's share, the ceiling check
// and the payment runs are the same with and without it (TestTopUpsChangeNoFigureOfTheBudget).
type TopUp struct {
	CouncilID   uuid.UUID
	ID          uuid.UUID
	PlanID      uuid.UUID
	LineID      *uuid.UUID // nil: a line the third party pays in full, described here
	Position    int
	Description string
	Payer       Payer
	PayerName   string
	Annual      int64 // pence a year the third party pays
	CreatedAt   time.Time
	CreatedBy   string
}

// Weekly is the top-up a week (annual ÷ 52, to the nearest penny).
func (t TopUp) Weekly() int64 { return money.WeeklyFromAnnual(t.Annual) }

// TopUpsAnnual is what third parties pay a year.
func TopUpsAnnual(ts []TopUp) int64 {
	var n int64
	for _, t := range ts {
		n += t.Annual
	}
	return n
}

// withoutLine returns the top-ups that do not top up line id.
func withoutLine(ts []TopUp, id uuid.UUID) []TopUp {
	out := ts[:0:0]
	for _, t := range ts {
		if t.LineID == nil || *t.LineID != id {
			out = append(out, t)
		}
	}
	return out
}

// TopUpInput describes a new top-up.
type TopUpInput struct {
	LineID      *uuid.UUID
	Description string
	Payer       Payer
	PayerName   string
	Annual      int64
}

// Errors of top-ups.
var (
	ErrTopUpLine = apperr.New(apperr.RuleViolation, "top-up-line-not-in-plan", "plan_line_id names no line of this plan")
	ErrTopUp     = apperr.New(apperr.RuleViolation, "top-up-invalid", "a top-up has a description, a payer's name and an amount above zero")
	// ErrTopUpNotFound is the 404 of a top-up the plan does not have.
	ErrTopUpNotFound = apperr.New(apperr.NotFound, "not-found", "no such top-up in this plan")
)

// maxTopUps bounds a plan's top-ups.
const maxTopUps = 200

// AddTopUp records a family top-up on a draft at version. It changes no figure of the plan: the
// plan's cost, totals and checks are those of its lines alone.
func (s *Service) AddTopUp(ctx context.Context, a actor.Actor, id uuid.UUID, version int, in TopUpInput) (View, uuid.UUID, error) {
	t := TopUp{ID: uuid.Must(uuid.NewV7()), LineID: in.LineID, Description: strings.TrimSpace(in.Description), Payer: in.Payer,
		PayerName: strings.TrimSpace(in.PayerName), Annual: in.Annual, CreatedAt: s.timestamp(), CreatedBy: a.Subject}
	if t.Description == "" || t.PayerName == "" || t.Annual <= 0 {
		return View{}, uuid.Nil, ErrTopUp
	}
	v, err := s.draftChange(ctx, a, id, version, func(ctx context.Context, p *Plan) (audit.Event, error) {
		if t.LineID != nil && indexOf(p.Lines, *t.LineID) < 0 {
			return audit.Event{}, ErrTopUpLine
		}
		if len(p.TopUps) >= maxTopUps {
			return audit.Event{}, ErrTopUp.WithMessage("a plan has at most %d top-ups", maxTopUps)
		}
		t.PlanID = p.ID
		p.TopUps = append(p.TopUps, t)
		details := map[string]any{"top_up_id": t.ID.String(), "payer": string(t.Payer), "annual_pence": t.Annual}
		if t.LineID != nil {
			details["plan_line_id"] = t.LineID.String()
		}
		// The payer's name is personal data: the trail names the field, never its value.
		return audit.Event{Action: "support_plan.top_up_added", ChangedFields: []string{"top_ups"}, Details: details}, nil
	})
	return v, t.ID, err
}

// RemoveTopUp removes a top-up from a draft at version.
func (s *Service) RemoveTopUp(ctx context.Context, a actor.Actor, id, topUpID uuid.UUID, version int) (View, error) {
	return s.draftChange(ctx, a, id, version, func(ctx context.Context, p *Plan) (audit.Event, error) {
		for i, t := range p.TopUps {
			if t.ID == topUpID {
				p.TopUps = append(p.TopUps[:i:i], p.TopUps[i+1:]...)
				return audit.Event{Action: "support_plan.top_up_removed", ChangedFields: []string{"top_ups"},
					Details: map[string]any{"top_up_id": topUpID.String()}}, nil
			}
		}
		return audit.Event{}, ErrTopUpNotFound
	})
}
