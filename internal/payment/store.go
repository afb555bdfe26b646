package payment

import (
	"context"
	"time"

	"github.com/google/uuid"

	"github.com/pbudget/pbudget/internal/date"
	"github.com/pbudget/pbudget/internal/page"
)

// RunStatus is where a payment run stands: building → draft → approved → exported → paid, or
// cancelled before export.
type RunStatus string

// The run statuses.
const (
	Building  RunStatus = "building"
	Draft     RunStatus = "draft"
	Approved  RunStatus = "approved"
	Exported  RunStatus = "exported"
	PaidRun   RunStatus = "paid"
	Cancelled RunStatus = "cancelled"
)

// BuildPhase is which agreements a build is reading: direct payments, then ISFs, then done.
type BuildPhase string

// The build phases.
const (
	PhaseDirectPayment BuildPhase = "direct_payment"
	PhaseISF           BuildPhase = "isf"
	PhaseDone          BuildPhase = "done"
)

// RunRecord is a stored payment run.
type RunRecord struct {
	CouncilID           uuid.UUID
	ID                  uuid.UUID
	Number              int
	PayDate             date.Date
	Status              RunStatus
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
	Phase               BuildPhase
	Cursor              *uuid.UUID
	BuildError          *string
	Totals              RunTotals
	Version             int
	UpdatedAt           time.Time
}

// Cursor is the page position of a run.
func (r RunRecord) PageCursor() page.Cursor { return page.Cursor{Time: r.CreatedAt, ID: r.ID} }

// RunTotals are a run's counts and sums, kept on the run as its lines change.
type RunTotals struct {
	Lines         int
	Agreements    int // paid more than nothing
	Skipped       int
	Total         int64 // its live lines not held
	HeldLines     int
	Held          int64
	ReturnedLines int
	Returned      int64
}

// LineState is whether a line is taken: live, or released (held when its run was paid), cancelled
// (its run was) or returned (by the bank).
type LineState string

// The line states.
const (
	Live          LineState = "live"
	Released      LineState = "released"
	CancelledLine LineState = "cancelled"
	Returned      LineState = "returned"
)

// StoredLine is a line of a run as stored.
type StoredLine struct {
	Line
	CouncilID     uuid.UUID
	ID            uuid.UUID
	RunID         uuid.UUID
	AgreementKind AgreementKind
	PersonID      uuid.UUID
	ProviderID    *uuid.UUID
	HeldBy        *string
	State         LineState
	ReturnReason  *string
	CreatedAt     time.Time
	// AgreementVersion is the version of the agreement the build read (0: built before lines
	// recorded it): approval and export refuse a run whose agreements changed since.
	AgreementVersion int
}

// PageCursor is the page position of a line.
func (l StoredLine) PageCursor() page.Cursor { return page.Cursor{Time: l.CreatedAt, ID: l.ID} }

// DetailsKind is what pays a recipient: a bank account (BACS) or a prepaid card (load file).
type DetailsKind string

// The kinds of details.
const (
	BankAccount DetailsKind = "bank_account"
	PrepaidCard DetailsKind = "prepaid_card"
)

// DetailsStatus is pending (awaiting a second user), confirmed, or superseded.
type DetailsStatus string

// The details statuses.
const (
	DetailsPending    DetailsStatus = "pending"
	DetailsConfirmed  DetailsStatus = "confirmed"
	DetailsSuperseded DetailsStatus = "superseded"
)

// DetailsRecord is a stored set of bank or card details: sealed, with its masks.
type DetailsRecord struct {
	CouncilID      uuid.UUID
	ID             uuid.UUID
	AgreementID    *uuid.UUID // a direct-payment recipient's
	ProviderID     *uuid.UUID // an ISF provider's
	Kind           DetailsKind
	Sealed         []byte
	KeyID          string
	MaskedSortCode *string
	MaskedNumber   string
	Status         DetailsStatus
	SetBy          string
	SetAt          time.Time
	SetReason      string
	ConfirmedBy    *string
	ConfirmedAt    *time.Time
	ReturnedAt     *time.Time
	ReturnReason   *string
}

// Owner is the agreement or provider the details belong to.
func (d DetailsRecord) Owner() uuid.UUID {
	if d.AgreementID != nil {
		return *d.AgreementID
	}
	return *d.ProviderID
}

// OneOffStatus is requested or approved.
type OneOffStatus string

// The one-off statuses.
const (
	OneOffRequested OneOffStatus = "requested"
	OneOffApproved  OneOffStatus = "approved"
)

// OneOffRecord is a stored one-off payment.
type OneOffRecord struct {
	CouncilID     uuid.UUID
	ID            uuid.UUID
	AgreementID   uuid.UUID
	AgreementKind AgreementKind
	PlanLineID    *uuid.UUID
	Amount        int64
	Reason        string
	Due           *date.Date
	Status        OneOffStatus
	RequestedBy   string
	RequestedAt   time.Time
	ApprovedBy    *string
	ApprovedAt    *time.Time
	PaidInRun     *uuid.UUID // filled by reads: the run whose live line takes it
	Version       int
}

// PageCursor is the page position of a one-off.
func (o OneOffRecord) PageCursor() page.Cursor { return page.Cursor{Time: o.RequestedAt, ID: o.ID} }

// OverpaymentRecord is money paid for days no longer owed, recorded for recovery.
type OverpaymentRecord struct {
	CouncilID     uuid.UUID
	ID            uuid.UUID
	AgreementID   uuid.UUID
	AgreementKind AgreementKind
	RunID         uuid.UUID
	LineID        uuid.UUID
	Amount        int64
	Reason        string
	RecordedAt    time.Time
}

// PageCursor is the page position of an overpayment.
func (o OverpaymentRecord) PageCursor() page.Cursor { return page.Cursor{Time: o.RecordedAt, ID: o.ID} }

// FileKind is what an export file is.
type FileKind string

// The kinds of file.
const (
	FileBACS       FileKind = "bacs_standard18"
	FileCardLoads  FileKind = "card_loads"
	FileRemittance FileKind = "isf_remittance"
)

// FileRecord is an export file, sealed.
type FileRecord struct {
	CouncilID   uuid.UUID
	ID          uuid.UUID
	RunID       uuid.UUID
	Kind        FileKind
	ProviderID  *uuid.UUID
	Name        string
	MediaType   string
	Sealed      []byte
	KeyID       string
	SHA256      string
	Size        int
	Records     int
	Total       int64
	CreatedAt   time.Time
	PlainForNew []byte // only while exporting: the bytes to seal
}

// PageCursor is the page position of a file.
func (f FileRecord) PageCursor() page.Cursor { return page.Cursor{Time: f.CreatedAt, ID: f.ID} }

// TakenLine is a live cycle or adjustment line of an agreement, with where its run stands.
type TakenLine struct {
	AgreementID uuid.UUID
	Taken
}

// BuildInputs is what a build reads for a batch of agreements, set-based: one query each.
type BuildInputs struct {
	Amounts     map[uuid.UUID][]AmountRecord
	Suspensions map[uuid.UUID][]SuspensionRecord
	Taken       map[uuid.UUID][]Taken
	Carries     map[uuid.UUID][]Carry
	OneOffs     map[uuid.UUID][]OneOff
	Details     map[uuid.UUID]DetailsState // by owner: the agreement, or the ISF provider
}

// DetailsState is what a build needs to know of an owner's details.
type DetailsState struct {
	Confirmed     *DetailsKind // the kind of the confirmed details, nil when none
	Pending       bool
	ConfirmedBack bool // the bank returned a payment to the confirmed details
}

// AgreementFilter narrows the payments' list of agreements.
type AgreementFilter struct {
	Kind               AgreementKind // "" for both
	NeverPaid          bool
	DetailsUnconfirmed bool
	Suspended          bool
	Today              date.Date
}

// LineFilter narrows lists of lines.
type LineFilter struct {
	RunID       *uuid.UUID
	AgreementID *uuid.UUID
	Held        *bool
}

// RunFilter narrows the list of runs.
type RunFilter struct {
	Status  RunStatus
	PayDate *date.Date
}

// FileFilter narrows the list of files.
type FileFilter struct {
	RunID      *uuid.UUID
	Kind       FileKind
	ProviderID *uuid.UUID
}

// RunPayment is one agreement's lines in a run, as an export needs them.
type RunPayment struct {
	AgreementID uuid.UUID
	Kind        AgreementKind
	AccountType string
	PersonID    uuid.UUID
	ProviderID  *uuid.UUID
	Lines       []StoredLine // live, not held
}

// GrossInvoiced is a gross direct payment a run pays cycles of.
type GrossInvoiced struct {
	AgreementID uuid.UUID
	PlanID      uuid.UUID
}

// RunAgreementState is an agreement paid by a run's live, unheld lines, as it stands now against
// what the build read: approval and export refuse a run built from facts no longer true.
type RunAgreementState struct {
	AgreementID  uuid.UUID
	Kind         AgreementKind
	AccountType  string
	ProviderID   *uuid.UUID
	Net          int64 // the sum of its live, unheld lines in the run
	Changed      bool  // its version is not the one its lines were built from
	Signed       bool
	PlanApproved bool
}

// Owner is whose details pay the agreement: the agreement itself, or its ISF provider.
func (a RunAgreementState) Owner() uuid.UUID {
	if a.Kind == ISFKind {
		return *a.ProviderID
	}
	return a.AgreementID
}

// Store keeps payments.
type Store interface {
	// Agreements.
	GetAgreement(ctx context.Context, councilID, id uuid.UUID, kind AgreementKind, forUpdate bool) (AgreementRecord, error)
	ListAgreements(ctx context.Context, councilID uuid.UUID, f AgreementFilter, p page.Request) ([]AgreementRecord, error)
	EndAgreement(ctx context.Context, r AgreementRecord, by string, at time.Time) error
	RepriceAgreement(ctx context.Context, r AgreementRecord) error
	// SetAnnual sets the agreement's annual amount (on the same plan: a changed contribution).
	SetAnnual(ctx context.Context, r AgreementRecord) error
	// LockApprovedAgreements reads and locks (FOR NO KEY UPDATE, direct payments then ISFs, each in
	// id order) the agreements of the approved plans of budgetIDs.
	LockApprovedAgreements(ctx context.Context, councilID uuid.UUID, budgetIDs []uuid.UUID) ([]AgreementRecord, error)
	Amounts(ctx context.Context, councilID uuid.UUID, ids []uuid.UUID) (map[uuid.UUID][]AmountRecord, error)
	InsertAmount(ctx context.Context, councilID uuid.UUID, kind AgreementKind, a AmountRecord) error
	Suspensions(ctx context.Context, councilID uuid.UUID, ids []uuid.UUID) (map[uuid.UUID][]SuspensionRecord, error)
	InsertSuspension(ctx context.Context, councilID uuid.UUID, kind AgreementKind, s SuspensionRecord) error
	ResumeSuspension(ctx context.Context, councilID uuid.UUID, s SuspensionRecord) error
	BumpAgreement(ctx context.Context, r AgreementRecord) error
	TakenLines(ctx context.Context, councilID uuid.UUID, ids []uuid.UUID) (map[uuid.UUID][]Taken, error)
	AnchorInUse(ctx context.Context, councilID uuid.UUID, f Frequency) (bool, error)

	// One-offs.
	InsertOneOff(ctx context.Context, o OneOffRecord) error
	GetOneOff(ctx context.Context, councilID, id uuid.UUID, forUpdate bool) (OneOffRecord, error)
	UpdateOneOff(ctx context.Context, o OneOffRecord) error
	ListOneOffs(ctx context.Context, councilID uuid.UUID, status OneOffStatus, agreementID *uuid.UUID, p page.Request) ([]OneOffRecord, error)

	// Recipients' details.
	Details(ctx context.Context, councilID, owner uuid.UUID, forUpdate bool) ([]DetailsRecord, error) // pending and confirmed
	InsertDetails(ctx context.Context, d DetailsRecord) error
	SupersedeDetails(ctx context.Context, councilID, id uuid.UUID, at time.Time) error
	ConfirmDetails(ctx context.Context, d DetailsRecord) error
	MarkDetailsReturned(ctx context.Context, councilID uuid.UUID, owners []uuid.UUID, reason string, at time.Time) error
	ConfirmedDetails(ctx context.Context, councilID uuid.UUID, owners []uuid.UUID) (map[uuid.UUID]DetailsRecord, error)
	DetailsStates(ctx context.Context, councilID uuid.UUID, owners []uuid.UUID) (map[uuid.UUID]DetailsState, error)

	// Runs.
	NextRunNumber(ctx context.Context, councilID uuid.UUID) (int, error)
	InsertRun(ctx context.Context, r RunRecord) error
	GetRun(ctx context.Context, councilID, id uuid.UUID, forUpdate bool) (RunRecord, error)
	UpdateRun(ctx context.Context, r RunRecord) error
	ListRuns(ctx context.Context, councilID uuid.UUID, f RunFilter, p page.Request) ([]RunRecord, error)
	CountCandidates(ctx context.Context, councilID uuid.UUID, horizon date.Date) (int, error)
	// LockCandidates reads, in id order after the cursor, and locks the agreements of kind that
	// start by horizon.
	LockCandidates(ctx context.Context, councilID uuid.UUID, kind AgreementKind, after *uuid.UUID, horizon date.Date, limit int) ([]AgreementRecord, error)
	BuildInputs(ctx context.Context, councilID uuid.UUID, agreements []AgreementRecord) (BuildInputs, error)
	InsertLines(ctx context.Context, lines []StoredLine) error
	RunTotals(ctx context.Context, councilID, runID uuid.UUID) (RunTotals, error)

	// Lines.
	GetLine(ctx context.Context, councilID, id uuid.UUID) (StoredLine, error)
	ListLines(ctx context.Context, councilID uuid.UUID, f LineFilter, p page.Request) ([]StoredLine, error)
	AgreementLines(ctx context.Context, councilID, runID, agreementID uuid.UUID) ([]StoredLine, error)
	SetHeld(ctx context.Context, councilID, runID, agreementID uuid.UUID, held bool, reason, by *string) error
	SetRunLinesState(ctx context.Context, councilID, runID uuid.UUID, from, to LineState, onlyHeld bool) error
	ReturnLines(ctx context.Context, councilID, runID, agreementID uuid.UUID, reason string) (int, error)
	RunPayments(ctx context.Context, councilID, runID uuid.UUID) ([]RunPayment, error)
	// RunAgreementStates reads, without locking anything, each agreement that the run's live,
	// unheld lines pay, in agreement id order.
	RunAgreementStates(ctx context.Context, councilID, runID uuid.UUID) ([]RunAgreementState, error)
	RecordOverpayments(ctx context.Context, councilID, runID uuid.UUID, at time.Time) error
	// GrossInvoiced is each gross direct payment whose cycles the run's live, unheld lines pay,
	// with its plan: the agreements whose person is invoiced a contribution per cycle paid.
	GrossInvoiced(ctx context.Context, councilID, runID uuid.UUID) ([]GrossInvoiced, error)
	// PostLedgers posts to the direct-payment accounts' ledgers what a run being marked paid paid
	// them: a council_payment per account (the sum of its live, unheld lines, when more than zero),
	// dated the run's pay date, and the contribution due for each cycle paid (a memo, see
	// ContributionDue): for a net direct payment the cycle's share of the plan's direct-payment
	// cost that the council does not pay, for a gross one the invoice of the person's share
	// (personAnnual, by agreement). Each is posted once, whatever retries happen (unique source per
	// account).
	PostLedgers(ctx context.Context, councilID, runID uuid.UUID, personAnnual map[uuid.UUID]int64, by string, at time.Time) error
	// PostReturns reverses, dated on, the council_payment of each account whose payment of the
	// run the bank returned, once.
	PostReturns(ctx context.Context, councilID, runID uuid.UUID, on date.Date, by string, at time.Time) error
	ListOverpayments(ctx context.Context, councilID uuid.UUID, agreementID *uuid.UUID, p page.Request) ([]OverpaymentRecord, error)

	// Files.
	InsertFiles(ctx context.Context, files []FileRecord) error
	RunFiles(ctx context.Context, councilID, runID uuid.UUID) ([]FileRecord, error)
	GetFile(ctx context.Context, councilID, id uuid.UUID) (FileRecord, error)
	ListFiles(ctx context.Context, councilID uuid.UUID, f FileFilter, p page.Request) ([]FileRecord, error)
}

// SealedValue is a stored ciphertext and what it is bound to, for key rotation.
type SealedValue struct {
	Table     string // payment_recipient_details or payment_files
	CouncilID uuid.UUID
	ID        uuid.UUID
	Purpose   string
	Sealed    []byte
}

// KeyStore is what key rotation needs of the store, across councils.
type KeyStore interface {
	// SealedNotUnder returns up to limit values sealed with a key other than keyID.
	SealedNotUnder(ctx context.Context, keyID string, limit int) ([]SealedValue, error)
	// Reseal replaces v's ciphertext if it is still v.Sealed (a concurrent change wins), and says
	// whether it did.
	Reseal(ctx context.Context, v SealedValue, sealed []byte, keyID string) (bool, error)
	// KeyCounts counts the stored values by key id.
	KeyCounts(ctx context.Context) (map[string]int, error)
}
