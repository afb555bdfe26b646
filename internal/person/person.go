// Package person holds the people a council supports (service users and carers) and the
// relationships between them: their rules, their service and the store it needs.
package person

import (
	"context"
	"time"

	"github.com/google/uuid"

	"github.com/pbudget/pbudget/internal/actor"
	"github.com/pbudget/pbudget/internal/apperr"
	"github.com/pbudget/pbudget/internal/audit"
	"github.com/pbudget/pbudget/internal/date"
	"github.com/pbudget/pbudget/internal/page"
	"github.com/pbudget/pbudget/internal/txn"
)

// Type is adult or child.
type Type string

// The person types.
const (
	Adult Type = "adult"
	Child Type = "child"
)

// Address is a UK postal address.
type Address struct {
	Line1, Line2, Town, County, Postcode string
}

// Person is a service user or a carer.
type Person struct {
	CouncilID     uuid.UUID
	ID            uuid.UUID
	GivenName     string
	FamilyName    string
	PreferredName *string
	DateOfBirth   date.Date
	Type          Type
	NHSNumber     *string
	Address       *Address
	Phone         *string
	Email         *string
	Version       int
	CreatedAt     time.Time
	UpdatedAt     time.Time
}

// Cursor is the page position of a person.
func (p Person) Cursor() page.Cursor { return page.Cursor{Time: p.CreatedAt, ID: p.ID} }

// Input is a new person as the caller describes them.
type Input struct {
	GivenName     string
	FamilyName    string
	PreferredName *string
	DateOfBirth   date.Date
	Type          Type
	NHSNumber     *string
	Address       *Address
	Phone         *string
	Email         *string
}

// Optional is a field of a merge patch: absent (Set false), cleared (Set, Value nil) or set.
type Optional[T any] struct {
	Set   bool
	Value *T
}

// Patch changes some of a person's fields.
type Patch struct {
	GivenName     *string
	FamilyName    *string
	PreferredName Optional[string]
	DateOfBirth   *date.Date
	Type          *Type
	NHSNumber     Optional[string]
	Address       Optional[AddressPatch] // Value nil clears the address
	Phone         Optional[string]
	Email         Optional[string]
}

// AddressPatch changes parts of an address (RFC 7396 merge): nil leaves a part as it is.
type AddressPatch struct {
	Line1, Town, Postcode *string
	Line2, County         Optional[string]
}

// merge applies the patch to the current address (nil: none yet).
func (ap AddressPatch) merge(cur *Address) *Address {
	var a Address
	if cur != nil {
		a = *cur
	}
	if ap.Line1 != nil {
		a.Line1 = *ap.Line1
	}
	if ap.Town != nil {
		a.Town = *ap.Town
	}
	if ap.Postcode != nil {
		a.Postcode = *ap.Postcode
	}
	for _, part := range []struct {
		dst *string
		o   Optional[string]
	}{{&a.Line2, ap.Line2}, {&a.County, ap.County}} {
		if part.o.Set {
			*part.dst = ""
			if part.o.Value != nil {
				*part.dst = *part.o.Value
			}
		}
	}
	return &a
}

// Filter narrows a listing; zero fields do not filter.
type Filter struct {
	FamilyNamePrefix string
	NHSNumber        string
	DateOfBirth      *date.Date
	Type             Type
	ProviderID       *uuid.UUID // only people this provider holds an ISF or a plan line for
}

// Errors of this package.
var (
	ErrNHSNumberTaken = apperr.New(apperr.Conflict, "nhs-number-taken",
		"another person in this council has this NHS number")
	ErrTypeAge = apperr.New(apperr.RuleViolation, "person-type-age",
		"an adult is 18 or over and a child is under 18 on the day the record is made or changed")
)

// Store keeps people and relationships. Every method is scoped by council.
type Store interface {
	InsertPerson(ctx context.Context, p Person) error
	GetPerson(ctx context.Context, councilID, id uuid.UUID, forUpdate bool) (Person, error)
	UpdatePerson(ctx context.Context, p Person) error
	ListPeople(ctx context.Context, councilID uuid.UUID, f Filter, p page.Request) ([]Person, error)
	// ProviderReaches reports whether the provider holds an ISF agreement or a line of a current
	// approved plan of the person, budget or plan (scope) id.
	ProviderReaches(ctx context.Context, councilID, providerID uuid.UUID, scope Scope, id uuid.UUID) (bool, error)
	// ActsFor reports whether the holder (a person-role token's person) is, on day, the person of
	// the person, budget or plan (scope) id, or their authorised person, nominee or parent (of a
	// child) by a relationship current on that day.
	ActsFor(ctx context.Context, councilID, holder uuid.UUID, scope Scope, id uuid.UUID, day date.Date) (bool, error)
	// ActingFor lists the people the holder acts for on day, by the same rule: the holder first.
	ActingFor(ctx context.Context, councilID, holder uuid.UUID, day date.Date) ([]uuid.UUID, error)

	InsertRelationship(ctx context.Context, r Relationship) error
	GetRelationship(ctx context.Context, councilID, personID, id uuid.UUID, forUpdate bool) (Relationship, error)
	UpdateRelationship(ctx context.Context, r Relationship) error
	ListRelationships(ctx context.Context, councilID, personID uuid.UUID, includeEnded bool, p page.Request) ([]Relationship, error)
}

// Service is the people use cases.
type Service struct {
	store Store
	audit audit.Recorder
	tx    txn.Transactor
	now   func() time.Time
}

// NewService returns a Service; now is the clock (time.Now in production).
func NewService(store Store, auditor audit.Recorder, tx txn.Transactor, now func() time.Time) *Service {
	return &Service{store: store, audit: auditor, tx: tx, now: now}
}

func (s *Service) timestamp() time.Time { return s.now().UTC().Truncate(time.Microsecond) }

// Create records a new person.
func (s *Service) Create(ctx context.Context, a actor.Actor, in Input) (Person, error) {
	now := s.timestamp()
	p := Person{
		CouncilID: a.CouncilID, ID: uuid.Must(uuid.NewV7()),
		GivenName: in.GivenName, FamilyName: in.FamilyName, PreferredName: in.PreferredName,
		DateOfBirth: in.DateOfBirth, Type: in.Type, NHSNumber: in.NHSNumber, Address: in.Address,
		Phone: in.Phone, Email: in.Email, Version: 1, CreatedAt: now, UpdatedAt: now,
	}
	today := date.Today(now)
	if err := normalize(&p, today); err != nil {
		return Person{}, err
	}
	if err := checkTypeAge(p, today); err != nil {
		return Person{}, err
	}
	err := s.tx.WithinTx(ctx, func(ctx context.Context) error {
		if err := s.store.InsertPerson(ctx, p); err != nil {
			return err
		}
		return s.audit.Record(ctx, a, audit.Event{
			Action: "person.created", EntityType: "person", EntityID: p.ID, ChangedFields: setFields(p),
		})
	})
	if err != nil {
		return Person{}, err
	}
	return p, nil
}

// Get returns one person of the actor's council (for provider staff, one they serve).
func (s *Service) Get(ctx context.Context, a actor.Actor, id uuid.UUID) (Person, error) {
	if err := s.CheckReach(ctx, a, id); err != nil {
		return Person{}, err
	}
	return s.store.GetPerson(ctx, a.CouncilID, id, false)
}

// Scope is what provider staff's reach is checked on.
type Scope int

// The scopes.
const (
	OfPerson Scope = iota
	OfBudget
	OfPlan
)

// CheckReach returns apperr.ErrNotFound when the actor is provider staff whose organisation holds
// no ISF agreement and no line of the person's current approved plan (of a budget that has not
// ended): to them the person does not exist. Council staff reach everyone in their council.
func (s *Service) CheckReach(ctx context.Context, a actor.Actor, personID uuid.UUID) error {
	return s.checkReach(ctx, a, OfPerson, personID)
}

// CheckBudgetReach is CheckReach for a budget: provider staff see a budget only while its approved
// plan gives them an ISF or a line.
func (s *Service) CheckBudgetReach(ctx context.Context, a actor.Actor, budgetID uuid.UUID) error {
	return s.checkReach(ctx, a, OfBudget, budgetID)
}

// CheckPlanReach is CheckReach for a plan: provider staff see an approved plan in which they hold
// an ISF or a line; never drafts, and never a plan a revision has superseded.
func (s *Service) CheckPlanReach(ctx context.Context, a actor.Actor, planID uuid.UUID) error {
	return s.checkReach(ctx, a, OfPlan, planID)
}

func (s *Service) checkReach(ctx context.Context, a actor.Actor, scope Scope, id uuid.UUID) error {
	if a.IsPerson() {
		ok, err := s.store.ActsFor(ctx, a.CouncilID, *a.PersonID, scope, id, date.Today(s.now()))
		if err != nil {
			return err
		}
		if !ok {
			return apperr.ErrNotFound
		}
		return nil
	}
	if !a.IsProviderOnly() {
		return nil
	}
	ok, err := s.store.ProviderReaches(ctx, a.CouncilID, *a.ProviderID, scope, id)
	if err != nil {
		return err
	}
	if !ok {
		return apperr.ErrNotFound
	}
	return nil
}

// Basis is why a person-role holder acts for a person.
type Basis string

// The bases.
const (
	Self             Basis = "self"
	AuthorisedPerson Basis = "authorised_person"
	Nominee          Basis = "nominee"
	Parent           Basis = "parent"
)

// Acting is a person the holder of a person-role token acts for, and why.
type Acting struct {
	Person Person
	Basis  Basis
}

// ActingFor returns the people a person-role actor acts for today: themselves first, then the
// people they are the current authorised person, nominee or parent of. Anyone else's token gets
// nothing.
func (s *Service) ActingFor(ctx context.Context, a actor.Actor) ([]Acting, error) {
	if !a.IsPerson() {
		return nil, apperr.ErrNotFound
	}
	today := date.Today(s.now())
	ids, err := s.store.ActingFor(ctx, a.CouncilID, *a.PersonID, today)
	if err != nil {
		return nil, err
	}
	if len(ids) == 0 {
		return nil, apperr.ErrNotFound // a token whose person is not a person of this council
	}
	rels, err := s.store.ListRelationships(ctx, a.CouncilID, *a.PersonID, false, page.Request{Size: page.MaxSize})
	if err != nil {
		return nil, err
	}
	out := make([]Acting, 0, len(ids))
	for _, id := range ids {
		p, err := s.store.GetPerson(ctx, a.CouncilID, id, false)
		if err != nil {
			return nil, err
		}
		out = append(out, Acting{Person: p, Basis: basisOf(*a.PersonID, id, rels, today)})
	}
	return out, nil
}

// basisOf names the strongest current tie from holder to id: a person is themselves; an
// authorised person or a nominee is one before being a parent.
func basisOf(holder, id uuid.UUID, rels []Relationship, today date.Date) Basis {
	if holder == id {
		return Self
	}
	best := Parent
	for _, r := range rels {
		if !r.Current(today) || r.PersonID != holder || r.RelatedPersonID != id {
			continue
		}
		switch r.Kind {
		case AuthorisedPersonFor:
			return AuthorisedPerson
		case NomineeFor:
			best = Nominee
		}
	}
	return best
}

// List returns a page of the council's people in the order they were recorded (for provider
// staff, the people they serve).
func (s *Service) List(ctx context.Context, a actor.Actor, f Filter, p page.Request) ([]Person, error) {
	if a.IsProviderOnly() {
		f.ProviderID = a.ProviderID
	}
	return s.store.ListPeople(ctx, a.CouncilID, f, p)
}

// Update applies patch to the person if its version is still version. A patch that changes
// nothing returns the person as it is, without a new version.
func (s *Service) Update(ctx context.Context, a actor.Actor, id uuid.UUID, version int, patch Patch) (Person, error) {
	var out Person
	err := s.tx.WithinTx(ctx, func(ctx context.Context) error {
		cur, err := s.store.GetPerson(ctx, a.CouncilID, id, true)
		if err != nil {
			return err
		}
		if cur.Version != version {
			return apperr.ErrVersionMismatch
		}
		next := apply(cur, patch)
		today := date.Today(s.now())
		if err := normalize(&next, today); err != nil {
			return err
		}
		changed := diff(cur, next)
		if len(changed) == 0 {
			out = cur
			return nil
		}
		if patch.DateOfBirth != nil || patch.Type != nil {
			if err := checkTypeAge(next, today); err != nil {
				return err
			}
		}
		next.Version = cur.Version + 1
		next.UpdatedAt = s.timestamp()
		if err := s.store.UpdatePerson(ctx, next); err != nil {
			return err
		}
		out = next
		return s.audit.Record(ctx, a, audit.Event{
			Action: "person.updated", EntityType: "person", EntityID: id, ChangedFields: changed,
			Details: map[string]any{"version": next.Version},
		})
	})
	return out, err
}

func apply(p Person, patch Patch) Person {
	if patch.GivenName != nil {
		p.GivenName = *patch.GivenName
	}
	if patch.FamilyName != nil {
		p.FamilyName = *patch.FamilyName
	}
	if patch.DateOfBirth != nil {
		p.DateOfBirth = *patch.DateOfBirth
	}
	if patch.Type != nil {
		p.Type = *patch.Type
	}
	setOptional(&p.PreferredName, patch.PreferredName)
	setOptional(&p.NHSNumber, patch.NHSNumber)
	if patch.Address.Set {
		if patch.Address.Value == nil {
			p.Address = nil
		} else {
			p.Address = patch.Address.Value.merge(p.Address)
		}
	}
	setOptional(&p.Phone, patch.Phone)
	setOptional(&p.Email, patch.Email)
	return p
}

func setOptional[T any](dst **T, o Optional[T]) {
	if o.Set {
		*dst = o.Value
	}
}

// normalize cleans and validates the fields of p in place, reporting every bad field at once.
func normalize(p *Person, today date.Date) error {
	var bad apperr.Fields
	text := func(ptr, name string, v *string) {
		c, ok := cleanText(*v)
		if !ok {
			bad.Add(ptr, "text", name+" must not be blank or contain control characters")
		}
		*v = c
	}
	text("/given_name", "given_name", &p.GivenName)
	text("/family_name", "family_name", &p.FamilyName)
	if p.PreferredName != nil {
		text("/preferred_name", "preferred_name", p.PreferredName)
	}
	if p.Type != Adult && p.Type != Child {
		bad.Add("/person_type", "enum", "person_type must be adult or child")
	}
	if p.DateOfBirth.Before(date.Of(1900, 1, 1)) || p.DateOfBirth.After(today) {
		bad.Add("/date_of_birth", "date_range", "date_of_birth must be between 1900-01-01 and today")
	}
	if p.NHSNumber != nil {
		n, ok := NormalizeNHSNumber(*p.NHSNumber)
		if !ok {
			bad.Add("/nhs_number", "nhs_number_check_digit", "nhs_number must be ten digits with a valid modulus-11 check digit")
		}
		p.NHSNumber = &n
	}
	if p.Address != nil {
		addr := *p.Address
		text("/address/line1", "address.line1", &addr.Line1)
		text("/address/town", "address.town", &addr.Town)
		addr.Line2, addr.County = trimmed(addr.Line2), trimmed(addr.County)
		pc, ok := NormalizePostcode(addr.Postcode)
		if !ok {
			bad.Add("/address/postcode", "postcode", "address.postcode must be a valid UK postcode")
		}
		addr.Postcode = pc
		p.Address = &addr
	}
	if p.Phone != nil {
		ph := trimmed(*p.Phone)
		p.Phone = &ph
	}
	if p.Email != nil {
		e := trimmed(*p.Email)
		if !validEmail(e) {
			bad.Add("/email", "email", "email must be a plain address such as name@example.org")
		}
		p.Email = &e
	}
	return bad.Err()
}

func trimmed(s string) string {
	c, _ := cleanText(s)
	return c
}

// checkTypeAge keeps the person type consistent with the age on day today.
func checkTypeAge(p Person, today date.Date) error {
	adult := p.DateOfBirth.AgeOn(today) >= 18
	if adult != (p.Type == Adult) {
		return ErrTypeAge
	}
	return nil
}

// setFields names the fields a new record has values for (never the values).
func setFields(p Person) []string {
	out := []string{"given_name", "family_name", "date_of_birth", "person_type"}
	for _, f := range []struct {
		name string
		set  bool
	}{
		{"preferred_name", p.PreferredName != nil}, {"nhs_number", p.NHSNumber != nil},
		{"address", p.Address != nil}, {"phone", p.Phone != nil}, {"email", p.Email != nil},
	} {
		if f.set {
			out = append(out, f.name)
		}
	}
	return out
}

// diff names the fields whose values differ between a and b.
func diff(a, b Person) []string {
	var out []string
	add := func(name string, changed bool) {
		if changed {
			out = append(out, name)
		}
	}
	add("given_name", a.GivenName != b.GivenName)
	add("family_name", a.FamilyName != b.FamilyName)
	add("preferred_name", !equalPtr(a.PreferredName, b.PreferredName))
	add("date_of_birth", !a.DateOfBirth.Equal(b.DateOfBirth))
	add("person_type", a.Type != b.Type)
	add("nhs_number", !equalPtr(a.NHSNumber, b.NHSNumber))
	add("address", !equalPtr(a.Address, b.Address))
	add("phone", !equalPtr(a.Phone, b.Phone))
	add("email", !equalPtr(a.Email, b.Email))
	return out
}

func equalPtr[T comparable](a, b *T) bool {
	if a == nil || b == nil {
		return a == b
	}
	return *a == *b
}
