package postgres_test

import (
	"context"
	"database/sql"
	"errors"
	"io"
	"log/slog"
	"testing"
	"time"

	"github.com/google/uuid"
	"github.com/stretchr/testify/require"

	"github.com/pbudget/pbudget/internal/postgres"
	"github.com/pbudget/pbudget/internal/testdb"
)

// keptPastItsTransaction is the context of a transaction that sent a statement and committed.
func keptPastItsTransaction(t *testing.T, db *postgres.DB) context.Context {
	t.Helper()
	var kept context.Context
	require.NoError(t, db.WithinTx(context.Background(), func(ctx context.Context) error {
		kept = ctx
		return selectOne(ctx, db)
	}))
	return kept
}

func selectOne(ctx context.Context, db *postgres.DB) error {
	tx, _ := db.SQLTx(ctx)
	_, err := tx.ExecContext(ctx, `SELECT 1`)
	return err
}

// A context kept past the end of a transaction that sent something: its statements fail (as a
// *sql.Tx's do with ErrTxDone), and so does a savepoint on it.
func TestAContextKeptPastItsTransactionFailsItsStatements(t *testing.T) {
	db := testdb.DB(t)
	kept := keptPastItsTransaction(t, db)
	require.NotPanics(t, func() { require.Error(t, selectOne(kept, db)) }, "ExecContext after the end")
}

func TestASavepointOnAContextKeptPastItsTransactionFails(t *testing.T) {
	db := testdb.DB(t)
	kept := keptPastItsTransaction(t, db)
	require.NotPanics(t, func() {
		require.Error(t, db.WithinTx(kept, func(ctx context.Context) error { return selectOne(ctx, db) }))
	}, "WithinTx on a kept context")
}

// When the transaction's connection is dead and its first statement is a QueryRowContext (whose
// *sql.Row cannot carry our error), the command's error is that failure, not a cancellation.
func TestATransactionThatCannotBeginEndsWithThatFailure(t *testing.T) {
	db := onePoolConnection(t)
	var pid int
	require.NoError(t, db.SQL().QueryRow(`SELECT pg_backend_pid()`).Scan(&pid))
	admin, err := sql.Open("pgx", testdb.AdminURL())
	require.NoError(t, err)
	defer admin.Close()
	_, err = admin.Exec(`SELECT pg_terminate_backend($1)`, pid)
	require.NoError(t, err)
	for gone := false; !gone; { // the server has closed it; the pool does not know
		var n int
		require.NoError(t, admin.QueryRow(`SELECT count(*) FROM pg_stat_activity WHERE pid = $1`, pid).Scan(&n))
		gone = n == 0
	}
	err = db.WithinTx(context.Background(), func(ctx context.Context) error {
		tx, _ := db.SQLTx(ctx)
		var n int
		return tx.QueryRowContext(ctx, `SELECT 1`).Scan(&n)
	})
	require.Error(t, err)
	require.False(t, errors.Is(err, context.Canceled), "a connection failure reported as the client's cancellation: %v", err)
	require.NoError(t, db.WithinTx(context.Background(), func(ctx context.Context) error {
		tx, _ := db.SQLTx(ctx)
		var n int
		return tx.QueryRowContext(ctx, `SELECT 1`).Scan(&n)
	}), "the pool replaced the dead connection")
}

func onePoolConnection(t *testing.T) *postgres.DB {
	db, err := postgres.Open(context.Background(), testdb.DSN(), 1, slog.New(slog.NewTextHandler(io.Discard, nil)))
	require.NoError(t, err)
	t.Cleanup(func() { db.Close() })
	return db
}

func freshCode() string { return "tx-" + uuid.NewString()[:12] }

func TestASavepointsHandledFailureUndoesOnlyTheSavepoint(t *testing.T) {
	db := onePoolConnection(t)
	taken := freshCode()
	require.NoError(t, db.WithinTx(context.Background(), func(ctx context.Context) error {
		return db.DeferExec(ctx, map[string]error{"councils_code_key": errTaken}, `INSERT INTO councils (id, code, name) VALUES ($1, $2, 'R')`, uuid.New(), taken)
	}))
	a, b, c := freshCode(), freshCode(), freshCode()
	ins := func(ctx context.Context, code string) error {
		return db.DeferExec(ctx, map[string]error{"councils_code_key": errTaken}, `INSERT INTO councils (id, code, name) VALUES ($1, $2, 'R')`, uuid.New(), code)
	}
	require.NoError(t, db.WithinTx(context.Background(), func(ctx context.Context) error {
		require.NoError(t, ins(ctx, a)) // deferred at the top
		err := db.WithinTx(ctx, func(ctx context.Context) error {
			require.NoError(t, ins(ctx, b))
			return ins(ctx, taken)
		})
		require.ErrorIs(t, err, errTaken)
		return ins(ctx, c)
	}))
	require.True(t, councilExists(t, a))
	require.False(t, councilExists(t, b), "undone with its savepoint")
	require.True(t, councilExists(t, c))
}

func TestFailedDeferredChangesLeaveThePoolsOneConnectionSound(t *testing.T) {
	db := onePoolConnection(t)
	taken := freshCode()
	ins := func(ctx context.Context, code string) error {
		return db.DeferExec(ctx, map[string]error{"councils_code_key": errTaken}, `INSERT INTO councils (id, code, name) VALUES ($1, $2, 'R')`, uuid.New(), code)
	}
	require.NoError(t, db.WithinTx(context.Background(), func(ctx context.Context) error { return ins(ctx, taken) }))
	for range 3 {
		err := db.WithinTx(context.Background(), func(ctx context.Context) error {
			require.NoError(t, ins(ctx, taken))
			tx, _ := db.SQLTx(ctx)
			_, err := tx.ExecContext(ctx, `SELECT 1 WHERE $1::int = 1`, 1)
			_ = err // a caller that goes on regardless
			return nil
		})
		require.ErrorIs(t, err, errTaken)
	}
	kept := freshCode()
	require.NoError(t, db.WithinTx(context.Background(), func(ctx context.Context) error { return ins(ctx, kept) }))
	require.True(t, councilExists(t, kept))
}

func TestAStatementCancelledMidTransactionRollsItBackAndFreesTheConnection(t *testing.T) {
	db := onePoolConnection(t)
	a := freshCode()
	ctx, cancel := context.WithCancel(context.Background())
	err := db.WithinTx(ctx, func(ctx context.Context) error {
		tx, _ := db.SQLTx(ctx)
		if _, err := tx.ExecContext(ctx, `INSERT INTO councils (id, code, name) VALUES ($1, $2, 'R')`, uuid.New(), a); err != nil {
			return err
		}
		go func() { time.Sleep(50 * time.Millisecond); cancel() }()
		_, _ = tx.ExecContext(ctx, `SELECT pg_sleep(1)`)
		return nil
	})
	require.Error(t, err)
	require.False(t, councilExists(t, a))
	b := freshCode()
	require.NoError(t, db.WithinTx(context.Background(), func(ctx context.Context) error {
		tx, _ := db.SQLTx(ctx)
		_, err := tx.ExecContext(ctx, `INSERT INTO councils (id, code, name) VALUES ($1, $2, 'R')`, uuid.New(), b)
		return err
	}))
	require.True(t, councilExists(t, b))
}

// Rows left open end with their transaction, as a *sql.Tx's do: the commit does not wait on them.
func TestRowsLeftOpenEndWithTheirTransaction(t *testing.T) {
	db := onePoolConnection(t)
	done := make(chan error, 1)
	go func() {
		done <- db.WithinTx(context.Background(), func(ctx context.Context) error {
			tx, _ := db.SQLTx(ctx)
			_, err := tx.QueryContext(ctx, `SELECT generate_series(1, 3)`)
			return err
		})
	}()
	select {
	case err := <-done:
		t.Logf("returned: %v", err)
	case <-time.After(30 * time.Second): // not a timing assertion: a hang
		t.Fatal("WithinTx did not return: the open rows hold the connection")
	}
}
