// Package accounts wires direct-payment accounts (DOMAIN.md section 11, "DP accounts"; the rules
// are in internal/account) to the database: one account per direct-payment agreement (opened by
// the database when the agreement is made), its append-only ledger and balance, statement imports
// (all or nothing, each line once by its identity, each spend line matched to a plan line or
// flagged; files over BackgroundBytes are imported by a background job with progress), flags
// resolved by an auditor or practitioner, and evidence items.
//
// Council payments enter the ledger when a payment run is marked paid, and leave it again when
// the bank returns them: the payment store posts them in the run's transaction (see
// payment.Store.PostLedgers).
package accounts

import (
	"context"
	"encoding/json"
	"errors"
	"io"
	"strings"
	"time"

	"github.com/google/uuid"

	"github.com/pbudget/pbudget/internal/access"
	"github.com/pbudget/pbudget/internal/account"
	"github.com/pbudget/pbudget/internal/actor"
	"github.com/pbudget/pbudget/internal/apperr"
	"github.com/pbudget/pbudget/internal/audit"
	"github.com/pbudget/pbudget/internal/date"
	"github.com/pbudget/pbudget/internal/page"
	"github.com/pbudget/pbudget/internal/txn"
)

// Limits of an upload.
const (
	MaxStatementBytes = 64 << 20 // 64 MiB
	BackgroundBytes   = 1 << 20  // larger files are imported in the background
	ChunkBytes        = 1 << 20  // a background upload is stored in chunks of this size
	BatchLines        = 5000     // statement lines written a statement
)

// Account is a direct-payment account.
type Account struct {
	CouncilID      uuid.UUID
	ID             uuid.UUID
	AgreementID    uuid.UUID
	PersonID       uuid.UUID
	PlanID         uuid.UUID
	AccountType    string
	PaymentBasis   string
	OpenedOn       date.Date
	OpeningBalance int64
	CreatedAt      time.Time
}

// Entry is a ledger entry as stored: Amount is signed (money in positive, out negative; a
// contribution_due memo positive), Effect is what it does to the balance (0 for a memo).
type Entry struct {
	CouncilID       uuid.UUID
	ID              uuid.UUID
	AccountID       uuid.UUID
	Date            date.Date
	Kind            account.Kind
	Amount          int64
	Effect          int64
	SourceKind      string
	SourceID        uuid.UUID
	PlanLineID      *uuid.UUID
	StatementLineID *uuid.UUID
	Reason          string
	Reference       string // a contribution paid to the council: the debtors system's reference
	CreatedBy       string
	CreatedAt       time.Time
}

// Cursor is an entry's page position: its date, then its id.
func (e Entry) Cursor() page.Cursor { return page.Cursor{Time: e.Date.Time(), ID: e.ID} }

// LedgerFilter narrows a ledger; zero fields do not filter.
type LedgerFilter struct {
	Kind     *account.Kind
	From, To *date.Date // inclusive
}

// BalanceAt is an account's balance at the end of a day.
type BalanceAt struct {
	AccountID uuid.UUID
	At        date.Date
	Balance   int64
	Opening   int64
	Entries   int
}

// Statement is an imported statement.
type Statement struct {
	CouncilID     uuid.UUID
	ID            uuid.UUID
	AccountID     uuid.UUID
	UploadID      *uuid.UUID
	Format        string
	FileSHA256    string
	From, To      *date.Date
	Lines         int
	NewLines      int
	ExistingLines int
	In, Out       int64
	FlaggedLines  int
	StatedClosing *int64
	LedgerClosing *int64
	ClosingAgrees *bool
	ClosingDetail *string
	ImportedBy    string
	ImportedAt    time.Time
}

// Cursor is a statement's page position.
func (s Statement) Cursor() page.Cursor { return page.Cursor{Time: s.ImportedAt, ID: s.ID} }

// Line is a stored statement line.
type Line struct {
	CouncilID        uuid.UUID
	ID               uuid.UUID
	AccountID        uuid.UUID
	StatementID      uuid.UUID
	Key              account.Key
	Number           int
	Occurrence       int
	Date             date.Date
	Description      string
	Amount           int64
	Balance          *int64
	Reference        string
	MerchantCategory *string
	Kind             account.Kind
	Posted           bool
	PlanLineID       *uuid.UUID
	By               *account.By
	Flag             *account.Flag
	Reason           string
}

// Cursor is a line's page position within its statement: its line number.
func (l Line) Cursor() page.Cursor {
	return page.Cursor{Time: time.UnixMicro(int64(l.Number)).UTC(), ID: l.ID}
}

// Resolution is how a flag was resolved.
type Resolution string

// The resolutions of a flag.
const (
	Accepted       Resolution = "accepted"
	Misspend       Resolution = "misspend"
	EvidencedLater Resolution = "evidenced_later"
)

// Flag is a statement line that needs an auditor.
type Flag struct {
	CouncilID       uuid.UUID
	ID              uuid.UUID
	AccountID       uuid.UUID
	StatementLineID uuid.UUID
	Flag            account.Flag
	Reason          string
	LineDate        date.Date
	Amount          int64
	Resolution      *Resolution
	Note            *string
	ResolvedBy      *string
	ResolvedAt      *time.Time
	CreatedAt       time.Time
	Version         int
}

// Cursor is a flag's page position: its line's date.
func (f Flag) Cursor() page.Cursor { return page.Cursor{Time: f.LineDate.Time(), ID: f.ID} }

// EvidenceKind is what a piece of evidence is.
type EvidenceKind string

// The kinds of evidence.
var EvidenceKinds = []EvidenceKind{"receipt", "invoice", "timesheet", "payroll_record", "insurance_certificate", "dbs_check"}

// Evidence is an evidence item: a document kept elsewhere, by reference and checksum.
type Evidence struct {
	CouncilID       uuid.UUID
	ID              uuid.UUID
	AccountID       uuid.UUID
	StatementLineID *uuid.UUID
	AuditID         *uuid.UUID
	// PersonalAssistantID is the personal assistant the item concerns (insurance, payroll, DBS),
	// a person named on a direct-payment line of the account's plan.
	PersonalAssistantID *uuid.UUID
	Kind                EvidenceKind
	Reference           string
	SHA256              string
	DocumentDate        date.Date
	ValidUntil          *date.Date
	ReceivedOn          date.Date
	Note                string
	RecordedBy          string
	RecordedAt          time.Time
}

// Cursor is an evidence item's page position.
func (e Evidence) Cursor() page.Cursor { return page.Cursor{Time: e.RecordedAt, ID: e.ID} }

// UploadStatus is the state of a background import.
type UploadStatus string

// The states of a background import.
const (
	Queued   UploadStatus = "queued"
	Running  UploadStatus = "running"
	Imported UploadStatus = "imported"
	Failed   UploadStatus = "failed"
)

// Upload is a statement file imported in the background.
type Upload struct {
	CouncilID      uuid.UUID
	ID             uuid.UUID
	AccountID      uuid.UUID
	Format         string
	Mapping        account.Mapping
	FileSHA256     string
	Size           int64
	Status         UploadStatus
	BytesProcessed int64
	LinesProcessed int
	StatementID    *uuid.UUID
	Problem        *Problem
	CreatedBy      string
	CreatedAt      time.Time
	UpdatedAt      time.Time
	CompletedAt    *time.Time
}

// Problem is why a background import failed, as the synchronous import would have said it.
type Problem struct {
	Code    string              `json:"code"`
	Message string              `json:"message"`
	Fields  []apperr.FieldError `json:"fields,omitempty"`
}

// MatchFacts are what matching an account's lines needs.
type MatchFacts struct {
	Lines []account.PlanLine
	Rules account.Rules
}

// NewLine is a statement line to store with its match.
type NewLine struct {
	ID    uuid.UUID
	Line  account.Line
	Match account.Match
}

// Store keeps accounts.
type Store interface {
	GetAccount(ctx context.Context, councilID, id uuid.UUID, forUpdate bool) (Account, error)
	AccountOfAgreement(ctx context.Context, councilID, agreementID uuid.UUID) (Account, error)
	Ledger(ctx context.Context, councilID, accountID uuid.UUID, f LedgerFilter, p page.Request) ([]Entry, error)
	// Balance is the opening balance plus SUM(balance effect) of the entries dated on or before at.
	Balance(ctx context.Context, councilID, accountID uuid.UUID, at date.Date) (BalanceAt, error)
	MatchFacts(ctx context.Context, a Account) (MatchFacts, error)

	// InsertEntry appends one ledger entry (its source unique in the account's ledger).
	InsertEntry(ctx context.Context, e Entry) error

	InsertStatement(ctx context.Context, s Statement) error
	UpdateStatement(ctx context.Context, s Statement) error
	// InsertLines stores lines not already held (by key), posts the ledger entries of the new
	// posted ones and raises their flags; it returns how many were new and how many flagged.
	InsertLines(ctx context.Context, st Statement, by string, at time.Time, lines []NewLine) (inserted, flagged int, err error)
	GetStatement(ctx context.Context, councilID, id uuid.UUID) (Statement, error)
	ListStatements(ctx context.Context, councilID, accountID uuid.UUID, p page.Request) ([]Statement, error)
	ListLines(ctx context.Context, councilID, statementID uuid.UUID, p page.Request) ([]Line, error)
	GetLine(ctx context.Context, councilID, id uuid.UUID) (Line, error)

	ListFlags(ctx context.Context, councilID, accountID uuid.UUID, openOnly bool, p page.Request) ([]Flag, error)
	GetFlag(ctx context.Context, councilID, id uuid.UUID, forUpdate bool) (Flag, error)
	ResolveFlag(ctx context.Context, f Flag) error

	InsertEvidence(ctx context.Context, e Evidence) error
	// IsPlanAssistant reports whether person is the personal assistant of a direct-payment line
	// of the account's plan.
	IsPlanAssistant(ctx context.Context, councilID, accountID, person uuid.UUID) (bool, error)
	ListEvidence(ctx context.Context, councilID, accountID uuid.UUID, lineID, auditID *uuid.UUID, p page.Request) ([]Evidence, error)

	InsertUpload(ctx context.Context, u Upload) error
	InsertChunk(ctx context.Context, councilID, uploadID uuid.UUID, seq int, data []byte) error
	// Chunk reads chunk seq of an upload; io.EOF after the last.
	Chunk(ctx context.Context, councilID, uploadID uuid.UUID, seq int) ([]byte, error)
	GetUpload(ctx context.Context, councilID, id uuid.UUID, forUpdate bool) (Upload, error)
	// UpdateUpload writes an upload's state; Progress writes its progress outside the caller's
	// transaction, so that a poll sees it while the import runs.
	UpdateUpload(ctx context.Context, u Upload) error
	Progress(ctx context.Context, councilID, id uuid.UUID, status UploadStatus, bytes int64, lines int, at time.Time) error
	DeleteChunks(ctx context.Context, councilID, uploadID uuid.UUID) error
}

// Enqueuer inserts the background import job in the caller's transaction.
type Enqueuer interface {
	EnqueueStatementImport(ctx context.Context, councilID, uploadID uuid.UUID) error
}

// Service is the accounts use cases.
type Service struct {
	store Store
	queue Enqueuer
	audit audit.Recorder
	tx    txn.Transactor
	now   func() time.Time
}

// NewService returns a Service.
func NewService(store Store, queue Enqueuer, rec audit.Recorder, tx txn.Transactor, now func() time.Time) *Service {
	return &Service{store: store, queue: queue, audit: rec, tx: tx, now: now}
}

// Today is the service's today.
func (s *Service) Today() date.Date { return date.Today(s.now()) }

func (s *Service) timestamp() time.Time { return s.now().UTC().Truncate(time.Microsecond) }

// Errors of accounts.
var (
	ErrStatementInvalid = apperr.New(apperr.RuleViolation, "statement-invalid",
		"the statement has bad lines and nothing was imported")
	ErrFlagResolved = apperr.New(apperr.Conflict, "statement-flag-resolved",
		"the flag is already resolved")
	ErrEvidenceTarget = apperr.New(apperr.RuleViolation, "evidence-target",
		"evidence is recorded against a statement line of this account or an audit")
	ErrEvidenceAssistant = apperr.New(apperr.RuleViolation, "evidence-personal-assistant",
		"evidence of a personal assistant names a personal assistant of a direct-payment line of this account's plan")
	ErrContributionPaymentNotGross = apperr.New(apperr.RuleViolation, "contribution-payment-not-gross",
		"a contribution paid to the council is recorded only for a gross direct payment's account: a net payment's person pays into the account and the statement import records it")
	ErrContributionPaymentReferenceTaken = apperr.New(apperr.Conflict, "contribution-payment-reference-taken",
		"a contribution paid to the council with this reference is already recorded on the account")
	ErrNoIdempotencyKey = apperr.Validation(apperr.FieldError{Field: "Idempotency-Key", In: "header", Code: "required",
		Message: "a statement import moves money into the ledger: send an Idempotency-Key"})
)

// account reads an account for a read of its records, noting its person for the access record.
func (s *Service) account(ctx context.Context, a actor.Actor, id uuid.UUID) (Account, error) {
	acct, err := s.store.GetAccount(ctx, a.CouncilID, id, false)
	if err == nil {
		access.NoteSubject(ctx, acct.PersonID)
	}
	return acct, err
}

// GetAccount returns an account.
func (s *Service) GetAccount(ctx context.Context, a actor.Actor, id uuid.UUID) (Account, BalanceAt, error) {
	acct, err := s.store.GetAccount(ctx, a.CouncilID, id, false)
	if err != nil {
		return Account{}, BalanceAt{}, err
	}
	b, err := s.store.Balance(ctx, a.CouncilID, id, s.Today())
	return acct, b, err
}

// AccountOfAgreement returns the account of a direct-payment agreement.
func (s *Service) AccountOfAgreement(ctx context.Context, a actor.Actor, agreementID uuid.UUID) (Account, BalanceAt, error) {
	acct, err := s.store.AccountOfAgreement(ctx, a.CouncilID, agreementID)
	if err != nil {
		return Account{}, BalanceAt{}, err
	}
	b, err := s.store.Balance(ctx, a.CouncilID, acct.ID, s.Today())
	return acct, b, err
}

// Ledger returns a page of an account's entries, oldest first.
func (s *Service) Ledger(ctx context.Context, a actor.Actor, id uuid.UUID, f LedgerFilter, p page.Request) ([]Entry, error) {
	if f.Kind != nil && !f.Kind.Valid() {
		return nil, apperr.Validation(apperr.FieldError{Field: "kind", In: "query", Code: "enum", Message: "kind is not a ledger entry kind"})
	}
	if f.From != nil && f.To != nil && f.To.Before(*f.From) {
		return nil, apperr.Validation(apperr.FieldError{Field: "to", In: "query", Code: "period", Message: "to is on or after from"})
	}
	if _, err := s.account(ctx, a, id); err != nil {
		return nil, err
	}
	return s.store.Ledger(ctx, a.CouncilID, id, f, p)
}

// Balance returns an account's balance at the end of at (default today).
func (s *Service) Balance(ctx context.Context, a actor.Actor, id uuid.UUID, at *date.Date) (BalanceAt, error) {
	if _, err := s.account(ctx, a, id); err != nil {
		return BalanceAt{}, err
	}
	day := s.Today()
	if at != nil {
		day = *at
	}
	return s.store.Balance(ctx, a.CouncilID, id, day)
}

// File is an uploaded statement file, already on disk (or in memory): its bytes, size and SHA-256.
type File struct {
	Body   io.Reader
	Size   int64
	SHA256 string
}

// ImportInput says how to read a statement.
type ImportInput struct {
	Format  string // bank, card or mapped
	Mapping account.Mapping
	File    File
}

// MappingFor resolves a format name and a custom mapping.
func MappingFor(format string, custom *account.Mapping) (account.Mapping, error) {
	switch format {
	case "bank", "card":
		m, _ := account.MappingOf(account.Format(format))
		return m, nil
	case "mapped":
		if custom == nil {
			return account.Mapping{}, apperr.Validation(apperr.FieldError{Field: "date_column", In: "query", Code: "required",
				Message: "format=mapped names its columns: date_column, description_column and amount_column (or paid_in_column and paid_out_column)"})
		}
		return *custom, nil
	}
	return account.Mapping{}, apperr.Validation(apperr.FieldError{Field: "format", In: "query", Code: "enum", Message: "format is bank, card or mapped"})
}

// Import imports a statement: at most BackgroundBytes at once (the statement), larger files in
// the background (the upload, queued in the caller's transaction).
func (s *Service) Import(ctx context.Context, a actor.Actor, accountID uuid.UUID, in ImportInput) (*Statement, *Upload, error) {
	if in.File.Size <= BackgroundBytes {
		var st Statement
		err := s.tx.WithinTx(ctx, func(ctx context.Context) error {
			acct, err := s.store.GetAccount(ctx, a.CouncilID, accountID, true)
			if err != nil {
				return err
			}
			st, err = s.importFile(ctx, a, acct, in, nil, nil)
			return err
		})
		if err != nil {
			return nil, nil, err
		}
		return &st, nil, nil
	}
	// Check the mapping now: a background job that could only fail on it helps nobody.
	if err := account.ValidateMapping(in.Mapping); err != nil {
		return nil, nil, err
	}
	now := s.timestamp()
	u := Upload{CouncilID: a.CouncilID, ID: uuid.Must(uuid.NewV7()), AccountID: accountID, Format: in.Format, Mapping: in.Mapping,
		FileSHA256: in.File.SHA256, Size: in.File.Size, Status: Queued, CreatedBy: a.Subject, CreatedAt: now, UpdatedAt: now}
	err := s.tx.WithinTx(ctx, func(ctx context.Context) error {
		if _, err := s.store.GetAccount(ctx, a.CouncilID, accountID, false); err != nil {
			return err
		}
		if err := s.store.InsertUpload(ctx, u); err != nil {
			return err
		}
		buf := make([]byte, ChunkBytes)
		for seq := 0; ; seq++ {
			n, err := io.ReadFull(in.File.Body, buf)
			if n > 0 {
				if err := s.store.InsertChunk(ctx, a.CouncilID, u.ID, seq, buf[:n]); err != nil {
					return err
				}
			}
			if errors.Is(err, io.EOF) || errors.Is(err, io.ErrUnexpectedEOF) {
				break
			}
			if err != nil {
				return err
			}
		}
		if err := s.audit.Record(ctx, a, audit.Event{Action: "statement_upload.queued", EntityType: "statement_upload", EntityID: u.ID,
			Details: map[string]any{"account_id": accountID.String(), "format": in.Format, "size_bytes": in.File.Size, "sha256": in.File.SHA256}}); err != nil {
			return err
		}
		return s.queue.EnqueueStatementImport(ctx, a.CouncilID, u.ID)
	})
	if err != nil {
		return nil, nil, err
	}
	return nil, &u, nil
}

// GetUpload returns a background import of the account.
func (s *Service) GetUpload(ctx context.Context, a actor.Actor, accountID, id uuid.UUID) (Upload, error) {
	u, err := s.store.GetUpload(ctx, a.CouncilID, id, false)
	if err != nil {
		return Upload{}, err
	}
	if u.AccountID != accountID {
		return Upload{}, apperr.ErrNotFound
	}
	return u, nil
}

// RunUpload imports a queued upload (the statement_import job). A file with bad lines fails the
// upload with the problem the synchronous import would have given; the job then succeeds.
func (s *Service) RunUpload(ctx context.Context, councilID, uploadID uuid.UUID) error {
	u, err := s.store.GetUpload(ctx, councilID, uploadID, false)
	if err != nil {
		return err
	}
	if u.Status == Imported || u.Status == Failed {
		return nil
	}
	a := actor.Actor{CouncilID: councilID, Subject: u.CreatedBy}
	if err := s.store.Progress(ctx, councilID, uploadID, Running, 0, 0, s.timestamp()); err != nil {
		return err
	}
	var st Statement
	err = s.tx.WithinTx(ctx, func(ctx context.Context) error {
		acct, err := s.store.GetAccount(ctx, councilID, u.AccountID, true)
		if err != nil {
			return err
		}
		// Not locked: Progress updates the row from outside this transaction while it runs (the
		// account's lock and the job's uniqueness keep the import to one at a time).
		locked, err := s.store.GetUpload(ctx, councilID, uploadID, false)
		if err != nil {
			return err
		}
		if locked.Status == Imported || locked.Status == Failed {
			return nil
		}
		r := &chunkReader{ctx: ctx, store: s.store, councilID: councilID, uploadID: uploadID}
		progress := func(lines int) {
			// Progress is best effort: a failure to show it must not fail the import.
			_ = s.store.Progress(ctx, councilID, uploadID, Running, r.read, lines, s.timestamp())
		}
		st, err = s.importFile(ctx, a, acct, ImportInput{Format: u.Format, Mapping: u.Mapping,
			File: File{Body: r, Size: u.Size, SHA256: u.FileSHA256}}, &uploadID, progress)
		if err != nil {
			return err
		}
		now := s.timestamp()
		locked.Status, locked.StatementID, locked.BytesProcessed, locked.LinesProcessed = Imported, &st.ID, u.Size, st.Lines
		locked.UpdatedAt, locked.CompletedAt = now, &now
		if err := s.store.UpdateUpload(ctx, locked); err != nil {
			return err
		}
		return s.store.DeleteChunks(ctx, councilID, uploadID)
	})
	var ae *apperr.Error
	if err == nil || !errors.As(err, &ae) || (ae.Kind != apperr.RuleViolation && ae.Kind != apperr.Invalid) {
		return err
	}
	// The file was refused: record why, and keep nothing of it.
	return s.tx.WithinTx(ctx, func(ctx context.Context) error {
		locked, err := s.store.GetUpload(ctx, councilID, uploadID, true)
		if err != nil {
			return err
		}
		now := s.timestamp()
		locked.Status, locked.Problem, locked.UpdatedAt, locked.CompletedAt = Failed, &Problem{Code: ae.Code, Message: ae.Message, Fields: ae.Fields}, now, &now
		if err := s.store.UpdateUpload(ctx, locked); err != nil {
			return err
		}
		if err := s.store.DeleteChunks(ctx, councilID, uploadID); err != nil {
			return err
		}
		return s.audit.Record(ctx, a, audit.Event{Action: "statement_upload.failed", EntityType: "statement_upload", EntityID: uploadID,
			Reason: ae.Message, Details: map[string]any{"account_id": u.AccountID.String(), "bad_lines_listed": len(ae.Fields)}})
	})
}

// chunkReader reads an upload's chunks in order, one at a time.
type chunkReader struct {
	ctx       context.Context
	store     Store
	councilID uuid.UUID
	uploadID  uuid.UUID
	seq       int
	buf       []byte
	read      int64
	done      bool
}

func (r *chunkReader) Read(p []byte) (int, error) {
	for len(r.buf) == 0 {
		if r.done {
			return 0, io.EOF
		}
		b, err := r.store.Chunk(r.ctx, r.councilID, r.uploadID, r.seq)
		if errors.Is(err, io.EOF) {
			r.done = true
			continue
		}
		if err != nil {
			return 0, err
		}
		r.buf, r.seq = b, r.seq+1
	}
	n := copy(p, r.buf)
	r.buf = r.buf[n:]
	r.read += int64(n)
	return n, nil
}

// importFile parses and stores a statement in the caller's transaction, the account locked.
func (s *Service) importFile(ctx context.Context, a actor.Actor, acct Account, in ImportInput, uploadID *uuid.UUID, progress func(int)) (Statement, error) {
	facts, err := s.store.MatchFacts(ctx, acct)
	if err != nil {
		return Statement{}, err
	}
	matcher, err := account.NewMatcher(facts.Lines, facts.Rules)
	if err != nil {
		return Statement{}, err
	}
	now := s.timestamp()
	st := Statement{CouncilID: a.CouncilID, ID: uuid.Must(uuid.NewV7()), AccountID: acct.ID, UploadID: uploadID, Format: in.Format,
		FileSHA256: in.File.SHA256, ImportedBy: a.Subject, ImportedAt: now}
	if err := s.store.InsertStatement(ctx, st); err != nil {
		return Statement{}, err
	}
	batch := make([]NewLine, 0, BatchLines)
	flush := func() error {
		if len(batch) == 0 {
			return nil
		}
		n, f, err := s.store.InsertLines(ctx, st, a.Subject, now, batch)
		if err != nil {
			return err
		}
		st.NewLines += n
		st.FlaggedLines += f
		st.ExistingLines += len(batch) - n
		batch = batch[:0]
		if progress != nil {
			progress(st.NewLines + st.ExistingLines)
		}
		return nil
	}
	sum, err := account.Parse(in.File.Body, acct.ID, in.Mapping, func(l account.Line) error {
		batch = append(batch, NewLine{ID: uuid.Must(uuid.NewV7()), Line: l, Match: matcher.Match(l)})
		if len(batch) == BatchLines {
			return flush()
		}
		return nil
	})
	if errors.Is(err, account.ErrInvalidStatement) {
		var ae *apperr.Error
		errors.As(err, &ae)
		e := ErrStatementInvalid.WithMessage("%s", ae.Message)
		e.Fields = ae.Fields
		return Statement{}, e
	}
	if err != nil {
		return Statement{}, err
	}
	if err := flush(); err != nil {
		return Statement{}, err
	}
	st.Lines, st.In, st.Out = sum.Lines, sum.In, sum.Out
	if sum.Lines > 0 {
		st.From, st.To = &sum.From, &sum.To
	}
	details := map[string]any{"account_id": acct.ID.String(), "format": in.Format, "sha256": in.File.SHA256, "lines": st.Lines,
		"new_lines": st.NewLines, "existing_lines": st.ExistingLines, "flagged_lines": st.FlaggedLines, "in_pence": st.In, "out_pence": st.Out}
	if sum.Closing != nil && sum.Lines > 0 {
		b, err := s.store.Balance(ctx, a.CouncilID, acct.ID, sum.To)
		if err != nil {
			return Statement{}, err
		}
		c := account.CheckClosing(sum.To, *sum.Closing, b.Balance)
		st.StatedClosing, st.LedgerClosing, st.ClosingAgrees, st.ClosingDetail = &c.Stated, &c.Ledger, &c.Agrees, &c.Detail
		details["stated_closing_pence"], details["ledger_closing_pence"], details["closing_agrees"] = c.Stated, c.Ledger, c.Agrees
	}
	if err := s.store.UpdateStatement(ctx, st); err != nil {
		return Statement{}, err
	}
	if err := s.audit.Record(ctx, a, audit.Event{Action: "statement.imported", EntityType: "statement", EntityID: st.ID, Details: details}); err != nil {
		return Statement{}, err
	}
	return st, nil
}

// ListStatements returns a page of an account's statements.
func (s *Service) ListStatements(ctx context.Context, a actor.Actor, accountID uuid.UUID, p page.Request) ([]Statement, error) {
	if _, err := s.account(ctx, a, accountID); err != nil {
		return nil, err
	}
	return s.store.ListStatements(ctx, a.CouncilID, accountID, p)
}

// GetStatement returns a statement of the account.
func (s *Service) GetStatement(ctx context.Context, a actor.Actor, accountID, id uuid.UUID) (Statement, error) {
	if _, err := s.account(ctx, a, accountID); err != nil {
		return Statement{}, err
	}
	st, err := s.store.GetStatement(ctx, a.CouncilID, id)
	if err != nil {
		return Statement{}, err
	}
	if st.AccountID != accountID {
		return Statement{}, apperr.ErrNotFound
	}
	return st, nil
}

// ListLines returns a page of the lines a statement added, in file order.
func (s *Service) ListLines(ctx context.Context, a actor.Actor, accountID, statementID uuid.UUID, p page.Request) ([]Line, error) {
	if _, err := s.GetStatement(ctx, a, accountID, statementID); err != nil {
		return nil, err
	}
	return s.store.ListLines(ctx, a.CouncilID, statementID, p)
}

// ListFlags returns a page of an account's flags (only the open ones when openOnly).
func (s *Service) ListFlags(ctx context.Context, a actor.Actor, accountID uuid.UUID, openOnly bool, p page.Request) ([]Flag, error) {
	if _, err := s.account(ctx, a, accountID); err != nil {
		return nil, err
	}
	return s.store.ListFlags(ctx, a.CouncilID, accountID, openOnly, p)
}

// ResolveFlag resolves a flag with a note; it is resolved once.
func (s *Service) ResolveFlag(ctx context.Context, a actor.Actor, accountID, flagID uuid.UUID, res Resolution, note string) (Flag, error) {
	note = strings.TrimSpace(note)
	var fields apperr.Fields
	if res != Accepted && res != Misspend && res != EvidencedLater {
		fields.Add("/resolution", "enum", "resolution is accepted, misspend or evidenced_later")
	}
	if note == "" {
		fields.Add("/note", "required", "a resolution says why, in a note")
	}
	if err := fields.Err(); err != nil {
		return Flag{}, err
	}
	var out Flag
	err := s.tx.WithinTx(ctx, func(ctx context.Context) error {
		f, err := s.store.GetFlag(ctx, a.CouncilID, flagID, true)
		if err != nil {
			return err
		}
		if f.AccountID != accountID {
			return apperr.ErrNotFound
		}
		if f.Resolution != nil {
			return ErrFlagResolved
		}
		now := s.timestamp()
		f.Resolution, f.Note, f.ResolvedBy, f.ResolvedAt, f.Version = &res, &note, &a.Subject, &now, f.Version+1
		if err := s.store.ResolveFlag(ctx, f); err != nil {
			return err
		}
		out = f
		return s.audit.Record(ctx, a, audit.Event{Action: "statement_flag.resolved", EntityType: "statement_flag", EntityID: f.ID,
			ChangedFields: []string{"resolution", "note"}, Reason: note,
			Details: map[string]any{"account_id": accountID.String(), "statement_line_id": f.StatementLineID.String(), "flag": string(f.Flag),
				"resolution": string(res), "amount_pence": f.Amount, "line_date": f.LineDate.String()}})
	})
	return out, err
}

// ContributionPaymentInput is a gross payment's contribution invoice paid to the council.
type ContributionPaymentInput struct {
	Amount     int64
	ReceivedOn date.Date
	Reference  string
	Note       string
}

// The source of a contribution paid to the council on the ledger.
const ContributionPaymentSource = "contribution_payment"

// RecordContributionPaidToCouncil records that the person paid a gross direct payment's
// contribution invoice to the council's debtors system, outside the account: a
// contribution_paid_to_council memo on the account's ledger (no effect on the balance), which
// the audit counts against the contributions due. Each call is one payment (its own source);
// the Idempotency-Key makes a retry record nothing more.
func (s *Service) RecordContributionPaidToCouncil(ctx context.Context, a actor.Actor, accountID uuid.UUID, in ContributionPaymentInput) (Entry, error) {
	var fields apperr.Fields
	if in.Amount <= 0 || in.Amount > account.MaxAmount {
		fields.Add("/amount_pence", "out_of_range", "amount_pence is more than zero and at most £1bn")
	}
	today := s.Today()
	if in.ReceivedOn.After(today) {
		fields.Add("/received_on", "in_future", "a payment is recorded once received: received_on is not after today")
	}
	in.Reference, in.Note = strings.TrimSpace(in.Reference), strings.TrimSpace(in.Note)
	if in.Reference == "" || len([]rune(in.Reference)) > 100 {
		fields.Add("/reference", "required", "the debtors system's reference of the payment (1 to 100 characters)")
	}
	if len([]rune(in.Note)) > 1000 {
		fields.Add("/note", "too_long", "a note is at most 1000 characters")
	}
	if err := fields.Err(); err != nil {
		return Entry{}, err
	}
	var out Entry
	err := s.tx.WithinTx(ctx, func(ctx context.Context) error {
		acct, err := s.store.GetAccount(ctx, a.CouncilID, accountID, true)
		if err != nil {
			return err
		}
		if acct.PaymentBasis != "gross" {
			return ErrContributionPaymentNotGross.WithMessage("this account's direct payment is %s: the person pays their contribution into the account", acct.PaymentBasis)
		}
		if in.ReceivedOn.Before(acct.OpenedOn) {
			return apperr.Validation(apperr.FieldError{Field: "/received_on", In: "body", Code: "before_opening",
				Message: "received_on is on or after the day the account opened (" + acct.OpenedOn.String() + ")"})
		}
		reason := "contribution invoice paid to the council"
		if in.Note != "" {
			reason += ": " + in.Note
		}
		e := Entry{CouncilID: a.CouncilID, ID: uuid.Must(uuid.NewV7()), AccountID: accountID, Date: in.ReceivedOn,
			Kind: account.ContributionPaidToCouncil, Amount: in.Amount, Effect: 0, SourceKind: ContributionPaymentSource,
			Reason: reason, Reference: in.Reference, CreatedBy: a.Subject, CreatedAt: s.timestamp()}
		e.SourceID = e.ID
		if err := s.store.InsertEntry(ctx, e); err != nil {
			return err
		}
		out = e
		return s.audit.Record(ctx, a, audit.Event{Action: "ledger_entry.contribution_paid_to_council", EntityType: "ledger_entry", EntityID: e.ID,
			ChangedFields: []string{"kind", "amount_pence", "entry_date", "reference"}, Reason: reason,
			Details: map[string]any{"account_id": accountID.String(), "agreement_id": acct.AgreementID.String(), "payment_basis": acct.PaymentBasis,
				"amount_pence": e.Amount, "received_on": e.Date.String(), "reference": e.Reference, "balance_effect_pence": int64(0),
				"source_kind": e.SourceKind, "source_id": e.SourceID.String()}})
	})
	return out, err
}

// EvidenceInput is an evidence item to record.
type EvidenceInput struct {
	StatementLineID     *uuid.UUID
	AuditID             *uuid.UUID
	PersonalAssistantID *uuid.UUID
	Kind                EvidenceKind
	Reference           string
	SHA256              string
	DocumentDate        date.Date
	ValidUntil          *date.Date
	ReceivedOn          *date.Date
	Note                string
}

// AddEvidence records an evidence item against one of the account's statement lines or an audit.
func (s *Service) AddEvidence(ctx context.Context, a actor.Actor, accountID uuid.UUID, in EvidenceInput) (Evidence, error) {
	var fields apperr.Fields
	known := false
	for _, k := range EvidenceKinds {
		known = known || k == in.Kind
	}
	if !known {
		fields.Add("/kind", "enum", "kind is receipt, invoice, timesheet, payroll_record, insurance_certificate or dbs_check")
	}
	in.Reference, in.Note = strings.TrimSpace(in.Reference), strings.TrimSpace(in.Note)
	if in.Reference == "" {
		fields.Add("/reference", "required", "say where the document is kept")
	}
	in.SHA256 = strings.ToLower(in.SHA256)
	if len(in.SHA256) != 64 || strings.Trim(in.SHA256, "0123456789abcdef") != "" {
		fields.Add("/sha256", "checksum", "sha256 is the document's SHA-256 in 64 hexadecimal digits")
	}
	today := s.Today()
	received := today
	if in.ReceivedOn != nil {
		received = *in.ReceivedOn
	}
	if received.After(today) {
		fields.Add("/received_on", "in_future", "evidence is recorded once received: received_on is not after today")
	}
	if in.DocumentDate.After(received) {
		fields.Add("/document_date", "after_received", "a document is dated on or before the day it was received")
	}
	if in.ValidUntil != nil && in.ValidUntil.Before(in.DocumentDate) {
		fields.Add("/valid_until", "before_document", "valid_until is on or after the document's date")
	}
	if in.StatementLineID == nil && in.AuditID == nil {
		fields.Add("/statement_line_id", "required", "evidence is recorded against a statement line (statement_line_id) or an audit (audit_id)")
	}
	if err := fields.Err(); err != nil {
		return Evidence{}, err
	}
	e := Evidence{CouncilID: a.CouncilID, ID: uuid.Must(uuid.NewV7()), AccountID: accountID, StatementLineID: in.StatementLineID,
		AuditID: in.AuditID, PersonalAssistantID: in.PersonalAssistantID, Kind: in.Kind, Reference: in.Reference, SHA256: in.SHA256, DocumentDate: in.DocumentDate,
		ValidUntil: in.ValidUntil, ReceivedOn: received, Note: in.Note, RecordedBy: a.Subject, RecordedAt: s.timestamp()}
	err := s.tx.WithinTx(ctx, func(ctx context.Context) error {
		if _, err := s.store.GetAccount(ctx, a.CouncilID, accountID, false); err != nil {
			return err
		}
		if in.StatementLineID != nil {
			l, err := s.store.GetLine(ctx, a.CouncilID, *in.StatementLineID)
			if apperr.KindOf(err) == apperr.NotFound || (err == nil && l.AccountID != accountID) {
				return ErrEvidenceTarget.WithMessage("statement_line_id names no statement line of this account")
			}
			if err != nil {
				return err
			}
		}
		if in.PersonalAssistantID != nil {
			ok, err := s.store.IsPlanAssistant(ctx, a.CouncilID, accountID, *in.PersonalAssistantID)
			if err != nil {
				return err
			}
			if !ok {
				return ErrEvidenceAssistant.WithMessage("personal_assistant_id names no personal assistant of a direct-payment line of this account's plan")
			}
		}
		if err := s.store.InsertEvidence(ctx, e); err != nil {
			return err
		}
		d := map[string]any{"account_id": accountID.String(), "kind": string(e.Kind), "sha256": e.SHA256,
			"document_date": e.DocumentDate.String(), "received_on": e.ReceivedOn.String()}
		if e.StatementLineID != nil {
			d["statement_line_id"] = e.StatementLineID.String()
		}
		if e.AuditID != nil {
			d["audit_id"] = e.AuditID.String()
		}
		if e.PersonalAssistantID != nil {
			d["personal_assistant_id"] = e.PersonalAssistantID.String()
		}
		return s.audit.Record(ctx, a, audit.Event{Action: "evidence_item.recorded", EntityType: "evidence_item", EntityID: e.ID,
			ChangedFields: []string{"kind", "reference", "sha256", "document_date", "valid_until", "received_on", "note"}, Details: d})
	})
	return e, err
}

// ListEvidence returns a page of an account's evidence items, optionally of one line or audit.
func (s *Service) ListEvidence(ctx context.Context, a actor.Actor, accountID uuid.UUID, lineID, auditID *uuid.UUID, p page.Request) ([]Evidence, error) {
	if _, err := s.account(ctx, a, accountID); err != nil {
		return nil, err
	}
	return s.store.ListEvidence(ctx, a.CouncilID, accountID, lineID, auditID, p)
}

// MarshalMapping is a mapping as stored.
func MarshalMapping(m account.Mapping) []byte { b, _ := json.Marshal(m); return b }
