// Package assets holds the files the in-car binary carries inside itself so
// that it runs from a single file: the plate models with their model cards
// (and, later, sounds). Models are produced by vision/train and committed
// under assets/models/; the contract between the trainer and the Go reader is
// models/CONTRACT.md.
package assets

import (
	"embed"
	"errors"
	"fmt"
	"io/fs"
)

// Models is assets/models/: the ONNX models and their cards (go:embed
// refuses a pattern that matches no file: both patterns have one now).
//
//go:embed models/*.onnx models/*.md
var Models embed.FS

// Model file names, as vision/train writes them.
const (
	ReaderModel   = "plate-reader.onnx"
	DetectorModel = "plate-detector.onnx"
)

// ErrNoModel reports that a model is not in this build.
var ErrNoModel = errors.New("model not in this build")

// Model returns the bytes of the named model file (for example ReaderModel).
// A model that has not been trained and committed yet gives an error wrapping
// ErrNoModel that names the file.
func Model(name string) ([]byte, error) {
	b, err := Models.ReadFile("models/" + name)
	if errors.Is(err, fs.ErrNotExist) {
		return nil, fmt.Errorf("assets/models/%s: %w (train it with 'make models' and commit it)", name, ErrNoModel)
	}
	if err != nil {
		return nil, fmt.Errorf("assets/models/%s: %w", name, err)
	}
	return b, nil
}
