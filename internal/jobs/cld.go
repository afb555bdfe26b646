package jobs

import (
	"context"
	"errors"
	"time"

	"github.com/google/uuid"
	"github.com/riverqueue/river"
)

// CLDExportArgs produces one quarterly client-level data return (cld_exports holds its progress).
type CLDExportArgs struct {
	CouncilID uuid.UUID `json:"council_id"`
	ExportID  uuid.UUID `json:"export_id"`
}

// Kind implements river.JobArgs.
func (CLDExportArgs) Kind() string { return "cld_export" }

// InsertOpts implements river.JobArgsWithInsertOpts: bulk work, one job per export.
func (CLDExportArgs) InsertOpts() river.InsertOpts {
	return river.InsertOpts{Queue: QueueBulk, MaxAttempts: 5, UniqueOpts: river.UniqueOpts{ByArgs: true}}
}

type cldExportWorker struct {
	river.WorkerDefaults[CLDExportArgs]
	q *Queue
}

func (w *cldExportWorker) Timeout(*river.Job[CLDExportArgs]) time.Duration { return 30 * time.Minute }

// Work builds the export; one interrupted by shutdown goes back to the queue.
func (w *cldExportWorker) Work(ctx context.Context, job *river.Job[CLDExportArgs]) error {
	err := w.q.deps.CLD.Build(ctx, job.Args.CouncilID, job.Args.ExportID)
	if err != nil && errors.Is(ctx.Err(), context.Canceled) {
		return river.JobSnooze(0)
	}
	return err
}

// EnqueueCLDExport implements cldexport.Enqueuer.
func (q *Queue) EnqueueCLDExport(ctx context.Context, councilID, exportID uuid.UUID) error {
	return q.insertTx(ctx, CLDExportArgs{CouncilID: councilID, ExportID: exportID}, nil)
}
