package vision

import (
	"testing"
	"time"

	"github.com/ukanpr/anpr/app"
)

func TestRegionApply(t *testing.T) {
	now := time.Date(2026, 11, 21, 0, 0, 0, 0, time.UTC)
	reading := func(text string, conf float64, alts ...app.Candidate) Reading {
		cc := make([]float64, len(text))
		for i := range cc {
			cc[i] = 0.95
		}
		return Reading{Text: text, Confidence: conf, CharConf: cc,
			Candidates: append([]app.Candidate{{Text: text, Confidence: conf}}, alts...)}
	}
	for _, tc := range []struct {
		name       string
		region     Region
		r          Reading
		wantText   string
		wantFormat app.Format
		wantSecond string // second candidate, if any
	}{
		{"gb current as read", RegionGB, reading("BD51SMR", 0.97), "BD51SMR", app.FormatCurrent, ""},
		{"gb repairs an O in the age digits", RegionGB, reading("BD5ISMR", 0.9), "BD51SMR", app.FormatCurrent, ""},
		{"gb prefers a valid beam candidate", RegionGB,
			reading("BD51SMP1", 0.6, app.Candidate{Text: "BD51SMP", Confidence: 0.3}), "BD51SMP", app.FormatCurrent, "BD51SMP1"},
		{"gb keeps a foreign plate as read", RegionGB, reading("IF10KAX", 0.95), "IF10KAX", app.FormatUnknown, ""},
		{"gb classifies a foreign plate that is also a UK prefix mark", RegionGB, reading("B21GSB", 0.95), "B21GSB", app.FormatPrefix, ""},
		{"gb ignores an unlikely valid candidate", RegionGB,
			reading("IF10KAX", 0.95, app.Candidate{Text: "BF10KAX", Confidence: 0.01}), "IF10KAX", app.FormatUnknown, "BF10KAX"},
		{"any reads without rules", RegionAny, reading("BD5ISMR", 0.9), "BD5ISMR", app.FormatUnknown, ""},
		{"any still classifies a UK mark", RegionAny, reading("BD51SMR", 0.9), "BD51SMR", app.FormatCurrent, ""},
		{"any two-line foreign", RegionAny, reading("B089414", 0.8), "B089414", app.FormatUnknown, ""},
	} {
		t.Run(tc.name, func(t *testing.T) {
			g := tc.region.apply(tc.r, now, 5)
			if g.Text != tc.wantText || g.Format != tc.wantFormat {
				t.Fatalf("apply = %q %s, want %q %s", g.Text, g.Format, tc.wantText, tc.wantFormat)
			}
			if len(g.CharConf) != len(g.Text) || g.Candidates[0].Text != g.Text {
				t.Errorf("char confidences %v / candidates %v do not follow text %q", g.CharConf, g.Candidates, g.Text)
			}
			if tc.wantSecond != "" && (len(g.Candidates) < 2 || g.Candidates[1].Text != tc.wantSecond) {
				t.Errorf("candidates %v, want %s second", g.Candidates, tc.wantSecond)
			}
		})
	}
}

func TestParseRegion(t *testing.T) {
	for _, s := range []string{"gb", "any"} {
		if r, err := ParseRegion(s); err != nil || string(r) != s {
			t.Errorf("ParseRegion(%q) = %v, %v", s, r, err)
		}
	}
	if _, err := ParseRegion("eu"); err == nil {
		t.Error("ParseRegion(eu) accepted")
	}
}
