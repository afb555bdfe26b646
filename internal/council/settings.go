package council

import (
	"context"
	"errors"
	"time"

	"github.com/google/uuid"

	"github.com/pbudget/pbudget/internal/actor"
	"github.com/pbudget/pbudget/internal/apperr"
	"github.com/pbudget/pbudget/internal/audit"
	"github.com/pbudget/pbudget/internal/date"
	"github.com/pbudget/pbudget/internal/txn"
)

// Settings are what a council varies: the approvers' delegated limit, segregation of duties, the
// direct-payment rules, the payment calendar and the BACS originator.
type Settings struct {
	CouncilID                    uuid.UUID
	ApproverLimitAnnual          int64 // pence
	CareHomeMaxDays              int   // a direct-payment care-home stay, in days
	CareHomeJoinGapDays          int   // stays closer than this count as one
	ChildShortBreakMaxPerPeriod  int   // days
	ChildShortBreakMaxPer12Month int   // days
	// ApproverMustDifferFromSubmitter: the submitter of a plan cannot sign it off, nor the requester
	// of a funding decision decide it.
	ApproverMustDifferFromSubmitter bool
	Payments                        PaymentCalendar
	Originator                      *Originator // nil until the council configures it
	// ExcludedMerchantCategories are the merchant category codes a direct payment may never be
	// spent on (card statement lines with one are flagged excluded_category).
	ExcludedMerchantCategories []string
	// MerchantCategoryMap maps merchant category codes to service category codes, for matching
	// card statement lines to plan lines.
	MerchantCategoryMap map[string]string
	Audits              AuditSettings // the direct-payment financial audit
	ISF                 ISFSettings   // ISF providers' statements
	Version             int
	UpdatedAt           time.Time
}

// PaymentCalendar is the council's payment calendar (DOMAIN.md section 11): an anchor date per
// frequency from which cycles are counted, the lead days a run looks ahead of its pay date, and
// the working days between a run's approval and its BACS processing day.
type PaymentCalendar struct {
	FourWeeklyAnchor date.Date
	TwoWeeklyAnchor  date.Date
	MonthlyAnchor    date.Date
	LeadDays         int
	ProcessingDays   int
}

// AuditSettings are the council's direct-payment audit settings (DOMAIN.md section 11; the
// columns audit_* of council_settings, whose CHECKs give the ranges of the API).
type AuditSettings struct {
	FirstWeeks             int // the first audit's period runs this many weeks from the first payment (1–52)
	EvidenceDueDays        int // evidence is due this many days after it is requested (1–180)
	ConcludeWithinDays     int // an audit not concluded this many days after it is due is overdue (1–365)
	ContingencyWeeks       int // weeks of payments an account may keep before a surplus (0–52)
	TerminationNoticeWeeks int // the notice of a terminate outcome (0–26)
}

// ISFSettings are the council's ISF statement settings (the columns isf_* of council_settings).
type ISFSettings struct {
	StatementDueDays int // a statement is due this many days after its period ends (1–90)
	SurplusWeeks     int // a balance above this many weeks of the weekly amount … (0–52)
	SurplusMaxWeeks  int // … held longer than this many weeks is flagged for recovery (1–104)
}

// DefaultAudits and DefaultISF are the defaults of DOMAIN.md (and of migration 00018's columns).
var (
	DefaultAudits = AuditSettings{FirstWeeks: 12, EvidenceDueDays: 28, ConcludeWithinDays: 56, ContingencyWeeks: 8, TerminationNoticeWeeks: 4}
	DefaultISF    = ISFSettings{StatementDueDays: 14, SurplusWeeks: 4, SurplusMaxWeeks: 12}
)

// DefaultAnchor is the anchor of every frequency until a council sets its own: Monday 6 April
// 2026, the first day of the 2026/27 tax year.
var DefaultAnchor = date.Of(2026, time.April, 6)

// Originator is the council's own account that BACS files debit: its service user number, sort
// code, account number and the name recipients see.
type Originator struct {
	ServiceUserNumber string // 6 digits
	SortCode          string // 6 digits
	AccountNumber     string // 8 digits
	AccountName       string // 1 to 18 BACS characters, upper case
}

// DefaultSettings are the defaults of DOMAIN.md: a £49,000 approver limit (Doncaster team leaders
// 2024/25), four consecutive weeks of care-home stay, and children's short breaks of four weeks
// a period and 120 days in 12 months; no one signs off what they submitted; and the audit and ISF
// defaults (DefaultAudits, DefaultISF).
func DefaultSettings(councilID uuid.UUID) Settings {
	return Settings{CouncilID: councilID, ApproverLimitAnnual: 4_900_000, CareHomeMaxDays: 28, CareHomeJoinGapDays: 28,
		ChildShortBreakMaxPerPeriod: 28, ChildShortBreakMaxPer12Month: 120, ApproverMustDifferFromSubmitter: true,
		Payments: PaymentCalendar{FourWeeklyAnchor: DefaultAnchor, TwoWeeklyAnchor: DefaultAnchor, MonthlyAnchor: DefaultAnchor,
			LeadDays: 7, ProcessingDays: 3},
		ExcludedMerchantCategories: []string{"7995", "7800", "7801", "7802"}, MerchantCategoryMap: map[string]string{},
		Audits: DefaultAudits, ISF: DefaultISF, Version: 1}
}

// SettingsGuard vetoes a change of settings that another part of the service depends on (the
// payment package refuses to move an anchor once a cycle of its frequency has been paid).
type SettingsGuard interface {
	CheckSettingsChange(ctx context.Context, before, after Settings) error
}

// SettingsStore keeps settings.
type SettingsStore interface {
	// Settings returns the council's settings, apperr.ErrNotFound when none are stored.
	Settings(ctx context.Context, councilID uuid.UUID, forUpdate bool) (Settings, error)
	// SaveSettings inserts the council's first stored settings (apperr.ErrVersionMismatch when
	// another request stored them first) or updates them at Version − 1.
	SaveSettings(ctx context.Context, s Settings, first bool) error
}

// SettingsService reads and changes settings.
type SettingsService struct {
	store SettingsStore
	audit audit.Recorder
	tx    txn.Transactor
	now   func() time.Time
	guard SettingsGuard
}

// Guard makes g check every change of settings, inside its transaction.
func (s *SettingsService) Guard(g SettingsGuard) { s.guard = g }

// NewSettingsService returns a SettingsService.
func NewSettingsService(store SettingsStore, auditor audit.Recorder, tx txn.Transactor, now func() time.Time) *SettingsService {
	return &SettingsService{store: store, audit: auditor, tx: tx, now: now}
}

// Get returns the council's settings, the defaults until any are changed.
func (s *SettingsService) Get(ctx context.Context, councilID uuid.UUID) (Settings, error) {
	st, err := s.store.Settings(ctx, councilID, false)
	if errors.Is(err, apperr.ErrNotFound) {
		return DefaultSettings(councilID), nil
	}
	return st, err
}

// Update applies change to the settings at version. The defaults, never stored, are version 1;
// the first change stores version 2, so an If-Match of the defaults' ETag cannot overwrite it.
func (s *SettingsService) Update(ctx context.Context, a actor.Actor, version int, changed []string, change func(*Settings)) (Settings, error) {
	var out Settings
	err := s.tx.WithinTx(ctx, func(ctx context.Context) error {
		st, err := s.store.Settings(ctx, a.CouncilID, true)
		first := errors.Is(err, apperr.ErrNotFound)
		if first {
			st = DefaultSettings(a.CouncilID) // shown as version 1; the first stored is version 2
		} else if err != nil {
			return err
		}
		if st.Version != version {
			return apperr.ErrVersionMismatch
		}
		before := st
		change(&st)
		if s.guard != nil {
			if err := s.guard.CheckSettingsChange(ctx, before, st); err != nil {
				return err
			}
		}
		st.Version, st.UpdatedAt = st.Version+1, s.now().UTC().Truncate(time.Microsecond)
		if err := s.store.SaveSettings(ctx, st, first); err != nil {
			return err
		}
		out = st
		return s.audit.Record(ctx, a, audit.Event{
			Action: "council_settings.updated", EntityType: "council_settings", EntityID: a.CouncilID, ChangedFields: changed,
			Details: map[string]any{"version": st.Version, "approver_limit_annual_pence": st.ApproverLimitAnnual,
				"approver_must_differ_from_submitter": st.ApproverMustDifferFromSubmitter,
				"payment_four_weekly_anchor":          st.Payments.FourWeeklyAnchor.String(), "payment_two_weekly_anchor": st.Payments.TwoWeeklyAnchor.String(),
				"payment_monthly_anchor": st.Payments.MonthlyAnchor.String(), "payment_lead_days": st.Payments.LeadDays,
				"payment_processing_days": st.Payments.ProcessingDays, "bacs_originator_configured": st.Originator != nil,
				"excluded_merchant_categories": st.ExcludedMerchantCategories, "merchant_category_map": st.MerchantCategoryMap,
				"audit_first_weeks": st.Audits.FirstWeeks, "audit_evidence_due_days": st.Audits.EvidenceDueDays,
				"audit_conclude_within_days": st.Audits.ConcludeWithinDays, "audit_contingency_weeks": st.Audits.ContingencyWeeks,
				"audit_termination_notice_weeks": st.Audits.TerminationNoticeWeeks, "isf_statement_due_days": st.ISF.StatementDueDays,
				"isf_surplus_weeks": st.ISF.SurplusWeeks, "isf_surplus_max_weeks": st.ISF.SurplusMaxWeeks},
		})
	})
	return out, err
}
