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

	"github.com/pbudget/pbudget/internal/assessment"
	"github.com/pbudget/pbudget/internal/audit"
	"github.com/pbudget/pbudget/internal/auth"
	"github.com/pbudget/pbudget/internal/budget"
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
	e, err := httpapi.New(httpapi.Deps{
		Log:          o.Log,
		Verifier:     o.Verifier,
		Councils:     council.NewService(postgres.NewCouncilStore(o.DB)),
		People:       person.NewService(personStore, auditStore, o.DB, now),
		Assessments:  assessment.NewService(postgres.NewAssessmentStore(o.DB), personStore, rasService, budgets, auditStore, o.DB, now),
		RAS:          rasService,
		Budgets:      budgets,
		Funding:      funding.NewService(postgres.NewFundingStore(o.DB), budgets, auditStore, o.DB, now),
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
