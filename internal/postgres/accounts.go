package postgres

import (
	"context"
	"encoding/hex"
	"encoding/json"
	"errors"
	"io"
	"strings"
	"time"

	"github.com/google/uuid"
	"github.com/jackc/pgx/v5/pgtype"
	"gorm.io/gorm"

	"github.com/pbudget/pbudget/internal/account"
	"github.com/pbudget/pbudget/internal/accounts"
	"github.com/pbudget/pbudget/internal/apperr"
	"github.com/pbudget/pbudget/internal/date"
	"github.com/pbudget/pbudget/internal/page"
)

// AccountStore implements accounts.Store.
type AccountStore struct{ db *DB }

// NewAccountStore returns an AccountStore.
func NewAccountStore(db *DB) *AccountStore { return &AccountStore{db: db} }

var _ accounts.Store = (*AccountStore)(nil)

type accountRow struct {
	CouncilID           uuid.UUID
	ID                  uuid.UUID
	DpAgreementID       uuid.UUID
	PersonID            uuid.UUID
	PlanID              uuid.UUID
	AccountType         string
	PaymentBasis        string
	OpenedOn            date.Date
	OpeningBalancePence int64
	CreatedAt           time.Time
}

func (r accountRow) domain() accounts.Account {
	return accounts.Account{CouncilID: r.CouncilID, ID: r.ID, AgreementID: r.DpAgreementID, PersonID: r.PersonID, PlanID: r.PlanID,
		AccountType: r.AccountType, PaymentBasis: r.PaymentBasis, OpenedOn: r.OpenedOn, OpeningBalance: r.OpeningBalancePence,
		CreatedAt: r.CreatedAt.UTC()}
}

const accountSelect = `SELECT a.council_id, a.id, a.dp_agreement_id, a.person_id, g.plan_id, a.account_type, a.payment_basis,
	a.opened_on, a.opening_balance_pence, a.created_at
	FROM direct_payment_accounts a JOIN direct_payment_agreements g ON g.council_id = a.council_id AND g.id = a.dp_agreement_id `

func (s *AccountStore) oneAccount(ctx context.Context, where string, args ...any) (accounts.Account, error) {
	var rows []accountRow
	if err := s.db.conn(ctx).Raw(accountSelect+where, args...).Scan(&rows).Error; err != nil {
		return accounts.Account{}, translate(err, nil)
	}
	if len(rows) == 0 {
		return accounts.Account{}, apperr.ErrNotFound
	}
	return rows[0].domain(), nil
}

// GetAccount implements accounts.Store.
func (s *AccountStore) GetAccount(ctx context.Context, councilID, id uuid.UUID, forUpdate bool) (accounts.Account, error) {
	lock := ""
	if forUpdate {
		lock = " FOR UPDATE OF a"
	}
	return s.oneAccount(ctx, `WHERE a.council_id = ? AND a.id = ?`+lock, uuidArg(councilID), uuidArg(id))
}

// AccountOfAgreement implements accounts.Store.
func (s *AccountStore) AccountOfAgreement(ctx context.Context, councilID, agreementID uuid.UUID) (accounts.Account, error) {
	return s.oneAccount(ctx, `WHERE a.council_id = ? AND a.dp_agreement_id = ?`, uuidArg(councilID), uuidArg(agreementID))
}

type ledgerRow struct {
	CouncilID       uuid.UUID
	ID              uuid.UUID
	AccountID       uuid.UUID
	EntryDate       date.Date
	Kind            string
	AmountPence     int64
	BalancePence    int64
	SourceKind      string
	SourceID        uuid.UUID
	PlanLineID      *uuid.UUID
	StatementLineID *uuid.UUID
	Reason          string
	Reference       string
	CreatedBy       string
	CreatedAt       time.Time
}

func (r ledgerRow) domain() accounts.Entry {
	return accounts.Entry{CouncilID: r.CouncilID, ID: r.ID, AccountID: r.AccountID, Date: r.EntryDate, Kind: account.Kind(r.Kind),
		Amount: r.AmountPence, Effect: r.BalancePence, SourceKind: r.SourceKind, SourceID: r.SourceID, PlanLineID: r.PlanLineID,
		StatementLineID: r.StatementLineID, Reason: r.Reason, Reference: r.Reference, CreatedBy: r.CreatedBy, CreatedAt: r.CreatedAt.UTC()}
}

// InsertEntry implements accounts.Store. Its source is unique in the account's ledger (UNIQUE
// (council_id, account_id, source_kind, source_id)): a second insert of it is a conflict. Only
// a source-less entry (no plan or statement line) is inserted this way.
func (s *AccountStore) InsertEntry(ctx context.Context, e accounts.Entry) error {
	return translate(s.db.conn(ctx).Exec(`INSERT INTO ledger_entries (council_id, id, account_id, entry_date, kind, amount_pence, source_kind, source_id,
		reason, reference, created_by, created_at) SELECT ?::uuid, ?::uuid, ?::uuid, ?::date, ?, ?, ?, ?::uuid, ?, ?, ?, ?::timestamptz`,
		uuidArg(e.CouncilID), uuidArg(e.ID), uuidArg(e.AccountID), e.Date, string(e.Kind), e.Amount, e.SourceKind, uuidArg(e.SourceID),
		e.Reason, e.Reference, e.CreatedBy, e.CreatedAt).Error,
		map[string]error{"ledger_entries_paid_to_council_reference_key": accounts.ErrContributionPaymentReferenceTaken})
}

// Ledger implements accounts.Store: (council_id, account_id[, kind], entry_date, id) order, on the
// index of the same columns.
func (s *AccountStore) Ledger(ctx context.Context, councilID, accountID uuid.UUID, f accounts.LedgerFilter, p page.Request) ([]accounts.Entry, error) {
	q := s.db.conn(ctx).Table("ledger_entries").Where("council_id = ? AND account_id = ?", uuidArg(councilID), uuidArg(accountID))
	if f.Kind != nil {
		q = q.Where("kind = ?", string(*f.Kind))
	}
	if f.From != nil {
		q = q.Where("entry_date >= ?", *f.From)
	}
	if f.To != nil {
		q = q.Where("entry_date <= ?", *f.To)
	}
	if p.After != nil {
		q = q.Where("(entry_date, id) > (?, ?)", date.FromTime(p.After.Time), uuidArg(p.After.ID))
	}
	var rows []ledgerRow
	if err := q.Order("entry_date, id").Limit(p.Size + 1).Find(&rows).Error; err != nil {
		return nil, translate(err, nil)
	}
	out := make([]accounts.Entry, len(rows))
	for i, r := range rows {
		out[i] = r.domain()
	}
	return out, nil
}

// Balance implements accounts.Store: the sum is computed by the database (an index-only scan).
func (s *AccountStore) Balance(ctx context.Context, councilID, accountID uuid.UUID, at date.Date) (accounts.BalanceAt, error) {
	var r struct {
		Opening int64
		Sum     int64
		Entries int
	}
	err := s.db.conn(ctx).Raw(`SELECT a.opening_balance_pence AS opening,
			coalesce((SELECT sum(e.balance_pence) FROM ledger_entries e WHERE e.council_id = a.council_id AND e.account_id = a.id AND e.entry_date <= ?), 0)::bigint AS sum,
			(SELECT count(*) FROM ledger_entries e WHERE e.council_id = a.council_id AND e.account_id = a.id AND e.entry_date <= ?) AS entries
		FROM direct_payment_accounts a WHERE a.council_id = ? AND a.id = ?`, at, at, uuidArg(councilID), uuidArg(accountID)).Scan(&r).Error
	if err != nil {
		return accounts.BalanceAt{}, translate(err, nil)
	}
	return accounts.BalanceAt{AccountID: accountID, At: at, Opening: r.Opening, Balance: r.Opening + r.Sum, Entries: r.Entries}, nil
}

// MatchFacts implements accounts.Store: the direct-payment lines of the agreement's plan with
// their providers' and personal assistants' names, the council's merchant-category settings, and
// the reference the council's payments to this agreement carry.
func (s *AccountStore) MatchFacts(ctx context.Context, a accounts.Account) (accounts.MatchFacts, error) {
	q := s.db.conn(ctx)
	var lines []struct {
		ID       uuid.UUID
		Category string
		Provider *string
		PaGiven  *string
		PaFamily *string
		PaPref   *string
	}
	if err := q.Raw(`SELECT l.id, l.category, pr.name AS provider, pa.given_name AS pa_given, pa.family_name AS pa_family, pa.preferred_name AS pa_pref
		FROM plan_lines l
		LEFT JOIN providers pr ON pr.council_id = l.council_id AND pr.id = l.provider_id
		LEFT JOIN people pa ON pa.council_id = l.council_id AND pa.id = l.personal_assistant_id
		WHERE l.council_id = ? AND l.plan_id = ? AND l.management_option = 'direct_payment' ORDER BY l.position`,
		uuidArg(a.CouncilID), uuidArg(a.PlanID)).Scan(&lines).Error; err != nil {
		return accounts.MatchFacts{}, translate(err, nil)
	}
	var f accounts.MatchFacts
	for _, l := range lines {
		pl := account.PlanLine{ID: l.ID, Category: l.Category}
		if l.Provider != nil {
			pl.Providers = append(pl.Providers, *l.Provider)
		}
		if l.PaGiven != nil && l.PaFamily != nil {
			pl.PersonalAssistants = append(pl.PersonalAssistants, *l.PaGiven+" "+*l.PaFamily)
			if l.PaPref != nil {
				pl.PersonalAssistants = append(pl.PersonalAssistants, *l.PaPref+" "+*l.PaFamily)
			}
		}
		f.Lines = append(f.Lines, pl)
	}
	var st []struct {
		Excluded textArray `gorm:"column:excluded"`
		Map      []byte    `gorm:"column:map"`
	}
	if err := q.Raw(`SELECT excluded_merchant_categories AS excluded, merchant_category_map AS map FROM council_settings WHERE council_id = ?`,
		uuidArg(a.CouncilID)).Scan(&st).Error; err != nil {
		return accounts.MatchFacts{}, translate(err, nil)
	}
	if len(st) == 0 {
		f.Rules.ExcludedCategories = DefaultExcludedCategories
	} else {
		f.Rules.ExcludedCategories = []string(st[0].Excluded)
		if err := json.Unmarshal(st[0].Map, &f.Rules.CategoryOfMerchant); err != nil {
			return accounts.MatchFacts{}, apperr.ErrInternal.Wrap(err)
		}
	}
	// The council's payments carry the agreement's short reference (the BACS and card references
	// of internal/payment: the last ten hexadecimal digits of its id, upper case).
	h := strings.ToUpper(hex.EncodeToString(a.AgreementID[:]))
	f.Rules.CouncilReferences = []string{h[len(h)-10:]}
	return f, nil
}

// DefaultExcludedCategories are the merchant category codes excluded until a council sets its
// own: 7995 (betting, lottery, casino chips) and 7800-7802 (government lotteries, horse and dog
// racing).
var DefaultExcludedCategories = []string{"7995", "7800", "7801", "7802"}

type statementRow struct {
	CouncilID          uuid.UUID
	ID                 uuid.UUID
	AccountID          uuid.UUID
	UploadID           *uuid.UUID
	Format             string
	FileSha256         string `gorm:"column:file_sha256"`
	FromDate           *date.Date
	ToDate             *date.Date
	LineCount          int
	NewLines           int
	ExistingLines      int
	InPence            int64
	OutPence           int64
	FlaggedLines       int
	StatedClosingPence *int64
	LedgerClosingPence *int64
	ClosingAgrees      *bool
	ClosingDetail      *string
	ImportedBy         string
	ImportedAt         time.Time
}

func (statementRow) TableName() string { return "statements" }

func statementRowOf(s accounts.Statement) statementRow {
	return statementRow{CouncilID: s.CouncilID, ID: s.ID, AccountID: s.AccountID, UploadID: s.UploadID, Format: s.Format, FileSha256: s.FileSHA256,
		FromDate: s.From, ToDate: s.To, LineCount: s.Lines, NewLines: s.NewLines, ExistingLines: s.ExistingLines, InPence: s.In, OutPence: s.Out,
		FlaggedLines: s.FlaggedLines, StatedClosingPence: s.StatedClosing, LedgerClosingPence: s.LedgerClosing, ClosingAgrees: s.ClosingAgrees,
		ClosingDetail: s.ClosingDetail, ImportedBy: s.ImportedBy, ImportedAt: s.ImportedAt}
}

func (r statementRow) domain() accounts.Statement {
	return accounts.Statement{CouncilID: r.CouncilID, ID: r.ID, AccountID: r.AccountID, UploadID: r.UploadID, Format: r.Format, FileSHA256: r.FileSha256,
		From: r.FromDate, To: r.ToDate, Lines: r.LineCount, NewLines: r.NewLines, ExistingLines: r.ExistingLines, In: r.InPence, Out: r.OutPence,
		FlaggedLines: r.FlaggedLines, StatedClosing: r.StatedClosingPence, LedgerClosing: r.LedgerClosingPence, ClosingAgrees: r.ClosingAgrees,
		ClosingDetail: r.ClosingDetail, ImportedBy: r.ImportedBy, ImportedAt: r.ImportedAt.UTC()}
}

// InsertStatement implements accounts.Store.
func (s *AccountStore) InsertStatement(ctx context.Context, st accounts.Statement) error {
	row := statementRowOf(st)
	return translate(s.db.conn(ctx).Create(&row).Error, nil)
}

// UpdateStatement implements accounts.Store.
func (s *AccountStore) UpdateStatement(ctx context.Context, st accounts.Statement) error {
	row := statementRowOf(st)
	return translate(s.db.conn(ctx).Model(&statementRow{}).Where("council_id = ? AND id = ?", uuidArg(st.CouncilID), uuidArg(st.ID)).
		Select("*").Omit("council_id", "id").Updates(&row).Error, nil)
}

// GetStatement implements accounts.Store.
func (s *AccountStore) GetStatement(ctx context.Context, councilID, id uuid.UUID) (accounts.Statement, error) {
	r, err := takeOne[statementRow](s.db.conn(ctx), false, "council_id = ? AND id = ?", uuidArg(councilID), uuidArg(id))
	return r.domain(), err
}

// ListStatements implements accounts.Store.
func (s *AccountStore) ListStatements(ctx context.Context, councilID, accountID uuid.UUID, p page.Request) ([]accounts.Statement, error) {
	var rows []statementRow
	q := s.db.conn(ctx).Where("council_id = ? AND account_id = ?", uuidArg(councilID), uuidArg(accountID))
	if err := paginate(q, "imported_at", p).Find(&rows).Error; err != nil {
		return nil, translate(err, nil)
	}
	out := make([]accounts.Statement, len(rows))
	for i, r := range rows {
		out[i] = r.domain()
	}
	return out, nil
}

// insertLinesSQL stores a batch of lines in one statement: the lines not already held (ON
// CONFLICT on the line's identity), the ledger entries of the new posted ones, and the flags of
// the new flagged ones. A line's ledger entry and flag have the line's id (a version 7 UUID, in
// file order): their primary keys grow at the end, a flag is one a line by its key, and nothing
// joins back to the input (which the planner, blind to the CTEs' sizes, made a nested loop of).
// Each column travels as one array.
const insertLinesSQL = `WITH input AS (
	SELECT * FROM unnest(?::uuid[], ?::bytea[], ?::int[], ?::int[], ?::date[], ?::text[], ?::bigint[], ?::bigint[], ?::text[], ?::text[],
		?::text[], ?::boolean[], ?::uuid[], ?::text[], ?::text[], ?::text[])
	AS u(id, line_key, line_number, occurrence, line_date, description, amount_pence, balance_pence, reference, merchant_category,
		kind, posted, plan_line_id, matched_by, flag, match_reason)
), ins AS (
	INSERT INTO statement_lines (council_id, id, account_id, statement_id, line_key, line_number, occurrence, line_date, description,
		amount_pence, balance_pence, reference, merchant_category, kind, posted, plan_line_id, matched_by, flag, match_reason)
	SELECT ?::uuid, id, ?::uuid, ?::uuid, line_key, line_number, occurrence, line_date, description,
		amount_pence, balance_pence, reference, merchant_category, kind, posted, plan_line_id, matched_by, flag, match_reason
	FROM input
	ON CONFLICT (council_id, account_id, line_key) DO NOTHING
	RETURNING id, line_date, amount_pence, kind, posted, plan_line_id, flag, match_reason
), led AS (
	INSERT INTO ledger_entries (council_id, id, account_id, entry_date, kind, amount_pence, source_kind, source_id, plan_line_id,
		statement_line_id, reason, created_by, created_at)
	SELECT ?::uuid, id, ?::uuid, line_date, kind, amount_pence, 'statement_line', id, plan_line_id, id, match_reason, ?, ?::timestamptz
	FROM ins WHERE posted
	RETURNING 1
), fl AS (
	INSERT INTO statement_flags (council_id, id, account_id, statement_line_id, flag, reason, line_date, amount_pence, created_at)
	SELECT ?::uuid, id, ?::uuid, id, flag, match_reason, line_date, amount_pence, ?::timestamptz
	FROM ins WHERE flag IS NOT NULL
	RETURNING 1
)
SELECT (SELECT count(*) FROM ins) AS inserted, (SELECT count(*) FROM fl) AS flagged, (SELECT count(*) FROM led) AS posted`

// InsertLines implements accounts.Store. The columns travel as typed arrays, which pgx encodes in
// binary (text arrays cost a quarter of the import's CPU in quoting).
func (s *AccountStore) InsertLines(ctx context.Context, st accounts.Statement, by string, at time.Time, lines []accounts.NewLine) (int, int, error) {
	n := len(lines)
	ids, planLines := make([]uuid.UUID, n), make([]pgtype.UUID, n)
	keys := make([][]byte, n)
	numbers, occurrences := make([]int32, n), make([]int32, n)
	days := make([]pgtype.Date, n)
	descriptions, references, kinds, reasons := make([]string, n), make([]string, n), make([]string, n), make([]string, n)
	amounts, balances := make([]int64, n), make([]pgtype.Int8, n)
	categories, matchedBy, flags := make([]pgtype.Text, n), make([]pgtype.Text, n), make([]pgtype.Text, n)
	posted := make([]bool, n)
	for i, nl := range lines {
		l, m := nl.Line, nl.Match
		ids[i], keys[i] = nl.ID, nl.Line.Key[:]
		numbers[i], occurrences[i] = int32(l.Number), int32(l.Occurrence)
		days[i] = pgtype.Date{Time: l.Date.Time(), Valid: true}
		descriptions[i], references[i], amounts[i] = l.Description, l.Reference, l.Amount
		if l.Balance != nil {
			balances[i] = pgtype.Int8{Int64: *l.Balance, Valid: true}
		}
		if l.MerchantCategory != "" {
			categories[i] = pgtype.Text{String: l.MerchantCategory, Valid: true}
		}
		kinds[i], posted[i], reasons[i] = string(m.Kind), m.Post, m.Reason
		if m.PlanLineID != uuid.Nil {
			planLines[i] = pgtype.UUID{Bytes: m.PlanLineID, Valid: true}
			matchedBy[i] = pgtype.Text{String: string(m.By), Valid: true}
		}
		if m.Flag != "" {
			flags[i] = pgtype.Text{String: string(m.Flag), Valid: true}
		}
	}
	args := []any{uuidArray(ids), arrayOf(keys), arrayOf(numbers), arrayOf(occurrences), arrayOf(days), arrayOf(descriptions), arrayOf(amounts),
		arrayOf(balances), arrayOf(references), arrayOf(categories), arrayOf(kinds), arrayOf(posted), arrayOf(planLines), arrayOf(matchedBy),
		arrayOf(flags), arrayOf(reasons)}
	c, a, stID, ts := st.CouncilID.String(), st.AccountID.String(), st.ID.String(), at.Format(time.RFC3339Nano)
	args = append(args, c, a, stID, c, a, by, ts, c, a, ts)
	// Row, not Scan: gorm's Scan records the statement with a logger of its own that writes the
	// values into the SQL it logs (when slow or failed), and these values are people's spending.
	var inserted, flagged, postedN int
	if err := s.db.conn(ctx).Raw(insertLinesSQL, args...).Row().Scan(&inserted, &flagged, &postedN); err != nil {
		return 0, 0, translate(err, nil)
	}
	return inserted, flagged, nil
}

// arrayOf passes a slice as one array parameter (gorm would expand a plain slice into a list).
func arrayOf[T any](vs []T) pgtype.Array[T] {
	return pgtype.Array[T]{Elements: vs, Dims: []pgtype.ArrayDimension{{Length: int32(len(vs)), LowerBound: 1}}, Valid: true}
}

type stmtLineRow struct {
	CouncilID        uuid.UUID
	ID               uuid.UUID
	AccountID        uuid.UUID
	StatementID      uuid.UUID
	LineKey          []byte
	LineNumber       int
	Occurrence       int
	LineDate         date.Date
	Description      string
	AmountPence      int64
	BalancePence     *int64
	Reference        string
	MerchantCategory *string
	Kind             string
	Posted           bool
	PlanLineID       *uuid.UUID
	MatchedBy        *string
	Flag             *string
	MatchReason      string
}

func (stmtLineRow) TableName() string { return "statement_lines" }

func (r stmtLineRow) domain() accounts.Line {
	l := accounts.Line{CouncilID: r.CouncilID, ID: r.ID, AccountID: r.AccountID, StatementID: r.StatementID, Number: r.LineNumber,
		Occurrence: r.Occurrence, Date: r.LineDate, Description: r.Description, Amount: r.AmountPence, Balance: r.BalancePence,
		Reference: r.Reference, MerchantCategory: r.MerchantCategory, Kind: account.Kind(r.Kind), Posted: r.Posted, PlanLineID: r.PlanLineID,
		Reason: r.MatchReason}
	copy(l.Key[:], r.LineKey)
	if r.MatchedBy != nil {
		b := account.By(*r.MatchedBy)
		l.By = &b
	}
	if r.Flag != nil {
		f := account.Flag(*r.Flag)
		l.Flag = &f
	}
	return l
}

// ListLines implements accounts.Store: the lines the statement added, by line number.
func (s *AccountStore) ListLines(ctx context.Context, councilID, statementID uuid.UUID, p page.Request) ([]accounts.Line, error) {
	q := s.db.conn(ctx).Where("council_id = ? AND statement_id = ?", uuidArg(councilID), uuidArg(statementID))
	if p.After != nil {
		q = q.Where("(line_number, id) > (?, ?)", int(p.After.Time.UnixMicro()), uuidArg(p.After.ID))
	}
	var rows []stmtLineRow
	if err := q.Order("line_number, id").Limit(p.Size + 1).Find(&rows).Error; err != nil {
		return nil, translate(err, nil)
	}
	out := make([]accounts.Line, len(rows))
	for i, r := range rows {
		out[i] = r.domain()
	}
	return out, nil
}

// GetLine implements accounts.Store.
func (s *AccountStore) GetLine(ctx context.Context, councilID, id uuid.UUID) (accounts.Line, error) {
	r, err := takeOne[stmtLineRow](s.db.conn(ctx), false, "council_id = ? AND id = ?", uuidArg(councilID), uuidArg(id))
	return r.domain(), err
}

type flagRow struct {
	CouncilID       uuid.UUID
	ID              uuid.UUID
	AccountID       uuid.UUID
	StatementLineID uuid.UUID
	Flag            string
	Reason          string
	LineDate        date.Date
	AmountPence     int64
	Resolution      *string
	Note            *string
	ResolvedBy      *string
	ResolvedAt      *time.Time
	CreatedAt       time.Time
	Version         int
}

func (flagRow) TableName() string { return "statement_flags" }

func (r flagRow) domain() accounts.Flag {
	f := accounts.Flag{CouncilID: r.CouncilID, ID: r.ID, AccountID: r.AccountID, StatementLineID: r.StatementLineID, Flag: account.Flag(r.Flag),
		Reason: r.Reason, LineDate: r.LineDate, Amount: r.AmountPence, Note: r.Note, ResolvedBy: r.ResolvedBy, CreatedAt: r.CreatedAt.UTC(), Version: r.Version}
	if r.Resolution != nil {
		res := accounts.Resolution(*r.Resolution)
		f.Resolution = &res
	}
	if r.ResolvedAt != nil {
		t := r.ResolvedAt.UTC()
		f.ResolvedAt = &t
	}
	return f
}

// ListFlags implements accounts.Store.
func (s *AccountStore) ListFlags(ctx context.Context, councilID, accountID uuid.UUID, openOnly bool, p page.Request) ([]accounts.Flag, error) {
	q := s.db.conn(ctx).Where("council_id = ? AND account_id = ?", uuidArg(councilID), uuidArg(accountID))
	if openOnly {
		q = q.Where("resolution IS NULL")
	}
	if p.After != nil {
		q = q.Where("(line_date, id) > (?, ?)", date.FromTime(p.After.Time), uuidArg(p.After.ID))
	}
	var rows []flagRow
	if err := q.Order("line_date, id").Limit(p.Size + 1).Find(&rows).Error; err != nil {
		return nil, translate(err, nil)
	}
	out := make([]accounts.Flag, len(rows))
	for i, r := range rows {
		out[i] = r.domain()
	}
	return out, nil
}

// GetFlag implements accounts.Store.
func (s *AccountStore) GetFlag(ctx context.Context, councilID, id uuid.UUID, forUpdate bool) (accounts.Flag, error) {
	r, err := takeOne[flagRow](s.db.conn(ctx), forUpdate, "council_id = ? AND id = ?", uuidArg(councilID), uuidArg(id))
	return r.domain(), err
}

// ResolveFlag implements accounts.Store.
func (s *AccountStore) ResolveFlag(ctx context.Context, f accounts.Flag) error {
	res := string(*f.Resolution)
	r := s.db.conn(ctx).Exec(`UPDATE statement_flags SET resolution = ?, note = ?, resolved_by = ?, resolved_at = ?, version = ?
		WHERE council_id = ? AND id = ? AND version = ? AND resolution IS NULL`,
		res, *f.Note, *f.ResolvedBy, *f.ResolvedAt, f.Version, uuidArg(f.CouncilID), uuidArg(f.ID), f.Version-1)
	if r.Error != nil {
		return translate(r.Error, nil)
	}
	if r.RowsAffected == 0 { // the caller holds the row's lock: only a resolution already made stops it
		return accounts.ErrFlagResolved
	}
	return nil
}

type evidenceRow struct {
	CouncilID           uuid.UUID
	ID                  uuid.UUID
	AccountID           uuid.UUID
	StatementLineID     *uuid.UUID
	AuditID             *uuid.UUID
	PersonalAssistantID *uuid.UUID
	Kind                string
	Reference           string
	Sha256              string `gorm:"column:sha256"`
	DocumentDate        date.Date
	ValidUntil          *date.Date
	ReceivedOn          date.Date
	Note                string
	RecordedBy          string
	RecordedAt          time.Time
}

func (evidenceRow) TableName() string { return "evidence_items" }

func (r evidenceRow) domain() accounts.Evidence {
	return accounts.Evidence{CouncilID: r.CouncilID, ID: r.ID, AccountID: r.AccountID, StatementLineID: r.StatementLineID, AuditID: r.AuditID,
		PersonalAssistantID: r.PersonalAssistantID, Kind: accounts.EvidenceKind(r.Kind), Reference: r.Reference, SHA256: r.Sha256, DocumentDate: r.DocumentDate, ValidUntil: r.ValidUntil,
		ReceivedOn: r.ReceivedOn, Note: r.Note, RecordedBy: r.RecordedBy, RecordedAt: r.RecordedAt.UTC()}
}

// InsertEvidence implements accounts.Store.
func (s *AccountStore) InsertEvidence(ctx context.Context, e accounts.Evidence) error {
	row := evidenceRow{CouncilID: e.CouncilID, ID: e.ID, AccountID: e.AccountID, StatementLineID: e.StatementLineID, AuditID: e.AuditID,
		PersonalAssistantID: e.PersonalAssistantID, Kind: string(e.Kind), Reference: e.Reference, Sha256: e.SHA256, DocumentDate: e.DocumentDate, ValidUntil: e.ValidUntil,
		ReceivedOn: e.ReceivedOn, Note: e.Note, RecordedBy: e.RecordedBy, RecordedAt: e.RecordedAt}
	return translate(s.db.conn(ctx).Create(&row).Error, nil)
}

// IsPlanAssistant implements accounts.Store.
func (s *AccountStore) IsPlanAssistant(ctx context.Context, councilID, accountID, person uuid.UUID) (bool, error) {
	var ok bool
	err := s.db.conn(ctx).Raw(`SELECT EXISTS (SELECT 1 FROM direct_payment_accounts a
		JOIN direct_payment_agreements g ON g.council_id = a.council_id AND g.id = a.dp_agreement_id
		JOIN plan_lines l ON l.council_id = g.council_id AND l.plan_id = g.plan_id
		WHERE a.council_id = ? AND a.id = ? AND l.management_option = 'direct_payment' AND l.personal_assistant_id = ?)`,
		uuidArg(councilID), uuidArg(accountID), uuidArg(person)).Scan(&ok).Error
	return ok, translate(err, nil)
}

// ListEvidence implements accounts.Store.
func (s *AccountStore) ListEvidence(ctx context.Context, councilID, accountID uuid.UUID, lineID, auditID *uuid.UUID, p page.Request) ([]accounts.Evidence, error) {
	q := s.db.conn(ctx).Where("council_id = ? AND account_id = ?", uuidArg(councilID), uuidArg(accountID))
	if lineID != nil {
		q = q.Where("statement_line_id = ?", uuidArg(*lineID))
	}
	if auditID != nil {
		q = q.Where("audit_id = ?", uuidArg(*auditID))
	}
	var rows []evidenceRow
	if err := paginate(q, "recorded_at", p).Find(&rows).Error; err != nil {
		return nil, translate(err, nil)
	}
	out := make([]accounts.Evidence, len(rows))
	for i, r := range rows {
		out[i] = r.domain()
	}
	return out, nil
}

type uploadRow struct {
	CouncilID      uuid.UUID
	ID             uuid.UUID
	AccountID      uuid.UUID
	Format         string
	Mapping        []byte
	FileSha256     string `gorm:"column:file_sha256"`
	SizeBytes      int64
	Status         string
	BytesProcessed int64
	LinesProcessed int
	StatementID    *uuid.UUID
	Problem        []byte
	CreatedBy      string
	CreatedAt      time.Time
	UpdatedAt      time.Time `gorm:"autoUpdateTime:false"`
	CompletedAt    *time.Time
}

func (uploadRow) TableName() string { return "statement_uploads" }

func uploadRowOf(u accounts.Upload) uploadRow {
	r := uploadRow{CouncilID: u.CouncilID, ID: u.ID, AccountID: u.AccountID, Format: u.Format, Mapping: accounts.MarshalMapping(u.Mapping),
		FileSha256: u.FileSHA256, SizeBytes: u.Size, Status: string(u.Status), BytesProcessed: u.BytesProcessed, LinesProcessed: u.LinesProcessed,
		StatementID: u.StatementID, CreatedBy: u.CreatedBy, CreatedAt: u.CreatedAt, UpdatedAt: u.UpdatedAt, CompletedAt: u.CompletedAt}
	if u.Problem != nil {
		r.Problem, _ = json.Marshal(u.Problem)
	}
	return r
}

func (r uploadRow) domain() (accounts.Upload, error) {
	u := accounts.Upload{CouncilID: r.CouncilID, ID: r.ID, AccountID: r.AccountID, Format: r.Format, FileSHA256: r.FileSha256, Size: r.SizeBytes,
		Status: accounts.UploadStatus(r.Status), BytesProcessed: r.BytesProcessed, LinesProcessed: r.LinesProcessed, StatementID: r.StatementID,
		CreatedBy: r.CreatedBy, CreatedAt: r.CreatedAt.UTC(), UpdatedAt: r.UpdatedAt.UTC()}
	if r.CompletedAt != nil {
		t := r.CompletedAt.UTC()
		u.CompletedAt = &t
	}
	if err := json.Unmarshal(r.Mapping, &u.Mapping); err != nil {
		return accounts.Upload{}, apperr.ErrInternal.Wrap(err)
	}
	if r.Problem != nil {
		u.Problem = &accounts.Problem{}
		if err := json.Unmarshal(r.Problem, u.Problem); err != nil {
			return accounts.Upload{}, apperr.ErrInternal.Wrap(err)
		}
	}
	return u, nil
}

// InsertUpload implements accounts.Store.
func (s *AccountStore) InsertUpload(ctx context.Context, u accounts.Upload) error {
	row := uploadRowOf(u)
	return translate(s.db.conn(ctx).Create(&row).Error, nil)
}

// InsertChunk implements accounts.Store.
func (s *AccountStore) InsertChunk(ctx context.Context, councilID, uploadID uuid.UUID, seq int, data []byte) error {
	return translate(s.db.conn(ctx).Exec(`INSERT INTO statement_upload_chunks (council_id, upload_id, seq, data) VALUES (?::uuid, ?::uuid, ?, ?)`,
		councilID.String(), uploadID.String(), seq, data).Error, nil)
}

// Chunk implements accounts.Store.
func (s *AccountStore) Chunk(ctx context.Context, councilID, uploadID uuid.UUID, seq int) ([]byte, error) {
	var rows []struct{ Data []byte }
	if err := s.db.conn(ctx).Raw(`SELECT data FROM statement_upload_chunks WHERE council_id = ? AND upload_id = ? AND seq = ?`,
		uuidArg(councilID), uuidArg(uploadID), seq).Scan(&rows).Error; err != nil {
		return nil, translate(err, nil)
	}
	if len(rows) == 0 {
		return nil, io.EOF
	}
	return rows[0].Data, nil
}

// GetUpload implements accounts.Store.
func (s *AccountStore) GetUpload(ctx context.Context, councilID, id uuid.UUID, forUpdate bool) (accounts.Upload, error) {
	r, err := takeOne[uploadRow](s.db.conn(ctx), forUpdate, "council_id = ? AND id = ?", uuidArg(councilID), uuidArg(id))
	if err != nil {
		return accounts.Upload{}, err
	}
	return r.domain()
}

// UpdateUpload implements accounts.Store.
func (s *AccountStore) UpdateUpload(ctx context.Context, u accounts.Upload) error {
	row := uploadRowOf(u)
	return translate(s.db.conn(ctx).Model(&uploadRow{}).Where("council_id = ? AND id = ?", uuidArg(u.CouncilID), uuidArg(u.ID)).
		Select("status", "bytes_processed", "lines_processed", "statement_id", "problem", "updated_at", "completed_at").Updates(&row).Error, nil)
}

// noTx marks a context whose statements run on the pool, outside the transaction it carries.
type noTx struct{}

// Progress implements accounts.Store: on the pool, not in the import's transaction, so that a poll
// sees it; it never moves a finished upload.
func (s *AccountStore) Progress(ctx context.Context, councilID, id uuid.UUID, status accounts.UploadStatus, bytes int64, lines int, at time.Time) error {
	pool := context.WithValue(ctx, txKey{}, noTx{})
	return translate(s.db.conn(pool).Exec(`UPDATE statement_uploads SET status = ?, bytes_processed = ?, lines_processed = ?, updated_at = ?
		WHERE council_id = ? AND id = ? AND status IN ('queued', 'running')`,
		string(status), bytes, lines, at, uuidArg(councilID), uuidArg(id)).Error, nil)
}

// DeleteChunks implements accounts.Store.
func (s *AccountStore) DeleteChunks(ctx context.Context, councilID, uploadID uuid.UUID) error {
	return translate(s.db.conn(ctx).Exec(`DELETE FROM statement_upload_chunks WHERE council_id = ? AND upload_id = ?`,
		uuidArg(councilID), uuidArg(uploadID)).Error, nil)
}

var _ = errors.New
var _ = gorm.ErrRecordNotFound
