-- A run is built from its agreements as they were: each line records the version of its agreement
-- that the build read (under the agreement's row lock). Approval and export compare it with the
-- agreement's version now, so that a run whose agreement was suspended, ended, repriced or
-- re-signed after its build is refused rather than paid from the old facts (internal/payment,
-- ErrRunStale). Lines built before this migration have none, and are not compared.

-- +goose Up
ALTER TABLE payment_lines ADD COLUMN agreement_version integer CHECK (agreement_version >= 1);

-- +goose Down
ALTER TABLE payment_lines DROP COLUMN agreement_version;
