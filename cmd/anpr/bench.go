package main

import (
	"bufio"
	"context"
	"encoding/json"
	"fmt"
	"image"
	"math/rand/v2"
	"os"
	"path/filepath"
	"runtime"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"time"

	"github.com/ukanpr/anpr/vision"
	"gocv.io/x/gocv"
)

func init() {
	register(command{name: "bench", summary: "frames per second and latency of the reader pipeline", run: runBench})
}

const benchUsage = `bench [--video FILE] [--frames N] [--json]

Runs the whole camera pipeline (decode, detect, recognise, track, vote) on a
1280×720 video three times:

  one core    GOMAXPROCS=1 and OpenCV threads 1, every frame processed as
              fast as possible: frames per second, and frames per CPU
              second (video decoding runs in cgo beside GOMAXPROCS, so
              the CPU time is the honest per-core figure)
  all cores   GOMAXPROCS and OpenCV threads = CPUs, every frame
  real time   one core, the video paced at its frame rate as a camera
              delivers it (oldest frames dropped when behind): frame →
              sighting latency p50/p99, frames dropped

and samples the process's resident memory throughout. Without --video it
uses testdata/demo/ when present, else synthesises a short video from the
dash-cam frames in testdata/dashcam/ (or plain noise) in a temporary folder.`

// benchJSON is one line of `anpr bench --json`.
type benchJSON struct {
	Run          string  `json:"run"`
	Video        string  `json:"video"`
	GOMAXPROCS   int     `json:"gomaxprocs"`
	Threads      int     `json:"opencv_threads"`
	Frames       int64   `json:"frames"`
	Dropped      int64   `json:"dropped"`
	Seconds      float64 `json:"seconds"`
	FPS          float64 `json:"fps"`
	CPUSeconds   float64 `json:"cpu_seconds"`
	FPSPerCPU    float64 `json:"fps_per_cpu_second"`
	MSPerFrame   float64 `json:"ms_per_frame"`
	Sightings    int64   `json:"sightings"`
	Unsure       int64   `json:"unsure_passes"`
	LatencyP50MS float64 `json:"latency_p50_ms,omitempty"`
	LatencyP99MS float64 `json:"latency_p99_ms,omitempty"`
	RSSPeakMB    float64 `json:"rss_peak_mb"`
	RSSEndMB     float64 `json:"rss_end_mb"`
}

func runBench(ctx context.Context, m *Main, args []string) error {
	fs := newFlags("bench", benchUsage, m.Stdout)
	var vf visionFlags
	vf.add(fs, true)
	video := fs.String("video", "", "video `FILE` (1280×720 for comparable figures)")
	frames := fs.Int64("frames", 250, "frames per run (0: the whole video)")
	asJSON := fs.Bool("json", false, "one JSON object per run")
	if err := parseFlags(fs, args); err != nil {
		return err
	}
	if fs.NArg() > 0 {
		return badUsage("unexpected arguments %v", fs.Args())
	}
	if *frames < 0 {
		return badUsage("--frames %d: want 0 or more", *frames)
	}
	path := *video
	if path == "" {
		path = demoVideo()
	}
	if path == "" {
		dir, err := os.MkdirTemp("", "anpr-bench-")
		if err != nil {
			return err
		}
		defer os.RemoveAll(dir)
		n := *frames
		if n == 0 {
			n = 250
		}
		path = filepath.Join(dir, "synthetic.avi")
		if err := synthVideo(path, int(n)); err != nil {
			return fmt.Errorf("synthesise a test video: %w", err)
		}
		fmt.Fprintf(m.Stderr, "anpr bench: no --video and no testdata/demo/: synthesised %d frames of 1280×720 at %s\n", n, path)
	}
	w, h, _, err := vision.ProbeVideo(path)
	if err != nil {
		return asUsage(err)
	}
	if w != 1280 || h != 720 {
		fmt.Fprintf(m.Stderr, "anpr bench: %s is %d×%d; the targets are for 1280×720\n", path, w, h)
	}
	models, region, err := vf.open()
	if err != nil {
		return err
	}
	defer models.Close()

	rss := startRSS()
	defer rss.stop()
	procs := runtime.GOMAXPROCS(0)
	defer runtime.GOMAXPROCS(procs)
	cpus := runtime.NumCPU()
	runs := []struct {
		name     string
		procs    int
		threads  int
		realtime bool
	}{
		{"one core", 1, 1, false},
		{"all cores", cpus, cpus, false},
		{"real time", 1, 1, true},
	}
	for _, r := range runs {
		runtime.GOMAXPROCS(r.procs)
		vision.SetThreads(r.threads)
		rss.reset()
		res, err := benchRun(ctx, path, models, region, *frames, r.realtime)
		if err != nil {
			return err
		}
		res.Run, res.GOMAXPROCS, res.Threads = r.name, r.procs, vision.Threads()
		res.RSSPeakMB, res.RSSEndMB = rss.peak(), rssMB()
		if *asJSON {
			if err := json.NewEncoder(m.Stdout).Encode(res); err != nil {
				return err
			}
			continue
		}
		fmt.Fprintf(m.Stdout, "%-9s GOMAXPROCS=%d OpenCV threads=%d: %d frames in %.1f s = %.1f frames/s; %.1f CPU s = %.1f frames per CPU second; %.1f ms/frame in the reader; %d sightings, %d unsure passes not reported",
			res.Run, res.GOMAXPROCS, res.Threads, res.Frames, res.Seconds, res.FPS, res.CPUSeconds, res.FPSPerCPU, res.MSPerFrame, res.Sightings, res.Unsure)
		switch {
		case r.realtime && res.Sightings == 0:
			fmt.Fprintf(m.Stdout, "; no sighting to time; %d frames dropped", res.Dropped)
		case r.realtime:
			fmt.Fprintf(m.Stdout, "; latency frame→sighting p50 %.0f ms, p99 %.0f ms; %d frames dropped",
				res.LatencyP50MS, res.LatencyP99MS, res.Dropped)
		}
		fmt.Fprintf(m.Stdout, "; RSS peak %.0f MB, end %.0f MB\n", res.RSSPeakMB, res.RSSEndMB)
	}
	if !*asJSON {
		fmt.Fprintf(m.Stdout, "video %s, region %s, %d CPUs\n", path, region, cpus)
	}
	return nil
}

// benchRun pushes one pass of the video through a fresh pipeline.
func benchRun(ctx context.Context, path string, models *vision.Models, region vision.Region, frames int64, realtime bool) (benchJSON, error) {
	src := vision.NewSource(path, "bench")
	src.Lossless, src.MaxFrames = !realtime, frames
	p := vision.NewPipeline(src, models, region)
	cpu0 := cpuSeconds()
	start := time.Now()
	if err := p.Start(ctx); err != nil {
		return benchJSON{}, asUsage(err)
	}
	var n int64
	for range p.Sightings() {
		n++
	}
	p.Stop()
	el := time.Since(start)
	cpu := cpuSeconds() - cpu0
	if err := p.Err(); err != nil {
		return benchJSON{}, err
	}
	st := p.Stats()
	res := benchJSON{
		Video: path, Frames: st.Frames, Dropped: st.Source.Dropped, Seconds: round(el.Seconds(), 2),
		Sightings: n, Unsure: st.Unsure, CPUSeconds: round(cpu, 2),
	}
	if st.Frames > 0 {
		res.FPS = round(float64(st.Frames)/el.Seconds(), 1)
		if cpu > 0 {
			res.FPSPerCPU = round(float64(st.Frames)/cpu, 1)
		}
		res.MSPerFrame = round(float64(st.Busy.Microseconds())/1000/float64(st.Frames), 1)
	}
	if realtime {
		res.LatencyP50MS = round(float64(p.Latency(50).Microseconds())/1000, 1)
		res.LatencyP99MS = round(float64(p.Latency(99).Microseconds())/1000, 1)
	}
	return res, nil
}

// demoVideo finds the bundled demo drive when run from the repository.
func demoVideo() string {
	for _, pat := range []string{"testdata/demo/*.mp4", "testdata/demo/*.mkv", "testdata/demo/*.avi"} {
		if m, _ := filepath.Glob(pat); len(m) > 0 {
			return m[0]
		}
	}
	return ""
}

// synthVideo writes n frames of 1280×720 MJPG at 25 fps: a slow zoom into
// each dash-cam frame of testdata/dashcam (real plates that grow as if
// approached), or textured noise when those are not at hand.
func synthVideo(path string, n int) error {
	const W, H = 1280, 720
	vw, err := gocv.VideoWriterFile(path, "MJPG", 25, W, H, true)
	if err != nil {
		return err
	}
	defer vw.Close()
	srcs, _ := filepath.Glob("testdata/dashcam/images/*.jpg")
	var imgs []gocv.Mat
	defer func() {
		for i := range imgs {
			imgs[i].Close()
		}
	}()
	for _, s := range srcs {
		if m := gocv.IMRead(s, gocv.IMReadColor); !m.Empty() {
			imgs = append(imgs, m)
		} else {
			m.Close()
		}
	}
	if len(imgs) == 0 {
		noise := gocv.NewMatWithSize(H, W, gocv.MatTypeCV8UC3)
		rng := rand.New(rand.NewPCG(1, 2))
		b, _ := noise.DataPtrUint8()
		for i := range b {
			b[i] = uint8(rng.IntN(256))
		}
		imgs = append(imgs, noise)
	}
	frame := gocv.NewMat()
	defer frame.Close()
	per := max(1, n/len(imgs))
	for i := 0; i < n; i++ {
		img := imgs[min(len(imgs)-1, i/per)]
		k := float64(i%per) / float64(per) // 0 → 1 through each scene
		zoom := 1 + 0.25*k
		cw, ch := int(float64(W)/zoom), int(float64(H)/zoom)
		x0, y0 := (W-cw)/2, (H-ch)/2+int(40*k)
		y0 = min(y0, H-ch)
		roi := img.Region(image.Rect(x0, y0, x0+cw, y0+ch))
		gocv.Resize(roi, &frame, image.Pt(W, H), 0, 0, gocv.InterpolationLinear)
		roi.Close()
		if err := vw.Write(frame); err != nil {
			return err
		}
	}
	return nil
}

// cpuSeconds is the user + system CPU time this process has used. Frame
// decoding runs in cgo outside GOMAXPROCS, so CPU time, not wall time, is
// the honest measure of "per core".
func cpuSeconds() float64 {
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		return 0
	}
	tv := func(t syscall.Timeval) float64 { return float64(t.Sec) + float64(t.Usec)/1e6 }
	return tv(ru.Utime) + tv(ru.Stime)
}

// rssSampler records the process's resident memory every 50 ms.
type rssSampler struct {
	mu   sync.Mutex
	max  float64
	done chan struct{}
	wg   sync.WaitGroup
}

func startRSS() *rssSampler {
	s := &rssSampler{done: make(chan struct{})}
	s.wg.Add(1)
	go func() {
		defer s.wg.Done()
		t := time.NewTicker(50 * time.Millisecond)
		defer t.Stop()
		for {
			v := rssMB()
			s.mu.Lock()
			s.max = max(s.max, v)
			s.mu.Unlock()
			select {
			case <-t.C:
			case <-s.done:
				return
			}
		}
	}()
	return s
}

func (s *rssSampler) reset()        { s.mu.Lock(); s.max = rssMB(); s.mu.Unlock() }
func (s *rssSampler) peak() float64 { s.mu.Lock(); defer s.mu.Unlock(); return round(s.max, 1) }
func (s *rssSampler) stop()         { close(s.done); s.wg.Wait() }

// rssMB is the process's resident set size in MB (0 where /proc is absent).
func rssMB() float64 {
	f, err := os.Open("/proc/self/status")
	if err != nil {
		return 0
	}
	defer f.Close()
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		if rest, ok := strings.CutPrefix(sc.Text(), "VmRSS:"); ok {
			kb, _ := strconv.ParseFloat(strings.TrimSuffix(strings.TrimSpace(rest), " kB"), 64)
			return round(kb/1024, 1)
		}
	}
	return 0
}
