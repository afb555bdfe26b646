package dpaudit

import (
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/pbudget/pbudget/internal/apperr"
	"github.com/pbudget/pbudget/internal/date"
	"github.com/pbudget/pbudget/internal/reason"
)

func TestEveryOutcomeNeedsAWrittenReasonAndItsDates(t *testing.T) {
	t.Parallel()
	on := d(2026, 8, 1)
	zero, six := 0, 6
	tests := []struct {
		name  string
		o     Outcome
		field string
	}{
		{"satisfactory with a reason", Outcome{Kind: Satisfactory, Reason: why}, ""},
		{"satisfactory without one", Outcome{Kind: Satisfactory}, "/outcome/reason"},
		{"recovery with a token reason (the judicial review)", Outcome{Kind: RecoveryOutcome, Reason: "surplus"}, "/outcome/reason"},
		{"an unknown outcome", Outcome{Kind: "warning", Reason: why}, "/outcome/kind"},
		{"an action plan due the day after", Outcome{Kind: ActionPlan, Reason: why, ActionPlanDue: on.AddDays(1)}, ""},
		{"an action plan due the same day", Outcome{Kind: ActionPlan, Reason: why, ActionPlanDue: on}, "/outcome/action_plan_due"},
		{"an action plan without a date", Outcome{Kind: ActionPlan, Reason: why}, "/outcome/action_plan_due"},
		{"a suspension backdated", Outcome{Kind: SuspendPayments, Reason: why, SuspendFrom: on.AddDays(-1)}, "/outcome/suspend_from"},
		{"a termination with 27 weeks' notice", Outcome{Kind: Terminate, Reason: why, NoticeWeeks: ptr(27)}, "/outcome/notice_weeks"},
		{"an immediate termination", Outcome{Kind: Terminate, Reason: why, NoticeWeeks: &zero}, ""},
		{"a termination with six weeks' notice", Outcome{Kind: Terminate, Reason: why, NoticeWeeks: &six}, ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			_, err := settings.CheckOutcome(tt.o, on)
			if tt.field == "" {
				require.NoError(t, err)
				return
			}
			var ae *apperr.Error
			require.ErrorAs(t, err, &ae)
			require.Equal(t, tt.field, ae.Fields[0].Field)
			if tt.field == "/outcome/reason" {
				require.ErrorIs(t, err, reason.ErrRequired, "a missing reason is the rule's 422, not a 400")
			} else {
				require.Equal(t, apperr.Invalid, apperr.KindOf(err))
			}
		})
	}
}

func TestOutcomeDefaults(t *testing.T) {
	t.Parallel()
	on := d(2026, 8, 1)
	o, err := settings.CheckOutcome(Outcome{Kind: Terminate, Reason: "  Money was spent on gambling   twice after a warning.  "}, on)
	require.NoError(t, err)
	require.Equal(t, 4, *o.NoticeWeeks)
	require.Equal(t, d(2026, 8, 29), o.Ends, "four weeks' notice by default")
	require.Equal(t, "Money was spent on gambling twice after a warning.", o.Reason)
	o, err = settings.CheckOutcome(Outcome{Kind: SuspendPayments, Reason: why}, on)
	require.NoError(t, err)
	require.Equal(t, on, o.SuspendFrom)
	o, err = settings.CheckOutcome(Outcome{Kind: Satisfactory, Reason: why, ActionPlanDue: on.AddDays(9)}, on)
	require.NoError(t, err)
	require.Equal(t, date.Date{}, o.ActionPlanDue, "only an action plan keeps a due date")
}

func ptr[T any](v T) *T { return &v }
