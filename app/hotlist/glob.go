package hotlist

// glob reports whether s matches pattern, where `*` matches any run of
// characters (including none) and `?` exactly one; every other byte matches
// itself. It runs in O(len(pattern)·len(s)) at worst and allocates nothing:
// on a mismatch it backtracks only to the latest `*`, which is enough because
// an earlier star can never need to absorb more.
func glob(pattern, s string) bool {
	p, i := 0, 0
	star, mark := -1, 0
	for i < len(s) {
		switch {
		case p < len(pattern) && pattern[p] == '*':
			star, mark = p, i
			p++
		case p < len(pattern) && (pattern[p] == '?' || pattern[p] == s[i]):
			p++
			i++
		case star >= 0:
			mark++
			p, i = star+1, mark
		default:
			return false
		}
	}
	for p < len(pattern) && pattern[p] == '*' {
		p++
	}
	return p == len(pattern)
}
