package postgres

import (
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"regexp"
	"strconv"
	"strings"
	"time"

	"github.com/google/uuid"
	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgtype"

	"github.com/pbudget/pbudget/internal/actor"
	"github.com/pbudget/pbudget/internal/audit"
	"github.com/pbudget/pbudget/internal/date"
	"github.com/pbudget/pbudget/internal/webhook/outbox"
)

// The request path's hottest statements are written out and sent through database/sql straight to
// pgx, without gorm: no reflection over the row struct, no SQL built for each call, and the
// values in pgx's native types (uuids as their 16 bytes, text arrays as []string, jsonb as its
// bytes), which pgx encodes in binary instead of parsing a driver.Valuer's string back.

// Runner is what the statements need of a transaction or of the pool.
type Runner interface {
	ExecContext(ctx context.Context, query string, args ...any) (sql.Result, error)
	QueryContext(ctx context.Context, query string, args ...any) (*sql.Rows, error)
	QueryRowContext(ctx context.Context, query string, args ...any) *sql.Row
}

// run returns the transaction of ctx, or the pool.
func (db *DB) run(ctx context.Context) Runner {
	if tx, ok := SQLTx(ctx); ok {
		return tx
	}
	return db.sql
}

// withPgx runs fn on a connection taken straight from the pool (pgxpool, no database/sql): its rows
// are decoded from PostgreSQL's binary format straight into the scan targets, without
// database/sql's driver.Value conversions. Outside a transaction only (in one, ownTx.send).
func (db *DB) withPgx(ctx context.Context, fn func(*pgx.Conn) error) error {
	c, err := db.pool.Acquire(ctx)
	if err != nil {
		return err
	}
	defer c.Release()
	return fn(c.Conn())
}

// pgDate scans a PostgreSQL date into a date.Date.
type pgDate date.Date

func (d *pgDate) ScanDate(v pgtype.Date) error {
	if !v.Valid || v.InfinityModifier != pgtype.Finite {
		return errors.New("date: not a finite date")
	}
	*d = pgDate(date.Of(v.Time.Year(), v.Time.Month(), v.Time.Day()))
	return nil
}

// InTx reports whether ctx carries a transaction of db (outbox.Service skips a savepoint then).
func (db *DB) InTx(ctx context.Context) bool { return InTx(ctx) }

// uuidOrNil is a nullable uuid as pgx encodes it directly.
func uuidOrNil(id *uuid.UUID) any {
	if id == nil {
		return nil
	}
	return [16]byte(*id)
}

func stringOrNil(s string) any {
	if s == "" {
		return nil
	}
	return s
}

// auditArgs are the 14 values of one audit event's row, in insertAuditSQL's order.
func auditArgs(a actor.Actor, e audit.Event, id uuid.UUID, at time.Time) ([]any, error) {
	details := e.Details
	if details == nil {
		details = map[string]any{}
	}
	raw, err := json.Marshal(details)
	if err != nil {
		return nil, err
	}
	fields := e.ChangedFields
	if fields == nil {
		fields = []string{}
	}
	roles := a.RoleNames()
	if roles == nil {
		roles = []string{}
	}
	return []any{uuidArg(a.CouncilID), uuidArg(id), at, a.Subject, roles, uuidOrNil(a.ProviderID), uuidOrNil(a.PersonID),
		e.Action, e.EntityType, uuidArg(e.EntityID), stringOrNil(a.RequestID), fields, stringOrNil(e.Reason), raw}, nil
}

const insertAuditSQL = `INSERT INTO audit_events (council_id, id, occurred_at, actor_subject, actor_roles, actor_provider,
	actor_person, action, entity_type, entity_id, request_id, changed_fields, reason, details)
	VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14)`

// insertEventSQL writes an outbox event ($n from $15): fanned out to no one at once when no
// active subscription of its council takes its type (its fan-out would make no delivery), and
// says whether it was.
var insertEventSQL = eventSQL("$20", "$21", "")

// eventSQL is the statement of insertEventSQL with the event's person and provider as the
// expressions given, read from the clause from.
func eventSQL(person, provider, from string) string {
	return `INSERT INTO webhook_events (council_id, id, type, resource_id, path, person_id, provider_id,
	occurred_at, fanned_out_at, subscriptions)
	SELECT $15, $16, $17, $18, $19, ` + person + `, ` + provider + `, $22,
	       CASE WHEN EXISTS (SELECT 1 FROM webhook_subscriptions ws WHERE ws.council_id = $15 AND ws.status = 'active'
	                         AND $17::text = ANY (ws.event_types)) THEN NULL ELSE $22::timestamptz END, 0` + from + `
	RETURNING fanned_out_at IS NOT NULL`
}

func eventArgs(e outbox.Stored) []any {
	return []any{uuidArg(e.Event.CouncilID), uuidArg(e.EventID), string(e.Event.Type), uuidArg(e.Event.ID), e.Event.Path,
		uuidOrNil(e.Event.PersonID), uuidOrNil(e.Event.ProviderID), e.OccurredAt}
}

// auditEventSQL is, per announced record type, the audit event and its outbox event in one
// statement that also reads whom the record is about (its person and provider, subjectTables)
// when the event does not say: the lookup costs no round trip of its own.
var auditEventSQL = func() map[string]string {
	m := map[string]string{"person": `WITH audit AS (` + insertAuditSQL + `) ` + eventSQL("COALESCE($20::uuid, $18::uuid)", "$21::uuid", "")}
	for entity, q := range subjectTables {
		m[entity] = `WITH audit AS (` + insertAuditSQL + `) ` + eventSQL("COALESCE($20::uuid, s.person_id)", "COALESCE($21::uuid, s.provider_id)",
			"\n\tFROM (SELECT 1) one LEFT JOIN LATERAL ("+q+" WHERE council_id = $15 AND id = $18) s ON true")
	}
	return m
}()

// insertEventAloneSQL is insertEventSQL on its own, its $15… renumbered $1….
var insertEventAloneSQL = func() string {
	s := insertEventSQL
	for i := 22; i >= 15; i-- {
		s = strings.ReplaceAll(s, "$"+strconv.Itoa(i), "$"+strconv.Itoa(i-14))
	}
	return s
}()

// ReadsSubjects implements outbox.SubjectsInline: RecordWithEvent reads the event's person and
// provider from the record's table (subjectTables), as WebhookStore.Subject does.
func (s *AuditStore) ReadsSubjects() bool { return true }

// RecordWithEvent implements outbox.EventRecorder: e and the outbox event ev in one statement (one
// round trip), in the transaction of ctx, which it requires; the statement reads ev's person and
// provider itself when ev does not carry them (outbox.SubjectsInline). It reports whether ev was
// fanned out to no one at once (no subscription takes it), so that no fan-out job is needed.
func (s *AuditStore) RecordWithEvent(ctx context.Context, a actor.Actor, e audit.Event, ev outbox.Stored) (bool, error) {
	t, ok := ownTxOf(ctx)
	if !ok {
		return false, errOutsideTx
	}
	at := s.now().UTC().Truncate(time.Microsecond)
	args, err := auditArgs(a, e, uuid.Must(uuid.NewV7()), at)
	if err != nil {
		return false, err
	}
	q, ok := auditEventSQL[ev.Event.Type.Object()]
	if !ok {
		q = `WITH audit AS (` + insertAuditSQL + `) ` + insertEventSQL
	}
	args = append(args, eventArgs(ev)...)
	var constraints map[string]error
	if d := takeChange(ctx); d != nil { // the change it records, in the same statement
		q, args, constraints = withChange(d, q), append(d.args, args...), d.constraints
	}
	var fanned bool
	err = t.send(ctx, q, args, &fanned)
	return fanned, translate(err, constraints)
}

// withChange is the audit statement q with the deferred change d before it, as a data-modifying
// CTE: d's parameters first, q's renumbered after them.
func withChange(d *deferred, q string) string {
	n := len(d.args)
	q = placeholder.ReplaceAllStringFunc(q, func(p string) string {
		i, _ := strconv.Atoi(p[1:])
		return "$" + strconv.Itoa(i+n)
	})
	if strings.HasPrefix(q, "WITH ") {
		return "WITH change AS (" + d.sql + "), " + strings.TrimPrefix(q, "WITH ")
	}
	return "WITH change AS (" + d.sql + ") " + q
}

// placeholder is a positional parameter of a statement.
var placeholder = regexp.MustCompile(`\$[0-9]+`)
