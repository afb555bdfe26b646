package dpaudit

import (
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/pbudget/pbudget/internal/date"
)

func TestEveryPersonalAssistantNeedsInsuranceAndPayrollAndAChildsADBSCheck(t *testing.T) {
	t.Parallel()
	p := Period{d(2026, 4, 6), d(2027, 4, 5)}
	adult := []EvidenceKind{InsuranceCertificate, PayrollRecord}
	child := []EvidenceKind{InsuranceCertificate, PayrollRecord, DBSCheck}
	for _, tc := range []struct {
		name string
		born date.Date
		want []EvidenceKind
	}{
		{"18 on the period's first day: an adult", d(2008, 4, 6), adult},
		{"18 the day after the period starts: a child for its first day", d(2008, 4, 7), child},
		{"18 on the period's last day: a child for most of it", d(2009, 4, 4), child},
		{"a young child", d(2020, 1, 1), child},
		{"an older adult", d(1950, 6, 1), adult},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			require.Equal(t, tc.want, RequiredPAEvidence(tc.born, p))
		})
	}
}

func TestAnAssistantsHeldEvidenceIsTheItemValidLongestOfEachKind(t *testing.T) {
	t.Parallel()
	req := []EvidenceKind{InsuranceCertificate, PayrollRecord}
	until := func(y int) *date.Date { v := d(y, 1, 1); return &v }
	got := Assistants([]string{"pa-1", "pa-2", "pa-1"}, req, []PAItem{
		{"pa-1", InsuranceCertificate, until(2026)},
		{"pa-1", InsuranceCertificate, until(2028)},
		{"pa-1", InsuranceCertificate, until(2027)},
		{"pa-1", PayrollRecord, nil},
		{"pa-1", PayrollRecord, until(2030)},
		{"pa-9", DBSCheck, nil}, // not an assistant of the plan
	})
	require.Equal(t, []Assistant{
		{Reference: "pa-1", Required: req, Held: map[EvidenceKind]date.Date{InsuranceCertificate: d(2028, 1, 1), PayrollRecord: {}}},
		{Reference: "pa-2", Required: req, Held: map[EvidenceKind]date.Date{}},
	}, got)
	f := Findings(FindingsInput{Period: Period{d(2026, 4, 6), d(2027, 4, 5)}, Assistants: got})
	require.Len(t, f, 1)
	require.Equal(t, PAEvidenceMissing, f[0].Type, "pa-2 holds nothing; pa-1's insurance runs to 2028")
}
