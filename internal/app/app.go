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

	"github.com/pbudget/pbudget/internal/access"
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
	"github.com/pbudget/pbudget/internal/plan"
	"github.com/pbudget/pbudget/internal/postgres"
	"github.com/pbudget/pbudget/internal/provider"
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
	// Access keeps the access records of reads of personal data; the caller runs it (Run) and stops
	// it after the HTTP server has stopped, so that the last reads' records are written (serve
	// does). nil: New makes one with NewAccessWriter and runs it until Background ends (for the
	// life of the process without Background), writing what it holds when Background ends.
	Access *access.Writer
}

// NewAccessWriter returns a writer of db's access records with the default batching
// (access.DefaultBatchSize records or access.DefaultFlushInterval, whichever comes first).
func NewAccessWriter(db *postgres.DB, log *slog.Logger) *access.Writer {
	return access.NewWriter(postgres.NewAccessStore(db), access.WriterOptions{Log: log})
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

// Services are the domain services of one database.
type Services struct {
	Councils    *council.Service
	People      *person.Service
	Assessments *assessment.Service
	RAS         *ras.Service
	Budgets     *budget.Service
	Funding     *funding.Service
	Charging    *charging.Service
	Plans       *plan.Service
	Providers   *provider.Service
	Settings    *council.SettingsService
	Audit       *audit.Service
	Access      *access.Service
}

// Build wires the stores and services of db.
func Build(db *postgres.DB, log *slog.Logger, now func() time.Time) Services {
	auditStore := postgres.NewAuditStore(db, now)
	personStore := postgres.NewPersonStore(db)
	rasService := ras.NewService(postgres.NewRASStore(db), auditStore, db, now)
	budgets := budget.NewService(postgres.NewBudgetStore(db), auditStore, db, now)
	people := person.NewService(personStore, auditStore, db, now)
	providerStore := postgres.NewProviderStore(db)
	settings := council.NewSettingsService(postgres.NewSettingsStore(db), auditStore, db, now)
	return Services{
		Councils:    council.NewService(postgres.NewCouncilStore(db)),
		People:      people,
		Assessments: assessment.NewService(postgres.NewAssessmentStore(db), personStore, rasService, budgets, auditStore, db, now),
		RAS:         rasService,
		Budgets:     budgets,
		Funding:     funding.NewService(postgres.NewFundingStore(db), budgets, settings, auditStore, db, now),
		Charging:    charging.NewService(postgres.NewChargingStore(db), personStore, chargingBudgets{budgets}, auditStore, db, now, log),
		Audit:       audit.NewService(auditStore),
		Access:      access.NewService(postgres.NewAccessStore(db)),
		Plans: plan.NewService(plan.Deps{Store: postgres.NewPlanStore(db), Budgets: budgets, People: personStore, Reach: people,
			Providers: providerStore, Settings: settings, Audit: auditStore, Tx: db, Now: now}),
		Providers: provider.NewService(providerStore, auditStore, db, now),
		Settings:  settings,
	}
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
	svc := Build(o.DB, o.Log, now)
	if o.Background != nil {
		go svc.Charging.Work(o.Background)
	}
	accessLog := o.Access
	if accessLog == nil {
		accessLog = NewAccessWriter(o.DB, o.Log)
		bg := o.Background
		if bg == nil {
			bg = context.Background()
		}
		go accessLog.Run(bg)
	}
	reg.MustRegister(accessLog.Collectors()...)
	e, err := httpapi.New(httpapi.Deps{
		Log: o.Log, Verifier: o.Verifier, Councils: svc.Councils, People: svc.People, Assessments: svc.Assessments,
		RAS: svc.RAS, Budgets: svc.Budgets, Funding: svc.Funding, Charging: svc.Charging, Audit: svc.Audit,
		Access: svc.Access, AccessLog: accessLog,
		Plans: svc.Plans, Providers: svc.Providers, Settings: svc.Settings,
		Ready: o.DB, TargetSchema: target, Idempotency: postgres.NewIdempotencyStore(o.DB), Tx: o.DB,
		Registry: reg, Now: now,
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
