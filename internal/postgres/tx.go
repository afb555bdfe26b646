package postgres

import (
	"context"
	"database/sql"
	"database/sql/driver"
	"errors"
	"fmt"
	"slices"
	"strings"

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
	// pending are the statements whose results no one waits for, in their order: the next
	// statement takes them along in its round trip, or the COMMIT does (queue).
	pending []*deferred
	rows    []*sql.Rows // read through database/sql: closed at the end if still open
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
	if t.failed != nil { // BEGIN failed, or the transaction has ended (errTxDone)
		return t.failed
	}
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

// ExecContext implements gorm.ConnPool. A savepoint's SAVEPOINT waits to go with its first
// statement (and a savepoint that sends nothing before it is rolled back sends nothing at all).
func (t *ownTx) ExecContext(ctx context.Context, query string, args ...any) (sql.Result, error) {
	if len(args) == 0 && t.failed == nil {
		if strings.HasPrefix(query, "SAVEPOINT ") {
			t.pending = append(t.pending, &deferred{sql: query, kind: savepoint})
			return driver.RowsAffected(0), nil
		}
		if name, ok := strings.CutPrefix(query, "ROLLBACK TO SAVEPOINT "); ok && len(t.pending) > 0 {
			if last := t.pending[len(t.pending)-1]; last.kind == savepoint && last.sql == "SAVEPOINT "+name {
				t.pending = t.pending[:len(t.pending)-1]
				return driver.RowsAffected(0), nil
			}
		}
	}
	if err := t.ready(ctx); err != nil {
		return nil, err
	}
	t.trips++
	return t.conn.ExecContext(ctx, query, args...)
}

// QueryContext implements gorm.ConnPool. The rows end with the transaction, as a *sql.Tx's do:
// rows left open would otherwise keep the connection busy and held (sql.Conn.Close waits for them).
func (t *ownTx) QueryContext(ctx context.Context, query string, args ...any) (*sql.Rows, error) {
	if err := t.ready(ctx); err != nil {
		return nil, err
	}
	t.trips++
	rows, err := t.conn.QueryContext(ctx, query, args...)
	if err == nil {
		t.rows = append(t.rows, rows)
	}
	return rows, err
}

// closeRows closes the rows still open, before the COMMIT or ROLLBACK (which could not be sent
// while they are being read).
func (t *ownTx) closeRows() {
	for _, r := range t.rows {
		_ = r.Close()
	}
	t.rows = nil
}

// QueryRowContext implements gorm.ConnPool. A *sql.Row carries no error of ours: when what waited
// to be sent failed, the statement is sent into the aborted transaction, where it fails (and the
// transaction ends with the first failure, firstFailure); when BEGIN failed, the row is one that
// fails with the context's error without being sent, and the transaction ends with BEGIN's.
func (t *ownTx) QueryRowContext(ctx context.Context, query string, args ...any) *sql.Row {
	if err := t.ready(ctx); err != nil && (t.failed != nil || !t.begun || ctx.Err() != nil) {
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

// send runs in the transaction, in one round trip, the statements waiting (pending) and then q
// (none when q is empty), with BEGIN ahead of them when nothing was sent yet; dest, when given,
// receives q's one row. A waiting statement's error is returned translated and recorded as the
// transaction's (failedDeferred); q's is returned as it is.
func (t *ownTx) send(ctx context.Context, q string, args []any, dest ...any) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	waiting := t.pending
	t.pending = nil
	t.trips++
	return t.pgxConn(func(c *pgx.Conn) error {
		if t.begun && len(waiting) == 0 {
			if len(dest) == 0 {
				_, err := c.Exec(ctx, q, args...)
				return err
			}
			return c.QueryRow(ctx, q, args...).Scan(dest...)
		}
		br, err := t.pipeline(ctx, c, waiting, q, args)
		if err != nil {
			return err
		}
		switch {
		case q == "":
		case len(dest) == 0:
			_, err = br.Exec()
		default:
			err = br.QueryRow().Scan(dest...)
		}
		if cerr := br.Close(); err == nil {
			err = cerr
		}
		return err
	})
}

// pipeline sends, in one round trip, BEGIN when nothing was sent yet, the waiting statements, and
// then q (none when q is empty); it reads the results of BEGIN and of the waiting statements and
// returns the results to read q's from. On an error the results are closed: BEGIN's failure is the
// transaction's (t.failed), a waiting statement's is returned translated (sentAlready) and recorded
// as the transaction's (failedDeferred); the statements after a failed one were not run, and the
// transaction is aborted.
func (t *ownTx) pipeline(ctx context.Context, c *pgx.Conn, waiting []*deferred, q string, args []any) (pgx.BatchResults, error) {
	b := &pgx.Batch{}
	began := !t.begun
	if began {
		b.Queue("BEGIN")
	}
	for _, d := range waiting {
		b.Queue(d.sql, d.args...)
	}
	if q != "" {
		b.Queue(q, args...)
	}
	br := c.SendBatch(ctx, b)
	if began {
		if _, err := br.Exec(); err != nil { // nothing runs after it: not outside a transaction either
			_ = br.Close()
			t.failed = beginFailed(err)
			return nil, t.failed
		}
		t.begun = true
	}
	for _, d := range waiting {
		if _, err := br.Exec(); err != nil {
			_ = br.Close()
			err = sentAlready{translate(err, d.constraints)}
			failedDeferred(ctx, err)
			return nil, err
		}
	}
	return br, nil
}

// beginFailed is the error of a pipeline whose BEGIN did not run: BEGIN's own when the server
// refused it, else the pipeline's (a value pgx could not encode fails it before anything is sent).
func beginFailed(err error) error {
	var pgErr *pgconn.PgError
	if errors.As(err, &pgErr) {
		return fmt.Errorf("begin: %w", err)
	}
	return err
}

// sentAlready is a deferred statement's error, translated when it was sent: translate keeps it.
type sentAlready struct{ err error }

func (e sentAlready) Error() string { return e.err.Error() }
func (e sentAlready) Unwrap() error { return e.err }

// finish commits, with the statements still waiting in the same round trip; or, when nothing else
// was sent and one statement waits, runs it alone, as a transaction of its own. It runs on the
// transaction's own context: once asked, the commit runs to the end whatever the request does.
func (t *ownTx) finish() error {
	t.closeRows()
	if t.failed != nil {
		return t.failed
	}
	waiting := t.pending
	t.pending = nil
	if !t.begun { // a savepoint in a transaction that sent nothing else holds nothing
		waiting = slices.DeleteFunc(waiting, func(d *deferred) bool { return d.kind == savepoint })
	}
	if !t.begun && len(waiting) == 0 { // nothing sent: nothing to commit
		return nil
	}
	t.trips++
	if !t.begun && len(waiting) == 1 { // one statement is its own transaction
		last := waiting[0]
		return t.pgxConn(func(c *pgx.Conn) error {
			_, err := c.Exec(t.bg, last.sql, last.args...)
			return translate(err, last.constraints)
		})
	}
	return t.pgxConn(func(c *pgx.Conn) error {
		br, err := t.pipeline(t.bg, c, waiting, "COMMIT", nil)
		var sent sentAlready
		if errors.As(err, &sent) { // the COMMIT after it was not run: the transaction is aborted
			return sent.err
		}
		if err != nil {
			return err
		}
		tag, err := br.Exec()
		if cerr := br.Close(); err == nil {
			err = cerr
		}
		return committed(tag, err)
	})
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
	t.closeRows()
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
	t.closeRows()
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

// LargeObjects is not supported (River does not use them): the value returned has no transaction.
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
