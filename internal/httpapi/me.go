package httpapi

import (
	"context"

	"github.com/oapi-codegen/nullable"

	"github.com/pbudget/pbudget/api"
	"github.com/pbudget/pbudget/internal/access"
	"github.com/pbudget/pbudget/internal/actor"
	"github.com/pbudget/pbudget/internal/budget"
	"github.com/pbudget/pbudget/internal/date"
	"github.com/pbudget/pbudget/internal/money"
	"github.com/pbudget/pbudget/internal/page"
	"github.com/pbudget/pbudget/internal/person"
	"github.com/pbudget/pbudget/internal/plan"
	"github.com/pbudget/pbudget/internal/portal"
)

// The person's view (/v1/me/...): its own routes and schemas rather than the person role on the
// staff routes, so that what a person reads is exactly what these schemas hold: never a staff
// member's identity (a role at most), never staff notes, never bank details.

// GetMe implements api.StrictServerInterface.
func (s *Server) GetMe(ctx context.Context, _ api.GetMeRequestObject) (api.GetMeResponseObject, error) {
	a, err := mustActor(actor.From(ctx))
	if err != nil {
		return nil, err
	}
	list, err := s.portal.Me(ctx, a)
	if err != nil {
		return nil, err
	}
	out := api.Me{PersonId: *a.PersonID, ActingFor: make([]api.ActingFor, len(list))}
	for i, x := range list {
		out.ActingFor[i] = actingOut(x)
	}
	return api.GetMe200JSONResponse{Body: out}, nil
}

func actingOut(x person.Acting) api.ActingFor {
	p := x.Person
	return api.ActingFor{PersonId: p.ID, GivenName: p.GivenName, FamilyName: p.FamilyName, PreferredName: nullableOf(p.PreferredName),
		PersonType: api.ActingForPersonType(p.Type), Basis: api.ActingForBasis(x.Basis)}
}

func stepsOut(steps []money.Step) []api.MyStep {
	out := make([]api.MyStep, len(steps))
	for i, st := range steps {
		out[i] = api.MyStep{Step: st.Step, Detail: st.Detail, ValuePence: nullableOf(st.Value)}
	}
	return out
}

func myBudgetOut(v portal.BudgetView) api.MyBudget {
	b, c := v.Budget, v.Current
	pbd := c.PointsByDomain
	if pbd == nil {
		pbd = map[string]int{}
	}
	out := api.MyBudget{
		Id: b.ID, PersonId: b.PersonID, Kind: api.BudgetKind(b.Kind), Status: api.BudgetStatus(b.Status), StartDate: dateOut(b.StartDate),
		EndDate: nullableDate(b.EndDate), IndicativeAnnualPence: c.IndicativeAnnual, IndicativeWeeklyPence: c.IndicativeWeekly(),
		CeilingAnnualPence: c.CeilingAnnual, FinalAnnualPence: nullableOf(c.FinalAnnual), DifferenceReason: nullableOf(c.DifferenceReason),
		AnnualCostPence: c.AnnualCost, WeeklyCostPence: c.WeeklyCost, CouncilAnnualPence: nullableOf(c.CouncilAnnual),
		CouncilWeeklyPence: nullableOf(c.CouncilWeekly), PersonAnnualPence: nullableOf(c.PersonAnnual), PersonWeeklyPence: nullableOf(c.PersonWeekly),
		History: make([]api.MyBudgetVersion, len(b.History)),
	}
	out.Ras.VersionNumber, out.Ras.Points, out.Ras.PointsByDomain, out.Ras.Steps = nullableOf(c.RASVersionNumber), nullableOf(c.Points), pbd, stepsOut(c.Calculation)
	out.Contribution.Assessed = c.FinancialAssessmentID != nil
	out.Contribution.Steps, out.Contribution.AssessmentSteps = stepsOut(c.ContributionSteps), stepsOut(v.AssessmentSteps)
	for i, h := range b.History {
		out.History[i] = myVersionOut(h)
	}
	return out
}

func myVersionOut(h budget.Version) api.MyBudgetVersion {
	return api.MyBudgetVersion{Number: h.Number, Status: api.BudgetStatus(h.Status), Change: api.BudgetChange(h.Change), Reason: h.Reason,
		MadeOn: dateOut(date.Today(h.CreatedAt)), IndicativeAnnualPence: h.IndicativeAnnual, CeilingAnnualPence: h.CeilingAnnual,
		FinalAnnualPence: nullableOf(h.FinalAnnual), AnnualCostPence: h.AnnualCost, CouncilAnnualPence: nullableOf(h.CouncilAnnual),
		PersonAnnualPence: nullableOf(h.PersonAnnual), DifferenceReason: nullableOf(h.DifferenceReason)}
}

// ListMyBudgets implements api.StrictServerInterface.
func (s *Server) ListMyBudgets(ctx context.Context, req api.ListMyBudgetsRequestObject) (api.ListMyBudgetsResponseObject, error) {
	a, err := mustActor(actor.From(ctx))
	if err != nil {
		return nil, err
	}
	fp := page.Fingerprint("my-budgets", req.PersonId.String())
	pr, err := page.Parse(req.Params.PageSize, req.Params.PageToken, fp)
	if err != nil {
		return nil, err
	}
	list, err := s.portal.Budgets(ctx, a, req.PersonId, pr)
	if err != nil {
		return nil, err
	}
	items, next := pageOf(list, pr, fp, func(v portal.BudgetView) page.Cursor { return v.Cursor() }, myBudgetOut)
	return api.ListMyBudgets200JSONResponse{Body: api.MyBudgetList{Items: items, NextPageToken: next}}, nil
}

// GetMyBudget implements api.StrictServerInterface.
func (s *Server) GetMyBudget(ctx context.Context, req api.GetMyBudgetRequestObject) (api.GetMyBudgetResponseObject, error) {
	a, err := mustActor(actor.From(ctx))
	if err != nil {
		return nil, err
	}
	v, err := s.portal.Budget(ctx, a, req.BudgetId)
	if err != nil {
		return nil, err
	}
	return api.GetMyBudget200JSONResponse{Body: myBudgetOut(v)}, nil
}

func myPlanOut(v plan.View) api.MyPlan {
	sp := planOut(v) // the staff view, from which the person's is cut
	out := api.MyPlan{
		Id: sp.Id, BudgetId: sp.BudgetId, PersonId: sp.PersonId, Number: sp.Number, Status: sp.Status, RevisesId: sp.RevisesId,
		Lines: sp.Lines, AnnualCostPence: sp.AnnualCostPence, WeeklyCostPence: sp.WeeklyCostPence,
		ManagementMode: api.MyPlanManagementMode(sp.ManagementMode), Totals: sp.Totals, SubmittedAt: sp.SubmittedAt,
		ApprovedAt: sp.ApprovedAt, ReturnedReason: sp.ReturnedReason, ApprovedByRole: nullable.NewNullNullable[api.MyPlanApprovedByRole](),
		WhatIsImportant: sp.WhatIsImportant, WhatToChange: sp.WhatToChange, InformationAndAdvice: sp.InformationAndAdvice,
		ArrangingSupport: sp.ArrangingSupport, ManagingSupport: sp.ManagingSupport, StayingInControl: sp.StayingInControl,
		Outcomes: sp.Outcomes, TopUps: make([]api.TopUp, len(v.Plan.TopUps)), TopUpsAnnualPence: plan.TopUpsAnnual(v.Plan.TopUps),
	}
	if v.Plan.ApprovedAt != nil {
		role := api.MyPlanApprovedByRole("approver")
		if v.OverApproverLim {
			role = "panel"
		}
		out.ApprovedByRole = nullable.NewNullableWithValue(role)
	}
	for i, t := range v.Plan.TopUps {
		out.TopUps[i] = topUpOut(t)
	}
	return out
}

func topUpOut(t plan.TopUp) api.TopUp {
	return api.TopUp{Id: t.ID, PlanLineId: nullableOf(t.LineID), Description: t.Description, Payer: api.TopUpPayer(t.Payer),
		PayerName: t.PayerName, AnnualPence: t.Annual, WeeklyPence: t.Weekly()}
}

// ListMyPlans implements api.StrictServerInterface.
func (s *Server) ListMyPlans(ctx context.Context, req api.ListMyPlansRequestObject) (api.ListMyPlansResponseObject, error) {
	a, err := mustActor(actor.From(ctx))
	if err != nil {
		return nil, err
	}
	fp := page.Fingerprint("my-plans", req.BudgetId.String())
	pr, err := page.Parse(req.Params.PageSize, req.Params.PageToken, fp)
	if err != nil {
		return nil, err
	}
	list, err := s.portal.Plans(ctx, a, req.BudgetId, pr)
	if err != nil {
		return nil, err
	}
	items, next := pageOf(list, pr, fp, func(v plan.View) page.Cursor { return v.Plan.Cursor() }, myPlanOut)
	return api.ListMyPlans200JSONResponse{Body: api.MyPlanList{Items: items, NextPageToken: next}}, nil
}

// GetMyPlan implements api.StrictServerInterface.
func (s *Server) GetMyPlan(ctx context.Context, req api.GetMyPlanRequestObject) (api.GetMyPlanResponseObject, error) {
	a, err := mustActor(actor.From(ctx))
	if err != nil {
		return nil, err
	}
	v, err := s.portal.Plan(ctx, a, req.PlanId)
	if err != nil {
		return nil, err
	}
	return api.GetMyPlan200JSONResponse{Body: myPlanOut(v)}, nil
}

func myAgreementOut(g portal.Agreement) api.MyAgreement {
	out := api.MyAgreement{
		Id: g.ID, AgreementType: api.AgreementType(g.Kind), PersonId: g.PersonID, BudgetId: g.BudgetID, PlanId: g.PlanID,
		Frequency: api.MyAgreementFrequency(g.Frequency), PaymentBasis: api.MyAgreementPaymentBasis(g.Basis), StartDate: dateOut(g.Start),
		EndDate: nullableDate(g.End), EndReason: nullableOf(g.EndReason), SignedDate: nullableDate(g.Signed), AnnualAmountPence: g.Annual,
		PerPaymentPence: g.PerPayment(), Suspended: g.SuspendedNow, Recipient: api.MyAgreementRecipient(g.Recipient),
		RecipientPersonId: nullableOf(g.RecipientPersonID), Consented: nullableOf(g.Consented), ConsentReason: nullableOf(g.ConsentReason),
		AccountType: nullable.NewNullNullable[api.MyAgreementAccountType](), ProviderName: nullableOf(g.ProviderName), Version: g.Version,
	}
	if g.AccountType != nil {
		out.AccountType = nullable.NewNullableWithValue(api.MyAgreementAccountType(*g.AccountType))
	}
	return out
}

// ListMyAgreements implements api.StrictServerInterface.
func (s *Server) ListMyAgreements(ctx context.Context, req api.ListMyAgreementsRequestObject) (api.ListMyAgreementsResponseObject, error) {
	a, err := mustActor(actor.From(ctx))
	if err != nil {
		return nil, err
	}
	list, err := s.portal.Agreements(ctx, a, req.PersonId)
	if err != nil {
		return nil, err
	}
	out := api.MyAgreementList{Items: make([]api.MyAgreement, len(list))}
	for i, g := range list {
		out.Items[i] = myAgreementOut(g)
	}
	return api.ListMyAgreements200JSONResponse{Body: out}, nil
}

// GetMySchedule implements api.StrictServerInterface.
func (s *Server) GetMySchedule(ctx context.Context, req api.GetMyScheduleRequestObject) (api.GetMyScheduleResponseObject, error) {
	a, err := mustActor(actor.From(ctx))
	if err != nil {
		return nil, err
	}
	v, err := s.portal.Schedule(ctx, a, req.AgreementId, datePtr(req.Params.Through))
	if err != nil {
		return nil, err
	}
	staff := scheduleOut(v.Schedule)
	out := api.MySchedule{Agreement: myAgreementOut(v.Agreement), Through: staff.Through, Cycles: staff.Cycles,
		Suspensions: make([]api.MySuspension, len(v.Schedule.Suspensions)), Amounts: make([]api.MyAmount, len(staff.Amounts)),
		Payments: make([]api.PaymentLine, len(v.Lines))}
	for i, su := range v.Schedule.Suspensions {
		out.Suspensions[i] = api.MySuspension{FromDate: dateOut(su.From), ResumeDate: nullableDate(su.Resume), BackPay: su.BackPay,
			Reason: su.Reason, ResumeReason: nullableOf(su.ResumeReason)}
	}
	for i, m := range staff.Amounts {
		out.Amounts[i] = api.MyAmount{EffectiveFrom: m.EffectiveFrom, AnnualPence: m.AnnualPence, PerCyclePence: m.PerCyclePence, Reason: m.Reason}
	}
	for i, l := range v.Lines {
		out.Payments[i] = paymentLineOut(l)
	}
	return api.GetMySchedule200JSONResponse{Body: out}, nil
}

func init() {
	for id, read := range myReads {
		personalReads[id] = read
	}
}

// myReads are the person view's reads, added to personalReads.
var myReads = map[string]func(req, resp any) []access.Read{
	"getMe": each(func(r api.GetMe200JSONResponse) []api.ActingFor { return r.Body.ActingFor },
		func(x api.ActingFor) access.Read {
			return access.Read{EntityType: access.Person, EntityID: x.PersonId, PersonID: x.PersonId}
		}),
	"listMyBudgets": each(func(r api.ListMyBudgets200JSONResponse) []api.MyBudget { return r.Body.Items },
		func(b api.MyBudget) access.Read { return budgetRead(b.Id, b.PersonId) }),
	"getMyBudget": one(func(r api.GetMyBudget200JSONResponse) access.Read { return budgetRead(r.Body.Id, r.Body.PersonId) }),
	"listMyPlans": each(func(r api.ListMyPlans200JSONResponse) []api.MyPlan { return r.Body.Items },
		func(p api.MyPlan) access.Read {
			return access.Read{EntityType: access.SupportPlan, EntityID: p.Id, PersonID: p.PersonId}
		}),
	"getMyPlan": one(func(r api.GetMyPlan200JSONResponse) access.Read {
		return access.Read{EntityType: access.SupportPlan, EntityID: r.Body.Id, PersonID: r.Body.PersonId}
	}),
	"listMyAgreements": each(func(r api.ListMyAgreements200JSONResponse) []api.MyAgreement { return r.Body.Items }, myAgreementRead),
	"getMySchedule":    one(func(r api.GetMySchedule200JSONResponse) access.Read { return myAgreementRead(r.Body.Agreement) }),
}

func myAgreementRead(g api.MyAgreement) access.Read {
	kind := access.DirectPaymentAgreement
	if g.AgreementType == api.AgreementTypeIsf {
		kind = access.ISFAgreement
	}
	return access.Read{EntityType: kind, EntityID: g.Id, PersonID: g.PersonId}
}
