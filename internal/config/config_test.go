package config

import (
	"log/slog"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
)

func env(m map[string]string) func(string) string { return func(k string) string { return m[k] } }

func TestLoadAppliesDefaults(t *testing.T) {
	t.Parallel()
	c, err := Load(env(nil))
	require.NoError(t, err)
	require.Equal(t, ":8080", c.ListenAddr)
	require.Equal(t, "pbudget", c.JWTIssuer)
	require.Equal(t, "pbudget-api", c.JWTAudience)
	require.Equal(t, slog.LevelInfo, c.LogLevel)
	require.Equal(t, 30*time.Second, c.ShutdownTimeout)
	require.Empty(t, c.JWTAlgorithms)
	require.Equal(t, "127.0.0.1:9090", c.MetricsAddr, "metrics on loopback, off the API's port")
}

func TestMetricsListenerCanBeMovedOrTurnedOff(t *testing.T) {
	t.Parallel()
	c, err := Load(env(map[string]string{"PB_METRICS_ADDR": "0.0.0.0:9100"}))
	require.NoError(t, err)
	require.Equal(t, "0.0.0.0:9100", c.MetricsAddr)
	c, err = Load(env(map[string]string{"PB_METRICS_ADDR": "off"}))
	require.NoError(t, err)
	require.Empty(t, c.MetricsAddr)
}

func TestLoadReadsEveryVariable(t *testing.T) {
	t.Parallel()
	c, err := Load(env(map[string]string{
		"DATABASE_URL": "postgres://u:secret@h/db", "PB_LISTEN_ADDR": ":9",
		"PB_JWT_PUBLIC_KEY_FILE": "/k.pem", "PB_JWT_ISSUER": "i", "PB_JWT_AUDIENCE": "a",
		"PB_JWT_ALGORITHMS": "EdDSA, RS256", "PB_LOG_LEVEL": "debug", "PB_DB_MAX_CONNS": "7",
		"PB_SHUTDOWN_TIMEOUT": "5s", "PB_MIGRATE_DATABASE_URL": "postgres://owner:secret@h/db", "PB_ALLOW_SINGLE_DB_ROLE": "true",
	}))
	require.NoError(t, err)
	require.Equal(t, []string{"EdDSA", "RS256"}, c.JWTAlgorithms)
	require.Equal(t, slog.LevelDebug, c.LogLevel)
	require.Equal(t, 7, c.DBMaxConns)
	require.Equal(t, 5*time.Second, c.ShutdownTimeout)
	require.NoError(t, c.RequireJWT())
	require.NoError(t, c.RequireDatabase())
	require.Equal(t, "postgres://owner:secret@h/db", c.OwnerURL())
	require.True(t, c.AllowSingleRole)
	require.NotContains(t, c.LogValue().String(), "secret", "both database passwords are masked in the logs")
}

func TestTheOwnerURLDefaultsToDatabaseURL(t *testing.T) {
	t.Parallel()
	c, err := Load(env(map[string]string{"DATABASE_URL": "postgres://one@h/db"}))
	require.NoError(t, err)
	require.Equal(t, "postgres://one@h/db", c.OwnerURL())
	require.False(t, c.AllowSingleRole)
	c, err = Load(env(map[string]string{"PB_MIGRATE_DATABASE_URL": "postgres://owner@h/db"}))
	require.NoError(t, err)
	require.ErrorContains(t, c.RequireDatabase(), "runtime role", "the owner URL alone does not say which role serves")
}

func TestLoadRejectsBadValues(t *testing.T) {
	t.Parallel()
	for name, vars := range map[string]map[string]string{
		"alg none":              {"PB_JWT_ALGORITHMS": "none"},
		"symmetric alg":         {"PB_JWT_ALGORITHMS": "HS256"},
		"bad log level":         {"PB_LOG_LEVEL": "loud"},
		"zero conns":            {"PB_DB_MAX_CONNS": "0"},
		"bad timeout":           {"PB_SHUTDOWN_TIMEOUT": "soon"},
		"bad allow":             {"PB_ALLOW_SINGLE_DB_ROLE": "yes"},
		"relative public URL":   {"PB_PUBLIC_URL": "pbudget.example.gov.uk"},
		"public URL with query": {"PB_PUBLIC_URL": "https://pbudget.example.gov.uk/?x=1"},
		"public URL scheme":     {"PB_PUBLIC_URL": "ftp://pbudget.example.gov.uk"},
		"public URL user":       {"PB_PUBLIC_URL": "https://u:p@pbudget.example.gov.uk"},
	} {
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			_, err := Load(env(vars))
			require.Error(t, err)
		})
	}
}

// PB_PUBLIC_URL is the root of the webhook payloads' links: kept without a trailing slash, so
// that root + /v1/... is one URL; unset, the links use a placeholder.
func TestThePublicURLIsTheRootOfWebhookLinks(t *testing.T) {
	t.Parallel()
	c, err := Load(env(nil))
	require.NoError(t, err)
	require.Empty(t, c.PublicURL)
	for in, want := range map[string]string{
		"https://pbudget.example.gov.uk/":   "https://pbudget.example.gov.uk",
		" https://api.example.org/pbudget ": "https://api.example.org/pbudget",
		"http://127.0.0.1:8080":             "http://127.0.0.1:8080",
	} {
		c, err := Load(env(map[string]string{"PB_PUBLIC_URL": in}))
		require.NoError(t, err, in)
		require.Equal(t, want, c.PublicURL)
		require.Contains(t, c.LogValue().String(), want)
	}
}

func TestRequireJWTWantsExactlyOneKeySource(t *testing.T) {
	t.Parallel()
	require.Error(t, Config{}.RequireJWT())
	require.Error(t, Config{JWTPublicKeyFile: "a", JWTJWKSURL: "b"}.RequireJWT())
}

func TestMaskDSNHidesPasswords(t *testing.T) {
	t.Parallel()
	require.Equal(t, "postgres://u:xxxxx@h/db", MaskDSN("postgres://u:secret@h/db"))
	require.Equal(t, "host=h password=xxxxx", MaskDSN("host=h password=secret"))
	require.Equal(t, "postgres://h/db", MaskDSN("postgres://h/db"))
	require.Equal(t, "postgres://u@h/db?password=xxxxx&sslmode=require", MaskDSN("postgres://u@h/db?password=s3cret&sslmode=require"))
	require.Equal(t, "host=h password=xxxxx user=u", MaskDSN("host=h password='a b c' user=u"))
}

func TestSecretKeysAreRequiredAndNeverLogged(t *testing.T) {
	t.Parallel()
	require.Error(t, Config{}.RequireSecretKeys())
	c, err := Load(env(map[string]string{"PB_SECRET_KEYS": "k2:c2VjcmV0LXNlY3JldC1zZWNyZXQtc2VjcmV0LWtleSE=,k1:b2xkLW9sZC1vbGQtb2xkLW9sZC1vbGQtb2xkLWtleSE=",
		"PB_BANK_HOLIDAYS": "2026-12-25"}))
	require.NoError(t, err)
	require.NoError(t, c.RequireSecretKeys())
	require.Equal(t, "2026-12-25", c.BankHolidays)
	logged := c.LogValue().String()
	require.Contains(t, logged, "k2,k1", "the key ids are logged")
	require.NotContains(t, logged, "c2VjcmV0", "the keys never are")
}
