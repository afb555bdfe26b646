package postgres

import (
	"context"
	"errors"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/google/uuid"
	"github.com/jackc/pgx/v5"
	"gorm.io/gorm"

	"github.com/pbudget/pbudget/internal/apperr"
	"github.com/pbudget/pbudget/internal/date"
	"github.com/pbudget/pbudget/internal/page"
	"github.com/pbudget/pbudget/internal/person"
)

type personRow struct {
	CouncilID       uuid.UUID `gorm:"primaryKey"`
	ID              uuid.UUID `gorm:"primaryKey"`
	GivenName       string
	FamilyName      string
	PreferredName   *string
	DateOfBirth     date.Date
	PersonType      string
	NHSNumber       *string `gorm:"column:nhs_number"`
	AddressLine1    *string `gorm:"column:address_line1"`
	AddressLine2    *string `gorm:"column:address_line2"`
	AddressTown     *string
	AddressCounty   *string
	AddressPostcode *string
	Phone           *string
	Email           *string
	Version         int
	CreatedAt       time.Time `gorm:"autoCreateTime:false"`
	UpdatedAt       time.Time `gorm:"autoUpdateTime:false"` // the service's clock, not gorm's
}

func (personRow) TableName() string { return "people" }

func personRowOf(p person.Person) personRow {
	r := personRow{
		CouncilID: p.CouncilID, ID: p.ID, GivenName: p.GivenName, FamilyName: p.FamilyName,
		PreferredName: p.PreferredName, DateOfBirth: p.DateOfBirth, PersonType: string(p.Type),
		NHSNumber: p.NHSNumber, Phone: p.Phone, Email: p.Email, Version: p.Version,
		CreatedAt: p.CreatedAt, UpdatedAt: p.UpdatedAt,
	}
	if a := p.Address; a != nil {
		r.AddressLine1, r.AddressTown, r.AddressPostcode = &a.Line1, &a.Town, &a.Postcode
		r.AddressLine2, r.AddressCounty = nonEmpty(a.Line2), nonEmpty(a.County)
	}
	return r
}

func (r personRow) domain() person.Person {
	p := person.Person{
		CouncilID: r.CouncilID, ID: r.ID, GivenName: r.GivenName, FamilyName: r.FamilyName,
		PreferredName: r.PreferredName, DateOfBirth: r.DateOfBirth, Type: person.Type(r.PersonType),
		NHSNumber: r.NHSNumber, Phone: r.Phone, Email: r.Email, Version: r.Version,
		CreatedAt: r.CreatedAt.UTC(), UpdatedAt: r.UpdatedAt.UTC(),
	}
	if r.AddressLine1 != nil {
		p.Address = &person.Address{
			Line1: *r.AddressLine1, Line2: deref(r.AddressLine2), Town: deref(r.AddressTown),
			County: deref(r.AddressCounty), Postcode: deref(r.AddressPostcode),
		}
	}
	return p
}

var personConstraints = map[string]error{
	"people_nhs_number_key": person.ErrNHSNumberTaken,
}

// PersonStore implements person.Store.
type PersonStore struct{ db *DB }

// NewPersonStore returns a PersonStore.
func NewPersonStore(db *DB) *PersonStore { return &PersonStore{db: db} }

// InsertPerson implements person.Store.
// The statement is written out with pgx's native types (no gorm, no driver.Valuer): it is half
// of the request path's write.
func (s *PersonStore) InsertPerson(ctx context.Context, p person.Person) error {
	r := personRowOf(p)
	// Deferred to go with its audit event (person.created) in one statement: a round trip fewer.
	return s.db.deferExec(ctx, personConstraints, `INSERT INTO people (council_id, id, given_name, family_name, preferred_name,
		date_of_birth, person_type, nhs_number, address_line1, address_line2, address_town, address_county, address_postcode,
		phone, email, version, created_at, updated_at)
		VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15, $16, $17, $18)`,
		uuidArg(r.CouncilID), uuidArg(r.ID), r.GivenName, r.FamilyName, textOrNil(r.PreferredName), r.DateOfBirth.Time(),
		r.PersonType, textOrNil(r.NHSNumber), textOrNil(r.AddressLine1), textOrNil(r.AddressLine2), textOrNil(r.AddressTown),
		textOrNil(r.AddressCounty), textOrNil(r.AddressPostcode), textOrNil(r.Phone), textOrNil(r.Email), r.Version,
		r.CreatedAt, r.UpdatedAt)
}

// textOrNil is a nullable text value as pgx encodes it directly.
func textOrNil(s *string) any {
	if s == nil {
		return nil
	}
	return *s
}

// selectPerson reads one person by primary key. It is the hottest query of the service, so it is
// written out rather than built by gorm for each call (make bench: ~5% of a read's CPU).
const selectPerson = `SELECT council_id, id, given_name, family_name, preferred_name, date_of_birth, person_type,
	nhs_number, address_line1, address_line2, address_town, address_county, address_postcode, phone, email,
	version, created_at, updated_at FROM people WHERE council_id = ? AND id = ?`

// selectPersonByID is selectPerson in PostgreSQL's placeholders, for database/sql.
var selectPersonByID = strings.Replace(strings.Replace(selectPerson, "council_id = ?", "council_id = $1", 1), "id = ?", "id = $2", 1)

// GetPerson implements person.Store: straight to pgx (no gorm, no database/sql), its binary row
// decoded into the fields. In a transaction it is often the first statement, and BEGIN goes with it.
func (s *PersonStore) GetPerson(ctx context.Context, councilID, id uuid.UUID, forUpdate bool) (person.Person, error) {
	query := selectPersonByID
	if forUpdate {
		query += " FOR UPDATE"
	}
	var r personRow
	args := []any{uuidArg(councilID), uuidArg(id)}
	dest := []any{(*[16]byte)(&r.CouncilID), (*[16]byte)(&r.ID),
		&r.GivenName, &r.FamilyName, &r.PreferredName, (*pgDate)(&r.DateOfBirth), &r.PersonType, &r.NHSNumber,
		&r.AddressLine1, &r.AddressLine2, &r.AddressTown, &r.AddressCounty, &r.AddressPostcode, &r.Phone, &r.Email,
		&r.Version, &r.CreatedAt, &r.UpdatedAt}
	var err error
	if InTx(ctx) {
		err = s.db.queryRow(ctx, query, args, dest...)
	} else { // the read path: a connection of the pool as pgx's own
		err = s.db.withPgx(ctx, func(c *pgx.Conn) error { return c.QueryRow(ctx, query, args...).Scan(dest...) })
	}
	if errors.Is(err, pgx.ErrNoRows) {
		return person.Person{}, apperr.ErrNotFound
	}
	if err != nil {
		return person.Person{}, translate(err, nil)
	}
	return r.domain(), nil
}

// GetPeople reads the people of ids of one council, in the order of ids, locked FOR UPDATE when
// forUpdate. Each id is a primary-key probe, whatever the table's statistics say (see lockedByID).
func (s *PersonStore) GetPeople(ctx context.Context, councilID uuid.UUID, ids []uuid.UUID, forUpdate bool) ([]person.Person, error) {
	one := strings.TrimSuffix(selectPerson, "AND id = ?") + "AND id = k.key_id"
	if forUpdate {
		one += " FOR UPDATE"
	} else {
		one += " LIMIT 1"
	}
	var rows []personRow
	err := s.db.conn(ctx).Raw(`SELECT p.* FROM unnest(?::uuid[]) AS k(key_id) CROSS JOIN LATERAL (`+one+`) p`,
		uuidArray(ids), uuidArg(councilID)).Scan(&rows).Error
	if err != nil {
		return nil, translate(err, nil)
	}
	out := make([]person.Person, len(rows))
	for i, r := range rows {
		out[i] = r.domain()
	}
	return out, nil
}

// UpdatePerson implements person.Store: it writes p if the stored version is p.Version − 1.
func (s *PersonStore) UpdatePerson(ctx context.Context, p person.Person) error {
	row := personRowOf(p)
	res := s.db.conn(ctx).Model(&personRow{}).
		Where("council_id = ? AND id = ? AND version = ?", p.CouncilID, p.ID, p.Version-1).
		Select("given_name", "family_name", "preferred_name", "date_of_birth", "person_type", "nhs_number",
			"address_line1", "address_line2", "address_town", "address_county", "address_postcode",
			"phone", "email", "version", "updated_at").
		Updates(&row)
	if err := translate(res.Error, personConstraints); err != nil {
		return err
	}
	if res.RowsAffected == 0 {
		return apperr.ErrVersionMismatch
	}
	return nil
}

// ListPeople implements person.Store.
func (s *PersonStore) ListPeople(ctx context.Context, councilID uuid.UUID, f person.Filter, p page.Request) ([]person.Person, error) {
	var rows []personRow
	if err := listPeopleQuery(s.db.conn(ctx), councilID, f, p).Find(&rows).Error; err != nil {
		return nil, translate(err, nil)
	}
	out := make([]person.Person, len(rows))
	for i, r := range rows {
		out[i] = r.domain()
	}
	return out, nil
}

// listPeopleQuery is ListPeople's query. A family-name prefix is served, filter and order, by
// people_family_name_order_idx (migration 00014): the council's people in (created_at, id) order
// with the lower-cased name in the index, so a common prefix reads its first page and stops,
// never sorting every match (TestTheFamilyNamePrefixSearchNeverSortsItsMatches).
func listPeopleQuery(q *gorm.DB, councilID uuid.UUID, f person.Filter, p page.Request) *gorm.DB {
	q = q.Where("council_id = ?", councilID)
	if f.FamilyNamePrefix != "" {
		q = prefixFilter(q, "lower(family_name)", strings.ToLower(f.FamilyNamePrefix))
	}
	if f.NHSNumber != "" {
		q = q.Where("nhs_number = ?", f.NHSNumber)
	}
	if f.DateOfBirth != nil {
		q = q.Where("date_of_birth = ?", *f.DateOfBirth)
	}
	if f.Type != "" {
		q = q.Where("person_type = ?", string(f.Type))
	}
	if f.ProviderID != nil {
		q = q.Where(providerReachSQL("people.council_id", "sp.person_id", "people.id"), uuidArg(*f.ProviderID), uuidArg(*f.ProviderID))
	}
	return paginate(q, "created_at", p)
}

// providerReachSQL is true when the provider (the two ? arguments) holds an ISF agreement or a line
// of an approved plan, of a budget that has not ended, whose column (sp.person_id, sp.budget_id or
// sp.id) is id, in council. Drafts, superseded plans and ended budgets give no reach.
func providerReachSQL(council, column, id string) string {
	return `EXISTS (SELECT 1 FROM support_plans sp JOIN personal_budgets b ON b.council_id = sp.council_id AND b.id = sp.budget_id
		WHERE sp.council_id = ` + council + ` AND ` + column + ` = ` + id + ` AND sp.status = 'approved' AND b.status <> 'ended'
		  AND (EXISTS (SELECT 1 FROM isf_agreements i WHERE i.council_id = sp.council_id AND i.plan_id = sp.id AND i.provider_id = ?)
		    OR EXISTS (SELECT 1 FROM plan_lines l WHERE l.council_id = sp.council_id AND l.plan_id = sp.id AND l.provider_id = ?)))`
}

var reachColumn = map[person.Scope]string{person.OfPerson: "sp.person_id", person.OfBudget: "sp.budget_id", person.OfPlan: "sp.id"}

// ProviderReaches implements person.Store.
func (s *PersonStore) ProviderReaches(ctx context.Context, councilID, providerID uuid.UUID, scope person.Scope, id uuid.UUID) (bool, error) {
	var ok bool
	err := s.db.conn(ctx).Raw(`SELECT `+providerReachSQL("?", reachColumn[scope], "?"), uuidArg(councilID), uuidArg(id),
		uuidArg(providerID), uuidArg(providerID)).Scan(&ok).Error
	return ok, translate(err, nil)
}

// actsForSQL is the person role's reach, as one predicate: true when the holder (the three ?
// arguments: holder, holder, holder, then the day twice) is the person whose id is the column
// person, or holds on that day a relationship to them as their authorised person or nominee, or
// as the parent of a child (recorded either way round: the holder as parent, or the child as the
// holder's child). Only direct relationships count: a parent reaches the children they are
// recorded as parent of, never a child's siblings through the child. An ended relationship, or a
// child who has turned 18 (person_type adult), gives no reach. Every query of the person role
// filters by it, so that the rule lives in one place.
func actsForSQL(council, person string) string {
	return `(` + person + ` = ? OR EXISTS (SELECT 1 FROM relationships r JOIN people rp ON rp.council_id = r.council_id AND rp.id = ` + person + `
		WHERE r.council_id = ` + council + `
		  AND ((r.person_id = ? AND r.related_person_id = ` + person + `
		        AND (r.kind IN ('authorised_person_for', 'nominee_for') OR (r.family_relation = 'parent' AND rp.person_type = 'child')))
		    OR (r.related_person_id = ? AND r.person_id = ` + person + ` AND r.family_relation = 'child' AND rp.person_type = 'child'))
		  AND (r.start_date IS NULL OR r.start_date <= ?) AND (r.end_date IS NULL OR r.end_date > ?)))`
}

// actsForArgs are actsForSQL's arguments.
func actsForArgs(holder uuid.UUID, day date.Date) []any {
	h := uuidArg(holder)
	return []any{h, h, h, day, day}
}

// personOfScope is the person column of what a scope names.
var personOfScope = map[person.Scope]string{
	person.OfPerson: "(SELECT id FROM people WHERE council_id = ? AND id = ?)",
	person.OfBudget: "(SELECT person_id FROM personal_budgets WHERE council_id = ? AND id = ?)",
	person.OfPlan:   "(SELECT person_id FROM support_plans WHERE council_id = ? AND id = ?)",
}

// ActsFor implements person.Store.
func (s *PersonStore) ActsFor(ctx context.Context, councilID, holder uuid.UUID, scope person.Scope, id uuid.UUID, day date.Date) (bool, error) {
	var ok bool
	// The predicate's placeholders come first in the text, then the scope's.
	args := append(actsForArgs(holder, day), uuidArg(councilID), uuidArg(councilID), uuidArg(id))
	err := s.db.conn(ctx).Raw(`SELECT COALESCE((SELECT `+actsForSQL("t.cid", "t.pid")+`
		FROM (SELECT ?::uuid AS cid, `+personOfScope[scope]+` AS pid) t WHERE t.pid IS NOT NULL), false)`, args...).Scan(&ok).Error
	return ok, translate(err, nil)
}

// ActingFor implements person.Store: the candidates are the holder and the people of their
// relationships (an index lookup each way), filtered by the one predicate; the holder first.
func (s *PersonStore) ActingFor(ctx context.Context, councilID, holder uuid.UUID, day date.Date) ([]uuid.UUID, error) {
	h, c := uuidArg(holder), uuidArg(councilID)
	args := []any{h, c, h, c, h, c}
	args = append(args, actsForArgs(holder, day)...)
	args = append(args, h)
	var ids []uuid.UUID
	err := s.db.conn(ctx).Raw(`
		WITH cand AS (
		    SELECT ?::uuid AS pid
		    UNION SELECT related_person_id FROM relationships WHERE council_id = ? AND person_id = ?
		    UNION SELECT person_id FROM relationships WHERE council_id = ? AND related_person_id = ?)
		SELECT p.id FROM cand JOIN people p ON p.council_id = ? AND p.id = cand.pid
		 WHERE `+actsForSQL("p.council_id", "p.id")+`
		 ORDER BY (p.id <> ?), p.created_at, p.id`, args...).Scan(&ids).Error
	return ids, translate(err, nil)
}

type relationshipRow struct {
	CouncilID       uuid.UUID `gorm:"primaryKey"`
	ID              uuid.UUID `gorm:"primaryKey"`
	PersonID        uuid.UUID
	RelatedPersonID uuid.UUID
	Kind            string
	FamilyRelation  *string
	StartDate       *date.Date
	EndDate         *date.Date
	EndReason       *string
	Version         int
	CreatedAt       time.Time `gorm:"autoCreateTime:false"`
	UpdatedAt       time.Time `gorm:"autoUpdateTime:false"`
}

func (relationshipRow) TableName() string { return "relationships" }

func relationshipRowOf(r person.Relationship) relationshipRow {
	return relationshipRow{
		CouncilID: r.CouncilID, ID: r.ID, PersonID: r.PersonID, RelatedPersonID: r.RelatedPersonID,
		Kind: string(r.Kind), FamilyRelation: (*string)(r.FamilyRelation), StartDate: r.StartDate,
		EndDate: r.EndDate, EndReason: r.EndReason, Version: r.Version, CreatedAt: r.CreatedAt, UpdatedAt: r.UpdatedAt,
	}
}

func (r relationshipRow) domain() person.Relationship {
	return person.Relationship{
		CouncilID: r.CouncilID, ID: r.ID, PersonID: r.PersonID, RelatedPersonID: r.RelatedPersonID,
		Kind: person.RelationshipKind(r.Kind), FamilyRelation: (*person.FamilyRelation)(r.FamilyRelation),
		StartDate: r.StartDate, EndDate: r.EndDate, EndReason: r.EndReason, Version: r.Version,
		CreatedAt: r.CreatedAt.UTC(), UpdatedAt: r.UpdatedAt.UTC(),
	}
}

var relationshipConstraints = map[string]error{
	"relationships_current_key":   person.ErrRelationshipExists,
	"relationships_household_key": person.ErrRelationshipExists,
}

// InsertRelationship implements person.Store.
func (s *PersonStore) InsertRelationship(ctx context.Context, r person.Relationship) error {
	row := relationshipRowOf(r)
	return translate(s.db.conn(ctx).Create(&row).Error, relationshipConstraints)
}

// GetRelationship implements person.Store: the relationship must have personID on either side.
func (s *PersonStore) GetRelationship(ctx context.Context, councilID, personID, id uuid.UUID, forUpdate bool) (person.Relationship, error) {
	r, err := takeOne[relationshipRow](s.db.conn(ctx), forUpdate, "council_id = ? AND id = ? AND (person_id = ? OR related_person_id = ?)",
		uuidArg(councilID), uuidArg(id), uuidArg(personID), uuidArg(personID))
	return r.domain(), err
}

// UpdateRelationship implements person.Store: it writes r if the stored version is r.Version − 1.
func (s *PersonStore) UpdateRelationship(ctx context.Context, r person.Relationship) error {
	row := relationshipRowOf(r)
	res := s.db.conn(ctx).Model(&relationshipRow{}).
		Where("council_id = ? AND id = ? AND version = ?", r.CouncilID, r.ID, r.Version-1).
		Select("end_date", "end_reason", "version", "updated_at").
		Updates(&row)
	if err := translate(res.Error, relationshipConstraints); err != nil {
		return err
	}
	if res.RowsAffected == 0 {
		return apperr.ErrVersionMismatch
	}
	return nil
}

// ListRelationships implements person.Store.
func (s *PersonStore) ListRelationships(ctx context.Context, councilID, personID uuid.UUID, includeEnded bool, p page.Request) ([]person.Relationship, error) {
	q := s.db.conn(ctx).Where("council_id = ? AND (person_id = ? OR related_person_id = ?)", councilID, personID, personID)
	if !includeEnded {
		q = q.Where("end_date IS NULL")
	}
	var rows []relationshipRow
	if err := paginate(q, "created_at", p).Find(&rows).Error; err != nil {
		return nil, translate(err, nil)
	}
	out := make([]person.Relationship, len(rows))
	for i, r := range rows {
		out[i] = r.domain()
	}
	return out, nil
}

// paginate orders by (timeColumn, id), starts after the cursor and fetches one row more than the
// page so that the caller knows whether another page follows.
func paginate(q *gorm.DB, timeColumn string, p page.Request) *gorm.DB {
	if p.After != nil {
		q = q.Where("("+timeColumn+", id) > (?, ?)", p.After.Time, p.After.ID)
	}
	return q.Order(timeColumn + ", id").Limit(p.Size + 1)
}

// prefixFilter matches values of expr starting with prefix as a byte range, which the
// text_pattern_ops index serves even under a generic plan (LIKE with a parameter may not).
func prefixFilter(q *gorm.DB, expr, prefix string) *gorm.DB {
	q = q.Where(expr+" ~>=~ ?", prefix)
	r, size := utf8.DecodeLastRuneInString(prefix)
	if r == utf8.RuneError || r == utf8.MaxRune || (r >= 0xD7FF && r < 0xE000) {
		return q.Where("starts_with("+expr+", ?)", prefix)
	}
	return q.Where(expr+" ~<~ ?", prefix[:len(prefix)-size]+string(r+1))
}

func nonEmpty(s string) *string {
	if s == "" {
		return nil
	}
	return &s
}

func deref(s *string) string {
	if s == nil {
		return ""
	}
	return *s
}
