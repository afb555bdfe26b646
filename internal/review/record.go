package review

import (
	"fmt"
	"slices"
	"strings"

	"github.com/google/uuid"

	"github.com/pbudget/pbudget/internal/apperr"
	"github.com/pbudget/pbudget/internal/date"
)

// Reason is why a review is held: planned (by the schedule) or one of the unplanned reasons.
type Reason string

// The reasons (DOMAIN.md section 11).
const (
	ReasonPlanned           Reason = "planned"
	ReasonRequest           Reason = "request" // the person or someone for them asked
	ReasonHospitalAdmission Reason = "hospital_admission"
	ReasonCarerBreakdown    Reason = "carer_breakdown"
	ReasonSafeguarding      Reason = "safeguarding"
	ReasonAuditConcern      Reason = "audit_concern" // a direct-payment audit raised a concern
)

// Reasons lists the reasons, planned first.
var Reasons = []Reason{ReasonPlanned, ReasonRequest, ReasonHospitalAdmission, ReasonCarerBreakdown, ReasonSafeguarding, ReasonAuditConcern}

// Valid reports whether r is one of Reasons.
func (r Reason) Valid() bool { return slices.Contains(Reasons, r) }

// Unplanned reports whether r is a reason for an unplanned review.
func (r Reason) Unplanned() bool { return r.Valid() && r != ReasonPlanned }

// Rating is how far a plan outcome was achieved.
type Rating string

// The ratings.
const (
	Achieved       Rating = "achieved"
	PartlyAchieved Rating = "partly_achieved"
	NotAchieved    Rating = "not_achieved"
)

// Ratings lists the ratings.
var Ratings = []Rating{Achieved, PartlyAchieved, NotAchieved}

// Valid reports whether r is one of Ratings.
func (r Rating) Valid() bool { return slices.Contains(Ratings, r) }

// Decision is what a review decides.
type Decision string

// The decisions.
const (
	DecisionNoChange    Decision = "no_change"
	DecisionRevisePlan  Decision = "revise_plan" // opens a revision of the plan
	DecisionReassess    Decision = "reassess"    // opens a reassessment (a budget reduction needs one: invariant 5)
	DecisionEndServices Decision = "end_services"
)

// Decisions lists the decisions.
var Decisions = []Decision{DecisionNoChange, DecisionRevisePlan, DecisionReassess, DecisionEndServices}

// Valid reports whether d is one of Decisions.
func (d Decision) Valid() bool { return slices.Contains(Decisions, d) }

// OutcomeResult is the review's finding on one outcome of the plan (plan.Parts.Outcomes).
type OutcomeResult struct {
	Outcome int // index of the outcome in the plan
	Rating  Rating
	Note    string
}

// Record is what a completed review records (DOMAIN.md section 11). Who recorded it and when is in
// the audit trail with the record.
type Record struct {
	Date         date.Date // the day the review was held
	Reviewer     string    // the practitioner's subject
	Reason       Reason
	Outcomes     []OutcomeResult // one per plan outcome
	NeedsChanged bool
	Decision     Decision
	// NextDue is an earlier next date set by the reviewer; nil leaves the rules' date. It is
	// never later than the rules' limit (MaxNextDue): a reviewer may bring a review forward,
	// never put it off.
	NextDue *date.Date
	Notes   string
}

// Errors of a review record.
var (
	ErrNextDueTooLate = apperr.New(apperr.RuleViolation, "review-next-due-after-limit",
		"a reviewer may set an earlier next review, never a later one than the rules allow")
	ErrNextDueAfterEnd = apperr.New(apperr.RuleViolation, "review-next-due-when-services-end",
		"a review that ends services sets no next review")
)

// Check validates a review of a plan with planOutcomes outcomes, held on r.Date against the
// person's facts before it, on day today. Bad fields come back together as a validation error;
// a next date beyond the rules' limit is ErrNextDueTooLate.
func (r Record) Check(planOutcomes int, f Facts, p Policy, today date.Date) error {
	var fields apperr.Fields
	if r.Date.After(today) {
		fields.Add("/date", "in_future", "a review is recorded once it has been held: the date cannot be after today")
	}
	if strings.TrimSpace(r.Reviewer) == "" {
		fields.Add("/reviewer", "required", "name the practitioner who held the review")
	}
	if !r.Reason.Valid() {
		fields.Add("/reason", "enum", fmt.Sprintf("reason is one of %s", join(Reasons)))
	}
	if !r.Decision.Valid() {
		fields.Add("/decision", "enum", fmt.Sprintf("decision is one of %s", join(Decisions)))
	}
	if len(r.Outcomes) != planOutcomes {
		fields.Add("/outcomes", "count", fmt.Sprintf("rate each of the plan's %d outcomes once (got %d)", planOutcomes, len(r.Outcomes)))
	}
	seen := make([]bool, planOutcomes)
	for i, o := range r.Outcomes {
		at := fmt.Sprintf("/outcomes/%d", i)
		switch {
		case o.Outcome < 0 || o.Outcome >= planOutcomes:
			fields.Add(at+"/outcome", "range", fmt.Sprintf("outcome is the index of one of the plan's %d outcomes", planOutcomes))
		case seen[o.Outcome]:
			fields.Add(at+"/outcome", "duplicate", "each outcome is rated once")
		default:
			seen[o.Outcome] = true
		}
		if !o.Rating.Valid() {
			fields.Add(at+"/rating", "enum", fmt.Sprintf("rating is one of %s", join(Ratings)))
		}
	}
	if r.NextDue != nil && !r.NextDue.After(r.Date) {
		fields.Add("/next_due", "not_after_review", "the next review is after this one")
	}
	if err := fields.Err(); err != nil {
		return err
	}
	if r.NextDue == nil {
		return nil
	}
	limit, ok := MaxNextDue(f, p, r.Date, r.Decision)
	if !ok {
		return ErrNextDueAfterEnd
	}
	if r.NextDue.After(limit) {
		return ErrNextDueTooLate.WithMessage("%s: the rules' limit for the next review is %s", ErrNextDueTooLate.Message, limit)
	}
	return nil
}

// Completed returns the record as the schedule sees it.
func (r Record) Completed(id uuid.UUID) Completed {
	return Completed{ReviewID: id, Date: r.Date, Decision: r.Decision, NextDue: r.NextDue}
}

// Achievement summarises a review's outcomes as NHS England's client-level data reports them.
type Achievement string

// The summaries.
const (
	AchievementUnknown Achievement = ""              // no outcomes rated
	FullyMet           Achievement = "fully_met"     // every outcome achieved
	PartiallyMet       Achievement = "partially_met" // at least one achieved or partly achieved
	NotMet             Achievement = "not_met"       // none achieved, even in part
)

// Achievement follows the CLD guidance (Release 1, "Review outcomes achieved"): fully met when
// every outcome was achieved, partially met when at least one was achieved fully or partly, else
// not met.
func (r Record) Achievement() Achievement {
	if len(r.Outcomes) == 0 {
		return AchievementUnknown
	}
	all, some := true, false
	for _, o := range r.Outcomes {
		all = all && o.Rating == Achieved
		some = some || o.Rating == Achieved || o.Rating == PartlyAchieved
	}
	switch {
	case all:
		return FullyMet
	case some:
		return PartiallyMet
	}
	return NotMet
}

func join[T ~string](list []T) string {
	s := make([]string, len(list))
	for i, v := range list {
		s[i] = string(v)
	}
	return strings.Join(s, ", ")
}
