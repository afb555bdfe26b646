// Package api holds the code generated from openapi.yaml: the models, the echo strict server
// interface and the embedded specification. Do not edit the generated files; change openapi.yaml
// and run `go generate ./...`.
package api

//go:generate go tool oapi-codegen -config server.cfg.yaml ../openapi.yaml
//go:generate go tool oapi-codegen -config client.cfg.yaml ../openapi.yaml
