package charging

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"sync"
	"time"

	"github.com/google/uuid"

	"github.com/pbudget/pbudget/internal/actor"
	"github.com/pbudget/pbudget/internal/apperr"
	"github.com/pbudget/pbudget/internal/audit"
	"github.com/pbudget/pbudget/internal/date"
	"github.com/pbudget/pbudget/internal/page"
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
	ClaimToken  *uuid.UUID
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

const (
	jobLease   = 2 * time.Minute
	jobBatch   = 200
	jobWorkers = 4 // recalculations of different people run side by side
	pollEvery  = 5 * time.Second
)

// StartUprating queues a job that recalculates with table id every current full assessment made
// under an older table.
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
		return s.audit.Record(ctx, a, audit.Event{
			Action: "uprating_job.requested", EntityType: "uprating_job", EntityID: j.ID,
			Details: map[string]any{"rate_table_id": tableID.String(), "starts_on": j.StartsOn.String()},
		})
	})
	if err == nil {
		s.Kick()
	}
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

// Kick wakes the worker.
func (s *Service) Kick() {
	select {
	case s.kick <- struct{}{}:
	default:
	}
}

// Work runs queued jobs until ctx ends: when kicked, and every few seconds for jobs queued by other
// instances or left behind by one that stopped.
func (s *Service) Work(ctx context.Context) {
	t := time.NewTicker(pollEvery)
	defer t.Stop()
	for {
		if err := s.RunJobs(ctx); err != nil && ctx.Err() == nil {
			s.log.Error("uprating jobs", slog.String("error", err.Error()))
		}
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		case <-s.kick:
		}
	}
}

// RunJobs runs every job waiting now, then returns.
func (s *Service) RunJobs(ctx context.Context) error {
	for {
		j, err := s.store.ClaimJob(ctx, s.now(), date.Today(s.now()), jobLease)
		if err != nil || j == nil {
			return err
		}
		if err := s.runJob(ctx, *j); err != nil {
			return err
		}
	}
}

func (s *Service) runJob(ctx context.Context, j Job) error {
	table, err := s.store.GetTable(ctx, j.CouncilID, j.RateTableID, false)
	if err != nil {
		return s.failJob(ctx, j, err)
	}
	a := actor.Actor{Subject: j.RequestedBy, CouncilID: j.CouncilID, Roles: []actor.Role{actor.Finance}, RequestID: "uprating-job:" + j.ID.String()}
	if j.StartedAt == nil {
		now := s.timestamp()
		j.StartedAt = &now
	}
	remaining, err := s.store.CountAffected(ctx, j.CouncilID, table.ValidFrom, j.ID)
	if err != nil {
		return s.failJob(ctx, j, err)
	}
	j.Total = j.Processed + remaining
	if err := s.store.SaveJob(ctx, j, jobLease); err != nil {
		return err
	}
	for {
		ids, err := s.store.Affected(ctx, j.CouncilID, table.ValidFrom, j.ID, jobBatch)
		if err != nil {
			return s.failJob(ctx, j, err)
		}
		if len(ids) == 0 {
			break
		}
		var mu sync.Mutex
		var firstErr error
		job := j // the workers read this copy; j's counters change under mu
		next := make(chan uuid.UUID)
		var wg sync.WaitGroup
		for range min(jobWorkers, len(ids)) {
			wg.Add(1)
			go func() {
				defer wg.Done()
				for id := range next {
					changed, skipped, err := s.recalculate(ctx, a, job, table, id)
					mu.Lock()
					if err != nil && firstErr == nil {
						firstErr = err
					}
					if err == nil && skipped {
						j.Total--
					}
					if err == nil && !skipped {
						j.Processed++
						if changed {
							j.Changed++
						}
					}
					mu.Unlock()
				}
			}()
		}
		for _, id := range ids {
			next <- id
		}
		close(next)
		wg.Wait()
		if firstErr != nil {
			return s.failJob(ctx, j, firstErr)
		}
		// Assessments completed meanwhile under an older table join the job; superseded ones leave
		// it. (Recounting here would scan the table once a batch: the total is kept instead.)
		j.Total = max(j.Total, j.Processed)
		if err := s.store.SaveJob(ctx, j, jobLease); err != nil {
			return err // the claim was lost: another instance carries on
		}
	}
	now := s.timestamp()
	j.Status, j.FinishedAt, j.Total = Done, &now, j.Processed // nothing is left
	return s.store.SaveJob(ctx, j, 0)
}

func (s *Service) failJob(ctx context.Context, j Job, cause error) error {
	now := s.timestamp()
	msg := "the job stopped on an unexpected error; see the logs"
	j.Status, j.FinishedAt, j.Error = JobFailed, &now, &msg
	s.log.Error("uprating job failed", slog.String("job_id", j.ID.String()), slog.String("error", cause.Error()))
	return s.store.SaveJob(ctx, j, 0)
}

// recalculate makes a new assessment of one person with table, effective from its valid_from, in
// one transaction. A rule the new table cannot meet (a missing MIG rate) is reported, not fatal.
func (s *Service) recalculate(ctx context.Context, a actor.Actor, j Job, table RateTable, oldID uuid.UUID) (changed, skipped bool, err error) {
	var ruleErr error
	err = s.tx.WithinTx(ctx, func(ctx context.Context) error {
		listed, err := s.store.GetAssessment(ctx, j.CouncilID, oldID, false)
		if err != nil {
			return err
		}
		// Lock the person first, as a completion does, then read the assessment again: one
		// completed since it was listed has superseded it, and must not be overwritten with
		// a recalculation of older facts.
		p, err := s.people.GetPerson(ctx, j.CouncilID, listed.PersonID, true)
		if err != nil {
			return err
		}
		old, err := s.store.GetAssessment(ctx, j.CouncilID, oldID, true)
		if err != nil {
			return err
		}
		if old.Status != Completed || old.Result == nil {
			skipped = true
			return nil
		}
		c := Change{CouncilID: j.CouncilID, ID: uuid.Must(uuid.NewV7()), JobID: j.ID, PersonID: old.PersonID,
			PreviousAssessmentID: old.ID, PreviousWeekly: old.Result.Assessed, CreatedAt: s.timestamp()}
		next := Assessment{
			CouncilID: j.CouncilID, ID: uuid.Must(uuid.NewV7()), PersonID: old.PersonID, Kind: old.Kind, Facts: old.Facts,
		}
		// The new rates apply from the table's first day; an assessment effective later keeps its date.
		next.Facts.EffectiveDate = date.Later(old.Facts.EffectiveDate, table.ValidFrom)
		done, err := s.complete(ctx, a, next, p, fmt.Sprintf("uprating with rate table %q from %s", table.Name, table.ValidFrom))
		if err != nil {
			if apperr.KindOf(err) != apperr.RuleViolation {
				return err
			}
			ruleErr = err
			return nil
		}
		c.NewAssessmentID, c.NewWeekly = &done.ID, &done.Result.Assessed
		if done.Result.FullCost != old.Result.FullCost {
			changed = true
		}
		changed = changed || done.Result.Assessed != old.Result.Assessed
		c.BudgetID = done.budgetID
		return s.store.InsertChange(ctx, c)
	})
	if err != nil || ruleErr == nil {
		return changed, skipped, err
	}
	// Record what stopped this person's recalculation, outside the rolled-back transaction.
	return false, false, s.tx.WithinTx(ctx, func(ctx context.Context) error {
		old, err := s.store.GetAssessment(ctx, j.CouncilID, oldID, false)
		if err != nil {
			return err
		}
		msg := ruleErr.Error()
		var ae *apperr.Error
		if errors.As(ruleErr, &ae) {
			msg = ae.Message
		}
		return s.store.InsertChange(ctx, Change{CouncilID: j.CouncilID, ID: uuid.Must(uuid.NewV7()), JobID: j.ID,
			PersonID: old.PersonID, PreviousAssessmentID: old.ID, PreviousWeekly: old.Result.Assessed, Error: &msg, CreatedAt: s.timestamp()})
	})
}
