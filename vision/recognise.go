package vision

import (
	"fmt"
	"image"
	"image/color"
	"math"
	"sync"

	"github.com/ukanpr/anpr/app"
	"gocv.io/x/gocv"
)

// Recogniser input geometry and crop rules (assets/models/CONTRACT.md).
const (
	recW, recH    = 192, 48
	padX, padY    = 0.08, 0.15 // crop expansion per side, of box width and height
	twoLineAspect = 2.0        // crops narrower than this (w/h) are two-line plates
	defaultBeam   = 8
	defaultTopN   = 5
	maxBatch      = 16
)

// Recogniser reads the text of plate crops with the CRNN + CTC ONNX model run
// by OpenCV DNN. It is safe for concurrent use; calls are serialised.
type Recogniser struct {
	Beam int // prefix beam width for candidates (default 8)
	TopN int // candidates per reading (default 5)
	// Batch is how many crops go through the net in one forward pass
	// (default 1). The contract allows any N, but an export whose reshapes
	// OpenCV 4.6 mis-infers for N > 1 throws a C++ exception that aborts
	// the process (gocv does not catch it); raise it only for a model
	// checked at N > 1 in cv2.dnn. One crop per pass costs a fraction of a
	// millisecond per plate.
	Batch int
	// Deskew also reads a box whose shape says its plate may be turned (a
	// bounding box too tall for a one-line plate lying level: a photograph
	// taken askew, a car on a camber) turned level both ways, and keeps
	// the surest of the three readings. Off by default: each turned reading
	// costs a pass of the net, and a level dash camera seldom needs it.
	// Stills (anpr read, anpr eval) turn it on.
	Deskew bool
	// Jitter also reads each box from three crops slightly off the
	// standard one (3 % narrower; 6 % shorter; grown 3 % and 6 % by
	// repeating its edge) and keeps the text whose probability, averaged
	// over the four readings, is highest: a character the model is unsure
	// of in one framing is seldom misread the same way in all four. Off by
	// default: it costs three more passes of the net per box, and the
	// car's tracker already votes over the frames of a pass. Stills turn
	// it on.
	Jitter bool

	mu  sync.Mutex
	net gocv.Net
}

// NewRecogniser loads the recogniser from ONNX bytes.
func NewRecogniser(model []byte) (*Recogniser, error) {
	net, err := gocv.ReadNetFromONNXBytes(model)
	if err != nil || net.Empty() {
		if err == nil {
			net.Close()
		}
		return nil, fmt.Errorf("load plate reader: OpenCV cannot read the ONNX model: %v", err)
	}
	return &Recogniser{Beam: defaultBeam, TopN: defaultTopN, net: net}, nil
}

// Close releases the model.
func (r *Recogniser) Close() error {
	r.mu.Lock()
	defer r.mu.Unlock()
	return r.net.Close()
}

// CropBox is the region of the frame the recogniser sees for a detected box:
// the box grown by 8 % of its width and 15 % of its height on each side,
// clamped to the frame.
func CropBox(box, bounds image.Rectangle) image.Rectangle {
	dx := int(float64(box.Dx())*padX + 0.5)
	dy := int(float64(box.Dy())*padY + 0.5)
	return image.Rect(box.Min.X-dx, box.Min.Y-dy, box.Max.X+dx, box.Max.Y+dy).Intersect(bounds)
}

// Read returns one Reading per box of img (BGR or grey), in order.
func (r *Recogniser) Read(img gocv.Mat, boxes []image.Rectangle) ([]Reading, error) {
	if len(boxes) == 0 {
		return nil, nil
	}
	if img.Empty() {
		return nil, fmt.Errorf("read plates: empty image")
	}
	bounds := image.Rect(0, 0, img.Cols(), img.Rows())
	inputs := make([]gocv.Mat, 0, len(boxes))
	defer closeAll(&inputs)
	for _, b := range boxes {
		m, err := readerInput(img, CropBox(b, bounds))
		if err != nil {
			return nil, err
		}
		inputs = append(inputs, m)
	}
	out, err := r.forwardBatched(inputs)
	if err != nil {
		return nil, err
	}
	if r.Jitter {
		for i, b := range boxes {
			views, err := r.jitterViews(img, CropBox(b, bounds))
			if err != nil {
				return nil, err
			}
			out[i] = voteViews(append([]Reading{out[i]}, views...), r.topN())
		}
	}
	if r.Deskew {
		for i, b := range boxes {
			for _, t := range turns(b) {
				in := turnedInput(img, t)
				rs, err := r.forward([]gocv.Mat{in})
				in.Close()
				if err != nil {
					return nil, err
				}
				if turnedWins(rs[0], out[i]) {
					out[i] = rs[0]
				}
			}
		}
	}
	return out, nil
}

// Jitter's views of a crop: trimmed by jitterX of its width a side, trimmed
// by jitterY of its height a side, and grown by as much with its edge
// repeated.
const jitterX, jitterY = 0.03, 0.06

// jitterViews reads crop's three jittered views. A view too small to read
// (a crop a few pixels across) is left out.
func (r *Recogniser) jitterViews(img gocv.Mat, crop image.Rectangle) ([]Reading, error) {
	dx := max(1, int(float64(crop.Dx())*jitterX+0.5))
	dy := max(1, int(float64(crop.Dy())*jitterY+0.5))
	var inputs []gocv.Mat
	defer closeAll(&inputs)
	for _, c := range []image.Rectangle{
		image.Rect(crop.Min.X+dx, crop.Min.Y, crop.Max.X-dx, crop.Max.Y),
		image.Rect(crop.Min.X, crop.Min.Y+dy, crop.Max.X, crop.Max.Y-dy),
	} {
		if c.Dx() < 2 || c.Dy() < 2 {
			continue
		}
		m, err := readerInput(img, c)
		if err != nil {
			return nil, err
		}
		inputs = append(inputs, m)
	}
	roi := img.Region(crop)
	grown := gocv.NewMat()
	gocv.CopyMakeBorder(roi, &grown, dy, dy, dx, dx, gocv.BorderReplicate, color.RGBA{})
	roi.Close()
	m, err := readerInput(grown, image.Rect(0, 0, grown.Cols(), grown.Rows()))
	grown.Close()
	if err != nil {
		return nil, err
	}
	inputs = append(inputs, m)
	return r.forwardBatched(inputs)
}

// voteViews combines readings of one plate from different views: each text a
// view read is scored by its probability averaged over all the views (a
// view whose candidates lack it counts 0), and the best scored wins, ties
// to the earlier view. The result is the surest view that read the winner,
// its confidence the average, its candidates every view's averaged.
func voteViews(views []Reading, topN int) Reading {
	mean := map[string]float64{}
	var order []string
	for _, v := range views {
		for _, c := range v.Candidates {
			if _, ok := mean[c.Text]; !ok {
				order = append(order, c.Text)
			}
			mean[c.Text] += c.Confidence / float64(len(views))
		}
	}
	best := -1
	for i, v := range views {
		if v.Text == "" {
			continue
		}
		if best < 0 || mean[v.Text] > mean[views[best].Text] ||
			(v.Text == views[best].Text && v.Confidence > views[best].Confidence) {
			best = i
		}
	}
	if best < 0 {
		return views[0]
	}
	out := views[best]
	out.Confidence = mean[out.Text]
	all := make([]app.Candidate, len(order))
	for i, t := range order {
		all[i] = app.Candidate{Text: t, Confidence: mean[t]}
	}
	winner := app.Candidate{Text: out.Text, Confidence: out.Confidence}
	out.Candidates = dedupe(append([]app.Candidate{winner}, mergeCandidates(all, len(all))...), topN)
	return out
}

// Deskew's geometry: a level one-line plate is about 4.7 times wider than
// tall (520 × 111 mm); a box nearer square is read turned when the turn it
// implies is 7–30°, and a turned reading replaces the level one only when
// surer, at least deskewMinConf sure and no shorter than a level reading
// sure enough to report (turnedWins: two-line plates are boxes of that
// shape too, and read level). A detector's box of a turned plate is often
// shorter than its bounding box, so a box less than trialAspect times wider
// than tall is also read at the trial turns, the plate taken as wide as
// the box is across its middle.
const (
	trialAspect          = 4.2
	plateAspect          = 4.7
	minDeskew, maxDeskew = 7.0, 30.0 // degrees
	deskewMinConf        = 0.5
)

// deskewAngle is the turn, in degrees, that makes a one-line plate's
// bounding box as tall for its width as box: with r = height/width and A
// the plate's aspect, tan θ = (rA − 1)/(A − r). 0 outside minDeskew…maxDeskew.
func deskewAngle(box image.Rectangle) float64 {
	if box.Dx() < 8 || box.Dy() < 4 {
		return 0
	}
	r := float64(box.Dy()) / float64(box.Dx())
	if r*plateAspect <= 1 || r >= plateAspect {
		return 0
	}
	a := math.Atan((r*plateAspect-1)/(plateAspect-r)) * 180 / math.Pi
	if a < minDeskew || a > maxDeskew {
		return 0
	}
	return a
}

// turnedWins reports whether a turned reading replaces the level one: it
// must be surer, at least deskewMinConf sure, and, where the level reading
// is sure enough to report (DefaultMinConfidence), no shorter. A turn is
// there to recover characters a level reading loses; a square box read
// turned is read as a one-line plate, and a two-line plate read so gives
// one of its rows, or a character, sometimes very surely (PN/876 turned
// 20° read "Z" at 0.88 against "PN876" at 0.17 level). A level reading
// below that floor is noise of any length: a turned plate read level.
func turnedWins(turned, level Reading) bool {
	if turned.Confidence <= max(level.Confidence, deskewMinConf) {
		return false
	}
	return level.Confidence < DefaultMinConfidence || len(turned.Text) >= len(level.Text)
}

// trialTurns are the turns, in degrees, a squat box is also read at.
var trialTurns = []float64{12, 20}

// turn is one way Deskew reads a box: the level plate's centre and size in
// frame pixels and its turn in degrees.
type turn struct{ cx, cy, w, h, deg float64 }

// turns lists the turned readings of box: both ways at the turn its shape
// implies as a bounding box (deskewAngle), and, for a squat box, both ways
// at each trial turn.
func turns(box image.Rectangle) []turn {
	cx := float64(box.Min.X+box.Max.X) / 2
	cy := float64(box.Min.Y+box.Max.Y) / 2
	W, H := float64(box.Dx()), float64(box.Dy())
	var out []turn
	if a := deskewAngle(box); a != 0 {
		th := a * math.Pi / 180
		c, sn := math.Cos(th), math.Sin(th)
		cos2 := c*c - sn*sn
		w, h := max((W*c-H*sn)/cos2, 2), max((H*c-W*sn)/cos2, 2)
		out = append(out, turn{cx, cy, w, h, a}, turn{cx, cy, w, h, -a})
	}
	if box.Dx() >= 8 && box.Dy() >= 4 && W < trialAspect*H {
		for _, a := range trialTurns {
			w := W / math.Cos(a*math.Pi/180)
			out = append(out, turn{cx, cy, w, w / plateAspect, a}, turn{cx, cy, w, w / plateAspect, -a})
		}
	}
	return out
}

// turnedInput is the recogniser's input for the plate t: turned level by
// t.deg degrees about its centre, grown by the crop's margins and warped
// straight into 192×48 grey, the image's edge repeated where the margin
// runs past it.
func turnedInput(img gocv.Mat, t turn) gocv.Mat {
	sx := recW / (t.w * (1 + 2*padX))
	sy := recH / (t.h * (1 + 2*padY))
	cx, cy := t.cx, t.cy
	th := t.deg * math.Pi / 180
	cs, ss := math.Cos(th), math.Sin(th)
	// out = S·R(−θ)·(p − centre) + output centre: turning the plate by −θ levels it.
	m := gocv.NewMatWithSize(2, 3, gocv.MatTypeCV64F)
	defer m.Close()
	for i, v := range []float64{
		sx * cs, -sx * ss, -sx*(cs*cx-ss*cy) + recW/2,
		sy * ss, sy * cs, -sy*(ss*cx+cs*cy) + recH/2,
	} {
		m.SetDoubleAt(i/3, i%3, v)
	}
	colour := gocv.NewMat()
	defer colour.Close()
	gocv.WarpAffineWithParams(img, &colour, m, image.Pt(recW, recH), gocv.InterpolationLinear, gocv.BorderReplicate, color.RGBA{})
	out := gocv.NewMat()
	toGrey(colour, &out)
	return out
}

// toGrey writes src as one grey channel to dst: copied when it is grey
// already, converted from BGR or BGRA otherwise.
func toGrey(src gocv.Mat, dst *gocv.Mat) {
	switch src.Channels() {
	case 1:
		src.CopyTo(dst)
	case 4:
		gocv.CvtColor(src, dst, gocv.ColorBGRAToGray)
	default:
		gocv.CvtColor(src, dst, gocv.ColorBGRToGray)
	}
}

// closeAll closes the Mats *ms holds when it is called (deferred: those
// appended after the defer statement too).
func closeAll(ms *[]gocv.Mat) {
	for i := range *ms {
		(*ms)[i].Close()
	}
}

// forwardBatched runs the net on inputs Batch at a time (one pass each).
func (r *Recogniser) forwardBatched(inputs []gocv.Mat) ([]Reading, error) {
	batch := max(1, r.Batch)
	out := make([]Reading, 0, len(inputs))
	for i := 0; i < len(inputs); i += batch {
		rs, err := r.forward(inputs[i:min(len(inputs), i+batch)])
		if err != nil {
			return nil, err
		}
		out = append(out, rs...)
	}
	return out, nil
}

// topN is how many candidates a reading carries (TopN, or its default).
func (r *Recogniser) topN() int {
	if r.TopN <= 0 {
		return defaultTopN
	}
	return r.TopN
}

// forward runs the net on recogniser inputs (192×48 grey) in one pass and
// decodes a Reading for each.
func (r *Recogniser) forward(inputs []gocv.Mat) ([]Reading, error) {
	blob := gocv.NewMat()
	defer blob.Close()
	gocv.BlobFromImages(inputs, &blob, 1.0/255, image.Pt(recW, recH), gocv.NewScalar(0, 0, 0, 0), false, false, gocv.MatTypeCV32F)

	r.mu.Lock()
	r.net.SetInput(blob, "input")
	logits := r.net.Forward("logits")
	r.mu.Unlock()
	defer logits.Close()

	sz := logits.Size()
	if len(sz) != 3 || sz[0] != len(inputs) || sz[2] != numClasses {
		return nil, fmt.Errorf("read plates: logits of shape %v, want [%d,T,%d]", sz, len(inputs), numClasses)
	}
	data, err := logits.DataPtrFloat32()
	if err != nil {
		return nil, fmt.Errorf("read plates: logits: %w", err)
	}
	T := sz[1]
	beam, topN := r.Beam, r.topN()
	if beam <= 0 {
		beam = defaultBeam
	}
	out := make([]Reading, len(inputs))
	for i := range inputs {
		out[i] = decode(data[i*T*numClasses:(i+1)*T*numClasses], T, beam, topN)
	}
	return out, nil
}

// readerInput crops crop out of img and returns the recogniser's 192×48
// greyscale 8-bit input, two-line plates laid side by side.
func readerInput(img gocv.Mat, crop image.Rectangle) (gocv.Mat, error) {
	if crop.Dx() < 2 || crop.Dy() < 2 {
		return gocv.Mat{}, fmt.Errorf("read plates: crop %v is too small", crop)
	}
	roi := img.Region(crop)
	defer roi.Close()
	grey := gocv.NewMat()
	defer grey.Close()
	toGrey(roi, &grey)
	out := gocv.NewMat()
	if float64(crop.Dx())/float64(crop.Dy()) < twoLineAspect && crop.Dy() >= 4 {
		mid, err := splitRow(grey)
		if err != nil {
			out.Close()
			return gocv.Mat{}, err
		}
		w, hh := crop.Dx(), min(mid, crop.Dy()-mid)
		top := grey.Region(image.Rect(0, 0, w, mid))
		bot := grey.Region(image.Rect(0, mid, w, crop.Dy()))
		topSized, botSized := gocv.NewMat(), gocv.NewMat()
		gocv.Resize(top, &topSized, image.Pt(w, hh), 0, 0, gocv.InterpolationLinear)
		gocv.Resize(bot, &botSized, image.Pt(w, hh), 0, 0, gocv.InterpolationLinear)
		side := gocv.NewMat()
		gocv.Hconcat(topSized, botSized, &side)
		gocv.Resize(side, &out, image.Pt(recW, recH), 0, 0, gocv.InterpolationLinear)
		for _, m := range []*gocv.Mat{&top, &bot, &topSized, &botSized, &side} {
			m.Close()
		}
		return out, nil
	}
	gocv.Resize(grey, &out, image.Pt(recW, recH), 0, 0, gocv.InterpolationLinear)
	return out, nil
}

// splitRow is the row a two-line plate's grey crop is cut at: among rows
// 35–65 % of its height, the deepest valley of horizontal ink between the
// lines. A row's ink is the sum of |I(x+1) − I(x)| over its band of rows
// y−k … y+k (k = h/20, at least 1); its valley depth is the lesser of the
// most ink of any row above it and of any row below it, less its own: the
// gap between the lines has strokes on both sides, while the blank margin
// of a loose box under or over the plate, as empty, has none beyond it.
// Ties go to the row nearest mid-height, then the upper one; the result is
// kept in [1, h−1]. The training side (vision/train/plates.py split_row)
// is the same integer arithmetic.
func splitRow(grey gocv.Mat) (int, error) {
	h, w := grey.Rows(), grey.Cols()
	px, err := grey.DataPtrUint8()
	if err != nil || !grey.IsContinuous() || len(px) < w*h {
		return 0, fmt.Errorf("read plates: two-line split: grey crop %dx%d is not one 8-bit block", w, h)
	}
	ink := make([]int, h)
	for y := range h {
		row := px[y*w : (y+1)*w]
		for x := 1; x < w; x++ {
			d := int(row[x]) - int(row[x-1])
			ink[y] += max(d, -d)
		}
	}
	k := max(1, h/20)
	band := make([]int, h)
	for y := range h {
		for j := max(0, y-k); j <= min(h-1, y+k); j++ {
			band[y] += ink[j]
		}
	}
	above := make([]int, h) // above[y]: the most band ink of rows 0 … y−1
	below := make([]int, h) // below[y]: the most band ink of rows y+1 … h−1
	for y := 1; y < h; y++ {
		above[y] = max(above[y-1], band[y-1])
	}
	for y := h - 2; y >= 0; y-- {
		below[y] = max(below[y+1], band[y+1])
	}
	best, bestDepth, bestOff := -1, 0, 0
	for y := int(float64(h) * 0.35); y <= int(float64(h)*0.65) && y < h; y++ {
		depth := min(above[y], below[y]) - band[y]
		off := max(2*y-h, h-2*y)
		if best < 0 || depth > bestDepth || (depth == bestDepth && off < bestOff) {
			best, bestDepth, bestOff = y, depth, off
		}
	}
	return min(max(best, 1), h-1), nil
}
