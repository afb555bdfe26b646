package postgres_test

import (
	"context"
	"database/sql"
	"slices"
	"strings"
	"testing"

	"github.com/pressly/goose/v3"
	"github.com/stretchr/testify/require"

	"github.com/pbudget/pbudget/internal/postgres"
	"github.com/pbudget/pbudget/internal/testdb"
	"github.com/pbudget/pbudget/migrations"
)

// tablePrivileges returns, for every table of the public schema, the privileges role holds on it
// as letters: S select, I insert, U update, D delete, T truncate, R references, G trigger.
func tablePrivileges(t *testing.T, db *sql.DB, role string) map[string]string {
	t.Helper()
	rows, err := db.Query(`SELECT c.relname,
			has_table_privilege($1, c.oid, 'SELECT'), has_table_privilege($1, c.oid, 'INSERT'),
			has_table_privilege($1, c.oid, 'UPDATE'), has_table_privilege($1, c.oid, 'DELETE'),
			has_table_privilege($1, c.oid, 'TRUNCATE'), has_table_privilege($1, c.oid, 'REFERENCES'),
			has_table_privilege($1, c.oid, 'TRIGGER')
		FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
		WHERE n.nspname = 'public' AND c.relkind IN ('r', 'p')`, role)
	require.NoError(t, err)
	defer rows.Close()
	out := map[string]string{}
	for rows.Next() {
		var name string
		var has [7]bool
		require.NoError(t, rows.Scan(&name, &has[0], &has[1], &has[2], &has[3], &has[4], &has[5], &has[6]))
		var b strings.Builder
		for i, letter := range "SIUDTRG" {
			if has[i] {
				b.WriteRune(letter)
			}
		}
		out[name] = b.String()
	}
	require.NoError(t, rows.Err())
	return out
}

// requireRuntimePrivileges checks every table and sequence against the rule of GrantRuntime.
func requireRuntimePrivileges(t *testing.T, db *sql.DB, role string) {
	t.Helper()
	privileges := tablePrivileges(t, db, role)
	require.NotEmpty(t, privileges)
	for table, got := range privileges {
		want := "SIUD"
		switch {
		case slices.Contains(postgres.AppendOnlyTables, table):
			want = "SI"
		case table == "goose_db_version":
			want = "S"
		}
		require.Equal(t, want, got, "the runtime role's privileges on %s", table)
	}
	var sequences, usable int
	require.NoError(t, db.QueryRow(`SELECT count(*), count(*) FILTER (WHERE has_sequence_privilege($1, c.oid, 'USAGE')
			AND NOT has_sequence_privilege($1, c.oid, 'UPDATE'))
		FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace WHERE n.nspname = 'public' AND c.relkind = 'S'`, role).
		Scan(&sequences, &usable))
	require.Equal(t, sequences, usable, "USAGE, and only USAGE, on every sequence")
	var create, usage bool
	require.NoError(t, db.QueryRow(`SELECT has_schema_privilege($1, 'public', 'CREATE'), has_schema_privilege($1, 'public', 'USAGE')`, role).
		Scan(&create, &usage))
	require.False(t, create, "the runtime role cannot create tables")
	require.True(t, usage)
}

func TestTheRuntimeRoleHoldsOnlyWhatServingNeeds(t *testing.T) {
	t.Parallel()
	owner, err := sql.Open("pgx", testdb.OwnerDSN())
	require.NoError(t, err)
	defer owner.Close()
	_, runtime := testdb.Roles()
	requireRuntimePrivileges(t, owner, runtime)
	privileges := tablePrivileges(t, owner, runtime)
	require.Equal(t, "SI", privileges["audit_events"])
	require.Equal(t, "SIUD", privileges["people"])
}

// TestGrantsCoverTablesOfLaterMigrations: granting after the first migration skips the
// append-only tables still to come; after the rest, the tables they added are covered too.
func TestGrantsCoverTablesOfLaterMigrations(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	name, err := testdb.Create(ctx)
	require.NoError(t, err)
	t.Cleanup(func() { _ = testdb.Drop(context.Background(), name) })
	owner, err := sql.Open("pgx", testdb.OwnerURL(name))
	require.NoError(t, err)
	defer owner.Close()
	_, runtime := testdb.Roles()

	p, err := goose.NewProvider(goose.DialectPostgres, owner, migrations.FS)
	require.NoError(t, err)
	_, err = p.UpTo(ctx, 1)
	require.NoError(t, err)
	require.NoError(t, postgres.GrantRuntime(ctx, owner, runtime), "personal_budget_versions does not exist yet")
	requireRuntimePrivileges(t, owner, runtime)
	require.NotContains(t, tablePrivileges(t, owner, runtime), "personal_budget_versions")

	_, err = postgres.Migrate(ctx, owner, nil)
	require.NoError(t, err)
	require.Empty(t, tablePrivileges(t, owner, runtime)["support_plans"], "a new table has no grants until migrate grants them")
	require.NoError(t, postgres.GrantRuntime(ctx, owner, runtime))
	requireRuntimePrivileges(t, owner, runtime)
	require.Equal(t, "SI", tablePrivileges(t, owner, runtime)["personal_budget_versions"])

	ownerRole, _ := testdb.Roles()
	require.ErrorContains(t, postgres.GrantRuntime(ctx, owner, ownerRole), "is the role that runs the migrations")
}

func TestCheckRuntimeRoleNamesWhatCouldAlterTheAuditTrail(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	check, err := testdb.DB(t).CheckRuntimeRole(ctx)
	require.NoError(t, err)
	_, runtime := testdb.Roles()
	require.Equal(t, runtime, check.Role)
	require.Empty(t, check.Unsafe, "the runtime role is safe")

	owner, err := postgres.Open(ctx, testdb.OwnerDSN(), 1, testdb.Logger())
	require.NoError(t, err)
	defer owner.Close()
	check, err = owner.CheckRuntimeRole(ctx)
	require.NoError(t, err)
	require.Contains(t, check.Unsafe, "it owns audit_events (and so can disable or drop its triggers)")

	admin, err := postgres.Open(ctx, testdb.WithDatabase(testdb.AdminURL(), dbName(t)), 1, testdb.Logger())
	require.NoError(t, err)
	defer admin.Close()
	check, err = admin.CheckRuntimeRole(ctx)
	require.NoError(t, err)
	require.Equal(t, []string{"it is a superuser"}, check.Unsafe)

	// A runtime role someone granted too much, on a database of its own.
	name, err := testdb.Create(ctx)
	require.NoError(t, err)
	t.Cleanup(func() { _ = testdb.Drop(context.Background(), name) })
	require.NoError(t, testdb.Migrate(ctx, name))
	ownerDB, err := sql.Open("pgx", testdb.OwnerURL(name))
	require.NoError(t, err)
	defer ownerDB.Close()
	_, err = ownerDB.Exec(`GRANT DELETE ON audit_events TO ` + runtime)
	require.NoError(t, err)
	loose, err := postgres.Open(ctx, testdb.RuntimeURL(name), 1, testdb.Logger())
	require.NoError(t, err)
	defer loose.Close()
	check, err = loose.CheckRuntimeRole(ctx)
	require.NoError(t, err)
	require.Equal(t, []string{"it holds UPDATE, DELETE or TRUNCATE on audit_events"}, check.Unsafe)
	require.NoError(t, testdb.Migrate(ctx, name))
	check, err = loose.CheckRuntimeRole(ctx)
	require.NoError(t, err)
	require.Empty(t, check.Unsafe, "migrate takes the excess grant back")
}

// dbName returns the name of this binary's database.
func dbName(t *testing.T) string {
	t.Helper()
	var name string
	require.NoError(t, testdb.DB(t).SQL().QueryRow(`SELECT current_database()`).Scan(&name))
	return name
}
