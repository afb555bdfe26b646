package httpapi_test

import (
	"net/http"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/pbudget/pbudget/api"
	"github.com/pbudget/pbudget/internal/bacs"
	"github.com/pbudget/pbudget/internal/date"
)

func kinds(lines []api.PaymentLine) []string {
	out := make([]string, len(lines))
	for i, l := range lines {
		out[i] = string(l.Kind) + " " + l.CycleStart.MustGet().Format("2006-01-02")
	}
	return out
}

func sumLines(lines []api.PaymentLine) int64 {
	var s int64
	for _, l := range lines {
		if !l.Held && l.State == "live" {
			s += l.AmountPence
		}
	}
	return s
}

// The journey: budget → plan with direct-payment and ISF lines → agreements → bank
// details confirmed → run → approved by a second user → exported (the BACS file's records and
// totals checked) → paid → the next run pays the next cycle only.
func TestPaymentJourneyFromPlanToTheNextCycle(t *testing.T) {
	t.Parallel()
	b, clk := payBundle(t, "2026-04-20")
	isfProvider := b.provider("isf_provider")
	agency := b.provider("care_agency")
	f := b.agreements(agreementSpec{start: "2026-05-04", isf: &isfProvider,
		extraLines: nil})
	_ = agency
	require.Equal(t, int64(780_000), f.dp.AnnualAmountPence)
	require.Equal(t, int64(60_000), f.dp.AmountPerPaymentPence)
	require.Equal(t, int64(390_000), f.isf.AnnualAmountPence)
	b.setDetails("/v1/providers/"+isfProvider.Id.String()+"/bank-details",
		map[string]any{"bank_account": map[string]any{"sort_code": "601613", "account_number": "31926819", "account_name": "Provider Ltd"}}, true)

	s := b.schedule("direct-payment-agreements", f.dp.Id, "2026-06-01")
	require.Len(t, s.Cycles, 2)
	require.Equal(t, "2026-05-04", s.Cycles[0].StartDate.Format("2006-01-02"))
	require.Equal(t, int64(60_000), s.Cycles[0].OwedPence)
	require.Equal(t, int64(60_000), s.Cycles[0].OutstandingPence)

	run := b.createRun("2026-05-04")
	require.Equal(t, api.PaymentRunStatus("draft"), run.Status)
	require.Equal(t, "2026-05-11", run.Horizon.Format("2006-01-02"), "pay date + 7 lead days")
	require.Equal(t, 2, run.Progress.AgreementsTotal)
	require.Equal(t, 2, run.Progress.AgreementsProcessed)
	lines := b.lines(&run.Id, "")
	require.Equal(t, []string{"cycle 2026-05-04", "cycle 2026-05-04"}, kinds(lines))
	require.Equal(t, int64(90_000), run.Totals.TotalPence, "£600 + £300")
	require.Equal(t, int64(90_000), sumLines(lines))
	require.Equal(t, 2, run.Totals.AgreementCount)

	r, _ := b.runAction(run, "approve", b.financeA(), nil)
	require.Equal(t, http.StatusUnprocessableEntity, r.Status)
	require.Equal(t, "urn:pbudget:problem:payment-run-self-approval", r.problem(t).Type)
	clk.Set("2026-04-21")
	r, run = b.runAction(run, "approve", b.financeB(), nil)
	require.Equal(t, http.StatusOK, r.Status, string(r.Body))
	require.Equal(t, "2026-05-01", run.ProcessingDay.MustGet().Format("2006-01-02"),
		"the pay date is the early May bank holiday: the working day before, which is after approval + 3 working days")

	r, run = b.runAction(run, "export", b.financeB(), nil)
	require.Equal(t, http.StatusOK, r.Status, string(r.Body))
	require.Equal(t, api.PaymentRunStatus("exported"), run.Status)
	require.Len(t, run.Files, 2, "a BACS file and the provider's remittance; no card loads")
	var bacsFile, remittance api.PaymentFile
	for _, file := range run.Files {
		switch file.Kind {
		case "bacs_standard18":
			bacsFile = file
		case "isf_remittance":
			remittance = file
		}
	}
	require.Equal(t, int64(90_000), bacsFile.TotalPence, "the BACS file's total is the run's")
	require.Equal(t, int64(30_000), remittance.TotalPence, "the remittance's total is the provider's credit")
	require.Equal(t, isfProvider.Id, remittance.ProviderId.MustGet())

	got := b.fileBytes(bacsFile.Id, b.token("finance"))
	require.Equal(t, http.StatusOK, got.Status)
	require.Equal(t, "text/plain", got.Header.Get("Content-Type"))
	sum, err := bacs.Inspect(got.Body)
	require.NoError(t, err, "the file's records add up: credits, contra and trailer")
	require.Len(t, sum.Credits, 2)
	require.Equal(t, bacs.Totals{CreditTotal: 90_000, DebitTotal: 90_000, CreditCount: 2, DebitCount: 1}, sum.Declared)
	require.Equal(t, "123456", sum.SUN)
	require.Equal(t, date.Of(2026, 5, 1), sum.ProcessingDay)
	require.Equal(t, date.Of(2026, 4, 21), sum.Created)
	amounts := map[int64]bacs.Credit{}
	for _, c := range sum.Credits {
		amounts[c.Amount] = c
		require.True(t, strings.HasPrefix(c.Reference, "PB00001 "), c.Reference)
	}
	require.Equal(t, "31926819", amounts[30_000].AccountNumber, "the provider is credited once for its people")
	require.Equal(t, "PROVIDER LTD", amounts[30_000].AccountName, "names are upper-cased for BACS")
	require.Equal(t, "309634", amounts[60_000].SortCode)
	require.Equal(t, "401276", sum.Contra.SortCode)

	rem := b.fileBytes(remittance.Id, b.token("finance"))
	require.Equal(t, "text/csv", rem.Header.Get("Content-Type"))
	require.Contains(t, string(rem.Body), strings.ReplaceAll(f.dp.PersonId.String(), "-", ""), "the person by reference")
	require.NotContains(t, string(rem.Body), "Taylor", "never a name")
	require.Contains(t, string(rem.Body), "300.00")

	// Exporting again gives the same files, byte for byte, and adds nothing.
	before := b.counts()
	r, again := b.runAction(run, "export", b.financeB(), nil)
	require.Equal(t, http.StatusOK, r.Status, string(r.Body))
	require.Equal(t, run.Files, again.Files)
	require.Equal(t, run.Version, again.Version)
	after := b.counts()
	require.Equal(t, before["idempotency_keys"]+1, after["idempotency_keys"], "only the new key's answer is stored")
	delete(before, "idempotency_keys")
	delete(after, "idempotency_keys")
	require.Equal(t, before, after)
	require.Equal(t, got.Body, b.fileBytes(bacsFile.Id, b.token("finance")).Body) // (each download is audited)

	r, run = b.runAction(run, "mark-paid", b.financeB(), map[string]any{})
	require.Equal(t, http.StatusOK, r.Status, string(r.Body))
	require.Equal(t, api.PaymentRunStatus("paid"), run.Status)
	s = b.schedule("direct-payment-agreements", f.dp.Id, "2026-06-01")
	require.Equal(t, int64(60_000), s.Cycles[0].PaidPence)
	require.Equal(t, int64(0), s.Cycles[0].OutstandingPence)

	clk.Set("2026-05-20")
	next := b.createRun("2026-06-01")
	require.Equal(t, []string{"cycle 2026-06-01", "cycle 2026-06-01"}, kinds(b.lines(&next.Id, "")), "the next cycle only")
	require.Equal(t, int64(90_000), next.Totals.TotalPence)
	require.Len(t, b.lines(nil, "agreement_id="+f.dp.Id.String()), 2, "one line a cycle, across runs")
}
