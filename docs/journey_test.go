package docs_test

import (
	"bytes"
	"fmt"
	"os"
	"os/exec"
	"regexp"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/pbudget/pbudget/docs"
)

// block is a fenced code block of journey.md.
type block struct {
	lang, body string
	line       int
	want       *string // for an sh block: the text block that follows it, what it prints
}

var fence = regexp.MustCompile("^```([a-z]*)\\s*$")

// journeyBlocks returns the sh blocks of the journey, each with what it prints when the page
// says so (a text block right after it).
func journeyBlocks(md string) []block {
	var all []block
	var cur *block
	var body strings.Builder
	for i, line := range strings.Split(md, "\n") {
		m := fence.FindStringSubmatch(line)
		switch {
		case cur == nil && m != nil:
			cur = &block{lang: m[1], line: i + 1}
			body.Reset()
		case cur != nil && line == "```":
			cur.body = body.String()
			all = append(all, *cur)
			cur = nil
		case cur != nil:
			body.WriteString(line + "\n")
		}
	}
	var out []block
	for i, b := range all {
		if b.lang != "sh" {
			continue
		}
		if i+1 < len(all) && all[i+1].lang == "text" {
			want := all[i+1].body
			b.want = &want
		}
		out = append(out, b)
	}
	return out
}

const marker = "@@journey-block "

// TestTheJourneyRunsAgainstTheDevServer runs every sh block of journey.md, in order, in one bash,
// against what `make run` serves, and checks what each block prints against the text block under
// it. A call answered with an error status fails the run (curl --fail-with-body), unless the block
// asks for the status itself (curl -w).
func TestTheJourneyRunsAgainstTheDevServer(t *testing.T) {
	for _, tool := range []string{"bash", "curl", "jq", "openssl"} {
		if _, err := exec.LookPath(tool); err != nil {
			t.Fatalf("the journey needs %s (make test installs it: .ci/need-tools)", tool)
		}
	}
	blocks := journeyBlocks(docs.Journey)
	require.Greater(t, len(blocks), 10, "the journey's calls")
	srv := startDevServer(t)

	var script strings.Builder
	script.WriteString("set -euo pipefail\n")
	// curl fails on an error status and shows the problem on stderr, unless the block reads the status.
	script.WriteString(`curl() {
  case " $* " in *" -w "*) command curl "$@"; return ;; esac
  local out rc=0
  out=$(command curl --fail-with-body "$@") || rc=$?
  if [ "$rc" -ne 0 ]; then printf 'curl %s\n%s\n' "$*" "$out" >&2; return "$rc"; fi
  printf '%s' "$out"
}
`)
	for i, b := range blocks {
		fmt.Fprintf(&script, "printf '\\n%s%d\\n'\n%s", marker, i, b.body)
	}
	cmd := exec.Command("bash", "-c", script.String())
	cmd.Dir = srv.Dir
	cmd.Env = append(os.Environ(), "PB="+srv.URL, "TOKEN="+srv.Token)
	var stdout, stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	err := cmd.Run()

	printed := map[int]string{}
	last := -1
	for _, part := range strings.Split(stdout.String(), "\n"+marker)[1:] {
		n, rest, _ := strings.Cut(part, "\n")
		var i int
		_, _ = fmt.Sscanf(n, "%d", &i)
		printed[i], last = rest, i
	}
	if err != nil || t.Failed() {
		for i := range last + 1 {
			t.Logf("journey.md:%d printed:\n%s", blocks[i].line, printed[i])
		}
	}
	if err != nil {
		b := blocks[max(last, 0)]
		t.Fatalf("the journey's block at journey.md:%d failed: %v\nit printed:\n%s\nstderr:\n%s", b.line, err, printed[last], stderr.String())
	}
	require.Equal(t, len(blocks)-1, last, "every block ran")
	checked := 0
	for i, b := range blocks {
		if b.want == nil {
			continue
		}
		require.Equal(t, *b.want, printed[i], "what the block at journey.md:%d prints", b.line)
		checked++
	}
	require.GreaterOrEqual(t, checked, 8, "the page shows what most steps print")
}
