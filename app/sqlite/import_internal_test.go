package sqlite

import (
	"context"
	"path/filepath"
	"strconv"
	"testing"

	"github.com/ukanpr/anpr/app"
)

// An import turns foreign keys off and the statement journal into memory on
// the writer's connection; every way out of it must put them back.
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
		// More than one batch and a remainder, with a duplicate: the later wins.
		for i := range importBatchRows*3 + 1 {
			if err := imp.Add(app.HotlistEntry{VRM: "AB12CD" + strconv.Itoa(i%20), Priority: 1 + i%9}); err != nil {
				t.Fatal(err)
			}
		}
		if commit {
			res, err := imp.Commit()
			if err != nil {
				t.Fatal(err)
			}
			if res.Entries != 20 || res.Added != importBatchRows*3+1 {
				t.Errorf("result %+v, want 20 entries, %d added", res, importBatchRows*3+1)
			}
			check("after commit")
		} else {
			if err := imp.Rollback(); err != nil {
				t.Fatal(err)
			}
			check("after rollback")
		}
	}
	var prio int
	// AB12CD0 was added at i = 0, 20 (priority 1, 3); the later wins.
	if err := db.r.QueryRow("SELECT priority FROM hotlist WHERE vrm = 'AB12CD0'").Scan(&prio); err != nil {
		t.Fatal(err)
	}
	if prio != 3 {
		t.Errorf("AB12CD0 priority %d, want 3 (the later entry)", prio)
	}
}

// Entries spanning several runs, written while later ones are added, with
// the same VRM in different runs: the last added wins, and a rollback with a
// run being written leaves the list as it was.
func TestImportRuns(t *testing.T) {
	db, err := Open(filepath.Join(t.TempDir(), "car.db"))
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	ctx := context.Background()
	distinct := importRunRows + 7
	n := 2*importRunRows + 10
	add := func(imp *Import, n int) {
		t.Helper()
		for i := range n {
			if err := imp.Add(app.HotlistEntry{VRM: "V" + strconv.Itoa(i%distinct), Priority: 1 + i/distinct}); err != nil {
				t.Fatal(err)
			}
		}
	}
	imp, err := db.BeginImport(ctx, "pnc", false)
	if err != nil {
		t.Fatal(err)
	}
	add(imp, n)
	res, err := imp.Commit()
	if err != nil {
		t.Fatal(err)
	}
	if res.Entries != distinct || res.Added != n {
		t.Fatalf("result %+v, want %d entries, %d added", res, distinct, n)
	}
	var twice, idsOK int
	if err := db.r.QueryRow("SELECT count(*) FROM hotlist WHERE priority = 2").Scan(&twice); err != nil {
		t.Fatal(err)
	}
	if twice != n-distinct {
		t.Errorf("%d entries updated by a later run, want %d", twice, n-distinct)
	}
	// HotlistKeys sees every entry once.
	seen := map[int64]bool{}
	if err := db.HotlistKeys(ctx, func(id int64, vrm string) error { seen[id] = true; idsOK++; return nil }); err != nil {
		t.Fatal(err)
	}
	if len(seen) != distinct || idsOK != distinct {
		t.Errorf("HotlistKeys: %d ids in %d calls, want %d", len(seen), idsOK, distinct)
	}

	imp, err = db.BeginImport(ctx, "pnc", true)
	if err != nil {
		t.Fatal(err)
	}
	add(imp, importRunRows+1) // one run handed off to be written
	if err := imp.Rollback(); err != nil {
		t.Fatal(err)
	}
	var after int
	if err := db.r.QueryRow("SELECT count(*) FROM hotlist").Scan(&after); err != nil {
		t.Fatal(err)
	}
	if after != distinct {
		t.Errorf("after rollback %d entries, want %d", after, distinct)
	}
}
