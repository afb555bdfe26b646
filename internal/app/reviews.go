package app

import (
	"context"

	"github.com/google/uuid"

	"github.com/pbudget/pbudget/internal/actor"
	"github.com/pbudget/pbudget/internal/assessment"
	"github.com/pbudget/pbudget/internal/plan"
)

// reassessor opens the reassessment a review decides on: a draft reassessment of the person's
// latest completed assessment, which a budget reduction needs (invariant 5).
type reassessor struct{ *assessment.Service }

func (r reassessor) OpenReassessment(ctx context.Context, a actor.Actor, personID, assessmentID uuid.UUID) (uuid.UUID, error) {
	id := assessmentID
	out, err := r.Create(ctx, a, personID, assessment.Input{Type: assessment.Reassessment, ReassessesID: &id})
	return out.ID, err
}

// reviser opens the plan revision a review decides on.
type reviser struct{ *plan.Service }

func (r reviser) OpenRevision(ctx context.Context, a actor.Actor, planID uuid.UUID) (uuid.UUID, error) {
	cur, err := r.Get(ctx, a, planID)
	if err != nil {
		return uuid.Nil, err
	}
	out, err := r.Revise(ctx, a, planID, cur.Version)
	return out.ID, err
}
