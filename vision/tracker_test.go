package vision

import (
	"bytes"
	"image"
	"strings"
	"testing"
	"time"

	"github.com/ukanpr/anpr/app"
	"gocv.io/x/gocv"
)

// plateAt makes a Plate as the reader would give it.
func plateAt(text string, conf float64, box image.Rectangle) Plate {
	cc := make([]float64, len(text))
	for i := range cc {
		cc[i] = conf
	}
	return Plate{Text: text, Raw: text, Confidence: conf, CharConf: cc, Box: box, Score: 0.9,
		Candidates: []app.Candidate{{Text: text, Confidence: conf}}}
}

// drive feeds frames to tr: plates(i) gives frame i's plates. The frame is
// a real 1280×720 dash-cam image so patches and sharpness are real.
func drive(t *testing.T, tr *Tracker, n int, plates func(i int) []Plate) []app.Sighting {
	t.Helper()
	dir, _ := dashcam(t)
	img, err := LoadImage(dir + "/images/valid_dayride_type1_001.mp4_t_1198.jpg")
	if err != nil {
		t.Fatal(err)
	}
	defer img.Close()
	var out []app.Sighting
	t0 := time.Date(2026, 5, 1, 12, 0, 0, 0, time.UTC)
	for i := 0; i < n; i++ {
		f := Frame{Mat: img.Clone(), Camera: tr.Camera, Seq: int64(i), Time: t0.Add(time.Duration(i) * 40 * time.Millisecond)}
		ss, err := tr.Update(&f, plates(i))
		f.Close()
		if err != nil {
			t.Fatal(err)
		}
		out = append(out, ss...)
	}
	ss, err := tr.Flush()
	if err != nil {
		t.Fatal(err)
	}
	return append(out, ss...)
}

func TestTrackerVotesAPassIntoOneRead(t *testing.T) {
	checkMats(t)
	tr := NewTracker("front", RegionGB)
	tr.EarlyFrames = 0 // report at the end of the pass only
	// A plate approaching: growing, drifting down; frames 3 and 6 misread one
	// character each, frame 8 loses it altogether (missed detection).
	texts := map[int]string{3: "BD51SHR", 6: "8D51SMR"}
	ss := drive(t, tr, 20, func(i int) []Plate {
		if i >= 12 || i == 8 {
			return nil
		}
		w := 80 + 10*i
		box := image.Rect(500-i*2, 400+i*8, 500-i*2+w, 400+i*8+w/5)
		text := "BD51SMR"
		if s, ok := texts[i]; ok {
			text = s
		}
		return []Plate{plateAt(text, 0.8, box)}
	})
	if len(ss) != 1 {
		t.Fatalf("got %d sightings %v, want 1", len(ss), texts)
	}
	s := ss[0]
	if s.Text != "BD51SMR" || s.Format != app.FormatCurrent || s.Camera != "front" || s.Frames != 11 {
		t.Errorf("sighting %q %s camera %s frames %d, want BD51SMR gb-current front 11", s.Text, s.Format, s.Camera, s.Frames)
	}
	if len(s.CharConfidences) != 7 || s.CharConfidences[0] >= s.CharConfidences[2] {
		t.Errorf("char confidences %v: the disputed first character should be lower", s.CharConfidences)
	}
	if s.Candidates[0].Text != s.Text || len(s.Candidates) < 2 {
		t.Errorf("candidates %v", s.Candidates)
	}
	if !bytes.HasPrefix(s.Patch, []byte{0xff, 0xd8}) || !bytes.HasPrefix(s.Overview, []byte{0xff, 0xd8}) {
		t.Errorf("patch (%d bytes) and overview (%d bytes) are not JPEG", len(s.Patch), len(s.Overview))
	}
	ov, err := gocv.IMDecode(s.Overview, gocv.IMReadColor)
	if err != nil {
		t.Fatal(err)
	}
	if ov.Cols() != 640 || ov.Rows() != 360 {
		t.Errorf("overview %dx%d, want 640x360", ov.Cols(), ov.Rows())
	}
	ov.Close()
	if s.PassID == "" || s.Time.IsZero() || s.Box.Empty() {
		t.Errorf("pass id %q time %v box %v", s.PassID, s.Time, s.Box)
	}
}

func TestTrackerSeparatesVehicles(t *testing.T) {
	checkMats(t)
	tr := NewTracker("rear", RegionAny)
	tr.Repeat = 200 * time.Millisecond // frame 22 is 0.5 s after frame 9: a new pass
	ss := drive(t, tr, 30, func(i int) []Plate {
		var ps []Plate
		if i < 10 { // two cars side by side
			ps = append(ps, plateAt("B01XEN", 0.95, image.Rect(480+i, 500, 680+i, 545)))
			ps = append(ps, plateAt("IF10KAX", 0.95, image.Rect(1000+3*i, 400, 1090+3*i, 424)))
		}
		if i >= 5 && i < 7 { // a blip seen twice: reported (MinFrames 2)
			ps = append(ps, plateAt("TR95XMI", 0.6, image.Rect(100, 300, 180, 320)))
		}
		if i == 20 { // a single-frame blip: not a vehicle pass
			ps = append(ps, plateAt("XX11", 0.4, image.Rect(100, 300, 160, 315)))
		}
		if i >= 22 { // the first car again after a gap: a new pass
			ps = append(ps, plateAt("B01XEN", 0.95, image.Rect(480, 500, 680, 545)))
		}
		return ps
	})
	got := map[string]int{}
	for _, s := range ss {
		got[s.Text]++
		if s.Camera != "rear" {
			t.Errorf("camera %q", s.Camera)
		}
	}
	want := map[string]int{"B01XEN": 2, "IF10KAX": 1, "TR95XMI": 1}
	for k, v := range want {
		if got[k] != v {
			t.Errorf("%s read %d times, want %d (all: %v)", k, got[k], v, got)
		}
	}
	if len(got) != len(want) {
		t.Errorf("reads %v, want only %v", got, want)
	}
}

func TestTrackerEarlyReportIsTheOnlyReport(t *testing.T) {
	checkMats(t)
	tr := NewTracker("front", RegionGB)
	var at []int
	dir, _ := dashcam(t)
	img, err := LoadImage(dir + "/images/valid_dayride_type1_001.mp4_t_1198.jpg")
	if err != nil {
		t.Fatal(err)
	}
	defer img.Close()
	for i := 0; i < 15; i++ {
		f := Frame{Mat: img.Clone(), Seq: int64(i), Time: time.Unix(int64(i), 0)}
		ss, err := tr.Update(&f, []Plate{plateAt("BD51SMR", 0.97, image.Rect(500, 500, 700, 545))})
		f.Close()
		if err != nil {
			t.Fatal(err)
		}
		for range ss {
			at = append(at, i)
		}
	}
	ss, _ := tr.Flush()
	if len(ss) != 0 || len(at) != 1 || at[0] != 2 {
		t.Errorf("reported at frames %v and %d at the end; want once, at frame 2 (third agreeing frame)", at, len(ss))
	}
}

func TestVoteText(t *testing.T) {
	v := func(text string, conf float64) vote {
		cc := make([]float64, len(text))
		for i := range cc {
			cc[i] = conf
		}
		return vote{text: text, raw: text, conf: conf, charConf: cc, candidates: []app.Candidate{{Text: text, Confidence: conf}}}
	}
	for _, tc := range []struct {
		name  string
		votes []vote
		want  string
	}{
		{"unanimous", []vote{v("AB12CDE", 0.9), v("AB12CDE", 0.9)}, "AB12CDE"},
		{"per position", []vote{v("AB12CDF", 0.9), v("A812CDE", 0.9), v("AB12CDE", 0.5)}, "AB12CDE"},
		{"confidence beats count", []vote{v("B21GSB", 0.3), v("B21GSB", 0.3), v("B21G5B", 0.95)}, "B21G5B"},
		{"length by weight", []vote{v("B21GSB", 0.9), v("B21GSBB", 0.3), v("B21GSB", 0.8)}, "B21GSB"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			got := voteText(tc.votes, 5)
			if got.text != tc.want || got.candidates[0].Text != tc.want {
				t.Errorf("vote = %q (%v), want %q", got.text, got.candidates, tc.want)
			}
		})
	}
}

// A reading of another vehicle's plate that the track picked up is not a
// candidate of this read; OCR alternatives of the plate are.
func TestVoteCandidatesStayOnThePlate(t *testing.T) {
	votes := []vote{
		{text: "SYW740X", raw: "SYW740X", conf: 0.9, charConf: []float64{.9, .9, .9, .9, .9, .9, .9},
			candidates: []app.Candidate{{Text: "SYW740X", Confidence: 0.9}, {Text: "SYW74OX", Confidence: 0.05}}},
		{text: "SYW740X", raw: "SYW740X", conf: 0.8, charConf: []float64{.8, .8, .8, .8, .8, .8, .8},
			candidates: []app.Candidate{{Text: "SYW740X", Confidence: 0.8}, {Text: "5YW740X", Confidence: 0.1}}},
		{text: "M49XNL", raw: "M49XNL", conf: 0.7, charConf: []float64{.7, .7, .7, .7, .7, .7},
			candidates: []app.Candidate{{Text: "M49XNL", Confidence: 0.7}}},
	}
	got := voteText(votes, 5)
	var texts []string
	for _, c := range got.candidates {
		texts = append(texts, c.Text)
	}
	if got.text != "SYW740X" || strings.Join(texts, " ") != "SYW740X 5YW740X SYW74OX" {
		t.Errorf("vote %q, candidates %v; want SYW740X with its two alternatives and not M49XNL", got.text, texts)
	}
}

func TestTrackerDoesNotRepeatAPlateLostForAWhile(t *testing.T) {
	checkMats(t)
	tr := NewTracker("front", RegionGB)
	// The plate is hidden by a passing van for frames 10..20 (0.44 s): its
	// track ends, and the plate found again must not be a second read.
	ss := drive(t, tr, 40, func(i int) []Plate {
		if i >= 10 && i <= 20 {
			return nil
		}
		return []Plate{plateAt("BD51SMR", 0.95, image.Rect(500, 500, 700, 545))}
	})
	if len(ss) != 1 {
		t.Errorf("%d reads, want 1", len(ss))
	}
}

func TestTrackerLongStop(t *testing.T) {
	checkMats(t)
	tr := NewTracker("front", RegionGB)
	tr.EarlyFrames = 0
	// A car stopped ahead at lights: 300 frames, more than a pass keeps.
	ss := drive(t, tr, 300, func(i int) []Plate {
		return []Plate{plateAt("BD51SMR", 0.9, image.Rect(500, 500, 700, 545))}
	})
	if len(ss) != 1 || ss[0].Frames != 300 || ss[0].Text != "BD51SMR" {
		t.Errorf("got %d reads, want one of 300 frames: %+v", len(ss), ss)
	}
}

// TestTrackerDropsUnsurePasses: a pass the reader could not make out (every
// frame a different low-confidence guess) is not reported but counted; the
// same pass is reported when MinConfidence (and, its guesses being short,
// ShortConfidence) is turned off.
func TestTrackerDropsUnsurePasses(t *testing.T) {
	checkMats(t)
	guesses := []string{"B5", "8S", "B3", "E5", "85", "BS"}
	pass := func(i int) []Plate {
		if i >= len(guesses) {
			return nil
		}
		return []Plate{plateAt(guesses[i], 0.05, image.Rect(600, 380, 650, 392))}
	}
	tr := NewTracker("front", RegionAny)
	if ss := drive(t, tr, 12, pass); len(ss) != 0 || tr.Unsure() != 1 {
		t.Errorf("got %d sightings %v and %d unsure passes, want none and 1", len(ss), ss, tr.Unsure())
	}
	tr = NewTracker("front", RegionAny)
	tr.MinConfidence, tr.ShortConfidence = -1, -1
	if ss := drive(t, tr, 12, pass); len(ss) != 1 || tr.Unsure() != 0 {
		t.Errorf("MinConfidence off: got %d sightings and %d unsure passes, want 1 and 0", len(ss), tr.Unsure())
	}
	// A clear pass is reported as ever.
	tr = NewTracker("front", RegionAny)
	ss := drive(t, tr, 12, func(i int) []Plate {
		if i >= 6 {
			return nil
		}
		return []Plate{plateAt("B55EMA", 0.6, image.Rect(600, 380, 680, 398))}
	})
	if len(ss) != 1 || ss[0].Text != "B55EMA" || tr.Unsure() != 0 {
		t.Errorf("clear pass: %d sightings, %d unsure", len(ss), tr.Unsure())
	}
}

// TestTrackerSplitsAnotherPlateInTheSameBox: a vehicle pulling in where
// another was (on recorded video, a cut between scenes) reads confidently as
// another plate in the same box: two passes, each read once. An unsure
// reading or a one-character misread in between does not split a pass.
func TestTrackerSplitsAnotherPlateInTheSameBox(t *testing.T) {
	checkMats(t)
	tr := NewTracker("front", RegionGB)
	tr.EarlyFrames = 0
	box := image.Rect(500, 400, 650, 440)
	ss := drive(t, tr, 30, func(i int) []Plate {
		switch {
		case i == 4: // a misread of the first plate: the same pass
			return []Plate{plateAt("NR02KDV", 0.9, box)}
		case i == 7: // an unsure reading of something else: the same pass
			return []Plate{plateAt("XY11ABC", 0.3, box)}
		case i < 15:
			return []Plate{plateAt("NR02KDU", 0.95, box)}
		default:
			return []Plate{plateAt("MR02USZ", 0.95, box.Add(image.Pt(4, -2)))}
		}
	})
	var got []string
	for _, s := range ss {
		got = append(got, s.Text)
	}
	if len(ss) != 2 || ss[0].Text != "NR02KDU" || ss[1].Text != "MR02USZ" {
		t.Fatalf("sightings %v, want [NR02KDU MR02USZ]", got)
	}
	if ss[0].Frames != 15 || ss[1].Frames != 15 {
		t.Errorf("frames %d and %d, want 15 each", ss[0].Frames, ss[1].Frames)
	}
}

// TestTrackerPlateCutByTheEdge: readings of a plate cut by the frame's
// left or right edge do not vote: a plate entering from the edge is read
// from the frames that show it whole (its patch too), and one only ever
// seen cut is not reported (counted unsure).
func TestTrackerPlateCutByTheEdge(t *testing.T) {
	checkMats(t)
	tr := NewTracker("front", RegionAny)
	tr.EarlyFrames = 0
	ss := drive(t, tr, 12, func(i int) []Plate {
		// B01X is cut at the left edge throughout; IF10KAX enters at the right
		ps := []Plate{plateAt("B01X", 0.95, image.Rect(0, 500, 120, 530))}
		if i < 4 {
			ps = append(ps, plateAt("IF10KA", 0.9, image.Rect(1180, 430, 1280, 457)))
		} else {
			ps = append(ps, plateAt("IF10KAX", 0.8, image.Rect(1170-5*i, 430, 1270-5*i, 457)))
		}
		return ps
	})
	if len(ss) != 1 || ss[0].Text != "IF10KAX" {
		var got []string
		for _, s := range ss {
			got = append(got, s.Text)
		}
		t.Fatalf("sightings %v, want only IF10KAX", got)
	}
	if ss[0].Box.Max.X >= 1280-edgeMargin || ss[0].Frames != 12 {
		t.Errorf("patch box %v over %d frames: want a whole view of the 12-frame pass", ss[0].Box, ss[0].Frames)
	}
	if tr.Unsure() != 1 {
		t.Errorf("unsure %d, want 1 (the plate only seen cut)", tr.Unsure())
	}
}

// steadyPass is a six-frame pass of one plate read as text at conf.
func steadyPass(text string, conf float64) func(int) []Plate {
	return func(i int) []Plate {
		if i >= 6 {
			return nil
		}
		return []Plate{plateAt(text, conf, image.Rect(600, 380, 700, 402))}
	}
}

// reportCase is a steady pass through a fresh tracker of region and
// whether it is reported (1) or counted unsure (0).
type reportCase struct {
	region Region
	text   string
	conf   float64
	want   int
}

func checkReported(t *testing.T, cases []reportCase) {
	t.Helper()
	for _, c := range cases {
		tr := NewTracker("front", c.region)
		ss := drive(t, tr, 12, steadyPass(c.text, c.conf))
		if len(ss) != c.want || tr.Unsure() != int64(1-c.want) {
			t.Errorf("%s %s at %.2f: %d sightings, %d unsure; want %d sightings", c.region, c.text, c.conf, len(ss), tr.Unsure(), c.want)
			continue
		}
		if c.want == 1 && ss[0].Text != c.text {
			t.Errorf("%s %s at %.2f: read %s", c.region, c.text, c.conf, ss[0].Text)
		}
	}
}

// TestTrackerForeignReadsNeedConfidence: in RegionGB a pass whose text is no
// UK mark is reported only when the reader is fairly sure of it (a foreign
// plate read clearly); an unsure one is counted unsure. A UK mark at the same
// low confidence, and the same foreign text in RegionAny, are reported.
func TestTrackerForeignReadsNeedConfidence(t *testing.T) {
	checkMats(t)
	checkReported(t, []reportCase{
		{RegionGB, "WA12345", 0.3, 0}, // a Polish layout, unsure: a misread more likely than a Polish car
		{RegionGB, "WA12345", 0.8, 1}, // read clearly: reported as foreign
		{RegionGB, "BD51SMR", 0.3, 1}, // a UK mark needs only MinConfidence
		{RegionAny, "WA12345", 0.3, 1},
		// no UK mark and only one kind of character: a sign, a badge, half a
		// plate; not reported in RegionGB however sure, reported in RegionAny
		{RegionGB, "NDA", 0.95, 0},
		{RegionGB, "KWHFMD", 0.95, 0},
		{RegionGB, "0800700", 0.95, 0},
		{RegionAny, "KWHFMD", 0.95, 1},
	})
	tr := NewTracker("front", RegionGB)
	tr.ForeignConfidence = -1
	if ss := drive(t, tr, 12, steadyPass("WA12345", 0.3)); len(ss) != 1 {
		t.Errorf("ForeignConfidence off: %d sightings, want 1", len(ss))
	}
}

// TestTrackerShortReadsNeedConfidence: a pass read as three characters or
// fewer (a piece of a plate, a sign; in RegionGB nearly any such text is a
// valid dateless mark) is reported only when the reader is sure of it, in
// either region; four characters need only MinConfidence.
func TestTrackerShortReadsNeedConfidence(t *testing.T) {
	checkMats(t)
	checkReported(t, []reportCase{
		{RegionGB, "B30", 0.3, 0}, // a valid dateless mark, unsure: more likely a piece of a plate
		{RegionGB, "B2", 0.6, 0},
		{RegionAny, "NDA", 0.7, 0},
		{RegionGB, "B30", 0.9, 1}, // read surely: a cherished mark
		{RegionAny, "K9", 0.95, 1},
		{RegionGB, "P940", 0.3, 1}, // four characters: MinConfidence alone
	})
	tr := NewTracker("front", RegionGB)
	tr.ShortConfidence = -1
	if ss := drive(t, tr, 12, steadyPass("B30", 0.3)); len(ss) != 1 {
		t.Errorf("ShortConfidence off: %d sightings, want 1", len(ss))
	}
}
