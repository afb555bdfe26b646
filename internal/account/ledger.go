package account

import (
	"fmt"

	"github.com/pbudget/pbudget/internal/apperr"
	"github.com/pbudget/pbudget/internal/date"
)

// MaxAmount is the largest amount of one entry or statement line, in pence (£1bn: the API's
// maximum for _pence fields). Sums of a few million such amounts stay far inside int64.
const MaxAmount = 100_000_000_000

// Kind is what a ledger entry records.
type Kind string

// The kinds of ledger entry. Money in is positive, money out negative; a memo moves no money.
const (
	CouncilPayment       Kind = "council_payment"       // in: a payment run paid the account (posted when the run is paid)
	ContributionDue      Kind = "contribution_due"      // memo: what the person owes for a cycle (net: a deposit expected; gross: invoiced)
	ContributionReceived Kind = "contribution_received" // in: the person's contribution paid into the account
	// ContributionPaidToCouncil is a memo: a gross payment's contribution invoice the person paid
	// to the council (its debtors system), outside the account. It moves no money in the account;
	// the audit counts it as received against the contributions due.
	ContributionPaidToCouncil Kind = "contribution_paid_to_council"
	Spend                     Kind = "spend"      // out: money spent from the account (a statement line)
	Refund                    Kind = "refund"     // in: money a payee paid back into the account
	Recovery                  Kind = "recovery"   // out: money the council took back from the account (invoice paid, card recoup)
	Adjustment                Kind = "adjustment" // either: a correction with a reason; its amount carries its sign
)

// Kinds lists every kind, in the order statements of account show them.
var Kinds = []Kind{CouncilPayment, ContributionDue, ContributionReceived, ContributionPaidToCouncil, Spend, Refund, Recovery, Adjustment}

// Sign is +1 for money in, −1 for money out, 0 for a memo, and 0 for an adjustment, whose amount
// is already signed.
func (k Kind) Sign() int64 {
	switch k {
	case CouncilPayment, ContributionReceived, Refund:
		return 1
	case Spend, Recovery:
		return -1
	}
	return 0
}

// Valid reports whether k is one of Kinds.
func (k Kind) Valid() bool {
	for _, v := range Kinds {
		if v == k {
			return true
		}
	}
	return false
}

// Entry is one line of an account's ledger. Entries are appended, never changed: a mistake is
// put right by an adjustment (see the package documentation).
type Entry struct {
	Kind Kind
	Date date.Date
	// Amount is in pence: more than zero for every kind but an adjustment, whose amount is
	// signed (non-zero): the kind gives the direction.
	Amount int64
	Reason string // adjustments: why; others: optional, never personal data
}

// Signed is the entry's effect on the balance, in pence.
func (e Entry) Signed() int64 {
	if e.Kind == Adjustment {
		return e.Amount
	}
	return e.Kind.Sign() * e.Amount
}

// Validate checks one entry; pointer locates it in the caller's input (e.g. "/entries/3").
func (e Entry) Validate(pointer string) error {
	var f apperr.Fields
	switch {
	case !e.Kind.Valid():
		f.Add(pointer+"/kind", "enum", fmt.Sprintf("kind %q is not a ledger entry kind", e.Kind))
	case e.Kind == Adjustment && (e.Amount == 0 || e.Amount < -MaxAmount || e.Amount > MaxAmount):
		f.Add(pointer+"/amount_pence", "out_of_range", "an adjustment is a non-zero amount of at most £1bn either way")
	case e.Kind != Adjustment && (e.Amount <= 0 || e.Amount > MaxAmount):
		f.Add(pointer+"/amount_pence", "out_of_range", "an amount is more than zero and at most £1bn (the kind gives the direction)")
	}
	if e.Kind == Adjustment && e.Reason == "" {
		f.Add(pointer+"/reason", "reason_required", "an adjustment says why")
	}
	return f.Err()
}

// Opening is an account's balance on the day its ledger starts (before that day's entries): zero
// for an account opened for the direct payment, the bank's figure for an existing account.
type Opening struct {
	Date   date.Date
	Amount int64 // pence; may be negative (an overdrawn account)
}

// Balance is the account's balance at the end of day at: the opening amount plus the signed sum
// of every entry dated on or before at. It is exact (integer pence) and depends only on the set of
// entries, not on their order. Before the opening date it is the opening amount. An entry dated
// before the opening date is an error: its money would be counted twice (once in the opening
// figure, once as an entry).
func Balance(open Opening, entries []Entry, at date.Date) (int64, error) {
	b := open.Amount
	for i, e := range entries {
		if e.Date.Before(open.Date) {
			return 0, ErrBeforeOpening.WithMessage("entry %d is dated %s, before the ledger opens on %s", i, e.Date, open.Date)
		}
		if !e.Date.After(at) {
			b += e.Signed()
		}
	}
	return b, nil
}

// ErrBeforeOpening is an entry dated before the ledger's opening balance.
var ErrBeforeOpening = apperr.New(apperr.RuleViolation, "ledger-entry-before-opening",
	"a ledger entry is dated before the account's opening balance")

// Totals are the entries of a period [From, To) added up by kind, as magnitudes (adjustments are
// split into their in and out parts; contributions due are net of the invoices reversed when the
// bank returned a cycle's payment), with the balances either side.
type Totals struct {
	From, To         date.Date
	Opening, Closing int64 // balance at the end of the day before From, and at the end of To − 1
	ByKind           map[Kind]int64
	AdjustmentsIn    int64
	AdjustmentsOut   int64 // a magnitude
}

// In is all money in over the period.
func (t Totals) In() int64 {
	return t.ByKind[CouncilPayment] + t.ByKind[ContributionReceived] + t.ByKind[Refund] + t.AdjustmentsIn
}

// Out is all money out over the period, as a magnitude.
func (t Totals) Out() int64 { return t.ByKind[Spend] + t.ByKind[Recovery] + t.AdjustmentsOut }

// Sum adds up the entries of the period [from, to): Closing = Opening + In − Out exactly.
func Sum(open Opening, entries []Entry, from, to date.Date) (Totals, error) {
	if !from.Before(to) {
		return Totals{}, apperr.Validation(apperr.FieldError{Field: "to", In: "query", Code: "period",
			Message: "a period ends after it starts"})
	}
	t := Totals{From: from, To: to, ByKind: make(map[Kind]int64, len(Kinds))}
	var err error
	if t.Opening, err = Balance(open, entries, from.AddDays(-1)); err != nil {
		return Totals{}, err
	}
	t.Closing = t.Opening
	for _, e := range entries {
		if e.Date.Before(from) || !e.Date.Before(to) {
			continue
		}
		t.Closing += e.Signed()
		switch {
		case e.Kind == Adjustment && e.Amount > 0:
			t.AdjustmentsIn += e.Amount
		case e.Kind == Adjustment:
			t.AdjustmentsOut -= e.Amount
		default:
			t.ByKind[e.Kind] += e.Amount
		}
	}
	return t, nil
}
