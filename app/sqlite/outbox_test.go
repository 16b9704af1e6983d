package sqlite_test

import (
	"context"
	"fmt"
	"reflect"
	"testing"
	"time"

	"github.com/ukanpr/anpr/app"
	"github.com/ukanpr/anpr/app/sqlite"
)

func kinds(items []app.OutboxItem) []string {
	var out []string
	for _, it := range items {
		id := ""
		switch {
		case it.Read != nil:
			id = it.Read.ID
		case it.Hit != nil:
			id = it.Hit.ReadID
		case it.Decision != nil:
			id = it.Decision.ReadID
		case it.Wanted != nil:
			id = it.Wanted.VRM
		}
		out = append(out, string(it.Kind)+":"+id)
	}
	return out
}

func seqs(items []app.OutboxItem) []int64 {
	var out []int64
	for _, it := range items {
		out = append(out, it.Seq)
	}
	return out
}

func TestOutboxOrderAndAck(t *testing.T) {
	db := openTest(t)
	ctx := context.Background()
	entry := app.HotlistEntry{ID: 1, List: "pnc", VRM: "AB12CDE", Priority: 1}
	// Queued in an order unlike the drain order.
	must := func(err error) {
		t.Helper()
		if err != nil {
			t.Fatal(err)
		}
	}
	must(db.SaveRead(ctx, testRead("r1", "XY51ABC", t0), nil))
	noOverview := testRead("r2", "AB12CDE", t0.Add(time.Second))
	noOverview.Overview = nil
	must(db.SaveRead(ctx, noOverview, testHit("r2", t0, entry)))
	_, err := db.AddWanted(ctx, app.HotlistEntry{VRM: "WA12NTD", Expires: t0.Add(time.Hour), AddedBy: "1234"})
	must(err)
	must(db.SaveDecision(ctx, app.Decision{ReadID: "r2", Outcome: app.OutcomeConfirmed, Officer: "1234", Time: t0}))
	must(db.SaveRead(ctx, testRead("r3", "AB12CDF", t0.Add(2*time.Second)), testHit("r3", t0, entry)))

	st, err := db.OutboxStats(ctx)
	must(err)
	if st.Pending != 9 || !st.OldestPending.Equal(t0) || !st.LastAck.IsZero() || st.PendingBytes < 2*56000 {
		t.Errorf("stats %+v", st)
	}

	items, err := db.OutboxPending(ctx, 100, 0)
	must(err)
	want := []string{"hit:r2", "hit:r3", "decision:r2", "wanted:WA12NTD", "read:r1", "read:r2", "read:r3", "overview:r1", "overview:r3"}
	if got := kinds(items); !reflect.DeepEqual(got, want) {
		t.Fatalf("drain order\n got %v\nwant %v", got, want)
	}
	// What each item carries.
	for _, it := range items {
		switch it.Kind {
		case app.OutboxRead:
			if it.Read.Patch == nil || it.Read.Overview != nil || it.Read.VRM == "" {
				t.Errorf("read item %s: patch %d overview %d bytes, vrm %q", it.Read.ID, len(it.Read.Patch), len(it.Read.Overview), it.Read.VRM)
			}
		case app.OutboxOverview:
			if len(it.Read.Overview) != 56000 || it.Read.VRM != "" || it.Read.Patch != nil {
				t.Errorf("overview item %+v", it.Read.ID)
			}
		case app.OutboxHit:
			if len(it.Hit.Matches) != 1 || it.Hit.Matches[0].Entry.VRM != "AB12CDE" {
				t.Errorf("hit item %+v", it.Hit)
			}
		}
		if it.Bytes <= 0 || !it.Queued.Equal(t0) {
			t.Errorf("item %d: bytes %d queued %v", it.Seq, it.Bytes, it.Queued)
		}
	}

	// Limits: by count, and by bytes (the first item always comes).
	got, _ := db.OutboxPending(ctx, 2, 0)
	if !reflect.DeepEqual(kinds(got), want[:2]) {
		t.Errorf("limit 2: %v", kinds(got))
	}
	got, _ = db.OutboxPending(ctx, 100, 1)
	if !reflect.DeepEqual(kinds(got), want[:1]) {
		t.Errorf("1 byte: %v", kinds(got))
	}
	got, _ = db.OutboxPending(ctx, 100, 60000)
	if n := len(got); n < 5 || n > 7 {
		t.Errorf("60000 bytes: %v", kinds(got))
	}
	total := 0
	for _, it := range got {
		total += it.Bytes
	}
	if total > 60000 {
		t.Errorf("60000 bytes: got %d bytes", total)
	}

	// Ack the first three; then again (idempotent), plus unknown seqs.
	ackAt := t0.Add(time.Hour)
	must(db.OutboxAck(ctx, seqs(items[:3]), ackAt))
	must(db.OutboxAck(ctx, append(seqs(items[:3]), 99999), ackAt.Add(time.Hour)))
	rest, _ := db.OutboxPending(ctx, 100, 0)
	if !reflect.DeepEqual(kinds(rest), want[3:]) {
		t.Errorf("after ack: %v", kinds(rest))
	}
	st, _ = db.OutboxStats(ctx)
	if st.Pending != 6 || !st.LastAck.Equal(ackAt.Add(time.Hour)) {
		t.Errorf("stats after ack %+v", st)
	}
	must(db.OutboxAck(ctx, seqs(rest), ackAt))
	st, _ = db.OutboxStats(ctx)
	if st.Pending != 0 || st.PendingBytes != 0 || !st.OldestPending.IsZero() || !st.LastAck.Equal(ackAt.Add(time.Hour)) {
		t.Errorf("stats when drained %+v", st)
	}
	if got, _ := db.OutboxPending(ctx, 100, 0); len(got) != 0 {
		t.Errorf("pending when drained: %v", kinds(got))
	}
}

func TestPurge(t *testing.T) {
	db := openTest(t)
	ctx := context.Background()
	entry := app.HotlistEntry{ID: 1, List: "pnc", VRM: "AB12CDE", Priority: 1}
	for i := range 6 {
		id := fmt.Sprintf("r%d", i)
		var h *app.Hit
		if i%2 == 0 {
			h = testHit(id, t0, entry)
		}
		if err := db.SaveRead(ctx, testRead(id, "AB12CDE", t0), h); err != nil {
			t.Fatal(err)
		}
	}
	if _, err := db.AddWanted(ctx, app.HotlistEntry{VRM: "WA12NTD", Expires: t0.Add(time.Hour), AddedBy: "1234"}); err != nil {
		t.Fatal(err)
	}
	items, _ := db.OutboxPending(ctx, 1000, 0)
	// Acknowledge everything about r0..r3 and the wanted entry at day 1,
	// except r1's overview; nothing about r4, r5.
	day1 := t0.Add(24 * time.Hour)
	var ack []int64
	for _, it := range items {
		switch {
		case it.Wanted != nil:
			ack = append(ack, it.Seq)
		case it.Kind == app.OutboxOverview && it.Read.ID == "r1":
		case it.Read != nil && it.Read.ID < "r4", it.Hit != nil && it.Hit.ReadID < "r4":
			ack = append(ack, it.Seq)
		}
	}
	if err := db.OutboxAck(ctx, ack, day1); err != nil {
		t.Fatal(err)
	}
	keep := 30 * 24 * time.Hour

	remaining := func() []string {
		rs, err := db.Reads(ctx, sqlite.ReadQuery{Limit: 100})
		if err != nil {
			t.Fatal(err)
		}
		var ids []string
		for _, r := range rs {
			ids = append(ids, r.ID)
		}
		return ids
	}
	tests := []struct {
		name string
		now  time.Time
		want sqlite.PurgeResult
		left int
	}{
		{"acknowledged but not old enough", day1.Add(keep), sqlite.PurgeResult{}, 6},
		{"old enough", day1.Add(keep + time.Millisecond), sqlite.PurgeResult{Reads: 3, OutboxItems: 1}, 3},
		{"years later: unacknowledged reads stay", day1.Add(10 * 365 * 24 * time.Hour), sqlite.PurgeResult{}, 3},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			res, err := db.Purge(ctx, tt.now, keep)
			if err != nil {
				t.Fatal(err)
			}
			if res != tt.want || len(remaining()) != tt.left {
				t.Errorf("purged %+v, left %v; want %+v, %d left", res, remaining(), tt.want, tt.left)
			}
		})
	}
	if got := remaining(); !reflect.DeepEqual(got, []string{"r5", "r4", "r1"}) {
		t.Errorf("left %v", got)
	}
	for _, id := range []string{"r0", "r2"} {
		if _, err := db.Hit(ctx, id); err == nil {
			t.Errorf("hit of purged read %s still there", id)
		}
	}
	// A decision queued later on an acknowledged read holds it back again.
	if err := db.SaveRead(ctx, testRead("r6", "AB12CDE", t0), testHit("r6", t0, entry)); err != nil {
		t.Fatal(err)
	}
	items, _ = db.OutboxPending(ctx, 1000, 0)
	var r6 []int64
	for _, it := range items {
		if (it.Read != nil && it.Read.ID == "r6") || (it.Hit != nil && it.Hit.ReadID == "r6") {
			r6 = append(r6, it.Seq)
		}
	}
	if err := db.OutboxAck(ctx, r6, day1); err != nil {
		t.Fatal(err)
	}
	if err := db.SaveDecision(ctx, app.Decision{ReadID: "r6", Outcome: app.OutcomeMisread, Officer: "1234", Time: day1}); err != nil {
		t.Fatal(err)
	}
	if res, _ := db.Purge(ctx, day1.Add(2*keep), keep); res.Reads != 0 {
		t.Errorf("purged %d reads with a decision pending", res.Reads)
	}
	if _, err := db.Read(ctx, "r6"); err != nil {
		t.Error(err)
	}
	ev, _ := db.AuditEvents(ctx, time.Time{}, 0)
	n := 0
	for _, e := range ev {
		if e.Action == "reads.purge" {
			n++
		}
	}
	if n != 1 {
		t.Errorf("%d purge audit events, want 1", n)
	}
}

// TestPurgeBatches purges more reads than one purge transaction takes.
func TestPurgeBatches(t *testing.T) {
	db := openTest(t)
	ctx := context.Background()
	const n = 2500
	batch := make([]sqlite.ReadWithHit, n)
	for i := range batch {
		r := testRead(fmt.Sprintf("r%04d", i), "AB12CDE", t0)
		r.Patch, r.Overview = nil, nil
		batch[i].Read = r
	}
	if err := db.SaveReads(ctx, batch); err != nil {
		t.Fatal(err)
	}
	for {
		items, err := db.OutboxPending(ctx, 1000, 0)
		if err != nil {
			t.Fatal(err)
		}
		if len(items) == 0 {
			break
		}
		if err := db.OutboxAck(ctx, seqs(items), t0); err != nil {
			t.Fatal(err)
		}
	}
	keep := time.Hour
	res, err := db.Purge(ctx, t0.Add(keep+time.Millisecond), keep)
	if err != nil || res.Reads != n {
		t.Fatalf("purged %+v, %v; want %d reads", res, err, n)
	}
	if left, _ := db.Reads(ctx, sqlite.ReadQuery{Limit: 10}); len(left) != 0 {
		t.Errorf("%d reads left", len(left))
	}
	ev, _ := db.AuditEvents(ctx, time.Time{}, 0)
	if len(ev) != 1 || ev[0].Action != "reads.purge" || ev[0].Detail[:10] != "reads=2500" {
		t.Errorf("audit %+v", ev)
	}
}
