// Command floor is the benchmark's baseline: a minimal echo server on the same database, reading
// one person by primary key with pgx, and creating one with a bare two-insert transaction
// (BEGIN, person, audit event with its arrays and details, COMMIT: the same shape and the same
// durability as pbudget's). No auth, no validation, no idempotency: what pbudget's full stack is
// compared against in the README's load benchmark. It is not part of the service.
package main

import (
	"context"
	"flag"
	"log"
	"net/http"
	"os"
	"time"

	"github.com/google/uuid"
	"github.com/jackc/pgx/v5/pgxpool"
	"github.com/labstack/echo/v4"
)

type person struct {
	ID          uuid.UUID `json:"id"`
	GivenName   string    `json:"given_name"`
	FamilyName  string    `json:"family_name"`
	DateOfBirth time.Time `json:"date_of_birth"`
	PersonType  string    `json:"person_type"`
	Version     int       `json:"version"`
	CreatedAt   time.Time `json:"created_at"`
	UpdatedAt   time.Time `json:"updated_at"`
}

var createdFields = []string{"given_name", "family_name", "date_of_birth", "person_type"}

func main() {
	addr := flag.String("addr", ":18081", "listen address")
	councilFlag := flag.String("council", "", "council id")
	maxConns := flag.Int("max-conns", 4, "database pool size (as PB_DB_MAX_CONNS for pbudget)")
	flag.Parse()
	councilID, err := uuid.Parse(*councilFlag)
	if err != nil {
		log.Fatal("--council must be the council's UUID")
	}
	ctx := context.Background()
	cfg, err := pgxpool.ParseConfig(os.Getenv("DATABASE_URL"))
	if err != nil {
		log.Fatal(err)
	}
	cfg.MaxConns = int32(*maxConns)
	pool, err := pgxpool.NewWithConfig(ctx, cfg)
	if err != nil {
		log.Fatal(err)
	}
	e := echo.New()
	e.HideBanner = true
	e.GET("/people/:id", func(c echo.Context) error {
		id, err := uuid.Parse(c.Param("id"))
		if err != nil {
			return echo.ErrBadRequest
		}
		var p person
		err = pool.QueryRow(c.Request().Context(),
			`SELECT id, given_name, family_name, date_of_birth, person_type, version, created_at, updated_at
			 FROM people WHERE council_id = $1 AND id = $2`, councilID, id).
			Scan(&p.ID, &p.GivenName, &p.FamilyName, &p.DateOfBirth, &p.PersonType, &p.Version, &p.CreatedAt, &p.UpdatedAt)
		if err != nil {
			return echo.ErrNotFound
		}
		return c.JSON(http.StatusOK, p)
	})
	e.POST("/people", func(c echo.Context) error {
		var p person
		var in struct {
			GivenName   string `json:"given_name"`
			FamilyName  string `json:"family_name"`
			DateOfBirth string `json:"date_of_birth"`
			PersonType  string `json:"person_type"`
		}
		if err := c.Bind(&in); err != nil {
			return err
		}
		now := time.Now().UTC()
		p = person{ID: uuid.Must(uuid.NewV7()), GivenName: in.GivenName, FamilyName: in.FamilyName, PersonType: in.PersonType, Version: 1, CreatedAt: now, UpdatedAt: now}
		ctx := c.Request().Context()
		tx, err := pool.Begin(ctx)
		if err != nil {
			return err
		}
		defer tx.Rollback(ctx)
		if _, err := tx.Exec(ctx, `INSERT INTO people (council_id, id, given_name, family_name, date_of_birth, person_type, version, created_at, updated_at)
			VALUES ($1, $2, $3, $4, $5, $6, 1, $7, $7)`, councilID, p.ID, p.GivenName, p.FamilyName, in.DateOfBirth, p.PersonType, now); err != nil {
			return err
		}
		// The audit event of the same shape as pbudget's: roles, changed fields and details as parameters.
		if _, err := tx.Exec(ctx, `INSERT INTO audit_events (council_id, id, occurred_at, actor_subject, actor_roles, action, entity_type, entity_id,
			request_id, changed_fields, details)
			VALUES ($1, $2, $3, 'floor', $4, 'person.created', 'person', $5, $6, $7, $8)`, councilID, uuid.Must(uuid.NewV7()), now,
			[]string{"practitioner"}, p.ID, uuid.NewString(), createdFields, []byte(`{}`)); err != nil {
			return err
		}
		if err := tx.Commit(ctx); err != nil {
			return err
		}
		return c.JSON(http.StatusCreated, p)
	})
	log.Fatal(e.Start(*addr))
}
