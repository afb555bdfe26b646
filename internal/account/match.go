package account

import (
	"fmt"
	"strings"
	"unicode"

	"github.com/google/uuid"

	"github.com/pbudget/pbudget/internal/apperr"
	"github.com/pbudget/pbudget/internal/date"
	"github.com/pbudget/pbudget/internal/money"
)

// Flag is why a statement line needs an auditor's attention.
type Flag string

// The flags of DOMAIN.md section 11.
const (
	ExcludedCategory Flag = "excluded_category" // a merchant category on the council's excluded list (7995 gambling …)
	NotInPlan        Flag = "not_in_plan"       // a recognised kind of spending the plan does not include
	Unexplained      Flag = "unexplained"       // nothing says what the money was for
)

// By is how a line was matched to a plan line.
type By string

// The ways of matching, in the order they are tried.
const (
	ByPayee             By = "payee"              // the description is the payee's name
	ByPersonalAssistant By = "personal_assistant" // the personal assistant's name is in the description or reference
	ByProviderReference By = "provider_reference" // the provider's reference is in the reference or description
	ByProvider          By = "provider"           // the provider's name is in the description or reference
	ByCategory          By = "category"           // the merchant category maps to the line's service category
)

var byOrder = []By{ByPayee, ByPersonalAssistant, ByProviderReference, ByProvider}

// PlanLine is what matching knows of one of the plan's direct-payment lines.
type PlanLine struct {
	ID                 uuid.UUID
	Category           string   // the service category code
	Payees             []string // names the person pays for this line, as recorded on the plan or by an auditor
	PersonalAssistants []string // the names of the personal assistants the line employs
	Providers          []string // the names of the providers the line buys from
	ProviderReferences []string // the references those providers put on invoices or payments
}

// Rule teaches the matcher one more text: lines whose description (Whole) or whose words
// (otherwise) hold Text are matched to PlanLineID, as By.
type Rule struct {
	By         By
	Text       string
	PlanLineID uuid.UUID
	Whole      bool // the whole description must be Text (normalised); else Text's words must appear in order, whole
}

// Rules are the council's and the account's matching settings.
type Rules struct {
	// ExcludedCategories are the merchant category codes the council never allows (DOMAIN.md
	// section 4: gambling, for instance 7995).
	ExcludedCategories []string
	// CategoryOfMerchant maps merchant category codes to service categories (5411 groceries →
	// none; 8099 health services → …); a card line whose code maps to a category the plan has is
	// matched to that plan line, to one the plan lacks is not_in_plan.
	CategoryOfMerchant map[string]string
	// CouncilReferences are the references the council's payments arrive with (a run's BACS
	// reference or its prefix); a credit holding one is the council's payment, already in the
	// ledger from the paid run.
	CouncilReferences []string
	// ContributionReferences are the names or references the person's contributions arrive with.
	ContributionReferences []string
	// Extra are rules an auditor added, tried after the plan lines' own rules of the same kind.
	Extra []Rule
}

// Match is what a statement line is: the ledger entry it makes, and the plan line it was matched
// to or the flag it raises.
type Match struct {
	Kind       Kind      // spend, refund, contribution_received or council_payment
	Post       bool      // false for a council payment: the paid run posted it already
	PlanLineID uuid.UUID // uuid.Nil unless matched
	By         By
	Flag       Flag
	Reason     string // for the auditor
}

// Matcher matches statement lines to a plan's lines.
type Matcher struct {
	rules      []Rule // by byOrder, then plan line order, then Extra order
	excluded   map[string]bool
	categories map[string]string    // merchant category → service category
	byCategory map[string]uuid.UUID // service category → the first plan line with it
	council    []string             // normalised
	contrib    []string             // normalised
}

// NewMatcher prepares matching against lines with rules; the rules' codes and texts are checked.
func NewMatcher(lines []PlanLine, rules Rules) (*Matcher, error) {
	var f apperr.Fields
	m := &Matcher{excluded: map[string]bool{}, categories: map[string]string{}, byCategory: map[string]uuid.UUID{}}
	for i, c := range rules.ExcludedCategories {
		if len(c) != 4 || !digits(c) {
			f.Add(fmt.Sprintf("/excluded_categories/%d", i), "merchant_category", "a merchant category code is four digits")
		}
		m.excluded[c] = true
	}
	for c, cat := range rules.CategoryOfMerchant {
		if len(c) != 4 || !digits(c) || cat == "" {
			f.Add("/category_of_merchant/"+c, "merchant_category", "a merchant category code is four digits and maps to a service category")
		}
		m.categories[c] = cat
	}
	var all []Rule
	for _, l := range lines {
		if _, ok := m.byCategory[l.Category]; !ok && l.Category != "" {
			m.byCategory[l.Category] = l.ID
		}
		for _, t := range l.Payees {
			all = append(all, Rule{ByPayee, t, l.ID, true})
		}
		for _, t := range l.PersonalAssistants {
			all = append(all, Rule{ByPersonalAssistant, t, l.ID, false})
		}
		for _, t := range l.ProviderReferences {
			all = append(all, Rule{ByProviderReference, t, l.ID, false})
		}
		for _, t := range l.Providers {
			all = append(all, Rule{ByProvider, t, l.ID, false})
		}
	}
	for i, r := range rules.Extra {
		if !r.By.rule() || r.PlanLineID == uuid.Nil {
			f.Add(fmt.Sprintf("/extra/%d", i), "rule", "a rule matches by payee, personal_assistant, provider_reference or provider, to a plan line")
		}
	}
	all = append(all, rules.Extra...)
	for _, by := range byOrder {
		for _, r := range all {
			if r.By != by {
				continue
			}
			if r.Text = norm(r.Text); r.Text != "" {
				m.rules = append(m.rules, r)
			}
		}
	}
	for _, t := range rules.CouncilReferences {
		if t = norm(t); t != "" {
			m.council = append(m.council, t)
		}
	}
	for _, t := range rules.ContributionReferences {
		if t = norm(t); t != "" {
			m.contrib = append(m.contrib, t)
		}
	}
	return m, f.Err()
}

func (b By) rule() bool {
	for _, v := range byOrder {
		if v == b {
			return true
		}
	}
	return false
}

// Match says what l is. Money out is spending, tried in this order:
//
//  1. a merchant category on the council's excluded list: excluded_category, whatever else
//     matches (the plan cannot allow what the council never does);
//  2. the plan lines' payees (the whole description), personal assistants, provider references
//     and providers (their words in the description or reference), then the auditor's extra
//     rules, by that precedence; the first plan line in the plan's order wins a tie;
//  3. a merchant category mapped to a service category: the plan line of that category, or
//     not_in_plan when the plan has none;
//  4. otherwise unexplained.
//
// Money in is the council's payment (a council reference: not posted, the paid run posted it), a
// contribution (a contribution reference), a refund from one of the plan's payees (matched as in
// 2), or an unexplained refund.
func (m *Matcher) Match(l Line) Match {
	desc, ref := norm(l.Description), norm(l.Reference)
	if l.Amount > 0 {
		switch {
		case containsAny(desc, ref, m.council):
			return Match{Kind: CouncilPayment, Reason: "the council's payment (posted when its run was paid)"}
		case containsAny(desc, ref, m.contrib):
			return Match{Kind: ContributionReceived, Post: true, Reason: "the person's contribution"}
		}
		if r, ok := m.rule(desc, ref); ok {
			return Match{Kind: Refund, Post: true, PlanLineID: r.PlanLineID, By: r.By, Reason: "money back from a payee of the plan"}
		}
		return Match{Kind: Refund, Post: true, Flag: Unexplained, Reason: "money in from an unknown source"}
	}
	if m.excluded[l.MerchantCategory] {
		return Match{Kind: Spend, Post: true, Flag: ExcludedCategory,
			Reason: fmt.Sprintf("merchant category %s is on the council's excluded list", l.MerchantCategory)}
	}
	if r, ok := m.rule(desc, ref); ok {
		return Match{Kind: Spend, Post: true, PlanLineID: r.PlanLineID, By: r.By, Reason: "matched by " + strings.ReplaceAll(string(r.By), "_", " ")}
	}
	if cat, ok := m.categories[l.MerchantCategory]; ok {
		if id, ok := m.byCategory[cat]; ok {
			return Match{Kind: Spend, Post: true, PlanLineID: id, By: ByCategory, Reason: "merchant category " + l.MerchantCategory + " is " + cat}
		}
		return Match{Kind: Spend, Post: true, Flag: NotInPlan,
			Reason: fmt.Sprintf("merchant category %s is %s, which the plan does not include", l.MerchantCategory, cat)}
	}
	return Match{Kind: Spend, Post: true, Flag: Unexplained, Reason: "no payee, assistant, provider or category of the plan matches"}
}

func (m *Matcher) rule(desc, ref string) (Rule, bool) {
	for _, r := range m.rules {
		if r.Whole {
			if desc == r.Text {
				return r, true
			}
		} else if hasWords(desc, r.Text) || hasWords(ref, r.Text) {
			return r, true
		}
	}
	return Rule{}, false
}

func containsAny(desc, ref string, texts []string) bool {
	for _, t := range texts {
		if hasWords(desc, t) || hasWords(ref, t) {
			return true
		}
	}
	return false
}

// hasWords reports whether the words of needle appear, whole and in order, in hay (both
// normalised).
func hasWords(hay, needle string) bool {
	return hay != "" && strings.Contains(" "+hay+" ", " "+needle+" ")
}

// norm is text as matching compares it: letters and digits upper-cased, everything else a
// single space ("J. Smith-Jones" and "J SMITH JONES" are one name).
func norm(s string) string {
	return strings.Join(strings.FieldsFunc(strings.ToUpper(s), func(r rune) bool {
		return !unicode.IsLetter(r) && !unicode.IsDigit(r)
	}), " ")
}

// ClosingCheck compares a statement's stated closing balance with the ledger's balance at the end
// of the same day.
type ClosingCheck struct {
	On         date.Date
	Stated     int64
	Ledger     int64
	Difference int64 // stated − ledger
	Agrees     bool
	Detail     string // plain English, for the auditor and the letter
}

// CheckClosing compares stated, the balance the statement gives for the end of day on, with
// ledger, the ledger's balance then (Balance after the statement's lines are posted).
func CheckClosing(on date.Date, stated, ledger int64) ClosingCheck {
	c := ClosingCheck{On: on, Stated: stated, Ledger: ledger, Difference: stated - ledger, Agrees: stated == ledger}
	switch {
	case c.Agrees:
		c.Detail = fmt.Sprintf("The statement's balance on %s, %s, agrees with the account's record.", on, money.Format(stated))
	case c.Difference > 0:
		c.Detail = fmt.Sprintf("The statement shows %s on %s, %s more than the account's record of %s.", money.Format(stated), on, money.Format(c.Difference), money.Format(ledger))
	default:
		c.Detail = fmt.Sprintf("The statement shows %s on %s, %s less than the account's record of %s.", money.Format(stated), on, money.Format(-c.Difference), money.Format(ledger))
	}
	return c
}
