package httpapi

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"strings"
	"time"
	"unicode"
	"unicode/utf8"

	"github.com/getkin/kin-openapi/openapi3"
	"github.com/labstack/echo/v4"

	"github.com/pbudget/pbudget/internal/apperr"
)

// The input screen runs before kin-openapi's validation on every request, whatever the operation,
// so that a new operation is screened without code of its own. It refuses what the schema
// keywords cannot express and what PostgreSQL would refuse later with a 5xx:
//
//   - a body that is not valid UTF-8, that has data after its JSON value, or that is sent to an
//     operation declaring no request body;
//   - control characters in any string of the body or of a parameter: always U+0000 to U+001F
//     (except tab, line feed and carriage return in free text, a string whose maxLength is at
//     least freeTextLength) and U+007F to U+009F;
//   - blank text: a text field (a string with no format, enum or pattern other than "\S") is
//     trimmed of surrounding white space (Unicode White_Space and format characters such as
//     U+200B), and one whose minLength is at least 1 must keep at least one character.
//
// Trimming rewrites the body, so handlers, the idempotency hash and the audit trail all see the
// trimmed value. Dates and instants are kept to dateRange by the format validators of init.

// freeTextLength is the maxLength from which a string is free text that may hold line breaks.
const freeTextLength = 1000

// The dates this service accepts anywhere (PostgreSQL stores far more, but nothing in social
// care is dated outside this range, and year 0 does not exist).
var (
	minDate = time.Date(1900, 1, 1, 0, 0, 0, 0, time.UTC)
	maxDate = time.Date(2200, 1, 1, 0, 0, 0, 0, time.UTC) // exclusive
)

const dateRange = "between 1900-01-01 and 2199-12-31"

func init() {
	openapi3.DefineStringFormatValidator("date", openapi3.NewCallbackValidator(func(v string) error {
		t, err := time.Parse(time.DateOnly, v)
		if err != nil || len(v) != len(time.DateOnly) {
			return errors.New("not a date (YYYY-MM-DD)")
		}
		if t.Before(minDate) || !t.Before(maxDate) {
			return errors.New("a date " + dateRange)
		}
		return nil
	}))
	openapi3.DefineStringFormatValidator("date-time", openapi3.NewCallbackValidator(func(v string) error {
		t, err := time.Parse(time.RFC3339Nano, v)
		if err != nil {
			return errors.New("not an RFC 3339 date-time")
		}
		if t.Before(minDate) || !t.Before(maxDate) {
			return errors.New("a date-time " + dateRange)
		}
		return nil
	}))
}

var errBodyNotAllowed = apperr.Validation(apperr.FieldError{
	Field: "", In: "body", Code: "body_not_allowed", Message: "this operation takes no request body",
})

// screenBody reads the body, checks it and returns it, rewritten when text was trimmed.
func screenBody(raw []byte, schema *openapi3.Schema) ([]byte, error) {
	validUTF8 := utf8.Valid(raw)
	dec := json.NewDecoder(bytes.NewReader(raw))
	dec.UseNumber()
	var v any
	if err := dec.Decode(&v); err != nil {
		return nil, apperr.Validation(apperr.FieldError{In: "body", Code: "malformed_json", Message: "the body is not valid JSON"})
	}
	if _, err := dec.Token(); !errors.Is(err, io.EOF) {
		return nil, apperr.Validation(apperr.FieldError{In: "body", Code: "trailing_data", Message: "the body has data after its JSON value"})
	}
	sc := &screen{invalidUTF8: !validUTF8}
	v = sc.walk(v, schema, "")
	if sc.invalidUTF8 && !sc.foundUTF8 {
		sc.bad.Add("", "utf8", "the body is not valid UTF-8")
	}
	if err := sc.bad.Err(); err != nil {
		return nil, err
	}
	if !sc.changed {
		return raw, nil
	}
	return json.Marshal(v)
}

type screen struct {
	invalidUTF8, foundUTF8, changed bool
	bad                             apperr.Fields
}

func (sc *screen) walk(v any, s *openapi3.Schema, ptr string) any {
	switch x := v.(type) {
	case map[string]any:
		for k, val := range x {
			x[k] = sc.walk(val, propertyOf(s, k), ptr+"/"+escapePointer(k))
		}
	case []any:
		var items *openapi3.Schema
		if s != nil && s.Items != nil {
			items = s.Items.Value
		}
		for i, val := range x {
			x[i] = sc.walk(val, items, fmt.Sprintf("%s/%d", ptr, i))
		}
	case string:
		if sc.invalidUTF8 && strings.ContainsRune(x, utf8.RuneError) {
			sc.foundUTF8 = true
			sc.bad.Add(ptr, "utf8", "not valid UTF-8")
			return x
		}
		code, msg := checkString(x, s)
		if code != "" {
			sc.bad.Add(ptr, code, msg)
			return x
		}
		if isText(s) {
			if t := trimText(x); t != x {
				sc.changed = true
				x = t
			}
			if x == "" && s.MinLength >= 1 {
				sc.bad.Add(ptr, "blank", "must not be blank")
			}
		}
		return x
	}
	return v
}

// checkString returns the rule a string breaks, if any, whatever its schema.
func checkString(x string, s *openapi3.Schema) (code, message string) {
	if !utf8.ValidString(x) {
		return "utf8", "not valid UTF-8"
	}
	multiline := s != nil && s.MaxLength != nil && *s.MaxLength >= freeTextLength
	for _, r := range x {
		if r == '\t' || r == '\n' || r == '\r' {
			if multiline {
				continue
			}
			return "control_character", "must not contain control characters (line breaks and tabs only in free text)"
		}
		if r < 0x20 || (r >= 0x7f && r <= 0x9f) {
			return "control_character", "must not contain control characters"
		}
	}
	return "", ""
}

// isText reports whether s is human text, which the server trims: a string without a format or
// enum, whose pattern, if any, only asks for a non-space character.
func isText(s *openapi3.Schema) bool {
	return s != nil && s.Type.Is(openapi3.TypeString) && s.Format == "" && len(s.Enum) == 0 &&
		(s.Pattern == "" || s.Pattern == `\S`)
}

func trimText(s string) string {
	return strings.TrimFunc(s, func(r rune) bool { return unicode.IsSpace(r) || unicode.Is(unicode.Cf, r) })
}

// propertyOf finds the schema of property name in s, looking through allOf.
func propertyOf(s *openapi3.Schema, name string) *openapi3.Schema {
	if s == nil {
		return nil
	}
	if p, ok := s.Properties[name]; ok && p.Value != nil {
		return p.Value
	}
	for _, sub := range s.AllOf {
		if p := propertyOf(sub.Value, name); p != nil {
			return p
		}
	}
	return nil
}

func escapePointer(s string) string { return strings.NewReplacer("~", "~0", "/", "~1").Replace(s) }

// screenParams checks every query, path and declared header parameter for invalid UTF-8 and
// control characters (a NUL in a query reaches PostgreSQL otherwise).
func screenParams(c echo.Context, op *operation) error {
	var bad []apperr.FieldError
	check := func(in, name, v string) {
		if code, msg := checkString(v, nil); code != "" {
			bad = append(bad, apperr.FieldError{Field: name, In: in, Code: code, Message: name + ": " + msg})
		}
	}
	if c.Request().URL.RawQuery != "" {
		for name, vals := range c.Request().URL.Query() {
			check("query", name, name)
			for _, v := range vals {
				check("query", name, v)
			}
		}
	}
	for i, name := range c.ParamNames() {
		check("path", name, c.ParamValues()[i])
	}
	for _, name := range op.headerParams {
		for _, v := range c.Request().Header.Values(name) {
			check("header", name, v)
		}
	}
	if len(bad) > 0 {
		return apperr.Validation(bad...)
	}
	return nil
}

// bodySchema is the schema of the request body of op for the request's media type.
func bodySchema(op *operation, r *http.Request) *openapi3.Schema {
	rb := op.route.Operation.RequestBody
	if rb == nil || rb.Value == nil {
		return nil
	}
	mt := rb.Value.Content.Get(mediaType(r))
	if mt == nil || mt.Schema == nil {
		return nil
	}
	return mt.Schema.Value
}
