package postgres

import (
	"database/sql/driver"
	"fmt"
	"strings"
)

// textArray is a PostgreSQL text[] column, written and read in the array literal format.
type textArray []string

// Value implements driver.Valuer: every element is quoted, with quotes and backslashes escaped.
func (a textArray) Value() (driver.Value, error) {
	var b strings.Builder
	b.WriteByte('{')
	for i, s := range a {
		if i > 0 {
			b.WriteByte(',')
		}
		b.WriteByte('"')
		_, _ = arrayQuoter.WriteString(&b, s)
		b.WriteByte('"')
	}
	b.WriteByte('}')
	return b.String(), nil
}

// Scan implements sql.Scanner for a one-dimensional array literal.
func (a *textArray) Scan(src any) error {
	var s string
	switch v := src.(type) {
	case string:
		s = v
	case []byte:
		s = string(v)
	case nil:
		*a = nil
		return nil
	default:
		return fmt.Errorf("text[]: cannot scan %T", src)
	}
	if len(s) < 2 || s[0] != '{' || s[len(s)-1] != '}' {
		return fmt.Errorf("text[]: not an array literal")
	}
	s = s[1 : len(s)-1]
	out := textArray{}
	for len(s) > 0 {
		var elem strings.Builder
		if s[0] == '"' {
			i := 1
			for ; i < len(s) && s[i] != '"'; i++ {
				if s[i] == '\\' && i+1 < len(s) {
					i++
				}
				elem.WriteByte(s[i])
			}
			s = s[min(i+1, len(s)):]
		} else {
			i := strings.IndexByte(s, ',')
			if i < 0 {
				i = len(s)
			}
			elem.WriteString(s[:i])
			s = s[i:]
		}
		out = append(out, elem.String())
		s = strings.TrimPrefix(s, ",")
	}
	*a = out
	return nil
}
