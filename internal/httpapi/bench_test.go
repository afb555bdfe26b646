package httpapi_test

import (
	"bytes"
	"net/http"
	"net/http/httptest"
	"syscall"
	"testing"
	"time"
)

// processCPU is the CPU time the test process has used, its background goroutines (the access
// writer, the collector) included.
func processCPU() time.Duration {
	var ru syscall.Rusage
	_ = syscall.Getrusage(syscall.RUSAGE_SELF, &ru)
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}

// reportCPU reports the process's CPU time per operation since start: unlike ns/op, it counts the
// work done beside the loop (writing access records), not the time spent waiting for PostgreSQL.
func reportCPU(b *testing.B, start time.Duration) {
	b.ReportMetric(float64((processCPU()-start).Microseconds())/float64(b.N), "cpu-µs/op")
}

// BenchmarkGetPerson measures one authenticated read through the whole in-process stack (auth,
// validation, store, JSON) on the test database. The load benchmark of the README measures the
// same over HTTP.
func BenchmarkGetPerson(b *testing.B) {
	bd := setup(b)
	p := bd.newPerson(nil)
	tok := bd.token("practitioner")
	path := "/v1/people/" + p.Id.String()
	b.ReportAllocs()
	b.ResetTimer()
	start := processCPU()
	defer reportCPU(b, start)
	for b.Loop() {
		req := httptest.NewRequest(http.MethodGet, path, nil)
		req.Header.Set("Authorization", "Bearer "+tok)
		rec := httptest.NewRecorder()
		bd.e.ServeHTTP(rec, req)
		if rec.Code != http.StatusOK {
			b.Fatal(rec.Code, rec.Body.String())
		}
	}
}

// BenchmarkCreatePerson measures one audited create (two inserts in one transaction).
func BenchmarkCreatePerson(b *testing.B) {
	bd := setup(b)
	tok := bd.token("practitioner")
	body := []byte(`{"given_name":"Bench","family_name":"Mark","date_of_birth":"1970-01-01","person_type":"adult"}`)
	b.ReportAllocs()
	b.ResetTimer()
	for b.Loop() {
		req := httptest.NewRequest(http.MethodPost, "/v1/people", bytes.NewReader(body))
		req.Header.Set("Authorization", "Bearer "+tok)
		req.Header.Set("Content-Type", "application/json")
		rec := httptest.NewRecorder()
		bd.e.ServeHTTP(rec, req)
		if rec.Code != http.StatusCreated {
			b.Fatal(rec.Code, rec.Body.String())
		}
	}
}
