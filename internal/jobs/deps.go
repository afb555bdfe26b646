package jobs

import (
	"context"
	"errors"
	"time"

	"github.com/google/uuid"
)

// Deps are the domain services the workers call.
type Deps struct {
	Uprating        Uprater
	PaymentRuns     RunBuilder
	IdempotencyKeys KeySweeper
	Webhooks        Webhooks
	Reviews         ReviewSweeper
	CLD             CLDBuilder
	Audits          AuditScheduler // nil: the audit schedule job does nothing
	Statements      StatementImporter
}

func (d Deps) check() error {
	if d.Uprating == nil || d.PaymentRuns == nil || d.IdempotencyKeys == nil || d.Webhooks == nil || d.Reviews == nil || d.CLD == nil || d.Statements == nil {
		return errors.New("jobs: every dependency of the workers must be set")
	}
	return nil
}

// Uprater runs uprating jobs (charging.Service).
type Uprater interface {
	RunUprating(ctx context.Context, councilID, jobID uuid.UUID, lastAttempt bool) error
}

// RunBuilder builds payment runs (payment.Service); BuildRun is idempotent and restartable.
type RunBuilder interface {
	BuildRun(ctx context.Context, councilID, runID uuid.UUID) error
}

// KeySweeper deletes expired idempotency keys (the idempotency store).
type KeySweeper interface {
	DeleteExpired(ctx context.Context, now time.Time) (int64, error)
}

// Webhooks fans out and delivers webhook events (outbox.Service).
type Webhooks interface {
	Fanout(ctx context.Context, councilID, eventID uuid.UUID) error
	Deliver(ctx context.Context, councilID, deliveryID uuid.UUID, series, attempt int) error
	SweepUnfanned(ctx context.Context) (int, error)
}

// ReviewSweeper keeps review due dates current (reviews.Service).
type ReviewSweeper interface {
	Sweep(ctx context.Context) (int, error)
}

// AuditScheduler creates the scheduled direct-payment audits that have fallen due (dpfinance.Service).
type AuditScheduler interface {
	Schedule(ctx context.Context) (int, error)
}

// CLDBuilder produces client-level data returns (cldexport.Service).
type CLDBuilder interface {
	Build(ctx context.Context, councilID, exportID uuid.UUID) error
}

// StatementImporter imports statement files in the background (accounts.Service).
type StatementImporter interface {
	RunUpload(ctx context.Context, councilID, uploadID uuid.UUID) error
}
