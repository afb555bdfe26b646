package main

import (
	"bytes"
	"context"
	"log/slog"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
)

type lockedBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (l *lockedBuffer) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.Write(p)
}

func (l *lockedBuffer) String() string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.String()
}

func TestLogLinesAreBatchedButWarningsGoOutAtOnce(t *testing.T) {
	t.Parallel()
	var out lockedBuffer
	w := newLogWriter(&out)
	log := slog.New(flushingHandler{Handler: slog.NewJSONHandler(w, nil), w: w}).With("app", "pbudget")

	log.Info("routine")
	require.Empty(t, out.String(), "info waits for the next flush")
	log.Warn("attention")
	require.Contains(t, out.String(), "routine")
	require.Contains(t, out.String(), "attention")

	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() { w.flushEvery(ctx, 10*time.Millisecond); close(done) }()
	log.Info("later")
	require.Eventually(t, func() bool { return bytes.Contains([]byte(out.String()), []byte("later")) }, time.Second, 5*time.Millisecond)
	log.Info("at exit")
	cancel()
	<-done
	require.Contains(t, out.String(), "at exit", "stopping flushes what waits")
}
