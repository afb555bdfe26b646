package postgres_test

import (
	"context"
	"io/fs"
	"os"
	"sync"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/pbudget/pbudget/internal/postgres"
	"github.com/pbudget/pbudget/internal/testdb"
	"github.com/pbudget/pbudget/migrations"
)

func TestMain(m *testing.M) { os.Exit(testdb.Run(m)) }

func TestInstancesStartingTogetherMigrateOnce(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	name, err := testdb.Create(ctx)
	require.NoError(t, err)
	t.Cleanup(func() { _ = testdb.Drop(context.Background(), name) })
	dsn := testdb.WithDatabase(testdb.AdminURL(), name)

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
			versions[i], errs[i] = postgres.Migrate(ctx, db.SQL(), nil)
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
	var applied int
	require.NoError(t, db.SQL().QueryRow(`SELECT count(*) FROM goose_db_version WHERE version_id > 0`).Scan(&applied))
	files, err := fs.Glob(migrations.FS, "*.sql")
	require.NoError(t, err)
	require.Equal(t, len(files), applied, "each migration applied exactly once (numbers are assigned to branches, so they may have gaps)")
}
