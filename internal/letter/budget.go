package letter

import (
	"fmt"
	"sort"
	"strings"

	"github.com/pbudget/pbudget/internal/date"
	"github.com/pbudget/pbudget/internal/money"
)

// BudgetInput is what a budget letter says: the budget's record, its figures and their reasons.
type BudgetInput struct {
	Council   string
	Date      date.Date // the record's date: the same record always gives the same letter
	Reference string
	Addressee []string
	Footer    string
	Contact   string // how to reach the council, for the letter's closing

	IndicativeAnnual int64
	IndicativeWeekly int64
	RASVersion       *int
	Points           *int
	PointsByDomain   map[string]int
	RASSteps         []money.Step // the resource allocation system's calculation

	// The agreed budget (AgreedBudget only).
	FinalAnnual       int64
	FinalWeekly       int64
	CouncilAnnual     *int64 // nil before a financial assessment
	CouncilWeekly     *int64
	PersonAnnual      *int64
	PersonWeekly      *int64
	ContributionSteps []money.Step // how the person's charge becomes the two parts
	DifferenceReason  *string
	Options           []OptionPart
	TopUps            []TopUpPart
}

// OptionPart is how a part of the plan is managed, and what it costs a year.
type OptionPart struct {
	Option string // direct_payment, council_managed, isf
	Annual int64
}

// TopUpPart is a family top-up: what a named third party pays outside the budget.
type TopUpPart struct {
	Description string
	PayerName   string
	Annual      int64
}

var optionWords = map[string]string{
	"direct_payment":  "paid to you as a direct payment",
	"council_managed": "arranged and paid by the council",
	"isf":             "held for you by a provider (an Individual Service Fund)",
}

func rasSection(in BudgetInput) Section {
	sec := Section{Heading: "How we worked it out", Paragraphs: []string{
		"Your assessment gave points for the support you need in each area of your life. The council's resource allocation system turns the points into a yearly amount.",
	}}
	if in.RASVersion != nil {
		sec.Paragraphs[0] += fmt.Sprintf(" We used version %d of it.", *in.RASVersion)
	}
	domains := make([]string, 0, len(in.PointsByDomain))
	for d := range in.PointsByDomain {
		domains = append(domains, d)
	}
	sort.Strings(domains)
	for _, d := range domains {
		sec.Figures = append(sec.Figures, Figure{Label: strings.ReplaceAll(d, "_", " "), Value: fmt.Sprintf("%d points", in.PointsByDomain[d])})
	}
	if in.Points != nil {
		sec.Figures = append(sec.Figures, Figure{Label: "Total points", Value: fmt.Sprintf("%d", *in.Points), Emphasis: true})
	}
	for _, s := range in.RASSteps {
		if s.Detail != "" {
			sec.Paragraphs = append(sec.Paragraphs, "• "+s.Detail)
		}
	}
	return sec
}

// IndicativeBudget builds the letter that tells the person their indicative budget: the figure,
// that it is guidance and not an entitlement, how it was worked out, and what happens next.
func IndicativeBudget(in BudgetInput) (Letter, error) {
	l := Letter{Council: in.Council, Heading: "Your indicative personal budget", Date: in.Date, Reference: in.Reference,
		Addressee: in.Addressee, Footer: in.Footer}
	l.Sections = append(l.Sections, Section{Paragraphs: []string{
		"After your assessment we have worked out an early estimate of how much money it may cost to meet your eligible needs. This is your indicative budget.",
		"It is a guide to help you plan your support, not a fixed amount: the amount you get is set when your care and support plan is agreed, and it can go up or down.",
	}, Figures: []Figure{
		{Label: "Your indicative budget a year", Value: money.Format(in.IndicativeAnnual), Emphasis: true},
		{Label: "About a week", Value: money.Format(in.IndicativeWeekly)},
	}}, rasSection(in), Section{Heading: "What happens next", Paragraphs: []string{
		"We will work out with you whether you need to pay towards the cost of your support (a financial assessment). Your contribution plus the council's part make up your personal budget.",
		"You will then write your care and support plan, with help if you want it: what matters to you, the support you choose, what it costs, and how you want the money managed — as a direct payment, arranged by the council, held by a provider, or a mix.",
	}}, questions(in))
	return l, l.validate()
}

// AgreedBudget builds the letter that tells the person their agreed budget: the total, the
// council's part and their own, how each part of the plan is managed, what family members pay on
// top, and why the figure differs from the indicative one.
func AgreedBudget(in BudgetInput) (Letter, error) {
	l := Letter{Council: in.Council, Heading: "Your agreed personal budget", Date: in.Date, Reference: in.Reference,
		Addressee: in.Addressee, Footer: in.Footer}
	figs := []Figure{
		{Label: "Your personal budget a year", Value: money.Format(in.FinalAnnual), Emphasis: true},
		{Label: "About a week", Value: money.Format(in.FinalWeekly)},
	}
	parts := Section{Heading: "Who pays what"}
	if in.CouncilAnnual != nil && in.PersonAnnual != nil {
		figs = append(figs,
			Figure{Label: "The council pays a year", Value: money.Format(*in.CouncilAnnual)},
			Figure{Label: "You pay a year", Value: money.Format(*in.PersonAnnual)})
		if in.CouncilWeekly != nil && in.PersonWeekly != nil {
			parts.Figures = []Figure{{Label: "The council pays a week", Value: money.Format(*in.CouncilWeekly)},
				{Label: "You pay a week", Value: money.Format(*in.PersonWeekly), Emphasis: true}}
		}
		parts.Paragraphs = append(parts.Paragraphs, "Your part comes from your financial assessment. This is how it was worked out:")
		for _, s := range in.ContributionSteps {
			if s.Detail != "" {
				parts.Paragraphs = append(parts.Paragraphs, "• "+s.Detail)
			}
		}
	} else {
		parts.Paragraphs = append(parts.Paragraphs, "Your financial assessment is not finished yet. We will write to you with your part and the council's when it is.")
	}
	l.Sections = append(l.Sections, Section{Paragraphs: []string{
		"Your care and support plan has been agreed. The plan's cost is your personal budget: the money to meet your eligible needs.",
	}, Figures: figs}, parts)
	managed := Section{Heading: "How your budget is managed"}
	for _, o := range in.Options {
		words := optionWords[o.Option]
		if words == "" {
			words = strings.ReplaceAll(o.Option, "_", " ")
		}
		managed.Figures = append(managed.Figures, Figure{Label: capitalise(words), Value: money.Format(o.Annual) + " a year"})
	}
	if len(managed.Figures) > 0 {
		l.Sections = append(l.Sections, managed)
	}
	if len(in.TopUps) > 0 {
		top := Section{Heading: "Paid on top by your family or others", Paragraphs: []string{
			"These are paid by the people named, outside your personal budget. They are not part of the council's money or of your contribution.",
		}}
		for _, t := range in.TopUps {
			top.Paragraphs = append(top.Paragraphs, fmt.Sprintf("• %s: %s a year, paid by %s.", t.Description, money.Format(t.Annual), t.PayerName))
		}
		l.Sections = append(l.Sections, top)
	}
	diff := Section{Heading: "Your indicative budget", Paragraphs: []string{
		fmt.Sprintf("Your indicative budget was %s a year.", money.Format(in.IndicativeAnnual)),
	}}
	if in.DifferenceReason != nil && in.FinalAnnual != in.IndicativeAnnual {
		diff.Paragraphs = append(diff.Paragraphs, "Why your agreed budget is different: "+*in.DifferenceReason)
	}
	l.Sections = append(l.Sections, diff, questions(in))
	return l, l.validate()
}

func questions(in BudgetInput) Section {
	return Section{Heading: "If you have questions or disagree", Paragraphs: []string{
		fmt.Sprintf("Please contact us, quoting your reference %s%s. You can ask for a review of your support at any time.", in.Reference, contactWords(in.Contact)),
		"If you are still unhappy after our complaints procedure, you can ask the Local Government and Social Care Ombudsman to look at it.",
	}}
}

func capitalise(s string) string {
	if s == "" {
		return s
	}
	return strings.ToUpper(s[:1]) + s[1:]
}
