// Package buildinfo says which build of pbudget is running: the version and commit stamped at
// build time, or else what the Go toolchain recorded (the module version, the VCS revision).
//
// Stamp them with
//
//	go build -ldflags "-X github.com/pbudget/pbudget/internal/buildinfo.version=v1.2.0 \
//	  -X github.com/pbudget/pbudget/internal/buildinfo.commit=$(git rev-parse HEAD)" ./cmd/pbudget
//
// (make build and the Dockerfile do).
package buildinfo

import (
	"fmt"
	"runtime"
	"runtime/debug"
)

// Set with -ldflags -X; empty means not stamped.
var (
	version string
	commit  string
)

// Info describes a build.
type Info struct {
	Version   string // v1.2.0, a module pseudo-version, or dev
	Commit    string // the full revision, with -dirty when the tree had changes; unknown when not known
	GoVersion string
}

// Get returns the running binary's build.
func Get() Info {
	i := Info{Version: version, Commit: commit, GoVersion: runtime.Version()}
	if bi, ok := debug.ReadBuildInfo(); ok {
		if i.Version == "" && bi.Main.Version != "" && bi.Main.Version != "(devel)" {
			i.Version = bi.Main.Version
		}
		if i.Commit == "" {
			var rev, modified string
			for _, s := range bi.Settings {
				switch s.Key {
				case "vcs.revision":
					rev = s.Value
				case "vcs.modified":
					modified = s.Value
				}
			}
			if rev != "" && modified == "true" {
				rev += "-dirty"
			}
			i.Commit = rev
		}
	}
	if i.Version == "" {
		i.Version = "dev"
	}
	if i.Commit == "" {
		i.Commit = "unknown"
	}
	return i
}

// String is the one line of pbudget --version.
func (i Info) String() string {
	return fmt.Sprintf("pbudget %s (commit %s, %s)", i.Version, i.Commit, i.GoVersion)
}
