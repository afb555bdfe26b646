package dpaudit

import (
	"fmt"

	"github.com/pbudget/pbudget/internal/account"
	"github.com/pbudget/pbudget/internal/money"
)

// Reconciliation is the audit period's money, step by step (DOMAIN.md section 11):
//
//	expected closing = opening + council payments + contributions received + other money in
//	                   − spending − other money out
//	unexplained      = statement closing − expected closing (when the statement states one)
//	shortfall        = max(0, contributions due − contributions received − contributions paid to the council)
//
// Contributions paid to the council are a gross payment's invoices the person paid to the
// council's debtors system, outside the account: they settle contributions due, so they count
// against the shortfall, but they are not the account's money and are not in its sum.
//
// "Other money in" is refunds and adjustments in; "other money out" is recoveries and adjustments
// out: without them the sum would not add up, and an auditor needs to see them.
type Reconciliation struct {
	Period                Period
	Opening               int64
	CouncilPayments       int64
	ContributionsReceived int64
	OtherIn               int64
	Spending              int64
	OtherOut              int64
	ExpectedClosing       int64
	StatementClosing      *int64
	Unexplained           int64 // statement − expected; 0 without a statement
	ContributionsDue      int64
	// ContributionsPaidToCouncil are the contributions paid to the council outside the account
	// (gross invoices paid): not in the expected closing.
	ContributionsPaidToCouncil int64
	ContributionShortfall      int64 // due − received − paid to the council, when positive
	ContributionExcess         int64 // received + paid to the council − due, when positive: the person paid more than they owed
	Steps                      []money.Step
}

// Closing is the balance the audit takes as the account's at the period's end: the statement's
// when it states one (the money actually there), else the ledger's expected closing.
func (r Reconciliation) Closing() int64 {
	if r.StatementClosing != nil {
		return *r.StatementClosing
	}
	return r.ExpectedClosing
}

// The names of the reconciliation's steps, stable for the API and the letter.
const (
	StepOpening                = "opening_balance"
	StepCouncilPayments        = "council_payments"
	StepContributionsReceived  = "contributions_received"
	StepOtherIn                = "other_money_in"
	StepSpending               = "spending"
	StepOtherOut               = "other_money_out"
	StepExpectedClosing        = "expected_closing_balance"
	StepStatementClosing       = "statement_closing_balance"
	StepUnexplained            = "unexplained_difference"
	StepContributionsDue       = "contributions_due"
	StepContributionsToCouncil = "contributions_paid_to_council" // only when there are any
	StepContributionShortfall  = "contribution_shortfall"
)

// ReconcileInput is an account's ledger and what its statement says at the period's end.
type ReconcileInput struct {
	Period           Period
	Opening          account.Opening // the ledger's opening balance (before the period, or at its start)
	Entries          []account.Entry // the ledger: entries outside the period are left out by date
	StatementClosing *int64          // the statement's balance at the end of the period's last day
}

// ReconcilePeriod computes the reconciliation from the ledger (account.Sum), exactly.
func ReconcilePeriod(in ReconcileInput) (Reconciliation, error) {
	t, err := account.Sum(in.Opening, in.Entries, in.Period.Start, in.Period.End)
	if err != nil {
		return Reconciliation{}, err
	}
	r := Reconciliation{
		Period: in.Period, Opening: t.Opening,
		CouncilPayments: t.ByKind[account.CouncilPayment], ContributionsReceived: t.ByKind[account.ContributionReceived],
		OtherIn:  t.ByKind[account.Refund] + t.AdjustmentsIn,
		Spending: t.ByKind[account.Spend], OtherOut: t.ByKind[account.Recovery] + t.AdjustmentsOut,
		ExpectedClosing: t.Closing, StatementClosing: in.StatementClosing, ContributionsDue: t.ByKind[account.ContributionDue],
		ContributionsPaidToCouncil: t.ByKind[account.ContributionPaidToCouncil],
	}
	if r.StatementClosing != nil {
		r.Unexplained = *r.StatementClosing - r.ExpectedClosing
	}
	settled := r.ContributionsReceived + r.ContributionsPaidToCouncil
	r.ContributionShortfall = max(0, r.ContributionsDue-settled)
	r.ContributionExcess = max(0, settled-r.ContributionsDue)
	p := in.Period
	f := money.Format
	r.Steps = []money.Step{
		money.NewStep(StepOpening, r.Opening, fmt.Sprintf("The account held %s at the start of %s.", f(r.Opening), p.Start.Long())),
		money.NewStep(StepCouncilPayments, r.CouncilPayments, fmt.Sprintf("The council paid %s into the account.", f(r.CouncilPayments))),
		money.NewStep(StepContributionsReceived, r.ContributionsReceived, fmt.Sprintf("Your contributions paid into the account came to %s.", f(r.ContributionsReceived))),
		money.NewStep(StepOtherIn, r.OtherIn, fmt.Sprintf("Refunds and other money in came to %s.", f(r.OtherIn))),
		money.NewStep(StepSpending, r.Spending, fmt.Sprintf("Spending from the account came to %s.", f(r.Spending))),
		money.NewStep(StepOtherOut, r.OtherOut, fmt.Sprintf("Money returned to the council and other money out came to %s.", f(r.OtherOut))),
		money.NewStep(StepExpectedClosing, r.ExpectedClosing, fmt.Sprintf("So the account should have held %s at the end of %s: %s + %s + %s + %s − %s − %s.",
			f(r.ExpectedClosing), p.Last().Long(), f(r.Opening), f(r.CouncilPayments), f(r.ContributionsReceived), f(r.OtherIn), f(r.Spending), f(r.OtherOut))),
	}
	if r.StatementClosing != nil {
		r.Steps = append(r.Steps, money.NewStep(StepStatementClosing, *r.StatementClosing,
			fmt.Sprintf("The statement shows %s at the end of %s.", f(*r.StatementClosing), p.Last().Long())))
		var why string
		switch {
		case r.Unexplained == 0:
			why = "The statement agrees with the account's record: nothing is unexplained."
		case r.Unexplained > 0:
			why = fmt.Sprintf("The statement shows %s more than the record explains.", f(r.Unexplained))
		default:
			why = fmt.Sprintf("The statement shows %s less than the record explains.", f(-r.Unexplained))
		}
		r.Steps = append(r.Steps, money.NewStep(StepUnexplained, r.Unexplained, why))
	}
	r.Steps = append(r.Steps,
		money.NewStep(StepContributionsDue, r.ContributionsDue, fmt.Sprintf("Your contributions due for the period came to %s.", f(r.ContributionsDue))))
	if r.ContributionsPaidToCouncil > 0 {
		r.Steps = append(r.Steps, money.NewStep(StepContributionsToCouncil, r.ContributionsPaidToCouncil,
			fmt.Sprintf("You paid %s of your contribution invoices to the council directly (not into the account).", f(r.ContributionsPaidToCouncil))))
	}
	r.Steps = append(r.Steps, money.NewStep(StepContributionShortfall, r.ContributionShortfall, shortfallDetail(r)))
	return r, nil
}

func shortfallDetail(r Reconciliation) string {
	switch {
	case r.ContributionShortfall > 0:
		return fmt.Sprintf("%s of your contributions was not paid in.", money.Format(r.ContributionShortfall))
	case r.ContributionExcess > 0:
		return fmt.Sprintf("You paid in %s more than your contributions due: there is no shortfall.", money.Format(r.ContributionExcess))
	}
	return "Your contributions were paid in full: there is no shortfall."
}
