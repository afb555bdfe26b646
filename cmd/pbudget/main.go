// Command pbudget is the personal budgets service: one binary with the subcommands serve,
// migrate, keygen, token, seed, secret-key and rotate-keys (API.md, "Operating interface").
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
	"github.com/pbudget/pbudget/internal/payment"
	"github.com/pbudget/pbudget/internal/postgres"
	"github.com/pbudget/pbudget/internal/secret"
	"github.com/pbudget/pbudget/internal/workday"
)

const usage = `usage: pbudget <command> [flags]

commands:
  serve     apply migrations (under an advisory lock) and serve the API
  migrate   apply migrations and exit
  keygen    --out DIR: write a development Ed25519 key pair (jwt-private.pem, jwt-public.pem)
  token     --key FILE --council CODE --roles r1,r2 [--sub ID] [--provider UUID] [--ttl 1h]
            print a signed development token
  seed      create the demo council (code demo) with its defaults, idempotently
  secret-key [--id ID]
            print a new AES-256 key for PB_SECRET_KEYS, as ID:base64
  rotate-keys [--batch N]
            re-encrypt bank details and payment files under the first key of PB_SECRET_KEYS

configuration: DATABASE_URL, PB_LISTEN_ADDR, PB_JWT_PUBLIC_KEY_FILE or PB_JWT_JWKS_URL,
PB_JWT_ISSUER, PB_JWT_AUDIENCE, PB_JWT_ALGORITHMS, PB_LOG_LEVEL, PB_DB_MAX_CONNS, PB_SHUTDOWN_TIMEOUT,
PB_PPROF_ADDR, PB_SECRET_KEYS (required by serve), PB_BANK_HOLIDAYS
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
	cfg, err := config.Load(getenv)
	if err != nil {
		return err
	}
	lw := newLogWriter(stdout)
	flushCtx, stopFlush := context.WithCancel(context.WithoutCancel(ctx))
	flushed := make(chan struct{})
	go func() { lw.flushEvery(flushCtx, flushInterval); close(flushed) }()
	defer func() { stopFlush(); <-flushed }()
	log := slog.New(flushingHandler{Handler: slog.NewJSONHandler(lw, &slog.HandlerOptions{Level: cfg.LogLevel}), w: lw})
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
	db, err := openDB(ctx, cfg, log)
	if err != nil {
		return err
	}
	defer db.Close()
	v, err := postgres.Migrate(ctx, db.SQL(), log)
	if err != nil {
		return err
	}
	log.Info("migrated", slog.Int64("schema_version", v))
	return nil
}

func seedCmd(ctx context.Context, cfg config.Config, log *slog.Logger) error {
	db, err := openDB(ctx, cfg, log)
	if err != nil {
		return err
	}
	defer db.Close()
	c, err := app.Seed(ctx, db)
	if err != nil {
		return err
	}
	log.Info("seeded", slog.String("council", c.Code), slog.String("council_id", c.ID.String()))
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
	return serve(ctx, cfg, log, ln)
}

// serve migrates, then serves on ln until ctx ends, then lets in-flight requests finish for up
// to cfg.ShutdownTimeout.
func serve(ctx context.Context, cfg config.Config, log *slog.Logger, ln net.Listener) error {
	log.Info("starting", slog.Any("config", cfg))
	pay, err := paymentOptions(cfg)
	if err != nil {
		ln.Close()
		return err
	}
	db, err := openDB(ctx, cfg, log)
	if err != nil {
		ln.Close()
		return err
	}
	defer db.Close()
	if _, err := postgres.Migrate(ctx, db.SQL(), log); err != nil {
		ln.Close()
		return err
	}
	vc := auth.VerifierConfig{JWKSURL: cfg.JWTJWKSURL, Issuer: cfg.JWTIssuer, Audience: cfg.JWTAudience, Algorithms: cfg.JWTAlgorithms}
	if cfg.JWTPublicKeyFile != "" {
		if vc.PublicKeys, err = auth.LoadPublicKeys(cfg.JWTPublicKeyFile); err != nil {
			ln.Close()
			return err
		}
	}
	verifier, err := auth.NewVerifier(ctx, vc)
	if err != nil {
		ln.Close()
		return err
	}
	workCtx, stopWork := context.WithCancel(context.WithoutCancel(ctx))
	defer stopWork()
	handler, _, err := app.New(app.Options{DB: db, Verifier: verifier, Log: log, Background: workCtx, Payments: pay})
	if err != nil {
		ln.Close()
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
	sweepCtx, stopSweep := context.WithCancel(context.WithoutCancel(ctx))
	defer stopSweep()
	go app.SweepIdempotencyKeys(sweepCtx, db, time.Hour, log)

	if cfg.PprofAddr != "" {
		// Profiling stays off the API port, and off unless asked for.
		go func() {
			log.Warn("pprof listening", slog.String("addr", cfg.PprofAddr))
			err := http.ListenAndServe(cfg.PprofAddr, pprofMux())
			log.Warn("pprof stopped", slog.String("error", err.Error()))
		}()
	}
	errc := make(chan error, 1)
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
	log.Info("stopped")
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
	done, counts, err := payment.RotateKeys(ctx, postgres.NewPaymentStore(db), pay.Keys, max(1, *batch))
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
	key, err := auth.LoadPrivateKey(*keyFile)
	if err != nil {
		return err
	}
	tok, err := auth.Mint(key, auth.MintOptions{
		Subject: *sub, Council: *council, Roles: rs, Provider: *provider,
		Issuer: cfg.JWTIssuer, Audience: cfg.JWTAudience, TTL: *ttl,
	})
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
