package httpapi

import (
	"bytes"
	"context"

	"github.com/oapi-codegen/nullable"

	"github.com/pbudget/pbudget/api"
	"github.com/pbudget/pbudget/internal/access"
	"github.com/pbudget/pbudget/internal/actor"
	"github.com/pbudget/pbudget/internal/dpaudit"
	"github.com/pbudget/pbudget/internal/dpfinance"
	"github.com/pbudget/pbudget/internal/portal"
	"github.com/pbudget/pbudget/internal/recovery"
)

// The person's audits and recoveries (/v1/me/audits, /v1/me/recoveries): what evidence is asked
// for and by when, the outcome with its reason, and money recovered with its reason and how to
// dispute it. Never who asked, decided or recorded anything (the staff schemas' created_by), nor
// an ad hoc audit's concern, which is the council's note.

func myAuditOut(v portal.AuditView) api.MyAudit {
	au := v.Audit
	out := api.MyAudit{Id: au.ID, AgreementId: au.AgreementID, AccountId: v.AccountID, PersonId: au.PersonID, Kind: api.MyAuditKind(au.Kind),
		PeriodStart: dateOut(au.Period.Start), PeriodEnd: dateOut(au.Period.End), Due: dateOut(au.Due), State: api.MyAuditState(au.State),
		EvidenceDue: nullableDate(au.EvidenceDue), EvidenceRequested: []api.MyAuditEvidenceItem{}, EvidenceSent: make([]api.MyEvidence, len(v.Sent)),
		Reconciliation: []api.MyStep{}, Surplus: []api.MyStep{}, Findings: []api.AuditFinding{}, MisspendPence: au.Misspend,
		MisspendCouncilSharePence: au.MisspendCouncil, Outcome: nullable.NewNullNullable[api.AuditOutcome](),
		CancelReason: nullableOf(au.CancelReason), LetterAvailable: au.Outcome != nil && au.Reconciliation != nil}
	for _, e := range au.Evidence {
		out.EvidenceRequested = append(out.EvidenceRequested, api.MyAuditEvidenceItem{Kind: string(e.Item.Kind), Description: e.Item.Description,
			RequestedOn: dateOut(e.RequestedOn), Due: dateOut(e.Due), ReceivedOn: nullableDate(e.ReceivedOn)})
	}
	for i, e := range v.Sent {
		out.EvidenceSent[i] = myEvidenceOut(e)
	}
	if au.Reconciliation != nil {
		out.Reconciliation = stepsOut(au.Reconciliation.Steps)
	}
	if au.Surplus != nil {
		out.Surplus = stepsOut(au.Surplus.Steps)
	}
	for _, f := range au.Findings {
		out.Findings = append(out.Findings, api.AuditFinding{Type: api.AuditFindingType(f.Type), Count: f.Count, AmountPence: f.Amount, Detail: f.Detail})
	}
	if o := au.Outcome; o != nil {
		out.Outcome.Set(myOutcomeOut(*o))
	}
	return out
}

func myOutcomeOut(o dpaudit.Outcome) api.AuditOutcome {
	return api.AuditOutcome{Kind: api.AuditOutcomeKind(o.Kind), Reason: o.Reason, ActionPlanDue: nullableDate(nonZeroDate(o.ActionPlanDue)),
		SuspendFrom: nullableDate(nonZeroDate(o.SuspendFrom)), NoticeWeeks: nullableOf(o.NoticeWeeks), Ends: nullableDate(nonZeroDate(o.Ends))}
}

// ListMyAudits implements api.StrictServerInterface.
func (s *Server) ListMyAudits(ctx context.Context, req api.ListMyAuditsRequestObject) (api.ListMyAuditsResponseObject, error) {
	a, err := mustActor(actor.From(ctx))
	if err != nil {
		return nil, err
	}
	list, err := s.portal.Audits(ctx, a, req.PersonId)
	if err != nil {
		return nil, err
	}
	out := api.MyAuditList{Items: make([]api.MyAudit, len(list))}
	for i, v := range list {
		out.Items[i] = myAuditOut(v)
	}
	return api.ListMyAudits200JSONResponse{Body: out}, nil
}

// GetMyAudit implements api.StrictServerInterface.
func (s *Server) GetMyAudit(ctx context.Context, req api.GetMyAuditRequestObject) (api.GetMyAuditResponseObject, error) {
	a, err := mustActor(actor.From(ctx))
	if err != nil {
		return nil, err
	}
	v, err := s.portal.Audit(ctx, a, req.AuditId)
	if err != nil {
		return nil, err
	}
	return api.GetMyAudit200JSONResponse{Body: myAuditOut(v)}, nil
}

// GetMyAuditLetter implements api.StrictServerInterface.
func (s *Server) GetMyAuditLetter(ctx context.Context, req api.GetMyAuditLetterRequestObject) (api.GetMyAuditLetterResponseObject, error) {
	a, err := mustActor(actor.From(ctx))
	if err != nil {
		return nil, err
	}
	pdf, disp, personID, err := s.portal.AuditLetter(ctx, a, req.AuditId)
	if err != nil {
		return nil, err
	}
	access.NoteSubject(ctx, personID)
	return api.GetMyAuditLetter200ApplicationpdfResponse{Body: bytes.NewReader(pdf), ContentLength: int64(len(pdf)),
		Headers: api.GetMyAuditLetter200ResponseHeaders{ContentDisposition: &disp}}, nil
}

// howToDispute says, in plain words, what the person can do about a recovery in its state.
func howToDispute(r recovery.Recovery) string {
	switch {
	case portal.CanDispute(r):
		return "If you think this is wrong, tell us why in your own words (dispute it). The recovery pauses at once: nothing more is taken " +
			"until we have answered you."
	case r.State == recovery.Disputed:
		return "You have disputed this recovery. It is paused: nothing more is taken until we have answered your grounds."
	case r.State == recovery.Proposed:
		return "We have not sent you notice of this recovery yet. Once we have, you can dispute it here."
	}
	return "This recovery is finished. If you think it was wrong, you can complain to the council, and then to the Local Government " +
		"and Social Care Ombudsman."
}

func myRecoveryOut(v portal.RecoveryView) api.MyRecovery {
	r, p := v.Recovery, v.Recovery.Proposal
	out := api.MyRecovery{Id: r.ID, AgreementId: r.AgreementID, AgreementType: api.AgreementType(r.AgreementKind), PersonId: r.PersonID,
		AuditId: nullableOf(r.AuditID), Basis: api.MyRecoveryBasis(p.Basis), AmountPence: p.Amount, PersonExcessPence: p.PersonExcess,
		Excess: nullable.NewNullNullable[api.MyRecoveryExcess](), Reason: p.Reason, Method: api.MyRecoveryMethod(p.Method), Cycles: p.Cycles,
		Status: api.MyRecoveryStatus(r.State.State), NoticeDate: nullableDate(nonZeroDate(r.State.NoticeDate)),
		InvoiceDue: nullableDate(nonZeroDate(r.State.InvoiceDue)), Grounds: nullable.NewNullNullable[string](),
		RecoveredPence: r.State.Recovered, WrittenOffPence: r.State.WrittenOff, OutstandingPence: r.State.Outstanding(),
		WriteOffReason: nullableOf(r.WriteOffReason), OffsetsTaken: []api.MyOffset{}, PlannedOffsets: dpfinance.PlannedOffsets(r, v.Taken),
		CanDispute: portal.CanDispute(r.State), HowToDispute: howToDispute(r.State)}
	if p.Excess != "" {
		out.Excess.Set(api.MyRecoveryExcess(p.Excess))
	}
	if r.State.Grounds != "" {
		out.Grounds.Set(r.State.Grounds)
	}
	for _, t := range v.Taken {
		if t.RunStatus == "cancelled" {
			continue
		}
		out.OffsetsTaken = append(out.OffsetsTaken, api.MyOffset{CycleStart: dateOut(t.CycleStart), AmountPence: t.Amount})
	}
	if out.PlannedOffsets == nil {
		out.PlannedOffsets = []int64{}
	}
	return out
}

// ListMyRecoveries implements api.StrictServerInterface.
func (s *Server) ListMyRecoveries(ctx context.Context, req api.ListMyRecoveriesRequestObject) (api.ListMyRecoveriesResponseObject, error) {
	a, err := mustActor(actor.From(ctx))
	if err != nil {
		return nil, err
	}
	list, err := s.portal.Recoveries(ctx, a, req.PersonId)
	if err != nil {
		return nil, err
	}
	out := api.MyRecoveryList{Items: make([]api.MyRecovery, len(list))}
	for i, v := range list {
		out.Items[i] = myRecoveryOut(v)
	}
	return api.ListMyRecoveries200JSONResponse{Body: out}, nil
}

// GetMyRecovery implements api.StrictServerInterface.
func (s *Server) GetMyRecovery(ctx context.Context, req api.GetMyRecoveryRequestObject) (api.GetMyRecoveryResponseObject, error) {
	a, err := mustActor(actor.From(ctx))
	if err != nil {
		return nil, err
	}
	v, err := s.portal.Recovery(ctx, a, req.RecoveryId)
	if err != nil {
		return nil, err
	}
	return api.GetMyRecovery200JSONResponse{Body: myRecoveryOut(v)}, nil
}

// DisputeMyRecovery implements api.StrictServerInterface.
func (s *Server) DisputeMyRecovery(ctx context.Context, req api.DisputeMyRecoveryRequestObject) (api.DisputeMyRecoveryResponseObject, error) {
	a, err := mustActor(actor.From(ctx))
	if err != nil {
		return nil, err
	}
	v, err := s.portal.DisputeRecovery(ctx, a, req.RecoveryId, req.Body.Grounds)
	if err != nil {
		return nil, err
	}
	return api.DisputeMyRecovery200JSONResponse{Body: myRecoveryOut(v)}, nil
}

// The reads of audits and recoveries are recorded against their agreement, as the staff's are.
var myFinanceReads = map[string]func(req, resp any) []access.Read{
	"listMyAudits": each(func(r api.ListMyAudits200JSONResponse) []api.MyAudit { return r.Body.Items }, myAuditRead),
	"getMyAudit":   one(func(r api.GetMyAudit200JSONResponse) access.Read { return myAuditRead(r.Body) }),
	// The letter's file name names its agreement (dpfinance.LetterFilePrefix); the handler notes the person.
	"getMyAuditLetter": func(req, resp any) []access.Read {
		r, ok := resp.(api.GetMyAuditLetter200ApplicationpdfResponse)
		if !ok {
			return nil
		}
		return letterAgreementRead(r.Headers.ContentDisposition)
	},
	"listMyRecoveries": each(func(r api.ListMyRecoveries200JSONResponse) []api.MyRecovery { return r.Body.Items }, myRecoveryRead),
	"getMyRecovery":    one(func(r api.GetMyRecovery200JSONResponse) access.Read { return myRecoveryRead(r.Body) }),
}

func myAuditRead(a api.MyAudit) access.Read {
	return access.Read{EntityType: access.DirectPaymentAgreement, EntityID: a.AgreementId, PersonID: a.PersonId}
}

func myRecoveryRead(r api.MyRecovery) access.Read {
	t := access.DirectPaymentAgreement
	if r.AgreementType == api.AgreementTypeIsf {
		t = access.ISFAgreement
	}
	return access.Read{EntityType: t, EntityID: r.AgreementId, PersonID: r.PersonId}
}

func init() {
	for id, read := range myFinanceReads {
		personalReads[id] = read
	}
}
