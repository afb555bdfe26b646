package dpaudit

import (
	"fmt"

	"github.com/pbudget/pbudget/internal/apperr"
	"github.com/pbudget/pbudget/internal/date"
)

// Settings are a council's audit settings (DOMAIN.md section 11), with the defaults of
// DefaultSettings.
type Settings struct {
	FirstAuditWeeks    int // the first audit's period runs this many weeks from the first payment (12)
	EvidenceDueDays    int // evidence is due this many days after it is requested (28)
	ConcludeWithinDays int // an audit is overdue when not concluded this many days after it is due (56)
	ContingencyWeeks   int // weeks of payments an account may keep (8)
	NoticeWeeks        int // notice of termination (4)
}

// DefaultSettings are DOMAIN.md's defaults. ConcludeWithinDays is pbudget's: the evidence's 28
// days and as many again to reconcile and decide.
func DefaultSettings() Settings {
	return Settings{FirstAuditWeeks: 12, EvidenceDueDays: 28, ConcludeWithinDays: 56, ContingencyWeeks: 8, NoticeWeeks: 4}
}

// Validate checks the settings' ranges.
func (s Settings) Validate() error {
	var f apperr.Fields
	check := func(field string, v, lo, hi int) {
		if v < lo || v > hi {
			f.Add("/"+field, "out_of_range", fmt.Sprintf("%s is between %d and %d", field, lo, hi))
		}
	}
	check("first_audit_weeks", s.FirstAuditWeeks, 1, 52)
	check("evidence_due_days", s.EvidenceDueDays, 1, 180)
	check("conclude_within_days", s.ConcludeWithinDays, 1, 365)
	check("contingency_weeks", s.ContingencyWeeks, 0, 52)
	check("notice_weeks", s.NoticeWeeks, 0, 26)
	return f.Err()
}

// Period is an audit period [Start, End): End is the day after its last day.
type Period struct {
	Start, End date.Date
}

// Days is the period's length in days.
func (p Period) Days() int { return p.End.DaysSince(p.Start) }

// Last is the period's last day.
func (p Period) Last() date.Date { return p.End.AddDays(-1) }

// String renders the period for people: "6 April 2026 to 28 June 2026" (its last day).
func (p Period) String() string { return p.Start.Long() + " to " + p.Last().Long() }

// Scheduled is the k-th scheduled audit period of an account whose first payment was on first:
//
//	k = 0:  [first, first + FirstAuditWeeks weeks)
//	k ≥ 1:  [anchor + 12(k−1) months, anchor + 12k months), anchor = the end of period 0
//
// The audit is due at its period's end (its Due). Each period begins where the previous one
// ended, whenever the previous audit was concluded: the schedule follows the periods, not the
// conclusions, so that a late audit does not push every later one back and no day goes
// unaudited or is audited twice by the schedule. Months are counted from the anchor each time
// (not added one after another), so an anchor on 29 February or the 31st does not drift.
func (s Settings) Scheduled(first date.Date, k int) Period {
	anchor := first.AddDays(7 * s.FirstAuditWeeks)
	if k == 0 {
		return Period{first, anchor}
	}
	return Period{anchor.AddDate(0, 12*(k-1), 0), anchor.AddDate(0, 12*k, 0)}
}

// Due is the day an audit of period p is due: the day after its last day.
func (p Period) Due() date.Date { return p.End }

// ScheduledThrough lists the scheduled periods due on or before through (periods that have
// ended), for the periodic job that creates the missing audits. When the agreement ended (end,
// exclusive), the period in which it ended is cut short at the end and is the last.
func (s Settings) ScheduledThrough(first date.Date, end *date.Date, through date.Date) []Period {
	var out []Period
	for k := 0; ; k++ {
		p := s.Scheduled(first, k)
		last := false
		if end != nil && !end.After(p.Start) {
			break
		}
		if end != nil && end.Before(p.End) {
			p.End, last = *end, true
		}
		if p.Due().After(through) {
			break
		}
		out = append(out, p)
		if last {
			break
		}
	}
	return out
}

// AdHoc is the period of an audit on a concern raised on day concern: from the start of the
// scheduled period the concern falls in, to the end of the concern's day. An ad hoc audit does
// not move the schedule (the scheduled audit of that period still follows and covers the whole
// of it), so that a concern never shortens the annual check.
func (s Settings) AdHoc(first, concern date.Date) (Period, error) {
	if concern.Before(first) {
		return Period{}, ErrBeforeFirstPayment.WithMessage("a concern on %s is before the first payment on %s", concern, first)
	}
	for k := 0; ; k++ {
		if p := s.Scheduled(first, k); concern.Before(p.End) {
			return Period{p.Start, concern.AddDays(1)}, nil
		}
	}
}

// ErrBeforeFirstPayment is an audit of an account before its first payment.
var ErrBeforeFirstPayment = apperr.New(apperr.RuleViolation, "audit-before-first-payment",
	"an account is audited from its first payment")
