-- A gross direct payment's contribution invoice paid to the council (DOMAIN.md section 11, "DP
-- accounts" and "The DP financial audit"): the person pays the invoice to the council's debtors
-- system, not into the account, and finance records it on the account's ledger as a memo,
-- kind contribution_paid_to_council, source contribution_payment (one per request, posted once
-- by the ledger's unique (council_id, account_id, source_kind, source_id)). Like a contribution
-- due it moves no money in the account: balance_pence is 0. It carries the debtors system's
-- reference, unique among the account's payments to the council.

-- +goose Up
ALTER TABLE ledger_entries DROP CONSTRAINT ledger_entries_kind_check;
ALTER TABLE ledger_entries ADD CONSTRAINT ledger_entries_kind_check
    CHECK (kind IN ('council_payment', 'contribution_due', 'contribution_received', 'contribution_paid_to_council', 'spend', 'refund', 'recovery', 'adjustment'));
ALTER TABLE ledger_entries ADD CONSTRAINT ledger_entries_paid_to_council_positive
    CHECK (kind <> 'contribution_paid_to_council' OR amount_pence > 0);
ALTER TABLE ledger_entries ADD COLUMN reference text NOT NULL DEFAULT '' CHECK (length(reference) <= 100);
-- The balance effect of a memo is 0: the generated column is recomputed (PostgreSQL 15 cannot
-- change a generated column's expression in place), and the index that carries it rebuilt.
DROP INDEX ledger_entries_account_idx;
ALTER TABLE ledger_entries DROP COLUMN balance_pence;
ALTER TABLE ledger_entries ADD COLUMN balance_pence bigint
    GENERATED ALWAYS AS (CASE WHEN kind IN ('contribution_due', 'contribution_paid_to_council') THEN 0 ELSE amount_pence END) STORED;
CREATE INDEX ledger_entries_account_idx ON ledger_entries (council_id, account_id, entry_date, id) INCLUDE (balance_pence);
-- One debtors-system payment is recorded once on an account, whatever keys the requests carry
-- (and however its reference is capitalised).
CREATE UNIQUE INDEX ledger_entries_paid_to_council_reference_key ON ledger_entries (council_id, account_id, lower(reference))
    WHERE kind = 'contribution_paid_to_council';

-- +goose Down
-- The ledger is append-only: an entry of the new kind cannot be deleted, so the Down fails on the
-- kind check while one exists rather than lose money history.
DROP INDEX ledger_entries_paid_to_council_reference_key;
DROP INDEX ledger_entries_account_idx;
ALTER TABLE ledger_entries DROP COLUMN balance_pence;
ALTER TABLE ledger_entries ADD COLUMN balance_pence bigint
    GENERATED ALWAYS AS (CASE WHEN kind = 'contribution_due' THEN 0 ELSE amount_pence END) STORED;
CREATE INDEX ledger_entries_account_idx ON ledger_entries (council_id, account_id, entry_date, id) INCLUDE (balance_pence);
ALTER TABLE ledger_entries DROP COLUMN reference;
ALTER TABLE ledger_entries DROP CONSTRAINT ledger_entries_paid_to_council_positive;
ALTER TABLE ledger_entries DROP CONSTRAINT ledger_entries_kind_check;
ALTER TABLE ledger_entries ADD CONSTRAINT ledger_entries_kind_check
    CHECK (kind IN ('council_payment', 'contribution_due', 'contribution_received', 'spend', 'refund', 'recovery', 'adjustment'));
