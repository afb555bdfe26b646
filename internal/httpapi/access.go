package httpapi

import (
	"context"
	"fmt"
	"reflect"
	"strings"
	"time"
	"unicode"
	"unicode/utf8"

	"github.com/google/uuid"
	"github.com/labstack/echo/v4"

	"github.com/pbudget/pbudget/api"
	"github.com/pbudget/pbudget/internal/access"
	"github.com/pbudget/pbudget/internal/actor"
	"github.com/pbudget/pbudget/internal/page"
)

// personalReads says, for each operation that reads records about people, which records a
// successful response carries: one access record is kept for each (TestEveryReadIsClassified
// fails when a GET operation is neither here nor in impersonalReads). A list records every item
// it returns.
var personalReads = map[string]func(req, resp any) []access.Read{
	"getPerson": one(func(r personResponse) access.Read {
		return access.Read{EntityType: access.Person, EntityID: r.p.ID, PersonID: r.p.ID}
	}),
	"listPeople": each(func(r api.ListPeople200JSONResponse) []api.Person { return r.Body.Items }, personRead),
	"getRelationship": func(req, resp any) []access.Read {
		r, ok := resp.(api.GetRelationship200JSONResponse)
		if !ok {
			return nil
		}
		return []access.Read{{EntityType: access.Relationship, EntityID: r.Body.Id, PersonID: req.(api.GetRelationshipRequestObject).PersonId}}
	},
	"listRelationships": func(req, resp any) []access.Read {
		r, ok := resp.(api.ListRelationships200JSONResponse)
		if !ok {
			return nil
		}
		person := req.(api.ListRelationshipsRequestObject).PersonId
		out := make([]access.Read, len(r.Body.Items))
		for i, it := range r.Body.Items {
			out[i] = access.Read{EntityType: access.Relationship, EntityID: it.Id, PersonID: person}
		}
		return out
	},
	"getAssessment":   one(func(r api.GetAssessment200JSONResponse) access.Read { return assessmentRead(r.Body) }),
	"listAssessments": each(func(r api.ListAssessments200JSONResponse) []api.Assessment { return r.Body.Items }, assessmentRead),
	"listPersonAssessments": each(func(r api.ListPersonAssessments200JSONResponse) []api.Assessment { return r.Body.Items },
		assessmentRead),
	"getFinancialAssessment": one(func(r api.GetFinancialAssessment200JSONResponse) access.Read { return financialRead(r.Body) }),
	"listPersonFinancialAssessments": each(func(r api.ListPersonFinancialAssessments200JSONResponse) []api.FinancialAssessment {
		return r.Body.Items
	}, financialRead),
	"listUpratingChanges": each(func(r api.ListUpratingChanges200JSONResponse) []api.UpratingChange { return r.Body.Items },
		func(c api.UpratingChange) access.Read {
			return access.Read{EntityType: access.FinancialAssessment, EntityID: c.PreviousAssessmentId, PersonID: c.PersonId}
		}),
	"getPersonalBudget": one(func(r api.GetPersonalBudget200JSONResponse) access.Read {
		return budgetRead(r.Body.Id, r.Body.PersonId)
	}),
	"listPersonalBudgets": each(func(r api.ListPersonalBudgets200JSONResponse) []api.PersonalBudget { return r.Body.Items },
		func(b api.PersonalBudget) access.Read { return budgetRead(b.Id, b.PersonId) }),
	"listPersonBudgetVersions": each(func(r api.ListPersonBudgetVersions200JSONResponse) []api.BudgetVersion { return r.Body.Items },
		func(v api.BudgetVersion) access.Read { return budgetRead(v.BudgetId, v.PersonId) }),
	"getProviderBudgetView": one(func(r api.GetProviderBudgetView200JSONResponse) access.Read {
		return budgetRead(r.Body.Id, r.Body.PersonId)
	}),
	"getFundingRequest": one(func(r api.GetFundingRequest200JSONResponse) access.Read { return fundingRead(r.Body) }),
	"listFundingRequests": each(func(r api.ListFundingRequests200JSONResponse) []api.FundingRequest { return r.Body.Items },
		fundingRead),
	"getSupportPlan": one(func(r api.GetSupportPlan200JSONResponse) access.Read { return planRead(r.Body) }),
	"getDirectPaymentSchedule": one(func(r api.GetDirectPaymentSchedule200JSONResponse) access.Read {
		return paymentAgreementRead(r.Body.Agreement)
	}),
	"getISFSchedule": one(func(r api.GetISFSchedule200JSONResponse) access.Read { return paymentAgreementRead(r.Body.Agreement) }),
	"listPaymentAgreements": each(func(r api.ListPaymentAgreements200JSONResponse) []api.PaymentAgreement { return r.Body.Items },
		paymentAgreementRead),
	"listPaymentRunLines": each(func(r api.ListPaymentRunLines200JSONResponse) []api.PaymentLine { return r.Body.Items }, paymentLineRead),
	"listPaymentLines":    each(func(r api.ListPaymentLines200JSONResponse) []api.PaymentLine { return r.Body.Items }, paymentLineRead),
	// A recipient's bank or card details, masked: the handler notes whose agreement it is.
	"getDirectPaymentDetails": func(req, resp any) []access.Read {
		if _, ok := resp.(api.GetDirectPaymentDetails200JSONResponse); !ok {
			return nil
		}
		return []access.Read{{EntityType: access.DirectPaymentAgreement, EntityID: req.(api.GetDirectPaymentDetailsRequestObject).AgreementId}}
	},
	// Commitments name their budget, not its person: the handler notes the person.
	"getBudgetCommitments": func(req, resp any) []access.Read {
		if _, ok := resp.(api.GetBudgetCommitments200JSONResponse); !ok {
			return nil
		}
		return []access.Read{{EntityType: access.PersonalBudget, EntityID: req.(api.GetBudgetCommitmentsRequestObject).BudgetId}}
	},
	// A line names its plan, not its person: the handler notes the person (access.NoteSubject).
	"getPlanLine": func(req, resp any) []access.Read {
		if _, ok := resp.(api.GetPlanLine200JSONResponse); !ok {
			return nil
		}
		return []access.Read{{EntityType: access.SupportPlan, EntityID: req.(api.GetPlanLineRequestObject).PlanId}}
	},
	"listSupportPlans": each(func(r api.ListSupportPlans200JSONResponse) []api.SupportPlan { return r.Body.Items }, planRead),
	"listBudgetSupportPlans": each(func(r api.ListBudgetSupportPlans200JSONResponse) []api.SupportPlan { return r.Body.Items },
		planRead),
	"getDirectPaymentAgreement": one(func(r api.GetDirectPaymentAgreement200JSONResponse) access.Read { return dpRead(r.Body) }),
	"listDirectPaymentAgreements": each(func(r api.ListDirectPaymentAgreements200JSONResponse) []api.DirectPaymentAgreement {
		return r.Body.Items
	}, dpRead),
	"getReviewSchedule": one(func(r api.GetReviewSchedule200JSONResponse) access.Read {
		return access.Read{EntityType: access.Person, EntityID: r.Body.PersonId, PersonID: r.Body.PersonId}
	}),
	"getReviewWorklist": each(func(r api.GetReviewWorklist200JSONResponse) []api.ReviewSchedule { return r.Body.Items },
		func(sc api.ReviewSchedule) access.Read {
			return access.Read{EntityType: access.Person, EntityID: sc.PersonId, PersonID: sc.PersonId}
		}),
	"getReview":         one(func(r api.GetReview200JSONResponse) access.Read { return reviewRead(r.Body) }),
	"listReviews":       each(func(r api.ListReviews200JSONResponse) []api.Review { return r.Body.Items }, reviewRead),
	"listPersonReviews": each(func(r api.ListPersonReviews200JSONResponse) []api.Review { return r.Body.Items }, reviewRead),
	"getISFAgreement":   one(func(r api.GetISFAgreement200JSONResponse) access.Read { return isfRead(r.Body) }),
	"listISFAgreements": each(func(r api.ListISFAgreements200JSONResponse) []api.ISFAgreement { return r.Body.Items }, isfRead),
	// A direct-payment account and what it holds (spending names payees, assistants, shops): one
	// read of the account, its person noted by the service.
	"getDirectPaymentAccount": one(func(r api.GetDirectPaymentAccount200JSONResponse) access.Read { return accountRead(r.Body) }),
	"getDirectPaymentAccountOfAgreement": one(func(r api.GetDirectPaymentAccountOfAgreement200JSONResponse) access.Read {
		return accountRead(r.Body)
	}),
	"listLedgerEntries": accountReadOf[api.ListLedgerEntries200JSONResponse](func(r api.ListLedgerEntriesRequestObject) uuid.UUID { return r.AccountId }),
	"getAccountBalance": accountReadOf[api.GetAccountBalance200JSONResponse](func(r api.GetAccountBalanceRequestObject) uuid.UUID { return r.AccountId }),
	"listStatements":    accountReadOf[api.ListStatements200JSONResponse](func(r api.ListStatementsRequestObject) uuid.UUID { return r.AccountId }),
	"getStatement":      accountReadOf[api.GetStatement200JSONResponse](func(r api.GetStatementRequestObject) uuid.UUID { return r.AccountId }),
	"listStatementLines": accountReadOf[api.ListStatementLines200JSONResponse](func(r api.ListStatementLinesRequestObject) uuid.UUID {
		return r.AccountId
	}),
	"listStatementFlags": accountReadOf[api.ListStatementFlags200JSONResponse](func(r api.ListStatementFlagsRequestObject) uuid.UUID {
		return r.AccountId
	}),
	"listEvidenceItems": accountReadOf[api.ListEvidenceItems200JSONResponse](func(r api.ListEvidenceItemsRequestObject) uuid.UUID {
		return r.AccountId
	}),
}

func accountRead(a api.DirectPaymentAccount) access.Read {
	return access.Read{EntityType: access.DirectPaymentAccount, EntityID: a.Id, PersonID: a.PersonId}
}

// accountReadOf is one read of the account a request of type Q names, when the response is R.
func accountReadOf[R, Q any](id func(Q) uuid.UUID) func(req, resp any) []access.Read {
	return func(req, resp any) []access.Read {
		if _, ok := resp.(R); !ok {
			return nil
		}
		return []access.Read{{EntityType: access.DirectPaymentAccount, EntityID: id(req.(Q))}}
	}
}

// impersonalReads are the GET operations whose answers hold nothing about a person: the
// council's configuration, providers, the trails themselves, and the service's own pages.
var impersonalReads = []string{
	"getHealth", "getReady", "getOpenAPI", "getDocs", "getDocsScript",
	"listRASVersions", "getRASVersion", "listRateTables", "getRateTable", "getUpratingJob",
	"getCouncilSettings", "listServiceCategories", "listProviders", "getProvider",
	"listAuditEvents", "listAccessRecords",
	// Payment records that name an agreement by id only, and a provider's own bank details; a
	// payment file's download (which holds bank details) is in the audit trail.
	"getProviderBankDetails", "listOneOffPayments", "getOneOffPayment", "listPaymentOverpayments",
	"listPaymentRuns", "getPaymentRun", "listPaymentFiles", "getPaymentFile",
	// Webhook subscriptions and their delivery log name records by id only; the weekly report is
	// counts; a CLD export's listing is counts, and its file's and report's downloads are in the
	// audit trail (as a payment file's).
	"listWebhookSubscriptions", "getWebhookSubscription", "listWebhookDeliveries", "getWeeklyReport",
	"listCLDExports", "getCLDExport", "getCLDExportFile", "getCLDValidationReport",
	// A background import's progress: counts, and the lines refused (numbers and reasons).
	"getStatementUpload",
}

// one reads the single record of a response of type R.
func one[R any](read func(R) access.Read) func(req, resp any) []access.Read {
	return func(_, resp any) []access.Read {
		r, ok := resp.(R)
		if !ok {
			return nil // another status: nothing was read
		}
		return []access.Read{read(r)}
	}
}

// each reads every item of a list response of type R.
func each[R, T any](items func(R) []T, read func(T) access.Read) func(req, resp any) []access.Read {
	return func(_, resp any) []access.Read {
		r, ok := resp.(R)
		if !ok {
			return nil
		}
		list := items(r)
		out := make([]access.Read, len(list))
		for i, it := range list {
			out[i] = read(it)
		}
		return out
	}
}

func personRead(p api.Person) access.Read {
	return access.Read{EntityType: access.Person, EntityID: p.Id, PersonID: p.Id}
}

func assessmentRead(a api.Assessment) access.Read {
	return access.Read{EntityType: access.Assessment, EntityID: a.Id, PersonID: a.PersonId}
}

func financialRead(f api.FinancialAssessment) access.Read {
	return access.Read{EntityType: access.FinancialAssessment, EntityID: f.Id, PersonID: f.PersonId}
}

func budgetRead(id, person uuid.UUID) access.Read {
	return access.Read{EntityType: access.PersonalBudget, EntityID: id, PersonID: person}
}

func fundingRead(f api.FundingRequest) access.Read {
	return access.Read{EntityType: access.FundingRequest, EntityID: f.Id, PersonID: f.PersonId}
}

func reviewRead(r api.Review) access.Read {
	return access.Read{EntityType: access.Review, EntityID: r.Id, PersonID: r.PersonId}
}

func planRead(p api.SupportPlan) access.Read {
	return access.Read{EntityType: access.SupportPlan, EntityID: p.Id, PersonID: p.PersonId}
}

func dpRead(d api.DirectPaymentAgreement) access.Read {
	return access.Read{EntityType: access.DirectPaymentAgreement, EntityID: d.Id, PersonID: d.PersonId}
}

func paymentAgreementRead(p api.PaymentAgreement) access.Read {
	kind := access.DirectPaymentAgreement
	if p.AgreementType == api.AgreementTypeIsf {
		kind = access.ISFAgreement
	}
	return access.Read{EntityType: kind, EntityID: p.Id, PersonID: p.PersonId}
}

func paymentLineRead(l api.PaymentLine) access.Read {
	kind := access.DirectPaymentAgreement
	if l.AgreementType == api.AgreementTypeIsf {
		kind = access.ISFAgreement
	}
	return access.Read{EntityType: kind, EntityID: l.AgreementId, PersonID: l.PersonId}
}

func isfRead(i api.ISFAgreement) access.Read {
	return access.Read{EntityType: access.ISFAgreement, EntityID: i.Id, PersonID: i.PersonId}
}

// recordReads is the strict-handler middleware that keeps an access record of every personal
// record a successful response carries, before the response is sent: a read whose record cannot
// be queued (the caller gone while the queue is full) is not answered.
// The generated server wraps the handler in it on every request: it only looks up the plan made
// at start-up (readPlans).
func (s *Server) recordReads(f api.StrictHandlerFunc, generatedID string) api.StrictHandlerFunc {
	plan, ok := s.readPlans[generatedID]
	if !ok {
		return f
	}
	return func(c echo.Context, req any) (any, error) {
		ctx, subject := access.WithSubjectNote(c.Request().Context())
		c.SetRequest(c.Request().WithContext(ctx))
		resp, err := f(c, req)
		if err != nil {
			return resp, err
		}
		reads := plan.readsOf(req, resp)
		if len(reads) == 0 {
			return resp, nil
		}
		for i := range reads {
			if reads[i].PersonID == uuid.Nil {
				reads[i].PersonID = *subject
			}
		}
		a, err := mustActor(actor.From(ctx))
		if err != nil {
			return nil, err
		}
		if err := s.accessLog.Record(ctx, access.Records(a, plan.operationID, filterNames(req, plan.defaults), s.now(), reads)); err != nil {
			return nil, err
		}
		return resp, nil
	}
}

// readPlan is what recordReads needs of one operation.
type readPlan struct {
	operationID string // as openapi.yaml names it
	readsOf     func(req, resp any) []access.Read
	defaults    map[string]string // of its query parameters
}

// readPlans indexes personalReads by the names the generated server gives operations.
func (s *Server) buildReadPlans() map[string]readPlan {
	out := make(map[string]readPlan, len(personalReads))
	for id, readsOf := range personalReads {
		r, size := utf8.DecodeRuneInString(id)
		out[string(unicode.ToUpper(r))+id[size:]] = readPlan{operationID: id, readsOf: readsOf, defaults: s.queryDefaults(id)}
	}
	return out
}

// contractOperationID turns the name oapi-codegen gives an operation (GetPerson) back into the
// operationId of openapi.yaml (getPerson), which access records name.
func contractOperationID(generated string) string {
	r, size := utf8.DecodeRuneInString(generated)
	return string(unicode.ToLower(r)) + generated[size:]
}

// queryDefaults returns the declared defaults of the operation's query parameters, rendered as
// fmt.Sprint renders them.
func (s *Server) queryDefaults(operationID string) map[string]string {
	out := map[string]string{}
	for _, op := range s.ops {
		if contractOperationID(op.route.Operation.OperationID) != operationID {
			continue
		}
		for _, p := range append(op.route.PathItem.Parameters, op.route.Operation.Parameters...) {
			if p.Value != nil && p.Value.In == "query" && p.Value.Schema != nil && p.Value.Schema.Value != nil &&
				p.Value.Schema.Value.Default != nil {
				out[p.Value.Name] = fmt.Sprint(p.Value.Schema.Value.Default)
			}
		}
	}
	return out
}

// filterNames returns the names of the query parameters a list request was given, apart from
// paging and those left at their defaults (the validator fills those in): which filters found the
// records, never their values.
func filterNames(req any, defaults map[string]string) []string {
	v := reflect.ValueOf(req)
	if v.Kind() != reflect.Struct {
		return nil
	}
	params := v.FieldByName("Params")
	if !params.IsValid() || params.Kind() != reflect.Struct {
		return nil
	}
	var out []string
	t := params.Type()
	for i := range t.NumField() {
		name, _, _ := strings.Cut(t.Field(i).Tag.Get("form"), ",")
		if name == "" || name == "page_size" || name == "page_token" {
			continue
		}
		f := params.Field(i)
		if f.Kind() != reflect.Pointer || f.IsNil() {
			continue
		}
		if d, ok := defaults[name]; ok && fmt.Sprint(f.Elem().Interface()) == d {
			continue
		}
		out = append(out, name)
	}
	return out
}

// ListAccessRecords implements api.StrictServerInterface.
func (s *Server) ListAccessRecords(ctx context.Context, req api.ListAccessRecordsRequestObject) (api.ListAccessRecordsResponseObject, error) {
	a, err := mustActor(actor.From(ctx))
	if err != nil {
		return nil, err
	}
	prm := req.Params
	f := access.Filter{PersonID: prm.PersonId, EntityID: prm.EntityId, From: prm.OccurredFrom, To: prm.OccurredTo}
	if prm.Actor != nil {
		f.Actor = *prm.Actor
	}
	fp := page.Fingerprint("access", uuidString(f.PersonID), uuidString(f.EntityID), f.Actor, timeString(f.From), timeString(f.To))
	pr, err := page.Parse(prm.PageSize, prm.PageToken, fp)
	if err != nil {
		return nil, err
	}
	recs, err := s.access.List(ctx, a, f, pr)
	if err != nil {
		return nil, err
	}
	items, next := pageOf(recs, pr, fp, access.Record.Cursor, accessRecordOut)
	return api.ListAccessRecords200JSONResponse{Body: api.AccessRecordList{Items: items, NextPageToken: next}}, nil
}

func accessRecordOut(r access.Record) api.AccessRecord {
	filters := r.Filters
	if filters == nil {
		filters = []string{}
	}
	return api.AccessRecord{
		Id: r.ID, OccurredAt: r.OccurredAt, Operation: r.Operation, EntityType: api.AccessEntityType(r.EntityType),
		EntityId: r.EntityID, PersonId: r.PersonID, Filters: filters, RequestId: nullableOf(nonEmpty(r.RequestID)),
		Actor: api.AuditActor{Subject: r.ActorSubject, Roles: r.ActorRoles, ProviderId: r.ActorProvider, PersonId: r.ActorPerson},
	}
}

// GetProviderBudgetView implements api.StrictServerInterface.
func (s *Server) GetProviderBudgetView(ctx context.Context, req api.GetProviderBudgetViewRequestObject) (api.GetProviderBudgetViewResponseObject, error) {
	a, err := mustActor(actor.From(ctx))
	if err != nil {
		return nil, err
	}
	v, err := s.plans.ProviderBudget(ctx, a, req.BudgetId)
	if err != nil {
		return nil, err
	}
	b := v.Budget
	lines := make([]api.PlanLine, len(v.Lines))
	for i, l := range v.Lines {
		lines[i] = lineOut(l)
	}
	return api.GetProviderBudgetView200JSONResponse{
		Body: api.ProviderBudget{
			Id: b.ID, PersonId: b.PersonID, ProviderId: v.ProviderID, Kind: api.BudgetKind(b.Kind), Status: api.BudgetStatus(b.Status),
			StartDate: dateOut(b.StartDate), EndDate: nullableDate(b.EndDate), PlanId: v.PlanID, Lines: lines,
			AnnualCostPence: v.Annual, WeeklyCostPence: v.Weekly, Version: b.Version, UpdatedAt: b.UpdatedAt,
		},
		Headers: api.GetProviderBudgetView200ResponseHeaders{ETag: etag(b.Version)},
	}, nil
}

func uuidString(id *uuid.UUID) string {
	if id == nil {
		return ""
	}
	return id.String()
}

func timeString(t *time.Time) string {
	if t == nil {
		return ""
	}
	return t.UTC().Format(time.RFC3339Nano)
}
