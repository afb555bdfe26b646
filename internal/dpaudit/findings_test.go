package dpaudit

import (
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/pbudget/pbudget/internal/account"
	"github.com/pbudget/pbudget/internal/date"
)

func TestFindingsComeFromFlagsAndFigures(t *testing.T) {
	t.Parallel()
	p := Period{d(2026, 4, 6), d(2027, 4, 5)}
	flagged := []FlaggedLine{
		{account.ExcludedCategory, 2_000, Unresolved},
		{account.ExcludedCategory, 3_000, Misspend},
		{account.ExcludedCategory, 9_999, Accepted}, // a wrongly coded merchant
		{account.NotInPlan, 1_200, Unresolved},
		{account.NotInPlan, 800, EvidencedLater},
		{account.Unexplained, 4_000, Unresolved},
		{account.Unexplained, 500, Misspend},
		{account.Unexplained, 700, EvidencedLater},
	}
	got := Findings(FindingsInput{
		Period:         p,
		Flagged:        flagged,
		Reconciliation: Reconciliation{ContributionShortfall: 8_000, Unexplained: -4_500},
		Assistants: []Assistant{
			{Reference: "PA-1", Required: []EvidenceKind{InsuranceCertificate, DBSCheck}, Held: map[EvidenceKind]date.Date{InsuranceCertificate: d(2027, 4, 3), DBSCheck: {}}},
			{Reference: "PA-2", Required: []EvidenceKind{InsuranceCertificate, PayrollRecord}, Held: map[EvidenceKind]date.Date{InsuranceCertificate: d(2027, 4, 4)}},
		},
	})
	require.Equal(t, []Finding{
		{UnevidencedSpend, 1, 4_000, "1 payment totalling £40.00 has no evidence of what it was for."},
		{SpendOutsidePlan, 2, 1_700, "2 payments totalling £17.00 were for things the support plan does not include."},
		{ExcludedCategorySpend, 2, 5_000, "2 payments totalling £50.00 were to kinds of business a direct payment may not be spent with."},
		{ContributionShortfall, 1, 8_000, "£80.00 of your contributions due was not paid into the account."},
		{PAEvidenceMissing, 1, 0, "1 personal assistant lacks a required record (such as insurance, a DBS check or payroll)."},
		{PAEvidenceExpired, 1, 0, "1 personal assistant has a record that expired before the end of the period."},
		{UnexplainedDifference, 1, 4_500, "The statement shows £45.00 less than the account's record explains."},
	}, got)
	require.Equal(t, int64(3_500), MisspendTotal(flagged))
	require.Empty(t, Findings(FindingsInput{Period: p}), "a clean audit has no findings")
}

func TestPAEvidenceValidOnThePeriodsLastDayIsNotExpired(t *testing.T) {
	t.Parallel()
	p := Period{d(2026, 4, 6), d(2027, 4, 5)} // last day 4 April 2027
	pa := func(until date.Date) []Assistant {
		return []Assistant{{Reference: "PA", Required: []EvidenceKind{InsuranceCertificate}, Held: map[EvidenceKind]date.Date{InsuranceCertificate: until}}}
	}
	require.Empty(t, Findings(FindingsInput{Period: p, Assistants: pa(d(2027, 4, 4))}))
	require.Equal(t, PAEvidenceExpired, Findings(FindingsInput{Period: p, Assistants: pa(d(2027, 4, 3))})[0].Type)
}
