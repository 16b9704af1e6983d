package gps

import (
	"math"
	"strings"
	"testing"
	"time"

	"github.com/ukanpr/anpr/app"
)

// feed decodes lines into tr, each arriving at arrival (zero: replay).
func feed(t testing.TB, tr *Tracker, arrival time.Time, lines ...string) {
	t.Helper()
	d := NewDecoder(strings.NewReader(strings.Join(lines, "")))
	var rep Report
	for d.Next(&rep) == nil {
		tr.Update(&rep, arrival)
	}
	if st := d.Stats(); st.Dropped() != 0 {
		t.Fatalf("test input dropped: %s", st)
	}
}

// rmcAt and ggaAt build sentences; pos is "ddmm.mmmm,N,dddmm.mmmm,W".
func rmcAt(hhmmss, status, pos, knots, course, date, mode string) string {
	return withSum("$GPRMC," + hhmmss + "," + status + "," + pos + "," + knots + "," + course + "," + date + ",,," + mode)
}

func ggaAt(talker, hhmmss, pos, q string) string {
	return withSum("$" + talker + "GGA," + hhmmss + "," + pos + "," + q + ",08,0.9,35.0,M,47.0,M,,")
}

const (
	london  = "5130.0000,N,00007.5000,W" // 51.5, -0.125
	london2 = "5130.0600,N,00007.5000,W" // 0.001° (≈111 m) north
)

func day(h, m, s int) time.Time { return time.Date(2025, 10, 10, h, m, s, 0, time.UTC) }

func TestTrackerEpochs(t *testing.T) {
	tests := []struct {
		name  string
		lines []string
		kind  app.FixKind
	}{
		{"RMC+GGA 3D", []string{rmcAt("120000", "A", london, "0.0", "0.0", "101025", "A"), ggaAt("GP", "120000", london, "1")}, app.Fix3D},
		{"RMC only is 2D", []string{rmcAt("120000", "A", london, "0.0", "0.0", "101025", "A")}, app.Fix2D},
		{"GSA says 2D", []string{rmcAt("120000", "A", london, "0.0", "0.0", "101025", "A"), ggaAt("GP", "120000", london, "1"), withSum("$GPGSA,A,2,01,02,03,,,,,,,,,,2.0,1.0,1.7")}, app.Fix2D},
		{"RMC V beats GGA fix", []string{rmcAt("120000", "V", london, "0.0", "0.0", "101025", "N"), ggaAt("GP", "120000", london, "1")}, app.FixNone},
		{"GN outranks GP", []string{rmcAt("120000", "V", london, "0.0", "0.0", "101025", "N"), ggaAt("GN", "120000", london, "1")}, app.Fix3D},
		{"estimated", []string{rmcAt("120000", "V", london, "0.0", "0.0", "101025", "E"), ggaAt("GP", "120000", london, "6")}, app.FixDR},
		{"simulator", []string{rmcAt("120000", "A", london, "0.0", "0.0", "101025", "S"), ggaAt("GP", "120000", london, "8")}, app.FixSim},
		{"sim in one sentence taints the epoch", []string{rmcAt("120000", "A", london, "0.0", "0.0", "101025", "A"), ggaAt("GP", "120000", london, "8")}, app.FixSim},
		{"manual is no fix", []string{rmcAt("120000", "A", london, "0.0", "0.0", "101025", "M")}, app.FixNone},
		{"placeholder with a fix status", []string{rmcAt("120000", "A", "9000.0000,N,00000.0000,E", "0.0", "0.0", "101025", "A")}, app.FixNone},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var got []Fix
			tr := &Tracker{OnEpoch: func(f Fix) { got = append(got, f) }}
			feed(t, tr, time.Time{}, tt.lines...)
			tr.Flush()
			if len(got) != 1 {
				t.Fatalf("got %d epochs, want 1", len(got))
			}
			f := got[0]
			if f.Kind != tt.kind {
				t.Errorf("kind %s, want %s", f.Kind, tt.kind)
			}
			if !f.Time.Equal(day(12, 0, 0)) {
				t.Errorf("time %v", f.Time)
			}
			if f.Kind == app.FixSim && f.Usable() {
				t.Error("a simulator fix is usable")
			}
			if f.Kind != app.FixNone && (!near(f.Lat, 51.5) || !near(f.Lon, -0.125)) {
				t.Errorf("position %v,%v", f.Lat, f.Lon)
			}
			p := tr.At(day(12, 0, 0))
			if p.Fix.Usable() != tt.kind.Usable() {
				t.Errorf("At: fix %s, want usable=%v", p.Fix, tt.kind.Usable())
			}
		})
	}
}

// TestTrackerDates: dates the receiver's rollover corrupted are not trusted.
func TestTrackerDates(t *testing.T) {
	sys := day(12, 0, 0).Add(300 * time.Millisecond) // system time at arrival
	tests := []struct {
		name    string
		minDate time.Time
		arrival time.Time
		lines   []string
		want    time.Time
		src     DateSource
		kind    app.FixKind
		roll    bool
	}{
		{"good date, live", time.Time{}, sys, []string{rmcAt("120000", "A", london, "0.0", "0.0", "101025", "A")}, day(12, 0, 0), DateReceiver, app.Fix2D, false},
		{"rolled over 1024 weeks, live: clock's date", time.Time{}, sys,
			[]string{rmcAt("120000", "A", london, "0.0", "0.0", "240206", "A")}, day(12, 0, 0), DateClock, app.Fix2D, true},
		{"before MinDate, live: clock's date", time.Time{}, sys,
			[]string{rmcAt("120000", "A", london, "0.0", "0.0", "010118", "A")}, day(12, 0, 0), DateClock, app.Fix2D, true},
		{"before MinDate, replay: no fix", time.Time{}, time.Time{},
			[]string{rmcAt("120000", "A", london, "0.0", "0.0", "240206", "A")}, time.Date(2006, 2, 24, 12, 0, 0, 0, time.UTC), DateSuspect, app.FixNone, false},
		{"ZDA disagrees with RMC, replay: no fix", GPSEpoch, time.Time{},
			[]string{rmcAt("120000", "A", london, "0.0", "0.0", "101025", "A"), withSum("$GPZDA,120000.00,24,02,2006,,")}, day(12, 0, 0), DateSuspect, app.FixNone, false},
		{"old log, replay with GPS epoch floor", GPSEpoch, time.Time{},
			[]string{rmcAt("120000", "A", london, "0.0", "0.0", "240206", "A")}, time.Date(2006, 2, 24, 12, 0, 0, 0, time.UTC), DateReceiver, app.Fix2D, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var got []Fix
			tr := &Tracker{MinDate: tt.minDate, OnEpoch: func(f Fix) { got = append(got, f) }}
			feed(t, tr, tt.arrival, tt.lines...)
			tr.Flush()
			if len(got) != 1 {
				t.Fatalf("got %d epochs", len(got))
			}
			f := got[0]
			if !f.Time.Equal(tt.want) || f.DateSource != tt.src || f.Kind != tt.kind {
				t.Errorf("got %v from %s kind %s; want %v from %s kind %s", f.Time, f.DateSource, f.Kind, tt.want, tt.src, tt.kind)
			}
			if c := tr.Clock(); !tt.arrival.IsZero() && (c.Rollover != tt.roll || c.Suspect != tt.roll) {
				t.Errorf("clock %+v, want rollover %v", c, tt.roll)
			}
		})
	}
}

func TestTrackerDateCarryAndBackfill(t *testing.T) {
	var got []Fix
	tr := &Tracker{MinDate: GPSEpoch, OnEpoch: func(f Fix) { got = append(got, f) }}
	feed(t, tr, time.Time{},
		ggaAt("GP", "235958", london, "1"), // no date yet: held until one comes
		ggaAt("GP", "235959", london, "1"),
		rmcAt("000000", "A", london, "0.0", "0.0", "111025", "A"), // after midnight
		ggaAt("GP", "000001", london, "1"),                        // date carried
	)
	tr.Flush()
	want := []time.Time{day(23, 59, 58), day(23, 59, 59), day(24, 0, 0), day(24, 0, 1)}
	if len(got) != len(want) {
		t.Fatalf("got %d epochs, want %d", len(got), len(want))
	}
	for i, f := range got {
		if !f.Time.Equal(want[i]) {
			t.Errorf("epoch %d: %v, want %v (%s)", i, f.Time, want[i], f.DateSource)
		}
	}
}

func TestTrackerClock(t *testing.T) {
	tests := []struct {
		name    string
		late    time.Duration // system clock minus GPS time
		bound   time.Duration
		suspect bool
	}{
		{"serial latency", 350 * time.Millisecond, 0, false},
		{"system clock 3 s fast", 3 * time.Second, 0, true},
		{"system clock 2 s slow", -2 * time.Second, 0, true},
		{"custom bound", 3 * time.Second, 5 * time.Second, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			tr := &Tracker{ClockBound: tt.bound}
			feed(t, tr, day(12, 0, 0).Add(tt.late), rmcAt("120000", "A", london, "0.0", "0.0", "101025", "A"))
			c := tr.Clock()
			if !c.Valid || c.Offset != -tt.late || c.Suspect != tt.suspect {
				t.Errorf("clock %+v, want offset %v suspect %v", c, -tt.late, tt.suspect)
			}
			want := app.ClockGPS
			if tt.suspect {
				want = app.ClockSystem
			}
			if c.Source() != want {
				t.Errorf("source %s, want %s", c.Source(), want)
			}
		})
	}
}

func TestTrackerAt(t *testing.T) {
	tr := &Tracker{MinDate: GPSEpoch, MaxGap: 3 * time.Second, MaxExtrapolation: 2 * time.Second}
	// 12:00:00 and 12:00:01 fixes 0.001° apart, moving north at 10 m/s;
	// no fix at 12:00:02; a fix again at 12:00:10, then nothing.
	feed(t, tr, time.Time{},
		rmcAt("120000", "A", london, "19.4384", "0.0", "101025", "A"), ggaAt("GP", "120000", london, "1"),
		rmcAt("120001", "A", london2, "19.4384", "0.0", "101025", "A"), ggaAt("GP", "120001", london2, "1"),
		rmcAt("120002", "V", london2, "", "", "101025", "N"),
		rmcAt("120010", "A", london, "0.0", "", "101025", "A"),
		rmcAt("120020", "A", london, "0.0", "", "101025", "A"),
	)
	tr.Flush()
	ms := time.Millisecond
	tests := []struct {
		name      string
		at        time.Time
		fix       app.FixKind
		lat       float64
		estimated bool
		age       time.Duration
	}{
		{"on a fix", day(12, 0, 0), app.Fix3D, 51.5, false, 0},
		{"interpolated", day(12, 0, 0).Add(250 * ms), app.Fix3D, 51.5 + 0.00025, true, 250 * ms},
		{"interpolated, nearer the second", day(12, 0, 0).Add(900 * ms), app.Fix3D, 51.5 + 0.0009, true, 100 * ms},
		{"after a no-fix epoch", day(12, 0, 5), app.FixNone, 0, false, 4 * time.Second},
		{"stationary, extrapolated", day(12, 0, 11), app.Fix2D, 51.5, true, time.Second},
		{"too long after the last fix", day(12, 0, 13), app.FixNone, 0, false, 3 * time.Second},
		{"before any fix", day(11, 0, 0), app.FixNone, 0, false, 0},
		{"gap too long to interpolate, within extrapolation", day(12, 0, 11).Add(500 * ms), app.Fix2D, 51.5, true, 1500 * ms},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			p := tr.At(tt.at)
			if p.Fix != tt.fix || p.Estimated != tt.estimated || p.Age != tt.age || !p.Time.Equal(tt.at) {
				t.Errorf("got fix %s estimated %v age %v time %v; want %s %v %v", p.Fix, p.Estimated, p.Age, p.Time, tt.fix, tt.estimated, tt.age)
			}
			if tt.fix != app.FixNone && math.Abs(p.Lat-tt.lat) > 1e-9 {
				t.Errorf("lat %.9f, want %.9f", p.Lat, tt.lat)
			}
		})
	}
}

func TestTrackerExtrapolatesAlongCourse(t *testing.T) {
	tr := &Tracker{MinDate: GPSEpoch}
	// 20 m/s due east.
	feed(t, tr, time.Time{}, rmcAt("120000", "A", london, "38.8769", "90.0", "101025", "A"))
	tr.Flush()
	p := tr.At(day(12, 0, 1))
	if !p.Estimated || p.Fix != app.Fix2D {
		t.Fatalf("got %+v", p)
	}
	east := (p.Lon + 0.125) * math.Pi / 180 * earthRadius * math.Cos(51.5*math.Pi/180)
	if math.Abs(east-20) > 0.05 || math.Abs(p.Lat-51.5) > 1e-9 {
		t.Errorf("moved %.3f m east, lat %.9f; want 20 m east", east, p.Lat)
	}
	if q := tr.At(day(12, 0, 3)); q.Fix != app.FixNone || q.Age != 3*time.Second {
		t.Errorf("beyond the extrapolation limit: %+v", q)
	}
}

func TestTrackerLatest(t *testing.T) {
	now := day(12, 0, 5)
	tr := &Tracker{Now: func() time.Time { return now }}
	if _, _, ok := tr.Latest(); ok {
		t.Fatal("latest before any epoch")
	}
	feed(t, tr, day(12, 0, 0), rmcAt("120000", "A", london, "0.0", "0.0", "101025", "A"), rmcAt("120001", "A", london, "0.0", "0.0", "101025", "A"))
	f, age, ok := tr.Latest()
	if !ok || !f.Time.Equal(day(12, 0, 0)) || age != 5*time.Second {
		t.Errorf("latest %v age %v ok %v", f.Time, age, ok)
	}
}

func TestTrackerHistoryBounded(t *testing.T) {
	tr := &Tracker{MinDate: GPSEpoch, History: 10}
	for i := 0; i < 100; i++ {
		ts := day(12, 0, 0).Add(time.Duration(i) * time.Second).Format("150405")
		feed(t, tr, time.Time{}, rmcAt(ts, "A", london, "0.0", "0.0", "101025", "A"))
	}
	tr.Flush()
	if tr.n != 10 {
		t.Errorf("history holds %d, want 10", tr.n)
	}
	if p := tr.At(day(12, 0, 50)); p.Fix != app.FixNone {
		t.Errorf("a fix older than the history answered: %+v", p)
	}
	if p := tr.At(day(12, 1, 39)); p.Fix != app.Fix2D || p.Estimated {
		t.Errorf("latest fix: %+v", p)
	}
}

func TestTrackerUndatedBounded(t *testing.T) {
	var undated int
	tr := &Tracker{MinDate: GPSEpoch, History: 5, OnEpoch: func(f Fix) {
		if f.Time.IsZero() && f.DateSource == DateNone {
			undated++
		}
	}}
	for i := 0; i < 50; i++ {
		ts := day(12, 0, 0).Add(time.Duration(i) * time.Second).Format("150405")
		feed(t, tr, time.Time{}, ggaAt("GP", ts, london, "1"))
	}
	if len(tr.pending) > 5 || undated != 44 {
		t.Errorf("pending %d, released undated %d; want at most 5 held and 44 released", len(tr.pending), undated)
	}
	tr.Flush()
	if undated != 50 {
		t.Errorf("after Flush %d undated epochs released, want 50", undated)
	}
}

// TestTrackerConcurrentAt: the engine asks while the feed updates (run
// with -race).
func TestTrackerConcurrentAt(t *testing.T) {
	tr := &Tracker{MinDate: GPSEpoch, History: 8}
	done := make(chan struct{})
	go func() {
		defer close(done)
		for i := 0; i < 200; i++ {
			ts := day(12, 0, 0).Add(time.Duration(i) * time.Second).Format("150405")
			feed(t, tr, time.Time{}, rmcAt(ts, "A", london, "0.0", "0.0", "101025", "A"))
		}
	}()
	for i := 0; ; i++ {
		select {
		case <-done:
			if p := tr.At(day(12, 3, 18)); p.Fix != app.Fix2D {
				t.Errorf("after the feed: %+v", p)
			}
			return
		default:
			p := tr.At(day(12, 0, 0).Add(time.Duration(i%200) * time.Second))
			if p.Fix == app.FixSim || (p.Fix != app.FixNone && !near(p.Lat, 51.5)) {
				t.Fatalf("At during updates: %+v", p)
			}
			tr.Clock()
			tr.Latest()
		}
	}
}

// TestTrackerNoFixDateNotCarried: a receiver without a fix dates its
// sentences from whatever its clock holds; that date labels its own epoch
// but is not carried to the next.
func TestTrackerNoFixDateNotCarried(t *testing.T) {
	var got []Fix
	tr := &Tracker{MinDate: GPSEpoch, OnEpoch: func(f Fix) { got = append(got, f) }}
	feed(t, tr, time.Time{},
		"$GPRMC,000416.984,V,36000.0000,N,72000.0000,E,0.000000,,260120,,*3B\r\n", // cold start, garbage date
		ggaAt("GP", "120000", london, "1"),                                        // first fix, no date of its own
		rmcAt("120001", "A", london, "0.0", "0.0", "101025", "A"),
	)
	tr.Flush()
	if len(got) != 3 {
		t.Fatalf("got %d epochs", len(got))
	}
	if !got[1].Time.Equal(day(12, 0, 0)) || got[1].DateSource != DateCarried || got[1].Kind != app.Fix3D {
		t.Errorf("first fix dated %v (%s) kind %s, want %v from the next fix's date", got[1].Time, got[1].DateSource, got[1].Kind, day(12, 0, 0))
	}
}
