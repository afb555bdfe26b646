package httpapi_test

import (
	"net/http"
	"net/http/httptest"
	"testing"
)

// BenchmarkPersonViewBudget measures what the person role's reach costs on a budget read: the
// staff read (no reach check), the person's own read (the reach predicate, then the read, the
// financial assessment's steps) and an authorised person's read whose holder has 50 other
// relationships (the predicate's index lookups). The README's Benchmark section has the figures.
func BenchmarkPersonViewBudget(b *testing.B) {
	bd := setup(b)
	bd.activeRAS("needs", 72_800)
	bd.rateTable("2025-04-06", 11_250)
	p, pb := bd.pricedBudget()
	holder := bd.newPerson(map[string]any{"given_name": "Carol"})
	bd.relate(holder.Id, p.Id, "authorised_person_for", "", "2020-01-01")
	for range 50 {
		other := bd.newPerson(nil)
		bd.relate(holder.Id, other.Id, "carer_of", "other_relative", "2020-01-01")
	}
	for _, c := range []struct{ name, path, tok string }{
		{"staff", "/v1/personal-budgets/" + pb.Id.String(), bd.token("practitioner")},
		{"person", "/v1/me/personal-budgets/" + pb.Id.String(), bd.personToken(p.Id)},
		{"authorised_person_of_51", "/v1/me/personal-budgets/" + pb.Id.String(), bd.personToken(holder.Id)},
	} {
		b.Run(c.name, func(b *testing.B) {
			b.ReportAllocs()
			start := processCPU()
			defer reportCPU(b, start)
			for b.Loop() {
				req := httptest.NewRequest(http.MethodGet, c.path, nil)
				req.Header.Set("Authorization", "Bearer "+c.tok)
				rec := httptest.NewRecorder()
				bd.e.ServeHTTP(rec, req)
				if rec.Code != http.StatusOK {
					b.Fatal(rec.Code, rec.Body.String())
				}
			}
		})
	}
}
