package payment

import (
	"bytes"
	"cmp"
	"fmt"
	"slices"
	"sort"
	"strconv"

	"github.com/google/uuid"

	"github.com/pbudget/pbudget/internal/apperr"
	"github.com/pbudget/pbudget/internal/date"
	"github.com/pbudget/pbudget/internal/money"
	"github.com/pbudget/pbudget/internal/recovery"
)

// Kind is what a line of a run pays.
type Kind string

// The kinds of line, in the order a run lists an agreement's lines.
const (
	KindCycle       Kind = "cycle"       // a cycle's payment in advance: once per (agreement, cycle)
	KindAdjustment  Kind = "adjustment"  // owed − taken for a cycle paid before its amount changed
	KindOneOff      Kind = "one_off"     // an approved one-off payment
	KindCarried     Kind = "carried"     // a negative net carried forward (+) or brought forward (−)
	KindOverpayment Kind = "overpayment" // a negative net with nothing left to offset, moved to recovery (+)
	KindRecovery    Kind = "recovery"    // a recovery's offset against the cycle's payment (−): once per (recovery, cycle)
)

var kindOrder = map[Kind]int{KindCycle: 0, KindAdjustment: 1, KindOneOff: 2, KindCarried: 3, KindOverpayment: 4, KindRecovery: 5}

// The reasons of the lines a run adds to balance an agreement (the others say what they pay).
const (
	ReasonCycle          = "cycle in advance"
	ReasonAdjustment     = "the cycle's owed amount changed after it was taken"
	ReasonCarriedForward = "net below zero: carried forward to the next run"
	ReasonBroughtForward = "net below zero in an earlier run: brought forward"
	ReasonOverpayment    = "paid for days no longer owed, with no later payment to offset: recorded as an overpayment to recover"
	ReasonSuspended      = "suspended on the pay date"
)

// Line is one line of a payment run. Its key, stored with a unique index, makes each payment
// possible once (see the package documentation):
//
//	cycle        (agreement, cycle start)
//	adjustment   (agreement, cycle start, seq)
//	one_off      (agreement, one-off id)
//	carried −    (agreement, carried from: the run that carried it forward)
//	carried +    (agreement, run)  — Carry is this run's id
//	overpayment  (agreement, run)
//	recovery     (recovery, cycle start) — the cycle of the run's cycle line it offsets
type Line struct {
	AgreementID uuid.UUID
	Kind        Kind
	CycleStart  date.Date // cycle and adjustment lines
	CycleEnd    date.Date // exclusive
	Seq         int       // adjustment lines: 1 + the highest seq taken for the cycle
	OneOffID    uuid.UUID // one_off lines
	Carry       uuid.UUID // carried lines: the run that carried the amount forward
	RecoveryID  uuid.UUID // recovery lines: the recovery whose offset it is
	Amount      int64     // pence; negative only for adjustments and amounts brought forward
	Owed        int64     // cycle and adjustment lines: what the cycle owes now
	Taken       int64     // adjustment lines: what earlier lines took for the cycle (Amount = Owed − Taken)
	Reason      string    // for people; never personal data
	Held        bool
	HoldReason  string
}

// Carry is an agreement's negative net that a run carried forward, to be brought forward (taken
// once) by the agreement's next run.
type Carry struct {
	AgreementID uuid.UUID
	FromRun     uuid.UUID
	Amount      int64 // negative
}

// OneOff is an approved one-off payment not yet taken by a run: a plan line's one-off cost or an
// ad hoc amount approved with a reason.
type OneOff struct {
	ID     uuid.UUID
	Amount int64     // > 0
	Due    date.Date // taken by the first run whose horizon reaches it; zero: the next run
	Reason string
}

// Overpayment is money paid for days no longer owed that no later payment can offset: the amount
// to recover (the recovery workflow records it with its basis, "overpayment after end").
type Overpayment struct {
	AgreementID uuid.UUID
	Amount      int64 // > 0
	Reason      string
}

// Skip is an agreement a run paid nothing, and why.
type Skip struct {
	AgreementID uuid.UUID
	Reason      string
}

// RunAgreement is an agreement as a run sees it.
type RunAgreement struct {
	Agreement
	Taken   []Taken  // its cycle and adjustment lines already taken by runs
	Carries []Carry  // its negative nets carried forward and not yet brought forward
	OneOffs []OneOff // its approved one-offs not yet taken
	Block   string   // when set, the run takes nothing for it (not signed, plan no longer approved …): the reason
	Hold    string   // when set, its lines are built held (bank details awaiting confirmation …): the reason
	// Offsets are the recoveries by offset taking from its payments now (notified, not disputed),
	// in the order they are taken.
	Offsets []RecoveryOffset
}

// RecoveryOffset is a recovery by offset as a run sees it: what is left to take, over how many
// cycles still to come (internal/recovery.PlanOffsets spreads it; each cycle's offset is at most
// what the run pays the agreement, so a payment never goes below zero).
type RecoveryOffset struct {
	RecoveryID uuid.UUID
	Left       int64 // the amount − recovered − written off − offsets already taken by unpaid runs
	CyclesLeft int   // the recovery's cycles − the cycles already offset
}

// RunInput is what a run is built from.
type RunInput struct {
	RunID      uuid.UUID
	PayDate    date.Date
	Calendar   Calendar
	Agreements []RunAgreement
}

// Run is a built run: its lines in a stable order (by agreement id, kind, cycle, seq), the
// amounts it carried forward, the overpayments it found and the agreements it skipped.
type Run struct {
	Lines        []Line
	Carries      []Carry
	Overpayments []Overpayment
	Skipped      []Skip
}

// Horizon is the last day a cycle may start on to be taken by a run paying on payDate.
func (c Calendar) Horizon(payDate date.Date) date.Date { return payDate.AddDays(c.LeadDays) }

// BuildRun builds the lines of a run paying on in.PayDate (DOMAIN.md section 11, "Payment runs"):
//
//   - every cycle not yet taken, with a day in force, starting on or before pay date + lead days,
//     at what it owes (so an agreement set up late catches up its past cycles);
//   - for every cycle already taken whose owed amount has changed since (a revised plan, a
//     backdated contribution, a suspension or an ending after payment), an adjustment of
//     owed − taken, positive or negative — never a second cycle line;
//   - the negative nets carried forward by earlier runs, brought forward;
//   - the approved one-offs due by the horizon;
//   - then, when an agreement's lines net below zero, it is paid nothing: a carried line makes its
//     net zero and the amount is carried forward to its next run, or, when the agreement has no
//     later day in force to offset it against, recorded as an overpayment to recover.
//
// An agreement that is blocked, or suspended on the pay date while in force, gets no lines. A held
// agreement's lines are built held when they would pay something (nothing is held when nothing
// is paid). Money never flows to an agreement below zero: each agreement's unheld lines add up to
// zero or more.
func BuildRun(in RunInput) (Run, error) {
	if err := in.Calendar.Validate(); err != nil {
		return Run{}, err
	}
	order := make([]*RunAgreement, len(in.Agreements))
	for i := range in.Agreements {
		order[i] = &in.Agreements[i]
	}
	slices.SortFunc(order, func(a, b *RunAgreement) int { return bytes.Compare(a.ID[:], b.ID[:]) })
	// About a cycle line per agreement, and a few adjustments: room for them all at once.
	run := Run{Lines: make([]Line, 0, len(order)+len(order)/4)}
	horizon := in.Calendar.Horizon(in.PayDate)
	for i, ra := range order {
		if i > 0 && ra.ID == order[i-1].ID {
			return Run{}, apperr.Validation(apperr.FieldError{Field: "/agreements", In: "body", Code: "duplicate",
				Message: fmt.Sprintf("agreement %s is listed twice", ra.ID)})
		}
		if ra.Block != "" {
			run.Skipped = append(run.Skipped, Skip{ra.ID, ra.Block})
			continue
		}
		if ra.InForce(in.PayDate) && ra.SuspendedOn(in.PayDate) {
			run.Skipped = append(run.Skipped, Skip{ra.ID, ReasonSuspended})
			continue
		}
		var err error
		var carry *Carry
		var over *Overpayment
		if run.Lines, carry, over, err = agreementLines(in.Calendar, in.RunID, horizon, ra, run.Lines); err != nil {
			return Run{}, err
		}
		if carry != nil {
			run.Carries = append(run.Carries, *carry)
		}
		if over != nil {
			run.Overpayments = append(run.Overpayments, *over)
		}
	}
	return run, nil
}

// agreementLines appends one agreement's lines of a run to out.
func agreementLines(cal Calendar, runID uuid.UUID, horizon date.Date, ra *RunAgreement, out []Line) ([]Line, *Carry, *Overpayment, error) {
	if err := ra.Validate(); err != nil {
		return nil, nil, nil, err
	}
	var k Cadence // none for a one_off agreement
	if ra.Frequency.HasCycles() {
		var err error
		if k, err = cal.Cadence(ra.Frequency); err != nil {
			return nil, nil, nil, err
		}
	}
	taken := sortTaken(ra.Taken)
	cycles, err := ra.cyclesOf(k, horizon, taken)
	if err != nil {
		return nil, nil, nil, err
	}
	first := len(out)
	next := 0 // taken[next:] are the lines of this and later cycles
	for _, c := range cycles {
		owed := ra.owe(c, false)
		var got int64
		hasCycle, seq := false, 0
		for ; next < len(taken) && taken[next].CycleStart.Equal(c.Start); next++ {
			t := taken[next]
			got += t.Amount
			switch t.Kind {
			case KindCycle:
				if hasCycle {
					return nil, nil, nil, ErrPaidTwice.WithMessage("agreement %s has two cycle lines for %s", ra.ID, c)
				}
				hasCycle = true
			case KindAdjustment:
				seq = max(seq, t.Seq)
			}
		}
		switch {
		case hasCycle || got != 0:
			// Taken already. (Adjustments without a cycle line: the bank returned the cycle's
			// payment after the cycle was adjusted; the cycle is unpaid again, and the adjustment
			// pays what is still owed rather than a cycle line that would ignore the adjustments.)
			if owed.Amount != got {
				out = append(out, Line{AgreementID: ra.ID, Kind: KindAdjustment, CycleStart: c.Start, CycleEnd: c.End,
					Seq: seq + 1, Amount: owed.Amount - got, Owed: owed.Amount, Taken: got, Reason: ReasonAdjustment})
			}
		case owed.Amount > 0 && !c.Start.After(horizon):
			out = append(out, Line{AgreementID: ra.ID, Kind: KindCycle, CycleStart: c.Start, CycleEnd: c.End,
				Amount: owed.Amount, Owed: owed.Amount, Reason: cycleReason(owed)})
		}
	}
	for _, cf := range ra.Carries {
		if cf.Amount >= 0 {
			return nil, nil, nil, apperr.Validation(apperr.FieldError{Field: "/carries", In: "body", Code: "not_negative",
				Message: "a carried amount is negative"})
		}
		out = append(out, Line{AgreementID: ra.ID, Kind: KindCarried, Carry: cf.FromRun, Amount: cf.Amount, Reason: ReasonBroughtForward})
	}
	for _, o := range ra.OneOffs {
		if o.Amount <= 0 {
			return nil, nil, nil, apperr.Validation(apperr.FieldError{Field: "/one_offs", In: "body", Code: "not_positive",
				Message: "a one-off payment is more than zero"})
		}
		if !o.Due.After(horizon) {
			out = append(out, Line{AgreementID: ra.ID, Kind: KindOneOff, OneOffID: o.ID, Amount: o.Amount, Reason: o.Reason})
		}
	}
	var net int64
	for _, l := range out[first:] {
		net += l.Amount
	}
	if net > 0 && len(ra.Offsets) > 0 {
		var lines []Line
		if lines, err = offsetLines(ra, out[first:], net); err != nil {
			return nil, nil, nil, err
		}
		for _, l := range lines {
			net += l.Amount
		}
		out = append(out, lines...)
	}
	var carry *Carry
	var over *Overpayment
	switch {
	case net < 0 && ra.laterDayInForce(k, horizon):
		out = append(out, Line{AgreementID: ra.ID, Kind: KindCarried, Carry: runID, Amount: -net, Reason: ReasonCarriedForward})
		carry = &Carry{AgreementID: ra.ID, FromRun: runID, Amount: net}
	case net < 0:
		out = append(out, Line{AgreementID: ra.ID, Kind: KindOverpayment, Carry: runID, Amount: -net, Reason: ReasonOverpayment})
		over = &Overpayment{AgreementID: ra.ID, Amount: -net, Reason: ReasonOverpayment}
	case net > 0 && ra.Hold != "":
		for i := first; i < len(out); i++ {
			out[i].Held, out[i].HoldReason = true, ra.Hold
		}
	}
	slices.SortStableFunc(out[first:], lineCompare)
	return out, carry, over, nil
}

// offsetLines are the recovery lines of an agreement whose other lines net to net (> 0): for each
// recovery, this cycle's instalment (recovery.PlanOffsets over the cycles left), at most what is
// still to pay, against the latest cycle the run pays. A run without a cycle line for the
// agreement (adjustments or one-offs alone) takes no offset: offsets follow cycles.
func offsetLines(ra *RunAgreement, lines []Line, net int64) ([]Line, error) {
	var cycle *Line
	for i := range lines {
		if lines[i].Kind == KindCycle && (cycle == nil || lines[i].CycleStart.After(cycle.CycleStart)) {
			cycle = &lines[i]
		}
	}
	if cycle == nil {
		return nil, nil
	}
	var out []Line
	for _, o := range ra.Offsets {
		if o.Left <= 0 || o.CyclesLeft <= 0 || net <= 0 {
			continue
		}
		plan, err := recovery.PlanOffsets(o.Left, o.CyclesLeft, []int64{net})
		if err != nil {
			return nil, err
		}
		take := plan.PerCycle[0]
		if take <= 0 {
			continue
		}
		net -= take
		out = append(out, Line{AgreementID: ra.ID, Kind: KindRecovery, CycleStart: cycle.CycleStart, CycleEnd: cycle.CycleEnd,
			RecoveryID: o.RecoveryID, Amount: -take, Reason: ReasonRecoveryOffset})
	}
	return out, nil
}

// ReasonRecoveryOffset is the reason of a recovery line.
const ReasonRecoveryOffset = "recovery by offset: this cycle's instalment, never more than the payment"

// lineCompare orders an agreement's lines: by kind, then cycle, then seq, then the run carried
// from, then the one-off, then amount (brought forward before carried forward).
func lineCompare(a, b Line) int {
	if a.Kind != b.Kind {
		return kindOrder[a.Kind] - kindOrder[b.Kind]
	}
	if c := a.CycleStart.Compare(b.CycleStart); c != 0 {
		return c
	}
	if a.Seq != b.Seq {
		return a.Seq - b.Seq
	}
	if c := bytes.Compare(a.Carry[:], b.Carry[:]); c != 0 {
		return c
	}
	if c := bytes.Compare(a.OneOffID[:], b.OneOffID[:]); c != 0 {
		return c
	}
	if c := bytes.Compare(a.RecoveryID[:], b.RecoveryID[:]); c != 0 {
		return c
	}
	return cmp.Compare(a.Amount, b.Amount)
}

// laterDayInForce reports whether the agreement will owe for a cycle a later run takes: a day in
// force from the first cycle starting after horizon. Without one, nothing can offset a negative
// net, and it is an overpayment.
func (a Agreement) laterDayInForce(k Cadence, horizon date.Date) bool {
	next := horizon.AddDays(1) // without cycles: a later run's horizon
	if a.Frequency.HasCycles() {
		next = k.CycleOf(horizon).End
	}
	for _, p := range a.Periods {
		if endOr(p.End).After(next) {
			return true
		}
	}
	return false
}

func cycleReason(o Owed) string {
	days := o.Cycle.Days()
	switch {
	case o.DaysOwed == days && !o.split:
		return ReasonCycle
	case o.split:
		return "pro rata: " + strconv.Itoa(o.DaysOwed) + " of " + strconv.Itoa(days) + " days, split by a change of amount"
	}
	return "pro rata: " + strconv.Itoa(o.DaysOwed) + " of " + strconv.Itoa(days) + " days"
}

// ErrPaidTwice is a cycle with two cycle lines: the database's unique key should have made it
// impossible.
var ErrPaidTwice = apperr.New(apperr.Internal, "payment-cycle-paid-twice", "a cycle has two cycle lines")

// Payment is what a run pays one agreement: the sum of its unheld lines.
type Payment struct {
	AgreementID uuid.UUID
	Amount      int64
}

// Payments adds up a run's unheld lines by agreement, in order of agreement id, leaving out
// agreements paid nothing. It is an error for an agreement's unheld lines to add up below zero
// (a hold on one line of an agreement that nets other lines against it): hold the agreement's
// lines together.
func Payments(lines []Line) ([]Payment, error) {
	sums := map[uuid.UUID]int64{}
	for _, l := range lines {
		if !l.Held {
			sums[l.AgreementID] += l.Amount
		}
	}
	out := make([]Payment, 0, len(sums))
	for id, s := range sums {
		if s < 0 {
			return nil, ErrNegativePayment.WithMessage("agreement %s would be paid %s: hold all its lines or none", id, money.Format(s))
		}
		if s > 0 {
			out = append(out, Payment{id, s})
		}
	}
	sort.Slice(out, func(i, j int) bool { return bytes.Compare(out[i].AgreementID[:], out[j].AgreementID[:]) < 0 })
	return out, nil
}

// ErrNegativePayment is an agreement whose lines in a run would pay less than nothing.
var ErrNegativePayment = apperr.New(apperr.RuleViolation, "payment-below-zero",
	"an agreement's lines in a run add up below zero: offsets never make a payment negative")
