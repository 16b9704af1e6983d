package gps

import (
	"strings"
	"testing"

	nmea "github.com/adrianmo/go-nmea"
)

// TestTolerantParsersNeeded shows, for each sentence real receivers send,
// that stock go-nmea v1.10.0 rejects it and the Decoder keeps it. When a
// go-nmea upgrade accepts one, this test says so, and that tolerant parser
// can go.
func TestTolerantParsersNeeded(t *testing.T) {
	tests := []struct {
		name, line string
		check      func(Report) bool
	}{
		{"GSA fractional system id (beidou-bd.log)", "$GPGSA,A,3,25,32,,,,,,,,,,,5.1,1.3,4.9,3.3*3D",
			func(r Report) bool { return r.GSAFix == 3 && r.HDOP == 1.3 }},
		{"RMC placeholder 36000.0000 (tn200.log)", "$GPRMC,000416.984,V,36000.0000,N,72000.0000,E,0.000000,,260120,,*3B",
			func(r Report) bool { return r.HasTime && !r.HasPos && r.Placeholder && r.Status == StatusNone }},
		{"RMC without magnetic variation E/W", strings.TrimSuffix(withSum("$GPRMC,043539.00,A,4333.190206,N,00127.618380,E,0.0,,040925,1.7"), "\r\n"),
			func(r Report) bool { return r.HasPos && r.Status == StatusFix }},
		{"RMC ending at the date", strings.TrimSuffix(withSum("$GPRMC,043539.00,A,4333.190206,N,00127.618380,E,0.0,,040925"), "\r\n"),
			func(r Report) bool { return r.HasPos && r.HasDate }},
		{"GGA quality 8 simulator", strings.TrimSuffix(withSum("$GNGGA,120000.00,5130.0000,N,00007.0000,W,8,12,0.9,30.0,M,45.0,M,,"), "\r\n"),
			func(r Report) bool { return r.Status == StatusSim }},
		{"GGA quality 7 manual", strings.TrimSuffix(withSum("$GPGGA,120000.00,5130.0000,N,00007.0000,W,7,00,,,M,,M,,"), "\r\n"),
			func(r Report) bool { return r.Status == StatusManual }},
		{"GNS with an unknown mode character", strings.TrimSuffix(withSum("$GNGNS,043539.00,4333.190206,N,00127.618380,E,AAV,14,1.3,250.8,50.0,,,V"), "\r\n"),
			func(r Report) bool { return r.Status == StatusFix && r.Sats == 14 }},
		{"GLL placeholder 0/0 without hemispheres", strings.TrimSuffix(withSum("$GPGLL,0000.0000,,00000.0000,,120000.00,V,N"), "\r\n"),
			func(r Report) bool { return r.HasTime && !r.HasPos && r.Status == StatusNone }},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if _, err := nmea.Parse(tt.line); err == nil {
				t.Errorf("stock go-nmea now accepts %q: its tolerant parser may no longer be needed", tt.line)
			}
			reps, st := decodeAll(t, tt.line+"\r\n", false, false)
			slow, _ := decodeAll(t, tt.line+"\r\n", true, false)
			if len(reps) != 1 || len(slow) != 1 {
				t.Fatalf("decoder dropped it: %s", st)
			}
			if !tt.check(reps[0]) || !tt.check(slow[0]) {
				t.Errorf("fast %+v\ngo-nmea %+v", reps[0], slow[0])
			}
		})
	}
}
