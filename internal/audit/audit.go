// Package audit is the append-only audit trail: who did what to which record, when, in which
// request and why, with the names of the fields changed but never their values.
package audit

import (
	"context"
	"time"

	"github.com/google/uuid"

	"github.com/pbudget/pbudget/internal/actor"
	"github.com/pbudget/pbudget/internal/page"
)

// Event is one decision or change, as a domain service records it.
type Event struct {
	Action        string // entity.verb, such as person.created
	EntityType    string
	EntityID      uuid.UUID
	ChangedFields []string
	Reason        string         // empty when none was given
	Details       map[string]any // non-personal facts: versions, rate tables, outcomes
}

// Recorder appends events to the audit trail within the caller's transaction, so that a change
// and its event are written together or not at all.
type Recorder interface {
	Record(ctx context.Context, a actor.Actor, e Event) error
	// RecordAll appends the events of one actor in one statement: bulk work writes hundreds of
	// changes a transaction, and one round trip an event would be most of its time.
	RecordAll(ctx context.Context, a actor.Actor, es []Event) error
}

// Record is a stored event.
type Record struct {
	Event
	ID            uuid.UUID
	OccurredAt    time.Time
	ActorSubject  string
	ActorRoles    []string
	ActorProvider *uuid.UUID
	ActorPerson   *uuid.UUID // the person role's holder
	RequestID     string
}

// Filter narrows a listing; zero fields do not filter.
type Filter struct {
	EntityType string
	EntityID   *uuid.UUID
	Actor      string
	Action     string
	From, To   *time.Time
}

// Store reads the trail; writing goes through the Recorder the domain services share.
type Store interface {
	List(ctx context.Context, councilID uuid.UUID, f Filter, p page.Request) ([]Record, error)
}

// Service lists the audit trail of a council.
type Service struct {
	store Store
}

// NewService returns a Service.
func NewService(store Store) *Service { return &Service{store: store} }

// List returns a page of events in time order.
func (s *Service) List(ctx context.Context, a actor.Actor, f Filter, p page.Request) ([]Record, error) {
	return s.store.List(ctx, a.CouncilID, f, p)
}

// Cursor is the page position of a record.
func (r Record) Cursor() page.Cursor { return page.Cursor{Time: r.OccurredAt, ID: r.ID} }
