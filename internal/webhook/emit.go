package webhook

import (
	"context"
	"fmt"
	"strings"

	"github.com/google/uuid"
)

// Event is a change to announce, as a domain service emits it: written to the outbox in the
// transaction of the change (Emitter), then fanned out to the subscriptions that want its type and
// delivered by background work. It carries no personal data: a record's id and GET path, and, to
// decide which provider subscriptions may receive it, the person it is about and the provider it
// belongs to (neither is sent).
type Event struct {
	Type      EventType
	CouncilID uuid.UUID
	// ID is the record that changed; Path is its GET path (/v1/support-plans/{id}), which must
	// contain ID. Use the helpers (PersonPath, PlanPath …) or the record's own path.
	ID   uuid.UUID
	Path string
	// PersonID is the person the record is about, when there is one: provider subscriptions receive
	// the event only when the provider's reach covers that person (an approved plan with a line or
	// an ISF agreement of theirs). Without a person, provider subscriptions receive it only when
	// ProviderID is theirs.
	PersonID *uuid.UUID
	// ProviderID is the provider the record belongs to (an ISF agreement, an ISF statement), if any.
	ProviderID *uuid.UUID
}

// Check validates an event before it is written.
func (e Event) Check() error {
	switch {
	case !e.Type.Valid():
		return fmt.Errorf("webhook: unknown event type %q", e.Type)
	case e.CouncilID == uuid.Nil || e.ID == uuid.Nil:
		return fmt.Errorf("webhook: an event names its council and record")
	case !strings.HasPrefix(e.Path, "/v1/") || strings.ContainsAny(e.Path, "?# ") || len(e.Path) > 300 ||
		!strings.Contains(e.Path, e.ID.String()):
		return fmt.Errorf("webhook: the event's path %q is not the record's /v1/ path", e.Path)
	}
	return nil
}

// Emitter writes events to the outbox in the transaction ctx carries; outside a transaction it
// fails (an event written on its own could announce a change that then rolled back). Domain
// services take one in their dependencies, as they take an audit.Recorder, and call Emit right
// after the change and its audit event.
type Emitter interface {
	Emit(ctx context.Context, e Event) error
}

// Discard is an Emitter that writes nothing: for services built without webhooks (unit tests).
var Discard Emitter = discard{}

type discard struct{}

func (discard) Emit(context.Context, Event) error { return nil }

// The GET paths of the records events are about.
func PersonPath(id uuid.UUID) string       { return "/v1/people/" + id.String() }
func AssessmentPath(id uuid.UUID) string   { return "/v1/assessments/" + id.String() }
func BudgetPath(id uuid.UUID) string       { return "/v1/personal-budgets/" + id.String() }
func PlanPath(id uuid.UUID) string         { return "/v1/support-plans/" + id.String() }
func DPAgreementPath(id uuid.UUID) string  { return "/v1/direct-payment-agreements/" + id.String() }
func ISFAgreementPath(id uuid.UUID) string { return "/v1/isf-agreements/" + id.String() }
func PaymentRunPath(id uuid.UUID) string   { return "/v1/payment-runs/" + id.String() }
func ReviewPath(id uuid.UUID) string       { return "/v1/reviews/" + id.String() }
func AuditPath(id uuid.UUID) string        { return "/v1/audits/" + id.String() }
func RecoveryPath(id uuid.UUID) string     { return "/v1/recoveries/" + id.String() }
func ISFStatementPath(id uuid.UUID) string { return "/v1/isf-statements/" + id.String() }

// ReviewSchedulePath is the GET path of a person's review schedule (review.due and review.overdue
// are about the person's next review, whose id is the person's).
func ReviewSchedulePath(personID uuid.UUID) string {
	return "/v1/people/" + personID.String() + "/review-schedule"
}
