package account

import (
	"fmt"
	"maps"
	"slices"
	"strings"
	"testing"

	"github.com/google/uuid"
	"github.com/stretchr/testify/require"
	"pgregory.net/rapid"

	"github.com/pbudget/pbudget/internal/date"
)

// tx is a transaction as the bank knows it.
type tx struct {
	day    date.Date
	amount int64
	desc   string
}

// file renders txs (oldest first) as a bank statement, newest first when descending.
func file(txs []tx, descending bool) string {
	var b strings.Builder
	b.WriteString("date,description,amount\n")
	rows := slices.Clone(txs)
	if descending {
		slices.Reverse(rows)
	}
	for _, t := range rows {
		fmt.Fprintf(&b, "%s,%s,%s\n", t.day, t.desc, pounds(t.amount))
	}
	return b.String()
}

// ledgerOf imports files into one account as the database would (a set of keys), and returns
// the transactions it holds.
func importAll(t require.TestingT, files ...string) map[Key]tx {
	held := map[Key]tx{}
	for _, f := range files {
		_, err := Parse(strings.NewReader(f), acct, BankFormat, func(l Line) error {
			if _, dup := held[l.Key]; !dup {
				held[l.Key] = tx{l.Date, l.Amount, l.Description}
			}
			return nil
		})
		require.NoError(t, err)
	}
	return held
}

// multiset counts transactions by their identity's fields (descriptions compared as the
// identity does: "Cafe" and "CAFE" are one payee).
func multiset(txs []tx) map[tx]int {
	m := map[tx]int{}
	for _, t := range txs {
		t.desc = canonical(t.desc)
		m[t]++
	}
	return m
}

func heldSet(held map[Key]tx) map[tx]int { return multiset(slices.Collect(maps.Values(held))) }

func TestIdenticalLinesOnADayAreAllKeptAndTheSameFileAddsNothingTwice(t *testing.T) {
	t.Parallel()
	day := d(2026, 4, 6)
	coffees := []tx{{day, -450, "CAFE"}, {day, -450, "CAFE"}, {day, -450, "CAFE"}, {day.AddDays(1), -450, "CAFE"}}
	f := file(coffees, false)
	require.Len(t, importAll(t, f), 4, "three identical coffees on one day are three lines")
	require.Len(t, importAll(t, f, f), 4, "the same file twice adds each line once")
	lines, _, err := parse(t, f, BankFormat)
	require.NoError(t, err)
	require.Equal(t, []int{0, 1, 2, 0}, []int{lines[0].Occurrence, lines[1].Occurrence, lines[2].Occurrence, lines[3].Occurrence})
	require.NotEqual(t, lines[0].Key, lines[3].Key, "another day is another line")
}

func TestTheIdentityIgnoresCaseSpacingBalanceAndReferenceButNotTheAccountOrSign(t *testing.T) {
	t.Parallel()
	day := d(2026, 4, 6)
	k := Identify(acct, day, -450, "Cafe  Nero", 0)
	require.Equal(t, k, Identify(acct, day, -450, " CAFE NERO ", 0))
	a, _, err := parse(t, "date,description,amount,balance,reference\n2026-04-06,Cafe Nero,-4.50,10.00,A\n", BankFormat)
	require.NoError(t, err)
	b, _, err := parse(t, "date,description,paid_in,paid_out\n2026-04-06,CAFE NERO,,4.50\n", BankFormat)
	require.NoError(t, err)
	require.Equal(t, a[0].Key, b[0].Key, "another export of the same bank's line is the same line")
	require.Equal(t, k, a[0].Key)
	require.NotEqual(t, k, Identify(uuid.New(), day, -450, "CAFE NERO", 0))
	require.NotEqual(t, k, Identify(acct, day, 450, "CAFE NERO", 0))
	require.NotEqual(t, k, Identify(acct, day, -450, "CAFE NERO", 1))
	require.Equal(t, "0f7d1ec81bb13f496d4453c73ab3b8a2c30f2222a352b930acc00ef5cac080dd", k.String(), "stored keys never change: a new canonical form is a new version")
}

// A download taken part-way through a day, then the next month's statement that shows that day
// whole: the morning's lines are not added twice, the afternoon's are added.
func TestAStatementCutPartWayThroughADayThenTheWholeDay(t *testing.T) {
	t.Parallel()
	day := d(2026, 4, 30)
	whole := []tx{{day.AddDays(-1), -100, "BUS"}, {day, -450, "CAFE"}, {day, -450, "CAFE"}, {day, -2000, "TAXI"}, {day, -450, "CAFE"}}
	noon := file(whole[:3], false) // the 29th and the first two coffees
	month := file(whole[1:], true) // the 30th whole, newest first
	for _, order := range [][]string{{noon, month}, {month, noon}} {
		require.Equal(t, multiset(whole), heldSet(importAll(t, order...)))
	}
}

// The documented limit: a day only ever seen in two halves, never whole, keeps the larger count
// of identical lines, not their sum.
func TestADaySeenOnlyInTwoHalvesKeepsTheLargerCountOfIdenticalLines(t *testing.T) {
	t.Parallel()
	day := d(2026, 4, 30)
	morning := file([]tx{{day, -450, "CAFE"}}, false)
	afternoon := file([]tx{{day, -450, "CAFE"}, {day, -2000, "TAXI"}}, false)
	held := heldSet(importAll(t, morning, afternoon))
	require.Equal(t, map[tx]int{{day, -450, "CAFE"}: 1, {day, -2000, "TAXI"}: 1}, held,
		"two coffees that day, but no file shows both: the account holds one (see the package documentation)")
}

// Invariant 14: importing any overlapping statements of one account, in any order and any number
// of times, holds each transaction once, as long as every day is shown whole by some file
// (statements for date ranges); files may begin or end part-way through a day, and list their
// lines oldest or newest first.
func TestOverlappingStatementsInAnyOrderHoldEachLineOnce(t *testing.T) {
	t.Parallel()
	rapid.Check(t, func(t *rapid.T) {
		pool := []struct {
			amount int64
			desc   string
		}{{-450, "CAFE"}, {-450, "CAFE"}, {-2000, "TAXI"}, {-12000, "J SMITH"}, {140000, "COUNCIL DP"}, {-450, "Cafe"}, {450, "CAFE"}}
		first := d(2026, 4, 1)
		days := rapid.IntRange(1, 12).Draw(t, "days")
		var truth []tx
		dayStart := make([]int, days+1) // truth[dayStart[i]:dayStart[i+1]] are day i's
		for i := range days {
			dayStart[i] = len(truth)
			for j := range rapid.IntRange(0, 6).Draw(t, fmt.Sprintf("day%d", i)) {
				p := pool[rapid.IntRange(0, len(pool)-1).Draw(t, fmt.Sprintf("day%d_tx%d", i, j))]
				truth = append(truth, tx{first.AddDays(i), p.amount, p.desc})
			}
		}
		dayStart[days] = len(truth)
		// Statements for date ranges (whole days) that together cover every day…
		var files []string
		for from := 0; from < days; {
			to := min(days, from+rapid.IntRange(1, 5).Draw(t, fmt.Sprintf("statement_from%d", from)))
			files = append(files, file(truth[dayStart[from]:dayStart[to]], rapid.Bool().Draw(t, fmt.Sprintf("desc%d", from))))
			from = to
		}
		// …and downloads that overlap them, beginning and ending anywhere within a day.
		for i := range rapid.IntRange(0, 4).Draw(t, "downloads") {
			a := rapid.IntRange(0, len(truth)).Draw(t, fmt.Sprintf("download%d_from", i))
			b := rapid.IntRange(a, len(truth)).Draw(t, fmt.Sprintf("download%d_to", i))
			files = append(files, file(truth[a:b], rapid.Bool().Draw(t, fmt.Sprintf("download%d_desc", i))))
		}
		for i := range rapid.IntRange(0, 2).Draw(t, "repeats") {
			files = append(files, files[rapid.IntRange(0, len(files)-1).Draw(t, fmt.Sprintf("repeat%d", i))])
		}
		order := rapid.Permutation(files).Draw(t, "order")
		require.Equal(t, multiset(truth), heldSet(importAll(t, order...)))
	})
}

// pounds renders pence as a statement does: "-4.50".
func pounds(p int64) string {
	sign := ""
	if p < 0 {
		sign, p = "-", -p
	}
	return fmt.Sprintf("%s%d.%02d", sign, p/100, p%100)
}
