package postgres

import (
	"context"

	"github.com/google/uuid"

	"github.com/pbudget/pbudget/internal/date"
	"github.com/pbudget/pbudget/internal/report"
)

// ReportStore implements report.Store: one aggregate query per figure.
type ReportStore struct{ db *DB }

// NewReportStore returns a ReportStore.
func NewReportStore(db *DB) *ReportStore { return &ReportStore{db: db} }

// People implements report.Store: people with an open budget; of them, those with an approved
// plan, and how the plan's lines in force on the day are managed.
func (s *ReportStore) People(ctx context.Context, councilID uuid.UUID, on date.Date) (int, int, int, report.Modes, error) {
	var r struct {
		WithBudget, WithPlan, WithDP                   int
		DP, Part, Managed, ISF, ManagedAndISF, NoLines int
	}
	err := s.db.conn(ctx).Raw(`WITH budgeted AS (
			SELECT DISTINCT person_id FROM personal_budgets WHERE council_id = @c AND status <> 'ended'),
		planned AS (
			SELECT sp.person_id,
			       bool_or(l.management_option = 'direct_payment') AS dp,
			       bool_or(l.management_option = 'council_managed') AS managed,
			       bool_or(l.management_option = 'isf') AS isf
			  FROM support_plans sp
			  JOIN personal_budgets b ON b.council_id = sp.council_id AND b.id = sp.budget_id AND b.status <> 'ended'
			  LEFT JOIN plan_lines l ON l.council_id = sp.council_id AND l.plan_id = sp.id AND l.start_date <= @on AND l.end_date > @on
			 WHERE sp.council_id = @c AND sp.status = 'approved'
			 GROUP BY sp.person_id)
		SELECT (SELECT count(*) FROM budgeted) AS with_budget,
		       count(*) AS with_plan,
		       count(*) FILTER (WHERE dp) AS with_dp,
		       count(*) FILTER (WHERE dp AND NOT managed AND NOT isf) AS dp,
		       count(*) FILTER (WHERE dp AND (managed OR isf)) AS part,
		       count(*) FILTER (WHERE NOT dp AND managed AND NOT isf) AS managed,
		       count(*) FILTER (WHERE NOT dp AND NOT managed AND isf) AS isf,
		       count(*) FILTER (WHERE NOT dp AND managed AND isf) AS managed_and_isf,
		       count(*) FILTER (WHERE dp IS NULL) AS no_lines
		  FROM planned`, map[string]any{"c": uuidArg(councilID), "on": on}).Scan(&r).Error
	m := report.Modes{DirectPayment: r.DP, PartDirectPayment: r.Part, CouncilManaged: r.Managed, ISF: r.ISF, ManagedAndISF: r.ManagedAndISF,
		NoLinesInForce: r.NoLines}
	return r.WithBudget, r.WithPlan, r.WithDP, m, translate(err, nil)
}

// Budgets implements report.Store: the latest version of every open budget.
func (s *ReportStore) Budgets(ctx context.Context, councilID uuid.UUID) (report.Budgets, error) {
	var b report.Budgets
	err := s.db.conn(ctx).Raw(`SELECT count(*) AS count, coalesce(sum(v.annual_cost_pence), 0) AS annual_pence,
			coalesce(sum(v.council_annual_pence), 0) AS council_annual_pence, coalesce(sum(v.person_annual_pence), 0) AS person_annual_pence,
			count(*) FILTER (WHERE v.person_annual_pence IS NULL) AS unassessed
		FROM personal_budgets b
		CROSS JOIN LATERAL (SELECT annual_cost_pence, council_annual_pence, person_annual_pence FROM personal_budget_versions v
		                     WHERE v.council_id = b.council_id AND v.budget_id = b.id ORDER BY v.number DESC LIMIT 1) v
		WHERE b.council_id = ? AND b.status <> 'ended'`, uuidArg(councilID)).Scan(&b).Error
	return b, translate(err, nil)
}

// Payments implements report.Store: the live, unheld lines of the runs paid with a pay date in
// [from, to].
func (s *ReportStore) Payments(ctx context.Context, councilID uuid.UUID, from, to date.Date) (report.Payments, error) {
	p := report.Payments{From: from}
	err := s.db.conn(ctx).Raw(`SELECT coalesce(sum(l.amount_pence) FILTER (WHERE l.dp_agreement_id IS NOT NULL), 0) AS direct_payment_pence,
			coalesce(sum(l.amount_pence) FILTER (WHERE l.isf_agreement_id IS NOT NULL), 0) AS isf_pence, count(l.id) AS lines
		FROM payment_runs r JOIN payment_lines l ON l.council_id = r.council_id AND l.run_id = r.id AND l.state = 'live' AND NOT l.held
		WHERE r.council_id = ? AND r.status = 'paid' AND r.pay_date >= ? AND r.pay_date <= ?`, uuidArg(councilID), from, to).Scan(&p).Error
	p.From = from
	return p, translate(err, nil)
}

// Reviews implements report.Store.
func (s *ReportStore) Reviews(ctx context.Context, councilID uuid.UUID, on date.Date) (report.Reviews, error) {
	var r struct {
		Overdue       int
		DueSoon       int
		WithoutReview int
	}
	err := s.db.conn(ctx).Raw(`SELECT count(*) FILTER (WHERE due_date < @on) AS overdue,
			count(*) FILTER (WHERE due_date >= @on AND due_date <= @by) AS due_soon,
			(SELECT count(DISTINCT sp.person_id) FROM support_plans sp WHERE sp.council_id = @c AND sp.status = 'approved'
			   AND NOT EXISTS (SELECT 1 FROM review_schedules x WHERE x.council_id = sp.council_id AND x.person_id = sp.person_id)) AS without_review
		FROM review_schedules WHERE council_id = @c`, map[string]any{"c": uuidArg(councilID), "on": on, "by": on.AddDays(28)}).Scan(&r).Error
	return report.Reviews{Overdue: r.Overdue, DueIn28Days: r.DueSoon, WithoutReview: r.WithoutReview}, translate(err, nil)
}

// Audits implements report.Store, as the audits' work lists count them: due, the audits planned
// whose period has ended or ends within 28 days of on; overdue, those not concluded (nor closed
// or cancelled) audit_conclude_within_days after they were due.
func (s *ReportStore) Audits(ctx context.Context, councilID uuid.UUID, on date.Date) (report.Audits, error) {
	var a report.Audits
	err := s.db.conn(ctx).Raw(`SELECT count(*) FILTER (WHERE a.state = 'planned' AND a.due <= @soon) AS due,
		       count(*) FILTER (WHERE a.due + cs.audit_conclude_within_days < @on) AS overdue
		  FROM dp_audits a JOIN council_settings cs ON cs.council_id = a.council_id
		 WHERE a.council_id = @c AND a.state IN ('planned', 'evidence_requested', 'evidence_received', 'reconciled')`,
		map[string]any{"c": uuidArg(councilID), "on": on, "soon": on.AddDays(28)}).Scan(&a).Error
	if err != nil {
		return report.Audits{}, translate(err, nil)
	}
	return a, nil
}

// Recoveries implements report.Store: the recoveries notified, disputed or part recovered, with
// the amount still to recover.
func (s *ReportStore) Recoveries(ctx context.Context, councilID uuid.UUID, on date.Date) (report.Recoveries, error) {
	var r report.Recoveries
	err := s.db.conn(ctx).Raw(`SELECT count(*) AS count, coalesce(sum(amount_pence - recovered_pence - written_off_pence), 0) AS pence
		FROM recoveries WHERE council_id = ? AND status IN ('notified', 'disputed', 'part_recovered') AND created_at < ?`,
		uuidArg(councilID), on.AddDays(1)).Scan(&r).Error
	if err != nil {
		return report.Recoveries{}, translate(err, nil)
	}
	return r, nil
}
