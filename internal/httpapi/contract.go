package httpapi

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"mime"
	"net/http"
	"regexp"
	"slices"
	"strings"

	"github.com/getkin/kin-openapi/openapi3"
	"github.com/getkin/kin-openapi/openapi3filter"
	"github.com/getkin/kin-openapi/routers"
	"github.com/labstack/echo/v4"

	"github.com/pbudget/pbudget/internal/accounts"
	"github.com/pbudget/pbudget/internal/actor"
	"github.com/pbudget/pbudget/internal/apperr"
	"github.com/pbudget/pbudget/internal/idempotency"
)

// MaxBodyBytes bounds request bodies (413 above it).
const MaxBodyBytes = 1 << 20

// operation is what the contract says about one method and path, worked out once at start-up.
type operation struct {
	route        *routers.Route
	secured      bool
	roles        []actor.Role // empty: any authenticated caller
	contentTypes []string     // of the request body; empty when it has none
	idempotent   bool         // declares the Idempotency-Key header
	streamed     bool         // its body is a file (text/csv), spooled to disk rather than read into memory
	// plain: no request body and no required query or header parameter, its path parameters all
	// uuids and nothing else; such a request without a query string or any of the optional
	// headers (headers) needs only its path checked (plainRequest), not the whole validator.
	plain   bool
	headers []string
	// headerParams are the names of every header parameter it declares (screenParams).
	headerParams []string
}

// operations indexes the spec by method and echo route path (/v1/people/:person_id).
type operations map[string]*operation

func opKey(method, echoPath string) string { return method + " " + echoPath }

func indexOperations(spec *openapi3.T) (operations, error) {
	ops := operations{}
	for path, item := range spec.Paths.Map() {
		echoPath := toEchoPath(path)
		for method, op := range item.Operations() {
			o := &operation{
				route:   &routers.Route{Spec: spec, Path: path, PathItem: item, Method: method, Operation: op},
				secured: isSecured(spec, op),
			}
			if raw, ok := op.Extensions["x-pbudget-roles"]; ok {
				list, ok := raw.([]any)
				if !ok {
					return nil, fmt.Errorf("%s %s: x-pbudget-roles must be a list", method, path)
				}
				for _, r := range list {
					role := actor.Role(fmt.Sprint(r))
					if !role.Valid() {
						return nil, fmt.Errorf("%s %s: unknown role %q", method, path, role)
					}
					o.roles = append(o.roles, role)
				}
			}
			if op.RequestBody != nil && op.RequestBody.Value != nil {
				for ct := range op.RequestBody.Value.Content {
					o.contentTypes = append(o.contentTypes, ct)
					o.streamed = o.streamed || ct == "text/csv"
				}
			}
			o.plain = op.RequestBody == nil
			for _, p := range append(item.Parameters, op.Parameters...) {
				if p.Value != nil && p.Value.In == "header" {
					o.headerParams = append(o.headerParams, p.Value.Name)
					o.idempotent = o.idempotent || http.CanonicalHeaderKey(p.Value.Name) == idempotency.Header
				}
				switch {
				case p.Value == nil:
					o.plain = false
				case p.Value.In == "path":
					o.plain = o.plain && isUUIDSchema(p.Value.Schema)
				case p.Value.Required || p.Value.In == "cookie":
					o.plain = false
				case p.Value.In == "header":
					o.headers = append(o.headers, http.CanonicalHeaderKey(p.Value.Name))
				}
			}
			ops[opKey(method, echoPath)] = o
		}
	}
	return ops, nil
}

// isUUIDSchema reports whether a parameter's schema is a string in the uuid format and nothing
// more that the validator would check.
func isUUIDSchema(ref *openapi3.SchemaRef) bool {
	if ref == nil || ref.Value == nil {
		return false
	}
	v := ref.Value
	return v.Type != nil && v.Type.Is("string") && v.Format == "uuid" && v.Pattern == "" && len(v.Enum) == 0 &&
		v.MinLength <= 36 && (v.MaxLength == nil || *v.MaxLength >= 36) && len(v.AllOf) == 0 && len(v.OneOf) == 0 &&
		len(v.AnyOf) == 0 && v.Not == nil
}

// plainRequest reports whether a request of a plain operation carries nothing the validator would
// need to see: no body, no query string, none of its optional headers, and path values that are
// uuids in RFC 9562's versioned layout (a subset of what the validator's uuid format accepts:
// anything else, the nil and max uuids included, goes through the validator, which words the
// problem). A GET of one record by id is the request path's commonest case.
func plainRequest(c echo.Context, op *operation) bool {
	req := c.Request()
	if !op.plain || req.URL.RawQuery != "" || hasBody(req) {
		return false
	}
	for _, h := range op.headers {
		if _, ok := req.Header[h]; ok {
			return false
		}
	}
	for _, v := range c.ParamValues() {
		if !versionedUUID(v) {
			return false
		}
	}
	return true
}

// versionedUUID reports whether s is a uuid of versions 1 to 8 in its canonical 36-character form
// (either case), as FormatOfStringForUUIDOfRFC9562's first alternative says.
func versionedUUID(s string) bool {
	if len(s) != 36 {
		return false
	}
	for i := 0; i < 36; i++ {
		c := s[i]
		switch i {
		case 8, 13, 18, 23:
			if c != '-' {
				return false
			}
		case 14:
			if c < '1' || c > '8' {
				return false
			}
		case 19:
			if !strings.ContainsRune("89abAB", rune(c)) {
				return false
			}
		default:
			if !('0' <= c && c <= '9' || 'a' <= c && c <= 'f' || 'A' <= c && c <= 'F') {
				return false
			}
		}
	}
	return true
}

func isSecured(spec *openapi3.T, op *openapi3.Operation) bool {
	reqs := spec.Security
	if op.Security != nil {
		reqs = *op.Security
	}
	return len(reqs) > 0
}

func toEchoPath(path string) string {
	parts := strings.Split(path, "/")
	for i, p := range parts {
		if strings.HasPrefix(p, "{") && strings.HasSuffix(p, "}") {
			parts[i] = ":" + p[1:len(p)-1]
		}
	}
	return strings.Join(parts, "/")
}

func (ops operations) of(c echo.Context) *operation {
	return ops[opKey(c.Request().Method, c.Path())]
}

// contract enforces openapi.yaml on every request: authentication, the roles of x-pbudget-roles,
// the body's size and type, and request validation. Paths outside the contract pass through to
// echo's 404 and 405 handlers.
func (s *Server) contract(next echo.HandlerFunc) echo.HandlerFunc {
	return func(c echo.Context) error {
		op := s.ops.of(c)
		if op == nil {
			if c.Request().Method == http.MethodOptions {
				// echo answers OPTIONS itself with 204; the contract declares no OPTIONS.
				return echo.ErrMethodNotAllowed
			}
			return next(c)
		}
		req := c.Request()
		if op.secured {
			a, err := s.authenticate(c)
			if err != nil {
				return err
			}
			if len(op.roles) > 0 && !a.Has(op.roles...) {
				return apperr.ErrForbidden
			}
			req = req.WithContext(actor.With(req.Context(), a))
			c.SetRequest(req)
		}
		validation := s.validation
		var spooled *spooledBody
		if op.streamed && hasBody(req) {
			if err := checkContentType(req, op.contentTypes); err != nil {
				return err
			}
			spool, err := spoolBody(c, accounts.MaxStatementBytes)
			if err != nil {
				return err
			}
			defer spool.remove()
			// The validator's security check reads whatever body it finds into memory: it sees none.
			req.Body, req.GetBody, spooled = http.NoBody, nil, spool
			// The file is checked line by line by its import, not by the validator (which would
			// read it whole).
			v := *s.validation
			v.ExcludeRequestBody = true
			validation = &v
		} else if hasBody(req) {
			if len(op.contentTypes) == 0 {
				return errBodyNotAllowed
			}
			if err := checkContentType(req, op.contentTypes); err != nil {
				return err
			}
			if req.ContentLength > MaxBodyBytes {
				return errTooLarge
			}
			raw, err := io.ReadAll(http.MaxBytesReader(c.Response(), req.Body, MaxBodyBytes))
			if err != nil {
				var tooBig *http.MaxBytesError
				if errors.As(err, &tooBig) {
					return errTooLarge
				}
				return err
			}
			if raw, err = screenBody(raw, bodySchema(op, req)); err != nil {
				return err
			}
			req.Body, req.ContentLength = io.NopCloser(bytes.NewReader(raw)), int64(len(raw))
			req.GetBody = func() (io.ReadCloser, error) { return io.NopCloser(bytes.NewReader(raw)), nil }
		}
		if err := screenParams(c, op); err != nil {
			return err
		}
		if plainRequest(c, op) {
			return next(c)
		}
		params := make(map[string]string, len(c.ParamNames()))
		for i, name := range c.ParamNames() {
			params[name] = c.ParamValues()[i]
		}
		err := openapi3filter.ValidateRequest(req.Context(), &openapi3filter.RequestValidationInput{
			Request: req, PathParams: params, Route: op.route, Options: validation,
		})
		if err != nil {
			return validationError(err)
		}
		if spooled != nil {
			req.Body, req.GetBody = spooled, nil
		}
		return next(c)
	}
}

func hasBody(r *http.Request) bool {
	return r.ContentLength > 0 || (r.ContentLength < 0 && r.Body != nil && r.Body != http.NoBody)
}

func checkContentType(r *http.Request, allowed []string) error {
	if !slices.Contains(allowed, mediaType(r)) {
		return errUnsupportedMediaType
	}
	return nil
}

// mediaType is the request's Content-Type without parameters, "" when it has none or a bad one.
func mediaType(r *http.Request) string {
	mt, _, err := mime.ParseMediaType(r.Header.Get(echo.HeaderContentType))
	if err != nil {
		return ""
	}
	return mt
}

// validationError turns kin-openapi's findings into one problem listing every bad field.
func validationError(err error) error {
	var tooBig *http.MaxBytesError
	if errors.As(err, &tooBig) {
		return errTooLarge
	}
	var fields []apperr.FieldError
	collectFieldErrors(err, &fields)
	if len(fields) == 0 {
		fields = append(fields, apperr.FieldError{Field: "", In: "body", Code: "invalid", Message: "the request is invalid"})
	}
	return apperr.Validation(fields...)
}

func collectFieldErrors(err error, out *[]apperr.FieldError) {
	// Type switches, not errors.As: a RequestError unwraps to a MultiError of schema errors.
	if multi, ok := err.(openapi3.MultiError); ok {
		for _, e := range multi {
			collectFieldErrors(e, out)
		}
		return
	}
	re, ok := err.(*openapi3filter.RequestError)
	if !ok {
		*out = append(*out, apperr.FieldError{In: "body", Code: "invalid", Message: "the request is invalid"})
		return
	}
	switch {
	case re.Parameter != nil:
		fe := apperr.FieldError{Field: re.Parameter.Name, In: re.Parameter.In, Code: "invalid", Message: "invalid " + re.Parameter.In + " parameter"}
		var se *openapi3.SchemaError
		var pe *openapi3filter.ParseError
		switch {
		case errors.Is(re.Err, openapi3filter.ErrInvalidRequired):
			fe.Code, fe.Message = "required", re.Parameter.Name+" is required"
		case errors.As(re.Err, &se):
			fe.Code, fe.Message = schemaCode(se), re.Parameter.Name+": "+se.Reason
		case errors.As(re.Err, &pe):
			fe.Code, fe.Message = "type", re.Parameter.Name+": "+pe.Reason
		}
		*out = append(*out, fe)
	case re.RequestBody != nil:
		var multi openapi3.MultiError
		var se *openapi3.SchemaError
		switch {
		case errors.Is(re.Err, openapi3filter.ErrInvalidRequired):
			*out = append(*out, apperr.FieldError{In: "body", Code: "required", Message: "a request body is required"})
		case errors.As(re.Err, &multi):
			for _, e := range multi {
				if errors.As(e, &se) {
					*out = append(*out, schemaFieldError(se))
				}
			}
		case errors.As(re.Err, &se):
			*out = append(*out, schemaFieldError(se))
		default:
			*out = append(*out, apperr.FieldError{In: "body", Code: "malformed_json", Message: "the body is not valid JSON"})
		}
	default:
		*out = append(*out, apperr.FieldError{In: "body", Code: "invalid", Message: re.Reason})
	}
}

// unsupportedProperty finds the name in kin-openapi's reason for an unknown field, which its
// pointer leaves out.
var unsupportedProperty = regexp.MustCompile(`^property "(.*)" is unsupported$`)

func schemaFieldError(se *openapi3.SchemaError) apperr.FieldError {
	path := se.JSONPointer()
	if m := unsupportedProperty.FindStringSubmatch(se.Reason); m != nil {
		path = append(path, m[1])
	}
	ptr := ""
	for _, p := range path {
		ptr += "/" + strings.NewReplacer("~", "~0", "/", "~1").Replace(p)
	}
	return apperr.FieldError{Field: ptr, In: "body", Code: schemaCode(se), Message: se.Reason}
}

// schemaCode names the schema keyword a value broke, in the words of the problem's errors array.
func schemaCode(se *openapi3.SchemaError) string {
	switch se.SchemaField {
	case "required":
		return "required"
	case "additionalProperties", "properties":
		return "unknown_field"
	case "type", "nullable":
		return "type"
	case "":
		return "invalid"
	}
	return se.SchemaField // pattern, format, enum, minLength, maxLength, minimum, maximum, ...
}

// patchBody is the merge patch of a PATCH, sent as application/json or application/merge-patch+json.
func patchBody[T any](asJSON, asMergePatch *T) *T {
	if asJSON != nil {
		return asJSON
	}
	return asMergePatch
}
