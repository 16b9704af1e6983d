package hotlist

import (
	"cmp"
	"context"
	"errors"
	"fmt"
	"slices"
	"sync"
	"sync/atomic"
	"time"

	"github.com/ukanpr/anpr/app"
	"github.com/ukanpr/anpr/app/vrm"
)

// Source is where the matcher gets hot-list marks and entry details; the
// SQLite store implements it.
type Source interface {
	// HotlistGeneration changes on every change to any list.
	HotlistGeneration(ctx context.Context) (int64, error)
	// HotlistKeys calls fn with every entry's id and mark or pattern, in
	// any order.
	HotlistKeys(ctx context.Context, fn func(id int64, vrm string) error) error
	// HotlistEntries returns the entries with the given ids; ids no longer
	// present are left out.
	HotlistEntries(ctx context.Context, ids []int64) ([]app.HotlistEntry, error)
}

var _ app.Matcher = (*Matcher)(nil)

// Matcher matches reads against the hot lists of a Source through an
// in-memory Index. Match is safe to call from any goroutine at any time,
// including during Reload: each call uses one index, the old or the new.
type Matcher struct {
	src      Source
	snapshot string

	idx atomic.Pointer[loaded]
	mu  sync.Mutex // serialises Reload

	rebuilt chan struct{} // closed when OpenStale's background rebuild ends
	bgErr   error         // its error, readable once rebuilt is closed
}

// loaded is an index with where it came from.
type loaded struct {
	index      *Index
	generation int64
	info       LoadInfo
}

// LoadInfo says how the current index was obtained.
type LoadInfo struct {
	Generation   int64
	FromSnapshot bool          // loaded from the snapshot file rather than built
	SnapshotErr  error         // why the snapshot was not used or not written; nil when fine
	Took         time.Duration // to load or build
}

// Open returns a Matcher over src. When snapshotPath is not empty and holds a
// snapshot of src's current generation, the index is loaded from it (the
// fast start); otherwise it is built from src.HotlistKeys and the snapshot is
// rewritten. A missing, stale or corrupt snapshot is not an error: Info says
// what happened.
func Open(ctx context.Context, src Source, snapshotPath string) (*Matcher, error) {
	m := &Matcher{src: src, snapshot: snapshotPath}
	start := time.Now()
	gen, err := src.HotlistGeneration(ctx)
	if err != nil {
		return nil, fmt.Errorf("open hot-list matcher: %w", err)
	}
	var snapErr error
	if snapshotPath != "" {
		idx, _, err := loadSnapshot(snapshotPath, &gen)
		if err != nil {
			snapErr = err
		} else {
			m.idx.Store(&loaded{index: idx, generation: gen, info: LoadInfo{
				Generation: gen, FromSnapshot: true, Took: time.Since(start)}})
			return m, nil
		}
	}
	if err := m.reload(ctx, snapErr); err != nil {
		return nil, fmt.Errorf("open hot-list matcher: %w", err)
	}
	return m, nil
}

// OpenStale is Open for the fastest start: a snapshot of an older
// generation is used at once, and the index is rebuilt in the background
// and swapped in when ready (Info then says so). Until the swap, entries
// added since the snapshot are not matched; entries changed or removed
// since are judged as they are now, because Match checks every entry it
// fetches, so a stale index can miss a hit but never report a wrong one.
// Without a usable snapshot it behaves as Open. The rebuild runs under ctx:
// cancelling ctx abandons it; Wait waits for it.
func OpenStale(ctx context.Context, src Source, snapshotPath string) (*Matcher, error) {
	if snapshotPath == "" {
		return Open(ctx, src, snapshotPath)
	}
	start := time.Now()
	gen, err := src.HotlistGeneration(ctx)
	if err != nil {
		return nil, fmt.Errorf("open hot-list matcher: %w", err)
	}
	idx, g, err := loadSnapshot(snapshotPath, nil)
	if err != nil || g == gen {
		return Open(ctx, src, snapshotPath)
	}
	m := &Matcher{src: src, snapshot: snapshotPath, rebuilt: make(chan struct{})}
	stale := fmt.Errorf("%w: snapshot generation %d, hot lists %d; rebuilding in the background",
		ErrStaleSnapshot, g, gen)
	m.idx.Store(&loaded{index: idx, generation: g, info: LoadInfo{
		Generation: g, FromSnapshot: true, SnapshotErr: stale, Took: time.Since(start)}})
	go func() {
		defer close(m.rebuilt)
		if err := m.reload(ctx, stale); err != nil {
			m.bgErr = fmt.Errorf("rebuild hot-list index: %w", err)
		}
	}()
	return m, nil
}

// Wait waits for the background rebuild OpenStale started, if any, and
// returns its error.
func (m *Matcher) Wait() error {
	if m.rebuilt == nil {
		return nil
	}
	<-m.rebuilt
	return m.bgErr
}

// ErrStaleSnapshot says a snapshot's generation is not the source's.
var ErrStaleSnapshot = errors.New("hot-list snapshot is stale")

// Reload rebuilds the index from the source and swaps it in atomically;
// matches in flight finish on the old index. The snapshot file, if any, is
// rewritten afterwards; failing to write it leaves the new index in use and
// is reported in Info, not as an error.
func (m *Matcher) Reload(ctx context.Context) error {
	if err := m.reload(ctx, nil); err != nil {
		return fmt.Errorf("reload hot-list matcher: %w", err)
	}
	return nil
}

func (m *Matcher) reload(ctx context.Context, snapErr error) error {
	m.mu.Lock()
	defer m.mu.Unlock()
	start := time.Now()
	// Read the generation before the keys: if a list changes during the
	// build, the snapshot carries the older generation and is rebuilt on
	// the next start rather than trusted.
	gen, err := m.src.HotlistGeneration(ctx)
	if err != nil {
		return err
	}
	idx, err := Build(ctx, m.src)
	if err != nil {
		return err
	}
	l := &loaded{index: idx, generation: gen, info: LoadInfo{Generation: gen, SnapshotErr: snapErr}}
	if m.snapshot != "" {
		if err := idx.WriteSnapshot(m.snapshot, gen); err != nil {
			l.info.SnapshotErr = errors.Join(snapErr, err)
		}
	}
	l.info.Took = time.Since(start)
	m.idx.Store(l)
	return nil
}

// Refresh reloads the index when the source's generation differs from the
// one in use, and reports whether it did; for callers that poll.
func (m *Matcher) Refresh(ctx context.Context) (bool, error) {
	gen, err := m.src.HotlistGeneration(ctx)
	if err != nil {
		return false, fmt.Errorf("refresh hot-list matcher: %w", err)
	}
	if gen == m.Generation() {
		return false, nil
	}
	if err := m.Reload(ctx); err != nil {
		return false, err
	}
	return true, nil
}

// Info says how the index in use was obtained.
func (m *Matcher) Info() LoadInfo { return m.idx.Load().info }

// Index returns the index in use.
func (m *Matcher) Index() *Index { return m.idx.Load().index }

// Generation is the source generation the index in use was built from.
func (m *Matcher) Generation() int64 { return m.idx.Load().generation }

// kindRank orders match kinds best first.
func kindRank(k app.MatchKind) int {
	switch k {
	case app.MatchExact:
		return 0
	case app.MatchLookalike:
		return 1
	}
	return 2
}

// Match returns the hot-list entries any of the candidates matches at t:
// exactly, by up to MaxSwaps look-alike swaps, or by a wildcard pattern.
// Every candidate is considered, not only the best; an entry matched by
// several candidates appears once, with its best kind (then the earliest
// candidate). Exact means the best reading, candidates[0], is the entry: an
// exact match on a lower-ranked reading is reported as a look-alike whose
// Candidate is the best reading, so the officer compares the plate patch
// before acting. Results are ordered by priority, then kind (exact, look-alike,
// wildcard), then candidate order, then entry id. Expired entries never
// match; covert entries are returned with Entry.Covert set, for the caller
// to keep from the car's screen. Candidate texts are normalised first, and
// Match.Candidate is the normalised text.
//
// Match does not take a context: it is on the read path and its only I/O is
// fetching the details of entries that matched, which are few.
func (m *Matcher) Match(candidates []app.Candidate, t time.Time) ([]app.Match, error) {
	idx := m.idx.Load().index
	norm := make([]string, len(candidates))
	var hits []hit
	for i, c := range candidates {
		norm[i] = vrm.Normalize(c.Text)
		if norm[i] == "" || slices.Contains(norm[:i], norm[i]) {
			continue // a repeated candidate cannot match anything new
		}
		hits = idx.lookup(norm[i], i, hits)
	}
	if len(hits) == 0 {
		return nil, nil
	}
	ids := make([]int64, 0, len(hits))
	for _, h := range hits {
		if !slices.Contains(ids, h.id) {
			ids = append(ids, h.id)
		}
	}
	entries, err := m.src.HotlistEntries(context.Background(), ids)
	if err != nil {
		return nil, fmt.Errorf("match hot lists: %w", err)
	}
	var out []app.Match
	for _, e := range entries {
		if e.Expired(t) {
			continue
		}
		best, bestCand := app.Match{}, -1
		// Judge the match against the entry as it is now: the index may
		// predate a change to it.
		for _, h := range hits {
			if h.id != e.ID {
				continue
			}
			mt, ok := judge(e, norm[h.cand])
			if !ok {
				continue
			}
			if mt.Kind == app.MatchExact && h.cand > 0 && norm[h.cand] != norm[0] {
				// Exact on a lower-ranked reading is not what the plate was
				// read as: the officer must compare the patch, so it is a
				// look-alike, told against the best reading.
				mt = lowerReading(e, norm[0])
			}
			if bestCand < 0 || kindRank(mt.Kind) < kindRank(best.Kind) ||
				kindRank(mt.Kind) == kindRank(best.Kind) && h.cand < bestCand {
				best, bestCand = mt, h.cand
			}
		}
		if bestCand >= 0 {
			if best.Candidate == "" {
				best.Candidate = norm[bestCand] // Diff counts positions in it
			}
			out = append(out, best)
		}
	}
	slices.SortStableFunc(out, func(a, b app.Match) int {
		return cmp.Or(
			cmp.Compare(a.Entry.Priority, b.Entry.Priority),
			cmp.Compare(kindRank(a.Kind), kindRank(b.Kind)),
			cmp.Compare(candIndex(norm, a.Candidate), candIndex(norm, b.Candidate)),
			cmp.Compare(a.Entry.ID, b.Entry.ID),
		)
	})
	return out, nil
}

func candIndex(norm []string, s string) int { return slices.Index(norm, s) }

// judge decides how a normalised candidate matches an entry, if at all.
func judge(e app.HotlistEntry, cand string) (app.Match, bool) {
	if e.IsPattern() {
		if glob(vrm.NormalizePattern(e.VRM), cand) {
			return app.Match{Entry: e, Kind: app.MatchWildcard}, true
		}
		return app.Match{}, false
	}
	diff, ok := vrm.Lookalike(cand, vrm.Normalize(e.VRM))
	switch {
	case !ok || len(diff) > MaxSwaps:
		return app.Match{}, false
	case len(diff) == 0:
		return app.Match{Entry: e, Kind: app.MatchExact}, true
	}
	return app.Match{Entry: e, Kind: app.MatchLookalike, Diff: diff}, true
}

// lowerReading is the match of entry e reached through a reading other than
// the best one, best: a look-alike whose Candidate is the best reading and
// whose Diff marks where it differs from the entry.
func lowerReading(e app.HotlistEntry, best string) app.Match {
	m := app.Match{Entry: e, Kind: app.MatchLookalike, Candidate: best}
	if diff, ok := vrm.Lookalike(best, e.VRM); ok {
		m.Diff = diff
		return m
	}
	for i := 0; i < len(best) && i < len(e.VRM); i++ {
		if best[i] != e.VRM[i] {
			m.Diff = append(m.Diff, i)
		}
	}
	for i := min(len(best), len(e.VRM)); i < max(len(best), len(e.VRM)); i++ {
		m.Diff = append(m.Diff, i)
	}
	return m
}
