// Package funding is the funding panel: a practitioner asks for more than a budget's indicative
// amount, with a reason; the panel approves it, approves another amount, or declines, with a
// reason. Request and decision times are kept so that undue delay shows (statutory guidance
// 10.85); an approved amount becomes the budget's ceiling for planning.
package funding

import (
	"context"
	"strings"
	"time"

	"github.com/google/uuid"

	"github.com/pbudget/pbudget/internal/actor"
	"github.com/pbudget/pbudget/internal/apperr"
	"github.com/pbudget/pbudget/internal/audit"
	"github.com/pbudget/pbudget/internal/budget"
	"github.com/pbudget/pbudget/internal/council"
	"github.com/pbudget/pbudget/internal/date"
	"github.com/pbudget/pbudget/internal/page"
	"github.com/pbudget/pbudget/internal/txn"
)

// Status is pending, approved or declined.
type Status string

// The statuses.
const (
	Pending  Status = "pending"
	Approved Status = "approved"
	Declined Status = "declined"
)

// Decision is the panel's choice.
type Decision string

// The decisions.
const (
	Approve          Decision = "approve"
	ApproveDifferent Decision = "approve_different"
	Decline          Decision = "decline"
)

// Request is a request to the panel.
type Request struct {
	CouncilID        uuid.UUID
	ID               uuid.UUID
	PersonID         uuid.UUID
	BudgetID         uuid.UUID
	Status           Status
	RequestedAnnual  int64
	IndicativeAnnual int64
	AssessmentID     *uuid.UUID // the assessment behind the indicative figure asked about
	ApprovedAnnual   *int64
	Reason           string
	RequestedBy      string
	RequestedAt      time.Time
	Decision         *Decision
	DecisionReason   *string
	DecidedBy        *string
	DecidedAt        *time.Time
	Version          int
	UpdatedAt        time.Time
}

// DaysToDecision is the number of calendar days in England from request to decision, nil while pending.
func (r Request) DaysToDecision() *int {
	if r.DecidedAt == nil {
		return nil
	}
	d := date.Today(*r.DecidedAt).DaysSince(date.Today(r.RequestedAt))
	return &d
}

// DaysWaiting counts calendar days from request to decision, or to now while pending.
func (r Request) DaysWaiting(now time.Time) int {
	if d := r.DaysToDecision(); d != nil {
		return *d
	}
	return date.Today(now).DaysSince(date.Today(r.RequestedAt))
}

// Cursor is the page position of a request: oldest request first.
func (r Request) Cursor() page.Cursor { return page.Cursor{Time: r.RequestedAt, ID: r.ID} }

// Errors of the panel.
var (
	ErrNotAboveCeiling = apperr.New(apperr.RuleViolation, "request-not-above-ceiling",
		"a funding request asks for more than the budget's indicative amount and any ceiling already approved")
	ErrBudgetChanged = apperr.New(apperr.Conflict, "budget-changed-since-request",
		"the budget has been reassessed or has ended since this request was made; make a new request")
	ErrPendingExists = apperr.New(apperr.Conflict, "funding-request-pending",
		"this budget already has a funding request awaiting the panel")
	ErrDecided        = apperr.New(apperr.Conflict, "funding-request-decided", "the panel has already decided this request")
	ErrAmountRequired = apperr.New(apperr.RuleViolation, "approved-amount-required",
		"approve_different needs approved_annual_pence")
	ErrAmountNotAllowed = apperr.New(apperr.RuleViolation, "approved-amount-not-allowed",
		"approved_annual_pence is given only with approve_different")
	ErrApprovedNotAbove = apperr.New(apperr.RuleViolation, "approved-not-above-indicative",
		"an approved amount is above the indicative amount; decline instead")
	ErrBudgetNotFound = apperr.New(apperr.RuleViolation, "budget-not-found", "budget_id does not name a budget of this council")
	ErrSelfDecision   = apperr.New(apperr.RuleViolation, "decider-is-requester",
		"the user who asked for this funding cannot decide it (council setting approver_must_differ_from_submitter): another panel member must")
)

// Filter narrows a listing.
type Filter struct {
	Status   Status
	PersonID *uuid.UUID
}

// Store keeps requests.
type Store interface {
	Insert(ctx context.Context, r Request) error
	Get(ctx context.Context, councilID, id uuid.UUID, forUpdate bool) (Request, error)
	Update(ctx context.Context, r Request) error
	List(ctx context.Context, councilID uuid.UUID, f Filter, p page.Request) ([]Request, error)
}

// Budgets is what the panel needs of the budget service.
type Budgets interface {
	Get(ctx context.Context, a actor.Actor, id uuid.UUID) (budget.Budget, error)
	RaiseCeiling(ctx context.Context, a actor.Actor, budgetID, fundingRequestID uuid.UUID, approvedAnnual int64, reason string) (budget.Budget, error)
}

// Settings reads the council's settings.
type Settings interface {
	Get(ctx context.Context, councilID uuid.UUID) (council.Settings, error)
}

// Service is the panel's use cases.
type Service struct {
	store    Store
	budgets  Budgets
	settings Settings
	audit    audit.Recorder
	tx       txn.Transactor
	now      func() time.Time
}

// NewService returns a Service.
func NewService(store Store, budgets Budgets, settings Settings, auditor audit.Recorder, tx txn.Transactor, now func() time.Time) *Service {
	return &Service{store: store, budgets: budgets, settings: settings, audit: auditor, tx: tx, now: now}
}

func (s *Service) timestamp() time.Time { return s.now().UTC().Truncate(time.Microsecond) }

// Now is the service's clock, for days waiting.
func (s *Service) Now() time.Time { return s.now() }

// Create asks the panel for requestedAnnual on a budget, with a reason.
func (s *Service) Create(ctx context.Context, a actor.Actor, budgetID uuid.UUID, requestedAnnual int64, reason string) (Request, error) {
	reason = strings.TrimSpace(reason)
	var out Request
	err := s.tx.WithinTx(ctx, func(ctx context.Context) error {
		b, err := s.budgets.Get(ctx, a, budgetID)
		if err != nil {
			if apperr.KindOf(err) == apperr.NotFound {
				return ErrBudgetNotFound
			}
			return err
		}
		if b.Status == budget.Ended {
			return budget.ErrEnded
		}
		if requestedAnnual <= b.Current.CeilingAnnual {
			return ErrNotAboveCeiling
		}
		now := s.timestamp()
		out = Request{
			CouncilID: a.CouncilID, ID: uuid.Must(uuid.NewV7()), PersonID: b.PersonID, BudgetID: b.ID, Status: Pending,
			RequestedAnnual: requestedAnnual, IndicativeAnnual: b.Current.IndicativeAnnual, AssessmentID: b.Current.AssessmentID, Reason: reason,
			RequestedBy: a.Subject, RequestedAt: now, Version: 1, UpdatedAt: now,
		}
		if err := s.store.Insert(ctx, out); err != nil {
			return err
		}
		return s.audit.Record(ctx, a, audit.Event{
			Action: "funding_request.created", EntityType: "funding_request", EntityID: out.ID,
			ChangedFields: []string{"requested_annual_pence", "reason"}, Reason: reason,
			Details: map[string]any{"budget_id": b.ID.String(), "budget_version": b.Current.Number},
		})
	})
	return out, err
}

// Get returns one request.
func (s *Service) Get(ctx context.Context, a actor.Actor, id uuid.UUID) (Request, error) {
	return s.store.Get(ctx, a.CouncilID, id, false)
}

// List returns a page of requests, oldest first.
func (s *Service) List(ctx context.Context, a actor.Actor, f Filter, p page.Request) ([]Request, error) {
	return s.store.List(ctx, a.CouncilID, f, p)
}

// Decide records the panel's decision on a pending request at version, by someone other than
// the requester (unless the council has turned segregation of duties off); an approval raises the
// budget's ceiling in the same transaction.
func (s *Service) Decide(ctx context.Context, a actor.Actor, id uuid.UUID, version int, d Decision, amount *int64, reason string) (Request, error) {
	reason = strings.TrimSpace(reason)
	var out Request
	err := s.tx.WithinTx(ctx, func(ctx context.Context) error {
		r, err := s.store.Get(ctx, a.CouncilID, id, true)
		if err != nil {
			return err
		}
		if r.Version != version {
			return apperr.ErrVersionMismatch
		}
		if r.Status != Pending {
			return ErrDecided
		}
		st, err := s.settings.Get(ctx, a.CouncilID)
		if err != nil {
			return err
		}
		if st.ApproverMustDifferFromSubmitter && r.RequestedBy == a.Subject {
			return ErrSelfDecision
		}
		b, err := s.budgets.Get(ctx, a, r.BudgetID)
		if err != nil {
			return err
		}
		if b.Status == budget.Ended || !sameID(b.Current.AssessmentID, r.AssessmentID) {
			return ErrBudgetChanged
		}
		var approved *int64
		switch d {
		case Approve:
			if amount != nil {
				return ErrAmountNotAllowed
			}
			approved = &r.RequestedAnnual
		case ApproveDifferent:
			if amount == nil {
				return ErrAmountRequired
			}
			if *amount <= r.IndicativeAnnual {
				return ErrApprovedNotAbove
			}
			approved = amount
		case Decline:
			if amount != nil {
				return ErrAmountNotAllowed
			}
		}
		now := s.timestamp()
		r.Status = Declined
		if approved != nil {
			r.Status = Approved
		}
		r.Decision, r.ApprovedAnnual, r.DecisionReason, r.DecidedBy, r.DecidedAt = &d, approved, &reason, &a.Subject, &now
		r.Version, r.UpdatedAt = r.Version+1, now
		if err := s.store.Update(ctx, r); err != nil {
			return err
		}
		if approved != nil {
			if _, err := s.budgets.RaiseCeiling(ctx, a, r.BudgetID, r.ID, *approved, "funding panel: "+reason); err != nil {
				return err
			}
		}
		out = r
		return s.audit.Record(ctx, a, audit.Event{
			Action: "funding_request.decided", EntityType: "funding_request", EntityID: r.ID,
			ChangedFields: []string{"status", "decision", "approved_annual_pence", "decision_reason"}, Reason: reason,
			Details: map[string]any{"decision": string(d), "days_to_decision": *r.DaysToDecision(), "budget_id": r.BudgetID.String(),
				"approver_must_differ_from_submitter": st.ApproverMustDifferFromSubmitter},
		})
	})
	return out, err
}

func sameID(a, b *uuid.UUID) bool {
	if a == nil || b == nil {
		return a == b
	}
	return *a == *b
}
