package sqlite_test

import (
	"bytes"
	"context"
	"database/sql"
	"errors"
	"fmt"
	"math"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/ukanpr/anpr/app"
	"github.com/ukanpr/anpr/app/sqlite"
)

func TestMain(m *testing.M) {
	if os.Getenv(crashChildEnv) != "" {
		os.Exit(crashChild(os.Getenv(crashChildEnv)))
	}
	os.Exit(m.Run())
}

// t0 is the fixed "now" of the tests.
var t0 = time.Date(2026, 3, 14, 9, 26, 53, 0, time.UTC)

func openTest(t testing.TB) *sqlite.DB {
	t.Helper()
	db, err := sqlite.Open(filepath.Join(t.TempDir(), "car.db"))
	if err != nil {
		t.Fatal(err)
	}
	db.Now = func() time.Time { return t0 }
	t.Cleanup(func() {
		if err := db.Close(); err != nil {
			t.Error(err)
		}
	})
	return db
}

// jpeg returns n bytes standing in for a JPEG, distinct per seed.
func jpeg(seed string, n int) []byte {
	b := make([]byte, n)
	copy(b, "\xff\xd8\xff\xe0")
	h := uint32(2166136261)
	for i := 0; i < len(seed); i++ {
		h = (h ^ uint32(seed[i])) * 16777619
	}
	for i := 4; i < n; i++ {
		h ^= h << 13
		h ^= h >> 17
		h ^= h << 5
		b[i] = byte(h)
	}
	return b
}

func testRead(id, vrm string, at time.Time) app.Read {
	return app.Read{
		ID:              id,
		VRM:             vrm,
		Raw:             strings.ToLower(vrm[:2]) + " " + vrm[2:],
		Confidence:      0.93,
		Candidates:      []app.Candidate{{Text: vrm, Confidence: 0.93}, {Text: vrm + "X", Confidence: 0.05}},
		CharConfidences: []float64{0.9, 0.95, 0.99},
		Format:          app.FormatCurrent,
		Time:            at,
		ClockSource:     app.ClockGPS,
		ClockOffset:     -120 * time.Millisecond,
		ClockSuspect:    true,
		Camera:          "front",
		Position: app.Position{
			Time: at.Add(-200 * time.Millisecond), Fix: app.Fix3D, Lat: 52.9225, Lon: -1.4746,
			Age: 200 * time.Millisecond, Estimated: true, SpeedMPS: 13.4, HeadingDeg: math.NaN(),
			HDOP: 0.9, Sats: 9, AltM: 61.5,
		},
		Patch:    jpeg(id+"patch", 4000),
		Overview: jpeg(id+"overview", 56000),
		PassID:   "pass-" + id,
	}
}

func sameRead(t *testing.T, got, want app.Read) {
	t.Helper()
	if !bytes.Equal(got.Patch, want.Patch) || !bytes.Equal(got.Overview, want.Overview) {
		t.Errorf("read %s: images differ (patch %d/%d bytes, overview %d/%d)", want.ID,
			len(got.Patch), len(want.Patch), len(got.Overview), len(want.Overview))
	}
	got.Patch, got.Overview, want.Patch, want.Overview = nil, nil, nil, nil
	g, w := fmt.Sprintf("%+v", got), fmt.Sprintf("%+v", want)
	if g != w {
		t.Errorf("read %s:\n got %s\nwant %s", want.ID, g, w)
	}
}

func TestOpen(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, "car.db")
	db, err := sqlite.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	if err := db.SaveRead(context.Background(), testRead("r1", "AB12CDE", t0), nil); err != nil {
		t.Fatal(err)
	}
	if err := db.Close(); err != nil {
		t.Fatal(err)
	}
	// Reopening keeps the data and does not re-run migrations.
	db, err = sqlite.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	if _, err := db.Read(context.Background(), "r1"); err != nil {
		t.Fatal(err)
	}
	if err := db.IntegrityCheck(context.Background()); err != nil {
		t.Fatal(err)
	}

	raw, err := sql.Open("sqlite", path)
	if err != nil {
		t.Fatal(err)
	}
	defer raw.Close()
	var mode string
	var version int
	if err := raw.QueryRow("PRAGMA journal_mode").Scan(&mode); err != nil {
		t.Fatal(err)
	}
	if err := raw.QueryRow("PRAGMA user_version").Scan(&version); err != nil {
		t.Fatal(err)
	}
	var pageSize int
	if err := raw.QueryRow("PRAGMA page_size").Scan(&pageSize); err != nil {
		t.Fatal(err)
	}
	if mode != "wal" || version != sqlite.SchemaVersion() || version < 1 || pageSize != 16384 {
		t.Errorf("journal_mode %q user_version %d page_size %d, want wal, %d, 16384", mode, version, pageSize, sqlite.SchemaVersion())
	}
}

func TestOpenOddPath(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "fleet 50%")
	if err := os.Mkdir(dir, 0o700); err != nil {
		t.Fatal(err)
	}
	path := filepath.Join(dir, "car #1?.db")
	db, err := sqlite.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	if err := db.SaveRead(context.Background(), testRead("r1", "AB12CDE", t0), nil); err != nil {
		t.Fatal(err)
	}
	if _, err := os.Stat(path); err != nil {
		t.Errorf("the database is not at the path asked: %v", err)
	}
}

func TestOpenRejects(t *testing.T) {
	dir := t.TempDir()
	tests := []struct {
		name    string
		prepare func(path string) error
		want    error
	}{
		{"text file", func(p string) error {
			return os.WriteFile(p, []byte("vrm,category\nAB12CDE,stolen\n"+strings.Repeat("x", 5000)), 0o600)
		}, sqlite.ErrNotDatabase},
		{"another application's database", func(p string) error {
			db, err := sql.Open("sqlite", p)
			if err != nil {
				return err
			}
			defer db.Close()
			_, err = db.Exec("CREATE TABLE recipes (name TEXT)")
			return err
		}, sqlite.ErrNotDatabase},
		{"newer schema", func(p string) error {
			db, err := sqlite.Open(p)
			if err != nil {
				return err
			}
			db.Close()
			raw, err := sql.Open("sqlite", p)
			if err != nil {
				return err
			}
			defer raw.Close()
			_, err = raw.Exec(fmt.Sprintf("PRAGMA user_version = %d", sqlite.SchemaVersion()+1))
			return err
		}, sqlite.ErrSchemaTooNew},
	}
	for i, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			path := filepath.Join(dir, fmt.Sprintf("f%d.db", i))
			if err := tt.prepare(path); err != nil {
				t.Fatal(err)
			}
			before, _ := os.ReadFile(path)
			db, err := sqlite.Open(path)
			if err == nil {
				db.Close()
				t.Fatal("Open succeeded")
			}
			if !errors.Is(err, tt.want) || !strings.Contains(err.Error(), path) {
				t.Errorf("error %q: want %v naming the file", err, tt.want)
			}
			if tt.name == "text file" {
				after, _ := os.ReadFile(path)
				if !bytes.Equal(before, after) {
					t.Error("Open changed a file that is not a database")
				}
			}
		})
	}
}

func TestAuditAppendOnly(t *testing.T) {
	db := openTest(t)
	ctx := context.Background()
	evs := []app.AuditEvent{
		{Time: t0, Actor: "1234", Action: "logon"},
		{Time: t0.Add(time.Second), Actor: "admin", Action: "settings", Detail: "camera front"},
		{Actor: "1234", Action: "logoff"}, // zero time: now
	}
	for _, ev := range evs {
		if err := db.Audit(ctx, ev); err != nil {
			t.Fatal(err)
		}
	}
	for _, bad := range []app.AuditEvent{{Actor: "x"}, {Action: "x"}} {
		if err := db.Audit(ctx, bad); err == nil {
			t.Errorf("Audit(%+v) succeeded", bad)
		}
	}
	got, err := db.AuditEvents(ctx, t0, 0)
	if err != nil {
		t.Fatal(err)
	}
	if len(got) != 3 || got[0].Action != "logon" || got[1].Action != "logoff" || got[2].Detail != "camera front" {
		t.Errorf("events %+v", got)
	}
	got, err = db.AuditEvents(ctx, t0.Add(time.Second), 0)
	if err != nil || len(got) != 1 || got[0].Actor != "admin" || !got[0].Time.Equal(t0.Add(time.Second)) {
		t.Errorf("since t0+1s: %+v, %v", got, err)
	}
	got, err = db.AuditEvents(ctx, time.Time{}, 2)
	if err != nil || len(got) != 2 {
		t.Errorf("limit 2: %d events, %v", len(got), err)
	}

	// No path in the code changes the log; the triggers refuse one from
	// anywhere else too.
	raw, err := sql.Open("sqlite", db.Path())
	if err != nil {
		t.Fatal(err)
	}
	defer raw.Close()
	for _, stmt := range []string{"UPDATE audit SET actor = 'x'", "DELETE FROM audit"} {
		if _, err := raw.Exec(stmt); err == nil || !strings.Contains(err.Error(), "append-only") {
			t.Errorf("%s: %v, want append-only error", stmt, err)
		}
	}
	got, _ = db.AuditEvents(ctx, time.Time{}, 0)
	if len(got) != 3 {
		t.Errorf("%d events after attempted changes, want 3", len(got))
	}
	if err := db.VerifyAudit(ctx); err != nil {
		t.Fatal(err)
	}
}

// TestAuditTamperEvident drops the triggers, as someone with the file could,
// and changes the log: VerifyAudit must see it.
func TestAuditTamperEvident(t *testing.T) {
	tests := []struct{ name, sql string }{
		{"edit detail", "UPDATE audit SET detail = 'camera rear' WHERE action = 'settings'"},
		{"edit time", "UPDATE audit SET time = time + 1 WHERE action = 'logon'"},
		{"remove", "DELETE FROM audit WHERE action = 'settings'"},
		{"insert", "INSERT INTO audit (seq, time, actor, action, detail, hash) VALUES (2, 0, 'x', 'y', '', x'00')"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			db := openTest(t)
			ctx := context.Background()
			for _, ev := range []app.AuditEvent{
				{Time: t0, Actor: "1234", Action: "logon"},
				{Time: t0.Add(time.Second), Actor: "admin", Action: "settings", Detail: "camera front"},
				{Time: t0.Add(2 * time.Second), Actor: "1234", Action: "logoff"},
			} {
				if err := db.Audit(ctx, ev); err != nil {
					t.Fatal(err)
				}
			}
			if err := db.VerifyAudit(ctx); err != nil {
				t.Fatal(err)
			}
			raw, err := sql.Open("sqlite", db.Path())
			if err != nil {
				t.Fatal(err)
			}
			defer raw.Close()
			if tt.name == "insert" {
				// Make room: renumber the later events.
				tt.sql = "UPDATE audit SET seq = seq + 10 WHERE seq >= 2; " + tt.sql
			}
			for _, stmt := range []string{"DROP TRIGGER audit_no_update", "DROP TRIGGER audit_no_delete", tt.sql} {
				if _, err := raw.Exec(stmt); err != nil {
					t.Fatalf("%s: %v", stmt, err)
				}
			}
			if err := db.VerifyAudit(ctx); !errors.Is(err, sqlite.ErrAuditTampered) {
				t.Errorf("VerifyAudit: %v, want ErrAuditTampered", err)
			}
		})
	}
}
