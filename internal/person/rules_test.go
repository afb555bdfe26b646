package person

import (
	"testing"

	"github.com/stretchr/testify/require"
)

func TestNormalizeNHSNumberChecksTheModulus11Digit(t *testing.T) {
	t.Parallel()
	tests := []struct {
		in   string
		want string
		ok   bool
	}{
		{"9434765919", "9434765919", true},   // NHS Digital's published example
		{"943 476 5919", "9434765919", true}, // grouped 3-3-4
		{"9434765918", "", false},            // wrong check digit
		{"4000000020", "4000000020", true},   // 11 − remainder 0 = 11 → check digit 0
		{"4000000080", "", false},            // 11 − remainder 1 = 10 → never valid
		{"4000000089", "", false},
		{"943476591", "", false},   // nine digits
		{"94347659190", "", false}, // eleven digits
		{"94347659a9", "", false},
		{"", "", false},
	}
	for _, tt := range tests {
		got, ok := NormalizeNHSNumber(tt.in)
		require.Equal(t, tt.ok, ok, tt.in)
		require.Equal(t, tt.want, got, tt.in)
	}
}

func TestNormalizePostcodeAcceptsUKFormats(t *testing.T) {
	t.Parallel()
	tests := []struct{ in, want string }{
		{"LU1 2BQ", "LU1 2BQ"},
		{"lu12bq", "LU1 2BQ"},
		{"SW1A 1AA", "SW1A 1AA"},
		{"EC1A1BB", "EC1A 1BB"},
		{"M1 1AE", "M1 1AE"},
		{"B33 8TH", "B33 8TH"},
		{"CR2 6XH", "CR2 6XH"},
		{"DN55 1PT", "DN55 1PT"},
		{" w1a  0ax ", "W1A 0AX"},
		{"GIR 0AA", "GIR 0AA"},
	}
	for _, tt := range tests {
		got, ok := NormalizePostcode(tt.in)
		require.True(t, ok, tt.in)
		require.Equal(t, tt.want, got)
	}
	for _, bad := range []string{"", "LU1", "LU1 2B", "QU1 2BQ", "LU1 2CQ", "12345", "LU1-2BQ", "ZZZZ 9ZZ"} {
		_, ok := NormalizePostcode(bad)
		require.False(t, ok, bad)
	}
}

func TestValidEmailWantsABareAddress(t *testing.T) {
	t.Parallel()
	require.True(t, validEmail("a.person@example.org"))
	require.False(t, validEmail("A Person <a@example.org>"))
	require.False(t, validEmail("not-an-address"))
}
