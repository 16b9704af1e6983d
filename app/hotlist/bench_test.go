package hotlist

import (
	"bytes"
	"context"
	"flag"
	"io"
	"math/rand/v2"
	"os"
	"path/filepath"
	"runtime"
	"runtime/debug"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/ukanpr/anpr/app"
	"github.com/ukanpr/anpr/app/vrm"
)

// The 10-million-entry benchmarks take tens of seconds and over a gigabyte
// while building, so they run only when asked for: -hotlist.big, or a -bench
// pattern naming "10M" (go test -bench 'Match/n=10M').
var big = flag.Bool("hotlist.big", false, "run the 10-million-entry benchmarks")

const patternsN = 100

var sizes = []struct {
	name string
	n    int64
}{{"n=10k", 10_000}, {"n=1M", 1_000_000}, {"n=10M", 10_000_000}}

func skipBig(b *testing.B, n int64) {
	if n < 10_000_000 {
		return
	}
	if f := flag.Lookup("test.bench"); *big || f != nil && strings.Contains(f.Value.String(), "10M") {
		return
	}
	b.Skip("10M benchmark: pass -hotlist.big or name it in -bench")
}

var benchNow = time.Date(2026, time.November, 21, 12, 0, 0, 0, time.UTC)

// benchIndexes caches one index per size across benchmarks.
var (
	benchMu      sync.Mutex
	benchIndexes = map[int64]*Index{}
)

func benchSource(n int64) *GenSource {
	return &GenSource{Gen: NewGenerator(1, benchNow), N: n, Patterns: patternsN, Generation: 1}
}

func benchIndex(b *testing.B, n int64) *Index {
	benchMu.Lock()
	defer benchMu.Unlock()
	if x := benchIndexes[n]; x != nil {
		return x
	}
	x, err := Build(context.Background(), benchSource(n))
	if err != nil {
		b.Fatal(err)
	}
	benchIndexes[n] = x
	return x
}

// benchReads makes reads as the recogniser hands them over: three
// candidates each, the best first and two OCR alternates with a look-alike
// swap. 90% are vehicles not on the lists; 5% are listed marks read
// correctly and 5% listed marks misread by one swap.
func benchReads(g *Generator, n int64, count int) [][]app.Candidate {
	r := rand.New(rand.NewPCG(99, 1))
	other := NewGenerator(12345, g.Now)
	swap := func(s string) string {
		b := []byte(s)
		for range 8 {
			i := r.IntN(len(b))
			for _, class := range []string{"0ODQ", "1IL", "8B", "5S", "2Z", "6G", "4A", "7T"} {
				if j := strings.IndexByte(class, b[i]); j >= 0 {
					b[i] = class[(j+1+r.IntN(len(class)-1))%len(class)]
					return string(b)
				}
			}
		}
		return string(b)
	}
	reads := make([][]app.Candidate, count)
	for i := range reads {
		var best string
		switch p := r.IntN(100); {
		case p < 90:
			best = other.Mark(int64(r.IntN(1 << 30)))
		case p < 95:
			best = g.Mark(r.Int64N(n))
		default:
			best = swap(g.Mark(r.Int64N(n)))
		}
		reads[i] = []app.Candidate{
			{Text: best, Confidence: 0.9},
			{Text: swap(best), Confidence: 0.06},
			{Text: swap(best), Confidence: 0.03},
		}
	}
	return reads
}

// latency runs fn b.N times, timing each call, and reports percentiles.
func latency(b *testing.B, fn func(i int)) {
	var d []time.Duration
	for i := 0; b.Loop(); i++ {
		start := time.Now()
		fn(i)
		d = append(d, time.Since(start))
	}
	b.StopTimer()
	slices.Sort(d)
	pct := func(p float64) float64 { return float64(d[int(p*float64(len(d)-1))].Nanoseconds()) }
	b.ReportMetric(pct(0.50), "p50-ns")
	b.ReportMetric(pct(0.99), "p99-ns")
	b.ReportMetric(pct(0.999), "p99.9-ns")
}

// BenchmarkMatch measures Matcher.Match over every candidate of a read,
// with entry details fetched (from a generating Source, standing in for
// the store) for the few reads that hit.
func BenchmarkMatch(b *testing.B) {
	for _, sz := range sizes {
		b.Run(sz.name, func(b *testing.B) {
			skipBig(b, sz.n)
			src := benchSource(sz.n)
			m := &Matcher{src: src}
			m.idx.Store(&loaded{index: benchIndex(b, sz.n), generation: 1})
			reads := benchReads(src.Gen, sz.n, 1<<16)
			hits := 0
			latency(b, func(i int) {
				ms, err := m.Match(reads[i%len(reads)], benchNow)
				if err != nil {
					b.Fatal(err)
				}
				if len(ms) > 0 {
					hits++
				}
			})
			b.ReportMetric(float64(hits)/float64(b.N), "hits/read")
			_ = hits
		})
	}
}

// BenchmarkLookup measures the index alone: every candidate of a read
// against marks and patterns, without fetching details.
func BenchmarkLookup(b *testing.B) {
	for _, sz := range sizes {
		b.Run(sz.name, func(b *testing.B) {
			skipBig(b, sz.n)
			x := benchIndex(b, sz.n)
			reads := benchReads(NewGenerator(1, benchNow), sz.n, 1<<16)
			latency(b, func(i int) { x.Candidates(reads[i%len(reads)]) })
		})
	}
}

// BenchmarkBuild measures building the index from the source's keys (the
// slow start: no usable snapshot), including generating the marks.
func BenchmarkBuild(b *testing.B) {
	for _, sz := range sizes {
		b.Run(sz.name, func(b *testing.B) {
			skipBig(b, sz.n)
			src := benchSource(sz.n)
			for b.Loop() {
				if _, err := Build(context.Background(), src); err != nil {
					b.Fatal(err)
				}
			}
			b.ReportMetric(b.Elapsed().Seconds()/float64(b.N), "s/build")
		})
	}
}

// BenchmarkOpenSnapshot measures the fast start: Open with a snapshot of the
// source's generation, until the matcher is ready to match, with the file in
// the page cache (warm) and evicted from it first (cold, Linux only). It also
// reports the snapshot's size and the heap the loaded index holds.
func BenchmarkOpenSnapshot(b *testing.B) {
	for _, sz := range sizes {
		b.Run(sz.name, func(b *testing.B) {
			skipBig(b, sz.n)
			path := filepath.Join(b.TempDir(), "hotlist.idx")
			if err := benchIndex(b, sz.n).WriteSnapshot(path, 1); err != nil {
				b.Fatal(err)
			}
			benchMu.Lock()
			delete(benchIndexes, sz.n) // measure the loaded index's heap alone
			benchMu.Unlock()
			st, err := os.Stat(path)
			if err != nil {
				b.Fatal(err)
			}
			src := benchSource(sz.n)
			for _, cold := range []bool{false, true} {
				name := "warm"
				if cold {
					name = "cold"
				}
				b.Run(name, func(b *testing.B) {
					if cold && !dropCache(path) {
						b.Skip("cannot evict the file from the page cache here")
					}
					var m *Matcher
					var took time.Duration
					for b.Loop() {
						b.StopTimer()
						m = nil
						runtime.GC()
						if cold {
							dropCache(path)
						}
						b.StartTimer()
						start := time.Now()
						m, err = Open(context.Background(), src, path)
						took += time.Since(start)
						if err != nil {
							b.Fatal(err)
						}
						if !m.Info().FromSnapshot {
							b.Fatalf("snapshot not used: %v", m.Info().SnapshotErr)
						}
					}
					b.ReportMetric(took.Seconds()/float64(b.N), "s/open")
					b.ReportMetric(float64(st.Size())/1e6, "file-MB")
					b.ReportMetric(heapMB(), "heap-MB")
					runtime.KeepAlive(m)
				})
			}
		})
	}
}

// heapMB is the heap in use after a full collection, in MB.
func heapMB() float64 {
	runtime.GC()
	debug.FreeOSMemory()
	var ms runtime.MemStats
	runtime.ReadMemStats(&ms)
	return float64(ms.HeapInuse) / 1e6
}

func TestGeneratedReadsHitTheList(t *testing.T) {
	// The benchmark is only meaningful if its reads hit at about the
	// intended rate: check on a small list.
	const n = 20000
	src := benchSource(n)
	m := &Matcher{src: src}
	x, err := Build(context.Background(), src)
	if err != nil {
		t.Fatal(err)
	}
	m.idx.Store(&loaded{index: x})
	hits, kinds := 0, map[app.MatchKind]int{}
	reads := benchReads(src.Gen, n, 4000)
	for _, r := range reads {
		ms, err := m.Match(r, benchNow)
		if err != nil {
			t.Fatal(err)
		}
		if len(ms) > 0 {
			hits++
		}
		for _, x := range ms {
			kinds[x.Kind]++
			if x.Kind == app.MatchLookalike {
				if d, ok := vrm.Lookalike(x.Candidate, x.Entry.VRM); !ok || len(d) == 0 || len(d) > MaxSwaps {
					t.Fatalf("look-alike match %q ~ %q is not one", x.Candidate, x.Entry.VRM)
				}
			}
		}
	}
	if frac := float64(hits) / float64(len(reads)); frac < 0.07 || frac > 0.2 {
		t.Errorf("hit rate %.3f, want about 0.1 (%v)", frac, kinds)
	}
	if kinds[app.MatchExact] == 0 || kinds[app.MatchLookalike] == 0 {
		t.Errorf("kinds %v: want exact and look-alike hits", kinds)
	}
}

// BenchmarkReader measures parsing a generated hot-list CSV (every column
// filled), the first stage of an import.
func BenchmarkReader(b *testing.B) {
	var buf bytes.Buffer
	const rows = 100_000
	if err := NewGenerator(1, benchNow).WriteCSV(&buf, rows, 0); err != nil {
		b.Fatal(err)
	}
	data := buf.Bytes()
	b.SetBytes(int64(len(data)))
	for b.Loop() {
		r, err := NewReader(bytes.NewReader(data), ReaderOptions{List: "bench"})
		if err != nil {
			b.Fatal(err)
		}
		n := 0
		for {
			_, err := r.Next()
			if err == io.EOF {
				break
			}
			if err != nil {
				b.Fatal(err)
			}
			n++
		}
		if n != rows {
			b.Fatalf("%d rows, want %d", n, rows)
		}
	}
	b.ReportMetric(float64(rows*b.N)/b.Elapsed().Seconds(), "rows/s")
}
