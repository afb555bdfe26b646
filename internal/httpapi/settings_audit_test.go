package httpapi_test

import (
	"net/http"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/pbudget/pbudget/api"
)

// The audit and ISF settings are the council's: the defaults of DOMAIN.md (and of the columns'
// defaults) until changed, and a change is what the audits then use — the evidence's due date
// and the contingency of a surplus.
func TestAuditSettingsShowTheDefaultsAndAChangeIsWhatAuditsUse(t *testing.T) {
	t.Parallel()
	b, _ := payBundle(t, "2026-04-01")
	admin := b.token("council_admin")
	r := b.do(http.MethodGet, "/v1/council/settings", admin, nil)
	require.Equal(t, http.StatusOK, r.Status, string(r.Body))
	var st api.CouncilSettings
	r.decode(t, &st)
	require.Equal(t, []int{12, 28, 56, 8, 4, 14, 4, 12}, []int{st.AuditFirstWeeks, st.AuditEvidenceDueDays, st.AuditConcludeWithinDays,
		st.AuditContingencyWeeks, st.AuditTerminationNoticeWeeks, st.IsfStatementDueDays, st.IsfSurplusWeeks, st.IsfSurplusMaxWeeks})

	r = b.do(http.MethodPatch, "/v1/council/settings", admin, map[string]any{"audit_evidence_due_days": 10, "audit_contingency_weeks": 2},
		"If-Match", r.Header.Get("ETag"))
	require.Equal(t, http.StatusOK, r.Status, string(r.Body))
	r.decode(t, &st)
	require.Equal(t, 10, st.AuditEvidenceDueDays)
	require.Equal(t, 2, st.AuditContingencyWeeks)
	require.Equal(t, 12, st.AuditFirstWeeks, "the others unchanged")
	r = b.do(http.MethodGet, "/v1/council/settings", admin, nil)
	r.decode(t, &st)
	require.Equal(t, 10, st.AuditEvidenceDueDays, "stored")

	// The audit follows them: evidence due 10 days after the request, and a contingency of 2 weeks
	// of £150 (£300 where the default is £1,200).
	_, au := b.concludedAudit(175_000, nil)
	require.Equal(t, "2026-07-10", au.Evidence[0].Due.String(), "10 days after 30 June")
	require.Equal(t, "2026-07-10", au.EvidenceDue.MustGet().String())
	sur := au.Surplus.MustGet()
	require.Equal(t, int64(30_000), stepValue(t, sur, "contingency"), "2 weeks of £150")
	require.Equal(t, int64(175_000-30_000), stepValue(t, sur, "surplus"))
	// The settings event records the figures.
	var events api.AuditEventList
	r = b.do(http.MethodGet, "/v1/audit-events?entity_id="+b.council.ID.String()+"&action=council_settings.updated", b.token("auditor"), nil)
	require.Equal(t, http.StatusOK, r.Status, string(r.Body))
	r.decode(t, &events)
	require.NotEmpty(t, events.Items)
	last := events.Items[len(events.Items)-1]
	require.Equal(t, []string{"audit_contingency_weeks", "audit_evidence_due_days"}, last.ChangedFields)
	require.EqualValues(t, 10, last.Details["audit_evidence_due_days"])
	require.EqualValues(t, 2, last.Details["audit_contingency_weeks"])
	require.EqualValues(t, 12, last.Details["isf_surplus_max_weeks"])
}

// The ISF settings are what the statements' rules use: a surplus of 1 week held more than 4 is
// flagged where the defaults (4 weeks held more than 12) flag nothing.
func TestISFSurplusSettingsAreWhatTheFlagUses(t *testing.T) {
	t.Parallel()
	b, c := payBundle(t, "2026-07-01")
	prov := b.provider("isf_provider")
	f := b.agreements(agreementSpec{start: "2026-04-01", isf: &prov}) // £75 a week
	isfLine := f.plan.Lines[1].Id
	path := "/v1/isf-agreements/" + f.isf.Id.String() + "/statements"
	months := []string{"2026-04-01", "2026-05-01", "2026-06-01", "2026-07-01"}
	open := int64(0)
	for i := 0; i < len(months)-1; i++ {
		closing := open + 10_000 - 7_500 // £25 a month more: £75 after three months, never above £300
		r := b.do(http.MethodPost, path, b.providerToken(prov), isfStatement(months[i], months[i+1], open, 10_000, isfLine, "1", 7_500, closing))
		require.Equal(t, http.StatusCreated, r.Status, string(r.Body))
		open = closing
	}
	c.Set("2026-07-02")
	var work api.ISFWorklist
	b.do(http.MethodGet, "/v1/isf-overdue-statements?flagged=true", b.token("auditor"), nil).decode(t, &work)
	require.Empty(t, overdueFor(work, f.isf.Id), "the defaults flag nothing")

	admin := b.token("council_admin")
	r := b.do(http.MethodGet, "/v1/council/settings", admin, nil)
	// £2,500 after April is above 0 weeks; held from 30 April to 30 June, more than 4 weeks.
	r = b.do(http.MethodPatch, "/v1/council/settings", admin, map[string]any{"isf_surplus_weeks": 0, "isf_surplus_max_weeks": 4},
		"If-Match", r.Header.Get("ETag"))
	require.Equal(t, http.StatusOK, r.Status, string(r.Body))
	b.do(http.MethodGet, "/v1/isf-overdue-statements?flagged=true", b.token("auditor"), nil).decode(t, &work)
	got := overdueFor(work, f.isf.Id)
	require.Len(t, got, 1)
	require.Equal(t, int64(0), got[0].Flag.MustGet().ThresholdPence)
	require.Equal(t, open, got[0].Flag.MustGet().ExcessPence)
}

// A setting out of its range (the columns' CHECKs, the spec's minimum and maximum) is refused by
// the request's validation naming the field, and nothing changes.
func TestAnAuditSettingOutOfRangeIsRefusedNamingTheField(t *testing.T) {
	t.Parallel()
	b, _ := payBundle(t, "2026-04-01")
	admin := b.token("council_admin")
	for _, tc := range []struct {
		field string
		value int
	}{
		{"audit_first_weeks", 0}, {"audit_first_weeks", 53}, {"audit_evidence_due_days", 0}, {"audit_evidence_due_days", 181},
		{"audit_conclude_within_days", 0}, {"audit_conclude_within_days", 366}, {"audit_contingency_weeks", -1}, {"audit_contingency_weeks", 53},
		{"audit_termination_notice_weeks", -1}, {"audit_termination_notice_weeks", 27}, {"isf_statement_due_days", 0}, {"isf_statement_due_days", 91},
		{"isf_surplus_weeks", -1}, {"isf_surplus_weeks", 53}, {"isf_surplus_max_weeks", 0}, {"isf_surplus_max_weeks", 105},
	} {
		cur := b.do(http.MethodGet, "/v1/council/settings", admin, nil)
		before := b.counts()
		r := b.do(http.MethodPatch, "/v1/council/settings", admin, map[string]any{tc.field: tc.value}, "If-Match", cur.Header.Get("ETag"))
		require.Equal(t, http.StatusBadRequest, r.Status, "%s %d: %s", tc.field, tc.value, r.Body)
		p := r.problem(t)
		require.Equal(t, "urn:pbudget:problem:validation", p.Type)
		require.NotNil(t, p.Errors)
		require.Contains(t, (*p.Errors)[0].Field, tc.field, "%s %d", tc.field, tc.value)
		require.Equal(t, before, b.counts(), "%s %d: nothing written", tc.field, tc.value)
		after := b.do(http.MethodGet, "/v1/council/settings", admin, nil)
		require.Equal(t, cur.Header.Get("ETag"), after.Header.Get("ETag"), "unchanged")
	}
	// At the edges they are taken.
	cur := b.do(http.MethodGet, "/v1/council/settings", admin, nil)
	r := b.do(http.MethodPatch, "/v1/council/settings", admin, map[string]any{"audit_first_weeks": 52, "audit_contingency_weeks": 0,
		"isf_surplus_max_weeks": 104, "isf_statement_due_days": 1}, "If-Match", cur.Header.Get("ETag"))
	require.Equal(t, http.StatusOK, r.Status, string(r.Body))
}

// The schedule follows audit_first_weeks: at 4 weeks the first audit's period ends 4 weeks after
// the first payment, and the hourly job schedules it then, not at the default's 12.
func TestTheFirstAuditFollowsTheCouncilsFirstWeeks(t *testing.T) {
	t.Parallel()
	b, c := payBundle(t, "2026-04-01")
	admin := b.token("council_admin")
	r := b.do(http.MethodGet, "/v1/council/settings", admin, nil)
	r = b.do(http.MethodPatch, "/v1/council/settings", admin, map[string]any{"audit_first_weeks": 4}, "If-Match", r.Header.Get("ETag"))
	require.Equal(t, http.StatusOK, r.Status, string(r.Body))
	f := b.agreements(agreementSpec{start: "2026-04-06"})
	b.pay(b.createRun("2026-04-06"))
	c.Set("2026-05-03")
	require.Zero(t, b.scheduleAudits(), "the period's last day is 3 May")
	c.Set("2026-05-04")
	require.Equal(t, 1, b.scheduleAudits())
	as := b.auditsOf(f.dp.Id, "")
	require.Len(t, as, 1)
	require.Equal(t, "2026-05-04", as[0].PeriodEnd.String(), "4 weeks from the first payment")
}
