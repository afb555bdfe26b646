-- Indexes the CLD export's reads need (issue 13's benchmark: 20,000 people, 60,000 lines). A line
-- of a superseded plan ends the day before its revision was approved: the export finds the
-- revision of each plan, which without an index on revises_id was a scan of the council's plans
-- for every line (3 s a batch of 500 people). The reviews and the people of a quarter are found
-- by person and by day.

-- +goose Up
CREATE INDEX support_plans_revises_idx ON support_plans (council_id, revises_id) WHERE revises_id IS NOT NULL;

-- +goose Down
DROP INDEX support_plans_revises_idx;
