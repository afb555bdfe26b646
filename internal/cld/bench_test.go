package cld

import (
	"fmt"
	"io"
	"runtime"
	"testing"
	"time"

	"github.com/google/uuid"

	"github.com/pbudget/pbudget/internal/assessment"
	"github.com/pbudget/pbudget/internal/date"
	"github.com/pbudget/pbudget/internal/plan"
	"github.com/pbudget/pbudget/internal/review"
)

// BenchmarkExport writes a quarter's return for a council of N people with three plan lines each
// (20,000 people: 60,000 lines), an assessment and a review each, into io.Discard. The events are
// made as they are written, as a database cursor would hand them over, so the heap the writer
// needs is what the peak-heap metric shows: it should not grow with N.
//
//	go test -run '^$' -bench Export -benchmem ./internal/cld/
func BenchmarkExport(b *testing.B) {
	for _, people := range []int{2_000, 20_000} {
		b.Run(fmt.Sprintf("people=%d/lines=%d", people, 3*people), func(b *testing.B) {
			cats := catalogue()
			var peak uint64
			for b.Loop() {
				w, err := NewWriter(io.Discard, io.Discard, Config{LACode: "999", Quarter: Quarter{2025, 2}, Categories: cats, Components: DefaultComponents()})
				if err != nil {
					b.Fatal(err)
				}
				for n := range people {
					if err := writePerson(w, n); err != nil {
						b.Fatal(err)
					}
					if n%2_000 == 0 {
						var m runtime.MemStats
						runtime.ReadMemStats(&m)
						peak = max(peak, m.HeapInuse)
					}
				}
				if _, err := w.Close(); err != nil {
					b.Fatal(err)
				}
			}
			b.ReportMetric(float64(peak)/(1<<20), "peak-heap-MB")
			b.ReportMetric(float64(5*people), "rows/op")
		})
	}
}

var benchCategories = []string{"home_care", "personal_assistant", "day_service", "care_home_respite", "carer_break", "transport"}

// writePerson writes person n's events: one in ten has no NHS number, so the report has work too.
func writePerson(w *Writer, n int) error {
	start, end := date.Of(2025, 4, 1), date.Of(2026, 4, 1)
	dob := date.Of(1940+n%60, time.Month(1+n%12), 1+n%28)
	p := Person{ID: uuid.New(), NHSNumber: "9434765919", DateOfBirth: &dob, Postcode: "LU1 2AB"}
	if n%10 == 0 {
		p.NHSNumber = ""
	}
	options := []plan.Option{plan.CouncilManaged, plan.DirectPayment, plan.ISF}
	units := []plan.Unit{"hour", "session", "night"}
	for k := range 3 {
		l := plan.Line{ID: uuid.New(), Category: benchCategories[(n+k)%len(benchCategories)], Option: options[(n+k)%3],
			Unit: units[k], UnitCost: int64(1500 + n%3000), Quantity: plan.Quantity(100 * (1 + k)), Frequency: plan.PerWeek, Start: start, End: end}
		if err := w.Service(p, Service{Line: l}); err != nil {
			return err
		}
	}
	if err := w.Assessment(p, Assessment{ID: uuid.New(), Type: assessment.NeedsType, Started: date.Of(2025, 6, 20), Completed: date.Of(2025, 7, 3), Eligible: true}); err != nil {
		return err
	}
	return w.Review(p, Review{ID: uuid.New(), Record: review.Record{Date: date.Of(2025, 8, 20), Reason: review.ReasonPlanned,
		Decision: review.DecisionNoChange, Outcomes: []review.OutcomeResult{{Outcome: 0, Rating: review.Achieved}}}})
}
