package httpapi_test

import (
	"bytes"
	"encoding/csv"
	"net/http"
	"slices"
	"testing"
	"time"

	"github.com/google/uuid"
	"github.com/stretchr/testify/require"

	"github.com/pbudget/pbudget/api"
	"github.com/pbudget/pbudget/internal/cld"
	"github.com/pbudget/pbudget/internal/date"
)

// csvRows parses a CSV body into maps by column, with its header.
func csvRows(t *testing.T, body []byte) ([]string, []map[string]string) {
	t.Helper()
	rows, err := csv.NewReader(bytes.NewReader(body)).ReadAll()
	require.NoError(t, err)
	require.NotEmpty(t, rows)
	var out []map[string]string
	for _, r := range rows[1:] {
		m := map[string]string{}
		for i, col := range rows[0] {
			m[col] = r[i]
		}
		out = append(out, m)
	}
	return rows[0], out
}

// A CLD export through the API: requested by a council administrator (202 and a Location), built
// in the background with its progress, downloaded by an auditor with its validation report, each
// download in the audit trail; other roles are refused and another council's export is a 404.
func TestACLDExportIsBuiltInTheBackgroundDownloadedAndAudited(t *testing.T) {
	t.Parallel()
	b := setup(t)
	b.activeRAS("needs", 72_800)
	pb := b.budgetOfNewPerson()
	plan, tag := b.planWith(pb, lineBody("home_care", "council_managed", 2_100, "7", pb), lineBody("personal_assistant", "direct_payment", 1_550, "10.5", pb))
	b.approve(plan, b.submit(plan, tag))
	quarter := cld.QuarterOf(date.Today(time.Now())).String()
	body := map[string]any{"quarter": quarter, "la_code": "E06000032"}

	r := b.do(http.MethodPost, "/v1/cld-exports", b.token("practitioner"), body, "Idempotency-Key", uuid.NewString())
	require.Equal(t, http.StatusForbidden, r.Status, "council_admin or auditor")
	r = b.do(http.MethodPost, "/v1/cld-exports", b.token("council_admin"), with(body, "la_code", "e06"), "Idempotency-Key", uuid.NewString())
	require.Equal(t, http.StatusBadRequest, r.Status, string(r.Body))
	r = b.do(http.MethodPost, "/v1/cld-exports", b.token("council_admin"), body, "Idempotency-Key", uuid.NewString())
	require.Equal(t, http.StatusAccepted, r.Status, string(r.Body))
	loc := r.Header.Get("Location")
	require.NotEmpty(t, loc)
	var e api.CLDExport
	require.Eventually(t, func() bool {
		r := b.do(http.MethodGet, loc, b.token("auditor"), nil)
		require.Equal(t, http.StatusOK, r.Status, string(r.Body))
		r.decode(t, &e)
		require.NotEqual(t, api.CLDExportStatus("failed"), e.Status, e.Error)
		return e.Status == "done"
	}, 30*time.Second, 50*time.Millisecond)
	require.Equal(t, quarter, e.Quarter)
	require.Equal(t, e.PeopleTotal, e.PeopleDone)
	require.GreaterOrEqual(t, e.Rows.Service, 2)
	require.Equal(t, http.StatusNotFound, b.do(http.MethodGet, loc, b.otherToken("council_admin"), nil).Status)
	require.Equal(t, http.StatusNotFound, b.do(http.MethodGet, loc+"/file", b.otherToken("auditor"), nil).Status)

	f := b.do(http.MethodGet, loc+"/file", b.token("auditor"), nil)
	require.Equal(t, http.StatusOK, f.Status, string(f.Body))
	require.Equal(t, "text/csv", f.Header.Get("Content-Type"))
	header, rows := csvRows(t, f.Body)
	require.Equal(t, "LA_Code", header[0])
	mine := map[string]map[string]string{}
	for _, row := range rows {
		if row["LA_Person_Unique_Identifier"] == pb.PersonId.String() {
			mine[row["Event_Reference"]] = row
		}
	}
	care, pa := mine["SRV-"+plan.Lines[0].Id.String()], mine["SRV-"+plan.Lines[1].Id.String()]
	require.Len(t, mine, 3, "the person's needs assessment and two lines")
	require.Equal(t, "E06000032", care["LA_Code"])
	require.Equal(t, "CASSR Managed Personal Budget", care["Delivery_Mechanism"])
	require.Equal(t, "Home Support", care["Service_Component"])
	require.Equal(t, "21.00", care["Unit_Cost"], "pounds")
	require.Equal(t, "7.00", care["Planned_units_per_week"])
	require.Equal(t, "Direct Payment", pa["Delivery_Mechanism"])
	require.Equal(t, "10.50", pa["Planned_units_per_week"])

	v := b.do(http.MethodGet, loc+"/validation-report", b.token("council_admin"), nil)
	require.Equal(t, http.StatusOK, v.Status, string(v.Body))
	_, issues := csvRows(t, v.Body)
	var codes []string
	for _, is := range issues {
		if is["LA_Person_Unique_Identifier"] == pb.PersonId.String() {
			codes = append(codes, is["Code"])
		}
	}
	require.Contains(t, codes, "missing-nhs-number", "the council must trace the NHS number before submitting")
	require.Contains(t, codes, "missing-service-component", "a personal assistant has no component by default")

	var events api.AuditEventList
	b.do(http.MethodGet, "/v1/audit-events?entity_id="+e.Id.String(), b.token("auditor"), nil).decode(t, &events)
	var actions []string
	for _, ev := range events.Items {
		actions = append(actions, ev.Action)
	}
	for _, want := range []string{"cld_export.requested", "cld_export.completed", "cld_export.downloaded"} {
		require.Contains(t, actions, want)
	}
	downloads := 0
	for _, a := range actions {
		if a == "cld_export.downloaded" {
			downloads++
		}
	}
	require.Equal(t, 2, downloads, "the file and the validation report")
}

// The weekly report through the API: people by management mode and the ASCOF 3D proportions, in
// JSON and CSV, for council staff; audits and recoveries are null with the reason until issue 12.
func TestTheWeeklyReportCountsPeopleByManagementModeInJSONAndCSV(t *testing.T) {
	t.Parallel()
	b := setup(t)
	b.activeRAS("needs", 72_800)
	dpOnly := b.budgetOfNewPerson()
	plan, tag := b.planWith(dpOnly, lineBody("personal_assistant", "direct_payment", 1_500, "10", dpOnly))
	b.approve(plan, b.submit(plan, tag))
	mixed := b.budgetOfNewPerson()
	plan, tag = b.planWith(mixed, lineBody("personal_assistant", "direct_payment", 1_500, "5", mixed), lineBody("home_care", "council_managed", 2_000, "5", mixed))
	b.approve(plan, b.submit(plan, tag))
	managed := b.budgetOfNewPerson()
	plan, tag = b.planWith(managed, lineBody("home_care", "council_managed", 2_000, "5", managed))
	b.approve(plan, b.submit(plan, tag))
	b.budgetOfNewPerson() // a budget without a plan yet

	on := dpOnly.StartDate.Time.Format("2006-01-02")
	require.Equal(t, http.StatusForbidden, b.do(http.MethodGet, "/v1/reports/weekly", b.token("practitioner"), nil).Status)
	r := b.do(http.MethodGet, "/v1/reports/weekly?as_of="+on, b.token("finance"), nil)
	require.Equal(t, http.StatusOK, r.Status, string(r.Body))
	var w api.WeeklyReport
	r.decode(t, &w)
	require.Equal(t, 4, w.People.WithBudget)
	require.Equal(t, 3, w.People.WithApprovedPlan)
	require.Equal(t, 2, w.People.WithDirectPayment)
	require.Equal(t, 1, w.Modes.DirectPayment)
	require.Equal(t, 1, w.Modes.PartDirectPayment)
	require.Equal(t, 1, w.Modes.CouncilManaged)
	require.Equal(t, 7500, w.Ascof3d.SelfDirectedSupportBasisPoints, "3 of 4")
	require.Equal(t, 5000, w.Ascof3d.DirectPaymentsBasisPoints, "2 of 4")
	require.Equal(t, 4, w.Budgets.Count)
	require.Equal(t, 0, w.Audits.Due, "no direct payment paid yet: no audit")
	require.Equal(t, 0, w.Recoveries.Count)

	c := b.do(http.MethodGet, "/v1/reports/weekly?format=csv&as_of="+on, b.token("auditor"), nil)
	require.Equal(t, http.StatusOK, c.Status, string(c.Body))
	require.Equal(t, "text/csv", c.Header.Get("Content-Type"))
	header, rows := csvRows(t, c.Body)
	require.Equal(t, []string{"metric", "value", "note"}, header)
	byMetric := map[string]string{}
	for _, row := range rows {
		byMetric[row["metric"]] = row["value"]
	}
	require.Equal(t, "4", byMetric["people_with_budget"])
	require.Equal(t, "7500", byMetric["ascof_3d_self_directed_support_basis_points"])
	require.Equal(t, "0", byMetric["audits_due"])
	require.True(t, slices.Contains(header, "note"))

	var other api.WeeklyReport
	r = b.do(http.MethodGet, "/v1/reports/weekly?as_of="+on, b.otherToken("finance"), nil)
	require.Equal(t, http.StatusOK, r.Status)
	r.decode(t, &other)
	require.Zero(t, other.People.WithBudget, "another council's report counts none of these people")
}
