-- Payments (DOMAIN.md section 11): the council's payment calendar and BACS originator, the life
-- of direct-payment and ISF agreements after sign-off (signature, amount history, suspensions,
-- ending), one-off payments, recipients' bank and card details (encrypted), payment runs and
-- their lines, overpayments to recover, and the files a run is exported as.
--
-- Exactly once, by the database: a payment line is live until its run is cancelled, it is held
-- when its run is paid (released to a later run), or the bank returns it. Unique indexes on the
-- live lines, each leading with council_id, make a second payment of an (agreement, cycle), a
-- second copy of an adjustment, a one-off or a carried amount impossible, whatever runs,
-- retries and replays happen (see internal/payment/doc.go).
--
-- Lines, amounts, suspensions and one-offs belong to a direct-payment agreement or an ISF
-- agreement: two nullable foreign keys, exactly one set, and a generated agreement_id that the
-- keys use (agreement ids are UUIDs, unique across both tables).

-- +goose Up
ALTER TABLE council_settings
    ADD COLUMN payment_four_weekly_anchor date NOT NULL DEFAULT '2026-04-06',
    ADD COLUMN payment_two_weekly_anchor  date NOT NULL DEFAULT '2026-04-06',
    ADD COLUMN payment_monthly_anchor     date NOT NULL DEFAULT '2026-04-06',
    ADD COLUMN payment_lead_days          integer NOT NULL DEFAULT 7 CHECK (payment_lead_days BETWEEN 0 AND 56),
    ADD COLUMN payment_processing_days    integer NOT NULL DEFAULT 3 CHECK (payment_processing_days BETWEEN 3 AND 20),
    ADD COLUMN bacs_service_user_number   text CHECK (bacs_service_user_number ~ '^[0-9]{6}$'),
    ADD COLUMN bacs_sort_code             text CHECK (bacs_sort_code ~ '^[0-9]{6}$'),
    ADD COLUMN bacs_account_number        text CHECK (bacs_account_number ~ '^[0-9]{8}$'),
    ADD COLUMN bacs_account_name          text CHECK (bacs_account_name ~ '^[A-Z0-9 .&/-]{1,18}$'),
    ADD CONSTRAINT council_settings_bacs_whole CHECK (
        (bacs_service_user_number IS NULL) = (bacs_sort_code IS NULL) AND (bacs_sort_code IS NULL) = (bacs_account_number IS NULL)
        AND (bacs_account_number IS NULL) = (bacs_account_name IS NULL));

ALTER TABLE direct_payment_agreements
    ADD COLUMN end_date   date,
    ADD COLUMN end_reason text,
    ADD COLUMN ended_by   text,
    ADD COLUMN ended_at   timestamptz,
    ADD CONSTRAINT direct_payment_agreements_end_after_start CHECK (end_date IS NULL OR end_date > start_date),
    ADD CONSTRAINT direct_payment_agreements_end_has_reason CHECK (
        (end_date IS NULL) = (end_reason IS NULL) AND (end_date IS NULL) = (ended_at IS NULL)
        AND (end_reason IS NULL OR length(end_reason) BETWEEN 1 AND 2000));
ALTER TABLE isf_agreements
    ADD COLUMN signed_date date,
    ADD COLUMN end_date    date,
    ADD COLUMN end_reason  text,
    ADD COLUMN ended_by    text,
    ADD COLUMN ended_at    timestamptz,
    ADD CONSTRAINT isf_agreements_end_after_start CHECK (end_date IS NULL OR end_date > start_date),
    ADD CONSTRAINT isf_agreements_end_has_reason CHECK (
        (end_date IS NULL) = (end_reason IS NULL) AND (end_date IS NULL) = (ended_at IS NULL)
        AND (end_reason IS NULL OR length(end_reason) BETWEEN 1 AND 2000));
-- The work list of agreements in force that no run has paid yet, and the runs' set-based reads.
CREATE INDEX direct_payment_agreements_start_idx ON direct_payment_agreements (council_id, start_date, id);
CREATE INDEX isf_agreements_start_idx ON isf_agreements (council_id, start_date, id);

-- What an agreement pays a year, from an effective date: the first amount when it is made, then one
-- per repricing (a revised plan, a backdated contribution). A later-recorded amount replaces every
-- amount from its date on; amounts are never edited, so what was paid against stays explained.
-- seq is the order they were recorded in (repricings of an agreement are serialised by its row
-- lock), which no clock can reorder.
CREATE TABLE payment_agreement_amounts (
    council_id       uuid NOT NULL,
    id               uuid NOT NULL,
    seq              bigint GENERATED ALWAYS AS IDENTITY,
    dp_agreement_id  uuid,
    isf_agreement_id uuid,
    agreement_id     uuid GENERATED ALWAYS AS (coalesce(dp_agreement_id, isf_agreement_id)) STORED,
    effective_from   date NOT NULL,
    annual_pence     bigint NOT NULL CHECK (annual_pence BETWEEN 0 AND 100000000000),
    plan_id          uuid NOT NULL,
    reason           text NOT NULL CHECK (length(reason) BETWEEN 1 AND 2000),
    recorded_by      text NOT NULL,
    recorded_at      timestamptz NOT NULL,
    PRIMARY KEY (council_id, id),
    FOREIGN KEY (council_id, dp_agreement_id) REFERENCES direct_payment_agreements (council_id, id),
    FOREIGN KEY (council_id, isf_agreement_id) REFERENCES isf_agreements (council_id, id),
    FOREIGN KEY (council_id, plan_id) REFERENCES support_plans (council_id, id),
    CHECK ((dp_agreement_id IS NULL) <> (isf_agreement_id IS NULL))
);
CREATE INDEX payment_agreement_amounts_agreement_idx ON payment_agreement_amounts (council_id, agreement_id, seq);
INSERT INTO payment_agreement_amounts (council_id, id, dp_agreement_id, effective_from, annual_pence, plan_id, reason, recorded_by, recorded_at)
SELECT council_id, gen_random_uuid(), id, start_date, annual_amount_pence, plan_id, 'agreement created', 'migration:00012', created_at
  FROM direct_payment_agreements;
INSERT INTO payment_agreement_amounts (council_id, id, isf_agreement_id, effective_from, annual_pence, plan_id, reason, recorded_by, recorded_at)
SELECT council_id, gen_random_uuid(), id, start_date, annual_amount_pence, plan_id, 'agreement created', 'migration:00012', created_at
  FROM isf_agreements;

-- Suspension stops an agreement's cycles from from_date; resume_date is the day payments start
-- again (exclusive end). Its days are owed only when the resumption asks for back pay.
CREATE TABLE payment_suspensions (
    council_id       uuid NOT NULL,
    id               uuid NOT NULL,
    dp_agreement_id  uuid,
    isf_agreement_id uuid,
    agreement_id     uuid GENERATED ALWAYS AS (coalesce(dp_agreement_id, isf_agreement_id)) STORED,
    from_date        date NOT NULL,
    resume_date      date,
    back_pay         boolean NOT NULL DEFAULT false,
    reason           text NOT NULL CHECK (length(reason) BETWEEN 1 AND 2000),
    resume_reason    text CHECK (length(resume_reason) BETWEEN 1 AND 2000),
    suspended_by     text NOT NULL,
    suspended_at     timestamptz NOT NULL,
    resumed_by       text,
    resumed_at       timestamptz,
    PRIMARY KEY (council_id, id),
    FOREIGN KEY (council_id, dp_agreement_id) REFERENCES direct_payment_agreements (council_id, id),
    FOREIGN KEY (council_id, isf_agreement_id) REFERENCES isf_agreements (council_id, id),
    CHECK ((dp_agreement_id IS NULL) <> (isf_agreement_id IS NULL)),
    CHECK (resume_date IS NULL OR resume_date > from_date),
    CHECK ((resume_date IS NULL) = (resumed_at IS NULL) AND (resume_date IS NULL) = (resume_reason IS NULL)),
    CHECK (resume_date IS NOT NULL OR NOT back_pay)
);
-- One open suspension an agreement; overlaps are refused under the agreement's row lock.
CREATE UNIQUE INDEX payment_suspensions_open_key ON payment_suspensions (council_id, agreement_id) WHERE resume_date IS NULL;
CREATE INDEX payment_suspensions_agreement_idx ON payment_suspensions (council_id, agreement_id, from_date);

-- One-off payments: a plan line's one-off cost (approved by the plan's sign-off), or an ad hoc
-- amount with a reason, approved by a second user. The next run whose horizon reaches due_date
-- pays it.
CREATE TABLE payment_one_offs (
    council_id       uuid NOT NULL,
    id               uuid NOT NULL,
    dp_agreement_id  uuid,
    isf_agreement_id uuid,
    agreement_id     uuid GENERATED ALWAYS AS (coalesce(dp_agreement_id, isf_agreement_id)) STORED,
    plan_line_id     uuid,
    amount_pence     bigint NOT NULL CHECK (amount_pence BETWEEN 1 AND 100000000000),
    reason           text NOT NULL CHECK (length(reason) BETWEEN 1 AND 2000),
    due_date         date,
    status           text NOT NULL CHECK (status IN ('requested', 'approved')),
    requested_by     text NOT NULL,
    requested_at     timestamptz NOT NULL,
    approved_by      text,
    approved_at      timestamptz,
    version          integer NOT NULL CHECK (version >= 1),
    PRIMARY KEY (council_id, id),
    FOREIGN KEY (council_id, dp_agreement_id) REFERENCES direct_payment_agreements (council_id, id),
    FOREIGN KEY (council_id, isf_agreement_id) REFERENCES isf_agreements (council_id, id),
    FOREIGN KEY (council_id, plan_line_id) REFERENCES plan_lines (council_id, id),
    CHECK ((dp_agreement_id IS NULL) <> (isf_agreement_id IS NULL)),
    CHECK ((status = 'approved') = (approved_at IS NOT NULL)),
    -- Segregation of duties: an ad hoc amount is approved by someone other than who asked for it.
    CHECK (approved_by IS NULL OR approved_by <> requested_by),
    CHECK (plan_line_id IS NOT NULL OR status = 'requested' OR approved_by IS NOT NULL)
);
CREATE UNIQUE INDEX payment_one_offs_line_key ON payment_one_offs (council_id, agreement_id, plan_line_id) WHERE plan_line_id IS NOT NULL;
CREATE INDEX payment_one_offs_list_idx ON payment_one_offs (council_id, requested_at, id);
CREATE INDEX payment_one_offs_agreement_idx ON payment_one_offs (council_id, agreement_id) WHERE status = 'approved';

-- Recipients' bank and card details: a direct-payment agreement's account, or an ISF provider's.
-- sealed is AES-256-GCM ciphertext (internal/secret), bound to the council, the row and the
-- purpose; key_id names its key, so that rotation can count what is left to re-encrypt. Only
-- the masks are plain. A new row is pending until a second user confirms it (payment-diversion
-- fraud); then it replaces the confirmed one.
CREATE TABLE payment_recipient_details (
    council_id       uuid NOT NULL,
    id               uuid NOT NULL,
    dp_agreement_id  uuid,
    provider_id      uuid,
    owner_id         uuid GENERATED ALWAYS AS (coalesce(dp_agreement_id, provider_id)) STORED,
    kind             text NOT NULL CHECK (kind IN ('bank_account', 'prepaid_card')),
    sealed           bytea NOT NULL,
    key_id           text NOT NULL,
    masked_sort_code text,
    masked_number    text NOT NULL,
    status           text NOT NULL CHECK (status IN ('pending', 'confirmed', 'superseded')),
    set_by           text NOT NULL,
    set_at           timestamptz NOT NULL,
    set_reason       text NOT NULL CHECK (length(set_reason) BETWEEN 1 AND 2000),
    confirmed_by     text,
    confirmed_at     timestamptz,
    superseded_at    timestamptz,
    returned_at      timestamptz,
    return_reason    text,
    PRIMARY KEY (council_id, id),
    FOREIGN KEY (council_id, dp_agreement_id) REFERENCES direct_payment_agreements (council_id, id),
    FOREIGN KEY (council_id, provider_id) REFERENCES providers (council_id, id),
    CHECK ((dp_agreement_id IS NULL) <> (provider_id IS NULL)),
    CHECK ((kind = 'bank_account') = (masked_sort_code IS NOT NULL)),
    CHECK (confirmed_by IS NULL OR confirmed_by <> set_by),
    CHECK ((confirmed_by IS NULL) = (confirmed_at IS NULL)),
    CHECK (status <> 'confirmed' OR confirmed_by IS NOT NULL),
    CHECK ((status = 'superseded') = (superseded_at IS NOT NULL)),
    CHECK ((returned_at IS NULL) = (return_reason IS NULL))
);
CREATE UNIQUE INDEX payment_recipient_details_pending_key ON payment_recipient_details (council_id, owner_id) WHERE status = 'pending';
CREATE UNIQUE INDEX payment_recipient_details_confirmed_key ON payment_recipient_details (council_id, owner_id) WHERE status = 'confirmed';
CREATE INDEX payment_recipient_details_key_idx ON payment_recipient_details (key_id);

CREATE TABLE payment_runs (
    council_id           uuid NOT NULL REFERENCES councils (id),
    id                   uuid NOT NULL,
    number               integer NOT NULL CHECK (number >= 1),
    pay_date             date NOT NULL,
    status               text NOT NULL CHECK (status IN ('building', 'draft', 'approved', 'exported', 'paid', 'cancelled')),
    lead_days            integer NOT NULL CHECK (lead_days BETWEEN 0 AND 56),
    horizon              date NOT NULL,
    processing_day       date,
    created_by           text NOT NULL,
    created_at           timestamptz NOT NULL,
    approved_by          text,
    approved_at          timestamptz,
    exported_by          text,
    exported_at          timestamptz,
    paid_by              text,
    paid_at              timestamptz,
    cancelled_by         text,
    cancelled_at         timestamptz,
    cancel_reason        text CHECK (length(cancel_reason) BETWEEN 1 AND 2000),
    agreements_total     integer NOT NULL DEFAULT 0 CHECK (agreements_total >= 0),
    agreements_processed integer NOT NULL DEFAULT 0 CHECK (agreements_processed >= 0),
    build_phase          text NOT NULL DEFAULT 'direct_payment' CHECK (build_phase IN ('direct_payment', 'isf', 'done')),
    build_cursor         uuid,
    build_error          text,
    line_count           integer NOT NULL DEFAULT 0,
    agreement_count      integer NOT NULL DEFAULT 0,
    skipped_count        integer NOT NULL DEFAULT 0,
    total_pence          bigint NOT NULL DEFAULT 0 CHECK (total_pence >= 0),
    held_line_count      integer NOT NULL DEFAULT 0,
    held_pence           bigint NOT NULL DEFAULT 0,
    returned_line_count  integer NOT NULL DEFAULT 0,
    returned_pence       bigint NOT NULL DEFAULT 0,
    version              integer NOT NULL CHECK (version >= 1),
    updated_at           timestamptz NOT NULL,
    PRIMARY KEY (council_id, id),
    UNIQUE (council_id, number),
    -- Segregation of duties: a run is approved by someone other than its creator.
    CHECK (approved_by IS NULL OR approved_by <> created_by),
    CHECK ((approved_by IS NULL) = (approved_at IS NULL) AND (approved_at IS NULL) = (processing_day IS NULL)),
    CHECK ((exported_at IS NULL) = (exported_by IS NULL) AND (exported_at IS NULL OR approved_at IS NOT NULL)),
    CHECK ((paid_at IS NULL) = (paid_by IS NULL) AND (paid_at IS NULL OR exported_at IS NOT NULL)),
    CHECK ((cancelled_at IS NULL) = (cancel_reason IS NULL) AND (cancelled_at IS NULL OR exported_at IS NULL)),
    CHECK ((status IN ('approved', 'exported', 'paid')) <= (approved_at IS NOT NULL)),
    CHECK ((status = 'cancelled') = (cancelled_at IS NOT NULL))
);
CREATE INDEX payment_runs_list_idx ON payment_runs (council_id, created_at, id);
CREATE INDEX payment_runs_status_idx ON payment_runs (council_id, status, created_at, id);
CREATE INDEX payment_runs_building_idx ON payment_runs (created_at) WHERE status = 'building';

-- person_id and provider_id copy the agreement's (for remittances and lists) and have no foreign
-- keys of their own: the agreement's keys cover them, and a run inserts thousands of lines.
CREATE TABLE payment_lines (
    council_id       uuid NOT NULL,
    id               uuid NOT NULL,
    run_id           uuid NOT NULL,
    dp_agreement_id  uuid,
    isf_agreement_id uuid,
    agreement_id     uuid GENERATED ALWAYS AS (coalesce(dp_agreement_id, isf_agreement_id)) STORED,
    person_id        uuid NOT NULL,
    provider_id      uuid,
    kind             text NOT NULL CHECK (kind IN ('cycle', 'adjustment', 'one_off', 'carried', 'overpayment')),
    cycle_start      date,
    cycle_end        date,
    seq              integer NOT NULL DEFAULT 0 CHECK (seq >= 0),
    one_off_id       uuid,
    carry_run_id     uuid,
    amount_pence     bigint NOT NULL CHECK (amount_pence BETWEEN -100000000000 AND 100000000000),
    owed_pence       bigint,
    taken_pence      bigint,
    reason           text NOT NULL,
    held             boolean NOT NULL DEFAULT false,
    hold_reason      text,
    held_by          text,
    state            text NOT NULL DEFAULT 'live' CHECK (state IN ('live', 'released', 'cancelled', 'returned')),
    return_reason    text,
    created_at       timestamptz NOT NULL,
    PRIMARY KEY (council_id, id),
    FOREIGN KEY (council_id, run_id) REFERENCES payment_runs (council_id, id),
    FOREIGN KEY (council_id, dp_agreement_id) REFERENCES direct_payment_agreements (council_id, id),
    FOREIGN KEY (council_id, isf_agreement_id) REFERENCES isf_agreements (council_id, id),
    FOREIGN KEY (council_id, one_off_id) REFERENCES payment_one_offs (council_id, id),
    FOREIGN KEY (council_id, carry_run_id) REFERENCES payment_runs (council_id, id),
    CHECK ((dp_agreement_id IS NULL) <> (isf_agreement_id IS NULL)),
    CHECK ((isf_agreement_id IS NULL) = (provider_id IS NULL)),
    CHECK ((kind IN ('cycle', 'adjustment')) = (cycle_start IS NOT NULL AND cycle_end IS NOT NULL)),
    CHECK ((kind = 'adjustment') = (seq > 0)),
    CHECK ((kind = 'one_off') = (one_off_id IS NOT NULL)),
    CHECK ((kind IN ('carried', 'overpayment')) = (carry_run_id IS NOT NULL)),
    CHECK (amount_pence > 0 OR kind IN ('adjustment', 'carried')),
    CHECK (held = (hold_reason IS NOT NULL)),
    CHECK ((state = 'returned') = (return_reason IS NOT NULL))
);
CREATE UNIQUE INDEX payment_lines_cycle_key ON payment_lines (council_id, agreement_id, cycle_start)
    WHERE kind = 'cycle' AND state = 'live';
CREATE UNIQUE INDEX payment_lines_adjustment_key ON payment_lines (council_id, agreement_id, cycle_start, seq)
    WHERE kind = 'adjustment' AND state = 'live';
CREATE UNIQUE INDEX payment_lines_one_off_key ON payment_lines (council_id, agreement_id, one_off_id)
    WHERE kind = 'one_off' AND state = 'live';
CREATE UNIQUE INDEX payment_lines_brought_forward_key ON payment_lines (council_id, agreement_id, carry_run_id)
    WHERE kind = 'carried' AND amount_pence < 0 AND state = 'live';
CREATE UNIQUE INDEX payment_lines_carried_forward_key ON payment_lines (council_id, run_id, agreement_id)
    WHERE kind = 'carried' AND amount_pence > 0 AND state = 'live';
CREATE UNIQUE INDEX payment_lines_overpayment_key ON payment_lines (council_id, run_id, agreement_id)
    WHERE kind = 'overpayment' AND state = 'live';
CREATE INDEX payment_lines_run_idx ON payment_lines (council_id, run_id, created_at, id);
CREATE INDEX payment_lines_agreement_idx ON payment_lines (council_id, agreement_id, created_at, id);
CREATE INDEX payment_lines_held_idx ON payment_lines (council_id, created_at, id) WHERE held AND state = 'live';

-- Money paid for days no longer owed that no later payment could offset: recorded when the run
-- that found it is paid, for the recovery workflow.
CREATE TABLE payment_overpayments (
    council_id       uuid NOT NULL,
    id               uuid NOT NULL,
    dp_agreement_id  uuid,
    isf_agreement_id uuid,
    agreement_id     uuid GENERATED ALWAYS AS (coalesce(dp_agreement_id, isf_agreement_id)) STORED,
    run_id           uuid NOT NULL,
    line_id          uuid NOT NULL,
    amount_pence     bigint NOT NULL CHECK (amount_pence BETWEEN 1 AND 100000000000),
    reason           text NOT NULL,
    status           text NOT NULL CHECK (status IN ('to_recover')),
    recorded_at      timestamptz NOT NULL,
    PRIMARY KEY (council_id, id),
    UNIQUE (council_id, line_id),
    FOREIGN KEY (council_id, dp_agreement_id) REFERENCES direct_payment_agreements (council_id, id),
    FOREIGN KEY (council_id, isf_agreement_id) REFERENCES isf_agreements (council_id, id),
    FOREIGN KEY (council_id, run_id) REFERENCES payment_runs (council_id, id),
    FOREIGN KEY (council_id, line_id) REFERENCES payment_lines (council_id, id),
    CHECK ((dp_agreement_id IS NULL) <> (isf_agreement_id IS NULL))
);
CREATE INDEX payment_overpayments_list_idx ON payment_overpayments (council_id, recorded_at, id);

-- The files a run was exported as, sealed (the BACS file carries bank details): exporting again
-- returns these bytes.
CREATE TABLE payment_files (
    council_id   uuid NOT NULL,
    id           uuid NOT NULL,
    run_id       uuid NOT NULL,
    kind         text NOT NULL CHECK (kind IN ('bacs_standard18', 'card_loads', 'isf_remittance')),
    provider_id  uuid,
    name         text NOT NULL,
    media_type   text NOT NULL,
    sealed       bytea NOT NULL,
    key_id       text NOT NULL,
    sha256       text NOT NULL CHECK (sha256 ~ '^[0-9a-f]{64}$'),
    size_bytes   integer NOT NULL CHECK (size_bytes > 0),
    record_count integer NOT NULL CHECK (record_count >= 1),
    total_pence  bigint NOT NULL CHECK (total_pence >= 0),
    created_at   timestamptz NOT NULL,
    PRIMARY KEY (council_id, id),
    UNIQUE NULLS NOT DISTINCT (council_id, run_id, kind, provider_id),
    FOREIGN KEY (council_id, run_id) REFERENCES payment_runs (council_id, id),
    FOREIGN KEY (council_id, provider_id) REFERENCES providers (council_id, id),
    CHECK ((kind = 'isf_remittance') = (provider_id IS NOT NULL))
);
CREATE INDEX payment_files_list_idx ON payment_files (council_id, created_at, id);
CREATE INDEX payment_files_provider_idx ON payment_files (council_id, provider_id, created_at, id) WHERE provider_id IS NOT NULL;
CREATE INDEX payment_files_key_idx ON payment_files (key_id);

-- +goose Down
DROP TABLE payment_files;
DROP TABLE payment_overpayments;
DROP TABLE payment_lines;
DROP TABLE payment_runs;
DROP TABLE payment_recipient_details;
DROP TABLE payment_one_offs;
DROP TABLE payment_suspensions;
DROP TABLE payment_agreement_amounts;
DROP INDEX isf_agreements_start_idx;
DROP INDEX direct_payment_agreements_start_idx;
ALTER TABLE isf_agreements
    DROP CONSTRAINT isf_agreements_end_has_reason, DROP CONSTRAINT isf_agreements_end_after_start,
    DROP COLUMN ended_at, DROP COLUMN ended_by, DROP COLUMN end_reason, DROP COLUMN end_date, DROP COLUMN signed_date;
ALTER TABLE direct_payment_agreements
    DROP CONSTRAINT direct_payment_agreements_end_has_reason, DROP CONSTRAINT direct_payment_agreements_end_after_start,
    DROP COLUMN ended_at, DROP COLUMN ended_by, DROP COLUMN end_reason, DROP COLUMN end_date;
ALTER TABLE council_settings
    DROP CONSTRAINT council_settings_bacs_whole,
    DROP COLUMN bacs_account_name, DROP COLUMN bacs_account_number, DROP COLUMN bacs_sort_code, DROP COLUMN bacs_service_user_number,
    DROP COLUMN payment_processing_days, DROP COLUMN payment_lead_days,
    DROP COLUMN payment_monthly_anchor, DROP COLUMN payment_two_weekly_anchor, DROP COLUMN payment_four_weekly_anchor;
