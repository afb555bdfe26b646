package httpapi

import (
	"bytes"
	"context"
	_ "embed"

	"github.com/pbudget/pbudget/api"
	"github.com/pbudget/pbudget/internal/apperr"
)

// The /docs page's template (docspage.go renders it).
//
//go:embed docs/index.html
var docsPage []byte

// The Redoc bundle (MIT licence, docs/redoc.LICENSE), served from the binary: no CDN.
//
//go:embed docs/redoc.standalone.js
var docsScript []byte

// GetHealth implements api.StrictServerInterface.
func (s *Server) GetHealth(context.Context, api.GetHealthRequestObject) (api.GetHealthResponseObject, error) {
	return api.GetHealth200JSONResponse{Body: api.Health{Status: "ok"}}, nil
}

// GetReady implements api.StrictServerInterface: ready when the database answers and carries
// every migration this binary knows.
func (s *Server) GetReady(ctx context.Context, _ api.GetReadyRequestObject) (api.GetReadyResponseObject, error) {
	if err := s.ready.Ping(ctx); err != nil {
		return nil, apperr.ErrUnavailable.WithMessage("the database does not answer").Wrap(err)
	}
	v, err := s.ready.SchemaVersion(ctx)
	if err != nil || v < s.targetSchema {
		return nil, apperr.ErrUnavailable.WithMessage("database migrations are pending").Wrap(err)
	}
	return api.GetReady200JSONResponse{Body: api.Ready{Status: "ready", SchemaVersion: v}}, nil
}

// GetOpenAPI implements api.StrictServerInterface.
func (s *Server) GetOpenAPI(context.Context, api.GetOpenAPIRequestObject) (api.GetOpenAPIResponseObject, error) {
	return api.GetOpenAPI200ApplicationyamlResponse{Body: bytes.NewReader(s.specYAML), ContentLength: int64(len(s.specYAML))}, nil
}

// GetDocs implements api.StrictServerInterface.
func (s *Server) GetDocs(context.Context, api.GetDocsRequestObject) (api.GetDocsResponseObject, error) {
	csp := s.docsCSP
	return api.GetDocs200TexthtmlResponse{
		Body: bytes.NewReader(s.docsPage), ContentLength: int64(len(s.docsPage)),
		Headers: api.GetDocs200ResponseHeaders{ContentSecurityPolicy: &csp},
	}, nil
}

// GetDocsScript implements api.StrictServerInterface.
func (s *Server) GetDocsScript(context.Context, api.GetDocsScriptRequestObject) (api.GetDocsScriptResponseObject, error) {
	cache := "public, max-age=86400"
	return api.GetDocsScript200TextjavascriptResponse{
		Body: bytes.NewReader(docsScript), ContentLength: int64(len(docsScript)),
		Headers: api.GetDocsScript200ResponseHeaders{CacheControl: &cache},
	}, nil
}
