package app_test

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"slices"
	"strings"
	"testing"

	"github.com/google/uuid"
	"github.com/stretchr/testify/require"
	"pgregory.net/rapid"

	"github.com/pbudget/pbudget/internal/account"
	"github.com/pbudget/pbudget/internal/accounts"
	"github.com/pbudget/pbudget/internal/actor"
	"github.com/pbudget/pbudget/internal/app"
	"github.com/pbudget/pbudget/internal/date"
	"github.com/pbudget/pbudget/internal/page"
	"github.com/pbudget/pbudget/internal/testdb"
)

// newAccount inserts a person, budget, approved plan and direct-payment agreement, and returns
// the account the database opened for it.
func newAccount(t require.TestingT, ctx context.Context, svc app.Services, councilID uuid.UUID, exec func(string, ...any)) uuid.UUID {
	p, b, plan, ag := uuid.Must(uuid.NewV7()), uuid.Must(uuid.NewV7()), uuid.Must(uuid.NewV7()), uuid.Must(uuid.NewV7())
	exec(`INSERT INTO people (council_id, id, given_name, family_name, date_of_birth, person_type, created_at, updated_at)
		VALUES ($1, $2, 'Account', 'Property', '1960-06-01', 'adult', now(), now())`, councilID, p)
	exec(`INSERT INTO personal_budgets (council_id, id, person_id, kind, status, start_date, version, created_at, updated_at)
		VALUES ($1, $2, $3, 'care_and_support', 'agreed', '2026-01-01', 1, now(), now())`, councilID, b, p)
	exec(`INSERT INTO support_plans (council_id, id, budget_id, person_id, number, status, approved_at, approved_by, sign_off_checks,
		version, created_at, updated_at) VALUES ($1, $2, $3, $4, 1, 'approved', now(), 'approver', '{}', 1, now(), now())`, councilID, plan, b, p)
	exec(`INSERT INTO direct_payment_agreements (council_id, id, plan_id, budget_id, person_id, recipient, recipient_consented, account_type,
		payment_basis, frequency, start_date, annual_amount_pence, version, created_at, updated_at)
		VALUES ($1, $2, $3, $4, $5, 'person', false, 'prepaid_card', 'gross', 'four_weekly', '2026-01-05', 780000, 1, now(), now())`,
		councilID, ag, plan, b, p)
	a := actor.Actor{Subject: "finance", CouncilID: councilID, Roles: []actor.Role{actor.Finance}}
	acct, _, err := svc.Accounts.AccountOfAgreement(ctx, a, ag)
	require.NoError(t, err)
	return acct.ID
}

type txn struct {
	day    date.Date
	desc   string
	amount int64
}

// The property over the database: a month of card transactions (with identical lines on
// one day), shown by statements that each cover whole days of it, overlapping at random, in
// either date order, imported in any order (some twice) — the account holds each transaction
// exactly once, however they overlap; and its balance, computed by the database, is the sum of
// its ledger entries at every date.
func TestAnyOverlapAndOrderOfStatementsHoldsEachLineOnceAndTheBalanceIsTheSumOfEntries(t *testing.T) {
	// Not parallel: rapid's check count is a global flag that every parallel check reads.
	checks(t, 40)
	ctx := context.Background()
	db := testdb.DB(t)
	clk := &testClock{}
	clk.Set(date.Of(2026, 6, 1))
	svc := app.Build(db, testdb.Logger(), clk.Now, insertOnlyQueue(t))
	c, err := svc.Councils.Ensure(ctx, "acc-"+uuid.NewString()[:8], "Accounts property")
	require.NoError(t, err)
	fin := actor.Actor{Subject: "finance", CouncilID: c.ID, Roles: []actor.Role{actor.Finance}}
	rapid.Check(t, func(rt *rapid.T) {
		exec := func(q string, args ...any) {
			_, err := db.SQL().ExecContext(ctx, q, args...)
			require.NoError(rt, err, q)
		}
		acct := newAccount(rt, ctx, svc, c.ID, exec)
		start := date.Of(2026, 5, 1)
		days := rapid.IntRange(1, 20).Draw(rt, "days")
		var all []txn
		for d := range days {
			for i := range rapid.IntRange(0, 5).Draw(rt, fmt.Sprintf("lines%d", d)) {
				// A small alphabet of merchants and amounts, so that identical lines on one day are common.
				m := rapid.SampledFrom([]string{"CAFE", "SHOP", "TAXI"}).Draw(rt, fmt.Sprintf("m%d_%d", d, i))
				a := rapid.SampledFrom([]int64{-450, -1000, 250}).Draw(rt, fmt.Sprintf("a%d_%d", d, i))
				all = append(all, txn{start.AddDays(d), m, a})
			}
		}
		files := rapid.IntRange(1, 5).Draw(rt, "files")
		covered := map[date.Date]bool{}
		var bodies []string
		for f := range files {
			from := rapid.IntRange(0, days-1).Draw(rt, fmt.Sprintf("from%d", f))
			to := rapid.IntRange(from, days-1).Draw(rt, fmt.Sprintf("to%d", f))
			var lines []string
			for _, x := range all {
				if !x.day.Before(start.AddDays(from)) && !x.day.After(start.AddDays(to)) {
					lines = append(lines, fmt.Sprintf("%s,%s,5999,%s", x.day, x.desc, pounds(x.amount)))
				}
			}
			// Within a day the bank's order is its own: shuffle each day's lines.
			lines = shuffleWithinDays(rt, lines, f)
			if rapid.Bool().Draw(rt, fmt.Sprintf("descending%d", f)) {
				slices.SortStableFunc(lines, func(a, b string) int { return strings.Compare(b[:10], a[:10]) })
			}
			for d := from; d <= to; d++ {
				covered[start.AddDays(d)] = true
			}
			bodies = append(bodies, "date,merchant,merchant_category_code,amount\n"+strings.Join(lines, "\n")+"\n")
		}
		order := rapid.Permutation(append(bodies, rapid.SampledFrom(bodies).Draw(rt, "again"))).Draw(rt, "order")
		for _, body := range order {
			sum := sha256.Sum256([]byte(body))
			m, _ := account.MappingOf(account.Card)
			_, _, err := svc.Accounts.Import(ctx, fin, acct, accounts.ImportInput{Format: "card", Mapping: m,
				File: accounts.File{Body: strings.NewReader(body), Size: int64(len(body)), SHA256: hex.EncodeToString(sum[:])}})
			require.NoError(rt, err)
		}
		want := map[string]int{}
		var wantBalance int64
		for _, x := range all {
			if covered[x.day] {
				want[fmt.Sprintf("%s|%s|%d", x.day, x.desc, x.amount)]++
				wantBalance += x.amount
			}
		}
		rows, err := db.SQL().QueryContext(ctx, `SELECT line_date::text, description, amount_pence FROM statement_lines WHERE council_id = $1 AND account_id = $2`, c.ID, acct)
		require.NoError(rt, err)
		got := map[string]int{}
		for rows.Next() {
			var d, desc string
			var a int64
			require.NoError(rt, rows.Scan(&d, &desc, &a))
			got[fmt.Sprintf("%s|%s|%d", d, desc, a)]++
		}
		require.NoError(rt, rows.Err())
		rows.Close()
		require.Equal(rt, want, got, "each transaction once")

		// The balance at every day is the sum of the ledger's entries up to it.
		var entries []accounts.Entry
		for pr := (page.Request{Size: 200}); ; {
			list, err := svc.Accounts.Ledger(ctx, fin, acct, accounts.LedgerFilter{}, pr)
			require.NoError(rt, err)
			items, next := page.Result(list, pr, 0, accounts.Entry.Cursor)
			entries = append(entries, items...)
			if next == nil {
				break
			}
			pr.After = &page.Cursor{Time: items[len(items)-1].Date.Time(), ID: items[len(items)-1].ID}
		}
		for d := -1; d <= days; d++ {
			at := start.AddDays(d)
			var sum int64
			for _, e := range entries {
				if !e.Date.After(at) {
					sum += e.Effect
				}
			}
			b, err := svc.Accounts.Balance(ctx, fin, acct, &at)
			require.NoError(rt, err)
			require.Equal(rt, sum, b.Balance, "balance at %s", at)
		}
		end := start.AddDays(days)
		b, err := svc.Accounts.Balance(ctx, fin, acct, &end)
		require.NoError(rt, err)
		require.Equal(rt, wantBalance, b.Balance)
	})
}

func pounds(p int64) string {
	sign := ""
	if p < 0 {
		sign, p = "-", -p
	}
	return fmt.Sprintf("%s%d.%02d", sign, p/100, p%100)
}

func shuffleWithinDays(rt *rapid.T, lines []string, f int) []string {
	var out []string
	for i := 0; i < len(lines); {
		j := i
		for j < len(lines) && lines[j][:10] == lines[i][:10] {
			j++
		}
		out = append(out, rapid.Permutation(lines[i:j]).Draw(rt, fmt.Sprintf("day%d_%d", f, i))...)
		i = j
	}
	return out
}
