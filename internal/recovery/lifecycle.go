package recovery

import (
	"fmt"
	"strings"
	"unicode/utf8"

	"github.com/pbudget/pbudget/internal/apperr"
	"github.com/pbudget/pbudget/internal/date"
	"github.com/pbudget/pbudget/internal/reason"
)

// State is where a recovery is in its life.
type State string

// The states of a recovery.
const (
	Proposed      State = "proposed"
	Notified      State = "notified"       // the person has been told (notice date)
	Disputed      State = "disputed"       // the person disputes it: paused, no offsets, no invoice chasing
	PartRecovered State = "part_recovered" // some money recovered
	Recovered     State = "recovered"      // all of it
	WrittenOff    State = "written_off"    // what was left will not be recovered (finance, with a reason)
)

// EventKind is what happens to a recovery.
type EventKind string

// The events of a recovery's life.
const (
	Notify   EventKind = "notify"    // the notice is sent (On: the notice date)
	Dispute  EventKind = "dispute"   // the person disputes it, with their grounds
	Resume   EventKind = "resume"    // the dispute is answered and the recovery goes on (a reason)
	Record   EventKind = "record"    // money recovered (Amount): an invoice paid, an offset taken, a recoup
	WriteOff EventKind = "write_off" // finance writes off what is left (a reason)
)

// Transition is one row of the life cycle.
type Transition struct {
	From State
	On   EventKind
	To   State // Record: PartRecovered or Recovered by the amount; Resume: Notified or PartRecovered
	Rule string
}

// Transitions is the recovery's life cycle; anything else is refused naming what is allowed.
var Transitions = []Transition{
	{Proposed, Notify, Notified, "the notice date; an invoice falls due 14 days later"},
	{Proposed, WriteOff, WrittenOff, "finance, with a reason (withdrawn before notice)"},
	{Notified, Dispute, Disputed, "the person's grounds"},
	{Notified, Record, PartRecovered, "an amount up to what is outstanding (Recovered when it is all of it)"},
	{Notified, WriteOff, WrittenOff, "finance, with a reason"},
	{PartRecovered, Record, PartRecovered, "an amount up to what is outstanding (Recovered when it is all of it)"},
	{PartRecovered, Dispute, Disputed, "the person's grounds"},
	{PartRecovered, WriteOff, WrittenOff, "finance, with a reason: the rest is written off"},
	{Disputed, Resume, Notified, "a reason answering the grounds (PartRecovered when some was recovered before)"},
	{Disputed, WriteOff, WrittenOff, "finance, with a reason (the dispute upheld)"},
}

// Recovery is a recovery's state and money.
type Recovery struct {
	State      State
	Method     Method
	Amount     int64 // to recover
	Recovered  int64
	WrittenOff int64
	NoticeDate date.Date
	InvoiceDue date.Date // invoice: notice + 14 days
	Grounds    string    // the person's grounds while disputed
}

// Outstanding is what is still to recover.
func (r Recovery) Outstanding() int64 { return r.Amount - r.Recovered - r.WrittenOff }

// TakesOffsets reports whether payment runs take this recovery's offsets now: an offset
// recovery notified and not paused by a dispute, with money outstanding.
func (r Recovery) TakesOffsets() bool {
	return r.Method == Offset && (r.State == Notified || r.State == PartRecovered) && r.Outstanding() > 0
}

// Event is one event with what it carries.
type Event struct {
	Kind      EventKind
	On        date.Date
	Amount    int64  // record
	Grounds   string // dispute: the person's own words
	Reason    string // resume, write_off
	ByFinance bool   // write_off: the actor holds the finance role
}

// The errors of the life cycle.
var (
	ErrState        = apperr.New(apperr.Conflict, "recovery-state", "the recovery's state does not allow this")
	ErrOverRecovery = apperr.New(apperr.RuleViolation, "recovery-more-than-outstanding", "more money recorded than is outstanding")
	ErrFinanceOnly  = apperr.New(apperr.Forbidden, "recovery-write-off-finance", "only finance writes a recovery off")
)

// Apply applies ev to r and returns the recovery after it.
func Apply(r Recovery, ev Event) (Recovery, error) {
	var t *Transition
	var allowed []string
	for i := range Transitions {
		if Transitions[i].From == r.State {
			allowed = append(allowed, string(Transitions[i].On))
			if Transitions[i].On == ev.Kind {
				t = &Transitions[i]
			}
		}
	}
	if t == nil {
		msg := fmt.Sprintf("a recovery that is %s cannot %s", strings.ReplaceAll(string(r.State), "_", " "), strings.ReplaceAll(string(ev.Kind), "_", " "))
		if len(allowed) > 0 {
			msg += "; it can " + strings.ReplaceAll(strings.Join(allowed, ", "), "_", " ")
		} else {
			msg += "; it is finished"
		}
		return r, ErrState.WithMessage("%s", msg)
	}
	next := r
	next.State = t.To
	switch ev.Kind {
	case Notify:
		next.NoticeDate = ev.On
		if r.Method == Invoice {
			next.InvoiceDue = InvoiceDue(ev.On)
		}
	case Dispute:
		g := strings.Join(strings.Fields(ev.Grounds), " ")
		if n := utf8.RuneCountInString(g); n == 0 || n > maxGroundsLength {
			return r, apperr.Validation(apperr.FieldError{Field: "/grounds", In: "body", Code: "required",
				Message: fmt.Sprintf("record the person's grounds for the dispute (1 to %d characters)", maxGroundsLength)})
		}
		next.Grounds = g
	case Resume:
		if _, err := reason.Require("/reason", ev.Reason); err != nil {
			return r, err
		}
		if r.Recovered > 0 {
			next.State = PartRecovered
		}
		next.Grounds = ""
	case Record:
		if ev.Amount <= 0 {
			return r, apperr.Validation(apperr.FieldError{Field: "/amount_pence", In: "body", Code: "out_of_range", Message: "an amount recovered is more than zero"})
		}
		if ev.Amount > r.Outstanding() {
			return r, ErrOverRecovery.WithMessage("%d pence recorded, %d outstanding", ev.Amount, r.Outstanding())
		}
		next.Recovered += ev.Amount
		if next.Outstanding() == 0 {
			next.State = Recovered
		}
	case WriteOff:
		if !ev.ByFinance {
			return r, ErrFinanceOnly
		}
		if _, err := reason.Require("/reason", ev.Reason); err != nil {
			return r, err
		}
		next.WrittenOff += r.Outstanding()
	}
	return next, nil
}
