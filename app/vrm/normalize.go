// Package vrm holds the rules of UK vehicle registration marks (VRMs): how a
// mark is normalised, which layout (format) it has, which OCR look-alike
// characters may be confused, and how a misread mark is repaired position by
// position.
//
// Every function works on normalised text: upper-case ASCII letters and
// digits only, no spaces. Normalize and Parse turn outside text (OCR output,
// hot-list CSV cells) into that form; Classify and Repair accept either.
//
// Sources for the rules (see format.go for the detail):
//   - DVLA leaflet INF104 "Vehicle registration numbers and number plates"
//     (https://www.gov.uk/government/publications/vehicle-registration-numbers-and-number-plates):
//     current format, memory tags, age identifiers.
//   - Wikipedia, "Vehicle registration plates of the United Kingdom" and
//     "Vehicle registration plates of Northern Ireland": prefix, suffix,
//     dateless and NI series; NI county codes; "AXX 1234" since 1966, "1 IA"
//     reversed marks from 1958, "AIW 1" the last county to adopt serials.
//   - Registration dealers' format guides (e.g. nationalnumbers.co.uk
//     "Number plate formats explained"): the letters I, O, Q, U and Z are
//     never prefix or suffix year letters; Q marks are for vehicles of
//     unknown age; I and Z are Irish.
package vrm

import (
	"errors"
	"fmt"
	"strings"
	"unicode"
	"unicode/utf8"
)

// Limits on normalised text.
const (
	// MaxLen is the longest normalised mark accepted from a hot list. UK
	// marks have at most 7 characters; foreign marks rarely exceed 10.
	MaxLen = 10
	// MaxPatternLen is the longest normalised wildcard pattern accepted.
	MaxPatternLen = 16
	// MinPatternLiterals is how many non-wildcard characters a pattern
	// needs, so that "*" or "?*" cannot match every read.
	MinPatternLiterals = 2
)

// Errors from Parse and ParsePattern.
var (
	ErrEmpty       = errors.New("registration mark is empty")
	ErrInvalidChar = errors.New("registration mark has a character that is not a letter, digit or separator")
	ErrTooLong     = errors.New("registration mark is too long")
	ErrPattern     = errors.New("pattern has too few letters or digits")
)

// lookalikeRunes maps non-ASCII letters and digits that render like an ASCII
// plate character to that character. Lower-case forms are handled by
// upper-casing first.
var lookalikeRunes = map[rune]byte{
	// Cyrillic capitals that look like Latin ones.
	'А': 'A', 'В': 'B', 'Е': 'E', 'Ѕ': 'S', 'І': 'I', 'Ј': 'J', 'К': 'K',
	'М': 'M', 'Н': 'H', 'О': 'O', 'Р': 'P', 'С': 'C', 'Т': 'T', 'У': 'Y',
	'Х': 'X', 'Ү': 'Y', 'Ԛ': 'Q', 'Ԝ': 'W', 'Ӏ': 'I',
	// Greek capitals that look like Latin ones.
	'Α': 'A', 'Β': 'B', 'Ε': 'E', 'Ζ': 'Z', 'Η': 'H', 'Ι': 'I', 'Κ': 'K',
	'Μ': 'M', 'Ν': 'N', 'Ο': 'O', 'Ρ': 'P', 'Τ': 'T', 'Υ': 'Y', 'Χ': 'X',
}

// foldRune maps one rune to an ASCII plate character, or returns 0.
func foldRune(r rune) byte {
	if r < utf8.RuneSelf {
		switch {
		case r >= 'A' && r <= 'Z', r >= '0' && r <= '9':
			return byte(r)
		case r >= 'a' && r <= 'z':
			return byte(r - 'a' + 'A')
		}
		return 0
	}
	switch {
	case r >= 'Ａ' && r <= 'Ｚ': // fullwidth capitals
		return byte(r - 'Ａ' + 'A')
	case r >= 'ａ' && r <= 'ｚ': // fullwidth small letters
		return byte(r - 'ａ' + 'A')
	case r >= '０' && r <= '９': // fullwidth digits
		return byte(r - '０' + '0')
	}
	if b, ok := lookalikeRunes[r]; ok {
		return b
	}
	if b, ok := lookalikeRunes[unicode.ToUpper(r)]; ok {
		return b
	}
	return 0
}

// isSeparator reports whether r may separate the groups of a mark: white
// space, dashes, dots, underscores, slashes and middle dots.
func isSeparator(r rune) bool {
	switch r {
	case '-', '.', '_', '/', '·', '･', '・', '．', '－', '／':
		return true
	}
	return unicode.IsSpace(r) || unicode.Is(unicode.Pd, r)
}

// isASCIIPlain reports whether s is already normalised (A–Z, 0–9 only).
func isASCIIPlain(s string) bool {
	for i := 0; i < len(s); i++ {
		c := s[i]
		if !(c >= 'A' && c <= 'Z' || c >= '0' && c <= '9') {
			return false
		}
	}
	return true
}

// Normalize returns s as a normalised mark: upper case, look-alike Unicode
// letters and digits (fullwidth forms, Cyrillic and Greek capitals that look
// Latin) folded to ASCII, and everything else — spaces, dashes, dots, other
// separators and any character a plate cannot carry — dropped. It is lenient
// on purpose, for OCR output; hot-list input goes through Parse, which
// rejects what Normalize would silently drop.
func Normalize(s string) string {
	if isASCIIPlain(s) {
		return s
	}
	return normalize(s, false)
}

// NormalizePattern is Normalize for hot-list patterns: it also keeps `*` (any
// run of characters) and `?` (exactly one), and collapses runs of `*`.
func NormalizePattern(s string) string {
	return normalize(s, true)
}

func normalize(s string, pattern bool) string {
	var b strings.Builder
	b.Grow(len(s))
	var last byte
	for _, r := range s {
		c := foldRune(r)
		if c == 0 && pattern && (r == '*' || r == '?' || r == '＊' || r == '？') {
			c = byte(r)
			if r == '＊' {
				c = '*'
			} else if r == '？' {
				c = '?'
			}
		}
		if c == 0 || (c == '*' && last == '*') {
			continue
		}
		b.WriteByte(c)
		last = c
	}
	return b.String()
}

// Parse normalises a mark given by a person (a hot-list cell, a command-line
// argument) and checks it: at least one letter or digit, at most MaxLen of
// them, and nothing but letters, digits and separators. Wildcards are
// rejected; use ParsePattern for patterns.
func Parse(s string) (string, error) {
	return parse(s, false)
}

// ParsePattern is Parse for hot-list entries that may be wildcard patterns:
// `*` matches any run of characters, `?` exactly one. A pattern needs at
// least MinPatternLiterals letters or digits and at most MaxPatternLen
// characters. A value without wildcards is checked as by Parse.
func ParsePattern(s string) (string, error) {
	return parse(s, true)
}

func parse(s string, pattern bool) (string, error) {
	if !utf8.ValidString(s) {
		return "", fmt.Errorf("%w: not valid UTF-8", ErrInvalidChar)
	}
	var b strings.Builder
	wild, literals := false, 0
	var last byte
	for _, r := range s {
		c := foldRune(r)
		switch {
		case c != 0:
			literals++
		case pattern && (r == '*' || r == '＊'):
			c, wild = '*', true
		case pattern && (r == '?' || r == '？'):
			c, wild = '?', true
		case isSeparator(r):
			continue
		default:
			return "", fmt.Errorf("%w: %q", ErrInvalidChar, r)
		}
		if c == '*' && last == '*' {
			continue
		}
		b.WriteByte(c)
		last = c
		if b.Len() > MaxPatternLen {
			return "", fmt.Errorf("%w: more than %d characters", ErrTooLong, MaxPatternLen)
		}
	}
	out := b.String()
	switch {
	case out == "":
		return "", ErrEmpty
	case wild && literals < MinPatternLiterals:
		return "", fmt.Errorf("%w: %q needs at least %d", ErrPattern, out, MinPatternLiterals)
	case !wild && len(out) > MaxLen:
		return "", fmt.Errorf("%w: %d characters, at most %d", ErrTooLong, len(out), MaxLen)
	}
	return out, nil
}

// IsPattern reports whether a normalised value contains a wildcard.
func IsPattern(s string) bool {
	for i := 0; i < len(s); i++ {
		if s[i] == '*' || s[i] == '?' {
			return true
		}
	}
	return false
}
