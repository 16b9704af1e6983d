package vision

import (
	"context"
	"fmt"
	"image"
	"testing"

	"gocv.io/x/gocv"
)

func benchFrame(b *testing.B) (*Models, []label, func()) {
	m := testModels(b)
	_, labels := dashcam(b)
	var ls []label
	for _, l := range labels {
		if l.file == "images/train_dayride_type1_001.mp4_t_519.jpg" {
			ls = append(ls, l)
		}
	}
	return m, ls, func() {}
}

// loadBenchImage loads the benchmark's frame (three plates).
func loadBenchImage(b *testing.B) gocv.Mat {
	dir, _ := dashcam(b)
	img, err := LoadImage(dir + "/images/train_dayride_type1_001.mp4_t_519.jpg")
	if err != nil {
		b.Fatal(err)
	}
	return img
}

// BenchmarkDetector times one detector pass over a 1280×720 dash-cam frame.
func BenchmarkDetector(b *testing.B) {
	for _, threads := range []int{1, 0} {
		b.Run(fmt.Sprintf("threads=%d", threads), func(b *testing.B) {
			SetThreads(threads)
			defer SetThreads(0)
			m, ls, done := benchFrame(b)
			defer done()
			_ = ls
			img := loadBenchImage(b)
			defer img.Close()
			b.ResetTimer()
			for i := 0; i < b.N; i++ {
				if _, err := m.Detector.Detect(img); err != nil {
					b.Fatal(err)
				}
			}
			b.ReportMetric(float64(b.Elapsed().Milliseconds())/float64(b.N), "ms/frame")
		})
	}
}

// BenchmarkRecogniser times reading n plates of the frame in one batch.
func BenchmarkRecogniser(b *testing.B) {
	SetThreads(1)
	defer SetThreads(0)
	for _, n := range []int{1, 3, 8} {
		b.Run(fmt.Sprintf("n=%d", n), func(b *testing.B) {
			m, ls, done := benchFrame(b)
			defer done()
			img := loadBenchImage(b)
			defer img.Close()
			boxes := make([]image.Rectangle, n)
			for i := range boxes {
				boxes[i] = ls[i%len(ls)].box
			}
			b.ResetTimer()
			for i := 0; i < b.N; i++ {
				if _, err := m.Recogniser.Read(img, boxes); err != nil {
					b.Fatal(err)
				}
			}
			b.ReportMetric(float64(b.Elapsed().Microseconds())/1000/float64(b.N*n), "ms/plate")
		})
	}
}

// BenchmarkFrame times the whole per-frame work on one OpenCV thread:
// detect, recognise every plate, region rules, and the tracker's update.
func BenchmarkFrame(b *testing.B) {
	SetThreads(1)
	defer SetThreads(0)
	m, _, done := benchFrame(b)
	defer done()
	img := loadBenchImage(b)
	defer img.Close()
	r := NewReader(m, RegionGB)
	tr := NewTracker("front", RegionGB)
	defer tr.Close()
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		f := Frame{Mat: img, Seq: int64(i)}
		plates, err := r.Read(img)
		if err != nil {
			b.Fatal(err)
		}
		if _, err := tr.Update(&f, plates); err != nil {
			b.Fatal(err)
		}
	}
	b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "frames/s")
}

// BenchmarkDecode times CTC greedy + prefix beam decoding of one plate.
func BenchmarkDecode(b *testing.B) {
	lp := logits("-", "S", "B", "-", "9", "0:0.5,O:0.45", "-", "T", "Z", "I:0.6,1:0.3", "-", "-",
		"-", "-", "-", "-", "-", "-", "-", "-", "-", "-", "-", "-")
	for i := 0; i < b.N; i++ {
		decode(lp, 24, defaultBeam, defaultTopN)
	}
}

// BenchmarkPipelineOverhead runs the whole pipeline on a 1280×720 MJPG
// drive with the models replaced by a reader that returns the labelled
// plates at once: what decoding, hand-off, tracking, patches and JPEGs cost
// per frame on top of the two networks.
func BenchmarkPipelineOverhead(b *testing.B) {
	SetThreads(1)
	defer SetThreads(0)
	const file, n = "valid_dayride_type1_001.mp4_t_1198.jpg", 100
	path := writeDrive(b, b.TempDir(), "images/"+file, n, 25)
	_, labels := dashcam(b)
	var ls []label
	for _, l := range labels {
		if l.file == "images/"+file {
			ls = append(ls, l)
		}
	}
	b.ResetTimer()
	var frames int64
	for i := 0; i < b.N; i++ {
		src := NewSource(path, "front")
		src.Lossless = true
		p := &Pipeline{Source: src, Reader: &scripted{t: b, n: n, labels: ls}, Tracker: NewTracker("front", RegionGB)}
		if err := p.Start(context.Background()); err != nil {
			b.Fatal(err)
		}
		for range p.Sightings() {
		}
		p.Stop()
		frames += p.Stats().Frames
	}
	b.ReportMetric(float64(b.Elapsed().Microseconds())/1000/float64(frames), "ms/frame")
}
