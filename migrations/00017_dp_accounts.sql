-- Direct-payment accounts (DOMAIN.md section 11, "DP accounts"; issue 12 items 1-3): one account
-- per direct-payment agreement with its append-only ledger, imported statements and their lines
-- (each line once, by its identity: internal/account), flags on spending that needs an auditor,
-- and evidence items. Money is integer pence; every row carries council_id.
--
-- The ledger's amount_pence is signed: money in positive, money out negative, an adjustment either
-- way, and a contribution_due (a memo that moves no money) positive. balance_pence is what the
-- entry does to the balance (0 for a memo): the balance at a date is SUM(balance_pence) of the
-- entries dated on or before it, plus the account's opening balance.

-- +goose Up
-- A read of an account's records (its ledger, statements, flags, evidence) is recorded against it.
ALTER TABLE access_records DROP CONSTRAINT access_records_entity_type_check,
    ADD CONSTRAINT access_records_entity_type_check CHECK (entity_type IN ('person', 'relationship', 'assessment', 'financial_assessment',
        'personal_budget', 'funding_request', 'support_plan', 'direct_payment_agreement', 'isf_agreement', 'review', 'direct_payment_account'));

ALTER TABLE council_settings
    ADD COLUMN excluded_merchant_categories text[] NOT NULL DEFAULT '{7995,7800,7801,7802}'
        CHECK (cardinality(excluded_merchant_categories) <= 500),
    ADD COLUMN merchant_category_map jsonb NOT NULL DEFAULT '{}' CHECK (jsonb_typeof(merchant_category_map) = 'object');

CREATE TABLE direct_payment_accounts (
    council_id            uuid NOT NULL,
    id                    uuid NOT NULL,
    dp_agreement_id       uuid NOT NULL,
    person_id             uuid NOT NULL,
    account_type          text NOT NULL CHECK (account_type IN ('separate_bank_account', 'prepaid_card', 'managed_account')),
    payment_basis         text NOT NULL CHECK (payment_basis IN ('net', 'gross')),
    opened_on             date NOT NULL,
    opening_balance_pence bigint NOT NULL DEFAULT 0 CHECK (opening_balance_pence BETWEEN -100000000000 AND 100000000000),
    created_at            timestamptz NOT NULL,
    PRIMARY KEY (council_id, id),
    UNIQUE (council_id, dp_agreement_id),
    FOREIGN KEY (council_id, dp_agreement_id) REFERENCES direct_payment_agreements (council_id, id),
    FOREIGN KEY (council_id, person_id) REFERENCES people (council_id, id)
);

-- Every direct-payment agreement opens its account, whoever inserts it.
-- +goose StatementBegin
CREATE FUNCTION direct_payment_account_open() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    INSERT INTO direct_payment_accounts (council_id, id, dp_agreement_id, person_id, account_type, payment_basis, opened_on, created_at)
    VALUES (NEW.council_id, gen_random_uuid(), NEW.id, NEW.person_id, NEW.account_type, NEW.payment_basis, NEW.start_date, NEW.created_at)
    ON CONFLICT (council_id, dp_agreement_id) DO NOTHING;
    RETURN NEW;
END;
$$;
-- +goose StatementEnd
CREATE TRIGGER direct_payment_account_open AFTER INSERT ON direct_payment_agreements
    FOR EACH ROW EXECUTE FUNCTION direct_payment_account_open();
INSERT INTO direct_payment_accounts (council_id, id, dp_agreement_id, person_id, account_type, payment_basis, opened_on, created_at)
SELECT council_id, gen_random_uuid(), id, person_id, account_type, payment_basis, start_date, created_at FROM direct_payment_agreements;

-- The ledger: append-only (a mistake is put right by an adjustment). Each entry has exactly one
-- source (source_kind, source_id), unique per account, so that it is posted once whatever
-- retries happen: payment_run (the run's payment to the account), payment_return (its reversal),
-- statement_line, payment_line (a cycle's contribution due), recovery, manual …
CREATE TABLE ledger_entries (
    council_id        uuid NOT NULL,
    id                uuid NOT NULL,
    seq               bigint GENERATED ALWAYS AS IDENTITY,
    account_id        uuid NOT NULL,
    entry_date        date NOT NULL,
    kind              text NOT NULL CHECK (kind IN ('council_payment', 'contribution_due', 'contribution_received', 'spend', 'refund', 'recovery', 'adjustment')),
    amount_pence      bigint NOT NULL CHECK (amount_pence BETWEEN -100000000000 AND 100000000000 AND amount_pence <> 0),
    balance_pence     bigint GENERATED ALWAYS AS (CASE WHEN kind = 'contribution_due' THEN 0 ELSE amount_pence END) STORED,
    source_kind       text NOT NULL CHECK (source_kind ~ '^[a-z][a-z_]{0,39}$'),
    source_id         uuid NOT NULL,
    plan_line_id      uuid,
    statement_line_id uuid,
    reason            text NOT NULL DEFAULT '' CHECK (length(reason) <= 2000),
    created_by        text NOT NULL,
    created_at        timestamptz NOT NULL,
    PRIMARY KEY (council_id, id),
    UNIQUE (council_id, account_id, source_kind, source_id),
    FOREIGN KEY (council_id, account_id) REFERENCES direct_payment_accounts (council_id, id),
    CHECK (kind NOT IN ('council_payment', 'contribution_due', 'contribution_received', 'refund') OR amount_pence > 0),
    CHECK (kind NOT IN ('spend', 'recovery') OR amount_pence < 0),
    CHECK (kind <> 'adjustment' OR length(reason) > 0)
);
CREATE INDEX ledger_entries_account_idx ON ledger_entries (council_id, account_id, entry_date, id) INCLUDE (balance_pence);
CREATE INDEX ledger_entries_kind_idx ON ledger_entries (council_id, account_id, kind, entry_date, id);
CREATE TRIGGER ledger_entries_append_only BEFORE UPDATE OR DELETE ON ledger_entries
    FOR EACH ROW EXECUTE FUNCTION forbid_change();
CREATE TRIGGER ledger_entries_no_truncate BEFORE TRUNCATE ON ledger_entries
    FOR EACH STATEMENT EXECUTE FUNCTION forbid_change();

-- A statement file being imported in the background (over 1 MiB): its bytes in chunks, its
-- progress, and the statement it became or the problem that refused it.
CREATE TABLE statement_uploads (
    council_id      uuid NOT NULL,
    id              uuid NOT NULL,
    account_id      uuid NOT NULL,
    format          text NOT NULL CHECK (format IN ('bank', 'card', 'mapped')),
    mapping         jsonb NOT NULL,
    file_sha256     text NOT NULL CHECK (file_sha256 ~ '^[0-9a-f]{64}$'),
    size_bytes      bigint NOT NULL CHECK (size_bytes BETWEEN 1 AND 67108864),
    status          text NOT NULL CHECK (status IN ('queued', 'running', 'imported', 'failed')),
    bytes_processed bigint NOT NULL DEFAULT 0 CHECK (bytes_processed >= 0),
    lines_processed integer NOT NULL DEFAULT 0 CHECK (lines_processed >= 0),
    statement_id    uuid,
    problem         jsonb,
    created_by      text NOT NULL,
    created_at      timestamptz NOT NULL,
    updated_at      timestamptz NOT NULL,
    completed_at    timestamptz,
    PRIMARY KEY (council_id, id),
    FOREIGN KEY (council_id, account_id) REFERENCES direct_payment_accounts (council_id, id),
    CHECK ((status = 'imported') = (statement_id IS NOT NULL)),
    CHECK ((status = 'failed') = (problem IS NOT NULL))
);
CREATE INDEX statement_uploads_account_idx ON statement_uploads (council_id, account_id, created_at, id);
CREATE TABLE statement_upload_chunks (
    council_id uuid NOT NULL,
    upload_id  uuid NOT NULL,
    seq        integer NOT NULL CHECK (seq >= 0),
    data       bytea NOT NULL,
    PRIMARY KEY (council_id, upload_id, seq),
    FOREIGN KEY (council_id, upload_id) REFERENCES statement_uploads (council_id, id) ON DELETE CASCADE
);

-- An imported statement: what the file held, how many of its lines were new, and the check of its
-- stated closing balance against the ledger.
CREATE TABLE statements (
    council_id           uuid NOT NULL,
    id                   uuid NOT NULL,
    account_id           uuid NOT NULL,
    upload_id            uuid,
    format               text NOT NULL CHECK (format IN ('bank', 'card', 'mapped')),
    file_sha256          text NOT NULL CHECK (file_sha256 ~ '^[0-9a-f]{64}$'),
    from_date            date,
    to_date              date,
    line_count           integer NOT NULL CHECK (line_count >= 0),
    new_lines            integer NOT NULL CHECK (new_lines >= 0),
    existing_lines       integer NOT NULL CHECK (existing_lines >= 0),
    in_pence             bigint NOT NULL CHECK (in_pence >= 0),
    out_pence            bigint NOT NULL CHECK (out_pence >= 0),
    flagged_lines        integer NOT NULL DEFAULT 0 CHECK (flagged_lines >= 0),
    stated_closing_pence bigint,
    ledger_closing_pence bigint,
    closing_agrees       boolean,
    closing_detail       text,
    imported_by          text NOT NULL,
    imported_at          timestamptz NOT NULL,
    PRIMARY KEY (council_id, id),
    UNIQUE (council_id, account_id, id),
    FOREIGN KEY (council_id, account_id) REFERENCES direct_payment_accounts (council_id, id),
    FOREIGN KEY (council_id, upload_id) REFERENCES statement_uploads (council_id, id),
    CHECK (line_count = new_lines + existing_lines),
    CHECK ((stated_closing_pence IS NULL) = (closing_agrees IS NULL)),
    CHECK ((from_date IS NULL) = (to_date IS NULL))
);
CREATE INDEX statements_account_idx ON statements (council_id, account_id, imported_at, id);

-- Each statement line once: line_key is account.Identify's SHA-256 of (account, date, amount,
-- description, occurrence among identical lines that day in the file). A line's account is its
-- statement's (one composite key: an import writes 100,000 lines, and each foreign key is a check a
-- row).
CREATE TABLE statement_lines (
    council_id        uuid NOT NULL,
    id                uuid NOT NULL,
    account_id        uuid NOT NULL,
    statement_id      uuid NOT NULL,
    line_key          bytea NOT NULL CHECK (length(line_key) = 32),
    line_number       integer NOT NULL CHECK (line_number >= 1),
    occurrence        integer NOT NULL CHECK (occurrence >= 0),
    line_date         date NOT NULL,
    description       text NOT NULL CHECK (length(description) BETWEEN 1 AND 500),
    amount_pence      bigint NOT NULL CHECK (amount_pence BETWEEN -100000000000 AND 100000000000 AND amount_pence <> 0),
    balance_pence     bigint,
    reference         text NOT NULL DEFAULT '' CHECK (length(reference) <= 200),
    merchant_category text CHECK (merchant_category ~ '^[0-9]{4}$'),
    kind              text NOT NULL CHECK (kind IN ('council_payment', 'contribution_received', 'spend', 'refund')),
    posted            boolean NOT NULL,
    plan_line_id      uuid,
    matched_by        text CHECK (matched_by IN ('payee', 'personal_assistant', 'provider_reference', 'provider', 'category')),
    flag              text CHECK (flag IN ('excluded_category', 'not_in_plan', 'unexplained')),
    match_reason      text NOT NULL DEFAULT '',
    PRIMARY KEY (council_id, id),
    UNIQUE (council_id, account_id, line_key),
    FOREIGN KEY (council_id, account_id, statement_id) REFERENCES statements (council_id, account_id, id),
    CHECK ((plan_line_id IS NULL) = (matched_by IS NULL))
);
CREATE INDEX statement_lines_statement_idx ON statement_lines (council_id, statement_id, line_number, id);

-- A statement line that needs an auditor: resolved once, with a note (the line never changes).
-- account_id is the line's, copied for the account's lists (the open ones are read through the same
-- index: an account's flags are a few hundred at most).
CREATE TABLE statement_flags (
    council_id        uuid NOT NULL,
    id                uuid NOT NULL,
    account_id        uuid NOT NULL,
    statement_line_id uuid NOT NULL,
    flag              text NOT NULL CHECK (flag IN ('excluded_category', 'not_in_plan', 'unexplained')),
    reason            text NOT NULL DEFAULT '',
    line_date         date NOT NULL,
    amount_pence      bigint NOT NULL,
    resolution        text CHECK (resolution IN ('accepted', 'misspend', 'evidenced_later')),
    note              text CHECK (length(note) BETWEEN 1 AND 2000),
    resolved_by       text,
    resolved_at       timestamptz,
    created_at        timestamptz NOT NULL,
    version           integer NOT NULL DEFAULT 1 CHECK (version >= 1),
    PRIMARY KEY (council_id, id),
    FOREIGN KEY (council_id, statement_line_id) REFERENCES statement_lines (council_id, id),
    -- One flag a line: a flag's id is its line's, so the primary key keeps it one.
    CHECK (id = statement_line_id),
    CHECK ((resolution IS NULL) = (note IS NULL) AND (resolution IS NULL) = (resolved_by IS NULL) AND (resolution IS NULL) = (resolved_at IS NULL))
);
CREATE INDEX statement_flags_account_idx ON statement_flags (council_id, account_id, line_date, id);

-- Evidence of spending (the document lives elsewhere: its reference and checksum are kept),
-- against a statement line or an audit. audit_id has no foreign key here: the audits' migration
-- adds it.
CREATE TABLE evidence_items (
    council_id        uuid NOT NULL,
    id                uuid NOT NULL,
    account_id        uuid NOT NULL,
    statement_line_id uuid,
    audit_id          uuid,
    kind              text NOT NULL CHECK (kind IN ('receipt', 'invoice', 'timesheet', 'payroll_record', 'insurance_certificate', 'dbs_check')),
    reference         text NOT NULL CHECK (length(reference) BETWEEN 1 AND 500),
    sha256            text NOT NULL CHECK (sha256 ~ '^[0-9a-f]{64}$'),
    document_date     date NOT NULL,
    valid_until       date,
    received_on       date NOT NULL,
    note              text NOT NULL DEFAULT '' CHECK (length(note) <= 2000),
    recorded_by       text NOT NULL,
    recorded_at       timestamptz NOT NULL,
    PRIMARY KEY (council_id, id),
    FOREIGN KEY (council_id, account_id) REFERENCES direct_payment_accounts (council_id, id),
    FOREIGN KEY (council_id, statement_line_id) REFERENCES statement_lines (council_id, id),
    CHECK (statement_line_id IS NOT NULL OR audit_id IS NOT NULL),
    CHECK (valid_until IS NULL OR valid_until >= document_date)
);
CREATE INDEX evidence_items_account_idx ON evidence_items (council_id, account_id, recorded_at, id);
CREATE INDEX evidence_items_line_idx ON evidence_items (council_id, statement_line_id) WHERE statement_line_id IS NOT NULL;
CREATE INDEX evidence_items_audit_idx ON evidence_items (council_id, audit_id) WHERE audit_id IS NOT NULL;

-- +goose Down
DROP TABLE evidence_items;
DROP TABLE statement_flags;
DROP TABLE statement_lines;
DROP TABLE statements;
DROP TABLE statement_upload_chunks;
DROP TABLE statement_uploads;
DROP TABLE ledger_entries;
DROP TRIGGER direct_payment_account_open ON direct_payment_agreements;
DROP FUNCTION direct_payment_account_open();
DROP TABLE direct_payment_accounts;
ALTER TABLE council_settings DROP COLUMN merchant_category_map, DROP COLUMN excluded_merchant_categories;
ALTER TABLE access_records DROP CONSTRAINT access_records_entity_type_check,
    ADD CONSTRAINT access_records_entity_type_check CHECK (entity_type IN ('person', 'relationship', 'assessment', 'financial_assessment',
        'personal_budget', 'funding_request', 'support_plan', 'direct_payment_agreement', 'isf_agreement', 'review'));
