package gps

import (
	"bufio"
	"encoding/json"
	"fmt"
	"math"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"testing"
	"time"
)

// gpsdEpoch is gpsd's final word on one receiver epoch: the last TPV it
// printed before the next sentence with a different time.
type gpsdEpoch struct {
	tod      time.Duration
	mode     int
	time     time.Time // zero when gpsd gave none
	lat, lon float64
	hasPos   bool
}

type tpv struct {
	Class string   `json:"class"`
	Mode  int      `json:"mode"`
	Time  string   `json:"time"`
	Lat   *float64 `json:"lat"`
	Lon   *float64 `json:"lon"`
}

// readCheck reads gpsd's decode (a .chk file): raw sentences each followed
// by the JSON reports gpsd derived from it. Each TPV is attributed to the
// receiver time of the latest sentence carrying one, since gpsd leaves
// "time" stale or absent in no-fix TPVs.
func readCheck(path string) ([]gpsdEpoch, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	var out []gpsdEpoch
	idx := map[time.Duration]int{}
	var cur time.Duration
	have := false
	sc := bufio.NewScanner(f)
	sc.Buffer(make([]byte, 1<<20), 1<<20)
	var rep Report
	for sc.Scan() {
		line := sc.Text()
		if strings.HasPrefix(line, "$") || strings.HasPrefix(line, "!") {
			d := NewDecoder(strings.NewReader(line + "\r\n"))
			if d.Next(&rep) == nil && rep.HasTime {
				cur, have = rep.TOD, true
			}
			continue
		}
		if !strings.HasPrefix(line, "{") || !have {
			continue
		}
		var v tpv
		if json.Unmarshal([]byte(line), &v) != nil || v.Class != "TPV" {
			continue
		}
		e := gpsdEpoch{tod: cur, mode: v.Mode}
		if v.Time != "" {
			t, err := time.Parse(time.RFC3339Nano, v.Time)
			if err == nil && t.Sub(t.Truncate(24*time.Hour)) == cur {
				e.time = t
			}
		}
		if v.Lat != nil && v.Lon != nil {
			e.hasPos, e.lat, e.lon = true, *v.Lat, *v.Lon
		}
		if i, ok := idx[cur]; ok {
			out[i] = e
		} else {
			idx[cur] = len(out)
			out = append(out, e)
		}
	}
	return out, sc.Err()
}

// agreement compares our epochs with gpsd's for one log.
type agreement struct {
	compared, matched int
	noEpoch           int            // gpsd epochs we have no epoch for
	reasons           map[string]int // mismatch reason -> count
	examples          []string
}

func compareLog(t *testing.T, log, chk string) agreement {
	f, err := os.Open(log)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	ours, _, err := Epochs(f)
	if err != nil {
		t.Fatalf("replay %s: %v", log, err)
	}
	theirs, err := readCheck(chk)
	if err != nil {
		t.Fatalf("read %s: %v", chk, err)
	}
	byTOD := map[time.Duration]Fix{}
	for _, e := range ours {
		byTOD[e.TOD] = e
	}
	a := agreement{reasons: map[string]int{}}
	bad := func(reason, ex string) {
		a.reasons[reason]++
		if len(a.examples) < 3 {
			a.examples = append(a.examples, ex)
		}
	}
	for _, g := range theirs {
		o, ok := byTOD[g.tod]
		if !ok {
			a.noEpoch++
			continue
		}
		a.compared++
		gfix := g.mode >= 2 && g.hasPos
		ofix := o.Kind.Usable()
		at := fmt.Sprintf("%v gpsd mode %d, ours %s", g.tod, g.mode, o.Kind)
		switch {
		case gfix != ofix:
			bad(fmt.Sprintf("fix: gpsd mode %d, ours %s", g.mode, o.Kind), at)
		case gfix && (math.Abs(g.lat-o.Lat) > 1e-6 || math.Abs(g.lon-o.Lon) > 1e-6):
			bad("position differs by more than 1e-6°", fmt.Sprintf("%s: gpsd %.9f,%.9f ours %.9f,%.9f", at, g.lat, g.lon, o.Lat, o.Lon))
		case gfix && !g.time.IsZero() && !g.time.Equal(o.Time):
			bad("date/time differs", fmt.Sprintf("%s: gpsd %v ours %v", at, g.time, o.Time))
		default:
			a.matched++
		}
	}
	return a
}

func TestOracleSharedCaptures(t *testing.T) {
	dir := filepath.Join(repoRoot(t), "..", "shared", "data", "nmea")
	logs, _ := filepath.Glob(filepath.Join(dir, "*.log"))
	if len(logs) == 0 {
		t.Skipf("no captures in %s (../shared/data/nmea from the repository root): oracle test skipped", dir)
	}
	sort.Strings(logs)
	total, matched := 0, 0
	for _, log := range logs {
		chk := filepath.Join(dir, "chk", filepath.Base(log)+".chk")
		a := compareLog(t, log, chk)
		total += a.compared
		matched += a.matched
		t.Logf("%-24s compared %3d matched %3d no-epoch %d %v %q", filepath.Base(log), a.compared, a.matched, a.noEpoch, a.reasons, a.examples)
	}
	t.Logf("all: %d/%d epochs agree with gpsd", matched, total)
}

// repoRoot walks up from the package directory to go.mod.
func repoRoot(t testing.TB) string {
	dir, err := os.Getwd()
	if err != nil {
		t.Fatal(err)
	}
	for {
		if _, err := os.Stat(filepath.Join(dir, "go.mod")); err == nil {
			return dir
		}
		parent := filepath.Dir(dir)
		if parent == dir {
			t.Fatal("go.mod not found above the package directory")
		}
		dir = parent
	}
}
