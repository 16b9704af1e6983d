package hotlist

import (
	"context"
	"errors"
	"fmt"
	"math/rand/v2"
	"os"
	"path/filepath"
	"reflect"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/ukanpr/anpr/app"
	"github.com/ukanpr/anpr/app/vrm"
)

// memSource is an in-memory Source: a slice of entries and a generation.
type memSource struct {
	mu      sync.Mutex
	gen     int64
	entries []app.HotlistEntry
	keys    atomic.Int64 // HotlistKeys calls
}

var _ Source = (*memSource)(nil)

func (s *memSource) HotlistGeneration(context.Context) (int64, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.gen, nil
}

func (s *memSource) HotlistKeys(ctx context.Context, fn func(int64, string) error) error {
	s.keys.Add(1)
	s.mu.Lock()
	entries := slices.Clone(s.entries)
	s.mu.Unlock()
	for _, e := range entries {
		if err := fn(e.ID, e.VRM); err != nil {
			return err
		}
	}
	return nil
}

func (s *memSource) HotlistEntries(_ context.Context, ids []int64) ([]app.HotlistEntry, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	var out []app.HotlistEntry
	for _, e := range s.entries {
		if slices.Contains(ids, e.ID) {
			out = append(out, e)
		}
	}
	return out, nil
}

func (s *memSource) set(entries []app.HotlistEntry) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.entries = entries
	s.gen++
}

var t0 = time.Date(2026, time.November, 21, 12, 0, 0, 0, time.UTC)

func entry(id int64, mark string, priority int) app.HotlistEntry {
	return app.HotlistEntry{ID: id, List: "test", VRM: mark, Priority: priority, Category: "Stolen"}
}

func cands(texts ...string) []app.Candidate {
	var out []app.Candidate
	for i, t := range texts {
		out = append(out, app.Candidate{Text: t, Confidence: 0.9 - 0.1*float64(i)})
	}
	return out
}

// got is a match reduced to what the tests compare.
type got struct {
	ID   int64
	Kind app.MatchKind
	Cand string
	Diff []int
}

func reduce(ms []app.Match) []got {
	var out []got
	for _, m := range ms {
		out = append(out, got{m.Entry.ID, m.Kind, m.Candidate, m.Diff})
	}
	return out
}

func TestMatch(t *testing.T) {
	covert := entry(9, "CV12CVT", 4)
	covert.Covert = true
	expired := entry(10, "EX12PRD", 1)
	expired.Expires = t0.Add(-time.Second)
	live := entry(11, "LV12LVE", 5)
	live.Expires = t0.Add(time.Second)
	src := &memSource{entries: []app.HotlistEntry{
		entry(1, "AB12CDE", 5),
		entry(2, "AB12CDE", 2), // same mark on a second list
		entry(3, "AB12COE", 6), // look-alike of AB12CDE (D/O)
		entry(4, "AB12*", 7),
		entry(5, "?B12CDE", 3),
		entry(6, "BD51SMR", 4),
		entry(7, "XY10ZZZ", 8),
		entry(8, "A8I2CDE", 9), // two swaps from AB12CDE
		covert, expired, live,
		entry(12, "ABCDEFGHJKLMN", 5), // longer than a packed key
		entry(13, "FR12*PQ", 5),
	}}
	m, err := Open(context.Background(), src, "")
	if err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name  string
		cands []app.Candidate
		want  []got
	}{
		{"exact", cands("BD51SMR"), []got{{6, app.MatchExact, "BD51SMR", nil}}},
		{"normalised candidate", cands("bd51 smr"), []got{{6, app.MatchExact, "BD51SMR", nil}}},
		{"one swap", cands("8D51SMR"), []got{{6, app.MatchLookalike, "8D51SMR", []int{0}}}},
		{"two swaps", cands("8D5ISMR"), []got{{6, app.MatchLookalike, "8D5ISMR", []int{0, 3}}}},
		{"three swaps rejected", cands("805ISMR"), nil},
		{"non look-alike difference rejected", cands("BD51SMX"), nil},
		{"look-alike plus other difference rejected", cands("8D51SMX"), nil},
		{"shorter rejected", cands("BD51SM"), nil},
		{"covert flagged", cands("CV12CVT"), []got{{9, app.MatchExact, "CV12CVT", nil}}},
		{"expired never matches", cands("EX12PRD"), nil},
		{"not yet expired matches", cands("LV12LVE"), []got{{11, app.MatchExact, "LV12LVE", nil}}},
		{"long mark", cands("ABCDEFGHJKLMN"), []got{{12, app.MatchExact, "ABCDEFGHJKLMN", nil}}},
		{"long mark look-alike", cands("ABCDEFGHJK1MN"), []got{{12, app.MatchLookalike, "ABCDEFGHJK1MN", []int{10}}}},
		{"star", cands("FR12XYZPQ"), []got{{13, app.MatchWildcard, "FR12XYZPQ", nil}}},
		{"star matches empty run", cands("FR12PQ"), []got{{13, app.MatchWildcard, "FR12PQ", nil}}},
		{"question mark", cands("ZB12CDE"), []got{{5, app.MatchWildcard, "ZB12CDE", nil}}},
		{"question mark needs one character", cands("B12CDE"), nil},
		{
			// Ordered by priority, then kind; entry 8 is two swaps away,
			// entry 3 one; the wildcards match too.
			"ordering", cands("AB12CDE"),
			[]got{
				{2, app.MatchExact, "AB12CDE", nil},
				{5, app.MatchWildcard, "AB12CDE", nil},
				{1, app.MatchExact, "AB12CDE", nil},
				{3, app.MatchLookalike, "AB12CDE", []int{5}},
				{4, app.MatchWildcard, "AB12CDE", nil},
				{8, app.MatchLookalike, "AB12CDE", []int{1, 2}},
			},
		},
		{
			// The best candidate matches nothing; the third does. Entry 6
			// is matched by two candidates and reported once, by the
			// exact one.
			// The second reading is a look-alike; the third is exact but is not
			// what the plate was read as, so it ranks no better.
			"every candidate considered", cands("QQ99QQQ", "8D51SMR", "BD51SMR"),
			[]got{{6, app.MatchLookalike, "8D51SMR", []int{0}}},
		},
		{
			// Exact on a lower-ranked reading: shown as a look-alike of the best
			// reading, the differing character marked, for the officer to compare.
			"exact on a lower reading", cands("BD51SMP", "BD51SMR"),
			[]got{{6, app.MatchLookalike, "BD51SMP", []int{6}}},
		},
		{
			"exact on the best reading", cands("BD51SMR", "8D51SMR"),
			[]got{{6, app.MatchExact, "BD51SMR", nil}},
		},
		{
			"same kind: earlier candidate wins", cands("8D51SMR", "BD5ISMR"),
			[]got{{6, app.MatchLookalike, "8D51SMR", []int{0}}},
		},
		{"no candidates", nil, nil},
		{"empty candidate", cands(" - "), nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			ms, err := m.Match(tt.cands, t0)
			if err != nil {
				t.Fatal(err)
			}
			if g := reduce(ms); !reflect.DeepEqual(g, tt.want) {
				t.Errorf("Match = %+v\nwant    %+v", g, tt.want)
			}
			for _, x := range ms {
				if x.Entry.ID == 9 && !x.Entry.Covert {
					t.Errorf("covert entry returned without its flag")
				}
			}
		})
	}
}

// TestIndexAgainstBruteForce checks the index finds exactly what comparing
// every candidate with every mark and pattern finds, over random
// look-alike-heavy marks.
func TestIndexAgainstBruteForce(t *testing.T) {
	r := rand.New(rand.NewPCG(1, 2))
	const alphabet = "0ODQ1IL8B5S2Z6G4A7TCEX"
	randMark := func() string {
		b := make([]byte, 1+r.IntN(8))
		for i := range b {
			b[i] = alphabet[r.IntN(len(alphabet))]
		}
		return string(b)
	}
	var b Builder
	marks := map[int64]string{}
	for id := int64(1); id <= 5000; id++ {
		m := randMark()
		marks[id] = m
		b.Add(id*3, m) // ids not dense
	}
	globs := map[int64]string{}
	for id := int64(1); id <= 60; id++ {
		p := []byte(randMark() + randMark())
		for range 1 + r.IntN(3) {
			p[r.IntN(len(p))] = "*?"[r.IntN(2)]
		}
		if g := vrm.NormalizePattern(string(p)); strings.Trim(g, "*?") != "" {
			globs[-id] = g
			b.Add(-id, g)
		}
	}
	x := b.Index()
	globHits := 0
	for range 3000 {
		c := randMark()
		if r.IntN(4) == 0 {
			c += randMark()
		}
		var want []int64
		for id, m := range marks {
			if d, ok := vrm.Lookalike(c, m); ok && len(d) <= MaxSwaps {
				want = append(want, id*3)
			}
		}
		for id, g := range globs {
			if globRef(g, c) {
				want = append(want, id)
				globHits++
			}
		}
		gotIDs := x.Candidates([]app.Candidate{{Text: c}})
		slices.Sort(want)
		slices.Sort(gotIDs)
		if !slices.Equal(gotIDs, want) {
			t.Fatalf("candidates of %q = %v, want %v", c, gotIDs, want)
		}
	}
	if globHits < 10 {
		t.Errorf("only %d pattern matches: the test does not exercise patterns", globHits)
	}
}

func TestKeyRoundTrip(t *testing.T) {
	for _, s := range []string{"A", "0", "Z9", "BD51SMR", "ABCDEFGHJK", "9999999999"} {
		k, ok := pack(s)
		if !ok || unpack(k) != s {
			t.Errorf("pack/unpack(%q) = %q %v", s, unpack(k), ok)
		}
		if f, _ := pack(vrm.FoldString(s)); foldKey(k) != f {
			t.Errorf("foldKey(%q) disagrees with vrm.FoldString", s)
		}
	}
	for _, s := range []string{"", "ABCDEFGHJKL", "AB*", "ab12"} {
		if _, ok := pack(s); ok {
			t.Errorf("pack(%q) accepted", s)
		}
	}
}

func TestIDsBeyond32Bits(t *testing.T) {
	var b Builder
	b.Add(1<<40, "BD51SMR")
	b.Add(7, "AB12CDE")
	x := b.Index()
	if x.ids64 == nil {
		t.Fatal("64-bit ids not kept")
	}
	if ids := x.Candidates(cands("BD51SMR")); !slices.Equal(ids, []int64{1 << 40}) {
		t.Errorf("Candidates = %v", ids)
	}
	path := filepath.Join(t.TempDir(), "hotlist.idx")
	if err := x.WriteSnapshot(path, 3); err != nil {
		t.Fatal(err)
	}
	y, _, err := LoadSnapshot(path)
	if err != nil {
		t.Fatal(err)
	}
	if ids := y.Candidates(cands("8D51SMR")); !slices.Equal(ids, []int64{1 << 40}) {
		t.Errorf("after snapshot, Candidates = %v", ids)
	}
}

func TestRefresh(t *testing.T) {
	src := &memSource{entries: []app.HotlistEntry{entry(1, "AB12CDE", 5)}}
	m, err := Open(context.Background(), src, "")
	if err != nil {
		t.Fatal(err)
	}
	if did, err := m.Refresh(context.Background()); did || err != nil || src.keys.Load() != 1 {
		t.Fatalf("Refresh with no change = %v, %v after %d key scans", did, err, src.keys.Load())
	}
	src.set([]app.HotlistEntry{entry(2, "BD51SMR", 5)})
	if did, err := m.Refresh(context.Background()); !did || err != nil {
		t.Fatalf("Refresh after a change = %v, %v", did, err)
	}
	if ms, _ := m.Match(cands("BD51SMR"), t0); len(ms) != 1 || m.Generation() != 1 {
		t.Errorf("after refresh: %+v at generation %d", reduce(ms), m.Generation())
	}
}

func TestMatchStaleIndexJudgesCurrentEntry(t *testing.T) {
	src := &memSource{entries: []app.HotlistEntry{entry(1, "AB12CDE", 5)}}
	m, err := Open(context.Background(), src, "")
	if err != nil {
		t.Fatal(err)
	}
	// The entry changes in the source; until Reload the index still
	// points the old mark at it, but Match must judge the entry as it is.
	src.set([]app.HotlistEntry{entry(1, "ZZ99ZZZ", 5)})
	if ms, _ := m.Match(cands("AB12CDE"), t0); len(ms) != 0 {
		t.Errorf("stale index matched a changed entry: %+v", reduce(ms))
	}
	if err := m.Reload(context.Background()); err != nil {
		t.Fatal(err)
	}
	if ms, _ := m.Match(cands("ZZ99ZZZ"), t0); len(ms) != 1 {
		t.Errorf("after reload, Match = %+v", reduce(ms))
	}
}

type failingSource struct{ memSource }

var errDown = errors.New("store is down")

func (s *failingSource) HotlistEntries(context.Context, []int64) ([]app.HotlistEntry, error) {
	return nil, errDown
}

func TestMatchSourceError(t *testing.T) {
	src := &failingSource{memSource{entries: []app.HotlistEntry{entry(1, "AB12CDE", 5)}}}
	m, err := Open(context.Background(), src, "")
	if err != nil {
		t.Fatal(err)
	}
	if _, err := m.Match(cands("AB12CDE"), t0); !errors.Is(err, errDown) {
		t.Errorf("Match error = %v, want %v", err, errDown)
	}
	if ms, err := m.Match(cands("QQ11QQQ"), t0); err != nil || ms != nil {
		t.Errorf("a read matching nothing touched the source: %v %v", ms, err)
	}
}

func TestOpenUsesSnapshot(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, "hotlist.idx")
	src := &memSource{gen: 7, entries: []app.HotlistEntry{entry(1, "AB12CDE", 5), entry(2, "XY*", 3)}}
	m, err := Open(context.Background(), src, path)
	if err != nil {
		t.Fatal(err)
	}
	if info := m.Info(); info.FromSnapshot || !errors.Is(info.SnapshotErr, os.ErrNotExist) {
		t.Errorf("first open: %+v, want a build after a missing snapshot", info)
	}
	m2, err := Open(context.Background(), src, path)
	if err != nil {
		t.Fatal(err)
	}
	if info := m2.Info(); !info.FromSnapshot || info.SnapshotErr != nil || src.keys.Load() != 1 {
		t.Errorf("second open: %+v after %d key scans, want the snapshot", info, src.keys.Load())
	}
	if ms, _ := m2.Match(cands("A812CDE", "XYZ"), t0); len(ms) != 2 {
		t.Errorf("index from snapshot: Match = %+v", reduce(ms))
	}

	// A change to the lists makes the snapshot stale.
	src.set(append(src.entries, entry(3, "BD51SMR", 1)))
	m3, err := Open(context.Background(), src, path)
	if err != nil {
		t.Fatal(err)
	}
	if info := m3.Info(); info.FromSnapshot || !errors.Is(info.SnapshotErr, ErrStaleSnapshot) {
		t.Errorf("open after a change: %+v, want a rebuild", info)
	}
	if ms, _ := m3.Match(cands("BD51SMR"), t0); len(ms) != 1 {
		t.Errorf("rebuilt index misses the new entry")
	}

	// A corrupt snapshot is reported and rebuilt, never trusted.
	data, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	data[len(data)-3] ^= 0xff
	if err := os.WriteFile(path, data, 0o600); err != nil {
		t.Fatal(err)
	}
	m4, err := Open(context.Background(), src, path)
	if err != nil {
		t.Fatal(err)
	}
	if info := m4.Info(); info.FromSnapshot || !errors.Is(info.SnapshotErr, ErrCorruptSnapshot) {
		t.Errorf("open with a corrupt snapshot: %+v, want a rebuild", info)
	}
	if _, _, err := LoadSnapshot(path); err != nil {
		t.Errorf("snapshot not rewritten after the rebuild: %v", err)
	}
}

func TestOpenStale(t *testing.T) {
	path := filepath.Join(t.TempDir(), "hotlist.idx")
	src := &memSource{entries: []app.HotlistEntry{entry(1, "AB12CDE", 5), entry(2, "BD51SMR", 5)}}
	if _, err := Open(context.Background(), src, path); err != nil {
		t.Fatal(err)
	}
	// After the snapshot: entry 1 changes its mark, entry 2 goes, 3 comes.
	src.set([]app.HotlistEntry{entry(1, "XY12XYZ", 5), entry(3, "K50WTB", 5)})
	block := make(chan struct{})
	slow := &slowKeys{memSource: src, wait: block}
	m, err := OpenStale(context.Background(), slow, path)
	if err != nil {
		t.Fatal(err)
	}
	if info := m.Info(); !info.FromSnapshot || !errors.Is(info.SnapshotErr, ErrStaleSnapshot) || info.Generation != 0 {
		t.Errorf("info before the rebuild = %+v", info)
	}
	// The stale index never reports what the entries no longer say.
	for _, c := range []string{"AB12CDE", "BD51SMR", "K50WTB"} {
		if ms, err := m.Match(cands(c), t0); err != nil || len(ms) != 0 {
			t.Errorf("stale index: Match(%s) = %+v, %v", c, reduce(ms), err)
		}
	}
	close(block)
	if err := m.Wait(); err != nil {
		t.Fatal(err)
	}
	if info := m.Info(); info.FromSnapshot || m.Generation() != 1 {
		t.Errorf("info after the rebuild = %+v at generation %d", info, m.Generation())
	}
	for _, c := range []string{"XY12XYZ", "K50WTB"} {
		if ms, _ := m.Match(cands(c), t0); len(ms) != 1 {
			t.Errorf("rebuilt index: Match(%s) = %+v", c, reduce(ms))
		}
	}
	if _, gen, err := LoadSnapshot(path); err != nil || gen != 1 {
		t.Errorf("snapshot after the rebuild: generation %d, %v", gen, err)
	}
}

// slowKeys holds HotlistKeys until wait is closed.
type slowKeys struct {
	*memSource
	wait chan struct{}
}

func (s *slowKeys) HotlistKeys(ctx context.Context, fn func(int64, string) error) error {
	<-s.wait
	return s.memSource.HotlistKeys(ctx, fn)
}

func TestSnapshotRoundTrip(t *testing.T) {
	g := NewGenerator(3, t0)
	src := &GenSource{Gen: g, N: 20000, Patterns: 50, Generation: 42}
	x, err := Build(context.Background(), src)
	if err != nil {
		t.Fatal(err)
	}
	var b Builder
	b.Add(99999, "ABCDEFGHJKLMNP") // a long mark
	for i := range int64(1000) {
		b.Add(i, g.Mark(i))
	}
	for _, idx := range []*Index{x, b.Index()} {
		path := filepath.Join(t.TempDir(), "hotlist.idx")
		if err := idx.WriteSnapshot(path, 42); err != nil {
			t.Fatal(err)
		}
		y, gen, err := LoadSnapshot(path)
		if err != nil {
			t.Fatal(err)
		}
		if gen != 42 {
			t.Errorf("generation = %d, want 42", gen)
		}
		if !reflect.DeepEqual(idx, y) {
			t.Errorf("loaded index differs from the written one: %+v vs %+v", idx.Stats(), y.Stats())
		}
		matches, _ := os.ReadDir(filepath.Dir(path))
		if len(matches) != 1 {
			t.Errorf("temporary files left behind: %v", matches)
		}
	}
}

func TestSnapshotCorruption(t *testing.T) {
	var b Builder
	for i, m := range []string{"AB12CDE", "BD51SMR", "K50WTB", "XY*"} {
		b.Add(int64(i+1), m)
	}
	path := filepath.Join(t.TempDir(), "hotlist.idx")
	if err := b.Index().WriteSnapshot(path, 1); err != nil {
		t.Fatal(err)
	}
	good, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name string
		edit func([]byte) []byte
	}{
		{"empty", func([]byte) []byte { return nil }},
		{"truncated header", func(d []byte) []byte { return d[:40] }},
		{"truncated body", func(d []byte) []byte { return d[:len(d)-1] }},
		{"extra byte", func(d []byte) []byte { return append(d, 0) }},
		{"bad magic", func(d []byte) []byte { d[0] = 'X'; return d }},
		{"header bit flip", func(d []byte) []byte { d[20] ^= 1; return d }},
		{"body bit flip", func(d []byte) []byte { d[headerLen+100] ^= 1; return d }},
		{"last byte flip", func(d []byte) []byte { d[len(d)-1] ^= 1; return d }},
		{"text file", func([]byte) []byte { return []byte("vrm,category\nAB12CDE,Stolen\n") }},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			p := filepath.Join(t.TempDir(), "bad.idx")
			if err := os.WriteFile(p, tt.edit(slices.Clone(good)), 0o600); err != nil {
				t.Fatal(err)
			}
			if _, _, err := LoadSnapshot(p); !errors.Is(err, ErrCorruptSnapshot) {
				t.Errorf("LoadSnapshot = %v, want ErrCorruptSnapshot", err)
			}
		})
	}
}

// TestReloadAtomic swaps between two lists while readers match: every read
// must see one list or the other, never a mix or nothing.
func TestReloadAtomic(t *testing.T) {
	listA := []app.HotlistEntry{entry(1, "AA11AAA", 5), entry(2, "AA22AAA", 5)}
	listB := []app.HotlistEntry{entry(3, "BB11BBB", 5), entry(4, "BB22BBB", 5)}
	src := &memSource{entries: listA}
	m, err := Open(context.Background(), src, "")
	if err != nil {
		t.Fatal(err)
	}
	read := cands("AA11AAA", "AA22AAA", "BB11BBB", "BB22BBB")
	var stop atomic.Bool
	var wg sync.WaitGroup
	var seenA, seenB atomic.Int64
	errs := make(chan error, 4)
	for range 4 {
		wg.Go(func() {
			for !stop.Load() {
				idx := m.Index()
				ids := idx.Candidates(read)
				slices.Sort(ids)
				switch {
				case slices.Equal(ids, []int64{1, 2}):
					seenA.Add(1)
				case slices.Equal(ids, []int64{3, 4}):
					seenB.Add(1)
				default:
					errs <- fmt.Errorf("reader saw %v", ids)
					return
				}
				if _, err := m.Match(read, t0); err != nil {
					errs <- err
					return
				}
			}
		})
	}
	for i := range 50 {
		if i%2 == 0 {
			src.set(listB)
		} else {
			src.set(listA)
		}
		if err := m.Reload(context.Background()); err != nil {
			t.Fatal(err)
		}
	}
	stop.Store(true)
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Error(err)
	}
	if seenA.Load() == 0 || seenB.Load() == 0 {
		t.Logf("readers saw list A %d times and B %d times", seenA.Load(), seenB.Load())
	}
	if m.Generation() != 50 {
		t.Errorf("generation = %d, want 50", m.Generation())
	}
}

// TestIndexOrder checks the invariants lookups rely on over an index large
// enough to be sorted in parallel.
func TestIndexOrder(t *testing.T) {
	g := NewGenerator(5, t0)
	var b Builder
	const n = 200_000
	for i := range int64(n) {
		b.Add(i+1, g.Mark(i))
	}
	x := b.Index()
	if len(x.keys) != n || x.bucket[numBuckets] != n {
		t.Fatalf("%d keys, bucket table ends at %d", len(x.keys), x.bucket[numBuckets])
	}
	for i := range x.keys {
		f := foldKey(x.keys[i])
		bk := bucketOf(f)
		if uint32(i) < x.bucket[bk] || uint32(i) >= x.bucket[bk+1] {
			t.Fatalf("key %d (%s) outside its bucket %d", i, unpack(x.keys[i]), bk)
		}
		if i > 0 {
			pf, pk := foldKey(x.keys[i-1]), x.keys[i-1]
			if pf > f || pf == f && pk > x.keys[i] {
				t.Fatalf("keys %d and %d out of order: %s %s", i-1, i, unpack(pk), unpack(x.keys[i]))
			}
		}
	}
	for i := int64(0); i < n; i += 997 {
		if ids := x.Candidates(cands(g.Mark(i))); !slices.Contains(ids, i+1) {
			t.Fatalf("mark %d (%s) not found: %v", i, g.Mark(i), ids)
		}
	}
}

func TestBuilderSkips(t *testing.T) {
	var b Builder
	b.Add(1, " - ")                             // nothing left
	b.Add(2, "**??")                            // wildcards alone
	b.Add(3, strings.Repeat("A", maxMarkLen+1)) // no mark is this long
	b.Add(4, "ab12 cde")                        // normalised, kept
	b.Add(5, "AB12*")                           // pattern, kept
	b.Add(6, strings.Repeat("B", maxKeyLen+2))  // long, kept aside
	if b.Skipped() != 3 {
		t.Errorf("Skipped = %d, want 3", b.Skipped())
	}
	x := b.Index()
	if s := x.Stats(); s.Marks != 1 || s.Patterns != 1 || s.Long != 1 || x.Len() != 3 {
		t.Errorf("Stats = %+v", s)
	}
	if ids := x.Candidates(cands("AB12CDE")); !slices.Equal(ids, []int64{4, 5}) {
		t.Errorf("Candidates = %v", ids)
	}
}

func FuzzLoadSnapshot(f *testing.F) {
	var b Builder
	for i, m := range []string{"AB12CDE", "BD51SMR", "XY*", "ABCDEFGHJKLMN"} {
		b.Add(int64(i+1), m)
	}
	path := filepath.Join(f.TempDir(), "seed.idx")
	if err := b.Index().WriteSnapshot(path, 9); err != nil {
		f.Fatal(err)
	}
	good, err := os.ReadFile(path)
	if err != nil {
		f.Fatal(err)
	}
	f.Add(good)
	f.Add(good[:headerLen])
	f.Add([]byte(snapMagic))
	f.Fuzz(func(t *testing.T, data []byte) {
		p := filepath.Join(t.TempDir(), "x.idx")
		if err := os.WriteFile(p, data, 0o600); err != nil {
			t.Fatal(err)
		}
		x, _, err := LoadSnapshot(p)
		if err != nil {
			if !errors.Is(err, ErrCorruptSnapshot) {
				t.Fatalf("error %v is not ErrCorruptSnapshot", err)
			}
			return
		}
		x.Candidates(cands("AB12CDE", "XYZ", "ABCDEFGHJKLMN"))
	})
}
