package account

import (
	"crypto/sha256"
	"encoding/csv"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"strconv"
	"strings"
	"unicode"
	"unicode/utf8"

	"github.com/google/uuid"

	"github.com/pbudget/pbudget/internal/apperr"
	"github.com/pbudget/pbudget/internal/date"
)

// Limits of a statement's fields.
const (
	MaxDescription = 500 // characters
	MaxReference   = 200 // characters
	// MaxReported is the most bad lines a refused file lists one by one; the error counts them
	// all. A file that is wrong throughout (the wrong mapping, say) is refused with a readable
	// answer, and parsing it stays in flat memory.
	MaxReported = 1000
)

// Line is one line of a statement, checked, with its identity.
type Line struct {
	Number           int       // the line of the file it starts on (the header is line 1 after any skipped rows)
	Date             date.Date //
	Description      string    // white space collapsed
	Amount           int64     // pence, signed: money out is negative
	Balance          *int64    // the balance after the line, when the file states one
	Reference        string    // when the file has one
	MerchantCategory string    // card statements: the four-digit merchant category code
	Occurrence       int       // 0 for the first line with this date, amount and description in the file, 1 for the next …
	Key              Key       // the line's identity; see Identify
}

// Key is a statement line's identity: SHA-256 of its canonical form (see Identify). Store it in
// a unique key with the council and the account so that a line is added once.
type Key [sha256.Size]byte

// String renders the key in lower-case hex (64 characters).
func (k Key) String() string { return hex.EncodeToString(k[:]) }

// identityVersion is the first field of the canonical form: a change to the canonical form
// changes it, so that keys of different versions can never be confused.
const identityVersion = "pbudget/statement-line/v1"

// Identify is the identity of a statement line of account: SHA-256 of
//
//	pbudget/statement-line/v1 NUL account NUL YYYY-MM-DD NUL amount in pence NUL DESCRIPTION NUL occurrence
//
// where DESCRIPTION is the description upper-cased with its white space collapsed (a bank that
// changes the case or spacing of a payee between exports still gives the same key), and
// occurrence is the line's position among the lines of the same file with the same date, amount
// and description (0, 1, 2 …). The balance, reference and merchant category are not part of it:
// they describe a transaction, they do not tell two apart, and some exports leave them out.
func Identify(account uuid.UUID, day date.Date, amount int64, description string, occurrence int) Key {
	return sha256.Sum256(appendCanonical(nil, account.String(), day, amount, description, occurrence))
}

// appendCanonical appends a line's canonical form to buf (Parse reuses one buffer for every
// line, so that identifying a line allocates nothing).
func appendCanonical(buf []byte, account string, day date.Date, amount int64, description string, occurrence int) []byte {
	buf = append(buf, identityVersion...)
	buf = append(buf, 0)
	buf = append(buf, account...)
	buf = append(buf, 0)
	buf = day.Time().AppendFormat(buf, "2006-01-02")
	buf = append(buf, 0)
	buf = strconv.AppendInt(buf, amount, 10)
	buf = append(buf, 0)
	buf = append(buf, canonical(description)...)
	buf = append(buf, 0)
	return strconv.AppendInt(buf, int64(occurrence), 10)
}

// canonical is a description as identity and matching compare it.
func canonical(s string) string { return strings.ToUpper(strings.Join(strings.Fields(s), " ")) }

// Order is the date order of a statement's lines.
type Order string

// The orders a statement may list its lines in.
const (
	OneDay     Order = "one_day"    // every line on one date: file order taken as oldest first
	Ascending  Order = "ascending"  // oldest first
	Descending Order = "descending" // newest first
)

// Summary describes a statement that parsed without a bad line.
type Summary struct {
	Lines    int
	From, To date.Date // the first and last dates of its lines (inclusive); zero when it has none
	Order    Order
	In, Out  int64 // pence, magnitudes
	// Closing is the balance stated on the latest line (the last line of an ascending file, the
	// first of a descending one), when that line states one: what the bank says the account held
	// at the end of To. Check it with CheckClosing.
	Closing *int64
}

// ErrInvalidStatement is a statement with bad lines; its fields name each line (up to
// MaxReported) and why, and the message counts them.
var ErrInvalidStatement = apperr.New(apperr.Invalid, "statement-invalid", "the statement has bad lines and nothing was imported")

// Parse reads a statement of account in mapping m, streaming: the file is read record by record
// with encoding/csv and never held whole, and each good line is passed to each in file order with
// its identity, so memory stays flat however long the file is (only the current day's count of
// identical lines is kept).
//
// Every bad line is reported with its line number and reason (the first MaxReported of them, and
// the count); a file with any bad line returns ErrInvalidStatement with them. each sees the good
// lines before the first bad one and none after it, so the caller writes what each receives in a
// transaction that it rolls back on any error: the import is all or nothing. An error returned by
// each stops the parse and is returned as it is.
//
// Lines must be in date order, oldest or newest first, as every bank exports them: a date out of
// that order is a bad line (the identity counts identical lines within a day, which needs all of a
// day's lines together). A line with an amount of zero is a bad line (it moves no money: an
// authorisation check, a notice); so are both or neither of paid in and paid out.
func Parse(r io.Reader, account uuid.UUID, m Mapping, each func(Line) error) (Summary, error) {
	rm, err := m.check()
	if err != nil {
		return Summary{}, err
	}
	cr := csv.NewReader(r)
	cr.Comma = rm.comma
	cr.FieldsPerRecord = -1 // checked here, with a reason a person can act on
	cr.ReuseRecord = true
	p := parser{m: rm, accountStr: account.String(), counts: map[string]int{}}
	for range rm.SkipRows {
		if _, err := cr.Read(); err != nil {
			if errors.Is(err, io.EOF) {
				p.bad(1, "", "empty", "the file ends before its header row")
				return Summary{}, p.result()
			}
			if !p.csvError(err) {
				return Summary{}, err
			}
		}
	}
	header, err := cr.Read()
	if errors.Is(err, io.EOF) {
		p.bad(rm.SkipRows+1, "", "empty", "the file is empty: a statement starts with a header row")
		return Summary{}, p.result()
	}
	if err != nil {
		if !p.csvError(err) {
			return Summary{}, err
		}
		return Summary{}, p.result()
	}
	headerLine, _ := cr.FieldPos(0)
	var missing []string
	if p.cols, missing = rm.locate(header); len(missing) > 0 {
		p.bad(headerLine, "", "header", "the header row needs "+strings.Join(missing, ", ")+" (is this the right format or mapping?)")
		return Summary{}, p.result()
	}
	for {
		rec, err := cr.Read()
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			if !p.csvError(err) {
				return Summary{}, err
			}
			continue
		}
		line, _ := cr.FieldPos(0)
		l, ok := p.line(line, rec)
		if !ok {
			continue
		}
		if p.badCount == 0 {
			if err := each(l); err != nil {
				return Summary{}, err
			}
		}
	}
	if p.badCount > 0 {
		return Summary{}, p.result()
	}
	// The latest line is the last one read, but the first one of a file newest first.
	p.sum.Closing = p.last
	if p.sum.Order == Descending {
		p.sum.Closing = p.first
	}
	return p.sum, nil
}

// parser is the state of one Parse.
type parser struct {
	m          resolved
	accountStr string
	buf        []byte // the canonical form of the current line
	cols       columns
	counts     map[string]int // identical lines so far on day: "amount NUL DESCRIPTION" → count
	day        date.Date
	days       int // distinct dates so far, in order
	sum        Summary
	first      *int64 // the balances stated on the first and the last line read
	last       *int64
	reported   []apperr.FieldError
	badCount   int
}

func (p *parser) bad(line int, field, code, reason string) {
	p.badCount++
	if len(p.reported) < MaxReported {
		ptr := "/lines/" + strconv.Itoa(line)
		if field != "" {
			ptr += "/" + field
		}
		p.reported = append(p.reported, apperr.FieldError{Field: ptr, In: "body", Code: code,
			Message: "line " + strconv.Itoa(line) + ": " + reason})
	}
}

// csvError reports a CSV syntax error as a bad line, or says err is not one (an I/O error).
func (p *parser) csvError(err error) bool {
	var pe *csv.ParseError
	if !errors.As(err, &pe) {
		return false
	}
	p.bad(pe.StartLine, "", "csv", pe.Err.Error())
	return true
}

func (p *parser) result() error {
	e := ErrInvalidStatement.WithMessage("the statement has %d bad line(s) and nothing was imported", p.badCount)
	e.Fields = p.reported
	return e
}

// line checks one record and gives it its identity.
func (p *parser) line(n int, rec []string) (Line, bool) {
	ok := true
	fail := func(field, code, reason string) { p.bad(n, field, code, reason); ok = false }
	if len(rec) < p.cols.width {
		fail("", "fields", fmt.Sprintf("the line has %d fields, the header %d", len(rec), p.cols.width))
		return Line{}, false
	}
	for _, extra := range rec[p.cols.width:] {
		if strings.TrimSpace(extra) != "" {
			fail("", "fields", fmt.Sprintf("the line has %d fields, the header %d", len(rec), p.cols.width))
			return Line{}, false
		}
	}
	get := func(i int) string {
		if i < 0 {
			return ""
		}
		return strings.TrimSpace(rec[i])
	}
	l := Line{Number: n}
	if t, err := p.m.parseDate(get(p.cols.date)); err != nil {
		fail("date", "date", fmt.Sprintf("date %q is not a date written %s", clip(get(p.cols.date)), p.m.DateFormat))
	} else {
		l.Date = date.FromTime(t)
	}
	l.Description = strings.Join(strings.Fields(get(p.cols.description)), " ")
	switch n := utf8.RuneCountInString(l.Description); {
	case n == 0:
		fail("description", "required", "the description is empty")
	case n > MaxDescription:
		fail("description", "too_long", fmt.Sprintf("the description has %d characters, at most %d", n, MaxDescription))
	case !utf8.ValidString(l.Description):
		fail("description", "text", "the description is not valid UTF-8 (save the file as UTF-8)")
	case strings.IndexFunc(l.Description, unicode.IsControl) >= 0:
		fail("description", "text", "the description holds control characters")
	}
	l.Reference = strings.Join(strings.Fields(get(p.cols.reference)), " ")
	if n := utf8.RuneCountInString(l.Reference); n > MaxReference || !utf8.ValidString(l.Reference) || strings.IndexFunc(l.Reference, unicode.IsControl) >= 0 {
		fail("reference", "text", fmt.Sprintf("the reference is at most %d characters without control characters", MaxReference))
	}
	if p.cols.category >= 0 {
		l.MerchantCategory = get(p.cols.category)
		if len(l.MerchantCategory) != 4 || !digits(l.MerchantCategory) {
			fail("merchant_category", "merchant_category", fmt.Sprintf("merchant category code %q is not four digits", clip(l.MerchantCategory)))
		}
	}
	if amount, field, reason := p.amount(rec); reason != "" {
		fail(field, "amount", reason)
	} else {
		l.Amount = amount
	}
	if s := get(p.cols.balance); s != "" {
		if b, err := parseAmount(s, p.m.Unit); err != nil {
			fail("balance", "amount", fmt.Sprintf("balance %q is not an amount in %s", clip(s), p.m.example()))
		} else {
			l.Balance = &b
		}
	}
	if !ok {
		return Line{}, false
	}
	if !p.inOrder(l) {
		fail("date", "order", fmt.Sprintf("date %s is out of order: a statement lists its lines oldest first or newest first, with each day's lines together", l.Date))
		return Line{}, false
	}
	id := strconv.FormatInt(l.Amount, 10) + "\x00" + canonical(l.Description)
	l.Occurrence = p.counts[id]
	p.counts[id]++
	p.buf = appendCanonical(p.buf[:0], p.accountStr, l.Date, l.Amount, l.Description, l.Occurrence)
	l.Key = sha256.Sum256(p.buf)
	p.tally(l)
	return l, true
}

// amount reads a line's signed amount from its amount column, or its paid in and paid out
// columns; on failure it names the field and why.
func (p *parser) amount(rec []string) (int64, string, string) {
	get := func(i int) string {
		if i < 0 {
			return ""
		}
		return strings.TrimSpace(rec[i])
	}
	if p.cols.amount >= 0 {
		s := get(p.cols.amount)
		a, err := parseAmount(s, p.m.Unit)
		switch {
		case s == "":
			return 0, "amount", "the amount is empty"
		case err != nil:
			return 0, "amount", fmt.Sprintf("amount %q is not an amount in %s", clip(s), p.m.example())
		case a == 0:
			return 0, "amount", "the amount is zero: a line that moves no money is not a transaction"
		}
		if p.m.Sign == OutPositive {
			a = -a
		}
		return a, "", ""
	}
	in, out := get(p.cols.paidIn), get(p.cols.paidOut)
	if in == "" && out == "" {
		return 0, "amount", "neither paid in nor paid out is filled"
	}
	if in != "" && out != "" {
		return 0, "amount", "both paid in and paid out are filled"
	}
	field, s, sign := "paid_in", in, int64(1)
	if out != "" {
		field, s, sign = "paid_out", out, -1
	}
	a, err := parseAmount(s, p.m.Unit)
	switch {
	case err != nil || a < 0:
		return 0, field, fmt.Sprintf("%s %q is not an unsigned amount in %s", strings.ReplaceAll(field, "_", " "), clip(s), p.m.example())
	case a == 0:
		return 0, field, "the amount is zero: a line that moves no money is not a transaction"
	}
	return sign * a, "", ""
}

// inOrder keeps the dates in one direction; on a new day it forgets the last day's counts.
func (p *parser) inOrder(l Line) bool {
	if p.days == 0 {
		p.day, p.days, p.sum.Order = l.Date, 1, OneDay
		return true
	}
	switch c := l.Date.Compare(p.day); {
	case c == 0:
		return true
	case p.sum.Order == OneDay:
		p.sum.Order = Ascending
		if c < 0 {
			p.sum.Order = Descending
		}
	case (c > 0) != (p.sum.Order == Ascending):
		return false
	}
	p.day = l.Date
	p.days++
	clear(p.counts)
	return true
}

// tally adds a good line to the summary.
func (p *parser) tally(l Line) {
	s := &p.sum
	if s.Lines == 0 {
		s.From, s.To = l.Date, l.Date
	}
	s.Lines++
	if l.Date.Before(s.From) {
		s.From = l.Date
	}
	if l.Date.After(s.To) {
		s.To = l.Date
	}
	if l.Amount > 0 {
		s.In += l.Amount
	} else {
		s.Out -= l.Amount
	}
	if s.Lines == 1 {
		p.first = l.Balance
	}
	p.last = l.Balance
}

// clip shortens a bad value for an error message.
func clip(s string) string {
	if utf8.RuneCountInString(s) <= 40 {
		return s
	}
	return string([]rune(s)[:40]) + "…"
}
