package bacs

import (
	"fmt"
	"testing"
)

// BenchmarkWrite10000 writes a Standard 18 file of 10,000 credits.
func BenchmarkWrite10000(b *testing.B) {
	f := sample()
	f.Credits = nil
	for i := range 10_000 {
		f.Credits = append(f.Credits, Credit{SortCode: "309634", AccountNumber: fmt.Sprintf("%08d", i), AccountName: "A RECIPIENT",
			Reference: fmt.Sprintf("PB DP-%06d", i), Amount: int64(10_000 + i)})
	}
	b.ReportAllocs()
	for b.Loop() {
		if _, err := Write(f); err != nil {
			b.Fatal(err)
		}
	}
}
