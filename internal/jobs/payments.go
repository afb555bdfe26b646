package jobs

import (
	"context"
	"errors"
	"time"

	"github.com/google/uuid"
	"github.com/riverqueue/river"
)

// PaymentRunArgs builds one payment run's lines (payment_runs holds its progress).
type PaymentRunArgs struct {
	CouncilID uuid.UUID `json:"council_id"`
	RunID     uuid.UUID `json:"run_id"`
}

// Kind implements river.JobArgs.
func (PaymentRunArgs) Kind() string { return "payment_run_build" }

// InsertOpts implements river.JobArgsWithInsertOpts: one River job per run, on the default queue
// (finance waits for it), with River's backoff over ten attempts.
func (PaymentRunArgs) InsertOpts() river.InsertOpts {
	return river.InsertOpts{Queue: QueueDefault, MaxAttempts: 10, UniqueOpts: river.UniqueOpts{ByArgs: true}}
}

// paymentRunTimeout bounds one attempt; a build is batched and restartable, so a cut attempt's
// retry carries on from the run's cursor.
const paymentRunTimeout = 30 * time.Minute

type paymentRunWorker struct {
	river.WorkerDefaults[PaymentRunArgs]
	q *Queue
}

func (w *paymentRunWorker) Timeout(*river.Job[PaymentRunArgs]) time.Duration {
	return paymentRunTimeout
}

// Work builds the run; a build interrupted by shutdown goes back to the queue without using up an
// attempt.
func (w *paymentRunWorker) Work(ctx context.Context, job *river.Job[PaymentRunArgs]) error {
	err := w.q.deps.PaymentRuns.BuildRun(ctx, job.Args.CouncilID, job.Args.RunID)
	if err != nil && errors.Is(ctx.Err(), context.Canceled) {
		return river.JobSnooze(0)
	}
	return err
}

// EnqueueBuild implements payment.Enqueuer: the run's build, queued in the transaction that
// created the run.
func (q *Queue) EnqueueBuild(ctx context.Context, councilID, runID uuid.UUID) error {
	return q.insertTx(ctx, PaymentRunArgs{CouncilID: councilID, RunID: runID}, nil)
}
