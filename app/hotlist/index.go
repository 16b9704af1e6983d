package hotlist

import (
	"context"
	"fmt"
	"math"
	"runtime"
	"slices"
	"strings"
	"sync"

	"github.com/ukanpr/anpr/app"
	"github.com/ukanpr/anpr/app/vrm"
)

// maxMarkLen bounds the marks and patterns the index keeps; anything longer
// is no registration mark.
const maxMarkLen = 64

// MaxSwaps is the most look-alike swaps a read may differ from a hot-list
// mark by and still match it (DESIGN.md: one or two).
const MaxSwaps = 2

// Index is an immutable in-memory matching index over hot-list marks and
// patterns. It holds only what finding candidates needs — a packed key and an
// entry id per mark — and leaves entry details to the Source, so ten million
// entries fit in about 120 MB.
//
// Layout: keys are sorted by (folded key, key), where folding maps every
// character to its look-alike class (vrm.Fold). All marks a read could match
// exactly or by look-alike swaps therefore sit in one run of equal folded
// keys; a bucket table on the first three folded characters narrows the
// binary search for that run to a few thousand keys. Marks longer than the
// key holds sit in a small map, and wildcard patterns in a small slice that
// every read is checked against.
//
// An Index is safe for concurrent use; it is never modified once built.
type Index struct {
	keys   []uint64 // sorted by (foldKey, key)
	ids32  []uint32 // entry ids parallel to keys, when every id fits
	ids64  []int64  // entry ids parallel to keys, otherwise
	bucket []uint32 // bucket[b]…bucket[b+1] is the range of folded bucket b

	long     map[string][]longMark // by folded mark, marks too long to pack
	patterns []pattern
	// Patterns by the first character a match must start with (code-1),
	// and those starting with a wildcard, so a read is globbed only
	// against patterns it could match.
	patFirst [36][]int32
	patAny   []int32
}

// indexPatterns fills patFirst and patAny from patterns.
func (x *Index) indexPatterns() {
	x.patFirst, x.patAny = [36][]int32{}, nil
	for i, p := range x.patterns {
		if c := code[p.glob[0]]; c != 0 {
			x.patFirst[c-1] = append(x.patFirst[c-1], int32(i))
		} else {
			x.patAny = append(x.patAny, int32(i))
		}
	}
}

// longMark is a mark too long for a key.
type longMark struct {
	id   int64
	mark string
}

// pattern is a wildcard entry, with what rejects most reads before the
// glob runs: the literal text before the first and after the last wildcard,
// and the length a match must have.
type pattern struct {
	id       int64
	glob     string
	pre, suf string
	minLen   int
	star     bool // any length ≥ minLen, rather than exactly minLen
}

func newPattern(id int64, glob string) pattern {
	p := pattern{id: id, glob: glob}
	first, last := strings.IndexAny(glob, "*?"), strings.LastIndexAny(glob, "*?")
	if first < 0 {
		first, last = len(glob), len(glob)-1
	}
	p.pre, p.suf = glob[:first], glob[last+1:]
	for i := 0; i < len(glob); i++ {
		if glob[i] == '*' {
			p.star = true
		} else {
			p.minLen++
		}
	}
	return p
}

// match reports whether a normalised read matches the pattern.
func (p *pattern) match(s string) bool {
	if len(s) < p.minLen || !p.star && len(s) != p.minLen ||
		len(p.suf) > 0 && s[len(s)-1] != p.suf[len(p.suf)-1] ||
		!strings.HasPrefix(s, p.pre) || !strings.HasSuffix(s, p.suf) {
		return false
	}
	return glob(p.glob, s)
}

// IndexStats counts what an index holds.
type IndexStats struct {
	Marks    int // packed marks
	Long     int // marks longer than 10 characters
	Patterns int // wildcard patterns
	Bytes    int // approximate memory held by the index
}

// Stats counts what the index holds.
func (x *Index) Stats() IndexStats {
	s := IndexStats{Marks: len(x.keys), Patterns: len(x.patterns)}
	for _, l := range x.long {
		s.Long += len(l)
	}
	s.Bytes = 8*len(x.keys) + 4*len(x.ids32) + 8*len(x.ids64) + 4*len(x.bucket) +
		64*s.Long + 48*s.Patterns
	return s
}

// Len is the number of marks and patterns in the index.
func (x *Index) Len() int {
	s := x.Stats()
	return s.Marks + s.Long + s.Patterns
}

func (x *Index) id(i int) int64 {
	if x.ids64 != nil {
		return x.ids64[i]
	}
	return int64(x.ids32[i])
}

// Builder collects marks for a new Index. The zero value is ready to use.
// Ids are kept in 32 bits until one does not fit, which keeps building ten
// million marks to about half a gigabyte at its peak.
type Builder struct {
	keys     []uint64
	ids32    []uint32 // while every id fits in 32 bits
	ids64    []int64  // once one does not; ids32 is then nil
	long     map[string][]longMark
	patterns []pattern
	skipped  int
}

// Grow reserves room for n more marks, avoiding regrowth when the caller
// knows the count.
func (b *Builder) Grow(n int) {
	b.keys = slices.Grow(b.keys, n)
	if b.ids64 != nil {
		b.ids64 = slices.Grow(b.ids64, n)
	} else {
		b.ids32 = slices.Grow(b.ids32, n)
	}
}

func (b *Builder) addKey(k uint64, id int64) {
	b.keys = append(b.keys, k)
	switch {
	case b.ids64 != nil:
		b.ids64 = append(b.ids64, id)
	case id >= 0 && id <= math.MaxUint32:
		b.ids32 = append(b.ids32, uint32(id))
	default:
		b.ids64 = make([]int64, len(b.ids32), cap(b.keys))
		for i, v := range b.ids32 {
			b.ids64[i] = int64(v)
		}
		b.ids32 = nil
		b.ids64 = append(b.ids64, id)
	}
}

// Add adds the mark or pattern of entry id. Marks are normalised (vrm.Normalize,
// or vrm.NormalizePattern when they hold a wildcard); values that are empty
// or longer than 64 characters once normalised, and patterns of wildcards
// alone, are skipped and counted.
func (b *Builder) Add(id int64, mark string) {
	if k, ok := pack(mark); ok { // already normalised: the common case
		b.addKey(k, id)
		return
	}
	if vrm.IsPattern(mark) {
		p := vrm.NormalizePattern(mark)
		if strings.Trim(p, "*?") == "" || len(p) > maxMarkLen {
			b.skipped++
			return
		}
		b.patterns = append(b.patterns, newPattern(id, p))
		return
	}
	s := vrm.Normalize(mark)
	if k, ok := pack(s); ok {
		b.addKey(k, id)
		return
	}
	if s == "" || len(s) > maxMarkLen {
		b.skipped++
		return
	}
	if b.long == nil {
		b.long = make(map[string][]longMark)
	}
	f := vrm.FoldString(s)
	b.long[f] = append(b.long[f], longMark{id: id, mark: s})
}

// Skipped is how many values Add skipped because nothing was left of them.
func (b *Builder) Skipped() int { return b.skipped }

// Index sorts what was added into an Index. The Builder must not be used
// afterwards: the index takes over its memory.
func (b *Builder) Index() *Index {
	x := &Index{long: b.long, patterns: b.patterns}
	if b.ids64 != nil {
		x.keys, x.ids64, x.bucket = sortKeys(b.keys, b.ids64)
	} else {
		x.keys, x.ids32, x.bucket = sortKeys(b.keys, b.ids32)
	}
	*b = Builder{}
	x.indexPatterns()
	return x
}

// sortKeys sorts keys and their ids by (folded key, key, id) and returns
// them, without spare capacity, with the bucket table.
func sortKeys[I uint32 | int64](keys []uint64, ids []I) ([]uint64, []I, []uint32) {
	// Counting sort by bucket, in place (American flag sort): count, then
	// cycle every key to the next free slot of its bucket.
	bucket := make([]uint32, numBuckets+1)
	for _, k := range keys {
		bucket[bucketOf(foldKey(k))+1]++
	}
	for i := 1; i <= numBuckets; i++ {
		bucket[i] += bucket[i-1]
	}
	next := make([]uint32, numBuckets)
	copy(next, bucket[:numBuckets])
	for bk := uint32(0); bk < numBuckets; bk++ {
		end := bucket[bk+1]
		for i := next[bk]; i < end; i = next[bk] {
			k, id := keys[i], ids[i]
			for d := bucketOf(foldKey(k)); d != bk; d = bucketOf(foldKey(k)) {
				j := next[d]
				next[d]++
				keys[j], k = k, keys[j]
				ids[j], id = id, ids[j]
			}
			keys[i], ids[i] = k, id
			next[bk]++
		}
	}
	next = nil

	// Sort each bucket by (folded key, key, id), the buckets split among
	// the CPUs in ranges of about equal size.
	workers := runtime.GOMAXPROCS(0)
	if len(keys) < 1<<16 {
		workers = 1
	}
	var wg sync.WaitGroup
	from := 0
	for w := 1; w <= workers; w++ {
		to := from
		target := uint32(uint64(len(keys)) * uint64(w) / uint64(workers))
		for to < numBuckets && bucket[to] < target {
			to++
		}
		if w == workers {
			to = numBuckets
		}
		lo := from
		wg.Go(func() { sortBuckets(keys, ids, bucket, lo, to) })
		from = to
	}
	wg.Wait()

	if cap(keys)-len(keys) > len(keys)/16 {
		keys = slices.Clone(keys) // drop append's spare capacity
		ids = slices.Clone(ids)
	}
	return keys, ids, bucket
}

// sortBuckets sorts buckets from…to-1 by (folded key, key, id).
func sortBuckets[I uint32 | int64](keys []uint64, ids []I, bucket []uint32, from, to int) {
	type item struct {
		fold, key uint64
		id        I
	}
	var tmp []item
	for bk := from; bk < to; bk++ {
		lo, hi := int(bucket[bk]), int(bucket[bk+1])
		if hi-lo < 2 {
			continue
		}
		tmp = tmp[:0]
		for i := lo; i < hi; i++ {
			tmp = append(tmp, item{foldKey(keys[i]), keys[i], ids[i]})
		}
		slices.SortFunc(tmp, func(a, b item) int {
			switch {
			case a.fold != b.fold:
				return cmpU64(a.fold, b.fold)
			case a.key != b.key:
				return cmpU64(a.key, b.key)
			case a.id < b.id:
				return -1
			case a.id > b.id:
				return 1
			}
			return 0
		})
		for i, it := range tmp {
			keys[lo+i], ids[lo+i] = it.key, it.id
		}
	}
}

func cmpU64(a, b uint64) int {
	if a < b {
		return -1
	}
	return 1
}

// KeySource lists every hot-list mark and pattern with its entry id.
type KeySource interface {
	HotlistKeys(ctx context.Context, fn func(id int64, vrm string) error) error
}

// Build builds an index from every mark and pattern src lists.
func Build(ctx context.Context, src KeySource) (*Index, error) {
	var b Builder
	err := src.HotlistKeys(ctx, func(id int64, mark string) error {
		b.Add(id, mark)
		return nil
	})
	if err != nil {
		return nil, fmt.Errorf("build hot-list index: %w", err)
	}
	return b.Index(), nil
}

// hit is one entry a candidate may have matched, before its details are
// checked.
type hit struct {
	id   int64
	cand int // index into the candidates
}

// lookup appends to hits the entries whose mark a normalised candidate could
// match: the same folded key (exact or look-alike, checked by the caller
// against the entry's mark), or a wildcard pattern.
func (x *Index) lookup(s string, cand int, hits []hit) []hit {
	if k, ok := pack(s); ok {
		f := foldKey(k)
		b := bucketOf(f)
		lo, hi := int(x.bucket[b]), int(x.bucket[b+1])
		i := lo + sortSearch(hi-lo, func(j int) bool { return foldKey(x.keys[lo+j]) >= f })
		for ; i < hi && foldKey(x.keys[i]) == f; i++ {
			if n, _ := keyDiff(k, x.keys[i]); n <= MaxSwaps {
				hits = append(hits, hit{id: x.id(i), cand: cand})
			}
		}
	} else if len(x.long) > 0 && len(s) > maxKeyLen {
		for _, l := range x.long[vrm.FoldString(s)] {
			hits = append(hits, hit{id: l.id, cand: cand})
		}
	}
	if len(x.patterns) == 0 || s == "" {
		return hits
	}
	if c := code[s[0]]; c != 0 {
		hits = x.globAll(x.patFirst[c-1], s, cand, hits)
	}
	return x.globAll(x.patAny, s, cand, hits)
}

func (x *Index) globAll(which []int32, s string, cand int, hits []hit) []hit {
	for _, i := range which {
		if p := &x.patterns[i]; p.match(s) {
			hits = append(hits, hit{id: p.id, cand: cand})
		}
	}
	return hits
}

// sortSearch is sort.Search without the closure escaping to the heap.
func sortSearch(n int, f func(int) bool) int {
	i, j := 0, n
	for i < j {
		h := int(uint(i+j) >> 1)
		if !f(h) {
			i = h + 1
		} else {
			j = h
		}
	}
	return i
}

// Candidates returns the ids of the entries any of the candidates may match,
// without details; Matcher.Match is what callers normally want.
func (x *Index) Candidates(candidates []app.Candidate) []int64 {
	var hits []hit
	for i, c := range candidates {
		hits = x.lookup(vrm.Normalize(c.Text), i, hits)
	}
	ids := make([]int64, 0, len(hits))
	for _, h := range hits {
		if !slices.Contains(ids, h.id) {
			ids = append(ids, h.id)
		}
	}
	return ids
}
