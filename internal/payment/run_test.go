package payment

import (
	"fmt"
	"strings"
	"testing"

	"github.com/google/uuid"
	"github.com/stretchr/testify/require"

	"github.com/pbudget/pbudget/internal/date"
	"github.com/pbudget/pbudget/internal/golden"
	"github.com/pbudget/pbudget/internal/money"
)

// calendar is anchored on 6 April 2026 for every frequency, lead days 7.
var calendar = DefaultCalendar(d(2026, 4, 6))

// gross28 is £28 a four-weekly cycle (£1 a day), gross, from start.
func gross28(id string, start date.Date, end *date.Date) Agreement {
	a := agreement(Gross, 36_400, 0, start, end)
	a.ID = uuid.NewSHA1(uuid.Nil, []byte(id))
	return a
}

func build(t *testing.T, pay date.Date, ras ...RunAgreement) Run {
	t.Helper()
	r, err := BuildRun(RunInput{RunID: runID(pay), PayDate: pay, Calendar: calendar, Agreements: ras})
	require.NoError(t, err)
	return r
}

func runID(pay date.Date) uuid.UUID { return uuid.NewSHA1(uuid.Nil, []byte("run "+pay.String())) }

// taken turns a run's cycle and adjustment lines into what the next run sees as paid.
func taken(r Run) []Taken {
	var out []Taken
	for _, l := range r.Lines {
		if l.Kind == KindCycle || l.Kind == KindAdjustment {
			out = append(out, Taken{l.Kind, l.CycleStart, l.Seq, l.Amount, Paid})
		}
	}
	return out
}

func starts(r Run, kind Kind) []date.Date {
	var out []date.Date
	for _, l := range r.Lines {
		if l.Kind == kind {
			out = append(out, l.CycleStart)
		}
	}
	return out
}

func TestLeadDaysTakeACycleStartingOnTheHorizonButNotTheDayAfter(t *testing.T) {
	t.Parallel()
	a := gross28("a", d(2026, 4, 6), nil) // cycle 1 starts 4 May
	tests := []struct {
		name string
		pay  date.Date
		want []date.Date
	}{
		{"cycle 1 starts on pay date + 7: in", d(2026, 4, 27), []date.Date{d(2026, 4, 6), d(2026, 5, 4)}},
		{"cycle 1 starts on pay date + 8: out", d(2026, 4, 26), []date.Date{d(2026, 4, 6)}},
		{"a cycle starting on the pay date is in", d(2026, 5, 4), []date.Date{d(2026, 4, 6), d(2026, 5, 4)}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			require.Equal(t, tt.want, starts(build(t, tt.pay, RunAgreement{Agreement: a}), KindCycle))
		})
	}
	cal := calendar
	cal.LeadDays = 0
	r, err := BuildRun(RunInput{PayDate: d(2026, 5, 3), Calendar: cal, Agreements: []RunAgreement{{Agreement: a}}})
	require.NoError(t, err)
	require.Equal(t, []date.Date{d(2026, 4, 6)}, starts(r, KindCycle), "no lead days: only cycles started by the pay date")
}

func TestALateAgreementCatchesUpItsPastCycles(t *testing.T) {
	t.Parallel()
	a := gross28("late", d(2026, 4, 20), nil) // set up 20 April, first paid in June
	r := build(t, d(2026, 6, 15), RunAgreement{Agreement: a})
	require.Equal(t, []date.Date{d(2026, 4, 6), d(2026, 5, 4), d(2026, 6, 1)}, starts(r, KindCycle))
	require.Equal(t, int64(1_400), r.Lines[0].Amount, "the first cycle pro rata: 14 of 28 days")
	require.Equal(t, "pro rata: 14 of 28 days", r.Lines[0].Reason)
	require.Equal(t, "cycle in advance", r.Lines[1].Reason)
}

func TestAPaidCycleIsAdjustedNeverPaidAgain(t *testing.T) {
	t.Parallel()
	a := gross28("revised", d(2026, 4, 6), nil)
	r1 := build(t, d(2026, 4, 6), RunAgreement{Agreement: a})
	require.Equal(t, []date.Date{d(2026, 4, 6)}, starts(r1, KindCycle))

	// A revised plan from 20 April doubles the amount: cycle 0 was paid £28 and owes £42.
	a.Amounts = append(a.Amounts, Amount{d(2026, 4, 20), 72_800, 0})
	paid := taken(r1)
	r2 := build(t, d(2026, 4, 6), RunAgreement{Agreement: a, Taken: paid})
	require.Equal(t, []Line{{AgreementID: a.ID, Kind: KindAdjustment, CycleStart: d(2026, 4, 6), CycleEnd: d(2026, 5, 4),
		Seq: 1, Amount: 1_400, Owed: 4_200, Taken: 2_800, Reason: ReasonAdjustment}}, r2.Lines)

	// A backdated contribution lowers it again: a second adjustment, seq 2.
	a.Amounts[1].Annual = 54_600
	paid = append(paid, taken(r2)...)
	r3 := build(t, d(2026, 4, 6), RunAgreement{Agreement: a, Taken: paid})
	require.Equal(t, []Kind{KindAdjustment, KindCarried}, kinds(r3), "the agreement nets below zero: carried forward")
	require.Equal(t, 2, r3.Lines[0].Seq)
	require.Equal(t, int64(-700), r3.Lines[0].Amount)

	// Nothing changed: no cycle or adjustment line; the carried amount is brought forward and,
	// with nothing to net against yet, carried forward again.
	paid = append(paid, taken(r3)...)
	require.Empty(t, build(t, d(2026, 4, 6), RunAgreement{Agreement: a, Taken: paid}).Lines)
	r4 := build(t, d(2026, 4, 6), RunAgreement{Agreement: a, Taken: paid, Carries: r3.Carries})
	require.Equal(t, []int64{-700, 700}, amounts(r4))
}

func TestASuspensionAfterPaymentIsCarriedForwardAndBroughtForward(t *testing.T) {
	t.Parallel()
	a := gross28("suspended", d(2026, 4, 6), nil)
	r1 := build(t, d(2026, 4, 6), RunAgreement{Agreement: a}) // cycle 0 paid £28
	// Suspended 6 April – 4 May without back pay, recorded afterwards: cycle 0 owes nothing.
	a.Suspensions = []Suspension{{d(2026, 4, 6), dp(2026, 4, 20), false}}
	r2 := build(t, d(2026, 4, 27), RunAgreement{Agreement: a, Taken: taken(r1)})
	// cycle 1 (from 4 May) +£28, cycle 0 adjusted −£14: pays £14.
	require.Equal(t, []Kind{KindCycle, KindAdjustment}, kinds(r2))
	require.Equal(t, int64(-1_400), r2.Lines[1].Amount)

	// Longer after all, to 4 May, with no back pay: cycle 0 owes nothing at all. While it lasts,
	// runs skip the agreement.
	a.Suspensions[0].To = dp(2026, 5, 4)
	paid := append(taken(r1), taken(r2)...)
	require.Equal(t, []Skip{{a.ID, ReasonSuspended}}, build(t, d(2026, 5, 3), RunAgreement{Agreement: a, Taken: paid}).Skipped)
	r3 := build(t, d(2026, 5, 4), RunAgreement{Agreement: a, Taken: paid})
	require.Equal(t, []Kind{KindAdjustment, KindCarried}, kinds(r3), "−£14 with nothing to net against")
	require.Equal(t, int64(-1_400), r3.Lines[0].Amount)
	require.Equal(t, Line{AgreementID: a.ID, Kind: KindCarried, Carry: runID(d(2026, 5, 4)), Amount: 1_400, Reason: ReasonCarriedForward}, r3.Lines[1])
	require.Equal(t, []Carry{{a.ID, runID(d(2026, 5, 4)), -1_400}}, r3.Carries)

	paid = append(paid, taken(r3)...)
	r4 := build(t, d(2026, 5, 25), RunAgreement{Agreement: a, Taken: paid, Carries: r3.Carries})
	require.Equal(t, []Kind{KindCycle, KindCarried}, kinds(r4))
	require.Equal(t, int64(-1_400), r4.Lines[1].Amount)
	require.Equal(t, runID(d(2026, 5, 4)), r4.Lines[1].Carry)
	p, err := Payments(r4.Lines)
	require.NoError(t, err)
	require.Equal(t, []Payment{{a.ID, 1_400}}, p, "cycle 2 £28 less £14 brought forward")
}

func TestResumptionWithBackPayPaysTheSuspendedDays(t *testing.T) {
	t.Parallel()
	a := gross28("back pay", d(2026, 4, 6), nil)
	a.Suspensions = []Suspension{{d(2026, 4, 20), nil, false}}
	require.Equal(t, []Skip{{a.ID, ReasonSuspended}}, build(t, d(2026, 4, 27), RunAgreement{Agreement: a}).Skipped)
	r1 := build(t, d(2026, 4, 6), RunAgreement{Agreement: a}) // before it: 14 days of cycle 0
	require.Equal(t, int64(1_400), r1.Lines[0].Amount)

	without, with := a, a
	without.Suspensions = []Suspension{{d(2026, 4, 20), dp(2026, 5, 18), false}}
	with.Suspensions = []Suspension{{d(2026, 4, 20), dp(2026, 5, 18), true}}
	r := build(t, d(2026, 5, 18), RunAgreement{Agreement: without, Taken: taken(r1)})
	require.Equal(t, []Kind{KindCycle}, kinds(r), "no back pay: cycle 0 stays at 14 days")
	require.Equal(t, int64(1_400), r.Lines[0].Amount, "cycle 1: 14 of 28 days after resuming on 18 May")
	r = build(t, d(2026, 5, 18), RunAgreement{Agreement: with, Taken: taken(r1)})
	require.Equal(t, []Kind{KindCycle, KindAdjustment}, kinds(r))
	require.Equal(t, int64(2_800), r.Lines[0].Amount, "back pay: cycle 1 whole")
	require.Equal(t, int64(1_400), r.Lines[1].Amount, "and cycle 0's suspended 14 days")
}

func TestMoneyPaidAfterAnEndingIsAnOverpayment(t *testing.T) {
	t.Parallel()
	a := gross28("ended", d(2026, 4, 6), nil)
	r1 := build(t, d(2026, 4, 27), RunAgreement{Agreement: a}) // cycles 0 and 1 paid
	a.Periods[0].End = dp(2026, 4, 13)                         // ended after 7 days, recorded late
	r2 := build(t, d(2026, 5, 25), RunAgreement{Agreement: a, Taken: taken(r1)})
	require.Equal(t, []Kind{KindAdjustment, KindAdjustment, KindOverpayment}, kinds(r2))
	require.Equal(t, []int64{-2_100, -2_800, 4_900}, amounts(r2))
	require.Equal(t, []Overpayment{{a.ID, 4_900, ReasonOverpayment}}, r2.Overpayments)
	require.Empty(t, r2.Carries)

	// In force after the run's next cycle instead (ending 1 July, suspended 13 April – 25 May):
	// cycles 0 and 1 owe 7 days each (−£21 twice), cycle 2 +£28, and the −£14 is carried, not
	// recovered, because cycle 3 (from 29 June) will owe something to offset it against.
	a.Periods[0].End = dp(2026, 7, 1)
	a.Suspensions = []Suspension{{d(2026, 4, 13), dp(2026, 5, 25), false}}
	r3 := build(t, d(2026, 5, 25), RunAgreement{Agreement: a, Taken: taken(r1)})
	require.Equal(t, []int64{2_800, -2_100, -2_100, 1_400}, amounts(r3))
	require.Empty(t, r3.Overpayments)
	require.Equal(t, []Carry{{a.ID, runID(d(2026, 5, 25)), -1_400}}, r3.Carries)
}

func TestOneOffsArePaidByTheRunWhoseHorizonReachesThem(t *testing.T) {
	t.Parallel()
	a := gross28("one-off", d(2026, 4, 6), nil)
	o := OneOff{ID: uuid.NewSHA1(uuid.Nil, []byte("short break")), Amount: 25_000, Due: d(2026, 5, 4), Reason: "short break"}
	require.Equal(t, []Kind{KindCycle}, kinds(build(t, d(2026, 4, 26), RunAgreement{Agreement: a, OneOffs: []OneOff{o}})))
	r := build(t, d(2026, 4, 27), RunAgreement{Agreement: a, OneOffs: []OneOff{o}})
	require.Equal(t, []Kind{KindCycle, KindCycle, KindOneOff}, kinds(r))
	require.Equal(t, Line{AgreementID: a.ID, Kind: KindOneOff, OneOffID: o.ID, Amount: 25_000, Reason: "short break"}, r.Lines[2])
}

func TestAOneOffAgreementOwesNoCyclesAndIsPaidByItsOneOffs(t *testing.T) {
	t.Parallel()
	a := gross28("short breaks", d(2026, 4, 6), dp(2027, 4, 6))
	a.Frequency = OneOffOnly
	o := OneOff{ID: uuid.NewSHA1(uuid.Nil, []byte("break")), Amount: 120_000, Reason: "annual short break"}
	r := build(t, d(2026, 4, 27), RunAgreement{Agreement: a, OneOffs: []OneOff{o}})
	require.Equal(t, []Kind{KindOneOff}, kinds(r))
	s, err := Schedule(Cadence{}, a, d(2026, 12, 31), nil)
	require.NoError(t, err)
	require.Empty(t, s)
	_, err = Schedule(Cadence{}, a, d(2026, 12, 31), []Taken{{Kind: KindCycle, CycleStart: d(2026, 4, 6), Amount: 1}})
	require.ErrorIs(t, err, ErrCycleStart)
}

func TestBlockedAgreementsGetNothingAndHeldOnesAreHeldOnlyWhenPaid(t *testing.T) {
	t.Parallel()
	a := gross28("blocked", d(2026, 4, 6), nil)
	r := build(t, d(2026, 4, 6), RunAgreement{Agreement: a, Block: "not signed"})
	require.Empty(t, r.Lines)
	require.Equal(t, []Skip{{a.ID, "not signed"}}, r.Skipped)

	r = build(t, d(2026, 4, 6), RunAgreement{Agreement: a, Hold: "bank details awaiting confirmation"})
	require.True(t, r.Lines[0].Held)
	require.Equal(t, "bank details awaiting confirmation", r.Lines[0].HoldReason)
	p, err := Payments(r.Lines)
	require.NoError(t, err)
	require.Empty(t, p, "held lines pay nothing")

	paid := taken(build(t, d(2026, 4, 6), RunAgreement{Agreement: a}))
	a.Periods[0].End = dp(2026, 4, 20)
	r = build(t, d(2026, 4, 6), RunAgreement{Agreement: a, Taken: paid, Hold: "bank details awaiting confirmation"})
	require.False(t, r.Lines[0].Held, "nothing is paid, so nothing needs holding")
}

func TestPaymentsRefuseAPartialHoldThatWouldPayBelowZero(t *testing.T) {
	t.Parallel()
	id := uuid.NewSHA1(uuid.Nil, []byte("partial"))
	lines := []Line{{AgreementID: id, Kind: KindCycle, Amount: 2_800, Held: true}, {AgreementID: id, Kind: KindAdjustment, Amount: -1_400}}
	_, err := Payments(lines)
	require.ErrorIs(t, err, ErrNegativePayment)
	lines[1].Held = true
	p, err := Payments(lines)
	require.NoError(t, err)
	require.Empty(t, p)
}

func TestBuildRunRejectsBadInput(t *testing.T) {
	t.Parallel()
	a := gross28("twice", d(2026, 4, 6), nil)
	_, err := BuildRun(RunInput{PayDate: d(2026, 4, 6), Calendar: calendar, Agreements: []RunAgreement{{Agreement: a}, {Agreement: a}}})
	require.ErrorContains(t, err, "validation")
	_, err = BuildRun(RunInput{PayDate: d(2026, 4, 6), Calendar: Calendar{}, Agreements: nil})
	require.ErrorContains(t, err, "validation", "calendar without processing days")
	_, err = BuildRun(RunInput{PayDate: d(2026, 4, 6), Calendar: calendar, Agreements: []RunAgreement{
		{Agreement: a, Taken: []Taken{{Kind: KindCycle, CycleStart: d(2026, 4, 7), Amount: 1}}}}})
	require.ErrorIs(t, err, ErrCycleStart, "a cycle start that is not one: the anchor moved")
	_, err = BuildRun(RunInput{PayDate: d(2026, 4, 6), Calendar: calendar, Agreements: []RunAgreement{
		{Agreement: a, Taken: []Taken{{Kind: KindCycle, CycleStart: d(2026, 4, 6), Amount: 1}, {Kind: KindCycle, CycleStart: d(2026, 4, 6), Amount: 1}}}}})
	require.ErrorIs(t, err, ErrPaidTwice)
}

func TestScheduleShowsOwedPaidHeldAndAdjusted(t *testing.T) {
	t.Parallel()
	a := gross28("schedule", d(2026, 4, 20), dp(2026, 6, 15))
	a.Amounts = append(a.Amounts, Amount{d(2026, 5, 18), 72_800, 0})
	got, err := Schedule(fourWeekly, a, d(2026, 12, 31), []Taken{
		{KindCycle, d(2026, 4, 6), 0, 1_400, Paid},
		{KindCycle, d(2026, 5, 4), 0, 2_800, Paid},
		{KindAdjustment, d(2026, 5, 4), 1, 500, Held},
		{KindCycle, d(2026, 6, 1), 0, 1_000, Pending},
	})
	require.NoError(t, err)
	require.Len(t, got, 3)
	type row struct{ Owed, Paid, Pending, Held, Adjusted, Outstanding int64 }
	var rows []row
	for _, c := range got {
		rows = append(rows, row{c.Amount, c.Paid, c.Pending, c.Held, c.Adjusted, c.Outstanding})
	}
	require.Equal(t, []row{
		{1_400, 1_400, 0, 0, 0, 0},            // 14 days at £1
		{4_200, 2_800, 0, 500, 500, 900},      // 14 days at £1, 14 at £2
		{2_800, 0, 1_000, 0, 0, 1_800}}, rows) // 14 days at £2
	// A cycle paid and later ended still shows: it needs its adjustment.
	a.Periods[0].End = dp(2026, 5, 4)
	got, err = Schedule(fourWeekly, a, d(2026, 12, 31), []Taken{{KindCycle, d(2026, 6, 1), 0, 2_800, Paid}})
	require.NoError(t, err)
	require.Len(t, got, 2)
	require.Equal(t, int64(-2_800), got[1].Outstanding)
}

func kinds(r Run) []Kind {
	var out []Kind
	for _, l := range r.Lines {
		out = append(out, l.Kind)
	}
	return out
}

func amounts(r Run) []int64 {
	var out []int64
	for _, l := range r.Lines {
		out = append(out, l.Amount)
	}
	return out
}

// A year of runs for three agreements, as the lines a finance officer would see: late set-up,
// revision mid-cycle, suspension after payment, resumption with back pay, an ending recorded late,
// a one-off. The golden file is the reviewed record of what the rules do; -update rewrites it.
func TestRunsOverAYearMatchTheGoldenFile(t *testing.T) {
	t.Parallel()
	monthly := Agreement{ID: uuid.NewSHA1(uuid.Nil, []byte("monthly net")), Frequency: Monthly, Basis: Net,
		Periods: []Period{{d(2026, 4, 15), nil}}, Amounts: []Amount{{d(2026, 4, 15), 1_820_000, 1_500_000}}}
	four := gross28("four-weekly gross", d(2026, 4, 6), nil)
	two := Agreement{ID: uuid.NewSHA1(uuid.Nil, []byte("two-weekly net")), Frequency: TwoWeekly, Basis: Net,
		Periods: []Period{{d(2026, 3, 1), nil}}, Amounts: []Amount{{d(2026, 3, 1), 1_000_000, 1_000_000}}}
	oneOff := OneOff{ID: uuid.NewSHA1(uuid.Nil, []byte("equipment")), Amount: 45_000, Reason: "equipment, plan line one-off"}
	type event struct {
		on     date.Date
		change func()
		what   string
	}
	events := []event{
		{d(2026, 5, 11), func() { monthly.Amounts = append(monthly.Amounts, Amount{d(2026, 5, 1), 2_080_000, 1_600_000}) },
			"monthly: revised plan from 1 May, recorded 11 May"},
		{d(2026, 6, 8), func() { four.Suspensions = []Suspension{{d(2026, 6, 10), nil, false}} },
			"four-weekly: suspended from 10 June"},
		{d(2026, 7, 20), func() { four.Suspensions[0].To, four.Suspensions[0].BackPay = dp(2026, 7, 15), true },
			"four-weekly: resumed 15 July with back pay"},
		{d(2026, 8, 3), func() {}, "two-weekly: a one-off approved"},
		{d(2026, 9, 14), func() { two.Periods[0].End = dp(2026, 8, 20) }, "two-weekly: ended 20 August, recorded 14 September"},
	}
	var out strings.Builder
	paid := map[uuid.UUID][]Taken{}
	carries := map[uuid.UUID][]Carry{}
	oneOffPaid := false
	for pay := d(2026, 4, 13); pay.Before(d(2026, 11, 1)); pay = pay.AddDays(14) {
		for len(events) > 0 && !events[0].on.After(pay) {
			events[0].change()
			fmt.Fprintf(&out, "# %s\n", events[0].what)
			events = events[1:]
		}
		var ras []RunAgreement
		for _, a := range []Agreement{monthly, four, two} {
			ra := RunAgreement{Agreement: a, Taken: paid[a.ID], Carries: carries[a.ID]}
			if a.ID == two.ID && !pay.Before(d(2026, 8, 3)) && !oneOffPaid {
				ra.OneOffs = []OneOff{oneOff}
			}
			ras = append(ras, ra)
		}
		r := build(t, pay, ras...)
		fmt.Fprintf(&out, "run %s\n", pay)
		for _, l := range r.Lines {
			name := map[uuid.UUID]string{monthly.ID: "monthly", four.ID: "four", two.ID: "two"}[l.AgreementID]
			cycle := ""
			if l.Kind == KindCycle || l.Kind == KindAdjustment {
				cycle = fmt.Sprintf("%s..%s", l.CycleStart, l.CycleEnd.AddDays(-1))
			}
			reason := l.Reason
			if l.Kind == KindAdjustment {
				reason = fmt.Sprintf("owed %s, taken %s", money.Format(l.Owed), money.Format(l.Taken))
			}
			fmt.Fprintf(&out, "  %-8s %-11s %-22s seq=%d %12s  %s\n", name, l.Kind, cycle, l.Seq, money.Format(l.Amount), reason)
			if l.Kind == KindCycle || l.Kind == KindAdjustment {
				paid[l.AgreementID] = append(paid[l.AgreementID], Taken{l.Kind, l.CycleStart, l.Seq, l.Amount, Paid})
			}
			oneOffPaid = oneOffPaid || l.Kind == KindOneOff
			if l.Kind == KindCarried && l.Amount < 0 {
				carries[l.AgreementID] = nil // each agreement carries at most one amount at a time here
			}
		}
		for _, c := range r.Carries {
			carries[c.AgreementID] = append(carries[c.AgreementID], c)
		}
		for _, s := range r.Skipped {
			fmt.Fprintf(&out, "  skipped %s: %s\n", map[uuid.UUID]string{four.ID: "four"}[s.AgreementID], s.Reason)
		}
		for _, o := range r.Overpayments {
			fmt.Fprintf(&out, "  overpayment %s\n", money.Format(o.Amount))
		}
		p, err := Payments(r.Lines)
		require.NoError(t, err)
		var total int64
		for _, x := range p {
			total += x.Amount
		}
		fmt.Fprintf(&out, "  paid %s to %d agreements\n", money.Format(total), len(p))
	}
	golden.Check(t, "runs_over_a_year.golden", []byte(out.String()))
}
