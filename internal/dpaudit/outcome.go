package dpaudit

import (
	"fmt"

	"github.com/pbudget/pbudget/internal/apperr"
	"github.com/pbudget/pbudget/internal/date"
	"github.com/pbudget/pbudget/internal/reason"
)

// OutcomeKind is what an audit decided.
type OutcomeKind string

// The outcomes of DOMAIN.md section 11.
const (
	Satisfactory    OutcomeKind = "satisfactory"
	ActionPlan      OutcomeKind = "action_plan"      // things to put right by a due date
	RecoveryOutcome OutcomeKind = "recovery"         // money to recover (the recovery package takes it from here)
	SuspendPayments OutcomeKind = "suspend_payments" // the agreement is suspended from a date (through the payments issue)
	Terminate       OutcomeKind = "terminate"        // the direct payment ends after notice
)

// OutcomeKinds lists the outcomes.
var OutcomeKinds = []OutcomeKind{Satisfactory, ActionPlan, RecoveryOutcome, SuspendPayments, Terminate}

// Outcome is an audit's decision with its written reason.
type Outcome struct {
	Kind          OutcomeKind
	Reason        string
	ActionPlanDue date.Date // action_plan: after the conclusion
	SuspendFrom   date.Date // suspend_payments: on or after the conclusion (zero: the conclusion day)
	NoticeWeeks   *int      // terminate: nil for Settings.NoticeWeeks
	Ends          date.Date // terminate: set by CheckOutcome, the conclusion + notice
}

// CheckOutcome checks an outcome concluded on day on and returns it as it is to be recorded. Every
// outcome needs a written reason (reason.Require: a blank or token reason is refused with
// reason-required, even for a satisfactory audit, so that the person's letter always says why);
// malformed fields are reported first, as a validation error.
func (s Settings) CheckOutcome(o Outcome, on date.Date) (Outcome, error) {
	var f apperr.Fields
	valid := false
	for _, k := range OutcomeKinds {
		valid = valid || k == o.Kind
	}
	if !valid {
		f.Add("/outcome/kind", "enum", fmt.Sprintf("%q is not an outcome", o.Kind))
	}
	switch o.Kind {
	case ActionPlan:
		if !o.ActionPlanDue.After(on) {
			f.Add("/outcome/action_plan_due", "after_conclusion", "an action plan is due after the audit concludes")
		}
	case SuspendPayments:
		if o.SuspendFrom == (date.Date{}) {
			o.SuspendFrom = on
		}
		if o.SuspendFrom.Before(on) {
			f.Add("/outcome/suspend_from", "not_before_conclusion", "payments are suspended from the conclusion or later, never backdated")
		}
	case Terminate:
		weeks := s.NoticeWeeks
		if o.NoticeWeeks != nil {
			weeks = *o.NoticeWeeks
		}
		if weeks < 0 || weeks > 26 {
			f.Add("/outcome/notice_weeks", "out_of_range", "notice is between 0 and 26 weeks")
		}
		o.NoticeWeeks, o.Ends = &weeks, on.AddDays(7*weeks)
	}
	if o.Kind != ActionPlan {
		o.ActionPlanDue = date.Date{}
	}
	if err := f.Err(); err != nil {
		return o, err
	}
	var err error
	o.Reason, err = reason.Require("/outcome/reason", o.Reason)
	return o, err
}
