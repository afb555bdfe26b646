package postgres

import (
	"bytes"
	"context"
	"errors"
	"log/slog"
	"os"
	"testing"
	"time"

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
	var n []int
	require.NoError(t, db.conn(ctx).Raw(`SELECT 1 FROM pg_sleep(0.6) WHERE ? <> ''`, "SW1A 1AA").Scan(&n).Error, "a slow read (Raw and Scan)")
	require.Error(t, db.conn(ctx).Raw(`SELECT 1 / 0 WHERE ? <> ''`, "nhs 4010232137").Scan(&n).Error, "a failed read")
	out := logged.String()
	require.Contains(t, out, "SELECT 1 / 0", "the failed statement is logged")
	require.Contains(t, out, "pg_sleep", "the slow statement is logged")
	require.NotContains(t, out, "9434765919")
	require.NotContains(t, out, "LU1 2AB")
	require.NotContains(t, out, "SW1A 1AA")
	require.NotContains(t, out, "4010232137")
}

// A statement that succeeds in time is not formatted at all: its SQL is built only to be logged.
func TestAFastStatementIsNotFormatted(t *testing.T) {
	t.Parallel()
	var logged bytes.Buffer
	l := newLogger(slog.New(slog.NewJSONHandler(&logged, nil)))
	formatted := 0
	fc := func() (string, int64) { formatted++; return "SELECT 1", 1 }
	l.Trace(context.Background(), time.Now(), fc, nil)
	l.Trace(context.Background(), time.Now(), fc, gorm.ErrRecordNotFound)
	require.Zero(t, formatted, "a fast statement, and a missing row, are never formatted")
	require.Empty(t, logged.String())
	l.Trace(context.Background(), time.Now(), fc, errors.New("boom"))
	require.Equal(t, 1, formatted, "a failed statement is")
	l.Trace(context.Background(), time.Now().Add(-slowStatement-time.Millisecond), fc, nil)
	require.Equal(t, 2, formatted, "and so is a slow one")
	require.Contains(t, logged.String(), "SELECT 1")
}

func TestRedactLiteralsLeavesNoValueInTheSQL(t *testing.T) {
	for _, c := range []struct{ in, want string }{
		{`SELECT 1 WHERE x = 'SW1A 1AA'`, `SELECT 1 WHERE x = '?'`},
		{`WHERE a = 'O''Brien' AND b = 'x'`, `WHERE a = '?' AND b = '?'`},
		{`WHERE nhs = 9434765919 AND n = 12345 AND p = $1 AND t2 = 1234567`, `WHERE nhs = ? AND n = 12345 AND p = $1 AND t2 = ?`},
		{`WHERE col_123456 = $10`, `WHERE col_123456 = $10`},
		{`unterminated 'abc`, `unterminated '?'`},
	} {
		require.Equal(t, c.want, redactLiterals(c.in), c.in)
	}
}
