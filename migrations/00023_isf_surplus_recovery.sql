-- Recovering a flagged ISF balance (DOMAIN.md section 11, "Recovery" and "ISF statements"): a
-- recovery of basis isf_surplus names the ISF provider's statement whose balance was flagged by
-- Dorset's rule, and a statement has one recovery at a time (one not written off), by the
-- database whatever requests race. An overpayment's recoveries already have theirs
-- (recoveries_overpayment_key, 00018).

-- +goose Up
ALTER TABLE recoveries ADD COLUMN isf_statement_id uuid;
ALTER TABLE recoveries ADD CONSTRAINT recoveries_isf_statement_fk
    FOREIGN KEY (council_id, isf_statement_id) REFERENCES isf_statements (council_id, id);
ALTER TABLE recoveries DROP CONSTRAINT recoveries_basis_check;
ALTER TABLE recoveries ADD CONSTRAINT recoveries_basis_check
    CHECK (basis IN ('surplus', 'misspend', 'overpayment_after_end', 'isf_surplus'));
-- An ISF surplus recovery names its statement and its ISF agreement; no other basis names a statement.
ALTER TABLE recoveries ADD CONSTRAINT recoveries_isf_surplus_source
    CHECK ((basis = 'isf_surplus') = (isf_statement_id IS NOT NULL) AND (basis <> 'isf_surplus' OR isf_agreement_id IS NOT NULL));
CREATE UNIQUE INDEX recoveries_isf_statement_key ON recoveries (council_id, isf_statement_id)
    WHERE isf_statement_id IS NOT NULL AND status <> 'written_off';

-- +goose Down
-- Only an ISF surplus recovery still proposed, with nothing recovered or written off and no
-- payment line, is removed; any other (notified, recovered, with offsets) is money history: the
-- Down then fails on the basis check rather than lose it.
DELETE FROM recoveries WHERE basis = 'isf_surplus' AND status = 'proposed' AND recovered_pence = 0 AND written_off_pence = 0
    AND NOT EXISTS (SELECT 1 FROM payment_lines l WHERE l.council_id = recoveries.council_id AND l.recovery_id = recoveries.id);
DROP INDEX recoveries_isf_statement_key;
ALTER TABLE recoveries DROP CONSTRAINT recoveries_isf_surplus_source;
ALTER TABLE recoveries DROP CONSTRAINT recoveries_basis_check;
ALTER TABLE recoveries ADD CONSTRAINT recoveries_basis_check CHECK (basis IN ('surplus', 'misspend', 'overpayment_after_end'));
ALTER TABLE recoveries DROP CONSTRAINT recoveries_isf_statement_fk;
ALTER TABLE recoveries DROP COLUMN isf_statement_id;
