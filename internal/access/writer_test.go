package access_test

import (
	"context"
	"errors"
	"os"
	"sync/atomic"
	"testing"
	"time"

	"github.com/google/uuid"
	"github.com/prometheus/client_golang/prometheus"
	"github.com/stretchr/testify/require"

	"github.com/pbudget/pbudget/internal/access"
	"github.com/pbudget/pbudget/internal/actor"
	"github.com/pbudget/pbudget/internal/council"
	"github.com/pbudget/pbudget/internal/page"
	"github.com/pbudget/pbudget/internal/postgres"
	"github.com/pbudget/pbudget/internal/testdb"
)

func TestMain(m *testing.M) { os.Exit(testdb.Run(m)) }

func setup(t *testing.T) (*postgres.DB, *postgres.AccessStore, uuid.UUID) {
	t.Helper()
	db := testdb.DB(t)
	c, err := council.NewService(postgres.NewCouncilStore(db)).Ensure(context.Background(), "w-"+uuid.NewString()[:8], "Writer Council")
	require.NoError(t, err)
	return db, postgres.NewAccessStore(db), c.ID
}

// reads makes n access records of one council.
func reads(councilID uuid.UUID, n int) []access.Record {
	a := actor.Actor{Subject: "reader", CouncilID: councilID, Roles: []actor.Role{actor.Practitioner}, RequestID: "req-1"}
	rs := make([]access.Read, n)
	for i := range rs {
		rs[i] = access.Read{EntityType: access.Person, EntityID: uuid.New(), PersonID: uuid.New()}
	}
	return access.Records(a, "getPerson", nil, time.Now(), rs)
}

func stored(t *testing.T, db *postgres.DB, councilID uuid.UUID) int {
	t.Helper()
	var n int
	require.NoError(t, db.SQL().QueryRow(`SELECT count(*) FROM access_records WHERE council_id = $1`, councilID).Scan(&n))
	return n
}

// metric reads one of the writer's metrics.
func metric(t *testing.T, w *access.Writer, name string) float64 {
	t.Helper()
	reg := prometheus.NewRegistry()
	reg.MustRegister(w.Collectors()...)
	families, err := reg.Gather()
	require.NoError(t, err)
	for _, f := range families {
		if f.GetName() == name {
			m := f.GetMetric()[0]
			if c := m.GetCounter(); c != nil {
				return c.GetValue()
			}
			return m.GetGauge().GetValue()
		}
	}
	t.Fatalf("no metric %s", name)
	return 0
}

// run starts w and returns a function that stops it and waits until it has.
func run(w *access.Writer) (stop func()) {
	ctx, cancel := context.WithCancel(context.Background())
	go w.Run(ctx)
	return func() { cancel(); <-w.Done() }
}

func TestTheWriterWritesWhenABatchFillsAndWhenFlushed(t *testing.T) {
	t.Parallel()
	db, store, councilID := setup(t)
	w := access.NewWriter(store, access.WriterOptions{BatchSize: 10, FlushInterval: time.Hour})
	defer run(w)()
	ctx := context.Background()

	require.NoError(t, w.Record(ctx, reads(councilID, 10)))
	require.Eventually(t, func() bool { return stored(t, db, councilID) == 10 }, 10*time.Second, 10*time.Millisecond,
		"a full batch is written without waiting for the interval")
	require.NoError(t, w.Record(ctx, reads(councilID, 3)))
	require.NoError(t, w.Flush(ctx))
	require.Equal(t, 13, stored(t, db, councilID), "a flush writes what waits")
	require.Equal(t, 13.0, metric(t, w, "pbudget_access_records_written_total"))
}

func TestTheWriterWritesAfterTheIntervalWhatABatchDoesNotFill(t *testing.T) {
	t.Parallel()
	db, store, councilID := setup(t)
	w := access.NewWriter(store, access.WriterOptions{BatchSize: 1000, FlushInterval: 20 * time.Millisecond})
	defer run(w)()
	require.NoError(t, w.Record(context.Background(), reads(councilID, 2)))
	require.Eventually(t, func() bool { return stored(t, db, councilID) == 2 }, 10*time.Second, 10*time.Millisecond)
}

func TestStoppingTheWriterWritesWhatItHoldsAndLaterRecordsAreWrittenDirectly(t *testing.T) {
	t.Parallel()
	db, store, councilID := setup(t)
	w := access.NewWriter(store, access.WriterOptions{BatchSize: 1000, FlushInterval: time.Hour})
	stop := run(w)
	ctx := context.Background()
	require.NoError(t, w.Record(ctx, reads(councilID, 7)))
	require.Eventually(t, func() bool { return metric(t, w, "pbudget_access_records_pending") == 7 }, 10*time.Second, 10*time.Millisecond,
		"what a crash now would lose is in the metrics")
	require.Equal(t, 0, stored(t, db, councilID), "nothing is written before the batch fills, the interval passes or the writer stops")
	stop()
	require.Equal(t, 7, stored(t, db, councilID), "a graceful stop loses nothing")

	require.NoError(t, w.Record(ctx, reads(councilID, 2)))
	require.Equal(t, 9, stored(t, db, councilID), "after the stop, a read's records are written in its own time")
	require.NoError(t, w.Flush(ctx))
}

func TestAFullQueueHoldsTheReaderBack(t *testing.T) {
	t.Parallel()
	db, store, councilID := setup(t)
	w := access.NewWriter(store, access.WriterOptions{Buffer: 2, BatchSize: 1000, FlushInterval: time.Hour})
	require.NoError(t, w.Record(context.Background(), reads(councilID, 2)), "the queue takes two")
	ctx, cancel := context.WithTimeout(context.Background(), 50*time.Millisecond)
	defer cancel()
	require.ErrorIs(t, w.Record(ctx, reads(councilID, 1)), context.DeadlineExceeded,
		"a read whose record cannot be queued waits, and fails when its caller gives up")

	defer run(w)()
	require.NoError(t, w.Flush(context.Background()))
	require.Equal(t, 2, stored(t, db, councilID))
}

// unreachable fails the first inserts as a database that does not answer would.
type unreachable struct {
	*postgres.AccessStore
	failures atomic.Int32
}

func (u *unreachable) Insert(ctx context.Context, recs []access.Record) error {
	if u.failures.Add(-1) >= 0 {
		return errors.New("dial tcp 127.0.0.1:5432: connect: connection refused")
	}
	return u.AccessStore.Insert(ctx, recs)
}

func TestAnUnreachableDatabaseIsRetriedNotDropped(t *testing.T) {
	t.Parallel()
	db, store, councilID := setup(t)
	flaky := &unreachable{AccessStore: store}
	flaky.failures.Store(2)
	w := access.NewWriter(flaky, access.WriterOptions{BatchSize: 1000, FlushInterval: time.Hour})
	defer run(w)()
	require.NoError(t, w.Record(context.Background(), reads(councilID, 5)))
	require.NoError(t, w.Flush(context.Background()))
	require.Equal(t, 5, stored(t, db, councilID))
	require.Equal(t, 0.0, metric(t, w, "pbudget_access_records_dropped_total"), "nothing dropped")
}

func TestARecordTheDatabaseRefusesIsDroppedAloneNotWithItsBatch(t *testing.T) {
	t.Parallel()
	db, store, councilID := setup(t)
	w := access.NewWriter(store, access.WriterOptions{BatchSize: 1000, FlushInterval: time.Hour})
	defer run(w)()
	recs := reads(councilID, 4)
	recs[2].EntityType = "secret_file" // the table's CHECK refuses it
	require.NoError(t, w.Record(context.Background(), recs))
	require.NoError(t, w.Flush(context.Background()))
	require.Equal(t, 3, stored(t, db, councilID))
	require.Equal(t, 1.0, metric(t, w, "pbudget_access_records_dropped_total"), "the refused record is counted as dropped")
}

func TestRecordsNameEachRecordReadOnce(t *testing.T) {
	t.Parallel()
	a := actor.Actor{Subject: "s", CouncilID: uuid.New(), Roles: []actor.Role{actor.Auditor, actor.Finance}, RequestID: "r"}
	budget, person := uuid.New(), uuid.New()
	recs := access.Records(a, "listPersonBudgetVersions", []string{"x"}, time.Now(), []access.Read{
		{EntityType: access.PersonalBudget, EntityID: budget, PersonID: person},
		{EntityType: access.PersonalBudget, EntityID: budget, PersonID: person},
	})
	require.Len(t, recs, 1, "two versions of one budget are one read of it")
	require.Equal(t, []string{"auditor", "finance"}, recs[0].ActorRoles)
	require.Equal(t, "r", recs[0].RequestID)
}

func TestRecordsComeBackAsTheyWereWritten(t *testing.T) {
	t.Parallel()
	db, store, councilID := setup(t)
	provider := uuid.New()
	at := time.Date(2026, 4, 6, 9, 30, 0, 123_456_000, time.UTC)
	staff := actor.Actor{Subject: "staff-ü", CouncilID: councilID, Roles: []actor.Role{actor.Provider, actor.Practitioner}, ProviderID: &provider}
	budget, person := uuid.New(), uuid.New()
	in := access.Records(staff, "getProviderBudgetView", []string{"nhs_number", "family_name_prefix"}, at,
		[]access.Read{{EntityType: access.PersonalBudget, EntityID: budget, PersonID: person}})
	plain := access.Records(actor.Actor{Subject: "s", CouncilID: councilID, RequestID: "r-1"}, "getPerson", nil, at.Add(time.Second),
		[]access.Read{{EntityType: access.Person, EntityID: person, PersonID: person}})
	require.NoError(t, store.Insert(context.Background(), append(in, plain...)))

	got, err := access.NewService(store).List(context.Background(), actor.Actor{CouncilID: councilID}, access.Filter{PersonID: &person}, page.Request{Size: 10})
	require.NoError(t, err)
	require.Len(t, got, 2)
	require.Equal(t, in[0], got[0], "provider, roles, filters and no request id")
	require.Equal(t, plain[0].RequestID, got[1].RequestID)
	require.Empty(t, got[1].Filters)
	require.Nil(t, got[1].ActorProvider)
	require.Empty(t, got[1].ActorRoles)
	require.Equal(t, 2, stored(t, db, councilID))
}
