package app_test

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"fmt"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/google/uuid"
	"github.com/stretchr/testify/require"

	"github.com/pbudget/pbudget/internal/date"
	"github.com/pbudget/pbudget/internal/postgres"
	"github.com/pbudget/pbudget/internal/secret"
)

// helperT is what the fixtures need of a test: a *testing.T, *testing.B or *rapid.T.
type helperT interface {
	require.TestingT
	Helper()
}

// testClock is a settable clock for the services.
type testClock struct {
	mu sync.Mutex
	t  time.Time
}

func (c *testClock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.t
}

func (c *testClock) Set(d date.Date) {
	c.mu.Lock()
	c.t = d.Time().Add(8 * time.Hour)
	c.mu.Unlock()
}

func newKeys(tb testing.TB) *secret.KeyRing {
	key := make([]byte, secret.KeySize)
	_, err := rand.Read(key)
	require.NoError(tb, err)
	ring, err := secret.NewKeyRing("bench", map[string][]byte{"bench": key})
	require.NoError(tb, err)
	return ring
}

// seedAgreement is an agreement the fixture inserts: a person with an open budget and an approved
// plan, and the agreement on it, signed, with confirmed details.
type seedAgreement struct {
	Start     date.Date
	Frequency string // four_weekly, two_weekly, monthly
	Basis     string // net, gross
	Annual    int64
	Card      bool       // a prepaid card, else a bank account
	Provider  *uuid.UUID // an ISF agreement with this provider, else a direct payment
}

// array renders values as a PostgreSQL array literal (every element quoted).
func array(values []string) string {
	var b strings.Builder
	b.WriteByte('{')
	for i, v := range values {
		if i > 0 {
			b.WriteByte(',')
		}
		b.WriteString(`"` + strings.NewReplacer(`\`, `\\`, `"`, `\"`).Replace(v) + `"`)
	}
	b.WriteByte('}')
	return b.String()
}

// insertAgreements writes the agreements straight into the tables, set-based (the API would take
// minutes for 10,000), and returns their ids. Providers get confirmed bank details too.
func insertAgreements(tb helperT, db *postgres.DB, keys *secret.KeyRing, councilID uuid.UUID, specs []seedAgreement) []uuid.UUID {
	tb.Helper()
	ctx := context.Background()
	n := len(specs)
	cols := map[string][]string{}
	add := func(col, v string) { cols[col] = append(cols[col], v) }
	var ids []uuid.UUID
	owners := map[uuid.UUID]bool{}
	var detailsID, detailsDP, detailsProvider, detailsKind, detailsSealed, detailsSort []string
	seal := func(owner uuid.UUID, isDP, card bool, i int) {
		if owners[owner] {
			return
		}
		owners[owner] = true
		id := uuid.Must(uuid.NewV7())
		var sealed []byte
		var err error
		kind, sort := "bank_account", "**-**-34"
		if card {
			kind, sort = "prepaid_card", ""
			sealed, err = keys.SealValue(secret.Last4(fmt.Sprintf("CARD-%08d", i)), secret.Binding{CouncilID: councilID, RecordID: id, Purpose: secret.PurposeCardReference})
		} else {
			sealed, err = keys.SealBankAccount(secret.NewBankAccount("309634", fmt.Sprintf("%08d", i), "A RECIPIENT"), councilID, id)
		}
		require.NoError(tb, err)
		detailsID, detailsKind, detailsSort = append(detailsID, id.String()), append(detailsKind, kind), append(detailsSort, sort)
		detailsSealed = append(detailsSealed, `\x`+hex.EncodeToString(sealed))
		if isDP {
			detailsDP, detailsProvider = append(detailsDP, owner.String()), append(detailsProvider, "")
		} else {
			detailsDP, detailsProvider = append(detailsDP, ""), append(detailsProvider, owner.String())
		}
	}
	for i, s := range specs {
		person, budget, plan, agreement := uuid.Must(uuid.NewV7()), uuid.Must(uuid.NewV7()), uuid.Must(uuid.NewV7()), uuid.Must(uuid.NewV7())
		ids = append(ids, agreement)
		add("person", person.String())
		add("budget", budget.String())
		add("plan", plan.String())
		add("agreement", agreement.String())
		add("start", s.Start.String())
		add("frequency", s.Frequency)
		add("basis", s.Basis)
		add("annual", fmt.Sprint(s.Annual))
		account := "separate_bank_account"
		if s.Card {
			account = "prepaid_card"
		}
		add("account", account)
		if s.Provider != nil {
			add("provider", s.Provider.String())
			seal(*s.Provider, false, false, i)
		} else {
			add("provider", "")
			seal(agreement, true, s.Card, i)
		}
	}
	exec := func(q string, args ...any) {
		_, err := db.SQL().ExecContext(ctx, q, args...)
		require.NoError(tb, err, q)
	}
	now := time.Now().UTC()
	exec(`INSERT INTO people (council_id, id, given_name, family_name, date_of_birth, person_type, created_at, updated_at)
		SELECT $1, p, 'Bench', 'Person', '1960-01-01', 'adult', $3, $3 FROM unnest($2::uuid[]) AS p`, councilID, array(cols["person"]), now)
	exec(`INSERT INTO personal_budgets (council_id, id, person_id, kind, status, start_date, version, created_at, updated_at)
		SELECT $1, b, p, 'care_and_support', 'agreed', s, 1, $5, $5 FROM unnest($2::uuid[], $3::uuid[], $4::date[]) AS u(b, p, s)`,
		councilID, array(cols["budget"]), array(cols["person"]), array(cols["start"]), now)
	exec(`INSERT INTO support_plans (council_id, id, budget_id, person_id, number, status, annual_cost_pence, approved_at, approved_by, sign_off_checks,
		version, created_at, updated_at)
		SELECT $1, pl, b, p, 1, 'approved', a, $6, 'bench', '{}', 1, $6, $6 FROM unnest($2::uuid[], $3::uuid[], $4::uuid[], $5::bigint[]) AS u(pl, b, p, a)`,
		councilID, array(cols["plan"]), array(cols["budget"]), array(cols["person"]), array(cols["annual"]), now)
	exec(`INSERT INTO direct_payment_agreements (council_id, id, plan_id, budget_id, person_id, recipient, recipient_consented, account_type,
		payment_basis, frequency, start_date, signed_date, annual_amount_pence, version, created_at, updated_at)
		SELECT $1, ag, pl, b, p, 'person', false, acct, basis, freq, s, s, a, 1, $11, $11
		  FROM unnest($2::uuid[], $3::uuid[], $4::uuid[], $5::uuid[], $6::text[], $7::text[], $8::text[], $9::date[], $10::bigint[], $12::text[])
		    AS u(ag, pl, b, p, acct, basis, freq, s, a, prov) WHERE prov = ''`,
		councilID, array(cols["agreement"]), array(cols["plan"]), array(cols["budget"]), array(cols["person"]), array(cols["account"]),
		array(cols["basis"]), array(cols["frequency"]), array(cols["start"]), array(cols["annual"]), now, array(cols["provider"]))
	exec(`INSERT INTO isf_agreements (council_id, id, plan_id, budget_id, person_id, provider_id, annual_amount_pence, payment_frequency,
		statement_frequency, start_date, signed_date, version, created_at)
		SELECT $1, ag, pl, b, p, prov::uuid, a, freq, 'monthly', s, s, 1, $9
		  FROM unnest($2::uuid[], $3::uuid[], $4::uuid[], $5::uuid[], $6::text[], $7::date[], $8::bigint[], $10::text[])
		    AS u(ag, pl, b, p, freq, s, a, prov) WHERE prov <> ''`,
		councilID, array(cols["agreement"]), array(cols["plan"]), array(cols["budget"]), array(cols["person"]), array(cols["frequency"]),
		array(cols["start"]), array(cols["annual"]), now, array(cols["provider"]))
	exec(`INSERT INTO payment_agreement_amounts (council_id, id, dp_agreement_id, isf_agreement_id, effective_from, annual_pence, plan_id, reason,
		recorded_by, recorded_at)
		SELECT $1, gen_random_uuid(), CASE WHEN prov = '' THEN ag END, CASE WHEN prov <> '' THEN ag END, s, a, pl, 'agreement created', 'bench', $7
		  FROM unnest($2::uuid[], $3::uuid[], $4::date[], $5::bigint[], $6::text[]) AS u(ag, pl, s, a, prov)`,
		councilID, array(cols["agreement"]), array(cols["plan"]), array(cols["start"]), array(cols["annual"]), array(cols["provider"]), now)
	exec(`INSERT INTO payment_recipient_details (council_id, id, dp_agreement_id, provider_id, kind, sealed, key_id, masked_sort_code, masked_number,
		status, set_by, set_at, set_reason, confirmed_by, confirmed_at)
		SELECT $1, d, nullif(dp, '')::uuid, nullif(pr, '')::uuid, k, s, $7, nullif(sc, ''), '****0000', 'confirmed', 'bench-a', $8, 'bench', 'bench-b', $8
		  FROM unnest($2::uuid[], $3::text[], $4::text[], $5::text[], $6::bytea[], $9::text[]) AS u(d, dp, pr, k, s, sc)`,
		councilID, array(detailsID), array(detailsDP), array(detailsProvider), array(detailsKind), array(detailsSealed), keys.Current(), now, array(detailsSort))
	require.Len(tb, ids, n)
	return ids
}

// insertProviders adds n ISF providers and returns their ids.
func insertProviders(tb helperT, db *postgres.DB, councilID uuid.UUID, n int) []uuid.UUID {
	tb.Helper()
	var ids []uuid.UUID
	var s []string
	for range n {
		id := uuid.Must(uuid.NewV7())
		ids, s = append(ids, id), append(s, id.String())
	}
	_, err := db.SQL().Exec(`INSERT INTO providers (council_id, id, name, type, contract_basis, active, version, created_at, updated_at)
		SELECT $1, p, 'Bench ISF', 'isf_provider', 'framework', true, 1, now(), now() FROM unnest($2::uuid[]) AS p`, councilID, array(s))
	require.NoError(tb, err)
	return ids
}
