package main

import (
	"context"
	"encoding/csv"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"os"
	"path"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/ukanpr/anpr/app/vrm"
	"github.com/ukanpr/anpr/assets"
)

func TestDemoUsage(t *testing.T) {
	tests := []struct {
		args []string
		want string
	}{
		{[]string{"demo", "--speed", "-1"}, "--speed -1"},
		{[]string{"demo", "--sound", "loud"}, "--sound"},
		{[]string{"demo", "extra"}, `unexpected argument "extra"`},
	}
	for _, tc := range tests {
		_, stderr, code := runMain(t, tc.args...)
		if code != 2 || !strings.Contains(stderr, tc.want) {
			t.Errorf("%v: exit %d %q, want 2 %q", tc.args, code, stderr, tc.want)
		}
	}
	_, stderr, code := runMain(t, "demo", "--headless", "--dir", filepath.Join(t.TempDir(), "none"))
	if code != 1 || !strings.Contains(stderr, "demo drive not found") {
		t.Errorf("missing demo: exit %d %q", code, stderr)
	}
}

func TestFindDemo(t *testing.T) {
	dir := t.TempDir()
	if _, err := findDemo(dir); !errors.Is(err, ErrNoDemo) || !strings.Contains(err.Error(), "lacks a video") {
		t.Errorf("empty dir: %v", err)
	}
	for _, f := range []string{"drive.mp4", "drive.nmea", "hotlist.csv", "truth.csv"} {
		if err := os.WriteFile(filepath.Join(dir, f), nil, 0o600); err != nil {
			t.Fatal(err)
		}
	}
	d, err := findDemo(dir)
	if err != nil {
		t.Fatal(err)
	}
	if filepath.Base(d.Video) != "drive.mp4" || filepath.Base(d.NMEA) != "drive.nmea" ||
		filepath.Base(d.Hotlist) != "hotlist.csv" || filepath.Base(d.Truth) != "truth.csv" {
		t.Errorf("found %+v", d)
	}
}

// TestDemoTruthIsUK: every plate of the bundled drive is a mark the UK rules
// accept: a UK demo with marks no UK plate carries would have the rules
// "repair" correct reads into other marks.
func TestDemoTruthIsUK(t *testing.T) {
	f, err := os.Open(filepath.Join("..", "..", "testdata", "demo", "truth.csv"))
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	rows, err := csv.NewReader(f).ReadAll()
	if err != nil {
		t.Fatalf("truth.csv: %v", err)
	}
	built := time.Date(2026, 11, 21, 0, 0, 0, 0, time.UTC) // the date the drive's marks were drawn for
	for _, r := range rows[1:] {
		if !vrm.Valid(r[0], built) {
			t.Errorf("truth.csv: %s is no UK mark", r[0])
		}
	}
}

// TestDemoHeadless plays the bundled drive as fast as it can and checks the
// JSON lines against the drive's ground truth: the expected hits raised on
// the right vehicle's read with the right match kind, and no hit on a read
// of another vehicle.
func TestDemoHeadless(t *testing.T) {
	dir := repoFile(t, DefaultDemoDir)
	d, err := findDemo(dir)
	if err != nil {
		t.Skipf("the demo drive is not in this checkout yet (%v); it lands separately in testdata/demo/", err)
	}
	if _, err := assets.Model(assets.DetectorModel); err != nil {
		t.Skipf("no plate models in this build yet: %v", err)
	}
	if testing.Short() {
		t.Skip("plays the whole demo drive")
	}
	stdout, stderr, code := runMain(t, "demo", "--headless", "--speed", "0", "--sound", "off", "--dir", dir)
	if code != 0 {
		t.Fatalf("exit %d: %s", code, stderr)
	}
	// The drive's start, as the demo takes it from the GPS log: the truth's
	// times count from there.
	c, cleanup, err := openDemoCar(context.Background(), d, 0, "", alertConfig{Sound: "off"}, slog.New(slog.NewTextHandler(io.Discard, nil)))
	if err != nil {
		t.Fatal(err)
	}
	t0 := c.Engine.ShiftStart
	cleanup()
	type hit struct {
		read, entry, kind string
		ms                int64 // capture time from the drive's start
	}
	var hits []hit
	var reads []demoRead
	for _, line := range strings.Split(strings.TrimSpace(stdout), "\n") {
		var m map[string]any
		if err := json.Unmarshal([]byte(line), &m); err != nil {
			t.Fatalf("%v: %q", err, line)
		}
		switch m["type"] {
		case "read":
			if m["fix"] == "none" {
				t.Errorf("read not geotagged: %s", line)
			}
			at, err := time.Parse(time.RFC3339Nano, m["time"].(string))
			if err != nil {
				t.Fatalf("read time: %v", err)
			}
			reads = append(reads, demoRead{m["vrm"].(string), at.Sub(t0).Milliseconds()})
			if mm, ok := m["match"].(map[string]any); ok {
				hits = append(hits, hit{read: m["vrm"].(string), entry: mm["entry"].(string), kind: mm["kind"].(string), ms: at.Sub(t0).Milliseconds()})
			}
		case "status", "past-hit":
		default:
			t.Errorf("unexpected line %s", line)
		}
	}
	t.Logf("%d reads, %d hits: %+v", len(reads), len(hits), hits)
	if len(reads) == 0 {
		t.Fatal("no reads")
	}
	if d.Truth == "" {
		t.Skip("no ground truth file in testdata/demo/")
	}
	f, err := os.Open(d.Truth)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	rows, err := csv.NewReader(f).ReadAll()
	if err != nil {
		t.Fatalf("%s: %v", d.Truth, err)
	}
	col := map[string]int{}
	for i, h := range rows[0] {
		col[strings.ToLower(strings.TrimSpace(h))] = i
	}
	vi, okV := col["vrm"]
	ki, okK := col["match"]
	fi, okF := col["first_ms"]
	li, okL := col["last_ms"]
	if !okV || !okK || !okF || !okL {
		t.Fatalf("%s has no vrm, match, first_ms and last_ms columns: header %v", d.Truth, rows[0])
	}

	demoPassFigures(t, rows[1:], vi, fi, li, col["max_width_px"], reads)

	// A hit belongs to a plate on the road when it was read while that
	// plate was in view (a second's slack either side of one of its passes)
	// and its entry covers that plate the way the truth says it should: the
	// same mark, a look-alike of it, or a pattern matching it. A hit raised
	// on another vehicle's read (its track picked up this plate's text)
	// belongs to no plate. A plate seen in several passes a moment apart
	// (the drive cuts between frames) needs one hit.
	type window struct{ first, last int64 }
	type want struct {
		plate, kind string
		windows     []window
	}
	var wants []*want
	byPlate := map[string]*want{}
	for _, r := range rows[1:] {
		plate, kind := r[vi], r[ki]
		if kind == "" || kind == "none" {
			continue
		}
		first, err1 := strconv.ParseInt(r[fi], 10, 64)
		last, err2 := strconv.ParseInt(r[li], 10, 64)
		if err1 != nil || err2 != nil {
			t.Fatalf("%s: bad times in %v", d.Truth, r)
		}
		w := byPlate[plate+"/"+kind]
		if w == nil {
			w = &want{plate: plate, kind: kind}
			byPlate[plate+"/"+kind] = w
			wants = append(wants, w)
		}
		w.windows = append(w.windows, window{first, last})
	}
	covers := func(h hit, w *want) bool {
		inView := false
		for _, win := range w.windows {
			inView = inView || (h.ms >= win.first-1000 && h.ms <= win.last+1000)
		}
		if !inView {
			return false
		}
		switch w.kind {
		case "exact":
			return h.entry == w.plate
		case "lookalike":
			_, ok := vrm.Lookalike(w.plate, h.entry)
			return ok && h.entry != w.plate
		case "wildcard":
			ok, _ := path.Match(h.entry, w.plate)
			return ok
		}
		return false
	}
	expected, raised, rightKind := 0, 0, 0
	explained := make([]bool, len(hits))
	for _, w := range wants {
		plate, kind := w.plate, w.kind
		expected++
		found, right := false, false
		for i, h := range hits {
			if covers(h, w) {
				explained[i] = true
				found = true
				if h.kind == kind {
					right = true
				} else {
					t.Logf("hit on %s (read %s, entry %s) is %s, want %s", plate, h.read, h.entry, h.kind, kind)
				}
			}
		}
		switch {
		case !found:
			t.Logf("expected %s hit on %s not raised", kind, plate)
		case right:
			raised++
			rightKind++
		default:
			raised++
		}
	}
	// No false alerts: every hit is one the drive was built to raise.
	for i, h := range hits {
		if !explained[i] {
			t.Errorf("false hit: read %s at %d ms matched entry %s (%s), which no plate then in view should", h.read, h.ms, h.entry, h.kind)
		}
	}
	t.Logf("expected hits raised: %d of %d; with the right match kind: %d of %d", raised, expected, rightKind, expected)
	// The product's target is every expected hit with the right kind (the
	// closing note quotes the measured figures); these floors catch a reader
	// or pipeline that regresses below what the committed models achieve.
	if min := demoRaisedFloor * float64(expected); float64(raised) < min {
		t.Errorf("%d of %d expected hits raised, want at least %.0f", raised, expected, min)
	}
	if min := demoKindFloor * float64(expected); float64(rightKind) < min {
		t.Errorf("%d of %d expected hits with the right kind, want at least %.0f", rightKind, expected, min)
	}
}

// demoRead is one read of the demo drive: its text and capture time from the
// drive's start.
type demoRead struct {
	vrm string
	ms  int64
}

// demoPassFigures logs how the drive's reads account for its plate passes
// (the target: every plate read exactly once per pass, no false reads): a
// read is of a pass when it was read while the plate was in view (a second's
// slack either side) with the same text; a misread when it is within two
// edits of a plate then in view; otherwise it is unexplained (a real plate
// of the source frames that has no box, or a false read).
func demoPassFigures(t *testing.T, rows [][]string, vi, fi, li, wi int, reads []demoRead) {
	type pass struct {
		vrm         string
		first, last int64
		width       int
		n           int
	}
	var passes []*pass
	for _, r := range rows {
		first, _ := strconv.ParseInt(r[fi], 10, 64)
		last, _ := strconv.ParseInt(r[li], 10, 64)
		width := 0
		if wi > 0 {
			width, _ = strconv.Atoi(r[wi])
		}
		passes = append(passes, &pass{vrm: r[vi], first: first - 1000, last: last + 1000, width: width})
	}
	var exact, misread, unexplained int
	var odd []string
	for _, r := range reads {
		text, ms := r.vrm, r.ms
		kind := "unexplained"
		for _, p := range passes {
			if ms < p.first || ms > p.last {
				continue
			}
			if text == p.vrm {
				p.n++
				kind = "exact"
				break
			}
			if vrm.EditDistance(text, p.vrm) <= 2 {
				kind = "misread"
			}
		}
		switch kind {
		case "exact":
			exact++
		case "misread":
			misread++
			odd = append(odd, fmt.Sprintf("%s (misread, %.1f s)", text, float64(ms)/1000))
		default:
			unexplained++
			odd = append(odd, fmt.Sprintf("%s (%.1f s)", text, float64(ms)/1000))
		}
	}
	// A plate shown again within 30 s (the drive cuts between real frames
	// seconds apart, and comes back to a car) is one vehicle followed: the
	// tracker reports a text once in its Repeat time (30 s), so read once
	// across those passes is right. By the widest box: ≥ 80 px, and all.
	type vehicle struct {
		vrm                   string
		first, last, n, width int64
	}
	var vehicles []*vehicle
	byPlate := map[string]*vehicle{}
	for _, p := range passes {
		v := byPlate[p.vrm]
		if v == nil || p.first-v.last > 30_000 {
			v = &vehicle{vrm: p.vrm, first: p.first + 1000}
			byPlate[p.vrm] = v
			vehicles = append(vehicles, v)
		}
		v.last, v.n, v.width = p.last, v.n+int64(p.n), max(v.width, int64(p.width))
	}
	var once, never, more [2]int
	var unread []string
	for _, v := range vehicles {
		n, w := v.n, v.width
		if n == 0 {
			unread = append(unread, fmt.Sprintf("%s (%d px, %.0f s)", v.vrm, w, float64(v.first)/1000))
		}
		for b, in := range [2]bool{w >= 80, true} {
			switch {
			case !in:
			case n == 0:
				never[b]++
			case n == 1:
				once[b]++
			default:
				more[b]++
			}
		}
	}
	for b, band := range [2]string{"≥ 80 px", "all"} {
		t.Logf("demo vehicles %s (passes of one plate within 30 s joined): %d; read exactly once %d, more than once %d, never exactly %d",
			band, once[b]+never[b]+more[b], once[b], more[b], never[b])
	}
	t.Logf("vehicles never read exactly: %v", unread)
	if more[1] > 0 {
		t.Errorf("%d vehicles read more than once", more[1])
	}
	if n := once[0] + never[0] + more[0]; float64(once[0]) < demoOnceFloor*float64(n) {
		t.Errorf("%d of %d vehicles ≥ 80 px read exactly, want at least %.0f", once[0], n, demoOnceFloor*float64(n))
	}
	t.Logf("reads: %d exact, %d misreads of a plate in view, %d of no plate in view: %v", exact, misread, unexplained, odd)
	if misread+unexplained > demoFalseReadsMax {
		t.Errorf("%d false reads (%d misreads, %d of no plate), want at most %d", misread+unexplained, misread, unexplained, demoFalseReadsMax)
	}
}

// Floors for the demo drive with the committed models, set below what they
// measured when committed (all 8 plates the drive should alert on raised on
// the right vehicle's read with the right kind; hits on another vehicle's
// read fail the test outright). Raise them as the models improve; the
// target for both is 1.
const (
	demoRaisedFloor = 0.85
	demoKindFloor   = 0.85
	// Vehicles with a plate ≥ 80 px read exactly (once): 46 of 46 measured
	// with the step-53250 reader, 45 with step 42250, 44 with step 30500
	// (step 28000: 43; step 22000: 36 before the tracker split passes on a
	// confident other plate, 40 after); the target is all.
	demoOnceFloor = 0.9
	// False reads (misreads and reads of no plate in view): 2 measured since
	// the tracker drops, in RegionGB, a read that is no UK mark and lacks a
	// letter or a digit (the eleventh session: NDA, half a real plate behind
	// another car, read at 0.83, is gone); 3 with the step-53250 reader on
	// the drive rebuilt in the ninth session; 6 on the drive before
	// (two of them real plates no box covered); 3 with the step-42250
	// reader (7 before the tracker's ShortConfidence: four short pieces of
	// plates). The target is none.
	demoFalseReadsMax = 4
)
