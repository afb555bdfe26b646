package app_test

import (
	"context"
	"flag"
	"fmt"
	"strconv"
	"testing"

	"github.com/google/uuid"
	"github.com/stretchr/testify/require"
	"pgregory.net/rapid"

	"github.com/pbudget/pbudget/internal/actor"
	"github.com/pbudget/pbudget/internal/app"
	"github.com/pbudget/pbudget/internal/date"
	"github.com/pbudget/pbudget/internal/review"
	"github.com/pbudget/pbudget/internal/reviews"
	"github.com/pbudget/pbudget/internal/testdb"
)

// The property over the database: for random people — adults and children in need, with
// no plan, a plan, or a plan and its revision, approved on random days with lines starting before
// or after, budgets open or ended, a last review (no change, or services ended; with or without an
// earlier next date set by the reviewer) and requests for unplanned reviews made through the
// service — the review sweep leaves every person whose budget has an approved plan (and whose
// services no review ended since) exactly one next review, due on the date the rules give for the
// facts as the test knows them, on the plan in force; everyone else none; and sweeping again
// changes nothing.
func TestEveryPersonWithAnApprovedPlanHasExactlyOneStoredNextReview(t *testing.T) {
	// Not parallel: rapid's check count is a global flag that every parallel check reads.
	checks(t, 60) // each check is a council (about 20 ms)
	ctx := context.Background()
	db := testdb.DB(t)
	clk := &testClock{}
	today := date.Of(2026, 12, 2)
	clk.Set(today)
	exec := func(t *rapid.T, q string, args ...any) {
		_, err := db.SQL().ExecContext(ctx, q, args...)
		require.NoError(t, err, q)
	}
	rapid.Check(t, func(rt *rapid.T) {
		svc := app.Build(db, testdb.Logger(), clk.Now, insertOnlyQueue(t))
		c, err := svc.Councils.Ensure(ctx, "rev-"+uuid.NewString()[:8], "Reviews property")
		require.NoError(rt, err)
		staff := actor.Actor{Subject: "practitioner", CouncilID: c.ID, Roles: []actor.Role{actor.Practitioner}}
		policy := svc.Reviews.Policy()
		day := func(label string) date.Date {
			return date.Of(2025, 1, 1).AddDays(rapid.IntRange(0, 700).Draw(rt, label))
		}

		n := rapid.IntRange(1, 6).Draw(rt, "people")
		type story struct {
			facts    review.Facts
			inForce  uuid.UUID // the plan the review is of (zero: none)
			hasPlan  bool      // an approved plan of a budget not ended
			personID uuid.UUID
		}
		stories := make([]story, n)
		for i := range stories {
			s := &stories[i]
			label := func(what string) string { return fmt.Sprintf("%s%d", what, i) }
			child := rapid.Bool().Draw(rt, label("child"))
			kind := "adult"
			if child {
				kind = "child"
			}
			s.personID = uuid.Must(uuid.NewV7())
			p, b := s.personID, uuid.Must(uuid.NewV7())
			exec(rt, `INSERT INTO people (council_id, id, given_name, family_name, date_of_birth, person_type, created_at, updated_at)
				VALUES ($1, $2, 'Review', 'Property', $3, $4, now(), now())`, c.ID, p, map[bool]string{true: "2015-06-01", false: "1960-06-01"}[child], kind)
			ended := rapid.IntRange(0, 9).Draw(rt, label("budget_ended")) == 0
			status, end := "agreed", (*date.Date)(nil)
			if ended {
				d := today.AddDays(-10)
				status, end = "ended", &d
			}
			exec(rt, `INSERT INTO personal_budgets (council_id, id, person_id, kind, status, start_date, end_date, version, created_at, updated_at)
				VALUES ($1, $2, $3, 'care_and_support', $4, '2025-01-01', $5, 1, now(), now())`, c.ID, b, p, status, end)
			plans := rapid.IntRange(0, 2).Draw(rt, label("plans"))
			var previous *uuid.UUID
			approved := day(label("approved"))
			for k := range plans {
				id := uuid.Must(uuid.NewV7())
				st := "approved"
				if k < plans-1 {
					st = "superseded"
				}
				if k > 0 {
					approved = approved.AddDays(rapid.IntRange(0, 200).Draw(rt, label(fmt.Sprintf("revised%d_", k))))
				}
				exec(rt, `INSERT INTO support_plans (council_id, id, budget_id, person_id, number, status, revises_id, approved_at, approved_by, sign_off_checks,
					version, created_at, updated_at) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, 'approver', '{}', 1, $8, $8)`,
					c.ID, id, b, p, k+1, st, previous, approved.Start().Add(10*60*60*1e9))
				lineStart := approved.AddDays(rapid.IntRange(-30, 30).Draw(rt, label(fmt.Sprintf("line%d_", k))))
				exec(rt, `INSERT INTO plan_lines (council_id, id, plan_id, position, category, description, unit_cost_pence, unit, quantity_hundredths,
					frequency, start_date, end_date, management_option, annual_cost_pence, weekly_cost_pence)
					VALUES ($1, $2, $3, 1, 'home_care', 'home care', 2000, 'hour', 500, 'per_week', $4, $5, 'council_managed', 520000, 10000)`,
					c.ID, uuid.Must(uuid.NewV7()), id, lineStart, lineStart.AddDays(365))
				if st == "approved" && !ended {
					s.hasPlan, s.inForce = true, id
					s.facts.Plans = append(s.facts.Plans, review.PlanStart{PlanID: id, Start: date.Later(approved, lineStart)})
				}
				previous = &id
			}
			if child && rapid.Bool().Draw(rt, label("in_need")) {
				since := day(label("in_need_since"))
				exec(rt, `INSERT INTO assessments (council_id, id, person_id, type, basis, status, practitioner, eligibility, eligible, completed_at,
					completed_by, version, created_at, updated_at) VALUES ($1, $2, $3, 'child', 'child', 'completed', 'practitioner', '{}', true, $4, 'practitioner', 2, $4, $4)`,
					c.ID, uuid.Must(uuid.NewV7()), p, since.Start().Add(12*60*60*1e9))
				s.facts.ChildInNeedSince = &since
			}
			if s.inForce != uuid.Nil && rapid.Bool().Draw(rt, label("reviewed")) {
				held := day(label("held"))
				decision := rapid.SampledFrom([]review.Decision{review.DecisionNoChange, review.DecisionEndServices}).Draw(rt, label("decision"))
				var next *date.Date
				if decision == review.DecisionNoChange && rapid.Bool().Draw(rt, label("next_set")) {
					d := held.AddDays(rapid.IntRange(1, 400).Draw(rt, label("next_due")))
					next = &d
				}
				id := uuid.Must(uuid.NewV7())
				exec(rt, `INSERT INTO reviews (council_id, id, person_id, plan_id, held_on, reviewer, reason, achievement, needs_changed, decision, next_due,
					recorded_by, created_at) VALUES ($1, $2, $3, $4, $5, 'practitioner', 'planned', '', false, $6, $7, 'practitioner', now())`,
					c.ID, id, p, s.inForce, held, string(decision), next)
				s.facts.Reviews = append(s.facts.Reviews, review.Completed{ReviewID: id, Date: held, Decision: decision, NextDue: next})
			}
		}
		require.NoError(rt, func() error { _, err := svc.Reviews.SweepCouncil(ctx, c.ID); return err }())
		// Requests through the service: each recomputes the person's schedule in its transaction.
		for i := range stories {
			s := &stories[i]
			if !s.hasPlan || !rapid.Bool().Draw(rt, fmt.Sprintf("request%d", i)) {
				continue
			}
			on := today.AddDays(-rapid.IntRange(0, 60).Draw(rt, fmt.Sprintf("requested%d", i)))
			r, _, err := svc.Reviews.RequestReview(ctx, staff, s.personID, reviews.RequestInput{Reason: review.ReasonSafeguarding, RequestedOn: &on})
			require.NoError(rt, err)
			s.facts.Requests = append(s.facts.Requests, review.Request{RequestID: r.ID, Date: on, Reason: review.ReasonSafeguarding})
		}

		check := func(when string) {
			for i, s := range stories {
				var rows []struct {
					DueDate date.Date
					Rule    string
					PlanID  uuid.UUID
				}
				sqlRows, err := db.SQL().QueryContext(ctx, `SELECT due_date, rule, plan_id FROM review_schedules WHERE council_id = $1 AND person_id = $2`, c.ID, s.personID)
				require.NoError(rt, err)
				for sqlRows.Next() {
					var r struct {
						DueDate date.Date
						Rule    string
						PlanID  uuid.UUID
					}
					require.NoError(rt, sqlRows.Scan(&r.DueDate, &r.Rule, &r.PlanID))
					rows = append(rows, r)
				}
				require.NoError(rt, sqlRows.Err())
				require.NoError(rt, sqlRows.Close())
				want, due := review.Next(s.facts, policy)
				if !due {
					require.Empty(rt, rows, "%s: person %d has no next review (plan: %v)", when, i, s.hasPlan)
					continue
				}
				require.True(rt, s.hasPlan)
				require.Len(rt, rows, 1, "%s: person %d has exactly one next review", when, i)
				require.Equal(rt, want.Date, rows[0].DueDate, "%s: person %d's due date", when, i)
				require.Equal(rt, string(want.Rule), rows[0].Rule, "%s: person %d's rule", when, i)
				require.Equal(rt, s.inForce, rows[0].PlanID, "%s: person %d's plan in force", when, i)
			}
			// Only a review that ended services takes away the next review of a person with an approved plan.
			for i, s := range stories {
				if _, due := review.Next(s.facts, policy); s.hasPlan && !due {
					last := s.facts.Reviews[len(s.facts.Reviews)-1]
					require.Equal(rt, review.DecisionEndServices, last.Decision, "person %d", i)
				}
			}
		}
		check("after the sweep and the requests")
		_, err = svc.Reviews.SweepCouncil(ctx, c.ID)
		require.NoError(rt, err)
		check("after sweeping again")
	})
}

// checks sets rapid's number of checks for this (sequential) test, unless -rapid.checks was
// given, and restores it after: parallel tests, which run after every sequential one, read the
// default.
func checks(t *testing.T, n int) {
	f := flag.Lookup("rapid.checks")
	if f == nil || f.Value.String() != f.DefValue {
		return
	}
	require.NoError(t, flag.Set("rapid.checks", strconv.Itoa(n)))
	t.Cleanup(func() { _ = flag.Set("rapid.checks", f.DefValue) })
}
