package httpapi_test

import (
	"fmt"
	"net/http"
	"net/url"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/pbudget/pbudget/api"
)

func TestCreatePersonReturnsTheNormalisedRecordWithETagAndLocation(t *testing.T) {
	t.Parallel()
	b := setup(t)
	r := b.do(http.MethodPost, "/v1/people", b.token("practitioner"), map[string]any{
		"given_name": " Sam ", "family_name": "Okafor", "preferred_name": "Sammy", "date_of_birth": "1961-02-28",
		"person_type": "adult", "nhs_number": "943 476 5919", "phone": "+44 1582 123456", "email": "sam@example.org",
		"address": map[string]any{"line1": "1 High Street", "town": "Luton", "postcode": "lu12bq"},
	})
	require.Equal(t, http.StatusCreated, r.Status, string(r.Body))
	var p api.Person
	r.decode(t, &p)
	require.Equal(t, "Sam", p.GivenName)
	require.Equal(t, "9434765919", p.NhsNumber.MustGet())
	require.Equal(t, "LU1 2BQ", p.Address.MustGet().Postcode)
	require.Equal(t, 1, p.Version)
	require.Equal(t, `"1"`, r.Header.Get("ETag"))
	require.Equal(t, "/v1/people/"+p.Id.String(), r.Header.Get("Location"))

	got := b.do(http.MethodGet, "/v1/people/"+p.Id.String(), b.token("finance"), nil)
	require.Equal(t, http.StatusOK, got.Status)
	require.Equal(t, `"1"`, got.Header.Get("ETag"))
	var again api.Person
	got.decode(t, &again)
	require.Equal(t, p.Id, again.Id)
	require.True(t, again.PreferredName.IsSpecified())
}

func TestPersonWithoutOptionalFieldsShowsThemAsNull(t *testing.T) {
	t.Parallel()
	b := setup(t)
	p := b.newPerson(nil)
	require.True(t, p.NhsNumber.IsNull())
	require.True(t, p.Address.IsNull())
	require.True(t, p.Email.IsNull())
}

func TestDuplicateNHSNumberInACouncilIsAConflictButAnotherCouncilMayHoldIt(t *testing.T) {
	t.Parallel()
	b := setup(t)
	b.newPerson(map[string]any{"nhs_number": "4010232137"})
	before := b.counts()
	r := b.do(http.MethodPost, "/v1/people", b.token("practitioner"), map[string]any{
		"given_name": "B", "family_name": "C", "date_of_birth": "1970-01-01", "person_type": "adult", "nhs_number": "4010232137",
	})
	require.Equal(t, http.StatusConflict, r.Status)
	require.Equal(t, "urn:pbudget:problem:nhs-number-taken", r.problem(t).Type)
	require.Equal(t, before, b.counts())

	other := b.do(http.MethodPost, "/v1/people", b.otherToken("practitioner"), map[string]any{
		"given_name": "B", "family_name": "C", "date_of_birth": "1970-01-01", "person_type": "adult", "nhs_number": "4010232137",
	})
	require.Equal(t, http.StatusCreated, other.Status)
}

func TestPersonTypeMustMatchAgeToday(t *testing.T) {
	t.Parallel()
	b := setup(t)
	for _, tc := range []struct {
		name, dob, typ string
	}{
		{"adult born this year", "2025-01-01", "adult"},
		{"child aged 40", "1986-01-01", "child"},
	} {
		before := b.counts()
		r := b.do(http.MethodPost, "/v1/people", b.token("practitioner"), map[string]any{
			"given_name": "A", "family_name": "B", "date_of_birth": tc.dob, "person_type": tc.typ,
		})
		require.Equal(t, http.StatusUnprocessableEntity, r.Status, tc.name)
		require.Equal(t, "urn:pbudget:problem:person-type-age", r.problem(t).Type)
		require.Equal(t, before, b.counts())
	}
	child := b.newPerson(map[string]any{"date_of_birth": "2015-06-01", "person_type": "child"})
	require.Equal(t, api.PersonType("child"), child.PersonType)
}

func TestPatchPersonNeedsIfMatchAndRejectsStaleVersions(t *testing.T) {
	t.Parallel()
	b := setup(t)
	p := b.newPerson(map[string]any{"phone": "01582 000000"})
	path := "/v1/people/" + p.Id.String()
	tok := b.token("practitioner")

	missing := b.do(http.MethodPatch, path, tok, map[string]any{"family_name": "Jones"})
	require.Equal(t, http.StatusPreconditionRequired, missing.Status)
	require.Equal(t, "urn:pbudget:problem:if-match-required", missing.problem(t).Type)

	ok := b.do(http.MethodPatch, path, tok, map[string]any{"family_name": "Jones", "phone": nil}, "If-Match", `"1"`)
	require.Equal(t, http.StatusOK, ok.Status, string(ok.Body))
	require.Equal(t, `"2"`, ok.Header.Get("ETag"))
	var changed api.Person
	ok.decode(t, &changed)
	require.Equal(t, "Jones", changed.FamilyName)
	require.True(t, changed.Phone.IsNull(), "null clears an optional field")
	require.Equal(t, "Alex", changed.GivenName, "absent fields stay")

	before := b.counts()
	stale := b.do(http.MethodPatch, path, tok, map[string]any{"family_name": "Smith"}, "If-Match", `"1"`)
	require.Equal(t, http.StatusPreconditionFailed, stale.Status)
	require.Equal(t, "urn:pbudget:problem:version-mismatch", stale.problem(t).Type)
	weak := b.do(http.MethodPatch, path, tok, map[string]any{"family_name": "Smith"}, "If-Match", `W/"2"`)
	require.Equal(t, http.StatusPreconditionFailed, weak.Status)
	require.Equal(t, before, b.counts())
}

func TestPatchThatChangesNothingKeepsTheVersionAndWritesNoAudit(t *testing.T) {
	t.Parallel()
	b := setup(t)
	p := b.newPerson(nil)
	before := b.counts()
	r := b.do(http.MethodPatch, "/v1/people/"+p.Id.String(), b.token("practitioner"), map[string]any{"given_name": "Alex"}, "If-Match", `"1"`)
	require.Equal(t, http.StatusOK, r.Status)
	require.Equal(t, `"1"`, r.Header.Get("ETag"))
	require.Equal(t, before, b.counts())
}

func TestPatchValidatesTheResultLikeCreate(t *testing.T) {
	t.Parallel()
	b := setup(t)
	p := b.newPerson(nil)
	before := b.counts()
	r := b.do(http.MethodPatch, "/v1/people/"+p.Id.String(), b.token("practitioner"),
		map[string]any{"address": map[string]any{"line1": "1 A Road", "town": "Luton", "postcode": "XX1 1XX"}, "nhs_number": "9434765918"},
		"If-Match", `"1"`)
	require.Equal(t, http.StatusBadRequest, r.Status)
	prob := r.problem(t)
	fields := map[string]string{}
	for _, f := range *prob.Errors {
		fields[f.Field] = f.Code
	}
	require.Equal(t, map[string]string{"/address/postcode": "postcode", "/nhs_number": "nhs_number_check_digit"}, fields)
	require.Equal(t, before, b.counts())
}

func TestListPeoplePagesByCursorInCreationOrderWithFilters(t *testing.T) {
	t.Parallel()
	b := setup(t)
	var ids []string
	for i := range 5 {
		p := b.newPerson(map[string]any{"family_name": fmt.Sprintf("Smith-%d", i)})
		ids = append(ids, p.Id.String())
	}
	b.newPerson(map[string]any{"family_name": "Jones", "date_of_birth": "2012-03-04", "person_type": "child"})
	tok := b.token("auditor")

	var seen []string
	next := ""
	for page := 0; ; page++ {
		q := url.Values{"page_size": {"2"}, "family_name_prefix": {"smi"}}
		if next != "" {
			q.Set("page_token", next)
		}
		r := b.do(http.MethodGet, "/v1/people?"+q.Encode(), tok, nil)
		require.Equal(t, http.StatusOK, r.Status)
		var list api.PersonList
		r.decode(t, &list)
		for _, p := range list.Items {
			seen = append(seen, p.Id.String())
		}
		if list.NextPageToken == nil {
			break
		}
		next = *list.NextPageToken
		require.Less(t, page, 5)
	}
	require.Equal(t, ids, seen)

	r := b.do(http.MethodGet, "/v1/people?person_type=child", tok, nil)
	var children api.PersonList
	r.decode(t, &children)
	require.Len(t, children.Items, 1)
	require.Equal(t, "Jones", children.Items[0].FamilyName)

	r = b.do(http.MethodGet, "/v1/people?date_of_birth=2012-03-04", tok, nil)
	var byDOB api.PersonList
	r.decode(t, &byDOB)
	require.Len(t, byDOB.Items, 1)
}

func TestListPeopleFindsByNHSNumberInAnyGrouping(t *testing.T) {
	t.Parallel()
	b := setup(t)
	p := b.newPerson(map[string]any{"nhs_number": "9434765919"})
	r := b.do(http.MethodGet, "/v1/people?nhs_number="+url.QueryEscape("943 476 5919"), b.token("practitioner"), nil)
	var list api.PersonList
	r.decode(t, &list)
	require.Len(t, list.Items, 1)
	require.Equal(t, p.Id, list.Items[0].Id)
}

func TestAnotherCouncilsPersonIsNotFound(t *testing.T) {
	t.Parallel()
	b := setup(t)
	p := b.newPerson(map[string]any{"family_name": "Private"})
	path := "/v1/people/" + p.Id.String()

	get := b.do(http.MethodGet, path, b.otherToken("practitioner"), nil)
	require.Equal(t, http.StatusNotFound, get.Status)
	require.Equal(t, "urn:pbudget:problem:not-found", get.problem(t).Type)

	patch := b.do(http.MethodPatch, path, b.otherToken("practitioner"), map[string]any{"family_name": "X"}, "If-Match", `"1"`)
	require.Equal(t, http.StatusNotFound, patch.Status)

	rels := b.do(http.MethodGet, path+"/relationships", b.otherToken("practitioner"), nil)
	require.Equal(t, http.StatusNotFound, rels.Status)

	list := b.do(http.MethodGet, "/v1/people?family_name_prefix=Private", b.otherToken("practitioner"), nil)
	var l api.PersonList
	list.decode(t, &l)
	require.Empty(t, l.Items)

	unknown := b.do(http.MethodGet, "/v1/people/"+newID(), b.token("practitioner"), nil)
	require.Equal(t, http.StatusNotFound, unknown.Status)
}

func TestRelationshipsLinkTwoPeopleAndEndWithoutDeletion(t *testing.T) {
	t.Parallel()
	b := setup(t)
	carer := b.newPerson(map[string]any{"given_name": "Carer"})
	cared := b.newPerson(map[string]any{"given_name": "Cared"})
	tok := b.token("practitioner")
	base := "/v1/people/" + carer.Id.String() + "/relationships"

	r := b.do(http.MethodPost, base, tok, map[string]any{
		"kind": "carer_of", "related_person_id": cared.Id, "family_relation": "spouse", "start_date": "2020-01-01",
	})
	require.Equal(t, http.StatusCreated, r.Status, string(r.Body))
	var rel api.Relationship
	r.decode(t, &rel)
	require.Equal(t, api.RelationshipKind("carer_of"), rel.Kind)

	dup := b.do(http.MethodPost, base, tok, map[string]any{"kind": "carer_of", "related_person_id": cared.Id})
	require.Equal(t, http.StatusConflict, dup.Status)
	require.Equal(t, "urn:pbudget:problem:relationship-exists", dup.problem(t).Type)

	self := b.do(http.MethodPost, base, tok, map[string]any{"kind": "nominee_for", "related_person_id": carer.Id})
	require.Equal(t, http.StatusUnprocessableEntity, self.Status)
	require.Equal(t, "urn:pbudget:problem:self-relationship", self.problem(t).Type)

	foreign := b.newPersonIn(b.otherToken("practitioner"))
	cross := b.do(http.MethodPost, base, tok, map[string]any{"kind": "nominee_for", "related_person_id": foreign})
	require.Equal(t, http.StatusUnprocessableEntity, cross.Status)
	require.Equal(t, "urn:pbudget:problem:related-person-not-found", cross.problem(t).Type)

	// Either side sees it.
	fromCared := b.do(http.MethodGet, "/v1/people/"+cared.Id.String()+"/relationships", b.token("approver"), nil)
	var list api.RelationshipList
	fromCared.decode(t, &list)
	require.Len(t, list.Items, 1)
	one := b.do(http.MethodGet, "/v1/people/"+cared.Id.String()+"/relationships/"+rel.Id.String(), b.token("approver"), nil)
	require.Equal(t, http.StatusOK, one.Status)
	require.Equal(t, `"1"`, one.Header.Get("ETag"))

	endPath := base + "/" + rel.Id.String() + "/end"
	noMatch := b.do(http.MethodPost, endPath, tok, map[string]any{"end_date": "2026-01-01", "reason": "moved away"})
	require.Equal(t, http.StatusPreconditionRequired, noMatch.Status)
	early := b.do(http.MethodPost, endPath, tok, map[string]any{"end_date": "2019-01-01", "reason": "x"}, "If-Match", `"1"`)
	require.Equal(t, http.StatusUnprocessableEntity, early.Status)
	require.Equal(t, "urn:pbudget:problem:end-before-start", early.problem(t).Type)
	ended := b.do(http.MethodPost, endPath, tok, map[string]any{"end_date": "2026-01-01", "reason": "moved away"}, "If-Match", `"1"`)
	require.Equal(t, http.StatusOK, ended.Status, string(ended.Body))
	var endedRel api.Relationship
	ended.decode(t, &endedRel)
	require.Equal(t, "2026-01-01", endedRel.EndDate.MustGet().String())
	again := b.do(http.MethodPost, endPath, tok, map[string]any{"end_date": "2026-02-01", "reason": "x"}, "If-Match", `"2"`)
	require.Equal(t, http.StatusConflict, again.Status)

	current := b.do(http.MethodGet, base, tok, nil)
	var cur api.RelationshipList
	current.decode(t, &cur)
	require.Empty(t, cur.Items, "ended relationships are hidden by default")
	all := b.do(http.MethodGet, base+"?include_ended=true", tok, nil)
	var everything api.RelationshipList
	all.decode(t, &everything)
	require.Len(t, everything.Items, 1)

	// Once ended, the same relationship may be recorded again.
	renewed := b.do(http.MethodPost, base, tok, map[string]any{"kind": "carer_of", "related_person_id": cared.Id})
	require.Equal(t, http.StatusCreated, renewed.Status)
}

func (b *bundle) newPersonIn(token string) string {
	b.t.Helper()
	r := b.do(http.MethodPost, "/v1/people", token, map[string]any{
		"given_name": "Other", "family_name": "Tenant", "date_of_birth": "1975-01-01", "person_type": "adult",
	})
	require.Equal(b.t, http.StatusCreated, r.Status)
	var p api.Person
	r.decode(b.t, &p)
	return p.Id.String()
}

func TestPatchMergesTheAddressAndNullClearsItsOptionalParts(t *testing.T) {
	t.Parallel()
	b := setup(t)
	p := b.newPerson(map[string]any{"address": map[string]any{"line1": "1 High Street", "line2": "Flat 2", "town": "Luton", "county": "Bedfordshire", "postcode": "LU1 2BQ"}})
	path := "/v1/people/" + p.Id.String()
	tok := b.token("practitioner")

	r := b.do(http.MethodPatch, path, tok, map[string]any{"address": map[string]any{"postcode": "lu2 0aa"}}, "If-Match", `"1"`)
	require.Equal(t, http.StatusOK, r.Status, string(r.Body))
	var moved api.Person
	r.decode(t, &moved)
	addr := moved.Address.MustGet()
	require.Equal(t, "LU2 0AA", addr.Postcode)
	require.Equal(t, "Flat 2", *addr.Line2, "absent parts stay")
	require.Equal(t, "Bedfordshire", *addr.County)

	r = b.do(http.MethodPatch, path, tok, map[string]any{"address": map[string]any{"line2": nil}}, "If-Match", `"2"`)
	require.Equal(t, http.StatusOK, r.Status, string(r.Body))
	var cleared api.Person
	r.decode(t, &cleared)
	require.Nil(t, cleared.Address.MustGet().Line2)

	r = b.do(http.MethodPatch, path, tok, map[string]any{"address": nil}, "If-Match", `"3"`)
	var none api.Person
	r.decode(t, &none)
	require.True(t, none.Address.IsNull())

	// Without a current address, a partial one is not enough.
	r = b.do(http.MethodPatch, path, tok, map[string]any{"address": map[string]any{"postcode": "LU1 2BQ"}}, "If-Match", `"4"`)
	require.Equal(t, http.StatusBadRequest, r.Status)
}

func TestPatchThatMakesAnAdultAChildBreaksTheAgeRule(t *testing.T) {
	t.Parallel()
	b := setup(t)
	p := b.newPerson(nil)
	before := b.counts()
	r := b.do(http.MethodPatch, "/v1/people/"+p.Id.String(), b.token("practitioner"), map[string]any{"person_type": "child"}, "If-Match", `"1"`)
	require.Equal(t, http.StatusUnprocessableEntity, r.Status)
	require.Equal(t, "urn:pbudget:problem:person-type-age", r.problem(t).Type)
	require.Equal(t, before, b.counts())
}

func TestLivingInTheSameHouseholdIsRecordedOnceWhicheverWayRound(t *testing.T) {
	t.Parallel()
	b := setup(t)
	one, two := b.newPerson(nil), b.newPerson(nil)
	tok := b.token("practitioner")
	r := b.do(http.MethodPost, "/v1/people/"+one.Id.String()+"/relationships", tok, map[string]any{"kind": "same_household_member", "related_person_id": two.Id})
	require.Equal(t, http.StatusCreated, r.Status)
	r = b.do(http.MethodPost, "/v1/people/"+two.Id.String()+"/relationships", tok, map[string]any{"kind": "same_household_member", "related_person_id": one.Id})
	require.Equal(t, http.StatusConflict, r.Status)
	require.Equal(t, "urn:pbudget:problem:relationship-exists", r.problem(t).Type)
}
