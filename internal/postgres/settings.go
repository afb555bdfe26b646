package postgres

import (
	"context"
	"encoding/json"
	"errors"
	"time"

	"github.com/google/uuid"
	"gorm.io/gorm/clause"

	"github.com/pbudget/pbudget/internal/apperr"
	"github.com/pbudget/pbudget/internal/council"
	"github.com/pbudget/pbudget/internal/date"
)

type settingsRow struct {
	CouncilID                         uuid.UUID `gorm:"primaryKey"`
	ApproverLimitAnnualPence          int64
	DpCareHomeMaxDays                 int
	DpCareHomeJoinGapDays             int
	ChildShortBreakMaxDaysPerPeriod   int
	ChildShortBreakMaxDaysPer12Months int `gorm:"column:child_short_break_max_days_per_12_months"`
	ApproverMustDifferFromSubmitter   bool
	PaymentFourWeeklyAnchor           date.Date
	PaymentTwoWeeklyAnchor            date.Date
	PaymentMonthlyAnchor              date.Date
	PaymentLeadDays                   int
	PaymentProcessingDays             int
	BacsServiceUserNumber             *string
	BacsSortCode                      *string
	BacsAccountNumber                 *string
	BacsAccountName                   *string
	ExcludedMerchantCategories        textArray
	MerchantCategoryMap               []byte
	AuditFirstWeeks                   int
	AuditEvidenceDueDays              int
	AuditConcludeWithinDays           int
	AuditContingencyWeeks             int
	AuditTerminationNoticeWeeks       int
	IsfStatementDueDays               int
	IsfSurplusWeeks                   int
	IsfSurplusMaxWeeks                int
	Version                           int
	UpdatedAt                         time.Time `gorm:"autoUpdateTime:false"`
}

func (settingsRow) TableName() string { return "council_settings" }

// SettingsStore implements council.SettingsStore.
type SettingsStore struct{ db *DB }

// NewSettingsStore returns a SettingsStore.
func NewSettingsStore(db *DB) *SettingsStore { return &SettingsStore{db: db} }

// Settings implements council.SettingsStore.
// Within a transaction the settings are read once (txMemo): plan approval asked for them three
// times. A read FOR UPDATE always goes to the database (it takes the lock).
func (s *SettingsStore) Settings(ctx context.Context, councilID uuid.UUID, forUpdate bool) (council.Settings, error) {
	key := settingsKey{councilID}
	if !forUpdate {
		if st, ok := memoGet[council.Settings](ctx, key); ok {
			return st, nil
		}
		if _, ok := memoGet[noSettings](ctx, key); ok {
			return council.Settings{}, apperr.ErrNotFound
		}
	}
	r, err := takeOne[settingsRow](s.db.conn(ctx), forUpdate, "council_id = ?", uuidArg(councilID))
	if errors.Is(err, apperr.ErrNotFound) {
		memoPut(ctx, key, noSettings{}) // a council on the defaults: read once too
	}
	if err != nil {
		return council.Settings{}, err
	}
	st, err := settingsOf(r)
	if err != nil {
		return council.Settings{}, err
	}
	memoPut(ctx, key, st)
	return st, nil
}

type settingsKey struct{ council uuid.UUID }

// noSettings is the memo of a council that has stored no settings (it runs on the defaults).
type noSettings struct{}

func settingsOf(r settingsRow) (council.Settings, error) {
	st := council.Settings{CouncilID: r.CouncilID, ApproverLimitAnnual: r.ApproverLimitAnnualPence, CareHomeMaxDays: r.DpCareHomeMaxDays,
		CareHomeJoinGapDays: r.DpCareHomeJoinGapDays, ChildShortBreakMaxPerPeriod: r.ChildShortBreakMaxDaysPerPeriod,
		ChildShortBreakMaxPer12Month: r.ChildShortBreakMaxDaysPer12Months, ApproverMustDifferFromSubmitter: r.ApproverMustDifferFromSubmitter,
		Version: r.Version, UpdatedAt: r.UpdatedAt.UTC(),
		Payments: council.PaymentCalendar{FourWeeklyAnchor: r.PaymentFourWeeklyAnchor, TwoWeeklyAnchor: r.PaymentTwoWeeklyAnchor,
			MonthlyAnchor: r.PaymentMonthlyAnchor, LeadDays: r.PaymentLeadDays, ProcessingDays: r.PaymentProcessingDays},
		ExcludedMerchantCategories: []string(r.ExcludedMerchantCategories), MerchantCategoryMap: map[string]string{},
		Audits: council.AuditSettings{FirstWeeks: r.AuditFirstWeeks, EvidenceDueDays: r.AuditEvidenceDueDays, ConcludeWithinDays: r.AuditConcludeWithinDays,
			ContingencyWeeks: r.AuditContingencyWeeks, TerminationNoticeWeeks: r.AuditTerminationNoticeWeeks},
		ISF: council.ISFSettings{StatementDueDays: r.IsfStatementDueDays, SurplusWeeks: r.IsfSurplusWeeks, SurplusMaxWeeks: r.IsfSurplusMaxWeeks}}
	if st.ExcludedMerchantCategories == nil {
		st.ExcludedMerchantCategories = []string{}
	}
	if len(r.MerchantCategoryMap) > 0 {
		if err := json.Unmarshal(r.MerchantCategoryMap, &st.MerchantCategoryMap); err != nil {
			return council.Settings{}, err
		}
	}
	if r.BacsServiceUserNumber != nil {
		st.Originator = &council.Originator{ServiceUserNumber: *r.BacsServiceUserNumber, SortCode: deref(r.BacsSortCode),
			AccountNumber: deref(r.BacsAccountNumber), AccountName: deref(r.BacsAccountName)}
	}
	return st, nil
}

// SaveSettings implements council.SettingsStore.
func (s *SettingsStore) SaveSettings(ctx context.Context, st council.Settings, first bool) error {
	memoDrop(ctx, settingsKey{st.CouncilID})
	row := settingsRow{CouncilID: st.CouncilID, ApproverLimitAnnualPence: st.ApproverLimitAnnual, DpCareHomeMaxDays: st.CareHomeMaxDays,
		DpCareHomeJoinGapDays: st.CareHomeJoinGapDays, ChildShortBreakMaxDaysPerPeriod: st.ChildShortBreakMaxPerPeriod,
		ChildShortBreakMaxDaysPer12Months: st.ChildShortBreakMaxPer12Month, ApproverMustDifferFromSubmitter: st.ApproverMustDifferFromSubmitter,
		Version: st.Version, UpdatedAt: st.UpdatedAt,
		PaymentFourWeeklyAnchor: st.Payments.FourWeeklyAnchor, PaymentTwoWeeklyAnchor: st.Payments.TwoWeeklyAnchor,
		PaymentMonthlyAnchor: st.Payments.MonthlyAnchor, PaymentLeadDays: st.Payments.LeadDays, PaymentProcessingDays: st.Payments.ProcessingDays,
		ExcludedMerchantCategories: textArray(st.ExcludedMerchantCategories), MerchantCategoryMap: []byte("{}"),
		AuditFirstWeeks: st.Audits.FirstWeeks, AuditEvidenceDueDays: st.Audits.EvidenceDueDays, AuditConcludeWithinDays: st.Audits.ConcludeWithinDays,
		AuditContingencyWeeks: st.Audits.ContingencyWeeks, AuditTerminationNoticeWeeks: st.Audits.TerminationNoticeWeeks,
		IsfStatementDueDays: st.ISF.StatementDueDays, IsfSurplusWeeks: st.ISF.SurplusWeeks, IsfSurplusMaxWeeks: st.ISF.SurplusMaxWeeks}
	if row.ExcludedMerchantCategories == nil {
		row.ExcludedMerchantCategories = textArray{}
	}
	if len(st.MerchantCategoryMap) > 0 {
		b, err := json.Marshal(st.MerchantCategoryMap)
		if err != nil {
			return err
		}
		row.MerchantCategoryMap = b
	}
	if o := st.Originator; o != nil {
		row.BacsServiceUserNumber, row.BacsSortCode, row.BacsAccountNumber, row.BacsAccountName = &o.ServiceUserNumber, &o.SortCode, &o.AccountNumber, &o.AccountName
	}
	if first {
		// Two first changes at once: the one that inserts second finds the row and loses, as a
		// stale If-Match would.
		res := s.db.conn(ctx).Clauses(clause.OnConflict{DoNothing: true}).Create(&row)
		return versioned(res.Error, res.RowsAffected, nil)
	}
	res := s.db.conn(ctx).Model(&settingsRow{}).Where("council_id = ? AND version = ?", uuidArg(st.CouncilID), st.Version-1).
		Select("*").Omit("council_id").Updates(&row)
	return versioned(res.Error, res.RowsAffected, nil)
}
