-- What a paid run credited to a recovery (DOMAIN.md section 11, "Recovery"): when a run is paid,
-- the offsets it took are money recovered, but only up to what the recovery still had outstanding
-- then (money recorded another way, or written off, since the run was built, is not recovered
-- twice). A bank return of the payment reverses at most what the run credited, not the line's
-- offset, so reversed_pence counts what returns have taken back of credited_pence. One row per
-- (recovery, run): a run is paid once.
--
-- The rows for runs paid before this migration come from the audit trail, which recorded each
-- credit (recovery.offset_recovered) and each reversal (recovery.offset_returned) with its run.
--
-- A gross direct payment's invoice of a cycle (a contribution_due memo, source
-- contribution_invoice) is reversed when the bank returns the cycle's payment: a negative
-- contribution_due memo, source contribution_invoice_reversal with the invoice's source id (so
-- once per invoice). It is the only contribution_due that may be negative, and it must be.

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

-- +goose StatementBegin
DO $$
DECLARE c record;
BEGIN
    FOR c IN SELECT conname FROM pg_constraint
              WHERE conrelid = 'ledger_entries'::regclass AND contype = 'c'
                AND pg_get_constraintdef(oid) LIKE '%refund%' AND pg_get_constraintdef(oid) LIKE '%amount_pence > 0%'
    LOOP
        EXECUTE format('ALTER TABLE ledger_entries DROP CONSTRAINT %I', c.conname);
    END LOOP;
END $$;
-- +goose StatementEnd
ALTER TABLE ledger_entries ADD CONSTRAINT ledger_entries_positive
    CHECK (kind NOT IN ('council_payment', 'contribution_due', 'contribution_received', 'refund') OR amount_pence > 0
           OR (kind = 'contribution_due' AND source_kind = 'contribution_invoice_reversal'));
ALTER TABLE ledger_entries ADD CONSTRAINT ledger_entries_invoice_reversal_negative
    CHECK (source_kind <> 'contribution_invoice_reversal' OR (kind = 'contribution_due' AND amount_pence < 0));
-- Invoices of cycles whose payments were all returned before this migration, and that no paid
-- run pays now, are reversed now, so that the run paying the cycle again invoices it afresh (an
-- invoice is keyed on the cycle and the number of its payments returned before). A cycle
-- returned and paid again before this migration keeps its one invoice, for the payment that
-- stands.
INSERT INTO ledger_entries (council_id, id, account_id, entry_date, kind, amount_pence, source_kind, source_id, reason, created_by, created_at)
SELECT e.council_id, gen_random_uuid(), e.account_id, greatest(current_date, e.entry_date), 'contribution_due', -e.amount_pence,
       'contribution_invoice_reversal', e.source_id,
       'the bank returned the payment of the cycle from ' || e.entry_date || ': its invoice of ' || e.amount_pence || ' pence reversed',
       'migration 00025', now()
  FROM ledger_entries e
  JOIN direct_payment_accounts a ON a.council_id = e.council_id AND a.id = e.account_id
 WHERE e.source_kind = 'contribution_invoice' AND e.kind = 'contribution_due'
   AND EXISTS (SELECT 1 FROM payment_lines l WHERE l.council_id = e.council_id AND l.dp_agreement_id = a.dp_agreement_id
               AND l.kind = 'cycle' AND l.cycle_start = e.entry_date AND l.state = 'returned')
   AND NOT EXISTS (SELECT 1 FROM payment_lines l JOIN payment_runs r ON r.council_id = l.council_id AND r.id = l.run_id
               WHERE l.council_id = e.council_id AND l.dp_agreement_id = a.dp_agreement_id AND l.kind = 'cycle'
                 AND l.cycle_start = e.entry_date AND l.state = 'live' AND NOT l.held AND r.status = 'paid')
ON CONFLICT (council_id, account_id, source_kind, source_id) DO NOTHING;

-- +goose Down
-- The ledger is append-only: an invoice reversal cannot be deleted, so the Down fails on the
-- positivity check while one exists rather than lose money history.
ALTER TABLE ledger_entries DROP CONSTRAINT ledger_entries_invoice_reversal_negative;
ALTER TABLE ledger_entries DROP CONSTRAINT ledger_entries_positive;
ALTER TABLE ledger_entries ADD CONSTRAINT ledger_entries_check
    CHECK (kind NOT IN ('council_payment', 'contribution_due', 'contribution_received', 'refund') OR amount_pence > 0);
DROP TABLE recovery_offset_credits;
