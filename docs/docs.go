// Package docs is the project's own documentation. It is Go only to embed the journey, which the
// service serves as the first section of /docs, and to test it: journey_test.go runs every call of
// journey.md against a real server and checks what they print; page_test.go renders /docs in
// headless Chromium.
package docs

import _ "embed"

// Journey is journey.md: a front end's path through the API, with curl.
//
//go:embed journey.md
var Journey string
