package sqlite_test

import (
	"context"
	"errors"
	"fmt"
	"math"
	"reflect"
	"testing"
	"time"

	"github.com/ukanpr/anpr/app"
	"github.com/ukanpr/anpr/app/sqlite"
)

func testHit(readID string, at time.Time, entries ...app.HotlistEntry) *app.Hit {
	h := &app.Hit{ReadID: readID, Time: at}
	for i, e := range entries {
		m := app.Match{Entry: e, Kind: app.MatchExact, Candidate: e.VRM}
		if i > 0 {
			m.Kind, m.Diff = app.MatchLookalike, []int{2}
		}
		h.Matches = append(h.Matches, m)
	}
	return h
}

func TestSaveReadRoundTrip(t *testing.T) {
	db := openTest(t)
	ctx := context.Background()
	tests := []struct {
		name string
		r    app.Read
	}{
		{"full", testRead("r-full", "AB12CDE", t0)},
		{"no images, no fix, unknowns", func() app.Read {
			r := testRead("r-bare", "XY51ABC", t0.Add(time.Second))
			r.Patch, r.Overview = nil, nil
			r.Position = app.Position{Fix: app.FixNone, Lat: math.NaN(), Lon: math.NaN(), HeadingDeg: math.NaN(), AltM: math.NaN(), SpeedMPS: math.NaN(), HDOP: math.NaN()}
			r.Candidates, r.CharConfidences = nil, nil
			r.ClockSource, r.ClockSuspect, r.ClockOffset = app.ClockSystem, false, 0
			return r
		}()},
		{"patch only", func() app.Read {
			r := testRead("r-patch", "AB12CDF", t0.Add(2*time.Second))
			r.Overview = nil
			return r
		}()},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if err := db.SaveRead(ctx, tt.r, nil); err != nil {
				t.Fatal(err)
			}
			got, err := db.Read(ctx, tt.r.ID)
			if err != nil {
				t.Fatal(err)
			}
			sameRead(t, got, tt.r)
			if _, err := db.Hit(ctx, tt.r.ID); !errors.Is(err, sqlite.ErrNotFound) {
				t.Errorf("Hit of a read without one: %v, want ErrNotFound", err)
			}
		})
	}
	if _, err := db.Read(ctx, "nope"); !errors.Is(err, sqlite.ErrNotFound) {
		t.Errorf("Read(nope): %v, want ErrNotFound", err)
	}
	for _, bad := range []app.Read{{VRM: "AB12CDE", Time: t0}, {ID: "x", VRM: "AB12CDE"}} {
		if err := db.SaveRead(ctx, bad, nil); err == nil {
			t.Errorf("SaveRead(%+v) succeeded", bad)
		}
	}
	if err := db.SaveRead(ctx, testRead("r-x", "AB12CDE", t0), &app.Hit{ReadID: "other"}); err == nil {
		t.Error("SaveRead with another read's hit succeeded")
	}
}

func TestSaveReadIdempotent(t *testing.T) {
	db := openTest(t)
	ctx := context.Background()
	r := testRead("r1", "AB12CDE", t0)
	for range 3 {
		if err := db.SaveRead(ctx, r, nil); err != nil {
			t.Fatal(err)
		}
	}
	// Saving again, even inside a batch with a new read, stores it once.
	err := db.SaveReads(ctx, []sqlite.ReadWithHit{{Read: r}, {Read: testRead("r2", "AB12CDF", t0)}})
	if err != nil {
		t.Fatal(err)
	}
	reads, err := db.Reads(ctx, sqlite.ReadQuery{})
	if err != nil || len(reads) != 2 {
		t.Fatalf("%d reads, %v; want 2", len(reads), err)
	}
	st, _ := db.OutboxStats(ctx)
	if st.Pending != 4 { // a read and an overview item each
		t.Errorf("%d outbox items pending, want 4", st.Pending)
	}
}

func TestSaveReadsAtomic(t *testing.T) {
	db := openTest(t)
	ctx := context.Background()
	good := testRead("ok", "AB12CDE", t0)
	bad := testRead("bad", "AB12CDE", time.Time{}) // no time: invalid
	if err := db.SaveReads(ctx, []sqlite.ReadWithHit{{Read: good}, {Read: bad}}); err == nil {
		t.Fatal("SaveReads with an invalid read succeeded")
	}
	if _, err := db.Read(ctx, "ok"); !errors.Is(err, sqlite.ErrNotFound) {
		t.Errorf("the valid read of a refused batch: %v, want ErrNotFound", err)
	}
	// A save that cannot begin stores nothing and says so.
	cctx, cancel := context.WithCancel(ctx)
	cancel()
	if err := db.SaveReads(cctx, []sqlite.ReadWithHit{{Read: good}}); err == nil {
		t.Error("SaveReads with a cancelled context succeeded")
	}
	if _, err := db.Read(ctx, "ok"); !errors.Is(err, sqlite.ErrNotFound) {
		t.Errorf("after cancelled save: %v, want ErrNotFound", err)
	}
}

func TestHits(t *testing.T) {
	db := openTest(t)
	ctx := context.Background()
	entry := app.HotlistEntry{ID: 41, List: "pnc", VRM: "AB12CDE", Category: "stolen", Priority: 1,
		Markers: []string{"violence"}, Expires: t0.Add(time.Hour), Covert: true, Added: t0.Add(-time.Hour)}
	look := app.HotlistEntry{ID: 42, List: "local", VRM: "AB12C0E", Priority: 4, Added: t0}
	r := testRead("r1", "AB12CDE", t0)
	h := testHit("", t0, entry, look) // empty ReadID: taken from the read
	if err := db.SaveRead(ctx, r, h); err != nil {
		t.Fatal(err)
	}
	got, err := db.Hit(ctx, "r1")
	if err != nil {
		t.Fatal(err)
	}
	want := *h
	want.ReadID = "r1"
	if !reflect.DeepEqual(got, want) {
		t.Errorf("hit\n got %+v\nwant %+v", got, want)
	}

	// The hit keeps the entry as it was, whatever the list does later.
	importList(t, db, "pnc", true, app.HotlistEntry{VRM: "AB12CDE", Priority: 9})
	if got, _ := db.Hit(ctx, "r1"); got.Matches[0].Entry.Priority != 1 || !got.Matches[0].Entry.Covert {
		t.Errorf("hit entry changed with the list: %+v", got.Matches[0].Entry)
	}

	// A past hit raised later on a stored read.
	if err := db.SaveRead(ctx, testRead("r2", "XY51ABC", t0), nil); err != nil {
		t.Fatal(err)
	}
	past := app.Hit{ReadID: "r2", Time: t0.Add(time.Hour), Past: true, Matches: []app.Match{{Entry: look, Kind: app.MatchWildcard, Candidate: "XY51ABC"}}}
	if err := db.SaveHit(ctx, past); err != nil {
		t.Fatal(err)
	}
	if got, err := db.Hit(ctx, "r2"); err != nil || !reflect.DeepEqual(got, past) {
		t.Errorf("past hit %+v, %v", got, err)
	}
	if err := db.SaveHit(ctx, app.Hit{ReadID: "nope", Time: t0}); !errors.Is(err, sqlite.ErrNotFound) {
		t.Errorf("SaveHit for a missing read: %v, want ErrNotFound", err)
	}
	hits, err := db.Reads(ctx, sqlite.ReadQuery{HitsOnly: true})
	if err != nil || len(hits) != 2 {
		t.Errorf("hits only: %d reads, %v", len(hits), err)
	}
}

func TestSaveDecision(t *testing.T) {
	db := openTest(t)
	ctx := context.Background()
	if err := db.SaveRead(ctx, testRead("r1", "AB12CDE", t0), testHit("r1", t0, app.HotlistEntry{ID: 1, List: "pnc", VRM: "AB12CDE", Priority: 1})); err != nil {
		t.Fatal(err)
	}
	if err := db.SaveRead(ctx, testRead("nohit", "AB12CDF", t0), nil); err != nil {
		t.Fatal(err)
	}
	ok := app.Decision{ReadID: "r1", Outcome: app.OutcomeConfirmed, Officer: "1234", Time: t0.Add(time.Minute)}
	tests := []struct {
		name     string
		d        app.Decision
		notFound bool
		wantErr  bool
	}{
		{"confirmed", ok, false, false},
		{"other with reason", app.Decision{ReadID: "r1", Outcome: app.OutcomeOther, Reason: "plate obscured", Officer: "1234", Time: t0.Add(2 * time.Minute)}, false, false},
		{"other without reason", app.Decision{ReadID: "r1", Outcome: app.OutcomeOther, Officer: "1234", Time: t0}, false, true},
		{"unknown outcome", app.Decision{ReadID: "r1", Outcome: "arrested", Officer: "1234", Time: t0}, false, true},
		{"no officer", app.Decision{ReadID: "r1", Outcome: app.OutcomeMisread, Time: t0}, false, true},
		{"read without hit", app.Decision{ReadID: "nohit", Outcome: app.OutcomeMisread, Officer: "1234", Time: t0}, true, true},
		{"missing read", app.Decision{ReadID: "nope", Outcome: app.OutcomeMisread, Officer: "1234", Time: t0}, true, true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			err := db.SaveDecision(ctx, tt.d)
			if (err != nil) != tt.wantErr || errors.Is(err, sqlite.ErrNotFound) != tt.notFound {
				t.Fatalf("SaveDecision: %v (want error %t, not found %t)", err, tt.wantErr, tt.notFound)
			}
		})
	}
	ds, err := db.Decisions(ctx, "r1")
	if err != nil || len(ds) != 2 || ds[0] != ok || ds[1].Reason != "plate obscured" {
		t.Errorf("decisions %+v, %v", ds, err)
	}
	ev, _ := db.AuditEvents(ctx, time.Time{}, 0)
	if len(ev) != 2 || ev[0].Action != "decision" || ev[0].Actor != "1234" {
		t.Errorf("audit %+v", ev)
	}
	items, _ := db.OutboxPending(ctx, 100, 0)
	var decisions []app.Decision
	for _, it := range items {
		if it.Kind == app.OutboxDecision {
			decisions = append(decisions, *it.Decision)
		}
	}
	if !reflect.DeepEqual(decisions, ds) {
		t.Errorf("queued decisions %+v, want %+v", decisions, ds)
	}
}

func TestReadsQuery(t *testing.T) {
	db := openTest(t)
	ctx := context.Background()
	vrms := []string{"AB12CDE", "AB12CDF", "XY51ABC", "AB_1%", "ZAB12C"}
	var batch []sqlite.ReadWithHit
	for i, v := range vrms {
		r := testRead(fmt.Sprintf("r%d", i), v, t0.Add(time.Duration(i)*time.Minute))
		if i%2 == 1 {
			r.Camera = "rear"
		}
		var h *app.Hit
		if i == 2 {
			h = testHit(r.ID, r.Time, app.HotlistEntry{ID: 1, List: "pnc", VRM: v, Priority: 1})
		}
		batch = append(batch, sqlite.ReadWithHit{Read: r, Hit: h})
	}
	if err := db.SaveReads(ctx, batch); err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name string
		q    sqlite.ReadQuery
		want []string
	}{
		{"all newest first", sqlite.ReadQuery{}, []string{"r4", "r3", "r2", "r1", "r0"}},
		{"limit", sqlite.ReadQuery{Limit: 2}, []string{"r4", "r3"}},
		{"window", sqlite.ReadQuery{From: t0.Add(time.Minute), To: t0.Add(3 * time.Minute)}, []string{"r2", "r1"}},
		{"from only", sqlite.ReadQuery{From: t0.Add(3 * time.Minute)}, []string{"r4", "r3"}},
		{"substring", sqlite.ReadQuery{VRM: "AB12C"}, []string{"r4", "r1", "r0"}},
		{"prefix", sqlite.ReadQuery{VRM: "AB12C", VRMPrefix: true}, []string{"r1", "r0"}},
		{"wildcard characters are literal", sqlite.ReadQuery{VRM: "_1%"}, []string{"r3"}},
		{"prefix with underscore", sqlite.ReadQuery{VRM: "AB_", VRMPrefix: true}, []string{"r3"}},
		{"camera", sqlite.ReadQuery{Camera: "rear"}, []string{"r3", "r1"}},
		{"hits only", sqlite.ReadQuery{HitsOnly: true}, []string{"r2"}},
		{"combined", sqlite.ReadQuery{VRM: "AB1", Camera: "front", To: t0.Add(4 * time.Minute)}, []string{"r0"}},
		{"nothing", sqlite.ReadQuery{VRM: "QQ"}, nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			for _, images := range []bool{false, true} {
				q := tt.q
				q.Images = images
				got, err := db.Reads(ctx, q)
				if err != nil {
					t.Fatal(err)
				}
				var ids []string
				for _, r := range got {
					ids = append(ids, r.ID)
					if images != (r.Overview != nil && r.Patch != nil) {
						t.Errorf("images=%t: read %s has patch %d, overview %d bytes", images, r.ID, len(r.Patch), len(r.Overview))
					}
				}
				if !reflect.DeepEqual(ids, tt.want) {
					t.Errorf("images=%t: %v, want %v", images, ids, tt.want)
				}
			}
		})
	}
	// Listing without images returns every other field.
	got, _ := db.Reads(ctx, sqlite.ReadQuery{VRM: "XY51ABC", VRMPrefix: true})
	want := batch[2].Read
	want.Patch, want.Overview = nil, nil
	if len(got) != 1 {
		t.Fatalf("%d reads", len(got))
	}
	sameRead(t, got[0], want)
}
