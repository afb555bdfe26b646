package plan

import (
	"time"

	"github.com/google/uuid"

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
