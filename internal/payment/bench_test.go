package payment

import (
	"fmt"
	"testing"

	"github.com/google/uuid"
)

// BenchmarkBuildRun10000 builds the next run for 10,000 agreements a year into their life (a
// third each four-weekly, two-weekly and monthly), every past cycle paid, one in ten revised with a
// backdated amount since: the pure part of the 10,000-agreement run benchmark.
func BenchmarkBuildRun10000(b *testing.B) {
	in := RunInput{RunID: uuid.New(), PayDate: d(2027, 3, 1), Calendar: calendar}
	for i := range 10_000 {
		a := Agreement{ID: uuid.NewSHA1(uuid.Nil, fmt.Appendf(nil, "a%d", i)), Frequency: []Frequency{FourWeekly, TwoWeekly, Monthly}[i%3],
			Basis: Net, Periods: []Period{{d(2026, 4, 6), nil}}, Amounts: []Amount{{d(2026, 4, 6), 1_820_000, 1_500_000}}}
		in.Agreements = append(in.Agreements, RunAgreement{Agreement: a})
	}
	past, err := BuildRun(in) // everything up to 8 March 2027, paid
	if err != nil {
		b.Fatal(err)
	}
	taken := map[uuid.UUID][]Taken{}
	for _, l := range past.Lines {
		taken[l.AgreementID] = append(taken[l.AgreementID], Taken{l.Kind, l.CycleStart, l.Seq, l.Amount, Paid})
	}
	in.PayDate = d(2027, 3, 29)
	for i := range in.Agreements {
		ra := &in.Agreements[i]
		ra.Taken = taken[ra.ID]
		if i%10 == 0 {
			ra.Amounts = append(ra.Amounts, Amount{d(2027, 2, 1), 2_080_000, 1_700_000})
		}
	}
	b.ReportAllocs()
	for b.Loop() {
		r, err := BuildRun(in)
		if err != nil || len(r.Lines) < 10_000 {
			b.Fatal(err, len(r.Lines))
		}
	}
}
