package httpapi

import (
	"context"
	"fmt"
	"sort"
	"strconv"
	"strings"

	"github.com/oapi-codegen/nullable"
	openapi_types "github.com/oapi-codegen/runtime/types"

	"github.com/pbudget/pbudget/api"
	"github.com/pbudget/pbudget/internal/actor"
	"github.com/pbudget/pbudget/internal/apperr"
	"github.com/pbudget/pbudget/internal/date"
	"github.com/pbudget/pbudget/internal/page"
	"github.com/pbudget/pbudget/internal/person"
)

// CreatePerson implements api.StrictServerInterface.
func (s *Server) CreatePerson(ctx context.Context, req api.CreatePersonRequestObject) (api.CreatePersonResponseObject, error) {
	a, err := mustActor(actor.From(ctx))
	if err != nil {
		return nil, err
	}
	b := req.Body
	p, err := s.people.Create(ctx, a, person.Input{
		GivenName: b.GivenName, FamilyName: b.FamilyName, PreferredName: b.PreferredName,
		DateOfBirth: dateOf(b.DateOfBirth), Type: person.Type(b.PersonType), NHSNumber: b.NhsNumber,
		Address: addressIn(b.Address), Phone: b.Phone, Email: (*string)(b.Email),
	})
	if err != nil {
		return nil, err
	}
	return personCreated{p}, nil
}

// GetPerson implements api.StrictServerInterface.
func (s *Server) GetPerson(ctx context.Context, req api.GetPersonRequestObject) (api.GetPersonResponseObject, error) {
	a, err := mustActor(actor.From(ctx))
	if err != nil {
		return nil, err
	}
	p, err := s.people.Get(ctx, a, req.PersonId)
	if err != nil {
		return nil, err
	}
	return personResponse{p}, nil
}

// ListPeople implements api.StrictServerInterface.
func (s *Server) ListPeople(ctx context.Context, req api.ListPeopleRequestObject) (api.ListPeopleResponseObject, error) {
	a, err := mustActor(actor.From(ctx))
	if err != nil {
		return nil, err
	}
	prm := req.Params
	var f person.Filter
	if prm.FamilyNamePrefix != nil {
		f.FamilyNamePrefix = strings.TrimSpace(*prm.FamilyNamePrefix)
	}
	if prm.NhsNumber != nil {
		f.NHSNumber = strings.ReplaceAll(*prm.NhsNumber, " ", "")
	}
	if prm.DateOfBirth != nil {
		d := dateOf(*prm.DateOfBirth)
		f.DateOfBirth = &d
	}
	if prm.PersonType != nil {
		f.Type = person.Type(*prm.PersonType)
	}
	dob := ""
	if f.DateOfBirth != nil {
		dob = f.DateOfBirth.String()
	}
	fp := page.Fingerprint("people", f.FamilyNamePrefix, f.NHSNumber, dob, string(f.Type))
	pr, err := page.Parse(prm.PageSize, prm.PageToken, fp)
	if err != nil {
		return nil, err
	}
	people, err := s.people.List(ctx, a, f, pr)
	if err != nil {
		return nil, err
	}
	items, next := pageOf(people, pr, fp, person.Person.Cursor, personOut)
	return api.ListPeople200JSONResponse{Body: api.PersonList{Items: items, NextPageToken: next}}, nil
}

// UpdatePerson implements api.StrictServerInterface.
func (s *Server) UpdatePerson(ctx context.Context, req api.UpdatePersonRequestObject) (api.UpdatePersonResponseObject, error) {
	a, version, err := actorAndVersion(ctx, req.Params.IfMatch)
	if err != nil {
		return nil, err
	}
	b := patchBody(req.JSONBody, req.ApplicationMergePatchPlusJSONBody)
	patch := person.Patch{
		GivenName: b.GivenName, FamilyName: b.FamilyName, Type: (*person.Type)(b.PersonType),
		PreferredName: optional(b.PreferredName, func(v string) string { return v }),
		NHSNumber:     optional(b.NhsNumber, func(v string) string { return v }),
		Phone:         optional(b.Phone, func(v string) string { return v }),
		Email:         optional(b.Email, func(v openapi_types.Email) string { return string(v) }),
		Address:       optional(b.Address, addressPatchIn),
	}
	if b.DateOfBirth != nil {
		d := dateOf(*b.DateOfBirth)
		patch.DateOfBirth = &d
	}
	p, err := s.people.Update(ctx, a, req.PersonId, version, patch)
	if err != nil {
		return nil, err
	}
	return api.UpdatePerson200JSONResponse{Body: personOut(p), Headers: api.UpdatePerson200ResponseHeaders{ETag: etag(p.Version)}}, nil
}

// CreateRelationship implements api.StrictServerInterface.
func (s *Server) CreateRelationship(ctx context.Context, req api.CreateRelationshipRequestObject) (api.CreateRelationshipResponseObject, error) {
	a, err := mustActor(actor.From(ctx))
	if err != nil {
		return nil, err
	}
	b := req.Body
	in := person.RelationshipInput{
		Kind: person.RelationshipKind(b.Kind), RelatedPersonID: b.RelatedPersonId,
		FamilyRelation: (*person.FamilyRelation)(b.FamilyRelation),
	}
	if b.StartDate != nil {
		d := dateOf(*b.StartDate)
		in.StartDate = &d
	}
	r, err := s.people.CreateRelationship(ctx, a, req.PersonId, in)
	if err != nil {
		return nil, err
	}
	loc := fmt.Sprintf("/v1/people/%s/relationships/%s", req.PersonId, r.ID)
	return api.CreateRelationship201JSONResponse{
		Body:    relationshipOut(r),
		Headers: api.CreateRelationship201ResponseHeaders{ETag: etag(r.Version), Location: &loc},
	}, nil
}

// GetRelationship implements api.StrictServerInterface.
func (s *Server) GetRelationship(ctx context.Context, req api.GetRelationshipRequestObject) (api.GetRelationshipResponseObject, error) {
	a, err := mustActor(actor.From(ctx))
	if err != nil {
		return nil, err
	}
	r, err := s.people.GetRelationship(ctx, a, req.PersonId, req.RelationshipId)
	if err != nil {
		return nil, err
	}
	return api.GetRelationship200JSONResponse{Body: relationshipOut(r), Headers: api.GetRelationship200ResponseHeaders{ETag: etag(r.Version)}}, nil
}

// ListRelationships implements api.StrictServerInterface.
func (s *Server) ListRelationships(ctx context.Context, req api.ListRelationshipsRequestObject) (api.ListRelationshipsResponseObject, error) {
	a, err := mustActor(actor.From(ctx))
	if err != nil {
		return nil, err
	}
	includeEnded := req.Params.IncludeEnded != nil && *req.Params.IncludeEnded
	fp := page.Fingerprint("relationships", req.PersonId.String(), strconv.FormatBool(includeEnded))
	pr, err := page.Parse(req.Params.PageSize, req.Params.PageToken, fp)
	if err != nil {
		return nil, err
	}
	rels, err := s.people.ListRelationships(ctx, a, req.PersonId, includeEnded, pr)
	if err != nil {
		return nil, err
	}
	items, next := pageOf(rels, pr, fp, person.Relationship.Cursor, relationshipOut)
	return api.ListRelationships200JSONResponse{Body: api.RelationshipList{Items: items, NextPageToken: next}}, nil
}

// EndRelationship implements api.StrictServerInterface.
func (s *Server) EndRelationship(ctx context.Context, req api.EndRelationshipRequestObject) (api.EndRelationshipResponseObject, error) {
	a, version, err := actorAndVersion(ctx, req.Params.IfMatch)
	if err != nil {
		return nil, err
	}
	r, err := s.people.EndRelationship(ctx, a, req.PersonId, req.RelationshipId, version, dateOf(req.Body.EndDate), req.Body.Reason)
	if err != nil {
		return nil, err
	}
	return api.EndRelationship200JSONResponse{Body: relationshipOut(r), Headers: api.EndRelationship200ResponseHeaders{ETag: etag(r.Version)}}, nil
}

// pageOf trims items fetched for page request pr to one page, converts them for the response, and
// returns the token of the next page (nil on the last).
func pageOf[T, U any](items []T, pr page.Request, fp uint32, cursor func(T) page.Cursor, conv func(T) U) ([]U, *string) {
	items, next := page.Result(items, pr, fp, cursor)
	out := make([]U, len(items))
	for i, it := range items {
		out[i] = conv(it)
	}
	return out, next
}

func personOut(p person.Person) api.Person {
	out := api.Person{
		Id: p.ID, GivenName: p.GivenName, FamilyName: p.FamilyName, DateOfBirth: dateOut(p.DateOfBirth),
		PersonType: api.PersonType(p.Type), Version: p.Version, CreatedAt: p.CreatedAt, UpdatedAt: p.UpdatedAt,
		PreferredName: nullableOf(p.PreferredName), NhsNumber: nullableOf(p.NHSNumber),
		Phone: nullableOf(p.Phone), Email: nullableOf(p.Email),
		Address: nullable.NewNullNullable[api.Address](),
	}
	if p.Address != nil {
		out.Address = nullable.NewNullableWithValue(api.Address{
			Line1: p.Address.Line1, Line2: nonEmpty(p.Address.Line2), Town: p.Address.Town,
			County: nonEmpty(p.Address.County), Postcode: p.Address.Postcode,
		})
	}
	return out
}

func relationshipOut(r person.Relationship) api.Relationship {
	out := api.Relationship{
		Id: r.ID, PersonId: r.PersonID, RelatedPersonId: r.RelatedPersonID, Kind: api.RelationshipKind(r.Kind),
		FamilyRelation: nullable.NewNullNullable[api.RelationshipFamilyRelation](),
		StartDate:      nullableDate(r.StartDate), EndDate: nullableDate(r.EndDate),
		EndReason: nullableOf(r.EndReason), Version: r.Version, CreatedAt: r.CreatedAt, UpdatedAt: r.UpdatedAt,
	}
	if r.FamilyRelation != nil {
		out.FamilyRelation = nullable.NewNullableWithValue(api.RelationshipFamilyRelation(*r.FamilyRelation))
	}
	return out
}

func addressPatchIn(a api.AddressPatch) person.AddressPatch {
	same := func(v string) string { return v }
	return person.AddressPatch{
		Line1: a.Line1, Town: a.Town, Postcode: a.Postcode,
		Line2: optional(a.Line2, same), County: optional(a.County, same),
	}
}

func addressIn(a *api.Address) *person.Address {
	if a == nil {
		return nil
	}
	return &person.Address{Line1: a.Line1, Line2: deref(a.Line2), Town: a.Town, County: deref(a.County), Postcode: a.Postcode}
}

// optional converts a merge-patch field: absent, null (clear) or a value.
func optional[A, B any](n nullable.Nullable[A], conv func(A) B) person.Optional[B] {
	if !n.IsSpecified() {
		return person.Optional[B]{}
	}
	if n.IsNull() {
		return person.Optional[B]{Set: true}
	}
	v := conv(n.MustGet())
	return person.Optional[B]{Set: true, Value: &v}
}

func nullableOf[T any](v *T) nullable.Nullable[T] {
	if v == nil {
		return nullable.NewNullNullable[T]()
	}
	return nullable.NewNullableWithValue(*v)
}

func nullableDate(d *date.Date) nullable.Nullable[openapi_types.Date] {
	if d == nil {
		return nullable.NewNullNullable[openapi_types.Date]()
	}
	return nullable.NewNullableWithValue(dateOut(*d))
}

func dateOf(d openapi_types.Date) date.Date  { return date.FromTime(d.Time) }
func dateOut(d date.Date) openapi_types.Date { return openapi_types.Date{Time: d.Time()} }

// etag renders a version as a strong entity tag.
func etag(version int) *string {
	s := `"` + strconv.Itoa(version) + `"`
	return &s
}

// ifMatch reads the version of an If-Match header: 428 when missing, 412 when it cannot match.
func ifMatch(h *string) (int, error) {
	if h == nil || strings.TrimSpace(*h) == "" {
		return 0, apperr.ErrIfMatchRequired
	}
	v := strings.TrimSpace(*h)
	if len(v) < 3 || v[0] != '"' || v[len(v)-1] != '"' {
		return 0, apperr.ErrVersionMismatch // weak or malformed tags never match strongly
	}
	n, err := strconv.Atoi(v[1 : len(v)-1])
	if err != nil || n < 1 {
		return 0, apperr.ErrVersionMismatch
	}
	return n, nil
}

func sortedStrings(s []string) []string {
	sort.Strings(s)
	return s
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

func datePtr(d *openapi_types.Date) *date.Date {
	if d == nil {
		return nil
	}
	v := dateOf(*d)
	return &v
}
