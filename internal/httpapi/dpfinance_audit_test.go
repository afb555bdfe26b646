package httpapi_test

import (
	"bytes"
	"context"
	"net/http"
	"testing"
	"time"

	"github.com/google/uuid"
	"github.com/stretchr/testify/require"

	"github.com/pbudget/pbudget/api"
	"github.com/pbudget/pbudget/internal/app"
	"github.com/pbudget/pbudget/internal/jobs"
	"github.com/pbudget/pbudget/internal/testdb"
)

// scheduleAudits runs the hourly audit_schedule job's work for the bundle's council, on its clock.
func (b *bundle) scheduleAudits() int {
	b.t.Helper()
	q, err := jobs.New(b.db.SQL(), testdb.Logger(), jobs.Config{})
	require.NoError(b.t, err)
	svc := app.Build(b.db, testdb.Logger(), b.clock.Now, q)
	n, err := svc.Finance.ScheduleCouncil(context.Background(), b.council.ID)
	require.NoError(b.t, err)
	return n
}

// auditsOf lists an agreement's audits (or a work list's, with worklist set).
func (b *bundle) auditsOf(agreement uuid.UUID, worklist string) []api.Audit {
	b.t.Helper()
	path := "/v1/audits?agreement_id=" + agreement.String()
	if worklist != "" {
		path += "&worklist=" + worklist
	}
	r := b.do(http.MethodGet, path, b.token("auditor"), nil)
	require.Equal(b.t, http.StatusOK, r.Status, string(r.Body))
	var list api.AuditList
	r.decode(b.t, &list)
	return list.Items
}

// auditAction posts an action on an audit at its version and returns the response and the audit.
func (b *bundle) auditAction(au api.Audit, body map[string]any) (*resp, api.Audit) {
	b.t.Helper()
	r := b.do(http.MethodPost, "/v1/audits/"+au.Id.String()+"/actions", b.token("auditor"), body, "If-Match", etagOf(au.Version))
	var out api.Audit
	if r.Status == http.StatusOK {
		r.decode(b.t, &out)
	}
	return r, out
}

// mustAct is auditAction that must succeed.
func (b *bundle) mustAct(au api.Audit, body map[string]any) api.Audit {
	b.t.Helper()
	r, out := b.auditAction(au, body)
	require.Equal(b.t, http.StatusOK, r.Status, string(r.Body))
	return out
}

func stepValue(t testing.TB, steps []api.AuditStep, name string) int64 {
	t.Helper()
	for _, s := range steps {
		if s.Step == name {
			return s.ValuePence.MustGet()
		}
	}
	t.Fatalf("no step %s in %v", name, steps)
	return 0
}

// importCard imports a prepaid card statement into the agreement's account.
func (b *bundle) importCard(agreement uuid.UUID, csv string) api.Statement {
	b.t.Helper()
	r := b.do(http.MethodGet, "/v1/direct-payment-agreements/"+agreement.String()+"/account", b.token("finance"), nil)
	require.Equal(b.t, http.StatusOK, r.Status, string(r.Body))
	var acct api.DirectPaymentAccount
	r.decode(b.t, &acct)
	r = b.do(http.MethodPost, "/v1/direct-payment-accounts/"+acct.Id.String()+"/statements?format=card", b.token("finance"), csv,
		"Content-Type", "text/csv", "Idempotency-Key", uuid.NewString())
	require.Equal(b.t, http.StatusCreated, r.Status, string(r.Body))
	var st api.Statement
	r.decode(b.t, &st)
	return st
}

func (b *bundle) recovery(body map[string]any) *resp {
	b.t.Helper()
	return b.do(http.MethodPost, "/v1/recoveries", b.token("finance"), body, "Idempotency-Key", uuid.NewString())
}

func (b *bundle) recoveryAction(id uuid.UUID, body map[string]any) api.Recovery {
	b.t.Helper()
	r := b.do(http.MethodPost, "/v1/recoveries/"+id.String()+"/actions", b.token("finance"), body, "Idempotency-Key", uuid.NewString())
	require.Equal(b.t, http.StatusOK, r.Status, string(r.Body))
	var out api.Recovery
	r.decode(b.t, &out)
	return out
}

// concludedAudit pays a new prepaid-card direct payment (£600 a four-week cycle, £150 a week,
// from 6 April 2026) for the first audit's three cycles, schedules the first audit on 30 June,
// takes it through evidence to a reconciliation at the statement balance given, and concludes it
// with outcome (recovery when empty). The clock ends on 30 June 2026.
func (b *bundle) concludedAudit(statementClosing int64, outcome map[string]any) (payFixture, api.Audit) {
	b.t.Helper()
	f := b.agreements(agreementSpec{start: "2026-04-06", accountType: "prepaid_card"})
	for _, day := range []string{"2026-04-06", "2026-05-04", "2026-06-01"} {
		b.pay(b.createRun(day))
	}
	b.clock.Set("2026-06-30")
	b.scheduleAudits()
	as := b.auditsOf(f.dp.Id, "due")
	require.Len(b.t, as, 1)
	au := b.mustAct(as[0], map[string]any{"action": "request_evidence", "items": []any{map[string]any{"kind": "receipt", "description": "receipts for the card spending"}}})
	au = b.mustAct(au, map[string]any{"action": "receive_evidence"})
	au = b.mustAct(au, map[string]any{"action": "reconcile", "statement_closing_pence": statementClosing})
	if outcome == nil {
		outcome = map[string]any{"kind": "recovery", "reason": "The balance is above the eight weeks of payments the account may keep."}
	}
	au = b.mustAct(au, map[string]any{"action": "conclude", "outcome": outcome})
	return f, au
}

// The journey of issue 12: an agreement paid for several cycles → a statement imported with an
// excluded-category line → the audit scheduled → evidence requested and received → reconciled →
// surplus and misspend → recovery by offset → the next payment run shows the offset → recovered.
func TestJourneyFromPaymentsThroughAuditToRecoveryByOffset(t *testing.T) {
	t.Parallel()
	b, c := payBundle(t, "2026-04-01")
	f := b.agreements(agreementSpec{start: "2026-04-06", accountType: "prepaid_card"})
	for _, day := range []string{"2026-04-06", "2026-05-04", "2026-06-01"} {
		b.pay(b.createRun(day))
	}
	// A card statement with a line at a betting merchant (7995: the council's excluded list).
	st := b.importCard(f.dp.Id, "date,merchant,merchant_category_code,amount\n2026-05-10,LUCKY BETS,7995,-50.00\n")
	require.Equal(t, 1, st.FlaggedLines)

	// Before the first audit's period ends nothing is scheduled; on 30 June it is, once.
	c.Set("2026-06-28")
	require.Zero(t, b.scheduleAudits())
	c.Set("2026-06-30")
	require.Equal(t, 1, b.scheduleAudits())
	require.Zero(t, b.scheduleAudits(), "the hourly job schedules each period once")
	due := b.auditsOf(f.dp.Id, "due")
	require.Len(t, due, 1)
	au := due[0]
	require.Equal(t, "2026-04-06", au.PeriodStart.String())
	require.Equal(t, "2026-06-29", au.PeriodEnd.String(), "12 weeks from the first payment")
	require.Equal(t, []api.AuditWorklists{"audit_due"}, au.Worklists)
	r := b.do(http.MethodGet, "/v1/reports/weekly", b.token("auditor"), nil)
	require.Equal(t, http.StatusOK, r.Status, string(r.Body))
	var weekly api.WeeklyReport
	r.decode(t, &weekly)
	require.Equal(t, 1, weekly.Audits.Due, "the weekly report counts the audit due")
	require.Equal(t, 0, weekly.Audits.Overdue)

	au = b.mustAct(au, map[string]any{"action": "request_evidence", "items": []any{
		map[string]any{"kind": "receipt", "description": "receipts for the card spending"},
		map[string]any{"kind": "invoice", "description": "the agency's invoice for June"}}})
	require.Equal(t, "evidence_requested", string(au.State))
	require.Equal(t, "2026-07-28", au.EvidenceDue.MustGet().String(), "28 days")
	// Reconciling before the evidence is in or overdue is refused.
	r, _ = b.auditAction(au, map[string]any{"action": "reconcile"})
	require.Equal(t, http.StatusConflict, r.Status, string(r.Body))
	au = b.mustAct(au, map[string]any{"action": "receive_evidence"})
	au = b.mustAct(au, map[string]any{"action": "reconcile", "statement_closing_pence": 175_000, "liabilities": []any{
		map[string]any{"description": "agency invoice for June", "amount_pence": 10_000, "evidenced": true},
		map[string]any{"description": "wages said to be owed", "amount_pence": 5_000, "evidenced": false}}})

	rec := au.Reconciliation.MustGet()
	require.Equal(t, int64(0), stepValue(t, rec, "opening_balance"))
	require.Equal(t, int64(180_000), stepValue(t, rec, "council_payments"), "three cycles of £600")
	require.Equal(t, int64(5_000), stepValue(t, rec, "spending"))
	require.Equal(t, int64(175_000), stepValue(t, rec, "expected_closing_balance"))
	require.Equal(t, int64(0), stepValue(t, rec, "unexplained_difference"))
	sur := au.Surplus.MustGet()
	require.Equal(t, int64(10_000), stepValue(t, sur, "declared_liabilities"), "only the evidenced liability")
	require.Equal(t, int64(120_000), stepValue(t, sur, "contingency"), "8 weeks of £150")
	require.Equal(t, int64(45_000), stepValue(t, sur, "surplus"))
	require.Equal(t, int64(45_000), stepValue(t, sur, "council_share"))
	require.Equal(t, int64(0), stepValue(t, sur, "person_share"))
	require.Equal(t, int64(5_000), au.MisspendPence)
	require.Equal(t, int64(5_000), au.MisspendCouncilSharePence)
	types := []string{}
	for _, fd := range au.Findings {
		types = append(types, string(fd.Type))
	}
	require.Contains(t, types, "excluded_category")

	au = b.mustAct(au, map[string]any{"action": "conclude", "outcome": map[string]any{"kind": "recovery",
		"reason": "The balance is above the eight weeks of payments the account may keep, and £50 was spent on gambling."}})
	require.Equal(t, "concluded", string(au.State))

	// More than the council's share is refused; the surplus is recovered over two cycles.
	r = b.recovery(map[string]any{"audit_id": au.Id, "basis": "surplus", "amount_pence": 45_001, "method": "offset", "cycles": 2,
		"reason": "The balance is above the eight weeks of payments the account may keep."})
	require.Equal(t, http.StatusUnprocessableEntity, r.Status, string(r.Body))
	require.Equal(t, "urn:pbudget:problem:recovery-council-share-only", r.problem(t).Type)
	r = b.recovery(map[string]any{"audit_id": au.Id, "basis": "surplus", "amount_pence": 45_000, "method": "offset", "cycles": 2,
		"reason": "The balance is above the eight weeks of payments the account may keep."})
	require.Equal(t, http.StatusCreated, r.Status, string(r.Body))
	var surplus api.Recovery
	r.decode(t, &surplus)
	require.Equal(t, []int64{22_500, 22_500}, surplus.PlannedOffsets)
	// The misspend is recovered from the card.
	r = b.recovery(map[string]any{"audit_id": au.Id, "basis": "misspend", "amount_pence": 5_000, "method": "card_recoup",
		"reason": "Money was spent at a betting merchant, which a direct payment may not pay for."})
	require.Equal(t, http.StatusCreated, r.Status, string(r.Body))
	var misspend api.Recovery
	r.decode(t, &misspend)

	// The recoveries list pages by cursor, newest first.
	var rp1, rp2 api.RecoveryList
	b.do(http.MethodGet, "/v1/recoveries?page_size=1&agreement_id="+f.dp.Id.String(), b.token("finance"), nil).decode(t, &rp1)
	require.Len(t, rp1.Items, 1)
	require.Equal(t, misspend.Id, rp1.Items[0].Id)
	require.NotNil(t, rp1.NextPageToken)
	b.do(http.MethodGet, "/v1/recoveries?page_size=1&agreement_id="+f.dp.Id.String()+"&page_token="+*rp1.NextPageToken, b.token("finance"), nil).decode(t, &rp2)
	require.Len(t, rp2.Items, 1)
	require.Equal(t, surplus.Id, rp2.Items[0].Id)
	require.Nil(t, rp2.NextPageToken)
	// A proposed recovery takes no offsets: the run of 29 June pays the cycle in full.
	surplus = b.recoveryAction(surplus.Id, map[string]any{"action": "notify"})
	require.Equal(t, "notified", string(surplus.Status))
	// The weekly report counts it outstanding (the misspend, only proposed, is not yet).
	r = b.do(http.MethodGet, "/v1/reports/weekly", b.token("finance"), nil)
	require.Equal(t, http.StatusOK, r.Status, string(r.Body))
	r.decode(t, &weekly)
	require.Equal(t, 1, weekly.Recoveries.Count)
	require.Equal(t, surplus.AmountPence, weekly.Recoveries.Pence)
	run := b.createRun("2026-06-29")
	var offset, cycle int64
	for _, l := range b.lines(&run.Id, "agreement_id="+f.dp.Id.String()) {
		switch l.Kind {
		case "recovery":
			offset += l.AmountPence
			require.Equal(t, surplus.Id, l.RecoveryId.MustGet())
		case "cycle":
			cycle += l.AmountPence
		}
	}
	require.Equal(t, int64(60_000), cycle)
	require.Equal(t, int64(-22_500), offset, "the next run shows the offset")
	b.pay(run)
	r = b.do(http.MethodGet, "/v1/recoveries/"+surplus.Id.String(), b.token("auditor"), nil)
	r.decode(t, &surplus)
	require.Equal(t, "part_recovered", string(surplus.Status))
	require.Equal(t, int64(22_500), surplus.RecoveredPence)
	b.pay(b.createRun("2026-07-27"))
	r = b.do(http.MethodGet, "/v1/recoveries/"+surplus.Id.String(), b.token("auditor"), nil)
	r.decode(t, &surplus)
	require.Equal(t, "recovered", string(surplus.Status))
	require.Len(t, surplus.Offsets, 2)
	// A third run takes nothing more.
	run = b.createRun("2026-08-24")
	for _, l := range b.lines(&run.Id, "agreement_id="+f.dp.Id.String()) {
		require.NotEqual(t, "recovery", string(l.Kind))
	}

	misspend = b.recoveryAction(misspend.Id, map[string]any{"action": "notify"})
	misspend = b.recoveryAction(misspend.Id, map[string]any{"action": "record", "amount_pence": 5_000})
	require.Equal(t, "recovered", string(misspend.Status))

	// The letter says it in plain English, as a PDF.
	r = b.do(http.MethodGet, "/v1/audits/"+au.Id.String()+"/letter", b.token("auditor"), nil)
	require.Equal(t, http.StatusOK, r.Status, string(r.Body))
	require.True(t, bytes.HasPrefix(r.Body, []byte("%PDF")))
	require.Contains(t, string(r.Body), "surplus")

	// Everything is in the audit trail with the figures used.
	var events api.AuditEventList
	r = b.do(http.MethodGet, "/v1/audit-events?entity_type=dp_audit&entity_id="+au.Id.String(), b.token("auditor"), nil)
	require.Equal(t, http.StatusOK, r.Status, string(r.Body))
	r.decode(t, &events)
	var reconciled map[string]any
	for _, e := range events.Items {
		if e.Action == "dp_audit.reconcile" {
			reconciled = e.Details
		}
	}
	require.NotNil(t, reconciled)
	require.EqualValues(t, 180_000, reconciled["council_payments_pence"])
	require.EqualValues(t, 45_000, reconciled["surplus_surplus_pence"])
}

// A recovery without a written reason is refused (invariant 17), and writes nothing.
func TestARecoveryWithoutAReasonIsRefused(t *testing.T) {
	t.Parallel()
	b, _ := payBundle(t, "2026-04-01")
	_, au := b.concludedAudit(500_000, nil)
	for _, why := range []string{"", "   ", "surplus"} {
		before := b.counts()
		r := b.recovery(map[string]any{"audit_id": au.Id, "basis": "surplus", "amount_pence": 1_000, "method": "invoice", "reason": why})
		require.Equal(t, http.StatusUnprocessableEntity, r.Status, string(r.Body))
		require.Equal(t, "urn:pbudget:problem:reason-required", r.problem(t).Type, "reason %q", why)
		require.Equal(t, before, b.counts())
	}
}

// An offset larger than a cycle's payment takes the payment and no more: the payment is nothing,
// never negative, and what the cycles could not take stays outstanding.
func TestAnOffsetLargerThanACycleTakesThePaymentAndNoMore(t *testing.T) {
	t.Parallel()
	b, _ := payBundle(t, "2026-04-01")
	f, au := b.concludedAudit(1_000_000, nil)
	r := b.recovery(map[string]any{"audit_id": au.Id, "basis": "surplus", "amount_pence": 100_000, "method": "offset", "cycles": 1,
		"reason": "The balance is far above the eight weeks of payments the account may keep."})
	require.Equal(t, http.StatusCreated, r.Status, string(r.Body))
	var rc api.Recovery
	r.decode(t, &rc)
	rc = b.recoveryAction(rc.Id, map[string]any{"action": "notify"})
	run := b.createRun("2026-06-29")
	var net int64
	for _, l := range b.lines(&run.Id, "agreement_id="+f.dp.Id.String()) {
		if l.Kind == "recovery" {
			require.Equal(t, int64(-60_000), l.AmountPence, "at most the cycle's payment")
		}
		net += l.AmountPence
	}
	require.Equal(t, int64(0), net, "paid nothing, never less")
	b.pay(run)
	r = b.do(http.MethodGet, "/v1/recoveries/"+rc.Id.String(), b.token("finance"), nil)
	r.decode(t, &rc)
	require.Equal(t, int64(60_000), rc.RecoveredPence)
	require.Equal(t, int64(40_000), rc.OutstandingPence)
	require.Equal(t, "part_recovered", string(rc.Status))
	// Its one cycle is taken: a later run takes no more (the rest is recovered another way).
	run = b.createRun("2026-07-27")
	for _, l := range b.lines(&run.Id, "agreement_id="+f.dp.Id.String()) {
		require.NotEqual(t, "recovery", string(l.Kind))
	}
}

// A dispute pauses a recovery: runs take no offsets while it is disputed, and again once it is
// resumed with a reason; finance alone writes one off.
func TestADisputedRecoveryTakesNoOffsetsUntilResumed(t *testing.T) {
	t.Parallel()
	b, _ := payBundle(t, "2026-04-01")
	f, au := b.concludedAudit(500_000, nil)
	r := b.recovery(map[string]any{"audit_id": au.Id, "basis": "surplus", "amount_pence": 30_000, "method": "offset", "cycles": 3,
		"reason": "The balance is above the eight weeks of payments the account may keep."})
	require.Equal(t, http.StatusCreated, r.Status, string(r.Body))
	var rc api.Recovery
	r.decode(t, &rc)
	b.recoveryAction(rc.Id, map[string]any{"action": "notify"})
	rc = b.recoveryAction(rc.Id, map[string]any{"action": "dispute", "grounds": "The money is set aside for a respite week already booked."})
	require.Equal(t, "disputed", string(rc.Status))
	run := b.createRun("2026-06-29")
	for _, l := range b.lines(&run.Id, "agreement_id="+f.dp.Id.String()) {
		require.NotEqual(t, "recovery", string(l.Kind), "paused by the dispute")
	}
	r, run = b.runAction(run, "cancel", b.financeA(), map[string]any{"reason": "rebuilt after the dispute was answered"})
	require.Equal(t, http.StatusOK, r.Status, string(r.Body))
	rc = b.recoveryAction(rc.Id, map[string]any{"action": "resume", "reason": "The respite week is paid from the contingency the account keeps."})
	require.Equal(t, "notified", string(rc.Status))
	run = b.createRun("2026-06-29")
	var offset int64
	for _, l := range b.lines(&run.Id, "agreement_id="+f.dp.Id.String()) {
		if l.Kind == "recovery" {
			offset += l.AmountPence
		}
	}
	require.Equal(t, int64(-10_000), offset)
	// An auditor cannot write a recovery off; finance can, with a reason.
	rr := b.do(http.MethodPost, "/v1/recoveries/"+rc.Id.String()+"/actions", b.token("auditor"),
		map[string]any{"action": "write_off", "reason": "The person has died and the estate holds nothing."}, "Idempotency-Key", uuid.NewString())
	require.Equal(t, http.StatusForbidden, rr.Status, string(rr.Body))
	rc = b.recoveryAction(rc.Id, map[string]any{"action": "write_off", "reason": "The person has died and the estate holds nothing."})
	require.Equal(t, "written_off", string(rc.Status))
	require.Equal(t, int64(30_000), rc.WrittenOffPence)
}

// The schedule: the first audit 12 weeks after the first payment, then every 12 months from
// there; the work lists follow the due dates.
func TestAuditsAreScheduledTwelveWeeksAfterTheFirstPaymentThenAnnually(t *testing.T) {
	t.Parallel()
	b, c := payBundle(t, "2026-04-01")
	f := b.agreements(agreementSpec{start: "2026-04-06"})
	b.pay(b.createRun("2026-04-06"))
	c.Set("2026-06-28")
	require.Zero(t, b.scheduleAudits(), "the first period ends on 28 June (its last day)")
	c.Set("2026-06-29")
	require.Equal(t, 1, b.scheduleAudits(), "due 12 weeks after the first payment")
	c.Set("2027-06-28")
	require.Zero(t, b.scheduleAudits())
	c.Set("2027-06-29")
	require.Equal(t, 1, b.scheduleAudits(), "then 12 months later")
	as := b.auditsOf(f.dp.Id, "")
	require.Len(t, as, 2)
	require.Equal(t, "2026-06-29", as[1].PeriodStart.String())
	require.Equal(t, "2027-06-29", as[1].PeriodEnd.String())
	// The list pages by cursor, in due order, with the page's filters in its token.
	var p1, p2 api.AuditList
	b.do(http.MethodGet, "/v1/audits?page_size=1&agreement_id="+f.dp.Id.String(), b.token("auditor"), nil).decode(t, &p1)
	require.Len(t, p1.Items, 1)
	require.Equal(t, as[0].Id, p1.Items[0].Id)
	require.NotNil(t, p1.NextPageToken)
	b.do(http.MethodGet, "/v1/audits?page_size=1&agreement_id="+f.dp.Id.String()+"&page_token="+*p1.NextPageToken, b.token("auditor"), nil).decode(t, &p2)
	require.Len(t, p2.Items, 1)
	require.Equal(t, as[1].Id, p2.Items[0].Id)
	require.Nil(t, p2.NextPageToken)
	r0 := b.do(http.MethodGet, "/v1/audits?page_size=1&worklist=overdue&page_token="+*p1.NextPageToken, b.token("auditor"), nil)
	require.Equal(t, http.StatusBadRequest, r0.Status, "a token is for the filters it was given with: %s", r0.Body)
	// The first is overdue 56 days after it was due (24 August 2026), on 29 June 2027 long since.
	over := b.auditsOf(f.dp.Id, "overdue")
	require.Len(t, over, 1)
	require.Equal(t, as[0].Id, over[0].Id)
	// Cancelled with a reason, it leaves the work lists.
	r, _ := b.auditAction(over[0], map[string]any{"action": "cancel", "reason": " "})
	require.Equal(t, http.StatusUnprocessableEntity, r.Status, string(r.Body))
	b.mustAct(over[0], map[string]any{"action": "cancel", "reason": "The direct payment was replaced by a managed account in July."})
	require.Empty(t, b.auditsOf(f.dp.Id, "overdue"))
}

// The contingency at its edge: a closing balance exactly at liabilities + contingency leaves no
// surplus; a penny over is a penny of surplus (all the council's, with no contributions paid in).
// An ad hoc audit on a concern needs a first payment.
func TestTheContingencyExactlyMetLeavesNoSurplusAndAPennyOverIsAPenny(t *testing.T) {
	t.Parallel()
	b, _ := payBundle(t, "2026-04-01")
	concern := map[string]any{"reason": "A concern was raised about the balance held in the account."}
	for i, tc := range []struct{ closing, surplus int64 }{{130_000, 0}, {130_001, 1}} {
		b.clock.Set("2026-04-01")
		f := b.agreements(agreementSpec{start: "2026-04-06"})
		if i == 0 {
			r := b.do(http.MethodPost, "/v1/audits", b.token("auditor"), with(concern, "agreement_id", f.dp.Id))
			require.Equal(t, http.StatusConflict, r.Status, "no first payment yet: %s", r.Body)
			require.Equal(t, "urn:pbudget:problem:audit-no-first-payment", r.problem(t).Type)
		}
		b.pay(b.createRun("2026-04-06"))
		b.clock.Set("2026-04-20")
		r := b.do(http.MethodPost, "/v1/audits", b.token("auditor"), with(concern, "agreement_id", f.dp.Id))
		require.Equal(t, http.StatusCreated, r.Status, string(r.Body))
		var adhoc api.Audit
		r.decode(t, &adhoc)
		require.Equal(t, "ad_hoc", string(adhoc.Kind))
		require.Equal(t, "2026-04-21", adhoc.PeriodEnd.String(), "to the end of the concern's day")
		adhoc = b.mustAct(adhoc, map[string]any{"action": "request_evidence", "items": []any{map[string]any{"kind": "bank_statement", "description": "April's statement"}}})
		adhoc = b.mustAct(adhoc, map[string]any{"action": "receive_evidence"})
		adhoc = b.mustAct(adhoc, map[string]any{"action": "reconcile", "statement_closing_pence": tc.closing,
			"liabilities": []any{map[string]any{"description": "agency invoice", "amount_pence": 10_000, "evidenced": true}}})
		sur := adhoc.Surplus.MustGet()
		require.Equal(t, int64(120_000), stepValue(t, sur, "contingency"))
		require.Equal(t, tc.surplus, stepValue(t, sur, "surplus"), "closing %d", tc.closing)
		require.Equal(t, tc.surplus, stepValue(t, sur, "council_share")+stepValue(t, sur, "person_share"))
	}
}

// Suspending payments is an outcome the payments carry out: the agreement is suspended from the
// day given, and its next run pays it nothing.
func TestAnAuditThatSuspendsPaymentsSuspendsTheAgreement(t *testing.T) {
	t.Parallel()
	b, _ := payBundle(t, "2026-04-01")
	f, au := b.concludedAudit(175_000, map[string]any{"kind": "suspend_payments", "suspend_from": "2026-07-01",
		"reason": "Spending at betting merchants continued after two warnings."})
	require.Equal(t, "suspend_payments", string(au.Outcome.MustGet().Kind))
	s := b.schedule("direct-payment-agreements", f.dp.Id, "")
	require.NotEmpty(t, s.Suspensions)
	require.Equal(t, "2026-07-01", s.Suspensions[len(s.Suspensions)-1].FromDate.String())
}

// financeFixture is one record of each kind the finance routes address, for the hostile walk.
type financeFixture struct{ statement, audit, recovery string }

// financeFixtures files a statement on the ISF and concludes an audit of a new direct payment
// with a recovery proposed (the clock ends on 30 June 2026).
func (b *bundle) financeFixtures(prov api.Provider, isfAg api.ISFAgreement, plan api.SupportPlan) financeFixture {
	b.t.Helper()
	var line uuid.UUID
	for _, l := range plan.Lines {
		if string(l.ManagementOption) == "isf" {
			line = l.Id
		}
	}
	start := isfAg.StartDate.Time
	end := time.Date(start.Year(), start.Month()+1, 1, 0, 0, 0, 0, time.UTC).Format("2006-01-02")
	r := b.do(http.MethodPost, "/v1/isf-agreements/"+isfAg.Id.String()+"/statements", b.providerToken(prov),
		isfStatement(isfAg.StartDate.String(), end, 0, 60_000, line, "1", 7_500, 52_500))
	require.Equal(b.t, http.StatusCreated, r.Status, string(r.Body))
	var st api.ISFStatement
	r.decode(b.t, &st)
	_, au := b.concludedAudit(500_000, nil)
	r = b.recovery(map[string]any{"audit_id": au.Id, "basis": "surplus", "amount_pence": 30_000, "method": "offset", "cycles": 3,
		"reason": "The balance is above the eight weeks of payments the account may keep."})
	require.Equal(b.t, http.StatusCreated, r.Status, string(r.Body))
	var rc api.Recovery
	r.decode(b.t, &rc)
	return financeFixture{statement: st.Id.String(), audit: au.Id.String(), recovery: rc.Id.String()}
}
