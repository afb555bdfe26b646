package httpapi_test

import (
	"net/http"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/pbudget/pbudget/api"
)

func onlyAgreement(lines []api.PaymentLine, id string) []api.PaymentLine {
	var out []api.PaymentLine
	for _, l := range lines {
		if l.AgreementId.String() == id {
			out = append(out, l)
		}
	}
	return out
}

// DOMAIN.md section 11: a cycle covered only in part is paid per-cycle × days ÷ days in the
// cycle, nearest penny, halves up; at the edges of a four-weekly cycle of £600.
func TestProRataDaysAtTheEdgesOfACycle(t *testing.T) {
	t.Parallel()
	b, _ := payBundle(t, "2026-04-01")
	tests := []struct {
		name, start, end string
		cycle            string
		owed             int64
		reason           string
	}{
		{"starting on the cycle's first day: the whole cycle", "2026-04-06", "", "2026-04-06", 60_000, "cycle in advance"},
		{"starting a day later: 27 of 28 days (57,857.14)", "2026-04-07", "", "2026-04-06", 57_857, "pro rata: 27 of 28 days"},
		{"starting on the cycle's last day: 1 of 28 days (2,142.86)", "2026-05-03", "", "2026-04-06", 2_143, "pro rata: 1 of 28 days"},
		{"ending a day into a cycle: 1 of 28 days", "2026-04-06", "2026-05-05", "2026-05-04", 2_143, "pro rata: 1 of 28 days"},
		{"ending on the cycle's last day: 27 of 28 days", "2026-04-06", "2026-05-31", "2026-05-04", 57_857, "pro rata: 27 of 28 days"},
		{"ending on the next cycle's first day: the whole cycle", "2026-04-06", "2026-06-01", "2026-05-04", 60_000, "cycle in advance"},
	}
	ids := map[string]string{}
	for _, tt := range tests {
		f := b.agreements(agreementSpec{start: tt.start})
		ids[tt.name] = f.dp.Id.String()
		if tt.end != "" {
			r := b.do(http.MethodPost, "/v1/direct-payment-agreements/"+f.dp.Id.String()+"/end", b.token("practitioner"),
				map[string]any{"end_date": tt.end, "reason": "moved away"}, "If-Match", etagOf(f.dp.Version))
			require.Equal(t, http.StatusOK, r.Status, string(r.Body))
		}
		s := b.schedule("direct-payment-agreements", f.dp.Id, "2026-06-01")
		var found bool
		for _, c := range s.Cycles {
			if c.StartDate.Format("2006-01-02") == tt.cycle {
				found = true
				require.Equal(t, tt.owed, c.OwedPence, tt.name)
			}
		}
		require.True(t, found, tt.name)
	}
	run := b.createRun("2026-05-25") // takes every cycle starting by 1 June
	lines := b.lines(&run.Id, "")
	for _, tt := range tests {
		var got *api.PaymentLine
		for _, l := range onlyAgreement(lines, ids[tt.name]) {
			if l.CycleStart.MustGet().Format("2006-01-02") == tt.cycle {
				got = &l
			}
		}
		require.NotNil(t, got, tt.name)
		require.Equal(t, tt.owed, got.AmountPence, tt.name)
		require.Equal(t, tt.reason, got.Reason, tt.name)
	}
}

// A run takes the cycles starting on or before its pay date + lead days (7): a cycle starting on
// the horizon is in, the day after is out; cancelling a run untakes its lines.
func TestLeadDaysTakeACycleStartingOnTheHorizonAndNotTheDayAfter(t *testing.T) {
	t.Parallel()
	b, _ := payBundle(t, "2026-04-01")
	f := b.agreements(agreementSpec{start: "2026-04-06"})
	early := b.createRun("2026-04-26") // horizon 3 May: the cycle of 4 May is a day too late
	require.Equal(t, []string{"cycle 2026-04-06"}, kinds(onlyAgreement(b.lines(&early.Id, ""), f.dp.Id.String())))
	require.Equal(t, "2026-05-03", early.Horizon.Format("2006-01-02"))
	r, cancelled := b.runAction(early, "cancel", b.financeA(), map[string]any{"reason": "wrong pay date"})
	require.Equal(t, http.StatusOK, r.Status, string(r.Body))
	require.Equal(t, api.PaymentRunStatus("cancelled"), cancelled.Status)
	onTime := b.createRun("2026-04-27") // horizon 4 May: the cycle of 4 May starts on it
	require.Equal(t, []string{"cycle 2026-04-06", "cycle 2026-05-04"}, kinds(onlyAgreement(b.lines(&onTime.Id, ""), f.dp.Id.String())),
		"the cancelled run's cycle is taken again")

	admin := b.token("council_admin")
	settings := b.do(http.MethodGet, "/v1/council/settings", admin, nil)
	r = b.do(http.MethodPatch, "/v1/council/settings", admin, map[string]any{"payment_lead_days": 0}, "If-Match", settings.Header.Get("ETag"))
	require.Equal(t, http.StatusOK, r.Status, string(r.Body))
	none := b.createRun("2026-05-03") // no lead days: only cycles started by the pay date, all taken
	require.Equal(t, 0, none.Totals.LineCount)
	require.Equal(t, "2026-05-03", none.Horizon.Format("2006-01-02"))
}

// The BACS processing day is at least 3 working days after approval, skipping weekends and England
// and Wales bank holidays: approved on Wednesday 26 August 2026 a run paying on Tuesday 1 September
// is processed that day; approved a day later, the summer bank holiday (31 August) pushes it to
// Wednesday 2 September.
func TestTheProcessingDayCountsWorkingDaysOverTheBankHoliday(t *testing.T) {
	t.Parallel()
	b, clk := payBundle(t, "2026-08-20")
	first := b.createRun("2026-09-01")
	second := b.createRun("2026-09-01")
	clk.Set("2026-08-26")
	r, first := b.runAction(first, "approve", b.financeB(), nil)
	require.Equal(t, http.StatusOK, r.Status, string(r.Body))
	require.Equal(t, "2026-09-01", first.ProcessingDay.MustGet().Format("2006-01-02"), "Thu 27, Fri 28, Tue 1: the pay date")
	clk.Set("2026-08-27")
	r, second = b.runAction(second, "approve", b.financeB(), nil)
	require.Equal(t, http.StatusOK, r.Status, string(r.Body))
	require.Equal(t, "2026-09-02", second.ProcessingDay.MustGet().Format("2006-01-02"), "Fri 28, (Mon 31 a bank holiday), Tue 1, Wed 2")

	// A pay date on a weekend is processed on the Friday before, when that is late enough.
	clk.Set("2026-09-07")
	weekend := b.createRun("2026-09-20")
	clk.Set("2026-09-08")
	r, weekend = b.runAction(weekend, "approve", b.financeB(), nil)
	require.Equal(t, http.StatusOK, r.Status, string(r.Body))
	require.Equal(t, "2026-09-18", weekend.ProcessingDay.MustGet().Format("2006-01-02"))
}

// A pay date that is not a working day is processed on the working day before it, but never fewer
// than 3 working days after approval: paying on Easter Monday 2026 (6 April), the working day
// before is Thursday 2 April (Good Friday is a bank holiday too); approved on Monday 30 March, 2 April
// is exactly the third working day after; approved a day later, the earliest is Tuesday 7 April.
func TestAPayDateOnABankHolidayIsProcessedOnTheWorkingDayBeforeIfLateEnough(t *testing.T) {
	t.Parallel()
	b, clk := payBundle(t, "2026-03-20")
	runs := []api.PaymentRun{b.createRun("2026-04-06"), b.createRun("2026-04-06"), b.createRun("2026-04-06")}
	for i, tt := range []struct{ approved, processing, why string }{
		{"2026-03-27", "2026-04-02", "the working day before the pay date, well after the earliest (1 April)"},
		{"2026-03-30", "2026-04-02", "Tue 31, Wed 1, Thu 2: exactly 3 working days"},
		{"2026-03-31", "2026-04-07", "Wed 1, Thu 2, (Good Friday, Easter Monday), Tue 7: after the pay date"},
	} {
		clk.Set(tt.approved)
		r, run := b.runAction(runs[i], "approve", b.financeB(), nil)
		require.Equal(t, http.StatusOK, r.Status, string(r.Body))
		require.Equal(t, tt.processing, run.ProcessingDay.MustGet().Format("2006-01-02"), tt.why)
	}
}

// Segregation of duties: a run is approved by someone other than its creator.
func TestARunIsApprovedByAnotherUserThanItsCreator(t *testing.T) {
	t.Parallel()
	b, _ := payBundle(t, "2026-04-20")
	b.agreements(agreementSpec{start: "2026-05-04"})
	run := b.createRun("2026-05-04")
	before := b.counts()
	r, _ := b.runAction(run, "approve", b.financeA(), nil)
	require.Equal(t, http.StatusUnprocessableEntity, r.Status)
	p := r.problem(t)
	require.Equal(t, "urn:pbudget:problem:payment-run-self-approval", p.Type)
	require.Contains(t, *p.Detail, "other than the one who created it")
	require.Equal(t, before, b.counts(), "nothing changed")
	r, approved := b.runAction(run, "approve", b.financeB(), nil)
	require.Equal(t, http.StatusOK, r.Status, string(r.Body))
	require.Equal(t, "finance-b", approved.ApprovedBy.MustGet())
	require.Equal(t, "finance-a", approved.CreatedBy)
	r, _ = b.runAction(approved, "approve", b.financeB(), nil)
	require.Equal(t, http.StatusConflict, r.Status, "approved once")
	require.Equal(t, "urn:pbudget:problem:payment-run-not-draft", r.problem(t).Type)
}

// A change of bank details holds the next payment until a second user confirms it, by keying the
// details again; the hold cannot be released before.
func TestANewChangeOfBankDetailsHoldsTheNextPaymentUntilASecondUserConfirmsIt(t *testing.T) {
	t.Parallel()
	b, _ := payBundle(t, "2026-04-20")
	f := b.agreements(agreementSpec{start: "2026-05-04"})
	path := "/v1/direct-payment-agreements/" + f.dp.Id.String() + "/payment-details"
	changed := map[string]any{"bank_account": map[string]any{"sort_code": "200000", "account_number": "55779911", "account_name": "A N Other"}}
	d := b.setDetails(path, changed, false)
	require.Equal(t, "****9911", d.Pending.MustGet().AccountNumber, "shown masked")
	require.Equal(t, "**-**-00", d.Pending.MustGet().SortCode.MustGet())
	require.False(t, d.Confirmed.IsNull(), "the old details stay confirmed meanwhile")

	var work api.PaymentAgreementList
	b.do(http.MethodGet, "/v1/payment-agreements?details_unconfirmed=true", b.token("finance"), nil).decode(t, &work)
	require.Len(t, work.Items, 1)
	require.Equal(t, f.dp.Id, work.Items[0].Id)

	run := b.createRun("2026-05-04")
	lines := b.lines(&run.Id, "")
	require.Len(t, lines, 1)
	require.True(t, lines[0].Held)
	require.Equal(t, "a change of bank or card details awaits a second user's confirmation", lines[0].HoldReason.MustGet())
	require.Equal(t, int64(0), run.Totals.TotalPence)
	require.Equal(t, int64(60_000), run.Totals.HeldPence)
	require.Len(t, b.lines(nil, "held=true"), 1, "the work list of held lines")

	r, _ := b.runAction(run, "lines/"+lines[0].Id.String()+"/release", b.financeB(), map[string]any{"reason": "checked"})
	require.Equal(t, http.StatusUnprocessableEntity, r.Status)
	require.Equal(t, "urn:pbudget:problem:payment-details-unconfirmed", r.problem(t).Type)

	before := b.counts()
	check := map[string]any{"bank_account": map[string]any{"sort_code": "200000", "account_number": "55779911"}}
	r = b.do(http.MethodPost, path+"/confirm", b.financeA(), check)
	require.Equal(t, http.StatusUnprocessableEntity, r.Status, "the user who set them")
	require.Equal(t, "urn:pbudget:problem:payment-details-self-confirmation", r.problem(t).Type)
	r = b.do(http.MethodPost, path+"/confirm", b.financeB(), map[string]any{"bank_account": map[string]any{"sort_code": "200000", "account_number": "55779912"}})
	require.Equal(t, http.StatusUnprocessableEntity, r.Status, "a digit out")
	require.Equal(t, "urn:pbudget:problem:payment-details-mismatch", r.problem(t).Type)
	r = b.do(http.MethodPost, path+"/confirm", b.financeB(), map[string]any{"prepaid_card": map[string]any{"card_account_reference": "CARD-1"}})
	require.Equal(t, http.StatusUnprocessableEntity, r.Status, "a card for a bank account")
	require.Equal(t, before, b.counts(), "refused confirmations change nothing")

	r = b.do(http.MethodPost, path+"/confirm", b.financeB(), check)
	require.Equal(t, http.StatusOK, r.Status, string(r.Body))
	r.decode(t, &d)
	require.True(t, d.Pending.IsNull())
	require.Equal(t, "finance-b", d.Confirmed.MustGet().ConfirmedBy.MustGet())

	r, run = b.runAction(run, "lines/"+lines[0].Id.String()+"/release", b.financeB(), map[string]any{"reason": "confirmed by call back"})
	require.Equal(t, http.StatusOK, r.Status, string(r.Body))
	require.Equal(t, int64(60_000), run.Totals.TotalPence)
	run = b.pay(run)
	file := b.fileBytes(run.Files[0].Id, b.token("finance"))
	require.Contains(t, string(file.Body), "20000055779911", "paid to the confirmed new account")

	// A run before any details at all holds the agreement's lines too.
	g := b.agreements(agreementSpec{start: "2026-05-04", noDetails: true})
	second := b.createRun("2026-05-04")
	held := b.lines(&second.Id, "agreement_id="+g.dp.Id.String())
	require.Len(t, held, 1)
	require.Equal(t, "no confirmed bank or card details", held[0].HoldReason.MustGet())
}

// Bank details, card references and the files never reach the audit trail's values.
func TestBankDetailsNeverReachTheAuditTrail(t *testing.T) {
	t.Parallel()
	b, _ := payBundle(t, "2026-04-20")
	f := b.agreements(agreementSpec{start: "2026-05-04"})
	r := b.do(http.MethodGet, "/v1/audit-events?entity_id="+f.dp.Id.String()+"&page_size=200", b.token("auditor"), nil)
	require.Equal(t, http.StatusOK, r.Status)
	require.Contains(t, string(r.Body), "payment_details.confirmed")
	require.NotContains(t, string(r.Body), "309634")
	require.NotContains(t, string(r.Body), "RECIPIENT")
	var n int
	require.NoError(t, b.db.SQL().QueryRow(`SELECT count(*) FROM audit_events WHERE council_id = $1 AND (details::text LIKE '%309634%'
		OR details::text ILIKE '%a recipient%' OR details::text LIKE '%****%')`, b.council.ID).Scan(&n))
	require.Zero(t, n)
	var sealed []byte
	require.NoError(t, b.db.SQL().QueryRow(`SELECT sealed FROM payment_recipient_details WHERE council_id = $1 LIMIT 1`, b.council.ID).Scan(&sealed))
	require.NotContains(t, string(sealed), "309634", "encrypted at rest")
}
