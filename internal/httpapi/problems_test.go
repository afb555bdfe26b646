package httpapi

import (
	"go/types"
	"sort"
	"strconv"
	"strings"
	"testing"

	"github.com/getkin/kin-openapi/openapi3"

	"github.com/pbudget/pbudget/internal/apperr"
	"github.com/pbudget/pbudget/internal/idempotency"
)

// shapeProblems are the problems the middleware sends, by what an operation declares: they are
// not in its handler, so the scan cannot see them there.
func shapeProblems(op *openapi3.Operation, o *operation) map[string]int {
	// Any operation refuses a body it does not take, or a parameter with a control character.
	out := map[string]int{"internal": 500, "method-not-allowed": 405, "validation": 400}
	if o.secured {
		out["missing-token"], out["invalid-token"], out["forbidden"] = 401, 401, 403
		// Stores answer not-found for any row they miss, and the database's refusals of data.
		out["not-found"], out["data-rejected"] = 404, 400
	}
	if op.RequestBody != nil {
		out["payload-too-large"], out["unsupported-media-type"] = 413, 415
	}
	if o.idempotent {
		out[idempotency.ErrInFlight.Code], out[idempotency.ErrKeyReused.Code] = 409, 422
	}
	return out
}

// TestEveryProblemAnOperationCanSendIsListedInItsResponses reads the source: every problem code
// an operation's handler can reach (through its services and stores), and every one its
// middleware sends for its shape, must be in the enum of `type` of that operation's response for
// the code's status; and an operation's own list (a response that is not a shared component)
// names nothing it cannot send.
func TestEveryProblemAnOperationCanSendIsListedInItsResponses(t *testing.T) {
	t.Parallel()
	sc := newProblemScan(t)
	spec, err := Spec()
	if err != nil {
		t.Fatal(err)
	}
	ops, err := indexOperations(spec)
	if err != nil {
		t.Fatal(err)
	}
	shapes := map[string]bool{}
	covered := 0
	for key, o := range ops {
		op := o.route.Operation
		name := strings.ToUpper(op.OperationID[:1]) + op.OperationID[1:]
		fn := sc.serverMethod(name)
		if fn == nil {
			t.Errorf("%s: no method (*Server).%s", key, name)
			continue
		}
		can := shapeProblems(op, o)
		for code := range can {
			shapes[code] = true
		}
		for code, kind := range sc.codesOf(fn) {
			if kind == apperr.Internal {
				continue // sent as "internal" (handleError), whatever the code
			}
			can[code] = statusOfKind[kind]
		}
		for code, status := range can {
			ref := op.Responses.Status(status)
			if ref == nil {
				t.Errorf("%s (%s): can send %d %s but declares no %d response", key, op.OperationID, status, code, status)
				continue
			}
			if !containsString(problemTypes(ref.Value), problemPrefix+code) {
				t.Errorf("%s (%s): can send %d %s%s, not listed in its %d response", key, op.OperationID, status, problemPrefix, code, status)
			}
			covered++
		}
		for status, ref := range op.Responses.Map() {
			if ref.Ref != "" || !strings.HasPrefix(status, "4") {
				continue
			}
			for _, typ := range problemTypes(ref.Value) {
				code := strings.TrimPrefix(typ, problemPrefix)
				if s, ok := can[code]; !ok || strconv.Itoa(s) != status {
					t.Errorf("%s (%s): lists %s under %s, which it cannot send", key, op.OperationID, typ, status)
				}
			}
		}
	}
	// What the middleware can send must be covered by the shape rules above, but for what it
	// reaches and answers as another problem (the scan cannot see the mapping).
	answeredAs := map[string]string{
		"council-retired": "invalid-token", // authenticate: a retired council's token is a 401
	}
	for _, name := range []string{"contract", "handleError", "recoverPanics", "observe"} {
		for code, kind := range sc.codesOf(sc.serverMethod(name)) {
			if !shapes[code] && !shapes[answeredAs[code]] && kind != apperr.Unavailable {
				t.Errorf("middleware (*Server).%s can send %s, which no shape rule of shapeProblems lists", name, code)
			}
		}
	}
	for code := range sc.codesOf(sc.function("internal/idempotency", "Middleware")) {
		if !shapes[code] {
			t.Errorf("idempotency.Middleware can send %s, which no shape rule lists", code)
		}
	}
	t.Logf("%d operations, %d (operation, problem type) pairs checked", len(ops), covered)
}

// problemTypes lists the enum of the `type` property of a response's problem schema.
func problemTypes(r *openapi3.Response) []string {
	if r == nil {
		return nil
	}
	mt := r.Content.Get("application/problem+json")
	if mt == nil || mt.Schema == nil {
		return nil
	}
	var out []string
	var walk func(s *openapi3.Schema)
	walk = func(s *openapi3.Schema) {
		if s == nil {
			return
		}
		if p, ok := s.Properties["type"]; ok && p.Value != nil {
			for _, e := range p.Value.Enum {
				out = append(out, e.(string))
			}
		}
		for _, sub := range s.AllOf {
			walk(sub.Value)
		}
	}
	walk(mt.Schema.Value)
	sort.Strings(out)
	return out
}

func containsString(list []string, s string) bool {
	for _, x := range list {
		if x == s {
			return true
		}
	}
	return false
}

// function finds the package-level function name of the package whose path ends with pkg.
func (sc *problemScan) function(pkg, name string) *types.Func {
	for fn := range sc.funcs {
		if fn.Name() == name && fn.Type().(*types.Signature).Recv() == nil && strings.HasSuffix(fn.Pkg().Path(), pkg) {
			return fn
		}
	}
	return nil
}
