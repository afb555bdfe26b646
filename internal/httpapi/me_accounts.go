package httpapi

import (
	"context"

	"github.com/google/uuid"
	"github.com/oapi-codegen/nullable"
	openapi_types "github.com/oapi-codegen/runtime/types"

	"github.com/pbudget/pbudget/api"
	"github.com/pbudget/pbudget/internal/access"
	"github.com/pbudget/pbudget/internal/account"
	"github.com/pbudget/pbudget/internal/accounts"
	"github.com/pbudget/pbudget/internal/actor"
	"github.com/pbudget/pbudget/internal/date"
	"github.com/pbudget/pbudget/internal/page"
	"github.com/pbudget/pbudget/internal/portal"
)

// The person's direct-payment account (/v1/me/direct-payment-accounts/...): the ledger and the
// balance, their statements, the flags with their answers, and evidence. Never who posted,
// imported or resolved anything.

func myAccountOut(v portal.AccountView) api.MyAccount {
	a := v.Account
	return api.MyAccount{Id: a.ID, AgreementId: a.AgreementID, PersonId: a.PersonID, AccountType: api.MyAccountAccountType(a.AccountType),
		PaymentBasis: api.MyAccountPaymentBasis(a.PaymentBasis), OpenedOn: dateOut(a.OpenedOn), OpeningBalancePence: a.OpeningBalance,
		BalancePence: v.Balance.Balance, BalanceOn: dateOut(v.Balance.At)}
}

// ListMyAccounts implements api.StrictServerInterface.
func (s *Server) ListMyAccounts(ctx context.Context, req api.ListMyAccountsRequestObject) (api.ListMyAccountsResponseObject, error) {
	a, err := mustActor(actor.From(ctx))
	if err != nil {
		return nil, err
	}
	list, err := s.portal.Accounts(ctx, a, req.PersonId)
	if err != nil {
		return nil, err
	}
	out := api.MyAccountList{Items: make([]api.MyAccount, len(list))}
	for i, v := range list {
		out.Items[i] = myAccountOut(v)
	}
	return api.ListMyAccounts200JSONResponse{Body: out}, nil
}

// GetMyAccount implements api.StrictServerInterface.
func (s *Server) GetMyAccount(ctx context.Context, req api.GetMyAccountRequestObject) (api.GetMyAccountResponseObject, error) {
	a, err := mustActor(actor.From(ctx))
	if err != nil {
		return nil, err
	}
	v, err := s.portal.Account(ctx, a, req.AccountId)
	if err != nil {
		return nil, err
	}
	return api.GetMyAccount200JSONResponse{Body: myAccountOut(v)}, nil
}

func myEntryOut(e accounts.Entry) api.MyLedgerEntry {
	return api.MyLedgerEntry{Id: e.ID, EntryDate: dateOut(e.Date), Kind: api.MyLedgerKind(e.Kind), AmountPence: e.Amount,
		BalanceEffectPence: e.Effect, PlanLineId: nullableOf(e.PlanLineID), StatementLineId: nullableOf(e.StatementLineID), Reason: e.Reason}
}

// GetMyLedger implements api.StrictServerInterface.
func (s *Server) GetMyLedger(ctx context.Context, req api.GetMyLedgerRequestObject) (api.GetMyLedgerResponseObject, error) {
	a, err := mustActor(actor.From(ctx))
	if err != nil {
		return nil, err
	}
	p := req.Params
	f := accounts.LedgerFilter{From: datePtr(p.From), To: datePtr(p.To)}
	if p.Kind != nil {
		k := account.Kind(*p.Kind)
		f.Kind = &k
	}
	fp := page.Fingerprint("my-ledger", req.AccountId.String(), string(deref((*string)(p.Kind))), datePtrString(f.From), datePtrString(f.To))
	pr, err := page.Parse(p.PageSize, p.PageToken, fp)
	if err != nil {
		return nil, err
	}
	acct, list, err := s.portal.Ledger(ctx, a, req.AccountId, f, pr)
	if err != nil {
		return nil, err
	}
	access.NoteSubject(ctx, acct.PersonID)
	items, next := pageOf(list, pr, fp, accounts.Entry.Cursor, myEntryOut)
	return api.GetMyLedger200JSONResponse{Body: api.MyLedger{Items: items, NextPageToken: next}}, nil
}

// GetMyBalance implements api.StrictServerInterface.
func (s *Server) GetMyBalance(ctx context.Context, req api.GetMyBalanceRequestObject) (api.GetMyBalanceResponseObject, error) {
	a, err := mustActor(actor.From(ctx))
	if err != nil {
		return nil, err
	}
	acct, b, err := s.portal.Balance(ctx, a, req.AccountId, datePtr(req.Params.At))
	if err != nil {
		return nil, err
	}
	access.NoteSubject(ctx, acct.PersonID)
	return api.GetMyBalance200JSONResponse{Body: api.MyBalance{AccountId: b.AccountID, At: dateOut(b.At), BalancePence: b.Balance,
		OpeningBalancePence: b.Opening, Entries: b.Entries}}, nil
}

func myStatementOut(st accounts.Statement) api.MyStatement {
	return api.MyStatement{Id: st.ID, AccountId: st.AccountID, Format: api.MyStatementFormat(st.Format), FromDate: nullableDate(st.From),
		ToDate: nullableDate(st.To), LineCount: st.Lines, NewLines: st.NewLines, ExistingLines: st.ExistingLines, InPence: st.In,
		OutPence: st.Out, FlaggedLines: st.FlaggedLines, StatedClosingPence: nullableOf(st.StatedClosing),
		LedgerClosingPence: nullableOf(st.LedgerClosing), ClosingAgrees: nullableOf(st.ClosingAgrees), ClosingDetail: nullableOf(st.ClosingDetail),
		ImportedAt: st.ImportedAt}
}

// myMapping is the statement's mapping from the route's parameters: a built-in format, or the
// columns named for format=mapped, as the staff's import takes them.
func myMapping(p api.ImportMyStatementParams) (account.Mapping, error) {
	if p.Format != api.ImportMyStatementParamsFormatMapped {
		return accounts.MappingFor(string(p.Format), nil)
	}
	if p.DateColumn == nil && p.DescriptionColumn == nil && p.AmountColumn == nil && p.PaidInColumn == nil && p.PaidOutColumn == nil {
		return accounts.MappingFor("mapped", nil)
	}
	m := account.Mapping{Date: deref(p.DateColumn), Description: deref(p.DescriptionColumn), Amount: deref(p.AmountColumn),
		PaidIn: deref(p.PaidInColumn), PaidOut: deref(p.PaidOutColumn), Balance: deref(p.BalanceColumn), Reference: deref(p.ReferenceColumn),
		MerchantCategory: deref(p.MerchantCategoryColumn), DateFormat: deref(p.DateFormat), Delimiter: deref(p.Delimiter)}
	if p.Unit != nil {
		m.Unit = account.Unit(*p.Unit)
	}
	if p.Sign != nil {
		m.Sign = account.SignConvention(*p.Sign)
	}
	if p.SkipRows != nil {
		m.SkipRows = *p.SkipRows
	}
	return accounts.MappingFor("mapped", &m)
}

// ImportMyStatement implements api.StrictServerInterface.
func (s *Server) ImportMyStatement(ctx context.Context, req api.ImportMyStatementRequestObject) (api.ImportMyStatementResponseObject, error) {
	a, err := mustActor(actor.From(ctx))
	if err != nil {
		return nil, err
	}
	m, err := myMapping(req.Params)
	if err != nil {
		return nil, err
	}
	in, err := importInput(req.Body, string(req.Params.Format), m)
	if err != nil {
		return nil, err
	}
	_, st, err := s.portal.ImportStatement(ctx, a, req.AccountId, in)
	if err != nil {
		return nil, err
	}
	loc := "/v1/me/direct-payment-accounts/" + req.AccountId.String() + "/ledger"
	return api.ImportMyStatement201JSONResponse{Body: myStatementOut(st), Headers: api.ImportMyStatement201ResponseHeaders{Location: &loc}}, nil
}

func myFlagOut(v portal.FlagView) api.MyFlag {
	f := v.Flag
	out := api.MyFlag{Id: f.ID, AccountId: f.AccountID, StatementLineId: f.StatementLineID, Flag: api.MyFlagFlag(f.Flag),
		Reason: f.Reason, LineDate: dateOut(f.LineDate), AmountPence: f.Amount, Description: v.Description,
		Resolution: nullable.NewNullNullable[api.MyFlagResolution](), ResolutionReason: nullableOf(f.Note),
		ResolvedOn: nullable.NewNullNullable[openapi_types.Date](), Answers: make([]api.MyFlagAnswer, len(v.Answers))}
	if f.Resolution != nil {
		out.Resolution = nullable.NewNullableWithValue(api.MyFlagResolution(*f.Resolution))
	}
	if f.ResolvedAt != nil {
		out.ResolvedOn = nullable.NewNullableWithValue(dateOut(date.Today(*f.ResolvedAt)))
	}
	for i, x := range v.Answers {
		out.Answers[i] = api.MyFlagAnswer{Explanation: x.Explanation, AnsweredAt: x.At, AnsweredByBasis: api.MyFlagAnswerAnsweredByBasis(x.Basis)}
	}
	return out
}

// ListMyFlags implements api.StrictServerInterface.
func (s *Server) ListMyFlags(ctx context.Context, req api.ListMyFlagsRequestObject) (api.ListMyFlagsResponseObject, error) {
	a, err := mustActor(actor.From(ctx))
	if err != nil {
		return nil, err
	}
	open := req.Params.Open != nil && *req.Params.Open
	fp := page.Fingerprint("my-flags", req.AccountId.String(), boolString(open))
	pr, err := page.Parse(req.Params.PageSize, req.Params.PageToken, fp)
	if err != nil {
		return nil, err
	}
	acct, list, err := s.portal.Flags(ctx, a, req.AccountId, open, pr)
	if err != nil {
		return nil, err
	}
	access.NoteSubject(ctx, acct.PersonID)
	items, next := pageOf(list, pr, fp, portal.FlagView.Cursor, myFlagOut)
	return api.ListMyFlags200JSONResponse{Body: api.MyFlagList{Items: items, NextPageToken: next}}, nil
}

// AnswerMyFlag implements api.StrictServerInterface.
func (s *Server) AnswerMyFlag(ctx context.Context, req api.AnswerMyFlagRequestObject) (api.AnswerMyFlagResponseObject, error) {
	a, err := mustActor(actor.From(ctx))
	if err != nil {
		return nil, err
	}
	_, v, err := s.portal.AnswerFlag(ctx, a, req.AccountId, req.FlagId, req.Body.Explanation)
	if err != nil {
		return nil, err
	}
	loc := "/v1/me/direct-payment-accounts/" + req.AccountId.String() + "/flags"
	return api.AnswerMyFlag201JSONResponse{Body: myFlagOut(v), Headers: api.AnswerMyFlag201ResponseHeaders{Location: &loc}}, nil
}

func myEvidenceOut(e accounts.Evidence) api.MyEvidence {
	return api.MyEvidence{Id: e.ID, AccountId: e.AccountID, StatementLineId: nullableOf(e.StatementLineID), AuditId: nullableOf(e.AuditID),
		PersonalAssistantId: nullableOf(e.PersonalAssistantID),
		Kind:                api.MyEvidenceKind(e.Kind), Reference: e.Reference, Sha256: e.SHA256, DocumentDate: dateOut(e.DocumentDate),
		ValidUntil: nullableDate(e.ValidUntil), ReceivedOn: dateOut(e.ReceivedOn), Note: e.Note}
}

// AddMyEvidence implements api.StrictServerInterface.
func (s *Server) AddMyEvidence(ctx context.Context, req api.AddMyEvidenceRequestObject) (api.AddMyEvidenceResponseObject, error) {
	a, err := mustActor(actor.From(ctx))
	if err != nil {
		return nil, err
	}
	b := req.Body
	in := accounts.EvidenceInput{StatementLineID: (*uuid.UUID)(b.StatementLineId), AuditID: (*uuid.UUID)(b.AuditId),
		PersonalAssistantID: (*uuid.UUID)(b.PersonalAssistantId), Kind: accounts.EvidenceKind(b.Kind),
		Reference: b.Reference, SHA256: b.Sha256, DocumentDate: date.FromTime(b.DocumentDate.Time), ValidUntil: datePtr(b.ValidUntil), Note: deref(b.Note)}
	_, e, err := s.portal.AddEvidence(ctx, a, req.AccountId, in)
	if err != nil {
		return nil, err
	}
	loc := "/v1/me/direct-payment-accounts/" + req.AccountId.String() + "/ledger"
	return api.AddMyEvidence201JSONResponse{Body: myEvidenceOut(e), Headers: api.AddMyEvidence201ResponseHeaders{Location: &loc}}, nil
}

// The reads of the person's accounts. The ledger, balance and flags are part of the account's
// record, read as such (the handler notes the person).
var myAccountReads = map[string]func(req, resp any) []access.Read{
	"listMyAccounts": each(func(r api.ListMyAccounts200JSONResponse) []api.MyAccount { return r.Body.Items }, myAccountRead),
	"getMyAccount":   one(func(r api.GetMyAccount200JSONResponse) access.Read { return myAccountRead(r.Body) }),
	"getMyLedger": func(req, resp any) []access.Read {
		if _, ok := resp.(api.GetMyLedger200JSONResponse); !ok {
			return nil
		}
		return []access.Read{{EntityType: access.DirectPaymentAccount, EntityID: req.(api.GetMyLedgerRequestObject).AccountId}}
	},
	"getMyBalance": func(req, resp any) []access.Read {
		if _, ok := resp.(api.GetMyBalance200JSONResponse); !ok {
			return nil
		}
		return []access.Read{{EntityType: access.DirectPaymentAccount, EntityID: req.(api.GetMyBalanceRequestObject).AccountId}}
	},
	"listMyFlags": func(req, resp any) []access.Read {
		if _, ok := resp.(api.ListMyFlags200JSONResponse); !ok {
			return nil
		}
		return []access.Read{{EntityType: access.DirectPaymentAccount, EntityID: req.(api.ListMyFlagsRequestObject).AccountId}}
	},
}

func myAccountRead(a api.MyAccount) access.Read {
	return access.Read{EntityType: access.DirectPaymentAccount, EntityID: a.Id, PersonID: a.PersonId}
}

func init() {
	for id, read := range myAccountReads {
		personalReads[id] = read
	}
}
