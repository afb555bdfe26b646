package httpapi

import (
	"bytes"
	"context"

	"github.com/google/uuid"
	"github.com/oapi-codegen/nullable"
	openapi_types "github.com/oapi-codegen/runtime/types"

	"github.com/pbudget/pbudget/api"
	"github.com/pbudget/pbudget/internal/access"
	"github.com/pbudget/pbudget/internal/actor"
	"github.com/pbudget/pbudget/internal/page"
	"github.com/pbudget/pbudget/internal/payment"
	"github.com/pbudget/pbudget/internal/plan"
	"github.com/pbudget/pbudget/internal/secret"
)

func agreementOut(r payment.AgreementRecord) api.PaymentAgreement {
	blocked := nullable.NewNullNullable[string]()
	if b := r.BlockReason(); b != "" {
		blocked = nullable.NewNullableWithValue(b)
	}
	return api.PaymentAgreement{Id: r.ID, AgreementType: api.AgreementType(r.Kind), PersonId: r.PersonID, BudgetId: r.BudgetID, PlanId: r.PlanID,
		ProviderId: nullableOf(r.ProviderID), Frequency: api.PaymentAgreementFrequency(r.Frequency), PaymentBasis: api.PaymentAgreementPaymentBasis(r.Basis),
		StartDate: dateOut(r.Start), EndDate: nullableDate(r.End), EndReason: nullableOf(r.EndReason), SignedDate: nullableDate(r.Signed),
		PlanIsApproved: r.PlanApproved, AnnualAmountPence: r.Annual, Suspended: r.SuspendedNow, BlockedReason: blocked, Version: r.Version}
}

func scheduleOut(v payment.ScheduleView) api.PaymentSchedule {
	out := api.PaymentSchedule{Agreement: agreementOut(v.Agreement), Through: dateOut(v.Through), Cycles: []api.PaymentCycle{},
		Suspensions: []api.AgreementSuspension{}, Amounts: []api.AgreementAmount{}}
	for _, c := range v.Cycles {
		pc := api.PaymentCycle{StartDate: dateOut(c.Cycle.Start), EndDate: dateOut(c.Cycle.End), Days: c.Cycle.Days(), DaysInForce: c.DaysInForce,
			DaysOwed: c.DaysOwed, OwedPence: c.Amount, PaidPence: c.Paid, PendingPence: c.Pending, HeldPence: c.Held, AdjustedPence: c.Adjusted,
			OutstandingPence: c.Outstanding, Pieces: []api.PaymentCyclePiece{}}
		for _, p := range c.Pieces {
			pc.Pieces = append(pc.Pieces, api.PaymentCyclePiece{FromDate: dateOut(p.From), ToDate: dateOut(p.To), Days: p.Days(),
				PerCyclePence: p.PerCycle, AmountPence: p.Amount})
		}
		out.Cycles = append(out.Cycles, pc)
	}
	for _, s := range v.Suspensions {
		out.Suspensions = append(out.Suspensions, api.AgreementSuspension{Id: s.ID, FromDate: dateOut(s.From), ResumeDate: nullableDate(s.Resume),
			BackPay: s.BackPay, Reason: s.Reason, ResumeReason: nullableOf(s.ResumeReason), SuspendedBy: s.SuspendedBy, SuspendedAt: s.SuspendedAt,
			ResumedBy: nullableOf(s.ResumedBy), ResumedAt: nullableOf(s.ResumedAt)})
	}
	rule := payment.Agreement{Frequency: v.Agreement.Frequency, Basis: v.Agreement.Basis}
	for _, m := range v.Amounts {
		out.Amounts = append(out.Amounts, api.AgreementAmount{EffectiveFrom: dateOut(m.EffectiveFrom), AnnualPence: m.Annual,
			PerCyclePence: rule.PerCycle(payment.Amount{Annual: m.Annual, CouncilAnnual: m.Annual}), PlanId: m.PlanID, Reason: m.Reason,
			RecordedBy: m.RecordedBy, RecordedAt: m.RecordedAt})
	}
	return out
}

func (s *Server) schedule(ctx context.Context, kind payment.AgreementKind, id uuid.UUID, through *openapi_types.Date) (api.PaymentSchedule, error) {
	a, err := mustActor(actor.From(ctx))
	if err != nil {
		return api.PaymentSchedule{}, err
	}
	v, err := s.payments.Schedule(ctx, a, kind, id, datePtr(through))
	if err != nil {
		return api.PaymentSchedule{}, err
	}
	return scheduleOut(v), nil
}

// GetDirectPaymentSchedule implements api.StrictServerInterface.
func (s *Server) GetDirectPaymentSchedule(ctx context.Context, req api.GetDirectPaymentScheduleRequestObject) (api.GetDirectPaymentScheduleResponseObject, error) {
	out, err := s.schedule(ctx, payment.DirectPaymentKind, req.AgreementId, req.Params.Through)
	if err != nil {
		return nil, err
	}
	return api.GetDirectPaymentSchedule200JSONResponse{Body: out}, nil
}

// GetISFSchedule implements api.StrictServerInterface.
func (s *Server) GetISFSchedule(ctx context.Context, req api.GetISFScheduleRequestObject) (api.GetISFScheduleResponseObject, error) {
	out, err := s.schedule(ctx, payment.ISFKind, req.AgreementId, req.Params.Through)
	if err != nil {
		return nil, err
	}
	return api.GetISFSchedule200JSONResponse{Body: out}, nil
}

// agreementChange runs an action on an agreement at the If-Match version.
func (s *Server) agreementChange(ctx context.Context, ifm *string, fn func(a actor.Actor, version int) (payment.AgreementRecord, error)) (api.PaymentAgreementChangedJSONResponse, error) {
	a, version, err := actorAndVersion(ctx, ifm)
	if err != nil {
		return api.PaymentAgreementChangedJSONResponse{}, err
	}
	r, err := fn(a, version)
	if err != nil {
		return api.PaymentAgreementChangedJSONResponse{}, err
	}
	return api.PaymentAgreementChangedJSONResponse{Body: agreementOut(r), Headers: api.PaymentAgreementChangedResponseHeaders{ETag: etag(r.Version)}}, nil
}

// SuspendDirectPaymentAgreement implements api.StrictServerInterface.
func (s *Server) SuspendDirectPaymentAgreement(ctx context.Context, req api.SuspendDirectPaymentAgreementRequestObject) (api.SuspendDirectPaymentAgreementResponseObject, error) {
	r, err := s.agreementChange(ctx, req.Params.IfMatch, func(a actor.Actor, v int) (payment.AgreementRecord, error) {
		return s.payments.Suspend(ctx, a, payment.DirectPaymentKind, req.AgreementId, v, dateOf(req.Body.FromDate), req.Body.Reason)
	})
	if err != nil {
		return nil, err
	}
	return api.SuspendDirectPaymentAgreement200JSONResponse{PaymentAgreementChangedJSONResponse: r}, nil
}

// SuspendISFAgreement implements api.StrictServerInterface.
func (s *Server) SuspendISFAgreement(ctx context.Context, req api.SuspendISFAgreementRequestObject) (api.SuspendISFAgreementResponseObject, error) {
	r, err := s.agreementChange(ctx, req.Params.IfMatch, func(a actor.Actor, v int) (payment.AgreementRecord, error) {
		return s.payments.Suspend(ctx, a, payment.ISFKind, req.AgreementId, v, dateOf(req.Body.FromDate), req.Body.Reason)
	})
	if err != nil {
		return nil, err
	}
	return api.SuspendISFAgreement200JSONResponse{PaymentAgreementChangedJSONResponse: r}, nil
}

// ResumeDirectPaymentAgreement implements api.StrictServerInterface.
func (s *Server) ResumeDirectPaymentAgreement(ctx context.Context, req api.ResumeDirectPaymentAgreementRequestObject) (api.ResumeDirectPaymentAgreementResponseObject, error) {
	b := req.Body
	r, err := s.agreementChange(ctx, req.Params.IfMatch, func(a actor.Actor, v int) (payment.AgreementRecord, error) {
		return s.payments.Resume(ctx, a, payment.DirectPaymentKind, req.AgreementId, v, dateOf(b.ResumeDate), b.BackPay != nil && *b.BackPay, b.Reason)
	})
	if err != nil {
		return nil, err
	}
	return api.ResumeDirectPaymentAgreement200JSONResponse{PaymentAgreementChangedJSONResponse: r}, nil
}

// ResumeISFAgreement implements api.StrictServerInterface.
func (s *Server) ResumeISFAgreement(ctx context.Context, req api.ResumeISFAgreementRequestObject) (api.ResumeISFAgreementResponseObject, error) {
	b := req.Body
	r, err := s.agreementChange(ctx, req.Params.IfMatch, func(a actor.Actor, v int) (payment.AgreementRecord, error) {
		return s.payments.Resume(ctx, a, payment.ISFKind, req.AgreementId, v, dateOf(b.ResumeDate), b.BackPay != nil && *b.BackPay, b.Reason)
	})
	if err != nil {
		return nil, err
	}
	return api.ResumeISFAgreement200JSONResponse{PaymentAgreementChangedJSONResponse: r}, nil
}

// EndDirectPaymentAgreement implements api.StrictServerInterface.
func (s *Server) EndDirectPaymentAgreement(ctx context.Context, req api.EndDirectPaymentAgreementRequestObject) (api.EndDirectPaymentAgreementResponseObject, error) {
	r, err := s.agreementChange(ctx, req.Params.IfMatch, func(a actor.Actor, v int) (payment.AgreementRecord, error) {
		return s.payments.End(ctx, a, payment.DirectPaymentKind, req.AgreementId, v, dateOf(req.Body.EndDate), req.Body.Reason)
	})
	if err != nil {
		return nil, err
	}
	return api.EndDirectPaymentAgreement200JSONResponse{PaymentAgreementChangedJSONResponse: r}, nil
}

// EndISFAgreement implements api.StrictServerInterface.
func (s *Server) EndISFAgreement(ctx context.Context, req api.EndISFAgreementRequestObject) (api.EndISFAgreementResponseObject, error) {
	r, err := s.agreementChange(ctx, req.Params.IfMatch, func(a actor.Actor, v int) (payment.AgreementRecord, error) {
		return s.payments.End(ctx, a, payment.ISFKind, req.AgreementId, v, dateOf(req.Body.EndDate), req.Body.Reason)
	})
	if err != nil {
		return nil, err
	}
	return api.EndISFAgreement200JSONResponse{PaymentAgreementChangedJSONResponse: r}, nil
}

// RepriceDirectPaymentAgreement implements api.StrictServerInterface.
func (s *Server) RepriceDirectPaymentAgreement(ctx context.Context, req api.RepriceDirectPaymentAgreementRequestObject) (api.RepriceDirectPaymentAgreementResponseObject, error) {
	r, err := s.agreementChange(ctx, req.Params.IfMatch, func(a actor.Actor, v int) (payment.AgreementRecord, error) {
		return s.payments.Reprice(ctx, a, payment.DirectPaymentKind, req.AgreementId, v, dateOf(req.Body.EffectiveFrom), req.Body.Reason)
	})
	if err != nil {
		return nil, err
	}
	return api.RepriceDirectPaymentAgreement200JSONResponse{PaymentAgreementChangedJSONResponse: r}, nil
}

// RepriceISFAgreement implements api.StrictServerInterface.
func (s *Server) RepriceISFAgreement(ctx context.Context, req api.RepriceISFAgreementRequestObject) (api.RepriceISFAgreementResponseObject, error) {
	r, err := s.agreementChange(ctx, req.Params.IfMatch, func(a actor.Actor, v int) (payment.AgreementRecord, error) {
		return s.payments.Reprice(ctx, a, payment.ISFKind, req.AgreementId, v, dateOf(req.Body.EffectiveFrom), req.Body.Reason)
	})
	if err != nil {
		return nil, err
	}
	return api.RepriceISFAgreement200JSONResponse{PaymentAgreementChangedJSONResponse: r}, nil
}

// ListPaymentAgreements implements api.StrictServerInterface.
func (s *Server) ListPaymentAgreements(ctx context.Context, req api.ListPaymentAgreementsRequestObject) (api.ListPaymentAgreementsResponseObject, error) {
	a, err := mustActor(actor.From(ctx))
	if err != nil {
		return nil, err
	}
	prm := req.Params
	f := payment.AgreementFilter{NeverPaid: isTrue(prm.NeverPaid), DetailsUnconfirmed: isTrue(prm.DetailsUnconfirmed), Suspended: isTrue(prm.Suspended)}
	if prm.AgreementType != nil {
		f.Kind = payment.AgreementKind(*prm.AgreementType)
	}
	fp := page.Fingerprint("payment-agreements", boolString(f.NeverPaid), boolString(f.DetailsUnconfirmed), boolString(f.Suspended), string(f.Kind))
	pr, err := page.Parse(prm.PageSize, prm.PageToken, fp)
	if err != nil {
		return nil, err
	}
	list, err := s.payments.ListAgreements(ctx, a, f, pr)
	if err != nil {
		return nil, err
	}
	items, next := pageOf(list, pr, fp, payment.AgreementRecord.Cursor, agreementOut)
	return api.ListPaymentAgreements200JSONResponse{Body: api.PaymentAgreementList{Items: items, NextPageToken: next}}, nil
}

func isTrue(b *bool) bool { return b != nil && *b }

func maskedOut(d *payment.DetailsRecord) nullable.Nullable[api.MaskedDetails] {
	if d == nil {
		return nullable.NewNullNullable[api.MaskedDetails]()
	}
	return nullable.NewNullableWithValue(api.MaskedDetails{Id: d.ID, Kind: api.MaskedDetailsKind(d.Kind), SortCode: nullableOf(d.MaskedSortCode),
		AccountNumber: d.MaskedNumber, Status: api.MaskedDetailsStatus(d.Status), SetBy: d.SetBy, SetAt: d.SetAt, ConfirmedBy: nullableOf(d.ConfirmedBy),
		ConfirmedAt: nullableOf(d.ConfirmedAt), ReturnedAt: nullableOf(d.ReturnedAt), ReturnReason: nullableOf(d.ReturnReason)})
}

func detailsOut(v payment.DetailsView) api.RecipientDetails {
	return api.RecipientDetails{Confirmed: maskedOut(v.Confirmed), Pending: maskedOut(v.Pending)}
}

func detailsSetIn(b api.RecipientDetailsSet) payment.DetailsInput {
	in := payment.DetailsInput{Reason: b.Reason}
	if b.BankAccount != nil {
		acct := secret.NewBankAccount(b.BankAccount.SortCode, b.BankAccount.AccountNumber, b.BankAccount.AccountName)
		in.Bank = &acct
	}
	if b.PrepaidCard != nil {
		card := secret.Last4(b.PrepaidCard.CardAccountReference)
		in.Card = &card
	}
	return in
}

func detailsConfirmIn(b api.RecipientDetailsConfirm) payment.DetailsInput {
	var in payment.DetailsInput
	if b.BankAccount != nil {
		acct := secret.NewBankAccount(b.BankAccount.SortCode, b.BankAccount.AccountNumber, "")
		in.Bank = &acct
	}
	if b.PrepaidCard != nil {
		card := secret.Last4(b.PrepaidCard.CardAccountReference)
		in.Card = &card
	}
	return in
}

func (s *Server) details(ctx context.Context, o payment.DetailsOwner, do func(a actor.Actor) (payment.DetailsView, error)) (api.RecipientDetails, error) {
	a, err := mustActor(actor.From(ctx))
	if err != nil {
		return api.RecipientDetails{}, err
	}
	v, err := do(a)
	if err != nil {
		return api.RecipientDetails{}, err
	}
	return detailsOut(v), nil
}

// GetDirectPaymentDetails implements api.StrictServerInterface.
func (s *Server) GetDirectPaymentDetails(ctx context.Context, req api.GetDirectPaymentDetailsRequestObject) (api.GetDirectPaymentDetailsResponseObject, error) {
	o := payment.DetailsOwner{AgreementID: &req.AgreementId}
	out, err := s.details(ctx, o, func(a actor.Actor) (payment.DetailsView, error) {
		v, err := s.payments.Details(ctx, a, o)
		if err != nil {
			return v, err
		}
		who, err := s.payments.AgreementPerson(ctx, a, payment.DirectPaymentKind, req.AgreementId)
		access.NoteSubject(ctx, who)
		return v, err
	})
	if err != nil {
		return nil, err
	}
	return api.GetDirectPaymentDetails200JSONResponse{Body: out}, nil
}

// SetDirectPaymentDetails implements api.StrictServerInterface.
func (s *Server) SetDirectPaymentDetails(ctx context.Context, req api.SetDirectPaymentDetailsRequestObject) (api.SetDirectPaymentDetailsResponseObject, error) {
	o := payment.DetailsOwner{AgreementID: &req.AgreementId}
	out, err := s.details(ctx, o, func(a actor.Actor) (payment.DetailsView, error) {
		return s.payments.SetDetails(ctx, a, o, detailsSetIn(*req.Body))
	})
	if err != nil {
		return nil, err
	}
	return api.SetDirectPaymentDetails200JSONResponse{Body: out}, nil
}

// ConfirmDirectPaymentDetails implements api.StrictServerInterface.
func (s *Server) ConfirmDirectPaymentDetails(ctx context.Context, req api.ConfirmDirectPaymentDetailsRequestObject) (api.ConfirmDirectPaymentDetailsResponseObject, error) {
	o := payment.DetailsOwner{AgreementID: &req.AgreementId}
	out, err := s.details(ctx, o, func(a actor.Actor) (payment.DetailsView, error) {
		return s.payments.ConfirmDetails(ctx, a, o, detailsConfirmIn(*req.Body))
	})
	if err != nil {
		return nil, err
	}
	return api.ConfirmDirectPaymentDetails200JSONResponse{Body: out}, nil
}

// GetProviderBankDetails implements api.StrictServerInterface.
func (s *Server) GetProviderBankDetails(ctx context.Context, req api.GetProviderBankDetailsRequestObject) (api.GetProviderBankDetailsResponseObject, error) {
	o := payment.DetailsOwner{ProviderID: &req.ProviderId}
	out, err := s.details(ctx, o, func(a actor.Actor) (payment.DetailsView, error) { return s.payments.Details(ctx, a, o) })
	if err != nil {
		return nil, err
	}
	return api.GetProviderBankDetails200JSONResponse{Body: out}, nil
}

// SetProviderBankDetails implements api.StrictServerInterface.
func (s *Server) SetProviderBankDetails(ctx context.Context, req api.SetProviderBankDetailsRequestObject) (api.SetProviderBankDetailsResponseObject, error) {
	o := payment.DetailsOwner{ProviderID: &req.ProviderId}
	out, err := s.details(ctx, o, func(a actor.Actor) (payment.DetailsView, error) {
		return s.payments.SetDetails(ctx, a, o, detailsSetIn(*req.Body))
	})
	if err != nil {
		return nil, err
	}
	return api.SetProviderBankDetails200JSONResponse{Body: out}, nil
}

// ConfirmProviderBankDetails implements api.StrictServerInterface.
func (s *Server) ConfirmProviderBankDetails(ctx context.Context, req api.ConfirmProviderBankDetailsRequestObject) (api.ConfirmProviderBankDetailsResponseObject, error) {
	o := payment.DetailsOwner{ProviderID: &req.ProviderId}
	out, err := s.details(ctx, o, func(a actor.Actor) (payment.DetailsView, error) {
		return s.payments.ConfirmDetails(ctx, a, o, detailsConfirmIn(*req.Body))
	})
	if err != nil {
		return nil, err
	}
	return api.ConfirmProviderBankDetails200JSONResponse{Body: out}, nil
}

func oneOffOut(o payment.OneOffRecord) api.OneOffPayment {
	return api.OneOffPayment{Id: o.ID, AgreementId: o.AgreementID, AgreementType: api.AgreementType(o.AgreementKind), PlanLineId: nullableOf(o.PlanLineID),
		AmountPence: o.Amount, Reason: o.Reason, DueDate: nullableDate(o.Due), Status: api.OneOffStatus(o.Status), RequestedBy: o.RequestedBy,
		RequestedAt: o.RequestedAt, ApprovedBy: nullableOf(o.ApprovedBy), ApprovedAt: nullableOf(o.ApprovedAt), PaidInRunId: nullableOf(o.PaidInRun),
		Version: o.Version}
}

// CreateOneOffPayment implements api.StrictServerInterface.
func (s *Server) CreateOneOffPayment(ctx context.Context, req api.CreateOneOffPaymentRequestObject) (api.CreateOneOffPaymentResponseObject, error) {
	a, err := mustActor(actor.From(ctx))
	if err != nil {
		return nil, err
	}
	b := req.Body
	o, err := s.payments.CreateOneOff(ctx, a, payment.OneOffInput{AgreementID: b.AgreementId, PlanLineID: b.PlanLineId, Amount: b.AmountPence,
		Due: datePtr(b.DueDate), Reason: b.Reason})
	if err != nil {
		return nil, err
	}
	loc := "/v1/one-off-payments/" + o.ID.String()
	return api.CreateOneOffPayment201JSONResponse{Body: oneOffOut(o), Headers: api.CreateOneOffPayment201ResponseHeaders{ETag: etag(o.Version), Location: &loc}}, nil
}

// ListOneOffPayments implements api.StrictServerInterface.
func (s *Server) ListOneOffPayments(ctx context.Context, req api.ListOneOffPaymentsRequestObject) (api.ListOneOffPaymentsResponseObject, error) {
	a, err := mustActor(actor.From(ctx))
	if err != nil {
		return nil, err
	}
	prm := req.Params
	var status payment.OneOffStatus
	if prm.Status != nil {
		status = payment.OneOffStatus(*prm.Status)
	}
	fp := page.Fingerprint("one-off-payments", string(status), idOrEmpty(prm.AgreementId))
	pr, err := page.Parse(prm.PageSize, prm.PageToken, fp)
	if err != nil {
		return nil, err
	}
	list, err := s.payments.ListOneOffs(ctx, a, status, prm.AgreementId, pr)
	if err != nil {
		return nil, err
	}
	items, next := pageOf(list, pr, fp, payment.OneOffRecord.PageCursor, oneOffOut)
	return api.ListOneOffPayments200JSONResponse{Body: api.OneOffPaymentList{Items: items, NextPageToken: next}}, nil
}

func idOrEmpty(id *openapi_types.UUID) string {
	if id == nil {
		return ""
	}
	return id.String()
}

// GetOneOffPayment implements api.StrictServerInterface.
func (s *Server) GetOneOffPayment(ctx context.Context, req api.GetOneOffPaymentRequestObject) (api.GetOneOffPaymentResponseObject, error) {
	a, err := mustActor(actor.From(ctx))
	if err != nil {
		return nil, err
	}
	o, err := s.payments.GetOneOff(ctx, a, req.OneOffId)
	if err != nil {
		return nil, err
	}
	return api.GetOneOffPayment200JSONResponse{Body: oneOffOut(o), Headers: api.GetOneOffPayment200ResponseHeaders{ETag: etag(o.Version)}}, nil
}

// ApproveOneOffPayment implements api.StrictServerInterface.
func (s *Server) ApproveOneOffPayment(ctx context.Context, req api.ApproveOneOffPaymentRequestObject) (api.ApproveOneOffPaymentResponseObject, error) {
	a, version, err := actorAndVersion(ctx, req.Params.IfMatch)
	if err != nil {
		return nil, err
	}
	o, err := s.payments.ApproveOneOff(ctx, a, req.OneOffId, version)
	if err != nil {
		return nil, err
	}
	return api.ApproveOneOffPayment200JSONResponse{Body: oneOffOut(o), Headers: api.ApproveOneOffPayment200ResponseHeaders{ETag: etag(o.Version)}}, nil
}

func fileOut(f payment.FileRecord) api.PaymentFile {
	return api.PaymentFile{Id: f.ID, RunId: f.RunID, Kind: api.PaymentFileKind(f.Kind), ProviderId: nullableOf(f.ProviderID), Name: f.Name,
		MediaType: api.PaymentFileMediaType(f.MediaType), Sha256: f.SHA256, SizeBytes: f.Size, RecordCount: f.Records, TotalPence: f.Total,
		CreatedAt: f.CreatedAt}
}

func runOut(r payment.RunRecord, files []payment.FileRecord) api.PaymentRun {
	t := r.Totals
	out := api.PaymentRun{Id: r.ID, Number: r.Number, PayDate: dateOut(r.PayDate), Status: api.PaymentRunStatus(r.Status), LeadDays: r.LeadDays,
		Horizon: dateOut(r.Horizon), ProcessingDay: nullableDate(r.ProcessingDay), CreatedBy: r.CreatedBy, CreatedAt: r.CreatedAt,
		ApprovedBy: nullableOf(r.ApprovedBy), ApprovedAt: nullableOf(r.ApprovedAt), ExportedBy: nullableOf(r.ExportedBy), ExportedAt: nullableOf(r.ExportedAt),
		PaidBy: nullableOf(r.PaidBy), PaidAt: nullableOf(r.PaidAt), CancelledBy: nullableOf(r.CancelledBy), CancelledAt: nullableOf(r.CancelledAt),
		CancelReason: nullableOf(r.CancelReason), BuildError: nullableOf(r.BuildError),
		Progress: api.PaymentRunProgress{AgreementsTotal: r.AgreementsTotal, AgreementsProcessed: r.AgreementsProcessed},
		Totals: api.PaymentRunTotals{LineCount: t.Lines, AgreementCount: t.Agreements, SkippedCount: t.Skipped, TotalPence: t.Total, HeldLineCount: t.HeldLines,
			HeldPence: t.Held, ReturnedLineCount: t.ReturnedLines, ReturnedPence: t.Returned},
		Files: make([]api.PaymentFile, len(files)), Version: r.Version, UpdatedAt: r.UpdatedAt}
	for i, f := range files {
		out.Files[i] = fileOut(f)
	}
	return out
}

// CreatePaymentRun implements api.StrictServerInterface.
func (s *Server) CreatePaymentRun(ctx context.Context, req api.CreatePaymentRunRequestObject) (api.CreatePaymentRunResponseObject, error) {
	a, err := mustActor(actor.From(ctx))
	if err != nil {
		return nil, err
	}
	r, err := s.payments.CreateRun(ctx, a, dateOf(req.Body.PayDate))
	if err != nil {
		return nil, err
	}
	loc := "/v1/payment-runs/" + r.ID.String()
	return api.CreatePaymentRun202JSONResponse{Body: runOut(r, nil), Headers: api.CreatePaymentRun202ResponseHeaders{Location: &loc, ETag: etag(r.Version)}}, nil
}

// ListPaymentRuns implements api.StrictServerInterface.
func (s *Server) ListPaymentRuns(ctx context.Context, req api.ListPaymentRunsRequestObject) (api.ListPaymentRunsResponseObject, error) {
	a, err := mustActor(actor.From(ctx))
	if err != nil {
		return nil, err
	}
	prm := req.Params
	var f payment.RunFilter
	if prm.Status != nil {
		f.Status = payment.RunStatus(*prm.Status)
	}
	f.PayDate = datePtr(prm.PayDate)
	pay := ""
	if f.PayDate != nil {
		pay = f.PayDate.String()
	}
	fp := page.Fingerprint("payment-runs", string(f.Status), pay)
	pr, err := page.Parse(prm.PageSize, prm.PageToken, fp)
	if err != nil {
		return nil, err
	}
	list, err := s.payments.ListRuns(ctx, a, f, pr)
	if err != nil {
		return nil, err
	}
	items, next := pageOf(list, pr, fp, payment.RunRecord.PageCursor, func(r payment.RunRecord) api.PaymentRun { return runOut(r, nil) })
	return api.ListPaymentRuns200JSONResponse{Body: api.PaymentRunList{Items: items, NextPageToken: next}}, nil
}

// GetPaymentRun implements api.StrictServerInterface.
func (s *Server) GetPaymentRun(ctx context.Context, req api.GetPaymentRunRequestObject) (api.GetPaymentRunResponseObject, error) {
	a, err := mustActor(actor.From(ctx))
	if err != nil {
		return nil, err
	}
	r, files, err := s.payments.GetRun(ctx, a, req.RunId)
	if err != nil {
		return nil, err
	}
	return api.GetPaymentRun200JSONResponse{Body: runOut(r, files), Headers: api.GetPaymentRun200ResponseHeaders{ETag: etag(r.Version)}}, nil
}

func paymentLineOut(l payment.StoredLine) api.PaymentLine {
	out := api.PaymentLine{Id: l.ID, RunId: l.RunID, AgreementId: l.AgreementID, AgreementType: api.AgreementType(l.AgreementKind), PersonId: l.PersonID,
		ProviderId: nullableOf(l.ProviderID), Kind: api.PaymentLineKind(l.Kind), Seq: l.Seq, AmountPence: l.Amount, Reason: l.Reason, Held: l.Held,
		State: api.PaymentLineState(l.State), ReturnReason: nullableOf(l.ReturnReason), CreatedAt: l.CreatedAt,
		CycleStart: nullable.NewNullNullable[openapi_types.Date](), CycleEnd: nullable.NewNullNullable[openapi_types.Date](),
		OneOffId: nullable.NewNullNullable[openapi_types.UUID](), CarriedFromRunId: nullable.NewNullNullable[openapi_types.UUID](),
		RecoveryId: nullable.NewNullNullable[openapi_types.UUID](),
		OwedPence:  nullable.NewNullNullable[int64](), TakenPence: nullable.NewNullNullable[int64](), HoldReason: nullable.NewNullNullable[string]()}
	switch l.Kind {
	case payment.KindCycle, payment.KindAdjustment:
		out.CycleStart, out.CycleEnd = nullable.NewNullableWithValue(dateOut(l.CycleStart)), nullable.NewNullableWithValue(dateOut(l.CycleEnd))
		out.OwedPence = nullable.NewNullableWithValue(l.Owed)
		if l.Kind == payment.KindAdjustment {
			out.TakenPence = nullable.NewNullableWithValue(l.Taken)
		}
	case payment.KindOneOff:
		out.OneOffId = nullable.NewNullableWithValue(l.OneOffID)
	case payment.KindRecovery:
		out.CycleStart, out.CycleEnd = nullable.NewNullableWithValue(dateOut(l.CycleStart)), nullable.NewNullableWithValue(dateOut(l.CycleEnd))
		out.RecoveryId = nullable.NewNullableWithValue(l.RecoveryID)
	default:
		out.CarriedFromRunId = nullable.NewNullableWithValue(l.Carry)
	}
	if l.Held {
		out.HoldReason = nullable.NewNullableWithValue(l.HoldReason)
	}
	return out
}

func (s *Server) lineList(ctx context.Context, scope string, f payment.LineFilter, size *int, token *string) (api.PaymentLineList, error) {
	a, err := mustActor(actor.From(ctx))
	if err != nil {
		return api.PaymentLineList{}, err
	}
	held := ""
	if f.Held != nil {
		held = boolString(*f.Held)
	}
	fp := page.Fingerprint("payment-lines", scope, held, idOrEmpty(f.AgreementID))
	pr, err := page.Parse(size, token, fp)
	if err != nil {
		return api.PaymentLineList{}, err
	}
	list, err := s.payments.ListLines(ctx, a, f, pr)
	if err != nil {
		return api.PaymentLineList{}, err
	}
	items, next := pageOf(list, pr, fp, payment.StoredLine.PageCursor, paymentLineOut)
	return api.PaymentLineList{Items: items, NextPageToken: next}, nil
}

// ListPaymentRunLines implements api.StrictServerInterface.
func (s *Server) ListPaymentRunLines(ctx context.Context, req api.ListPaymentRunLinesRequestObject) (api.ListPaymentRunLinesResponseObject, error) {
	prm := req.Params
	out, err := s.lineList(ctx, req.RunId.String(), payment.LineFilter{RunID: &req.RunId, Held: prm.Held, AgreementID: prm.AgreementId}, prm.PageSize, prm.PageToken)
	if err != nil {
		return nil, err
	}
	return api.ListPaymentRunLines200JSONResponse{Body: out}, nil
}

// ListPaymentLines implements api.StrictServerInterface.
func (s *Server) ListPaymentLines(ctx context.Context, req api.ListPaymentLinesRequestObject) (api.ListPaymentLinesResponseObject, error) {
	prm := req.Params
	out, err := s.lineList(ctx, "", payment.LineFilter{Held: prm.Held, AgreementID: prm.AgreementId}, prm.PageSize, prm.PageToken)
	if err != nil {
		return nil, err
	}
	return api.ListPaymentLines200JSONResponse{Body: out}, nil
}

// runChange runs an action on a run at the If-Match version.
func (s *Server) runChange(ctx context.Context, ifm *string, fn func(a actor.Actor, version int) (payment.RunRecord, []payment.FileRecord, error)) (api.PaymentRunChangedJSONResponse, error) {
	a, version, err := actorAndVersion(ctx, ifm)
	if err != nil {
		return api.PaymentRunChangedJSONResponse{}, err
	}
	r, files, err := fn(a, version)
	if err != nil {
		return api.PaymentRunChangedJSONResponse{}, err
	}
	return api.PaymentRunChangedJSONResponse{Body: runOut(r, files), Headers: api.PaymentRunChangedResponseHeaders{ETag: etag(r.Version)}}, nil
}

// HoldPaymentLine implements api.StrictServerInterface.
func (s *Server) HoldPaymentLine(ctx context.Context, req api.HoldPaymentLineRequestObject) (api.HoldPaymentLineResponseObject, error) {
	r, err := s.runChange(ctx, req.Params.IfMatch, func(a actor.Actor, v int) (payment.RunRecord, []payment.FileRecord, error) {
		return s.payments.Hold(ctx, a, req.RunId, req.PaymentLineId, v, req.Body.Reason)
	})
	if err != nil {
		return nil, err
	}
	return api.HoldPaymentLine200JSONResponse{PaymentRunChangedJSONResponse: r}, nil
}

// ReleasePaymentLine implements api.StrictServerInterface.
func (s *Server) ReleasePaymentLine(ctx context.Context, req api.ReleasePaymentLineRequestObject) (api.ReleasePaymentLineResponseObject, error) {
	r, err := s.runChange(ctx, req.Params.IfMatch, func(a actor.Actor, v int) (payment.RunRecord, []payment.FileRecord, error) {
		return s.payments.Release(ctx, a, req.RunId, req.PaymentLineId, v, req.Body.Reason)
	})
	if err != nil {
		return nil, err
	}
	return api.ReleasePaymentLine200JSONResponse{PaymentRunChangedJSONResponse: r}, nil
}

// ApprovePaymentRun implements api.StrictServerInterface.
func (s *Server) ApprovePaymentRun(ctx context.Context, req api.ApprovePaymentRunRequestObject) (api.ApprovePaymentRunResponseObject, error) {
	r, err := s.runChange(ctx, req.Params.IfMatch, func(a actor.Actor, v int) (payment.RunRecord, []payment.FileRecord, error) {
		return s.payments.ApproveRun(ctx, a, req.RunId, v)
	})
	if err != nil {
		return nil, err
	}
	return api.ApprovePaymentRun200JSONResponse{PaymentRunChangedJSONResponse: r}, nil
}

// ExportPaymentRun implements api.StrictServerInterface.
func (s *Server) ExportPaymentRun(ctx context.Context, req api.ExportPaymentRunRequestObject) (api.ExportPaymentRunResponseObject, error) {
	r, err := s.runChange(ctx, req.Params.IfMatch, func(a actor.Actor, v int) (payment.RunRecord, []payment.FileRecord, error) {
		return s.payments.Export(ctx, a, req.RunId, v)
	})
	if err != nil {
		return nil, err
	}
	return api.ExportPaymentRun200JSONResponse{PaymentRunChangedJSONResponse: r}, nil
}

func returnsIn(rs *[]api.PaymentReturn) []payment.Return {
	if rs == nil {
		return nil
	}
	out := make([]payment.Return, len(*rs))
	for i, r := range *rs {
		out[i] = payment.Return{LineID: r.PaymentLineId, Reason: r.Reason}
	}
	return out
}

// MarkPaymentRunPaid implements api.StrictServerInterface.
func (s *Server) MarkPaymentRunPaid(ctx context.Context, req api.MarkPaymentRunPaidRequestObject) (api.MarkPaymentRunPaidResponseObject, error) {
	r, err := s.runChange(ctx, req.Params.IfMatch, func(a actor.Actor, v int) (payment.RunRecord, []payment.FileRecord, error) {
		return s.payments.MarkPaid(ctx, a, req.RunId, v, returnsIn(req.Body.Returned))
	})
	if err != nil {
		return nil, err
	}
	return api.MarkPaymentRunPaid200JSONResponse{PaymentRunChangedJSONResponse: r}, nil
}

// RecordPaymentReturns implements api.StrictServerInterface.
func (s *Server) RecordPaymentReturns(ctx context.Context, req api.RecordPaymentReturnsRequestObject) (api.RecordPaymentReturnsResponseObject, error) {
	r, err := s.runChange(ctx, req.Params.IfMatch, func(a actor.Actor, v int) (payment.RunRecord, []payment.FileRecord, error) {
		return s.payments.RecordReturns(ctx, a, req.RunId, v, returnsIn(&req.Body.Returned))
	})
	if err != nil {
		return nil, err
	}
	return api.RecordPaymentReturns200JSONResponse{PaymentRunChangedJSONResponse: r}, nil
}

// CancelPaymentRun implements api.StrictServerInterface.
func (s *Server) CancelPaymentRun(ctx context.Context, req api.CancelPaymentRunRequestObject) (api.CancelPaymentRunResponseObject, error) {
	r, err := s.runChange(ctx, req.Params.IfMatch, func(a actor.Actor, v int) (payment.RunRecord, []payment.FileRecord, error) {
		return s.payments.CancelRun(ctx, a, req.RunId, v, req.Body.Reason)
	})
	if err != nil {
		return nil, err
	}
	return api.CancelPaymentRun200JSONResponse{PaymentRunChangedJSONResponse: r}, nil
}

// ListPaymentFiles implements api.StrictServerInterface.
func (s *Server) ListPaymentFiles(ctx context.Context, req api.ListPaymentFilesRequestObject) (api.ListPaymentFilesResponseObject, error) {
	a, err := mustActor(actor.From(ctx))
	if err != nil {
		return nil, err
	}
	prm := req.Params
	f := payment.FileFilter{RunID: prm.RunId, ProviderID: prm.ProviderId}
	if prm.Kind != nil {
		f.Kind = payment.FileKind(*prm.Kind)
	}
	fp := page.Fingerprint("payment-files", idOrEmpty(f.RunID), string(f.Kind), idOrEmpty(f.ProviderID))
	pr, err := page.Parse(prm.PageSize, prm.PageToken, fp)
	if err != nil {
		return nil, err
	}
	list, err := s.payments.ListFiles(ctx, a, f, pr)
	if err != nil {
		return nil, err
	}
	items, next := pageOf(list, pr, fp, payment.FileRecord.PageCursor, fileOut)
	return api.ListPaymentFiles200JSONResponse{Body: api.PaymentFileList{Items: items, NextPageToken: next}}, nil
}

// GetPaymentFile implements api.StrictServerInterface.
func (s *Server) GetPaymentFile(ctx context.Context, req api.GetPaymentFileRequestObject) (api.GetPaymentFileResponseObject, error) {
	a, err := mustActor(actor.From(ctx))
	if err != nil {
		return nil, err
	}
	f, body, err := s.payments.FileContent(ctx, a, req.FileId)
	if err != nil {
		return nil, err
	}
	disposition := `attachment; filename="` + f.Name + `"`
	h := api.GetPaymentFile200ResponseHeaders{ContentDisposition: &disposition}
	if f.MediaType == "text/csv" {
		return api.GetPaymentFile200TextcsvResponse{Body: bytes.NewReader(body), ContentLength: int64(len(body)), Headers: h}, nil
	}
	return api.GetPaymentFile200TextResponse{Body: string(body), Headers: h}, nil
}

// ListPaymentOverpayments implements api.StrictServerInterface.
func (s *Server) ListPaymentOverpayments(ctx context.Context, req api.ListPaymentOverpaymentsRequestObject) (api.ListPaymentOverpaymentsResponseObject, error) {
	a, err := mustActor(actor.From(ctx))
	if err != nil {
		return nil, err
	}
	prm := req.Params
	fp := page.Fingerprint("payment-overpayments", idOrEmpty(prm.AgreementId))
	pr, err := page.Parse(prm.PageSize, prm.PageToken, fp)
	if err != nil {
		return nil, err
	}
	list, err := s.payments.ListOverpayments(ctx, a, prm.AgreementId, pr)
	if err != nil {
		return nil, err
	}
	items, next := pageOf(list, pr, fp, payment.OverpaymentRecord.PageCursor, func(o payment.OverpaymentRecord) api.Overpayment {
		return api.Overpayment{Id: o.ID, AgreementId: o.AgreementID, AgreementType: api.AgreementType(o.AgreementKind), RunId: o.RunID, LineId: o.LineID,
			AmountPence: o.Amount, Reason: o.Reason, Status: "to_recover", RecordedAt: o.RecordedAt}
	})
	return api.ListPaymentOverpayments200JSONResponse{Body: api.OverpaymentList{Items: items, NextPageToken: next}}, nil
}

// GetBudgetCommitments implements api.StrictServerInterface.
func (s *Server) GetBudgetCommitments(ctx context.Context, req api.GetBudgetCommitmentsRequestObject) (api.GetBudgetCommitmentsResponseObject, error) {
	a, err := mustActor(actor.From(ctx))
	if err != nil {
		return nil, err
	}
	c, err := s.payments.Commitments(ctx, a, req.BudgetId)
	if err != nil {
		return nil, err
	}
	access.NoteSubject(ctx, c.PersonID)
	out := api.BudgetCommitments{BudgetId: c.BudgetID, PlanId: nullableOf(c.PlanID), AnnualPence: c.Annual, WeeklyPence: c.Weekly,
		CouncilAnnualPence: nullableOf(c.CouncilAnnual), PersonAnnualPence: nullableOf(c.PersonAnnual), Providers: []api.ProviderCommitment{}}
	for _, p := range c.Providers {
		out.Providers = append(out.Providers, api.ProviderCommitment{ProviderId: nullableOf(p.ProviderID), LineCount: p.Lines, AnnualPence: p.Annual,
			WeeklyPence: p.Weekly})
	}
	return api.GetBudgetCommitments200JSONResponse{Body: out}, nil
}

// UpdateISFAgreement implements api.StrictServerInterface.
func (s *Server) UpdateISFAgreement(ctx context.Context, req api.UpdateISFAgreementRequestObject) (api.UpdateISFAgreementResponseObject, error) {
	a, version, err := actorAndVersion(ctx, req.Params.IfMatch)
	if err != nil {
		return nil, err
	}
	b := req.Body
	i, err := s.plans.UpdateISF(ctx, a, req.AgreementId, version, jsonFields(b), func(i *plan.ISFAgreement) {
		if b.SignedDate != nil {
			i.SignedDate = datePtr(b.SignedDate)
		}
	})
	if err != nil {
		return nil, err
	}
	return api.UpdateISFAgreement200JSONResponse{Body: isfOut(i), Headers: api.UpdateISFAgreement200ResponseHeaders{ETag: etag(i.Version)}}, nil
}
