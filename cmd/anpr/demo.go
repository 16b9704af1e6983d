package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"time"

	"github.com/ukanpr/anpr/app"
	"github.com/ukanpr/anpr/app/hotlist"
	"github.com/ukanpr/anpr/gps"
	"github.com/ukanpr/anpr/vision"
)

func init() {
	register(command{name: "demo", summary: "play the bundled demo drive (video + GPS + hot list)", run: runDemo})
}

const demoUsage = `demo [--headless] [--speed N] [--dir DIR] [--sound auto|off|wav:DIR]

Plays the bundled demo drive (testdata/demo/: a dash-cam video, the GPS
receiver's NMEA log of the same drive and a hot list) through the whole
in-car pipeline: the camera pipeline reads the plates, the GPS log geotags
them, a temporary database holds the hot list and the reads, and the engine
matches and alerts. With --headless the events are printed as JSON lines
(see 'anpr run --help'). --speed 1 plays the drive in real time, 2 twice as
fast, 0 as fast as the machine can (every frame is read either way).`

// DefaultDemoDir is where the demo drive lives in the repository.
const DefaultDemoDir = "testdata/demo"

func runDemo(ctx context.Context, m *Main, args []string) error {
	fs := newFlags("demo", demoUsage, m.Stdout)
	headless := fs.Bool("headless", false, "no window: JSON lines on stdout")
	speed := fs.Float64("speed", 1, "playback speed: 1 real time, 0 as fast as possible")
	dir := fs.String("dir", DefaultDemoDir, "the demo drive's `DIR`")
	sound := fs.String("sound", "auto", "alert sound: auto (the sound card when there is one), off, or wav:DIR")
	models := fs.String("models", "", "load the ONNX models, and the detector's card with its threshold, from this `DIR` instead of the ones built in")
	if err := parseFlags(fs, args); err != nil {
		return err
	}
	if fs.NArg() != 0 {
		return badUsage("unexpected argument %q", fs.Arg(0))
	}
	if *speed < 0 || *speed > 100 {
		return badUsage("--speed %g: want 0 (as fast as possible) up to 100", *speed)
	}
	ac := alertConfig{Sound: *sound}
	if err := ac.check(); err != nil {
		return badUsage("--sound: %v", err)
	}
	d, err := findDemo(*dir)
	if err != nil {
		return err
	}
	if !*headless && runWindow == nil {
		return badUsage("the touchscreen UI is not in this build yet: use --headless")
	}
	logger := slog.New(slog.NewTextHandler(m.Stderr, &slog.HandlerOptions{Level: slog.LevelWarn}))
	c, cleanup, err := openDemoCar(ctx, d, *speed, *models, ac, logger)
	if err != nil {
		return err
	}
	defer cleanup()
	if !*headless {
		return runWindow(ctx, m, c)
	}
	return runHeadless(ctx, m, c)
}

// demoFiles are the parts of the demo drive.
type demoFiles struct {
	Dir     string
	Video   string // *.mp4, *.mkv or *.avi
	NMEA    string // *.nmea or *.log: the receiver's log of the same drive
	Hotlist string // the hot-list CSV (any *.csv whose name does not say truth)
	Truth   string // ground truth (*truth*), for the tests; may be empty
}

// ErrNoDemo reports that the demo drive is not in this checkout.
var ErrNoDemo = errors.New("demo drive not found")

// findDemo finds the demo drive's files in dir.
func findDemo(dir string) (demoFiles, error) {
	d := demoFiles{Dir: dir}
	if _, err := os.Stat(dir); err != nil {
		return d, fmt.Errorf("%s: %w (run from the repository root, or give --dir)", dir, ErrNoDemo)
	}
	first := func(pats ...string) string {
		for _, p := range pats {
			if ms, _ := filepath.Glob(filepath.Join(dir, p)); len(ms) > 0 {
				return ms[0]
			}
		}
		return ""
	}
	d.Video = first("*.mp4", "*.mkv", "*.avi")
	d.NMEA = first("*.nmea", "*.log")
	d.Truth = first("*truth*")
	csvs, _ := filepath.Glob(filepath.Join(dir, "*.csv"))
	for _, f := range csvs {
		if !strings.Contains(strings.ToLower(filepath.Base(f)), "truth") {
			d.Hotlist = f
			break
		}
	}
	var missing []string
	for _, f := range []struct{ what, path string }{{"video (*.mp4, *.mkv, *.avi)", d.Video},
		{"NMEA log (*.nmea, *.log)", d.NMEA}, {"hot list (*.csv)", d.Hotlist}} {
		if f.path == "" {
			missing = append(missing, f.what)
		}
	}
	if len(missing) > 0 {
		return d, fmt.Errorf("%s lacks a %s: %w", dir, strings.Join(missing, ", a "), ErrNoDemo)
	}
	return d, nil
}

// openDemoCar wires a car that plays the demo drive: the whole NMEA log is
// replayed into the tracker first (so every read is geotagged from the log,
// whatever the speed), the hot list goes into a temporary database, and the
// video's sightings are paced by a drive clock that runs on the GPS log's
// time axis.
func openDemoCar(ctx context.Context, d demoFiles, speed float64, models string, ac alertConfig, logger *slog.Logger) (*car, func(), error) {
	tmp, err := os.MkdirTemp("", "anpr-demo-*")
	if err != nil {
		return nil, nil, err
	}
	clk := &driveClock{speed: speed}
	c, err := openCar(ctx, filepath.Join(tmp, "demo.db"), "", clk.Now, logger)
	if err != nil {
		os.RemoveAll(tmp)
		return nil, nil, err
	}
	cleanup := func() {
		c.close()
		os.RemoveAll(tmp)
	}
	fail := func(err error) (*car, func(), error) {
		cleanup()
		return nil, nil, err
	}

	// GPS: the recorded drive, all of it, on the receiver's own time axis.
	c.Tracker.MinDate = gps.GPSEpoch
	c.Tracker.History = 1 << 20
	var t0 time.Time
	c.Tracker.OnEpoch = func(f gps.Fix) {
		if t0.IsZero() && f.Usable() {
			t0 = f.Time
		}
	}
	nf, err := os.Open(d.NMEA)
	if err != nil {
		return fail(fmt.Errorf("demo GPS log: %w", err))
	}
	_, err = gps.Replay(nf, c.Tracker)
	nf.Close()
	if err != nil {
		return fail(fmt.Errorf("demo GPS log %s: %w", d.NMEA, err))
	}
	if t0.IsZero() {
		return fail(fmt.Errorf("demo GPS log %s has no usable fix", d.NMEA))
	}
	clk.set(t0)
	// The video's time axis is the log's: no clock offset to apply.
	c.Engine.Clock = app.ClockFunc(func() app.ClockReading { return app.ClockReading{Source: app.ClockGPS} })
	c.Engine.ShiftStart = t0

	// Hot list: one list named after the file.
	n, err := importDemoList(ctx, c, d.Hotlist)
	if err != nil {
		return fail(err)
	}
	logger.Info("demo hot list", "file", d.Hotlist, "entries", n)

	c.Engine.Alerts = ac.policy(clk.Now)
	if c.Engine.Player, err = ac.player(logger); err != nil {
		return fail(err)
	}
	if c.Models, err = vision.LoadModels(models); err != nil {
		return fail(fmt.Errorf("load models: %w", err))
	}
	c.closers = append(c.closers, c.Models.Close)
	src := vision.NewSource(d.Video, "front")
	src.Lossless = true // read every frame: the same reads at any speed
	src.Epoch = t0
	p := vision.NewPipeline(src, c.Models, vision.RegionGB)
	p.Logger = logger
	c.Pipelines = []*vision.Pipeline{p}
	c.pace = clk.pace
	c.link = "demo: no back office"
	return c, cleanup, nil
}

// importDemoList loads a hot-list CSV into the car's store as one list and
// reloads the matcher.
func importDemoList(ctx context.Context, c *car, path string) (int, error) {
	f, err := os.Open(path)
	if err != nil {
		return 0, fmt.Errorf("demo hot list: %w", err)
	}
	defer f.Close()
	name := strings.TrimSuffix(filepath.Base(path), filepath.Ext(path))
	rd, err := hotlist.NewReader(f, hotlist.ReaderOptions{List: name})
	if err != nil {
		return 0, fmt.Errorf("demo hot list %s: %w", path, err)
	}
	imp, err := c.DB.BeginImport(ctx, name, true)
	if err != nil {
		return 0, fmt.Errorf("demo hot list %s: %w", path, err)
	}
	for {
		e, err := rd.Next()
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			imp.Rollback()
			return 0, fmt.Errorf("demo hot list %s: %w", path, err)
		}
		if err := imp.Add(e); err != nil {
			imp.Rollback()
			return 0, fmt.Errorf("demo hot list %s line %d: %w", path, rd.Line(), err)
		}
	}
	res, err := imp.Commit()
	if err != nil {
		return 0, fmt.Errorf("demo hot list %s: %w", path, err)
	}
	if err := c.Matcher.Reload(ctx); err != nil {
		return 0, fmt.Errorf("demo hot list %s: %w", path, err)
	}
	return res.Entries, nil
}

// driveClock is the demo's "now": the GPS log's time, advancing at speed
// times the wall clock from the moment the drive starts. At speed 0 it is
// the capture time of the newest sighting, so alert windows (the same VRM
// within five minutes) and fix ages mean what they would on the road.
type driveClock struct {
	speed float64
	wall  func() time.Time                     // time.Now when nil
	after func(time.Duration) <-chan time.Time // time.After when nil

	mu    sync.Mutex
	t0    time.Time // drive time when the drive starts
	wall0 time.Time // wall time it started; zero before
	seen  time.Time // speed 0: newest sighting
}

func (d *driveClock) set(t0 time.Time) {
	d.mu.Lock()
	d.t0 = t0
	d.mu.Unlock()
}

func (d *driveClock) wallNow() time.Time {
	if d.wall != nil {
		return d.wall()
	}
	return time.Now()
}

// Now returns the drive's current time.
func (d *driveClock) Now() time.Time {
	d.mu.Lock()
	defer d.mu.Unlock()
	switch {
	case d.speed == 0:
		if d.seen.After(d.t0) {
			return d.seen
		}
		return d.t0
	case d.wall0.IsZero():
		return d.t0
	}
	el := d.wallNow().Sub(d.wall0)
	return d.t0.Add(time.Duration(float64(el) * d.speed))
}

// pace forwards every sighting from in to out once the drive clock has
// reached its capture time, and closes out when in closes. It never drops
// one: cancelling ctx only stops the waiting.
func (d *driveClock) pace(ctx context.Context, in <-chan app.Sighting, out chan<- app.Sighting) {
	defer close(out)
	d.mu.Lock()
	d.wall0 = d.wallNow()
	d.mu.Unlock()
	after := d.after
	if after == nil {
		after = time.After
	}
	for s := range in {
		if d.speed == 0 {
			d.mu.Lock()
			if s.Time.After(d.seen) {
				d.seen = s.Time
			}
			d.mu.Unlock()
		} else if ctx.Err() == nil {
			if wait := time.Duration(float64(s.Time.Sub(d.Now())) / d.speed); wait > 0 {
				select {
				case <-after(wait):
				case <-ctx.Done():
				}
			}
		}
		out <- s
	}
}
