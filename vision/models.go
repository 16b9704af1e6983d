package vision

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"

	"github.com/ukanpr/anpr/assets"
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
// fresh export), otherwise from the copies embedded in the binary. A missing
// model gives an error naming its file.
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
	det, err := NewDetector(db)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", assets.DetectorModel, err)
	}
	rec, err := NewRecogniser(rb)
	if err != nil {
		det.Close()
		return nil, fmt.Errorf("%s: %w", assets.ReaderModel, err)
	}
	return &Models{Detector: det, Recogniser: rec}, nil
}

// Close releases both models.
func (m *Models) Close() error {
	return errors.Join(m.Detector.Close(), m.Recogniser.Close())
}
