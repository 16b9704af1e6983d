package vrm

import (
	"time"

	"github.com/ukanpr/anpr/app"
)

// The rules Classify applies, with where each comes from.
//
// Current format, since 1 September 2001 (DVLA INF104): two-letter memory
// tag, two-digit age identifier, three random letters, e.g. "BD51 SMR".
//   - Memory tag: the first letter is a region mnemonic (A Anglia,
//     B Birmingham, C Cymru, D Deeside, E Essex, F Forest and Fens, G Garden
//     of England, H Hampshire and Dorset, K Milton Keynes/Luton,
//     L London, M Manchester, N North, O Oxford, P Preston, R Reading,
//     S Scotland, V Severn Valley, W West of England, Y Yorkshire; X is
//     issued to personal exports). I, J, Q, T, U and Z are not region
//     letters; I, Q and Z never appear in the memory tag.
//   - Age identifier: from 1 March of year 20YY the identifier is YY, from
//     1 September it is YY+50 (51 from September 2001, 02 from March 2002,
//     …, 50 from March 2050 and 00 from September 2050). 01 was never
//     issued (March 2001 still used the Y prefix). An identifier that has
//     not been issued yet at the time of the read is not valid.
//   - Random letters: I and Q are not used; Z is.
//
// Prefix format, August 1983 – August 2001: a year letter, 1–3 digits
// (1–999), three letters, e.g. "A123 BCD". Year letters run A … Y without I,
// O, Q, U and Z; Q prefixes go to vehicles of unknown age and are not
// classed here. The three letters are a serial letter and a two-letter area
// code; I, Q and Z are not used in them (I and Z are Irish).
//
// Suffix format, 1963 – July 1983: three letters, 1–3 digits, a year letter,
// e.g. "ABC 123D"; the same letters withheld as for the prefix format.
//
// Dateless (GB), 1903 – 1963 and cherished transfers since: one to three
// letters and 1–9999 (three letters with at most three digits), or the
// reversed sequences (digits first) from the 1950s; no I, Q or Z (those are
// Irish or special) and no leading zero.
//
// Northern Ireland: a two-letter county code containing I or Z (AZ … YZ and
// IA, IB, IG, IJ, IL, IW, JI, OI, UI, XI) with 1–9999, optionally preceded
// by a serial letter ("AXX 1234" since 1966, e.g. "AIW 1", "ABZ 1234"), or a
// reversed sequence such as "1 IA" (1958 on).

// currentRegion holds the first letters of current-format memory tags.
var currentRegion = letterSet("ABCDEFGHKLMNOPRSVWXY")

// tagSecond holds the second letters of current-format memory tags.
var tagSecond = letterSetExcept("IQZ")

// randomLetters holds the letters of the current format's random part.
var randomLetters = letterSetExcept("IQ")

// yearLetters holds the prefix and suffix year letters.
var yearLetters = letterSetExcept("IOQUZ")

// gbLetters holds the letters of GB prefix, suffix and dateless series.
var gbLetters = letterSetExcept("IQZ")

// niSerial holds the serial letters of NI "AXX 1234" marks.
var niSerial = letterSetExcept("IQ")

// niCodes holds the Northern Ireland county and city codes.
var niCodes = map[string]bool{}

func init() {
	for _, c := range []string{
		"AZ", "BZ", "CZ", "DZ", "EZ", "FZ", "GZ", "HZ", "IA", "IB", "IG", "IJ",
		"IL", "IW", "JI", "JZ", "KZ", "LZ", "MZ", "NZ", "OI", "OZ", "PZ", "RZ",
		"SZ", "TZ", "UI", "UZ", "VZ", "WZ", "XI", "XZ", "YZ",
	} {
		niCodes[c] = true
	}
}

type set [26]bool

func letterSet(letters string) set {
	var s set
	for i := 0; i < len(letters); i++ {
		s[letters[i]-'A'] = true
	}
	return s
}

func letterSetExcept(letters string) set {
	var s set
	for i := range s {
		s[i] = true
	}
	for i := 0; i < len(letters); i++ {
		s[letters[i]-'A'] = false
	}
	return s
}

func (s *set) has(c byte) bool { return c >= 'A' && c <= 'Z' && s[c-'A'] }

func (s *set) all(str string) bool {
	for i := 0; i < len(str); i++ {
		if !s.has(str[i]) {
			return false
		}
	}
	return true
}

// AgeIdentifierIssued reports whether the current-format age identifier id
// (0–99) had been issued at t. Dates are taken in UTC: a read in the first
// hour of 1 March or 1 September, UK summer time, is judged by the day
// before, which only matters for a brand-new identifier's first hour.
func AgeIdentifierIssued(id int, t time.Time) bool {
	var year int
	var month time.Month
	switch {
	case id < 0 || id > 99 || id == 1:
		return false
	case id == 0: // September 2050
		year, month = 2050, time.September
	case id <= 50: // March 20YY; 50 is March 2050
		year, month = 2000+id, time.March
	default: // September 20(YY-50)
		year, month = 2000+id-50, time.September
	}
	return !t.UTC().Before(time.Date(year, month, 1, 0, 0, 0, 0, time.UTC))
}

// run is a maximal run of letters or of digits.
type run struct {
	digits bool
	s      string
}

// runs splits a normalised mark into runs; at most 4 are kept, which is
// more than any UK layout has.
func runs(s string) ([]run, bool) {
	var out []run
	for i := 0; i < len(s); {
		d := s[i] >= '0' && s[i] <= '9'
		j := i + 1
		for j < len(s) && (s[j] >= '0' && s[j] <= '9') == d {
			j++
		}
		if len(out) == 4 {
			return nil, false
		}
		out = append(out, run{digits: d, s: s[i:j]})
		i = j
	}
	return out, true
}

// serial reports whether a digit run is a serial number 1…max with no
// leading zero.
func serial(s string, maxDigits int) bool {
	return len(s) >= 1 && len(s) <= maxDigits && s[0] != '0'
}

// Classify returns the format of a mark at time now (which decides the
// latest valid current-format age identifier). The mark is normalised first,
// so "bd51 smr" and "BD51SMR" are the same. Marks of no UK layout, and UK
// layouts using letters or age identifiers that were never issued, are
// app.FormatUnknown.
func Classify(mark string, now time.Time) app.Format {
	s := Normalize(mark)
	rs, ok := runs(s)
	if !ok || len(rs) == 0 {
		return app.FormatUnknown
	}
	switch len(rs) {
	case 3:
		a, b, c := rs[0], rs[1], rs[2]
		if a.digits || !b.digits || c.digits {
			return app.FormatUnknown
		}
		if isCurrent(a.s, b.s, c.s, now) {
			return app.FormatCurrent
		}
		if len(a.s) == 1 && yearLetters.has(a.s[0]) && serial(b.s, 3) &&
			len(c.s) == 3 && gbLetters.all(c.s) {
			return app.FormatPrefix
		}
		if len(a.s) == 3 && gbLetters.all(a.s) && serial(b.s, 3) &&
			len(c.s) == 1 && yearLetters.has(c.s[0]) {
			return app.FormatSuffix
		}
	case 2:
		a, b := rs[0], rs[1]
		letters, digits := a.s, b.s
		if a.digits {
			letters, digits = b.s, a.s
		}
		if a.digits == b.digits || !serial(digits, 4) {
			return app.FormatUnknown
		}
		if isNI(letters) && (!a.digits || len(letters) == 2) {
			return app.FormatNI // reversed NI sequences have no serial letter
		}
		if !gbLetters.all(letters) {
			return app.FormatUnknown
		}
		switch {
		case len(letters) <= 2:
			return app.FormatDateless
		case len(letters) == 3 && len(digits) <= 3:
			return app.FormatDateless
		}
	}
	return app.FormatUnknown
}

func isCurrent(tag, age, random string, now time.Time) bool {
	if len(tag) != 2 || len(age) != 2 || len(random) != 3 {
		return false
	}
	if !currentRegion.has(tag[0]) || !tagSecond.has(tag[1]) || !randomLetters.all(random) {
		return false
	}
	return AgeIdentifierIssued(int(age[0]-'0')*10+int(age[1]-'0'), now)
}

// isNI reports whether a letter run is a Northern Ireland code, with or
// without a serial letter in front.
func isNI(letters string) bool {
	switch len(letters) {
	case 2:
		return niCodes[letters]
	case 3:
		return niSerial.has(letters[0]) && niCodes[letters[1:]]
	}
	return false
}

// Valid reports whether a mark has a UK layout at time now.
func Valid(mark string, now time.Time) bool {
	return Classify(mark, now) != app.FormatUnknown
}
