package main

import (
	"context"
	"crypto/ed25519"
	"crypto/x509"
	"encoding/pem"
	"errors"
	"fmt"
	"log/slog"
	"math"
	"net/http"
	"net/url"
	"os"
	"regexp"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/BurntSushi/toml"

	"github.com/ukanpr/anpr/app"
	"github.com/ukanpr/anpr/app/audio"
	"github.com/ukanpr/anpr/app/hotlist"
	"github.com/ukanpr/anpr/app/sqlite"
	"github.com/ukanpr/anpr/gps"
	"github.com/ukanpr/anpr/sync/uplink"
	"github.com/ukanpr/anpr/vision"
)

func init() {
	register(command{name: "run", summary: "the live app: real cameras, GPS and back office", run: runRun})
}

const runUsage = `run --config FILE [--headless]

Runs the in-car app on the cameras, GPS receiver and back office that FILE
(TOML; see docs/anpr.example.toml) names. With --headless there is no
window: every read and every change of a part's state is printed on stdout
as one JSON object per line:

  {"type":"read", "id":…, "vrm":…, "raw":…, "confidence":…, "time":…,
   "camera":…, "lat":…, "lon":…, "fix":…, "fix_age_ms":…, "speed_mps":…,
   "heading_deg":…, "match":null|{"kind":…, "list":…, "entry":…,
   "category":…, "priority":…, "action":…, "covert":…}}
  {"type":"past-hit", …the read's fields…, "raised":…}
  {"type":"status", "part":"camera|gps|clock|hotlist|sync|store", "state":…, …}

Alerts still sound where there is a sound card. Stop with Ctrl-C: reads
already seen are committed before the program exits.`

func runRun(ctx context.Context, m *Main, args []string) error {
	fs := newFlags("run", runUsage, m.Stdout)
	cfgPath := fs.String("config", "", "the car's configuration `FILE` (TOML)")
	headless := fs.Bool("headless", false, "no window: JSON lines on stdout")
	if err := parseFlags(fs, args); err != nil {
		return err
	}
	if fs.NArg() != 0 {
		return badUsage("unexpected argument %q", fs.Arg(0))
	}
	if *cfgPath == "" {
		return badUsage("--config FILE is required (see docs/anpr.example.toml)")
	}
	cfg, err := loadConfig(*cfgPath)
	if err != nil {
		return asUsage(err)
	}
	if !*headless && runWindow == nil {
		return badUsage("the touchscreen UI is not in this build yet: use --headless")
	}
	logger := slog.New(slog.NewTextHandler(m.Stderr, nil))
	c, err := openLiveCar(ctx, cfg, logger)
	if err != nil {
		return err
	}
	defer c.close()
	c.conf = &configFile{path: *cfgPath, cfg: cfg}
	if !*headless {
		return runWindow(ctx, m, c)
	}
	return runHeadless(ctx, m, c)
}

// runWindow runs a car with the touchscreen UI instead of JSON lines. The
// UI's own file in this package sets it from an init function; until then
// run and demo are headless only. Like runHeadless it starts the car
// (c.start), drives it until the cameras end or ctx is done (c.wait), and
// leaves c.close to the caller.
var runWindow func(ctx context.Context, m *Main, c *car) error

// ---- configuration ----

// duration is a TOML string such as "30s" or "5m".
type duration struct{ time.Duration }

// MarshalText writes d back as "30s", "5m0s", ….
func (d duration) MarshalText() ([]byte, error) { return []byte(d.Duration.String()), nil }

func (d *duration) UnmarshalText(b []byte) error {
	v, err := time.ParseDuration(string(b))
	if err != nil {
		return fmt.Errorf("%q is not a duration such as \"30s\" or \"5m\"", b)
	}
	if v < 0 {
		return fmt.Errorf("%q is negative", b)
	}
	d.Duration = v
	return nil
}

// config is the car's TOML configuration file; docs/anpr.example.toml
// documents every field.
type config struct {
	Car struct {
		ID     string `toml:"id"`
		Region string `toml:"region"`
		Models string `toml:"models"`
	} `toml:"car"`
	Cameras []cameraConfig `toml:"cameras"`
	GPS     struct {
		Source     string   `toml:"source"`
		Baud       int      `toml:"baud"`
		ClockBound duration `toml:"clock_bound"`
	} `toml:"gps"`
	Store struct {
		DB       string `toml:"db"`
		Snapshot string `toml:"snapshot"`
	} `toml:"store"`
	BackOffice struct {
		URL        string   `toml:"url"`
		CA         string   `toml:"ca"`
		Cert       string   `toml:"cert"`
		Key        string   `toml:"key"`
		HotlistKey string   `toml:"hotlist_key"`
		StateDir   string   `toml:"state_dir"`
		Interval   duration `toml:"interval"`
	} `toml:"backoffice"`
	Alerts   alertConfig `toml:"alerts"`
	Matching struct {
		PastWindow duration `toml:"past_window"`
	} `toml:"matching"`
	Retention struct {
		ReadsDays int `toml:"reads_days"`
	} `toml:"retention"`
}

// cameraConfig is one [[cameras]] table.
type cameraConfig struct {
	ID     string `toml:"id"`
	Source string `toml:"source"`
	// Zoom is the window the detector looks at again for distant plates:
	// "on" (default: the middle of a forward view), "off", or
	// "X0,Y0,X1,Y1" fractions of the frame.
	Zoom string `toml:"zoom"`

	zoom vision.Zoom // Zoom parsed by check
}

// alertConfig is the [alerts] table: the alert policy and the sound output.
type alertConfig struct {
	Sound       string   `toml:"sound"` // auto | off | wav:DIR
	RepeatEvery duration `toml:"repeat_every"`
	SameVRM     duration `toml:"same_vrm"`
	SpeakUpTo   int      `toml:"speak_up_to"`
	RepeatUpTo  int      `toml:"repeat_up_to"`
	MaxUnacked  int      `toml:"max_unacked"`
}

// DefaultRetentionDays is how long the car keeps reads (DESIGN.md: two years).
const DefaultRetentionDays = 730

var tomlLineErr = regexp.MustCompile(`^toml: line (\d+) \(last key "([^"]*)"\): (.*)$`)

// loadConfig reads and checks a configuration file. Every error names the
// file and the line or field at fault.
func loadConfig(path string) (*config, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		var pathErr *os.PathError
		if errors.As(err, &pathErr) {
			return nil, fmt.Errorf("config %s: %w", path, pathErr.Err)
		}
		return nil, fmt.Errorf("config %s: %w", path, err)
	}
	return parseConfig(path, data)
}

// parseConfig decodes and checks the text of the configuration file path.
func parseConfig(path string, data []byte) (*config, error) {
	var cfg config
	md, err := toml.Decode(string(data), &cfg)
	if err != nil {
		var pe toml.ParseError
		if errors.As(err, &pe) {
			msg := pe.Message
			if pe.LastKey != "" {
				msg = pe.LastKey + ": " + msg
			}
			return nil, fmt.Errorf("config %s line %d: %s", path, pe.Position.Line, msg)
		}
		// Type errors come as "toml: line N (last key "k"): message".
		if m := tomlLineErr.FindStringSubmatch(err.Error()); m != nil {
			return nil, fmt.Errorf("config %s line %s: %s: %s", path, m[1], m[2], m[3])
		}
		return nil, fmt.Errorf("config %s: %w", path, err)
	}
	if und := md.Undecoded(); len(und) > 0 {
		return nil, fmt.Errorf("config %s: unknown field %s", path, und[0].String())
	}
	if err := cfg.check(); err != nil {
		return nil, fmt.Errorf("config %s: %w", path, err)
	}
	return &cfg, nil
}

// check validates the fields and fills defaults.
func (c *config) check() error {
	if c.Car.Region == "" {
		c.Car.Region = "gb"
	}
	if _, err := vision.ParseRegion(c.Car.Region); err != nil {
		return fmt.Errorf("car.region: %w", err)
	}
	if len(c.Cameras) == 0 {
		return errors.New("cameras: at least one [[cameras]] table with id and source is needed")
	}
	seen := map[string]bool{}
	for i := range c.Cameras {
		cam := &c.Cameras[i]
		switch {
		case cam.ID == "":
			return fmt.Errorf("cameras[%d].id: missing", i)
		case seen[cam.ID]:
			return fmt.Errorf("cameras[%d].id: %q is used twice", i, cam.ID)
		case cam.Source == "":
			return fmt.Errorf("cameras[%d].source: missing", i)
		}
		seen[cam.ID] = true
		z, err := vision.ParseZoom(cam.Zoom)
		if err != nil {
			return fmt.Errorf("cameras[%d].zoom: %w", i, err)
		}
		cam.zoom = z
	}
	if _, err := gpsSource(c.GPS.Source, c.GPS.Baud); err != nil {
		return fmt.Errorf("gps.source: %w", err)
	}
	if c.Store.DB == "" {
		return errors.New("store.db: missing")
	}
	if bo := c.BackOffice; bo.URL != "" {
		u, err := url.Parse(bo.URL)
		if err != nil || u.Scheme != "https" || u.Host == "" {
			return fmt.Errorf("backoffice.url: %q is not an https:// URL", bo.URL)
		}
		for _, f := range []struct{ name, path string }{{"ca", bo.CA}, {"cert", bo.Cert}, {"key", bo.Key}} {
			if f.path == "" {
				return fmt.Errorf("backoffice.%s: missing (mutual TLS needs ca, cert and key)", f.name)
			}
			if _, err := os.Stat(f.path); err != nil {
				return fmt.Errorf("backoffice.%s: %w", f.name, err)
			}
		}
		if bo.HotlistKey != "" {
			if _, err := readEd25519Public(bo.HotlistKey); err != nil {
				return fmt.Errorf("backoffice.hotlist_key: %w", err)
			}
		}
	}
	if err := c.Alerts.check(); err != nil {
		return err
	}
	if c.Retention.ReadsDays == 0 {
		c.Retention.ReadsDays = DefaultRetentionDays
	}
	if c.Retention.ReadsDays < 1 || c.Retention.ReadsDays > 3650 {
		return fmt.Errorf("retention.reads_days: %d is not 1…3650", c.Retention.ReadsDays)
	}
	return nil
}

func (a *alertConfig) check() error {
	switch {
	case a.Sound == "":
		a.Sound = "auto"
	case a.Sound == "auto" || a.Sound == "off":
	case strings.HasPrefix(a.Sound, "wav:") && len(a.Sound) > 4:
	default:
		return fmt.Errorf("alerts.sound: %q is not auto, off or wav:DIR", a.Sound)
	}
	for _, f := range []struct {
		name string
		v    int
	}{{"speak_up_to", a.SpeakUpTo}, {"repeat_up_to", a.RepeatUpTo}} {
		if f.v < 0 || f.v > 9 {
			return fmt.Errorf("alerts.%s: %d is not a priority 0…9 (0: the default)", f.name, f.v)
		}
	}
	if a.MaxUnacked < 0 || a.MaxUnacked > 100 {
		return fmt.Errorf("alerts.max_unacked: %d is not 0…100", a.MaxUnacked)
	}
	return nil
}

// policy returns the alert policy the settings describe; zero fields keep
// the app's defaults.
func (a alertConfig) policy(now func() time.Time) *app.AlertPolicy {
	return &app.AlertPolicy{Now: now, RepeatEvery: a.RepeatEvery.Duration, SameVRM: a.SameVRM.Duration,
		SpeakUpTo: a.SpeakUpTo, RepeatUpTo: a.RepeatUpTo, MaxUnacked: a.MaxUnacked}
}

// player returns the alert player the sound setting names; nil for "off".
func (a alertConfig) player(logger *slog.Logger) (app.Player, error) {
	if a.Sound == "off" {
		return nil, nil
	}
	v, err := audio.NewVoice()
	if err != nil {
		return nil, fmt.Errorf("voice clips: %w", err)
	}
	if dir, ok := strings.CutPrefix(a.Sound, "wav:"); ok {
		if err := os.MkdirAll(dir, 0o755); err != nil {
			return nil, fmt.Errorf("alerts.sound: %w", err)
		}
		return &audio.Player{Voice: v, Out: &audio.WAVDir{Dir: dir}}, nil
	}
	return &audio.Player{Voice: v, Out: audio.NewOutput(logger)}, nil
}

// gpsSource parses a GPS source: serial:PORT, gpsd:HOST:PORT (or gpsd: for
// localhost), tcp:HOST:PORT, udp:[HOST]:PORT or file:PATH.
func gpsSource(s string, baud int) (gps.Source, error) {
	kind, rest, ok := strings.Cut(s, ":")
	if !ok {
		return nil, fmt.Errorf("%q: want serial:PORT, gpsd:HOST:PORT, tcp:HOST:PORT, udp::PORT or file:PATH", s)
	}
	if baud != 0 && kind != "serial" {
		return nil, fmt.Errorf("baud is for serial sources only")
	}
	switch kind {
	case "serial":
		if rest == "" {
			return nil, errors.New("serial: no port")
		}
		return &gps.Serial{Port: rest, Baud: baud}, nil
	case "gpsd":
		return &gps.GPSD{Addr: rest}, nil
	case "tcp":
		if rest == "" {
			return nil, errors.New("tcp: no address")
		}
		return &gps.TCP{Addr: rest}, nil
	case "udp":
		if rest == "" {
			return nil, errors.New("udp: no address")
		}
		return &gps.UDP{Addr: rest}, nil
	case "file":
		if rest == "" {
			return nil, errors.New("file: no path")
		}
		return &gps.File{Path: rest, Paced: true}, nil
	}
	return nil, fmt.Errorf("%q: unknown kind %q: want serial, gpsd, tcp, udp or file", s, kind)
}

// readEd25519Public reads a PEM (PKIX) Ed25519 public key, as
// 'anpr-backoffice certs' writes it.
func readEd25519Public(path string) (ed25519.PublicKey, error) {
	b, err := os.ReadFile(path)
	if err != nil {
		return nil, err
	}
	blk, _ := pem.Decode(b)
	if blk == nil {
		return nil, fmt.Errorf("%s holds no PEM block", path)
	}
	k, err := x509.ParsePKIXPublicKey(blk.Bytes)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", path, err)
	}
	pub, ok := k.(ed25519.PublicKey)
	if !ok {
		return nil, fmt.Errorf("%s: not an Ed25519 public key", path)
	}
	return pub, nil
}

// ---- the car, wired ----

// car is the in-car app wired together: the store, the matcher, the GPS
// tracker, the camera pipelines, the uplink and the engine. The headless
// runner and the UI both drive one.
type car struct {
	DB        *sqlite.DB
	Matcher   *hotlist.Matcher
	Tracker   *gps.Tracker
	Feed      *gps.Feed // nil: the tracker is fed otherwise (the demo)
	Models    *vision.Models
	Pipelines []*vision.Pipeline
	Uplink    *uplink.Client // nil: no back office configured
	Engine    *app.Engine
	Now       func() time.Time
	Logger    *slog.Logger

	// pace, when set, stands between the pipelines and the engine (the
	// demo's drive clock); it must forward every sighting and close out
	// when in closes.
	pace func(ctx context.Context, in <-chan app.Sighting, out chan<- app.Sighting)

	retention atomic.Int64 // how long acknowledged reads stay, in ns; 0: for ever
	conf      *configFile  // the file the car was started from; nil: the demo
	link      string       // sync detail when there is no uplink
	camMu     sync.Mutex
	cams      map[*vision.Pipeline]*camStat // the camera probe's memory
	closers   []func() error
	stopBG    context.CancelFunc
	bg        sync.WaitGroup
}

// openCar opens the store and the matcher and builds the engine around them;
// callers add the sources.
func openCar(ctx context.Context, dbPath, snapshot string, now func() time.Time, logger *slog.Logger) (*car, error) {
	c := &car{Now: now, Logger: logger}
	db, err := sqlite.Open(dbPath)
	if err != nil {
		return nil, err
	}
	db.Now = now
	c.DB = db
	c.closers = append(c.closers, db.Close)
	c.Matcher, err = hotlist.Open(ctx, db, snapshot)
	if err != nil {
		c.close()
		return nil, fmt.Errorf("hot lists: %w", err)
	}
	c.Tracker = &gps.Tracker{Now: now}
	c.Engine = &app.Engine{
		Locator: c.Tracker, Matcher: c.Matcher, Store: db, Past: db, Decisions: db,
		Auditor: db, Wanted: db, Reloader: c.Matcher, Lists: db, Now: now, Logger: logger,
		Clock: app.ClockFunc(func() app.ClockReading {
			cs := c.Tracker.Clock()
			r := app.ClockReading{Source: cs.Source(), Suspect: cs.Suspect}
			if cs.Valid {
				r.Offset = cs.Offset
			}
			return r
		}),
	}
	c.Engine.Probes = []app.StatusProbe{app.ProbeFunc(c.probe)}
	return c, nil
}

// openLiveCar wires the car a configuration file describes.
func openLiveCar(ctx context.Context, cfg *config, logger *slog.Logger) (*car, error) {
	c, err := openCar(ctx, cfg.Store.DB, cfg.Store.Snapshot, time.Now, logger)
	if err != nil {
		return nil, err
	}
	ok := false
	defer func() {
		if !ok {
			c.close()
		}
	}()
	c.retention.Store(int64(time.Duration(cfg.Retention.ReadsDays) * 24 * time.Hour))
	c.Tracker.ClockBound = cfg.GPS.ClockBound.Duration
	src, err := gpsSource(cfg.GPS.Source, cfg.GPS.Baud)
	if err != nil {
		return nil, err
	}
	c.Feed = &gps.Feed{Source: src, Tracker: c.Tracker, Logger: logger}
	c.Engine.Alerts = cfg.Alerts.policy(c.Now)
	c.Engine.PastWindow = cfg.Matching.PastWindow.Duration
	if c.Engine.Player, err = cfg.Alerts.player(logger); err != nil {
		return nil, err
	}
	region, _ := vision.ParseRegion(cfg.Car.Region)
	if c.Models, err = vision.LoadModels(cfg.Car.Models); err != nil {
		return nil, fmt.Errorf("load models: %w", err)
	}
	c.closers = append(c.closers, c.Models.Close)
	for _, cam := range cfg.Cameras {
		p := vision.NewPipeline(vision.NewSource(cam.Source, cam.ID), c.Models, region)
		p.Reader.(*vision.Reader).Zoom = cam.zoom
		p.Logger = logger
		c.Pipelines = append(c.Pipelines, p)
	}
	if bo := cfg.BackOffice; bo.URL != "" {
		tc, err := uplink.TLSConfig(bo.CA, bo.Cert, bo.Key)
		if err != nil {
			return nil, fmt.Errorf("back office: %w", err)
		}
		hc := &http.Client{Transport: &http.Transport{TLSClientConfig: tc}, Timeout: time.Minute}
		u := uplink.NewClient(bo.URL, hc, c.DB)
		u.Car, u.StateDir, u.Logger = cfg.Car.ID, bo.StateDir, logger
		if bo.Interval.Duration > 0 {
			u.Interval = bo.Interval.Duration
		}
		if bo.HotlistKey != "" {
			if u.HotlistKey, err = readEd25519Public(bo.HotlistKey); err != nil {
				return nil, fmt.Errorf("back office hot-list key: %w", err)
			}
			u.Hotlists = uplink.ImportStore[*sqlite.Import, sqlite.ImportResult](c.DB)
		}
		c.Uplink = u
	} else {
		c.link = "no back office configured"
	}
	ok = true
	return c, nil
}

// start starts every part: GPS, cameras, engine, uplink, retention.
func (c *car) start(ctx context.Context) error {
	bg, cancel := context.WithCancel(context.WithoutCancel(ctx))
	c.stopBG = cancel
	if c.Feed != nil {
		if err := c.Feed.Start(ctx); err != nil {
			return fmt.Errorf("gps: %w", err)
		}
		c.closers = append(c.closers, c.Feed.Stop)
	}
	// camera pipelines ──Sighting──▶ fan-in ──▶ [pace] ──▶ engine: every
	// edge blocks; a read is never dropped.
	merged := make(chan app.Sighting)
	var fan sync.WaitGroup
	for _, p := range c.Pipelines {
		if err := p.Start(ctx); err != nil {
			return err
		}
		fan.Add(1)
		go func() {
			defer fan.Done()
			for s := range p.Sightings() {
				merged <- s
			}
		}()
	}
	go func() {
		fan.Wait()
		close(merged)
	}()
	in := (<-chan app.Sighting)(merged)
	if c.pace != nil {
		paced := make(chan app.Sighting)
		go c.pace(ctx, merged, paced)
		in = paced
	}
	// The engine outlives ctx long enough to commit what the cameras saw.
	if err := c.Engine.Start(context.WithoutCancel(ctx), in); err != nil {
		return err
	}
	if c.Uplink != nil {
		c.Uplink.Start(bg)
		sub := c.Engine.Subscribe(64)
		c.bg.Add(1)
		go func() { // hits and decisions go to the back office first
			defer c.bg.Done()
			for {
				select {
				case <-bg.Done():
					return
				case ev, ok := <-sub.C:
					if !ok {
						return
					}
					if ev.Type == app.EventHit || ev.Type == app.EventPastHit || ev.Type == app.EventDecision ||
						(ev.Type == app.EventRead && ev.Hit != nil) {
						c.Uplink.Notify()
					}
				case <-sub.Wake:
					c.Uplink.Notify()
				}
			}
		}()
	}
	if c.retention.Load() > 0 {
		c.bg.Add(1)
		go func() {
			defer c.bg.Done()
			t := time.NewTicker(time.Hour)
			defer t.Stop()
			for {
				if res, err := c.DB.Purge(bg, c.Now(), time.Duration(c.retention.Load())); err != nil && bg.Err() == nil {
					c.Logger.Error("retention purge", "err", err)
				} else if err == nil && res.Reads > 0 {
					c.Logger.Info("retention purge", "reads", res.Reads)
				}
				select {
				case <-bg.Done():
					return
				case <-t.C:
				}
			}
		}()
	}
	return nil
}

// wait returns once the cameras have ended (a video file) or been stopped
// and every sighting has been committed.
func (c *car) wait() error {
	err := c.Engine.Wait()
	for _, p := range c.Pipelines {
		err = errors.Join(err, p.Err())
	}
	return err
}

// close stops everything and releases the store, last.
func (c *car) close() {
	for _, p := range c.Pipelines {
		p.Stop()
	}
	if c.Engine != nil {
		c.Engine.Stop()
	}
	if c.stopBG != nil {
		c.stopBG()
	}
	if c.Uplink != nil {
		c.Uplink.Stop()
	}
	c.bg.Wait()
	for i := len(c.closers) - 1; i >= 0; i-- {
		if err := c.closers[i](); err != nil {
			c.Logger.Warn("close", "err", err)
		}
	}
	c.closers = nil
}

// Thresholds of the status probes.
const (
	cameraStall = 3 * time.Second // no frame for this long: camera lost
	gpsStale    = 2 * time.Second // fix older than this: degraded
	listsStale  = 24 * time.Hour  // newest list older than this: degraded
)

// camStat is what the camera probe remembers between ticks.
type camStat struct {
	captured int64
	at       time.Time
	moved    time.Time
}

// probe samples every part for the engine's status events.
func (c *car) probe(ctx context.Context) []app.PartStatus {
	now := c.Now()
	var out []app.PartStatus
	c.camMu.Lock()
	if c.cams == nil {
		c.cams = map[*vision.Pipeline]*camStat{}
	}
	for _, p := range c.Pipelines {
		st := p.Stats()
		cs := c.cams[p]
		if cs == nil {
			cs = &camStat{captured: st.Source.Captured, at: now, moved: now}
			c.cams[p] = cs
		}
		s := app.PartStatus{Part: app.PartCamera, ID: p.Source.Camera, State: app.StateOK, Dropped: st.Source.Dropped}
		if dt := now.Sub(cs.at).Seconds(); dt > 0 {
			s.FPS = math.Round(float64(st.Source.Captured-cs.captured)/dt*10) / 10
		}
		if st.Source.Captured != cs.captured {
			cs.moved = now
		}
		cs.captured, cs.at = st.Source.Captured, now
		switch {
		case p.Err() != nil:
			s.State, s.Detail = app.StateLost, p.Err().Error()
		case st.Source.Captured == 0 && now.Sub(cs.moved) < cameraStall:
			s.State = app.StateUnknown // starting
		case now.Sub(cs.moved) >= cameraStall && p.Source.Kind() != vision.KindFile:
			s.State, s.Detail = app.StateLost, "no frames" // a steady detail: one status line, not one a second
		}
		out = append(out, s)
	}
	c.camMu.Unlock()

	pos := c.Tracker.At(now)
	g := app.PartStatus{Part: app.PartGPS, Fix: pos.Fix, FixAge: pos.Age}
	_, _, ever := c.Tracker.Latest()
	switch {
	case !ever:
		g.State, g.Detail = app.StateUnknown, "waiting for the receiver"
	case !pos.Fix.Usable():
		g.State, g.Detail = app.StateLost, "no fix" // FixAge says for how long
	case pos.Age > gpsStale || pos.Estimated:
		g.State, g.Detail = app.StateDegraded, "position estimated"
	default:
		g.State = app.StateOK
	}
	out = append(out, g)

	r := c.Engine.Clock.Reading()
	cl := app.PartStatus{Part: app.PartClock, ClockSource: r.Source, ClockOffset: r.Offset, ClockSuspect: r.Suspect, State: app.StateOK}
	if r.Source != app.ClockGPS || r.Suspect {
		cl.State = app.StateDegraded
		cl.Detail = "reads stamped by the system clock"
		if r.Suspect {
			cl.Detail = "system clock disagrees with GPS time" // ClockOffset says by how much
		}
	}
	out = append(out, cl)

	h := app.PartStatus{Part: app.PartHotlist, Generation: c.Matcher.Generation(), State: app.StateOK}
	if stats, err := c.DB.HotlistStats(ctx, now); err != nil {
		h.State, h.Detail = app.StateDegraded, err.Error()
	} else {
		for _, l := range stats {
			h.Lists++
			h.Entries += l.Entries - l.Expired
			if l.Updated.After(h.ListsLoaded) {
				h.ListsLoaded = l.Updated
			}
		}
		switch {
		case h.Entries == 0:
			h.State, h.Detail = app.StateDegraded, "no hot-list entries loaded"
		case now.Sub(h.ListsLoaded) > listsStale && c.Uplink != nil:
			h.State, h.Detail = app.StateDegraded, "hot lists more than a day old"
		}
	}
	out = append(out, h)

	sy := app.PartStatus{Part: app.PartSync, State: app.StateUnknown, Detail: c.link}
	if c.Uplink != nil {
		if st, err := c.Uplink.Status(ctx); err == nil {
			sy.Pending, sy.OldestPending, sy.LastAck, sy.Detail = st.Pending, st.OldestPending, st.LastAck, st.LastError
			switch st.Link {
			case uplink.LinkUp:
				sy.State = app.StateOK
			case uplink.LinkDown, uplink.LinkRefused:
				sy.State = app.StateLost
			}
		}
	} else if st, err := c.DB.OutboxStats(ctx); err == nil {
		sy.Pending, sy.OldestPending, sy.LastAck = st.Pending, st.OldestPending, st.LastAck
	}
	out = append(out, sy)
	return out
}

// shutdownGrace is how long a stopped car waits for its last reads to commit.
const shutdownGrace = 10 * time.Second

// runHeadless runs a car with no window: the engine's events as JSON lines
// on m.Stdout until the cameras end or ctx is done. The UI runs the same car
// with a window instead.
func runHeadless(ctx context.Context, m *Main, c *car) error {
	// A big buffer: a slow reader of stdout loses lines only after 4096
	// events, and then says so in a "lagged" line.
	sub := c.Engine.Subscribe(4096)
	enc := app.NewJSONEncoder(m.Stdout)
	if err := c.start(ctx); err != nil {
		return err
	}
	done := make(chan error, 1)
	go func() { done <- c.wait() }()
	var runErr error
	writeErr := func(err error) {
		if err != nil && runErr == nil {
			runErr = err
			c.Logger.Error("write event", "err", err)
		}
	}
	events, stopped := sub.C, ctx.Done()
	var grace <-chan time.Time
	for finished := false; !finished; {
		select {
		case ev, ok := <-events:
			if !ok {
				events = nil
				continue
			}
			writeErr(enc.Encode(ev))
		case <-stopped:
			// The cameras stop; the engine commits what they saw. A store
			// that cannot commit for this long is abandoned.
			stopped, grace = nil, time.After(shutdownGrace)
		case <-grace:
			c.Logger.Error("reads still not committed; stopping anyway", "after", shutdownGrace)
			c.Engine.Stop()
		case <-sub.Wake:
			if n, lagged := sub.Lagged(); lagged {
				_, err := fmt.Fprintf(m.Stdout, "{\"type\":\"lagged\",\"dropped\":%d}\n", n)
				writeErr(err)
			}
		case err := <-done:
			runErr = errors.Join(runErr, err)
			finished = true
		}
	}
	// Every read is committed: a last status, then stop and print the rest.
	c.Engine.TickOnce(context.WithoutCancel(ctx))
	c.Engine.Stop()
	for ev := range sub.C {
		writeErr(enc.Encode(ev))
	}
	if n, lagged := sub.Lagged(); lagged {
		fmt.Fprintf(m.Stdout, "{\"type\":\"lagged\",\"dropped\":%d}\n", n)
	}
	if ctx.Err() != nil && runErr == nil {
		return nil // stopped by the user: not a failure
	}
	return runErr
}
