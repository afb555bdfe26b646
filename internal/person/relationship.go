package person

import (
	"context"
	"errors"
	"time"

	"github.com/google/uuid"

	"github.com/pbudget/pbudget/internal/actor"
	"github.com/pbudget/pbudget/internal/apperr"
	"github.com/pbudget/pbudget/internal/audit"
	"github.com/pbudget/pbudget/internal/date"
	"github.com/pbudget/pbudget/internal/page"
)

// RelationshipKind is what the person is to the related person.
type RelationshipKind string

// The relationship kinds.
const (
	CarerOf             RelationshipKind = "carer_of"
	AuthorisedPersonFor RelationshipKind = "authorised_person_for"
	NomineeFor          RelationshipKind = "nominee_for"
	SameHousehold       RelationshipKind = "same_household_member"
)

// FamilyRelation is how two people are related by family, if at all.
type FamilyRelation string

// Relationship links a person to another person of the same council.
type Relationship struct {
	CouncilID       uuid.UUID
	ID              uuid.UUID
	PersonID        uuid.UUID
	RelatedPersonID uuid.UUID
	Kind            RelationshipKind
	FamilyRelation  *FamilyRelation
	StartDate       *date.Date
	EndDate         *date.Date // exclusive
	EndReason       *string
	Version         int
	CreatedAt       time.Time
	UpdatedAt       time.Time
}

// Cursor is the page position of a relationship.
func (r Relationship) Cursor() page.Cursor { return page.Cursor{Time: r.CreatedAt, ID: r.ID} }

// Current reports whether the relationship holds on day d.
func (r Relationship) Current(d date.Date) bool {
	return (r.StartDate == nil || !d.Before(*r.StartDate)) && (r.EndDate == nil || d.Before(*r.EndDate))
}

// RelationshipInput describes a new relationship.
type RelationshipInput struct {
	Kind            RelationshipKind
	RelatedPersonID uuid.UUID
	FamilyRelation  *FamilyRelation
	StartDate       *date.Date
}

// Errors of relationships.
var (
	ErrSelfRelationship = apperr.New(apperr.RuleViolation, "self-relationship",
		"a person cannot be related to themselves")
	ErrRelatedPersonNotFound = apperr.New(apperr.RuleViolation, "related-person-not-found",
		"related_person_id does not name a person of this council")
	ErrRelationshipExists = apperr.New(apperr.Conflict, "relationship-exists",
		"this relationship is already recorded and has not ended")
	ErrRelationshipEnded = apperr.New(apperr.Conflict, "relationship-ended",
		"the relationship has already ended")
	ErrEndBeforeStart = apperr.New(apperr.RuleViolation, "end-before-start",
		"end_date must be after the relationship's start_date")
)

// CreateRelationship records that person personID is in.Kind of in.RelatedPersonID.
func (s *Service) CreateRelationship(ctx context.Context, a actor.Actor, personID uuid.UUID, in RelationshipInput) (Relationship, error) {
	if personID == in.RelatedPersonID {
		return Relationship{}, ErrSelfRelationship
	}
	now := s.timestamp()
	r := Relationship{
		CouncilID: a.CouncilID, ID: uuid.Must(uuid.NewV7()), PersonID: personID,
		RelatedPersonID: in.RelatedPersonID, Kind: in.Kind, FamilyRelation: in.FamilyRelation,
		StartDate: in.StartDate, Version: 1, CreatedAt: now, UpdatedAt: now,
	}
	err := s.tx.WithinTx(ctx, func(ctx context.Context) error {
		// Lock both people so that neither changes council-visible state under us.
		if _, err := s.store.GetPerson(ctx, a.CouncilID, personID, true); err != nil {
			return err
		}
		if _, err := s.store.GetPerson(ctx, a.CouncilID, in.RelatedPersonID, false); err != nil {
			if errors.Is(err, apperr.ErrNotFound) {
				return ErrRelatedPersonNotFound
			}
			return err
		}
		if err := s.store.InsertRelationship(ctx, r); err != nil {
			return err
		}
		fields := []string{"kind", "related_person_id"}
		if r.FamilyRelation != nil {
			fields = append(fields, "family_relation")
		}
		if r.StartDate != nil {
			fields = append(fields, "start_date")
		}
		return s.audit.Record(ctx, a, audit.Event{
			Action: "relationship.created", EntityType: "relationship", EntityID: r.ID, ChangedFields: fields,
			Details: map[string]any{"kind": string(r.Kind), "person_id": personID.String(), "related_person_id": r.RelatedPersonID.String()},
		})
	})
	if err != nil {
		return Relationship{}, err
	}
	return r, nil
}

// GetRelationship returns one relationship in which personID is either side.
func (s *Service) GetRelationship(ctx context.Context, a actor.Actor, personID, id uuid.UUID) (Relationship, error) {
	return s.store.GetRelationship(ctx, a.CouncilID, personID, id, false)
}

// ListRelationships returns a page of the relationships in which personID is either side.
func (s *Service) ListRelationships(ctx context.Context, a actor.Actor, personID uuid.UUID, includeEnded bool, p page.Request) ([]Relationship, error) {
	if _, err := s.store.GetPerson(ctx, a.CouncilID, personID, false); err != nil {
		return nil, err
	}
	return s.store.ListRelationships(ctx, a.CouncilID, personID, includeEnded, p)
}

// EndRelationship ends a relationship on end (exclusive) for reason; nothing is deleted.
func (s *Service) EndRelationship(ctx context.Context, a actor.Actor, personID, id uuid.UUID, version int, end date.Date, reason string) (Relationship, error) {
	reason, ok := cleanText(reason)
	if !ok {
		var f apperr.Fields
		f.Add("/reason", "text", "reason must not be blank or contain control characters")
		return Relationship{}, f.Err()
	}
	var out Relationship
	err := s.tx.WithinTx(ctx, func(ctx context.Context) error {
		r, err := s.store.GetRelationship(ctx, a.CouncilID, personID, id, true)
		if err != nil {
			return err
		}
		if r.Version != version {
			return apperr.ErrVersionMismatch
		}
		if r.EndDate != nil {
			return ErrRelationshipEnded
		}
		if r.StartDate != nil && !end.After(*r.StartDate) {
			return ErrEndBeforeStart
		}
		r.EndDate, r.EndReason = &end, &reason
		r.Version++
		r.UpdatedAt = s.timestamp()
		if err := s.store.UpdateRelationship(ctx, r); err != nil {
			return err
		}
		out = r
		return s.audit.Record(ctx, a, audit.Event{
			Action: "relationship.ended", EntityType: "relationship", EntityID: r.ID,
			ChangedFields: []string{"end_date", "end_reason"}, Reason: reason,
			Details: map[string]any{"version": r.Version},
		})
	})
	return out, err
}
