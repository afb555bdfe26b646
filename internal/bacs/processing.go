package bacs

import (
	"github.com/pbudget/pbudget/internal/apperr"
	"github.com/pbudget/pbudget/internal/date"
	"github.com/pbudget/pbudget/internal/workday"
)

// EarliestProcessingDay is the first processing day a run approved on approvedOn (its date in
// England) can have: offset working days later (the council's setting, at least 3), skipping
// weekends and bank holidays. Approved on Thursday 2 April 2026, before Easter, with offset 3:
// Thursday 9 April.
func EarliestProcessingDay(cal workday.Calendar, approvedOn date.Date, offset int) (date.Date, error) {
	if offset < 3 {
		return date.Date{}, ErrProcessingDay.WithMessage("the processing day is at least 3 working days after approval, not %d", offset)
	}
	return cal.AddWorkingDays(approvedOn, offset)
}

// CheckProcessingDay checks a chosen processing day: a working day, at least offset working days
// after approval.
func CheckProcessingDay(cal workday.Calendar, approvedOn, day date.Date, offset int) error {
	earliest, err := EarliestProcessingDay(cal, approvedOn, offset)
	if err != nil {
		return err
	}
	ok, err := cal.IsWorkingDay(day)
	if err != nil {
		return err
	}
	if !ok {
		return ErrProcessingDay.WithMessage("%s is not a working day: BACS processes Monday to Friday, except bank holidays", day)
	}
	if day.Before(earliest) {
		return ErrProcessingDay.WithMessage("%s is fewer than %d working days after approval on %s: the earliest is %s", day, offset, approvedOn, earliest)
	}
	return nil
}

// ErrProcessingDay is a processing day the rules do not allow.
var ErrProcessingDay = apperr.New(apperr.RuleViolation, "bacs-processing-day-invalid",
	"the processing day is a working day at least 3 working days after the run's approval")
