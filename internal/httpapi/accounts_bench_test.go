package httpapi_test

import (
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"runtime"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/google/uuid"
	"github.com/stretchr/testify/require"

	"github.com/pbudget/pbudget/api"
)

// statementGen writes a bank statement of n lines as it is read (about 100 lines a day, a quarter
// of them identical coffees), so that neither the test nor the server holds the file.
type statementGen struct {
	n, i int
	buf  bytes.Buffer
}

func (g *statementGen) Read(p []byte) (int, error) {
	if g.i == 0 && g.buf.Len() == 0 {
		g.buf.WriteString("date,description,amount,reference\n")
	}
	for g.buf.Len() < len(p) && g.i < g.n {
		day := time.Date(2026, 5, 5, 0, 0, 0, 0, time.UTC).AddDate(0, 0, g.i/100).Format("2006-01-02")
		if g.i%4 == 0 {
			fmt.Fprintf(&g.buf, "%s,CAFE NERO,-4.50,\n", day)
		} else {
			fmt.Fprintf(&g.buf, "%s,PAYEE %d LTD,-%d.%02d,INV-%d\n", day, g.i%37, 1+g.i%300, g.i%100, g.i)
		}
		g.i++
	}
	if g.buf.Len() == 0 {
		return 0, io.EOF
	}
	return g.buf.Read(p)
}

// heapPeak samples the heap in use until stopped and returns its peak.
func heapPeak() (stop func() uint64) {
	var peak atomic.Uint64
	done := make(chan struct{})
	var wg sync.WaitGroup
	wg.Add(1)
	go func() {
		defer wg.Done()
		var m runtime.MemStats
		for {
			runtime.ReadMemStats(&m)
			if m.HeapInuse > peak.Load() {
				peak.Store(m.HeapInuse)
			}
			select {
			case <-done:
				return
			case <-time.After(5 * time.Millisecond):
			}
		}
	}()
	return func() uint64 { close(done); wg.Wait(); return peak.Load() }
}

// TestStatementImportBenchmark imports a 100,000-line statement end to end (the upload streamed to
// disk, stored in chunks, the background job parsing, matching and writing it, polled until done)
// and then imports it again (0 new lines). Opt-in: PB_BENCH_STATEMENTS=1.
//
//	PB_BENCH_STATEMENTS=1 go test -count=1 -run TestStatementImportBenchmark -v ./internal/httpapi/
func TestStatementImportBenchmark(t *testing.T) {
	if os.Getenv("PB_BENCH_STATEMENTS") == "" {
		t.Skip("set PB_BENCH_STATEMENTS=1 to run the statement import benchmark")
	}
	const lines = 100_000
	b, _ := payBundle(t, "2026-04-20")
	small := b.paidAccount(agreementSpec{})
	p := b.paidAccount(agreementSpec{})
	run := func(label string, p paidAccount, lines int) api.Statement {
		runtime.GC()
		var base runtime.MemStats
		runtime.ReadMemStats(&base)
		stop := heapPeak()
		start := time.Now()
		req := httptest.NewRequest(http.MethodPost, p.path+"/statements?format=bank", &statementGen{n: lines})
		req.ContentLength = -1
		req.Header.Set("Authorization", "Bearer "+b.token("finance"))
		req.Header.Set("Content-Type", "text/csv")
		req.Header.Set("Idempotency-Key", uuid.NewString())
		rec := httptest.NewRecorder()
		b.e.ServeHTTP(rec, req)
		var st api.Statement
		var size int64
		accepted := time.Since(start)
		if rec.Code == http.StatusCreated { // at most 1 MiB: imported during the request
			require.NoError(t, json.Unmarshal(rec.Body.Bytes(), &st))
		} else {
			require.Equal(t, http.StatusAccepted, rec.Code, rec.Body.String())
			loc := rec.Header().Get("Location")
			var up api.StatementUpload
			for {
				r := b.do(http.MethodGet, loc, b.token("finance"), nil)
				r.decode(t, &up)
				if up.Status == "imported" || up.Status == "failed" {
					break
				}
				time.Sleep(100 * time.Millisecond) // a client polls; every poll is a validated request
			}
			require.Equal(t, api.StatementUploadStatus("imported"), up.Status)
			size = up.SizeBytes
			r := b.do(http.MethodGet, p.path+"/statements/"+up.StatementId.MustGet().String(), b.token("finance"), nil)
			r.decode(t, &st)
		}
		total := time.Since(start)
		peak := stop()
		t.Logf("%s: %d lines (%d new, %d already held), %.1f MB: answered in %v, imported in %v end to end; heap in use %.1f MB before, peak %.1f MB",
			label, st.Lines, st.NewLines, st.ExistingLines, float64(size)/1e6, accepted.Round(time.Millisecond), total.Round(time.Millisecond),
			float64(base.HeapInuse)/1e6, float64(peak)/1e6)
		return st
	}
	// A third of the lines first (in the background too): the same peak heap shows that memory
	// does not grow with the file.
	run("import of a third", small, lines/3)
	first := run("import", p, lines)
	require.Equal(t, lines, first.NewLines)
	again := run("re-import", p, lines)
	require.Equal(t, 0, again.NewLines)
	require.Equal(t, lines, again.ExistingLines)
}
