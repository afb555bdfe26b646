package httpapi

import (
	"context"
	"sort"
	"strings"
	"time"

	"github.com/oapi-codegen/nullable"
	openapi_types "github.com/oapi-codegen/runtime/types"

	"github.com/pbudget/pbudget/api"
	"github.com/pbudget/pbudget/internal/access"
	"github.com/pbudget/pbudget/internal/actor"
	"github.com/pbudget/pbudget/internal/apperr"
	"github.com/pbudget/pbudget/internal/bacs"
	"github.com/pbudget/pbudget/internal/council"
	"github.com/pbudget/pbudget/internal/date"
	"github.com/pbudget/pbudget/internal/page"
	"github.com/pbudget/pbudget/internal/plan"
	"github.com/pbudget/pbudget/internal/provider"
)

// GetCouncilSettings implements api.StrictServerInterface.
func (s *Server) GetCouncilSettings(ctx context.Context, _ api.GetCouncilSettingsRequestObject) (api.GetCouncilSettingsResponseObject, error) {
	a, err := mustActor(actor.From(ctx))
	if err != nil {
		return nil, err
	}
	st, err := s.settings.Get(ctx, a.CouncilID)
	if err != nil {
		return nil, err
	}
	out := settingsOut(st)
	return api.GetCouncilSettings200JSONResponse{Body: out, Headers: api.GetCouncilSettings200ResponseHeaders{ETag: etag(out.Version)}}, nil
}

// UpdateCouncilSettings implements api.StrictServerInterface.
func (s *Server) UpdateCouncilSettings(ctx context.Context, req api.UpdateCouncilSettingsRequestObject) (api.UpdateCouncilSettingsResponseObject, error) {
	a, version, err := actorAndVersion(ctx, req.Params.IfMatch)
	if err != nil {
		return nil, err
	}
	b := patchBody(req.JSONBody, req.ApplicationMergePatchPlusJSONBody)
	var originator *council.Originator
	if o := b.BacsOriginator; o != nil {
		name, err := bacs.NormaliseName(o.AccountName)
		if err != nil {
			return nil, err
		}
		originator = &council.Originator{ServiceUserNumber: o.ServiceUserNumber, SortCode: o.SortCode, AccountNumber: o.AccountNumber, AccountName: name}
	}
	if b.MerchantCategoryMap != nil {
		var f apperr.Fields
		for code := range *b.MerchantCategoryMap {
			if len(code) != 4 || strings.Trim(code, "0123456789") != "" {
				f.Add("/merchant_category_map", "merchant_category", "the map's keys are four-digit merchant category codes")
				break
			}
		}
		if err := f.Err(); err != nil {
			return nil, err
		}
	}
	st, err := s.settings.Update(ctx, a, version, jsonFields(b), func(st *council.Settings) {
		setIf(&st.ApproverLimitAnnual, b.ApproverLimitAnnualPence)
		setIf(&st.CareHomeMaxDays, b.DpCareHomeMaxDays)
		setIf(&st.CareHomeJoinGapDays, b.DpCareHomeJoinGapDays)
		setIf(&st.ChildShortBreakMaxPerPeriod, b.ChildShortBreakMaxDaysPerPeriod)
		setIf(&st.ChildShortBreakMaxPer12Month, b.ChildShortBreakMaxDaysPer12Months)
		setIf(&st.ApproverMustDifferFromSubmitter, b.ApproverMustDifferFromSubmitter)
		p := &st.Payments
		for _, d := range []struct {
			to   *date.Date
			from *openapi_types.Date
		}{{&p.FourWeeklyAnchor, b.PaymentFourWeeklyAnchor}, {&p.TwoWeeklyAnchor, b.PaymentTwoWeeklyAnchor}, {&p.MonthlyAnchor, b.PaymentMonthlyAnchor}} {
			if d.from != nil {
				*d.to = dateOf(*d.from)
			}
		}
		setIf(&p.LeadDays, b.PaymentLeadDays)
		setIf(&p.ProcessingDays, b.PaymentProcessingDays)
		au := &st.Audits
		setIf(&au.FirstWeeks, b.AuditFirstWeeks)
		setIf(&au.EvidenceDueDays, b.AuditEvidenceDueDays)
		setIf(&au.ConcludeWithinDays, b.AuditConcludeWithinDays)
		setIf(&au.ContingencyWeeks, b.AuditContingencyWeeks)
		setIf(&au.TerminationNoticeWeeks, b.AuditTerminationNoticeWeeks)
		setIf(&st.ISF.StatementDueDays, b.IsfStatementDueDays)
		setIf(&st.ISF.SurplusWeeks, b.IsfSurplusWeeks)
		setIf(&st.ISF.SurplusMaxWeeks, b.IsfSurplusMaxWeeks)
		if originator != nil {
			st.Originator = originator
		}
		if b.ExcludedMerchantCategories != nil {
			st.ExcludedMerchantCategories = append([]string{}, *b.ExcludedMerchantCategories...)
		}
		if b.MerchantCategoryMap != nil {
			st.MerchantCategoryMap = *b.MerchantCategoryMap
		}
	})
	if err != nil {
		return nil, err
	}
	out := settingsOut(st)
	return api.UpdateCouncilSettings200JSONResponse{Body: out, Headers: api.UpdateCouncilSettings200ResponseHeaders{ETag: etag(out.Version)}}, nil
}

func setIf[T any](dst *T, v *T) {
	if v != nil {
		*dst = *v
	}
}

func settingsOut(st council.Settings) api.CouncilSettings {
	out := api.CouncilSettings{
		ApproverLimitAnnualPence: st.ApproverLimitAnnual, DpCareHomeMaxDays: st.CareHomeMaxDays, DpCareHomeJoinGapDays: st.CareHomeJoinGapDays,
		ChildShortBreakMaxDaysPerPeriod: st.ChildShortBreakMaxPerPeriod, ChildShortBreakMaxDaysPer12Months: st.ChildShortBreakMaxPer12Month,
		ApproverMustDifferFromSubmitter: st.ApproverMustDifferFromSubmitter, Version: st.Version, UpdatedAt: nullable.NewNullNullable[time.Time](),
		PaymentFourWeeklyAnchor: dateOut(st.Payments.FourWeeklyAnchor), PaymentTwoWeeklyAnchor: dateOut(st.Payments.TwoWeeklyAnchor),
		PaymentMonthlyAnchor: dateOut(st.Payments.MonthlyAnchor), PaymentLeadDays: st.Payments.LeadDays, PaymentProcessingDays: st.Payments.ProcessingDays,
		BacsOriginator: originatorOut(st.Originator), ExcludedMerchantCategories: st.ExcludedMerchantCategories,
		MerchantCategoryMap: st.MerchantCategoryMap,
		AuditFirstWeeks:     st.Audits.FirstWeeks, AuditEvidenceDueDays: st.Audits.EvidenceDueDays, AuditConcludeWithinDays: st.Audits.ConcludeWithinDays,
		AuditContingencyWeeks: st.Audits.ContingencyWeeks, AuditTerminationNoticeWeeks: st.Audits.TerminationNoticeWeeks,
		IsfStatementDueDays: st.ISF.StatementDueDays, IsfSurplusWeeks: st.ISF.SurplusWeeks, IsfSurplusMaxWeeks: st.ISF.SurplusMaxWeeks,
	}
	if out.ExcludedMerchantCategories == nil {
		out.ExcludedMerchantCategories = []string{}
	}
	if out.MerchantCategoryMap == nil {
		out.MerchantCategoryMap = map[string]string{}
	}
	if !st.UpdatedAt.IsZero() {
		out.UpdatedAt = nullable.NewNullableWithValue(st.UpdatedAt)
	}
	return out
}

func originatorOut(o *council.Originator) nullable.Nullable[api.BACSOriginator] {
	if o == nil {
		return nullable.NewNullNullable[api.BACSOriginator]()
	}
	return nullable.NewNullableWithValue(api.BACSOriginator{ServiceUserNumber: o.ServiceUserNumber, SortCode: o.SortCode,
		AccountNumber: o.AccountNumber, AccountName: o.AccountName})
}

// CreateServiceCategory implements api.StrictServerInterface.
func (s *Server) CreateServiceCategory(ctx context.Context, req api.CreateServiceCategoryRequestObject) (api.CreateServiceCategoryResponseObject, error) {
	a, err := mustActor(actor.From(ctx))
	if err != nil {
		return nil, err
	}
	c, err := s.plans.AddCategory(ctx, a, CategoryInput(*req.Body))
	if err != nil {
		return nil, err
	}
	loc := "/v1/service-categories"
	return api.CreateServiceCategory201JSONResponse{Body: categoryOut(c), Headers: api.CreateServiceCategory201ResponseHeaders{Location: &loc, ETag: etag(1)}}, nil
}

// ListServiceCategories implements api.StrictServerInterface.
func (s *Server) ListServiceCategories(ctx context.Context, _ api.ListServiceCategoriesRequestObject) (api.ListServiceCategoriesResponseObject, error) {
	a, err := mustActor(actor.From(ctx))
	if err != nil {
		return nil, err
	}
	cats, err := s.plans.Categories(ctx, a)
	if err != nil {
		return nil, err
	}
	keys := make([]string, 0, len(cats))
	for k := range cats {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	items := make([]api.ServiceCategory, len(keys))
	for i, k := range keys {
		items[i] = categoryOut(cats[k])
	}
	return api.ListServiceCategories200JSONResponse{Body: api.ServiceCategoryList{Items: items}}, nil
}

func categoryOut(c plan.Category) api.ServiceCategory {
	return api.ServiceCategory{Key: c.Key, Name: c.Name, CldServiceType: api.CLDServiceType(c.CLDServiceType), DpAllowed: c.DPAllowed, Rule: api.CategoryRule(c.Rule)}
}

// CreateProvider implements api.StrictServerInterface.
func (s *Server) CreateProvider(ctx context.Context, req api.CreateProviderRequestObject) (api.CreateProviderResponseObject, error) {
	a, err := mustActor(actor.From(ctx))
	if err != nil {
		return nil, err
	}
	b := req.Body
	p, err := s.providers.Create(ctx, a, provider.Provider{Name: b.Name, Type: provider.Type(b.Type), ContractBasis: string(b.ContractBasis),
		ContactEmail: (*string)(b.ContactEmail), ContactPhone: b.ContactPhone})
	if err != nil {
		return nil, err
	}
	loc := "/v1/providers/" + p.ID.String()
	return api.CreateProvider201JSONResponse{Body: providerOut(p), Headers: api.CreateProvider201ResponseHeaders{ETag: etag(p.Version), Location: &loc}}, nil
}

// GetProvider implements api.StrictServerInterface.
func (s *Server) GetProvider(ctx context.Context, req api.GetProviderRequestObject) (api.GetProviderResponseObject, error) {
	a, err := mustActor(actor.From(ctx))
	if err != nil {
		return nil, err
	}
	p, err := s.providers.Get(ctx, a, req.ProviderId)
	if err != nil {
		return nil, err
	}
	return api.GetProvider200JSONResponse{Body: providerOut(p), Headers: api.GetProvider200ResponseHeaders{ETag: etag(p.Version)}}, nil
}

// ListProviders implements api.StrictServerInterface.
func (s *Server) ListProviders(ctx context.Context, req api.ListProvidersRequestObject) (api.ListProvidersResponseObject, error) {
	a, err := mustActor(actor.From(ctx))
	if err != nil {
		return nil, err
	}
	t := provider.Type(deref((*string)(req.Params.Type)))
	fp := page.Fingerprint("providers", string(t))
	pr, err := page.Parse(req.Params.PageSize, req.Params.PageToken, fp)
	if err != nil {
		return nil, err
	}
	list, err := s.providers.List(ctx, a, t, pr)
	if err != nil {
		return nil, err
	}
	items, next := pageOf(list, pr, fp, provider.Provider.Cursor, providerOut)
	return api.ListProviders200JSONResponse{Body: api.ProviderList{Items: items, NextPageToken: next}}, nil
}

// UpdateProvider implements api.StrictServerInterface.
func (s *Server) UpdateProvider(ctx context.Context, req api.UpdateProviderRequestObject) (api.UpdateProviderResponseObject, error) {
	a, version, err := actorAndVersion(ctx, req.Params.IfMatch)
	if err != nil {
		return nil, err
	}
	b := patchBody(req.JSONBody, req.ApplicationMergePatchPlusJSONBody)
	p, err := s.providers.Update(ctx, a, req.ProviderId, version, jsonFields(b), func(p *provider.Provider) {
		setIf(&p.Name, b.Name)
		setIf(&p.Active, b.Active)
		if b.ContractBasis != nil {
			p.ContractBasis = string(*b.ContractBasis)
		}
		if b.ContactEmail.IsSpecified() {
			p.ContactEmail = nil
			if v, err := b.ContactEmail.Get(); err == nil {
				e := string(v)
				p.ContactEmail = &e
			}
		}
		setNullable(&p.ContactPhone, b.ContactPhone)
	})
	if err != nil {
		return nil, err
	}
	return api.UpdateProvider200JSONResponse{Body: providerOut(p), Headers: api.UpdateProvider200ResponseHeaders{ETag: etag(p.Version)}}, nil
}

func providerOut(p provider.Provider) api.Provider {
	return api.Provider{Id: p.ID, Name: p.Name, Type: api.ProviderType(p.Type), ContractBasis: api.ProviderContractBasis(p.ContractBasis),
		ContactEmail: nullableOf(p.ContactEmail), ContactPhone: nullableOf(p.ContactPhone), Active: p.Active, Version: p.Version,
		CreatedAt: p.CreatedAt, UpdatedAt: p.UpdatedAt}
}

// CreateSupportPlan implements api.StrictServerInterface.
func (s *Server) CreateSupportPlan(ctx context.Context, req api.CreateSupportPlanRequestObject) (api.CreateSupportPlanResponseObject, error) {
	a, err := mustActor(actor.From(ctx))
	if err != nil {
		return nil, err
	}
	var parts plan.Parts
	applyParts(api.SupportPlanPatch(*req.Body))(&parts)
	v, err := s.plans.Create(ctx, a, req.BudgetId, parts)
	if err != nil {
		return nil, err
	}
	loc := "/v1/support-plans/" + v.ID.String()
	return api.CreateSupportPlan201JSONResponse{Body: planOut(v), Headers: api.CreateSupportPlan201ResponseHeaders{ETag: etag(v.Version), Location: &loc}}, nil
}

// GetSupportPlan implements api.StrictServerInterface.
func (s *Server) GetSupportPlan(ctx context.Context, req api.GetSupportPlanRequestObject) (api.GetSupportPlanResponseObject, error) {
	a, err := mustActor(actor.From(ctx))
	if err != nil {
		return nil, err
	}
	v, err := s.plans.Get(ctx, a, req.PlanId)
	if err != nil {
		return nil, err
	}
	return api.GetSupportPlan200JSONResponse{Body: planOut(v), Headers: api.GetSupportPlan200ResponseHeaders{ETag: etag(v.Version)}}, nil
}

// ListBudgetSupportPlans implements api.StrictServerInterface.
func (s *Server) ListBudgetSupportPlans(ctx context.Context, req api.ListBudgetSupportPlansRequestObject) (api.ListBudgetSupportPlansResponseObject, error) {
	a, err := mustActor(actor.From(ctx))
	if err != nil {
		return nil, err
	}
	items, next, err := s.listPlans(ctx, a, plan.Filter{BudgetID: &req.BudgetId}, req.Params.PageSize, req.Params.PageToken, "budget-plans", req.BudgetId.String())
	if err != nil {
		return nil, err
	}
	return api.ListBudgetSupportPlans200JSONResponse{Body: api.SupportPlanList{Items: items, NextPageToken: next}}, nil
}

// ListSupportPlans implements api.StrictServerInterface.
func (s *Server) ListSupportPlans(ctx context.Context, req api.ListSupportPlansRequestObject) (api.ListSupportPlansResponseObject, error) {
	a, err := mustActor(actor.From(ctx))
	if err != nil {
		return nil, err
	}
	f := plan.Filter{Status: plan.Status(deref((*string)(req.Params.Status))), OverLimit: req.Params.OverApproverLimit}
	over := ""
	if f.OverLimit != nil {
		over = boolString(*f.OverLimit)
	}
	items, next, err := s.listPlans(ctx, a, f, req.Params.PageSize, req.Params.PageToken, "plans", string(f.Status), over)
	if err != nil {
		return nil, err
	}
	return api.ListSupportPlans200JSONResponse{Body: api.SupportPlanList{Items: items, NextPageToken: next}}, nil
}

func boolString(b bool) string {
	if b {
		return "true"
	}
	return "false"
}

func (s *Server) listPlans(ctx context.Context, a actor.Actor, f plan.Filter, size *int, token *string, filters ...string) ([]api.SupportPlan, *string, error) {
	fp := page.Fingerprint(filters...)
	pr, err := page.Parse(size, token, fp)
	if err != nil {
		return nil, nil, err
	}
	list, err := s.plans.List(ctx, a, f, pr)
	if err != nil {
		return nil, nil, err
	}
	items, next := pageOf(list, pr, fp, func(v plan.View) page.Cursor { return v.Cursor() }, planOut)
	return items, next, nil
}

// UpdateSupportPlan implements api.StrictServerInterface.
func (s *Server) UpdateSupportPlan(ctx context.Context, req api.UpdateSupportPlanRequestObject) (api.UpdateSupportPlanResponseObject, error) {
	a, version, err := actorAndVersion(ctx, req.Params.IfMatch)
	if err != nil {
		return nil, err
	}
	v, err := s.plans.UpdateParts(ctx, a, req.PlanId, version, jsonFields(patchBody(req.JSONBody, req.ApplicationMergePatchPlusJSONBody)), applyParts(*patchBody(req.JSONBody, req.ApplicationMergePatchPlusJSONBody)))
	if err != nil {
		return nil, err
	}
	return api.UpdateSupportPlan200JSONResponse{Body: planOut(v), Headers: api.UpdateSupportPlan200ResponseHeaders{ETag: etag(v.Version)}}, nil
}

func applyParts(b api.SupportPlanPatch) func(*plan.Parts) {
	return func(p *plan.Parts) {
		setIf(&p.WhatIsImportant, b.WhatIsImportant)
		setIf(&p.WhatToChange, b.WhatToChange)
		setIf(&p.InformationAndAdvice, b.InformationAndAdvice)
		setIf(&p.ArrangingSupport, b.ArrangingSupport)
		setIf(&p.ManagingSupport, b.ManagingSupport)
		setIf(&p.StayingInControl, b.StayingInControl)
		if b.Outcomes != nil {
			p.Outcomes = nil
			for _, o := range *b.Outcomes {
				p.Outcomes = append(p.Outcomes, plan.Outcome{Description: o.Description, AssessedNeeds: nonNil(deref2(o.AssessedNeeds))})
			}
		}
	}
}

func deref2[T any](p *[]T) []T {
	if p == nil {
		return nil
	}
	return *p
}

// AddPlanLine implements api.StrictServerInterface.
func (s *Server) AddPlanLine(ctx context.Context, req api.AddPlanLineRequestObject) (api.AddPlanLineResponseObject, error) {
	a, version, err := actorAndVersion(ctx, req.Params.IfMatch)
	if err != nil {
		return nil, err
	}
	l, err := lineIn(*req.Body)
	if err != nil {
		return nil, err
	}
	v, lineID, err := s.plans.AddLine(ctx, a, req.PlanId, version, l)
	if err != nil {
		return nil, err
	}
	loc := "/v1/support-plans/" + v.ID.String() + "/lines/" + lineID.String()
	return api.AddPlanLine201JSONResponse{Body: planOut(v), Headers: api.AddPlanLine201ResponseHeaders{ETag: etag(v.Version), Location: &loc}}, nil
}

// ReplacePlanLine implements api.StrictServerInterface.
func (s *Server) ReplacePlanLine(ctx context.Context, req api.ReplacePlanLineRequestObject) (api.ReplacePlanLineResponseObject, error) {
	a, version, err := actorAndVersion(ctx, req.Params.IfMatch)
	if err != nil {
		return nil, err
	}
	l, err := lineIn(*req.Body)
	if err != nil {
		return nil, err
	}
	v, err := s.plans.ReplaceLine(ctx, a, req.PlanId, req.LineId, version, l)
	if err != nil {
		return nil, err
	}
	return api.ReplacePlanLine200JSONResponse{Body: planOut(v), Headers: api.ReplacePlanLine200ResponseHeaders{ETag: etag(v.Version)}}, nil
}

// RemovePlanLine implements api.StrictServerInterface.
func (s *Server) RemovePlanLine(ctx context.Context, req api.RemovePlanLineRequestObject) (api.RemovePlanLineResponseObject, error) {
	a, version, err := actorAndVersion(ctx, req.Params.IfMatch)
	if err != nil {
		return nil, err
	}
	v, err := s.plans.RemoveLine(ctx, a, req.PlanId, req.LineId, version)
	if err != nil {
		return nil, err
	}
	return api.RemovePlanLine200JSONResponse{Body: planOut(v), Headers: api.RemovePlanLine200ResponseHeaders{ETag: etag(v.Version)}}, nil
}

// planAction runs a plan action with If-Match.
func (s *Server) planAction(ctx context.Context, ifm *string, fn func(actor.Actor, int) (plan.View, error)) (api.SupportPlan, *string, error) {
	a, version, err := actorAndVersion(ctx, ifm)
	if err != nil {
		return api.SupportPlan{}, nil, err
	}
	v, err := fn(a, version)
	if err != nil {
		return api.SupportPlan{}, nil, err
	}
	return planOut(v), etag(v.Version), nil
}

// SubmitSupportPlan implements api.StrictServerInterface.
func (s *Server) SubmitSupportPlan(ctx context.Context, req api.SubmitSupportPlanRequestObject) (api.SubmitSupportPlanResponseObject, error) {
	body, tag, err := s.planAction(ctx, req.Params.IfMatch, func(a actor.Actor, version int) (plan.View, error) {
		return s.plans.Submit(ctx, a, req.PlanId, version)
	})
	if err != nil {
		return nil, err
	}
	return api.SubmitSupportPlan200JSONResponse{Body: body, Headers: api.SubmitSupportPlan200ResponseHeaders{ETag: tag}}, nil
}

// ApproveSupportPlan implements api.StrictServerInterface.
func (s *Server) ApproveSupportPlan(ctx context.Context, req api.ApproveSupportPlanRequestObject) (api.ApproveSupportPlanResponseObject, error) {
	body, tag, err := s.planAction(ctx, req.Params.IfMatch, func(a actor.Actor, version int) (plan.View, error) {
		var checks plan.Checks
		if err := sameShape(req.Body.Checks, &checks); err != nil {
			return plan.View{}, err
		}
		return s.plans.Approve(ctx, a, req.PlanId, version, plan.Approval{Checks: checks, DifferenceReason: deref(req.Body.DifferenceReason), Notes: deref(req.Body.Notes)})
	})
	if err != nil {
		return nil, err
	}
	return api.ApproveSupportPlan200JSONResponse{Body: body, Headers: api.ApproveSupportPlan200ResponseHeaders{ETag: tag}}, nil
}

// ReturnSupportPlan implements api.StrictServerInterface.
func (s *Server) ReturnSupportPlan(ctx context.Context, req api.ReturnSupportPlanRequestObject) (api.ReturnSupportPlanResponseObject, error) {
	body, tag, err := s.planAction(ctx, req.Params.IfMatch, func(a actor.Actor, version int) (plan.View, error) {
		return s.plans.Return(ctx, a, req.PlanId, version, req.Body.Reason)
	})
	if err != nil {
		return nil, err
	}
	return api.ReturnSupportPlan200JSONResponse{Body: body, Headers: api.ReturnSupportPlan200ResponseHeaders{ETag: tag}}, nil
}

// ReviseSupportPlan implements api.StrictServerInterface.
func (s *Server) ReviseSupportPlan(ctx context.Context, req api.ReviseSupportPlanRequestObject) (api.ReviseSupportPlanResponseObject, error) {
	body, tag, err := s.planAction(ctx, req.Params.IfMatch, func(a actor.Actor, version int) (plan.View, error) {
		return s.plans.Revise(ctx, a, req.PlanId, version)
	})
	if err != nil {
		return nil, err
	}
	loc := "/v1/support-plans/" + body.Id.String()
	return api.ReviseSupportPlan201JSONResponse{Body: body, Headers: api.ReviseSupportPlan201ResponseHeaders{ETag: tag, Location: &loc}}, nil
}

var errQuantity = apperr.Validation(apperr.FieldError{Field: "/quantity", In: "body", Code: "pattern", Message: "quantity is a decimal with up to two places"})

func lineIn(b api.PlanLineInput) (plan.Line, error) {
	q, ok := plan.ParseQuantity(b.Quantity)
	if !ok {
		return plan.Line{}, errQuantity
	}
	l := plan.Line{
		Category: b.Category, Description: strings.TrimSpace(b.Description), ProviderID: b.ProviderId, UnitCost: b.UnitCostPence,
		Unit: plan.Unit(b.Unit), Quantity: q, Frequency: plan.Frequency(b.Frequency), Start: dateOf(b.StartDate), End: dateOf(b.EndDate),
		MeetsNeeds: nonNil(deref2(b.MeetsNeeds)), Option: plan.Option(b.ManagementOption), PersonalAssistantID: b.PersonalAssistantId,
	}
	if b.NecessityReason != nil {
		r := strings.TrimSpace(*b.NecessityReason)
		l.NecessityReason = &r
	}
	return l, nil
}

func planOut(v plan.View) api.SupportPlan {
	p := v.Plan
	out := api.SupportPlan{
		Id: p.ID, BudgetId: p.BudgetID, PersonId: p.PersonID, Number: p.Number, Status: api.PlanStatus(p.Status),
		RevisesId: nullableOf(p.RevisesID), AnnualCostPence: v.Totals.Annual, WeeklyCostPence: v.Totals.Weekly,
		ManagementMode: api.SupportPlanManagementMode(v.Totals.Mode), CeilingAnnualPence: nullableOf(v.Ceiling), OverApproverLimit: v.OverApproverLim,
		SubmittedAt: nullableOf(p.SubmittedAt), SubmittedBy: nullableOf(p.SubmittedBy), ReturnedReason: nullableOf(p.ReturnedReason), ApprovedAt: nullableOf(p.ApprovedAt),
		ApprovedBy: nullableOf(p.ApprovedBy), SignOffChecks: nullable.NewNullNullable[api.SignOffChecks](),
		Version: p.Version, CreatedAt: p.CreatedAt, UpdatedAt: p.UpdatedAt,
		WhatIsImportant: nonEmpty(p.Parts.WhatIsImportant), WhatToChange: nonEmpty(p.Parts.WhatToChange),
		InformationAndAdvice: nonEmpty(p.Parts.InformationAndAdvice), ArrangingSupport: nonEmpty(p.Parts.ArrangingSupport),
		ManagingSupport: nonEmpty(p.Parts.ManagingSupport), StayingInControl: nonEmpty(p.Parts.StayingInControl),
		Lines: make([]api.PlanLine, len(p.Lines)), Totals: make([]api.OptionTotal, len(v.Totals.Options)),
		TopUps: make([]api.TopUp, len(p.TopUps)), TopUpsAnnualPence: plan.TopUpsAnnual(p.TopUps),
	}
	for i, t := range p.TopUps {
		out.TopUps[i] = topUpOut(t)
	}
	if len(p.Parts.Outcomes) > 0 {
		outcomes := make([]api.PlanOutcome, len(p.Parts.Outcomes))
		for i, o := range p.Parts.Outcomes {
			needs := nonNil(o.AssessedNeeds)
			outcomes[i] = api.PlanOutcome{Description: o.Description, AssessedNeeds: &needs}
		}
		out.Outcomes = &outcomes
	}
	if p.Checks != nil {
		var c api.SignOffChecks
		_ = sameShape(p.Checks, &c)
		out.SignOffChecks = nullable.NewNullableWithValue(c)
	}
	for i, l := range p.Lines {
		out.Lines[i] = lineOut(l)
	}
	for i, t := range v.Totals.Options {
		out.Totals[i] = api.OptionTotal{
			ManagementOption: api.ManagementOption(t.Option), AnnualCostPence: t.Annual, WeeklyCostPence: t.Weekly,
			PersonAnnualPence: nullableOf(t.PersonAnnual), PersonWeeklyPence: nullableOf(t.PersonWeekly),
			CouncilAnnualPence: nullableOf(t.CouncilAnnual), CouncilWeeklyPence: nullableOf(t.CouncilWeekly),
		}
	}
	return out
}

func lineOut(l plan.Line) api.PlanLine {
	return api.PlanLine{
		Id: l.ID, Category: l.Category, Description: l.Description, ProviderId: nullableOf(l.ProviderID), UnitCostPence: l.UnitCost,
		Unit: api.LineUnit(l.Unit), Quantity: l.Quantity.String(), Frequency: api.LineFrequency(l.Frequency),
		StartDate: dateOut(l.Start), EndDate: dateOut(l.End), MeetsNeeds: nonNil(l.MeetsNeeds),
		ManagementOption: api.ManagementOption(l.Option), PersonalAssistantId: nullableOf(l.PersonalAssistantID),
		NecessityReason: nullableOf(l.NecessityReason), AnnualCostPence: l.Annual, WeeklyCostPence: l.Weekly,
	}
}

// GetPlanLine implements api.StrictServerInterface: the line as its plan shows it to the caller
// (provider staff see only their own lines, so another's is a 404).
func (s *Server) GetPlanLine(ctx context.Context, req api.GetPlanLineRequestObject) (api.GetPlanLineResponseObject, error) {
	a, err := mustActor(actor.From(ctx))
	if err != nil {
		return nil, err
	}
	v, err := s.plans.Get(ctx, a, req.PlanId)
	if err != nil {
		return nil, err
	}
	for _, l := range v.Plan.Lines {
		if l.ID == req.LineId {
			access.NoteSubject(ctx, v.Plan.PersonID)
			return api.GetPlanLine200JSONResponse{Body: lineOut(l), Headers: api.GetPlanLine200ResponseHeaders{ETag: etag(v.Plan.Version)}}, nil
		}
	}
	return nil, apperr.ErrNotFound
}

// AddPlanTopUp implements api.StrictServerInterface.
func (s *Server) AddPlanTopUp(ctx context.Context, req api.AddPlanTopUpRequestObject) (api.AddPlanTopUpResponseObject, error) {
	a, version, err := actorAndVersion(ctx, req.Params.IfMatch)
	if err != nil {
		return nil, err
	}
	b := req.Body
	v, id, err := s.plans.AddTopUp(ctx, a, req.PlanId, version, plan.TopUpInput{LineID: b.PlanLineId, Description: b.Description,
		Payer: plan.Payer(b.Payer), PayerName: b.PayerName, Annual: b.AnnualPence})
	if err != nil {
		return nil, err
	}
	loc := "/v1/support-plans/" + v.ID.String() + "/top-ups/" + id.String()
	return api.AddPlanTopUp201JSONResponse{Body: planOut(v), Headers: api.AddPlanTopUp201ResponseHeaders{ETag: etag(v.Version), Location: &loc}}, nil
}

// RemovePlanTopUp implements api.StrictServerInterface.
func (s *Server) RemovePlanTopUp(ctx context.Context, req api.RemovePlanTopUpRequestObject) (api.RemovePlanTopUpResponseObject, error) {
	a, version, err := actorAndVersion(ctx, req.Params.IfMatch)
	if err != nil {
		return nil, err
	}
	v, err := s.plans.RemoveTopUp(ctx, a, req.PlanId, req.TopUpId, version)
	if err != nil {
		return nil, err
	}
	return api.RemovePlanTopUp200JSONResponse{Body: planOut(v), Headers: api.RemovePlanTopUp200ResponseHeaders{ETag: etag(v.Version)}}, nil
}
