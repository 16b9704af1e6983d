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
