package postgres

import (
	"bytes"
	"context"
	"encoding/binary"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/google/uuid"
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
	ActorPerson   *uuid.UUID
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
		ActorRoles: []string(r.ActorRoles), ActorProvider: r.ActorProvider, ActorPerson: r.ActorPerson, Operation: r.Operation,
		Read:    access.Read{EntityType: r.EntityType, EntityID: r.EntityID, PersonID: r.PersonID},
		Filters: []string(r.Filters), RequestID: deref(r.RequestID),
	}
}

// AccessStore appends to and reads the access records.
type AccessStore struct{ db *DB }

// NewAccessStore returns an AccessStore.
func NewAccessStore(db *DB) *AccessStore { return &AccessStore{db: db} }

var accessColumns = []string{"council_id", "id", "occurred_at", "actor_subject", "actor_roles", "actor_provider",
	"operation", "entity_type", "entity_id", "person_id", "filters", "request_id", "actor_person"}

var accessCopy = "COPY access_records (" + strings.Join(accessColumns, ", ") + ") FROM STDIN (FORMAT binary)"

// Insert implements access.Inserter with one COPY in PostgreSQL's binary format: the cheapest way
// PostgreSQL takes many rows (one statement, no per-row parsing or planning). The rows are encoded
// here rather than by pgx's CopyFrom, which boxes and reflects on every value (about twenty
// allocations a row, a read's worth of garbage per read: make bench). Records the database
// refuses for their content (a data or constraint error) come back as access.ErrRejected.
func (s *AccessStore) Insert(ctx context.Context, recs []access.Record) error {
	data := encodeAccessRows(make([]byte, 0, 64+len(recs)*320), recs)
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
		_, err := c.Conn().PgConn().CopyFrom(ctx, bytes.NewReader(data), accessCopy)
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

// pgEpoch is where PostgreSQL's binary timestamps count from.
var pgEpoch = time.Date(2000, 1, 1, 0, 0, 0, 0, time.UTC)

const textOID = 25

// encodeAccessRows appends recs to b in the binary COPY format: a signature and header, per row
// the field count and each field's length and bytes (-1 for NULL), and a trailer. uuid is its 16
// bytes, timestamptz microseconds since 2000, text its UTF-8 bytes, text[] a one-dimensional array.
func encodeAccessRows(b []byte, recs []access.Record) []byte {
	b = append(b, "PGCOPY\n\xff\r\n\x00"...)
	b = binary.BigEndian.AppendUint32(b, 0) // flags
	b = binary.BigEndian.AppendUint32(b, 0) // header extension
	uuidField := func(b []byte, id *uuid.UUID) []byte {
		if id == nil {
			return binary.BigEndian.AppendUint32(b, 0xFFFFFFFF)
		}
		return append(binary.BigEndian.AppendUint32(b, 16), id[:]...)
	}
	textField := func(b []byte, s string) []byte {
		return append(binary.BigEndian.AppendUint32(b, uint32(len(s))), s...)
	}
	arrayField := func(b []byte, elems []string) []byte {
		size := 12
		if len(elems) > 0 {
			size += 8
		}
		for _, e := range elems {
			size += 4 + len(e)
		}
		b = binary.BigEndian.AppendUint32(b, uint32(size))
		if len(elems) == 0 {
			b = binary.BigEndian.AppendUint32(b, 0) // no dimensions: an empty array
			b = binary.BigEndian.AppendUint32(b, 0)
			return binary.BigEndian.AppendUint32(b, textOID)
		}
		b = binary.BigEndian.AppendUint32(b, 1) // one dimension
		b = binary.BigEndian.AppendUint32(b, 0) // no NULL elements
		b = binary.BigEndian.AppendUint32(b, textOID)
		b = binary.BigEndian.AppendUint32(b, uint32(len(elems)))
		b = binary.BigEndian.AppendUint32(b, 1) // lower bound
		for _, e := range elems {
			b = textField(b, e)
		}
		return b
	}
	for i := range recs {
		r := &recs[i]
		b = binary.BigEndian.AppendUint16(b, uint16(len(accessColumns)))
		b = uuidField(b, &r.CouncilID)
		b = uuidField(b, &r.ID)
		b = binary.BigEndian.AppendUint32(b, 8)
		b = binary.BigEndian.AppendUint64(b, uint64(r.OccurredAt.Sub(pgEpoch).Microseconds()))
		b = textField(b, r.ActorSubject)
		b = arrayField(b, r.ActorRoles)
		b = uuidField(b, r.ActorProvider)
		b = textField(b, r.Operation)
		b = textField(b, r.EntityType)
		b = uuidField(b, &r.EntityID)
		b = uuidField(b, &r.PersonID)
		b = arrayField(b, r.Filters)
		if r.RequestID == "" {
			b = binary.BigEndian.AppendUint32(b, 0xFFFFFFFF)
		} else {
			b = textField(b, r.RequestID)
		}
		b = uuidField(b, r.ActorPerson)
	}
	return binary.BigEndian.AppendUint16(b, 0xFFFF) // trailer
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
