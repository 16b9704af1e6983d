package ui_test

import (
	"bytes"
	"image"
	"image/color"
	"image/png"
	"testing"

	"fyne.io/fyne/v2"
	"fyne.io/fyne/v2/test"

	"github.com/ukanpr/anpr/app"
	"github.com/ukanpr/anpr/app/ui"
)

// TestRenderGoldens keeps each screen's layout in testdata/*.xml (Fyne's
// markup: every object, its position, size, text and colour). Run with
// -update after an intended change and review the diff.
func TestRenderGoldens(t *testing.T) {
	tests := []struct {
		name  string
		night bool
		setup func(t *testing.T, u *ui.UI, vm *ui.ViewModel)
	}{
		{"logon_day.xml", false, func(t *testing.T, u *ui.UI, vm *ui.ViewModel) { vm.LogOff() }},
		{"live_day.xml", false, func(t *testing.T, u *ui.UI, vm *ui.ViewModel) {
			for _, ev := range statusEvents() {
				vm.Apply(ev)
			}
			vm.Apply(app.Event{Type: app.EventRead, Read: read("r1", "AB12CDE", t0, patchJPEG(t))})
			h := lookalikeHit(t)
			vm.Apply(app.Event{Type: app.EventRead, Read: h.Read, Hit: h.Hit})
		}},
		{"hit_lookalike_day.xml", false, func(t *testing.T, u *ui.UI, vm *ui.ViewModel) { vm.Apply(lookalikeHit(t)) }},
		{"hit_lookalike_night.xml", true, func(t *testing.T, u *ui.UI, vm *ui.ViewModel) { vm.Apply(lookalikeHit(t)) }},
		{"hit_other_reason_day.xml", false, func(t *testing.T, u *ui.UI, vm *ui.ViewModel) {
			vm.Apply(exactHit(t, "r-p4", "LO44WER", 4))
			test.Tap(button(t, u.Object(ui.ScreenHit), "Other…"))
		}},
		{"check_day.xml", false, func(t *testing.T, u *ui.UI, vm *ui.ViewModel) { u.CheckVRM("AB12CDE") }},
		{"map_plain_night.xml", true, func(t *testing.T, u *ui.UI, vm *ui.ViewModel) { u.Show(ui.ScreenMap) }},
		{"driving_day.xml", false, func(t *testing.T, u *ui.UI, vm *ui.ViewModel) { vm.SetSpeed(20) }},
		{"admin_gate_night.xml", true, func(t *testing.T, u *ui.UI, vm *ui.ViewModel) { u.Show(ui.ScreenAdmin) }},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			u, vm := newUI(t, newBackend(&calls{}), true)
			if tt.night {
				vm.SetThemeMode(ui.ThemeNight)
			}
			tt.setup(t, u, vm)
			golden(t, u.Window, tt.name)
		})
	}
}

// TestNightIsDimAndRed checks the night theme's promise on real pixels:
// the rendered hit and live screens hold no bright, no blue-ish and no
// white light outside camera pictures.
func TestNightIsDimAndRed(t *testing.T) {
	for _, s := range []ui.Screen{ui.ScreenLive, ui.ScreenCheck, ui.ScreenHit} {
		t.Run(string(s), func(t *testing.T) {
			u, vm := newUI(t, newBackend(&calls{}), true)
			vm.SetThemeMode(ui.ThemeNight)
			for _, ev := range statusEvents() {
				vm.Apply(ev)
			}
			if s == ui.ScreenHit {
				ev := exactHit(t, "r-p1", "AB12CDE", 1)
				ev.Read.Patch = nil // pictures are dimmed, not recoloured
				vm.Apply(ev)
			} else {
				u.Show(s)
			}
			img := u.Window.Canvas().Capture()
			var bright, blue int
			b := img.Bounds()
			for y := b.Min.Y; y < b.Max.Y; y++ {
				for x := b.Min.X; x < b.Max.X; x++ {
					r, g, bl, _ := img.At(x, y).RGBA()
					r, g, bl = r>>8, g>>8, bl>>8
					if r+g+bl > 3*0xa0 {
						bright++
					}
					if bl > r+8 || g > r+8 {
						blue++
					}
				}
			}
			if n := b.Dx() * b.Dy(); bright > n/1000 || blue > n/1000 {
				t.Fatalf("night %s: %d bright and %d blue/green pixels of %d", s, bright, blue, n)
			}
		})
	}
}

func TestMapUsesTilesWhenLoaded(t *testing.T) {
	test.NewTempApp(t)
	tile := image.NewRGBA(image.Rect(0, 0, 256, 256))
	for i := 0; i < len(tile.Pix); i += 4 {
		tile.Pix[i], tile.Pix[i+1], tile.Pix[i+2], tile.Pix[i+3] = 0x20, 0xc0, 0x20, 0xff
	}
	var buf bytes.Buffer
	if err := png.Encode(&buf, tile); err != nil {
		t.Fatal(err)
	}
	var asked int
	v := ui.NewMapView(func(z, x, y int) ([]byte, error) { asked++; return buf.Bytes(), nil })
	v.SetData([]app.Position{position(52.92, -1.47, 0), position(52.93, -1.46, 0)}, nil)
	v.Probe()
	if v.Plain() {
		t.Fatal("map says plain with tiles loaded")
	}
	w := test.NewTempWindow(t, v)
	w.Resize(fyne.NewSize(400, 300))
	img := w.Canvas().Capture()
	if asked < 2 {
		t.Fatalf("asked for %d tiles", asked)
	}
	// The edges are tile, not paper, at scale 1 and on a HiDPI screen.
	if c := color.NRGBAModel.Convert(img.At(10, 150)).(color.NRGBA); c.G < 0x80 || c.R > 0x60 {
		t.Fatalf("pixel %v is not the tile's green", c)
	}
	w.Canvas().(test.WindowlessCanvas).SetScale(2)
	img = w.Canvas().Capture()
	if b := img.Bounds(); b.Dx() < 790 {
		t.Fatalf("scale 2 capture is %v", b)
	}
	if c := color.NRGBAModel.Convert(img.At(20, 300)).(color.NRGBA); c.G < 0x80 || c.R > 0x60 {
		t.Fatalf("scale 2: pixel %v is not the tile's green", c)
	}

	none := ui.NewMapView(func(z, x, y int) ([]byte, error) { return nil, ui.ErrNoTiles })
	none.Probe()
	if !none.Plain() {
		t.Fatal("map with no tile file is not plain")
	}
}
