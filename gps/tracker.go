package gps

import (
	"math"
	"sort"
	"sync"
	"time"

	"github.com/ukanpr/anpr/app"
)

// Defaults for a Tracker's zero fields.
const (
	DefaultMaxGap           = 3 * time.Second // interpolate between fixes at most this far apart
	DefaultMaxExtrapolation = 2 * time.Second // dead-reckon from the last fix at most this long
	DefaultClockBound       = time.Second     // GPS–system offset beyond this makes reads suspect
	DefaultHistory          = 1200            // epochs kept for At: 20 min at 1 Hz, 2 min at 10 Hz
)

// DefaultMinDate is the start of the second GPS week-number era (the April
// 2019 rollover). A receiver in service now that reports an earlier date
// has rolled over and its date is not trusted. Replaying old logs needs an
// earlier MinDate (the replay command uses GPS's own epoch).
var DefaultMinDate = time.Date(2019, 4, 7, 0, 0, 0, 0, time.UTC)

// GPSEpoch is 1980-01-06, the first day GPS can report.
var GPSEpoch = time.Date(1980, 1, 6, 0, 0, 0, 0, time.UTC)

// rolloverPeriod is 1024 GPS weeks: how far a receiver with the week
// rollover bug jumps back.
const rolloverPeriod = 1024 * 7 * 24 * time.Hour

// DateSource says where a fix's date came from.
type DateSource uint8

// Date sources.
const (
	DateNone     DateSource = iota // not known yet: Fix.Time is zero
	DateReceiver                   // the receiver's RMC/ZDA date in this epoch
	DateCarried                    // carried from an earlier (or later) epoch of the same receiver
	DateClock                      // the receiver's date was absent or corrupt: the system clock's at arrival
	DateSuspect                    // the receiver's date, not trusted (no clock to correct it): no fix
)

var dateSourceNames = [...]string{"none", "receiver", "carried", "clock", "suspect"}

func (d DateSource) String() string { return dateSourceNames[d] }

// Fix is one epoch merged from all its sentences.
type Fix struct {
	Time       time.Time     // receiver time, UTC; zero when its date is unknown
	TOD        time.Duration // receiver time of day
	Kind       app.FixKind
	Lat, Lon   float64 // meaningful when Kind is not FixNone
	SpeedMPS   float64 // NaN when unknown
	CourseDeg  float64 // degrees true; NaN when unknown
	HDOP       float64 // NaN when unknown
	Sats       int     // -1 when unknown
	AltM       float64 // above mean sea level; NaN when unknown
	Arrival    time.Time
	DateSource DateSource
	Sentences  int // sentences merged
}

// Usable reports whether f may geotag a read.
func (f *Fix) Usable() bool { return f.Kind.Usable() && !f.Time.IsZero() }

// ClockState is the latest comparison of GPS time with the system clock.
type ClockState struct {
	Valid    bool          // a GPS time has been compared with the system clock
	Offset   time.Duration // GPS time minus system time at the sentence's arrival
	Suspect  bool          // |Offset| beyond the bound, or the receiver's date is corrupt
	Rollover bool          // the receiver's date was a whole number of week rollovers off
	At       time.Time     // system time of the comparison
}

// Source returns the clock source a read stamped now should carry.
func (c ClockState) Source() app.ClockSource {
	if c.Valid && !c.Suspect {
		return app.ClockGPS
	}
	return app.ClockSystem
}

// Tracker merges Reports into epochs and answers where the car was at a
// given instant. Update is called by one feeding goroutine; At, Latest and
// Clock may be called from any goroutine. Set fields before first use.
type Tracker struct {
	MaxGap           time.Duration    // DefaultMaxGap when 0
	MaxExtrapolation time.Duration    // DefaultMaxExtrapolation when 0; negative: never
	ClockBound       time.Duration    // DefaultClockBound when 0
	MinDate          time.Time        // DefaultMinDate when zero
	History          int              // DefaultHistory when 0
	Now              func() time.Time // time.Now when nil; stamps Latest's age
	// OnEpoch, when set, receives each epoch once it is closed (by the
	// next epoch's first sentence or by Flush), in receiver-time order. It
	// runs on the feeding goroutine and must not call back into the Tracker.
	OnEpoch func(Fix)

	mu      sync.RWMutex
	acc     epoch
	fixes   []Fix // ring, oldest first from head
	head    int
	n       int
	pending []Fix // epochs waiting for a date (replay only)
	last    struct {
		ok       bool
		day      time.Time // UTC midnight of the last dated epoch
		tod      time.Duration
		trusted  bool
		rollover bool
	}
	clock      ClockState
	emit       []Fix // epochs to hand to OnEpoch after unlocking
	stragglers int   // epochs dropped as older than the last filed
}

// Stragglers is the number of epochs dropped because their time was at or
// before (by less than a minute) an epoch already filed.
func (t *Tracker) Stragglers() int {
	t.mu.RLock()
	defer t.mu.RUnlock()
	return t.stragglers
}

var _ app.Locator = (*Tracker)(nil)

// NewTracker returns a Tracker with the defaults.
func NewTracker() *Tracker { return &Tracker{} }

// epoch accumulates one epoch's sentences.
type epoch struct {
	open, hasTOD bool
	tod          time.Duration
	arrival      time.Time
	sentences    int

	status     Status
	statusRank int

	hasPos   bool
	posRank  int
	lat, lon float64

	speed, course float64
	speedRank     int
	courseRank    int
	hdop          float64
	hdopRank      int
	alt           float64
	altRank       int
	sats          int
	satsRank      int
	gsaUsed       int
	gsaFix        int

	rmcDate, zdaDate time.Time
}

func (e *epoch) start(arrival time.Time) {
	*e = epoch{open: true, arrival: arrival, speed: math.NaN(), course: math.NaN(),
		hdop: math.NaN(), alt: math.NaN(), sats: -1}
}

// rank orders talkers: a combined solution (GN) outranks one constellation.
func rank(talker [2]byte) int {
	if talker == [2]byte{'G', 'N'} {
		return 2
	}
	return 1
}

// caution orders statuses: the more cautious wins among equal ranks.
var caution = [...]int{StatusUnknown: 0, StatusFix: 1, StatusDR: 2, StatusNone: 3, StatusManual: 4, StatusSim: 5}

func (e *epoch) merge(r *Report) {
	e.sentences++
	k := rank(r.Talker)
	if r.Status != StatusUnknown {
		if k > e.statusRank || e.status == StatusUnknown {
			e.status, e.statusRank = r.Status, k
		} else if k == e.statusRank && caution[r.Status] > caution[e.status] {
			e.status = r.Status
		}
	}
	if r.HasPos && k > e.posRank {
		e.hasPos, e.posRank, e.lat, e.lon = true, k, r.Lat, r.Lon
	}
	if !math.IsNaN(r.SpeedMPS) && k > e.speedRank {
		e.speed, e.speedRank = r.SpeedMPS, k
	}
	if !math.IsNaN(r.CourseDeg) && k > e.courseRank {
		e.course, e.courseRank = r.CourseDeg, k
	}
	if !math.IsNaN(r.HDOP) && k > e.hdopRank && r.Type != TypeGSA {
		e.hdop, e.hdopRank = r.HDOP, k
	}
	if !math.IsNaN(r.AltM) && k > e.altRank {
		e.alt, e.altRank = r.AltM, k
	}
	if r.Sats >= 0 && (k > e.satsRank || (r.Type == TypeGNS && k == e.satsRank)) {
		e.sats, e.satsRank = r.Sats, k
	}
	if r.Type == TypeGSA {
		e.gsaUsed += r.GSAUsed
		e.gsaFix = max(e.gsaFix, r.GSAFix)
		if math.IsNaN(e.hdop) && !math.IsNaN(r.HDOP) {
			e.hdop = r.HDOP // GSA's HDOP only when no GGA/GNS gave one
		}
	}
	if r.HasDate {
		d := time.Date(r.Year, r.Month, r.Day, 0, 0, 0, 0, time.UTC)
		if r.Type == TypeZDA {
			e.zdaDate = d
		} else {
			e.rmcDate = d
		}
	}
}

// kind decides the epoch's fix kind from what its sentences said. 2D or 3D
// follows the receiver's GSA when it sent one (gpsd instead calls any fix
// with a GGA altitude 3D), else the presence of an altitude.
func (e *epoch) kind() app.FixKind {
	if !e.hasPos {
		return app.FixNone
	}
	switch e.status {
	case StatusFix:
		switch {
		case e.gsaFix == 2:
			return app.Fix2D
		case e.gsaFix == 3 || !math.IsNaN(e.alt):
			return app.Fix3D
		}
		return app.Fix2D
	case StatusDR:
		return app.FixDR
	case StatusSim:
		return app.FixSim
	}
	return app.FixNone
}

func (t *Tracker) now() time.Time {
	if t.Now != nil {
		return t.Now()
	}
	return time.Now()
}

func (t *Tracker) minDate() time.Time {
	if t.MinDate.IsZero() {
		return DefaultMinDate
	}
	return t.MinDate
}

func (t *Tracker) bound() time.Duration {
	if t.ClockBound > 0 {
		return t.ClockBound
	}
	return DefaultClockBound
}

// Update merges one sentence's Report. arrival is the system time it was
// read (zero when replaying a file: there is no clock to compare with).
func (t *Tracker) Update(r *Report, arrival time.Time) {
	t.mu.Lock()
	if r.HasTime {
		if t.acc.open && t.acc.hasTOD && r.TOD != t.acc.tod {
			t.close()
		}
		if !t.acc.open {
			t.acc.start(arrival)
		}
		if !t.acc.hasTOD {
			t.acc.hasTOD, t.acc.tod = true, r.TOD
			if !arrival.IsZero() {
				t.acc.arrival = arrival
				t.sampleClock(r, arrival)
			}
		}
	} else if !t.acc.open {
		t.acc.start(arrival)
	}
	t.acc.merge(r)
	t.mu.Unlock()
	t.flushEmit()
}

// Flush closes the open epoch and releases epochs still waiting for a date
// (with a zero Time); call it at the end of a replay.
func (t *Tracker) Flush() {
	t.mu.Lock()
	if t.acc.open && t.acc.hasTOD {
		t.close()
	}
	t.acc = epoch{}
	for _, f := range t.pending {
		t.emit = append(t.emit, f)
	}
	t.pending = t.pending[:0]
	t.mu.Unlock()
	t.flushEmit()
}

func (t *Tracker) flushEmit() {
	if len(t.emit) == 0 {
		return
	}
	t.mu.Lock()
	out := t.emit
	t.emit = nil
	t.mu.Unlock()
	if t.OnEpoch != nil {
		for _, f := range out {
			t.OnEpoch(f)
		}
	}
}

// sampleClock compares the first timed sentence of an epoch with the
// system clock. Called with mu held.
func (t *Tracker) sampleClock(r *Report, arrival time.Time) {
	var day time.Time
	switch {
	case r.HasDate:
		day = time.Date(r.Year, r.Month, r.Day, 0, 0, 0, 0, time.UTC)
	case t.last.ok && t.last.trusted:
		day = t.last.day
		if r.TOD < t.last.tod-12*time.Hour {
			day = day.AddDate(0, 0, 1)
		}
	default:
		return
	}
	gps := day.Add(r.TOD)
	off := gps.Sub(arrival)
	roll := rollover(gps, arrival) || gps.Before(t.minDate())
	t.clock = ClockState{Valid: true, Offset: off, At: arrival, Rollover: roll,
		Suspect: roll || off > t.bound() || off < -t.bound()}
}

// rollover reports whether gps sits a whole number (1–3) of 1024-week
// periods before the system clock, within a day.
func rollover(gps, sys time.Time) bool {
	d := sys.Sub(gps)
	for k := 1; k <= 3; k++ {
		if r := d - time.Duration(k)*rolloverPeriod; r > -24*time.Hour && r < 24*time.Hour {
			return true
		}
	}
	return false
}

// close turns the open epoch into a Fix and files it. Called with mu held.
func (t *Tracker) close() {
	e := &t.acc
	f := Fix{TOD: e.tod, Kind: e.kind(), Lat: e.lat, Lon: e.lon, SpeedMPS: e.speed,
		CourseDeg: e.course, HDOP: e.hdop, Sats: e.sats, AltM: e.alt, Arrival: e.arrival,
		Sentences: e.sentences}
	if f.Sats < 0 && e.gsaUsed > 0 {
		f.Sats = e.gsaUsed
	}
	if f.Kind == app.FixNone {
		// Without a fix, the receiver's position, speed, course and
		// altitude are stale or invented: none of them is reported.
		f.Lat, f.Lon = 0, 0
		f.SpeedMPS, f.CourseDeg, f.AltM = math.NaN(), math.NaN(), math.NaN()
	}
	t.date(&f, e)
	e.open = false
	if f.DateSource == DateNone {
		t.pending = append(t.pending, f)
		if len(t.pending) > t.history() {
			// A log that never dates itself: release the oldest undated.
			if t.OnEpoch != nil {
				t.emit = append(t.emit, t.pending[0])
			}
			t.pending = append(t.pending[:0], t.pending[1:]...)
		}
		return
	}
	if f.DateSource == DateReceiver && len(t.pending) > 0 {
		t.backfill(f)
	}
	t.file(f)
}

// date gives f its date. Called with mu held.
func (t *Tracker) date(f *Fix, e *epoch) {
	d := e.rmcDate
	if d.IsZero() {
		d = e.zdaDate
	}
	suspect := !e.rmcDate.IsZero() && !e.zdaDate.IsZero() && !e.rmcDate.Equal(e.zdaDate)
	if !d.IsZero() {
		full := d.Add(e.tod)
		suspect = suspect || full.Before(t.minDate())
		if !e.arrival.IsZero() && rollover(full, e.arrival) {
			suspect = true
		}
		if !suspect {
			f.Time, f.DateSource = full, DateReceiver
			// Only a fix's date is carried to later epochs: receivers
			// without a fix report whatever their clock holds (tn200.log
			// dates its 2005 cold start 2020-01-26).
			if f.Kind.Usable() || !t.last.ok {
				t.last.ok, t.last.day, t.last.tod, t.last.trusted = true, d, e.tod, f.Kind.Usable()
			}
			return
		}
	}
	switch {
	case !suspect && t.last.ok && t.last.trusted:
		day := t.last.day
		if e.tod < t.last.tod-12*time.Hour {
			day = day.AddDate(0, 0, 1) // past midnight
		}
		f.Time, f.DateSource = day.Add(e.tod), DateCarried
		t.last.day, t.last.tod = day, e.tod
	case !e.arrival.IsZero():
		// Live: the system clock's day nearest to the arrival, with the
		// receiver's time of day (which rollovers do not corrupt).
		a := e.arrival.UTC()
		day := time.Date(a.Year(), a.Month(), a.Day(), 0, 0, 0, 0, time.UTC)
		full := day.Add(e.tod)
		if full.Sub(a) > 12*time.Hour {
			full = full.AddDate(0, 0, -1)
		} else if a.Sub(full) > 12*time.Hour {
			full = full.AddDate(0, 0, 1)
		}
		f.Time, f.DateSource = full, DateClock
		if suspect {
			t.clock.Rollover, t.clock.Suspect = true, true
		}
	case suspect:
		f.Time, f.DateSource, f.Kind = d.Add(e.tod), DateSuspect, app.FixNone
		f.Lat, f.Lon = 0, 0
		f.SpeedMPS, f.CourseDeg, f.AltM = math.NaN(), math.NaN(), math.NaN()
	}
}

// backfill dates the epochs that came before the first date, from it.
func (t *Tracker) backfill(f Fix) {
	day := f.Time.Add(-f.TOD)
	for i := len(t.pending) - 1; i >= 0; i-- {
		p := &t.pending[i]
		if p.TOD > f.TOD+12*time.Hour {
			day = day.AddDate(0, 0, -1) // before midnight
		}
		p.Time, p.DateSource = day.Add(p.TOD), DateCarried
		f = *p
	}
	for _, p := range t.pending {
		t.file(p)
	}
	t.pending = t.pending[:0]
}

// file appends f to the history (and the emit queue).
func (t *Tracker) file(f Fix) {
	hist := t.history()
	if len(t.fixes) != hist {
		t.fixes, t.head, t.n = make([]Fix, hist), 0, 0
	}
	if t.n > 0 {
		if last := t.at(t.n - 1); !f.Time.After(last.Time) {
			if last.Time.Sub(f.Time) < time.Minute {
				// A straggler from an epoch already filed (a sentence sent
				// late, or out of order): the history keeps the first.
				t.stragglers++
				return
			}
			// Time went back a long way (receiver reset, a log replayed
			// twice): the old history no longer lines up with the new.
			t.head, t.n = 0, 0
		}
	}
	if t.n == hist {
		t.fixes[t.head] = f
		t.head = (t.head + 1) % hist
	} else {
		t.fixes[(t.head+t.n)%hist] = f
		t.n++
	}
	if t.OnEpoch != nil {
		t.emit = append(t.emit, f)
	}
}

func (t *Tracker) history() int {
	if t.History > 0 {
		return t.History
	}
	return DefaultHistory
}

// at returns the i-th fix of the history, oldest first.
func (t *Tracker) at(i int) *Fix { return &t.fixes[(t.head+i)%len(t.fixes)] }

// Latest returns the most recent closed epoch and its age by Now; ok is
// false before the first.
func (t *Tracker) Latest() (f Fix, age time.Duration, ok bool) {
	t.mu.RLock()
	defer t.mu.RUnlock()
	if t.n == 0 {
		return Fix{}, 0, false
	}
	f = *t.at(t.n - 1)
	return f, t.now().Sub(f.Time), true
}

// Clock returns the latest GPS–system clock comparison.
func (t *Tracker) Clock() ClockState {
	t.mu.RLock()
	defer t.mu.RUnlock()
	return t.clock
}

// At returns the position at instant ts, taken as UTC on the receiver's
// time axis (a system-clock time maps onto it by adding Clock().Offset; the
// engine flags reads whose offset is beyond the bound rather than trusting
// a correction):
// the receiver's fix when one falls on ts; interpolated between two
// consecutive usable fixes at most MaxGap apart; dead-reckoned from the
// last usable fix by its speed and course for at most MaxExtrapolation;
// otherwise FixNone with Age from the last usable fix before ts (0 when
// there is none). Interpolated and extrapolated positions are Estimated.
// The epoch still arriving is used once it closes (at the next epoch's
// first sentence), so the newest fix is up to one epoch old: within the
// extrapolation limit at 1 Hz and faster.
func (t *Tracker) At(ts time.Time) app.Position {
	t.mu.RLock()
	defer t.mu.RUnlock()
	none := app.Position{Time: ts, Fix: app.FixNone, HeadingDeg: math.NaN(), AltM: math.NaN()}
	// i: the last fix at or before ts.
	i := sort.Search(t.n, func(i int) bool { return t.at(i).Time.After(ts) }) - 1
	if i < 0 {
		return none
	}
	a := t.at(i)
	if !a.Usable() {
		for j := i - 1; j >= 0; j-- {
			if p := t.at(j); p.Usable() {
				none.Age = ts.Sub(p.Time)
				break
			}
		}
		return none
	}
	if a.Time.Equal(ts) {
		return position(a, ts, false)
	}
	maxGap := t.MaxGap
	if maxGap == 0 {
		maxGap = DefaultMaxGap
	}
	if i+1 < t.n {
		if b := t.at(i + 1); b.Usable() && b.Time.Sub(a.Time) <= maxGap {
			return interpolate(a, b, ts)
		}
	}
	ext := t.MaxExtrapolation
	if ext == 0 {
		ext = DefaultMaxExtrapolation
	}
	if dt := ts.Sub(a.Time); dt <= ext {
		if p, ok := extrapolate(a, ts); ok {
			return p
		}
	}
	none.Age = ts.Sub(a.Time)
	return none
}

func position(f *Fix, ts time.Time, est bool) app.Position {
	p := app.Position{Time: ts, Fix: f.Kind, Lat: f.Lat, Lon: f.Lon, Age: ts.Sub(f.Time),
		Estimated: est, SpeedMPS: f.SpeedMPS, HeadingDeg: f.CourseDeg, HDOP: f.HDOP,
		Sats: max(f.Sats, 0), AltM: f.AltM}
	if math.IsNaN(p.SpeedMPS) {
		p.SpeedMPS = 0
	}
	if math.IsNaN(p.HDOP) {
		p.HDOP = 0
	}
	return p
}

// worse returns the less trustworthy of two usable kinds.
func worse(a, b app.FixKind) app.FixKind {
	order := func(k app.FixKind) int {
		switch k {
		case app.Fix3D:
			return 0
		case app.Fix2D:
			return 1
		}
		return 2 // dr
	}
	if order(b) > order(a) {
		return b
	}
	return a
}

func interpolate(a, b *Fix, ts time.Time) app.Position {
	w := float64(ts.Sub(a.Time)) / float64(b.Time.Sub(a.Time))
	p := position(a, ts, true)
	p.Fix = worse(a.Kind, b.Kind)
	p.Lat = a.Lat + (b.Lat-a.Lat)*w
	dlon := b.Lon - a.Lon
	if dlon > 180 {
		dlon -= 360
	} else if dlon < -180 {
		dlon += 360
	}
	p.Lon = wrapLon(a.Lon + dlon*w)
	if bt := ts.Sub(b.Time); -bt < p.Age {
		p.Age = -bt // the nearer fix
	}
	if !math.IsNaN(a.SpeedMPS) && !math.IsNaN(b.SpeedMPS) {
		p.SpeedMPS = a.SpeedMPS + (b.SpeedMPS-a.SpeedMPS)*w
	}
	if !math.IsNaN(a.CourseDeg) && !math.IsNaN(b.CourseDeg) {
		d := math.Mod(b.CourseDeg-a.CourseDeg+540, 360) - 180
		p.HeadingDeg = math.Mod(a.CourseDeg+d*w+360, 360)
	}
	if !math.IsNaN(b.HDOP) && b.HDOP > p.HDOP {
		p.HDOP = b.HDOP
	}
	if b.Sats >= 0 && b.Sats < p.Sats {
		p.Sats = b.Sats
	}
	if !math.IsNaN(a.AltM) && !math.IsNaN(b.AltM) {
		p.AltM = a.AltM + (b.AltM-a.AltM)*w
	}
	return p
}

// stationary is the speed below which a receiver's course is noise: the
// car is held where it was rather than dead-reckoned.
const stationary = 0.5 // m/s

const earthRadius = 6371008.8 // metres, mean

func extrapolate(a *Fix, ts time.Time) (app.Position, bool) {
	p := position(a, ts, true)
	if math.IsNaN(a.SpeedMPS) {
		return p, false
	}
	if a.SpeedMPS < stationary {
		return p, true
	}
	if math.IsNaN(a.CourseDeg) {
		return p, false
	}
	d := a.SpeedMPS * ts.Sub(a.Time).Seconds()
	c := a.CourseDeg * math.Pi / 180
	lat := a.Lat + d*math.Cos(c)/earthRadius*180/math.Pi
	cl := math.Cos(a.Lat * math.Pi / 180)
	if cl < 1e-6 || math.Abs(lat) >= 90 {
		return p, false
	}
	p.Lat = lat
	p.Lon = wrapLon(a.Lon + d*math.Sin(c)/(earthRadius*cl)*180/math.Pi)
	return p, true
}

func wrapLon(l float64) float64 {
	if l > 180 {
		return l - 360
	}
	if l < -180 {
		return l + 360
	}
	return l
}
