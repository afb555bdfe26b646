package postgres_test

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"testing"

	"github.com/google/uuid"
	"github.com/stretchr/testify/require"

	"github.com/pbudget/pbudget/internal/testdb"
)

// insertCouncil inserts a council through the *sql.Tx of the context's transaction, as a library
// joining it (River's transactional enqueue) would, and returns its code.
func insertCouncil(t *testing.T, ctx context.Context) string {
	t.Helper()
	tx, ok := testdb.DB(t).SQLTx(ctx)
	require.True(t, ok, "the context carries a transaction")
	var b [6]byte
	_, _ = rand.Read(b[:])
	code := "tx-" + hex.EncodeToString(b[:])
	_, err := tx.ExecContext(ctx, `INSERT INTO councils (id, code, name) VALUES ($1, $2, 'Tx')`, uuid.New(), code)
	require.NoError(t, err)
	return code
}

func councilExists(t *testing.T, code string) bool {
	t.Helper()
	var n int
	require.NoError(t, testdb.DB(t).SQL().QueryRow(`SELECT count(*) FROM councils WHERE code = $1`, code).Scan(&n))
	return n == 1
}

func TestSQLTxIsTheTransactionOfTheContext(t *testing.T) {
	t.Parallel()
	db := testdb.DB(t)
	_, ok := db.SQLTx(context.Background())
	require.False(t, ok, "no transaction outside WithinTx")

	var kept, dropped string
	require.NoError(t, db.WithinTx(context.Background(), func(ctx context.Context) error {
		kept = insertCouncil(t, ctx)
		return nil
	}))
	require.True(t, councilExists(t, kept), "committed with the transaction")

	boom := errors.New("boom")
	err := db.WithinTx(context.Background(), func(ctx context.Context) error {
		dropped = insertCouncil(t, ctx)
		return db.WithinTx(ctx, func(ctx context.Context) error {
			_, ok := db.SQLTx(ctx)
			require.True(t, ok, "a savepoint is in the same transaction")
			return boom
		})
	})
	require.ErrorIs(t, err, boom)
	require.False(t, councilExists(t, dropped), "rolled back with the transaction")
}

// TestAContextThatEndsBeforeCommitRollsBack: the caller goes away after the work is done but
// before the commit: nothing is committed, and the caller learns why. The same work with the
// context alive commits.
func TestAContextThatEndsBeforeCommitRollsBack(t *testing.T) {
	t.Parallel()
	db := testdb.DB(t)
	ctx, cancel := context.WithCancel(context.Background())
	var code string
	err := db.WithinTx(ctx, func(ctx context.Context) error {
		code = insertCouncil(t, ctx)
		cancel()
		return nil
	})
	require.ErrorIs(t, err, context.Canceled)
	require.False(t, councilExists(t, code))

	err = db.WithinTx(ctx, func(ctx context.Context) error {
		t.Fatal("no transaction starts on an ended context")
		return nil
	})
	require.ErrorIs(t, err, context.Canceled)

	// The statements inside honour the context: work stops early, and the error says why.
	ctx, cancel = context.WithCancel(context.Background())
	err = db.WithinTx(ctx, func(ctx context.Context) error {
		code = insertCouncil(t, ctx)
		cancel()
		tx, _ := db.SQLTx(ctx)
		_, err := tx.ExecContext(ctx, `SELECT 1`)
		return err
	})
	require.ErrorIs(t, err, context.Canceled)
	require.False(t, councilExists(t, code))
}

// A step joined to its caller's transaction (JoinTx) runs in it without a savepoint; when it
// fails, the caller that returns its error rolls everything back, and a caller that goes on
// regardless does not commit either (its transaction ends with the step's error). Inside a
// savepoint that handles the step's failure, only the savepoint is undone. Outside a
// transaction, JoinTx is a transaction of its own.
func TestAJoinedStepThatFailsNeverCommitsItsCallersWork(t *testing.T) {
	t.Parallel()
	db := testdb.DB(t)
	ctx := context.Background()
	boom := errors.New("boom")
	var mine, step string
	err := db.WithinTx(ctx, func(ctx context.Context) error {
		mine = insertCouncil(t, ctx)
		_ = db.JoinTx(ctx, func(ctx context.Context) error {
			step = insertCouncil(t, ctx)
			return boom
		}) // the error is dropped: the transaction must not commit
		return nil
	})
	require.ErrorIs(t, err, boom)
	require.False(t, councilExists(t, mine), "the caller's work is not committed")
	require.False(t, councilExists(t, step), "nor the failed step's")

	var inner string
	require.NoError(t, db.WithinTx(ctx, func(ctx context.Context) error {
		mine = insertCouncil(t, ctx)
		err := db.WithinTx(ctx, func(ctx context.Context) error { // a savepoint handles the failure
			return db.JoinTx(ctx, func(ctx context.Context) error {
				inner = insertCouncil(t, ctx)
				return boom
			})
		})
		require.ErrorIs(t, err, boom)
		return nil
	}))
	require.True(t, councilExists(t, mine), "the savepoint's caller commits its own work")
	require.False(t, councilExists(t, inner), "the savepoint undid the step")

	require.NoError(t, db.WithinTx(ctx, func(ctx context.Context) error {
		return db.JoinTx(ctx, func(ctx context.Context) error {
			step = insertCouncil(t, ctx)
			return nil
		})
	}))
	require.True(t, councilExists(t, step), "a joined step that succeeds commits with its caller")
	require.NoError(t, db.JoinTx(ctx, func(ctx context.Context) error {
		step = insertCouncil(t, ctx)
		return nil
	}))
	require.True(t, councilExists(t, step), "outside a transaction, a transaction of its own")
}
