package app

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"time"

	"github.com/google/uuid"

	"github.com/pbudget/pbudget/internal/actor"
	"github.com/pbudget/pbudget/internal/apperr"
	"github.com/pbudget/pbudget/internal/audit"
	"github.com/pbudget/pbudget/internal/charging"
	"github.com/pbudget/pbudget/internal/council"
	"github.com/pbudget/pbudget/internal/httpapi"
	"github.com/pbudget/pbudget/internal/page"
	"github.com/pbudget/pbudget/internal/postgres"
	"github.com/pbudget/pbudget/internal/ras"
)

// LoadActor is the audit trail's actor for a load when the operator names nobody.
const LoadActor = "system:load"

// Outcome is what a load did with one entry.
type Outcome string

// The outcomes of an entry.
const (
	Created   Outcome = "created"
	Activated Outcome = "activated"
	Updated   Outcome = "updated"
	Unchanged Outcome = "unchanged"
)

// LoadedEntry reports one entry of a load.
type LoadedEntry struct {
	File     string
	Line     int
	What     string    // e.g. needs RAS version "Adult RAS 2026/27"
	Outcomes []Outcome // in order, e.g. created, activated; unchanged alone when nothing changed
	ID       uuid.UUID
	Note     string // why an entry was left as it is, when that is worth saying
}

// LoadReport says what a load did.
type LoadReport struct {
	Council council.Council
	Actor   string
	Entries []LoadedEntry
}

// Changes counts the entries the load changed.
func (r LoadReport) Changes() int {
	n := 0
	for _, e := range r.Entries {
		if len(e.Outcomes) != 1 || e.Outcomes[0] != Unchanged {
			n++
		}
	}
	return n
}

// Load loads a council's configuration files (docs/configuration.md) into the council with code:
// every entry validated as the API validates its create body and then given to the domain service
// the API calls, as the operator subject (LoadActor when empty), in one transaction. A file that
// fails anywhere changes nothing (the error is a *LoadError listing every problem). Loading the
// same files again changes nothing: an entry already there, the same, is left as it is.
func Load(ctx context.Context, db *postgres.DB, code, subject string, files []ConfigFile) (LoadReport, error) {
	if subject == "" {
		subject = LoadActor
	}
	checker, err := httpapi.NewBodyChecker()
	if err != nil {
		return LoadReport{}, err
	}
	svc, err := BuildOffline(db)
	if err != nil {
		return LoadReport{}, err
	}
	c, err := registry(db).Find(ctx, code)
	if errors.Is(err, apperr.ErrNotFound) {
		return LoadReport{}, apperr.ErrNotFound.WithMessage("no council has the code %s: create it first (pbudget council create)", code)
	}
	if err != nil {
		return LoadReport{}, err
	}
	if c.Retired() {
		return LoadReport{}, council.ErrRetired.WithMessage("council %s was retired on %s; nothing is loaded into a retired council", code, c.RetiredAt.UTC().Format(time.DateOnly))
	}
	entries, problems := parseConfig(ctx, checker, code, files)
	if len(problems) > 0 {
		return LoadReport{}, &LoadError{Problems: problems}
	}
	report := LoadReport{Council: c, Actor: subject}
	a := council.Operator(subject, c)
	err = db.WithinTx(ctx, func(ctx context.Context) error {
		for _, e := range entries {
			var done LoadedEntry
			// A savepoint per entry: a refused entry is reported and the others are still tried,
			// so that one run lists every problem; any problem rolls the whole load back.
			err := db.WithinTx(ctx, func(ctx context.Context) error {
				var err error
				done, err = apply(ctx, svc, a, e)
				return err
			})
			if err != nil {
				problems = append(problems, e.problem(err)...)
				continue
			}
			done.File, done.Line, done.What = e.file, e.line, e.label()
			report.Entries = append(report.Entries, done)
		}
		if len(problems) > 0 {
			return &LoadError{Problems: problems}
		}
		if report.Changes() == 0 {
			return nil // nothing to record: the trail says what changed, and nothing did
		}
		return postgres.NewAuditStore(db, time.Now).Record(ctx, a, audit.Event{
			Action: "council_configuration.loaded", EntityType: "council", EntityID: c.ID,
			Details: map[string]any{"files": fileDigests(files), "entries": len(report.Entries), "changed": report.Changes()},
		})
	})
	if err != nil {
		return LoadReport{}, err
	}
	return report, nil
}

func fileDigests(files []ConfigFile) []map[string]string {
	out := make([]map[string]string, len(files))
	for i, f := range files {
		sum := sha256.Sum256(f.Data)
		out[i] = map[string]string{"path": f.Path, "sha256": hex.EncodeToString(sum[:])}
	}
	return out
}

// apply makes the council's configuration hold the entry, through the domain services.
func apply(ctx context.Context, svc Services, a actor.Actor, e entry) (LoadedEntry, error) {
	switch {
	case e.table != nil:
		return applyTable(ctx, svc, a, *e.table)
	case e.ras != nil:
		return applyRAS(ctx, svc, a, *e.ras, e.active)
	default:
		return applyCategory(ctx, svc, a, e)
	}
}

// applyTable creates the table unless the council has one from the same date: the same is left as
// it is; another is changed as PATCH /v1/rate-tables/{id} would (refused once in force).
func applyTable(ctx context.Context, svc Services, a actor.Actor, want charging.RateTable) (LoadedEntry, error) {
	tables, err := everything(func(p page.Request) ([]charging.RateTable, error) { return svc.Charging.ListTables(ctx, a, nil, p) },
		charging.RateTable.Cursor)
	if err != nil {
		return LoadedEntry{}, err
	}
	for _, t := range tables {
		if t.ValidFrom != want.ValidFrom {
			continue
		}
		if sameTable(t, want) {
			return LoadedEntry{Outcomes: []Outcome{Unchanged}, ID: t.ID}, nil
		}
		u, err := svc.Charging.UpdateTable(ctx, a, t.ID, t.Version, func(t *charging.RateTable) {
			id, council, version, created, updated := t.ID, t.CouncilID, t.Version, t.CreatedAt, t.UpdatedAt
			*t = want
			t.ID, t.CouncilID, t.Version, t.CreatedAt, t.UpdatedAt = id, council, version, created, updated
		})
		if err != nil {
			return LoadedEntry{}, err
		}
		return LoadedEntry{Outcomes: []Outcome{Updated}, ID: u.ID}, nil
	}
	t, err := svc.Charging.CreateTable(ctx, a, want)
	if err != nil {
		return LoadedEntry{}, err
	}
	return LoadedEntry{Outcomes: []Outcome{Created}, ID: t.ID}, nil
}

// sameTable compares the rates of two tables.
func sameTable(a, b charging.RateTable) bool {
	norm := func(t charging.RateTable) charging.RateTable {
		t.CouncilID, t.ID, t.Version, t.CreatedAt, t.UpdatedAt = uuid.Nil, uuid.Nil, 0, time.Time{}, time.Time{}
		if len(t.MIG.Base) == 0 {
			t.MIG.Base = nil
		}
		return t
	}
	return sameJSON(norm(a), norm(b))
}

// applyRAS finds the council's version of the type with the entry's name. The same questionnaire
// and model: left as it is (activated when the file says active and it is a draft). A draft with
// other contents is changed as PATCH would; an active or retired one is immutable, so the file
// must name a changed version afresh. None: created, and activated when the file says active.
func applyRAS(ctx context.Context, svc Services, a actor.Actor, want ras.Input, activate bool) (LoadedEntry, error) {
	versions, err := everything(func(p page.Request) ([]ras.Version, error) {
		return svc.RAS.List(ctx, a, ras.Filter{AssessmentType: want.AssessmentType}, p)
	}, ras.Version.Cursor)
	if err != nil {
		return LoadedEntry{}, err
	}
	var same, draft, fixed *ras.Version
	for i := range versions {
		v := &versions[i]
		if v.Name != want.Name {
			continue
		}
		switch {
		case sameJSON(v.Questionnaire, want.Questionnaire) && sameJSON(v.Model, want.Model):
			same = v
		case v.Status == ras.Draft:
			draft = v
		default:
			fixed = v
		}
	}
	var out LoadedEntry
	var v ras.Version
	switch {
	case same != nil:
		v, out.Outcomes = *same, []Outcome{Unchanged}
	case draft != nil:
		if v, err = svc.RAS.Update(ctx, a, draft.ID, draft.Version, ras.Patch{Questionnaire: &want.Questionnaire, Model: &want.Model}); err != nil {
			return LoadedEntry{}, err
		}
		out.Outcomes = []Outcome{Updated}
	case fixed != nil:
		return LoadedEntry{}, ras.ErrNotDraft.WithMessage(
			"version %d of the %s RAS, %q, is %s and immutable, and its questionnaire or model differs from the file's: give the changed version a new name",
			fixed.Number, fixed.AssessmentType, fixed.Name, fixed.Status)
	default:
		if v, err = svc.RAS.Create(ctx, a, want); err != nil {
			return LoadedEntry{}, err
		}
		out.Outcomes = []Outcome{Created}
	}
	out.ID = v.ID
	switch {
	case activate && v.Status == ras.Draft:
		if _, err := svc.RAS.Activate(ctx, a, v.ID, v.Version); err != nil {
			return LoadedEntry{}, err
		}
		if out.Outcomes[0] == Unchanged {
			out.Outcomes = nil
		}
		out.Outcomes = append(out.Outcomes, Activated)
	case activate && v.Status == ras.Retired:
		out.Note = fmt.Sprintf("version %d is retired: a later version has been in force since; it is not brought back", v.Number)
	}
	return out, nil
}

// applyCategory adds the category unless the council's catalogue has it as it is; a default of the
// same key is replaced by the council's own, as POST /v1/service-categories does.
func applyCategory(ctx context.Context, svc Services, a actor.Actor, e entry) (LoadedEntry, error) {
	cats, err := svc.Plans.Categories(ctx, a)
	if err != nil {
		return LoadedEntry{}, err
	}
	have, exists := cats[e.cat.Key]
	if exists && have == *e.cat {
		return LoadedEntry{Outcomes: []Outcome{Unchanged}}, nil
	}
	if _, err := svc.Plans.AddCategory(ctx, a, *e.cat); err != nil {
		return LoadedEntry{}, err
	}
	out := LoadedEntry{Outcomes: []Outcome{Created}}
	if exists {
		out.Note = "in place of the default category of this key"
	}
	return out, nil
}

// everything reads every page of a list.
func everything[T any](list func(page.Request) ([]T, error), cursor func(T) page.Cursor) ([]T, error) {
	var out []T
	p := page.Request{Size: page.MaxSize}
	for {
		items, err := list(p)
		if err != nil {
			return nil, err
		}
		if len(items) <= p.Size {
			return append(out, items...), nil
		}
		items = items[:p.Size]
		out = append(out, items...)
		c := cursor(items[len(items)-1])
		p.After = &c
	}
}

func sameJSON(a, b any) bool {
	ja, errA := json.Marshal(a)
	jb, errB := json.Marshal(b)
	return errA == nil && errB == nil && string(ja) == string(jb)
}
