package main

import (
	"context"
	"io"
	"log/slog"
	"math"
	"strconv"
	"sync"
	"time"

	"github.com/pbudget/pbudget/internal/jsonstr"
)

// fastJSONHandler is slog's JSON handler with a reflection-free path for the records the service
// writes most, one a request: a message with flat attributes of the scalar kinds (string, ints,
// float, bool, duration, time). Those it writes itself, byte for byte as slog.JSONHandler does
// (TestTheFastJSONHandlerWritesWhatSlogsDoes); slog's own would have called json.Marshal for the
// float of each request's latency. Anything else (groups, values of any type, loggers made
// With attributes) goes to the JSON handler it wraps.
type fastJSONHandler struct {
	*slog.JSONHandler
	w     io.Writer
	level slog.Leveler
}

func newFastJSONHandler(w io.Writer, level slog.Leveler) fastJSONHandler {
	if level == nil {
		level = slog.LevelInfo
	}
	return fastJSONHandler{JSONHandler: slog.NewJSONHandler(w, &slog.HandlerOptions{Level: level}), w: w, level: level}
}

var lineBuffers = sync.Pool{New: func() any { b := make([]byte, 0, 512); return &b }}

// Handle implements slog.Handler.
func (h fastJSONHandler) Handle(ctx context.Context, r slog.Record) error {
	bp := lineBuffers.Get().(*[]byte)
	b, ok := appendRecord((*bp)[:0], r)
	var err error
	if ok {
		_, err = h.w.Write(b)
	} else {
		err = h.JSONHandler.Handle(ctx, r)
	}
	if cap(b) <= 16<<10 {
		*bp = b[:0]
		lineBuffers.Put(bp)
	}
	return err
}

// appendRecord appends r as slog.JSONHandler writes it, or reports false when r has what only the
// JSON handler writes (a group, a value of any other kind, an empty key, a time outside years
// 0-9999, a float that is not finite).
func appendRecord(b []byte, r slog.Record) ([]byte, bool) {
	b = append(b, '{')
	if !r.Time.IsZero() {
		b = append(b, `"time":`...)
		var ok bool
		if b, ok = appendTime(b, r.Time.Round(0)); !ok {
			return b, false
		}
		b = append(b, ',')
	}
	b = append(b, `"level":`...)
	b = appendString(b, r.Level.String())
	b = append(b, `,"msg":`...)
	b = appendString(b, r.Message)
	ok := true
	r.Attrs(func(a slog.Attr) bool {
		if a.Key == "" {
			ok = false
			return false
		}
		b = append(b, ',')
		b = appendString(b, a.Key)
		b = append(b, ':')
		switch v := a.Value; v.Kind() {
		case slog.KindString:
			b = appendString(b, v.String())
		case slog.KindInt64:
			b = strconv.AppendInt(b, v.Int64(), 10)
		case slog.KindUint64:
			b = strconv.AppendUint(b, v.Uint64(), 10)
		case slog.KindFloat64:
			b, ok = appendFloat(b, v.Float64())
		case slog.KindBool:
			b = strconv.AppendBool(b, v.Bool())
		case slog.KindDuration:
			b = strconv.AppendInt(b, int64(v.Duration()), 10)
		case slog.KindTime:
			b, ok = appendTime(b, v.Time())
		default:
			ok = false
		}
		return ok
	})
	return append(b, '}', '\n'), ok
}

func appendTime(b []byte, t time.Time) ([]byte, bool) {
	if y := t.Year(); y < 0 || y >= 10000 {
		return b, false
	}
	b = append(b, '"')
	b = t.AppendFormat(b, time.RFC3339Nano)
	return append(b, '"'), true
}

// appendFloat is encoding/json's float64 encoding.
func appendFloat(b []byte, f float64) ([]byte, bool) {
	if math.IsInf(f, 0) || math.IsNaN(f) {
		return b, false
	}
	format := byte('f')
	if abs := math.Abs(f); abs != 0 && (abs < 1e-6 || abs >= 1e21) {
		format = 'e'
	}
	b = strconv.AppendFloat(b, f, format, -1, 64)
	if format == 'e' { // e-09 to e-9
		if n := len(b); n >= 4 && b[n-4] == 'e' && b[n-3] == '-' && b[n-2] == '0' {
			b[n-2] = b[n-1]
			b = b[:n-1]
		}
	}
	return b, true
}

// appendString is slog's JSON string.
func appendString(b []byte, s string) []byte { return jsonstr.Append(b, s, jsonstr.Slog) }
