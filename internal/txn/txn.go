// Package txn names what domain services need of the database's transactions: one command, one
// transaction, carried by the context so that stores and the audit trail join it.
package txn

import "context"

// Transactor runs fn in one database transaction carried by the context fn receives; called within
// another, it joins it (a savepoint). fn's error rolls the transaction back and is returned.
type Transactor interface {
	WithinTx(ctx context.Context, fn func(ctx context.Context) error) error
}
