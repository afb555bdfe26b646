package payment

import (
	"fmt"
	"slices"

	"github.com/google/uuid"

	"github.com/pbudget/pbudget/internal/apperr"
	"github.com/pbudget/pbudget/internal/date"
	"github.com/pbudget/pbudget/internal/money"
)

// Basis is whether a direct payment is paid net (the council's share; the person pays their
// contribution into the account) or gross (the whole cost; the person is invoiced). ISF agreements
// are paid net: the provider holds the council's share.
type Basis string

// The bases.
const (
	Net   Basis = "net"
	Gross Basis = "gross"
)

// Period is a span in which an agreement is in force, [Start, End); End nil is open.
type Period struct {
	Start date.Date
	End   *date.Date
}

// Suspension stops an agreement's cycles from From; To is the day payments resume (exclusive end,
// nil while suspended). Its days are owed only when the resumption says BackPay.
type Suspension struct {
	From    date.Date
	To      *date.Date
	BackPay bool
}

// Amount is the agreement's annual figures from an effective date until the next Amount's: the
// option's whole annual cost and the council's share of it. A revised plan or a backdated
// contribution adds an Amount; it never edits one that has been paid against.
type Amount struct {
	From          date.Date
	Annual        int64 // pence a year: the option's whole cost
	CouncilAnnual int64 // pence a year: the council's share
}

// Agreement is what the rules need of a direct-payment or ISF agreement: its frequency and basis,
// its periods in force, its suspensions and its amount history.
type Agreement struct {
	ID          uuid.UUID
	Frequency   Frequency
	Basis       Basis
	Periods     []Period     // in order, not overlapping
	Suspensions []Suspension // in order, not overlapping
	Amounts     []Amount     // in order of From; the first applies from the first period's start
}

// forever stands for an open end; far enough that no cycle reaches it.
var forever = date.Of(9999, 12, 31)

func endOr(e *date.Date) date.Date {
	if e == nil {
		return forever
	}
	return *e
}

// Validate checks the agreement's shape, naming the field at fault: every rule below relies on
// ordered, non-overlapping periods and suspensions and an amount for every day in force.
func (a Agreement) Validate() error {
	var f apperr.Fields
	if !a.Frequency.HasCycles() && a.Frequency != OneOffOnly {
		f.Add("/frequency", "unsupported", "the frequency is four_weekly, two_weekly, monthly or one_off")
	}
	if a.Basis != Net && a.Basis != Gross {
		f.Add("/basis", "unsupported", "the basis is net or gross")
	}
	if len(a.Periods) == 0 {
		f.Add("/periods", "required", "an agreement has at least one period in force")
	}
	for i, p := range a.Periods {
		if p.End != nil && !p.End.After(p.Start) {
			f.Add(fmt.Sprintf("/periods/%d/end", i), "not_after_start", "a period ends after it starts")
		}
		if i > 0 && p.Start.Before(endOr(a.Periods[i-1].End)) {
			f.Add(fmt.Sprintf("/periods/%d/start", i), "overlaps", "periods are in order and do not overlap")
		}
	}
	for i, s := range a.Suspensions {
		if s.To != nil && !s.To.After(s.From) {
			f.Add(fmt.Sprintf("/suspensions/%d/to", i), "not_after_from", "a suspension resumes after it starts")
		}
		if i > 0 && s.From.Before(endOr(a.Suspensions[i-1].To)) {
			f.Add(fmt.Sprintf("/suspensions/%d/from", i), "overlaps", "suspensions are in order and do not overlap")
		}
	}
	if len(a.Amounts) == 0 {
		f.Add("/amounts", "required", "an agreement has at least one amount")
	}
	for i, m := range a.Amounts {
		if m.Annual < 0 || m.CouncilAnnual < 0 || m.CouncilAnnual > m.Annual {
			f.Add(fmt.Sprintf("/amounts/%d/council_annual", i), "out_of_range", "0 ≤ council share ≤ annual cost")
		}
		if i > 0 && !m.From.After(a.Amounts[i-1].From) {
			f.Add(fmt.Sprintf("/amounts/%d/from", i), "not_in_order", "amounts are in order of their effective dates")
		}
	}
	if len(a.Amounts) > 0 && len(a.Periods) > 0 && a.Amounts[0].From.After(a.Periods[0].Start) {
		f.Add("/amounts/0/from", "after_start", "the first amount applies from the agreement's start")
	}
	return f.Err()
}

// PerCycle is the amount of a whole cycle at m: net → the council's share, gross → the whole cost,
// ÷ 13 (four-weekly), 26 (two-weekly) or 12 (monthly), to the nearest penny, halves up; 0 for an
// agreement without cycles.
func (a Agreement) PerCycle(m Amount) int64 {
	if !a.Frequency.HasCycles() {
		return 0
	}
	annual := m.Annual
	if a.Basis == Net {
		annual = m.CouncilAnnual
	}
	return money.DivRound(annual, a.Frequency.PerYear())
}

// InForce reports whether d is in one of the agreement's periods.
func (a Agreement) InForce(d date.Date) bool {
	for _, p := range a.Periods {
		if !d.Before(p.Start) && d.Before(endOr(p.End)) {
			return true
		}
	}
	return false
}

// SuspendedOn reports whether a suspension covers d (with or without back pay: a suspended
// agreement is not paid until it resumes).
func (a Agreement) SuspendedOn(d date.Date) bool {
	for _, s := range a.Suspensions {
		if !d.Before(s.From) && d.Before(endOr(s.To)) {
			return true
		}
	}
	return false
}

// Piece is a run of days of one cycle owed at one per-cycle amount, and its share of the
// cycle's amount.
type Piece struct {
	From, To date.Date // [From, To)
	PerCycle int64     // the whole cycle's amount at these days' figures
	Amount   int64     // this piece's share, see Owed
}

// Days is the number of days in the piece.
func (p Piece) Days() int { return p.To.DaysSince(p.From) }

// Owed is what an agreement owes for one cycle.
type Owed struct {
	split       bool // owed at more than one per-cycle amount
	Cycle       Cycle
	Amount      int64
	DaysInForce int // days of the cycle in a period of the agreement
	DaysOwed    int // of those, days not suspended without back pay
	Pieces      []Piece
}

// Owed is the amount the agreement owes for cycle c (DOMAIN.md section 11):
//
//	owed = Σ over the days owed of the per-cycle amount in force that day ÷ days in the cycle,
//	       to the nearest penny, halves up, rounded once for the whole cycle
//
// A whole cycle at one amount owes exactly the per-cycle amount; a part cycle (the first, the
// last, suspended days without back pay) owes per-cycle × days ÷ days in the cycle. A cycle split
// by a change of amount is prorated piecewise, but the pieces are added before the one rounding,
// so a split cycle is never a penny out because two halves each rounded up. The pieces' own
// amounts are apportioned by cumulative rounding (each is the rounded running total less the
// rounded running total before it), so they add up to the cycle's amount exactly.
func (a Agreement) Owed(c Cycle) Owed { return a.owe(c, true) }

// owe computes Owed, with its pieces when asked for them (a run needs only the amount).
func (a Agreement) owe(c Cycle, pieces bool) Owed {
	o := Owed{Cycle: c}
	var inForce []span
	for _, p := range a.Periods {
		if s := (span{later(p.Start, c.Start), earlier(endOr(p.End), c.End)}); s.from.Before(s.to) {
			inForce = append(inForce, s)
		}
	}
	owed := inForce
	for _, s := range a.Suspensions {
		if !s.BackPay {
			owed = subtract(owed, span{s.From, endOr(s.To)})
		}
	}
	for _, s := range inForce {
		o.DaysInForce += s.days()
	}
	var num, before, last int64
	n := 0
	days := int64(c.Days())
	for _, s := range owed {
		o.DaysOwed += s.days()
		for i, m := range a.Amounts {
			until := forever
			if i+1 < len(a.Amounts) {
				until = a.Amounts[i+1].From
			}
			if i == 0 {
				m.From = date.Of(1, 1, 1) // Validate makes the first amount cover the start
			}
			piece := span{later(s.from, m.From), earlier(s.to, until)}
			if !piece.from.Before(piece.to) {
				continue
			}
			per := a.PerCycle(m)
			num += per * int64(piece.days())
			total := money.DivRound(num, days)
			if pieces {
				o.Pieces = append(o.Pieces, Piece{From: piece.from, To: piece.to, PerCycle: per, Amount: total - before})
			}
			if n++; n > 1 && per != last {
				o.split = true
			}
			before, last = total, per
		}
	}
	o.Amount = before
	return o
}

// span is a run of days [from, to).
type span struct{ from, to date.Date }

func (s span) days() int { return s.to.DaysSince(s.from) }

// subtract removes cut from each span of spans (kept in order).
func subtract(spans []span, cut span) []span {
	var out []span
	for _, s := range spans {
		if !cut.from.Before(s.to) || !s.from.Before(cut.to) {
			out = append(out, s)
			continue
		}
		if s.from.Before(cut.from) {
			out = append(out, span{s.from, cut.from})
		}
		if cut.to.Before(s.to) {
			out = append(out, span{cut.to, s.to})
		}
	}
	return out
}

func later(a, b date.Date) date.Date { return date.Later(a, b) }

func earlier(a, b date.Date) date.Date {
	if a.Before(b) {
		return a
	}
	return b
}

// cyclesOf returns, in order, the cycles of k the agreement must account for up to through: every
// cycle with a day in force that starts on or before through, and every cycle named by a line
// already taken (sorted by cycle start; a cycle paid before the agreement was shortened still
// needs its adjustment).
func (a Agreement) cyclesOf(k Cadence, through date.Date, taken []Taken) ([]Cycle, error) {
	if !a.Frequency.HasCycles() {
		if len(taken) > 0 {
			return nil, ErrCycleStart.WithMessage("agreement %s has no cycles, but a line names %s", a.ID, taken[0].CycleStart)
		}
		return nil, nil
	}
	var out []Cycle
	limit := through.AddDays(1)
	for _, p := range a.Periods {
		out = append(out, k.CyclesBetween(p.Start, earlier(endOr(p.End), limit))...)
	}
	for i, t := range taken {
		if i > 0 && t.CycleStart.Equal(taken[i-1].CycleStart) {
			continue
		}
		c := k.CycleOf(t.CycleStart)
		if !c.Start.Equal(t.CycleStart) {
			return nil, ErrCycleStart.WithMessage("a line of agreement %s names %s, which is not the start of a %s cycle", a.ID, t.CycleStart, k.Frequency)
		}
		out = append(out, c)
	}
	slices.SortFunc(out, func(x, y Cycle) int { return x.Index - y.Index })
	return slices.CompactFunc(out, func(x, y Cycle) bool { return x.Index == y.Index }), nil
}

// ErrCycleStart is a line whose cycle start is not a cycle of the agreement's cadence: the anchor
// moved after cycles were paid, or the agreement's frequency changed.
var ErrCycleStart = apperr.New(apperr.Conflict, "payment-cycle-moved",
	"a paid line names a cycle that is not a cycle of the agreement's calendar: anchors and frequencies must not change once paid")
