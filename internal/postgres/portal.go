package postgres

import (
	"context"
	"time"

	"github.com/google/uuid"

	"github.com/pbudget/pbudget/internal/apperr"
	"github.com/pbudget/pbudget/internal/date"
	"github.com/pbudget/pbudget/internal/page"
	"github.com/pbudget/pbudget/internal/payment"
	"github.com/pbudget/pbudget/internal/person"
	"github.com/pbudget/pbudget/internal/plan"
	"github.com/pbudget/pbudget/internal/portal"
)

// PortalStore reads and writes what the person's view keeps of its own.
type PortalStore struct{ db *DB }

// NewPortalStore returns a PortalStore.
func NewPortalStore(db *DB) *PortalStore { return &PortalStore{db: db} }

type portalAgreementRow struct {
	ID                uuid.UUID
	Kind              string
	PersonID          uuid.UUID
	BudgetID          uuid.UUID
	PlanID            uuid.UUID
	Frequency         string
	Basis             string
	StartDate         date.Date
	EndDate           *date.Date
	EndReason         *string
	SignedDate        *date.Date
	Annual            int64
	Recipient         string
	RecipientPersonID *uuid.UUID
	Consented         *bool
	ConsentReason     *string
	AccountType       *string
	ProviderName      *string
	Suspended         bool
	Version           int
	CreatedAt         time.Time
}

func (r portalAgreementRow) domain() portal.Agreement {
	return portal.Agreement{ID: r.ID, Kind: payment.AgreementKind(r.Kind), PersonID: r.PersonID, BudgetID: r.BudgetID, PlanID: r.PlanID,
		Frequency: r.Frequency, Basis: r.Basis, Start: r.StartDate, End: r.EndDate, EndReason: r.EndReason, Signed: r.SignedDate,
		Annual: r.Annual, Recipient: r.Recipient, RecipientPersonID: r.RecipientPersonID, Consented: r.Consented,
		ConsentReason: r.ConsentReason, AccountType: r.AccountType, ProviderName: r.ProviderName, SuspendedNow: r.Suspended,
		Version: r.Version, CreatedAt: r.CreatedAt.UTC()}
}

// portalAgreementsSQL reads both kinds of agreement in one shape; the ? are today (twice) and then
// the caller's filter arguments, which the caller's WHERE (on the union's columns) takes.
const portalAgreementsSQL = `SELECT * FROM (
	SELECT d.council_id, d.id, ` + "'direct_payment'" + ` AS kind, d.person_id, d.budget_id, d.plan_id, d.frequency, d.payment_basis AS basis,
	       d.start_date, d.end_date, d.end_reason, d.signed_date, d.annual_amount_pence AS annual, d.recipient, d.recipient_person_id,
	       CASE WHEN d.recipient = 'person' THEN NULL ELSE d.recipient_consented END AS consented, d.consent_reason,
	       d.account_type, NULL::text AS provider_name,
	       EXISTS (SELECT 1 FROM payment_suspensions s WHERE s.council_id = d.council_id AND s.dp_agreement_id = d.id
	               AND s.from_date <= ? AND (s.resume_date IS NULL OR s.resume_date > ?)) AS suspended,
	       d.version, d.created_at
	  FROM direct_payment_agreements d
	UNION ALL
	SELECT i.council_id, i.id, 'isf', i.person_id, i.budget_id, i.plan_id, i.payment_frequency, 'gross', i.start_date, i.end_date,
	       i.end_reason, i.signed_date, i.annual_amount_pence, 'provider', NULL, NULL, NULL, NULL, p.name,
	       EXISTS (SELECT 1 FROM payment_suspensions s WHERE s.council_id = i.council_id AND s.isf_agreement_id = i.id
	               AND s.from_date <= ? AND (s.resume_date IS NULL OR s.resume_date > ?)),
	       i.version, i.created_at
	  FROM isf_agreements i JOIN providers p ON p.council_id = i.council_id AND p.id = i.provider_id) g `

// Agreements implements portal.Store.
func (s *PortalStore) Agreements(ctx context.Context, councilID, personID uuid.UUID, today date.Date) ([]portal.Agreement, error) {
	var rows []portalAgreementRow
	err := s.db.conn(ctx).Raw(portalAgreementsSQL+`WHERE g.council_id = ? AND g.person_id = ? ORDER BY g.created_at, g.id LIMIT 1000`,
		today, today, today, today, uuidArg(councilID), uuidArg(personID)).Scan(&rows).Error
	if err != nil {
		return nil, translate(err, nil)
	}
	out := make([]portal.Agreement, len(rows))
	for i, r := range rows {
		out[i] = r.domain()
	}
	return out, nil
}

// Agreement implements portal.Store; forUpdate locks a direct-payment agreement's row.
func (s *PortalStore) Agreement(ctx context.Context, councilID, id uuid.UUID, today date.Date, forUpdate bool) (portal.Agreement, error) {
	if forUpdate {
		var n int64
		if err := s.db.conn(ctx).Raw(`SELECT count(*) FROM (SELECT 1 FROM direct_payment_agreements WHERE council_id = ? AND id = ? FOR UPDATE) x`,
			uuidArg(councilID), uuidArg(id)).Scan(&n).Error; err != nil {
			return portal.Agreement{}, translate(err, nil)
		}
	}
	var rows []portalAgreementRow
	err := s.db.conn(ctx).Raw(portalAgreementsSQL+`WHERE g.council_id = ? AND g.id = ?`,
		today, today, today, today, uuidArg(councilID), uuidArg(id)).Scan(&rows).Error
	if err != nil {
		return portal.Agreement{}, translate(err, nil)
	}
	if len(rows) == 0 {
		return portal.Agreement{}, apperr.ErrNotFound
	}
	return rows[0].domain(), nil
}

type topUpRow struct {
	CouncilID   uuid.UUID `gorm:"primaryKey"`
	ID          uuid.UUID `gorm:"primaryKey"`
	PlanID      uuid.UUID
	PlanLineID  *uuid.UUID
	Position    int
	Description string
	Payer       string
	PayerName   string
	AnnualPence int64
	CreatedAt   time.Time `gorm:"autoCreateTime:false"`
	CreatedBy   string
}

func (topUpRow) TableName() string { return "plan_top_ups" }

func (r topUpRow) domain() plan.TopUp {
	return plan.TopUp{CouncilID: r.CouncilID, ID: r.ID, PlanID: r.PlanID, LineID: r.PlanLineID, Position: r.Position,
		Description: r.Description, Payer: plan.Payer(r.Payer), PayerName: r.PayerName, Annual: r.AnnualPence,
		CreatedAt: r.CreatedAt.UTC(), CreatedBy: r.CreatedBy}
}

type requestRow struct {
	CouncilID         uuid.UUID `gorm:"primaryKey"`
	ID                uuid.UUID `gorm:"primaryKey"`
	PersonID          uuid.UUID
	BudgetID          uuid.UUID
	PlanID            uuid.UUID
	PlanLineID        *uuid.UUID
	CurrentOption     *string
	RequestedOption   string
	Reason            string
	RequestedBy       string
	RequestedByPerson *uuid.UUID
	RequestedByBasis  string
	RequestedAt       time.Time
	Status            string
	AnswerReason      *string
	RevisionPlanID    *uuid.UUID
	AnsweredBy        *string
	AnsweredAt        *time.Time
	Version           int
	UpdatedAt         time.Time `gorm:"autoUpdateTime:false"`
}

func (requestRow) TableName() string { return "management_change_requests" }

func requestRowOf(r portal.ChangeRequest) requestRow {
	return requestRow{CouncilID: r.CouncilID, ID: r.ID, PersonID: r.PersonID, BudgetID: r.BudgetID, PlanID: r.PlanID, PlanLineID: r.LineID,
		CurrentOption: (*string)(r.CurrentOption), RequestedOption: string(r.RequestedOption), Reason: r.Reason, RequestedBy: r.RequestedBy,
		RequestedByPerson: r.RequestedByPerson, RequestedByBasis: string(r.RequestedByBasis), RequestedAt: r.RequestedAt,
		Status: string(r.Status), AnswerReason: r.AnswerReason, RevisionPlanID: r.RevisionPlanID, AnsweredBy: r.AnsweredBy,
		AnsweredAt: r.AnsweredAt, Version: r.Version, UpdatedAt: r.UpdatedAt}
}

func (r requestRow) domain() portal.ChangeRequest {
	return portal.ChangeRequest{CouncilID: r.CouncilID, ID: r.ID, PersonID: r.PersonID, BudgetID: r.BudgetID, PlanID: r.PlanID, LineID: r.PlanLineID,
		CurrentOption: (*plan.Option)(r.CurrentOption), RequestedOption: plan.Option(r.RequestedOption), Reason: r.Reason,
		RequestedBy: r.RequestedBy, RequestedByPerson: r.RequestedByPerson, RequestedByBasis: person.Basis(r.RequestedByBasis),
		RequestedAt: r.RequestedAt.UTC(), Status: portal.RequestStatus(r.Status), AnswerReason: r.AnswerReason,
		RevisionPlanID: r.RevisionPlanID, AnsweredBy: r.AnsweredBy, AnsweredAt: utcPtr(r.AnsweredAt), Version: r.Version,
		UpdatedAt: r.UpdatedAt.UTC()}
}

// InsertRequest implements portal.RequestStore.
func (s *PortalStore) InsertRequest(ctx context.Context, r portal.ChangeRequest) error {
	row := requestRowOf(r)
	return translate(s.db.conn(ctx).Create(&row).Error, map[string]error{"management_change_requests_open_key": portal.ErrRequestOpen})
}

// GetRequest implements portal.RequestStore.
func (s *PortalStore) GetRequest(ctx context.Context, councilID, id uuid.UUID, forUpdate bool) (portal.ChangeRequest, error) {
	r, err := takeOne[requestRow](s.db.conn(ctx), forUpdate, "council_id = ? AND id = ?", uuidArg(councilID), uuidArg(id))
	if err != nil {
		return portal.ChangeRequest{}, err
	}
	return r.domain(), nil
}

// UpdateRequest implements portal.RequestStore.
func (s *PortalStore) UpdateRequest(ctx context.Context, r portal.ChangeRequest) error {
	row := requestRowOf(r)
	res := s.db.conn(ctx).Model(&requestRow{}).Where("council_id = ? AND id = ? AND version = ?", uuidArg(r.CouncilID), uuidArg(r.ID), r.Version-1).
		Select("status", "answer_reason", "revision_plan_id", "answered_by", "answered_at", "version", "updated_at").Updates(&row)
	return versioned(res.Error, res.RowsAffected, nil)
}

// ListRequests implements portal.RequestStore.
func (s *PortalStore) ListRequests(ctx context.Context, councilID uuid.UUID, f portal.RequestFilter, p page.Request) ([]portal.ChangeRequest, error) {
	q := s.db.conn(ctx).Where("council_id = ?", uuidArg(councilID))
	if f.PersonID != nil {
		q = q.Where("person_id = ?", uuidArg(*f.PersonID))
	}
	if f.Status != "" {
		q = q.Where("status = ?", string(f.Status))
	}
	var rows []requestRow
	if err := paginate(q, "requested_at", p).Find(&rows).Error; err != nil {
		return nil, translate(err, nil)
	}
	return convert(rows, requestRow.domain), nil
}

// SetConsent implements portal.RequestStore.
func (s *PortalStore) SetConsent(ctx context.Context, councilID, id uuid.UUID, version int, consented bool, reason string, at time.Time) error {
	res := s.db.conn(ctx).Exec(`UPDATE direct_payment_agreements
		   SET recipient_consented = ?, consent_reason = ?, consent_changed_at = ?, version = ?, updated_at = ?
		 WHERE council_id = ? AND id = ? AND version = ?`, consented, reason, at, version, at, uuidArg(councilID), uuidArg(id), version-1)
	return versioned(res.Error, res.RowsAffected, nil)
}
