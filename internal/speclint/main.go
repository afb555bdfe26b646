// Command speclint checks openapi.yaml: first that it is a valid OpenAPI 3.0 document, then the
// house rules of API.md that a generic linter does not know (problem+json errors, X-Request-Id on
// every response, the statuses each kind of operation can answer, roles, snake_case, pence).
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
	paths := doc.Paths.InMatchingOrder()
	sort.Strings(paths)
	for _, path := range paths {
		item := doc.Paths.Value(path)
		for method, op := range item.Operations() {
			where := method + " " + path
			if op.OperationID == "" || op.Summary == "" || len(op.Tags) == 0 {
				add("%s: needs operationId, summary and tags", where)
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
			want := []string{"500"}
			if secured {
				want = append(want, "400", "401", "403")
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
		} else if mt.Schema == nil || !strings.HasSuffix(mt.Schema.Ref, "/Problem") {
			add("%s: an error body is the Problem schema", where)
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
