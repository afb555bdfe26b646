// Package config holds the configuration files shipped with pbudget, in the format of
// docs/configuration.md: the demo council's, which `pbudget seed` loads.
package config

import (
	"embed"
	"io/fs"
	"path"
)

//go:embed demo/*.yaml
var files embed.FS

// File is one shipped file and its path in the repository.
type File struct {
	Path string
	Data []byte
}

// Demo returns the demo council's configuration files in name order.
func Demo() ([]File, error) {
	names, err := fs.Glob(files, "demo/*.yaml") // sorted
	if err != nil {
		return nil, err
	}
	out := make([]File, 0, len(names))
	for _, n := range names {
		b, err := files.ReadFile(n)
		if err != nil {
			return nil, err
		}
		out = append(out, File{Path: path.Join("config", n), Data: b})
	}
	return out, nil
}
