-- Assessments and eligibility, versioned resource allocation systems, personal budgets with their
-- immutable versions, and the funding panel.

-- +goose Up
-- +goose StatementBegin
CREATE FUNCTION forbid_change() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    RAISE EXCEPTION '% is append-only: % is not allowed', TG_TABLE_NAME, TG_OP
        USING ERRCODE = 'insufficient_privilege';
END;
$$;
-- +goose StatementEnd

CREATE TABLE ras_versions (
    council_id      uuid NOT NULL REFERENCES councils (id),
    id              uuid NOT NULL,
    assessment_type text NOT NULL CHECK (assessment_type IN ('needs', 'carer', 'child')),
    number          integer NOT NULL CHECK (number >= 1),
    name            text NOT NULL CHECK (length(name) BETWEEN 1 AND 200),
    status          text NOT NULL CHECK (status IN ('draft', 'active', 'retired')),
    questionnaire   jsonb NOT NULL,
    model           jsonb NOT NULL,
    activated_at    timestamptz,
    retired_at      timestamptz,
    version         integer NOT NULL CHECK (version >= 1),
    created_at      timestamptz NOT NULL,
    updated_at      timestamptz NOT NULL,
    PRIMARY KEY (council_id, id),
    UNIQUE (council_id, assessment_type, number),
    CHECK ((status = 'draft') = (activated_at IS NULL)),
    CHECK ((status = 'retired') = (retired_at IS NOT NULL))
);
CREATE UNIQUE INDEX ras_versions_one_active ON ras_versions (council_id, assessment_type) WHERE status = 'active';
CREATE INDEX ras_versions_list_idx ON ras_versions (council_id, created_at, id);

-- A version in force or retired never changes what it computes.
-- +goose StatementBegin
CREATE FUNCTION ras_versions_immutable() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    IF OLD.status <> 'draft' AND (NEW.questionnaire IS DISTINCT FROM OLD.questionnaire
        OR NEW.model IS DISTINCT FROM OLD.model OR NEW.name IS DISTINCT FROM OLD.name
        OR NEW.assessment_type IS DISTINCT FROM OLD.assessment_type OR NEW.number IS DISTINCT FROM OLD.number) THEN
        RAISE EXCEPTION 'ras version % is %, and immutable', OLD.id, OLD.status USING ERRCODE = 'check_violation';
    END IF;
    IF OLD.status = 'retired' AND NEW.status <> 'retired' THEN
        RAISE EXCEPTION 'a retired ras version stays retired' USING ERRCODE = 'check_violation';
    END IF;
    RETURN NEW;
END;
$$;
-- +goose StatementEnd
CREATE TRIGGER ras_versions_immutable BEFORE UPDATE ON ras_versions
    FOR EACH ROW EXECUTE FUNCTION ras_versions_immutable();
CREATE TRIGGER ras_versions_no_delete BEFORE DELETE ON ras_versions
    FOR EACH ROW EXECUTE FUNCTION forbid_change();

CREATE TABLE personal_budgets (
    council_id uuid NOT NULL,
    id         uuid NOT NULL,
    person_id  uuid NOT NULL,
    kind       text NOT NULL CHECK (kind IN ('care_and_support', 'carer', 'child')),
    status     text NOT NULL CHECK (status IN ('indicative', 'agreed', 'active', 'ended')),
    start_date date NOT NULL,
    end_date   date,
    version    integer NOT NULL CHECK (version >= 1),
    created_at timestamptz NOT NULL,
    updated_at timestamptz NOT NULL,
    PRIMARY KEY (council_id, id),
    FOREIGN KEY (council_id, person_id) REFERENCES people (council_id, id),
    CHECK ((status = 'ended') = (end_date IS NOT NULL))
);
-- One open budget of a kind per person.
CREATE UNIQUE INDEX personal_budgets_open_key ON personal_budgets (council_id, person_id, kind) WHERE status <> 'ended';
CREATE INDEX personal_budgets_list_idx ON personal_budgets (council_id, created_at, id);
CREATE INDEX personal_budgets_person_idx ON personal_budgets (council_id, person_id, created_at, id);
CREATE INDEX personal_budgets_status_idx ON personal_budgets (council_id, status, created_at, id);

CREATE TABLE personal_budget_versions (
    council_id         uuid NOT NULL,
    id                 uuid NOT NULL,
    budget_id          uuid NOT NULL,
    person_id          uuid NOT NULL,
    number             integer NOT NULL CHECK (number >= 1),
    status             text NOT NULL CHECK (status IN ('indicative', 'agreed', 'active', 'ended')),
    change             text NOT NULL CHECK (change IN ('issued', 'reassessed', 'ceiling_raised', 'ended')),
    reason             text NOT NULL CHECK (length(reason) >= 1),
    assessment_id      uuid,
    ras_version_id     uuid,
    ras_version_number integer,
    funding_request_id uuid,
    indicative_annual_pence bigint NOT NULL CHECK (indicative_annual_pence >= 0),
    ceiling_annual_pence    bigint NOT NULL CHECK (ceiling_annual_pence >= indicative_annual_pence),
    points             integer CHECK (points >= 0),
    points_by_domain   jsonb NOT NULL DEFAULT '{}',
    calculation        jsonb NOT NULL DEFAULT '[]',
    created_at         timestamptz NOT NULL,
    created_by         text NOT NULL,
    PRIMARY KEY (council_id, id),
    UNIQUE (council_id, budget_id, number),
    FOREIGN KEY (council_id, budget_id) REFERENCES personal_budgets (council_id, id),
    FOREIGN KEY (council_id, ras_version_id) REFERENCES ras_versions (council_id, id)
);
CREATE INDEX personal_budget_versions_person_idx ON personal_budget_versions (council_id, person_id, created_at, id);
-- Versions are history: never changed, never removed.
CREATE TRIGGER personal_budget_versions_append_only BEFORE UPDATE OR DELETE ON personal_budget_versions
    FOR EACH ROW EXECUTE FUNCTION forbid_change();

CREATE TABLE assessments (
    council_id          uuid NOT NULL,
    id                  uuid NOT NULL,
    person_id           uuid NOT NULL,
    type                text NOT NULL CHECK (type IN ('needs', 'carer', 'child', 'reassessment')),
    basis               text NOT NULL CHECK (basis IN ('needs', 'carer', 'child')),
    reassesses_id       uuid,
    status              text NOT NULL CHECK (status IN ('draft', 'completed', 'cancelled')),
    practitioner        text NOT NULL,
    impairment_or_illness        boolean,
    significant_wellbeing_impact boolean,
    outcomes            jsonb NOT NULL DEFAULT '[]',
    cared_for_person_id uuid,
    provides_necessary_care boolean,
    carer_health_at_risk    boolean,
    carer_outcomes      jsonb NOT NULL DEFAULT '[]',
    child_unlikely_to_achieve boolean,
    child_impaired      boolean,
    child_disabled      boolean,
    notes               text NOT NULL DEFAULT '',
    ras_answers         jsonb NOT NULL DEFAULT '{}',
    eligibility         jsonb,
    eligible            boolean,
    budget_id           uuid,
    budget_version_id   uuid,
    no_budget_reason    text NOT NULL DEFAULT '',
    completed_at        timestamptz,
    completed_by        text,
    cancelled_at        timestamptz,
    cancel_reason       text,
    version             integer NOT NULL CHECK (version >= 1),
    created_at          timestamptz NOT NULL,
    updated_at          timestamptz NOT NULL,
    PRIMARY KEY (council_id, id),
    FOREIGN KEY (council_id, person_id) REFERENCES people (council_id, id),
    FOREIGN KEY (council_id, reassesses_id) REFERENCES assessments (council_id, id),
    FOREIGN KEY (council_id, cared_for_person_id) REFERENCES people (council_id, id),
    FOREIGN KEY (council_id, budget_id) REFERENCES personal_budgets (council_id, id),
    CHECK ((type = 'reassessment') = (reassesses_id IS NOT NULL)),
    CHECK ((status = 'completed') = (completed_at IS NOT NULL AND eligibility IS NOT NULL)),
    CHECK ((status = 'cancelled') = (cancelled_at IS NOT NULL))
);
CREATE INDEX assessments_person_idx ON assessments (council_id, person_id, created_at, id);
CREATE INDEX assessments_worklist_idx ON assessments (council_id, status, practitioner, created_at, id);
CREATE INDEX assessments_list_idx ON assessments (council_id, created_at, id);

CREATE TABLE funding_requests (
    council_id    uuid NOT NULL,
    id            uuid NOT NULL,
    person_id     uuid NOT NULL,
    budget_id     uuid NOT NULL,
    status        text NOT NULL CHECK (status IN ('pending', 'approved', 'declined')),
    requested_annual_pence  bigint NOT NULL CHECK (requested_annual_pence > indicative_annual_pence),
    indicative_annual_pence bigint NOT NULL CHECK (indicative_annual_pence >= 0),
    approved_annual_pence   bigint CHECK (approved_annual_pence > indicative_annual_pence),
    reason        text NOT NULL CHECK (length(reason) >= 1),
    requested_by  text NOT NULL,
    requested_at  timestamptz NOT NULL,
    decision      text CHECK (decision IN ('approve', 'approve_different', 'decline')),
    decision_reason text,
    decided_by    text,
    decided_at    timestamptz,
    version       integer NOT NULL CHECK (version >= 1),
    updated_at    timestamptz NOT NULL,
    PRIMARY KEY (council_id, id),
    FOREIGN KEY (council_id, person_id) REFERENCES people (council_id, id),
    FOREIGN KEY (council_id, budget_id) REFERENCES personal_budgets (council_id, id),
    CHECK ((status = 'pending') = (decided_at IS NULL)),
    CHECK ((status = 'approved') = (approved_annual_pence IS NOT NULL))
);
CREATE UNIQUE INDEX funding_requests_one_pending ON funding_requests (council_id, budget_id) WHERE status = 'pending';
CREATE INDEX funding_requests_queue_idx ON funding_requests (council_id, status, requested_at, id);
CREATE INDEX funding_requests_list_idx ON funding_requests (council_id, requested_at, id);
CREATE INDEX funding_requests_person_idx ON funding_requests (council_id, person_id, requested_at, id);

-- Living in the same household is symmetric: A with B is B with A.
CREATE UNIQUE INDEX relationships_household_key ON relationships
    (council_id, least(person_id, related_person_id), greatest(person_id, related_person_id))
    WHERE kind = 'same_household_member' AND end_date IS NULL;

-- +goose Down
DROP INDEX relationships_household_key;
DROP TABLE funding_requests;
DROP TABLE assessments;
DROP TABLE personal_budget_versions;
DROP TABLE personal_budgets;
DROP TABLE ras_versions;
DROP FUNCTION ras_versions_immutable();
DROP FUNCTION forbid_change();
