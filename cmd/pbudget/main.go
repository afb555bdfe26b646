// Command pbudget is the personal budgets service: one binary with the subcommands serve,
// migrate, council, load, keygen, token, seed, secret-key, rotate-keys, healthcheck and version
// (README, "The binary").
package main

import (
	"context"
	"crypto/rand"
	"encoding/base64"
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"net/http/pprof"
	"os"
	"os/signal"
	"runtime/debug"
	"sort"
	"strings"
	"syscall"
	"time"

	"github.com/google/uuid"

	"github.com/pbudget/pbudget/internal/actor"
	"github.com/pbudget/pbudget/internal/app"
	"github.com/pbudget/pbudget/internal/auth"
	"github.com/pbudget/pbudget/internal/config"
	"github.com/pbudget/pbudget/internal/jobs"
	"github.com/pbudget/pbudget/internal/payment"
	"github.com/pbudget/pbudget/internal/postgres"
	"github.com/pbudget/pbudget/internal/secret"
	"github.com/pbudget/pbudget/internal/webhook/outbox"
	"github.com/pbudget/pbudget/internal/workday"
)

const usage = `usage: pbudget <command> [flags]

commands:
  serve        apply migrations (under an advisory lock) and serve the API; metrics on PB_METRICS_ADDR
  migrate      apply migrations, grant the runtime role its privileges, and exit
  council create --code CODE --name NAME [--actor NAME]
               create a council with the default settings, the national rate tables and the
               default service catalogue, idempotently
  council list [--all]
               the active councils (--all: retired ones too)
  council retire --code CODE --reason TEXT [--actor NAME]
               retire a council: its tokens are refused, its records kept
  load         --council CODE [--actor NAME] FILE.yaml|DIR ...
               load a council's rate tables, RAS versions and service categories
               (docs/configuration.md), all or nothing, idempotently
  keygen       --out DIR: write a development Ed25519 key pair (jwt-private.pem, jwt-public.pem)
  token        --key FILE --council CODE --roles r1,r2 [--sub ID] [--provider UUID] [--person UUID] [--ttl 1h]
               print a signed development token
  seed         create the demo council (code demo) from config/demo, idempotently
  healthcheck  [--timeout 3s]: exit 0 when the server on PB_LISTEN_ADDR is ready (GET /readyz)
  version      print the version and commit (also --version)
  secret-key   [--id ID]: print a new AES-256 key for PB_SECRET_KEYS, as ID:base64
  rotate-keys  [--batch N]: re-encrypt bank details, payment files and webhook signing secrets
               under the first key of PB_SECRET_KEYS

configuration: DATABASE_URL (the runtime role), PB_MIGRATE_DATABASE_URL (the owner role),
PB_ALLOW_SINGLE_DB_ROLE, PB_LISTEN_ADDR, PB_METRICS_ADDR, PB_JWT_PUBLIC_KEY_FILE or PB_JWT_JWKS_URL,
PB_JWT_ISSUER, PB_JWT_AUDIENCE, PB_JWT_ALGORITHMS, PB_LOG_LEVEL, PB_DB_MAX_CONNS, PB_SHUTDOWN_TIMEOUT,
PB_PPROF_ADDR, PB_SECRET_KEYS (required by serve), PB_BANK_HOLIDAYS, PB_PUBLIC_URL
`

// gcPercent is the garbage collector's target unless GOGC is set: the service's live heap is a
// few megabytes, and at the default of 100 the collector ran ~30 times a second under load and
// took ~13% of the CPU (make bench, 2026-11); 400 trades a few more megabytes for that CPU.
const gcPercent = 400

func main() {
	if os.Getenv("GOGC") == "" {
		debug.SetGCPercent(gcPercent)
	}
	ctx, stop := signal.NotifyContext(context.Background(), syscall.SIGINT, syscall.SIGTERM)
	defer stop()
	if err := run(ctx, os.Args[1:], os.Getenv, os.Stdout); err != nil {
		fmt.Fprintln(os.Stderr, "pbudget:", err)
		os.Exit(1)
	}
}

func run(ctx context.Context, args []string, getenv func(string) string, stdout io.Writer) error {
	if len(args) == 0 {
		fmt.Fprint(stdout, usage)
		return errors.New("no command")
	}
	if args[0] == "version" || args[0] == "--version" {
		return versionCmd(stdout)
	}
	cfg, err := config.Load(getenv)
	if err != nil {
		return err
	}
	lw := newLogWriter(stdout)
	flushCtx, stopFlush := context.WithCancel(context.WithoutCancel(ctx))
	flushed := make(chan struct{})
	go func() { lw.flushEvery(flushCtx, flushInterval); close(flushed) }()
	defer func() { stopFlush(); <-flushed }()
	log := slog.New(flushingHandler{Handler: newFastJSONHandler(lw, cfg.LogLevel), w: lw})
	cmd, rest := args[0], args[1:]
	switch cmd {
	case "serve":
		return serveCmd(ctx, cfg, log)
	case "migrate":
		return migrateCmd(ctx, cfg, log)
	case "keygen":
		return keygenCmd(rest, stdout)
	case "token":
		return tokenCmd(rest, cfg, stdout)
	case "seed":
		return seedCmd(ctx, cfg, log)
	case "council":
		return councilCmd(ctx, rest, cfg, log, stdout)
	case "load":
		return loadCmd(ctx, rest, cfg, log, stdout)
	case "healthcheck":
		return healthcheckCmd(ctx, rest, cfg, stdout)
	case "secret-key":
		return secretKeyCmd(rest, stdout)
	case "rotate-keys":
		return rotateKeysCmd(ctx, rest, cfg, log, stdout)
	case "help", "-h", "--help":
		fmt.Fprint(stdout, usage)
		return nil
	}
	fmt.Fprint(stdout, usage)
	return fmt.Errorf("unknown command %q", cmd)
}

func openDB(ctx context.Context, cfg config.Config, log *slog.Logger) (*postgres.DB, error) {
	if err := cfg.RequireDatabase(); err != nil {
		return nil, err
	}
	return postgres.Open(ctx, cfg.DatabaseURL, cfg.DBMaxConns, log)
}

func migrateCmd(ctx context.Context, cfg config.Config, log *slog.Logger) error {
	v, err := migrate(ctx, cfg, log)
	if err != nil {
		return err
	}
	log.Info("migrated", slog.Int64("schema_version", v))
	return nil
}

// migrate applies the migrations as the owner role (PB_MIGRATE_DATABASE_URL) and grants the
// runtime role (DATABASE_URL's user) what serving needs. With DATABASE_URL alone, that role runs
// the migrations: either it is the only role (it owns the tables and serves), or it is the runtime
// role of a deployment that migrates in a release step, and finds nothing to do (it may not
// change the schema).
func migrate(ctx context.Context, cfg config.Config, log *slog.Logger) (int64, error) {
	if err := cfg.RequireDatabase(); err != nil {
		return 0, err
	}
	runtimeRole, err := postgres.RoleOf(cfg.DatabaseURL)
	if err != nil {
		return 0, fmt.Errorf("DATABASE_URL: %w", err)
	}
	owner, err := postgres.Open(ctx, cfg.OwnerURL(), 2, log)
	if err != nil {
		return 0, err
	}
	defer owner.Close()
	v, err := postgres.Migrate(ctx, owner.SQL(), log)
	if err != nil {
		return 0, err
	}
	if cfg.MigrateURL == "" {
		// Either one role does everything (serve then refuses it unless allowed), or the owner
		// migrated earlier and this is the runtime role finding nothing to do.
		log.Info("PB_MIGRATE_DATABASE_URL is not set: migrations ran as the role of DATABASE_URL, and no runtime role was granted",
			slog.String("role", runtimeRole))
		return v, nil
	}
	if err := postgres.GrantRuntime(ctx, owner.SQL(), runtimeRole); err != nil {
		return 0, err
	}
	log.Info("granted the runtime role its privileges", slog.String("role", runtimeRole))
	return v, nil
}

func seedCmd(ctx context.Context, cfg config.Config, log *slog.Logger) error {
	db, err := openDB(ctx, cfg, log)
	if err != nil {
		return err
	}
	defer db.Close()
	created, loaded, err := app.Seed(ctx, db)
	if err != nil {
		return err
	}
	c := created.Council
	log.Info("seeded", slog.String("council", c.Code), slog.String("council_id", c.ID.String()),
		slog.Bool("created", created.Created), slog.Int("changes", created.Changes()+loaded.Changes()))
	return nil
}

func serveCmd(ctx context.Context, cfg config.Config, log *slog.Logger) error {
	if err := cfg.RequireJWT(); err != nil {
		return err
	}
	ln, err := net.Listen("tcp", cfg.ListenAddr)
	if err != nil {
		return err
	}
	var metricsLn net.Listener
	if cfg.MetricsAddr != "" {
		if metricsLn, err = net.Listen("tcp", cfg.MetricsAddr); err != nil {
			ln.Close()
			return fmt.Errorf("PB_METRICS_ADDR: %w", err)
		}
	}
	return serve(ctx, cfg, log, ln, metricsLn)
}

// serve migrates, then serves the API on ln and the metrics on metricsLn (nil: none) until ctx
// ends, then lets in-flight requests finish for up to cfg.ShutdownTimeout.
func serve(ctx context.Context, cfg config.Config, log *slog.Logger, ln, metricsLn net.Listener) error {
	closeAll := func() {
		ln.Close()
		if metricsLn != nil {
			metricsLn.Close()
		}
	}
	log.Info("starting", slog.Any("config", cfg))
	pay, err := paymentOptions(cfg)
	if err != nil {
		closeAll()
		return err
	}
	if _, err := migrate(ctx, cfg, log); err != nil {
		closeAll()
		return err
	}
	db, err := openDB(ctx, cfg, log)
	if err != nil {
		closeAll()
		return err
	}
	defer db.Close()
	if err := checkRuntimeRole(ctx, cfg, db, log); err != nil {
		closeAll()
		return err
	}
	vc := auth.VerifierConfig{JWKSURL: cfg.JWTJWKSURL, Issuer: cfg.JWTIssuer, Audience: cfg.JWTAudience, Algorithms: cfg.JWTAlgorithms}
	if cfg.JWTPublicKeyFile != "" {
		if vc.PublicKeys, err = auth.LoadPublicKeys(cfg.JWTPublicKeyFile); err != nil {
			closeAll()
			return err
		}
	}
	verifier, err := auth.NewVerifier(ctx, vc)
	if err != nil {
		closeAll()
		return err
	}
	queue, err := jobs.New(db.SQL(), log, jobs.Config{})
	if err != nil {
		ln.Close()
		return err
	}
	workCtx, stopWork := context.WithCancel(context.WithoutCancel(ctx))
	defer stopWork()
	// Access records are written in batches, on a connection of their own so that a batch never
	// holds or waits for one of the requests' connections; once the HTTP server has stopped
	// (deferred calls run after Shutdown), the writer writes what it still holds, then its
	// connection closes.
	accessDB, err := postgres.Open(ctx, cfg.DatabaseURL, 1, log)
	if err != nil {
		closeAll()
		return err
	}
	defer accessDB.Close()
	accessLog := app.NewAccessWriter(accessDB, log)
	accessCtx, stopAccess := context.WithCancel(context.WithoutCancel(ctx))
	go accessLog.Run(accessCtx)
	defer func() { stopAccess(); <-accessLog.Done() }()
	if cfg.PublicURL == "" {
		log.Warn("PB_PUBLIC_URL is not set: the links in webhook payloads point at " + outbox.PlaceholderAPIBase)
	}
	handler, reg, err := app.New(app.Options{DB: db, Verifier: verifier, Log: log, Jobs: queue, Background: workCtx, Access: accessLog, Payments: pay,
		Webhooks: outbox.Options{APIBase: cfg.PublicURL}})
	if err != nil {
		closeAll()
		return err
	}
	srv := &http.Server{
		Handler:           handler,
		ReadHeaderTimeout: 5 * time.Second,
		ReadTimeout:       30 * time.Second,
		WriteTimeout:      60 * time.Second,
		IdleTimeout:       120 * time.Second,
		MaxHeaderBytes:    64 << 10,
		ErrorLog:          slog.NewLogLogger(log.Handler(), slog.LevelWarn),
	}
	if cfg.PprofAddr != "" {
		// Profiling stays off the API port, and off unless asked for.
		go func() {
			log.Warn("pprof listening", slog.String("addr", cfg.PprofAddr))
			err := http.ListenAndServe(cfg.PprofAddr, pprofMux())
			log.Warn("pprof stopped", slog.String("error", err.Error()))
		}()
	}
	errc := make(chan error, 2)
	var metricsSrv *http.Server
	if metricsLn != nil {
		// Unauthenticated, for Prometheus: on its own listener, loopback unless configured otherwise.
		metricsSrv = &http.Server{Handler: app.MetricsHandler(reg), ReadHeaderTimeout: 5 * time.Second,
			ErrorLog: slog.NewLogLogger(log.Handler(), slog.LevelWarn)}
		go func() { errc <- metricsSrv.Serve(metricsLn) }()
		log.Info("serving metrics", slog.String("addr", metricsLn.Addr().String()))
	}
	go func() { errc <- srv.Serve(ln) }()
	log.Info("serving", slog.String("addr", ln.Addr().String()))
	select {
	case err := <-errc:
		return err
	case <-ctx.Done():
	}
	log.Info("shutting down: finishing in-flight requests", slog.Duration("timeout", cfg.ShutdownTimeout))
	shutdownCtx, cancel := context.WithTimeout(context.WithoutCancel(ctx), cfg.ShutdownTimeout)
	defer cancel()
	if err := srv.Shutdown(shutdownCtx); err != nil {
		return fmt.Errorf("shutdown: %w", err)
	}
	// Running jobs get what is left of the timeout; any still running then is cancelled and is
	// picked up again, where it stopped, by the next instance to work the queue.
	if err := queue.Stop(shutdownCtx); err != nil {
		return fmt.Errorf("stop jobs: %w", err)
	}
	if metricsSrv != nil {
		if err := metricsSrv.Shutdown(shutdownCtx); err != nil {
			return fmt.Errorf("shutdown metrics: %w", err)
		}
	}
	log.Info("stopped")
	return nil
}

// checkRuntimeRole refuses to serve as a role that could rewrite the audit trail (a superuser, or
// the owner of its tables, who could disable or drop the append-only triggers) unless the operator
// has allowed it with PB_ALLOW_SINGLE_DB_ROLE=true; then it warns at every start.
func checkRuntimeRole(ctx context.Context, cfg config.Config, db *postgres.DB, log *slog.Logger) error {
	check, err := db.CheckRuntimeRole(ctx)
	if err != nil {
		return err
	}
	if len(check.Unsafe) == 0 {
		return nil
	}
	why := strings.Join(check.Unsafe, "; ")
	if !cfg.AllowSingleRole {
		return fmt.Errorf("the role of DATABASE_URL (%s) could alter the audit trail (%s): serve as a runtime role "+
			"(DATABASE_URL) and migrate as the owner role (PB_MIGRATE_DATABASE_URL), see the README's \"Database roles\"; "+
			"or set PB_ALLOW_SINGLE_DB_ROLE=true to accept an audit trail protected only by triggers", check.Role, why)
	}
	log.Warn("the audit trail is protected only by triggers: the serving role could alter it (PB_ALLOW_SINGLE_DB_ROLE=true)",
		slog.String("role", check.Role), slog.String("because", why))
	return nil
}

// paymentOptions reads the encryption keys (required: bank details are stored encrypted) and the
// bank holidays (England and Wales unless configured).
func paymentOptions(cfg config.Config) (app.PaymentOptions, error) {
	if err := cfg.RequireSecretKeys(); err != nil {
		return app.PaymentOptions{}, err
	}
	keys, err := secret.ParseKeyRing(cfg.SecretKeys)
	if err != nil {
		return app.PaymentOptions{}, fmt.Errorf("PB_SECRET_KEYS: %w", err)
	}
	o := app.PaymentOptions{Keys: keys}
	if cfg.BankHolidays != "" {
		cal, err := workday.Parse(cfg.BankHolidays)
		if err != nil {
			return app.PaymentOptions{}, fmt.Errorf("PB_BANK_HOLIDAYS: %w", err)
		}
		o.Holidays = &cal
	}
	return o, nil
}

// secretKeyCmd prints a new key for PB_SECRET_KEYS: 32 random bytes, standard base64, after its id.
func secretKeyCmd(args []string, stdout io.Writer) error {
	fs := flag.NewFlagSet("secret-key", flag.ContinueOnError)
	fs.SetOutput(stdout)
	id := fs.String("id", "k"+time.Now().UTC().Format("20060102"), "the key's id (1 to 32 letters, digits, . _ -)")
	if err := fs.Parse(args); err != nil {
		return err
	}
	key := make([]byte, secret.KeySize)
	if _, err := rand.Read(key); err != nil {
		return err
	}
	pair := *id + ":" + base64.StdEncoding.EncodeToString(key)
	if _, err := secret.ParseKeyRing(pair); err != nil {
		return err
	}
	fmt.Fprintln(stdout, pair)
	return nil
}

// rotateKeysCmd re-seals every stored value under the current key and prints what each key still
// seals: when a retired key's count is 0, remove it from PB_SECRET_KEYS.
func rotateKeysCmd(ctx context.Context, args []string, cfg config.Config, log *slog.Logger, stdout io.Writer) error {
	fs := flag.NewFlagSet("rotate-keys", flag.ContinueOnError)
	fs.SetOutput(stdout)
	batch := fs.Int("batch", 500, "values re-encrypted per query")
	if err := fs.Parse(args); err != nil {
		return err
	}
	pay, err := paymentOptions(cfg)
	if err != nil {
		return err
	}
	db, err := openDB(ctx, cfg, log)
	if err != nil {
		return err
	}
	defer db.Close()
	done, counts, err := payment.RotateKeys(ctx, postgres.NewSealedStore(db), pay.Keys, max(1, *batch))
	if err != nil {
		return err
	}
	fmt.Fprintf(stdout, "re-encrypted %d values under key %s\n", done, pay.Keys.Current())
	ids := make([]string, 0, len(counts))
	for id := range counts {
		ids = append(ids, id)
	}
	sort.Strings(ids)
	for _, id := range ids {
		fmt.Fprintf(stdout, "key %s seals %d values\n", id, counts[id])
	}
	return nil
}

func pprofMux() *http.ServeMux {
	mux := http.NewServeMux()
	mux.HandleFunc("/debug/pprof/", pprof.Index)
	mux.HandleFunc("/debug/pprof/profile", pprof.Profile)
	mux.HandleFunc("/debug/pprof/trace", pprof.Trace)
	return mux
}

func keygenCmd(args []string, stdout io.Writer) error {
	fs := flag.NewFlagSet("keygen", flag.ContinueOnError)
	fs.SetOutput(stdout)
	out := fs.String("out", "", "directory for jwt-private.pem and jwt-public.pem")
	if err := fs.Parse(args); err != nil {
		return err
	}
	if *out == "" {
		return errors.New("keygen: --out DIR is required")
	}
	priv, pub, err := auth.WriteKeyPair(*out)
	if err != nil {
		return err
	}
	fmt.Fprintf(stdout, "wrote %s and %s\n", priv, pub)
	return nil
}

func tokenCmd(args []string, cfg config.Config, stdout io.Writer) error {
	fs := flag.NewFlagSet("token", flag.ContinueOnError)
	fs.SetOutput(stdout)
	keyFile := fs.String("key", "", "private key PEM (Ed25519 or RSA)")
	council := fs.String("council", "", "council code")
	roles := fs.String("roles", "", "comma-separated roles: "+roleList())
	sub := fs.String("sub", "dev-user", "subject")
	provider := fs.String("provider", "", "provider UUID (provider staff)")
	person := fs.String("person", "", "person UUID (the person role: the person, or their authorised person, nominee or parent)")
	ttl := fs.Duration("ttl", time.Hour, "lifetime")
	if err := fs.Parse(args); err != nil {
		return err
	}
	if *keyFile == "" || *council == "" || *roles == "" {
		return errors.New("token: --key, --council and --roles are required")
	}
	var rs []string
	for _, r := range strings.Split(*roles, ",") {
		r = strings.TrimSpace(r)
		if !actor.Role(r).Valid() {
			return fmt.Errorf("token: unknown role %q (known: %s)", r, roleList())
		}
		rs = append(rs, r)
	}
	if *provider != "" {
		if _, err := uuid.Parse(*provider); err != nil {
			return fmt.Errorf("token: --provider must be a UUID")
		}
	}
	if *person != "" {
		if _, err := uuid.Parse(*person); err != nil {
			return fmt.Errorf("token: --person must be a UUID")
		}
	}
	key, err := auth.LoadPrivateKey(*keyFile)
	if err != nil {
		return err
	}
	tok, err := auth.Mint(key, auth.MintOptions{
		Subject: *sub, Council: *council, Roles: rs, Provider: *provider, Person: *person,
		Issuer: cfg.JWTIssuer, Audience: cfg.JWTAudience, TTL: *ttl,
	})
	if errors.Is(err, auth.ErrProviderRequired) {
		return errors.New("token: --roles provider needs --provider UUID (the provider's id)")
	}
	if errors.Is(err, auth.ErrPersonRequired) {
		return errors.New("token: --roles person needs --person UUID (the person's id in the council)")
	}
	if errors.Is(err, auth.ErrPersonOnly) {
		return errors.New("token: --person goes with --roles person alone")
	}
	if err != nil {
		return err
	}
	fmt.Fprintln(stdout, tok)
	return nil
}

func roleList() string {
	names := make([]string, len(actor.Roles))
	for i, r := range actor.Roles {
		names[i] = string(r)
	}
	return strings.Join(names, ",")
}
