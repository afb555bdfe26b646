// Package cldtest compares a CLD return with a hand-written expected file, for the tests of the
// writer (internal/cld) and of the export through the database (internal/cldexport).
//
// The expected file is the header (one column name per line), then "---" and the fields every row
// has, then one block per row ("---" between blocks) of its non-blank fields as "Column: value";
// every other column is blank. Lines starting with # are comments.
package cldtest

import (
	"bytes"
	"encoding/csv"
	"os"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"
)

// RequireMatches fails t unless the CSV return got holds exactly the expected file's header and
// rows, compared field by field (the failure names the row, its Event_Reference and the column).
func RequireMatches(t testing.TB, expectedPath string, got []byte) {
	t.Helper()
	header, rows := ReadExpected(t, expectedPath)
	table := ReadCSV(t, got)
	require.NotEmpty(t, table, "the return has a header row")
	require.Equal(t, header, table[0], "the header row")
	table = table[1:]
	require.Len(t, table, len(rows), "the number of rows")
	for i, want := range rows {
		for c, col := range header {
			require.Equal(t, want[col], table[i][c], "row %d (%s), column %s", i+1, want["Event_Reference"], col)
		}
	}
}

// ReadExpected parses an expected file: its header and each row as a map of every column.
func ReadExpected(t testing.TB, path string) ([]string, []map[string]string) {
	t.Helper()
	raw, err := os.ReadFile(path)
	require.NoError(t, err)
	var blocks [][]string
	cur := []string{}
	for _, l := range strings.Split(string(raw), "\n") {
		switch {
		case strings.HasPrefix(l, "#") || strings.TrimSpace(l) == "":
		case l == "---":
			blocks, cur = append(blocks, cur), []string{}
		default:
			cur = append(cur, l)
		}
	}
	blocks = append(blocks, cur)
	require.GreaterOrEqual(t, len(blocks), 2, "an expected file has a header and an every-row block")
	header, every := blocks[0], fields(t, blocks[1])
	var rows []map[string]string
	for _, b := range blocks[2:] {
		row := map[string]string{}
		for _, col := range header {
			row[col] = ""
		}
		for k, v := range every {
			row[k] = v
		}
		for k, v := range fields(t, b) {
			_, known := row[k]
			require.True(t, known, "the expected file names an unknown column %q", k)
			row[k] = v
		}
		rows = append(rows, row)
	}
	return header, rows
}

// ReadCSV parses a whole CSV document.
func ReadCSV(t testing.TB, b []byte) [][]string {
	t.Helper()
	rows, err := csv.NewReader(bytes.NewReader(b)).ReadAll()
	require.NoError(t, err)
	return rows
}

func fields(t testing.TB, lines []string) map[string]string {
	t.Helper()
	out := map[string]string{}
	for _, l := range lines {
		k, v, ok := strings.Cut(l, ": ")
		require.True(t, ok, "want 'Column: value', got %q", l)
		out[k] = v
	}
	return out
}
