package docs_test

import (
	"bytes"
	"context"
	"image"
	"image/png"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
)

// chromiumFlags run Debian's Chromium headless with nothing of its own on the network (no
// background requests, updates or sync), a fresh profile, and every host name but loopback
// unresolvable, so that nothing the page does can leave the machine.
func chromiumFlags(profile string) []string {
	return []string{
		"--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
		"--disable-background-networking", "--disable-component-update", "--disable-sync",
		"--user-data-dir=" + profile,
		"--host-resolver-rules=MAP * ~NOTFOUND, EXCLUDE 127.0.0.1",
		// Redoc renders after the page has loaded; virtual time lets its timers run out quickly.
		"--virtual-time-budget=30000",
	}
}

// chromium is the browser to check the page with: PB_CHROMIUM, or chromium on PATH. Without one
// the test is skipped, unless PB_REQUIRE_CHROMIUM is set, as make test sets it after installing
// Chromium (.ci/need-tools), so that the check cannot silently not run there.
func chromium(t *testing.T) string {
	t.Helper()
	if p := os.Getenv("PB_CHROMIUM"); p != "" {
		return p
	}
	p, err := exec.LookPath("chromium")
	if err != nil {
		if os.Getenv("PB_REQUIRE_CHROMIUM") != "" {
			t.Fatal("chromium is not installed (.ci/need-tools installs it)")
		}
		t.Skip("chromium is not installed; make docs-check installs it and runs this test")
	}
	return p
}

// TestTheDocsPageRendersTheJourneyFirstInChromium loads /docs from the dev server in headless
// Chromium: Redoc must have rendered the journey as the first section of its menu and page, and
// the screenshot must show a page, not a blank one. PB_DOCS_SCREENSHOT keeps the screenshot.
func TestTheDocsPageRendersTheJourneyFirstInChromium(t *testing.T) {
	browser := chromium(t)
	srv := startDevServer(t)
	dir := t.TempDir()
	run := func(name string, args ...string) []byte {
		t.Helper()
		ctx, cancel := context.WithTimeout(context.Background(), 3*time.Minute)
		defer cancel()
		cmd := exec.CommandContext(ctx, browser, append(chromiumFlags(filepath.Join(dir, name)), args...)...)
		var stdout, stderr bytes.Buffer
		cmd.Stdout, cmd.Stderr = &stdout, &stderr
		require.NoError(t, cmd.Run(), "chromium %s: %s", name, stderr.String())
		return stdout.Bytes()
	}
	page := srv.URL + "/docs"

	dom := string(run("dom", "--dump-dom", page))
	items := regexp.MustCompile(`data-item-id="([^"]+)"`).FindAllStringSubmatch(dom, -1)
	require.NotEmpty(t, items, "Redoc rendered its menu")
	require.Equal(t, "section/A-front-end's-journey", items[0][1], "the journey is the first section")
	require.True(t, regexp.MustCompile(`<h[12][^>]*>(<a[^>]*></a>)?A front end's journey</h[12]>`).MatchString(dom), "the journey's heading, rendered")
	for _, want := range []string{"1.-Record-the-person", "6.-Submit-and-sign-off", "8.-What-the-provider's-staff-see"} {
		require.True(t, strings.Contains(dom, `data-item-id="section/A-front-end's-journey/`+want+`"`), "the journey's step %s in the menu", want)
	}
	require.True(t, strings.Contains(dom, `data-item-id="tag/people/operation/createPerson"`), "and the reference after it")

	shot := filepath.Join(dir, "docs.png")
	run("screenshot", "--window-size=1400,1000", "--hide-scrollbars", "--screenshot="+shot, page)
	raw, err := os.ReadFile(shot)
	require.NoError(t, err)
	img, err := png.Decode(bytes.NewReader(raw))
	require.NoError(t, err)
	require.Equal(t, image.Rect(0, 0, 1400, 1000), img.Bounds())
	colours := map[[4]uint32]bool{}
	for y := 0; y < 1000; y += 2 {
		for x := 0; x < 1400; x += 2 {
			r, g, b, a := img.At(x, y).RGBA()
			colours[[4]uint32{r, g, b, a}] = true
		}
	}
	require.Greater(t, len(colours), 64, "a rendered page of text, not a blank or single-colour screen")
	if keep := os.Getenv("PB_DOCS_SCREENSHOT"); keep != "" {
		require.NoError(t, os.MkdirAll(filepath.Dir(keep), 0o755))
		require.NoError(t, os.WriteFile(keep, raw, 0o644))
		t.Logf("screenshot of /docs: %s", keep)
	}
}
