package vision

import (
	"encoding/csv"
	"errors"
	"image"
	"os"
	"path/filepath"
	"strconv"
	"sync"
	"testing"

	"github.com/ukanpr/anpr/assets"
	"gocv.io/x/gocv"
)

var (
	modelsOnce sync.Once
	models     *Models
	modelsErr  error
)

// testModels returns the embedded models (or those in $ANPR_MODELS), shared
// by the tests and never closed; the test is skipped while a model has not
// been trained and committed yet.
func testModels(t testing.TB) *Models {
	t.Helper()
	modelsOnce.Do(func() { models, modelsErr = LoadModels(os.Getenv("ANPR_MODELS")) })
	if errors.Is(modelsErr, assets.ErrNoModel) {
		t.Skipf("model not committed yet: %v", modelsErr)
	}
	if modelsErr != nil {
		t.Fatal(modelsErr)
	}
	return models
}

// label is one row of a dash-cam labels.csv.
type label struct {
	file     string
	text     string
	box      image.Rectangle
	readable bool
}

// dashcam returns the labelled frames vendored in testdata/dashcam.
func dashcam(t testing.TB) (dir string, labels []label) {
	t.Helper()
	dir = filepath.Join("..", "testdata", "dashcam")
	f, err := os.Open(filepath.Join(dir, "labels.csv"))
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	rows, err := csv.NewReader(f).ReadAll()
	if err != nil {
		t.Fatal(err)
	}
	for _, r := range rows[1:] {
		n := make([]int, 4)
		for i := range n {
			n[i], _ = strconv.Atoi(r[2+i])
		}
		labels = append(labels, label{
			file: r[0], text: r[1], readable: r[6] == "1",
			box: image.Rect(n[0], n[1], n[0]+n[2], n[1]+n[3]),
		})
	}
	return dir, labels
}

// writeVideo writes n frames of w×h, frame i a flat grey of level 10*i
// (mod 256), as MJPG at fps into a new file in dir.
func writeVideo(t testing.TB, dir string, n, w, h int, fps float64) string {
	t.Helper()
	path := filepath.Join(dir, "clip.avi")
	vw, err := gocv.VideoWriterFile(path, "MJPG", fps, w, h, true)
	if err != nil {
		t.Fatal(err)
	}
	m := gocv.NewMatWithSize(h, w, gocv.MatTypeCV8UC3)
	defer m.Close()
	for i := 0; i < n; i++ {
		v := float64((10 * i) % 256)
		m.SetTo(gocv.NewScalar(v, v, v, 0))
		if err := vw.Write(m); err != nil {
			t.Fatal(err)
		}
	}
	if err := vw.Close(); err != nil {
		t.Fatal(err)
	}
	return path
}

// level is the mean grey of a frame written by writeVideo, as a frame index.
func level(m gocv.Mat) int {
	return int(m.Mean().Val1/10 + 0.5)
}
