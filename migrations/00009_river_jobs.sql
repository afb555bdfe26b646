-- Background work moves onto River (its tables come from rivermigrate, run by the same migrate
-- step): uprating_jobs stays as the record of each job and its progress, but nothing claims rows of
-- it any more, so the claim columns and the queue index go. A job still queued or running under the
-- old worker has no River job to run it: it is marked failed, so that the table can be uprated
-- again (the recalculation carries on where the job stopped: the people it reached are no longer
-- under the old table). The batches of the new worker skip the lines a job could not recalculate,
-- on an index of their own.

-- +goose Up
UPDATE uprating_jobs
   SET status = 'failed', finished_at = now(),
       error = 'stopped by the upgrade to the new job queue; start the uprating again to finish it'
 WHERE status IN ('queued', 'running');
DROP INDEX uprating_jobs_queue_idx;
ALTER TABLE uprating_jobs DROP COLUMN claim_token, DROP COLUMN lease_until;
CREATE INDEX uprating_changes_errors_idx ON uprating_changes (council_id, job_id, previous_assessment_id)
    WHERE error IS NOT NULL;

-- +goose Down
DROP INDEX uprating_changes_errors_idx;
ALTER TABLE uprating_jobs ADD COLUMN claim_token uuid, ADD COLUMN lease_until timestamptz;
CREATE INDEX uprating_jobs_queue_idx ON uprating_jobs (status, requested_at) WHERE status IN ('queued', 'running');
