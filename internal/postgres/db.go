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
	"time"

	"github.com/google/uuid"
	"github.com/jackc/pgx/v5/pgconn"
	pgdriver "gorm.io/driver/postgres"
	"gorm.io/gorm"
	"gorm.io/gorm/clause"
	"gorm.io/gorm/logger"

	"github.com/pbudget/pbudget/internal/apperr"
)

// DB is the connection pool and the transaction manager.
type DB struct {
	gorm *gorm.DB
	sql  *sql.DB
}

// Open connects to dsn and checks the connection.
func Open(ctx context.Context, dsn string, maxConns int, log *slog.Logger) (*DB, error) {
	g, err := gorm.Open(pgdriver.Open(dsn), &gorm.Config{
		SkipDefaultTransaction: true,
		QueryFields:            true,
		TranslateError:         true,
		NowFunc:                func() time.Time { return time.Now().UTC().Truncate(time.Microsecond) },
		Logger: logger.NewSlogLogger(log, logger.Config{
			SlowThreshold:             500 * time.Millisecond,
			LogLevel:                  logger.Warn,
			IgnoreRecordNotFoundError: true,
			ParameterizedQueries:      true, // never log values: they may be personal data
		}),
	})
	if err != nil {
		return nil, fmt.Errorf("open database: %w", err)
	}
	sqlDB, err := g.DB()
	if err != nil {
		return nil, err
	}
	sqlDB.SetMaxOpenConns(maxConns)
	sqlDB.SetMaxIdleConns(maxConns)
	sqlDB.SetConnMaxIdleTime(5 * time.Minute)
	sqlDB.SetConnMaxLifetime(time.Hour)
	if err := sqlDB.PingContext(ctx); err != nil {
		sqlDB.Close()
		return nil, fmt.Errorf("connect to database: %w", err)
	}
	return &DB{gorm: g, sql: sqlDB}, nil
}

// SQL returns the underlying pool, for migrations and pool metrics.
func (db *DB) SQL() *sql.DB { return db.sql }

// Close closes the pool.
func (db *DB) Close() error { return db.sql.Close() }

// Ping checks that the database answers.
func (db *DB) Ping(ctx context.Context) error { return db.sql.PingContext(ctx) }

type txKey struct{}

// hooks are the functions to run once a transaction commits; each savepoint has its own, handed to
// its parent when it is released and dropped when it rolls back.
type hooks struct{ fns []func() }

type hooksKey struct{}

// WithinTx runs fn in a transaction carried by the context fn receives. Called inside another
// WithinTx, it runs in a savepoint of the same transaction. fn's error rolls back and is returned.
// The functions registered with AfterCommit run once the outermost transaction has committed.
func (db *DB) WithinTx(ctx context.Context, fn func(ctx context.Context) error) error {
	parent, nested := ctx.Value(hooksKey{}).(*hooks)
	nested = nested && InTx(ctx)
	mine := &hooks{}
	err := db.conn(ctx).Transaction(func(tx *gorm.DB) error {
		return fn(context.WithValue(context.WithValue(ctx, txKey{}, tx), hooksKey{}, mine))
	})
	if err != nil {
		return err
	}
	if nested {
		parent.fns = append(parent.fns, mine.fns...)
		return nil
	}
	for _, f := range mine.fns {
		f()
	}
	return nil
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

// conn returns a fresh query builder on the context's transaction, or on the pool.
func (db *DB) conn(ctx context.Context) *gorm.DB {
	if tx, ok := ctx.Value(txKey{}).(*gorm.DB); ok {
		return tx.Session(&gorm.Session{NewDB: true, Context: ctx})
	}
	return db.gorm.Session(&gorm.Session{NewDB: true, Context: ctx})
}

// InTx reports whether ctx carries a transaction.
func InTx(ctx context.Context) bool {
	_, ok := ctx.Value(txKey{}).(*gorm.DB)
	return ok
}

// translate turns database errors into domain errors: no row becomes not found, and the unique
// and check constraints named in byConstraint become their errors. Anything else is internal.
func translate(err error, byConstraint map[string]error) error {
	if err == nil {
		return nil
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
		return apperr.ErrInternal.Wrap(fmt.Errorf("postgres %s on %s.%s", pgErr.Code, pgErr.TableName, pgErr.ConstraintName))
	}
	var ae *apperr.Error
	if errors.As(err, &ae) {
		return err
	}
	return apperr.ErrInternal.Wrap(err)
}

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
