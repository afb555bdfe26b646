package httpapi_test

import (
	"context"
	"crypto"
	"net/http"
	"testing"

	"github.com/pressly/goose/v3"
	"github.com/stretchr/testify/require"

	"github.com/pbudget/pbudget/api"
	"github.com/pbudget/pbudget/internal/app"
	"github.com/pbudget/pbudget/internal/auth"
	"github.com/pbudget/pbudget/internal/council"
	"github.com/pbudget/pbudget/internal/postgres"
	"github.com/pbudget/pbudget/internal/testdb"
	"github.com/pbudget/pbudget/migrations"
)

// privateBundle is a bundle on a database of its own, for tests that change the schema.
func privateBundle(t *testing.T) *bundle {
	t.Helper()
	shared := setup(t) // the key and the spec router
	ctx := context.Background()
	name, err := testdb.Create(ctx)
	require.NoError(t, err)
	t.Cleanup(func() { _ = testdb.Drop(context.Background(), name) })
	db, err := postgres.Open(ctx, testdb.WithDatabase(testdb.AdminURL(), name), 4, testdb.Logger())
	require.NoError(t, err)
	t.Cleanup(func() { db.Close() })
	_, err = postgres.Migrate(ctx, db.SQL(), nil)
	require.NoError(t, err)
	v, err := auth.NewVerifier(ctx, auth.VerifierConfig{PublicKeys: []crypto.PublicKey{shared.key.Public()}, Issuer: issuer, Audience: audience})
	require.NoError(t, err)
	w := app.NewAccessWriter(db, testdb.Logger())
	ctx, stop := context.WithCancel(ctx)
	go w.Run(ctx)
	t.Cleanup(func() { stop(); <-w.Done() })
	e, _, err := app.New(app.Options{DB: db, Verifier: v, Log: testdb.Logger(), Access: w})
	require.NoError(t, err)
	councils := council.NewService(postgres.NewCouncilStore(db))
	ours, err := councils.Ensure(ctx, randomCode(), "Test Council")
	require.NoError(t, err)
	other, err := councils.Ensure(ctx, randomCode(), "Other Council")
	require.NoError(t, err)
	return &bundle{t: t, e: e, db: db, key: shared.key, council: ours, other: other, access: w}
}

// TestMigration5TidiesWhatTheOldRulesAllowed: migration 00005 adds one-approved-plan and
// one-agreement constraints; on a database where the old code left two approved plans, it keeps the
// latest; on duplicate agreements it stops with a message saying what to do, changing nothing.
func TestMigration5TidiesWhatTheOldRulesAllowed(t *testing.T) {
	t.Parallel()
	b := privateBundle(t)
	ctx := context.Background()
	b.activeRAS("needs", 72_800)
	b.rateTable("2025-04-06", 11_250)
	_, pb := b.pricedBudget()
	first, tag := b.planWith(pb, lineBody("personal_assistant", "direct_payment", 3_500, "10", pb))
	b.approve(first, b.submit(first, tag))
	second, tag := b.planWith(pb, lineBody("personal_assistant", "direct_payment", 3_000, "10", pb))
	b.approve(second, b.submit(second, tag))
	r := b.do(http.MethodPost, "/v1/direct-payment-agreements", b.token("finance"), map[string]any{"plan_id": second.Id, "recipient": "person",
		"account_type": "prepaid_card", "payment_basis": "net", "frequency": "four_weekly", "start_date": pb.StartDate.Time.Format("2006-01-02")})
	require.Equal(t, http.StatusCreated, r.Status, string(r.Body))
	var dp api.DirectPaymentAgreement
	r.decode(t, &dp)
	admin := b.token("council_admin")
	r = b.do(http.MethodPatch, "/v1/council/settings", admin, map[string]any{"approver_limit_annual_pence": 5_000_000}, "If-Match", `"1"`)
	require.Equal(t, http.StatusOK, r.Status, string(r.Body))

	p, err := goose.NewProvider(goose.DialectPostgres, b.db.SQL(), migrations.FS)
	require.NoError(t, err)
	_, err = p.DownTo(ctx, 4)
	require.NoError(t, err)
	sqlDB := b.db.SQL()
	// What the old code could leave: both plans approved, two agreements for one plan, settings at 1.
	_, err = sqlDB.Exec(`UPDATE support_plans SET status = 'approved' WHERE council_id = $1 AND id = $2`, b.council.ID, first.Id)
	require.NoError(t, err)
	_, err = sqlDB.Exec(`UPDATE council_settings SET version = 1 WHERE council_id = $1`, b.council.ID)
	require.NoError(t, err)
	for _, stmt := range []string{`CREATE TABLE dup AS SELECT * FROM direct_payment_agreements WHERE id = '` + dp.Id.String() + `'`,
		`UPDATE dup SET id = gen_random_uuid()`, `INSERT INTO direct_payment_agreements SELECT * FROM dup`, `DROP TABLE dup`} {
		_, err = sqlDB.Exec(stmt)
		require.NoError(t, err, stmt)
	}

	_, err = p.UpTo(ctx, 5)
	require.ErrorContains(t, err, "more than one direct-payment agreement")
	var approved int
	require.NoError(t, sqlDB.QueryRow(`SELECT count(*) FROM support_plans WHERE council_id = $1 AND status = 'approved'`, b.council.ID).Scan(&approved))
	require.Equal(t, 2, approved, "the failed migration changed nothing")

	_, err = sqlDB.Exec(`DELETE FROM direct_payment_agreements WHERE council_id = $1 AND id <> $2`, b.council.ID, dp.Id)
	require.NoError(t, err)
	_, err = p.UpTo(ctx, 5)
	require.NoError(t, err)
	var status string
	require.NoError(t, sqlDB.QueryRow(`SELECT status FROM support_plans WHERE council_id = $1 AND id = $2`, b.council.ID, first.Id).Scan(&status))
	require.Equal(t, "superseded", status, "the earlier approval gives way to the later")
	_, err = p.Up(ctx) // the server reads the columns of the later migrations
	require.NoError(t, err)
	require.Equal(t, second.Id, b.budget(pb.Id.String()).Current.PlanId.MustGet())
	r = b.do(http.MethodGet, "/v1/council/settings", admin, nil)
	require.Equal(t, `"2"`, r.Header.Get("ETag"), "stored settings never share the defaults' ETag")
}

// TestMigration7NamesTheSubmittersOfEarlierPlans: plans submitted before migration 00007 kept no
// submitter; the migration takes it from the audit trail, so that segregation of duties holds
// for plans already awaiting sign-off. Drafts name no one.
func TestMigration7NamesTheSubmittersOfEarlierPlans(t *testing.T) {
	t.Parallel()
	b := privateBundle(t)
	ctx := context.Background()
	b.activeRAS("needs", 72_800)
	b.rateTable("2025-04-06", 11_250)
	_, pb := b.pricedBudget()
	submitted, tag := b.planWith(pb, lineBody("home_care", "council_managed", 2_500, "5", pb))
	tag = b.submit(submitted, tag)
	_, pb2 := b.pricedBudget()
	draft, _ := b.planWith(pb2, lineBody("home_care", "council_managed", 2_500, "5", pb2))
	r := b.do(http.MethodPatch, "/v1/council/settings", b.token("council_admin"), map[string]any{"approver_limit_annual_pence": 5_000_000}, "If-Match", `"1"`)
	require.Equal(t, http.StatusOK, r.Status, string(r.Body)) // stored settings, not the defaults

	p, err := goose.NewProvider(goose.DialectPostgres, b.db.SQL(), migrations.FS)
	require.NoError(t, err)
	_, err = p.DownTo(ctx, 5)
	require.NoError(t, err)
	_, err = p.Up(ctx)
	require.NoError(t, err)
	submitter := func(id string) *string {
		var s *string
		require.NoError(t, b.db.SQL().QueryRow(`SELECT submitted_by FROM support_plans WHERE council_id = $1 AND id = $2`, b.council.ID, id).Scan(&s))
		return s
	}
	require.Equal(t, "user-practitioner", *submitter(submitted.Id.String()))
	require.Nil(t, submitter(draft.Id.String()))

	self := b.do(http.MethodPost, "/v1/support-plans/"+submitted.Id.String()+"/approve", b.reader("user-practitioner", "approver"),
		map[string]any{"checks": allChecks, "difference_reason": "x"}, "If-Match", tag)
	require.Equal(t, "urn:pbudget:problem:approver-is-submitter", self.problem(t).Type)
	var st api.CouncilSettings
	b.do(http.MethodGet, "/v1/council/settings", b.token("approver"), nil).decode(t, &st)
	require.True(t, st.ApproverMustDifferFromSubmitter, "on for councils whose settings were stored before")
}
