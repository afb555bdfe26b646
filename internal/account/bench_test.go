package account

import (
	"bytes"
	"fmt"
	"io"
	"testing"
)

// statementReader generates a bank statement of n lines on the fly (about 100 lines a day, a
// quarter of them identical coffees), so that measuring Parse measures Parse and not the file.
type statementReader struct {
	n, i int
	buf  bytes.Buffer
}

func newStatement(n int) *statementReader {
	r := &statementReader{n: n}
	r.buf.WriteString("date,description,amount,balance,reference\n")
	return r
}

func (r *statementReader) Read(p []byte) (int, error) {
	for r.buf.Len() < len(p) && r.i < r.n {
		day := d(2020, 1, 1).AddDays(r.i / 100)
		if r.i%4 == 0 {
			fmt.Fprintf(&r.buf, "%s,CAFE NERO,-4.50,%d.00,\n", day, r.i)
		} else {
			fmt.Fprintf(&r.buf, "%s,PAYEE %d LTD,-%d.%02d,%d.00,INV-%d\n", day, r.i%37, 1+r.i%300, r.i%100, r.i, r.i)
		}
		r.i++
	}
	if r.buf.Len() == 0 {
		return 0, io.EOF
	}
	return r.buf.Read(p)
}

// BenchmarkParse100000 parses and identifies a 100,000-line statement (the import
// benchmark, without the database).
func BenchmarkParse100000(b *testing.B) {
	b.ReportAllocs()
	for b.Loop() {
		n := 0
		s, err := Parse(newStatement(100_000), acct, BankFormat, func(Line) error { n++; return nil })
		if err != nil || n != 100_000 || s.Lines != n {
			b.Fatal(err, n)
		}
	}
}

// BenchmarkParse1000000 is ten times as long: its peak memory (go test -c, then /usr/bin/time -v
// the binary) shows that parsing is streamed, not held.
func BenchmarkParse1000000(b *testing.B) {
	for b.Loop() {
		n := 0
		if _, err := Parse(newStatement(1_000_000), acct, BankFormat, func(Line) error { n++; return nil }); err != nil || n != 1_000_000 {
			b.Fatal(err, n)
		}
	}
}
