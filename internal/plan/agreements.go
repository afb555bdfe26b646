package plan

import (
	"context"
	"time"

	"github.com/google/uuid"

	"github.com/pbudget/pbudget/internal/actor"
	"github.com/pbudget/pbudget/internal/apperr"
	"github.com/pbudget/pbudget/internal/audit"
	"github.com/pbudget/pbudget/internal/date"
	"github.com/pbudget/pbudget/internal/money"
	"github.com/pbudget/pbudget/internal/page"
	"github.com/pbudget/pbudget/internal/person"
	"github.com/pbudget/pbudget/internal/provider"
)

// PAEvidence is the personal-assistant employment evidence a council tracks.
type PAEvidence struct {
	InsuranceExpiry *date.Date
	DBSCheckDate    *date.Date
	PayrollProvider string
}

// DPAgreement is the agreement under which the direct-payment part of a plan is paid.
type DPAgreement struct {
	CouncilID         uuid.UUID
	ID                uuid.UUID
	PlanID            uuid.UUID
	BudgetID          uuid.UUID
	PersonID          uuid.UUID
	Recipient         string // person, authorised_person, nominee
	RecipientPersonID *uuid.UUID
	Consented         bool
	AccountType       string
	Basis             string // net or gross
	Frequency         string // four_weekly, monthly, two_weekly, one_off
	StartDate         date.Date
	SignedDate        *date.Date
	Evidence          PAEvidence
	Annual            int64      // pence a year paid by direct payment
	EndDate           *date.Date // set by the payment package when the agreement ends
	EndReason         *string
	Version           int
	CreatedAt         time.Time
	UpdatedAt         time.Time
}

// PerPayment is the amount of each payment at the agreement's frequency.
func (d DPAgreement) PerPayment() int64 { return perPayment(d.Annual, d.Frequency) }

// perPayment divides an annual amount by the payments a year: four-weekly 13, two-weekly 26,
// monthly 12, to the nearest penny; one-off, the whole.
func perPayment(annual int64, frequency string) int64 {
	switch frequency {
	case "four_weekly":
		return money.DivRound(annual, 13)
	case "two_weekly":
		return money.DivRound(annual, 26)
	case "monthly":
		return money.DivRound(annual, 12)
	}
	return annual
}

// Cursor is the page position of an agreement.
func (d DPAgreement) Cursor() page.Cursor { return page.Cursor{Time: d.CreatedAt, ID: d.ID} }

// ISFAgreement is the agreement under which a provider holds a person's Individual Service Fund.
type ISFAgreement struct {
	CouncilID          uuid.UUID
	ID                 uuid.UUID
	PlanID             uuid.UUID
	BudgetID           uuid.UUID
	PersonID           uuid.UUID
	ProviderID         uuid.UUID
	Annual             int64
	PaymentFrequency   string
	StatementFrequency string
	StartDate          date.Date
	SignedDate         *date.Date // the provider's signature: runs pay only signed agreements
	EndDate            *date.Date // set by the payment package when the agreement ends
	EndReason          *string
	Version            int
	CreatedAt          time.Time
}

// PerPayment is the amount of each payment to the provider.
func (i ISFAgreement) PerPayment() int64 { return perPayment(i.Annual, i.PaymentFrequency) }

// Cursor is the page position of an agreement.
func (i ISFAgreement) Cursor() page.Cursor { return page.Cursor{Time: i.CreatedAt, ID: i.ID} }

// DPFilter narrows the direct-payment work lists.
type DPFilter struct {
	Unsigned       bool
	EvidenceBefore *date.Date // insurance expiring, or DBS older than three years, before this date
	PersonID       *uuid.UUID
}

// AgreementStore keeps agreements.
type AgreementStore interface {
	InsertDP(ctx context.Context, d DPAgreement) error
	GetDP(ctx context.Context, councilID, id uuid.UUID, forUpdate bool) (DPAgreement, error)
	UpdateDP(ctx context.Context, d DPAgreement) error
	ListDP(ctx context.Context, councilID uuid.UUID, f DPFilter, p page.Request) ([]DPAgreement, error)
	InsertISF(ctx context.Context, i ISFAgreement) error
	GetISF(ctx context.Context, councilID, id uuid.UUID) (ISFAgreement, error)
	GetISFForUpdate(ctx context.Context, councilID, id uuid.UUID) (ISFAgreement, error)
	UpdateISF(ctx context.Context, i ISFAgreement) error
	ListISF(ctx context.Context, councilID uuid.UUID, providerID *uuid.UUID, p page.Request) ([]ISFAgreement, error)
}

// Errors of agreements.
var (
	ErrNoDPLines = apperr.New(apperr.RuleViolation, "plan-has-no-direct-payment-lines", "the plan has no direct-payment lines")
	ErrRecipient = apperr.New(apperr.RuleViolation, "direct-payment-recipient-invalid",
		"an authorised person or nominee is recorded as such in the person's relationships, and has consented")
	ErrNoISFLines   = apperr.New(apperr.RuleViolation, "plan-has-no-isf-lines-with-provider", "the plan has no ISF lines with this provider")
	ErrPlanNotFound = apperr.New(apperr.RuleViolation, "plan-not-found", "plan_id names no plan of this council")
)

// approvedView loads an approved plan with its totals, for an agreement.
func (s *Service) approvedView(ctx context.Context, a actor.Actor, planID uuid.UUID) (View, error) {
	p, err := s.store.GetPlan(ctx, a.CouncilID, planID, false)
	if apperr.KindOf(err) == apperr.NotFound {
		return View{}, ErrPlanNotFound
	}
	if err != nil {
		return View{}, err
	}
	if p.Status != Approved {
		return View{}, ErrNotApproved
	}
	return s.view(ctx, a, p, nil)
}

func optionTotal(v View, o Option) *OptionTotal {
	for i := range v.Totals.Options {
		if v.Totals.Options[i].Option == o {
			return &v.Totals.Options[i]
		}
	}
	return nil
}

// DPAnnual is what a direct-payment agreement on the plan v pays a year: the direct-payment
// option's council share when paid net (the person pays their share into the account), its whole
// cost when gross.
func DPAnnual(v View, basis string) (int64, error) {
	annual, ok := DPShare(v, basis)
	if !ok {
		return 0, ErrNoDPLines
	}
	return annual, nil
}

// DPShare is DPAnnual without its error: false when the plan has no direct-payment lines.
func DPShare(v View, basis string) (int64, bool) {
	ot := optionTotal(v, DirectPayment)
	if ot == nil {
		return 0, false
	}
	if basis == "net" && ot.CouncilAnnual != nil {
		return *ot.CouncilAnnual, true
	}
	return ot.Annual, true
}

// DPPersonShare is the person's part of the direct-payment option's annual cost on the plan v (their
// assessed contribution apportioned to the option): what a gross direct payment invoices them a
// year, and what a net one expects them to pay into the account. 0 without a contribution.
func DPPersonShare(v View) int64 {
	ot := optionTotal(v, DirectPayment)
	if ot == nil || ot.PersonAnnual == nil {
		return 0
	}
	return *ot.PersonAnnual
}

// ISFAnnual is what an ISF agreement with providerID on the plan v pays a year: the ISF option's
// council share, apportioned over providers by the cost of their lines (largest remainder).
func ISFAnnual(v View, providerID uuid.UUID) (int64, error) {
	annual, ok := ISFShare(v, providerID)
	if !ok {
		return 0, ErrNoISFLines
	}
	return annual, nil
}

// ISFShare is ISFAnnual without its error: false when the plan has no ISF lines with the
// provider.
func ISFShare(v View, providerID uuid.UUID) (int64, bool) {
	ot := optionTotal(v, ISF)
	if ot == nil {
		return 0, false
	}
	var weights []int64
	mine := -1
	byProvider := map[uuid.UUID]int64{}
	var order []uuid.UUID
	for _, l := range v.Plan.Lines {
		if l.Option == ISF && l.ProviderID != nil {
			if _, seen := byProvider[*l.ProviderID]; !seen {
				order = append(order, *l.ProviderID)
			}
			byProvider[*l.ProviderID] += l.Annual
		}
	}
	for k, p := range order {
		weights = append(weights, byProvider[p])
		if p == providerID {
			mine = k
		}
	}
	if mine < 0 {
		return 0, false
	}
	council := ot.Annual
	if ot.CouncilAnnual != nil {
		council = *ot.CouncilAnnual
	}
	return Apportion(council, weights)[mine], true
}

// CreateDP records the direct-payment agreement of an approved plan.
func (s *Service) CreateDP(ctx context.Context, a actor.Actor, d DPAgreement) (DPAgreement, error) {
	err := s.tx.WithinTx(ctx, func(ctx context.Context) error {
		v, err := s.approvedView(ctx, a, d.PlanID)
		if err != nil {
			return err
		}
		if d.Annual, err = DPAnnual(v, d.Basis); err != nil {
			return err
		}
		if err := s.checkRecipient(ctx, a, v.PersonID, d); err != nil {
			return err
		}
		now := s.timestamp()
		d.CouncilID, d.ID, d.BudgetID, d.PersonID, d.Version, d.CreatedAt, d.UpdatedAt = a.CouncilID, uuid.Must(uuid.NewV7()), v.BudgetID, v.PersonID, 1, now, now
		if err := s.store.InsertDP(ctx, d); err != nil {
			return err
		}
		return s.audit.Record(ctx, a, audit.Event{Action: "direct_payment_agreement.created", EntityType: "direct_payment_agreement",
			EntityID: d.ID, ChangedFields: []string{"recipient", "account_type", "payment_basis", "frequency", "start_date"},
			Details: map[string]any{"plan_id": d.PlanID.String(), "recipient": d.Recipient, "payment_basis": d.Basis}})
	})
	return d, err
}

// checkRecipient: an authorised person or nominee must be recorded as such for the person, and consent.
func (s *Service) checkRecipient(ctx context.Context, a actor.Actor, personID uuid.UUID, d DPAgreement) error {
	if d.Recipient == "person" {
		if d.RecipientPersonID != nil {
			return ErrRecipient
		}
		return nil
	}
	if d.RecipientPersonID == nil || !d.Consented {
		return ErrRecipient
	}
	want := person.AuthorisedPersonFor
	if d.Recipient == "nominee" {
		want = person.NomineeFor
	}
	rels, err := s.people.ListRelationships(ctx, a.CouncilID, personID, false, page.Request{Size: page.MaxSize})
	if err != nil {
		return err
	}
	for _, r := range rels {
		if r.Kind == want && r.PersonID == *d.RecipientPersonID && r.RelatedPersonID == personID {
			return nil
		}
	}
	return ErrRecipient
}

// GetDP returns one agreement.
func (s *Service) GetDP(ctx context.Context, a actor.Actor, id uuid.UUID) (DPAgreement, error) {
	return s.store.GetDP(ctx, a.CouncilID, id, false)
}

// ListDP returns a page of agreements.
func (s *Service) ListDP(ctx context.Context, a actor.Actor, f DPFilter, p page.Request) ([]DPAgreement, error) {
	return s.store.ListDP(ctx, a.CouncilID, f, p)
}

// UpdateDP records a signature, evidence or account change at version.
func (s *Service) UpdateDP(ctx context.Context, a actor.Actor, id uuid.UUID, version int, changed []string, change func(*DPAgreement)) (DPAgreement, error) {
	var out DPAgreement
	err := s.tx.WithinTx(ctx, func(ctx context.Context) error {
		d, err := s.store.GetDP(ctx, a.CouncilID, id, true)
		if err != nil {
			return err
		}
		if d.Version != version {
			return apperr.ErrVersionMismatch
		}
		change(&d)
		d.Version, d.UpdatedAt = d.Version+1, s.timestamp()
		if err := s.store.UpdateDP(ctx, d); err != nil {
			return err
		}
		out = d
		return s.audit.Record(ctx, a, audit.Event{Action: "direct_payment_agreement.updated", EntityType: "direct_payment_agreement",
			EntityID: d.ID, ChangedFields: changed})
	})
	return out, err
}

// CreateISF records the ISF agreement of an approved plan with a provider: the council's share of
// the plan's ISF lines with that provider.
func (s *Service) CreateISF(ctx context.Context, a actor.Actor, i ISFAgreement) (ISFAgreement, error) {
	err := s.tx.WithinTx(ctx, func(ctx context.Context) error {
		v, err := s.approvedView(ctx, a, i.PlanID)
		if err != nil {
			return err
		}
		prov, err := s.providers.GetProvider(ctx, a.CouncilID, i.ProviderID, false)
		if err != nil || prov.Type != provider.ISFProvider || !prov.Active {
			return ErrISFProvider
		}
		if i.Annual, err = ISFAnnual(v, i.ProviderID); err != nil {
			return err
		}
		now := s.timestamp()
		i.CouncilID, i.ID, i.BudgetID, i.PersonID, i.Version, i.CreatedAt = a.CouncilID, uuid.Must(uuid.NewV7()), v.BudgetID, v.PersonID, 1, now
		if err := s.store.InsertISF(ctx, i); err != nil {
			return err
		}
		return s.audit.Record(ctx, a, audit.Event{Action: "isf_agreement.created", EntityType: "isf_agreement", EntityID: i.ID,
			Details: map[string]any{"plan_id": i.PlanID.String(), "provider_id": i.ProviderID.String()}})
	})
	return i, err
}

// GetISF returns one agreement; provider staff see only their own.
func (s *Service) GetISF(ctx context.Context, a actor.Actor, id uuid.UUID) (ISFAgreement, error) {
	i, err := s.store.GetISF(ctx, a.CouncilID, id)
	if err != nil {
		return ISFAgreement{}, err
	}
	if a.IsProviderOnly() && i.ProviderID != *a.ProviderID {
		return ISFAgreement{}, apperr.ErrNotFound
	}
	return i, nil
}

// UpdateISF records the provider's signature at version.
func (s *Service) UpdateISF(ctx context.Context, a actor.Actor, id uuid.UUID, version int, changed []string, change func(*ISFAgreement)) (ISFAgreement, error) {
	var out ISFAgreement
	err := s.tx.WithinTx(ctx, func(ctx context.Context) error {
		i, err := s.store.GetISFForUpdate(ctx, a.CouncilID, id)
		if err != nil {
			return err
		}
		if i.Version != version {
			return apperr.ErrVersionMismatch
		}
		change(&i)
		i.Version++
		if err := s.store.UpdateISF(ctx, i); err != nil {
			return err
		}
		out = i
		return s.audit.Record(ctx, a, audit.Event{Action: "isf_agreement.updated", EntityType: "isf_agreement", EntityID: i.ID, ChangedFields: changed})
	})
	return out, err
}

// ListISF returns a page of agreements; provider staff see only their own.
func (s *Service) ListISF(ctx context.Context, a actor.Actor, p page.Request) ([]ISFAgreement, error) {
	var only *uuid.UUID
	if a.IsProviderOnly() {
		only = a.ProviderID
	}
	return s.store.ListISF(ctx, a.CouncilID, only, p)
}

// Categories returns the council's catalogue.
func (s *Service) Categories(ctx context.Context, a actor.Actor) (map[string]Category, error) {
	return s.store.Categories(ctx, a.CouncilID)
}

// AddCategory adds a category to the council's catalogue.
func (s *Service) AddCategory(ctx context.Context, a actor.Actor, c Category) (Category, error) {
	err := s.tx.WithinTx(ctx, func(ctx context.Context) error {
		if err := s.store.InsertCategory(ctx, a.CouncilID, c); err != nil {
			return err
		}
		return s.audit.Record(ctx, a, audit.Event{Action: "service_category.created", EntityType: "service_category",
			EntityID: a.CouncilID, Details: map[string]any{"key": c.Key, "dp_allowed": c.DPAllowed, "rule": string(c.Rule)}})
	})
	return c, err
}

// DefaultCategories is the demo catalogue: what councils commonly buy, with the direct-payment
// exclusions of DOMAIN.md section 4.
func DefaultCategories() []Category {
	return []Category{
		{"home_care", "Home care (personal care at home)", "long_term_community", true, NoRule},
		{"personal_assistant", "Personal assistant employed by the person", "long_term_community", true, PersonalAssistant},
		{"day_service", "Day service or day opportunities", "long_term_community", true, NoRule},
		{"community_activity", "Community and leisure activities", "long_term_community", true, NoRule},
		{"transport", "Transport to support", "long_term_community", true, NoRule},
		{"care_home_respite", "Short stay in a care home", "short_term", true, CareHomeStay},
		{"child_short_break", "Residential short break for a child", "short_term", true, ChildShortBreak},
		{"carer_break", "A break for a carer", "carer_support", true, NoRule},
		{"equipment_minor", "Equipment and minor adaptations", "equipment", true, NoRule},
		{"long_term_residential", "Long-term residential care", "long_term_residential", false, NoRule},
		{"nursing_care", "Nursing or other NHS healthcare", "long_term_nursing", false, NoRule},
		{"housing_costs", "Rent, mortgage and household bills", "other", false, NoRule},
		{"council_service", "A service the council itself provides", "long_term_community", false, NoRule},
		{"gambling_alcohol", "Gambling, alcohol and tobacco", "other", false, NoRule},
	}
}
