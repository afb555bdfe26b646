package httpapi

import (
	"context"
	"encoding/json"

	"github.com/pbudget/pbudget/api"
	"github.com/pbudget/pbudget/internal/actor"
	"github.com/pbudget/pbudget/internal/page"
	"github.com/pbudget/pbudget/internal/ras"
)

// CreateRASVersion implements api.StrictServerInterface.
func (s *Server) CreateRASVersion(ctx context.Context, req api.CreateRASVersionRequestObject) (api.CreateRASVersionResponseObject, error) {
	a, err := mustActor(actor.From(ctx))
	if err != nil {
		return nil, err
	}
	in, err := RASInput(*req.Body)
	if err != nil {
		return nil, err
	}
	v, err := s.ras.Create(ctx, a, in)
	if err != nil {
		return nil, err
	}
	loc := "/v1/ras-versions/" + v.ID.String()
	return api.CreateRASVersion201JSONResponse{Body: rasOut(v), Headers: api.CreateRASVersion201ResponseHeaders{ETag: etag(v.Version), Location: &loc}}, nil
}

// GetRASVersion implements api.StrictServerInterface.
func (s *Server) GetRASVersion(ctx context.Context, req api.GetRASVersionRequestObject) (api.GetRASVersionResponseObject, error) {
	a, err := mustActor(actor.From(ctx))
	if err != nil {
		return nil, err
	}
	v, err := s.ras.Get(ctx, a, req.RasVersionId)
	if err != nil {
		return nil, err
	}
	return api.GetRASVersion200JSONResponse{Body: rasOut(v), Headers: api.GetRASVersion200ResponseHeaders{ETag: etag(v.Version)}}, nil
}

// ListRASVersions implements api.StrictServerInterface.
func (s *Server) ListRASVersions(ctx context.Context, req api.ListRASVersionsRequestObject) (api.ListRASVersionsResponseObject, error) {
	a, err := mustActor(actor.From(ctx))
	if err != nil {
		return nil, err
	}
	f := ras.Filter{AssessmentType: ras.AssessmentType(deref((*string)(req.Params.AssessmentType))), Status: ras.Status(deref((*string)(req.Params.Status)))}
	fp := page.Fingerprint("ras", string(f.AssessmentType), string(f.Status))
	pr, err := page.Parse(req.Params.PageSize, req.Params.PageToken, fp)
	if err != nil {
		return nil, err
	}
	list, err := s.ras.List(ctx, a, f, pr)
	if err != nil {
		return nil, err
	}
	items, next := pageOf(list, pr, fp, ras.Version.Cursor, rasOut)
	return api.ListRASVersions200JSONResponse{Body: api.RASVersionList{Items: items, NextPageToken: next}}, nil
}

// UpdateRASVersion implements api.StrictServerInterface.
func (s *Server) UpdateRASVersion(ctx context.Context, req api.UpdateRASVersionRequestObject) (api.UpdateRASVersionResponseObject, error) {
	a, version, err := actorAndVersion(ctx, req.Params.IfMatch)
	if err != nil {
		return nil, err
	}
	p := ras.Patch{Name: patchBody(req.JSONBody, req.ApplicationMergePatchPlusJSONBody).Name}
	if patchBody(req.JSONBody, req.ApplicationMergePatchPlusJSONBody).Questionnaire != nil {
		p.Questionnaire = &ras.Questionnaire{}
		if err := sameShape(patchBody(req.JSONBody, req.ApplicationMergePatchPlusJSONBody).Questionnaire, p.Questionnaire); err != nil {
			return nil, err
		}
	}
	if patchBody(req.JSONBody, req.ApplicationMergePatchPlusJSONBody).Model != nil {
		p.Model = &ras.Model{}
		if err := sameShape(patchBody(req.JSONBody, req.ApplicationMergePatchPlusJSONBody).Model, p.Model); err != nil {
			return nil, err
		}
	}
	v, err := s.ras.Update(ctx, a, req.RasVersionId, version, p)
	if err != nil {
		return nil, err
	}
	return api.UpdateRASVersion200JSONResponse{Body: rasOut(v), Headers: api.UpdateRASVersion200ResponseHeaders{ETag: etag(v.Version)}}, nil
}

// ActivateRASVersion implements api.StrictServerInterface.
func (s *Server) ActivateRASVersion(ctx context.Context, req api.ActivateRASVersionRequestObject) (api.ActivateRASVersionResponseObject, error) {
	a, version, err := actorAndVersion(ctx, req.Params.IfMatch)
	if err != nil {
		return nil, err
	}
	v, err := s.ras.Activate(ctx, a, req.RasVersionId, version)
	if err != nil {
		return nil, err
	}
	return api.ActivateRASVersion200JSONResponse{Body: rasOut(v), Headers: api.ActivateRASVersion200ResponseHeaders{ETag: etag(v.Version)}}, nil
}

// RetireRASVersion implements api.StrictServerInterface.
func (s *Server) RetireRASVersion(ctx context.Context, req api.RetireRASVersionRequestObject) (api.RetireRASVersionResponseObject, error) {
	a, version, err := actorAndVersion(ctx, req.Params.IfMatch)
	if err != nil {
		return nil, err
	}
	v, err := s.ras.Retire(ctx, a, req.RasVersionId, version)
	if err != nil {
		return nil, err
	}
	return api.RetireRASVersion200JSONResponse{Body: rasOut(v), Headers: api.RetireRASVersion200ResponseHeaders{ETag: etag(v.Version)}}, nil
}

func rasOut(v ras.Version) api.RASVersion {
	out := api.RASVersion{
		Id: v.ID, AssessmentType: api.AssessmentBasis(v.AssessmentType), Number: v.Number, Name: v.Name,
		Status: api.RASStatus(v.Status), MaxPoints: v.Questionnaire.MaxPoints(), ActivatedAt: nullableOf(v.ActivatedAt),
		RetiredAt: nullableOf(v.RetiredAt), Version: v.Version, CreatedAt: v.CreatedAt, UpdatedAt: v.UpdatedAt,
	}
	// The domain's questionnaire and model have the API's JSON shape; stored values always convert.
	_ = sameShape(v.Questionnaire, &out.Questionnaire)
	_ = sameShape(v.Model, &out.Model)
	return out
}

// sameShape copies between an API type and a domain type that share their JSON form.
func sameShape(from, to any) error {
	raw, err := json.Marshal(from)
	if err != nil {
		return err
	}
	return json.Unmarshal(raw, to)
}
