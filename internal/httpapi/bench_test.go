package httpapi_test

import (
	"bytes"
	"net/http"
	"net/http/httptest"
	"testing"
)

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
