package postgres

import "context"

// DeferExec is deferExec, for the external tests.
func (db *DB) DeferExec(ctx context.Context, constraints map[string]error, sql string, args ...any) error {
	return db.deferExec(ctx, constraints, sql, args...)
}
