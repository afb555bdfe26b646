package postgres

import (
	"context"
	"errors"
	"strings"
	"time"

	"github.com/google/uuid"
	"gorm.io/gorm"
	"gorm.io/gorm/clause"

	"github.com/pbudget/pbudget/internal/page"
	"github.com/pbudget/pbudget/internal/webhook"
	"github.com/pbudget/pbudget/internal/webhook/outbox"
)

type webhookEventRow struct {
	CouncilID     uuid.UUID `gorm:"primaryKey"`
	ID            uuid.UUID `gorm:"primaryKey"`
	Type          string
	ResourceID    uuid.UUID
	Path          string
	PersonID      *uuid.UUID
	ProviderID    *uuid.UUID
	OccurredAt    time.Time
	FannedOutAt   *time.Time
	Subscriptions int
}

func (webhookEventRow) TableName() string { return "webhook_events" }

func (r webhookEventRow) domain(code string) outbox.Stored {
	return outbox.Stored{EventID: r.ID, OccurredAt: r.OccurredAt.UTC(), FannedOutAt: utcPtr(r.FannedOutAt), CouncilCode: code,
		Event: webhook.Event{Type: webhook.EventType(r.Type), CouncilID: r.CouncilID, ID: r.ResourceID, Path: r.Path,
			PersonID: r.PersonID, ProviderID: r.ProviderID}}
}

type webhookSubscriptionRow struct {
	CouncilID             uuid.UUID `gorm:"primaryKey"`
	ID                    uuid.UUID `gorm:"primaryKey"`
	ProviderID            *uuid.UUID
	URL                   string
	Description           string
	EventTypes            textArray
	Status                string
	DisabledReason        *string
	DisabledAt            *time.Time
	SecretSealed          []byte
	PreviousSecretSealed  []byte
	PreviousSecretExpires *time.Time
	CreatedBy             string
	CreatedAt             time.Time `gorm:"autoCreateTime:false"`
	Version               int
	UpdatedAt             time.Time `gorm:"autoUpdateTime:false"`
}

func (webhookSubscriptionRow) TableName() string { return "webhook_subscriptions" }

func webhookSubscriptionRowOf(s outbox.Subscription) webhookSubscriptionRow {
	types := make([]string, len(s.EventTypes))
	for i, t := range s.EventTypes {
		types[i] = string(t)
	}
	previous := s.PreviousSecretSealed
	if len(previous) == 0 {
		previous = nil
	}
	return webhookSubscriptionRow{CouncilID: s.CouncilID, ID: s.ID, ProviderID: s.ProviderID, URL: s.URL, Description: s.Description,
		EventTypes: textArray(types), Status: string(s.Status), DisabledReason: s.DisabledReason, DisabledAt: s.DisabledAt,
		SecretSealed: s.SecretSealed, PreviousSecretSealed: previous, PreviousSecretExpires: s.PreviousSecretExpires,
		CreatedBy: s.CreatedBy, CreatedAt: s.CreatedAt, Version: s.Version, UpdatedAt: s.UpdatedAt}
}

func (r webhookSubscriptionRow) domain() (outbox.Subscription, error) {
	types := make([]webhook.EventType, len(r.EventTypes))
	for i, t := range r.EventTypes {
		types[i] = webhook.EventType(t)
	}
	return outbox.Subscription{CouncilID: r.CouncilID, ID: r.ID, ProviderID: r.ProviderID, URL: r.URL, Description: r.Description,
		EventTypes: types, Status: outbox.Status(r.Status), DisabledReason: r.DisabledReason, DisabledAt: utcPtr(r.DisabledAt),
		SecretSealed: r.SecretSealed, PreviousSecretSealed: r.PreviousSecretSealed, PreviousSecretExpires: utcPtr(r.PreviousSecretExpires),
		CreatedBy: r.CreatedBy, CreatedAt: r.CreatedAt.UTC(), Version: r.Version, UpdatedAt: r.UpdatedAt.UTC()}, nil
}

type webhookDeliveryRow struct {
	CouncilID      uuid.UUID `gorm:"primaryKey"`
	ID             uuid.UUID `gorm:"primaryKey"`
	SubscriptionID uuid.UUID
	EventID        uuid.UUID
	Status         string
	Series         int
	Attempts       int
	TotalAttempts  int
	NextAttemptAt  *time.Time
	LastStatus     *int
	LastError      *string
	DeliveredAt    *time.Time
	CreatedAt      time.Time `gorm:"autoCreateTime:false"`
	UpdatedAt      time.Time `gorm:"autoUpdateTime:false"`
}

func (webhookDeliveryRow) TableName() string { return "webhook_deliveries" }

func webhookDeliveryRowOf(d outbox.Delivery) webhookDeliveryRow {
	return webhookDeliveryRow{CouncilID: d.CouncilID, ID: d.ID, SubscriptionID: d.SubscriptionID, EventID: d.EventID, Status: string(d.Status),
		Series: d.Series, Attempts: d.Attempts, TotalAttempts: d.TotalAttempts, NextAttemptAt: d.NextAttemptAt, LastStatus: d.LastStatus,
		LastError: d.LastError, DeliveredAt: d.DeliveredAt, CreatedAt: d.CreatedAt, UpdatedAt: d.UpdatedAt}
}

// webhookDeliveryView is a delivery read with its event's type and record.
type webhookDeliveryView struct {
	CouncilID      uuid.UUID
	ID             uuid.UUID
	SubscriptionID uuid.UUID
	EventID        uuid.UUID
	Status         string
	Series         int
	Attempts       int
	TotalAttempts  int
	NextAttemptAt  *time.Time
	LastStatus     *int
	LastError      *string
	DeliveredAt    *time.Time
	CreatedAt      time.Time
	UpdatedAt      time.Time
	EventType      string
	ResourceID     uuid.UUID
}

func (r webhookDeliveryView) domain() (outbox.Delivery, error) {
	return outbox.Delivery{CouncilID: r.CouncilID, ID: r.ID, SubscriptionID: r.SubscriptionID, EventID: r.EventID,
		EventType: webhook.EventType(r.EventType), ResourceID: r.ResourceID, Status: outbox.DeliveryStatus(r.Status),
		Series: r.Series, Attempts: r.Attempts, TotalAttempts: r.TotalAttempts, NextAttemptAt: utcPtr(r.NextAttemptAt),
		LastStatus: r.LastStatus, LastError: r.LastError, DeliveredAt: utcPtr(r.DeliveredAt),
		CreatedAt: r.CreatedAt.UTC(), UpdatedAt: r.UpdatedAt.UTC()}, nil
}

type webhookAttemptRow struct {
	CouncilID      uuid.UUID `gorm:"primaryKey"`
	ID             uuid.UUID `gorm:"primaryKey"`
	DeliveryID     uuid.UUID
	SubscriptionID uuid.UUID
	Series         int
	Number         int
	AttemptedAt    time.Time
	DurationMS     int `gorm:"column:duration_ms"`
	HTTPStatus     *int
	Class          string
	Outcome        string
	Error          *string
	NextAttemptAt  *time.Time
}

func (webhookAttemptRow) TableName() string { return "webhook_attempts" }

func (r webhookAttemptRow) domain() (outbox.Attempt, error) {
	return outbox.Attempt{CouncilID: r.CouncilID, ID: r.ID, DeliveryID: r.DeliveryID, SubscriptionID: r.SubscriptionID, Series: r.Series,
		Number: r.Number, AttemptedAt: r.AttemptedAt.UTC(), DurationMS: r.DurationMS, HTTPStatus: r.HTTPStatus,
		Class: webhook.Class(r.Class), Outcome: webhook.Outcome(r.Outcome), Error: r.Error, NextAttemptAt: utcPtr(r.NextAttemptAt)}, nil
}

// WebhookStore implements outbox.Store.
type WebhookStore struct{ db *DB }

// NewWebhookStore returns a WebhookStore.
func NewWebhookStore(db *DB) *WebhookStore { return &WebhookStore{db: db} }

var errOutsideTx = errors.New("webhook: an event is written in the transaction of its change")

// InsertEvent implements outbox.Store; it refuses to write outside a transaction.
func (s *WebhookStore) InsertEvent(ctx context.Context, e outbox.Stored) (bool, error) {
	t, ok := ownTxOf(ctx)
	if !ok {
		return false, errOutsideTx
	}
	var fanned bool
	err := t.send(ctx, insertEventAloneSQL, eventArgs(e), &fanned)
	return fanned, translate(err, nil)
}

// webhookEventView is an event read with its council's code (gorm's Raw scan fills no embedded
// struct, hence the copy of the columns).
type webhookEventView struct {
	CouncilID     uuid.UUID
	ID            uuid.UUID
	Type          string
	ResourceID    uuid.UUID
	Path          string
	PersonID      *uuid.UUID
	ProviderID    *uuid.UUID
	OccurredAt    time.Time
	FannedOutAt   *time.Time
	Subscriptions int
	Code          string
}

// GetEvent implements outbox.Store.
func (s *WebhookStore) GetEvent(ctx context.Context, councilID, eventID uuid.UUID, forUpdate bool) (outbox.Stored, error) {
	var v webhookEventView
	lock := ""
	if forUpdate {
		lock = " FOR UPDATE OF e"
	}
	res := s.db.conn(ctx).Raw(`SELECT e.*, c.code FROM webhook_events e JOIN councils c ON c.id = e.council_id
		WHERE e.council_id = ? AND e.id = ?`+lock, uuidArg(councilID), uuidArg(eventID)).Scan(&v)
	if res.Error != nil {
		return outbox.Stored{}, translate(res.Error, nil)
	}
	if res.RowsAffected == 0 {
		return outbox.Stored{}, translate(gorm.ErrRecordNotFound, nil)
	}
	return webhookEventRow{CouncilID: v.CouncilID, ID: v.ID, Type: v.Type, ResourceID: v.ResourceID, Path: v.Path, PersonID: v.PersonID,
		ProviderID: v.ProviderID, OccurredAt: v.OccurredAt, FannedOutAt: v.FannedOutAt, Subscriptions: v.Subscriptions}.domain(v.Code), nil
}

// MatchingSubscriptions implements outbox.Store: active subscriptions of the event's council that
// take its type; a provider's only when the event's provider is it or its reach covers the
// event's person.
func (s *WebhookStore) MatchingSubscriptions(ctx context.Context, e outbox.Stored) ([]outbox.Subscription, error) {
	var rows []webhookSubscriptionRow
	reach := strings.ReplaceAll(providerReachSQL("ws.council_id", "sp.person_id", "?::uuid"), "provider_id = ?", "provider_id = ws.provider_id")
	err := s.db.conn(ctx).Raw(`SELECT ws.* FROM webhook_subscriptions ws
		WHERE ws.council_id = ? AND ws.status = 'active' AND ?::text = ANY (ws.event_types)
		  AND (ws.provider_id IS NULL OR ws.provider_id = ?::uuid OR (?::uuid IS NOT NULL AND `+reach+`))
		ORDER BY ws.created_at, ws.id`,
		uuidArg(e.Event.CouncilID), string(e.Event.Type), e.Event.ProviderID, e.Event.PersonID, e.Event.PersonID).Scan(&rows).Error
	if err != nil {
		return nil, translate(err, nil)
	}
	return mapRows(rows, webhookSubscriptionRow.domain)
}

// InsertDeliveries implements outbox.Store.
func (s *WebhookStore) InsertDeliveries(ctx context.Context, ds []outbox.Delivery) ([]outbox.Delivery, error) {
	var out []outbox.Delivery
	for _, d := range ds {
		row := webhookDeliveryRowOf(d)
		res := s.db.conn(ctx).Clauses(clause.OnConflict{DoNothing: true}).Create(&row)
		if res.Error != nil {
			return nil, translate(res.Error, nil)
		}
		if res.RowsAffected == 1 {
			out = append(out, d)
		}
	}
	return out, nil
}

// MarkFannedOut implements outbox.Store.
func (s *WebhookStore) MarkFannedOut(ctx context.Context, councilID, eventID uuid.UUID, at time.Time, subscriptions int) error {
	return translate(s.db.conn(ctx).Model(&webhookEventRow{}).Where("council_id = ? AND id = ?", uuidArg(councilID), uuidArg(eventID)).
		Updates(map[string]any{"fanned_out_at": at, "subscriptions": subscriptions}).Error, nil)
}

// UnfannedEvents implements outbox.Store.
func (s *WebhookStore) UnfannedEvents(ctx context.Context, before time.Time, limit int) ([]outbox.Stored, error) {
	var rows []webhookEventRow
	err := s.db.conn(ctx).Where("fanned_out_at IS NULL AND occurred_at < ?", before).Order("occurred_at").Limit(limit).Find(&rows).Error
	if err != nil {
		return nil, translate(err, nil)
	}
	out := make([]outbox.Stored, len(rows))
	for i, r := range rows {
		out[i] = r.domain("")
	}
	return out, nil
}

// InsertSubscription implements outbox.Store.
func (s *WebhookStore) InsertSubscription(ctx context.Context, sub outbox.Subscription) error {
	row := webhookSubscriptionRowOf(sub)
	return translate(s.db.conn(ctx).Create(&row).Error, nil)
}

// GetSubscription implements outbox.Store.
func (s *WebhookStore) GetSubscription(ctx context.Context, councilID, id uuid.UUID, forUpdate bool) (outbox.Subscription, error) {
	r, err := takeOne[webhookSubscriptionRow](s.db.conn(ctx), forUpdate, "council_id = ? AND id = ?", uuidArg(councilID), uuidArg(id))
	if err != nil {
		return outbox.Subscription{}, err
	}
	return r.domain()
}

// UpdateSubscription implements outbox.Store: it writes sub if the stored version is sub.Version − 1.
func (s *WebhookStore) UpdateSubscription(ctx context.Context, sub outbox.Subscription) error {
	row := webhookSubscriptionRowOf(sub)
	res := s.db.conn(ctx).Model(&webhookSubscriptionRow{}).
		Where("council_id = ? AND id = ? AND version = ?", uuidArg(sub.CouncilID), uuidArg(sub.ID), sub.Version-1).
		Select("url", "description", "event_types", "status", "disabled_reason", "disabled_at", "secret_sealed",
			"previous_secret_sealed", "previous_secret_expires", "version", "updated_at").Updates(&row)
	return versioned(res.Error, res.RowsAffected, nil)
}

// ListSubscriptions implements outbox.Store: the council's own (providerID nil) or a provider's.
func (s *WebhookStore) ListSubscriptions(ctx context.Context, councilID uuid.UUID, providerID *uuid.UUID, p page.Request) ([]outbox.Subscription, error) {
	q := s.db.conn(ctx).Where("council_id = ?", uuidArg(councilID))
	if providerID != nil {
		q = q.Where("provider_id = ?", uuidArg(*providerID))
	} else {
		q = q.Where("provider_id IS NULL")
	}
	var rows []webhookSubscriptionRow
	if err := paginate(q, "created_at", p).Find(&rows).Error; err != nil {
		return nil, translate(err, nil)
	}
	return mapRows(rows, webhookSubscriptionRow.domain)
}

// CancelPending implements outbox.Store.
func (s *WebhookStore) CancelPending(ctx context.Context, councilID, subscriptionID uuid.UUID, at time.Time) error {
	return translate(s.db.conn(ctx).Model(&webhookDeliveryRow{}).
		Where("council_id = ? AND subscription_id = ? AND status = 'pending'", uuidArg(councilID), uuidArg(subscriptionID)).
		Updates(map[string]any{"status": "cancelled", "next_attempt_at": nil, "updated_at": at}).Error, nil)
}

const webhookDeliverySelect = `SELECT d.*, e.type AS event_type, e.resource_id FROM webhook_deliveries d
	JOIN webhook_events e ON e.council_id = d.council_id AND e.id = d.event_id`

// GetDelivery implements outbox.Store.
func (s *WebhookStore) GetDelivery(ctx context.Context, councilID, id uuid.UUID, forUpdate bool) (outbox.Delivery, error) {
	var v webhookDeliveryView
	lock := ""
	if forUpdate {
		lock = " FOR UPDATE OF d"
	}
	res := s.db.conn(ctx).Raw(webhookDeliverySelect+` WHERE d.council_id = ? AND d.id = ?`+lock, uuidArg(councilID), uuidArg(id)).Scan(&v)
	if res.Error != nil {
		return outbox.Delivery{}, translate(res.Error, nil)
	}
	if res.RowsAffected == 0 {
		return outbox.Delivery{}, translate(gorm.ErrRecordNotFound, nil)
	}
	d, _ := v.domain()
	attempts, err := s.attempts(ctx, councilID, []uuid.UUID{id})
	d.Log = attempts[id]
	return d, err
}

// UpdateDelivery implements outbox.Store.
func (s *WebhookStore) UpdateDelivery(ctx context.Context, d outbox.Delivery) error {
	row := webhookDeliveryRowOf(d)
	return translate(s.db.conn(ctx).Model(&webhookDeliveryRow{}).Where("council_id = ? AND id = ?", uuidArg(d.CouncilID), uuidArg(d.ID)).
		Select("status", "series", "attempts", "total_attempts", "next_attempt_at", "last_status", "last_error", "delivered_at", "updated_at").
		Updates(&row).Error, nil)
}

// InsertAttempt implements outbox.Store.
func (s *WebhookStore) InsertAttempt(ctx context.Context, a outbox.Attempt) error {
	row := webhookAttemptRow{CouncilID: a.CouncilID, ID: a.ID, DeliveryID: a.DeliveryID, SubscriptionID: a.SubscriptionID, Series: a.Series,
		Number: a.Number, AttemptedAt: a.AttemptedAt, DurationMS: a.DurationMS, HTTPStatus: a.HTTPStatus, Class: string(a.Class),
		Outcome: string(a.Outcome), Error: a.Error, NextAttemptAt: a.NextAttemptAt}
	return translate(s.db.conn(ctx).Create(&row).Error, nil)
}

// ListDeliveries implements outbox.Store: a page of a subscription's deliveries, newest last, each
// with its attempts.
func (s *WebhookStore) ListDeliveries(ctx context.Context, councilID, subscriptionID uuid.UUID, status outbox.DeliveryStatus, p page.Request) ([]outbox.Delivery, error) {
	sql := webhookDeliverySelect + ` WHERE d.council_id = ? AND d.subscription_id = ?`
	args := []any{uuidArg(councilID), uuidArg(subscriptionID)}
	if status != "" {
		sql += ` AND d.status = ?`
		args = append(args, string(status))
	}
	if p.After != nil {
		sql += ` AND (d.created_at, d.id) > (?, ?)`
		args = append(args, p.After.Time, uuidArg(p.After.ID))
	}
	sql += ` ORDER BY d.created_at, d.id LIMIT ?`
	args = append(args, p.Size+1)
	var views []webhookDeliveryView
	if err := s.db.conn(ctx).Raw(sql, args...).Scan(&views).Error; err != nil {
		return nil, translate(err, nil)
	}
	out, err := mapRows(views, webhookDeliveryView.domain)
	if err != nil || len(out) == 0 {
		return out, err
	}
	ids := make([]uuid.UUID, len(out))
	for i, d := range out {
		ids[i] = d.ID
	}
	attempts, err := s.attempts(ctx, councilID, ids)
	for i := range out {
		out[i].Log = attempts[out[i].ID]
	}
	return out, err
}

func (s *WebhookStore) attempts(ctx context.Context, councilID uuid.UUID, deliveries []uuid.UUID) (map[uuid.UUID][]outbox.Attempt, error) {
	rows, err := childrenOf[webhookAttemptRow](s.db.conn(ctx), councilID, "delivery_id", deliveries, "attempted_at, id")
	if err != nil {
		return nil, err
	}
	out := make(map[uuid.UUID][]outbox.Attempt, len(deliveries))
	for _, r := range rows {
		a, _ := r.domain()
		out[r.DeliveryID] = append(out[r.DeliveryID], a)
	}
	return out, nil
}

// subjectTables are the tables of the announced records with a person (and a provider).
var subjectTables = map[string]string{
	"assessment":               "SELECT person_id, NULL::uuid AS provider_id FROM assessments",
	"personal_budget":          "SELECT person_id, NULL::uuid AS provider_id FROM personal_budgets",
	"support_plan":             "SELECT person_id, NULL::uuid AS provider_id FROM support_plans",
	"direct_payment_agreement": "SELECT person_id, NULL::uuid AS provider_id FROM direct_payment_agreements",
	"isf_agreement":            "SELECT person_id, provider_id FROM isf_agreements",
	"direct_payment_audit":     "SELECT person_id, NULL::uuid AS provider_id FROM dp_audits",
	"recovery":                 "SELECT person_id, (SELECT provider_id FROM isf_agreements i WHERE i.council_id = r.council_id AND i.id = r.isf_agreement_id) AS provider_id FROM recoveries r",
	"isf_statement":            "SELECT person_id, provider_id FROM isf_statements",
}

// Subject implements outbox.Subjects.
func (s *WebhookStore) Subject(ctx context.Context, councilID uuid.UUID, entityType string, id uuid.UUID) (*uuid.UUID, *uuid.UUID, error) {
	if entityType == "person" {
		return &id, nil, nil
	}
	q, ok := subjectTables[entityType]
	if !ok {
		return nil, nil, nil
	}
	var r struct {
		PersonID   *uuid.UUID
		ProviderID *uuid.UUID
	}
	err := s.db.conn(ctx).Raw(q+` WHERE council_id = ? AND id = ?`, uuidArg(councilID), uuidArg(id)).Scan(&r).Error
	return r.PersonID, r.ProviderID, translate(err, nil)
}
