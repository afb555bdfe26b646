package postgres_test

import (
	"context"
	"io/fs"
	"os"
	"sync"
	"testing"

	"github.com/riverqueue/river/riverdriver/riverdatabasesql"
	"github.com/riverqueue/river/rivermigrate"
	"github.com/stretchr/testify/require"

	"github.com/pbudget/pbudget/internal/postgres"
	"github.com/pbudget/pbudget/internal/testdb"
	"github.com/pbudget/pbudget/migrations"
)

func TestMain(m *testing.M) { os.Exit(testdb.Run(m)) }

// TestInstancesStartingTogetherMigrateOnce: four instances migrate and grant the runtime role at
// once (as `serve` does at start); each migration applies once and no GRANT trips over another.
func TestInstancesStartingTogetherMigrateOnce(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	name, err := testdb.Create(ctx)
	require.NoError(t, err)
	t.Cleanup(func() { _ = testdb.Drop(context.Background(), name) })
	dsn := testdb.OwnerURL(name)
	_, runtimeRole := testdb.Roles()

	const instances = 4
	versions := make([]int64, instances)
	errs := make([]error, instances)
	var wg sync.WaitGroup
	for i := range instances {
		wg.Add(1)
		go func() {
			defer wg.Done()
			db, err := postgres.Open(ctx, dsn, 2, testdb.Logger())
			if err != nil {
				errs[i] = err
				return
			}
			defer db.Close()
			if versions[i], errs[i] = postgres.Migrate(ctx, db.SQL(), nil); errs[i] == nil {
				errs[i] = postgres.GrantRuntime(ctx, db.SQL(), runtimeRole)
			}
		}()
	}
	wg.Wait()
	target, err := postgres.TargetVersion()
	require.NoError(t, err)
	for i := range instances {
		require.NoError(t, errs[i])
		require.Equal(t, target, versions[i])
	}
	db, err := postgres.Open(ctx, dsn, 1, testdb.Logger())
	require.NoError(t, err)
	defer db.Close()
	files, err := fs.Glob(migrations.FS, "*.sql")
	require.NoError(t, err)
	var applied int
	require.NoError(t, db.SQL().QueryRow(`SELECT count(*) FROM goose_db_version WHERE version_id > 0`).Scan(&applied))
	require.Equal(t, len(files), applied, "each migration applied exactly once (numbers are assigned with gaps)")

	m, err := rivermigrate.New(riverdatabasesql.New(db.SQL()), nil)
	require.NoError(t, err)
	var riverApplied int
	require.NoError(t, db.SQL().QueryRow(`SELECT count(*) FROM river_migration WHERE line = 'main'`).Scan(&riverApplied))
	require.Equal(t, len(m.AllVersions()), riverApplied, "River's tables are migrated by the same step")
}
