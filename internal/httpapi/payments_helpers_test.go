package httpapi_test

import (
	"context"
	"crypto"
	"fmt"
	"net/http"
	"strconv"
	"sync"
	"testing"
	"time"

	"github.com/google/uuid"
	"github.com/stretchr/testify/require"

	"github.com/pbudget/pbudget/api"
	"github.com/pbudget/pbudget/internal/app"
	"github.com/pbudget/pbudget/internal/auth"
	"github.com/pbudget/pbudget/internal/jobs"
	"github.com/pbudget/pbudget/internal/testdb"
)

// clock is a settable clock for the service under test: payments depend on today (pay dates, the
// processing day after approval, the export's creation date).
type clock struct {
	mu sync.Mutex
	t  time.Time
}

func (c *clock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.t
}

// Set moves the clock to 09:00 London time on day (an ISO date).
func (c *clock) Set(day string) {
	t, err := time.Parse("2006-01-02", day)
	if err != nil {
		panic(err)
	}
	c.mu.Lock()
	c.t = t.Add(8 * time.Hour) // 09:00 BST or 08:00 GMT: the same London day either way
	c.mu.Unlock()
}

// payBundle is a bundle whose server runs on its own clock, set to day, with the council's BACS
// originator configured and the RAS and rate table a budget needs.
func payBundle(t *testing.T, day string) (*bundle, *clock) {
	t.Helper()
	b := setup(t)
	c := &clock{}
	c.Set(day)
	v, err := auth.NewVerifier(context.Background(), auth.VerifierConfig{PublicKeys: []crypto.PublicKey{b.key.Public()}, Issuer: issuer, Audience: audience})
	require.NoError(t, err)
	// Its runs' builds are River jobs, which the shared server's queue works (the build reads no
	// clock but for timestamps), so that one queue polls the test database, not one per test.
	q, err := jobs.New(b.db.SQL(), testdb.Logger(), jobs.Config{})
	require.NoError(t, err)
	e, _, err := app.New(app.Options{DB: b.db, Verifier: v, Log: testdb.Logger(), Now: c.Now, Jobs: q, Access: b.access,
		Payments: app.PaymentOptions{Keys: testKeys(), BatchSize: 3}, Webhooks: testWebhooks()})
	require.NoError(t, err)
	b.e, b.clock = e, c
	b.activeRAS("needs", 72_800)
	admin := b.token("council_admin")
	r := b.do(http.MethodPatch, "/v1/council/settings", admin, map[string]any{"bacs_originator": map[string]any{
		"service_user_number": "123456", "sort_code": "401276", "account_number": "41234567", "account_name": "Test council dp"}}, "If-Match", `"1"`)
	require.Equal(t, http.StatusOK, r.Status, string(r.Body))
	return b, c
}

// Two finance officers, so that one can check the other's work.
func (b *bundle) financeA() string {
	return b.tokenWith(auth.MintOptions{Council: b.council.Code, Roles: []string{"finance"}, Subject: "finance-a"})
}

func (b *bundle) financeB() string {
	return b.tokenWith(auth.MintOptions{Council: b.council.Code, Roles: []string{"finance"}, Subject: "finance-b"})
}

// agreementSpec is how a test wants a person's plan and agreements.
type agreementSpec struct {
	start       string // the agreements' start date
	frequency   string // four_weekly (default), two_weekly, monthly, one_off
	accountType string // separate_bank_account (default), prepaid_card, managed_account
	isf         *api.Provider
	unsigned    bool
	noDetails   bool
	dpWeekly    string // hours a week at £15 (default 10: £7,800 a year, £600 a four-week cycle)
	extraLines  []map[string]any
	topUps      []map[string]any // family top-ups added to the draft (plan_line_id "dp" names the direct-payment line)
	// recipient, when set, makes the direct payment's recipient a nominee or authorised person:
	// recipientFor records them for the person and returns their id.
	recipient    string
	recipientFor func(person uuid.UUID) uuid.UUID
	basis        string // the direct payment's: gross (default) or net
	// assess, when set, is called with the person before their plan is made (a financial
	// assessment, for one).
	assess func(personID string)
	isfQty string // the ISF line's days a week at £75 (default 1)
	// assistant, when set, is the personal assistant the direct-payment line names.
	assistant *uuid.UUID
}

type payFixture struct {
	budget  api.PersonalBudget
	plan    api.SupportPlan
	planTag string
	dp      api.DirectPaymentAgreement
	isf     *api.ISFAgreement
}

// agreements gives a new person an approved plan with a direct-payment line (and an ISF line with
// spec.isf) and the agreements that pay them, signed, with bank details set by one finance officer
// and confirmed by another, unless the spec says otherwise.
func (b *bundle) agreements(spec agreementSpec) payFixture {
	b.t.Helper()
	if spec.frequency == "" {
		spec.frequency = "four_weekly"
	}
	if spec.accountType == "" {
		spec.accountType = "separate_bank_account"
	}
	if spec.dpWeekly == "" {
		spec.dpWeekly = "10"
	}
	if spec.basis == "" {
		spec.basis = "gross"
	}
	if spec.isfQty == "" {
		spec.isfQty = "1"
	}
	pb := b.budgetOfNewPerson()
	if spec.assess != nil {
		spec.assess(pb.PersonId.String())
	}
	lines := []map[string]any{lineBody("personal_assistant", "direct_payment", 1_500, spec.dpWeekly, pb)}
	if spec.assistant != nil {
		lines[0]["personal_assistant_id"] = *spec.assistant
	}
	if spec.isf != nil {
		lines = append(lines, lineBody("day_service", "isf", 7_500, spec.isfQty, pb, "provider_id", spec.isf.Id))
	}
	lines = append(lines, spec.extraLines...)
	plan, tag := b.planWith(pb, lines...)
	for _, t := range spec.topUps {
		if t["plan_line_id"] == "dp" {
			t = with(t, "plan_line_id", plan.Lines[0].Id)
		}
		r := b.do(http.MethodPost, "/v1/support-plans/"+plan.Id.String()+"/top-ups", b.token("practitioner"), t, "If-Match", tag)
		require.Equal(b.t, http.StatusCreated, r.Status, string(r.Body))
		r.decode(b.t, &plan)
		tag = r.Header.Get("ETag")
	}
	f := payFixture{budget: pb, plan: plan, planTag: b.approve(plan, b.submit(plan, tag))}
	dpBody := map[string]any{
		"plan_id": plan.Id, "recipient": "person", "account_type": spec.accountType, "payment_basis": spec.basis, "frequency": spec.frequency,
		"start_date": spec.start}
	if spec.recipient != "" {
		dpBody["recipient"], dpBody["recipient_person_id"], dpBody["recipient_consented"] = spec.recipient, spec.recipientFor(pb.PersonId), true
	}
	r := b.do(http.MethodPost, "/v1/direct-payment-agreements", b.token("finance"), dpBody)
	require.Equal(b.t, http.StatusCreated, r.Status, string(r.Body))
	r.decode(b.t, &f.dp)
	if !spec.unsigned {
		r = b.do(http.MethodPatch, "/v1/direct-payment-agreements/"+f.dp.Id.String(), b.token("practitioner"), map[string]any{"signed_date": spec.start},
			"If-Match", etagOf(f.dp.Version))
		require.Equal(b.t, http.StatusOK, r.Status, string(r.Body))
		r.decode(b.t, &f.dp)
	}
	if !spec.noDetails {
		if spec.accountType == "prepaid_card" {
			b.setDetails("/v1/direct-payment-agreements/"+f.dp.Id.String()+"/payment-details",
				map[string]any{"prepaid_card": map[string]any{"card_account_reference": "CARD-" + uuid.NewString()[:8]}}, true)
		} else {
			b.setDetails("/v1/direct-payment-agreements/"+f.dp.Id.String()+"/payment-details", bankAccount(), true)
		}
	}
	if spec.isf != nil {
		r = b.do(http.MethodPost, "/v1/isf-agreements", b.token("finance"), map[string]any{
			"plan_id": plan.Id, "provider_id": spec.isf.Id, "payment_frequency": "four_weekly", "statement_frequency": "monthly", "start_date": spec.start})
		require.Equal(b.t, http.StatusCreated, r.Status, string(r.Body))
		var isf api.ISFAgreement
		r.decode(b.t, &isf)
		if !spec.unsigned {
			r = b.do(http.MethodPatch, "/v1/isf-agreements/"+isf.Id.String(), b.token("practitioner"), map[string]any{"signed_date": spec.start},
				"If-Match", etagOf(isf.Version))
			require.Equal(b.t, http.StatusOK, r.Status, string(r.Body))
			r.decode(b.t, &isf)
		}
		f.isf = &isf
	}
	return f
}

func etagOf(version int) string { return `"` + strconv.Itoa(version) + `"` }

var accountSeq struct {
	sync.Mutex
	n int
}

// bankAccount is a fresh set of bank details.
func bankAccount() map[string]any {
	accountSeq.Lock()
	accountSeq.n++
	n := accountSeq.n
	accountSeq.Unlock()
	return map[string]any{"bank_account": map[string]any{"sort_code": "309634", "account_number": fmt.Sprintf("1%07d", n), "account_name": "a recipient"}}
}

// setDetails sets details as finance-a and, when confirm, confirms them as finance-b.
func (b *bundle) setDetails(path string, details map[string]any, confirm bool) api.RecipientDetails {
	b.t.Helper()
	r := b.do(http.MethodPut, path, b.financeA(), with(details, "reason", "the recipient's bank letter"))
	require.Equal(b.t, http.StatusOK, r.Status, string(r.Body))
	var d api.RecipientDetails
	r.decode(b.t, &d)
	if confirm {
		check := map[string]any{}
		if bank, ok := details["bank_account"].(map[string]any); ok {
			check["bank_account"] = map[string]any{"sort_code": bank["sort_code"], "account_number": bank["account_number"]}
		} else {
			check["prepaid_card"] = details["prepaid_card"]
		}
		r = b.do(http.MethodPost, path+"/confirm", b.financeB(), check)
		require.Equal(b.t, http.StatusOK, r.Status, string(r.Body))
		r.decode(b.t, &d)
	}
	return d
}

// createRun asks for a run for payDate as finance-a and waits for it to be built.
func (b *bundle) createRun(payDate string) api.PaymentRun {
	b.t.Helper()
	r := b.do(http.MethodPost, "/v1/payment-runs", b.financeA(), map[string]any{"pay_date": payDate}, "Idempotency-Key", uuid.NewString())
	require.Equal(b.t, http.StatusAccepted, r.Status, string(r.Body))
	require.NotEmpty(b.t, r.Header.Get("Location"))
	return b.builtRun(r.Header.Get("Location"))
}

// builtRun polls a run until it is built.
func (b *bundle) builtRun(loc string) api.PaymentRun {
	b.t.Helper()
	var run api.PaymentRun
	require.Eventually(b.t, func() bool {
		r := b.do(http.MethodGet, loc, b.token("finance"), nil)
		require.Equal(b.t, http.StatusOK, r.Status, string(r.Body))
		r.decode(b.t, &run)
		require.True(b.t, run.BuildError.IsNull(), "build error: %v", run.BuildError)
		return run.Status != "building"
	}, 30*time.Second, 20*time.Millisecond)
	return run
}

// runAction posts an action on a run at its current version, with a fresh Idempotency-Key, and returns
// the run.
func (b *bundle) runAction(run api.PaymentRun, action, token string, body any) (*resp, api.PaymentRun) {
	b.t.Helper()
	r := b.do(http.MethodPost, "/v1/payment-runs/"+run.Id.String()+"/"+action, token, body, "If-Match", etagOf(run.Version),
		"Idempotency-Key", uuid.NewString())
	var out api.PaymentRun
	if r.Status == http.StatusOK {
		r.decode(b.t, &out)
	}
	return r, out
}

// lines lists every line of a run (or, with runID nil, across runs) for an agreement.
func (b *bundle) lines(runID *uuid.UUID, query string) []api.PaymentLine {
	b.t.Helper()
	path := "/v1/payment-lines?page_size=200"
	if runID != nil {
		path = "/v1/payment-runs/" + runID.String() + "/lines?page_size=200"
	}
	if query != "" {
		path += "&" + query
	}
	r := b.do(http.MethodGet, path, b.token("finance"), nil)
	require.Equal(b.t, http.StatusOK, r.Status, string(r.Body))
	var list api.PaymentLineList
	r.decode(b.t, &list)
	require.Nil(b.t, list.NextPageToken, "the test expects one page")
	return list.Items
}

// schedule returns an agreement's schedule.
func (b *bundle) schedule(kind string, id uuid.UUID, through string) api.PaymentSchedule {
	b.t.Helper()
	path := "/v1/" + kind + "/" + id.String() + "/schedule"
	if through != "" {
		path += "?through=" + through
	}
	r := b.do(http.MethodGet, path, b.token("finance"), nil)
	require.Equal(b.t, http.StatusOK, r.Status, string(r.Body))
	var s api.PaymentSchedule
	r.decode(b.t, &s)
	return s
}

// pay approves (finance-b), exports and marks a built run paid, and returns it. The clock moves to
// a week before the pay date first, when it is earlier, as a council's would.
func (b *bundle) pay(run api.PaymentRun) api.PaymentRun {
	b.t.Helper()
	if c := b.clock; c != nil && c.Now().Before(run.PayDate.Time.AddDate(0, 0, -7)) {
		c.Set(run.PayDate.Time.AddDate(0, 0, -7).Format("2006-01-02"))
	}
	r, run := b.runAction(run, "approve", b.financeB(), nil)
	require.Equal(b.t, http.StatusOK, r.Status, string(r.Body))
	r, run = b.runAction(run, "export", b.financeB(), nil)
	require.Equal(b.t, http.StatusOK, r.Status, string(r.Body))
	r, run = b.runAction(run, "mark-paid", b.financeB(), map[string]any{})
	require.Equal(b.t, http.StatusOK, r.Status, string(r.Body))
	return run
}

// fileBytes downloads an export file.
func (b *bundle) fileBytes(id uuid.UUID, token string) *resp {
	b.t.Helper()
	return b.do(http.MethodGet, "/v1/payment-files/"+id.String(), token, nil)
}
