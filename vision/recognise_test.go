package vision

import (
	"image"
	"image/color"
	"math"
	"os"
	"testing"

	"github.com/ukanpr/anpr/app"

	"gocv.io/x/gocv"
)

func TestCropBox(t *testing.T) {
	frame := image.Rect(0, 0, 1280, 720)
	for _, tc := range []struct {
		box, want image.Rectangle
	}{
		{image.Rect(100, 100, 200, 120), image.Rect(92, 97, 208, 123)},
		{image.Rect(0, 700, 100, 720), image.Rect(0, 697, 108, 720)}, // clamped
	} {
		if got := CropBox(tc.box, frame); got != tc.want {
			t.Errorf("CropBox(%v) = %v, want %v", tc.box, got, tc.want)
		}
	}
}

func TestReaderInputTwoLine(t *testing.T) {
	checkMats(t)
	// A square "plate": top half black, bottom half white. Laid side by side
	// the input's left half must be dark and its right half light.
	img := gocv.NewMatWithSize(100, 100, gocv.MatTypeCV8UC3)
	defer img.Close()
	bottom := img.Region(image.Rect(0, 50, 100, 100))
	bottom.SetTo(gocv.NewScalar(255, 255, 255, 0))
	bottom.Close()
	in, err := readerInput(img, image.Rect(0, 0, 100, 100))
	if err != nil {
		t.Fatal(err)
	}
	defer in.Close()
	if in.Cols() != recW || in.Rows() != recH || in.Channels() != 1 {
		t.Fatalf("input %dx%dx%d, want %dx%dx1", in.Cols(), in.Rows(), in.Channels(), recW, recH)
	}
	left := in.Region(image.Rect(0, 0, recW/2-2, recH))
	right := in.Region(image.Rect(recW/2+2, 0, recW, recH))
	defer left.Close()
	defer right.Close()
	if l, r := left.Mean().Val1, right.Mean().Val1; l > 5 || r < 250 {
		t.Errorf("left mean %.0f, right mean %.0f: want the top half left of the bottom half", l, r)
	}

	// A single-line plate stays one line, even tilted or loosely boxed
	// (crop 2.3:1): top dark, bottom light.
	wide := gocv.NewMatWithSize(40, 92, gocv.MatTypeCV8UC3)
	defer wide.Close()
	wb := wide.Region(image.Rect(0, 20, 92, 40))
	wb.SetTo(gocv.NewScalar(255, 255, 255, 0))
	wb.Close()
	in2, err := readerInput(wide, image.Rect(0, 0, 92, 40))
	if err != nil {
		t.Fatal(err)
	}
	defer in2.Close()
	top := in2.Region(image.Rect(0, 0, recW, recH/2-2))
	defer top.Close()
	if m := top.Mean().Val1; m > 5 {
		t.Errorf("single-line input top mean %.0f, want dark", m)
	}
}

// TestRecogniserReadsDashcam reads the labelled readable plates of the
// vendored frames at their labelled boxes.
func TestRecogniserReadsDashcam(t *testing.T) {
	checkMats(t)
	m := testModels(t)
	var n, exact int
	eachReadable(t, 0, func(l label, img gocv.Mat) {
		rs, err := m.Recogniser.Read(img, []image.Rectangle{l.box})
		if err != nil {
			t.Fatal(err)
		}
		r := rs[0]
		if len(r.CharConf) != len(r.Text) || (r.Text != "" && (len(r.Candidates) == 0 || r.Candidates[0].Text != r.Text)) {
			t.Errorf("%s: malformed reading %+v", l.text, r)
		}
		n++
		if r.Text == l.text {
			exact++
		} else {
			t.Logf("%s (%d px) read as %s %.2f", l.text, l.box.Dx(), r.Text, r.Confidence)
		}
	})
	t.Logf("%d of %d read exactly", exact, n)
	// A floor below the committed reader (9 of 9), to catch a regression.
	if exact*100 < n*85 {
		t.Errorf("%d of %d plates read exactly, want at least 85%%", exact, n)
	}
}

func TestLoadImageErrors(t *testing.T) {
	checkMats(t)
	dir := t.TempDir()
	bad := dir + "/bad.jpg"
	os.WriteFile(bad, []byte("not a jpeg"), 0o644)
	for _, p := range []string{dir + "/missing.jpg", bad, dir} {
		if m, err := LoadImage(p); err == nil {
			m.Close()
			t.Errorf("LoadImage(%s) succeeded", p)
		}
	}
}

// TestSplitRowFindsTheGap: a two-line crop is cut in the gap between its
// lines, not at mid-height, when the gap is off-centre. The expected rows
// are what vision/train/plates.py split_row gives for the same images.
func TestSplitRowFindsTheGap(t *testing.T) {
	checkMats(t)
	for _, tc := range []struct {
		w, h  int
		lines [2][2]int // [first, last) rows of vertical stripes
		want  int
	}{
		{100, 100, [2][2]int{{5, 30}, {45, 95}}, 39}, // gap rows 30–44: cut at 39, not 50
		{60, 37, [2][2]int{{3, 15}, {18, 34}}, 16},
		{100, 100, [2][2]int{{0, 0}, {0, 0}}, 50}, // no ink at all: mid-height
		// a loose box, blank below the plate: the narrow gap (rows 38–43),
		// not the emptier margin under the lines (rows 62–99)
		{100, 100, [2][2]int{{10, 38}, {44, 62}}, 43},
	} {
		g := gocv.NewMatWithSizeFromScalar(gocv.NewScalar(128, 0, 0, 0), tc.h, tc.w, gocv.MatTypeCV8UC1)
		for _, l := range tc.lines {
			for y := l[0]; y < l[1]; y++ {
				for x := range tc.w {
					g.SetUCharAt(y, x, uint8((x/4)%2*255))
				}
			}
		}
		got, err := splitRow(g)
		g.Close()
		if err != nil {
			t.Fatal(err)
		}
		if got != tc.want {
			t.Errorf("%dx%d crop, lines %v: split at row %d, want %d", tc.w, tc.h, tc.lines, got, tc.want)
		}
	}
}

func TestDeskewAngle(t *testing.T) {
	turned := func(deg float64) image.Rectangle { // a 470×100 plate's bounding box turned by deg
		th := deg * math.Pi / 180
		c, s := math.Cos(th), math.Abs(math.Sin(th))
		return image.Rect(0, 0, int(470*c+100*s+0.5), int(470*s+100*c+0.5))
	}
	for _, tc := range []struct {
		box      image.Rectangle
		min, max float64
	}{
		{turned(0), 0, 0},
		{turned(5), 0, 0}, // read level
		{turned(12), 11.5, 12.5},
		{turned(20), 19.5, 20.5},
		{turned(-25), 24.5, 25.5},
		{image.Rect(0, 0, 100, 100), 0, 0}, // square: no one-line plate turned ≤ 30°
		{image.Rect(0, 0, 6, 3), 0, 0},     // too small to say
	} {
		if got := deskewAngle(tc.box); got < tc.min || got > tc.max {
			t.Errorf("deskewAngle(%v) = %.2f, want %g…%g", tc.box, got, tc.min, tc.max)
		}
	}
}

// TestRecogniserDeskewReadsTurnedPlates turns the vendored frames' readable
// plates of at least 100 px by ±15° and ±22° about their centres and reads
// each at its turned bounding box: with Deskew nearly all read exactly
// (a box that tall reads as a two-line plate or skewed text without it).
func TestRecogniserDeskewReadsTurnedPlates(t *testing.T) {
	checkMats(t)
	m := testModels(t)
	defer func(was bool) { m.Recogniser.Deskew = was }(m.Recogniser.Deskew)
	exact := map[bool]int{}
	n := 0
	eachReadable(t, 100, func(l label, img gocv.Mat) {
		for _, deg := range []float64{-22, -15, 15, 22} {
			turned, box := turnAbout(img, l.box, deg)
			n++
			for _, on := range []bool{false, true} {
				m.Recogniser.Deskew = on
				rs, err := m.Recogniser.Read(turned, []image.Rectangle{box})
				if err != nil {
					t.Fatal(err)
				}
				if rs[0].Text == l.text {
					exact[on]++
				} else if on {
					t.Logf("%s turned %g°: read %q, want %q", l.file, deg, rs[0].Text, l.text)
				}
			}
			turned.Close()
		}
	})
	t.Logf("%d turned plates read exactly: %d without Deskew, %d with", n, exact[false], exact[true])
	if n == 0 {
		t.Fatal("no readable plate ≥ 100 px in testdata/dashcam")
	}
	if exact[true] < n*9/10 || exact[true] <= exact[false] {
		t.Errorf("with Deskew %d of %d read exactly (without %d): want at least 90 %% and more", exact[true], n, exact[false])
	}
}

// turnAbout returns img turned by deg degrees about the centre of box, and
// the bounding box of box's turned corners.
func turnAbout(img gocv.Mat, box image.Rectangle, deg float64) (gocv.Mat, image.Rectangle) {
	c := gocv.Point2f{X: float32(box.Min.X+box.Max.X) / 2, Y: float32(box.Min.Y+box.Max.Y) / 2}
	rot := gocv.GetRotationMatrix2D(image.Pt(int(c.X), int(c.Y)), deg, 1)
	defer rot.Close()
	out := gocv.NewMat()
	gocv.WarpAffineWithParams(img, &out, rot, image.Pt(img.Cols(), img.Rows()), gocv.InterpolationLinear, gocv.BorderReflect, color.RGBA{})
	th := deg * math.Pi / 180
	cs, sn := math.Abs(math.Cos(th)), math.Abs(math.Sin(th))
	w, h := float64(box.Dx()), float64(box.Dy())
	bw, bh := w*cs+h*sn, w*sn+h*cs
	x0, y0 := float64(c.X)-bw/2, float64(c.Y)-bh/2
	return out, image.Rect(int(x0), int(y0), int(x0+bw+0.5), int(y0+bh+0.5))
}

// TestVoteViews: the text with the highest probability averaged over the
// views wins, even against one view surer of another text; the result keeps
// the surest view of the winner's per-character confidences, and its
// candidates are every text's average, winner first.
func TestVoteViews(t *testing.T) {
	view := func(text string, cc float64, cands ...app.Candidate) Reading {
		conf := make([]float64, len(text))
		for i := range conf {
			conf[i] = cc
		}
		return Reading{Text: text, CharConf: conf, Confidence: cands[0].Confidence, Candidates: cands}
	}
	c := func(text string, p float64) app.Candidate { return app.Candidate{Text: text, Confidence: p} }
	views := []Reading{
		view("AB12CDF", 0.9, c("AB12CDF", 0.9), c("AB12CDE", 0.05)),
		view("AB12CDE", 0.6, c("AB12CDE", 0.6), c("AB12CDF", 0.3)),
		view("AB12CDE", 0.7, c("AB12CDE", 0.7), c("AB12CDF", 0.2)),
		view("AB12CDE", 0.5, c("AB12CDE", 0.5), c("A812CDE", 0.4)),
	}
	got := voteViews(views, 5)
	// AB12CDE: (0.05+0.6+0.7+0.5)/4 = 0.4625; AB12CDF: (0.9+0.3+0.2)/4 = 0.35.
	if got.Text != "AB12CDE" || math.Abs(got.Confidence-0.4625) > 1e-9 {
		t.Fatalf("voted %q %.4f, want AB12CDE 0.4625", got.Text, got.Confidence)
	}
	if got.CharConf[0] != 0.7 {
		t.Errorf("char confidences %v, want the surest AB12CDE view's (0.7)", got.CharConf)
	}
	want := []app.Candidate{c("AB12CDE", 0.4625), c("AB12CDF", 0.35), c("A812CDE", 0.1)}
	if len(got.Candidates) != len(want) {
		t.Fatalf("candidates %v, want %v", got.Candidates, want)
	}
	for i, w := range want {
		if g := got.Candidates[i]; g.Text != w.Text || math.Abs(g.Confidence-w.Confidence) > 1e-9 {
			t.Errorf("candidate %d = %v, want %v", i, g, w)
		}
	}
	if n := len(voteViews(views, 2).Candidates); n != 2 {
		t.Errorf("top 2: %d candidates", n)
	}
	// Views that read nothing do not vote; all empty gives the first.
	empty := Reading{}
	if got := voteViews([]Reading{empty, views[0], empty}, 5); got.Text != "AB12CDF" || math.Abs(got.Confidence-0.3) > 1e-9 {
		t.Errorf("with empty views: %q %.3f, want AB12CDF 0.300", got.Text, got.Confidence)
	}
	if got := voteViews([]Reading{empty, empty}, 5); got.Text != "" {
		t.Errorf("all empty: %q", got.Text)
	}
}

// TestRecogniserJitter reads the vendored frames' readable plates with
// Jitter, whole and at half size (plates of 40–120 px, where a single
// framing misreads most): each reading is one of its four views' texts at
// their averaged probability, well formed, and the plates read exactly at
// least as often as without Jitter, less one.
func TestRecogniserJitter(t *testing.T) {
	checkMats(t)
	m := testModels(t)
	defer func(was bool) { m.Recogniser.Jitter = was }(m.Recogniser.Jitter)
	exact := map[bool]int{}
	n := 0
	eachReadable(t, 0, func(l label, img gocv.Mat) {
		half := gocv.NewMat()
		defer half.Close()
		gocv.Resize(img, &half, image.Pt(img.Cols()/2, img.Rows()/2), 0, 0, gocv.InterpolationArea)
		for _, sc := range []struct {
			img gocv.Mat
			box image.Rectangle
		}{{img, l.box}, {half, image.Rect(l.box.Min.X/2, l.box.Min.Y/2, l.box.Max.X/2, l.box.Max.Y/2)}} {
			n++
			for _, on := range []bool{false, true} {
				m.Recogniser.Jitter = on
				rs, err := m.Recogniser.Read(sc.img, []image.Rectangle{sc.box})
				if err != nil {
					t.Fatal(err)
				}
				r := rs[0]
				if r.Text == l.text {
					exact[on]++
				} else if on {
					t.Logf("%s at %d px: read %q %.2f, want %q", l.file, sc.box.Dx(), r.Text, r.Confidence, l.text)
				}
				if !on || r.Text == "" {
					continue
				}
				if len(r.CharConf) != len(r.Text) || r.Candidates[0].Text != r.Text || r.Candidates[0].Confidence != r.Confidence {
					t.Errorf("%s: malformed reading %+v", l.file, r)
				}
				m.Recogniser.Jitter = false
				plain, err := m.Recogniser.Read(sc.img, []image.Rectangle{sc.box})
				if err != nil {
					t.Fatal(err)
				}
				views, err := m.Recogniser.jitterViews(sc.img, CropBox(sc.box, image.Rect(0, 0, sc.img.Cols(), sc.img.Rows())))
				if err != nil {
					t.Fatal(err)
				}
				views = append(plain, views...)
				mean, seen := 0.0, false
				for _, v := range views {
					seen = seen || v.Text == r.Text
					for _, c := range v.Candidates {
						if c.Text == r.Text {
							mean += c.Confidence / float64(len(views))
						}
					}
				}
				if !seen || math.Abs(mean-r.Confidence) > 1e-6 {
					t.Errorf("%s: jittered reading %q %.4f: a view read it: %v, its average over the views %.4f", l.file, r.Text, r.Confidence, seen, mean)
				}
			}
		}
	})
	t.Logf("%d plates (whole and half size) read exactly: %d without Jitter, %d with", n, exact[false], exact[true])
	if n == 0 {
		t.Fatal("no readable plate in testdata/dashcam")
	}
	if exact[true] < exact[false]-1 {
		t.Errorf("with Jitter %d of %d read exactly, without %d", exact[true], n, exact[false])
	}
}

// A turned reading replaces the level one only when surer, at least
// deskewMinConf sure and, against a level reading sure enough to report,
// no shorter.
func TestTurnedWins(t *testing.T) {
	for _, tc := range []struct {
		name          string
		turned, level Reading
		want          bool
	}{
		{"surer and as long", Reading{Text: "B320WTW", Confidence: 0.9}, Reading{Text: "B32OWTV", Confidence: 0.3}, true},
		{"surer, longer", Reading{Text: "B320WTW", Confidence: 0.9}, Reading{Text: "B320WT", Confidence: 0.3}, true},
		{"a row of a two-line plate", Reading{Text: "Z", Confidence: 0.88}, Reading{Text: "PN876", Confidence: 0.17}, false},
		{"shorter against level noise", Reading{Text: "B01XEN", Confidence: 0.99}, Reading{Text: "B0I1XEENN", Confidence: 0.01}, true},
		{"not sure enough", Reading{Text: "B320WTW", Confidence: 0.45}, Reading{Text: "B3", Confidence: 0.2}, false},
		{"less sure than level", Reading{Text: "B320WTW", Confidence: 0.6}, Reading{Text: "B320WTV", Confidence: 0.7}, false},
	} {
		if got := turnedWins(tc.turned, tc.level); got != tc.want {
			t.Errorf("%s: turnedWins(%q %.2f, %q %.2f) = %v, want %v", tc.name,
				tc.turned.Text, tc.turned.Confidence, tc.level.Text, tc.level.Confidence, got, tc.want)
		}
	}
}

// A square two-line plate is read level with Deskew on, as with it off: its
// box is squat enough for the trial turns, and read turned as a one-line
// plate it gives a sure single character.
func TestRecogniserDeskewKeepsTwoLinePlates(t *testing.T) {
	checkMats(t)
	m := testModels(t)
	defer func(was bool) { m.Recogniser.Deskew = was }(m.Recogniser.Deskew)
	img := gocv.IMRead("../testdata/synth/two-line-PN876.png", gocv.IMReadColor)
	if img.Empty() {
		t.Fatal("cannot read testdata/synth/two-line-PN876.png")
	}
	defer img.Close()
	box := image.Rect(0, 0, img.Cols(), img.Rows())
	if len(turns(box)) == 0 {
		t.Fatalf("box %v is not read turned: the test no longer exercises Deskew", box)
	}
	got := map[bool]string{}
	for _, on := range []bool{false, true} {
		m.Recogniser.Deskew = on
		rs, err := m.Recogniser.Read(img, []image.Rectangle{box})
		if err != nil {
			t.Fatal(err)
		}
		got[on] = rs[0].Text
	}
	if got[false] != "PN876" || got[true] != got[false] {
		t.Errorf("read %q with Deskew, %q without: want PN876 both", got[true], got[false])
	}
}
