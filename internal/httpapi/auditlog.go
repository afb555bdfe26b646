package httpapi

import (
	"context"
	"time"

	"github.com/pbudget/pbudget/api"
	"github.com/pbudget/pbudget/internal/actor"
	"github.com/pbudget/pbudget/internal/audit"
	"github.com/pbudget/pbudget/internal/page"
)

// ListAuditEvents implements api.StrictServerInterface.
func (s *Server) ListAuditEvents(ctx context.Context, req api.ListAuditEventsRequestObject) (api.ListAuditEventsResponseObject, error) {
	a, err := mustActor(actor.From(ctx))
	if err != nil {
		return nil, err
	}
	prm := req.Params
	f := audit.Filter{EntityID: prm.EntityId, From: prm.OccurredFrom, To: prm.OccurredTo}
	if prm.EntityType != nil {
		f.EntityType = *prm.EntityType
	}
	if prm.Actor != nil {
		f.Actor = *prm.Actor
	}
	if prm.Action != nil {
		f.Action = *prm.Action
	}
	entityID, from, to := "", "", ""
	if f.EntityID != nil {
		entityID = f.EntityID.String()
	}
	if f.From != nil {
		from = f.From.UTC().Format(time.RFC3339Nano)
	}
	if f.To != nil {
		to = f.To.UTC().Format(time.RFC3339Nano)
	}
	fp := page.Fingerprint("audit", f.EntityType, entityID, f.Actor, f.Action, from, to)
	pr, err := page.Parse(prm.PageSize, prm.PageToken, fp)
	if err != nil {
		return nil, err
	}
	recs, err := s.audit.List(ctx, a, f, pr)
	if err != nil {
		return nil, err
	}
	items, next := pageOf(recs, pr, fp, audit.Record.Cursor, auditEventOut)
	return api.ListAuditEvents200JSONResponse{Body: api.AuditEventList{Items: items, NextPageToken: next}}, nil
}

func auditEventOut(r audit.Record) api.AuditEvent {
	return api.AuditEvent{
		Id: r.ID, OccurredAt: r.OccurredAt, Action: r.Action, EntityType: r.EntityType, EntityId: r.EntityID,
		Actor:         api.AuditActor{Subject: r.ActorSubject, Roles: r.ActorRoles, ProviderId: r.ActorProvider, PersonId: r.ActorPerson},
		ChangedFields: r.ChangedFields, Details: r.Details,
		RequestId: nullableOf(nonEmpty(r.RequestID)), Reason: nullableOf(nonEmpty(r.Reason)),
	}
}
