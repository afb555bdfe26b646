package portal

import (
	"context"
	"strings"
	"time"

	"github.com/google/uuid"

	"github.com/pbudget/pbudget/internal/actor"
	"github.com/pbudget/pbudget/internal/apperr"
	"github.com/pbudget/pbudget/internal/audit"
	"github.com/pbudget/pbudget/internal/page"
	"github.com/pbudget/pbudget/internal/person"
	"github.com/pbudget/pbudget/internal/plan"
)

// RequestStatus is where a management change request is.
type RequestStatus string

// The statuses.
const (
	RequestOpen        RequestStatus = "open"
	RequestPlanRevised RequestStatus = "plan_revised"
	RequestDeclined    RequestStatus = "declined"
)

// ChangeRequest is a request, by the person or someone acting for them, to manage a part of the
// budget another way. A practitioner answers it with a plan revision or a reason.
type ChangeRequest struct {
	CouncilID         uuid.UUID
	ID                uuid.UUID
	PersonID          uuid.UUID
	BudgetID          uuid.UUID
	PlanID            uuid.UUID
	LineID            *uuid.UUID
	CurrentOption     *plan.Option
	RequestedOption   plan.Option
	Reason            string
	RequestedBy       string // the holder's token subject
	RequestedByPerson *uuid.UUID
	RequestedByBasis  person.Basis
	RequestedAt       time.Time
	Status            RequestStatus
	AnswerReason      *string
	RevisionPlanID    *uuid.UUID
	AnsweredBy        *string
	AnsweredAt        *time.Time
	Version           int
	UpdatedAt         time.Time
}

// Cursor is the page position of a request.
func (r ChangeRequest) Cursor() page.Cursor { return page.Cursor{Time: r.RequestedAt, ID: r.ID} }

// RequestFilter narrows the lists of requests.
type RequestFilter struct {
	PersonID *uuid.UUID
	Status   RequestStatus
}

// RequestStore keeps management change requests.
type RequestStore interface {
	InsertRequest(ctx context.Context, r ChangeRequest) error
	GetRequest(ctx context.Context, councilID, id uuid.UUID, forUpdate bool) (ChangeRequest, error)
	// UpdateRequest writes r if the stored version is r.Version − 1.
	UpdateRequest(ctx context.Context, r ChangeRequest) error
	ListRequests(ctx context.Context, councilID uuid.UUID, f RequestFilter, p page.Request) ([]ChangeRequest, error)
	// SetConsent records a recipient's consent on a direct-payment agreement at version − 1.
	SetConsent(ctx context.Context, councilID, id uuid.UUID, version int, consented bool, reason string, at time.Time) error
}

// Errors of requests and consent.
var (
	ErrRequestPlan = apperr.New(apperr.RuleViolation, "plan-not-found", "plan_id names no approved plan of a person you act for")
	ErrRequestLine = apperr.New(apperr.RuleViolation, "plan-line-not-in-plan", "plan_line_id names no line of this plan")
	ErrSameOption  = apperr.New(apperr.RuleViolation, "management-option-unchanged",
		"the line is already managed this way: ask for another management option")
	ErrRequestOpen = apperr.New(apperr.Conflict, "management-change-request-open",
		"a request for this line (or this plan) is already awaiting an answer")
	ErrAnswered = apperr.New(apperr.Conflict, "management-change-request-answered", "the request has been answered")
	ErrRevision = apperr.New(apperr.RuleViolation, "revision-plan-invalid",
		"revision_plan_id names a later plan of the request's budget that revises it (plan_revised needs one)")
	ErrAnswerReason = apperr.New(apperr.RuleViolation, "answer-reason-required", "declining a request needs a reason the person can read")
	ErrNotRecipient = apperr.New(apperr.Forbidden, "not-the-recipient",
		"only the nominee or authorised person who receives this direct payment gives or withdraws consent")
)

// CreateRequest opens a request for a person the holder acts for.
func (s *Service) CreateRequest(ctx context.Context, a actor.Actor, planID uuid.UUID, lineID *uuid.UUID, option plan.Option, reason string) (ChangeRequest, error) {
	if err := only(a); err != nil {
		return ChangeRequest{}, err
	}
	reason = strings.TrimSpace(reason)
	var out ChangeRequest
	err := s.tx.WithinTx(ctx, func(ctx context.Context) error {
		if err := s.people.CheckPlanReach(ctx, a, planID); err != nil {
			if apperr.KindOf(err) == apperr.NotFound {
				return ErrRequestPlan
			}
			return err
		}
		v, err := s.plans.Get(ctx, a, planID)
		if err != nil {
			return err
		}
		if v.Plan.Status != plan.Approved {
			return plan.ErrNotApproved
		}
		r := ChangeRequest{CouncilID: a.CouncilID, ID: uuid.Must(uuid.NewV7()), PersonID: v.Plan.PersonID, BudgetID: v.Plan.BudgetID,
			PlanID: planID, LineID: lineID, RequestedOption: option, Reason: reason, RequestedBy: a.Subject, RequestedByPerson: a.PersonID,
			Status: RequestOpen, Version: 1}
		if lineID != nil {
			found := false
			for _, l := range v.Plan.Lines {
				if l.ID == *lineID {
					found, r.CurrentOption = true, &l.Option
				}
			}
			if !found {
				return ErrRequestLine
			}
			if *r.CurrentOption == option {
				return ErrSameOption
			}
		}
		if r.RequestedByBasis, err = s.basis(ctx, a, r.PersonID); err != nil {
			return err
		}
		r.RequestedAt = s.now().UTC().Truncate(time.Microsecond)
		r.UpdatedAt = r.RequestedAt
		if err := s.store.InsertRequest(ctx, r); err != nil {
			return err
		}
		out = r
		details := map[string]any{"person_id": r.PersonID.String(), "plan_id": planID.String(), "requested_option": string(option),
			"requested_by_basis": string(r.RequestedByBasis)}
		if lineID != nil {
			details["plan_line_id"] = lineID.String()
		}
		return s.audit.Record(ctx, a, audit.Event{Action: "management_change_request.created", EntityType: "management_change_request",
			EntityID: r.ID, ChangedFields: []string{"requested_option", "reason"}, Details: details}) // the person's words stay out of the trail
	})
	return out, err
}

// basis is the holder's tie to the person they act for.
func (s *Service) basis(ctx context.Context, a actor.Actor, personID uuid.UUID) (person.Basis, error) {
	list, err := s.people.ActingFor(ctx, a)
	if err != nil {
		return "", err
	}
	for _, x := range list {
		if x.Person.ID == personID {
			return x.Basis, nil
		}
	}
	return "", apperr.ErrNotFound
}

// MyRequests returns a page of the requests of a person the holder acts for.
func (s *Service) MyRequests(ctx context.Context, a actor.Actor, personID uuid.UUID, p page.Request) ([]ChangeRequest, error) {
	if err := only(a); err != nil {
		return nil, err
	}
	if err := s.people.CheckReach(ctx, a, personID); err != nil {
		return nil, err
	}
	return s.store.ListRequests(ctx, a.CouncilID, RequestFilter{PersonID: &personID}, p)
}

// Requests returns a page of the council's requests (staff).
func (s *Service) Requests(ctx context.Context, a actor.Actor, f RequestFilter, p page.Request) ([]ChangeRequest, error) {
	return s.store.ListRequests(ctx, a.CouncilID, f, p)
}

// Request returns one request (staff).
func (s *Service) Request(ctx context.Context, a actor.Actor, id uuid.UUID) (ChangeRequest, error) {
	return s.store.GetRequest(ctx, a.CouncilID, id, false)
}

// Answer answers an open request at version: with the plan revision that makes the change, or
// declined with a reason.
func (s *Service) Answer(ctx context.Context, a actor.Actor, id uuid.UUID, version int, status RequestStatus, revisionID *uuid.UUID, reason string) (ChangeRequest, error) {
	reason = strings.TrimSpace(reason)
	var out ChangeRequest
	err := s.tx.WithinTx(ctx, func(ctx context.Context) error {
		r, err := s.store.GetRequest(ctx, a.CouncilID, id, true)
		if err != nil {
			return err
		}
		if r.Version != version {
			return apperr.ErrVersionMismatch
		}
		if r.Status != RequestOpen {
			return ErrAnswered
		}
		switch status {
		case RequestDeclined:
			if reason == "" {
				return ErrAnswerReason
			}
			r.RevisionPlanID = nil
		case RequestPlanRevised:
			if revisionID == nil {
				return ErrRevision
			}
			if err := s.checkRevision(ctx, a, r, *revisionID); err != nil {
				return err
			}
			r.RevisionPlanID = revisionID
		}
		now := s.now().UTC().Truncate(time.Microsecond)
		r.Status, r.AnsweredBy, r.AnsweredAt, r.UpdatedAt, r.Version = status, &a.Subject, &now, now, r.Version+1
		if reason != "" {
			r.AnswerReason = &reason
		}
		if err := s.store.UpdateRequest(ctx, r); err != nil {
			return err
		}
		out = r
		details := map[string]any{"status": string(status), "person_id": r.PersonID.String()}
		if r.RevisionPlanID != nil {
			details["revision_plan_id"] = r.RevisionPlanID.String()
		}
		return s.audit.Record(ctx, a, audit.Event{Action: "management_change_request.answered", EntityType: "management_change_request",
			EntityID: r.ID, ChangedFields: []string{"status", "answer_reason", "revision_plan_id"}, Reason: reason, Details: details})
	})
	return out, err
}

// checkRevision: the revision is a plan of the request's budget descended from the request's plan
// (its revises chain reaches it).
func (s *Service) checkRevision(ctx context.Context, a actor.Actor, r ChangeRequest, revisionID uuid.UUID) error {
	id := revisionID
	for range 50 {
		v, err := s.plans.Get(ctx, a, id)
		if apperr.KindOf(err) == apperr.NotFound {
			return ErrRevision
		}
		if err != nil {
			return err
		}
		if v.Plan.BudgetID != r.BudgetID || v.Plan.RevisesID == nil {
			return ErrRevision
		}
		if *v.Plan.RevisesID == r.PlanID {
			return nil
		}
		id = *v.Plan.RevisesID
	}
	return ErrRevision
}

// SetConsent gives or withdraws the holder's consent as the nominee or authorised person who
// receives a direct payment, at the agreement's version.
func (s *Service) SetConsent(ctx context.Context, a actor.Actor, id uuid.UUID, version int, consented bool, reason string) (Agreement, error) {
	reason = strings.TrimSpace(reason)
	var out Agreement
	err := s.tx.WithinTx(ctx, func(ctx context.Context) error {
		g, err := s.agreement(ctx, a, id, true)
		if err != nil {
			return err
		}
		if g.Recipient == "person" || g.Recipient == "provider" || g.RecipientPersonID == nil || *g.RecipientPersonID != *a.PersonID {
			return ErrNotRecipient
		}
		if g.Version != version {
			return apperr.ErrVersionMismatch
		}
		if g.Consented != nil && *g.Consented == consented {
			out = g // nothing changes
			return nil
		}
		now := s.now().UTC().Truncate(time.Microsecond)
		if err := s.store.SetConsent(ctx, a.CouncilID, id, version+1, consented, reason, now); err != nil {
			return err
		}
		action := "direct_payment_agreement.consent_withdrawn"
		if consented {
			action = "direct_payment_agreement.consent_given"
		}
		if err := s.audit.Record(ctx, a, audit.Event{Action: action, EntityType: "direct_payment_agreement", EntityID: id,
			ChangedFields: []string{"recipient_consented", "consent_reason"}, // the person's words stay out of the trail
			Details:       map[string]any{"person_id": g.PersonID.String(), "recipient": g.Recipient, "version": version + 1}}); err != nil {
			return err
		}
		out, err = s.store.Agreement(ctx, a.CouncilID, id, s.today(), false)
		return err
	})
	return out, err
}
