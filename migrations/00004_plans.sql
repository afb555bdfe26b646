-- Care and support plans with costed lines, the council's settings and service catalogue,
-- providers, and the direct-payment and ISF agreements that follow a signed-off plan.

-- +goose Up
CREATE TABLE council_settings (
    council_id                   uuid PRIMARY KEY REFERENCES councils (id),
    approver_limit_annual_pence  bigint NOT NULL CHECK (approver_limit_annual_pence >= 0),
    dp_care_home_max_days        integer NOT NULL CHECK (dp_care_home_max_days >= 0),
    dp_care_home_join_gap_days   integer NOT NULL CHECK (dp_care_home_join_gap_days >= 0),
    child_short_break_max_days_per_period    integer NOT NULL CHECK (child_short_break_max_days_per_period >= 0),
    child_short_break_max_days_per_12_months integer NOT NULL CHECK (child_short_break_max_days_per_12_months >= 0),
    version                      integer NOT NULL CHECK (version >= 1),
    updated_at                   timestamptz NOT NULL
);

CREATE TABLE service_categories (
    council_id       uuid NOT NULL REFERENCES councils (id),
    key              text NOT NULL CHECK (key ~ '^[a-z0-9_]{1,50}$'),
    name             text NOT NULL,
    cld_service_type text NOT NULL,
    dp_allowed       boolean NOT NULL,
    rule             text NOT NULL CHECK (rule IN ('none', 'personal_assistant', 'care_home_stay', 'child_residential_short_break')),
    created_at       timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (council_id, key)
);

CREATE TABLE providers (
    council_id     uuid NOT NULL REFERENCES councils (id),
    id             uuid NOT NULL,
    name           text NOT NULL CHECK (length(name) BETWEEN 1 AND 200),
    type           text NOT NULL CHECK (type IN ('care_agency', 'isf_provider', 'day_service')),
    contract_basis text NOT NULL CHECK (contract_basis IN ('framework', 'spot')),
    contact_email  text,
    contact_phone  text,
    active         boolean NOT NULL,
    version        integer NOT NULL CHECK (version >= 1),
    created_at     timestamptz NOT NULL,
    updated_at     timestamptz NOT NULL,
    PRIMARY KEY (council_id, id)
);
CREATE INDEX providers_list_idx ON providers (council_id, created_at, id);

CREATE TABLE support_plans (
    council_id      uuid NOT NULL,
    id              uuid NOT NULL,
    budget_id       uuid NOT NULL,
    person_id       uuid NOT NULL,
    number          integer NOT NULL CHECK (number >= 1),
    status          text NOT NULL CHECK (status IN ('draft', 'submitted', 'approved', 'superseded')),
    revises_id      uuid,
    what_is_important      text NOT NULL DEFAULT '',
    what_to_change         text NOT NULL DEFAULT '',
    information_and_advice text NOT NULL DEFAULT '',
    arranging_support      text NOT NULL DEFAULT '',
    managing_support       text NOT NULL DEFAULT '',
    staying_in_control     text NOT NULL DEFAULT '',
    outcomes        jsonb NOT NULL DEFAULT '[]',
    annual_cost_pence bigint NOT NULL DEFAULT 0 CHECK (annual_cost_pence >= 0),
    submitted_at    timestamptz,
    returned_reason text,
    approved_at     timestamptz,
    approved_by     text,
    sign_off_checks jsonb,
    version         integer NOT NULL CHECK (version >= 1),
    created_at      timestamptz NOT NULL,
    updated_at      timestamptz NOT NULL,
    PRIMARY KEY (council_id, id),
    UNIQUE (council_id, budget_id, number),
    FOREIGN KEY (council_id, budget_id) REFERENCES personal_budgets (council_id, id),
    FOREIGN KEY (council_id, person_id) REFERENCES people (council_id, id),
    FOREIGN KEY (council_id, revises_id) REFERENCES support_plans (council_id, id),
    CHECK ((status IN ('approved', 'superseded')) = (approved_at IS NOT NULL AND sign_off_checks IS NOT NULL))
);
-- One plan of a budget in the making at a time.
CREATE UNIQUE INDEX support_plans_open_key ON support_plans (council_id, budget_id) WHERE status IN ('draft', 'submitted');
CREATE INDEX support_plans_worklist_idx ON support_plans (council_id, status, created_at, id);
CREATE INDEX support_plans_budget_idx ON support_plans (council_id, budget_id, created_at, id);

CREATE TABLE plan_lines (
    council_id        uuid NOT NULL,
    id                uuid NOT NULL,
    plan_id           uuid NOT NULL,
    position          integer NOT NULL,
    category          text NOT NULL,
    description       text NOT NULL,
    provider_id       uuid,
    unit_cost_pence   bigint NOT NULL CHECK (unit_cost_pence >= 0),
    unit              text NOT NULL CHECK (unit IN ('hour', 'day', 'night', 'week', 'session', 'one_off')),
    quantity_hundredths bigint NOT NULL CHECK (quantity_hundredths >= 0),
    frequency         text NOT NULL CHECK (frequency IN ('per_week', 'per_4_weeks', 'per_month', 'per_year', 'once')),
    start_date        date NOT NULL,
    end_date          date NOT NULL CHECK (end_date > start_date),
    meets_needs       jsonb NOT NULL DEFAULT '[]',
    management_option text NOT NULL CHECK (management_option IN ('direct_payment', 'council_managed', 'isf')),
    personal_assistant_id uuid,
    necessity_reason  text,
    annual_cost_pence bigint NOT NULL CHECK (annual_cost_pence >= 0),
    weekly_cost_pence bigint NOT NULL CHECK (weekly_cost_pence >= 0),
    PRIMARY KEY (council_id, id),
    UNIQUE (council_id, plan_id, position),
    FOREIGN KEY (council_id, plan_id) REFERENCES support_plans (council_id, id),
    FOREIGN KEY (council_id, provider_id) REFERENCES providers (council_id, id),
    FOREIGN KEY (council_id, personal_assistant_id) REFERENCES people (council_id, id),
    CHECK (management_option <> 'isf' OR provider_id IS NOT NULL)
);
CREATE INDEX plan_lines_provider_idx ON plan_lines (council_id, provider_id) WHERE provider_id IS NOT NULL;

CREATE TABLE direct_payment_agreements (
    council_id    uuid NOT NULL,
    id            uuid NOT NULL,
    plan_id       uuid NOT NULL,
    budget_id     uuid NOT NULL,
    person_id     uuid NOT NULL,
    recipient     text NOT NULL CHECK (recipient IN ('person', 'authorised_person', 'nominee')),
    recipient_person_id uuid,
    recipient_consented boolean NOT NULL,
    account_type  text NOT NULL CHECK (account_type IN ('separate_bank_account', 'prepaid_card', 'managed_account')),
    payment_basis text NOT NULL CHECK (payment_basis IN ('net', 'gross')),
    frequency     text NOT NULL CHECK (frequency IN ('four_weekly', 'monthly', 'two_weekly', 'one_off')),
    start_date    date NOT NULL,
    signed_date   date,
    insurance_expiry date,
    dbs_check_date   date,
    payroll_provider text NOT NULL DEFAULT '',
    annual_amount_pence bigint NOT NULL CHECK (annual_amount_pence >= 0),
    version       integer NOT NULL CHECK (version >= 1),
    created_at    timestamptz NOT NULL,
    updated_at    timestamptz NOT NULL,
    PRIMARY KEY (council_id, id),
    FOREIGN KEY (council_id, plan_id) REFERENCES support_plans (council_id, id),
    FOREIGN KEY (council_id, person_id) REFERENCES people (council_id, id),
    FOREIGN KEY (council_id, recipient_person_id) REFERENCES people (council_id, id),
    CHECK ((recipient = 'person') = (recipient_person_id IS NULL)),
    CHECK (recipient = 'person' OR recipient_consented)
);
CREATE INDEX direct_payment_agreements_list_idx ON direct_payment_agreements (council_id, created_at, id);
CREATE INDEX direct_payment_agreements_unsigned_idx ON direct_payment_agreements (council_id, created_at, id) WHERE signed_date IS NULL;

CREATE TABLE isf_agreements (
    council_id    uuid NOT NULL,
    id            uuid NOT NULL,
    plan_id       uuid NOT NULL,
    budget_id     uuid NOT NULL,
    person_id     uuid NOT NULL,
    provider_id   uuid NOT NULL,
    annual_amount_pence bigint NOT NULL CHECK (annual_amount_pence >= 0),
    payment_frequency   text NOT NULL CHECK (payment_frequency IN ('four_weekly', 'monthly', 'two_weekly')),
    statement_frequency text NOT NULL CHECK (statement_frequency IN ('monthly', 'quarterly')),
    start_date    date NOT NULL,
    version       integer NOT NULL CHECK (version >= 1),
    created_at    timestamptz NOT NULL,
    PRIMARY KEY (council_id, id),
    UNIQUE (council_id, plan_id, provider_id),
    FOREIGN KEY (council_id, plan_id) REFERENCES support_plans (council_id, id),
    FOREIGN KEY (council_id, provider_id) REFERENCES providers (council_id, id),
    FOREIGN KEY (council_id, person_id) REFERENCES people (council_id, id)
);
CREATE INDEX isf_agreements_provider_idx ON isf_agreements (council_id, provider_id, person_id);
CREATE INDEX isf_agreements_list_idx ON isf_agreements (council_id, created_at, id);

ALTER TABLE personal_budget_versions
    ADD COLUMN final_annual_pence bigint CHECK (final_annual_pence >= 0),
    ADD COLUMN plan_id uuid,
    ADD COLUMN difference_reason text;
ALTER TABLE personal_budget_versions DROP CONSTRAINT personal_budget_versions_change_check;
ALTER TABLE personal_budget_versions ADD CONSTRAINT personal_budget_versions_change_check
    CHECK (change IN ('issued', 'reassessed', 'ceiling_raised', 'ended', 'contribution_assessed', 'plan_agreed'));
-- The final budget is the signed-off plan's cost.
ALTER TABLE personal_budget_versions ADD CONSTRAINT personal_budget_versions_final_is_cost
    CHECK (final_annual_pence IS NULL OR final_annual_pence = annual_cost_pence);

-- +goose Down
ALTER TABLE personal_budget_versions DROP CONSTRAINT personal_budget_versions_final_is_cost;
ALTER TABLE personal_budget_versions DROP CONSTRAINT personal_budget_versions_change_check;
ALTER TABLE personal_budget_versions ADD CONSTRAINT personal_budget_versions_change_check
    CHECK (change IN ('issued', 'reassessed', 'ceiling_raised', 'ended', 'contribution_assessed'));
ALTER TABLE personal_budget_versions DROP COLUMN final_annual_pence, DROP COLUMN plan_id, DROP COLUMN difference_reason;
DROP TABLE isf_agreements;
DROP TABLE direct_payment_agreements;
DROP TABLE plan_lines;
DROP TABLE support_plans;
DROP TABLE providers;
DROP TABLE service_categories;
DROP TABLE council_settings;
