package portal

import (
	"context"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/google/uuid"

	"github.com/pbudget/pbudget/internal/accounts"
	"github.com/pbudget/pbudget/internal/actor"
	"github.com/pbudget/pbudget/internal/apperr"
	"github.com/pbudget/pbudget/internal/audit"
	"github.com/pbudget/pbudget/internal/date"
	"github.com/pbudget/pbudget/internal/page"
	"github.com/pbudget/pbudget/internal/payment"
	"github.com/pbudget/pbudget/internal/person"
)

// The person's direct-payment account: its ledger and balance, their statements (the staff's
// import, into their own account only), the flags on its lines with their answers, and evidence.
// Everything goes through internal/accounts; the portal adds the reach check and the answers.

// FlagAnswer is a person's explanation of a flagged statement line.
type FlagAnswer struct {
	CouncilID   uuid.UUID
	ID          uuid.UUID
	AccountID   uuid.UUID
	FlagID      uuid.UUID
	Explanation string
	By          string // the holder's token subject
	ByPerson    uuid.UUID
	Basis       person.Basis
	At          time.Time
}

// FlagView is a flag as the person sees it: the flag, its line's description and the answers.
type FlagView struct {
	accounts.Flag
	Description string
	Answers     []FlagAnswer
}

// Cursor is a flag's page position.
func (v FlagView) Cursor() page.Cursor { return v.Flag.Cursor() }

// AccountStore is what the portal keeps of accounts: the answers to flags.
type AccountStore interface {
	// Flags returns a page of an account's flags with their lines' descriptions and answers.
	Flags(ctx context.Context, councilID, accountID uuid.UUID, openOnly bool, p page.Request) ([]FlagView, error)
	// Flag returns one flag of the account with its answers; forUpdate locks the flag's row.
	Flag(ctx context.Context, councilID, accountID, flagID uuid.UUID, forUpdate bool) (FlagView, error)
	InsertFlagAnswer(ctx context.Context, a FlagAnswer) error
	// Answers returns the answers to the flags, by flag, oldest first.
	Answers(ctx context.Context, councilID uuid.UUID, flagIDs []uuid.UUID) (map[uuid.UUID][]FlagAnswer, error)
}

// AnswersFor returns, for council staff, the person's answers to flags the staff member has just
// read through internal/accounts (which checked the account is of their council): by flag.
func (s *Service) AnswersFor(ctx context.Context, a actor.Actor, flags []accounts.Flag) (map[uuid.UUID][]FlagAnswer, error) {
	if a.IsPerson() {
		return nil, apperr.ErrNotFound
	}
	ids := make([]uuid.UUID, len(flags))
	for i, f := range flags {
		ids[i] = f.ID
	}
	return s.accountStore.Answers(ctx, a.CouncilID, ids)
}

// WithAccounts gives the person's view the direct-payment accounts.
func (s *Service) WithAccounts(acc *accounts.Service, store AccountStore) *Service {
	s.accounts, s.accountStore = acc, store
	return s
}

// AccountView is an account with its balance today.
type AccountView struct {
	Account accounts.Account
	Balance accounts.BalanceAt
}

// MaxAnswerLength bounds an answer to a flag.
const MaxAnswerLength = 2000

// ErrAnswerBlank is an answer with nothing in it.
var ErrAnswerBlank = apperr.Validation(apperr.FieldError{Field: "/explanation", In: "body", Code: "required",
	Message: "say what the money was spent on"})

// Accounts returns the direct-payment accounts of a person the holder acts for.
func (s *Service) Accounts(ctx context.Context, a actor.Actor, personID uuid.UUID) ([]AccountView, error) {
	list, err := s.Agreements(ctx, a, personID) // the person's, if the holder reaches them
	if err != nil {
		return nil, err
	}
	out := []AccountView{}
	for _, g := range list {
		if g.Kind != payment.DirectPaymentKind {
			continue
		}
		acct, bal, err := s.accounts.AccountOfAgreement(ctx, a, g.ID)
		if err != nil {
			return nil, err
		}
		out = append(out, AccountView{Account: acct, Balance: bal})
	}
	return out, nil
}

// account returns an account of a person the holder acts for; anyone else's is apperr.ErrNotFound.
func (s *Service) account(ctx context.Context, a actor.Actor, id uuid.UUID) (AccountView, error) {
	if err := only(a); err != nil {
		return AccountView{}, err
	}
	acct, bal, err := s.accounts.GetAccount(ctx, a, id)
	if err != nil {
		return AccountView{}, err
	}
	if err := s.people.CheckReach(ctx, a, acct.PersonID); err != nil {
		return AccountView{}, err
	}
	return AccountView{Account: acct, Balance: bal}, nil
}

// Account returns one account with its balance today.
func (s *Service) Account(ctx context.Context, a actor.Actor, id uuid.UUID) (AccountView, error) {
	return s.account(ctx, a, id)
}

// Ledger returns a page of an account's ledger.
func (s *Service) Ledger(ctx context.Context, a actor.Actor, id uuid.UUID, f accounts.LedgerFilter, p page.Request) (accounts.Account, []accounts.Entry, error) {
	v, err := s.account(ctx, a, id)
	if err != nil {
		return accounts.Account{}, nil, err
	}
	list, err := s.accounts.Ledger(ctx, a, id, f, p)
	return v.Account, list, err
}

// Balance returns an account's balance at the end of at (default today).
func (s *Service) Balance(ctx context.Context, a actor.Actor, id uuid.UUID, at *date.Date) (accounts.Account, accounts.BalanceAt, error) {
	v, err := s.account(ctx, a, id)
	if err != nil {
		return accounts.Account{}, accounts.BalanceAt{}, err
	}
	b, err := s.accounts.Balance(ctx, a, id, at)
	return v.Account, b, err
}

// ImportStatement imports a statement into an account of a person the holder acts for: the
// staff's import, in the same transaction as the reach check. The route's body limit keeps it
// to the synchronous import (at most accounts.BackgroundBytes).
func (s *Service) ImportStatement(ctx context.Context, a actor.Actor, id uuid.UUID, in accounts.ImportInput) (accounts.Account, accounts.Statement, error) {
	if in.File.Size > accounts.BackgroundBytes {
		return accounts.Account{}, accounts.Statement{}, ErrStatementTooLarge
	}
	var acct accounts.Account
	var st accounts.Statement
	err := s.tx.WithinTx(ctx, func(ctx context.Context) error {
		v, err := s.account(ctx, a, id)
		if err != nil {
			return err
		}
		acct = v.Account
		got, _, err := s.accounts.Import(ctx, a, id, in)
		if err != nil {
			return err
		}
		if got == nil {
			return ErrStatementTooLarge
		}
		st = *got
		return nil
	})
	return acct, st, err
}

// ErrStatementTooLarge is a statement over the person's route's limit.
var ErrStatementTooLarge = apperr.New(apperr.TooLarge, "payload-too-large", "a statement uploaded through the person's view is at most 1 MiB")

// Flags returns a page of an account's flags with their answers.
func (s *Service) Flags(ctx context.Context, a actor.Actor, id uuid.UUID, openOnly bool, p page.Request) (accounts.Account, []FlagView, error) {
	v, err := s.account(ctx, a, id)
	if err != nil {
		return accounts.Account{}, nil, err
	}
	list, err := s.accountStore.Flags(ctx, a.CouncilID, id, openOnly, p)
	return v.Account, list, err
}

// AnswerFlag records the holder's explanation of a flag on an account of a person they act for.
// A resolved flag takes no more answers. The explanation is the person's own words: it is kept
// in the answer, and the audit trail records the answer without it.
func (s *Service) AnswerFlag(ctx context.Context, a actor.Actor, accountID, flagID uuid.UUID, explanation string) (accounts.Account, FlagView, error) {
	explanation = strings.TrimSpace(explanation)
	if explanation == "" {
		return accounts.Account{}, FlagView{}, ErrAnswerBlank
	}
	if utf8.RuneCountInString(explanation) > MaxAnswerLength {
		return accounts.Account{}, FlagView{}, apperr.Validation(apperr.FieldError{Field: "/explanation", In: "body", Code: "too_long",
			Message: "an explanation is at most 2,000 characters"})
	}
	var acct accounts.Account
	var out FlagView
	err := s.tx.WithinTx(ctx, func(ctx context.Context) error {
		v, err := s.account(ctx, a, accountID)
		if err != nil {
			return err
		}
		acct = v.Account
		f, err := s.accountStore.Flag(ctx, a.CouncilID, accountID, flagID, true)
		if err != nil {
			return err
		}
		if f.Resolution != nil {
			return accounts.ErrFlagResolved
		}
		basis, err := s.basis(ctx, a, acct.PersonID)
		if err != nil {
			return err
		}
		ans := FlagAnswer{CouncilID: a.CouncilID, ID: uuid.Must(uuid.NewV7()), AccountID: accountID, FlagID: flagID, Explanation: explanation,
			By: a.Subject, ByPerson: *a.PersonID, Basis: basis, At: s.now().UTC().Truncate(time.Microsecond)}
		if err := s.accountStore.InsertFlagAnswer(ctx, ans); err != nil {
			return err
		}
		if err := s.audit.Record(ctx, a, audit.Event{Action: "statement_flag.answered", EntityType: "statement_flag", EntityID: flagID,
			ChangedFields: []string{"answers"}, // the person's words stay out of the trail
			Details: map[string]any{"account_id": accountID.String(), "person_id": acct.PersonID.String(), "answer_id": ans.ID.String(),
				"answered_by_basis": string(basis), "flag": string(f.Flag.Flag), "amount_pence": f.Amount, "line_date": f.LineDate.String()}}); err != nil {
			return err
		}
		out, err = s.accountStore.Flag(ctx, a.CouncilID, accountID, flagID, false)
		return err
	})
	return acct, out, err
}

// AddEvidence records an evidence item for a statement line or an audit of an account of a person
// the holder acts for, through the staff's evidence rules. An audit named must be of this account.
func (s *Service) AddEvidence(ctx context.Context, a actor.Actor, accountID uuid.UUID, in accounts.EvidenceInput) (accounts.Account, accounts.Evidence, error) {
	var acct accounts.Account
	var out accounts.Evidence
	err := s.tx.WithinTx(ctx, func(ctx context.Context) error {
		v, err := s.account(ctx, a, accountID)
		if err != nil {
			return err
		}
		acct = v.Account
		if in.AuditID != nil {
			if err := s.auditOfAccount(ctx, a, *in.AuditID, accountID); err != nil {
				return err
			}
		}
		out, err = s.accounts.AddEvidence(ctx, a, accountID, in)
		return err
	})
	return acct, out, err
}
