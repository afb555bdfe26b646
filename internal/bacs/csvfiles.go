package bacs

import (
	"bytes"
	"encoding/csv"
	"fmt"
	"regexp"
	"sort"
	"strings"

	"github.com/pbudget/pbudget/internal/apperr"
	"github.com/pbudget/pbudget/internal/date"
)

// reference is the shape of every reference in the CSV files: a code, never free text.
var reference = regexp.MustCompile(`^[A-Za-z0-9][A-Za-z0-9./-]{0,34}$`)

// CardLoad is one load of a prepaid card.
type CardLoad struct {
	CardAccountReference string // the card provider's account reference
	Amount               int64  // pence, > 0
	Reference            string // the payment's reference, as on the run
}

// CardLoadHeader is the header row of a prepaid-card load file.
var CardLoadHeader = []string{"card_account_reference", "amount", "reference"}

// WriteCardLoads renders a prepaid-card load file: a header row, then one row per load in order of
// reference and card account, amounts in pounds ("123.45").
func WriteCardLoads(loads []CardLoad) ([]byte, error) {
	var fs []apperr.FieldError
	for i, l := range loads {
		at := fmt.Sprintf("/loads/%d", i)
		if !reference.MatchString(l.CardAccountReference) {
			fs = append(fs, refError(at+"/card_account_reference"))
		}
		if !reference.MatchString(l.Reference) {
			fs = append(fs, refError(at+"/reference"))
		}
		if l.Amount < 1 || l.Amount > MaxAmount {
			fs = append(fs, apperr.FieldError{Field: at + "/amount", Code: "out_of_range", Message: "a load is more than zero"})
		}
	}
	if err := invalid(fs); err != nil {
		return nil, err
	}
	sorted := append([]CardLoad(nil), loads...)
	sort.Slice(sorted, func(i, j int) bool {
		a, b := sorted[i], sorted[j]
		if a.Reference != b.Reference {
			return a.Reference < b.Reference
		}
		if a.CardAccountReference != b.CardAccountReference {
			return a.CardAccountReference < b.CardAccountReference
		}
		return a.Amount < b.Amount
	})
	rows := [][]string{CardLoadHeader}
	for _, l := range sorted {
		rows = append(rows, []string{l.CardAccountReference, pounds(l.Amount), l.Reference})
	}
	return writeCSV(rows)
}

// RemittanceLine is one line of a run paid to an ISF provider for a person.
type RemittanceLine struct {
	PersonReference    string    // the council's reference for the person, never a name
	AgreementReference string    // the ISF agreement's reference
	From, To           date.Date // the days the line pays, [From, To)
	Amount             int64     // pence; an adjustment may be negative
}

// Remittance is what one run pays one ISF provider.
type Remittance struct {
	ProviderReference string
	RunReference      string
	PayDate           date.Date
	Lines             []RemittanceLine
}

// RemittanceHeader is the header row of a remittance file.
var RemittanceHeader = []string{"provider_reference", "run_reference", "pay_date", "person_reference",
	"agreement_references", "period_start", "period_end", "amount"}

// WriteRemittance renders a provider's remittance: a header row, then one row per person in order
// of reference — the sum of the person's lines, the agreements they are under (space-separated),
// the first and last day the lines pay for — and never a name. Every person's sum is more than
// zero: a run never pays a negative amount, and what it pays nobody is not remitted.
func WriteRemittance(r Remittance) ([]byte, error) {
	var fs []apperr.FieldError
	if !reference.MatchString(r.ProviderReference) {
		fs = append(fs, refError("/provider_reference"))
	}
	if !reference.MatchString(r.RunReference) {
		fs = append(fs, refError("/run_reference"))
	}
	type person struct {
		agreements map[string]bool
		from, to   date.Date
		amount     int64
	}
	people := map[string]*person{}
	for i, l := range r.Lines {
		at := fmt.Sprintf("/lines/%d", i)
		if !reference.MatchString(l.PersonReference) {
			fs = append(fs, refError(at+"/person_reference"))
		}
		if !reference.MatchString(l.AgreementReference) {
			fs = append(fs, refError(at+"/agreement_reference"))
		}
		if !l.To.After(l.From) {
			fs = append(fs, apperr.FieldError{Field: at + "/to", Code: "not_after_from", Message: "a line pays for at least one day"})
		}
		p := people[l.PersonReference]
		if p == nil {
			p = &person{agreements: map[string]bool{}, from: l.From, to: l.To}
			people[l.PersonReference] = p
		}
		p.agreements[l.AgreementReference] = true
		p.from, p.to = earlier(p.from, l.From), later(p.to, l.To)
		p.amount += l.Amount
	}
	refs := make([]string, 0, len(people))
	for ref := range people {
		refs = append(refs, ref)
	}
	sort.Strings(refs)
	for _, ref := range refs {
		if p := people[ref]; p.amount <= 0 || p.amount > MaxAmount {
			fs = append(fs, apperr.FieldError{Field: "/lines", Code: "out_of_range",
				Message: fmt.Sprintf("person %s's lines add up to %s: a remittance pays each person more than zero", ref, pounds(p.amount))})
		}
	}
	if err := invalid(fs); err != nil {
		return nil, err
	}
	rows := [][]string{RemittanceHeader}
	for _, ref := range refs {
		p := people[ref]
		agreements := make([]string, 0, len(p.agreements))
		for a := range p.agreements {
			agreements = append(agreements, a)
		}
		sort.Strings(agreements)
		rows = append(rows, []string{r.ProviderReference, r.RunReference, r.PayDate.String(), ref,
			strings.Join(agreements, " "), p.from.String(), p.to.AddDays(-1).String(), pounds(p.amount)})
	}
	return writeCSV(rows)
}

func writeCSV(rows [][]string) ([]byte, error) {
	var b bytes.Buffer
	w := csv.NewWriter(&b)
	w.UseCRLF = true
	if err := w.WriteAll(rows); err != nil { // WriteAll flushes
		return nil, err
	}
	return b.Bytes(), nil
}

func refError(field string) apperr.FieldError {
	return apperr.FieldError{Field: field, Code: "pattern",
		Message: "a reference is 1 to 35 letters, digits and . / -, starting with a letter or digit"}
}

func invalid(fs []apperr.FieldError) error {
	if len(fs) == 0 {
		return nil
	}
	e := *ErrInvalidCSV
	e.Fields = fs
	return &e
}

// ErrInvalidCSV is an export file that cannot be written; its Fields name each problem.
var ErrInvalidCSV = apperr.New(apperr.RuleViolation, "export-file-invalid", "the export file cannot be written: see the fields")

// pounds renders pence as pounds with two decimals, without a currency sign or separators.
func pounds(p int64) string {
	sign := ""
	if p < 0 {
		sign, p = "-", -p
	}
	return fmt.Sprintf("%s%d.%02d", sign, p/100, p%100)
}

func earlier(a, b date.Date) date.Date {
	if a.Before(b) {
		return a
	}
	return b
}

func later(a, b date.Date) date.Date { return date.Later(a, b) }
