package httpapi_test

import (
	"context"
	"database/sql"
	"net/http"
	"net/url"
	"testing"

	"github.com/jackc/pgx/v5/pgconn"
	"github.com/stretchr/testify/require"

	"github.com/pbudget/pbudget/api"
	"github.com/pbudget/pbudget/internal/postgres"
	"github.com/pbudget/pbudget/internal/testdb"
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

// TestTheServiceRoleCannotAlterTheAuditTrail: connected as the runtime role the service serves as,
// every way to change or remove audit events, or to switch off the triggers that guard them, is
// refused by PostgreSQL's privileges; the other append-only tables refuse changes too.
func TestTheServiceRoleCannotAlterTheAuditTrail(t *testing.T) {
	t.Parallel()
	b := setup(t)
	b.newPerson(nil)
	ctx := context.Background()
	runtime := b.db.SQL()
	var role string
	require.NoError(t, runtime.QueryRowContext(ctx, `SELECT current_user`).Scan(&role))
	_, want := testdb.Roles()
	require.Equal(t, want, role, "the tests serve as the runtime role")

	refused := func(stmt string, args ...any) {
		t.Helper()
		conn, err := runtime.Conn(ctx) // one session, so that a SET would stick to it
		require.NoError(t, err)
		defer conn.Close()
		_, err = conn.ExecContext(ctx, stmt, args...)
		var pgErr *pgconn.PgError
		require.ErrorAs(t, err, &pgErr, stmt)
		require.Equal(t, "42501", pgErr.Code, "%s: insufficient privilege, got %s", stmt, pgErr.Message)
		var replication string
		require.NoError(t, conn.QueryRowContext(ctx, `SHOW session_replication_role`).Scan(&replication))
		require.Equal(t, "origin", replication, "triggers still fire in this session")
	}
	refused(`UPDATE audit_events SET action = 'person.forged' WHERE council_id = $1`, b.council.ID)
	refused(`DELETE FROM audit_events WHERE council_id = $1`, b.council.ID)
	refused(`TRUNCATE audit_events`)
	refused(`ALTER TABLE audit_events DISABLE TRIGGER USER`)
	refused(`ALTER TABLE audit_events DISABLE TRIGGER audit_events_no_update_delete`)
	refused(`DROP TRIGGER audit_events_no_update_delete ON audit_events`)
	refused(`DROP TRIGGER audit_events_no_truncate ON audit_events`)
	refused(`SET session_replication_role = replica`)
	refused(`ALTER TABLE audit_events RENAME TO audit_events_old`)
	refused(`DROP TABLE audit_events`)
	refused(`CREATE OR REPLACE FUNCTION audit_events_append_only() RETURNS trigger LANGUAGE plpgsql AS $$ BEGIN RETURN NEW; END $$`)
	refused(`CREATE TABLE audit_events_shadow (id int)`)
	for _, table := range postgres.AppendOnlyTables {
		var exists bool
		require.NoError(t, runtime.QueryRowContext(ctx, `SELECT to_regclass('public.' || $1) IS NOT NULL`, table).Scan(&exists))
		if !exists {
			continue // its migration has not come yet
		}
		refused(`UPDATE `+table+` SET council_id = council_id WHERE council_id = $1`, b.council.ID)
		refused(`DELETE FROM `+table+` WHERE council_id = $1`, b.council.ID)
		refused(`TRUNCATE ` + table)
	}
	require.Equal(t, int64(1), b.counts()["audit_events"])

	// Behind the privileges, the triggers: even the owner role cannot rewrite the trail without
	// first switching them off, which only a migration would do.
	owner := ownerDB(t)
	for _, stmt := range []string{
		`UPDATE audit_events SET action = 'person.forged' WHERE council_id = $1`,
		`DELETE FROM audit_events WHERE council_id = $1`,
	} {
		_, err := owner.ExecContext(ctx, stmt, b.council.ID)
		require.ErrorContains(t, err, "append-only", stmt)
	}
	_, err := owner.ExecContext(ctx, `TRUNCATE audit_events`)
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

// ownerDB connects to the test database as the owner role, which migrates and which the service
// never runs as.
func ownerDB(t *testing.T) *sql.DB {
	t.Helper()
	owner, err := sql.Open("pgx", testdb.OwnerDSN())
	require.NoError(t, err)
	t.Cleanup(func() { owner.Close() })
	return owner
}
