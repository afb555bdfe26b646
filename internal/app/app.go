// Package app assembles pbudget from its parts: the stores on one database, the domain services,
// and the HTTP server. The binary and the HTTP tests build the service the same way, here.
package app

import (
	"context"
	"fmt"
	"log/slog"
	"net/http"
	"time"

	"github.com/labstack/echo/v4"
	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"
	"github.com/prometheus/client_golang/prometheus/promhttp"

	"github.com/google/uuid"

	"github.com/pbudget/pbudget/internal/access"
	"github.com/pbudget/pbudget/internal/accounts"
	"github.com/pbudget/pbudget/internal/actor"
	"github.com/pbudget/pbudget/internal/assessment"
	"github.com/pbudget/pbudget/internal/audit"
	"github.com/pbudget/pbudget/internal/auth"
	"github.com/pbudget/pbudget/internal/budget"
	"github.com/pbudget/pbudget/internal/buildinfo"
	"github.com/pbudget/pbudget/internal/charging"
	"github.com/pbudget/pbudget/internal/cldexport"
	"github.com/pbudget/pbudget/internal/council"
	"github.com/pbudget/pbudget/internal/dpfinance"
	"github.com/pbudget/pbudget/internal/funding"
	"github.com/pbudget/pbudget/internal/httpapi"
	"github.com/pbudget/pbudget/internal/jobs"
	"github.com/pbudget/pbudget/internal/payment"
	"github.com/pbudget/pbudget/internal/person"
	"github.com/pbudget/pbudget/internal/plan"
	"github.com/pbudget/pbudget/internal/portal"
	"github.com/pbudget/pbudget/internal/postgres"
	"github.com/pbudget/pbudget/internal/provider"
	"github.com/pbudget/pbudget/internal/ras"
	"github.com/pbudget/pbudget/internal/report"
	"github.com/pbudget/pbudget/internal/reviews"
	"github.com/pbudget/pbudget/internal/secret"
	"github.com/pbudget/pbudget/internal/webhook/outbox"
	"github.com/pbudget/pbudget/internal/workday"
)

// Options configure New.
type Options struct {
	DB       *postgres.DB
	Verifier *auth.Verifier
	Log      *slog.Logger
	Now      func() time.Time // nil means time.Now
	// Jobs is this instance's job queue; nil: New makes one (which is then never stopped).
	Jobs *jobs.Queue
	// Background, when set, makes this instance work the job queues until it ends or Jobs stops.
	Background context.Context
	// Collectors are registered on the service's metrics registry beside its own: the hook for
	// metrics of parts built outside New (queue gauges, for one).
	Collectors []prometheus.Collector
	// Access keeps the access records of reads of personal data; the caller runs it (Run) and stops
	// it after the HTTP server has stopped, so that the last reads' records are written (serve
	// does). nil: New makes one with NewAccessWriter and runs it until Background ends (for the
	// life of the process without Background), writing what it holds when Background ends.
	Access *access.Writer
	// Payments configures payments: the encryption keys and the bank holidays.
	Payments PaymentOptions
	// Webhooks configures webhook delivery: the API's public root for links, the retry schedule,
	// and (tests only) loopback receivers. The signing secrets are sealed with Payments.Keys.
	Webhooks outbox.Options
}

// PaymentOptions configure the payments service.
type PaymentOptions struct {
	// Keys encrypt recipients' bank and card details and the export files (PB_SECRET_KEYS); without
	// them, those operations fail.
	Keys *secret.KeyRing
	// Holidays are the bank holidays BACS skips; nil means England and Wales (PB_BANK_HOLIDAYS).
	Holidays *workday.Calendar
	// BatchSize is the number of agreements a build handles per transaction (0: the default).
	BatchSize int
}

// NewAccessWriter returns a writer of db's access records with the default batching
// (access.DefaultBatchSize records or access.DefaultFlushInterval, whichever comes first).
func NewAccessWriter(db *postgres.DB, log *slog.Logger) *access.Writer {
	return access.NewWriter(postgres.NewAccessStore(db), access.WriterOptions{Log: log})
}

// chargingBudgets lets the charging service recompose budgets without importing them, and
// reaches the payments with each changed contribution in the same transaction: the net
// agreements of the budget's approved plan are repriced from the contribution's effective date
// (payment.Service.RepriceForContributions), so a backdated change adjusts the cycles already
// paid in the next run.
type chargingBudgets struct {
	*budget.Service
	payments *payment.Service // set once the payments service is built
}

func (b *chargingBudgets) ApplyContribution(ctx context.Context, a actor.Actor, personID uuid.UUID, c charging.Contribution, reason string) (*charging.Applied, error) {
	bud, err := b.Service.ApplyContribution(ctx, a, personID, c, reason)
	if err != nil || bud == nil {
		return nil, err
	}
	if err := b.payments.RepriceForContributions(ctx, a, map[uuid.UUID]charging.Contribution{bud.ID: c}, reason); err != nil {
		return nil, err
	}
	applied := appliedOf(*bud)
	return &applied, nil
}

func (b *chargingBudgets) ApplyContributions(ctx context.Context, a actor.Actor, cs map[uuid.UUID]charging.Contribution, reason string) (map[uuid.UUID]charging.Applied, error) {
	buds, err := b.Service.ApplyContributions(ctx, a, cs, reason)
	if err != nil {
		return nil, err
	}
	out := make(map[uuid.UUID]charging.Applied, len(buds))
	byBudget := make(map[uuid.UUID]charging.Contribution, len(buds))
	for personID, bud := range buds {
		out[personID] = appliedOf(bud)
		byBudget[bud.ID] = cs[personID]
	}
	if err := b.payments.RepriceForContributions(ctx, a, byBudget, reason); err != nil {
		return nil, err
	}
	return out, nil
}

func appliedOf(bud budget.Budget) charging.Applied {
	v := bud.Current
	return charging.Applied{BudgetID: bud.ID, WeeklyCost: v.WeeklyCost, WeeklyCharge: *v.PersonWeekly, Steps: v.ContributionSteps}
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
	Payments    *payment.Service
	Portal      *portal.Service
	// CLD produces the quarterly client-level data returns.
	CLD *cldexport.Service
	// Reports computes the weekly report.
	Reports *report.Service
	// Reviews keeps each person's next review and records reviews.
	Reviews *reviews.Service
	// Finance keeps ISF statements, recoveries and direct-payment audits.
	Finance *dpfinance.Service
	// Webhooks is the outbox (a webhook.Emitter for every service) and the webhooks around it.
	Webhooks *outbox.Service
	// Accounts keeps direct-payment accounts: ledgers, statements, flags and evidence.
	Accounts *accounts.Service
}

// Build wires the stores and services of db; q queues their background work; pay, when given,
// configures payments.
func Build(db *postgres.DB, log *slog.Logger, now func() time.Time, q *jobs.Queue, pay ...PaymentOptions) Services {
	trail := postgres.NewAuditStore(db, now)
	var po PaymentOptions
	if len(pay) > 0 {
		po = pay[0]
	}
	webhookStore := postgres.NewWebhookStore(db)
	webhooks := outbox.NewService(outbox.Deps{Store: webhookStore, Subjects: webhookStore, Queue: q, Keys: po.Keys, Audit: trail, Tx: db, Now: now},
		outbox.Options{})
	// Every service records its changes through auditStore, which also announces the changes that
	// are webhook events (outbox.Announcing), in the same transaction.
	auditStore := webhooks.Announcing(trail)
	personStore := postgres.NewPersonStore(db)
	rasService := ras.NewService(postgres.NewRASStore(db), auditStore, db, now)
	budgets := budget.NewService(postgres.NewBudgetStore(db), auditStore, db, now)
	people := person.NewService(personStore, auditStore, db, now)
	providerStore := postgres.NewProviderStore(db)
	settings := council.NewSettingsService(postgres.NewSettingsStore(db), auditStore, db, now)
	cb := &chargingBudgets{Service: budgets}
	chargingService := charging.NewService(postgres.NewChargingStore(db), personStore, cb, auditStore, db, q, now, log)
	// An uprating job takes at most a quarter of the pool, so that requests keep the rest.
	chargingService.SetUpratingBatches(charging.UpratingBatches{Concurrent: min(4, max(1, db.SQL().Stats().MaxOpenConnections/4))})
	holidays := workday.EnglandAndWales()
	if po.Holidays != nil {
		holidays = *po.Holidays
	}
	plans := plan.NewService(plan.Deps{Store: postgres.NewPlanStore(db), Budgets: budgets, People: personStore, Reach: people,
		Providers: providerStore, Settings: settings, Audit: auditStore, Tx: db, Now: now})
	providers := provider.NewService(providerStore, auditStore, db, now)
	payments := payment.NewService(payment.Deps{Store: postgres.NewPaymentStore(db), Settings: settings, Plans: plans, Budgets: budgets,
		Providers: providers, Keys: po.Keys, Holidays: holidays, Audit: auditStore, Tx: db, Now: now, Log: log, BatchSize: po.BatchSize})
	payments.SetEnqueuer(q) // a run's build is a River job, inserted in the transaction that creates the run
	cb.payments = payments
	settings.Guard(payments)
	assessments := assessment.NewService(postgres.NewAssessmentStore(db), personStore, rasService, budgets, auditStore, db, now)
	accountsService := accounts.NewService(postgres.NewAccountStore(db), q, auditStore, db, now)
	reviewService := reviews.NewService(reviews.Deps{Store: postgres.NewReviewStore(db), Reassessor: reassessor{assessments},
		Reviser: reviser{plans}, Reach: people, Events: webhooks, Audit: auditStore, Tx: db, Now: now})
	councilService := council.NewServiceAt(postgres.NewCouncilStore(db), now)
	finance := dpfinance.NewService(dpfinance.Deps{Store: postgres.NewDPFinanceStore(db), Settings: settings, Payments: payments, Audit: auditStore, Tx: db, Now: now})
	payments.SetRecoveries(finance) // runs take recoveries' offsets as recovery lines; a paid run records them
	return Services{
		Finance:     finance,
		Accounts:    accountsService,
		Reviews:     reviewService,
		Reports:     report.NewService(postgres.NewReportStore(db), now),
		CLD:         cldexport.NewService(postgres.NewCLDStore(db), q, auditStore, db, now),
		Councils:    councilService,
		People:      people,
		Assessments: assessments,
		RAS:         rasService,
		Budgets:     budgets,
		Funding:     funding.NewService(postgres.NewFundingStore(db), budgets, settings, auditStore, db, now),
		Charging:    chargingService,
		Audit:       audit.NewService(trail),
		Access:      access.NewService(postgres.NewAccessStore(db)),
		Plans:       plans,
		Providers:   providers,
		Settings:    settings,
		Payments:    payments,
		Portal: portal.NewService(people, budgets, chargingService, plans, payments, postgres.NewPortalStore(db), auditStore, db, now).
			WithReviews(reviewService).WithAccounts(accountsService, postgres.NewPortalAccountStore(db)).WithFinance(finance),
		Webhooks: webhooks,
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
	reg, err := NewRegistry(o.DB, append([]prometheus.Collector{jobs.NewQueueCollector(o.DB.SQL(), o.Log)}, o.Collectors...)...)
	if err != nil {
		return nil, nil, err
	}
	q := o.Jobs
	if q == nil {
		if q, err = jobs.New(o.DB.SQL(), o.Log, jobs.Config{}); err != nil {
			return nil, nil, err
		}
	}
	svc := Build(o.DB, o.Log, now, q, o.Payments)
	svc.Webhooks.Configure(o.Webhooks)
	if o.Background != nil {
		if err := q.Start(o.Background, WorkerDeps(o.DB, svc)); err != nil {
			return nil, nil, err
		}
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
		Plans: svc.Plans, Providers: svc.Providers, Settings: svc.Settings, Payments: svc.Payments, Portal: svc.Portal,
		Webhooks: svc.Webhooks, Reviews: svc.Reviews, CLD: svc.CLD, Reports: svc.Reports, Finance: svc.Finance, Accounts: svc.Accounts,
		Ready: o.DB, TargetSchema: target, Idempotency: postgres.NewIdempotencyStore(o.DB), Tx: o.DB,
		Registry: reg, Now: now,
	})
	if err != nil {
		return nil, nil, fmt.Errorf("build HTTP server: %w", err)
	}
	return e, reg, nil
}

// NewRegistry returns the one metrics registry of an instance, the only place metrics are
// registered and the one /metrics serves (MetricsHandler): the Go runtime and process, the
// database pool (pbudget_db_pool_*, and go_sql_* with db_name="pbudget" for database/sql's share of
// it: open, in use, waits), the transactions and
// their round trips (pbudget_db_transactions_total, pbudget_db_transaction_round_trips_total), the build
// (pbudget_build_info), extra, and the HTTP metrics httpapi registers.
func NewRegistry(db *postgres.DB, extra ...prometheus.Collector) (*prometheus.Registry, error) {
	reg := prometheus.NewRegistry()
	b := buildinfo.Get()
	build := prometheus.NewGauge(prometheus.GaugeOpts{
		Name: "pbudget_build_info", Help: "The running build: always 1, with its version, commit and Go version as labels.",
		ConstLabels: prometheus.Labels{"version": b.Version, "commit": b.Commit, "go_version": b.GoVersion},
	})
	build.Set(1)
	for _, c := range append([]prometheus.Collector{
		collectors.NewGoCollector(),
		collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}),
		collectors.NewDBStatsCollector(db.SQL(), "pbudget"),
		build,
	}, append(db.Collectors(), extra...)...) {
		if err := reg.Register(c); err != nil {
			return nil, fmt.Errorf("register metrics: %w", err)
		}
	}
	return reg, nil
}

// MetricsHandler serves reg in the Prometheus exposition formats. It is served on its own listener
// (PB_METRICS_ADDR), never on the API's port: metrics carry no personal data, but they describe
// every council of the instance.
func MetricsHandler(reg *prometheus.Registry) http.Handler {
	mux := http.NewServeMux()
	mux.Handle("GET /metrics", promhttp.HandlerFor(reg, promhttp.HandlerOpts{Registry: reg}))
	return mux
}

// BuildOffline wires the services of db for a command outside serve (council create, load, seed):
// its job queue inserts jobs, in their transactions, for an instance that serves to work.
func BuildOffline(db *postgres.DB, pay ...PaymentOptions) (Services, error) {
	q, err := jobs.New(db.SQL(), slog.Default(), jobs.Config{})
	if err != nil {
		return Services{}, err
	}
	return Build(db, slog.Default(), time.Now, q, pay...), nil
}

// WorkerDeps are the services the background workers of db call.
func WorkerDeps(db *postgres.DB, svc Services) jobs.Deps {
	return jobs.Deps{Uprating: svc.Charging, PaymentRuns: svc.Payments, IdempotencyKeys: postgres.NewIdempotencyStore(db),
		Webhooks: svc.Webhooks, Reviews: svc.Reviews, CLD: svc.CLD, Audits: svc.Finance, Statements: svc.Accounts}
}
