package pgstore_test

import (
	"context"
	"fmt"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/ukanpr/anpr/sync/backoffice"
	"github.com/ukanpr/anpr/sync/backoffice/pgstore"
	"github.com/ukanpr/anpr/sync/backoffice/storetest"
	"github.com/ukanpr/anpr/sync/wire"
)

var now = time.Date(2026, 6, 1, 12, 0, 0, 0, time.UTC)

func read(id, vrm string, t time.Time) wire.Item {
	h := 45.5
	return wire.Item{Kind: wire.KindRead, Read: &wire.Read{ID: id, VRM: vrm, Raw: vrm, Confidence: 0.9, Time: t, Camera: "front",
		Format: "gb-current", ClockSource: "gps", PassID: "p1",
		Position:   wire.Position{Fix: "3d", Lat: 52.9, Lon: -1.47, HeadingDeg: &h, AgeMS: 200, SpeedMPS: 13, HDOP: 0.9, Sats: 9},
		Patch:      []byte{0xff, 0xd8},
		Candidates: []wire.Candidate{{Text: vrm, Confidence: 0.9}}}}
}

func open(t *testing.T) (*pgstore.DB, *pgx.Conn) {
	t.Helper()
	dsn := storetest.PostgresDSN(t)
	schema := storetest.Schema()
	ctx := context.Background()
	s, err := pgstore.Open(ctx, dsn, pgstore.Options{Schema: schema, Conns: 2})
	if err != nil {
		t.Fatal(err)
	}
	cfg, err := pgx.ParseConfig(dsn)
	if err != nil {
		t.Fatal(err)
	}
	cfg.RuntimeParams["search_path"] = schema
	c, err := pgx.ConnectConfig(ctx, cfg)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		c.Close(ctx)
		s.DropSchema(ctx, schema)
		s.Close()
	})
	return s, c
}

// TestIngestPaths drives each way a batch's reads go in: copied straight
// into reads (all new), refused by the unique key part way and redone through
// the staging table (first read new, a later one stored), and through the
// staging table from the start (first read stored, or the same read twice).
func TestIngestPaths(t *testing.T) {
	s, c := open(t)
	ctx := context.Background()
	check := func(name string, items []wire.Item, stored, dups int) {
		t.Helper()
		got, err := s.Ingest(ctx, "car-1", items, now)
		if err != nil {
			t.Fatalf("%s: %v", name, err)
		}
		if got != (backoffice.Ingested{Stored: stored, Duplicates: dups}) {
			t.Fatalf("%s: %+v, want %d stored, %d duplicates", name, got, stored, dups)
		}
	}
	a, b := read("a", "AB12CDE", now.Add(-time.Hour)), read("b", "XY51ABC", now.Add(-30*time.Hour))
	hit := wire.Item{Kind: wire.KindHit, Hit: &wire.Hit{ReadID: "c", VRM: "CD34EFG", Time: now,
		Matches: []wire.Match{{Kind: "exact", Entry: wire.Entry{VRM: "CD34EFG"}}}}}
	check("new", []wire.Item{a, b}, 2, 0)
	check("first new, later stored", []wire.Item{read("c", "CD34EFG", now), hit, b}, 2, 1)
	check("first stored", []wire.Item{a, read("d", "DE45FGH", now), hit}, 1, 2)
	e := read("e", "EF56GHI", now)
	check("same read twice", []wire.Item{e, e}, 1, 1)
	check("all stored", []wire.Item{b, a, e}, 0, 3)
	var n int
	if err := c.QueryRow(ctx, `SELECT count(*) FROM reads`).Scan(&n); err != nil || n != 5 {
		t.Fatalf("reads %d, %v", n, err)
	}
	// Every column arrives as the read had it.
	var (
		id, vrm, car, raw, camera, fix, clock, format, pass, cand string
		captured, received                                        time.Time
		conf, heading, speed, hdop                                float32
		alt                                                       *float32
		lat, lon                                                  float64
		age, off                                                  int64
		sats                                                      int32
		est, suspect, noChars                                     bool
		patch                                                     []byte
	)
	err := c.QueryRow(ctx, `SELECT id, vrm, car, raw, camera, fix, clock_source, format, pass_id, candidates::text, captured, received,
		confidence, heading_deg, speed_mps, hdop, alt_m, lat, lon, fix_age_ms, clock_offset_ms, sats, estimated, clock_suspect,
		char_conf IS NULL, patch FROM reads WHERE id = 'b'`).Scan(&id, &vrm, &car, &raw, &camera, &fix, &clock, &format, &pass, &cand,
		&captured, &received, &conf, &heading, &speed, &hdop, &alt, &lat, &lon, &age, &off, &sats, &est, &suspect, &noChars, &patch)
	if err != nil {
		t.Fatal(err)
	}
	got := fmt.Sprint(id, vrm, car, raw, camera, fix, clock, format, pass, cand, captured.UTC(), received.UTC(),
		conf, heading, speed, hdop, alt, lat, lon, age, off, sats, est, suspect, noChars, patch)
	want := fmt.Sprint("b", "XY51ABC", "car-1", "XY51ABC", "front", "3d", "gps", "gb-current", "p1",
		`[{"text": "XY51ABC", "confidence": 0.9}]`, now.Add(-30*time.Hour), now,
		float32(0.9), float32(45.5), float32(13), float32(0.9), (*float32)(nil), 52.9, -1.47, int64(200), int64(0), int32(9),
		false, false, true, []byte{0xff, 0xd8})
	if got != want {
		t.Fatalf("stored read\n got %s\nwant %s", got, want)
	}
}
