package vrm

import (
	"testing"

	"github.com/ukanpr/anpr/app"
)

var seeds = []string{
	"BD51 SMR", "bd51smr", "ＢＤ５１ ＳＭＲ", "ВD51 SМR", "AB1O CDE", "0123 ABC", "K5S18BC",
	"ABC 123D", "A123 BCD", "ABZ 1234", "1 IA", "AB12*", "?D51SMR", "", "\xff\xfe", "A-B.C_D/E",
	"AB12 C0E", "KSO WTB", "ABC 1238", "ΑΒ12 ΕΚΜ",
}

func isPlain(s string) bool {
	for i := 0; i < len(s); i++ {
		c := s[i]
		if !(c >= 'A' && c <= 'Z' || c >= '0' && c <= '9') {
			return false
		}
	}
	return true
}

func FuzzNormalize(f *testing.F) {
	for _, s := range seeds {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		n := Normalize(s)
		if !isPlain(n) {
			t.Fatalf("Normalize(%q) = %q has characters outside A-Z0-9", s, n)
		}
		if again := Normalize(n); again != n {
			t.Fatalf("Normalize not idempotent: %q -> %q -> %q", s, n, again)
		}
		p := NormalizePattern(s)
		if again := NormalizePattern(p); again != p {
			t.Fatalf("NormalizePattern not idempotent: %q -> %q -> %q", s, p, again)
		}
		if got, err := Parse(s); err == nil {
			if got != n || got == "" || len(got) > MaxLen {
				t.Fatalf("Parse(%q) = %q, Normalize = %q", s, got, n)
			}
		}
		if got, err := ParsePattern(s); err == nil {
			if got != p || got == "" {
				t.Fatalf("ParsePattern(%q) = %q, NormalizePattern = %q", s, got, p)
			}
		}
		if f := FoldString(n); len(f) != len(n) || FoldString(f) != f {
			t.Fatalf("FoldString(%q) = %q", n, f)
		}
	})
}

func FuzzClassify(f *testing.F) {
	for _, s := range seeds {
		f.Add(s, int64(0))
	}
	f.Fuzz(func(t *testing.T, s string, offsetDays int64) {
		at := now.AddDate(0, 0, int(offsetDays%40000))
		got := Classify(s, at)
		if got != Classify(Normalize(s), at) {
			t.Fatalf("Classify(%q) differs from Classify(Normalize)", s)
		}
		if got == app.FormatCurrent && len(Normalize(s)) != 7 {
			t.Fatalf("current-format mark %q is not 7 characters", s)
		}
	})
}

func FuzzRepair(f *testing.F) {
	for _, s := range seeds {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		n := Normalize(s)
		fixed, fixes := Repair(s, now)
		if len(fixes) == 0 {
			if fixed != n {
				t.Fatalf("Repair(%q) changed the mark to %q without reporting a fix", s, fixed)
			}
			return
		}
		if Classify(n, now) != app.FormatUnknown {
			t.Fatalf("Repair(%q) changed an already valid mark", s)
		}
		if Classify(fixed, now) == app.FormatUnknown {
			t.Fatalf("Repair(%q) = %q, which is not a valid mark", s, fixed)
		}
		if len(fixes) > MaxFixes || len(fixed) != len(n) {
			t.Fatalf("Repair(%q) = %q with %d fixes", s, fixed, len(fixes))
		}
		changed := 0
		for i := range n {
			if n[i] != fixed[i] {
				changed++
			}
		}
		if changed != len(fixes) {
			t.Fatalf("Repair(%q) changed %d characters but reported %d", s, changed, len(fixes))
		}
		for _, x := range fixes {
			if n[x.Pos] != x.From || fixed[x.Pos] != x.To || Fold(x.From) != Fold(x.To) {
				t.Fatalf("Repair(%q) reported fix %+v inconsistent with %q -> %q", s, x, n, fixed)
			}
		}
		if again, more := Repair(fixed, now); again != fixed || more != nil {
			t.Fatalf("Repair not idempotent: %q -> %q -> %q", s, fixed, again)
		}
	})
}
