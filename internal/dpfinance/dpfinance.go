// Package dpfinance wires the money checks that follow payments (DOMAIN.md section 11, issue 12
// items 4 to 7) to the database: ISF providers' statements (rules in internal/isf), recoveries of
// the council's share (internal/recovery) whose offsets the payment runs take as recovery lines,
// and the direct-payment financial audit (internal/dpaudit) from its schedule to its letter
// (internal/letter). Every change is one transaction with its audit event, which carries the
// figures the decision used.
package dpfinance

import (
	"context"
	"time"

	"github.com/google/uuid"

	"github.com/pbudget/pbudget/internal/account"
	"github.com/pbudget/pbudget/internal/actor"
	"github.com/pbudget/pbudget/internal/audit"
	"github.com/pbudget/pbudget/internal/council"
	"github.com/pbudget/pbudget/internal/date"
	"github.com/pbudget/pbudget/internal/dpaudit"
	"github.com/pbudget/pbudget/internal/isf"
	"github.com/pbudget/pbudget/internal/page"
	"github.com/pbudget/pbudget/internal/payment"
	"github.com/pbudget/pbudget/internal/recovery"
	"github.com/pbudget/pbudget/internal/txn"
)

// Settings are a council's audit and ISF settings.
type Settings struct {
	Audit dpaudit.Settings
	ISF   isf.Settings
}

// SettingsReader reads a council's settings (council.SettingsService: the defaults until the
// council changes them), the one source of the audit and ISF settings.
type SettingsReader interface {
	Get(ctx context.Context, councilID uuid.UUID) (council.Settings, error)
}

// SettingsOf are the audit and ISF settings of a council's settings.
func SettingsOf(c council.Settings) Settings {
	a, i := c.Audits, c.ISF
	return Settings{
		Audit: dpaudit.Settings{FirstAuditWeeks: a.FirstWeeks, EvidenceDueDays: a.EvidenceDueDays, ConcludeWithinDays: a.ConcludeWithinDays,
			ContingencyWeeks: a.ContingencyWeeks, NoticeWeeks: a.TerminationNoticeWeeks},
		ISF: isf.Settings{SurplusWeeks: i.SurplusWeeks, SurplusMaxWeeks: i.SurplusMaxWeeks, DueDays: i.StatementDueDays},
	}
}

// settings are the council's audit and ISF settings now.
func (s *Service) settings(ctx context.Context, councilID uuid.UUID) (Settings, error) {
	c, err := s.d.Settings.Get(ctx, councilID)
	if err != nil {
		return Settings{}, err
	}
	return SettingsOf(c), nil
}

// ISFAgreement is an ISF agreement as statements see it.
type ISFAgreement struct {
	ID         uuid.UUID
	PersonID   uuid.UUID
	ProviderID uuid.UUID
	PlanID     uuid.UUID
	Start      date.Date
	End        *date.Date
	Frequency  isf.Frequency
	Annual     int64
	PlanLines  []uuid.UUID // its plan's ISF lines with this provider
}

// Weekly is the ISF's weekly amount: the annual amount ÷ 52, to the nearest penny.
func (a ISFAgreement) Weekly() int64 { return (a.Annual*2 + 52) / 104 }

// ISFStatement is a stored statement.
type ISFStatement struct {
	CouncilID      uuid.UUID
	ID             uuid.UUID
	AgreementID    uuid.UUID
	ProviderID     uuid.UUID
	PersonID       uuid.UUID
	Statement      isf.Statement
	Status         string // submitted, accepted, queried
	DecisionReason *string
	DecidedBy      *string
	DecidedAt      *time.Time
	SubmittedBy    string
	CreatedAt      time.Time
	Version        int
}

// DPAgreement is a direct-payment agreement as audits and recoveries see it.
type DPAgreement struct {
	ID           uuid.UUID
	PersonID     uuid.UUID
	AccountType  string
	Start        date.Date
	End          *date.Date
	FirstPayment *date.Date // the pay date of the first paid run that paid it
	Annual       int64      // the council's annual amount now
	Version      int
}

// Weekly is the council's weekly payment: the annual amount ÷ 52, to the nearest penny.
func (a DPAgreement) Weekly() int64 { return (a.Annual*2 + 52) / 104 }

// Recovery is a stored recovery.
type Recovery struct {
	CouncilID      uuid.UUID
	ID             uuid.UUID
	AgreementID    uuid.UUID
	AgreementKind  payment.AgreementKind
	PersonID       uuid.UUID
	AuditID        *uuid.UUID
	OverpaymentID  *uuid.UUID
	ISFStatementID *uuid.UUID // isf_surplus: the flagged statement
	Proposal       recovery.Proposal
	State          recovery.Recovery
	WriteOffReason *string
	CreatedBy      string
	CreatedAt      time.Time
	UpdatedAt      time.Time
	Version        int
}

// OffsetTaken is a recovery line of a payment run.
type OffsetTaken struct {
	LineID     uuid.UUID
	RunID      uuid.UUID
	CycleStart date.Date
	Amount     int64 // positive: taken off the payment
	State      string
	RunStatus  string
}

// ReturnedOffset is what a recovery's lines of a run took from payments the bank returned.
type ReturnedOffset struct {
	RecoveryID uuid.UUID
	Amount     int64 // positive: what the lines had taken off the payments
	// Credited is what paying the run recorded recovered of it (at most what the recovery had
	// outstanding then) and no return has reversed yet: all a return may take back.
	Credited int64
}

// Overpayment is an overpayment a paid run recorded.
type Overpayment struct {
	ID            uuid.UUID
	AgreementID   uuid.UUID
	AgreementKind payment.AgreementKind
	PersonID      uuid.UUID
	Amount        int64
}

// EvidenceRequest is an item an audit asked for.
type EvidenceRequest struct {
	ID          uuid.UUID
	Item        dpaudit.EvidenceItem
	RequestedOn date.Date
	Due         date.Date
	ReceivedOn  *date.Date
}

// Audit is a stored audit.
type Audit struct {
	CouncilID        uuid.UUID
	ID               uuid.UUID
	AgreementID      uuid.UUID
	PersonID         uuid.UUID
	Kind             string // scheduled, ad_hoc
	Period           dpaudit.Period
	Due              date.Date
	State            dpaudit.State
	ConcernReason    *string
	EvidenceDue      *date.Date
	StatementClosing *int64
	Reconciliation   *dpaudit.Reconciliation
	Surplus          *dpaudit.Surplus
	Misspend         int64 // resolved as misspent in the period
	MisspendCouncil  int64 // its council share
	Liabilities      []dpaudit.Liability
	Findings         []dpaudit.Finding
	Outcome          *dpaudit.Outcome
	CancelReason     *string
	ConcludedOn      *date.Date
	Evidence         []EvidenceRequest
	CreatedBy        string
	CreatedAt        time.Time
	UpdatedAt        time.Time
	Version          int
}

// AuditFilter narrows a listing of audits.
type AuditFilter struct {
	Worklist    dpaudit.Work // "" for all
	AgreementID *uuid.UUID
	Page        page.Request // Size 0: every audit (up to 1,000), as the service's own reads take them
}

// Cursor is an audit's position in a list: by due date, then id.
func (au Audit) Cursor() page.Cursor { return page.Cursor{Time: au.Due.Time(), ID: au.ID} }

// Cursor is a recovery's position in a list: newest first.
func (r Recovery) Cursor() page.Cursor { return page.Cursor{Time: r.CreatedAt, ID: r.ID} }

// Ledger is an account's money for reconciliation: the opening balance and the entries.
type Ledger struct {
	Opening account.Opening
	Entries []account.Entry
	Flagged []dpaudit.FlaggedLine // statement lines flagged in the period
	// StatementClosing is the balance a statement ending on the period's last day states.
	StatementClosing *int64
}

// PAEvidence is the personal assistants of a direct payment's plan and the evidence its account
// holds about them.
type PAEvidence struct {
	PersonBorn date.Date        // the person the direct payment is for
	Assistants []string         // the personal assistants of the plan's direct-payment lines, by reference (their id), in line order
	Items      []dpaudit.PAItem // the account's evidence items that name a personal assistant
}

// Store keeps statements, recoveries and audits.
type Store interface {
	Councils(ctx context.Context) ([]uuid.UUID, error)
	CouncilName(ctx context.Context, councilID uuid.UUID) (string, error)

	ISFAgreement(ctx context.Context, councilID, id uuid.UUID, lock bool) (ISFAgreement, error)
	ISFAgreements(ctx context.Context, councilID uuid.UUID) ([]ISFAgreement, error)
	ISFStatements(ctx context.Context, councilID uuid.UUID, agreements []uuid.UUID) (map[uuid.UUID][]ISFStatement, error)
	GetISFStatement(ctx context.Context, councilID, id uuid.UUID, lock bool) (ISFStatement, error)
	InsertISFStatement(ctx context.Context, st ISFStatement) error
	DecideISFStatement(ctx context.Context, st ISFStatement) error

	DPAgreement(ctx context.Context, councilID, id uuid.UUID, lock bool) (DPAgreement, error)
	DPAgreementsPaid(ctx context.Context, councilID uuid.UUID) ([]DPAgreement, error)
	Ledger(ctx context.Context, councilID, agreementID uuid.UUID, p dpaudit.Period) (Ledger, error)
	// PAEvidence is what the audit needs of the personal assistants a direct payment employs.
	PAEvidence(ctx context.Context, councilID, agreementID uuid.UUID) (PAEvidence, error)

	InsertRecovery(ctx context.Context, r Recovery) error
	GetRecovery(ctx context.Context, councilID, id uuid.UUID, lock bool) (Recovery, error)
	UpdateRecovery(ctx context.Context, r Recovery) error
	// ListRecoveries returns recoveries newest first: a page (p.Size+1 at most, after p.After), or
	// with p.Size 0 every one (up to 500), as the service's own reads take them.
	ListRecoveries(ctx context.Context, councilID uuid.UUID, agreementID *uuid.UUID, status string, p page.Request) ([]Recovery, error)
	OffsetsTaken(ctx context.Context, councilID uuid.UUID, recoveries []uuid.UUID) (map[uuid.UUID][]OffsetTaken, error)
	OffsetRecoveries(ctx context.Context, councilID uuid.UUID, agreements []uuid.UUID) ([]Recovery, error)
	RunOffsets(ctx context.Context, councilID, runID uuid.UUID) (map[uuid.UUID]int64, error)
	// CreditOffset records that paying the run recorded amount (> 0) of its offsets recovered on
	// the recovery, once per (recovery, run).
	CreditOffset(ctx context.Context, councilID, recoveryID, runID uuid.UUID, amount int64, at time.Time) error
	// ReverseOffsetCredit records that a bank return took amount (> 0) of the run's credit back
	// from the recovery.
	ReverseOffsetCredit(ctx context.Context, councilID, recoveryID, runID uuid.UUID, amount int64, at time.Time) error
	// ReturnedOffsets is what each recovery's returned lines of the run for agreements took, with
	// what paying the run credited the recovery and no return has reversed yet, in recovery id
	// order (the order their rows are locked in).
	ReturnedOffsets(ctx context.Context, councilID, runID uuid.UUID, agreements []uuid.UUID) ([]ReturnedOffset, error)
	// PostRecovery enters money recovered from a direct payment's account (an invoice paid from
	// it, a card recoup) in its ledger, once per source.
	PostRecovery(ctx context.Context, r Recovery, source uuid.UUID, on date.Date, amount int64, by string, at time.Time) error
	Overpayment(ctx context.Context, councilID, id uuid.UUID) (Overpayment, error)

	InsertAudits(ctx context.Context, as []Audit) (int, error) // ON CONFLICT DO NOTHING: how many were new
	GetAudit(ctx context.Context, councilID, id uuid.UUID, lock bool) (Audit, error)
	UpdateAudit(ctx context.Context, a Audit) error
	ListAudits(ctx context.Context, councilID uuid.UUID, f AuditFilter, today date.Date, s dpaudit.Settings) ([]Audit, error)
	InsertEvidenceRequests(ctx context.Context, councilID, auditID uuid.UUID, rs []EvidenceRequest) error
	ReceiveEvidence(ctx context.Context, councilID, auditID uuid.UUID, on date.Date) error
}

// Suspender suspends or ends an agreement's payments (payment.Service).
type Suspender interface {
	Suspend(ctx context.Context, a actor.Actor, kind payment.AgreementKind, id uuid.UUID, version int, from date.Date, reason string) (payment.AgreementRecord, error)
	End(ctx context.Context, a actor.Actor, kind payment.AgreementKind, id uuid.UUID, version int, end date.Date, reason string) (payment.AgreementRecord, error)
}

// Deps are the service's dependencies.
type Deps struct {
	Store    Store
	Settings SettingsReader
	Payments Suspender
	Audit    audit.Recorder
	Tx       txn.Transactor
	Now      func() time.Time
}

// Service is the use cases.
type Service struct{ d Deps }

// NewService returns a Service.
func NewService(d Deps) *Service { return &Service{d: d} }

func (s *Service) today() date.Date { return date.Today(s.d.Now()) }

// Today is the service's day.
func (s *Service) Today() date.Date { return s.today() }

func (s *Service) stamp() time.Time { return s.d.Now().UTC().Truncate(time.Microsecond) }
