package review

import (
	"errors"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/pbudget/pbudget/internal/apperr"
)

func validRecord() Record {
	return Record{Date: d("2026-05-20"), Reviewer: "alice", Reason: ReasonPlanned, Decision: DecisionNoChange,
		Outcomes: []OutcomeResult{{Outcome: 0, Rating: Achieved}, {Outcome: 1, Rating: PartlyAchieved}}}
}

// The plan started on 1 April 2026: this review is its first, so the next is due by 20 May 2027.
var firstReviewFacts = Facts{Plans: []PlanStart{{planA, d("2026-04-01")}}}

func TestReviewRecordChecks(t *testing.T) {
	t.Parallel()
	today := d("2026-05-21")
	tests := []struct {
		name   string
		change func(*Record)
		fields []string // the fields at fault, for a validation error
		rule   error    // or the rule broken
	}{
		{name: "a complete review", change: func(*Record) {}},
		{name: "held today", change: func(r *Record) { r.Date = today }},
		{name: "held tomorrow", change: func(r *Record) { r.Date = today.AddDays(1) }, fields: []string{"/date"}},
		{name: "no reviewer", change: func(r *Record) { r.Reviewer = " " }, fields: []string{"/reviewer"}},
		{name: "an unknown reason", change: func(r *Record) { r.Reason = "whim" }, fields: []string{"/reason"}},
		{name: "an unknown decision", change: func(r *Record) { r.Decision = "shrug" }, fields: []string{"/decision"}},
		{name: "an outcome left out", change: func(r *Record) { r.Outcomes = r.Outcomes[:1] }, fields: []string{"/outcomes"}},
		{name: "an outcome rated twice", change: func(r *Record) { r.Outcomes[1].Outcome = 0 }, fields: []string{"/outcomes/1/outcome"}},
		{name: "an outcome the plan lacks", change: func(r *Record) { r.Outcomes[1].Outcome = 2 }, fields: []string{"/outcomes/1/outcome"}},
		{name: "an unknown rating", change: func(r *Record) { r.Outcomes[0].Rating = "meh" }, fields: []string{"/outcomes/0/rating"}},
		{name: "an earlier next review", change: func(r *Record) { r.NextDue = dp("2026-11-20") }},
		{name: "the next review on the rules' limit", change: func(r *Record) { r.NextDue = dp("2027-05-20") }},
		{name: "the next review a day past the limit", change: func(r *Record) { r.NextDue = dp("2027-05-21") }, rule: ErrNextDueTooLate},
		{name: "the next review on the day of this one", change: func(r *Record) { r.NextDue = dp("2026-05-20") }, fields: []string{"/next_due"}},
		{
			name:   "a next review after services end",
			change: func(r *Record) { r.Decision, r.NextDue = DecisionEndServices, dp("2026-08-01") }, rule: ErrNextDueAfterEnd,
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			r := validRecord()
			tt.change(&r)
			err := r.Check(2, firstReviewFacts, DefaultPolicy(), today)
			switch {
			case tt.rule != nil:
				require.ErrorIs(t, err, tt.rule)
			case tt.fields != nil:
				var e *apperr.Error
				require.True(t, errors.As(err, &e), "want a validation error, got %v", err)
				require.Equal(t, apperr.Invalid, e.Kind)
				var got []string
				for _, f := range e.Fields {
					got = append(got, f.Field)
				}
				require.Equal(t, tt.fields, got)
			default:
				require.NoError(t, err)
			}
		})
	}
}

func TestTheLimitForTheNextDateCountsTheReviewBeingRecorded(t *testing.T) {
	t.Parallel()
	// A direct payment first paid on 31 August 2025, reviewed on 1 October: the review counts for
	// the arrangement, so the limit is 12 months on, not the 6 months from the first payment.
	f := Facts{Plans: []PlanStart{{planA, d("2025-08-04")}}, DirectPayments: []DirectPayment{{agreeA, d("2025-08-31")}}}
	limit, ok := MaxNextDue(f, DefaultPolicy(), d("2025-10-01"), DecisionNoChange)
	require.True(t, ok)
	require.Equal(t, "2026-10-01", limit.String())
	require.Empty(t, f.Reviews, "the facts passed in are not changed")
}

func TestAchievementSummarisesTheOutcomes(t *testing.T) {
	t.Parallel()
	tests := []struct {
		ratings []Rating
		want    Achievement
	}{
		{nil, AchievementUnknown},
		{[]Rating{Achieved}, FullyMet},
		{[]Rating{Achieved, Achieved}, FullyMet},
		{[]Rating{Achieved, NotAchieved}, PartiallyMet},
		{[]Rating{PartlyAchieved}, PartiallyMet},
		{[]Rating{NotAchieved, PartlyAchieved}, PartiallyMet},
		{[]Rating{NotAchieved}, NotMet},
		{[]Rating{NotAchieved, NotAchieved}, NotMet},
	}
	for _, tt := range tests {
		var r Record
		for i, rating := range tt.ratings {
			r.Outcomes = append(r.Outcomes, OutcomeResult{Outcome: i, Rating: rating})
		}
		require.Equal(t, tt.want, r.Achievement(), "%v", tt.ratings)
	}
}

func TestReasonsAndDecisions(t *testing.T) {
	t.Parallel()
	require.False(t, ReasonPlanned.Unplanned())
	for _, r := range Reasons[1:] {
		require.True(t, r.Unplanned(), r)
	}
	require.False(t, Reason("whim").Unplanned())
	require.True(t, DecisionReassess.Valid())
	require.False(t, Decision("").Valid())
}
