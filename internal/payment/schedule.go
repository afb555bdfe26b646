package payment

import (
	"slices"

	"github.com/pbudget/pbudget/internal/date"
)

// Status is where a line already taken by a run stands.
type Status string

// The statuses of a taken line. A line of a cancelled run, a held line its run did not pay, and
// a line the bank returned are no longer taken: the caller leaves them out.
const (
	Pending Status = "pending" // in a run not yet paid (draft, approved or exported)
	Paid    Status = "paid"    // in a run marked paid
	Held    Status = "held"    // in a run not yet paid, held with a reason
)

// Taken is a cycle or adjustment line of an agreement that a run has already taken: the input
// the rules need to pay each cycle once and to adjust it afterwards.
type Taken struct {
	Kind       Kind // KindCycle or KindAdjustment
	CycleStart date.Date
	Seq        int // adjustment lines: 1, 2, … per cycle
	Amount     int64
	Status     Status
}

// CycleStatus is one cycle of an agreement's schedule.
type CycleStatus struct {
	Owed
	Paid        int64 // cycle and adjustment lines of runs marked paid
	Pending     int64 // in runs not yet paid
	Held        int64 // held in runs not yet paid
	Adjusted    int64 // the adjustment lines among all of those
	Outstanding int64 // owed − everything taken: what the next run pays (or adjusts, when negative)
}

// Schedule is the agreement's cycles up to through (every cycle with a day in force that starts
// on or before it, and every cycle a taken line names), each with what it owes and what runs have
// taken for it.
func Schedule(k Cadence, a Agreement, through date.Date, taken []Taken) ([]CycleStatus, error) {
	if err := a.Validate(); err != nil {
		return nil, err
	}
	taken = sortTaken(taken)
	cycles, err := a.cyclesOf(k, through, taken)
	if err != nil {
		return nil, err
	}
	out := make([]CycleStatus, 0, len(cycles))
	next := 0
	for _, c := range cycles {
		s := CycleStatus{Owed: a.Owed(c)}
		got := int64(0)
		for ; next < len(taken) && taken[next].CycleStart.Equal(c.Start); next++ {
			t := taken[next]
			got += t.Amount
			switch t.Status {
			case Paid:
				s.Paid += t.Amount
			case Held:
				s.Held += t.Amount
			default:
				s.Pending += t.Amount
			}
			if t.Kind == KindAdjustment {
				s.Adjusted += t.Amount
			}
		}
		s.Outstanding = s.Amount - got
		out = append(out, s)
	}
	return out, nil
}

// sortTaken returns a copy of taken in order of cycle start.
func sortTaken(taken []Taken) []Taken {
	out := slices.Clone(taken)
	slices.SortStableFunc(out, func(a, b Taken) int { return a.CycleStart.Compare(b.CycleStart) })
	return out
}
