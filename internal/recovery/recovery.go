// Package recovery is the pure rules of recovering direct-payment money (DOMAIN.md section 11,
// "Recovery"; invariant 17): what may be recovered (the council's share only, with a written
// reason), how (an invoice due in 14 days, offsets against future payments over N cycles that
// never make a payment negative, or a prepaid card recoup), and a recovery's life from proposed
// to recovered or written off. It has no database and no clock.
//
// Offsets reach the payment runs as adjustment lines (see internal/payment): for each cycle the
// run pays, the recovery's offset for that cycle is a negative adjustment, at most the cycle's
// payment, so the run's net for the agreement stays at zero or more and payment.Payments never
// sees a negative payment. Store each offset taken with a unique key (council_id, recovery_id,
// cycle_start) so that a cycle is offset once, and recompute PlanOffsets from what is left
// (Amount − Recovered) and the cycles still to come whenever a run is built.
package recovery

import (
	"fmt"

	"github.com/pbudget/pbudget/internal/account"
	"github.com/pbudget/pbudget/internal/apperr"
	"github.com/pbudget/pbudget/internal/date"
	"github.com/pbudget/pbudget/internal/reason"
)

// Basis is why money is recovered.
type Basis string

// The bases of a recovery.
const (
	Surplus          Basis = "surplus"               // an audit found more than the contingency in the account
	Misspend         Basis = "misspend"              // money used outside the plan
	OverpaymentEnded Basis = "overpayment_after_end" // paid for days after the agreement ended
	ISFSurplus       Basis = "isf_surplus"           // an ISF provider's balance flagged by Dorset's rule (internal/isf)
)

// Limits of a recovery.
const (
	MaxCycles        = 26 // an offset runs over at most two years of four-weekly cycles
	InvoiceDueDays   = 14 // an invoice is due 14 days after notice
	maxGroundsLength = reason.MaxLength
)

// Method is how money is recovered.
type Method string

// The methods of recovery.
const (
	Invoice    Method = "invoice"     // the person pays an invoice, due InvoiceDueDays after notice
	Offset     Method = "offset"      // future payments are reduced over N cycles
	CardRecoup Method = "card_recoup" // the council takes the money back from the prepaid card
)

// Excess is what happens to the person's share of a surplus (their excess contribution).
type Excess string

// The treatments of the person's excess contribution.
const (
	Refund             Excess = "refund"               // paid back to the person
	KeepAsContribution Excess = "keep_as_contribution" // left in the account, counted against future contributions
)

// Proposal is a recovery as proposed.
type Proposal struct {
	Basis        Basis
	Amount       int64 // pence to recover, > 0
	CouncilShare int64 // the council's share of the basis: surplus → dpaudit.Surplus.CouncilShare; misspend → its council share (dpaudit.Shares); overpayment → all of it; ISF surplus → the excess less the person's share
	PersonExcess int64 // the person's share of a surplus (an audit's or an ISF's): never recovered
	Excess       Excess
	Reason       string
	Method       Method
	Cycles       int  // offset: over how many cycles (1–26)
	CardAccount  bool // the account is a prepaid card (card recoup needs one)
}

// The rules a proposal can break (422s naming the rule).
var (
	ErrCouncilShareOnly = apperr.New(apperr.RuleViolation, "recovery-council-share-only",
		"only the council's share is recovered: the amount is more than the council's share")
	ErrCardRecoup = apperr.New(apperr.RuleViolation, "recovery-card-recoup-needs-card",
		"a card recoup needs a prepaid card account")
)

// Propose checks a proposal and returns it cleaned (the reason trimmed). Malformed fields are a
// validation error; then the rules: the amount at most the council's share (the person's excess
// contribution is refunded or kept, never recovered), a card recoup only from a card, and a
// written reason (reason.ErrRequired).
func Propose(p Proposal) (Proposal, error) {
	var f apperr.Fields
	switch p.Basis {
	case Surplus, Misspend, OverpaymentEnded, ISFSurplus:
	default:
		f.Add("/basis", "enum", "basis is surplus, misspend, overpayment_after_end or isf_surplus")
	}
	if p.Amount <= 0 || p.Amount > account.MaxAmount {
		f.Add("/amount_pence", "out_of_range", "the amount to recover is more than zero and at most £1bn")
	}
	if p.CouncilShare < 0 || p.CouncilShare > account.MaxAmount {
		f.Add("/council_share_pence", "out_of_range", "the council's share is between zero and £1bn")
	}
	if p.PersonExcess < 0 || p.PersonExcess > account.MaxAmount {
		f.Add("/person_excess_pence", "out_of_range", "the person's excess is between zero and £1bn")
	}
	switch {
	case p.PersonExcess > 0 && p.Excess != Refund && p.Excess != KeepAsContribution:
		f.Add("/excess", "required", "say whether the person's excess contribution is refunded or kept as contribution")
	case p.PersonExcess == 0 && p.Excess != "":
		f.Add("/excess", "no_excess", "there is no excess contribution to refund or keep")
	}
	switch p.Method {
	case Invoice, CardRecoup:
		if p.Cycles != 0 {
			f.Add("/cycles", "offset_only", "cycles apply to an offset only")
		}
	case Offset:
		if p.Cycles < 1 || p.Cycles > MaxCycles {
			f.Add("/cycles", "out_of_range", fmt.Sprintf("an offset runs over 1 to %d cycles", MaxCycles))
		}
	default:
		f.Add("/method", "enum", "method is invoice, offset or card_recoup")
	}
	if err := f.Err(); err != nil {
		return p, err
	}
	if p.Amount > p.CouncilShare {
		return p, ErrCouncilShareOnly.WithMessage("only the council's share is recovered: %d pence asked, the council's share is %d", p.Amount, p.CouncilShare)
	}
	if p.Method == CardRecoup && !p.CardAccount {
		return p, ErrCardRecoup
	}
	var err error
	p.Reason, err = reason.Require("/reason", p.Reason)
	return p, err
}

// Offsets is how a recovery by offset reduces the payments of the cycles to come.
type Offsets struct {
	PerCycle  []int64 // pence off each cycle's payment, in cycle order; each between 0 and that payment
	Remainder int64   // what the N cycles could not take: to recover another way (or by a new notice)
}

// PlanOffsets spreads amount over the next cycles (at most len(payments)) in equal instalments,
// the odd pennies on the first cycles (£100 over 3: £33.34, £33.33, £33.33). Each cycle's
// reduction is at most that cycle's payment, never making a payment negative; what a cycle cannot
// take spills over to the next cycle, and what is still owed after the last of the N cycles is
// the Remainder: offsets never go beyond the N cycles the person was notified of. payments are
// what each cycle would pay before the offset (zero for a suspended cycle); cycles beyond
// len(payments) are not known yet, and their instalments are part of the remainder until they
// are.
func PlanOffsets(amount int64, cycles int, payments []int64) (Offsets, error) {
	if amount < 0 || cycles < 1 {
		return Offsets{}, apperr.Validation(apperr.FieldError{Field: "/cycles", In: "body", Code: "out_of_range",
			Message: "an offset recovers zero or more over one cycle or more"})
	}
	for i, p := range payments {
		if p < 0 {
			return Offsets{}, apperr.Validation(apperr.FieldError{Field: fmt.Sprintf("/payments/%d", i), In: "body", Code: "not_negative",
				Message: "a cycle's payment before an offset is zero or more"})
		}
	}
	n := min(cycles, len(payments))
	out := Offsets{PerCycle: make([]int64, n)}
	base, odd := amount/int64(cycles), amount%int64(cycles)
	instalment := func(i int) int64 {
		if int64(i) < odd {
			return base + 1
		}
		return base
	}
	var carry int64
	for i := range n {
		want := instalment(i) + carry
		take := min(want, payments[i])
		out.PerCycle[i], carry = take, want-take
	}
	out.Remainder = carry
	for i := n; i < cycles; i++ {
		out.Remainder += instalment(i)
	}
	return out, nil
}

// InvoiceDue is the day an invoice recovery notified on notice is due.
func InvoiceDue(notice date.Date) date.Date { return notice.AddDays(InvoiceDueDays) }
