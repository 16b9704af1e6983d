package main

import (
	"context"
	"encoding/csv"
	"encoding/json"
	"errors"
	"fmt"
	"image"
	"image/color"
	"io"
	"log/slog"
	"math/rand/v2"
	"os"
	"path/filepath"
	"runtime"
	"sort"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"fyne.io/fyne/v2"
	"fyne.io/fyne/v2/driver"
	"gocv.io/x/gocv"

	"github.com/ukanpr/anpr/app"
	"github.com/ukanpr/anpr/app/hotlist"
	"github.com/ukanpr/anpr/app/ui"
	"github.com/ukanpr/anpr/app/vrm"
	"github.com/ukanpr/anpr/vision"
)

func init() {
	register(command{name: "bench-ui", summary: "the touchscreen window under load: frame → alert on screen, memory at 30 reads/s", run: runBenchUI})
}

const benchUIUsage = `bench-ui latency [--dir DIR] [--loops N] [--json]
bench-ui soak [--rate N] [--for DURATION] [--json]

Opens the real touchscreen window (OpenGL: it needs a display; Xvfb will
do) on a car with a temporary database, logs a bench officer on, and
measures what an officer would see. Each hit is answered "Not stopped" as
soon as it is on the display, as a quick officer would.

  latency  plays the demo drive like a camera (in real time, the oldest
           frame dropped when the reader falls behind) through the whole
           pipeline, with every vehicle of the drive's ground truth on a
           hot list besides the demo's own: for each hit, the time from
           the frame that decided the read leaving the camera to the hit
           screen on the display. --loops plays the drive N times
           end to end for more samples. "On the display" is polled from the X
           server's copy of the window, so it includes the OpenGL paint
           and the buffer swap.
  soak     a simulated camera delivers N reads a second for DURATION (each
           with a plate patch and a real dash-cam overview JPEG; one in 100
           on the hot list), and a live picture ten times a second; the
           process's resident memory and Go heap are sampled every 10 s.
           Hits are timed from the sighting to the display.

Both print a summary; --json prints it as one JSON object.`

// benchUIResult is the output of anpr bench-ui.
type benchUIResult struct {
	Mode        string  `json:"mode"`
	Seconds     float64 `json:"seconds"`
	Reads       int64   `json:"reads"`
	Hits        int     `json:"hits"`          // hits the window raised
	Measured    int     `json:"measured"`      // hits that came up on a clear screen, with a capture time
	Queued      int     `json:"queued"`        // hits that came up while another was on screen
	NotSeen     int     `json:"not_seen"`      // hits never seen on the display within 5 s
	LayoutP50MS float64 `json:"layout_p50_ms"` // capture → hit screen built on the Fyne thread
	LayoutP99MS float64 `json:"layout_p99_ms"`
	ScreenP50MS float64 `json:"screen_p50_ms"` // capture → hit screen on the display
	ScreenP95MS float64 `json:"screen_p95_ms"`
	ScreenP99MS float64 `json:"screen_p99_ms"`
	ScreenMaxMS float64 `json:"screen_max_ms"`
	// soak
	RSSStartMB float64        `json:"rss_start_mb,omitempty"` // after the first minute
	RSSEndMB   float64        `json:"rss_end_mb,omitempty"`
	RSSPeakMB  float64        `json:"rss_peak_mb,omitempty"`
	RSSSlope   float64        `json:"rss_slope_mb_per_min,omitempty"` // least squares, after the first minute
	HeapStart  float64        `json:"heap_start_mb,omitempty"`
	HeapEnd    float64        `json:"heap_end_mb,omitempty"`
	Samples    []memorySample `json:"samples,omitempty"`
}

type memorySample struct {
	Second float64 `json:"s"`
	RSSMB  float64 `json:"rss_mb"`
	HeapMB float64 `json:"heap_mb"`
	Reads  int64   `json:"reads"`
}

func runBenchUI(ctx context.Context, m *Main, args []string) error {
	if len(args) == 0 || (args[0] != "latency" && args[0] != "soak") {
		if len(args) > 0 && (args[0] == "-h" || args[0] == "--help" || args[0] == "help") {
			fmt.Fprintln(m.Stdout, benchUIUsage)
			return nil
		}
		return badUsage("bench-ui needs latency or soak\n\n%s", benchUIUsage)
	}
	mode := args[0]
	fs := newFlags("bench-ui "+mode, benchUIUsage, m.Stdout)
	dir := fs.String("dir", DefaultDemoDir, "the demo drive's `DIR` (latency)")
	loops := fs.Int("loops", 1, "play the drive `N` times (latency)")
	rate := fs.Float64("rate", 30, "reads a second (soak)")
	dur := fs.Duration("for", 10*time.Minute, "how long to feed reads (soak)")
	asJSON := fs.Bool("json", false, "print the result as one JSON object")
	if err := parseFlags(fs, args[1:]); err != nil {
		return err
	}
	if fs.NArg() != 0 {
		return badUsage("unexpected argument %q", fs.Arg(0))
	}
	if *loops < 1 || *loops > 100 {
		return badUsage("--loops %d: want 1…100", *loops)
	}
	if *rate <= 0 || *rate > 1000 || *dur <= 0 {
		return badUsage("--rate %g --for %v: want 0 < rate ≤ 1000 and a positive duration", *rate, *dur)
	}
	if os.Getenv("DISPLAY") == "" {
		return errors.New("bench-ui opens the real window and reads it back from an X display, and DISPLAY is not set (e.g. xvfb-run -s '-screen 0 1280x800x24')")
	}
	logger := slog.New(slog.NewTextHandler(m.Stderr, &slog.HandlerOptions{Level: slog.LevelWarn}))
	var (
		res *benchUIResult
		err error
	)
	if mode == "latency" {
		res, err = benchUILatency(ctx, m, *dir, *loops, logger)
	} else {
		res, err = benchUISoak(ctx, m, *rate, *dur, logger)
	}
	if err != nil {
		return err
	}
	if *asJSON {
		return json.NewEncoder(m.Stdout).Encode(res)
	}
	printBenchUI(m.Stdout, res)
	return nil
}

func printBenchUI(w io.Writer, r *benchUIResult) {
	fmt.Fprintf(w, "%s: %.0f s, %d reads, %d hits: %d measured on a clear screen, %d came up behind another, %d not seen\n",
		r.Mode, r.Seconds, r.Reads, r.Hits, r.Measured, r.Queued, r.NotSeen)
	what := "frame left the camera"
	if r.Mode == "soak" {
		what = "sighting"
	}
	fmt.Fprintf(w, "%s → hit screen built: p50 %.1f ms, p99 %.1f ms\n", what, r.LayoutP50MS, r.LayoutP99MS)
	fmt.Fprintf(w, "%s → hit screen on the display: p50 %.1f ms, p95 %.1f ms, p99 %.1f ms, max %.1f ms\n",
		what, r.ScreenP50MS, r.ScreenP95MS, r.ScreenP99MS, r.ScreenMaxMS)
	if r.Mode == "soak" {
		fmt.Fprintf(w, "memory: RSS %.1f MB after the first minute, %.1f MB at the end, peak %.1f MB, slope %+.2f MB/min; Go heap %.1f → %.1f MB\n",
			r.RSSStartMB, r.RSSEndMB, r.RSSPeakMB, r.RSSSlope, r.HeapStart, r.HeapEnd)
	}
}

// ---- latency: the demo drive, played like a camera ----

func benchUILatency(ctx context.Context, m *Main, dir string, loops int, logger *slog.Logger) (*benchUIResult, error) {
	d, err := findDemo(dir)
	if err != nil {
		return nil, err
	}
	if d.Truth == "" {
		return nil, fmt.Errorf("%s has no ground truth (*truth*.csv) to build the bench hot list from", dir)
	}
	c, cleanup, err := openDemoCar(ctx, d, 1, "", alertConfig{Sound: "off"}, logger)
	if err != nil {
		return nil, err
	}
	defer cleanup()
	tmp, err := os.MkdirTemp("", "anpr-bench-ui-*")
	if err != nil {
		return nil, err
	}
	defer os.RemoveAll(tmp)
	list, err := truthHotlist(d.Truth, filepath.Join(tmp, "bench-truth.csv"))
	if err != nil {
		return nil, err
	}
	if _, err := importDemoList(ctx, c, list); err != nil {
		return nil, err
	}
	c.Engine.Alerts.SameVRM = -1 // every pass alerts: more samples
	probe := newHitProbe()
	for _, p := range c.Pipelines {
		p.Source.Lossless, p.Source.Speed, p.Source.Loops = false, 1, loops // like a camera
		p.Observe = func(s app.Sighting, captured time.Time) {
			if !captured.IsZero() {
				probe.captured(s.PassID, captured)
			}
		}
	}
	start := time.Now()
	err = runUI(ctx, m, c, uiOptions{AdminPIN: "0000", probe: probe, exitWhenDone: true})
	res := probe.result("latency", time.Since(start))
	for _, p := range c.Pipelines {
		res.Reads += p.Stats().Sightings
	}
	return res, err
}

// truthHotlist writes a hot list of every VRM in the ground truth file.
func truthHotlist(truth, out string) (string, error) {
	f, err := os.Open(truth)
	if err != nil {
		return "", fmt.Errorf("ground truth: %w", err)
	}
	defer f.Close()
	rows, err := csv.NewReader(f).ReadAll()
	if err != nil || len(rows) < 2 || rows[0][0] != "vrm" {
		return "", fmt.Errorf("ground truth %s: want a CSV with a vrm column first (%v)", truth, err)
	}
	var b strings.Builder
	b.WriteString("vrm,category,priority,action,reference\n")
	seen := map[string]bool{}
	for i, r := range rows[1:] {
		if v := vrm.Normalize(r[0]); v != "" && !seen[v] {
			seen[v] = true
			fmt.Fprintf(&b, "%s,Bench: every vehicle,2,Answer,BENCH-%03d\n", v, i+1)
		}
	}
	return out, os.WriteFile(out, []byte(b.String()), 0o600)
}

// ---- soak: a simulated camera at a fixed rate ----

func benchUISoak(ctx context.Context, m *Main, rate float64, dur time.Duration, logger *slog.Logger) (*benchUIResult, error) {
	tmp, err := os.MkdirTemp("", "anpr-bench-ui-*")
	if err != nil {
		return nil, err
	}
	defer os.RemoveAll(tmp)
	c, err := openCar(ctx, filepath.Join(tmp, "car.db"), "", time.Now, logger)
	if err != nil {
		return nil, err
	}
	defer c.close()
	c.Engine.ShiftStart = time.Now()
	c.Engine.Alerts = (&alertConfig{}).policy(time.Now)
	c.Engine.Alerts.SameVRM = -1 // every hit comes up
	c.link = "bench: no back office"
	listPath := repoPath(filepath.Join(DefaultDemoDir, "hotlist.csv"))
	if _, err := importDemoList(ctx, c, listPath); err != nil {
		return nil, err
	}
	hot, err := hotVRMs(listPath)
	if err != nil {
		return nil, err
	}
	cam, err := newSimCamera(hot)
	if err != nil {
		return nil, err
	}
	defer cam.close()

	probe := newHitProbe()
	var fed atomic.Int64
	c.pace = func(ctx context.Context, in <-chan app.Sighting, out chan<- app.Sighting) {
		defer close(out)
		go func() {
			for range in { // no real cameras: nothing comes
			}
		}()
		period := time.Duration(float64(time.Second) / rate)
		t := time.NewTicker(period)
		defer t.Stop()
		end := time.After(dur)
		for i := 0; ; i++ {
			select {
			case <-ctx.Done():
				return
			case <-end:
				return
			case <-t.C:
			}
			s := cam.sighting(i)
			probe.captured(s.PassID, time.Now())
			out <- s
			fed.Add(1)
		}
	}
	// A live picture ten times a second, through the same tap the real
	// cameras use.
	tap := &frameTap{FrameReader: cam, camera: "front", every: 100 * time.Millisecond}
	var mem []memorySample // the sampler's until bg.Wait
	start := time.Now()
	bgCtx, stopBG := context.WithCancel(ctx)
	var bg sync.WaitGroup
	bg.Add(2)
	go func() {
		defer bg.Done()
		t := time.NewTicker(100 * time.Millisecond)
		defer t.Stop()
		for {
			select {
			case <-bgCtx.Done():
				return
			case <-t.C:
				_, _ = tap.Read(cam.frame)
			}
		}
	}()
	go func() {
		defer bg.Done()
		t := time.NewTicker(10 * time.Second)
		defer t.Stop()
		for {
			var ms runtime.MemStats
			runtime.ReadMemStats(&ms)
			mem = append(mem, memorySample{Second: time.Since(start).Seconds(), RSSMB: rssMB(), HeapMB: float64(ms.HeapAlloc) / 1e6, Reads: fed.Load()})
			select {
			case <-bgCtx.Done():
				return
			case <-t.C:
			}
		}
	}()
	err = runUI(ctx, m, c, uiOptions{AdminPIN: "0000", probe: probe, exitWhenDone: true, taps: []*frameTap{tap}})
	stopBG()
	bg.Wait()
	res := probe.result("soak", time.Since(start))
	res.Reads, res.Samples = fed.Load(), mem
	res.summariseMemory()
	return res, err
}

// summariseMemory fills the memory figures from the samples, leaving out
// the first minute (start-up, caches filling).
func (r *benchUIResult) summariseMemory() {
	var xs, ys []float64
	for _, s := range r.Samples {
		r.RSSPeakMB = max(r.RSSPeakMB, s.RSSMB)
		if s.Second < 60 {
			continue
		}
		if len(xs) == 0 {
			r.RSSStartMB, r.HeapStart = s.RSSMB, s.HeapMB
		}
		r.RSSEndMB, r.HeapEnd = s.RSSMB, s.HeapMB
		xs, ys = append(xs, s.Second/60), append(ys, s.RSSMB)
	}
	if n := float64(len(xs)); n >= 2 {
		var sx, sy, sxx, sxy float64
		for i := range xs {
			sx, sy, sxx, sxy = sx+xs[i], sy+ys[i], sxx+xs[i]*xs[i], sxy+xs[i]*ys[i]
		}
		r.RSSSlope = (n*sxy - sx*sy) / (n*sxx - sx*sx)
	}
}

// repoPath finds rel from the working directory or a parent of it.
func repoPath(rel string) string {
	dir, err := os.Getwd()
	if err != nil {
		return rel
	}
	for d := dir; ; d = filepath.Dir(d) {
		if _, err := os.Stat(filepath.Join(d, rel)); err == nil {
			return filepath.Join(d, rel)
		}
		if filepath.Dir(d) == d {
			return rel
		}
	}
}

// hotVRMs returns the plain, overt marks of a hot-list file: what the soak
// makes its hits with.
func hotVRMs(path string) ([]string, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	rd, err := hotlist.NewReader(f, hotlist.ReaderOptions{List: "bench"})
	if err != nil {
		return nil, fmt.Errorf("%s: %w", path, err)
	}
	var out []string
	for {
		e, err := rd.Next()
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			return nil, fmt.Errorf("%s: %w", path, err)
		}
		if !e.IsPattern() && !e.Covert {
			out = append(out, e.VRM)
		}
	}
	if len(out) == 0 {
		return nil, fmt.Errorf("%s: no plain, overt entry to make hits with", path)
	}
	return out, nil
}

// simCamera stands in for a camera in the soak: it makes sightings with a
// real dash-cam frame as the overview and a plate patch cut from it, and
// is a vision.FrameReader for the live picture.
type simCamera struct {
	hot      []string
	overview []byte
	patch    []byte
	frame    gocv.Mat
	rng      *rand.Rand
}

var _ vision.FrameReader = (*simCamera)(nil)

func newSimCamera(hot []string) (*simCamera, error) {
	frames, _ := filepath.Glob(repoPath("testdata/dashcam/images") + "/*.jpg")
	if len(frames) == 0 {
		return nil, errors.New("the soak needs testdata/dashcam/images/*.jpg for its overview pictures: run from the repository")
	}
	sort.Strings(frames)
	overview, err := os.ReadFile(frames[0])
	if err != nil {
		return nil, err
	}
	frame, err := gocv.IMDecode(overview, gocv.IMReadColor)
	if err != nil || frame.Empty() {
		return nil, fmt.Errorf("%s: not a picture", frames[0])
	}
	w, h := frame.Cols(), frame.Rows()
	crop := frame.Region(image.Rect(w/2-120, h*2/3, w/2+120, h*2/3+60))
	buf, err := gocv.IMEncode(gocv.JPEGFileExt, crop)
	crop.Close()
	if err != nil {
		frame.Close()
		return nil, err
	}
	patch := append([]byte(nil), buf.GetBytes()...)
	buf.Close()
	return &simCamera{hot: hot, overview: overview, patch: patch, frame: frame, rng: rand.New(rand.NewPCG(1, 2))}, nil
}

func (s *simCamera) close() { s.frame.Close() }

// sighting i: one in 100 is on the hot list, the rest are random current
// marks.
func (s *simCamera) sighting(i int) app.Sighting {
	text := s.hot[(i/100)%len(s.hot)]
	if i%100 != 99 {
		const L = "ABCDEFGHJKLMNOPRSTUVWXY"
		b := []byte{L[s.rng.IntN(len(L))], L[s.rng.IntN(len(L))], '0' + byte(s.rng.IntN(2)+1), '0' + byte(s.rng.IntN(10)),
			L[s.rng.IntN(len(L))], L[s.rng.IntN(len(L))], L[s.rng.IntN(len(L))]}
		text = string(b)
	}
	now := time.Now().UTC()
	return app.Sighting{Camera: "front", Time: now, Raw: text, Text: text, Confidence: 0.93,
		Candidates: []app.Candidate{{Text: text, Confidence: 0.93}}, Format: vrm.Classify(text, now),
		Box: image.Rect(600, 480, 840, 540), Patch: s.patch, Overview: s.overview,
		PassID: fmt.Sprintf("soak-%d", i), Frames: 6}
}

// Read implements vision.FrameReader: one plate box on the picture.
func (s *simCamera) Read(gocv.Mat) ([]vision.Plate, error) {
	return []vision.Plate{{Box: image.Rect(600, 480, 840, 540), Text: "SOAK"}}, nil
}

// ---- the probe: when does a hit reach the display ----

// hitProbe watches the real window: the UI tells it when a hit screen is
// built; it then polls the window's pixels as the X server holds them
// (what the display shows) until the hit's colour is there, and answers
// the hit as an officer.
type hitProbe struct {
	mu      sync.Mutex
	capture map[string]time.Time // pass id → when its deciding frame left the camera
	layout  []time.Duration
	screen  []time.Duration
	hits    int
	queued  int
	notSeen int

	shown chan shownHit
}

type shownHit struct {
	h     ui.HitItem
	fresh bool
	at    time.Time
}

func newHitProbe() *hitProbe {
	return &hitProbe{capture: map[string]time.Time{}, shown: make(chan shownHit, 1024)}
}

func (p *hitProbe) captured(passID string, t time.Time) {
	p.mu.Lock()
	p.capture[passID] = t
	p.mu.Unlock()
}

// attach hooks the probe to the window and logs a bench officer on; call
// once the window exists. It returns at once.
func (p *hitProbe) attach(ctx context.Context, u *ui.UI, vm *ui.ViewModel) error {
	if err := vm.LogOn(ctx, "bench", "0"); err != nil {
		return err
	}
	u.OnHitShown = func(h ui.HitItem, fresh bool) {
		select {
		case p.shown <- shownHit{h: h, fresh: fresh, at: time.Now()}:
		default:
		}
	}
	x, err := openXDisplay()
	if err != nil {
		return err
	}
	go func() {
		defer x.close()
		p.run(ctx, &display{x: x, u: u}, vm)
	}()
	return nil
}

// idle reports whether no hit waits to be seen or answered.
func (p *hitProbe) idle() bool { return len(p.shown) == 0 }

func (p *hitProbe) run(ctx context.Context, d *display, vm *ui.ViewModel) {
	clear := true // the display showed no hit since the last answer
	for {
		var s shownHit
		select {
		case <-ctx.Done():
			return
		case s = <-p.shown:
		}
		night, _ := vm.Night.Get()
		want := ui.PriorityColour(s.h.Priority(), night)
		measured := s.fresh && clear
		seen, at := false, time.Time{}
		for deadline := time.Now().Add(5 * time.Second); time.Now().Before(deadline) && ctx.Err() == nil; {
			if d.shows(want) {
				seen, at = true, time.Now()
				break
			}
			time.Sleep(2 * time.Millisecond)
		}
		p.mu.Lock()
		p.hits++
		t0, ok := p.capture[s.h.Read.PassID]
		switch {
		case !seen:
			p.notSeen++
		case !measured || !ok:
			p.queued++
		default:
			p.layout = append(p.layout, s.at.Sub(t0))
			p.screen = append(p.screen, at.Sub(t0))
		}
		p.mu.Unlock()
		fyne.DoAndWait(func() { d.u.TapHitButton("Not stopped") })
		// Wait for the display to clear, unless the next hit is already up.
		clear = false
		for deadline := time.Now().Add(time.Second); time.Now().Before(deadline) && len(p.shown) == 0 && ctx.Err() == nil; {
			if !d.shows(want) {
				clear = true
				break
			}
			time.Sleep(2 * time.Millisecond)
		}
	}
}

// display reads back what the real window shows: the pixel at its right
// edge, halfway down, where the hit screen has nothing but its background.
type display struct {
	x   *xDisplay
	u   *ui.UI
	win uintptr
}

func (d *display) shows(want color.NRGBA) bool {
	if d.win == 0 {
		fyne.DoAndWait(func() {
			if nw, ok := d.u.Window.(driver.NativeWindow); ok {
				nw.RunNative(func(ctx any) {
					if x, ok := ctx.(driver.X11WindowContext); ok {
						d.win = x.WindowHandle
					}
				})
			}
		})
		if d.win == 0 {
			return false
		}
	}
	w, h, ok := d.x.size(d.win)
	if !ok {
		return false
	}
	got, ok := d.x.pixel(d.win, w-4, h/2)
	near := func(a, b uint8) bool { return int(a)-int(b) <= 6 && int(b)-int(a) <= 6 }
	return ok && near(got.R, want.R) && near(got.G, want.G) && near(got.B, want.B)
}

func (p *hitProbe) result(mode string, d time.Duration) *benchUIResult {
	p.mu.Lock()
	defer p.mu.Unlock()
	ms := func(l []time.Duration, pct float64) float64 {
		if len(l) == 0 {
			return 0
		}
		s := append([]time.Duration(nil), l...)
		sort.Slice(s, func(i, j int) bool { return s[i] < s[j] })
		i := int(pct/100*float64(len(s)-1) + 0.5)
		return float64(s[i].Microseconds()) / 1000
	}
	return &benchUIResult{Mode: mode, Seconds: d.Seconds(), Hits: p.hits, Measured: len(p.screen), Queued: p.queued, NotSeen: p.notSeen,
		LayoutP50MS: ms(p.layout, 50), LayoutP99MS: ms(p.layout, 99),
		ScreenP50MS: ms(p.screen, 50), ScreenP95MS: ms(p.screen, 95), ScreenP99MS: ms(p.screen, 99), ScreenMaxMS: ms(p.screen, 100)}
}
