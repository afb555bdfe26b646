// Package migrations embeds the goose SQL migrations, applied by `pbudget serve` and
// `pbudget migrate` under a PostgreSQL advisory lock.
package migrations

import "embed"

// FS holds every migration.
//
//go:embed *.sql
var FS embed.FS
