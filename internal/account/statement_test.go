package account

import (
	"errors"
	"fmt"
	"strings"
	"testing"

	"github.com/google/uuid"
	"github.com/stretchr/testify/require"

	"github.com/pbudget/pbudget/internal/apperr"
	"github.com/pbudget/pbudget/internal/golden"
)

var acct = uuid.NewSHA1(uuid.Nil, []byte("account"))

func parse(t *testing.T, csv string, m Mapping) ([]Line, Summary, error) {
	t.Helper()
	var lines []Line
	s, err := Parse(strings.NewReader(csv), acct, m, func(l Line) error { lines = append(lines, l); return nil })
	return lines, s, err
}

func TestAmountsAreReadExactlyNeverThroughAFloat(t *testing.T) {
	t.Parallel()
	good := []struct {
		in   string
		unit Unit
		want int64
	}{
		{"12.34", Pounds, 1234}, {"-12.34", Pounds, -1234}, {"+12.34", Pounds, 1234}, {"12.3", Pounds, 1230},
		{"12", Pounds, 1200}, {"0.01", Pounds, 1}, {"£1,234.56", Pounds, 123456}, {"-£5.00", Pounds, -500},
		{"(5.00)", Pounds, -500}, {" 7.10 ", Pounds, 710}, {"0.29", Pounds, 29}, {"1.15", Pounds, 115},
		{"1,000,000,000.00", Pounds, MaxAmount}, {"1234", Pence, 1234}, {"-1234", Pence, -1234},
		{"100000000000", Pence, MaxAmount},
	}
	for _, tt := range good {
		got, err := parseAmount(tt.in, tt.unit)
		require.NoError(t, err, tt.in)
		require.Equal(t, tt.want, got, tt.in)
	}
	bad := []struct {
		in   string
		unit Unit
	}{
		{"", Pounds}, {"12.345", Pounds}, {"12.", Pounds}, {".5", Pounds}, {"1e3", Pounds}, {"12,34", Pounds},
		{"1,2345.00", Pounds}, {"1234,567", Pounds}, {"--5", Pounds}, {"(-5)", Pounds}, {"NaN", Pounds},
		{"12.34", Pence}, {"1,000,000,000.01", Pounds}, {"100000000001", Pence}, {"9999999999999", Pounds},
		{"0x10", Pounds}, {"١٢", Pounds},
	}
	for _, tt := range bad {
		_, err := parseAmount(tt.in, tt.unit)
		require.Error(t, err, "%q in %s", tt.in, tt.unit)
	}
}

func TestABankStatementWithASignedAmountColumn(t *testing.T) {
	t.Parallel()
	lines, s, err := parse(t, "Date,Description,Amount,Balance,Reference\n"+
		"2026-04-06,DORSET COUNCIL DP,1400.00,1400.00,PB-000123\n"+
		"2026-04-07,J SMITH,-120.00,1280.00,WAGES\n"+
		"2026-04-07,\"TESCO STORES, POOLE\",-4.50,1275.50,\n", BankFormat)
	require.NoError(t, err)
	require.Len(t, lines, 3)
	require.Equal(t, Line{Number: 2, Date: d(2026, 4, 6), Description: "DORSET COUNCIL DP", Amount: 140000,
		Balance: ptr(int64(140000)), Reference: "PB-000123", Key: lines[0].Key}, lines[0])
	require.Equal(t, "TESCO STORES, POOLE", lines[2].Description)
	require.Equal(t, Summary{Lines: 3, From: d(2026, 4, 6), To: d(2026, 4, 7), Order: Ascending, In: 140000, Out: 12450,
		Closing: ptr(int64(127550))}, s)
}

func TestABankStatementWithPaidInAndPaidOutColumns(t *testing.T) {
	t.Parallel()
	lines, s, err := parse(t, "date,description,paid in,paid out\n"+
		"2026-04-06,COUNCIL,1400.00,\n2026-04-07,J SMITH,,120.00\n", BankFormat)
	require.NoError(t, err)
	require.Equal(t, []int64{140000, -12000}, []int64{lines[0].Amount, lines[1].Amount})
	require.Nil(t, s.Closing, "no balance column: no closing balance")
}

func TestACardStatementCarriesTheMerchantCategory(t *testing.T) {
	t.Parallel()
	lines, _, err := parse(t, "date,merchant,merchant_category_code,amount\n"+
		"2026-04-07,BETFRED,7995,-20.00\n2026-04-08,TESCO,5411,-12.00\n2026-04-09,COUNCIL LOAD,6012,500.00\n", CardFormat)
	require.NoError(t, err)
	require.Equal(t, []string{"7995", "5411", "6012"}, []string{lines[0].MerchantCategory, lines[1].MerchantCategory, lines[2].MerchantCategory})
	_, _, err = parse(t, "date,merchant,amount\n2026-04-07,BETFRED,-20.00\n", CardFormat)
	requireBad(t, err, "/lines/1", "line 1: the header row needs a \"merchant_category_code\" column (is this the right format or mapping?)")
}

// Another bank's export: an account summary above the header, semicolons, day-first dates, whole
// pence, money out written positive.
func TestAMappingReadsAnotherBanksExport(t *testing.T) {
	t.Parallel()
	m := Mapping{Date: "Posting Date", Description: "Narrative", Amount: "Value (p)", Balance: "Running Balance (p)",
		DateFormat: "DD/MM/YYYY", Unit: Pence, Sign: OutPositive, Delimiter: ";", SkipRows: 2}
	lines, s, err := parse(t, "Account;12345678\nExported;2026-05-01\n"+
		"POSTING DATE;NARRATIVE;VALUE (P);RUNNING BALANCE (P)\n"+
		"30/04/2026;CARE AGENCY LTD;25000;75000\n"+
		"29/04/2026;COUNCIL DP;-100000;100000\n", m)
	require.NoError(t, err)
	require.Equal(t, []int64{-25000, 100000}, []int64{lines[0].Amount, lines[1].Amount})
	require.Equal(t, 4, lines[0].Number, "line numbers count the skipped rows")
	require.Equal(t, d(2026, 4, 30), lines[0].Date)
	require.Equal(t, Descending, s.Order)
	require.Equal(t, int64(75000), *s.Closing, "newest first: the first line's balance is the closing one")

	lines, _, err = parse(t, "date,payee,amount\n6 Apr 2026,X,1.00\n", Mapping{Date: "date", Description: "payee", Amount: "amount", DateFormat: "D MMM YYYY"})
	require.NoError(t, err)
	require.Equal(t, d(2026, 4, 6), lines[0].Date)
}

func TestAMappingThatCannotWorkIsRefusedNamingTheField(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name  string
		m     Mapping
		field string
	}{
		{"no date column", Mapping{Description: "d", Amount: "a"}, "/mapping/date"},
		{"no description column", Mapping{Date: "d", Amount: "a"}, "/mapping/description"},
		{"no amount column", Mapping{Date: "d", Description: "x"}, "/mapping/amount"},
		{"a date format without a year", Mapping{Date: "d", Description: "x", Amount: "a", DateFormat: "DD/MM"}, "/mapping/date_format"},
		{"a Go layout instead of a date format", Mapping{Date: "d", Description: "x", Amount: "a", DateFormat: "02/01/2006"}, "/mapping/date_format"},
		{"an unknown unit", Mapping{Date: "d", Description: "x", Amount: "a", Unit: "shillings"}, "/mapping/unit"},
		{"an unknown sign", Mapping{Date: "d", Description: "x", Amount: "a", Sign: "up"}, "/mapping/sign"},
		{"a quote as delimiter", Mapping{Date: "d", Description: "x", Amount: "a", Delimiter: "\""}, "/mapping/delimiter"},
		{"two delimiters", Mapping{Date: "d", Description: "x", Amount: "a", Delimiter: ";,"}, "/mapping/delimiter"},
		{"too many rows skipped", Mapping{Date: "d", Description: "x", Amount: "a", SkipRows: 51}, "/mapping/skip_rows"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			_, _, err := parse(t, "d,x,a\n", tt.m)
			var ae *apperr.Error
			require.ErrorAs(t, err, &ae)
			require.Equal(t, tt.field, ae.Fields[0].Field)
		})
	}
}

// Every bad line is reported with its number and reason, and a file with any bad line gives
// nothing to import.
func TestEveryBadLineIsReportedWithItsNumberAndReason(t *testing.T) {
	t.Parallel()
	file := "date,description,amount,balance,reference\n" +
		"2026-04-06,GOOD,-1.00,,\n" + // 2
		"2026-04-31,BAD DATE,-1.00,,\n" + // 3
		"2026-04-06,,-1.00,,\n" + // 4
		"2026-04-06,X,-1.005,,\n" + // 5
		"2026-04-06,X,0.00,,\n" + // 6
		"2026-04-06,X,,,\n" + // 7
		"2026-04-06,X,-1.00,12.3.4,\n" + // 8
		"2026-04-06,X,-1.00\n" + // 9
		"2026-04-06,X,-1.00,,,surplus\n" + // 10
		"2026-04-06,\"a \"quoted\" word\",-1.00,,\n" + // 11
		"2026-04-06,\"two\nlines\",-1.00,,\n" + // 12–13: fine
		"2026-04-07,LATER,-1.00,,\n" + // 14
		"2026-04-06,BACK IN TIME,-1.00,,\n" + // 15
		"2026-04-07," + strings.Repeat("x", MaxDescription+1) + ",-1.00,,\n" + // 16
		"2026-04-07,X,-1.00,,\x01ref\n" // 17
	var seen int
	_, err := Parse(strings.NewReader(file), acct, BankFormat, func(Line) error { seen++; return nil })
	var ae *apperr.Error
	require.ErrorAs(t, err, &ae)
	require.ErrorIs(t, err, ErrInvalidStatement)
	require.Equal(t, "the statement has 12 bad line(s) and nothing was imported", ae.Message)
	var report strings.Builder
	for _, f := range ae.Fields {
		fmt.Fprintf(&report, "%s\t%s\t%s\n", f.Field, f.Code, f.Message)
	}
	golden.Check(t, "bad_lines.golden", []byte(report.String()))
	require.Equal(t, 1, seen, "each sees only the good lines before the first bad one; the caller rolls them back")
}

func TestAnEmptyFileOrAMissingHeaderIsABadLine(t *testing.T) {
	t.Parallel()
	_, _, err := parse(t, "", BankFormat)
	requireBad(t, err, "/lines/1", "line 1: the file is empty: a statement starts with a header row")
	_, _, err = parse(t, "a\n", Mapping{Date: "date", Description: "d", Amount: "a", SkipRows: 3})
	requireBad(t, err, "/lines/1", "line 1: the file ends before its header row")
	lines, s, err := parse(t, "date,description,amount\n", BankFormat)
	require.NoError(t, err, "a header alone is a statement with no lines")
	require.Empty(t, lines)
	require.Zero(t, s.Lines)
}

func TestTooManyBadLinesAreCountedButListedOnlyUpToTheLimit(t *testing.T) {
	t.Parallel()
	var b strings.Builder
	b.WriteString("date,description,amount\n")
	for range MaxReported + 5 {
		b.WriteString("yesterday,X,-1.00\n")
	}
	_, _, err := parse(t, b.String(), BankFormat)
	var ae *apperr.Error
	require.ErrorAs(t, err, &ae)
	require.Len(t, ae.Fields, MaxReported)
	require.Contains(t, ae.Message, fmt.Sprintf("has %d bad line(s)", MaxReported+5))
}

func TestAnErrorFromTheCallerStopsTheParse(t *testing.T) {
	t.Parallel()
	stop := errors.New("database gone")
	n := 0
	_, err := Parse(strings.NewReader("date,description,amount\n2026-04-06,A,-1\n2026-04-06,B,-1\n"), acct, BankFormat,
		func(Line) error { n++; return stop })
	require.ErrorIs(t, err, stop)
	require.Equal(t, 1, n)
}

func requireBad(t *testing.T, err error, field, message string) {
	t.Helper()
	var ae *apperr.Error
	require.ErrorAs(t, err, &ae)
	require.Equal(t, field, ae.Fields[0].Field)
	require.Equal(t, message, ae.Fields[0].Message)
}

func ptr[T any](v T) *T { return &v }
