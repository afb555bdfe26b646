package pbudget

import (
	"encoding/json"
	"fmt"
	"net/http"
	"strings"
	"sync"

	"github.com/pbudget/pbudget/pkg/client"
)

// operationIndex knows, from the spec embedded in the generated client, which operations declare
// the Idempotency-Key header: those are the POSTs that the client keys and may retry.
type operationIndex struct {
	ops []pathTemplate
}

type pathTemplate struct {
	keyed    bool
	method   string
	segments []string // "{...}" matches any one segment
	literals int
}

// specOperations reads the embedded spec once.
var specOperations = sync.OnceValues(func() (*operationIndex, error) {
	raw, err := client.GetSpecJSON()
	if err != nil || len(raw) == 0 {
		return nil, fmt.Errorf("%w: %v", errNoOperations, err)
	}
	return indexSpec(raw)
})

type specParameter struct {
	Ref  string `json:"$ref"`
	Name string `json:"name"`
	In   string `json:"in"`
}

func indexSpec(raw []byte) (*operationIndex, error) {
	var doc struct {
		Paths      map[string]map[string]json.RawMessage `json:"paths"`
		Components struct {
			Parameters map[string]specParameter `json:"parameters"`
		} `json:"components"`
	}
	if err := json.Unmarshal(raw, &doc); err != nil {
		return nil, fmt.Errorf("%w: %v", errNoOperations, err)
	}
	resolve := func(p specParameter) specParameter {
		if name, ok := strings.CutPrefix(p.Ref, "#/components/parameters/"); ok {
			return doc.Components.Parameters[name]
		}
		return p
	}
	declares := func(params []specParameter) bool {
		for _, p := range params {
			p = resolve(p)
			if p.In == "header" && http.CanonicalHeaderKey(p.Name) == IdempotencyKeyHeader {
				return true
			}
		}
		return false
	}
	idx := &operationIndex{}
	for path, item := range doc.Paths {
		var shared []specParameter
		if raw, ok := item["parameters"]; ok {
			if err := json.Unmarshal(raw, &shared); err != nil {
				return nil, fmt.Errorf("%w: %s parameters: %v", errNoOperations, path, err)
			}
		}
		for method, raw := range item {
			if method == "parameters" || strings.HasPrefix(method, "x-") || method == "summary" || method == "description" || method == "servers" {
				continue
			}
			var op struct {
				Parameters []specParameter `json:"parameters"`
			}
			if err := json.Unmarshal(raw, &op); err != nil {
				return nil, fmt.Errorf("%w: %s %s: %v", errNoOperations, method, path, err)
			}
			t := newTemplate(strings.ToUpper(method), path)
			t.keyed = declares(shared) || declares(op.Parameters)
			idx.ops = append(idx.ops, t)
		}
	}
	return idx, nil
}

func newTemplate(method, path string) pathTemplate {
	t := pathTemplate{method: method, segments: strings.Split(strings.Trim(path, "/"), "/")}
	for _, s := range t.segments {
		if !strings.HasPrefix(s, "{") {
			t.literals++
		}
	}
	return t
}

func (t pathTemplate) match(segments []string) bool {
	if len(segments) != len(t.segments) {
		return false
	}
	for i, s := range t.segments {
		if !strings.HasPrefix(s, "{") && s != segments[i] {
			return false
		}
		if segments[i] == "" {
			return false
		}
	}
	return true
}

// declaresIdempotencyKey reports whether the operation at method and path (the API's own path,
// such as /v1/people) declares Idempotency-Key. Where templates overlap, literal segments win,
// as in the server's router: /v1/x/new is not /v1/x/{id}.
func (idx *operationIndex) declaresIdempotencyKey(method, path string) bool {
	segments := strings.Split(strings.Trim(path, "/"), "/")
	best := -1
	keyed := false
	for _, t := range idx.ops {
		if t.method == method && t.literals > best && t.match(segments) {
			best, keyed = t.literals, t.keyed
		}
	}
	return keyed
}
