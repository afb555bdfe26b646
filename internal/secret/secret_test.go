package secret

import (
	"bytes"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"log/slog"
	"strings"
	"testing"

	"github.com/google/uuid"
	"github.com/stretchr/testify/require"
)

func key(b byte) string { return base64.StdEncoding.EncodeToString(bytes.Repeat([]byte{b}, KeySize)) }

func ring(t *testing.T, spec string) *KeyRing {
	t.Helper()
	r, err := ParseKeyRing(spec)
	require.NoError(t, err)
	return r
}

var (
	council = uuid.MustParse("0193a0c4-0000-7000-8000-000000000001")
	record  = uuid.MustParse("0193a0c4-0000-7000-8000-0000000000aa")
	binding = Binding{council, record, PurposeBankAccount}
)

func TestSealThenOpenGivesThePlainTextBack(t *testing.T) {
	t.Parallel()
	r := ring(t, "k1:"+key(1))
	sealed, err := r.Seal([]byte("12345678"), binding)
	require.NoError(t, err)
	require.NotContains(t, string(sealed), "12345678")
	id, err := KeyID(sealed)
	require.NoError(t, err)
	require.Equal(t, "k1", id)
	plain, err := r.Open(sealed, binding)
	require.NoError(t, err)
	require.Equal(t, "12345678", string(plain))

	again, err := r.Seal([]byte("12345678"), binding)
	require.NoError(t, err)
	require.NotEqual(t, sealed, again, "a fresh nonce every time: equal values do not look equal at rest")
}

func TestTheWrongKeyOrBindingDoesNotOpen(t *testing.T) {
	t.Parallel()
	r := ring(t, "k1:"+key(1))
	sealed, err := r.Seal([]byte("12345678"), binding)
	require.NoError(t, err)
	tests := []struct {
		name string
		ring *KeyRing
		b    Binding
		data []byte
		want error
	}{
		{"another key under the same id", ring(t, "k1:"+key(2)), binding, sealed, ErrOpen},
		{"a key id the ring does not have", ring(t, "k9:"+key(1)), binding, sealed, ErrUnknownKey},
		{"another council", r, Binding{uuid.New(), record, PurposeBankAccount}, sealed, ErrOpen},
		{"another record", r, Binding{council, uuid.New(), PurposeBankAccount}, sealed, ErrOpen},
		{"another purpose", r, Binding{council, record, PurposeCardReference}, sealed, ErrOpen},
		{"a flipped bit", r, binding, flip(sealed, len(sealed)-1), ErrOpen},
		{"a key id rewritten in the header", ring(t, "k2:"+key(1)), binding, rename(sealed, "k2"), ErrOpen},
		{"truncated", r, binding, sealed[:10], ErrOpen},
		{"empty", r, binding, nil, ErrOpen},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			_, err := tt.ring.Open(tt.data, tt.b)
			require.ErrorIs(t, err, tt.want)
		})
	}
}

func flip(b []byte, i int) []byte {
	c := bytes.Clone(b)
	c[i] ^= 1
	return c
}

func rename(b []byte, id string) []byte {
	c := bytes.Clone(b)
	copy(c[2:2+len(id)], id)
	return c
}

func TestKeysRotate(t *testing.T) {
	t.Parallel()
	old := ring(t, "2025:"+key(1))
	sealed, err := old.SealBankAccount(NewBankAccount("309634", "01234567", "J SMITH"), council, record)
	require.NoError(t, err)

	// Step 1: a new current key, the old one kept: old values still open, and need rotating.
	both := ring(t, "2026:"+key(2)+", 2025:"+key(1))
	require.Equal(t, "2026", both.Current())
	acct, err := both.OpenBankAccount(sealed, council, record)
	require.NoError(t, err)
	require.Equal(t, "01234567", acct.AccountNumber.Reveal())
	require.True(t, both.NeedsRotation(sealed))

	// Step 2: re-encrypted under the current key.
	rotated, err := both.Rotate(sealed, Binding{council, record, PurposeBankAccount})
	require.NoError(t, err)
	require.False(t, both.NeedsRotation(rotated))
	id, _ := KeyID(rotated)
	require.Equal(t, "2026", id)

	// Step 3: the old key retired: rotated values open, anything left behind says which key it needs.
	only := ring(t, "2026:"+key(2))
	acct, err = only.OpenBankAccount(rotated, council, record)
	require.NoError(t, err)
	require.Equal(t, "J SMITH", acct.AccountName.Reveal())
	_, err = only.OpenBankAccount(sealed, council, record)
	require.ErrorIs(t, err, ErrUnknownKey)
	require.ErrorContains(t, err, `"2025"`)
}

func TestParseKeyRingRefusesBadConfiguration(t *testing.T) {
	t.Parallel()
	short := base64.StdEncoding.EncodeToString(make([]byte, 16))
	for spec, want := range map[string]string{
		"":                               "want id:base64",
		"k1":                             "want id:base64",
		"k1:not base64!":                 "not standard base64",
		"k1:" + short:                    "has 16 bytes, want 32",
		"k1:" + key(1) + ",k1:" + key(2): "appears twice",
		"bad id:" + key(1):               "key id",
	} {
		_, err := ParseKeyRing(spec)
		require.ErrorIs(t, err, ErrKeys, spec)
		require.ErrorContains(t, err, want, spec)
		require.NotContains(t, err.Error(), key(1), "errors never show key material")
	}
	r := ring(t, "a:"+key(1)+",b:"+key(2))
	require.Equal(t, "secret.KeyRing(current a, 2 keys)", fmt.Sprint(r))
}

func TestMasksShowTheLastFourDigitsAtMost(t *testing.T) {
	t.Parallel()
	require.Equal(t, "****5678", Last4("12345678").Mask())
	require.Equal(t, "****5678", Last4("9912345678").Mask(), "the mask does not tell the length")
	require.Equal(t, "****", Last4("1234").Mask(), "four characters or fewer show nothing")
	require.Equal(t, "****", Hidden("J SMITH").Mask())
	require.Equal(t, "", Last4("").Mask())
	require.Equal(t, "", Value{}.Mask())
	require.Equal(t, Masked{SortCode: "**-**-34", AccountNumber: "****5678"}, NewBankAccount("309634", "12345678", "J SMITH").Masked())
	require.True(t, Last4("12345678").Equal(Hidden("12345678")))
	require.False(t, Last4("12345678").Equal(Last4("12345679")))
}

// However a value is printed, logged or marshalled, the plain text never appears.
func TestPrintingOrLoggingAValueShowsTheMask(t *testing.T) {
	t.Parallel()
	acct := NewBankAccount("309634", "01234567", "JANE SMITH")
	type unexported struct{ acct BankAccount }
	type exported struct {
		Account BankAccount
		Number  Value
	}
	var out []string
	for _, verb := range []string{"%v", "%+v", "%#v", "%s", "%q", "%x", "%X", "%d", "%10.3s"} {
		out = append(out,
			fmt.Sprintf(verb, acct.AccountNumber),
			fmt.Sprintf(verb, acct),
			fmt.Sprintf(verb, &acct),
			fmt.Sprintf(verb, exported{acct, acct.AccountNumber}),
			fmt.Sprintf(verb, unexported{acct}))
	}
	j, err := json.Marshal(exported{acct, acct.AccountNumber})
	require.NoError(t, err)
	out = append(out, string(j))
	var logs bytes.Buffer
	log := slog.New(slog.NewJSONHandler(&logs, nil))
	log.Info("details changed", "number", acct.AccountNumber, "account", acct, "nested", exported{acct, acct.AccountNumber})
	slog.New(slog.NewTextHandler(&logs, nil)).Info("details", "number", acct.AccountNumber, slog.Any("u", unexported{acct}))
	out = append(out, logs.String())
	for _, s := range out {
		for _, plain := range []string{"01234567", "309634", "JANE", "SMITH", "30 39 36", "3330393633"} {
			require.NotContains(t, s, plain, "printed: %s", s)
		}
	}
	require.Equal(t, "****4567", fmt.Sprint(acct.AccountNumber))
	require.Equal(t, `secret.Value("****4567")`, fmt.Sprintf("%#v", acct.AccountNumber))
	require.Contains(t, logs.String(), `"number":"****4567"`)
	require.Equal(t, `{"Account":{"SortCode":"****9634","AccountNumber":"****4567","AccountName":"****"},"Number":"****4567"}`, string(j))
	require.True(t, strings.Contains(logs.String(), "number=****4567"))
}

func TestSealedValuesOpenIntoValues(t *testing.T) {
	t.Parallel()
	r := ring(t, "k1:"+key(1))
	b := Binding{council, record, PurposeCardReference}
	sealed, err := r.SealValue(Last4("CARD-000918"), b)
	require.NoError(t, err)
	v, err := r.OpenValue(sealed, b)
	require.NoError(t, err)
	require.Equal(t, "CARD-000918", v.Reveal())
	require.Equal(t, "****0918", v.String())
	_, err = r.Seal([]byte("x"), Binding{CouncilID: council})
	require.ErrorIs(t, err, ErrKeys, "a binding names its purpose")
}
