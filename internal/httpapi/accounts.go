package httpapi

import (
	"context"
	"strings"

	"github.com/google/uuid"
	"github.com/oapi-codegen/nullable"

	"github.com/pbudget/pbudget/api"
	"github.com/pbudget/pbudget/internal/account"
	"github.com/pbudget/pbudget/internal/accounts"
	"github.com/pbudget/pbudget/internal/actor"
	"github.com/pbudget/pbudget/internal/apperr"
	"github.com/pbudget/pbudget/internal/date"
	"github.com/pbudget/pbudget/internal/page"
	"github.com/pbudget/pbudget/internal/portal"
)

func accountOut(a accounts.Account, b accounts.BalanceAt) api.DirectPaymentAccount {
	return api.DirectPaymentAccount{Id: a.ID, AgreementId: a.AgreementID, PersonId: a.PersonID,
		AccountType: api.DirectPaymentAccountAccountType(a.AccountType), PaymentBasis: api.DirectPaymentAccountPaymentBasis(a.PaymentBasis),
		OpenedOn: dateOut(a.OpenedOn), OpeningBalancePence: a.OpeningBalance, BalancePence: b.Balance, BalanceAt: dateOut(b.At), CreatedAt: a.CreatedAt}
}

// GetDirectPaymentAccount implements api.StrictServerInterface.
func (s *Server) GetDirectPaymentAccount(ctx context.Context, req api.GetDirectPaymentAccountRequestObject) (api.GetDirectPaymentAccountResponseObject, error) {
	a, err := mustActor(actor.From(ctx))
	if err != nil {
		return nil, err
	}
	acct, b, err := s.accounts.GetAccount(ctx, a, req.AccountId)
	if err != nil {
		return nil, err
	}
	return api.GetDirectPaymentAccount200JSONResponse{Body: accountOut(acct, b)}, nil
}

// GetDirectPaymentAccountOfAgreement implements api.StrictServerInterface.
func (s *Server) GetDirectPaymentAccountOfAgreement(ctx context.Context, req api.GetDirectPaymentAccountOfAgreementRequestObject) (api.GetDirectPaymentAccountOfAgreementResponseObject, error) {
	a, err := mustActor(actor.From(ctx))
	if err != nil {
		return nil, err
	}
	acct, b, err := s.accounts.AccountOfAgreement(ctx, a, req.AgreementId)
	if err != nil {
		return nil, err
	}
	return api.GetDirectPaymentAccountOfAgreement200JSONResponse{Body: accountOut(acct, b)}, nil
}

func entryOut(e accounts.Entry) api.LedgerEntry {
	return api.LedgerEntry{Id: e.ID, AccountId: e.AccountID, EntryDate: dateOut(e.Date), Kind: api.LedgerEntryKind(e.Kind), AmountPence: e.Amount,
		BalanceEffectPence: e.Effect, SourceKind: e.SourceKind, SourceId: e.SourceID, PlanLineId: nullableOf(e.PlanLineID),
		StatementLineId: nullableOf(e.StatementLineID), Reason: e.Reason, Reference: nonEmpty(e.Reference), CreatedBy: e.CreatedBy, CreatedAt: e.CreatedAt}
}

// RecordContributionPaidToCouncil implements api.StrictServerInterface.
func (s *Server) RecordContributionPaidToCouncil(ctx context.Context, req api.RecordContributionPaidToCouncilRequestObject) (api.RecordContributionPaidToCouncilResponseObject, error) {
	a, err := mustActor(actor.From(ctx))
	if err != nil {
		return nil, err
	}
	b := req.Body
	e, err := s.accounts.RecordContributionPaidToCouncil(ctx, a, req.AccountId, accounts.ContributionPaymentInput{Amount: b.AmountPence,
		ReceivedOn: dateOf(b.ReceivedOn), Reference: b.Reference, Note: deref(b.Note)})
	if err != nil {
		return nil, err
	}
	return api.RecordContributionPaidToCouncil201JSONResponse{Body: entryOut(e)}, nil
}

// ListLedgerEntries implements api.StrictServerInterface.
func (s *Server) ListLedgerEntries(ctx context.Context, req api.ListLedgerEntriesRequestObject) (api.ListLedgerEntriesResponseObject, error) {
	a, err := mustActor(actor.From(ctx))
	if err != nil {
		return nil, err
	}
	p := req.Params
	f := accounts.LedgerFilter{From: datePtr(p.From), To: datePtr(p.To)}
	kind := ""
	if p.Kind != nil {
		k := account.Kind(*p.Kind)
		f.Kind, kind = &k, string(k)
	}
	fp := page.Fingerprint("ledger", req.AccountId.String(), kind, datePtrString(f.From), datePtrString(f.To))
	pr, err := page.Parse(p.PageSize, p.PageToken, fp)
	if err != nil {
		return nil, err
	}
	list, err := s.accounts.Ledger(ctx, a, req.AccountId, f, pr)
	if err != nil {
		return nil, err
	}
	items, next := pageOf(list, pr, fp, accounts.Entry.Cursor, entryOut)
	return api.ListLedgerEntries200JSONResponse{Body: api.LedgerEntryList{Items: items, NextPageToken: next}}, nil
}

// GetAccountBalance implements api.StrictServerInterface.
func (s *Server) GetAccountBalance(ctx context.Context, req api.GetAccountBalanceRequestObject) (api.GetAccountBalanceResponseObject, error) {
	a, err := mustActor(actor.From(ctx))
	if err != nil {
		return nil, err
	}
	b, err := s.accounts.Balance(ctx, a, req.AccountId, datePtr(req.Params.At))
	if err != nil {
		return nil, err
	}
	return api.GetAccountBalance200JSONResponse{Body: api.AccountBalance{AccountId: b.AccountID, At: dateOut(b.At),
		OpeningBalancePence: b.Opening, BalancePence: b.Balance, Entries: b.Entries}}, nil
}

func statementOut(st accounts.Statement) api.Statement {
	out := api.Statement{Id: st.ID, AccountId: st.AccountID, UploadId: nullableOf(st.UploadID), Format: api.StatementFormat(st.Format),
		FileSha256: st.FileSHA256, From: nullableDate(st.From), To: nullableDate(st.To), Lines: st.Lines, NewLines: st.NewLines,
		ExistingLines: st.ExistingLines, InPence: st.In, OutPence: st.Out, FlaggedLines: st.FlaggedLines,
		ClosingCheck: nullable.NewNullNullable[api.StatementClosingCheck](), ImportedBy: st.ImportedBy, ImportedAt: st.ImportedAt}
	if st.StatedClosing != nil && st.LedgerClosing != nil && st.To != nil {
		out.ClosingCheck = nullable.NewNullableWithValue(api.StatementClosingCheck{On: dateOut(*st.To), StatedPence: *st.StatedClosing,
			LedgerPence: *st.LedgerClosing, DifferencePence: *st.StatedClosing - *st.LedgerClosing, Agrees: *st.ClosingAgrees, Detail: deref(st.ClosingDetail)})
	}
	return out
}

func uploadOut(u accounts.Upload) api.StatementUpload {
	out := api.StatementUpload{Id: u.ID, AccountId: u.AccountID, Format: api.StatementUploadFormat(u.Format), FileSha256: u.FileSHA256,
		SizeBytes: u.Size, Status: api.StatementUploadStatus(u.Status), BytesProcessed: u.BytesProcessed, LinesProcessed: u.LinesProcessed,
		StatementId: nullableOf(u.StatementID), Problem: nullable.NewNullNullable[api.StatementUploadProblem](), CreatedBy: u.CreatedBy,
		CreatedAt: u.CreatedAt, UpdatedAt: u.UpdatedAt, CompletedAt: nullableOf(u.CompletedAt)}
	if p := u.Problem; p != nil {
		pr := api.StatementUploadProblem{Type: "urn:pbudget:problem:" + p.Code, Detail: p.Message, Errors: []api.FieldError{}}
		for _, f := range p.Fields {
			pr.Errors = append(pr.Errors, api.FieldError{Field: f.Field, In: api.FieldErrorIn(f.In), Code: f.Code, Message: f.Message})
		}
		out.Problem = nullable.NewNullableWithValue(pr)
	}
	return out
}

// mappingOf reads format=mapped's columns from the query; the mapping's own field names become
// the parameters' names in its problems.
func mappingOf(p api.ImportStatementParams) (account.Mapping, error) {
	var custom *account.Mapping
	if p.Format == "mapped" {
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
		custom = &m
	} else if p.DateColumn != nil || p.DescriptionColumn != nil || p.AmountColumn != nil || p.PaidInColumn != nil || p.PaidOutColumn != nil ||
		p.BalanceColumn != nil || p.ReferenceColumn != nil || p.MerchantCategoryColumn != nil || p.DateFormat != nil || p.Unit != nil ||
		p.Sign != nil || p.Delimiter != nil || p.SkipRows != nil {
		return account.Mapping{}, apperr.Validation(apperr.FieldError{Field: "format", In: "query", Code: "mapping_needs_mapped",
			Message: "column and layout parameters describe another bank's export: send them with format=mapped"})
	}
	m, err := accounts.MappingFor(string(p.Format), custom)
	if err != nil {
		return account.Mapping{}, err
	}
	if err := account.ValidateMapping(m); err != nil {
		return account.Mapping{}, queryMappingError(err)
	}
	return m, nil
}

// mappingParams are the query parameters of the mapping's fields.
var mappingParams = map[string]string{"date": "date_column", "description": "description_column", "amount": "amount_column",
	"paid_in": "paid_in_column", "paid_out": "paid_out_column", "date_format": "date_format", "unit": "unit", "sign": "sign",
	"delimiter": "delimiter", "skip_rows": "skip_rows"}

func queryMappingError(err error) error {
	ae, ok := err.(*apperr.Error)
	if !ok {
		return err
	}
	c := *ae
	c.Fields = nil
	for _, f := range ae.Fields {
		if name, ok := mappingParams[strings.TrimPrefix(f.Field, "/mapping/")]; ok {
			f.Field, f.In = name, "query"
		}
		c.Fields = append(c.Fields, f)
	}
	return &c
}

// ImportStatement implements api.StrictServerInterface. The contract streamed the body to a
// temporary file (at most 64 MiB), hashing it on the way: the body here reads that file.
func (s *Server) ImportStatement(ctx context.Context, req api.ImportStatementRequestObject) (api.ImportStatementResponseObject, error) {
	a, err := mustActor(actor.From(ctx))
	if err != nil {
		return nil, err
	}
	m, err := mappingOf(req.Params)
	if err != nil {
		return nil, err
	}
	in, err := importInput(req.Body, string(req.Params.Format), m)
	if err != nil {
		return nil, err
	}
	st, up, err := s.accounts.Import(ctx, a, req.AccountId, in)
	if err != nil {
		return nil, err
	}
	if up != nil {
		loc := "/v1/direct-payment-accounts/" + req.AccountId.String() + "/statement-uploads/" + up.ID.String()
		return api.ImportStatement202JSONResponse{Body: uploadOut(*up), Headers: api.ImportStatement202ResponseHeaders{Location: &loc}}, nil
	}
	loc := "/v1/direct-payment-accounts/" + req.AccountId.String() + "/statements/" + st.ID.String()
	return api.ImportStatement201JSONResponse{Body: statementOut(*st), Headers: api.ImportStatement201ResponseHeaders{Location: &loc}}, nil
}

var errBodyRequired = apperr.Validation(apperr.FieldError{Field: "", In: "body", Code: "required", Message: "the body is the statement's CSV file"})

// ListStatements implements api.StrictServerInterface.
func (s *Server) ListStatements(ctx context.Context, req api.ListStatementsRequestObject) (api.ListStatementsResponseObject, error) {
	a, err := mustActor(actor.From(ctx))
	if err != nil {
		return nil, err
	}
	fp := page.Fingerprint("statements", req.AccountId.String())
	pr, err := page.Parse(req.Params.PageSize, req.Params.PageToken, fp)
	if err != nil {
		return nil, err
	}
	list, err := s.accounts.ListStatements(ctx, a, req.AccountId, pr)
	if err != nil {
		return nil, err
	}
	items, next := pageOf(list, pr, fp, accounts.Statement.Cursor, statementOut)
	return api.ListStatements200JSONResponse{Body: api.StatementList{Items: items, NextPageToken: next}}, nil
}

// GetStatement implements api.StrictServerInterface.
func (s *Server) GetStatement(ctx context.Context, req api.GetStatementRequestObject) (api.GetStatementResponseObject, error) {
	a, err := mustActor(actor.From(ctx))
	if err != nil {
		return nil, err
	}
	st, err := s.accounts.GetStatement(ctx, a, req.AccountId, req.StatementId)
	if err != nil {
		return nil, err
	}
	return api.GetStatement200JSONResponse{Body: statementOut(st)}, nil
}

func statementLineOut(l accounts.Line) api.StatementLine {
	out := api.StatementLine{Id: l.ID, StatementId: l.StatementID, LineNumber: l.Number, Occurrence: l.Occurrence, Date: dateOut(l.Date),
		Description: l.Description, AmountPence: l.Amount, BalancePence: nullableOf(l.Balance), Reference: l.Reference,
		MerchantCategory: nullableOf(l.MerchantCategory), Kind: api.StatementLineKind(l.Kind), Posted: l.Posted, PlanLineId: nullableOf(l.PlanLineID),
		MatchedBy: nullable.NewNullNullable[api.StatementLineMatchedBy](), Flag: nullable.NewNullNullable[api.StatementLineFlag](),
		MatchReason: l.Reason, LineKey: l.Key.String()}
	if l.By != nil {
		out.MatchedBy = nullable.NewNullableWithValue(api.StatementLineMatchedBy(*l.By))
	}
	if l.Flag != nil {
		out.Flag = nullable.NewNullableWithValue(api.StatementLineFlag(*l.Flag))
	}
	return out
}

// ListStatementLines implements api.StrictServerInterface.
func (s *Server) ListStatementLines(ctx context.Context, req api.ListStatementLinesRequestObject) (api.ListStatementLinesResponseObject, error) {
	a, err := mustActor(actor.From(ctx))
	if err != nil {
		return nil, err
	}
	fp := page.Fingerprint("statement-lines", req.StatementId.String())
	pr, err := page.Parse(req.Params.PageSize, req.Params.PageToken, fp)
	if err != nil {
		return nil, err
	}
	list, err := s.accounts.ListLines(ctx, a, req.AccountId, req.StatementId, pr)
	if err != nil {
		return nil, err
	}
	items, next := pageOf(list, pr, fp, accounts.Line.Cursor, statementLineOut)
	return api.ListStatementLines200JSONResponse{Body: api.StatementLineList{Items: items, NextPageToken: next}}, nil
}

// GetStatementUpload implements api.StrictServerInterface.
func (s *Server) GetStatementUpload(ctx context.Context, req api.GetStatementUploadRequestObject) (api.GetStatementUploadResponseObject, error) {
	a, err := mustActor(actor.From(ctx))
	if err != nil {
		return nil, err
	}
	u, err := s.accounts.GetUpload(ctx, a, req.AccountId, req.UploadId)
	if err != nil {
		return nil, err
	}
	return api.GetStatementUpload200JSONResponse{Body: uploadOut(u)}, nil
}

func flagOut(f accounts.Flag, answers []portal.FlagAnswer) api.StatementFlag {
	out := api.StatementFlag{Id: f.ID, AccountId: f.AccountID, StatementLineId: f.StatementLineID, Flag: api.StatementFlagFlag(f.Flag),
		Reason: f.Reason, LineDate: dateOut(f.LineDate), AmountPence: f.Amount, Resolution: nullable.NewNullNullable[api.StatementFlagResolution](),
		Note: nullableOf(f.Note), ResolvedBy: nullableOf(f.ResolvedBy), ResolvedAt: nullableOf(f.ResolvedAt), CreatedAt: f.CreatedAt,
		Answers: make([]api.StatementFlagAnswer, len(answers))}
	if f.Resolution != nil {
		out.Resolution = nullable.NewNullableWithValue(api.StatementFlagResolution(*f.Resolution))
	}
	for i, x := range answers {
		out.Answers[i] = api.StatementFlagAnswer{Explanation: x.Explanation, AnsweredAt: x.At, AnsweredByPersonId: x.ByPerson,
			AnsweredByBasis: api.StatementFlagAnswerAnsweredByBasis(x.Basis)}
	}
	return out
}

// flagsOut is a page of flags with the person's answers to each.
func (s *Server) flagsOut(ctx context.Context, a actor.Actor, flags []accounts.Flag) (func(accounts.Flag) api.StatementFlag, error) {
	answers, err := s.portal.AnswersFor(ctx, a, flags)
	if err != nil {
		return nil, err
	}
	return func(f accounts.Flag) api.StatementFlag { return flagOut(f, answers[f.ID]) }, nil
}

// ListStatementFlags implements api.StrictServerInterface.
func (s *Server) ListStatementFlags(ctx context.Context, req api.ListStatementFlagsRequestObject) (api.ListStatementFlagsResponseObject, error) {
	a, err := mustActor(actor.From(ctx))
	if err != nil {
		return nil, err
	}
	open := req.Params.Status != nil && *req.Params.Status == "open"
	status := "all"
	if open {
		status = "open"
	}
	fp := page.Fingerprint("statement-flags", req.AccountId.String(), status)
	pr, err := page.Parse(req.Params.PageSize, req.Params.PageToken, fp)
	if err != nil {
		return nil, err
	}
	list, err := s.accounts.ListFlags(ctx, a, req.AccountId, open, pr)
	if err != nil {
		return nil, err
	}
	out, err := s.flagsOut(ctx, a, list)
	if err != nil {
		return nil, err
	}
	items, next := pageOf(list, pr, fp, accounts.Flag.Cursor, out)
	return api.ListStatementFlags200JSONResponse{Body: api.StatementFlagList{Items: items, NextPageToken: next}}, nil
}

// ResolveStatementFlag implements api.StrictServerInterface.
func (s *Server) ResolveStatementFlag(ctx context.Context, req api.ResolveStatementFlagRequestObject) (api.ResolveStatementFlagResponseObject, error) {
	a, err := mustActor(actor.From(ctx))
	if err != nil {
		return nil, err
	}
	f, err := s.accounts.ResolveFlag(ctx, a, req.AccountId, req.FlagId, accounts.Resolution(req.Body.Resolution), req.Body.Note)
	if err != nil {
		return nil, err
	}
	out, err := s.flagsOut(ctx, a, []accounts.Flag{f})
	if err != nil {
		return nil, err
	}
	return api.ResolveStatementFlag200JSONResponse{Body: out(f)}, nil
}

func evidenceOut(e accounts.Evidence) api.EvidenceItem {
	return api.EvidenceItem{Id: e.ID, AccountId: e.AccountID, StatementLineId: nullableOf(e.StatementLineID), AuditId: nullableOf(e.AuditID),
		PersonalAssistantId: nullableOf(e.PersonalAssistantID),
		Kind:                api.EvidenceKind(e.Kind), Reference: e.Reference, Sha256: e.SHA256, DocumentDate: dateOut(e.DocumentDate),
		ValidUntil: nullableDate(e.ValidUntil), ReceivedOn: dateOut(e.ReceivedOn), Note: e.Note, RecordedBy: e.RecordedBy, RecordedAt: e.RecordedAt}
}

// CreateEvidenceItem implements api.StrictServerInterface.
func (s *Server) CreateEvidenceItem(ctx context.Context, req api.CreateEvidenceItemRequestObject) (api.CreateEvidenceItemResponseObject, error) {
	a, err := mustActor(actor.From(ctx))
	if err != nil {
		return nil, err
	}
	b := req.Body
	e, err := s.accounts.AddEvidence(ctx, a, req.AccountId, accounts.EvidenceInput{StatementLineID: uuidPtr(b.StatementLineId),
		AuditID: uuidPtr(b.AuditId), PersonalAssistantID: uuidPtr(b.PersonalAssistantId), Kind: accounts.EvidenceKind(b.Kind), Reference: b.Reference, SHA256: b.Sha256,
		DocumentDate: dateOf(b.DocumentDate), ValidUntil: datePtr(b.ValidUntil), ReceivedOn: datePtr(b.ReceivedOn), Note: deref(b.Note)})
	if err != nil {
		return nil, err
	}
	return api.CreateEvidenceItem201JSONResponse{Body: evidenceOut(e)}, nil
}

func uuidPtr(id *uuid.UUID) *uuid.UUID { return id }

// ListEvidenceItems implements api.StrictServerInterface.
func (s *Server) ListEvidenceItems(ctx context.Context, req api.ListEvidenceItemsRequestObject) (api.ListEvidenceItemsResponseObject, error) {
	a, err := mustActor(actor.From(ctx))
	if err != nil {
		return nil, err
	}
	p := req.Params
	str := func(id *uuid.UUID) string {
		if id == nil {
			return ""
		}
		return id.String()
	}
	fp := page.Fingerprint("evidence", req.AccountId.String(), str(p.StatementLineId), str(p.AuditId))
	pr, err := page.Parse(p.PageSize, p.PageToken, fp)
	if err != nil {
		return nil, err
	}
	list, err := s.accounts.ListEvidence(ctx, a, req.AccountId, p.StatementLineId, p.AuditId, pr)
	if err != nil {
		return nil, err
	}
	items, next := pageOf(list, pr, fp, accounts.Evidence.Cursor, evidenceOut)
	return api.ListEvidenceItems200JSONResponse{Body: api.EvidenceItemList{Items: items, NextPageToken: next}}, nil
}

var _ = date.Date{}

// importInput is a statement import of the file the contract spooled (and hashed) from the body.
func importInput(body any, format string, m account.Mapping) (accounts.ImportInput, error) {
	f, ok := body.(*spooledBody)
	if !ok {
		return accounts.ImportInput{}, errBodyRequired
	}
	return accounts.ImportInput{Format: format, Mapping: m, File: accounts.File{Body: f, Size: f.size, SHA256: f.sha256}}, nil
}
