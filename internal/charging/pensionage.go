package charging

import (
	"time"

	"github.com/pbudget/pbudget/internal/date"
)

// The MIG has a higher rate for a person who "has attained pension credit age" (Charging
// Regulations 2014, reg 7). The qualifying age for state pension credit is, for a woman,
// pensionable age and, for a man, the pensionable age of a woman born on the same day (State
// Pension Credit Act 2002, s1(6)): it is the women's State Pension age, whatever the person's sex,
// so it follows from the date of birth alone.
//
// Pensionable age is set by the Pensions Act 1995, Schedule 4, Part 1, paragraph 1, as amended by
// the Pensions Acts 2007 (Sch 3), 2011 (s1) and 2014 (s26), and published by DWP as the State
// Pension age timetables. Sources: DWP, "State Pension age timetables"
// (https://assets.publishing.service.gov.uk/government/uploads/system/uploads/attachment_data/file/310231/spa-timetable.pdf);
// https://www.legislation.gov.uk/ukpga/1995/26/schedule/4, .../ukpga/2007/22/schedule/3,
// .../ukpga/2011/19/section/1 and .../ukpga/2014/19/part/3 (with its explanatory notes, 122-125).
// The schedule as legislated today, for a woman born:
//
//	before 6 April 1950                      60th birthday
//	6 April 1950 to 5 April 1953             a fixed day, 6 May 2010 to 6 March 2016, two months
//	                                         later for each later month of birth (1995 Act, table 1)
//	6 April 1953 to 5 December 1953          6 July 2016 to 6 November 2018, four months later for
//	                                         each month (2011 Act: 65 by November 2018)
//	6 December 1953 to 5 October 1954        6 March 2019 to 6 September 2020, two months later for
//	                                         each month (2011 Act, table 2: 66 by October 2020)
//	6 October 1954 to 5 April 1960           66th birthday
//	6 April 1960 to 5 March 1961             66 years and 1 to 11 months (2014 Act, table 3)
//	6 March 1961 to 5 April 1977             67th birthday
//	6 April 1977 to 5 April 1978             a fixed day, 6 May 2044 to 6 March 2046, two months
//	                                         later for each month (2007 Act, as in force)
//	6 April 1978 and later                   68th birthday
//
// A "month of birth" runs from the 6th to the 5th of the next month. A person attains an age at
// the commencement of the anniversary of their birth (Family Law Reform Act 1969, s9); someone
// born on 29 February has it on 1 March in a common year (as date.AgeOn). Where "66 years and N
// months" falls on a day the month does not have, the person attains it on the month's last day
// (Pensions Act 1995 Sch 4 para 1(7A): 31 July 1960 → 30 November 2026, 31 December 1960 →
// 30 September 2027, 31 January 1961 → 30 November 2027).
var (
	womenAt60Before = date.Of(1950, 4, 6)
	act1995From     = date.Of(1950, 4, 6)
	act2011From     = date.Of(1953, 4, 6)
	act2011To66From = date.Of(1953, 12, 6)
	at66From        = date.Of(1954, 10, 6)
	act2014From     = date.Of(1960, 4, 6)
	at67From        = date.Of(1961, 3, 6)
	act2007From     = date.Of(1977, 4, 6)
	at68From        = date.Of(1978, 4, 6)
)

// PensionCreditAgeDate is the day on which a person born on dob attains the qualifying age for
// state pension credit: the women's State Pension age for that date of birth.
func PensionCreditAgeDate(dob date.Date) date.Date {
	switch {
	case dob.Before(womenAt60Before):
		return anniversary(dob, 60, 0)
	case dob.Before(act2011From):
		return date.Of(2010, time.May, 6).AddDate(0, 2*birthMonth(act1995From, dob), 0)
	case dob.Before(act2011To66From):
		return date.Of(2016, time.July, 6).AddDate(0, 4*birthMonth(act2011From, dob), 0)
	case dob.Before(at66From):
		return date.Of(2019, time.March, 6).AddDate(0, 2*birthMonth(act2011To66From, dob), 0)
	case dob.Before(act2014From):
		return anniversary(dob, 66, 0)
	case dob.Before(at67From):
		return anniversary(dob, 66, birthMonth(act2014From, dob)+1)
	case dob.Before(act2007From):
		return anniversary(dob, 67, 0)
	case dob.Before(at68From):
		return date.Of(2044, time.May, 6).AddDate(0, 2*birthMonth(act2007From, dob), 0)
	}
	return anniversary(dob, 68, 0)
}

// ReachedPensionCreditAge reports whether a person born on dob has attained pension credit
// qualifying age by day on (on the day itself, they have).
func ReachedPensionCreditAge(dob, on date.Date) bool {
	return !on.Before(PensionCreditAgeDate(dob))
}

// birthMonth counts the "months of birth" (6th to 5th) from start (a 6th) to dob.
func birthMonth(start, dob date.Date) int {
	n := (dob.Year()-start.Year())*12 + int(dob.Month()-start.Month())
	if dob.Day() < 6 {
		n--
	}
	return n
}

// anniversary is the day a person born on dob attains the age of years and months. A 29 February
// birthday falls on 1 March in a common year; a day the target month lacks (31 July + 4 months)
// is that month's last day.
func anniversary(dob date.Date, years, months int) date.Date {
	if months == 0 {
		return date.Of(dob.Year()+years, dob.Month(), dob.Day()) // 29 Feb normalises to 1 Mar
	}
	first := date.Of(dob.Year()+years, dob.Month(), 1).AddDate(0, months, 0)
	last := first.AddDate(0, 1, -1).Day()
	return date.Of(first.Year(), first.Month(), min(dob.Day(), last))
}
