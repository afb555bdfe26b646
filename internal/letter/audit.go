package letter

import (
	"fmt"
	"strings"

	"github.com/pbudget/pbudget/internal/date"
	"github.com/pbudget/pbudget/internal/dpaudit"
	"github.com/pbudget/pbudget/internal/money"
	"github.com/pbudget/pbudget/internal/recovery"
)

// AuditInput is what an audit letter says: the audit's recorded figures and decision, and any
// recovery that follows it.
type AuditInput struct {
	Council        string
	Date           date.Date
	Reference      string
	Addressee      []string
	Footer         string
	Contact        string // how to reach the team: "the Direct Payments Team on 01234 567890"
	Period         dpaudit.Period
	Outcome        dpaudit.Outcome
	Reconciliation dpaudit.Reconciliation
	Surplus        *dpaudit.Surplus // nil when no surplus was computed
	Findings       []dpaudit.Finding
	Recovery       *AuditRecovery
}

// AuditRecovery is the recovery an audit letter gives notice of.
type AuditRecovery struct {
	Proposal recovery.Proposal
	Offsets  *recovery.Offsets // method offset: the planned reductions
	Due      date.Date         // method invoice: the invoice's due date; card_recoup: the day of the recoup
}

// Labels of the reconciliation's and the surplus's steps in a letter.
var stepLabels = map[string]string{
	dpaudit.StepOpening:                "Money in the account at the start",
	dpaudit.StepCouncilPayments:        "Paid in by the council",
	dpaudit.StepContributionsReceived:  "Your contributions paid in",
	dpaudit.StepOtherIn:                "Refunds and other money in",
	dpaudit.StepSpending:               "Spent from the account",
	dpaudit.StepOtherOut:               "Money returned and other money out",
	dpaudit.StepExpectedClosing:        "What the account should hold at the end",
	dpaudit.StepStatementClosing:       "What your statement shows at the end",
	dpaudit.StepUnexplained:            "Difference we cannot explain",
	dpaudit.StepContributionsDue:       "Your contributions due",
	dpaudit.StepContributionsToCouncil: "Your contributions paid to the council",
	dpaudit.StepContributionShortfall:  "Contributions not paid in",
	dpaudit.StepClosing:                "Money in the account at the end",
	dpaudit.StepLiabilities:            "Bills and wages still to pay (with evidence)",
	dpaudit.StepContingency:            "Contingency you may keep",
	dpaudit.StepSurplus:                "Surplus",
	dpaudit.StepPersonShare:            "Your share of the surplus",
	dpaudit.StepCouncilShare:           "The council's share of the surplus",
}

var emphasised = map[string]bool{dpaudit.StepExpectedClosing: true, dpaudit.StepUnexplained: true, dpaudit.StepSurplus: true,
	dpaudit.StepContributionShortfall: true}

// explained are the steps whose sentence says more than the table's row (a sum, a rule, a share).
var explained = map[string]bool{dpaudit.StepExpectedClosing: true, dpaudit.StepUnexplained: true, dpaudit.StepContributionShortfall: true,
	dpaudit.StepLiabilities: true, dpaudit.StepContingency: true, dpaudit.StepPersonShare: true}

// figures turns calculation steps into a figures table, and the sentences of the steps that
// explain more than their row.
func figures(steps []money.Step) ([]Figure, []string) {
	var out []Figure
	var notes []string
	for _, s := range steps {
		label := stepLabels[s.Step]
		if label == "" {
			label = strings.ReplaceAll(s.Step, "_", " ")
		}
		v := ""
		if s.Value != nil {
			v = money.Format(*s.Value)
		}
		out = append(out, Figure{Label: label, Value: v, Emphasis: emphasised[s.Step]})
		if explained[s.Step] {
			notes = append(notes, s.Detail)
		}
	}
	return out, notes
}

// Audit builds the letter telling the person the outcome of their direct payment audit, in plain
// English: what was decided and why, what was found, the figures step by step, any money to be
// paid back with the reason and how, and how to disagree.
func Audit(in AuditInput) (Letter, error) {
	o := in.Outcome
	l := Letter{Council: in.Council, Heading: "The outcome of your direct payment audit", Date: in.Date, Reference: in.Reference,
		Addressee: in.Addressee, Footer: in.Footer}
	l.Sections = append(l.Sections, Section{Paragraphs: []string{
		fmt.Sprintf("We have checked how your direct payment was used from %s. This letter tells you what we found and what happens next.", in.Period),
	}})

	decided := Section{Heading: "What we decided"}
	switch o.Kind {
	case dpaudit.Satisfactory:
		decided.Paragraphs = append(decided.Paragraphs, "Your direct payment was used as your support plan agreed. You do not need to do anything.")
	case dpaudit.ActionPlan:
		decided.Paragraphs = append(decided.Paragraphs, fmt.Sprintf("Some things need to be put right by %s. They are listed under \"What we found\". We will contact you to agree how.", o.ActionPlanDue.Long()))
	case dpaudit.RecoveryOutcome:
		decided.Paragraphs = append(decided.Paragraphs, "We will ask for some money back. The amount, why, and how it will be paid back are explained below.")
	case dpaudit.SuspendPayments:
		decided.Paragraphs = append(decided.Paragraphs, fmt.Sprintf("We will stop your direct payments from %s while the concerns below are put right. Your support will be arranged another way in the meantime.", o.SuspendFrom.Long()))
	case dpaudit.Terminate:
		weeks := 0
		if o.NoticeWeeks != nil {
			weeks = *o.NoticeWeeks
		}
		decided.Paragraphs = append(decided.Paragraphs, fmt.Sprintf("We will end your direct payment on %s. This letter is your %s notice. We will talk with you about how your support will be arranged after that.", o.Ends.Long(), noticeWords(weeks)))
	default:
		return Letter{}, ErrLetter.WithMessage("the audit's outcome %q has no letter", o.Kind)
	}
	decided.Paragraphs = append(decided.Paragraphs, "Our reason: "+o.Reason)
	l.Sections = append(l.Sections, decided)

	found := Section{Heading: "What we found"}
	if len(in.Findings) == 0 {
		found.Paragraphs = []string{"We found no problems."}
	}
	for _, f := range in.Findings {
		found.Paragraphs = append(found.Paragraphs, "• "+f.Detail)
	}
	l.Sections = append(l.Sections, found)

	rows, notes := figures(in.Reconciliation.Steps)
	l.Sections = append(l.Sections, Section{Heading: "The figures for " + in.Period.String(),
		Paragraphs: []string{"This is the money that went in and out of your account over the period."}, Figures: rows},
		Section{Paragraphs: notes})
	if in.Surplus != nil {
		rows, notes := figures(in.Surplus.Steps)
		l.Sections = append(l.Sections, Section{Heading: "Money left over",
			Paragraphs: []string{"You may keep some money in the account for bills still to pay and for emergencies. Anything above that is a surplus."},
			Figures:    rows}, Section{Paragraphs: notes})
	}
	if r := in.Recovery; r != nil {
		sec, err := recoverySection(*r)
		if err != nil {
			return Letter{}, err
		}
		l.Sections = append(l.Sections, sec)
	}
	disagree := Section{Heading: "If you disagree", Paragraphs: []string{
		fmt.Sprintf("Please tell us why, quoting your reference %s%s. If we are asking for money back, we will not collect it while we look at your reasons.", in.Reference, contactWords(in.Contact)),
		"If you are still unhappy after our complaints procedure, you can ask the Local Government and Social Care Ombudsman to look at it.",
	}}
	l.Sections = append(l.Sections, disagree)
	return l, l.validate()
}

func recoverySection(r AuditRecovery) (Section, error) {
	p := r.Proposal
	basis := map[recovery.Basis]string{
		recovery.Surplus:          "the council's share of the surplus",
		recovery.Misspend:         "money spent on things the support plan does not include",
		recovery.OverpaymentEnded: "money paid for days after your direct payment ended",
	}[p.Basis]
	s := Section{Heading: "Money we are asking back"}
	s.Paragraphs = append(s.Paragraphs, fmt.Sprintf("We are asking for %s back: %s.", money.Format(p.Amount), basis))
	switch {
	case p.PersonExcess > 0 && p.Excess == recovery.Refund:
		s.Paragraphs = append(s.Paragraphs, fmt.Sprintf("Your share of the surplus, %s, came from your own contributions. We will refund it to you.", money.Format(p.PersonExcess)))
	case p.PersonExcess > 0:
		s.Paragraphs = append(s.Paragraphs, fmt.Sprintf("Your share of the surplus, %s, came from your own contributions. It stays in your account and counts towards your future contributions.", money.Format(p.PersonExcess)))
	}
	s.Paragraphs = append(s.Paragraphs, "Why: "+p.Reason)
	switch p.Method {
	case recovery.Invoice:
		s.Paragraphs = append(s.Paragraphs, fmt.Sprintf("We will send you an invoice for %s. Please pay it by %s.", money.Format(p.Amount), r.Due.Long()))
	case recovery.CardRecoup:
		s.Paragraphs = append(s.Paragraphs, fmt.Sprintf("We will take %s back from your prepaid card on or after %s. You do not need to do anything.", money.Format(p.Amount), r.Due.Long()))
	case recovery.Offset:
		if r.Offsets == nil {
			return Section{}, ErrLetter.WithMessage("an offset recovery's letter lists its reductions")
		}
		s.Paragraphs = append(s.Paragraphs, fmt.Sprintf("We will take it from your next %d payments, so you do not need to pay anything. No payment will be reduced below nothing.", p.Cycles))
		for i, o := range r.Offsets.PerCycle {
			s.Figures = append(s.Figures, Figure{Label: fmt.Sprintf("Payment %d reduced by", i+1), Value: money.Format(o)})
		}
		if r.Offsets.Remainder > 0 {
			s.Paragraphs = append(s.Paragraphs, fmt.Sprintf("Those payments are too small to cover all of it: we will write to you about the remaining %s.", money.Format(r.Offsets.Remainder)))
		}
	}
	return s, nil
}

func noticeWords(weeks int) string {
	switch weeks {
	case 0:
		return "formal"
	case 1:
		return "one week's"
	}
	return fmt.Sprintf("%d weeks'", weeks)
}

func contactWords(c string) string {
	if c == "" {
		return ""
	}
	return ", to " + c
}
