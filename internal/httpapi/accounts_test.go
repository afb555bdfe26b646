package httpapi_test

import (
	"fmt"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/google/uuid"
	"github.com/stretchr/testify/require"

	"github.com/pbudget/pbudget/api"
)

// paidAccount is a direct-payment agreement (gross, £600 a four-week cycle) paid by one run, and
// its account.
type paidAccount struct {
	f    payFixture
	run  api.PaymentRun
	acct api.DirectPaymentAccount
	path string // /v1/direct-payment-accounts/{id}
	ref  string // the reference the council's payment carries
}

func (b *bundle) paidAccount(spec agreementSpec) paidAccount {
	b.t.Helper()
	if spec.start == "" {
		spec.start = "2026-05-04"
	}
	f := b.agreements(spec)
	run := b.pay(b.createRun(spec.start))
	b.clock.Set("2026-06-01") // the payment has arrived
	r := b.do(http.MethodGet, "/v1/direct-payment-agreements/"+f.dp.Id.String()+"/account", b.token("finance"), nil)
	require.Equal(b.t, http.StatusOK, r.Status, string(r.Body))
	var acct api.DirectPaymentAccount
	r.decode(b.t, &acct)
	hex := strings.ToUpper(strings.ReplaceAll(f.dp.Id.String(), "-", ""))
	return paidAccount{f: f, run: run, acct: acct, path: "/v1/direct-payment-accounts/" + acct.Id.String(),
		ref: fmt.Sprintf("PB%05d %s", run.Number, hex[len(hex)-10:])}
}

// importCSV posts a statement with a fresh Idempotency-Key.
func (b *bundle) importCSV(path, query, body string) *resp {
	b.t.Helper()
	return b.do(http.MethodPost, path+"/statements?"+query, b.token("finance"), body, "Content-Type", "text/csv", "Idempotency-Key", uuid.NewString())
}

func (b *bundle) ledger(path, query string) []api.LedgerEntry {
	b.t.Helper()
	r := b.do(http.MethodGet, path+"/ledger?page_size=200&"+query, b.token("auditor"), nil)
	require.Equal(b.t, http.StatusOK, r.Status, string(r.Body))
	var l api.LedgerEntryList
	r.decode(b.t, &l)
	return l.Items
}

func (b *bundle) balance(path, at string) api.AccountBalance {
	b.t.Helper()
	q := ""
	if at != "" {
		q = "?at=" + at
	}
	r := b.do(http.MethodGet, path+"/balance"+q, b.token("practitioner"), nil)
	require.Equal(b.t, http.StatusOK, r.Status, string(r.Body))
	var bal api.AccountBalance
	r.decode(b.t, &bal)
	return bal
}

func TestAPaidRunPostsEachAgreementsPaymentToItsLedgerOnceAndABankReturnReversesIt(t *testing.T) {
	t.Parallel()
	b, _ := payBundle(t, "2026-04-20")
	p := b.paidAccount(agreementSpec{})
	require.Equal(t, p.f.dp.Id, p.acct.AgreementId)
	require.Equal(t, int64(60_000), p.acct.BalancePence)
	entries := b.ledger(p.path, "")
	require.Len(t, entries, 1)
	e := entries[0]
	require.Equal(t, api.LedgerEntryKind("council_payment"), e.Kind)
	require.Equal(t, int64(60_000), e.AmountPence)
	require.Equal(t, "payment_run", e.SourceKind)
	require.Equal(t, p.run.Id, e.SourceId)
	require.Equal(t, "2026-05-04", e.EntryDate.String())
	require.Equal(t, int64(0), b.balance(p.path, "2026-05-03").BalancePence, "nothing before the pay date")
	require.Equal(t, int64(60_000), b.balance(p.path, "2026-05-04").BalancePence)

	// The bank returns it: the cycle is unpaid again, and the ledger takes the money back out.
	lines := b.lines(&p.run.Id, "")
	r, _ := b.runAction(p.run, "returns", b.financeA(), map[string]any{"returned": []any{map[string]any{"payment_line_id": lines[0].Id, "reason": "ARUCS 0: account closed"}}})
	require.Equal(t, http.StatusOK, r.Status, string(r.Body))
	entries = b.ledger(p.path, "")
	require.Len(t, entries, 2)
	require.Equal(t, api.LedgerEntryKind("adjustment"), entries[1].Kind)
	require.Equal(t, int64(-60_000), entries[1].AmountPence)
	require.Equal(t, int64(0), b.balance(p.path, "2027-01-01").BalancePence)
	require.Len(t, b.ledger(p.path, "kind=council_payment"), 1)
}

func TestTheLedgerCannotBeChangedByTheRuntimeRole(t *testing.T) {
	t.Parallel()
	b, _ := payBundle(t, "2026-04-20")
	p := b.paidAccount(agreementSpec{})
	_, err := b.db.SQL().Exec(`UPDATE ledger_entries SET amount_pence = 1 WHERE account_id = $1`, p.acct.Id)
	require.Error(t, err)
	_, err = b.db.SQL().Exec(`DELETE FROM ledger_entries WHERE account_id = $1`, p.acct.Id)
	require.Error(t, err)
}

func TestACardStatementIsMatchedToThePlanOrFlaggedAndImportingItAgainAddsNothing(t *testing.T) {
	t.Parallel()
	b, _ := payBundle(t, "2026-04-20")
	p := b.paidAccount(agreementSpec{accountType: "prepaid_card"})
	csv := "date,merchant,merchant_category_code,amount\n" +
		"2026-05-04," + p.ref + ",6012,600.00\n" +
		"2026-05-05,BETFRED 1234,7995,-20.00\n" +
		"2026-05-05,COFFEE SHOP,5814,-4.50\n" +
		"2026-05-05,COFFEE SHOP,5814,-4.50\n" +
		"2026-05-06,UNKNOWN TRADER,5999,-12.00\n"
	r := b.importCSV(p.path, "format=card", csv)
	require.Equal(t, http.StatusCreated, r.Status, string(r.Body))
	var st api.Statement
	r.decode(t, &st)
	require.Equal(t, 5, st.Lines)
	require.Equal(t, 5, st.NewLines)
	require.Equal(t, 0, st.ExistingLines)
	require.Equal(t, 4, st.FlaggedLines, "the gamble, two unexplained coffees and the unknown trader")
	require.True(t, st.ClosingCheck.IsNull())

	// The council's own payment is already in the ledger (from the paid run): not posted again.
	entries := b.ledger(p.path, "")
	require.Len(t, entries, 5)
	require.Equal(t, int64(60_000-2_000-450-450-1_200), b.balance(p.path, "2026-05-31").BalancePence)
	var sum int64
	for _, e := range entries {
		sum += e.BalanceEffectPence
	}
	require.Equal(t, b.balance(p.path, "2026-05-31").BalancePence, sum, "the balance is the sum of the entries")

	r = b.do(http.MethodGet, p.path+"/statements/"+st.Id.String()+"/lines", b.token("auditor"), nil)
	require.Equal(t, http.StatusOK, r.Status, string(r.Body))
	var lines api.StatementLineList
	r.decode(t, &lines)
	require.Len(t, lines.Items, 5)
	require.False(t, lines.Items[0].Posted)
	require.Equal(t, api.StatementLineKind("council_payment"), lines.Items[0].Kind)
	require.Equal(t, api.StatementLineFlag("excluded_category"), lines.Items[1].Flag.MustGet())
	require.Equal(t, 0, lines.Items[2].Occurrence)
	require.Equal(t, 1, lines.Items[3].Occurrence, "two identical coffees on one day are both kept")

	// The same file again, under another key: every line is already held.
	r = b.importCSV(p.path, "format=card", csv)
	require.Equal(t, http.StatusCreated, r.Status, string(r.Body))
	r.decode(t, &st)
	require.Equal(t, 0, st.NewLines)
	require.Equal(t, 5, st.ExistingLines)
	require.Len(t, b.ledger(p.path, ""), 5)

	// An overlapping statement: the 5th and 6th again, then a new day; a third coffee on the 5th is new.
	r = b.importCSV(p.path, "format=card", "date,merchant,merchant_category_code,amount\n"+
		"2026-05-05,BETFRED 1234,7995,-20.00\n"+
		"2026-05-05,COFFEE SHOP,5814,-4.50\n"+
		"2026-05-05,COFFEE SHOP,5814,-4.50\n"+
		"2026-05-05,COFFEE SHOP,5814,-4.50\n"+
		"2026-05-06,UNKNOWN TRADER,5999,-12.00\n"+
		"2026-05-07,UNKNOWN TRADER,5999,-12.00\n")
	require.Equal(t, http.StatusCreated, r.Status, string(r.Body))
	r.decode(t, &st)
	require.Equal(t, 2, st.NewLines)
	require.Equal(t, 4, st.ExistingLines)

	// The flags: open ones, resolved once with a note.
	r = b.do(http.MethodGet, p.path+"/flags?status=open", b.token("auditor"), nil)
	require.Equal(t, http.StatusOK, r.Status, string(r.Body))
	var flags api.StatementFlagList
	r.decode(t, &flags)
	require.Len(t, flags.Items, 6)
	gamble := flags.Items[0]
	require.Equal(t, api.StatementFlagFlag("excluded_category"), gamble.Flag)
	require.Equal(t, int64(-2_000), gamble.AmountPence)
	resolve := p.path + "/flags/" + gamble.Id.String() + "/resolve"
	r = b.do(http.MethodPost, resolve, b.token("auditor"), map[string]any{"resolution": "misspend", "note": "betting: not in the plan"})
	require.Equal(t, http.StatusOK, r.Status, string(r.Body))
	var resolved api.StatementFlag
	r.decode(t, &resolved)
	require.Equal(t, api.StatementFlagResolution("misspend"), resolved.Resolution.MustGet())
	r = b.do(http.MethodPost, resolve, b.token("practitioner"), map[string]any{"resolution": "accepted", "note": "again"})
	require.Equal(t, http.StatusConflict, r.Status, string(r.Body))
	require.Equal(t, "urn:pbudget:problem:statement-flag-resolved", r.problem(t).Type)
	r = b.do(http.MethodPost, resolve, b.token("finance"), map[string]any{"resolution": "accepted", "note": "x"})
	require.Equal(t, http.StatusForbidden, r.Status, "finance does not resolve flags")
	r = b.do(http.MethodGet, p.path+"/flags?status=open", b.token("auditor"), nil)
	r.decode(t, &flags)
	require.Len(t, flags.Items, 5)

	// Evidence against a line, then listed; a line of another account is refused.
	line := lines.Items[4].Id
	r = b.do(http.MethodPost, p.path+"/evidence", b.token("practitioner"), map[string]any{"statement_line_id": line, "kind": "receipt",
		"reference": "dms://receipts/77", "sha256": strings.Repeat("ab", 32), "document_date": "2026-05-06"})
	require.Equal(t, http.StatusCreated, r.Status, string(r.Body))
	r = b.do(http.MethodGet, p.path+"/evidence?statement_line_id="+line.String(), b.token("auditor"), nil)
	require.Equal(t, http.StatusOK, r.Status, string(r.Body))
	var ev api.EvidenceItemList
	r.decode(t, &ev)
	require.Len(t, ev.Items, 1)
	require.Equal(t, api.EvidenceKind("receipt"), ev.Items[0].Kind)
	r = b.do(http.MethodPost, p.path+"/evidence", b.token("auditor"), map[string]any{"statement_line_id": uuid.New(), "kind": "invoice",
		"reference": "x", "sha256": strings.Repeat("ab", 32), "document_date": "2026-05-06"})
	require.Equal(t, http.StatusUnprocessableEntity, r.Status, string(r.Body))
	require.Equal(t, "urn:pbudget:problem:evidence-target", r.problem(t).Type)
}

func TestABankStatementsClosingBalanceIsCheckedAgainstTheLedger(t *testing.T) {
	t.Parallel()
	b, _ := payBundle(t, "2026-04-20")
	p := b.paidAccount(agreementSpec{})
	r := b.importCSV(p.path, "format=bank", "date,description,amount,balance,reference\n"+
		"2026-05-04,COUNCIL DP,600.00,600.00,"+p.ref+"\n"+
		"2026-05-08,J SMITH PA WAGES,-150.00,450.00,\n")
	require.Equal(t, http.StatusCreated, r.Status, string(r.Body))
	var st api.Statement
	r.decode(t, &st)
	cc := st.ClosingCheck.MustGet()
	require.True(t, cc.Agrees, cc.Detail)
	require.Equal(t, int64(45_000), cc.StatedPence)
	require.Equal(t, "2026-05-08", cc.On.String())

	r = b.importCSV(p.path, "format=bank", "date,description,amount,balance\n2026-05-09,CASH WITHDRAWAL,-50.00,300.00\n")
	require.Equal(t, http.StatusCreated, r.Status, string(r.Body))
	r.decode(t, &st)
	cc = st.ClosingCheck.MustGet()
	require.False(t, cc.Agrees)
	require.Equal(t, int64(-10_000), cc.DifferencePence)
	require.Contains(t, cc.Detail, "£100.00 less")
}

func TestAnotherBanksExportIsReadThroughAColumnMapping(t *testing.T) {
	t.Parallel()
	b, _ := payBundle(t, "2026-04-20")
	p := b.paidAccount(agreementSpec{})
	q := "format=mapped&date_column=Transaction%20Date&description_column=Details&paid_in_column=Money%20In&paid_out_column=Money%20Out&date_format=DD/MM/YYYY&delimiter=%3B&skip_rows=1"
	r := b.importCSV(p.path, q, "Account 12345678\nTransaction Date;Details;Money In;Money Out\n08/05/2026;PA WAGES;;150.00\n09/05/2026;REFUND;10.00;\n")
	require.Equal(t, http.StatusCreated, r.Status, string(r.Body))
	var st api.Statement
	r.decode(t, &st)
	require.Equal(t, 2, st.NewLines)
	require.Equal(t, api.StatementFormat("mapped"), st.Format)
	require.Equal(t, int64(60_000-15_000+1_000), b.balance(p.path, "").BalancePence)

	r = b.importCSV(p.path, "format=mapped&date_column=Date&date_format=QQ", "Date\n")
	require.Equal(t, http.StatusBadRequest, r.Status, string(r.Body))
	fields := map[string]bool{}
	for _, e := range *r.problem(t).Errors {
		fields[e.Field] = true
	}
	require.True(t, fields["date_format"] && fields["description_column"] && fields["amount_column"], string(r.Body))
	r = b.importCSV(p.path, "format=bank&date_column=Date", "date\n")
	require.Equal(t, http.StatusBadRequest, r.Status, string(r.Body))
}

func TestAStatementWithBadLinesImportsNothingAndNamesEveryBadLine(t *testing.T) {
	t.Parallel()
	b, _ := payBundle(t, "2026-04-20")
	p := b.paidAccount(agreementSpec{})
	before := b.counts()
	r := b.importCSV(p.path, "format=bank", "date,description,amount\n"+
		"2026-05-05,GOOD LINE,-1.00\n"+
		"05/05/2026,BAD DATE,-1.00\n"+
		"2026-05-06,,-1.00\n"+
		"2026-05-06,BAD AMOUNT,-1.234\n"+
		"2026-05-07,ZERO,0\n"+
		"2026-05-07,GOOD AGAIN,-2.00\n")
	require.Equal(t, http.StatusUnprocessableEntity, r.Status, string(r.Body))
	pr := r.problem(t)
	require.Equal(t, "urn:pbudget:problem:statement-invalid", pr.Type)
	var got []string
	for _, e := range *pr.Errors {
		got = append(got, e.Field)
	}
	require.Equal(t, []string{"/lines/3/date", "/lines/4/description", "/lines/5/amount", "/lines/6/amount"}, got)
	require.Contains(t, *pr.Detail, "4 bad line(s)")
	after := b.counts()
	delete(before, "access_records")
	delete(after, "access_records")
	require.Equal(t, before, after, "nothing was imported")
	require.Len(t, b.ledger(p.path, ""), 1)
}

func TestAStatementImportNeedsAnIdempotencyKeyAndTheRightRoleAndCouncil(t *testing.T) {
	t.Parallel()
	b, _ := payBundle(t, "2026-04-20")
	p := b.paidAccount(agreementSpec{})
	csv := "date,description,amount\n2026-05-05,SHOP,-1.00\n"
	r := b.do(http.MethodPost, p.path+"/statements?format=bank", b.token("finance"), csv, "Content-Type", "text/csv")
	require.Equal(t, http.StatusBadRequest, r.Status, string(r.Body))
	require.Equal(t, "Idempotency-Key", (*r.problem(t).Errors)[0].Field)
	r = b.do(http.MethodPost, p.path+"/statements?format=bank", b.token("practitioner"), csv, "Content-Type", "text/csv", "Idempotency-Key", uuid.NewString())
	require.Equal(t, http.StatusForbidden, r.Status, string(r.Body))
	r = b.do(http.MethodPost, p.path+"/statements?format=bank", b.otherToken("finance"), csv, "Content-Type", "text/csv", "Idempotency-Key", uuid.NewString())
	require.Equal(t, http.StatusNotFound, r.Status, string(r.Body))
	for _, path := range []string{p.path, p.path + "/ledger", p.path + "/balance", p.path + "/statements", p.path + "/flags", p.path + "/evidence",
		"/v1/direct-payment-agreements/" + p.f.dp.Id.String() + "/account"} {
		r = b.do(http.MethodGet, path, b.otherToken("auditor"), nil)
		require.Equal(t, http.StatusNotFound, r.Status, path)
	}
	r = b.do(http.MethodPost, p.path+"/statements?format=bank", b.token("finance"), csv, "Content-Type", "application/json", "Idempotency-Key", uuid.NewString())
	require.Equal(t, http.StatusUnsupportedMediaType, r.Status, string(r.Body))

	// A replay with the same key answers the first import again; the same key with another file is refused.
	key := uuid.NewString()
	r = b.do(http.MethodPost, p.path+"/statements?format=bank", b.token("finance"), csv, "Content-Type", "text/csv", "Idempotency-Key", key)
	require.Equal(t, http.StatusCreated, r.Status, string(r.Body))
	r2 := b.do(http.MethodPost, p.path+"/statements?format=bank", b.token("finance"), csv, "Content-Type", "text/csv", "Idempotency-Key", key)
	require.Equal(t, http.StatusCreated, r2.Status, string(r2.Body))
	require.Equal(t, "true", r2.Header.Get("Idempotent-Replayed"))
	require.Equal(t, string(r.Body), string(r2.Body))
	r = b.do(http.MethodPost, p.path+"/statements?format=bank", b.token("finance"), csv+"2026-05-06,SHOP,-1.00\n", "Content-Type", "text/csv", "Idempotency-Key", key)
	require.Equal(t, http.StatusUnprocessableEntity, r.Status, string(r.Body))
	require.Equal(t, "urn:pbudget:problem:idempotency-key-reused", r.problem(t).Type)
}

func TestTheLedgerFiltersByKindAndDateAndPagesWithACursor(t *testing.T) {
	t.Parallel()
	b, _ := payBundle(t, "2026-04-20")
	p := b.paidAccount(agreementSpec{})
	var sb strings.Builder
	sb.WriteString("date,description,amount\n")
	for d := 5; d <= 9; d++ {
		fmt.Fprintf(&sb, "2026-05-%02d,SHOP,-1.00\n", d)
	}
	r := b.importCSV(p.path, "format=bank", sb.String())
	require.Equal(t, http.StatusCreated, r.Status, string(r.Body))
	var all []api.LedgerEntry
	path := p.path + "/ledger?page_size=2"
	for range 10 {
		r = b.do(http.MethodGet, path, b.token("finance"), nil)
		require.Equal(t, http.StatusOK, r.Status, string(r.Body))
		var l api.LedgerEntryList
		r.decode(t, &l)
		all = append(all, l.Items...)
		if l.NextPageToken == nil {
			break
		}
		path = p.path + "/ledger?page_size=2&page_token=" + *l.NextPageToken
	}
	require.Len(t, all, 6)
	for i := 1; i < len(all); i++ {
		require.False(t, all[i].EntryDate.Time.Before(all[i-1].EntryDate.Time))
	}
	require.Len(t, b.ledger(p.path, "kind=spend"), 5)
	require.Len(t, b.ledger(p.path, "kind=spend&from=2026-05-06&to=2026-05-08"), 3)
	r = b.do(http.MethodGet, p.path+"/ledger?from=2026-05-08&to=2026-05-06", b.token("finance"), nil)
	require.Equal(t, http.StatusBadRequest, r.Status, string(r.Body))
	require.Equal(t, int64(60_000-500), b.balance(p.path, "").BalancePence)
	require.Equal(t, 4, b.balance(p.path, "2026-05-07").Entries)
}

func TestAStatementOverOneMebibyteIsImportedInTheBackgroundWithProgress(t *testing.T) {
	t.Parallel()
	b, _ := payBundle(t, "2026-04-20")
	p := b.paidAccount(agreementSpec{})
	var sb strings.Builder
	sb.WriteString("date,description,amount,reference\n")
	n := 0
	for sb.Len() <= 1<<20+1000 {
		fmt.Fprintf(&sb, "%s,PAYEE %d,-0.%02d,%s\n", time.Date(2026, 5, 5, 0, 0, 0, 0, time.UTC).AddDate(0, 0, n/1000).Format("2006-01-02"),
			n%50, 1+n%99, strings.Repeat("R", 20))
		n++
	}
	r := b.importCSV(p.path, "format=bank", sb.String())
	require.Equal(t, http.StatusAccepted, r.Status, string(r.Body))
	var up api.StatementUpload
	r.decode(t, &up)
	require.Equal(t, api.StatementUploadStatus("queued"), up.Status)
	loc := r.Header.Get("Location")
	require.Eventually(t, func() bool {
		r := b.do(http.MethodGet, loc, b.token("finance"), nil)
		require.Equal(t, http.StatusOK, r.Status, string(r.Body))
		r.decode(t, &up)
		return up.Status == "imported" || up.Status == "failed"
	}, 60*time.Second, 50*time.Millisecond)
	require.Equal(t, api.StatementUploadStatus("imported"), up.Status, string(r.Body))
	require.Equal(t, n, up.LinesProcessed)
	r = b.do(http.MethodGet, p.path+"/statements/"+up.StatementId.MustGet().String(), b.token("auditor"), nil)
	require.Equal(t, http.StatusOK, r.Status, string(r.Body))
	var st api.Statement
	r.decode(t, &st)
	require.Equal(t, n, st.NewLines)
	require.Equal(t, n+1, b.balance(p.path, "").Entries)

	// A large file with a bad line fails its upload with the lines, and keeps nothing.
	bad := sb.String() + "2030-01-01,LATE,-1.00,\n2029-01-01,OUT OF ORDER,-1.00,\n"
	r = b.importCSV(p.path, "format=bank", bad)
	require.Equal(t, http.StatusAccepted, r.Status, string(r.Body))
	loc = r.Header.Get("Location")
	require.Eventually(t, func() bool {
		r := b.do(http.MethodGet, loc, b.token("finance"), nil)
		r.decode(t, &up)
		return up.Status == "imported" || up.Status == "failed"
	}, 60*time.Second, 50*time.Millisecond)
	require.Equal(t, api.StatementUploadStatus("failed"), up.Status)
	pr := up.Problem.MustGet()
	require.Equal(t, "urn:pbudget:problem:statement-invalid", pr.Type)
	require.Len(t, pr.Errors, 1)
	require.Equal(t, fmt.Sprintf("/lines/%d/date", n+3), pr.Errors[0].Field)
	require.Equal(t, n+1, b.balance(p.path, "").Entries)
}

func TestTheCouncilSetsItsExcludedMerchantCategoriesAndCategoryMap(t *testing.T) {
	t.Parallel()
	b, _ := payBundle(t, "2026-04-20")
	r := b.do(http.MethodGet, "/v1/council/settings", b.token("finance"), nil)
	require.Equal(t, http.StatusOK, r.Status)
	var st api.CouncilSettings
	r.decode(t, &st)
	require.Equal(t, []string{"7995", "7800", "7801", "7802"}, st.ExcludedMerchantCategories)
	r = b.do(http.MethodPatch, "/v1/council/settings", b.token("council_admin"), map[string]any{"excluded_merchant_categories": []string{"7995", "5993"},
		"merchant_category_map": map[string]string{"5814": "personal_assistant"}}, "If-Match", r.Header.Get("ETag"))
	require.Equal(t, http.StatusOK, r.Status, string(r.Body))
	r.decode(t, &st)
	require.Equal(t, []string{"7995", "5993"}, st.ExcludedMerchantCategories)
	p := b.paidAccount(agreementSpec{accountType: "prepaid_card"})
	r = b.importCSV(p.path, "format=card", "date,merchant,merchant_category_code,amount\n2026-05-05,TOBACCONIST,5993,-9.00\n2026-05-05,CAFE,5814,-3.00\n2026-05-05,TAXI,4121,-7.00\n")
	require.Equal(t, http.StatusCreated, r.Status, string(r.Body))
	var s api.Statement
	r.decode(t, &s)
	r = b.do(http.MethodGet, p.path+"/statements/"+s.Id.String()+"/lines", b.token("auditor"), nil)
	var lines api.StatementLineList
	r.decode(t, &lines)
	require.Equal(t, api.StatementLineFlag("excluded_category"), lines.Items[0].Flag.MustGet())
	require.True(t, lines.Items[1].Flag.IsNull(), "5814 maps to the plan's personal_assistant line")
	require.Equal(t, api.StatementLineMatchedBy("category"), lines.Items[1].MatchedBy.MustGet())
	require.Equal(t, p.f.plan.Lines[0].Id, lines.Items[1].PlanLineId.MustGet())
	require.Equal(t, api.StatementLineFlag("unexplained"), lines.Items[2].Flag.MustGet())
	r = b.do(http.MethodPatch, "/v1/council/settings", b.token("council_admin"), map[string]any{"merchant_category_map": map[string]string{"58": "x"}},
		"If-Match", etagOf(st.Version))
	require.Equal(t, http.StatusBadRequest, r.Status, string(r.Body))
}

// accountRecords are the records of a direct-payment account the hostile walk addresses.
type accountRecords struct{ account, statement, line, flag, upload string }

// accountFixture imports into the agreement's account a small statement (one unexplained line,
// flagged) and a large one (in the background), and returns their ids.
func (b *bundle) accountFixture(agreementID uuid.UUID) accountRecords {
	b.t.Helper()
	r := b.do(http.MethodGet, "/v1/direct-payment-agreements/"+agreementID.String()+"/account", b.token("finance"), nil)
	require.Equal(b.t, http.StatusOK, r.Status, string(r.Body))
	var acct api.DirectPaymentAccount
	r.decode(b.t, &acct)
	path := "/v1/direct-payment-accounts/" + acct.Id.String()
	r = b.importCSV(path, "format=bank", "date,description,amount\n2026-03-01,SOMEWHERE,-5.00\n")
	require.Equal(b.t, http.StatusCreated, r.Status, string(r.Body))
	var st api.Statement
	r.decode(b.t, &st)
	r = b.do(http.MethodGet, path+"/statements/"+st.Id.String()+"/lines", b.token("auditor"), nil)
	var lines api.StatementLineList
	r.decode(b.t, &lines)
	r = b.do(http.MethodGet, path+"/flags", b.token("auditor"), nil)
	var flags api.StatementFlagList
	r.decode(b.t, &flags)
	require.Len(b.t, flags.Items, 1)
	var sb strings.Builder
	sb.WriteString("date,description,amount\n")
	for i := 0; sb.Len() <= 1<<20; i++ {
		fmt.Fprintf(&sb, "2026-03-02,PAYEE NUMBER %d,-1.00\n", i)
	}
	r = b.importCSV(path, "format=bank", sb.String())
	require.Equal(b.t, http.StatusAccepted, r.Status, string(r.Body))
	var up api.StatementUpload
	r.decode(b.t, &up)
	return accountRecords{account: acct.Id.String(), statement: st.Id.String(), line: lines.Items[0].Id.String(), flag: flags.Items[0].Id.String(),
		upload: up.Id.String()}
}

func TestANetDirectPaymentsLedgerShowsTheContributionDueForEachCyclePaidAsAMemo(t *testing.T) {
	t.Parallel()
	b, _ := payBundle(t, "2026-04-01")
	b.rateTable("2025-04-06", 11_250)
	f := b.agreements(agreementSpec{start: "2026-04-06", basis: "net",
		assess: func(personID string) { b.financial(personID, contributionOf("2026-04-01", 2_500)) }}) // £25 a week: £100 a cycle
	require.Equal(t, int64(650_000), f.dp.AnnualAmountPence)
	b.pay(b.createRun("2026-05-04")) // the cycles of 6 April and 4 May
	b.clock.Set("2026-06-01")
	r := b.do(http.MethodGet, "/v1/direct-payment-agreements/"+f.dp.Id.String()+"/account", b.token("finance"), nil)
	require.Equal(t, http.StatusOK, r.Status, string(r.Body))
	var acct api.DirectPaymentAccount
	r.decode(t, &acct)
	path := "/v1/direct-payment-accounts/" + acct.Id.String()
	due := b.ledger(path, "kind=contribution_due")
	require.Len(t, due, 2)
	for _, e := range due {
		require.Equal(t, int64(10_000), e.AmountPence, "£1,300 a year is £100 a four-week cycle")
		require.Equal(t, int64(0), e.BalanceEffectPence, "a memo moves no money")
		require.Equal(t, "contribution_cycle", e.SourceKind)
	}
	require.Equal(t, "2026-04-06", due[0].EntryDate.String())
	require.Equal(t, int64(100_000), acct.BalancePence, "two cycles of £500; the contributions due are not money in")
	// Paying again (a retry) posts nothing more.
	require.Len(t, b.ledger(path, ""), 3)
}
