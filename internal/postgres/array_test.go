package postgres

import (
	"database/sql"
	"os"
	"testing"

	_ "github.com/jackc/pgx/v5/stdlib"
	"github.com/stretchr/testify/require"
)

func TestTextArrayRoundTripsThroughPostgres(t *testing.T) {
	t.Parallel()
	db, err := sql.Open("pgx", os.Getenv("TEST_DATABASE_URL"))
	require.NoError(t, err)
	defer db.Close()
	for _, in := range []textArray{{}, {"a"}, {"b c", `d"e`, `f\g`, "", "NULL", "{x,y}"}} {
		v, err := in.Value()
		require.NoError(t, err)
		var out textArray
		require.NoError(t, db.QueryRow(`SELECT $1::text[]`, v).Scan(&out))
		require.Equal(t, in, out)
	}
}
