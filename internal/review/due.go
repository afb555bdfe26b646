// Package review is the review of care and support plans and direct-payment arrangements (Care
// Act s27; statutory guidance ch. 13; DOMAIN.md sections 4, 7 and 11, invariant 8): when the next
// review is due, derived from events, and what a completed review records.
//
// # Due dates
//
// Each rule below is an obligation with a limit, the latest day the review may be held:
//
//   - first_plan_review: a new or revised plan starting on S is first reviewed in the window
//     [S + 6 weeks, S + 8 weeks];
//   - plan_review: then at most 12 months after the last completed review;
//   - first_direct_payment_review: a direct-payment arrangement first paid on F is reviewed at
//     most 6 months after F;
//   - direct_payment_review: then at most 12 months after its last review;
//   - child_in_need: a child in need (since C) is reviewed at most 6 months after the later of C
//     and the last completed review;
//   - unplanned: a person may ask for a review at any time; a request made on Q is due within
//     Policy.UnplannedWithinDays of Q;
//   - reviewer_set: a reviewer may set an earlier next date at a review (never a later one).
//
// The figures are a Policy (DefaultPolicy gives DOMAIN.md's), never constants in the rules.
//
// # One review, aligned
//
// A person has one next review, not one per rule: the review examines the plan, the
// direct-payment arrangement and the child's needs together ("align with DP reviews", DOMAIN.md
// section 7). Next therefore returns the obligation with the earliest limit, and lists in
// Due.Aligns every obligation the same review discharges, each with its own limit. A review
// completed on R discharges every obligation whose clock started on or before R (the plan's
// start, the first payment, the child-in-need date, the request): an early review, such as an
// unplanned one in a plan's first weeks, counts as the plan's first review. Because every
// completed review restarts every clock, the plan's and the arrangement's reviews stay aligned
// after their first common review.
//
// A review that ends services (DecisionEndServices) ends the schedule until a later plan starts.
package review

import (
	"slices"

	"github.com/google/uuid"

	"github.com/pbudget/pbudget/internal/date"
)

// Rule names the rule that sets a review's limit.
type Rule string

// The rules, in the order they are listed when limits are equal.
const (
	RuleFirstPlanReview          Rule = "first_plan_review"
	RulePlanReview               Rule = "plan_review"
	RuleFirstDirectPaymentReview Rule = "first_direct_payment_review"
	RuleDirectPaymentReview      Rule = "direct_payment_review"
	RuleChildInNeed              Rule = "child_in_need"
	RuleUnplanned                Rule = "unplanned"
	RuleReviewerSet              Rule = "reviewer_set"
)

// Policy holds the figures of the rules: council settings, with DOMAIN.md's defaults.
type Policy struct {
	FirstReviewFromWeeks   int // the first plan review's window opens this many weeks after the start (6)
	FirstReviewByWeeks     int // and closes this many weeks after it (8)
	ReviewIntervalMonths   int // then at most this many months after the last review (12)
	DPFirstReviewMonths    int // a direct-payment arrangement: at most this many months after the first payment (6)
	DPReviewIntervalMonths int // then at most this many months after its last review (12)
	ChildInNeedMonths      int // a child in need: at most this many months (6)
	// UnplannedWithinDays is how soon a requested review is due. DOMAIN.md sets no figure: 14 days
	// is pbudget's default (confirm with the council).
	UnplannedWithinDays int
}

// DefaultPolicy returns DOMAIN.md's figures (sections 4, 7 and 11).
func DefaultPolicy() Policy {
	return Policy{FirstReviewFromWeeks: 6, FirstReviewByWeeks: 8, ReviewIntervalMonths: 12,
		DPFirstReviewMonths: 6, DPReviewIntervalMonths: 12, ChildInNeedMonths: 6, UnplannedWithinDays: 14}
}

// PlanStart is an approved plan, new or a revision, and the day it takes effect.
type PlanStart struct {
	PlanID uuid.UUID
	Start  date.Date
}

// DirectPayment is a direct-payment arrangement that has been paid, and its first payment's date.
// An arrangement not yet paid has no review yet: leave it out.
type DirectPayment struct {
	AgreementID  uuid.UUID
	FirstPayment date.Date
}

// Completed is a completed review: its date, its decision and the next date its reviewer set, if
// any.
type Completed struct {
	ReviewID uuid.UUID
	Date     date.Date
	Decision Decision
	NextDue  *date.Date
}

// Request is a request for an unplanned review that no review has answered yet (a review completed
// on or after its date answers it, so passing answered ones is harmless).
type Request struct {
	RequestID uuid.UUID
	Date      date.Date
	Reason    Reason
}

// Facts are a person's events that set review dates. Order does not matter.
type Facts struct {
	Plans          []PlanStart
	DirectPayments []DirectPayment
	Reviews        []Completed
	Requests       []Request
	// ChildInNeedSince is the date from which the person is a child in need; nil when they are not.
	ChildInNeedSince *date.Date
}

// Obligation is one rule's demand: the review that discharges it is held from WindowStart and at
// the latest on Limit. SubjectID is the plan, agreement, request or review it comes from (zero for
// child_in_need).
type Obligation struct {
	Rule        Rule
	SubjectID   uuid.UUID
	WindowStart date.Date
	Limit       date.Date
}

// Due is a person's next review.
type Due struct {
	// Date is the latest day the review may be held: the earliest limit of all obligations.
	Date date.Date
	// WindowStart is when the rule that set Date asks the review to be held from: 6 weeks after
	// the start for a first plan review, the request's date for an unplanned one, and for a rule
	// that sets only a limit, the day after the event that started its clock.
	WindowStart date.Date
	// Rule set Date.
	Rule Rule
	// Aligns lists every obligation this one review discharges (the one that set Date first),
	// ordered by limit.
	Aligns []Obligation
}

// OverdueBy returns how many days the review is overdue on day on: 0 up to and including Date,
// then 1 on the day after.
func (d Due) OverdueBy(on date.Date) int { return max(0, on.DaysSince(d.Date)) }

// Next returns the person's next review, or false when there is none: no approved plan, or the
// last review ended services and no plan has started since.
func Next(f Facts, p Policy) (Due, bool) {
	obligations := Obligations(f, p)
	if len(obligations) == 0 {
		return Due{}, false
	}
	first := obligations[0]
	return Due{Date: first.Limit, WindowStart: first.WindowStart, Rule: first.Rule, Aligns: obligations}, true
}

// Obligations returns every obligation of the person's next review, ordered by limit (then by
// rule), or none when Next has none.
func Obligations(f Facts, p Policy) []Obligation {
	plan, ok := latestPlan(f.Plans)
	if !ok {
		return nil
	}
	last, reviewed := latestReview(f.Reviews)
	if reviewed && last.Decision == DecisionEndServices && !plan.Start.After(last.Date) {
		return nil
	}
	// covered reports whether the last review discharged a clock started on day since.
	covered := func(since date.Date) bool { return reviewed && !last.Date.Before(since) }

	var out []Obligation
	if covered(plan.Start) {
		out = append(out, Obligation{RulePlanReview, plan.PlanID, last.Date.AddDays(1), last.Date.AddMonths(p.ReviewIntervalMonths)})
	} else {
		out = append(out, Obligation{RuleFirstPlanReview, plan.PlanID,
			plan.Start.AddDays(7 * p.FirstReviewFromWeeks), plan.Start.AddDays(7 * p.FirstReviewByWeeks)})
	}
	for _, dp := range f.DirectPayments {
		if covered(dp.FirstPayment) {
			out = append(out, Obligation{RuleDirectPaymentReview, dp.AgreementID, last.Date.AddDays(1), last.Date.AddMonths(p.DPReviewIntervalMonths)})
		} else {
			out = append(out, Obligation{RuleFirstDirectPaymentReview, dp.AgreementID, dp.FirstPayment.AddDays(1), dp.FirstPayment.AddMonths(p.DPFirstReviewMonths)})
		}
	}
	if c := f.ChildInNeedSince; c != nil {
		from := *c
		if covered(from) {
			from = last.Date
		}
		out = append(out, Obligation{RuleChildInNeed, uuid.Nil, from.AddDays(1), from.AddMonths(p.ChildInNeedMonths)})
	}
	for _, r := range f.Requests {
		if !covered(r.Date) {
			out = append(out, Obligation{RuleUnplanned, r.RequestID, r.Date, r.Date.AddDays(p.UnplannedWithinDays)})
		}
	}
	if reviewed && last.NextDue != nil {
		out = append(out, Obligation{RuleReviewerSet, last.ReviewID, last.Date.AddDays(1), *last.NextDue})
	}
	slices.SortStableFunc(out, func(a, b Obligation) int {
		if c := a.Limit.Compare(b.Limit); c != 0 {
			return c
		}
		if c := rulePriority(a.Rule) - rulePriority(b.Rule); c != 0 {
			return c
		}
		return slices.Compare(a.SubjectID[:], b.SubjectID[:])
	})
	return out
}

// MaxNextDue is the latest next date a reviewer may set for a review completed on day on with
// decision d: the earliest limit of the rules once that review is counted. It is false when the
// review leaves no next review (it ends services).
func MaxNextDue(f Facts, p Policy, on date.Date, d Decision) (date.Date, bool) {
	g := f
	g.Reviews = append(slices.Clone(f.Reviews), Completed{Date: on, Decision: d})
	due, ok := Next(g, p)
	return due.Date, ok
}

func rulePriority(r Rule) int {
	return slices.Index([]Rule{RuleFirstPlanReview, RulePlanReview, RuleFirstDirectPaymentReview, RuleDirectPaymentReview,
		RuleChildInNeed, RuleUnplanned, RuleReviewerSet}, r)
}

// latestPlan is the plan in force: the one that started last (a revision supersedes its plan).
func latestPlan(plans []PlanStart) (PlanStart, bool) {
	if len(plans) == 0 {
		return PlanStart{}, false
	}
	return slices.MaxFunc(plans, func(a, b PlanStart) int {
		if c := a.Start.Compare(b.Start); c != 0 {
			return c
		}
		return slices.Compare(a.PlanID[:], b.PlanID[:]) // same start: decided by id, so order never matters
	}), true
}

// latestReview is the last completed review; of two on one day, the one whose id sorts last.
func latestReview(reviews []Completed) (Completed, bool) {
	if len(reviews) == 0 {
		return Completed{}, false
	}
	return slices.MaxFunc(reviews, func(a, b Completed) int {
		if c := a.Date.Compare(b.Date); c != 0 {
			return c
		}
		return slices.Compare(a.ReviewID[:], b.ReviewID[:])
	}), true
}
