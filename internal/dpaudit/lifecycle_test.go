package dpaudit

import (
	"fmt"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/pbudget/pbudget/internal/apperr"
)

var states = []State{Planned, EvidenceRequested, EvidenceReceived, Reconciled, Concluded, Closed, Cancelled}
var events = []Event{RequestEvidence, ReceiveEvidence, Reconcile, Conclude, Close, Cancel}

const why = "Spending on the card is well evidenced and within the plan."

// goodStep is a step that satisfies every event's needs.
func goodStep(on Event) Step {
	st := Step{On: d(2026, 8, 1), Reason: why}
	switch on {
	case RequestEvidence:
		st.Items = []EvidenceItem{{Kind: Receipt, Description: "card receipts for May"}}
	case Conclude:
		st.Outcome = &Outcome{Kind: Satisfactory, Reason: why}
	}
	return st
}

// Every (state, event) pair is either a row of Transitions or refused with a conflict that says
// what the state allows.
func TestOnlyTheTransitionsOfTheTableAreAllowed(t *testing.T) {
	t.Parallel()
	for _, from := range states {
		for _, on := range events {
			t.Run(fmt.Sprintf("%s %s", from, on), func(t *testing.T) {
				t.Parallel()
				var want *Transition
				for i := range Transitions {
					if Transitions[i].From == from && Transitions[i].On == on {
						want = &Transitions[i]
					}
				}
				got, _, err := settings.Apply(from, on, goodStep(on), d(2026, 7, 1))
				if want == nil {
					require.ErrorIs(t, err, ErrTransition)
					require.Equal(t, apperr.Conflict, apperr.KindOf(err))
					require.Equal(t, from, got)
					require.Contains(t, err.Error(), "cannot "+strings.ReplaceAll(string(on), "_", " "))
					return
				}
				require.NoError(t, err)
				require.Equal(t, want.To, got)
			})
		}
	}
}

func TestEachEventNeedsWhatItsRuleSays(t *testing.T) {
	t.Parallel()
	on := d(2026, 8, 1)
	_, st, err := settings.Apply(Planned, RequestEvidence, Step{On: on, Items: []EvidenceItem{{Kind: Timesheet}}}, d(0, 1, 1))
	require.NoError(t, err)
	require.Equal(t, d(2026, 8, 29), st.EvidenceDue, "due in evidence_due_days")

	tests := []struct {
		name  string
		from  State
		on    Event
		step  Step
		due   string // the evidence due date
		field string // or "" for a state error
	}{
		{"evidence without items", Planned, RequestEvidence, Step{On: on}, "", "/items"},
		{"evidence of an unknown kind", Planned, RequestEvidence, Step{On: on, Items: []EvidenceItem{{Kind: "selfie"}}}, "", "/items/0/kind"},
		{"a cancellation without a reason", Planned, Cancel, Step{On: on}, "", "/reason"},
		{"a cancellation with a token reason", Reconciled, Cancel, Step{On: on, Reason: "duplicate"}, "", "/reason"},
		{"a conclusion without an outcome", Reconciled, Conclude, Step{On: on}, "", "/outcome"},
		{"a conclusion without a reason", Reconciled, Conclude, Step{On: on, Outcome: &Outcome{Kind: Satisfactory, Reason: " "}}, "", "/outcome/reason"},
		{"reconciling before the evidence is due", EvidenceRequested, Reconcile, Step{On: on}, "2026-08-01", ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			due := d(0, 1, 1)
			if tt.due != "" {
				due = d(2026, 8, 1)
			}
			got, _, err := settings.Apply(tt.from, tt.on, tt.step, due)
			require.Error(t, err)
			require.Equal(t, tt.from, got)
			var ae *apperr.Error
			require.ErrorAs(t, err, &ae)
			if tt.field == "" {
				require.ErrorIs(t, err, ErrTransition)
				return
			}
			require.Equal(t, tt.field, ae.Fields[0].Field)
		})
	}
	got, _, err := settings.Apply(EvidenceRequested, Reconcile, Step{On: d(2026, 8, 2)}, d(2026, 8, 1))
	require.NoError(t, err, "the day after the evidence was due, reconcile on what there is")
	require.Equal(t, Reconciled, got)
}
