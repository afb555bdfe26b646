// Package dpaudit is the arithmetic and the rules of the direct-payment financial audit (DOMAIN.md
// section 11, "The DP financial audit"; the name audit is the audit trail's): when audits are due,
// their life cycle, the reconciliation of a period step by step, the surplus and its shares,
// findings, and outcomes with their written reasons. It has no database and no clock.
//
// # Schedule
//
// The first audit covers [first payment, first payment + first_audit_weeks) and is due at its end;
// each later one covers the next 12 months and is due at its end. Periods follow one another
// from the first payment whatever happens to the audits (Settings.Scheduled says why). An ad hoc
// audit on a concern covers the current scheduled period up to the concern's day and leaves the
// schedule alone. Work lists: audit_due (planned, period ended), audit_overdue (not concluded
// conclude_within_days after due), evidence_overdue, action_plan_due.
//
// # Arithmetic
//
// Everything is integer pence. The reconciliation is account.Sum over the period, so its
// expected closing is the ledger's balance at the period's last day exactly, and opening + in −
// out = closing to the penny (property-tested). The surplus is never below zero and its shares
// add up to it: the person's share is rounded down in 128-bit arithmetic, and the council's is
// the rest (property-tested, invariants 15 and 16).
//
// # Storing audits (for the lead wiring this to PostgreSQL)
//
//   - audits: council_id, id, account_id (or agreement_id), kind (scheduled | ad_hoc), period
//     start and end, due, state, evidence_due, concern reason (ad hoc), version. UNIQUE
//     (council_id, agreement_id, period_start) WHERE kind = 'scheduled' makes the periodic job
//     idempotent: it inserts ScheduledThrough(first payment, end, today) with ON CONFLICT DO
//     NOTHING. Index (council_id, state, due) serves the work lists: audit_due is state =
//     'planned' AND due <= today; audit_overdue state IN (planned, evidence_requested,
//     evidence_received, reconciled) AND due < today − conclude_within_days; evidence_overdue
//     state = 'evidence_requested' AND evidence_due < today; action_plan_due state = 'concluded'
//     AND outcome = 'action_plan' AND action_plan_due <= today.
//   - audit_events: append-only, one row per Apply (event, from, to, actor, time, reason, the
//     step's data as JSON); the audit row's state changes under If-Match in the same
//     transaction. A conclusion stores the Reconciliation and the Surplus with their Steps as
//     recorded figures (JSON) beside the outcome, and in the audit trail, so that the letter and
//     any recovery can always show the figures the decision used even after the ledger grows.
//   - audit_evidence_items: the items asked for, received (date, a reference to the document and
//     its SHA-256), against the audit or a statement line.
//   - audit_findings: one row per Finding at reconciliation, replaced by a new reconciliation
//     only while the audit is not concluded (rows of a concluded audit never change).
package dpaudit
