package account

import (
	"fmt"
	"strings"
	"time"
	"unicode"

	"github.com/pbudget/pbudget/internal/apperr"
)

// Mapping says how to read one bank's or card provider's CSV export: which header names hold
// which field, how dates and amounts are written, and which way the amount column counts. A
// council describes another bank's export with one (in its configuration, or with the upload), so
// no export needs converting by hand first.
//
// Header names are matched ignoring case, surrounding spaces, a byte-order mark, and the
// difference between spaces, hyphens and underscores ("Paid In", "paid_in" and "PAID-IN" are one
// name). Date and Description are required. The amount is either one signed column (Amount, its
// direction given by Sign) or two unsigned columns (PaidIn and PaidOut, exactly one filled on each
// line); when Amount is named and the file has that column it is used, else PaidIn and PaidOut.
// MerchantCategory is required when named; Balance and Reference are read when the file has them.
type Mapping struct {
	Date             string         `json:"date" yaml:"date"`
	Description      string         `json:"description" yaml:"description"` // the payee, or the merchant on a card statement
	Amount           string         `json:"amount,omitempty" yaml:"amount,omitempty"`
	PaidIn           string         `json:"paid_in,omitempty" yaml:"paid_in,omitempty"`
	PaidOut          string         `json:"paid_out,omitempty" yaml:"paid_out,omitempty"`
	Balance          string         `json:"balance,omitempty" yaml:"balance,omitempty"`
	Reference        string         `json:"reference,omitempty" yaml:"reference,omitempty"`
	MerchantCategory string         `json:"merchant_category,omitempty" yaml:"merchant_category,omitempty"`
	DateFormat       string         `json:"date_format,omitempty" yaml:"date_format,omitempty"` // DD/MM/YYYY style; default YYYY-MM-DD
	Unit             Unit           `json:"unit,omitempty" yaml:"unit,omitempty"`               // default pounds
	Sign             SignConvention `json:"sign,omitempty" yaml:"sign,omitempty"`               // of Amount; default out_negative
	Delimiter        string         `json:"delimiter,omitempty" yaml:"delimiter,omitempty"`     // one character; default ","
	SkipRows         int            `json:"skip_rows,omitempty" yaml:"skip_rows,omitempty"`     // rows before the header (an account summary some banks put first)
}

// The built-in formats of DOMAIN.md section 11.
var (
	// BankFormat is a bank account's statement: date, description, amount (or paid in and paid
	// out), and optionally balance and reference; ISO dates, decimal pounds, money out negative.
	BankFormat = Mapping{Date: "date", Description: "description", Amount: "amount", PaidIn: "paid_in",
		PaidOut: "paid_out", Balance: "balance", Reference: "reference"}
	// CardFormat is a prepaid card provider's statement: date, merchant, merchant category code
	// (ISO 18245, four digits) and amount; ISO dates, decimal pounds, money out negative (loads
	// and refunds positive).
	CardFormat = Mapping{Date: "date", Description: "merchant", MerchantCategory: "merchant_category_code", Amount: "amount"}
)

// Format names a built-in mapping.
type Format string

// The built-in formats.
const (
	Bank Format = "bank"
	Card Format = "card"
)

// MappingOf returns the built-in mapping of f.
func MappingOf(f Format) (Mapping, bool) {
	switch f {
	case Bank:
		return BankFormat, true
	case Card:
		return CardFormat, true
	}
	return Mapping{}, false
}

// dateTokens turn a DD/MM/YYYY-style format into a Go layout, longest token first.
var dateTokens = []struct{ token, layout string }{
	{"YYYY", "2006"}, {"YY", "06"}, {"MMMM", "January"}, {"MMM", "Jan"}, {"MM", "01"}, {"M", "1"}, {"DD", "02"}, {"D", "2"},
}

// goLayout converts a date format such as "DD/MM/YYYY", "D MMM YYYY" or "YYYY-MM-DD" (letters
// D, M, Y; any other character other than a letter or digit stands for itself) into a Go layout.
func goLayout(format string) (string, bool) {
	var b strings.Builder
	hasY, hasM, hasD := false, false, false
	for rest := format; rest != ""; {
		matched := false
		for _, t := range dateTokens {
			if strings.HasPrefix(rest, t.token) {
				b.WriteString(t.layout)
				rest = rest[len(t.token):]
				hasY, hasM, hasD = hasY || t.token[0] == 'Y', hasM || t.token[0] == 'M', hasD || t.token[0] == 'D'
				matched = true
				break
			}
		}
		if matched {
			continue
		}
		r := []rune(rest)[0]
		if unicode.IsLetter(r) || unicode.IsDigit(r) || unicode.IsControl(r) {
			return "", false
		}
		b.WriteRune(r)
		rest = rest[len(string(r)):]
	}
	return b.String(), hasY && hasM && hasD
}

// resolved is a mapping checked and ready to read a file with.
type resolved struct {
	Mapping
	layout string
	comma  rune
}

// check validates m and fills in its defaults.
func (m Mapping) check() (resolved, error) {
	var f apperr.Fields
	r := resolved{Mapping: m, comma: ','}
	if r.DateFormat == "" {
		r.DateFormat = "YYYY-MM-DD"
	}
	if r.Unit == "" {
		r.Unit = Pounds
	}
	if r.Sign == "" {
		r.Sign = OutNegative
	}
	if strings.TrimSpace(m.Date) == "" {
		f.Add("/mapping/date", "required", "name the date column")
	}
	if strings.TrimSpace(m.Description) == "" {
		f.Add("/mapping/description", "required", "name the description (payee or merchant) column")
	}
	if strings.TrimSpace(m.Amount) == "" && strings.TrimSpace(m.PaidIn) == "" && strings.TrimSpace(m.PaidOut) == "" {
		f.Add("/mapping/amount", "required", "name the amount column, or the paid in and paid out columns")
	}
	var ok bool
	if r.layout, ok = goLayout(r.DateFormat); !ok {
		f.Add("/mapping/date_format", "date_format", fmt.Sprintf("date format %q: write it with DD, MM (or MMM), YYYY (or YY) and separators, e.g. DD/MM/YYYY", r.DateFormat))
	}
	if r.Unit != Pounds && r.Unit != Pence {
		f.Add("/mapping/unit", "enum", "unit is pounds or pence")
	}
	if r.Sign != OutNegative && r.Sign != OutPositive {
		f.Add("/mapping/sign", "enum", "sign is out_negative or out_positive")
	}
	if m.Delimiter != "" {
		rs := []rune(m.Delimiter)
		if len(rs) != 1 || rs[0] == '"' || rs[0] == '\r' || rs[0] == '\n' || unicode.IsLetter(rs[0]) || unicode.IsDigit(rs[0]) || rs[0] == '.' {
			f.Add("/mapping/delimiter", "delimiter", "the delimiter is one character other than a letter, digit, point, quote or line break")
		} else {
			r.comma = rs[0]
		}
	}
	if m.SkipRows < 0 || m.SkipRows > 50 {
		f.Add("/mapping/skip_rows", "out_of_range", "skip_rows is between 0 and 50")
	}
	return r, f.Err()
}

// headerName normalises a header cell or a mapping's column name for comparison.
func headerName(s string) string {
	s = strings.TrimPrefix(s, "\ufeff")
	s = strings.ToLower(strings.TrimSpace(s))
	return strings.Join(strings.FieldsFunc(s, func(r rune) bool { return r == ' ' || r == '_' || r == '-' || r == '\t' }), "_")
}

// columns are the indexes of a file's fields, −1 when absent.
type columns struct {
	date, description, amount, paidIn, paidOut, balance, reference, category int
	width                                                                    int
}

// locate finds the mapping's columns in a header row, or says which are missing.
func (r resolved) locate(header []string) (columns, []string) {
	at := map[string]int{}
	for i, h := range header {
		if n := headerName(h); n != "" {
			if _, dup := at[n]; !dup {
				at[n] = i
			}
		}
	}
	find := func(name string) int {
		if strings.TrimSpace(name) == "" {
			return -1
		}
		if i, ok := at[headerName(name)]; ok {
			return i
		}
		return -1
	}
	c := columns{date: find(r.Date), description: find(r.Description), amount: find(r.Amount), paidIn: find(r.PaidIn),
		paidOut: find(r.PaidOut), balance: find(r.Balance), reference: find(r.Reference), category: find(r.MerchantCategory), width: len(header)}
	var missing []string
	if c.date < 0 {
		missing = append(missing, fmt.Sprintf("a %q column", r.Date))
	}
	if c.description < 0 {
		missing = append(missing, fmt.Sprintf("a %q column", r.Description))
	}
	if c.amount >= 0 {
		c.paidIn, c.paidOut = -1, -1
	} else if c.paidIn < 0 && c.paidOut < 0 {
		switch {
		case r.Amount != "" && (r.PaidIn != "" || r.PaidOut != ""):
			missing = append(missing, fmt.Sprintf("an %q column, or %q and %q columns", r.Amount, r.PaidIn, r.PaidOut))
		case r.Amount != "":
			missing = append(missing, fmt.Sprintf("an %q column", r.Amount))
		default:
			missing = append(missing, fmt.Sprintf("%q and %q columns", r.PaidIn, r.PaidOut))
		}
	}
	if r.MerchantCategory != "" && c.category < 0 {
		missing = append(missing, fmt.Sprintf("a %q column", r.MerchantCategory))
	}
	return c, missing
}

// parseDate reads a date in the mapping's layout.
func (r resolved) parseDate(s string) (time.Time, error) {
	return time.Parse(r.layout, strings.TrimSpace(s))
}

// example says how the mapping writes amounts, for error messages.
func (r resolved) example() string {
	if r.Unit == Pence {
		return "whole pence, such as -1234"
	}
	return "pounds with at most two decimal places, such as -12.34"
}

// ValidateMapping checks a mapping (its problems name /mapping/… fields) without reading a file.
func ValidateMapping(m Mapping) error {
	_, err := m.check()
	return err
}
