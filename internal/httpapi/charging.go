package httpapi

import (
	"context"
	"strconv"
	"strings"

	"github.com/oapi-codegen/nullable"

	"github.com/pbudget/pbudget/api"
	"github.com/pbudget/pbudget/internal/actor"
	"github.com/pbudget/pbudget/internal/charging"
	"github.com/pbudget/pbudget/internal/date"
	"github.com/pbudget/pbudget/internal/page"
)

// CreateRateTable implements api.StrictServerInterface.
func (s *Server) CreateRateTable(ctx context.Context, req api.CreateRateTableRequestObject) (api.CreateRateTableResponseObject, error) {
	a, err := mustActor(actor.From(ctx))
	if err != nil {
		return nil, err
	}
	t, err := RateTableInput(*req.Body)
	if err != nil {
		return nil, err
	}
	t, err = s.charging.CreateTable(ctx, a, t)
	if err != nil {
		return nil, err
	}
	loc := "/v1/rate-tables/" + t.ID.String()
	return api.CreateRateTable201JSONResponse{Body: s.rateTableOut(t), Headers: api.CreateRateTable201ResponseHeaders{ETag: etag(t.Version), Location: &loc}}, nil
}

// GetRateTable implements api.StrictServerInterface.
func (s *Server) GetRateTable(ctx context.Context, req api.GetRateTableRequestObject) (api.GetRateTableResponseObject, error) {
	a, err := mustActor(actor.From(ctx))
	if err != nil {
		return nil, err
	}
	t, err := s.charging.GetTable(ctx, a, req.RateTableId)
	if err != nil {
		return nil, err
	}
	return api.GetRateTable200JSONResponse{Body: s.rateTableOut(t), Headers: api.GetRateTable200ResponseHeaders{ETag: etag(t.Version)}}, nil
}

// ListRateTables implements api.StrictServerInterface.
func (s *Server) ListRateTables(ctx context.Context, req api.ListRateTablesRequestObject) (api.ListRateTablesResponseObject, error) {
	a, err := mustActor(actor.From(ctx))
	if err != nil {
		return nil, err
	}
	var on *date.Date
	key := ""
	if req.Params.InForceOn != nil {
		d := dateOf(*req.Params.InForceOn)
		on, key = &d, d.String()
	}
	fp := page.Fingerprint("rate-tables", key)
	pr, err := page.Parse(req.Params.PageSize, req.Params.PageToken, fp)
	if err != nil {
		return nil, err
	}
	list, err := s.charging.ListTables(ctx, a, on, pr)
	if err != nil {
		return nil, err
	}
	items, next := pageOf(list, pr, fp, charging.RateTable.Cursor, s.rateTableOut)
	return api.ListRateTables200JSONResponse{Body: api.RateTableList{Items: items, NextPageToken: next}}, nil
}

// UpdateRateTable implements api.StrictServerInterface.
func (s *Server) UpdateRateTable(ctx context.Context, req api.UpdateRateTableRequestObject) (api.UpdateRateTableResponseObject, error) {
	a, version, err := actorAndVersion(ctx, req.Params.IfMatch)
	if err != nil {
		return nil, err
	}
	b := patchBody(req.JSONBody, req.ApplicationMergePatchPlusJSONBody)
	var migErr error
	t, err := s.charging.UpdateTable(ctx, a, req.RateTableId, version, func(t *charging.RateTable) {
		if b.Name != nil {
			t.Name = *b.Name
		}
		if b.ValidFrom != nil {
			t.ValidFrom = dateOf(*b.ValidFrom)
		}
		if b.Capital != nil {
			t.Capital = charging.CapitalLimits{Lower: b.Capital.LowerPence, Upper: b.Capital.UpperPence}
		}
		if b.CareAtHomeCapital.IsSpecified() {
			t.CareAtHomeCapital = nil
			if c, err := b.CareAtHomeCapital.Get(); err == nil {
				t.CareAtHomeCapital = &charging.CapitalLimits{Lower: c.LowerPence, Upper: c.UpperPence}
			}
		}
		if b.TariffStepPence != nil {
			t.TariffStep = *b.TariffStepPence
		}
		if b.TariffWeeklyPencePerStep != nil {
			t.TariffPerStep = *b.TariffWeeklyPencePerStep
		}
		if b.Mig != nil {
			migErr = sameShape(b.Mig, &t.MIG)
		}
		setNullable(&t.DREFlat, b.DreFlatWeeklyPence)
		setNullable(&t.PersonalExpenses, b.PersonalExpensesAllowanceWeeklyPence)
		if b.MinimumWeeklyChargePence != nil {
			t.MinimumCharge = *b.MinimumWeeklyChargePence
		}
		if b.TaperPercent != nil {
			t.TaperPercent = *b.TaperPercent
		}
		if b.Rounding != nil {
			t.Rounding = charging.Rounding(*b.Rounding)
		}
	})
	if err == nil {
		err = migErr
	}
	if err != nil {
		return nil, err
	}
	return api.UpdateRateTable200JSONResponse{Body: s.rateTableOut(t), Headers: api.UpdateRateTable200ResponseHeaders{ETag: etag(t.Version)}}, nil
}

func setNullable[T any](dst **T, n nullable.Nullable[T]) {
	if !n.IsSpecified() {
		return
	}
	*dst = nil
	if v, err := n.Get(); err == nil {
		*dst = &v
	}
}

func (s *Server) rateTableOut(t charging.RateTable) api.RateTable {
	out := api.RateTable{
		Id: t.ID, Name: t.Name, ValidFrom: dateOut(t.ValidFrom), InForce: t.InForce(s.charging.Today()),
		Capital: api.CapitalLimits{LowerPence: t.Capital.Lower, UpperPence: t.Capital.Upper}, TariffStepPence: t.TariffStep,
		TariffWeeklyPencePerStep: t.TariffPerStep, DreFlatWeeklyPence: nullableOf(t.DREFlat), MinimumWeeklyChargePence: t.MinimumCharge,
		TaperPercent: t.TaperPercent, Rounding: api.ChargeRounding(t.Rounding), PersonalExpensesAllowanceWeeklyPence: nullableOf(t.PersonalExpenses),
		CareAtHomeCapital: nullable.NewNullNullable[api.CapitalLimits](), Version: t.Version, CreatedAt: t.CreatedAt, UpdatedAt: t.UpdatedAt,
	}
	if c := t.CareAtHomeCapital; c != nil {
		out.CareAtHomeCapital = nullable.NewNullableWithValue(api.CapitalLimits{LowerPence: c.Lower, UpperPence: c.Upper})
	}
	_ = sameShape(t.MIG, &out.Mig)
	return out
}

// UprateRateTable implements api.StrictServerInterface.
func (s *Server) UprateRateTable(ctx context.Context, req api.UprateRateTableRequestObject) (api.UprateRateTableResponseObject, error) {
	a, err := mustActor(actor.From(ctx))
	if err != nil {
		return nil, err
	}
	j, err := s.charging.StartUprating(ctx, a, req.RateTableId)
	if err != nil {
		return nil, err
	}
	loc := "/v1/uprating-jobs/" + j.ID.String()
	return api.UprateRateTable202JSONResponse{Body: jobOut(j), Headers: api.UprateRateTable202ResponseHeaders{Location: &loc}}, nil
}

// GetUpratingJob implements api.StrictServerInterface.
func (s *Server) GetUpratingJob(ctx context.Context, req api.GetUpratingJobRequestObject) (api.GetUpratingJobResponseObject, error) {
	a, err := mustActor(actor.From(ctx))
	if err != nil {
		return nil, err
	}
	j, err := s.charging.GetJob(ctx, a, req.JobId)
	if err != nil {
		return nil, err
	}
	return api.GetUpratingJob200JSONResponse{Body: jobOut(j)}, nil
}

// ListUpratingChanges implements api.StrictServerInterface.
func (s *Server) ListUpratingChanges(ctx context.Context, req api.ListUpratingChangesRequestObject) (api.ListUpratingChangesResponseObject, error) {
	a, err := mustActor(actor.From(ctx))
	if err != nil {
		return nil, err
	}
	changedOnly := req.Params.ChangedOnly != nil && *req.Params.ChangedOnly
	fp := page.Fingerprint("uprating-changes", req.JobId.String(), strconv.FormatBool(changedOnly))
	pr, err := page.Parse(req.Params.PageSize, req.Params.PageToken, fp)
	if err != nil {
		return nil, err
	}
	list, err := s.charging.ListChanges(ctx, a, req.JobId, changedOnly, pr)
	if err != nil {
		return nil, err
	}
	items, next := pageOf(list, pr, fp, charging.Change.Cursor, func(c charging.Change) api.UpratingChange {
		out := api.UpratingChange{
			PersonId: c.PersonID, PreviousAssessmentId: c.PreviousAssessmentID, NewAssessmentId: nullableOf(c.NewAssessmentID),
			PreviousWeeklyChargePence: c.PreviousWeekly, NewWeeklyChargePence: nullableOf(c.NewWeekly),
			BudgetId: nullableOf(c.BudgetID), Error: nullableOf(c.Error), DifferencePence: nullable.NewNullNullable[int64](),
		}
		if c.NewWeekly != nil {
			out.DifferencePence = nullable.NewNullableWithValue(*c.NewWeekly - c.PreviousWeekly)
		}
		return out
	})
	return api.ListUpratingChanges200JSONResponse{Body: api.UpratingChangeList{Items: items, NextPageToken: next}}, nil
}

func jobOut(j charging.Job) api.UpratingJob {
	return api.UpratingJob{
		Id: j.ID, RateTableId: j.RateTableID, Status: api.UpratingJobStatus(j.Status), StartsOn: dateOut(j.StartsOn), Total: j.Total, Processed: j.Processed,
		Changed: j.Changed, RequestedBy: j.RequestedBy, RequestedAt: j.RequestedAt, StartedAt: nullableOf(j.StartedAt),
		FinishedAt: nullableOf(j.FinishedAt), Error: nullableOf(j.Error),
	}
}

// CreateFinancialAssessment implements api.StrictServerInterface.
func (s *Server) CreateFinancialAssessment(ctx context.Context, req api.CreateFinancialAssessmentRequestObject) (api.CreateFinancialAssessmentResponseObject, error) {
	a, err := mustActor(actor.From(ctx))
	if err != nil {
		return nil, err
	}
	b := req.Body
	var f charging.Facts
	financialPatch(api.FinancialAssessmentPatch{
		EffectiveDate: &b.EffectiveDate, Household: b.Household,
		PensionCreditAgeOverride: b.PensionCreditAgeOverride, PensionCreditAgeOverrideReason: b.PensionCreditAgeOverrideReason,
		DisabilityPremium: b.DisabilityPremium, EnhancedDisabilityPremium: b.EnhancedDisabilityPremium, CarerPremium: b.CarerPremium,
		DependentChildren: b.DependentChildren, Income: b.Income, Capital: b.Capital, HousingCostsWeeklyPence: b.HousingCostsWeeklyPence,
		DreMethod: (*api.FinancialAssessmentPatchDreMethod)(b.DreMethod), Dre: b.Dre, OtherAllowances: b.OtherAllowances,
		LightTouchReason: b.LightTouchReason, Notes: b.Notes,
	})(&f)
	fa, err := s.charging.CreateAssessment(ctx, a, req.PersonId, charging.Kind(b.Kind), f)
	if err != nil {
		return nil, err
	}
	loc := "/v1/financial-assessments/" + fa.ID.String()
	return api.CreateFinancialAssessment201JSONResponse{Body: financialOut(fa), Headers: api.CreateFinancialAssessment201ResponseHeaders{ETag: etag(fa.Version), Location: &loc}}, nil
}

// GetFinancialAssessment implements api.StrictServerInterface.
func (s *Server) GetFinancialAssessment(ctx context.Context, req api.GetFinancialAssessmentRequestObject) (api.GetFinancialAssessmentResponseObject, error) {
	a, err := mustActor(actor.From(ctx))
	if err != nil {
		return nil, err
	}
	fa, err := s.charging.GetAssessment(ctx, a, req.FinancialAssessmentId)
	if err != nil {
		return nil, err
	}
	return api.GetFinancialAssessment200JSONResponse{Body: financialOut(fa), Headers: api.GetFinancialAssessment200ResponseHeaders{ETag: etag(fa.Version)}}, nil
}

// ListPersonFinancialAssessments implements api.StrictServerInterface.
func (s *Server) ListPersonFinancialAssessments(ctx context.Context, req api.ListPersonFinancialAssessmentsRequestObject) (api.ListPersonFinancialAssessmentsResponseObject, error) {
	a, err := mustActor(actor.From(ctx))
	if err != nil {
		return nil, err
	}
	fp := page.Fingerprint("financial-assessments", req.PersonId.String())
	pr, err := page.Parse(req.Params.PageSize, req.Params.PageToken, fp)
	if err != nil {
		return nil, err
	}
	list, err := s.charging.ListAssessments(ctx, a, req.PersonId, pr)
	if err != nil {
		return nil, err
	}
	items, next := pageOf(list, pr, fp, charging.Assessment.Cursor, financialOut)
	return api.ListPersonFinancialAssessments200JSONResponse{Body: api.FinancialAssessmentList{Items: items, NextPageToken: next}}, nil
}

// UpdateFinancialAssessment implements api.StrictServerInterface.
func (s *Server) UpdateFinancialAssessment(ctx context.Context, req api.UpdateFinancialAssessmentRequestObject) (api.UpdateFinancialAssessmentResponseObject, error) {
	a, version, err := actorAndVersion(ctx, req.Params.IfMatch)
	if err != nil {
		return nil, err
	}
	fa, err := s.charging.UpdateAssessment(ctx, a, req.FinancialAssessmentId, version, jsonFields(patchBody(req.JSONBody, req.ApplicationMergePatchPlusJSONBody)), financialPatch(*patchBody(req.JSONBody, req.ApplicationMergePatchPlusJSONBody)))
	if err != nil {
		return nil, err
	}
	return api.UpdateFinancialAssessment200JSONResponse{Body: financialOut(fa), Headers: api.UpdateFinancialAssessment200ResponseHeaders{ETag: etag(fa.Version)}}, nil
}

// CompleteFinancialAssessment implements api.StrictServerInterface.
func (s *Server) CompleteFinancialAssessment(ctx context.Context, req api.CompleteFinancialAssessmentRequestObject) (api.CompleteFinancialAssessmentResponseObject, error) {
	a, version, err := actorAndVersion(ctx, req.Params.IfMatch)
	if err != nil {
		return nil, err
	}
	fa, err := s.charging.CompleteAssessment(ctx, a, req.FinancialAssessmentId, version)
	if err != nil {
		return nil, err
	}
	return api.CompleteFinancialAssessment200JSONResponse{Body: financialOut(fa), Headers: api.CompleteFinancialAssessment200ResponseHeaders{ETag: etag(fa.Version)}}, nil
}

// financialPatch returns a function applying the fields the patch sets.
func financialPatch(b api.FinancialAssessmentPatch) func(*charging.Facts) {
	return func(f *charging.Facts) {
		if b.EffectiveDate != nil {
			f.EffectiveDate = dateOf(*b.EffectiveDate)
		}
		if b.Household != nil {
			f.Household = charging.Household(*b.Household)
		}
		if b.PensionCreditAgeOverride.IsSpecified() {
			f.PensionAgeOverride = nil
			if v, err := b.PensionCreditAgeOverride.Get(); err == nil {
				f.PensionAgeOverride = &v
			} else {
				f.PensionAgeOverrideReason = "" // null removes the override with its reason
			}
		}
		if b.PensionCreditAgeOverrideReason.IsSpecified() {
			f.PensionAgeOverrideReason, _ = b.PensionCreditAgeOverrideReason.Get()
		}
		for _, flag := range []struct {
			dst *bool
			v   *bool
		}{{&f.DisabilityPremium, b.DisabilityPremium}, {&f.EnhancedDisabilityPremium, b.EnhancedDisabilityPremium}, {&f.CarerPremium, b.CarerPremium}} {
			if flag.v != nil {
				*flag.dst = *flag.v
			}
		}
		if b.DependentChildren != nil {
			f.DependentChildren = *b.DependentChildren
		}
		if b.HousingCostsWeeklyPence != nil {
			f.HousingCosts = *b.HousingCostsWeeklyPence
		}
		if b.DreMethod != nil {
			f.DREMethod = string(*b.DreMethod)
		}
		if b.LightTouchReason != nil {
			f.LightTouchReason = strings.TrimSpace(*b.LightTouchReason)
		}
		if b.Notes != nil {
			f.Notes = *b.Notes
		}
		if b.Income != nil {
			_ = sameShape(*b.Income, &f.Income)
		}
		if b.Capital != nil {
			_ = sameShape(*b.Capital, &f.Capital)
		}
		if b.Dre != nil {
			_ = sameShape(*b.Dre, &f.DRE)
		}
		if b.OtherAllowances != nil {
			_ = sameShape(*b.OtherAllowances, &f.OtherAllowances)
		}
	}
}

// jsonFields names the fields a request body sets, for the audit trail.
func jsonFields(body any) []string {
	var m map[string]any
	if sameShape(body, &m) != nil {
		return nil
	}
	out := make([]string, 0, len(m))
	for k := range m {
		out = append(out, k)
	}
	return sortedStrings(out)
}

func financialOut(fa charging.Assessment) api.FinancialAssessment {
	f := fa.Facts
	out := api.FinancialAssessment{
		Id: fa.ID, PersonId: fa.PersonID, Kind: api.FinancialAssessmentKind(fa.Kind), Status: api.FinancialAssessmentStatus(fa.Status),
		EffectiveDate: dateOut(f.EffectiveDate), PensionCreditAge: nullable.NewNullNullable[api.PensionCreditAge](),
		PensionCreditAgeOverride: nullableOf(f.PensionAgeOverride), PensionCreditAgeOverrideReason: nullableOf(nonEmpty(f.PensionAgeOverrideReason)),
		DisabilityPremium: &f.DisabilityPremium, EnhancedDisabilityPremium: &f.EnhancedDisabilityPremium, CarerPremium: &f.CarerPremium,
		DependentChildren: &f.DependentChildren, HousingCostsWeeklyPence: &f.HousingCosts, LightTouchReason: nonEmpty(f.LightTouchReason),
		Notes: nonEmpty(f.Notes), SupersedesId: nullableOf(fa.SupersedesID), ChangeReason: nullableOf(nonEmpty(fa.ChangeReason)),
		CompletedAt: nullableOf(fa.CompletedAt), CompletedBy: nullableOf(fa.CompletedBy), Result: nullable.NewNullNullable[api.ChargeResult](),
		Version: fa.Version, CreatedAt: fa.CreatedAt, UpdatedAt: fa.UpdatedAt,
	}
	if f.Household != "" {
		h := api.Household(f.Household)
		out.Household = &h
	}
	if f.DREMethod != "" {
		m := api.FinancialAssessmentDreMethod(f.DREMethod)
		out.DreMethod = &m
	}
	for _, list := range []struct {
		from any
		to   any
	}{{nonNil(f.Income), &out.Income}, {nonNil(f.Capital), &out.Capital}, {nonNil(f.DRE), &out.Dre}, {nonNil(f.OtherAllowances), &out.OtherAllowances}} {
		_ = sameShape(list.from, list.to)
	}
	if fa.PensionAge != nil {
		out.PensionCreditAge = nullable.NewNullableWithValue(pensionAgeOut(*fa.PensionAge))
	}
	if fa.Result != nil {
		var r api.ChargeResult
		_ = sameShape(fa.Result, &r)
		r.MigParts, r.Steps = nonNil(r.MigParts), nonNil(r.Steps)
		if r.TaperRounding == "" {
			r.TaperRounding = api.ChargeRoundingDown // results from before roundings were all rounded down
		}
		r.PensionCreditAge = nil
		if pa := fa.Result.PensionAge; pa != nil {
			v := pensionAgeOut(*pa)
			r.PensionCreditAge = &v
		}
		out.Result = nullable.NewNullableWithValue(r)
	}
	return out
}

func pensionAgeOut(p charging.PensionAge) api.PensionCreditAge {
	q, _ := date.Parse(p.QualifyingDate)
	return api.PensionCreditAge{QualifyingDate: dateOut(q), ReachedByDateOfBirth: p.ByDateOfBirth, Reached: p.Reached,
		Overridden: p.Overridden, OverrideReason: nullableOf(nonEmpty(p.OverrideReason))}
}
