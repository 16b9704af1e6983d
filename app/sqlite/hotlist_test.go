package sqlite_test

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"path/filepath"
	"reflect"
	"sort"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/ukanpr/anpr/app"
	"github.com/ukanpr/anpr/app/sqlite"
)

func importList(t testing.TB, db *sqlite.DB, list string, replace bool, entries ...app.HotlistEntry) sqlite.ImportResult {
	t.Helper()
	imp, err := db.BeginImport(context.Background(), list, replace)
	if err != nil {
		t.Fatal(err)
	}
	defer imp.Rollback()
	for _, e := range entries {
		if err := imp.Add(e); err != nil {
			t.Fatal(err)
		}
	}
	res, err := imp.Commit()
	if err != nil {
		t.Fatal(err)
	}
	return res
}

// keys returns VRM → id of every entry; tests using it keep VRMs unique
// across lists.
func keys(t testing.TB, db *sqlite.DB) map[string]int64 {
	t.Helper()
	m := map[string]int64{}
	err := db.HotlistKeys(context.Background(), func(id int64, vrm string) error {
		m[vrm] = id
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	return m
}

func entries(t testing.TB, db *sqlite.DB) map[string]app.HotlistEntry {
	t.Helper()
	var ids []int64
	err := db.HotlistKeys(context.Background(), func(id int64, _ string) error {
		ids = append(ids, id)
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	es, err := db.HotlistEntries(context.Background(), ids)
	if err != nil {
		t.Fatal(err)
	}
	m := map[string]app.HotlistEntry{}
	for _, e := range es {
		m[e.List+"/"+e.VRM] = e
	}
	return m
}

func TestImportRoundTrip(t *testing.T) {
	db := openTest(t)
	ctx := context.Background()
	full := app.HotlistEntry{
		List: "ignored", VRM: "AB12CDE", Category: "stolen", Priority: 2, Action: "stop and check",
		Information: "taken from Derby 12/03", Markers: []string{"violence", "firearms"}, Make: "Ford",
		Model: "Focus", Colour: "blue", Reference: "DER/123", Expires: t0.Add(48 * time.Hour),
		Covert: true, AddedBy: "", Added: t0.Add(-time.Hour),
	}
	expired := app.HotlistEntry{VRM: "XY51ABC", Category: "no insurance", Priority: 7, Expires: t0.Add(-time.Minute)}
	pattern := app.HotlistEntry{VRM: "AB1?C*", Category: "firearms", Priority: 1}
	g0, _ := db.HotlistGeneration(ctx)
	res := importList(t, db, "pnc", false, full, expired, pattern)
	if res.Added != 3 || res.Entries != 3 || res.Removed != 0 || res.Generation != g0+1 {
		t.Errorf("result %+v", res)
	}
	if g, _ := db.HotlistGeneration(ctx); g != res.Generation {
		t.Errorf("generation %d, import said %d", g, res.Generation)
	}
	got := entries(t, db)
	if len(got) != 3 {
		t.Fatalf("%d entries: %+v", len(got), got)
	}
	want := full
	want.List, want.ID = "pnc", got["pnc/AB12CDE"].ID
	if !reflect.DeepEqual(got["pnc/AB12CDE"], want) {
		t.Errorf("entry\n got %+v\nwant %+v", got["pnc/AB12CDE"], want)
	}
	e := got["pnc/XY51ABC"]
	if !e.Expired(t0) || e.Covert || e.Markers != nil || !e.Added.Equal(t0) {
		t.Errorf("expired entry %+v", e)
	}
	if e := got["pnc/AB1?C*"]; !e.IsPattern() || !e.Expires.IsZero() {
		t.Errorf("pattern entry %+v", e)
	}

	// Ids that do not exist are left out; order follows the ids asked.
	ids := []int64{got["pnc/AB1?C*"].ID, 999999, got["pnc/AB12CDE"].ID}
	es, err := db.HotlistEntries(ctx, ids)
	if err != nil || len(es) != 2 || es[0].VRM != "AB1?C*" || es[1].VRM != "AB12CDE" {
		t.Errorf("HotlistEntries(%v) = %+v, %v", ids, es, err)
	}

	// Without replace: upsert by (list, VRM), other entries stay; the
	// updated entry has a new id and the old one is gone.
	upd := full
	upd.Priority, upd.Covert, upd.Markers = 4, false, nil
	res = importList(t, db, "pnc", false, upd, app.HotlistEntry{VRM: "NEW1", Priority: 5})
	if res.Added != 2 || res.Entries != 4 {
		t.Errorf("upsert result %+v", res)
	}
	got2 := entries(t, db)
	if e := got2["pnc/AB12CDE"]; e.Priority != 4 || e.Covert || e.Markers != nil {
		t.Errorf("upserted entry %+v", e)
	}
	if es, _ := db.HotlistEntries(ctx, []int64{want.ID}); len(es) != 0 {
		t.Errorf("the replaced entry's id still fetches %+v", es)
	}

	// Same VRM in another list is another entry.
	importList(t, db, "local", false, app.HotlistEntry{VRM: "AB12CDE", Priority: 3})
	if n := len(entries(t, db)); n != 5 {
		t.Errorf("%d entries after second list, want 5", n)
	}

	ev, _ := db.AuditEvents(ctx, time.Time{}, 0)
	if len(ev) != 3 || ev[0].Action != "hotlist.import" || ev[0].Actor != "admin" {
		t.Errorf("audit %+v", ev)
	}
}

func TestImportValidation(t *testing.T) {
	db := openTest(t)
	tests := []struct {
		name string
		e    app.HotlistEntry
	}{
		{"no vrm", app.HotlistEntry{Priority: 1}},
		{"space in vrm", app.HotlistEntry{VRM: "AB12 CDE", Priority: 1}},
		{"priority 0", app.HotlistEntry{VRM: "AB12CDE"}},
		{"priority 10", app.HotlistEntry{VRM: "AB12CDE", Priority: 10}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			imp, err := db.BeginImport(context.Background(), "pnc", false)
			if err != nil {
				t.Fatal(err)
			}
			defer imp.Rollback()
			if err := imp.Add(tt.e); err == nil {
				t.Errorf("Add(%+v) succeeded", tt.e)
			}
		})
	}
	if _, err := db.BeginImport(context.Background(), "", false); err == nil {
		t.Error("import without a list name succeeded")
	}
}

func TestImportReplaceAndRollback(t *testing.T) {
	db := openTest(t)
	ctx := context.Background()
	old := []app.HotlistEntry{{VRM: "OLD1", Priority: 1}, {VRM: "OLD2", Priority: 2}, {VRM: "BOTH", Priority: 3}}
	importList(t, db, "pnc", false, old...)
	importList(t, db, "other", false, app.HotlistEntry{VRM: "OTHER", Priority: 1})
	g, _ := db.HotlistGeneration(ctx)

	// An import that is rolled back leaves the old list and generation.
	for _, replace := range []bool{false, true} {
		imp, err := db.BeginImport(ctx, "pnc", replace)
		if err != nil {
			t.Fatal(err)
		}
		for i := range 1000 {
			if err := imp.Add(app.HotlistEntry{VRM: fmt.Sprintf("NEW%d", i), Priority: 1}); err != nil {
				t.Fatal(err)
			}
		}
		if err := imp.Rollback(); err != nil {
			t.Fatal(err)
		}
		if err := imp.Add(app.HotlistEntry{VRM: "LATE", Priority: 1}); err == nil {
			t.Error("Add after Rollback succeeded")
		}
		k := keys(t, db)
		if len(k) != 4 || k["OLD1"] == 0 || k["OTHER"] == 0 {
			t.Errorf("replace=%t: keys after rollback %v", replace, k)
		}
		if g2, _ := db.HotlistGeneration(ctx); g2 != g {
			t.Errorf("generation %d after rollback, want %d", g2, g)
		}
	}

	// Replace: exactly the new entries, other lists untouched.
	res := importList(t, db, "pnc", true, app.HotlistEntry{VRM: "BOTH", Priority: 9}, app.HotlistEntry{VRM: "NEW", Priority: 1})
	if res.Removed != 3 || res.Added != 2 || res.Entries != 2 {
		t.Errorf("replace result %+v", res)
	}
	got := entries(t, db)
	if len(got) != 3 || got["pnc/BOTH"].Priority != 9 || got["pnc/NEW"].ID == 0 || got["other/OTHER"].ID == 0 {
		t.Errorf("after replace: %+v", got)
	}
}

// TestImportReplaceAtomic has a reader on its own connection count a list
// over and over while it is replaced: it must only ever see the whole old
// list or the whole new one.
func TestImportReplaceAtomic(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, "car.db")
	writer, err := sqlite.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer writer.Close()
	reader, err := sqlite.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer reader.Close()

	const oldN, newN = 3000, 5000
	list := func(prefix string, n int) []app.HotlistEntry {
		es := make([]app.HotlistEntry, n)
		for i := range es {
			es[i] = app.HotlistEntry{VRM: fmt.Sprintf("%s%05d", prefix, i), Priority: 1 + i%9}
		}
		return es
	}
	importList(t, writer, "pnc", false, list("OLD", oldN)...)

	var (
		stop    atomic.Bool
		wg      sync.WaitGroup
		scans   atomic.Int64
		badScan atomic.Value
	)
	wg.Add(1)
	go func() {
		defer wg.Done()
		for !stop.Load() {
			var nOld, nNew int
			err := reader.HotlistKeys(context.Background(), func(id int64, vrm string) error {
				switch vrm[:3] {
				case "OLD":
					nOld++
				case "NEW":
					nNew++
				}
				return nil
			})
			if err != nil {
				badScan.Store(err.Error())
				return
			}
			if !(nOld == oldN && nNew == 0) && !(nOld == 0 && nNew == newN) {
				badScan.Store(fmt.Sprintf("half list: %d old, %d new", nOld, nNew))
				return
			}
			scans.Add(1)
		}
	}()
	for round := range 3 {
		prefix, n := "NEW", newN
		if round%2 == 1 {
			prefix, n = "OLD", oldN
		}
		imp, err := writer.BeginImport(context.Background(), "pnc", true)
		if err != nil {
			t.Fatal(err)
		}
		for i, e := range list(prefix, n) {
			if err := imp.Add(e); err != nil {
				t.Fatal(err)
			}
			if i%1000 == 0 {
				time.Sleep(time.Millisecond) // let the reader scan mid-import
			}
		}
		if _, err := imp.Commit(); err != nil {
			t.Fatal(err)
		}
	}
	time.Sleep(20 * time.Millisecond)
	stop.Store(true)
	wg.Wait()
	if v := badScan.Load(); v != nil {
		t.Fatal(v)
	}
	if scans.Load() < 3 {
		t.Errorf("reader completed only %d scans", scans.Load())
	}
	if k := keys(t, reader); len(k) != newN {
		t.Errorf("%d keys at the end, want %d", len(k), newN)
	}
}

func TestHotlistKeysStops(t *testing.T) {
	db := openTest(t)
	importList(t, db, "pnc", false, app.HotlistEntry{VRM: "A1", Priority: 1}, app.HotlistEntry{VRM: "B2", Priority: 1})
	stop := errors.New("enough")
	n := 0
	err := db.HotlistKeys(context.Background(), func(int64, string) error { n++; return stop })
	if !errors.Is(err, stop) || n != 1 {
		t.Errorf("err %v after %d calls, want %v after 1", err, n, stop)
	}
}

func TestHotlistStats(t *testing.T) {
	db := openTest(t)
	importList(t, db, "pnc", false,
		app.HotlistEntry{VRM: "AB12CDE", Priority: 1, Covert: true},
		app.HotlistEntry{VRM: "AB1*", Priority: 1},
		app.HotlistEntry{VRM: "XY51ABC", Priority: 5, Expires: t0},                       // expires now: expired
		app.HotlistEntry{VRM: "XY52ABC", Priority: 5, Expires: t0.Add(time.Second)},      // not yet
		app.HotlistEntry{VRM: "XY53ABC", Priority: 9, Expires: t0.Add(-time.Hour)},       // expired
		app.HotlistEntry{VRM: "?Y53ABC", Priority: 9, Covert: true, Expires: t0.Add(-1)}, // expired pattern
	)
	importList(t, db, "empty", true)
	got, err := db.HotlistStats(context.Background(), t0)
	if err != nil {
		t.Fatal(err)
	}
	want := []sqlite.ListStats{
		{List: "empty", ByPriority: map[int]int{}, Updated: t0},
		{List: "pnc", Entries: 6, Patterns: 2, Covert: 2, Expired: 3, ByPriority: map[int]int{1: 2, 5: 2, 9: 2}, Updated: t0},
	}
	if !reflect.DeepEqual(got, want) {
		t.Errorf("stats\n got %+v\nwant %+v", got, want)
	}
}

func TestAddWanted(t *testing.T) {
	db := openTest(t)
	ctx := context.Background()
	ok := app.HotlistEntry{VRM: "AB12CDE", Category: "wanted", Information: "failed to stop",
		Expires: t0.Add(app.MaxWantedTTL), AddedBy: "1234"}
	tests := []struct {
		name    string
		e       app.HotlistEntry
		wantErr bool
	}{
		{"ok at the limit", ok, false},
		{"no officer", func() app.HotlistEntry { e := ok; e.AddedBy = ""; return e }(), true},
		{"no expiry", func() app.HotlistEntry { e := ok; e.Expires = time.Time{}; return e }(), true},
		{"expiry past", func() app.HotlistEntry { e := ok; e.Expires = t0.Add(-time.Second); return e }(), true},
		{"expiry beyond ttl", func() app.HotlistEntry { e := ok; e.Expires = t0.Add(app.MaxWantedTTL + time.Millisecond); return e }(), true},
		{"no vrm", func() app.HotlistEntry { e := ok; e.VRM = ""; return e }(), true},
		{"bad priority", func() app.HotlistEntry { e := ok; e.Priority = 12; return e }(), true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			g0, _ := db.HotlistGeneration(ctx)
			st0, _ := db.OutboxStats(ctx)
			got, err := db.AddWanted(ctx, tt.e)
			g1, _ := db.HotlistGeneration(ctx)
			st1, _ := db.OutboxStats(ctx)
			if tt.wantErr {
				if err == nil {
					t.Fatalf("AddWanted(%+v) succeeded", tt.e)
				}
				if g1 != g0 || st1.Pending != st0.Pending {
					t.Error("a refused entry changed the generation or the outbox")
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if got.ID == 0 || got.List != app.WantedListName || got.Priority != sqlite.DefaultWantedPriority || !got.Added.Equal(t0) {
				t.Errorf("stored %+v", got)
			}
			if g1 != g0+1 || st1.Pending != st0.Pending+1 {
				t.Errorf("generation %d→%d, pending %d→%d", g0, g1, st0.Pending, st1.Pending)
			}
			es, _ := db.HotlistEntries(ctx, []int64{got.ID})
			if len(es) != 1 || !reflect.DeepEqual(es[0], got) {
				t.Errorf("entries %+v, want %+v", es, got)
			}
			items, err := db.OutboxPending(ctx, 10, 0)
			if err != nil || len(items) != 1 || items[0].Kind != app.OutboxWanted || !reflect.DeepEqual(*items[0].Wanted, got) {
				t.Errorf("outbox %+v, %v", items, err)
			}
			ev, _ := db.AuditEvents(ctx, time.Time{}, 0)
			if len(ev) != 1 || ev[0].Action != "wanted.add" || ev[0].Actor != "1234" {
				t.Errorf("audit %+v", ev)
			}
		})
	}
}

func TestDeleteList(t *testing.T) {
	db := openTest(t)
	ctx := context.Background()
	importList(t, db, "pnc", false, app.HotlistEntry{VRM: "A1", Priority: 1}, app.HotlistEntry{VRM: "B2", Priority: 1})
	importList(t, db, "local", false, app.HotlistEntry{VRM: "C3", Priority: 1})
	g, _ := db.HotlistGeneration(ctx)
	if err := db.DeleteList(ctx, "pnc"); err != nil {
		t.Fatal(err)
	}
	if k := keys(t, db); len(k) != 1 || k["C3"] == 0 {
		t.Errorf("keys after delete %v", k)
	}
	if g2, _ := db.HotlistGeneration(ctx); g2 != g+1 {
		t.Errorf("generation %d, want %d", g2, g+1)
	}
	if err := db.DeleteList(ctx, "pnc"); !errors.Is(err, sqlite.ErrNotFound) {
		t.Errorf("second delete: %v, want ErrNotFound", err)
	}
	st, _ := db.HotlistStats(ctx, t0)
	var names []string
	for _, s := range st {
		names = append(names, s.List)
	}
	sort.Strings(names)
	if !reflect.DeepEqual(names, []string{"local"}) {
		t.Errorf("lists %v", names)
	}
}

// TestHotlistKeysPacked checks the packed keys HotlistKeys reads against the
// packed entries after every kind of change, across several chunks.
func TestHotlistKeysPacked(t *testing.T) {
	db := openTest(t)
	ctx := context.Background()
	raw, err := sql.Open("sqlite", db.Path())
	if err != nil {
		t.Fatal(err)
	}
	defer raw.Close()
	check := func(step string) {
		t.Helper()
		want, err := sqlite.ChunkKeys(ctx, db)
		if err != nil {
			t.Fatal(err)
		}
		got := map[int64]string{}
		err = db.HotlistKeys(ctx, func(id int64, vrm string) error {
			if _, dup := got[id]; dup {
				return fmt.Errorf("id %d twice", id)
			}
			got[id] = vrm
			return nil
		})
		if err != nil {
			t.Fatalf("%s: %v", step, err)
		}
		if !reflect.DeepEqual(got, want) {
			t.Fatalf("%s: HotlistKeys gives %d keys, the table holds %d", step, len(got), len(want))
		}
	}
	const big = 70000 // more than one chunk
	many := make([]app.HotlistEntry, big)
	for i := range many {
		many[i] = app.HotlistEntry{VRM: fmt.Sprintf("BG%05d", i), Priority: 1}
	}
	importList(t, db, "big", true, many...)
	check("big import")
	importList(t, db, "big", false, app.HotlistEntry{VRM: "BG00001", Priority: 2}, app.HotlistEntry{VRM: "NEW*", Priority: 1})
	check("upsert")
	importList(t, db, "small", true, app.HotlistEntry{VRM: "SM1", Priority: 1})
	importList(t, db, "small", true, app.HotlistEntry{VRM: "SM2", Priority: 1}, app.HotlistEntry{VRM: "SM3", Priority: 1})
	check("replace")
	if _, err := db.AddWanted(ctx, app.HotlistEntry{VRM: "WA1", Expires: t0.Add(time.Hour), AddedBy: "1"}); err != nil {
		t.Fatal(err)
	}
	check("wanted")
	imp, err := db.BeginImport(ctx, "small", true)
	if err != nil {
		t.Fatal(err)
	}
	imp.Add(app.HotlistEntry{VRM: "GONE", Priority: 1})
	imp.Rollback()
	check("rollback")
	if err := db.DeleteList(ctx, "big"); err != nil {
		t.Fatal(err)
	}
	check("delete")

	if _, err := raw.Exec("UPDATE hotlist_keys SET keys = x'ff'"); err != nil {
		t.Fatal(err)
	}
	if err := db.HotlistKeys(ctx, func(int64, string) error { return nil }); err == nil {
		t.Error("corrupt packed keys gave no error")
	}
	var id int64
	if err := raw.QueryRow("SELECT id FROM hotlist_chunks LIMIT 1").Scan(&id); err != nil {
		t.Fatal(err)
	}
	if _, err := raw.Exec("UPDATE hotlist_chunks SET entries = x'0001ff'"); err != nil {
		t.Fatal(err)
	}
	if _, err := db.HotlistEntries(ctx, []int64{id << 6}); err == nil || !strings.Contains(err.Error(), fmt.Sprint("chunk ", id)) {
		t.Errorf("corrupt packed entries: %v, want an error naming chunk %d", err, id)
	}
	if _, err := db.HotlistStats(ctx, t0); err == nil {
		t.Error("stats over corrupt packed entries gave no error")
	}
}
