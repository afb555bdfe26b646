// Package budget is the personal budget: an annual amount for a person's needs, issued as an
// indicative figure from the RAS and changed only by new, immutable versions — each naming why it
// changed and what produced it (assessment, RAS version, panel decision). A reduction needs a
// reassessment and a reason.
package budget

import (
	"context"
	"errors"
	"time"

	"github.com/google/uuid"

	"github.com/pbudget/pbudget/internal/actor"
	"github.com/pbudget/pbudget/internal/apperr"
	"github.com/pbudget/pbudget/internal/audit"
	"github.com/pbudget/pbudget/internal/date"
	"github.com/pbudget/pbudget/internal/money"
	"github.com/pbudget/pbudget/internal/page"
	"github.com/pbudget/pbudget/internal/ras"
)

// Kind is whose needs the budget meets.
type Kind string

// The budget kinds.
const (
	CareAndSupport Kind = "care_and_support"
	CarerBudget    Kind = "carer"
	ChildBudget    Kind = "child"
)

// KindFor returns the budget kind an assessment type issues.
func KindFor(t ras.AssessmentType) Kind {
	switch t {
	case ras.Carer:
		return CarerBudget
	case ras.Child:
		return ChildBudget
	}
	return CareAndSupport
}

// Status is where the budget is in its life.
type Status string

// The budget statuses.
const (
	Indicative Status = "indicative"
	Agreed     Status = "agreed"
	Active     Status = "active"
	Ended      Status = "ended"
)

// Change names what made a version.
type Change string

// The changes.
const (
	Issued        Change = "issued"
	Reassessed    Change = "reassessed"
	CeilingRaised Change = "ceiling_raised"
	EndedChange   Change = "ended"
)

// Version is an immutable snapshot of a budget.
type Version struct {
	CouncilID        uuid.UUID
	ID               uuid.UUID
	BudgetID         uuid.UUID
	PersonID         uuid.UUID
	Number           int
	Status           Status
	Change           Change
	Reason           string
	AssessmentID     *uuid.UUID
	RASVersionID     *uuid.UUID
	RASVersionNumber *int
	FundingRequestID *uuid.UUID
	IndicativeAnnual int64 // pence
	CeilingAnnual    int64 // pence: the indicative amount, or the panel's when higher
	Points           *int
	PointsByDomain   map[string]int
	Calculation      []ras.Step
	CreatedAt        time.Time
	CreatedBy        string
}

// IndicativeWeekly is the indicative amount a week (annual ÷ 52, rounded).
func (v Version) IndicativeWeekly() int64 { return money.WeeklyFromAnnual(v.IndicativeAnnual) }

// CeilingWeekly is the ceiling a week.
func (v Version) CeilingWeekly() int64 { return money.WeeklyFromAnnual(v.CeilingAnnual) }

// Cursor is the page position of a version.
func (v Version) Cursor() page.Cursor { return page.Cursor{Time: v.CreatedAt, ID: v.ID} }

// Budget is a person's personal budget with its versions.
type Budget struct {
	CouncilID uuid.UUID
	ID        uuid.UUID
	PersonID  uuid.UUID
	Kind      Kind
	Status    Status
	StartDate date.Date
	EndDate   *date.Date
	Version   int // for If-Match
	CreatedAt time.Time
	UpdatedAt time.Time
	Current   Version
	History   []Version // oldest first; the last is Current
}

// Cursor is the page position of a budget.
func (b Budget) Cursor() page.Cursor { return page.Cursor{Time: b.CreatedAt, ID: b.ID} }

// Errors of budgets.
var (
	ErrReductionNeedsReassessment = apperr.New(apperr.RuleViolation, "budget-reduction-needs-reassessment",
		"this would lower the person's current budget: a reduction needs a reassessment")
	ErrReductionNeedsReason = apperr.New(apperr.RuleViolation, "budget-reduction-needs-reason",
		"this reassessment lowers the person's budget: give the reason in change_reason")
	ErrEnded = apperr.New(apperr.Conflict, "budget-ended", "the budget has ended")
)

// Filter narrows a listing.
type Filter struct {
	PersonID *uuid.UUID
	Status   Status
}

// Store keeps budgets and their versions.
type Store interface {
	// Open returns the person's budget of kind that has not ended, apperr.ErrNotFound when none.
	Open(ctx context.Context, councilID, personID uuid.UUID, kind Kind, forUpdate bool) (Budget, error)
	Get(ctx context.Context, councilID, id uuid.UUID, forUpdate bool) (Budget, error)
	Insert(ctx context.Context, b Budget) error
	// Update writes the budget's row if its stored version is b.Version − 1.
	Update(ctx context.Context, b Budget) error
	InsertVersion(ctx context.Context, v Version) error
	List(ctx context.Context, councilID uuid.UUID, f Filter, p page.Request) ([]Budget, error)
	ListVersions(ctx context.Context, councilID, personID uuid.UUID, p page.Request) ([]Version, error)
}

// Auditor appends to the audit trail within the caller's transaction.
type Auditor interface {
	Record(ctx context.Context, a actor.Actor, e audit.Event) error
}

// Transactor runs fn in one database transaction carried by ctx.
type Transactor interface {
	WithinTx(ctx context.Context, fn func(ctx context.Context) error) error
}

// Service manages budgets. Its writes join the caller's transaction (assessment completion,
// panel decisions).
type Service struct {
	store Store
	audit Auditor
	tx    Transactor
	now   func() time.Time
}

// NewService returns a Service.
func NewService(store Store, auditor Auditor, tx Transactor, now func() time.Time) *Service {
	return &Service{store: store, audit: auditor, tx: tx, now: now}
}

func (s *Service) timestamp() time.Time { return s.now().UTC().Truncate(time.Microsecond) }

// Get returns a budget with its history.
func (s *Service) Get(ctx context.Context, a actor.Actor, id uuid.UUID) (Budget, error) {
	return s.store.Get(ctx, a.CouncilID, id, false)
}

// List returns a page of budgets.
func (s *Service) List(ctx context.Context, a actor.Actor, f Filter, p page.Request) ([]Budget, error) {
	return s.store.List(ctx, a.CouncilID, f, p)
}

// ListVersions returns a page of every version of every budget of a person.
func (s *Service) ListVersions(ctx context.Context, a actor.Actor, personID uuid.UUID, p page.Request) ([]Version, error) {
	return s.store.ListVersions(ctx, a.CouncilID, personID, p)
}

// IndicativeFigure is the figure of a completed assessment.
type IndicativeFigure struct {
	PersonID     uuid.UUID
	Kind         Kind
	AssessmentID uuid.UUID
	Reassessment bool
	ChangeReason string // required for a reduction
	RAS          ras.Version
	Result       ras.Result
}

// IssueIndicative records the figure of a completed assessment: a new budget when the person has
// no open budget of the kind, otherwise a new version of the open one. A figure below the current
// ceiling needs a reassessment with a reason.
func (s *Service) IssueIndicative(ctx context.Context, a actor.Actor, in IndicativeFigure) (Budget, error) {
	var out Budget
	err := s.tx.WithinTx(ctx, func(ctx context.Context) error {
		now := s.timestamp()
		b, err := s.store.Open(ctx, a.CouncilID, in.PersonID, in.Kind, true)
		isNew := errors.Is(err, apperr.ErrNotFound)
		if err != nil && !isNew {
			return err
		}
		var v Version
		if isNew {
			b = Budget{
				CouncilID: a.CouncilID, ID: uuid.Must(uuid.NewV7()), PersonID: in.PersonID, Kind: in.Kind,
				Status: Indicative, StartDate: date.Today(now), CreatedAt: now,
			}
			v = Version{CouncilID: a.CouncilID, BudgetID: b.ID, PersonID: in.PersonID, Change: Issued,
				Reason: "indicative budget from a completed assessment"}
		} else {
			if in.Result.AnnualPence < b.Current.CeilingAnnual {
				if !in.Reassessment {
					return ErrReductionNeedsReassessment
				}
				if in.ChangeReason == "" {
					return ErrReductionNeedsReason
				}
			}
			v = b.Current
			v.Change, v.Reason, v.FundingRequestID = Reassessed, "indicative budget from a completed reassessment", nil
		}
		if in.ChangeReason != "" {
			v.Reason = in.ChangeReason
		}
		// A new figure starts a new planning cycle: a panel's earlier ceiling and an agreed plan lapse.
		rasID, rasNumber, points := in.RAS.ID, in.RAS.Number, in.Result.Points
		b.Status = Indicative
		v.Status, v.AssessmentID, v.RASVersionID, v.RASVersionNumber = Indicative, &in.AssessmentID, &rasID, &rasNumber
		v.IndicativeAnnual, v.CeilingAnnual, v.Points = in.Result.AnnualPence, in.Result.AnnualPence, &points
		v.PointsByDomain, v.Calculation = in.Result.PointsByDomain, in.Result.Steps
		out, err = s.commit(ctx, a, b, v, isNew, audit.Event{
			Action: "personal_budget." + string(v.Change), ChangedFields: []string{"indicative_annual_pence", "ceiling_annual_pence"},
			Details: map[string]any{"assessment_id": in.AssessmentID.String(), "ras_version_id": rasID.String(), "ras_version_number": rasNumber},
		})
		return err
	})
	return out, err
}

// End ends a person's open budget of kind (after a reassessment finds them no longer eligible),
// with a reason. It returns the ended budget, or apperr.ErrNotFound when none was open.
func (s *Service) End(ctx context.Context, a actor.Actor, personID uuid.UUID, kind Kind, assessmentID uuid.UUID, reason string) (Budget, error) {
	var out Budget
	err := s.tx.WithinTx(ctx, func(ctx context.Context) error {
		b, err := s.store.Open(ctx, a.CouncilID, personID, kind, true)
		if err != nil {
			return err
		}
		if reason == "" {
			return ErrReductionNeedsReason
		}
		end := date.Today(s.now())
		b.Status, b.EndDate = Ended, &end
		v := b.Current
		v.Status, v.Change, v.Reason, v.AssessmentID, v.FundingRequestID = Ended, EndedChange, reason, &assessmentID, nil
		out, err = s.commit(ctx, a, b, v, false, audit.Event{
			Action: "personal_budget.ended", ChangedFields: []string{"status", "end_date"},
			Details: map[string]any{"assessment_id": assessmentID.String()},
		})
		return err
	})
	return out, err
}

// RaiseCeiling records a panel-approved amount as the budget's ceiling for planning.
func (s *Service) RaiseCeiling(ctx context.Context, a actor.Actor, budgetID, fundingRequestID uuid.UUID, approvedAnnual int64, reason string) (Budget, error) {
	var out Budget
	err := s.tx.WithinTx(ctx, func(ctx context.Context) error {
		b, err := s.store.Get(ctx, a.CouncilID, budgetID, true)
		if err != nil {
			return err
		}
		if b.Status == Ended {
			return ErrEnded
		}
		v := b.Current
		v.Change, v.Reason, v.FundingRequestID = CeilingRaised, reason, &fundingRequestID
		v.CeilingAnnual = max(v.IndicativeAnnual, approvedAnnual)
		out, err = s.commit(ctx, a, b, v, false, audit.Event{
			Action: "personal_budget.ceiling_raised", ChangedFields: []string{"ceiling_annual_pence"},
			Details: map[string]any{"funding_request_id": fundingRequestID.String()},
		})
		return err
	})
	return out, err
}

// commit stores budget b (new, or changed at its current version) with v as its next version,
// and audits ev with the version's reason and numbers.
func (s *Service) commit(ctx context.Context, a actor.Actor, b Budget, v Version, isNew bool, ev audit.Event) (Budget, error) {
	now := s.timestamp()
	v.ID, v.Number, v.CreatedAt, v.CreatedBy = uuid.Must(uuid.NewV7()), b.Current.Number+1, now, a.Subject
	b.UpdatedAt = now
	if isNew {
		b.Version = 1
		if err := s.store.Insert(ctx, b); err != nil {
			return Budget{}, err
		}
	} else {
		b.Version++
		if err := s.store.Update(ctx, b); err != nil {
			return Budget{}, err
		}
	}
	if err := s.store.InsertVersion(ctx, v); err != nil {
		return Budget{}, err
	}
	b.Current, b.History = v, append(b.History, v)
	ev.EntityType, ev.EntityID, ev.Reason = "personal_budget", b.ID, v.Reason
	if ev.Details == nil {
		ev.Details = map[string]any{}
	}
	ev.Details["budget_version"], ev.Details["budget_version_id"] = v.Number, v.ID.String()
	return b, s.audit.Record(ctx, a, ev)
}
