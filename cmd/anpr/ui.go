package main

import (
	"bytes"
	"context"
	"crypto/subtle"
	"database/sql"
	"errors"
	"fmt"

	"io"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"fyne.io/fyne/v2"
	fyneapp "fyne.io/fyne/v2/app"
	"gocv.io/x/gocv"

	"github.com/ukanpr/anpr/app"
	"github.com/ukanpr/anpr/app/hotlist"
	"github.com/ukanpr/anpr/app/sqlite"
	"github.com/ukanpr/anpr/app/ui"
	"github.com/ukanpr/anpr/vision"
)

func init() {
	runWindow = func(ctx context.Context, m *Main, c *car) error {
		return runUI(ctx, m, c, uiOptionsFromEnv(c))
	}
}

// uiOptionsFromEnv reads the window's options from the environment until
// the configuration file carries them: ANPR_ADMIN_PIN (the demo's default
// is 0000; a real car without one keeps the admin screen locked),
// ANPR_MBTILES (a tile file for the map), ANPR_DRIVING_MPS and
// ANPR_FULLSCREEN=1.
func uiOptionsFromEnv(c *car) uiOptions {
	opt := uiOptions{AdminPIN: os.Getenv("ANPR_ADMIN_PIN"), MBTiles: os.Getenv("ANPR_MBTILES"),
		FullScreen: os.Getenv("ANPR_FULLSCREEN") == "1"}
	if opt.AdminPIN == "" && c.pace != nil { // the demo drive
		opt.AdminPIN = "0000"
	}
	if v, err := strconv.ParseFloat(os.Getenv("ANPR_DRIVING_MPS"), 64); err == nil && v > 0 {
		opt.DrivingSpeed = v
	}
	return opt
}

// uiOptions configure the window beyond what the car itself holds.
type uiOptions struct {
	// AdminPIN unlocks the admin screen; empty: the admin screen stays
	// locked.
	AdminPIN string
	// OfficerPINs maps collar numbers to PINs. Empty (the demo): any
	// collar number logs on with any PIN, and the log says so once.
	OfficerPINs map[string]string
	// MBTiles is a tile file for the map; empty: the plain track plot.
	MBTiles string
	// Settings are what the admin screen shows and edits.
	Settings ui.Settings
	// DrivingSpeed in m/s above which only hits show; 0: ui's default.
	DrivingSpeed float64
	// FullScreen fills the tablet's screen (the car); off, a 1280×800
	// window (a desk).
	FullScreen bool

	// For anpr bench-ui: a probe timing hits to the display, closing the
	// window once the cameras have ended and every hit is answered, and
	// extra camera taps for a simulated camera.
	probe        *hitProbe
	exitWhenDone bool
	taps         []*frameTap
}

// runUI opens the touchscreen window on c, starts the car and runs until
// the window is closed or ctx is done; then the cameras stop and the reads
// they saw are committed (up to shutdownGrace) before it returns. It must
// run on the main goroutine: Fyne's driver owns the main thread.
func runUI(ctx context.Context, m *Main, c *car, opt uiOptions) error {
	b, err := newUIBackend(c, opt)
	if err != nil {
		return err
	}
	defer b.close()
	a := fyneapp.NewWithID("uk.ukanpr.anpr")
	vm := ui.NewViewModel(b, c.Now)
	vm.DrivingSpeed = opt.DrivingSpeed
	u := ui.New(ctx, a, vm)

	if err := c.start(ctx); err != nil {
		return err
	}
	uiCtx, stopUI := context.WithCancel(ctx)
	defer stopUI()
	u.Start(uiCtx)
	if opt.probe != nil {
		if err := opt.probe.attach(uiCtx, u, vm); err != nil {
			return err
		}
	}
	done := make(chan error, 1)
	go func() {
		err := c.wait()
		done <- err
		if opt.exitWhenDone {
			for i := 0; i < 100 && opt.probe != nil && !opt.probe.idle(); i++ {
				time.Sleep(100 * time.Millisecond)
			}
			time.Sleep(time.Second) // the last answer reaches the display
			fyne.Do(a.Quit)
		}
	}()
	go func() {
		<-uiCtx.Done() // Ctrl-C: close the window too
		fyne.Do(a.Quit)
	}()
	u.Window.SetMaster()
	u.Window.SetFullScreen(opt.FullScreen)
	u.Window.ShowAndRun()
	stopUI()

	for _, p := range c.Pipelines {
		p.Stop()
	}
	select {
	case err = <-done:
	case <-time.After(shutdownGrace):
		err = errors.New("reads still not committed after the window closed; stopping anyway")
	}
	c.Engine.TickOnce(context.WithoutCancel(ctx))
	c.Engine.Stop()
	if ctx.Err() != nil && err == nil {
		return nil
	}
	return err
}

// uiBackend adapts the car to ui.Backend: the engine answers events and
// officer actions itself (embedded); the store answers history and
// imports, the GPS tracker the map's position, an MBTiles file the map's
// tiles, and a tap on each camera pipeline the live picture.
type uiBackend struct {
	*app.Engine
	c   *car
	opt uiOptions

	warnOnce sync.Once
	setMu    sync.Mutex
	settings ui.Settings // the demo's (no configuration file); a car reads c.conf
	tiles    *sql.DB     // nil: no tile file
	taps     []*frameTap
	seq      atomic.Uint64
}

var _ ui.Backend = (*uiBackend)(nil)

func newUIBackend(c *car, opt uiOptions) (*uiBackend, error) {
	b := &uiBackend{Engine: c.Engine, c: c, opt: opt, settings: opt.Settings}
	if b.settings.RetentionDays == 0 {
		b.settings.RetentionDays = int(time.Duration(c.retention.Load()) / (24 * time.Hour))
	}
	if b.settings.RetentionDays == 0 {
		b.settings.RetentionDays = DefaultRetentionDays
	}
	if opt.MBTiles != "" {
		if _, err := os.Stat(opt.MBTiles); err != nil {
			return nil, fmt.Errorf("map tiles: %w", err)
		}
		db, err := sql.Open("sqlite", "file:"+filepath.ToSlash(opt.MBTiles)+"?mode=ro")
		if err != nil {
			return nil, fmt.Errorf("map tiles %s: %w", opt.MBTiles, err)
		}
		b.tiles = db
	}
	// Tap every camera for the live picture before the pipelines start.
	for _, p := range c.Pipelines {
		t := &frameTap{FrameReader: p.Reader, camera: p.Source.Camera, every: 100 * time.Millisecond, seq: &b.seq}
		p.Reader = t
		b.taps = append(b.taps, t)
	}
	for _, t := range opt.taps {
		t.seq = &b.seq
		b.taps = append(b.taps, t)
	}
	return b, nil
}

func (b *uiBackend) close() {
	if b.tiles != nil {
		b.tiles.Close()
	}
}

// AuthenticateOfficer checks a collar number and PIN against the
// configured PINs; with none configured (the demo) anyone logs on.
func (b *uiBackend) AuthenticateOfficer(ctx context.Context, id, pin string) (app.Officer, error) {
	if len(b.opt.OfficerPINs) == 0 {
		b.warnOnce.Do(func() { b.c.Logger.Warn("officer PINs are not checked: none configured") })
	} else if want, ok := b.opt.OfficerPINs[id]; !ok || subtle.ConstantTimeCompare([]byte(want), []byte(pin)) != 1 {
		b.audit(ctx, id, "logon.refused", "")
		return app.Officer{}, errors.New("unknown collar number or wrong PIN")
	}
	b.audit(ctx, id, "logon", "")
	return app.Officer{ID: id}, nil
}

// AuthenticateAdmin checks the admin PIN.
func (b *uiBackend) AuthenticateAdmin(ctx context.Context, pin string) error {
	if b.opt.AdminPIN == "" || subtle.ConstantTimeCompare([]byte(b.opt.AdminPIN), []byte(pin)) != 1 {
		b.audit(ctx, "admin", "admin.refused", "")
		return errors.New("wrong admin PIN")
	}
	b.audit(ctx, "admin", "admin.unlock", "")
	return nil
}

func (b *uiBackend) audit(ctx context.Context, actor, action, detail string) {
	if err := b.c.DB.Audit(ctx, app.AuditEvent{Time: b.c.Now(), Actor: actor, Action: action, Detail: detail}); err != nil {
		b.c.Logger.Error("audit", "action", action, "err", err)
	}
}

// ShiftReads reads this shift's reads from the store with their hits and
// latest decisions: one query for the reads, one for which of them hit, and
// one per hit (a shift has few).
func (b *uiBackend) ShiftReads(ctx context.Context, q ui.ReadQuery) ([]ui.ReadRecord, error) {
	sq := sqlite.ReadQuery{From: q.Since, VRM: q.VRM, Limit: q.Limit, Images: q.Patches}
	rs, err := b.c.DB.Reads(ctx, sq)
	if err != nil {
		return nil, err
	}
	hq := sq
	hq.HitsOnly, hq.Images = true, false
	hits, err := b.c.DB.Reads(ctx, hq)
	if err != nil {
		return nil, err
	}
	hit := make(map[string]bool, len(hits))
	for _, r := range hits {
		hit[r.ID] = true
	}
	out := make([]ui.ReadRecord, 0, len(rs))
	for _, r := range rs {
		r.Overview = nil // the UI shows patches only
		rec := ui.ReadRecord{Read: r}
		if hit[r.ID] {
			h, err := b.c.DB.Hit(ctx, r.ID)
			if err != nil && !errors.Is(err, sqlite.ErrNotFound) {
				return nil, err
			}
			if err == nil {
				rec.Hit = &h
				ds, err := b.c.DB.Decisions(ctx, r.ID)
				if err != nil {
					return nil, err
				}
				if len(ds) > 0 {
					rec.Decision = &ds[len(ds)-1]
				}
			}
		}
		out = append(out, rec)
	}
	return out, nil
}

// Settings returns what the admin screen edits: the configuration file's
// fields, or the demo's for this run.
func (b *uiBackend) Settings(context.Context) (ui.Settings, error) {
	if b.c.conf != nil {
		return b.c.conf.settings(), nil
	}
	b.setMu.Lock()
	defer b.setMu.Unlock()
	return b.settings, nil
}

// SaveSettings writes the settings into the configuration file the car was
// started from (the demo has none: they last for this run), applies the
// retention at once and audits the change. Cameras, GPS and back office
// are opened at start, so they change at the next start.
func (b *uiBackend) SaveSettings(ctx context.Context, s ui.Settings) (string, error) {
	if err := s.Validate(); err != nil {
		return "", err
	}
	var msg string
	if b.c.conf != nil {
		if err := b.c.conf.save(s); err != nil {
			return "", err
		}
		msg = fmt.Sprintf("Saved to %s. Retention applies now; cameras, GPS and back office at the next start.", b.c.conf.path)
	} else {
		b.setMu.Lock()
		b.settings = s
		b.setMu.Unlock()
		msg = "Saved for this run: the demo has no configuration file."
	}
	b.c.retention.Store(int64(time.Duration(s.RetentionDays) * 24 * time.Hour))
	b.audit(ctx, "admin", "settings", fmt.Sprintf("cameras %q, gps %q, back office %q, retention %d days",
		strings.Split(strings.TrimSpace(s.Cameras), "\n"), s.GPS, s.BackOffice, s.RetentionDays))
	return msg, nil
}

// ImportHotlist imports a CSV file as one list, replacing it atomically,
// then reloads the matcher and re-checks this shift's reads.
func (b *uiBackend) ImportHotlist(ctx context.Context, path, list string, progress func(done, total int)) (int, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return 0, fmt.Errorf("import %s: %w", path, err)
	}
	total := bytes.Count(data, []byte{'\n'})
	rd, err := hotlist.NewReader(bytes.NewReader(data), hotlist.ReaderOptions{List: list})
	if err != nil {
		return 0, fmt.Errorf("import %s: %w", path, err)
	}
	imp, err := b.c.DB.BeginImport(ctx, list, true)
	if err != nil {
		return 0, fmt.Errorf("import %s: %w", path, err)
	}
	var bad []string
	for n := 0; ; n++ {
		e, err := rd.Next()
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			bad = append(bad, err.Error())
			continue
		}
		if err := imp.Add(e); err != nil {
			imp.Rollback()
			return 0, fmt.Errorf("import %s line %d: %w", path, rd.Line(), err)
		}
		if n%500 == 0 {
			progress(rd.Line(), total)
		}
	}
	if len(bad) > 0 {
		imp.Rollback()
		if len(bad) > 3 {
			bad = append(bad[:3], fmt.Sprintf("and %d more", len(bad)-3))
		}
		return 0, fmt.Errorf("import %s: nothing imported: %s", path, strings.Join(bad, "; "))
	}
	res, err := imp.Commit()
	if err != nil {
		return 0, fmt.Errorf("import %s: %w", path, err)
	}
	progress(total, total)
	if _, err := b.Engine.ListsChanged(ctx); err != nil {
		return res.Entries, err
	}
	return res.Entries, nil
}

// Tile returns a tile of the MBTiles file (TMS rows, so y is flipped).
func (b *uiBackend) Tile(z, x, y int) ([]byte, error) {
	if b.tiles == nil {
		return nil, ui.ErrNoTiles
	}
	var data []byte
	err := b.tiles.QueryRow("SELECT tile_data FROM tiles WHERE zoom_level = ? AND tile_column = ? AND tile_row = ?",
		z, x, (1<<z)-1-y).Scan(&data)
	if errors.Is(err, sql.ErrNoRows) {
		return nil, nil
	}
	if err != nil {
		return nil, fmt.Errorf("map tile %d/%d/%d: %w", z, x, y, err)
	}
	return data, nil
}

// At is the GPS tracker's position at t.
func (b *uiBackend) At(t time.Time) app.Position { return b.c.Tracker.At(t) }

// LatestFrame returns the newest tapped camera picture.
func (b *uiBackend) LatestFrame() (ui.Frame, bool) {
	var best ui.Frame
	ok := false
	for _, t := range b.taps {
		if f, has := t.latest(); has && (!ok || f.Seq > best.Seq) {
			best, ok = f, true
		}
	}
	return best, ok
}

// frameTap passes frames to the real reader and keeps a copy of one frame
// every so often, with its plates, for the live picture. Copying is the
// tap's only cost on the vision path; the Mat stays the pipeline's.
type frameTap struct {
	vision.FrameReader
	camera string
	every  time.Duration
	seq    *atomic.Uint64

	mu   sync.Mutex
	last time.Time
	f    ui.Frame
	has  bool
}

// Read implements vision.FrameReader.
func (t *frameTap) Read(img gocv.Mat) ([]vision.Plate, error) {
	plates, err := t.FrameReader.Read(img)
	now := time.Now()
	t.mu.Lock()
	due := now.Sub(t.last) >= t.every
	if due {
		t.last = now
	}
	t.mu.Unlock()
	if !due || img.Empty() {
		return plates, err
	}
	pic, cerr := img.ToImage()
	if cerr != nil {
		return plates, err
	}
	f := ui.Frame{Seq: t.seq.Add(1), Camera: t.camera, Image: pic}
	for _, p := range plates {
		f.Boxes = append(f.Boxes, ui.Box{Rect: p.Box, Text: p.Text})
	}
	t.mu.Lock()
	t.f, t.has = f, true
	t.mu.Unlock()
	return plates, err
}

func (t *frameTap) latest() (ui.Frame, bool) {
	t.mu.Lock()
	defer t.mu.Unlock()
	return t.f, t.has
}
