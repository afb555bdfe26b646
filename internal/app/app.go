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
	"github.com/pbudget/pbudget/internal/payment"
	"github.com/pbudget/pbudget/internal/person"
	"github.com/pbudget/pbudget/internal/plan"
	"github.com/pbudget/pbudget/internal/postgres"
	"github.com/pbudget/pbudget/internal/provider"
	"github.com/pbudget/pbudget/internal/ras"
	"github.com/pbudget/pbudget/internal/secret"
	"github.com/pbudget/pbudget/internal/workday"
)

// Options configure New.
type Options struct {
	DB       *postgres.DB
	Verifier *auth.Verifier
	Log      *slog.Logger
	Now      func() time.Time // nil means time.Now
	// Background, when set, runs the service's background work (uprating jobs, payment runs
	// left building by a restart) until it ends.
	Background context.Context
	// Payments configures payments: the encryption keys and the bank holidays.
	Payments PaymentOptions
}

// PaymentOptions configure the payments service.
type PaymentOptions struct {
	// Keys encrypt recipients' bank and card details and the export files (PB_SECRET_KEYS); without
	// them, those operations fail.
	Keys *secret.KeyRing
	// Holidays are the bank holidays BACS skips; nil means England and Wales (PB_BANK_HOLIDAYS).
	Holidays *workday.Calendar
	// Background is the context run builds run in (they outlive their request); nil means
	// context.Background().
	Background context.Context
	// BatchSize is the number of agreements a build handles per transaction (0: the default).
	BatchSize int
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
	Payments    *payment.Service
}

// afterCommitBuilds starts a run's build in a goroutine once the transaction that created the run
// commits. River replaces it: its InsertTx puts the job in the same transaction.
type afterCommitBuilds struct {
	db       *postgres.DB
	payments *payment.Service
	ctx      context.Context
}

func (b afterCommitBuilds) EnqueueBuild(ctx context.Context, councilID, runID uuid.UUID) error {
	b.db.AfterCommit(ctx, func() {
		go func() { _ = b.payments.BuildRun(b.ctx, councilID, runID) }() // a failure is recorded on the run
	})
	return nil
}

// Build wires the stores and services of db; pay, when given, configures payments.
func Build(db *postgres.DB, log *slog.Logger, now func() time.Time, pay ...PaymentOptions) Services {
	auditStore := postgres.NewAuditStore(db, now)
	personStore := postgres.NewPersonStore(db)
	rasService := ras.NewService(postgres.NewRASStore(db), auditStore, db, now)
	budgets := budget.NewService(postgres.NewBudgetStore(db), auditStore, db, now)
	people := person.NewService(personStore, auditStore, db, now)
	providerStore := postgres.NewProviderStore(db)
	settings := council.NewSettingsService(postgres.NewSettingsStore(db), auditStore, db, now)
	var po PaymentOptions
	if len(pay) > 0 {
		po = pay[0]
	}
	holidays := workday.EnglandAndWales()
	if po.Holidays != nil {
		holidays = *po.Holidays
	}
	bg := po.Background
	if bg == nil {
		bg = context.Background()
	}
	plans := plan.NewService(plan.Deps{Store: postgres.NewPlanStore(db), Budgets: budgets, People: personStore, Reach: people,
		Providers: providerStore, Settings: settings, Audit: auditStore, Tx: db, Now: now})
	providers := provider.NewService(providerStore, auditStore, db, now)
	payments := payment.NewService(payment.Deps{Store: postgres.NewPaymentStore(db), Settings: settings, Plans: plans, Budgets: budgets,
		Providers: providers, Keys: po.Keys, Holidays: holidays, Audit: auditStore, Tx: db, Now: now, Log: log, BatchSize: po.BatchSize})
	payments.SetEnqueuer(afterCommitBuilds{db: db, payments: payments, ctx: bg})
	settings.Guard(payments)
	return Services{
		Councils:    council.NewService(postgres.NewCouncilStore(db)),
		People:      people,
		Assessments: assessment.NewService(postgres.NewAssessmentStore(db), personStore, rasService, budgets, auditStore, db, now),
		RAS:         rasService,
		Budgets:     budgets,
		Funding:     funding.NewService(postgres.NewFundingStore(db), budgets, auditStore, db, now),
		Charging:    charging.NewService(postgres.NewChargingStore(db), personStore, chargingBudgets{budgets}, auditStore, db, now, log),
		Audit:       audit.NewService(auditStore),
		Plans:       plans,
		Providers:   providers,
		Settings:    settings,
		Payments:    payments,
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
	pay := o.Payments
	if pay.Background == nil {
		pay.Background = o.Background
	}
	svc := Build(o.DB, o.Log, now, pay)
	if o.Background != nil {
		go svc.Charging.Work(o.Background)
		go svc.Payments.ResumeBuilds(o.Background)
	}
	e, err := httpapi.New(httpapi.Deps{
		Log: o.Log, Verifier: o.Verifier, Councils: svc.Councils, People: svc.People, Assessments: svc.Assessments,
		RAS: svc.RAS, Budgets: svc.Budgets, Funding: svc.Funding, Charging: svc.Charging, Audit: svc.Audit,
		Plans: svc.Plans, Providers: svc.Providers, Settings: svc.Settings, Payments: svc.Payments,
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
