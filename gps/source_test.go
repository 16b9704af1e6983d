package gps

import (
	"bufio"
	"io"
	"strings"
	"testing"
	"time"
)

type nopCloser struct{ io.Reader }

func (nopCloser) Close() error { return nil }

// TestJSONSkipper: gpsd's JSON reports, however long, never reach the
// decoder; the NMEA between them does, byte for byte.
func TestJSONSkipper(t *testing.T) {
	long := `{"class":"SKY","satellites":[` + strings.Repeat(`{"PRN":1,"el":10,"az":100,"ss":30,"used":true},`, 200) + `{}]}` + "\n"
	in := `{"class":"VERSION","release":"3.22"}` + "\n" + rmcOK + long + ggaOK + `{"class":"WATCH"}` + "\n"
	j := &jsonSkipper{r: bufio.NewReaderSize(strings.NewReader(in), 64), c: nopCloser{}}
	got, err := io.ReadAll(j)
	if err != nil {
		t.Fatal(err)
	}
	if string(got) != rmcOK+ggaOK {
		t.Errorf("got %q", got)
	}
}

func TestLineTOD(t *testing.T) {
	tests := []struct {
		line string
		want time.Duration
		ok   bool
	}{
		{rmcOK, hms(8, 18, 36), true},
		{ggaOK, hms(9, 27, 50), true},
		{"$GNGNS,074150.799,,,,,NNNN,00,,,0.0,,0000*63\r\n", hms(7, 41, 50) + 799*time.Millisecond, true},
		{"$GPGSA,A,3,25,32,,,,,,,,,,,5.1,1.3,4.9,3.3*3D\r\n", 0, false},
		{"$GPRMC,,V,,,,,,,,,,N*53\r\n", 0, false},
		{"# comment\n", 0, false},
	}
	for _, tt := range tests {
		t.Run(strings.TrimSpace(tt.line), func(t *testing.T) {
			got, ok := lineTOD([]byte(tt.line))
			if got != tt.want || ok != tt.ok {
				t.Errorf("got %v %v, want %v %v", got, ok, tt.want, tt.ok)
			}
		})
	}
}
