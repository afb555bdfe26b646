package postgres

import (
	"context"
	"fmt"
	"reflect"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/google/uuid"
	"github.com/jackc/pgx/v5/pgtype"
	"gorm.io/gorm"
	"gorm.io/gorm/schema"

	"github.com/pbudget/pbudget/internal/date"
)

// uuidArray passes UUIDs as one uuid[] parameter, for `id = ANY(?)` and unnest: pgx encodes it in
// binary as it is. (gorm expands a plain slice into a parameter per element; a driver.Valuer
// giving an array literal is parsed by pgx again, element by element.)
func uuidArray(ids []uuid.UUID) pgtype.Array[[16]byte] {
	elems := make([][16]byte, len(ids))
	for i, id := range ids {
		elems[i] = id
	}
	return pgtype.Array[[16]byte]{Elements: elems, Dims: []pgtype.ArrayDimension{{Length: int32(len(ids)), LowerBound: 1}}, Valid: true}
}

// textArrayParam passes strings (nil: NULL) as one text[] parameter, likewise.
func textArrayParam(vs []*string) pgtype.Array[*string] {
	return pgtype.Array[*string]{Elements: vs, Dims: []pgtype.ArrayDimension{{Length: int32(len(vs)), LowerBound: 1}}, Valid: true}
}

// lockedByID is a subquery of the ctids of the rows of table whose ids are the uuid[] parameter
// (first placeholder) in the council of the second, each locked FOR UPDATE in the array's order.
// The LATERAL lock makes each id a primary-key probe (a subquery with FOR UPDATE is never pulled
// up into a join), and `WHERE ctid = ANY(ARRAY(` + lockedByID + `))` makes an UPDATE a TID scan of
// exactly those rows: plans that do not depend on the table's statistics, which a council's first
// bulk load leaves stale (left to itself the planner hashed the whole council's rows each batch).
func lockedByID(table string) string {
	return `SELECT x.ctid FROM unnest(?::uuid[]) AS k(key_id) CROSS JOIN LATERAL (
		SELECT ctid FROM ` + table + ` WHERE council_id = ? AND id = k.key_id FOR UPDATE) x`
}

// insertAll inserts rows, structs of one gorm model, in one statement whatever their number:
//
//	INSERT INTO t (a, b, …) SELECT a::uuid, b::jsonb, … FROM unnest($1::text[], $2::text[], …) AS u(a, b, …)
//
// Each column travels as one text array and is cast to its type in the select list. Against
// gorm's multi-row VALUES (a parameter a value: 16,500 for 500 assessments) it is one short
// statement to parse and no reflection-heavy encoding of each value (measured: the bulk inserts of
// an uprating batch took about a third of its time before).
func insertAll[R any](ctx context.Context, q *gorm.DB, rows []R) error {
	if len(rows) == 0 {
		return nil
	}
	cols, err := bulkColumnsOf(q, &rows[0])
	if err != nil {
		return err
	}
	names, casts, params := make([]string, len(cols)), make([]string, len(cols)), make([]any, len(cols))
	values := make([][]*string, len(cols))
	for i := range values {
		values[i] = make([]*string, len(rows))
	}
	for r := range rows {
		rv := reflect.ValueOf(&rows[r]).Elem()
		for i, c := range cols {
			if values[i][r], err = c.text(c.field.ReflectValueOf(ctx, rv).Interface()); err != nil {
				return fmt.Errorf("bulk insert %s.%s: %w", cols[0].table, c.field.DBName, err)
			}
		}
	}
	for i, c := range cols {
		names[i], casts[i], params[i] = c.field.DBName, c.field.DBName+"::"+c.sqlType, textArrayParam(values[i])
	}
	placeholders := strings.TrimSuffix(strings.Repeat("?::text[], ", len(cols)), ", ")
	stmt := "INSERT INTO " + cols[0].table + " (" + strings.Join(names, ", ") + ") SELECT " + strings.Join(casts, ", ") +
		" FROM unnest(" + placeholders + ") AS u(" + strings.Join(names, ", ") + ")"
	return q.Exec(stmt, params...).Error
}

// bulkColumn is a column that insertAll writes: its field, its PostgreSQL type, and how a value
// of the field is written as text (nil: NULL).
type bulkColumn struct {
	table   string
	field   *schema.Field
	sqlType string
	text    func(v any) (*string, error)
}

var bulkColumns sync.Map // reflect.Type → []bulkColumn

func bulkColumnsOf(q *gorm.DB, model any) ([]bulkColumn, error) {
	t := reflect.TypeOf(model)
	if cols, ok := bulkColumns.Load(t); ok {
		return cols.([]bulkColumn), nil
	}
	stmt := &gorm.Statement{DB: q}
	if err := stmt.Parse(model); err != nil {
		return nil, err
	}
	var cols []bulkColumn
	for _, f := range stmt.Schema.Fields {
		if f.DBName == "" || !f.Creatable {
			continue
		}
		sqlType, text, err := bulkTypeOf(f.FieldType)
		if err != nil {
			return nil, fmt.Errorf("bulk insert %s.%s: %w", stmt.Schema.Table, f.DBName, err)
		}
		cols = append(cols, bulkColumn{table: stmt.Schema.Table, field: f, sqlType: sqlType, text: text})
	}
	bulkColumns.Store(t, cols)
	return cols, nil
}

// bulkTypeOf maps the Go types of the row structs to PostgreSQL types and their text form.
func bulkTypeOf(t reflect.Type) (string, func(any) (*string, error), error) {
	str := func(s string) (*string, error) { return &s, nil }
	if t.Kind() == reflect.Pointer {
		sqlType, text, err := bulkTypeOf(t.Elem())
		return sqlType, func(v any) (*string, error) {
			rv := reflect.ValueOf(v)
			if rv.IsNil() {
				return nil, nil
			}
			return text(rv.Elem().Interface())
		}, err
	}
	switch t {
	case reflect.TypeFor[uuid.UUID]():
		return "uuid", func(v any) (*string, error) { return str(v.(uuid.UUID).String()) }, nil
	case reflect.TypeFor[date.Date]():
		return "date", func(v any) (*string, error) { return str(v.(date.Date).String()) }, nil
	case reflect.TypeFor[time.Time]():
		return "timestamptz", func(v any) (*string, error) { return str(v.(time.Time).Format(time.RFC3339Nano)) }, nil
	case reflect.TypeFor[textArray]():
		return "text[]", func(v any) (*string, error) {
			lit, err := v.(textArray).Value()
			if err != nil {
				return nil, err
			}
			return str(lit.(string))
		}, nil
	case reflect.TypeFor[[]byte](): // the row structs' byte slices are all jsonb
		return "jsonb", func(v any) (*string, error) {
			if v.([]byte) == nil {
				return nil, nil
			}
			return str(string(v.([]byte)))
		}, nil
	}
	switch t.Kind() {
	case reflect.String:
		return "text", func(v any) (*string, error) { return str(reflect.ValueOf(v).String()) }, nil
	case reflect.Int, reflect.Int32, reflect.Int64:
		return "bigint", func(v any) (*string, error) { return str(strconv.FormatInt(reflect.ValueOf(v).Int(), 10)) }, nil
	case reflect.Bool:
		return "boolean", func(v any) (*string, error) { return str(strconv.FormatBool(v.(bool))) }, nil
	}
	return "", nil, fmt.Errorf("no bulk form for %s", t)
}

// arrayQuoter escapes an element of an array literal.
var arrayQuoter = strings.NewReplacer(`\`, `\\`, `"`, `\"`)
