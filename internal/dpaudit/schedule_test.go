package dpaudit

import (
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/pbudget/pbudget/internal/date"
)

func d(y, m, day int) date.Date { return date.Of(y, time.Month(m), day) }

var settings = DefaultSettings()

func TestTheFirstAuditCoversTwelveWeeksFromTheFirstPaymentThenEachYear(t *testing.T) {
	t.Parallel()
	first := d(2026, 4, 6)
	require.Equal(t, Period{d(2026, 4, 6), d(2026, 6, 29)}, settings.Scheduled(first, 0), "12 weeks = 84 days")
	require.Equal(t, d(2026, 6, 29), settings.Scheduled(first, 0).Due())
	require.Equal(t, Period{d(2026, 6, 29), d(2027, 6, 29)}, settings.Scheduled(first, 1))
	require.Equal(t, Period{d(2027, 6, 29), d(2028, 6, 29)}, settings.Scheduled(first, 2))
	six := settings
	six.FirstAuditWeeks = 6
	require.Equal(t, d(2026, 5, 18), six.Scheduled(first, 0).End)
}

func TestAnnualPeriodsFromThe29thOfFebruaryDoNotDrift(t *testing.T) {
	t.Parallel()
	first := d(2027, 12, 7) // + 84 days = 29 February 2028
	require.Equal(t, d(2028, 2, 29), settings.Scheduled(first, 0).End)
	require.Equal(t, Period{d(2028, 2, 29), d(2029, 3, 1)}, settings.Scheduled(first, 1))
	require.Equal(t, Period{d(2029, 3, 1), d(2030, 3, 1)}, settings.Scheduled(first, 2))
	require.Equal(t, Period{d(2031, 3, 1), d(2032, 2, 29)}, settings.Scheduled(first, 4), "back on the 29th in a leap year")
	for k := range 8 {
		require.Equal(t, settings.Scheduled(first, k).End, settings.Scheduled(first, k+1).Start, "periods tile: no day unaudited")
	}
}

func TestAScheduledAuditIsListedOnTheDayItIsDueNotTheDayBefore(t *testing.T) {
	t.Parallel()
	first := d(2026, 4, 6)
	require.Empty(t, settings.ScheduledThrough(first, nil, d(2026, 6, 28)))
	require.Equal(t, []Period{{d(2026, 4, 6), d(2026, 6, 29)}}, settings.ScheduledThrough(first, nil, d(2026, 6, 29)))
	require.Len(t, settings.ScheduledThrough(first, nil, d(2027, 6, 28)), 1)
	require.Len(t, settings.ScheduledThrough(first, nil, d(2027, 6, 29)), 2)
}

func TestAnEndedAgreementsLastPeriodStopsAtItsEnd(t *testing.T) {
	t.Parallel()
	first := d(2026, 4, 6)
	end := d(2026, 10, 1)
	require.Equal(t, []Period{{d(2026, 4, 6), d(2026, 6, 29)}}, settings.ScheduledThrough(first, &end, d(2026, 9, 30)))
	got := settings.ScheduledThrough(first, &end, d(2030, 1, 1))
	require.Equal(t, []Period{{d(2026, 4, 6), d(2026, 6, 29)}, {d(2026, 6, 29), d(2026, 10, 1)}}, got, "due when it ends, and no more")
	atBoundary := d(2026, 6, 29)
	require.Equal(t, []Period{{d(2026, 4, 6), d(2026, 6, 29)}}, settings.ScheduledThrough(first, &atBoundary, d(2030, 1, 1)))
}

func TestAnAdHocAuditCoversTheCurrentPeriodToTheConcern(t *testing.T) {
	t.Parallel()
	first := d(2026, 4, 6)
	p, err := settings.AdHoc(first, d(2026, 9, 10))
	require.NoError(t, err)
	require.Equal(t, Period{d(2026, 6, 29), d(2026, 9, 11)}, p)
	p, err = settings.AdHoc(first, first)
	require.NoError(t, err)
	require.Equal(t, Period{first, first.AddDays(1)}, p)
	_, err = settings.AdHoc(first, first.AddDays(-1))
	require.ErrorIs(t, err, ErrBeforeFirstPayment)
}

func TestWorklistsAtTheirEdges(t *testing.T) {
	t.Parallel()
	due := d(2026, 6, 29)
	plan := &Outcome{Kind: ActionPlan, ActionPlanDue: d(2026, 9, 1)}
	tests := []struct {
		name  string
		a     Audit
		today date.Date
		want  []Work
	}{
		{"planned, the day before it is due", Audit{State: Planned, Due: due}, due.AddDays(-1), nil},
		{"planned, the day it is due", Audit{State: Planned, Due: due}, due, []Work{WorkDue}},
		{"not concluded on the last allowed day", Audit{State: Reconciled, Due: due}, due.AddDays(56), nil},
		{"not concluded the day after", Audit{State: Reconciled, Due: due}, due.AddDays(57), []Work{WorkOverdue}},
		{"planned and overdue", Audit{State: Planned, Due: due}, due.AddDays(57), []Work{WorkDue, WorkOverdue}},
		{"evidence on its due date", Audit{State: EvidenceRequested, Due: due, EvidenceDue: due.AddDays(28)}, due.AddDays(28), nil},
		{"evidence a day late", Audit{State: EvidenceRequested, Due: due, EvidenceDue: due.AddDays(28)}, due.AddDays(29), []Work{WorkEvidenceOverdue}},
		{"concluded is never overdue", Audit{State: Concluded, Due: due, Outcome: &Outcome{Kind: Satisfactory}}, due.AddDays(400), nil},
		{"an action plan the day before", Audit{State: Concluded, Due: due, Outcome: plan}, d(2026, 8, 31), nil},
		{"an action plan on its day", Audit{State: Concluded, Due: due, Outcome: plan}, d(2026, 9, 1), []Work{WorkActionPlanDue}},
		{"closed", Audit{State: Closed, Due: due, Outcome: plan}, d(2027, 9, 1), nil},
		{"cancelled", Audit{State: Cancelled, Due: due}, d(2027, 9, 1), nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			require.Equal(t, tt.want, settings.Worklists(tt.a, tt.today))
		})
	}
}

func TestSettingsOutOfRangeAreRefused(t *testing.T) {
	t.Parallel()
	require.NoError(t, DefaultSettings().Validate())
	bad := DefaultSettings()
	bad.FirstAuditWeeks, bad.ContingencyWeeks = 0, 53
	require.Error(t, bad.Validate())
}
