package postgres

import "context"

// DeferExec is deferExec, for the external tests.
func (db *DB) DeferExec(ctx context.Context, constraints map[string]error, sql string, args ...any) error {
	return db.deferExec(ctx, constraints, sql, args...)
}

// CountTrips is ctx with n to receive the round trips of the transaction WithinTx runs on it.
func CountTrips(ctx context.Context, n *int) context.Context {
	return context.WithValue(ctx, tripsKey{}, n)
}
