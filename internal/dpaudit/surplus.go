package dpaudit

import (
	"fmt"
	"math/bits"

	"github.com/pbudget/pbudget/internal/account"
	"github.com/pbudget/pbudget/internal/apperr"
	"github.com/pbudget/pbudget/internal/money"
)

// Liability is money the account still owes at the period's end (an unpaid invoice, wages due).
// Only evidenced liabilities reduce the surplus.
type Liability struct {
	Description string // e.g. "agency invoice for March"; never personal data
	Amount      int64  // pence, > 0
	Evidenced   bool
}

// SurplusInput is what the surplus is computed from.
type SurplusInput struct {
	Closing          int64 // the account's balance at the period's end (Reconciliation.Closing)
	Liabilities      []Liability
	WeeklyPayment    int64 // the council's weekly payment (per-cycle payment ÷ weeks per cycle)
	ContingencyWeeks int   // Settings.ContingencyWeeks
	// The money paid in over the period, by whom: the basis of the person's share.
	ContributionsReceived int64
	CouncilPayments       int64
}

// Surplus is the surplus and its shares, with the steps that explain them.
type Surplus struct {
	Closing                int64
	Liabilities            int64 // evidenced
	UnevidencedLiabilities int64 // declared but not evidenced: not deducted
	Contingency            int64
	Surplus                int64
	PersonShare            int64
	CouncilShare           int64
	Steps                  []money.Step
}

// The names of the surplus steps.
const (
	StepClosing      = "closing_balance"
	StepLiabilities  = "declared_liabilities"
	StepContingency  = "contingency"
	StepSurplus      = "surplus"
	StepPersonShare  = "person_share"
	StepCouncilShare = "council_share"
)

// ComputeSurplus applies DOMAIN.md's rule (invariant 16):
//
//	surplus       = max(0, closing − evidenced liabilities − contingency weeks × weekly payment)
//	person share  = ⌊surplus × contributions received ÷ (contributions received + council payments)⌋
//	council share = surplus − person share
//
// so the shares add up to the surplus exactly, and the rounding penny goes to the council (the
// person's share is their own money returned, never more than their proportion). With no money
// paid in over the period at all, the person's share is 0 and the surplus is the council's: the
// only money in the account then is what earlier periods left, of which the council paid by far
// the most; pass a longer basis period in ContributionsReceived and CouncilPayments when that is
// not so.
func ComputeSurplus(in SurplusInput) (Surplus, error) {
	var f apperr.Fields
	for i, l := range in.Liabilities {
		if l.Amount <= 0 || l.Amount > account.MaxAmount {
			f.Add(fmt.Sprintf("/liabilities/%d/amount_pence", i), "out_of_range", "a liability is more than zero and at most £1bn")
		}
	}
	if in.WeeklyPayment < 0 || in.WeeklyPayment > account.MaxAmount {
		f.Add("/weekly_payment_pence", "out_of_range", "the weekly payment is between zero and £1bn")
	}
	if in.ContingencyWeeks < 0 || in.ContingencyWeeks > 52 {
		f.Add("/contingency_weeks", "out_of_range", "contingency_weeks is between 0 and 52")
	}
	if in.ContributionsReceived < 0 || in.CouncilPayments < 0 || in.ContributionsReceived > account.MaxAmount*1000 || in.CouncilPayments > account.MaxAmount*1000 {
		f.Add("/basis", "out_of_range", "money paid in is zero or more")
	}
	if in.Closing < -account.MaxAmount*1000 || in.Closing > account.MaxAmount*1000 {
		f.Add("/closing_pence", "out_of_range", "the closing balance is out of range")
	}
	if err := f.Err(); err != nil {
		return Surplus{}, err
	}
	s := Surplus{Closing: in.Closing, Contingency: int64(in.ContingencyWeeks) * in.WeeklyPayment}
	for _, l := range in.Liabilities {
		if l.Evidenced {
			s.Liabilities += l.Amount
		} else {
			s.UnevidencedLiabilities += l.Amount
		}
	}
	s.Surplus = max(0, s.Closing-s.Liabilities-s.Contingency)
	s.PersonShare, s.CouncilShare = Shares(s.Surplus, in.ContributionsReceived, in.CouncilPayments)
	m := money.Format
	liab := fmt.Sprintf("Bills and wages still to pay from the account, with evidence, come to %s.", m(s.Liabilities))
	if s.UnevidencedLiabilities > 0 {
		liab += fmt.Sprintf(" A further %s was declared without evidence and is not deducted.", m(s.UnevidencedLiabilities))
	}
	var sur string
	if s.Surplus == 0 {
		sur = "Nothing is left over after the bills and the contingency: there is no surplus."
	} else {
		sur = fmt.Sprintf("%s is left over after the bills and the contingency: this is the surplus.", m(s.Surplus))
	}
	s.Steps = []money.Step{
		money.NewStep(StepClosing, s.Closing, fmt.Sprintf("The account held %s at the end of the period.", m(s.Closing))),
		money.NewStep(StepLiabilities, s.Liabilities, liab),
		money.NewStep(StepContingency, s.Contingency, fmt.Sprintf("You may keep %d weeks of payments (%d × %s = %s) for emergencies and irregular bills.",
			in.ContingencyWeeks, in.ContingencyWeeks, m(in.WeeklyPayment), m(s.Contingency))),
		money.NewStep(StepSurplus, s.Surplus, sur),
		money.NewStep(StepPersonShare, s.PersonShare, fmt.Sprintf("Your share of the surplus, in proportion to your contributions (%s of the %s paid in), is %s.",
			m(in.ContributionsReceived), m(in.ContributionsReceived+in.CouncilPayments), m(s.PersonShare))),
		money.NewStep(StepCouncilShare, s.CouncilShare, fmt.Sprintf("The council's share is the rest: %s.", m(s.CouncilShare))),
	}
	return s, nil
}

// Shares splits amount (≥ 0) in proportion to the money the person and the council paid in:
// person = ⌊amount × personIn ÷ (personIn + councilIn)⌋ (computed in 128 bits, so no product
// overflows), council = the rest. With nothing paid in, all of it is the council's.
func Shares(amount, personIn, councilIn int64) (person, council int64) {
	total := personIn + councilIn
	if amount <= 0 || total <= 0 || personIn <= 0 {
		return 0, amount
	}
	hi, lo := bits.Mul64(uint64(amount), uint64(personIn))
	q, _ := bits.Div64(hi, lo, uint64(total)) // q ≤ amount: hi < total always
	return int64(q), amount - int64(q)
}
