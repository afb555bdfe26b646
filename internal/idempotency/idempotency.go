// Package idempotency makes POSTs safe to retry (API.md convention 8): the first response to a
// request with an Idempotency-Key is stored in the same transaction as the change it made, and a
// retry with the same key and body gets that response again instead of a second change.
package idempotency

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/json"
	"errors"
	"io"
	"net/http"
	"time"

	"github.com/google/uuid"
	"github.com/labstack/echo/v4"

	"github.com/pbudget/pbudget/internal/actor"
	"github.com/pbudget/pbudget/internal/apperr"
	"github.com/pbudget/pbudget/internal/txn"
)

// Header is the request header that carries the key.
const Header = "Idempotency-Key"

// TTL is how long a stored response is replayed.
const TTL = 24 * time.Hour

// Response is a stored response.
type Response struct {
	RequestHash []byte
	Status      int
	Header      http.Header
	Body        []byte
}

// Key names a stored response: keys are scoped by council and by the caller's subject.
type Key struct {
	CouncilID uuid.UUID
	Subject   string
	Key       string
}

// Store keeps responses. Lock and the writes run in the transaction of ctx.
type Store interface {
	// TryLock takes a transaction-scoped lock on k, false when another transaction holds it.
	TryLock(ctx context.Context, k Key) (bool, error)
	// Get returns the unexpired response stored under k, or nil.
	Get(ctx context.Context, k Key, now time.Time) (*Response, error)
	Put(ctx context.Context, k Key, r Response, now, expires time.Time) error
	DeleteExpired(ctx context.Context, now time.Time) (int64, error)
}

// Errors of this package.
var (
	ErrInFlight = apperr.New(apperr.Conflict, "idempotency-key-in-flight",
		"a request with this Idempotency-Key is still being processed; retry shortly")
	ErrKeyReused = apperr.New(apperr.RuleViolation, "idempotency-key-reused",
		"this Idempotency-Key was used with a different request body")
)

// replayedHeaders are the headers of a stored response that a replay repeats.
var replayedHeaders = []string{echo.HeaderContentType, echo.HeaderLocation, "ETag"}

// errDiscard rolls back a transaction whose response is sent but not stored.
var errDiscard = errors.New("response not stored")

// Middleware applies to the requests for which applies returns true and that carry the header;
// it must run after authentication, with the body already bounded in size.
func Middleware(store Store, tx txn.Transactor, now func() time.Time, applies func(echo.Context) bool) echo.MiddlewareFunc {
	return func(next echo.HandlerFunc) echo.HandlerFunc {
		return func(c echo.Context) error {
			req := c.Request()
			key := req.Header.Get(Header)
			if key == "" || !applies(c) {
				return next(c)
			}
			a, ok := actor.From(req.Context())
			if !ok {
				return next(c)
			}
			body, err := readBody(req)
			if err != nil {
				return err
			}
			hash := requestHash(req.Method, req.URL.Path, body)
			k := Key{CouncilID: a.CouncilID, Subject: a.Subject, Key: key}

			var replay *Response
			rec := &recorder{header: http.Header{}}
			err = tx.WithinTx(req.Context(), func(ctx context.Context) error {
				locked, err := store.TryLock(ctx, k)
				if err != nil {
					return err
				}
				if !locked {
					return ErrInFlight
				}
				stored, err := store.Get(ctx, k, now())
				if err != nil {
					return err
				}
				if stored != nil {
					if !bytes.Equal(stored.RequestHash, hash) {
						return ErrKeyReused
					}
					replay = stored
					return nil
				}
				orig := c.Response().Writer
				c.Response().Writer = rec
				c.SetRequest(req.WithContext(ctx))
				err = next(c)
				c.Response().Writer = orig
				c.SetRequest(req)
				if err != nil {
					return err
				}
				if rec.status < 200 || rec.status > 299 {
					return errDiscard
				}
				t := now()
				return store.Put(ctx, k, Response{RequestHash: hash, Status: rec.status, Header: rec.header, Body: rec.body.Bytes()}, t, t.Add(TTL))
			})
			switch {
			case errors.Is(err, errDiscard):
				return rec.flush(c.Response().Writer)
			case err != nil:
				// Nothing was written to the client yet: the error handler renders the problem.
				c.Response().Committed = false
				return err
			case replay != nil:
				for _, h := range replayedHeaders {
					if v := replay.Header.Get(h); v != "" {
						c.Response().Header().Set(h, v)
					}
				}
				c.Response().Header().Set("Idempotent-Replayed", "true")
				c.Response().WriteHeader(replay.Status)
				_, err := c.Response().Write(replay.Body)
				return err
			}
			return rec.flush(c.Response().Writer)
		}
	}
}

// requestHash identifies a request by method, path and body. A JSON body is hashed in a canonical
// form (keys sorted, no insignificant space), so that a client re-encoding the same request on a
// retry is recognised.
// readBody returns the body without consuming it: the request validator leaves a fresh copy
// through GetBody (and the validated value on Body for the handler).
// Digester is a request body that is a file already hashed (a spooled upload): the request hash
// uses its digest and the query string instead of reading the file into memory.
type Digester interface{ Digest() []byte }

func readBody(req *http.Request) ([]byte, error) {
	if d, ok := req.Body.(Digester); ok {
		return append([]byte("file "+req.URL.RawQuery+"\n"), d.Digest()...), nil
	}
	if req.GetBody != nil {
		rc, err := req.GetBody()
		if err != nil {
			return nil, err
		}
		defer rc.Close()
		return io.ReadAll(rc)
	}
	body, err := io.ReadAll(req.Body)
	if err != nil {
		return nil, err
	}
	req.Body = io.NopCloser(bytes.NewReader(body))
	return body, nil
}

func requestHash(method, path string, body []byte) []byte {
	h := sha256.New()
	h.Write([]byte(method + " " + path + "\n"))
	var v any
	d := json.NewDecoder(bytes.NewReader(body))
	d.UseNumber()
	if err := d.Decode(&v); err == nil {
		if canonical, err := json.Marshal(v); err == nil {
			body = canonical
		}
	}
	h.Write(body)
	return h.Sum(nil)
}

// recorder holds a response until the transaction that produced it has committed.
type recorder struct {
	header http.Header
	status int
	body   bytes.Buffer
}

func (r *recorder) Header() http.Header { return r.header }

func (r *recorder) WriteHeader(status int) {
	if r.status == 0 {
		r.status = status
	}
}

func (r *recorder) Write(b []byte) (int, error) {
	if r.status == 0 {
		r.status = http.StatusOK
	}
	return r.body.Write(b)
}

func (r *recorder) flush(w http.ResponseWriter) error {
	for k, v := range r.header {
		w.Header()[k] = v
	}
	w.WriteHeader(r.status)
	_, err := w.Write(r.body.Bytes())
	return err
}
