package gps

import (
	"errors"
	"fmt"
	"io"
	"math"
	"strings"
	"testing"
	"time"
)

// withSum appends the checksum and CRLF to a sentence written without them.
func withSum(s string) string {
	return fmt.Sprintf("%s*%02X\r\n", s, xor([]byte(s[1:])))
}

func decodeAll(t testing.TB, in string, slow, require bool) ([]Report, Stats) {
	d := NewDecoder(strings.NewReader(in))
	d.parser.slow = slow
	d.RequireChecksum = require
	var out []Report
	var rep Report
	for {
		err := d.Next(&rep)
		if err != nil {
			if !errors.Is(err, io.EOF) {
				t.Fatalf("Next: %v", err)
			}
			return out, d.Stats()
		}
		out = append(out, rep)
	}
}

const (
	rmcOK = "$GPRMC,081836,A,3751.65,S,14507.36,E,000.0,360.0,130998,011.3,E*62\r\n"
	ggaOK = "$GPGGA,092750.000,5321.6802,N,00630.3372,W,1,8,1.03,61.7,M,55.2,M,,*76\r\n"
)

func TestDecoderFraming(t *testing.T) {
	tests := []struct {
		name string
		in   string
		used int
		want Stats // only the non-zero fields named here are checked
	}{
		{"clean", rmcOK + ggaOK, 2, Stats{Sentences: 2, Used: 2}},
		{"LF only", strings.ReplaceAll(rmcOK+ggaOK, "\r\n", "\n"), 2, Stats{Sentences: 2}},
		{"doubled $ framing", "$" + rmcOK + "$$" + ggaOK, 2, Stats{Sentences: 2}},
		{"NUL and binary between sentences", "\x00\x00\xb5\x62\x01\x07" + rmcOK + "\x00\xff" + ggaOK, 2, Stats{GarbageBytes: 8}},
		{"binary inside a sentence", rmcOK[:20] + "\x00" + rmcOK[20:] + ggaOK, 1, Stats{Binary: 1}},
		{"truncated by the next $", rmcOK[:30] + ggaOK, 1, Stats{Truncated: 1}},
		{"truncated at end of input", ggaOK + rmcOK[:40], 1, Stats{Truncated: 1}},
		{"bad checksum", strings.Replace(rmcOK, "*62", "*63", 1) + ggaOK, 1, Stats{BadChecksum: 1}},
		{"malformed checksum", strings.Replace(rmcOK, "*62", "*6", 1) + ggaOK, 1, Stats{BadChecksum: 1}},
		{"lower-case checksum", "$GPGSA,A,3,25,32,,,,,,,,,,,5.1,1.3,4.9,3.3*3d\r\n", 1, Stats{Used: 1}},
		{"missing checksum, complete", strings.TrimSuffix(rmcOK, "*62\r\n") + "\r\n", 1, Stats{NoChecksum: 1, Used: 1}},
		{"missing checksum, fields cut short", "$GPGGA,012530.562,4131.7353,N,09336.8150,W,0,00,50.\r\n" + rmcOK, 1, Stats{Malformed: 1}},
		{"over-long line", "$GPTXT," + strings.Repeat("A", 300) + "\r\n" + rmcOK, 1, Stats{TooLong: 1}},
		{"proprietary", withSum("$PGRME,15.0,M,45.0,M,25.0,M") + withSum("$PJLTS,-0.39,-2.74,157848") + rmcOK, 1, Stats{Proprietary: 2}},
		{"AIS", "!AIVDM,1,1,,A,13aGmP0P00PD;88MD5MTDww@2<0L,0*23\r\n" + rmcOK, 1, Stats{Encapsulated: 1}},
		{"unused standard sentences", withSum("$GPGSV,1,1,01,01,10,158,45") + withSum("$GNGST,171926.00,24,5.3,3.9,70,3.9,4.5,7.3") + rmcOK, 1, Stats{Unused: 2}},
		{"bad address", withSum("$GP,1,2") + withSum("$gprmc,1") + rmcOK, 1, Stats{Malformed: 2}},
		{"empty sentence", "$\r\n$*00\r\n" + rmcOK, 1, Stats{}},
		{"only garbage", "hello \x01\x02 world", 0, Stats{GarbageBytes: 12}},
	}
	for _, tt := range tests {
		for _, slow := range []bool{false, true} {
			t.Run(fmt.Sprintf("%s/slow=%v", tt.name, slow), func(t *testing.T) {
				reps, st := decodeAll(t, tt.in, slow, false)
				if len(reps) != tt.used {
					t.Errorf("used %d sentences, want %d; stats %+v", len(reps), tt.used, st)
				}
				check := func(name string, got, want int64) {
					if want != 0 && got != want {
						t.Errorf("%s = %d, want %d (stats %+v)", name, got, want, st)
					}
				}
				check("Sentences", st.Sentences, tt.want.Sentences)
				check("Used", st.Used, tt.want.Used)
				check("Unused", st.Unused, tt.want.Unused)
				check("Proprietary", st.Proprietary, tt.want.Proprietary)
				check("Encapsulated", st.Encapsulated, tt.want.Encapsulated)
				check("NoChecksum", st.NoChecksum, tt.want.NoChecksum)
				check("BadChecksum", st.BadChecksum, tt.want.BadChecksum)
				check("Truncated", st.Truncated, tt.want.Truncated)
				check("TooLong", st.TooLong, tt.want.TooLong)
				check("Binary", st.Binary, tt.want.Binary)
				check("Malformed", st.Malformed, tt.want.Malformed)
				check("GarbageBytes", st.GarbageBytes, tt.want.GarbageBytes)
				if st.Used != int64(len(reps)) {
					t.Errorf("Stats.Used = %d, but %d reports came out", st.Used, len(reps))
				}
			})
		}
	}
}

func TestDecoderRequireChecksum(t *testing.T) {
	in := strings.TrimSuffix(rmcOK, "*62\r\n") + "\r\n" + ggaOK
	reps, st := decodeAll(t, in, false, true)
	if len(reps) != 1 || st.MissingChecksum != 1 {
		t.Errorf("got %d reports, stats %+v; want 1 and MissingChecksum 1", len(reps), st)
	}
}

func TestDecoderComments(t *testing.T) {
	in := "# Name: x\n#Comment $GPRMC inside a comment\n" + rmcOK
	d := NewDecoder(strings.NewReader(in))
	d.Comments = true
	var rep Report
	if err := d.Next(&rep); err != nil {
		t.Fatal(err)
	}
	if st := d.Stats(); st.GarbageBytes != 0 || st.Truncated != 0 || st.Used != 1 {
		t.Errorf("stats %+v, want one used sentence and nothing else", st)
	}
}

// TestParseSentences checks what each kind of sentence reports, on both
// the fast path and go-nmea with the tolerant parsers.
func TestParseSentences(t *testing.T) {
	nan := math.NaN()
	tests := []struct {
		name   string
		in     string
		want   Report
		placeh bool
	}{
		{"RMC south east", rmcOK, Report{Type: TypeRMC, HasTime: true, TOD: hms(8, 18, 36), HasDate: true, Year: 1998, Month: 9, Day: 13,
			Status: StatusFix, HasPos: true, Lat: -(37 + 51.65/60), Lon: 145 + 7.36/60, SpeedMPS: 0, CourseDeg: 360, HDOP: nan, AltM: nan, Sats: -1}, false},
		{"RMC without variation E/W", withSum("$GPRMC,043539.00,A,4333.190206,N,00127.618380,E,0.0,,040925,1.7"),
			Report{Type: TypeRMC, HasTime: true, TOD: hms(4, 35, 39), HasDate: true, Year: 2025, Month: 9, Day: 4, Status: StatusFix,
				HasPos: true, Lat: 43 + 33.190206/60, Lon: 1 + 27.618380/60, SpeedMPS: 0, CourseDeg: nan, HDOP: nan, AltM: nan, Sats: -1}, false},
		{"RMC void, estimated mode", withSum("$GPRMC,165010.000,V,4143.6057,N,08338.0788,W,0.60,231.03,180710,,,E"),
			Report{Type: TypeRMC, HasTime: true, TOD: hms(16, 50, 10), HasDate: true, Year: 2010, Month: 7, Day: 18, Status: StatusDR,
				HasPos: true, Lat: 41 + 43.6057/60, Lon: -(83 + 38.0788/60), SpeedMPS: 0.60 * knotMPS, CourseDeg: 231.03, HDOP: nan, AltM: nan, Sats: -1}, false},
		{"RMC simulator", withSum("$GPRMC,120000,A,5130.0000,N,00007.0000,W,0.0,0.0,010124,,,S"),
			Report{Type: TypeRMC, HasTime: true, TOD: hms(12, 0, 0), HasDate: true, Year: 2024, Month: 1, Day: 1, Status: StatusSim,
				HasPos: true, Lat: 51.5, Lon: -(7.0 / 60), SpeedMPS: 0, CourseDeg: 0, HDOP: nan, AltM: nan, Sats: -1}, false},
		{"RMC placeholder 36000", "$GPRMC,000416.984,V,36000.0000,N,72000.0000,E,0.000000,,260120,,*3B\r\n",
			Report{Type: TypeRMC, HasTime: true, TOD: hms(0, 4, 16) + 984e6, HasDate: true, Year: 2020, Month: 1, Day: 26, Status: StatusNone,
				SpeedMPS: 0, CourseDeg: nan, HDOP: nan, AltM: nan, Sats: -1}, true},
		{"GGA placeholder 0/0", "$GPGGA,000416.984,0000.0000,N,00000.0000,E,0,00,50.0,0.0,M,0.0,M,0.0,0000*70\r\n",
			Report{Type: TypeGGA, HasTime: true, TOD: hms(0, 4, 16) + 984e6, Status: StatusNone, Sats: 0, HDOP: 50, AltM: 0, SpeedMPS: nan, CourseDeg: nan}, true},
		{"GGA placeholder 90N", withSum("$GPGGA,120000.00,9000.0000,N,00000.0000,E,0,00,99.9,,M,,M,,"),
			Report{Type: TypeGGA, HasTime: true, TOD: hms(12, 0, 0), Status: StatusNone, Sats: 0, HDOP: 99.9, AltM: nan, SpeedMPS: nan, CourseDeg: nan}, true},
		{"GGA quality 6 estimated", "$GPGGA,165010.000,4143.6057,N,08338.0788,W,6,00,50.0,203.8,M,-33.7,M,,0000*5D\r\n",
			Report{Type: TypeGGA, HasTime: true, TOD: hms(16, 50, 10), Status: StatusDR, HasPos: true, Lat: 41 + 43.6057/60, Lon: -(83 + 38.0788/60),
				Sats: 0, HDOP: 50, AltM: 203.8, SpeedMPS: nan, CourseDeg: nan}, false},
		{"GGA quality 8 simulator", withSum("$GNGGA,120000.00,5130.0000,N,00007.0000,W,8,12,0.9,30.0,M,45.0,M,,"),
			Report{Type: TypeGGA, HasTime: true, TOD: hms(12, 0, 0), Status: StatusSim, HasPos: true, Lat: 51.5, Lon: -(7.0 / 60),
				Sats: 12, HDOP: 0.9, AltM: 30, SpeedMPS: nan, CourseDeg: nan}, false},
		{"GGA quality 7 manual", withSum("$GPGGA,120000.00,5130.0000,N,00007.0000,W,7,00,,,M,,M,,"),
			Report{Type: TypeGGA, HasTime: true, TOD: hms(12, 0, 0), Status: StatusManual, HasPos: true, Lat: 51.5, Lon: -(7.0 / 60),
				Sats: 0, HDOP: nan, AltM: nan, SpeedMPS: nan, CourseDeg: nan}, false},
		{"GGA empty position, no time", withSum("$GPGGA,,,,,,0,00,,,M,0.0,M,,0000"),
			Report{Type: TypeGGA, Status: StatusNone, Sats: 0, HDOP: nan, AltM: nan, SpeedMPS: nan, CourseDeg: nan}, false},
		{"GSA fractional system id", "$GPGSA,A,3,25,32,,,,,,,,,,,5.1,1.3,4.9,3.3*3D\r\n",
			Report{Type: TypeGSA, GSAFix: 3, GSAUsed: 2, HDOP: 1.3, Sats: -1, AltM: nan, SpeedMPS: nan, CourseDeg: nan}, false},
		{"GNS modes", "$GNGNS,043539.00,4333.190206,N,00127.618380,E,AAAAN,14,1.3,250.8,50.0,,,V*62\r\n",
			Report{Type: TypeGNS, HasTime: true, TOD: hms(4, 35, 39), Status: StatusFix, HasPos: true, Lat: 43 + 33.190206/60, Lon: 1 + 27.618380/60,
				Sats: 14, HDOP: 1.3, AltM: 250.8, SpeedMPS: nan, CourseDeg: nan}, false},
		{"GNS no fix", "$GNGNS,074150.799,,,,,NNNN,00,,,0.0,,0000*63\r\n",
			Report{Type: TypeGNS, HasTime: true, TOD: hms(7, 41, 50) + 799e6, Status: StatusNone, Sats: 0, HDOP: nan, AltM: nan, SpeedMPS: nan, CourseDeg: nan}, false},
		{"VTG", withSum("$GPVTG,054.7,T,034.4,M,005.5,N,010.2,K,A"),
			Report{Type: TypeVTG, SpeedMPS: 10.2 / 3.6, CourseDeg: 54.7, HDOP: nan, AltM: nan, Sats: -1}, false},
		{"ZDA", "$GPZDA,081411.000,26,05,2014,,*5D\r\n",
			Report{Type: TypeZDA, HasTime: true, TOD: hms(8, 14, 11), HasDate: true, Year: 2014, Month: 5, Day: 26, HDOP: nan, AltM: nan, Sats: -1, SpeedMPS: nan, CourseDeg: nan}, false},
		{"GLL", "$GNGLL,4404.14066,N,12118.85481,W,171925.00,A,A*66\r\n",
			Report{Type: TypeGLL, HasTime: true, TOD: hms(17, 19, 25), Status: StatusFix, HasPos: true, Lat: 44 + 4.14066/60, Lon: -(121 + 18.85481/60),
				HDOP: nan, AltM: nan, Sats: -1, SpeedMPS: nan, CourseDeg: nan}, false},
	}
	for _, tt := range tests {
		for _, slow := range []bool{false, true} {
			t.Run(fmt.Sprintf("%s/slow=%v", tt.name, slow), func(t *testing.T) {
				reps, st := decodeAll(t, tt.in, slow, false)
				if len(reps) != 1 {
					t.Fatalf("got %d reports, want 1; stats %+v", len(reps), st)
				}
				got := reps[0]
				tt.want.Talker = got.Talker
				tt.want.Placeholder = tt.placeh
				if diff := reportDiff(got, tt.want); diff != "" {
					t.Errorf("%s", diff)
				}
				if tt.placeh != (st.Placeholder == 1) {
					t.Errorf("Stats.Placeholder = %d", st.Placeholder)
				}
			})
		}
	}
}

// TestEveryTalker: the tracker must not care which constellation talks.
func TestEveryTalker(t *testing.T) {
	for _, talker := range []string{"GP", "GN", "GL", "GA", "GB", "BD", "QZ", "GI", "II"} {
		t.Run(talker, func(t *testing.T) {
			reps, _ := decodeAll(t, withSum("$"+talker+"GGA,092750.000,5321.6802,N,00630.3372,W,1,8,1.03,61.7,M,55.2,M,,"), false, false)
			if len(reps) != 1 || reps[0].TalkerID() != talker || !reps[0].HasPos {
				t.Errorf("got %+v", reps)
			}
		})
	}
}

func hms(h, m, s int) time.Duration {
	return time.Duration(h)*3600e9 + time.Duration(m)*60e9 + time.Duration(s)*1e9
}

func near(a, b float64) bool {
	if math.IsNaN(a) || math.IsNaN(b) {
		return math.IsNaN(a) && math.IsNaN(b)
	}
	return math.Abs(a-b) <= 1e-9*math.Max(1, math.Abs(b))
}

// reportDiff describes how got differs from want, or returns "".
func reportDiff(got, want Report) string {
	var b strings.Builder
	ne := func(name string, g, w any) { fmt.Fprintf(&b, "%s = %v, want %v; ", name, g, w) }
	if got.Type != want.Type {
		ne("Type", got.Type, want.Type)
	}
	if got.HasTime != want.HasTime || got.TOD != want.TOD {
		ne("time", fmt.Sprint(got.HasTime, got.TOD), fmt.Sprint(want.HasTime, want.TOD))
	}
	if got.HasDate != want.HasDate || got.Year != want.Year || got.Month != want.Month || got.Day != want.Day {
		ne("date", fmt.Sprint(got.HasDate, got.Year, got.Month, got.Day), fmt.Sprint(want.HasDate, want.Year, want.Month, want.Day))
	}
	if got.Status != want.Status {
		ne("Status", got.Status, want.Status)
	}
	if got.HasPos != want.HasPos || (want.HasPos && (!near(got.Lat, want.Lat) || !near(got.Lon, want.Lon))) {
		ne("position", fmt.Sprint(got.HasPos, got.Lat, got.Lon), fmt.Sprint(want.HasPos, want.Lat, want.Lon))
	}
	if got.Placeholder != want.Placeholder {
		ne("Placeholder", got.Placeholder, want.Placeholder)
	}
	for _, f := range []struct {
		n    string
		g, w float64
	}{{"SpeedMPS", got.SpeedMPS, want.SpeedMPS}, {"CourseDeg", got.CourseDeg, want.CourseDeg}, {"HDOP", got.HDOP, want.HDOP}, {"AltM", got.AltM, want.AltM}} {
		if !near(f.g, f.w) {
			ne(f.n, f.g, f.w)
		}
	}
	if got.Sats != want.Sats {
		ne("Sats", got.Sats, want.Sats)
	}
	if got.GSAFix != want.GSAFix || got.GSAUsed != want.GSAUsed {
		ne("GSA", fmt.Sprint(got.GSAFix, got.GSAUsed), fmt.Sprint(want.GSAFix, want.GSAUsed))
	}
	return b.String()
}
