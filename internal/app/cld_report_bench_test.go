package app_test

import (
	"context"
	"database/sql"
	"os"
	"runtime"
	"slices"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/google/uuid"
	_ "github.com/jackc/pgx/v5/stdlib"
	"github.com/stretchr/testify/require"

	"github.com/pbudget/pbudget/internal/actor"
	"github.com/pbudget/pbudget/internal/app"
	"github.com/pbudget/pbudget/internal/cld"
	"github.com/pbudget/pbudget/internal/cldexport"
	"github.com/pbudget/pbudget/internal/date"
	"github.com/pbudget/pbudget/internal/postgres"
	"github.com/pbudget/pbudget/internal/testdb"
)

// seedPeopleWithPlans writes n people straight into the tables (set-based, in SQL: the API would
// take many minutes), each with an open budget and its version, an approved plan with three lines
// in force from 1 April 2026 for a year (the options and categories rotating), a needs assessment
// completed on 10 July 2026 and a review held on 15 August 2026; one person in ten has no NHS
// number. The ids are derived from the council and the person's number.
func seedPeopleWithPlans(tb testing.TB, db *postgres.DB, councilID uuid.UUID, n int) {
	tb.Helper()
	ctx := context.Background()
	provider := uuid.Must(uuid.NewV7())
	_, err := db.SQL().ExecContext(ctx, `INSERT INTO providers (council_id, id, name, type, contract_basis, active, version, created_at, updated_at)
		VALUES ($1, $2, 'Bench ISF', 'isf_provider', 'framework', true, 1, now(), now())`, councilID, provider)
	require.NoError(tb, err)
	stmts := []string{
		`INSERT INTO people (council_id, id, given_name, family_name, date_of_birth, person_type, nhs_number, address_line1, address_town,
			address_postcode, created_at, updated_at)
			SELECT $1::uuid, md5($1::uuid::text || ':p:' || i)::uuid, 'Bench', 'Person', date '1940-01-01' + (i % 20000), 'adult',
			       CASE WHEN i % 10 = 0 THEN NULL ELSE '1' || lpad(i::text, 9, '0') END, '1 High Street', 'Luton', 'LU1 2AB', now(), now()
			  FROM generate_series(1, $2::int) AS i`,
		`INSERT INTO personal_budgets (council_id, id, person_id, kind, status, start_date, version, created_at, updated_at)
			SELECT $1::uuid, md5($1::uuid::text || ':b:' || i)::uuid, md5($1::uuid::text || ':p:' || i)::uuid, 'care_and_support', 'agreed', '2026-04-01', 1, now(), now()
			  FROM generate_series(1, $2::int) AS i`,
		`INSERT INTO personal_budget_versions (council_id, id, budget_id, person_id, number, status, change, reason, indicative_annual_pence,
			ceiling_annual_pence, annual_cost_pence, weekly_cost_pence, created_at, created_by)
			SELECT $1::uuid, md5($1::uuid::text || ':v:' || i)::uuid, md5($1::uuid::text || ':b:' || i)::uuid, md5($1::uuid::text || ':p:' || i)::uuid, 1, 'agreed', 'issued',
			       'bench', 1000000 + i, 1000000 + i, 1000000 + i, (1000000 + i + 26) / 52, now(), 'bench'
			  FROM generate_series(1, $2::int) AS i`,
		`INSERT INTO support_plans (council_id, id, budget_id, person_id, number, status, annual_cost_pence, approved_at, approved_by, sign_off_checks,
			version, created_at, updated_at)
			SELECT $1::uuid, md5($1::uuid::text || ':pl:' || i)::uuid, md5($1::uuid::text || ':b:' || i)::uuid, md5($1::uuid::text || ':p:' || i)::uuid, 1, 'approved',
			       1000000, '2026-03-20T10:00:00Z', 'bench', '{}', 1, now(), now()
			  FROM generate_series(1, $2::int) AS i`,
		`INSERT INTO plan_lines (council_id, id, plan_id, position, category, description, provider_id, unit_cost_pence, unit, quantity_hundredths,
			frequency, start_date, end_date, management_option, annual_cost_pence, weekly_cost_pence)
			SELECT $1::uuid, md5($1::uuid::text || ':l:' || i || ':' || k)::uuid, md5($1::uuid::text || ':pl:' || i)::uuid, k,
			       (ARRAY['home_care', 'personal_assistant', 'day_service', 'care_home_respite', 'carer_break', 'transport'])[1 + (i + k) % 6], 'bench',
			       CASE WHEN (i + k) % 3 = 2 THEN $3::uuid END, 1500 + i % 3000, (ARRAY['hour', 'session', 'night'])[k], 100 * k, 'per_week',
			       '2026-04-01', '2027-04-01', (ARRAY['council_managed', 'direct_payment', 'isf'])[1 + (i + k) % 3], 300000, 5770
			  FROM generate_series(1, $2::int) AS i, generate_series(1, 3) AS k`,
		`INSERT INTO assessments (council_id, id, person_id, type, basis, status, practitioner, eligibility, eligible, completed_at, completed_by,
			version, created_at, updated_at)
			SELECT $1::uuid, md5($1::uuid::text || ':a:' || i)::uuid, md5($1::uuid::text || ':p:' || i)::uuid, 'needs', 'needs', 'completed', 'bench', '{}', true,
			       '2026-07-10T10:00:00Z', 'bench', 2, '2026-06-25T10:00:00Z', '2026-07-10T10:00:00Z'
			  FROM generate_series(1, $2::int) AS i`,
		`INSERT INTO reviews (council_id, id, person_id, plan_id, held_on, reviewer, reason, outcomes, achievement, needs_changed, decision, next_due,
			recorded_by, created_at)
			SELECT $1::uuid, md5($1::uuid::text || ':r:' || i)::uuid, md5($1::uuid::text || ':p:' || i)::uuid, md5($1::uuid::text || ':pl:' || i)::uuid, '2026-08-15', 'bench',
			       'planned', '[{"outcome":0,"rating":"achieved"}]', '', false, 'no_change', '2027-08-15', 'bench', now()
			  FROM generate_series(1, $2::int) AS i`,
		`INSERT INTO review_schedules (council_id, person_id, due_date, window_start, rule, plan_id, aligns, practitioner, computed_at)
			SELECT $1::uuid, md5($1::uuid::text || ':p:' || i)::uuid, date '2026-11-01' + (i % 120), date '2026-10-01', 'plan_review',
			       md5($1::uuid::text || ':pl:' || i)::uuid, '[]', 'bench', now()
			  FROM generate_series(1, $2::int) AS i`,
	}
	for _, q := range stmts {
		args := []any{councilID, n}
		if strings.Contains(q, "$3") {
			args = append(args, provider)
		}
		_, err := db.SQL().ExecContext(ctx, q, args...)
		require.NoError(tb, err, q)
	}
	// Statistics, as autovacuum gathers them after a load: only the tables' owner may ANALYZE (the
	// runtime role is skipped with a warning), and without them the planner takes the council
	// for a handful of rows and probes an index for each of 100,000.
	owner, err := sql.Open("pgx", testdb.OwnerDSN())
	require.NoError(tb, err)
	defer owner.Close()
	_, err = owner.ExecContext(ctx, `ANALYZE people, personal_budgets, personal_budget_versions, support_plans, plan_lines, assessments, reviews, review_schedules`)
	require.NoError(tb, err)
}

// peakHeap samples the heap in use every few milliseconds until stop is called, and returns the
// highest it saw.
func peakHeap() (stop func() uint64) {
	var peak atomic.Uint64
	done := make(chan struct{})
	var wg sync.WaitGroup
	wg.Add(1)
	go func() {
		defer wg.Done()
		t := time.NewTicker(5 * time.Millisecond)
		defer t.Stop()
		for {
			var m runtime.MemStats
			runtime.ReadMemStats(&m)
			if m.HeapInuse > peak.Load() {
				peak.Store(m.HeapInuse)
			}
			select {
			case <-done:
				return
			case <-t.C:
			}
		}
	}()
	return func() uint64 { close(done); wg.Wait(); return peak.Load() }
}

func benchN(env string, def int) int {
	if v, err := strconv.Atoi(os.Getenv(env)); err == nil && v > 0 {
		return v
	}
	return def
}

// BenchmarkCLDExport20000 is the issue's benchmark: the quarter's CLD return of a council of
// CLD_N (default 20,000) people with three lines each (60,000), an assessment and a review each,
// seeded into the database, built by the export's job (the set-based reads in batches of 500
// people, the writer, the file stored), timed end to end, with the heap in use sampled throughout.
//
//	go test -run X -bench CLDExport -benchtime 1x ./internal/app/
func BenchmarkCLDExport20000(b *testing.B) {
	n := benchN("CLD_N", 20_000)
	ctx := context.Background()
	db := testdb.DB(b)
	svc := app.Build(db, testdb.Logger(), time.Now, insertOnlyQueue(b))
	c, err := svc.Councils.Ensure(ctx, "cldb-"+uuid.NewString()[:8], "CLD bench")
	require.NoError(b, err)
	a := actor.Actor{Subject: "bench", CouncilID: c.ID, Roles: []actor.Role{actor.CouncilAdmin}}
	began := time.Now()
	seedPeopleWithPlans(b, db, c.ID, n)
	b.Logf("seeded %d people, %d lines in %s", n, 3*n, time.Since(began).Round(time.Millisecond))
	for range b.N {
		e, err := svc.CLD.Create(ctx, a, cldexport.Request{Quarter: cld.Quarter{Year: 2026, Q: 2}, LACode: "E06000032"})
		require.NoError(b, err)
		runtime.GC()
		var before runtime.MemStats
		runtime.ReadMemStats(&before)
		stop := peakHeap()
		start := time.Now()
		require.NoError(b, svc.CLD.Build(ctx, c.ID, e.ID))
		took := time.Since(start)
		peak := stop()
		var after runtime.MemStats
		runtime.ReadMemStats(&after)
		got, err := svc.CLD.Get(ctx, a, e.ID)
		require.NoError(b, err)
		require.Equal(b, cldexport.Done, got.Status)
		require.Equal(b, 3*n, got.Rows[cld.EventService])
		_, data, err := svc.CLD.Download(ctx, a, e.ID, false)
		require.NoError(b, err)
		b.Logf("export: %d people, rows %v, %d issues, file %.1f MB; %s; peak heap in use %.1f MB (%.1f MB before), %.0f MB allocated",
			got.PeopleDone, got.Rows, got.IssueCount, float64(len(data))/(1<<20), took.Round(time.Millisecond),
			float64(peak)/(1<<20), float64(before.HeapInuse)/(1<<20), float64(after.TotalAlloc-before.TotalAlloc)/(1<<20))
		b.ReportMetric(took.Seconds(), "s/export")
		b.ReportMetric(float64(peak)/(1<<20), "peak-heap-MB")
	}
}

// BenchmarkWeeklyReport100000 is the issue's benchmark: the weekly report of a council of
// REPORT_N (default 100,000) open budgets, each with an approved plan of three lines and a next
// review, computed REPORT_RUNS (default 21) times; it reports the median and the slowest.
//
//	go test -run X -bench WeeklyReport -benchtime 1x ./internal/app/
func BenchmarkWeeklyReport100000(b *testing.B) {
	n := benchN("REPORT_N", 100_000)
	runs := benchN("REPORT_RUNS", 21)
	ctx := context.Background()
	db := testdb.DB(b)
	svc := app.Build(db, testdb.Logger(), time.Now, insertOnlyQueue(b))
	c, err := svc.Councils.Ensure(ctx, "repb-"+uuid.NewString()[:8], "Report bench")
	require.NoError(b, err)
	a := actor.Actor{Subject: "bench", CouncilID: c.ID, Roles: []actor.Role{actor.CouncilAdmin}}
	began := time.Now()
	seedPeopleWithPlans(b, db, c.ID, n)
	b.Logf("seeded %d budgets, %d lines in %s", n, 3*n, time.Since(began).Round(time.Millisecond))
	on := date.Of(2026, 12, 2)
	for range b.N {
		times := make([]time.Duration, runs)
		for i := range times {
			start := time.Now()
			w, err := svc.Reports.Weekly(ctx, a, &on)
			times[i] = time.Since(start)
			require.NoError(b, err)
			require.Equal(b, n, w.PeopleWithBudget)
			require.Equal(b, n, w.PeopleWithPlan)
			require.Equal(b, n, w.Budgets.Count)
		}
		slices.Sort(times)
		median := times[len(times)/2]
		b.Logf("weekly report at %d budgets, %d runs: median %s, fastest %s, slowest %s", n, runs,
			median.Round(time.Millisecond), times[0].Round(time.Millisecond), times[len(times)-1].Round(time.Millisecond))
		b.ReportMetric(float64(median.Microseconds())/1000, "median-ms")
		b.ReportMetric(float64(times[len(times)-1].Microseconds())/1000, "max-ms")
	}
	// Each figure's query alone (the median of 5), to say where the time goes.
	store := postgres.NewReportStore(db)
	figures := []struct {
		name string
		run  func() error
	}{
		{"people and modes", func() error { _, _, _, _, err := store.People(ctx, c.ID, on); return err }},
		{"budgets", func() error { _, err := store.Budgets(ctx, c.ID); return err }},
		{"payments", func() error { _, err := store.Payments(ctx, c.ID, date.Of(2026, 4, 1), on); return err }},
		{"reviews", func() error { _, err := store.Reviews(ctx, c.ID, on); return err }},
	}
	for _, f := range figures {
		times := make([]time.Duration, 5)
		for i := range times {
			start := time.Now()
			require.NoError(b, f.run())
			times[i] = time.Since(start)
		}
		slices.Sort(times)
		b.Logf("  %s: median %s", f.name, times[2].Round(time.Millisecond))
	}
}
