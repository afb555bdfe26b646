package dpaudit

import "github.com/pbudget/pbudget/internal/date"

// AdultAge is the age from which a person is an adult: a DBS check of their personal assistants
// is mandatory for a child.
const AdultAge = 18

// paEvidenceForEveryone is what the council requires of every personal assistant a direct payment
// employs (DOMAIN.md section 4, "Employing a personal assistant"): the employer's liability
// insurance and the payroll records (PAYE and NI). The one list: RequiredPAEvidence adds the DBS
// check for a child.
var paEvidenceForEveryone = []EvidenceKind{InsuranceCertificate, PayrollRecord}

// RequiredPAEvidence is the evidence each personal assistant of a person born on born must have
// for the audit period p: insurance and payroll records always, and a DBS check when the person
// was a child for any of the period (under AdultAge on its first day).
func RequiredPAEvidence(born date.Date, p Period) []EvidenceKind {
	out := append([]EvidenceKind{}, paEvidenceForEveryone...)
	if born.AgeOn(p.Start) < AdultAge {
		out = append(out, DBSCheck)
	}
	return out
}

// PAItem is an evidence item held about a personal assistant, by the council's reference for
// them (never a name).
type PAItem struct {
	Assistant  string
	Kind       EvidenceKind
	ValidUntil *date.Date // nil: does not expire
}

// Assistants is the personal assistants (by reference, in the order given, each once) with the
// evidence required of them and the items held: for each kind, the item valid longest (one that
// does not expire beats any date). Items about other assistants are left out.
func Assistants(refs []string, required []EvidenceKind, items []PAItem) []Assistant {
	out := make([]Assistant, 0, len(refs))
	index := map[string]int{}
	for _, r := range refs {
		if _, seen := index[r]; seen {
			continue
		}
		index[r] = len(out)
		out = append(out, Assistant{Reference: r, Required: append([]EvidenceKind{}, required...), Held: map[EvidenceKind]date.Date{}})
	}
	for _, it := range items {
		i, ok := index[it.Assistant]
		if !ok {
			continue
		}
		held := out[i].Held
		until := date.Date{} // the zero date: does not expire
		if it.ValidUntil != nil {
			until = *it.ValidUntil
		}
		prev, had := held[it.Kind]
		switch {
		case !had:
			held[it.Kind] = until
		case prev == (date.Date{}):
		case until == (date.Date{}) || until.After(prev):
			held[it.Kind] = until
		}
	}
	return out
}
