package httpapi_test

import (
	"net/http"
	"testing"

	"github.com/google/uuid"
	"github.com/stretchr/testify/require"

	"github.com/pbudget/pbudget/api"
	"github.com/pbudget/pbudget/internal/auth"
)

// providerToken is a token of provider staff of prov.
func (b *bundle) providerToken(prov api.Provider) string {
	return b.tokenWith(auth.MintOptions{Council: b.council.Code, Roles: []string{"provider"}, Provider: prov.Id.String(), Subject: "staff-" + prov.Id.String()[:8]})
}

// isfStatement is a statement body: spent is days at £75 on the ISF's plan line.
func isfStatement(start, end string, opening, fromCouncil int64, line uuid.UUID, days string, amount, closing int64) map[string]any {
	return map[string]any{"period_start": start, "period_end": end, "opening_balance_pence": opening,
		"received_from_council_pence": fromCouncil, "received_from_person_pence": 0, "closing_balance_pence": closing,
		"lines": []any{map[string]any{"plan_line_id": line, "units": days, "rate_pence": 7_500, "amount_pence": amount}}}
}

func TestAProvidersStatementsChainAndEachRuleItBreaksIsNamed(t *testing.T) {
	t.Parallel()
	b, c := payBundle(t, "2026-07-01")
	prov := b.provider("isf_provider")
	f := b.agreements(agreementSpec{start: "2026-04-06", isf: &prov})
	isfLine := f.plan.Lines[1].Id
	tok := b.providerToken(prov)
	path := "/v1/isf-agreements/" + f.isf.Id.String() + "/statements"

	// The first period runs from the ISF's start to the end of its month.
	r := b.do(http.MethodPost, path, tok, isfStatement("2026-04-06", "2026-05-01", 0, 60_000, isfLine, "4", 30_000, 30_000))
	require.Equal(t, http.StatusCreated, r.Status, string(r.Body))
	var first api.ISFStatement
	r.decode(t, &first)
	require.Equal(t, "submitted", string(first.Status))
	require.Equal(t, int64(30_000), first.SpentPence)

	tests := []struct {
		name string
		body map[string]any
		want string
	}{
		{"an opening balance other than the previous closing", isfStatement("2026-05-01", "2026-06-01", 29_999, 60_000, isfLine, "4", 30_000, 59_999), "isf-statement-chain"},
		{"a period that does not follow on", isfStatement("2026-06-01", "2026-07-01", 30_000, 60_000, isfLine, "4", 30_000, 60_000), "isf-statement-chain"},
		{"a period that is not a statement period", isfStatement("2026-05-01", "2026-05-15", 30_000, 60_000, isfLine, "4", 30_000, 60_000), "isf-statement-period"},
		{"figures that do not add up", isfStatement("2026-05-01", "2026-06-01", 30_000, 60_000, isfLine, "4", 30_000, 60_001), "isf-statement-arithmetic"},
		{"units × rate other than the amount", isfStatement("2026-05-01", "2026-06-01", 30_000, 60_000, isfLine, "4", 30_001, 59_999), "isf-statement-line"},
		{"a line of another plan", isfStatement("2026-05-01", "2026-06-01", 30_000, 60_000, f.plan.Lines[0].Id, "4", 30_000, 60_000), "isf-statement-line"},
	}
	for _, tc := range tests {
		before := b.counts()
		r := b.do(http.MethodPost, path, tok, tc.body)
		require.Equal(t, http.StatusUnprocessableEntity, r.Status, "%s: %s", tc.name, r.Body)
		require.Equal(t, "urn:pbudget:problem:"+tc.want, r.problem(t).Type, tc.name)
		require.Equal(t, before, b.counts(), "%s: nothing written", tc.name)
	}
	// Filing the same period twice is refused: a submitted statement is not replaced.
	r = b.do(http.MethodPost, path, tok, isfStatement("2026-04-06", "2026-05-01", 0, 60_000, isfLine, "4", 30_000, 30_000))
	require.Equal(t, http.StatusConflict, r.Status, string(r.Body))

	// The council queries it with a reason; a blank reason is refused.
	fin := b.token("finance")
	r = b.do(http.MethodPost, "/v1/isf-statements/"+first.Id.String()+"/query", fin, map[string]any{"reason": "  "})
	require.Equal(t, http.StatusUnprocessableEntity, r.Status, string(r.Body))
	require.Equal(t, "urn:pbudget:problem:reason-required", r.problem(t).Type)
	r = b.do(http.MethodPost, "/v1/isf-statements/"+first.Id.String()+"/query", fin, map[string]any{"reason": "Four days in April do not match the rota we hold."})
	require.Equal(t, http.StatusOK, r.Status, string(r.Body))
	// A queried statement is replaced by a corrected one for the same period; that one is accepted.
	r = b.do(http.MethodPost, path, tok, isfStatement("2026-04-06", "2026-05-01", 0, 60_000, isfLine, "3", 22_500, 37_500))
	require.Equal(t, http.StatusCreated, r.Status, string(r.Body))
	var corrected api.ISFStatement
	r.decode(t, &corrected)
	r = b.do(http.MethodPost, "/v1/isf-statements/"+corrected.Id.String()+"/accept", fin, map[string]any{"reason": "Three days agree with the rota and the invoices."})
	require.Equal(t, http.StatusOK, r.Status, string(r.Body))
	r = b.do(http.MethodPost, "/v1/isf-statements/"+corrected.Id.String()+"/accept", fin, map[string]any{"reason": "Three days agree with the rota and the invoices."})
	require.Equal(t, http.StatusConflict, r.Status, string(r.Body))
	require.Equal(t, "urn:pbudget:problem:isf-statement-decided", r.problem(t).Type)
	// The next chains from the corrected closing balance.
	r = b.do(http.MethodPost, path, tok, isfStatement("2026-05-01", "2026-06-01", 37_500, 60_000, isfLine, "4", 30_000, 67_500))
	require.Equal(t, http.StatusCreated, r.Status, string(r.Body))

	var list api.ISFStatementList
	r = b.do(http.MethodGet, path, b.token("auditor"), nil)
	require.Equal(t, http.StatusOK, r.Status, string(r.Body))
	r.decode(t, &list)
	require.Len(t, list.Items, 3)

	// June's statement is due 14 days after June ends (14 July): overdue from 15 July.
	var work api.ISFWorklist
	c.Set("2026-07-14")
	b.do(http.MethodGet, "/v1/isf-overdue-statements", fin, nil).decode(t, &work)
	require.Empty(t, overdueFor(work, f.isf.Id), "due on the 14th day, not overdue on it")
	c.Set("2026-07-15")
	b.do(http.MethodGet, "/v1/isf-overdue-statements", fin, nil).decode(t, &work)
	got := overdueFor(work, f.isf.Id)
	require.Len(t, got, 1)
	require.Equal(t, "2026-06-01", got[0].PeriodStart.MustGet().String())
	require.Equal(t, "2026-07-14", got[0].Due.MustGet().String())
}

func overdueFor(w api.ISFWorklist, id uuid.UUID) []api.ISFWorklistItem {
	var out []api.ISFWorklistItem
	for _, it := range w.Items {
		if it.AgreementId == id {
			out = append(out, it)
		}
	}
	return out
}

// Provider staff reach only their own ISFs' statements: every statement route is a 404 for
// another provider's staff (and for another council), and changes nothing.
func TestAnotherProvidersStaffCannotReachAnISFsStatements(t *testing.T) {
	t.Parallel()
	b, _ := payBundle(t, "2026-07-01")
	prov, other := b.provider("isf_provider"), b.provider("isf_provider")
	f := b.agreements(agreementSpec{start: "2026-04-06", isf: &prov})
	isfLine := f.plan.Lines[1].Id
	path := "/v1/isf-agreements/" + f.isf.Id.String() + "/statements"
	r := b.do(http.MethodPost, path, b.providerToken(prov), isfStatement("2026-04-06", "2026-05-01", 0, 60_000, isfLine, "4", 30_000, 30_000))
	require.Equal(t, http.StatusCreated, r.Status, string(r.Body))
	var st api.ISFStatement
	r.decode(t, &st)

	for _, tok := range []string{b.providerToken(other), b.tokenWith(auth.MintOptions{Council: b.other.Code, Roles: []string{"provider"}, Provider: prov.Id.String()})} {
		before := b.counts()
		for _, tc := range []struct {
			method, path string
			body         any
		}{
			{http.MethodPost, path, isfStatement("2026-05-01", "2026-06-01", 30_000, 60_000, isfLine, "4", 30_000, 60_000)},
			{http.MethodGet, path, nil},
			{http.MethodGet, "/v1/isf-statements/" + st.Id.String(), nil},
		} {
			r := b.do(tc.method, tc.path, tok, tc.body)
			require.Equal(t, http.StatusNotFound, r.Status, "%s %s: %s", tc.method, tc.path, r.Body)
		}
		require.Equal(t, before, b.counts())
	}
	// The provider's own staff read it; provider staff cannot accept or query (a council's decision).
	r = b.do(http.MethodGet, "/v1/isf-statements/"+st.Id.String(), b.providerToken(prov), nil)
	require.Equal(t, http.StatusOK, r.Status, string(r.Body))
	r = b.do(http.MethodPost, "/v1/isf-statements/"+st.Id.String()+"/accept", b.providerToken(prov), map[string]any{"reason": "We agree with ourselves entirely."})
	require.Equal(t, http.StatusForbidden, r.Status, string(r.Body))
}

// Dorset's rule: a balance above 4 weeks of the weekly amount held longer than 12 weeks is
// flagged for recovery; 12 weeks exactly is not.
func TestAnISFBalanceHeldAboveFourWeeksForMoreThanTwelveIsFlagged(t *testing.T) {
	t.Parallel()
	b, c := payBundle(t, "2026-10-01")
	prov := b.provider("isf_provider")
	f := b.agreements(agreementSpec{start: "2026-04-01", isf: &prov}) // £75 a week: the threshold is £300
	isfLine := f.plan.Lines[1].Id
	tok := b.providerToken(prov)
	path := "/v1/isf-agreements/" + f.isf.Id.String() + "/statements"
	months := []string{"2026-04-01", "2026-05-01", "2026-06-01", "2026-07-01", "2026-08-01", "2026-09-01"}
	open := int64(0)
	for i := 0; i < len(months)-1; i++ {
		closing := open + 40_000 - 7_500 // in £400, out £75: above £300 from the first month
		r := b.do(http.MethodPost, path, tok, isfStatement(months[i], months[i+1], open, 40_000, isfLine, "1", 7_500, closing))
		require.Equal(t, http.StatusCreated, r.Status, string(r.Body))
		open = closing
	}
	c.Set("2026-09-15")
	var work api.ISFWorklist
	r := b.do(http.MethodGet, "/v1/isf-overdue-statements?flagged=true", b.token("auditor"), nil)
	require.Equal(t, http.StatusOK, r.Status, string(r.Body))
	r.decode(t, &work)
	got := overdueFor(work, f.isf.Id)
	require.Len(t, got, 1, "held from 30 April to 31 August: more than 12 weeks")
	fl := got[0].Flag.MustGet()
	require.Equal(t, int64(30_000), fl.ThresholdPence)
	require.Equal(t, open-30_000, fl.ExcessPence)
	require.Equal(t, "2026-04-30", fl.Since.String())
}
