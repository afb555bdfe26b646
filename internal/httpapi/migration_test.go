package httpapi_test

import (
	"context"
	"crypto"
	"database/sql"
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

// privateBundle is a bundle on a database of its own, for tests that change the schema: the
// service runs as the runtime role; the returned pool is the owner role, which migrates.
func privateBundle(t *testing.T) (*bundle, *sql.DB) {
	t.Helper()
	shared := setup(t) // the key and the spec router
	ctx := context.Background()
	name, err := testdb.Create(ctx)
	require.NoError(t, err)
	t.Cleanup(func() { _ = testdb.Drop(context.Background(), name) })
	require.NoError(t, testdb.Migrate(ctx, name))
	owner, err := sql.Open("pgx", testdb.OwnerURL(name))
	require.NoError(t, err)
	t.Cleanup(func() { owner.Close() })
	db, err := postgres.Open(ctx, testdb.RuntimeURL(name), 4, testdb.Logger())
	require.NoError(t, err)
	t.Cleanup(func() { db.Close() })
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
	return &bundle{t: t, e: e, db: db, key: shared.key, council: ours, other: other, access: w}, owner
}

// TestMigration5TidiesWhatTheOldRulesAllowed: migration 00005 adds one-approved-plan and
// one-agreement constraints; on a database where the old code left two approved plans, it keeps the
// latest; on duplicate agreements it stops with a message saying what to do, changing nothing.
func TestMigration5TidiesWhatTheOldRulesAllowed(t *testing.T) {
	t.Parallel()
	b, sqlDB := privateBundle(t)
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

	p, err := goose.NewProvider(goose.DialectPostgres, sqlDB, migrations.FS)
	require.NoError(t, err)
	_, err = p.DownTo(ctx, 4)
	require.NoError(t, err)
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
	_, runtimeRole := testdb.Roles()
	require.NoError(t, postgres.GrantRuntime(ctx, sqlDB, runtimeRole), "as pbudget migrate does after migrating")
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
	b, sqlDB := privateBundle(t)
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

	p, err := goose.NewProvider(goose.DialectPostgres, sqlDB, migrations.FS)
	require.NoError(t, err)
	_, err = p.DownTo(ctx, 5)
	require.NoError(t, err)
	_, err = p.Up(ctx)
	require.NoError(t, err)
	_, runtimeRole := testdb.Roles()
	require.NoError(t, postgres.GrantRuntime(ctx, sqlDB, runtimeRole), "as pbudget migrate does after migrating: the tables made again")
	submitter := func(id string) *string {
		var s *string
		require.NoError(t, sqlDB.QueryRow(`SELECT submitted_by FROM support_plans WHERE council_id = $1 AND id = $2`, b.council.ID, id).Scan(&s))
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

// TestMigration6AppliesOverExistingChargingData: migration 00006 adds the rounding of rate tables
// (down for existing ones, in force or not), the pension age override and the disregard check; a
// draft's old pension_credit_age_reached flag, no longer read, is cleared, a completed
// assessment's kept; a result stored before it reads as rounded down, with no pension age facts.
func TestMigration6AppliesOverExistingChargingData(t *testing.T) {
	t.Parallel()
	b, sqlDB := privateBundle(t)
	ctx := context.Background()
	table := b.rateTable("2025-04-06", 11_250)
	p := b.newPerson(map[string]any{"date_of_birth": "1995-03-01"})
	done := b.financial(p.Id.String(), workedExample("2025-06-01"))
	draft, _ := b.draft(p.Id.String(), workedExample("2025-07-01"))

	pr, err := goose.NewProvider(goose.DialectPostgres, sqlDB, migrations.FS)
	require.NoError(t, err)
	_, err = pr.DownTo(ctx, 5)
	require.NoError(t, err)
	// What the old code stored: the caller's flag on both, results without roundings or pension age.
	for _, stmt := range []string{
		`UPDATE financial_assessments SET pension_credit_age_reached = false WHERE council_id = $1`,
		`UPDATE financial_assessments SET result = result - 'taper_rounding' - 'pension_credit_age' WHERE council_id = $1 AND result IS NOT NULL`,
	} {
		_, err = sqlDB.Exec(stmt, b.council.ID)
		require.NoError(t, err, stmt)
	}

	_, err = pr.UpTo(ctx, 6)
	require.NoError(t, err)
	var rounding string
	require.NoError(t, sqlDB.QueryRow(`SELECT rounding FROM rate_tables WHERE council_id = $1 AND id = $2`, b.council.ID, table.Id).Scan(&rounding))
	require.Equal(t, "down", rounding, "a table in force keeps the rounding it was used with")
	var draftFlag, doneFlag *bool
	require.NoError(t, sqlDB.QueryRow(`SELECT pension_credit_age_reached FROM financial_assessments WHERE council_id = $1 AND id = $2`, b.council.ID, draft.Id).Scan(&draftFlag))
	require.Nil(t, draftFlag, "a draft's flag is no longer the caller's to set")
	require.NoError(t, sqlDB.QueryRow(`SELECT pension_credit_age_reached FROM financial_assessments WHERE council_id = $1 AND id = $2`, b.council.ID, done.Id).Scan(&doneFlag))
	require.NotNil(t, doneFlag, "a completed assessment keeps what it used")
	_, err = sqlDB.Exec(`UPDATE financial_assessments SET income = '[{"type":"attendance_allowance","weekly_pence":100,"disregarded_pence":101}]'
		WHERE council_id = $1 AND id = $2`, b.council.ID, draft.Id)
	require.ErrorContains(t, err, "financial_assessments_disregard_within_item")
	_, err = sqlDB.Exec(`UPDATE financial_assessments SET pension_credit_age_override = true WHERE council_id = $1 AND id = $2`, b.council.ID, draft.Id)
	require.ErrorContains(t, err, "financial_assessments_override_has_reason")

	_, err = pr.Up(ctx)
	require.NoError(t, err)
	var old api.FinancialAssessment
	b.do(http.MethodGet, "/v1/financial-assessments/"+done.Id.String(), b.token("finance"), nil).decode(t, &old)
	require.True(t, old.PensionCreditAge.IsNull(), "calculated before pension age was derived")
	require.Equal(t, api.ChargeRoundingDown, old.Result.MustGet().TaperRounding)
	require.Equal(t, int64(19_660), old.Result.MustGet().AssessedWeeklyChargePence)
}

// TestMigration9FailsTheJobsTheOldWorkerLeftOpen: after migration 00009 nothing runs a job queued
// by the hand-written worker, so it is failed with a message saying what to do, and the table can
// be uprated again.
func TestMigration9FailsTheJobsTheOldWorkerLeftOpen(t *testing.T) {
	t.Parallel()
	b, sqlDB := privateBundle(t)
	ctx := context.Background()
	b.rateTable("2025-04-06", 11_250)
	next := b.rateTable(daysFromToday(40), 11_700)
	later := b.rateTable(daysFromToday(400), 11_900)
	p, err := goose.NewProvider(goose.DialectPostgres, sqlDB, migrations.FS)
	require.NoError(t, err)
	_, err = p.DownTo(ctx, 8)
	require.NoError(t, err)
	// What the old code left: a job queued, and one that a stopped instance had claimed.
	for table, claim := range map[string]string{next.Id.String(): "'queued', NULL", later.Id.String(): "'running', gen_random_uuid()"} {
		_, err = sqlDB.Exec(`INSERT INTO uprating_jobs (council_id, id, rate_table_id, status, claim_token, lease_until, requested_by, requested_at)
			VALUES ($1, gen_random_uuid(), $2, `+claim+`, now(), 'someone', now())`, b.council.ID, table)
		require.NoError(t, err)
	}
	_, err = p.Up(ctx)
	require.NoError(t, err)
	var failed int
	var message string
	require.NoError(t, sqlDB.QueryRow(`SELECT count(*), min(error) FROM uprating_jobs WHERE council_id = $1 AND status = 'failed'
		AND finished_at IS NOT NULL`, b.council.ID).Scan(&failed, &message))
	require.Equal(t, 2, failed)
	require.Contains(t, message, "start the uprating again")
	r := b.do(http.MethodPost, "/v1/rate-tables/"+next.Id.String()+"/uprate", b.token("finance"), nil)
	require.Equal(t, http.StatusAccepted, r.Status, string(r.Body))
}
