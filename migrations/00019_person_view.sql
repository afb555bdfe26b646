-- The person's own view (issue 14): the person role's holder in the trails, a nominee's or
-- authorised person's consent that can be withdrawn, requests to change how a part of the budget
-- is managed, and family top-ups that a named third party pays outside the council's budget.

-- +goose Up
-- Who acted, when the actor is a person using the council's portal: their own person id (the
-- token's person claim), beside the token's subject.
ALTER TABLE audit_events ADD COLUMN actor_person uuid;
ALTER TABLE access_records ADD COLUMN actor_person uuid;

-- A nominee or authorised person gives consent when the agreement is made, and may withdraw it
-- (Direct Payments Regulations 2014 reg 3: a nominee must agree). A withdrawal is dated and has
-- its reason; runs pay nothing to an agreement whose recipient has withdrawn consent.
ALTER TABLE direct_payment_agreements
    ADD COLUMN consent_changed_at timestamptz,
    ADD COLUMN consent_reason text CHECK (length(consent_reason) BETWEEN 1 AND 2000);
-- +goose StatementBegin
DO $$
DECLARE c text;
BEGIN
    SELECT conname INTO c FROM pg_constraint
     WHERE conrelid = 'direct_payment_agreements'::regclass AND contype = 'c'
       AND pg_get_constraintdef(oid) LIKE '%recipient_consented%' AND pg_get_constraintdef(oid) NOT LIKE '%consent_changed_at%';
    IF c IS NOT NULL THEN
        EXECUTE format('ALTER TABLE direct_payment_agreements DROP CONSTRAINT %I', c);
    END IF;
END;
$$;
-- +goose StatementEnd
ALTER TABLE direct_payment_agreements ADD CONSTRAINT direct_payment_agreements_consent
    CHECK (recipient = 'person' OR recipient_consented OR (consent_changed_at IS NOT NULL AND consent_reason IS NOT NULL));
CREATE INDEX direct_payment_agreements_recipient_idx ON direct_payment_agreements (council_id, recipient_person_id)
    WHERE recipient_person_id IS NOT NULL;

-- A request, by the person or someone acting for them, to change how a part of the budget is
-- managed (council-managed to a direct payment, say). A practitioner answers it: with the plan
-- revision that makes the change, or with a reason for not making it.
CREATE TABLE management_change_requests (
    council_id        uuid NOT NULL,
    id                uuid NOT NULL,
    person_id         uuid NOT NULL,
    budget_id         uuid NOT NULL,
    plan_id           uuid NOT NULL,
    plan_line_id      uuid, -- a line of plan_id (no foreign key: a plan's lines are rewritten when it changes)
    current_option    text CHECK (current_option IN ('direct_payment', 'council_managed', 'isf')),
    requested_option  text NOT NULL CHECK (requested_option IN ('direct_payment', 'council_managed', 'isf')),
    reason            text NOT NULL CHECK (length(reason) BETWEEN 1 AND 2000),
    requested_by      text NOT NULL,
    requested_by_person uuid,
    requested_by_basis text NOT NULL CHECK (requested_by_basis IN ('self', 'authorised_person', 'nominee', 'parent')),
    requested_at      timestamptz NOT NULL,
    status            text NOT NULL CHECK (status IN ('open', 'plan_revised', 'declined')),
    answer_reason     text CHECK (length(answer_reason) BETWEEN 1 AND 2000),
    revision_plan_id  uuid,
    answered_by       text,
    answered_at       timestamptz,
    version           integer NOT NULL CHECK (version >= 1),
    updated_at        timestamptz NOT NULL,
    PRIMARY KEY (council_id, id),
    FOREIGN KEY (council_id, person_id) REFERENCES people (council_id, id),
    FOREIGN KEY (council_id, plan_id) REFERENCES support_plans (council_id, id),
    FOREIGN KEY (council_id, revision_plan_id) REFERENCES support_plans (council_id, id),
    CHECK ((status = 'open') = (answered_at IS NULL)),
    CHECK (status <> 'declined' OR answer_reason IS NOT NULL),
    CHECK (status <> 'plan_revised' OR revision_plan_id IS NOT NULL)
);
CREATE INDEX management_change_requests_list_idx ON management_change_requests (council_id, requested_at, id);
CREATE INDEX management_change_requests_person_idx ON management_change_requests (council_id, person_id, requested_at, id);
CREATE INDEX management_change_requests_open_idx ON management_change_requests (council_id, requested_at, id) WHERE status = 'open';
-- One open request per line (or per whole plan) at a time.
CREATE UNIQUE INDEX management_change_requests_open_key ON management_change_requests
    (council_id, plan_id, coalesce(plan_line_id, '00000000-0000-0000-0000-000000000000'::uuid)) WHERE status = 'open';

-- A family top-up: a plan line, or a part of one, that a named third party (the person, a parent,
-- another relative, someone else) pays outside the council's budget. Nothing that sizes or pays
-- the budget reads this table: the council's share, the ceiling and payment runs never see it.
-- Top-ups are kept with their plan as its lines are (a plan's change rewrites both), so
-- plan_line_id names a line of the same plan without a foreign key: plan_lines are replaced, not
-- updated, when a plan changes.
CREATE TABLE plan_top_ups (
    council_id    uuid NOT NULL,
    id            uuid NOT NULL,
    plan_id       uuid NOT NULL,
    plan_line_id  uuid,
    position      integer NOT NULL,
    description   text NOT NULL CHECK (length(description) BETWEEN 1 AND 500),
    payer         text NOT NULL CHECK (payer IN ('person', 'parent', 'relative', 'other')),
    payer_name    text NOT NULL CHECK (length(payer_name) BETWEEN 1 AND 200),
    annual_pence  bigint NOT NULL CHECK (annual_pence > 0 AND annual_pence <= 100000000000),
    created_at    timestamptz NOT NULL,
    created_by    text NOT NULL,
    PRIMARY KEY (council_id, id),
    UNIQUE (council_id, plan_id, position),
    FOREIGN KEY (council_id, plan_id) REFERENCES support_plans (council_id, id)
);

-- +goose Down
DROP TABLE plan_top_ups;
DROP TABLE management_change_requests;
DROP INDEX direct_payment_agreements_recipient_idx;
ALTER TABLE direct_payment_agreements DROP CONSTRAINT direct_payment_agreements_consent;
UPDATE direct_payment_agreements SET recipient_consented = true WHERE recipient <> 'person' AND NOT recipient_consented;
ALTER TABLE direct_payment_agreements ADD CONSTRAINT direct_payment_agreements_check1 CHECK (recipient = 'person' OR recipient_consented);
ALTER TABLE direct_payment_agreements DROP COLUMN consent_reason, DROP COLUMN consent_changed_at;
ALTER TABLE access_records DROP COLUMN actor_person;
ALTER TABLE audit_events DROP COLUMN actor_person;
