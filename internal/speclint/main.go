// Command speclint checks openapi.yaml: first that it is a valid OpenAPI 3.0 document, then the
// house rules of API.md that a generic linter does not know (problem+json errors, X-Request-Id on
// every response, the statuses each kind of operation can answer, roles, snake_case, pence), and
// the rules that keep the contract exact for strict tools: every string has a maxLength (an enum
// or a uuid, date or date-time format bounds it instead), every integer a minimum and a maximum,
// every operation a description, every JSON request body an example, every error response the
// list of its problem types (an enum of `type`), and nullable written so that strict tools read it
// (an allOf beside nullable needs a type; a nullable enum lists null).
// Run by `make test`; it prints every finding and exits 1 when there is any.
package main

import (
	"context"
	"fmt"
	"os"
	"regexp"
	"slices"
	"sort"
	"strings"

	"github.com/getkin/kin-openapi/openapi3"

	"github.com/pbudget/pbudget/internal/actor"
)

func main() {
	path := "openapi.yaml"
	if len(os.Args) > 1 {
		path = os.Args[1]
	}
	findings, err := lint(path)
	if err != nil {
		fmt.Fprintln(os.Stderr, "speclint:", err)
		os.Exit(1)
	}
	for _, f := range findings {
		fmt.Fprintln(os.Stderr, "speclint:", f)
	}
	if len(findings) > 0 {
		os.Exit(1)
	}
	fmt.Println("speclint: openapi.yaml follows the house rules")
}

func lint(path string) ([]string, error) {
	loader := openapi3.NewLoader()
	doc, err := loader.LoadFromFile(path)
	if err != nil {
		return nil, err
	}
	if err := doc.Validate(context.Background()); err != nil {
		return nil, fmt.Errorf("not a valid OpenAPI document: %w", err)
	}
	return check(doc), nil
}

var snake = regexp.MustCompile(`^[a-z][a-z0-9]*(_[a-z0-9]+)*$`)

// check applies the house rules to a loaded document.
func check(doc *openapi3.T) []string {
	var out []string
	add := func(format string, args ...any) { out = append(out, fmt.Sprintf(format, args...)) }

	if doc.OpenAPI != "3.0.3" {
		add("openapi: want 3.0.3, got %s", doc.OpenAPI)
	}
	if doc.Info == nil || doc.Info.Contact == nil || (doc.Info.Contact.URL == "" && doc.Info.Contact.Email == "") {
		add("info.contact: name a contact (url or email)")
	}
	paths := doc.Paths.InMatchingOrder()
	sort.Strings(paths)
	for _, path := range paths {
		item := doc.Paths.Value(path)
		for method, op := range item.Operations() {
			where := method + " " + path
			if op.OperationID == "" || op.Summary == "" || len(op.Tags) == 0 {
				add("%s: needs operationId, summary and tags", where)
			}
			if strings.TrimSpace(op.Description) == "" {
				add("%s: needs a description", where)
			}
			secured := len(doc.Security) > 0
			if op.Security != nil {
				secured = len(*op.Security) > 0
			}
			params := append(openapi3.Parameters{}, item.Parameters...)
			params = append(params, op.Parameters...)
			has := func(in, name string) bool {
				for _, p := range params {
					if p.Value != nil && p.Value.In == in && strings.EqualFold(p.Value.Name, name) {
						return true
					}
				}
				return false
			}
			want := []string{"400", "405", "500"}
			if secured {
				want = append(want, "401", "403")
				roles, ok := op.Extensions["x-pbudget-roles"].([]any)
				if strings.HasPrefix(path, "/v1/") && !ok {
					add("%s: a /v1 operation lists its roles in x-pbudget-roles", where)
				}
				for _, r := range roles {
					if !actor.Role(fmt.Sprint(r)).Valid() {
						add("%s: unknown role %v in x-pbudget-roles", where, r)
					}
				}
			}
			if strings.Contains(path, "{") {
				want = append(want, "404")
			}
			if op.RequestBody != nil {
				want = append(want, "413", "415")
				checkRequestBody(where, op.RequestBody.Value, add)
			}
			if has("header", "If-Match") {
				want = append(want, "412", "428")
			}
			if has("header", "Idempotency-Key") {
				want = append(want, "409", "422")
			}
			for _, code := range want {
				if op.Responses.Value(code) == nil {
					add("%s: must declare a %s response", where, code)
				}
			}
			for code, ref := range op.Responses.Map() {
				checkResponse(where+" "+code, code, ref.Value, add)
			}
			for _, p := range params {
				if p.Value != nil {
					walkSchema(where+" parameter "+p.Value.Name, p.Value.Schema, map[*openapi3.Schema]bool{}, add)
				}
			}
			if r := op.Responses.Value("200"); r != nil && r.Value != nil {
				if mt := r.Value.Content.Get("application/json"); mt != nil && mt.Schema != nil && mt.Schema.Value != nil {
					if _, paged := mt.Schema.Value.Properties["next_page_token"]; paged && !(has("query", "page_size") && has("query", "page_token")) {
						add("%s: a paged list takes page_size and page_token", where)
					}
				}
			}
		}
	}
	names := make([]string, 0, len(doc.Components.Schemas))
	for name := range doc.Components.Schemas {
		names = append(names, name)
	}
	sort.Strings(names)
	for _, name := range names {
		walkSchema("#/components/schemas/"+name, doc.Components.Schemas[name], map[*openapi3.Schema]bool{}, add)
	}
	return out
}

func checkRequestBody(where string, body *openapi3.RequestBody, add func(string, ...any)) {
	for ct, mt := range body.Content {
		if ct != "application/json" {
			continue
		}
		s := mt.Schema.Value
		if s != nil && (len(s.AllOf) > 0 || len(s.OneOf) > 0 || len(s.AnyOf) > 0) {
			add("%s: a JSON request body is a plain object schema (a composition cannot refuse unknown fields)", where)
			continue
		}
		if s != nil && slices.Contains(typesOf(s), "object") {
			if s.AdditionalProperties.Has == nil || *s.AdditionalProperties.Has {
				add("%s: a JSON request body rejects unknown fields (additionalProperties: false)", where)
			}
		}
		if mt.Example == nil && len(mt.Examples) == 0 {
			add("%s: a JSON request body has an example", where)
		}
	}
}

func checkResponse(where, code string, r *openapi3.Response, add func(string, ...any)) {
	if r == nil {
		return
	}
	if _, ok := r.Headers["X-Request-Id"]; !ok {
		add("%s: every response declares the X-Request-Id header", where)
	}
	if code >= "400" {
		mt := r.Content.Get("application/problem+json")
		if mt == nil || len(r.Content) != 1 {
			add("%s: an error is application/problem+json only", where)
		} else if types := problemTypes(mt.Schema); len(types) == 0 {
			add("%s: an error body is the Problem schema with the enum of its problem types (allOf [Problem, {type: enum}])", where)
		} else {
			for _, t := range types {
				if !strings.HasPrefix(t, "urn:pbudget:problem:") {
					add("%s: problem type %q is not a urn:pbudget:problem: URN", where, t)
				}
			}
		}
	}
	for name, h := range r.Headers {
		if h.Value != nil && h.Value.Schema != nil {
			walkSchema(where+" header "+name, h.Value.Schema, map[*openapi3.Schema]bool{}, add)
		}
	}
	if code == "401" {
		if _, ok := r.Headers["WWW-Authenticate"]; !ok {
			add("%s: a 401 declares WWW-Authenticate", where)
		}
	}
}

func typesOf(s *openapi3.Schema) []string {
	if s.Type == nil {
		return nil
	}
	return s.Type.Slice()
}

// walkSchema checks property names and money fields everywhere a schema reaches.
func walkSchema(where string, ref *openapi3.SchemaRef, seen map[*openapi3.Schema]bool, add func(string, ...any)) {
	if ref == nil || ref.Value == nil || seen[ref.Value] {
		return
	}
	s := ref.Value
	seen[s] = true
	if slices.Contains(typesOf(s), "number") {
		add("%s: no floating point in this API (money is integer pence)", where)
	}
	switch {
	case slices.Contains(typesOf(s), "string"):
		bounded := len(s.Enum) > 0 || s.Format == "uuid" || s.Format == "date" || s.Format == "date-time"
		if s.MaxLength == nil && !bounded {
			add("%s: a string has a maxLength", where)
		}
	case slices.Contains(typesOf(s), "integer"):
		if s.Min == nil || s.Max == nil {
			add("%s: an integer has a minimum and a maximum", where)
		}
	}
	if s.Nullable && len(s.AllOf) > 0 && len(typesOf(s)) == 0 {
		add("%s: nullable beside allOf needs a type (type: object, nullable: true, allOf: [$ref])", where)
	}
	if s.Nullable && len(s.Enum) > 0 && !slices.Contains(s.Enum, any(nil)) {
		add("%s: a nullable enum lists null among its values", where)
	}
	for name, p := range s.Properties {
		at := where + "." + name
		if !snake.MatchString(name) {
			add("%s: property names are snake_case", at)
		}
		if strings.HasSuffix(name, "_pence") && p.Value != nil {
			if !slices.Contains(typesOf(p.Value), "integer") || p.Value.Format != "int64" {
				add("%s: a _pence field is an integer with format int64", at)
			}
		}
		walkSchema(at, p, seen, add)
	}
	walkSchema(where+"[]", s.Items, seen, add)
	for _, sub := range append(append(append([]*openapi3.SchemaRef{}, s.AllOf...), s.OneOf...), s.AnyOf...) {
		walkSchema(where, sub, seen, add)
	}
}

// problemTypes lists the enum of `type` of a problem schema: allOf [Problem, {properties: {type}}].
func problemTypes(ref *openapi3.SchemaRef) []string {
	if ref == nil || ref.Value == nil {
		return nil
	}
	var out []string
	hasProblem := false
	for _, sub := range ref.Value.AllOf {
		if strings.HasSuffix(sub.Ref, "/Problem") {
			hasProblem = true
			continue
		}
		if sub.Value == nil {
			continue
		}
		if t, ok := sub.Value.Properties["type"]; ok && t.Value != nil {
			for _, e := range t.Value.Enum {
				out = append(out, fmt.Sprint(e))
			}
		}
	}
	if !hasProblem {
		return nil
	}
	return out
}
