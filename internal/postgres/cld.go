package postgres

import (
	"context"
	"encoding/json"
	"time"

	"github.com/google/uuid"

	"github.com/pbudget/pbudget/internal/assessment"
	"github.com/pbudget/pbudget/internal/cld"
	"github.com/pbudget/pbudget/internal/cldexport"
	"github.com/pbudget/pbudget/internal/date"
	"github.com/pbudget/pbudget/internal/page"
	"github.com/pbudget/pbudget/internal/plan"
	"github.com/pbudget/pbudget/internal/review"
)

// CLDStore implements cldexport.Store.
type CLDStore struct {
	db    *DB
	plans *PlanStore
}

// NewCLDStore returns a CLDStore.
func NewCLDStore(db *DB) *CLDStore { return &CLDStore{db: db, plans: NewPlanStore(db)} }

type cldExportRow struct {
	CouncilID      uuid.UUID `gorm:"primaryKey"`
	ID             uuid.UUID `gorm:"primaryKey"`
	Quarter        string
	LACode         string `gorm:"column:la_code"`
	Components     []byte `gorm:"type:jsonb"`
	Status         string
	PeopleTotal    int
	PeopleDone     int
	RowsAssessment int
	RowsService    int
	RowsReview     int
	IssueCount     int
	IssuesByCode   []byte  `gorm:"type:jsonb"`
	SHA256         *string `gorm:"column:sha256"`
	Error          *string
	RequestedBy    string
	RequestedAt    time.Time
	CompletedAt    *time.Time
}

func (cldExportRow) TableName() string { return "cld_exports" }

// cldExportColumns are the columns of a listing: never the files.
var cldExportColumns = []string{"council_id", "id", "quarter", "la_code", "components", "status", "people_total", "people_done",
	"rows_assessment", "rows_service", "rows_review", "issue_count", "issues_by_code", "sha256", "error", "requested_by", "requested_at", "completed_at"}

func (r cldExportRow) domain() (cldexport.Export, error) {
	q, err := cld.ParseQuarter(r.Quarter)
	if err != nil {
		return cldexport.Export{}, err
	}
	e := cldexport.Export{CouncilID: r.CouncilID, ID: r.ID, Quarter: q, LACode: r.LACode, Status: cldexport.Status(r.Status),
		PeopleTotal: r.PeopleTotal, PeopleDone: r.PeopleDone, IssueCount: r.IssueCount, SHA256: deref(r.SHA256), Error: deref(r.Error),
		RequestedBy: r.RequestedBy, RequestedAt: r.RequestedAt.UTC(), CompletedAt: utcPtr(r.CompletedAt),
		Rows: map[cld.EventType]int{cld.EventAssessment: r.RowsAssessment, cld.EventService: r.RowsService, cld.EventReview: r.RowsReview}}
	if err := json.Unmarshal(r.Components, &e.Components); err != nil {
		return e, err
	}
	if err := json.Unmarshal(r.IssuesByCode, &e.IssuesByCode); err != nil {
		return e, err
	}
	return e, nil
}

// Insert implements cldexport.Store.
func (s *CLDStore) Insert(ctx context.Context, e cldexport.Export) error {
	comps, err := json.Marshal(e.Components)
	if err != nil {
		return err
	}
	row := cldExportRow{CouncilID: e.CouncilID, ID: e.ID, Quarter: e.Quarter.String(), LACode: e.LACode, Components: comps, Status: string(e.Status),
		IssuesByCode: []byte("{}"), RequestedBy: e.RequestedBy, RequestedAt: e.RequestedAt}
	return translate(s.db.conn(ctx).Select(cldExportColumns).Create(&row).Error, nil)
}

// Get implements cldexport.Store.
func (s *CLDStore) Get(ctx context.Context, councilID, id uuid.UUID) (cldexport.Export, error) {
	r, err := takeOne[cldExportRow](s.db.conn(ctx).Select(cldExportColumns), false, "council_id = ? AND id = ?", uuidArg(councilID), uuidArg(id))
	if err != nil {
		return cldexport.Export{}, err
	}
	return r.domain()
}

// List implements cldexport.Store.
func (s *CLDStore) List(ctx context.Context, councilID uuid.UUID, p page.Request) ([]cldexport.Export, error) {
	var rows []cldExportRow
	if err := paginate(s.db.conn(ctx).Select(cldExportColumns).Where("council_id = ?", uuidArg(councilID)), "requested_at", p).Find(&rows).Error; err != nil {
		return nil, translate(err, nil)
	}
	return mapRows(rows, cldExportRow.domain)
}

func (s *CLDStore) update(ctx context.Context, councilID, id uuid.UUID, set map[string]any) error {
	return translate(s.db.conn(ctx).Model(&cldExportRow{}).Where("council_id = ? AND id = ?", uuidArg(councilID), uuidArg(id)).Updates(set).Error, nil)
}

// Start implements cldexport.Store.
func (s *CLDStore) Start(ctx context.Context, councilID, id uuid.UUID, total int) error {
	return s.update(ctx, councilID, id, map[string]any{"status": "running", "people_total": total, "people_done": 0, "error": nil})
}

// Progress implements cldexport.Store.
func (s *CLDStore) Progress(ctx context.Context, councilID, id uuid.UUID, done int) error {
	return s.update(ctx, councilID, id, map[string]any{"people_done": done})
}

// Fail implements cldexport.Store.
func (s *CLDStore) Fail(ctx context.Context, councilID, id uuid.UUID, msg string) error {
	if len(msg) > 500 {
		msg = msg[:500]
	}
	return s.update(ctx, councilID, id, map[string]any{"status": "failed", "error": msg})
}

// Finish implements cldexport.Store.
func (s *CLDStore) Finish(ctx context.Context, e cldexport.Export, data, issues []byte) error {
	byCode, err := json.Marshal(e.IssuesByCode)
	if err != nil {
		return err
	}
	return s.update(ctx, e.CouncilID, e.ID, map[string]any{"status": "done", "people_total": e.PeopleTotal, "people_done": e.PeopleDone,
		"rows_assessment": e.Rows[cld.EventAssessment], "rows_service": e.Rows[cld.EventService], "rows_review": e.Rows[cld.EventReview],
		"issue_count": e.IssueCount, "issues_by_code": byCode, "sha256": e.SHA256, "data": data, "issues": issues,
		"completed_at": e.CompletedAt, "error": nil})
}

// File implements cldexport.Store.
func (s *CLDStore) File(ctx context.Context, councilID, id uuid.UUID, issues bool) ([]byte, error) {
	col := "data"
	if issues {
		col = "issues"
	}
	var b []byte
	err := s.db.conn(ctx).Raw(`SELECT `+col+` FROM cld_exports WHERE council_id = ? AND id = ?`, uuidArg(councilID), uuidArg(id)).Row().Scan(&b)
	return b, translate(err, nil)
}

// Categories implements cldexport.Store.
func (s *CLDStore) Categories(ctx context.Context, councilID uuid.UUID) (map[string]plan.Category, error) {
	return s.plans.Categories(ctx, councilID)
}

// quarterBounds are the quarter's first day and the day after, and the same as instants at
// midnight in London (for completed_at).
func quarterBounds(q cld.Quarter) (date.Date, date.Date, time.Time, time.Time) {
	return q.Start(), q.End(), q.Start().Start(), q.End().Start()
}

// The quarter's events, each as a set of (person, …) rows; People unions their people.
const (
	cldAssessmentsSQL = `SELECT a.person_id, a.id, a.type, (a.created_at AT TIME ZONE 'Europe/London')::date AS started,
			(a.completed_at AT TIME ZONE 'Europe/London')::date AS completed, coalesce(a.eligible, false) AS eligible
		FROM assessments a WHERE a.council_id = @council AND a.status = 'completed' AND a.completed_at >= @from_ts AND a.completed_at < @to_ts`
	// Lines of approved plans and of plans since superseded (which end the day their revision
	// was approved), in force on a day of the quarter.
	cldServicesSQL = `SELECT sp.person_id, l.id, l.category, l.management_option, l.unit, l.unit_cost_pence, l.quantity_hundredths,
			l.frequency, l.start_date, l.end_date, b.kind = 'carer' AS carer,
			(SELECT min((r.approved_at AT TIME ZONE 'Europe/London')::date) FROM support_plans r
			  WHERE r.council_id = sp.council_id AND r.revises_id = sp.id AND r.approved_at IS NOT NULL) AS superseded_from
		FROM plan_lines l
		JOIN support_plans sp ON sp.council_id = l.council_id AND sp.id = l.plan_id
		JOIN personal_budgets b ON b.council_id = sp.council_id AND b.id = sp.budget_id
		WHERE l.council_id = @council AND sp.status IN ('approved', 'superseded') AND l.start_date < @to AND l.end_date > @from`
	cldReviewsSQL = `SELECT r.person_id, r.id, r.held_on, r.reason, r.decision, r.outcomes, b.kind = 'carer' AS carer
		FROM reviews r JOIN support_plans sp ON sp.council_id = r.council_id AND sp.id = r.plan_id
		JOIN personal_budgets b ON b.council_id = sp.council_id AND b.id = sp.budget_id
		WHERE r.council_id = @council AND r.held_on >= @from AND r.held_on < @to`
)

func cldArgs(councilID uuid.UUID, q cld.Quarter) map[string]any {
	from, to, fromTS, toTS := quarterBounds(q)
	return map[string]any{"council": uuidArg(councilID), "from": from, "to": to, "from_ts": fromTS, "to_ts": toTS}
}

// People implements cldexport.Store.
func (s *CLDStore) People(ctx context.Context, councilID uuid.UUID, q cld.Quarter) ([]uuid.UUID, error) {
	var ids []uuid.UUID
	err := s.db.conn(ctx).Raw(`SELECT person_id FROM (SELECT person_id FROM (`+cldAssessmentsSQL+`) a
			UNION SELECT person_id FROM (`+cldServicesSQL+`) s UNION SELECT person_id FROM (`+cldReviewsSQL+`) r) p ORDER BY person_id`,
		cldArgs(councilID, q)).Scan(&ids).Error
	return ids, translate(err, nil)
}

// Events implements cldexport.Store: four set-based reads for the batch, in person order and
// within a person by date and id, so that the same records give the same file.
func (s *CLDStore) Events(ctx context.Context, councilID uuid.UUID, q cld.Quarter, people []uuid.UUID) ([]cldexport.PersonEvents, error) {
	args := cldArgs(councilID, q)
	args["people"] = uuidArray(people)
	conn := s.db.conn(ctx)
	var persons []struct {
		ID          uuid.UUID
		NHSNumber   *string `gorm:"column:nhs_number"`
		DateOfBirth date.Date
		Postcode    *string
		Child       bool
	}
	if err := conn.Raw(`SELECT id, nhs_number, date_of_birth, address_postcode AS postcode, person_type = 'child' AS child FROM people
		WHERE council_id = @council AND id = ANY (@people) ORDER BY id`, args).Scan(&persons).Error; err != nil {
		return nil, translate(err, nil)
	}
	out := make([]cldexport.PersonEvents, len(persons))
	index := make(map[uuid.UUID]int, len(persons))
	for i, p := range persons {
		dob := p.DateOfBirth
		out[i].Person = cld.Person{ID: p.ID, NHSNumber: deref(p.NHSNumber), DateOfBirth: &dob, Postcode: deref(p.Postcode), Child: p.Child}
		index[p.ID] = i
	}
	var asms []struct {
		PersonID  uuid.UUID
		ID        uuid.UUID
		Type      string
		Started   date.Date
		Completed date.Date
		Eligible  bool
	}
	if err := conn.Raw(`SELECT * FROM (`+cldAssessmentsSQL+`) a WHERE person_id = ANY (@people) ORDER BY person_id, completed, id`, args).
		Scan(&asms).Error; err != nil {
		return nil, translate(err, nil)
	}
	for _, a := range asms {
		if i, ok := index[a.PersonID]; ok {
			out[i].Assessments = append(out[i].Assessments, cld.Assessment{ID: a.ID, Type: assessment.Type(a.Type), Started: a.Started,
				Completed: a.Completed, Eligible: a.Eligible})
		}
	}
	var lines []struct {
		PersonID           uuid.UUID
		ID                 uuid.UUID
		Category           string
		ManagementOption   string
		Unit               string
		UnitCostPence      int64
		QuantityHundredths int64
		Frequency          string
		StartDate          date.Date
		EndDate            date.Date
		Carer              bool
		SupersededFrom     *date.Date
	}
	if err := conn.Raw(`SELECT * FROM (`+cldServicesSQL+`) s WHERE person_id = ANY (@people) ORDER BY person_id, start_date, id`, args).
		Scan(&lines).Error; err != nil {
		return nil, translate(err, nil)
	}
	for _, l := range lines {
		if i, ok := index[l.PersonID]; ok {
			out[i].Services = append(out[i].Services, cld.Service{Carer: l.Carer, SupersededFrom: l.SupersededFrom, Line: plan.Line{
				ID: l.ID, Category: l.Category, Option: plan.Option(l.ManagementOption), Unit: plan.Unit(l.Unit), UnitCost: l.UnitCostPence,
				Quantity: plan.Quantity(l.QuantityHundredths), Frequency: plan.Frequency(l.Frequency), Start: l.StartDate, End: l.EndDate}})
		}
	}
	var revs []struct {
		PersonID uuid.UUID
		ID       uuid.UUID
		HeldOn   date.Date
		Reason   string
		Decision string
		Outcomes []byte
		Carer    bool
	}
	if err := conn.Raw(`SELECT * FROM (`+cldReviewsSQL+`) r WHERE person_id = ANY (@people) ORDER BY person_id, held_on, id`, args).
		Scan(&revs).Error; err != nil {
		return nil, translate(err, nil)
	}
	for _, r := range revs {
		i, ok := index[r.PersonID]
		if !ok {
			continue
		}
		var outs []outcomeJSON
		if err := json.Unmarshal(r.Outcomes, &outs); err != nil {
			return nil, translate(err, nil)
		}
		rec := review.Record{Date: r.HeldOn, Reason: review.Reason(r.Reason), Decision: review.Decision(r.Decision)}
		for _, o := range outs {
			rec.Outcomes = append(rec.Outcomes, review.OutcomeResult{Outcome: o.Outcome, Rating: review.Rating(o.Rating)})
		}
		out[i].Reviews = append(out[i].Reviews, cld.Review{ID: r.ID, Record: rec, Carer: r.Carer})
	}
	return out, nil
}
