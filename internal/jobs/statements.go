package jobs

import (
	"context"
	"errors"
	"time"

	"github.com/google/uuid"
	"github.com/riverqueue/river"
)

// StatementImportArgs imports a statement file too large to import during its request
// (statement_uploads holds the file in chunks and the progress).
type StatementImportArgs struct {
	CouncilID uuid.UUID `json:"council_id"`
	UploadID  uuid.UUID `json:"upload_id"`
}

// Kind implements river.JobArgs.
func (StatementImportArgs) Kind() string { return "statement_import" }

// InsertOpts implements river.JobArgsWithInsertOpts: one job per upload, on the default queue
// (a person waits for it).
func (StatementImportArgs) InsertOpts() river.InsertOpts {
	return river.InsertOpts{Queue: QueueDefault, MaxAttempts: 5, UniqueOpts: river.UniqueOpts{ByArgs: true}}
}

type statementImportWorker struct {
	river.WorkerDefaults[StatementImportArgs]
	q *Queue
}

func (w *statementImportWorker) Timeout(*river.Job[StatementImportArgs]) time.Duration {
	return 30 * time.Minute
}

// Work imports the upload (all or nothing: a refused file fails the upload, not the job); one
// interrupted by shutdown goes back to the queue and starts again.
func (w *statementImportWorker) Work(ctx context.Context, job *river.Job[StatementImportArgs]) error {
	err := w.q.deps.Statements.RunUpload(ctx, job.Args.CouncilID, job.Args.UploadID)
	if err != nil && errors.Is(ctx.Err(), context.Canceled) {
		return river.JobSnooze(0)
	}
	return err
}

// EnqueueStatementImport implements accounts.Enqueuer.
func (q *Queue) EnqueueStatementImport(ctx context.Context, councilID, uploadID uuid.UUID) error {
	return q.insertTx(ctx, StatementImportArgs{CouncilID: councilID, UploadID: uploadID}, nil)
}
