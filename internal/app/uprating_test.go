package app_test

import (
	"database/sql"

	"context"
	"fmt"
	_ "github.com/jackc/pgx/v5/stdlib" // the owner role's connection
	"strconv"
	"testing"
	"time"

	"github.com/google/uuid"
	"github.com/stretchr/testify/require"

	"github.com/pbudget/pbudget/internal/actor"
	"github.com/pbudget/pbudget/internal/app"
	"github.com/pbudget/pbudget/internal/charging"
	"github.com/pbudget/pbudget/internal/date"
	"github.com/pbudget/pbudget/internal/jobs"
	"github.com/pbudget/pbudget/internal/person"
	"github.com/pbudget/pbudget/internal/testdb"
)

// testBatch is the batch size of the uprating tests: a job of a few people is a few batches.
const testBatch = 3

// instance is one running instance of the service on the test database: its services and its
// job queue, working until the test ends.
func instance(t *testing.T, name string) app.Services {
	t.Helper()
	db := testdb.DB(t)
	q, err := jobs.New(db.SQL(), testdb.Logger(), jobs.Config{ID: name + "-" + uuid.NewString()[:8], PollInterval: 100 * time.Millisecond})
	require.NoError(t, err)
	svc := app.Build(db, testdb.Logger(), time.Now, q)
	svc.Charging.SetUpratingBatches(charging.UpratingBatches{Size: testBatch})
	ctx, cancel := context.WithCancel(context.Background())
	require.NoError(t, q.Start(ctx, app.WorkerDeps(db, svc)))
	t.Cleanup(func() {
		stopCtx, stop := context.WithTimeout(context.Background(), 10*time.Second)
		defer stop()
		require.NoError(t, q.Stop(stopCtx))
		cancel()
	})
	return svc
}

// councilToUprate makes a council of n people, each with a budget and a full financial
// assessment under England 2025/26, and a 2026/27 table to uprate them with.
func councilToUprate(t *testing.T, svc app.Services, n int) (actor.Actor, charging.RateTable, []uuid.UUID) {
	t.Helper()
	ctx := context.Background()
	c, err := svc.Councils.Ensure(ctx, "up-"+uuid.NewString()[:8], "Uprating test")
	require.NoError(t, err)
	admin := actor.Actor{Subject: "finance-lead", CouncilID: c.ID, Roles: []actor.Role{actor.CouncilAdmin, actor.Finance, actor.Practitioner}}
	_, err = svc.Charging.CreateTable(ctx, admin, charging.England2025())
	require.NoError(t, err)
	seedRAS(t, svc, admin)
	people := make([]uuid.UUID, n)
	for i := range n {
		p, err := svc.People.Create(ctx, admin, person.Input{GivenName: "U", FamilyName: "P" + strconv.Itoa(i),
			DateOfBirth: date.Of(1970, 1, 1), Type: person.Adult}) // below pension age at both tables' dates
		require.NoError(t, err)
		completeNeeds(t, svc, admin, p.ID)
		fa, err := svc.Charging.CreateAssessment(ctx, admin, p.ID, charging.Full, facts(i))
		require.NoError(t, err)
		_, err = svc.Charging.CompleteAssessment(ctx, admin, fa.ID, fa.Version)
		require.NoError(t, err)
		people[i] = p.ID
	}
	next := charging.England2025()
	next.Name, next.ValidFrom = "England 2026/27", date.Of(2026, 4, 6)
	next.MIG.Base[1].Weekly += 450
	table, err := svc.Charging.CreateTable(ctx, admin, next)
	require.NoError(t, err)
	return admin, table, people
}

func waitForJob(t *testing.T, svc app.Services, a actor.Actor, id uuid.UUID) charging.Job {
	t.Helper()
	var j charging.Job
	require.Eventually(t, func() bool {
		var err error
		j, err = svc.Charging.GetJob(context.Background(), a, id)
		require.NoError(t, err)
		return j.Status == charging.Done || j.Status == charging.JobFailed
	}, 60*time.Second, 50*time.Millisecond)
	require.Equal(t, charging.Done, j.Status, j.Error)
	return j
}

// requireRecalculatedOnce checks that every one of people was recalculated with table exactly
// once: one superseded and one current assessment, one report line, one audit event, one
// budget version under the new table.
func requireRecalculatedOnce(t *testing.T, a actor.Actor, job charging.Job, table charging.RateTable, people []uuid.UUID) {
	t.Helper()
	ctx := context.Background()
	db := testdb.DB(t).SQL()
	for _, p := range people {
		var all, current, underNew, lines, events, versions int
		require.NoError(t, db.QueryRowContext(ctx, `SELECT count(*), count(*) FILTER (WHERE status = 'completed'),
			count(*) FILTER (WHERE status = 'completed' AND rate_table_id = $3)
			FROM financial_assessments WHERE council_id = $1 AND person_id = $2`, a.CouncilID, p, table.ID).Scan(&all, &current, &underNew))
		require.NoError(t, db.QueryRowContext(ctx, `SELECT count(*) FROM uprating_changes WHERE council_id = $1 AND job_id = $2 AND person_id = $3`,
			a.CouncilID, job.ID, p).Scan(&lines))
		require.NoError(t, db.QueryRowContext(ctx, `SELECT count(*) FROM audit_events e JOIN financial_assessments f
			ON f.council_id = e.council_id AND f.id = e.entity_id
			WHERE e.council_id = $1 AND e.action = 'financial_assessment.recalculated' AND f.person_id = $2`, a.CouncilID, p).Scan(&events))
		require.NoError(t, db.QueryRowContext(ctx, `SELECT count(*) FROM personal_budget_versions
			WHERE council_id = $1 AND person_id = $2 AND rate_table_id = $3`, a.CouncilID, p, table.ID).Scan(&versions))
		got := fmt.Sprintf("assessments %d, current %d under the new table %d, report lines %d, audit events %d, budget versions %d",
			all, current, underNew, lines, events, versions)
		require.Equal(t, "assessments 2, current 1 under the new table 1, report lines 1, audit events 1, budget versions 1", got, "person %s", p)
	}
	require.Equal(t, len(people), job.Processed)
	require.Equal(t, len(people), job.Total)
}

func TestAnUpratingJobRetriedAfterAFailureCarriesOnAndRecalculatesEachPersonOnce(t *testing.T) {
	t.Parallel()
	svc := instance(t, "retry")
	admin, table, people := councilToUprate(t, svc, 8)
	ctx := context.Background()
	// The trigger is the owner's to create (the service's role may not); the checks read as the service.
	owner, err := sql.Open("pgx", testdb.OwnerDSN())
	require.NoError(t, err)
	t.Cleanup(func() { owner.Close() })
	db := testdb.DB(t).SQL()
	// The report line of one person of the second batch fails once: that batch rolls back and
	// the job fails its first attempt; the batches committed by then stay, and the retry carries
	// on from them.
	suffix := uuid.NewString()[:8]
	for _, stmt := range []string{
		`CREATE SEQUENCE fail_once_` + suffix,
		// SECURITY DEFINER: the service's role, which inserts the report lines, may not use the sequence.
		`CREATE FUNCTION fail_once_` + suffix + `() RETURNS trigger LANGUAGE plpgsql SECURITY DEFINER AS $$
		BEGIN
			IF NEW.person_id = '` + people[4].String() + `' AND nextval('fail_once_` + suffix + `') = 1 THEN
				RAISE EXCEPTION 'injected failure';
			END IF;
			RETURN NEW;
		END $$`,
		`CREATE TRIGGER fail_once_` + suffix + ` BEFORE INSERT ON uprating_changes FOR EACH ROW EXECUTE FUNCTION fail_once_` + suffix + `()`,
	} {
		_, err := owner.ExecContext(ctx, stmt)
		require.NoError(t, err)
	}
	t.Cleanup(func() {
		for _, stmt := range []string{`DROP TRIGGER fail_once_` + suffix + ` ON uprating_changes`,
			`DROP FUNCTION fail_once_` + suffix + `()`, `DROP SEQUENCE fail_once_` + suffix} {
			_, _ = owner.ExecContext(context.Background(), stmt)
		}
	})

	job, err := svc.Charging.StartUprating(ctx, admin, table.ID)
	require.NoError(t, err)
	done := waitForJob(t, svc, admin, job.ID)
	var attempts int
	require.NoError(t, db.QueryRowContext(ctx, `SELECT attempt FROM river_job WHERE kind = 'uprating' AND args->>'job_id' = $1`,
		job.ID.String()).Scan(&attempts))
	require.Equal(t, 2, attempts, "the first attempt failed and River retried the job")
	requireRecalculatedOnce(t, admin, done, table, people)
}

func TestTwoInstancesUprateCouncilsTogetherRecalculatingEachPersonOnce(t *testing.T) {
	t.Parallel()
	a, b := instance(t, "a"), instance(t, "b")
	ctx := context.Background()
	type council struct {
		admin  actor.Actor
		table  charging.RateTable
		people []uuid.UUID
		job    charging.Job
	}
	councils := make([]council, 3)
	for i := range councils {
		c := &councils[i]
		c.admin, c.table, c.people = councilToUprate(t, a, 5)
	}
	for i := range councils {
		c := &councils[i]
		svc := a
		if i%2 == 1 {
			svc = b // requests reach either instance
		}
		var err error
		c.job, err = svc.Charging.StartUprating(ctx, c.admin, c.table.ID)
		require.NoError(t, err)
	}
	for _, c := range councils {
		done := waitForJob(t, b, c.admin, c.job.ID)
		requireRecalculatedOnce(t, c.admin, done, c.table, c.people)
	}
}

func TestAJobWhoseTableIsNotInForceYetWaitsQueued(t *testing.T) {
	t.Parallel()
	svc := instance(t, "early")
	admin, _, _ := councilToUprate(t, svc, 1)
	ctx := context.Background()
	later := charging.England2025()
	later.Name, later.ValidFrom = "a table to come", date.Today(time.Now()).AddDays(40)
	table, err := svc.Charging.CreateTable(ctx, admin, later)
	require.NoError(t, err)
	job, err := svc.Charging.StartUprating(ctx, admin, table.ID)
	require.NoError(t, err)
	// Run early (as a River job would be if the table's date had moved later since it was queued),
	// the job says when to run again and changes nothing.
	err = svc.Charging.RunUprating(ctx, admin.CouncilID, job.ID, true)
	var notYet *charging.NotInForceError
	require.ErrorAs(t, err, &notYet)
	require.Equal(t, later.ValidFrom.Start(), notYet.Until)
	j, err := svc.Charging.GetJob(ctx, admin, job.ID)
	require.NoError(t, err)
	require.Equal(t, charging.Queued, j.Status)
	require.Nil(t, j.StartedAt)
}
