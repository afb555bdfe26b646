package dpaudit

import (
	"testing"

	"github.com/pbudget/pbudget/internal/account"
)

// BenchmarkReconcile2000 reconciles a year of 2,000 ledger entries and computes its surplus: the
// pure part of the reconciliation benchmark (the database read is the rest).
func BenchmarkReconcile2000(b *testing.B) {
	p := Period{d(2026, 4, 6), d(2027, 4, 5)}
	in := ReconcileInput{Period: p, Opening: account.Opening{Date: p.Start}}
	kinds := []account.Kind{account.Spend, account.Spend, account.Spend, account.CouncilPayment, account.ContributionReceived, account.Refund}
	for i := range 2_000 {
		in.Entries = append(in.Entries, account.Entry{Kind: kinds[i%len(kinds)], Date: p.Start.AddDays(i % 364), Amount: int64(100 + i)})
	}
	b.ReportAllocs()
	for b.Loop() {
		r, err := ReconcilePeriod(in)
		if err != nil {
			b.Fatal(err)
		}
		if _, err := ComputeSurplus(SurplusInput{Closing: r.Closing(), WeeklyPayment: 35_000, ContingencyWeeks: 8,
			ContributionsReceived: r.ContributionsReceived, CouncilPayments: r.CouncilPayments}); err != nil {
			b.Fatal(err)
		}
	}
}
