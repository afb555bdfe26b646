package main

import (
	"bufio"
	"context"
	"io"
	"log/slog"
	"sync"
	"time"
)

// logWriter batches log lines. slog's JSON handler writes each record with its own write(2);
// under load that cost ~10% of the throughput of an authenticated read (make bench, 2026-11).
// Lines wait at most flushInterval, are written at once from Warn up, and when 64 KiB are waiting,
// and are flushed when the process stops.
type logWriter struct {
	mu  sync.Mutex
	buf *bufio.Writer
}

const flushInterval = 100 * time.Millisecond

func newLogWriter(w io.Writer) *logWriter {
	return &logWriter{buf: bufio.NewWriterSize(w, 64<<10)}
}

// Write implements io.Writer.
func (l *logWriter) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.buf.Write(p)
}

// Flush writes out the waiting lines.
func (l *logWriter) Flush() error {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.buf.Flush()
}

// flushEvery flushes every interval until ctx ends, then once more.
func (l *logWriter) flushEvery(ctx context.Context, interval time.Duration) {
	t := time.NewTicker(interval)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			_ = l.Flush()
			return
		case <-t.C:
			_ = l.Flush()
		}
	}
}

// flushingHandler writes warnings and errors out at once.
type flushingHandler struct {
	slog.Handler
	w *logWriter
}

// Handle implements slog.Handler.
func (h flushingHandler) Handle(ctx context.Context, r slog.Record) error {
	err := h.Handler.Handle(ctx, r)
	if r.Level >= slog.LevelWarn {
		_ = h.w.Flush()
	}
	return err
}

// WithAttrs implements slog.Handler.
func (h flushingHandler) WithAttrs(attrs []slog.Attr) slog.Handler {
	return flushingHandler{Handler: h.Handler.WithAttrs(attrs), w: h.w}
}

// WithGroup implements slog.Handler.
func (h flushingHandler) WithGroup(name string) slog.Handler {
	return flushingHandler{Handler: h.Handler.WithGroup(name), w: h.w}
}
