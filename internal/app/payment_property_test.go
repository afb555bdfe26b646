package app_test

import (
	"context"
	"fmt"
	"sort"
	"testing"

	"github.com/google/uuid"
	"github.com/stretchr/testify/require"
	"pgregory.net/rapid"

	"github.com/pbudget/pbudget/internal/actor"
	"github.com/pbudget/pbudget/internal/app"
	"github.com/pbudget/pbudget/internal/council"
	"github.com/pbudget/pbudget/internal/date"
	"github.com/pbudget/pbudget/internal/jobs"
	"github.com/pbudget/pbudget/internal/page"
	"github.com/pbudget/pbudget/internal/payment"
	"github.com/pbudget/pbudget/internal/postgres"
	"github.com/pbudget/pbudget/internal/secret"
	"github.com/pbudget/pbudget/internal/testdb"
)

// insertOnlyQueue is a job queue that no worker works: what it queues waits.
func insertOnlyQueue(tb testing.TB) *jobs.Queue {
	tb.Helper()
	q, err := jobs.New(testdb.DB(tb).SQL(), testdb.Logger(), jobs.Config{})
	require.NoError(tb, err)
	return q
}

// noBuilds leaves builds to the test, which runs them synchronously.
type noBuilds struct{}

func (noBuilds) EnqueueBuild(context.Context, uuid.UUID, uuid.UUID) error { return nil }

// event is a change to an agreement that the council learns of on a day.
type event struct {
	known date.Date
	apply func(t *rapid.T)
}

// The property, at the service level over the database: for random agreements (start and
// end dates, frequencies, net or gross, a suspension resumed with or without back pay, a revision
// mid-cycle, each learnt of late or early), runs built, approved, exported and paid one after the
// other — with payments now and then returned by the bank and paid again — pay Σ owed for the days
// in force (plus the overpayments recorded for recovery) to the penny, and no (agreement, cycle) is
// paid twice.
func TestStoredRunsPayWhatIsOwedExactlyOnce(t *testing.T) {
	// Not parallel: rapid's check count is a global flag that every parallel check reads.
	checks(t, 12) // each check builds a council's year of runs
	ctx := context.Background()
	db := testdb.DB(t)
	clk := &testClock{}
	keys := newKeys(t)
	store := postgres.NewPaymentStore(db)
	rapid.Check(t, func(rt *rapid.T) {
		svc := app.Build(db, testdb.Logger(), clk.Now, insertOnlyQueue(t), app.PaymentOptions{Keys: keys, BatchSize: rapid.IntRange(1, 3).Draw(rt, "batch")})
		svc.Payments.SetEnqueuer(noBuilds{})
		c, err := svc.Councils.Ensure(ctx, "prop-"+uuid.NewString()[:8], "Property")
		require.NoError(rt, err)
		admin := actor.Actor{Subject: "admin", CouncilID: c.ID, Roles: []actor.Role{actor.CouncilAdmin}}
		finA := actor.Actor{Subject: "finance-a", CouncilID: c.ID, Roles: []actor.Role{actor.Finance}}
		finB := actor.Actor{Subject: "finance-b", CouncilID: c.ID, Roles: []actor.Role{actor.Finance}}
		base := date.Of(2026, 4, 1)
		clk.Set(base)
		anchor := base.AddDays(rapid.IntRange(0, 40).Draw(rt, "anchor"))
		lead := rapid.IntRange(0, 14).Draw(rt, "lead_days")
		_, err = svc.Settings.Update(ctx, admin, 1, nil, func(st *council.Settings) {
			st.Payments = council.PaymentCalendar{FourWeeklyAnchor: anchor, TwoWeeklyAnchor: anchor.AddDays(3), MonthlyAnchor: anchor.AddDays(5),
				LeadDays: lead, ProcessingDays: 3}
			st.Originator = &council.Originator{ServiceUserNumber: "123456", SortCode: "401276", AccountNumber: "41234567", AccountName: "PROPERTY"}
		})
		require.NoError(rt, err)

		n := rapid.IntRange(1, 3).Draw(rt, "agreements")
		specs := make([]seedAgreement, n)
		for i := range specs {
			specs[i] = seedAgreement{Start: base.AddDays(rapid.IntRange(-30, 90).Draw(rt, fmt.Sprintf("start%d", i))),
				Frequency: rapid.SampledFrom([]string{"four_weekly", "two_weekly", "monthly"}).Draw(rt, fmt.Sprintf("frequency%d", i)),
				Basis:     rapid.SampledFrom([]string{"net", "gross"}).Draw(rt, fmt.Sprintf("basis%d", i)),
				Annual:    int64(rapid.IntRange(0, 3_000_000).Draw(rt, fmt.Sprintf("annual%d", i)))}
		}
		ids := insertAgreements(rt, db, keys, c.ID, specs)
		version := func(id uuid.UUID) int {
			r, err := store.GetAgreement(ctx, c.ID, id, payment.DirectPaymentKind, false)
			require.NoError(rt, err)
			return r.Version
		}
		var events []event
		settle := base
		ends := map[uuid.UUID]date.Date{}
		final := map[uuid.UUID]*payment.Agreement{} // the story as the test knows it, not as stored
		for i, id := range ids {
			start := specs[i].Start
			end := start.AddDays(rapid.IntRange(1, 300).Draw(rt, fmt.Sprintf("length%d", i)))
			ends[id] = end
			final[id] = &payment.Agreement{ID: id, Frequency: payment.Frequency(specs[i].Frequency), Basis: payment.Basis(specs[i].Basis),
				Periods: []payment.Period{{Start: start, End: &end}}, Amounts: []payment.Amount{{From: start, Annual: specs[i].Annual, CouncilAnnual: specs[i].Annual}}}
			endKnown := date.Later(base, end.AddDays(rapid.IntRange(-40, 40).Draw(rt, fmt.Sprintf("end_known%d", i))))
			settle = date.Later(settle, date.Later(end, endKnown))
			events = append(events, event{endKnown, func(t *rapid.T) {
				_, err := svc.Payments.End(ctx, finA, payment.DirectPaymentKind, id, version(id), end, "ended")
				require.NoError(t, err)
			}})
			if life := end.DaysSince(start); life > 1 && rapid.Bool().Draw(rt, fmt.Sprintf("suspended%d", i)) {
				from := start.AddDays(rapid.IntRange(0, life-1).Draw(rt, fmt.Sprintf("from%d", i)))
				resume := from.AddDays(rapid.IntRange(1, 60).Draw(rt, fmt.Sprintf("resume%d", i)))
				backPay := rapid.Bool().Draw(rt, fmt.Sprintf("back_pay%d", i))
				known := date.Later(base, from.AddDays(rapid.IntRange(-10, 30).Draw(rt, fmt.Sprintf("from_known%d", i))))
				resumeKnown := date.Later(known, resume.AddDays(rapid.IntRange(-5, 30).Draw(rt, fmt.Sprintf("resume_known%d", i))))
				if !known.Before(endKnown) {
					known, resumeKnown = endKnown.AddDays(-1), endKnown.AddDays(-1) // recorded before the end, so it is not refused
				}
				settle = date.Later(settle, resumeKnown)
				final[id].Suspensions = []payment.Suspension{{From: from, To: &resume, BackPay: backPay}}
				events = append(events, event{known, func(t *rapid.T) {
					_, err := svc.Payments.Suspend(ctx, finA, payment.DirectPaymentKind, id, version(id), from, "suspended")
					require.NoError(t, err)
				}}, event{resumeKnown, func(t *rapid.T) {
					_, err := svc.Payments.Resume(ctx, finA, payment.DirectPaymentKind, id, version(id), resume, backPay, "resumed")
					require.NoError(t, err)
				}})
			}
			if life := end.DaysSince(start); life > 2 && rapid.Bool().Draw(rt, fmt.Sprintf("revised%d", i)) {
				at := start.AddDays(rapid.IntRange(1, life-1).Draw(rt, fmt.Sprintf("revision%d", i)))
				annual := int64(rapid.IntRange(0, 3_000_000).Draw(rt, fmt.Sprintf("revised_annual%d", i)))
				known := date.Later(base, at.AddDays(rapid.IntRange(-20, 60).Draw(rt, fmt.Sprintf("revision_known%d", i))))
				settle = date.Later(settle, known)
				final[id].Amounts = append(final[id].Amounts, payment.Amount{From: at, Annual: annual, CouncilAnnual: annual})
				events = append(events, event{known, func(t *rapid.T) {
					r, err := store.GetAgreement(ctx, c.ID, id, payment.DirectPaymentKind, false)
					require.NoError(t, err)
					require.NoError(t, store.InsertAmount(ctx, c.ID, payment.DirectPaymentKind, payment.AmountRecord{ID: uuid.Must(uuid.NewV7()),
						AgreementID: id, EffectiveFrom: at, Annual: annual, PlanID: r.PlanID, Reason: "revised plan", RecordedBy: "test", RecordedAt: clk.Now()}))
				}})
			}
		}
		sort.SliceStable(events, func(i, j int) bool { return events[i].known.Before(events[j].known) })

		for pay := base.AddDays(7); !pay.After(settle.AddDays(70)); pay = pay.AddDays(rapid.IntRange(7, 35).Draw(rt, "step")) {
			today := pay.AddDays(-7)
			for len(events) > 0 && !events[0].known.After(today) {
				clk.Set(events[0].known)
				events[0].apply(rt)
				events = events[1:]
			}
			clk.Set(today)
			run, err := svc.Payments.CreateRun(ctx, finA, pay)
			require.NoError(rt, err)
			require.NoError(rt, svc.Payments.BuildRun(ctx, c.ID, run.ID))
			run, _, err = svc.Payments.GetRun(ctx, finA, run.ID)
			require.NoError(rt, err)
			require.Equal(rt, payment.Draft, run.Status)
			run, _, err = svc.Payments.ApproveRun(ctx, finB, run.ID, run.Version)
			require.NoError(rt, err)
			run, files, err := svc.Payments.Export(ctx, finB, run.ID, run.Version)
			require.NoError(rt, err)
			var exported int64
			for _, f := range files {
				if f.Kind != payment.FileRemittance {
					exported += f.Total
				}
			}
			require.Equal(rt, run.Totals.Total, exported, "the files add up to the run")
			var returns []payment.Return
			if pay.Before(settle) && rapid.IntRange(0, 9).Draw(rt, "return") == 0 {
				lines, err := svc.Payments.ListLines(ctx, finA, payment.LineFilter{RunID: &run.ID}, pageAll)
				require.NoError(rt, err)
				byAgreement := map[uuid.UUID]int64{}
				for _, l := range lines {
					if l.State == payment.Live && !l.Held {
						byAgreement[l.AgreementID] += l.Amount
					}
				}
				for _, l := range lines {
					if byAgreement[l.AgreementID] > 0 && len(returns) == 0 {
						returns = append(returns, payment.Return{LineID: l.ID, Reason: "account closed"})
					}
				}
			}
			run, _, err = svc.Payments.MarkPaid(ctx, finB, run.ID, run.Version, returns)
			require.NoError(rt, err)
			for _, ret := range returns {
				l, err := store.GetLine(ctx, c.ID, ret.LineID)
				require.NoError(rt, err)
				o := payment.DetailsOwner{AgreementID: &l.AgreementID}
				acct := secret.NewBankAccount("200000", "55779911", "NEW ACCOUNT")
				_, err = svc.Payments.SetDetails(ctx, finA, o, payment.DetailsInput{Bank: &acct, Reason: "new account"})
				require.NoError(rt, err)
				_, err = svc.Payments.ConfirmDetails(ctx, finB, o, payment.DetailsInput{Bank: &acct})
				require.NoError(rt, err)
			}
		}

		for _, id := range ids {
			var paid, overpaid, carried int64
			var twice int
			require.NoError(rt, db.SQL().QueryRow(`SELECT coalesce(sum(l.amount_pence), 0), coalesce(sum(l.amount_pence) FILTER (WHERE l.kind = 'carried'), 0)
				FROM payment_lines l JOIN payment_runs r ON r.council_id = l.council_id AND r.id = l.run_id
				WHERE l.council_id = $1 AND l.agreement_id = $2 AND l.state = 'live' AND r.status = 'paid'`, c.ID, id).Scan(&paid, &carried))
			require.NoError(rt, db.SQL().QueryRow(`SELECT coalesce(sum(amount_pence), 0) FROM payment_overpayments WHERE council_id = $1 AND agreement_id = $2`,
				c.ID, id).Scan(&overpaid))
			require.NoError(rt, db.SQL().QueryRow(`SELECT count(*) FROM (SELECT cycle_start FROM payment_lines l JOIN payment_runs r
				ON r.council_id = l.council_id AND r.id = l.run_id WHERE l.council_id = $1 AND l.agreement_id = $2 AND l.kind = 'cycle'
				AND l.state = 'live' GROUP BY cycle_start HAVING count(*) > 1) x`, c.ID, id).Scan(&twice))
			require.Zero(rt, twice, "no cycle paid twice")
			through := ends[id]
			s, err := svc.Payments.Schedule(ctx, finA, payment.DirectPaymentKind, id, &through)
			require.NoError(rt, err)
			var owed int64
			for _, cy := range s.Cycles {
				owed += cy.Amount
				if cy.Outstanding != 0 {
					rt.Fatalf("agreement %s cycle %s: owed %d, taken %d", id, cy.Cycle, cy.Amount, cy.Amount-cy.Outstanding)
				}
			}
			require.Zero(rt, carried, "every amount carried forward was brought forward")
			k, err := s.Calendar.Cadence(final[id].Frequency)
			require.NoError(rt, err)
			var want int64
			for _, cy := range k.CyclesBetween(final[id].Periods[0].Start, ends[id]) {
				want += final[id].Owed(cy).Amount
			}
			require.Equal(rt, want, owed, "the stored agreement owes what its story does")
			if paid != owed+overpaid {
				rt.Fatalf("agreement %s: paid %d, owed %d for the days in force, overpaid %d", id, paid, owed, overpaid)
			}
		}
	})
}

var pageAll = page.Request{Size: page.MaxSize}
