package httpapi

import (
	"bytes"
	"context"
	"strconv"
	"strings"

	"github.com/google/uuid"

	"github.com/oapi-codegen/nullable"
	openapi_types "github.com/oapi-codegen/runtime/types"

	"github.com/pbudget/pbudget/api"
	"github.com/pbudget/pbudget/internal/access"
	"github.com/pbudget/pbudget/internal/actor"
	"github.com/pbudget/pbudget/internal/apperr"
	"github.com/pbudget/pbudget/internal/date"
	"github.com/pbudget/pbudget/internal/dpaudit"
	"github.com/pbudget/pbudget/internal/dpfinance"
	"github.com/pbudget/pbudget/internal/isf"
	"github.com/pbudget/pbudget/internal/money"
	"github.com/pbudget/pbudget/internal/page"
	"github.com/pbudget/pbudget/internal/payment"
	"github.com/pbudget/pbudget/internal/plan"
	"github.com/pbudget/pbudget/internal/recovery"
)

type dateT = date.Date

func nonZeroDate(d date.Date) *date.Date {
	if d == (date.Date{}) {
		return nil
	}
	return &d
}

func itoa(i int) string { return strconv.Itoa(i) }

// ---- ISF statements ----

func isfStatementOut(st dpfinance.ISFStatement) api.ISFStatement {
	x := st.Statement
	lines := make([]api.ISFStatementLine, len(x.Lines))
	for i, l := range x.Lines {
		lines[i] = api.ISFStatementLine{PlanLineId: l.PlanLineID, Units: l.Units.String(), RatePence: l.Rate, AmountPence: l.Amount}
	}
	return api.ISFStatement{Id: st.ID, AgreementId: st.AgreementID, ProviderId: st.ProviderID, PersonId: st.PersonID,
		PeriodStart: dateOut(x.Period.Start), PeriodEnd: dateOut(x.Period.End), OpeningBalancePence: x.Opening,
		ReceivedFromCouncilPence: x.FromCouncil, ReceivedFromPersonPence: x.FromPerson, SpentPence: x.Spent(), ClosingBalancePence: x.Closing,
		Lines: lines, Status: api.ISFStatementStatus(st.Status), DecisionReason: nullableOf(st.DecisionReason), DecidedBy: nullableOf(st.DecidedBy),
		DecidedAt: nullableOf(st.DecidedAt), SubmittedBy: st.SubmittedBy, CreatedAt: st.CreatedAt, Version: st.Version}
}

// CreateISFStatement implements api.StrictServerInterface.
func (s *Server) CreateISFStatement(ctx context.Context, req api.CreateISFStatementRequestObject) (api.CreateISFStatementResponseObject, error) {
	a, err := mustActor(actor.From(ctx))
	if err != nil {
		return nil, err
	}
	b := req.Body
	st := isf.Statement{Period: isf.Period{Start: dateOf(b.PeriodStart), End: dateOf(b.PeriodEnd)}, Opening: b.OpeningBalancePence,
		FromCouncil: b.ReceivedFromCouncilPence, FromPerson: b.ReceivedFromPersonPence, Closing: b.ClosingBalancePence}
	var f apperr.Fields
	for i, l := range b.Lines {
		q, ok := plan.ParseQuantity(l.Units)
		if !ok {
			f.Add("/lines/"+itoa(i)+"/units", "format", "units are a number with at most two decimal places")
		}
		st.Lines = append(st.Lines, isf.Line{PlanLineID: l.PlanLineId, Units: q, Rate: l.RatePence, Amount: l.AmountPence})
	}
	if err := f.Err(); err != nil {
		return nil, err
	}
	out, err := s.finance.FileStatement(ctx, a, req.AgreementId, st)
	if err != nil {
		return nil, err
	}
	loc := "/v1/isf-statements/" + out.ID.String()
	return api.CreateISFStatement201JSONResponse{Body: isfStatementOut(out), Headers: api.CreateISFStatement201ResponseHeaders{ETag: etag(out.Version), Location: &loc}}, nil
}

// ListISFStatements implements api.StrictServerInterface.
func (s *Server) ListISFStatements(ctx context.Context, req api.ListISFStatementsRequestObject) (api.ListISFStatementsResponseObject, error) {
	a, err := mustActor(actor.From(ctx))
	if err != nil {
		return nil, err
	}
	sts, err := s.finance.Statements(ctx, a, req.AgreementId)
	if err != nil {
		return nil, err
	}
	items := make([]api.ISFStatement, len(sts))
	for i, st := range sts {
		items[i] = isfStatementOut(st)
	}
	return api.ListISFStatements200JSONResponse{Body: api.ISFStatementList{Items: items}}, nil
}

// GetISFStatement implements api.StrictServerInterface.
func (s *Server) GetISFStatement(ctx context.Context, req api.GetISFStatementRequestObject) (api.GetISFStatementResponseObject, error) {
	a, err := mustActor(actor.From(ctx))
	if err != nil {
		return nil, err
	}
	st, err := s.finance.Statement(ctx, a, req.StatementId)
	if err != nil {
		return nil, err
	}
	return api.GetISFStatement200JSONResponse{Body: isfStatementOut(st), Headers: api.GetISFStatement200ResponseHeaders{ETag: etag(st.Version)}}, nil
}

// AcceptISFStatement implements api.StrictServerInterface.
func (s *Server) AcceptISFStatement(ctx context.Context, req api.AcceptISFStatementRequestObject) (api.AcceptISFStatementResponseObject, error) {
	a, err := mustActor(actor.From(ctx))
	if err != nil {
		return nil, err
	}
	st, err := s.finance.Decide(ctx, a, req.StatementId, true, req.Body.Reason)
	if err != nil {
		return nil, err
	}
	return api.AcceptISFStatement200JSONResponse{Body: isfStatementOut(st), Headers: api.AcceptISFStatement200ResponseHeaders{ETag: etag(st.Version)}}, nil
}

// QueryISFStatement implements api.StrictServerInterface.
func (s *Server) QueryISFStatement(ctx context.Context, req api.QueryISFStatementRequestObject) (api.QueryISFStatementResponseObject, error) {
	a, err := mustActor(actor.From(ctx))
	if err != nil {
		return nil, err
	}
	st, err := s.finance.Decide(ctx, a, req.StatementId, false, req.Body.Reason)
	if err != nil {
		return nil, err
	}
	return api.QueryISFStatement200JSONResponse{Body: isfStatementOut(st), Headers: api.QueryISFStatement200ResponseHeaders{ETag: etag(st.Version)}}, nil
}

// ListOverdueISFStatements implements api.StrictServerInterface.
func (s *Server) ListOverdueISFStatements(ctx context.Context, req api.ListOverdueISFStatementsRequestObject) (api.ListOverdueISFStatementsResponseObject, error) {
	a, err := mustActor(actor.From(ctx))
	if err != nil {
		return nil, err
	}
	flagged := req.Params.Flagged != nil && *req.Params.Flagged
	items, err := s.finance.ISFWorklist(ctx, a, flagged)
	if err != nil {
		return nil, err
	}
	out := make([]api.ISFWorklistItem, len(items))
	for i, it := range items {
		o := api.ISFWorklistItem{AgreementId: it.Agreement.ID, ProviderId: it.Agreement.ProviderID, PersonId: it.Agreement.PersonID,
			Due: nullableDate(it.Due)}
		o.PeriodStart, o.PeriodEnd = nullable.NewNullNullable[openapi_types.Date](), nullable.NewNullNullable[openapi_types.Date]()
		if it.Period != nil {
			o.PeriodStart, o.PeriodEnd = nullable.NewNullableWithValue(dateOut(it.Period.Start)), nullable.NewNullableWithValue(dateOut(it.Period.End))
		}
		o.Flag.SetNull()
		if f := it.Flag; f != nil {
			v := o.Flag
			var fl = struct {
				ExcessPence    int64              `json:"excess_pence"`
				HeldDays       int                `json:"held_days"`
				Since          openapi_types.Date `json:"since"`
				ThresholdPence int64              `json:"threshold_pence"`
				Through        openapi_types.Date `json:"through"`
			}{ExcessPence: f.Excess, HeldDays: f.HeldDays, Since: dateOut(f.Since), ThresholdPence: f.Threshold, Through: dateOut(f.Through)}
			v.Set(fl)
			o.Flag = v
		}
		out[i] = o
	}
	return api.ListOverdueISFStatements200JSONResponse{Body: api.ISFWorklist{Items: out}}, nil
}

// ---- Recoveries ----

func recoveryOut(r dpfinance.Recovery, taken []dpfinance.OffsetTaken) api.Recovery {
	p := r.Proposal
	offs := make([]api.RecoveryOffsetTaken, len(taken))
	for i, t := range taken {
		offs[i] = api.RecoveryOffsetTaken{PaymentLineId: t.LineID, RunId: t.RunID, CycleStart: dateOut(t.CycleStart), AmountPence: t.Amount,
			State: t.State, RunStatus: t.RunStatus}
	}
	out := api.Recovery{Id: r.ID, AgreementId: r.AgreementID, AgreementType: api.AgreementType(r.AgreementKind), PersonId: r.PersonID,
		AuditId: nullableOf(r.AuditID), OverpaymentId: nullableOf(r.OverpaymentID), IsfStatementId: nullableOf(r.ISFStatementID), Basis: api.RecoveryBasis(p.Basis), AmountPence: p.Amount,
		CouncilSharePence: p.CouncilShare, PersonExcessPence: p.PersonExcess, Reason: p.Reason, Method: api.RecoveryMethod(p.Method), Cycles: p.Cycles,
		Status: api.RecoveryStatus(r.State.State), RecoveredPence: r.State.Recovered, WrittenOffPence: r.State.WrittenOff,
		OutstandingPence: r.State.Outstanding(), WriteOffReason: nullableOf(r.WriteOffReason), Offsets: offs,
		PlannedOffsets: dpfinance.PlannedOffsets(r, taken), CreatedBy: r.CreatedBy, CreatedAt: r.CreatedAt, Version: r.Version}
	out.Excess.SetNull()
	if p.Excess != "" {
		out.Excess.Set(api.RecoveryExcess(p.Excess))
	}
	out.NoticeDate, out.InvoiceDue = nullableDate(nonZeroDate(r.State.NoticeDate)), nullableDate(nonZeroDate(r.State.InvoiceDue))
	out.Grounds.SetNull()
	if r.State.Grounds != "" {
		out.Grounds.Set(r.State.Grounds)
	}
	return out
}

// CreateRecovery implements api.StrictServerInterface.
func (s *Server) CreateRecovery(ctx context.Context, req api.CreateRecoveryRequestObject) (api.CreateRecoveryResponseObject, error) {
	a, err := mustActor(actor.From(ctx))
	if err != nil {
		return nil, err
	}
	b := req.Body
	in := dpfinance.RecoveryInput{AuditID: b.AuditId, OverpaymentID: b.OverpaymentId, ISFStatementID: b.IsfStatementId, Basis: recovery.Basis(b.Basis), Amount: b.AmountPence,
		Reason: b.Reason, Method: recovery.Method(b.Method)}
	if b.Excess != nil {
		in.Excess = recovery.Excess(*b.Excess)
	}
	if b.Cycles != nil {
		in.Cycles = *b.Cycles
	}
	r, err := s.finance.CreateRecovery(ctx, a, in)
	if err != nil {
		return nil, err
	}
	loc := "/v1/recoveries/" + r.ID.String()
	return api.CreateRecovery201JSONResponse{Body: recoveryOut(r, nil), Headers: api.CreateRecovery201ResponseHeaders{ETag: etag(r.Version), Location: &loc}}, nil
}

// ListRecoveries implements api.StrictServerInterface.
func (s *Server) ListRecoveries(ctx context.Context, req api.ListRecoveriesRequestObject) (api.ListRecoveriesResponseObject, error) {
	a, err := mustActor(actor.From(ctx))
	if err != nil {
		return nil, err
	}
	status := ""
	if req.Params.Status != nil {
		status = string(*req.Params.Status)
	}
	agreement := ""
	if req.Params.AgreementId != nil {
		agreement = req.Params.AgreementId.String()
	}
	fp := page.Fingerprint("recoveries", agreement, status)
	pr, err := page.Parse(req.Params.PageSize, req.Params.PageToken, fp)
	if err != nil {
		return nil, err
	}
	rs, taken, err := s.finance.ListRecoveries(ctx, a, req.Params.AgreementId, status, pr)
	if err != nil {
		return nil, err
	}
	items, next := pageOf(rs, pr, fp, dpfinance.Recovery.Cursor, func(r dpfinance.Recovery) api.Recovery { return recoveryOut(r, taken[r.ID]) })
	return api.ListRecoveries200JSONResponse{Body: api.RecoveryList{Items: items, NextPageToken: next}}, nil
}

// GetRecovery implements api.StrictServerInterface.
func (s *Server) GetRecovery(ctx context.Context, req api.GetRecoveryRequestObject) (api.GetRecoveryResponseObject, error) {
	a, err := mustActor(actor.From(ctx))
	if err != nil {
		return nil, err
	}
	r, taken, err := s.finance.GetRecovery(ctx, a, req.RecoveryId)
	if err != nil {
		return nil, err
	}
	return api.GetRecovery200JSONResponse{Body: recoveryOut(r, taken), Headers: api.GetRecovery200ResponseHeaders{ETag: etag(r.Version)}}, nil
}

// ActOnRecovery implements api.StrictServerInterface.
func (s *Server) ActOnRecovery(ctx context.Context, req api.ActOnRecoveryRequestObject) (api.ActOnRecoveryResponseObject, error) {
	a, err := mustActor(actor.From(ctx))
	if err != nil {
		return nil, err
	}
	b := req.Body
	ev := recovery.Event{Kind: recovery.EventKind(b.Action), Grounds: deref(b.Grounds), Reason: deref(b.Reason)}
	if b.On != nil {
		ev.On = dateOf(*b.On)
	}
	if b.AmountPence != nil {
		ev.Amount = *b.AmountPence
	}
	r, taken, err := s.finance.ActOnRecovery(ctx, a, req.RecoveryId, ev)
	if err != nil {
		return nil, err
	}
	return api.ActOnRecovery200JSONResponse{Body: recoveryOut(r, taken), Headers: api.ActOnRecovery200ResponseHeaders{ETag: etag(r.Version)}}, nil
}

// ---- Audits ----

func auditStepsOut(steps []money.Step) []api.AuditStep {
	out := make([]api.AuditStep, len(steps))
	for i, st := range steps {
		out[i] = api.AuditStep{Step: st.Step, Detail: st.Detail, ValuePence: nullableOf(st.Value)}
	}
	return out
}

func auditOut(au dpfinance.Audit, set dpaudit.Settings, today dateT) api.Audit {
	out := api.Audit{Id: au.ID, AgreementId: au.AgreementID, PersonId: au.PersonID, Kind: api.AuditKind(au.Kind), PeriodStart: dateOut(au.Period.Start),
		PeriodEnd: dateOut(au.Period.End), Due: dateOut(au.Due), State: api.AuditState(au.State), ConcernReason: nullableOf(au.ConcernReason),
		EvidenceDue: nullableDate(au.EvidenceDue), CancelReason: nullableOf(au.CancelReason), MisspendPence: au.Misspend,
		MisspendCouncilSharePence: au.MisspendCouncil, CreatedBy: au.CreatedBy, CreatedAt: au.CreatedAt, Version: au.Version,
		Evidence: []api.AuditEvidenceItem{}, Findings: []api.AuditFinding{}, Liabilities: []api.AuditLiability{}, Worklists: []api.AuditWorklists{}}
	for _, e := range au.Evidence {
		out.Evidence = append(out.Evidence, api.AuditEvidenceItem{Id: e.ID, Kind: string(e.Item.Kind), Description: e.Item.Description,
			RequestedOn: dateOut(e.RequestedOn), Due: dateOut(e.Due), ReceivedOn: nullableDate(e.ReceivedOn)})
	}
	for _, f := range au.Findings {
		out.Findings = append(out.Findings, api.AuditFinding{Type: api.AuditFindingType(f.Type), Count: f.Count, AmountPence: f.Amount, Detail: f.Detail})
	}
	for _, l := range au.Liabilities {
		out.Liabilities = append(out.Liabilities, api.AuditLiability{Description: l.Description, AmountPence: l.Amount, Evidenced: l.Evidenced})
	}
	out.Reconciliation.SetNull()
	if au.Reconciliation != nil {
		out.Reconciliation.Set(auditStepsOut(au.Reconciliation.Steps))
	}
	out.Surplus.SetNull()
	if au.Surplus != nil {
		out.Surplus.Set(auditStepsOut(au.Surplus.Steps))
	}
	out.Outcome.SetNull()
	if o := au.Outcome; o != nil {
		out.Outcome.Set(api.AuditOutcome{Kind: api.AuditOutcomeKind(o.Kind), Reason: o.Reason, ActionPlanDue: nullableDate(nonZeroDate(o.ActionPlanDue)),
			SuspendFrom: nullableDate(nonZeroDate(o.SuspendFrom)), NoticeWeeks: nullableOf(o.NoticeWeeks), Ends: nullableDate(nonZeroDate(o.Ends))})
	}
	var evDue dateT
	if au.EvidenceDue != nil {
		evDue = *au.EvidenceDue
	}
	for _, w := range set.Worklists(dpaudit.Audit{State: au.State, Due: au.Due, EvidenceDue: evDue, Outcome: au.Outcome}, today) {
		out.Worklists = append(out.Worklists, api.AuditWorklists(w))
	}
	return out
}

// CreateAudit implements api.StrictServerInterface.
func (s *Server) CreateAudit(ctx context.Context, req api.CreateAuditRequestObject) (api.CreateAuditResponseObject, error) {
	a, err := mustActor(actor.From(ctx))
	if err != nil {
		return nil, err
	}
	au, err := s.finance.CreateAdHoc(ctx, a, req.Body.AgreementId, datePtr(req.Body.ConcernOn), req.Body.Reason)
	if err != nil {
		return nil, err
	}
	set, err := s.finance.AuditSettings(ctx, a.CouncilID)
	if err != nil {
		return nil, err
	}
	loc := "/v1/audits/" + au.ID.String()
	return api.CreateAudit201JSONResponse{Body: auditOut(au, set, s.finance.Today()), Headers: api.CreateAudit201ResponseHeaders{ETag: etag(au.Version), Location: &loc}}, nil
}

// ListAudits implements api.StrictServerInterface.
func (s *Server) ListAudits(ctx context.Context, req api.ListAuditsRequestObject) (api.ListAuditsResponseObject, error) {
	a, err := mustActor(actor.From(ctx))
	if err != nil {
		return nil, err
	}
	f := dpfinance.AuditFilter{AgreementID: req.Params.AgreementId}
	if w := req.Params.Worklist; w != nil {
		f.Worklist = map[api.ListAuditsParamsWorklist]dpaudit.Work{"due": dpaudit.WorkDue, "overdue": dpaudit.WorkOverdue,
			"evidence_overdue": dpaudit.WorkEvidenceOverdue, "action_plans_due": dpaudit.WorkActionPlanDue}[*w]
	}
	agreement := ""
	if f.AgreementID != nil {
		agreement = f.AgreementID.String()
	}
	fp := page.Fingerprint("audits", agreement, string(f.Worklist))
	if f.Page, err = page.Parse(req.Params.PageSize, req.Params.PageToken, fp); err != nil {
		return nil, err
	}
	as, set, err := s.finance.ListAudits(ctx, a, f)
	if err != nil {
		return nil, err
	}
	today := s.finance.Today()
	items, next := pageOf(as, f.Page, fp, dpfinance.Audit.Cursor, func(au dpfinance.Audit) api.Audit { return auditOut(au, set, today) })
	return api.ListAudits200JSONResponse{Body: api.AuditList{Items: items, NextPageToken: next}}, nil
}

// GetAudit implements api.StrictServerInterface.
func (s *Server) GetAudit(ctx context.Context, req api.GetAuditRequestObject) (api.GetAuditResponseObject, error) {
	a, err := mustActor(actor.From(ctx))
	if err != nil {
		return nil, err
	}
	au, err := s.finance.GetAudit(ctx, a, req.AuditId)
	if err != nil {
		return nil, err
	}
	set, err := s.finance.AuditSettings(ctx, a.CouncilID)
	if err != nil {
		return nil, err
	}
	return api.GetAudit200JSONResponse{Body: auditOut(au, set, s.finance.Today()), Headers: api.GetAudit200ResponseHeaders{ETag: etag(au.Version)}}, nil
}

// ActOnAudit implements api.StrictServerInterface.
func (s *Server) ActOnAudit(ctx context.Context, req api.ActOnAuditRequestObject) (api.ActOnAuditResponseObject, error) {
	a, err := mustActor(actor.From(ctx))
	if err != nil {
		return nil, err
	}
	v, err := ifMatch(req.Params.IfMatch)
	if err != nil {
		return nil, err
	}
	b := req.Body
	st := dpfinance.AuditStep{Event: dpaudit.Event(b.Action), On: datePtr(b.On), StatementClosing: b.StatementClosingPence, Reason: deref(b.Reason)}
	if b.Items != nil {
		for _, it := range *b.Items {
			st.Items = append(st.Items, dpaudit.EvidenceItem{Kind: dpaudit.EvidenceKind(it.Kind), Description: it.Description})
		}
	}
	if b.Liabilities != nil {
		for _, l := range *b.Liabilities {
			st.Liabilities = append(st.Liabilities, dpaudit.Liability{Description: l.Description, Amount: l.AmountPence, Evidenced: l.Evidenced})
		}
	}
	if o := b.Outcome; o != nil {
		out := dpaudit.Outcome{Kind: dpaudit.OutcomeKind(o.Kind), Reason: o.Reason, NoticeWeeks: o.NoticeWeeks}
		if o.ActionPlanDue != nil {
			out.ActionPlanDue = dateOf(*o.ActionPlanDue)
		}
		if o.SuspendFrom != nil {
			out.SuspendFrom = dateOf(*o.SuspendFrom)
		}
		st.Outcome = &out
	}
	au, err := s.finance.ActOnAudit(ctx, a, req.AuditId, v, st)
	if err != nil {
		return nil, err
	}
	set, err := s.finance.AuditSettings(ctx, a.CouncilID)
	if err != nil {
		return nil, err
	}
	return api.ActOnAudit200JSONResponse{Body: auditOut(au, set, s.finance.Today()), Headers: api.ActOnAudit200ResponseHeaders{ETag: etag(au.Version)}}, nil
}

// GetAuditLetter implements api.StrictServerInterface.
func (s *Server) GetAuditLetter(ctx context.Context, req api.GetAuditLetterRequestObject) (api.GetAuditLetterResponseObject, error) {
	a, err := mustActor(actor.From(ctx))
	if err != nil {
		return nil, err
	}
	pdf, disp, err := s.finance.Letter(ctx, a, req.AuditId)
	if err != nil {
		return nil, err
	}
	return api.GetAuditLetter200ApplicationpdfResponse{Body: bytes.NewReader(pdf), ContentLength: int64(len(pdf)),
		Headers: api.GetAuditLetter200ResponseHeaders{ContentDisposition: &disp}}, nil
}

// The reads of statements, recoveries and audits: each is of its agreement's record, against
// the person (the access records' entity types are the council's records of a person).
var financeReads = map[string]func(req, resp any) []access.Read{
	"createISFStatement": nil,
	"listISFStatements": each(func(r api.ListISFStatements200JSONResponse) []api.ISFStatement { return r.Body.Items },
		func(st api.ISFStatement) access.Read {
			return access.Read{EntityType: access.ISFAgreement, EntityID: st.AgreementId, PersonID: st.PersonId}
		}),
	"getISFStatement": one(func(r api.GetISFStatement200JSONResponse) access.Read {
		return access.Read{EntityType: access.ISFAgreement, EntityID: r.Body.AgreementId, PersonID: r.Body.PersonId}
	}),
	"listOverdueISFStatements": each(func(r api.ListOverdueISFStatements200JSONResponse) []api.ISFWorklistItem { return r.Body.Items },
		func(it api.ISFWorklistItem) access.Read {
			return access.Read{EntityType: access.ISFAgreement, EntityID: it.AgreementId, PersonID: it.PersonId}
		}),
	"listRecoveries": each(func(r api.ListRecoveries200JSONResponse) []api.Recovery { return r.Body.Items }, recoveryRead),
	"getRecovery":    one(func(r api.GetRecovery200JSONResponse) access.Read { return recoveryRead(r.Body) }),
	"listAudits":     each(func(r api.ListAudits200JSONResponse) []api.Audit { return r.Body.Items }, auditRead),
	"getAudit":       one(func(r api.GetAudit200JSONResponse) access.Read { return auditRead(r.Body) }),
	// A letter is of its agreement, which its file is named after; the service notes the person.
	"getAuditLetter": func(req, resp any) []access.Read {
		r, ok := resp.(api.GetAuditLetter200ApplicationpdfResponse)
		if !ok {
			return nil
		}
		return letterAgreementRead(r.Headers.ContentDisposition)
	},
}

func recoveryRead(r api.Recovery) access.Read {
	t := access.DirectPaymentAgreement
	if r.AgreementType == api.AgreementType(payment.ISFKind) {
		t = access.ISFAgreement
	}
	return access.Read{EntityType: t, EntityID: r.AgreementId, PersonID: r.PersonId}
}

func auditRead(a api.Audit) access.Read {
	return access.Read{EntityType: access.DirectPaymentAgreement, EntityID: a.AgreementId, PersonID: a.PersonId}
}

func init() {
	for k, v := range financeReads {
		if v != nil {
			personalReads[k] = v
		}
	}
}

// letterAgreementRead is the read of an audit letter: of its agreement, which the file name in
// its Content-Disposition names (dpfinance.LetterFilePrefix, then the agreement's id).
func letterAgreementRead(disposition *string) []access.Read {
	if disposition == nil {
		return nil
	}
	_, name, _ := strings.Cut(*disposition, dpfinance.LetterFilePrefix)
	if len(name) < 36 {
		return nil
	}
	id, err := uuid.Parse(name[:36])
	if err != nil {
		return nil
	}
	return []access.Read{{EntityType: access.DirectPaymentAgreement, EntityID: id}}
}
