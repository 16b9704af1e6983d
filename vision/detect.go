package vision

import (
	"fmt"
	"image"
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

	mu  sync.Mutex
	net gocv.Net
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
	return &Detector{Threshold: detThreshold, NMS: detNMSIoU, net: net}, nil
}

// Close releases the model.
func (d *Detector) Close() error {
	d.mu.Lock()
	defer d.mu.Unlock()
	return d.net.Close()
}

// Detect returns the plates in img (BGR, any size), strongest first.
func (d *Detector) Detect(img gocv.Mat) ([]Detection, error) {
	if img.Empty() {
		return nil, fmt.Errorf("detect plates: empty image")
	}
	W, H := img.Cols(), img.Rows()
	s := min(float64(detW)/float64(W), float64(detH)/float64(H))
	w, h := min(detW, int(float64(W)*s+0.5)), min(detH, int(float64(H)*s+0.5))

	small := gocv.NewMat()
	defer func() { small.Close() }()
	src := img
	if img.Channels() != 3 {
		code := gocv.ColorGrayToBGR
		if img.Channels() == 4 {
			code = gocv.ColorBGRAToBGR
		}
		gocv.CvtColor(img, &small, code)
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
	if w == detW && h == detH {
		blob = gocv.BlobFromImage(scaled, 1.0/255, image.Pt(detW, detH), gocv.NewScalar(0, 0, 0, 0), true, false)
	} else {
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
	dets := decodeHeatmap(heat, box, gw, gh, d.Threshold, s, image.Rect(0, 0, W, H))
	return nms(dets, d.NMS), nil
}

// decodeHeatmap keeps the 3×3 local maxima at or above thr and turns each into
// a box in frame pixels (input pixels divided by the scale s), clipped to
// bounds.
func decodeHeatmap(heat, box []float32, gw, gh int, thr float32, s float64, bounds image.Rectangle) []Detection {
	plane := gw * gh
	var out []Detection
	for y := 0; y < gh; y++ {
		for x := 0; x < gw; x++ {
			v := heat[y*gw+x]
			if v < thr || !localMax(heat, gw, gh, x, y) {
				continue
			}
			i := y*gw + x
			cx := (float64(x) + float64(box[i])) * detStride / s
			cy := (float64(y) + float64(box[plane+i])) * detStride / s
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
