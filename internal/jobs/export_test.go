package jobs

import (
	"context"
	"errors"

	"github.com/riverqueue/river"

	"github.com/pbudget/pbudget/internal/postgres"
)

// NewQueueWithWorkers is New with more workers: tests add kinds of their own.
var NewQueueWithWorkers = newQueue

// InsertManyTx inserts jobs of any kind in the transaction ctx carries.
func (q *Queue) InsertManyTx(ctx context.Context, params []river.InsertManyParams) error {
	tx, ok := postgres.SQLTx(ctx)
	if !ok {
		return errors.New("no transaction")
	}
	_, err := q.client.InsertManyTx(ctx, tx, params)
	return err
}
