package ui

import (
	"fmt"
	"strconv"
	"strings"

	"fyne.io/fyne/v2"
	"fyne.io/fyne/v2/container"
	"fyne.io/fyne/v2/layout"
	"fyne.io/fyne/v2/widget"

	"github.com/ukanpr/anpr/app"
)

// checkScreen is the manual check of a VRM and the "new wanted" entry,
// both typed on the large keyboard.
type checkScreen struct {
	u        *UI
	object   fyne.CanvasObject
	kbd      *Keyboard
	vrm      *Field
	reason   *Field
	result   *widget.Label
	category string
	days     int
	cats     map[string]*widget.Button
	dayBtns  map[int]*widget.Button
}

// WantedDays are the expiry choices offered; app.MaxWantedTTL is the most.
var WantedDays = []int{1, 7, 28, 100}

func newCheckScreen(u *UI) *checkScreen {
	c := &checkScreen{u: u, kbd: NewKeyboard(), result: widget.NewLabel("Type a VRM and tap Check."),
		cats: map[string]*widget.Button{}, dayBtns: map[int]*widget.Button{}, days: 28}
	c.vrm = NewField("VRM", c.kbd, 10)
	c.vrm.NoSpace = true
	c.reason = NewField("Reason", c.kbd, 80)
	c.kbd.SetTarget(c.vrm)
	c.result.Wrapping = fyne.TextWrapWord

	_, checkObj := bigButton("Check", widget.HighImportance, 180, TouchMin, c.doCheck)
	cats := container.NewGridWithColumns(4)
	for _, name := range WantedCategories {
		name := name
		b, obj := bigButton(name, widget.MediumImportance, 150, TouchMin, func() { c.setCategory(name) })
		c.cats[name] = b
		cats.Add(obj)
	}
	days := container.NewHBox(widget.NewLabel("Expires in"))
	for _, d := range WantedDays {
		d := d
		label := fmt.Sprintf("%d days", d)
		if d == 1 {
			label = "1 day"
		}
		b, obj := bigButton(label, widget.MediumImportance, 120, TouchMin, func() { c.setDays(d) })
		c.dayBtns[d] = b
		days.Add(obj)
	}
	c.setDays(c.days)
	_, addObj := bigButton("Add wanted", widget.DangerImportance, 200, TouchMin, c.doAdd)

	top := container.NewVBox(
		container.NewBorder(nil, nil, nil, checkObj, c.vrm.Object),
		c.result,
		widget.NewSeparator(),
		cats,
		container.NewBorder(nil, nil, nil, container.NewHBox(days, addObj), c.reason.Object),
	)
	c.object = container.NewBorder(top, c.kbd.Object, nil, nil, layout.NewSpacer())
	return c
}

// say shows a result or error and lays the screen out again for it.
func (c *checkScreen) say(s string) {
	c.result.SetText(s)
	c.object.Refresh()
}

func (c *checkScreen) setCategory(name string) {
	c.category = name
	for n, b := range c.cats {
		if n == name {
			b.Importance = widget.HighImportance
		} else {
			b.Importance = widget.MediumImportance
		}
		b.Refresh()
	}
}

func (c *checkScreen) setDays(d int) {
	c.days = d
	for n, b := range c.dayBtns {
		if n == d {
			b.Importance = widget.HighImportance
		} else {
			b.Importance = widget.MediumImportance
		}
		b.Refresh()
	}
}

// CheckVRM opens the check screen with vrm typed and checked, as if the
// officer had typed it.
func (u *UI) CheckVRM(vrm string) {
	u.Show(ScreenCheck)
	_ = u.check.vrm.Value.Set(vrm)
	u.check.kbd.SetTarget(u.check.vrm)
	u.check.doCheck()
}

func (c *checkScreen) doCheck() {
	ms, err := c.u.VM.Check(c.u.ctx, c.vrm.Text())
	switch {
	case err != nil:
		c.say("Not done: " + err.Error())
	case len(ms) == 0:
		c.say("No match: " + strings.ToUpper(c.vrm.Text()) + " is on no hot list.")
	default:
		var lines []string
		for _, m := range ms {
			lines = append(lines, fmt.Sprintf("%s P%d %s — %s (%s %s)", m.Kind.Mark(), m.Entry.Priority,
				m.Entry.Category, m.Entry.Action, m.Entry.List, m.Entry.VRM))
		}
		c.say(strings.Join(lines, "\n"))
	}
}

func (c *checkScreen) doAdd() {
	n, err := c.u.VM.AddWanted(c.u.ctx, Wanted{VRM: c.vrm.Text(), Category: c.category, Reason: c.reason.Text(), Days: c.days})
	if err != nil {
		c.say("Not done: " + err.Error())
		return
	}
	msg := fmt.Sprintf("Added %s as wanted (%s) for %d days.", strings.ToUpper(c.vrm.Text()), c.category, c.days)
	if n > 0 {
		msg += fmt.Sprintf(" %d earlier read(s) this shift now hit.", n)
	}
	c.say(msg)
	c.reason.Clear()
}

// historyScreen lists this shift's reads, newest first, filtered by a VRM
// typed on the keyboard.
type historyScreen struct {
	u      *UI
	object fyne.CanvasObject
	kbd    *Keyboard
	query  *Field
	list   *widget.List
	count  *widget.Label
	rows   []ReadRecord
}

func newHistoryScreen(u *UI) *historyScreen {
	h := &historyScreen{u: u, kbd: NewKeyboard(), count: widget.NewLabel("")}
	h.query = NewField("Search VRM", h.kbd, 10)
	h.query.NoSpace = true
	h.query.OnChanged = func(string) { h.search() }
	h.kbd.SetTarget(h.query)
	h.list = widget.NewList(
		func() int { return len(h.rows) },
		func() fyne.CanvasObject { return newHistoryRow(u) },
		func(id widget.ListItemID, o fyne.CanvasObject) {
			if id < len(h.rows) {
				o.(*historyRow).set(u, h.rows[id])
			}
		})
	h.object = container.NewBorder(container.NewBorder(nil, nil, nil, h.count, h.query.Object), h.kbd.Object, nil, nil, h.list)
	return h
}

// search asks the backend for the shift's reads matching the query.
func (h *historyScreen) search() {
	q := strings.ToUpper(strings.ReplaceAll(h.query.Text(), " ", ""))
	rows, err := h.u.VM.Backend.ShiftReads(h.u.ctx, ReadQuery{Since: h.u.VM.ShiftStart(), VRM: q, Limit: 100, Patches: true})
	if err != nil {
		h.count.SetText("Not done: " + err.Error())
		rows = nil
	} else {
		h.count.SetText(fmt.Sprintf("%d reads", len(rows)))
	}
	h.rows = rows
	h.list.Refresh()
	h.object.Refresh()
}

type historyRow struct {
	widget.BaseWidget
	read *readRow
	what *widget.Label
	obj  fyne.CanvasObject
}

func newHistoryRow(u *UI) *historyRow {
	r := &historyRow{read: newReadRow(u), what: widget.NewLabel("")}
	r.what.Truncation = fyne.TextTruncateEllipsis
	r.obj = container.NewBorder(nil, nil, r.read, nil, r.what)
	r.ExtendBaseWidget(r)
	return r
}

func (r *historyRow) set(u *UI, rec ReadRecord) {
	it := ReadItem{ID: rec.Read.ID, VRM: rec.Read.VRM, Time: rec.Read.Time, Patch: rec.Read.Patch}
	what := ""
	if rec.Hit != nil {
		if h, ok := newHitItem(rec.Read, *rec.Hit, rec.Hit.Time); ok {
			it.Mark, it.Priority = h.Best().Kind.Mark(), h.Priority()
			what = fmt.Sprintf("P%d %s", h.Priority(), h.Best().Entry.Category)
			if rec.Hit.Past {
				what = "past hit · " + what
			}
		}
	}
	if rec.Decision != nil {
		what += " · " + outcomeLabel(rec.Decision.Outcome) + " by " + rec.Decision.Officer
		if rec.Decision.Reason != "" {
			what += ": " + rec.Decision.Reason
		}
	}
	r.read.set(u, it)
	r.what.SetText(what)
}

func (r *historyRow) CreateRenderer() fyne.WidgetRenderer { return widget.NewSimpleRenderer(r.obj) }

// logonScreen takes the officer's collar number and PIN.
type logonScreen struct {
	u      *UI
	object fyne.CanvasObject
	kbd    *Keyboard
	id     *Field
	pin    *Field
	err    *widget.Label
}

func newLogonScreen(u *UI) *logonScreen {
	l := &logonScreen{u: u, kbd: NewKeyboard(), err: errorLabel()}
	l.id = NewField("Collar number", l.kbd, 12)
	l.id.NoSpace = true
	l.pin = NewField("PIN", l.kbd, 12)
	l.pin.Mask, l.pin.NoSpace = true, true
	l.kbd.SetTarget(l.id)
	_, logon := bigButton("Log on", widget.HighImportance, 220, 80, l.submit)
	form := container.NewVBox(heading("Officer log-on"), l.id.Object, l.pin.Object, container.NewHBox(logon, l.err))
	l.object = container.NewBorder(form, l.kbd.Object, nil, nil, layout.NewSpacer())
	return l
}

func (l *logonScreen) submit() {
	if err := l.u.VM.LogOn(l.u.ctx, l.id.Text(), l.pin.Text()); err != nil {
		l.err.SetText(err.Error())
		l.object.Refresh()
		l.pin.Clear()
		return
	}
	l.err.SetText("")
	l.id.Clear()
	l.pin.Clear()
	l.kbd.SetTarget(l.id)
	l.u.Show(ScreenLive)
}

// adminScreen is behind the admin PIN: sources, back office, retention and
// hot-list import with progress.
type adminScreen struct {
	u      *UI
	object fyne.CanvasObject

	gate  fyne.CanvasObject
	panel fyne.CanvasObject
	kbd   *Keyboard
	pin   *Field
	err   *widget.Label

	cameras    *widget.Entry
	gps        *widget.Entry
	backOffice *widget.Entry
	retention  *widget.Entry
	csv        *widget.Entry
	list       *widget.Entry
	saved      *widget.Label
	importBtn  *widget.Button
	loaded     bool
}

func newAdminScreen(u *UI) *adminScreen {
	a := &adminScreen{u: u, kbd: NewKeyboard(), err: errorLabel(), saved: widget.NewLabel("")}
	a.pin = NewField("Admin PIN", a.kbd, 12)
	a.pin.Mask, a.pin.NoSpace = true, true
	a.kbd.SetTarget(a.pin)
	_, unlock := bigButton("Unlock", widget.HighImportance, 200, 80, a.unlock)
	a.gate = container.NewBorder(container.NewVBox(heading("Admin"), a.pin.Object, container.NewHBox(unlock, a.err)), a.kbd.Object, nil, nil, layout.NewSpacer())

	// Admins prepare cars with a keyboard attached: URLs and paths need
	// more than the on-screen keys, so these are ordinary entries.
	a.cameras = widget.NewMultiLineEntry()
	a.cameras.SetMinRowsVisible(2)
	a.gps = widget.NewEntry()
	a.backOffice = widget.NewEntry()
	a.retention = widget.NewEntry()
	a.csv = widget.NewEntry()
	a.csv.SetPlaceHolder("path of a hot-list CSV file")
	a.list = widget.NewEntry()
	a.list.SetPlaceHolder("list name, e.g. pnc-stolen")
	_, save := bigButton("Save settings", widget.HighImportance, 220, TouchMin, a.save)
	var importObj fyne.CanvasObject
	a.importBtn, importObj = bigButton("Import", widget.HighImportance, 160, TouchMin, a.doImport)
	progress := widget.NewProgressBarWithData(u.VM.ImportProgress)
	status := widget.NewLabelWithData(u.VM.ImportStatus)
	status.Wrapping = fyne.TextWrapWord
	_, lock := bigButton("Lock", widget.MediumImportance, 160, TouchMin, func() { _ = u.VM.Admin.Set(false) })

	settings := widget.NewForm(
		widget.NewFormItem("Cameras", a.cameras),
		widget.NewFormItem("GPS", a.gps),
		widget.NewFormItem("Back office", a.backOffice),
		widget.NewFormItem("Retention (days)", a.retention),
	)
	hotlist := widget.NewForm(
		widget.NewFormItem("CSV file", a.csv),
		widget.NewFormItem("List", a.list),
	)
	a.panel = container.NewVScroll(container.NewVBox(
		container.NewBorder(nil, nil, nil, lock, heading("Admin")),
		settings, container.NewHBox(save, a.saved),
		widget.NewSeparator(),
		heading("Hot-list import"),
		hotlist, container.NewBorder(nil, nil, nil, importObj, progress), status,
	))
	a.object = container.NewStack(a.gate, a.panel)
	return a
}

// update shows the PIN gate or the panel, loading the settings each time
// the panel opens.
func (a *adminScreen) update() {
	if on, _ := a.u.VM.Admin.Get(); on {
		if !a.panel.Visible() || !a.loaded {
			a.load()
		}
		a.gate.Hide()
		a.panel.Show()
	} else {
		a.loaded = false
		a.panel.Hide()
		a.gate.Show()
	}
}

func (a *adminScreen) unlock() {
	err := a.u.VM.UnlockAdmin(a.u.ctx, a.pin.Text())
	a.pin.Clear()
	if err != nil {
		a.err.SetText("Wrong admin PIN.")
		a.object.Refresh()
		return
	}
	a.err.SetText("")
	a.update()
}

// load fills the settings from the backend.
func (a *adminScreen) load() {
	if on, _ := a.u.VM.Admin.Get(); !on {
		return
	}
	s, err := a.u.VM.Backend.Settings(a.u.ctx)
	if err != nil {
		a.note("Not done: " + err.Error())
		return
	}
	a.cameras.SetText(s.Cameras)
	a.gps.SetText(s.GPS)
	a.backOffice.SetText(s.BackOffice)
	a.retention.SetText(strconv.Itoa(s.RetentionDays))
	a.loaded = true
}

// note shows the outcome of an admin action.
func (a *adminScreen) note(s string) {
	a.saved.SetText(s)
	a.object.Refresh()
}

func (a *adminScreen) save() {
	days, err := strconv.Atoi(strings.TrimSpace(a.retention.Text))
	if err != nil {
		a.note("Not saved: retention must be a whole number of days")
		return
	}
	s := Settings{Cameras: a.cameras.Text, GPS: strings.TrimSpace(a.gps.Text), BackOffice: strings.TrimSpace(a.backOffice.Text), RetentionDays: days}
	if err := s.Validate(); err != nil {
		a.note("Not done: " + err.Error())
		return
	}
	msg, err := a.u.VM.Backend.SaveSettings(a.u.ctx, s)
	if err != nil {
		a.note("Not saved: " + err.Error())
		return
	}
	a.note(msg)
}

func (a *adminScreen) doImport() {
	a.importBtn.Disable()
	a.u.VM.Import(a.u.ctx, a.csv.Text, a.list.Text, func(int, error) {
		fyne.Do(a.importBtn.Enable)
	})
}

// outcomeLabel is how a decision reads in lists.
func outcomeLabel(o app.Outcome) string { return strings.ReplaceAll(string(o), "-", " ") }
