// Package webhook is the pure part of pbudget's webhooks, which follow the Standard Webhooks
// specification (https://www.standardwebhooks.com, version 1.0.0): event types, thin payloads,
// signing, the delivery policy (retries, Retry-After, 410) and the guard that keeps deliveries
// away from internal addresses (SSRF). The outbox, subscriptions and the delivery worker are wired
// elsewhere; integrators verify deliveries with pbudget.VerifyWebhook (pkg/pbudget).
//
// # Signing
//
// Each delivery carries webhook-id (the message id, the same on every retry: the receiver's
// idempotency key), webhook-timestamp (Unix seconds of the attempt) and webhook-signature:
// "v1,<base64 HMAC-SHA256 of id.timestamp.body>" for each secret in use, space-separated, so that
// during a rotation the new and the previous secret both sign and a receiver holding either
// verifies. Secrets are whsec_<base64> of 24 to 64 random bytes. The HMAC is computed by the
// specification's reference library (github.com/standard-webhooks/standard-webhooks/libraries/go):
// no hand-written cryptography.
//
// # Payloads
//
// Payloads are thin (the specification's term): the event type, when it happened, and the id,
// kind, council and API link of the record that changed. Never personal data: the receiver GETs
// the record with its own credentials, which the API authorises and audits.
package webhook

import (
	"slices"
	"strings"
)

// EventType names an event, entity.action in lower_snake_case like the audit trail's actions, so
// that an audited change and the event it raises carry the same name.
type EventType string

// The event types: `record.happened`, most of them the audit trail's own action for the change
// that raises them (outbox.announced maps the others: an audit concluded, a recovery notified).
const (
	PersonCreated                 EventType = "person.created"
	PersonUpdated                 EventType = "person.updated"
	AssessmentCompleted           EventType = "assessment.completed"
	BudgetIssued                  EventType = "personal_budget.issued"
	BudgetAgreed                  EventType = "personal_budget.plan_agreed"
	PlanSubmitted                 EventType = "support_plan.submitted"
	PlanApproved                  EventType = "support_plan.approved"
	PlanReturned                  EventType = "support_plan.returned"
	DirectPaymentAgreementCreated EventType = "direct_payment_agreement.created"
	ISFAgreementCreated           EventType = "isf_agreement.created"
	PaymentRunApproved            EventType = "payment_run.approved"
	PaymentRunPaid                EventType = "payment_run.paid"
	AuditConcluded                EventType = "direct_payment_audit.concluded"
	RecoveryNotified              EventType = "recovery.notified"
	ReviewDue                     EventType = "review.due"
	ReviewOverdue                 EventType = "review.overdue"
	StatementAccepted             EventType = "isf_statement.accepted"
	StatementQueried              EventType = "isf_statement.queried"
)

// EventTypes lists every event type, for subscriptions to choose from.
var EventTypes = []EventType{
	PersonCreated, PersonUpdated, AssessmentCompleted, BudgetIssued, BudgetAgreed,
	PlanSubmitted, PlanApproved, PlanReturned, DirectPaymentAgreementCreated, ISFAgreementCreated,
	PaymentRunApproved, PaymentRunPaid, AuditConcluded, RecoveryNotified, ReviewDue, ReviewOverdue,
	StatementAccepted, StatementQueried,
}

// ProviderEventTypes are the events an ISF provider's subscription may receive: those about the
// people and agreements in its reach. The delivery side still filters each event by reach.
var ProviderEventTypes = []EventType{
	PlanApproved, ISFAgreementCreated, PaymentRunPaid, ReviewDue, ReviewOverdue, StatementAccepted, StatementQueried,
}

// Valid reports whether t is one of EventTypes.
func (t EventType) Valid() bool { return slices.Contains(EventTypes, t) }

// Object is the kind of record the event is about: the part before the dot.
func (t EventType) Object() string {
	object, _, _ := strings.Cut(string(t), ".")
	return object
}
