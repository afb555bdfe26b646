package outbox

import (
	"context"

	"github.com/google/uuid"

	"github.com/pbudget/pbudget/internal/actor"
	"github.com/pbudget/pbudget/internal/audit"
	"github.com/pbudget/pbudget/internal/webhook"
)

// announced maps audit actions to the events they raise and the GET path of their record: most
// events are named as their action; an audit concluded and a recovery notified are named, as
// events, for what happened rather than for the step taken. The services need no change: the
// audit trail they already write in each change's transaction raises the event (Announcing).
// Reviews' due and overdue, which no audited change raises, are emitted by the reviews service.
var announced = func() map[string]announcement {
	m := map[string]announcement{
		"dp_audit.conclude": {webhook.AuditConcluded, webhook.AuditPath},
		"recovery.notify":   {webhook.RecoveryNotified, webhook.RecoveryPath},
	}
	for t, path := range map[webhook.EventType]func(uuid.UUID) string{
		webhook.PersonCreated:                 webhook.PersonPath,
		webhook.PersonUpdated:                 webhook.PersonPath,
		webhook.AssessmentCompleted:           webhook.AssessmentPath,
		webhook.BudgetIssued:                  webhook.BudgetPath,
		webhook.BudgetAgreed:                  webhook.BudgetPath,
		webhook.PlanSubmitted:                 webhook.PlanPath,
		webhook.PlanApproved:                  webhook.PlanPath,
		webhook.PlanReturned:                  webhook.PlanPath,
		webhook.DirectPaymentAgreementCreated: webhook.DPAgreementPath,
		webhook.ISFAgreementCreated:           webhook.ISFAgreementPath,
		webhook.PaymentRunApproved:            webhook.PaymentRunPath,
		webhook.PaymentRunPaid:                webhook.PaymentRunPath,
		webhook.StatementAccepted:             webhook.ISFStatementPath,
		webhook.StatementQueried:              webhook.ISFStatementPath,
	} {
		m[string(t)] = announcement{t, path}
	}
	return m
}()

// announcement is the event an audit action raises and the path of its record.
type announcement struct {
	Type webhook.EventType
	Path func(uuid.UUID) string
}

// Subjects finds whom a record is about, for provider reach: its person and provider.
type Subjects interface {
	Subject(ctx context.Context, councilID uuid.UUID, entityType string, id uuid.UUID) (person, provider *uuid.UUID, err error)
}

// announcer is an audit.Recorder that also emits the event of each announced action, in the
// same transaction.
type announcer struct {
	audit.Recorder
	s *Service
}

// Announcing wraps r: every audit event whose action is an announced event type also writes that
// event to the outbox, in the change's transaction (a change made outside one, which the house
// rules do not allow, gets its event in a transaction of its own right after).
func (s *Service) Announcing(r audit.Recorder) audit.Recorder { return announcer{Recorder: r, s: s} }

func (an announcer) Record(ctx context.Context, a actor.Actor, e audit.Event) error {
	if rec, ok := an.Recorder.(EventRecorder); ok && an.inTx(ctx) {
		if ev, ok := an.event(a, e); ok { // one statement for both events
			if si, ok := rec.(SubjectsInline); !ok || !si.ReadsSubjects() {
				if err := an.subject(ctx, &ev); err != nil {
					return err
				}
			}
			stored, err := an.s.stored(ev)
			if err != nil {
				return err
			}
			fanned, err := rec.RecordWithEvent(ctx, a, e, stored)
			if err != nil || fanned {
				return err
			}
			return an.s.queue.EnqueueWebhookFanout(ctx, ev.CouncilID, stored.EventID)
		}
	}
	if err := an.Recorder.Record(ctx, a, e); err != nil {
		return err
	}
	return an.announce(ctx, a, []audit.Event{e})
}

// inTx reports whether ctx carries the transaction already.
func (an announcer) inTx(ctx context.Context) bool {
	t, ok := an.s.tx.(InTxer)
	return ok && t.InTx(ctx)
}

// event is the webhook event an audit event announces, if any (without its subjects).
func (an announcer) event(a actor.Actor, e audit.Event) (webhook.Event, bool) {
	ann, ok := announced[e.Action]
	if !ok || e.EntityID == uuid.Nil {
		return webhook.Event{}, false
	}
	return webhook.Event{Type: ann.Type, CouncilID: a.CouncilID, ID: e.EntityID, Path: ann.Path(e.EntityID)}, true
}

// subject fills in whom ev is about, for provider reach.
func (an announcer) subject(ctx context.Context, ev *webhook.Event) error {
	if an.s.subjects == nil {
		return nil
	}
	person, provider, err := an.s.subjects.Subject(ctx, ev.CouncilID, ev.Type.Object(), ev.ID)
	ev.PersonID, ev.ProviderID = person, provider
	return err
}

func (an announcer) RecordAll(ctx context.Context, a actor.Actor, es []audit.Event) error {
	if err := an.Recorder.RecordAll(ctx, a, es); err != nil {
		return err
	}
	return an.announce(ctx, a, es)
}

func (an announcer) announce(ctx context.Context, a actor.Actor, es []audit.Event) error {
	var out []webhook.Event
	for _, e := range es {
		if ev, ok := an.event(a, e); ok {
			out = append(out, ev)
		}
	}
	if len(out) == 0 {
		return nil
	}
	emit := func(ctx context.Context) error {
		for _, ev := range out {
			if err := an.subject(ctx, &ev); err != nil {
				return err
			}
			if err := an.s.Emit(ctx, ev); err != nil {
				return err
			}
		}
		return nil
	}
	if an.inTx(ctx) {
		// Already in the change's transaction: a savepoint would add two round trips and undo
		// nothing the caller keeps (an error here rolls the whole transaction back).
		return emit(ctx)
	}
	return an.s.tx.WithinTx(ctx, emit)
}
