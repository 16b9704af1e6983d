package vrm

import "testing"

func TestEditDistance(t *testing.T) {
	for _, c := range []struct {
		a, b string
		want int
	}{
		{"", "", 0}, {"AB12CDE", "AB12CDE", 0}, {"AB12CDE", "A812CDE", 1}, {"AB12CDE", "AB12CD", 1},
		{"AB12CDE", "XAB12CDE", 1}, {"M49XNL", "SYW740X", 7}, {"", "ABC", 3}, {"B21GSB", "21GSBB", 2},
	} {
		if got := EditDistance(c.a, c.b); got != c.want {
			t.Errorf("EditDistance(%q, %q) = %d, want %d", c.a, c.b, got, c.want)
		}
		if got := EditDistance(c.b, c.a); got != c.want {
			t.Errorf("EditDistance(%q, %q) = %d, want %d", c.b, c.a, got, c.want)
		}
	}
}
