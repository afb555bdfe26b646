-- Reviews (DOMAIN.md sections 7 and 11, invariant 8), NHS England client-level data exports
-- (section 9) and the indexes of the weekly report (issue 13).

-- +goose Up
-- A request for an unplanned review (the person, a carer, a hospital, safeguarding, an audit).
-- It is answered by the first review held on or after its date.
CREATE TABLE review_requests (
    council_id   uuid NOT NULL,
    id           uuid NOT NULL,
    person_id    uuid NOT NULL,
    reason       text NOT NULL CHECK (reason IN ('request', 'hospital_admission', 'carer_breakdown', 'safeguarding', 'audit_concern')),
    requested_on date NOT NULL,
    note         text NOT NULL DEFAULT '' CHECK (length(note) <= 2000),
    requested_by text NOT NULL,
    answered_by  uuid,
    created_at   timestamptz NOT NULL,
    PRIMARY KEY (council_id, id),
    FOREIGN KEY (council_id, person_id) REFERENCES people (council_id, id)
);
CREATE INDEX review_requests_person_idx ON review_requests (council_id, person_id, requested_on, id);

-- A completed review: append-only (a correction is a later review).
CREATE TABLE reviews (
    council_id       uuid NOT NULL,
    id               uuid NOT NULL,
    person_id        uuid NOT NULL,
    plan_id          uuid NOT NULL,
    held_on          date NOT NULL,
    reviewer         text NOT NULL CHECK (length(reviewer) BETWEEN 1 AND 200),
    reason           text NOT NULL CHECK (reason IN ('planned', 'request', 'hospital_admission', 'carer_breakdown', 'safeguarding', 'audit_concern')),
    request_id       uuid,
    outcomes         jsonb NOT NULL DEFAULT '[]',
    achievement      text NOT NULL CHECK (achievement IN ('', 'fully_met', 'partially_met', 'not_met')),
    needs_changed    boolean NOT NULL,
    decision         text NOT NULL CHECK (decision IN ('no_change', 'revise_plan', 'reassess', 'end_services')),
    next_due         date,
    notes            text NOT NULL DEFAULT '' CHECK (length(notes) <= 10000),
    -- What the decision opened: a reassessment draft (reassess) or a plan revision (revise_plan).
    reassessment_id  uuid,
    revision_plan_id uuid,
    recorded_by      text NOT NULL,
    created_at       timestamptz NOT NULL,
    PRIMARY KEY (council_id, id),
    FOREIGN KEY (council_id, person_id) REFERENCES people (council_id, id),
    FOREIGN KEY (council_id, plan_id) REFERENCES support_plans (council_id, id),
    FOREIGN KEY (council_id, request_id) REFERENCES review_requests (council_id, id),
    FOREIGN KEY (council_id, reassessment_id) REFERENCES assessments (council_id, id),
    FOREIGN KEY (council_id, revision_plan_id) REFERENCES support_plans (council_id, id),
    CHECK ((decision = 'reassess') = (reassessment_id IS NOT NULL)),
    CHECK ((decision = 'revise_plan') = (revision_plan_id IS NOT NULL)),
    CHECK (decision <> 'end_services' OR next_due IS NULL),
    CHECK (next_due IS NULL OR next_due > held_on)
);
CREATE INDEX reviews_person_idx ON reviews (council_id, person_id, held_on, id);
CREATE INDEX reviews_held_idx ON reviews (council_id, held_on, id);
ALTER TABLE review_requests ADD FOREIGN KEY (council_id, answered_by) REFERENCES reviews (council_id, id);

-- Each person's next review, derived from the events by internal/review and kept current by the
-- periodic review sweep and by every review and request (one row per person at most: the primary
-- key). A person without a next review (no approved plan, or services ended) has no row.
CREATE TABLE review_schedules (
    council_id      uuid NOT NULL,
    person_id       uuid NOT NULL,
    due_date        date NOT NULL,
    window_start    date NOT NULL,
    rule            text NOT NULL CHECK (rule IN ('first_plan_review', 'plan_review', 'first_direct_payment_review',
                        'direct_payment_review', 'child_in_need', 'unplanned', 'reviewer_set')),
    subject_id      uuid,
    plan_id         uuid NOT NULL,
    aligns          jsonb NOT NULL,
    -- The work lists' owners: the practitioner of the person's latest completed assessment unless
    -- assigned; the team only when assigned.
    practitioner    text,
    team            text CHECK (length(team) BETWEEN 1 AND 100),
    assigned        boolean NOT NULL DEFAULT false,
    -- The due date for which review.due and review.overdue were last sent, so each is sent once.
    due_sent_for     date,
    overdue_sent_for date,
    computed_at     timestamptz NOT NULL,
    PRIMARY KEY (council_id, person_id),
    FOREIGN KEY (council_id, person_id) REFERENCES people (council_id, id)
);
CREATE INDEX review_schedules_due_idx ON review_schedules (council_id, due_date, person_id);
CREATE INDEX review_schedules_practitioner_idx ON review_schedules (council_id, practitioner, due_date, person_id);
CREATE INDEX review_schedules_team_idx ON review_schedules (council_id, team, due_date, person_id);

-- Quarterly client-level data returns, produced by a River job with its progress, kept to be
-- downloaded again (a past quarter can be exported again: the new file is another row).
CREATE TABLE cld_exports (
    council_id    uuid NOT NULL REFERENCES councils (id),
    id            uuid NOT NULL,
    quarter       text NOT NULL CHECK (quarter ~ '^[0-9]{4}-Q[1-4]$'),
    la_code       text NOT NULL CHECK (la_code ~ '^[A-Z0-9]{3,10}$'),
    components    jsonb NOT NULL DEFAULT '{}',
    status        text NOT NULL CHECK (status IN ('queued', 'running', 'done', 'failed')),
    people_total  integer NOT NULL DEFAULT 0 CHECK (people_total >= 0),
    people_done   integer NOT NULL DEFAULT 0 CHECK (people_done >= 0),
    rows_assessment integer NOT NULL DEFAULT 0,
    rows_service    integer NOT NULL DEFAULT 0,
    rows_review     integer NOT NULL DEFAULT 0,
    issue_count   integer NOT NULL DEFAULT 0,
    issues_by_code jsonb NOT NULL DEFAULT '{}',
    -- The file and its validation report; they hold NHS numbers and dates of birth: served only to
    -- council_admin and auditor, and every download is in the audit trail.
    data          bytea,
    issues        bytea,
    sha256        text,
    error         text CHECK (length(error) <= 500),
    requested_by  text NOT NULL,
    requested_at  timestamptz NOT NULL,
    completed_at  timestamptz,
    PRIMARY KEY (council_id, id),
    CHECK ((status = 'done') = (data IS NOT NULL AND completed_at IS NOT NULL))
);
CREATE INDEX cld_exports_list_idx ON cld_exports (council_id, requested_at, id);

-- The weekly report and the CLD export read these.
CREATE INDEX plan_lines_plan_idx ON plan_lines (council_id, plan_id, position);
CREATE INDEX personal_budgets_open_idx ON personal_budgets (council_id, status) WHERE status <> 'ended';
CREATE INDEX assessments_completed_idx ON assessments (council_id, completed_at) WHERE status = 'completed';
CREATE INDEX payment_runs_paid_idx ON payment_runs (council_id, pay_date) WHERE status = 'paid';

-- A review's read is recorded against its person, like every personal record.
ALTER TABLE access_records DROP CONSTRAINT access_records_entity_type_check,
    ADD CONSTRAINT access_records_entity_type_check CHECK (entity_type IN ('person', 'relationship', 'assessment', 'financial_assessment',
        'personal_budget', 'funding_request', 'support_plan', 'direct_payment_agreement', 'isf_agreement', 'review'));

-- +goose Down
ALTER TABLE access_records DROP CONSTRAINT access_records_entity_type_check,
    ADD CONSTRAINT access_records_entity_type_check CHECK (entity_type IN ('person', 'relationship', 'assessment', 'financial_assessment',
        'personal_budget', 'funding_request', 'support_plan', 'direct_payment_agreement', 'isf_agreement'));
DROP INDEX payment_runs_paid_idx;
DROP INDEX assessments_completed_idx;
DROP INDEX personal_budgets_open_idx;
DROP INDEX plan_lines_plan_idx;
DROP TABLE cld_exports;
DROP TABLE review_schedules;
ALTER TABLE review_requests DROP CONSTRAINT review_requests_council_id_answered_by_fkey;
DROP TABLE reviews;
DROP TABLE review_requests;
