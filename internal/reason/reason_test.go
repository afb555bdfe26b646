package reason

import (
	"strings"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/pbudget/pbudget/internal/apperr"
)

func TestAWrittenReasonIsRequiredAndMustSayWhy(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name, in, want, code string
	}{
		{"blank", "   \t\n ", "", "reason_required"},
		{"a token word", "surplus", "", "reason_too_short"},
		{"one short of the minimum", strings.Repeat("a", MinLength-1), "", "reason_too_short"},
		{"exactly the minimum", strings.Repeat("a", MinLength), strings.Repeat("a", MinLength), ""},
		{"spaces collapse before counting", "  Balance   above\tcontingency  ", "Balance above contingency", ""},
		{"padding does not make it long enough", "a          b          c", "", "reason_too_short"},
		{"a control character", "Balance above the\x00 contingency", "", "text"},
		{"the maximum", strings.Repeat("é", MaxLength), strings.Repeat("é", MaxLength), ""},
		{"one over the maximum", strings.Repeat("é", MaxLength+1), "", "reason_too_long"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			got, fe := Check("/reason", tt.in)
			if tt.code == "" {
				require.Nil(t, fe)
				require.Equal(t, tt.want, got)
				return
			}
			require.NotNil(t, fe)
			require.Equal(t, tt.code, fe.Code)
			require.Equal(t, "/reason", fe.Field)
			require.Empty(t, got)
		})
	}
}

func TestARequiredReasonIsABusinessRule(t *testing.T) {
	t.Parallel()
	_, err := Require("/reason", "n/a")
	require.ErrorIs(t, err, ErrRequired)
	require.Equal(t, apperr.RuleViolation, apperr.KindOf(err))
	var ae *apperr.Error
	require.ErrorAs(t, err, &ae)
	require.Equal(t, "/reason", ae.Fields[0].Field)
	got, err := Require("/reason", "Balance above the eight weeks' contingency")
	require.NoError(t, err)
	require.Equal(t, "Balance above the eight weeks' contingency", got)
}
