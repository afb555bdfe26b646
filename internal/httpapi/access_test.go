package httpapi_test

import (
	"context"
	"database/sql"
	"fmt"
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/google/uuid"
	"github.com/stretchr/testify/require"

	"github.com/pbudget/pbudget/api"
	"github.com/pbudget/pbudget/internal/auth"
	"github.com/pbudget/pbudget/internal/testdb"
)

// accessRecords writes the queued access records and returns those query selects (one page of
// up to 200), as an auditor reads them.
func (b *bundle) accessRecords(query url.Values) []api.AccessRecord {
	b.t.Helper()
	b.flushAccess()
	query.Set("page_size", "200")
	r := b.do(http.MethodGet, "/v1/access-records?"+query.Encode(), b.token("auditor"), nil)
	require.Equal(b.t, http.StatusOK, r.Status, string(r.Body))
	var list api.AccessRecordList
	r.decode(b.t, &list)
	require.Nil(b.t, list.NextPageToken)
	return list.Items
}

// reader mints a token with its own subject, so that a test can find the reads it made.
func (b *bundle) reader(subject string, roles ...string) string {
	return b.tokenWith(auth.MintOptions{Council: b.council.Code, Subject: subject, Roles: roles})
}

// aRecordedPerson is a person with a relationship, an assessment and budget, a financial
// assessment, a funding request, an approved plan with an ISF line, and both agreements.
type aRecordedPerson struct {
	person, carer api.Person
	relationship  api.Relationship
	assessment    api.Assessment
	financial     api.FinancialAssessment
	budget        api.PersonalBudget
	funding       api.FundingRequest
	plan          api.SupportPlan
	dp            api.DirectPaymentAgreement
	isf           api.ISFAgreement
	provider      api.Provider
}

func (b *bundle) aRecordedPerson() aRecordedPerson {
	b.t.Helper()
	t := b.t
	var x aRecordedPerson
	b.activeRAS("needs", 72_800)
	b.rateTable("2025-04-06", 11_250)
	x.provider = b.provider("isf_provider")
	x.person = b.newPerson(map[string]any{"given_name": "Zebedee", "family_name": "Quixote", "date_of_birth": "1995-03-01",
		"nhs_number": "9434765919", "address": map[string]any{"line1": "7 Lilac Lane", "town": "Luton", "postcode": "LU1 1AA"}})
	x.carer = b.newPerson(map[string]any{"given_name": "Carmela", "family_name": "Quixote"})
	pid := x.person.Id.String()
	r := b.do(http.MethodPost, "/v1/people/"+pid+"/relationships", b.token("practitioner"),
		map[string]any{"kind": "same_household_member", "related_person_id": x.carer.Id, "family_relation": "spouse"})
	require.Equal(t, http.StatusCreated, r.Status, string(r.Body))
	r.decode(t, &x.relationship)
	x.assessment = b.assess(pid, with(needsFacts("nutrition", "habitable_home"), "type", "needs",
		"ras_answers", map[string]string{"q1": "lots", "q2": "some"}), nil)
	x.financial = b.financial(pid, workedExample("2025-06-01"))
	x.budget = b.budget(x.assessment.BudgetId.MustGet().String())
	r = b.do(http.MethodPost, "/v1/funding-requests", b.token("practitioner"), map[string]any{
		"budget_id": x.budget.Id, "requested_annual_pence": 2_000_000, "reason": "Zebedee needs a night sitter"})
	require.Equal(t, http.StatusCreated, r.Status, string(r.Body))
	r.decode(t, &x.funding)
	plan, tag := b.planWith(x.budget,
		lineBody("day_service", "isf", 7_500, "1", x.budget, "provider_id", x.provider.Id),
		lineBody("personal_assistant", "direct_payment", 1_500, "10", x.budget))
	b.approve(plan, b.submit(plan, tag))
	x.plan = plan
	start := x.budget.StartDate.Time.Format("2006-01-02")
	r = b.do(http.MethodPost, "/v1/direct-payment-agreements", b.token("finance"), map[string]any{"plan_id": plan.Id, "recipient": "person",
		"account_type": "prepaid_card", "payment_basis": "net", "frequency": "four_weekly", "start_date": start})
	require.Equal(t, http.StatusCreated, r.Status, string(r.Body))
	r.decode(t, &x.dp)
	r = b.do(http.MethodPost, "/v1/isf-agreements", b.token("finance"), map[string]any{"plan_id": plan.Id, "provider_id": x.provider.Id,
		"payment_frequency": "monthly", "statement_frequency": "monthly", "start_date": start})
	require.Equal(t, http.StatusCreated, r.Status, string(r.Body))
	r.decode(t, &x.isf)
	return x
}

func TestEachPersonalReadLeavesItsAccessRecordAndNoPersonalValues(t *testing.T) {
	t.Parallel()
	b := setup(t)
	x := b.aRecordedPerson()
	pid, bid := x.person.Id.String(), x.budget.Id.String()
	type want struct {
		entity string
		id     uuid.UUID
	}
	cases := []struct {
		operation string
		path      string
		roles     []string
		filters   []string
		want      []want
	}{
		{"getPerson", "/v1/people/" + pid, []string{"practitioner"}, nil, []want{{"person", x.person.Id}}},
		{"listPeople", "/v1/people?nhs_number=9434765919", []string{"practitioner"}, []string{"nhs_number"}, []want{{"person", x.person.Id}}},
		{"listPeople", "/v1/people?family_name_prefix=Quix&person_type=adult", []string{"approver"}, []string{"family_name_prefix", "person_type"},
			[]want{{"person", x.person.Id}, {"person", x.carer.Id}}},
		{"listRelationships", "/v1/people/" + pid + "/relationships", []string{"practitioner"}, nil, []want{{"relationship", x.relationship.Id}}},
		{"getRelationship", "/v1/people/" + pid + "/relationships/" + x.relationship.Id.String(), []string{"auditor"}, nil,
			[]want{{"relationship", x.relationship.Id}}},
		{"listPersonAssessments", "/v1/people/" + pid + "/assessments", []string{"practitioner"}, nil, []want{{"assessment", x.assessment.Id}}},
		{"getAssessment", "/v1/assessments/" + x.assessment.Id.String(), []string{"panel"}, nil, []want{{"assessment", x.assessment.Id}}},
		{"listAssessments", "/v1/assessments?status=completed", []string{"practitioner"}, []string{"status"}, []want{{"assessment", x.assessment.Id}}},
		{"listPersonFinancialAssessments", "/v1/people/" + pid + "/financial-assessments", []string{"finance"}, nil,
			[]want{{"financial_assessment", x.financial.Id}}},
		{"getFinancialAssessment", "/v1/financial-assessments/" + x.financial.Id.String(), []string{"practitioner"}, nil,
			[]want{{"financial_assessment", x.financial.Id}}},
		{"getPersonalBudget", "/v1/personal-budgets/" + bid, []string{"finance"}, nil, []want{{"personal_budget", x.budget.Id}}},
		{"listPersonalBudgets", "/v1/personal-budgets?person_id=" + pid, []string{"approver"}, []string{"person_id"},
			[]want{{"personal_budget", x.budget.Id}}},
		{"listPersonBudgetVersions", "/v1/people/" + pid + "/personal-budgets", []string{"auditor"}, nil, []want{{"personal_budget", x.budget.Id}}},
		{"getFundingRequest", "/v1/funding-requests/" + x.funding.Id.String(), []string{"panel"}, nil, []want{{"funding_request", x.funding.Id}}},
		{"listFundingRequests", "/v1/funding-requests?status=pending", []string{"panel"}, []string{"status"},
			[]want{{"funding_request", x.funding.Id}}},
		{"getSupportPlan", "/v1/support-plans/" + x.plan.Id.String(), []string{"approver"}, nil, []want{{"support_plan", x.plan.Id}}},
		{"listBudgetSupportPlans", "/v1/personal-budgets/" + bid + "/support-plans", []string{"practitioner"}, nil,
			[]want{{"support_plan", x.plan.Id}}},
		{"listSupportPlans", "/v1/support-plans?status=approved", []string{"approver"}, []string{"status"}, []want{{"support_plan", x.plan.Id}}},
		{"getDirectPaymentAgreement", "/v1/direct-payment-agreements/" + x.dp.Id.String(), []string{"finance"}, nil,
			[]want{{"direct_payment_agreement", x.dp.Id}}},
		{"listDirectPaymentAgreements", "/v1/direct-payment-agreements", []string{"finance"}, nil, []want{{"direct_payment_agreement", x.dp.Id}}},
		{"getISFAgreement", "/v1/isf-agreements/" + x.isf.Id.String(), []string{"finance"}, nil, []want{{"isf_agreement", x.isf.Id}}},
		{"listISFAgreements", "/v1/isf-agreements", []string{"auditor"}, nil, []want{{"isf_agreement", x.isf.Id}}},
	}
	requestIDs := make([]string, len(cases))
	for i, c := range cases {
		r := b.do(http.MethodGet, c.path, b.reader(fmt.Sprintf("reader-%d", i), c.roles...), nil)
		require.Equal(t, http.StatusOK, r.Status, "%s: %s", c.path, r.Body)
		requestIDs[i] = r.Header.Get("X-Request-Id")
	}
	provider := b.tokenWith(auth.MintOptions{Council: b.council.Code, Subject: "provider-staff", Roles: []string{"provider"}, Provider: x.provider.Id.String()})
	r := b.do(http.MethodGet, "/v1/personal-budgets/"+bid+"/provider-view", provider, nil)
	require.Equal(t, http.StatusOK, r.Status, string(r.Body))

	for i, c := range cases {
		recs := b.accessRecords(url.Values{"actor": {fmt.Sprintf("reader-%d", i)}})
		require.Len(t, recs, len(c.want), "%s %s: one access record per record read", c.operation, c.path)
		for j, w := range c.want {
			rec := recs[j]
			if len(c.want) > 1 { // a list's records share a time: match by entity
				for _, other := range recs {
					if other.EntityId == w.id {
						rec = other
					}
				}
			}
			require.Equal(t, c.operation, rec.Operation, c.path)
			require.Equal(t, api.AccessEntityType(w.entity), rec.EntityType, c.path)
			require.Equal(t, w.id, rec.EntityId, c.path)
			wantPerson := x.person.Id
			if w.id == x.carer.Id {
				wantPerson = x.carer.Id
			}
			require.Equal(t, wantPerson, rec.PersonId, "%s: the person the record is about", c.path)
			require.Equal(t, c.roles, rec.Actor.Roles, c.path)
			require.Nil(t, rec.Actor.ProviderId)
			require.Equal(t, requestIDs[i], rec.RequestId.MustGet(), c.path)
			require.ElementsMatch(t, c.filters, rec.Filters, "%s: the names of the filters, never their values", c.path)
		}
	}
	recs := b.accessRecords(url.Values{"actor": {"provider-staff"}})
	require.Len(t, recs, 1)
	require.Equal(t, "getProviderBudgetView", recs[0].Operation)
	require.Equal(t, x.provider.Id, *recs[0].Actor.ProviderId)
	require.Equal(t, x.budget.Id, recs[0].EntityId)

	// Nothing personal in the stored records: no name, NHS number, address or search term.
	var stored string
	require.NoError(t, b.db.SQL().QueryRow(`SELECT string_agg(row_to_json(a)::text, ' ') FROM access_records a WHERE council_id = $1`,
		b.council.ID).Scan(&stored))
	for _, personal := range []string{"Zebedee", "Quixote", "Quix", "Carmela", "9434765919", "Lilac", "LU1", "night sitter", "1995-03-01"} {
		require.NotContains(t, stored, personal)
	}
}

func TestAFailedOrEmptyReadLeavesNoAccessRecord(t *testing.T) {
	t.Parallel()
	b := setup(t)
	p := b.newPerson(nil)
	foreign := b.newPersonIn(b.otherToken("practitioner"))
	for i, c := range []struct {
		path   string
		roles  []string
		status int
	}{
		{"/v1/people/" + foreign, []string{"practitioner"}, http.StatusNotFound},
		{"/v1/people/" + uuid.NewString(), []string{"practitioner"}, http.StatusNotFound},
		{"/v1/people/" + p.Id.String() + "/relationships", []string{"provider"}, http.StatusForbidden},
		{"/v1/people?nhs_number=9434765919", []string{"practitioner"}, http.StatusOK},
		{"/v1/people/" + p.Id.String() + "/assessments", []string{"practitioner"}, http.StatusOK},
		{"/v1/rate-tables", []string{"finance"}, http.StatusOK},
	} {
		subject := fmt.Sprintf("failed-%d", i)
		o := auth.MintOptions{Council: b.council.Code, Subject: subject, Roles: c.roles}
		if c.roles[0] == "provider" {
			o.Provider = uuid.NewString()
		}
		tok := b.tokenWith(o)
		require.Equal(t, c.status, b.do(http.MethodGet, c.path, tok, nil).Status, c.path)
		require.Empty(t, b.accessRecords(url.Values{"actor": {subject}}), "%s: nothing was read", c.path)
	}
}

func TestAccessRecordsFilterPageAndStayWithinTheCouncil(t *testing.T) {
	t.Parallel()
	b := setup(t)
	p1, p2 := b.newPerson(nil), b.newPerson(nil)
	alice, bob := b.reader("alice", "practitioner"), b.reader("bob", "approver")
	for _, read := range []struct {
		tok    string
		person api.Person
	}{{alice, p1}, {alice, p2}, {bob, p1}, {alice, p1}} {
		require.Equal(t, http.StatusOK, b.do(http.MethodGet, "/v1/people/"+read.person.Id.String(), read.tok, nil).Status)
	}
	p1ID := p1.Id.String()
	require.Len(t, b.accessRecords(url.Values{"person_id": {p1ID}}), 3)
	require.Len(t, b.accessRecords(url.Values{"actor": {"alice"}}), 3)
	require.Len(t, b.accessRecords(url.Values{"entity_id": {p2.Id.String()}}), 1)
	both := b.accessRecords(url.Values{"person_id": {p1ID}, "actor": {"bob"}})
	require.Len(t, both, 1)
	require.Equal(t, "bob", both[0].Actor.Subject)

	all := b.accessRecords(url.Values{"person_id": {p1ID}})
	from := all[1].OccurredAt.Format(time.RFC3339Nano)
	var later int
	for _, r := range all {
		if !r.OccurredAt.Before(all[1].OccurredAt) {
			later++
		}
	}
	require.Len(t, b.accessRecords(url.Values{"person_id": {p1ID}, "occurred_from": {from}}), later)
	require.Len(t, b.accessRecords(url.Values{"person_id": {p1ID}, "occurred_to": {from}}), len(all)-later)
	require.Empty(t, b.accessRecords(url.Values{"occurred_from": {"2199-01-01T00:00:00Z"}}))

	// Page by page, in time order, each record once.
	var walked []uuid.UUID
	next := ""
	tok := b.token("auditor")
	for {
		q := url.Values{"person_id": {p1ID}, "page_size": {"1"}}
		if next != "" {
			q.Set("page_token", next)
		}
		r := b.do(http.MethodGet, "/v1/access-records?"+q.Encode(), tok, nil)
		require.Equal(t, http.StatusOK, r.Status, string(r.Body))
		var page api.AccessRecordList
		r.decode(t, &page)
		for _, it := range page.Items {
			walked = append(walked, it.Id)
		}
		if page.NextPageToken == nil {
			break
		}
		next = *page.NextPageToken
	}
	require.Equal(t, []uuid.UUID{all[0].Id, all[1].Id, all[2].Id}, walked)
	r := b.do(http.MethodGet, "/v1/access-records?actor=bob&page_token="+url.QueryEscape(next), tok, nil)
	if next != "" {
		require.Equal(t, http.StatusBadRequest, r.Status, "a token is bound to its filters")
	}

	// Another council's auditor sees none of it; only auditors read the trail.
	r = b.do(http.MethodGet, "/v1/access-records?person_id="+p1ID, b.otherToken("auditor"), nil)
	require.Equal(t, http.StatusOK, r.Status)
	var theirs api.AccessRecordList
	r.decode(t, &theirs)
	require.Empty(t, theirs.Items)
	for _, role := range []string{"practitioner", "council_admin", "finance"} {
		require.Equal(t, http.StatusForbidden, b.do(http.MethodGet, "/v1/access-records", b.token(role), nil).Status, role)
	}
	require.Equal(t, http.StatusBadRequest, b.do(http.MethodGet, "/v1/access-records?person_id=nope", tok, nil).Status)
}

func TestAccessRecordsCannotBeUpdatedOrDeleted(t *testing.T) {
	t.Parallel()
	b := setup(t)
	p := b.newPerson(nil)
	require.Equal(t, http.StatusOK, b.do(http.MethodGet, "/v1/people/"+p.Id.String(), b.token("practitioner"), nil).Status)
	b.flushAccess()
	ctx := context.Background()
	owner, err := sql.Open("pgx", testdb.OwnerDSN())
	require.NoError(t, err)
	defer owner.Close()
	for _, stmt := range []string{
		`UPDATE access_records SET actor_subject = 'someone-else' WHERE council_id = $1`,
		`DELETE FROM access_records WHERE council_id = $1`,
		`TRUNCATE access_records`,
	} {
		var args []any
		if strings.Contains(stmt, "$1") {
			args = append(args, b.council.ID)
		}
		// The service's role holds no such privilege; the owner, which does, is stopped by the triggers.
		_, err := b.db.SQL().ExecContext(ctx, stmt, args...)
		require.ErrorContains(t, err, "permission denied", stmt)
		_, err = owner.ExecContext(ctx, stmt, args...)
		require.ErrorContains(t, err, "append-only", stmt)
	}
	require.Equal(t, int64(1), b.counts()["access_records"])
}

func TestListingsWithoutPeopleInThemAreNotRecorded(t *testing.T) {
	t.Parallel()
	b := setup(t)
	b.newPerson(nil)
	before := b.counts()["access_records"]
	for _, path := range []string{"/v1/audit-events", "/v1/access-records", "/v1/council/settings"} {
		require.Equal(t, http.StatusOK, b.do(http.MethodGet, path, b.token("auditor"), nil).Status, path)
	}
	require.Equal(t, before, b.counts()["access_records"])
}
