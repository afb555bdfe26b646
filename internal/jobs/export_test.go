package jobs

import (
	"context"
	"errors"

	"github.com/jackc/pgx/v5"
	"github.com/riverqueue/river"

	"github.com/pbudget/pbudget/internal/postgres"
)

// NewQueueWithWorkers is New with more workers: tests add kinds of their own.
var NewQueueWithWorkers = newQueue

// InsertManyTx inserts jobs of any kind in the transaction ctx carries.
func (q *Queue) InsertManyTx(ctx context.Context, params []river.InsertManyParams) error {
	ok, err := postgres.PgxTx(ctx, func(tx pgx.Tx) error {
		_, err := q.inserter.InsertManyTx(ctx, tx, params)
		return err
	})
	if !ok {
		return errors.New("no transaction")
	}
	return err
}
