package backoffice_test

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/ukanpr/anpr/sync/backoffice"
	"github.com/ukanpr/anpr/sync/backoffice/storetest"
	"github.com/ukanpr/anpr/sync/wire"
)

var now = time.Date(2026, 6, 1, 12, 0, 0, 0, time.UTC)

func read(id, vrm string, t time.Time) wire.Item {
	h := 45.0
	return wire.Item{Kind: wire.KindRead, Read: &wire.Read{ID: id, VRM: vrm, Raw: vrm, Confidence: 0.9, Time: t, Camera: "front",
		Position: wire.Position{Fix: "3d", Lat: 52.9, Lon: -1.47, HeadingDeg: &h}, Patch: []byte{0xff, 0xd8},
		Candidates: []wire.Candidate{{Text: vrm, Confidence: 0.9}}}}
}

func forEachStore(t *testing.T, fn func(t *testing.T, s storetest.Store)) {
	for _, kind := range storetest.Kinds {
		t.Run(kind, func(t *testing.T) { fn(t, storetest.Open(t, kind)) })
	}
}

func TestIngestIdempotent(t *testing.T) {
	forEachStore(t, func(t *testing.T, s storetest.Store) {
		ctx := context.Background()
		items := []wire.Item{
			read("r1", "AB12CDE", now.Add(-time.Hour)), read("r2", "AB12CDE", now.Add(-48*time.Hour)), read("r3", "XY51ABC", now),
			{Kind: wire.KindHit, Hit: &wire.Hit{ReadID: "r1", VRM: "AB12CDE", Time: now, Matches: []wire.Match{{Kind: "exact", Entry: wire.Entry{VRM: "AB12CDE"}}}}},
			{Kind: wire.KindDecision, Decision: &wire.Decision{ReadID: "r1", Outcome: "confirmed", Officer: "1234", Time: now}},
			{Kind: wire.KindOverview, Overview: &wire.Overview{ReadID: "r1", JPEG: []byte{1, 2, 3}}},
			{Kind: wire.KindWanted, Wanted: &wire.Entry{List: "car-wanted", VRM: "ZZ99ZZZ", AddedBy: "1234", Added: &now}},
		}
		got, err := s.Ingest(ctx, "car-1", items, now)
		if err != nil {
			t.Fatal(err)
		}
		if got.Stored != len(items) || got.Duplicates != 0 {
			t.Fatalf("first ingest %+v", got)
		}
		// The same batch again, and the same read twice in one batch.
		got, err = s.Ingest(ctx, "car-1", append(items, items[0]), now)
		if err != nil {
			t.Fatal(err)
		}
		if got.Stored != 0 || got.Duplicates != len(items)+1 {
			t.Fatalf("second ingest %+v", got)
		}
		st, err := s.Stats(ctx)
		if err != nil {
			t.Fatal(err)
		}
		if st.Reads != 3 || st.Hits != 1 || st.Decisions != 1 || st.Vehicles != 2 ||
			!st.Oldest.Equal(now.Add(-48*time.Hour)) || !st.Newest.Equal(now) {
			t.Fatalf("stats %+v", st)
		}
		recs, err := s.SearchReads(ctx, backoffice.ReadQuery{VRM: "AB12CDE", From: now.Add(-72 * time.Hour), To: now, Limit: 10})
		if err != nil {
			t.Fatal(err)
		}
		if len(recs) != 2 || recs[0].ID != "r1" || recs[0].Car != "car-1" || !recs[0].HasPatch || recs[0].Lat != 52.9 {
			t.Fatalf("search %+v", recs)
		}
	})
}

// TestIngestAllOrNothing: a batch that fails half way leaves nothing behind.
func TestIngestAllOrNothing(t *testing.T) {
	forEachStore(t, func(t *testing.T, s storetest.Store) {
		ctx := context.Background()
		items := []wire.Item{read("r1", "AB12CDE", now), {Kind: "bogus"}}
		if _, err := s.Ingest(ctx, "car-1", items, now); err == nil {
			t.Fatal("bad batch stored")
		}
		st, _ := s.Stats(ctx)
		if st.Reads != 0 {
			t.Fatalf("half a batch stored: %+v", st)
		}
	})
}

func TestRetentionDropsOldReads(t *testing.T) {
	forEachStore(t, func(t *testing.T, s storetest.Store) {
		ctx := context.Background()
		old, recent := now.AddDate(-2, 0, -3), now.AddDate(0, 0, -1)
		if _, err := s.Ingest(ctx, "car-1", []wire.Item{read("old", "AB12CDE", old), read("new", "AB12CDE", recent)}, now); err != nil {
			t.Fatal(err)
		}
		n, err := s.DropReadsBefore(ctx, now.Add(-backoffice.DefaultPolicy().Retention))
		if err != nil {
			t.Fatal(err)
		}
		st, _ := s.Stats(ctx)
		if n != 1 || st.Reads != 1 || !st.Oldest.Equal(recent) {
			t.Fatalf("dropped %d, stats %+v", n, st)
		}
	})
}

func TestHotlistGenerations(t *testing.T) {
	forEachStore(t, func(t *testing.T, s storetest.Store) {
		ctx := context.Background()
		if _, _, err := s.HotlistEntries(ctx, "stolen", 0); !errors.Is(err, backoffice.ErrNotFound) {
			t.Fatalf("missing list: %v", err)
		}
		v1, err := backoffice.Publish(ctx, s, "stolen", []wire.Entry{{VRM: "AB12CDE"}}, "admin", now)
		if err != nil {
			t.Fatal(err)
		}
		v2, err := backoffice.Publish(ctx, s, "stolen", []wire.Entry{{VRM: "AB12CDE"}, {VRM: "XY51ABC"}}, "admin", now.Add(time.Minute))
		if err != nil {
			t.Fatal(err)
		}
		if v1.Generation != 1 || v2.Generation != 2 || v2.Entries != 2 {
			t.Fatalf("generations %+v %+v", v1, v2)
		}
		e, v, err := s.HotlistEntries(ctx, "stolen", 0)
		if err != nil || v.Generation != 2 || len(e) != 2 || e[1].List != "stolen" {
			t.Fatalf("latest %v %+v %+v", err, v, e)
		}
		e, v, err = s.HotlistEntries(ctx, "stolen", 1)
		if err != nil || v.Generation != 1 || len(e) != 1 {
			t.Fatalf("gen 1 %v %+v %+v", err, v, e)
		}
		m, err := s.Manifest(ctx)
		if err != nil || len(m) != 1 || m[0].Generation != 2 {
			t.Fatalf("manifest %v %+v", err, m)
		}
	})
}

// TestSearchTiers checks each tier is allowed and refused as the rules say,
// and that every search, allowed or refused, lands in the audit chain.
func TestSearchTiers(t *testing.T) {
	forEachStore(t, func(t *testing.T, s storetest.Store) {
		ctx := context.Background()
		p := backoffice.DefaultPolicy()
		day := 24 * time.Hour
		var items []wire.Item
		for i, age := range []time.Duration{10 * day, 100 * day, 400 * day, 700 * day} {
			items = append(items, read(fmt.Sprintf("r%d", i), "AB12CDE", now.Add(-age)))
		}
		if _, err := s.Ingest(ctx, "car-1", items, now); err != nil {
			t.Fatal(err)
		}
		analyst := backoffice.User{Name: "pc-analyst", Role: "analyst"}
		senior := backoffice.User{Name: "supt-senior", Role: "senior"}
		admin := backoffice.User{Name: "admin", Role: "admin"}
		auth, err := backoffice.Authorise(ctx, s, p, senior, backoffice.AuthorisationRequest{CaseRef: "OP-1", Investigation: "major", Reason: "murder inquiry"}, now)
		if err != nil {
			t.Fatal(err)
		}
		if _, err := backoffice.Authorise(ctx, s, p, analyst, backoffice.AuthorisationRequest{CaseRef: "OP-1", Investigation: "major", Reason: "x"}, now); !errors.Is(err, backoffice.ErrForbidden) {
			t.Fatalf("analyst authorised: %v", err)
		}
		ctAuth, _ := backoffice.Authorise(ctx, s, p, senior, backoffice.AuthorisationRequest{CaseRef: "CT-9", Investigation: "counter-terrorism", Reason: "plot", Expires: now.Add(day)}, now)
		expired, _ := backoffice.Authorise(ctx, s, p, senior, backoffice.AuthorisationRequest{CaseRef: "OP-2", Investigation: "major", Reason: "old", Expires: now.Add(time.Hour)}, now)

		for _, tc := range []struct {
			name      string
			user      backoffice.User
			ageDays   int
			inv       backoffice.Investigation
			auth      string
			caseRef   string
			purpose   string
			at        time.Time
			wantErr   error
			wantReads int
			wantMsg   string
		}{
			{"recent allowed", analyst, 90, "", "", "C1", "p", now, nil, 1, ""},
			{"recent refused to admin role", admin, 30, "", "", "C1", "p", now, backoffice.ErrForbidden, 0, "may not search"},
			{"no purpose", analyst, 30, "", "", "C1", "", now, backoffice.ErrInvalid, 0, "purpose"},
			{"no case ref", analyst, 30, "", "", "", "p", now, backoffice.ErrInvalid, 0, "case reference"},
			{"12 months refused for routine", analyst, 200, "routine", "", "C1", "p", now, backoffice.ErrForbidden, 0, "serious, major or counter-terrorism"},
			{"12 months refused without investigation", analyst, 91, "", "", "C1", "p", now, backoffice.ErrForbidden, 0, "serious"},
			{"12 months allowed for serious", analyst, 365, "serious", "", "C1", "p", now, nil, 2, ""},
			{"12 months allowed for counter-terrorism", analyst, 365, "counter-terrorism", "", "C1", "p", now, nil, 2, ""},
			{"24 months refused for serious", analyst, 500, "serious", "", "C1", "p", now, backoffice.ErrForbidden, 0, "major or counter-terrorism"},
			{"24 months refused without authorisation", analyst, 500, "major", "", "OP-1", "p", now, backoffice.ErrForbidden, 0, "senior officer"},
			{"24 months refused with unknown authorisation", analyst, 500, "major", "auth-nope", "OP-1", "p", now, backoffice.ErrForbidden, 0, "not recorded"},
			{"24 months refused for another case", analyst, 500, "major", auth.ID, "OP-7", "p", now, backoffice.ErrForbidden, 0, "for case OP-1"},
			{"24 months refused for other investigation class", analyst, 500, "counter-terrorism", auth.ID, "OP-1", "p", now, backoffice.ErrForbidden, 0, "not counter-terrorism"},
			{"24 months refused when expired", analyst, 500, "major", expired.ID, "OP-2", "p", now.Add(2 * time.Hour), backoffice.ErrForbidden, 0, "expired"},
			{"24 months allowed with authorisation", analyst, 729, "major", auth.ID, "OP-1", "p", now, nil, 4, ""},
			{"24 months allowed for counter-terrorism", analyst, 729, "counter-terrorism", ctAuth.ID, "CT-9", "p", now, nil, 4, ""},
			{"beyond retention refused", analyst, 800, "major", auth.ID, "OP-1", "p", now, backoffice.ErrInvalid, 0, "retention"},
		} {
			t.Run(tc.name, func(t *testing.T) {
				var before int
				s.AuditLog(ctx, func(backoffice.AuditEvent) error { before++; return nil })
				req := backoffice.SearchRequest{Version: 1, VRM: "ab12 cde", From: tc.at.Add(-time.Duration(tc.ageDays) * day), To: tc.at.Add(time.Second),
					Purpose: tc.purpose, CaseRef: tc.caseRef, Investigation: tc.inv, Authorisation: tc.auth}
				res, err := backoffice.Search(ctx, s, p, tc.user, req, tc.at)
				if !errors.Is(err, tc.wantErr) || (err != nil && !strings.Contains(err.Error(), tc.wantMsg)) {
					t.Fatalf("got %v, want %v (%q)", err, tc.wantErr, tc.wantMsg)
				}
				var after []backoffice.AuditEvent
				s.AuditLog(ctx, func(e backoffice.AuditEvent) error { after = append(after, e); return nil })
				if tc.wantErr == nil {
					if res.Count != tc.wantReads || len(res.Reads) != tc.wantReads {
						t.Fatalf("got %d reads, want %d", res.Count, tc.wantReads)
					}
					last := after[len(after)-1]
					if len(after) != before+1 || last.Action != "search" || last.Seq != res.AuditSeq || last.Actor != tc.user.Name ||
						!strings.Contains(last.Detail, fmt.Sprintf(`"results":%d`, tc.wantReads)) || !strings.Contains(last.Detail, `"case_ref":"`+tc.caseRef+`"`) {
						t.Fatalf("search not audited: %+v", last)
					}
				} else if errors.Is(tc.wantErr, backoffice.ErrForbidden) {
					if len(after) != before+1 || after[len(after)-1].Action != "search.refused" {
						t.Fatalf("refusal not audited")
					}
				}
			})
		}
		rep, err := backoffice.VerifyAudit(ctx, s)
		if err != nil || !rep.OK || rep.Events < 10 {
			t.Fatalf("audit %v %+v", err, rep)
		}
	})
}

// TestAuditDetectsEdit: the log refuses edits, and an edit made behind its
// back (trigger removed) is found by VerifyAudit at the edited row.
func TestAuditDetectsEdit(t *testing.T) {
	for _, tc := range []struct {
		kind, disable string
	}{
		{"sqlite", `DROP TRIGGER audit_no_update`},
		{"postgres", `ALTER TABLE audit DISABLE TRIGGER audit_append_only`},
	} {
		t.Run(tc.kind, func(t *testing.T) {
			s := storetest.Open(t, tc.kind)
			ctx := context.Background()
			for i := range 5 {
				if _, err := s.AppendAudit(ctx, backoffice.AuditEvent{Time: now.Add(time.Duration(i) * time.Second), Actor: "pc-1", Action: "search",
					Detail: fmt.Sprintf(`{"vrm":"AB12CDE","results":%d}`, i)}); err != nil {
					t.Fatal(err)
				}
			}
			if rep, err := backoffice.VerifyAudit(ctx, s); err != nil || !rep.OK || rep.Events != 5 || rep.Head == "" {
				t.Fatalf("intact chain: %v %+v", err, rep)
			}
			if err := s.Exec(ctx, `UPDATE audit SET detail = '{}' WHERE seq = 3`); err == nil || !strings.Contains(err.Error(), "append-only") {
				t.Fatalf("update allowed: %v", err)
			}
			if err := s.Exec(ctx, `DELETE FROM audit WHERE seq = 3`); err == nil {
				t.Fatal("delete allowed")
			}
			if err := s.Exec(ctx, tc.disable); err != nil {
				t.Fatal(err)
			}
			if err := s.Exec(ctx, `UPDATE audit SET detail = '{"vrm":"AB12CDE","results":0}' WHERE seq = 3`); err != nil {
				t.Fatal(err)
			}
			rep, err := backoffice.VerifyAudit(ctx, s)
			if err != nil || rep.OK || rep.BadSeq != 3 || !strings.Contains(rep.Reason, "edited") {
				t.Fatalf("edit not detected: %v %+v", err, rep)
			}
		})
	}
}

// TestConcurrentIngest: batches arriving together, touching days no batch has
// touched before, all land (PostgreSQL creates day partitions on demand).
func TestConcurrentIngest(t *testing.T) {
	forEachStore(t, func(t *testing.T, s storetest.Store) {
		ctx := context.Background()
		const writers, per = 4, 50
		errc := make(chan error, writers)
		for w := range writers {
			go func() {
				var items []wire.Item
				for i := range per {
					items = append(items, read(fmt.Sprintf("w%d-%d", w, i), "AB12CDE", now.Add(-time.Duration(i)*24*time.Hour)))
				}
				_, err := s.Ingest(ctx, fmt.Sprintf("car-%d", w), items, now)
				errc <- err
			}()
		}
		for range writers {
			if err := <-errc; err != nil {
				t.Fatal(err)
			}
		}
		if st, _ := s.Stats(ctx); st.Reads != writers*per {
			t.Fatalf("stats %+v", st)
		}
	})
}

func TestPublishRefusesDuplicatesAfterNormalising(t *testing.T) {
	s := storetest.Open(t, "sqlite")
	_, err := backoffice.Publish(context.Background(), s, "stolen", []wire.Entry{{VRM: "AB12 CDE"}, {VRM: "ab12cde"}}, "admin", now)
	if !errors.Is(err, backoffice.ErrInvalid) || !strings.Contains(err.Error(), "both AB12CDE") {
		t.Fatalf("got %v", err)
	}
	if m, _ := s.Manifest(context.Background()); len(m) != 0 {
		t.Fatalf("published: %+v", m)
	}
}
