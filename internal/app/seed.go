package app

import (
	"context"

	shipped "github.com/pbudget/pbudget/config"
	"github.com/pbudget/pbudget/internal/actor"
	"github.com/pbudget/pbudget/internal/httpapi"
	"github.com/pbudget/pbudget/internal/page"
	"github.com/pbudget/pbudget/internal/postgres"
	"github.com/pbudget/pbudget/internal/ras"
)

// SeedActor is the audit trail's actor for the demo council's seeding.
const SeedActor = "system:seed"

// DemoFiles are the demo council's configuration files, shipped in config/demo.
func DemoFiles() ([]ConfigFile, error) {
	files, err := shipped.Demo()
	if err != nil {
		return nil, err
	}
	out := make([]ConfigFile, len(files))
	for i, f := range files {
		out[i] = ConfigFile{Path: f.Path, Data: f.Data}
	}
	return out, nil
}

// Seed creates the demo council (code demo) as pbudget council create does, and loads its
// configuration from config/demo (a RAS version in force for each assessment type, the England
// 2025/26 rate table, its own service categories), idempotently: what exists is left as it is.
func Seed(ctx context.Context, db *postgres.DB) (CouncilReport, LoadReport, error) {
	files, err := DemoFiles()
	if err != nil {
		return CouncilReport{}, LoadReport{}, err
	}
	created, err := CreateCouncil(ctx, db, "demo", "Demo Council", SeedActor)
	if err != nil {
		return CouncilReport{}, LoadReport{}, err
	}
	loaded, err := Load(ctx, db, "demo", SeedActor, files)
	return created, loaded, err
}

// SeedRAS puts the demo council's RAS versions (config/demo/ras-versions.yaml) in force for the
// actor's council where it has none of a type, and returns how many it added.
func SeedRAS(ctx context.Context, svc Services, a actor.Actor) (int, error) {
	files, err := DemoFiles()
	if err != nil {
		return 0, err
	}
	checker, err := httpapi.NewBodyChecker()
	if err != nil {
		return 0, err
	}
	entries, problems := parseConfig(ctx, checker, "demo", files)
	if len(problems) > 0 {
		return 0, &LoadError{Problems: problems}
	}
	added := 0
	for _, e := range entries {
		if e.ras == nil {
			continue
		}
		existing, err := svc.RAS.List(ctx, a, ras.Filter{AssessmentType: e.ras.AssessmentType}, page.Request{Size: 1})
		if err != nil {
			return added, err
		}
		if len(existing) > 0 {
			continue
		}
		v, err := svc.RAS.Create(ctx, a, *e.ras)
		if err != nil {
			return added, err
		}
		if _, err := svc.RAS.Activate(ctx, a, v.ID, v.Version); err != nil {
			return added, err
		}
		added++
	}
	return added, nil
}
