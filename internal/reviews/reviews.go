// Package reviews wires the review of plans and direct-payment arrangements (the rules are in
// internal/review): each person's next review kept in review_schedules, derived from the events
// (approved plans, first payments, completed reviews, requests, a child in need) by review.Next;
// unplanned review requests; completed reviews with their outcomes and decision, a reassessment
// or a plan revision opened by the decision; the work lists and a person's history.
//
// # Keeping due dates current
//
// A review or a request recomputes its person's schedule in its own transaction. Plans approved,
// agreements paid and ended budgets change the facts from other services; the periodic review
// sweep (a River job, every 15 minutes by default) recomputes every person with an approved plan
// or a schedule, set-based in batches of people, writes only the schedules that changed, removes
// those no longer due (no approved plan, services ended), and sends review.due (due within the
// notice window) and review.overdue once per due date.
package reviews

import (
	"context"
	"strings"
	"time"

	"github.com/google/uuid"

	"github.com/pbudget/pbudget/internal/actor"
	"github.com/pbudget/pbudget/internal/apperr"
	"github.com/pbudget/pbudget/internal/audit"
	"github.com/pbudget/pbudget/internal/date"
	"github.com/pbudget/pbudget/internal/page"
	"github.com/pbudget/pbudget/internal/review"
	"github.com/pbudget/pbudget/internal/txn"
	"github.com/pbudget/pbudget/internal/webhook"
)

// PersonFacts are what a person's schedule and a review of them need.
type PersonFacts struct {
	PersonID     uuid.UUID
	Facts        review.Facts
	PlanID       uuid.UUID // the plan in force (latest started approved plan); zero without one
	PlanVersion  int
	PlanOutcomes int
	Practitioner string     // of the latest completed assessment
	AssessmentID *uuid.UUID // the latest completed assessment (what a reassessment reassesses)
}

// Schedule is a person's next review.
type Schedule struct {
	CouncilID      uuid.UUID
	PersonID       uuid.UUID
	Due            review.Due
	PlanID         uuid.UUID
	Practitioner   *string
	Team           *string
	Assigned       bool
	DueSentFor     *date.Date
	OverdueSentFor *date.Date
	ComputedAt     time.Time
	OpenRequests   []Request // filled by GetSchedule
}

// Request is an unplanned review request.
type Request struct {
	CouncilID   uuid.UUID
	ID          uuid.UUID
	PersonID    uuid.UUID
	Reason      review.Reason
	RequestedOn date.Date
	Note        string
	RequestedBy string
	AnsweredBy  *uuid.UUID
	CreatedAt   time.Time
}

// Review is a completed review as stored.
type Review struct {
	CouncilID      uuid.UUID
	ID             uuid.UUID
	PersonID       uuid.UUID
	PlanID         uuid.UUID
	Record         review.Record
	RequestID      *uuid.UUID
	ReassessmentID *uuid.UUID
	RevisionPlanID *uuid.UUID
	RecordedBy     string
	CreatedAt      time.Time
}

// Cursor is the page position of a review.
func (r Review) Cursor() page.Cursor { return page.Cursor{Time: r.CreatedAt, ID: r.ID} }

// WorklistFilter narrows the work list; zero fields do not filter.
type WorklistFilter struct {
	DueBy        *date.Date // due on or before (due within N days: today + N)
	OverdueOn    *date.Date // overdue on this day: due before it
	Practitioner string
	Team         string
}

// ReviewFilter narrows the list of completed reviews.
type ReviewFilter struct {
	PersonID *uuid.UUID
	Reviewer string
	From, To *date.Date // held on [From, To]
}

// Store keeps reviews, requests and schedules and reads the facts.
type Store interface {
	Facts(ctx context.Context, councilID uuid.UUID, people []uuid.UUID, today date.Date) (map[uuid.UUID]PersonFacts, error)
	// SweepPeople are, after person id after, up to limit people with an approved plan or a schedule.
	SweepPeople(ctx context.Context, councilID, after uuid.UUID, limit int) ([]uuid.UUID, error)
	Councils(ctx context.Context) ([]uuid.UUID, error)
	Schedules(ctx context.Context, councilID uuid.UUID, people []uuid.UUID) (map[uuid.UUID]Schedule, error)
	UpsertSchedules(ctx context.Context, s []Schedule) error
	DeleteSchedules(ctx context.Context, councilID uuid.UUID, people []uuid.UUID) error
	Worklist(ctx context.Context, councilID uuid.UUID, f WorklistFilter, p page.Request) ([]Schedule, error)
	Assign(ctx context.Context, councilID, personID uuid.UUID, practitioner, team *string) error
	// Notices are the schedules due for review.due (due by dueBy, not sent for their date) or
	// review.overdue (due before today, not sent for their date).
	Notices(ctx context.Context, councilID uuid.UUID, today, dueBy date.Date, limit int) ([]Schedule, error)
	MarkSent(ctx context.Context, s Schedule) error

	InsertRequest(ctx context.Context, r Request) error
	OpenRequests(ctx context.Context, councilID, personID uuid.UUID) ([]Request, error)
	InsertReview(ctx context.Context, r Review) error
	AnswerRequests(ctx context.Context, councilID, personID, reviewID uuid.UUID, heldOn date.Date) error
	GetReview(ctx context.Context, councilID, id uuid.UUID) (Review, error)
	ListReviews(ctx context.Context, councilID uuid.UUID, f ReviewFilter, p page.Request) ([]Review, error)
	// LockPerson serialises the changes of one person's reviews.
	LockPerson(ctx context.Context, councilID, personID uuid.UUID) error
}

// Reassessor opens a reassessment draft (assessment.Service).
type Reassessor interface {
	OpenReassessment(ctx context.Context, a actor.Actor, personID, assessmentID uuid.UUID) (uuid.UUID, error)
}

// Reviser opens a revision of an approved plan (plan.Service).
type Reviser interface {
	OpenRevision(ctx context.Context, a actor.Actor, planID uuid.UUID) (uuid.UUID, error)
}

// Reach checks provider staff's reach (person.Service).
type Reach interface {
	CheckReach(ctx context.Context, a actor.Actor, personID uuid.UUID) error
}

// Deps are the service's dependencies.
type Deps struct {
	Store      Store
	Reassessor Reassessor
	Reviser    Reviser
	Reach      Reach
	Events     webhook.Emitter
	Audit      audit.Recorder
	Tx         txn.Transactor
	Now        func() time.Time
	Policy     *review.Policy // nil: review.DefaultPolicy
	// DueNoticeDays is how long before its date review.due is sent (default 28).
	DueNoticeDays int
}

// Service is the reviews use cases.
type Service struct {
	d      Deps
	policy review.Policy
}

// NewService returns a Service.
func NewService(d Deps) *Service {
	s := &Service{d: d, policy: review.DefaultPolicy()}
	if d.Policy != nil {
		s.policy = *d.Policy
	}
	if s.d.DueNoticeDays == 0 {
		s.d.DueNoticeDays = 28
	}
	if s.d.Events == nil {
		s.d.Events = webhook.Discard
	}
	return s
}

// SetRevisions gives the service what opens reassessments and plan revisions (built after it).
func (s *Service) SetRevisions(r Reassessor, v Reviser) { s.d.Reassessor, s.d.Reviser = r, v }

// Policy returns the rules' figures.
func (s *Service) Policy() review.Policy { return s.policy }

func (s *Service) today() date.Date { return date.Today(s.d.Now()) }

// Errors of reviews.
var (
	ErrNoPlan = apperr.New(apperr.RuleViolation, "review-no-approved-plan",
		"the person has no approved plan to review")
	ErrRequestReason = apperr.New(apperr.Invalid, "review-request-reason",
		"an unplanned review's reason is one of request, hospital_admission, carer_breakdown, safeguarding, audit_concern")
	ErrUnknownRequest = apperr.New(apperr.RuleViolation, "review-request-unknown",
		"request_id is not an open review request of this person")
	ErrNoAssessment = apperr.New(apperr.RuleViolation, "review-no-assessment-to-reassess",
		"the person has no completed assessment to reassess")
)

// RequestInput is a request for an unplanned review.
type RequestInput struct {
	Reason      review.Reason
	RequestedOn *date.Date // default today
	Note        string
}

// RequestReview records a request for an unplanned review and brings the person's next review
// forward (it is due within Policy.UnplannedWithinDays). It checks no role: the caller decides
// who may ask (a practitioner for the person, or the person themselves).
func (s *Service) RequestReview(ctx context.Context, a actor.Actor, personID uuid.UUID, in RequestInput) (Request, Schedule, error) {
	if !in.Reason.Unplanned() {
		return Request{}, Schedule{}, ErrRequestReason
	}
	today := s.today()
	on := today
	if in.RequestedOn != nil {
		on = *in.RequestedOn
	}
	if on.After(today) {
		return Request{}, Schedule{}, apperr.Validation(apperr.FieldError{Field: "/requested_on", In: "body", Code: "in_future",
			Message: "a request is recorded once it has been made: the date cannot be after today"})
	}
	r := Request{CouncilID: a.CouncilID, ID: uuid.Must(uuid.NewV7()), PersonID: personID, Reason: in.Reason, RequestedOn: on,
		Note: strings.TrimSpace(in.Note), RequestedBy: a.Subject, CreatedAt: s.d.Now().UTC().Truncate(time.Microsecond)}
	var sched Schedule
	err := s.d.Tx.WithinTx(ctx, func(ctx context.Context) error {
		if err := s.checkPerson(ctx, a, personID); err != nil {
			return err
		}
		if err := s.d.Store.InsertRequest(ctx, r); err != nil {
			return err
		}
		if err := s.d.Audit.Record(ctx, a, audit.Event{Action: "review_request.created", EntityType: "review_request", EntityID: r.ID,
			ChangedFields: []string{"reason", "requested_on", "note"}, Reason: string(r.Reason),
			Details: map[string]any{"person_id": personID.String(), "requested_on": on.String()}}); err != nil {
			return err
		}
		var err error
		sched, err = s.recompute(ctx, a.CouncilID, personID)
		return err
	})
	return r, sched, err
}

func (s *Service) checkPerson(ctx context.Context, a actor.Actor, personID uuid.UUID) error {
	if err := s.d.Store.LockPerson(ctx, a.CouncilID, personID); err != nil {
		return err
	}
	if s.d.Reach != nil {
		return s.d.Reach.CheckReach(ctx, a, personID)
	}
	return nil
}

// RecordInput is a completed review.
type RecordInput struct {
	Record    review.Record
	RequestID *uuid.UUID
}

// Record records a completed review of the person's plan in force: the outcomes, whether needs
// changed, the decision and (optionally, earlier than the rules) the next date. "reassess" opens
// a reassessment draft of the person's latest completed assessment; "revise_plan" a revision of
// the plan. The schedule is recomputed in the same transaction.
func (s *Service) Record(ctx context.Context, a actor.Actor, personID uuid.UUID, in RecordInput) (Review, Schedule, error) {
	var out Review
	var sched Schedule
	err := s.d.Tx.WithinTx(ctx, func(ctx context.Context) error {
		if err := s.checkPerson(ctx, a, personID); err != nil {
			return err
		}
		facts, err := s.d.Store.Facts(ctx, a.CouncilID, []uuid.UUID{personID}, s.today())
		if err != nil {
			return err
		}
		pf, ok := facts[personID]
		if !ok || pf.PlanID == uuid.Nil {
			return ErrNoPlan
		}
		if in.RequestID != nil {
			open, err := s.d.Store.OpenRequests(ctx, a.CouncilID, personID)
			if err != nil {
				return err
			}
			found := false
			for _, r := range open {
				found = found || r.ID == *in.RequestID
			}
			if !found {
				return ErrUnknownRequest
			}
		}
		rec := in.Record
		rec.Reviewer = strings.TrimSpace(rec.Reviewer)
		if rec.Reviewer == "" {
			rec.Reviewer = a.Subject
		}
		rec.Notes = strings.TrimSpace(rec.Notes)
		if err := rec.Check(pf.PlanOutcomes, pf.Facts, s.policy, s.today()); err != nil {
			return err
		}
		out = Review{CouncilID: a.CouncilID, ID: uuid.Must(uuid.NewV7()), PersonID: personID, PlanID: pf.PlanID, Record: rec,
			RequestID: in.RequestID, RecordedBy: a.Subject, CreatedAt: s.d.Now().UTC().Truncate(time.Microsecond)}
		switch rec.Decision {
		case review.DecisionReassess:
			if pf.AssessmentID == nil {
				return ErrNoAssessment
			}
			id, err := s.d.Reassessor.OpenReassessment(ctx, a, personID, *pf.AssessmentID)
			if err != nil {
				return err
			}
			out.ReassessmentID = &id
		case review.DecisionRevisePlan:
			id, err := s.d.Reviser.OpenRevision(ctx, a, pf.PlanID)
			if err != nil {
				return err
			}
			out.RevisionPlanID = &id
		}
		if err := s.d.Store.InsertReview(ctx, out); err != nil {
			return err
		}
		if err := s.d.Store.AnswerRequests(ctx, a.CouncilID, personID, out.ID, rec.Date); err != nil {
			return err
		}
		details := map[string]any{"person_id": personID.String(), "plan_id": pf.PlanID.String(), "held_on": rec.Date.String(),
			"decision": string(rec.Decision), "reason": string(rec.Reason), "needs_changed": rec.NeedsChanged,
			"achievement": string(rec.Achievement()), "outcomes_rated": len(rec.Outcomes)}
		if rec.NextDue != nil {
			details["next_due"] = rec.NextDue.String()
		}
		if out.ReassessmentID != nil {
			details["reassessment_id"] = out.ReassessmentID.String()
		}
		if out.RevisionPlanID != nil {
			details["revision_plan_id"] = out.RevisionPlanID.String()
		}
		if err := s.d.Audit.Record(ctx, a, audit.Event{Action: "review.completed", EntityType: "review", EntityID: out.ID,
			ChangedFields: []string{"held_on", "outcomes", "needs_changed", "decision", "next_due", "notes"}, Details: details}); err != nil {
			return err
		}
		sched, err = s.recompute(ctx, a.CouncilID, personID)
		return err
	})
	return out, sched, err
}

// Get returns a review.
func (s *Service) Get(ctx context.Context, a actor.Actor, id uuid.UUID) (Review, error) {
	r, err := s.d.Store.GetReview(ctx, a.CouncilID, id)
	if err != nil {
		return Review{}, err
	}
	if s.d.Reach != nil {
		if err := s.d.Reach.CheckReach(ctx, a, r.PersonID); err != nil {
			return Review{}, err
		}
	}
	return r, nil
}

// List returns a page of completed reviews (a person's history when f.PersonID is set).
func (s *Service) List(ctx context.Context, a actor.Actor, f ReviewFilter, p page.Request) ([]Review, error) {
	if f.PersonID != nil && s.d.Reach != nil {
		if err := s.d.Reach.CheckReach(ctx, a, *f.PersonID); err != nil {
			return nil, err
		}
	}
	return s.d.Store.ListReviews(ctx, a.CouncilID, f, p)
}

// GetSchedule returns a person's next review; apperr.ErrNotFound when they have none.
func (s *Service) GetSchedule(ctx context.Context, a actor.Actor, personID uuid.UUID) (Schedule, error) {
	if s.d.Reach != nil {
		if err := s.d.Reach.CheckReach(ctx, a, personID); err != nil {
			return Schedule{}, err
		}
	}
	m, err := s.d.Store.Schedules(ctx, a.CouncilID, []uuid.UUID{personID})
	if err != nil {
		return Schedule{}, err
	}
	sched, ok := m[personID]
	if !ok {
		return Schedule{}, apperr.ErrNotFound.WithMessage("the person has no review due: no approved plan, or services ended at the last review")
	}
	sched.OpenRequests, err = s.d.Store.OpenRequests(ctx, a.CouncilID, personID)
	return sched, err
}

// Assign sets who holds a person's next review (practitioner) and the team; nil keeps, "" clears.
func (s *Service) Assign(ctx context.Context, a actor.Actor, personID uuid.UUID, practitioner, team *string) (Schedule, error) {
	var out Schedule
	err := s.d.Tx.WithinTx(ctx, func(ctx context.Context) error {
		if err := s.checkPerson(ctx, a, personID); err != nil {
			return err
		}
		m, err := s.d.Store.Schedules(ctx, a.CouncilID, []uuid.UUID{personID})
		if err != nil {
			return err
		}
		cur, ok := m[personID]
		if !ok {
			return apperr.ErrNotFound.WithMessage("the person has no review due to assign")
		}
		p, t := cur.Practitioner, cur.Team
		if practitioner != nil {
			p = nonBlank(*practitioner)
		}
		if team != nil {
			t = nonBlank(*team)
		}
		if err := s.d.Store.Assign(ctx, a.CouncilID, personID, p, t); err != nil {
			return err
		}
		cur.Practitioner, cur.Team, cur.Assigned = p, t, true
		out = cur
		return s.d.Audit.Record(ctx, a, audit.Event{Action: "review_schedule.assigned", EntityType: "person", EntityID: personID,
			ChangedFields: []string{"practitioner", "team"}})
	})
	return out, err
}

func nonBlank(s string) *string {
	s = strings.TrimSpace(s)
	if s == "" {
		return nil
	}
	return &s
}

// Worklist returns a page of next reviews, by due date.
func (s *Service) Worklist(ctx context.Context, a actor.Actor, f WorklistFilter, p page.Request) ([]Schedule, error) {
	return s.d.Store.Worklist(ctx, a.CouncilID, f, p)
}

// Today is the service's current day (the work lists' "now").
func (s *Service) Today() date.Date { return s.today() }

// recompute derives one person's schedule from their facts and writes it.
func (s *Service) recompute(ctx context.Context, councilID, personID uuid.UUID) (Schedule, error) {
	out, err := s.recomputeAll(ctx, councilID, []uuid.UUID{personID})
	if err != nil {
		return Schedule{}, err
	}
	return out[personID], nil
}

// recomputeAll derives the schedules of people, writes those that changed and removes those no
// longer due; it returns the schedules now in force.
func (s *Service) recomputeAll(ctx context.Context, councilID uuid.UUID, people []uuid.UUID) (map[uuid.UUID]Schedule, error) {
	facts, err := s.d.Store.Facts(ctx, councilID, people, s.today())
	if err != nil {
		return nil, err
	}
	current, err := s.d.Store.Schedules(ctx, councilID, people)
	if err != nil {
		return nil, err
	}
	now := s.d.Now().UTC().Truncate(time.Microsecond)
	out := make(map[uuid.UUID]Schedule, len(people))
	var changed []Schedule
	var gone []uuid.UUID
	for _, id := range people {
		pf, ok := facts[id]
		var due review.Due
		if ok && pf.PlanID != uuid.Nil {
			due, ok = review.Next(pf.Facts, s.policy)
		} else {
			ok = false
		}
		cur, had := current[id]
		if !ok {
			if had {
				gone = append(gone, id)
			}
			continue
		}
		next := Schedule{CouncilID: councilID, PersonID: id, Due: due, PlanID: pf.PlanID, ComputedAt: now}
		if had {
			next.Practitioner, next.Team, next.Assigned, next.DueSentFor, next.OverdueSentFor = cur.Practitioner, cur.Team, cur.Assigned, cur.DueSentFor, cur.OverdueSentFor
		}
		if !next.Assigned && pf.Practitioner != "" {
			p := pf.Practitioner
			next.Practitioner = &p
		}
		out[id] = next
		if !had || !sameSchedule(cur, next) {
			changed = append(changed, next)
		}
	}
	if err := s.d.Store.UpsertSchedules(ctx, changed); err != nil {
		return nil, err
	}
	if len(gone) > 0 {
		if err := s.d.Store.DeleteSchedules(ctx, councilID, gone); err != nil {
			return nil, err
		}
	}
	return out, nil
}

func sameSchedule(a, b Schedule) bool {
	if a.Due.Date != b.Due.Date || a.Due.WindowStart != b.Due.WindowStart || a.Due.Rule != b.Due.Rule || a.PlanID != b.PlanID ||
		len(a.Due.Aligns) != len(b.Due.Aligns) || deref(a.Practitioner) != deref(b.Practitioner) {
		return false
	}
	for i := range a.Due.Aligns {
		if a.Due.Aligns[i] != b.Due.Aligns[i] {
			return false
		}
	}
	return true
}

func deref(s *string) string {
	if s == nil {
		return ""
	}
	return *s
}

// SweepBatch is how many people the sweep recomputes a transaction.
const SweepBatch = 500

// Sweep recomputes every council's schedules and sends the due and overdue notices; it returns
// how many people it looked at. It is safe to run again at any point (each batch commits alone).
func (s *Service) Sweep(ctx context.Context) (int, error) {
	councils, err := s.d.Store.Councils(ctx)
	if err != nil {
		return 0, err
	}
	n := 0
	for _, c := range councils {
		m, err := s.SweepCouncil(ctx, c)
		n += m
		if err != nil {
			return n, err
		}
	}
	return n, nil
}

// SweepCouncil is Sweep for one council.
func (s *Service) SweepCouncil(ctx context.Context, councilID uuid.UUID) (int, error) {
	n := 0
	after := uuid.Nil
	for {
		people, err := s.d.Store.SweepPeople(ctx, councilID, after, SweepBatch)
		if err != nil || len(people) == 0 {
			if err == nil {
				err = s.notices(ctx, councilID)
			}
			return n, err
		}
		if err := s.d.Tx.WithinTx(ctx, func(ctx context.Context) error {
			_, err := s.recomputeAll(ctx, councilID, people)
			return err
		}); err != nil {
			return n, err
		}
		n += len(people)
		after = people[len(people)-1]
	}
}

// notices sends review.due and review.overdue, once per due date of each person.
func (s *Service) notices(ctx context.Context, councilID uuid.UUID) error {
	today := s.today()
	for {
		batch, err := s.d.Store.Notices(ctx, councilID, today, today.AddDays(s.d.DueNoticeDays), SweepBatch)
		if err != nil || len(batch) == 0 {
			return err
		}
		err = s.d.Tx.WithinTx(ctx, func(ctx context.Context) error {
			for _, sc := range batch {
				t := webhook.ReviewDue
				due := sc.Due.Date
				if due.Before(today) {
					t = webhook.ReviewOverdue
					sc.OverdueSentFor, sc.DueSentFor = &due, &due
				} else {
					sc.DueSentFor = &due
				}
				person := sc.PersonID
				if err := s.d.Events.Emit(ctx, webhook.Event{Type: t, CouncilID: councilID, ID: person,
					Path: webhook.ReviewSchedulePath(person), PersonID: &person}); err != nil {
					return err
				}
				if err := s.d.Store.MarkSent(ctx, sc); err != nil {
					return err
				}
			}
			return nil
		})
		if err != nil {
			return err
		}
	}
}
