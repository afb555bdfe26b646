package httpapi

import (
	"context"

	openapi_types "github.com/oapi-codegen/runtime/types"

	"github.com/pbudget/pbudget/api"
	"github.com/pbudget/pbudget/internal/actor"
	"github.com/pbudget/pbudget/internal/date"
	"github.com/pbudget/pbudget/internal/page"
	"github.com/pbudget/pbudget/internal/plan"
)

// CreateDirectPaymentAgreement implements api.StrictServerInterface.
func (s *Server) CreateDirectPaymentAgreement(ctx context.Context, req api.CreateDirectPaymentAgreementRequestObject) (api.CreateDirectPaymentAgreementResponseObject, error) {
	a, err := mustActor(actor.From(ctx))
	if err != nil {
		return nil, err
	}
	b := req.Body
	d := plan.DPAgreement{PlanID: b.PlanId, Recipient: string(b.Recipient), RecipientPersonID: b.RecipientPersonId,
		Consented: b.RecipientConsented != nil && *b.RecipientConsented, AccountType: string(b.AccountType), Basis: string(b.PaymentBasis),
		Frequency: string(b.Frequency), StartDate: dateOf(b.StartDate), SignedDate: datePtr(b.SignedDate)}
	if b.PaEvidence != nil {
		d.Evidence = evidenceIn(*b.PaEvidence)
	}
	d, err = s.plans.CreateDP(ctx, a, d)
	if err != nil {
		return nil, err
	}
	loc := "/v1/direct-payment-agreements/" + d.ID.String()
	return api.CreateDirectPaymentAgreement201JSONResponse{Body: dpOut(d), Headers: api.CreateDirectPaymentAgreement201ResponseHeaders{ETag: etag(d.Version), Location: &loc}}, nil
}

// GetDirectPaymentAgreement implements api.StrictServerInterface.
func (s *Server) GetDirectPaymentAgreement(ctx context.Context, req api.GetDirectPaymentAgreementRequestObject) (api.GetDirectPaymentAgreementResponseObject, error) {
	a, err := mustActor(actor.From(ctx))
	if err != nil {
		return nil, err
	}
	d, err := s.plans.GetDP(ctx, a, req.AgreementId)
	if err != nil {
		return nil, err
	}
	return api.GetDirectPaymentAgreement200JSONResponse{Body: dpOut(d), Headers: api.GetDirectPaymentAgreement200ResponseHeaders{ETag: etag(d.Version)}}, nil
}

// ListDirectPaymentAgreements implements api.StrictServerInterface.
func (s *Server) ListDirectPaymentAgreements(ctx context.Context, req api.ListDirectPaymentAgreementsRequestObject) (api.ListDirectPaymentAgreementsResponseObject, error) {
	a, err := mustActor(actor.From(ctx))
	if err != nil {
		return nil, err
	}
	prm := req.Params
	f := plan.DPFilter{Unsigned: prm.Unsigned != nil && *prm.Unsigned, PersonID: prm.PersonId, EvidenceBefore: datePtr(prm.PaEvidenceExpiringBefore)}
	before, person := "", ""
	if f.EvidenceBefore != nil {
		before = f.EvidenceBefore.String()
	}
	if f.PersonID != nil {
		person = f.PersonID.String()
	}
	fp := page.Fingerprint("dp-agreements", boolString(f.Unsigned), before, person)
	pr, err := page.Parse(prm.PageSize, prm.PageToken, fp)
	if err != nil {
		return nil, err
	}
	list, err := s.plans.ListDP(ctx, a, f, pr)
	if err != nil {
		return nil, err
	}
	items, next := pageOf(list, pr, fp, plan.DPAgreement.Cursor, dpOut)
	return api.ListDirectPaymentAgreements200JSONResponse{Body: api.DirectPaymentAgreementList{Items: items, NextPageToken: next}}, nil
}

// UpdateDirectPaymentAgreement implements api.StrictServerInterface.
func (s *Server) UpdateDirectPaymentAgreement(ctx context.Context, req api.UpdateDirectPaymentAgreementRequestObject) (api.UpdateDirectPaymentAgreementResponseObject, error) {
	a, version, err := actorAndVersion(ctx, req.Params.IfMatch)
	if err != nil {
		return nil, err
	}
	b := patchBody(req.JSONBody, req.ApplicationMergePatchPlusJSONBody)
	d, err := s.plans.UpdateDP(ctx, a, req.AgreementId, version, jsonFields(b), func(d *plan.DPAgreement) {
		if b.SignedDate != nil {
			d.SignedDate = datePtr(b.SignedDate)
		}
		if b.AccountType != nil {
			d.AccountType = string(*b.AccountType)
		}
		if b.PaEvidence != nil {
			e := evidenceIn(*b.PaEvidence)
			if e.InsuranceExpiry != nil {
				d.Evidence.InsuranceExpiry = e.InsuranceExpiry
			}
			if e.DBSCheckDate != nil {
				d.Evidence.DBSCheckDate = e.DBSCheckDate
			}
			if b.PaEvidence.PayrollProvider != nil {
				d.Evidence.PayrollProvider = e.PayrollProvider
			}
		}
	})
	if err != nil {
		return nil, err
	}
	return api.UpdateDirectPaymentAgreement200JSONResponse{Body: dpOut(d), Headers: api.UpdateDirectPaymentAgreement200ResponseHeaders{ETag: etag(d.Version)}}, nil
}

func evidenceIn(e api.PAEvidence) plan.PAEvidence {
	return plan.PAEvidence{InsuranceExpiry: datePtr(e.EmployersLiabilityInsuranceExpiry), DBSCheckDate: datePtr(e.DbsCheckDate), PayrollProvider: deref(e.PayrollProvider)}
}

func dpOut(d plan.DPAgreement) api.DirectPaymentAgreement {
	return api.DirectPaymentAgreement{
		Id: d.ID, PlanId: d.PlanID, BudgetId: d.BudgetID, PersonId: d.PersonID, Recipient: api.DirectPaymentAgreementRecipient(d.Recipient),
		RecipientPersonId: nullableOf(d.RecipientPersonID), RecipientConsented: d.Consented,
		AccountType: api.DirectPaymentAgreementAccountType(d.AccountType), PaymentBasis: api.DirectPaymentAgreementPaymentBasis(d.Basis),
		Frequency: api.DirectPaymentAgreementFrequency(d.Frequency), StartDate: dateOut(d.StartDate), SignedDate: nullableDate(d.SignedDate),
		PaEvidence: api.PAEvidence{EmployersLiabilityInsuranceExpiry: dateOutPtr(d.Evidence.InsuranceExpiry), DbsCheckDate: dateOutPtr(d.Evidence.DBSCheckDate),
			PayrollProvider: nonEmpty(d.Evidence.PayrollProvider)},
		AnnualAmountPence: d.Annual, AmountPerPaymentPence: d.PerPayment(), Version: d.Version, CreatedAt: d.CreatedAt, UpdatedAt: d.UpdatedAt,
		EndDate: nullableDate(d.EndDate), EndReason: nullableOf(d.EndReason),
	}
}

// CreateISFAgreement implements api.StrictServerInterface.
func (s *Server) CreateISFAgreement(ctx context.Context, req api.CreateISFAgreementRequestObject) (api.CreateISFAgreementResponseObject, error) {
	a, err := mustActor(actor.From(ctx))
	if err != nil {
		return nil, err
	}
	b := req.Body
	i, err := s.plans.CreateISF(ctx, a, plan.ISFAgreement{PlanID: b.PlanId, ProviderID: b.ProviderId, PaymentFrequency: string(b.PaymentFrequency),
		StatementFrequency: string(b.StatementFrequency), StartDate: dateOf(b.StartDate)})
	if err != nil {
		return nil, err
	}
	loc := "/v1/isf-agreements/" + i.ID.String()
	return api.CreateISFAgreement201JSONResponse{Body: isfOut(i), Headers: api.CreateISFAgreement201ResponseHeaders{ETag: etag(i.Version), Location: &loc}}, nil
}

// GetISFAgreement implements api.StrictServerInterface.
func (s *Server) GetISFAgreement(ctx context.Context, req api.GetISFAgreementRequestObject) (api.GetISFAgreementResponseObject, error) {
	a, err := mustActor(actor.From(ctx))
	if err != nil {
		return nil, err
	}
	i, err := s.plans.GetISF(ctx, a, req.AgreementId)
	if err != nil {
		return nil, err
	}
	return api.GetISFAgreement200JSONResponse{Body: isfOut(i), Headers: api.GetISFAgreement200ResponseHeaders{ETag: etag(i.Version)}}, nil
}

// ListISFAgreements implements api.StrictServerInterface.
func (s *Server) ListISFAgreements(ctx context.Context, req api.ListISFAgreementsRequestObject) (api.ListISFAgreementsResponseObject, error) {
	a, err := mustActor(actor.From(ctx))
	if err != nil {
		return nil, err
	}
	fp := page.Fingerprint("isf-agreements")
	pr, err := page.Parse(req.Params.PageSize, req.Params.PageToken, fp)
	if err != nil {
		return nil, err
	}
	list, err := s.plans.ListISF(ctx, a, pr)
	if err != nil {
		return nil, err
	}
	items, next := pageOf(list, pr, fp, plan.ISFAgreement.Cursor, isfOut)
	return api.ListISFAgreements200JSONResponse{Body: api.ISFAgreementList{Items: items, NextPageToken: next}}, nil
}

func isfOut(i plan.ISFAgreement) api.ISFAgreement {
	return api.ISFAgreement{Id: i.ID, PlanId: i.PlanID, BudgetId: i.BudgetID, PersonId: i.PersonID, ProviderId: i.ProviderID,
		AnnualAmountPence: i.Annual, AmountPerPaymentPence: i.PerPayment(), PaymentFrequency: api.ISFAgreementPaymentFrequency(i.PaymentFrequency),
		StatementFrequency: api.ISFAgreementStatementFrequency(i.StatementFrequency), StartDate: dateOut(i.StartDate), Version: i.Version,
		CreatedAt: i.CreatedAt, SignedDate: nullableDate(i.SignedDate), EndDate: nullableDate(i.EndDate), EndReason: nullableOf(i.EndReason)}
}

func dateOutPtr(d *date.Date) *openapi_types.Date {
	if d == nil {
		return nil
	}
	o := dateOut(*d)
	return &o
}
