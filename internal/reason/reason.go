// Package reason is the rule every recorded decision about money shares: a written reason a
// person can read. A council lost a judicial review for demanding a "surplus" without giving a
// rationale (DOMAIN.md section 4), so audits' outcomes, recoveries, write-offs and disputes refuse
// a blank or token reason ("n/a", "surplus") instead of recording it.
package reason

import (
	"fmt"
	"strings"
	"unicode"
	"unicode/utf8"

	"github.com/pbudget/pbudget/internal/apperr"
)

// MinLength is the fewest characters (after trimming and collapsing spaces) of a written reason:
// enough for a sentence such as "Balance above 8 weeks' contingency", too many for "surplus".
const MinLength = 20

// MaxLength is the most characters a reason may have (the API's maxLength for reasons).
const MaxLength = 2000

// ErrRequired is a decision about money without a written reason: a business rule (422), not a
// malformed request, because the request is well formed and the rule is the council's duty to
// give reasons.
var ErrRequired = apperr.New(apperr.RuleViolation, "reason-required",
	"a decision about money needs a written reason that says why")

// Require is Check as a rule: the cleaned reason, or ErrRequired naming the field and what is
// wrong with it.
func Require(pointer, text string) (string, error) {
	clean, fe := Check(pointer, text)
	if fe != nil {
		e := ErrRequired.WithMessage("%s", fe.Message)
		e.Fields = []apperr.FieldError{*fe}
		return "", e
	}
	return clean, nil
}

// Check trims text, collapses runs of white space to one space and returns it, or a field error at
// pointer (a JSON Pointer such as "/reason") naming the rule it breaks: blank, too short, too long,
// or holding control characters.
func Check(pointer, text string) (string, *apperr.FieldError) {
	clean := strings.Join(strings.Fields(text), " ")
	fail := func(code, msg string) (string, *apperr.FieldError) {
		return "", &apperr.FieldError{Field: pointer, In: "body", Code: code, Message: msg}
	}
	n := utf8.RuneCountInString(clean)
	switch {
	case n == 0:
		return fail("reason_required", "a written reason is required")
	case strings.IndexFunc(clean, unicode.IsControl) >= 0:
		return fail("text", "the reason must not contain control characters")
	case n < MinLength:
		return fail("reason_too_short", fmt.Sprintf("the reason must say why in at least %d characters (it has %d)", MinLength, n))
	case n > MaxLength:
		return fail("reason_too_long", fmt.Sprintf("the reason may have at most %d characters", MaxLength))
	}
	return clean, nil
}
