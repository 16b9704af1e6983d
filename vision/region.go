package vision

import (
	"fmt"
	"sort"
	"time"

	"github.com/ukanpr/anpr/app"
	"github.com/ukanpr/anpr/app/vrm"
)

// Region is the set of registration rules applied to what the recogniser
// reads.
type Region string

// Regions.
const (
	// RegionGB applies the UK rules of app/vrm: texts are repaired into
	// valid UK marks where the look-alike classes allow, valid marks are
	// preferred among the candidates, and the format is reported. A plate
	// that is no UK mark (a foreign vehicle) is still reported, as read,
	// with format unknown.
	RegionGB Region = "gb"
	// RegionAny reads any single- or two-line plate of Latin letters and
	// digits as the model reads it, without format rules; the format is
	// still reported when the text happens to be a UK mark.
	RegionAny Region = "any"
)

// ParseRegion checks a --region value.
func ParseRegion(s string) (Region, error) {
	switch Region(s) {
	case RegionGB, RegionAny:
		return Region(s), nil
	}
	return "", fmt.Errorf("region %q is not one of gb, any", s)
}

// repairPenalty scales a candidate's confidence for each character Repair
// changed: a repaired mark is a guess backed by the layout, not by the pixels.
const repairPenalty = 0.8

// preferValid is how much less likely than the best raw reading a valid UK
// mark may be and still be preferred to it in RegionGB. Not much: foreign
// vehicles must be read as they are, and a look-alike hot-list match already
// searches every candidate (0.1 turned a foreign IF10KAX read at 0.64 into
// a UK VF10KAX at 0.07).
const preferValid = 0.5

// ruled is a reading after region rules.
type ruled struct {
	Text       string
	Format     app.Format
	Confidence float64
	CharConf   []float64
	Candidates []app.Candidate
}

// apply applies the region's rules to a reading made at time now.
func (g Region) apply(r Reading, now time.Time, topN int) ruled {
	raw := vrm.Normalize(r.Text)
	out := ruled{Text: raw, Confidence: r.Confidence, CharConf: r.CharConf}
	if g != RegionGB {
		out.Format = vrm.Classify(raw, now)
		out.Candidates = mergeCandidates(normaliseAll(r.Candidates), topN)
		return out
	}
	var valid, other []app.Candidate
	for _, c := range r.Candidates {
		text := vrm.Normalize(c.Text)
		fixed, fixes := vrm.Repair(text, now)
		conf := c.Confidence
		for range fixes {
			conf *= repairPenalty
		}
		if vrm.Classify(fixed, now) != app.FormatUnknown {
			valid = append(valid, app.Candidate{Text: fixed, Confidence: conf})
		} else {
			other = append(other, app.Candidate{Text: text, Confidence: c.Confidence})
		}
	}
	valid = mergeCandidates(valid, len(valid))
	if len(valid) > 0 && valid[0].Confidence >= preferValid*r.Confidence {
		best := valid[0]
		out.Text, out.Confidence = best.Text, best.Confidence
		out.CharConf = alignConf(r.Text, r.CharConf, best.Text, best.Confidence)
	}
	out.Format = vrm.Classify(out.Text, now)
	// The chosen text first, then valid marks, then the rest.
	all := append([]app.Candidate{{Text: out.Text, Confidence: out.Confidence}}, valid...)
	all = append(all, other...)
	out.Candidates = dedupe(all, topN)
	return out
}

// alignConf gives per-character confidences for text chosen in place of the
// greedy read: characters the greedy read agrees with keep its confidence;
// changed ones get no more than the chosen text's own probability.
func alignConf(greedy string, conf []float64, text string, textConf float64) []float64 {
	out := make([]float64, len(text))
	for i := range out {
		if len(greedy) == len(text) && i < len(conf) {
			out[i] = conf[i]
			if greedy[i] != text[i] {
				out[i] = min(conf[i], textConf)
			}
			continue
		}
		out[i] = textConf
	}
	return out
}

func normaliseAll(cs []app.Candidate) []app.Candidate {
	out := make([]app.Candidate, 0, len(cs))
	for _, c := range cs {
		if t := vrm.Normalize(c.Text); t != "" {
			out = append(out, app.Candidate{Text: t, Confidence: c.Confidence})
		}
	}
	return out
}

// mergeCandidates sums the confidences of equal texts (two beam paths that
// normalise or repair to the same mark) and sorts best first.
func mergeCandidates(cs []app.Candidate, topN int) []app.Candidate {
	sum := map[string]float64{}
	var order []string
	for _, c := range cs {
		if _, ok := sum[c.Text]; !ok {
			order = append(order, c.Text)
		}
		sum[c.Text] += c.Confidence
	}
	out := make([]app.Candidate, len(order))
	for i, t := range order {
		out[i] = app.Candidate{Text: t, Confidence: min(1, sum[t])}
	}
	sort.SliceStable(out, func(i, j int) bool { return out[i].Confidence > out[j].Confidence })
	if len(out) > topN {
		out = out[:topN]
	}
	return out
}

// dedupe keeps the first of each text, in order, up to topN.
func dedupe(cs []app.Candidate, topN int) []app.Candidate {
	seen := map[string]bool{}
	var out []app.Candidate
	for _, c := range cs {
		if c.Text == "" || seen[c.Text] {
			continue
		}
		seen[c.Text] = true
		out = append(out, c)
		if len(out) == topN {
			break
		}
	}
	return out
}
