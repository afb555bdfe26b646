package jobs

import (
	"context"
	"errors"
	"time"

	"github.com/google/uuid"
	"github.com/riverqueue/river"
)

// WebhookFanoutArgs fans one outbox event out to the subscriptions that want it. It is inserted
// with the event, in the transaction of the change (the outbox).
type WebhookFanoutArgs struct {
	CouncilID uuid.UUID `json:"council_id"`
	EventID   uuid.UUID `json:"event_id"`
}

// Kind implements river.JobArgs.
func (WebhookFanoutArgs) Kind() string { return "webhook_fanout" }

// InsertOpts implements river.JobArgsWithInsertOpts: River's backoff over 25 attempts (days) for
// a fan-out that cannot reach the database.
func (WebhookFanoutArgs) InsertOpts() river.InsertOpts {
	return river.InsertOpts{Queue: QueueDefault, MaxAttempts: 25}
}

type webhookFanoutWorker struct {
	river.WorkerDefaults[WebhookFanoutArgs]
	q *Queue
}

func (w *webhookFanoutWorker) Work(ctx context.Context, job *river.Job[WebhookFanoutArgs]) error {
	return w.q.deps.Webhooks.Fanout(ctx, job.Args.CouncilID, job.Args.EventID)
}

// WebhookDeliveryArgs is one attempt of one delivery: the series (a replay starts a new one) and
// the attempt's number in it. The attempt's record inserts the next attempt's job, scheduled on
// the Standard Webhooks schedule; a job whose attempt is already recorded does nothing.
type WebhookDeliveryArgs struct {
	CouncilID  uuid.UUID `json:"council_id"`
	DeliveryID uuid.UUID `json:"delivery_id"`
	Series     int       `json:"series"`
	Attempt    int       `json:"attempt"`
}

// Kind implements river.JobArgs.
func (WebhookDeliveryArgs) Kind() string { return "webhook_delivery" }

// InsertOpts implements river.JobArgsWithInsertOpts: the schedule is the webhook policy's, one job
// an attempt; River's own retries only cover an attempt that could not be recorded (the database
// was away), and uniqueness keeps a job per attempt.
func (WebhookDeliveryArgs) InsertOpts() river.InsertOpts {
	return river.InsertOpts{Queue: QueueDefault, MaxAttempts: 5, UniqueOpts: river.UniqueOpts{ByArgs: true}}
}

type webhookDeliveryWorker struct {
	river.WorkerDefaults[WebhookDeliveryArgs]
	q *Queue
}

// Timeout bounds one attempt with its record: the HTTP attempt has its own, shorter timeout.
func (w *webhookDeliveryWorker) Timeout(*river.Job[WebhookDeliveryArgs]) time.Duration {
	return 2 * time.Minute
}

func (w *webhookDeliveryWorker) Work(ctx context.Context, job *river.Job[WebhookDeliveryArgs]) error {
	err := w.q.deps.Webhooks.Deliver(ctx, job.Args.CouncilID, job.Args.DeliveryID, job.Args.Series, job.Args.Attempt)
	if err != nil && errors.Is(ctx.Err(), context.Canceled) {
		return river.JobSnooze(0)
	}
	return err
}

// SweepWebhookEventsArgs queues the fan-out of any event left without one (a safety net).
type SweepWebhookEventsArgs struct{}

// Kind implements river.JobArgs.
func (SweepWebhookEventsArgs) Kind() string { return "sweep_webhook_events" }

// InsertOpts implements river.JobArgsWithInsertOpts.
func (SweepWebhookEventsArgs) InsertOpts() river.InsertOpts {
	return river.InsertOpts{Queue: QueueDefault, MaxAttempts: 3, UniqueOpts: river.UniqueOpts{ByPeriod: 10 * time.Minute}}
}

type sweepWebhookEventsWorker struct {
	river.WorkerDefaults[SweepWebhookEventsArgs]
	q *Queue
}

func (w *sweepWebhookEventsWorker) Work(ctx context.Context, _ *river.Job[SweepWebhookEventsArgs]) error {
	_, err := w.q.deps.Webhooks.SweepUnfanned(ctx)
	return err
}

// EnqueueWebhookFanout implements outbox.Enqueuer.
func (q *Queue) EnqueueWebhookFanout(ctx context.Context, councilID, eventID uuid.UUID) error {
	return q.insertTx(ctx, WebhookFanoutArgs{CouncilID: councilID, EventID: eventID}, nil)
}

// EnqueueWebhookDelivery implements outbox.Enqueuer: attempt number attempt of a delivery's
// series, at at (at once when at is zero or past).
func (q *Queue) EnqueueWebhookDelivery(ctx context.Context, councilID, deliveryID uuid.UUID, series, attempt int, at time.Time) error {
	return q.insertTx(ctx, WebhookDeliveryArgs{CouncilID: councilID, DeliveryID: deliveryID, Series: series, Attempt: attempt}, scheduledAt(at))
}
