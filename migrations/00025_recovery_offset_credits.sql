-- What a paid run credited to a recovery (DOMAIN.md section 11, "Recovery"): when a run is paid,
-- the offsets it took are money recovered, but only up to what the recovery still had outstanding
-- then (money recorded another way, or written off, since the run was built, is not recovered
-- twice). A bank return of the payment reverses at most what the run credited, not the line's
-- offset, so reversed_pence counts what returns have taken back of credited_pence. One row per
-- (recovery, run): a run is paid once.
--
-- The rows for runs paid before this migration come from the audit trail, which recorded each
-- credit (recovery.offset_recovered) and each reversal (recovery.offset_returned) with its run.

-- +goose Up
CREATE TABLE recovery_offset_credits (
    council_id     uuid NOT NULL REFERENCES councils (id),
    recovery_id    uuid NOT NULL,
    run_id         uuid NOT NULL,
    credited_pence bigint NOT NULL CHECK (credited_pence BETWEEN 1 AND 100000000000),
    reversed_pence bigint NOT NULL DEFAULT 0 CHECK (reversed_pence >= 0),
    created_at     timestamptz NOT NULL,
    updated_at     timestamptz NOT NULL,
    PRIMARY KEY (council_id, recovery_id, run_id),
    FOREIGN KEY (council_id, recovery_id) REFERENCES recoveries (council_id, id),
    FOREIGN KEY (council_id, run_id) REFERENCES payment_runs (council_id, id),
    CHECK (reversed_pence <= credited_pence)
);
CREATE INDEX recovery_offset_credits_run_idx ON recovery_offset_credits (council_id, run_id);

INSERT INTO recovery_offset_credits (council_id, recovery_id, run_id, credited_pence, reversed_pence, created_at, updated_at)
SELECT c.council_id, c.recovery_id, c.run_id, c.credited, least(coalesce(rv.reversed, 0), c.credited), c.at, coalesce(rv.at, c.at)
  FROM (SELECT e.council_id, e.entity_id AS recovery_id, (e.details->>'run_id')::uuid AS run_id,
               sum((e.details->>'amount_pence')::bigint) AS credited, min(e.occurred_at) AS at
          FROM audit_events e
         WHERE e.action = 'recovery.offset_recovered' AND e.entity_type = 'recovery' AND e.details ? 'run_id'
         GROUP BY 1, 2, 3) c
  LEFT JOIN (SELECT e.council_id, e.entity_id AS recovery_id, (e.details->>'run_id')::uuid AS run_id,
               sum((e.details->>'amount_pence')::bigint) AS reversed, max(e.occurred_at) AS at
          FROM audit_events e
         WHERE e.action = 'recovery.offset_returned' AND e.entity_type = 'recovery' AND e.details ? 'run_id'
         GROUP BY 1, 2, 3) rv ON rv.council_id = c.council_id AND rv.recovery_id = c.recovery_id AND rv.run_id = c.run_id
 WHERE c.credited > 0
   AND EXISTS (SELECT 1 FROM recoveries r WHERE r.council_id = c.council_id AND r.id = c.recovery_id)
   AND EXISTS (SELECT 1 FROM payment_runs p WHERE p.council_id = c.council_id AND p.id = c.run_id);

-- +goose Down
DROP TABLE recovery_offset_credits;
