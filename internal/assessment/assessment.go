// Package assessment holds needs, carer and child assessments and their reassessments: the facts a
// practitioner records, the Care Act eligibility decision made from them with its reasons, and on
// completion the indicative personal budget the council's RAS gives.
package assessment

import (
	"context"
	"errors"
	"strings"
	"time"

	"github.com/google/uuid"

	"github.com/pbudget/pbudget/internal/actor"
	"github.com/pbudget/pbudget/internal/apperr"
	"github.com/pbudget/pbudget/internal/audit"
	"github.com/pbudget/pbudget/internal/budget"
	"github.com/pbudget/pbudget/internal/page"
	"github.com/pbudget/pbudget/internal/person"
	"github.com/pbudget/pbudget/internal/ras"
	"github.com/pbudget/pbudget/internal/txn"
)

// Type is the kind of assessment.
type Type string

// The assessment types.
const (
	NeedsType    Type = "needs"
	CarerType    Type = "carer"
	ChildType    Type = "child"
	Reassessment Type = "reassessment"
)

// Status is draft, completed or cancelled.
type Status string

// The statuses.
const (
	Draft     Status = "draft"
	Completed Status = "completed"
	Cancelled Status = "cancelled"
)

// Assessment is one assessment of a person.
type Assessment struct {
	CouncilID       uuid.UUID
	ID              uuid.UUID
	PersonID        uuid.UUID
	Type            Type
	Basis           ras.AssessmentType // whose rules apply
	ReassessesID    *uuid.UUID
	Status          Status
	Facts           Facts
	Eligibility     *Result
	BudgetID        *uuid.UUID
	BudgetVersionID *uuid.UUID
	NoBudgetReason  string
	CompletedAt     *time.Time
	CompletedBy     *string
	CancelledAt     *time.Time
	CancelReason    *string
	Version         int
	CreatedAt       time.Time
	UpdatedAt       time.Time
}

// Cursor is the page position of an assessment.
func (a Assessment) Cursor() page.Cursor { return page.Cursor{Time: a.CreatedAt, ID: a.ID} }

// Errors of the assessment life cycle.
var (
	ErrNotDraft = apperr.New(apperr.Conflict, "assessment-not-draft",
		"only a draft assessment can be changed, completed or cancelled")
	ErrTypeForPerson = apperr.New(apperr.RuleViolation, "assessment-type-for-person",
		"needs and carer assessments are of adults, child assessments of children")
	ErrReassessesNotFound = apperr.New(apperr.RuleViolation, "reassessed-assessment-invalid",
		"a reassessment names a completed needs, carer or child assessment of the same person in reassesses_id")
	ErrReassessesOnlyForReassessment = apperr.New(apperr.RuleViolation, "reassesses-only-for-reassessment",
		"reassesses_id is given only for a reassessment")
	ErrCaredForPerson = apperr.New(apperr.RuleViolation, "cared-for-person-invalid",
		"cared_for_person_id names another adult of this council (reg 3 is about care for an adult)")
	ErrOverrideAgrees = apperr.New(apperr.RuleViolation, "override-agrees-with-computed",
		"an override must differ from the computed eligibility")
)

// Filter narrows the council's work list.
type Filter struct {
	Status       Status
	Practitioner string
	Type         Type
}

// Store keeps assessments.
type Store interface {
	Insert(ctx context.Context, a Assessment) error
	Get(ctx context.Context, councilID, id uuid.UUID, forUpdate bool) (Assessment, error)
	Update(ctx context.Context, a Assessment) error
	List(ctx context.Context, councilID uuid.UUID, personID *uuid.UUID, f Filter, p page.Request) ([]Assessment, error)
}

// People reads the people assessed.
type People interface {
	GetPerson(ctx context.Context, councilID, id uuid.UUID, forUpdate bool) (person.Person, error)
}

// RAS finds the version in force.
type RAS interface {
	ActiveFor(ctx context.Context, councilID uuid.UUID, t ras.AssessmentType) (ras.Version, error)
}

// Budgets issues and ends budgets.
type Budgets interface {
	IssueIndicative(ctx context.Context, a actor.Actor, in budget.IndicativeFigure) (budget.Budget, error)
	End(ctx context.Context, a actor.Actor, personID uuid.UUID, kind budget.Kind, assessmentID uuid.UUID, reason string) (budget.Budget, error)
}

// Service is the assessment use cases.
type Service struct {
	store   Store
	people  People
	ras     RAS
	budgets Budgets
	audit   audit.Recorder
	tx      txn.Transactor
	now     func() time.Time
}

// NewService returns a Service.
func NewService(store Store, people People, r RAS, budgets Budgets, auditor audit.Recorder, tx txn.Transactor, now func() time.Time) *Service {
	return &Service{store: store, people: people, ras: r, budgets: budgets, audit: auditor, tx: tx, now: now}
}

func (s *Service) timestamp() time.Time { return s.now().UTC().Truncate(time.Microsecond) }

// Input is a new assessment.
type Input struct {
	Type         Type
	ReassessesID *uuid.UUID
	Facts        Facts
}

// Create starts a draft assessment of a person.
func (s *Service) Create(ctx context.Context, a actor.Actor, personID uuid.UUID, in Input) (Assessment, error) {
	var out Assessment
	err := s.tx.WithinTx(ctx, func(ctx context.Context) error {
		p, err := s.people.GetPerson(ctx, a.CouncilID, personID, false)
		if err != nil {
			return err
		}
		basis, err := s.basisOf(ctx, a, p, in)
		if err != nil {
			return err
		}
		in.Facts.Practitioner = strings.TrimSpace(in.Facts.Practitioner)
		if in.Facts.Practitioner == "" {
			in.Facts.Practitioner = a.Subject
		}
		if err := s.checkFacts(ctx, a, personID, basis, in.Facts); err != nil {
			return err
		}
		now := s.timestamp()
		out = Assessment{
			CouncilID: a.CouncilID, ID: uuid.Must(uuid.NewV7()), PersonID: personID, Type: in.Type, Basis: basis,
			ReassessesID: in.ReassessesID, Status: Draft, Facts: in.Facts, Version: 1, CreatedAt: now, UpdatedAt: now,
		}
		if err := s.store.Insert(ctx, out); err != nil {
			return err
		}
		return s.audit.Record(ctx, a, audit.Event{
			Action: "assessment.created", EntityType: "assessment", EntityID: out.ID, ChangedFields: factFields(in.Facts),
			Details: map[string]any{"type": string(out.Type), "basis": string(basis), "person_id": personID.String()},
		})
	})
	return out, err
}

// basisOf decides whose rules an assessment follows, checking it fits the person.
func (s *Service) basisOf(ctx context.Context, a actor.Actor, p person.Person, in Input) (ras.AssessmentType, error) {
	if in.Type != Reassessment {
		if in.ReassessesID != nil {
			return "", ErrReassessesOnlyForReassessment
		}
		basis := ras.AssessmentType(in.Type)
		if (basis == ras.Child) != (p.Type == person.Child) {
			return "", ErrTypeForPerson
		}
		return basis, nil
	}
	if in.ReassessesID == nil {
		return "", ErrReassessesNotFound
	}
	prev, err := s.store.Get(ctx, a.CouncilID, *in.ReassessesID, false)
	if errors.Is(err, apperr.ErrNotFound) || (err == nil && (prev.PersonID != p.ID || prev.Status != Completed)) {
		return "", ErrReassessesNotFound
	}
	if err != nil {
		return "", err
	}
	// A child who has become an adult is assessed anew (transition), not reassessed as a child.
	if (prev.Basis == ras.Child) != (p.Type == person.Child) {
		return "", ErrTypeForPerson
	}
	return prev.Basis, nil
}

func (s *Service) checkFacts(ctx context.Context, a actor.Actor, personID uuid.UUID, basis ras.AssessmentType, f Facts) error {
	if err := CheckFacts(basis, f); err != nil {
		return err
	}
	if f.CaredForPersonID != nil {
		id, err := uuid.Parse(*f.CaredForPersonID)
		if err != nil || id == personID {
			return ErrCaredForPerson
		}
		cared, err := s.people.GetPerson(ctx, a.CouncilID, id, false)
		if errors.Is(err, apperr.ErrNotFound) {
			return ErrCaredForPerson
		}
		if err != nil {
			return err
		}
		// Reg 3 is about care for an adult; parent carers of disabled children come under the
		// Children Act (s17ZD).
		if cared.Type != person.Adult {
			return ErrCaredForPerson
		}
	}
	return nil
}

// Get returns one assessment.
func (s *Service) Get(ctx context.Context, a actor.Actor, id uuid.UUID) (Assessment, error) {
	return s.store.Get(ctx, a.CouncilID, id, false)
}

// ListForPerson returns a page of a person's assessments.
func (s *Service) ListForPerson(ctx context.Context, a actor.Actor, personID uuid.UUID, p page.Request) ([]Assessment, error) {
	if _, err := s.people.GetPerson(ctx, a.CouncilID, personID, false); err != nil {
		return nil, err
	}
	return s.store.List(ctx, a.CouncilID, &personID, Filter{}, p)
}

// List returns a page of the council's assessments.
func (s *Service) List(ctx context.Context, a actor.Actor, f Filter, p page.Request) ([]Assessment, error) {
	return s.store.List(ctx, a.CouncilID, nil, f, p)
}

// Patch replaces the facts it sets.
type Patch struct {
	Practitioner               *string
	ImpairmentOrIllness        *bool
	SignificantWellbeingImpact *bool
	Outcomes                   *[]OutcomeRecord
	CaredForPersonID           *string
	ProvidesNecessaryCare      *bool
	CarerHealthAtRisk          *bool
	CarerOutcomes              *[]OutcomeRecord
	ChildUnlikelyToAchieve     *bool
	ChildImpaired              *bool
	ChildDisabled              *bool
	Notes                      *string
	RASAnswers                 *map[string]string
}

// Apply returns f with the patch's facts in place.
func (p Patch) Apply(f Facts) Facts {
	set := func(dst **bool, v *bool) {
		if v != nil {
			*dst = v
		}
	}
	if p.Practitioner != nil {
		f.Practitioner = strings.TrimSpace(*p.Practitioner)
	}
	set(&f.ImpairmentOrIllness, p.ImpairmentOrIllness)
	set(&f.SignificantWellbeingImpact, p.SignificantWellbeingImpact)
	set(&f.ProvidesNecessaryCare, p.ProvidesNecessaryCare)
	set(&f.CarerHealthAtRisk, p.CarerHealthAtRisk)
	set(&f.ChildUnlikelyToAchieve, p.ChildUnlikelyToAchieve)
	set(&f.ChildImpaired, p.ChildImpaired)
	set(&f.ChildDisabled, p.ChildDisabled)
	if p.Outcomes != nil {
		f.Outcomes = *p.Outcomes
	}
	if p.CarerOutcomes != nil {
		f.CarerOutcomes = *p.CarerOutcomes
	}
	if p.CaredForPersonID != nil {
		f.CaredForPersonID = p.CaredForPersonID
	}
	if p.Notes != nil {
		f.Notes = *p.Notes
	}
	if p.RASAnswers != nil {
		f.RASAnswers = *p.RASAnswers
	}
	return f
}

// Update changes a draft at version.
func (s *Service) Update(ctx context.Context, a actor.Actor, id uuid.UUID, version int, p Patch) (Assessment, error) {
	return s.change(ctx, a, id, version, func(ctx context.Context, as *Assessment) (audit.Event, error) {
		before := as.Facts
		as.Facts = p.Apply(as.Facts)
		if as.Facts.Practitioner == "" {
			as.Facts.Practitioner = before.Practitioner
		}
		if err := s.checkFacts(ctx, a, as.PersonID, as.Basis, as.Facts); err != nil {
			return audit.Event{}, err
		}
		return audit.Event{Action: "assessment.updated", ChangedFields: patchFields(p)}, nil
	})
}

// Cancel ends a draft without a decision.
func (s *Service) Cancel(ctx context.Context, a actor.Actor, id uuid.UUID, version int, reason string) (Assessment, error) {
	reason = strings.TrimSpace(reason)
	return s.change(ctx, a, id, version, func(_ context.Context, as *Assessment) (audit.Event, error) {
		now := s.timestamp()
		as.Status, as.CancelledAt, as.CancelReason = Cancelled, &now, &reason
		return audit.Event{Action: "assessment.cancelled", ChangedFields: []string{"status"}, Reason: reason}, nil
	})
}

// Override is a practitioner's decision against the computed eligibility.
type Override struct {
	Eligible bool
	Reason   string
}

// Complete decides eligibility and, for an eligible person with RAS answers, issues the indicative
// budget with the RAS version in force; all in one transaction.
func (s *Service) Complete(ctx context.Context, a actor.Actor, id uuid.UUID, version int, override *Override, changeReason string) (Assessment, error) {
	changeReason = strings.TrimSpace(changeReason)
	return s.change(ctx, a, id, version, func(ctx context.Context, as *Assessment) (audit.Event, error) {
		// Completions for one person take turns, so that the second sees the budget the first issued.
		if _, err := s.people.GetPerson(ctx, a.CouncilID, as.PersonID, true); err != nil {
			return audit.Event{}, err
		}
		if err := Incomplete(as.Basis, as.Facts); err != nil {
			return audit.Event{}, err
		}
		res := Decide(as.Basis, as.Facts)
		if override != nil {
			if override.Eligible == res.Computed {
				return audit.Event{}, ErrOverrideAgrees
			}
			res.Eligible, res.Overridden, res.OverrideReason = override.Eligible, true, strings.TrimSpace(override.Reason)
			res.Summary = "overridden by the practitioner: " + res.OverrideReason + " (computed: " + res.Summary + ")"
		}
		now := s.timestamp()
		as.Status, as.Eligibility, as.CompletedAt, as.CompletedBy = Completed, &res, &now, &a.Subject
		details := map[string]any{
			"eligible": res.Eligible, "computed_eligible": res.Computed, "overridden": res.Overridden, "rule": res.Rule,
			"basis": string(as.Basis),
		}
		kind := budget.KindFor(as.Basis)
		switch {
		case res.Eligible && len(as.Facts.RASAnswers) > 0:
			version, err := s.ras.ActiveFor(ctx, a.CouncilID, as.Basis)
			if err != nil {
				return audit.Event{}, err
			}
			result, err := ras.Calculate(version, as.Facts.RASAnswers)
			if err != nil {
				return audit.Event{}, err
			}
			b, err := s.budgets.IssueIndicative(ctx, a, budget.IndicativeFigure{
				PersonID: as.PersonID, Kind: kind, AssessmentID: as.ID, Reassessment: as.Type == Reassessment,
				ChangeReason: changeReason, RAS: version, Result: result,
			})
			if err != nil {
				return audit.Event{}, err
			}
			as.BudgetID, as.BudgetVersionID = &b.ID, &b.Current.ID
			details["ras_version_id"], details["ras_version_number"] = version.ID.String(), version.Number
			details["budget_id"], details["budget_version"] = b.ID.String(), b.Current.Number
		case res.Eligible:
			as.NoBudgetReason = "eligible, but no RAS answers were recorded, so no indicative budget was issued"
		default:
			as.NoBudgetReason = "not eligible: " + res.Summary
			if as.Type == Reassessment {
				b, err := s.budgets.End(ctx, a, as.PersonID, kind, as.ID, changeReason)
				switch {
				case err == nil:
					as.BudgetID, as.BudgetVersionID = &b.ID, &b.Current.ID
					as.NoBudgetReason += "; the person's budget has ended"
					details["budget_id"], details["budget_version"] = b.ID.String(), b.Current.Number
				case !errors.Is(err, apperr.ErrNotFound):
					return audit.Event{}, err
				}
			}
		}
		ev := audit.Event{Action: "assessment.completed", ChangedFields: []string{"status", "eligibility"}, Details: details}
		if res.Overridden {
			ev.Reason = res.OverrideReason
		}
		return ev, nil
	})
}

// change loads a draft for update at the expected version, applies fn, stores and audits it.
func (s *Service) change(ctx context.Context, a actor.Actor, id uuid.UUID, version int, fn func(context.Context, *Assessment) (audit.Event, error)) (Assessment, error) {
	var out Assessment
	err := s.tx.WithinTx(ctx, func(ctx context.Context) error {
		as, err := s.store.Get(ctx, a.CouncilID, id, true)
		if err != nil {
			return err
		}
		if as.Version != version {
			return apperr.ErrVersionMismatch
		}
		if as.Status != Draft {
			return ErrNotDraft
		}
		ev, err := fn(ctx, &as)
		if err != nil {
			return err
		}
		as.Version++
		as.UpdatedAt = s.timestamp()
		if err := s.store.Update(ctx, as); err != nil {
			return err
		}
		out = as
		ev.EntityType, ev.EntityID = "assessment", as.ID
		return s.audit.Record(ctx, a, ev)
	})
	return out, err
}

// factFields names the facts recorded (never their values).
func factFields(f Facts) []string {
	var out []string
	add := func(set bool, name string) {
		if set {
			out = append(out, name)
		}
	}
	add(f.Practitioner != "", "practitioner")
	add(f.ImpairmentOrIllness != nil, "impairment_or_illness")
	add(f.SignificantWellbeingImpact != nil, "significant_wellbeing_impact")
	add(len(f.Outcomes) > 0, "outcomes")
	add(f.CaredForPersonID != nil, "cared_for_person_id")
	add(f.ProvidesNecessaryCare != nil, "provides_necessary_care")
	add(f.CarerHealthAtRisk != nil, "carer_health_at_risk")
	add(len(f.CarerOutcomes) > 0, "carer_outcomes")
	add(f.ChildUnlikelyToAchieve != nil, "child_unlikely_to_achieve_reasonable_standard")
	add(f.ChildImpaired != nil, "child_development_significantly_impaired")
	add(f.ChildDisabled != nil, "child_disabled")
	add(f.Notes != "", "notes")
	add(len(f.RASAnswers) > 0, "ras_answers")
	return out
}

func patchFields(p Patch) []string {
	f := p.Apply(Facts{})
	out := factFields(f)
	if p.Notes != nil && *p.Notes == "" {
		out = append(out, "notes")
	}
	return out
}
