package pbudget

import (
	"encoding/json"
	"io"
	"mime"
	"net/http"
	"strconv"
	"strings"

	"github.com/pbudget/pbudget/pkg/client"
)

// ProblemTypePrefix begins the type of every problem the service defines.
const ProblemTypePrefix = "urn:pbudget:problem:"

// Problem is an error response of the API (RFC 9457 application/problem+json). Every 4xx and 5xx
// answer comes back from the client as a *Problem error; one that was not problem+json (a
// proxy's HTML page, say) gets type "about:blank" and the status's text as its title.
type Problem struct {
	Status int
	// Type is a stable URN naming the problem, such as urn:pbudget:problem:validation.
	Type   string
	Title  string
	Detail string
	// Instance is the request's path.
	Instance string
	// RequestID is the X-Request-Id the service logged the request under: quote it to the
	// council when asking what happened.
	RequestID string
	// Errors are the fields at fault, for validation problems.
	Errors []client.FieldError
	// Header holds the response's headers (Allow, Retry-After, ...).
	Header http.Header
}

// Common problems, for errors.Is: a *Problem matches a target whose Status and Type are those
// the target sets (a zero field matches anything).
var (
	ErrUnauthorized         = &Problem{Status: http.StatusUnauthorized}
	ErrForbidden            = &Problem{Status: http.StatusForbidden}
	ErrNotFound             = &Problem{Status: http.StatusNotFound}
	ErrConflict             = &Problem{Status: http.StatusConflict}
	ErrPreconditionFailed   = &Problem{Status: http.StatusPreconditionFailed}
	ErrPreconditionRequired = &Problem{Status: http.StatusPreconditionRequired}
	ErrValidation           = &Problem{Status: http.StatusBadRequest, Type: ProblemTypePrefix + "validation"}
)

// Error reads like "pbudget: 422 plan-over-budget: the plan costs more than the budget
// (/quantity: ...) [request 01J...]".
func (p *Problem) Error() string {
	var b strings.Builder
	b.WriteString("pbudget: ")
	b.WriteString(strconv.Itoa(p.Status))
	b.WriteString(" ")
	if code := p.Code(); code != "" {
		b.WriteString(code)
	} else {
		b.WriteString(p.Type)
	}
	msg := p.Detail
	if msg == "" {
		msg = p.Title
	}
	if msg != "" {
		b.WriteString(": ")
		b.WriteString(msg)
	}
	for i, fe := range p.Errors {
		if i == 0 {
			b.WriteString(" (")
		} else {
			b.WriteString("; ")
		}
		b.WriteString(fe.Field)
		b.WriteString(": ")
		b.WriteString(fe.Message)
		if i == len(p.Errors)-1 {
			b.WriteString(")")
		}
	}
	if p.RequestID != "" {
		b.WriteString(" [request ")
		b.WriteString(p.RequestID)
		b.WriteString("]")
	}
	return b.String()
}

// Code is the problem's type without the urn:pbudget:problem: prefix (plan-over-budget), or ""
// for a problem the service did not name.
func (p *Problem) Code() string {
	if code, ok := strings.CutPrefix(p.Type, ProblemTypePrefix); ok {
		return code
	}
	return ""
}

// Is reports whether p matches target, a *Problem whose non-zero Status and Type must agree.
func (p *Problem) Is(target error) bool {
	t, ok := target.(*Problem)
	if !ok || (t.Status == 0 && t.Type == "") {
		return false
	}
	return (t.Status == 0 || t.Status == p.Status) && (t.Type == "" || t.Type == p.Type)
}

// FieldError returns the error about field (a JSON Pointer such as /date_of_birth, or a
// parameter's name), if there is one.
func (p *Problem) FieldError(field string) (client.FieldError, bool) {
	for _, fe := range p.Errors {
		if fe.Field == field {
			return fe, true
		}
	}
	return client.FieldError{}, false
}

// readProblem reads an error response into a Problem and closes its body.
func readProblem(resp *http.Response) *Problem {
	defer drain(resp)
	p := &Problem{Status: resp.StatusCode, Header: resp.Header, RequestID: resp.Header.Get("X-Request-Id")}
	body, _ := io.ReadAll(io.LimitReader(resp.Body, maxErrorBody))
	var wire client.Problem
	if mt, _, _ := mime.ParseMediaType(resp.Header.Get("Content-Type")); strings.HasSuffix(mt, "json") && json.Unmarshal(body, &wire) == nil && wire.Type != "" {
		p.Type, p.Title = wire.Type, wire.Title
		if wire.Detail != nil {
			p.Detail = *wire.Detail
		}
		if wire.Instance != nil {
			p.Instance = *wire.Instance
		}
		if wire.RequestId != nil && *wire.RequestId != "" {
			p.RequestID = *wire.RequestId
		}
		if wire.Errors != nil {
			p.Errors = *wire.Errors
		}
		return p
	}
	p.Type, p.Title = "about:blank", http.StatusText(resp.StatusCode)
	if len(body) > 0 && strings.HasPrefix(resp.Header.Get("Content-Type"), "text/plain") {
		p.Detail = strings.TrimSpace(string(body[:min(len(body), 200)]))
	}
	return p
}
