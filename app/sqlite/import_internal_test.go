package sqlite

import (
	"context"
	"database/sql"
	"path/filepath"
	"reflect"
	"strconv"
	"testing"
	"time"

	"github.com/ukanpr/anpr/app"
)

// An import turns foreign keys off on the writer's connection; every way out
// of it must put the writer's settings back.
func TestImportRestoresWriterSettings(t *testing.T) {
	db, err := Open(filepath.Join(t.TempDir(), "car.db"))
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	ctx := context.Background()
	check := func(when string) {
		t.Helper()
		var fk, ts, cache int
		if err := db.w.QueryRow("PRAGMA foreign_keys").Scan(&fk); err != nil {
			t.Fatal(err)
		}
		if err := db.w.QueryRow("PRAGMA temp_store").Scan(&ts); err != nil {
			t.Fatal(err)
		}
		if err := db.w.QueryRow("PRAGMA cache_size").Scan(&cache); err != nil {
			t.Fatal(err)
		}
		if fk != 1 || ts != 0 || cache != cacheKiB {
			t.Errorf("%s: foreign_keys %d temp_store %d cache_size %d, want 1 0 %d", when, fk, ts, cache, cacheKiB)
		}
	}
	check("before")
	for _, commit := range []bool{true, false} {
		imp, err := db.BeginImport(ctx, "pnc", true)
		if err != nil {
			t.Fatal(err)
		}
		// More than one chunk and a remainder, with duplicates: the later wins.
		for i := range chunkEntries*3 + 1 {
			if err := imp.Add(app.HotlistEntry{VRM: "AB12CD" + strconv.Itoa(i%20), Priority: 1 + i%9}); err != nil {
				t.Fatal(err)
			}
		}
		if commit {
			res, err := imp.Commit()
			if err != nil {
				t.Fatal(err)
			}
			if res.Entries != 20 || res.Added != chunkEntries*3+1 {
				t.Errorf("result %+v, want 20 entries, %d added", res, chunkEntries*3+1)
			}
			check("after commit")
		} else {
			if err := imp.Rollback(); err != nil {
				t.Fatal(err)
			}
			check("after rollback")
		}
	}
	// AB12CD0 was added at i = 0, 20, 40, …, 180 (priorities 1, 3, 5, 7, 9,
	// 2, 4, 6, 8, 1); the last wins.
	if e := entryByVRM(t, db, "AB12CD0"); e.Priority != 1+180%9 {
		t.Errorf("AB12CD0 priority %d, want %d (the last entry)", e.Priority, 1+180%9)
	}
}

// entryByVRM finds the one live entry for vrm through the packed keys.
func entryByVRM(t *testing.T, db *DB, vrm string) app.HotlistEntry {
	t.Helper()
	var ids []int64
	err := db.HotlistKeys(context.Background(), func(id int64, v string) error {
		if v == vrm {
			ids = append(ids, id)
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	es, err := db.HotlistEntries(context.Background(), ids)
	if err != nil || len(es) != 1 {
		t.Fatalf("%s: %d keys, entries %+v, %v; want one", vrm, len(ids), es, err)
	}
	return es[0]
}

// Entries spanning many chunks with the same VRM in different chunks, in
// one import and across a merging one: the last added wins, the replaced
// ones are dead (in no key, fetched by no id), and a rollback leaves the
// list as it was.
func TestImportChunks(t *testing.T) {
	db, err := Open(filepath.Join(t.TempDir(), "car.db"))
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	ctx := context.Background()
	const distinct = 5*chunkEntries + 7
	n := 2*distinct + 10
	add := func(imp *Import, n, prio int) {
		t.Helper()
		for i := range n {
			if err := imp.Add(app.HotlistEntry{VRM: "V" + strconv.Itoa(i%distinct), Priority: prio + i/distinct}); err != nil {
				t.Fatal(err)
			}
		}
	}
	count := func() (live int, ids []int64) {
		t.Helper()
		err := db.HotlistKeys(ctx, func(id int64, vrm string) error { ids = append(ids, id); return nil })
		if err != nil {
			t.Fatal(err)
		}
		return len(ids), ids
	}
	imp, err := db.BeginImport(ctx, "pnc", false)
	if err != nil {
		t.Fatal(err)
	}
	add(imp, n, 1)
	res, err := imp.Commit()
	if err != nil {
		t.Fatal(err)
	}
	if res.Entries != distinct || res.Added != n {
		t.Fatalf("result %+v, want %d entries, %d added", res, distinct, n)
	}
	live, ids := count()
	es, err := db.HotlistEntries(ctx, ids)
	if err != nil || live != distinct || len(es) != distinct {
		t.Fatalf("%d keys, %d entries (%v), want %d", live, len(es), err, distinct)
	}
	for _, e := range es {
		// i < 10 came three times (priorities 1, 2, 3), the rest twice.
		want := 2
		if v, _ := strconv.Atoi(e.VRM[1:]); v < 10 {
			want = 3
		}
		if e.Priority != want {
			t.Fatalf("%s priority %d, want %d", e.VRM, e.Priority, want)
		}
	}
	// A merge that updates one in three and adds some.
	imp, err = db.BeginImport(ctx, "pnc", false)
	if err != nil {
		t.Fatal(err)
	}
	for i := 0; i < distinct+20; i += 3 {
		imp.Add(app.HotlistEntry{VRM: "V" + strconv.Itoa(i), Priority: 9})
	}
	if res, err = imp.Commit(); err != nil || res.Entries != distinct+20/3+1 {
		t.Fatalf("merge: %+v, %v; want %d entries", res, err, distinct+20/3+1)
	}
	if e := entryByVRM(t, db, "V3"); e.Priority != 9 {
		t.Errorf("V3 priority %d after the merge, want 9", e.Priority)
	}
	if e := entryByVRM(t, db, "V13"); e.Priority != 2 {
		t.Errorf("V13 priority %d after the merge, want 2 (kept)", e.Priority)
	}
	if es, _ := db.HotlistEntries(ctx, ids); len(es) != distinct-(distinct+2)/3 {
		t.Errorf("old ids fetch %d entries, want the %d not replaced", len(es), distinct-(distinct+2)/3)
	}
	before, _ := count()

	imp, err = db.BeginImport(ctx, "pnc", true)
	if err != nil {
		t.Fatal(err)
	}
	add(imp, 3*chunkEntries+1, 1)
	if err := imp.Rollback(); err != nil {
		t.Fatal(err)
	}
	if after, _ := count(); after != before {
		t.Errorf("after rollback %d entries, want %d", after, before)
	}
	if e := entryByVRM(t, db, "V3"); e.Priority != 9 {
		t.Errorf("V3 priority %d after the rollback, want 9", e.Priority)
	}
}

// A car's database at schema 1 (a row per hot-list entry) opens at the new
// schema with every entry, detail, expiry and flag kept, and matches the
// same marks.
func TestMigrateHotlistToChunks(t *testing.T) {
	path := filepath.Join(t.TempDir(), "car.db")
	raw, err := sql.Open("sqlite", path)
	if err != nil {
		t.Fatal(err)
	}
	migs, err := migrations()
	if err != nil {
		t.Fatal(err)
	}
	if _, err := raw.Exec(migs[0].sql); err != nil {
		t.Fatal(err)
	}
	want := map[string]app.HotlistEntry{}
	for i, e := range []app.HotlistEntry{
		{List: "pnc", VRM: "AB12CDE", Category: "stolen", Priority: 1, Covert: true, Markers: []string{"firearms"}, Make: "Ford"},
		{List: "pnc", VRM: "AB1?C*", Category: "pattern", Priority: 3, Expires: time.UnixMilli(1_900_000_000_000).UTC()},
		{List: "local", VRM: "XY51ABC", Category: "no insurance", Priority: 7, Information: "seen at Derby"},
	} {
		e.Added = time.UnixMilli(1_800_000_000_000 + int64(i)).UTC()
		var list int64
		if err := raw.QueryRow(`INSERT INTO lists (name, updated) VALUES (?, 0)
			ON CONFLICT (name) DO UPDATE SET updated = 0 RETURNING id`, e.List).Scan(&list); err != nil {
			t.Fatal(err)
		}
		var expires any
		if !e.Expires.IsZero() {
			expires = ms(e.Expires)
		}
		if _, err := raw.Exec(`INSERT INTO hotlist (list_id, vrm, pattern, priority, covert, expires, added, detail)
			VALUES (?, ?, ?, ?, ?, ?, ?, ?)`, list, e.VRM, boolInt(e.IsPattern()), e.Priority, boolInt(e.Covert),
			expires, ms(e.Added), appendDetail(nil, e)); err != nil {
			t.Fatal(err)
		}
		want[e.List+"/"+e.VRM] = e
	}
	if _, err := raw.Exec("PRAGMA user_version = 1"); err != nil {
		t.Fatal(err)
	}
	raw.Close()

	db, err := Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	var ids []int64
	if err := db.HotlistKeys(context.Background(), func(id int64, _ string) error { ids = append(ids, id); return nil }); err != nil {
		t.Fatal(err)
	}
	es, err := db.HotlistEntries(context.Background(), ids)
	if err != nil || len(es) != len(want) {
		t.Fatalf("after migration %d entries (%v), want %d", len(es), err, len(want))
	}
	for _, e := range es {
		w := want[e.List+"/"+e.VRM]
		w.ID = e.ID
		if !reflect.DeepEqual(e, w) {
			t.Errorf("migrated\n%+v\nwant\n%+v", e, w)
		}
	}
	var tables int
	db.r.QueryRow("SELECT count(*) FROM sqlite_schema WHERE name = 'hotlist'").Scan(&tables)
	if tables != 0 {
		t.Error("the old hotlist table is still there")
	}
	if err := db.IntegrityCheck(context.Background()); err != nil {
		t.Error(err)
	}
}
