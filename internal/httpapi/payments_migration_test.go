package httpapi_test

import (
	"context"
	"net/http"
	"testing"

	"github.com/pressly/goose/v3"
	"github.com/stretchr/testify/require"

	"github.com/pbudget/pbudget/migrations"
)

// Migration 00012 applies to a database holding agreements made before it: each gets its first
// amount, from its start, and it goes down and up again cleanly.
func TestMigration12GivesExistingAgreementsTheirFirstAmount(t *testing.T) {
	t.Parallel()
	b, sqlDB := privateBundle(t)
	ctx := context.Background()
	b.activeRAS("needs", 72_800)
	pb := b.budgetOfNewPerson()
	isf := b.provider("isf_provider")
	plan, tag := b.planWith(pb, lineBody("personal_assistant", "direct_payment", 1_500, "10", pb), lineBody("day_service", "isf", 7_500, "1", pb, "provider_id", isf.Id))
	b.approve(plan, b.submit(plan, tag))
	r := b.do(http.MethodPost, "/v1/direct-payment-agreements", b.token("finance"), map[string]any{"plan_id": plan.Id, "recipient": "person",
		"account_type": "separate_bank_account", "payment_basis": "gross", "frequency": "four_weekly", "start_date": "2026-04-06"})
	require.Equal(t, http.StatusCreated, r.Status, string(r.Body))
	r = b.do(http.MethodPost, "/v1/isf-agreements", b.token("finance"), map[string]any{"plan_id": plan.Id, "provider_id": isf.Id,
		"payment_frequency": "monthly", "statement_frequency": "monthly", "start_date": "2026-04-06"})
	require.Equal(t, http.StatusCreated, r.Status, string(r.Body))

	p, err := goose.NewProvider(goose.DialectPostgres, sqlDB, migrations.FS)
	require.NoError(t, err)
	_, err = p.DownTo(ctx, 11)
	require.NoError(t, err)
	var exists bool
	require.NoError(t, sqlDB.QueryRow(`SELECT to_regclass('payment_lines') IS NOT NULL`).Scan(&exists))
	require.False(t, exists)
	_, err = p.Up(ctx)
	require.NoError(t, err)
	var amounts int
	require.NoError(t, sqlDB.QueryRow(`SELECT count(*) FROM payment_agreement_amounts WHERE council_id = $1 AND reason = 'agreement created'
		AND effective_from = '2026-04-06'`, b.council.ID).Scan(&amounts))
	require.Equal(t, 2, amounts, "one for each agreement, from its start")
}
