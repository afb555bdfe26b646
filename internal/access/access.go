// Package access is the record of who read which personal records (UK GDPR accountability, NHS
// DSPT): every read of a record about a person leaves an access record naming the actor, the
// operation, the record and the person, never the record's values or a search term. Records are
// written in batches off the request path by a Writer, and listed by auditors.
package access

import (
	"context"
	"time"

	"github.com/google/uuid"

	"github.com/pbudget/pbudget/internal/actor"
	"github.com/pbudget/pbudget/internal/page"
)

// The kinds of record whose reads are recorded.
const (
	Person                 = "person"
	Relationship           = "relationship"
	Assessment             = "assessment"
	FinancialAssessment    = "financial_assessment"
	PersonalBudget         = "personal_budget"
	FundingRequest         = "funding_request"
	SupportPlan            = "support_plan"
	DirectPaymentAgreement = "direct_payment_agreement"
	ISFAgreement           = "isf_agreement"
	Review                 = "review"
	DirectPaymentAccount   = "direct_payment_account" // its ledger, statements, flags and evidence
)

// Read is one record about a person that a response carries.
type Read struct {
	EntityType string
	EntityID   uuid.UUID
	PersonID   uuid.UUID
}

// subjectKey carries, in a read's context, the person a handler read about when its response
// does not say (see NoteSubject).
type subjectKey struct{}

// WithSubjectNote returns ctx with room for a handler to note whom it read about, and the note.
func WithSubjectNote(ctx context.Context) (context.Context, *uuid.UUID) {
	id := new(uuid.UUID)
	return context.WithValue(ctx, subjectKey{}, id), id
}

// NoteSubject notes, for the access record of this read, the person it is about: for responses
// that do not name them (a plan's line names its plan, not its person).
func NoteSubject(ctx context.Context, personID uuid.UUID) {
	if id, ok := ctx.Value(subjectKey{}).(*uuid.UUID); ok {
		*id = personID
	}
}

// Record is one stored read.
type Record struct {
	CouncilID     uuid.UUID
	ID            uuid.UUID
	OccurredAt    time.Time
	ActorSubject  string
	ActorRoles    []string
	ActorProvider *uuid.UUID
	ActorPerson   *uuid.UUID // the person role's holder
	Operation     string     // the operationId
	Read
	Filters   []string // for a list, the names of the filters it was asked with
	RequestID string
}

// Cursor is the page position of a record.
func (r Record) Cursor() page.Cursor { return page.Cursor{Time: r.OccurredAt, ID: r.ID} }

// Records turns the reads of one response into records: one per distinct record read, at now.
func Records(a actor.Actor, operation string, filters []string, now time.Time, reads []Read) []Record {
	out := make([]Record, 0, len(reads))
	var seen map[uuid.UUID]bool
	if len(reads) > 1 {
		seen = make(map[uuid.UUID]bool, len(reads))
	}
	roles := a.RoleNames()
	now = now.UTC().Truncate(time.Microsecond)
	for _, rd := range reads {
		if seen[rd.EntityID] {
			continue // a budget's versions name it once per version
		}
		if seen != nil {
			seen[rd.EntityID] = true
		}
		out = append(out, Record{
			CouncilID: a.CouncilID, ID: uuid.Must(uuid.NewV7()), OccurredAt: now, ActorSubject: a.Subject, ActorRoles: roles,
			ActorProvider: a.ProviderID, ActorPerson: a.PersonID, Operation: operation, Read: rd, Filters: filters, RequestID: a.RequestID,
		})
	}
	return out
}

// Filter narrows a listing; zero fields do not filter.
type Filter struct {
	PersonID *uuid.UUID
	EntityID *uuid.UUID
	Actor    string
	From, To *time.Time
}

// Store keeps access records.
type Store interface {
	// Insert appends records, all at once or none.
	Insert(ctx context.Context, recs []Record) error
	List(ctx context.Context, councilID uuid.UUID, f Filter, p page.Request) ([]Record, error)
}

// Service lists a council's access records.
type Service struct {
	store Store
}

// NewService returns a Service.
func NewService(store Store) *Service { return &Service{store: store} }

// List returns a page of records in time order.
func (s *Service) List(ctx context.Context, a actor.Actor, f Filter, p page.Request) ([]Record, error) {
	return s.store.List(ctx, a.CouncilID, f, p)
}
