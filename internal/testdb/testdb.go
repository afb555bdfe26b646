// Package testdb gives each test binary its own PostgreSQL database: created from
// TEST_DATABASE_URL (or DATABASE_URL) when the tests start, migrated, and dropped when they end.
// `make test` provides the server; there are no mocks of the database.
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
	dsn string
	db  *postgres.DB
)

// AdminURL returns the URL of the server the tests use.
func AdminURL() string {
	if v := os.Getenv("TEST_DATABASE_URL"); v != "" {
		return v
	}
	return os.Getenv("DATABASE_URL")
}

// Run is for TestMain: it creates and migrates the database, runs the tests and drops it.
func Run(m *testing.M) int {
	if AdminURL() == "" {
		fmt.Fprintln(os.Stderr, "testdb: set TEST_DATABASE_URL or DATABASE_URL (make test does)")
		return 1
	}
	ctx := context.Background()
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
	dsn = WithDatabase(AdminURL(), name)
	db, err = postgres.Open(ctx, dsn, 20, Logger())
	if err != nil {
		fmt.Fprintln(os.Stderr, "testdb:", err)
		return 1
	}
	defer db.Close()
	if _, err := postgres.Migrate(ctx, db.SQL(), nil); err != nil {
		fmt.Fprintln(os.Stderr, "testdb:", err)
		return 1
	}
	return m.Run()
}

// DB returns the migrated database of this test binary.
func DB(t testing.TB) *postgres.DB {
	t.Helper()
	if db == nil {
		t.Fatal("testdb: call testdb.Run from TestMain")
	}
	return db
}

// DSN returns the URL of the migrated database of this test binary.
func DSN() string { return dsn }

// Logger discards logs unless PB_TEST_LOG is set.
func Logger() *slog.Logger {
	if os.Getenv("PB_TEST_LOG") != "" {
		return slog.New(slog.NewJSONHandler(os.Stderr, nil))
	}
	return slog.New(slog.NewJSONHandler(io.Discard, nil))
}

// Create makes an empty database with a unique name and returns the name.
func Create(ctx context.Context) (string, error) {
	var b [6]byte
	_, _ = rand.Read(b[:])
	name := "pbudget_test_" + hex.EncodeToString(b[:])
	return name, admin(ctx, "CREATE DATABASE "+name)
}

// Drop removes a database made by Create, closing its connections.
func Drop(ctx context.Context, name string) error {
	return admin(ctx, "DROP DATABASE IF EXISTS "+name+" WITH (FORCE)")
}

func admin(ctx context.Context, stmt string) error {
	conn, err := sql.Open("pgx", AdminURL())
	if err != nil {
		return err
	}
	defer conn.Close()
	ctx, cancel := context.WithTimeout(ctx, 30*time.Second)
	defer cancel()
	if _, err := conn.ExecContext(ctx, stmt); err != nil {
		return fmt.Errorf("%s: %w", stmt, err)
	}
	return nil
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
