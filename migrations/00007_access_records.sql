-- Reads of personal data are recorded (UK GDPR accountability, NHS DSPT), and segregation of
-- duties: who submitted a plan, and the council's setting that the submitter cannot sign it off.

-- +goose Up
-- Who read which record about which person, through which operation, in which request. Like the
-- audit trail it names records and filters, never their values, and it is append-only. Every
-- read writes a row (in batches, by COPY, from the service's access writer), so the table carries
-- only the keys its listing needs: the primary key serves the time order, one index each the
-- person, actor and entity filters (each led by council_id, ending with the cursor's columns). It
-- has no foreign keys: its council comes from a verified token, councils are never deleted, and a
-- per-row foreign-key check would cost every read (make bench) for no protection.
CREATE TABLE access_records (
    council_id     uuid NOT NULL,
    id             uuid NOT NULL,
    occurred_at    timestamptz NOT NULL,
    actor_subject  text NOT NULL,
    actor_roles    text[] NOT NULL,
    actor_provider uuid,
    -- Plain checks, not regular expressions: matching patterns on every row was measurably dearer.
    operation      text NOT NULL CHECK (length(operation) BETWEEN 1 AND 60),
    entity_type    text NOT NULL CHECK (entity_type IN ('person', 'relationship', 'assessment', 'financial_assessment',
                       'personal_budget', 'funding_request', 'support_plan', 'direct_payment_agreement', 'isf_agreement')),
    entity_id      uuid NOT NULL,
    person_id      uuid NOT NULL,
    filters        text[] NOT NULL DEFAULT '{}',
    request_id     text,
    PRIMARY KEY (council_id, occurred_at, id)
);
CREATE INDEX access_records_person_idx ON access_records (council_id, person_id, occurred_at, id);
CREATE INDEX access_records_actor_idx ON access_records (council_id, actor_subject, occurred_at, id);
CREATE INDEX access_records_entity_idx ON access_records (council_id, entity_id, occurred_at, id);

-- +goose StatementBegin
CREATE FUNCTION access_records_append_only() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    RAISE EXCEPTION 'access_records is append-only: % is not allowed', TG_OP
        USING ERRCODE = 'insufficient_privilege';
END;
$$;
-- +goose StatementEnd
CREATE TRIGGER access_records_no_update_delete BEFORE UPDATE OR DELETE ON access_records
    FOR EACH ROW EXECUTE FUNCTION access_records_append_only();
CREATE TRIGGER access_records_no_truncate BEFORE TRUNCATE ON access_records
    FOR EACH STATEMENT EXECUTE FUNCTION access_records_append_only();

-- Segregation of duties, on by default: the submitter of a plan cannot sign it off, and the
-- requester of a funding decision cannot decide it.
ALTER TABLE council_settings ADD COLUMN approver_must_differ_from_submitter boolean NOT NULL DEFAULT true;

-- Who submitted a plan. Plans submitted before this column are given the submitter their audit
-- trail names (the latest support_plan.submitted event); plans never submitted stay NULL.
ALTER TABLE support_plans ADD COLUMN submitted_by text;
UPDATE support_plans sp SET submitted_by = (
        SELECT e.actor_subject FROM audit_events e
         WHERE e.council_id = sp.council_id AND e.entity_type = 'support_plan' AND e.entity_id = sp.id
           AND e.action = 'support_plan.submitted'
         ORDER BY e.occurred_at DESC, e.id DESC
         LIMIT 1)
 WHERE sp.submitted_at IS NOT NULL;

-- +goose Down
ALTER TABLE support_plans DROP COLUMN submitted_by;
ALTER TABLE council_settings DROP COLUMN approver_must_differ_from_submitter;
DROP TABLE access_records;
DROP FUNCTION access_records_append_only();
