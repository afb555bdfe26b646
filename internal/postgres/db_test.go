package postgres_test

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"testing"
	"time"

	"github.com/google/uuid"
	"github.com/stretchr/testify/require"

	"github.com/pbudget/pbudget/internal/actor"
	"github.com/pbudget/pbudget/internal/audit"
	"github.com/pbudget/pbudget/internal/postgres"
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

// A deferred change (deferExec: a new person) goes with the next audit statement, as a CTE of it,
// or on its own before any other statement of the transaction, or before the commit; in a
// savepoint it is sent at once. Its error is the command's, even when it surfaces at a later
// statement (that fails in the aborted transaction).
func TestADeferredChangeIsWrittenWithItsAuditEventOrBeforeAnythingElse(t *testing.T) {
	t.Parallel()
	db := testdb.DB(t)
	ctx := context.Background()
	auditor := postgres.NewAuditStore(db, time.Now)
	var council uuid.UUID
	require.NoError(t, db.SQL().QueryRow(`INSERT INTO councils (id, code, name) VALUES (gen_random_uuid(), $1, 'Audited') RETURNING id`,
		"au-"+uuid.NewString()[:8]).Scan(&council))
	a := actor.Actor{Subject: "deferred", CouncilID: council, Roles: []actor.Role{actor.CouncilAdmin}}
	insert := func(ctx context.Context, code string) error {
		return db.DeferExec(ctx, map[string]error{"councils_code_key": errTaken}, `INSERT INTO councils (id, code, name) VALUES ($1, $2, 'Deferred')`, uuid.New(), code)
	}
	code := func() string {
		var b [6]byte
		_, _ = rand.Read(b[:])
		return "df-" + hex.EncodeToString(b[:])
	}

	withAudit, alone, beforeRead, inSavepoint := code(), code(), code(), code()
	require.NoError(t, db.WithinTx(ctx, func(ctx context.Context) error {
		require.NoError(t, insert(ctx, withAudit))
		return auditor.Record(ctx, a, audit.Event{Action: "council.created", EntityType: "council", EntityID: uuid.New()})
	}))
	require.True(t, councilExists(t, withAudit), "written with the audit event")
	require.NoError(t, db.WithinTx(ctx, func(ctx context.Context) error { return insert(ctx, alone) }))
	require.True(t, councilExists(t, alone), "written before the commit")
	require.NoError(t, db.WithinTx(ctx, func(ctx context.Context) error {
		require.NoError(t, insert(ctx, beforeRead))
		tx, ok := db.SQLTx(ctx)
		require.True(t, ok)
		var n int
		require.NoError(t, tx.QueryRowContext(ctx, `SELECT count(*) FROM councils WHERE code = $1`, beforeRead).Scan(&n))
		require.Equal(t, 1, n, "another statement sees it: it was sent first")
		return nil
	}))
	require.NoError(t, db.WithinTx(ctx, func(ctx context.Context) error {
		return db.WithinTx(ctx, func(ctx context.Context) error {
			require.NoError(t, insert(ctx, inSavepoint))
			return nil
		})
	}))
	require.True(t, councilExists(t, inSavepoint))

	// The same code again: the constraint's error, whether with the audit statement, before a
	// read or at the commit.
	err := db.WithinTx(ctx, func(ctx context.Context) error {
		require.NoError(t, insert(ctx, withAudit))
		return auditor.Record(ctx, a, audit.Event{Action: "council.created", EntityType: "council", EntityID: uuid.New()})
	})
	require.ErrorIs(t, err, errTaken)
	err = db.WithinTx(ctx, func(ctx context.Context) error {
		require.NoError(t, insert(ctx, alone))
		tx, _ := db.SQLTx(ctx)
		var n int
		return tx.QueryRowContext(ctx, `SELECT count(*) FROM councils`).Scan(&n) // fails: the transaction is aborted
	})
	require.ErrorIs(t, err, errTaken, "the first failure is the command's")
	require.ErrorIs(t, db.WithinTx(ctx, func(ctx context.Context) error { return insert(ctx, alone) }), errTaken)
}

var errTaken = errors.New("council code taken")

// BEGIN and COMMIT cost no round trips of their own where a statement of ours can take them
// along: BEGIN goes in the same pipeline as the transaction's first statement when it is ours
// (the audit statement, a deferred change), COMMIT with the audit statement or change still
// waiting at the end, and a transaction whose only statement is that waiting one sends it alone,
// a transaction of its own. What waits is sent before any other statement, which sees it; its
// failure at the commit rolls back everything before it and leaves the pool's connection usable.
func TestBeginAndCommitGoWithTheStatementsNextToThem(t *testing.T) {
	t.Parallel()
	db := testdb.DB(t)
	auditor := postgres.NewAuditStore(db, time.Now)
	var council uuid.UUID
	require.NoError(t, db.SQL().QueryRow(`INSERT INTO councils (id, code, name) VALUES (gen_random_uuid(), $1, 'Trips') RETURNING id`,
		"rt-"+uuid.NewString()[:8]).Scan(&council))
	a := actor.Actor{Subject: "trips", CouncilID: council, Roles: []actor.Role{actor.CouncilAdmin}}
	code := func() string {
		var b [6]byte
		_, _ = rand.Read(b[:])
		return "rt-" + hex.EncodeToString(b[:])
	}
	insert := func(ctx context.Context, code string) error {
		return db.DeferExec(ctx, map[string]error{"councils_code_key": errTaken}, `INSERT INTO councils (id, code, name) VALUES ($1, $2, 'Trips')`, uuid.New(), code)
	}
	event := func(ctx context.Context, entity uuid.UUID) error {
		return auditor.Record(ctx, a, audit.Event{Action: "council.created", EntityType: "council", EntityID: entity})
	}
	audited := func(entity uuid.UUID) bool {
		var n int
		require.NoError(t, db.SQL().QueryRow(`SELECT count(*) FROM audit_events WHERE council_id = $1 AND entity_id = $2`, council, entity).Scan(&n))
		return n == 1
	}
	trips := func(fn func(ctx context.Context) error) (int, error) {
		var n int
		err := db.WithinTx(postgres.CountTrips(context.Background(), &n), fn)
		return n, err
	}

	n, err := trips(func(ctx context.Context) error { return nil })
	require.NoError(t, err)
	require.Equal(t, 0, n, "a transaction that sends nothing sends neither BEGIN nor COMMIT")

	alone, entity := code(), uuid.New()
	n, err = trips(func(ctx context.Context) error {
		require.NoError(t, insert(ctx, alone))
		return event(ctx, entity)
	})
	require.NoError(t, err)
	require.Equal(t, 1, n, "a change and its audit event alone: one statement, its own transaction")
	require.True(t, councilExists(t, alone))
	require.True(t, audited(entity))

	entity = uuid.New()
	n, err = trips(func(ctx context.Context) error {
		require.NoError(t, event(ctx, entity))
		tx, _ := db.SQLTx(ctx)
		var seen int
		require.NoError(t, tx.QueryRowContext(ctx, `SELECT count(*) FROM audit_events WHERE council_id = $1 AND entity_id = $2`, council, entity).Scan(&seen))
		require.Equal(t, 1, seen, "the waiting audit statement is sent before the read, which sees it")
		return nil
	})
	require.NoError(t, err)
	require.Equal(t, 3, n, "BEGIN with the audit statement, the read, COMMIT")
	require.True(t, audited(entity))

	before, entity := code(), uuid.New()
	n, err = trips(func(ctx context.Context) error {
		tx, _ := db.SQLTx(ctx)
		if _, err := tx.ExecContext(ctx, `INSERT INTO councils (id, code, name) VALUES ($1, $2, 'Trips')`, uuid.New(), before); err != nil {
			return err
		}
		return event(ctx, entity)
	})
	require.NoError(t, err)
	require.Equal(t, 3, n, "BEGIN before a statement through database/sql, the statement, the audit statement with COMMIT")
	require.True(t, councilExists(t, before))
	require.True(t, audited(entity))

	// A savepoint's SAVEPOINT goes with its first statement; one rolled back before it sent
	// anything sends nothing; neither needs a transaction when nothing else is sent.
	boom := errors.New("boom")
	n, err = trips(func(ctx context.Context) error {
		require.ErrorIs(t, db.WithinTx(ctx, func(ctx context.Context) error { return boom }), boom)
		return nil
	})
	require.NoError(t, err)
	require.Equal(t, 0, n, "a savepoint that sent nothing")
	inner, entity := code(), uuid.New()
	n, err = trips(func(ctx context.Context) error {
		require.NoError(t, db.WithinTx(ctx, func(ctx context.Context) error { return event(ctx, entity) }))
		require.ErrorIs(t, db.WithinTx(ctx, func(ctx context.Context) error {
			require.NoError(t, event(ctx, uuid.New()))
			return boom
		}), boom)
		return insert(ctx, inner)
	})
	require.NoError(t, err)
	require.Equal(t, 4, n, "BEGIN, SAVEPOINT and the audit statement; SAVEPOINT and the second; ROLLBACK TO; the change and COMMIT")
	require.True(t, audited(entity))
	require.True(t, councilExists(t, inner))

	// The change waiting at the end fails: what came before it is rolled back with it.
	first, entity := code(), uuid.New()
	_, err = trips(func(ctx context.Context) error {
		tx, _ := db.SQLTx(ctx)
		if _, err := tx.ExecContext(ctx, `INSERT INTO councils (id, code, name) VALUES ($1, $2, 'Trips')`, uuid.New(), first); err != nil {
			return err
		}
		require.NoError(t, insert(ctx, alone)) // taken
		return event(ctx, entity)
	})
	require.ErrorIs(t, err, errTaken)
	require.False(t, councilExists(t, first), "rolled back with the change that failed at the commit")
	require.False(t, audited(entity))
	// And alone, as its own transaction.
	_, err = trips(func(ctx context.Context) error { return insert(ctx, alone) })
	require.ErrorIs(t, err, errTaken)

	// The pool's connections are sound after all of it: every one of them commits a transaction.
	for range 2 * 8 {
		kept := code()
		require.NoError(t, db.WithinTx(context.Background(), func(ctx context.Context) error { return insert(ctx, kept) }))
		require.True(t, councilExists(t, kept))
	}
}
