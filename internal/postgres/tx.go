package postgres

import (
	"context"
	"database/sql"
	"database/sql/driver"
	"errors"
	"fmt"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"
	"github.com/jackc/pgx/v5/stdlib"
)

// ownTx is a transaction run on a connection of the pool held for it, below database/sql's Tx,
// so that BEGIN and COMMIT need not be round trips of their own (issue 10):
//
//   - BEGIN is sent with the transaction's first statement: in the same pipeline when that
//     statement is one of ours (send: the audit statement, a deferred change), on its own just
//     before it otherwise (a gorm statement, whose *sql.Rows only database/sql can make);
//   - COMMIT goes in the same pipeline as a change still deferred at the end (deferExec);
//   - a transaction whose only statement is that deferred change sends it alone, which
//     PostgreSQL runs as a transaction of its own: one round trip for the whole command;
//   - a transaction that sends nothing sends neither BEGIN nor COMMIT.
//
// It is gorm's ConnPool for the transaction's statements (and a TxCommitter, so that a nested
// gorm Transaction is a savepoint), and the runner of the statements written out (fastpath.go).
// A transaction is used by one goroutine at a time, as a *sql.Tx is.
type ownTx struct {
	db     *sql.DB
	bg     context.Context // never cancelled: BEGIN, COMMIT and ROLLBACK always run to the end
	conn   *sql.Conn       // nil until the first statement
	begun  bool
	failed error // BEGIN failed: every statement after it fails, and the transaction with it
	trips  int   // round trips to the database (tests count them: CountTrips)
}

type tripsKey struct{}

var errTxDone = errors.New("postgres: the transaction has ended")

// acquire takes the transaction's connection from the pool.
func (t *ownTx) acquire() error {
	if t.failed != nil {
		return t.failed
	}
	if t.conn != nil {
		return nil
	}
	c, err := t.db.Conn(t.bg)
	if err != nil {
		t.failed = err
		return err
	}
	t.conn = c
	return nil
}

// begin sends BEGIN on its own, before a statement that cannot take it along.
func (t *ownTx) begin() error {
	if t.begun {
		return nil
	}
	if err := t.acquire(); err != nil {
		return err
	}
	t.trips++
	if _, err := t.conn.ExecContext(t.bg, "BEGIN"); err != nil {
		t.failed = fmt.Errorf("begin: %w", err)
		return t.failed
	}
	t.begun = true
	return nil
}

// ready is what every statement sent through database/sql needs first: the change still
// deferred sent on its own (flush), and BEGIN.
func (t *ownTx) ready(ctx context.Context) error {
	if err := ctx.Err(); err != nil { // as a *sql.Tx does (pgx would call the connection bad)
		return err
	}
	if err := flush(ctx); err != nil {
		return err
	}
	return t.begin()
}

// PrepareContext implements gorm.ConnPool.
func (t *ownTx) PrepareContext(ctx context.Context, query string) (*sql.Stmt, error) {
	if err := t.ready(ctx); err != nil {
		return nil, err
	}
	t.trips++
	return t.conn.PrepareContext(ctx, query)
}

// ExecContext implements gorm.ConnPool.
func (t *ownTx) ExecContext(ctx context.Context, query string, args ...any) (sql.Result, error) {
	if err := t.ready(ctx); err != nil {
		return nil, err
	}
	t.trips++
	return t.conn.ExecContext(ctx, query, args...)
}

// QueryContext implements gorm.ConnPool.
func (t *ownTx) QueryContext(ctx context.Context, query string, args ...any) (*sql.Rows, error) {
	if err := t.ready(ctx); err != nil {
		return nil, err
	}
	t.trips++
	return t.conn.QueryContext(ctx, query, args...)
}

// QueryRowContext implements gorm.ConnPool. When BEGIN failed, the row is one that fails without
// the statement being sent (a *sql.Row carries no error of ours: its error is the context's); the
// transaction then ends with BEGIN's error (WithinTx), or the deferred change's (firstFailure).
func (t *ownTx) QueryRowContext(ctx context.Context, query string, args ...any) *sql.Row {
	if err := t.ready(ctx); err != nil {
		dead, cancel := context.WithCancel(ctx)
		cancel()
		return t.db.QueryRowContext(dead, query, args...)
	}
	t.trips++
	return t.conn.QueryRowContext(ctx, query, args...)
}

// Commit and Rollback make ownTx a gorm.TxCommitter (a nested Transaction is then a savepoint);
// the transaction itself ends by WithinTx, through finish and abort.
func (t *ownTx) Commit() error { return errors.New("postgres: a transaction is committed by WithinTx") }
func (t *ownTx) Rollback() error {
	return errors.New("postgres: a transaction is rolled back by WithinTx")
}

// pgxConn runs fn on the transaction's connection as pgx's own *pgx.Conn.
func (t *ownTx) pgxConn(fn func(c *pgx.Conn) error) error {
	if err := t.acquire(); err != nil {
		return err
	}
	return t.conn.Raw(func(dc any) error { return fn(dc.(*stdlib.Conn).Conn()) })
}

// send runs the statement q in the transaction, with BEGIN ahead of it in the same round trip when
// it is the transaction's first; dest, when given, receives its one row.
func (t *ownTx) send(ctx context.Context, q string, args []any, dest ...any) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	t.trips++
	return t.pgxConn(func(c *pgx.Conn) error {
		if t.begun {
			if len(dest) == 0 {
				_, err := c.Exec(ctx, q, args...)
				return err
			}
			return c.QueryRow(ctx, q, args...).Scan(dest...)
		}
		b := &pgx.Batch{}
		b.Queue("BEGIN")
		b.Queue(q, args...)
		br := c.SendBatch(ctx, b)
		if _, err := br.Exec(); err != nil {
			_ = br.Close()
			t.failed = fmt.Errorf("begin: %w", err)
			return t.failed
		}
		t.begun = true
		var err error
		if len(dest) == 0 {
			_, err = br.Exec()
		} else {
			err = br.QueryRow().Scan(dest...)
		}
		if cerr := br.Close(); err == nil {
			err = cerr
		}
		return err
	})
}

// finish commits, with the change still deferred (if any) in the same round trip; or, when nothing
// else was sent, runs that change alone as a transaction of its own. It runs on the transaction's
// own context: once asked, the commit runs to the end whatever the request does.
func (t *ownTx) finish(last *deferred) error {
	if t.failed != nil {
		return t.failed
	}
	if t.begun || last != nil {
		t.trips++
	}
	switch {
	case !t.begun && last == nil: // nothing sent: nothing to commit
		return nil
	case !t.begun: // one statement is its own transaction
		return t.pgxConn(func(c *pgx.Conn) error {
			_, err := c.Exec(t.bg, last.sql, last.args...)
			return translate(err, last.constraints)
		})
	case last == nil:
		return t.pgxConn(func(c *pgx.Conn) error {
			tag, err := c.Exec(t.bg, "COMMIT")
			return committed(tag, err)
		})
	default:
		return t.pgxConn(func(c *pgx.Conn) error {
			b := &pgx.Batch{}
			b.Queue(last.sql, last.args...)
			b.Queue("COMMIT")
			br := c.SendBatch(t.bg, b)
			_, err := br.Exec()
			if err != nil {
				_ = br.Close() // the COMMIT after it ran as a ROLLBACK of the aborted transaction
				return translate(err, last.constraints)
			}
			tag, err := br.Exec()
			if cerr := br.Close(); err == nil {
				err = cerr
			}
			return committed(tag, err)
		})
	}
}

// committed is COMMIT's outcome: PostgreSQL answers ROLLBACK to the COMMIT of a transaction that a
// failed statement aborted.
func committed(tag pgconn.CommandTag, err error) error {
	if err != nil {
		return fmt.Errorf("commit: %w", err)
	}
	if tag.String() == "ROLLBACK" {
		return errors.New("commit: the transaction was aborted and rolled back")
	}
	return nil
}

// abort rolls back what was sent, if anything.
func (t *ownTx) abort() {
	if !t.begun || t.conn == nil {
		return
	}
	t.trips++
	_ = t.conn.Raw(func(dc any) error {
		c := dc.(*stdlib.Conn).Conn()
		if _, err := c.Exec(t.bg, "ROLLBACK"); err != nil || c.PgConn().TxStatus() != 'I' {
			return driver.ErrBadConn // not reusable: database/sql closes it
		}
		return nil
	})
}

// release hands the connection back to the pool; database/sql discards it when it is still in a
// transaction (pgx's ResetSession), which a failed COMMIT or ROLLBACK may leave it in.
func (t *ownTx) release() {
	if t.conn != nil {
		_ = t.conn.Close()
		t.conn = nil
	}
	t.failed = errTxDone
}

// pgxTx is the pgx.Tx that River inserts its jobs through (riverpgxv5): the transaction's
// connection, within the transaction it is in. Beginning, committing or rolling back is WithinTx's.
type pgxTx struct{ c *pgx.Conn }

var errNotRivers = errors.New("postgres: the transaction is WithinTx's to begin and end")

func (t pgxTx) Begin(context.Context) (pgx.Tx, error) { return nil, errNotRivers }
func (t pgxTx) Commit(context.Context) error          { return errNotRivers }
func (t pgxTx) Rollback(context.Context) error        { return errNotRivers }
func (t pgxTx) CopyFrom(ctx context.Context, table pgx.Identifier, columns []string, rows pgx.CopyFromSource) (int64, error) {
	return t.c.CopyFrom(ctx, table, columns, rows)
}
func (t pgxTx) SendBatch(ctx context.Context, b *pgx.Batch) pgx.BatchResults {
	return t.c.SendBatch(ctx, b)
}
func (t pgxTx) LargeObjects() pgx.LargeObjects { return pgx.LargeObjects{} }
func (t pgxTx) Prepare(ctx context.Context, name, sql string) (*pgconn.StatementDescription, error) {
	return t.c.Prepare(ctx, name, sql)
}
func (t pgxTx) Exec(ctx context.Context, sql string, args ...any) (pgconn.CommandTag, error) {
	return t.c.Exec(ctx, sql, args...)
}
func (t pgxTx) Query(ctx context.Context, sql string, args ...any) (pgx.Rows, error) {
	return t.c.Query(ctx, sql, args...)
}
func (t pgxTx) QueryRow(ctx context.Context, sql string, args ...any) pgx.Row {
	return t.c.QueryRow(ctx, sql, args...)
}
func (t pgxTx) Conn() *pgx.Conn { return t.c }

// PgxTx runs fn with the transaction ctx carries as a pgx.Tx, for a library that must write in it
// (River inserting a job, riverpgxv5); false, without running fn, when ctx carries none.
func PgxTx(ctx context.Context, fn func(pgx.Tx) error) (bool, error) {
	t, ok := ownTxOf(ctx)
	if !ok {
		return false, nil
	}
	if err := flush(ctx); err != nil {
		return true, err
	}
	if err := t.begin(); err != nil {
		return true, err
	}
	t.trips++ // River's insert is one statement
	return true, t.pgxConn(func(c *pgx.Conn) error { return fn(pgxTx{c}) })
}
