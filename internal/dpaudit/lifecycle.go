package dpaudit

import (
	"fmt"
	"strings"

	"github.com/pbudget/pbudget/internal/apperr"
	"github.com/pbudget/pbudget/internal/date"
	"github.com/pbudget/pbudget/internal/reason"
)

// State is where an audit is in its life (DOMAIN.md section 11).
type State string

// The states of an audit.
const (
	Planned           State = "planned"
	EvidenceRequested State = "evidence_requested"
	EvidenceReceived  State = "evidence_received"
	Reconciled        State = "reconciled"
	Concluded         State = "concluded"
	Closed            State = "closed"
	Cancelled         State = "cancelled"
)

// Event is what an auditor does to an audit.
type Event string

// The events of an audit's life.
const (
	RequestEvidence Event = "request_evidence"
	ReceiveEvidence Event = "receive_evidence"
	Reconcile       Event = "reconcile"
	Conclude        Event = "conclude"
	Close           Event = "close"
	Cancel          Event = "cancel"
)

// Transition is one row of the life cycle: in state From, event On leads to To, under Rule.
type Transition struct {
	From State
	On   Event
	To   State
	Rule string // what the event needs, in plain English
}

// Transitions is the audit's life cycle. Anything not listed is refused, naming the events
// allowed in the current state.
var Transitions = []Transition{
	{Planned, RequestEvidence, EvidenceRequested, "at least one evidence item; due in evidence_due_days"},
	{Reconciled, RequestEvidence, EvidenceRequested, "more evidence after reconciling: at least one item; a new due date"},
	{EvidenceRequested, ReceiveEvidence, EvidenceReceived, "the evidence asked for has arrived"},
	{EvidenceReceived, Reconcile, Reconciled, "the period's figures are reconciled"},
	{EvidenceRequested, Reconcile, Reconciled, "only once the evidence is overdue: reconciled on what there is"},
	{Reconciled, Reconcile, Reconciled, "reconciled again (a later statement, a corrected entry)"},
	{Reconciled, Conclude, Concluded, "an outcome with a written reason"},
	{Concluded, Close, Closed, "the outcome is carried out (action plan met, recovery raised, payments suspended or ended)"},
	{Planned, Cancel, Cancelled, "a written reason"},
	{EvidenceRequested, Cancel, Cancelled, "a written reason"},
	{EvidenceReceived, Cancel, Cancelled, "a written reason"},
	{Reconciled, Cancel, Cancelled, "a written reason"},
}

// ErrTransition is an event the audit's state does not allow.
var ErrTransition = apperr.New(apperr.Conflict, "audit-state", "the audit's state does not allow this")

// Step is what an event carries.
type Step struct {
	On          date.Date
	Items       []EvidenceItem // request_evidence
	EvidenceDue date.Date      // request_evidence: set by Apply
	Reason      string         // cancel: required; others: optional note
	Outcome     *Outcome       // conclude
}

// EvidenceKind is a kind of evidence an auditor asks for.
type EvidenceKind string

// The kinds of evidence (issue 12: receipts, invoices, timesheets, payroll records, insurance
// certificates, DBS checks; and the account's statements).
const (
	Receipt              EvidenceKind = "receipt"
	Invoice              EvidenceKind = "invoice"
	Timesheet            EvidenceKind = "timesheet"
	PayrollRecord        EvidenceKind = "payroll_record"
	InsuranceCertificate EvidenceKind = "insurance_certificate"
	DBSCheck             EvidenceKind = "dbs_check"
	BankStatement        EvidenceKind = "bank_statement"
)

// EvidenceKinds lists the kinds.
var EvidenceKinds = []EvidenceKind{Receipt, Invoice, Timesheet, PayrollRecord, InsuranceCertificate, DBSCheck, BankStatement}

// EvidenceItem is one thing asked for.
type EvidenceItem struct {
	Kind        EvidenceKind
	Description string // what exactly, e.g. "receipts for April's card spending"; never personal data
}

// Apply moves an audit in state from by event on, checking what the event needs, and returns
// the new state and the step as it is to be recorded (the reason trimmed, the evidence due date
// set, the outcome checked). evidenceDue is the audit's current evidence due date (zero when
// none), for reconciling without the evidence.
func (s Settings) Apply(from State, on Event, st Step, evidenceDue date.Date) (State, Step, error) {
	var t *Transition
	var allowed []string
	for i := range Transitions {
		if Transitions[i].From != from {
			continue
		}
		allowed = append(allowed, string(Transitions[i].On))
		if Transitions[i].On == on {
			t = &Transitions[i]
		}
	}
	if t == nil {
		msg := fmt.Sprintf("an audit that is %s cannot %s", from, strings.ReplaceAll(string(on), "_", " "))
		if len(allowed) > 0 {
			msg += "; it can " + strings.ReplaceAll(strings.Join(allowed, ", "), "_", " ")
		} else {
			msg += "; it is finished"
		}
		return from, st, ErrTransition.WithMessage("%s", msg)
	}
	var f apperr.Fields
	switch on {
	case RequestEvidence:
		if len(st.Items) == 0 {
			f.Add("/items", "required", "ask for at least one evidence item")
		}
		for i, it := range st.Items {
			if !validKind(it.Kind) {
				f.Add(fmt.Sprintf("/items/%d/kind", i), "enum", fmt.Sprintf("%q is not a kind of evidence", it.Kind))
			}
		}
		st.EvidenceDue = st.On.AddDays(s.EvidenceDueDays)
	case Reconcile:
		if from == EvidenceRequested && !st.On.After(evidenceDue) {
			return from, st, ErrTransition.WithMessage("the evidence is due on %s: reconcile once it has arrived or after that date", evidenceDue)
		}
	case Conclude:
		if st.Outcome == nil {
			f.Add("/outcome", "required", "concluding an audit records its outcome")
		} else {
			o, err := s.CheckOutcome(*st.Outcome, st.On)
			if err != nil {
				return from, st, err
			}
			st.Outcome = &o
		}
	case Cancel:
		r, err := reason.Require("/reason", st.Reason)
		if err != nil {
			return from, st, err
		}
		st.Reason = r
	}
	if err := f.Err(); err != nil {
		return from, st, err
	}
	return t.To, st, nil
}

func validKind(k EvidenceKind) bool {
	for _, v := range EvidenceKinds {
		if v == k {
			return true
		}
	}
	return false
}

// Terminal reports whether an audit in state s is finished.
func (s State) Terminal() bool { return s == Closed || s == Cancelled }

// Work is a work list an audit belongs on.
type Work string

// The audit work lists (issue 12: audits due, overdue, evidence overdue, action plans due).
const (
	WorkDue             Work = "audit_due"        // planned, its period ended: start it
	WorkOverdue         Work = "audit_overdue"    // not concluded conclude_within_days after it was due
	WorkEvidenceOverdue Work = "evidence_overdue" // evidence requested and its due date passed
	WorkActionPlanDue   Work = "action_plan_due"  // concluded with an action plan whose due date has come
)

// Audit is an audit as the work lists see it.
type Audit struct {
	State       State
	Due         date.Date
	EvidenceDue date.Date // zero unless evidence was requested
	Outcome     *Outcome
}

// Worklists returns the work lists the audit is on today, in the order above (the SQL of each list
// is the same condition; see the package documentation).
func (s Settings) Worklists(a Audit, today date.Date) []Work {
	var out []Work
	open := !a.State.Terminal() && a.State != Concluded
	if a.State == Planned && !today.Before(a.Due) {
		out = append(out, WorkDue)
	}
	if open && today.After(a.Due.AddDays(s.ConcludeWithinDays)) {
		out = append(out, WorkOverdue)
	}
	if a.State == EvidenceRequested && today.After(a.EvidenceDue) {
		out = append(out, WorkEvidenceOverdue)
	}
	if a.State == Concluded && a.Outcome != nil && a.Outcome.Kind == ActionPlan && !today.Before(a.Outcome.ActionPlanDue) {
		out = append(out, WorkActionPlanDue)
	}
	return out
}
