package charging

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"log/slog"
	"slices"
	"sync"
	"time"

	"github.com/google/uuid"
	"golang.org/x/sync/errgroup"

	"github.com/pbudget/pbudget/internal/actor"
	"github.com/pbudget/pbudget/internal/apperr"
	"github.com/pbudget/pbudget/internal/audit"
	"github.com/pbudget/pbudget/internal/date"
	"github.com/pbudget/pbudget/internal/page"
	"github.com/pbudget/pbudget/internal/person"
)

// JobStatus is queued, running, completed or failed.
type JobStatus string

// The job statuses.
const (
	Queued    JobStatus = "queued"
	Running   JobStatus = "running"
	Done      JobStatus = "completed"
	JobFailed JobStatus = "failed"
)

// Job recalculates, with one rate table, the council's current assessments made under older tables.
// It is the record of the work and its progress; the background queue runs it.
type Job struct {
	CouncilID   uuid.UUID
	ID          uuid.UUID
	RateTableID uuid.UUID
	Status      JobStatus
	Total       int
	Processed   int
	Changed     int
	RequestedBy string
	RequestedAt time.Time
	StartsOn    date.Date // the table's valid_from: a job waits, queued, until its table is in force
	StartedAt   *time.Time
	FinishedAt  *time.Time
	Error       *string
}

// Change is one line of an uprating report.
type Change struct {
	CouncilID            uuid.UUID
	ID                   uuid.UUID
	JobID                uuid.UUID
	PersonID             uuid.UUID
	PreviousAssessmentID uuid.UUID
	NewAssessmentID      *uuid.UUID
	PreviousWeekly       int64
	NewWeekly            *int64
	BudgetID             *uuid.UUID
	Error                *string
	CreatedAt            time.Time
}

// Cursor is the page position of a change.
func (c Change) Cursor() page.Cursor { return page.Cursor{Time: c.CreatedAt, ID: c.ID} }

// Candidate is an assessment an uprating job has still to recalculate: a current full assessment
// made under an older table, not yet in the job's report. Candidates are walked in (TableValidFrom,
// ID) order.
type Candidate struct {
	ID             uuid.UUID
	PersonID       uuid.UUID
	TableValidFrom date.Date
}

// Progress is what one batch adds to a job's counters.
type Progress struct {
	Processed int // recalculated, or reported as not recalculable
	Changed   int // of those, with a new charge
	Skipped   int // superseded by a completion since they were listed: they leave the job
}

// UpratingStore keeps uprating jobs, their reports, and the bulk reads and writes of their batches.
type UpratingStore interface {
	InsertJob(ctx context.Context, j Job) error
	GetJob(ctx context.Context, councilID, id uuid.UUID) (Job, error)
	// StartJob marks the job running (keeping the first start time) with total = processed + remaining.
	StartJob(ctx context.Context, councilID, id uuid.UUID, at time.Time, remaining int) error
	// AddProgress adds a batch's counts to the job, in the batch's transaction.
	AddProgress(ctx context.Context, councilID, id uuid.UUID, p Progress) error
	// FinishJob records the job completed (total = processed) or failed with a message.
	FinishJob(ctx context.Context, councilID, id uuid.UUID, status JobStatus, at time.Time, message *string) error

	// Candidates lists up to limit of the job's candidates under tables older than validFrom, after
	// the one given (nil: from the start).
	Candidates(ctx context.Context, councilID uuid.UUID, validFrom date.Date, jobID uuid.UUID, after *Candidate, limit int) ([]Candidate, error)
	CountCandidates(ctx context.Context, councilID uuid.UUID, validFrom date.Date, jobID uuid.UUID) (int, error)
	// LockCurrent locks and returns those of the assessments ids that are still completed.
	LockCurrent(ctx context.Context, councilID uuid.UUID, ids []uuid.UUID) ([]Assessment, error)
	// Supersede marks the assessments ids superseded at at, at their next version.
	Supersede(ctx context.Context, councilID uuid.UUID, ids []uuid.UUID, at time.Time) error
	InsertAssessments(ctx context.Context, as []Assessment) error
	InsertChanges(ctx context.Context, cs []Change) error
	ListChanges(ctx context.Context, councilID, jobID uuid.UUID, changedOnly bool, p page.Request) ([]Change, error)
}

// Enqueuer queues the background run of an uprating job in the transaction of ctx, so that the job
// and its run are committed together; the run waits until at.
type Enqueuer interface {
	EnqueueUprating(ctx context.Context, councilID, jobID uuid.UUID, at time.Time) error
}

// NotInForceError is returned by RunUprating for a job whose table comes into force at Until (its
// date may have moved since the job was queued): run the job again then.
type NotInForceError struct{ Until time.Time }

func (e *NotInForceError) Error() string {
	return "the rate table is not in force until " + e.Until.Format(time.RFC3339)
}

// defaultBatches: 500 people a transaction, large enough that the per-batch round trips are a
// small part of its time, small enough that a batch holds its locks (the people and their
// budgets) for a fraction of a second; four at once, so that while one waits on the database
// (its writes, its commit) others compute: on two cores one at a time took about twice as long
// (the README's uprating benchmark).
var defaultBatches = UpratingBatches{Size: 500, Concurrent: 4}

// UpratingBatches is how an uprating job is cut up: the people one transaction takes (default
// 500), and the transactions that run at once (default 4), each on a connection of the pool.
type UpratingBatches struct{ Size, Concurrent int }

// SetUpratingBatches changes how jobs are cut up; a zero field keeps its value. The service gives
// a job at most a quarter of its pool; tests make jobs of a few batches with a few people.
func (s *Service) SetUpratingBatches(b UpratingBatches) {
	if b.Size > 0 {
		s.batches.Size = b.Size
	}
	if b.Concurrent > 0 {
		s.batches.Concurrent = b.Concurrent
	}
}

// StartUprating queues a job that recalculates with table id every current full assessment made
// under an older table. The job and its background run are written in one transaction; the run
// waits for the table's first day.
func (s *Service) StartUprating(ctx context.Context, a actor.Actor, tableID uuid.UUID) (Job, error) {
	var j Job
	err := s.tx.WithinTx(ctx, func(ctx context.Context) error {
		t, err := s.store.GetTable(ctx, a.CouncilID, tableID, false)
		if err != nil {
			return err
		}
		j = Job{CouncilID: a.CouncilID, ID: uuid.Must(uuid.NewV7()), RateTableID: tableID, Status: Queued,
			RequestedBy: a.Subject, RequestedAt: s.timestamp(), StartsOn: t.ValidFrom}
		if err := s.store.InsertJob(ctx, j); err != nil {
			return err
		}
		if err := s.jobs.EnqueueUprating(ctx, j.CouncilID, j.ID, t.ValidFrom.Start()); err != nil {
			return err
		}
		return s.audit.Record(ctx, a, audit.Event{
			Action: "uprating_job.requested", EntityType: "uprating_job", EntityID: j.ID,
			Details: map[string]any{"rate_table_id": tableID.String(), "starts_on": j.StartsOn.String()},
		})
	})
	return j, err
}

// GetJob returns a job with its progress.
func (s *Service) GetJob(ctx context.Context, a actor.Actor, id uuid.UUID) (Job, error) {
	return s.store.GetJob(ctx, a.CouncilID, id)
}

// ListChanges returns a page of a job's report.
func (s *Service) ListChanges(ctx context.Context, a actor.Actor, jobID uuid.UUID, changedOnly bool, p page.Request) ([]Change, error) {
	if _, err := s.store.GetJob(ctx, a.CouncilID, jobID); err != nil {
		return nil, err
	}
	return s.store.ListChanges(ctx, a.CouncilID, jobID, changedOnly, p)
}

// RunUprating runs a job to the end, in batches of people each recalculated in one transaction.
// Run again after an error, it carries on where it stopped: the people already recalculated are no
// longer candidates and nobody is recalculated twice. On the last attempt an error (a timeout too)
// fails the job; before that the job stays running while the queue retries it. A job already
// finished is left alone, and one whose table is not in force yet returns a NotInForceError.
func (s *Service) RunUprating(ctx context.Context, councilID, jobID uuid.UUID, lastAttempt bool) error {
	j, err := s.store.GetJob(ctx, councilID, jobID)
	if err != nil {
		return err
	}
	if j.Status == Done || j.Status == JobFailed {
		return nil
	}
	err = s.runJob(ctx, j)
	var notYet *NotInForceError
	switch {
	case err == nil:
		return s.store.FinishJob(ctx, councilID, jobID, Done, s.timestamp(), nil)
	case errors.As(err, &notYet) || !lastAttempt || errors.Is(ctx.Err(), context.Canceled):
		return err // it runs again (after a shutdown, without using up an attempt)
	}
	s.log.Error("uprating job failed", slog.String("job_id", jobID.String()), slog.String("error", err.Error()))
	msg := "the job stopped on an unexpected error; see the logs"
	if ferr := s.store.FinishJob(context.WithoutCancel(ctx), councilID, jobID, JobFailed, s.timestamp(), &msg); ferr != nil {
		return errors.Join(err, ferr)
	}
	return err
}

func (s *Service) runJob(ctx context.Context, j Job) error {
	table, err := s.store.GetTable(ctx, j.CouncilID, j.RateTableID, false)
	if err != nil {
		return err
	}
	if table.ValidFrom.After(date.Today(s.now())) {
		return &NotInForceError{Until: table.ValidFrom.Start()}
	}
	remaining, err := s.store.CountCandidates(ctx, j.CouncilID, table.ValidFrom, j.ID)
	if err != nil {
		return err
	}
	if err := s.store.StartJob(ctx, j.CouncilID, j.ID, s.timestamp(), remaining); err != nil {
		return err
	}
	run := &upratingRun{
		Service: s, job: j, table: table, tables: map[date.Date]RateTable{},
		actor:  actor.Actor{Subject: j.RequestedBy, CouncilID: j.CouncilID, Roles: []actor.Role{actor.Finance}, RequestID: "uprating-job:" + j.ID.String()},
		reason: fmt.Sprintf("uprating with rate table %q from %s", table.Name, table.ValidFrom),
	}
	for {
		found, err := run.walk(ctx)
		if err != nil || found == 0 {
			return err
		}
		// An assessment completed meanwhile under an older table lands ahead of the cursor (ids
		// are time-ordered) unless its table is older than the cursor's: a walk that found
		// anything is followed by another, until one finds nothing.
	}
}

// walk recalculates the candidates in batches, walking them by (table, id) and never reading
// behind the cursor, where the rows the job has superseded stay. It returns how many it found.
func (r *upratingRun) walk(ctx context.Context) (int, error) {
	g, ctx := errgroup.WithContext(ctx)
	batches := make(chan []Candidate)
	for range r.batches.Concurrent {
		g.Go(func() error {
			for batch := range batches {
				if err := r.recalculateBatch(ctx, batch); err != nil {
					return err
				}
			}
			return nil
		})
	}
	found := 0
	g.Go(func() error {
		defer close(batches)
		var after *Candidate
		for {
			batch, err := r.store.Candidates(ctx, r.job.CouncilID, r.table.ValidFrom, r.job.ID, after, r.batches.Size)
			if err != nil || len(batch) == 0 {
				return err
			}
			found += len(batch)
			select {
			case batches <- batch:
			case <-ctx.Done():
				return ctx.Err()
			}
			after = &batch[len(batch)-1]
		}
	})
	err := g.Wait()
	return found, err
}

// upratingRun is one run of a job: its table, the tables in force met so far, and who it acts for.
type upratingRun struct {
	*Service
	job      Job
	table    RateTable
	tablesMu sync.Mutex
	tables   map[date.Date]RateTable // in force on each effective date met
	actor    actor.Actor
	reason   string
}

// batch recalculates the candidates of one batch in one transaction, each from its table's first
// day: new assessments, the old ones superseded, new budget versions, report lines, audit events
// and the job's progress, all written in a few multi-row statements. A person whose recalculation
// breaks a rule (a missing MIG rate) gets a report line saying so and keeps their assessment.
func (r *upratingRun) recalculateBatch(ctx context.Context, batch []Candidate) error {
	began := time.Now()
	var prog Progress
	err := r.tx.WithinTx(ctx, func(ctx context.Context) error {
		prog = Progress{}
		personIDs, ids := make([]uuid.UUID, len(batch)), make([]uuid.UUID, len(batch))
		for i, c := range batch {
			personIDs[i], ids[i] = c.PersonID, c.ID
		}
		// Locks are taken in id order, so that batches of two jobs of a council never deadlock.
		slices.SortFunc(personIDs, compareIDs)
		slices.SortFunc(ids, compareIDs)
		// Lock the people first, as a completion does, then read their assessments again: one
		// completed since the batch was listed has superseded the listed one, which must not be
		// overwritten with a recalculation of older facts.
		people, err := r.people.GetPeople(ctx, r.job.CouncilID, personIDs, true)
		if err != nil {
			return err
		}
		byID := make(map[uuid.UUID]person.Person, len(people))
		for _, p := range people {
			byID[p.ID] = p
		}
		olds, err := r.store.LockCurrent(ctx, r.job.CouncilID, ids)
		if err != nil {
			return err
		}
		prog.Skipped = len(batch) - len(olds)
		now := r.timestamp()
		type recalculation struct {
			old, next Assessment
			res       Result
			table     RateTable
		}
		var done []recalculation
		var lines []Change
		contributions := map[uuid.UUID]Contribution{}
		for _, old := range olds {
			line := Change{CouncilID: r.job.CouncilID, ID: uuid.Must(uuid.NewV7()), JobID: r.job.ID, PersonID: old.PersonID,
				PreviousAssessmentID: old.ID, PreviousWeekly: old.Result.Assessed, CreatedAt: now}
			next := Assessment{CouncilID: r.job.CouncilID, ID: uuid.Must(uuid.NewV7()), PersonID: old.PersonID, Kind: old.Kind,
				Facts: old.Facts, SupersedesID: &old.ID}
			// The new rates apply from the table's first day; an assessment effective later keeps its date.
			next.Facts.EffectiveDate = date.Later(old.Facts.EffectiveDate, r.table.ValidFrom)
			table, err := r.tableOn(ctx, next.Facts.EffectiveDate)
			var res Result
			if err == nil {
				res, err = calculate(next, byID[old.PersonID], table)
			}
			if err != nil {
				var ae *apperr.Error
				if apperr.KindOf(err) != apperr.RuleViolation || !errors.As(err, &ae) {
					return err
				}
				msg := ae.Message
				line.Error = &msg
				lines = append(lines, line)
				continue
			}
			done = append(done, recalculation{old: old, next: next, res: res, table: table})
			contributions[old.PersonID] = contributionOf(next, table, res)
			lines = append(lines, line)
		}
		prog.Processed = len(olds)
		superseded := make([]uuid.UUID, len(done))
		for i, d := range done {
			superseded[i] = d.old.ID
		}
		if err := r.store.Supersede(ctx, r.job.CouncilID, superseded, now); err != nil {
			return err
		}
		applied, err := r.budgets.ApplyContributions(ctx, r.actor, contributions, r.reason)
		if err != nil {
			return err
		}
		nexts := make([]Assessment, len(done))
		events := make([]audit.Event, len(done))
		byPerson := make(map[uuid.UUID]Assessment, len(done))
		for i, d := range done {
			var ap *Applied
			if a, ok := applied[d.old.PersonID]; ok {
				ap = &a
			}
			nexts[i], events[i] = completed(r.actor, d.next, d.res, d.table, ap, r.reason, now)
			byPerson[d.old.PersonID] = nexts[i]
			if nexts[i].Result.FullCost != d.old.Result.FullCost || nexts[i].Result.Assessed != d.old.Result.Assessed {
				prog.Changed++
			}
		}
		for i := range lines {
			if n, ok := byPerson[lines[i].PersonID]; ok && lines[i].Error == nil {
				lines[i].NewAssessmentID, lines[i].NewWeekly, lines[i].BudgetID = &n.ID, &n.Result.Assessed, n.budgetID
			}
		}
		if err := r.store.InsertAssessments(ctx, nexts); err != nil {
			return err
		}
		if err := r.store.InsertChanges(ctx, lines); err != nil {
			return err
		}
		if err := r.audit.RecordAll(ctx, r.actor, events); err != nil {
			return err
		}
		return r.store.AddProgress(ctx, r.job.CouncilID, r.job.ID, prog)
	})
	if err == nil {
		r.log.Debug("uprating batch", slog.String("job_id", r.job.ID.String()), slog.Int("candidates", len(batch)),
			slog.Int("processed", prog.Processed), slog.Int("changed", prog.Changed), slog.Int("skipped", prog.Skipped),
			slog.Duration("took", time.Since(began)))
	}
	return err
}

func compareIDs(a, b uuid.UUID) int { return bytes.Compare(a[:], b[:]) }

// tableOn is the table in force on a date, read once a run.
func (r *upratingRun) tableOn(ctx context.Context, on date.Date) (RateTable, error) {
	r.tablesMu.Lock()
	defer r.tablesMu.Unlock()
	if t, ok := r.tables[on]; ok {
		return t, nil
	}
	t, err := r.tableInForce(ctx, r.job.CouncilID, on)
	if err == nil {
		r.tables[on] = t
	}
	return t, err
}
