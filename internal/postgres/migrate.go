package postgres

import (
	"context"
	"database/sql"
	"fmt"
	"io/fs"
	"log/slog"

	"github.com/pressly/goose/v3"
	"github.com/pressly/goose/v3/lock"

	"github.com/pbudget/pbudget/migrations"
)

// migrationLockID is the advisory lock key under which migrations run, so that instances starting
// together apply each migration once.
const migrationLockID = 7_470_352_910_114_231

func gooseProvider(db *sql.DB, log *slog.Logger) (*goose.Provider, error) {
	locker, err := lock.NewPostgresSessionLocker(lock.WithLockID(migrationLockID), lock.WithLockTimeout(1, 600))
	if err != nil {
		return nil, err
	}
	opts := []goose.ProviderOption{goose.WithSessionLocker(locker)}
	if log != nil {
		opts = append(opts, goose.WithSlog(log))
	}
	return goose.NewProvider(goose.DialectPostgres, db, migrations.FS, opts...)
}

// Migrate applies pending migrations under the advisory lock and returns the schema version.
func Migrate(ctx context.Context, db *sql.DB, log *slog.Logger) (int64, error) {
	p, err := gooseProvider(db, log)
	if err != nil {
		return 0, err
	}
	if _, err := p.Up(ctx); err != nil {
		return 0, fmt.Errorf("migrate: %w", err)
	}
	return p.GetDBVersion(ctx)
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
