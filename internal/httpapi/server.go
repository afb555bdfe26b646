// Package httpapi is the HTTP face of pbudget: it implements the strict server generated from
// openapi.yaml, enforces the contract on every request (authentication, roles, body limits,
// validation), renders every error as problem+json, and observes every request.
package httpapi

import (
	"context"
	"fmt"
	"log/slog"
	"time"

	"github.com/getkin/kin-openapi/openapi3"
	"github.com/getkin/kin-openapi/openapi3filter"
	"github.com/labstack/echo/v4"
	"github.com/prometheus/client_golang/prometheus"

	"github.com/pbudget/pbudget"
	"github.com/pbudget/pbudget/api"
	"github.com/pbudget/pbudget/docs"
	"github.com/pbudget/pbudget/internal/access"
	"github.com/pbudget/pbudget/internal/accounts"
	"github.com/pbudget/pbudget/internal/assessment"
	"github.com/pbudget/pbudget/internal/audit"
	"github.com/pbudget/pbudget/internal/auth"
	"github.com/pbudget/pbudget/internal/budget"
	"github.com/pbudget/pbudget/internal/charging"
	"github.com/pbudget/pbudget/internal/cldexport"
	"github.com/pbudget/pbudget/internal/council"
	"github.com/pbudget/pbudget/internal/dpfinance"
	"github.com/pbudget/pbudget/internal/funding"
	"github.com/pbudget/pbudget/internal/idempotency"
	"github.com/pbudget/pbudget/internal/payment"
	"github.com/pbudget/pbudget/internal/person"
	"github.com/pbudget/pbudget/internal/plan"
	"github.com/pbudget/pbudget/internal/portal"
	"github.com/pbudget/pbudget/internal/provider"
	"github.com/pbudget/pbudget/internal/ras"
	"github.com/pbudget/pbudget/internal/report"
	"github.com/pbudget/pbudget/internal/reviews"
	"github.com/pbudget/pbudget/internal/txn"
	"github.com/pbudget/pbudget/internal/webhook/outbox"
)

// Readiness reports whether the database answers and which migration it has.
type Readiness interface {
	Ping(ctx context.Context) error
	SchemaVersion(ctx context.Context) (int64, error)
}

// Deps are what the server needs.
type Deps struct {
	Log          *slog.Logger
	Verifier     *auth.Verifier
	Councils     *council.Service
	People       *person.Service
	Assessments  *assessment.Service
	RAS          *ras.Service
	Budgets      *budget.Service
	Funding      *funding.Service
	Charging     *charging.Service
	Plans        *plan.Service
	Providers    *provider.Service
	Settings     *council.SettingsService
	Audit        *audit.Service
	Access       *access.Service
	AccessLog    access.Recorder // keeps the access record of every personal read; required
	Payments     *payment.Service
	Portal       *portal.Service
	Webhooks     *outbox.Service
	Reviews      *reviews.Service
	CLD          *cldexport.Service
	Reports      *report.Service
	Finance      *dpfinance.Service
	Accounts     *accounts.Service
	Ready        Readiness
	TargetSchema int64 // the newest migration the binary knows
	Idempotency  idempotency.Store
	Tx           txn.Transactor
	Registry     *prometheus.Registry // the instance's registry (app.NewRegistry): the HTTP metrics are registered on it
	Now          func() time.Time
}

// Server implements api.StrictServerInterface.
type Server struct {
	log          *slog.Logger
	ops          operations
	validation   *openapi3filter.Options
	verifier     *auth.Verifier
	councils     *council.Service
	people       *person.Service
	assessments  *assessment.Service
	ras          *ras.Service
	budgets      *budget.Service
	funding      *funding.Service
	charging     *charging.Service
	plans        *plan.Service
	providers    *provider.Service
	settings     *council.SettingsService
	audit        *audit.Service
	access       *access.Service
	accessLog    access.Recorder
	readPlans    map[string]readPlan // personal reads, by generated operation name
	now          func() time.Time
	payments     *payment.Service
	portal       *portal.Service
	webhooks     *outbox.Service
	reviews      *reviews.Service
	cld          *cldexport.Service
	reports      *report.Service
	finance      *dpfinance.Service
	accounts     *accounts.Service
	ready        Readiness
	targetSchema int64
	metrics      *metrics
	specYAML     []byte
	docsPage     []byte // the /docs page: the served spec with the journey first
	docsCSP      string
}

var _ api.StrictServerInterface = (*Server)(nil)

func init() {
	// UUID parameters and fields are checked by the validator, not only by the binder.
	openapi3.DefineStringFormatValidator("uuid", openapi3.NewRegexpFormatValidator(openapi3.FormatOfStringForUUIDOfRFC9562))
}

// Spec returns the contract embedded in the binary, without servers so that any host validates.
func Spec() (*openapi3.T, error) {
	spec, err := openapi3.NewLoader().LoadFromData(pbudget.OpenAPI)
	if err != nil {
		return nil, fmt.Errorf("load embedded spec: %w", err)
	}
	spec.Servers = nil
	return spec, nil
}

// validationOptions are kin-openapi's options for every request (and every body BodyChecker checks).
func validationOptions() *openapi3filter.Options {
	return &openapi3filter.Options{
		MultiError:         true,
		AuthenticationFunc: openapi3filter.NoopAuthenticationFunc, // authenticated by contract()
		KeepValidatedValue: true,
	}
}

// New builds the echo instance that serves the API.
func New(d Deps) (*echo.Echo, error) {
	if d.AccessLog == nil || d.Access == nil {
		return nil, fmt.Errorf("httpapi: no access log: personal reads must be recorded")
	}
	now := d.Now
	if now == nil {
		now = time.Now
	}
	spec, err := Spec()
	if err != nil {
		return nil, err
	}
	ops, err := indexOperations(spec)
	if err != nil {
		return nil, err
	}
	specYAML := pbudget.OpenAPI
	docsHTML, docsCSP, err := renderDocsPage(specYAML, docs.Journey)
	if err != nil {
		return nil, err
	}
	s := &Server{
		log: d.Log, ops: ops, verifier: d.Verifier, councils: d.Councils, people: d.People, audit: d.Audit,
		assessments: d.Assessments, ras: d.RAS, budgets: d.Budgets, funding: d.Funding, charging: d.Charging,
		plans: d.Plans, providers: d.Providers, settings: d.Settings, access: d.Access, accessLog: d.AccessLog, now: now,
		payments: d.Payments, portal: d.Portal, webhooks: d.Webhooks, reviews: d.Reviews, cld: d.CLD, reports: d.Reports, finance: d.Finance,
		accounts: d.Accounts,
		ready:    d.Ready, targetSchema: d.TargetSchema, metrics: newMetrics(d.Registry),
		specYAML: specYAML, docsPage: docsHTML, docsCSP: docsCSP,
		validation: validationOptions(),
	}
	s.readPlans = s.buildReadPlans()
	e := echo.New()
	e.HideBanner, e.HidePort = true, true
	e.HTTPErrorHandler = s.handleError
	e.Use(s.observe, s.recoverPanics, s.contract,
		idempotency.Middleware(d.Idempotency, d.Tx, d.Now, func(c echo.Context) bool {
			op := ops.of(c)
			return op != nil && op.idempotent
		}))
	api.RegisterHandlers(e, api.NewStrictHandler(s, []api.StrictMiddlewareFunc{s.recordReads}))
	return e, nil
}
