package dpaudit

import (
	"fmt"

	"github.com/pbudget/pbudget/internal/account"
	"github.com/pbudget/pbudget/internal/date"
	"github.com/pbudget/pbudget/internal/money"
)

// FindingType is a kind of finding (DOMAIN.md section 11).
type FindingType string

// The types of finding, in the order an audit lists them.
const (
	UnevidencedSpend      FindingType = "unevidenced_spend"
	SpendOutsidePlan      FindingType = "spend_outside_plan"
	ExcludedCategorySpend FindingType = "excluded_category"
	ContributionShortfall FindingType = "contribution_shortfall"
	PAEvidenceMissing     FindingType = "pa_evidence_missing"
	PAEvidenceExpired     FindingType = "pa_evidence_expired"
	UnexplainedDifference FindingType = "unexplained_difference"
)

// FindingTypes lists the types in order.
var FindingTypes = []FindingType{UnevidencedSpend, SpendOutsidePlan, ExcludedCategorySpend, ContributionShortfall,
	PAEvidenceMissing, PAEvidenceExpired, UnexplainedDifference}

// Resolution is how an auditor or practitioner resolved a statement line's flag (with a note,
// recorded beside the line).
type Resolution string

// The resolutions of a flag.
const (
	Unresolved     Resolution = ""
	Accepted       Resolution = "accepted"        // the spending was allowed after all (a wrongly coded merchant …)
	Misspend       Resolution = "misspend"        // money used outside the plan: a finding, and recoverable
	EvidencedLater Resolution = "evidenced_later" // evidence arrived that shows it was plan spending
)

// FlaggedLine is a flagged statement line of the period.
type FlaggedLine struct {
	Flag       account.Flag
	Amount     int64 // pence, magnitude
	Resolution Resolution
}

// Assistant is a personal assistant the account employs, by the council's reference (never a
// name), with the evidence the council requires of their employment.
type Assistant struct {
	Reference string
	Required  []EvidenceKind
	Held      map[EvidenceKind]date.Date // kind → last day it is valid (zero: does not expire)
}

// Finding is one finding of an audit.
type Finding struct {
	Type   FindingType
	Count  int   // lines or assistants concerned; 1 for figures
	Amount int64 // pence concerned; 0 for evidence findings
	Detail string
}

// FindingsInput is what findings are derived from.
type FindingsInput struct {
	Period         Period
	Flagged        []FlaggedLine
	Reconciliation Reconciliation
	Assistants     []Assistant
}

// Findings derives an audit's findings, one per type that applies, in FindingTypes order:
//
//   - an unexplained line not resolved: unevidenced spend;
//   - a not_in_plan line not resolved, or any line resolved as misspend (other than an excluded
//     category): spend outside the plan;
//   - an excluded_category line not accepted or evidenced: excluded category;
//   - contributions due more than received: contribution shortfall;
//   - an assistant without a required item: PA evidence missing; with an item whose last valid day
//     is before the period's last day: PA evidence expired;
//   - a statement closing balance other than the expected one: unexplained difference.
func Findings(in FindingsInput) []Finding {
	byType := map[FindingType]*Finding{}
	add := func(t FindingType, amount int64) {
		f := byType[t]
		if f == nil {
			f = &Finding{Type: t}
			byType[t] = f
		}
		f.Count++
		f.Amount += amount
	}
	for _, l := range in.Flagged {
		switch {
		case l.Resolution == Accepted || l.Resolution == EvidencedLater:
		case l.Flag == account.ExcludedCategory:
			add(ExcludedCategorySpend, l.Amount)
		case l.Resolution == Misspend || l.Flag == account.NotInPlan:
			add(SpendOutsidePlan, l.Amount)
		case l.Flag == account.Unexplained:
			add(UnevidencedSpend, l.Amount)
		}
	}
	r := in.Reconciliation
	if r.ContributionShortfall > 0 {
		add(ContributionShortfall, r.ContributionShortfall)
	}
	last := in.Period.Last()
	for _, a := range in.Assistants {
		missing, expired := false, false
		for _, k := range a.Required {
			until, ok := a.Held[k]
			switch {
			case !ok:
				missing = true
			case until != (date.Date{}) && until.Before(last):
				expired = true
			}
		}
		if missing {
			add(PAEvidenceMissing, 0)
		}
		if expired {
			add(PAEvidenceExpired, 0)
		}
	}
	if r.Unexplained != 0 {
		add(UnexplainedDifference, abs(r.Unexplained))
	}
	var out []Finding
	for _, t := range FindingTypes {
		if f := byType[t]; f != nil {
			f.Detail = detail(*f, r)
			out = append(out, *f)
		}
	}
	return out
}

func detail(f Finding, r Reconciliation) string {
	m := money.Format
	switch f.Type {
	case UnevidencedSpend:
		return fmt.Sprintf("%s totalling %s %s no evidence of what %s for.", count(f.Count, "payment"), m(f.Amount), verb(f.Count, "has", "have"), verb(f.Count, "it was", "they were"))
	case SpendOutsidePlan:
		return fmt.Sprintf("%s totalling %s %s for things the support plan does not include.", count(f.Count, "payment"), m(f.Amount), verb(f.Count, "was", "were"))
	case ExcludedCategorySpend:
		return fmt.Sprintf("%s totalling %s %s to kinds of business a direct payment may not be spent with.", count(f.Count, "payment"), m(f.Amount), verb(f.Count, "was", "were"))
	case ContributionShortfall:
		return fmt.Sprintf("%s of your contributions due was not paid into the account.", m(f.Amount))
	case PAEvidenceMissing:
		return fmt.Sprintf("%s %s a required record (such as insurance, a DBS check or payroll).", count(f.Count, "personal assistant"), verb(f.Count, "lacks", "lack"))
	case PAEvidenceExpired:
		return fmt.Sprintf("%s %s a record that expired before the end of the period.", count(f.Count, "personal assistant"), verb(f.Count, "has", "have"))
	case UnexplainedDifference:
		if r.Unexplained > 0 {
			return fmt.Sprintf("The statement shows %s more than the account's record explains.", m(f.Amount))
		}
		return fmt.Sprintf("The statement shows %s less than the account's record explains.", m(f.Amount))
	}
	return ""
}

// MisspendTotal is the money resolved as misspent, in pence: the basis of a misspend recovery.
func MisspendTotal(flagged []FlaggedLine) int64 {
	var t int64
	for _, l := range flagged {
		if l.Resolution == Misspend {
			t += l.Amount
		}
	}
	return t
}

func abs(v int64) int64 {
	if v < 0 {
		return -v
	}
	return v
}

// count writes "1 payment" or "3 payments".
func count(n int, noun string) string {
	if n == 1 {
		return "1 " + noun
	}
	return fmt.Sprintf("%d %ss", n, noun)
}

func verb(n int, one, many string) string {
	if n == 1 {
		return one
	}
	return many
}
