package ui_test

import (
	"flag"
	"fmt"
	"runtime"
	"testing"
	"time"

	"github.com/ukanpr/anpr/app"
	"github.com/ukanpr/anpr/app/ui"
)

var flood = flag.Bool("flood", false, "apply 18,000 reads (30 reads/s for 10 minutes) in TestReadFloodKeepsMemoryFlat")

// BenchmarkHitToScreen is the UI's share of "frame → alert on screen": from
// the engine's hit event to the hit screen built and laid out (apply-p99-ms),
// and to a full software paint of the window (paint-p99-ms: the CPU painter
// of the tests and screenshots; the real window paints with OpenGL on its
// own frame clock instead).
func BenchmarkHitToScreen(b *testing.B) {
	t := &testing.T{}
	u, vm := newUI(t, newBackend(&calls{}), true)
	apply := make([]time.Duration, 0, b.N)
	paint := make([]time.Duration, 0, b.N)
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		ev := exactHit(b, fmt.Sprint("r", i), "AB12CDE", 1)
		start := time.Now()
		vm.Apply(ev)
		apply = append(apply, time.Since(start))
		u.Window.Canvas().Capture()
		paint = append(paint, time.Since(start))
		if !u.HitShown() {
			b.Fatal("hit not shown")
		}
		_ = vm.Hits.Set(nil)
	}
	b.StopTimer()
	b.ReportMetric(float64(percentile(apply, 0.99).Microseconds())/1000, "apply-p99-ms")
	b.ReportMetric(float64(percentile(paint, 0.99).Microseconds())/1000, "paint-p99-ms")
}

func percentile(ds []time.Duration, p float64) time.Duration {
	s := append([]time.Duration(nil), ds...)
	for i := 1; i < len(s); i++ {
		for j := i; j > 0 && s[j] < s[j-1]; j-- {
			s[j], s[j-1] = s[j-1], s[j]
		}
	}
	return s[int(p*float64(len(s)-1))]
}

// TestReadFloodKeepsMemoryFlat applies reads at the engine's worst rate and
// checks the UI's memory does not grow with them: the list keeps MaxReads,
// the patch cache is bounded. 30 reads/s for 10 minutes is 18,000 reads
// (-flood; about 30 s here); by default 3,000.
func TestReadFloodKeepsMemoryFlat(t *testing.T) {
	n := 3000
	if *flood {
		n = 18000
	}
	u, vm := newUI(t, newBackend(&calls{}), true)
	patch := patchJPEG(t)
	heap := func() uint64 {
		runtime.GC()
		var m runtime.MemStats
		runtime.ReadMemStats(&m)
		return m.HeapAlloc
	}
	apply := func(from, to int) {
		for i := from; i < to; i++ {
			r := read(fmt.Sprint("r", i), fmt.Sprintf("AB%02dCDE", i%100), t0.Add(time.Duration(i)*33*time.Millisecond), append([]byte(nil), patch...))
			vm.Apply(app.Event{Type: app.EventRead, Read: r})
		}
	}
	apply(0, n/3)
	u.Window.Canvas().Capture()
	before := heap()
	apply(n/3, n)
	u.Window.Canvas().Capture()
	after := heap()
	if vm.Reads.Length() != ui.DefaultMaxReads {
		t.Fatalf("read list holds %d, want %d", vm.Reads.Length(), ui.DefaultMaxReads)
	}
	growth := int64(after) - int64(before)
	t.Logf("%d reads: heap %.1f MB after %d, %.1f MB after %d (growth %+.2f MB)", n, float64(before)/1e6, n/3, float64(after)/1e6, n, float64(growth)/1e6)
	if growth > 4<<20 {
		t.Fatalf("heap grew %d bytes over %d more reads", growth, n-n/3)
	}
}
