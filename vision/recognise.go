package vision

import (
	"fmt"
	"image"
	"sync"

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
	batch := max(1, r.Batch)
	out := make([]Reading, 0, len(boxes))
	for i := 0; i < len(boxes); i += batch {
		rs, err := r.readBatch(img, boxes[i:min(len(boxes), i+batch)])
		if err != nil {
			return nil, err
		}
		out = append(out, rs...)
	}
	return out, nil
}

func (r *Recogniser) readBatch(img gocv.Mat, boxes []image.Rectangle) ([]Reading, error) {
	inputs := make([]gocv.Mat, 0, len(boxes))
	defer func() {
		for i := range inputs {
			inputs[i].Close()
		}
	}()
	bounds := image.Rect(0, 0, img.Cols(), img.Rows())
	for _, b := range boxes {
		m, err := readerInput(img, CropBox(b, bounds))
		if err != nil {
			return nil, err
		}
		inputs = append(inputs, m)
	}
	blob := gocv.NewMat()
	defer blob.Close()
	gocv.BlobFromImages(inputs, &blob, 1.0/255, image.Pt(recW, recH), gocv.NewScalar(0, 0, 0, 0), false, false, gocv.MatTypeCV32F)

	r.mu.Lock()
	r.net.SetInput(blob, "input")
	logits := r.net.Forward("logits")
	r.mu.Unlock()
	defer logits.Close()

	sz := logits.Size()
	if len(sz) != 3 || sz[0] != len(boxes) || sz[2] != numClasses {
		return nil, fmt.Errorf("read plates: logits of shape %v, want [%d,T,%d]", sz, len(boxes), numClasses)
	}
	data, err := logits.DataPtrFloat32()
	if err != nil {
		return nil, fmt.Errorf("read plates: logits: %w", err)
	}
	T := sz[1]
	beam, topN := r.Beam, r.TopN
	if beam <= 0 {
		beam = defaultBeam
	}
	if topN <= 0 {
		topN = defaultTopN
	}
	out := make([]Reading, len(boxes))
	for i := range boxes {
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
	switch roi.Channels() {
	case 1:
		roi.CopyTo(&grey)
	case 4:
		gocv.CvtColor(roi, &grey, gocv.ColorBGRAToGray)
	default:
		gocv.CvtColor(roi, &grey, gocv.ColorBGRToGray)
	}
	out := gocv.NewMat()
	if float64(crop.Dx())/float64(crop.Dy()) < twoLineAspect && crop.Dy() >= 4 {
		h := crop.Dy() / 2
		top := grey.Region(image.Rect(0, 0, crop.Dx(), h))
		bot := grey.Region(image.Rect(0, h, crop.Dx(), crop.Dy()))
		botSized := gocv.NewMat()
		gocv.Resize(bot, &botSized, image.Pt(crop.Dx(), h), 0, 0, gocv.InterpolationLinear)
		side := gocv.NewMat()
		gocv.Hconcat(top, botSized, &side)
		gocv.Resize(side, &out, image.Pt(recW, recH), 0, 0, gocv.InterpolationLinear)
		top.Close()
		bot.Close()
		botSized.Close()
		side.Close()
		return out, nil
	}
	gocv.Resize(grey, &out, image.Pt(recW, recH), 0, 0, gocv.InterpolationLinear)
	return out, nil
}
