// Package golden compares test output with reviewed files under testdata/, byte for byte. Run
// `go test ./internal/PKG -update` on a package whose tests use it to rewrite its files, then
// review the diff before committing (other packages do not know the flag).
package golden

import (
	"flag"
	"os"
	"path/filepath"
	"testing"

	"github.com/stretchr/testify/require"
)

var update = flag.Bool("update", false, "rewrite the golden files in testdata")

// Check fails t unless got equals testdata/name; with -update it writes got there first.
func Check(t testing.TB, name string, got []byte) {
	t.Helper()
	path := filepath.Join("testdata", name)
	if *update {
		require.NoError(t, os.MkdirAll(filepath.Dir(path), 0o755))
		require.NoError(t, os.WriteFile(path, got, 0o644))
	}
	want, err := os.ReadFile(path)
	require.NoError(t, err, "run go test -update to create %s", path)
	require.Equal(t, string(want), string(got), "%s differs: run go test -update and review the diff", path)
}
