// Package testdb gives each test binary its own PostgreSQL database and its own two roles, as
// production has them: an owner role that migrates and a runtime role that the service runs as
// (README, "Database roles"). They are created from TEST_DATABASE_URL (or DATABASE_URL) when the
// tests start and dropped when they end. `make test` provides the server; there are no mocks of
// the database.
package testdb

import (
	"context"
	"crypto/rand"
	"database/sql"
	"encoding/hex"
	"fmt"
	"io"
	"log/slog"
	"net/url"
	"os"
	"testing"
	"time"

	_ "github.com/jackc/pgx/v5/stdlib" // database/sql driver "pgx" for the admin connection

	"github.com/pbudget/pbudget/internal/postgres"
)

var (
	dsn      string // this binary's database, as the runtime role
	ownerDSN string // this binary's database, as the owner role
	db       *postgres.DB
	roles    struct{ owner, ownerPassword, runtime, runtimePassword string }
)

// AdminURL returns the URL of the server the tests use. Its role must be able to create databases
// and roles (a superuser, as on the server of make test).
func AdminURL() string {
	if v := os.Getenv("TEST_DATABASE_URL"); v != "" {
		return v
	}
	return os.Getenv("DATABASE_URL")
}

// Run is for TestMain: it creates this binary's roles and database, migrates it as the owner role,
// connects as the runtime role (so that a privilege the service lacks fails the tests), runs the
// tests and drops it all. Roles are cluster-wide and the server may be shared, so their names
// derive from a random name unique to this run.
func Run(m *testing.M) int {
	if AdminURL() == "" {
		fmt.Fprintln(os.Stderr, "testdb: set TEST_DATABASE_URL or DATABASE_URL (make test does)")
		return 1
	}
	ctx := context.Background()
	created, err := createRoles(ctx, uniqueName())
	defer func() {
		for _, r := range created {
			if err := admin(context.Background(), "DROP ROLE IF EXISTS "+r); err != nil {
				fmt.Fprintln(os.Stderr, "testdb:", err)
			}
		}
	}()
	if err != nil {
		fmt.Fprintln(os.Stderr, "testdb:", err)
		return 1
	}
	name, err := Create(ctx)
	if err != nil {
		fmt.Fprintln(os.Stderr, "testdb:", err)
		return 1
	}
	defer func() {
		if err := Drop(context.Background(), name); err != nil {
			fmt.Fprintln(os.Stderr, "testdb:", err)
		}
	}()
	dsn, ownerDSN = RuntimeURL(name), OwnerURL(name)
	if err := Migrate(ctx, name); err != nil {
		fmt.Fprintln(os.Stderr, "testdb:", err)
		return 1
	}
	db, err = postgres.Open(ctx, dsn, 20, Logger())
	if err != nil {
		fmt.Fprintln(os.Stderr, "testdb:", err)
		return 1
	}
	defer db.Close()
	return m.Run()
}

// DB returns the migrated database of this test binary, connected as the runtime role.
func DB(t testing.TB) *postgres.DB {
	t.Helper()
	if db == nil {
		t.Fatal("testdb: call testdb.Run from TestMain")
	}
	return db
}

// DSN returns the URL of the migrated database of this test binary, as the runtime role.
func DSN() string { return dsn }

// OwnerDSN returns the URL of the migrated database of this test binary, as the owner role: for
// tests that change the schema or write what the service may not.
func OwnerDSN() string { return ownerDSN }

// Roles returns the names of this binary's owner and runtime roles.
func Roles() (owner, runtime string) { return roles.owner, roles.runtime }

// OwnerURL returns the URL of database name as this binary's owner role.
func OwnerURL(name string) string {
	return withUser(WithDatabase(AdminURL(), name), roles.owner, roles.ownerPassword)
}

// RuntimeURL returns the URL of database name as this binary's runtime role.
func RuntimeURL(name string) string {
	return withUser(WithDatabase(AdminURL(), name), roles.runtime, roles.runtimePassword)
}

// Migrate applies the migrations to database name as the owner role and grants the runtime role
// what it needs, as `pbudget migrate` does.
func Migrate(ctx context.Context, name string) error {
	owner, err := sql.Open("pgx", OwnerURL(name))
	if err != nil {
		return err
	}
	defer owner.Close()
	if _, err := postgres.Migrate(ctx, owner, nil); err != nil {
		return err
	}
	return postgres.GrantRuntime(ctx, owner, roles.runtime)
}

// Logger discards logs unless PB_TEST_LOG is set.
func Logger() *slog.Logger {
	if os.Getenv("PB_TEST_LOG") != "" {
		return slog.New(slog.NewJSONHandler(os.Stderr, nil))
	}
	return slog.New(slog.NewJSONHandler(io.Discard, nil))
}

// Create makes an empty database with a unique name, owned by this binary's owner role, and
// returns the name.
func Create(ctx context.Context) (string, error) {
	if roles.owner == "" {
		return "", fmt.Errorf("testdb: call testdb.Run from TestMain")
	}
	name := uniqueName()
	return name, admin(ctx, "CREATE DATABASE "+name+" OWNER "+roles.owner)
}

// Drop removes a database made by Create, closing its connections.
func Drop(ctx context.Context, name string) error {
	return admin(ctx, "DROP DATABASE IF EXISTS "+name+" WITH (FORCE)")
}

func uniqueName() string {
	var b [6]byte
	_, _ = rand.Read(b[:])
	return "pbudget_test_" + hex.EncodeToString(b[:])
}

// createRoles creates the owner and runtime roles named after base and returns those it created.
// Their random passwords let them log in on a server that asks for one (trust ignores them).
func createRoles(ctx context.Context, base string) ([]string, error) {
	roles.owner, roles.ownerPassword = base+"_owner", secret()
	roles.runtime, roles.runtimePassword = base+"_app", secret()
	var created []string
	for _, r := range [][2]string{{roles.owner, roles.ownerPassword}, {roles.runtime, roles.runtimePassword}} {
		stmt := fmt.Sprintf("CREATE ROLE %s LOGIN NOSUPERUSER NOCREATEDB NOCREATEROLE PASSWORD '%s'", r[0], r[1])
		if err := exec(ctx, stmt); err != nil {
			return created, fmt.Errorf("create role %s (TEST_DATABASE_URL's role must be allowed to create roles): %w", r[0], err)
		}
		created = append(created, r[0])
	}
	return created, nil
}

func secret() string {
	var b [16]byte
	_, _ = rand.Read(b[:])
	return hex.EncodeToString(b[:])
}

func admin(ctx context.Context, stmt string) error {
	if err := exec(ctx, stmt); err != nil {
		return fmt.Errorf("%s: %w", stmt, err)
	}
	return nil
}

func exec(ctx context.Context, stmt string) error {
	conn, err := sql.Open("pgx", AdminURL())
	if err != nil {
		return err
	}
	defer conn.Close()
	ctx, cancel := context.WithTimeout(ctx, 30*time.Second)
	defer cancel()
	_, err = conn.ExecContext(ctx, stmt)
	return err
}

// WithDatabase returns the URL u naming database name instead.
func WithDatabase(u, name string) string {
	parsed, err := url.Parse(u)
	if err != nil || parsed.Scheme == "" {
		panic("testdb: the database URL must be a postgres:// URL")
	}
	parsed.Path = "/" + name
	return parsed.String()
}

func withUser(u, user, password string) string {
	parsed, err := url.Parse(u)
	if err != nil || parsed.Scheme == "" {
		panic("testdb: the database URL must be a postgres:// URL")
	}
	parsed.User = url.UserPassword(user, password)
	return parsed.String()
}
