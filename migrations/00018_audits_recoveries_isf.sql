-- The DP financial audit, recovery and ISF providers' statements (DOMAIN.md section 11, issue 12
-- items 4 to 7; invariants 15 to 18).
--
-- Exactly once, by the database: a recovery's offset is a payment line of kind 'recovery' with a
-- unique key per (recovery, cycle) among live lines, so that a cycle is offset once whatever runs,
-- retries and replays happen; a scheduled audit is unique per (agreement, period start), so that
-- the hourly schedule job inserts each audit once; an ISF period has one live statement.

-- +goose Up
ALTER TABLE council_settings
    ADD COLUMN audit_first_weeks            integer NOT NULL DEFAULT 12 CHECK (audit_first_weeks BETWEEN 1 AND 52),
    ADD COLUMN audit_evidence_due_days      integer NOT NULL DEFAULT 28 CHECK (audit_evidence_due_days BETWEEN 1 AND 180),
    ADD COLUMN audit_conclude_within_days   integer NOT NULL DEFAULT 56 CHECK (audit_conclude_within_days BETWEEN 1 AND 365),
    ADD COLUMN audit_contingency_weeks      integer NOT NULL DEFAULT 8 CHECK (audit_contingency_weeks BETWEEN 0 AND 52),
    ADD COLUMN audit_termination_notice_weeks integer NOT NULL DEFAULT 4 CHECK (audit_termination_notice_weeks BETWEEN 0 AND 26),
    ADD COLUMN isf_surplus_weeks            integer NOT NULL DEFAULT 4 CHECK (isf_surplus_weeks BETWEEN 0 AND 52),
    ADD COLUMN isf_surplus_max_weeks        integer NOT NULL DEFAULT 12 CHECK (isf_surplus_max_weeks BETWEEN 1 AND 104),
    ADD COLUMN isf_statement_due_days       integer NOT NULL DEFAULT 14 CHECK (isf_statement_due_days BETWEEN 1 AND 90);

-- A provider's statement for one ISF and one period. A queried statement is replaced by a new
-- one for the same period; the others are the period's live statement.
CREATE TABLE isf_statements (
    council_id        uuid NOT NULL,
    id                uuid NOT NULL,
    isf_agreement_id  uuid NOT NULL,
    provider_id       uuid NOT NULL,
    person_id         uuid NOT NULL,
    period_start      date NOT NULL,
    period_end        date NOT NULL CHECK (period_end > period_start),
    opening_balance_pence        bigint NOT NULL CHECK (opening_balance_pence BETWEEN -100000000000 AND 100000000000),
    received_from_council_pence  bigint NOT NULL CHECK (received_from_council_pence BETWEEN 0 AND 100000000000),
    received_from_person_pence   bigint NOT NULL CHECK (received_from_person_pence BETWEEN 0 AND 100000000000),
    spent_pence                  bigint NOT NULL CHECK (spent_pence BETWEEN 0 AND 100000000000000),
    closing_balance_pence        bigint NOT NULL CHECK (closing_balance_pence BETWEEN -100000000000 AND 100000000000),
    status            text NOT NULL CHECK (status IN ('submitted', 'accepted', 'queried')),
    decision_reason   text CHECK (length(decision_reason) BETWEEN 1 AND 2000),
    decided_by        text,
    decided_at        timestamptz,
    submitted_by      text NOT NULL,
    created_at        timestamptz NOT NULL,
    version           integer NOT NULL CHECK (version >= 1),
    PRIMARY KEY (council_id, id),
    FOREIGN KEY (council_id, isf_agreement_id) REFERENCES isf_agreements (council_id, id),
    FOREIGN KEY (council_id, provider_id) REFERENCES providers (council_id, id),
    FOREIGN KEY (council_id, person_id) REFERENCES people (council_id, id),
    CHECK (closing_balance_pence = opening_balance_pence + received_from_council_pence + received_from_person_pence - spent_pence),
    CHECK ((status = 'submitted') = (decided_at IS NULL) AND (decided_at IS NULL) = (decided_by IS NULL)),
    CHECK (status <> 'queried' OR decision_reason IS NOT NULL)
);
CREATE UNIQUE INDEX isf_statements_live_period_key ON isf_statements (council_id, isf_agreement_id, period_start)
    WHERE status <> 'queried';
CREATE INDEX isf_statements_agreement_idx ON isf_statements (council_id, isf_agreement_id, period_start, created_at, id);
CREATE INDEX isf_statements_list_idx ON isf_statements (council_id, created_at, id);

-- A statement's lines: spending per plan line (append-only, written with the statement).
CREATE TABLE isf_statement_lines (
    council_id       uuid NOT NULL,
    statement_id     uuid NOT NULL,
    position         integer NOT NULL CHECK (position >= 0),
    plan_line_id     uuid NOT NULL,
    units_hundredths bigint NOT NULL CHECK (units_hundredths > 0),
    rate_pence       bigint NOT NULL CHECK (rate_pence >= 0),
    amount_pence     bigint NOT NULL CHECK (amount_pence >= 0),
    PRIMARY KEY (council_id, statement_id, position),
    FOREIGN KEY (council_id, statement_id) REFERENCES isf_statements (council_id, id),
    FOREIGN KEY (council_id, plan_line_id) REFERENCES plan_lines (council_id, id)
);

-- A direct-payment audit (internal/dpaudit). Its recorded figures (the reconciliation, the
-- surplus with its liabilities, the findings and the outcome) are kept as the decision used them.
CREATE TABLE dp_audits (
    council_id        uuid NOT NULL,
    id                uuid NOT NULL,
    dp_agreement_id   uuid NOT NULL,
    person_id         uuid NOT NULL,
    kind              text NOT NULL CHECK (kind IN ('scheduled', 'ad_hoc')),
    period_start      date NOT NULL,
    period_end        date NOT NULL CHECK (period_end > period_start),
    due               date NOT NULL,
    state             text NOT NULL CHECK (state IN ('planned', 'evidence_requested', 'evidence_received', 'reconciled',
                          'concluded', 'closed', 'cancelled')),
    concern_reason    text CHECK (length(concern_reason) BETWEEN 1 AND 2000),
    evidence_due      date,
    statement_closing_pence bigint CHECK (statement_closing_pence BETWEEN -100000000000 AND 100000000000),
    reconciliation    jsonb,
    surplus           jsonb,
    liabilities       jsonb NOT NULL DEFAULT '[]',
    outcome           jsonb,
    outcome_kind      text CHECK (outcome_kind IN ('satisfactory', 'action_plan', 'recovery', 'suspend_payments', 'terminate')),
    action_plan_due   date,
    cancel_reason     text CHECK (length(cancel_reason) BETWEEN 1 AND 2000),
    concluded_on      date,
    created_by        text NOT NULL,
    created_at        timestamptz NOT NULL,
    updated_at        timestamptz NOT NULL,
    version           integer NOT NULL CHECK (version >= 1),
    PRIMARY KEY (council_id, id),
    FOREIGN KEY (council_id, dp_agreement_id) REFERENCES direct_payment_agreements (council_id, id),
    FOREIGN KEY (council_id, person_id) REFERENCES people (council_id, id),
    CHECK ((kind = 'ad_hoc') = (concern_reason IS NOT NULL)),
    CHECK ((state = 'cancelled') = (cancel_reason IS NOT NULL)),
    CHECK ((outcome_kind IS NULL) = (outcome IS NULL)),
    CHECK ((outcome_kind IS NOT NULL) = (state IN ('concluded', 'closed'))),
    CHECK ((outcome_kind = 'action_plan') = (action_plan_due IS NOT NULL))
);
CREATE UNIQUE INDEX dp_audits_scheduled_key ON dp_audits (council_id, dp_agreement_id, period_start) WHERE kind = 'scheduled';
CREATE INDEX dp_audits_work_idx ON dp_audits (council_id, state, due);
CREATE INDEX dp_audits_agreement_idx ON dp_audits (council_id, dp_agreement_id, period_start);
CREATE INDEX dp_audits_list_idx ON dp_audits (council_id, created_at, id);

-- An audit's findings at its latest reconciliation (replaced while the audit is not concluded).
CREATE TABLE dp_audit_findings (
    council_id   uuid NOT NULL,
    audit_id     uuid NOT NULL,
    position     integer NOT NULL CHECK (position >= 0),
    type         text NOT NULL CHECK (type IN ('unevidenced_spend', 'spend_outside_plan', 'excluded_category', 'contribution_shortfall',
                     'pa_evidence_missing', 'pa_evidence_expired', 'unexplained_difference')),
    count        integer NOT NULL CHECK (count >= 1),
    amount_pence bigint NOT NULL CHECK (amount_pence >= 0),
    detail       text NOT NULL,
    PRIMARY KEY (council_id, audit_id, position),
    FOREIGN KEY (council_id, audit_id) REFERENCES dp_audits (council_id, id)
);

-- Evidence items (00017) recorded against an audit name one of this council's audits.
ALTER TABLE evidence_items ADD CONSTRAINT evidence_items_audit_fk FOREIGN KEY (council_id, audit_id) REFERENCES dp_audits (council_id, id);

-- The evidence an audit asked for, and when it arrived.
CREATE TABLE dp_audit_evidence_requests (
    council_id   uuid NOT NULL,
    id           uuid NOT NULL,
    audit_id     uuid NOT NULL,
    kind         text NOT NULL CHECK (kind IN ('receipt', 'invoice', 'timesheet', 'payroll_record', 'insurance_certificate', 'dbs_check', 'bank_statement')),
    description  text NOT NULL CHECK (length(description) BETWEEN 1 AND 500),
    requested_on date NOT NULL,
    due          date NOT NULL,
    received_on  date,
    PRIMARY KEY (council_id, id),
    FOREIGN KEY (council_id, audit_id) REFERENCES dp_audits (council_id, id)
);
CREATE INDEX dp_audit_evidence_requests_audit_idx ON dp_audit_evidence_requests (council_id, audit_id, requested_on, id);

-- A recovery of the council's share (internal/recovery): from an audit's surplus or misspend, or
-- an overpayment after an ending. The reason is required, by the service and here.
CREATE TABLE recoveries (
    council_id          uuid NOT NULL,
    id                  uuid NOT NULL,
    dp_agreement_id     uuid,
    isf_agreement_id    uuid,
    agreement_id        uuid GENERATED ALWAYS AS (coalesce(dp_agreement_id, isf_agreement_id)) STORED,
    person_id           uuid NOT NULL,
    audit_id            uuid,
    overpayment_id      uuid,
    basis               text NOT NULL CHECK (basis IN ('surplus', 'misspend', 'overpayment_after_end')),
    amount_pence        bigint NOT NULL CHECK (amount_pence BETWEEN 1 AND 100000000000),
    council_share_pence bigint NOT NULL CHECK (council_share_pence BETWEEN 0 AND 100000000000),
    person_excess_pence bigint NOT NULL CHECK (person_excess_pence BETWEEN 0 AND 100000000000),
    excess              text CHECK (excess IN ('refund', 'keep_as_contribution')),
    reason              text NOT NULL CHECK (length(reason) BETWEEN 1 AND 2000),
    method              text NOT NULL CHECK (method IN ('invoice', 'offset', 'card_recoup')),
    cycles              integer NOT NULL DEFAULT 0 CHECK (cycles BETWEEN 0 AND 26),
    status              text NOT NULL CHECK (status IN ('proposed', 'notified', 'disputed', 'part_recovered', 'recovered', 'written_off')),
    notice_date         date,
    invoice_due         date,
    grounds             text CHECK (length(grounds) BETWEEN 1 AND 2000),
    recovered_pence     bigint NOT NULL DEFAULT 0 CHECK (recovered_pence >= 0),
    written_off_pence   bigint NOT NULL DEFAULT 0 CHECK (written_off_pence >= 0),
    write_off_reason    text CHECK (length(write_off_reason) BETWEEN 1 AND 2000),
    created_by          text NOT NULL,
    created_at          timestamptz NOT NULL,
    updated_at          timestamptz NOT NULL,
    version             integer NOT NULL CHECK (version >= 1),
    PRIMARY KEY (council_id, id),
    FOREIGN KEY (council_id, dp_agreement_id) REFERENCES direct_payment_agreements (council_id, id),
    FOREIGN KEY (council_id, isf_agreement_id) REFERENCES isf_agreements (council_id, id),
    FOREIGN KEY (council_id, person_id) REFERENCES people (council_id, id),
    FOREIGN KEY (council_id, audit_id) REFERENCES dp_audits (council_id, id),
    FOREIGN KEY (council_id, overpayment_id) REFERENCES payment_overpayments (council_id, id),
    CHECK ((dp_agreement_id IS NULL) <> (isf_agreement_id IS NULL)),
    CHECK (amount_pence <= council_share_pence),
    CHECK (recovered_pence + written_off_pence <= amount_pence),
    CHECK ((method = 'offset') = (cycles > 0)),
    CHECK ((status = 'disputed') = (grounds IS NOT NULL)),
    CHECK ((status = 'written_off') = (write_off_reason IS NOT NULL)),
    CHECK (status = 'proposed' OR notice_date IS NOT NULL),
    CHECK ((status = 'recovered') = (recovered_pence = amount_pence))
);
CREATE INDEX recoveries_agreement_idx ON recoveries (council_id, agreement_id, created_at, id);
CREATE INDEX recoveries_list_idx ON recoveries (council_id, created_at, id);
CREATE INDEX recoveries_offsets_idx ON recoveries (council_id, agreement_id) WHERE method = 'offset' AND status IN ('notified', 'part_recovered');
CREATE UNIQUE INDEX recoveries_overpayment_key ON recoveries (council_id, overpayment_id) WHERE overpayment_id IS NOT NULL AND status <> 'written_off';

-- Offsets: a payment line of kind 'recovery', negative, once per (recovery, cycle).
ALTER TABLE payment_lines ADD COLUMN recovery_id uuid;
ALTER TABLE payment_lines ADD CONSTRAINT payment_lines_recovery_fk FOREIGN KEY (council_id, recovery_id) REFERENCES recoveries (council_id, id);
ALTER TABLE payment_lines DROP CONSTRAINT payment_lines_kind_check;
ALTER TABLE payment_lines ADD CONSTRAINT payment_lines_kind_check
    CHECK (kind IN ('cycle', 'adjustment', 'one_off', 'carried', 'overpayment', 'recovery'));
-- +goose StatementBegin
DO $$
DECLARE c record;
BEGIN
    FOR c IN SELECT conname FROM pg_constraint
              WHERE conrelid = 'payment_lines'::regclass AND contype = 'c'
                AND (pg_get_constraintdef(oid) LIKE '%cycle_start IS NOT NULL%' OR pg_get_constraintdef(oid) LIKE '%amount_pence > 0%')
    LOOP
        EXECUTE format('ALTER TABLE payment_lines DROP CONSTRAINT %I', c.conname);
    END LOOP;
END $$;
-- +goose StatementEnd
ALTER TABLE payment_lines
    ADD CONSTRAINT payment_lines_cycle_dates CHECK ((kind IN ('cycle', 'adjustment', 'recovery')) = (cycle_start IS NOT NULL AND cycle_end IS NOT NULL)),
    ADD CONSTRAINT payment_lines_sign CHECK (amount_pence > 0 OR kind IN ('adjustment', 'carried') OR (kind = 'recovery' AND amount_pence < 0)),
    ADD CONSTRAINT payment_lines_recovery_whole CHECK ((kind = 'recovery') = (recovery_id IS NOT NULL));
CREATE UNIQUE INDEX payment_lines_recovery_key ON payment_lines (council_id, recovery_id, cycle_start)
    WHERE kind = 'recovery' AND state = 'live';

-- +goose Down
DROP INDEX payment_lines_recovery_key;
DELETE FROM payment_lines WHERE kind = 'recovery';
ALTER TABLE payment_lines DROP CONSTRAINT payment_lines_recovery_whole, DROP CONSTRAINT payment_lines_sign, DROP CONSTRAINT payment_lines_cycle_dates,
    DROP CONSTRAINT payment_lines_kind_check, DROP CONSTRAINT payment_lines_recovery_fk;
ALTER TABLE payment_lines DROP COLUMN recovery_id;
ALTER TABLE payment_lines
    ADD CONSTRAINT payment_lines_kind_check CHECK (kind IN ('cycle', 'adjustment', 'one_off', 'carried', 'overpayment')),
    ADD CONSTRAINT payment_lines_cycle_dates CHECK ((kind IN ('cycle', 'adjustment')) = (cycle_start IS NOT NULL AND cycle_end IS NOT NULL)),
    ADD CONSTRAINT payment_lines_sign CHECK (amount_pence > 0 OR kind IN ('adjustment', 'carried'));
DROP TABLE recoveries;
ALTER TABLE evidence_items DROP CONSTRAINT evidence_items_audit_fk;
DROP TABLE dp_audit_evidence_requests;
DROP TABLE dp_audit_findings;
DROP TABLE dp_audits;
DROP TABLE isf_statement_lines;
DROP TABLE isf_statements;
ALTER TABLE council_settings
    DROP COLUMN isf_statement_due_days, DROP COLUMN isf_surplus_max_weeks, DROP COLUMN isf_surplus_weeks,
    DROP COLUMN audit_termination_notice_weeks, DROP COLUMN audit_contingency_weeks, DROP COLUMN audit_conclude_within_days,
    DROP COLUMN audit_evidence_due_days, DROP COLUMN audit_first_weeks;
