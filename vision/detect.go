package vision

import (
	"fmt"
	"image"
	"image/color"
	"sort"
	"sync"

	"gocv.io/x/gocv"
)

// Detector input geometry and output stride (assets/models/CONTRACT.md).
const (
	detW, detH   = 512, 288
	detStride    = 4
	detThreshold = 0.35 // until the model card recommends one
	detNMSIoU    = 0.3
)

// Detection is one plate found in a frame, in frame pixels.
type Detection struct {
	Box   image.Rectangle
	Score float32 // heat-map peak, 0..1
}

// Detector finds plates in a frame with the CenterNet-style ONNX model run by
// OpenCV DNN. It is safe for concurrent use; calls are serialised because an
// OpenCV Net is not.
type Detector struct {
	// Threshold is the lowest heat-map peak kept (default: the model card's).
	Threshold float32
	// NMS is the IoU above which the weaker of two boxes is suppressed.
	NMS float64
	// Zoom is the part of the frame Detect looks at a second time, at a
	// larger scale, for distant plates (default DefaultZoom; the zero Zoom
	// looks once). A Reader made by NewReader starts from it.
	Zoom Zoom
	// Near also looks for plates too big for the whole frame's scale, as in
	// a close-up photograph (a plate over about a quarter of the image's
	// width): two more passes over the whole image shrunk to 1/2 and 1/3
	// of that scale. Off by default: a dash camera seldom sees a plate so
	// close, and each pass costs as much as the first. Stills (anpr read,
	// anpr eval) turn it on.
	Near bool
	// Far also looks for distant plates across the whole image, not only
	// through Zoom: four more passes, through its corner windows (each
	// farWindow of its width and height, overlapping), at the scale of the
	// default zoom. Off by default: a forward camera's distant plates lie
	// in its zoom window, and each pass costs as much as the first. Stills
	// (anpr read, anpr eval), whose plates may be anywhere, turn it on.
	Far bool

	mu  sync.Mutex
	net gocv.Net
}

// Zoom is a window of the frame in fractions of its width and height.
type Zoom struct{ X0, Y0, X1, Y1 float64 }

// DefaultZoom is the middle of the frame, a little below centre: where a
// forward camera sees distant vehicles, whose plates are too small for the
// detector at the whole frame's scale (a 1280×720 frame is seen at 0.4×, the
// window at 0.67×). It costs one more pass of the detector.
var DefaultZoom = Zoom{0.2, 0.25, 0.8, 0.85}

// ParseZoom reads "off", "on" (DefaultZoom) or "X0,Y0,X1,Y1" fractions.
func ParseZoom(s string) (Zoom, error) {
	switch s {
	case "off":
		return Zoom{}, nil
	case "on", "":
		return DefaultZoom, nil
	}
	var z Zoom
	if n, err := fmt.Sscanf(s, "%g,%g,%g,%g", &z.X0, &z.Y0, &z.X1, &z.Y1); err != nil || n != 4 {
		return Zoom{}, fmt.Errorf("zoom %q: want off, on or X0,Y0,X1,Y1 fractions of the frame", s)
	}
	if z.X0 < 0 || z.Y0 < 0 || z.X1 > 1 || z.Y1 > 1 || z.X0 >= z.X1 || z.Y0 >= z.Y1 {
		return Zoom{}, fmt.Errorf("zoom %q: want 0 ≤ X0 < X1 ≤ 1 and 0 ≤ Y0 < Y1 ≤ 1", s)
	}
	return z, nil
}

// window is the zoom window in a W×H frame; empty when it would not be
// looked at at least a quarter larger than the whole frame.
func (z Zoom) window(W, H int) image.Rectangle {
	r := image.Rect(int(z.X0*float64(W)), int(z.Y0*float64(H)), int(z.X1*float64(W)), int(z.Y1*float64(H)))
	if r.Dx() < 8 || r.Dy() < 8 || detScale(r.Dx(), r.Dy()) < 1.25*detScale(W, H) {
		return image.Rectangle{}
	}
	return r
}

// NewDetector loads the detector from ONNX bytes.
func NewDetector(model []byte) (*Detector, error) {
	net, err := gocv.ReadNetFromONNXBytes(model)
	if err != nil || net.Empty() {
		if err == nil {
			net.Close()
		}
		return nil, fmt.Errorf("load plate detector: OpenCV cannot read the ONNX model: %v", err)
	}
	return &Detector{Threshold: detThreshold, NMS: detNMSIoU, Zoom: DefaultZoom, net: net}, nil
}

// Close releases the model.
func (d *Detector) Close() error {
	d.mu.Lock()
	defer d.mu.Unlock()
	return d.net.Close()
}

// Detect returns the plates in img (BGR, any size), strongest first: those
// the detector finds in the whole frame and, looking again at the zoom
// window, those it finds there that do not touch the window's edge (a plate
// cut by the edge is the whole frame's to find); with Near, also the big
// plates it finds in the shrunk image.
func (d *Detector) Detect(img gocv.Mat) ([]Detection, error) {
	return d.DetectZoom(img, d.Zoom)
}

// DetectZoom is Detect through the window z instead of d.Zoom (the zero
// Zoom: the whole frame only). Each camera of a car can have its own
// window while the cameras share one detector.
func (d *Detector) DetectZoom(img gocv.Mat, z Zoom) ([]Detection, error) {
	if img.Empty() {
		return nil, fmt.Errorf("detect plates: empty image")
	}
	W, H := img.Cols(), img.Rows()
	whole := image.Rect(0, 0, W, H)
	dets, err := d.detectIn(img, whole, 1)
	if err != nil {
		return nil, err
	}
	windows := []Zoom{z}
	if d.Far {
		windows = append(windows, farWindows...)
	}
	for _, z := range windows {
		win := z.window(W, H)
		if win.Empty() {
			continue
		}
		more, err := d.detectIn(img, win, 1)
		if err != nil {
			return nil, err
		}
		dets = append(dets, zoomed(dets, more, win, zoomMaxWidth/detScale(W, H))...)
	}
	if d.Near {
		var big []Detection
		for _, k := range nearScales {
			more, err := d.detectIn(img, whole, k)
			if err != nil {
				return nil, err
			}
			big = append(big, more...)
		}
		dets = near(dets, big, nearMinWidth/detScale(W, H))
	}
	return nms(dets, d.NMS), nil
}

// farWindow is the side of Far's corner windows, as a fraction of the
// image's: the default zoom window's size, so they look at its scale.
const farWindow = 0.6

// farWindows are Far's windows: the image's four corners, overlapping by
// 2·farWindow − 1 of its width and height.
var farWindows = []Zoom{
	{0, 0, farWindow, farWindow}, {1 - farWindow, 0, 1, farWindow},
	{0, 1 - farWindow, farWindow, 1}, {1 - farWindow, 1 - farWindow, 1, 1},
}

// nearScales are the Near passes' scales, as fractions of the whole frame's:
// the net finds plates up to about 130 input pixels wide well (its receptive
// field is about 135), so at 1/2 and 1/3 a plate filling the image's width
// (≤ 512 pixels at the whole frame's scale) comes within reach.
var nearScales = []float64{1.0 / 2, 1.0 / 3}

// nearMinWidth is the narrowest plate, in the detector's input pixels at the
// whole frame's scale, that a Near pass adds: smaller ones are the whole
// frame's to find (a shrunk image shows them under 48 pixels wide, where the net
// guesses more).
const nearMinWidth = 96

// near merges the Near passes' detections into the whole frame's: a big
// plate at least minW frame pixels wide is added, and it replaces the weaker
// detections lying mostly inside it, the whole frame's or a Near pass's
// (a plate too big for a scale is found there in pieces).
func near(dets, big []Detection, minW float64) []Detection {
	var add []Detection
	for _, b := range big {
		if float64(b.Box.Dx()) >= minW {
			add = append(add, b)
		}
	}
	var out []Detection
	for _, d := range append(dets[:len(dets):len(dets)], add...) {
		inside := false
		for _, b := range add {
			in := b.Box.Intersect(d.Box)
			inside = inside || (b.Score > d.Score && 2*in.Dx()*in.Dy() > d.Box.Dx()*d.Box.Dy() &&
				d.Box.Dx() < b.Box.Dx()*3/4)
		}
		if !inside {
			out = append(out, d)
		}
	}
	return out
}

// zoomMaxWidth is the widest plate, in the detector's input pixels at the
// whole frame's scale, that the zoom window adds: the whole frame finds
// bigger ones well, and the zoomed view (beyond the scales the net trained
// on) sees them in pieces.
const zoomMaxWidth = 32

// zoomed is the zoom pass's detections to add to the whole frame's: those
// inside the window (not cut by its edge), at most maxW frame pixels wide,
// and not overlapping a plate the whole frame found.
func zoomed(whole, more []Detection, win image.Rectangle, maxW float64) []Detection {
	inner := win.Inset(2)
	var out []Detection
	for _, m := range more {
		if !m.Box.In(inner) || float64(m.Box.Dx()) > maxW {
			continue
		}
		seen := false
		for _, w := range whole {
			in := w.Box.Intersect(m.Box)
			seen = seen || 2*in.Dx()*in.Dy() > m.Box.Dx()*m.Box.Dy()
		}
		if !seen {
			out = append(out, m)
		}
	}
	return out
}

// detScale is the factor a w×h image is resized by to fit the input.
func detScale(w, h int) float64 {
	return min(float64(detW)/float64(w), float64(detH)/float64(h))
}

// detectIn runs the net once on the part of img inside roi, scaled to k
// times the size that fits the input, and returns its local maxima in frame
// pixels, before NMS. At k = 1 the part sits at the input's top left over a
// black rest; shrunk (k < 1), in the middle with its edges repeated around
// it, which the net mistakes less for an edge of the scene.
func (d *Detector) detectIn(img gocv.Mat, roi image.Rectangle, k float64) ([]Detection, error) {
	W, H := roi.Dx(), roi.Dy()
	s := detScale(W, H) * k
	w, h := min(detW, max(1, int(float64(W)*s+0.5))), min(detH, max(1, int(float64(H)*s+0.5)))
	var off image.Point // where the part's top left lies in the input

	part := img
	if roi != image.Rect(0, 0, img.Cols(), img.Rows()) {
		part = img.Region(roi)
		defer part.Close()
	}
	small := gocv.NewMat()
	defer func() { small.Close() }()
	src := part
	if part.Channels() != 3 {
		code := gocv.ColorGrayToBGR
		if part.Channels() == 4 {
			code = gocv.ColorBGRAToBGR
		}
		gocv.CvtColor(part, &small, code)
		src = small
	}
	// Downscale: halve with INTER_AREA (fast at exactly 2×, and free of
	// aliasing) while more than 2× too big, then INTER_LINEAR the rest of
	// the way. INTER_AREA at 2.5× costs 20 times more (7.6 ms a 720p frame).
	for src.Cols() >= 2*w && src.Rows() >= 2*h {
		half := gocv.NewMat()
		gocv.Resize(src, &half, image.Pt(src.Cols()/2, src.Rows()/2), 0, 0, gocv.InterpolationArea)
		small.Close()
		small, src = half, half
	}
	scaled := gocv.NewMat()
	defer scaled.Close()
	gocv.Resize(src, &scaled, image.Pt(w, h), 0, 0, gocv.InterpolationLinear)
	var blob gocv.Mat
	switch {
	case w == detW && h == detH:
		blob = gocv.BlobFromImage(scaled, 1.0/255, image.Pt(detW, detH), gocv.NewScalar(0, 0, 0, 0), true, false)
	case k < 1:
		off = image.Pt((detW-w)/2, (detH-h)/2)
		canvas := gocv.NewMat()
		gocv.CopyMakeBorder(scaled, &canvas, off.Y, detH-h-off.Y, off.X, detW-w-off.X, gocv.BorderReplicate, color.RGBA{})
		blob = gocv.BlobFromImage(canvas, 1.0/255, image.Pt(detW, detH), gocv.NewScalar(0, 0, 0, 0), true, false)
		canvas.Close()
	default:
		canvas := gocv.NewMatWithSizeFromScalar(gocv.NewScalar(0, 0, 0, 0), detH, detW, gocv.MatTypeCV8UC3)
		roi := canvas.Region(image.Rect(0, 0, w, h))
		scaled.CopyTo(&roi)
		roi.Close()
		blob = gocv.BlobFromImage(canvas, 1.0/255, image.Pt(detW, detH), gocv.NewScalar(0, 0, 0, 0), true, false)
		canvas.Close()
	}
	defer blob.Close()
	d.mu.Lock()
	defer d.mu.Unlock()
	d.net.SetInput(blob, "input")
	outs := d.net.ForwardLayers([]string{"heatmap", "box"})
	defer func() {
		for i := range outs {
			outs[i].Close()
		}
	}()
	if len(outs) != 2 {
		return nil, fmt.Errorf("detect plates: model gave %d outputs, want heatmap and box", len(outs))
	}
	heat, err := outs[0].DataPtrFloat32()
	if err != nil {
		return nil, fmt.Errorf("detect plates: heatmap: %w", err)
	}
	box, err := outs[1].DataPtrFloat32()
	if err != nil {
		return nil, fmt.Errorf("detect plates: box: %w", err)
	}
	gh, gw := detH/detStride, detW/detStride
	if sz := outs[0].Size(); len(sz) == 4 {
		gh, gw = sz[2], sz[3]
	}
	if len(heat) < gh*gw || len(box) < 4*gh*gw {
		return nil, fmt.Errorf("detect plates: outputs of %d and %d values, want %d and %d", len(heat), len(box), gh*gw, 4*gh*gw)
	}
	dets := decodeHeatmap(heat, box, gw, gh, d.Threshold, s, off, image.Rect(0, 0, W, H))
	for i := range dets {
		dets[i].Box = dets[i].Box.Add(roi.Min)
	}
	return dets, nil
}

// decodeHeatmap keeps the 3×3 local maxima at or above thr and turns each into
// a box in frame pixels (input pixels less off, divided by the scale s),
// clipped to bounds.
func decodeHeatmap(heat, box []float32, gw, gh int, thr float32, s float64, off image.Point, bounds image.Rectangle) []Detection {
	plane := gw * gh
	var out []Detection
	for y := 0; y < gh; y++ {
		for x := 0; x < gw; x++ {
			v := heat[y*gw+x]
			if v < thr || !localMax(heat, gw, gh, x, y) {
				continue
			}
			i := y*gw + x
			cx := ((float64(x)+float64(box[i]))*detStride - float64(off.X)) / s
			cy := ((float64(y)+float64(box[plane+i]))*detStride - float64(off.Y)) / s
			bw := float64(box[2*plane+i]) * detStride / s
			bh := float64(box[3*plane+i]) * detStride / s
			if bw < 2 || bh < 2 {
				continue
			}
			r := image.Rect(int(cx-bw/2+0.5), int(cy-bh/2+0.5), int(cx+bw/2+0.5), int(cy+bh/2+0.5)).Intersect(bounds)
			if r.Dx() < 2 || r.Dy() < 2 {
				continue
			}
			out = append(out, Detection{Box: r, Score: v})
		}
	}
	return out
}

func localMax(heat []float32, gw, gh, x, y int) bool {
	v := heat[y*gw+x]
	for dy := -1; dy <= 1; dy++ {
		for dx := -1; dx <= 1; dx++ {
			xx, yy := x+dx, y+dy
			if (dx == 0 && dy == 0) || xx < 0 || yy < 0 || xx >= gw || yy >= gh {
				continue
			}
			n := heat[yy*gw+xx]
			// Ties go to the earlier cell so a flat peak yields one box.
			if n > v || (n == v && (dy < 0 || (dy == 0 && dx < 0))) {
				return false
			}
		}
	}
	return true
}

// nms keeps the strongest of overlapping detections.
func nms(dets []Detection, thr float64) []Detection {
	sort.SliceStable(dets, func(i, j int) bool { return dets[i].Score > dets[j].Score })
	keep := dets[:0:0]
	for _, d := range dets {
		ok := true
		for _, k := range keep {
			if IoU(d.Box, k.Box) > thr {
				ok = false
				break
			}
		}
		if ok {
			keep = append(keep, d)
		}
	}
	return keep
}

// IoU is the intersection over union of two rectangles.
func IoU(a, b image.Rectangle) float64 {
	in := a.Intersect(b)
	if in.Empty() {
		return 0
	}
	ia := float64(in.Dx() * in.Dy())
	u := float64(a.Dx()*a.Dy()) + float64(b.Dx()*b.Dy()) - ia
	if u <= 0 {
		return 0
	}
	return ia / u
}
