package hotlist

import "github.com/ukanpr/anpr/app/vrm"

// A key packs a normalised mark of up to maxKeyLen characters into a uint64:
// 6 bits per character, first character in the highest used bits, unused
// positions zero. Numeric order of keys is then lexicographic order of the
// marks (shorter sorts first among equal prefixes), and the first few
// characters can index a bucket table.
const (
	maxKeyLen  = 10
	bitsPerChr = 6
	topShift   = (maxKeyLen - 1) * bitsPerChr // shift of the first character
	bucketBits = 3 * bitsPerChr               // buckets by the first three characters
	bucketSh   = maxKeyLen*bitsPerChr - bucketBits
	numBuckets = 1 << bucketBits
)

// code maps a plate character to 1…36 ('0'…'9', 'A'…'Z'); 0 is "none".
var code = func() [256]uint8 {
	var t [256]uint8
	for c := '0'; c <= '9'; c++ {
		t[c] = uint8(c-'0') + 1
	}
	for c := 'A'; c <= 'Z'; c++ {
		t[c] = uint8(c-'A') + 11
	}
	return t
}()

// char is the inverse of code.
var char = func() [64]byte {
	var t [64]byte
	for c := 0; c < 256; c++ {
		if code[c] != 0 {
			t[code[c]] = byte(c)
		}
	}
	return t
}()

// foldPair folds two packed characters (12 bits) at once, so folding a key
// costs five table look-ups.
var foldPair = func() [1 << 12]uint16 {
	var t [1 << 12]uint16
	fold := func(c uint16) uint16 {
		if c == 0 || c > 36 {
			return c
		}
		return uint16(code[vrm.Fold(char[c])])
	}
	for p := range t {
		hi, lo := uint16(p>>6), uint16(p&63)
		t[p] = fold(hi)<<6 | fold(lo)
	}
	return t
}()

// pack returns the key of a normalised mark, or false when it is empty,
// longer than maxKeyLen, or has a character outside A–Z, 0–9.
func pack(s string) (uint64, bool) {
	if len(s) == 0 || len(s) > maxKeyLen {
		return 0, false
	}
	var k uint64
	for i := 0; i < len(s); i++ {
		c := code[s[i]]
		if c == 0 {
			return 0, false
		}
		k |= uint64(c) << (topShift - bitsPerChr*i)
	}
	return k, true
}

// unpack returns the mark of a key.
func unpack(k uint64) string {
	var b [maxKeyLen]byte
	n := 0
	for i := 0; i < maxKeyLen; i++ {
		c := (k >> (topShift - bitsPerChr*i)) & 63
		if c == 0 {
			break
		}
		b[n] = char[c]
		n++
	}
	return string(b[:n])
}

// foldKey folds every character of a key to its look-alike class.
func foldKey(k uint64) uint64 {
	return uint64(foldPair[k>>48&0xfff])<<48 |
		uint64(foldPair[k>>36&0xfff])<<36 |
		uint64(foldPair[k>>24&0xfff])<<24 |
		uint64(foldPair[k>>12&0xfff])<<12 |
		uint64(foldPair[k&0xfff])
}

// bucketOf is the bucket of a folded key.
func bucketOf(f uint64) uint32 { return uint32(f >> bucketSh) }

// keyDiff returns the character positions where two keys differ.
func keyDiff(a, b uint64) (n int, pos [maxKeyLen]int8) {
	x := a ^ b
	for i := 0; x != 0 && i < maxKeyLen; i++ {
		sh := topShift - bitsPerChr*i
		if (x>>sh)&63 != 0 {
			pos[n] = int8(i)
			n++
			x &^= 63 << sh
		}
	}
	return n, pos
}
