package httpapi

import (
	"bytes"
	"context"

	"github.com/google/uuid"
	"github.com/oapi-codegen/nullable"

	"github.com/pbudget/pbudget/api"
	"github.com/pbudget/pbudget/internal/access"
	"github.com/pbudget/pbudget/internal/actor"
	"github.com/pbudget/pbudget/internal/page"
	"github.com/pbudget/pbudget/internal/plan"
	"github.com/pbudget/pbudget/internal/portal"
	"github.com/pbudget/pbudget/internal/review"
)

func changeRequestOut(r portal.ChangeRequest) api.ManagementChangeRequest {
	out := api.ManagementChangeRequest{
		Id: r.ID, PersonId: r.PersonID, BudgetId: r.BudgetID, PlanId: r.PlanID, PlanLineId: nullableOf(r.LineID),
		CurrentOption: nullable.NewNullNullable[api.ManagementChangeRequestCurrentOption](), RequestedOption: api.ManagementOption(r.RequestedOption),
		Reason: r.Reason, RequestedAt: r.RequestedAt, RequestedByBasis: api.ManagementChangeRequestRequestedByBasis(r.RequestedByBasis),
		Status: api.ManagementChangeRequestStatus(r.Status), AnswerReason: nullableOf(r.AnswerReason), RevisionPlanId: nullableOf(r.RevisionPlanID),
		AnsweredAt: nullableOf(r.AnsweredAt), Version: r.Version,
	}
	if r.CurrentOption != nil {
		out.CurrentOption = nullable.NewNullableWithValue(api.ManagementChangeRequestCurrentOption(*r.CurrentOption))
	}
	return out
}

// CreateMyManagementChangeRequest implements api.StrictServerInterface.
func (s *Server) CreateMyManagementChangeRequest(ctx context.Context, req api.CreateMyManagementChangeRequestRequestObject) (api.CreateMyManagementChangeRequestResponseObject, error) {
	a, err := mustActor(actor.From(ctx))
	if err != nil {
		return nil, err
	}
	b := req.Body
	r, err := s.portal.CreateRequest(ctx, a, b.PlanId, b.PlanLineId, plan.Option(b.RequestedOption), b.Reason)
	if err != nil {
		return nil, err
	}
	loc := "/v1/me/people/" + r.PersonID.String() + "/management-change-requests"
	return api.CreateMyManagementChangeRequest201JSONResponse{Body: changeRequestOut(r),
		Headers: api.CreateMyManagementChangeRequest201ResponseHeaders{ETag: etag(r.Version), Location: &loc}}, nil
}

// ListMyManagementChangeRequests implements api.StrictServerInterface.
func (s *Server) ListMyManagementChangeRequests(ctx context.Context, req api.ListMyManagementChangeRequestsRequestObject) (api.ListMyManagementChangeRequestsResponseObject, error) {
	a, err := mustActor(actor.From(ctx))
	if err != nil {
		return nil, err
	}
	fp := page.Fingerprint("my-change-requests", req.PersonId.String())
	pr, err := page.Parse(req.Params.PageSize, req.Params.PageToken, fp)
	if err != nil {
		return nil, err
	}
	list, err := s.portal.MyRequests(ctx, a, req.PersonId, pr)
	if err != nil {
		return nil, err
	}
	items, next := pageOf(list, pr, fp, portal.ChangeRequest.Cursor, changeRequestOut)
	return api.ListMyManagementChangeRequests200JSONResponse{Body: api.ManagementChangeRequestList{Items: items, NextPageToken: next}}, nil
}

// ListManagementChangeRequests implements api.StrictServerInterface.
func (s *Server) ListManagementChangeRequests(ctx context.Context, req api.ListManagementChangeRequestsRequestObject) (api.ListManagementChangeRequestsResponseObject, error) {
	a, err := mustActor(actor.From(ctx))
	if err != nil {
		return nil, err
	}
	f := portal.RequestFilter{PersonID: req.Params.PersonId, Status: portal.RequestStatus(deref((*string)(req.Params.Status)))}
	fp := page.Fingerprint("change-requests", uuidString(f.PersonID), string(f.Status))
	pr, err := page.Parse(req.Params.PageSize, req.Params.PageToken, fp)
	if err != nil {
		return nil, err
	}
	list, err := s.portal.Requests(ctx, a, f, pr)
	if err != nil {
		return nil, err
	}
	items, next := pageOf(list, pr, fp, portal.ChangeRequest.Cursor, changeRequestOut)
	return api.ListManagementChangeRequests200JSONResponse{Body: api.ManagementChangeRequestList{Items: items, NextPageToken: next}}, nil
}

// GetManagementChangeRequest implements api.StrictServerInterface.
func (s *Server) GetManagementChangeRequest(ctx context.Context, req api.GetManagementChangeRequestRequestObject) (api.GetManagementChangeRequestResponseObject, error) {
	a, err := mustActor(actor.From(ctx))
	if err != nil {
		return nil, err
	}
	r, err := s.portal.Request(ctx, a, req.RequestId)
	if err != nil {
		return nil, err
	}
	return api.GetManagementChangeRequest200JSONResponse{Body: changeRequestOut(r), Headers: api.GetManagementChangeRequest200ResponseHeaders{ETag: etag(r.Version)}}, nil
}

// AnswerManagementChangeRequest implements api.StrictServerInterface.
func (s *Server) AnswerManagementChangeRequest(ctx context.Context, req api.AnswerManagementChangeRequestRequestObject) (api.AnswerManagementChangeRequestResponseObject, error) {
	a, version, err := actorAndVersion(ctx, req.Params.IfMatch)
	if err != nil {
		return nil, err
	}
	b := req.Body
	r, err := s.portal.Answer(ctx, a, req.RequestId, version, portal.RequestStatus(b.Outcome), b.RevisionPlanId, deref(b.Reason))
	if err != nil {
		return nil, err
	}
	return api.AnswerManagementChangeRequest200JSONResponse{Body: changeRequestOut(r), Headers: api.AnswerManagementChangeRequest200ResponseHeaders{ETag: etag(r.Version)}}, nil
}

// SetMyConsent implements api.StrictServerInterface.
func (s *Server) SetMyConsent(ctx context.Context, req api.SetMyConsentRequestObject) (api.SetMyConsentResponseObject, error) {
	a, version, err := actorAndVersion(ctx, req.Params.IfMatch)
	if err != nil {
		return nil, err
	}
	g, err := s.portal.SetConsent(ctx, a, req.AgreementId, version, req.Body.Consented, req.Body.Reason)
	if err != nil {
		return nil, err
	}
	return api.SetMyConsent200JSONResponse{Body: myAgreementOut(g), Headers: api.SetMyConsent200ResponseHeaders{ETag: etag(g.Version)}}, nil
}

// letter renders a budget's letter with the council's name.
func (s *Server) letter(ctx context.Context, budgetID [16]byte, kind api.LetterKind) ([]byte, string, error) {
	a, err := mustActor(actor.From(ctx))
	if err != nil {
		return nil, "", err
	}
	c, err := s.councils.ByCode(ctx, a.CouncilCode)
	if err != nil {
		return nil, "", err
	}
	pdf, personID, err := s.portal.Letter(ctx, a, budgetID, portal.LetterKind(kind), c.Name)
	if err != nil {
		return nil, "", err
	}
	access.NoteSubject(ctx, personID)
	return pdf, `attachment; filename="` + string(kind) + `-budget-letter.pdf"`, nil
}

// GetMyBudgetLetter implements api.StrictServerInterface.
func (s *Server) GetMyBudgetLetter(ctx context.Context, req api.GetMyBudgetLetterRequestObject) (api.GetMyBudgetLetterResponseObject, error) {
	pdf, disp, err := s.letter(ctx, req.BudgetId, req.LetterKind)
	if err != nil {
		return nil, err
	}
	return api.GetMyBudgetLetter200ApplicationpdfResponse{Body: bytes.NewReader(pdf), ContentLength: int64(len(pdf)),
		Headers: api.GetMyBudgetLetter200ResponseHeaders{ContentDisposition: &disp}}, nil
}

// GetBudgetLetter implements api.StrictServerInterface.
func (s *Server) GetBudgetLetter(ctx context.Context, req api.GetBudgetLetterRequestObject) (api.GetBudgetLetterResponseObject, error) {
	pdf, disp, err := s.letter(ctx, req.BudgetId, req.LetterKind)
	if err != nil {
		return nil, err
	}
	return api.GetBudgetLetter200ApplicationpdfResponse{Body: bytes.NewReader(pdf), ContentLength: int64(len(pdf)),
		Headers: api.GetBudgetLetter200ResponseHeaders{ContentDisposition: &disp}}, nil
}

// The reads of requests and letters. A request is part of its plan's record: its read is recorded
// against the plan (the access records' entity types are the council's records of a person).
var myActionReads = map[string]func(req, resp any) []access.Read{
	"listMyManagementChangeRequests": each(func(r api.ListMyManagementChangeRequests200JSONResponse) []api.ManagementChangeRequest {
		return r.Body.Items
	}, changeRequestRead),
	"listManagementChangeRequests": each(func(r api.ListManagementChangeRequests200JSONResponse) []api.ManagementChangeRequest {
		return r.Body.Items
	}, changeRequestRead),
	"getManagementChangeRequest": one(func(r api.GetManagementChangeRequest200JSONResponse) access.Read { return changeRequestRead(r.Body) }),
	// A letter names its budget: the handler notes the person.
	"getMyBudgetLetter": func(req, resp any) []access.Read {
		if _, ok := resp.(api.GetMyBudgetLetter200ApplicationpdfResponse); !ok {
			return nil
		}
		return []access.Read{{EntityType: access.PersonalBudget, EntityID: req.(api.GetMyBudgetLetterRequestObject).BudgetId}}
	},
	"getBudgetLetter": func(req, resp any) []access.Read {
		if _, ok := resp.(api.GetBudgetLetter200ApplicationpdfResponse); !ok {
			return nil
		}
		return []access.Read{{EntityType: access.PersonalBudget, EntityID: req.(api.GetBudgetLetterRequestObject).BudgetId}}
	},
}

func changeRequestRead(r api.ManagementChangeRequest) access.Read {
	return access.Read{EntityType: access.SupportPlan, EntityID: r.PlanId, PersonID: r.PersonId}
}

func init() {
	for id, read := range myActionReads {
		personalReads[id] = read
	}
}

func myReviewsOut(personID uuid.UUID, v portal.ReviewView) (api.MyReviews, error) {
	out := map[string]any{"person_id": personID, "next": nil, "open_requests": []any{}, "history": []any{}}
	if n := v.Next; n != nil {
		out["next"] = map[string]any{"due_date": n.Due.Date.String(), "window_start": n.Due.WindowStart.String(), "rule": string(n.Due.Rule),
			"team": n.Team} // the team, never the practitioner
		reqs := make([]any, len(n.OpenRequests))
		for i, r := range n.OpenRequests {
			reqs[i] = map[string]any{"reason": string(r.Reason), "requested_on": r.RequestedOn.String()}
		}
		out["open_requests"] = reqs
	}
	hist := make([]any, len(v.History))
	for i, r := range v.History {
		outcomes := make([]any, len(r.Record.Outcomes))
		for j, o := range r.Record.Outcomes {
			outcomes[j] = map[string]any{"outcome": o.Outcome, "rating": string(o.Rating)} // the reviewer's notes stay with staff
		}
		var next any
		if r.Record.NextDue != nil {
			next = r.Record.NextDue.String()
		}
		hist[i] = map[string]any{"held_on": r.Record.Date.String(), "reason": string(r.Record.Reason), "outcomes": outcomes,
			"needs_changed": r.Record.NeedsChanged, "decision": string(r.Record.Decision), "next_due": next}
	}
	out["history"] = hist
	var body api.MyReviews
	return body, sameShape(out, &body)
}

// GetMyReviews implements api.StrictServerInterface.
func (s *Server) GetMyReviews(ctx context.Context, req api.GetMyReviewsRequestObject) (api.GetMyReviewsResponseObject, error) {
	a, err := mustActor(actor.From(ctx))
	if err != nil {
		return nil, err
	}
	v, err := s.portal.Reviews(ctx, a, req.PersonId)
	if err != nil {
		return nil, err
	}
	body, err := myReviewsOut(req.PersonId, v)
	if err != nil {
		return nil, err
	}
	return api.GetMyReviews200JSONResponse{Body: body}, nil
}

// CreateMyReviewRequest implements api.StrictServerInterface.
func (s *Server) CreateMyReviewRequest(ctx context.Context, req api.CreateMyReviewRequestRequestObject) (api.CreateMyReviewRequestResponseObject, error) {
	a, err := mustActor(actor.From(ctx))
	if err != nil {
		return nil, err
	}
	reason := review.ReasonRequest
	note := ""
	if b := req.Body; b != nil {
		if b.Reason != nil {
			reason = review.Reason(*b.Reason)
		}
		note = deref(b.Note)
	}
	v, err := s.portal.RequestReview(ctx, a, req.PersonId, reason, note)
	if err != nil {
		return nil, err
	}
	body, err := myReviewsOut(req.PersonId, v)
	if err != nil {
		return nil, err
	}
	loc := "/v1/me/people/" + req.PersonId.String() + "/reviews"
	return api.CreateMyReviewRequest201JSONResponse{Body: body, Headers: api.CreateMyReviewRequest201ResponseHeaders{Location: &loc}}, nil
}

func init() {
	personalReads["getMyReviews"] = func(req, resp any) []access.Read {
		if _, ok := resp.(api.GetMyReviews200JSONResponse); !ok {
			return nil
		}
		id := req.(api.GetMyReviewsRequestObject).PersonId
		return []access.Read{{EntityType: access.Person, EntityID: id, PersonID: id}}
	}
}
