package payment

import (
	"fmt"
	"time"

	"github.com/pbudget/pbudget/internal/apperr"
	"github.com/pbudget/pbudget/internal/date"
)

// Frequency is how often an agreement is paid. The names are the ones the agreements of the plan
// package store (plan.DPAgreement.Frequency, plan.ISFAgreement.PaymentFrequency).
type Frequency string

// The frequencies: three of cycles, and one_off for an agreement that owes no cycles and is paid
// only by its one-offs (a yearly short break paid in one go).
const (
	FourWeekly Frequency = "four_weekly"
	TwoWeekly  Frequency = "two_weekly"
	Monthly    Frequency = "monthly"
	OneOffOnly Frequency = "one_off"
)

// PerYear is the number of cycles a year by which an annual amount is divided: four-weekly 13,
// two-weekly 26, monthly 12 (DOMAIN.md section 11), 0 for anything else.
func (f Frequency) PerYear() int64 {
	switch f {
	case FourWeekly:
		return 13
	case TwoWeekly:
		return 26
	case Monthly:
		return 12
	}
	return 0
}

// HasCycles reports whether f is a cycle frequency.
func (f Frequency) HasCycles() bool { return f.PerYear() > 0 }

// The defaults of a council's payment calendar (DOMAIN.md section 11).
const (
	DefaultLeadDays       = 7 // a run takes the cycles starting up to 7 days after its pay date
	DefaultProcessingDays = 3 // the BACS processing day is at least 3 working days after approval
	MaxLeadDays           = 56
	MinProcessingDays     = 3
	MaxProcessingDays     = 20
)

// Calendar is a council's payment calendar: one anchor date per frequency, from which its cycles
// are counted, the lead days of a run, and the working days between a run's approval and its BACS
// processing day.
//
// An anchor must not move once a cycle of its frequency has been paid: cycles are identified by
// their start date, and a moved anchor would make new cycles overlap the paid ones.
type Calendar struct {
	FourWeeklyAnchor date.Date
	TwoWeeklyAnchor  date.Date
	MonthlyAnchor    date.Date
	LeadDays         int
	ProcessingDays   int
}

// DefaultCalendar anchors every frequency on anchor, with the default lead and processing days.
func DefaultCalendar(anchor date.Date) Calendar {
	return Calendar{FourWeeklyAnchor: anchor, TwoWeeklyAnchor: anchor, MonthlyAnchor: anchor,
		LeadDays: DefaultLeadDays, ProcessingDays: DefaultProcessingDays}
}

// Validate checks the calendar's settings, naming each field at fault.
func (c Calendar) Validate() error {
	var f apperr.Fields
	if c.LeadDays < 0 || c.LeadDays > MaxLeadDays {
		f.Add("/lead_days", "out_of_range", fmt.Sprintf("lead days are between 0 and %d", MaxLeadDays))
	}
	if c.ProcessingDays < MinProcessingDays || c.ProcessingDays > MaxProcessingDays {
		f.Add("/processing_days", "out_of_range",
			fmt.Sprintf("the processing day is %d to %d working days after approval", MinProcessingDays, MaxProcessingDays))
	}
	return f.Err()
}

// Cadence returns the cycles of frequency f.
func (c Calendar) Cadence(f Frequency) (Cadence, error) {
	switch f {
	case FourWeekly:
		return Cadence{Frequency: f, Anchor: c.FourWeeklyAnchor}, nil
	case TwoWeekly:
		return Cadence{Frequency: f, Anchor: c.TwoWeeklyAnchor}, nil
	case Monthly:
		return Cadence{Frequency: f, Anchor: c.MonthlyAnchor}, nil
	}
	return Cadence{}, ErrFrequency.WithMessage("%q is not a payment cycle frequency (four_weekly, two_weekly, monthly)", string(f))
}

// ErrFrequency is a frequency that has no cycles.
var ErrFrequency = apperr.New(apperr.RuleViolation, "payment-frequency-has-no-cycles",
	"the agreement's frequency is not a payment cycle frequency (four_weekly, two_weekly, monthly)")

// Cadence is the endless sequence of cycles of one frequency from one anchor. Cycle 0 starts on
// the anchor; cycles before the anchor have negative indexes.
//
//	four-weekly: cycle k is [anchor + 28k, anchor + 28(k+1))
//	two-weekly:  cycle k is [anchor + 14k, anchor + 14(k+1))
//	monthly:     cycle k starts k calendar months after the anchor, on the anchor's day of the
//	             month or, when that month is shorter, on its last day; it ends where cycle k+1
//	             starts.
//
// So an anchor on 31 January gives cycles starting 31 January, 28 (or 29) February, 31 March,
// 30 April, 31 May: every month has exactly one cycle start, the day never drifts (unlike adding
// months with time.AddDate, which turns 31 February into 3 March and would skip February), and
// cycles are 28 to 31 days long. Monthly stays in plans clamp to the month's last day the same way.
type Cadence struct {
	Frequency Frequency
	Anchor    date.Date
}

// Cycle is one payment cycle, [Start, End).
type Cycle struct {
	Index      int
	Start, End date.Date
}

// Days is the number of days in the cycle.
func (c Cycle) Days() int { return c.End.DaysSince(c.Start) }

// Contains reports whether d falls in the cycle.
func (c Cycle) Contains(d date.Date) bool { return !d.Before(c.Start) && d.Before(c.End) }

// String renders the cycle for people and logs ("2026-04-06/2026-05-04", end exclusive).
func (c Cycle) String() string { return c.Start.String() + "/" + c.End.String() }

// Cycle returns cycle k.
func (k Cadence) Cycle(i int) Cycle {
	return Cycle{Index: i, Start: k.start(i), End: k.start(i + 1)}
}

func (k Cadence) start(i int) date.Date {
	switch k.Frequency {
	case FourWeekly:
		return k.Anchor.AddDays(28 * i)
	case TwoWeekly:
		return k.Anchor.AddDays(14 * i)
	}
	months := monthNumber(k.Anchor) + i
	y, m := floorDiv(months, 12), months%12
	if m < 0 {
		m += 12
	}
	day := min(k.Anchor.Day(), daysInMonth(y, time.Month(m+1)))
	return date.Of(y, time.Month(m+1), day)
}

// CycleOf returns the cycle that d falls in.
func (k Cadence) CycleOf(d date.Date) Cycle {
	var i int
	switch k.Frequency {
	case FourWeekly:
		i = floorDiv(d.DaysSince(k.Anchor), 28)
	case TwoWeekly:
		i = floorDiv(d.DaysSince(k.Anchor), 14)
	default:
		// Cycle i starts in the i-th month after the anchor's; a day before that start belongs to
		// the cycle that started in the month before.
		i = monthNumber(d) - monthNumber(k.Anchor)
		if d.Before(k.start(i)) {
			i--
		}
	}
	return k.Cycle(i)
}

// CyclesBetween returns, in order, every cycle that has a day in [from, to); none when to is not
// after from.
func (k Cadence) CyclesBetween(from, to date.Date) []Cycle {
	if !from.Before(to) {
		return nil
	}
	var out []Cycle
	for c := k.CycleOf(from); c.Start.Before(to); c = k.Cycle(c.Index + 1) {
		out = append(out, c)
	}
	return out
}

func monthNumber(d date.Date) int { return d.Year()*12 + int(d.Month()) - 1 }

func daysInMonth(y int, m time.Month) int {
	return time.Date(y, m+1, 0, 0, 0, 0, 0, time.UTC).Day()
}

// floorDiv divides rounding towards minus infinity, so that days before the anchor fall in
// negative cycles rather than in cycle 0.
func floorDiv(a, b int) int {
	q := a / b
	if a%b != 0 && (a < 0) != (b < 0) {
		q--
	}
	return q
}
