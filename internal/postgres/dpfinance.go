package postgres

import (
	"context"
	"encoding/json"
	"fmt"
	"time"

	"github.com/google/uuid"
	"gorm.io/gorm/clause"

	"github.com/pbudget/pbudget/internal/account"
	"github.com/pbudget/pbudget/internal/apperr"
	"github.com/pbudget/pbudget/internal/date"
	"github.com/pbudget/pbudget/internal/dpaudit"
	"github.com/pbudget/pbudget/internal/dpfinance"
	"github.com/pbudget/pbudget/internal/isf"
	"github.com/pbudget/pbudget/internal/page"
	"github.com/pbudget/pbudget/internal/payment"
	"github.com/pbudget/pbudget/internal/plan"
	"github.com/pbudget/pbudget/internal/recovery"
)

// DPFinanceStore implements dpfinance.Store: ISF statements, recoveries and DP audits.
type DPFinanceStore struct{ db *DB }

// NewDPFinanceStore returns a DPFinanceStore.
func NewDPFinanceStore(db *DB) *DPFinanceStore { return &DPFinanceStore{db: db} }

var _ dpfinance.Store = (*DPFinanceStore)(nil)

var errISFStatement = map[string]error{
	"isf_statements_live_period_key": dpfinance.ErrPeriodFiled,
}

// errRecovery: a source (an overpayment, a flagged ISF statement) has one recovery at a time.
var errRecovery = map[string]error{
	"recoveries_overpayment_key":   dpfinance.ErrSourceTaken,
	"recoveries_isf_statement_key": dpfinance.ErrSourceTaken,
}

func lockClause(lock bool) string {
	if lock {
		return " FOR UPDATE"
	}
	return ""
}

// Councils implements dpfinance.Store: the councils not retired.
func (s *DPFinanceStore) Councils(ctx context.Context) ([]uuid.UUID, error) {
	var ids []uuid.UUID
	err := s.db.conn(ctx).Raw(`SELECT id FROM councils WHERE retired_at IS NULL ORDER BY id`).Scan(&ids).Error
	return ids, translate(err, nil)
}

// CouncilName implements dpfinance.Store.
func (s *DPFinanceStore) CouncilName(ctx context.Context, councilID uuid.UUID) (string, error) {
	var names []string
	if err := s.db.conn(ctx).Raw(`SELECT name FROM councils WHERE id = ?`, uuidArg(councilID)).Scan(&names).Error; err != nil {
		return "", translate(err, nil)
	}
	if len(names) == 0 {
		return "", apperr.ErrNotFound
	}
	return names[0], nil
}

type isfAgreementRow struct {
	ID                 uuid.UUID
	PersonID           uuid.UUID
	ProviderID         uuid.UUID
	PlanID             uuid.UUID
	StartDate          date.Date
	EndDate            *date.Date
	StatementFrequency string
	AnnualAmountPence  int64
}

const isfAgreementSelect = `SELECT a.id, a.person_id, a.provider_id, a.plan_id, a.start_date, a.end_date, a.statement_frequency, a.annual_amount_pence
	FROM isf_agreements a`

func (s *DPFinanceStore) isfLines(ctx context.Context, councilID uuid.UUID, rows []isfAgreementRow) ([]dpfinance.ISFAgreement, error) {
	out := make([]dpfinance.ISFAgreement, len(rows))
	ids := make([]uuid.UUID, len(rows))
	for i, r := range rows {
		out[i] = dpfinance.ISFAgreement{ID: r.ID, PersonID: r.PersonID, ProviderID: r.ProviderID, PlanID: r.PlanID, Start: r.StartDate, End: r.EndDate,
			Frequency: isf.Frequency(r.StatementFrequency), Annual: r.AnnualAmountPence}
		ids[i] = r.ID
	}
	if len(rows) == 0 {
		return out, nil
	}
	var lines []struct{ AgreementID, LineID uuid.UUID }
	err := s.db.conn(ctx).Raw(`SELECT a.id AS agreement_id, l.id AS line_id FROM isf_agreements a
		JOIN plan_lines l ON l.council_id = a.council_id AND l.plan_id = a.plan_id AND l.management_option = 'isf' AND l.provider_id = a.provider_id
		WHERE a.council_id = ? AND a.id = ANY(?) ORDER BY l.position`, uuidArg(councilID), uuidArray(ids)).Scan(&lines).Error
	if err != nil {
		return nil, translate(err, nil)
	}
	at := map[uuid.UUID]int{}
	for i := range out {
		at[out[i].ID] = i
	}
	for _, l := range lines {
		i := at[l.AgreementID]
		out[i].PlanLines = append(out[i].PlanLines, l.LineID)
	}
	return out, nil
}

// ISFAgreement implements dpfinance.Store.
func (s *DPFinanceStore) ISFAgreement(ctx context.Context, councilID, id uuid.UUID, lock bool) (dpfinance.ISFAgreement, error) {
	var rows []isfAgreementRow
	err := s.db.conn(ctx).Raw(isfAgreementSelect+` WHERE a.council_id = ? AND a.id = ?`+lockClause(lock), uuidArg(councilID), uuidArg(id)).Scan(&rows).Error
	if err != nil {
		return dpfinance.ISFAgreement{}, translate(err, nil)
	}
	if len(rows) == 0 {
		return dpfinance.ISFAgreement{}, apperr.ErrNotFound.WithMessage("no such ISF agreement")
	}
	out, err := s.isfLines(ctx, councilID, rows)
	if err != nil {
		return dpfinance.ISFAgreement{}, err
	}
	return out[0], nil
}

// ISFAgreements implements dpfinance.Store: the signed ISFs.
func (s *DPFinanceStore) ISFAgreements(ctx context.Context, councilID uuid.UUID) ([]dpfinance.ISFAgreement, error) {
	var rows []isfAgreementRow
	err := s.db.conn(ctx).Raw(isfAgreementSelect+` WHERE a.council_id = ? AND a.signed_date IS NOT NULL ORDER BY a.created_at, a.id`, uuidArg(councilID)).Scan(&rows).Error
	if err != nil {
		return nil, translate(err, nil)
	}
	return s.isfLines(ctx, councilID, rows)
}

type isfStatementRow struct {
	CouncilID                uuid.UUID
	ID                       uuid.UUID
	IsfAgreementID           uuid.UUID
	ProviderID               uuid.UUID
	PersonID                 uuid.UUID
	PeriodStart              date.Date
	PeriodEnd                date.Date
	OpeningBalancePence      int64
	ReceivedFromCouncilPence int64
	ReceivedFromPersonPence  int64
	SpentPence               int64
	ClosingBalancePence      int64
	Status                   string
	DecisionReason           *string
	DecidedBy                *string
	DecidedAt                *time.Time
	SubmittedBy              string
	CreatedAt                time.Time
	Version                  int
}

func (isfStatementRow) TableName() string { return "isf_statements" }

type isfStatementLineRow struct {
	CouncilID       uuid.UUID
	StatementID     uuid.UUID
	Position        int
	PlanLineID      uuid.UUID
	UnitsHundredths int64
	RatePence       int64
	AmountPence     int64
}

func (isfStatementLineRow) TableName() string { return "isf_statement_lines" }

func (s *DPFinanceStore) statements(ctx context.Context, councilID uuid.UUID, rows []isfStatementRow) ([]dpfinance.ISFStatement, error) {
	ids := make([]uuid.UUID, len(rows))
	for i := range rows {
		ids[i] = rows[i].ID
	}
	var lines []isfStatementLineRow
	if len(ids) > 0 {
		var err error
		if lines, err = childrenOf[isfStatementLineRow](s.db.conn(ctx), councilID, "statement_id", ids, "statement_id, position"); err != nil {
			return nil, err
		}
	}
	by := map[uuid.UUID][]isf.Line{}
	for _, l := range lines {
		by[l.StatementID] = append(by[l.StatementID], isf.Line{PlanLineID: l.PlanLineID, Units: plan.Quantity(l.UnitsHundredths), Rate: l.RatePence, Amount: l.AmountPence})
	}
	out := make([]dpfinance.ISFStatement, len(rows))
	for i, r := range rows {
		var at *time.Time
		if r.DecidedAt != nil {
			t := r.DecidedAt.UTC()
			at = &t
		}
		out[i] = dpfinance.ISFStatement{CouncilID: r.CouncilID, ID: r.ID, AgreementID: r.IsfAgreementID, ProviderID: r.ProviderID, PersonID: r.PersonID,
			Statement: isf.Statement{Period: isf.Period{Start: r.PeriodStart, End: r.PeriodEnd}, Opening: r.OpeningBalancePence,
				FromCouncil: r.ReceivedFromCouncilPence, FromPerson: r.ReceivedFromPersonPence, Lines: by[r.ID], Closing: r.ClosingBalancePence},
			Status: r.Status, DecisionReason: r.DecisionReason, DecidedBy: r.DecidedBy, DecidedAt: at, SubmittedBy: r.SubmittedBy,
			CreatedAt: r.CreatedAt.UTC(), Version: r.Version}
		if out[i].Statement.Lines == nil {
			out[i].Statement.Lines = []isf.Line{}
		}
	}
	return out, nil
}

// ISFStatements implements dpfinance.Store: in period order, then filing order.
func (s *DPFinanceStore) ISFStatements(ctx context.Context, councilID uuid.UUID, agreements []uuid.UUID) (map[uuid.UUID][]dpfinance.ISFStatement, error) {
	if len(agreements) == 0 {
		return map[uuid.UUID][]dpfinance.ISFStatement{}, nil
	}
	var rows []isfStatementRow
	err := s.db.conn(ctx).Where("council_id = ? AND isf_agreement_id = ANY(?)", uuidArg(councilID), uuidArray(agreements)).
		Order("isf_agreement_id, period_start, created_at, id").Find(&rows).Error
	if err != nil {
		return nil, translate(err, nil)
	}
	sts, err := s.statements(ctx, councilID, rows)
	if err != nil {
		return nil, err
	}
	out := map[uuid.UUID][]dpfinance.ISFStatement{}
	for _, st := range sts {
		out[st.AgreementID] = append(out[st.AgreementID], st)
	}
	return out, nil
}

// GetISFStatement implements dpfinance.Store.
func (s *DPFinanceStore) GetISFStatement(ctx context.Context, councilID, id uuid.UUID, lock bool) (dpfinance.ISFStatement, error) {
	r, err := takeOne[isfStatementRow](s.db.conn(ctx), lock, "council_id = ? AND id = ?", uuidArg(councilID), uuidArg(id))
	if err != nil {
		return dpfinance.ISFStatement{}, err
	}
	out, err := s.statements(ctx, councilID, []isfStatementRow{r})
	if err != nil {
		return dpfinance.ISFStatement{}, err
	}
	return out[0], nil
}

// InsertISFStatement implements dpfinance.Store.
func (s *DPFinanceStore) InsertISFStatement(ctx context.Context, st dpfinance.ISFStatement) error {
	x := st.Statement
	r := isfStatementRow{CouncilID: st.CouncilID, ID: st.ID, IsfAgreementID: st.AgreementID, ProviderID: st.ProviderID, PersonID: st.PersonID,
		PeriodStart: x.Period.Start, PeriodEnd: x.Period.End, OpeningBalancePence: x.Opening, ReceivedFromCouncilPence: x.FromCouncil,
		ReceivedFromPersonPence: x.FromPerson, SpentPence: x.Spent(), ClosingBalancePence: x.Closing, Status: st.Status, SubmittedBy: st.SubmittedBy,
		CreatedAt: st.CreatedAt, Version: st.Version}
	if err := s.db.conn(ctx).Create(&r).Error; err != nil {
		return translate(err, errISFStatement)
	}
	if len(x.Lines) == 0 {
		return nil
	}
	lines := make([]isfStatementLineRow, len(x.Lines))
	for i, l := range x.Lines {
		lines[i] = isfStatementLineRow{CouncilID: st.CouncilID, StatementID: st.ID, Position: i, PlanLineID: l.PlanLineID, UnitsHundredths: int64(l.Units),
			RatePence: l.Rate, AmountPence: l.Amount}
	}
	return translate(s.db.conn(ctx).Create(&lines).Error, nil)
}

// DecideISFStatement implements dpfinance.Store.
func (s *DPFinanceStore) DecideISFStatement(ctx context.Context, st dpfinance.ISFStatement) error {
	return translate(s.db.conn(ctx).Exec(`UPDATE isf_statements SET status = ?, decision_reason = ?, decided_by = ?, decided_at = ?, version = ?
		WHERE council_id = ? AND id = ?`, st.Status, st.DecisionReason, st.DecidedBy, st.DecidedAt, st.Version, uuidArg(st.CouncilID), uuidArg(st.ID)).Error, nil)
}

type dpAgreementRow struct {
	ID                uuid.UUID
	PersonID          uuid.UUID
	AccountType       string
	StartDate         date.Date
	EndDate           *date.Date
	FirstPayment      *date.Date
	AnnualAmountPence int64
	Version           int
}

func (r dpAgreementRow) domain() dpfinance.DPAgreement {
	return dpfinance.DPAgreement{ID: r.ID, PersonID: r.PersonID, AccountType: r.AccountType, Start: r.StartDate, End: r.EndDate,
		FirstPayment: r.FirstPayment, Annual: r.AnnualAmountPence, Version: r.Version}
}

// firstPaid is the pay date of the first paid run with a live line of the agreement.
const dpAgreementSelect = `SELECT a.id, a.person_id, a.account_type, a.start_date, a.end_date, a.annual_amount_pence, a.version,
	(SELECT min(r.pay_date) FROM payment_lines l JOIN payment_runs r ON r.council_id = l.council_id AND r.id = l.run_id
	  WHERE l.council_id = a.council_id AND l.dp_agreement_id = a.id AND l.state = 'live' AND l.amount_pence > 0 AND r.status = 'paid') AS first_payment
	FROM direct_payment_agreements a`

// DPAgreement implements dpfinance.Store.
func (s *DPFinanceStore) DPAgreement(ctx context.Context, councilID, id uuid.UUID, lock bool) (dpfinance.DPAgreement, error) {
	var rows []dpAgreementRow
	q := dpAgreementSelect + ` WHERE a.council_id = ? AND a.id = ?`
	if lock {
		q += ` FOR UPDATE OF a`
	}
	if err := s.db.conn(ctx).Raw(q, uuidArg(councilID), uuidArg(id)).Scan(&rows).Error; err != nil {
		return dpfinance.DPAgreement{}, translate(err, nil)
	}
	if len(rows) == 0 {
		return dpfinance.DPAgreement{}, apperr.ErrNotFound.WithMessage("no such direct-payment agreement")
	}
	return rows[0].domain(), nil
}

// DPAgreementsPaid implements dpfinance.Store: the agreements a paid run has paid.
func (s *DPFinanceStore) DPAgreementsPaid(ctx context.Context, councilID uuid.UUID) ([]dpfinance.DPAgreement, error) {
	var rows []dpAgreementRow
	err := s.db.conn(ctx).Raw(`SELECT * FROM (`+dpAgreementSelect+` WHERE a.council_id = ?) x WHERE first_payment IS NOT NULL ORDER BY id`,
		uuidArg(councilID)).Scan(&rows).Error
	if err != nil {
		return nil, translate(err, nil)
	}
	return convert(rows, dpAgreementRow.domain), nil
}

// Ledger implements dpfinance.Store: the account's ledger up to the period's end (its opening
// balance and entries, amounts as account.Entry takes them), the flags of its statement lines in
// the period, and the closing balance a statement ending on the period's last day states.
func (s *DPFinanceStore) Ledger(ctx context.Context, councilID, agreementID uuid.UUID, p dpaudit.Period) (dpfinance.Ledger, error) {
	var acct []struct {
		ID                  uuid.UUID
		OpenedOn            date.Date
		OpeningBalancePence int64
	}
	q := s.db.conn(ctx)
	if err := q.Raw(`SELECT id, opened_on, opening_balance_pence FROM direct_payment_accounts WHERE council_id = ? AND dp_agreement_id = ?`,
		uuidArg(councilID), uuidArg(agreementID)).Scan(&acct).Error; err != nil {
		return dpfinance.Ledger{}, translate(err, nil)
	}
	if len(acct) == 0 {
		return dpfinance.Ledger{}, apperr.ErrNotFound.WithMessage("the direct payment has no account")
	}
	a := acct[0]
	// A year of a busy account is thousands of entries: scanned row by row, not by reflection.
	rows, err := q.Raw(`SELECT entry_date, kind, amount_pence FROM ledger_entries WHERE council_id = ? AND account_id = ? AND entry_date < ?
		ORDER BY entry_date, seq`, uuidArg(councilID), uuidArg(a.ID), p.End).Rows()
	if err != nil {
		return dpfinance.Ledger{}, translate(err, nil)
	}
	defer rows.Close()
	led := dpfinance.Ledger{Opening: account.Opening{Date: a.OpenedOn, Amount: a.OpeningBalancePence}}
	for rows.Next() {
		var e account.Entry
		var kind string
		if err := rows.Scan(&e.Date, &kind, &e.Amount); err != nil {
			return dpfinance.Ledger{}, translate(err, nil)
		}
		e.Kind = account.Kind(kind)
		// Stored signed, held as magnitudes by kind; but an invoice reversal (a negative
		// contribution due) stays negative, so that the period's contributions due net it off.
		if e.Kind != account.Adjustment && e.Kind != account.ContributionDue && e.Amount < 0 {
			e.Amount = -e.Amount
		}
		if e.Date.Before(led.Opening.Date) {
			led.Opening.Date = e.Date // a ledger posted before the account's opening day: open it then
		}
		led.Entries = append(led.Entries, e)
	}
	if err := rows.Err(); err != nil {
		return dpfinance.Ledger{}, translate(err, nil)
	}
	var flags []struct {
		Flag        string
		AmountPence int64
		Resolution  *string
	}
	if err := q.Raw(`SELECT flag, amount_pence, resolution FROM statement_flags WHERE council_id = ? AND account_id = ? AND line_date >= ? AND line_date < ?
		ORDER BY line_date, id`, uuidArg(councilID), uuidArg(a.ID), p.Start, p.End).Scan(&flags).Error; err != nil {
		return dpfinance.Ledger{}, translate(err, nil)
	}
	for _, f := range flags {
		fl := dpaudit.FlaggedLine{Flag: account.Flag(f.Flag), Amount: f.AmountPence}
		if fl.Amount < 0 {
			fl.Amount = -fl.Amount
		}
		if f.Resolution != nil {
			fl.Resolution = dpaudit.Resolution(*f.Resolution)
		}
		led.Flagged = append(led.Flagged, fl)
	}
	var closing []int64
	if err := q.Raw(`SELECT stated_closing_pence FROM statements WHERE council_id = ? AND account_id = ? AND to_date = ? AND stated_closing_pence IS NOT NULL
		ORDER BY imported_at DESC, id DESC LIMIT 1`, uuidArg(councilID), uuidArg(a.ID), p.Last()).Scan(&closing).Error; err != nil {
		return dpfinance.Ledger{}, translate(err, nil)
	}
	if len(closing) > 0 {
		led.StatementClosing = &closing[0]
	}
	return led, nil
}

type recoveryRow struct {
	CouncilID         uuid.UUID
	ID                uuid.UUID
	DpAgreementID     *uuid.UUID
	IsfAgreementID    *uuid.UUID
	PersonID          uuid.UUID
	AuditID           *uuid.UUID
	OverpaymentID     *uuid.UUID
	IsfStatementID    *uuid.UUID
	Basis             string
	AmountPence       int64
	CouncilSharePence int64
	PersonExcessPence int64
	Excess            *string
	Reason            string
	Method            string
	Cycles            int
	Status            string
	NoticeDate        *date.Date
	InvoiceDue        *date.Date
	Grounds           *string
	RecoveredPence    int64
	WrittenOffPence   int64
	WriteOffReason    *string
	CreatedBy         string
	CreatedAt         time.Time
	UpdatedAt         time.Time
	Version           int
}

func (recoveryRow) TableName() string { return "recoveries" }

func recoveryRowOf(r dpfinance.Recovery) recoveryRow {
	dp, isfID := kindIDs(r.AgreementKind, r.AgreementID)
	row := recoveryRow{CouncilID: r.CouncilID, ID: r.ID, DpAgreementID: dp, IsfAgreementID: isfID, PersonID: r.PersonID, AuditID: r.AuditID,
		OverpaymentID: r.OverpaymentID, IsfStatementID: r.ISFStatementID, Basis: string(r.Proposal.Basis), AmountPence: r.Proposal.Amount, CouncilSharePence: r.Proposal.CouncilShare,
		PersonExcessPence: r.Proposal.PersonExcess, Reason: r.Proposal.Reason, Method: string(r.Proposal.Method), Cycles: r.Proposal.Cycles,
		Status: string(r.State.State), RecoveredPence: r.State.Recovered, WrittenOffPence: r.State.WrittenOff, WriteOffReason: r.WriteOffReason,
		CreatedBy: r.CreatedBy, CreatedAt: r.CreatedAt, UpdatedAt: r.UpdatedAt, Version: r.Version}
	if r.Proposal.Excess != "" {
		e := string(r.Proposal.Excess)
		row.Excess = &e
	}
	if r.State.NoticeDate != (date.Date{}) {
		d := r.State.NoticeDate
		row.NoticeDate = &d
	}
	if r.State.InvoiceDue != (date.Date{}) {
		d := r.State.InvoiceDue
		row.InvoiceDue = &d
	}
	if r.State.Grounds != "" {
		g := r.State.Grounds
		row.Grounds = &g
	}
	return row
}

func (r recoveryRow) domain() dpfinance.Recovery {
	out := dpfinance.Recovery{CouncilID: r.CouncilID, ID: r.ID, AgreementKind: payment.DirectPaymentKind, PersonID: r.PersonID, AuditID: r.AuditID,
		OverpaymentID: r.OverpaymentID, ISFStatementID: r.IsfStatementID, WriteOffReason: r.WriteOffReason, CreatedBy: r.CreatedBy, CreatedAt: r.CreatedAt.UTC(),
		UpdatedAt: r.UpdatedAt.UTC(), Version: r.Version}
	if r.DpAgreementID != nil {
		out.AgreementID = *r.DpAgreementID
	} else {
		out.AgreementID, out.AgreementKind = *r.IsfAgreementID, payment.ISFKind
	}
	out.Proposal = recovery.Proposal{Basis: recovery.Basis(r.Basis), Amount: r.AmountPence, CouncilShare: r.CouncilSharePence,
		PersonExcess: r.PersonExcessPence, Reason: r.Reason, Method: recovery.Method(r.Method), Cycles: r.Cycles}
	if r.Excess != nil {
		out.Proposal.Excess = recovery.Excess(*r.Excess)
	}
	out.State = recovery.Recovery{State: recovery.State(r.Status), Method: recovery.Method(r.Method), Amount: r.AmountPence,
		Recovered: r.RecoveredPence, WrittenOff: r.WrittenOffPence}
	if r.NoticeDate != nil {
		out.State.NoticeDate = *r.NoticeDate
	}
	if r.InvoiceDue != nil {
		out.State.InvoiceDue = *r.InvoiceDue
	}
	if r.Grounds != nil {
		out.State.Grounds = *r.Grounds
	}
	return out
}

// InsertRecovery implements dpfinance.Store.
func (s *DPFinanceStore) InsertRecovery(ctx context.Context, r dpfinance.Recovery) error {
	row := recoveryRowOf(r)
	return translate(s.db.conn(ctx).Omit("agreement_id").Create(&row).Error, errRecovery)
}

// GetRecovery implements dpfinance.Store.
func (s *DPFinanceStore) GetRecovery(ctx context.Context, councilID, id uuid.UUID, lock bool) (dpfinance.Recovery, error) {
	r, err := takeOne[recoveryRow](s.db.conn(ctx), lock, "council_id = ? AND id = ?", uuidArg(councilID), uuidArg(id))
	if err != nil {
		return dpfinance.Recovery{}, err
	}
	return r.domain(), nil
}

// UpdateRecovery implements dpfinance.Store.
func (s *DPFinanceStore) UpdateRecovery(ctx context.Context, r dpfinance.Recovery) error {
	row := recoveryRowOf(r)
	return translate(s.db.conn(ctx).Exec(`UPDATE recoveries SET status = ?, notice_date = ?, invoice_due = ?, grounds = ?, recovered_pence = ?,
		written_off_pence = ?, write_off_reason = ?, updated_at = ?, version = ? WHERE council_id = ? AND id = ?`,
		row.Status, row.NoticeDate, row.InvoiceDue, row.Grounds, row.RecoveredPence, row.WrittenOffPence, row.WriteOffReason, row.UpdatedAt, row.Version,
		uuidArg(r.CouncilID), uuidArg(r.ID)).Error, nil)
}

// ListRecoveries implements dpfinance.Store: newest first, a page or at most 500.
func (s *DPFinanceStore) ListRecoveries(ctx context.Context, councilID uuid.UUID, agreementID *uuid.UUID, status string, p page.Request) ([]dpfinance.Recovery, error) {
	q := s.db.conn(ctx).Where("council_id = ?", uuidArg(councilID))
	if agreementID != nil {
		q = q.Where("agreement_id = ?", uuidArg(*agreementID))
	}
	if status != "" {
		q = q.Where("status = ?", status)
	}
	limit := 500
	if p.Size > 0 {
		limit = p.Size + 1
	}
	if p.After != nil {
		q = q.Where("(created_at, id) < (?, ?)", p.After.Time, uuidArg(p.After.ID))
	}
	var rows []recoveryRow
	if err := q.Order("created_at DESC, id DESC").Limit(limit).Find(&rows).Error; err != nil {
		return nil, translate(err, nil)
	}
	return convert(rows, recoveryRow.domain), nil
}

// OffsetsTaken implements dpfinance.Store: the recovery lines of runs, with where their runs stand.
func (s *DPFinanceStore) OffsetsTaken(ctx context.Context, councilID uuid.UUID, recoveries []uuid.UUID) (map[uuid.UUID][]dpfinance.OffsetTaken, error) {
	out := map[uuid.UUID][]dpfinance.OffsetTaken{}
	if len(recoveries) == 0 {
		return out, nil
	}
	var rows []struct {
		RecoveryID, ID, RunID uuid.UUID
		CycleStart            date.Date
		AmountPence           int64
		State, RunStatus      string
	}
	err := s.db.conn(ctx).Raw(`SELECT l.recovery_id, l.id, l.run_id, l.cycle_start, l.amount_pence, l.state, r.status AS run_status
		FROM payment_lines l JOIN payment_runs r ON r.council_id = l.council_id AND r.id = l.run_id
		WHERE l.council_id = ? AND l.kind = 'recovery' AND l.recovery_id = ANY(?) ORDER BY l.cycle_start, l.created_at, l.id`,
		uuidArg(councilID), uuidArray(recoveries)).Scan(&rows).Error
	if err != nil {
		return nil, translate(err, nil)
	}
	for _, r := range rows {
		out[r.RecoveryID] = append(out[r.RecoveryID], dpfinance.OffsetTaken{LineID: r.ID, RunID: r.RunID, CycleStart: r.CycleStart, Amount: -r.AmountPence,
			State: r.State, RunStatus: r.RunStatus})
	}
	return out, nil
}

// OffsetRecoveries implements dpfinance.Store: the agreements' recoveries by offset taking now.
func (s *DPFinanceStore) OffsetRecoveries(ctx context.Context, councilID uuid.UUID, agreements []uuid.UUID) ([]dpfinance.Recovery, error) {
	var rows []recoveryRow
	err := s.db.conn(ctx).Where("council_id = ? AND agreement_id = ANY(?) AND method = 'offset' AND status IN ('notified', 'part_recovered')",
		uuidArg(councilID), uuidArray(agreements)).Order("created_at, id").Find(&rows).Error
	if err != nil {
		return nil, translate(err, nil)
	}
	return convert(rows, recoveryRow.domain), nil
}

// RunOffsets implements dpfinance.Store: what each recovery's live lines in the run took.
func (s *DPFinanceStore) RunOffsets(ctx context.Context, councilID, runID uuid.UUID) (map[uuid.UUID]int64, error) {
	var rows []struct {
		RecoveryID uuid.UUID
		Amount     int64
	}
	err := s.db.conn(ctx).Raw(`SELECT recovery_id, -sum(amount_pence) AS amount FROM payment_lines
		WHERE council_id = ? AND run_id = ? AND kind = 'recovery' AND state = 'live' AND NOT held GROUP BY recovery_id ORDER BY recovery_id`,
		uuidArg(councilID), uuidArg(runID)).Scan(&rows).Error
	if err != nil {
		return nil, translate(err, nil)
	}
	out := map[uuid.UUID]int64{}
	for _, r := range rows {
		out[r.RecoveryID] = r.Amount
	}
	return out, nil
}

// PAEvidence implements dpfinance.Store.
func (s *DPFinanceStore) PAEvidence(ctx context.Context, councilID, agreementID uuid.UUID) (dpfinance.PAEvidence, error) {
	q := s.db.conn(ctx)
	var out dpfinance.PAEvidence
	var born []date.Date
	if err := q.Raw(`SELECT p.date_of_birth FROM direct_payment_agreements g JOIN people p ON p.council_id = g.council_id AND p.id = g.person_id
		WHERE g.council_id = ? AND g.id = ?`, uuidArg(councilID), uuidArg(agreementID)).Scan(&born).Error; err != nil {
		return out, translate(err, nil)
	}
	if len(born) == 0 {
		return out, apperr.ErrNotFound.WithMessage("no such direct-payment agreement")
	}
	out.PersonBorn = born[0]
	var pas []uuid.UUID
	if err := q.Raw(`SELECT l.personal_assistant_id FROM direct_payment_agreements g
		JOIN plan_lines l ON l.council_id = g.council_id AND l.plan_id = g.plan_id
		WHERE g.council_id = ? AND g.id = ? AND l.management_option = 'direct_payment' AND l.personal_assistant_id IS NOT NULL
		ORDER BY l.position, l.id`, uuidArg(councilID), uuidArg(agreementID)).Scan(&pas).Error; err != nil {
		return out, translate(err, nil)
	}
	if len(pas) == 0 {
		return out, nil
	}
	for _, id := range pas {
		out.Assistants = append(out.Assistants, id.String())
	}
	var items []struct {
		PersonalAssistantID uuid.UUID
		Kind                string
		ValidUntil          *date.Date
	}
	if err := q.Raw(`SELECT e.personal_assistant_id, e.kind, e.valid_until FROM evidence_items e
		JOIN direct_payment_accounts a ON a.council_id = e.council_id AND a.id = e.account_id
		WHERE a.council_id = ? AND a.dp_agreement_id = ? AND e.personal_assistant_id IS NOT NULL ORDER BY e.recorded_at, e.id`,
		uuidArg(councilID), uuidArg(agreementID)).Scan(&items).Error; err != nil {
		return out, translate(err, nil)
	}
	for _, it := range items {
		out.Items = append(out.Items, dpaudit.PAItem{Assistant: it.PersonalAssistantID.String(), Kind: dpaudit.EvidenceKind(it.Kind), ValidUntil: it.ValidUntil})
	}
	return out, nil
}

// CreditOffset implements dpfinance.Store.
func (s *DPFinanceStore) CreditOffset(ctx context.Context, councilID, recoveryID, runID uuid.UUID, amount int64, at time.Time) error {
	return translate(s.db.conn(ctx).Exec(`INSERT INTO recovery_offset_credits (council_id, recovery_id, run_id, credited_pence, created_at, updated_at)
		SELECT ?, ?, ?, ?, ?, ?`, uuidArg(councilID), uuidArg(recoveryID), uuidArg(runID), amount, at, at).Error, nil)
}

// ReverseOffsetCredit implements dpfinance.Store.
func (s *DPFinanceStore) ReverseOffsetCredit(ctx context.Context, councilID, recoveryID, runID uuid.UUID, amount int64, at time.Time) error {
	res := s.db.conn(ctx).Exec(`UPDATE recovery_offset_credits SET reversed_pence = reversed_pence + ?, updated_at = ?
		WHERE council_id = ? AND recovery_id = ? AND run_id = ? AND reversed_pence + ? <= credited_pence`,
		amount, at, uuidArg(councilID), uuidArg(recoveryID), uuidArg(runID), amount)
	if res.Error != nil {
		return translate(res.Error, nil)
	}
	if res.RowsAffected != 1 {
		return fmt.Errorf("reverse offset credit: recovery %s run %s has no credit of %d pence left to reverse", recoveryID, runID, amount)
	}
	return nil
}

// ReturnedOffsets implements dpfinance.Store.
func (s *DPFinanceStore) ReturnedOffsets(ctx context.Context, councilID, runID uuid.UUID, agreements []uuid.UUID) ([]dpfinance.ReturnedOffset, error) {
	var rows []struct {
		RecoveryID uuid.UUID
		Amount     int64
		Credited   int64
	}
	err := s.db.conn(ctx).Raw(`SELECT l.recovery_id, l.amount, coalesce(c.credited_pence - c.reversed_pence, 0) AS credited
		FROM (SELECT recovery_id, -sum(amount_pence) AS amount FROM payment_lines
		       WHERE council_id = ? AND run_id = ? AND agreement_id = ANY(?) AND kind = 'recovery' AND state = 'returned' AND NOT held
		       GROUP BY recovery_id) l
		LEFT JOIN recovery_offset_credits c ON c.council_id = ? AND c.recovery_id = l.recovery_id AND c.run_id = ?
		ORDER BY l.recovery_id`,
		uuidArg(councilID), uuidArg(runID), uuidArray(agreements), uuidArg(councilID), uuidArg(runID)).Scan(&rows).Error
	if err != nil {
		return nil, translate(err, nil)
	}
	out := make([]dpfinance.ReturnedOffset, len(rows))
	for i, r := range rows {
		out[i] = dpfinance.ReturnedOffset{RecoveryID: r.RecoveryID, Amount: r.Amount, Credited: r.Credited}
	}
	return out, nil
}

// PostRecovery implements dpfinance.Store.
func (s *DPFinanceStore) PostRecovery(ctx context.Context, r dpfinance.Recovery, source uuid.UUID, on date.Date, amount int64, by string, at time.Time) error {
	return translate(s.db.conn(ctx).Exec(`INSERT INTO ledger_entries (council_id, id, account_id, entry_date, kind, amount_pence, source_kind, source_id, reason, created_by, created_at)
		SELECT a.council_id, gen_random_uuid(), a.id, ?, 'recovery', ?, 'recovery', ?, 'money recovered: recovery ' || ?, ?, ?
		  FROM direct_payment_accounts a WHERE a.council_id = ? AND a.dp_agreement_id = ?
		ON CONFLICT (council_id, account_id, source_kind, source_id) DO NOTHING`,
		on, -amount, uuidArg(source), r.ID.String(), by, at, uuidArg(r.CouncilID), uuidArg(r.AgreementID)).Error, nil)
}

// Overpayment implements dpfinance.Store.
func (s *DPFinanceStore) Overpayment(ctx context.Context, councilID, id uuid.UUID) (dpfinance.Overpayment, error) {
	var rows []struct {
		ID             uuid.UUID
		DpAgreementID  *uuid.UUID
		IsfAgreementID *uuid.UUID
		PersonID       uuid.UUID
		AmountPence    int64
	}
	err := s.db.conn(ctx).Raw(`SELECT o.id, o.dp_agreement_id, o.isf_agreement_id, l.person_id, o.amount_pence FROM payment_overpayments o
		JOIN payment_lines l ON l.council_id = o.council_id AND l.id = o.line_id WHERE o.council_id = ? AND o.id = ?`,
		uuidArg(councilID), uuidArg(id)).Scan(&rows).Error
	if err != nil {
		return dpfinance.Overpayment{}, translate(err, nil)
	}
	if len(rows) == 0 {
		return dpfinance.Overpayment{}, apperr.ErrNotFound.WithMessage("no such overpayment")
	}
	r := rows[0]
	o := dpfinance.Overpayment{ID: r.ID, PersonID: r.PersonID, Amount: r.AmountPence, AgreementKind: payment.DirectPaymentKind}
	if r.DpAgreementID != nil {
		o.AgreementID = *r.DpAgreementID
	} else {
		o.AgreementID, o.AgreementKind = *r.IsfAgreementID, payment.ISFKind
	}
	return o, nil
}

type auditOutcomeJSON struct {
	Kind          string `json:"kind"`
	Reason        string `json:"reason"`
	ActionPlanDue string `json:"action_plan_due,omitempty"`
	SuspendFrom   string `json:"suspend_from,omitempty"`
	NoticeWeeks   *int   `json:"notice_weeks,omitempty"`
	Ends          string `json:"ends,omitempty"`
}

func dateText(d date.Date) string {
	if d == (date.Date{}) {
		return ""
	}
	return d.String()
}

func parseDateText(s string) date.Date {
	if s == "" {
		return date.Date{}
	}
	d, _ := date.Parse(s)
	return d
}

type dpAuditRow struct {
	CouncilID             uuid.UUID
	ID                    uuid.UUID
	DpAgreementID         uuid.UUID
	PersonID              uuid.UUID
	Kind                  string
	PeriodStart           date.Date
	PeriodEnd             date.Date
	Due                   date.Date
	State                 string
	ConcernReason         *string
	EvidenceDue           *date.Date
	StatementClosingPence *int64
	Reconciliation        []byte `gorm:"type:jsonb"`
	Surplus               []byte `gorm:"type:jsonb"`
	Liabilities           []byte `gorm:"type:jsonb"`
	Outcome               []byte `gorm:"type:jsonb"`
	OutcomeKind           *string
	ActionPlanDue         *date.Date
	CancelReason          *string
	ConcludedOn           *date.Date
	CreatedBy             string
	CreatedAt             time.Time
	UpdatedAt             time.Time
	Version               int
}

func (dpAuditRow) TableName() string { return "dp_audits" }

// auditFigures are the recorded figures beside the reconciliation (misspend and its council share).
type reconciliationJSON struct {
	Reconciliation  dpaudit.Reconciliation `json:"reconciliation"`
	Misspend        int64                  `json:"misspend_pence"`
	MisspendCouncil int64                  `json:"misspend_council_share_pence"`
}

func auditRowOf(a dpfinance.Audit) (dpAuditRow, error) {
	r := dpAuditRow{CouncilID: a.CouncilID, ID: a.ID, DpAgreementID: a.AgreementID, PersonID: a.PersonID, Kind: a.Kind, PeriodStart: a.Period.Start,
		PeriodEnd: a.Period.End, Due: a.Due, State: string(a.State), ConcernReason: a.ConcernReason, EvidenceDue: a.EvidenceDue,
		StatementClosingPence: a.StatementClosing, CancelReason: a.CancelReason, ConcludedOn: a.ConcludedOn, CreatedBy: a.CreatedBy,
		CreatedAt: a.CreatedAt, UpdatedAt: a.UpdatedAt, Version: a.Version, Liabilities: []byte("[]")}
	var err error
	if a.Reconciliation != nil {
		if r.Reconciliation, err = json.Marshal(reconciliationJSON{*a.Reconciliation, a.Misspend, a.MisspendCouncil}); err != nil {
			return r, err
		}
	}
	if a.Surplus != nil {
		if r.Surplus, err = json.Marshal(a.Surplus); err != nil {
			return r, err
		}
	}
	if a.Liabilities != nil {
		if r.Liabilities, err = json.Marshal(a.Liabilities); err != nil {
			return r, err
		}
	}
	if o := a.Outcome; o != nil {
		k := string(o.Kind)
		r.OutcomeKind = &k
		if r.Outcome, err = json.Marshal(auditOutcomeJSON{Kind: k, Reason: o.Reason, ActionPlanDue: dateText(o.ActionPlanDue), SuspendFrom: dateText(o.SuspendFrom),
			NoticeWeeks: o.NoticeWeeks, Ends: dateText(o.Ends)}); err != nil {
			return r, err
		}
		if o.Kind == dpaudit.ActionPlan {
			d := o.ActionPlanDue
			r.ActionPlanDue = &d
		}
	}
	return r, nil
}

func (r dpAuditRow) domain() (dpfinance.Audit, error) {
	a := dpfinance.Audit{CouncilID: r.CouncilID, ID: r.ID, AgreementID: r.DpAgreementID, PersonID: r.PersonID, Kind: r.Kind,
		Period: dpaudit.Period{Start: r.PeriodStart, End: r.PeriodEnd}, Due: r.Due, State: dpaudit.State(r.State), ConcernReason: r.ConcernReason,
		EvidenceDue: r.EvidenceDue, StatementClosing: r.StatementClosingPence, CancelReason: r.CancelReason, ConcludedOn: r.ConcludedOn,
		CreatedBy: r.CreatedBy, CreatedAt: r.CreatedAt.UTC(), UpdatedAt: r.UpdatedAt.UTC(), Version: r.Version, Liabilities: []dpaudit.Liability{}}
	if len(r.Reconciliation) > 0 {
		var x reconciliationJSON
		if err := json.Unmarshal(r.Reconciliation, &x); err != nil {
			return a, apperr.ErrInternal.Wrap(err)
		}
		x.Reconciliation.Period = a.Period
		a.Reconciliation, a.Misspend, a.MisspendCouncil = &x.Reconciliation, x.Misspend, x.MisspendCouncil
	}
	if len(r.Surplus) > 0 {
		var x dpaudit.Surplus
		if err := json.Unmarshal(r.Surplus, &x); err != nil {
			return a, apperr.ErrInternal.Wrap(err)
		}
		a.Surplus = &x
	}
	if len(r.Liabilities) > 0 {
		if err := json.Unmarshal(r.Liabilities, &a.Liabilities); err != nil {
			return a, apperr.ErrInternal.Wrap(err)
		}
	}
	if len(r.Outcome) > 0 {
		var o auditOutcomeJSON
		if err := json.Unmarshal(r.Outcome, &o); err != nil {
			return a, apperr.ErrInternal.Wrap(err)
		}
		a.Outcome = &dpaudit.Outcome{Kind: dpaudit.OutcomeKind(o.Kind), Reason: o.Reason, ActionPlanDue: parseDateText(o.ActionPlanDue),
			SuspendFrom: parseDateText(o.SuspendFrom), NoticeWeeks: o.NoticeWeeks, Ends: parseDateText(o.Ends)}
	}
	return a, nil
}

type dpAuditFindingRow struct {
	CouncilID   uuid.UUID
	AuditID     uuid.UUID
	Position    int
	Type        string
	Count       int
	AmountPence int64
	Detail      string
}

func (dpAuditFindingRow) TableName() string { return "dp_audit_findings" }

type dpAuditEvidenceRow struct {
	CouncilID   uuid.UUID
	ID          uuid.UUID
	AuditID     uuid.UUID
	Kind        string
	Description string
	RequestedOn date.Date
	Due         date.Date
	ReceivedOn  *date.Date
}

func (dpAuditEvidenceRow) TableName() string { return "dp_audit_evidence_requests" }

// InsertAudits implements dpfinance.Store: a scheduled audit already there is left alone.
func (s *DPFinanceStore) InsertAudits(ctx context.Context, as []dpfinance.Audit) (int, error) {
	n := 0
	for _, a := range as {
		r, err := auditRowOf(a)
		if err != nil {
			return n, err
		}
		res := s.db.conn(ctx).Clauses(clause.OnConflict{Columns: []clause.Column{{Name: "council_id"}, {Name: "dp_agreement_id"}, {Name: "period_start"}},
			TargetWhere: clause.Where{Exprs: []clause.Expression{clause.Expr{SQL: "kind = 'scheduled'"}}}, DoNothing: true}).Create(&r)
		if res.Error != nil {
			return n, translate(res.Error, nil)
		}
		n += int(res.RowsAffected)
	}
	return n, nil
}

func (s *DPFinanceStore) audits(ctx context.Context, councilID uuid.UUID, rows []dpAuditRow) ([]dpfinance.Audit, error) {
	ids := make([]uuid.UUID, len(rows))
	for i := range rows {
		ids[i] = rows[i].ID
	}
	var fs []dpAuditFindingRow
	var ev []dpAuditEvidenceRow
	if len(ids) > 0 {
		var err error
		if fs, err = childrenOf[dpAuditFindingRow](s.db.conn(ctx), councilID, "audit_id", ids, "audit_id, position"); err != nil {
			return nil, err
		}
		if ev, err = childrenOf[dpAuditEvidenceRow](s.db.conn(ctx), councilID, "audit_id", ids, "audit_id, requested_on, id"); err != nil {
			return nil, err
		}
	}
	out := make([]dpfinance.Audit, len(rows))
	at := map[uuid.UUID]int{}
	for i, r := range rows {
		a, err := r.domain()
		if err != nil {
			return nil, err
		}
		a.Findings, a.Evidence = []dpaudit.Finding{}, []dpfinance.EvidenceRequest{}
		out[i], at[r.ID] = a, i
	}
	for _, f := range fs {
		i := at[f.AuditID]
		out[i].Findings = append(out[i].Findings, dpaudit.Finding{Type: dpaudit.FindingType(f.Type), Count: f.Count, Amount: f.AmountPence, Detail: f.Detail})
	}
	for _, e := range ev {
		i := at[e.AuditID]
		out[i].Evidence = append(out[i].Evidence, dpfinance.EvidenceRequest{ID: e.ID, Item: dpaudit.EvidenceItem{Kind: dpaudit.EvidenceKind(e.Kind),
			Description: e.Description}, RequestedOn: e.RequestedOn, Due: e.Due, ReceivedOn: e.ReceivedOn})
	}
	return out, nil
}

// GetAudit implements dpfinance.Store.
func (s *DPFinanceStore) GetAudit(ctx context.Context, councilID, id uuid.UUID, lock bool) (dpfinance.Audit, error) {
	r, err := takeOne[dpAuditRow](s.db.conn(ctx), lock, "council_id = ? AND id = ?", uuidArg(councilID), uuidArg(id))
	if err != nil {
		return dpfinance.Audit{}, err
	}
	out, err := s.audits(ctx, councilID, []dpAuditRow{r})
	if err != nil {
		return dpfinance.Audit{}, err
	}
	return out[0], nil
}

// UpdateAudit implements dpfinance.Store: the row, and the findings replaced.
func (s *DPFinanceStore) UpdateAudit(ctx context.Context, a dpfinance.Audit) error {
	r, err := auditRowOf(a)
	if err != nil {
		return err
	}
	err = s.db.conn(ctx).Exec(`UPDATE dp_audits SET state = ?, evidence_due = ?, statement_closing_pence = ?, reconciliation = ?, surplus = ?,
		liabilities = ?, outcome = ?, outcome_kind = ?, action_plan_due = ?, cancel_reason = ?, concluded_on = ?, updated_at = ?, version = ?
		WHERE council_id = ? AND id = ?`, r.State, r.EvidenceDue, r.StatementClosingPence, nullJSON(r.Reconciliation), nullJSON(r.Surplus),
		string(r.Liabilities), nullJSON(r.Outcome), r.OutcomeKind, r.ActionPlanDue, r.CancelReason, r.ConcludedOn, r.UpdatedAt, r.Version,
		uuidArg(r.CouncilID), uuidArg(r.ID)).Error
	if err != nil {
		return translate(err, nil)
	}
	if err := s.db.conn(ctx).Exec(`DELETE FROM dp_audit_findings WHERE council_id = ? AND audit_id = ?`, uuidArg(a.CouncilID), uuidArg(a.ID)).Error; err != nil {
		return translate(err, nil)
	}
	if len(a.Findings) == 0 {
		return nil
	}
	rows := make([]dpAuditFindingRow, len(a.Findings))
	for i, f := range a.Findings {
		rows[i] = dpAuditFindingRow{CouncilID: a.CouncilID, AuditID: a.ID, Position: i, Type: string(f.Type), Count: f.Count, AmountPence: f.Amount, Detail: f.Detail}
	}
	return translate(s.db.conn(ctx).Create(&rows).Error, nil)
}

func nullJSON(b []byte) any {
	if len(b) == 0 {
		return nil
	}
	return string(b)
}

// ListAudits implements dpfinance.Store: a work list by its condition (dpaudit's package
// documentation), else every audit; by due date, a page or at most 1,000.
func (s *DPFinanceStore) ListAudits(ctx context.Context, councilID uuid.UUID, f dpfinance.AuditFilter, today date.Date, set dpaudit.Settings) ([]dpfinance.Audit, error) {
	q := s.db.conn(ctx).Where("council_id = ?", uuidArg(councilID))
	if f.AgreementID != nil {
		q = q.Where("dp_agreement_id = ?", uuidArg(*f.AgreementID))
	}
	switch f.Worklist {
	case dpaudit.WorkDue:
		q = q.Where("state = 'planned' AND due <= ?", today)
	case dpaudit.WorkOverdue:
		q = q.Where("state IN ('planned', 'evidence_requested', 'evidence_received', 'reconciled') AND due < ?", today.AddDays(-set.ConcludeWithinDays))
	case dpaudit.WorkEvidenceOverdue:
		q = q.Where("state = 'evidence_requested' AND evidence_due < ?", today)
	case dpaudit.WorkActionPlanDue:
		q = q.Where("state = 'concluded' AND outcome_kind = 'action_plan' AND action_plan_due <= ?", today)
	}
	limit := 1000
	if f.Page.Size > 0 {
		limit = f.Page.Size + 1
	}
	if f.Page.After != nil {
		q = q.Where("(due, id) > (?, ?)", date.FromTime(f.Page.After.Time), uuidArg(f.Page.After.ID))
	}
	var rows []dpAuditRow
	if err := q.Order("due, id").Limit(limit).Find(&rows).Error; err != nil {
		return nil, translate(err, nil)
	}
	return s.audits(ctx, councilID, rows)
}

// InsertEvidenceRequests implements dpfinance.Store.
func (s *DPFinanceStore) InsertEvidenceRequests(ctx context.Context, councilID, auditID uuid.UUID, rs []dpfinance.EvidenceRequest) error {
	if len(rs) == 0 {
		return nil
	}
	rows := make([]dpAuditEvidenceRow, len(rs))
	for i, r := range rs {
		rows[i] = dpAuditEvidenceRow{CouncilID: councilID, ID: r.ID, AuditID: auditID, Kind: string(r.Item.Kind), Description: r.Item.Description,
			RequestedOn: r.RequestedOn, Due: r.Due}
	}
	return translate(s.db.conn(ctx).Create(&rows).Error, nil)
}

// ReceiveEvidence implements dpfinance.Store: every item not yet received arrived on.
func (s *DPFinanceStore) ReceiveEvidence(ctx context.Context, councilID, auditID uuid.UUID, on date.Date) error {
	return translate(s.db.conn(ctx).Exec(`UPDATE dp_audit_evidence_requests SET received_on = ? WHERE council_id = ? AND audit_id = ? AND received_on IS NULL`,
		on, uuidArg(councilID), uuidArg(auditID)).Error, nil)
}
