package ui

import (
	"context"
	"errors"
	"fmt"
	"sort"
	"strings"
	"sync"
	"time"

	"fyne.io/fyne/v2/data/binding"

	"github.com/ukanpr/anpr/app"
)

// Defaults for a ViewModel's zero fields.
const (
	DefaultDrivingSpeed = 5.0 // m/s, about 11 mph
	DefaultMaxReads     = 50
	DefaultMaxTrack     = 20000 // 1 Hz: five and a half hours
	DefaultDayStart     = 7 * time.Hour
	DefaultNightStart   = 19 * time.Hour
	// drivingHysteresis keeps driving mode from flickering at the threshold:
	// it ends only once the speed falls this far below it.
	drivingHysteresis = 1.0 // m/s
)

// Theme modes.
const (
	ThemeAuto  = "auto"  // by time of day
	ThemeDay   = "day"   // by hand
	ThemeNight = "night" // by hand
)

// ReadItem is one row of the live read list.
type ReadItem struct {
	ID       string
	VRM      string
	Time     time.Time
	Mark     string // ✓ ≈ * of the best visible match; empty for no match
	Priority int    // of the best visible match; 0 for no match
	Patch    []byte // plate patch JPEG
}

// HitItem is a hit waiting for the officer's decision.
type HitItem struct {
	Read    app.Read
	Hit     app.Hit
	Matches []app.Match // visible matches only, best first
	Raised  time.Time
}

// Best returns the match the hit screen leads with.
func (h HitItem) Best() app.Match {
	if len(h.Matches) == 0 {
		return app.Match{}
	}
	return h.Matches[0]
}

// Priority returns the highest (lowest number) priority of the matches.
func (h HitItem) Priority() int {
	p := 0
	for _, m := range h.Matches {
		if m.Entry.Priority > 0 && (p == 0 || m.Entry.Priority < p) {
			p = m.Entry.Priority
		}
	}
	if p == 0 {
		p = 9
	}
	return p
}

// ViewModel is the UI's state as data bindings, safe to change from any
// goroutine; the screens bind to its fields. Fields above the bindings are
// configuration, read-only once Run or Tick has been called.
type ViewModel struct {
	Backend      Backend
	Now          func() time.Time // injected clock; time.Now when nil
	DrivingSpeed float64          // m/s above which only hits are shown; DefaultDrivingSpeed when 0
	MaxReads     int              // rows of the live read list
	MaxTrack     int              // positions kept for the map
	DayStart     time.Duration    // local time of day the day theme starts (auto mode)
	NightStart   time.Duration    // local time of day the night theme starts (auto mode)

	Reads   binding.List[ReadItem] // newest first
	Hits    binding.List[HitItem]  // most urgent first; the hit screen shows the first
	Officer binding.Item[app.Officer]
	Admin   binding.Bool // admin screen unlocked

	CameraText  binding.String // status bar
	GPSText     binding.String
	ClockText   binding.String
	HotlistText binding.String
	SyncText    binding.String
	TimeText    binding.String // the time of day, HH:MM, in the clock's zone
	Alarm       binding.Bool   // some part is lost: the status bar turns red

	Speed     binding.Float // m/s from the GPS
	Driving   binding.Bool  // faster than DrivingSpeed: hits only
	ThemeMode binding.String
	Night     binding.Bool

	Message        binding.String // last alert or error for the officer
	ImportProgress binding.Float  // 0..1
	ImportStatus   binding.String

	listMu     sync.Mutex // serialises the read-modify-write of Reads and Hits
	mu         sync.Mutex
	parts      map[string]app.PartStatus
	track      []app.Position
	trackGen   int
	shiftStart time.Time
}

// NewViewModel returns a view model of b with defaults; now may be nil.
func NewViewModel(b Backend, now func() time.Time) *ViewModel {
	if now == nil {
		now = time.Now
	}
	vm := &ViewModel{
		Backend:        b,
		Now:            now,
		Reads:          binding.NewList(func(a, b ReadItem) bool { return a.ID == b.ID }),
		Hits:           binding.NewList(func(a, b HitItem) bool { return a.Read.ID == b.Read.ID && a.Raised.Equal(b.Raised) }),
		Officer:        binding.NewItem(func(a, b app.Officer) bool { return a == b }),
		Admin:          binding.NewBool(),
		CameraText:     binding.NewString(),
		GPSText:        binding.NewString(),
		ClockText:      binding.NewString(),
		HotlistText:    binding.NewString(),
		SyncText:       binding.NewString(),
		TimeText:       binding.NewString(),
		Alarm:          binding.NewBool(),
		Speed:          binding.NewFloat(),
		Driving:        binding.NewBool(),
		ThemeMode:      binding.NewString(),
		Night:          binding.NewBool(),
		Message:        binding.NewString(),
		ImportProgress: binding.NewFloat(),
		ImportStatus:   binding.NewString(),
		parts:          map[string]app.PartStatus{},
		shiftStart:     now(),
	}
	_ = vm.ThemeMode.Set(ThemeAuto)
	vm.refreshStatus(now())
	return vm
}

func (vm *ViewModel) now() time.Time {
	if vm.Now == nil {
		return time.Now()
	}
	return vm.Now()
}

func (vm *ViewModel) drivingSpeed() float64 {
	if vm.DrivingSpeed > 0 {
		return vm.DrivingSpeed
	}
	return DefaultDrivingSpeed
}

// Run follows the backend's events until ctx is done or the engine stops,
// ticking every second (positions, ages, theme by time of day).
func (vm *ViewModel) Run(ctx context.Context) error {
	sub := vm.Backend.Subscribe(0)
	defer vm.Backend.Unsubscribe(sub)
	vm.Resync()
	vm.Tick()
	tick := time.NewTicker(time.Second)
	defer tick.Stop()
	for {
		select {
		case <-ctx.Done():
			return nil
		case ev, ok := <-sub.C:
			if !ok {
				return app.ErrStopped
			}
			vm.Apply(ev)
		case <-sub.Wake:
			if _, lagged := sub.Lagged(); lagged {
				vm.Resync()
			}
		case <-tick.C:
			vm.Tick()
		}
	}
}

// Resync rebuilds the hit queue and the status bar from the backend's own
// state, after the subscription dropped events.
func (vm *ViewModel) Resync() {
	// Pending holds every hit not yet decided: it is the whole queue.
	vm.listMu.Lock()
	defer vm.listMu.Unlock()
	var hits []HitItem
	for _, p := range vm.Backend.Pending() {
		if h, ok := newHitItem(p.Read, p.Hit, p.Raised); ok {
			hits = append(hits, h)
		}
	}
	sortHits(hits)
	_ = vm.Hits.Set(hits)
	vm.mu.Lock()
	for _, s := range vm.Backend.Status() {
		vm.parts[partKey(s)] = s
	}
	vm.mu.Unlock()
	vm.refreshStatus(vm.now())
}

// Apply updates the bindings for one engine event.
func (vm *ViewModel) Apply(ev app.Event) {
	switch ev.Type {
	case app.EventRead:
		if ev.Read != nil {
			vm.addRead(*ev.Read, ev.Hit)
		}
	case app.EventHit, app.EventPastHit:
		if ev.Read == nil || ev.Hit == nil {
			return
		}
		h, ok := newHitItem(*ev.Read, *ev.Hit, ev.Time)
		if !ok {
			return // covert only: never shown in the car
		}
		vm.addHit(h)
	case app.EventDecision:
		// Decided here or elsewhere; an acknowledgement (Silence) keeps
		// the hit on screen until it is decided.
		vm.removeHit(ev.ReadID)
	case app.EventStatus:
		if ev.Status != nil {
			vm.mu.Lock()
			vm.parts[partKey(*ev.Status)] = *ev.Status
			vm.mu.Unlock()
			vm.refreshStatus(vm.now())
		}
	case app.EventAlert:
		if ev.Alert != nil && ev.Alert.Kind != app.AlertHit && ev.Alert.Kind != app.AlertPastHit &&
			ev.Alert.Kind != app.AlertRepeat && ev.Alert.Text != "" {
			_ = vm.Message.Set(ev.Alert.Text)
		}
	}
}

func partKey(s app.PartStatus) string { return string(s.Part) + "/" + s.ID }

func newHitItem(r app.Read, h app.Hit, raised time.Time) (HitItem, bool) {
	ms := app.VisibleMatches(h.Matches)
	if len(ms) == 0 {
		return HitItem{}, false
	}
	sort.SliceStable(ms, func(i, j int) bool {
		pi, pj := ms[i].Entry.Priority, ms[j].Entry.Priority
		if pi != pj {
			return pi < pj
		}
		return kindRank(ms[i].Kind) < kindRank(ms[j].Kind)
	})
	if raised.IsZero() {
		raised = h.Time
	}
	return HitItem{Read: r, Hit: h, Matches: ms, Raised: raised}, true
}

func kindRank(k app.MatchKind) int {
	switch k {
	case app.MatchExact:
		return 0
	case app.MatchLookalike:
		return 1
	}
	return 2
}

func sortHits(hs []HitItem) {
	sort.SliceStable(hs, func(i, j int) bool {
		if pi, pj := hs[i].Priority(), hs[j].Priority(); pi != pj {
			return pi < pj
		}
		return hs[i].Raised.Before(hs[j].Raised)
	})
}

func (vm *ViewModel) addRead(r app.Read, h *app.Hit) {
	it := ReadItem{ID: r.ID, VRM: r.VRM, Time: r.Time, Patch: r.Patch}
	if h != nil {
		if hi, ok := newHitItem(r, *h, h.Time); ok {
			it.Mark = hi.Best().Kind.Mark()
			it.Priority = hi.Priority()
		}
	}
	max := vm.MaxReads
	if max <= 0 {
		max = DefaultMaxReads
	}
	vm.listMu.Lock()
	defer vm.listMu.Unlock()
	rs, _ := vm.Reads.Get()
	out := make([]ReadItem, 0, min(len(rs)+1, max))
	out = append(out, it)
	for _, x := range rs {
		if len(out) == max {
			break
		}
		if x.ID != it.ID {
			out = append(out, x)
		}
	}
	_ = vm.Reads.Set(out)
}

func (vm *ViewModel) addHit(h HitItem) {
	vm.listMu.Lock()
	defer vm.listMu.Unlock()
	hs, _ := vm.Hits.Get()
	out := make([]HitItem, 0, len(hs)+1)
	for _, x := range hs {
		if x.Read.ID != h.Read.ID {
			out = append(out, x)
		}
	}
	out = append(out, h)
	sortHits(out)
	_ = vm.Hits.Set(out)
}

func (vm *ViewModel) removeHit(readID string) {
	vm.listMu.Lock()
	defer vm.listMu.Unlock()
	hs, _ := vm.Hits.Get()
	out := make([]HitItem, 0, len(hs))
	for _, x := range hs {
		if x.Read.ID != readID {
			out = append(out, x)
		}
	}
	if len(out) != len(hs) {
		_ = vm.Hits.Set(out)
	}
}

// CurrentHit returns the hit the hit screen shows.
func (vm *ViewModel) CurrentHit() (HitItem, bool) {
	hs, _ := vm.Hits.Get()
	if len(hs) == 0 {
		return HitItem{}, false
	}
	return hs[0], true
}

// Tick samples the car's position (speed, driving mode, the map's track),
// refreshes the ages in the status bar and applies the theme by time of day.
func (vm *ViewModel) Tick() {
	now := vm.now()
	if m, ok := vm.Backend.(Map); ok && m != nil {
		p := m.At(now)
		vm.setPosition(p)
	}
	vm.refreshStatus(now)
	vm.applyAutoTheme(now)
}

func (vm *ViewModel) setPosition(p app.Position) {
	if p.Fix.Usable() {
		vm.mu.Lock()
		max := vm.MaxTrack
		if max <= 0 {
			max = DefaultMaxTrack
		}
		if n := len(vm.track); n == 0 || !vm.track[n-1].Time.Equal(p.Time) {
			vm.track = append(vm.track, p)
			if len(vm.track) > max {
				vm.track = append(vm.track[:0], vm.track[len(vm.track)-max:]...)
			}
			vm.trackGen++
		}
		vm.mu.Unlock()
	}
	speed := 0.0
	if p.Fix.Usable() {
		speed = p.SpeedMPS
	}
	vm.SetSpeed(speed)
}

// SetSpeed sets the car's speed and with it driving mode: on above
// DrivingSpeed, off again once below it by a margin.
func (vm *ViewModel) SetSpeed(mps float64) {
	_ = vm.Speed.Set(mps)
	driving, _ := vm.Driving.Get()
	limit := vm.drivingSpeed()
	switch {
	case !driving && mps > limit:
		_ = vm.Driving.Set(true)
	case driving && mps < limit-drivingHysteresis:
		_ = vm.Driving.Set(false)
	}
}

// Track returns the positions seen this shift and a generation that
// changes when they do.
func (vm *ViewModel) Track() ([]app.Position, int) {
	vm.mu.Lock()
	defer vm.mu.Unlock()
	return append([]app.Position(nil), vm.track...), vm.trackGen
}

// ShiftStart is when the officer logged on (or the UI started).
func (vm *ViewModel) ShiftStart() time.Time {
	vm.mu.Lock()
	defer vm.mu.Unlock()
	return vm.shiftStart
}

// SetThemeMode picks auto, day or night.
func (vm *ViewModel) SetThemeMode(mode string) {
	switch mode {
	case ThemeDay:
		_ = vm.Night.Set(false)
	case ThemeNight:
		_ = vm.Night.Set(true)
	case ThemeAuto:
	default:
		return
	}
	_ = vm.ThemeMode.Set(mode)
	vm.applyAutoTheme(vm.now())
}

// NextThemeMode cycles auto → day → night → auto, for the theme button.
func (vm *ViewModel) NextThemeMode() string {
	m, _ := vm.ThemeMode.Get()
	next := map[string]string{ThemeAuto: ThemeDay, ThemeDay: ThemeNight, ThemeNight: ThemeAuto}[m]
	if next == "" {
		next = ThemeAuto
	}
	vm.SetThemeMode(next)
	return next
}

// IsNight reports whether t falls in the night by the view model's hours.
func (vm *ViewModel) IsNight(t time.Time) bool {
	day, night := vm.DayStart, vm.NightStart
	if day == 0 && night == 0 {
		day, night = DefaultDayStart, DefaultNightStart
	}
	y, m, d := t.Date()
	tod := t.Sub(time.Date(y, m, d, 0, 0, 0, 0, t.Location()))
	return tod < day || tod >= night
}

func (vm *ViewModel) applyAutoTheme(now time.Time) {
	if m, _ := vm.ThemeMode.Get(); m != ThemeAuto {
		return
	}
	_ = vm.Night.Set(vm.IsNight(now))
}

// refreshStatus rewrites the status bar from the parts' latest states.
func (vm *ViewModel) refreshStatus(now time.Time) {
	vm.mu.Lock()
	parts := make([]app.PartStatus, 0, len(vm.parts))
	for _, s := range vm.parts {
		parts = append(parts, s)
	}
	vm.mu.Unlock()
	sort.Slice(parts, func(i, j int) bool { return partKey(parts[i]) < partKey(parts[j]) })

	var cams []string
	gps, clock, hot, syn := "GPS —", "Clock —", "Hot list —", "Sync —"
	alarm := false
	for _, s := range parts {
		if s.State == app.StateLost {
			alarm = true
		}
		switch s.Part {
		case app.PartCamera:
			c := fmt.Sprintf("%.0f fps", s.FPS)
			if s.State == app.StateLost {
				c = "LOST"
			}
			if s.ID != "" {
				c = s.ID + " " + c
			}
			cams = append(cams, c)
		case app.PartGPS:
			switch {
			case s.State == app.StateLost || s.Fix == app.FixNone || s.Fix == "":
				gps = "GPS no fix"
			default:
				gps = fmt.Sprintf("GPS %s · %s", strings.ToUpper(string(s.Fix)), shortAge(s.FixAge))
			}
		case app.PartClock:
			clock = "Clock " + signedDuration(s.ClockOffset)
			if s.ClockSource == app.ClockSystem {
				clock += " (system)"
			}
			if s.ClockSuspect {
				clock += " !"
			}
		case app.PartHotlist:
			hot = fmt.Sprintf("Hot list %s", thousands(s.Entries))
			if !s.ListsLoaded.IsZero() {
				hot += " · " + shortAge(now.Sub(s.ListsLoaded))
			}
		case app.PartSync:
			link := "link up"
			if s.State == app.StateLost {
				link = "link down"
			}
			syn = fmt.Sprintf("Sync %d queued · %s", s.Pending, link)
		}
	}
	cam := "Camera —"
	if len(cams) > 0 {
		cam = "Camera " + strings.Join(cams, ", ")
	}
	_ = vm.CameraText.Set(cam)
	_ = vm.GPSText.Set(gps)
	_ = vm.ClockText.Set(clock)
	_ = vm.HotlistText.Set(hot)
	_ = vm.SyncText.Set(syn)
	_ = vm.TimeText.Set(now.Format("15:04"))
	_ = vm.Alarm.Set(alarm)
}

// shortAge writes an age the way the officer reads it at a glance.
func shortAge(d time.Duration) string {
	switch {
	case d < 0:
		return "0 s"
	case d < 10*time.Second:
		return fmt.Sprintf("%.1f s", d.Seconds())
	case d < 2*time.Minute:
		return fmt.Sprintf("%d s", int(d.Seconds()))
	case d < 2*time.Hour:
		return fmt.Sprintf("%d min", int(d.Minutes()))
	case d < 48*time.Hour:
		return fmt.Sprintf("%d h", int(d.Hours()))
	}
	return fmt.Sprintf("%d d", int(d.Hours()/24))
}

func signedDuration(d time.Duration) string {
	sign := "+"
	if d < 0 {
		sign, d = "−", -d
	}
	if d < time.Second {
		return fmt.Sprintf("%s%d ms", sign, d.Milliseconds())
	}
	return fmt.Sprintf("%s%.1f s", sign, d.Seconds())
}

func thousands(n int) string {
	s := fmt.Sprint(n)
	if n < 0 {
		return s
	}
	var b strings.Builder
	for i, c := range s {
		if i > 0 && (len(s)-i)%3 == 0 {
			b.WriteByte(',')
		}
		b.WriteRune(c)
	}
	return b.String()
}

// Errors of officer actions in the UI.
var (
	ErrNoHit       = errors.New("no hit on screen")
	ErrNeedReason  = errors.New("say why: 'Other' needs a reason")
	ErrNotLoggedOn = errors.New("log on first")
	ErrExpiry      = errors.New("expiry must be 1 to 100 days")
	ErrCategory    = errors.New("choose a category")
)

// Acknowledge tells the backend the officer has seen the current hit (its
// repeats stop); it stays on screen until decided.
func (vm *ViewModel) Acknowledge() error {
	h, ok := vm.CurrentHit()
	if !ok {
		return ErrNoHit
	}
	if err := vm.Backend.Acknowledge(h.Read.ID); err != nil && !errors.Is(err, app.ErrNoHit) {
		return err
	}
	return nil
}

// Decide records the officer's decision on the current hit, stamped with
// the officer logged on and the view model's clock, and takes it off the
// screen.
func (vm *ViewModel) Decide(ctx context.Context, outcome app.Outcome, reason string) error {
	h, ok := vm.CurrentHit()
	if !ok {
		return ErrNoHit
	}
	reason = strings.TrimSpace(reason)
	if outcome == app.OutcomeOther && reason == "" {
		return ErrNeedReason
	}
	o, _ := vm.Officer.Get()
	if o.ID == "" {
		return ErrNotLoggedOn
	}
	d := app.Decision{ReadID: h.Read.ID, Outcome: outcome, Reason: reason, Officer: o.ID, Time: vm.now().UTC()}
	if err := d.Validate(); err != nil {
		return err
	}
	if err := vm.Backend.Decide(ctx, d); err != nil {
		return err
	}
	vm.removeHit(h.Read.ID)
	return nil
}

// LogOn checks the officer's collar number and PIN and starts a shift.
func (vm *ViewModel) LogOn(ctx context.Context, id, pin string) error {
	id, pin = strings.TrimSpace(id), strings.TrimSpace(pin)
	if id == "" || pin == "" {
		return errors.New("enter collar number and PIN")
	}
	o, err := vm.Backend.AuthenticateOfficer(ctx, id, pin)
	if err != nil {
		return err
	}
	vm.Backend.LogOn(o)
	vm.mu.Lock()
	vm.shiftStart = vm.now()
	vm.mu.Unlock()
	_ = vm.Officer.Set(o)
	return nil
}

// LogOff ends the shift in the UI and locks the admin screen.
func (vm *ViewModel) LogOff() {
	vm.Backend.LogOn(app.Officer{})
	_ = vm.Officer.Set(app.Officer{})
	_ = vm.Admin.Set(false)
}

// UnlockAdmin opens the admin screen when pin is the admin PIN.
func (vm *ViewModel) UnlockAdmin(ctx context.Context, pin string) error {
	if err := vm.Backend.AuthenticateAdmin(ctx, pin); err != nil {
		_ = vm.Admin.Set(false)
		return err
	}
	return vm.Admin.Set(true)
}

// Check looks a typed VRM up in the hot lists.
func (vm *ViewModel) Check(ctx context.Context, vrm string) ([]app.Match, error) {
	v, err := app.NormalizeVRM(vrm)
	if err != nil {
		return nil, err
	}
	return vm.Backend.Check(ctx, v)
}

// Wanted is a "new wanted" entry as the officer types it.
type Wanted struct {
	VRM      string
	Category string
	Reason   string
	Days     int // until it expires: 1 to 100
}

// wantedPriority maps the categories offered in the car to priorities.
var wantedPriority = map[string]int{
	"Firearms":       1,
	"Stolen":         2,
	"Wanted person":  2,
	"Missing person": 2,
	"Drink/drug":     3,
	"No insurance":   4,
	"Intelligence":   5,
	"Other":          5,
}

// WantedCategories lists the categories offered, most serious first.
var WantedCategories = []string{"Firearms", "Stolen", "Wanted person", "Missing person", "Drink/drug", "No insurance", "Intelligence", "Other"}

// AddWanted stores a new wanted entry from the officer; it returns the
// number of this shift's reads it turned into past hits.
func (vm *ViewModel) AddWanted(ctx context.Context, w Wanted) (int, error) {
	o, _ := vm.Officer.Get()
	if o.ID == "" {
		return 0, ErrNotLoggedOn
	}
	v, err := app.NormalizeVRM(w.VRM)
	if err != nil {
		return 0, err
	}
	prio, ok := wantedPriority[w.Category]
	if !ok {
		return 0, ErrCategory
	}
	if w.Days < 1 || time.Duration(w.Days)*24*time.Hour > app.MaxWantedTTL {
		return 0, ErrExpiry
	}
	reason := strings.TrimSpace(w.Reason)
	if reason == "" {
		return 0, errors.New("give a reason")
	}
	now := vm.now().UTC()
	e := app.HotlistEntry{
		List: app.WantedListName, VRM: v, Category: w.Category, Priority: prio,
		Action: "Stop and check: " + reason, Information: reason,
		Expires: now.Add(time.Duration(w.Days) * 24 * time.Hour), AddedBy: o.ID, Added: now,
	}
	_, past, err := vm.Backend.AddWanted(ctx, e)
	return past, err
}

// Import loads a hot-list CSV in the background, reporting progress through
// ImportProgress and the outcome through ImportStatus; done (may be nil) is
// called when it ends.
func (vm *ViewModel) Import(ctx context.Context, path, list string, done func(n int, err error)) {
	path, list = strings.TrimSpace(path), strings.TrimSpace(list)
	if path == "" || list == "" {
		_ = vm.ImportStatus.Set("Give the CSV file and the list name.")
		if done != nil {
			done(0, errors.New("no file or list"))
		}
		return
	}
	_ = vm.ImportProgress.Set(0)
	_ = vm.ImportStatus.Set("Importing " + list + " …")
	go func() {
		n, err := vm.Backend.ImportHotlist(ctx, path, list, func(d, total int) {
			if total > 0 {
				_ = vm.ImportProgress.Set(float64(d) / float64(total))
			}
		})
		if err != nil {
			_ = vm.ImportStatus.Set("Import failed: " + err.Error())
		} else {
			_ = vm.ImportProgress.Set(1)
			_ = vm.ImportStatus.Set(fmt.Sprintf("Imported %s entries into %s.", thousands(n), list))
		}
		if done != nil {
			done(n, err)
		}
	}()
}
