package postgres

import (
	"bytes"
	"context"
	"log/slog"
	"os"
	"testing"

	"github.com/stretchr/testify/require"
	"gorm.io/gorm"
)

// Failed and slow statements are logged without their values, which may be personal data: gorm
// asks the logger (a gorm.ParamsFilter) what to write, so the wrapper must answer.
func TestStatementsAreLoggedWithoutTheirValues(t *testing.T) {
	t.Parallel()
	var _ gorm.ParamsFilter = quietOnCancel{}
	dsn := os.Getenv("TEST_DATABASE_URL")
	if dsn == "" {
		dsn = os.Getenv("DATABASE_URL")
	}
	var logged bytes.Buffer
	ctx := context.Background()
	db, err := Open(ctx, dsn, 1, slog.New(slog.NewJSONHandler(&logged, nil)))
	require.NoError(t, err)
	defer db.Close()
	require.Error(t, db.conn(ctx).Exec(`SELECT 1 / 0 WHERE ? <> ''`, "nhs 9434765919").Error, "a failed statement")
	require.NoError(t, db.conn(ctx).Exec(`SELECT pg_sleep(0.6) WHERE ? <> ''`, "LU1 2AB").Error, "a slow statement")
	out := logged.String()
	require.Contains(t, out, "SELECT 1 / 0", "the failed statement is logged")
	require.Contains(t, out, "pg_sleep", "the slow statement is logged")
	require.NotContains(t, out, "9434765919")
	require.NotContains(t, out, "LU1 2AB")
}
