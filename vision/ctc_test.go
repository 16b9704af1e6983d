package vision

import (
	"math"
	"strings"
	"testing"
)

// logits builds T frames of log-probs from a spec per frame: "A" puts 0.9 on
// A, "-" on the blank, "A:0.6,B:0.3" splits as given; what is left is spread
// over the other classes.
func logits(frames ...string) []float32 {
	out := make([]float32, 0, len(frames)*numClasses)
	for _, f := range frames {
		p := make([]float64, numClasses)
		used := 0.0
		for _, part := range strings.Split(f, ",") {
			name, prob := part, 0.9
			if i := strings.IndexByte(part, ':'); i >= 0 {
				name = part[:i]
				prob = mustFloat(part[i+1:])
			}
			p[class(name)] = prob
			used += prob
		}
		rest := (1 - used) / float64(numClasses)
		for c := range p {
			out = append(out, float32(math.Log(p[c]+rest)))
		}
	}
	return out
}

func class(name string) int {
	if name == "-" {
		return 0
	}
	return strings.IndexByte(alphabet, name[0]) + 1
}

func mustFloat(s string) float64 {
	var f float64
	for i, d := 0, 0.0; i < len(s); i++ {
		if s[i] == '.' {
			d = 1
			continue
		}
		if d > 0 {
			d *= 10
			f += float64(s[i]-'0') / d
		} else {
			f = f*10 + float64(s[i]-'0')
		}
	}
	return f
}

func TestGreedyDecode(t *testing.T) {
	for _, tc := range []struct {
		name   string
		frames []string
		want   string
	}{
		{"plain", []string{"-", "A", "-", "B", "1", "-"}, "AB1"},
		{"repeats collapse", []string{"A", "A", "A", "-", "B", "B"}, "AB"},
		{"blank splits a double letter", []string{"L", "-", "L", "-"}, "LL"},
		{"all blank", []string{"-", "-", "-"}, ""},
		{"digits and letters", []string{"B", "-", "2", "1", "-", "G", "S", "B"}, "B21GSB"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			lp := logits(tc.frames...)
			text, conf := greedyDecode(lp, len(tc.frames))
			if text != tc.want || len(conf) != len(text) {
				t.Fatalf("greedy = %q %v, want %q", text, conf, tc.want)
			}
			for _, c := range conf {
				if c < 0.85 || c > 1 {
					t.Errorf("char confidence %v, want ≈0.9", c)
				}
			}
		})
	}
}

func TestBeamDecodeRanksAlternatives(t *testing.T) {
	// The third frame is torn between 0 and O: both readings must be
	// candidates, in the order of their probability.
	lp := logits("-", "B", "-", "0:0.6,O:0.35", "-", "1", "-")
	cands := beamDecode(lp, 7, 8, 5)
	if len(cands) < 2 || cands[0].Text != "B01" || cands[1].Text != "BO1" {
		t.Fatalf("candidates %v, want B01 then BO1", cands)
	}
	if !(cands[0].Confidence > cands[1].Confidence) || cands[0].Confidence > 1 {
		t.Errorf("confidences %v not ordered in 0..1", cands)
	}
	// The probabilities follow the torn frame: about 0.6 : 0.35.
	if r := cands[0].Confidence / cands[1].Confidence; r < 1.4 || r > 2.0 {
		t.Errorf("ratio of the two readings %.2f, want ≈ 0.6/0.35", r)
	}
}

func TestBeamSumsPathsOfOneText(t *testing.T) {
	// "A" emitted over two frames with a blank either side: several paths
	// give "A"; the text's probability is their sum, more than any path.
	lp := logits("A:0.5,-:0.45", "A:0.5,-:0.45")
	cands := beamDecode(lp, 2, 8, 3)
	if cands[0].Text != "A" {
		t.Fatalf("best %v, want A", cands)
	}
	if cands[0].Confidence < 0.7 {
		t.Errorf("P(A) = %.3f, want the sum of its three paths (≈0.72)", cands[0].Confidence)
	}
}

func TestDecodePutsGreedyFirst(t *testing.T) {
	lp := logits("-", "S", "B", "-", "9", "0:0.5,O:0.45", "-", "T", "Z", "I", "-")
	r := decode(lp, 11, 8, 5)
	if r.Text != "SB90TZI" || r.Candidates[0].Text != r.Text || r.Candidates[0].Confidence != r.Confidence {
		t.Fatalf("reading %+v: want greedy SB90TZI first", r)
	}
	if len(r.CharConf) != 7 || r.CharConf[3] > 0.55 {
		t.Errorf("char confidences %v: the torn 0 should be ≈0.5", r.CharConf)
	}
	seen := map[string]bool{}
	for _, c := range r.Candidates {
		if seen[c.Text] {
			t.Errorf("candidate %s twice", c.Text)
		}
		seen[c.Text] = true
	}
	if !seen["SB9OTZI"] {
		t.Errorf("candidates %v lack the O reading", r.Candidates)
	}
}
