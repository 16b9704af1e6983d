package ui

import (
	"fyne.io/fyne/v2"
	"fyne.io/fyne/v2/canvas"
	"fyne.io/fyne/v2/theme"
	"fyne.io/fyne/v2/widget"
)

// Plate shows a VRM the way a UK rear plate looks: bold black characters
// on yellow, fixed width, so 0/O, 1/I and 8/B line up for comparison.
// Positions in Diff are highlighted (a look-alike match's differing
// characters). Its colours follow the theme.
type Plate struct {
	widget.BaseWidget
	VRM      string
	TextSize float32
	Diff     []int
	MinChars int // room kept for this many characters (list rows reuse plates)
}

// NewPlate returns a plate showing vrm at the given text size.
func NewPlate(vrm string, size float32) *Plate {
	p := &Plate{VRM: vrm, TextSize: size}
	p.ExtendBaseWidget(p)
	return p
}

// SetVRM changes the mark shown; call it on the Fyne thread.
func (p *Plate) SetVRM(vrm string, diff []int) {
	p.VRM, p.Diff = vrm, diff
	p.Refresh()
}

// CreateRenderer implements fyne.Widget.
func (p *Plate) CreateRenderer() fyne.WidgetRenderer {
	r := &plateRenderer{p: p, bg: canvas.NewRectangle(nil)}
	r.bg.CornerRadius = 6
	r.bg.StrokeWidth = 2
	r.Refresh()
	return r
}

type plateRenderer struct {
	p     *Plate
	bg    *canvas.Rectangle
	marks []*canvas.Rectangle
	chars []*canvas.Text
}

var plateStyle = fyne.TextStyle{Bold: true, Monospace: true}

func (r *plateRenderer) cell() fyne.Size {
	return fyne.MeasureText("W", r.p.TextSize, plateStyle)
}

func (r *plateRenderer) pad() float32 { return r.p.TextSize * 0.35 }

func (r *plateRenderer) MinSize() fyne.Size {
	c := r.cell()
	n := max(len(r.p.VRM), r.p.MinChars, 1)
	return fyne.NewSize(float32(n)*c.Width+2*r.pad(), c.Height+r.pad())
}

func (r *plateRenderer) Layout(size fyne.Size) {
	r.bg.Resize(size)
	c := r.cell()
	x := (size.Width - float32(len(r.chars))*c.Width) / 2
	y := (size.Height - c.Height) / 2
	for i, t := range r.chars {
		pos := fyne.NewPos(x+float32(i)*c.Width, y)
		t.Move(pos)
		t.Resize(c)
		r.marks[i].Move(pos.Add(fyne.NewPos(1, 2)))
		r.marks[i].Resize(fyne.NewSize(c.Width-2, c.Height-4))
	}
}

func (r *plateRenderer) Refresh() {
	r.bg.FillColor = Colour(ColorNamePlate)
	r.bg.StrokeColor = Colour(ColorNamePlateText)
	diff := map[int]bool{}
	for _, i := range r.p.Diff {
		diff[i] = true
	}
	r.chars, r.marks = r.chars[:0], r.marks[:0]
	for i, ch := range r.p.VRM {
		t := canvas.NewText(string(ch), Colour(ColorNamePlateText))
		t.TextSize = r.p.TextSize
		t.TextStyle = plateStyle
		t.Alignment = fyne.TextAlignCenter
		m := canvas.NewRectangle(Colour(ColorNameDiff))
		m.CornerRadius = 4
		m.Hidden = !diff[i]
		if diff[i] {
			t.Color = theme.Current().Color(theme.ColorNameForegroundOnError, theme.VariantLight)
		}
		r.chars = append(r.chars, t)
		r.marks = append(r.marks, m)
	}
	r.Layout(r.p.Size())
	canvas.Refresh(r.p)
}

func (r *plateRenderer) Objects() []fyne.CanvasObject {
	out := make([]fyne.CanvasObject, 0, 1+2*len(r.chars))
	out = append(out, r.bg)
	for i := range r.chars {
		out = append(out, r.marks[i], r.chars[i])
	}
	return out
}

func (r *plateRenderer) Destroy() {}
