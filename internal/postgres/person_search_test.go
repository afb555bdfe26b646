package postgres_test

import (
	"context"
	"database/sql"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/google/uuid"
	"github.com/pbudget/pbudget/internal/page"
	"github.com/pbudget/pbudget/internal/person"
	"github.com/pbudget/pbudget/internal/postgres"
	"github.com/pbudget/pbudget/internal/testdb"
	"github.com/stretchr/testify/require"
)

// TestTheFamilyNamePrefixSearchNeverSortsItsMatches: on 30,000 people, most of them matching a
// common prefix, the listing's plan (a custom plan, and the generic plan a cached statement
// falls back to) reads the matches in page order from the index and sorts nothing, on the first
// page and after a cursor; a rare prefix neither. A plan with a Sort node would read and sort
// every match before the first page.
func TestTheFamilyNamePrefixSearchNeverSortsItsMatches(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	name, err := testdb.Create(ctx)
	require.NoError(t, err)
	t.Cleanup(func() { _ = testdb.Drop(context.Background(), name) })
	require.NoError(t, testdb.Migrate(ctx, name))
	owner, err := sql.Open("pgx", testdb.OwnerURL(name))
	require.NoError(t, err)
	defer owner.Close()

	council := uuid.New()
	_, err = owner.ExecContext(ctx, `INSERT INTO councils (id, code, name) VALUES ($1, 'search', 'Search Council')`, council)
	require.NoError(t, err)
	// 30,000 people: two in three Smith-something, the rest spread over other names.
	_, err = owner.ExecContext(ctx, `INSERT INTO people (council_id, id, given_name, family_name, date_of_birth, person_type, version, created_at, updated_at)
		SELECT $1, gen_random_uuid(), 'Given',
		       CASE WHEN i % 3 <> 0 THEN 'Smith' || (i % 50) ELSE chr(65 + i % 26) || 'name' || i END,
		       DATE '1960-01-01' + (i % 15000), 'adult', 1, TIMESTAMPTZ '2025-01-01' + i * INTERVAL '1 minute', now()
		FROM generate_series(1, 30000) i`, council)
	require.NoError(t, err)
	_, err = owner.ExecContext(ctx, `ANALYZE people`)
	require.NoError(t, err)

	db, err := postgres.Open(ctx, testdb.OwnerURL(name), 1, testdb.Logger())
	require.NoError(t, err)
	defer db.Close()
	after := &page.Cursor{Time: time.Date(2025, 1, 2, 0, 0, 0, 0, time.UTC), ID: uuid.Nil}
	for _, c := range []struct {
		name   string
		prefix string
		after  *page.Cursor
	}{
		{"a common prefix, first page", "smi", nil},
		{"a common prefix, after a cursor", "Smith1", after},
		{"a rare prefix", "qna", nil},
	} {
		for _, mode := range []string{"force_custom_plan", "force_generic_plan"} {
			t.Run(c.name+", "+mode, func(t *testing.T) {
				plan := explainListing(t, db, mode, council, person.Filter{FamilyNamePrefix: c.prefix}, page.Request{Size: 50, After: c.after})
				require.NotContains(t, plan, "Sort", "the matches are read in page order, not sorted:\n%s", plan)
				require.Contains(t, plan, "people_family_name_order_idx", plan)
			})
		}
	}
}

// explainListing is the plan of ListPeople's statement, prepared as a cached statement is,
// under the plan cache mode given.
func explainListing(t *testing.T, db *postgres.DB, mode string, council uuid.UUID, f person.Filter, p page.Request) string {
	t.Helper()
	query, vars := postgres.ListPeopleSQL(db, council, f, p)
	args := make([]string, len(vars))
	for i, v := range vars {
		switch v := v.(type) {
		case int:
			args[i] = fmt.Sprint(v)
		case time.Time:
			args[i] = "'" + v.Format(time.RFC3339Nano) + "'"
		default:
			args[i] = "'" + strings.ReplaceAll(fmt.Sprint(v), "'", "''") + "'"
		}
	}
	ctx := context.Background()
	conn, err := db.SQL().Conn(ctx)
	require.NoError(t, err)
	defer conn.Close()
	for _, q := range []string{"SET plan_cache_mode = " + mode, "PREPARE listing AS " + query} {
		_, err := conn.ExecContext(ctx, q)
		require.NoError(t, err, q)
	}
	defer conn.ExecContext(ctx, "DEALLOCATE listing")
	rs, err := conn.QueryContext(ctx, "EXPLAIN EXECUTE listing("+strings.Join(args, ", ")+")")
	require.NoError(t, err)
	defer rs.Close()
	var plan strings.Builder
	for rs.Next() {
		var line string
		require.NoError(t, rs.Scan(&line))
		plan.WriteString(line + "\n")
	}
	require.NoError(t, rs.Err())
	return plan.String()
}
