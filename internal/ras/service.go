package ras

import (
	"context"
	"errors"
	"strconv"
	"strings"
	"time"

	"github.com/google/uuid"

	"github.com/pbudget/pbudget/internal/actor"
	"github.com/pbudget/pbudget/internal/apperr"
	"github.com/pbudget/pbudget/internal/audit"
	"github.com/pbudget/pbudget/internal/page"
	"github.com/pbudget/pbudget/internal/txn"
)

// Errors of the version life cycle.
var (
	ErrNotDraft = apperr.New(apperr.Conflict, "ras-version-not-draft",
		"only a draft RAS version can be changed or activated; an active or retired version is immutable")
	ErrNotActive = apperr.New(apperr.Conflict, "ras-version-not-active", "only an active RAS version can be retired")
	ErrNoActive  = apperr.New(apperr.RuleViolation, "no-active-ras-version",
		"the council has no active RAS version for this assessment type")
)

// Filter narrows a listing.
type Filter struct {
	AssessmentType AssessmentType
	Status         Status
}

// Store keeps versions.
type Store interface {
	// Lock serialises changes to the council's versions of a type until the transaction ends.
	Lock(ctx context.Context, councilID uuid.UUID, t AssessmentType) error
	// NextNumber returns the next version number of a type (call under Lock).
	NextNumber(ctx context.Context, councilID uuid.UUID, t AssessmentType) (int, error)
	Insert(ctx context.Context, v Version) error
	Get(ctx context.Context, councilID, id uuid.UUID, forUpdate bool) (Version, error)
	// Active returns the active version for the type, apperr.ErrNotFound when there is none.
	Active(ctx context.Context, councilID uuid.UUID, t AssessmentType, forUpdate bool) (Version, error)
	Update(ctx context.Context, v Version) error
	List(ctx context.Context, councilID uuid.UUID, f Filter, p page.Request) ([]Version, error)
}

// Service manages RAS versions.
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

// Input describes a new draft.
type Input struct {
	AssessmentType AssessmentType
	Name           string
	Questionnaire  Questionnaire
	Model          Model
}

// Create drafts a new version, numbered after the council's last for the type.
func (s *Service) Create(ctx context.Context, a actor.Actor, in Input) (Version, error) {
	in.Name = strings.TrimSpace(in.Name)
	if err := Validate(in.Questionnaire, in.Model); err != nil {
		return Version{}, err
	}
	now := s.timestamp()
	v := Version{
		CouncilID: a.CouncilID, ID: uuid.Must(uuid.NewV7()), AssessmentType: in.AssessmentType, Name: in.Name,
		Status: Draft, Questionnaire: in.Questionnaire, Model: in.Model, Version: 1, CreatedAt: now, UpdatedAt: now,
	}
	err := s.tx.WithinTx(ctx, func(ctx context.Context) error {
		if err := s.store.Lock(ctx, a.CouncilID, in.AssessmentType); err != nil {
			return err
		}
		n, err := s.store.NextNumber(ctx, a.CouncilID, in.AssessmentType)
		if err != nil {
			return err
		}
		v.Number = n
		if err := s.store.Insert(ctx, v); err != nil {
			return err
		}
		return s.audit.Record(ctx, a, audit.Event{
			Action: "ras_version.created", EntityType: "ras_version", EntityID: v.ID,
			ChangedFields: []string{"name", "questionnaire", "model"},
			Details:       map[string]any{"assessment_type": string(v.AssessmentType), "number": v.Number},
		})
	})
	return v, err
}

// Get returns one version.
func (s *Service) Get(ctx context.Context, a actor.Actor, id uuid.UUID) (Version, error) {
	return s.store.Get(ctx, a.CouncilID, id, false)
}

// List returns a page of versions.
func (s *Service) List(ctx context.Context, a actor.Actor, f Filter, p page.Request) ([]Version, error) {
	return s.store.List(ctx, a.CouncilID, f, p)
}

// Patch changes some parts of a draft.
type Patch struct {
	Name          *string
	Questionnaire *Questionnaire
	Model         *Model
}

// Update changes a draft at version.
func (s *Service) Update(ctx context.Context, a actor.Actor, id uuid.UUID, version int, p Patch) (Version, error) {
	var out Version
	err := s.change(ctx, a, id, version, func(ctx context.Context, v *Version) (audit.Event, error) {
		if v.Status != Draft {
			return audit.Event{}, ErrNotDraft
		}
		var fields []string
		if p.Name != nil {
			v.Name, fields = strings.TrimSpace(*p.Name), append(fields, "name")
		}
		if p.Questionnaire != nil {
			v.Questionnaire, fields = *p.Questionnaire, append(fields, "questionnaire")
		}
		if p.Model != nil {
			v.Model, fields = *p.Model, append(fields, "model")
		}
		if err := Validate(v.Questionnaire, v.Model); err != nil {
			return audit.Event{}, err
		}
		return audit.Event{Action: "ras_version.updated", ChangedFields: fields}, nil
	}, &out)
	return out, err
}

// Activate puts a draft in force and retires the active version of its type, if any.
func (s *Service) Activate(ctx context.Context, a actor.Actor, id uuid.UUID, version int) (Version, error) {
	var out Version
	err := s.change(ctx, a, id, version, func(ctx context.Context, v *Version) (audit.Event, error) {
		if v.Status != Draft {
			return audit.Event{}, ErrNotDraft
		}
		// Two activations of the same type take turns, so exactly one version ends up active.
		if err := s.store.Lock(ctx, a.CouncilID, v.AssessmentType); err != nil {
			return audit.Event{}, err
		}
		now := s.timestamp()
		details := map[string]any{"assessment_type": string(v.AssessmentType), "number": v.Number}
		prev, err := s.store.Active(ctx, a.CouncilID, v.AssessmentType, true)
		switch {
		case err == nil:
			prev.Status, prev.RetiredAt, prev.Version, prev.UpdatedAt = Retired, &now, prev.Version+1, now
			if err := s.store.Update(ctx, prev); err != nil {
				return audit.Event{}, err
			}
			if err := s.audit.Record(ctx, a, audit.Event{
				Action: "ras_version.retired", EntityType: "ras_version", EntityID: prev.ID, ChangedFields: []string{"status"},
				Reason:  "superseded by version " + strconv.Itoa(v.Number),
				Details: map[string]any{"assessment_type": string(prev.AssessmentType), "number": prev.Number, "superseded_by": v.ID.String()},
			}); err != nil {
				return audit.Event{}, err
			}
			details["supersedes"] = prev.ID.String()
		case !errors.Is(err, apperr.ErrNotFound):
			return audit.Event{}, err
		}
		v.Status, v.ActivatedAt = Active, &now
		return audit.Event{Action: "ras_version.activated", ChangedFields: []string{"status"}, Details: details}, nil
	}, &out)
	return out, err
}

// Retire takes an active version out of force without a successor.
func (s *Service) Retire(ctx context.Context, a actor.Actor, id uuid.UUID, version int) (Version, error) {
	var out Version
	err := s.change(ctx, a, id, version, func(ctx context.Context, v *Version) (audit.Event, error) {
		if v.Status != Active {
			return audit.Event{}, ErrNotActive
		}
		now := s.timestamp()
		v.Status, v.RetiredAt = Retired, &now
		return audit.Event{Action: "ras_version.retired", ChangedFields: []string{"status"},
			Details: map[string]any{"assessment_type": string(v.AssessmentType), "number": v.Number}}, nil
	}, &out)
	return out, err
}

// change loads a version for update at the expected version, applies fn, stores and audits it.
func (s *Service) change(ctx context.Context, a actor.Actor, id uuid.UUID, version int, fn func(context.Context, *Version) (audit.Event, error), out *Version) error {
	return s.tx.WithinTx(ctx, func(ctx context.Context) error {
		v, err := s.store.Get(ctx, a.CouncilID, id, true)
		if err != nil {
			return err
		}
		if v.Version != version {
			return apperr.ErrVersionMismatch
		}
		ev, err := fn(ctx, &v) // the transaction's context: fn's reads and locks are in it
		if err != nil {
			return err
		}
		v.Version++
		v.UpdatedAt = s.timestamp()
		if err := s.store.Update(ctx, v); err != nil {
			return err
		}
		*out = v
		ev.EntityType, ev.EntityID = "ras_version", v.ID
		return s.audit.Record(ctx, a, ev)
	})
}

// ActiveFor returns the version in force for an assessment type, ErrNoActive when none is.
func (s *Service) ActiveFor(ctx context.Context, councilID uuid.UUID, t AssessmentType) (Version, error) {
	v, err := s.store.Active(ctx, councilID, t, false)
	if errors.Is(err, apperr.ErrNotFound) {
		return Version{}, ErrNoActive
	}
	return v, err
}

// Cursor is the page position of a version.
func (v Version) Cursor() page.Cursor { return page.Cursor{Time: v.CreatedAt, ID: v.ID} }
