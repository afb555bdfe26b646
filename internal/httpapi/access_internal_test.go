package httpapi

import (
	"net/http"
	"reflect"
	"slices"
	"testing"

	"github.com/getkin/kin-openapi/openapi3"
	"github.com/stretchr/testify/require"

	"github.com/pbudget/pbudget/api"
)

// TestEveryReadIsClassified: a GET operation added to the contract must say whether its answers
// carry records about people (personalReads, which keeps their access records) or not; and the
// names the generated server gives operations must map back to the contract's operationIds.
func TestEveryReadIsClassified(t *testing.T) {
	t.Parallel()
	spec, err := openapi3.NewLoader().LoadFromFile("../../openapi.yaml")
	require.NoError(t, err)
	methods := reflect.TypeFor[api.StrictServerInterface]()
	seen := map[string]bool{}
	for path, item := range spec.Paths.Map() {
		op := item.GetOperation(http.MethodGet)
		if op == nil {
			continue
		}
		id := op.OperationID
		seen[id] = true
		_, personal := personalReads[id]
		impersonal := slices.Contains(impersonalReads, id)
		require.True(t, personal != impersonal, "GET %s (%s) must be in exactly one of personalReads and impersonalReads", path, id)
		found := false
		for i := range methods.NumMethod() {
			if contractOperationID(methods.Method(i).Name) == id {
				found = true
			}
		}
		require.True(t, found, "no generated operation maps back to %s", id)
	}
	for id := range personalReads {
		require.True(t, seen[id], "personalReads names %s, which is no GET operation of the contract", id)
	}
	for _, id := range impersonalReads {
		require.True(t, seen[id], "impersonalReads names %s, which is no GET operation of the contract", id)
	}
}
