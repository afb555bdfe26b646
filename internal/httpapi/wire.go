package httpapi

import (
	"bytes"
	"context"
	"encoding/json"

	"github.com/google/uuid"
	"github.com/oapi-codegen/nullable"

	"github.com/pbudget/pbudget/api"
	"github.com/pbudget/pbudget/internal/actor"
	"github.com/pbudget/pbudget/internal/apperr"
	"github.com/pbudget/pbudget/internal/cld"
	"github.com/pbudget/pbudget/internal/cldexport"
	"github.com/pbudget/pbudget/internal/date"
	"github.com/pbudget/pbudget/internal/page"
	"github.com/pbudget/pbudget/internal/report"
	"github.com/pbudget/pbudget/internal/review"
	"github.com/pbudget/pbudget/internal/reviews"
	"github.com/pbudget/pbudget/internal/webhook"
	"github.com/pbudget/pbudget/internal/webhook/outbox"
)

// ---- webhooks ----

func subscriptionOut(s outbox.Subscription) api.WebhookSubscription {
	types := make([]api.WebhookEventType, len(s.EventTypes))
	for i, t := range s.EventTypes {
		types[i] = api.WebhookEventType(t)
	}
	return api.WebhookSubscription{Id: s.ID, ProviderId: nullableOf(s.ProviderID), Url: s.URL, Description: s.Description, EventTypes: types,
		Status: api.WebhookSubscriptionStatus(s.Status), DisabledReason: nullableOf(s.DisabledReason), DisabledAt: nullableOf(s.DisabledAt),
		RotatingUntil: nullableOf(s.PreviousSecretExpires), CreatedBy: s.CreatedBy, CreatedAt: s.CreatedAt, Version: s.Version, UpdatedAt: s.UpdatedAt}
}

func withSecretOut(c outbox.Created) api.WebhookSubscriptionWithSecret {
	o := subscriptionOut(c.Subscription)
	return api.WebhookSubscriptionWithSecret{Id: o.Id, ProviderId: o.ProviderId, Url: o.Url, Description: o.Description, EventTypes: o.EventTypes,
		Status: api.WebhookSubscriptionWithSecretStatus(o.Status), DisabledReason: o.DisabledReason, DisabledAt: o.DisabledAt,
		RotatingUntil: o.RotatingUntil, CreatedBy: o.CreatedBy, CreatedAt: o.CreatedAt, Version: o.Version, UpdatedAt: o.UpdatedAt,
		Secret: c.Secret.Reveal()}
}

func deliveryOut(d outbox.Delivery) api.WebhookDelivery {
	out := api.WebhookDelivery{Id: d.ID, SubscriptionId: d.SubscriptionID, EventId: d.EventID, WebhookId: webhook.MessageID(d.EventID),
		EventType: api.WebhookEventType(d.EventType), RecordId: d.ResourceID, Status: api.WebhookDeliveryStatus(d.Status), Series: d.Series,
		Attempts: d.Attempts, NextAttemptAt: nullableOf(d.NextAttemptAt), LastStatus: nullableOf(d.LastStatus), DeliveredAt: nullableOf(d.DeliveredAt),
		CreatedAt: d.CreatedAt, Log: []api.WebhookAttempt{}}
	for _, a := range d.Log {
		out.Log = append(out.Log, api.WebhookAttempt{Series: a.Series, Number: a.Number, AttemptedAt: a.AttemptedAt, DurationMs: a.DurationMS,
			HttpStatus: nullableOf(a.HTTPStatus), Class: api.WebhookAttemptClass(a.Class), Outcome: api.WebhookAttemptOutcome(a.Outcome),
			Error: nullableOf(a.Error), NextAttemptAt: nullableOf(a.NextAttemptAt)})
	}
	return out
}

// CreateWebhookSubscription implements api.StrictServerInterface.
func (s *Server) CreateWebhookSubscription(ctx context.Context, req api.CreateWebhookSubscriptionRequestObject) (api.CreateWebhookSubscriptionResponseObject, error) {
	a, err := mustActor(actor.From(ctx))
	if err != nil {
		return nil, err
	}
	b := req.Body
	types := make([]webhook.EventType, len(b.EventTypes))
	for i, t := range b.EventTypes {
		types[i] = webhook.EventType(t)
	}
	c, err := s.webhooks.Create(ctx, a, outbox.CreateInput{URL: b.Url, Description: deref(b.Description), EventTypes: types})
	if err != nil {
		return nil, err
	}
	loc := "/v1/webhook-subscriptions/" + c.ID.String()
	return api.CreateWebhookSubscription201JSONResponse{Body: withSecretOut(c),
		Headers: api.CreateWebhookSubscription201ResponseHeaders{ETag: etag(c.Version), Location: &loc}}, nil
}

// ListWebhookSubscriptions implements api.StrictServerInterface.
func (s *Server) ListWebhookSubscriptions(ctx context.Context, req api.ListWebhookSubscriptionsRequestObject) (api.ListWebhookSubscriptionsResponseObject, error) {
	a, err := mustActor(actor.From(ctx))
	if err != nil {
		return nil, err
	}
	fp := page.Fingerprint("webhook-subscriptions")
	pr, err := page.Parse(req.Params.PageSize, req.Params.PageToken, fp)
	if err != nil {
		return nil, err
	}
	list, err := s.webhooks.List(ctx, a, pr)
	if err != nil {
		return nil, err
	}
	items, next := pageOf(list, pr, fp, outbox.Subscription.Cursor, subscriptionOut)
	return api.ListWebhookSubscriptions200JSONResponse{Body: api.WebhookSubscriptionList{Items: items, NextPageToken: next}}, nil
}

// GetWebhookSubscription implements api.StrictServerInterface.
func (s *Server) GetWebhookSubscription(ctx context.Context, req api.GetWebhookSubscriptionRequestObject) (api.GetWebhookSubscriptionResponseObject, error) {
	a, err := mustActor(actor.From(ctx))
	if err != nil {
		return nil, err
	}
	sub, err := s.webhooks.Get(ctx, a, req.SubscriptionId)
	if err != nil {
		return nil, err
	}
	return api.GetWebhookSubscription200JSONResponse{Body: subscriptionOut(sub), Headers: api.GetWebhookSubscription200ResponseHeaders{ETag: etag(sub.Version)}}, nil
}

// DisableWebhookSubscription implements api.StrictServerInterface.
func (s *Server) DisableWebhookSubscription(ctx context.Context, req api.DisableWebhookSubscriptionRequestObject) (api.DisableWebhookSubscriptionResponseObject, error) {
	a, version, err := actorAndVersion(ctx, req.Params.IfMatch)
	if err != nil {
		return nil, err
	}
	sub, err := s.webhooks.Disable(ctx, a, req.SubscriptionId, version, req.Body.Reason)
	if err != nil {
		return nil, err
	}
	return api.DisableWebhookSubscription200JSONResponse{Body: subscriptionOut(sub), Headers: api.DisableWebhookSubscription200ResponseHeaders{ETag: etag(sub.Version)}}, nil
}

// EnableWebhookSubscription implements api.StrictServerInterface.
func (s *Server) EnableWebhookSubscription(ctx context.Context, req api.EnableWebhookSubscriptionRequestObject) (api.EnableWebhookSubscriptionResponseObject, error) {
	a, version, err := actorAndVersion(ctx, req.Params.IfMatch)
	if err != nil {
		return nil, err
	}
	sub, err := s.webhooks.Enable(ctx, a, req.SubscriptionId, version)
	if err != nil {
		return nil, err
	}
	return api.EnableWebhookSubscription200JSONResponse{Body: subscriptionOut(sub), Headers: api.EnableWebhookSubscription200ResponseHeaders{ETag: etag(sub.Version)}}, nil
}

// RotateWebhookSecret implements api.StrictServerInterface.
func (s *Server) RotateWebhookSecret(ctx context.Context, req api.RotateWebhookSecretRequestObject) (api.RotateWebhookSecretResponseObject, error) {
	a, version, err := actorAndVersion(ctx, req.Params.IfMatch)
	if err != nil {
		return nil, err
	}
	c, err := s.webhooks.RotateSecret(ctx, a, req.SubscriptionId, version)
	if err != nil {
		return nil, err
	}
	return api.RotateWebhookSecret200JSONResponse{Body: withSecretOut(c), Headers: api.RotateWebhookSecret200ResponseHeaders{ETag: etag(c.Version)}}, nil
}

// ListWebhookDeliveries implements api.StrictServerInterface.
func (s *Server) ListWebhookDeliveries(ctx context.Context, req api.ListWebhookDeliveriesRequestObject) (api.ListWebhookDeliveriesResponseObject, error) {
	a, err := mustActor(actor.From(ctx))
	if err != nil {
		return nil, err
	}
	status := outbox.DeliveryStatus(deref((*string)(req.Params.Status)))
	fp := page.Fingerprint("webhook-deliveries", req.SubscriptionId.String(), string(status))
	pr, err := page.Parse(req.Params.PageSize, req.Params.PageToken, fp)
	if err != nil {
		return nil, err
	}
	list, err := s.webhooks.Deliveries(ctx, a, req.SubscriptionId, status, pr)
	if err != nil {
		return nil, err
	}
	items, next := pageOf(list, pr, fp, outbox.Delivery.Cursor, deliveryOut)
	return api.ListWebhookDeliveries200JSONResponse{Body: api.WebhookDeliveryList{Items: items, NextPageToken: next}}, nil
}

// ReplayWebhookDelivery implements api.StrictServerInterface.
func (s *Server) ReplayWebhookDelivery(ctx context.Context, req api.ReplayWebhookDeliveryRequestObject) (api.ReplayWebhookDeliveryResponseObject, error) {
	a, err := mustActor(actor.From(ctx))
	if err != nil {
		return nil, err
	}
	d, err := s.webhooks.Replay(ctx, a, req.SubscriptionId, req.DeliveryId)
	if err != nil {
		return nil, err
	}
	return api.ReplayWebhookDelivery202JSONResponse{Body: deliveryOut(d)}, nil
}

// ---- reviews ----

func reviewScheduleOut(sc reviews.Schedule, today date.Date) api.ReviewSchedule {
	out := api.ReviewSchedule{PersonId: sc.PersonID, DueDate: dateOut(sc.Due.Date), WindowStart: dateOut(sc.Due.WindowStart),
		Rule: api.ReviewRule(sc.Due.Rule), OverdueByDays: sc.Due.OverdueBy(today), PlanId: sc.PlanID, Aligns: []api.ReviewObligation{},
		Practitioner: nullableOf(sc.Practitioner), Team: nullableOf(sc.Team), OpenRequests: []api.ReviewRequest{}}
	for _, o := range sc.Due.Aligns {
		subject := nullable.NewNullNullable[uuid.UUID]()
		if o.SubjectID != uuid.Nil {
			subject = nullable.NewNullableWithValue(o.SubjectID)
		}
		out.Aligns = append(out.Aligns, api.ReviewObligation{Rule: api.ReviewRule(o.Rule), SubjectId: subject,
			WindowStart: dateOut(o.WindowStart), Limit: dateOut(o.Limit)})
	}
	for _, r := range sc.OpenRequests {
		out.OpenRequests = append(out.OpenRequests, requestOut(r))
	}
	return out
}

func requestOut(r reviews.Request) api.ReviewRequest {
	return api.ReviewRequest{Id: r.ID, PersonId: r.PersonID, Reason: api.UnplannedReviewReason(r.Reason), RequestedOn: dateOut(r.RequestedOn),
		Note: r.Note, RequestedBy: r.RequestedBy, AnsweredByReviewId: nullableOf(r.AnsweredBy), CreatedAt: r.CreatedAt}
}

func reviewOut(r reviews.Review) api.Review {
	rec := r.Record
	out := api.Review{Id: r.ID, PersonId: r.PersonID, PlanId: r.PlanID, HeldOn: dateOut(rec.Date), Reviewer: rec.Reviewer,
		Reason: api.ReviewReason(rec.Reason), RequestId: nullableOf(r.RequestID), Achievement: api.ReviewAchievement(rec.Achievement()),
		NeedsChanged: rec.NeedsChanged, Decision: api.ReviewDecision(rec.Decision), NextDue: nullableDate(rec.NextDue), Notes: rec.Notes,
		ReassessmentId: nullableOf(r.ReassessmentID), RevisionPlanId: nullableOf(r.RevisionPlanID), RecordedBy: r.RecordedBy, CreatedAt: r.CreatedAt}
	for _, o := range rec.Outcomes {
		out.Outcomes = append(out.Outcomes, struct {
			Note    string                   `json:"note"`
			Outcome int                      `json:"outcome"`
			Rating  api.ReviewOutcomesRating `json:"rating"`
		}{Note: o.Note, Outcome: o.Outcome, Rating: api.ReviewOutcomesRating(o.Rating)})
	}
	if out.Outcomes == nil {
		out.Outcomes = out.Outcomes[:0]
	}
	return out
}

// scheduleOrNull is a schedule, or null when the person has none.
func scheduleOrNull(sc reviews.Schedule, today date.Date) nullable.Nullable[api.ReviewSchedule] {
	if sc.PersonID == uuid.Nil {
		return nullable.NewNullNullable[api.ReviewSchedule]()
	}
	return nullable.NewNullableWithValue(reviewScheduleOut(sc, today))
}

// GetReviewSchedule implements api.StrictServerInterface.
func (s *Server) GetReviewSchedule(ctx context.Context, req api.GetReviewScheduleRequestObject) (api.GetReviewScheduleResponseObject, error) {
	a, err := mustActor(actor.From(ctx))
	if err != nil {
		return nil, err
	}
	sc, err := s.reviews.GetSchedule(ctx, a, req.PersonId)
	if err != nil {
		return nil, err
	}
	return api.GetReviewSchedule200JSONResponse{Body: reviewScheduleOut(sc, s.reviews.Today())}, nil
}

// AssignReview implements api.StrictServerInterface.
func (s *Server) AssignReview(ctx context.Context, req api.AssignReviewRequestObject) (api.AssignReviewResponseObject, error) {
	a, err := mustActor(actor.From(ctx))
	if err != nil {
		return nil, err
	}
	sc, err := s.reviews.Assign(ctx, a, req.PersonId, req.Body.Practitioner, req.Body.Team)
	if err != nil {
		return nil, err
	}
	return api.AssignReview200JSONResponse{Body: reviewScheduleOut(sc, s.reviews.Today())}, nil
}

// CreateReviewRequest implements api.StrictServerInterface.
func (s *Server) CreateReviewRequest(ctx context.Context, req api.CreateReviewRequestRequestObject) (api.CreateReviewRequestResponseObject, error) {
	a, err := mustActor(actor.From(ctx))
	if err != nil {
		return nil, err
	}
	b := req.Body
	r, sc, err := s.reviews.RequestReview(ctx, a, req.PersonId, reviews.RequestInput{Reason: review.Reason(b.Reason), RequestedOn: datePtr(b.RequestedOn),
		Note: deref(b.Note)})
	if err != nil {
		return nil, err
	}
	return api.CreateReviewRequest201JSONResponse{Body: api.ReviewRequestRecorded{Request: requestOut(r), Schedule: scheduleOrNull(sc, s.reviews.Today())}}, nil
}

// RecordReview implements api.StrictServerInterface.
func (s *Server) RecordReview(ctx context.Context, req api.RecordReviewRequestObject) (api.RecordReviewResponseObject, error) {
	a, err := mustActor(actor.From(ctx))
	if err != nil {
		return nil, err
	}
	b := req.Body
	rec := review.Record{Date: dateOf(b.HeldOn), Reviewer: deref(b.Reviewer), Reason: review.Reason(b.Reason), NeedsChanged: b.NeedsChanged,
		Decision: review.Decision(b.Decision), NextDue: datePtr(b.NextDue), Notes: deref(b.Notes), Outcomes: []review.OutcomeResult{}}
	for _, o := range b.Outcomes {
		rec.Outcomes = append(rec.Outcomes, review.OutcomeResult{Outcome: o.Outcome, Rating: review.Rating(o.Rating), Note: deref(o.Note)})
	}
	r, sc, err := s.reviews.Record(ctx, a, req.PersonId, reviews.RecordInput{Record: rec, RequestID: b.RequestId})
	if err != nil {
		return nil, err
	}
	return api.RecordReview201JSONResponse{Body: api.ReviewRecorded{Review: reviewOut(r), Schedule: scheduleOrNull(sc, s.reviews.Today())}}, nil
}

func (s *Server) listReviews(ctx context.Context, f reviews.ReviewFilter, size *int, token *string, filters ...string) ([]api.Review, *string, error) {
	a, err := mustActor(actor.From(ctx))
	if err != nil {
		return nil, nil, err
	}
	fp := page.Fingerprint(append([]string{"reviews"}, filters...)...)
	pr, err := page.Parse(size, token, fp)
	if err != nil {
		return nil, nil, err
	}
	list, err := s.reviews.List(ctx, a, f, pr)
	if err != nil {
		return nil, nil, err
	}
	items, next := pageOf(list, pr, fp, reviews.Review.Cursor, reviewOut)
	return items, next, nil
}

// ListPersonReviews implements api.StrictServerInterface.
func (s *Server) ListPersonReviews(ctx context.Context, req api.ListPersonReviewsRequestObject) (api.ListPersonReviewsResponseObject, error) {
	id := req.PersonId
	items, next, err := s.listReviews(ctx, reviews.ReviewFilter{PersonID: &id}, req.Params.PageSize, req.Params.PageToken, id.String())
	if err != nil {
		return nil, err
	}
	return api.ListPersonReviews200JSONResponse{Body: api.ReviewList{Items: items, NextPageToken: next}}, nil
}

// ListReviews implements api.StrictServerInterface.
func (s *Server) ListReviews(ctx context.Context, req api.ListReviewsRequestObject) (api.ListReviewsResponseObject, error) {
	p := req.Params
	f := reviews.ReviewFilter{Reviewer: deref(p.Reviewer), From: datePtr(p.HeldFrom), To: datePtr(p.HeldTo)}
	items, next, err := s.listReviews(ctx, f, p.PageSize, p.PageToken, "all", f.Reviewer, datePtrString(f.From), datePtrString(f.To))
	if err != nil {
		return nil, err
	}
	return api.ListReviews200JSONResponse{Body: api.ReviewList{Items: items, NextPageToken: next}}, nil
}

func datePtrString(d *date.Date) string {
	if d == nil {
		return ""
	}
	return d.String()
}

// GetReview implements api.StrictServerInterface.
func (s *Server) GetReview(ctx context.Context, req api.GetReviewRequestObject) (api.GetReviewResponseObject, error) {
	a, err := mustActor(actor.From(ctx))
	if err != nil {
		return nil, err
	}
	r, err := s.reviews.Get(ctx, a, req.ReviewId)
	if err != nil {
		return nil, err
	}
	return api.GetReview200JSONResponse{Body: reviewOut(r)}, nil
}

// scheduleCursor pages the work list by due date and person.
func scheduleCursor(sc reviews.Schedule) page.Cursor {
	return page.Cursor{Time: sc.Due.Date.Time(), ID: sc.PersonID}
}

// GetReviewWorklist implements api.StrictServerInterface.
func (s *Server) GetReviewWorklist(ctx context.Context, req api.GetReviewWorklistRequestObject) (api.GetReviewWorklistResponseObject, error) {
	a, err := mustActor(actor.From(ctx))
	if err != nil {
		return nil, err
	}
	p := req.Params
	today := s.reviews.Today()
	f := reviews.WorklistFilter{Practitioner: deref(p.Practitioner), Team: deref(p.Team)}
	within := ""
	if p.DueWithinDays != nil {
		by := today.AddDays(*p.DueWithinDays)
		f.DueBy, within = &by, by.String()
	}
	overdue := p.Overdue != nil && *p.Overdue
	if overdue {
		f.OverdueOn = &today
	}
	fp := page.Fingerprint("review-worklist", within, boolString(overdue), today.String(), f.Practitioner, f.Team)
	pr, err := page.Parse(p.PageSize, p.PageToken, fp)
	if err != nil {
		return nil, err
	}
	list, err := s.reviews.Worklist(ctx, a, f, pr)
	if err != nil {
		return nil, err
	}
	items, next := pageOf(list, pr, fp, scheduleCursor, func(sc reviews.Schedule) api.ReviewSchedule { return reviewScheduleOut(sc, today) })
	return api.GetReviewWorklist200JSONResponse{Body: api.ReviewWorklist{AsOf: dateOut(today), Items: items, NextPageToken: next}}, nil
}

// ---- client-level data ----

func cldExportOut(e cldexport.Export) api.CLDExport {
	out := api.CLDExport{Id: e.ID, Quarter: e.Quarter.String(), LaCode: e.LACode, Status: api.CLDExportStatus(e.Status), PeopleTotal: e.PeopleTotal,
		PeopleDone: e.PeopleDone, IssueCount: e.IssueCount, IssuesByCode: e.IssuesByCode, RequestedBy: e.RequestedBy, RequestedAt: e.RequestedAt,
		CompletedAt: nullableOf(e.CompletedAt), DueDate: dateOut(e.Quarter.Due()), Sha256: nullable.NewNullNullable[string](),
		Error: nullable.NewNullNullable[string]()}
	if out.IssuesByCode == nil {
		out.IssuesByCode = map[string]int{}
	}
	out.Rows.Assessment, out.Rows.Service, out.Rows.Review = e.Rows[cld.EventAssessment], e.Rows[cld.EventService], e.Rows[cld.EventReview]
	if e.SHA256 != "" {
		out.Sha256 = nullable.NewNullableWithValue(e.SHA256)
	}
	if e.Error != "" {
		out.Error = nullable.NewNullableWithValue(e.Error)
	}
	return out
}

// CreateCLDExport implements api.StrictServerInterface.
func (s *Server) CreateCLDExport(ctx context.Context, req api.CreateCLDExportRequestObject) (api.CreateCLDExportResponseObject, error) {
	a, err := mustActor(actor.From(ctx))
	if err != nil {
		return nil, err
	}
	q, err := cld.ParseQuarter(req.Body.Quarter)
	if err != nil {
		return nil, err
	}
	var comps map[string]string
	if req.Body.Components != nil {
		comps = *req.Body.Components
	}
	e, err := s.cld.Create(ctx, a, cldexport.Request{Quarter: q, LACode: req.Body.LaCode, Components: comps})
	if err != nil {
		return nil, err
	}
	loc := "/v1/cld-exports/" + e.ID.String()
	return api.CreateCLDExport202JSONResponse{Body: cldExportOut(e), Headers: api.CreateCLDExport202ResponseHeaders{Location: &loc}}, nil
}

// ListCLDExports implements api.StrictServerInterface.
func (s *Server) ListCLDExports(ctx context.Context, req api.ListCLDExportsRequestObject) (api.ListCLDExportsResponseObject, error) {
	a, err := mustActor(actor.From(ctx))
	if err != nil {
		return nil, err
	}
	fp := page.Fingerprint("cld-exports")
	pr, err := page.Parse(req.Params.PageSize, req.Params.PageToken, fp)
	if err != nil {
		return nil, err
	}
	list, err := s.cld.List(ctx, a, pr)
	if err != nil {
		return nil, err
	}
	items, next := pageOf(list, pr, fp, cldexport.Export.Cursor, cldExportOut)
	return api.ListCLDExports200JSONResponse{Body: api.CLDExportList{Items: items, NextPageToken: next}}, nil
}

// GetCLDExport implements api.StrictServerInterface.
func (s *Server) GetCLDExport(ctx context.Context, req api.GetCLDExportRequestObject) (api.GetCLDExportResponseObject, error) {
	a, err := mustActor(actor.From(ctx))
	if err != nil {
		return nil, err
	}
	e, err := s.cld.Get(ctx, a, req.ExportId)
	if err != nil {
		return nil, err
	}
	return api.GetCLDExport200JSONResponse{Body: cldExportOut(e)}, nil
}

// GetCLDExportFile implements api.StrictServerInterface.
func (s *Server) GetCLDExportFile(ctx context.Context, req api.GetCLDExportFileRequestObject) (api.GetCLDExportFileResponseObject, error) {
	a, err := mustActor(actor.From(ctx))
	if err != nil {
		return nil, err
	}
	e, body, err := s.cld.Download(ctx, a, req.ExportId, false)
	if err != nil {
		return nil, err
	}
	disposition := `attachment; filename="cld-` + e.LACode + `-` + e.Quarter.String() + `.csv"`
	return api.GetCLDExportFile200TextcsvResponse{Body: bytes.NewReader(body), ContentLength: int64(len(body)),
		Headers: api.GetCLDExportFile200ResponseHeaders{ContentDisposition: &disposition}}, nil
}

// GetCLDValidationReport implements api.StrictServerInterface.
func (s *Server) GetCLDValidationReport(ctx context.Context, req api.GetCLDValidationReportRequestObject) (api.GetCLDValidationReportResponseObject, error) {
	a, err := mustActor(actor.From(ctx))
	if err != nil {
		return nil, err
	}
	e, body, err := s.cld.Download(ctx, a, req.ExportId, true)
	if err != nil {
		return nil, err
	}
	disposition := `attachment; filename="cld-` + e.LACode + `-` + e.Quarter.String() + `-issues.csv"`
	return api.GetCLDValidationReport200TextcsvResponse{Body: bytes.NewReader(body), ContentLength: int64(len(body)),
		Headers: api.GetCLDValidationReport200ResponseHeaders{ContentDisposition: &disposition}}, nil
}

// ---- the weekly report ----

func weeklyOut(w report.Weekly) (api.WeeklyReport, error) {
	v := map[string]any{
		"as_of": w.AsOf.String(), "generated_at": w.GeneratedAt,
		"people":   map[string]any{"with_budget": w.PeopleWithBudget, "with_approved_plan": w.PeopleWithPlan, "with_direct_payment": w.PeopleWithDP},
		"ascof_3d": map[string]any{"self_directed_support_basis_points": w.SelfDirectedSupport, "direct_payments_basis_points": w.DirectPayments},
		"modes":    w.Modes, "budgets": w.Budgets, "reviews": w.Reviews,
		// A date.Date is not JSON: the day as ISO text, as the schema says.
		"payments": map[string]any{"from": w.Payments.From.String(), "direct_payment_pence": w.Payments.DirectPaymentPence,
			"isf_pence": w.Payments.ISFPence, "lines": w.Payments.Lines},
		"audits": w.Audits, "recoveries": w.Recoveries,
	}
	raw, err := json.Marshal(v)
	if err != nil {
		return api.WeeklyReport{}, apperr.ErrInternal.Wrap(err)
	}
	var out api.WeeklyReport
	if err := json.Unmarshal(raw, &out); err != nil {
		return api.WeeklyReport{}, apperr.ErrInternal.Wrap(err)
	}
	return out, nil
}

// GetWeeklyReport implements api.StrictServerInterface.
func (s *Server) GetWeeklyReport(ctx context.Context, req api.GetWeeklyReportRequestObject) (api.GetWeeklyReportResponseObject, error) {
	a, err := mustActor(actor.From(ctx))
	if err != nil {
		return nil, err
	}
	w, err := s.reports.Weekly(ctx, a, datePtr(req.Params.AsOf))
	if err != nil {
		return nil, err
	}
	if req.Params.Format != nil && *req.Params.Format == api.Csv {
		body, err := w.CSV()
		if err != nil {
			return nil, apperr.ErrInternal.Wrap(err)
		}
		disposition := `attachment; filename="weekly-report-` + w.AsOf.String() + `.csv"`
		return api.GetWeeklyReport200TextcsvResponse{Body: bytes.NewReader(body), ContentLength: int64(len(body)),
			Headers: api.GetWeeklyReport200ResponseHeaders{ContentDisposition: &disposition}}, nil
	}
	out, err := weeklyOut(w)
	if err != nil {
		return nil, err
	}
	return api.GetWeeklyReport200JSONResponse{Body: out}, nil
}
