package httpapi_test

import (
	"database/sql"
	"fmt"
	"net/http"
	"os"
	"sort"
	"testing"
	"time"

	"github.com/google/uuid"
	"github.com/stretchr/testify/require"
	"pgregory.net/rapid"

	"github.com/pbudget/pbudget/api"
)

// reconciledAudit pays a new direct payment's first audit period (three cycles of £600 from 6
// April 2026), schedules its audit on 30 June 2026 and takes it to reconciled. It returns the
// agreement's account id and the audit.
func (b *bundle) reconciledAudit() (uuid.UUID, api.Audit) {
	b.t.Helper()
	f := b.agreements(agreementSpec{start: "2026-04-06", accountType: "prepaid_card"})
	for _, day := range []string{"2026-04-06", "2026-05-04", "2026-06-01"} {
		b.pay(b.createRun(day))
	}
	b.clock.Set("2026-06-30")
	b.scheduleAudits()
	au := b.auditsOf(f.dp.Id, "")[0]
	au = b.mustAct(au, map[string]any{"action": "request_evidence", "items": []any{map[string]any{"kind": "receipt", "description": "receipts"}}})
	au = b.mustAct(au, map[string]any{"action": "receive_evidence"})
	au = b.mustAct(au, map[string]any{"action": "reconcile"})
	r := b.do(http.MethodGet, "/v1/direct-payment-agreements/"+f.dp.Id.String()+"/account", b.token("finance"), nil)
	require.Equal(b.t, http.StatusOK, r.Status, string(r.Body))
	var acct api.DirectPaymentAccount
	r.decode(b.t, &acct)
	return acct.Id, au
}

// addEntry appends a ledger entry as the owner (as statements, contributions and refunds would).
func addEntry(t testing.TB, owner *sql.DB, council, accountID uuid.UUID, day, kind string, signed int64) {
	t.Helper()
	reason := ""
	if kind == "adjustment" {
		reason = "a correction"
	}
	id := uuid.New()
	reference := ""
	if kind == "contribution_paid_to_council" {
		reference = id.String() // a debtors reference, unique on the account
	}
	_, err := owner.Exec(`INSERT INTO ledger_entries (council_id, id, account_id, entry_date, kind, amount_pence, source_kind, source_id, reason, reference, created_by, created_at)
		VALUES ($1, $2, $3, $4, $5, $6, 'manual', $2, $7, $8, 'test', now())`, council, id, accountID, day, kind, signed, reason, reference)
	require.NoError(t, err)
}

// Invariants 15 and 16 through the database and the API: whatever the ledger holds, the audit's
// reconciliation adds up (opening + in − out = expected closing, to the penny) and agrees with the
// account's balance; the surplus is never below zero, is the closing balance less the evidenced
// liabilities and the contingency, and the council's and the person's shares add up to it.
func TestAnAuditsReconciliationAndSurplusAddUpWhateverTheLedgerHolds(t *testing.T) {
	t.Parallel()
	b, _ := payBundle(t, "2026-04-01")
	owner := ownerDB(t)
	accountID, au := b.reconciledAudit()
	days := []string{"2026-04-06", "2026-04-30", "2026-05-17", "2026-06-01", "2026-06-28"}
	kinds := []struct {
		kind string
		sign int64
	}{{"spend", -1}, {"contribution_received", 1}, {"refund", 1}, {"recovery", -1}, {"adjustment", 1}, {"adjustment", -1}, {"contribution_due", 1},
		{"contribution_paid_to_council", 1}}
	rapid.Check(t, func(rt *rapid.T) {
		for range rapid.IntRange(0, 3).Draw(rt, "entries") {
			k := kinds[rapid.IntRange(0, len(kinds)-1).Draw(rt, "kind")]
			addEntry(t, owner, b.council.ID, accountID, days[rapid.IntRange(0, len(days)-1).Draw(rt, "day")], k.kind,
				k.sign*rapid.Int64Range(1, 200_000).Draw(rt, "amount"))
		}
		body := map[string]any{"action": "reconcile"}
		var evidenced int64
		ls := []any{}
		for range rapid.IntRange(0, 3).Draw(rt, "liabilities") {
			amt, ev := rapid.Int64Range(1, 100_000).Draw(rt, "liability"), rapid.Bool().Draw(rt, "evidenced")
			if ev {
				evidenced += amt
			}
			ls = append(ls, map[string]any{"description": "an invoice", "amount_pence": amt, "evidenced": ev})
		}
		body["liabilities"] = ls
		stated := rapid.Bool().Draw(rt, "stated")
		var closingStated int64
		if stated {
			closingStated = rapid.Int64Range(-100_000, 2_000_000).Draw(rt, "statement")
			body["statement_closing_pence"] = closingStated
		}
		r, next := b.auditAction(au, body)
		require.Equal(rt, http.StatusOK, r.Status, string(r.Body))
		au = next
		rec := au.Reconciliation.MustGet()
		v := func(name string) int64 { return stepValue(t, rec, name) }
		expected := v("opening_balance") + v("council_payments") + v("contributions_received") + v("other_money_in") - v("spending") - v("other_money_out")
		require.Equal(rt, expected, v("expected_closing_balance"))
		var bal api.AccountBalance
		r = b.do(http.MethodGet, "/v1/direct-payment-accounts/"+accountID.String()+"/balance?at=2026-06-28", b.token("auditor"), nil)
		require.Equal(rt, http.StatusOK, r.Status, string(r.Body))
		r.decode(t, &bal)
		require.Equal(rt, bal.BalancePence, v("expected_closing_balance"), "the ledger's balance at the period's last day")
		var toCouncil int64 // contributions paid to the council settle the shortfall, outside the account's money
		for _, st := range rec {
			if st.Step == "contributions_paid_to_council" {
				toCouncil = st.ValuePence.MustGet()
			}
		}
		require.Equal(rt, max(0, v("contributions_due")-v("contributions_received")-toCouncil), v("contribution_shortfall"))
		closing := v("expected_closing_balance")
		if stated {
			closing = closingStated
			require.Equal(rt, closingStated-expected, v("unexplained_difference"))
		}
		sur := au.Surplus.MustGet()
		s := func(name string) int64 { return stepValue(t, sur, name) }
		require.GreaterOrEqual(rt, s("surplus"), int64(0))
		require.Equal(rt, max(0, closing-evidenced-120_000), s("surplus"))
		require.Equal(rt, s("surplus"), s("council_share")+s("person_share"))
		if v("contributions_received") == 0 {
			require.Zero(rt, s("person_share"))
		}
	})
}

// TestAuditReconciliationLatency measures, opt-in (PB_BENCH=1), the median latency of an audit's
// reconciliation through the API over a year of 2,000 ledger entries.
func TestAuditReconciliationLatency(t *testing.T) {
	if os.Getenv("PB_BENCH") == "" {
		t.Skip("set PB_BENCH=1 to measure")
	}
	b, c := payBundle(t, "2026-04-01")
	owner := ownerDB(t)
	_, err := owner.Exec(`UPDATE council_settings SET audit_first_weeks = 52 WHERE council_id = $1`, b.council.ID)
	require.NoError(t, err)
	f := b.agreements(agreementSpec{start: "2026-04-06", accountType: "prepaid_card"})
	b.pay(b.createRun("2026-04-06"))
	r := b.do(http.MethodGet, "/v1/direct-payment-agreements/"+f.dp.Id.String()+"/account", b.token("finance"), nil)
	var acct api.DirectPaymentAccount
	r.decode(t, &acct)
	start := time.Date(2026, 4, 6, 0, 0, 0, 0, time.UTC)
	var have int
	require.NoError(t, owner.QueryRow(`SELECT count(*) FROM ledger_entries WHERE account_id = $1`, acct.Id).Scan(&have))
	for i := have; i < 2_000; i++ {
		day := start.AddDate(0, 0, i*364/2_000).Format("2006-01-02")
		switch i % 4 {
		case 0:
			addEntry(t, owner, b.council.ID, acct.Id, day, "contribution_received", 2_500)
		default:
			addEntry(t, owner, b.council.ID, acct.Id, day, "spend", -1_000-int64(i%97))
		}
	}
	c.Set("2027-04-06")
	b.scheduleAudits()
	au := b.auditsOf(f.dp.Id, "")[0]
	require.Equal(t, "2027-04-05", au.PeriodEnd.String(), "a year: 52 weeks from the first payment")
	au = b.mustAct(au, map[string]any{"action": "request_evidence", "items": []any{map[string]any{"kind": "receipt", "description": "receipts"}}})
	au = b.mustAct(au, map[string]any{"action": "receive_evidence"})
	var times []time.Duration
	for i := 0; i < 51; i++ {
		t0 := time.Now()
		au = b.mustAct(au, map[string]any{"action": "reconcile", "liabilities": []any{map[string]any{"description": "an invoice", "amount_pence": 5_000, "evidenced": true}}})
		times = append(times, time.Since(t0))
	}
	var entries int
	require.NoError(t, owner.QueryRow(`SELECT count(*) FROM ledger_entries WHERE account_id = $1`, acct.Id).Scan(&entries))
	sort.Slice(times, func(i, j int) bool { return times[i] < times[j] })
	t.Logf("audit reconciliation over %d ledger entries: median %v, p90 %v, min %v (%d runs)", entries, times[len(times)/2], times[len(times)*9/10], times[0], len(times))
	fmt.Fprintf(os.Stderr, "RESULT reconcile entries=%d median=%v p90=%v\n", entries, times[len(times)/2], times[len(times)*9/10])
}
