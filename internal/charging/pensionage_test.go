package charging

import (
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/pbudget/pbudget/internal/date"
)

func d(s string) date.Date {
	v, err := date.Parse(s)
	if err != nil {
		panic(err)
	}
	return v
}

// TestPensionCreditAgeAtTheEdgesOfEverySchedule checks, for dates of birth at the first and last
// day of each band of the State Pension age timetable (and inside it), the day the qualifying age
// is attained, that the person has not reached it the day before, and has on the day.
func TestPensionCreditAgeAtTheEdgesOfEverySchedule(t *testing.T) {
	t.Parallel()
	tests := []struct {
		band, dob, reaches string
	}{
		// Born before 6 April 1950: 60.
		{"women at 60", "1940-06-15", "2000-06-15"},
		{"women at 60, last day", "1950-04-05", "2010-04-05"},
		{"women at 60, a leap birthday in a leap year", "1948-02-29", "2008-02-29"},
		// Pensions Act 1995, table 1: 6 May 2010 to 6 March 2016.
		{"1995 Act, first cohort, first day", "1950-04-06", "2010-05-06"},
		{"1995 Act, first cohort, last day", "1950-05-05", "2010-05-06"},
		{"1995 Act, second cohort", "1950-05-06", "2010-07-06"},
		{"1995 Act, a 29 February birth", "1952-02-29", "2014-01-06"},
		{"1995 Act, last cohort, first day", "1953-03-06", "2016-03-06"},
		{"1995 Act, last cohort, last day", "1953-04-05", "2016-03-06"},
		// Pensions Act 2011: women to 65 by November 2018.
		{"2011 Act to 65, first cohort", "1953-04-06", "2016-07-06"},
		{"2011 Act to 65, second cohort", "1953-05-06", "2016-11-06"},
		{"2011 Act to 65, last cohort", "1953-12-05", "2018-11-06"},
		// Pensions Act 2011, table 2: everyone to 66 by October 2020.
		{"2011 Act to 66, first cohort", "1953-12-06", "2019-03-06"},
		{"2011 Act to 66, first cohort, last day", "1954-01-05", "2019-03-06"},
		{"2011 Act to 66, last cohort", "1954-10-05", "2020-09-06"},
		{"2011 Act to 66, the one cohort at exactly 66", "1954-09-06", "2020-09-06"},
		// 66.
		{"66, first day", "1954-10-06", "2020-10-06"},
		{"66, a 29 February birth in a common year", "1956-02-29", "2022-03-01"},
		{"66, last day", "1960-04-05", "2026-04-05"},
		{"66, a 29 February birth, the last leap year", "1960-02-29", "2026-03-01"},
		// Pensions Act 2014, table 3: 66 years and 1 to 11 months.
		{"2014 Act, 66y1m", "1960-04-06", "2026-05-06"},
		{"2014 Act, the explanatory notes' example, 66y1m", "1960-04-15", "2026-05-15"},
		{"2014 Act, 66y2m, last day", "1960-06-05", "2026-08-05"},
		{"2014 Act, 66y4m, 31 July (para 1(7A)(a))", "1960-07-31", "2026-11-30"},
		{"2014 Act, 66y6m, the explanatory notes' example", "1960-09-10", "2027-03-10"},
		{"2014 Act, 66y9m, 31 December (para 1(7A)(b))", "1960-12-31", "2027-09-30"},
		{"2014 Act, 66y10m, the explanatory notes' example", "1961-01-22", "2027-11-22"},
		{"2014 Act, 66y10m, 31 January (para 1(7A)(c))", "1961-01-31", "2027-11-30"},
		{"2014 Act, 66y11m, last day", "1961-03-05", "2028-02-05"},
		// 67.
		{"67, first day", "1961-03-06", "2028-03-06"},
		{"67, a 29 February birth", "1964-02-29", "2031-03-01"},
		{"67, last day", "1977-04-05", "2044-04-05"},
		// Pensions Act 2007: 67 to 68 between 2044 and 2046.
		{"2007 Act, first cohort", "1977-04-06", "2044-05-06"},
		{"2007 Act, first cohort, last day", "1977-05-05", "2044-05-06"},
		{"2007 Act, second cohort", "1977-05-06", "2044-07-06"},
		{"2007 Act, last cohort", "1978-03-29", "2046-03-06"},
		{"2007 Act, last cohort, last day", "1978-04-05", "2046-03-06"},
		// 68.
		{"68, first day", "1978-04-06", "2046-04-06"},
		{"68, a 29 February birth in a leap year", "1980-02-29", "2048-02-29"},
		{"68, a 29 February birth (68 years on, a leap year again)", "1984-02-29", "2052-02-29"},
	}
	for _, tt := range tests {
		t.Run(tt.band, func(t *testing.T) {
			t.Parallel()
			dob, reaches := d(tt.dob), d(tt.reaches)
			require.Equal(t, reaches, PensionCreditAgeDate(dob))
			require.False(t, ReachedPensionCreditAge(dob, reaches.AddDays(-1)), "the day before")
			require.True(t, ReachedPensionCreditAge(dob, reaches), "the day of")
			require.True(t, ReachedPensionCreditAge(dob, reaches.AddDays(1)), "the day after")
		})
	}
}

// TestPensionCreditAgeNeverFallsAsTheDateOfBirthIsLater walks every date of birth from 1940 to
// 1990: a later birth never reaches the qualifying age earlier, and the age at it stays between
// 60 and 68.
func TestPensionCreditAgeNeverFallsAsTheDateOfBirthIsLater(t *testing.T) {
	t.Parallel()
	prev := PensionCreditAgeDate(d("1939-12-31"))
	for dob := d("1940-01-01"); dob.Before(d("1991-01-01")); dob = dob.AddDays(1) {
		got := PensionCreditAgeDate(dob)
		require.False(t, got.Before(prev), "born %s reaches it on %s, before %s", dob, got, prev)
		age := dob.AgeOn(got)
		require.True(t, age >= 60 && age <= 68, "born %s: %d on %s", dob, age, got)
		prev = got
	}
}
