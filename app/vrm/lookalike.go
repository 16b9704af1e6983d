package vrm

// The OCR look-alike classes of DESIGN.md: characters within a class are
// confused by recognisers (and by people) on the UK plate font, so a read
// that differs from a hot-list mark only within classes may be that mark.
//
//	0 O D Q   1 I L   8 B   5 S   2 Z   6 G   4 A   7 T
//
// Fold maps each character to its class's representative, the digit.
var foldTable = func() [256]byte {
	var t [256]byte
	for i := range t {
		t[i] = byte(i)
	}
	for _, class := range []string{"0ODQ", "1IL", "8B", "5S", "2Z", "6G", "4A", "7T"} {
		for i := 0; i < len(class); i++ {
			t[class[i]] = class[0]
		}
	}
	return t
}()

// Fold returns the representative of c's look-alike class: the class's digit
// for 0/O/D/Q, 1/I/L, 8/B, 5/S, 2/Z, 6/G, 4/A and 7/T, and c itself for every
// other byte. Two marks of equal length whose folded forms are equal differ
// only by look-alike swaps.
func Fold(c byte) byte { return foldTable[c] }

// FoldString applies Fold to every byte of a normalised mark.
func FoldString(s string) string {
	b := []byte(s)
	changed := false
	for i, c := range b {
		if f := foldTable[c]; f != c {
			b[i], changed = f, true
		}
	}
	if !changed {
		return s
	}
	return string(b)
}

// Lookalike compares a read with a mark. It reports ok when both have the
// same length and differ only within look-alike classes, and returns the
// positions that differ (none when a == b). Callers decide how many swaps
// they accept; DESIGN.md allows one or two.
func Lookalike(read, mark string) (diff []int, ok bool) {
	if len(read) != len(mark) {
		return nil, false
	}
	for i := 0; i < len(read); i++ {
		if read[i] == mark[i] {
			continue
		}
		if foldTable[read[i]] != foldTable[mark[i]] {
			return nil, false
		}
		diff = append(diff, i)
	}
	return diff, true
}
