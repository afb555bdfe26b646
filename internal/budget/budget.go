// Package budget is the personal budget: an annual amount for a person's needs, issued as an
// indicative figure from the RAS and changed only by new, immutable versions — each naming why it
// changed and what produced it (assessment, RAS version, panel decision). A reduction needs a
// reassessment and a reason.
package budget

import (
	"bytes"
	"context"
	"errors"
	"slices"
	"time"

	"github.com/google/uuid"

	"github.com/pbudget/pbudget/internal/actor"
	"github.com/pbudget/pbudget/internal/apperr"
	"github.com/pbudget/pbudget/internal/audit"
	"github.com/pbudget/pbudget/internal/charging"
	"github.com/pbudget/pbudget/internal/date"
	"github.com/pbudget/pbudget/internal/money"
	"github.com/pbudget/pbudget/internal/page"
	"github.com/pbudget/pbudget/internal/ras"
	"github.com/pbudget/pbudget/internal/txn"
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
	Contributed   Change = "contribution_assessed"
	PlanAgreed    Change = "plan_agreed"
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
	IndicativeAnnual int64      // pence
	CeilingAnnual    int64      // pence: the indicative amount, or the panel's when higher
	FinalAnnual      *int64     // the signed-off plan's cost
	PlanID           *uuid.UUID // the signed-off plan
	DifferenceReason *string    // why the final amount differs from the indicative
	Split
	Points         *int
	PointsByDomain map[string]int
	Calculation    []money.Step
	CreatedAt      time.Time
	CreatedBy      string
}

// Split is the cost of a budget and who pays it: cost = council + person, weekly and annually.
// The person's and council's amounts are nil until a financial assessment is completed.
type Split struct {
	AnnualCost            int64
	WeeklyCost            int64
	PersonWeekly          *int64
	CouncilWeekly         *int64
	PersonAnnual          *int64
	CouncilAnnual         *int64
	FinancialAssessmentID *uuid.UUID
	RateTableID           *uuid.UUID
	ContributionSteps     []money.Step
}

// Compose splits an annual cost with a contribution (nil: not assessed yet).
//
// The weekly cost is the annual cost ÷ 52 to the nearest penny. The person pays the full weekly
// cost when the assessment says so, else the assessed charge capped at the weekly cost; nothing
// when that is below the minimum charge. The council pays the rest of the week. Annually the person
// pays 52 weeks of their charge, capped at the annual cost (the whole annual cost when they pay the
// whole weekly cost), and the council the rest: so
// cost = council + person holds exactly, weekly and annually, and nothing is negative.
func Compose(annualCost int64, c *charging.Contribution) Split {
	s := Split{AnnualCost: annualCost, WeeklyCost: money.WeeklyFromAnnual(annualCost)}
	if c == nil {
		return s
	}
	person, steps := charging.Charge(c.FullCost, c.Assessed, c.Minimum, s.WeeklyCost)
	council := s.WeeklyCost - person
	personAnnual := min(money.AnnualFromWeekly(person), annualCost)
	if c.FullCost || (person > 0 && person == s.WeeklyCost) {
		personAnnual = annualCost // paying the whole cost every week is paying the whole cost: no rounding left to the council
	}
	councilAnnual := annualCost - personAnnual
	fa, rt := c.FinancialAssessmentID, c.RateTableID
	s.PersonWeekly, s.CouncilWeekly, s.PersonAnnual, s.CouncilAnnual = &person, &council, &personAnnual, &councilAnnual
	s.FinancialAssessmentID, s.RateTableID = &fa, &rt
	s.ContributionSteps = append(steps,
		money.NewStep("council_weekly", council, "the council pays "+money.Format(council)+" a week"),
		money.NewStep("person_annual", personAnnual, "the person pays "+money.Format(personAnnual)+" a year (52 weeks, at most the annual cost)"),
		money.NewStep("council_annual", councilAnnual, "the council pays "+money.Format(councilAnnual)+" a year"))
	return s
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
	// OpenMany locks and returns the open budgets of kind of the people of personIDs, each with its
	// Current version only (no History), for bulk work.
	OpenMany(ctx context.Context, councilID uuid.UUID, personIDs []uuid.UUID, kind Kind) ([]Budget, error)
	// UpdateMany writes the budgets' rows, each if its stored version is its Version − 1.
	UpdateMany(ctx context.Context, bs []Budget) error
	InsertVersions(ctx context.Context, vs []Version) error
	List(ctx context.Context, councilID uuid.UUID, f Filter, p page.Request) ([]Budget, error)
	ListVersions(ctx context.Context, councilID, personID uuid.UUID, p page.Request) ([]Version, error)
	// CurrentContribution returns the person's completed, not superseded financial assessment as a
	// contribution, nil when there is none.
	CurrentContribution(ctx context.Context, councilID, personID uuid.UUID) (*charging.Contribution, error)
}

// Service manages budgets. Its writes join the caller's transaction (assessment completion,
// panel decisions).
type Service struct {
	store Store
	audit audit.Recorder
	tx    txn.Transactor
	now   func() time.Time
}

// NewService returns a Service.
func NewService(store Store, auditor audit.Recorder, tx txn.Transactor, now func() time.Time) *Service {
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
	err := txn.Join(ctx, s.tx, func(ctx context.Context) error {
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
			if !in.Reassessment {
				v.Change, v.Reason = Issued, "indicative budget from a completed assessment"
			}
		}
		if in.ChangeReason != "" {
			v.Reason = in.ChangeReason
		}
		// A new figure starts a new planning cycle: a panel's earlier ceiling and an agreed plan lapse.
		rasID, rasNumber, points := in.RAS.ID, in.RAS.Number, in.Result.Points
		b.Status = Indicative
		v.FinalAnnual, v.PlanID, v.DifferenceReason = nil, nil, nil
		v.Status, v.AssessmentID, v.RASVersionID, v.RASVersionNumber = Indicative, &in.AssessmentID, &rasID, &rasNumber
		v.IndicativeAnnual, v.CeilingAnnual, v.Points = in.Result.AnnualPence, in.Result.AnnualPence, &points
		v.PointsByDomain, v.Calculation = in.Result.PointsByDomain, in.Result.Steps
		if in.Kind == CareAndSupport {
			c, err := s.store.CurrentContribution(ctx, a.CouncilID, in.PersonID)
			if err != nil {
				return err
			}
			v.Split = Compose(v.IndicativeAnnual, c)
		} else {
			v.Split = Compose(v.IndicativeAnnual, nil)
		}
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
	err := txn.Join(ctx, s.tx, func(ctx context.Context) error {
		b, err := s.store.Get(ctx, a.CouncilID, budgetID, true)
		if err != nil {
			return err
		}
		if b.Status == Ended {
			return ErrEnded
		}
		v := b.Current
		v.Change, v.Reason, v.FundingRequestID = CeilingRaised, reason, &fundingRequestID
		// A ceiling only rises here; it falls only with a new indicative figure (a reassessment).
		v.CeilingAnnual = max(v.CeilingAnnual, approvedAnnual)
		out, err = s.commit(ctx, a, b, v, false, audit.Event{
			Action: "personal_budget.ceiling_raised", ChangedFields: []string{"ceiling_annual_pence"},
			Details: map[string]any{"funding_request_id": fundingRequestID.String()},
		})
		return err
	})
	return out, err
}

// ApplyContribution recomposes the person's open care and support budget with a completed
// financial assessment: a new version splitting the same cost. It returns nil when the person has
// no open care and support budget.
func (s *Service) ApplyContribution(ctx context.Context, a actor.Actor, personID uuid.UUID, c charging.Contribution, reason string) (*Budget, error) {
	var out *Budget
	err := txn.Join(ctx, s.tx, func(ctx context.Context) error {
		b, err := s.store.Open(ctx, a.CouncilID, personID, CareAndSupport, true)
		if errors.Is(err, apperr.ErrNotFound) {
			return nil
		}
		if err != nil {
			return err
		}
		v, ev := contributed(b.Current, c, reason)
		nb, err := s.commit(ctx, a, b, v, false, ev)
		out = &nb
		return err
	})
	return out, err
}

// ApplyContributions does ApplyContribution for many people at once, keyed by person, in a few
// statements (uprating). People without an open care and support budget are not in the result.
func (s *Service) ApplyContributions(ctx context.Context, a actor.Actor, cs map[uuid.UUID]charging.Contribution, reason string) (map[uuid.UUID]Budget, error) {
	out := make(map[uuid.UUID]Budget, len(cs))
	if len(cs) == 0 {
		return out, nil
	}
	err := txn.Join(ctx, s.tx, func(ctx context.Context) error {
		ids := make([]uuid.UUID, 0, len(cs))
		for id := range cs {
			ids = append(ids, id)
		}
		slices.SortFunc(ids, func(a, b uuid.UUID) int { return bytes.Compare(a[:], b[:]) }) // one lock order
		bs, err := s.store.OpenMany(ctx, a.CouncilID, ids, CareAndSupport)
		if err != nil {
			return err
		}
		now := s.timestamp()
		versions := make([]Version, len(bs))
		events := make([]audit.Event, len(bs))
		for i, b := range bs {
			v, ev := contributed(b.Current, cs[b.PersonID], reason)
			bs[i], versions[i], events[i] = next(a, b, v, false, ev, now)
			out[b.PersonID] = bs[i]
		}
		if err := s.store.UpdateMany(ctx, bs); err != nil {
			return err
		}
		if err := s.store.InsertVersions(ctx, versions); err != nil {
			return err
		}
		return s.audit.RecordAll(ctx, a, events)
	})
	return out, err
}

// contributed is current split again with contribution c, and its audit event.
func contributed(current Version, c charging.Contribution, reason string) (Version, audit.Event) {
	v := current
	v.Change, v.Reason, v.FundingRequestID = Contributed, reason, nil
	v.Split = Compose(v.AnnualCost, &c)
	return v, audit.Event{
		Action: "personal_budget.contribution_assessed", ChangedFields: []string{"person_weekly_pence", "council_weekly_pence"},
		Details: map[string]any{"financial_assessment_id": c.FinancialAssessmentID.String(), "rate_table_id": c.RateTableID.String()},
	}
}

// Agreement is a signed-off plan as the budget records it.
type Agreement struct {
	PlanID           uuid.UUID
	FinalAnnual      int64
	DifferenceReason string
}

// ErrDifferenceReason is returned when a final amount differs from the indicative one without a reason.
var ErrDifferenceReason = apperr.New(apperr.RuleViolation, "difference-reason-required",
	"the plan's cost differs from the indicative budget: give the reason in difference_reason")

// AgreePlan makes the budget agreed on a signed-off plan: the final amount is the plan's cost, the
// cost is split again with the person's contribution, and a difference from the indicative amount
// keeps its reason.
func (s *Service) AgreePlan(ctx context.Context, a actor.Actor, budgetID uuid.UUID, ag Agreement) (Budget, error) {
	var out Budget
	err := txn.Join(ctx, s.tx, func(ctx context.Context) error {
		b, err := s.store.Get(ctx, a.CouncilID, budgetID, true)
		if err != nil {
			return err
		}
		if b.Status == Ended {
			return ErrEnded
		}
		v := b.Current
		if ag.FinalAnnual != v.IndicativeAnnual && ag.DifferenceReason == "" {
			return ErrDifferenceReason
		}
		c, err := s.store.CurrentContribution(ctx, a.CouncilID, b.PersonID)
		if err != nil {
			return err
		}
		if b.Kind != CareAndSupport {
			c = nil
		}
		b.Status = Agreed
		final, plan := ag.FinalAnnual, ag.PlanID
		v.Status, v.Change, v.FundingRequestID, v.FinalAnnual, v.PlanID = Agreed, PlanAgreed, nil, &final, &plan
		v.DifferenceReason = nil
		v.Reason = "care and support plan signed off"
		if ag.DifferenceReason != "" {
			v.DifferenceReason = &ag.DifferenceReason
			v.Reason += ": " + ag.DifferenceReason
		}
		v.Split = Compose(final, c)
		out, err = s.commit(ctx, a, b, v, false, audit.Event{
			Action: "personal_budget.plan_agreed", ChangedFields: []string{"status", "final_annual_pence"},
			Details: map[string]any{"plan_id": plan.String()},
		})
		return err
	})
	return out, err
}

// ContributionFor returns the person's current contribution, nil when they have no completed
// financial assessment.
func (s *Service) ContributionFor(ctx context.Context, a actor.Actor, personID uuid.UUID) (*charging.Contribution, error) {
	return s.store.CurrentContribution(ctx, a.CouncilID, personID)
}

// commit stores budget b (new, or changed at its current version) with v as its next version,
// and audits ev with the version's reason and numbers.
func (s *Service) commit(ctx context.Context, a actor.Actor, b Budget, v Version, isNew bool, ev audit.Event) (Budget, error) {
	b, v, ev = next(a, b, v, isNew, ev, s.timestamp())
	var err error
	if isNew {
		err = s.store.Insert(ctx, b)
	} else {
		err = s.store.Update(ctx, b)
	}
	if err != nil {
		return Budget{}, err
	}
	if err := s.store.InsertVersion(ctx, v); err != nil {
		return Budget{}, err
	}
	return b, s.audit.Record(ctx, a, ev)
}

// next is budget b with v as its next version at now, and ev completed with the version's reason
// and numbers: what commit stores.
func next(a actor.Actor, b Budget, v Version, isNew bool, ev audit.Event, now time.Time) (Budget, Version, audit.Event) {
	v.ID, v.Number, v.CreatedAt, v.CreatedBy = uuid.Must(uuid.NewV7()), b.Current.Number+1, now, a.Subject
	b.UpdatedAt = now
	if isNew {
		b.Version = 1
	} else {
		b.Version++
	}
	b.Current, b.History = v, append(b.History, v)
	ev.EntityType, ev.EntityID, ev.Reason = "personal_budget", b.ID, v.Reason
	if ev.Details == nil {
		ev.Details = map[string]any{}
	}
	ev.Details["budget_version"], ev.Details["budget_version_id"] = v.Number, v.ID.String()
	return b, v, ev
}
