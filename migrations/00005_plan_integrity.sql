-- +goose Up
-- A budget has one approved plan at a time: approving another supersedes it, in the same
-- transaction; two approvals at once cannot both win.
CREATE UNIQUE INDEX support_plans_one_approved_key ON support_plans (council_id, budget_id) WHERE status = 'approved';
-- The care-home and short-break limits look across a person's approved plans.
CREATE INDEX support_plans_person_approved_idx ON support_plans (council_id, person_id) WHERE status = 'approved';
-- One direct-payment agreement per plan: a second would pay the same money twice.
ALTER TABLE direct_payment_agreements ADD CONSTRAINT direct_payment_agreements_plan_key UNIQUE (council_id, plan_id);

-- +goose Down
ALTER TABLE direct_payment_agreements DROP CONSTRAINT direct_payment_agreements_plan_key;
DROP INDEX support_plans_person_approved_idx;
DROP INDEX support_plans_one_approved_key;
