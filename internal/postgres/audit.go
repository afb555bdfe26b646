package postgres

import (
	"context"
	"encoding/json"
	"time"

	"github.com/google/uuid"

	"github.com/pbudget/pbudget/internal/actor"
	"github.com/pbudget/pbudget/internal/audit"
	"github.com/pbudget/pbudget/internal/page"
)

type auditRow struct {
	CouncilID     uuid.UUID `gorm:"primaryKey"`
	ID            uuid.UUID `gorm:"primaryKey"`
	OccurredAt    time.Time
	ActorSubject  string
	ActorRoles    textArray
	ActorProvider *uuid.UUID
	ActorPerson   *uuid.UUID
	Action        string
	EntityType    string
	EntityID      uuid.UUID
	RequestID     *string
	ChangedFields textArray
	Reason        *string
	Details       []byte `gorm:"type:jsonb"`
}

func (auditRow) TableName() string { return "audit_events" }

func (r auditRow) domain() (audit.Record, error) {
	rec := audit.Record{
		Event: audit.Event{
			Action: r.Action, EntityType: r.EntityType, EntityID: r.EntityID,
			ChangedFields: []string(r.ChangedFields), Reason: deref(r.Reason),
		},
		ID: r.ID, OccurredAt: r.OccurredAt.UTC(), ActorSubject: r.ActorSubject,
		ActorRoles: []string(r.ActorRoles), ActorProvider: r.ActorProvider, ActorPerson: r.ActorPerson, RequestID: deref(r.RequestID),
	}
	if err := json.Unmarshal(r.Details, &rec.Details); err != nil {
		return audit.Record{}, err
	}
	return rec, nil
}

// AuditStore appends to and reads the audit trail.
type AuditStore struct {
	db  *DB
	now func() time.Time
}

// NewAuditStore returns an AuditStore.
func NewAuditStore(db *DB, now func() time.Time) *AuditStore { return &AuditStore{db: db, now: now} }

// Record appends e, by a, in the transaction of ctx when there is one.
func (s *AuditStore) Record(ctx context.Context, a actor.Actor, e audit.Event) error {
	return s.RecordAll(ctx, a, []audit.Event{e})
}

// RecordAll appends es, by a, in one statement, in the transaction of ctx when there is one.
func (s *AuditStore) RecordAll(ctx context.Context, a actor.Actor, es []audit.Event) error {
	if len(es) == 0 {
		return nil
	}
	at := s.now().UTC().Truncate(time.Microsecond)
	if len(es) == 1 { // the request path's case: one statement written out, native types
		args, err := auditArgs(a, es[0], uuid.Must(uuid.NewV7()), at)
		if err != nil {
			return err
		}
		d := &deferred{sql: insertAuditSQL, args: args, kind: statement}
		if c := takeChange(ctx); c != nil { // the change it records, in the same statement
			d = &deferred{sql: withChange(c, insertAuditSQL), args: append(c.args, args...), constraints: c.constraints, kind: statement}
		}
		return s.db.deferOrRun(ctx, d) // with the next statement, or the COMMIT
	}
	rows := make([]auditRow, len(es))
	for i, e := range es {
		details := e.Details
		if details == nil {
			details = map[string]any{}
		}
		raw, err := json.Marshal(details)
		if err != nil {
			return err
		}
		fields := e.ChangedFields
		if fields == nil {
			fields = []string{}
		}
		rows[i] = auditRow{
			CouncilID: a.CouncilID, ID: uuid.Must(uuid.NewV7()), OccurredAt: at,
			ActorSubject: a.Subject, ActorRoles: textArray(a.RoleNames()), ActorProvider: a.ProviderID, ActorPerson: a.PersonID,
			Action: e.Action, EntityType: e.EntityType, EntityID: e.EntityID, RequestID: nonEmpty(a.RequestID),
			ChangedFields: textArray(fields), Reason: nonEmpty(e.Reason), Details: raw,
		}
	}
	return translate(insertAll(ctx, s.db.conn(ctx), rows), nil)
}

// List implements audit.Store.
func (s *AuditStore) List(ctx context.Context, councilID uuid.UUID, f audit.Filter, p page.Request) ([]audit.Record, error) {
	q := s.db.conn(ctx).Where("council_id = ?", councilID)
	if f.EntityType != "" {
		q = q.Where("entity_type = ?", f.EntityType)
	}
	if f.EntityID != nil {
		q = q.Where("entity_id = ?", *f.EntityID)
	}
	if f.Actor != "" {
		q = q.Where("actor_subject = ?", f.Actor)
	}
	if f.Action != "" {
		q = q.Where("action = ?", f.Action)
	}
	if f.From != nil {
		q = q.Where("occurred_at >= ?", *f.From)
	}
	if f.To != nil {
		q = q.Where("occurred_at < ?", *f.To)
	}
	var rows []auditRow
	if err := paginate(q, "occurred_at", p).Find(&rows).Error; err != nil {
		return nil, translate(err, nil)
	}
	out := make([]audit.Record, len(rows))
	for i, r := range rows {
		rec, err := r.domain()
		if err != nil {
			return nil, translate(err, nil)
		}
		out[i] = rec
	}
	return out, nil
}
