package ui

import (
	"bytes"
	"context"
	"fmt"
	"image"
	"image/color"
	"image/draw"
	_ "image/jpeg" // plate patches and frames
	_ "image/png"  // map tiles
	"sync"
	"time"

	"fyne.io/fyne/v2"
	"fyne.io/fyne/v2/canvas"
	"fyne.io/fyne/v2/container"
	"fyne.io/fyne/v2/data/binding"
	"fyne.io/fyne/v2/layout"
	"fyne.io/fyne/v2/theme"
	"fyne.io/fyne/v2/widget"
)

// Screen names a screen of the app.
type Screen string

// Screens.
const (
	ScreenLogOn   Screen = "logon"
	ScreenLive    Screen = "live"
	ScreenDriving Screen = "driving" // replaces Live, Check and History while moving
	ScreenMap     Screen = "map"
	ScreenCheck   Screen = "check"
	ScreenHistory Screen = "history"
	ScreenAdmin   Screen = "admin"
)

// WindowSize is the tablet's screen.
var WindowSize = fyne.NewSize(1280, 800)

// UI is the app window: a status bar, a navigation rail, the screens, and
// the hit screen over all of them while a hit waits for a decision.
type UI struct {
	VM     *ViewModel
	App    fyne.App
	Window fyne.Window

	ctx     context.Context
	want    Screen // the screen asked for; shown unless log-on or driving overrides
	shown   Screen
	screens map[Screen]fyne.CanvasObject
	nav     map[Screen]*widget.Button
	navObjs map[Screen]fyne.CanvasObject
	theme   *widget.Button

	live    *liveScreen
	hit     *hitScreen
	mapView *mapScreen
	check   *checkScreen
	history *historyScreen
	logon   *logonScreen
	admin   *adminScreen
	status  *statusBar

	patchMu sync.Mutex
	patches map[string]image.Image // decoded plate patches by read id, bounded

	lastFrame uint64

	// OnHitShown, when set, is called on the Fyne thread once the hit
	// screen has been built for a hit newly at its head; fresh is false
	// when another hit was on screen just before (measurement: anpr
	// bench-ui).
	OnHitShown func(h HitItem, fresh bool)
}

// New builds the window for vm in a (the real app, or a test app). Call it
// on the Fyne thread; then Show the window or ShowAndRun.
func New(ctx context.Context, a fyne.App, vm *ViewModel) *UI {
	u := &UI{
		VM: vm, App: a, ctx: ctx, want: ScreenLive,
		screens: map[Screen]fyne.CanvasObject{},
		nav:     map[Screen]*widget.Button{},
		navObjs: map[Screen]fyne.CanvasObject{},
		patches: map[string]image.Image{},
	}
	u.Window = a.NewWindow("ANPR")
	u.Window.Resize(WindowSize)
	u.Window.SetPadded(false) // the whole tablet screen is the app
	u.applyTheme()

	u.status = newStatusBar(u)
	u.live = newLiveScreen(u)
	u.hit = newHitScreen(u)
	u.mapView = newMapScreen(u)
	u.check = newCheckScreen(u)
	u.history = newHistoryScreen(u)
	u.logon = newLogonScreen(u)
	u.admin = newAdminScreen(u)
	u.screens[ScreenLive] = u.live.object
	u.screens[ScreenDriving] = newDrivingScreen(u)
	u.screens[ScreenMap] = u.mapView.object
	u.screens[ScreenCheck] = u.check.object
	u.screens[ScreenHistory] = u.history.object
	u.screens[ScreenLogOn] = u.logon.object
	u.screens[ScreenAdmin] = u.admin.object

	var stack []fyne.CanvasObject
	for _, s := range []Screen{ScreenLive, ScreenDriving, ScreenMap, ScreenCheck, ScreenHistory, ScreenLogOn, ScreenAdmin} {
		stack = append(stack, u.screens[s])
	}
	center := container.NewStack(stack...)
	main := container.NewBorder(u.status.object, nil, nil, nil,
		container.NewPadded(container.NewBorder(nil, nil, u.navRail(), nil, center)))
	u.Window.SetContent(container.NewStack(main, u.hit.object))

	vm.Officer.AddListener(binding.NewDataListener(u.update))
	vm.Driving.AddListener(binding.NewDataListener(u.update))
	vm.Admin.AddListener(binding.NewDataListener(u.update))
	vm.Night.AddListener(binding.NewDataListener(u.applyTheme))
	vm.ThemeMode.AddListener(binding.NewDataListener(func() {
		m, _ := vm.ThemeMode.Get()
		u.theme.SetText(map[string]string{ThemeAuto: "Auto", ThemeDay: "Day", ThemeNight: "Night"}[m])
	}))
	u.update()
	return u
}

// navRail is the column of big buttons on the left.
func (u *UI) navRail() fyne.CanvasObject {
	items := []struct {
		s     Screen
		label string
		icon  fyne.Resource
	}{
		{ScreenLive, "Live", theme.MediaVideoIcon()},
		{ScreenMap, "Map", theme.NavigateNextIcon()},
		{ScreenCheck, "Check", theme.SearchIcon()},
		{ScreenHistory, "History", theme.HistoryIcon()},
		{ScreenAdmin, "Admin", theme.SettingsIcon()},
	}
	col := container.NewVBox()
	for _, it := range items {
		s := it.s
		b := widget.NewButtonWithIcon(it.label, it.icon, func() { u.Show(s) })
		b.Alignment = widget.ButtonAlignLeading
		u.nav[s] = b
		u.navObjs[s] = sized(b, 150, 80)
		col.Add(u.navObjs[s])
	}
	col.Add(layout.NewSpacer())
	u.theme = widget.NewButtonWithIcon("Auto", theme.ColorPaletteIcon(), func() { u.VM.NextThemeMode() })
	u.theme.Alignment = widget.ButtonAlignLeading
	col.Add(sized(u.theme, 150, 80))
	logoff := widget.NewButtonWithIcon("Log off", theme.LogoutIcon(), func() { u.VM.LogOff() })
	logoff.Alignment = widget.ButtonAlignLeading
	u.navObjs["logoff"] = sized(logoff, 150, 80)
	col.Add(u.navObjs["logoff"])
	return col
}

// Show asks for screen s. While driving every screen but the map gives
// way to the driving screen; otherwise log-on comes first when no officer
// is logged on (the admin screen excepted).
func (u *UI) Show(s Screen) {
	u.want = s
	u.update()
}

// ScreenHit names the hit screen for Object.
const ScreenHit Screen = "hit"

// Object returns the canvas object of a screen (ScreenHit: the hit
// screen), for tests and screenshots.
func (u *UI) Object(s Screen) fyne.CanvasObject {
	if s == ScreenHit {
		return u.hit.object
	}
	return u.screens[s]
}

// HitShown reports whether the hit screen is up.
func (u *UI) HitShown() bool { return u.hit.object.Visible() }

// Shown returns the screen on view under any hit screen.
func (u *UI) Shown() Screen { return u.shown }

// update shows the screen the state calls for; on the Fyne thread.
func (u *UI) update() {
	o, _ := u.VM.Officer.Get()
	driving, _ := u.VM.Driving.Get()
	s := u.want
	switch {
	case driving && s != ScreenMap:
		s = ScreenDriving // no read list and no keyboard while moving
	case s == ScreenAdmin:
	case o.ID == "":
		s = ScreenLogOn
	}
	if s != u.shown {
		switch s {
		case ScreenMap:
			u.mapView.reload()
		case ScreenHistory:
			u.history.search()
		case ScreenAdmin:
			u.admin.load()
		}
	}
	u.shown = s
	for name, obj := range u.screens {
		if name == s {
			obj.Show()
		} else {
			obj.Hide()
		}
	}
	for name, b := range u.nav {
		if name == s || (s == ScreenDriving && name == ScreenLive) {
			b.Importance = widget.HighImportance
		} else {
			b.Importance = widget.MediumImportance
		}
		b.Refresh()
	}
	// Keyboard screens are not offered while moving, nor before log-on
	// (admin is, to let a fleet admin in without an officer).
	for _, name := range []Screen{ScreenCheck, ScreenHistory, ScreenAdmin} {
		if driving || (o.ID == "" && name != ScreenAdmin) {
			u.navObjs[name].Hide()
		} else {
			u.navObjs[name].Show()
		}
	}
	if o.ID == "" {
		u.navObjs["logoff"].Hide()
	} else {
		u.navObjs["logoff"].Show()
	}
	if s == ScreenAdmin {
		u.admin.update()
	}
}

// applyTheme sets the day or night theme the view model asks for.
func (u *UI) applyTheme() {
	night, _ := u.VM.Night.Get()
	th := DayTheme
	if night {
		th = NightTheme
	}
	if u.App.Settings().Theme() != th {
		u.App.Settings().SetTheme(th)
	}
	if u.hit != nil {
		u.hit.render()
	}
	if u.status != nil {
		u.status.render()
	}
	if u.mapView != nil {
		u.mapView.view.Night = night
		u.mapView.view.Refresh()
	}
}

// Start follows the view model's backend until ctx is done and polls the
// camera ten times a second; it returns at once.
func (u *UI) Start(ctx context.Context) {
	go func() { _ = u.VM.Run(ctx) }()
	go func() {
		t := time.NewTicker(100 * time.Millisecond)
		defer t.Stop()
		for {
			select {
			case <-ctx.Done():
				return
			case <-t.C:
				u.PollCamera()
			}
		}
	}()
}

// PollCamera shows the backend's newest frame, if it is new; safe from any
// goroutine.
func (u *UI) PollCamera() {
	cam, ok := u.VM.Backend.(Camera)
	if !ok {
		return
	}
	f, ok := cam.LatestFrame()
	if !ok || f.Image == nil || f.Seq == u.lastFrame {
		return
	}
	u.lastFrame = f.Seq
	img := drawBoxes(f)
	fyne.Do(func() { u.live.setFrame(img) })
}

// drawBoxes returns a copy of the frame with each plate framed: green for a
// read, red for a hit.
func drawBoxes(f Frame) image.Image {
	b := f.Image.Bounds()
	out := image.NewRGBA(b)
	draw.Draw(out, b, f.Image, b.Min, draw.Src)
	for _, box := range f.Boxes {
		c := color.RGBA{G: 0xe0, A: 0xff}
		if box.Hit {
			c = color.RGBA{R: 0xff, A: 0xff}
		}
		strokeRect(out, box.Rect.Inset(-4), 4, c)
	}
	return out
}

func strokeRect(img draw.Image, r image.Rectangle, w int, c color.Color) {
	u := image.NewUniform(c)
	draw.Draw(img, image.Rect(r.Min.X, r.Min.Y, r.Max.X, r.Min.Y+w), u, image.Point{}, draw.Src)
	draw.Draw(img, image.Rect(r.Min.X, r.Max.Y-w, r.Max.X, r.Max.Y), u, image.Point{}, draw.Src)
	draw.Draw(img, image.Rect(r.Min.X, r.Min.Y, r.Min.X+w, r.Max.Y), u, image.Point{}, draw.Src)
	draw.Draw(img, image.Rect(r.Max.X-w, r.Min.Y, r.Max.X, r.Max.Y), u, image.Point{}, draw.Src)
}

// patch decodes a read's plate patch once; nil when there is none.
func (u *UI) patch(id string, jpeg []byte) image.Image {
	if len(jpeg) == 0 {
		return nil
	}
	u.patchMu.Lock()
	defer u.patchMu.Unlock()
	if img, ok := u.patches[id]; ok {
		return img
	}
	img, _, err := image.Decode(bytes.NewReader(jpeg))
	if err != nil {
		img = nil
	}
	if len(u.patches) > 4*DefaultMaxReads {
		u.patches = map[string]image.Image{}
	}
	u.patches[id] = img
	return img
}

// text returns a canvas text in the theme's foreground colour.
func text(s string, size float32, bold bool) *canvas.Text {
	t := canvas.NewText(s, theme.Color(theme.ColorNameForeground))
	t.TextSize = size
	t.TextStyle.Bold = bold
	return t
}

// themed calls f now and after every theme change, for canvas objects
// whose colours the theme does not refresh itself.
func (u *UI) themed(f func()) {
	f()
	u.App.Settings().AddListener(func(fyne.Settings) { f() })
}

// dimmed lays a theme-coloured veil over a picture: clear by day, dark at
// night, so camera pictures do not dazzle.
func (u *UI) dimmed(img fyne.CanvasObject) fyne.CanvasObject {
	veil := canvas.NewRectangle(Colour(ColorNameImageDim))
	u.themed(func() {
		veil.FillColor = Colour(ColorNameImageDim)
		veil.Refresh()
	})
	return container.NewStack(img, veil)
}

// heading is a screen's title.
func heading(s string) fyne.CanvasObject {
	l := widget.NewLabel(s)
	l.SizeName = theme.SizeNameHeadingText
	l.TextStyle.Bold = true
	return l
}

// errorLabel shows an error in the theme's error colour.
func errorLabel() *widget.Label {
	l := widget.NewLabel("")
	l.Importance = widget.DangerImportance
	l.Wrapping = fyne.TextWrapWord
	return l
}

// clock writes a time of day in the view model's clock's zone.
func (vm *ViewModel) clock(t time.Time) string {
	if t.IsZero() {
		return "—"
	}
	return t.In(vm.now().Location()).Format("15:04:05")
}

func latLon(lat, lon float64) string {
	ns, ew := "N", "E"
	if lat < 0 {
		ns, lat = "S", -lat
	}
	if lon < 0 {
		ew, lon = "W", -lon
	}
	return fmt.Sprintf("%.5f° %s, %.5f° %s", lat, ns, lon, ew)
}
