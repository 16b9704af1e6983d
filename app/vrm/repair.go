package vrm

import (
	"time"

	"github.com/ukanpr/anpr/app"
)

// Fix is one positional repair Repair made: the character at Pos of the
// normalised read was From and is now To.
type Fix struct {
	Pos      int
	From, To byte
}

// MaxFixes bounds how many characters Repair changes in one mark. Each fix
// is a guess; beyond two the result is more likely a different vehicle than
// the one on the plate.
const MaxFixes = 2

// asDigit lists, for a letter read where a layout needs a digit, the digits
// it may have been (the look-alike classes, letter → digit).
var asDigit = map[byte][]byte{
	'O': {'0'}, 'D': {'0'}, 'Q': {'0'},
	'I': {'1'}, 'L': {'1'},
	'S': {'5'}, 'B': {'8'}, 'Z': {'2'}, 'G': {'6'}, 'A': {'4'}, 'T': {'7'},
}

// asLetter lists, for a digit read where a layout needs a letter, the
// letters it may have been, most likely first. 0 → O before D: on the UK
// plate font the zero is a narrow O. 1 → I only: no repaired layout allows
// I, so a 1 in a letter position is never repaired (1 → L is not a likely
// OCR confusion on this font).
var asLetter = map[byte][]byte{
	'0': {'O', 'D'},
	'1': {'I'},
	'8': {'B'}, '5': {'S'}, '2': {'Z'}, '6': {'G'}, '4': {'A'}, '7': {'T'},
}

// template is a fixed layout Repair can repair into: 'L' a letter, 'D' a
// digit.
type template struct {
	shape  string
	format app.Format
}

// templates, in order of preference. Only the formats with a fixed layout
// are repair targets: dateless and NI marks are so varied that almost any
// short string is one, so "repairing" into them would invent marks.
var templates = []template{
	{"LLDDLLL", app.FormatCurrent},
	{"LDLLL", app.FormatPrefix}, {"LDDLLL", app.FormatPrefix}, {"LDDDLLL", app.FormatPrefix},
	{"LLLDL", app.FormatSuffix}, {"LLLDDL", app.FormatSuffix}, {"LLLDDDL", app.FormatSuffix},
}

// Repair fixes an OCR read whose letters and digits are in the wrong places
// for a UK layout, using the look-alike classes positionally: in a
// current-format read "AB1O CDE" the O sits where the age identifier's digit
// belongs, so it becomes 0; a 0 among the letters becomes O, or D when only D
// gives a valid mark.
//
// Repair is conservative. The read is normalised first; if it is already a
// valid mark of any format (including dateless and Northern Ireland) it is
// returned unchanged. Otherwise each fixed layout (current, prefix, suffix)
// of the same length is tried; a layout counts only when every misplaced
// character has a look-alike that makes the whole mark valid for that
// layout at now, with at most MaxFixes changes. The layout needing fewest
// fixes wins; when two different marks tie, the read is ambiguous and is
// returned unchanged. fixes lists every change, in position order.
func Repair(raw string, now time.Time) (fixed string, fixes []Fix) {
	s := Normalize(raw)
	if Classify(s, now) != app.FormatUnknown {
		return s, nil
	}
	best, bestFixes, tie := "", []Fix(nil), false
	for _, t := range templates {
		if len(t.shape) != len(s) {
			continue
		}
		out, fx, ok := repairInto(s, t, now)
		if !ok {
			continue
		}
		switch {
		case best == "" || len(fx) < len(bestFixes):
			best, bestFixes, tie = out, fx, false
		case len(fx) == len(bestFixes) && out != best:
			tie = true
		}
	}
	if best == "" || tie {
		return s, nil
	}
	return best, bestFixes
}

// repairInto tries to make s fit template t.
func repairInto(s string, t template, now time.Time) (string, []Fix, bool) {
	var pos []int
	var opts [][]byte
	for i := 0; i < len(s); i++ {
		c := s[i]
		isDigit := c >= '0' && c <= '9'
		wantDigit := t.shape[i] == 'D'
		if isDigit == wantDigit {
			continue
		}
		var o []byte
		if wantDigit {
			o = asDigit[c]
		} else {
			o = asLetter[c]
		}
		if len(o) == 0 || len(pos) == MaxFixes {
			return "", nil, false
		}
		pos = append(pos, i)
		opts = append(opts, o)
	}
	if len(pos) == 0 {
		return "", nil, false // s fits the layout's shape but breaks its rules
	}
	b := []byte(s)
	var try func(k int) bool
	try = func(k int) bool {
		if k == len(pos) {
			return Classify(string(b), now) == t.format
		}
		for _, c := range opts[k] {
			b[pos[k]] = c
			if try(k + 1) {
				return true
			}
		}
		return false
	}
	if !try(0) {
		return "", nil, false
	}
	fixes := make([]Fix, len(pos))
	for k, p := range pos {
		fixes[k] = Fix{Pos: p, From: s[p], To: b[p]}
	}
	return string(b), fixes, true
}
