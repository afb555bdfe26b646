// Package postgres is the PostgreSQL side of every store, through gorm: opening the pool, the
// transaction carried in the context, migrations under an advisory lock, and one file of row
// structs and queries per domain. gorm types never leave this package.
package postgres

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"log/slog"
	"strings"
	"time"

	"github.com/google/uuid"
	"github.com/jackc/pgx/v5/pgconn"
	"github.com/jackc/pgx/v5/pgxpool"
	"github.com/jackc/pgx/v5/stdlib"
	"github.com/prometheus/client_golang/prometheus"
	pgdriver "gorm.io/driver/postgres"
	"gorm.io/gorm"
	"gorm.io/gorm/clause"
	"gorm.io/gorm/logger"

	"github.com/pbudget/pbudget/internal/apperr"
)

// DB is the connection pool and the transaction manager.
type DB struct {
	gorm *gorm.DB
	sql  *sql.DB // over pool (stdlib.OpenDBFromPool): one pool of connections for both
	pool *pgxpool.Pool
	// txs and trips count the transactions WithinTx ran and the round trips they made (ownTx):
	// how many BEGIN and COMMIT went along with other statements shows in their ratio.
	txs, trips prometheus.Counter
}

// Open connects to dsn and checks the connection: one pool of maxConns connections (pgxpool), which
// database/sql draws on too (stdlib.OpenDBFromPool: it keeps no idle connections of its own), so
// that the reads that go to pgx directly (withPgx) take a connection without database/sql's pool
// in the way (make bench: a fifth more reads a second at 64 clients).
func Open(ctx context.Context, dsn string, maxConns int, log *slog.Logger) (*DB, error) {
	cfg, err := pgxpool.ParseConfig(dsn)
	if err != nil {
		return nil, fmt.Errorf("open database: %w", err)
	}
	cfg.MaxConns = int32(maxConns)
	cfg.MaxConnIdleTime = 5 * time.Minute
	cfg.MaxConnLifetime = time.Hour
	pool, err := pgxpool.NewWithConfig(ctx, cfg)
	if err != nil {
		return nil, fmt.Errorf("open database: %w", err)
	}
	sqlDB := stdlib.OpenDBFromPool(pool)
	g, err := gorm.Open(pgdriver.New(pgdriver.Config{Conn: sqlDB}), &gorm.Config{
		SkipDefaultTransaction: true,
		QueryFields:            true,
		TranslateError:         true,
		NowFunc:                func() time.Time { return time.Now().UTC().Truncate(time.Microsecond) },
		Logger:                 newLogger(log),
	})
	if err != nil {
		return nil, fmt.Errorf("open database: %w", err)
	}
	sqlDB.SetMaxOpenConns(maxConns)
	if err := pool.Ping(ctx); err != nil {
		sqlDB.Close()
		pool.Close()
		return nil, fmt.Errorf("connect to database: %w", err)
	}
	return &DB{gorm: g, sql: sqlDB, pool: pool,
		txs: prometheus.NewCounter(prometheus.CounterOpts{Name: "pbudget_db_transactions_total",
			Help: "Transactions run (committed, rolled back, or with nothing to send), savepoints not counted."}),
		trips: prometheus.NewCounter(prometheus.CounterOpts{Name: "pbudget_db_transaction_round_trips_total",
			Help: "Round trips to the database the transactions made: BEGIN and COMMIT count only when they went on their own."}),
	}, nil
}

// Collectors are the pool's and the transactions' metrics.
func (db *DB) Collectors() []prometheus.Collector {
	return []prometheus.Collector{db.txs, db.trips, newPoolCollector(db.pool)}
}

// SQL returns the underlying pool, for migrations and pool metrics.
func (db *DB) SQL() *sql.DB { return db.sql }

// Close closes the pool.
func (db *DB) Close() error {
	err := db.sql.Close()
	db.pool.Close()
	return err
}

// Ping checks that the database answers.
func (db *DB) Ping(ctx context.Context) error { return db.sql.PingContext(ctx) }

type txKey struct{}

// hooks are the functions to run once a transaction commits; each savepoint has its own, handed to
// its parent when it is released and dropped when it rolls back. joinFailed is the error of a
// command that joined this transaction (or savepoint) without one of its own (JoinTx), or of a
// deferred statement that failed when it was sent.
type hooks struct {
	fns        []func()
	joinFailed error
	top        bool // the transaction itself, not a savepoint
	ended      bool // committed or rolled back: nothing more is deferred
}

// deferred is a statement whose result no one waits for, sent with the transaction's next
// statement (in the same pipeline, or as a CTE of the audit statement) or with its COMMIT.
type deferred struct {
	sql         string
	args        []any
	constraints map[string]error
	kind        deferredKind
}

type deferredKind int

const (
	change    deferredKind = iota // a change, which the audit statement after it may take along as a CTE
	statement                     // any other: the audit statement itself, a stored response
	savepoint                     // SAVEPOINT, which a transaction that sends nothing else does not need
)

// deferExec runs the change sql in the transaction of ctx, or, at the top of a transaction (not
// in a savepoint), keeps it to go with the next statement of the audit trail (AuditStore), which
// sends it as a data-modifying CTE of its own statement: the change and its audit event in one
// statement. Any other statement of the transaction takes it along in the same pipeline, as does
// the COMMIT. Only a change the audit statement does not read is deferred (a statement does not
// see its own CTEs' rows): a new person, whose events name the person by id.
func (db *DB) deferExec(ctx context.Context, constraints map[string]error, sql string, args ...any) error {
	return db.deferOrRun(ctx, &deferred{sql: sql, args: args, constraints: constraints, kind: change})
}

// deferOrRun queues d (queue), or runs it at once where nothing can wait.
func (db *DB) deferOrRun(ctx context.Context, d *deferred) error {
	if queue(ctx, d) {
		return nil
	}
	return translate(db.exec(ctx, d.sql, d.args...), d.constraints)
}

// queue keeps d to go with the transaction's next statement or its COMMIT, when ctx is
// at the top of a transaction (not in a savepoint: a savepoint's failure must surface in it);
// false otherwise, d not kept. d's error is then the transaction's, when it is sent (firstFailure).
// d's arguments are encoded when it is sent: the caller must not change what they point to.
func queue(ctx context.Context, d *deferred) bool {
	h, ok := ctx.Value(hooksKey{}).(*hooks)
	if !ok || !h.top || h.ended {
		return false
	}
	t, ok := ownTxOf(ctx)
	if !ok || t.failed != nil {
		return false
	}
	t.pending = append(t.pending, d)
	return true
}

// exec runs q in the transaction of ctx (with what waits to be sent, and BEGIN when it is the
// first statement, in the same round trip), or on the pool.
func (db *DB) exec(ctx context.Context, q string, args ...any) error {
	if t, ok := ownTxOf(ctx); ok {
		return t.send(ctx, q, args)
	}
	_, err := db.sql.ExecContext(ctx, q, args...)
	return err
}

// deferStatement is deferExec for a statement that is not a change an audit statement may take
// along: it waits to go with the transaction's next statement or its COMMIT, or runs at once.
func (db *DB) deferStatement(ctx context.Context, sql string, args ...any) error {
	return db.deferOrRun(ctx, &deferred{sql: sql, args: args, kind: statement})
}

// queryRow runs q and scans its one row into dest: in the transaction of ctx (with what waits to
// be sent, and BEGIN when it is the first statement, in the same round trip), or on the pool.
func (db *DB) queryRow(ctx context.Context, q string, args []any, dest ...any) error {
	if t, ok := ownTxOf(ctx); ok {
		return t.send(ctx, q, args, dest...)
	}
	return db.sql.QueryRowContext(ctx, q, args...).Scan(dest...)
}

// takeChange returns the change waiting last to be sent, for the audit statement to take along as
// a CTE, and forgets it; nil when the last waiting is not a change.
func takeChange(ctx context.Context) *deferred {
	t, ok := ownTxOf(ctx)
	if !ok || len(t.pending) == 0 || t.pending[len(t.pending)-1].kind != change {
		return nil
	}
	d := t.pending[len(t.pending)-1]
	t.pending = t.pending[:len(t.pending)-1]
	return d
}

// flush sends what waits to be sent, in one round trip, before a statement that cannot take it
// along. Its error also ends the transaction (the statements after it fail, the transaction
// aborted): it is recorded as the transaction's (firstFailure).
func flush(ctx context.Context) error {
	t, ok := ownTxOf(ctx)
	if !ok || len(t.pending) == 0 {
		return nil
	}
	return t.send(ctx, "", nil)
}

// failedDeferred records the error of a deferred statement as the one the transaction (or
// savepoint) of ctx ends with.
func failedDeferred(ctx context.Context, err error) {
	if h, ok := ctx.Value(hooksKey{}).(*hooks); ok && err != nil && h.joinFailed == nil {
		h.joinFailed = err
	}
}

// JoinTx implements txn.Joiner: within a transaction, fn runs in it as it is, without a savepoint
// (a round trip fewer); fn's error is then the caller's to return, and a caller that goes on
// regardless does not commit: its transaction (or savepoint) ends with fn's error. Outside a
// transaction, JoinTx is WithinTx.
func (db *DB) JoinTx(ctx context.Context, fn func(ctx context.Context) error) error {
	h, ok := ctx.Value(hooksKey{}).(*hooks)
	if !ok || !InTx(ctx) {
		return db.WithinTx(ctx, fn)
	}
	err := fn(ctx)
	if err != nil && h.joinFailed == nil {
		h.joinFailed = err
	}
	return err
}

// firstFailure is the error a transaction (or savepoint) ends with when fn failed: fn's, unless
// it is an internal error (the statements after a failed one fail, the transaction aborted) after
// a joined step or a deferred change failed first, whose error it then is.
func firstFailure(h *hooks, err error) error {
	if h.joinFailed == nil {
		return err
	}
	var pgErr *pgconn.PgError
	if errors.Is(err, apperr.ErrInternal) || errors.As(err, &pgErr) && pgErr.Code == "25P02" { // in_failed_sql_transaction
		return h.joinFailed
	}
	return err
}

// joined is the error that ends a transaction whose fn succeeded although a command joined to it
// failed (see JoinTx).
func joined(h *hooks) error {
	if h.joinFailed == nil {
		return nil
	}
	return fmt.Errorf("a command joined to the transaction failed and its caller went on: %w", h.joinFailed)
}

type hooksKey struct{}

// WithinTx runs fn in a transaction carried by the context fn receives. Called inside another
// WithinTx, it runs in a savepoint of the same transaction. fn's error rolls back and is returned.
//
// The transaction does not end with ctx: the statements fn runs honour ctx's cancellation, so that
// the work of a request whose client went away stops early, but the transaction itself is begun
// on a context that is never cancelled, so that its commit or rollback always runs to the end. If
// ctx is done when fn returns, the transaction rolls back and ctx's error is returned. A write
// therefore commits whole (with its audit event and, under the idempotency middleware, its stored
// response) or not at all; database/sql would otherwise roll back behind fn's back the moment ctx
// is cancelled, and a commit racing the cancellation could fail or be cut off half-way.
//
// The transaction is pbudget's own on a connection held for it (ownTx), not database/sql's: its
// BEGIN and COMMIT go with the statements next to them where they can, in one round trip.
func (db *DB) WithinTx(ctx context.Context, fn func(ctx context.Context) error) error {
	mine := &hooks{}
	if _, ok := ctx.Value(txKey{}).(*gorm.DB); ok {
		// A savepoint: its after-commit functions join its parent's when it is released.
		if err := flush(ctx); err != nil {
			return err
		}
		err := db.conn(ctx).Transaction(func(tx *gorm.DB) error {
			if err := fn(context.WithValue(context.WithValue(ctx, txKey{}, tx), hooksKey{}, mine)); err != nil {
				if t, ok := ownTxOf(ctx); ok && t.failed != nil {
					return t.failed
				}
				return firstFailure(mine, err)
			}
			return joined(mine)
		})
		if err != nil {
			if m, ok := ctx.Value(memoKey{}).(*txMemo); ok {
				m.m = nil // what the savepoint read may have been its own writes, now undone
			}
			return err
		}
		if parent, ok := ctx.Value(hooksKey{}).(*hooks); ok {
			parent.fns = append(parent.fns, mine.fns...)
		}
		return nil
	}
	if err := ctx.Err(); err != nil {
		return err
	}
	ctx = context.WithValue(ctx, memoKey{}, &txMemo{})
	own := &ownTx{db: db.sql, bg: context.WithoutCancel(ctx)}
	tx := db.gorm.Session(&gorm.Session{NewDB: true, Context: own.bg})
	tx.Statement.ConnPool = own
	done := false
	defer func() {
		mine.ended = true // a context kept past the end defers nothing (its statements fail: the transaction is done)
		if !done {        // fn failed or panicked, ctx ended, or the commit failed
			own.abort()
		}
		if n, ok := ctx.Value(tripsKey{}).(*int); ok {
			*n = own.trips
		}
		db.txs.Inc()
		db.trips.Add(float64(own.trips))
		own.release()
	}()
	mine.top = true
	inner := context.WithValue(context.WithValue(ctx, txKey{}, tx), hooksKey{}, mine)
	if err := fn(inner); err != nil {
		if own.failed != nil { // BEGIN failed: fn's error is only what came of it (a *sql.Row's, the context's)
			return own.failed
		}
		return firstFailure(mine, err)
	}
	if err := joined(mine); err != nil {
		return err
	}
	if own.failed != nil { // BEGIN failed (a statement's *sql.Row cannot say so)
		return own.failed
	}
	if err := ctx.Err(); err != nil {
		return err
	}
	if err := own.finish(); err != nil {
		return err
	}
	done = true
	for _, f := range mine.fns {
		f()
	}
	return nil
}

// txMemo keeps, for one transaction, rows that a command reads more than once and that the
// transaction itself is the only one to change while it holds them (a council's settings): one
// statement instead of one a read. A write of such a row in the transaction drops it; a savepoint
// that rolls back drops everything.
type txMemo struct{ m map[any]any }

type memoKey struct{}

func memoGet[T any](ctx context.Context, key any) (T, bool) {
	var zero T
	m, ok := ctx.Value(memoKey{}).(*txMemo)
	if !ok || m.m == nil {
		return zero, false
	}
	v, ok := m.m[key].(T)
	return v, ok
}

func memoPut(ctx context.Context, key, v any) {
	if m, ok := ctx.Value(memoKey{}).(*txMemo); ok {
		if m.m == nil {
			m.m = map[any]any{}
		}
		m.m[key] = v
	}
}

func memoDrop(ctx context.Context, key any) {
	if m, ok := ctx.Value(memoKey{}).(*txMemo); ok {
		delete(m.m, key)
	}
}

// AfterCommit runs f once the transaction of ctx has committed, and never if it rolls back; at
// once when ctx carries no transaction.
func (db *DB) AfterCommit(ctx context.Context, f func()) {
	if h, ok := ctx.Value(hooksKey{}).(*hooks); ok && InTx(ctx) {
		h.fns = append(h.fns, f)
		return
	}
	f()
}

// SQLTx returns the transaction ctx carries as the database/sql statements' runner, for code
// that must write in it; false outside a transaction.
func (db *DB) SQLTx(ctx context.Context) (Runner, bool) { return SQLTx(ctx) }

// ownTxOf is the transaction of ctx, without sending a deferred change first.
func ownTxOf(ctx context.Context) (*ownTx, bool) {
	tx, ok := ctx.Value(txKey{}).(*gorm.DB)
	if !ok {
		return nil, false
	}
	t, ok := tx.Statement.ConnPool.(*ownTx)
	return t, ok
}

// slowStatement is the duration above which a statement is logged (at WARN).
const slowStatement = 500 * time.Millisecond

// newLogger is the statements' logger: slow (over 500 ms) and failed statements at WARN and
// ERROR, never with their values, which may be personal data.
func newLogger(log *slog.Logger) logger.Interface {
	return quietOnCancel{logger.NewSlogLogger(log, logger.Config{
		SlowThreshold:             slowStatement,
		LogLevel:                  logger.Warn,
		IgnoreRecordNotFoundError: true,
		ParameterizedQueries:      true, // never log values: they may be personal data
	})}
}

// quietOnCancel is gorm's logger without the ERROR line of a statement that failed because its
// context ended: the client went away, which the request's own log line records. The error is then
// not always context.Canceled: pgx's database/sql driver reports a context that ends between
// database/sql's check and its own as driver.ErrBadConn ("bad connection").
type quietOnCancel struct{ logger.Interface }

func (q quietOnCancel) LogMode(level logger.LogLevel) logger.Interface {
	return quietOnCancel{q.Interface.LogMode(level)}
}

// ParamsFilter passes on the wrapped logger's: gorm asks the logger itself (a gorm.ParamsFilter)
// which of a statement's values to write, and a logger that does not answer gets them all — a
// slow UPDATE of a CLD return logged the whole file, NHS numbers and all.
func (q quietOnCancel) ParamsFilter(ctx context.Context, sql string, params ...any) (string, []any) {
	if f, ok := q.Interface.(gorm.ParamsFilter); ok {
		return f.ParamsFilter(ctx, sql, params...)
	}
	return sql, nil
}

// Trace hands on only what is logged: a statement that failed (other than for a missing row) or
// was slow. gorm's own logger formats every statement's SQL and duration first and then decides,
// which cost a write 5–7% of its CPU (make bench) and bulk jobs as much, for nothing.
func (q quietOnCancel) Trace(ctx context.Context, begin time.Time, fc func() (string, int64), err error) {
	if err != nil && (errors.Is(err, context.Canceled) || ctx.Err() != nil) {
		return
	}
	if (err == nil || errors.Is(err, gorm.ErrRecordNotFound)) && time.Since(begin) <= slowStatement {
		return
	}
	q.Interface.Trace(ctx, begin, func() (string, int64) { sql, rows := fc(); return redactLiterals(sql), rows }, err)
}

// redactLiterals replaces the string literals of sql with '?' and its runs of six or more digits
// with ?. gorm's Scan records a Raw statement through a logger of its own that writes the values
// into the SQL, past ParamsFilter; what reaches the log must hold no values, which may be
// personal data (a postcode, an NHS number, a person's spending), whichever way gorm built it.
func redactLiterals(sql string) string {
	var b strings.Builder
	b.Grow(len(sql))
	for i := 0; i < len(sql); {
		switch c := sql[i]; {
		case c == '\'':
			j := i + 1
			for j < len(sql) {
				if sql[j] == '\'' {
					if j+1 < len(sql) && sql[j+1] == '\'' {
						j += 2
						continue
					}
					break
				}
				j++
			}
			b.WriteString("'?'")
			i = j + 1
		case c >= '0' && c <= '9' && (i == 0 || !isWordByte(sql[i-1])):
			j := i
			for j < len(sql) && sql[j] >= '0' && sql[j] <= '9' {
				j++
			}
			if j-i >= 6 {
				b.WriteByte('?')
			} else {
				b.WriteString(sql[i:j])
			}
			i = j
		default:
			b.WriteByte(c)
			i++
		}
	}
	return b.String()
}

func isWordByte(c byte) bool {
	return c == '_' || c == '$' || c >= '0' && c <= '9' || c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z'
}

// conn returns a fresh query builder on the context's transaction, or on the pool.
func (db *DB) conn(ctx context.Context) *gorm.DB {
	if tx, ok := ctx.Value(txKey{}).(*gorm.DB); ok { // its statements send what waits first (ownTx.ready)
		return tx.Session(&gorm.Session{NewDB: true, Context: ctx})
	}
	return db.gorm.Session(&gorm.Session{NewDB: true, Context: ctx})
}

// InTx reports whether ctx carries a transaction.
func InTx(ctx context.Context) bool {
	_, ok := ctx.Value(txKey{}).(*gorm.DB)
	return ok
}

// SQLTx returns the transaction that ctx carries (see WithinTx) as a Runner, for statements
// written out that must run in the same transaction as the stores; false when ctx carries none.
func SQLTx(ctx context.Context) (Runner, bool) { return ownTxOf(ctx) }

// translate turns database errors into domain errors: no row becomes not found, and the unique
// and check constraints named in byConstraint become their errors. Anything else is internal.
func translate(err error, byConstraint map[string]error) error {
	if err == nil {
		return nil
	}
	var sent sentAlready
	if errors.As(err, &sent) {
		return sent.err
	}
	if errors.Is(err, gorm.ErrRecordNotFound) {
		return apperr.ErrNotFound
	}
	var pgErr *pgconn.PgError
	if errors.As(err, &pgErr) {
		if mapped, ok := byConstraint[pgErr.ConstraintName]; ok {
			return mapped
		}
		// The PostgreSQL message may quote values (personal data): keep code and constraint only.
		cause := fmt.Errorf("postgres %s on %s.%s", pgErr.Code, pgErr.TableName, pgErr.ConstraintName)
		if client, ok := clientDataErrors[pgErr.Code]; ok {
			// Input the request validation should have refused; never a 500 (the log keeps the cause).
			return client.Wrap(cause)
		}
		return apperr.ErrInternal.Wrap(cause)
	}
	var ae *apperr.Error
	if errors.As(err, &ae) {
		return err
	}
	return apperr.ErrInternal.Wrap(err)
}

// clientDataErrors are the PostgreSQL errors that only data can cause (SQLSTATE classes 22 and
// 23 other than unique and foreign keys, which constraint names map): the request carried a value
// the database cannot hold or a rule refuses.
var clientDataErrors = map[string]*apperr.Error{
	"22001": errDataRejected, // string_data_right_truncation
	"22003": errDataRejected, // numeric_value_out_of_range
	"22007": errDataRejected, // invalid_datetime_format
	"22008": errDataRejected, // datetime_field_overflow
	"22021": errDataRejected, // character_not_in_repertoire (NUL, invalid UTF-8)
	"22P02": errDataRejected, // invalid_text_representation
	"22P05": errDataRejected, // untranslatable_character
	"23502": errDataRejected, // not_null_violation
	"23514": errDataRejected, // check_violation
}

var errDataRejected = apperr.New(apperr.Invalid, "data-rejected",
	"a value in the request cannot be stored (out of range, blank or not valid text)")

// uuidArg passes a UUID to pgx as its 16 bytes, which pgx encodes directly; a uuid.UUID goes
// through its driver.Valuer (a string, parsed again) on every call.
func uuidArg(id uuid.UUID) [16]byte { return id }

// takeOne reads the one row of R matching where, locked FOR UPDATE when forUpdate;
// apperr.ErrNotFound when there is none.
func takeOne[R any](q *gorm.DB, forUpdate bool, where string, args ...any) (R, error) {
	var r R
	q = q.Where(where, args...)
	if forUpdate {
		q = q.Clauses(clause.Locking{Strength: "UPDATE"})
	}
	return r, translate(q.Take(&r).Error, nil)
}

// childrenOf reads, in order, the rows of C whose column is one of parents, all of one council:
// one query for the children of a page of parents.
func childrenOf[C any](q *gorm.DB, councilID uuid.UUID, column string, parents []uuid.UUID, order string) ([]C, error) {
	ids := make([][16]byte, len(parents))
	for i, id := range parents {
		ids[i] = uuidArg(id)
	}
	var rows []C
	err := q.Where("council_id = ? AND "+column+" IN ?", uuidArg(councilID), ids).Order(order).Find(&rows).Error
	return rows, translate(err, nil)
}
