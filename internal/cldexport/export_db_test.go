package cldexport_test

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"os"
	"testing"
	"time"

	"github.com/google/uuid"
	"github.com/stretchr/testify/require"

	"github.com/pbudget/pbudget/internal/cld/cldtest"

	"github.com/pbudget/pbudget/internal/actor"
	"github.com/pbudget/pbudget/internal/app"
	"github.com/pbudget/pbudget/internal/cld"
	"github.com/pbudget/pbudget/internal/cldexport"
	"github.com/pbudget/pbudget/internal/jobs"
	"github.com/pbudget/pbudget/internal/postgres"
	"github.com/pbudget/pbudget/internal/testdb"
)

func TestMain(m *testing.M) { os.Exit(testdb.Run(m)) }

// services are the app's services on the test database, with a queue that only inserts jobs: the
// tests run the exports' builds themselves.
func services(tb testing.TB) (app.Services, *postgres.DB) {
	tb.Helper()
	db := testdb.DB(tb)
	q, err := jobs.New(db.SQL(), testdb.Logger(), jobs.Config{})
	require.NoError(tb, err)
	return app.Build(db, testdb.Logger(), time.Now, q), db
}

// newCouncil makes a council and an actor of it with the roles an export needs.
func newCouncil(tb testing.TB, svc app.Services) actor.Actor {
	tb.Helper()
	c, err := svc.Councils.Ensure(context.Background(), "cld-"+uuid.NewString()[:8], "CLD test")
	require.NoError(tb, err)
	return actor.Actor{Subject: "cld-officer", CouncilID: c.ID, Roles: []actor.Role{actor.CouncilAdmin, actor.Auditor}}
}

// seedQuarter writes the records behind testdata/2026-Q2.expected straight into the tables, with
// the ids the file names (each table's key leads with the council, so the ids are free in a new
// council).
func seedQuarter(t *testing.T, db *postgres.DB, council uuid.UUID) {
	t.Helper()
	exec := func(q string, args ...any) {
		t.Helper()
		_, err := db.SQL().Exec(q, append([]any{council}, args...)...)
		require.NoError(t, err, q)
	}
	const (
		p1, p2, p3, p4 = "a0000000-0000-4000-8000-000000000001", "a0000000-0000-4000-8000-000000000002", "a0000000-0000-4000-8000-000000000003", "a0000000-0000-4000-8000-000000000004"
		b1, b2, b3, b4 = "f0000000-0000-4000-8000-000000000001", "f0000000-0000-4000-8000-000000000002", "f0000000-0000-4000-8000-000000000003", "f0000000-0000-4000-8000-000000000004"
		pl1, pl2, pl3  = "d0000000-0000-4000-8000-000000000001", "d0000000-0000-4000-8000-000000000002", "d0000000-0000-4000-8000-000000000003"
		pl3r, pl4      = "d0000000-0000-4000-8000-000000000033", "d0000000-0000-4000-8000-000000000004"
		provider       = "90000000-0000-4000-8000-000000000001"
	)
	person := func(id, dob, kind string, nhs, postcode *string) {
		var line1, town *string
		if postcode != nil {
			l, tw := "1 High Street", "Luton"
			line1, town = &l, &tw
		}
		exec(`INSERT INTO people (council_id, id, given_name, family_name, date_of_birth, person_type, nhs_number, address_line1, address_town,
			address_postcode, created_at, updated_at) VALUES ($1, $2, 'Seeded', 'Person', $3, $4, $5, $6, $7, $8, '2026-01-05T09:00:00Z', '2026-01-05T09:00:00Z')`,
			id, dob, kind, nhs, line1, town, postcode)
	}
	s := func(v string) *string { return &v }
	person(p1, "1950-03-14", "adult", s("9434765919"), s("LU1 2AB"))
	person(p2, "1988-11-30", "adult", nil, nil)
	person(p3, "1960-05-05", "adult", s("4010232137"), s("LU2 7GH"))
	person(p4, "2014-01-01", "child", s("9876543210"), s("LU3 1AA"))
	exec(`INSERT INTO providers (council_id, id, name, type, contract_basis, active, version, created_at, updated_at)
		VALUES ($1, $2, 'Day Opportunities Ltd', 'isf_provider', 'framework', true, 1, now(), now())`, provider)
	for _, b := range [][2]string{{b1, p1}, {b2, p2}, {b3, p3}, {b4, p4}} {
		exec(`INSERT INTO personal_budgets (council_id, id, person_id, kind, status, start_date, version, created_at, updated_at)
			VALUES ($1, $2, $3, 'care_and_support', 'agreed', '2026-04-01', 1, now(), now())`, b[0], b[1])
	}
	plan := func(id, budget, person string, number int, status, approvedAt string, revises *string) {
		exec(`INSERT INTO support_plans (council_id, id, budget_id, person_id, number, status, revises_id, annual_cost_pence, approved_at, approved_by,
			sign_off_checks, version, created_at, updated_at) VALUES ($1, $2, $3, $4, $5, $6, $7, 0, $8, 'approver', '{}', 1, $8, $8)`,
			id, budget, person, number, status, revises, approvedAt)
	}
	plan(pl1, b1, p1, 1, "approved", "2026-03-20T10:00:00Z", nil)
	plan(pl2, b2, p2, 1, "approved", "2026-03-20T10:00:00Z", nil)
	plan(pl3, b3, p3, 1, "superseded", "2026-04-25T10:00:00Z", nil)
	plan(pl3r, b3, p3, 2, "approved", "2026-07-15T09:00:00Z", s(pl3)) // 10:00 in London on 15 July
	plan(pl4, b4, p4, 1, "approved", "2026-03-20T10:00:00Z", nil)
	line := func(n int, planID string, pos int, category, option, unit string, pence, qty int64, freq, from, to string, prov *string) {
		exec(`INSERT INTO plan_lines (council_id, id, plan_id, position, category, description, provider_id, unit_cost_pence, unit, quantity_hundredths,
			frequency, start_date, end_date, management_option, annual_cost_pence, weekly_cost_pence)
			VALUES ($1, $2, $3, $4, $5, $5, $6, $7, $8, $9, $10, $11, $12, $13, 0, 0)`,
			"c0000000-0000-4000-8000-00000000000"+string(rune('0'+n)), planID, pos, category, prov, pence, unit, qty, freq, from, to, option)
	}
	line(1, pl1, 1, "home_care", "council_managed", "hour", 2100, 1400, "per_week", "2026-04-01", "2027-04-01", nil)
	line(2, pl1, 2, "personal_assistant", "direct_payment", "hour", 1550, 1050, "per_week", "2026-04-01", "2027-04-01", nil)
	line(3, pl1, 3, "day_service", "isf", "session", 4500, 200, "per_week", "2026-04-01", "2027-04-01", s(provider))
	line(4, pl1, 4, "equipment_minor", "council_managed", "one_off", 8000, 100, "once", "2026-04-01", "2026-07-01", nil) // ended 30 June
	line(5, pl2, 1, "care_home_respite", "direct_payment", "night", 12000, 700, "per_year", "2026-04-01", "2027-04-01", nil)
	line(6, pl2, 2, "home_care", "council_managed", "hour", 2100, 700, "per_week", "2026-10-01", "2027-04-01", nil) // after the quarter
	line(7, pl3, 1, "home_care", "council_managed", "hour", 2100, 700, "per_week", "2026-05-01", "2027-05-01", nil)
	line(8, pl3r, 1, "home_care", "council_managed", "hour", 2100, 1000, "per_week", "2026-07-15", "2027-05-01", nil)
	line(9, pl4, 1, "child_short_break", "direct_payment", "night", 15000, 200, "per_month", "2026-04-01", "2027-04-01", nil)
	asm := func(id, person, created, completed string) {
		exec(`INSERT INTO assessments (council_id, id, person_id, type, basis, status, practitioner, eligibility, eligible, completed_at, completed_by,
			version, created_at, updated_at) VALUES ($1, $2, $3, 'needs', 'needs', 'completed', 'a practitioner', '{}', true, $4, 'a practitioner', 2, $5, $4)`,
			id, person, completed, created)
	}
	asm("b0000000-0000-4000-8000-000000000001", p1, "2026-06-20T09:00:00Z", "2026-07-02T23:30:00Z") // 00:30 on 3 July in London
	asm("b0000000-0000-4000-8000-000000000002", p2, "2026-06-01T09:00:00Z", "2026-06-30T22:30:00Z") // 23:30 on 30 June in London
	review := func(id, person, planID, held, reason, outcomes string) {
		exec(`INSERT INTO reviews (council_id, id, person_id, plan_id, held_on, reviewer, reason, outcomes, achievement, needs_changed, decision, next_due,
			recorded_by, created_at) VALUES ($1, $2, $3, $4, $5, 'a practitioner', $6, $7, '', false, 'no_change', $5::date + 365, 'a practitioner', now())`,
			id, person, planID, held, reason, outcomes)
	}
	review("e0000000-0000-4000-8000-000000000001", p1, pl1, "2026-08-20", "planned", `[{"outcome":0,"rating":"achieved"},{"outcome":1,"rating":"partly_achieved"}]`)
	review("e0000000-0000-4000-8000-000000000002", p3, pl3r, "2026-09-30", "safeguarding", `[]`)
}

// export requests the quarter's return and builds it as its job would, and downloads the file
// and the validation report.
func export(t *testing.T, svc app.Services, a actor.Actor, q cld.Quarter) (cldexport.Export, []byte, []byte) {
	t.Helper()
	ctx := context.Background()
	e, err := svc.CLD.Create(ctx, a, cldexport.Request{Quarter: q, LACode: "E06000032"})
	require.NoError(t, err)
	require.NoError(t, svc.CLD.Build(ctx, a.CouncilID, e.ID))
	e, data, err := svc.CLD.Download(ctx, a, e.ID, false)
	require.NoError(t, err)
	_, issues, err := svc.CLD.Download(ctx, a, e.ID, true)
	require.NoError(t, err)
	return e, data, issues
}

// A quarter seeded into the database — lines in force, one ended before the quarter, one starting
// after it, a revised plan, assessments either side of the quarter's first day in London time, a
// child — exported through the service is, field by field, the return written by hand.
func TestASeededQuarterExportsExactlyTheHandWrittenReturn(t *testing.T) {
	t.Parallel()
	svc, db := services(t)
	a := newCouncil(t, svc)
	seedQuarter(t, db, a.CouncilID)

	e, data, issues := export(t, svc, a, cld.Quarter{Year: 2026, Q: 2})
	require.Equal(t, cldexport.Done, e.Status)
	sum := sha256.Sum256(data)
	require.Equal(t, hex.EncodeToString(sum[:]), e.SHA256, "the SHA-256 is the downloaded file's (stored compressed, given back as written)")
	cldtest.RequireMatches(t, "testdata/2026-Q2.expected", data)
	require.Equal(t, map[cld.EventType]int{cld.EventAssessment: 1, cld.EventService: 6, cld.EventReview: 2}, e.Rows)
	require.Equal(t, 4, e.PeopleDone, "every person with an event in the quarter is read; the writer leaves the child out")

	// The validation report: what the council must fix before submitting.
	report := cldtest.ReadCSV(t, issues)
	require.Equal(t, cld.IssueHeader, report[0])
	byCode := map[string][]string{}
	for _, r := range report[1:] {
		byCode[r[0]] = append(byCode[r[0]], r[2])
	}
	require.Equal(t, map[string][]string{
		"missing-service-component": {"SRV-c0000000-0000-4000-8000-000000000002", "SRV-c0000000-0000-4000-8000-000000000003"},
		"missing-nhs-number":        {"SRV-c0000000-0000-4000-8000-000000000005"},
		"missing-postcode":          {"SRV-c0000000-0000-4000-8000-000000000005"},
	}, byCode)
	require.Equal(t, map[string]int{"missing-service-component": 2, "missing-nhs-number": 1, "missing-postcode": 1}, e.IssuesByCode)

	// Reproducible: the same quarter exported again is the same bytes.
	again, data2, _ := export(t, svc, a, cld.Quarter{Year: 2026, Q: 2})
	require.Equal(t, data, data2)
	require.Equal(t, e.SHA256, again.SHA256)
	// The quarter before holds only what ended or was completed in it.
	q1, _, _ := export(t, svc, a, cld.Quarter{Year: 2026, Q: 1})
	require.Equal(t, map[cld.EventType]int{cld.EventAssessment: 1, cld.EventService: 6, cld.EventReview: 0}, q1.Rows)
}
