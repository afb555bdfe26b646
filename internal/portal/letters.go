package portal

import (
	"context"
	"strings"

	"github.com/google/uuid"

	"github.com/pbudget/pbudget/internal/actor"
	"github.com/pbudget/pbudget/internal/apperr"
	"github.com/pbudget/pbudget/internal/budget"
	"github.com/pbudget/pbudget/internal/date"
	"github.com/pbudget/pbudget/internal/letter"
	"github.com/pbudget/pbudget/internal/person"
)

// LetterKind is which budget letter.
type LetterKind string

// The budget letters.
const (
	IndicativeLetter LetterKind = "indicative"
	AgreedLetter     LetterKind = "agreed"
)

// ErrNotAgreed is the agreed-budget letter of a budget whose plan is not agreed yet.
var ErrNotAgreed = apperr.New(apperr.Conflict, "budget-not-agreed", "the budget has no agreed plan yet: its agreed-budget letter does not exist")

// Letter renders a budget's letter as PDF, for staff or (the person role) for a person the holder
// acts for. councilName heads it. The letter is dated by the record it tells of, so the same
// record gives the same bytes. It returns the letter and whose it is.
func (s *Service) Letter(ctx context.Context, a actor.Actor, budgetID uuid.UUID, kind LetterKind, councilName string) ([]byte, uuid.UUID, error) {
	if a.IsPerson() {
		if err := s.people.CheckBudgetReach(ctx, a, budgetID); err != nil {
			return nil, uuid.Nil, err
		}
	}
	b, err := s.budgets.Get(ctx, a, budgetID)
	if err != nil {
		return nil, uuid.Nil, err
	}
	p, err := s.people.Get(ctx, a, b.PersonID)
	if err != nil {
		return nil, uuid.Nil, err
	}
	issued := b.Current
	if len(b.History) > 0 {
		issued = b.History[0]
	}
	in := letter.BudgetInput{Council: councilName, Reference: b.ID.String(), Addressee: addressOf(p),
		Footer: councilName + " · adult social care", IndicativeAnnual: issued.IndicativeAnnual, IndicativeWeekly: issued.IndicativeWeekly(),
		RASVersion: issued.RASVersionNumber, Points: issued.Points, PointsByDomain: issued.PointsByDomain, RASSteps: issued.Calculation,
		Date: date.Today(issued.CreatedAt)}
	if kind == IndicativeLetter {
		l, err := letter.IndicativeBudget(in)
		if err != nil {
			return nil, uuid.Nil, err
		}
		pdf, err := letter.Render(l)
		return pdf, b.PersonID, err
	}
	agreed := agreedVersion(b)
	if agreed == nil || agreed.PlanID == nil || agreed.FinalAnnual == nil {
		return nil, uuid.Nil, ErrNotAgreed
	}
	c := b.Current // the latest split: a contribution assessed after the plan was agreed is in it
	in.Date = date.Today(c.CreatedAt)
	in.FinalAnnual, in.FinalWeekly = *agreed.FinalAnnual, c.WeeklyCost
	in.CouncilAnnual, in.CouncilWeekly, in.PersonAnnual, in.PersonWeekly = c.CouncilAnnual, c.CouncilWeekly, c.PersonAnnual, c.PersonWeekly
	in.ContributionSteps, in.DifferenceReason = c.ContributionSteps, agreed.DifferenceReason
	v, err := s.plans.Get(ctx, a, *agreed.PlanID)
	if err != nil {
		return nil, uuid.Nil, err
	}
	for _, o := range v.Totals.Options {
		in.Options = append(in.Options, letter.OptionPart{Option: string(o.Option), Annual: o.Annual})
	}
	for _, t := range v.Plan.TopUps {
		in.TopUps = append(in.TopUps, letter.TopUpPart{Description: t.Description, PayerName: t.PayerName, Annual: t.Annual})
	}
	l, err := letter.AgreedBudget(in)
	if err != nil {
		return nil, uuid.Nil, err
	}
	pdf, err := letter.Render(l)
	return pdf, b.PersonID, err
}

// agreedVersion is the budget's latest version that carries an agreed plan.
func agreedVersion(b budget.Budget) *budget.Version {
	for i := len(b.History) - 1; i >= 0; i-- {
		if b.History[i].PlanID != nil && b.History[i].FinalAnnual != nil {
			return &b.History[i]
		}
	}
	if b.Current.PlanID != nil && b.Current.FinalAnnual != nil {
		return &b.Current
	}
	return nil
}

// addressOf is the letter's address block: the person's name and postal address.
func addressOf(p person.Person) []string {
	name := p.GivenName
	if p.PreferredName != nil && *p.PreferredName != "" {
		name = *p.PreferredName
	}
	out := []string{strings.TrimSpace(name + " " + p.FamilyName)}
	if ad := p.Address; ad != nil {
		for _, l := range []string{ad.Line1, ad.Line2, ad.Town, ad.County, ad.Postcode} {
			if strings.TrimSpace(l) != "" {
				out = append(out, l)
			}
		}
	}
	return out
}
