package bacs

import (
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
	"pgregory.net/rapid"

	"github.com/pbudget/pbudget/internal/apperr"
	"github.com/pbudget/pbudget/internal/date"
	"github.com/pbudget/pbudget/internal/golden"
	"github.com/pbudget/pbudget/internal/workday"
)

func d(y int, m time.Month, day int) date.Date { return date.Of(y, m, day) }

func sample() File {
	return File{
		Originator: Originator{SUN: "123456", SortCode: "401276", AccountNumber: "41234567", Name: "DEMO COUNCIL DP"},
		Serial:     "000042", Created: d(2026, 5, 1), ProcessingDay: d(2026, 5, 6), ContraNarrative: "DP RUN 2026-05-04",
		Credits: []Credit{
			{SortCode: "200000", AccountNumber: "55779911", AccountName: "A N OTHER", Reference: "PB DP-0002 C0507", Amount: 76_923},
			{SortCode: "309634", AccountNumber: "01234567", AccountName: "J SMITH & CO", Reference: "PB DP-0001 C0507", Amount: 140_000},
			{SortCode: "601613", AccountNumber: "31926819", AccountName: "PROVIDER LTD", Reference: "PB ISF-0007 C0507", Amount: 1},
		},
	}
}

func TestStandard18MatchesTheGoldenFile(t *testing.T) {
	t.Parallel()
	b, err := Write(sample())
	require.NoError(t, err)
	golden.Check(t, "standard18.golden", b)

	recs := strings.Split(strings.TrimSuffix(string(b), "\r\n"), "\r\n")
	require.Len(t, recs, 11, "VOL1 HDR1 HDR2 UHL1, 3 credits, contra, EOF1 EOF2 UTL1")
	// The fields a bank reads, by the positions of the standard (1-based, inclusive).
	at := func(r string, from, to int) string { return r[from-1 : to] }
	require.Equal(t, "000042", at(recs[0], 5, 10), "VOL1 serial")
	require.Equal(t, "123456", at(recs[0], 42, 47), "VOL1 owner: the SUN")
	require.Equal(t, "1", at(recs[0], 80, 80))
	require.Equal(t, "A123456S", at(recs[1], 5, 12), "HDR1 file identifier")
	require.Equal(t, " 26121", at(recs[1], 42, 47), "HDR1 creation date: 1 May 2026 is day 121")
	require.Equal(t, "F0200000100", at(recs[2], 5, 15), "HDR2 format, block and record length")
	require.Equal(t, " 26126", at(recs[3], 5, 10), "UHL1 processing day: 6 May is day 126")
	require.Equal(t, "1 DAILY  ", at(recs[3], 29, 37))
	credit := recs[4] // in order of reference: DP-0001 first
	require.Len(t, credit, 100)
	require.Equal(t, "309634", at(credit, 1, 6))
	require.Equal(t, "01234567", at(credit, 7, 14))
	require.Equal(t, "0", at(credit, 15, 15))
	require.Equal(t, "99", at(credit, 16, 17))
	require.Equal(t, "40127641234567", at(credit, 18, 31))
	require.Equal(t, "00000140000", at(credit, 36, 46))
	require.Equal(t, "DEMO COUNCIL DP   ", at(credit, 47, 64))
	require.Equal(t, "PB DP-0001 C0507  ", at(credit, 65, 82))
	require.Equal(t, "J SMITH & CO      ", at(credit, 83, 100))
	contra := recs[7]
	require.Equal(t, "40127641234567"+"0"+"17"+"40127641234567"+"    "+"00000216924", contra[:46])
	require.Equal(t, "CONTRA            ", at(contra, 65, 82))
	require.Equal(t, "EOF1"+recs[1][4:], recs[8])
	require.Equal(t, "EOF2"+recs[2][4:], recs[9])
	require.Equal(t, "UTL1"+"0000000216924"+"0000000216924"+"0000001"+"0000003", recs[10][:44])
}

func TestTheSameRunGivesTheSameBytes(t *testing.T) {
	t.Parallel()
	f := sample()
	a, err := Write(f)
	require.NoError(t, err)
	f.Credits[0], f.Credits[2] = f.Credits[2], f.Credits[0]
	b, err := Write(f)
	require.NoError(t, err)
	require.Equal(t, a, b, "the credits' order does not matter")
}

// The file's totals equal the sum of its lines, and reading it back gives the credits written.
func TestFileTotalsEqualTheSumOfItsCredits(t *testing.T) {
	t.Parallel()
	digits := func(n int) *rapid.Generator[string] { return rapid.StringMatching(fmt.Sprintf("[0-9]{%d}", n)) }
	rapid.Check(t, func(t *rapid.T) {
		f := sample()
		f.Credits = rapid.SliceOfN(rapid.Custom(func(t *rapid.T) Credit {
			return Credit{SortCode: digits(6).Draw(t, "sort_code"), AccountNumber: digits(8).Draw(t, "account"),
				AccountName: rapid.StringMatching(`[A-Z0-9][A-Z0-9 .&/-]{0,17}`).Draw(t, "name"),
				Reference:   rapid.StringMatching(`[A-Z0-9][A-Z0-9 .&/-]{0,17}`).Draw(t, "reference"),
				Amount:      rapid.Int64Range(1, MaxAmount/60).Draw(t, "amount")}
		}), 1, 60).Draw(t, "credits")
		b, err := Write(f)
		if err != nil {
			t.Fatal(err)
		}
		s, err := Inspect(b)
		if err != nil {
			t.Fatal(err)
		}
		var sum int64
		for _, c := range f.Credits {
			sum += c.Amount
		}
		if s.Declared.CreditTotal != sum || s.Declared.DebitTotal != sum || s.Declared.CreditCount != len(f.Credits) || s.Declared != f.Totals() {
			t.Fatalf("declared %+v, credits add up to %d in %d", s.Declared, sum, len(f.Credits))
		}
		if len(s.Credits) != len(f.Credits) || s.Contra.Amount != sum || s.SUN != "123456" || s.ProcessingDay != f.ProcessingDay {
			t.Fatalf("read back %+v", s)
		}
		for _, c := range s.Credits {
			c.AccountName, c.Reference = strings.TrimRight(c.AccountName, " "), strings.TrimRight(c.Reference, " ")
			found := false
			for _, w := range f.Credits {
				found = found || (w.SortCode == c.SortCode && w.AccountNumber == c.AccountNumber && w.Amount == c.Amount &&
					strings.TrimRight(w.Reference, " ") == c.Reference && strings.TrimRight(w.AccountName, " ") == c.AccountName)
			}
			if !found {
				t.Fatalf("read back a credit never written: %+v", c)
			}
		}
	})
}

func TestInspectRefusesAFileThatDoesNotAddUp(t *testing.T) {
	t.Parallel()
	b, err := Write(sample())
	require.NoError(t, err)
	s := string(b)
	tampered := strings.Replace(s, "00000140000", "00000140001", 1) // one credit a penny more
	_, err = Inspect([]byte(tampered))
	require.ErrorContains(t, err, "UTL1 declares")
	_, err = Inspect([]byte(strings.TrimSuffix(s, "\r\n")))
	require.ErrorContains(t, err, "CR LF")
	_, err = Inspect([]byte(strings.Replace(s, "3096340123456709940", "3096340123456701740", 1)))
	require.ErrorContains(t, err, "transaction code")
}

func fields(t *testing.T, err error) []string {
	t.Helper()
	var e *apperr.Error
	require.ErrorAs(t, err, &e)
	var out []string
	for _, f := range e.Fields {
		out = append(out, f.Field)
	}
	return out
}

func TestWriteNamesTheFieldAtFault(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name   string
		change func(*File)
		field  string
	}{
		{"a sort code of 5 digits", func(f *File) { f.Credits[1].SortCode = "30963" }, "/credits/1/sort_code"},
		{"a sort code with hyphens", func(f *File) { f.Credits[1].SortCode = "30-96-34" }, "/credits/1/sort_code"},
		{"an account number of 7 digits", func(f *File) { f.Credits[0].AccountNumber = "5577991" }, "/credits/0/account_number"},
		{"an account name of 19 characters", func(f *File) { f.Credits[2].AccountName = strings.Repeat("A", 19) }, "/credits/2/account_name"},
		{"an account name of 18 characters is fine", func(f *File) { f.Credits[2].AccountName = strings.Repeat("A", 18) }, ""},
		{"an account name in lower case", func(f *File) { f.Credits[2].AccountName = "Provider Ltd" }, "/credits/2/account_name"},
		{"an account name with an apostrophe", func(f *File) { f.Credits[2].AccountName = "O'BRIEN" }, "/credits/2/account_name"},
		{"a blank account name", func(f *File) { f.Credits[2].AccountName = "   " }, "/credits/2/account_name"},
		{"a reference of 19 characters", func(f *File) { f.Credits[0].Reference = strings.Repeat("R", 19) }, "/credits/0/reference"},
		{"a reference starting with a space", func(f *File) { f.Credits[0].Reference = " PB1" }, "/credits/0/reference"},
		{"a credit of nothing", func(f *File) { f.Credits[0].Amount = 0 }, "/credits/0/amount"},
		{"a credit of 12 digits", func(f *File) { f.Credits[0].Amount = MaxAmount + 1 }, "/credits/0/amount"},
		{"a credit of 11 digits is fine", func(f *File) { f.Credits = f.Credits[:1]; f.Credits[0].Amount = MaxAmount }, ""},
		{"credits adding up to 12 digits: the contra cannot carry them", func(f *File) { f.Credits[0].Amount = MaxAmount }, "/credits"},
		{"no credits", func(f *File) { f.Credits = nil }, "/credits"},
		{"a SUN of letters", func(f *File) { f.Originator.SUN = "ABCDEF" }, "/originator/sun"},
		{"the originator's sort code", func(f *File) { f.Originator.SortCode = "1" }, "/originator/sort_code"},
		{"the originator's name", func(f *File) { f.Originator.Name = "Demo council" }, "/originator/name"},
		{"a serial of zeros", func(f *File) { f.Serial = "000000" }, "/serial"},
		{"a serial of 5 characters", func(f *File) { f.Serial = "00042" }, "/serial"},
		{"processing on the day of creation", func(f *File) { f.ProcessingDay = f.Created }, "/processing_day"},
		{"processing 32 days ahead", func(f *File) { f.ProcessingDay = f.Created.AddDays(32) }, "/processing_day"},
		{"processing 31 days ahead is fine", func(f *File) { f.ProcessingDay = f.Created.AddDays(31) }, ""},
		{"a file number of 1000", func(f *File) { f.FileNumber = 1000 }, "/file_number"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			f := sample()
			f.Credits = append([]Credit(nil), f.Credits...)
			tt.change(&f)
			_, err := Write(f)
			if tt.field == "" {
				require.NoError(t, err)
				return
			}
			require.ErrorIs(t, err, ErrInvalid)
			require.Equal(t, []string{tt.field}, fields(t, err))
		})
	}
}

func TestNormaliseNameUpperCasesAndRefusesTheRest(t *testing.T) {
	t.Parallel()
	tests := []struct{ in, out, refused string }{
		{"  j smith ", "J SMITH", ""},
		{"Smith & Sons Ltd.", "SMITH & SONS LTD.", ""},
		{"A-B/C", "A-B/C", ""},
		{"O'Brien", "", `'\''`},
		{"Zoë Patel", "", `'Ë'`},
		{"Smith, J", "", `','`},
		{"ABCDEFGHIJKLMNOPQRS", "", "not 19"},
		{"   ", "", "not 0"},
	}
	for _, tt := range tests {
		got, err := NormaliseName(tt.in)
		if tt.refused == "" {
			require.NoError(t, err, tt.in)
			require.Equal(t, tt.out, got)
			require.Empty(t, CheckAccount("123456", "12345678", got))
			continue
		}
		require.ErrorIs(t, err, ErrName, tt.in)
		require.ErrorContains(t, err, tt.refused)
	}
}

func TestProcessingDayIsThreeWorkingDaysAfterApproval(t *testing.T) {
	t.Parallel()
	cal := workday.EnglandAndWales()
	tests := []struct {
		name     string
		approved date.Date
		earliest date.Date
	}{
		{"approved Monday: Thursday", d(2026, 6, 1), d(2026, 6, 4)},
		{"approved Wednesday: Monday", d(2026, 6, 3), d(2026, 6, 8)},
		{"approved before Easter 2026: Thursday 9 April, not Tuesday 7", d(2026, 4, 2), d(2026, 4, 9)},
		{"approved before the August bank holiday", d(2026, 8, 27), d(2026, 9, 2)},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			got, err := EarliestProcessingDay(cal, tt.approved, 3)
			require.NoError(t, err)
			require.Equal(t, tt.earliest, got)
			require.NoError(t, CheckProcessingDay(cal, tt.approved, tt.earliest, 3))
			before := tt.earliest.AddDays(-1)
			for ok, _ := cal.IsWorkingDay(before); !ok; ok, _ = cal.IsWorkingDay(before) {
				before = before.AddDays(-1)
			}
			require.ErrorIs(t, CheckProcessingDay(cal, tt.approved, before, 3), ErrProcessingDay, "the working day before is too early")
		})
	}
	require.ErrorContains(t, CheckProcessingDay(cal, d(2026, 3, 30), d(2026, 4, 6), 3), "not a working day", "Easter Monday")
	require.ErrorContains(t, CheckProcessingDay(cal, d(2026, 6, 1), d(2026, 6, 6), 3), "not a working day", "a Saturday")
	_, err := EarliestProcessingDay(cal, d(2026, 6, 1), 2)
	require.ErrorIs(t, err, ErrProcessingDay)
	_, err = EarliestProcessingDay(cal, d(2028, 12, 28), 3)
	require.ErrorIs(t, err, workday.ErrBeyondCalendar)
}

func TestCardLoadsMatchTheGoldenFile(t *testing.T) {
	t.Parallel()
	b, err := WriteCardLoads([]CardLoad{
		{CardAccountReference: "CARD-000918", Amount: 76_923, Reference: "PB-DP-0004-C0507"},
		{CardAccountReference: "CARD-000017", Amount: 5, Reference: "PB-DP-0003-C0507"},
	})
	require.NoError(t, err)
	golden.Check(t, "card_loads.golden.csv", b)
	_, err = WriteCardLoads([]CardLoad{{CardAccountReference: "=HYPERLINK(1)", Amount: 1, Reference: "R1"}, {CardAccountReference: "C1", Amount: 0, Reference: "R 2"}})
	require.Equal(t, []string{"/loads/0/card_account_reference", "/loads/1/reference", "/loads/1/amount"}, fields(t, err))
}

func TestRemittanceListsPeopleByReferenceOnly(t *testing.T) {
	t.Parallel()
	r := Remittance{ProviderReference: "PRV-0007", RunReference: "RUN-2026-05-04", PayDate: d(2026, 5, 4), Lines: []RemittanceLine{
		{PersonReference: "P-000123", AgreementReference: "ISF-0007", From: d(2026, 5, 4), To: d(2026, 6, 1), Amount: 150_000},
		{PersonReference: "P-000045", AgreementReference: "ISF-0011", From: d(2026, 5, 4), To: d(2026, 6, 1), Amount: 98_000},
		{PersonReference: "P-000123", AgreementReference: "ISF-0007", From: d(2026, 4, 6), To: d(2026, 5, 4), Amount: -12_500},
	}}
	b, err := WriteRemittance(r)
	require.NoError(t, err)
	golden.Check(t, "remittance.golden.csv", b)

	r.Lines[1].PersonReference = "Jane Smith"
	_, err = WriteRemittance(r)
	require.Equal(t, []string{"/lines/1/person_reference"}, fields(t, err), "a name is not a reference")
	r.Lines[1].PersonReference = "P-000045"
	r.Lines[0].Amount = 12_500
	_, err = WriteRemittance(r)
	require.Equal(t, []string{"/lines"}, fields(t, err), "P-000123 would be paid nothing")
}
