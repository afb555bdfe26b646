-- Charging details councils publish differently, and pension credit age from the date of birth:
-- a rate table says how it rounds the tapered charge; a financial assessment may override the
-- pension credit age derived from the person's date of birth, with a reason; an income item may
-- carry a partial disregard (disregarded_pence and disregard_reason in the income jsonb), never
-- more than the item.

-- +goose Up
-- Existing tables keep the rounding they were used with: down. (A constant default changes no
-- row, so the trigger that keeps tables in force immutable does not fire.)
ALTER TABLE rate_tables
    ADD COLUMN rounding text NOT NULL DEFAULT 'down' CHECK (rounding IN ('down', 'nearest'));

ALTER TABLE financial_assessments
    ADD COLUMN pension_credit_age_override boolean,
    ADD COLUMN pension_credit_age_override_reason text,
    ADD CONSTRAINT financial_assessments_override_has_reason CHECK (
        (pension_credit_age_override IS NULL) = (pension_credit_age_override_reason IS NULL) AND
        (pension_credit_age_override_reason IS NULL OR length(pension_credit_age_override_reason) BETWEEN 1 AND 2000)),
    ADD CONSTRAINT financial_assessments_disregard_within_item CHECK (
        NOT jsonb_path_exists(income, '$[*] ? (@.disregarded_pence > @.weekly_pence || @.disregarded_pence < 0)'));

-- pension_credit_age_reached now records what a completion used, derived from the date of birth
-- or overridden. A draft's value was the caller's word, which completion no longer reads.
UPDATE financial_assessments SET pension_credit_age_reached = NULL WHERE status = 'draft';
COMMENT ON COLUMN financial_assessments.pension_credit_age_reached IS
    'whether the MIG used the pension credit age row: derived from the date of birth (or overridden) at completion; null on drafts';

-- +goose Down
ALTER TABLE financial_assessments
    DROP CONSTRAINT financial_assessments_disregard_within_item,
    DROP CONSTRAINT financial_assessments_override_has_reason,
    DROP COLUMN pension_credit_age_override_reason,
    DROP COLUMN pension_credit_age_override;
COMMENT ON COLUMN financial_assessments.pension_credit_age_reached IS NULL;
ALTER TABLE rate_tables DROP COLUMN rounding;
