// Package config reads the service's configuration from environment variables (API.md,
// "Operating interface"), with defaults, and renders it for the logs with secrets masked.
package config

import (
	"fmt"
	"log/slog"
	"net/url"
	"regexp"
	"strconv"
	"strings"
	"time"
)

// Config is everything the service reads from its environment.
type Config struct {
	DatabaseURL      string        // DATABASE_URL: the runtime role, which serves requests
	MigrateURL       string        // PB_MIGRATE_DATABASE_URL: the owner role, which migrates; empty means DATABASE_URL
	AllowSingleRole  bool          // PB_ALLOW_SINGLE_DB_ROLE: serve even when DATABASE_URL's role could alter the audit trail
	ListenAddr       string        // PB_LISTEN_ADDR
	JWTPublicKeyFile string        // PB_JWT_PUBLIC_KEY_FILE: PEM, Ed25519 or RSA, one or more keys
	JWTJWKSURL       string        // PB_JWT_JWKS_URL
	JWTIssuer        string        // PB_JWT_ISSUER
	JWTAudience      string        // PB_JWT_AUDIENCE
	JWTAlgorithms    []string      // PB_JWT_ALGORITHMS: comma-separated; empty means from the key types
	LogLevel         slog.Level    // PB_LOG_LEVEL: debug, info, warn, error
	DBMaxConns       int           // PB_DB_MAX_CONNS
	ShutdownTimeout  time.Duration // PB_SHUTDOWN_TIMEOUT
	PprofAddr        string        // PB_PPROF_ADDR: a separate listener for net/http/pprof; empty means off
	MetricsAddr      string        // PB_METRICS_ADDR: the Prometheus listener, off the API's port; empty means off
	// SecretKeys is PB_SECRET_KEYS: the keys that encrypt recipients' bank and card details and
	// the payment files, "id:base64,id:base64", the first the current one (internal/secret).
	SecretKeys string
	// BankHolidays is PB_BANK_HOLIDAYS: the bank holidays BACS skips, ISO dates separated by commas;
	// empty means England and Wales 2025–2028 (internal/workday).
	BankHolidays string
	// PublicURL is PB_PUBLIC_URL: the API's public root as integrators reach it (scheme, host,
	// optional path; no query), the prefix of the links in webhook payloads. Empty: the links
	// point at https://pbudget.invalid and serve warns at start.
	PublicURL string
}

// DefaultMetricsAddr is where /metrics is served unless PB_METRICS_ADDR says otherwise: loopback,
// so that only the host (or a sidecar) can scrape it.
const DefaultMetricsAddr = "127.0.0.1:9090"

// Load reads the configuration through getenv (os.Getenv in production, a map in tests).
func Load(getenv func(string) string) (Config, error) {
	c := Config{
		DatabaseURL:      getenv("DATABASE_URL"),
		MigrateURL:       getenv("PB_MIGRATE_DATABASE_URL"),
		ListenAddr:       or(getenv("PB_LISTEN_ADDR"), ":8080"),
		JWTPublicKeyFile: getenv("PB_JWT_PUBLIC_KEY_FILE"),
		JWTJWKSURL:       getenv("PB_JWT_JWKS_URL"),
		JWTIssuer:        or(getenv("PB_JWT_ISSUER"), "pbudget"),
		JWTAudience:      or(getenv("PB_JWT_AUDIENCE"), "pbudget-api"),
		DBMaxConns:       20,
		ShutdownTimeout:  30 * time.Second,
		PprofAddr:        getenv("PB_PPROF_ADDR"),
		MetricsAddr:      or(getenv("PB_METRICS_ADDR"), DefaultMetricsAddr),
		SecretKeys:       getenv("PB_SECRET_KEYS"),
		BankHolidays:     getenv("PB_BANK_HOLIDAYS"),
	}
	if v := strings.TrimSpace(getenv("PB_PUBLIC_URL")); v != "" {
		u, err := url.Parse(v)
		if err != nil || (u.Scheme != "https" && u.Scheme != "http") || u.Host == "" || u.User != nil || u.RawQuery != "" || u.Fragment != "" || u.Opaque != "" {
			return Config{}, fmt.Errorf("PB_PUBLIC_URL: want the API's absolute http(s) root without credentials, query or fragment, such as https://pbudget.example.gov.uk, got %q", v)
		}
		c.PublicURL = strings.TrimSuffix(u.String(), "/")
	}
	if c.MetricsAddr == "off" {
		c.MetricsAddr = ""
	}
	if v := getenv("PB_JWT_ALGORITHMS"); v != "" {
		for _, a := range strings.Split(v, ",") {
			switch a = strings.TrimSpace(a); a {
			case "EdDSA", "RS256", "RS384", "RS512", "PS256", "PS384", "PS512":
				c.JWTAlgorithms = append(c.JWTAlgorithms, a)
			default:
				return Config{}, fmt.Errorf("PB_JWT_ALGORITHMS: %q is not an allowed algorithm (EdDSA, RS256/384/512, PS256/384/512)", a)
			}
		}
	}
	if err := c.LogLevel.UnmarshalText([]byte(or(getenv("PB_LOG_LEVEL"), "info"))); err != nil {
		return Config{}, fmt.Errorf("PB_LOG_LEVEL: %w", err)
	}
	switch v := getenv("PB_ALLOW_SINGLE_DB_ROLE"); v {
	case "", "false":
	case "true":
		c.AllowSingleRole = true
	default:
		return Config{}, fmt.Errorf("PB_ALLOW_SINGLE_DB_ROLE: want true or false, got %q", v)
	}
	if v := getenv("PB_DB_MAX_CONNS"); v != "" {
		n, err := strconv.Atoi(v)
		if err != nil || n < 1 {
			return Config{}, fmt.Errorf("PB_DB_MAX_CONNS: want a positive integer, got %q", v)
		}
		c.DBMaxConns = n
	}
	if v := getenv("PB_SHUTDOWN_TIMEOUT"); v != "" {
		d, err := time.ParseDuration(v)
		if err != nil || d <= 0 {
			return Config{}, fmt.Errorf("PB_SHUTDOWN_TIMEOUT: want a positive duration such as 30s, got %q", v)
		}
		c.ShutdownTimeout = d
	}
	return c, nil
}

// RequireDatabase reports a clear error when DATABASE_URL is missing.
func (c Config) RequireDatabase() error {
	if c.DatabaseURL == "" {
		if c.MigrateURL != "" {
			return fmt.Errorf("DATABASE_URL is not set: set it to the runtime role that serves (PB_MIGRATE_DATABASE_URL is the owner role that migrates)")
		}
		return fmt.Errorf("DATABASE_URL is not set")
	}
	return nil
}

// OwnerURL is the URL migrations run with: PB_MIGRATE_DATABASE_URL, or DATABASE_URL when that is
// not set (one role that both owns the tables and serves).
func (c Config) OwnerURL() string {
	if c.MigrateURL != "" {
		return c.MigrateURL
	}
	return c.DatabaseURL
}

// RequireJWT reports a clear error when no verification key source is configured.
func (c Config) RequireJWT() error {
	switch {
	case c.JWTPublicKeyFile == "" && c.JWTJWKSURL == "":
		return fmt.Errorf("set PB_JWT_PUBLIC_KEY_FILE or PB_JWT_JWKS_URL")
	case c.JWTPublicKeyFile != "" && c.JWTJWKSURL != "":
		return fmt.Errorf("set only one of PB_JWT_PUBLIC_KEY_FILE and PB_JWT_JWKS_URL")
	}
	return nil
}

// RequireSecretKeys reports a clear error when PB_SECRET_KEYS is missing: without it bank details
// could neither be stored nor paid.
func (c Config) RequireSecretKeys() error {
	if strings.TrimSpace(c.SecretKeys) == "" {
		return fmt.Errorf("PB_SECRET_KEYS is not set: generate a key with `pbudget secret-key` (see the README, Payments)")
	}
	return nil
}

// secretKeyIDs lists the ids of PB_SECRET_KEYS, never the keys.
func (c Config) secretKeyIDs() string {
	var ids []string
	for _, pair := range strings.Split(c.SecretKeys, ",") {
		if id, _, ok := strings.Cut(strings.TrimSpace(pair), ":"); ok {
			ids = append(ids, id)
		}
	}
	return strings.Join(ids, ",")
}

// LogValue renders the configuration for the logs with the database password masked.
func (c Config) LogValue() slog.Value {
	return slog.GroupValue(
		slog.String("database_url", MaskDSN(c.DatabaseURL)),
		slog.String("migrate_database_url", MaskDSN(c.MigrateURL)),
		slog.Bool("allow_single_db_role", c.AllowSingleRole),
		slog.String("listen_addr", c.ListenAddr),
		slog.String("jwt_public_key_file", c.JWTPublicKeyFile),
		slog.String("jwt_jwks_url", c.JWTJWKSURL),
		slog.String("jwt_issuer", c.JWTIssuer),
		slog.String("jwt_audience", c.JWTAudience),
		slog.String("jwt_algorithms", strings.Join(c.JWTAlgorithms, ",")),
		slog.String("log_level", c.LogLevel.String()),
		slog.Int("db_max_conns", c.DBMaxConns),
		slog.Duration("shutdown_timeout", c.ShutdownTimeout),
		slog.String("pprof_addr", c.PprofAddr),
		slog.String("metrics_addr", c.MetricsAddr),
		slog.String("encryption_key_ids", c.secretKeyIDs()),
		slog.Bool("bank_holidays_configured", c.BankHolidays != ""),
		slog.String("public_url", c.PublicURL),
	)
}

// kvPassword matches the password of a key=value DSN, quoted or not.
var kvPassword = regexp.MustCompile(`password\s*=\s*('(\\.|[^'])*'|\S+)`)

// MaskDSN hides the password of a postgres:// URL (in the user part or the query) or of a
// key=value DSN.
func MaskDSN(dsn string) string {
	if u, err := url.Parse(dsn); err == nil && u.Scheme != "" {
		if _, ok := u.User.Password(); ok {
			u.User = url.UserPassword(u.User.Username(), "xxxxx")
		}
		q := u.Query()
		if q.Has("password") {
			q.Set("password", "xxxxx")
			u.RawQuery = q.Encode()
		}
		return u.String()
	}
	return kvPassword.ReplaceAllString(dsn, "password=xxxxx")
}

func or(v, def string) string {
	if v == "" {
		return def
	}
	return v
}
