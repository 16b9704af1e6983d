package gps

import (
	"bytes"
	"math"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/ukanpr/anpr/app"
)

// seedLines adds every line of the testdata captures as fuzz seeds.
func seedLines(f *testing.F) {
	logs, _ := filepath.Glob(filepath.Join(repoRoot(f), "testdata", "nmea", "*.log"))
	for _, l := range logs {
		b, err := os.ReadFile(l)
		if err != nil {
			f.Fatal(err)
		}
		for _, line := range bytes.SplitAfter(b, []byte("\n")) {
			if len(line) > 0 && line[0] == '$' {
				f.Add(line)
			}
		}
	}
	f.Add([]byte("$$GPRMC,000416.984,V,36000.0000,N,72000.0000,E,0.000000,,260120,,*3B\r\n\x00\x00"))
	f.Add([]byte("$GPGSA,A,3,25,32,,,,,,,,,,,5.1,1.3,4.9,3.3*3D\r\n"))
	f.Add([]byte("$GPGGA,165010.000,4143.6057,N,08338.0788,W,6,00,50.0,203.8,M,-33.7,M,,0000*5D\r\n"))
}

// FuzzDecoder: whatever the bytes, decoding neither panics nor produces a
// position outside the globe, and the counts add up.
func FuzzDecoder(f *testing.F) {
	seedLines(f)
	f.Fuzz(func(t *testing.T, b []byte) {
		d := NewDecoder(bytes.NewReader(b))
		var rep Report
		n := 0
		for d.Next(&rep) == nil {
			n++
			if rep.HasPos && (placeholder(rep.Lat, rep.Lon) || math.IsNaN(rep.Lat)) {
				t.Fatalf("position %v,%v from %q", rep.Lat, rep.Lon, b)
			}
			if rep.HasTime && (rep.TOD < 0 || rep.TOD > 24*time.Hour+time.Second) {
				t.Fatalf("time of day %v", rep.TOD)
			}
		}
		st := d.Stats()
		if st.Used != int64(n) || st.Used > st.Sentences {
			t.Fatalf("stats %+v after %d reports", st, n)
		}
		if st.GarbageBytes > int64(len(b)) {
			t.Fatalf("more garbage than input: %+v", st)
		}
	})
}

// FuzzFastPathAgrees holds the hand-written RMC/GGA path to go-nmea's
// (with the tolerant parsers): same acceptance, same values.
func FuzzFastPathAgrees(f *testing.F) {
	seedLines(f)
	f.Fuzz(func(t *testing.T, b []byte) {
		fast := NewDecoder(bytes.NewReader(b))
		slow := NewDecoder(bytes.NewReader(b))
		slow.parser.slow = true
		var a, c Report
		for {
			ea, ec := fast.Next(&a), slow.Next(&c)
			if (ea == nil) != (ec == nil) {
				t.Fatalf("fast %v, go-nmea %v on %q (fast stats %+v, slow %+v)", ea, ec, b, fast.Stats(), slow.Stats())
			}
			if ea != nil {
				break
			}
			if diff := reportDiff(a, c); diff != "" {
				t.Fatalf("%q: fast path differs from go-nmea: %s", b, diff)
			}
		}
	})
}

// FuzzTracker: any byte stream, any query time: At never panics, never
// answers a sim fix, and a usable answer is on the globe.
func FuzzTracker(f *testing.F) {
	logs, _ := filepath.Glob(filepath.Join(repoRoot(f), "testdata", "nmea", "*.log"))
	for _, l := range logs {
		b, _ := os.ReadFile(l)
		f.Add(b, int64(0))
		f.Add(b, int64(1500))
	}
	f.Fuzz(func(t *testing.T, b []byte, offsetMS int64) {
		var last Fix
		tr := &Tracker{MinDate: GPSEpoch, History: 16, OnEpoch: func(f Fix) {
			if f.Kind == app.FixSim && f.Usable() {
				t.Fatal("sim fix usable")
			}
			if !f.Time.IsZero() {
				last = f
			}
		}}
		if _, err := Replay(bytes.NewReader(b), tr); err != nil {
			t.Fatal(err)
		}
		if last.Time.IsZero() {
			return
		}
		p := tr.At(last.Time.Add(time.Duration(offsetMS%10000) * time.Millisecond))
		if p.Fix == app.FixSim {
			t.Fatal("At answered a simulator fix")
		}
		if p.Fix.Usable() && (math.IsNaN(p.Lat) || math.Abs(p.Lat) > 90 || math.Abs(p.Lon) > 180) {
			t.Fatalf("At answered %+v", p)
		}
	})
}
