-- Charging: effective-dated rate tables, financial assessments, the council/person split of each
-- budget version, and uprating jobs with their reports.

-- +goose Up
CREATE TABLE rate_tables (
    council_id                uuid NOT NULL REFERENCES councils (id),
    id                        uuid NOT NULL,
    name                      text NOT NULL CHECK (length(name) BETWEEN 1 AND 200),
    valid_from                date NOT NULL,
    capital_lower_pence       bigint NOT NULL CHECK (capital_lower_pence >= 0),
    capital_upper_pence       bigint NOT NULL CHECK (capital_upper_pence >= capital_lower_pence),
    home_capital_lower_pence  bigint CHECK (home_capital_lower_pence >= 0),
    home_capital_upper_pence  bigint CHECK (home_capital_upper_pence >= home_capital_lower_pence),
    tariff_step_pence         bigint NOT NULL CHECK (tariff_step_pence >= 1),
    tariff_per_step_pence     bigint NOT NULL CHECK (tariff_per_step_pence >= 0),
    mig                       jsonb NOT NULL,
    dre_flat_weekly_pence     bigint CHECK (dre_flat_weekly_pence >= 0),
    minimum_weekly_charge_pence bigint NOT NULL CHECK (minimum_weekly_charge_pence >= 0),
    taper_percent             integer NOT NULL CHECK (taper_percent BETWEEN 0 AND 100),
    personal_expenses_weekly_pence bigint CHECK (personal_expenses_weekly_pence >= 0),
    version                   integer NOT NULL CHECK (version >= 1),
    created_at                timestamptz NOT NULL,
    updated_at                timestamptz NOT NULL,
    PRIMARY KEY (council_id, id),
    UNIQUE (council_id, valid_from),
    CHECK ((home_capital_lower_pence IS NULL) = (home_capital_upper_pence IS NULL))
);

-- A table in force is never changed (a correction is a new table). The service compares with the
-- date in England; the database, more loosely, with yesterday in UTC.
-- +goose StatementBegin
CREATE FUNCTION rate_tables_in_force_immutable() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    IF OLD.valid_from < current_date THEN
        RAISE EXCEPTION 'rate table % is in force and immutable', OLD.id USING ERRCODE = 'check_violation';
    END IF;
    RETURN NEW;
END;
$$;
-- +goose StatementEnd
CREATE TRIGGER rate_tables_in_force_immutable BEFORE UPDATE ON rate_tables
    FOR EACH ROW EXECUTE FUNCTION rate_tables_in_force_immutable();
CREATE TRIGGER rate_tables_no_delete BEFORE DELETE ON rate_tables
    FOR EACH ROW EXECUTE FUNCTION forbid_change();

CREATE TABLE financial_assessments (
    council_id          uuid NOT NULL,
    id                  uuid NOT NULL,
    person_id           uuid NOT NULL,
    kind                text NOT NULL CHECK (kind IN ('full', 'light_touch_full_cost', 'light_touch_nil')),
    status              text NOT NULL CHECK (status IN ('draft', 'completed', 'superseded')),
    effective_date      date NOT NULL,
    household           text CHECK (household IN ('single', 'couple', 'lone_parent')),
    pension_credit_age_reached boolean,
    disability_premium  boolean NOT NULL DEFAULT false,
    enhanced_disability_premium boolean NOT NULL DEFAULT false,
    carer_premium       boolean NOT NULL DEFAULT false,
    dependent_children  integer NOT NULL DEFAULT 0 CHECK (dependent_children >= 0),
    income              jsonb NOT NULL DEFAULT '[]',
    capital             jsonb NOT NULL DEFAULT '[]',
    housing_costs_weekly_pence bigint NOT NULL DEFAULT 0 CHECK (housing_costs_weekly_pence >= 0),
    dre_method          text NOT NULL DEFAULT 'individual' CHECK (dre_method IN ('individual', 'flat')),
    dre                 jsonb NOT NULL DEFAULT '[]',
    other_allowances    jsonb NOT NULL DEFAULT '[]',
    light_touch_reason  text NOT NULL DEFAULT '',
    notes               text NOT NULL DEFAULT '',
    result              jsonb,
    rate_table_id       uuid,
    rate_table_valid_from date,
    assessed_weekly_charge_pence bigint CHECK (assessed_weekly_charge_pence >= 0),
    full_cost           boolean,
    supersedes_id       uuid,
    change_reason       text,
    completed_at        timestamptz,
    completed_by        text,
    version             integer NOT NULL CHECK (version >= 1),
    created_at          timestamptz NOT NULL,
    updated_at          timestamptz NOT NULL,
    PRIMARY KEY (council_id, id),
    FOREIGN KEY (council_id, person_id) REFERENCES people (council_id, id),
    FOREIGN KEY (council_id, rate_table_id) REFERENCES rate_tables (council_id, id),
    FOREIGN KEY (council_id, supersedes_id) REFERENCES financial_assessments (council_id, id),
    CHECK ((status = 'draft') = (result IS NULL)),
    CHECK ((status = 'draft') = (rate_table_id IS NULL))
);
-- One current (completed, not superseded) assessment per person.
CREATE UNIQUE INDEX financial_assessments_current_key ON financial_assessments (council_id, person_id) WHERE status = 'completed';
CREATE INDEX financial_assessments_person_idx ON financial_assessments (council_id, person_id, created_at, id);
-- The uprating scan: current full assessments made under an older table.
CREATE INDEX financial_assessments_uprating_idx ON financial_assessments (council_id, rate_table_valid_from, id)
    WHERE status = 'completed' AND kind = 'full';

-- The split of every budget version: cost = council + person, weekly and annually. Existing
-- versions get their cost (the indicative amount) and no split yet.
ALTER TABLE personal_budget_versions
    ADD COLUMN annual_cost_pence bigint,
    ADD COLUMN weekly_cost_pence bigint,
    ADD COLUMN person_weekly_pence bigint,
    ADD COLUMN council_weekly_pence bigint,
    ADD COLUMN person_annual_pence bigint,
    ADD COLUMN council_annual_pence bigint,
    ADD COLUMN financial_assessment_id uuid,
    ADD COLUMN rate_table_id uuid,
    ADD COLUMN contribution_steps jsonb NOT NULL DEFAULT '[]';
ALTER TABLE personal_budget_versions DISABLE TRIGGER personal_budget_versions_append_only;
UPDATE personal_budget_versions
   SET annual_cost_pence = indicative_annual_pence,
       weekly_cost_pence = (indicative_annual_pence + 26) / 52;
ALTER TABLE personal_budget_versions ENABLE TRIGGER personal_budget_versions_append_only;
ALTER TABLE personal_budget_versions
    ALTER COLUMN annual_cost_pence SET NOT NULL,
    ALTER COLUMN weekly_cost_pence SET NOT NULL,
    ADD CONSTRAINT personal_budget_versions_cost_nonnegative CHECK (annual_cost_pence >= 0 AND weekly_cost_pence >= 0),
    ADD CONSTRAINT personal_budget_versions_split_whole CHECK (
        (person_weekly_pence IS NULL) = (council_weekly_pence IS NULL) AND
        (person_weekly_pence IS NULL) = (person_annual_pence IS NULL) AND
        (person_weekly_pence IS NULL) = (council_annual_pence IS NULL) AND
        (person_weekly_pence IS NULL) = (financial_assessment_id IS NULL)),
    ADD CONSTRAINT personal_budget_versions_split_adds_up CHECK (
        person_weekly_pence IS NULL OR (
            person_weekly_pence >= 0 AND council_weekly_pence >= 0 AND person_annual_pence >= 0 AND council_annual_pence >= 0 AND
            person_weekly_pence + council_weekly_pence = weekly_cost_pence AND
            person_annual_pence + council_annual_pence = annual_cost_pence)),
    -- Checked at commit: a recalculated assessment and the budget version naming it are written
    -- in one transaction, the version first.
    ADD CONSTRAINT personal_budget_versions_financial_assessment_fk
        FOREIGN KEY (council_id, financial_assessment_id) REFERENCES financial_assessments (council_id, id)
        DEFERRABLE INITIALLY DEFERRED,
    ADD CONSTRAINT personal_budget_versions_rate_table_fk
        FOREIGN KEY (council_id, rate_table_id) REFERENCES rate_tables (council_id, id);
ALTER TABLE personal_budget_versions DROP CONSTRAINT personal_budget_versions_change_check;
ALTER TABLE personal_budget_versions ADD CONSTRAINT personal_budget_versions_change_check
    CHECK (change IN ('issued', 'reassessed', 'ceiling_raised', 'ended', 'contribution_assessed'));

-- A funding request is about the indicative figure of one assessment.
ALTER TABLE funding_requests ADD COLUMN assessment_id uuid;

CREATE TABLE uprating_jobs (
    council_id    uuid NOT NULL REFERENCES councils (id),
    id            uuid NOT NULL,
    rate_table_id uuid NOT NULL,
    status        text NOT NULL CHECK (status IN ('queued', 'running', 'completed', 'failed')),
    total         integer NOT NULL DEFAULT 0,
    processed     integer NOT NULL DEFAULT 0,
    changed       integer NOT NULL DEFAULT 0,
    requested_by  text NOT NULL,
    requested_at  timestamptz NOT NULL,
    started_at    timestamptz,
    finished_at   timestamptz,
    error         text,
    claim_token   uuid,
    lease_until   timestamptz,
    PRIMARY KEY (council_id, id),
    FOREIGN KEY (council_id, rate_table_id) REFERENCES rate_tables (council_id, id)
);
CREATE UNIQUE INDEX uprating_jobs_one_open ON uprating_jobs (council_id, rate_table_id) WHERE status IN ('queued', 'running');
CREATE INDEX uprating_jobs_queue_idx ON uprating_jobs (status, requested_at) WHERE status IN ('queued', 'running');

CREATE TABLE uprating_changes (
    council_id             uuid NOT NULL,
    id                     uuid NOT NULL,
    job_id                 uuid NOT NULL,
    person_id              uuid NOT NULL,
    previous_assessment_id uuid NOT NULL,
    new_assessment_id      uuid,
    previous_weekly_charge_pence bigint NOT NULL,
    new_weekly_charge_pence bigint,
    budget_id              uuid,
    error                  text,
    created_at             timestamptz NOT NULL,
    PRIMARY KEY (council_id, id),
    UNIQUE (council_id, job_id, previous_assessment_id),
    FOREIGN KEY (council_id, job_id) REFERENCES uprating_jobs (council_id, id),
    CHECK ((new_assessment_id IS NULL) = (error IS NOT NULL))
);
CREATE INDEX uprating_changes_job_idx ON uprating_changes (council_id, job_id, created_at, id);

-- +goose Down
DROP TABLE uprating_changes;
DROP TABLE uprating_jobs;
ALTER TABLE funding_requests DROP COLUMN assessment_id;
ALTER TABLE personal_budget_versions DROP CONSTRAINT personal_budget_versions_change_check;
ALTER TABLE personal_budget_versions ADD CONSTRAINT personal_budget_versions_change_check
    CHECK (change IN ('issued', 'reassessed', 'ceiling_raised', 'ended'));
ALTER TABLE personal_budget_versions
    DROP COLUMN annual_cost_pence, DROP COLUMN weekly_cost_pence, DROP COLUMN person_weekly_pence,
    DROP COLUMN council_weekly_pence, DROP COLUMN person_annual_pence, DROP COLUMN council_annual_pence,
    DROP COLUMN financial_assessment_id, DROP COLUMN rate_table_id, DROP COLUMN contribution_steps;
DROP TABLE financial_assessments;
DROP TABLE rate_tables;
DROP FUNCTION rate_tables_in_force_immutable();
