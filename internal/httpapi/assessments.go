package httpapi

import (
	"context"
	"strings"

	"github.com/google/uuid"
	"github.com/oapi-codegen/nullable"

	"github.com/pbudget/pbudget/api"
	"github.com/pbudget/pbudget/internal/actor"
	"github.com/pbudget/pbudget/internal/assessment"
	"github.com/pbudget/pbudget/internal/page"
	"github.com/pbudget/pbudget/internal/ras"
)

// CreateAssessment implements api.StrictServerInterface.
func (s *Server) CreateAssessment(ctx context.Context, req api.CreateAssessmentRequestObject) (api.CreateAssessmentResponseObject, error) {
	a, err := mustActor(actor.From(ctx))
	if err != nil {
		return nil, err
	}
	b := req.Body
	facts := factsIn(api.AssessmentPatch{
		Practitioner: b.Practitioner, ImpairmentOrIllness: b.ImpairmentOrIllness,
		SignificantWellbeingImpact: b.SignificantWellbeingImpact, Outcomes: b.Outcomes, CaredForPersonId: b.CaredForPersonId,
		ProvidesNecessaryCare: b.ProvidesNecessaryCare, CarerHealthAtRisk: b.CarerHealthAtRisk, CarerOutcomes: b.CarerOutcomes,
		ChildUnlikelyToAchieveReasonableStandard: b.ChildUnlikelyToAchieveReasonableStandard,
		ChildDevelopmentSignificantlyImpaired:    b.ChildDevelopmentSignificantlyImpaired, ChildDisabled: b.ChildDisabled,
		Notes: b.Notes, RasAnswers: b.RasAnswers,
	}).Apply(assessment.Facts{})
	as, err := s.assessments.Create(ctx, a, req.PersonId, assessment.Input{
		Type: assessment.Type(b.Type), ReassessesID: b.ReassessesId, Facts: facts,
	})
	if err != nil {
		return nil, err
	}
	loc := "/v1/assessments/" + as.ID.String()
	return api.CreateAssessment201JSONResponse{
		Body:    assessmentOut(as),
		Headers: api.CreateAssessment201ResponseHeaders{ETag: etag(as.Version), Location: &loc},
	}, nil
}

// GetAssessment implements api.StrictServerInterface.
func (s *Server) GetAssessment(ctx context.Context, req api.GetAssessmentRequestObject) (api.GetAssessmentResponseObject, error) {
	a, err := mustActor(actor.From(ctx))
	if err != nil {
		return nil, err
	}
	as, err := s.assessments.Get(ctx, a, req.AssessmentId)
	if err != nil {
		return nil, err
	}
	return api.GetAssessment200JSONResponse{Body: assessmentOut(as), Headers: api.GetAssessment200ResponseHeaders{ETag: etag(as.Version)}}, nil
}

// ListPersonAssessments implements api.StrictServerInterface.
func (s *Server) ListPersonAssessments(ctx context.Context, req api.ListPersonAssessmentsRequestObject) (api.ListPersonAssessmentsResponseObject, error) {
	a, err := mustActor(actor.From(ctx))
	if err != nil {
		return nil, err
	}
	fp := page.Fingerprint("person-assessments", req.PersonId.String())
	pr, err := page.Parse(req.Params.PageSize, req.Params.PageToken, fp)
	if err != nil {
		return nil, err
	}
	list, err := s.assessments.ListForPerson(ctx, a, req.PersonId, pr)
	if err != nil {
		return nil, err
	}
	items, next := pageOf(list, pr, fp, assessment.Assessment.Cursor, assessmentOut)
	return api.ListPersonAssessments200JSONResponse{Body: api.AssessmentList{Items: items, NextPageToken: next}}, nil
}

// ListAssessments implements api.StrictServerInterface.
func (s *Server) ListAssessments(ctx context.Context, req api.ListAssessmentsRequestObject) (api.ListAssessmentsResponseObject, error) {
	a, err := mustActor(actor.From(ctx))
	if err != nil {
		return nil, err
	}
	prm := req.Params
	f := assessment.Filter{Status: assessment.Status(deref((*string)(prm.Status))), Practitioner: deref(prm.Practitioner),
		Type: assessment.Type(deref((*string)(prm.Type)))}
	fp := page.Fingerprint("assessments", string(f.Status), f.Practitioner, string(f.Type))
	pr, err := page.Parse(prm.PageSize, prm.PageToken, fp)
	if err != nil {
		return nil, err
	}
	list, err := s.assessments.List(ctx, a, f, pr)
	if err != nil {
		return nil, err
	}
	items, next := pageOf(list, pr, fp, assessment.Assessment.Cursor, assessmentOut)
	return api.ListAssessments200JSONResponse{Body: api.AssessmentList{Items: items, NextPageToken: next}}, nil
}

// UpdateAssessment implements api.StrictServerInterface.
func (s *Server) UpdateAssessment(ctx context.Context, req api.UpdateAssessmentRequestObject) (api.UpdateAssessmentResponseObject, error) {
	a, version, err := actorAndVersion(ctx, req.Params.IfMatch)
	if err != nil {
		return nil, err
	}
	as, err := s.assessments.Update(ctx, a, req.AssessmentId, version, factsIn(*patchBody(req.JSONBody, req.ApplicationMergePatchPlusJSONBody)))
	if err != nil {
		return nil, err
	}
	return api.UpdateAssessment200JSONResponse{Body: assessmentOut(as), Headers: api.UpdateAssessment200ResponseHeaders{ETag: etag(as.Version)}}, nil
}

// CompleteAssessment implements api.StrictServerInterface.
func (s *Server) CompleteAssessment(ctx context.Context, req api.CompleteAssessmentRequestObject) (api.CompleteAssessmentResponseObject, error) {
	a, version, err := actorAndVersion(ctx, req.Params.IfMatch)
	if err != nil {
		return nil, err
	}
	var override *assessment.Override
	var changeReason string
	if b := req.Body; b != nil { // the body is optional
		if o := b.Override; o != nil {
			override = &assessment.Override{Eligible: o.Eligible, Reason: o.Reason}
		}
		changeReason = deref(b.ChangeReason)
	}
	as, err := s.assessments.Complete(ctx, a, req.AssessmentId, version, override, changeReason)
	if err != nil {
		return nil, err
	}
	return api.CompleteAssessment200JSONResponse{Body: assessmentOut(as), Headers: api.CompleteAssessment200ResponseHeaders{ETag: etag(as.Version)}}, nil
}

// CancelAssessment implements api.StrictServerInterface.
func (s *Server) CancelAssessment(ctx context.Context, req api.CancelAssessmentRequestObject) (api.CancelAssessmentResponseObject, error) {
	a, version, err := actorAndVersion(ctx, req.Params.IfMatch)
	if err != nil {
		return nil, err
	}
	as, err := s.assessments.Cancel(ctx, a, req.AssessmentId, version, req.Body.Reason)
	if err != nil {
		return nil, err
	}
	return api.CancelAssessment200JSONResponse{Body: assessmentOut(as), Headers: api.CancelAssessment200ResponseHeaders{ETag: etag(as.Version)}}, nil
}

// factsIn reads the API's facts as a patch of the domain's facts.
func factsIn(b api.AssessmentPatch) assessment.Patch {
	p := assessment.Patch{
		Practitioner: b.Practitioner, ImpairmentOrIllness: b.ImpairmentOrIllness, SignificantWellbeingImpact: b.SignificantWellbeingImpact,
		ProvidesNecessaryCare: b.ProvidesNecessaryCare, CarerHealthAtRisk: b.CarerHealthAtRisk,
		ChildUnlikelyToAchieve: b.ChildUnlikelyToAchieveReasonableStandard, ChildImpaired: b.ChildDevelopmentSignificantlyImpaired,
		ChildDisabled: b.ChildDisabled, Notes: b.Notes, RASAnswers: (*map[string]string)(b.RasAnswers),
	}
	if b.CaredForPersonId != nil {
		id := b.CaredForPersonId.String()
		p.CaredForPersonID = &id
	}
	if b.Outcomes != nil {
		recs := make([]assessment.OutcomeRecord, len(*b.Outcomes))
		for i, r := range *b.Outcomes {
			recs[i] = outcomeIn(string(r.Outcome), r.Unable, r.Reasons, r.Notes)
		}
		p.Outcomes = &recs
	}
	if b.CarerOutcomes != nil {
		recs := make([]assessment.OutcomeRecord, len(*b.CarerOutcomes))
		for i, r := range *b.CarerOutcomes {
			recs[i] = outcomeIn(string(r.Outcome), r.Unable, r.Reasons, r.Notes)
		}
		p.CarerOutcomes = &recs
	}
	return p
}

func outcomeIn(outcome string, unable bool, reasons *[]api.UnableReason, notes *string) assessment.OutcomeRecord {
	r := assessment.OutcomeRecord{Outcome: outcome, Unable: unable, Reasons: []assessment.Reason{}, Notes: strings.TrimSpace(deref(notes))}
	if reasons != nil {
		for _, x := range *reasons {
			r.Reasons = append(r.Reasons, assessment.Reason(x))
		}
	}
	return r
}

func assessmentOut(as assessment.Assessment) api.Assessment {
	f := as.Facts
	out := api.Assessment{
		Id: as.ID, PersonId: as.PersonID, Type: api.AssessmentType(as.Type), Basis: api.AssessmentBasis(as.Basis),
		ReassessesId: as.ReassessesID, Status: api.AssessmentStatus(as.Status), Practitioner: f.Practitioner,
		ImpairmentOrIllness: f.ImpairmentOrIllness, SignificantWellbeingImpact: f.SignificantWellbeingImpact,
		ProvidesNecessaryCare: f.ProvidesNecessaryCare, CarerHealthAtRisk: f.CarerHealthAtRisk,
		ChildUnlikelyToAchieveReasonableStandard: f.ChildUnlikelyToAchieve, ChildDevelopmentSignificantlyImpaired: f.ChildImpaired,
		ChildDisabled: f.ChildDisabled, Notes: nonEmpty(f.Notes), NoBudgetReason: nonEmpty(as.NoBudgetReason),
		BudgetId: nullableOf(as.BudgetID), BudgetVersionId: nullableOf(as.BudgetVersionID),
		CompletedAt: nullableOf(as.CompletedAt), CompletedBy: nullableOf(as.CompletedBy),
		CancelledAt: nullableOf(as.CancelledAt), CancelReason: nullableOf(as.CancelReason),
		Eligibility: nullable.NewNullNullable[api.Eligibility](), CompletionBlockers: []api.FieldError{},
		Version: as.Version, CreatedAt: as.CreatedAt, UpdatedAt: as.UpdatedAt,
	}
	if as.Status == assessment.Draft {
		for _, fe := range assessment.Blockers(ras.AssessmentType(as.Basis), as.Facts) {
			out.CompletionBlockers = append(out.CompletionBlockers, api.FieldError{Field: fe.Field, In: api.FieldErrorIn(fe.In), Code: fe.Code, Message: fe.Message})
		}
	}
	if f.CaredForPersonID != nil {
		if id, err := uuid.Parse(*f.CaredForPersonID); err == nil {
			out.CaredForPersonId = &id
		}
	}
	if as.Basis == "needs" {
		recs := make([]api.AdultOutcomeRecord, len(f.Outcomes))
		for i, r := range f.Outcomes {
			recs[i] = api.AdultOutcomeRecord{Outcome: api.AdultOutcome(r.Outcome), Unable: r.Unable, Reasons: reasonsOut(r.Reasons), Notes: nonEmpty(r.Notes)}
		}
		out.Outcomes = &recs
	}
	if as.Basis == "carer" {
		recs := make([]api.CarerOutcomeRecord, len(f.CarerOutcomes))
		for i, r := range f.CarerOutcomes {
			recs[i] = api.CarerOutcomeRecord{Outcome: api.CarerOutcome(r.Outcome), Unable: r.Unable, Reasons: reasonsOut(r.Reasons), Notes: nonEmpty(r.Notes)}
		}
		out.CarerOutcomes = &recs
	}
	if len(f.RASAnswers) > 0 {
		answers := api.RASAnswers(f.RASAnswers)
		out.RasAnswers = &answers
	}
	if e := as.Eligibility; e != nil {
		conds := make([]api.EligibilityCondition, len(e.Conditions))
		for i, c := range e.Conditions {
			conds[i] = api.EligibilityCondition{Condition: c.Condition, Held: c.Held, Detail: c.Detail}
		}
		out.Eligibility = nullable.NewNullableWithValue(api.Eligibility{
			Eligible: e.Eligible, ComputedEligible: e.Computed, Rule: e.Rule, Conditions: conds,
			OutcomesCounted: nonNil(e.OutcomesCounted), Summary: e.Summary, Overridden: e.Overridden,
			OverrideReason: nonEmpty(e.OverrideReason),
		})
	}
	return out
}

func reasonsOut(rs []assessment.Reason) *[]api.UnableReason {
	out := make([]api.UnableReason, len(rs))
	for i, r := range rs {
		out[i] = api.UnableReason(r)
	}
	return &out
}

func nonNil[T any](s []T) []T {
	if s == nil {
		return []T{}
	}
	return s
}
