package httpapi

import (
	"regexp"
	"strings"
	"testing"

	"github.com/getkin/kin-openapi/openapi3"
	"github.com/google/uuid"
	"github.com/stretchr/testify/require"
	"pgregory.net/rapid"
)

// The request path's shortcut past the validator accepts a path value only when the validator's
// uuid format would: every value it takes matches RFC 9562's pattern, and every canonical uuid of
// versions 1 to 8 is taken (in either case); anything else goes to the validator, which words the
// problem.
func TestAPlainPathValueIsAUUIDTheValidatorWouldAccept(t *testing.T) {
	t.Parallel()
	format := regexp.MustCompile(openapi3.FormatOfStringForUUIDOfRFC9562)
	rapid.Check(t, func(t *rapid.T) {
		s := rapid.OneOf(
			rapid.StringMatching(`[0-9a-fA-F-]{30,40}`),
			rapid.StringMatching(`[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}`),
			rapid.String(),
		).Draw(t, "s")
		if versionedUUID(s) {
			require.True(t, format.MatchString(s), "%q taken but the validator refuses it", s)
		}
		var b [16]byte
		copy(b[:], rapid.SliceOfN(rapid.Byte(), 16, 16).Draw(t, "bytes"))
		v := rapid.IntRange(1, 8).Draw(t, "version")
		b[6] = b[6]&0x0f | byte(v<<4)
		b[8] = b[8]&0x3f | 0x80
		id := uuid.UUID(b).String()
		require.True(t, versionedUUID(id), id)
		require.True(t, versionedUUID(strings.ToUpper(id)), id)
	})
	for _, s := range []string{"00000000-0000-0000-0000-000000000000", "ffffffff-ffff-ffff-ffff-ffffffffffff",
		"01a23ea5-8ee7-0931-9d54-c6eed796fc75", "01a23ea5-8ee7-7931-1d54-c6eed796fc75", "01a23ea58ee779319d54c6eed796fc75",
		"{01a23ea5-8ee7-7931-9d54-c6eed796fc75}", "01a23ea5-8ee7-7931-9d54-c6eed796fc7g", ""} {
		require.False(t, versionedUUID(s), "%q goes to the validator", s)
	}
}
