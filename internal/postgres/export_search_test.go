package postgres

import (
	"github.com/google/uuid"
	"gorm.io/gorm"

	"github.com/pbudget/pbudget/internal/page"
	"github.com/pbudget/pbudget/internal/person"
)

// ListPeopleSQL is the statement ListPeople sends, with its PostgreSQL placeholders, and its values.
func ListPeopleSQL(db *DB, councilID uuid.UUID, f person.Filter, p page.Request) (string, []any) {
	var rows []personRow
	stmt := listPeopleQuery(db.gorm.Session(&gorm.Session{DryRun: true}), councilID, f, p).Find(&rows).Statement
	return stmt.SQL.String(), stmt.Vars
}
