package httpapi_test

import (
	"context"
	"net/http"
	"net/url"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/pbudget/pbudget/api"
)

func TestEveryChangeIsAuditedWithActorRequestAndFieldNamesOnly(t *testing.T) {
	t.Parallel()
	b := setup(t)
	create := b.do(http.MethodPost, "/v1/people", b.token("practitioner"), map[string]any{
		"given_name": "Audrey", "family_name": "Trail", "date_of_birth": "1950-01-01", "person_type": "adult",
		"nhs_number": "9434765919",
	}, "X-Request-Id", "req-create-1")
	require.Equal(t, http.StatusCreated, create.Status)
	var p api.Person
	create.decode(t, &p)
	patch := b.do(http.MethodPatch, "/v1/people/"+p.Id.String(), b.token("practitioner"),
		map[string]any{"family_name": "Trail-Smith", "email": "a@example.org"}, "If-Match", `"1"`, "X-Request-Id", "req-patch-1")
	require.Equal(t, http.StatusOK, patch.Status)

	r := b.do(http.MethodGet, "/v1/audit-events?entity_id="+p.Id.String(), b.token("auditor"), nil)
	require.Equal(t, http.StatusOK, r.Status)
	var events api.AuditEventList
	r.decode(t, &events)
	require.Len(t, events.Items, 2)

	created, updated := events.Items[0], events.Items[1]
	require.Equal(t, "person.created", created.Action)
	require.Equal(t, "person", created.EntityType)
	require.Equal(t, "user-practitioner", created.Actor.Subject)
	require.Equal(t, []string{"practitioner"}, created.Actor.Roles)
	require.Equal(t, "req-create-1", created.RequestId.MustGet())
	require.ElementsMatch(t, []string{"given_name", "family_name", "date_of_birth", "person_type", "nhs_number"}, created.ChangedFields)

	require.Equal(t, "person.updated", updated.Action)
	require.Equal(t, "req-patch-1", updated.RequestId.MustGet())
	require.ElementsMatch(t, []string{"family_name", "email"}, updated.ChangedFields)
	require.False(t, updated.OccurredAt.Before(created.OccurredAt))

	for _, secret := range []string{"Audrey", "Trail", "9434765919", "a@example.org", "1950-01-01"} {
		require.NotContains(t, string(r.Body), secret, "the audit trail holds no personal data")
	}
}

func TestAuditTrailCannotBeUpdatedOrDeleted(t *testing.T) {
	t.Parallel()
	b := setup(t)
	b.newPerson(nil)
	ctx := context.Background()
	for _, stmt := range []string{
		`UPDATE audit_events SET action = 'person.forged' WHERE council_id = $1`,
		`DELETE FROM audit_events WHERE council_id = $1`,
	} {
		_, err := b.db.SQL().ExecContext(ctx, stmt, b.council.ID)
		require.ErrorContains(t, err, "append-only", stmt)
	}
	_, err := b.db.SQL().ExecContext(ctx, `TRUNCATE audit_events`)
	require.ErrorContains(t, err, "append-only")
	require.Equal(t, int64(1), b.counts()["audit_events"])
}

func TestAuditEventsFilterPageAndStayWithinTheCouncil(t *testing.T) {
	t.Parallel()
	b := setup(t)
	for range 3 {
		b.newPerson(nil)
	}
	b.newPersonIn(b.otherToken("practitioner"))
	tok := b.token("auditor")

	var seen int
	next := ""
	for {
		q := url.Values{"page_size": {"2"}, "action": {"person.created"}, "entity_type": {"person"}, "actor": {"user-practitioner"}}
		if next != "" {
			q.Set("page_token", next)
		}
		r := b.do(http.MethodGet, "/v1/audit-events?"+q.Encode(), tok, nil)
		require.Equal(t, http.StatusOK, r.Status)
		var page api.AuditEventList
		r.decode(t, &page)
		seen += len(page.Items)
		if page.NextPageToken == nil {
			break
		}
		next = *page.NextPageToken
	}
	require.Equal(t, 3, seen, "only our council's events")

	r := b.do(http.MethodGet, "/v1/audit-events?occurred_from="+url.QueryEscape("2999-01-01T00:00:00Z"), tok, nil)
	var none api.AuditEventList
	r.decode(t, &none)
	require.Empty(t, none.Items)

	changed := b.do(http.MethodGet, "/v1/audit-events?action=person.updated&page_token="+url.QueryEscape(next), tok, nil)
	if next != "" {
		require.Equal(t, http.StatusBadRequest, changed.Status, "a token is bound to its filters")
	}
}
