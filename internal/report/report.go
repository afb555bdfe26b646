// Package report is the weekly report a council needs (issue 13): people with a personal budget
// by management mode and the ASCOF 3D measure, budgets' totals split council/person, payments of
// the financial year by option, reviews overdue, audits due and overdue and recoveries
// outstanding. Every figure is one SQL aggregate over indexes
// (Store), never rows loaded into the service.
package report

import (
	"bytes"
	"context"
	"encoding/csv"
	"strconv"
	"time"

	"github.com/google/uuid"

	"github.com/pbudget/pbudget/internal/actor"
	"github.com/pbudget/pbudget/internal/date"
)

// Modes counts people with a personal budget in use (an approved plan of an open budget) by how
// the lines in force on the day are managed.
type Modes struct {
	DirectPayment     int `json:"direct_payment"`      // every line a direct payment
	PartDirectPayment int `json:"part_direct_payment"` // some lines direct payments, others not
	CouncilManaged    int `json:"council_managed"`     // council-managed lines only
	ISF               int `json:"isf"`                 // ISF lines only
	ManagedAndISF     int `json:"council_managed_and_isf"`
	NoLinesInForce    int `json:"no_lines_in_force"`
}

// Budgets totals the open budgets' latest versions.
type Budgets struct {
	Count              int   `json:"count"`
	AnnualPence        int64 `json:"annual_pence"`
	CouncilAnnualPence int64 `json:"council_annual_pence"` // of the budgets with a financial assessment
	PersonAnnualPence  int64 `json:"person_annual_pence"`
	Unassessed         int   `json:"unassessed"` // budgets without a financial assessment (no split yet)
}

// Payments totals the payment lines of the runs paid in the financial year to the day.
type Payments struct {
	From               date.Date `json:"from"`
	DirectPaymentPence int64     `json:"direct_payment_pence"`
	ISFPence           int64     `json:"isf_pence"`
	Lines              int       `json:"lines"`
}

// Audits are the direct-payment audits due within 28 days (or already) and overdue.
type Audits struct {
	Due     int `json:"due"`
	Overdue int `json:"overdue"`
}

// Recoveries are the recoveries notified and not yet recovered or written off.
type Recoveries struct {
	Count int   `json:"count"`
	Pence int64 `json:"pence"`
}

// Reviews counts next reviews.
type Reviews struct {
	Overdue       int `json:"overdue"`
	DueIn28Days   int `json:"due_in_28_days"`
	WithoutReview int `json:"people_with_plan_without_schedule"`
}

// Weekly is the report.
type Weekly struct {
	CouncilID           uuid.UUID
	AsOf                date.Date
	GeneratedAt         time.Time
	PeopleWithBudget    int // people with an open budget
	PeopleWithPlan      int // of whom with an approved plan (self-directed support)
	PeopleWithDP        int // of whom with a direct-payment line in force
	Modes               Modes
	SelfDirectedSupport int // ASCOF 3D part 1: PeopleWithPlan ÷ PeopleWithBudget, in basis points
	DirectPayments      int // ASCOF 3D part 2: PeopleWithDP ÷ PeopleWithBudget, in basis points
	Budgets             Budgets
	Payments            Payments
	Reviews             Reviews
	Audits              Audits
	Recoveries          Recoveries
}

// Store computes the figures.
type Store interface {
	People(ctx context.Context, councilID uuid.UUID, on date.Date) (withBudget, withPlan, withDP int, m Modes, err error)
	Budgets(ctx context.Context, councilID uuid.UUID) (Budgets, error)
	Payments(ctx context.Context, councilID uuid.UUID, from, to date.Date) (Payments, error)
	Reviews(ctx context.Context, councilID uuid.UUID, on date.Date) (Reviews, error)
	Audits(ctx context.Context, councilID uuid.UUID, on date.Date) (Audits, error)
	Recoveries(ctx context.Context, councilID uuid.UUID, on date.Date) (Recoveries, error)
}

// Service builds the report.
type Service struct {
	store Store
	now   func() time.Time
}

// NewService returns a Service.
func NewService(store Store, now func() time.Time) *Service { return &Service{store: store, now: now} }

// FinancialYearStart is 1 April of the financial year containing d.
func FinancialYearStart(d date.Date) date.Date {
	y := d.Year()
	if d.Month() < time.April {
		y--
	}
	return date.Of(y, time.April, 1)
}

// Weekly computes the report on day on (default today).
func (s *Service) Weekly(ctx context.Context, a actor.Actor, on *date.Date) (Weekly, error) {
	day := date.Today(s.now())
	if on != nil {
		day = *on
	}
	w := Weekly{CouncilID: a.CouncilID, AsOf: day, GeneratedAt: s.now().UTC().Truncate(time.Microsecond)}
	var err error
	if w.PeopleWithBudget, w.PeopleWithPlan, w.PeopleWithDP, w.Modes, err = s.store.People(ctx, a.CouncilID, day); err != nil {
		return w, err
	}
	if w.PeopleWithBudget > 0 {
		w.SelfDirectedSupport = ratio(w.PeopleWithPlan, w.PeopleWithBudget)
		w.DirectPayments = ratio(w.PeopleWithDP, w.PeopleWithBudget)
	}
	if w.Budgets, err = s.store.Budgets(ctx, a.CouncilID); err != nil {
		return w, err
	}
	if w.Payments, err = s.store.Payments(ctx, a.CouncilID, FinancialYearStart(day), day); err != nil {
		return w, err
	}
	if w.Reviews, err = s.store.Reviews(ctx, a.CouncilID, day); err != nil {
		return w, err
	}
	if w.Audits, err = s.store.Audits(ctx, a.CouncilID, day); err != nil {
		return w, err
	}
	w.Recoveries, err = s.store.Recoveries(ctx, a.CouncilID, day)
	return w, err
}

// ratio is n ÷ d in basis points (hundredths of a per cent), to the nearest.
func ratio(n, d int) int { return (n*10000 + d/2) / d }

// CSV renders the report as metric,value rows (a missing figure is empty, its reason in a note).
func (w Weekly) CSV() ([]byte, error) {
	var b bytes.Buffer
	c := csv.NewWriter(&b)
	i := func(n int) string { return strconv.Itoa(n) }
	p := func(n int64) string { return strconv.FormatInt(n, 10) }
	rows := [][]string{{"metric", "value", "note"},
		{"as_of", w.AsOf.String(), ""},
		{"people_with_budget", i(w.PeopleWithBudget), "people with an open personal budget"},
		{"people_with_approved_plan", i(w.PeopleWithPlan), ""},
		{"people_with_direct_payment", i(w.PeopleWithDP), "a direct-payment line in force"},
		{"ascof_3d_self_directed_support_basis_points", i(w.SelfDirectedSupport), "people_with_approved_plan / people_with_budget, in hundredths of a per cent"},
		{"ascof_3d_direct_payments_basis_points", i(w.DirectPayments), "people_with_direct_payment / people_with_budget, in hundredths of a per cent"},
		{"mode_direct_payment", i(w.Modes.DirectPayment), ""},
		{"mode_part_direct_payment", i(w.Modes.PartDirectPayment), ""},
		{"mode_council_managed", i(w.Modes.CouncilManaged), ""},
		{"mode_isf", i(w.Modes.ISF), ""},
		{"mode_council_managed_and_isf", i(w.Modes.ManagedAndISF), ""},
		{"mode_no_lines_in_force", i(w.Modes.NoLinesInForce), ""},
		{"budgets_count", i(w.Budgets.Count), ""},
		{"budgets_annual_pence", p(w.Budgets.AnnualPence), ""},
		{"budgets_council_annual_pence", p(w.Budgets.CouncilAnnualPence), ""},
		{"budgets_person_annual_pence", p(w.Budgets.PersonAnnualPence), ""},
		{"budgets_unassessed", i(w.Budgets.Unassessed), "no financial assessment: no council/person split yet"},
		{"payments_from", w.Payments.From.String(), "the financial year's first day"},
		{"payments_direct_payment_pence", p(w.Payments.DirectPaymentPence), ""},
		{"payments_isf_pence", p(w.Payments.ISFPence), ""},
		{"reviews_overdue", i(w.Reviews.Overdue), ""},
		{"reviews_due_in_28_days", i(w.Reviews.DueIn28Days), ""},
		{"audits_due", i(w.Audits.Due), "planned, its period ended or ending within 28 days"},
		{"audits_overdue", i(w.Audits.Overdue), "not concluded audit_conclude_within_days after due"},
		{"recoveries_outstanding", i(w.Recoveries.Count), "notified, disputed or part recovered"},
		{"recoveries_outstanding_pence", p(w.Recoveries.Pence), "still to recover"},
	}
	if err := c.WriteAll(rows); err != nil {
		return nil, err
	}
	return b.Bytes(), nil
}
