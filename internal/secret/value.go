package secret

import (
	"crypto/subtle"
	"encoding/json"
	"fmt"
	"log/slog"
	"strconv"

	"github.com/google/uuid"
)

// Value is a plain secret in memory — an account number, a sort code, an account name, a card
// reference — that only Reveal gives up. Printing it with any fmt verb (%v %s %q %x %d %#v …),
// logging it with slog, or marshalling it to JSON or text gives its mask. The plain text sits
// behind a pointer to a string: fmt prints a Value in an unexported struct field (where it cannot
// call the methods) field by field, and a pointer to a string, at any depth and for any verb, as
// an address — a pointer to a struct holding the text would be printed with its contents.
type Value struct {
	p    *string
	show int // trailing characters the mask shows
}

// Hidden wraps s, masked as "****" whatever it is (names: no part of a name is shown).
func Hidden(s string) Value { return Value{p: &s} }

// Last4 wraps s, masked as "****" and its last four characters when it has more than four (account
// numbers, card references: DOMAIN.md's "shown masked (last 4 digits)"). The mask has the same
// length for every value, so it does not tell the value's length.
func Last4(s string) Value { return Value{p: &s, show: 4} }

// Reveal returns the plain text: for the export file, the encryption, the second user who
// confirms a change of details. Nothing else.
func (v Value) Reveal() string {
	if v.p == nil {
		return ""
	}
	return *v.p
}

// IsZero reports whether the value is empty.
func (v Value) IsZero() bool { return v.Reveal() == "" }

// Equal compares two values in constant time (so comparing a typed-in account number with the
// stored one does not leak how much of it matched).
func (v Value) Equal(o Value) bool {
	return subtle.ConstantTimeCompare([]byte(v.Reveal()), []byte(o.Reveal())) == 1
}

// Mask is what may be shown: "" for an empty value, "****", or "****" and the last four characters.
func (v Value) Mask() string {
	s := v.Reveal()
	switch {
	case s == "":
		return ""
	case v.show > 0 && len(s) > v.show:
		return "****" + s[len(s)-v.show:]
	}
	return "****"
}

// String implements fmt.Stringer with the mask.
func (v Value) String() string { return v.Mask() }

// GoString implements fmt.GoStringer with the mask.
func (v Value) GoString() string { return "secret.Value(" + strconv.Quote(v.Mask()) + ")" }

// Format implements fmt.Formatter, so that no verb (%x, %d, %+v) reaches the plain text.
func (v Value) Format(f fmt.State, verb rune) {
	switch {
	case verb == 'v' && f.Flag('#'):
		fmt.Fprint(f, v.GoString())
	case verb == 'q':
		fmt.Fprint(f, strconv.Quote(v.Mask()))
	default:
		fmt.Fprint(f, v.Mask())
	}
}

// LogValue implements slog.LogValuer with the mask.
func (v Value) LogValue() slog.Value { return slog.StringValue(v.Mask()) }

// MarshalJSON implements json.Marshaler with the mask: an API response or an audit event that
// carries a Value shows only what may be shown.
func (v Value) MarshalJSON() ([]byte, error) { return json.Marshal(v.Mask()) }

// MarshalText implements encoding.TextMarshaler with the mask (for YAML, XML, map keys).
func (v Value) MarshalText() ([]byte, error) { return []byte(v.Mask()), nil }

// BankAccount is a recipient's bank details, as BACS needs them.
type BankAccount struct {
	SortCode      Value
	AccountNumber Value
	AccountName   Value
}

// NewBankAccount wraps plain details: the sort code and account number show their last digits,
// the name nothing.
func NewBankAccount(sortCode, accountNumber, accountName string) BankAccount {
	return BankAccount{Last4(sortCode), Last4(accountNumber), Hidden(accountName)}
}

// Masked is what a screen shows of bank details.
type Masked struct {
	SortCode      string `json:"sort_code"`      // "**-**-56"
	AccountNumber string `json:"account_number"` // "****5678"
}

// Masked returns the details as shown: the sort code's last two digits and the account number's
// last four.
func (b BankAccount) Masked() Masked {
	sc := b.SortCode.Reveal()
	m := Masked{AccountNumber: b.AccountNumber.Mask()}
	if len(sc) == 6 {
		m.SortCode = "**-**-" + sc[4:]
	} else if sc != "" {
		m.SortCode = "**-**-**"
	}
	return m
}

// stored is the plain form that is sealed; it never leaves this package unsealed.
type stored struct {
	SortCode      string `json:"s"`
	AccountNumber string `json:"a"`
	AccountName   string `json:"n"`
}

// SealBankAccount seals all three fields together, bound to the council and the record (one
// ciphertext, so a sort code cannot be paired with another record's account number).
func (r *KeyRing) SealBankAccount(b BankAccount, councilID, recordID uuid.UUID) ([]byte, error) {
	plain, err := json.Marshal(stored{b.SortCode.Reveal(), b.AccountNumber.Reveal(), b.AccountName.Reveal()})
	if err != nil {
		return nil, err
	}
	defer clear(plain)
	return r.Seal(plain, Binding{councilID, recordID, PurposeBankAccount})
}

// OpenBankAccount opens what SealBankAccount sealed for the same council and record.
func (r *KeyRing) OpenBankAccount(sealed []byte, councilID, recordID uuid.UUID) (BankAccount, error) {
	plain, err := r.Open(sealed, Binding{councilID, recordID, PurposeBankAccount})
	if err != nil {
		return BankAccount{}, err
	}
	defer clear(plain)
	var s stored
	if err := json.Unmarshal(plain, &s); err != nil {
		return BankAccount{}, ErrOpen
	}
	return NewBankAccount(s.SortCode, s.AccountNumber, s.AccountName), nil
}
