package httpapi

import (
	"bytes"
	"encoding/json"
	"testing"
	"time"

	"github.com/google/uuid"
	"pgregory.net/rapid"

	"github.com/pbudget/pbudget/internal/date"
	"github.com/pbudget/pbudget/internal/person"
)

// anyText is any string: valid UTF-8 of any script, and also quotes, backslashes, control
// characters, HTML's <, > and &, the line separators and bytes that are not UTF-8.
func anyText(t *rapid.T, label string) string {
	return rapid.OneOf(
		rapid.String(),
		rapid.StringOf(rapid.SampledFrom([]rune{'"', '\\', '<', '>', '&', '\b', '\f', '\n', '\r', '\t', 0, 0x1f, 0x7f, '\u2028', '\u2029', 'é', '€', '😀', 'a'})),
		rapid.Custom(func(t *rapid.T) string { return string(rapid.SliceOf(rapid.Byte()).Draw(t, "bytes")) }),
	).Draw(t, label)
}

func anyOptional(t *rapid.T, label string) *string {
	if rapid.Bool().Draw(t, label+" set") {
		s := anyText(t, label)
		return &s
	}
	return nil
}

func anyInstant(t *rapid.T, label string) time.Time {
	return time.Unix(rapid.Int64Range(-2_000_000_000, 8_000_000_000).Draw(t, label), rapid.Int64Range(0, 999_999_999).Draw(t, label+" ns")).UTC()
}

// TestThePersonBodyIsEncodedAsEncodingJSONDoes: for any person, the hand-written encoder writes
// byte for byte what encoding/json's Encoder writes for the generated body (personOut).
func TestThePersonBodyIsEncodedAsEncodingJSONDoes(t *testing.T) {
	rapid.Check(t, func(t *rapid.T) {
		p := person.Person{
			ID: uuid.UUID(rapid.SliceOfN(rapid.Byte(), 16, 16).Draw(t, "id")), GivenName: anyText(t, "given"), FamilyName: anyText(t, "family"),
			PreferredName: anyOptional(t, "preferred"), NHSNumber: anyOptional(t, "nhs"), Phone: anyOptional(t, "phone"), Email: anyOptional(t, "email"),
			DateOfBirth: date.Of(rapid.IntRange(1, 9999).Draw(t, "year"), time.Month(rapid.IntRange(1, 12).Draw(t, "month")), rapid.IntRange(1, 28).Draw(t, "day")),
			Type:        person.Type(rapid.SampledFrom([]string{"adult", "child", "carer"}).Draw(t, "type")), Version: rapid.IntRange(1, 1<<31-1).Draw(t, "version"),
			CreatedAt: anyInstant(t, "created"), UpdatedAt: anyInstant(t, "updated"),
		}
		if rapid.Bool().Draw(t, "address") {
			p.Address = &person.Address{Line1: anyText(t, "line1"), Line2: anyText(t, "line2"), Town: anyText(t, "town"),
				County: anyText(t, "county"), Postcode: anyText(t, "postcode")}
		}
		var want bytes.Buffer
		if err := json.NewEncoder(&want).Encode(personOut(p)); err != nil {
			t.Fatal(err)
		}
		got := append(appendPersonJSON(nil, p), '\n')
		if !bytes.Equal(got, want.Bytes()) {
			t.Fatalf("hand-written:\n%s\nencoding/json:\n%s", got, want.Bytes())
		}
	})
}
