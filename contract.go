// Package pbudget holds the contract, openapi.yaml, so that the binary can serve the file exactly
// as it is in the repository and validate requests against the same bytes.
package pbudget

import _ "embed"

// OpenAPI is openapi.yaml, byte for byte.
//
//go:embed openapi.yaml
var OpenAPI []byte
