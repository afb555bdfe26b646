package app_test

import (
	"context"
	"fmt"
	"log/slog"
	"os"
	"runtime/pprof"
	"slices"
	"strconv"
	"sync"
	"testing"
	"time"

	"github.com/google/uuid"
	"github.com/stretchr/testify/require"

	"github.com/pbudget/pbudget/internal/actor"
	"github.com/pbudget/pbudget/internal/app"
	"github.com/pbudget/pbudget/internal/assessment"
	"github.com/pbudget/pbudget/internal/charging"
	"github.com/pbudget/pbudget/internal/date"
	"github.com/pbudget/pbudget/internal/jobs"
	"github.com/pbudget/pbudget/internal/person"
	"github.com/pbudget/pbudget/internal/testdb"
)

func TestMain(m *testing.M) { os.Exit(testdb.Run(m)) }

// BenchmarkUprating recalculates UPRATE_N (default 10,000) completed financial assessments, each
// person with an open budget, after a new rate table, through the job queue as `serve` runs it:
// the request queues the job, a River worker runs it in batches, each batch of people in one
// transaction (new assessments, old ones superseded, new budget versions, report lines, audit
// events). It reports the time from request to completion and the first and last batch's time.
// Run: go test -run X -bench Uprating -benchtime 1x ./internal/app/ (UPRATE_N for another size,
// UPRATE_CPUPROFILE=FILE for a CPU profile of the job alone).
func BenchmarkUprating(b *testing.B) {
	n := 10_000
	if v, err := strconv.Atoi(os.Getenv("UPRATE_N")); err == nil {
		n = v
	}
	ctx := context.Background()
	db := testdb.DB(b)
	batches := &batchTimes{}
	log := slog.New(batches)
	q, err := jobs.New(db.SQL(), log, jobs.Config{PollInterval: 100 * time.Millisecond})
	require.NoError(b, err)
	svc := app.Build(db, log, time.Now, q)
	workCtx, stop := context.WithCancel(ctx)
	defer stop()
	require.NoError(b, q.Start(workCtx, app.WorkerDeps(db, svc)))
	defer func() { require.NoError(b, q.Stop(ctx)) }()
	for range b.N {
		b.StopTimer()
		c, err := svc.Councils.Ensure(ctx, "bench-"+uuid.NewString()[:8], "Bench")
		require.NoError(b, err)
		admin := actor.Actor{Subject: "bench", CouncilID: c.ID, Roles: []actor.Role{actor.CouncilAdmin, actor.Finance, actor.Practitioner}}
		_, err = svc.Charging.CreateTable(ctx, admin, charging.England2025())
		require.NoError(b, err)
		seedRAS(b, svc, admin)
		start := time.Now()
		parallel(n, 4, func(i int) {
			p, err := svc.People.Create(ctx, admin, person.Input{GivenName: "B", FamilyName: "M" + strconv.Itoa(i),
				DateOfBirth: date.Of(1970, 1, 1), Type: person.Adult}) // below pension credit age in 2025 and 2026
			require.NoError(b, err)
			completeNeeds(b, svc, admin, p.ID)
			fa, err := svc.Charging.CreateAssessment(ctx, admin, p.ID, charging.Full, facts(i))
			require.NoError(b, err)
			_, err = svc.Charging.CompleteAssessment(ctx, admin, fa.ID, fa.Version)
			require.NoError(b, err)
		})
		b.Logf("setup: %d people with a budget and a completed financial assessment in %s", n, time.Since(start).Round(time.Second))
		next := charging.England2025()
		next.Name, next.ValidFrom = "England 2026/27 (bench)", date.Of(2026, 4, 6)
		next.MIG.Base[1].Weekly += 450
		table, err := svc.Charging.CreateTable(ctx, admin, next)
		require.NoError(b, err)

		batches.reset()
		if f := os.Getenv("UPRATE_CPUPROFILE"); f != "" { // the job's CPU profile, without the setup's
			out, err := os.Create(f)
			require.NoError(b, err)
			require.NoError(b, pprof.StartCPUProfile(out))
		}
		b.StartTimer()
		start = time.Now()
		job, err := svc.Charging.StartUprating(ctx, admin, table.ID)
		require.NoError(b, err)
		var done charging.Job
		for done.Status != charging.Done && done.Status != charging.JobFailed {
			time.Sleep(20 * time.Millisecond)
			done, err = svc.Charging.GetJob(ctx, admin, job.ID)
			require.NoError(b, err)
		}
		elapsed := time.Since(start)
		b.StopTimer()
		pprof.StopCPUProfile()
		require.Equal(b, charging.Done, done.Status)
		require.Equal(b, n, done.Processed)
		took := batches.get()
		require.NotEmpty(b, took)
		b.ReportMetric(float64(n)/elapsed.Seconds(), "assessments/s")
		b.ReportMetric(elapsed.Seconds(), "s/run")
		fmt.Printf("uprating: %d assessments recalculated in %s: %.0f a second (%d changed); %d batches, first %s, last %s, slowest %s\n",
			n, elapsed.Round(time.Millisecond), float64(n)/elapsed.Seconds(), done.Changed, len(took),
			took[0].Round(time.Millisecond), took[len(took)-1].Round(time.Millisecond), slices.Max(took).Round(time.Millisecond))
		fmt.Printf("uprating: batch times in the order they finished: %v\n", rounded(took))
		b.StartTimer()
	}
}

func rounded(ds []time.Duration) []time.Duration {
	out := make([]time.Duration, len(ds))
	for i, d := range ds {
		out[i] = d.Round(10 * time.Millisecond)
	}
	return out
}

// batchTimes is a slog handler that keeps the time of each "uprating batch" the job logs.
type batchTimes struct {
	mu   sync.Mutex
	took []time.Duration
}

func (h *batchTimes) Enabled(context.Context, slog.Level) bool { return true }
func (h *batchTimes) WithAttrs([]slog.Attr) slog.Handler       { return h }
func (h *batchTimes) WithGroup(string) slog.Handler            { return h }
func (h *batchTimes) Handle(_ context.Context, r slog.Record) error {
	if r.Message != "uprating batch" {
		return nil
	}
	r.Attrs(func(a slog.Attr) bool {
		if a.Key == "took" {
			h.mu.Lock()
			h.took = append(h.took, a.Value.Duration())
			h.mu.Unlock()
		}
		return true
	})
	return nil
}

func (h *batchTimes) reset() { h.mu.Lock(); h.took = nil; h.mu.Unlock() }

func (h *batchTimes) get() []time.Duration {
	h.mu.Lock()
	defer h.mu.Unlock()
	return slices.Clone(h.took)
}

func facts(i int) charging.Facts {
	return charging.Facts{
		EffectiveDate: date.Of(2025, 6, 1), Household: charging.Single,
		DisabilityPremium: i%2 == 0, Income: []charging.IncomeItem{{Type: "state_pension", Weekly: 20_000 + int64(i%200)*100}},
		Capital: []charging.CapitalItem{{Type: "savings", Value: int64(i%30) * 100_000}}, HousingCosts: 2_000, DREMethod: "individual",
	}
}

func seedRAS(b testing.TB, svc app.Services, a actor.Actor) {
	if _, err := app.SeedRAS(context.Background(), svc, a); err != nil {
		b.Fatal(err)
	}
}

func completeNeeds(b testing.TB, svc app.Services, a actor.Actor, personID uuid.UUID) {
	ctx := context.Background()
	yes := true
	f := assessment.Facts{ImpairmentOrIllness: &yes, SignificantWellbeingImpact: &yes,
		RASAnswers: map[string]string{"washing": "some", "dressing": "some", "toileting": "independent", "meals": "some",
			"home": "independent", "community": "some", "contact": "independent"}}
	for _, o := range assessment.AdultOutcomes {
		rec := assessment.OutcomeRecord{Outcome: o, Reasons: []assessment.Reason{}}
		if o == "nutrition" || o == "personal_hygiene" {
			rec.Unable, rec.Reasons = true, []assessment.Reason{assessment.NeedsAssistance}
		}
		f.Outcomes = append(f.Outcomes, rec)
	}
	as, err := svc.Assessments.Create(ctx, a, personID, assessment.Input{Type: assessment.NeedsType, Facts: f})
	require.NoError(b, err)
	_, err = svc.Assessments.Complete(ctx, a, as.ID, as.Version, nil, "")
	require.NoError(b, err)
}

func parallel(n, workers int, f func(i int)) {
	var wg sync.WaitGroup
	next := make(chan int)
	for range workers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := range next {
				f(i)
			}
		}()
	}
	for i := range n {
		next <- i
	}
	close(next)
	wg.Wait()
}
