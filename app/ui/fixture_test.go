package ui_test

import (
	"bytes"
	"context"
	"flag"
	"image"
	"image/jpeg"
	"os"
	"path/filepath"
	"testing"
	"time"

	"fyne.io/fyne/v2"
	"fyne.io/fyne/v2/canvas"
	"fyne.io/fyne/v2/test"
	"fyne.io/fyne/v2/widget"

	"github.com/ukanpr/anpr/app"
	"github.com/ukanpr/anpr/app/ui"
	"github.com/ukanpr/anpr/app/ui/mock"
)

var update = flag.Bool("update", false, "rewrite the render goldens in testdata/")

// t0 is the fixtures' clock: a Tuesday afternoon, UTC (GMT in winter).
var t0 = time.Date(2026, 11, 17, 14, 2, 11, 0, time.UTC)

func fixedNow() time.Time { return t0 }

// patchJPEG is a small yellow plate-coloured JPEG standing in for a patch.
func patchJPEG(t testing.TB) []byte {
	img := image.NewRGBA(image.Rect(0, 0, 104, 24))
	for i := 0; i < len(img.Pix); i += 4 {
		img.Pix[i], img.Pix[i+1], img.Pix[i+2], img.Pix[i+3] = 0xf0, 0xc8, 0x10, 0xff
	}
	var b bytes.Buffer
	if err := jpeg.Encode(&b, img, nil); err != nil {
		t.Fatal(err)
	}
	return b.Bytes()
}

func position(lat, lon, speed float64) app.Position {
	return app.Position{Time: t0, Fix: app.Fix3D, Lat: lat, Lon: lon, SpeedMPS: speed, Age: 400 * time.Millisecond}
}

func read(id, vrm string, at time.Time, patch []byte) *app.Read {
	return &app.Read{ID: id, VRM: vrm, Raw: vrm, Confidence: 0.93, Time: at, Camera: "front",
		Position: position(52.92231, -1.47662, 12), Patch: patch,
		Candidates: []app.Candidate{{Text: vrm, Confidence: 0.93}}}
}

func entry(vrm, category string, prio int) app.HotlistEntry {
	return app.HotlistEntry{ID: 7, List: "pnc", VRM: vrm, Category: category, Priority: prio,
		Action: "Stop and arrest driver if safe", Information: "Taken from a driveway in Allestree overnight.",
		Markers: []string{"violent"}, Make: "Ford", Model: "Focus", Colour: "Blue", Reference: "DY-2291"}
}

// lookalikeHit is SB90TZI read where the hot list holds SB90T2I: one Z/2 swap.
func lookalikeHit(t testing.TB) app.Event {
	r := read("r-look", "SB90TZI", t0.Add(-2*time.Second), patchJPEG(t))
	h := &app.Hit{ReadID: r.ID, Time: t0, Matches: []app.Match{
		{Entry: entry("SB90T2I", "Stolen vehicle", 1), Kind: app.MatchLookalike, Candidate: "SB90TZI", Diff: []int{5}},
	}}
	return app.Event{Type: app.EventHit, Time: t0, Read: r, Hit: h}
}

func exactHit(t testing.TB, id, vrm string, prio int) app.Event {
	r := read(id, vrm, t0.Add(-time.Second), patchJPEG(t))
	h := &app.Hit{ReadID: r.ID, Time: t0, Matches: []app.Match{
		{Entry: entry(vrm, "No insurance", prio), Kind: app.MatchExact, Candidate: vrm},
	}}
	return app.Event{Type: app.EventHit, Time: t0, Read: r, Hit: h}
}

func statusEvents() []app.Event {
	ss := []app.PartStatus{
		{Part: app.PartCamera, ID: "front", State: app.StateOK, FPS: 24.8},
		{Part: app.PartGPS, State: app.StateOK, Fix: app.Fix3D, FixAge: 400 * time.Millisecond},
		{Part: app.PartClock, State: app.StateOK, ClockSource: app.ClockGPS, ClockOffset: 120 * time.Millisecond},
		{Part: app.PartHotlist, State: app.StateOK, Entries: 12345, ListsLoaded: t0.Add(-2 * time.Hour)},
		{Part: app.PartSync, State: app.StateOK, Pending: 3},
	}
	var evs []app.Event
	for i := range ss {
		evs = append(evs, app.Event{Type: app.EventStatus, Status: &ss[i]})
	}
	return evs
}

// calls records what a test's backend was asked.
type calls struct {
	decisions []app.Decision
	checks    []string
	wanted    []app.HotlistEntry
	acks      []string
	logons    []app.Officer
}

// newBackend returns a mock backend that records into c.
func newBackend(c *calls) *mock.Backend {
	return &mock.Backend{
		DecideFn: func(_ context.Context, d app.Decision) error {
			c.decisions = append(c.decisions, d)
			return nil
		},
		AcknowledgeFn: func(id string) error { c.acks = append(c.acks, id); return nil },
		CheckFn: func(_ context.Context, vrm string) ([]app.Match, error) {
			c.checks = append(c.checks, vrm)
			if vrm == "AB12CDE" {
				return []app.Match{{Entry: entry("AB12CDE", "Stolen vehicle", 2), Kind: app.MatchExact, Candidate: vrm}}, nil
			}
			return nil, nil
		},
		AddWantedFn: func(_ context.Context, e app.HotlistEntry) (app.HotlistEntry, int, error) {
			c.wanted = append(c.wanted, e)
			return e, 1, nil
		},
		AuthenticateOfficerFn: func(_ context.Context, id, pin string) (app.Officer, error) {
			if pin != "4321" {
				return app.Officer{}, errWrongPIN
			}
			return app.Officer{ID: id, Name: "PC Shaw"}, nil
		},
		LogOnFn: func(o app.Officer) { c.logons = append(c.logons, o) },
		AuthenticateAdminFn: func(_ context.Context, pin string) error {
			if pin != "9999" {
				return errWrongPIN
			}
			return nil
		},
		SettingsFn: func(context.Context) (ui.Settings, error) {
			return ui.Settings{Cameras: "/dev/video0", GPS: "gpsd://127.0.0.1:2947", BackOffice: "https://anpr.example.police.uk", RetentionDays: 365}, nil
		},
		AtFn: func(time.Time) app.Position { return position(52.92231, -1.47662, 0) },
	}
}

type testError string

func (e testError) Error() string { return string(e) }

const errWrongPIN = testError("wrong PIN")

// newUI builds the app window on a test app with the view model's clock
// fixed, the officer logged on (unless logon is false) and the day theme.
func newUI(t *testing.T, b ui.Backend, logon bool) (*ui.UI, *ui.ViewModel) {
	t.Helper()
	a := test.NewTempApp(t)
	vm := ui.NewViewModel(b, fixedNow)
	vm.SetThemeMode(ui.ThemeDay)
	u := ui.New(context.Background(), a, vm)
	if logon {
		if err := vm.LogOn(context.Background(), "1234", "4321"); err != nil {
			t.Fatal(err)
		}
	}
	u.Window.Resize(ui.WindowSize)
	return u, vm
}

// visible walks o's visible objects, widgets' renderers included.
func visible(o fyne.CanvasObject, f func(fyne.CanvasObject)) {
	if o == nil || !o.Visible() {
		return
	}
	f(o)
	switch x := o.(type) {
	case *fyne.Container:
		for _, c := range x.Objects {
			visible(c, f)
		}
	case fyne.Widget:
		for _, c := range test.WidgetRenderer(x).Objects() {
			visible(c, f)
		}
	}
}

// button finds the one visible button labelled label under o.
func button(t *testing.T, o fyne.CanvasObject, label string) *widget.Button {
	t.Helper()
	var found []*widget.Button
	visible(o, func(c fyne.CanvasObject) {
		if b, ok := c.(*widget.Button); ok && b.Text == label {
			found = append(found, b)
		}
	})
	if len(found) != 1 {
		t.Fatalf("found %d visible buttons %q, want 1", len(found), label)
	}
	return found[0]
}

// hasText reports whether a visible label, button or text under o shows s.
func hasText(o fyne.CanvasObject, s string) bool {
	ok := false
	visible(o, func(c fyne.CanvasObject) {
		switch x := c.(type) {
		case *widget.Label:
			ok = ok || x.Text == s
		case *widget.Button:
			ok = ok || x.Text == s
		case *canvas.Text:
			ok = ok || x.Text == s
		}
	})
	return ok
}

// typeOn taps the keys of s on the keyboard under o.
func typeOn(t *testing.T, o fyne.CanvasObject, s string) {
	t.Helper()
	for _, r := range s {
		key := string(r)
		if r == ' ' {
			key = "Space"
		}
		test.Tap(button(t, o, key))
	}
}

// golden compares the window's markup with testdata/name, rewriting it
// with -update.
func golden(t *testing.T, w fyne.Window, name string) {
	t.Helper()
	if *update {
		path := filepath.Join("testdata", name)
		if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(path, []byte(test.RenderToMarkup(w.Canvas())), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	test.AssertRendersToMarkup(t, name, w.Canvas())
}
