package postgres

import (
	"context"
	"time"

	"github.com/google/uuid"

	"github.com/pbudget/pbudget/internal/apperr"
	"github.com/pbudget/pbudget/internal/page"
	"github.com/pbudget/pbudget/internal/person"
	"github.com/pbudget/pbudget/internal/portal"
)

// PortalAccountStore keeps the person's answers to the flags on their account (00021), reading
// the flags themselves as the account store does.
type PortalAccountStore struct {
	db    *DB
	flags *AccountStore
}

// NewPortalAccountStore returns a PortalAccountStore.
func NewPortalAccountStore(db *DB) *PortalAccountStore {
	return &PortalAccountStore{db: db, flags: NewAccountStore(db)}
}

type flagAnswerRow struct {
	CouncilID        uuid.UUID
	ID               uuid.UUID
	AccountID        uuid.UUID
	FlagID           uuid.UUID
	Explanation      string
	AnsweredBy       string
	AnsweredByPerson uuid.UUID
	AnsweredByBasis  string
	AnsweredAt       time.Time
}

func (flagAnswerRow) TableName() string { return "statement_flag_answers" }

func (r flagAnswerRow) domain() portal.FlagAnswer {
	return portal.FlagAnswer{CouncilID: r.CouncilID, ID: r.ID, AccountID: r.AccountID, FlagID: r.FlagID, Explanation: r.Explanation,
		By: r.AnsweredBy, ByPerson: r.AnsweredByPerson, Basis: person.Basis(r.AnsweredByBasis), At: r.AnsweredAt.UTC()}
}

// InsertFlagAnswer implements portal.AccountStore.
func (s *PortalAccountStore) InsertFlagAnswer(ctx context.Context, a portal.FlagAnswer) error {
	row := flagAnswerRow{CouncilID: a.CouncilID, ID: a.ID, AccountID: a.AccountID, FlagID: a.FlagID, Explanation: a.Explanation,
		AnsweredBy: a.By, AnsweredByPerson: a.ByPerson, AnsweredByBasis: string(a.Basis), AnsweredAt: a.At}
	return translate(s.db.conn(ctx).Create(&row).Error, nil)
}

// maxAnswers bounds the answers shown with a flag.
const maxAnswers = 100

// views adds to flags their lines' descriptions and their answers: two queries for a page.
func (s *PortalAccountStore) views(ctx context.Context, councilID uuid.UUID, flags []portal.FlagView) ([]portal.FlagView, error) {
	if len(flags) == 0 {
		return flags, nil
	}
	lineIDs, flagIDs := make([][16]byte, len(flags)), make([][16]byte, len(flags))
	for i, f := range flags {
		lineIDs[i], flagIDs[i] = uuidArg(f.StatementLineID), uuidArg(f.ID)
	}
	var lines []struct {
		ID          uuid.UUID
		Description string
	}
	if err := s.db.conn(ctx).Raw(`SELECT id, description FROM statement_lines WHERE council_id = ? AND id IN ?`,
		uuidArg(councilID), lineIDs).Scan(&lines).Error; err != nil {
		return nil, translate(err, nil)
	}
	desc := make(map[uuid.UUID]string, len(lines))
	for _, l := range lines {
		desc[l.ID] = l.Description
	}
	byFlag, err := s.answers(ctx, councilID, flagIDs)
	if err != nil {
		return nil, err
	}
	for i := range flags {
		flags[i].Description, flags[i].Answers = desc[flags[i].StatementLineID], byFlag[flags[i].ID]
	}
	return flags, nil
}

// Answers implements portal.AccountStore.
func (s *PortalAccountStore) Answers(ctx context.Context, councilID uuid.UUID, flagIDs []uuid.UUID) (map[uuid.UUID][]portal.FlagAnswer, error) {
	if len(flagIDs) == 0 {
		return map[uuid.UUID][]portal.FlagAnswer{}, nil
	}
	ids := make([][16]byte, len(flagIDs))
	for i, id := range flagIDs {
		ids[i] = uuidArg(id)
	}
	return s.answers(ctx, councilID, ids)
}

// answers returns the flags' first maxAnswers answers each, oldest first, in one query.
func (s *PortalAccountStore) answers(ctx context.Context, councilID uuid.UUID, flagIDs [][16]byte) (map[uuid.UUID][]portal.FlagAnswer, error) {
	var answers []flagAnswerRow
	if err := s.db.conn(ctx).Raw(`SELECT council_id, id, account_id, flag_id, explanation, answered_by, answered_by_person, answered_by_basis, answered_at
		  FROM (SELECT a.*, row_number() OVER (PARTITION BY flag_id ORDER BY answered_at, id) AS n
		          FROM statement_flag_answers a WHERE council_id = ? AND flag_id IN ?) x
		 WHERE n <= ? ORDER BY answered_at, id`,
		uuidArg(councilID), flagIDs, maxAnswers).Scan(&answers).Error; err != nil {
		return nil, translate(err, nil)
	}
	byFlag := map[uuid.UUID][]portal.FlagAnswer{}
	for _, a := range answers {
		byFlag[a.FlagID] = append(byFlag[a.FlagID], a.domain())
	}
	return byFlag, nil
}

// Flags implements portal.AccountStore.
func (s *PortalAccountStore) Flags(ctx context.Context, councilID, accountID uuid.UUID, openOnly bool, p page.Request) ([]portal.FlagView, error) {
	list, err := s.flags.ListFlags(ctx, councilID, accountID, openOnly, p)
	if err != nil {
		return nil, err
	}
	out := make([]portal.FlagView, len(list))
	for i, f := range list {
		out[i] = portal.FlagView{Flag: f}
	}
	return s.views(ctx, councilID, out)
}

// Flag implements portal.AccountStore: a flag of another account is not found.
func (s *PortalAccountStore) Flag(ctx context.Context, councilID, accountID, flagID uuid.UUID, forUpdate bool) (portal.FlagView, error) {
	f, err := s.flags.GetFlag(ctx, councilID, flagID, forUpdate)
	if err != nil {
		return portal.FlagView{}, err
	}
	if f.AccountID != accountID {
		return portal.FlagView{}, apperr.ErrNotFound
	}
	out, err := s.views(ctx, councilID, []portal.FlagView{{Flag: f}})
	if err != nil {
		return portal.FlagView{}, err
	}
	return out[0], nil
}
