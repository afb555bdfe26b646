package main

import (
	"context"
	"strings"
	"testing"

	"github.com/getkin/kin-openapi/openapi3"
	"github.com/stretchr/testify/require"
)

func TestTheContractFollowsTheHouseRules(t *testing.T) {
	t.Parallel()
	findings, err := lint("../../openapi.yaml")
	require.NoError(t, err)
	require.Empty(t, findings)
}

func TestCheckFindsBrokenRules(t *testing.T) {
	t.Parallel()
	const bad = `
openapi: 3.0.3
info: {title: t, version: "1"}
security: [{bearerAuth: []}]
paths:
  /v1/things/{id}:
    parameters: [{name: id, in: path, required: true, schema: {type: string}}]
    post:
      operationId: makeThing
      summary: s
      tags: [x]
      requestBody:
        content:
          application/json:
            schema: {$ref: "#/components/schemas/Thing"}
      responses:
        "200":
          description: ok
          content:
            application/json:
              schema: {$ref: "#/components/schemas/Thing"}
        "400":
          description: bad
          content:
            application/json:
              schema: {type: object}
components:
  securitySchemes:
    bearerAuth: {type: http, scheme: bearer}
  schemas:
    Thing:
      type: object
      properties:
        camelCase: {type: string}
        cost_pence: {type: number}
        count: {type: integer, minimum: 0}
        address: {nullable: true, allOf: [{$ref: "#/components/schemas/Thing"}]}
        decision: {type: string, nullable: true, enum: [yes, no]}
`
	doc, err := openapi3.NewLoader().LoadFromData([]byte(bad))
	require.NoError(t, err)
	require.NoError(t, doc.Validate(context.Background()))
	all := strings.Join(check(doc), "\n")
	for _, want := range []string{
		"x-pbudget-roles", "must declare a 401", "must declare a 404", "must declare a 413",
		"X-Request-Id", "application/problem+json only", "unknown fields", "snake_case",
		"integer with format int64", "no floating point", "info.contact", "needs a description",
		"request body has an example", "must declare a 405", "a string has a maxLength", "a minimum and a maximum",
		"nullable beside allOf needs a type", "nullable enum lists null",
	} {
		require.Contains(t, all, want)
	}
}
