package jobs

import (
	"context"
	"errors"
	"time"

	"github.com/google/uuid"
	"github.com/riverqueue/river"

	"github.com/pbudget/pbudget/internal/charging"
)

// UpratingArgs runs one uprating job (uprating_jobs holds its progress and report).
type UpratingArgs struct {
	CouncilID uuid.UUID `json:"council_id"`
	JobID     uuid.UUID `json:"job_id"`
}

// Kind implements river.JobArgs.
func (UpratingArgs) Kind() string { return "uprating" }

// InsertOpts implements river.JobArgsWithInsertOpts: on the bulk queue, one River job per
// uprating job, and eight attempts (River's backoff spreads them over about three hours).
func (UpratingArgs) InsertOpts() river.InsertOpts {
	return river.InsertOpts{Queue: QueueBulk, MaxAttempts: 8, UniqueOpts: river.UniqueOpts{ByArgs: true}}
}

// upratingTimeout bounds one attempt: below River's rescue of stuck jobs (an hour past the
// client's job timeout), so a slow attempt ends and is retried, carrying on, rather than run twice.
const upratingTimeout = time.Hour

type upratingWorker struct {
	river.WorkerDefaults[UpratingArgs]
	q *Queue
}

func (w *upratingWorker) Timeout(*river.Job[UpratingArgs]) time.Duration { return upratingTimeout }

// Work runs the job. A job whose table is not in force yet (its date moved since it was queued)
// waits for it; one interrupted by shutdown goes back to the queue without using up an attempt.
func (w *upratingWorker) Work(ctx context.Context, job *river.Job[UpratingArgs]) error {
	err := w.q.deps.Uprating.RunUprating(ctx, job.Args.CouncilID, job.Args.JobID, job.Attempt >= job.MaxAttempts)
	var notYet *charging.NotInForceError
	switch {
	case errors.As(err, &notYet):
		return river.JobSnooze(max(0, time.Until(notYet.Until)))
	case err != nil && errors.Is(ctx.Err(), context.Canceled):
		return river.JobSnooze(0)
	}
	return err
}
