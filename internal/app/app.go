// Package app assembles pbudget from its parts: the stores on one database, the domain services,
// and the HTTP server. The binary and the HTTP tests build the service the same way, here.
package app

import (
	"context"
	"fmt"
	"log/slog"
	"time"

	"github.com/labstack/echo/v4"
	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"

	"github.com/google/uuid"

	"github.com/pbudget/pbudget/internal/actor"
	"github.com/pbudget/pbudget/internal/assessment"
	"github.com/pbudget/pbudget/internal/audit"
	"github.com/pbudget/pbudget/internal/auth"
	"github.com/pbudget/pbudget/internal/budget"
	"github.com/pbudget/pbudget/internal/charging"
	"github.com/pbudget/pbudget/internal/council"
	"github.com/pbudget/pbudget/internal/funding"
	"github.com/pbudget/pbudget/internal/httpapi"
	"github.com/pbudget/pbudget/internal/person"
	"github.com/pbudget/pbudget/internal/postgres"
	"github.com/pbudget/pbudget/internal/ras"
)

// Options configure New.
type Options struct {
	DB       *postgres.DB
	Verifier *auth.Verifier
	Log      *slog.Logger
	Now      func() time.Time // nil means time.Now
	// Background, when set, runs the service's background work (uprating jobs) until it ends.
	Background context.Context
}

// chargingBudgets lets the charging service recompose budgets without importing them.
type chargingBudgets struct{ *budget.Service }

func (b chargingBudgets) ApplyContribution(ctx context.Context, a actor.Actor, personID uuid.UUID, c charging.Contribution, reason string) (*charging.Applied, error) {
	bud, err := b.Service.ApplyContribution(ctx, a, personID, c, reason)
	if err != nil || bud == nil {
		return nil, err
	}
	v := bud.Current
	return &charging.Applied{BudgetID: bud.ID, WeeklyCost: v.WeeklyCost, WeeklyCharge: *v.PersonWeekly, Steps: v.ContributionSteps}, nil
}

// New returns the HTTP handler of the whole service and the metrics registry it reports to.
func New(o Options) (*echo.Echo, *prometheus.Registry, error) {
	now := o.Now
	if now == nil {
		now = time.Now
	}
	target, err := postgres.TargetVersion()
	if err != nil {
		return nil, nil, err
	}
	reg := prometheus.NewRegistry()
	reg.MustRegister(
		collectors.NewGoCollector(),
		collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}),
		collectors.NewDBStatsCollector(o.DB.SQL(), "pbudget"),
	)
	auditStore := postgres.NewAuditStore(o.DB, now)
	personStore := postgres.NewPersonStore(o.DB)
	rasService := ras.NewService(postgres.NewRASStore(o.DB), auditStore, o.DB, now)
	budgets := budget.NewService(postgres.NewBudgetStore(o.DB), auditStore, o.DB, now)
	chargingService := charging.NewService(postgres.NewChargingStore(o.DB), personStore, chargingBudgets{budgets}, auditStore, o.DB, now, o.Log)
	if o.Background != nil {
		go chargingService.Work(o.Background)
	}
	e, err := httpapi.New(httpapi.Deps{
		Log:          o.Log,
		Verifier:     o.Verifier,
		Councils:     council.NewService(postgres.NewCouncilStore(o.DB)),
		People:       person.NewService(personStore, auditStore, o.DB, now),
		Assessments:  assessment.NewService(postgres.NewAssessmentStore(o.DB), personStore, rasService, budgets, auditStore, o.DB, now),
		RAS:          rasService,
		Budgets:      budgets,
		Funding:      funding.NewService(postgres.NewFundingStore(o.DB), budgets, auditStore, o.DB, now),
		Charging:     chargingService,
		Audit:        audit.NewService(auditStore),
		Ready:        o.DB,
		TargetSchema: target,
		Idempotency:  postgres.NewIdempotencyStore(o.DB),
		Tx:           o.DB,
		Registry:     reg,
		Now:          now,
	})
	if err != nil {
		return nil, nil, fmt.Errorf("build HTTP server: %w", err)
	}
	return e, reg, nil
}

// SweepIdempotencyKeys deletes expired idempotency keys every interval until ctx ends. Several
// instances may sweep at once; the deletes are idempotent.
func SweepIdempotencyKeys(ctx context.Context, db *postgres.DB, interval time.Duration, log *slog.Logger) {
	store := postgres.NewIdempotencyStore(db)
	t := time.NewTicker(interval)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-t.C:
			n, err := store.DeleteExpired(ctx, time.Now())
			if err != nil {
				log.Warn("sweep idempotency keys", slog.String("error", err.Error()))
				continue
			}
			log.Debug("swept idempotency keys", slog.Int64("deleted", n))
		}
	}
}
