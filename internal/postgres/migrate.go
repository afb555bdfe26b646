package postgres

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"log/slog"

	"github.com/pressly/goose/v3"
	"github.com/pressly/goose/v3/lock"
	"github.com/riverqueue/river/riverdriver/riverdatabasesql"
	"github.com/riverqueue/river/rivermigrate"

	"github.com/pbudget/pbudget/migrations"
)

// migrationLockID is the advisory lock key under which migrations run, so that instances starting
// together apply each migration once.
const migrationLockID = 7_470_352_910_114_231

func gooseProvider(db *sql.DB, log *slog.Logger) (*goose.Provider, error) {
	var opts []goose.ProviderOption
	if log != nil {
		opts = append(opts, goose.WithSlog(log))
	}
	return goose.NewProvider(goose.DialectPostgres, db, migrations.FS, opts...)
}

// Migrate applies, under one advisory lock, the service's pending migrations and then River's
// (the job queue's tables, rivermigrate), and returns the service's schema version. The lock is
// held on a connection of its own while the migrations run on others, so db needs two.
func Migrate(ctx context.Context, db *sql.DB, log *slog.Logger) (int64, error) {
	if db.Stats().MaxOpenConnections == 1 {
		return 0, errors.New("migrate: the pool needs at least two connections (one holds the lock)")
	}
	locker, err := lock.NewPostgresSessionLocker(lock.WithLockID(migrationLockID), lock.WithLockTimeout(1, 600))
	if err != nil {
		return 0, err
	}
	conn, err := db.Conn(ctx)
	if err != nil {
		return 0, fmt.Errorf("migrate: %w", err)
	}
	defer conn.Close()
	if err := locker.SessionLock(ctx, conn); err != nil {
		return 0, fmt.Errorf("migrate: %w", err)
	}
	defer func() { _ = locker.SessionUnlock(context.WithoutCancel(ctx), conn) }()

	p, err := gooseProvider(db, log)
	if err != nil {
		return 0, err
	}
	if _, err := p.Up(ctx); err != nil {
		return 0, fmt.Errorf("migrate: %w", err)
	}
	if err := migrateRiver(ctx, db, log); err != nil {
		return 0, err
	}
	return p.GetDBVersion(ctx)
}

// migrateRiver brings River's tables (river_job, river_leader, river_queue …) to the version the
// linked River needs; it logs each migration it applies.
func migrateRiver(ctx context.Context, db *sql.DB, log *slog.Logger) error {
	if log == nil {
		log = slog.New(slog.NewTextHandler(io.Discard, nil))
	}
	m, err := rivermigrate.New(riverdatabasesql.New(db), &rivermigrate.Config{Logger: log})
	if err != nil {
		return fmt.Errorf("migrate river: %w", err)
	}
	if _, err := m.Migrate(ctx, rivermigrate.DirectionUp, nil); err != nil {
		return fmt.Errorf("migrate river: %w", err)
	}
	return nil
}

// TargetVersion returns the newest migration embedded in the binary.
func TargetVersion() (int64, error) {
	names, err := fs.Glob(migrations.FS, "*.sql")
	if err != nil {
		return 0, err
	}
	var target int64
	for _, name := range names {
		v, err := goose.NumericComponent(name)
		if err != nil {
			return 0, err
		}
		target = max(target, v)
	}
	return target, nil
}

// SchemaVersion returns the newest migration applied to the database, without taking the lock,
// or an error when none is.
func (db *DB) SchemaVersion(ctx context.Context) (int64, error) {
	var v sql.NullInt64
	err := db.sql.QueryRowContext(ctx, `SELECT max(version_id) FROM goose_db_version WHERE is_applied`).Scan(&v)
	if err != nil {
		return 0, err
	}
	if !v.Valid {
		return 0, fmt.Errorf("no migration applied")
	}
	return v.Int64, nil
}
