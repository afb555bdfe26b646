// Package apperr is the one error type of the service: a kind that decides the HTTP status, a
// stable code that names the problem, and for invalid input the fields at fault.
package apperr

import (
	"errors"
	"fmt"
)

// Kind classifies an error; internal/httpapi maps each kind to one HTTP status.
type Kind int

// The kinds of error.
const (
	Internal             Kind = iota // 500: a bug or an outage; details only in the logs
	Invalid                          // 400: malformed or invalid input
	Unauthenticated                  // 401
	Forbidden                        // 403
	NotFound                         // 404: absent, or another tenant's
	MethodNotAllowed                 // 405
	Conflict                         // 409: the resource's state does not allow it
	PreconditionFailed               // 412: stale If-Match
	TooLarge                         // 413
	UnsupportedMediaType             // 415
	RuleViolation                    // 422: a business rule, named by Code
	PreconditionRequired             // 428: If-Match missing
	Unavailable                      // 503
)

// FieldError points at one bad input.
type FieldError struct {
	Field   string // JSON Pointer into the body, or a parameter name
	In      string // body, query, path or header
	Code    string // stable, snake_case
	Message string
}

// Error is the service's error value. Two errors match with errors.Is when kind and code match,
// so a sentinel declared with New works with wrapped and annotated copies.
type Error struct {
	Kind    Kind
	Code    string // stable slug, kebab-case; becomes urn:pbudget:problem:<code>
	Message string // safe to show to the caller
	Fields  []FieldError
	Err     error // the cause, for logs only
}

// New returns an error of kind with a stable code and a message for the caller.
func New(kind Kind, code, message string) *Error {
	return &Error{Kind: kind, Code: code, Message: message}
}

// Error implements error.
func (e *Error) Error() string {
	if e.Err != nil {
		return fmt.Sprintf("%s: %s: %v", e.Code, e.Message, e.Err)
	}
	return e.Code + ": " + e.Message
}

// Unwrap returns the cause.
func (e *Error) Unwrap() error { return e.Err }

// Is matches on kind and code.
func (e *Error) Is(target error) bool {
	t, ok := target.(*Error)
	return ok && t.Kind == e.Kind && t.Code == e.Code
}

// WithMessage returns a copy with another caller-facing message.
func (e *Error) WithMessage(format string, args ...any) *Error {
	c := *e
	c.Message = fmt.Sprintf(format, args...)
	return &c
}

// Wrap returns a copy that carries cause for the logs.
func (e *Error) Wrap(cause error) *Error {
	c := *e
	c.Err = cause
	return &c
}

// Validation returns an Invalid error listing the fields at fault.
func Validation(fields ...FieldError) *Error {
	return &Error{Kind: Invalid, Code: "validation", Message: "the request has invalid fields", Fields: fields}
}

// Fields collects body field errors so that a validator can report all of them at once.
type Fields []FieldError

// Add records a problem with the body field at pointer.
func (f *Fields) Add(pointer, code, message string) {
	*f = append(*f, FieldError{Field: pointer, In: "body", Code: code, Message: message})
}

// Err returns a validation error when any field was added, else nil.
func (f Fields) Err() error {
	if len(f) == 0 {
		return nil
	}
	return Validation(f...)
}

// KindOf returns the kind of err, Internal when it is not an *Error.
func KindOf(err error) Kind {
	var e *Error
	if errors.As(err, &e) {
		return e.Kind
	}
	return Internal
}

// Common errors shared by every domain.
var (
	ErrNotFound        = New(NotFound, "not-found", "no such resource")
	ErrVersionMismatch = New(PreconditionFailed, "version-mismatch", "the resource has changed since the version in If-Match")
	ErrIfMatchRequired = New(PreconditionRequired, "if-match-required", "send If-Match with the resource's ETag")
	ErrForbidden       = New(Forbidden, "forbidden", "your roles do not allow this operation")
	ErrUnavailable     = New(Unavailable, "unavailable", "the service is not ready")
	ErrInternal        = New(Internal, "internal", "an unexpected error occurred")
)
