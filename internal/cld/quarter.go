package cld

import (
	"fmt"
	"time"

	"github.com/pbudget/pbudget/internal/apperr"
	"github.com/pbudget/pbudget/internal/date"
)

// Quarter is a financial-year quarter: Q1 is April to June, Q4 January to March of the next
// calendar year. Year is the calendar year in which the financial year begins (2025 for 2025/26).
type Quarter struct {
	Year int
	Q    int
}

// ErrQuarter is a quarter that is not one.
var ErrQuarter = apperr.New(apperr.Invalid, "invalid-quarter",
	"a quarter is written YYYY-QN: the year the financial year begins and the quarter 1 to 4 (2025-Q1 is April to June 2025)")

// NewQuarter returns quarter q of the financial year beginning in April of year.
func NewQuarter(year, q int) (Quarter, error) {
	if q < 1 || q > 4 || year < 2000 || year > 9998 {
		return Quarter{}, ErrQuarter
	}
	return Quarter{Year: year, Q: q}, nil
}

// ParseQuarter reads "2025-Q1".
func ParseQuarter(s string) (Quarter, error) {
	var year, q int
	if n, err := fmt.Sscanf(s, "%4d-Q%1d", &year, &q); err != nil || n != 2 || len(s) != 7 {
		return Quarter{}, ErrQuarter
	}
	return NewQuarter(year, q)
}

// QuarterOf returns the quarter that contains day d.
func QuarterOf(d date.Date) Quarter {
	m, y := int(d.Month()), d.Year()
	if m < 4 {
		return Quarter{Year: y - 1, Q: 4}
	}
	return Quarter{Year: y, Q: (m-4)/3 + 1}
}

// Start is the quarter's first day.
func (q Quarter) Start() date.Date { return date.Of(q.Year, time.April, 1).AddMonths(3 * (q.Q - 1)) }

// End is the day after the quarter: the quarter is [Start, End).
func (q Quarter) End() date.Date { return q.Start().AddMonths(3) }

// Last is the quarter's last day (the Reporting_Period_End_Date).
func (q Quarter) Last() date.Date { return q.End().AddDays(-1) }

// Due is the last day for the return: one month after the quarter ends (31 July for Q1).
func (q Quarter) Due() date.Date { return q.End().AddMonths(1).AddDays(-1) }

// Contains reports whether day d is in the quarter.
func (q Quarter) Contains(d date.Date) bool { return !d.Before(q.Start()) && d.Before(q.End()) }

// Next is the quarter after q.
func (q Quarter) Next() Quarter {
	if q.Q == 4 {
		return Quarter{Year: q.Year + 1, Q: 1}
	}
	return Quarter{Year: q.Year, Q: q.Q + 1}
}

// String renders "2025-Q1", the form ParseQuarter reads.
func (q Quarter) String() string { return fmt.Sprintf("%04d-Q%d", q.Year, q.Q) }

// Label renders the quarter for people: "2025/26 Q1".
func (q Quarter) Label() string { return fmt.Sprintf("%04d/%02d Q%d", q.Year, (q.Year+1)%100, q.Q) }
