-- +goose Up
-- A council that leaves the service is retired, never deleted: its records stay (the audit trail
-- is append-only and the records are kept for their retention periods), its tokens are refused,
-- and its code is not given to another council. Retirement is recorded with its reason.
ALTER TABLE councils
    ADD COLUMN retired_at     timestamptz,
    ADD COLUMN retired_reason text CHECK (length(retired_reason) BETWEEN 1 AND 500),
    ADD CONSTRAINT councils_retired_with_reason CHECK ((retired_at IS NULL) = (retired_reason IS NULL));

-- +goose Down
ALTER TABLE councils
    DROP CONSTRAINT councils_retired_with_reason,
    DROP COLUMN retired_reason,
    DROP COLUMN retired_at;
