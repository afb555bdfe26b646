package payment

import (
	"context"
	"encoding/hex"
	"log/slog"
	"strings"
	"time"

	"github.com/google/uuid"

	"github.com/pbudget/pbudget/internal/actor"
	"github.com/pbudget/pbudget/internal/apperr"
	"github.com/pbudget/pbudget/internal/audit"
	"github.com/pbudget/pbudget/internal/budget"
	"github.com/pbudget/pbudget/internal/council"
	"github.com/pbudget/pbudget/internal/date"
	"github.com/pbudget/pbudget/internal/page"
	"github.com/pbudget/pbudget/internal/plan"
	"github.com/pbudget/pbudget/internal/provider"
	"github.com/pbudget/pbudget/internal/secret"
	"github.com/pbudget/pbudget/internal/txn"
	"github.com/pbudget/pbudget/internal/workday"
)

// AgreementKind says which table an agreement lives in: a direct payment or an Individual Service
// Fund held by a provider.
type AgreementKind string

// The kinds of agreement.
const (
	DirectPaymentKind AgreementKind = "direct_payment"
	ISFKind           AgreementKind = "isf"
)

// AgreementRecord is a direct-payment or ISF agreement as payments see it.
type AgreementRecord struct {
	CouncilID    uuid.UUID
	ID           uuid.UUID
	Kind         AgreementKind
	PersonID     uuid.UUID
	BudgetID     uuid.UUID
	PlanID       uuid.UUID
	ProviderID   *uuid.UUID // ISF
	AccountType  string     // direct payments: separate_bank_account, prepaid_card, managed_account
	Basis        Basis
	Frequency    Frequency
	Start        date.Date
	End          *date.Date
	EndReason    *string
	Signed       *date.Date
	PlanApproved bool // the agreement's plan is still its budget's approved plan
	Annual       int64
	Version      int
	CreatedAt    time.Time
	SuspendedNow bool // filled by lists: suspended today
	// ConsentWithdrawn: the nominee or authorised person who receives the direct payment has
	// withdrawn their consent (the person's view): runs pay nothing until it is given again.
	ConsentWithdrawn bool
}

// Owner is whose bank or card details pay the agreement: the direct-payment agreement itself, or
// the ISF agreement's provider.
func (r AgreementRecord) Owner() uuid.UUID {
	if r.Kind == ISFKind {
		return *r.ProviderID
	}
	return r.ID
}

// Cursor is the page position of an agreement.
func (r AgreementRecord) Cursor() page.Cursor { return page.Cursor{Time: r.CreatedAt, ID: r.ID} }

// BlockReason is why runs pay the agreement nothing at all, or "".
func (r AgreementRecord) BlockReason() string {
	switch {
	case r.Signed == nil:
		return ReasonNotSigned
	case !r.PlanApproved:
		return ReasonPlanSuperseded
	case r.ConsentWithdrawn:
		return ReasonConsentWithdrawn
	}
	return ""
}

// The reasons a run gives for what it does not pay.
const (
	ReasonNotSigned        = "the agreement is not signed"
	ReasonPlanSuperseded   = "the agreement's plan is no longer the approved one: reprice it onto the approved plan"
	ReasonNoDetails        = "no confirmed bank or card details"
	ReasonDetailsPending   = "a change of bank or card details awaits a second user's confirmation"
	ReasonDetailsReturned  = "the bank returned the last payment: set and confirm new details"
	ReasonDetailsMismatch  = "the confirmed details do not match the agreement's account type"
	ReasonManagedElsewhere = "not paid by runs"
	ReasonConsentWithdrawn = "the nominee or authorised person who receives it has withdrawn consent"
)

// AmountRecord is one entry of an agreement's amount history.
type AmountRecord struct {
	ID            uuid.UUID
	AgreementID   uuid.UUID
	EffectiveFrom date.Date
	Annual        int64
	PlanID        uuid.UUID
	Reason        string
	RecordedBy    string
	RecordedAt    time.Time
}

// amountsInForce turns the history, in the order recorded, into the amounts in force by day: each
// entry replaces every amount from its date on (a later repricing backdated before an earlier one
// overrides it).
func amountsInForce(history []AmountRecord) []Amount {
	var out []Amount
	for _, h := range history {
		keep := out[:0]
		for _, m := range out {
			if m.From.Before(h.EffectiveFrom) {
				keep = append(keep, m)
			}
		}
		out = append(keep, Amount{From: h.EffectiveFrom, Annual: h.Annual, CouncilAnnual: h.Annual})
	}
	return out
}

// SuspensionRecord is a stored suspension.
type SuspensionRecord struct {
	ID           uuid.UUID
	AgreementID  uuid.UUID
	From         date.Date
	Resume       *date.Date
	BackPay      bool
	Reason       string
	ResumeReason *string
	SuspendedBy  string
	SuspendedAt  time.Time
	ResumedBy    *string
	ResumedAt    *time.Time
}

func (s SuspensionRecord) rule() Suspension {
	return Suspension{From: s.From, To: s.Resume, BackPay: s.BackPay}
}

// agreementOf is the rules' view of a stored agreement with its history.
func agreementOf(r AgreementRecord, amounts []AmountRecord, susp []SuspensionRecord) Agreement {
	a := Agreement{ID: r.ID, Frequency: r.Frequency, Basis: r.Basis, Periods: []Period{{Start: r.Start, End: r.End}},
		Amounts: amountsInForce(amounts)}
	for _, s := range susp {
		a.Suspensions = append(a.Suspensions, s.rule())
	}
	return a
}

// Deps are what the Service needs.
type Deps struct {
	Store     Store
	Settings  SettingsReader
	Plans     PlanReader
	Budgets   BudgetReader
	Providers ProviderReader
	Keys      *secret.KeyRing
	Holidays  workday.Calendar
	Audit     audit.Recorder
	Tx        txn.Transactor
	// Builds starts the build of a run once the transaction that created it commits.
	Builds Enqueuer
	Now    func() time.Time
	Log    *slog.Logger
	// BatchSize is how many agreements a build reads, locks and writes lines for in one
	// transaction (default 2,000).
	BatchSize int
}

// SettingsReader reads a council's settings (council.SettingsService).
type SettingsReader interface {
	Get(ctx context.Context, councilID uuid.UUID) (council.Settings, error)
}

// PlanReader reads plans (plan.Service).
type PlanReader interface {
	Get(ctx context.Context, a actor.Actor, id uuid.UUID) (plan.View, error)
	List(ctx context.Context, a actor.Actor, f plan.Filter, p page.Request) ([]plan.View, error)
}

// BudgetReader reads budgets (budget.Service).
type BudgetReader interface {
	Get(ctx context.Context, a actor.Actor, id uuid.UUID) (budget.Budget, error)
}

// ProviderReader reads providers (provider.Service).
type ProviderReader interface {
	Get(ctx context.Context, a actor.Actor, id uuid.UUID) (provider.Provider, error)
}

// Enqueuer starts a run's build. It is called inside the transaction that creates the run; the
// build must start only once that transaction commits (River's InsertTx, or an after-commit hook).
type Enqueuer interface {
	EnqueueBuild(ctx context.Context, councilID, runID uuid.UUID) error
}

// Service is the payments side of the service: schedules, agreements' life after sign-off,
// one-offs, recipients' details, payment runs and their files.
type Service struct {
	store     Store
	settings  SettingsReader
	plans     PlanReader
	budgets   BudgetReader
	providers ProviderReader
	keys      *secret.KeyRing
	holidays  workday.Calendar
	audit     audit.Recorder
	tx        txn.Transactor
	builds    Enqueuer
	now       func() time.Time
	log       *slog.Logger
	batch     int
	recover   Recoveries
}

// Recoveries is what payment runs need of recoveries by offset (internal/recoveries): the offsets
// each agreement owes now, read while a run is built, the recording of a paid run's offsets as
// money recovered, in the transaction that marks the run paid, and their reversal when the bank
// returns a payment of the paid run, in the transaction that records the return.
type Recoveries interface {
	Offsets(ctx context.Context, councilID uuid.UUID, agreements []uuid.UUID) (map[uuid.UUID][]RecoveryOffset, error)
	RunPaid(ctx context.Context, a actor.Actor, councilID, runID uuid.UUID, paidOn date.Date) error
	// RunReturned undoes the offsets the paid run took from the payments of agreements, which the
	// bank returned (their lines were just made unpaid again).
	RunReturned(ctx context.Context, a actor.Actor, councilID, runID uuid.UUID, agreements []uuid.UUID, on date.Date) error
}

// SetRecoveries sets the recoveries whose offsets runs take (the app wires it after building both).
func (s *Service) SetRecoveries(r Recoveries) { s.recover = r }

// NewService returns a Service.
func NewService(d Deps) *Service {
	batch := d.BatchSize
	if batch <= 0 {
		batch = 2_000
	}
	log := d.Log
	if log == nil {
		log = slog.Default()
	}
	return &Service{store: d.Store, settings: d.Settings, plans: d.Plans, budgets: d.Budgets, providers: d.Providers, keys: d.Keys,
		holidays: d.Holidays, audit: d.Audit, tx: d.Tx, builds: d.Builds, now: d.Now, log: log, batch: batch}
}

// SetEnqueuer sets how builds are started (the app wires it after building the service).
func (s *Service) SetEnqueuer(e Enqueuer) { s.builds = e }

func (s *Service) timestamp() time.Time { return s.now().UTC().Truncate(time.Microsecond) }

func (s *Service) today() date.Date { return date.Today(s.now()) }

// CalendarOf is the payment calendar of a council's settings.
func CalendarOf(st council.Settings) Calendar {
	p := st.Payments
	return Calendar{FourWeeklyAnchor: p.FourWeeklyAnchor, TwoWeeklyAnchor: p.TwoWeeklyAnchor, MonthlyAnchor: p.MonthlyAnchor,
		LeadDays: p.LeadDays, ProcessingDays: p.ProcessingDays}
}

func (s *Service) calendar(ctx context.Context, councilID uuid.UUID) (Calendar, council.Settings, error) {
	st, err := s.settings.Get(ctx, councilID)
	if err != nil {
		return Calendar{}, st, err
	}
	return CalendarOf(st), st, nil
}

// Reference is a short code for a record in files and references: prefix, "-" and the last n
// hexadecimal digits of its id, upper case (the random tail of a UUIDv7).
func Reference(prefix string, id uuid.UUID, n int) string {
	h := strings.ToUpper(hex.EncodeToString(id[:]))
	return prefix + "-" + h[len(h)-n:]
}

// PersonReference is how files name a person: the person's id without hyphens, never a name.
func PersonReference(id uuid.UUID) string { return hex.EncodeToString(id[:]) }

// Errors of payments.
var (
	ErrAgreementEnded     = apperr.New(apperr.Conflict, "agreement-already-ended", "the agreement has already ended")
	ErrAlreadySuspended   = apperr.New(apperr.Conflict, "agreement-already-suspended", "the agreement is suspended: resume it first")
	ErrNotSuspended       = apperr.New(apperr.Conflict, "agreement-not-suspended", "the agreement is not suspended")
	ErrSuspensionOverlaps = apperr.New(apperr.RuleViolation, "suspension-overlaps",
		"a suspension starts on or after the agreement's start, before its end, and after the previous suspension resumed")
	ErrResumeDate = apperr.New(apperr.RuleViolation, "resume-date-not-after-suspension",
		"payments resume after the suspension's first day, and not after the agreement's end")
	ErrEndDate = apperr.New(apperr.RuleViolation, "end-date-not-after-start",
		"an agreement ends after it starts, and after the first day of any open suspension")
	ErrEffectiveFrom = apperr.New(apperr.RuleViolation, "amount-effective-date-invalid",
		"a new amount applies from a day on or after the agreement's start and before its end")
	ErrNoApprovedPlan = apperr.New(apperr.RuleViolation, "budget-has-no-approved-plan", "the agreement's budget has no approved plan")
	ErrPlanTaken      = apperr.New(apperr.Conflict, "approved-plan-has-an-agreement",
		"the approved plan already has an agreement of this kind: end one of them instead")
	ErrThrough = apperr.Validation(apperr.FieldError{Field: "through", In: "query", Code: "out_of_range",
		Message: "through is at most two years after today"})
)
