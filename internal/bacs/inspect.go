package bacs

import (
	"bytes"
	"fmt"
	"strconv"
	"strings"
	"time"

	"github.com/pbudget/pbudget/internal/date"
)

// Summary is what a Standard 18 file says, read back from its bytes.
type Summary struct {
	SUN           string
	Serial        string
	Created       date.Date
	ProcessingDay date.Date
	Credits       []Credit
	Contra        Credit // the balancing debit: the originator's account and the credits' total
	Declared      Totals // what UTL1 declares
}

// Inspect reads a file written by Write back into its parts and checks that it holds together:
// the record types in order, every record's length, the labels repeating HDR1 and HDR2, only
// credits (code 99) and one contra (code 17), and UTL1's totals and counts equal to the records'.
// Tests and the export's journey check use it to see what a bank would see.
func Inspect(file []byte) (Summary, error) {
	var s Summary
	if !bytes.HasSuffix(file, []byte("\r\n")) {
		return s, fmt.Errorf("bacs: the file does not end with CR LF")
	}
	recs := strings.Split(strings.TrimSuffix(string(file), "\r\n"), "\r\n")
	if len(recs) < 9 {
		return s, fmt.Errorf("bacs: %d records, want at least 9", len(recs))
	}
	head, data, tail := recs[:4], recs[4:len(recs)-3], recs[len(recs)-3:]
	for i, want := range []string{"VOL1", "HDR1", "HDR2", "UHL1"} {
		if len(head[i]) != 80 || !strings.HasPrefix(head[i], want) {
			return s, fmt.Errorf("bacs: record %d is not an 80-character %s", i+1, want)
		}
	}
	for i, want := range []string{"EOF1", "EOF2", "UTL1"} {
		if len(tail[i]) != 80 || !strings.HasPrefix(tail[i], want) {
			return s, fmt.Errorf("bacs: record %d is not an 80-character %s", len(recs)-2+i, want)
		}
	}
	if tail[0][3:] != head[1][3:] || tail[1][3:] != head[2][3:] {
		return s, fmt.Errorf("bacs: EOF1 and EOF2 do not repeat HDR1 and HDR2")
	}
	s.Serial, s.SUN = head[0][4:10], head[0][41:47]
	if head[1][5:11] != s.SUN || head[1][21:27] != s.Serial {
		return s, fmt.Errorf("bacs: HDR1 does not name VOL1's service user and serial")
	}
	var err error
	if s.Created, err = fromJulian(head[1][41:47]); err != nil {
		return s, err
	}
	if s.ProcessingDay, err = fromJulian(head[3][4:10]); err != nil {
		return s, err
	}
	var credits, debits int64
	for i, r := range data {
		if len(r) != 100 {
			return s, fmt.Errorf("bacs: data record %d has %d characters, want 100", i+1, len(r))
		}
		amount, err := strconv.ParseInt(r[35:46], 10, 64)
		if err != nil {
			return s, fmt.Errorf("bacs: data record %d: amount %q", i+1, r[35:46])
		}
		c := Credit{SortCode: r[0:6], AccountNumber: r[6:14], Amount: amount,
			Reference: strings.TrimRight(r[64:82], " "), AccountName: strings.TrimRight(r[82:100], " ")}
		switch code := r[15:17]; {
		case code == CodeCredit && i < len(data)-1:
			s.Credits = append(s.Credits, c)
			credits += amount
		case code == CodeContraDebit && i == len(data)-1:
			s.Contra = c
			debits += amount
		default:
			return s, fmt.Errorf("bacs: data record %d has transaction code %s", i+1, code)
		}
	}
	utl := tail[2]
	for i, f := range []*int64{&s.Declared.DebitTotal, &s.Declared.CreditTotal} {
		if *f, err = strconv.ParseInt(utl[4+13*i:17+13*i], 10, 64); err != nil {
			return s, fmt.Errorf("bacs: UTL1 total %q", utl[4+13*i:17+13*i])
		}
	}
	for i, f := range []*int{&s.Declared.DebitCount, &s.Declared.CreditCount} {
		if *f, err = strconv.Atoi(utl[30+7*i : 37+7*i]); err != nil {
			return s, fmt.Errorf("bacs: UTL1 count %q", utl[30+7*i:37+7*i])
		}
	}
	got := Totals{CreditTotal: credits, DebitTotal: debits, CreditCount: len(s.Credits), DebitCount: 1}
	if got != s.Declared {
		return s, fmt.Errorf("bacs: UTL1 declares %+v, the records add up to %+v", s.Declared, got)
	}
	if credits != debits {
		return s, fmt.Errorf("bacs: credits %d and contra %d do not balance", credits, debits)
	}
	return s, nil
}

func fromJulian(s string) (date.Date, error) {
	if len(s) != 6 || s[0] != ' ' {
		return date.Date{}, fmt.Errorf("bacs: date %q is not \" YYDDD\"", s)
	}
	yy, err1 := strconv.Atoi(s[1:3])
	ddd, err2 := strconv.Atoi(s[3:6])
	if err1 != nil || err2 != nil || ddd < 1 || ddd > 366 {
		return date.Date{}, fmt.Errorf("bacs: date %q is not \" YYDDD\"", s)
	}
	return date.Of(2000+yy, time.January, 1).AddDays(ddd - 1), nil
}
