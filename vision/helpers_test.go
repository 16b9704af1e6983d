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

// frames lists the distinct image files of labels, in order.
func frames(labels []label) []string {
	seen := map[string]bool{}
	var files []string
	for _, l := range labels {
		if !seen[l.file] {
			seen[l.file] = true
			files = append(files, l.file)
		}
	}
	return files
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

// writeDrive writes n 1280×720 MJPG frames at fps: a slow zoom into the real
// dash-cam frame img (relative to testdata/dashcam), so plates grow and move
// as if approached. zoomAt(i) gives the crop's zoom factor and vertical drift.
func writeDrive(t testing.TB, dir, img string, n int, fps float64) string {
	t.Helper()
	src, err := LoadImage(filepath.Join("..", "testdata", "dashcam", img))
	if err != nil {
		t.Fatal(err)
	}
	defer src.Close()
	path := filepath.Join(dir, "drive.avi")
	vw, err := gocv.VideoWriterFile(path, "MJPG", fps, 1280, 720, true)
	if err != nil {
		t.Fatal(err)
	}
	frame := gocv.NewMat()
	defer frame.Close()
	for i := 0; i < n; i++ {
		r := driveCrop(i, n)
		roi := src.Region(r)
		gocv.Resize(roi, &frame, image.Pt(1280, 720), 0, 0, gocv.InterpolationLinear)
		roi.Close()
		if err := vw.Write(frame); err != nil {
			t.Fatal(err)
		}
	}
	if err := vw.Close(); err != nil {
		t.Fatal(err)
	}
	return path
}

// driveCrop is the part of the source frame shown as frame i of n.
func driveCrop(i, n int) image.Rectangle {
	k := float64(i) / float64(max(1, n-1))
	zoom := 1 + 0.2*k
	cw, ch := int(1280/zoom), int(720/zoom)
	x0, y0 := (1280-cw)/2, min((720-ch)/2+int(30*k), 720-ch)
	return image.Rect(x0, y0, x0+cw, y0+ch)
}

// mapBox maps a box in the source frame to frame i of writeDrive's video.
func mapBox(b image.Rectangle, i, n int) image.Rectangle {
	r := driveCrop(i, n)
	s := 1280 / float64(r.Dx())
	f := func(x, o int) int { return int(float64(x-o)*s + 0.5) }
	return image.Rect(f(b.Min.X, r.Min.X), f(b.Min.Y, r.Min.Y), f(b.Max.X, r.Min.X), f(b.Max.Y, r.Min.Y))
}

// labelsByFile groups labels by the image they are in.
func labelsByFile(labels []label) map[string][]label {
	out := map[string][]label{}
	for _, l := range labels {
		out[l.file] = append(out[l.file], l)
	}
	return out
}

// eachReadable calls fn with every readable labelled plate of the vendored
// frames at least minWidth pixels wide and its frame, closed after fn.
func eachReadable(t testing.TB, minWidth int, fn func(l label, img gocv.Mat)) {
	t.Helper()
	dir, labels := dashcam(t)
	for _, l := range labels {
		if !l.readable || l.box.Dx() < minWidth {
			continue
		}
		img, err := LoadImage(filepath.Join(dir, l.file))
		if err != nil {
			t.Fatal(err)
		}
		fn(l, img)
		img.Close()
	}
}
