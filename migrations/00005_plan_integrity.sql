-- +goose Up
-- Before these constraints, a budget could hold two approved plans (a fresh plan approved beside
-- the approved one) and a plan two direct-payment agreements. Keep the latest approved plan of
-- each budget and supersede the others, as approving it would have.
UPDATE support_plans sp SET status = 'superseded', version = version + 1, updated_at = now()
 WHERE status = 'approved' AND EXISTS (
       SELECT 1 FROM support_plans newer
        WHERE newer.council_id = sp.council_id AND newer.budget_id = sp.budget_id AND newer.status = 'approved'
          AND (newer.approved_at, newer.id) > (sp.approved_at, sp.id));
-- Duplicate agreements may already have been paid from: a person decides which to keep.
-- +goose StatementBegin
DO $$
BEGIN
    IF EXISTS (SELECT 1 FROM direct_payment_agreements GROUP BY council_id, plan_id HAVING count(*) > 1) THEN
        RAISE EXCEPTION 'some plans have more than one direct-payment agreement: keep one per plan, then migrate again'
            USING HINT = 'SELECT council_id, plan_id, array_agg(id) FROM direct_payment_agreements GROUP BY 1, 2 HAVING count(*) > 1';
    END IF;
END
$$;
-- +goose StatementEnd

-- A budget has one approved plan at a time: approving another supersedes it, in the same
-- transaction; two approvals at once cannot both win.
CREATE UNIQUE INDEX support_plans_one_approved_key ON support_plans (council_id, budget_id) WHERE status = 'approved';
-- The care-home and short-break limits look across a person's approved plans.
CREATE INDEX support_plans_person_approved_idx ON support_plans (council_id, person_id) WHERE status = 'approved';
-- One direct-payment agreement per plan: a second would pay the same money twice.
ALTER TABLE direct_payment_agreements ADD CONSTRAINT direct_payment_agreements_plan_key UNIQUE (council_id, plan_id);
-- The defaults are version 1; stored settings start at 2, so the defaults' ETag never matches them.
UPDATE council_settings SET version = 2 WHERE version = 1;

-- +goose Down
ALTER TABLE direct_payment_agreements DROP CONSTRAINT direct_payment_agreements_plan_key;
DROP INDEX support_plans_person_approved_idx;
DROP INDEX support_plans_one_approved_key;
