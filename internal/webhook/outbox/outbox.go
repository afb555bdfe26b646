// Package outbox wires pbudget's webhooks (the pure rules are in internal/webhook): the outbox
// that domain services write events to in their own transactions (Emit), the subscriptions of a
// council and of its providers, the fan-out of each event to the subscriptions that want it, the
// delivery of each by background work on the Standard Webhooks schedule, the delivery log and
// replays.
//
// # Emitting an event (for every domain service)
//
// A service takes a webhook.Emitter in its dependencies (app.Build passes the outbox) and, in the
// transaction of the change, right after the change's audit event:
//
//	err := s.events.Emit(ctx, webhook.Event{Type: webhook.PlanApproved, CouncilID: a.CouncilID,
//		ID: p.ID, Path: webhook.PlanPath(p.ID), PersonID: &p.PersonID})
//
// Emit writes the event row and the River job that fans it out, both in the caller's transaction:
// a rolled-back change announces nothing, and a committed one is delivered even if the instance
// dies the moment after the commit. Emit fails outside a transaction.
//
// # Delivery
//
// Fan-out makes one delivery per active subscription whose event types include the event's: a
// council subscription receives every such event of its council; a provider subscription only
// events whose person is in the provider's reach when the event is fanned out (an approved plan
// with a line or an ISF agreement of the provider, on a budget that has not ended) or whose
// provider is that provider. Each delivery is attempted by a River job; after each attempt the
// policy (webhook.Policy) decides: delivered, retried at a time (the schedule's, or the receiver's
// Retry-After when later), the endpoint disabled (410 Gone), or given up after the schedule's
// ten attempts over about three days. The job of the next attempt is inserted in the transaction
// that records the attempt, so each attempt is made once per schedule step; an attempt whose
// record was lost to a crash is made again (at least once: the receiver drops repeats by
// webhook-id, the same on every attempt and replay).
package outbox

import (
	"context"
	"time"

	"github.com/google/uuid"

	"github.com/pbudget/pbudget/internal/actor"
	"github.com/pbudget/pbudget/internal/audit"
	"github.com/pbudget/pbudget/internal/webhook"
)

// Stored is an event as the outbox holds it.
type Stored struct {
	EventID     uuid.UUID // the outbox row; the webhook-id is webhook.MessageID(EventID)
	Event       webhook.Event
	OccurredAt  time.Time
	FannedOutAt *time.Time
	CouncilCode string // read with the event, for the payload
}

// Enqueuer queues the outbox's background work in the caller's transaction (jobs.Queue).
type Enqueuer interface {
	EnqueueWebhookFanout(ctx context.Context, councilID, eventID uuid.UUID) error
	EnqueueWebhookDelivery(ctx context.Context, councilID, deliveryID uuid.UUID, series, attempt int, at time.Time) error
}

// Emit implements webhook.Emitter: it writes e to the outbox and queues its fan-out, in the
// transaction ctx carries.
func (s *Service) Emit(ctx context.Context, e webhook.Event) error {
	ev, err := s.stored(e)
	if err != nil {
		return err
	}
	fanned, err := s.store.InsertEvent(ctx, ev)
	if err != nil || fanned {
		return err
	}
	return s.queue.EnqueueWebhookFanout(ctx, e.CouncilID, ev.EventID)
}

// stored checks e and gives it its outbox id and time.
func (s *Service) stored(e webhook.Event) (Stored, error) {
	if err := e.Check(); err != nil {
		return Stored{}, err
	}
	return Stored{EventID: uuid.Must(uuid.NewV7()), Event: e, OccurredAt: s.now().UTC().Truncate(time.Microsecond)}, nil
}

// EventRecorder is an audit.Recorder that also writes one audit event together with one outbox
// event in a single statement (postgres.AuditStore): the request path's change, its audit event
// and its webhook event then cost the change's round trip and one more. It reports, as
// Store.InsertEvent does, whether the event was fanned out to no one at once.
type EventRecorder interface {
	RecordWithEvent(ctx context.Context, a actor.Actor, e audit.Event, ev Stored) (fannedOut bool, err error)
}

// SubjectsInline is an EventRecorder whose statement reads whom the event is about (its person
// and provider, for provider reach) itself when the event does not say (postgres.AuditStore): the
// announcer then does not ask its Subjects first, a round trip fewer.
type SubjectsInline interface {
	ReadsSubjects() bool
}

// InTxer tells whether ctx carries a transaction (postgres.DB): announcing within one needs no
// savepoint of its own.
type InTxer interface {
	InTx(ctx context.Context) bool
}
