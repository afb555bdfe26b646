// Package isf is the pure part of Individual Service Fund providers' statements (DOMAIN.md
// section 11, "ISF statements", and section 6): the periods a statement covers, its checks
// (it chains from the previous closing balance, its arithmetic adds up, each line's units × rate
// is its amount, and its lines are this ISF's plan lines), when statements are overdue, and
// Dorset's surplus rule. It has no database and no clock.
//
// Storing them: isf_statements with council_id, isf_agreement_id, provider_id, period_start,
// period_end, the figures, status (submitted, accepted, queried) and the council's reason;
// UNIQUE (council_id, isf_agreement_id, period_start) WHERE status <> 'queried', so that a
// period has one live statement and a queried one can be replaced; lines in isf_statement_lines.
// Check against the previous live statement inside the transaction that inserts, with the
// agreement's row locked, so that two submissions cannot both chain from the same closing.
package isf

import (
	"fmt"

	"github.com/google/uuid"

	"github.com/pbudget/pbudget/internal/account"
	"github.com/pbudget/pbudget/internal/apperr"
	"github.com/pbudget/pbudget/internal/date"
	"github.com/pbudget/pbudget/internal/money"
	"github.com/pbudget/pbudget/internal/plan"
)

// Frequency is how often a provider files a statement (plan.ISFAgreement.StatementFrequency).
type Frequency string

// The statement frequencies.
const (
	Monthly   Frequency = "monthly" // the default
	Quarterly Frequency = "quarterly"
)

// Settings are a council's ISF settings.
type Settings struct {
	SurplusWeeks    int // a balance above this many weeks of the weekly amount … (4)
	SurplusMaxWeeks int // … held longer than this many weeks is flagged for recovery (12)
	DueDays         int // a statement is due this many days after its period ends (14)
}

// DefaultSettings are Dorset's rule (DOMAIN.md section 6) and pbudget's 14 days to file.
func DefaultSettings() Settings { return Settings{SurplusWeeks: 4, SurplusMaxWeeks: 12, DueDays: 14} }

// Period is a statement period [Start, End).
type Period struct{ Start, End date.Date }

// Last is the period's last day.
func (p Period) Last() date.Date { return p.End.AddDays(-1) }

// PeriodOf is the statement period of an ISF that started on start containing day: calendar
// months (monthly) or calendar quarters from January (quarterly), the first one beginning on
// start and the last ending at end (exclusive; nil while the ISF goes on).
func PeriodOf(start date.Date, end *date.Date, f Frequency, day date.Date) Period {
	months := 1
	if f == Quarterly {
		months = 3
	}
	m := (int(day.Month()) - 1) / months * months
	p := Period{date.Of(day.Year(), 1, 1).AddDate(0, m, 0), date.Of(day.Year(), 1, 1).AddDate(0, m+months, 0)}
	if p.Start.Before(start) {
		p.Start = start
	}
	if end != nil && end.Before(p.End) {
		p.End = *end
	}
	return p
}

// Periods lists the statement periods of an ISF that have ended on or before through.
func Periods(start date.Date, end *date.Date, f Frequency, through date.Date) []Period {
	var out []Period
	for day := start; end == nil || day.Before(*end); {
		p := PeriodOf(start, end, f, day)
		if p.End.After(through) {
			break
		}
		out = append(out, p)
		day = p.End
	}
	return out
}

// Overdue lists the periods whose statement is overdue on today: ended, DueDays passed since,
// and not in filed (the periods of statements submitted or accepted; a queried statement is
// still owed).
func (s Settings) Overdue(start date.Date, end *date.Date, f Frequency, filed []Period, today date.Date) []Period {
	have := map[date.Date]bool{}
	for _, p := range filed {
		have[p.Start] = true
	}
	var out []Period
	for _, p := range Periods(start, end, f, today) {
		if !have[p.Start] && today.After(p.Last().AddDays(s.DueDays)) {
			out = append(out, p)
		}
	}
	return out
}

// Line is one line of spending on a statement.
type Line struct {
	PlanLineID uuid.UUID
	Units      plan.Quantity // hundredths, as plan quantities ("7.5" hours is 750)
	Rate       int64         // pence per unit
	Amount     int64         // pence
}

// Expected is units × rate to the nearest penny, halves up: the rounding of plan.Cost, so that a
// line at the plan's rate and quantity costs what the plan says.
func (l Line) Expected() int64 { return money.DivRound(int64(l.Units)*l.Rate, 100) }

// Statement is a provider's statement for one ISF and one period.
type Statement struct {
	Period      Period
	Opening     int64 // pence
	FromCouncil int64
	FromPerson  int64
	Lines       []Line
	Closing     int64 // may be below zero: the provider spent more than it held
}

// Spent is the sum of the statement's lines.
func (s Statement) Spent() int64 {
	var t int64
	for _, l := range s.Lines {
		t += l.Amount
	}
	return t
}

// CheckInput is what a statement is checked against.
type CheckInput struct {
	Start     date.Date // the ISF's start
	End       *date.Date
	Frequency Frequency
	Previous  *Statement // the previous live statement; nil for the first
	Opening   int64      // the first statement's opening balance (0 for a new ISF)
	PlanLines []uuid.UUID
}

// The rules a statement can break (422s), in the order they are checked.
var (
	ErrChain      = apperr.New(apperr.RuleViolation, "isf-statement-chain", "the statement does not follow on from the previous one")
	ErrPeriod     = apperr.New(apperr.RuleViolation, "isf-statement-period", "the statement's period is not one of the ISF's statement periods")
	ErrArithmetic = apperr.New(apperr.RuleViolation, "isf-statement-arithmetic", "the statement's figures do not add up")
	ErrLine       = apperr.New(apperr.RuleViolation, "isf-statement-line", "a line of the statement is not right")
)

// Check checks a statement (invariant 18 and DOMAIN.md's checks). Malformed figures are a
// validation error. Then every rule it breaks is listed in the fields of one error whose code is
// the first broken rule's, in this order:
//
//   - chain: the opening balance is the previous statement's closing balance (the ISF's opening
//     balance for the first), and the period starts where the previous one ended;
//   - period: the period is the ISF's statement period that starts on that day;
//   - arithmetic: closing = opening + from council + from person − Σ line amounts;
//   - lines: each is one of this ISF's plan lines, and amount = units × rate to the nearest
//     penny, halves up.
func Check(st Statement, in CheckInput) error {
	var f apperr.Fields
	amount := func(ptr string, v int64, neg bool) {
		if v > account.MaxAmount || v < -account.MaxAmount || (!neg && v < 0) {
			f.Add(ptr, "out_of_range", "an amount is between zero and £1bn")
		}
	}
	amount("/opening_balance_pence", st.Opening, true)
	amount("/closing_balance_pence", st.Closing, true)
	amount("/received_from_council_pence", st.FromCouncil, false)
	amount("/received_from_person_pence", st.FromPerson, false)
	if len(st.Lines) > 1000 {
		f.Add("/lines", "too_many", "a statement has at most 1,000 lines")
	}
	for i, l := range st.Lines {
		at := fmt.Sprintf("/lines/%d", i)
		if l.Units <= 0 || l.Units > 99_999_999 {
			f.Add(at+"/units", "out_of_range", "units are more than zero")
		}
		if l.Rate < 0 || l.Rate > 10_000_000 {
			f.Add(at+"/rate_pence", "out_of_range", "a rate is between zero and £100,000 a unit")
		}
		amount(at+"/amount_pence", l.Amount, false)
	}
	if !st.Period.Start.Before(st.Period.End) {
		f.Add("/period_end", "period", "a period ends after it starts")
	}
	if err := f.Err(); err != nil {
		return err
	}

	type broken struct {
		rule  *apperr.Error
		field apperr.FieldError
	}
	var rules []broken
	add := func(rule *apperr.Error, ptr, code, msg string) {
		rules = append(rules, broken{rule, apperr.FieldError{Field: ptr, In: "body", Code: code, Message: msg}})
	}
	wantOpening, wantStart := in.Opening, in.Start
	if in.Previous != nil {
		wantOpening, wantStart = in.Previous.Closing, in.Previous.Period.End
	}
	if st.Opening != wantOpening {
		add(ErrChain, "/opening_balance_pence", "chain", fmt.Sprintf("the opening balance is %s but the previous closing balance was %s",
			money.Format(st.Opening), money.Format(wantOpening)))
	}
	if !st.Period.Start.Equal(wantStart) {
		add(ErrChain, "/period_start", "chain", fmt.Sprintf("the period starts on %s but the previous statement ended on %s (exclusive)",
			st.Period.Start, wantStart))
	}
	if want := PeriodOf(in.Start, in.End, in.Frequency, st.Period.Start); want != st.Period || st.Period.Start.Before(in.Start) {
		add(ErrPeriod, "/period_end", "period", fmt.Sprintf("the %s statement period from %s ends on %s (exclusive)", frequencyOr(in.Frequency), want.Start, want.End))
	}
	if want := st.Opening + st.FromCouncil + st.FromPerson - st.Spent(); st.Closing != want {
		add(ErrArithmetic, "/closing_balance_pence", "arithmetic", fmt.Sprintf("opening %s + received %s − spent %s is %s, not %s",
			money.Format(st.Opening), money.Format(st.FromCouncil+st.FromPerson), money.Format(st.Spent()), money.Format(want), money.Format(st.Closing)))
	}
	ours := map[uuid.UUID]bool{}
	for _, id := range in.PlanLines {
		ours[id] = true
	}
	for i, l := range st.Lines {
		at := fmt.Sprintf("/lines/%d", i)
		if !ours[l.PlanLineID] {
			add(ErrLine, at+"/plan_line_id", "not_this_isf", "the line is not one of this ISF's plan lines")
		}
		if want := l.Expected(); l.Amount != want {
			add(ErrLine, at+"/amount_pence", "units_times_rate", fmt.Sprintf("%s units × %s is %s (to the nearest penny), not %s",
				l.Units, money.Format(l.Rate), money.Format(want), money.Format(l.Amount)))
		}
	}
	if len(rules) == 0 {
		return nil
	}
	e := rules[0].rule.WithMessage("%s", rules[0].field.Message)
	for _, b := range rules {
		e.Fields = append(e.Fields, b.field)
	}
	return e
}

func frequencyOr(f Frequency) string {
	if f == "" {
		return string(Monthly)
	}
	return string(f)
}

// Flag is an ISF balance to recover: above the allowed weeks for longer than allowed.
type Flag struct {
	Since     date.Date // the last day of the first statement of the run above the threshold
	Through   date.Date // the last day of the latest statement
	HeldDays  int       // Through − Since
	Threshold int64     // SurplusWeeks × weekly amount
	Excess    int64     // the latest closing balance − threshold: what a recovery would consider
}

// SurplusFlag applies the rule "a balance above isf_surplus_weeks × the weekly amount held
// longer than isf_surplus_max_weeks is flagged for recovery" to a statement history (live
// statements in period order). Balances are known only at the end of each statement period, so
// the balance counts as held from the last day of the first statement of the unbroken run of
// statements closing above the threshold to the last day of the latest one; "above" is strictly
// above, and "longer than" strictly longer (12 weeks exactly is not flagged). This measures in
// the provider's favour: the balance may have been above the threshold for part of the period
// before. nil when the rule is not met.
func (s Settings) SurplusFlag(history []Statement, weekly int64) *Flag {
	threshold := int64(s.SurplusWeeks) * weekly
	var since *date.Date
	for i := range history {
		st := history[i]
		if st.Closing <= threshold {
			since = nil
			continue
		}
		if since == nil {
			last := st.Period.Last()
			since = &last
		}
	}
	if since == nil {
		return nil
	}
	latest := history[len(history)-1]
	f := Flag{Since: *since, Through: latest.Period.Last(), Threshold: threshold, Excess: latest.Closing - threshold}
	f.HeldDays = f.Through.DaysSince(f.Since)
	if f.HeldDays <= 7*s.SurplusMaxWeeks {
		return nil
	}
	return &f
}
