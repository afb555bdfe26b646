// Package txn names what domain services need of the database's transactions: one command, one
// transaction, carried by the context so that stores and the audit trail join it.
package txn

import "context"

// Transactor runs fn in one database transaction carried by the context fn receives; called within
// another, it joins it (a savepoint). fn's error rolls the transaction back and is returned.
type Transactor interface {
	WithinTx(ctx context.Context, fn func(ctx context.Context) error) error
}

// Joiner is a Transactor that can run a command as part of its caller's transaction without a
// savepoint of its own (postgres.DB): for a command another command calls as one of its steps and
// whose error that command returns (a budget agreed by a plan's sign-off), a round trip fewer.
// Should the caller go on after the step failed, its transaction does not commit.
type Joiner interface {
	JoinTx(ctx context.Context, fn func(ctx context.Context) error) error
}

// Join runs fn as a step of the transaction of ctx (Joiner.JoinTx) when tx can, else in
// tx.WithinTx. A step whose error a caller handles and goes on from (a not-found it expects)
// must use WithinTx: its savepoint is what undoes the step's writes.
func Join(ctx context.Context, tx Transactor, fn func(ctx context.Context) error) error {
	if j, ok := tx.(Joiner); ok {
		return j.JoinTx(ctx, fn)
	}
	return tx.WithinTx(ctx, fn)
}
