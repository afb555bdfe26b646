package app

import (
	"context"
	"slices"
	"time"

	"github.com/pbudget/pbudget/internal/charging"
	"github.com/pbudget/pbudget/internal/council"
	"github.com/pbudget/pbudget/internal/page"
	"github.com/pbudget/pbudget/internal/plan"
	"github.com/pbudget/pbudget/internal/postgres"
)

// CouncilActor is the audit trail's actor for the council commands when the operator names nobody.
const CouncilActor = "system:council"

// NationalRateTables are the charging rate tables every new council starts with.
func NationalRateTables() []charging.RateTable { return charging.EnglandTables() }

// CouncilReport says what creating a council did.
type CouncilReport struct {
	Council    council.Council
	Created    bool
	Tables     []LoadedEntry    // the national rate tables: created, or unchanged when one from the date exists
	Settings   council.Settings // in force: the defaults until the council changes them
	Categories int              // the default catalogue's categories
}

// Changes counts what the command changed.
func (r CouncilReport) Changes() int {
	n := 0
	if r.Created {
		n++
	}
	for _, t := range r.Tables {
		if t.Outcomes[0] != Unchanged {
			n++
		}
	}
	return n
}

func registry(db *postgres.DB) *council.Registry {
	return council.NewRegistry(postgres.NewCouncilStore(db), postgres.NewAuditStore(db, time.Now), db, time.Now)
}

// CreateCouncil creates the council with code and name, idempotently, in one transaction: the
// council (its settings are the defaults until changed, its catalogue the default one) and the
// national rate tables it has no table from the date of. Run again, it changes nothing.
func CreateCouncil(ctx context.Context, db *postgres.DB, code, name, operator string) (CouncilReport, error) {
	if operator == "" {
		operator = CouncilActor
	}
	svc, err := BuildOffline(db)
	if err != nil {
		return CouncilReport{}, err
	}
	var r CouncilReport
	err = db.WithinTx(ctx, func(ctx context.Context) error {
		c, created, err := registry(db).Create(ctx, operator, code, name)
		if err != nil {
			return err
		}
		r = CouncilReport{Council: c, Created: created, Categories: len(plan.DefaultCategories())}
		a := council.Operator(operator, c)
		have, err := everything(func(p page.Request) ([]charging.RateTable, error) { return svc.Charging.ListTables(ctx, a, nil, p) },
			charging.RateTable.Cursor)
		if err != nil {
			return err
		}
		for _, t := range NationalRateTables() {
			e := LoadedEntry{What: entry{table: &t}.label(), Outcomes: []Outcome{Unchanged}, Note: "the council has a table from this date"}
			if i := slices.IndexFunc(have, func(h charging.RateTable) bool { return h.ValidFrom == t.ValidFrom }); i >= 0 {
				e.ID = have[i].ID
			} else {
				created, err := svc.Charging.CreateTable(ctx, a, t)
				if err != nil {
					return err
				}
				e.ID, e.Outcomes, e.Note = created.ID, []Outcome{Created}, ""
			}
			r.Tables = append(r.Tables, e)
		}
		r.Settings, err = svc.Settings.Get(ctx, c.ID)
		return err
	})
	return r, err
}

// ListCouncils returns every council, retired ones too, by code.
func ListCouncils(ctx context.Context, db *postgres.DB) ([]council.Council, error) {
	return registry(db).List(ctx)
}

// RetireCouncil retires the council with code, for reason (see council.Registry.Retire).
func RetireCouncil(ctx context.Context, db *postgres.DB, code, reason, operator string) (council.Council, error) {
	if operator == "" {
		operator = CouncilActor
	}
	return registry(db).Retire(ctx, operator, code, reason)
}
