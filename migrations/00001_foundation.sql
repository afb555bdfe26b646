-- Foundation: councils, people and their relationships, the append-only audit trail and
-- idempotency keys. Every tenant table carries council_id and leads its keys with it.

-- +goose Up
CREATE TABLE councils (
    id         uuid PRIMARY KEY,
    code       text NOT NULL UNIQUE CHECK (code ~ '^[a-z0-9][a-z0-9-]{1,31}$'),
    name       text NOT NULL CHECK (length(name) BETWEEN 1 AND 200),
    created_at timestamptz NOT NULL DEFAULT now()
);

CREATE TABLE people (
    council_id       uuid NOT NULL REFERENCES councils (id),
    id               uuid NOT NULL,
    given_name       text NOT NULL CHECK (length(given_name) BETWEEN 1 AND 100),
    family_name      text NOT NULL CHECK (length(family_name) BETWEEN 1 AND 100),
    preferred_name   text CHECK (length(preferred_name) BETWEEN 1 AND 100),
    date_of_birth    date NOT NULL,
    person_type      text NOT NULL CHECK (person_type IN ('adult', 'child')),
    nhs_number       text CHECK (nhs_number ~ '^[0-9]{10}$'),
    address_line1    text,
    address_line2    text,
    address_town     text,
    address_county   text,
    address_postcode text,
    phone            text,
    email            text,
    version          integer NOT NULL DEFAULT 1 CHECK (version >= 1),
    created_at       timestamptz NOT NULL,
    updated_at       timestamptz NOT NULL,
    PRIMARY KEY (council_id, id),
    -- An address is whole or absent.
    CHECK ((address_line1 IS NULL) = (address_town IS NULL) AND (address_line1 IS NULL) = (address_postcode IS NULL))
);
CREATE UNIQUE INDEX people_nhs_number_key ON people (council_id, nhs_number) WHERE nhs_number IS NOT NULL;
CREATE INDEX people_list_idx ON people (council_id, created_at, id);
CREATE INDEX people_family_name_idx ON people (council_id, lower(family_name) text_pattern_ops, created_at, id);
CREATE INDEX people_date_of_birth_idx ON people (council_id, date_of_birth, created_at, id);
CREATE INDEX people_person_type_idx ON people (council_id, person_type, created_at, id);

CREATE TABLE relationships (
    council_id        uuid NOT NULL,
    id                uuid NOT NULL,
    person_id         uuid NOT NULL,
    related_person_id uuid NOT NULL,
    kind              text NOT NULL CHECK (kind IN ('carer_of', 'authorised_person_for', 'nominee_for', 'same_household_member')),
    family_relation   text CHECK (family_relation IN ('spouse', 'civil_partner', 'partner', 'parent', 'child', 'sibling',
                                                      'grandparent', 'grandchild', 'other_relative', 'not_related')),
    start_date        date,
    end_date          date,
    end_reason        text,
    version           integer NOT NULL DEFAULT 1 CHECK (version >= 1),
    created_at        timestamptz NOT NULL,
    updated_at        timestamptz NOT NULL,
    PRIMARY KEY (council_id, id),
    FOREIGN KEY (council_id, person_id) REFERENCES people (council_id, id),
    FOREIGN KEY (council_id, related_person_id) REFERENCES people (council_id, id),
    CHECK (person_id <> related_person_id),
    CHECK (end_date IS NULL OR start_date IS NULL OR end_date > start_date),
    CHECK ((end_date IS NULL) = (end_reason IS NULL))
);
CREATE UNIQUE INDEX relationships_current_key ON relationships (council_id, person_id, related_person_id, kind)
    WHERE end_date IS NULL;
CREATE INDEX relationships_person_idx ON relationships (council_id, person_id, created_at, id);
CREATE INDEX relationships_related_idx ON relationships (council_id, related_person_id, created_at, id);

-- The audit trail: who did what, when, to which record, and why. It names the fields changed,
-- never their values, so it holds no personal data.
CREATE TABLE audit_events (
    council_id     uuid NOT NULL REFERENCES councils (id),
    id             uuid NOT NULL,
    occurred_at    timestamptz NOT NULL DEFAULT now(),
    actor_subject  text NOT NULL,
    actor_roles    text[] NOT NULL,
    actor_provider uuid,
    action         text NOT NULL CHECK (action ~ '^[a-z_]+\.[a-z_]+$'),
    entity_type    text NOT NULL,
    entity_id      uuid NOT NULL,
    request_id     text,
    changed_fields text[] NOT NULL DEFAULT '{}',
    reason         text,
    details        jsonb NOT NULL DEFAULT '{}',
    PRIMARY KEY (council_id, id)
);
CREATE INDEX audit_events_time_idx ON audit_events (council_id, occurred_at, id);
CREATE INDEX audit_events_entity_idx ON audit_events (council_id, entity_type, entity_id, occurred_at, id);
CREATE INDEX audit_events_actor_idx ON audit_events (council_id, actor_subject, occurred_at, id);
CREATE INDEX audit_events_action_idx ON audit_events (council_id, action, occurred_at, id);

-- +goose StatementBegin
CREATE FUNCTION audit_events_append_only() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    RAISE EXCEPTION 'audit_events is append-only: % is not allowed', TG_OP
        USING ERRCODE = 'insufficient_privilege';
END;
$$;
-- +goose StatementEnd
CREATE TRIGGER audit_events_no_update_delete BEFORE UPDATE OR DELETE ON audit_events
    FOR EACH ROW EXECUTE FUNCTION audit_events_append_only();
CREATE TRIGGER audit_events_no_truncate BEFORE TRUNCATE ON audit_events
    FOR EACH STATEMENT EXECUTE FUNCTION audit_events_append_only();

-- Stored responses of POSTs made with an Idempotency-Key, kept at least 24 hours.
CREATE TABLE idempotency_keys (
    council_id     uuid NOT NULL REFERENCES councils (id),
    actor_subject  text NOT NULL,
    key            text NOT NULL,
    request_hash   bytea NOT NULL,
    status_code    integer NOT NULL,
    headers        jsonb NOT NULL,
    body           bytea NOT NULL,
    created_at     timestamptz NOT NULL DEFAULT now(),
    expires_at     timestamptz NOT NULL,
    PRIMARY KEY (council_id, actor_subject, key)
);
CREATE INDEX idempotency_keys_expiry_idx ON idempotency_keys (expires_at);

-- +goose Down
DROP TABLE idempotency_keys;
DROP TABLE audit_events;
DROP FUNCTION audit_events_append_only();
DROP TABLE relationships;
DROP TABLE people;
DROP TABLE councils;
