package httpapi

import (
	"encoding/json"
	"errors"
	"log/slog"
	"net/http"
	"strings"

	"github.com/labstack/echo/v4"

	"github.com/pbudget/pbudget/api"
	"github.com/pbudget/pbudget/internal/apperr"
)

// statusClientClosedRequest is recorded, never sent, when the caller disconnects first.
const statusClientClosedRequest = 499

// problemPrefix starts the type URN of every problem.
const problemPrefix = "urn:pbudget:problem:"

var statusOfKind = map[apperr.Kind]int{
	apperr.Internal:             http.StatusInternalServerError,
	apperr.Invalid:              http.StatusBadRequest,
	apperr.Unauthenticated:      http.StatusUnauthorized,
	apperr.Forbidden:            http.StatusForbidden,
	apperr.NotFound:             http.StatusNotFound,
	apperr.MethodNotAllowed:     http.StatusMethodNotAllowed,
	apperr.Conflict:             http.StatusConflict,
	apperr.PreconditionFailed:   http.StatusPreconditionFailed,
	apperr.TooLarge:             http.StatusRequestEntityTooLarge,
	apperr.UnsupportedMediaType: http.StatusUnsupportedMediaType,
	apperr.RuleViolation:        http.StatusUnprocessableEntity,
	apperr.PreconditionRequired: http.StatusPreconditionRequired,
	apperr.Unavailable:          http.StatusServiceUnavailable,
}

// fromEcho maps the errors echo and the generated wrappers raise to ours.
func fromEcho(he *echo.HTTPError) *apperr.Error {
	msg, _ := he.Message.(string)
	switch he.Code {
	case http.StatusNotFound:
		return apperr.New(apperr.NotFound, "not-found", "no such path")
	case http.StatusMethodNotAllowed:
		return apperr.New(apperr.MethodNotAllowed, "method-not-allowed", "this path does not support this method")
	case http.StatusRequestEntityTooLarge:
		return errTooLarge
	case http.StatusUnsupportedMediaType:
		return errUnsupportedMediaType
	case http.StatusBadRequest:
		// The generated parameter binders; the validator normally answers first.
		return apperr.New(apperr.Invalid, "validation", msg)
	case http.StatusUnauthorized:
		return apperr.New(apperr.Unauthenticated, "invalid-token", "the bearer token is invalid")
	case http.StatusForbidden:
		return apperr.ErrForbidden
	case http.StatusServiceUnavailable:
		return apperr.ErrUnavailable
	}
	return apperr.ErrInternal.Wrap(he)
}

// handleError renders every error as RFC 9457 problem details. It is echo's HTTPErrorHandler,
// the one place errors become responses.
func (s *Server) handleError(err error, c echo.Context) {
	if c.Response().Committed {
		return
	}
	if c.Request().Context().Err() != nil {
		// The client went away: nobody is left to answer, and the error is its consequence
		// (context.Canceled, or the driver's "bad connection" when the context ended between two of
		// its checks); the transaction rolled back. Logged at info and counted as nginx's 499.
		c.Response().Status = statusClientClosedRequest
		return
	}
	var ae *apperr.Error
	var he *echo.HTTPError
	switch {
	case errors.As(err, &ae):
	case errors.As(err, &he):
		ae = fromEcho(he)
	default:
		ae = apperr.ErrInternal.Wrap(err)
	}
	status := statusOfKind[ae.Kind]
	code := ae.Code
	if ae.Kind == apperr.Internal {
		code = apperr.ErrInternal.Code // which internal failure it was is for the log, not the caller
	}
	reqID := requestID(c)
	detail, instance := ae.Message, c.Request().URL.Path
	p := api.Problem{
		Type: problemPrefix + code, Title: http.StatusText(status), Status: status,
		Detail: &detail, Instance: &instance, RequestId: &reqID,
	}
	if status >= 500 {
		// The cause goes to the log, never to the caller.
		s.log.ErrorContext(c.Request().Context(), "request failed", "request_id", reqID, "error", err.Error())
		generic := "an unexpected error occurred; quote the request id when reporting it"
		if status == http.StatusServiceUnavailable {
			generic = ae.Message
		}
		p.Detail = &generic
	}
	if len(ae.Fields) > 0 {
		fields := make([]api.FieldError, len(ae.Fields))
		for i, f := range ae.Fields {
			fields[i] = api.FieldError{Field: f.Field, In: api.FieldErrorIn(f.In), Code: f.Code, Message: f.Message}
		}
		p.Errors = &fields
	}
	if status == http.StatusMethodNotAllowed {
		allow := c.Response().Header().Get(echo.HeaderAllow)
		if a, ok := c.Get(echo.ContextKeyHeaderAllow).(string); ok && allow == "" {
			allow = a
		}
		c.Response().Header().Set(echo.HeaderAllow, answeredMethods(allow))
	}
	if status == http.StatusUnauthorized {
		challenge := `Bearer realm="pbudget"`
		if ae.Code != "missing-token" {
			challenge += `, error="invalid_token"`
		}
		c.Response().Header().Set("WWW-Authenticate", challenge)
	}
	body, mErr := json.Marshal(p)
	if mErr != nil {
		s.log.Error("render problem", slog.String("error", mErr.Error()))
		body = []byte(`{"type":"urn:pbudget:problem:internal","title":"Internal Server Error","status":500}`)
		status = http.StatusInternalServerError
	}
	if c.Request().Method == http.MethodHead {
		c.Response().Header().Set(echo.HeaderContentType, "application/problem+json")
		_ = c.NoContent(status)
		return
	}
	_ = c.Blob(status, "application/problem+json", body)
}

var (
	errTooLarge = apperr.New(apperr.TooLarge, "payload-too-large",
		"the request body is larger than the 1 MiB this service accepts")
	errUnsupportedMediaType = apperr.New(apperr.UnsupportedMediaType, "unsupported-media-type",
		"send the body as application/json")
)

// answeredMethods is echo's Allow list without OPTIONS, which echo lists for every path but this
// service does not answer (see contract).
func answeredMethods(allow string) string {
	var out []string
	for _, m := range strings.Split(allow, ",") {
		if m = strings.TrimSpace(m); m != "" && m != http.MethodOptions {
			out = append(out, m)
		}
	}
	return strings.Join(out, ", ")
}
