package jobs_test

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"os"
	"sync"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/riverqueue/river"
	"github.com/stretchr/testify/require"

	"github.com/pbudget/pbudget/internal/app"
	"github.com/pbudget/pbudget/internal/jobs"
	"github.com/pbudget/pbudget/internal/postgres"
	"github.com/pbudget/pbudget/internal/testdb"
)

func TestMain(m *testing.M) { os.Exit(testdb.Run(m)) }

// privateDB is a migrated database of the test's own, so that the queues of one test see only
// its jobs.
func privateDB(t *testing.T) *postgres.DB {
	t.Helper()
	ctx := context.Background()
	name, err := testdb.Create(ctx)
	require.NoError(t, err)
	t.Cleanup(func() { _ = testdb.Drop(context.Background(), name) })
	db, err := postgres.Open(ctx, testdb.WithDatabase(testdb.AdminURL(), name), 8, testdb.Logger())
	require.NoError(t, err)
	t.Cleanup(func() { db.Close() })
	_, err = postgres.Migrate(ctx, db.SQL(), nil)
	require.NoError(t, err)
	return db
}

func randomID() string {
	var b [4]byte
	_, _ = rand.Read(b[:])
	return hex.EncodeToString(b[:])
}

// countArgs is a job that only records who ran it.
type countArgs struct {
	N int `json:"n"`
}

func (countArgs) Kind() string { return "test_count" }

type countWorker struct {
	river.WorkerDefaults[countArgs]
	instance string
	record   func(n int, instance string)
}

func (w *countWorker) Work(ctx context.Context, j *river.Job[countArgs]) error {
	time.Sleep(3 * time.Millisecond) // long enough that one instance cannot take every job alone
	w.record(j.Args.N, w.instance)
	return nil
}

// startInstance starts the queue of one instance of the service on db, with the count worker.
func startInstance(t *testing.T, db *postgres.DB, name string, record func(int, string)) *jobs.Queue {
	t.Helper()
	q, err := jobs.NewQueueWithWorkers(db.SQL(), testdb.Logger(), jobs.Config{ID: name + "-" + randomID(), PollInterval: 50 * time.Millisecond},
		func(w *river.Workers) { river.AddWorker(w, &countWorker{instance: name, record: record}) })
	require.NoError(t, err)
	svc := app.Build(db, testdb.Logger(), time.Now, q)
	ctx, cancel := context.WithCancel(context.Background())
	require.NoError(t, q.Start(ctx, app.WorkerDeps(db, svc)))
	t.Cleanup(func() {
		stopCtx, stop := context.WithTimeout(context.Background(), 10*time.Second)
		defer stop()
		require.NoError(t, q.Stop(stopCtx))
		cancel()
	})
	return q
}

func TestTwoInstancesShareTheQueueAndRunEachJobOnce(t *testing.T) {
	t.Parallel()
	db := privateDB(t)
	var mu sync.Mutex
	runs := map[int][]string{}
	record := func(n int, instance string) {
		mu.Lock()
		defer mu.Unlock()
		runs[n] = append(runs[n], instance)
	}
	a := startInstance(t, db, "a", record)
	startInstance(t, db, "b", record)

	const n = 600
	params := make([]river.InsertManyParams, n)
	for i := range params {
		params[i] = river.InsertManyParams{Args: countArgs{N: i}}
	}
	require.NoError(t, db.WithinTx(context.Background(), func(ctx context.Context) error {
		return a.InsertManyTx(ctx, params)
	}))
	require.Eventually(t, func() bool {
		mu.Lock()
		defer mu.Unlock()
		return len(runs) == n
	}, 60*time.Second, 20*time.Millisecond)
	time.Sleep(300 * time.Millisecond) // a job run twice would show now
	mu.Lock()
	defer mu.Unlock()
	by := map[string]int{}
	for i := range n {
		require.Len(t, runs[i], 1, "job %d ran %v", i, runs[i])
		by[runs[i][0]]++
	}
	require.Positive(t, by["a"], "both instances work the queue")
	require.Positive(t, by["b"], "both instances work the queue")
	t.Logf("jobs run: %v", by)
}

func TestAJobIsQueuedOnlyWithItsTransaction(t *testing.T) {
	t.Parallel()
	db := privateDB(t)
	q, err := jobs.New(db.SQL(), testdb.Logger(), jobs.Config{})
	require.NoError(t, err)
	ctx := context.Background()
	count := func() (n int) {
		require.NoError(t, db.SQL().QueryRowContext(ctx, `SELECT count(*) FROM river_job`).Scan(&n))
		return n
	}
	err = q.EnqueueUprating(ctx, [16]byte{1}, [16]byte{2}, time.Now())
	require.ErrorContains(t, err, "outside a transaction")
	rolledBack := errors.New("the request failed")
	err = db.WithinTx(ctx, func(ctx context.Context) error {
		require.NoError(t, q.EnqueueUprating(ctx, [16]byte{1}, [16]byte{2}, time.Now()))
		return rolledBack
	})
	require.ErrorIs(t, err, rolledBack)
	require.Zero(t, count(), "a request rolled back leaves no job")
	require.NoError(t, db.WithinTx(ctx, func(ctx context.Context) error {
		return q.EnqueueUprating(ctx, [16]byte{1}, [16]byte{2}, time.Now().Add(48*time.Hour))
	}))
	var state string
	var at time.Time
	require.NoError(t, db.SQL().QueryRowContext(ctx, `SELECT state, scheduled_at FROM river_job`).Scan(&state, &at))
	require.Equal(t, "scheduled", state, "a job for a later day waits for it")
	require.WithinDuration(t, time.Now().Add(48*time.Hour), at, time.Minute)
}

func TestQueueGaugesCountEachQueuesJobsByState(t *testing.T) {
	t.Parallel()
	db := privateDB(t)
	q, err := jobs.NewQueueWithWorkers(db.SQL(), testdb.Logger(), jobs.Config{},
		func(w *river.Workers) { river.AddWorker(w, &countWorker{record: func(int, string) {}}) })
	require.NoError(t, err)
	ctx := context.Background()
	require.NoError(t, db.WithinTx(ctx, func(ctx context.Context) error {
		for i := range 3 {
			if err := q.EnqueueUprating(ctx, [16]byte{byte(i)}, [16]byte{byte(i)}, time.Now().Add(time.Hour)); err != nil {
				return err
			}
		}
		return q.InsertManyTx(ctx, []river.InsertManyParams{{Args: countArgs{N: 1}}, {Args: countArgs{N: 2}}})
	}))
	reg := prometheus.NewRegistry()
	reg.MustRegister(jobs.NewQueueCollector(db.SQL(), testdb.Logger()))
	families, err := reg.Gather()
	require.NoError(t, err)
	got := map[string]float64{}
	for _, f := range families {
		require.Equal(t, "pbudget_jobs", f.GetName())
		for _, m := range f.GetMetric() {
			labels := map[string]string{}
			for _, l := range m.GetLabel() {
				labels[l.GetName()] = l.GetValue()
			}
			got[labels["queue"]+"/"+labels["state"]] = m.GetGauge().GetValue()
		}
	}
	require.Equal(t, 3.0, got["bulk/scheduled"], "uprating jobs waiting for their table")
	require.Equal(t, 2.0, got["default/available"])
	require.Equal(t, 0.0, got["bulk/running"], "every queue and state is reported, at zero when empty")
	require.Len(t, got, 10)
}

func TestTheLeaderSweepsExpiredIdempotencyKeysWhenItStarts(t *testing.T) {
	t.Parallel()
	db := privateDB(t)
	ctx := context.Background()
	var council string
	require.NoError(t, db.SQL().QueryRowContext(ctx, `INSERT INTO councils (id, code, name, created_at)
		VALUES (gen_random_uuid(), 'sweep', 'Sweep', now()) RETURNING id`).Scan(&council))
	for key, expires := range map[string]string{"old": "now() - interval '1 hour'", "fresh": "now() + interval '1 hour'"} {
		_, err := db.SQL().ExecContext(ctx, `INSERT INTO idempotency_keys (council_id, actor_subject, key, request_hash, status_code, headers, body, expires_at)
			VALUES ($1, 'someone', $2, '\x00', 201, '{}', '\x00', `+expires+`)`, council, key)
		require.NoError(t, err)
	}
	startInstance(t, db, "leader", func(int, string) {})
	require.Eventually(t, func() bool {
		var keys []string
		rows, err := db.SQL().QueryContext(ctx, `SELECT key FROM idempotency_keys`)
		require.NoError(t, err)
		defer rows.Close()
		for rows.Next() {
			var k string
			require.NoError(t, rows.Scan(&k))
			keys = append(keys, k)
		}
		return len(keys) == 1 && keys[0] == "fresh"
	}, 30*time.Second, 50*time.Millisecond, "the periodic sweep ran on start and deleted only the expired key")
}
