package postgres

import (
	"bytes"
	"context"
	"database/sql/driver"
	"strconv"
	"strings"
	"time"

	"github.com/google/uuid"
	"gorm.io/gorm"

	"github.com/pbudget/pbudget/internal/apperr"
	"github.com/pbudget/pbudget/internal/date"
	"github.com/pbudget/pbudget/internal/page"
	"github.com/pbudget/pbudget/internal/payment"
)

// sqlArray is a PostgreSQL array literal of nullable elements, passed as one parameter (cast it in
// the SQL: ?::uuid[]), so that a batch of any size is one statement and gorm does not expand it.
type sqlArray []*string

var arrayEscaper = strings.NewReplacer(`\`, `\\`, `"`, `\"`)

// Value implements driver.Valuer.
func (a sqlArray) Value() (driver.Value, error) {
	var b strings.Builder
	b.WriteByte('{')
	for i, s := range a {
		if i > 0 {
			b.WriteByte(',')
		}
		if s == nil {
			b.WriteString("NULL")
			continue
		}
		b.WriteByte('"')
		b.WriteString(arrayEscaper.Replace(*s))
		b.WriteByte('"')
	}
	b.WriteByte('}')
	return b.String(), nil
}

func strp(s string) *string { return &s }

func uuidsArray(ids []uuid.UUID) sqlArray {
	out := make(sqlArray, len(ids))
	for i, id := range ids {
		out[i] = strp(id.String())
	}
	return out
}

func optUUID(id *uuid.UUID) *string {
	if id == nil {
		return nil
	}
	return strp(id.String())
}

// fewIDs is the most ids a query matches with = ANY; a longer list is matched as the range from
// its smallest to its largest id. A batch of a build is a run of agreements in id order, so the
// range holds it (and a few others, whose rows the caller ignores), and a range on an index's
// leading columns is planned well whatever the statistics say: = ANY over a long array, or a join
// with unnest, can turn quadratic when a table is fresh and its statistics say it is empty.
const fewIDs = 64

// idScope is the condition that column is one of ids, and its arguments.
func idScope(column string, ids []uuid.UUID) (string, []any) {
	if len(ids) <= fewIDs {
		return column + ` = ANY (?::uuid[])`, []any{uuidsArray(ids)}
	}
	lo, hi := ids[0], ids[0]
	for _, id := range ids {
		if bytes.Compare(id[:], lo[:]) < 0 {
			lo = id
		}
		if bytes.Compare(id[:], hi[:]) > 0 {
			hi = id
		}
	}
	return column + ` BETWEEN ? AND ?`, []any{uuidArg(lo), uuidArg(hi)}
}

// convert turns rows into domain values.
func convert[R, D any](rows []R, conv func(R) D) []D {
	out := make([]D, len(rows))
	for i, r := range rows {
		out[i] = conv(r)
	}
	return out
}

// PaymentStore implements payment.Store.
type PaymentStore struct{ db *DB }

// NewPaymentStore returns a PaymentStore.
func NewPaymentStore(db *DB) *PaymentStore { return &PaymentStore{db: db} }

var _ payment.Store = (*PaymentStore)(nil)

var errLineTaken = map[string]error{
	"payment_lines_cycle_key":                           payment.ErrLineTaken,
	"payment_lines_adjustment_key":                      payment.ErrLineTaken,
	"payment_lines_one_off_key":                         payment.ErrLineTaken,
	"payment_lines_brought_forward_key":                 payment.ErrLineTaken,
	"payment_lines_carried_forward_key":                 payment.ErrLineTaken,
	"payment_lines_overpayment_key":                     payment.ErrLineTaken,
	"payment_lines_recovery_key":                        payment.ErrLineTaken,
	"payment_one_offs_line_key":                         payment.ErrOneOffTaken,
	"direct_payment_agreements_plan_key":                payment.ErrPlanTaken,
	"isf_agreements_council_id_plan_id_provider_id_key": payment.ErrPlanTaken,
	"payment_suspensions_open_key":                      payment.ErrAlreadySuspended,
}

// agreementRow is an agreement of either kind, as the queries below select it.
type agreementRow struct {
	CouncilID    uuid.UUID
	ID           uuid.UUID
	Kind         string
	PersonID     uuid.UUID
	BudgetID     uuid.UUID
	PlanID       uuid.UUID
	ProviderID   *uuid.UUID
	AccountType  string
	Basis        string
	Frequency    string
	StartDate    date.Date
	EndDate      *date.Date
	EndReason    *string
	SignedDate   *date.Date
	PlanApproved bool
	Annual       int64
	Version      int
	CreatedAt    time.Time
	SuspendedNow bool
	// ConsentWithdrawn: a nominee or authorised person who receives the payment has withdrawn consent.
	ConsentWithdrawn bool
}

func (r agreementRow) domain() payment.AgreementRecord {
	return payment.AgreementRecord{CouncilID: r.CouncilID, ID: r.ID, Kind: payment.AgreementKind(r.Kind), PersonID: r.PersonID, BudgetID: r.BudgetID,
		PlanID: r.PlanID, ProviderID: r.ProviderID, AccountType: r.AccountType, Basis: payment.Basis(r.Basis), Frequency: payment.Frequency(r.Frequency),
		Start: r.StartDate, End: r.EndDate, EndReason: r.EndReason, Signed: r.SignedDate, PlanApproved: r.PlanApproved, Annual: r.Annual,
		Version: r.Version, CreatedAt: r.CreatedAt.UTC(), SuspendedNow: r.SuspendedNow, ConsentWithdrawn: r.ConsentWithdrawn}
}

// The columns of both kinds of agreement, with the plan's status, and whether suspended on a day
// (the first parameter of each).
const (
	dpColumns = `a.council_id, a.id, 'direct_payment' AS kind, a.person_id, a.budget_id, a.plan_id, NULL::uuid AS provider_id,
		a.account_type, a.payment_basis AS basis, a.frequency, a.start_date, a.end_date, a.end_reason, a.signed_date,
		(p.status = 'approved') AS plan_approved, a.annual_amount_pence AS annual, a.version, a.created_at,
		(a.recipient <> 'person' AND NOT a.recipient_consented) AS consent_withdrawn`
	isfColumns = `a.council_id, a.id, 'isf' AS kind, a.person_id, a.budget_id, a.plan_id, a.provider_id,
		'' AS account_type, 'net' AS basis, a.payment_frequency AS frequency, a.start_date, a.end_date, a.end_reason, a.signed_date,
		(p.status = 'approved') AS plan_approved, a.annual_amount_pence AS annual, a.version, a.created_at,
		false AS consent_withdrawn`
	suspendedOn = `EXISTS (SELECT 1 FROM payment_suspensions s WHERE s.council_id = a.council_id AND s.agreement_id = a.id
		AND s.from_date <= ? AND (s.resume_date IS NULL OR s.resume_date > ?)) AS suspended_now`
	dpFrom  = ` FROM direct_payment_agreements a JOIN support_plans p ON p.council_id = a.council_id AND p.id = a.plan_id`
	isfFrom = ` FROM isf_agreements a JOIN support_plans p ON p.council_id = a.council_id AND p.id = a.plan_id`
)

func kindSQL(kind payment.AgreementKind) (columns, from string) {
	if kind == payment.ISFKind {
		return isfColumns, isfFrom
	}
	return dpColumns, dpFrom
}

// GetAgreement implements payment.Store; kind "" looks in both tables.
func (s *PaymentStore) GetAgreement(ctx context.Context, councilID, id uuid.UUID, kind payment.AgreementKind, forUpdate bool) (payment.AgreementRecord, error) {
	kinds := []payment.AgreementKind{kind}
	if kind == "" {
		kinds = []payment.AgreementKind{payment.DirectPaymentKind, payment.ISFKind}
	}
	for _, k := range kinds {
		cols, from := kindSQL(k)
		q := `SELECT ` + cols + from + ` WHERE a.council_id = ? AND a.id = ?`
		if forUpdate {
			q += ` FOR UPDATE OF a`
		}
		var rows []agreementRow
		if err := s.db.conn(ctx).Raw(q, uuidArg(councilID), uuidArg(id)).Scan(&rows).Error; err != nil {
			return payment.AgreementRecord{}, translate(err, nil)
		}
		if len(rows) == 1 {
			return rows[0].domain(), nil
		}
	}
	return payment.AgreementRecord{}, apperr.ErrNotFound
}

// ListAgreements implements payment.Store: both kinds, in (created_at, id) order.
func (s *PaymentStore) ListAgreements(ctx context.Context, councilID uuid.UUID, f payment.AgreementFilter, p page.Request) ([]payment.AgreementRecord, error) {
	var parts []string
	var args []any
	for _, k := range []payment.AgreementKind{payment.DirectPaymentKind, payment.ISFKind} {
		if f.Kind != "" && f.Kind != k {
			continue
		}
		cols, from := kindSQL(k)
		q := `SELECT ` + cols + `, ` + suspendedOn + from + ` WHERE a.council_id = ?`
		args = append(args, f.Today, f.Today, uuidArg(councilID))
		if p.After != nil {
			q += ` AND (a.created_at, a.id) > (?, ?)`
			args = append(args, p.After.Time, uuidArg(p.After.ID))
		}
		if f.NeverPaid {
			q += ` AND a.start_date <= ? AND (a.end_date IS NULL OR a.end_date > ?) AND NOT EXISTS (
				SELECT 1 FROM payment_lines l JOIN payment_runs r ON r.council_id = l.council_id AND r.id = l.run_id
				 WHERE l.council_id = a.council_id AND l.agreement_id = a.id AND l.kind = 'cycle' AND l.state = 'live' AND r.status = 'paid')`
			args = append(args, f.Today, f.Today)
		}
		if f.DetailsUnconfirmed {
			owner := "a.id"
			if k == payment.ISFKind {
				owner = "a.provider_id"
			}
			q += ` AND EXISTS (SELECT 1 FROM payment_recipient_details d WHERE d.council_id = a.council_id AND d.owner_id = ` + owner + ` AND d.status = 'pending')`
		}
		if f.Suspended {
			q += ` AND EXISTS (SELECT 1 FROM payment_suspensions s WHERE s.council_id = a.council_id AND s.agreement_id = a.id
				AND s.from_date <= ? AND (s.resume_date IS NULL OR s.resume_date > ?))`
			args = append(args, f.Today, f.Today)
		}
		q += ` ORDER BY a.created_at, a.id LIMIT ` + strconv.Itoa(p.Size+1)
		parts = append(parts, "("+q+")")
	}
	var rows []agreementRow
	q := `SELECT * FROM (` + strings.Join(parts, " UNION ALL ") + `) x ORDER BY created_at, id LIMIT ` + strconv.Itoa(p.Size+1)
	if err := s.db.conn(ctx).Raw(q, args...).Scan(&rows).Error; err != nil {
		return nil, translate(err, nil)
	}
	return convert(rows, agreementRow.domain), nil
}

func agreementTable(kind payment.AgreementKind) string {
	if kind == payment.ISFKind {
		return "isf_agreements"
	}
	return "direct_payment_agreements"
}

func agreementColumn(kind payment.AgreementKind) string {
	if kind == payment.ISFKind {
		return "isf_agreement_id"
	}
	return "dp_agreement_id"
}

// EndAgreement implements payment.Store.
func (s *PaymentStore) EndAgreement(ctx context.Context, r payment.AgreementRecord, by string, at time.Time) error {
	return translate(s.db.conn(ctx).Exec(`UPDATE `+agreementTable(r.Kind)+` SET end_date = ?, end_reason = ?, ended_by = ?, ended_at = ?
		WHERE council_id = ? AND id = ?`, r.End, r.EndReason, by, at, uuidArg(r.CouncilID), uuidArg(r.ID)).Error, nil)
}

// RepriceAgreement implements payment.Store.
func (s *PaymentStore) RepriceAgreement(ctx context.Context, r payment.AgreementRecord) error {
	return translate(s.db.conn(ctx).Exec(`UPDATE `+agreementTable(r.Kind)+` SET plan_id = ?, annual_amount_pence = ? WHERE council_id = ? AND id = ?`,
		uuidArg(r.PlanID), r.Annual, uuidArg(r.CouncilID), uuidArg(r.ID)).Error, errLineTaken)
}

// SetAnnual implements payment.Store.
func (s *PaymentStore) SetAnnual(ctx context.Context, r payment.AgreementRecord) error {
	return translate(s.db.conn(ctx).Exec(`UPDATE `+agreementTable(r.Kind)+` SET annual_amount_pence = ? WHERE council_id = ? AND id = ?`,
		r.Annual, uuidArg(r.CouncilID), uuidArg(r.ID)).Error, nil)
}

// LockApprovedAgreements implements payment.Store: through the budgets' approved plans (one per
// budget, support_plans_one_approved_key) and each agreement's plan key.
func (s *PaymentStore) LockApprovedAgreements(ctx context.Context, councilID uuid.UUID, budgetIDs []uuid.UUID) ([]payment.AgreementRecord, error) {
	var out []payment.AgreementRecord
	for _, k := range []payment.AgreementKind{payment.DirectPaymentKind, payment.ISFKind} {
		cols, _ := kindSQL(k)
		q := `SELECT ` + cols + ` FROM support_plans p JOIN ` + agreementTable(k) + ` a ON a.council_id = p.council_id AND a.plan_id = p.id
			WHERE p.council_id = ? AND p.status = 'approved' AND p.budget_id = ANY (?::uuid[]) ORDER BY a.id FOR NO KEY UPDATE OF a`
		var rows []agreementRow
		if err := s.db.conn(ctx).Raw(q, uuidArg(councilID), uuidsArray(budgetIDs)).Scan(&rows).Error; err != nil {
			return nil, translate(err, nil)
		}
		out = append(out, convert(rows, agreementRow.domain)...)
	}
	return out, nil
}

// BumpAgreement implements payment.Store: the agreement's version goes to r.Version.
func (s *PaymentStore) BumpAgreement(ctx context.Context, r payment.AgreementRecord) error {
	set := "version = ?"
	if r.Kind == payment.DirectPaymentKind {
		set += ", updated_at = now()"
	}
	res := s.db.conn(ctx).Exec(`UPDATE `+agreementTable(r.Kind)+` SET `+set+` WHERE council_id = ? AND id = ? AND version = ?`,
		r.Version, uuidArg(r.CouncilID), uuidArg(r.ID), r.Version-1)
	return versioned(res.Error, res.RowsAffected, nil)
}

type amountRow struct {
	ID            uuid.UUID
	AgreementID   uuid.UUID
	EffectiveFrom date.Date
	AnnualPence   int64
	PlanID        uuid.UUID
	Reason        string
	RecordedBy    string
	RecordedAt    time.Time
}

// Amounts implements payment.Store, each agreement's history in the order recorded.
func (s *PaymentStore) Amounts(ctx context.Context, councilID uuid.UUID, ids []uuid.UUID) (map[uuid.UUID][]payment.AmountRecord, error) {
	var rows []amountRow
	scope, args := idScope("agreement_id", ids)
	err := s.db.conn(ctx).Raw(`SELECT id, agreement_id, effective_from, annual_pence, plan_id, reason, recorded_by, recorded_at
		FROM payment_agreement_amounts WHERE council_id = ? AND `+scope+` ORDER BY agreement_id, seq`,
		append([]any{uuidArg(councilID)}, args...)...).Scan(&rows).Error
	if err != nil {
		return nil, translate(err, nil)
	}
	out := make(map[uuid.UUID][]payment.AmountRecord, len(ids))
	for _, r := range rows {
		out[r.AgreementID] = append(out[r.AgreementID], payment.AmountRecord{ID: r.ID, AgreementID: r.AgreementID, EffectiveFrom: r.EffectiveFrom,
			Annual: r.AnnualPence, PlanID: r.PlanID, Reason: r.Reason, RecordedBy: r.RecordedBy, RecordedAt: r.RecordedAt.UTC()})
	}
	return out, nil
}

// InsertAmount implements payment.Store.
func (s *PaymentStore) InsertAmount(ctx context.Context, councilID uuid.UUID, kind payment.AgreementKind, a payment.AmountRecord) error {
	return translate(s.db.conn(ctx).Exec(`INSERT INTO payment_agreement_amounts
		(council_id, id, `+agreementColumn(kind)+`, effective_from, annual_pence, plan_id, reason, recorded_by, recorded_at)
		VALUES ( ?, ?, ?, ?, ?, ?, ?, ?, ?)`, uuidArg(councilID), uuidArg(a.ID), uuidArg(a.AgreementID), a.EffectiveFrom, a.Annual,
		uuidArg(a.PlanID), a.Reason, a.RecordedBy, a.RecordedAt).Error, nil)
}

type suspensionRow struct {
	ID           uuid.UUID
	AgreementID  uuid.UUID
	FromDate     date.Date
	ResumeDate   *date.Date
	BackPay      bool
	Reason       string
	ResumeReason *string
	SuspendedBy  string
	SuspendedAt  time.Time
	ResumedBy    *string
	ResumedAt    *time.Time
}

// Suspensions implements payment.Store, each agreement's in order.
func (s *PaymentStore) Suspensions(ctx context.Context, councilID uuid.UUID, ids []uuid.UUID) (map[uuid.UUID][]payment.SuspensionRecord, error) {
	var rows []suspensionRow
	scope, args := idScope("agreement_id", ids)
	err := s.db.conn(ctx).Raw(`SELECT id, agreement_id, from_date, resume_date, back_pay, reason, resume_reason, suspended_by, suspended_at,
		resumed_by, resumed_at FROM payment_suspensions WHERE council_id = ? AND `+scope+` ORDER BY agreement_id, from_date`,
		append([]any{uuidArg(councilID)}, args...)...).Scan(&rows).Error
	if err != nil {
		return nil, translate(err, nil)
	}
	out := make(map[uuid.UUID][]payment.SuspensionRecord, len(ids))
	for _, r := range rows {
		out[r.AgreementID] = append(out[r.AgreementID], payment.SuspensionRecord{ID: r.ID, AgreementID: r.AgreementID, From: r.FromDate,
			Resume: r.ResumeDate, BackPay: r.BackPay, Reason: r.Reason, ResumeReason: r.ResumeReason, SuspendedBy: r.SuspendedBy,
			SuspendedAt: r.SuspendedAt.UTC(), ResumedBy: r.ResumedBy, ResumedAt: utcPtr(r.ResumedAt)})
	}
	return out, nil
}

// InsertSuspension implements payment.Store.
func (s *PaymentStore) InsertSuspension(ctx context.Context, councilID uuid.UUID, kind payment.AgreementKind, r payment.SuspensionRecord) error {
	return translate(s.db.conn(ctx).Exec(`INSERT INTO payment_suspensions (council_id, id, `+agreementColumn(kind)+`, from_date, reason,
		suspended_by, suspended_at) VALUES ( ?, ?, ?, ?, ?, ?, ?)`, uuidArg(councilID), uuidArg(r.ID), uuidArg(r.AgreementID), r.From, r.Reason,
		r.SuspendedBy, r.SuspendedAt).Error, errLineTaken)
}

// ResumeSuspension implements payment.Store.
func (s *PaymentStore) ResumeSuspension(ctx context.Context, councilID uuid.UUID, r payment.SuspensionRecord) error {
	return translate(s.db.conn(ctx).Exec(`UPDATE payment_suspensions SET resume_date = ?, back_pay = ?, resume_reason = ?, resumed_by = ?, resumed_at = ?
		WHERE council_id = ? AND id = ? AND resume_date IS NULL`, r.Resume, r.BackPay, r.ResumeReason, r.ResumedBy, r.ResumedAt,
		uuidArg(councilID), uuidArg(r.ID)).Error, nil)
}

type takenRow struct {
	AgreementID uuid.UUID
	Kind        string
	CycleStart  date.Date
	Seq         int
	AmountPence int64
	Held        bool
	RunStatus   string
}

// TakenLines implements payment.Store: the live cycle and adjustment lines, with where they stand.
func (s *PaymentStore) TakenLines(ctx context.Context, councilID uuid.UUID, ids []uuid.UUID) (map[uuid.UUID][]payment.Taken, error) {
	var rows []takenRow
	scope, args := idScope("l.agreement_id", ids)
	err := s.db.conn(ctx).Raw(`SELECT l.agreement_id, l.kind, l.cycle_start, l.seq, l.amount_pence, l.held, r.status AS run_status
		FROM payment_lines l JOIN payment_runs r ON r.council_id = l.council_id AND r.id = l.run_id
		WHERE l.council_id = ? AND `+scope+` AND l.state = 'live' AND l.kind IN ('cycle', 'adjustment')`,
		append([]any{uuidArg(councilID)}, args...)...).Scan(&rows).Error
	if err != nil {
		return nil, translate(err, nil)
	}
	out := make(map[uuid.UUID][]payment.Taken, len(ids))
	for _, r := range rows {
		st := payment.Pending
		switch {
		case r.RunStatus == string(payment.PaidRun):
			st = payment.Paid
		case r.Held:
			st = payment.Held
		}
		out[r.AgreementID] = append(out[r.AgreementID], payment.Taken{Kind: payment.Kind(r.Kind), CycleStart: r.CycleStart, Seq: r.Seq,
			Amount: r.AmountPence, Status: st})
	}
	return out, nil
}

// AnchorInUse implements payment.Store.
func (s *PaymentStore) AnchorInUse(ctx context.Context, councilID uuid.UUID, f payment.Frequency) (bool, error) {
	var used bool
	err := s.db.conn(ctx).Raw(`SELECT EXISTS (SELECT 1 FROM payment_lines l
		LEFT JOIN direct_payment_agreements d ON d.council_id = l.council_id AND d.id = l.dp_agreement_id
		LEFT JOIN isf_agreements i ON i.council_id = l.council_id AND i.id = l.isf_agreement_id
		WHERE l.council_id = ? AND l.state = 'live' AND l.kind IN ('cycle', 'adjustment') AND coalesce(d.frequency, i.payment_frequency) = ?)`,
		uuidArg(councilID), string(f)).Scan(&used).Error
	return used, translate(err, nil)
}

type oneOffRow struct {
	CouncilID      uuid.UUID
	ID             uuid.UUID
	DpAgreementID  *uuid.UUID
	IsfAgreementID *uuid.UUID
	PlanLineID     *uuid.UUID
	AmountPence    int64
	Reason         string
	DueDate        *date.Date
	Status         string
	RequestedBy    string
	RequestedAt    time.Time
	ApprovedBy     *string
	ApprovedAt     *time.Time
	Version        int
	PaidInRun      *uuid.UUID `gorm:"->"`
}

func (oneOffRow) TableName() string { return "payment_one_offs" }

func (r oneOffRow) domain() payment.OneOffRecord {
	o := payment.OneOffRecord{CouncilID: r.CouncilID, ID: r.ID, PlanLineID: r.PlanLineID, Amount: r.AmountPence, Reason: r.Reason, Due: r.DueDate,
		Status: payment.OneOffStatus(r.Status), RequestedBy: r.RequestedBy, RequestedAt: r.RequestedAt.UTC(), ApprovedBy: r.ApprovedBy,
		ApprovedAt: utcPtr(r.ApprovedAt), Version: r.Version, PaidInRun: r.PaidInRun, AgreementKind: payment.DirectPaymentKind}
	if r.DpAgreementID != nil {
		o.AgreementID = *r.DpAgreementID
	} else {
		o.AgreementID, o.AgreementKind = *r.IsfAgreementID, payment.ISFKind
	}
	return o
}

func kindIDs(kind payment.AgreementKind, id uuid.UUID) (dp, isf *uuid.UUID) {
	if kind == payment.ISFKind {
		return nil, &id
	}
	return &id, nil
}

// InsertOneOff implements payment.Store.
func (s *PaymentStore) InsertOneOff(ctx context.Context, o payment.OneOffRecord) error {
	dp, isf := kindIDs(o.AgreementKind, o.AgreementID)
	row := oneOffRow{CouncilID: o.CouncilID, ID: o.ID, DpAgreementID: dp, IsfAgreementID: isf, PlanLineID: o.PlanLineID, AmountPence: o.Amount,
		Reason: o.Reason, DueDate: o.Due, Status: string(o.Status), RequestedBy: o.RequestedBy, RequestedAt: o.RequestedAt, ApprovedBy: o.ApprovedBy,
		ApprovedAt: o.ApprovedAt, Version: o.Version}
	return translate(s.db.conn(ctx).Create(&row).Error, errLineTaken)
}

const oneOffSelect = `SELECT o.council_id, o.id, o.dp_agreement_id, o.isf_agreement_id, o.plan_line_id, o.amount_pence, o.reason, o.due_date, o.status,
	o.requested_by, o.requested_at, o.approved_by, o.approved_at, o.version,
	(SELECT l.run_id FROM payment_lines l WHERE l.council_id = o.council_id AND l.agreement_id = o.agreement_id AND l.one_off_id = o.id
	   AND l.kind = 'one_off' AND l.state = 'live') AS paid_in_run
	FROM payment_one_offs o`

// GetOneOff implements payment.Store.
func (s *PaymentStore) GetOneOff(ctx context.Context, councilID, id uuid.UUID, forUpdate bool) (payment.OneOffRecord, error) {
	q := oneOffSelect + ` WHERE o.council_id = ? AND o.id = ?`
	if forUpdate {
		q += ` FOR UPDATE OF o`
	}
	var rows []oneOffRow
	if err := s.db.conn(ctx).Raw(q, uuidArg(councilID), uuidArg(id)).Scan(&rows).Error; err != nil {
		return payment.OneOffRecord{}, translate(err, nil)
	}
	if len(rows) == 0 {
		return payment.OneOffRecord{}, apperr.ErrNotFound
	}
	return rows[0].domain(), nil
}

// UpdateOneOff implements payment.Store.
func (s *PaymentStore) UpdateOneOff(ctx context.Context, o payment.OneOffRecord) error {
	res := s.db.conn(ctx).Exec(`UPDATE payment_one_offs SET status = ?, approved_by = ?, approved_at = ?, version = ?
		WHERE council_id = ? AND id = ? AND version = ?`, string(o.Status), o.ApprovedBy, o.ApprovedAt, o.Version,
		uuidArg(o.CouncilID), uuidArg(o.ID), o.Version-1)
	return versioned(res.Error, res.RowsAffected, nil)
}

// ListOneOffs implements payment.Store.
func (s *PaymentStore) ListOneOffs(ctx context.Context, councilID uuid.UUID, status payment.OneOffStatus, agreementID *uuid.UUID, p page.Request) ([]payment.OneOffRecord, error) {
	q := oneOffSelect + ` WHERE o.council_id = ?`
	args := []any{uuidArg(councilID)}
	if status != "" {
		q += ` AND o.status = ?`
		args = append(args, string(status))
	}
	if agreementID != nil {
		q += ` AND o.agreement_id = ?`
		args = append(args, uuidArg(*agreementID))
	}
	q, args = keyset(q, args, "o.requested_at", "o.id", p)
	var rows []oneOffRow
	if err := s.db.conn(ctx).Raw(q, args...).Scan(&rows).Error; err != nil {
		return nil, translate(err, nil)
	}
	return convert(rows, oneOffRow.domain), nil
}

// keyset adds the page position and order to a raw query.
func keyset(q string, args []any, timeCol, idCol string, p page.Request) (string, []any) {
	if p.After != nil {
		q += ` AND (` + timeCol + `, ` + idCol + `) > (?, ?)`
		args = append(args, p.After.Time, uuidArg(p.After.ID))
	}
	return q + ` ORDER BY ` + timeCol + `, ` + idCol + ` LIMIT ` + strconv.Itoa(p.Size+1), args
}

type detailsRow struct {
	CouncilID      uuid.UUID
	ID             uuid.UUID
	DpAgreementID  *uuid.UUID
	ProviderID     *uuid.UUID
	Kind           string
	Sealed         []byte
	KeyID          string
	MaskedSortCode *string
	MaskedNumber   string
	Status         string
	SetBy          string
	SetAt          time.Time
	SetReason      string
	ConfirmedBy    *string
	ConfirmedAt    *time.Time
	ReturnedAt     *time.Time
	ReturnReason   *string
}

func (detailsRow) TableName() string { return "payment_recipient_details" }

func (r detailsRow) domain() payment.DetailsRecord {
	return payment.DetailsRecord{CouncilID: r.CouncilID, ID: r.ID, AgreementID: r.DpAgreementID, ProviderID: r.ProviderID, Kind: payment.DetailsKind(r.Kind),
		Sealed: r.Sealed, KeyID: r.KeyID, MaskedSortCode: r.MaskedSortCode, MaskedNumber: r.MaskedNumber, Status: payment.DetailsStatus(r.Status),
		SetBy: r.SetBy, SetAt: r.SetAt.UTC(), SetReason: r.SetReason, ConfirmedBy: r.ConfirmedBy, ConfirmedAt: utcPtr(r.ConfirmedAt),
		ReturnedAt: utcPtr(r.ReturnedAt), ReturnReason: r.ReturnReason}
}

const detailsColumns = `council_id, id, dp_agreement_id, provider_id, kind, sealed, key_id, masked_sort_code, masked_number, status, set_by, set_at,
	set_reason, confirmed_by, confirmed_at, returned_at, return_reason`

// Details implements payment.Store: the owner's pending and confirmed details.
func (s *PaymentStore) Details(ctx context.Context, councilID, owner uuid.UUID, forUpdate bool) ([]payment.DetailsRecord, error) {
	q := `SELECT ` + detailsColumns + ` FROM payment_recipient_details WHERE council_id = ? AND owner_id = ? AND status IN ('pending', 'confirmed')`
	if forUpdate {
		q += ` FOR UPDATE`
	}
	var rows []detailsRow
	if err := s.db.conn(ctx).Raw(q, uuidArg(councilID), uuidArg(owner)).Scan(&rows).Error; err != nil {
		return nil, translate(err, nil)
	}
	return convert(rows, detailsRow.domain), nil
}

// InsertDetails implements payment.Store.
func (s *PaymentStore) InsertDetails(ctx context.Context, d payment.DetailsRecord) error {
	row := detailsRow{CouncilID: d.CouncilID, ID: d.ID, DpAgreementID: d.AgreementID, ProviderID: d.ProviderID, Kind: string(d.Kind), Sealed: d.Sealed,
		KeyID: d.KeyID, MaskedSortCode: d.MaskedSortCode, MaskedNumber: d.MaskedNumber, Status: string(d.Status), SetBy: d.SetBy, SetAt: d.SetAt,
		SetReason: d.SetReason}
	return translate(s.db.conn(ctx).Create(&row).Error, map[string]error{
		"payment_recipient_details_pending_key": apperr.New(apperr.Conflict, "payment-details-changed-meanwhile", "the details changed meanwhile: try again"),
	})
}

// SupersedeDetails implements payment.Store.
func (s *PaymentStore) SupersedeDetails(ctx context.Context, councilID, id uuid.UUID, at time.Time) error {
	return translate(s.db.conn(ctx).Exec(`UPDATE payment_recipient_details SET status = 'superseded', superseded_at = ? WHERE council_id = ? AND id = ?`,
		at, uuidArg(councilID), uuidArg(id)).Error, nil)
}

// ConfirmDetails implements payment.Store.
func (s *PaymentStore) ConfirmDetails(ctx context.Context, d payment.DetailsRecord) error {
	return translate(s.db.conn(ctx).Exec(`UPDATE payment_recipient_details SET status = 'confirmed', confirmed_by = ?, confirmed_at = ?
		WHERE council_id = ? AND id = ? AND status = 'pending'`, d.ConfirmedBy, d.ConfirmedAt, uuidArg(d.CouncilID), uuidArg(d.ID)).Error, nil)
}

// MarkDetailsReturned implements payment.Store.
func (s *PaymentStore) MarkDetailsReturned(ctx context.Context, councilID uuid.UUID, owners []uuid.UUID, reason string, at time.Time) error {
	return translate(s.db.conn(ctx).Exec(`UPDATE payment_recipient_details SET returned_at = ?, return_reason = ?
		WHERE council_id = ? AND owner_id IN (SELECT unnest(?::uuid[])) AND status = 'confirmed' AND returned_at IS NULL`,
		at, reason, uuidArg(councilID), uuidsArray(owners)).Error, nil)
}

// ownerScope matches the details of owners (see idScope): a batch's direct-payment recipients are
// its agreements, a range of ids.
func ownerScope(owners []uuid.UUID) (string, []any) { return idScope("owner_id", owners) }

// ConfirmedDetails implements payment.Store.
func (s *PaymentStore) ConfirmedDetails(ctx context.Context, councilID uuid.UUID, owners []uuid.UUID) (map[uuid.UUID]payment.DetailsRecord, error) {
	var rows []detailsRow
	scope, args := ownerScope(owners)
	err := s.db.conn(ctx).Raw(`SELECT `+detailsColumns+` FROM payment_recipient_details
		WHERE council_id = ? AND `+scope+` AND status = 'confirmed'`, append([]any{uuidArg(councilID)}, args...)...).Scan(&rows).Error
	if err != nil {
		return nil, translate(err, nil)
	}
	out := make(map[uuid.UUID]payment.DetailsRecord, len(rows))
	for _, r := range rows {
		d := r.domain()
		out[d.Owner()] = d
	}
	return out, nil
}

// DetailsStates implements payment.Store.
func (s *PaymentStore) DetailsStates(ctx context.Context, councilID uuid.UUID, owners []uuid.UUID) (map[uuid.UUID]payment.DetailsState, error) {
	var rows []struct {
		OwnerID  uuid.UUID
		Kind     string
		Status   string
		Returned bool
	}
	scope, args := ownerScope(owners)
	err := s.db.conn(ctx).Raw(`SELECT owner_id, kind, status, returned_at IS NOT NULL AS returned FROM payment_recipient_details
		WHERE council_id = ? AND `+scope+` AND status IN ('pending', 'confirmed')`, append([]any{uuidArg(councilID)}, args...)...).Scan(&rows).Error
	if err != nil {
		return nil, translate(err, nil)
	}
	out := make(map[uuid.UUID]payment.DetailsState, len(rows))
	for _, r := range rows {
		st := out[r.OwnerID]
		if r.Status == string(payment.DetailsPending) {
			st.Pending = true
		} else {
			k := payment.DetailsKind(r.Kind)
			st.Confirmed, st.ConfirmedBack = &k, r.Returned
		}
		out[r.OwnerID] = st
	}
	return out, nil
}

type runRow struct {
	CouncilID           uuid.UUID
	ID                  uuid.UUID
	Number              int
	PayDate             date.Date
	Status              string
	LeadDays            int
	Horizon             date.Date
	ProcessingDay       *date.Date
	CreatedBy           string
	CreatedAt           time.Time
	ApprovedBy          *string
	ApprovedAt          *time.Time
	ExportedBy          *string
	ExportedAt          *time.Time
	PaidBy              *string
	PaidAt              *time.Time
	CancelledBy         *string
	CancelledAt         *time.Time
	CancelReason        *string
	AgreementsTotal     int
	AgreementsProcessed int
	BuildPhase          string
	BuildCursor         *uuid.UUID
	BuildError          *string
	LineCount           int
	AgreementCount      int
	SkippedCount        int
	TotalPence          int64
	HeldLineCount       int
	HeldPence           int64
	ReturnedLineCount   int
	ReturnedPence       int64
	Version             int
	UpdatedAt           time.Time `gorm:"autoUpdateTime:false"`
}

func (runRow) TableName() string { return "payment_runs" }

func runRowOf(r payment.RunRecord) runRow {
	t := r.Totals
	return runRow{CouncilID: r.CouncilID, ID: r.ID, Number: r.Number, PayDate: r.PayDate, Status: string(r.Status), LeadDays: r.LeadDays, Horizon: r.Horizon,
		ProcessingDay: r.ProcessingDay, CreatedBy: r.CreatedBy, CreatedAt: r.CreatedAt, ApprovedBy: r.ApprovedBy, ApprovedAt: r.ApprovedAt,
		ExportedBy: r.ExportedBy, ExportedAt: r.ExportedAt, PaidBy: r.PaidBy, PaidAt: r.PaidAt, CancelledBy: r.CancelledBy, CancelledAt: r.CancelledAt,
		CancelReason: r.CancelReason, AgreementsTotal: r.AgreementsTotal, AgreementsProcessed: r.AgreementsProcessed, BuildPhase: string(r.Phase),
		BuildCursor: r.Cursor, BuildError: r.BuildError, LineCount: t.Lines, AgreementCount: t.Agreements, SkippedCount: t.Skipped, TotalPence: t.Total,
		HeldLineCount: t.HeldLines, HeldPence: t.Held, ReturnedLineCount: t.ReturnedLines, ReturnedPence: t.Returned, Version: r.Version, UpdatedAt: r.UpdatedAt}
}

func (r runRow) domain() payment.RunRecord {
	return payment.RunRecord{CouncilID: r.CouncilID, ID: r.ID, Number: r.Number, PayDate: r.PayDate, Status: payment.RunStatus(r.Status), LeadDays: r.LeadDays,
		Horizon: r.Horizon, ProcessingDay: r.ProcessingDay, CreatedBy: r.CreatedBy, CreatedAt: r.CreatedAt.UTC(), ApprovedBy: r.ApprovedBy,
		ApprovedAt: utcPtr(r.ApprovedAt), ExportedBy: r.ExportedBy, ExportedAt: utcPtr(r.ExportedAt), PaidBy: r.PaidBy, PaidAt: utcPtr(r.PaidAt),
		CancelledBy: r.CancelledBy, CancelledAt: utcPtr(r.CancelledAt), CancelReason: r.CancelReason, AgreementsTotal: r.AgreementsTotal,
		AgreementsProcessed: r.AgreementsProcessed, Phase: payment.BuildPhase(r.BuildPhase), Cursor: r.BuildCursor, BuildError: r.BuildError,
		Totals: payment.RunTotals{Lines: r.LineCount, Agreements: r.AgreementCount, Skipped: r.SkippedCount, Total: r.TotalPence, HeldLines: r.HeldLineCount,
			Held: r.HeldPence, ReturnedLines: r.ReturnedLineCount, Returned: r.ReturnedPence},
		Version: r.Version, UpdatedAt: r.UpdatedAt.UTC()}
}

// NextRunNumber implements payment.Store: under a transaction-scoped lock on the council's run
// numbers, so that two runs created at once get different numbers.
func (s *PaymentStore) NextRunNumber(ctx context.Context, councilID uuid.UUID) (int, error) {
	if err := s.db.conn(ctx).Exec(`SELECT pg_advisory_xact_lock(hashtextextended('payment_runs:' || ?::text, 0))`, councilID.String()).Error; err != nil {
		return 0, translate(err, nil)
	}
	var n int
	err := s.db.conn(ctx).Raw(`SELECT coalesce(max(number), 0) + 1 FROM payment_runs WHERE council_id = ?`, uuidArg(councilID)).Scan(&n).Error
	return n, translate(err, nil)
}

// InsertRun implements payment.Store.
func (s *PaymentStore) InsertRun(ctx context.Context, r payment.RunRecord) error {
	row := runRowOf(r)
	return translate(s.db.conn(ctx).Create(&row).Error, nil)
}

// GetRun implements payment.Store.
func (s *PaymentStore) GetRun(ctx context.Context, councilID, id uuid.UUID, forUpdate bool) (payment.RunRecord, error) {
	r, err := takeOne[runRow](s.db.conn(ctx), forUpdate, "council_id = ? AND id = ?", uuidArg(councilID), uuidArg(id))
	if err != nil {
		return payment.RunRecord{}, err
	}
	return r.domain(), nil
}

// UpdateRun implements payment.Store; the caller holds the run's row lock.
func (s *PaymentStore) UpdateRun(ctx context.Context, r payment.RunRecord) error {
	row := runRowOf(r)
	res := s.db.conn(ctx).Model(&runRow{}).Where("council_id = ? AND id = ?", uuidArg(r.CouncilID), uuidArg(r.ID)).
		Select("*").Omit("council_id", "id", "number", "pay_date", "created_by", "created_at", "lead_days", "horizon").Updates(&row)
	return versioned(res.Error, res.RowsAffected, nil)
}

// ListRuns implements payment.Store.
func (s *PaymentStore) ListRuns(ctx context.Context, councilID uuid.UUID, f payment.RunFilter, p page.Request) ([]payment.RunRecord, error) {
	q := s.db.conn(ctx).Where("council_id = ?", uuidArg(councilID))
	if f.Status != "" {
		q = q.Where("status = ?", string(f.Status))
	}
	if f.PayDate != nil {
		q = q.Where("pay_date = ?", *f.PayDate)
	}
	var rows []runRow
	if err := paginate(q, "created_at", p).Find(&rows).Error; err != nil {
		return nil, translate(err, nil)
	}
	return convert(rows, runRow.domain), nil
}

// CountCandidates implements payment.Store.
func (s *PaymentStore) CountCandidates(ctx context.Context, councilID uuid.UUID, horizon date.Date) (int, error) {
	var n int
	err := s.db.conn(ctx).Raw(`SELECT (SELECT count(*) FROM direct_payment_agreements WHERE council_id = ? AND start_date <= ?)
		+ (SELECT count(*) FROM isf_agreements WHERE council_id = ? AND start_date <= ?)`,
		uuidArg(councilID), horizon, uuidArg(councilID), horizon).Scan(&n).Error
	return n, translate(err, nil)
}

// LockCandidates implements payment.Store. The rows are locked FOR NO KEY UPDATE, in id order, so
// that two builds serialise on each agreement (and never deadlock), while lines and suspensions
// can still be inserted against them (their foreign keys take KEY SHARE).
func (s *PaymentStore) LockCandidates(ctx context.Context, councilID uuid.UUID, kind payment.AgreementKind, after *uuid.UUID, horizon date.Date, limit int) ([]payment.AgreementRecord, error) {
	cols, from := kindSQL(kind)
	q := `SELECT ` + cols + from + ` WHERE a.council_id = ? AND a.start_date <= ?`
	args := []any{uuidArg(councilID), horizon}
	if after != nil {
		q += ` AND a.id > ?`
		args = append(args, uuidArg(*after))
	}
	q += ` ORDER BY a.id LIMIT ` + strconv.Itoa(limit) + ` FOR NO KEY UPDATE OF a`
	var rows []agreementRow
	if err := s.db.conn(ctx).Raw(q, args...).Scan(&rows).Error; err != nil {
		return nil, translate(err, nil)
	}
	return convert(rows, agreementRow.domain), nil
}

// BuildInputs implements payment.Store: one query each for the batch's amounts, suspensions,
// taken lines, carried amounts, one-offs and recipients' details.
func (s *PaymentStore) BuildInputs(ctx context.Context, councilID uuid.UUID, agreements []payment.AgreementRecord) (payment.BuildInputs, error) {
	ids := make([]uuid.UUID, len(agreements))
	owners := make([]uuid.UUID, 0, len(agreements))
	seen := map[uuid.UUID]bool{}
	for i, a := range agreements {
		ids[i] = a.ID
		if o := a.Owner(); !seen[o] {
			seen[o] = true
			owners = append(owners, o)
		}
	}
	var in payment.BuildInputs
	var err error
	if in.Amounts, err = s.Amounts(ctx, councilID, ids); err != nil {
		return in, err
	}
	if in.Suspensions, err = s.Suspensions(ctx, councilID, ids); err != nil {
		return in, err
	}
	if in.Taken, err = s.TakenLines(ctx, councilID, ids); err != nil {
		return in, err
	}
	var carries []struct {
		AgreementID uuid.UUID
		RunID       uuid.UUID
		AmountPence int64
	}
	// Amounts carried forward by paid runs that no live line has brought forward yet.
	scope, args := idScope("l.agreement_id", ids)
	err = s.db.conn(ctx).Raw(`SELECT l.agreement_id, l.run_id, l.amount_pence FROM payment_lines l
		JOIN payment_runs r ON r.council_id = l.council_id AND r.id = l.run_id
		WHERE l.council_id = ? AND `+scope+` AND l.kind = 'carried' AND l.amount_pence > 0 AND l.state = 'live'
		  AND r.status = 'paid' AND NOT EXISTS (SELECT 1 FROM payment_lines b WHERE b.council_id = l.council_id AND b.agreement_id = l.agreement_id
		      AND b.kind = 'carried' AND b.amount_pence < 0 AND b.carry_run_id = l.run_id AND b.state = 'live')`,
		append([]any{uuidArg(councilID)}, args...)...).Scan(&carries).Error
	if err != nil {
		return in, translate(err, nil)
	}
	in.Carries = map[uuid.UUID][]payment.Carry{}
	for _, c := range carries {
		in.Carries[c.AgreementID] = append(in.Carries[c.AgreementID], payment.Carry{AgreementID: c.AgreementID, FromRun: c.RunID, Amount: -c.AmountPence})
	}
	var oneOffs []struct {
		ID          uuid.UUID
		AgreementID uuid.UUID
		AmountPence int64
		DueDate     *date.Date
		Reason      string
	}
	scope, args = idScope("o.agreement_id", ids)
	err = s.db.conn(ctx).Raw(`SELECT o.id, o.agreement_id, o.amount_pence, o.due_date, o.reason FROM payment_one_offs o
		WHERE o.council_id = ? AND `+scope+` AND o.status = 'approved' AND NOT EXISTS (
		  SELECT 1 FROM payment_lines l WHERE l.council_id = o.council_id AND l.agreement_id = o.agreement_id AND l.one_off_id = o.id
		     AND l.kind = 'one_off' AND l.state = 'live')`, append([]any{uuidArg(councilID)}, args...)...).Scan(&oneOffs).Error
	if err != nil {
		return in, translate(err, nil)
	}
	in.OneOffs = map[uuid.UUID][]payment.OneOff{}
	for _, o := range oneOffs {
		x := payment.OneOff{ID: o.ID, Amount: o.AmountPence, Reason: o.Reason}
		if o.DueDate != nil {
			x.Due = *o.DueDate
		}
		in.OneOffs[o.AgreementID] = append(in.OneOffs[o.AgreementID], x)
	}
	in.Details, err = s.DetailsStates(ctx, councilID, owners)
	return in, err
}

// InsertLines implements payment.Store: the whole batch in one statement, from arrays.
func (s *PaymentStore) InsertLines(ctx context.Context, lines []payment.StoredLine) error {
	if len(lines) == 0 {
		return nil
	}
	n := len(lines)
	cols := make([]sqlArray, 20)
	for i := range cols {
		cols[i] = make(sqlArray, n)
	}
	for i, l := range lines {
		dp, isf := kindIDs(l.AgreementKind, l.AgreementID)
		var start, end, oneOff, carry, owed, taken, holdReason, recoveryID *string
		switch l.Kind {
		case payment.KindRecovery:
			start, end = strp(l.CycleStart.String()), strp(l.CycleEnd.String())
			recoveryID = strp(l.RecoveryID.String())
		case payment.KindCycle, payment.KindAdjustment:
			start, end = strp(l.CycleStart.String()), strp(l.CycleEnd.String())
			owed = strp(strconv.FormatInt(l.Owed, 10))
			if l.Kind == payment.KindAdjustment {
				taken = strp(strconv.FormatInt(l.Taken, 10))
			}
		case payment.KindOneOff:
			oneOff = strp(l.OneOffID.String())
		default:
			carry = strp(l.Carry.String())
		}
		if l.Held {
			holdReason = strp(l.HoldReason)
		}
		var version *string
		if l.AgreementVersion > 0 {
			version = strp(strconv.Itoa(l.AgreementVersion))
		}
		row := []*string{strp(l.ID.String()), optUUID(dp), optUUID(isf), strp(l.PersonID.String()), optUUID(l.ProviderID), strp(string(l.Kind)),
			start, end, strp(strconv.Itoa(l.Seq)), oneOff, carry, strp(strconv.FormatInt(l.Amount, 10)), owed, taken, strp(l.Reason),
			strp(strconv.FormatBool(l.Held)), holdReason, l.HeldBy, version, recoveryID}
		for c, v := range row {
			cols[c][i] = v
		}
	}
	args := []any{uuidArg(lines[0].CouncilID), uuidArg(lines[0].RunID), lines[0].CreatedAt}
	for _, c := range cols {
		args = append(args, c)
	}
	err := s.db.conn(ctx).Exec(`INSERT INTO payment_lines (council_id, run_id, created_at, id, dp_agreement_id, isf_agreement_id, person_id,
		provider_id, kind, cycle_start, cycle_end, seq, one_off_id, carry_run_id, amount_pence, owed_pence, taken_pence, reason, held, hold_reason, held_by,
		agreement_version, recovery_id)
		SELECT ?, ?, ?, u.* FROM unnest(?::uuid[], ?::uuid[], ?::uuid[], ?::uuid[], ?::uuid[], ?::text[], ?::date[], ?::date[], ?::int[],
			?::uuid[], ?::uuid[], ?::bigint[], ?::bigint[], ?::bigint[], ?::text[], ?::bool[], ?::text[], ?::text[], ?::int[], ?::uuid[])
		AS u (id, dp_agreement_id, isf_agreement_id, person_id, provider_id, kind, cycle_start, cycle_end, seq, one_off_id, carry_run_id,
			amount_pence, owed_pence, taken_pence, reason, held, hold_reason, held_by, agreement_version, recovery_id)`, args...).Error
	return translate(err, errLineTaken)
}

// RunTotals implements payment.Store: counted from the run's live lines.
func (s *PaymentStore) RunTotals(ctx context.Context, councilID, runID uuid.UUID) (payment.RunTotals, error) {
	var t struct {
		Lines, Agreements, HeldLines int
		Total, Held                  int64
	}
	err := s.db.conn(ctx).Raw(`SELECT count(*) AS lines,
		    coalesce(sum(amount_pence) FILTER (WHERE NOT held), 0) AS total,
		    count(*) FILTER (WHERE held) AS held_lines,
		    coalesce(sum(amount_pence) FILTER (WHERE held), 0) AS held,
		    (SELECT count(*) FROM (SELECT 1 FROM payment_lines p WHERE p.council_id = ? AND p.run_id = ? AND p.state = 'live' AND NOT p.held
		        GROUP BY p.agreement_id HAVING sum(p.amount_pence) > 0) x) AS agreements
		FROM payment_lines WHERE council_id = ? AND run_id = ? AND state = 'live'`,
		uuidArg(councilID), uuidArg(runID), uuidArg(councilID), uuidArg(runID)).Scan(&t).Error
	return payment.RunTotals{Lines: t.Lines, Agreements: t.Agreements, Total: t.Total, HeldLines: t.HeldLines, Held: t.Held}, translate(err, nil)
}

type paymentLineRow struct {
	CouncilID      uuid.UUID
	ID             uuid.UUID
	RunID          uuid.UUID
	DpAgreementID  *uuid.UUID
	IsfAgreementID *uuid.UUID
	PersonID       uuid.UUID
	ProviderID     *uuid.UUID
	Kind           string
	CycleStart     *date.Date
	CycleEnd       *date.Date
	Seq            int
	OneOffID       *uuid.UUID
	CarryRunID     *uuid.UUID
	AmountPence    int64
	OwedPence      *int64
	TakenPence     *int64
	Reason         string
	Held           bool
	HoldReason     *string
	HeldBy         *string
	State          string
	ReturnReason   *string
	CreatedAt      time.Time
	AccountType    string
	RecoveryID     *uuid.UUID
}

func (r paymentLineRow) domain() payment.StoredLine {
	l := payment.StoredLine{CouncilID: r.CouncilID, ID: r.ID, RunID: r.RunID, PersonID: r.PersonID, ProviderID: r.ProviderID, HeldBy: r.HeldBy,
		State: payment.LineState(r.State), ReturnReason: r.ReturnReason, CreatedAt: r.CreatedAt.UTC(), AgreementKind: payment.DirectPaymentKind}
	l.Kind, l.Seq, l.Amount, l.Reason, l.Held = payment.Kind(r.Kind), r.Seq, r.AmountPence, r.Reason, r.Held
	if r.DpAgreementID != nil {
		l.AgreementID = *r.DpAgreementID
	} else {
		l.AgreementID, l.AgreementKind = *r.IsfAgreementID, payment.ISFKind
	}
	if r.CycleStart != nil {
		l.CycleStart, l.CycleEnd = *r.CycleStart, *r.CycleEnd
	}
	if r.OneOffID != nil {
		l.OneOffID = *r.OneOffID
	}
	if r.RecoveryID != nil {
		l.RecoveryID = *r.RecoveryID
	}
	if r.CarryRunID != nil {
		l.Carry = *r.CarryRunID
	}
	if r.OwedPence != nil {
		l.Owed = *r.OwedPence
	}
	if r.TakenPence != nil {
		l.Taken = *r.TakenPence
	}
	if r.HoldReason != nil {
		l.HoldReason = *r.HoldReason
	}
	return l
}

const lineColumns = `l.council_id, l.id, l.run_id, l.dp_agreement_id, l.isf_agreement_id, l.person_id, l.provider_id, l.kind, l.cycle_start,
	l.cycle_end, l.seq, l.one_off_id, l.carry_run_id, l.amount_pence, l.owed_pence, l.taken_pence, l.reason, l.held, l.hold_reason, l.held_by,
	l.state, l.return_reason, l.created_at, l.recovery_id`

func (s *PaymentStore) lines(q *gorm.DB) ([]payment.StoredLine, error) {
	var rows []paymentLineRow
	if err := q.Scan(&rows).Error; err != nil {
		return nil, translate(err, nil)
	}
	return convert(rows, paymentLineRow.domain), nil
}

// GetLine implements payment.Store.
func (s *PaymentStore) GetLine(ctx context.Context, councilID, id uuid.UUID) (payment.StoredLine, error) {
	ls, err := s.lines(s.db.conn(ctx).Raw(`SELECT `+lineColumns+` FROM payment_lines l WHERE l.council_id = ? AND l.id = ?`, uuidArg(councilID), uuidArg(id)))
	if err != nil {
		return payment.StoredLine{}, err
	}
	if len(ls) == 0 {
		return payment.StoredLine{}, apperr.ErrNotFound
	}
	return ls[0], nil
}

// ListLines implements payment.Store.
func (s *PaymentStore) ListLines(ctx context.Context, councilID uuid.UUID, f payment.LineFilter, p page.Request) ([]payment.StoredLine, error) {
	q := `SELECT ` + lineColumns + ` FROM payment_lines l WHERE l.council_id = ?`
	args := []any{uuidArg(councilID)}
	if f.RunID != nil {
		q += ` AND l.run_id = ?`
		args = append(args, uuidArg(*f.RunID))
	}
	if f.AgreementID != nil {
		q += ` AND l.agreement_id = ?`
		args = append(args, uuidArg(*f.AgreementID))
	}
	if f.Held != nil {
		if *f.Held {
			q += ` AND l.held AND l.state = 'live'`
		} else {
			q += ` AND NOT l.held`
		}
	}
	q, args = keyset(q, args, "l.created_at", "l.id", p)
	return s.lines(s.db.conn(ctx).Raw(q, args...))
}

// AgreementLines implements payment.Store.
func (s *PaymentStore) AgreementLines(ctx context.Context, councilID, runID, agreementID uuid.UUID) ([]payment.StoredLine, error) {
	return s.lines(s.db.conn(ctx).Raw(`SELECT `+lineColumns+` FROM payment_lines l WHERE l.council_id = ? AND l.run_id = ? AND l.agreement_id = ?
		ORDER BY l.created_at, l.id`, uuidArg(councilID), uuidArg(runID), uuidArg(agreementID)))
}

// SetHeld implements payment.Store: all the agreement's live lines in the run.
func (s *PaymentStore) SetHeld(ctx context.Context, councilID, runID, agreementID uuid.UUID, held bool, reason, by *string) error {
	return translate(s.db.conn(ctx).Exec(`UPDATE payment_lines SET held = ?, hold_reason = ?, held_by = ?
		WHERE council_id = ? AND run_id = ? AND agreement_id = ? AND state = 'live'`, held, reason, by,
		uuidArg(councilID), uuidArg(runID), uuidArg(agreementID)).Error, nil)
}

// SetRunLinesState implements payment.Store.
func (s *PaymentStore) SetRunLinesState(ctx context.Context, councilID, runID uuid.UUID, from, to payment.LineState, onlyHeld bool) error {
	q := `UPDATE payment_lines SET state = ? WHERE council_id = ? AND run_id = ? AND state = ?`
	if onlyHeld {
		q += ` AND held`
	}
	return translate(s.db.conn(ctx).Exec(q, string(to), uuidArg(councilID), uuidArg(runID), string(from)).Error, nil)
}

// ReturnLines implements payment.Store.
func (s *PaymentStore) ReturnLines(ctx context.Context, councilID, runID, agreementID uuid.UUID, reason string) (int, error) {
	res := s.db.conn(ctx).Exec(`UPDATE payment_lines SET state = 'returned', return_reason = ?
		WHERE council_id = ? AND run_id = ? AND agreement_id = ? AND state = 'live' AND NOT held`, reason, uuidArg(councilID), uuidArg(runID), uuidArg(agreementID))
	return int(res.RowsAffected), translate(res.Error, nil)
}

// RunPayments implements payment.Store: the run's live lines not held, by agreement.
func (s *PaymentStore) RunPayments(ctx context.Context, councilID, runID uuid.UUID) ([]payment.RunPayment, error) {
	var rows []paymentLineRow
	err := s.db.conn(ctx).Raw(`SELECT `+lineColumns+`, coalesce(d.account_type, '') AS account_type FROM payment_lines l
		LEFT JOIN direct_payment_agreements d ON d.council_id = l.council_id AND d.id = l.dp_agreement_id
		WHERE l.council_id = ? AND l.run_id = ? AND l.state = 'live' AND NOT l.held ORDER BY l.agreement_id, l.created_at, l.id`,
		uuidArg(councilID), uuidArg(runID)).Scan(&rows).Error
	if err != nil {
		return nil, translate(err, nil)
	}
	var out []payment.RunPayment
	for _, r := range rows {
		l := r.domain()
		if len(out) == 0 || out[len(out)-1].AgreementID != l.AgreementID {
			out = append(out, payment.RunPayment{AgreementID: l.AgreementID, Kind: l.AgreementKind, AccountType: r.AccountType,
				PersonID: l.PersonID, ProviderID: l.ProviderID})
		}
		out[len(out)-1].Lines = append(out[len(out)-1].Lines, l)
	}
	return out, nil
}

// RunAgreementStates implements payment.Store: plain reads (no FOR UPDATE or FOR SHARE), so that
// the check never waits for, nor blocks, a build locking the same agreements for another run.
func (s *PaymentStore) RunAgreementStates(ctx context.Context, councilID, runID uuid.UUID) ([]payment.RunAgreementState, error) {
	var rows []struct {
		AgreementID  uuid.UUID
		IsISF        bool
		AccountType  string
		ProviderID   *uuid.UUID
		Net          int64
		Changed      bool
		Signed       bool
		PlanApproved bool
	}
	err := s.db.conn(ctx).Raw(`SELECT l.agreement_id, l.isf_agreement_id IS NOT NULL AS is_isf,
		    coalesce(min(d.account_type), '') AS account_type, (array_agg(l.provider_id))[1] AS provider_id,
		    sum(l.amount_pence) AS net,
		    bool_or(l.agreement_version IS NOT NULL AND l.agreement_version <> coalesce(d.version, i.version)) AS changed,
		    bool_and(coalesce(d.signed_date, i.signed_date) IS NOT NULL) AS signed,
		    bool_and(p.status = 'approved') AS plan_approved
		FROM payment_lines l
		LEFT JOIN direct_payment_agreements d ON d.council_id = l.council_id AND d.id = l.dp_agreement_id
		LEFT JOIN isf_agreements i ON i.council_id = l.council_id AND i.id = l.isf_agreement_id
		JOIN support_plans p ON p.council_id = l.council_id AND p.id = coalesce(d.plan_id, i.plan_id)
		WHERE l.council_id = ? AND l.run_id = ? AND l.state = 'live' AND NOT l.held
		GROUP BY l.agreement_id, l.isf_agreement_id IS NOT NULL ORDER BY l.agreement_id`, uuidArg(councilID), uuidArg(runID)).Scan(&rows).Error
	if err != nil {
		return nil, translate(err, nil)
	}
	out := make([]payment.RunAgreementState, len(rows))
	for i, r := range rows {
		out[i] = payment.RunAgreementState{AgreementID: r.AgreementID, Kind: payment.DirectPaymentKind, AccountType: r.AccountType,
			ProviderID: r.ProviderID, Net: r.Net, Changed: r.Changed, Signed: r.Signed, PlanApproved: r.PlanApproved}
		if r.IsISF {
			out[i].Kind = payment.ISFKind
		}
	}
	return out, nil
}

// RecordOverpayments implements payment.Store: the run's live overpayment lines, once.
func (s *PaymentStore) RecordOverpayments(ctx context.Context, councilID, runID uuid.UUID, at time.Time) error {
	return translate(s.db.conn(ctx).Exec(`INSERT INTO payment_overpayments (council_id, id, dp_agreement_id, isf_agreement_id, run_id, line_id,
		amount_pence, reason, status, recorded_at)
		SELECT council_id, gen_random_uuid(), dp_agreement_id, isf_agreement_id, run_id, id, amount_pence, reason, 'to_recover', ?
		  FROM payment_lines WHERE council_id = ? AND run_id = ? AND kind = 'overpayment' AND state = 'live'
		ON CONFLICT (council_id, line_id) DO NOTHING`, at, uuidArg(councilID), uuidArg(runID)).Error, nil)
}

// ListOverpayments implements payment.Store.
func (s *PaymentStore) ListOverpayments(ctx context.Context, councilID uuid.UUID, agreementID *uuid.UUID, p page.Request) ([]payment.OverpaymentRecord, error) {
	q := `SELECT council_id, id, dp_agreement_id, isf_agreement_id, run_id, line_id, amount_pence, reason, recorded_at FROM payment_overpayments o
		WHERE o.council_id = ?`
	args := []any{uuidArg(councilID)}
	if agreementID != nil {
		q += ` AND o.agreement_id = ?`
		args = append(args, uuidArg(*agreementID))
	}
	q, args = keyset(q, args, "o.recorded_at", "o.id", p)
	var rows []struct {
		CouncilID      uuid.UUID
		ID             uuid.UUID
		DpAgreementID  *uuid.UUID
		IsfAgreementID *uuid.UUID
		RunID          uuid.UUID
		LineID         uuid.UUID
		AmountPence    int64
		Reason         string
		RecordedAt     time.Time
	}
	if err := s.db.conn(ctx).Raw(q, args...).Scan(&rows).Error; err != nil {
		return nil, translate(err, nil)
	}
	out := make([]payment.OverpaymentRecord, len(rows))
	for i, r := range rows {
		o := payment.OverpaymentRecord{CouncilID: r.CouncilID, ID: r.ID, RunID: r.RunID, LineID: r.LineID, Amount: r.AmountPence, Reason: r.Reason,
			RecordedAt: r.RecordedAt.UTC(), AgreementKind: payment.DirectPaymentKind}
		if r.DpAgreementID != nil {
			o.AgreementID = *r.DpAgreementID
		} else {
			o.AgreementID, o.AgreementKind = *r.IsfAgreementID, payment.ISFKind
		}
		out[i] = o
	}
	return out, nil
}

type fileRow struct {
	CouncilID   uuid.UUID
	ID          uuid.UUID
	RunID       uuid.UUID
	Kind        string
	ProviderID  *uuid.UUID
	Name        string
	MediaType   string
	Sealed      []byte
	KeyID       string
	Sha256      string `gorm:"column:sha256"`
	SizeBytes   int
	RecordCount int
	TotalPence  int64
	CreatedAt   time.Time `gorm:"autoCreateTime:false"`
}

func (fileRow) TableName() string { return "payment_files" }

func (r fileRow) domain() payment.FileRecord {
	return payment.FileRecord{CouncilID: r.CouncilID, ID: r.ID, RunID: r.RunID, Kind: payment.FileKind(r.Kind), ProviderID: r.ProviderID, Name: r.Name,
		MediaType: r.MediaType, Sealed: r.Sealed, KeyID: r.KeyID, SHA256: r.Sha256, Size: r.SizeBytes, Records: r.RecordCount, Total: r.TotalPence,
		CreatedAt: r.CreatedAt.UTC()}
}

// InsertFiles implements payment.Store.
func (s *PaymentStore) InsertFiles(ctx context.Context, files []payment.FileRecord) error {
	if len(files) == 0 {
		return nil
	}
	rows := make([]fileRow, len(files))
	for i, f := range files {
		rows[i] = fileRow{CouncilID: f.CouncilID, ID: f.ID, RunID: f.RunID, Kind: string(f.Kind), ProviderID: f.ProviderID, Name: f.Name, MediaType: f.MediaType,
			Sealed: f.Sealed, KeyID: f.KeyID, Sha256: f.SHA256, SizeBytes: f.Size, RecordCount: f.Records, TotalPence: f.Total, CreatedAt: f.CreatedAt}
	}
	return translate(s.db.conn(ctx).Create(&rows).Error, nil)
}

func (s *PaymentStore) files(q *gorm.DB) ([]payment.FileRecord, error) {
	var rows []fileRow
	if err := q.Find(&rows).Error; err != nil {
		return nil, translate(err, nil)
	}
	return convert(rows, fileRow.domain), nil
}

// metadata is every column of a file but its sealed bytes.
var fileMetadata = []string{"council_id", "id", "run_id", "kind", "provider_id", "name", "media_type", "key_id", "sha256", "size_bytes", "record_count",
	"total_pence", "created_at"}

// RunFiles implements payment.Store (without the files' bytes).
func (s *PaymentStore) RunFiles(ctx context.Context, councilID, runID uuid.UUID) ([]payment.FileRecord, error) {
	return s.files(s.db.conn(ctx).Select(fileMetadata).Where("council_id = ? AND run_id = ?", uuidArg(councilID), uuidArg(runID)).
		Order("kind, provider_id NULLS FIRST"))
}

// GetFile implements payment.Store, with the file's sealed bytes.
func (s *PaymentStore) GetFile(ctx context.Context, councilID, id uuid.UUID) (payment.FileRecord, error) {
	r, err := takeOne[fileRow](s.db.conn(ctx), false, "council_id = ? AND id = ?", uuidArg(councilID), uuidArg(id))
	if err != nil {
		return payment.FileRecord{}, err
	}
	return r.domain(), nil
}

// ListFiles implements payment.Store (without the files' bytes).
func (s *PaymentStore) ListFiles(ctx context.Context, councilID uuid.UUID, f payment.FileFilter, p page.Request) ([]payment.FileRecord, error) {
	q := s.db.conn(ctx).Select(fileMetadata).Where("council_id = ?", uuidArg(councilID))
	if f.RunID != nil {
		q = q.Where("run_id = ?", uuidArg(*f.RunID))
	}
	if f.Kind != "" {
		q = q.Where("kind = ?", string(f.Kind))
	}
	if f.ProviderID != nil {
		q = q.Where("provider_id = ?", uuidArg(*f.ProviderID))
	}
	return s.files(paginate(q, "created_at", p))
}

// GrossInvoiced implements payment.Store.
func (s *PaymentStore) GrossInvoiced(ctx context.Context, councilID, runID uuid.UUID) ([]payment.GrossInvoiced, error) {
	var rows []struct{ AgreementID, PlanID uuid.UUID }
	err := s.db.conn(ctx).Raw(`SELECT DISTINCT g.id AS agreement_id, g.plan_id FROM payment_lines l
		JOIN direct_payment_agreements g ON g.council_id = l.council_id AND g.id = l.dp_agreement_id
		WHERE l.council_id = ? AND l.run_id = ? AND l.kind = 'cycle' AND l.state = 'live' AND NOT l.held AND g.payment_basis = 'gross'
		  -- Only a person with a contribution is invoiced: the plans of the others are not read.
		  AND EXISTS (SELECT 1 FROM financial_assessments fa WHERE fa.council_id = g.council_id AND fa.person_id = g.person_id
		              AND fa.status = 'completed' AND (fa.full_cost OR fa.assessed_weekly_charge_pence > 0))
		ORDER BY g.id`, uuidArg(councilID), uuidArg(runID)).Scan(&rows).Error
	if err != nil {
		return nil, translate(err, nil)
	}
	out := make([]payment.GrossInvoiced, len(rows))
	for i, r := range rows {
		out[i] = payment.GrossInvoiced{AgreementID: r.AgreementID, PlanID: r.PlanID}
	}
	return out, nil
}

// PostLedgers implements payment.Store.
func (s *PaymentStore) PostLedgers(ctx context.Context, councilID, runID uuid.UUID, personAnnual map[uuid.UUID]int64, by string, at time.Time) error {
	q := s.db.conn(ctx)
	if err := q.Exec(`INSERT INTO ledger_entries (council_id, id, account_id, entry_date, kind, amount_pence, source_kind, source_id, reason, created_by, created_at)
		SELECT l.council_id, gen_random_uuid(), a.id, r.pay_date, 'council_payment', sum(l.amount_pence), 'payment_run', r.id,
		       'payment run ' || r.number, ?, ?
		  FROM payment_lines l
		  JOIN payment_runs r ON r.council_id = l.council_id AND r.id = l.run_id
		  JOIN direct_payment_accounts a ON a.council_id = l.council_id AND a.dp_agreement_id = l.dp_agreement_id
		 WHERE l.council_id = ? AND l.run_id = ? AND l.state = 'live' AND NOT l.held
		 GROUP BY l.council_id, a.id, r.pay_date, r.id, r.number
		HAVING sum(l.amount_pence) > 0
		ON CONFLICT (council_id, account_id, source_kind, source_id) DO NOTHING`, by, at, uuidArg(councilID), uuidArg(runID)).Error; err != nil {
		return translate(err, nil)
	}
	ids := make([]uuid.UUID, 0, len(personAnnual))
	shares := make([]int64, 0, len(personAnnual))
	for id, v := range personAnnual {
		ids, shares = append(ids, id), append(shares, v)
	}
	// A net cycle's contribution is due once, however many runs pay it (a returned cycle is paid
	// again by a later run): its source is the (account, cycle start) pair, as a name-based UUID.
	// A gross cycle is invoiced once per payment of it that stands: a return reverses the invoice
	// (PostReturns), so the payment that pays the cycle again invoices it afresh, under the
	// number of the cycle's payments returned before it (contributionSource). Net and
	// gross share the arithmetic: the cycle's payment × the person's share a year ÷ what the
	// agreement pays a year (the council's share, net; the whole cost, gross), so a cycle paid pro
	// rata is due or invoiced pro rata. Net: the person's share is the plan's direct-payment cost
	// the council does not pay; gross: the share the payment service read from the plan
	// (plan.DPPersonShare), invoiced (source contribution_invoice).
	return translate(q.Exec(`INSERT INTO ledger_entries (council_id, id, account_id, entry_date, kind, amount_pence, source_kind, source_id, reason, created_by, created_at)
		SELECT l.council_id, gen_random_uuid(), a.id, l.cycle_start, 'contribution_due', c.amount,
		       CASE g.payment_basis WHEN 'net' THEN 'contribution_cycle' ELSE 'contribution_invoice' END, src.id,
		       CASE g.payment_basis WHEN 'net' THEN 'contribution due for the cycle from ' || l.cycle_start
		            ELSE 'contribution invoiced for the cycle from ' || l.cycle_start || ': the person''s share of ' || s.person_annual
		                 || ' pence a year of the ' || g.annual_amount_pence || ' paid, pro rata to the cycle''s payment of ' || l.amount_pence || ' pence' END,
		       ?, ?
		  FROM payment_lines l
		  JOIN direct_payment_agreements g ON g.council_id = l.council_id AND g.id = l.dp_agreement_id
		  JOIN direct_payment_accounts a ON a.council_id = l.council_id AND a.dp_agreement_id = l.dp_agreement_id
		  LEFT JOIN unnest(?::uuid[], ?::bigint[]) AS inv(agreement_id, person_annual) ON inv.agreement_id = g.id
		 CROSS JOIN LATERAL (SELECT coalesce(sum(pl.annual_cost_pence), 0) AS gross FROM plan_lines pl
		        WHERE pl.council_id = g.council_id AND pl.plan_id = g.plan_id AND pl.management_option = 'direct_payment') p
		 CROSS JOIN LATERAL (SELECT CASE g.payment_basis WHEN 'net' THEN p.gross - g.annual_amount_pence
		        ELSE coalesce(inv.person_annual, 0) END AS person_annual) s
		 CROSS JOIN LATERAL (SELECT round(l.amount_pence::numeric * s.person_annual / g.annual_amount_pence)::bigint AS amount) c
		 `+contributionSource+`
		 WHERE l.council_id = ? AND l.run_id = ? AND l.kind = 'cycle' AND l.state = 'live' AND NOT l.held
		   AND g.annual_amount_pence > 0 AND c.amount > 0
		ON CONFLICT (council_id, account_id, source_kind, source_id) DO NOTHING`, by, at, uuidArray(ids), arrayOf(shares),
		uuidArg(councilID), uuidArg(runID)).Error, nil)
}

// contributionSource is the source id (src.id) of the contribution a cycle line l of account a
// (agreement g) makes due: a name-based UUID (version 5 and RFC 9562 variant bits over an MD5)
// of the (account, cycle start) pair; for a gross payment whose cycle was paid before and
// returned, of the pair and how many of the cycle's payments were returned before this one (n.k),
// so that each payment of the cycle that stands is invoiced once and a cycle paid once keeps the
// pair's source. A line returned while its run was marked paid counts too: it was never
// invoiced, and its number is simply not used.
const contributionSource = `CROSS JOIN LATERAL (SELECT count(*) AS k FROM payment_lines p
		        WHERE g.payment_basis = 'gross' AND p.council_id = l.council_id AND p.agreement_id = l.agreement_id
		          AND p.kind = 'cycle' AND p.cycle_start = l.cycle_start AND p.state = 'returned'
		          AND (p.created_at, p.id) < (l.created_at, l.id)) n
		 CROSS JOIN LATERAL (SELECT md5(a.id::text || '/' || l.cycle_start::text
		        || CASE WHEN n.k > 0 THEN '/' || n.k::text ELSE '' END) AS h) m
		 CROSS JOIN LATERAL (SELECT (substr(m.h, 1, 12) || '5' || substr(m.h, 14, 3) || '8' || substr(m.h, 18, 15))::uuid AS id) src`

// PostReturns implements payment.Store: each returned payment's council_payment is reversed by
// an adjustment, and the invoice of each gross cycle it paid by a negative contribution_due memo
// (source contribution_invoice_reversal, the invoice's source), dated the return or the cycle's
// start if later: the council never funded the cycle, so the person owes nothing for it until a
// later run pays it again and invoices it afresh.
func (s *PaymentStore) PostReturns(ctx context.Context, councilID, runID uuid.UUID, on date.Date, by string, at time.Time) error {
	q := s.db.conn(ctx)
	if err := q.Exec(`INSERT INTO ledger_entries (council_id, id, account_id, entry_date, kind, amount_pence, source_kind, source_id, reason, created_by, created_at)
		SELECT e.council_id, gen_random_uuid(), e.account_id, greatest(?::date, e.entry_date), 'contribution_due', -e.amount_pence,
		       'contribution_invoice_reversal', e.source_id,
		       'the bank returned the payment of the cycle from ' || l.cycle_start || ': its invoice of ' || e.amount_pence || ' pence reversed', ?, ?
		  FROM payment_lines l
		  JOIN direct_payment_agreements g ON g.council_id = l.council_id AND g.id = l.dp_agreement_id
		  JOIN direct_payment_accounts a ON a.council_id = l.council_id AND a.dp_agreement_id = l.dp_agreement_id
		 `+contributionSource+`
		  JOIN ledger_entries e ON e.council_id = l.council_id AND e.account_id = a.id AND e.source_kind = 'contribution_invoice' AND e.source_id = src.id
		 WHERE l.council_id = ? AND l.run_id = ? AND l.kind = 'cycle' AND l.state = 'returned' AND g.payment_basis = 'gross'
		ON CONFLICT (council_id, account_id, source_kind, source_id) DO NOTHING`, on, by, at, uuidArg(councilID), uuidArg(runID)).Error; err != nil {
		return translate(err, nil)
	}
	return translate(q.Exec(`INSERT INTO ledger_entries (council_id, id, account_id, entry_date, kind, amount_pence, source_kind, source_id, reason, created_by, created_at)
		SELECT e.council_id, gen_random_uuid(), e.account_id, ?, 'adjustment', -e.amount_pence, 'payment_return', e.source_id,
		       'the bank returned the payment of ' || e.reason, ?, ?
		  FROM ledger_entries e
		  JOIN direct_payment_accounts a ON a.council_id = e.council_id AND a.id = e.account_id
		 WHERE e.council_id = ? AND e.source_kind = 'payment_run' AND e.source_id = ?
		   AND EXISTS (SELECT 1 FROM payment_lines l WHERE l.council_id = e.council_id AND l.run_id = e.source_id
		               AND l.dp_agreement_id = a.dp_agreement_id AND l.state = 'returned')
		ON CONFLICT (council_id, account_id, source_kind, source_id) DO NOTHING`, on, by, at, uuidArg(councilID), uuidArg(runID)).Error, nil)
}
