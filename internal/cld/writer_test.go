package cld

import (
	"bytes"
	"io"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/pbudget/pbudget/internal/cld/cldtest"

	"github.com/pbudget/pbudget/internal/plan"
)

// serviceRow writes one line into a 2025-Q2 return and returns its row (nil when absent).
func serviceRow(t *testing.T, s Service) map[string]string {
	t.Helper()
	var data bytes.Buffer
	w, err := NewWriter(&data, io.Discard, Config{LACode: "999", Quarter: Quarter{2025, 2}, Categories: catalogue(), Components: DefaultComponents()})
	require.NoError(t, err)
	require.NoError(t, w.Service(Person{ID: id('a', 1), NHSNumber: "9434765919", DateOfBirth: dp("1950-03-14"), Postcode: "LU1 2AB"}, s))
	_, err = w.Close()
	require.NoError(t, err)
	rows := cldtest.ReadCSV(t, data.Bytes())
	if len(rows) == 1 {
		return nil
	}
	out := map[string]string{}
	for i, col := range rows[0] {
		out[col] = rows[1][i]
	}
	return out
}

func TestAServiceIsInTheReturnOnlyWhenInForceInTheQuarter(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name       string
		from, to   string // the line's [start, end)
		superseded string
		present    bool
		end        string // Event_End_Date; "" when open
	}{
		{name: "ended the day before the quarter", from: "2025-04-01", to: "2025-07-01"},
		{name: "ended on the quarter's first day", from: "2025-04-01", to: "2025-07-02", present: true, end: "2025-07-01"},
		{name: "starts on the quarter's last day", from: "2025-09-30", to: "2026-04-01", present: true},
		{name: "starts the day after the quarter", from: "2025-10-01", to: "2026-04-01"},
		{name: "ends on the quarter's last day", from: "2025-04-01", to: "2025-10-01", present: true, end: "2025-09-30"},
		{name: "runs past the quarter: open", from: "2025-04-01", to: "2025-10-02", present: true},
		{name: "superseded before the quarter", from: "2025-04-01", to: "2026-04-01", superseded: "2025-06-01"},
		{name: "superseded on the quarter's first day", from: "2025-04-01", to: "2026-04-01", superseded: "2025-07-01"},
		{name: "superseded within the quarter", from: "2025-04-01", to: "2026-04-01", superseded: "2025-08-11", present: true, end: "2025-08-10"},
		{name: "superseded after its own end", from: "2025-04-01", to: "2025-08-01", superseded: "2025-09-01", present: true, end: "2025-07-31"},
		{name: "superseded before it started", from: "2025-08-01", to: "2026-04-01", superseded: "2025-07-15"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			s := Service{Line: line(1, "home_care", plan.CouncilManaged, "hour", 2100, 1000, plan.PerWeek, tt.from, tt.to)}
			if tt.superseded != "" {
				s.SupersededFrom = dp(tt.superseded)
			}
			row := serviceRow(t, s)
			if !tt.present {
				require.Nil(t, row)
				return
			}
			require.NotNil(t, row)
			require.Equal(t, tt.from, row["Event_Start_Date"])
			require.Equal(t, tt.end, row["Event_End_Date"])
		})
	}
}

func TestCostColumnsFromTheLine(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name                   string
		unit                   plan.Unit
		pence                  int64
		qty                    plan.Quantity
		f                      plan.Frequency
		from, to               string
		cost, frequency, units string
	}{
		{"hours a week", "hour", 2100, 1400, plan.PerWeek, "2025-04-01", "2026-04-01", "21.00", "Hourly", "14.00"},
		{"hours every 4 weeks", "hour", 2100, 4000, plan.Per4Weeks, "2025-04-01", "2026-04-01", "21.00", "Hourly", "10.00"},
		{"hours a month: 30 × 12 / 52", "hour", 2100, 3000, plan.PerMonth, "2025-04-01", "2026-04-01", "21.00", "Hourly", "6.92"},
		{"a year's hours, rounded half up: 26 / 52", "hour", 1999, 26, plan.PerYear, "2025-04-01", "2026-04-01", "19.99", "Hourly", "0.01"},
		{"a one-off block of 20 hours over 4 weeks", "hour", 2000, 2000, plan.Once, "2025-07-01", "2025-07-29", "20.00", "Hourly", "5.00"},
		{"nights are days", "night", 12000, 200, plan.PerMonth, "2025-04-01", "2026-04-01", "120.00", "Daily", "0.46"},
		{"weeks: no planned units", "week", 9500, 100, plan.PerWeek, "2025-04-01", "2026-04-01", "95.00", "Weekly", ""},
		{"one-off", "one_off", 25000, 100, plan.Once, "2025-08-01", "2025-08-02", "250.00", "One-off", ""},
		{"sessions every 4 weeks, per occurrence", "session", 4500, 300, plan.Per4Weeks, "2025-04-01", "2026-04-01", "135.00", "4-Weekly", ""},
		{"sessions a month with a fraction of a penny, half up: 33.33 × 1.5", "session", 3333, 150, plan.PerMonth, "2025-04-01", "2026-04-01", "50.00", "Monthly", ""},
		{"a penny", "hour", 1, 100, plan.PerWeek, "2025-04-01", "2026-04-01", "0.01", "Hourly", "1.00"},
		{"no cost", "hour", 0, 100, plan.PerWeek, "2025-04-01", "2026-04-01", "0.00", "Hourly", "1.00"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			row := serviceRow(t, Service{Line: line(1, "home_care", plan.CouncilManaged, tt.unit, tt.pence, tt.qty, tt.f, tt.from, tt.to)})
			require.Equal(t, tt.cost, row["Unit_Cost"])
			require.Equal(t, tt.frequency, row["Cost_Frequency_(Unit_Type)"])
			require.Equal(t, tt.units, row["Planned_units_per_week"])
		})
	}
}

func TestDeliveryMechanismFromTheManagementOption(t *testing.T) {
	t.Parallel()
	for option, want := range map[plan.Option]string{
		plan.DirectPayment: "Direct Payment", plan.CouncilManaged: "CASSR Managed Personal Budget", plan.ISF: "CASSR Managed Personal Budget",
	} {
		row := serviceRow(t, Service{Line: line(1, "home_care", option, "hour", 2100, 100, plan.PerWeek, "2025-04-01", "2026-04-01")})
		require.Equal(t, want, row["Delivery_Mechanism"], option)
	}
	_, ok := DeliveryMechanismFor("mixed")
	require.False(t, ok, "there is no part direct payment: NHS England derives it from the mix of rows")
}

func TestServiceTypeFromTheCategory(t *testing.T) {
	t.Parallel()
	tests := []struct {
		cldType string
		carer   bool
		want    string
	}{
		{"long_term_community", false, "Long Term Support: Community"},
		{"long_term_residential", false, "Long Term Support: Residential Care"},
		{"long_term_nursing", false, "Long Term Support: Nursing Care"},
		{"short_term", false, "Short Term Support: Other Short Term"},
		{"equipment", false, "Short Term Support: Ongoing Low Level"},
		{"carer_support", true, "Carer Support: Direct to Carer"},
		{"carer_support", false, "Carer Support: Support involving the person cared-for"},
		{"other", false, ""},
		{"", false, ""},
	}
	for _, tt := range tests {
		got, ok := ServiceTypeFor(tt.cldType, tt.carer)
		require.Equal(t, tt.want, got, "%s carer=%v", tt.cldType, tt.carer)
		require.Equal(t, tt.want != "", ok)
	}
	// Every cld_service_type the API accepts but "other" has a service type.
	for _, c := range plan.DefaultCategories() {
		_, ok := ServiceTypeFor(c.CLDServiceType, false)
		require.Equal(t, c.CLDServiceType != "other", ok, c.Key)
	}
}

func TestHundredthsAreExact(t *testing.T) {
	t.Parallel()
	for n, want := range map[int64]string{0: "0.00", 1: "0.01", 10: "0.10", 99: "0.99", 100: "1.00", 1234: "12.34", 100000000000: "1000000000.00", -5: "-0.05", -1234: "-12.34"} {
		require.Equal(t, want, hundredths(n), n)
	}
}

func TestAWriterNeedsTheCouncilsCodeAndAQuarter(t *testing.T) {
	t.Parallel()
	_, err := NewWriter(io.Discard, io.Discard, Config{LACode: " ", Quarter: Quarter{2025, 1}})
	require.ErrorIs(t, err, ErrLACode)
	_, err = NewWriter(io.Discard, io.Discard, Config{LACode: "999", Quarter: Quarter{2025, 5}})
	require.ErrorIs(t, err, ErrQuarter)
}

func TestAPersonsProblemsAreReportedOncePerRunOfTheirEvents(t *testing.T) {
	t.Parallel()
	var issues bytes.Buffer
	w, err := NewWriter(io.Discard, &issues, Config{LACode: "999", Quarter: Quarter{2025, 2}, Categories: catalogue(), Components: DefaultComponents()})
	require.NoError(t, err)
	p := Person{ID: id('a', 9), Postcode: "LU1 2AB"} // no NHS number, no date of birth
	for n := range 3 {
		require.NoError(t, w.Service(p, Service{Line: line(n, "home_care", plan.CouncilManaged, "hour", 2100, 100, plan.PerWeek, "2025-04-01", "2026-04-01")}))
	}
	s, err := w.Close()
	require.NoError(t, err)
	require.Equal(t, map[string]int{"missing-nhs-number": 1, "missing-date-of-birth": 1}, s.Issues)
	require.Len(t, cldtest.ReadCSV(t, issues.Bytes()), 3)
	require.NotContains(t, issues.String(), "LU1 2AB", "the report names records, never the person's details")
}
