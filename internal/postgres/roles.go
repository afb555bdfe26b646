package postgres

import (
	"context"
	"database/sql"
	"fmt"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"
)

// The service uses two database roles (README, "Database roles"): an owner role that runs the
// migrations and owns every table, and a runtime role that serves requests with only the
// privileges below. A role that owns a table can disable its triggers or drop them, so the
// append-only triggers alone do not protect the audit trail from the role that serves.

// AppendOnlyTables are the tables whose rows, once written, are never changed: the runtime role may
// INSERT and SELECT them, nothing else. A table listed here that does not exist yet (its migration
// is still to come) is skipped; add a new append-only table here and `pbudget migrate` applies it.
var AppendOnlyTables = []string{
	"audit_events",             // the audit trail (00001)
	"access_records",           // reads of personal data (00007)
	"personal_budget_versions", // issued budget versions (00002), append-only by trigger too
	"ledger_entries",           // direct-payment accounts' ledgers (00017), append-only by trigger too
	"statement_lines",          // imported statement lines (00017): a line never changes
	"statement_flag_answers",   // people's answers to flags (00021), append-only by trigger too
	"isf_statement_lines",      // an ISF statement's lines (00018): a filed statement is accepted or queried, never edited
}

// readOnlyTables the runtime role may only read: goose's version table, which readiness checks.
var readOnlyTables = []string{"goose_db_version"}

// RoleOf returns the user that dsn connects as (a postgres:// URL or key=value DSN, with libpq's
// defaults: PGUSER, then the operating-system user).
func RoleOf(dsn string) (string, error) {
	cfg, err := pgconn.ParseConfig(dsn)
	if err != nil {
		// pgconn's message quotes the connection string, which may hold a password.
		return "", fmt.Errorf("the connection string cannot be parsed")
	}
	return cfg.User, nil
}

// GrantRuntime gives role, on every table and sequence of the public schema, what `serve` needs
// and no more: SELECT, INSERT, UPDATE and DELETE on ordinary tables (River's included), INSERT and
// SELECT only on AppendOnlyTables, SELECT only on goose's version table, USAGE on sequences; never
// TRUNCATE, REFERENCES or TRIGGER, and no CREATE on the schema. db must connect as the owner of the
// tables. It runs after the migrations, so tables added by later migrations are covered; it takes
// the migrations' advisory lock, so that instances starting together do not grant at once (two
// concurrent GRANTs on one table fail in PostgreSQL).
func GrantRuntime(ctx context.Context, db *sql.DB, role string) error {
	if role == "" {
		return fmt.Errorf("grant: no runtime role")
	}
	tx, err := db.BeginTx(ctx, nil)
	if err != nil {
		return err
	}
	defer tx.Rollback()
	if _, err := tx.ExecContext(ctx, `SELECT pg_advisory_xact_lock($1)`, int64(migrationLockID)); err != nil {
		return fmt.Errorf("grant: lock: %w", err)
	}
	var self string
	if err := tx.QueryRowContext(ctx, `SELECT current_user`).Scan(&self); err != nil {
		return err
	}
	if self == role {
		return fmt.Errorf("grant: the runtime role %q is the role that runs the migrations; use two roles (README, \"Database roles\")", role)
	}
	r := pgx.Identifier{role}.Sanitize()
	stmts := []string{
		`REVOKE CREATE ON SCHEMA public FROM PUBLIC`,
		`REVOKE CREATE ON SCHEMA public FROM ` + r,
		`GRANT USAGE ON SCHEMA public TO ` + r,
		`REVOKE TRUNCATE, REFERENCES, TRIGGER ON ALL TABLES IN SCHEMA public FROM ` + r,
		`GRANT SELECT, INSERT, UPDATE, DELETE ON ALL TABLES IN SCHEMA public TO ` + r,
		`REVOKE SELECT, UPDATE ON ALL SEQUENCES IN SCHEMA public FROM ` + r,
		`GRANT USAGE ON ALL SEQUENCES IN SCHEMA public TO ` + r,
	}
	present, err := existingTables(ctx, tx, append(append([]string{}, AppendOnlyTables...), readOnlyTables...))
	if err != nil {
		return err
	}
	for _, t := range AppendOnlyTables {
		if present[t] {
			stmts = append(stmts, `REVOKE UPDATE, DELETE ON `+pgx.Identifier{"public", t}.Sanitize()+` FROM `+r)
		}
	}
	for _, t := range readOnlyTables {
		if present[t] {
			stmts = append(stmts, `REVOKE INSERT, UPDATE, DELETE ON `+pgx.Identifier{"public", t}.Sanitize()+` FROM `+r)
		}
	}
	for _, s := range stmts {
		if _, err := tx.ExecContext(ctx, s); err != nil {
			return fmt.Errorf("grant to runtime role %q: %s: %w", role, s, err)
		}
	}
	return tx.Commit()
}

func existingTables(ctx context.Context, tx *sql.Tx, names []string) (map[string]bool, error) {
	rows, err := tx.QueryContext(ctx, `SELECT tablename FROM pg_tables WHERE schemaname = 'public' AND tablename = ANY($1)`, names)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	present := map[string]bool{}
	for rows.Next() {
		var n string
		if err := rows.Scan(&n); err != nil {
			return nil, err
		}
		present[n] = true
	}
	return present, rows.Err()
}

// RoleCheck says whether the role a pool connects as could rewrite the audit trail.
type RoleCheck struct {
	Role string
	// Unsafe lists why the role could change or remove append-only rows (empty when it cannot):
	// it is a superuser, it owns (or may act as the owner of) an append-only table, it holds
	// UPDATE, DELETE or TRUNCATE on one, or it may set session_replication_role.
	Unsafe []string
}

// CheckRuntimeRole reports what the pool's role could do to the append-only tables that it should
// not. Run it after migrating: it looks at the tables that exist.
func (db *DB) CheckRuntimeRole(ctx context.Context) (RoleCheck, error) {
	var c RoleCheck
	var super bool
	var version int
	err := db.sql.QueryRowContext(ctx, `SELECT current_user, rolsuper, current_setting('server_version_num')::int
		FROM pg_roles WHERE rolname = current_user`).Scan(&c.Role, &super, &version)
	if err != nil {
		return c, fmt.Errorf("check database role: %w", err)
	}
	if super {
		c.Unsafe = append(c.Unsafe, "it is a superuser")
	}
	rows, err := db.sql.QueryContext(ctx, `SELECT tablename,
			pg_has_role(current_user, tableowner, 'MEMBER'),
			has_table_privilege(current_user, format('public.%I', tablename), 'UPDATE, DELETE, TRUNCATE')
		FROM pg_tables WHERE schemaname = 'public' AND tablename = ANY($1) ORDER BY tablename`, AppendOnlyTables)
	if err != nil {
		return c, fmt.Errorf("check database role: %w", err)
	}
	defer rows.Close()
	for rows.Next() {
		var table string
		var owner, write bool
		if err := rows.Scan(&table, &owner, &write); err != nil {
			return c, err
		}
		switch {
		case super:
		case owner:
			c.Unsafe = append(c.Unsafe, "it owns "+table+" (and so can disable or drop its triggers)")
		case write:
			c.Unsafe = append(c.Unsafe, "it holds UPDATE, DELETE or TRUNCATE on "+table)
		}
	}
	if err := rows.Err(); err != nil {
		return c, err
	}
	if !super && version >= 150000 {
		var canSet bool
		if err := db.sql.QueryRowContext(ctx, `SELECT has_parameter_privilege(current_user, 'session_replication_role', 'SET')`).Scan(&canSet); err != nil {
			return c, fmt.Errorf("check database role: %w", err)
		}
		if canSet {
			c.Unsafe = append(c.Unsafe, "it may set session_replication_role (which skips triggers)")
		}
	}
	return c, nil
}
