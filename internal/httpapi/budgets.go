package httpapi

import (
	"context"

	"github.com/oapi-codegen/nullable"

	"github.com/pbudget/pbudget/api"
	"github.com/pbudget/pbudget/internal/actor"
	"github.com/pbudget/pbudget/internal/budget"
	"github.com/pbudget/pbudget/internal/funding"
	"github.com/pbudget/pbudget/internal/page"
)

// GetPersonalBudget implements api.StrictServerInterface.
func (s *Server) GetPersonalBudget(ctx context.Context, req api.GetPersonalBudgetRequestObject) (api.GetPersonalBudgetResponseObject, error) {
	a, err := mustActor(actor.From(ctx))
	if err != nil {
		return nil, err
	}
	b, err := s.budgets.Get(ctx, a, req.BudgetId)
	if err != nil {
		return nil, err
	}
	if err := s.people.CheckBudgetReach(ctx, a, b.ID); err != nil {
		return nil, err
	}
	return api.GetPersonalBudget200JSONResponse{Body: budgetOut(b), Headers: api.GetPersonalBudget200ResponseHeaders{ETag: etag(b.Version)}}, nil
}

// ListPersonalBudgets implements api.StrictServerInterface.
func (s *Server) ListPersonalBudgets(ctx context.Context, req api.ListPersonalBudgetsRequestObject) (api.ListPersonalBudgetsResponseObject, error) {
	a, err := mustActor(actor.From(ctx))
	if err != nil {
		return nil, err
	}
	f := budget.Filter{PersonID: req.Params.PersonId, Status: budget.Status(deref((*string)(req.Params.Status)))}
	person := ""
	if f.PersonID != nil {
		person = f.PersonID.String()
	}
	fp := page.Fingerprint("budgets", person, string(f.Status))
	pr, err := page.Parse(req.Params.PageSize, req.Params.PageToken, fp)
	if err != nil {
		return nil, err
	}
	list, err := s.budgets.List(ctx, a, f, pr)
	if err != nil {
		return nil, err
	}
	items, next := pageOf(list, pr, fp, budget.Budget.Cursor, budgetOut)
	return api.ListPersonalBudgets200JSONResponse{Body: api.PersonalBudgetList{Items: items, NextPageToken: next}}, nil
}

// ListPersonBudgetVersions implements api.StrictServerInterface.
func (s *Server) ListPersonBudgetVersions(ctx context.Context, req api.ListPersonBudgetVersionsRequestObject) (api.ListPersonBudgetVersionsResponseObject, error) {
	a, err := mustActor(actor.From(ctx))
	if err != nil {
		return nil, err
	}
	if _, err := s.people.Get(ctx, a, req.PersonId); err != nil {
		return nil, err
	}
	fp := page.Fingerprint("budget-versions", req.PersonId.String())
	pr, err := page.Parse(req.Params.PageSize, req.Params.PageToken, fp)
	if err != nil {
		return nil, err
	}
	list, err := s.budgets.ListVersions(ctx, a, req.PersonId, pr)
	if err != nil {
		return nil, err
	}
	items, next := pageOf(list, pr, fp, budget.Version.Cursor, budgetVersionOut)
	return api.ListPersonBudgetVersions200JSONResponse{Body: api.BudgetVersionList{Items: items, NextPageToken: next}}, nil
}

func budgetOut(b budget.Budget) api.PersonalBudget {
	hist := make([]api.BudgetVersion, len(b.History))
	for i, v := range b.History {
		hist[i] = budgetVersionOut(v)
	}
	return api.PersonalBudget{
		Id: b.ID, PersonId: b.PersonID, Kind: api.BudgetKind(b.Kind), Status: api.BudgetStatus(b.Status),
		StartDate: dateOut(b.StartDate), EndDate: nullableDate(b.EndDate), Current: budgetVersionOut(b.Current),
		History: hist, Version: b.Version, CreatedAt: b.CreatedAt, UpdatedAt: b.UpdatedAt,
	}
}

func budgetVersionOut(v budget.Version) api.BudgetVersion {
	steps := make([]api.CalculationStep, len(v.Calculation))
	for i, s := range v.Calculation {
		steps[i] = api.CalculationStep{Step: s.Step, Detail: s.Detail, Value: s.Value}
	}
	pbd := v.PointsByDomain
	if pbd == nil {
		pbd = map[string]int{}
	}
	return api.BudgetVersion{
		Id: v.ID, BudgetId: v.BudgetID, PersonId: v.PersonID, Number: v.Number, Status: api.BudgetStatus(v.Status),
		Change: api.BudgetChange(v.Change), Reason: v.Reason, AssessmentId: nullableOf(v.AssessmentID),
		RasVersionId: nullableOf(v.RASVersionID), RasVersionNumber: nullableOf(v.RASVersionNumber),
		FundingRequestId: nullableOf(v.FundingRequestID), IndicativeAnnualPence: v.IndicativeAnnual,
		IndicativeWeeklyPence: v.IndicativeWeekly(), CeilingAnnualPence: v.CeilingAnnual, CeilingWeeklyPence: v.CeilingWeekly(),
		Points: nullableOf(v.Points), PointsByDomain: pbd, Calculation: steps, CreatedAt: v.CreatedAt, CreatedBy: v.CreatedBy,
		AnnualCostPence: v.AnnualCost, WeeklyCostPence: v.WeeklyCost, PersonWeeklyPence: nullableOf(v.PersonWeekly),
		CouncilWeeklyPence: nullableOf(v.CouncilWeekly), PersonAnnualPence: nullableOf(v.PersonAnnual),
		CouncilAnnualPence: nullableOf(v.CouncilAnnual), FinancialAssessmentId: nullableOf(v.FinancialAssessmentID),
		RateTableId: nullableOf(v.RateTableID), FinalAnnualPence: nullableOf(v.FinalAnnual), PlanId: nullableOf(v.PlanID),
		DifferenceReason: nullableOf(v.DifferenceReason),
	}
}

// CreateFundingRequest implements api.StrictServerInterface.
func (s *Server) CreateFundingRequest(ctx context.Context, req api.CreateFundingRequestRequestObject) (api.CreateFundingRequestResponseObject, error) {
	a, err := mustActor(actor.From(ctx))
	if err != nil {
		return nil, err
	}
	r, err := s.funding.Create(ctx, a, req.Body.BudgetId, req.Body.RequestedAnnualPence, req.Body.Reason)
	if err != nil {
		return nil, err
	}
	loc := "/v1/funding-requests/" + r.ID.String()
	return api.CreateFundingRequest201JSONResponse{Body: s.fundingOut(r), Headers: api.CreateFundingRequest201ResponseHeaders{ETag: etag(r.Version), Location: &loc}}, nil
}

// GetFundingRequest implements api.StrictServerInterface.
func (s *Server) GetFundingRequest(ctx context.Context, req api.GetFundingRequestRequestObject) (api.GetFundingRequestResponseObject, error) {
	a, err := mustActor(actor.From(ctx))
	if err != nil {
		return nil, err
	}
	r, err := s.funding.Get(ctx, a, req.FundingRequestId)
	if err != nil {
		return nil, err
	}
	return api.GetFundingRequest200JSONResponse{Body: s.fundingOut(r), Headers: api.GetFundingRequest200ResponseHeaders{ETag: etag(r.Version)}}, nil
}

// ListFundingRequests implements api.StrictServerInterface.
func (s *Server) ListFundingRequests(ctx context.Context, req api.ListFundingRequestsRequestObject) (api.ListFundingRequestsResponseObject, error) {
	a, err := mustActor(actor.From(ctx))
	if err != nil {
		return nil, err
	}
	f := funding.Filter{Status: funding.Status(deref((*string)(req.Params.Status))), PersonID: req.Params.PersonId}
	person := ""
	if f.PersonID != nil {
		person = f.PersonID.String()
	}
	fp := page.Fingerprint("funding", string(f.Status), person)
	pr, err := page.Parse(req.Params.PageSize, req.Params.PageToken, fp)
	if err != nil {
		return nil, err
	}
	list, err := s.funding.List(ctx, a, f, pr)
	if err != nil {
		return nil, err
	}
	items, next := pageOf(list, pr, fp, funding.Request.Cursor, s.fundingOut)
	return api.ListFundingRequests200JSONResponse{Body: api.FundingRequestList{Items: items, NextPageToken: next}}, nil
}

// DecideFundingRequest implements api.StrictServerInterface.
func (s *Server) DecideFundingRequest(ctx context.Context, req api.DecideFundingRequestRequestObject) (api.DecideFundingRequestResponseObject, error) {
	a, version, err := actorAndVersion(ctx, req.Params.IfMatch)
	if err != nil {
		return nil, err
	}
	r, err := s.funding.Decide(ctx, a, req.FundingRequestId, version, funding.Decision(req.Body.Decision), req.Body.ApprovedAnnualPence, req.Body.Reason)
	if err != nil {
		return nil, err
	}
	return api.DecideFundingRequest200JSONResponse{Body: s.fundingOut(r), Headers: api.DecideFundingRequest200ResponseHeaders{ETag: etag(r.Version)}}, nil
}

func (s *Server) fundingOut(r funding.Request) api.FundingRequest {
	out := api.FundingRequest{
		Id: r.ID, PersonId: r.PersonID, BudgetId: r.BudgetID, Status: api.FundingStatus(r.Status),
		RequestedAnnualPence: r.RequestedAnnual, IndicativeAnnualPence: r.IndicativeAnnual,
		ApprovedAnnualPence: nullableOf(r.ApprovedAnnual), Reason: r.Reason, RequestedBy: r.RequestedBy,
		RequestedAt: r.RequestedAt, DecisionReason: nullableOf(r.DecisionReason), DecidedBy: nullableOf(r.DecidedBy),
		DecidedAt: nullableOf(r.DecidedAt), DaysToDecision: nullableOf(r.DaysToDecision()),
		DaysWaiting: r.DaysWaiting(s.funding.Now()), Version: r.Version, CreatedAt: r.RequestedAt, UpdatedAt: r.UpdatedAt,
		Decision: nullable.NewNullNullable[api.FundingRequestDecision](),
	}
	if r.Decision != nil {
		out.Decision = nullable.NewNullableWithValue(api.FundingRequestDecision(*r.Decision))
	}
	return out
}
