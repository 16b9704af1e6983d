package vision

import (
	"math"
	"sort"

	"github.com/ukanpr/anpr/app"
)

// alphabet maps recogniser classes 1..36 to characters; class 0 is the CTC
// blank (assets/models/CONTRACT.md).
const alphabet = "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZ"

// numClasses is the recogniser's output width: blank + 36 characters.
const numClasses = 1 + len(alphabet)

// Reading is the recogniser's view of one plate crop.
type Reading struct {
	Text       string          // greedy CTC text: upper-case letters and digits, no spaces
	CharConf   []float64       // one per character of Text: best probability among the frames that emitted it
	Confidence float64         // probability of Text under the model (prefix beam), 0..1
	Candidates []app.Candidate // top-N texts, best first; Candidates[0].Text == Text
}

// greedyDecode collapses the best path: the most likely class per frame,
// repeats merged, blanks dropped. logp is T rows of numClasses log-probs.
func greedyDecode(logp []float32, T int) (string, []float64) {
	var text []byte
	var conf []float64
	prev := 0
	for t := 0; t < T; t++ {
		row := logp[t*numClasses : (t+1)*numClasses]
		best, bp := 0, row[0]
		for c := 1; c < numClasses; c++ {
			if row[c] > bp {
				best, bp = c, row[c]
			}
		}
		p := math.Exp(float64(bp))
		switch {
		case best == 0:
		case best != prev:
			text = append(text, alphabet[best-1])
			conf = append(conf, p)
		default: // the same character continues: keep its best frame
			if p > conf[len(conf)-1] {
				conf[len(conf)-1] = p
			}
		}
		prev = best
	}
	return string(text), conf
}

// beam is one prefix in the CTC prefix beam search: the probability of the
// prefix ending in a blank and ending in its last character.
type beam struct {
	prefix  string
	pb, pnb float64
}

func (b beam) total() float64 { return b.pb + b.pnb }

// beamDecode runs a CTC prefix beam search of the given width and returns up
// to topN distinct texts with their probabilities, best first. At each frame
// only the few likeliest characters extend the beams.
func beamDecode(logp []float32, T, width, topN int) []app.Candidate {
	const (
		floor    = 1e-3 // a class this unlikely at a frame cannot change the top few
		perFrame = 5    // nor can more than a handful of classes at one frame
	)
	beams := map[string]*beam{"": {pb: 1}}
	probs := make([]float64, numClasses)
	classes := make([]int, 0, numClasses)
	for t := 0; t < T; t++ {
		row := logp[t*numClasses : (t+1)*numClasses]
		classes = classes[:0]
		for c := range probs {
			probs[c] = math.Exp(float64(row[c]))
			if c > 0 && probs[c] >= floor {
				classes = append(classes, c)
			}
		}
		if len(classes) > perFrame {
			sort.Slice(classes, func(i, j int) bool { return probs[classes[i]] > probs[classes[j]] })
			classes = classes[:perFrame]
		}
		next := make(map[string]*beam, len(beams)*4)
		get := func(p string) *beam {
			b := next[p]
			if b == nil {
				b = &beam{prefix: p}
				next[p] = b
			}
			return b
		}
		for _, b := range beams {
			// blank: the prefix stays, now ending in a blank
			get(b.prefix).pb += b.total() * probs[0]
			var last byte
			if n := len(b.prefix); n > 0 {
				last = b.prefix[n-1]
			}
			for _, c := range classes {
				p := probs[c]
				ch := alphabet[c-1]
				if ch == last {
					// repeat without a blank between: same prefix
					get(b.prefix).pnb += b.pnb * p
					// repeat after a blank: a new character
					get(b.prefix + string(ch)).pnb += b.pb * p
				} else {
					get(b.prefix + string(ch)).pnb += b.total() * p
				}
			}
		}
		beams = prune(next, width)
	}
	out := make([]*beam, 0, len(beams))
	for _, b := range beams {
		if b.prefix != "" {
			out = append(out, b)
		}
	}
	sortBeams(out)
	if len(out) > topN {
		out = out[:topN]
	}
	cands := make([]app.Candidate, len(out))
	for i, b := range out {
		cands[i] = app.Candidate{Text: b.prefix, Confidence: min(1, b.total())}
	}
	return cands
}

func sortBeams(bs []*beam) {
	sort.Slice(bs, func(i, j int) bool {
		if ti, tj := bs[i].total(), bs[j].total(); ti != tj {
			return ti > tj
		}
		return bs[i].prefix < bs[j].prefix
	})
}

func prune(m map[string]*beam, width int) map[string]*beam {
	if len(m) <= width {
		return m
	}
	bs := make([]*beam, 0, len(m))
	for _, b := range m {
		bs = append(bs, b)
	}
	sortBeams(bs)
	out := make(map[string]*beam, width)
	for _, b := range bs[:width] {
		out[b.prefix] = b
	}
	return out
}

// decode turns one crop's log-probs into a Reading: the greedy text with its
// per-character confidences, and the beam's candidates with the greedy text
// first.
func decode(logp []float32, T, width, topN int) Reading {
	text, conf := greedyDecode(logp, T)
	cands := beamDecode(logp, T, width, topN)
	r := Reading{Text: text, CharConf: conf}
	found := -1
	for i, c := range cands {
		if c.Text == text {
			found = i
			break
		}
	}
	switch {
	case text == "":
		r.Candidates = cands
		return r
	case found >= 0:
		r.Confidence = cands[found].Confidence
		cands = append(cands[:found:found], cands[found+1:]...)
	default:
		// The best path's text fell out of the beam (rare): its own
		// probability bounds the text's from below.
		p := 1.0
		for _, c := range conf {
			p *= c
		}
		r.Confidence = p
		if len(cands) >= topN && len(cands) > 0 {
			cands = cands[:len(cands)-1]
		}
	}
	r.Candidates = append([]app.Candidate{{Text: text, Confidence: r.Confidence}}, cands...)
	return r
}
