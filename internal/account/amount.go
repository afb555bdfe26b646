package account

import (
	"errors"
	"strconv"
	"strings"
)

// Unit is how a statement writes amounts.
type Unit string

// The units of amounts.
const (
	Pounds Unit = "pounds" // "1,234.56", "12.3", "12": decimal pounds, at most two places
	Pence  Unit = "pence"  // "123456": whole pence
)

// SignConvention says which way a single amount column counts.
type SignConvention string

// The sign conventions of a single amount column.
const (
	OutNegative SignConvention = "out_negative" // money out is negative (most banks: "-12.34")
	OutPositive SignConvention = "out_positive" // money out is positive, money in negative (many card exports)
)

var errAmount = errors.New("not an amount")

// parseAmount reads an amount exactly, never through a float: an optional sign ("-", "+", or
// the whole in parentheses as accountants write a debit), an optional "£", digits with optional
// thousands separators in groups of three, and in pounds at most two decimal places. The result is
// pence, within ±MaxAmount.
func parseAmount(s string, unit Unit) (int64, error) {
	s = strings.TrimSpace(s)
	neg := false
	if strings.HasPrefix(s, "(") && strings.HasSuffix(s, ")") {
		neg, s = true, strings.TrimSpace(s[1:len(s)-1])
	}
	if s != "" && (s[0] == '-' || s[0] == '+') {
		if neg && s[0] == '-' { // "(-1.00)" is not a way to write anything
			return 0, errAmount
		}
		neg = neg || s[0] == '-'
		s = strings.TrimSpace(s[1:])
	}
	s = strings.TrimPrefix(s, "£")
	whole, frac, hasFrac := strings.Cut(s, ".")
	if unit == Pence && hasFrac {
		return 0, errAmount
	}
	if hasFrac && (len(frac) == 0 || len(frac) > 2 || !digits(frac)) {
		return 0, errAmount
	}
	if strings.Contains(whole, ",") {
		groups := strings.Split(whole, ",")
		for i, g := range groups {
			if (i == 0 && (len(g) == 0 || len(g) > 3)) || (i > 0 && len(g) != 3) {
				return 0, errAmount
			}
		}
		whole = strings.Join(groups, "")
	}
	if whole == "" || !digits(whole) || len(whole) > 12 {
		return 0, errAmount
	}
	w, err := strconv.ParseInt(whole, 10, 64)
	if err != nil {
		return 0, errAmount
	}
	var p int64
	switch unit {
	case Pence:
		p = w
	default:
		f := int64(0)
		if hasFrac {
			if len(frac) == 1 {
				frac += "0"
			}
			f, _ = strconv.ParseInt(frac, 10, 64) // digits only, two of them
		}
		if w > MaxAmount/100 {
			return 0, errAmount
		}
		p = w*100 + f
	}
	if p > MaxAmount {
		return 0, errAmount
	}
	if neg {
		p = -p
	}
	return p, nil
}

func digits(s string) bool {
	for i := 0; i < len(s); i++ {
		if s[i] < '0' || s[i] > '9' {
			return false
		}
	}
	return s != ""
}
