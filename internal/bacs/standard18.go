package bacs

import (
	"bytes"
	"fmt"
	"sort"
	"strings"

	"github.com/pbudget/pbudget/internal/apperr"
	"github.com/pbudget/pbudget/internal/date"
)

// Field limits of Standard 18.
const (
	NameLen      = 18                // account names, the originator's name, references
	MaxAmount    = 99_999_999_999    // pence: 11 digits
	MaxTotal     = 9_999_999_999_999 // pence: 13 digits in UTL1
	MaxItems     = 9_999_999         // 7 digits in UTL1
	MaxAheadDays = 31                // a processing day is at most 31 days after submission
)

// Transaction codes.
const (
	CodeCredit      = "99" // a direct credit
	CodeContraDebit = "17" // the debit of the originator's account that balances the credits
)

// Originator is the council as the file's service user: its service user number and the account
// the credits are paid from.
type Originator struct {
	SUN           string // service user number, 6 digits
	SortCode      string // 6 digits
	AccountNumber string // 8 digits
	Name          string // ≤ 18 BACS characters: shown to recipients, and the contra's account name
}

// Credit is one payment to a bank account.
type Credit struct {
	SortCode      string // 6 digits
	AccountNumber string // 8 digits
	AccountName   string // ≤ 18 BACS characters, as the bank holds it
	Reference     string // ≤ 18 BACS characters, starting with a letter or digit: what the recipient sees
	Amount        int64  // pence, 1 to MaxAmount
}

// File is one Standard 18 submission: credits from one originator on one processing day.
type File struct {
	Originator      Originator
	Serial          string    // submission serial number: 6 letters or digits, not all zeros, unique for the SUN that day
	FileNumber      int       // UHL1 file number, 1–999 (0 means 1)
	Created         date.Date // the day the file is made (and submitted)
	ProcessingDay   date.Date // the BACS processing day: a working day, after Created, within 31 days
	ContraNarrative string    // optional, ≤ 18 BACS characters, on the contra record
	Credits         []Credit
}

// Totals are what UTL1 declares.
type Totals struct {
	CreditTotal, DebitTotal int64 // pence
	CreditCount, DebitCount int
}

// ErrInvalid is a file that cannot be written; its Fields name each problem.
var ErrInvalid = apperr.New(apperr.RuleViolation, "bacs-file-invalid", "the BACS file cannot be written: see the fields")

// Write renders the file. The credits are written in order of reference (then sort code, account
// and amount) whatever order they come in, so the same run always gives the same bytes.
func Write(f File) ([]byte, error) {
	if err := f.validate(); err != nil {
		return nil, err
	}
	credits := append([]Credit(nil), f.Credits...)
	sort.Slice(credits, func(i, j int) bool { return creditKey(credits[i]) < creditKey(credits[j]) })
	t := f.Totals()
	fileNumber := f.FileNumber
	if fileNumber == 0 {
		fileNumber = 1
	}
	o := f.Originator
	hdr1 := "1A" + o.SUN + "S" + blank(3) + o.SUN + f.Serial + "0001" + "0001" + blank(6) +
		julian(f.Created) + julian(f.ProcessingDay) + blank(1) + "000000" + blank(20)
	hdr2 := "2F0200000100" + blank(35) + "00" + blank(28)
	var b bytes.Buffer
	records := []string{
		"VOL1" + f.Serial + blank(1) + blank(20) + blank(6) + blank(4) + o.SUN + blank(4) + blank(28) + "1",
		"HDR" + hdr1,
		"HDR" + hdr2,
		"UHL1" + julian(f.ProcessingDay) + "999999" + blank(4) + "00" + "000000" + pad("1 DAILY", 9) +
			fmt.Sprintf("%03d", fileNumber) + blank(7) + blank(7) + blank(26),
	}
	for _, c := range credits {
		records = append(records, c.SortCode+c.AccountNumber+"0"+CodeCredit+o.SortCode+o.AccountNumber+blank(4)+
			amount(c.Amount)+pad(o.Name, NameLen)+pad(c.Reference, NameLen)+pad(c.AccountName, NameLen))
	}
	records = append(records,
		o.SortCode+o.AccountNumber+"0"+CodeContraDebit+o.SortCode+o.AccountNumber+blank(4)+
			amount(t.CreditTotal)+pad(f.ContraNarrative, NameLen)+pad("CONTRA", NameLen)+pad(o.Name, NameLen),
		"EOF"+hdr1,
		"EOF"+hdr2,
		"UTL1"+fmt.Sprintf("%013d%013d%07d%07d", t.DebitTotal, t.CreditTotal, t.DebitCount, t.CreditCount)+blank(8)+blank(7)+blank(21),
	)
	for _, r := range records {
		b.WriteString(r)
		b.WriteString("\r\n")
	}
	return b.Bytes(), nil
}

// Totals are the file's declared totals: the credits, and the one contra debit that balances them.
func (f File) Totals() Totals {
	var t Totals
	for _, c := range f.Credits {
		t.CreditTotal += c.Amount
	}
	t.CreditCount = len(f.Credits)
	t.DebitTotal, t.DebitCount = t.CreditTotal, 1
	return t
}

func creditKey(c Credit) string {
	return fmt.Sprintf("%-18s%s%s%011d", c.Reference, c.SortCode, c.AccountNumber, c.Amount)
}

func (f File) validate() error {
	var fs []apperr.FieldError
	add := func(field, code, msg string) {
		fs = append(fs, apperr.FieldError{Field: field, Code: code, Message: msg})
	}
	if !digits(f.Originator.SUN, 6) {
		add("/originator/sun", "pattern", "the service user number is 6 digits")
	}
	for _, e := range CheckAccount(f.Originator.SortCode, f.Originator.AccountNumber, f.Originator.Name) {
		field := strings.Replace(e.Field, "/account_name", "/name", 1)
		add("/originator"+field, e.Code, e.Message)
	}
	if len(f.Serial) != 6 || !bacsText(f.Serial) || strings.ContainsAny(f.Serial, " ./&-") || f.Serial == "000000" {
		add("/serial", "pattern", "the submission serial number is 6 letters or digits, not all zeros")
	}
	if f.FileNumber < 0 || f.FileNumber > 999 {
		add("/file_number", "out_of_range", "the file number is 1 to 999")
	}
	if !f.ProcessingDay.After(f.Created) || f.ProcessingDay.DaysSince(f.Created) > MaxAheadDays {
		add("/processing_day", "out_of_range", fmt.Sprintf("the processing day is after the file's creation and at most %d days later", MaxAheadDays))
	}
	if len(f.ContraNarrative) > NameLen || !bacsText(f.ContraNarrative) {
		add("/contra_narrative", "pattern", "the contra narrative is at most 18 BACS characters")
	}
	if len(f.Credits) == 0 {
		add("/credits", "required", "a file has at least one credit")
	}
	if len(f.Credits) > MaxItems {
		add("/credits", "too_many", fmt.Sprintf("a file has at most %d credits", MaxItems))
	}
	var total int64
	for i, c := range f.Credits {
		at := fmt.Sprintf("/credits/%d", i)
		for _, e := range CheckAccount(c.SortCode, c.AccountNumber, c.AccountName) {
			add(at+e.Field, e.Code, e.Message)
		}
		if !validReference(c.Reference) {
			add(at+"/reference", "pattern", "the reference is 1 to 18 BACS characters, starting with a letter or digit")
		}
		if c.Amount < 1 || c.Amount > MaxAmount {
			add(at+"/amount", "out_of_range", "a credit is 1p to £999,999,999.99")
		} else {
			total += c.Amount
		}
	}
	if total > MaxAmount {
		// One contra record balances the file, and its amount has 11 digits like any other.
		add("/credits", "total_too_large", "the credits add up to more than £999,999,999.99: split the run's file")
	}
	if len(fs) > 0 {
		e := *ErrInvalid
		e.Fields = fs
		return &e
	}
	return nil
}

// CheckAccount reports the problems of a bank account, one per field (/sort_code,
// /account_number, /account_name): a sort code is 6 digits, an account number 8 digits, an account
// name 1 to 18 BACS characters in upper case, not all spaces. Use NormaliseName first on what
// people type.
func CheckAccount(sortCode, accountNumber, accountName string) []apperr.FieldError {
	var fs []apperr.FieldError
	if !digits(sortCode, 6) {
		fs = append(fs, apperr.FieldError{Field: "/sort_code", Code: "pattern", Message: "a sort code is 6 digits"})
	}
	if !digits(accountNumber, 8) {
		fs = append(fs, apperr.FieldError{Field: "/account_number", Code: "pattern", Message: "an account number is 8 digits"})
	}
	if len(accountName) > NameLen || strings.TrimSpace(accountName) == "" || !bacsText(accountName) {
		fs = append(fs, apperr.FieldError{Field: "/account_name", Code: "pattern",
			Message: "an account name is 1 to 18 characters: capital letters, digits, spaces and . & / -"})
	}
	return fs
}

// NormaliseName turns what someone typed into an account name for BACS: surrounding spaces
// trimmed and lower-case letters upper-cased. Anything else outside the BACS character set is
// refused, naming the character, rather than transliterated (see the package documentation).
func NormaliseName(s string) (string, error) {
	s = strings.ToUpper(strings.TrimSpace(s))
	for _, r := range s {
		if !bacsRune(r) {
			return "", ErrName.WithMessage("%q is not a BACS character: use capital letters, digits, spaces and . & / - as the bank holds the name", r)
		}
	}
	if s == "" || len(s) > NameLen {
		return "", ErrName.WithMessage("an account name is 1 to %d characters, not %d", NameLen, len(s))
	}
	return s, nil
}

// ErrName is an account name that BACS cannot carry.
var ErrName = apperr.New(apperr.RuleViolation, "bacs-account-name-invalid",
	"an account name is 1 to 18 characters: capital letters, digits, spaces and . & / -")

func validReference(s string) bool {
	return s != "" && len(s) <= NameLen && bacsText(s) && alnum(rune(s[0]))
}

func bacsRune(r rune) bool {
	return (r >= 'A' && r <= 'Z') || (r >= '0' && r <= '9') || strings.ContainsRune(" .&/-", r)
}

func alnum(r rune) bool { return (r >= 'A' && r <= 'Z') || (r >= '0' && r <= '9') }

func bacsText(s string) bool {
	for _, r := range s {
		if !bacsRune(r) {
			return false
		}
	}
	return true
}

func digits(s string, n int) bool {
	if len(s) != n {
		return false
	}
	for _, r := range s {
		if r < '0' || r > '9' {
			return false
		}
	}
	return true
}

func blank(n int) string { return strings.Repeat(" ", n) }

func pad(s string, n int) string { return s + blank(n-len(s)) }

func amount(p int64) string { return fmt.Sprintf("%011d", p) }

// julian renders d as Standard 18 does: a space, the year's last two digits, the day of the year.
func julian(d date.Date) string {
	return fmt.Sprintf(" %02d%03d", d.Year()%100, d.Time().YearDay())
}
