package ui

import (
	"fmt"
	"image"

	"fyne.io/fyne/v2"
	"fyne.io/fyne/v2/canvas"
	"fyne.io/fyne/v2/container"
	"fyne.io/fyne/v2/data/binding"
	"fyne.io/fyne/v2/layout"
	"fyne.io/fyne/v2/theme"
	"fyne.io/fyne/v2/widget"
)

// statusBar is the strip along the top: camera, GPS, clock, hot list,
// sync, speed and the time; red when a part is lost.
type statusBar struct {
	u      *UI
	object fyne.CanvasObject
	bg     *canvas.Rectangle
	row    *fyne.Container
	texts  []*canvas.Text
	speed  *canvas.Text
	now    *canvas.Text
	who    *canvas.Text
}

func newStatusBar(u *UI) *statusBar {
	vm := u.VM
	s := &statusBar{u: u, bg: canvas.NewRectangle(nil)}
	row := container.NewHBox()
	s.row = row
	for _, b := range []binding.String{vm.CameraText, vm.GPSText, vm.ClockText, vm.HotlistText, vm.SyncText} {
		b := b
		t := text("", 17, false)
		s.texts = append(s.texts, t)
		row.Add(t)
		row.Add(sized(layout.NewSpacer(), 14, 1))
		b.AddListener(binding.NewDataListener(func() {
			v, _ := b.Get()
			t.Text = v
			t.Refresh()
			row.Refresh() // texts change width: lay the bar out again
		}))
	}
	s.speed = text("", 17, true)
	s.who = text("", 17, false)
	s.now = text("", 17, true)
	s.texts = append(s.texts, s.speed, s.who, s.now)
	row.Add(layout.NewSpacer())
	row.Add(s.speed)
	row.Add(sized(layout.NewSpacer(), 14, 1))
	row.Add(s.who)
	row.Add(sized(layout.NewSpacer(), 14, 1))
	row.Add(s.now)
	s.object = container.NewStack(s.bg, container.NewPadded(row))
	vm.Alarm.AddListener(binding.NewDataListener(s.render))
	vm.Speed.AddListener(binding.NewDataListener(s.render))
	vm.Officer.AddListener(binding.NewDataListener(s.render))
	vm.TimeText.AddListener(binding.NewDataListener(s.render))
	return s
}

func (s *statusBar) render() {
	vm := s.u.VM
	alarm, _ := vm.Alarm.Get()
	night, _ := vm.Night.Get()
	if alarm {
		s.bg.FillColor = Colour(ColorNameAlarm)
	} else {
		s.bg.FillColor = Colour(ColorNameStatusBar)
	}
	s.bg.Refresh()
	fg := rgb(0xf0, 0xf0, 0xf0)
	if night {
		fg = rgb(0xb8, 0x40, 0x30)
	}
	mps, _ := vm.Speed.Get()
	s.speed.Text = fmt.Sprintf("%.0f mph", mps*2.236936)
	o, _ := vm.Officer.Get()
	s.who.Text = o.ID
	if o.Name != "" {
		s.who.Text += " " + o.Name
	}
	s.now.Text, _ = vm.TimeText.Get()
	for _, t := range s.texts {
		t.Color = fg
		t.Refresh()
	}
	s.row.Refresh()
}

// liveScreen is the camera picture with plate boxes beside the newest reads.
type liveScreen struct {
	u       *UI
	object  fyne.CanvasObject
	picture *canvas.Image
	noPic   *widget.Label
	list    *widget.List
}

func newLiveScreen(u *UI) *liveScreen {
	l := &liveScreen{u: u}
	l.picture = canvas.NewImageFromImage(nil)
	l.picture.FillMode = canvas.ImageFillContain
	l.picture.ScaleMode = canvas.ImageScaleFastest
	l.noPic = widget.NewLabel("No camera picture yet")
	l.noPic.Alignment = fyne.TextAlignCenter
	var camera fyne.CanvasObject = container.NewStack(u.dimmed(l.picture), container.NewCenter(l.noPic))

	l.list = widget.NewList(
		func() int { return u.VM.Reads.Length() },
		func() fyne.CanvasObject { return newReadRow(u) },
		func(id widget.ListItemID, o fyne.CanvasObject) {
			it, err := u.VM.Reads.GetValue(id)
			if err != nil {
				return
			}
			o.(*readRow).set(u, it)
		})
	l.list.HideSeparators = false
	u.VM.Reads.AddListener(binding.NewDataListener(l.list.Refresh))

	title := widget.NewLabel("Recent reads")
	title.TextStyle.Bold = true
	reads := container.NewBorder(title, nil, nil, nil, l.list)
	// Part alerts (camera lost, link restored, too many hits waiting) stay
	// above the picture until the next one.
	msg := widget.NewLabelWithData(u.VM.Message)
	msg.Wrapping = fyne.TextWrapWord
	msg.TextStyle.Bold = true
	msg.Importance = widget.WarningImportance
	msg.Hide()
	u.VM.Message.AddListener(binding.NewDataListener(func() {
		if v, _ := u.VM.Message.Get(); v == "" {
			msg.Hide()
		} else {
			msg.Show()
		}
		if l.object != nil {
			l.object.Refresh()
		}
	}))
	camera = container.NewBorder(msg, nil, nil, nil, camera)
	split := container.NewHSplit(camera, sized(reads, 470, 100))
	split.Offset = 0.6
	l.object = split
	return l
}

func (l *liveScreen) setFrame(img image.Image) {
	l.noPic.Hide()
	l.picture.Image = img
	l.picture.Refresh()
}

// readRow is one read in a list: plate patch, the VRM as a plate, time and
// the match mark.
type readRow struct {
	widget.BaseWidget
	patch *canvas.Image
	plate *Plate
	when  *widget.Label
	mark  *canvas.Text
	info  *widget.Label
	obj   fyne.CanvasObject
}

func newReadRow(u *UI) *readRow {
	r := &readRow{
		patch: canvas.NewImageFromImage(nil),
		plate: NewPlate("", 30),
		when:  widget.NewLabel(""),
		mark:  text("", 40, true),
		info:  widget.NewLabel(""),
	}
	r.plate.MinChars = 8
	r.patch.FillMode = canvas.ImageFillContain
	r.info.Truncation = fyne.TextTruncateEllipsis
	r.obj = container.NewBorder(nil, nil,
		container.NewHBox(sized(u.dimmed(r.patch), 130, 56), container.NewCenter(r.plate), sized(container.NewCenter(r.when), 110, 56)),
		sized(container.NewCenter(r.mark), 48, 56))
	r.ExtendBaseWidget(r)
	return r
}

func (r *readRow) set(u *UI, it ReadItem) {
	r.patch.Image = u.patch(it.ID, it.Patch)
	r.patch.Refresh()
	r.plate.SetVRM(it.VRM, nil)
	r.when.SetText(u.VM.clock(it.Time))
	r.mark.Text = it.Mark
	switch {
	case it.Mark == "":
	case it.Priority > 0:
		r.mark.Color = PriorityColour(it.Priority, false)
		if night, _ := u.VM.Night.Get(); night {
			r.mark.Color = theme.Color(theme.ColorNameError)
		}
	}
	r.mark.Refresh()
}

func (r *readRow) CreateRenderer() fyne.WidgetRenderer { return widget.NewSimpleRenderer(r.obj) }

// newDrivingScreen is what the officer sees while the car moves: no read
// list, no keyboard; hits still take the whole screen.
func newDrivingScreen(u *UI) fyne.CanvasObject {
	big := text("DRIVING", 96, true)
	big.Alignment = fyne.TextAlignCenter
	sub := text("Hits only while moving", 36, false)
	sub.Alignment = fyne.TextAlignCenter
	speed := text("", 48, true)
	speed.Alignment = fyne.TextAlignCenter
	u.VM.Speed.AddListener(binding.NewDataListener(func() {
		mps, _ := u.VM.Speed.Get()
		speed.Text = fmt.Sprintf("%.0f mph", mps*2.236936)
		speed.Refresh()
	}))
	u.themed(func() {
		for _, t := range []*canvas.Text{big, sub, speed} {
			t.Color = theme.Color(theme.ColorNameForeground)
			t.Refresh()
		}
	})
	return container.NewCenter(container.NewVBox(big, sub, speed))
}
