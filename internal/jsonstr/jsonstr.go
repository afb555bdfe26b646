// Package jsonstr appends a Go string to a buffer as a JSON string, as the standard library's
// encoders write it, without reflection: the request log line (slog's JSON handler's strings) and
// the hand-encoded person bodies (encoding/json's) share it. Each caller's property test checks
// its output byte for byte against the encoder it stands in for.
package jsonstr

import "unicode/utf8"

// Style is which standard encoder's strings to write.
type Style uint8

const (
	// Slog is log/slog's JSON handler: \n \r \t short, other control characters as \u00XX, no
	// HTML escaping.
	Slog Style = iota
	// EncodingJSON is encoding/json with its HTML escaping: \b \f \n \r \t short, <, > and & as
	// \u003c \u003e \u0026.
	EncodingJSON
)

// Append appends s to b as a JSON string in the style: quotes, backslashes and control
// characters escaped, invalid UTF-8 as \ufffd, U+2028 and U+2029 escaped.
func Append(b []byte, s string, style Style) []byte {
	const hex = "0123456789abcdef"
	html := style == EncodingJSON
	b = append(b, '"')
	start := 0
	for i := 0; i < len(s); {
		if c := s[i]; c < utf8.RuneSelf {
			if c >= 0x20 && c != '"' && c != '\\' && (!html || c != '<' && c != '>' && c != '&') {
				i++
				continue
			}
			b = append(b, s[start:i]...)
			switch {
			case c == '\\' || c == '"':
				b = append(b, '\\', c)
			case c == '\b' && html:
				b = append(b, '\\', 'b')
			case c == '\f' && html:
				b = append(b, '\\', 'f')
			case c == '\n':
				b = append(b, '\\', 'n')
			case c == '\r':
				b = append(b, '\\', 'r')
			case c == '\t':
				b = append(b, '\\', 't')
			default:
				b = append(b, '\\', 'u', '0', '0', hex[c>>4], hex[c&0xF])
			}
			i++
			start = i
			continue
		}
		r, size := utf8.DecodeRuneInString(s[i:])
		if r == utf8.RuneError && size == 1 {
			b = append(b, s[start:i]...)
			b = append(b, `\ufffd`...)
			i += size
			start = i
			continue
		}
		if r == '\u2028' || r == '\u2029' {
			b = append(b, s[start:i]...)
			b = append(b, '\\', 'u', '2', '0', '2', hex[r&0xF])
			i += size
			start = i
			continue
		}
		i += size
	}
	b = append(b, s[start:]...)
	return append(b, '"')
}
