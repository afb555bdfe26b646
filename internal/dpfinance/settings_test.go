package dpfinance_test

import (
	"testing"

	"github.com/google/uuid"
	"github.com/stretchr/testify/require"

	"github.com/pbudget/pbudget/internal/council"
	"github.com/pbudget/pbudget/internal/dpaudit"
	"github.com/pbudget/pbudget/internal/dpfinance"
	"github.com/pbudget/pbudget/internal/isf"
)

// The council's default settings are the audit and ISF rules' own defaults (DOMAIN.md's), so a
// council that never changed its settings audits as the rules say.
func TestTheCouncilsDefaultSettingsAreTheAuditAndISFDefaults(t *testing.T) {
	got := dpfinance.SettingsOf(council.DefaultSettings(uuid.New()))
	require.Equal(t, dpaudit.DefaultSettings(), got.Audit)
	require.Equal(t, isf.DefaultSettings(), got.ISF)
}

// Each setting reaches the rule that uses it.
func TestEachAuditAndISFSettingReachesItsRule(t *testing.T) {
	st := council.DefaultSettings(uuid.New())
	st.Audits = council.AuditSettings{FirstWeeks: 1, EvidenceDueDays: 2, ConcludeWithinDays: 3, ContingencyWeeks: 4, TerminationNoticeWeeks: 5}
	st.ISF = council.ISFSettings{StatementDueDays: 6, SurplusWeeks: 7, SurplusMaxWeeks: 8}
	got := dpfinance.SettingsOf(st)
	require.Equal(t, dpaudit.Settings{FirstAuditWeeks: 1, EvidenceDueDays: 2, ConcludeWithinDays: 3, ContingencyWeeks: 4, NoticeWeeks: 5}, got.Audit)
	require.Equal(t, isf.Settings{DueDays: 6, SurplusWeeks: 7, SurplusMaxWeeks: 8}, got.ISF)
}
