package ui

import (
	"bytes"
	"errors"
	"fmt"
	"image"
	"image/color"
	"image/draw"
	"math"
	"sync"

	xdraw "golang.org/x/image/draw"

	"fyne.io/fyne/v2"
	"fyne.io/fyne/v2/canvas"
	"fyne.io/fyne/v2/container"
	"fyne.io/fyne/v2/layout"
	"fyne.io/fyne/v2/theme"
	"fyne.io/fyne/v2/widget"

	"github.com/ukanpr/anpr/app"
)

// MapPoint is a read or a hit on the map.
type MapPoint struct {
	Lat, Lon float64
	Priority int // 0: a read with no hit
}

// MapView draws the shift's track, reads and hits with no network: on
// tiles from the backend (an MBTiles file an admin loaded) when there are
// any, otherwise on plain paper with a scale bar and a north arrow. Both use
// Web Mercator, so a track looks the same with or without tiles.
type MapView struct {
	widget.BaseWidget
	Tile  func(z, x, y int) ([]byte, error) // nil: no tiles
	Night bool

	mu     sync.Mutex
	track  []app.Position
	points []MapPoint
	tiles  map[[3]int]image.Image
	plain  bool // the backend said it has no tiles
}

// NewMapView returns an empty map.
func NewMapView(tile func(z, x, y int) ([]byte, error)) *MapView {
	v := &MapView{Tile: tile, tiles: map[[3]int]image.Image{}}
	v.ExtendBaseWidget(v)
	return v
}

// SetData replaces what the map shows; call Refresh after.
func (v *MapView) SetData(track []app.Position, points []MapPoint) {
	v.mu.Lock()
	v.track, v.points = track, points
	v.mu.Unlock()
}

// Probe asks the backend whether it has tiles at all: Tile answers
// ErrNoTiles, whatever the tile, when no file is loaded.
func (v *MapView) Probe() {
	plain := v.Tile == nil
	if !plain {
		_, err := v.Tile(0, 0, 0)
		plain = errors.Is(err, ErrNoTiles)
	}
	v.mu.Lock()
	v.plain = plain
	if plain {
		v.tiles = map[[3]int]image.Image{}
	}
	v.mu.Unlock()
}

// Plain reports whether the map is drawn without tiles.
func (v *MapView) Plain() bool {
	v.mu.Lock()
	defer v.mu.Unlock()
	return v.plain || v.Tile == nil
}

// CreateRenderer implements fyne.Widget.
func (v *MapView) CreateRenderer() fyne.WidgetRenderer {
	r := &mapRenderer{v: v, north: text("N", 26, true), scale: text("", 18, true), mode: text("", 15, false)}
	r.north.Alignment = fyne.TextAlignCenter
	r.raster = canvas.NewRaster(func(w, h int) image.Image {
		s := float32(1)
		if c := fyne.CurrentApp().Driver().CanvasForObject(v); c != nil {
			s = c.Scale()
		}
		return v.render(w, h, float64(s))
	})
	return r
}

type mapRenderer struct {
	v      *MapView
	raster *canvas.Raster
	north  *canvas.Text
	scale  *canvas.Text
	mode   *canvas.Text
}

func (r *mapRenderer) Layout(size fyne.Size) {
	r.raster.Resize(size)
	p := r.v.projection(int(size.Width), int(size.Height), !r.v.Plain())
	_, label := p.scaleBar(160)
	r.scale.Text = label
	r.scale.Move(fyne.NewPos(20, size.Height-62))
	r.north.Move(fyne.NewPos(size.Width-58, 86))
	r.north.Resize(fyne.NewSize(36, 30))
	r.mode.Move(fyne.NewPos(20, 12))
}

func (r *mapRenderer) MinSize() fyne.Size { return fyne.NewSize(320, 240) }

func (r *mapRenderer) Refresh() {
	fg := theme.Color(theme.ColorNameForeground)
	for _, t := range []*canvas.Text{r.north, r.scale, r.mode} {
		t.Color = fg
	}
	if r.v.Plain() {
		r.mode.Text = "No map loaded: track plot"
	} else {
		r.mode.Text = "Offline map"
	}
	r.Layout(r.v.Size())
	r.raster.Refresh()
	for _, t := range []*canvas.Text{r.north, r.scale, r.mode} {
		t.Refresh()
	}
}

func (r *mapRenderer) Objects() []fyne.CanvasObject {
	return []fyne.CanvasObject{r.raster, r.mode, r.north, r.scale}
}

func (r *mapRenderer) Destroy() {}

// projection maps WGS84 to the widget's pixels at a zoom that fits the
// track and points; tiled maps use whole zoom levels.
type projection struct {
	z      float64 // zoom: the world is 256·2^z px wide
	cx, cy float64 // world px of the view's centre
	w, h   int
	lat    float64 // of the centre, for the scale
}

func worldXY(lat, lon, z float64) (x, y float64) {
	n := 256 * math.Exp2(z)
	lat = math.Max(-85.05, math.Min(85.05, lat))
	s := math.Log(math.Tan(lat*math.Pi/180) + 1/math.Cos(lat*math.Pi/180))
	return (lon + 180) / 360 * n, (1 - s/math.Pi) / 2 * n
}

func (v *MapView) projection(w, h int, whole bool) projection {
	v.mu.Lock()
	var lats, lons []float64
	for _, p := range v.track {
		lats, lons = append(lats, p.Lat), append(lons, p.Lon)
	}
	for _, p := range v.points {
		lats, lons = append(lats, p.Lat), append(lons, p.Lon)
	}
	v.mu.Unlock()
	if len(lats) == 0 {
		lats, lons = []float64{54.0}, []float64{-2.0} // Great Britain
	}
	minX, minY, maxX, maxY := math.Inf(1), math.Inf(1), math.Inf(-1), math.Inf(-1)
	for i := range lats {
		x, y := worldXY(lats[i], lons[i], 0)
		minX, maxX = math.Min(minX, x), math.Max(maxX, x)
		minY, maxY = math.Min(minY, y), math.Max(maxY, y)
	}
	margin := 60.0
	fx := (float64(w) - 2*margin) / math.Max(maxX-minX, 1e-9)
	fy := (float64(h) - 2*margin) / math.Max(maxY-minY, 1e-9)
	z := math.Log2(math.Min(fx, fy))
	if len(lats) == 1 && len(lons) == 1 {
		z = 6
	}
	z = math.Max(2, math.Min(17, z))
	if whole {
		z = math.Floor(z)
	}
	k := math.Exp2(z)
	p := projection{z: z, cx: (minX + maxX) / 2 * k, cy: (minY + maxY) / 2 * k, w: w, h: h}
	// Centre latitude back from world y at zoom 0.
	yc := (minY + maxY) / 2 / 256
	p.lat = math.Atan(math.Sinh(math.Pi*(1-2*yc))) * 180 / math.Pi
	return p
}

// xy returns the pixel of a position.
func (p projection) xy(lat, lon float64) (float64, float64) {
	x, y := worldXY(lat, lon, p.z)
	return x - p.cx + float64(p.w)/2, y - p.cy + float64(p.h)/2
}

// metresPerPixel at the view's centre.
func (p projection) metresPerPixel() float64 {
	return 156543.03392 * math.Cos(p.lat*math.Pi/180) / math.Exp2(p.z)
}

// scaleBar returns the longest round length that fits in max px, as
// pixels and a label.
func (p projection) scaleBar(max float64) (float64, string) {
	mpp := p.metresPerPixel()
	best := 10.0
	for _, m := range []float64{10, 20, 50, 100, 200, 500, 1000, 2000, 5000, 10000, 20000, 50000, 100000, 200000, 500000} {
		if m/mpp <= max {
			best = m
		}
	}
	label := fmt.Sprintf("%.0f m", best)
	if best >= 1000 {
		label = fmt.Sprintf("%.0f km", best/1000)
	}
	return best / mpp, label
}

// render draws the map at w×h device pixels; s is the canvas scale.
func (v *MapView) render(w, h int, s float64) image.Image {
	img := image.NewRGBA(image.Rect(0, 0, w, h))
	draw.Draw(img, img.Bounds(), image.NewUniform(Colour(ColorNameMapPaper)), image.Point{}, draw.Src)
	tiled := !v.Plain()
	p := v.projection(int(float64(w)/s), int(float64(h)/s), tiled)
	p.w, p.h = w, h
	p.z += math.Log2(s)
	p.cx, p.cy = p.cx*s, p.cy*s
	if tiled {
		if !v.drawTiles(img, p, s) {
			tiled = false
		}
	}
	if !tiled {
		grid := color.NRGBA{A: 0x20}
		if v.Night {
			grid = color.NRGBA{R: 0x60, A: 0x40}
		}
		step := int(100 * s)
		for x := step; x < w; x += step {
			draw.Draw(img, image.Rect(x, 0, x+1, h), image.NewUniform(grid), image.Point{}, draw.Over)
		}
		for y := step; y < h; y += step {
			draw.Draw(img, image.Rect(0, y, w, y+1), image.NewUniform(grid), image.Point{}, draw.Over)
		}
	}
	v.mu.Lock()
	track, points := v.track, v.points
	v.mu.Unlock()

	trackC := Colour(ColorNameTrack)
	for i := 1; i < len(track); i++ {
		x0, y0 := p.xy(track[i-1].Lat, track[i-1].Lon)
		x1, y1 := p.xy(track[i].Lat, track[i].Lon)
		line(img, x0, y0, x1, y1, 2.5*s, trackC)
	}
	readC := theme.Color(theme.ColorNameForeground)
	for _, pt := range points {
		if pt.Priority == 0 {
			x, y := p.xy(pt.Lat, pt.Lon)
			disc(img, x, y, 4*s, readC)
		}
	}
	for _, pt := range points {
		if pt.Priority > 0 {
			x, y := p.xy(pt.Lat, pt.Lon)
			disc(img, x, y, 11*s, readC)
			disc(img, x, y, 9*s, PriorityColour(pt.Priority, v.Night))
		}
	}
	if n := len(track); n > 0 {
		x, y := p.xy(track[n-1].Lat, track[n-1].Lon)
		disc(img, x, y, 12*s, readC)
		disc(img, x, y, 9*s, trackC)
	}

	// Scale bar, bottom left; north arrow, top right (north is up).
	fg := theme.Color(theme.ColorNameForeground)
	px, _ := p.scaleBar(160 * s)
	x0, y0 := 20*s, float64(h)-24*s
	fill(img, x0, y0, x0+px, y0+6*s, fg)
	fill(img, x0, y0-10*s, x0+3*s, y0+6*s, fg)
	fill(img, x0+px-3*s, y0-10*s, x0+px, y0+6*s, fg)
	ax, ay := float64(w)-40*s, 20*s
	for i := 0.0; i < 56*s; i++ {
		half := i * 16 / 56
		fill(img, ax-half, ay+i, ax+half, ay+i+1, fg)
	}
	return img
}

// drawTiles paints the tiles under the view, scaled by the canvas scale s
// (p is in device pixels); false when there are none.
func (v *MapView) drawTiles(img *image.RGBA, p projection, s float64) bool {
	z := int(math.Round(p.z - math.Log2(s)))
	n := 1 << z
	ts := 256 * s // a tile's side in device pixels
	left := p.cx - float64(p.w)/2
	top := p.cy - float64(p.h)/2
	any := false
	for ty := int(math.Floor(top / ts)); float64(ty)*ts < top+float64(p.h); ty++ {
		for tx := int(math.Floor(left / ts)); float64(tx)*ts < left+float64(p.w); tx++ {
			if ty < 0 || ty >= n {
				continue
			}
			t, err := v.tile(z, ((tx%n)+n)%n, ty)
			if errors.Is(err, ErrNoTiles) {
				v.mu.Lock()
				v.plain = true
				v.mu.Unlock()
				return false
			}
			if t == nil {
				continue
			}
			any = true
			x0, y0 := int(math.Floor(float64(tx)*ts-left)), int(math.Floor(float64(ty)*ts-top))
			x1, y1 := int(math.Ceil(float64(tx+1)*ts-left)), int(math.Ceil(float64(ty+1)*ts-top))
			dst := image.Rect(x0, y0, x1, y1)
			if dst.Dx() == t.Bounds().Dx() && dst.Dy() == t.Bounds().Dy() {
				draw.Draw(img, dst, t, t.Bounds().Min, draw.Src)
			} else {
				xdraw.ApproxBiLinear.Scale(img, dst, t, t.Bounds(), draw.Src, nil)
			}
		}
	}
	if any && v.Night {
		nightShift(img)
	}
	return any
}

func (v *MapView) tile(z, x, y int) (image.Image, error) {
	k := [3]int{z, x, y}
	v.mu.Lock()
	t, ok := v.tiles[k]
	v.mu.Unlock()
	if ok {
		return t, nil
	}
	b, err := v.Tile(z, x, y)
	if err != nil {
		return nil, err
	}
	t, _, err = image.Decode(bytes.NewReader(b))
	if err != nil {
		t = nil
	}
	v.mu.Lock()
	if len(v.tiles) > 256 {
		v.tiles = map[[3]int]image.Image{}
	}
	v.tiles[k] = t
	v.mu.Unlock()
	return t, nil
}

// nightShift dims tiles and keeps only red light: luminance into red.
func nightShift(img *image.RGBA) {
	px := img.Pix
	for i := 0; i+3 < len(px); i += 4 {
		l := (299*int(px[i]) + 587*int(px[i+1]) + 114*int(px[i+2])) / 1000
		px[i], px[i+1], px[i+2] = uint8(l*45/100), uint8(l*10/100), uint8(l*6/100)
	}
}

func fill(img *image.RGBA, x0, y0, x1, y1 float64, c color.Color) {
	draw.Draw(img, image.Rect(int(x0), int(y0), int(math.Ceil(x1)), int(math.Ceil(y1))), image.NewUniform(c), image.Point{}, draw.Over)
}

func disc(img *image.RGBA, cx, cy, r float64, c color.Color) {
	for y := math.Floor(cy - r); y <= cy+r; y++ {
		dy := y + 0.5 - cy
		if dy*dy > r*r {
			continue
		}
		dx := math.Sqrt(r*r - dy*dy)
		fill(img, cx-dx, y, cx+dx, y+1, c)
	}
}

func line(img *image.RGBA, x0, y0, x1, y1, w float64, c color.Color) {
	d := math.Hypot(x1-x0, y1-y0)
	steps := int(math.Max(1, d/(w/2)))
	if d > 4*float64(img.Bounds().Dx()+img.Bounds().Dy()) {
		return // off the map by far: a bad fix, not worth thousands of steps
	}
	for i := 0; i <= steps; i++ {
		t := float64(i) / float64(steps)
		disc(img, x0+(x1-x0)*t, y0+(y1-y0)*t, w, c)
	}
}

// mapScreen is the map with a legend.
type mapScreen struct {
	u      *UI
	object fyne.CanvasObject
	view   *MapView
	info   *widget.Label
}

func newMapScreen(u *UI) *mapScreen {
	m := &mapScreen{u: u, info: widget.NewLabel("")}
	var tile func(z, x, y int) ([]byte, error)
	if mp, ok := u.VM.Backend.(Map); ok {
		tile = mp.Tile
	}
	m.view = NewMapView(tile)
	m.info.Wrapping = fyne.TextWrapWord
	_, refresh := bigButton("Refresh", widget.MediumImportance, 200, 80, m.reload)
	legend := container.NewVBox(heading("This shift"), m.info, layout.NewSpacer(), refresh)
	m.object = container.NewBorder(nil, nil, nil, sized(legend, 240, 100), m.view)
	return m
}

// reload fetches the track and this shift's reads and redraws.
func (m *mapScreen) reload() {
	track, _ := m.u.VM.Track()
	recs, err := m.u.VM.Backend.ShiftReads(m.u.ctx, ReadQuery{Since: m.u.VM.ShiftStart(), Limit: 5000})
	var pts []MapPoint
	hits := 0
	for _, r := range recs {
		if !r.Read.Position.Fix.Usable() {
			continue
		}
		pt := MapPoint{Lat: r.Read.Position.Lat, Lon: r.Read.Position.Lon}
		if r.Hit != nil {
			if h, ok := newHitItem(r.Read, *r.Hit, r.Hit.Time); ok {
				pt.Priority = h.Priority()
				hits++
			}
		}
		pts = append(pts, pt)
	}
	night, _ := m.u.VM.Night.Get()
	m.view.Night = night
	m.view.Probe()
	m.view.SetData(track, pts)
	info := fmt.Sprintf("%d positions\n%d reads placed\n%d hits\n\nThick line: track\nSmall dots: reads\nBig dots: hits (by priority)\nRing: the car now", len(track), len(pts), hits)
	if err != nil {
		info += "\n\nNot loaded: " + err.Error()
	}
	m.info.SetText(info)
	m.view.Refresh()
}
