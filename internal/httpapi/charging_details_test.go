package httpapi_test

import (
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/pbudget/pbudget/api"
)

// withPensionRow is the rateTable body's MIG with a pension credit age row (a test figure).
func withPensionRow(single25 int64) map[string]any {
	return map[string]any{
		"base": []any{
			map[string]any{"household": "single", "age_band": "age_18_24", "weekly_pence": 8_915},
			map[string]any{"household": "single", "age_band": "age_25_to_pension_credit_age", "weekly_pence": single25},
			map[string]any{"household": "single", "age_band": "pension_credit_age", "weekly_pence": 23_000},
		},
		"disability_premium_weekly_pence": 4_965, "enhanced_disability_premium_weekly_pence": 2_425,
	}
}

// draft creates a draft financial assessment and returns it with its ETag.
func (b *bundle) draft(personID string, body map[string]any) (api.FinancialAssessment, string) {
	b.t.Helper()
	r := b.do(http.MethodPost, "/v1/people/"+personID+"/financial-assessments", b.token("finance"), body)
	require.Equal(b.t, http.StatusCreated, r.Status, string(r.Body))
	var fa api.FinancialAssessment
	r.decode(b.t, &fa)
	return fa, r.Header.Get("ETag")
}

// lastEvent is the details of the latest audit event of an action on an entity.
func (b *bundle) lastEvent(entityID, action string) map[string]any {
	b.t.Helper()
	var events api.AuditEventList
	r := b.do(http.MethodGet, "/v1/audit-events?entity_id="+entityID+"&action="+action, b.token("auditor"), nil)
	require.Equal(b.t, http.StatusOK, r.Status, string(r.Body))
	r.decode(b.t, &events)
	require.NotEmpty(b.t, events.Items, action)
	return events.Items[len(events.Items)-1].Details
}

func stepNamed(t *testing.T, res api.ChargeResult, name string) api.CalculationStep {
	t.Helper()
	for _, s := range res.Steps {
		if s.Step == name {
			return s
		}
	}
	t.Fatalf("no step %q", name)
	return api.CalculationStep{}
}

func firstField(t *testing.T, r *resp) api.FieldError {
	t.Helper()
	p := r.problem(t)
	require.NotNil(t, p.Errors, string(r.Body))
	require.NotEmpty(t, *p.Errors)
	return (*p.Errors)[0]
}

func TestTheRoundingIsARateTableSettingUsedByTheCalculation(t *testing.T) {
	t.Parallel()
	b := setup(t)
	tok := b.token("finance")
	down := b.rateTable("2025-04-06", 11_250, "taper_percent", 50)
	require.Equal(t, api.ChargeRoundingDown, down.Rounding, "down unless the table says otherwise")

	before := b.counts()
	r := b.do(http.MethodPost, "/v1/rate-tables", tok, map[string]any{
		"name": "up", "valid_from": "2030-04-06", "capital": map[string]any{"lower_pence": 1, "upper_pence": 2},
		"tariff_step_pence": 1, "tariff_weekly_pence_per_step": 1, "mig": map[string]any{"base": []any{}},
		"minimum_weekly_charge_pence": 0, "taper_percent": 100, "rounding": "up"})
	require.Equal(t, http.StatusBadRequest, r.Status, string(r.Body))
	require.Equal(t, "/rounding", firstField(t, r).Field)
	require.Equal(t, before, b.counts())

	// A person with £196.61 available: half is £98.305.
	p := b.newPerson(map[string]any{"date_of_birth": "1995-03-01"})
	body := workedExample("2025-06-01")
	body["income"] = []any{map[string]any{"type": "other_benefit", "weekly_pence": 42_001}}
	fa := b.financial(p.Id.String(), body)
	res := fa.Result.MustGet()
	require.Equal(t, int64(9_830), res.AssessedWeeklyChargePence, "rounded down")
	require.Equal(t, api.ChargeRoundingDown, res.TaperRounding)
	require.Contains(t, stepNamed(t, res, "taper").Detail, "rounded down")

	future := time.Now().AddDate(1, 0, 0).Format("2006-01-02")
	nearest := b.rateTable(future, 11_250, "taper_percent", 50, "rounding", "nearest")
	require.Equal(t, api.ChargeRoundingNearest, nearest.Rounding)
	r = b.do(http.MethodPatch, "/v1/rate-tables/"+nearest.Id.String(), tok, map[string]any{"rounding": "down"}, "If-Match", `"1"`)
	require.Equal(t, http.StatusOK, r.Status, string(r.Body))
	var patched api.RateTable
	r.decode(t, &patched)
	require.Equal(t, api.ChargeRoundingDown, patched.Rounding)
	r = b.do(http.MethodPatch, "/v1/rate-tables/"+nearest.Id.String(), tok, map[string]any{"rounding": "half_even"}, "If-Match", `"2"`)
	require.Equal(t, http.StatusBadRequest, r.Status)
	r = b.do(http.MethodPatch, "/v1/rate-tables/"+down.Id.String(), tok, map[string]any{"rounding": "nearest"}, "If-Match", `"1"`)
	require.Equal(t, http.StatusConflict, r.Status, "a table in force keeps its rounding")
	require.Equal(t, "urn:pbudget:problem:rate-table-in-force", r.problem(t).Type)

	// A table rounding to the nearest penny, in force: the same person's charge rounds up.
	b.rateTable("2025-05-01", 11_250, "taper_percent", 50, "rounding", "nearest")
	fa = b.financial(p.Id.String(), body)
	res = fa.Result.MustGet()
	require.Equal(t, int64(9_831), res.AssessedWeeklyChargePence, "£98.305 to the nearest penny, halves up")
	require.Equal(t, api.ChargeRoundingNearest, res.TaperRounding)
	require.Contains(t, stepNamed(t, res, "taper").Detail, "nearest penny")
	details := b.lastEvent(fa.Id.String(), "financial_assessment.completed")
	require.Equal(t, "nearest", details["taper_rounding"])
	require.EqualValues(t, 9_831, details["assessed_weekly_charge_pence"])
}

func TestAPartialDisregardIsShownAsDisregardedIncome(t *testing.T) {
	t.Parallel()
	b := setup(t)
	b.activeRAS("needs", 72_800)
	b.rateTable("2025-04-06", 11_250)
	p := b.newPerson(map[string]any{"date_of_birth": "1995-03-01"})
	budgetID := b.budgetOf350(p.Id.String())
	body := workedExample("2025-06-01")
	body["income"] = []any{
		map[string]any{"type": "other_benefit", "weekly_pence": 42_000},
		map[string]any{"type": "attendance_allowance", "weekly_pence": 11_040, "disregarded_pence": 3_690,
			"disregard_reason": "  night-care part: no night care is provided  "},
	}
	fa := b.financial(p.Id.String(), body)
	income := *fa.Income
	require.Equal(t, int64(3_690), *income[1].DisregardedPence)
	require.Equal(t, "night-care part: no night care is provided", *income[1].DisregardReason, "trimmed")
	res := fa.Result.MustGet()
	require.Equal(t, int64(3_690), res.IncomeDisregardedWeeklyPence)
	require.Equal(t, int64(42_000+11_040-3_690), res.IncomeCountedWeeklyPence)
	require.Equal(t, int64(0), res.OtherAllowancesWeeklyPence, "a disregard is not an allowance")
	require.Equal(t, int64(19_660+7_350), res.AvailableWeeklyPence)
	s := stepNamed(t, res, "income_disregarded")
	require.Equal(t, int64(3_690), *s.Value)
	require.Contains(t, s.Detail, "no night care")
	require.Equal(t, int64(27_010), b.budget(budgetID).Current.PersonWeeklyPence.MustGet())
	require.EqualValues(t, 3_690, b.lastEvent(fa.Id.String(), "financial_assessment.completed")["income_disregarded_weekly_pence"])

	item := func(fields ...any) map[string]any {
		return with(workedExample("2025-06-01"), "income", []any{with(map[string]any{"type": "attendance_allowance", "weekly_pence": 11_040}, fields...)})
	}
	tests := []struct {
		name   string
		body   map[string]any
		status int
		typ    string
		field  string
	}{
		{"more than the item", item("disregarded_pence", 11_041, "disregard_reason", "night care"), 422, "income-disregard-invalid", "/income/0/disregarded_pence"},
		{"without a reason", item("disregarded_pence", 100), 422, "income-disregard-invalid", "/income/0/disregard_reason"},
		{"a blank reason", item("disregarded_pence", 100, "disregard_reason", " \t "), 422, "income-disregard-invalid", "/income/0/disregard_reason"},
		{"a reason without a disregard", item("disregard_reason", "night care"), 422, "income-disregard-invalid", "/income/0/disregard_reason"},
		{"above the schema's maximum", item("disregarded_pence", 100_000_001, "disregard_reason", "x"), 400, "", "/income/0/disregarded_pence"},
		{"negative", item("disregarded_pence", -1, "disregard_reason", "x"), 400, "", "/income/0/disregarded_pence"},
		{"an overlong reason", item("disregarded_pence", 1, "disregard_reason", strings.Repeat("x", 2_001)), 400, "", "/income/0/disregard_reason"},
	}
	for _, tt := range tests {
		before := b.counts()
		r := b.do(http.MethodPost, "/v1/people/"+p.Id.String()+"/financial-assessments", b.token("finance"), tt.body)
		require.Equal(t, tt.status, r.Status, tt.name+": "+string(r.Body))
		if tt.typ != "" {
			require.Equal(t, "urn:pbudget:problem:"+tt.typ, r.problem(t).Type, tt.name)
		}
		require.Equal(t, tt.field, firstField(t, r).Field, tt.name)
		require.Equal(t, before, b.counts(), tt.name+": nothing changed")
	}

	draft, tag := b.draft(p.Id.String(), workedExample("2025-06-01"))
	r := b.do(http.MethodPatch, "/v1/financial-assessments/"+draft.Id.String(), b.token("finance"),
		map[string]any{"income": []any{map[string]any{"type": "pip_daily_living", "weekly_pence": 7_390, "disregarded_pence": 7_391, "disregard_reason": "x"}}},
		"If-Match", tag)
	require.Equal(t, http.StatusUnprocessableEntity, r.Status, string(r.Body))
	require.Equal(t, "/income/0/disregarded_pence", firstField(t, r).Field)
	r = b.do(http.MethodGet, "/v1/financial-assessments/"+draft.Id.String(), b.token("finance"), nil)
	require.Equal(t, tag, r.Header.Get("ETag"), "the refused patch changed nothing")
}

func TestPensionCreditAgeIsDerivedFromTheDateOfBirth(t *testing.T) {
	t.Parallel()
	b := setup(t)
	b.rateTable("2025-04-06", 11_250, "mig", withPensionRow(11_250))

	// The case of the issue: a 75-year-old, whom the old flag could put on the working-age MIG.
	old := b.newPerson(map[string]any{"date_of_birth": "1950-01-01"})
	before := b.counts()
	r := b.do(http.MethodPost, "/v1/people/"+old.Id.String()+"/financial-assessments", b.token("finance"),
		with(workedExample("2025-06-01"), "pension_credit_age_reached", false))
	require.Equal(t, http.StatusBadRequest, r.Status, "the flag is no longer sent: "+string(r.Body))
	require.Equal(t, "/pension_credit_age_reached", firstField(t, r).Field)
	require.Equal(t, before, b.counts())

	draft, _ := b.draft(old.Id.String(), workedExample("2025-06-01"))
	pa := draft.PensionCreditAge.MustGet()
	require.Equal(t, "2010-01-01", pa.QualifyingDate.String(), "60 for a woman born before 6 April 1950, whatever the sex")
	require.True(t, pa.ReachedByDateOfBirth)
	require.True(t, pa.Reached)
	require.False(t, pa.Overridden)
	require.True(t, pa.OverrideReason.IsNull())
	fa := b.financial(old.Id.String(), workedExample("2025-06-01"))
	res := fa.Result.MustGet()
	require.Equal(t, int64(23_000+4_965+2_425), res.MigWeeklyPence, "the pension credit age row")
	require.True(t, res.PensionCreditAge.Reached)
	require.True(t, fa.PensionCreditAge.MustGet().Reached)
	details := b.lastEvent(fa.Id.String(), "financial_assessment.completed")
	require.Equal(t, true, details["pension_credit_age_reached"])
	require.Equal(t, true, details["pension_credit_age_by_date_of_birth"])
	require.EqualValues(t, 30_390, details["mig_weekly_pence"])

	// Born 10 June 1959: 66 on 10 June 2025. The day before and the day of.
	p := b.newPerson(map[string]any{"date_of_birth": "1959-06-10"})
	fa = b.financial(p.Id.String(), workedExample("2025-06-09"))
	require.Equal(t, int64(11_250+4_965+2_425), fa.Result.MustGet().MigWeeklyPence, "the day before")
	require.Equal(t, "2025-06-10", fa.PensionCreditAge.MustGet().QualifyingDate.String())
	require.False(t, fa.PensionCreditAge.MustGet().Reached)
	fa = b.financial(p.Id.String(), workedExample("2025-06-10"))
	require.Equal(t, int64(23_000+4_965+2_425), fa.Result.MustGet().MigWeeklyPence, "the day of")

	// A draft shows the date of birth as it is now.
	young := b.newPerson(map[string]any{"date_of_birth": "1980-05-17"})
	draft, _ = b.draft(young.Id.String(), workedExample("2025-06-01"))
	require.Equal(t, "2048-05-17", draft.PensionCreditAge.MustGet().QualifyingDate.String())
	r = b.do(http.MethodPatch, "/v1/people/"+young.Id.String(), b.token("practitioner"), map[string]any{"date_of_birth": "1955-05-17"}, "If-Match", `"1"`)
	require.Equal(t, http.StatusOK, r.Status, string(r.Body))
	var again api.FinancialAssessment
	b.do(http.MethodGet, "/v1/financial-assessments/"+draft.Id.String(), b.token("finance"), nil).decode(t, &again)
	require.Equal(t, "2021-05-17", again.PensionCreditAge.MustGet().QualifyingDate.String())
	require.True(t, again.PensionCreditAge.MustGet().Reached)
}

func TestAPensionAgeOverrideNeedsAReasonAndIsRecorded(t *testing.T) {
	t.Parallel()
	b := setup(t)
	b.rateTable("2025-04-06", 11_250, "mig", withPensionRow(11_250))
	p := b.newPerson(map[string]any{"date_of_birth": "1950-01-01"})
	tok := b.token("finance")

	before := b.counts()
	r := b.do(http.MethodPost, "/v1/people/"+p.Id.String()+"/financial-assessments", tok,
		with(workedExample("2025-06-01"), "pension_credit_age_override", false))
	require.Equal(t, http.StatusUnprocessableEntity, r.Status, string(r.Body))
	require.Equal(t, "urn:pbudget:problem:pension-age-override-invalid", r.problem(t).Type)
	require.Equal(t, "/pension_credit_age_override_reason", firstField(t, r).Field)
	require.Equal(t, before, b.counts(), "nothing changed")
	r = b.do(http.MethodPost, "/v1/people/"+p.Id.String()+"/financial-assessments", tok,
		with(workedExample("2025-06-01"), "pension_credit_age_override_reason", "no override"))
	require.Equal(t, http.StatusUnprocessableEntity, r.Status)
	require.Equal(t, "without_override", firstField(t, r).Code)
	r = b.do(http.MethodPost, "/v1/people/"+p.Id.String()+"/financial-assessments", tok,
		with(workedExample("2025-06-01"), "pension_credit_age_override", true, "pension_credit_age_override_reason", strings.Repeat("x", 2_001)))
	require.Equal(t, http.StatusBadRequest, r.Status)

	draft, tag := b.draft(p.Id.String(), workedExample("2025-06-01"))
	path := "/v1/financial-assessments/" + draft.Id.String()
	r = b.do(http.MethodPatch, path, tok, map[string]any{"pension_credit_age_override": false, "pension_credit_age_override_reason": "   "}, "If-Match", tag)
	require.Equal(t, http.StatusUnprocessableEntity, r.Status, "a blank reason is no reason")
	const reason = "the date of birth on file is being corrected with DWP"
	r = b.do(http.MethodPatch, path, tok, map[string]any{"pension_credit_age_override": false, "pension_credit_age_override_reason": reason}, "If-Match", tag)
	require.Equal(t, http.StatusOK, r.Status, string(r.Body))
	var fa api.FinancialAssessment
	r.decode(t, &fa)
	require.False(t, fa.PensionCreditAgeOverride.MustGet())
	require.Equal(t, reason, fa.PensionCreditAgeOverrideReason.MustGet())
	pa := fa.PensionCreditAge.MustGet()
	require.True(t, pa.ReachedByDateOfBirth)
	require.False(t, pa.Reached, "the override decides")
	require.Equal(t, reason, pa.OverrideReason.MustGet())
	patched := b.lastEvent(fa.Id.String(), "financial_assessment.updated")
	require.Equal(t, false, patched["pension_credit_age_override"])
	require.Equal(t, reason, patched["pension_credit_age_override_reason"])

	r = b.do(http.MethodPost, path+"/complete", tok, nil, "If-Match", r.Header.Get("ETag"))
	require.Equal(t, http.StatusOK, r.Status, string(r.Body))
	r.decode(t, &fa)
	res := fa.Result.MustGet()
	require.Equal(t, int64(11_250+4_965+2_425), res.MigWeeklyPence, "the working-age row, as overridden")
	require.True(t, res.PensionCreditAge.Overridden)
	require.Contains(t, stepNamed(t, res, "pension_credit_age").Detail, reason)
	details := b.lastEvent(fa.Id.String(), "financial_assessment.completed")
	require.Equal(t, reason, details["pension_credit_age_override_reason"])
	require.Equal(t, false, details["pension_credit_age_reached"])
	require.Equal(t, true, details["pension_credit_age_by_date_of_birth"])
	require.EqualValues(t, 18_640, details["mig_weekly_pence"])

	// null removes the override and its reason.
	other, tag := b.draft(p.Id.String(), with(workedExample("2025-06-01"), "pension_credit_age_override", true, "pension_credit_age_override_reason", "evidence seen"))
	r = b.do(http.MethodPatch, "/v1/financial-assessments/"+other.Id.String(), tok, map[string]any{"pension_credit_age_override": nil}, "If-Match", tag)
	require.Equal(t, http.StatusOK, r.Status, string(r.Body))
	r.decode(t, &other)
	require.True(t, other.PensionCreditAgeOverride.IsNull())
	require.True(t, other.PensionCreditAgeOverrideReason.IsNull())
	require.False(t, other.PensionCreditAge.MustGet().Overridden)
}

func TestUpratingKeepsOverridesAndDisregardsAndUsesTheNewTablesRounding(t *testing.T) {
	t.Parallel()
	b := setup(t)
	b.rateTable("2025-04-06", 11_250, "mig", withPensionRow(11_250))
	p := b.newPerson(map[string]any{"date_of_birth": "1950-01-01"})
	body := with(workedExample("2025-06-01"), "pension_credit_age_override", false, "pension_credit_age_override_reason", "awaiting DWP",
		"income", []any{
			map[string]any{"type": "other_benefit", "weekly_pence": 42_001},
			map[string]any{"type": "attendance_allowance", "weekly_pence": 11_040, "disregarded_pence": 11_040, "disregard_reason": "no night care"},
		})
	first := b.financial(p.Id.String(), body)
	require.Equal(t, int64(19_661), first.Result.MustGet().AssessedWeeklyChargePence)

	uprated := b.rateTable("2026-04-06", 11_700, "mig", withPensionRow(11_700), "taper_percent", 50, "rounding", "nearest")
	r := b.do(http.MethodPost, "/v1/rate-tables/"+uprated.Id.String()+"/uprate", b.token("finance"), nil)
	require.Equal(t, http.StatusAccepted, r.Status, string(r.Body))
	job := b.finishedJob(r.Header.Get("Location"))
	require.Equal(t, 1, job.Processed)
	var report api.UpratingChangeList
	b.do(http.MethodGet, r.Header.Get("Location")+"/changes", b.token("finance"), nil).decode(t, &report)
	require.Len(t, report.Items, 1)
	var next api.FinancialAssessment
	b.do(http.MethodGet, "/v1/financial-assessments/"+report.Items[0].NewAssessmentId.MustGet().String(), b.token("finance"), nil).decode(t, &next)
	res := next.Result.MustGet()
	require.Equal(t, int64(11_700+4_965+2_425), res.MigWeeklyPence, "the override carried over: the working-age row")
	require.Equal(t, "awaiting DWP", next.PensionCreditAgeOverrideReason.MustGet())
	require.Equal(t, int64(11_040), res.IncomeDisregardedWeeklyPence, "the disregard carried over")
	require.Equal(t, api.ChargeRoundingNearest, res.TaperRounding)
	require.Equal(t, int64(9_606), res.AssessedWeeklyChargePence, "(£196.61 − £4.50) × 50% = £96.055 → £96.06")
}
