package sqlite_test

import (
	"context"
	"fmt"
	"math/rand/v2"
	"os"
	"path/filepath"
	"strconv"
	"sync"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	"github.com/ukanpr/anpr/app"
	"github.com/ukanpr/anpr/app/sqlite"
)

// bigBench opts in to the 10-million-row hot-list benchmarks, which take
// minutes and a couple of GB of disk.
var bigBench = os.Getenv("ANPR_BENCH_BIG") != ""

// BenchmarkSaveRead measures committed (synced) reads per second with 60 KB
// of images each: alone, and grouped in transactions the way a batching
// writer would group the reads that queue up while a commit is syncing.
func BenchmarkSaveRead(b *testing.B) {
	patch, overview := jpeg("patch", 4*1024), jpeg("overview", 56*1024)
	for _, batch := range []int{1, 8, 32} {
		b.Run(fmt.Sprintf("batch=%d", batch), func(b *testing.B) {
			db, err := sqlite.Open(filepath.Join(b.TempDir(), "car.db"))
			if err != nil {
				b.Fatal(err)
			}
			defer db.Close()
			ctx := context.Background()
			base := testRead("bench", "AB12CDE", t0)
			base.Patch, base.Overview = patch, overview
			reads := make([]sqlite.ReadWithHit, batch)
			b.SetBytes(int64(len(patch) + len(overview)))
			b.ResetTimer()
			start, cpu := time.Now(), cpuTime()
			n := 0
			for n < b.N {
				k := min(batch, b.N-n)
				for j := range k {
					r := base
					r.ID = fmt.Sprintf("r%d", n+j)
					r.Time = t0.Add(time.Duration(n+j) * time.Millisecond)
					reads[j] = sqlite.ReadWithHit{Read: r}
				}
				if batch == 1 {
					err = db.SaveRead(ctx, reads[0].Read, nil)
				} else {
					err = db.SaveReads(ctx, reads[:k])
				}
				if err != nil {
					b.Fatal(err)
				}
				n += k
			}
			b.ReportMetric(float64(b.N)/time.Since(start).Seconds(), "reads/s")
			b.ReportMetric(float64(b.N)/(cpuTime()-cpu).Seconds(), "reads/cpu-s")
		})
	}
}

// vrmGen makes realistic current-format marks (AB12CDE) and, rarely,
// wildcard patterns.
type vrmGen struct{ rng *rand.Rand }

const vrmLetters = "ABCDEFGHJKLMNOPRSTUVWXY" // no I, Q, Z in current marks

func (g vrmGen) entry(list string, i int) app.HotlistEntry {
	var v [7]byte
	for _, k := range [...]int{0, 1, 4, 5, 6} {
		v[k] = vrmLetters[g.rng.IntN(len(vrmLetters))]
	}
	age := [...]int{2, 3, 51, 52, 10, 60, 19, 69, 24, 74}[g.rng.IntN(10)]
	v[2], v[3] = byte('0'+age/10), byte('0'+age%10)
	vrm := string(v[:])
	if i%100000 == 99999 {
		vrm = vrm[:4] + "*"
	}
	e := app.HotlistEntry{
		List: list, VRM: vrm, Category: "no insurance", Priority: 1 + g.rng.IntN(9),
		Action: "check driver documents", Information: "MIB record", Reference: "REF" + strconv.Itoa(i),
		Make: "Ford", Model: "Focus", Colour: "silver",
	}
	if i%10 == 0 {
		e.Expires = t0.Add(time.Duration(g.rng.IntN(1000)) * time.Hour)
	}
	if i%50 == 0 {
		e.Covert, e.Markers = true, []string{"firearms"}
	}
	return e
}

// cpuTime is the CPU time this process has used, all threads: on a shared
// machine it says what an operation costs better than the wall clock does.
func cpuTime() time.Duration {
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		return 0
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}

func fillList(tb testing.TB, db *sqlite.DB, list string, n int, seed uint64) sqlite.ImportResult {
	tb.Helper()
	g := vrmGen{rand.New(rand.NewPCG(seed, 7))}
	imp, err := db.BeginImport(context.Background(), list, true)
	if err != nil {
		tb.Fatal(err)
	}
	defer imp.Rollback()
	for i := range n {
		if err := imp.Add(g.entry(list, i)); err != nil {
			tb.Fatal(err)
		}
	}
	res, err := imp.Commit()
	if err != nil {
		tb.Fatal(err)
	}
	return res
}

func sizes() []int {
	if bigBench {
		return []int{1_000_000, 10_000_000}
	}
	return []int{100_000, 1_000_000}
}

func sizeName(n int) string {
	if n >= 1_000_000 {
		return fmt.Sprintf("rows=%dM", n/1_000_000)
	}
	return fmt.Sprintf("rows=%dk", n/1000)
}

// BenchmarkImport measures hot-list import into a fresh file, replacing the
// list, in one transaction. Run with -benchtime=1x: one op is a whole import.
func BenchmarkImport(b *testing.B) {
	for _, n := range sizes() {
		b.Run(sizeName(n), func(b *testing.B) {
			var (
				rows         int
				elapsed, cpu time.Duration
			)
			for i := range b.N {
				b.StopTimer()
				db, err := sqlite.Open(filepath.Join(b.TempDir(), fmt.Sprintf("car%d.db", i)))
				if err != nil {
					b.Fatal(err)
				}
				b.StartTimer()
				start, cpu0 := time.Now(), cpuTime()
				// Ten lists, as a force's PNC extract split by category.
				per := n / 10
				for l := range 10 {
					res := fillList(b, db, fmt.Sprintf("list%d", l), per, uint64(l))
					rows += res.Added
				}
				elapsed += time.Since(start)
				cpu += cpuTime() - cpu0
				b.StopTimer()
				db.Close()
				b.StartTimer()
			}
			b.ReportMetric(float64(rows)/elapsed.Seconds(), "rows/s")
			b.ReportMetric(float64(rows)/cpu.Seconds(), "rows/cpu-s")
		})
	}
}

// BenchmarkImportReplace measures replacing a list that already holds as
// many rows: the old rows are deleted in the same transaction.
func BenchmarkImportReplace(b *testing.B) {
	const n = 1_000_000
	db, err := sqlite.Open(filepath.Join(b.TempDir(), "car.db"))
	if err != nil {
		b.Fatal(err)
	}
	defer db.Close()
	fillList(b, db, "pnc", n, 1)
	b.ResetTimer()
	start, cpu := time.Now(), cpuTime()
	for i := range b.N {
		fillList(b, db, "pnc", n, uint64(i+2))
	}
	b.ReportMetric(float64(n*b.N)/time.Since(start).Seconds(), "rows/s")
	b.ReportMetric(float64(n*b.N)/(cpuTime()-cpu).Seconds(), "rows/cpu-s")
}

// BenchmarkHotlistKeys measures the full scan the matching index loads from
// at start.
func BenchmarkHotlistKeys(b *testing.B) {
	for _, n := range sizes() {
		db, err := sqlite.Open(filepath.Join(b.TempDir(), "car.db"))
		if err != nil {
			b.Fatal(err)
		}
		per, total := n/10, 0
		for l := range 10 {
			total += fillList(b, db, fmt.Sprintf("list%d", l), per, uint64(l)).Entries
		}
		b.Run(sizeName(n), func(b *testing.B) {
			start, cpu := time.Now(), cpuTime()
			for range b.N {
				count := 0
				err := db.HotlistKeys(context.Background(), func(id int64, vrm string) error {
					count++
					return nil
				})
				if err != nil {
					b.Fatal(err)
				}
				if count != total {
					b.Fatalf("%d keys, want %d", count, total)
				}
			}
			b.ReportMetric(float64(total*b.N)/time.Since(start).Seconds(), "rows/s")
			b.ReportMetric(float64(total*b.N)/(cpuTime()-cpu).Seconds(), "rows/cpu-s")
		})
		db.Close()
	}
}

// BenchmarkWriter measures group commit: several producers (cameras) each
// calling Save, which returns only once their read is committed.
func BenchmarkWriter(b *testing.B) {
	patch, overview := jpeg("patch", 4*1024), jpeg("overview", 56*1024)
	for _, producers := range []int{1, 4, 16} {
		b.Run(fmt.Sprintf("producers=%d", producers), func(b *testing.B) {
			db, err := sqlite.Open(filepath.Join(b.TempDir(), "car.db"))
			if err != nil {
				b.Fatal(err)
			}
			defer db.Close()
			w := sqlite.NewWriter(db)
			w.Start(context.Background())
			defer w.Stop()
			base := testRead("bench", "AB12CDE", t0)
			base.Patch, base.Overview = patch, overview
			var next atomic.Int64
			b.SetBytes(int64(len(patch) + len(overview)))
			b.ResetTimer()
			start, cpu := time.Now(), cpuTime()
			var wg sync.WaitGroup
			for range producers {
				wg.Add(1)
				go func() {
					defer wg.Done()
					for {
						n := next.Add(1) - 1
						if n >= int64(b.N) {
							return
						}
						r := base
						r.ID = "r" + strconv.FormatInt(n, 10)
						r.Time = t0.Add(time.Duration(n) * time.Millisecond)
						if err := w.Save(context.Background(), r, nil); err != nil {
							b.Error(err)
							return
						}
					}
				}()
			}
			wg.Wait()
			batches, saved := w.Stats()
			b.ReportMetric(float64(saved)/float64(batches), "reads/tx")
			b.ReportMetric(float64(b.N)/time.Since(start).Seconds(), "reads/s")
			b.ReportMetric(float64(b.N)/(cpuTime()-cpu).Seconds(), "reads/cpu-s")
		})
	}
}

// BenchmarkHotlistStats measures the per-list summary `anpr hotlist stats`
// prints: a scan of every entry.
func BenchmarkHotlistStats(b *testing.B) {
	const n = 1_000_000
	db, err := sqlite.Open(filepath.Join(b.TempDir(), "car.db"))
	if err != nil {
		b.Fatal(err)
	}
	defer db.Close()
	for l := range 10 {
		fillList(b, db, fmt.Sprintf("list%d", l), n/10, uint64(l))
	}
	b.ResetTimer()
	for range b.N {
		st, err := db.HotlistStats(context.Background(), t0)
		if err != nil || len(st) != 10 {
			b.Fatalf("%d lists, %v", len(st), err)
		}
	}
}
