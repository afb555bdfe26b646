package httpapi_test

import (
	"context"
	"net/http"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/pbudget/pbudget/api"
	"github.com/pbudget/pbudget/internal/date"
)

// rateTable creates a table like England 2025/26, with the 25-to-pension-age MIG rate given.
func (b *bundle) rateTable(validFrom string, single25 int64, extra ...any) api.RateTable {
	b.t.Helper()
	body := with(map[string]any{
		"name": "England " + validFrom, "valid_from": validFrom,
		"capital":           map[string]any{"lower_pence": 1_425_000, "upper_pence": 2_325_000},
		"tariff_step_pence": 25_000, "tariff_weekly_pence_per_step": 100,
		"mig": map[string]any{
			"base": []any{
				map[string]any{"household": "single", "age_band": "age_18_24", "weekly_pence": 8_915},
				map[string]any{"household": "single", "age_band": "age_25_to_pension_credit_age", "weekly_pence": single25},
			},
			"disability_premium_weekly_pence": 4_965, "enhanced_disability_premium_weekly_pence": 2_425,
		},
		"minimum_weekly_charge_pence": 0, "taper_percent": 100,
	}, extra...)
	r := b.do(http.MethodPost, "/v1/rate-tables", b.token("finance"), body)
	require.Equal(b.t, http.StatusCreated, r.Status, string(r.Body))
	var t api.RateTable
	r.decode(b.t, &t)
	return t
}

// workedExample is the person of DOMAIN.md section 3 as a financial assessment.
func workedExample(effective string) map[string]any {
	return map[string]any{
		"kind": "full", "effective_date": effective, "household": "single",
		"disability_premium": true, "enhanced_disability_premium": true,
		"income":                     []any{map[string]any{"type": "other_benefit", "weekly_pence": 42_000}},
		"capital":                    []any{map[string]any{"type": "savings", "value_pence": 1_610_000}, map[string]any{"type": "main_home", "value_pence": 25_000_000}},
		"housing_costs_weekly_pence": 2_500, "dre_method": "individual",
		"dre": []any{map[string]any{"description": "extra laundry and heating", "weekly_pence": 2_000}},
	}
}

// financial creates and completes a financial assessment.
func (b *bundle) financial(personID string, body map[string]any) api.FinancialAssessment {
	b.t.Helper()
	tok := b.token("finance")
	r := b.do(http.MethodPost, "/v1/people/"+personID+"/financial-assessments", tok, body)
	require.Equal(b.t, http.StatusCreated, r.Status, string(r.Body))
	var fa api.FinancialAssessment
	r.decode(b.t, &fa)
	r = b.do(http.MethodPost, "/v1/financial-assessments/"+fa.Id.String()+"/complete", tok, nil, "If-Match", r.Header.Get("ETag"))
	require.Equal(b.t, http.StatusOK, r.Status, string(r.Body))
	r.decode(b.t, &fa)
	return fa
}

// budgetOf350 gives a person an indicative budget of £18,200 a year: £350.00 a week.
func (b *bundle) budgetOf350(personID string) string {
	b.t.Helper()
	as := b.assess(personID, with(needsFacts("nutrition", "habitable_home"), "type", "needs",
		"ras_answers", map[string]string{"q1": "lots", "q2": "some"}), nil)
	return as.BudgetId.MustGet().String()
}

func TestTheWorkedExampleThroughTheAPI(t *testing.T) {
	t.Parallel()
	b := setup(t)
	b.activeRAS("needs", 72_800) // 25 points × £728 = £18,200 a year
	table := b.rateTable("2025-04-06", 11_250)
	p := b.newPerson(map[string]any{"date_of_birth": "1995-03-01"})
	budgetID := b.budgetOf350(p.Id.String())
	pb := b.budget(budgetID)
	require.Equal(t, int64(35_000), pb.Current.WeeklyCostPence)
	require.True(t, pb.Current.PersonWeeklyPence.IsNull(), "no split before a financial assessment")

	fa := b.financial(p.Id.String(), workedExample("2025-06-01"))
	res := fa.Result.MustGet()
	require.Equal(t, table.Id, res.RateTableId)
	require.Equal(t, int64(1_610_000), res.CapitalCountedPence, "the main home is not counted")
	require.Equal(t, int64(800), res.TariffWeeklyPence)
	require.Equal(t, int64(18_640), res.MigWeeklyPence)
	require.Equal(t, int64(19_660), res.AvailableWeeklyPence)
	require.Equal(t, int64(19_660), res.AssessedWeeklyChargePence)
	require.Equal(t, int64(35_000), *res.WeeklyCostPence)
	require.Equal(t, int64(19_660), *res.WeeklyChargePence)
	steps := map[string]bool{}
	for _, s := range res.Steps {
		steps[s.Step] = true
	}
	for _, want := range []string{"capital_counted", "tariff_income", "income_counted", "mig", "available_income", "taper", "cap_at_cost", "council_weekly"} {
		require.True(t, steps[want], want)
	}

	pb = b.budget(budgetID)
	require.Len(t, pb.History, 2)
	v := pb.Current
	require.Equal(t, api.BudgetChange("contribution_assessed"), v.Change)
	require.Equal(t, int64(19_660), v.PersonWeeklyPence.MustGet())
	require.Equal(t, int64(15_340), v.CouncilWeeklyPence.MustGet())
	require.Equal(t, int64(1_022_320), v.PersonAnnualPence.MustGet())
	require.Equal(t, int64(797_680), v.CouncilAnnualPence.MustGet())
	require.Equal(t, v.AnnualCostPence, v.PersonAnnualPence.MustGet()+v.CouncilAnnualPence.MustGet())
	require.Equal(t, fa.Id, v.FinancialAssessmentId.MustGet())
	require.Equal(t, table.Id, v.RateTableId.MustGet())

	ev := b.do(http.MethodGet, "/v1/audit-events?entity_id="+fa.Id.String()+"&action=financial_assessment.completed", b.token("auditor"), nil)
	var events api.AuditEventList
	ev.decode(t, &events)
	require.Equal(t, table.Id.String(), events.Items[0].Details["rate_table_id"], "the decision records its rate table")
}

func TestTheRateTableInForceOnTheEffectiveDateIsUsed(t *testing.T) {
	t.Parallel()
	b := setup(t)
	old := b.rateTable("2025-04-06", 11_250)
	uprated := b.rateTable("2026-04-06", 11_700)
	p := b.newPerson(map[string]any{"date_of_birth": "1995-03-01"})
	before := b.financial(p.Id.String(), workedExample("2026-04-05"))
	require.Equal(t, old.Id, before.Result.MustGet().RateTableId)
	after := b.financial(p.Id.String(), workedExample("2026-04-06"))
	require.Equal(t, uprated.Id, after.Result.MustGet().RateTableId)
	require.Equal(t, int64(19_660-450), after.Result.MustGet().AssessedWeeklyChargePence, "a £4.50 higher MIG lowers the charge by £4.50")

	var list api.FinancialAssessmentList
	b.do(http.MethodGet, "/v1/people/"+p.Id.String()+"/financial-assessments", b.token("practitioner"), nil).decode(t, &list)
	require.Len(t, list.Items, 2)
	require.Equal(t, api.FinancialAssessmentStatus("superseded"), list.Items[0].Status, "the earlier one is kept, superseded")
	require.Equal(t, before.Id, after.SupersedesId.MustGet())

	none := b.do(http.MethodPost, "/v1/people/"+p.Id.String()+"/financial-assessments", b.token("finance"), workedExample("2024-01-01"))
	var fa api.FinancialAssessment
	none.decode(t, &fa)
	r := b.do(http.MethodPost, "/v1/financial-assessments/"+fa.Id.String()+"/complete", b.token("finance"), nil, "If-Match", `"1"`)
	require.Equal(t, "urn:pbudget:problem:no-rate-table-in-force", r.problem(t).Type)

	var inForce api.RateTableList
	b.do(http.MethodGet, "/v1/rate-tables?in_force_on=2026-01-01", b.token("practitioner"), nil).decode(t, &inForce)
	require.Len(t, inForce.Items, 1)
	require.Equal(t, old.Id, inForce.Items[0].Id)
}

func TestARateTableInForceIsImmutable(t *testing.T) {
	t.Parallel()
	b := setup(t)
	inForce := b.rateTable("2025-04-06", 11_250)
	require.True(t, inForce.InForce)
	tok := b.token("finance")
	r := b.do(http.MethodPatch, "/v1/rate-tables/"+inForce.Id.String(), tok, map[string]any{"taper_percent": 90}, "If-Match", `"1"`)
	require.Equal(t, http.StatusConflict, r.Status)
	require.Equal(t, "urn:pbudget:problem:rate-table-in-force", r.problem(t).Type)
	_, err := b.db.SQL().ExecContext(context.Background(), `UPDATE rate_tables SET taper_percent = 1 WHERE council_id = $1`, b.council.ID)
	require.ErrorContains(t, err, "immutable")

	future := b.rateTable(time.Now().AddDate(1, 0, 0).Format("2006-01-02"), 11_700)
	require.False(t, future.InForce)
	r = b.do(http.MethodPatch, "/v1/rate-tables/"+future.Id.String(), tok, map[string]any{"taper_percent": 90, "dre_flat_weekly_pence": 1_085}, "If-Match", `"1"`)
	require.Equal(t, http.StatusOK, r.Status, string(r.Body))
	var changed api.RateTable
	r.decode(t, &changed)
	require.Equal(t, 90, changed.TaperPercent)
	r = b.do(http.MethodPatch, "/v1/rate-tables/"+future.Id.String(), tok, map[string]any{"valid_from": "2020-01-01"}, "If-Match", `"2"`)
	require.Equal(t, http.StatusConflict, r.Status, "no table comes into force retrospectively")

	dup := b.do(http.MethodPost, "/v1/rate-tables", tok, map[string]any{
		"name": "again", "valid_from": "2025-04-06", "capital": map[string]any{"lower_pence": 1, "upper_pence": 2},
		"tariff_step_pence": 1, "tariff_weekly_pence_per_step": 1, "mig": map[string]any{"base": []any{}},
		"minimum_weekly_charge_pence": 0, "taper_percent": 100})
	require.Equal(t, http.StatusConflict, dup.Status)
	require.Equal(t, "urn:pbudget:problem:rate-table-date-taken", dup.problem(t).Type)
}

func TestFullCostAndLightTouchAssessments(t *testing.T) {
	t.Parallel()
	b := setup(t)
	b.activeRAS("needs", 72_800)
	b.rateTable("2025-04-06", 11_250)
	rich := b.newPerson(map[string]any{"date_of_birth": "1995-03-01"})
	budgetID := b.budgetOf350(rich.Id.String())
	body := workedExample("2025-06-01")
	body["capital"] = []any{map[string]any{"type": "savings", "value_pence": 2_325_001}}
	fa := b.financial(rich.Id.String(), body)
	require.True(t, fa.Result.MustGet().FullCost, "a penny above the upper limit")
	v := b.budget(budgetID).Current
	require.Equal(t, int64(35_000), v.PersonWeeklyPence.MustGet())
	require.Equal(t, int64(0), v.CouncilWeeklyPence.MustGet())

	declines := b.newPerson(map[string]any{"date_of_birth": "1990-01-01"})
	budgetID = b.budgetOf350(declines.Id.String())
	incomplete := b.do(http.MethodPost, "/v1/people/"+declines.Id.String()+"/financial-assessments", b.token("finance"),
		map[string]any{"kind": "light_touch_full_cost", "effective_date": "2025-06-01"})
	var draft api.FinancialAssessment
	incomplete.decode(t, &draft)
	r := b.do(http.MethodPost, "/v1/financial-assessments/"+draft.Id.String()+"/complete", b.token("finance"), nil, "If-Match", `"1"`)
	require.Equal(t, "urn:pbudget:problem:financial-assessment-incomplete", r.problem(t).Type, "a light-touch assessment records its reason")
	b.financial(declines.Id.String(), map[string]any{"kind": "light_touch_full_cost", "effective_date": "2025-06-01",
		"light_touch_reason": "declined a full assessment; pays the full cost"})
	require.Equal(t, int64(35_000), b.budget(budgetID).Current.PersonWeeklyPence.MustGet())

	nil_ := b.newPerson(map[string]any{"date_of_birth": "1990-01-01"})
	budgetID = b.budgetOf350(nil_.Id.String())
	b.financial(nil_.Id.String(), map[string]any{"kind": "light_touch_nil", "effective_date": "2025-06-01",
		"light_touch_reason": "income is Pension Credit guarantee only"})
	v = b.budget(budgetID).Current
	require.Equal(t, int64(0), v.PersonWeeklyPence.MustGet())
	require.Equal(t, int64(35_000), v.CouncilWeeklyPence.MustGet())
}

func TestABudgetIssuedAfterTheFinancialAssessmentIsSplitAtOnce(t *testing.T) {
	t.Parallel()
	b := setup(t)
	b.activeRAS("needs", 72_800)
	b.rateTable("2025-04-06", 11_250)
	p := b.newPerson(map[string]any{"date_of_birth": "1995-03-01"})
	fa := b.financial(p.Id.String(), workedExample("2025-06-01"))
	require.Nil(t, fa.Result.MustGet().WeeklyCostPence, "no budget yet to cap against")
	v := b.budget(b.budgetOf350(p.Id.String())).Current
	require.Equal(t, int64(19_660), v.PersonWeeklyPence.MustGet())
	require.Equal(t, fa.Id, v.FinancialAssessmentId.MustGet())
}

func TestMissingMIGRatesAreNamedNotGuessed(t *testing.T) {
	t.Parallel()
	b := setup(t)
	b.rateTable("2025-04-06", 11_250)
	p := b.newPerson(map[string]any{"date_of_birth": "1950-03-01"}) // at pension credit age since 6 March 2010
	r := b.do(http.MethodPost, "/v1/people/"+p.Id.String()+"/financial-assessments", b.token("finance"), workedExample("2025-06-01"))
	var fa api.FinancialAssessment
	r.decode(t, &fa)
	before := b.counts()
	r = b.do(http.MethodPost, "/v1/financial-assessments/"+fa.Id.String()+"/complete", b.token("finance"), nil, "If-Match", `"1"`)
	require.Equal(t, http.StatusUnprocessableEntity, r.Status)
	require.Equal(t, "urn:pbudget:problem:mig-rate-missing", r.problem(t).Type)
	require.Contains(t, *r.problem(t).Detail, "pension_credit_age")
	require.Equal(t, before, b.counts())
}

func TestChargingRolesAndIsolation(t *testing.T) {
	t.Parallel()
	b := setup(t)
	table := b.rateTable("2025-04-06", 11_250)
	p := b.newPerson(map[string]any{"date_of_birth": "1995-03-01"})
	fa := b.financial(p.Id.String(), workedExample("2025-06-01"))
	r := b.do(http.MethodPost, "/v1/people/"+p.Id.String()+"/financial-assessments", b.token("practitioner"), workedExample("2025-06-01"))
	require.Equal(t, http.StatusForbidden, r.Status, "financial assessments are finance's")
	r = b.do(http.MethodPost, "/v1/rate-tables", b.token("approver"), map[string]any{})
	require.Equal(t, http.StatusForbidden, r.Status)
	require.Equal(t, http.StatusOK, b.do(http.MethodGet, "/v1/financial-assessments/"+fa.Id.String(), b.token("practitioner"), nil).Status)

	other := b.otherToken("finance", "auditor")
	for _, path := range []string{"/v1/financial-assessments/" + fa.Id.String(), "/v1/rate-tables/" + table.Id.String(),
		"/v1/people/" + p.Id.String() + "/financial-assessments"} {
		require.Equal(t, http.StatusNotFound, b.do(http.MethodGet, path, other, nil).Status, path)
	}
	require.Equal(t, http.StatusNotFound, b.do(http.MethodPost, "/v1/rate-tables/"+table.Id.String()+"/uprate", b.otherToken("finance"), nil).Status)
	require.Equal(t, http.StatusNotFound, b.do(http.MethodPost, "/v1/people/"+p.Id.String()+"/financial-assessments", b.otherToken("finance"), workedExample("2025-06-01")).Status)
}

// finishedJob polls an uprating job until it has completed or failed, and asserts it completed.
func (b *bundle) finishedJob(loc string) api.UpratingJob {
	b.t.Helper()
	var job api.UpratingJob
	require.Eventually(b.t, func() bool {
		b.do(http.MethodGet, loc, b.token("finance"), nil).decode(b.t, &job)
		return job.Status == "completed" || job.Status == "failed"
	}, 30*time.Second, 50*time.Millisecond)
	require.Equal(b.t, api.UpratingJobStatus("completed"), job.Status, job.Error)
	return job
}

func TestUpratingRecalculatesEveryCurrentAssessmentAndReportsTheChanges(t *testing.T) {
	t.Parallel()
	b := setup(t)
	b.activeRAS("needs", 72_800)
	b.rateTable("2025-04-06", 11_250)
	var people []string
	for range 3 {
		p := b.newPerson(map[string]any{"date_of_birth": "1995-03-01"})
		people = append(people, p.Id.String())
	}
	budgetID := b.budgetOf350(people[0])
	firsts := map[string]api.FinancialAssessment{}
	for _, p := range people {
		firsts[p] = b.financial(p, workedExample("2025-06-01"))
	}
	// One person's charge is nil either way: their report line shows no change.
	poor := workedExample("2025-06-01")
	poor["income"] = []any{map[string]any{"type": "other_benefit", "weekly_pence": 10_000}}
	firsts[people[2]] = b.financial(people[2], poor)

	uprated := b.rateTable("2026-04-06", 11_700)
	r := b.do(http.MethodPost, "/v1/rate-tables/"+uprated.Id.String()+"/uprate", b.token("finance"), nil)
	require.Equal(t, http.StatusAccepted, r.Status, string(r.Body))
	loc := r.Header.Get("Location")
	require.Contains(t, loc, "/v1/uprating-jobs/")
	dup := b.do(http.MethodPost, "/v1/rate-tables/"+uprated.Id.String()+"/uprate", b.token("finance"), nil)
	require.Contains(t, []int{http.StatusAccepted, http.StatusConflict}, dup.Status, "one open job per table")

	job := b.finishedJob(loc)
	require.Equal(t, 3, job.Total)
	require.Equal(t, 3, job.Processed)
	require.Equal(t, 2, job.Changed)

	var report api.UpratingChangeList
	b.do(http.MethodGet, loc+"/changes", b.token("auditor"), nil).decode(t, &report)
	require.Len(t, report.Items, 3)
	var changed api.UpratingChangeList
	b.do(http.MethodGet, loc+"/changes?changed_only=true", b.token("auditor"), nil).decode(t, &changed)
	require.Len(t, changed.Items, 2)
	for _, c := range changed.Items {
		require.Equal(t, int64(-450), c.DifferencePence.MustGet())
		require.Equal(t, int64(19_660), c.PreviousWeeklyChargePence)
	}

	// Old results are never altered: the earlier assessment is superseded, unchanged.
	var old api.FinancialAssessment
	b.do(http.MethodGet, "/v1/financial-assessments/"+firsts[people[0]].Id.String(), b.token("finance"), nil).decode(t, &old)
	require.Equal(t, api.FinancialAssessmentStatus("superseded"), old.Status)
	require.Equal(t, int64(19_660), old.Result.MustGet().AssessedWeeklyChargePence)
	pb := b.budget(budgetID)
	require.Equal(t, int64(19_210), pb.Current.PersonWeeklyPence.MustGet())
	require.Equal(t, int64(15_790), pb.Current.CouncilWeeklyPence.MustGet())
	require.Equal(t, uprated.Id, pb.Current.RateTableId.MustGet())

	// Run again: nothing is left under the old table.
	again := b.do(http.MethodPost, "/v1/rate-tables/"+uprated.Id.String()+"/uprate", b.token("finance"), nil)
	require.Equal(t, http.StatusAccepted, again.Status)
	job = b.finishedJob(again.Header.Get("Location"))
	require.Equal(t, 0, job.Total)
}

// daysFromToday is the date n days from today in England.
func daysFromToday(n int) string { return date.Today(time.Now()).AddDays(n).String() }

func TestAnAssessmentIsCompletedOnOrAfterItsEffectiveDate(t *testing.T) {
	t.Parallel()
	b := setup(t)
	b.rateTable("2025-04-06", 11_250)
	p := b.newPerson(map[string]any{"date_of_birth": "1995-03-01"})
	r := b.do(http.MethodPost, "/v1/people/"+p.Id.String()+"/financial-assessments", b.token("finance"), workedExample(daysFromToday(10)))
	require.Equal(t, http.StatusCreated, r.Status, string(r.Body))
	var fa api.FinancialAssessment
	r.decode(t, &fa)
	before := b.counts()
	r = b.do(http.MethodPost, "/v1/financial-assessments/"+fa.Id.String()+"/complete", b.token("finance"), nil, "If-Match", r.Header.Get("ETag"))
	require.Equal(t, http.StatusUnprocessableEntity, r.Status, string(r.Body))
	pr := r.problem(t)
	require.Equal(t, "urn:pbudget:problem:effective-date-in-future", pr.Type)
	require.Equal(t, "/effective_date", (*pr.Errors)[0].Field)
	require.Equal(t, before, b.counts(), "the budget's split is not changed ahead of time")
	b.financial(p.Id.String(), workedExample(daysFromToday(0))) // today is fine
}

func TestAnUpratingJobWaitsForItsTablesFirstDay(t *testing.T) {
	t.Parallel()
	b := setup(t)
	b.rateTable("2025-04-06", 11_250)
	p := b.newPerson(map[string]any{"date_of_birth": "1995-03-01"})
	b.financial(p.Id.String(), workedExample("2025-06-01"))
	next := b.rateTable(daysFromToday(40), 11_700)
	r := b.do(http.MethodPost, "/v1/rate-tables/"+next.Id.String()+"/uprate", b.token("finance"), nil)
	require.Equal(t, http.StatusAccepted, r.Status, string(r.Body))
	var waiting api.UpratingJob
	r.decode(t, &waiting)
	require.Equal(t, next.ValidFrom, waiting.StartsOn)

	// A job queued after it, for a table already in force, runs: the worker passed the first by.
	now := b.rateTable("2026-04-06", 11_700)
	r = b.do(http.MethodPost, "/v1/rate-tables/"+now.Id.String()+"/uprate", b.token("finance"), nil)
	require.Equal(t, http.StatusAccepted, r.Status, string(r.Body))
	ran := b.finishedJob(r.Header.Get("Location"))
	require.Equal(t, 1, ran.Processed)
	b.do(http.MethodGet, "/v1/uprating-jobs/"+waiting.Id.String(), b.token("finance"), nil).decode(t, &waiting)
	require.Equal(t, api.UpratingJobStatus("queued"), waiting.Status, "no charge changes before the new rates apply")
	require.Equal(t, next.ValidFrom, waiting.StartsOn)
	require.Equal(t, now.ValidFrom, ran.StartsOn)
	require.True(t, waiting.StartedAt.IsNull())
}

func TestUpratingNeverOverwritesANewerAssessment(t *testing.T) {
	t.Parallel()
	b := setup(t)
	b.rateTable("2025-04-06", 11_250)
	const n = 30
	drafts := make([]struct{ id, tag, person string }, n)
	for i := range drafts {
		p := b.newPerson(map[string]any{"date_of_birth": "1995-03-01"})
		b.financial(p.Id.String(), workedExample("2025-06-01"))
		newer := workedExample("2025-07-01") // still under the old table, so the job would take it on too
		newer["income"] = []any{map[string]any{"type": "other_benefit", "weekly_pence": 30_000}}
		r := b.do(http.MethodPost, "/v1/people/"+p.Id.String()+"/financial-assessments", b.token("finance"), newer)
		require.Equal(t, http.StatusCreated, r.Status, string(r.Body))
		var fa api.FinancialAssessment
		r.decode(t, &fa)
		drafts[i].id, drafts[i].tag, drafts[i].person = fa.Id.String(), r.Header.Get("ETag"), p.Id.String()
	}
	uprated := b.rateTable("2026-04-06", 11_700)
	r := b.do(http.MethodPost, "/v1/rate-tables/"+uprated.Id.String()+"/uprate", b.token("finance"), nil)
	require.Equal(t, http.StatusAccepted, r.Status, string(r.Body))
	loc := r.Header.Get("Location")
	// Newer assessments are completed while the job runs.
	done := make(chan int, n)
	for _, d := range drafts {
		go func() {
			done <- b.do(http.MethodPost, "/v1/financial-assessments/"+d.id+"/complete", b.token("finance"), nil, "If-Match", d.tag).Status
		}()
	}
	for range n {
		require.Equal(t, http.StatusOK, <-done)
	}
	job := b.finishedJob(loc)
	require.Equal(t, job.Total, job.Processed, "the total is recounted as assessments join or leave the job")

	for _, d := range drafts {
		var list api.FinancialAssessmentList
		b.do(http.MethodGet, "/v1/people/"+d.person+"/financial-assessments", b.token("finance"), nil).decode(t, &list)
		var current []api.FinancialAssessment
		for _, fa := range list.Items {
			if fa.Status == "completed" {
				current = append(current, fa)
			}
		}
		require.Len(t, current, 1)
		require.NotNil(t, current[0].Income)
		income := *current[0].Income
		require.Len(t, income, 1)
		require.Equal(t, int64(30_000), income[0].WeeklyPence, "the person's latest facts stand, whatever the job did")
	}
}
