package docs_test

import (
	"context"
	"fmt"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/pbudget/pbudget/internal/testdb"
)

func TestMain(m *testing.M) {
	code := testdb.Run(m)
	if binary.dir != "" {
		_ = os.RemoveAll(binary.dir)
	}
	os.Exit(code)
}

// binary is bin/pbudget, built once for this test binary into a directory of its own.
var binary struct {
	once sync.Once
	dir  string
	err  error
}

// devServer is what `make run` gives a developer: the real binary serving the seeded demo council
// on loopback, development keys in .dev/keys and a token with every council role. dir holds
// bin/pbudget and .dev/keys, as a clone does.
type devServer struct {
	URL, Token, Dir string
}

func startDevServer(t *testing.T) devServer {
	t.Helper()
	binary.once.Do(func() {
		binary.dir, binary.err = os.MkdirTemp("", "pbudget-docs-")
		if binary.err != nil {
			return
		}
		out, err := exec.Command("go", "build", "-o", filepath.Join(binary.dir, "bin", "pbudget"), "../cmd/pbudget").CombinedOutput()
		if err != nil {
			binary.err = fmt.Errorf("go build: %v\n%s", err, out)
		}
	})
	require.NoError(t, binary.err)
	dir := t.TempDir()
	require.NoError(t, os.MkdirAll(filepath.Join(dir, "bin"), 0o755))
	require.NoError(t, os.Symlink(filepath.Join(binary.dir, "bin", "pbudget"), filepath.Join(dir, "bin", "pbudget")))

	// The test's own database, as make run provisions one: migrated by the owner, served by the
	// runtime role (whatever .ci/devdb exported for the development database).
	env := append(os.Environ(), "DATABASE_URL="+testdb.DSN(), "PB_MIGRATE_DATABASE_URL="+testdb.OwnerDSN(),
		"PB_LOG_LEVEL=warn", "PB_METRICS_ADDR=off")
	pbudget := func(args ...string) string {
		t.Helper()
		cmd := exec.Command("bin/pbudget", args...)
		cmd.Dir, cmd.Env = dir, env
		out, err := cmd.Output()
		var stderr []byte
		if ee, ok := err.(*exec.ExitError); ok {
			stderr = ee.Stderr
		}
		require.NoError(t, err, "pbudget %s: %s", strings.Join(args, " "), stderr)
		return strings.TrimSpace(string(out))
	}
	pbudget("keygen", "--out", ".dev/keys")
	env = append(env, "PB_SECRET_KEYS="+pbudget("secret-key", "--id", "dev")) // as make run keeps one in .dev/keys
	pbudget("seed")
	token := pbudget("token", "--key", ".dev/keys/jwt-private.pem", "--council", "demo",
		"--roles", "practitioner,approver,panel,finance,auditor,council_admin", "--sub", "dev-user", "--ttl", "1h")

	addr := freeLoopbackAddr(t)
	serve := exec.Command("bin/pbudget", "serve")
	serve.Dir = dir
	serve.Env = append(env, "PB_LISTEN_ADDR="+addr, "PB_JWT_PUBLIC_KEY_FILE=.dev/keys/jwt-public.pem")
	logFile, err := os.Create(filepath.Join(dir, "serve.log"))
	require.NoError(t, err)
	defer logFile.Close()
	serve.Stdout, serve.Stderr = logFile, logFile
	logs := func() string { b, _ := os.ReadFile(logFile.Name()); return string(b) }
	require.NoError(t, serve.Start())
	exited := make(chan error, 1)
	go func() { exited <- serve.Wait() }()
	t.Cleanup(func() {
		_ = serve.Process.Signal(syscall.SIGTERM)
		select {
		case <-exited:
		case <-time.After(30 * time.Second):
			_ = serve.Process.Kill()
			<-exited
		}
	})
	url := "http://" + addr
	deadline := time.Now().Add(60 * time.Second)
	for {
		ctx, cancel := context.WithTimeout(context.Background(), time.Second)
		req, _ := http.NewRequestWithContext(ctx, http.MethodGet, url+"/readyz", nil)
		resp, err := http.DefaultClient.Do(req)
		cancel()
		if err == nil {
			_ = resp.Body.Close()
			if resp.StatusCode == http.StatusOK {
				break
			}
		}
		select {
		case err := <-exited:
			exited <- err // for the cleanup, which waits for the exit
			t.Fatalf("pbudget serve exited: %v\n%s", err, logs())
		default:
		}
		if time.Now().After(deadline) {
			t.Fatalf("pbudget serve is not ready after a minute:\n%s", logs())
		}
		time.Sleep(100 * time.Millisecond)
	}
	return devServer{URL: url, Token: token, Dir: dir}
}

// freeLoopbackAddr is a loopback address with a port nothing listens on now.
func freeLoopbackAddr(t *testing.T) string {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	require.NoError(t, err)
	addr := l.Addr().String()
	require.NoError(t, l.Close())
	return addr
}
