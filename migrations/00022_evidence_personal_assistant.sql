-- Evidence of a personal assistant's employment (DOMAIN.md section 4, "Employing a personal
-- assistant"; section 11, findings pa_evidence_missing and pa_evidence_expired): an evidence item
-- may name the personal assistant it concerns, a person of the same council (the service checks
-- that they are the personal assistant of a direct-payment line of the account's plan). The audit
-- reads an account's items by assistant.

-- +goose Up
ALTER TABLE evidence_items
    ADD COLUMN personal_assistant_id uuid,
    ADD CONSTRAINT evidence_items_personal_assistant_fk FOREIGN KEY (council_id, personal_assistant_id) REFERENCES people (council_id, id);
CREATE INDEX evidence_items_assistant_idx ON evidence_items (council_id, account_id, personal_assistant_id)
    WHERE personal_assistant_id IS NOT NULL;

-- +goose Down
DROP INDEX evidence_items_assistant_idx;
ALTER TABLE evidence_items DROP CONSTRAINT evidence_items_personal_assistant_fk, DROP COLUMN personal_assistant_id;
