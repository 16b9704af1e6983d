package main

import (
	"bufio"
	"encoding/json"
	"flag"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

func TestGPSReplayJSON(t *testing.T) {
	out, stderr, code := runMain(t, "gps", "replay", "--json", repoFile(t, filepath.Join("testdata", "nmea", "garmin-10x.log")))
	if code != 0 {
		t.Fatalf("exit %d: %s", code, stderr)
	}
	var lines []map[string]any
	sc := bufio.NewScanner(strings.NewReader(out))
	for sc.Scan() {
		var m map[string]any
		if err := json.Unmarshal(sc.Bytes(), &m); err != nil {
			t.Fatalf("line %q is not JSON: %v", sc.Text(), err)
		}
		lines = append(lines, m)
	}
	if len(lines) != 14 {
		t.Fatalf("got %d epochs, want 14 (one per receiver time)", len(lines))
	}
	seen := map[string]bool{}
	kinds := map[string]int{}
	for i, m := range lines {
		ts, _ := m["time"].(string)
		if _, err := time.Parse(time.RFC3339, ts); err != nil || seen[ts] {
			t.Errorf("line %d: time %q bad or repeated", i+1, ts)
		}
		seen[ts] = true
		fix, _ := m["fix"].(string)
		kinds[fix]++
		_, hasLat := m["lat"]
		_, hasLon := m["lon"]
		if (fix == "none") == (hasLat || hasLon) {
			t.Errorf("line %d: fix %q with lat/lon present=%v", i+1, fix, hasLat)
		}
	}
	first := lines[0]
	if first["time"] != "2010-07-18T16:50:07Z" || first["fix"] != "3d" || first["sats"] != 6.0 || first["hdop"] != 1.5 || first["alt_m"] != 204.3 {
		t.Errorf("first epoch %v", first)
	}
	if lat := first["lat"].(float64); lat < 41.7267633 || lat > 41.7267634 {
		t.Errorf("first lat %v", lat)
	}
	if kinds["none"] != 4 || kinds["dr"] != 1 || kinds["3d"]+kinds["2d"] != 9 {
		t.Errorf("fix kinds %v, want 4 none, 1 dr, 9 2d/3d", kinds)
	}
	if !strings.Contains(stderr, "14 epochs") || !strings.Contains(stderr, "dropped 0") {
		t.Errorf("stderr summary %q", stderr)
	}
}

func TestGPSReplayTable(t *testing.T) {
	out, stderr, code := runMain(t, "gps", "replay", repoFile(t, filepath.Join("testdata", "nmea", "com-1289.log")))
	if code != 0 {
		t.Fatalf("exit %d: %s", code, stderr)
	}
	rows := strings.Split(strings.TrimSpace(out), "\n")
	if len(rows) != 1+14 || !strings.Contains(rows[0], "time") || !strings.Contains(rows[1], "2007-10-12 14:37:48.770") {
		t.Errorf("table:\n%s", out)
	}
	if !strings.Contains(stderr, "1 bad checksum") {
		t.Errorf("stderr %q: want the bad checksum counted", stderr)
	}
}

func TestGPSReplayErrors(t *testing.T) {
	dir := t.TempDir()
	notNMEA := filepath.Join(dir, "notes.txt")
	os.WriteFile(notNMEA, []byte("shopping list\n"), 0o644)
	tests := []struct {
		name string
		args []string
		code int
		msg  string
	}{
		{"no subcommand", []string{"gps"}, 2, "missing subcommand"},
		{"unknown subcommand", []string{"gps", "play"}, 2, `unknown gps subcommand "play"`},
		{"no file", []string{"gps", "replay"}, 2, "exactly one NMEA_FILE"},
		{"missing file", []string{"gps", "replay", filepath.Join(dir, "nope.log")}, 2, "nope.log: no such file"},
		{"a directory", []string{"gps", "replay", dir}, 2, "is a directory"},
		{"not NMEA", []string{"gps", "replay", notNMEA}, 2, "notes.txt holds no NMEA sentences"},
		{"bad flag", []string{"gps", "replay", "--jsn", notNMEA}, 2, "flag provided but not defined"},
		{"help", []string{"gps", "replay", "--help"}, 0, ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, stderr, code := runMain(t, tt.args...)
			if code != tt.code || !strings.Contains(stderr, tt.msg) {
				t.Errorf("exit %d, stderr %q; want %d and %q", code, stderr, tt.code, tt.msg)
			}
			if tt.code != 0 && strings.Count(strings.TrimSpace(stderr), "\n") != 0 {
				t.Errorf("want one line of error, got %q", stderr)
			}
		})
	}
}

// updateGPS rewrites the replay goldens: go test ./cmd/anpr -run GPSReplayGolden -update-gps
var updateGPS = flag.Bool("update-gps", false, "rewrite testdata/nmea/replay/*.jsonl from `anpr gps replay --json`")

// TestGPSReplayGolden pins `anpr gps replay --json` for every capture in
// testdata/nmea (the oracle test holds these same epochs to gpsd's decode).
func TestGPSReplayGolden(t *testing.T) {
	logs, _ := filepath.Glob(filepath.Join(filepath.Dir(repoFile(t, filepath.Join("testdata", "nmea", "x"))), "*.log"))
	if len(logs) == 0 {
		t.Fatal("no captures in testdata/nmea")
	}
	for _, log := range logs {
		name := strings.TrimSuffix(filepath.Base(log), ".log")
		t.Run(name, func(t *testing.T) {
			out, stderr, code := runMain(t, "gps", "replay", "--json", log)
			if code != 0 {
				t.Fatalf("exit %d: %s", code, stderr)
			}
			golden := filepath.Join(filepath.Dir(log), "replay", name+".jsonl")
			if *updateGPS {
				if err := os.MkdirAll(filepath.Dir(golden), 0o755); err != nil {
					t.Fatal(err)
				}
				if err := os.WriteFile(golden, []byte(out), 0o644); err != nil {
					t.Fatal(err)
				}
			}
			want, err := os.ReadFile(golden)
			if err != nil {
				t.Fatalf("%v (run with -update-gps to create it)", err)
			}
			if out != string(want) {
				t.Errorf("output differs from %s (run with -update-gps if the change is intended):\n%s", golden, out)
			}
		})
	}
}
