package main

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"testing"
	"time"

	"fyne.io/fyne/v2"
	"fyne.io/fyne/v2/test"
	"fyne.io/fyne/v2/widget"

	"github.com/ukanpr/anpr/app"
	"github.com/ukanpr/anpr/app/ui"
)

// TestUIBackendOnRealStore drives the UI's adapter against a real car
// store: import a list with progress, read a plate, find it in the shift's
// history with its hit, decide it, and refuse bad PINs.
func TestUIBackendOnRealStore(t *testing.T) {
	ctx := context.Background()
	dir := t.TempDir()
	now := time.Date(2026, 11, 17, 14, 2, 0, 0, time.UTC)
	c := openTestCar(t, dir, func() time.Time { return now })
	b, err := newUIBackend(c, uiOptions{AdminPIN: "2468", OfficerPINs: map[string]string{"1234": "4321"}})
	if err != nil {
		t.Fatal(err)
	}
	defer b.close()

	csv := "vrm,category,priority,action\nAB12CDE,Stolen vehicle,1,Stop\n"
	for i := 0; i < 1200; i++ {
		csv += fmt.Sprintf("ZZ%04dZ,No insurance,4,Check\n", i)
	}
	path := filepath.Join(dir, "stolen.csv")
	if err := os.WriteFile(path, []byte(csv), 0o644); err != nil {
		t.Fatal(err)
	}
	var last, total int
	n, err := b.ImportHotlist(ctx, path, "pnc", func(d, tot int) { last, total = d, tot })
	if err != nil {
		t.Fatal(err)
	}
	if n != 1201 || last != total || total != 1202 { // progress counts lines, the header too
		t.Fatalf("imported %d, progress %d of %d", n, last, total)
	}

	bad := filepath.Join(dir, "bad.csv")
	if err := os.WriteFile(bad, []byte("vrm,priority\nAB12CDE,x\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	if _, err := b.ImportHotlist(ctx, bad, "pnc", func(int, int) {}); err == nil {
		t.Fatal("a file with a bad line was imported")
	}
	if ms, err := b.Check(ctx, "AB12CDE"); err != nil || len(ms) != 1 {
		t.Fatalf("after a refused import the list must be the old one: %v %v", ms, err)
	}

	if _, err := b.AuthenticateOfficer(ctx, "1234", "0000"); err == nil {
		t.Fatal("wrong officer PIN accepted")
	}
	o, err := b.AuthenticateOfficer(ctx, "1234", "4321")
	if err != nil {
		t.Fatal(err)
	}
	b.LogOn(o)
	if err := b.AuthenticateAdmin(ctx, "1111"); err == nil {
		t.Fatal("wrong admin PIN accepted")
	}
	if err := b.AuthenticateAdmin(ctx, "2468"); err != nil {
		t.Fatal(err)
	}

	c.Tracker.Now = func() time.Time { return now }
	if _, _, err := c.Engine.Process(ctx, app.Sighting{Camera: "front", Time: now, Text: "AB12CDE", Raw: "AB12CDE",
		Confidence: 0.9, Candidates: []app.Candidate{{Text: "AB12CDE", Confidence: 0.9}}, PassID: "p1", Patch: []byte{0xff, 0xd8}}); err != nil {
		t.Fatal(err)
	}
	recs, err := b.ShiftReads(ctx, ui.ReadQuery{Since: now.Add(-time.Hour), VRM: "B12", Patches: true})
	if err != nil {
		t.Fatal(err)
	}
	if len(recs) != 1 || recs[0].Hit == nil || recs[0].Read.VRM != "AB12CDE" || recs[0].Decision != nil {
		t.Fatalf("shift reads = %+v", recs)
	}
	if err := b.Decide(ctx, app.Decision{ReadID: recs[0].Read.ID, Outcome: app.OutcomeConfirmed, Officer: "1234", Time: now}); err != nil {
		t.Fatal(err)
	}
	recs, err = b.ShiftReads(ctx, ui.ReadQuery{Since: now.Add(-time.Hour)})
	if err != nil {
		t.Fatal(err)
	}
	if len(recs) != 1 || recs[0].Decision == nil || recs[0].Decision.Outcome != app.OutcomeConfirmed {
		t.Fatalf("decision not in history: %+v", recs)
	}
	if _, err := b.Tile(0, 0, 0); !errors.Is(err, ui.ErrNoTiles) {
		t.Fatalf("Tile with no file = %v, want ErrNoTiles", err)
	}
}

// TestUIBackendTiles reads tiles from a real MBTiles file, TMS rows flipped.
func TestUIBackendTiles(t *testing.T) {
	ctx := context.Background()
	dir := t.TempDir()
	path := filepath.Join(dir, "map.mbtiles")
	db, err := sql.Open("sqlite", path)
	if err != nil {
		t.Fatal(err)
	}
	for _, q := range []string{
		"CREATE TABLE metadata (name TEXT, value TEXT)",
		"CREATE TABLE tiles (zoom_level INTEGER, tile_column INTEGER, tile_row INTEGER, tile_data BLOB)",
		"INSERT INTO tiles VALUES (2, 1, 3, x'89504e47')", // XYZ 2/1/0 is TMS row 3
	} {
		if _, err := db.ExecContext(ctx, q); err != nil {
			t.Fatal(err)
		}
	}
	db.Close()
	c := openTestCar(t, dir, time.Now)
	b, err := newUIBackend(c, uiOptions{MBTiles: path})
	if err != nil {
		t.Fatal(err)
	}
	defer b.close()
	got, err := b.Tile(2, 1, 0)
	if err != nil || string(got) != "\x89PNG" {
		t.Fatalf("Tile(2,1,0) = %q, %v", got, err)
	}
	if got, err := b.Tile(2, 1, 3); err != nil || got != nil {
		t.Fatalf("missing tile = %q, %v; want nil, nil", got, err)
	}
	if _, err := newUIBackend(c, uiOptions{MBTiles: filepath.Join(dir, "none.mbtiles")}); err == nil {
		t.Fatal("a missing tile file was accepted")
	}
}

// TestTapConfirmedStoresTheDecision is the whole path on a real car store:
// a sighting matches, the engine's hit event reaches the window, the
// officer taps Confirmed, and the decision is in SQLite with officer and
// time.
func TestTapConfirmedStoresTheDecision(t *testing.T) {
	ctx := context.Background()
	dir := t.TempDir()
	now := time.Date(2026, 11, 17, 14, 2, 0, 0, time.UTC)
	c := openTestCar(t, dir, func() time.Time { return now })
	b, err := newUIBackend(c, uiOptions{})
	if err != nil {
		t.Fatal(err)
	}
	defer b.close()
	path := filepath.Join(dir, "stolen.csv")
	if err := os.WriteFile(path, []byte("vrm,category,priority,action\nAB12CDE,Stolen vehicle,1,Stop\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	if _, err := b.ImportHotlist(ctx, path, "pnc", func(int, int) {}); err != nil {
		t.Fatal(err)
	}

	a := test.NewTempApp(t)
	vm := ui.NewViewModel(b, c.Now)
	u := ui.New(ctx, a, vm)
	if err := vm.LogOn(ctx, "1234", "any"); err != nil {
		t.Fatal(err)
	}
	sub := b.Subscribe(16)
	defer b.Unsubscribe(sub)
	if _, _, err := c.Engine.Process(ctx, app.Sighting{Camera: "front", Time: now, Text: "AB12CDE", Raw: "AB12CDE",
		Confidence: 0.9, Candidates: []app.Candidate{{Text: "AB12CDE", Confidence: 0.9}}, PassID: "p1"}); err != nil {
		t.Fatal(err)
	}
	// Apply on this goroutine what the view model's Run loop would.
	for len(sub.C) > 0 {
		vm.Apply(<-sub.C)
	}
	if !u.HitShown() {
		t.Fatal("the hit screen is not up")
	}
	var confirm *widget.Button
	var walk func(o fyne.CanvasObject)
	walk = func(o fyne.CanvasObject) {
		switch x := o.(type) {
		case *widget.Button:
			if x.Text == "Confirmed" && x.Visible() {
				confirm = x
			}
		case *fyne.Container:
			for _, c := range x.Objects {
				walk(c)
			}
		}
	}
	walk(u.Object(ui.ScreenHit))
	if confirm == nil {
		t.Fatal("no Confirmed button")
	}
	test.Tap(confirm)
	h, _ := vm.CurrentHit()
	if u.HitShown() {
		t.Fatalf("hit screen still up (on %s)", h.Read.ID)
	}
	recs, err := b.ShiftReads(ctx, ui.ReadQuery{Since: now.Add(-time.Hour)})
	if err != nil || len(recs) != 1 {
		t.Fatalf("reads = %v, %v", recs, err)
	}
	ds, err := c.DB.Decisions(ctx, recs[0].Read.ID)
	if err != nil {
		t.Fatal(err)
	}
	if len(ds) != 1 || ds[0].Outcome != app.OutcomeConfirmed || ds[0].Officer != "1234" || !ds[0].Time.Equal(now) {
		t.Fatalf("stored decisions = %+v", ds)
	}
	if n := len(c.Engine.Pending()); n != 0 {
		t.Fatalf("engine still has %d hits pending", n)
	}
}
