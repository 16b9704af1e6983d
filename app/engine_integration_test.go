package app_test

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/ukanpr/anpr/app"
	"github.com/ukanpr/anpr/app/hotlist"
	"github.com/ukanpr/anpr/app/sqlite"
)

func TestEngineWithSQLiteAndHotlist(t *testing.T) {
	ctx := context.Background()
	clk := newClock()
	db, err := sqlite.Open(filepath.Join(t.TempDir(), "car.db"))
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	db.Now = clk.Now
	imp, err := db.BeginImport(ctx, "pnc", true)
	if err != nil {
		t.Fatal(err)
	}
	for _, e := range []app.HotlistEntry{
		{VRM: "AB12CDE", Category: "stolen", Priority: 1, Action: "Stop, detain"},
		{VRM: "GX07XYZ", Category: "no insurance", Priority: 4, Action: "Seize"},
		{VRM: "CV05ERT", Category: "intelligence", Priority: 2, Covert: true},
	} {
		if err := imp.Add(e); err != nil {
			t.Fatal(err)
		}
	}
	if _, err := imp.Commit(); err != nil {
		t.Fatal(err)
	}
	m, err := hotlist.Open(ctx, db, "")
	if err != nil {
		t.Fatal(err)
	}
	e := &app.Engine{
		Locator: &locator{}, Matcher: m, Store: db, Past: db, Decisions: db, Wanted: db,
		Auditor: db, Reloader: m, Lists: db, Now: clk.Now, Logger: quiet(),
	}
	e.LogOn(app.Officer{ID: "4521"})
	sub := e.Subscribe(64)
	var out bytes.Buffer
	enc := app.NewJSONEncoder(&out)

	reads := map[string]app.Read{}
	for _, s := range []app.Sighting{
		sighting("AB12CDE", clk.Now()),
		// the recogniser's best is a look-alike of a listed mark: 6X07XYZ ≈ GX07XYZ
		{Camera: "front", Time: clk.Now(), Raw: "6X07 XYZ", Text: "6X07XYZ", Confidence: 0.81,
			Candidates: []app.Candidate{{Text: "6X07XYZ", Confidence: 0.81}}},
		sighting("CV05ERT", clk.Now()),
		sighting("NE11WAN", clk.Now()),
	} {
		clk.Add(2 * time.Second)
		r, _, err := e.Process(ctx, s)
		if err != nil {
			t.Fatal(err)
		}
		reads[r.VRM] = r
	}
	stored, err := db.Reads(ctx, sqlite.ReadQuery{})
	if err != nil || len(stored) != 4 {
		t.Fatalf("%d reads stored, %v", len(stored), err)
	}
	h, err := db.Hit(ctx, reads["6X07XYZ"].ID)
	if err != nil || len(h.Matches) != 1 || h.Matches[0].Kind != app.MatchLookalike {
		t.Fatalf("look-alike hit %+v %v", h, err)
	}
	if _, err := db.Hit(ctx, reads["CV05ERT"].ID); err != nil {
		t.Errorf("covert hit not stored: %v", err)
	}
	if p := e.Pending(); len(p) != 2 || p[0].Read.VRM != "AB12CDE" {
		t.Fatalf("pending %+v", p)
	}

	// The officer confirms the stolen car.
	if err := e.Decide(ctx, app.Decision{ReadID: reads["AB12CDE"].ID, Outcome: app.OutcomeConfirmed}); err != nil {
		t.Fatal(err)
	}
	ds, err := db.Decisions(ctx, reads["AB12CDE"].ID)
	if err != nil || len(ds) != 1 || ds[0].Officer != "4521" {
		t.Fatalf("decisions %+v %v", ds, err)
	}

	// Ten minutes later control circulates NE11WAN: a new wanted entry.
	clk.Add(10 * time.Minute)
	entry, n, err := e.AddWanted(ctx, app.HotlistEntry{VRM: "ne11 wan", Category: "wanted", Action: "Report sighting"})
	if err != nil {
		t.Fatal(err)
	}
	if n != 1 || entry.List != app.WantedListName {
		t.Fatalf("%d past hits, entry %+v", n, entry)
	}
	ph, err := db.Hit(ctx, reads["NE11WAN"].ID)
	if err != nil || !ph.Past || !ph.Time.Equal(clk.Now()) {
		t.Fatalf("past hit %+v %v", ph, err)
	}
	// The generation moved with our own change: the tick must not raise it again.
	e.TickOnce(ctx)

	var lines []map[string]any
	for _, ev := range drain(sub) {
		if err := enc.Encode(ev); err != nil {
			t.Fatal(err)
		}
	}
	for _, l := range strings.Split(strings.TrimSpace(out.String()), "\n") {
		var m map[string]any
		if err := json.Unmarshal([]byte(l), &m); err != nil {
			t.Fatalf("%v: %s", err, l)
		}
		lines = append(lines, m)
	}
	var got []string
	for _, l := range lines {
		s := l["type"].(string) + ":" + l["vrm"].(string)
		if mm, ok := l["match"].(map[string]any); ok {
			s += ":" + mm["kind"].(string)
			if mm["covert"].(bool) {
				s += ":covert"
			}
		}
		got = append(got, s)
	}
	want := "read:AB12CDE:exact read:6X07XYZ:lookalike read:CV05ERT:exact:covert read:NE11WAN past-hit:NE11WAN:exact"
	if strings.Join(got, " ") != want {
		t.Errorf("lines\n got %s\nwant %s\n%s", strings.Join(got, " "), want, out.String())
	}
	if pl := lines[len(lines)-1]; pl["time"] == pl["raised"] || pl["lat"] == nil {
		t.Errorf("past hit line lost the read's time or place: %v", pl)
	}
}

// BenchmarkEngineSQLite measures sightings committed per second through the
// engine into the real store (one transaction and sync per read), with a
// hot list of 10 000 entries.
func BenchmarkEngineSQLite(b *testing.B) {
	ctx := context.Background()
	db, err := sqlite.Open(filepath.Join(b.TempDir(), "car.db"))
	if err != nil {
		b.Fatal(err)
	}
	defer db.Close()
	imp, err := db.BeginImport(ctx, "pnc", true)
	if err != nil {
		b.Fatal(err)
	}
	for i := range 10000 {
		if err := imp.Add(app.HotlistEntry{VRM: fmt.Sprintf("HL%02dABC", i%100) + string(rune('A'+i/100%26)) + string(rune('A'+i/2600)),
			Category: "stolen", Priority: 1 + i%9}); err != nil {
			b.Fatal(err)
		}
	}
	if _, err := imp.Commit(); err != nil {
		b.Fatal(err)
	}
	m, err := hotlist.Open(ctx, db, "")
	if err != nil {
		b.Fatal(err)
	}
	e := &app.Engine{Locator: &locator{}, Matcher: m, Store: db, Logger: quiet()}
	sub := e.Subscribe(16) // a subscriber that never reads: must not slow the engine
	start := time.Now()
	b.ResetTimer()
	for i := range b.N {
		s := sighting(fmt.Sprintf("BN%02dXYZ", i%100), time.Now())
		s.Patch = make([]byte, 8<<10)
		if _, _, err := e.Process(ctx, s); err != nil {
			b.Fatal(err)
		}
	}
	b.ReportMetric(float64(b.N)/time.Since(start).Seconds(), "reads/s")
	if d, _ := sub.Lagged(); b.N > 16 && d == 0 {
		b.Error("a full subscriber dropped nothing")
	}
}
