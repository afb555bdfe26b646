package postgres

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/google/uuid"
	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"
	"github.com/jackc/pgx/v5/stdlib"

	"github.com/pbudget/pbudget/internal/access"
	"github.com/pbudget/pbudget/internal/page"
)

type accessRow struct {
	CouncilID     uuid.UUID `gorm:"primaryKey"`
	OccurredAt    time.Time `gorm:"primaryKey"`
	ID            uuid.UUID `gorm:"primaryKey"`
	ActorSubject  string
	ActorRoles    textArray
	ActorProvider *uuid.UUID
	Operation     string
	EntityType    string
	EntityID      uuid.UUID
	PersonID      uuid.UUID
	Filters       textArray
	RequestID     *string
}

func (accessRow) TableName() string { return "access_records" }

func (r accessRow) domain() access.Record {
	return access.Record{
		CouncilID: r.CouncilID, ID: r.ID, OccurredAt: r.OccurredAt.UTC(), ActorSubject: r.ActorSubject,
		ActorRoles: []string(r.ActorRoles), ActorProvider: r.ActorProvider, Operation: r.Operation,
		Read:    access.Read{EntityType: r.EntityType, EntityID: r.EntityID, PersonID: r.PersonID},
		Filters: []string(r.Filters), RequestID: deref(r.RequestID),
	}
}

// AccessStore appends to and reads the access records.
type AccessStore struct{ db *DB }

// NewAccessStore returns an AccessStore.
func NewAccessStore(db *DB) *AccessStore { return &AccessStore{db: db} }

var accessColumns = []string{"council_id", "id", "occurred_at", "actor_subject", "actor_roles", "actor_provider",
	"operation", "entity_type", "entity_id", "person_id", "filters", "request_id"}

// Insert implements access.Inserter with one COPY: the cheapest way PostgreSQL takes many rows
// (one statement, no per-row parsing or planning). Records the database refuses for their content
// (a data or constraint error) come back as access.ErrRejected.
func (s *AccessStore) Insert(ctx context.Context, recs []access.Record) error {
	rows := make([][]any, len(recs))
	for i, r := range recs {
		var provider any
		if r.ActorProvider != nil {
			provider = uuidArg(*r.ActorProvider)
		}
		var requestID any
		if r.RequestID != "" {
			requestID = r.RequestID
		}
		filters := r.Filters
		if filters == nil {
			filters = []string{}
		}
		rows[i] = []any{uuidArg(r.CouncilID), uuidArg(r.ID), r.OccurredAt, r.ActorSubject, r.ActorRoles, provider,
			r.Operation, r.EntityType, uuidArg(r.EntityID), uuidArg(r.PersonID), filters, requestID}
	}
	conn, err := s.db.sql.Conn(ctx)
	if err != nil {
		return err
	}
	defer conn.Close()
	err = conn.Raw(func(driverConn any) error {
		c, ok := driverConn.(*stdlib.Conn)
		if !ok {
			return fmt.Errorf("access records: the pool's driver is %T, not pgx", driverConn)
		}
		_, err := c.Conn().CopyFrom(ctx, pgx.Identifier{"access_records"}, accessColumns, pgx.CopyFromRows(rows))
		return err
	})
	var pgErr *pgconn.PgError
	if errors.As(err, &pgErr) && (pgErr.Code[:2] == "22" || pgErr.Code[:2] == "23") {
		// The message may quote values: keep the code and constraint only.
		return fmt.Errorf("%w: postgres %s on %s", access.ErrRejected, pgErr.Code, pgErr.ConstraintName)
	}
	if pgErr != nil {
		return fmt.Errorf("postgres %s writing access records", pgErr.Code)
	}
	return err
}

// List implements access.Store: each filter is served by an index led by council_id and ending
// in the cursor's (occurred_at, id).
func (s *AccessStore) List(ctx context.Context, councilID uuid.UUID, f access.Filter, p page.Request) ([]access.Record, error) {
	q := s.db.conn(ctx).Where("council_id = ?", uuidArg(councilID))
	if f.PersonID != nil {
		q = q.Where("person_id = ?", uuidArg(*f.PersonID))
	}
	if f.EntityID != nil {
		q = q.Where("entity_id = ?", uuidArg(*f.EntityID))
	}
	if f.Actor != "" {
		q = q.Where("actor_subject = ?", f.Actor)
	}
	if f.From != nil {
		q = q.Where("occurred_at >= ?", *f.From)
	}
	if f.To != nil {
		q = q.Where("occurred_at < ?", *f.To)
	}
	var rows []accessRow
	if err := paginate(q, "occurred_at", p).Find(&rows).Error; err != nil {
		return nil, translate(err, nil)
	}
	out := make([]access.Record, len(rows))
	for i, r := range rows {
		out[i] = r.domain()
	}
	return out, nil
}
