package ui

import (
	"strings"

	"fyne.io/fyne/v2"
	"fyne.io/fyne/v2/container"
	"fyne.io/fyne/v2/data/binding"
	"fyne.io/fyne/v2/layout"
	"fyne.io/fyne/v2/widget"
)

// Touch target sizes, for a gloved finger.
const (
	TouchMin     = 64 // px, the smallest action button side
	KeySize      = 72 // px, an on-screen key's height
	keyBackspace = "⌫"
	keySpace     = "Space"
	keyClear     = "Clear"
)

// minSize lays its objects over each other, no smaller than min.
type minSize struct{ min fyne.Size }

func (l minSize) Layout(objs []fyne.CanvasObject, size fyne.Size) {
	for _, o := range objs {
		o.Move(fyne.NewPos(0, 0))
		o.Resize(size)
	}
}

func (l minSize) MinSize(objs []fyne.CanvasObject) fyne.Size {
	m := l.min
	for _, o := range objs {
		if o.Visible() {
			m = m.Max(o.MinSize())
		}
	}
	return m
}

// sized wraps o so that it is at least w×h.
func sized(o fyne.CanvasObject, w, h float32) *fyne.Container {
	return container.New(minSize{fyne.NewSize(w, h)}, o)
}

// bigButton is an action button at least TouchMin on each side.
func bigButton(label string, imp widget.Importance, w, h float32, tapped func()) (*widget.Button, fyne.CanvasObject) {
	b := widget.NewButton(label, tapped)
	b.Importance = imp
	if w < TouchMin {
		w = TouchMin
	}
	if h < TouchMin {
		h = TouchMin
	}
	return b, sized(b, w, h)
}

// Keyboard is a large on-screen keyboard (A–Z, 0–9, backspace, space,
// clear) that types into the active Field. The car's tablet has no
// physical keyboard and the system one is too small for gloves.
type Keyboard struct {
	Object fyne.CanvasObject
	Keys   map[string]*widget.Button

	target *Field
}

// NewKeyboard returns a keyboard typing into nothing until SetTarget.
func NewKeyboard() *Keyboard {
	k := &Keyboard{Keys: map[string]*widget.Button{}}
	rows := [][]string{
		strings.Split("1234567890", ""),
		strings.Split("QWERTYUIOP", ""),
		append(strings.Split("ASDFGHJKL", ""), keyBackspace),
		append(strings.Split("ZXCVBNM", ""), keySpace, keyClear),
	}
	grid := container.NewGridWithColumns(10)
	for _, row := range rows {
		for _, key := range row {
			key := key
			b := widget.NewButton(key, func() { k.Press(key) })
			if len(key) > 1 {
				b.Importance = widget.MediumImportance
			}
			k.Keys[key] = b
			grid.Add(sized(b, TouchMin+16, KeySize))
		}
		for i := len(row); i < 10; i++ {
			grid.Add(layout.NewSpacer())
		}
	}
	k.Object = grid
	return k
}

// SetTarget makes f the field the keys type into and highlights it.
func (k *Keyboard) SetTarget(f *Field) {
	if k.target != nil {
		k.target.setActive(false)
	}
	k.target = f
	if f != nil {
		f.setActive(true)
	}
}

// Target returns the active field.
func (k *Keyboard) Target() *Field { return k.target }

// Press types one key into the active field.
func (k *Keyboard) Press(key string) {
	f := k.target
	if f == nil {
		return
	}
	v, _ := f.Value.Get()
	switch key {
	case keyBackspace:
		if r := []rune(v); len(r) > 0 {
			v = string(r[:len(r)-1])
		}
	case keyClear:
		v = ""
	case keySpace:
		if f.NoSpace {
			return
		}
		v += " "
	default:
		v += key
	}
	if f.MaxLen > 0 && len([]rune(v)) > f.MaxLen {
		return
	}
	_ = f.Value.Set(v)
	if f.OnChanged != nil {
		f.OnChanged(v)
	}
}

// Field is a text field typed with the on-screen keyboard: a wide button
// showing its label and value; tapping it makes it the keyboard's target.
type Field struct {
	Label     string
	Value     binding.String
	Mask      bool // show dots (a PIN)
	NoSpace   bool
	MaxLen    int
	OnChanged func(string)
	Button    *widget.Button
	Object    fyne.CanvasObject
}

// NewField returns a field with its own value, typed by k when tapped.
func NewField(label string, k *Keyboard, maxLen int) *Field {
	f := &Field{Label: label, Value: binding.NewString(), MaxLen: maxLen}
	f.Button = widget.NewButton(label, func() { k.SetTarget(f) })
	f.Button.Alignment = widget.ButtonAlignLeading
	f.Object = sized(f.Button, 280, TouchMin)
	f.Value.AddListener(binding.NewDataListener(f.render))
	return f
}

func (f *Field) render() {
	v, _ := f.Value.Get()
	if f.Mask {
		v = strings.Repeat("●", len([]rune(v)))
	}
	if v == "" {
		v = "…"
	}
	f.Button.SetText(f.Label + ":  " + v)
}

func (f *Field) setActive(on bool) {
	if on {
		f.Button.Importance = widget.HighImportance
	} else {
		f.Button.Importance = widget.MediumImportance
	}
	f.Button.Refresh()
}

// Text returns the field's value.
func (f *Field) Text() string {
	v, _ := f.Value.Get()
	return v
}

// Clear empties the field.
func (f *Field) Clear() { _ = f.Value.Set("") }
