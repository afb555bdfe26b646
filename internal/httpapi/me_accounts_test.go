package httpapi_test

import (
	"crypto/sha256"
	"encoding/hex"
	"net/http"
	"strings"
	"testing"

	"github.com/google/uuid"
	"github.com/stretchr/testify/require"

	"github.com/pbudget/pbudget/api"
)

// accountOf returns the account the database opened for a direct-payment agreement.
func (b *bundle) accountOf(dp uuid.UUID) uuid.UUID {
	b.t.Helper()
	var id uuid.UUID
	require.NoError(b.t, b.db.SQL().QueryRow(`SELECT id FROM direct_payment_accounts WHERE council_id = $1 AND dp_agreement_id = $2`,
		b.council.ID, dp).Scan(&id))
	return id
}

// flagOf returns the first flagged line of an account and its flag.
func (b *bundle) flagOf(account uuid.UUID) (line, flag uuid.UUID) {
	b.t.Helper()
	require.NoError(b.t, b.db.SQL().QueryRow(`SELECT statement_line_id, id FROM statement_flags WHERE council_id = $1 AND account_id = $2
		ORDER BY line_date, id LIMIT 1`, b.council.ID, account).Scan(&line, &flag))
	return line, flag
}

// cardStatement is a prepaid card's statement of one line per (date, merchant, code, amount).
func cardStatement(fields ...string) string {
	var sb strings.Builder
	sb.WriteString("date,merchant,merchant_category_code,amount\n")
	for i := 0; i+3 < len(fields); i += 4 {
		sb.WriteString(strings.Join(fields[i:i+4], ",") + "\n")
	}
	return sb.String()
}

// myImport uploads a statement through the person's view, with a fresh Idempotency-Key.
func (b *bundle) myImport(tok string, account uuid.UUID, format, csv string, hdr ...string) *resp {
	b.t.Helper()
	h := append([]string{"Content-Type", "text/csv", "Idempotency-Key", uuid.NewString()}, hdr...)
	return b.do(http.MethodPost, "/v1/me/direct-payment-accounts/"+account.String()+"/statements?format="+format, tok, csv, h...)
}

func sha256Hex(s string) string {
	sum := sha256.Sum256([]byte(s))
	return hex.EncodeToString(sum[:])
}

// TestAPersonSeesTheirAccountAndUploadsTheirStatement: the person reads their direct payment's
// ledger and balance (the council's payment in when the run is paid), uploads a card statement
// through the staff's import (each line once, however often it is uploaded; a gambling merchant
// flagged; a bad line imports nothing and says which), answers the flag in their own words
// (recorded beside the flag, the trail naming the answer and not the words), and sends a receipt
// for the line. A blank answer, a line of another account and a flag the council decided are
// refused and change nothing.
func TestAPersonSeesTheirAccountAndUploadsTheirStatement(t *testing.T) {
	t.Parallel()
	b, clock := payBundle(t, "2026-04-20")
	f := b.agreements(agreementSpec{start: "2026-05-04", accountType: "prepaid_card"})
	other := b.myFixture(b.agreements(agreementSpec{start: "2026-05-04", accountType: "prepaid_card"}))
	run := b.pay(b.createRun("2026-05-04"))
	paid := agreementLines(b.lines(&run.Id, ""), f.dp.Id)[0].AmountPence
	clock.Set("2026-05-08")
	me := b.personToken(f.budget.PersonId)
	acct := b.accountOf(f.dp.Id)
	base := "/v1/me/direct-payment-accounts/" + acct.String()

	var accts api.MyAccountList
	r := b.do(http.MethodGet, "/v1/me/people/"+f.budget.PersonId.String()+"/direct-payment-accounts", me, nil)
	require.Equal(t, http.StatusOK, r.Status, string(r.Body))
	r.decode(t, &accts)
	require.Len(t, accts.Items, 1)
	require.Equal(t, acct, accts.Items[0].Id)
	require.Equal(t, f.dp.Id, accts.Items[0].AgreementId)
	require.Equal(t, paid, accts.Items[0].BalancePence, "the run paid the account")

	var ledger api.MyLedger
	r = b.do(http.MethodGet, base+"/ledger", me, nil)
	require.Equal(t, http.StatusOK, r.Status, string(r.Body))
	r.decode(t, &ledger)
	require.Len(t, ledger.Items, 1)
	require.Equal(t, api.MyLedgerKind("council_payment"), ledger.Items[0].Kind)
	require.Equal(t, paid, ledger.Items[0].AmountPence)
	require.NotContains(t, string(r.Body), "finance-", "no staff identity reaches the person")

	// A bad line imports nothing and names the line.
	before := b.counts()
	r = b.myImport(me, acct, "card", cardStatement("2026-05-06", "Corner Shop", "5411", "-3.00", "not a date", "Bakery", "5462", "-2.00"))
	require.Equal(t, http.StatusUnprocessableEntity, r.Status, string(r.Body))
	require.Equal(t, "urn:pbudget:problem:statement-invalid", r.problem(t).Type)
	require.Contains(t, string(r.Body), "/lines/3", "the file's third line (after the header)")
	// Without an Idempotency-Key, nothing either.
	r = b.do(http.MethodPost, base+"/statements?format=card", me, cardStatement("2026-05-06", "Corner Shop", "5411", "-3.00"), "Content-Type", "text/csv")
	require.Equal(t, http.StatusBadRequest, r.Status, string(r.Body))
	require.Equal(t, before, b.counts())

	csv := cardStatement("2026-05-06", "Corner Shop", "5411", "-3.00", "2026-05-06", "Lucky Bets", "7995", "-20.00",
		"2026-05-06", "Corner Shop", "5411", "-3.00")
	key := uuid.NewString()
	r = b.myImport(me, acct, "card", csv, "Idempotency-Key", key)
	require.Equal(t, http.StatusCreated, r.Status, string(r.Body))
	var st api.MyStatement
	r.decode(t, &st)
	require.Equal(t, 3, st.LineCount)
	require.Equal(t, 3, st.NewLines, "two identical coffees on one day are both kept")
	require.Equal(t, 3, st.FlaggedLines, "the betting shop excluded, the corner shop unexplained (the plan has no groceries)")
	require.Equal(t, int64(2_600), st.OutPence)
	replay := b.myImport(me, acct, "card", csv, "Idempotency-Key", key)
	require.Equal(t, http.StatusCreated, replay.Status)
	require.Equal(t, "true", replay.Header.Get("Idempotent-Replayed"))
	r = b.myImport(me, acct, "card", csv)
	require.Equal(t, http.StatusCreated, r.Status, string(r.Body))
	r.decode(t, &st)
	require.Equal(t, 0, st.NewLines, "uploaded again, no line is added twice")
	require.Equal(t, 3, st.ExistingLines)

	var bal api.MyBalance
	r = b.do(http.MethodGet, base+"/balance?at=2026-05-06", me, nil)
	require.Equal(t, http.StatusOK, r.Status, string(r.Body))
	r.decode(t, &bal)
	require.Equal(t, paid-2_600, bal.BalancePence, "the balance is the ledger's sum")

	var flags api.MyFlagList
	r = b.do(http.MethodGet, base+"/flags?open=true", me, nil)
	require.Equal(t, http.StatusOK, r.Status, string(r.Body))
	r.decode(t, &flags)
	require.Len(t, flags.Items, 3)
	var fl api.MyFlag
	for _, x := range flags.Items {
		if x.Flag == "excluded_category" {
			fl = x
		}
	}
	require.Equal(t, api.MyFlagFlag("excluded_category"), fl.Flag)
	require.Equal(t, "Lucky Bets", fl.Description)
	require.Equal(t, int64(-2_000), fl.AmountPence)
	require.Empty(t, fl.Answers)

	// Answers: blank refused; the person's words kept beside the flag.
	before = b.counts()
	r = b.do(http.MethodPost, base+"/flags/"+fl.Id.String()+"/answers", me, map[string]any{"explanation": "   "})
	require.Equal(t, http.StatusBadRequest, r.Status, string(r.Body))
	r = b.do(http.MethodPost, base+"/flags/"+other.flag.String()+"/answers", me, map[string]any{"explanation": "another account's flag"})
	require.Equal(t, http.StatusNotFound, r.Status, string(r.Body))
	r = b.do(http.MethodPost, base+"/evidence", me, map[string]any{"statement_line_id": other.line, "kind": "receipt",
		"reference": "portal/receipt-1.pdf", "sha256": sha256Hex("receipt"), "document_date": "2026-05-06"})
	require.Equal(t, "urn:pbudget:problem:evidence-target", r.problem(t).Type)
	require.Equal(t, before, b.counts())
	r = b.do(http.MethodPost, base+"/flags/"+fl.Id.String()+"/answers", me,
		map[string]any{"explanation": "My card was stolen that day; I have reported it to the bank."})
	require.Equal(t, http.StatusCreated, r.Status, string(r.Body))
	r.decode(t, &fl)
	require.Len(t, fl.Answers, 1)
	require.Equal(t, api.MyFlagAnswerAnsweredByBasis("self"), fl.Answers[0].AnsweredByBasis)
	require.True(t, fl.Resolution.IsNull())

	r = b.do(http.MethodPost, base+"/evidence", me, map[string]any{"statement_line_id": fl.StatementLineId, "kind": "receipt",
		"reference": "portal/crime-reference.pdf", "sha256": sha256Hex("crime reference"), "document_date": "2026-05-07"})
	require.Equal(t, http.StatusCreated, r.Status, string(r.Body))
	var ev api.MyEvidence
	r.decode(t, &ev)
	require.Equal(t, fl.StatementLineId, ev.StatementLineId.MustGet())
	require.Equal(t, "2026-05-08", ev.ReceivedOn.String())

	var events api.AuditEventList
	b.do(http.MethodGet, "/v1/audit-events?entity_type=statement_flag&entity_id="+fl.Id.String(), b.token("auditor"), nil).decode(t, &events)
	require.Len(t, events.Items, 1)
	require.Equal(t, "statement_flag.answered", events.Items[0].Action)
	require.NotContains(t, string(b.do(http.MethodGet, "/v1/audit-events?entity_type=statement_flag&entity_id="+fl.Id.String(), b.token("auditor"), nil).Body),
		"stolen", "the person's words stay out of the trail")

	// Once the council has decided the flag, it takes no more answers.
	r = b.do(http.MethodPost, "/v1/direct-payment-accounts/"+acct.String()+"/flags/"+fl.Id.String()+"/resolve", b.token("auditor"),
		map[string]any{"resolution": "misspend", "note": "not a care need"})
	require.Equal(t, http.StatusOK, r.Status, string(r.Body))
	r = b.do(http.MethodPost, base+"/flags/"+fl.Id.String()+"/answers", me, map[string]any{"explanation": "one more thing"})
	require.Equal(t, "urn:pbudget:problem:statement-flag-resolved", r.problem(t).Type)
	b.do(http.MethodGet, base+"/flags", me, nil).decode(t, &flags)
	for _, x := range flags.Items {
		if x.Id == fl.Id {
			require.Equal(t, api.MyFlagResolution("misspend"), x.Resolution.MustGet())
			require.Equal(t, "not a care need", x.ResolutionReason.MustGet())
			require.Len(t, x.Answers, 1)
		}
	}
	require.NotContains(t, string(b.do(http.MethodGet, base+"/flags", me, nil).Body), "user-", "never who decided")
}
