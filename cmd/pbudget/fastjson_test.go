package main

import (
	"bytes"
	"context"
	"log/slog"
	"math"
	"testing"
	"time"

	"pgregory.net/rapid"
)

func anyLogText(t *rapid.T, label string) string {
	return rapid.OneOf(
		rapid.String(),
		rapid.StringOf(rapid.SampledFrom([]rune{'"', '\\', '<', '>', '&', '\b', '\f', '\n', '\r', '\t', 0, 0x1f, 0x7f, '\u2028', '\u2029', 'é', '😀', 'a'})),
		rapid.Custom(func(t *rapid.T) string { return string(rapid.SliceOf(rapid.Byte()).Draw(t, "bytes")) }),
	).Draw(t, label)
}

func anyAttr(t *rapid.T) slog.Attr {
	key := rapid.OneOf(rapid.Just("latency_ms"), rapid.Just(""), rapid.Custom(func(t *rapid.T) string { return anyLogText(t, "key") })).Draw(t, "key")
	var v slog.Value
	switch rapid.IntRange(0, 9).Draw(t, "kind") {
	case 0:
		v = slog.StringValue(anyLogText(t, "string"))
	case 1:
		v = slog.Int64Value(rapid.Int64().Draw(t, "int"))
	case 2:
		v = slog.Uint64Value(rapid.Uint64().Draw(t, "uint"))
	case 3:
		v = slog.Float64Value(rapid.Float64().Draw(t, "float"))
	case 4:
		v = slog.Float64Value(rapid.SampledFrom([]float64{0, math.Copysign(0, -1), 1e-7, 1e21, 123.456, 0.001, math.Inf(1), math.NaN(), 1e-300, 5e-324}).Draw(t, "edge"))
	case 5:
		v = slog.BoolValue(rapid.Bool().Draw(t, "bool"))
	case 6:
		v = slog.DurationValue(time.Duration(rapid.Int64().Draw(t, "duration")))
	case 7:
		v = slog.TimeValue(time.Unix(rapid.Int64Range(-70_000_000_000, 300_000_000_000).Draw(t, "unix"), rapid.Int64Range(0, 999_999_999).Draw(t, "ns")).
			In(time.FixedZone("z", rapid.IntRange(-50_000, 50_000).Draw(t, "offset"))))
	case 8:
		v = slog.AnyValue(map[string]int{"a": 1})
	default:
		v = slog.GroupValue(slog.String("inner", "x"))
	}
	return slog.Attr{Key: key, Value: v}
}

// TestTheFastJSONHandlerWritesWhatSlogsDoes: for any record, the fast handler writes byte for
// byte the line slog.JSONHandler writes (itself, or by handing the record to it).
func TestTheFastJSONHandlerWritesWhatSlogsDoes(t *testing.T) {
	rapid.Check(t, func(t *rapid.T) {
		var when time.Time
		if rapid.IntRange(0, 9).Draw(t, "zero time") > 0 {
			when = time.Unix(rapid.Int64Range(0, 4_000_000_000).Draw(t, "at"), rapid.Int64Range(0, 999_999_999).Draw(t, "at ns")).UTC()
		}
		r := slog.NewRecord(when, slog.Level(rapid.IntRange(-8, 12).Draw(t, "level")), anyLogText(t, "msg"), 0)
		for range rapid.IntRange(0, 8).Draw(t, "attrs") {
			r.AddAttrs(anyAttr(t))
		}
		var want, got bytes.Buffer
		if err := slog.NewJSONHandler(&want, &slog.HandlerOptions{Level: slog.LevelDebug - 10}).Handle(context.Background(), r.Clone()); err != nil {
			t.Fatal(err)
		}
		if err := newFastJSONHandler(&got, slog.LevelDebug-10).Handle(context.Background(), r.Clone()); err != nil {
			t.Fatal(err)
		}
		if !bytes.Equal(got.Bytes(), want.Bytes()) {
			t.Fatalf("fast:\n%s\nslog:\n%s", got.Bytes(), want.Bytes())
		}
	})
}

// The request line itself takes the fast path.
func TestTheRequestLineIsWrittenWithoutSlogsHandler(t *testing.T) {
	r := slog.NewRecord(time.Now(), slog.LevelInfo, "request", 0)
	r.AddAttrs(slog.String("request_id", "abc"), slog.String("method", "GET"), slog.String("route", "/v1/people/:person_id"),
		slog.Int("status", 200), slog.Float64("latency_ms", 1.234), slog.Int64("bytes_out", 321),
		slog.String("council", "demo"), slog.String("actor", "bench"))
	_, ok := appendRecord(nil, r)
	if !ok {
		t.Fatal("the request line went to slog's handler")
	}
}
