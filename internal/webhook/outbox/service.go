package outbox

import (
	"context"
	"errors"
	"math/rand/v2"
	"net/http"
	"slices"
	"strings"
	"time"

	"github.com/google/uuid"

	"github.com/pbudget/pbudget/internal/actor"
	"github.com/pbudget/pbudget/internal/apperr"
	"github.com/pbudget/pbudget/internal/audit"
	"github.com/pbudget/pbudget/internal/page"
	"github.com/pbudget/pbudget/internal/secret"
	"github.com/pbudget/pbudget/internal/txn"
	"github.com/pbudget/pbudget/internal/webhook"
)

// Status is a subscription's state.
type Status string

// The statuses.
const (
	Active   Status = "active"
	Disabled Status = "disabled"
)

// Subscription is an endpoint that receives a council's (or a provider's) events.
type Subscription struct {
	CouncilID             uuid.UUID
	ID                    uuid.UUID
	ProviderID            *uuid.UUID // nil: the council's own
	URL                   string
	Description           string
	EventTypes            []webhook.EventType
	Status                Status
	DisabledReason        *string
	DisabledAt            *time.Time
	SecretSealed          []byte
	PreviousSecretSealed  []byte
	PreviousSecretExpires *time.Time
	CreatedBy             string
	CreatedAt             time.Time
	Version               int
	UpdatedAt             time.Time
}

// Cursor is the page position of a subscription.
func (s Subscription) Cursor() page.Cursor { return page.Cursor{Time: s.CreatedAt, ID: s.ID} }

// Wants reports whether the subscription takes events of type t.
func (s Subscription) Wants(t webhook.EventType) bool { return slices.Contains(s.EventTypes, t) }

// DeliveryStatus is a delivery's state.
type DeliveryStatus string

// The delivery statuses.
const (
	Pending   DeliveryStatus = "pending"
	Delivered DeliveryStatus = "delivered"
	Failed    DeliveryStatus = "failed"    // the schedule ran out
	Cancelled DeliveryStatus = "cancelled" // the endpoint was disabled first
)

// Delivery is one event's delivery to one subscription.
type Delivery struct {
	CouncilID      uuid.UUID
	ID             uuid.UUID
	SubscriptionID uuid.UUID
	EventID        uuid.UUID
	EventType      webhook.EventType // read with the delivery
	ResourceID     uuid.UUID         // read with the delivery
	Status         DeliveryStatus
	Series         int
	Attempts       int
	TotalAttempts  int
	NextAttemptAt  *time.Time
	LastStatus     *int
	LastError      *string
	DeliveredAt    *time.Time
	CreatedAt      time.Time
	UpdatedAt      time.Time
	Log            []Attempt // filled by ListDeliveries and GetDelivery
}

// Cursor is the page position of a delivery.
func (d Delivery) Cursor() page.Cursor { return page.Cursor{Time: d.CreatedAt, ID: d.ID} }

// Attempt is one line of the delivery log.
type Attempt struct {
	CouncilID      uuid.UUID
	ID             uuid.UUID
	DeliveryID     uuid.UUID
	SubscriptionID uuid.UUID
	Series         int
	Number         int
	AttemptedAt    time.Time
	DurationMS     int
	HTTPStatus     *int
	Class          webhook.Class
	Outcome        webhook.Outcome
	Error          *string
	NextAttemptAt  *time.Time
}

// Store keeps the outbox, the subscriptions, the deliveries and their log.
type Store interface {
	// InsertEvent writes e in the transaction of ctx. When no active subscription of its council
	// takes its type, e is written fanned out to no one (at its own time) and true is returned: its
	// fan-out would have made no delivery, so no job is queued for it.
	InsertEvent(ctx context.Context, e Stored) (fannedOut bool, err error)
	// GetEvent reads an event with its council's code, locked FOR UPDATE when forUpdate.
	GetEvent(ctx context.Context, councilID, eventID uuid.UUID, forUpdate bool) (Stored, error)
	// MatchingSubscriptions are the active subscriptions that may receive e (type, council, and for
	// provider subscriptions, reach).
	MatchingSubscriptions(ctx context.Context, e Stored) ([]Subscription, error)
	// InsertDeliveries inserts those deliveries that do not exist yet (subscription, event) and
	// returns the ones inserted.
	InsertDeliveries(ctx context.Context, ds []Delivery) ([]Delivery, error)
	MarkFannedOut(ctx context.Context, councilID, eventID uuid.UUID, at time.Time, subscriptions int) error
	// UnfannedEvents are events older than before not yet fanned out.
	UnfannedEvents(ctx context.Context, before time.Time, limit int) ([]Stored, error)

	InsertSubscription(ctx context.Context, s Subscription) error
	GetSubscription(ctx context.Context, councilID, id uuid.UUID, forUpdate bool) (Subscription, error)
	UpdateSubscription(ctx context.Context, s Subscription) error
	ListSubscriptions(ctx context.Context, councilID uuid.UUID, providerID *uuid.UUID, p page.Request) ([]Subscription, error)
	// CancelPending cancels the pending deliveries of a subscription.
	CancelPending(ctx context.Context, councilID, subscriptionID uuid.UUID, at time.Time) error

	GetDelivery(ctx context.Context, councilID, id uuid.UUID, forUpdate bool) (Delivery, error)
	UpdateDelivery(ctx context.Context, d Delivery) error
	InsertAttempt(ctx context.Context, a Attempt) error
	ListDeliveries(ctx context.Context, councilID, subscriptionID uuid.UUID, status DeliveryStatus, p page.Request) ([]Delivery, error)
}

// Options configure the delivery.
type Options struct {
	// APIBase is the API's public root, the links' prefix (PB_PUBLIC_URL).
	APIBase string
	// Policy is the retry schedule; zero: webhook.DefaultPolicy.
	Policy *webhook.Policy
	// Guard keeps deliveries on the public internet; tests allow loopback.
	Guard webhook.Guard
	// Client makes the attempts; nil: webhook.NewClient(Guard, Policy).
	Client *http.Client
	// Clock gives the attempts' time (webhook-timestamp); nil: time.Now. It is the wall clock even
	// when the service runs on another, since receivers check the timestamp against theirs.
	Clock func() time.Time
	// Rotation is how long a rotated secret keeps signing beside the new one (default 24 hours).
	Rotation time.Duration
}

// Deps are the service's dependencies.
type Deps struct {
	Store Store
	// Subjects finds the person and provider of an announced record (Announcing); nil: none.
	Subjects Subjects
	Queue    Enqueuer
	Keys     *secret.KeyRing // seals the signing secrets
	Audit    audit.Recorder
	Tx       txn.Transactor
	Now      func() time.Time
}

// Service is the outbox and the webhooks around it.
type Service struct {
	store    Store
	subjects Subjects
	queue    Enqueuer
	keys     *secret.KeyRing
	audit    audit.Recorder
	tx       txn.Transactor
	now      func() time.Time
	opts     Options
	policy   webhook.Policy
	client   *http.Client
	clock    func() time.Time
}

// NewService returns a Service.
func NewService(d Deps, o Options) *Service {
	s := &Service{store: d.Store, subjects: d.Subjects, queue: d.Queue, keys: d.Keys, audit: d.Audit, tx: d.Tx, now: d.Now}
	s.Configure(o)
	return s
}

// Configure sets the delivery options; call it before the service is used.
func (s *Service) Configure(o Options) {
	s.opts = o
	s.policy = webhook.DefaultPolicy()
	if o.Policy != nil {
		s.policy = *o.Policy
	}
	s.client = o.Client
	if s.client == nil {
		s.client = webhook.NewClient(o.Guard, s.policy)
	}
	s.clock = o.Clock
	if s.clock == nil {
		s.clock = time.Now
	}
	if s.opts.Rotation == 0 {
		s.opts.Rotation = 24 * time.Hour
	}
	if s.opts.APIBase == "" {
		s.opts.APIBase = PlaceholderAPIBase
	}
}

// PlaceholderAPIBase is the links' root when PB_PUBLIC_URL is not configured: a name that never
// resolves (RFC 2606), so that a receiver sees at once that the link needs configuring.
const PlaceholderAPIBase = "https://pbudget.invalid"

// Errors of the webhooks.
var (
	ErrKeys = apperr.New(apperr.Unavailable, "webhook-keys-not-configured",
		"webhook secrets are sealed with the service's keys (PB_SECRET_KEYS), which are not configured")
	ErrEventTypes = apperr.New(apperr.Invalid, "webhook-event-types-invalid",
		"choose one or more event types from the list (a provider's subscription: only those about the people it serves)")
	ErrNotReplayable = apperr.New(apperr.Conflict, "webhook-delivery-pending",
		"the delivery is still being attempted: replay it once it has been delivered, failed or cancelled")
	ErrSubscriptionDisabled = apperr.New(apperr.Conflict, "webhook-subscription-disabled",
		"the subscription is disabled: enable it first")
)

// purposeSecret binds a subscription's sealed signing secrets.
const purposeSecret = secret.PurposeWebhookSecret

// CreateInput is a new subscription.
type CreateInput struct {
	URL         string
	Description string
	EventTypes  []webhook.EventType
}

// Created is a new subscription with its secret, shown this once.
type Created struct {
	Subscription
	Secret webhook.Secret
}

// Create adds a subscription: the council's own for council staff, the provider's for provider
// staff (ProviderID from the token). The URL must pass the guard (https, public addresses).
func (s *Service) Create(ctx context.Context, a actor.Actor, in CreateInput) (Created, error) {
	if s.keys == nil {
		return Created{}, ErrKeys
	}
	types, err := s.checkTypes(a, in.EventTypes)
	if err != nil {
		return Created{}, err
	}
	u, err := s.opts.Guard.CheckURL(ctx, strings.TrimSpace(in.URL))
	if err != nil {
		return Created{}, err
	}
	secretValue, err := webhook.GenerateSecret()
	if err != nil {
		return Created{}, apperr.ErrInternal.Wrap(err)
	}
	now := s.now().UTC().Truncate(time.Microsecond)
	sub := Subscription{CouncilID: a.CouncilID, ID: uuid.Must(uuid.NewV7()), URL: u.String(), Description: strings.TrimSpace(in.Description),
		EventTypes: types, Status: Active, CreatedBy: a.Subject, CreatedAt: now, Version: 1, UpdatedAt: now}
	if a.IsProviderOnly() {
		sub.ProviderID = a.ProviderID
	}
	sealed, err := s.keys.Seal([]byte(secretValue.Reveal()), s.binding(sub))
	if err != nil {
		return Created{}, err
	}
	sub.SecretSealed = sealed
	err = s.tx.WithinTx(ctx, func(ctx context.Context) error {
		if err := s.store.InsertSubscription(ctx, sub); err != nil {
			return err
		}
		return s.audit.Record(ctx, a, audit.Event{Action: "webhook_subscription.created", EntityType: "webhook_subscription", EntityID: sub.ID,
			ChangedFields: []string{"url", "description", "event_types", "secret"},
			Details:       map[string]any{"event_types": types, "provider": sub.ProviderID != nil}})
	})
	if err != nil {
		return Created{}, err
	}
	return Created{Subscription: sub, Secret: secretValue}, nil
}

func (s *Service) checkTypes(a actor.Actor, in []webhook.EventType) ([]webhook.EventType, error) {
	if len(in) == 0 {
		return nil, ErrEventTypes
	}
	allowed := webhook.EventTypes
	if a.IsProviderOnly() {
		allowed = webhook.ProviderEventTypes
	}
	var out []webhook.EventType
	for _, t := range in {
		if !slices.Contains(allowed, t) {
			return nil, ErrEventTypes.WithMessage("%s: %q is not one of them", ErrEventTypes.Message, t)
		}
		if !slices.Contains(out, t) {
			out = append(out, t)
		}
	}
	slices.Sort(out)
	return out, nil
}

func (s *Service) binding(sub Subscription) secret.Binding {
	return secret.Binding{CouncilID: sub.CouncilID, RecordID: sub.ID, Purpose: purposeSecret}
}

// Get returns a subscription; provider staff see only their provider's, council staff only the
// council's own (a provider's subscription is the provider's business).
func (s *Service) Get(ctx context.Context, a actor.Actor, id uuid.UUID) (Subscription, error) {
	sub, err := s.store.GetSubscription(ctx, a.CouncilID, id, false)
	if err != nil {
		return Subscription{}, err
	}
	if !owns(a, sub) {
		return Subscription{}, apperr.ErrNotFound
	}
	return sub, nil
}

// owns reports whether the actor manages sub: provider staff their provider's, council staff the
// council's own.
func owns(a actor.Actor, sub Subscription) bool {
	if a.IsProviderOnly() {
		return sub.ProviderID != nil && *sub.ProviderID == *a.ProviderID
	}
	return sub.ProviderID == nil
}

// List returns a page of the actor's subscriptions.
func (s *Service) List(ctx context.Context, a actor.Actor, p page.Request) ([]Subscription, error) {
	var providerID *uuid.UUID
	if a.IsProviderOnly() {
		providerID = a.ProviderID
	}
	return s.store.ListSubscriptions(ctx, a.CouncilID, providerID, p)
}

// change runs fn on the subscription at version, locked, and writes it with an audit event.
func (s *Service) change(ctx context.Context, a actor.Actor, id uuid.UUID, version int, action string, fields []string, reason string,
	fn func(*Subscription) error) (Subscription, error) {
	var out Subscription
	err := s.tx.WithinTx(ctx, func(ctx context.Context) error {
		sub, err := s.store.GetSubscription(ctx, a.CouncilID, id, true)
		if err != nil {
			return err
		}
		if !owns(a, sub) {
			return apperr.ErrNotFound
		}
		if sub.Version != version {
			return apperr.ErrVersionMismatch
		}
		if err := fn(&sub); err != nil {
			return err
		}
		sub.Version, sub.UpdatedAt = sub.Version+1, s.now().UTC().Truncate(time.Microsecond)
		if err := s.store.UpdateSubscription(ctx, sub); err != nil {
			return err
		}
		out = sub
		return s.audit.Record(ctx, a, audit.Event{Action: action, EntityType: "webhook_subscription", EntityID: sub.ID,
			ChangedFields: fields, Reason: reason})
	})
	return out, err
}

// Disable stops deliveries to a subscription, with a reason; its pending deliveries are cancelled
// (a replay sends them once it is enabled again).
func (s *Service) Disable(ctx context.Context, a actor.Actor, id uuid.UUID, version int, reason string) (Subscription, error) {
	return s.change(ctx, a, id, version, "webhook_subscription.disabled", []string{"status"}, reason, func(sub *Subscription) error {
		if sub.Status == Disabled {
			return nil
		}
		now := s.now().UTC().Truncate(time.Microsecond)
		r := strings.TrimSpace(reason)
		sub.Status, sub.DisabledAt, sub.DisabledReason = Disabled, &now, &r
		return s.store.CancelPending(ctx, sub.CouncilID, sub.ID, now)
	})
}

// Enable starts deliveries to a disabled subscription again (events from now on; replay the
// cancelled ones to send them).
func (s *Service) Enable(ctx context.Context, a actor.Actor, id uuid.UUID, version int) (Subscription, error) {
	return s.change(ctx, a, id, version, "webhook_subscription.enabled", []string{"status"}, "", func(sub *Subscription) error {
		sub.Status, sub.DisabledAt, sub.DisabledReason = Active, nil, nil
		return nil
	})
}

// RotateSecret gives the subscription a new secret, shown this once; the previous one keeps
// signing beside it for Options.Rotation, so that the receiver can switch without a gap.
func (s *Service) RotateSecret(ctx context.Context, a actor.Actor, id uuid.UUID, version int) (Created, error) {
	if s.keys == nil {
		return Created{}, ErrKeys
	}
	fresh, err := webhook.GenerateSecret()
	if err != nil {
		return Created{}, apperr.ErrInternal.Wrap(err)
	}
	sub, err := s.change(ctx, a, id, version, "webhook_subscription.secret_rotated", []string{"secret"}, "", func(sub *Subscription) error {
		sealed, err := s.keys.Seal([]byte(fresh.Reveal()), s.binding(*sub))
		if err != nil {
			return err
		}
		until := s.now().UTC().Truncate(time.Microsecond).Add(s.opts.Rotation)
		sub.PreviousSecretSealed, sub.PreviousSecretExpires, sub.SecretSealed = sub.SecretSealed, &until, sealed
		return nil
	})
	if err != nil {
		return Created{}, err
	}
	return Created{Subscription: sub, Secret: fresh}, nil
}

// Deliveries returns a page of a subscription's delivery log, each delivery with its attempts.
func (s *Service) Deliveries(ctx context.Context, a actor.Actor, subscriptionID uuid.UUID, status DeliveryStatus, p page.Request) ([]Delivery, error) {
	if _, err := s.Get(ctx, a, subscriptionID); err != nil {
		return nil, err
	}
	return s.store.ListDeliveries(ctx, a.CouncilID, subscriptionID, status, p)
}

// Replay sends a delivery again from the start of the schedule, with the same webhook-id: one that
// was delivered (the receiver lost it), failed or was cancelled.
func (s *Service) Replay(ctx context.Context, a actor.Actor, subscriptionID, deliveryID uuid.UUID) (Delivery, error) {
	var out Delivery
	err := s.tx.WithinTx(ctx, func(ctx context.Context) error {
		sub, err := s.store.GetSubscription(ctx, a.CouncilID, subscriptionID, false)
		if err != nil {
			return err
		}
		if !owns(a, sub) {
			return apperr.ErrNotFound
		}
		d, err := s.store.GetDelivery(ctx, a.CouncilID, deliveryID, true)
		if err != nil {
			return err
		}
		if d.SubscriptionID != sub.ID {
			return apperr.ErrNotFound
		}
		if sub.Status != Active {
			return ErrSubscriptionDisabled
		}
		if d.Status == Pending {
			return ErrNotReplayable
		}
		now := s.now().UTC().Truncate(time.Microsecond)
		d.Status, d.Series, d.Attempts, d.NextAttemptAt, d.DeliveredAt, d.UpdatedAt = Pending, d.Series+1, 0, &now, nil, now
		if err := s.store.UpdateDelivery(ctx, d); err != nil {
			return err
		}
		if err := s.queue.EnqueueWebhookDelivery(ctx, d.CouncilID, d.ID, d.Series, 1, time.Time{}); err != nil {
			return err
		}
		out = d
		return s.audit.Record(ctx, a, audit.Event{Action: "webhook_delivery.replayed", EntityType: "webhook_delivery", EntityID: d.ID,
			ChangedFields: []string{"status", "series"}, Details: map[string]any{"subscription_id": sub.ID, "series": d.Series}})
	})
	return out, err
}

// Fanout makes the deliveries of one event and queues their first attempts; run again, it does
// nothing (the event is marked fanned out in the same transaction).
func (s *Service) Fanout(ctx context.Context, councilID, eventID uuid.UUID) error {
	return s.tx.WithinTx(ctx, func(ctx context.Context) error {
		ev, err := s.store.GetEvent(ctx, councilID, eventID, true)
		if errors.Is(err, apperr.ErrNotFound) {
			return nil // nothing to do: never happens, the job is inserted with its event
		}
		if err != nil {
			return err
		}
		if ev.FannedOutAt != nil {
			return nil
		}
		subs, err := s.store.MatchingSubscriptions(ctx, ev)
		if err != nil {
			return err
		}
		now := s.now().UTC().Truncate(time.Microsecond)
		ds := make([]Delivery, len(subs))
		for i, sub := range subs {
			ds[i] = Delivery{CouncilID: councilID, ID: uuid.Must(uuid.NewV7()), SubscriptionID: sub.ID, EventID: eventID,
				Status: Pending, Series: 1, NextAttemptAt: &now, CreatedAt: now, UpdatedAt: now}
		}
		inserted, err := s.store.InsertDeliveries(ctx, ds)
		if err != nil {
			return err
		}
		for _, d := range inserted {
			if err := s.queue.EnqueueWebhookDelivery(ctx, councilID, d.ID, 1, 1, time.Time{}); err != nil {
				return err
			}
		}
		return s.store.MarkFannedOut(ctx, councilID, eventID, now, len(subs))
	})
}

// SweepUnfanned queues the fan-out of events that have waited longer than a minute: a safety net
// (each event's job is inserted with it, so there are none unless a job was deleted by hand).
func (s *Service) SweepUnfanned(ctx context.Context) (int, error) {
	evs, err := s.store.UnfannedEvents(ctx, s.now().Add(-time.Minute), 1000)
	if err != nil || len(evs) == 0 {
		return 0, err
	}
	err = s.tx.WithinTx(ctx, func(ctx context.Context) error {
		for _, ev := range evs {
			if err := s.queue.EnqueueWebhookFanout(ctx, ev.Event.CouncilID, ev.EventID); err != nil {
				return err
			}
		}
		return nil
	})
	return len(evs), err
}

// Deliver makes attempt number attempt of series of a delivery, records it and decides what
// follows. A job whose attempt is already recorded (a retry of the job after a crash between the
// record and the job's completion) or whose delivery has moved on (a replay) does nothing.
func (s *Service) Deliver(ctx context.Context, councilID, deliveryID uuid.UUID, series, attempt int) error {
	d, err := s.store.GetDelivery(ctx, councilID, deliveryID, false)
	if errors.Is(err, apperr.ErrNotFound) {
		return nil
	}
	if err != nil {
		return err
	}
	if d.Status != Pending || d.Series != series || d.Attempts != attempt-1 {
		return nil
	}
	sub, err := s.store.GetSubscription(ctx, councilID, d.SubscriptionID, false)
	if err != nil {
		return err
	}
	if sub.Status != Active {
		return s.tx.WithinTx(ctx, func(ctx context.Context) error {
			return s.store.CancelPending(ctx, councilID, sub.ID, s.now().UTC())
		})
	}
	ev, err := s.store.GetEvent(ctx, councilID, d.EventID, false)
	if err != nil {
		return err
	}
	signer, err := s.signer(sub)
	if err != nil {
		return err
	}
	payload, err := webhook.NewPayload(ev.Event.Type, ev.Event.ID, ev.CouncilCode, ev.OccurredAt, s.opts.APIBase, ev.Event.Path)
	if err != nil {
		return err
	}
	body, err := payload.Marshal()
	if err != nil {
		return err
	}
	at := s.clock()
	result := webhook.Deliver(ctx, s.client, s.opts.Guard, signer, sub.URL, webhook.MessageID(ev.EventID), at, body)
	if result.Err != nil && ctx.Err() != nil {
		return ctx.Err() // shutting down: the job is retried, the attempt made again
	}
	done := s.clock()
	decision := s.policy.Next(attempt, result, done, rand.Float64)
	return s.record(ctx, d, sub, attempt, at, done, result, decision)
}

func (s *Service) record(ctx context.Context, d Delivery, sub Subscription, attempt int, at, done time.Time, result webhook.Attempt, decision webhook.Decision) error {
	return s.tx.WithinTx(ctx, func(ctx context.Context) error {
		cur, err := s.store.GetDelivery(ctx, d.CouncilID, d.ID, true)
		if err != nil {
			return err
		}
		if cur.Status != Pending || cur.Series != d.Series || cur.Attempts != attempt-1 {
			return nil // another worker recorded this attempt, or a replay started a new series
		}
		now := s.now().UTC().Truncate(time.Microsecond)
		line := Attempt{CouncilID: d.CouncilID, ID: uuid.Must(uuid.NewV7()), DeliveryID: d.ID, SubscriptionID: d.SubscriptionID,
			Series: d.Series, Number: attempt, AttemptedAt: at.UTC().Truncate(time.Microsecond),
			DurationMS: int(max(0, done.Sub(at).Milliseconds())), Class: decision.Class, Outcome: decision.Outcome}
		if result.Status != 0 {
			st := result.Status
			line.HTTPStatus, cur.LastStatus = &st, &st
		} else {
			cur.LastStatus = nil
		}
		cur.LastError = nil
		if result.Err != nil {
			msg := errorText(result.Err)
			line.Error, cur.LastError = &msg, &msg
		}
		cur.Attempts, cur.TotalAttempts, cur.UpdatedAt, cur.NextAttemptAt = attempt, cur.TotalAttempts+1, now, nil
		switch decision.Outcome {
		case webhook.Delivered:
			cur.Status, cur.DeliveredAt = Delivered, &now
		case webhook.Retry:
			next := decision.At.UTC().Truncate(time.Microsecond)
			line.NextAttemptAt, cur.NextAttemptAt = &next, &next
			if err := s.queue.EnqueueWebhookDelivery(ctx, d.CouncilID, d.ID, d.Series, attempt+1, next); err != nil {
				return err
			}
		case webhook.GiveUp:
			cur.Status = Failed
		case webhook.Disable:
			cur.Status = Cancelled
		}
		if err := s.store.InsertAttempt(ctx, line); err != nil {
			return err
		}
		if err := s.store.UpdateDelivery(ctx, cur); err != nil {
			return err
		}
		if decision.Outcome != webhook.Disable {
			return nil
		}
		// 410 Gone: the receiver wants no more. The subscription is disabled, its other pending
		// deliveries cancelled, and the trail says why (the actor is the service itself).
		locked, err := s.store.GetSubscription(ctx, sub.CouncilID, sub.ID, true)
		if err != nil || locked.Status != Active {
			return err
		}
		reason := "the endpoint answered 410 Gone"
		locked.Status, locked.DisabledAt, locked.DisabledReason = Disabled, &now, &reason
		locked.Version, locked.UpdatedAt = locked.Version+1, now
		if err := s.store.UpdateSubscription(ctx, locked); err != nil {
			return err
		}
		if err := s.store.CancelPending(ctx, sub.CouncilID, sub.ID, now); err != nil {
			return err
		}
		return s.audit.Record(ctx, actor.Actor{Subject: "pbudget:webhooks", CouncilID: sub.CouncilID}, audit.Event{
			Action: "webhook_subscription.disabled", EntityType: "webhook_subscription", EntityID: sub.ID,
			ChangedFields: []string{"status"}, Reason: reason, Details: map[string]any{"delivery_id": d.ID}})
	})
}

// errorText is what the log keeps of a failed attempt: short, without the URL's query (which a
// subscriber may have put a token in).
func errorText(err error) string {
	msg := err.Error()
	if webhook.IsRefused(err) {
		var ae *apperr.Error
		if errors.As(err, &ae) {
			msg = ae.Message
		}
	}
	if i := strings.Index(msg, "?"); i >= 0 {
		msg = msg[:i]
	}
	if len(msg) > 500 {
		msg = msg[:500]
	}
	return msg
}

// signer opens the subscription's secrets: the current one, and the previous one while a rotation
// lasts.
func (s *Service) signer(sub Subscription) (webhook.Signer, error) {
	if s.keys == nil {
		return webhook.Signer{}, ErrKeys
	}
	open := func(sealed []byte) (webhook.Secret, error) {
		plain, err := s.keys.Open(sealed, s.binding(sub))
		if err != nil {
			return webhook.Secret{}, err
		}
		defer clear(plain)
		return webhook.ParseSecret(string(plain))
	}
	current, err := open(sub.SecretSealed)
	if err != nil {
		return webhook.Signer{}, err
	}
	if len(sub.PreviousSecretSealed) > 0 && sub.PreviousSecretExpires != nil && s.now().Before(*sub.PreviousSecretExpires) {
		previous, err := open(sub.PreviousSecretSealed)
		if err != nil {
			return webhook.Signer{}, err
		}
		return webhook.NewSigner(current, previous), nil
	}
	return webhook.NewSigner(current), nil
}
