// Package jobs runs pbudget's background work on River, a job queue in the service's own
// PostgreSQL database: the River client, its queues, the workers, and the periodic work. Workers
// call domain services; domain packages never import this one, they declare what they need (such
// as charging.Enqueuer) and Queue implements it. Jobs are inserted in the transaction of the request
// that starts them, so a job exists if and only if its request committed. Every instance of
// `pbudget serve` works the queues; River locks each job to one of them.
//
// # Adding a worker
//
//  1. Declare the job's arguments in a file of this package: a struct of IDs (never personal
//     data: the arguments are stored in river_job and logged), with Kind() returning a stable
//     snake_case name, and InsertOpts() choosing its queue, its attempts and its uniqueness.
//  2. Declare a worker struct embedding river.WorkerDefaults[Args], with a Work method that calls a
//     domain service through an interface declared in deps.go and set in Deps. Work must be safe
//     to run again: River retries a job that returns an error (and one whose instance died) with
//     backoff, so a retry must carry on, never apply anything twice.
//  3. Register it in New with river.AddWorker.
//  4. To enqueue it from a domain service, declare the interface in the domain package (as
//     charging.Enqueuer), implement it on Queue with q.insertTx, and pass the Queue where the
//     service is built (app.Build).
//
// # Adding a periodic job
//
// Write its arguments and worker as above, then add a river.NewPeriodicJob to periodicJobs with a
// schedule (river.PeriodicInterval, or a cron expression through a river.PeriodicSchedule) and a
// stable ID. Periodic jobs are inserted by the elected leader among the running instances only, so
// each runs once a period however many instances there are; give them UniqueOpts.ByPeriod so that a
// change of leader does not insert a period's job twice.
package jobs

import (
	"cmp"
	"context"
	"database/sql"
	"errors"
	"fmt"
	"log/slog"
	"time"

	"github.com/google/uuid"
	"github.com/jackc/pgx/v5"
	"github.com/riverqueue/river"
	"github.com/riverqueue/river/riverdriver/riverdatabasesql"
	"github.com/riverqueue/river/riverdriver/riverpgxv5"

	"github.com/pbudget/pbudget/internal/postgres"
)

// The queues. Each instance works up to the queue's MaxWorkers jobs of it at once.
const (
	// QueueDefault is for short jobs: sweeps, notifications.
	QueueDefault = river.QueueDefault
	// QueueBulk is for long batch work over many records (uprating; payment runs next), one job at
	// a time an instance, so that bulk work never takes every database connection.
	QueueBulk = "bulk"
)

// Config tunes the queue; zero values take the defaults.
type Config struct {
	// ID names this instance's River client (default: host name and start time).
	ID string
	// PollInterval is how often an instance looks for jobs that became available (default 1s):
	// River's database/sql driver has no LISTEN, so a new job waits for the next poll.
	PollInterval time.Duration
	// DefaultWorkers and BulkWorkers are the jobs an instance runs at once on each queue (4 and 1).
	DefaultWorkers, BulkWorkers int
}

// Queue is the River client of one instance: it inserts jobs in the caller's transaction and,
// once started, works the queues.
type Queue struct {
	client *river.Client[*sql.Tx]
	// inserter inserts jobs in the caller's transaction, which runs below database/sql (on the
	// connection's pgx.Conn, postgres.PgxTx) so that BEGIN and COMMIT cost no round trips of
	// their own: River's pgx driver, with no pool, is for transactional inserts only.
	inserter *river.Client[pgx.Tx]
	deps     Deps // set by Start, before any job is worked
	log      *slog.Logger
}

// New returns a Queue on db, the service's pool. It can insert jobs at once; Start works them.
func New(db *sql.DB, log *slog.Logger, cfg Config) (*Queue, error) {
	return newQueue(db, log, cfg, nil)
}

// newQueue is New with more workers, for tests.
func newQueue(db *sql.DB, log *slog.Logger, cfg Config, more func(*river.Workers)) (*Queue, error) {
	q := &Queue{log: log}
	workers := river.NewWorkers()
	river.AddWorker(workers, &upratingWorker{q: q})
	river.AddWorker(workers, &sweepIdempotencyKeysWorker{q: q})
	river.AddWorker(workers, &paymentRunWorker{q: q})
	river.AddWorker(workers, &webhookFanoutWorker{q: q})
	river.AddWorker(workers, &webhookDeliveryWorker{q: q})
	river.AddWorker(workers, &sweepWebhookEventsWorker{q: q})
	river.AddWorker(workers, &reviewSweepWorker{q: q})
	river.AddWorker(workers, &auditScheduleWorker{q: q})
	river.AddWorker(workers, &cldExportWorker{q: q})
	river.AddWorker(workers, &statementImportWorker{q: q})
	if more != nil {
		more(workers)
	}

	poll := cmp.Or(cfg.PollInterval, time.Second)
	client, err := river.NewClient(riverdatabasesql.New(db), &river.Config{
		ID:                cfg.ID,
		Logger:            log.With(slog.String("component", "river")),
		PollOnly:          true,
		FetchPollInterval: poll,
		FetchCooldown:     min(poll, river.FetchCooldownDefault),
		Queues: map[string]river.QueueConfig{
			QueueDefault: {MaxWorkers: cmp.Or(cfg.DefaultWorkers, 4)},
			QueueBulk:    {MaxWorkers: cmp.Or(cfg.BulkWorkers, 1)},
		},
		Workers:      workers,
		PeriodicJobs: periodicJobs(),
		// River's reindexer runs REINDEX … CONCURRENTLY, which only an index's owner may do; the
		// service runs as the runtime role, which owns nothing (README, "Database roles").
		ReindexerSchedule: river.NeverSchedule(),
	})
	if err != nil {
		return nil, fmt.Errorf("jobs: %w", err)
	}
	inserter, err := river.NewClient(riverpgxv5.New(nil), &river.Config{
		Logger:   log.With(slog.String("component", "river")),
		PollOnly: true,
		Workers:  workers, // a kind no worker takes is refused at its insert
	})
	if err != nil {
		return nil, fmt.Errorf("jobs: %w", err)
	}
	q.client, q.inserter = client, inserter
	return q, nil
}

// Start works the queues with deps until Stop or until ctx ends (then running jobs are cancelled).
func (q *Queue) Start(ctx context.Context, deps Deps) error {
	if err := deps.check(); err != nil {
		return err
	}
	q.deps = deps
	return q.client.Start(ctx)
}

// Stop stops fetching and waits for running jobs to finish until ctx ends; then it cancels them
// (each is retried when an instance next works the queue) and waits for them to return.
func (q *Queue) Stop(ctx context.Context) error {
	err := q.client.Stop(ctx)
	if err == nil || !errors.Is(err, ctx.Err()) {
		return err
	}
	q.log.Warn("jobs still running at shutdown: cancelling them")
	stopCtx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 10*time.Second)
	defer cancel()
	return q.client.StopAndCancel(stopCtx)
}

// insertTx inserts a job in the transaction ctx carries. Outside one it fails: a job inserted on
// its own could run for a request that then rolled back.
func (q *Queue) insertTx(ctx context.Context, args river.JobArgs, opts *river.InsertOpts) error {
	// Not the request's cancellation: the transaction commits whole or not at all whatever the
	// client does (postgres.WithinTx), and River's insert notification on a cancelled context is
	// logged as an ERROR although nothing failed.
	ok, err := postgres.PgxTx(ctx, func(tx pgx.Tx) error {
		_, err := q.inserter.InsertTx(context.WithoutCancel(ctx), tx, args, opts)
		return err
	})
	if !ok {
		return fmt.Errorf("jobs: %s inserted outside a transaction", args.Kind())
	}
	return err
}

// EnqueueUprating implements charging.Enqueuer.
func (q *Queue) EnqueueUprating(ctx context.Context, councilID, jobID uuid.UUID, at time.Time) error {
	return q.insertTx(ctx, UpratingArgs{CouncilID: councilID, JobID: jobID}, scheduledAt(at))
}

// scheduledAt schedules a job for at when at is to come. River makes any job with a ScheduledAt
// "scheduled", available only on the leader's next scheduling pass (every five seconds), so a job
// due now is inserted without one, available at once.
func scheduledAt(at time.Time) *river.InsertOpts {
	if at.After(time.Now()) {
		return &river.InsertOpts{ScheduledAt: at}
	}
	return nil
}
