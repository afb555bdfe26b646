-- The person's own view, second half (issue 14): a person's (or their authorised person's,
-- nominee's or parent's) answers to the flags on their direct-payment account's statement lines.
-- A flag's resolution is the auditor's (statement_flags, 00017); the person's explanation is
-- theirs, kept beside it, append-only: an answer is never changed, a later one is added.

-- +goose Up
CREATE TABLE statement_flag_answers (
    council_id            uuid NOT NULL,
    id                    uuid NOT NULL,
    account_id            uuid NOT NULL,
    flag_id               uuid NOT NULL,
    explanation           text NOT NULL CHECK (length(explanation) BETWEEN 1 AND 2000),
    answered_by           text NOT NULL,
    answered_by_person    uuid NOT NULL,
    answered_by_basis     text NOT NULL CHECK (answered_by_basis IN ('self', 'authorised_person', 'nominee', 'parent')),
    answered_at           timestamptz NOT NULL,
    PRIMARY KEY (council_id, id),
    FOREIGN KEY (council_id, account_id) REFERENCES direct_payment_accounts (council_id, id),
    FOREIGN KEY (council_id, flag_id) REFERENCES statement_flags (council_id, id)
);
CREATE INDEX statement_flag_answers_flag_idx ON statement_flag_answers (council_id, flag_id, answered_at, id);
CREATE TRIGGER statement_flag_answers_append_only BEFORE UPDATE OR DELETE ON statement_flag_answers
    FOR EACH ROW EXECUTE FUNCTION forbid_change();
CREATE TRIGGER statement_flag_answers_no_truncate BEFORE TRUNCATE ON statement_flag_answers
    FOR EACH STATEMENT EXECUTE FUNCTION forbid_change();

-- +goose Down
DROP TABLE statement_flag_answers;
