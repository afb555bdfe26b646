package jobs

import (
	"context"
	"log/slog"
	"time"

	"github.com/riverqueue/river"
)

// periodicJobs is the periodic work of the service, inserted by the leader among the instances.
// Payment runs, review due dates and webhook delivery come here.
func periodicJobs() []*river.PeriodicJob {
	return []*river.PeriodicJob{
		river.NewPeriodicJob(river.PeriodicInterval(time.Hour),
			func() (river.JobArgs, *river.InsertOpts) { return SweepIdempotencyKeysArgs{}, nil },
			&river.PeriodicJobOpts{ID: "sweep_idempotency_keys", RunOnStart: true}),
		river.NewPeriodicJob(river.PeriodicInterval(10*time.Minute),
			func() (river.JobArgs, *river.InsertOpts) { return SweepWebhookEventsArgs{}, nil },
			&river.PeriodicJobOpts{ID: "sweep_webhook_events"}),
		river.NewPeriodicJob(river.PeriodicInterval(15*time.Minute),
			func() (river.JobArgs, *river.InsertOpts) { return ReviewSweepArgs{}, nil },
			&river.PeriodicJobOpts{ID: "review_sweep", RunOnStart: true}),
		river.NewPeriodicJob(river.PeriodicInterval(time.Hour),
			func() (river.JobArgs, *river.InsertOpts) { return AuditScheduleArgs{}, nil },
			&river.PeriodicJobOpts{ID: "audit_schedule", RunOnStart: true}),
	}
}

// AuditScheduleArgs creates the scheduled direct-payment audits that have fallen due: the first
// first_audit_weeks after the first payment, then every 12 months (internal/dpaudit), each once.
type AuditScheduleArgs struct{}

// Kind implements river.JobArgs.
func (AuditScheduleArgs) Kind() string { return "audit_schedule" }

// InsertOpts implements river.JobArgsWithInsertOpts: on the bulk queue, once an hour.
func (AuditScheduleArgs) InsertOpts() river.InsertOpts {
	return river.InsertOpts{Queue: QueueBulk, MaxAttempts: 3, UniqueOpts: river.UniqueOpts{ByPeriod: time.Hour}}
}

type auditScheduleWorker struct {
	river.WorkerDefaults[AuditScheduleArgs]
	q *Queue
}

// Work schedules; the unique key per (agreement, period start) makes a repeat harmless.
func (w *auditScheduleWorker) Work(ctx context.Context, _ *river.Job[AuditScheduleArgs]) error {
	if w.q.deps.Audits == nil {
		return nil
	}
	n, err := w.q.deps.Audits.Schedule(ctx)
	if err == nil {
		w.q.log.Debug("scheduled direct-payment audits", slog.Int("created", n))
	}
	return err
}

// SweepIdempotencyKeysArgs deletes the idempotency keys past their 24 hours (they hold response
// bodies, which can hold personal data).
type SweepIdempotencyKeysArgs struct{}

// Kind implements river.JobArgs.
func (SweepIdempotencyKeysArgs) Kind() string { return "sweep_idempotency_keys" }

// InsertOpts implements river.JobArgsWithInsertOpts: one sweep an hour, whoever is leader.
func (SweepIdempotencyKeysArgs) InsertOpts() river.InsertOpts {
	return river.InsertOpts{Queue: QueueDefault, MaxAttempts: 3, UniqueOpts: river.UniqueOpts{ByPeriod: time.Hour}}
}

type sweepIdempotencyKeysWorker struct {
	river.WorkerDefaults[SweepIdempotencyKeysArgs]
	q *Queue
}

// Work deletes the expired keys.
func (w *sweepIdempotencyKeysWorker) Work(ctx context.Context, _ *river.Job[SweepIdempotencyKeysArgs]) error {
	n, err := w.q.deps.IdempotencyKeys.DeleteExpired(ctx, time.Now())
	if err == nil {
		w.q.log.Debug("swept idempotency keys", slog.Int64("deleted", n))
	}
	return err
}

// ReviewSweepArgs recomputes every person's next review from the events (plans approved,
// agreements paid, budgets ended since) and sends review.due and review.overdue.
type ReviewSweepArgs struct{}

// Kind implements river.JobArgs.
func (ReviewSweepArgs) Kind() string { return "review_sweep" }

// InsertOpts implements river.JobArgsWithInsertOpts: on the bulk queue (it reads every person
// with a plan), once a period.
func (ReviewSweepArgs) InsertOpts() river.InsertOpts {
	return river.InsertOpts{Queue: QueueBulk, MaxAttempts: 3, UniqueOpts: river.UniqueOpts{ByPeriod: 15 * time.Minute}}
}

type reviewSweepWorker struct {
	river.WorkerDefaults[ReviewSweepArgs]
	q *Queue
}

func (w *reviewSweepWorker) Timeout(*river.Job[ReviewSweepArgs]) time.Duration {
	return 30 * time.Minute
}

// Work sweeps; an interrupted sweep is simply done again (each batch commits alone).
func (w *reviewSweepWorker) Work(ctx context.Context, _ *river.Job[ReviewSweepArgs]) error {
	n, err := w.q.deps.Reviews.Sweep(ctx)
	if err == nil {
		w.q.log.Debug("swept review schedules", slog.Int("people", n))
	}
	return err
}
