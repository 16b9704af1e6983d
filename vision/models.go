package vision

import (
	"errors"
	"fmt"
	"image"
	"os"
	"path/filepath"
	"regexp"
	"strconv"

	"github.com/ukanpr/anpr/assets"
	"gocv.io/x/gocv"
)

// ErrUnreadableImage reports an image file OpenCV cannot decode.
var ErrUnreadableImage = errors.New("not a readable image")

// Models holds the loaded detector and recogniser. One Models may serve
// several pipelines (front and rear cameras): both are safe for concurrent use.
type Models struct {
	Detector   *Detector
	Recogniser *Recogniser
}

// LoadModels loads both models: from dir when it is not empty (a trainer's
// fresh export), otherwise from the copies embedded in the binary, with the
// detector's threshold from its model card (plate-detector.md) beside it. A
// missing model or card, or a card that recommends no threshold, gives an
// error naming its file.
func LoadModels(dir string) (*Models, error) {
	read := func(name string) ([]byte, error) {
		if dir == "" {
			return assets.Model(name)
		}
		b, err := os.ReadFile(filepath.Join(dir, name))
		if err != nil {
			return nil, fmt.Errorf("model %w", err)
		}
		return b, nil
	}
	db, err := read(assets.DetectorModel)
	if err != nil {
		return nil, err
	}
	rb, err := read(assets.ReaderModel)
	if err != nil {
		return nil, err
	}
	// The detector's threshold belongs to the weights it was chosen for: a
	// models folder without its card would silently run at another one.
	card, err := read(detectorCard)
	if err != nil {
		return nil, fmt.Errorf("%w: the detector's threshold is read from its model card, beside the model", err)
	}
	thr, ok := cardThreshold(card)
	if !ok {
		return nil, fmt.Errorf("%s: no recommended threshold (\"threshold\" followed by a number between 0 and 1)", filepath.Join(dir, detectorCard))
	}
	det, err := NewDetector(db)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", assets.DetectorModel, err)
	}
	det.Threshold = thr
	rec, err := NewRecogniser(rb)
	if err != nil {
		det.Close()
		return nil, fmt.Errorf("%s: %w", assets.ReaderModel, err)
	}
	m := &Models{Detector: det, Recogniser: rec}
	if err := m.warm(); err != nil {
		m.Close()
		return nil, err
	}
	return m, nil
}

// warm runs each net once on a blank frame: OpenCV allocates a net's layers
// on its first forward pass, which would otherwise land on the first real
// frame (100 ms and more), and a model that cannot run fails here, at start.
func (m *Models) warm() error {
	blank := gocv.NewMatWithSize(detH, detW, gocv.MatTypeCV8UC3)
	defer blank.Close()
	if _, err := m.Detector.Detect(blank); err != nil {
		return fmt.Errorf("%s: %w", assets.DetectorModel, err)
	}
	if _, err := m.Recogniser.Read(blank, []image.Rectangle{image.Rect(100, 100, 300, 150)}); err != nil {
		return fmt.Errorf("%s: %w", assets.ReaderModel, err)
	}
	return nil
}

// detectorCard is the detector's model card, beside the model.
const detectorCard = "plate-detector.md"

// thresholdRE finds the recommended heat-map threshold in a model card: the
// first number in 0..1 within a few words after "threshold".
var thresholdRE = regexp.MustCompile(`(?i)threshold[^0-9\n]{0,60}?(0?\.[0-9]+|1\.0*)\b`)

// cardThreshold reads the recommended detection threshold from a model card.
func cardThreshold(card []byte) (float32, bool) {
	m := thresholdRE.FindSubmatch(card)
	if m == nil {
		return 0, false
	}
	v, err := strconv.ParseFloat(string(m[1]), 32)
	if err != nil || v <= 0 || v >= 1 {
		return 0, false
	}
	return float32(v), true
}

// Close releases both models.
func (m *Models) Close() error {
	return errors.Join(m.Detector.Close(), m.Recogniser.Close())
}
