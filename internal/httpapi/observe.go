package httpapi

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"fmt"
	"log/slog"
	"net/http"
	"regexp"
	"runtime"
	"strconv"
	"time"

	"github.com/labstack/echo/v4"
	"github.com/prometheus/client_golang/prometheus"

	"github.com/pbudget/pbudget/internal/actor"
	"github.com/pbudget/pbudget/internal/apperr"
)

const headerRequestID = "X-Request-Id"

type requestIDKey struct{}

var validRequestID = regexp.MustCompile(`^[A-Za-z0-9._:-]{1,128}$`)

func requestID(c echo.Context) string {
	id, _ := c.Request().Context().Value(requestIDKey{}).(string)
	return id
}

// RequestIDFrom returns the request id carried by ctx.
func RequestIDFrom(ctx context.Context) string {
	id, _ := ctx.Value(requestIDKey{}).(string)
	return id
}

func newRequestID() string {
	var b [16]byte
	_, _ = rand.Read(b[:])
	return hex.EncodeToString(b[:])
}

type metrics struct {
	requests *prometheus.CounterVec
	latency  *prometheus.HistogramVec
}

func newMetrics(reg prometheus.Registerer) *metrics {
	m := &metrics{
		requests: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "pbudget_http_requests_total", Help: "HTTP requests by route, method and status.",
		}, []string{"route", "method", "status"}),
		latency: prometheus.NewHistogramVec(prometheus.HistogramOpts{
			Name: "pbudget_http_request_duration_seconds", Help: "HTTP request latency by route and method.",
			Buckets: []float64{.0005, .001, .0025, .005, .01, .025, .05, .1, .25, .5, 1, 2.5, 5},
		}, []string{"route", "method"}),
	}
	reg.MustRegister(m.requests, m.latency)
	return m
}

// observe is the outermost middleware: it assigns the request id, renders errors so that the
// final status is known, then logs the request (no personal data: ids, route, status, timing) and
// counts it.
func (s *Server) observe(next echo.HandlerFunc) echo.HandlerFunc {
	return func(c echo.Context) error {
		start := time.Now()
		req := c.Request()
		id := req.Header.Get(headerRequestID)
		if !validRequestID.MatchString(id) {
			id = newRequestID()
		}
		c.SetRequest(req.WithContext(context.WithValue(req.Context(), requestIDKey{}, id)))
		c.Response().Header().Set(headerRequestID, id)

		if err := next(c); err != nil {
			c.Error(err)
		}

		route := c.Path()
		if s.ops.of(c) == nil {
			route = "unmatched" // keeps the label set bounded
		}
		status := c.Response().Status
		elapsed := time.Since(start)
		s.metrics.requests.WithLabelValues(route, req.Method, strconv.Itoa(status)).Inc()
		s.metrics.latency.WithLabelValues(route, req.Method).Observe(elapsed.Seconds())

		attrs := []slog.Attr{
			slog.String("request_id", id), slog.String("method", req.Method), slog.String("route", route),
			slog.Int("status", status), slog.Float64("latency_ms", float64(elapsed.Microseconds())/1000),
			slog.Int64("bytes_out", c.Response().Size),
		}
		if a, ok := actor.From(c.Request().Context()); ok {
			attrs = append(attrs, slog.String("council", a.CouncilCode), slog.String("actor", a.Subject))
		}
		level := slog.LevelInfo
		switch {
		case status == statusClientClosedRequest:
			// Not a failure of the server's: the caller went away before the answer.
			attrs = append(attrs, slog.Bool("client_closed", true))
		case status >= 500:
			level = slog.LevelError
		}
		s.log.LogAttrs(c.Request().Context(), level, "request", attrs...)
		return nil
	}
}

// recoverPanics turns a panic into a 500 problem and logs where it happened (not its value,
// which might hold personal data).
func (s *Server) recoverPanics(next echo.HandlerFunc) echo.HandlerFunc {
	return func(c echo.Context) (err error) {
		defer func() {
			if r := recover(); r != nil {
				if r == http.ErrAbortHandler {
					panic(r)
				}
				stack := make([]byte, 8<<10)
				stack = stack[:runtime.Stack(stack, false)]
				s.log.Error("panic", slog.String("request_id", requestID(c)), slog.String("type", fmt.Sprintf("%T", r)), slog.String("stack", string(stack)))
				err = apperr.ErrInternal.WithMessage("panic")
			}
		}()
		return next(c)
	}
}
