package vision

import (
	"errors"
	"fmt"
	"image"
	"io/fs"
	"os"
	"sync/atomic"
	"time"

	"github.com/ukanpr/anpr/app"
	"gocv.io/x/gocv"
)

// Plate is one plate read in one image.
type Plate struct {
	Text       string          // normalised best reading after region rules
	Raw        string          // the recogniser's own greedy text
	Confidence float64         // probability of Text, 0..1
	CharConf   []float64       // one per character of Text
	Format     app.Format      // format class of Text
	Box        image.Rectangle // detected plate, frame pixels
	Score      float32         // detector confidence
	Candidates []app.Candidate // top-N, best first; Candidates[0].Text == Text
}

// Reader finds and reads the plates in single images: the detector, then the
// recogniser on every detected box, then the region's rules.
type Reader struct {
	Detector   *Detector
	Recogniser *Recogniser
	Region     Region           // default RegionGB
	Now        func() time.Time // decides which UK age identifiers exist (default time.Now)
	// MinChars drops detections whose reading is shorter: a box with no
	// legible text is not reported as a plate (default 2).
	MinChars int
	// MinConfidence drops readings less sure than this (default 0: keep
	// every reading). The still-image commands set DefaultMinConfidence,
	// the floor a video pass must reach; the video pipeline leaves it at
	// 0, since its tracker votes a pass's readings before it applies the
	// floor, and one unsure frame of a pass still counts there.
	MinConfidence float64
	// TopN is how many candidates each plate carries (default 5).
	TopN int
	// Zoom is the window of the frame the detector looks at a second time,
	// at a larger scale, for distant plates (NewReader: the detector's
	// Zoom; the zero Zoom looks once). A camera mounted otherwise than
	// facing ahead may want another.
	Zoom Zoom
	// ZoomEvery looks through the zoom window on one image in this many
	// (default 1: every image). A video pipeline sets 3: a distant plate
	// stays in the window for many frames, and the second look costs as
	// much as the first.
	ZoomEvery int

	images atomic.Int64
}

// NewReader returns a reader using the given models and region.
func NewReader(m *Models, region Region) *Reader {
	return &Reader{Detector: m.Detector, Recogniser: m.Recogniser, Region: region, Zoom: m.Detector.Zoom}
}

// Read returns the plates in img (BGR), strongest detection first.
func (r *Reader) Read(img gocv.Mat) ([]Plate, error) {
	zoom := r.Zoom
	if n := r.images.Add(1); r.ZoomEvery > 1 && n%int64(r.ZoomEvery) != 0 {
		zoom = Zoom{}
	}
	dets, err := r.Detector.DetectZoom(img, zoom)
	if err != nil {
		return nil, err
	}
	return r.ReadBoxes(img, dets)
}

// ReadBoxes reads the plates at already detected boxes.
func (r *Reader) ReadBoxes(img gocv.Mat, dets []Detection) ([]Plate, error) {
	if len(dets) == 0 {
		return nil, nil
	}
	boxes := make([]image.Rectangle, len(dets))
	for i, d := range dets {
		boxes[i] = d.Box
	}
	readings, err := r.Recogniser.Read(img, boxes)
	if err != nil {
		return nil, err
	}
	now := time.Now()
	if r.Now != nil {
		now = r.Now()
	}
	region := r.Region
	if region == "" {
		region = RegionGB
	}
	minChars, topN := r.MinChars, r.TopN
	if minChars <= 0 {
		minChars = 2
	}
	if topN <= 0 {
		topN = defaultTopN
	}
	plates := make([]Plate, 0, len(dets))
	for i, rd := range readings {
		g := region.apply(rd, now, topN)
		if len(g.Text) < minChars || g.Confidence < r.MinConfidence {
			continue
		}
		plates = append(plates, Plate{
			Text: g.Text, Raw: rd.Text, Confidence: g.Confidence, CharConf: g.CharConf,
			Format: g.Format, Box: dets[i].Box, Score: dets[i].Score, Candidates: g.Candidates,
		})
	}
	return plates, nil
}

// LoadImage reads an image file as BGR. A missing, empty or undecodable
// file gives an error naming it that wraps ErrUnreadableImage.
func LoadImage(path string) (gocv.Mat, error) {
	fi, err := os.Stat(path)
	switch {
	case err != nil:
		var pe *fs.PathError
		if errors.As(err, &pe) {
			err = pe.Err
		}
		return gocv.Mat{}, fmt.Errorf("image %s: %w (%w)", path, ErrUnreadableImage, err)
	case fi.IsDir():
		return gocv.Mat{}, fmt.Errorf("image %s: %w (a directory)", path, ErrUnreadableImage)
	}
	m := gocv.IMRead(path, gocv.IMReadColor)
	if m.Empty() {
		m.Close()
		return gocv.Mat{}, fmt.Errorf("image %s: %w", path, ErrUnreadableImage)
	}
	return m, nil
}
