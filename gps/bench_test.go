package gps

import (
	"bytes"
	"fmt"
	"os"
	"path/filepath"
	"testing"
	"time"
)

// benchInput concatenates the real captures (../shared when present, else
// testdata/nmea), comment lines removed, and counts their sentences.
func benchInput(b *testing.B) ([]byte, int) {
	root := repoRoot(b)
	logs, _ := filepath.Glob(filepath.Join(root, "..", "shared", "data", "nmea", "*.log"))
	if len(logs) == 0 {
		logs, _ = filepath.Glob(filepath.Join(root, "testdata", "nmea", "*.log"))
	}
	var all []byte
	for _, l := range logs {
		raw, err := os.ReadFile(l)
		if err != nil {
			b.Fatal(err)
		}
		all = append(all, nmeaOnly(raw)...)
	}
	// Count what the decoder frames: accepted and dropped sentences alike.
	d := NewDecoder(bytes.NewReader(all))
	var rep Report
	for d.Next(&rep) == nil {
	}
	st := d.Stats()
	return all, int(st.Sentences + st.Dropped())
}

// BenchmarkDecodeTrack measures the whole parse + track path on one core:
// framing, checksums, parsing (fast path and go-nmea), epoch merging.
func BenchmarkDecodeTrack(b *testing.B) {
	input, sentences := benchInput(b)
	for _, tc := range []struct {
		name string
		slow bool
	}{{"fast", false}, {"go-nmea-only", true}} {
		b.Run(fmt.Sprintf("path=%s/sentences=%d", tc.name, sentences), func(b *testing.B) {
			b.SetBytes(int64(len(input)))
			b.ReportAllocs()
			arrival := time.Date(2025, 1, 1, 0, 0, 0, 0, time.UTC)
			cpu0 := cpuTime()
			for b.Loop() {
				tr := &Tracker{MinDate: GPSEpoch}
				d := NewDecoder(bytes.NewReader(input))
				d.parser.slow = tc.slow
				var rep Report
				for d.Next(&rep) == nil {
					tr.Update(&rep, arrival)
				}
			}
			// Wall-clock rate, and the rate per second of CPU the process
			// actually got: on a shared, loaded machine the second is the
			// one-core figure.
			cpu := cpuTime() - cpu0
			b.ReportMetric(float64(sentences)*float64(b.N)/b.Elapsed().Seconds(), "sentences/s")
			if cpu > 0 {
				b.ReportMetric(float64(sentences)*float64(b.N)/cpu.Seconds(), "sentences/cpu-s")
			}
		})
	}
}

// BenchmarkAt measures the engine's look-up.
func BenchmarkAt(b *testing.B) {
	input, _ := benchInput(b)
	var last Fix
	tr := &Tracker{MinDate: GPSEpoch, OnEpoch: func(f Fix) {
		if f.Usable() {
			last = f
		}
	}}
	if _, err := Replay(bytes.NewReader(input), tr); err != nil {
		b.Fatal(err)
	}
	at := last.Time.Add(-300 * time.Millisecond)
	for b.Loop() {
		tr.At(at)
	}
}
