package postgres

import (
	"context"
	"encoding/json"
	"time"

	"github.com/google/uuid"
	"gorm.io/gorm"
	"gorm.io/gorm/clause"

	"github.com/pbudget/pbudget/internal/date"
	"github.com/pbudget/pbudget/internal/page"
	"github.com/pbudget/pbudget/internal/review"
	"github.com/pbudget/pbudget/internal/reviews"
)

// ReviewStore implements reviews.Store.
type ReviewStore struct{ db *DB }

// NewReviewStore returns a ReviewStore.
func NewReviewStore(db *DB) *ReviewStore { return &ReviewStore{db: db} }

// Facts implements reviews.Store: five set-based reads for the batch of people.
func (s *ReviewStore) Facts(ctx context.Context, councilID uuid.UUID, people []uuid.UUID, today date.Date) (map[uuid.UUID]reviews.PersonFacts, error) {
	out := make(map[uuid.UUID]reviews.PersonFacts, len(people))
	if len(people) == 0 {
		return out, nil
	}
	q := s.db.conn(ctx)
	ids := uuidArray(people)
	get := func(id uuid.UUID) reviews.PersonFacts {
		pf, ok := out[id]
		if !ok {
			pf.PersonID = id
		}
		return pf
	}
	// The approved plans of budgets that have not ended: a plan starts on the later of its
	// approval and its first line's start.
	var plans []struct {
		PersonID uuid.UUID
		ID       uuid.UUID
		Start    date.Date
		Version  int
		Outcomes int
	}
	if err := q.Raw(`SELECT sp.person_id, sp.id, sp.version, jsonb_array_length(sp.outcomes) AS outcomes,
			greatest((sp.approved_at AT TIME ZONE 'Europe/London')::date,
			         coalesce((SELECT min(l.start_date) FROM plan_lines l WHERE l.council_id = sp.council_id AND l.plan_id = sp.id),
			                  (sp.approved_at AT TIME ZONE 'Europe/London')::date)) AS start
		FROM support_plans sp JOIN personal_budgets b ON b.council_id = sp.council_id AND b.id = sp.budget_id
		WHERE sp.council_id = ? AND sp.person_id = ANY (?) AND sp.status = 'approved' AND b.status <> 'ended'`,
		uuidArg(councilID), ids).Scan(&plans).Error; err != nil {
		return nil, translate(err, nil)
	}
	for _, p := range plans {
		pf := get(p.PersonID)
		pf.Facts.Plans = append(pf.Facts.Plans, review.PlanStart{PlanID: p.ID, Start: p.Start})
		out[p.PersonID] = pf
	}
	for id, pf := range out { // the plan in force: the one review.Next reviews
		var best *review.PlanStart
		for i := range pf.Facts.Plans {
			c := &pf.Facts.Plans[i]
			if best == nil || c.Start.After(best.Start) || (c.Start.Equal(best.Start) && bytesAfter(c.PlanID, best.PlanID)) {
				best = c
			}
		}
		pf.PlanID = best.PlanID
		for _, p := range plans {
			if p.ID == best.PlanID {
				pf.PlanVersion, pf.PlanOutcomes = p.Version, p.Outcomes
			}
		}
		out[id] = pf
	}
	// Direct-payment arrangements in force, paid at least once: the first paid run's pay date.
	var dps []struct {
		PersonID     uuid.UUID
		ID           uuid.UUID
		FirstPayment date.Date
	}
	if err := q.Raw(`SELECT a.person_id, a.id, min(r.pay_date) AS first_payment
		FROM direct_payment_agreements a
		JOIN payment_lines l ON l.council_id = a.council_id AND l.dp_agreement_id = a.id AND l.state = 'live' AND NOT l.held
		JOIN payment_runs r ON r.council_id = l.council_id AND r.id = l.run_id AND r.status = 'paid'
		WHERE a.council_id = ? AND a.person_id = ANY (?) AND (a.end_date IS NULL OR a.end_date > ?)
		GROUP BY a.person_id, a.id`, uuidArg(councilID), ids, today).Scan(&dps).Error; err != nil {
		return nil, translate(err, nil)
	}
	for _, d := range dps {
		if pf, ok := out[d.PersonID]; ok {
			pf.Facts.DirectPayments = append(pf.Facts.DirectPayments, review.DirectPayment{AgreementID: d.ID, FirstPayment: d.FirstPayment})
			out[d.PersonID] = pf
		}
	}
	// The last completed review of each person (the only one the rules look at).
	var revs []struct {
		PersonID uuid.UUID
		ID       uuid.UUID
		HeldOn   date.Date
		Decision string
		NextDue  *date.Date
	}
	if err := q.Raw(`SELECT DISTINCT ON (person_id) person_id, id, held_on, decision, next_due FROM reviews
		WHERE council_id = ? AND person_id = ANY (?) ORDER BY person_id, held_on DESC, id DESC`, uuidArg(councilID), ids).Scan(&revs).Error; err != nil {
		return nil, translate(err, nil)
	}
	for _, r := range revs {
		if pf, ok := out[r.PersonID]; ok {
			pf.Facts.Reviews = append(pf.Facts.Reviews, review.Completed{ReviewID: r.ID, Date: r.HeldOn, Decision: review.Decision(r.Decision), NextDue: r.NextDue})
			out[r.PersonID] = pf
		}
	}
	var reqs []struct {
		PersonID    uuid.UUID
		ID          uuid.UUID
		RequestedOn date.Date
		Reason      string
	}
	if err := q.Raw(`SELECT person_id, id, requested_on, reason FROM review_requests
		WHERE council_id = ? AND person_id = ANY (?) AND answered_by IS NULL`, uuidArg(councilID), ids).Scan(&reqs).Error; err != nil {
		return nil, translate(err, nil)
	}
	for _, r := range reqs {
		if pf, ok := out[r.PersonID]; ok {
			pf.Facts.Requests = append(pf.Facts.Requests, review.Request{RequestID: r.ID, Date: r.RequestedOn, Reason: review.Reason(r.Reason)})
			out[r.PersonID] = pf
		}
	}
	// The latest completed assessment (its practitioner holds the review; a reassessment reassesses
	// it), and for a child, the latest completed eligible child assessment: a child in need since.
	var asms []struct {
		PersonID     uuid.UUID
		ID           uuid.UUID
		Practitioner string
		ChildSince   *date.Date
	}
	if err := q.Raw(`SELECT DISTINCT ON (a.person_id) a.person_id, a.id, a.practitioner,
			(SELECT max((c.completed_at AT TIME ZONE 'Europe/London')::date) FROM assessments c JOIN people p ON p.council_id = c.council_id AND p.id = c.person_id
			  WHERE c.council_id = a.council_id AND c.person_id = a.person_id AND c.status = 'completed' AND c.type = 'child'
			    AND c.eligible AND p.person_type = 'child') AS child_since
		FROM assessments a WHERE a.council_id = ? AND a.person_id = ANY (?) AND a.status = 'completed'
		ORDER BY a.person_id, a.completed_at DESC, a.id DESC`, uuidArg(councilID), ids).Scan(&asms).Error; err != nil {
		return nil, translate(err, nil)
	}
	for _, a := range asms {
		if pf, ok := out[a.PersonID]; ok {
			id := a.ID
			pf.Practitioner, pf.AssessmentID, pf.Facts.ChildInNeedSince = a.Practitioner, &id, a.ChildSince
			out[a.PersonID] = pf
		}
	}
	return out, nil
}

func bytesAfter(a, b uuid.UUID) bool {
	for i := range a {
		if a[i] != b[i] {
			return a[i] > b[i]
		}
	}
	return false
}

// SweepPeople implements reviews.Store.
func (s *ReviewStore) SweepPeople(ctx context.Context, councilID, after uuid.UUID, limit int) ([]uuid.UUID, error) {
	var ids []uuid.UUID
	err := s.db.conn(ctx).Raw(`SELECT person_id FROM (
			SELECT person_id FROM support_plans WHERE council_id = ? AND status = 'approved' AND person_id > ?
			UNION SELECT person_id FROM review_schedules WHERE council_id = ? AND person_id > ?) p
		ORDER BY person_id LIMIT ?`, uuidArg(councilID), uuidArg(after), uuidArg(councilID), uuidArg(after), limit).Scan(&ids).Error
	return ids, translate(err, nil)
}

// Councils implements reviews.Store: the councils not retired.
func (s *ReviewStore) Councils(ctx context.Context) ([]uuid.UUID, error) {
	var ids []uuid.UUID
	err := s.db.conn(ctx).Raw(`SELECT id FROM councils WHERE retired_at IS NULL ORDER BY id`).Scan(&ids).Error
	return ids, translate(err, nil)
}

type reviewScheduleRow struct {
	CouncilID      uuid.UUID `gorm:"primaryKey"`
	PersonID       uuid.UUID `gorm:"primaryKey"`
	DueDate        date.Date
	WindowStart    date.Date
	Rule           string
	SubjectID      *uuid.UUID
	PlanID         uuid.UUID
	Aligns         []byte `gorm:"type:jsonb"`
	Practitioner   *string
	Team           *string
	Assigned       bool
	DueSentFor     *date.Date
	OverdueSentFor *date.Date
	ComputedAt     time.Time
}

func (reviewScheduleRow) TableName() string { return "review_schedules" }

type alignJSON struct {
	Rule        string    `json:"rule"`
	SubjectID   uuid.UUID `json:"subject_id"`
	WindowStart date.Date `json:"window_start"`
	Limit       date.Date `json:"limit"`
}

func scheduleRowOf(sc reviews.Schedule) (reviewScheduleRow, error) {
	aligns := make([]alignJSON, len(sc.Due.Aligns))
	for i, o := range sc.Due.Aligns {
		aligns[i] = alignJSON{Rule: string(o.Rule), SubjectID: o.SubjectID, WindowStart: o.WindowStart, Limit: o.Limit}
	}
	raw, err := json.Marshal(aligns)
	if err != nil {
		return reviewScheduleRow{}, err
	}
	var subject *uuid.UUID
	if len(sc.Due.Aligns) > 0 && sc.Due.Aligns[0].SubjectID != uuid.Nil {
		id := sc.Due.Aligns[0].SubjectID
		subject = &id
	}
	return reviewScheduleRow{CouncilID: sc.CouncilID, PersonID: sc.PersonID, DueDate: sc.Due.Date, WindowStart: sc.Due.WindowStart,
		Rule: string(sc.Due.Rule), SubjectID: subject, PlanID: sc.PlanID, Aligns: raw, Practitioner: sc.Practitioner, Team: sc.Team,
		Assigned: sc.Assigned, DueSentFor: sc.DueSentFor, OverdueSentFor: sc.OverdueSentFor, ComputedAt: sc.ComputedAt}, nil
}

func (r reviewScheduleRow) domain() (reviews.Schedule, error) {
	var aligns []alignJSON
	if err := json.Unmarshal(r.Aligns, &aligns); err != nil {
		return reviews.Schedule{}, err
	}
	due := review.Due{Date: r.DueDate, WindowStart: r.WindowStart, Rule: review.Rule(r.Rule)}
	for _, a := range aligns {
		due.Aligns = append(due.Aligns, review.Obligation{Rule: review.Rule(a.Rule), SubjectID: a.SubjectID, WindowStart: a.WindowStart, Limit: a.Limit})
	}
	return reviews.Schedule{CouncilID: r.CouncilID, PersonID: r.PersonID, Due: due, PlanID: r.PlanID, Practitioner: r.Practitioner,
		Team: r.Team, Assigned: r.Assigned, DueSentFor: r.DueSentFor, OverdueSentFor: r.OverdueSentFor, ComputedAt: r.ComputedAt.UTC()}, nil
}

// Schedules implements reviews.Store.
func (s *ReviewStore) Schedules(ctx context.Context, councilID uuid.UUID, people []uuid.UUID) (map[uuid.UUID]reviews.Schedule, error) {
	var rows []reviewScheduleRow
	if err := s.db.conn(ctx).Where("council_id = ? AND person_id = ANY (?)", uuidArg(councilID), uuidArray(people)).Find(&rows).Error; err != nil {
		return nil, translate(err, nil)
	}
	out := make(map[uuid.UUID]reviews.Schedule, len(rows))
	for _, r := range rows {
		sc, err := r.domain()
		if err != nil {
			return nil, translate(err, nil)
		}
		out[r.PersonID] = sc
	}
	return out, nil
}

// UpsertSchedules implements reviews.Store.
func (s *ReviewStore) UpsertSchedules(ctx context.Context, scs []reviews.Schedule) error {
	if len(scs) == 0 {
		return nil
	}
	rows := make([]reviewScheduleRow, len(scs))
	for i, sc := range scs {
		r, err := scheduleRowOf(sc)
		if err != nil {
			return err
		}
		rows[i] = r
	}
	return translate(s.db.conn(ctx).Clauses(clause.OnConflict{
		Columns: []clause.Column{{Name: "council_id"}, {Name: "person_id"}},
		DoUpdates: clause.AssignmentColumns([]string{"due_date", "window_start", "rule", "subject_id", "plan_id", "aligns",
			"practitioner", "team", "assigned", "computed_at"}),
	}).CreateInBatches(rows, 500).Error, nil)
}

// DeleteSchedules implements reviews.Store.
func (s *ReviewStore) DeleteSchedules(ctx context.Context, councilID uuid.UUID, people []uuid.UUID) error {
	return translate(s.db.conn(ctx).Where("council_id = ? AND person_id = ANY (?)", uuidArg(councilID), uuidArray(people)).
		Delete(&reviewScheduleRow{}).Error, nil)
}

// Worklist implements reviews.Store: by due date, then person (the page cursor is the due date's
// start and the person id).
func (s *ReviewStore) Worklist(ctx context.Context, councilID uuid.UUID, f reviews.WorklistFilter, p page.Request) ([]reviews.Schedule, error) {
	q := s.db.conn(ctx).Where("council_id = ?", uuidArg(councilID))
	if f.DueBy != nil {
		q = q.Where("due_date <= ?", *f.DueBy)
	}
	if f.OverdueOn != nil {
		q = q.Where("due_date < ?", *f.OverdueOn)
	}
	if f.Practitioner != "" {
		q = q.Where("practitioner = ?", f.Practitioner)
	}
	if f.Team != "" {
		q = q.Where("team = ?", f.Team)
	}
	if p.After != nil {
		q = q.Where("(due_date, person_id) > (?, ?)", date.FromTime(p.After.Time.UTC()), uuidArg(p.After.ID))
	}
	var rows []reviewScheduleRow
	if err := q.Order("due_date, person_id").Limit(p.Size + 1).Find(&rows).Error; err != nil {
		return nil, translate(err, nil)
	}
	return mapRows(rows, reviewScheduleRow.domain)
}

// Assign implements reviews.Store.
func (s *ReviewStore) Assign(ctx context.Context, councilID, personID uuid.UUID, practitioner, team *string) error {
	return translate(s.db.conn(ctx).Model(&reviewScheduleRow{}).Where("council_id = ? AND person_id = ?", uuidArg(councilID), uuidArg(personID)).
		Updates(map[string]any{"practitioner": practitioner, "team": team, "assigned": true}).Error, nil)
}

// Notices implements reviews.Store.
func (s *ReviewStore) Notices(ctx context.Context, councilID uuid.UUID, today, dueBy date.Date, limit int) ([]reviews.Schedule, error) {
	var rows []reviewScheduleRow
	err := s.db.conn(ctx).Where(`council_id = ? AND ((due_date >= ? AND due_date <= ? AND due_sent_for IS DISTINCT FROM due_date)
		OR (due_date < ? AND overdue_sent_for IS DISTINCT FROM due_date))`, uuidArg(councilID), today, dueBy, today).
		Order("due_date, person_id").Limit(limit).Find(&rows).Error
	if err != nil {
		return nil, translate(err, nil)
	}
	return mapRows(rows, reviewScheduleRow.domain)
}

// MarkSent implements reviews.Store.
func (s *ReviewStore) MarkSent(ctx context.Context, sc reviews.Schedule) error {
	return translate(s.db.conn(ctx).Model(&reviewScheduleRow{}).Where("council_id = ? AND person_id = ?", uuidArg(sc.CouncilID), uuidArg(sc.PersonID)).
		Updates(map[string]any{"due_sent_for": sc.DueSentFor, "overdue_sent_for": sc.OverdueSentFor}).Error, nil)
}

type reviewRequestRow struct {
	CouncilID   uuid.UUID `gorm:"primaryKey"`
	ID          uuid.UUID `gorm:"primaryKey"`
	PersonID    uuid.UUID
	Reason      string
	RequestedOn date.Date
	Note        string
	RequestedBy string
	AnsweredBy  *uuid.UUID
	CreatedAt   time.Time `gorm:"autoCreateTime:false"`
}

func (reviewRequestRow) TableName() string { return "review_requests" }

// InsertRequest implements reviews.Store.
func (s *ReviewStore) InsertRequest(ctx context.Context, r reviews.Request) error {
	row := reviewRequestRow{CouncilID: r.CouncilID, ID: r.ID, PersonID: r.PersonID, Reason: string(r.Reason), RequestedOn: r.RequestedOn,
		Note: r.Note, RequestedBy: r.RequestedBy, CreatedAt: r.CreatedAt}
	return translate(s.db.conn(ctx).Create(&row).Error, nil)
}

// OpenRequests implements reviews.Store.
func (s *ReviewStore) OpenRequests(ctx context.Context, councilID, personID uuid.UUID) ([]reviews.Request, error) {
	var rows []reviewRequestRow
	if err := s.db.conn(ctx).Where("council_id = ? AND person_id = ? AND answered_by IS NULL", uuidArg(councilID), uuidArg(personID)).
		Order("requested_on, id").Find(&rows).Error; err != nil {
		return nil, translate(err, nil)
	}
	out := make([]reviews.Request, len(rows))
	for i, r := range rows {
		out[i] = reviews.Request{CouncilID: r.CouncilID, ID: r.ID, PersonID: r.PersonID, Reason: review.Reason(r.Reason), RequestedOn: r.RequestedOn,
			Note: r.Note, RequestedBy: r.RequestedBy, AnsweredBy: r.AnsweredBy, CreatedAt: r.CreatedAt.UTC()}
	}
	return out, nil
}

// AnswerRequests implements reviews.Store: a review held on heldOn answers the requests made on
// or before it.
func (s *ReviewStore) AnswerRequests(ctx context.Context, councilID, personID, reviewID uuid.UUID, heldOn date.Date) error {
	return translate(s.db.conn(ctx).Model(&reviewRequestRow{}).
		Where("council_id = ? AND person_id = ? AND answered_by IS NULL AND requested_on <= ?", uuidArg(councilID), uuidArg(personID), heldOn).
		Update("answered_by", reviewID).Error, nil)
}

type reviewRow struct {
	CouncilID      uuid.UUID `gorm:"primaryKey"`
	ID             uuid.UUID `gorm:"primaryKey"`
	PersonID       uuid.UUID
	PlanID         uuid.UUID
	HeldOn         date.Date
	Reviewer       string
	Reason         string
	RequestID      *uuid.UUID
	Outcomes       []byte `gorm:"type:jsonb"`
	Achievement    string
	NeedsChanged   bool
	Decision       string
	NextDue        *date.Date
	Notes          string
	ReassessmentID *uuid.UUID
	RevisionPlanID *uuid.UUID
	RecordedBy     string
	CreatedAt      time.Time `gorm:"autoCreateTime:false"`
}

func (reviewRow) TableName() string { return "reviews" }

type outcomeJSON struct {
	Outcome int    `json:"outcome"`
	Rating  string `json:"rating"`
	Note    string `json:"note,omitempty"`
}

// InsertReview implements reviews.Store.
func (s *ReviewStore) InsertReview(ctx context.Context, r reviews.Review) error {
	outs := make([]outcomeJSON, len(r.Record.Outcomes))
	for i, o := range r.Record.Outcomes {
		outs[i] = outcomeJSON{Outcome: o.Outcome, Rating: string(o.Rating), Note: o.Note}
	}
	raw, err := json.Marshal(outs)
	if err != nil {
		return err
	}
	rec := r.Record
	row := reviewRow{CouncilID: r.CouncilID, ID: r.ID, PersonID: r.PersonID, PlanID: r.PlanID, HeldOn: rec.Date, Reviewer: rec.Reviewer,
		Reason: string(rec.Reason), RequestID: r.RequestID, Outcomes: raw, Achievement: string(rec.Achievement()), NeedsChanged: rec.NeedsChanged,
		Decision: string(rec.Decision), NextDue: rec.NextDue, Notes: rec.Notes, ReassessmentID: r.ReassessmentID, RevisionPlanID: r.RevisionPlanID,
		RecordedBy: r.RecordedBy, CreatedAt: r.CreatedAt}
	return translate(s.db.conn(ctx).Create(&row).Error, nil)
}

func (r reviewRow) domain() (reviews.Review, error) {
	var outs []outcomeJSON
	if err := json.Unmarshal(r.Outcomes, &outs); err != nil {
		return reviews.Review{}, err
	}
	rec := review.Record{Date: r.HeldOn, Reviewer: r.Reviewer, Reason: review.Reason(r.Reason), NeedsChanged: r.NeedsChanged,
		Decision: review.Decision(r.Decision), NextDue: r.NextDue, Notes: r.Notes, Outcomes: []review.OutcomeResult{}}
	for _, o := range outs {
		rec.Outcomes = append(rec.Outcomes, review.OutcomeResult{Outcome: o.Outcome, Rating: review.Rating(o.Rating), Note: o.Note})
	}
	return reviews.Review{CouncilID: r.CouncilID, ID: r.ID, PersonID: r.PersonID, PlanID: r.PlanID, Record: rec, RequestID: r.RequestID,
		ReassessmentID: r.ReassessmentID, RevisionPlanID: r.RevisionPlanID, RecordedBy: r.RecordedBy, CreatedAt: r.CreatedAt.UTC()}, nil
}

// GetReview implements reviews.Store.
func (s *ReviewStore) GetReview(ctx context.Context, councilID, id uuid.UUID) (reviews.Review, error) {
	r, err := takeOne[reviewRow](s.db.conn(ctx), false, "council_id = ? AND id = ?", uuidArg(councilID), uuidArg(id))
	if err != nil {
		return reviews.Review{}, err
	}
	return r.domain()
}

// ListReviews implements reviews.Store.
func (s *ReviewStore) ListReviews(ctx context.Context, councilID uuid.UUID, f reviews.ReviewFilter, p page.Request) ([]reviews.Review, error) {
	q := s.db.conn(ctx).Where("council_id = ?", uuidArg(councilID))
	if f.PersonID != nil {
		q = q.Where("person_id = ?", uuidArg(*f.PersonID))
	}
	if f.Reviewer != "" {
		q = q.Where("reviewer = ?", f.Reviewer)
	}
	if f.From != nil {
		q = q.Where("held_on >= ?", *f.From)
	}
	if f.To != nil {
		q = q.Where("held_on <= ?", *f.To)
	}
	var rows []reviewRow
	if err := paginate(q, "created_at", p).Find(&rows).Error; err != nil {
		return nil, translate(err, nil)
	}
	return mapRows(rows, reviewRow.domain)
}

// LockPerson implements reviews.Store: the person's row, FOR UPDATE (apperr.ErrNotFound when the
// person is not the council's).
func (s *ReviewStore) LockPerson(ctx context.Context, councilID, personID uuid.UUID) error {
	var n int
	res := s.db.conn(ctx).Raw(`SELECT 1 FROM people WHERE council_id = ? AND id = ? FOR UPDATE`, uuidArg(councilID), uuidArg(personID)).Scan(&n)
	if res.Error != nil {
		return translate(res.Error, nil)
	}
	if res.RowsAffected == 0 {
		return translate(gorm.ErrRecordNotFound, nil)
	}
	return nil
}
