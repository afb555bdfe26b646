package cld

import (
	"bytes"
	"fmt"
	"os"
	"testing"

	"github.com/google/uuid"
	"github.com/stretchr/testify/require"

	"github.com/pbudget/pbudget/internal/cld/cldtest"

	"github.com/pbudget/pbudget/internal/assessment"
	"github.com/pbudget/pbudget/internal/date"
	"github.com/pbudget/pbudget/internal/plan"
	"github.com/pbudget/pbudget/internal/review"
)

func id(prefix byte, n int) uuid.UUID {
	return uuid.MustParse(fmt.Sprintf("%c0000000-0000-4000-8000-%012d", prefix, n))
}

func dp(s string) *date.Date { v := d(s); return &v }

func catalogue() map[string]plan.Category {
	out := map[string]plan.Category{}
	for _, c := range plan.DefaultCategories() {
		out[c.Key] = c
	}
	return out
}

func line(n int, category string, o plan.Option, unit plan.Unit, pence int64, qty plan.Quantity, f plan.Frequency, from, to string) plan.Line {
	return plan.Line{ID: id('c', n), Category: category, Option: o, Unit: unit, UnitCost: pence, Quantity: qty, Frequency: f,
		Start: d(from), End: d(to)}
}

// seededQuarter writes the events behind testdata/2025-Q2.expected.
func seededQuarter(t *testing.T, w *Writer) {
	p1 := Person{ID: id('a', 1), NHSNumber: "9434765919", DateOfBirth: dp("1950-03-14"), Postcode: "LU1 2AB"}
	p2 := Person{ID: id('a', 2), DateOfBirth: dp("1988-11-30")}
	p3 := Person{ID: id('a', 3), NHSNumber: "4010232137", DateOfBirth: dp("1960-05-05"), Postcode: "LU2 7GH"}
	p4 := Person{ID: id('a', 4), NHSNumber: "9876543210", DateOfBirth: dp("2012-01-01"), Postcode: "LU3 1AA", Child: true}
	year := func(n int, category string, o plan.Option, unit plan.Unit, pence int64, qty plan.Quantity, f plan.Frequency) Service {
		return Service{Line: line(n, category, o, unit, pence, qty, f, "2025-04-01", "2026-04-01")}
	}
	carers := func(s Service) Service { s.Carer = true; return s }

	must := func(err error) { t.Helper(); require.NoError(t, err) }
	must(w.Assessment(p1, Assessment{ID: id('b', 1), Type: assessment.NeedsType, Started: d("2025-06-20"), Completed: d("2025-07-03"), Eligible: true}))
	must(w.Service(p1, year(1, "home_care", plan.CouncilManaged, "hour", 2100, 1400, plan.PerWeek)))
	must(w.Service(p1, year(2, "personal_assistant", plan.DirectPayment, "hour", 1550, 1050, plan.PerWeek)))
	must(w.Service(p1, year(3, "day_service", plan.ISF, "session", 4500, 200, plan.PerWeek)))
	must(w.Service(p1, Service{Line: line(4, "equipment_minor", plan.CouncilManaged, "one_off", 8000, 100, plan.Once, "2025-04-01", "2025-07-01")}))
	must(w.Review(p1, Review{ID: id('e', 1), Record: review.Record{Date: d("2025-08-20"), Reason: review.ReasonPlanned, Decision: review.DecisionNoChange,
		Outcomes: []review.OutcomeResult{{Outcome: 0, Rating: review.Achieved}, {Outcome: 1, Rating: review.PartlyAchieved}}}}))

	must(w.Service(p2, year(5, "care_home_respite", plan.DirectPayment, "night", 12000, 700, plan.PerYear)))
	must(w.Service(p2, Service{Line: line(6, "transport", plan.CouncilManaged, "one_off", 25000, 100, plan.Once, "2025-09-15", "2025-09-16")}))
	must(w.Service(p2, Service{Line: line(7, "home_care", plan.CouncilManaged, "hour", 2100, 700, plan.PerWeek, "2025-10-01", "2026-04-01")}))
	must(w.Review(p2, Review{ID: id('e', 2), Record: review.Record{Date: d("2025-09-30"), Reason: review.ReasonHospitalAdmission, Decision: review.DecisionReassess}}))
	must(w.Assessment(p2, Assessment{ID: id('b', 2), Type: assessment.NeedsType, Started: d("2025-06-01"), Completed: d("2025-06-30"), Eligible: true}))

	must(w.Assessment(p3, Assessment{ID: id('b', 3), Type: assessment.CarerType, Started: d("2025-07-01"), Completed: d("2025-07-10")}))
	must(w.Service(p3, Service{Line: line(8, "carer_break", plan.DirectPayment, "day", 8000, 300, plan.Per4Weeks, "2025-05-01", "2025-08-01"),
		SupersededFrom: dp("2025-07-15"), Carer: true}))
	must(w.Service(p3, carers(Service{Line: line(9, "hydrotherapy", plan.CouncilManaged, "hour", 3000, 100, plan.PerMonth, "2025-07-01", "2026-04-01")})))
	must(w.Service(p3, carers(Service{Line: line(10, "housing_costs", plan.CouncilManaged, "week", 9500, 100, plan.PerWeek, "2025-07-01", "2025-10-01")})))

	must(w.Service(p4, year(11, "child_short_break", plan.DirectPayment, "night", 15000, 200, plan.PerMonth)))
}

func TestSeededQuarterMatchesTheHandWrittenReturn(t *testing.T) {
	t.Parallel()
	var data, issues bytes.Buffer
	w, err := NewWriter(&data, &issues, Config{LACode: "999", Quarter: Quarter{2025, 2}, Categories: catalogue(), Components: DefaultComponents()})
	require.NoError(t, err)
	seededQuarter(t, w)
	summary, err := w.Close()
	require.NoError(t, err)

	cldtest.RequireMatches(t, "testdata/2025-Q2.expected", data.Bytes())

	wantIssues := cldtest.ReadCSV(t, mustRead(t, "testdata/2025-Q2-issues.expected.csv"))
	gotIssues := cldtest.ReadCSV(t, issues.Bytes())
	require.Len(t, gotIssues, len(wantIssues), "the number of issues (and the header)")
	for i := range wantIssues {
		for c := range wantIssues[i] {
			require.Equal(t, wantIssues[i][c], gotIssues[i][c], "issue %d, column %s", i, IssueHeader[c])
		}
	}

	require.Equal(t, map[EventType]int{EventAssessment: 2, EventService: 8, EventReview: 2}, summary.Rows)
	require.Equal(t, map[string]int{SkippedOutsideQuarter: 3, SkippedChild: 1}, summary.Skipped)
	require.Equal(t, map[string]int{"missing-service-component": 4, "missing-nhs-number": 1, "missing-postcode": 1,
		"unknown-service-category": 1, "service-type-unmapped": 1}, summary.Issues)
	require.Contains(t, summary.NotRecorded, "Gender")
	require.NotContains(t, summary.NotRecorded, "NHS_Number")
}

func TestReExportingAQuarterGivesTheSameBytes(t *testing.T) {
	t.Parallel()
	export := func() (string, string) {
		var data, issues bytes.Buffer
		w, err := NewWriter(&data, &issues, Config{LACode: "999", Quarter: Quarter{2025, 2}, Categories: catalogue(), Components: DefaultComponents()})
		require.NoError(t, err)
		seededQuarter(t, w)
		_, err = w.Close()
		require.NoError(t, err)
		return data.String(), issues.String()
	}
	d1, i1 := export()
	d2, i2 := export()
	require.Equal(t, d1, d2)
	require.Equal(t, i1, i2)
}

func mustRead(t *testing.T, path string) []byte {
	b, err := os.ReadFile(path)
	require.NoError(t, err)
	return b
}
