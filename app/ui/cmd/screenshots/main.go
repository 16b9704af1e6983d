// Command screenshots renders every screen of the in-car app, in the day
// and the night theme, at the tablet's 1280×800, into PNG files. By default
// it uses Fyne's software painter, so it needs no display and no GPU: the
// pictures are what the test suite's render tests see, drawn. With -window
// it shows the real OpenGL window on $DISPLAY (Xvfb) and grabs the screen
// with ffmpeg instead, which checks the real driver draws the same.
//
// The scene is made up but its pictures are real: the camera view and plate
// patches come from the dash-cam frames in testdata/dashcam (Romanian
// plates; MIT licence, see the LICENSE there).
//
// Run from the repository root:
//
//	go run ./app/ui/cmd/screenshots -out docs/screenshots
package main

import (
	"bytes"
	"context"
	"encoding/csv"
	"flag"
	"fmt"
	"image"
	"image/draw"
	"image/jpeg"
	"image/png"
	"math"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"time"

	"fyne.io/fyne/v2"
	fyneapp "fyne.io/fyne/v2/app"
	"fyne.io/fyne/v2/test"

	"github.com/ukanpr/anpr/app"
	"github.com/ukanpr/anpr/app/ui"
	"github.com/ukanpr/anpr/app/ui/mock"
)

func main() {
	out := flag.String("out", "docs/screenshots", "folder for the PNG files")
	dashcam := flag.String("dashcam", "testdata/dashcam", "folder of the dash-cam frames and labels.csv")
	window := flag.Bool("window", false, "show the real OpenGL window on $DISPLAY and grab it with ffmpeg (Xvfb)")
	flag.Parse()
	var err error
	if *window {
		err = runWindow(*out, *dashcam)
	} else {
		// Off the main goroutine: linking the GL driver makes Fyne treat
		// the main goroutine as its own, even under the test driver.
		errc := make(chan error)
		go func() { errc <- run(*out, *dashcam) }()
		err = <-errc
	}
	if err != nil {
		fmt.Fprintln(os.Stderr, "screenshots:", err)
		os.Exit(1)
	}
}

// label is one plate box of labels.csv.
type label struct {
	file, text string
	box        image.Rectangle
}

func loadLabels(dir string) ([]label, error) {
	f, err := os.Open(filepath.Join(dir, "labels.csv"))
	if err != nil {
		return nil, err
	}
	defer f.Close()
	rows, err := csv.NewReader(f).ReadAll()
	if err != nil {
		return nil, fmt.Errorf("%s: %w", f.Name(), err)
	}
	var out []label
	for _, r := range rows[1:] {
		if len(r) < 7 || r[1] == "" {
			continue
		}
		n := make([]int, 4)
		for i := range n {
			if n[i], err = strconv.Atoi(r[2+i]); err != nil {
				return nil, fmt.Errorf("labels.csv: %w", err)
			}
		}
		out = append(out, label{file: r[0], text: r[1], box: image.Rect(n[0], n[1], n[0]+n[2], n[1]+n[3])})
	}
	return out, nil
}

func loadImage(path string) (image.Image, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	img, _, err := image.Decode(f)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", path, err)
	}
	return img, nil
}

// crop cuts a plate patch out of a frame, with a margin, as JPEG.
func crop(img image.Image, r image.Rectangle) []byte {
	r = r.Inset(-r.Dy() / 3).Intersect(img.Bounds())
	dst := image.NewRGBA(image.Rect(0, 0, r.Dx(), r.Dy()))
	draw.Draw(dst, dst.Bounds(), img, r.Min, draw.Src)
	var b bytes.Buffer
	_ = jpeg.Encode(&b, dst, &jpeg.Options{Quality: 90})
	return b.Bytes()
}

// The look-alike hit: the first frame's big plate (testdata/dashcam, 185 px)
// read where the stolen-vehicle list has an I for its second 1.
const (
	lookalikeRead  = "B311ALY"
	lookalikeEntry = "B31IALY"
	lookalikeDiff  = 3
)

// scene is the made-up shift the screenshots show.
type scene struct {
	now    time.Time
	frame  ui.Frame
	reads  []app.Read
	hits   map[string]*app.Hit
	track  []app.Position
	events []app.Event
}

func newScene(dashcam string) (*scene, error) {
	labels, err := loadLabels(dashcam)
	if err != nil {
		return nil, err
	}
	s := &scene{now: time.Date(2026, 11, 17, 14, 2, 11, 0, time.UTC), hits: map[string]*app.Hit{}}
	// A drive north out of Derby: a gentle S-curve, one fix a second.
	start := s.now.Add(-40 * time.Minute)
	for i := 0; i <= 2400; i += 5 {
		f := float64(i) / 2400
		s.track = append(s.track, app.Position{
			Time: start.Add(time.Duration(i) * time.Second), Fix: app.Fix3D, SpeedMPS: 13,
			Lat: 52.9225 + 0.09*f, Lon: -1.4766 + 0.025*math.Sin(f*2*math.Pi) + 0.01*f,
		})
	}
	frames := map[string]image.Image{}
	for i, l := range labels {
		img, ok := frames[l.file]
		if !ok {
			if img, err = loadImage(filepath.Join(dashcam, l.file)); err != nil {
				return nil, err
			}
			frames[l.file] = img
		}
		p := s.track[len(s.track)*(i+1)/(len(labels)+1)]
		r := app.Read{ID: fmt.Sprintf("read-%02d", i), VRM: l.text, Raw: l.text, Confidence: 0.9,
			Time: s.now.Add(-time.Duration(len(labels)-i) * 97 * time.Second), Camera: "front",
			Position: p, Patch: crop(img, l.box), Candidates: []app.Candidate{{Text: l.text, Confidence: 0.9}}}
		s.reads = append(s.reads, r)
	}
	// The first frame, with its plates boxed; the big plate is the hit.
	first := labels[0].file
	s.frame = ui.Frame{Seq: 1, Camera: "front", Image: frames[first]}
	for _, l := range labels {
		if l.file == first {
			s.frame.Boxes = append(s.frame.Boxes, ui.Box{Rect: l.box, Text: l.text, Hit: l.text == lookalikeRead})
		}
	}

	// Hits: a look-alike stolen car (Z read where the list has 2), an
	// exact no-insurance hit earlier.
	for i := range s.reads {
		r := &s.reads[i]
		var m *app.Match
		switch r.VRM {
		case lookalikeRead:
			m = &app.Match{Kind: app.MatchLookalike, Candidate: r.VRM, Diff: []int{lookalikeDiff}, Entry: app.HotlistEntry{
				List: "pnc-stolen", VRM: lookalikeEntry, Category: "Stolen vehicle", Priority: 1,
				Action:      "Stop vehicle. Arrest driver for theft if safe; request backup.",
				Information: "Taken from a driveway in Allestree overnight; keys stolen in burglary.",
				Markers:     []string{"violent", "may be armed"}, Make: "Ford", Model: "Focus", Colour: "Blue", Reference: "DY-2291-26"}}
		case "B01XEN":
			m = &app.Match{Kind: app.MatchExact, Candidate: r.VRM, Entry: app.HotlistEntry{
				List: "mib", VRM: "B01XEN", Category: "No insurance", Priority: 4,
				Action: "Stop and check insurance; seize if none.", Make: "Dacia", Model: "Logan", Colour: "White"}}
		}
		if m != nil {
			h := &app.Hit{ReadID: r.ID, Time: r.Time, Matches: []app.Match{*m}}
			s.hits[r.ID] = h
		}
	}
	for i := range s.reads {
		r := s.reads[i]
		s.events = append(s.events, app.Event{Type: app.EventRead, Read: &r, Hit: s.hits[r.ID]})
	}
	st := []app.PartStatus{
		{Part: app.PartCamera, ID: "front", State: app.StateOK, FPS: 24.8},
		{Part: app.PartGPS, State: app.StateOK, Fix: app.Fix3D, FixAge: 400 * time.Millisecond},
		{Part: app.PartClock, State: app.StateOK, ClockSource: app.ClockGPS, ClockOffset: 42 * time.Millisecond},
		{Part: app.PartHotlist, State: app.StateOK, Entries: 48213, ListsLoaded: s.now.Add(-3 * time.Hour)},
		{Part: app.PartSync, State: app.StateOK, Pending: 3},
	}
	for i := range st {
		s.events = append(s.events, app.Event{Type: app.EventStatus, Status: &st[i]})
	}
	return s, nil
}

func (s *scene) hitEvent(vrm string) app.Event {
	for i := range s.reads {
		if s.reads[i].VRM == vrm {
			return app.Event{Type: app.EventHit, Time: s.now, Read: &s.reads[i], Hit: s.hits[s.reads[i].ID]}
		}
	}
	panic("no read of " + vrm)
}

func (s *scene) backend() *mock.Backend {
	return &mock.Backend{
		ShiftReadsFn: func(_ context.Context, q ui.ReadQuery) ([]ui.ReadRecord, error) {
			var out []ui.ReadRecord
			for i := len(s.reads) - 1; i >= 0; i-- {
				r := s.reads[i]
				rec := ui.ReadRecord{Read: r, Hit: s.hits[r.ID]}
				if r.VRM == "B01XEN" {
					rec.Decision = &app.Decision{ReadID: r.ID, Outcome: app.OutcomeConfirmed, Officer: "4471", Time: r.Time.Add(time.Minute)}
				}
				out = append(out, rec)
			}
			return out, nil
		},
		CheckFn: func(_ context.Context, vrm string) ([]app.Match, error) {
			for _, h := range s.hits {
				if m := h.Matches[0]; m.Entry.VRM == vrm {
					m.Kind, m.Candidate, m.Diff = app.MatchExact, vrm, nil
					return []app.Match{m}, nil
				}
			}
			return nil, nil
		},
		AuthenticateOfficerFn: func(_ context.Context, id, _ string) (app.Officer, error) {
			return app.Officer{ID: id, Name: "PC Shaw"}, nil
		},
		SettingsFn: func(context.Context) (ui.Settings, error) {
			return ui.Settings{Cameras: "/dev/video0\nrtsp://10.0.0.12/rear", GPS: "gpsd://127.0.0.1:2947",
				BackOffice: "https://anpr.example.police.uk", RetentionDays: 365}, nil
		},
		AtFn: func(time.Time) app.Position { return s.track[len(s.track)-1] },
		LatestFrameFn: func() (ui.Frame, bool) {
			return s.frame, true
		},
	}
}

// step puts the app into one state worth a picture.
type step struct {
	name string
	do   func()
}

// steps walks the app through every screen of the scene, in order.
func (s *scene) steps(u *ui.UI, vm *ui.ViewModel) []step {
	ctx := context.Background()
	return []step{
		{"logon", func() {}},
		{"live", func() {
			if err := vm.LogOn(ctx, "4471", "0000"); err != nil {
				panic(err)
			}
			for _, ev := range s.events {
				vm.Apply(ev)
			}
			for _, p := range s.track {
				setTrack(vm, p)
			}
			parked := s.track[len(s.track)-1]
			parked.SpeedMPS = 0
			setTrack(vm, parked) // stopped in a lay-by: the full screens show
			u.PollCamera()
			u.Show(ui.ScreenLive)
		}},
		{"map", func() { u.Show(ui.ScreenMap) }},
		{"history", func() { u.Show(ui.ScreenHistory) }},
		{"check", func() { u.CheckVRM(lookalikeEntry) }},
		{"admin", func() {
			u.Show(ui.ScreenAdmin)
			_ = vm.UnlockAdmin(ctx, "")
			_ = vm.ImportProgress.Set(0.62)
			_ = vm.ImportStatus.Set("Importing pnc-stolen … 29,890 of 48,213 lines")
		}},
		{"driving", func() { vm.SetSpeed(13.4) }},
		{"hit", func() {
			vm.SetSpeed(0)
			u.Show(ui.ScreenLive)
			vm.Apply(s.hitEvent(lookalikeRead))
		}},
		{"hit-other", func() { u.TapHitButton("Other…") }},
		{"hit-p4", func() {
			_ = vm.Hits.Set(nil)
			vm.Apply(s.hitEvent("B01XEN"))
		}},
	}
}

var themes = []string{ui.ThemeDay, ui.ThemeNight}

func newUI(a fyne.App, s *scene, mode string) (*ui.UI, *ui.ViewModel) {
	vm := ui.NewViewModel(s.backend(), func() time.Time { return s.now })
	vm.SetThemeMode(mode)
	u := ui.New(context.Background(), a, vm)
	u.Window.Resize(ui.WindowSize)
	return u, vm
}

// run renders with Fyne's software painter: no display needed.
func run(out, dashcam string) error {
	s, err := newScene(dashcam)
	if err != nil {
		return err
	}
	if err := os.MkdirAll(out, 0o755); err != nil {
		return err
	}
	for _, mode := range themes {
		u, vm := newUI(test.NewApp(), s, mode)
		for _, st := range s.steps(u, vm) {
			st.do()
			if err := save(filepath.Join(out, st.name+"-"+mode+".png"), u.Window.Canvas().Capture()); err != nil {
				return err
			}
		}
		fmt.Printf("%s: %d screens\n", mode, len(s.steps(u, vm)))
	}
	return nil
}

// runWindow shows the real OpenGL window on $DISPLAY (Xvfb) and grabs the
// screen with ffmpeg's x11grab after each step.
func runWindow(out, dashcam string) error {
	s, err := newScene(dashcam)
	if err != nil {
		return err
	}
	if err := os.MkdirAll(out, 0o755); err != nil {
		return err
	}
	a := fyneapp.NewWithID("uk.ukanpr.anpr.screenshots")
	errc := make(chan error, 1)
	go func() {
		errc <- func() error {
			for _, mode := range themes {
				var u *ui.UI
				var vm *ui.ViewModel
				fyne.DoAndWait(func() {
					u, vm = newUI(a, s, mode)
					u.Window.Show()
				})
				for _, st := range s.steps(u, vm) {
					fyne.DoAndWait(st.do)
					time.Sleep(800 * time.Millisecond) // let the GL window paint
					if err := grab(filepath.Join(out, st.name+"-"+mode+".png")); err != nil {
						return err
					}
				}
				fyne.DoAndWait(u.Window.Close)
			}
			return nil
		}()
		fyne.Do(a.Quit)
	}()
	a.Run()
	return <-errc
}

// grab saves the X display's top-left 1280×800 as PNG.
func grab(path string) error {
	display := os.Getenv("DISPLAY")
	if display == "" {
		return fmt.Errorf("no DISPLAY: start Xvfb first")
	}
	cmd := exec.Command("ffmpeg", "-loglevel", "error", "-y", "-f", "x11grab", "-draw_mouse", "0", "-video_size",
		fmt.Sprintf("%dx%d", int(ui.WindowSize.Width), int(ui.WindowSize.Height)), "-i", display+"+0,0", "-frames:v", "1", path)
	if b, err := cmd.CombinedOutput(); err != nil {
		return fmt.Errorf("ffmpeg x11grab: %v: %s", err, b)
	}
	return nil
}

// setTrack feeds one position as the GPS would at the view model's tick.
func setTrack(vm *ui.ViewModel, p app.Position) {
	b := vm.Backend.(*mock.Backend)
	b.AtFn = func(time.Time) app.Position { return p }
	vm.Tick()
}

func save(path string, img image.Image) error {
	f, err := os.Create(path)
	if err != nil {
		return err
	}
	if err := png.Encode(f, img); err != nil {
		f.Close()
		return err
	}
	return f.Close()
}
