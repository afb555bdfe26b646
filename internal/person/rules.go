package person

import (
	"net/mail"
	"regexp"
	"strings"
	"unicode"
)

// NormalizeNHSNumber strips spaces from an NHS number and checks its modulus-11 check digit: the
// first nine digits weighted 10 down to 2, summed; 11 minus the remainder mod 11 is the check
// digit, where 11 means 0 and 10 means the number is invalid.
func NormalizeNHSNumber(s string) (string, bool) {
	n := strings.ReplaceAll(s, " ", "")
	if len(n) != 10 {
		return "", false
	}
	sum := 0
	for i := range 10 {
		c := n[i]
		if c < '0' || c > '9' {
			return "", false
		}
		if i < 9 {
			sum += int(c-'0') * (10 - i)
		}
	}
	check := 11 - sum%11
	if check == 11 {
		check = 0
	}
	if check == 10 || check != int(n[9]-'0') {
		return "", false
	}
	return n, true
}

// The UK postcode format (outward code, then a digit and two letters), after removing spaces and
// upper-casing; GIR 0AA is the one historic exception.
var postcodeRE = regexp.MustCompile(`^(GIR0AA|[A-PR-UWYZ](?:[0-9]{1,2}|[A-HK-Y][0-9]{1,2}|[0-9][A-HJKPSTUW]|[A-HK-Y][0-9][ABEHMNPRVWXY])[0-9][ABD-HJLNP-UW-Z]{2})$`)

// NormalizePostcode validates a UK postcode and returns it upper case with one space before the
// inward code ("lu12bq" → "LU1 2BQ").
func NormalizePostcode(s string) (string, bool) {
	compact := strings.ToUpper(strings.Join(strings.Fields(s), ""))
	if !postcodeRE.MatchString(compact) {
		return "", false
	}
	return compact[:len(compact)-3] + " " + compact[len(compact)-3:], true
}

// cleanText trims s and reports whether it is non-empty and free of control characters.
func cleanText(s string) (string, bool) {
	s = strings.TrimSpace(s)
	if s == "" {
		return "", false
	}
	for _, r := range s {
		if unicode.IsControl(r) {
			return "", false
		}
	}
	return s, true
}

// validEmail accepts a bare address (no display name).
func validEmail(s string) bool {
	a, err := mail.ParseAddress(s)
	return err == nil && a.Address == s && a.Name == ""
}
